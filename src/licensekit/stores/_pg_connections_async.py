"""The PostgreSQL store's connections: taking one from the pool, the schema, a transaction.

Written once, async, for :class:`~licensekit.stores.postgres.AsyncPostgresStore`; the
synchronous module of the same name without ``_async``, which
:class:`~licensekit.stores.postgres.PostgresStore` uses, is generated from this one by
``scripts/unasync.py``. What each store does differently (opening its pool, when it opens
the schema, refusing nested transactions) stays in :mod:`licensekit.stores.postgres`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Final, Protocol

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from licensekit.exceptions import IncompatibleStore, StorageBusy, StorageError
from licensekit.stores._pg_schema import MIGRATIONS, SCHEMA_VERSION, TABLE_NAMES
from licensekit.stores._pg_sql import PgTableSQL
from licensekit.stores._pg_transaction_async import (
    AsyncPostgresTransaction,
    scope_lock_id,
    translate,
)

__all__ = ["NOT_DURABLE", "VERSIONS", "AsyncConnections", "AsyncTransactionBlock", "Guard"]

VERSIONS: Final = "licensekit_schema"
"""The table holding the schema's version, in the store's schema."""

NOT_DURABLE: Final = "SET LOCAL synchronous_commit = off"
"""Begins a transaction that need not be durable: its commit does not wait for the WAL flush.

PostgreSQL's asynchronous commit: the transaction is atomic and visible at once, and the
server's WAL writer flushes it within a few hundred milliseconds, or any later synchronous
commit with its own; a crash of the server before then loses it whole, never part of it.
"""


class Guard(Protocol):
    """Refuses a transaction opened inside another of the same caller (a thread, say)."""

    def enter(self) -> None:
        """Note a transaction opening; raise StorageError if one is open already."""

    def leave(self) -> None:
        """Note the transaction ended."""


class AsyncConnections:
    """One store's pool, and what every transaction and the schema code need to know.

    Args:
        pool: The pool, of autocommit connections.
        schema: The schema's name.
        quoted: The schema's name, quoted for SQL.
        tables: The statements of every table.
        namespace: What scope locks are hashed with (the schema's, so stores differ).
        begin: The statements that begin a transaction.
        shown: The connection string as messages show it (no password).
        timeout: Seconds to wait for a free connection.
    """

    def __init__(
        self,
        pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]],
        *,
        schema: str,
        quoted: str,
        tables: Mapping[str, PgTableSQL],
        namespace: str,
        begin: Sequence[str],
        shown: str,
        timeout: float,
    ) -> None:
        self.pool = pool
        self.schema = schema
        self.quoted = quoted
        self.tables = tables
        self.namespace = namespace
        self.begin = begin
        self.shown = shown
        self.timeout = timeout
        self.closed = False

    async def take(self) -> psycopg.AsyncConnection[Any]:
        """A connection of the pool, or StorageBusy when none becomes free in time."""
        if self.closed:
            raise StorageError("the PostgreSQL store is closed")
        try:
            return await self.pool.getconn(timeout=self.timeout)
        except PoolTimeout as e:
            raise StorageBusy(
                f"no connection to PostgreSQL at {self.shown} became free within "
                f"{self.timeout:g} s (all in use, or the server is unreachable)"
            ) from e

    async def give_back(self, connection: psycopg.AsyncConnection[Any]) -> None:
        """Return *connection* to the pool (which drops it if it is broken)."""
        if connection.broken or connection.closed:
            # The server went away: this one is dropped, and the idle ones are checked so
            # that the next transaction does not meet another dead connection.
            await self.pool.putconn(connection)
            if not self.closed:
                with contextlib.suppress(psycopg.Error):
                    await self.pool.check()
            return
        await self.pool.putconn(connection)

    async def rollback(self, connection: psycopg.AsyncConnection[Any]) -> None:
        """Roll back what *connection* holds, or close it if that fails."""
        try:
            if not connection.closed and connection.info.transaction_status != 0:  # not IDLE
                await connection.execute("ROLLBACK")
        except psycopg.Error:
            await connection.close()  # the pool drops a closed connection

    # -- the schema -------------------------------------------------------------------------

    async def open_schema(self, create: bool) -> None:
        """Check the schema's version and migrate it to this licensekit's.

        Raises:
            IncompatibleStore: The schema is another application's or a newer licensekit's
                (without *create*: it holds no licensekit tables yet).
            StorageError: The server refused.
        """
        connection = await self.take()
        try:
            try:
                version = await self.version(connection)
                if version == 0 and not create:
                    raise IncompatibleStore(
                        f"the schema {self.schema} holds no licensekit tables yet; nothing "
                        "was created"
                    )
                if version < SCHEMA_VERSION:
                    await self._migrate(connection)
            except psycopg.Error as e:
                await self.rollback(connection)
                raise translate(e, f"opening the schema {self.schema}") from e
            except BaseException:
                await self.rollback(connection)
                raise
        finally:
            await self.give_back(connection)

    async def version(self, connection: psycopg.AsyncConnection[Any]) -> int:
        """The schema's version; refuse a schema of others or of a newer licensekit."""
        versions = f"{self.quoted}.{VERSIONS}"
        found = await (await connection.execute("SELECT to_regclass(%s)", [versions])).fetchone()
        if found is None or found[0] is None:
            clashing = await (
                await connection.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = %s AND table_name = ANY(%s) ORDER BY table_name",
                    [self.schema, list(TABLE_NAMES)],
                )
            ).fetchall()
            if clashing:
                names = ", ".join(str(r[0]) for r in clashing)
                raise IncompatibleStore(
                    f"the schema {self.schema} already holds tables licensekit did not make "
                    f"({names}); choose another schema"
                )
            return 0
        row = await (
            await connection.execute(f"SELECT max(version) FROM {versions}")  # noqa: S608
        ).fetchone()
        version = int(row[0]) if row is not None and row[0] is not None else 0
        if version > SCHEMA_VERSION:
            raise IncompatibleStore(
                f"the schema {self.schema} has version {version}, made by a newer licensekit; "
                f"this version reads schema versions up to {SCHEMA_VERSION}"
            )
        return version

    async def _migrate(self, connection: psycopg.AsyncConnection[Any]) -> None:
        """Take the schema to this version in one transaction, under a lock of its own."""
        for statement in self.begin:
            await connection.execute(statement)
        await connection.execute(
            "SELECT pg_advisory_xact_lock(%s)", [scope_lock_id(self.namespace, "migrate")]
        )
        # CREATE SCHEMA IF NOT EXISTS needs the CREATE right on the database even when the
        # schema exists; a role that only owns its schema can migrate it all the same.
        found = await connection.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = %s", [self.schema]
        )
        if await found.fetchone() is None:
            await connection.execute(f"CREATE SCHEMA {self.quoted}")
        await connection.execute(
            f"CREATE TABLE IF NOT EXISTS {self.quoted}.{VERSIONS} ("
            "version integer PRIMARY KEY, migrated_at timestamptz NOT NULL DEFAULT now())"
        )
        version = await self.version(connection)  # again, under the lock: another may have
        for number in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[number]:
                await connection.execute(statement.replace("{schema}", self.quoted))
            await connection.execute(
                f"INSERT INTO {self.quoted}.{VERSIONS} (version) VALUES (%s)",  # noqa: S608
                [number + 1],
            )
        await connection.execute("COMMIT")

    async def schema_version(self) -> int:
        """The schema's version, read now."""
        connection = await self.take()
        try:
            return await self.version(connection)
        finally:
            await self.give_back(connection)


class AsyncTransactionBlock:
    """The block of one transaction: take a connection and begin; commit or roll back.

    With *durable* False the transaction also sets :data:`NOT_DURABLE` (queued with the
    ``BEGIN``: no round trip of its own).
    """

    __slots__ = ("_connection", "_connections", "_durable", "_guard", "_tx")

    def __init__(self, connections: AsyncConnections, guard: Guard, durable: bool = True) -> None:
        self._connections = connections
        self._guard = guard
        self._durable = durable

    async def __aenter__(self) -> AsyncPostgresTransaction:
        connections = self._connections
        self._guard.enter()
        try:
            connection = await connections.take()
        except BaseException:
            self._guard.leave()
            raise
        try:
            # BEGIN is queued, and sent with the transaction's first read.
            begin = connections.begin if self._durable else (*connections.begin, NOT_DURABLE)
            self._tx = AsyncPostgresTransaction(
                connection, connections.tables, connections.namespace, begin
            )
            await self._tx.start()
        except BaseException as e:
            self._guard.leave()
            await connection.close()  # whatever it holds goes with it
            await connections.give_back(connection)
            if isinstance(e, psycopg.Error):
                raise translate(e, "starting a transaction") from e
            raise
        self._connection = connection
        return self._tx

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        connection, tx = self._connection, self._tx
        try:
            if kind is not None:
                await tx.rollback()
                return  # the block's exception goes on unchanged
            if tx.refused is not None:
                await tx.rollback()
                raise StorageError(
                    "a write of this transaction was refused, so nothing of it was kept"
                ) from tx.refused
            await tx.commit()
        finally:
            self._guard.leave()
            await self._connections.give_back(connection)
