"""How the command-line tool prints: aligned tables for people, JSON for scripts.

JSON output is the library's own view objects, field by field, under their attribute names:
datetimes as ISO 8601 text, enumerations as their values, and never a field the library hides
from ``repr`` (tokens, hashes, ciphertexts).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import os
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import TextIO

import attrs

from licensekit._text import encodable
from licensekit.cli._errors import EXIT_OK
from licensekit.domain._durations import duration_text
from licensekit.domain.model import Role

__all__ = ["ROLE_NAMES", "Output", "clean", "jsonable", "plural", "render_table", "when"]

ROLE_NAMES = {
    Role.REGULAR_MEMBER: "Regular Member",
    Role.ACCOUNT_ADMINISTRATOR: "Account Administrator",
}
"""Each role as people name it."""


def jsonable(value: object) -> object:
    """Return *value* as data :func:`json.dumps` can write.

    attrs instances become objects of their fields, except those hidden from ``repr``;
    enumerations become their values, datetimes and durations ISO 8601 text, sets sorted
    lists.
    """
    kind = type(value)
    if attrs.has(kind):
        return {
            field.name: jsonable(getattr(value, field.name))
            for field in attrs.fields(kind)
            if field.repr is not False
        }
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return duration_text(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return [jsonable(v) for v in sorted(value)]
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def when(moment: dt.datetime | None) -> str:
    """Return *moment* as ``YYYY-MM-DD HH:MM`` in UTC, or an empty string for None."""
    if moment is None:
        return ""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")


def plural(n: int, noun: str) -> str:
    """Return *n* and *noun*, the noun with an ``s`` unless *n* is one: ``2 emails``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def clean(text: object) -> str:
    """Return *text* as one line without control characters (no terminal escapes)."""
    return "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in str(text)
    )


def render_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """Return the lines of a table: a header, a rule, then the rows, columns aligned."""
    cells = [[clean(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines.extend(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )
    return lines


class Output:
    """Where a command writes its result: lines and tables, or one JSON document.

    Args:
        stream: Standard output.
        json_mode: Write JSON (:meth:`json`) and nothing else.
    """

    def __init__(self, stream: TextIO, *, json_mode: bool) -> None:
        self.stream = stream
        self.json_mode = json_mode

    def line(self, text: str = "") -> None:
        """Write one line of text for people (nothing in JSON mode)."""
        if not self.json_mode:
            self.text(text + "\n")

    def text(self, text: str) -> None:
        r"""Write *text* as it is, but what the stream's encoding lacks as escapes (``\xeb``).

        A terminal set to ASCII or Latin-1 (or ``PYTHONIOENCODING=...:strict``) then shows
        every name, where it would otherwise end the command with a traceback.
        """
        encoding = getattr(self.stream, "encoding", None)
        if encoding:
            text = text.encode(encoding, "backslashreplace").decode(encoding)
        self.stream.write(text)

    def table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[object]],
        *,
        empty: str = "(none)",
        indent: str = "",
    ) -> None:
        """Write an aligned table for people, or *empty* when there are no rows."""
        if not rows:
            self.line(indent + empty)
            return
        for text in render_table(headers, rows):
            self.line(indent + text)

    def fields(self, pairs: Sequence[tuple[str, object]]) -> None:
        """Write ``label: value`` lines, the values aligned."""
        width = max(len(label) for label, _ in pairs)
        for label, value in pairs:
            self.line(f"{label + ':':<{width + 1}} {clean(value)}".rstrip())

    def answer(self, data: object, line: str) -> int:
        """Write *data* as JSON in JSON mode, else *line* for people; return status 0.

        For the commands whose whole result is one object, or one sentence.
        """
        if self.json_mode:
            self.json(data)
        else:
            self.line(line)
        return EXIT_OK

    def json(self, data: object) -> None:
        r"""Write *data* as one JSON document (see :func:`jsonable`).

        Non-ASCII text is written as it is, or as ``\u`` escapes when the stream's encoding
        cannot carry it: the document stays valid JSON either way.
        """
        document = json.dumps(jsonable(data), indent=2, ensure_ascii=False)
        encoding = getattr(self.stream, "encoding", None)
        if encoding and not encodable(document, encoding):
            document = json.dumps(jsonable(data), indent=2, ensure_ascii=True)
        self.stream.write(document + "\n")
