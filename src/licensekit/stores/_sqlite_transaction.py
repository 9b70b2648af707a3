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
"""

from __future__ import annotations

import datetime as dt
import functools
import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, NoReturn, TypeVar

from licensekit._text import encodable
from licensekit.exceptions import DuplicateKey, IncompatibleStore, StorageBusy, StorageError
from licensekit.storage import Key, Query, RecordKind
from licensekit.stores._listing import Listing
from licensekit.stores._rows import encode_datetime
from licensekit.stores._sql import (
    BY_NAME,
    ROWS_PER_STATEMENT,
    TableSQL,
    chunks,
    rows_per_statement,
)
from licensekit.stores._updates import checked_update

__all__ = ["SQLiteTransaction", "decode", "translate"]

R = TypeVar("R")
Row = Sequence[Any]


def translate(error: sqlite3.Error, doing: str) -> StorageError:
    """Return the licensekit error for a driver *error* raised while *doing* something."""
    text = str(error)
    if isinstance(error, sqlite3.IntegrityError):
        if text.startswith("UNIQUE constraint failed: "):
            return DuplicateKey(_clash(text.removeprefix("UNIQUE constraint failed: ")))
        return StorageError(f"{doing} would break a rule of the database: {text}")
    code = getattr(error, "sqlite_errorcode", 0) & 0xFF
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StorageBusy(f"{doing}: the database stayed locked by another connection")
    return StorageError(f"{doing} failed in SQLite: {type(error).__name__}: {text}")


def _clash(constraint: str) -> str:
    """Say which fields a ``UNIQUE constraint failed: t.a, t.b`` clash was about."""
    columns = [c.strip().partition(".") for c in constraint.split(",")]
    table = BY_NAME.get(columns[0][0])
    fields = tuple(column for _, _, column in columns)
    if table is None:
        return f"a unique value clashes: {constraint}"
    if fields == table.kind.key:
        return f"one of the {table.table} already has this key ({', '.join(fields)})"
    return f"another of the {table.table} already has this {', '.join(fields)}"


_UNREADABLE = (ValueError, TypeError, KeyError)  # json.JSONDecodeError is a ValueError
"""What decoding a stored value this licensekit cannot read raises."""


def _unreadable(table: TableSQL, error: Exception) -> IncompatibleStore:
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
    except _UNREADABLE as e:
        raise _unreadable(table, e) from e


def _binding_error(error: UnicodeEncodeError | OverflowError) -> StorageError:
    """Return the error for a value sqlite3 cannot bind at all."""
    if isinstance(error, UnicodeEncodeError):
        return StorageError(f"cannot store text that is not valid Unicode: {error}")
    return StorageError(f"a number is too large for SQLite: {error}")


def _bindable(values: Iterable[Any]) -> bool:
    """False when a text value holds a lone surrogate: it can match nothing stored."""
    return all(encodable(v) for v in values if isinstance(v, str))


W = TypeVar("W", bound=Callable[..., Any])


_POSITIONAL = object()  # the default that says the argument came by keyword


def _refusing(write: W) -> W:
    """Make *write* (of a kind and one argument) note a refusal on its transaction, which ends.

    The usual call, by position, passes its two arguments on as they are: the writes are on
    the path of every use case, and ``*args, **kwargs`` would cost more. A call naming the
    argument (``add(kind, records=...)``) is passed on by keyword.
    """

    @functools.wraps(write)
    def refusing(self: SQLiteTransaction, kind: Any, what: Any = _POSITIONAL, **named: Any) -> Any:
        try:
            if what is _POSITIONAL:
                return write(self, kind, **named)
            return write(self, kind, what, **named)
        except StorageError as e:
            self.refused = self.refused or e
            raise

    return refusing  # type: ignore[return-value]


_FEW_VALUES = 3
"""Up to this many values of one field are looked up a statement each, not in an IN list."""

_KNOWN_RECORDS = 4096
"""The most records a transaction keeps for narrow saves (see SQLiteTransaction.save)."""


def _flat(rows: Iterable[Row]) -> list[Any]:
    return [value for row in rows for value in row]


class SQLiteTransaction(Listing[TableSQL]):
    """One transaction of a :class:`~licensekit.stores.sqlite.SQLiteStore`, on one connection.

    See :class:`licensekit.storage.Transaction` for what each operation promises.

    Attributes:
        refused: The error of the first write this transaction refused, or None. Once set,
            every call raises :class:`~licensekit.exceptions.StorageError`, and the store
            rolls the transaction back however its block ends.
    """

    def __init__(self, connection: sqlite3.Connection, max_variables: int) -> None:
        self._connection = connection
        # One cursor for the statements whose results are read at once (the hot paths):
        # connection.execute makes a new cursor for every statement.
        self._execute = connection.cursor().execute
        self._max_variables = max_variables
        self._sizes: dict[int, int] = {}
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
            return _binding_error(error)
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
        size = self._sizes.get(width)
        if size is None:
            size = self._sizes[width] = rows_per_statement(width, self._max_variables)
        return size

    def _chunked(
        self, sql: Callable[[int], str], rows: Sequence[Row], width: int, doing: str
    ) -> Iterator[sqlite3.Cursor]:
        """Run *sql* over *rows*, a chunk per statement; yield each statement's cursor.

        Text that is not valid Unicode (a lone surrogate) matches nothing stored: a chunk
        holding some is run again without it.
        """
        for chunk in chunks(rows, self._size(width)):
            try:
                yield self._run(sql(len(chunk)), _flat(chunk), doing)
            except StorageError as e:
                if not isinstance(e.__cause__, UnicodeEncodeError):
                    raise
                valid = [row for row in chunk if _bindable(row)]
                if valid:
                    yield self._run(sql(len(valid)), _flat(valid), doing)

    def _encoded_records(
        self, table: TableSQL, records: Sequence[Any]
    ) -> tuple[list[Row], StorageError | None]:
        """The encoded records up to the first one this kind cannot hold, and why it cannot."""
        kind, encode = table.kind, table.mapper.encode
        rows: list[Row] = []
        for record in records:
            if not isinstance(record, kind.type):
                return rows, StorageError(f"{record!r} is not one of the {kind.name}")
            try:
                rows.append(encode(record))
            except StorageError as e:
                return rows, e
            except (AttributeError, TypeError, ValueError) as e:
                return rows, StorageError(
                    f"one of the {kind.name} holds a value of a wrong type: {e}"
                )
        return rows, None

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
                    except _UNREADABLE as e:
                        raise _unreadable(table, e) from e
                    results.append([record])
                    if len(self._known) < _KNOWN_RECORDS:  # as _remember, one call less
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
                    except _UNREADABLE as e:
                        raise _unreadable(table, e) from e
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

    def _remember(self, table: TableSQL, records: Sequence[Any]) -> None:
        """Keep *records*, just read or written, for the saves of this transaction."""
        known = self._known
        if len(known) + len(records) > _KNOWN_RECORDS:
            known.clear()  # a bulk job: its saves write whole rows, as without this
            if len(records) > _KNOWN_RECORDS:
                return
        name, key_of = table.table, table.key_of
        for record in records:
            known[name, key_of(record)] = record

    def _forget(self, table: TableSQL, keys: Iterable[Any]) -> None:
        """Drop what is known of the records with *keys* (as :attr:`TableSQL.key_of` gives)."""
        known, name = self._known, table.table
        for key in keys:
            known.pop((name, key), None)

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
                    self._run(table.insert(len(chunk)), _flat(chunk), "adding records")
                if bad is not None:
                    raise bad
        except StorageError as e:
            self.refused = self.refused or e
            raise

    @_refusing
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

    def _save_changes(self, table: TableSQL, records: Sequence[Any]) -> bool:
        """Write only what changed in *records*, when each of them is known; say if done.

        False, with nothing written, when one of *records* was not read in this transaction,
        changes a key or fixed field (the full path then refuses it), is not of the kind, or
        comes twice: the caller then rewrites whole rows.
        """
        writable_of = table.writable_of
        if writable_of is None:
            return False
        if len(records) == 1:  # the usual case: one statement at most, nothing to group
            return self._save_one_change(table, records[0])
        known, name, kind_type = self._known, table.table, table.kind.type
        key_of, guarded_of, changes = table.key_of, table.guarded_of, table.writable_changes
        groups: dict[tuple[int, ...], list[Any]] = {}
        seen: set[Any] = set()
        for record in records:
            if type(record) is not kind_type:
                return False
            key = key_of(record)
            old = known.get((name, key))
            if old is None or key in seen or guarded_of(old) != guarded_of(record):
                return False
            seen.add(key)
            changed = changes(old, record)
            if changed:
                groups.setdefault(changed, []).append((record, writable_of(record), key))
        encoders, key_fields = table.writable_encoders, table.kind.key
        one_field_key = len(key_fields) == 1
        # The key as stored (a nullable key field keeps None and "" as sentinels): see _rows.
        plain_key = table.find_one[key_fields][2]
        for changed, group in groups.items():
            try:
                params = []
                for _, after, key in group:
                    stored_key = (key,) if one_field_key else key
                    if not plain_key:
                        stored_key = self._encode(table, key_fields, stored_key)
                    params.append((*[encoders[i](after[i]) for i in changed], *stored_key))
            except (AttributeError, TypeError, ValueError) as e:
                raise StorageError(
                    f"one of the {table.kind.name} holds a value of a wrong type: {e}"
                ) from e
            sql = table.update_columns(changed)
            try:
                if len(params) == 1:
                    written = self._connection.execute(sql, params[0]).rowcount
                else:
                    written = self._connection.executemany(sql, params).rowcount
            except (sqlite3.Error, UnicodeEncodeError, OverflowError) as e:
                raise self._failed(e, "saving records") from e
            if written != len(params):  # pragma: no cover - read in this transaction
                raise StorageError(f"a save of the {table.kind.name} found fewer records")
        for record in records:
            known[name, key_of(record)] = record
        return True

    def _save_one_change(self, table: TableSQL, record: Any) -> bool:
        """:meth:`_save_changes` of one record, without the grouping a batch needs."""
        if type(record) is not table.kind.type:
            return False
        key = table.key_of(record)
        old = self._known.get((table.table, key))
        if old is None or table.guarded_of(old) != table.guarded_of(record):
            return False
        changed = table.writable_changes(old, record)
        if changed:
            key_fields = table.kind.key
            stored_key = (key,) if len(key_fields) == 1 else key
            if not table.find_one[key_fields][2]:  # a nullable key field: see _rows
                stored_key = self._encode(table, key_fields, stored_key)
            encoders, names = table.writable_encoders, table.writable
            try:
                params = (*[encoders[i](getattr(record, names[i])) for i in changed], *stored_key)
            except (AttributeError, TypeError, ValueError) as e:
                raise StorageError(
                    f"one of the {table.kind.name} holds a value of a wrong type: {e}"
                ) from e
            try:
                written = self._execute(table.update_columns(changed), params).rowcount
            except (sqlite3.Error, UnicodeEncodeError, OverflowError) as e:
                raise self._failed(e, "saving records") from e
            if written != 1:  # pragma: no cover - read in this transaction
                raise StorageError(f"a save of the {table.kind.name} found fewer records")
        self._known[table.table, key] = record
        return True

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

    def _encoded_chunks(
        self, table: TableSQL, records: Sequence[Any]
    ) -> Iterator[tuple[list[Row], StorageError | None]]:
        """Encode *records* a statement's worth at a time, never a whole batch at once.

        Yields each chunk's rows up to the first record this kind cannot hold, and why it
        cannot; nothing more is yielded after such a record.
        """
        size = self._size(len(table.columns))
        for start in range(0, len(records), size):
            rows, bad = self._encoded_records(table, records[start : start + size])
            yield rows, bad
            if bad is not None:
                return

    def _distinct(self, table: TableSQL, rows: list[Row]) -> Iterator[list[Row]]:
        """Cut *rows* into chunks in which no key repeats (one ``UPDATE`` changes a row once)."""
        size = self._size(len(table.columns))
        chunk: list[Row] = []
        keys: set[tuple[Any, ...]] = set()
        for row in rows:
            key = self._key(table, row)
            if key in keys or len(chunk) == size:
                yield chunk
                chunk, keys = [], set()
            chunk.append(row)
            keys.add(key)
        if chunk:
            yield chunk

    def _replace(
        self, table: TableSQL, chunk: Sequence[Row], sql: str, one: str, must_exist: bool
    ) -> None:
        """Write *chunk* with *sql*, each row counted once when it was written.

        A row is not written when a fixed field differs from the stored record's (or, with
        *must_exist*, when there is no stored record): :meth:`_refuse` says which. A clash of
        a unique field fails the statement as a whole; the rows are then written again one
        by one, so that the first that cannot be written decides the error, as in order.
        """
        try:
            written = self._run(sql, _flat(chunk), "saving records").rowcount
        except DuplicateKey:
            if len(chunk) == 1:
                raise
            for row in chunk:
                if self._run(one, row, "saving records").rowcount != 1:
                    self._refuse(table, [row], must_exist)
            raise  # pragma: no cover - one of the rows failed again above
        if written != len(chunk):
            self._refuse(table, chunk, must_exist)

    def _refuse(self, table: TableSQL, rows: Sequence[Row], must_exist: bool) -> NoReturn:
        """Raise why the first of *rows* that was not written was refused."""
        kind = table.kind
        keys = list(dict.fromkeys(self._key(table, row) for row in rows))
        find = functools.partial(table.find, kind.key)
        stored: dict[tuple[Any, ...], Row] = {
            self._key(table, found): found
            for cursor in self._chunked(find, keys, len(kind.key), "a read")
            for found in cursor.fetchall()
        }
        position = table.position
        for row in rows:
            old = stored.get(self._key(table, row))
            if old is None:
                if must_exist:
                    key = kind.key_of(table.mapper.decode(row))
                    raise StorageError(f"none of the {kind.name} has the key {key!r}")
                continue
            changed = [f for f in kind.fixed if old[position[f]] != row[position[f]]]
            if changed:
                raise StorageError(
                    f"a save may not change the {', '.join(changed)} of one of the {kind.name}"
                )
        raise StorageError(f"a write of the {kind.name} changed fewer records than it should")

    @_refusing
    def delete(self, kind: RecordKind[Any], keys: Sequence[Key]) -> int:
        """Delete records by key, a chunk per statement; see the port's ``delete``."""
        table = self._table(kind)
        if self._known:
            self._forget(table, [k[0] if len(k) == 1 else tuple(k) for k in keys])
        wanted = self._wanted(table, kind.key, keys)
        cursors = self._chunked(table.delete, wanted, len(kind.key), "deleting records")
        return sum(cursor.rowcount for cursor in cursors)

    @_refusing
    def delete_expired(self, kind: RecordKind[Any], moment: dt.datetime) -> int:
        """Delete the records expired at *moment*; see the port's ``delete_expired``."""
        table = self._table(kind)
        if table.delete_expired is None:
            raise StorageError(f"the {kind.name} do not expire")
        sql = table.delete_expired
        self._known.clear()
        return self._run(sql, (encode_datetime(moment),), "deleting records").rowcount

    def update(
        self,
        kind: RecordKind[Any],
        keys: Sequence[Key],
        values: Mapping[str, Any],
        *,
        add: Mapping[str, int] | None = None,
    ) -> int:
        """Change many records alike, a chunk of keys per statement; see the port's ``update``."""
        try:
            return self._update(kind, keys, values, add)
        except StorageError as e:  # as _refusing does for the other writes
            self.refused = self.refused or e
            raise

    def _update(
        self,
        kind: RecordKind[Any],
        keys: Sequence[Key],
        values: Mapping[str, Any],
        add: Mapping[str, int] | None,
    ) -> int:
        table = self._table(kind)
        values, added = checked_update(kind, values, add)
        if not values and not added:
            return 0
        encoders = table.mapper.encoders
        try:
            head = [encoders[f](v) for f, v in values.items()] + list(added.values())
        except (AttributeError, TypeError, ValueError) as e:
            raise StorageError(f"one of the {kind.name} cannot hold a value: {e}") from e
        if self._known:
            self._forget(table, [k[0] if len(k) == 1 else tuple(k) for k in keys])
        # A key holding a lone surrogate matches nothing stored (as in a look-up).
        wanted = [k for k in self._wanted(table, kind.key, keys) if _bindable(k)]
        width = len(kind.key)
        size = max(1, min(ROWS_PER_STATEMENT, (self._max_variables - len(head)) // width))
        names, sums = tuple(values), tuple(added)
        changed = 0
        for chunk in chunks(wanted, size):
            sql = table.update_alike(names, sums, len(chunk))
            changed += self._run(sql, [*head, *_flat(chunk)], "updating records").rowcount
        return changed

    def increment(
        self, kind: RecordKind[Any], key: Key, field: str, by: int, *, cap: str | None = None
    ) -> bool:
        """Change a number within bounds in one statement; see the port's ``increment``."""
        try:
            table = self._table(kind)
            if field not in table.counters or (cap is not None and cap not in table.numbers):
                raise StorageError(f"{field} (up to {cap}) is not a number of the {kind.name}")
            if type(by) is not int:
                raise StorageError(f"an increment is a whole number, got {by!r}")
            key = tuple(key)
            if len(key) != len(kind.key):
                return False
            plain = table.find_one[kind.key][2]  # the key stored as it is (no sentinel)
            params = (by, *(key if plain else self._encode(table, kind.key, key)))
            if self._known:
                self._known.pop((table.table, key[0] if len(key) == 1 else key), None)
            try:
                changed: int = self._execute(table.increment(field, cap), params).rowcount
            except UnicodeEncodeError:  # a lone surrogate: no stored record has this key
                return False
            except (sqlite3.Error, OverflowError) as e:
                raise self._failed(e, "changing a number") from e
            return changed == 1
        except StorageError as e:  # as _refusing does for the other writes
            self.refused = self.refused or e
            raise
