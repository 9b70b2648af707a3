"""The PostgreSQL transaction's changes by key: delete, delete the expired, update, increment.

Each is one statement (the keys bound as one array per key field), sent at once with
whatever was queued before it, since its row count is the answer. A key holding text that
is not valid Unicode names no stored record: it is skipped, not an error. A change the store
refuses ends the transaction, as every refused write does.

Written once, async (:class:`AsyncKeyedChanges`); ``_pg_changes.py`` is generated from this
module by ``scripts/unasync.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import psycopg

from licensekit.exceptions import StorageError
from licensekit.storage import Key, RecordKind
from licensekit.stores._pg_errors import translate
from licensekit.stores._pg_rows import columns, valid
from licensekit.stores._pg_sql import PgTableSQL
from licensekit.stores._updates import checked_update

__all__ = ["AsyncKeyedChanges"]


class AsyncKeyedChanges:
    """The port's ``delete``, ``delete_expired``, ``update`` and ``increment`` in PostgreSQL.

    A part of :class:`~licensekit.stores._pg_transaction_async.AsyncPostgresTransaction`,
    which supplies the connection, how statements are queued and sent, and the encoding.
    """

    if TYPE_CHECKING:  # supplied by the transaction
        _connection: psycopg.AsyncConnection[Any]

        def _table(self, kind: RecordKind[Any]) -> PgTableSQL: ...
        def _encode(
            self, table: PgTableSQL, fields: Sequence[str], values: Iterable[Any]
        ) -> list[Any]: ...
        async def _queue(
            self,
            sql: str,
            params: Sequence[Any],
            doing: str,
            *,
            cursor: psycopg.AsyncCursor[Any] | None = None,
            prepare: bool | None = None,
        ) -> psycopg.AsyncCursor[Any]: ...
        async def _queue_read(
            self, sql: str, wanted: list[tuple[Any, ...]], width: int
        ) -> psycopg.AsyncCursor[Any] | None: ...
        async def _sync(self, doing: str) -> None: ...
        def _refusing(self, error: StorageError) -> NoReturn: ...

    async def delete(self, kind: RecordKind[Any], keys: Sequence[Key]) -> int:
        """Delete records by key in one statement; see the port's ``delete``."""
        table = self._table(kind)
        width = len(kind.key)
        try:
            wanted = list(
                dict.fromkeys(
                    tuple(self._encode(table, kind.key, k)) for k in keys if len(k) == width
                )
            )
        except StorageError as e:
            self._refusing(e)
        if not wanted:
            return 0
        cursor = await self._queue_read(
            table.delete_many, wanted, width
        )  # a lone surrogate: skipped
        if cursor is None:
            return 0
        await self._sync("deleting records")
        return cursor.rowcount

    async def delete_expired(self, kind: RecordKind[Any], moment: dt.datetime) -> int:
        """Delete the records expired at *moment*; see the port's ``delete_expired``."""
        table = self._table(kind)
        if table.delete_expired is None:
            self._refusing(StorageError(f"the {kind.name} do not expire"))
        if not isinstance(moment, dt.datetime):
            self._refusing(StorageError(f"expiry is compared with a datetime, got {moment!r}"))
        try:
            when = table.encoders[kind.expires or ""](moment)
        except StorageError as e:
            self._refusing(e)
        cursor = await self._queue(
            table.delete_expired, [when], "deleting records", cursor=self._connection.cursor()
        )
        await self._sync("deleting records")
        return cursor.rowcount

    async def update(
        self,
        kind: RecordKind[Any],
        keys: Sequence[Key],
        values: Mapping[str, Any],
        *,
        add: Mapping[str, int] | None = None,
    ) -> int:
        """Change many records alike in one ``UPDATE``; see the port's ``update``."""
        table = self._table(kind)
        width = len(kind.key)
        try:
            values, added = checked_update(kind, values, add)
            head = [*self._encode(table, tuple(values), values.values()), *added.values()]
            wanted = list(
                dict.fromkeys(
                    tuple(self._encode(table, kind.key, k)) for k in keys if len(k) == width
                )
            )
        except StorageError as e:
            self._refusing(e)
        if not wanted or not (values or added):
            return 0
        encodable = [w for w in wanted if all(valid(v) for v in w)]  # others match nothing
        if not encodable:
            return 0
        doing = "updating records"
        sql = table.update_alike(tuple(values), tuple(added))
        try:
            cursor = await self._queue(
                sql, [*head, *columns(encodable, width)], doing, cursor=self._connection.cursor()
            )
        except UnicodeEncodeError as e:  # a value to set holds a lone surrogate
            self._refusing(translate(e, doing))
        await self._sync(doing)
        return cursor.rowcount

    async def increment(
        self, kind: RecordKind[Any], key: Key, field: str, by: int, *, cap: str | None = None
    ) -> bool:
        """Change a number within bounds in one ``UPDATE``; see the port's ``increment``."""
        table = self._table(kind)
        if field not in table.counters or (cap is not None and cap not in table.numbers):
            self._refusing(
                StorageError(f"{field} (up to {cap}) is not a number of the {kind.name}")
            )
        if type(by) is not int:
            self._refusing(StorageError(f"an increment is a whole number, got {by!r}"))
        key = tuple(key)
        if len(key) != len(kind.key):
            return False
        values = self._encode(table, kind.key, key)
        params = [by, *values, by] + ([by] if cap is not None else [])
        doing = "changing a number"
        try:
            cursor = await self._queue(
                table.increment(field, cap), params, doing, cursor=self._connection.cursor()
            )
        except UnicodeEncodeError:  # a lone surrogate: no stored record has this key
            return False
        await self._sync(doing)
        return cursor.rowcount == 1
