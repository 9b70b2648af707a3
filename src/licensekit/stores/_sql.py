"""SQLite statements generated from the record descriptions of :mod:`licensekit.storage`.

Rules of this module (keep them when you change it):

* A kind's table is named ``kind.name`` and has one column per field, named after it, in the
  attrs class's order; :class:`~licensekit.stores._rows.RowMapper` gives each field one codec,
  computed once. The schema itself is made by the migrations of
  :mod:`licensekit.stores._sqlite_schema`; :func:`schema_problems` says where the file and
  the descriptions disagree, and a test runs it on a new file.
* Every statement is built from the descriptions alone, once: the fixed ones when the kind's
  :class:`TableSQL` is made (at import), those whose length depends on how many rows or
  values they bind the first time that size is needed. Values are always bound as
  parameters, never written into the text.
* A statement binds at most :data:`ROWS_PER_STATEMENT` rows or values, and never more
  parameters than the connection allows (:func:`rows_per_statement`), so that a bulk
  look-up or write of N records costs ``ceil(N / chunk)`` statements.
"""

# Every name put into SQL here comes from the record descriptions, never from a caller.
# ruff: noqa: S608

from __future__ import annotations

import operator
import sqlite3
import typing
from collections.abc import Callable, Sequence
from typing import Any, Final

from licensekit.storage import KINDS, RecordKind
from licensekit.stores._rows import RowMapper, _enum_value, differ, is_plain, reader

__all__ = [
    "BY_NAME",
    "ROWS_PER_STATEMENT",
    "TABLES",
    "TableSQL",
    "chunks",
    "filter_index",
    "missing_columns",
    "range_index",
    "rows_per_statement",
    "schema_problems",
]

ROWS_PER_STATEMENT: Final = 500
"""The most rows one statement writes or values it looks up: small enough that a statement's
text and plan stay cheap, large enough that a bulk write of thousands is a few statements."""


def rows_per_statement(width: int, max_variables: int) -> int:
    """How many rows of *width* values one statement may bind, with *max_variables* allowed."""
    return max(1, min(ROWS_PER_STATEMENT, max_variables // max(width, 1)))


def chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """Cut *items* into consecutive runs of at most *size* (none when there are no items)."""
    if len(items) <= size:  # the usual case, spared the slicing
        return [items] if items else []
    return [items[start : start + size] for start in range(0, len(items), size)]


def _values_of(fields: Sequence[str]) -> Callable[[Any], tuple[Any, ...]]:
    """A function giving a record's values of *fields* as a tuple (of one, for one field)."""
    if len(fields) == 1:
        name = fields[0]
        return lambda record: (getattr(record, name),)
    getter: Callable[[Any], tuple[Any, ...]] = operator.attrgetter(*fields)
    return getter


def filter_index(table: str, fields: Sequence[str]) -> str:
    """The name of the index that serves a listing of *table* filtered by *fields*.

    It begins with the owner, then *fields*, then the listing's order; the migrations of
    :mod:`licensekit.stores._sqlite_schema` make it under this name.
    """
    return f"{table}_by_{'_'.join(fields)}"


def range_index(table: str, fields: Sequence[str], bounded: str) -> str:
    """The name of the index that serves a listing filtered by *fields* and a range.

    It begins with the owner, then *fields*, then the bounded field *bounded*. Such a listing
    reads the records in the range and sorts them: it costs what the range holds.
    """
    return f"{filter_index(table, fields)}_{bounded}"


def _marks(width: int) -> str:
    return f"({', '.join('?' * width)})"


def _rows_of_marks(rows: int, width: int) -> str:
    one = _marks(width)
    return ", ".join([one] * rows)


class TableSQL:
    """The statements of one record kind, and how its values are written.

    Attributes:
        kind: The description the statements come from.
        mapper: The row codec: ``encode(record)`` gives the parameters of :attr:`insert_one`
            and :attr:`update_one`, ``decode(row)`` reads a row of a ``SELECT``.
        lookups: The field sets a look-up may use (key, unique sets, indexes).
        find_one: For each of them, the ``SELECT`` of one value, the fields' encoders, and
            whether these pass every value through unchanged (then a look-up's value tuple
            is the statement's parameters as it is).
        encoders: For each field set a statement binds (look-ups, counts, owner, order), the
            encoder of each field.
        columns: The columns, one per field, in field order.
        writable: The columns a save may change: neither key nor fixed.
        writable_changes: ``writable_changes(old, new)``, the positions in :attr:`writable`
            whose values differ between two records, or None when one of the
            :attr:`guarded` values differs (see :func:`~licensekit.stores._rows.differ`).
        guarded: The key and fixed columns a save must find unchanged.
        select: ``SELECT <every column> FROM <table>``.
    """

    def __init__(self, kind: RecordKind[Any]) -> None:
        self.kind = kind
        self.table = kind.name
        self.mapper: RowMapper[Any] = RowMapper(kind.type, nullable=kind.nullable_key)
        self.columns: tuple[str, ...] = self.mapper.columns
        self.position = {c: i for i, c in enumerate(self.columns)}
        self.key_positions = tuple(self.position[f] for f in kind.key)
        self.writable = tuple(c for c in self.columns if c not in kind.key and c not in kind.fixed)
        self.guarded = (*kind.key, *kind.fixed)
        # For saves of records read in the same transaction (see SQLiteTransaction.save):
        # a record's key as one value (a tuple for a key of several fields), its writable
        # values, and each writable field's encoder.
        self.key_of: Callable[[Any], Any] = operator.attrgetter(*kind.key)
        self.writable_of: Callable[[Any], Any] | None = (
            _values_of(self.writable) if self.writable else None
        )
        self.writable_encoders = tuple(self.mapper.encoders[c] for c in self.writable)
        # The positions in writable that differ, or None if a guarded field does.
        self.writable_changes = differ(self.writable, self.guarded)
        self._narrow: dict[tuple[int, ...], tuple[str, Callable[[Any], tuple[Any, ...]]]] = {}
        hints = typing.get_type_hints(kind.type)
        self.numbers = frozenset(c for c in self.columns if hints[c] is int)
        self.counters = self.numbers - set(kind.key)
        self._sized: dict[tuple[Any, ...], str] = {}
        self._increments: dict[tuple[str, str | None], str] = {}
        self.select = f"SELECT {', '.join(self.columns)} FROM {self.table}"
        self.insert_one = self.insert(1)
        self.update_one = self._update_one()
        self.upsert_one = self.upsert(1)
        self.lookups = frozenset(kind.lookups)
        bound = [*kind.lookups, *kind.counts, kind.order, *((f,) for f in kind.ranges)]
        bound += [(kind.owner,)] if kind.owner is not None else []
        self.encoders = {fields: tuple(self.mapper.encoders[f] for f in fields) for fields in bound}
        # A derived property (an enum the record computes) is written as its value.
        field_encoders = {**self.mapper.encoders, **dict.fromkeys(kind.derived, _enum_value)}
        self.encoders.update(
            {fields: tuple(field_encoders[f] for f in fields) for fields in kind.filters}
        )
        self.null_tested: frozenset[str] = frozenset()  # None is a value: see _rows
        self._filtered: dict[tuple[Any, ...], tuple[str, str]] = {}
        self.find_one = {
            fields: (self.find(fields, 1), self.encoders[fields], is_plain(self.encoders[fields]))
            for fields in kind.lookups
        }
        self.page_first, self.page_after = self._pages()
        self.counts = {frozenset(f): (f, self._count(f)) for f in kind.counts}
        self.delete_expired = (
            None if kind.expires is None else f"DELETE FROM {self.table} WHERE {kind.expires} <= ?"
        )

    def __repr__(self) -> str:
        return f"TableSQL({self.table!r})"

    # -- writes -------------------------------------------------------------------------------

    def insert(self, rows: int) -> str:
        """``INSERT`` of *rows* records, parameters: the encoded records one after another."""
        key = ("insert", rows)
        sql = self._sized.get(key)
        if sql is None:
            names = ", ".join(self.columns)
            values = _rows_of_marks(rows, len(self.columns))
            sql = f"INSERT INTO {self.table} ({names}) VALUES {values}"
            self._sized[key] = sql
        return sql

    def upsert(self, rows: int) -> str:
        """Insert *rows* records or replace those whose key exists, unless a fixed field differs.

        A row whose fixed fields differ from the stored record's is left as it was and not
        counted in the statement's row count, which is how the caller finds it.
        """
        key = ("upsert", rows)
        sql = self._sized.get(key)
        if sql is None:
            changes = ", ".join(f"{c} = excluded.{c}" for c in self._assigned())
            conflict = ", ".join(self.kind.key)
            sql = f"{self.insert(rows)} ON CONFLICT ({conflict}) DO UPDATE SET {changes}"
            if self.kind.fixed:
                unchanged = " AND ".join(
                    f"{self.table}.{c} IS excluded.{c}" for c in self.kind.fixed
                )
                sql = f"{sql} WHERE {unchanged}"
            self._sized[key] = sql
        return sql

    def _assigned(self) -> tuple[str, ...]:
        # A kind whose every field is key or fixed still needs one assignment: the key's own.
        return self.writable or self.kind.key[:1]

    def _update_one(self) -> str:
        """``UPDATE`` of one record found by key and unchanged fixed fields.

        Its parameters are the encoded record (numbered ``?N`` in column order). Key and fixed
        columns are never assigned, not even their own value: assigning a column that other
        tables refer to makes SQLite look for the rows that refer to it.
        """
        number = {c: i for i, c in enumerate(self.columns, start=1)}
        sets = ", ".join(f"{c} = ?{number[c]}" for c in self._assigned())
        where = " AND ".join(
            f"{c} {'=' if c in self.kind.key else 'IS'} ?{number[c]}" for c in self.guarded
        )
        return f"UPDATE {self.table} SET {sets} WHERE {where}"

    def update_columns(
        self, changed: tuple[int, ...]
    ) -> tuple[str, Callable[[Any], tuple[Any, ...]]]:
        """``UPDATE`` of the :attr:`writable` columns at positions *changed* of one record.

        Returns the statement and ``values(record)``, the encoded values of those columns;
        its parameters are these, in that order, then the key's values. The record's key
        and fixed fields are checked by the caller, which read it in the same transaction.
        """
        narrow = self._narrow.get(changed)
        if narrow is None:
            sets = ", ".join(f"{self.writable[i]} = ?" for i in changed)
            where = " AND ".join(f"{c} = ?" for c in self.kind.key)
            values = reader(
                [self.writable[i] for i in changed], [self.writable_encoders[i] for i in changed]
            )
            sql = f"UPDATE {self.table} SET {sets} WHERE {where}"
            narrow = self._narrow[changed] = (sql, values)
        return narrow

    def update_alike(self, values: tuple[str, ...], added: tuple[str, ...], keys: int) -> str:
        """``UPDATE`` setting *values* and adding to *added* on the records with *keys* keys.

        Parameters: the new values, the amounts added, then the keys' values.
        """
        cache = ("update_alike", values, added, keys)
        sql = self._sized.get(cache)
        if sql is None:
            sets = ", ".join([*(f"{c} = ?" for c in values), *(f"{c} = {c} + ?" for c in added)])
            sql = f"UPDATE {self.table} SET {sets} WHERE {self.where(self.kind.key, keys)}"
            self._sized[cache] = sql
        return sql

    def update(self, rows: int) -> str:
        """``UPDATE`` of *rows* records with distinct keys, each found as by :attr:`update_one`.

        Its parameters are the encoded records one after another; SQLite names the columns
        of the ``VALUES`` list ``column1``, ``column2``... in field order.
        """
        if rows == 1:
            return self.update_one
        key = ("update", rows)
        sql = self._sized.get(key)
        if sql is None:
            new = {c: f"v.column{i}" for i, c in enumerate(self.columns, start=1)}
            sets = ", ".join(f"{c} = {new[c]}" for c in self._assigned())
            where = " AND ".join(
                f"{self.table}.{c} {'=' if c in self.kind.key else 'IS'} {new[c]}"
                for c in self.guarded
            )
            values = _rows_of_marks(rows, len(self.columns))
            sql = f"UPDATE {self.table} SET {sets} FROM (VALUES {values}) AS v WHERE {where}"
            self._sized[key] = sql
        return sql

    def increment(self, field: str, cap: str | None) -> str:
        """Add ``?1`` to *field* of the record whose key is ``?2...``, within 0 and *cap*.

        The statement returns nothing: its row count says whether it changed the record. (On
        a table that other tables refer to, with foreign keys on, SQLite 3.40 spends about
        9 us more on a ``RETURNING`` clause than on the whole ``UPDATE``.)
        """
        sql = self._increments.get((field, cap))
        if sql is None:
            where = " AND ".join(f"{c} = ?{n}" for n, c in enumerate(self.kind.key, start=2))
            bound = f" AND {field} + ?1 <= {cap}" if cap is not None else ""
            sql = (
                f"UPDATE {self.table} SET {field} = {field} + ?1 "
                f"WHERE {where} AND {field} + ?1 >= 0{bound}"
            )
            self._increments[field, cap] = sql
        return sql

    # -- reads and deletes --------------------------------------------------------------------

    def where(self, fields: tuple[str, ...], values: int) -> str:
        """A ``WHERE`` clause matching *values* value tuples of *fields*, served by an index.

        One value is an equality; several of one field an ``IN`` list; several of several
        fields a row value ``IN`` a ``VALUES`` list (written as a subquery, which SQLite
        looks up through the index, where a bare ``IN (VALUES ...)`` scans the table).
        """
        if values == 1:
            return " AND ".join(f"{f} = ?" for f in fields)
        if len(fields) == 1:
            return f"{fields[0]} IN ({', '.join('?' * values)})"
        rows = _rows_of_marks(values, len(fields))
        return f"({', '.join(fields)}) IN (SELECT * FROM (VALUES {rows}))"

    def find(self, fields: tuple[str, ...], values: int) -> str:
        """``SELECT`` of the records whose *fields* hold one of *values* value tuples."""
        key = ("find", fields, values)
        sql = self._sized.get(key)
        if sql is None:
            sql = f"{self.select} WHERE {self.where(fields, values)}"
            self._sized[key] = sql
        return sql

    def delete(self, keys: int) -> str:
        """``DELETE`` of the records with *keys* keys."""
        key = ("delete", keys)
        sql = self._sized.get(key)
        if sql is None:
            sql = f"DELETE FROM {self.table} WHERE {self.where(self.kind.key, keys)}"
            self._sized[key] = sql
        return sql

    def _pages(self) -> tuple[str | None, str | None]:
        """``SELECT`` of one page of an owner's records: from the start, and after a cursor."""
        owner, order = self.kind.owner, self.kind.order
        if owner is None:
            return None, None
        head = f"{self.select} WHERE {owner} = ?"
        tail = f"ORDER BY {', '.join(order)} LIMIT ?"
        if len(order) == 1:
            after = f"{order[0]} > ?"
        else:
            after = f"({', '.join(order)}) > ({', '.join('?' * len(order))})"
        return f"{head} {tail}", f"{head} AND {after} {tail}"

    def filtered_pages(
        self, fields: tuple[str, ...], bounds: tuple[tuple[str, str], ...], nulls: frozenset[str]
    ) -> tuple[str, str]:
        """``SELECT`` of one page of an owner's records that hold a filter's values.

        Parameters: the owner, the values of *fields*, one per bound of *bounds* (a field
        and ``"above"`` or ``"up_to"``), then (after a cursor) the cursor's first order
        value if the order has several fields, the cursor, and the limit. Without bounds
        the index on the owner, *fields* and the order (:func:`filter_index` names it)
        serves it, reading only the page; with bounds, the index on the owner, *fields* and
        the bounded field (:func:`range_index`) gives the records in range, sorted then.
        (*nulls* is for stores that test None apart; here None is a value like any other.)
        """
        key = (fields, bounds)
        found = self._filtered.get(key)
        if found is None:
            owner, order = self.kind.owner, self.kind.order
            conditions = [f"{owner} = ?", *(f"{f} = ?" for f in fields)]
            conditions += [f"{f} {'>' if side == 'above' else '<='} ?" for f, side in bounds]
            # Named: without statistics SQLite may prefer walking the owner's whole primary
            # key (a WITHOUT ROWID table's rows, in the same order) and test the filter on
            # each row, which reads every record the filter leaves out.
            if bounds:
                index = range_index(self.table, fields, bounds[0][0])
            else:
                index = filter_index(self.table, fields)
            head = f"{self.select} INDEXED BY {index} WHERE {' AND '.join(conditions)}"
            tail = f"ORDER BY {', '.join(order)} LIMIT ?"
            if len(order) == 1:
                after = f"{order[0]} > ?"
            else:  # the first field alone too, which an index can seek to
                row = f"({', '.join(order)}) > ({', '.join('?' * len(order))})"
                after = f"{order[0]} >= ? AND {row}"
            found = self._filtered[key] = (f"{head} {tail}", f"{head} AND {after} {tail}")
        return found

    def _count(self, fields: tuple[str, ...]) -> str:
        where = " AND ".join(f"{f} = ?" for f in fields)
        return f"SELECT count(*) FROM {self.table} WHERE {where}"

    def statements(self) -> dict[str, str]:
        """Every statement of this kind, by name, at one and two rows or values (for tests)."""
        found = {
            "insert": self.insert_one,
            "insert many": self.insert(2),
            "update": self.update_one,
            "update many": self.update(2),
            "upsert": self.upsert_one,
            "upsert many": self.upsert(2),
            "delete": self.delete(1),
            "delete many": self.delete(2),
        }
        for fields in self.kind.lookups:
            found[f"find by {', '.join(fields)}"] = self.find(fields, 1)
            found[f"find many by {', '.join(fields)}"] = self.find(fields, 2)
        if self.page_first is not None and self.page_after is not None:
            found["page"] = self.page_first
            found["page after"] = self.page_after
        for fields in self.kind.filters:
            name = ", ".join(fields)
            found[f"page by {name}"], found[f"page by {name} after"] = self.filtered_pages(
                fields, (), frozenset()
            )
            for field in self.kind.ranges:
                for side in ("above", "up_to"):
                    first, later = self.filtered_pages(fields, ((field, side),), frozenset())
                    found[f"page by {name}, {field} {side}"] = first
                    found[f"page by {name}, {field} {side} after"] = later
        for fields in self.kind.counts:
            found[f"count by {', '.join(fields)}"] = self.counts[frozenset(fields)][1]
        if self.delete_expired is not None:
            found["delete expired"] = self.delete_expired
        for field in sorted(self.counters):
            found[f"increment {field}"] = self.increment(field, None)
            for cap in sorted(self.numbers - {field}):
                found[f"increment {field} up to {cap}"] = self.increment(field, cap)
        return found


TABLES: Final[tuple[TableSQL, ...]] = tuple(TableSQL(kind) for kind in KINDS)
"""The statements of every kind licensekit keeps, in :data:`~licensekit.storage.KINDS` order."""

BY_NAME: Final[dict[str, TableSQL]] = {t.table: t for t in TABLES}


# -- the file's schema against the descriptions --------------------------------------------------


def _index_columns(
    connection: sqlite3.Connection, table: str
) -> list[tuple[bool, tuple[str, ...]]]:
    """(unique, columns) of every full (not partial) index of *table*, the primary key's too."""
    found = []
    for row in connection.execute(f"PRAGMA index_list({table})"):
        name, unique, partial = row[1], bool(row[2]), bool(row[4])
        if partial:
            continue
        columns = tuple(
            str(c[2]) for c in connection.execute(f"PRAGMA index_info({name})") if c[2] is not None
        )
        found.append((unique, columns))
    primary = [(r[5], str(r[1])) for r in connection.execute(f"PRAGMA table_info({table})") if r[5]]
    if primary:
        found.append((True, tuple(name for _, name in sorted(primary))))
    return found


def _served(
    indexes: list[tuple[bool, tuple[str, ...]]], equal: Sequence[str], ordered: Sequence[str] = ()
) -> bool:
    """True when an index starts with the columns of *equal* (any order), then *ordered*."""
    width = len(equal)
    for _, columns in indexes:
        if set(columns[:width]) == set(equal) and columns[width : width + len(ordered)] == tuple(
            ordered
        ):
            return True
    return False


def missing_columns(connection: sqlite3.Connection) -> dict[str, list[str]]:
    """For each table lacking columns the descriptions need, those columns."""
    missing: dict[str, list[str]] = {}
    for table in TABLES:
        found = {str(r[1]) for r in connection.execute(f"PRAGMA table_info({table.table})")}
        lacking = [c for c in table.columns if c not in found]
        if lacking:
            missing[table.table] = lacking
    return missing


def schema_problems(connection: sqlite3.Connection) -> list[str]:
    """Where the database's schema and the record descriptions disagree; empty when they agree.

    Every field has a column and every column a field; the key is the primary key; each
    unique set has a unique index of exactly its columns; each index, count, listing
    (owner, then order) and expiry has an index that begins with its columns.
    """
    problems: list[str] = []
    for table in TABLES:
        kind, name = table.kind, table.table
        info = list(connection.execute(f"PRAGMA table_info({name})"))
        if not info:
            problems.append(f"no table {name}")
            continue
        found = [str(r[1]) for r in info]
        problems += [f"{name} has no column {c}" for c in table.columns if c not in found]
        problems += [
            f"{name}.{c} is no field of {kind.type.__name__}"
            for c in found
            if c not in table.columns
        ]
        primary = tuple(str(r[1]) for r in sorted((r for r in info if r[5]), key=lambda r: r[5]))
        if primary != kind.key:
            problems.append(f"{name}'s primary key is {primary}, its description says {kind.key}")
        indexes = _index_columns(connection, name)
        for fields in kind.unique:
            if not any(u and set(c) == set(fields) for u, c in indexes):
                problems.append(f"{name} has no unique index on {fields}")
        needs: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
            *(("index", f, ()) for f in kind.indexes),
            *(("count", f, ()) for f in kind.counts),
        ]
        if kind.owner is not None:
            needs.append(("listing", (kind.owner,), kind.order))
            needs += [
                ("filter", (kind.owner, *f), tuple(o for o in kind.order if o not in f))
                for f in kind.filters
            ]
        if kind.expires is not None:
            needs.append(("expiry", (kind.expires,), ()))
        for purpose, equal, ordered in needs:
            if not _served(indexes, equal, ordered):
                problems.append(f"{name} has no index for its {purpose} by {(*equal, *ordered)}")
        named = {str(r[1]) for r in connection.execute(f"PRAGMA index_list({name})")}
        wanted = [filter_index(name, f) for f in kind.filters]
        wanted += [range_index(name, f, r) for f in kind.filters for r in kind.ranges]
        problems += [f"{name} has no index named {index}" for index in wanted if index not in named]
    return problems
