"""The SQLite transaction's changes by key: delete, delete the expired, update alike, increment.

Each runs a statement per chunk of keys (or one statement), never one per record, and
forgets what :class:`~licensekit.stores._sqlite_known.KnownRecords` kept of the records it
may change: their next save writes whole rows. A change the store refuses ends the
transaction, as every refused write does (:func:`~licensekit.stores._sqlite_refusals.refusing`).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from licensekit.exceptions import StorageError
from licensekit.storage import Key, RecordKind
from licensekit.stores._rows import encode_datetime
from licensekit.stores._sql import ROWS_PER_STATEMENT, TableSQL, chunks
from licensekit.stores._sqlite_errors import bindable
from licensekit.stores._sqlite_refusals import flat, refusing
from licensekit.stores._updates import checked_update

if TYPE_CHECKING:
    from licensekit.stores._sqlite_errors import Row

__all__ = ["KeyedChanges"]


class KeyedChanges:
    """The port's ``delete``, ``delete_expired``, ``update`` and ``increment`` in SQLite.

    A part of :class:`~licensekit.stores._sqlite_transaction.SQLiteTransaction`, which
    supplies how statements run and what it knows of the records it read.
    """

    if TYPE_CHECKING:  # supplied by the transaction
        refused: StorageError | None
        _known: dict[tuple[str, Any], Any]
        _max_variables: int
        _execute: Callable[..., sqlite3.Cursor]

        def _table(self, kind: RecordKind[Any]) -> TableSQL: ...
        def _forget(self, table: TableSQL, keys: Iterable[Any]) -> None: ...
        def _encode(
            self, table: TableSQL, fields: tuple[str, ...], values: Iterable[Any]
        ) -> Row: ...
        def _wanted(
            self, table: TableSQL, fields: tuple[str, ...], values: Iterable[Any]
        ) -> list[Row]: ...
        def _run(self, sql: str, params: Sequence[Any], doing: str) -> sqlite3.Cursor: ...
        def _chunked(
            self, sql: Callable[[int], str], rows: Sequence[Row], width: int, doing: str
        ) -> Iterator[sqlite3.Cursor]: ...
        def _failed(
            self, error: sqlite3.Error | UnicodeEncodeError | OverflowError, doing: str
        ) -> StorageError: ...

    @refusing
    def delete(self, kind: RecordKind[Any], keys: Sequence[Key]) -> int:
        """Delete records by key, a chunk per statement; see the port's ``delete``."""
        table = self._table(kind)
        if self._known:
            self._forget(table, [k[0] if len(k) == 1 else tuple(k) for k in keys])
        wanted = self._wanted(table, kind.key, keys)
        cursors = self._chunked(table.delete, wanted, len(kind.key), "deleting records")
        return sum(cursor.rowcount for cursor in cursors)

    @refusing
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
        wanted = [k for k in self._wanted(table, kind.key, keys) if bindable(k)]
        width = len(kind.key)
        size = max(1, min(ROWS_PER_STATEMENT, (self._max_variables - len(head)) // width))
        names, sums = tuple(values), tuple(added)
        changed = 0
        for chunk in chunks(wanted, size):
            sql = table.update_alike(names, sums, len(chunk))
            changed += self._run(sql, [*head, *flat(chunk)], "updating records").rowcount
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
