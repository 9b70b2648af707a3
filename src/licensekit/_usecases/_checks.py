"""Checks of the arguments callers pass to use cases, and small helpers for listings.

Each check returns the value cleaned (or parsed) and raises
:class:`~licensekit.exceptions.ValidationError` with a message naming the argument otherwise.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import os
import re
import unicodedata
from collections.abc import Iterable
from typing import IO, TypeVar

from licensekit._settings import EXPIRY_PRESETS, Settings
from licensekit._text import lone_surrogate_at
from licensekit._usecases import TOKEN_PLACEHOLDER
from licensekit.domain._durations import duration_from_text
from licensekit.domain._echo import echo
from licensekit.domain._validators import positive_timedelta
from licensekit.emails import EmailList, _address_collection, parse_email_csv, parse_emails
from licensekit.exceptions import InvalidCursor, ValidationError

__all__ = [
    "MAX_CLIENT",
    "MAX_NAME",
    "MAX_NOTES",
    "TOKEN_PLACEHOLDER",
    "CsvSource",
    "as_id",
    "bounded_entries",
    "check_cursor",
    "check_flag",
    "check_lifetime",
    "check_limit",
    "clean_client",
    "clean_name",
    "clean_notes",
    "id_list",
    "parse_enum",
    "parse_recipients",
    "plain_text",
    "require_text",
]

T = TypeVar("T")
CsvSource = str | bytes | os.PathLike[str] | IO[str] | IO[bytes]
"""What a use case taking ``csv=`` accepts: the text, its UTF-8 bytes, a path, a file."""


MAX_NAME = 200
"""The longest name (of a person, an account, a product, a computer) in characters."""
MAX_NOTES = 2000
"""The longest notes an administrator may attach to a change."""
MAX_CLIENT = 200
"""The longest identifier of a requesting client (an address, ``customer:<id>``)."""


def check_limit(limit: int, settings: Settings) -> int:
    """Return *limit*, a page size between 1 and ``settings.max_page_size``."""
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise ValidationError(f"limit must be an integer, got {echo(limit)}")
    if not 1 <= limit <= settings.max_page_size:
        raise ValidationError(f"limit must be between 1 and {settings.max_page_size}, got {limit}")
    return limit


def check_lifetime(
    expires_in: dt.timedelta | str | None,
    settings: Settings,
    default: dt.timedelta | None = None,
) -> dt.timedelta:
    """Return how long an invitation lasts: *expires_in* or *default*.

    *expires_in* is a timedelta, a key of :data:`EXPIRY_PRESETS`, or an ISO 8601 duration in
    weeks, days, hours, minutes and seconds (``"P10D"``, ``"PT36H"``, ``"P1DT12H"``); it must
    be positive and at most ``settings.max_invitation_lifetime``.

    Raises:
        ValidationError: (field ``expires_in``) Anything else: an unknown text, a duration
            in years or months, zero or negative, or too long.
    """
    if expires_in is None:
        return default if default is not None else settings.invitation_lifetime
    if isinstance(expires_in, str):
        expires_in = _duration_or_preset(expires_in)
    expires_in = positive_timedelta(expires_in, "expires_in")
    if expires_in > settings.max_invitation_lifetime:
        raise ValidationError(
            f"expires_in may be at most {settings.max_invitation_lifetime}, got {expires_in}"
        )
    return expires_in


_YEARS_OR_MONTHS = re.compile(r"-?P(?:[\d.,]+[YMWD])*?[\d.,]+[YM]")
"""An ISO 8601 duration whose date part counts years or months."""


def _duration_or_preset(text: str) -> dt.timedelta:
    if text in EXPIRY_PRESETS:
        return EXPIRY_PRESETS[text]
    if _YEARS_OR_MONTHS.match(text.strip()):
        raise ValidationError(
            f"expires_in may not count years or months (their length varies), got "
            f"{echo(text)}; give days instead, such as 'P30D'"
        )
    try:
        duration = duration_from_text(text)
    except ValidationError:
        raise ValidationError(
            f"expires_in must be a timedelta, one of the presets {', '.join(EXPIRY_PRESETS)}, "
            f"or an ISO 8601 duration such as 'P10D' or 'PT36H', got {echo(text)}"
        ) from None
    if duration <= dt.timedelta(0):
        raise ValidationError(f"expires_in must be a positive duration, got {echo(text)}")
    return duration


E = TypeVar("E", bound=enum.Enum)


def parse_enum(kind: type[E], value: object, what: str) -> E:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(str(member.value) for member in kind)
        raise ValidationError(f"unknown {what} {echo(value)}; choose one of: {choices}") from None


def check_flag(value: object, what: str) -> bool:
    """Return *value* if it is True or False.

    Raises:
        ValidationError: Anything else (a form's ``"no"`` is not False).
    """
    if not isinstance(value, bool):
        raise ValidationError(
            f"{what} must be True or False, not {type(value).__name__}", field=what
        )
    return value


def as_id(value: object) -> str | None:
    """Return *value* if it can be an id; anything else matches nothing."""
    return value if isinstance(value, str) else None


def require_text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be text, got {type(value).__name__}")
    return value


def plain_text(value: object, what: str) -> str:
    """Return *value* if it is text that can be stored, hashed and shown as it is.

    Raises:
        ValidationError: *value* is not text, or holds a NUL character or a lone surrogate
            (half of a UTF-16 pair, which no encoding can write), named by its position.
    """
    text = require_text(value, what)
    nul = text.find("\x00")
    if nul >= 0:
        raise ValidationError(f"{what} must not contain a NUL character (one is at {nul})")
    surrogate = lone_surrogate_at(text)
    if surrogate is not None:
        raise ValidationError(
            f"{what} must be valid Unicode text: it holds a lone surrogate "
            f"U+{ord(text[surrogate]):04X} at {surrogate}"
        )
    return text


def clean_client(value: object) -> str:
    """Return the identifier of a requesting client, without surrounding spaces.

    It is stored as the key of its throttle counter, so its length is bounded too.

    Raises:
        ValidationError: It is not text, holds a NUL or a lone surrogate, or is longer than
            :data:`MAX_CLIENT` characters.
    """
    cleaned = plain_text(value, "client").strip()
    if len(cleaned) > MAX_CLIENT:
        raise ValidationError(
            f"client must be at most {MAX_CLIENT} characters, got {len(cleaned):,}",
            field="client",
        )
    return cleaned


def clean_name(value: str, what: str, *, required: bool) -> str:
    cleaned = " ".join(require_text(value, what).split())
    if required and not cleaned:
        raise ValidationError(f"{what} must not be empty")
    if len(cleaned) > MAX_NAME:
        raise ValidationError(f"{what} must be at most {MAX_NAME} characters")
    if any(_is_hidden_control(ch) for ch in cleaned):
        raise ValidationError(
            f"{what} must not contain control characters or invisible direction and spacing marks"
        )
    return cleaned


# Names may not hold controls, line or paragraph separators, or invisible format characters
# (direction overrides and marks, zero-width space, word joiner, byte order mark, soft
# hyphen...), which can disguise a name or break an email's lines. The zero-width joiner and
# non-joiner (emoji sequences, Persian and Indic scripts) and the tag characters of flag
# sequences are the format characters that ordinary names need.
_ALLOWED_FORMAT = frozenset("\u200c\u200d") | frozenset(map(chr, range(0xE0020, 0xE0080)))
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def _is_hidden_control(ch: str) -> bool:
    category = unicodedata.category(ch)
    if category == "Cf":
        return ch not in _ALLOWED_FORMAT
    return category in _REFUSED_CATEGORIES


def parse_recipients(
    emails: Iterable[str] | None, source: CsvSource | None, settings: Settings
) -> EmailList:
    """Return the addresses given either typed (*emails*) or as a CSV (*source*).

    Row numbers are those of the input: list positions from 1, or the CSV's rows.

    Raises:
        ValidationError: Both or neither given (naming ``emails`` and ``csv``), more than
            ``settings.max_batch_size`` addresses, a file name given as CSV text, or a CSV
            that cannot be read.
    """
    most = settings.max_batch_size
    if source is None:
        if emails is None:
            raise ValidationError("give the addresses either as emails or as csv")
        return parse_emails(bounded_entries(emails, most))
    if emails is not None:
        raise ValidationError("give the addresses either as emails or as csv, not both")
    if isinstance(source, str) and "\n" not in source and source.strip().lower().endswith(".csv"):
        raise ValidationError(
            f"csv={echo(source)} looks like a file name; pass pathlib.Path(...) to read "
            "the file (a str is read as the CSV text itself)"
        )
    return parse_email_csv(source, max_entries=most)


def bounded_entries(emails: object, limit: int) -> list[object]:
    """Return the entries of a typed address list, refusing more than *limit* non-blank ones.

    Stops reading as soon as the limit is passed, so an endless iterable is refused too;
    blank entries are skipped but not without end (at most as many again, plus 1,000).
    """
    entries: list[object] = []
    given = 0
    most = 2 * limit + 1000
    for entry in _address_collection(emails):
        entries.append(entry)
        if len(entries) > most:
            raise ValidationError(f"more than {most} entries, most of them blank")
        if not isinstance(entry, str) or entry.strip():
            given += 1
            if given > limit:
                raise ValidationError(f"more than {limit} addresses; the limit per call is {limit}")
    return entries


def clean_notes(notes: str) -> str:
    cleaned = require_text(notes, "notes").strip()
    if len(cleaned) > MAX_NOTES:
        raise ValidationError(f"notes must be at most {MAX_NOTES} characters")
    return plain_text(cleaned, "notes")


def check_cursor(cursor: object, prefix: str) -> str | None:
    if cursor is None:
        return None
    if not isinstance(cursor, str) or not cursor.startswith(prefix + "_"):
        raise InvalidCursor(f"cursor {echo(cursor)} does not belong to this listing")
    return cursor


def id_list(ids: Iterable[str] | None, what: str, limit: int) -> list[str] | None:
    """Return the distinct ids of *ids*, refusing more than *limit* of them; None for None.

    Stops reading as soon as the limit is passed, so an endless iterable is refused too.
    """
    if ids is None:  # the caller named none: all of them
        return None
    if isinstance(ids, str) or not isinstance(ids, Iterable):
        raise ValidationError(f"{what} must be a collection of ids, not {type(ids).__name__}")
    listed = list(itertools.islice(ids, limit + 1))
    if len(listed) > limit:
        raise ValidationError(f"more than {limit} {what}; the limit per call is {limit}")
    if not all(isinstance(i, str) for i in listed):
        raise ValidationError(f"{what} must hold id strings only")
    return list(dict.fromkeys(listed))
