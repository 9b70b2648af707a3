"""Rows of the PostgreSQL store: records encoded for psycopg, decoded back, and compared.

Pure functions over a table's statements (:class:`~licensekit.stores._pg_sql.PgTableSQL`);
the transaction (:mod:`licensekit.stores._pg_transaction`) runs the statements.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from licensekit.exceptions import IncompatibleStore, StorageError
from licensekit.stores._pg_sql import PgTableSQL

__all__ = [
    "columns",
    "decode_rows",
    "distinct_runs",
    "encode_records",
    "encode_values",
    "key_of",
    "valid",
    "why_refused",
]


def columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """The values of *rows*, one list per column (the arrays of an ``unnest``)."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width


def valid(value: Any) -> bool:
    """False for text PostgreSQL cannot hold (a lone surrogate), True for anything else."""
    if not isinstance(value, str):
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def decode_rows(table: PgTableSQL, rows: Iterable[Sequence[Any]]) -> list[Any]:
    """The records of *rows*.

    Raises:
        IncompatibleStore: A row holds what this licensekit cannot read.
    """
    try:
        return [table.mapper.decode(row) for row in rows]
    except (ValueError, TypeError, KeyError) as e:
        raise IncompatibleStore(
            f"a stored record of the {table.kind.name} cannot be read by this licensekit: {e}"
        ) from e


def encode_values(table: PgTableSQL, fields: Sequence[str], values: Iterable[Any]) -> list[Any]:
    """*values* of *fields*, encoded as their columns hold them."""
    encoders = table.encoders
    try:
        return [encoders[f](v) for f, v in zip(fields, values, strict=True)]
    except StorageError:
        raise
    except (AttributeError, TypeError, ValueError) as e:
        raise StorageError(f"a value of the {table.kind.name} has a wrong type: {e}") from e


def encode_records(table: PgTableSQL, records: Sequence[Any]) -> list[list[Any]]:
    """The encoded *records*, all of the kind's type; refused, all of them, otherwise."""
    kind, encode = table.kind, table.mapper.encode
    rows = []
    for record in records:
        if not isinstance(record, kind.type):
            raise StorageError(f"{record!r} is not one of the {kind.name}")
        try:
            rows.append(encode(record))
        except StorageError:
            raise
        except (AttributeError, TypeError, ValueError) as e:
            raise StorageError(f"one of the {kind.name} holds a value of a wrong type: {e}") from e
    return rows


def key_of(table: PgTableSQL, row: Sequence[Any]) -> tuple[Any, ...]:
    """The key of the encoded *row*."""
    return tuple(row[p] for p in table.key_positions)


def distinct_runs(table: PgTableSQL, rows: list[list[Any]]) -> list[list[list[Any]]]:
    """Cut *rows* into runs in which no key repeats (a statement changes a row once)."""
    runs: list[list[list[Any]]] = []
    run: list[list[Any]] = []
    keys: set[tuple[Any, ...]] = set()
    for row in rows:
        key = key_of(table, row)
        if key in keys:
            runs.append(run)
            run, keys = [], set()
        run.append(row)
        keys.add(key)
    if run:
        runs.append(run)
    return runs


def why_refused(
    table: PgTableSQL, rows: Sequence[list[Any]], found: Sequence[Any], *, must_exist: bool
) -> StorageError:
    """Why a save (*must_exist*) or put of *rows* changed fewer records than it should.

    *found* holds the stored rows of their keys: a missing one, or a fixed field that
    differs, is the reason.
    """
    kind = table.kind
    stored = {key_of(table, row): row for row in found}
    position = table.position
    for row in rows:
        old = stored.get(key_of(table, row))
        if old is None:
            if must_exist:
                return StorageError(f"none of the {kind.name} has the key {key_of(table, row)!r}")
            continue
        changed = [f for f in kind.fixed if old[position[f]] != row[position[f]]]
        if changed:
            return StorageError(
                f"a save may not change the {', '.join(changed)} of one of the {kind.name}"
            )
    return StorageError(f"a write of the {kind.name} changed fewer records than it should")
