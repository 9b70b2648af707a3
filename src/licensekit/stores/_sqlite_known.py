"""What a SQLite transaction remembers of the records it read, so that its saves write less.

A transaction of the SQLite store holds the database's write lock from its start, so a
record it read cannot change under it. :class:`KnownRecords` keeps such records (and those
saved since), by table and key, and a save or put of one of them writes only the columns
whose values differ: ``UPDATE t SET a = ? WHERE key = ?``. SQLite rewrites the index entry
of every indexed column a statement assigns, changed or not; assigning only what changed
spares them (a check-in's write was a whole row with its token hash's index entry; it is
``last_seen_at`` alone).

At most :data:`KNOWN_RECORDS` are kept: a bulk job that reads more forgets them all, and its
saves write whole rows, as without this memory.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from licensekit.exceptions import StorageError
from licensekit.stores._sql import TableSQL

if TYPE_CHECKING:
    from licensekit.stores._sqlite_errors import Row

__all__ = ["KNOWN_RECORDS", "KnownRecords"]

KNOWN_RECORDS = 4096
"""The most records a transaction keeps for narrow saves (see SQLiteTransaction.save)."""


class KnownRecords:
    """The narrow saves of a SQLite transaction: the records it read, and their changes.

    A part of :class:`~licensekit.stores._sqlite_transaction.SQLiteTransaction`, which
    supplies the connection, the statements' runner and the encoding of keys.
    """

    # The records this transaction read (and saved since), by table and key.
    _known: dict[tuple[str, Any], Any]

    if TYPE_CHECKING:  # supplied by the transaction
        _connection: sqlite3.Connection
        _execute: Callable[..., sqlite3.Cursor]

        def _encode(
            self, table: TableSQL, fields: tuple[str, ...], values: Iterable[Any]
        ) -> Row: ...
        def _failed(
            self, error: sqlite3.Error | UnicodeEncodeError | OverflowError, doing: str
        ) -> StorageError: ...

    def _remember(self, table: TableSQL, records: Sequence[Any]) -> None:
        """Keep *records*, just read or written, for the saves of this transaction."""
        known = self._known
        if len(known) + len(records) > KNOWN_RECORDS:
            known.clear()  # a bulk job: its saves write whole rows, as without this
            if len(records) > KNOWN_RECORDS:
                return
        name, key_of = table.table, table.key_of
        for record in records:
            known[name, key_of(record)] = record

    def _forget(self, table: TableSQL, keys: Iterable[Any]) -> None:
        """Drop what is known of the records with *keys* (as :attr:`TableSQL.key_of` gives)."""
        known, name = self._known, table.table
        for key in keys:
            known.pop((name, key), None)

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
        key_of, changes = table.key_of, table.writable_changes
        groups: dict[tuple[int, ...], list[Any]] = {}
        seen: set[Any] = set()
        for record in records:
            if type(record) is not kind_type:
                return False
            key = key_of(record)
            old = known.get((name, key))
            if old is None or key in seen:
                return False
            changed = changes(old, record)
            if changed is None:  # a key or fixed field changed: the full path refuses it
                return False
            seen.add(key)
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
            sql = table.update_columns(changed)[0]
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
        if old is None:
            return False
        changed = table.writable_changes(old, record)
        if changed is None:  # a key or fixed field changed: the full path refuses it
            return False
        if changed:
            key_fields = table.kind.key
            stored_key = (key,) if len(key_fields) == 1 else key
            if not table.find_one[key_fields][2]:  # a nullable key field: see _rows
                stored_key = self._encode(table, key_fields, stored_key)
            sql, values = table.update_columns(changed)
            try:
                params = (*values(record), *stored_key)
            except (AttributeError, TypeError, ValueError) as e:
                raise StorageError(
                    f"one of the {table.kind.name} holds a value of a wrong type: {e}"
                ) from e
            try:
                written = self._execute(sql, params).rowcount
            except (sqlite3.Error, UnicodeEncodeError, OverflowError) as e:
                raise self._failed(e, "saving records") from e
            if written != 1:  # pragma: no cover - read in this transaction
                raise StorageError(f"a save of the {table.kind.name} found fewer records")
        self._known[table.table, key] = record
        return True
