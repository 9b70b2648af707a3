"""Email addresses: validation, normalisation, and lists of addresses typed or read from CSV.

Addresses are checked by ``email-validator`` without DNS look-ups, then lower-cased as a whole
so that ``Ann@Example.COM`` and ``ann@example.com`` are one person everywhere in licensekit.

email-validator and :mod:`csv` are imported when first needed (an address read, a CSV read
or written), not with this module, which every ``LicenseKit`` loads: a process that never
reads an address (an activation server) never pays for them.

Most addresses are plain ASCII (``ann.smith@mail.example.com``). For those the outcome of
email-validator is known without running it: every check it makes passes, and its normalised
form, lower-cased, is the address lower-cased. :func:`normalize_email` answers them itself
(:func:`_plain_address` says which they are) and hands everything else to email-validator,
so the result and the reasons for refusing an address are the library's in every case.
"""

from __future__ import annotations

import codecs
import io
import os
import re
from collections.abc import Iterable, Iterator
from functools import partial
from typing import IO

import attrs

from licensekit.exceptions import InvalidEmail, ValidationError

__all__ = [
    "EmailList",
    "RejectedEmail",
    "neutralize_cell",
    "normalize_email",
    "parse_email_csv",
    "parse_emails",
    "write_csv",
]

_MAX_EMAIL_LENGTH = 254
_MAX_LOCAL_PART_OCTETS = 64  # RFC 5321, 4.5.3.1.1
_CSV_FIELD = "csv"  # what a CSV's errors name as their field: the use cases' argument
_READ_CHUNK = 8192  # characters decoded at a time from a binary stream
_LINE_END = re.compile(r"\r\n?|\n")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
# RFC 5322's atext, as email-validator spells it (ATEXT in its rfc_constants).
_ATEXT = r"a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~"
# A dot-atom of ASCII atext before the @; after it, host name labels of letters, digits and
# hyphens (neither first nor last, at most 63 characters), at least two of them, the last
# ending with a letter: what email-validator accepts unchanged, but for a few names
# :func:`_plain_address` leaves to it.
_PLAIN_ADDRESS = re.compile(
    rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*@"
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
    r"(?:[a-zA-Z0-9][a-zA-Z0-9-]{0,61})?[a-zA-Z]"
)


def normalize_email(text: str) -> str:
    """Return the canonical form of an email address: validated, normalised, lower-case.

    The part before the ``@`` may be at most 64 octets long (RFC 5321), counted in UTF-8 for
    an internationalised address.

    Raises:
        InvalidEmail: *text* is not a valid address; the exception says why.
    """
    if not isinstance(text, str):
        raise InvalidEmail(repr(text), f"expected text, got {type(text).__name__}")
    candidate = text.strip()
    if not candidate:
        raise InvalidEmail(text, "the address is empty")
    if len(candidate) > _MAX_EMAIL_LENGTH:
        raise InvalidEmail(text[:40] + "...", f"longer than {_MAX_EMAIL_LENGTH} characters")
    if "=?" in candidate:
        # Valid characters, but email headers would read them as an encoded word (RFC 2047)
        # and decode them into anything, line breaks included. No real address needs them.
        raise InvalidEmail(text, "the address contains '=?', which headers read as encoding")
    import email_validator  # on first use: see the module docstring

    plain = _plain_address(candidate, email_validator.SPECIAL_USE_DOMAIN_NAMES)
    if plain is not None:
        return plain
    try:
        result = email_validator.validate_email(candidate, check_deliverability=False)
    except email_validator.EmailNotValidError as e:
        raise InvalidEmail(text, str(e)) from None
    normalized = result.normalized.lower()
    if normalized != result.normalized and not normalized.isascii():
        # Lower-casing can leave a form the library writes otherwise (not NFC: "W" and a
        # combining ring become "ẘ") or refuses (İ becomes i and a combining dot, an octet
        # longer). The canonical form is the library's form of the lower-cased address, so
        # that it is accepted, unchanged, when it is given again.
        try:
            again = email_validator.validate_email(normalized, check_deliverability=False)
        except email_validator.EmailNotValidError as e:
            raise InvalidEmail(text, f"in lower case: {e}") from None
        normalized = again.normalized.lower()
    octets = len(normalized.rpartition("@")[0].encode("utf-8"))
    if octets > _MAX_LOCAL_PART_OCTETS:
        raise InvalidEmail(
            text,
            f"the part before the @ is {octets} octets long (in UTF-8); RFC 5321 allows at "
            f"most {_MAX_LOCAL_PART_OCTETS}",
        )
    return normalized


def _plain_address(candidate: str, special_use: Iterable[str]) -> str | None:
    """Return *candidate* lower-cased if it is a plain ASCII address, else None.

    A plain address is what email-validator (as :func:`normalize_email` calls it) accepts
    and gives back unchanged but for case: no display name, quotes, brackets or
    non-ASCII characters, a domain it keeps as it is (no ``--``, so no Punycode label;
    not a special-use name of *special_use*, its ``SPECIAL_USE_DOMAIN_NAMES``, which a
    host may change) and a part before the @ no longer than RFC 5321 allows. Whatever
    the library's options, each check it makes on such an address passes. None sends the
    address to the library, which decides.
    """
    if _PLAIN_ADDRESS.fullmatch(candidate) is None:
        return None
    at = candidate.index("@")  # the only one: atext holds no @
    if at > _MAX_LOCAL_PART_OCTETS:
        return None  # refused by licensekit, or by the library when strict: its words
    lowered = candidate.lower()
    domain = lowered[at + 1 :]
    if "--" in domain:
        return None
    for name in special_use:
        if domain == name or domain.endswith("." + name):
            return None
    return lowered


@attrs.frozen
class RejectedEmail:
    """An entry of an email list that was not taken.

    Attributes:
        row: 1-based line or row number in the input it came from.
        text: The entry as given.
        reason: Why it was not taken.
    """

    row: int
    text: str
    reason: str


@attrs.frozen
class EmailList:
    """The outcome of reading a list of email addresses.

    Attributes:
        emails: The valid addresses, normalised, first occurrence order, without duplicates.
        rows: The input row of each entry of :attr:`emails`.
        rejected: Invalid entries, each with its row and reason.
        duplicates: Entries that repeated an earlier address (row, text, "duplicate of row N").
    """

    emails: tuple[str, ...]
    rows: tuple[int, ...]
    rejected: tuple[RejectedEmail, ...] = ()
    duplicates: tuple[RejectedEmail, ...] = ()


def parse_emails(entries: Iterable[object]) -> EmailList:
    """Validate and de-duplicate typed email addresses; blank entries are skipped.

    Row numbers count every entry from 1, blanks included. Entries that are not text are
    rejected like invalid addresses.

    Raises:
        ValidationError: *entries* is one text (or bytes) rather than a collection of them,
            or not iterable at all.
    """
    return _collect(
        (row, text, None)
        if isinstance(text, str)
        else (row, repr(text), f"expected text, got {type(text).__name__}")
        for row, text in enumerate(_address_collection(entries), start=1)
    )


def _address_collection(entries: object) -> Iterable[object]:
    """Return *entries*, once it is a collection of addresses rather than one text.

    Raises:
        ValidationError: *entries* is one text (or bytes), or not iterable at all.
    """
    if isinstance(entries, (str, bytes, bytearray, memoryview)) or not isinstance(
        entries, Iterable
    ):
        raise ValidationError(
            f"emails must be a collection of addresses, not {type(entries).__name__}",
            field="emails",
        )
    return entries


def parse_email_csv(
    source: str | bytes | os.PathLike[str] | IO[str] | IO[bytes],
    *,
    max_entries: int | None = None,
) -> EmailList:
    """Read a single-column CSV of email addresses.

    Accepted input: the CSV text itself as a ``str``, its UTF-8 bytes (an upload, say), a path
    as a :class:`pathlib.Path` (or any :class:`os.PathLike`), or a text or binary file object.
    UTF-8 with or without a byte order mark; CRLF, LF or CR line ends (Excel's "CSV
    (Macintosh)" ends lines with CR alone), read alike from every kind of source; an optional
    ``email`` header on the first row, blank lines, spaces around values, and repeated
    addresses are all fine.

    Args:
        source: The CSV.
        max_entries: Refuse input with more non-blank rows than this, without reading (or
            validating) the rest.

    Raises:
        ValidationError: The input is not one of the kinds above, cannot be read as UTF-8
            CSV, the file does not exist, or it has more than *max_entries* rows.
    """
    if isinstance(source, str):
        return _parse_csv_text([source.removeprefix("\ufeff")], max_entries)
    if isinstance(source, (bytes, bytearray, memoryview)):
        try:
            text = bytes(source).decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ValidationError(f"CSV input is not UTF-8: {e}", field=_CSV_FIELD) from e
        return _parse_csv_text([text], max_entries)
    if isinstance(source, os.PathLike):
        try:
            with open(source, encoding="utf-8-sig", newline="") as handle:
                return _parse_csv_text(handle, max_entries)
        except FileNotFoundError as e:
            raise ValidationError(
                f"CSV file not found: {os.fspath(source)}", field=_CSV_FIELD
            ) from e
        except UnicodeDecodeError as e:
            raise ValidationError(
                f"CSV file {os.fspath(source)} is not UTF-8: {e}", field=_CSV_FIELD
            ) from e
        except OSError as e:
            raise ValidationError(
                f"cannot read CSV file {os.fspath(source)}: {e.strerror}", field=_CSV_FIELD
            ) from e
    read = getattr(source, "read", None)
    if not callable(read):
        raise ValidationError(
            f"CSV input must be text, bytes, a path or a file object, not {type(source).__name__}",
            field=_CSV_FIELD,
        )
    try:
        first = read(0)
        if isinstance(first, bytes):
            reader = codecs.getreader("utf-8-sig")(source)  # type: ignore[arg-type]
            return _parse_csv_text(iter(partial(reader.read, _READ_CHUNK), ""), max_entries)
        return _parse_csv_text(source, max_entries)  # type: ignore[arg-type]
    except ValidationError:
        raise
    except UnicodeDecodeError as e:
        raise ValidationError(f"CSV input is not UTF-8: {e}", field=_CSV_FIELD) from e
    except (OSError, ValueError) as e:  # closed, write-only, or otherwise unreadable
        raise ValidationError(f"cannot read the CSV file object: {e}", field=_CSV_FIELD) from e


def _parse_csv_text(pieces: Iterable[str], max_entries: int | None = None) -> EmailList:
    import csv

    try:
        return _collect(_csv_cells(_lines(pieces)), max_entries)
    except csv.Error as e:
        raise ValidationError(f"CSV input is malformed: {e}", field=_CSV_FIELD) from e


def _lines(pieces: Iterable[str]) -> Iterator[str]:
    """Yield the lines of text read in *pieces*, each with its end: CRLF, LF or a lone CR.

    Whatever the source, only these end lines (Excel for the Mac writes CR alone; other
    Unicode line breaks stay inside their cell). A CR that ends a piece is held back until
    the next piece tells whether an LF follows it.

    Raises:
        csv.Error: A line is longer than the csv module reads in one field.
    """
    import csv

    pending = ""
    for piece in pieces:
        text = pending + piece
        start = 0
        # pending holds no line end, unless a CR that was held back: look from there on
        for found in _LINE_END.finditer(text, max(len(pending) - 1, 0)):
            if found.end() == len(text) and found.group() == "\r":
                break
            yield text[start : found.end()]
            start = found.end()
        pending = text[start:]
        if len(pending) > csv.field_size_limit():
            raise csv.Error(f"a line is longer than {csv.field_size_limit()} characters")
    if pending:
        yield pending


def _csv_cells(lines: Iterable[str]) -> Iterator[tuple[int, str, str | None]]:
    """Yield (row number, cell text, problem or None) for each row of a one-column CSV."""
    import csv

    reader = csv.reader(lines)
    for row_number, row in enumerate(reader, start=1):
        cells = [cell.strip() for cell in row]
        while cells and not cells[-1]:
            cells.pop()
        if row_number == 1 and len(cells) == 1:
            cells[0] = cells[0].removeprefix("\ufeff")
            if cells[0].lower() in ("email", "e-mail", "email address"):
                continue
        if len(cells) > 1:
            yield row_number, ",".join(row), f"expected one column, found {len(cells)}"
            continue
        yield row_number, cells[0] if cells else "", None


def _collect(
    entries: Iterable[tuple[int, str, str | None]], max_entries: int | None = None
) -> EmailList:
    emails: list[str] = []
    rows: list[int] = []
    rejected: list[RejectedEmail] = []
    duplicates: list[RejectedEmail] = []
    first_row: dict[str, int] = {}
    given = 0
    for row, raw, problem in entries:
        if problem is not None or raw.strip():
            given += 1
            if max_entries is not None and given > max_entries:
                raise ValidationError(
                    f"the CSV holds more than {max_entries} addresses, the limit per call",
                    field=_CSV_FIELD,
                )
        if problem is not None:
            rejected.append(RejectedEmail(row, raw, problem))
            continue
        if not raw.strip():
            continue
        try:
            email = normalize_email(raw)
        except InvalidEmail as e:
            rejected.append(RejectedEmail(row, raw, e.reason))
            continue
        if email in first_row:
            duplicates.append(RejectedEmail(row, raw, f"duplicate of row {first_row[email]}"))
            continue
        first_row[email] = row
        emails.append(email)
        rows.append(row)
    return EmailList(tuple(emails), tuple(rows), tuple(rejected), tuple(duplicates))


def neutralize_cell(value: str) -> str:
    """Return *value* made inert for spreadsheets: a leading ``'`` when it could start a formula.

    A cell beginning with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a line
    feed is read as a formula (or worse) by common spreadsheet programs.
    """
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def write_csv(header: Iterable[str] | None, rows: Iterable[Iterable[str]]) -> str:
    """Return CSV text (CRLF line ends) of *header* and *rows*, every cell neutralised.

    See :func:`neutralize_cell`; quoting of commas, quotes and line breaks is the
    :mod:`csv` module's. A *header* of None writes the rows alone (a later page of an
    export whose first page had the header).
    """
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    if header is not None:
        writer.writerow([neutralize_cell(cell) for cell in header])
    writer.writerows([neutralize_cell(cell) for cell in row] for row in rows)
    return out.getvalue()
