"""What the SQLite store's driver errors mean, and rows it cannot read or values it cannot bind.

Every ``sqlite3`` error the store meets becomes one of licensekit's
(:class:`~licensekit.exceptions.StorageError` and its kinds) through :func:`translate`; a
stored value this licensekit cannot decode is an
:class:`~licensekit.exceptions.IncompatibleStore`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from licensekit._text import encodable
from licensekit.exceptions import DuplicateKey, IncompatibleStore, StorageBusy, StorageError
from licensekit.stores._sql import BY_NAME, TableSQL

__all__ = [
    "UNREADABLE",
    "Row",
    "bindable",
    "binding_error",
    "decode",
    "translate",
    "unreadable",
]

Row = Sequence[Any]


def translate(error: sqlite3.Error, doing: str) -> StorageError:
    """Return the licensekit error for a driver *error* raised while *doing* something."""
    text = str(error)
    if isinstance(error, sqlite3.IntegrityError):
        if text.startswith("UNIQUE constraint failed: "):
            return DuplicateKey(clash_of(text.removeprefix("UNIQUE constraint failed: ")))
        return StorageError(f"{doing} would break a rule of the database: {text}")
    code = getattr(error, "sqlite_errorcode", 0) & 0xFF
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StorageBusy(f"{doing}: the database stayed locked by another connection")
    return StorageError(f"{doing} failed in SQLite: {type(error).__name__}: {text}")


def clash_of(constraint: str) -> str:
    """Say which fields a ``UNIQUE constraint failed: t.a, t.b`` clash was about."""
    columns = [c.strip().partition(".") for c in constraint.split(",")]
    table = BY_NAME.get(columns[0][0])
    fields = tuple(column for _, _, column in columns)
    if table is None:
        return f"a unique value clashes: {constraint}"
    if fields == table.kind.key:
        return f"one of the {table.table} already has this key ({', '.join(fields)})"
    return f"another of the {table.table} already has this {', '.join(fields)}"


UNREADABLE = (ValueError, TypeError, KeyError)  # json.JSONDecodeError is a ValueError
"""What decoding a stored value this licensekit cannot read raises."""


def unreadable(table: TableSQL, error: Exception) -> IncompatibleStore:
    """The error for a row of *table* whose decoding failed with *error*."""
    return IncompatibleStore(
        f"a stored record of the {table.table} cannot be read by this licensekit: {error}"
    )


def decode(table: TableSQL, rows: Iterable[Row]) -> list[Any]:
    """Return the records *rows* hold; a value this licensekit cannot read is refused.

    Raises:
        IncompatibleStore: A stored value is not one this version of the record holds.
    """
    try:
        return [table.mapper.decode(row) for row in rows]
    except UNREADABLE as e:
        raise unreadable(table, e) from e


def binding_error(error: UnicodeEncodeError | OverflowError) -> StorageError:
    """Return the error for a value sqlite3 cannot bind at all."""
    if isinstance(error, UnicodeEncodeError):
        return StorageError(f"cannot store text that is not valid Unicode: {error}")
    return StorageError(f"a number is too large for SQLite: {error}")


def bindable(values: Iterable[Any]) -> bool:
    """False when a text value holds a lone surrogate: it can match nothing stored."""
    return all(encodable(v) for v in values if isinstance(v, str))
