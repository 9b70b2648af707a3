"""Unit tests of email validation and email lists (typed or CSV) in licensekit.emails."""

from __future__ import annotations

import io
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

from licensekit import InvalidEmail, ValidationError
from licensekit.emails import (
    EmailList,
    RejectedEmail,
    normalize_email,
    parse_email_csv,
    parse_emails,
)

MESSY_CSV = (
    "\ufeffEmail\r\n"  # 1: BOM + header
    "  Ann@Example.COM  \r\n"  # 2
    "\r\n"  # 3: blank
    "bob@example.com\r\n"  # 4
    "not-an-email\r\n"  # 5
    "ANN@example.com\r\n"  # 6: duplicate of 2
    "carol@example.com,dave@example.com\r\n"  # 7: two columns
    "erin@example.com,\r\n"  # 8: trailing empty cell is fine
)


def assert_messy_result(result: EmailList) -> None:
    assert result.emails == ("ann@example.com", "bob@example.com", "erin@example.com")
    assert result.rows == (2, 4, 8)
    assert [r.row for r in result.rejected] == [5, 7]
    assert result.rejected[1] == RejectedEmail(
        7, "carol@example.com,dave@example.com", "expected one column, found 2"
    )
    assert result.duplicates == (RejectedEmail(6, "ANN@example.com", "duplicate of row 2"),)


class TestNormalizeEmail:
    def test_whole_address_is_lower_cased(self) -> None:
        assert normalize_email("Ann.Smith@Example.COM") == "ann.smith@example.com"

    def test_surrounding_spaces_are_stripped(self) -> None:
        assert normalize_email("  ann@example.com\t") == "ann@example.com"

    def test_international_domain_is_normalised(self) -> None:
        assert normalize_email("ann@BÜCHER.example") == "ann@bücher.example"

    def test_no_dns_lookup_for_unresolvable_domain(self) -> None:
        assert normalize_email("ann@no-such-domain-q7z3.com") == "ann@no-such-domain-q7z3.com"

    def test_missing_at_sign_is_rejected_with_reason(self) -> None:
        with pytest.raises(
            InvalidEmail, match=r"invalid email address 'ann\.example\.com'"
        ) as info:
            normalize_email("ann.example.com")
        assert info.value.email == "ann.example.com"
        assert "@" in info.value.reason

    @pytest.mark.parametrize("text", ["", "   "])
    def test_empty_address_is_rejected(self, text: str) -> None:
        with pytest.raises(InvalidEmail, match="the address is empty"):
            normalize_email(text)

    def test_overlong_address_is_rejected(self) -> None:
        text = "a" * 250 + "@example.com"
        with pytest.raises(InvalidEmail, match="longer than 254 characters") as info:
            normalize_email(text)
        assert len(info.value.email) < 50

    @pytest.mark.parametrize(
        "text", ["ann@", "@example.com", "ann@@example.com", "a b@example.com"]
    )
    def test_invalid_addresses_are_validation_errors(self, text: str) -> None:
        with pytest.raises(ValidationError, match="invalid email address"):
            normalize_email(text)


class TestParseEmails:
    def test_valid_entries_are_normalised_in_first_occurrence_order(self) -> None:
        result = parse_emails(["B@x.example", "a@x.example"])
        assert result.emails == ("b@x.example", "a@x.example")
        assert result.rows == (1, 2)
        assert result.rejected == ()
        assert result.duplicates == ()

    def test_blank_entries_are_skipped_but_counted(self) -> None:
        result = parse_emails(["", "  ", "a@x.example"])
        assert result.emails == ("a@x.example",)
        assert result.rows == (3,)
        assert result.rejected == ()

    def test_duplicates_differing_in_case_are_reported_with_first_row(self) -> None:
        result = parse_emails(["a@x.example", "b@x.example", "A@X.EXAMPLE"])
        assert result.emails == ("a@x.example", "b@x.example")
        assert result.duplicates == (RejectedEmail(3, "A@X.EXAMPLE", "duplicate of row 1"),)

    def test_every_invalid_entry_is_reported_with_row_and_reason(self) -> None:
        result = parse_emails(["bad", "a@x.example", "also@bad@x"])
        assert [(r.row, r.text) for r in result.rejected] == [(1, "bad"), (3, "also@bad@x")]
        assert all(r.reason for r in result.rejected)
        assert result.emails == ("a@x.example",)

    def test_accepts_any_iterable(self) -> None:
        result = parse_emails(e for e in ["a@x.example"])
        assert result.emails == ("a@x.example",)


class TestParseEmailCsvSources:
    def test_from_str_text(self) -> None:
        assert_messy_result(parse_email_csv(MESSY_CSV))

    def test_from_path(self, tmp_path: pathlib.Path) -> None:
        path = tmp_path / "emails.csv"
        path.write_bytes(MESSY_CSV.encode())
        assert_messy_result(parse_email_csv(path))

    def test_from_text_file_object(self) -> None:
        assert_messy_result(parse_email_csv(io.StringIO(MESSY_CSV, newline="")))

    def test_from_binary_file_object(self) -> None:
        assert_messy_result(parse_email_csv(io.BytesIO(MESSY_CSV.encode())))

    def test_from_opened_text_file(self, tmp_path: pathlib.Path) -> None:
        path = tmp_path / "emails.csv"
        path.write_bytes(MESSY_CSV.encode())
        with path.open(encoding="utf-8", newline="") as handle:
            assert_messy_result(parse_email_csv(handle))

    def test_from_opened_binary_file(self, tmp_path: pathlib.Path) -> None:
        path = tmp_path / "emails.csv"
        path.write_bytes(MESSY_CSV.encode())
        with path.open("rb") as handle:
            assert_messy_result(parse_email_csv(handle))

    def test_from_bytes_with_a_byte_order_mark(self) -> None:
        assert MESSY_CSV.startswith("\ufeff")
        assert_messy_result(parse_email_csv(MESSY_CSV.encode("utf-8")))

    @pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
    def test_from_utf8_bytes_without_bom(self, kind: type) -> None:
        data = kind("Email\nJos\u00e9@example.com\nbob@example.com\n".encode())
        result = parse_email_csv(data)
        assert result.emails == ("jos\u00e9@example.com", "bob@example.com")
        assert result.rows == (2, 3)

    def test_bytes_and_text_give_the_same_result(self) -> None:
        assert parse_email_csv(MESSY_CSV.encode()) == parse_email_csv(MESSY_CSV)

    def test_empty_bytes_give_an_empty_list(self) -> None:
        assert parse_email_csv(b"") == EmailList(emails=(), rows=())


class TestParseEmailCsvContent:
    @pytest.mark.parametrize("header", ["email", "EMAIL", "E-mail", "Email Address", " email "])
    def test_optional_header_row_is_skipped(self, header: str) -> None:
        result = parse_email_csv(f"{header}\na@x.example\n")
        assert result.emails == ("a@x.example",)
        assert result.rows == (2,)
        assert result.rejected == ()

    def test_without_header_first_row_is_data(self) -> None:
        result = parse_email_csv("a@x.example\nb@x.example\n")
        assert result.rows == (1, 2)

    def test_header_word_after_first_row_is_rejected(self) -> None:
        result = parse_email_csv("a@x.example\nemail\n")
        assert [(r.row, r.text) for r in result.rejected] == [(2, "email")]

    def test_bom_without_header_is_ignored(self) -> None:
        result = parse_email_csv(io.BytesIO(b"\xef\xbb\xbfa@x.example\n"))
        assert result.emails == ("a@x.example",)
        assert result.rejected == ()

    def test_lf_and_crlf_give_the_same_result(self) -> None:
        lf = parse_email_csv("a@x.example\nb@x.example\n")
        crlf = parse_email_csv("a@x.example\r\nb@x.example\r\n")
        assert lf == crlf

    def test_quoted_values_are_unquoted(self) -> None:
        assert parse_email_csv('"a@x.example"\n').emails == ("a@x.example",)

    def test_duplicates_report_the_row_of_the_first_occurrence(self) -> None:
        result = parse_email_csv("\n\na@x.example\nb@x.example\nA@x.example\na@X.example\n")
        assert result.emails == ("a@x.example", "b@x.example")
        assert [d.reason for d in result.duplicates] == ["duplicate of row 3"] * 2
        assert [d.row for d in result.duplicates] == [5, 6]

    def test_every_bad_row_is_reported_with_its_row_number(self) -> None:
        result = parse_email_csv("email\nbad1\nok@x.example\nbad2@\n\n@bad3\nx@y.example,z\n")
        assert [r.row for r in result.rejected] == [2, 4, 6, 7]
        assert all(r.reason for r in result.rejected)
        assert result.emails == ("ok@x.example",)

    def test_multi_column_rows_are_rejected(self) -> None:
        result = parse_email_csv("a@x.example;b,c@x.example\n")
        assert result.rejected == (
            RejectedEmail(1, "a@x.example;b,c@x.example", "expected one column, found 2"),
        )

    def test_empty_input_gives_an_empty_list(self) -> None:
        assert parse_email_csv("") == EmailList(emails=(), rows=())


class TestParseEmailCsvErrors:
    def test_non_utf8_binary_input_is_a_validation_error(self) -> None:
        with pytest.raises(ValidationError, match="CSV input is not UTF-8"):
            parse_email_csv(io.BytesIO(b"a@x.example\n\xff\xfe@x.example\n"))

    @pytest.mark.parametrize(
        "data",
        [b"a@x.example\n\xff\xfe@x.example\n", "jos\u00e9@x.example\n".encode("latin-1")],
        ids=["invalid-bytes", "latin-1"],
    )
    def test_non_utf8_bytes_are_a_validation_error(self, data: bytes) -> None:
        with pytest.raises(ValidationError, match="CSV input is not UTF-8"):
            parse_email_csv(data)

    @pytest.mark.parametrize(
        "source",
        [None, 42, 1.5, ["a@x.example"], ("a@x.example",), {"a@x.example": 1}, object()],
        ids=["none", "int", "float", "list", "tuple", "dict", "object"],
    )
    def test_an_object_of_the_wrong_type_is_a_validation_error(self, source: object) -> None:
        with pytest.raises(
            ValidationError, match=r"CSV input must be text, bytes, a path or a file"
        ):
            parse_email_csv(source)  # type: ignore[arg-type]

    def test_wrong_type_error_names_the_type(self) -> None:
        with pytest.raises(ValidationError, match=r"not int\b"):
            parse_email_csv(42)  # type: ignore[arg-type]

    def test_latin1_file_is_a_validation_error(self, tmp_path: pathlib.Path) -> None:
        path = tmp_path / "latin1.csv"
        path.write_bytes("josé@x.example\n".encode("latin-1"))
        with pytest.raises(ValidationError, match=r"latin1\.csv is not UTF-8"):
            parse_email_csv(path)

    def test_missing_file_is_a_validation_error(self, tmp_path: pathlib.Path) -> None:
        with pytest.raises(ValidationError, match=r"CSV file not found: .*missing\.csv"):
            parse_email_csv(tmp_path / "missing.csv")

    def test_a_text_file_object_that_does_not_decode_as_utf8_is_a_validation_error(
        self, tmp_path: pathlib.Path
    ) -> None:
        """A Latin-1 file opened as UTF-8 text fails while it is read, inside the parser."""
        path = tmp_path / "latin1.csv"
        path.write_bytes("a@x.example\njosé@x.example\n".encode("latin-1"))
        with (
            open(path, encoding="utf-8", newline="") as handle,
            pytest.raises(ValidationError, match="CSV input is not UTF-8"),
        ):
            parse_email_csv(handle)

    def test_a_wrapped_latin1_stream_read_as_utf8_is_a_validation_error(self) -> None:
        stream = io.TextIOWrapper(io.BytesIO("josé@x.example\n".encode("latin-1")), "utf-8")
        with pytest.raises(ValidationError, match="CSV input is not UTF-8"):
            parse_email_csv(stream)

    def test_a_latin1_file_object_opened_as_latin1_is_read_as_text(
        self, tmp_path: pathlib.Path
    ) -> None:
        """The caller chose the decoding: the text it yields is what is parsed."""
        path = tmp_path / "latin1.csv"
        path.write_bytes("josé@x.example\n".encode("latin-1"))
        with open(path, encoding="latin-1", newline="") as handle:
            assert parse_email_csv(handle).emails == ("josé@x.example",)

    @pytest.mark.parametrize(
        "make",
        [
            lambda: io.StringIO("a@x.example\n"),
            lambda: io.BytesIO(b"a@x.example\n"),
        ],
        ids=["text", "binary"],
    )
    def test_a_closed_file_object_is_a_validation_error(self, make: Any) -> None:
        handle = make()
        handle.close()
        with pytest.raises(ValidationError, match="cannot read the CSV file object"):
            parse_email_csv(handle)

    @pytest.mark.parametrize("mode", ["r", "rb"])
    def test_a_closed_opened_file_is_a_validation_error(
        self, tmp_path: pathlib.Path, mode: str
    ) -> None:
        path = tmp_path / "users.csv"
        path.write_text("a@x.example\n", encoding="utf-8")
        with open(path, mode) as handle:
            pass
        with pytest.raises(ValidationError, match="cannot read the CSV file object"):
            parse_email_csv(handle)

    @pytest.mark.parametrize("mode", ["w", "wb", "a"])
    def test_a_write_only_file_is_a_validation_error(
        self, tmp_path: pathlib.Path, mode: str
    ) -> None:
        with (
            open(tmp_path / "out.csv", mode) as handle,
            pytest.raises(ValidationError, match="cannot read the CSV file object"),
        ):
            parse_email_csv(handle)


class TestOnePersonWhateverTheSpelling:
    """Comparison happens after email-validator normalisation, then on the whole address."""

    @pytest.mark.parametrize(
        ("typed", "canonical"),
        [
            ("jose\u0301@example.com", "jos\u00e9@example.com"),  # NFD accent -> NFC
            ("ann@xn--bcher-kva.example", "ann@b\u00fccher.example"),  # punycode -> Unicode
            ("ANN@XN--BCHER-KVA.EXAMPLE", "ann@b\u00fccher.example"),
            ("  Ann@Example.COM ", "ann@example.com"),
        ],
    )
    def test_spellings_of_one_address_normalise_to_one_form(
        self, typed: str, canonical: str
    ) -> None:
        assert normalize_email(typed) == canonical

    def test_a_list_with_two_spellings_keeps_one_and_reports_the_other(self) -> None:
        result = parse_emails(["jos\u00e9@example.com", "jose\u0301@EXAMPLE.com"])
        assert result.emails == ("jos\u00e9@example.com",)
        assert [d.reason for d in result.duplicates] == ["duplicate of row 1"]


class _LazyLines:
    """A text file object whose lines come from a generator, counting how many were read."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self.read_lines = 0

    def read(self, size: int = -1) -> str:
        if size == 0:
            return ""
        raise AssertionError("the whole input was read at once")

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.read_lines += 1
        return line


def _addresses(count: int) -> Iterator[str]:
    return (f"user{n}@example.com\n" for n in range(count))


class TestParseEmailCsvMaxEntries:
    @pytest.mark.parametrize("limit", [0, 1, 3])
    def test_more_rows_than_the_limit_is_a_validation_error_naming_the_limit(
        self, limit: int
    ) -> None:
        text = "".join(_addresses(limit + 1))
        with pytest.raises(ValidationError, match=f"more than {limit} addresses"):
            parse_email_csv(text, max_entries=limit)

    @pytest.mark.parametrize("limit", [1, 3])
    def test_exactly_the_limit_is_accepted(self, limit: int) -> None:
        result = parse_email_csv("".join(_addresses(limit)), max_entries=limit)
        assert len(result.emails) == limit

    def test_no_limit_by_default(self) -> None:
        assert len(parse_email_csv("".join(_addresses(500))).emails) == 500

    def test_blank_lines_and_the_header_are_not_counted(self) -> None:
        text = "email\n\n  \n,\na@x.example\n\n\nb@x.example\n\n"
        result = parse_email_csv(text, max_entries=2)
        assert result.emails == ("a@x.example", "b@x.example")

    def test_rejected_and_duplicate_rows_are_counted(self) -> None:
        """Every non-blank row counts, valid or not: the limit is on the input's size."""
        with pytest.raises(ValidationError, match="more than 2 addresses"):
            parse_email_csv("a@x.example\nnot-an-email\nA@x.example\n", max_entries=2)
        with pytest.raises(ValidationError, match="more than 2 addresses"):
            parse_email_csv("a@x.example\nb@x.example,c@x.example\nd@x.example\n", max_entries=2)

    def test_stops_reading_as_soon_as_the_limit_is_passed(self) -> None:
        source = _LazyLines(_addresses(1_000_000))
        with pytest.raises(ValidationError, match="more than 5 addresses"):
            parse_email_csv(source, max_entries=5)  # type: ignore[arg-type]
        assert source.read_lines == 6

    def test_blank_lines_read_before_the_limit_do_not_count_towards_it(self) -> None:
        lines = iter(["\n", "a@x.example\n", "\n", "\n", "b@x.example\n", "c@x.example\n"])
        source = _LazyLines(lines)
        with pytest.raises(ValidationError, match="more than 2 addresses"):
            parse_email_csv(source, max_entries=2)  # type: ignore[arg-type]
        assert source.read_lines == 6

    def test_binary_file_stops_early_too(self) -> None:
        """A binary stream is decoded as it is read, not all at once."""
        body = "".join(_addresses(200_000)).encode()
        stream = io.BytesIO(body)
        with pytest.raises(ValidationError, match="more than 3 addresses"):
            parse_email_csv(stream, max_entries=3)
        assert stream.tell() < len(body) // 100

    @pytest.mark.parametrize(
        "make",
        [
            lambda text: text,
            lambda text: text.encode(),
            lambda text: io.StringIO(text),
            lambda text: io.BytesIO(text.encode()),
        ],
        ids=["str", "bytes", "text-file", "binary-file"],
    )
    def test_every_kind_of_source_honours_the_limit(self, make: object) -> None:
        text = "".join(_addresses(4))
        with pytest.raises(ValidationError, match="more than 3 addresses"):
            parse_email_csv(make(text), max_entries=3)  # type: ignore[operator]

    def test_path_source_honours_the_limit(self, tmp_path: pathlib.Path) -> None:
        path = tmp_path / "many.csv"
        path.write_text("".join(_addresses(4)), encoding="utf-8")
        with pytest.raises(ValidationError, match="more than 3 addresses"):
            parse_email_csv(path, max_entries=3)
