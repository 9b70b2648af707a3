"""PostgreSQL statements generated from the record descriptions of :mod:`licensekit.storage`.

Rules of this module (keep them when you change it):

* A kind's table is ``<schema>.<kind.name>``, a column per field, named after it (the schema
  itself is made by :mod:`licensekit.stores._pg_schema`). Values are bound as parameters,
  never written into the text; the only names written in are those of the descriptions and
  the store's schema, a checked identifier.
* A statement of many rows or values binds one array per column (``unnest``), so that a
  look-up, write or delete of any number of records is one statement and one round trip,
  and its text does not depend on how many there are (it is prepared once).
* Values pass natively: text, ``bytea``, ``bigint``, ``timestamptz`` (psycopg's aware
  datetimes), ``jsonb`` (sets, tuples and mappings, written as JSON text). A nullable key
  field keeps None as NULL and is compared with ``IS NOT DISTINCT FROM``.
"""

# Every name put into SQL here comes from the record descriptions or a checked schema name.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Final

from licensekit.exceptions import StorageError
from licensekit.storage import KINDS, RecordKind
from licensekit.stores._rows import (
    Codec,
    RowMapper,
    _enum_decoder,
    _enum_value,
    _json_list,
    _json_mapping,
)

__all__ = ["PgTableSQL", "pg_codecs", "tables_in"]

_UTC: Final = dt.UTC


def _aware(moment: dt.datetime) -> dt.datetime:
    """Pass an aware datetime as it is; refuse a naive one, which would be read as local."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise StorageError(f"cannot store a datetime without a time zone: {moment.isoformat()}")
    return moment


def _in_utc(moment: dt.datetime) -> dt.datetime:
    # psycopg answers in the session's time zone; licensekit's records hold UTC.
    return moment if moment.tzinfo is _UTC else moment.astimezone(_UTC)


def _sql_type(annotation: Any) -> str:
    """The PostgreSQL type of a field annotated *annotation* (its array type is ``<t>[]``)."""
    args = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return _sql_type(next(a for a in args if a is not type(None)))
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "bigint"
    if annotation is bytes:
        return "bytea"
    if annotation is dt.datetime:
        return "timestamptz"
    if annotation is str or (isinstance(annotation, type) and issubclass(annotation, enum.Enum)):
        return "text"
    return "jsonb"


def pg_codecs(annotation: Any) -> tuple[bool, Codec, Codec]:
    """Return (optional, encode, decode) of a field annotated *annotation*, for psycopg."""
    args = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"cannot store a field of type {annotation!r}")
        _, encode, decode = pg_codecs(inner[0])
        return True, encode, decode
    if annotation in (str, int, bytes, bool):
        return False, None, None
    if annotation is dt.datetime:
        return False, _aware, _in_utc
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return False, _enum_value, _enum_decoder(annotation)
    origin = typing.get_origin(annotation)
    if origin in (frozenset, tuple, list):
        container: Callable[[Any], Any] = origin
        return False, _json_list, container  # psycopg reads jsonb as a list
    if origin in (Mapping, dict, typing.Mapping):
        return False, _json_mapping, dict
    raise TypeError(f"cannot store a field of type {annotation!r}")


def _checked(write: str) -> str:
    """*write*, failing with ``division_by_zero`` unless it changed as many rows as it should.

    Its last parameter is that number. The failure aborts the transaction in PostgreSQL, so
    a save or put that missed a record is never committed even though its result is read
    only after the ``COMMIT`` was sent behind it. The denominator depends on the row count,
    so PostgreSQL cannot fold it into a constant and fail every time.
    """
    return f"WITH changed AS ({write} RETURNING 1) SELECT 1 / (count(*) = %s)::int FROM changed"


def _equal(column: str, nullable: bool, value: str) -> str:
    return f"{column} IS NOT DISTINCT FROM {value}" if nullable else f"{column} = {value}"


class PgTableSQL:
    """The statements of one record kind in one schema, and how its values are written.

    Attributes:
        kind: The description the statements come from.
        table: The table's qualified name.
        mapper: The row codec (see :class:`~licensekit.stores._rows.RowMapper`).
        columns: The columns, one per field, in field order.
        types: Each column's PostgreSQL type.
    """

    def __init__(self, kind: RecordKind[Any], schema: str) -> None:
        self.kind = kind
        self.table = f"{schema}.{kind.name}"
        self.mapper: RowMapper[Any] = RowMapper(kind.type, codecs=pg_codecs)
        self.columns: tuple[str, ...] = self.mapper.columns
        hints = typing.get_type_hints(kind.type)
        self.types = {c: _sql_type(hints[c]) for c in self.columns}
        self.position = {c: i for i, c in enumerate(self.columns)}
        self.key_positions = tuple(self.position[f] for f in kind.key)
        self.nullable = frozenset(kind.nullable_key)
        self.numbers = frozenset(c for c in self.columns if hints[c] is int)
        self.counters = self.numbers - set(kind.key)
        # A derived property (an enum the record computes) is written as its value.
        self.encoders = {**self.mapper.encoders, **dict.fromkeys(kind.derived, _enum_value)}
        self.null_tested = self.nullable  # None of a nullable key field: IS NULL
        self._filtered: dict[tuple[Any, ...], tuple[str, str]] = {}
        self.lookups = frozenset(kind.lookups)
        self.select = f"SELECT {', '.join(self.columns)} FROM {self.table}"
        writable = [c for c in self.columns if c not in kind.key and c not in kind.fixed]
        self.assigned = tuple(writable) or kind.key[:1]
        self.guarded = (*kind.key, *kind.fixed)
        self.find_one = {f: self._find_one(f) for f in kind.lookups}
        self.find_many = {f: self._find_many(f) for f in kind.lookups}
        self.insert_one = (
            f"INSERT INTO {self.table} ({', '.join(self.columns)}) "
            f"VALUES ({', '.join(['%s'] * len(self.columns))})"
        )
        self.insert_many = (
            f"INSERT INTO {self.table} ({', '.join(self.columns)}) "
            f"SELECT * FROM {self._unnest(self.columns)}"
        )
        self.update_one = _checked(self._update_one())
        self.update_many = _checked(self._update_many())
        self.upsert_one, self.upsert_many = map(_checked, self._upserts())
        self.delete_many = f"DELETE FROM {self.table} AS t WHERE {self._matching(kind.key)}"
        self.page_first, self.page_after = self._pages()
        self.counts = {
            frozenset(f): (
                f,
                f"SELECT count(*) FROM {self.table} WHERE "
                + " AND ".join(_equal(c, c in self.nullable, "%s") for c in f),
            )
            for f in kind.counts
        }
        self.delete_expired = (
            None if kind.expires is None else f"DELETE FROM {self.table} WHERE {kind.expires} <= %s"
        )
        self._increments: dict[tuple[str, str | None], str] = {}
        self._updates: dict[tuple[tuple[str, ...], tuple[str, ...]], str] = {}

    def __repr__(self) -> str:
        return f"PgTableSQL({self.table!r})"

    def _unnest(self, columns: tuple[str, ...]) -> str:
        """``unnest(%b::<type>[], ...)``: one binary array parameter per column, side by side."""
        arrays = ", ".join(f"%b::{self.types[c]}[]" for c in columns)
        return f"unnest({arrays})"

    def _matching(self, fields: tuple[str, ...]) -> str:
        """A condition on the row ``t``: its *fields* hold one of the tuples of an array each.

        One field not nullable is ``= ANY``, which an index serves; otherwise a semi-join
        against the unnested arrays.
        """
        if len(fields) == 1 and fields[0] not in self.nullable:
            return f"t.{fields[0]} = ANY(%b::{self.types[fields[0]]}[])"
        names = ", ".join(fields)
        where = " AND ".join(_equal(f"t.{f}", f in self.nullable, f"v.{f}") for f in fields)
        return f"EXISTS (SELECT FROM {self._unnest(fields)} AS v({names}) WHERE {where})"

    def _find_one(self, fields: tuple[str, ...]) -> str:
        where = " AND ".join(_equal(f, f in self.nullable, "%s") for f in fields)
        return f"{self.select} WHERE {where}"

    def _find_many(self, fields: tuple[str, ...]) -> str:
        columns = ", ".join(f"t.{c}" for c in self.columns)
        return f"SELECT {columns} FROM {self.table} AS t WHERE {self._matching(fields)}"

    def _update_one(self) -> str:
        """``UPDATE`` of one record, found by key and unchanged fixed fields.

        Its parameters: the assigned columns' values, then the guarded ones' (see
        :meth:`update_params`).
        """
        sets = ", ".join(f"{c} = %s" for c in self.assigned)
        where = " AND ".join(
            _equal(c, c not in self.kind.key or c in self.nullable, "%s") for c in self.guarded
        )
        return f"UPDATE {self.table} SET {sets} WHERE {where}"

    def update_params(self, row: list[Any]) -> list[Any]:
        """The parameters of :attr:`update_one` for the encoded record *row*."""
        position = self.position
        return [row[position[c]] for c in (*self.assigned, *self.guarded)]

    def _update_many(self) -> str:
        """``UPDATE`` of many records with distinct keys, a column array each, in field order."""
        names = ", ".join(self.columns)
        sets = ", ".join(f"{c} = v.{c}" for c in self.assigned)
        where = " AND ".join(
            _equal(f"t.{c}", c not in self.kind.key or c in self.nullable, f"v.{c}")
            for c in self.guarded
        )
        return (
            f"UPDATE {self.table} AS t SET {sets} "
            f"FROM {self._unnest(self.columns)} AS v({names}) WHERE {where}"
        )

    def _upserts(self) -> tuple[str, str]:
        """Insert, or replace the record with the same key unless a fixed field differs.

        A row whose fixed fields differ from the stored record's is left as it was and not
        counted in the statement's row count, which is how the caller finds it.
        """
        sets = ", ".join(f"{c} = excluded.{c}" for c in self.assigned)
        conflict = f"ON CONFLICT ON CONSTRAINT {self.kind.name}_key DO UPDATE SET {sets}"
        if self.kind.fixed:
            unchanged = " AND ".join(
                f"t.{c} IS NOT DISTINCT FROM excluded.{c}" for c in self.kind.fixed
            )
            conflict = f"{conflict} WHERE {unchanged}"
        names = ", ".join(self.columns)
        into = f"INSERT INTO {self.table} AS t ({names})"
        one = f"{into} VALUES ({', '.join(['%s'] * len(self.columns))})"
        many = f"{into} SELECT * FROM {self._unnest(self.columns)}"
        return f"{one} {conflict}", f"{many} {conflict}"

    def _pages(self) -> tuple[str | None, str | None]:
        """``SELECT`` of one page of an owner's records: from the start, and after a cursor."""
        owner, order = self.kind.owner, self.kind.order
        if owner is None:
            return None, None
        head = f"{self.select} WHERE {owner} = %s"
        tail = "ORDER BY " + ", ".join(
            f"{f} NULLS FIRST" if f in self.nullable else f for f in order
        )
        tail = f"{tail} LIMIT %s"
        if not self.nullable.intersection(order):
            after = f"({', '.join(order)}) > ({', '.join(['%s'] * len(order))})"
        else:
            after = self._after_with_nulls(order)
        return f"{head} {tail}", f"{head} AND {after} {tail}"

    def filtered_pages(
        self, fields: tuple[str, ...], bounds: tuple[tuple[str, str], ...], nulls: frozenset[str]
    ) -> tuple[str, str]:
        """``SELECT`` of one page of an owner's records that hold a filter's values.

        Parameters: the owner, the values of *fields* but those of *nulls* (tested ``IS
        NULL``, which an index serves where ``IS NOT DISTINCT FROM`` is not), one per bound
        of *bounds* (a field and ``"above"`` or ``"up_to"``), then (after a cursor) the
        cursor's first order value if the order has several fields, the cursor, and the
        limit.
        """
        key = (fields, bounds, nulls)
        found = self._filtered.get(key)
        if found is None:
            owner, order = self.kind.owner, self.kind.order
            conditions = [f"{owner} = %s"]
            conditions += [f"{f} IS NULL" if f in nulls else f"{f} = %s" for f in fields]
            conditions += [f"{f} {'>' if side == 'above' else '<='} %s" for f, side in bounds]
            head = f"{self.select} WHERE {' AND '.join(conditions)}"
            tail = "ORDER BY " + ", ".join(
                f"{f} NULLS FIRST" if f in self.nullable else f for f in order
            )
            tail = f"{tail} LIMIT %s"
            if len(order) == 1:
                after = f"{order[0]} > %s"
            else:  # the first field alone too, which an index can seek to
                if not self.nullable.intersection(order):
                    row = f"({', '.join(order)}) > ({', '.join(['%s'] * len(order))})"
                else:
                    row = self._after_with_nulls(order)
                after = f"{order[0]} >= %s AND {row}"
            if bounds:
                # A page of a range is the records in range, sorted: the fence (OFFSET 0)
                # has the server choose its index for the conditions alone. Without it, a
                # plan made for any values (a prepared statement's) reads the filter's index
                # in order and tests the range on each row, which is every record of the
                # filter when few are in range.
                found = self._filtered[key] = (
                    f"SELECT * FROM ({head} OFFSET 0) AS ranged {tail}",
                    f"SELECT * FROM ({head} AND {after} OFFSET 0) AS ranged {tail}",
                )
            else:
                found = self._filtered[key] = (f"{head} {tail}", f"{head} AND {after} {tail}")
        return found

    def _after_with_nulls(self, order: tuple[str, ...]) -> str:
        """Rows after a cursor in *order*, None first: one ``%s`` per field, in order.

        Spelled out field by field, since a row comparison with a NULL is NULL. Each field's
        cursor value is bound once, through a ``VALUES`` row named ``c``.
        """
        # The cursor's columns are c0, c1...: named after the fields, they would hide the
        # table's own columns inside the subquery.
        alternatives = []
        for i, field in enumerate(order):
            equal = [_equal(f, f in self.nullable, f"c.c{n}") for n, f in enumerate(order[:i])]
            if field in self.nullable:
                later = f"(c.c{i} IS NULL AND {field} IS NOT NULL OR {field} > c.c{i})"
            else:
                later = f"{field} > c.c{i}"
            alternatives.append(" AND ".join([*equal, later]))
        casts = ", ".join(f"%s::{self.types[f]}" for f in order)
        names = ", ".join(f"c{n}" for n in range(len(order)))
        return (
            f"EXISTS (SELECT FROM (VALUES ({casts})) AS c({names}) "
            f"WHERE {' OR '.join(f'({a})' for a in alternatives)})"
        )

    def update_alike(self, values: tuple[str, ...], added: tuple[str, ...]) -> str:
        """``UPDATE`` setting *values* and adding to *added* on the records of many keys.

        Parameters: the new values, the amounts added, then one array per key field.
        """
        sql = self._updates.get((values, added))
        if sql is None:
            sets = ", ".join(
                [*(f"{c} = %s" for c in values), *(f"{c} = t.{c} + %s" for c in added)]
            )
            sql = f"UPDATE {self.table} AS t SET {sets} WHERE {self._matching(self.kind.key)}"
            self._updates[values, added] = sql
        return sql

    def increment(self, field: str, cap: str | None) -> str:
        """Add the first parameter to *field* of the record whose key follows, within bounds.

        Parameters: *by*, the key's values, *by* again (and a third time with a *cap*).
        """
        sql = self._increments.get((field, cap))
        if sql is None:
            where = " AND ".join(_equal(c, c in self.nullable, "%s") for c in self.kind.key)
            bound = f" AND {field} + %s <= {cap}" if cap is not None else ""
            sql = (
                f"UPDATE {self.table} SET {field} = {field} + %s "
                f"WHERE {where} AND {field} + %s >= 0{bound}"
            )
            self._increments[field, cap] = sql
        return sql


def tables_in(schema: str) -> dict[str, PgTableSQL]:
    """The statements of every kind licensekit keeps, in *schema* (quoted), by kind name."""
    return {kind.name: PgTableSQL(kind, schema) for kind in KINDS}
