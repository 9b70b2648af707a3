"""One transaction of the SQLite store: the ten operations of the storage port, in SQL.

Rules of this module:

* Every statement comes from :mod:`licensekit.stores._sql`; this module only chooses which
  one, binds the encoded values and reads the rows back. It knows no record type by name.
* A look-up, write or delete of N records runs ``ceil(N / chunk)`` statements, never one per
  record (:func:`licensekit.stores._sql.rows_per_statement` sets the chunk).
* A write of several records behaves as if they were written one after another, in order,
  and the first that cannot be written decides the error, as in the memory store; SQLite
  undoes the statement that failed, and the refused write ends the transaction (see
  :attr:`SQLiteTransaction.refused`): the storage port lets licensekit never continue after a
  refused write, so no savepoint is spent on undoing part of a transaction.

The class is put together from parts in modules of their own: the memory of records read,
for narrow saves (:mod:`._sqlite_known`); writes of many records in order, and why one was
refused (:mod:`._sqlite_refusals`); the changes by key (:mod:`._sqlite_changes`); the pages
and counts shared with PostgreSQL (:mod:`._listing`). Here are the look-ups and the writes of
whole records, and what the parts share: running a statement, and its errors
(:mod:`._sqlite_errors`).
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import Any, NoReturn, TypeVar

from licensekit.exceptions import StorageError
from licensekit.storage import Query, RecordKind
from licensekit.stores._listing import Listing
from licensekit.stores._sql import (
    BY_NAME,
    TableSQL,
    chunks,
    rows_per_statement,
)
from licensekit.stores._sqlite_changes import KeyedChanges
from licensekit.stores._sqlite_errors import (
    UNREADABLE,
    Row,
    bindable,
    binding_error,
    decode,
    translate,
    unreadable,
)
from licensekit.stores._sqlite_known import KNOWN_RECORDS, KnownRecords
from licensekit.stores._sqlite_refusals import OrderedWrites, flat, refusing

__all__ = ["SQLiteTransaction", "decode", "translate"]

R = TypeVar("R")


_FEW_VALUES = 3
"""Up to this many values of one field are looked up a statement each, not in an IN list."""


class SQLiteTransaction(KnownRecords, OrderedWrites, KeyedChanges, Listing[TableSQL]):
    """One transaction of a :class:`~licensekit.stores.sqlite.SQLiteStore`, on one connection.

    See :class:`licensekit.storage.Transaction` for what each operation promises.

    Attributes:
        refused: The error of the first write this transaction refused, or None. Once set,
            every call raises :class:`~licensekit.exceptions.StorageError`, and the store
            rolls the transaction back however its block ends.
    """

    def __init__(
        self,
        connection: sqlite3.Connection,
        max_variables: int,
        execute: Callable[..., sqlite3.Cursor] | None = None,
    ) -> None:
        self._connection = connection
        # One cursor for the statements whose results are read at once (the hot paths):
        # connection.execute makes a new cursor for every statement. The store passes the
        # execute of its connection's own cursor, kept from one transaction to the next.
        self._execute = connection.cursor().execute if execute is None else execute
        self._max_variables = max_variables
        # Set here, not as class defaults: an instance's own attributes are read faster.
        self._done = False
        self.refused: StorageError | None = None
        # The records this transaction read (and saved since), by table and key: a save of
        # one of them writes only the columns that differ (see save).
        self._known: dict[tuple[str, Any], Any] = {}

    # -- helpers ----------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._done or self.refused is not None:
            self._ended()

    def _ended(self) -> NoReturn:
        if self._done:
            raise StorageError("this transaction has ended; open a new one")
        raise StorageError(
            "a write of this transaction was refused, so it can only end (rolled back)"
        ) from self.refused

    def _table(self, kind: RecordKind[Any]) -> TableSQL:
        if self._done or self.refused is not None:
            self._ended()
        try:
            table = BY_NAME[kind.name]
        except (AttributeError, KeyError, TypeError):
            raise StorageError(f"{kind!r} is not a kind this store keeps") from None
        if table.kind is not kind and table.kind != kind:  # not one of licensekit's own
            raise StorageError(f"{kind!r} is not a kind this store keeps")
        return table

    def _run(self, sql: str, params: Sequence[Any], doing: str) -> sqlite3.Cursor:
        try:
            return self._connection.execute(sql, params)
        except (sqlite3.Error, UnicodeEncodeError, OverflowError) as e:
            raise self._failed(e, doing) from e

    def _failed(
        self, error: sqlite3.Error | UnicodeEncodeError | OverflowError, doing: str
    ) -> StorageError:
        """The error to raise for a statement that failed with the driver's *error*."""
        if isinstance(error, UnicodeEncodeError | OverflowError):
            return binding_error(error)
        if not self._connection.in_transaction:
            # SQLite rolled the whole transaction back (a full disk, say): nothing may run
            # after it, or it would run outside any transaction.
            self._done = True
        return translate(error, doing)

    def _rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """Run a read; text that is not valid Unicode matches nothing instead of failing."""
        try:
            return self._run(sql, params, "a read").fetchall()
        except StorageError as e:
            if isinstance(e.__cause__, UnicodeEncodeError):
                return []
            raise

    def _decode(self, table: TableSQL, rows: Iterable[Row]) -> list[Any]:
        return decode(table, rows)

    def _encode(self, table: TableSQL, fields: tuple[str, ...], values: Iterable[Any]) -> Row:
        encoders = table.encoders.get(fields) or [table.mapper.encoders[f] for f in fields]
        return tuple([encode(v) for encode, v in zip(encoders, values, strict=True)])

    def _wanted(self, table: TableSQL, fields: tuple[str, ...], values: Iterable[Any]) -> list[Row]:
        """The distinct encoded value tuples of *values* that have one value per field."""
        width = len(fields)
        return list(
            dict.fromkeys(self._encode(table, fields, v) for v in values if len(v) == width)
        )

    def _size(self, width: int) -> int:
        return rows_per_statement(width, self._max_variables)

    def _chunked(
        self, sql: Callable[[int], str], rows: Sequence[Row], width: int, doing: str
    ) -> Iterator[sqlite3.Cursor]:
        """Run *sql* over *rows*, a chunk per statement; yield each statement's cursor.

        Text that is not valid Unicode (a lone surrogate) matches nothing stored: a chunk
        holding some is run again without it.
        """
        for chunk in chunks(rows, self._size(width)):
            try:
                yield self._run(sql(len(chunk)), flat(chunk), doing)
            except StorageError as e:
                if not isinstance(e.__cause__, UnicodeEncodeError):
                    raise
                valid = [row for row in chunk if bindable(row)]
                if valid:
                    yield self._run(sql(len(valid)), flat(valid), doing)

    def _encode_record(self, table: TableSQL, record: Any) -> Row:
        """The encoded *record*, which is of the kind's type."""
        try:
            return table.mapper.encode(record)
        except (AttributeError, TypeError, ValueError) as e:
            raise StorageError(
                f"one of the {table.kind.name} holds a value of a wrong type: {e}"
            ) from e

    def _key(self, table: TableSQL, row: Row) -> tuple[Any, ...]:
        return tuple(row[p] for p in table.key_positions)

    # -- reads ------------------------------------------------------------------------------

    def lock(self, scopes: Collection[str]) -> bool:
        """Nothing to do: every transaction holds the database's write lock from its start.

        The store begins each transaction with ``BEGIN IMMEDIATE``, which takes SQLite's one
        write lock, so transactions that would lock a common scope already run one after
        the other, and nothing read before changed (see
        :meth:`licensekit.storage.Transaction.lock`).
        """
        if self._done or self.refused is not None:  # as _check_open, one call less
            self._ended()
        return False

    def read(self, queries: Sequence[Query[Any]]) -> list[list[Any]]:
        """Run every look-up, a chunk of values per statement; see the port's ``read``.

        This is the hot path of every use case, written for speed: one value per look-up
        (the usual case) binds its values and decodes its rows without further calls.
        """
        if self._done or self.refused is not None:
            self._ended()  # refused after the block even with no queries
        execute = self._execute
        results: list[list[Any]] = []
        for query in queries:
            kind = query.kind
            table = BY_NAME.get(getattr(kind, "name", None))  # type: ignore[arg-type]
            if table is None or table.kind is not kind:
                table = self._table(kind)
            fields, values = query.fields, query.values
            one = table.find_one.get(fields)
            if one is None:
                raise StorageError(f"the {table.table} are not looked up by {fields}")
            if len(values) == 1 and len(values[0]) == len(fields):  # the usual case
                sql, encoders, plain = one
                value = values[0]
                params = value if plain else [e(v) for e, v in zip(encoders, value, strict=True)]
                try:
                    rows = execute(sql, params).fetchall()
                except UnicodeEncodeError:  # a lone surrogate: it matches nothing stored
                    rows = []
                except (sqlite3.Error, OverflowError) as e:
                    raise self._failed(e, "a read") from e
                if not rows:
                    results.append([])
                    continue
                if len(rows) == 1:
                    try:
                        record = table.mapper.decode(rows[0])
                    except UNREADABLE as e:
                        raise unreadable(table, e) from e
                    results.append([record])
                    if len(self._known) < KNOWN_RECORDS:  # as _remember, one call less
                        self._known[table.table, table.key_of(record)] = record
                    else:
                        self._remember(table, (record,))
                    continue
            elif len(fields) == 1 and one[2] and len(values) <= _FEW_VALUES:
                # A few values of one field stored as they are (the activation's two
                # throttles): a statement each, which SQLite runs faster than an IN list of
                # so few (it first sorts the list's values into a temporary index).
                sql, decode_row = one[0], table.mapper.decode
                asked: set[Any] = set()
                found: list[Any] = []
                for value in values:
                    if len(value) != 1 or value[0] in asked:
                        continue
                    asked.add(value[0])
                    try:
                        rows = execute(sql, value).fetchall()
                    except UnicodeEncodeError:  # a lone surrogate: it matches nothing stored
                        continue
                    except (sqlite3.Error, OverflowError) as e:
                        raise self._failed(e, "a read") from e
                    try:
                        found += [decode_row(row) for row in rows]
                    except UNREADABLE as e:
                        raise unreadable(table, e) from e
                results.append(found)
                if found:
                    self._remember(table, found)
                continue
            else:
                rows = self._find_rows(table, fields, values)
            found = decode(table, rows)
            results.append(found)
            self._remember(table, found)
        return results

    def _find_rows(
        self, table: TableSQL, fields: tuple[str, ...], values: Sequence[Sequence[Any]]
    ) -> list[Row]:
        """The rows of *table* whose *fields* hold one of *values*, a chunk per statement."""
        wanted = self._wanted(table, fields, values)
        find = functools.partial(table.find, fields)
        return [
            row
            for cursor in self._chunked(find, wanted, len(fields), "a read")
            for row in cursor.fetchall()
        ]

    # -- writes -----------------------------------------------------------------------------

    def add(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """Insert records, a chunk per statement; see the port's ``add``."""
        try:  # as _refusing does, without its call: an insert is on every hot path
            table = self._table(kind)
            if len(records) == 1 and type(records[0]) is kind.type:  # the usual case, inline
                try:
                    row = table.mapper.encode(records[0])
                except (AttributeError, TypeError, ValueError) as e:
                    raise StorageError(
                        f"one of the {kind.name} holds a value of a wrong type: {e}"
                    ) from e
                try:
                    self._execute(table.insert_one, row)
                except (sqlite3.Error, UnicodeEncodeError, OverflowError) as e:
                    raise self._failed(e, "adding records") from e
                return
            for chunk, bad in self._encoded_chunks(table, records):
                if chunk:
                    self._run(table.insert(len(chunk)), flat(chunk), "adding records")
                if bad is not None:
                    raise bad
        except StorageError as e:
            self.refused = self.refused or e
            raise

    @refusing
    def save(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """Replace existing records, a chunk per statement; see the port's ``save``.

        Records this transaction read (or saved) are written narrowly: only the columns
        whose values differ, one statement per set of changed columns (so a batch whose
        records changed alike is one ``executemany``). Nothing can have changed them since
        they were read: every transaction of this store holds the write lock from its start.
        Any other record rewrites its row.
        """
        table = self._table(kind)
        if self._known and self._save_changes(table, records):
            return
        if self._known:
            self._forget(table, [table.key_of(r) for r in records if type(r) is kind.type])
        if len(records) == 1 and type(records[0]) is kind.type:  # the usual case
            row = self._encode_record(table, records[0])
            if self._run(table.update_one, row, "saving records").rowcount != 1:
                self._refuse(table, [row], True)
            return
        for rows, bad in self._encoded_chunks(table, records):
            for chunk in self._distinct(table, rows):
                self._replace(table, chunk, table.update(len(chunk)), table.update_one, True)
            if bad is not None:
                raise bad

    def put(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """Insert or replace records, a chunk per statement; see the port's ``put``.

        Records this transaction read (or saved) exist: they are written narrowly, as by
        :meth:`save` (a count in a throttle's record changes one column of five).
        """
        try:  # as _refusing does, without its call: the hourly count is on every activation
            table = self._table(kind)
            if self._known:
                if len(records) == 1 and table.writable_of is not None:
                    if self._save_one_change(table, records[0]):
                        return
                elif self._save_changes(table, records):
                    return
                self._forget(table, [table.key_of(r) for r in records if type(r) is kind.type])
            for chunk, bad in self._encoded_chunks(table, records):
                if chunk:
                    self._replace(table, chunk, table.upsert(len(chunk)), table.upsert_one, False)
                if bad is not None:
                    raise bad
        except StorageError as e:
            self.refused = self.refused or e
            raise
