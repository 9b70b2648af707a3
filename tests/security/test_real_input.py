"""Input that people really send: CSV saved by Excel for the Mac, codes pasted from a web page
or a word processor, addresses at the limits of the RFCs, and arguments far too long."""

from __future__ import annotations

import functools
import inspect
import io
import pathlib
from collections.abc import Callable

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from _use_cases import World, arguments_for, new_world, use_cases, valid_values, world
from licensekit import (
    ActivationCodeMistyped,
    InvalidEmail,
    LicenseKit,
    LicenseKitError,
    MemoryStore,
    StorageError,
    ValidationError,
)
from licensekit._echo import MOST, echo
from licensekit.codes import CODE_ALPHABET, check_symbol, parse_code
from licensekit.emails import normalize_email, parse_email_csv
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import LicenseKitForTests, make_business_account, make_licensekit

__all__ = ["new_world", "world"]  # fixtures, used by name

# == CSV line ends ==========================================================================

SOURCES: dict[str, Callable[[str, pathlib.Path], object]] = {
    "str": lambda text, _: text,
    "bytes": lambda text, _: text.encode(),
    "text file object": lambda text, _: io.StringIO(text),
    "binary file object": lambda text, _: io.BytesIO(text.encode()),
    "path": lambda text, folder: _written(folder / "list.csv", text),
}


def _written(path: pathlib.Path, text: str) -> pathlib.Path:
    path.write_bytes(text.encode())
    return path


@pytest.mark.parametrize("line_end", ["\r", "\n", "\r\n"], ids=["CR", "LF", "CRLF"])
@pytest.mark.parametrize("source", list(SOURCES))
def test_every_source_reads_cr_lf_and_crlf_line_ends_alike(
    tmp_path: pathlib.Path, source: str, line_end: str
) -> None:
    """Excel's "CSV (Macintosh)" ends lines with CR alone: one answer for every source."""
    text = line_end.join(["\ufeffemail", "ann@example.com", "", '"bob@example.com"', "x", ""])
    result = parse_email_csv(SOURCES[source](text, tmp_path))  # type: ignore[arg-type]
    assert result.emails == ("ann@example.com", "bob@example.com")
    assert result.rows == (2, 4)
    assert [r.row for r in result.rejected] == [5]


@pytest.mark.parametrize("source", list(SOURCES))
def test_mixed_line_ends_and_a_quoted_line_break_read_the_same_from_every_source(
    tmp_path: pathlib.Path, source: str
) -> None:
    text = 'ann@example.com\rbob@example.com\r\n"carol@\rexample.com"\ndave@example.com'
    result = parse_email_csv(SOURCES[source](text, tmp_path))  # type: ignore[arg-type]
    assert result.emails == ("ann@example.com", "bob@example.com", "dave@example.com")
    assert [r.row for r in result.rejected] == [3]


def test_a_crlf_split_between_two_reads_of_a_binary_stream_is_one_line_end() -> None:
    rows = [f"user{n}@example.com" for n in range(2000)]
    result = parse_email_csv(io.BytesIO("\r\n".join(rows).encode()))
    assert result.emails == tuple(rows)
    assert result.rows == tuple(range(1, 2001))


def test_only_cr_and_lf_end_lines_not_other_unicode_line_breaks() -> None:
    """A line or paragraph separator inside a cell is part of it, from every source."""
    text = "ann@example.com\u2028bob@example.com\nc@exa\x85mple.com"
    for source in (text, io.BytesIO(text.encode()), io.StringIO(text)):
        result = parse_email_csv(source)  # type: ignore[arg-type]
        assert result.emails == ()
        assert [r.row for r in result.rejected] == [1, 2]


def test_a_line_longer_than_a_csv_field_is_refused_before_it_fills_memory() -> None:
    stream = io.BytesIO(b"a" * 10_000_000)
    with pytest.raises(ValidationError, match="malformed: a line is longer than"):
        parse_email_csv(stream)
    assert stream.tell() < 1_000_000


# == activation codes pasted from web pages and word processors ============================

# What stands between two groups of a code once it has been through HTML or a word processor.
SEPARATORS = [
    "-",
    "",
    " ",
    "\u00a0",  # no-break space
    "\u2010",  # hyphen
    "\u2011",  # non-breaking hyphen
    "\u2013",  # en dash
    "\u2014",  # em dash
    "\u2212",  # minus sign
    "\u3000",  # ideographic space
    "\uff0d",  # full-width hyphen-minus
    "\u202f",  # narrow no-break space
    "\u00ad",  # soft hyphen
    "\u200b",  # zero-width space
    " \u2013 ",
]
AROUND = ["", " ", "\u00a0", "\u3000", "\u200b", "\n"]


def full_width(symbol: str) -> str:
    return chr(ord(symbol) + 0xFEE0)


def spellings(symbol: str) -> list[str]:
    """Ways a symbol comes out of a word processor: any case, half or full width."""
    return [symbol, symbol.lower(), full_width(symbol), full_width(symbol.lower())]


payloads = st.text(alphabet=CODE_ALPHABET, min_size=24, max_size=24)


@st.composite
def pasted(draw: st.DrawFn, symbols: str) -> str:
    """*symbols* (a canonical code) as it may be pasted: every symbol and separator varied."""
    typed = [draw(st.sampled_from(spellings(s))) for s in symbols]
    groups = ["".join(typed[i : i + 5]) for i in range(0, len(typed), 5)]
    text = groups[0]
    for group in groups[1:]:
        text += draw(st.sampled_from(SEPARATORS)) + group
    return draw(st.sampled_from(AROUND)) + text + draw(st.sampled_from(AROUND))


@given(data=st.data(), payload=payloads)
def test_every_typographic_spelling_of_a_valid_code_reads_as_the_code(
    data: st.DataObject, payload: str
) -> None:
    symbols = payload + check_symbol(payload)
    assert parse_code(data.draw(pasted(symbols))) == symbols


@given(data=st.data(), payload=payloads, position=st.integers(0, 24), other=st.integers(1, 31))
def test_a_wrong_symbol_is_caught_however_the_code_is_pasted(
    data: st.DataObject, payload: str, position: int, other: int
) -> None:
    symbols = payload + check_symbol(payload)
    wrong = CODE_ALPHABET[(CODE_ALPHABET.index(symbols[position]) + other) % 32]
    typo = symbols[:position] + wrong + symbols[position + 1 :]
    with pytest.raises(ActivationCodeMistyped):
        parse_code(data.draw(pasted(typo)))


@given(data=st.data(), payload=payloads, position=st.integers(0, 23))
def test_two_swapped_neighbours_are_caught_however_the_code_is_pasted(
    data: st.DataObject, payload: str, position: int
) -> None:
    symbols = payload + check_symbol(payload)
    assume(symbols[position] != symbols[position + 1])
    swapped = (
        symbols[:position] + symbols[position + 1] + symbols[position] + symbols[position + 2 :]
    )
    with pytest.raises(ActivationCodeMistyped):
        parse_code(data.draw(pasted(swapped)))


@functools.cache
def _activation_world() -> tuple[LicenseKitForTests, str]:
    """A kit holding one invitation to install, and its code (made once for the examples)."""
    kit = make_licensekit(store=MemoryStore())
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="Desktop Pro", value="K-1", seats=1)
    kit.invite_installers(admin, account.id, key.id, ["ann@example.com"])
    return kit, kit.mailer.last(to="ann@example.com").data["code"]


@settings(max_examples=25)
@given(data=st.data())
def test_a_code_pasted_from_a_web_page_activates(data: st.DataObject) -> None:
    kit, code = _activation_world()
    result = kit.activate(code=data.draw(pasted(code.replace("-", ""))), computer_id="pc-1")
    assert result.product == "Desktop Pro"


def test_the_issues_examples_activate() -> None:
    kit, code = _activation_world()
    for pasted_code in (
        code.replace("-", "\u00a0"),
        code.replace("-", "\u2010"),
        code.replace("-", "\u2013"),
        code.replace("-", "\u2212"),
        code.replace("-", "\u3000"),
        "".join(full_width(c) if c != "-" else "\uff0d" for c in code),
    ):
        assert kit.activate(code=pasted_code, computer_id="pc-1").product == "Desktop Pro"


# == the local part of an address ==========================================================


@pytest.mark.parametrize(
    "local", ["a" * 64, "é" * 32, "a.b-c+d" * 9 + "a"], ids=["64 ASCII", "32 é", "dots"]
)
def test_a_local_part_of_64_octets_is_accepted(local: str) -> None:
    assert normalize_email(f"{local}@example.com") == f"{local}@example.com"


@pytest.mark.parametrize(
    ("local", "octets"),
    [("a" * 65, 65), ("é" * 33, 66), ("é" * 30 + "abcde", 65)],
    ids=["65 ASCII", "33 é", "30 é and 5 ASCII"],
)
def test_a_local_part_over_64_octets_is_refused_saying_so(local: str, octets: int) -> None:
    """RFC 5321 counts octets: an internationalised local part in its UTF-8 encoding."""
    with pytest.raises(InvalidEmail, match=f"before the @ is {octets} octets .* at most 64"):
        normalize_email(f"{local}@example.com")


def test_an_invitation_to_a_local_part_over_64_octets_is_reported_skipped() -> None:
    kit = make_licensekit(store=MemoryStore())
    admin, account = make_business_account(kit)
    batch = kit.invite_members(admin, account.id, ["a" * 65 + "@example.com"])
    assert batch.invited == ()
    assert "at most 64" in batch.skipped[0].reason


# == messages quote a short prefix of what they echo =========================================

HUGE = "x" * 120_000
LONGEST_MESSAGE = 400


@pytest.mark.parametrize("method_name", use_cases())
def test_a_huge_argument_comes_back_as_a_short_quote_in_any_message(
    world: World, method_name: str
) -> None:
    """Each parameter of the use case in turn gets 120,000 characters; any refusal's message
    stays short (it quotes a prefix and the length)."""
    function = getattr(LicenseKit, method_name)
    long_messages: list[str] = []
    for target in list(inspect.signature(function).parameters)[1:]:
        arguments = arguments_for(function, valid_values(world, method_name), target, HUGE)
        try:
            getattr(world.kit, method_name)(**arguments)
        except LicenseKitError as e:
            if len(str(e)) > LONGEST_MESSAGE:
                long_messages.append(f"{target}: {type(e).__name__} of {len(str(e)):,} characters")
    assert not long_messages, f"{method_name}: " + "; ".join(long_messages)


def test_a_quote_is_the_repr_of_a_prefix_with_the_full_length() -> None:
    assert echo("short") == "'short'"
    assert echo("x" * MOST) == repr("x" * MOST)
    assert echo(HUGE) == repr("x" * MOST) + "... (120,000 characters)"
    assert echo("\udc80" * 100).startswith("'\\udc80")  # escaped, whatever it holds
    assert len(echo(["id"] * 100_000)) < 100
    assert len(echo(b"x" * 100_000)) < 100


def test_a_huge_database_path_comes_back_cut_in_the_stores_message(tmp_path: pathlib.Path) -> None:
    with pytest.raises(StorageError) as raised:
        SQLiteStore(tmp_path / ("d" * 120_000) / "kit.db")
    assert len(str(raised.value)) < LONGEST_MESSAGE
    assert "(120," in str(raised.value)
