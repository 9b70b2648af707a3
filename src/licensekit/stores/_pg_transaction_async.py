"""One transaction of the PostgreSQL store: the ten operations of the storage port, in SQL.

Written once, async (:class:`AsyncPostgresTransaction`); ``_pg_transaction.py`` is generated
from this module by ``scripts/unasync.py``.

Rules of this module:

* Every statement comes from :mod:`licensekit.stores._pg_sql`; this module chooses one,
  binds the encoded values and decodes the rows. A look-up, write or delete of many records
  is one statement (one array per column), never one per record.
* Scopes are transaction-scoped advisory locks (``pg_advisory_xact_lock``) on a 64-bit hash
  of the store's schema and the scope, taken in a fixed order so that two transactions
  locking the same scopes cannot deadlock each other. They end with the transaction.
* A write PostgreSQL refuses aborts the transaction there anyway; this one also records it
  (:attr:`PostgresTransaction.refused`) and refuses every later call, as the port allows.
* **Round trips.** The connection runs in pipeline mode for the whole transaction. What
  answers nothing is queued and sent with the next statement that answers something:
  ``BEGIN`` goes with the first read, locks with the reads that follow them, and writes
  (``add``, ``save``, ``put``) with the next read or the commit. A ``read`` of several
  queries is one round trip. A clash of a queued write is therefore reported by a later call
  or by the commit, as the port allows; whether a save or put changed every record it
  should is checked before the ``COMMIT`` is sent.

The class is put together from parts in modules of their own: the statements in pipeline
mode, and the commit and rollback (:mod:`licensekit.stores._pg_pipeline_async`); the writes
of whole records, and why one was refused (:mod:`licensekit.stores._pg_writes_async`); the
changes by key (:mod:`licensekit.stores._pg_changes_async`); the pages and counts shared
with SQLite (:mod:`licensekit.stores._listing_async`); the driver's errors
(:mod:`licensekit.stores._pg_errors`). Here are the locks and the look-ups, and what the
parts share: the tables and the encoding of values.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, NoReturn

import psycopg

from licensekit.exceptions import StorageError
from licensekit.storage import Query, RecordKind
from licensekit.stores._listing_async import AsyncListing
from licensekit.stores._pg_changes_async import AsyncKeyedChanges
from licensekit.stores._pg_errors import scope_lock_id, translate
from licensekit.stores._pg_pipeline_async import AsyncPipelinedStatements
from licensekit.stores._pg_rows import decode_rows, encode_values
from licensekit.stores._pg_sql import PgTableSQL
from licensekit.stores._pg_writes_async import AsyncRecordWrites

__all__ = ["AsyncPostgresTransaction", "scope_lock_id", "translate"]


class AsyncPostgresTransaction(
    AsyncRecordWrites, AsyncKeyedChanges, AsyncPipelinedStatements, AsyncListing[PgTableSQL]
):
    """One transaction of a :class:`~licensekit.stores.postgres.PostgresStore`.

    See :class:`licensekit.storage.Transaction` for what each operation promises.

    Attributes:
        refused: The error of the first call the database refused, or None. Once set,
            every call raises :class:`~licensekit.exceptions.StorageError`, and the store
            rolls the transaction back however its block ends.
    """

    def __init__(
        self,
        connection: psycopg.AsyncConnection[Any],
        tables: Mapping[str, PgTableSQL],
        namespace: str,
        begin: Sequence[str],
    ) -> None:
        super().__init__(connection, begin)
        self._tables = tables
        self._namespace = namespace

    # -- helpers ----------------------------------------------------------------------------

    def _ended(self) -> NoReturn:
        if self._done:
            raise StorageError("this transaction has ended; open a new one")
        raise StorageError(
            "a call of this transaction was refused, so it can only end (rolled back)"
        ) from self.refused

    def _table(self, kind: RecordKind[Any]) -> PgTableSQL:
        if self._done or self.refused is not None:
            self._ended()
        table = self._tables.get(getattr(kind, "name", None))  # type: ignore[arg-type]
        if table is None or (table.kind is not kind and table.kind != kind):
            raise StorageError(f"{kind!r} is not a kind this store keeps")
        return table

    def _decode(self, table: PgTableSQL, rows: Iterable[Sequence[Any]]) -> list[Any]:
        return decode_rows(table, rows)

    def _encode(self, table: PgTableSQL, fields: Sequence[str], values: Iterable[Any]) -> list[Any]:
        return encode_values(table, fields, values)

    # -- scopes and reads -------------------------------------------------------------------

    async def lock(self, scopes: Collection[str]) -> bool:
        """Take an advisory transaction lock per scope; see the port's ``lock``.

        Returns True: other transactions run beside this one, so what it read before may
        have changed.
        """
        if self._done or self.refused is not None:
            self._ended()
        ids = sorted({scope_lock_id(self._namespace, scope) for scope in scopes})
        # Queued: the locks are taken before anything sent after them, at the next sync.
        if len(ids) == 1:
            await self._queue("SELECT pg_advisory_xact_lock(%s)", ids, "taking a lock")
        elif ids:
            await self._queue(
                "SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k",
                [ids],
                "taking locks",
            )
        return True

    async def read(self, queries: Sequence[Query[Any]]) -> list[list[Any]]:
        """Run every look-up, one statement each, all in one round trip; see the port."""
        if self._done or self.refused is not None:
            self._ended()
        sent: list[tuple[PgTableSQL, psycopg.AsyncCursor[Any]] | None] = []
        for query in queries:
            table = self._table(query.kind)
            fields, values = query.fields, query.values
            if fields not in table.lookups:
                raise StorageError(f"the {table.kind.name} are not looked up by {fields}")
            width = len(fields)
            wanted = list(
                dict.fromkeys(
                    tuple(self._encode(table, fields, v)) for v in values if len(v) == width
                )
            )
            cursor: psycopg.AsyncCursor[Any] | None = None
            if len(wanted) == 1:
                try:
                    cursor = await self._queue(
                        table.find_one[fields],
                        wanted[0],
                        "a read",
                        cursor=self._connection.cursor(),
                    )
                except UnicodeEncodeError:
                    cursor = None
            elif wanted:
                cursor = await self._queue_read(table.find_many[fields], wanted, width)
            sent.append(None if cursor is None else (table, cursor))
        if any(sent):
            await self._sync("a read")
        return [[] if s is None else self._decode(s[0], await s[1].fetchall()) for s in sent]
