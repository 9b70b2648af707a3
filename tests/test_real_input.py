"""Input that people really send: CSV saved by Excel for the Mac, codes pasted from a web page
or a word processor, addresses at the limits of the RFCs, and arguments far too long."""

from __future__ import annotations

import io
import pathlib
from collections.abc import Callable

import pytest

from licensekit import ValidationError
from licensekit.emails import parse_email_csv

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
