"""The PostgreSQL store: several instances of a host's service on one database.

:class:`PostgresStore` keeps every record in one schema of a PostgreSQL database (15 or
newer), through psycopg 3 and its connection pool. :class:`AsyncPostgresStore` is the same
store for async code (:class:`licensekit.aio.AsyncLicenseKit`), on psycopg's async
connections and pool: both run one program, written once (the async one) and generated for
the other. Install them with the extra: ``pip install "licensekit-admin[postgres]"``.

How it keeps the storage port's promises with many processes writing at once:

* **No global lock.** Every transaction runs at READ COMMITTED. A use case names what it
  is about to change (``"account:<id>"``, ``"throttle:<key>"``...) and the store takes one
  transaction-scoped advisory lock per scope (``pg_advisory_xact_lock``), in a fixed order.
  Work for one business account is serialised; work for two accounts runs side by side.
  Since each statement at READ COMMITTED sees what was committed before it started,
  everything read after the lock is current.
* **Seats are claimed atomically**, by one guarded ``UPDATE`` (``seats_used + 1 <= seats``),
  which PostgreSQL re-checks on the newest row version when it had to wait, so seats are
  never oversold even by transactions that lock nothing in common; the schema's CHECK
  constraints refuse it too.
* **Busy is retried.** A deadlock (40P01), serialisation failure (40001), a lock wait past
  *lock_timeout* (55P03) and a connection lost before the commit all become
  :class:`~licensekit.exceptions.StorageBusy`, which licensekit's transaction runner
  retries, a bounded number of times with backoff. A connection lost *during* the commit is
  a :class:`~licensekit.exceptions.StorageError`: whether the commit happened is unknown.
* **Few round trips.** A transaction keeps its connection in pipeline mode: what answers
  nothing (``BEGIN``, locks, writes) travels with the next statement that answers something,
  and the ``COMMIT`` with the last writes. An activation makes 4 round trips.
* **Recovery.** A connection that failed is discarded and the pool's idle connections are
  checked, so once the server is back the store works again without being reopened.

The schema is created on first open and migrated forward in one transaction under an
advisory lock, so instances starting together migrate once; a schema made by a newer
licensekit is refused with :class:`~licensekit.exceptions.IncompatibleStore`, and so is a
schema that holds tables of licensekit's names that licensekit did not make. Tables of
other applications in the same schema or database are left untouched.
"""

from __future__ import annotations

import asyncio
import re
import threading
from typing import Any, Final
from urllib.parse import unquote

from licensekit._echo import echo
from licensekit.exceptions import StorageError
from licensekit.storage import KINDS, PROTOCOL_VERSION

try:
    import psycopg
    from psycopg import sql
    from psycopg_pool import AsyncConnectionPool, ConnectionPool, PoolTimeout
except ImportError as missing:  # pragma: no cover - the extra is installed in our tests
    raise ImportError(
        "the PostgreSQL store needs psycopg 3 and its pool: "
        'pip install "licensekit-admin[postgres]"'
    ) from missing

from licensekit.stores._pg_connections import Connections, TransactionBlock
from licensekit.stores._pg_connections_async import AsyncConnections, AsyncTransactionBlock
from licensekit.stores._pg_sql import tables_in
from licensekit.stores._pg_transaction import PostgresTransaction
from licensekit.stores._task_guard import TaskGuard

__all__ = ["AsyncPostgresStore", "PostgresStore"]

_Pool = ConnectionPool[psycopg.Connection[Any]]

_SCHEMA_NAME: Final = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _check_arguments(
    conninfo: str,
    *,
    schema: str,
    min_size: int,
    max_size: int,
    connect_timeout: float,
    lock_timeout: float,
    prepare_threshold: int | None,
) -> dict[str, Any]:
    """Refuse arguments out of range; return the pool's arguments (not yet opened).

    Raises:
        StorageError: Naming the argument and what it must be.
    """
    given: object = conninfo  # checked, whatever the annotations promise
    if not isinstance(given, str) or "\x00" in given:
        raise StorageError(f"conninfo must be a connection string, got {echo(conninfo)}")
    named: object = schema
    if not isinstance(named, str) or not _SCHEMA_NAME.fullmatch(named):
        raise StorageError(
            "schema must be 1 to 63 lower-case letters, digits and underscores, starting "
            f"with a letter or underscore, got {echo(schema)}"
        )
    try:
        psycopg.conninfo.conninfo_to_dict(conninfo)  # now, not after the pool's wait
    except psycopg.Error as e:
        raise StorageError(
            "the connection string cannot be read: " + _without(conninfo, str(e))
        ) from None
    threshold: object = prepare_threshold
    if threshold is not None and (type(threshold) is not int or threshold < 0):
        raise StorageError(
            f"prepare_threshold must be a whole number or None, got {echo(threshold)}"
        )
    for name, value in (("min_size", min_size), ("max_size", max_size)):
        if type(value) is not int or value < (0 if name == "min_size" else 1):
            raise StorageError(f"{name} must be a whole number, got {echo(value)}")
    if min_size > max_size:
        raise StorageError(f"min_size ({min_size}) is larger than max_size ({max_size})")
    for name, seconds in (("connect_timeout", connect_timeout), ("lock_timeout", lock_timeout)):
        number: object = seconds
        if isinstance(number, bool) or not isinstance(number, int | float) or number <= 0:
            raise StorageError(f"{name} must be a positive number of seconds, got {echo(seconds)}")
    return {
        "conninfo": conninfo,
        "min_size": min_size,
        "max_size": max_size,
        "timeout": float(connect_timeout),
        "kwargs": {
            "autocommit": True,
            "connect_timeout": max(1, round(connect_timeout)),
            "prepare_threshold": prepare_threshold,
        },
        "open": False,
        "name": f"licensekit-{schema}",
        # After an outage, the pool retries in the background with growing pauses (1, 2,
        # 4... s); its default of 5 minutes of those would keep a server that is back
        # waiting for the next one. Past this, a call that needs a connection makes one.
        "reconnect_timeout": float(connect_timeout),
    }


def _connections(
    kind: type[Connections] | type[AsyncConnections],
    pool: Any,
    shown: str,
    schema: str,
    connect_timeout: float,
    lock_timeout: float,
) -> Any:
    """The connections of a store of *schema* on *pool* (see :class:`Connections`)."""
    quoted = sql.Identifier(schema).as_string(None)
    lock_ms = max(1, round(lock_timeout * 1000))
    return kind(
        pool,
        schema=schema,
        quoted=quoted,
        tables=tables_in(quoted),
        namespace=f"licensekit:{schema}",
        # Two statements, since a pipeline sends one at a time; both ride with the first read.
        begin=("BEGIN ISOLATION LEVEL READ COMMITTED", f"SET LOCAL lock_timeout = {lock_ms}"),
        shown=shown,
        timeout=float(connect_timeout),
    )


class _ThreadGuard:
    """Refuses a transaction opened inside another of the same thread (it would wait on itself).

    The flag belongs to the thread that opens the block, which may end on another.
    """

    __slots__ = ("_local", "_open")

    def __init__(self, local: threading.local) -> None:
        self._local = local

    def enter(self) -> None:
        """Note a transaction opening in this thread; refuse a second one."""
        self._open: set[bool] = self._local.__dict__.setdefault("open", set())
        if self._open:
            raise StorageError("transactions cannot be nested (on this store)")
        self._open.add(True)

    def leave(self) -> None:
        """Note the transaction ended."""
        self._open.clear()


class PostgresStore:
    """A :class:`~licensekit.storage.Store` in one schema of a PostgreSQL database.

    Args:
        conninfo: A libpq connection string or URI (``"postgresql://host/db"``,
            ``"dbname=licensing"``).
        schema: The schema licensekit's tables live in, created if missing; keep several
            licensekit databases apart with several schemas. Lower-case letters, digits and
            underscores.
        min_size: Connections the pool keeps open.
        max_size: The most connections the pool opens; with several instances, keep their
            sum under the server's ``max_connections``.
        connect_timeout: Seconds a transaction waits for a free connection of the pool (or
            for a new one) before it fails with :class:`~licensekit.exceptions.StorageBusy`.
        lock_timeout: Seconds a statement waits for a lock (a scope another transaction
            holds) before the transaction fails with
            :class:`~licensekit.exceptions.StorageBusy`.
        create: With False, open only a schema licensekit has made; nothing is created
            (a schema of an older licensekit is still migrated forward).
        prepare_threshold: After how many runs on a connection a statement is prepared on
            the server (psycopg's setting of that name). None never prepares: use it behind
            a pooler in transaction mode that does not track prepared statements (PgBouncer
            before 1.22, or without ``max_prepared_statements``).

    Safe to share between threads; one store per process, each with its own pool.

    Raises:
        IncompatibleStore: The schema was made by a newer licensekit, or holds tables of
            licensekit's names that licensekit did not make (without *create*: holds no
            licensekit tables yet).
        StorageError: The server cannot be reached, or an argument is out of range.
    """

    protocol_version = PROTOCOL_VERSION

    def __init__(
        self,
        conninfo: str,
        *,
        schema: str = "licensekit",
        min_size: int = 1,
        max_size: int = 10,
        connect_timeout: float = 10.0,
        lock_timeout: float = 10.0,
        create: bool = True,
        prepare_threshold: int | None = 5,
    ) -> None:
        arguments = _check_arguments(
            conninfo,
            schema=schema,
            min_size=min_size,
            max_size=max_size,
            connect_timeout=connect_timeout,
            lock_timeout=lock_timeout,
            prepare_threshold=prepare_threshold,
        )
        pool: _Pool = ConnectionPool(**arguments)
        shown = _without_password(conninfo)
        try:
            pool.open(wait=min_size > 0, timeout=float(connect_timeout))
        except PoolTimeout as e:
            pool.close()
            raise StorageError(
                f"cannot connect to PostgreSQL at {shown} within {connect_timeout:g} s"
                + _why_not(conninfo, connect_timeout)
            ) from e
        self._start(pool, shown, schema, connect_timeout, lock_timeout, owns_pool=True)
        try:
            self._connections.open_schema(create)
        except BaseException:
            pool.close()
            raise

    @classmethod
    def _sharing(
        cls, pool: _Pool, shown: str, schema: str, *, lock_timeout: float = 10.0
    ) -> PostgresStore:
        """A store on *pool*, a pool of autocommit connections it shares and does not close.

        For the test kit, which opens a store per test on one pool per process.
        """
        store = cls.__new__(cls)
        store._start(pool, shown, schema, pool.timeout, lock_timeout, owns_pool=False)
        store._connections.open_schema(True)
        return store

    def _start(
        self,
        pool: _Pool,
        shown: str,
        schema: str,
        connect_timeout: float,
        lock_timeout: float,
        *,
        owns_pool: bool,
    ) -> None:
        self.schema = schema
        self._connections: Connections = _connections(
            Connections, pool, shown, schema, connect_timeout, lock_timeout
        )
        self._quoted = self._connections.quoted
        self._tables = self._connections.tables
        self._shown = shown
        self._lock = threading.Lock()
        self._local = threading.local()  # .open: a set holding True while a block is open
        self._pool = pool
        self._owns_pool = owns_pool

    def __repr__(self) -> str:
        return f"PostgresStore({self._shown!r}, schema={self.schema!r})"

    @property
    def schema_version(self) -> int:
        """The schema's version (the newest this licensekit knows, once open)."""
        return self._connections.schema_version()

    def transaction(self, *, durable: bool = True) -> TransactionBlock:
        """Open a transaction; see :meth:`licensekit.storage.Store.transaction`.

        With *durable* False the transaction commits with ``synchronous_commit = off``
        (``SET LOCAL``, sent with its ``BEGIN``): the server answers the ``COMMIT`` without
        waiting for its WAL to reach the disk, and its WAL writer flushes it shortly after.

        Raises:
            StorageBusy: No connection became free in time, a lock wait passed
                *lock_timeout*, or the connection was lost before the commit.
            StorageError: The store is closed, the commit failed, or a write was refused and
                the block ended without raising (nothing of the transaction was kept).
        """
        return TransactionBlock(self._connections, _ThreadGuard(self._local), durable)

    def close(self) -> None:
        """Close the pool; further transactions raise :class:`StorageError`."""
        with self._lock:
            if self._connections.closed:
                return
            self._connections.closed = True
        if self._owns_pool:
            self._pool.close()

    def dump(self) -> list[object]:
        """Return every record the store holds, kind by kind (for inspection in tests)."""
        records: list[object] = []
        with self.transaction() as tx:
            assert isinstance(tx, PostgresTransaction)  # noqa: S101 - for the type checker
            for kind in KINDS:
                table = self._tables[kind.name]
                rows = tx._fetch(f"{table.select} ORDER BY {', '.join(kind.key)}", ())
                records += [table.mapper.decode(row) for row in rows]
        return records


class AsyncPostgresStore:
    """An :class:`~licensekit.storage.AsyncStore` in one schema of a PostgreSQL database.

    Args:
        conninfo: As for :class:`PostgresStore`, and so are *schema*, *min_size*,
            *max_size*, *connect_timeout*, *lock_timeout*, *create* and
            *prepare_threshold*.
        schema: See *conninfo*.
        min_size: See *conninfo*.
        max_size: See *conninfo*.
        connect_timeout: See *conninfo*.
        lock_timeout: See *conninfo*.
        create: See *conninfo*.
        prepare_threshold: See *conninfo*.

    The same store as :class:`PostgresStore` (same schema, same rules, same SQL), on
    psycopg's async connections: a transaction waiting for the server holds no thread.
    Nothing is connected when it is made: :meth:`open` (or ``async with`` on the store, or
    the first transaction) opens the pool and checks and migrates the schema, in the event
    loop it will serve. Use one store per event loop.

    Raises:
        StorageError: An argument is out of range (at once); the server cannot be reached
            (when opening).
        IncompatibleStore: When opening, as for :class:`PostgresStore`.
    """

    protocol_version = PROTOCOL_VERSION

    def __init__(
        self,
        conninfo: str,
        *,
        schema: str = "licensekit",
        min_size: int = 1,
        max_size: int = 10,
        connect_timeout: float = 10.0,
        lock_timeout: float = 10.0,
        create: bool = True,
        prepare_threshold: int | None = 5,
    ) -> None:
        arguments = _check_arguments(
            conninfo,
            schema=schema,
            min_size=min_size,
            max_size=max_size,
            connect_timeout=connect_timeout,
            lock_timeout=lock_timeout,
            prepare_threshold=prepare_threshold,
        )
        self.schema = schema
        self._conninfo = conninfo
        self._shown = _without_password(conninfo)
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
            **arguments
        )
        self._wait = min_size > 0
        self._create = create
        self._connect_timeout = float(connect_timeout)
        self._connections: AsyncConnections = _connections(
            AsyncConnections, self._pool, self._shown, schema, connect_timeout, lock_timeout
        )
        self._opened = False
        self._opening: asyncio.Lock | None = None
        self._owns_pool = True

    @classmethod
    def _sharing(
        cls,
        pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]],
        shown: str,
        schema: str,
        *,
        lock_timeout: float = 10.0,
    ) -> AsyncPostgresStore:
        """A store on *pool*, an open pool it shares and does not close, in a made schema.

        For the test kit, which runs the suite through the async facade on the schemas of
        its synchronous stores.
        """
        store = cls.__new__(cls)
        store.schema = schema
        store._conninfo = ""
        store._shown = shown
        store._pool = pool
        store._wait = False
        store._create = False
        store._connect_timeout = pool.timeout
        store._connections = _connections(
            AsyncConnections, pool, shown, schema, pool.timeout, lock_timeout
        )
        store._opened = True
        store._opening = None
        store._owns_pool = False
        return store

    def __repr__(self) -> str:
        return f"AsyncPostgresStore({self._shown!r}, schema={self.schema!r})"

    @property
    def is_open(self) -> bool:
        """Whether :meth:`open` has opened the pool and the schema."""
        return self._opened

    async def open(self) -> None:
        """Open the pool and check and migrate the schema; once is enough.

        Raises:
            StorageError: The server cannot be reached within *connect_timeout*, or the
                store was closed.
            IncompatibleStore: As for :class:`PostgresStore`.
        """
        if self._opened:
            return
        if self._connections.closed:
            raise StorageError("the PostgreSQL store is closed")
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self.is_open:  # another task opened it while this one waited
                return
            try:
                await self._pool.open(wait=self._wait, timeout=self._connect_timeout)
            except PoolTimeout as e:
                await self._pool.close()
                why = await asyncio.to_thread(_why_not, self._conninfo, self._connect_timeout)
                raise StorageError(
                    f"cannot connect to PostgreSQL at {self._shown} within "
                    f"{self._connect_timeout:g} s{why}"
                ) from e
            await self._connections.open_schema(self._create)
            self._opened = True

    async def __aenter__(self) -> AsyncPostgresStore:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def schema_version(self) -> int:
        """The schema's version, read now (opening the store first)."""
        await self.open()
        return await self._connections.schema_version()

    def transaction(self, *, durable: bool = True) -> _OpeningBlock:
        """Open a transaction (``async with``); see :class:`~licensekit.storage.AsyncStore`.

        *durable* as for :meth:`PostgresStore.transaction`.

        Raises:
            StorageBusy: As for :meth:`PostgresStore.transaction`.
            StorageError: As for :meth:`PostgresStore.transaction`.
        """
        return _OpeningBlock(self, durable)

    async def aclose(self) -> None:
        """Close the pool; further transactions raise :class:`StorageError`."""
        if self._connections.closed:
            return
        self._connections.closed = True
        if self._owns_pool:
            await self._pool.close()

    async def dump(self) -> list[object]:
        """Return every record the store holds, kind by kind (for inspection in tests)."""
        records: list[object] = []
        async with self.transaction() as tx:
            for kind in KINDS:
                table = self._connections.tables[kind.name]
                rows = await tx._fetch(f"{table.select} ORDER BY {', '.join(kind.key)}", ())
                records += [table.mapper.decode(row) for row in rows]
        return records


class _OpeningBlock(AsyncTransactionBlock):
    """A transaction's block that opens its store first, if it is not open yet."""

    __slots__ = ("_store",)

    def __init__(self, store: AsyncPostgresStore, durable: bool) -> None:
        super().__init__(store._connections, TaskGuard(store), durable)
        self._store = store

    async def __aenter__(self) -> Any:
        if not self._store._opened:
            await self._store.open()
        return await super().__aenter__()


def _passwords(conninfo: str) -> list[str]:
    """The passwords *conninfo* may hold, as written and decoded, even if it cannot be read."""
    found = re.findall(r"password\s*=\s*'((?:[^'\\]|\\.)*)'|password\s*=\s*([^\s&]+)", conninfo)
    words = [quoted or bare for quoted, bare in found]
    if "://" in conninfo:
        authority = conninfo.partition("://")[2].partition("/")[0]
        for userinfo, at, _ in (authority.partition("@"), authority.rpartition("@")):
            if at:
                words.append(userinfo.partition(":")[2])
    return [text for raw in words if raw for text in {raw, unquote(raw)}]


def _without(conninfo: str, message: str) -> str:
    """*message* (of libpq), or a note in its place when it quotes a password of *conninfo*."""
    if any(password in message for password in _passwords(conninfo)):
        return "(libpq's reason is not shown, as it quotes the password)"
    return message.strip()


def _why_not(conninfo: str, timeout: float) -> str:
    """Why a connection to *conninfo* fails, as libpq says it (``": <reason>"``), or ``""``."""
    try:
        psycopg.connect(conninfo, connect_timeout=max(1, round(timeout))).close()
    except psycopg.Error as e:
        return ": " + _without(conninfo, str(e))
    return ""


def _without_password(conninfo: str) -> str:
    """*conninfo* as messages may show it: any password replaced by ``***``."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(conninfo)
    except psycopg.Error:
        return "(an unreadable connection string)"
    if "password" in params:
        params["password"] = "***"  # noqa: S105 - a mask, not a password
    return " ".join(f"{k}={v}" for k, v in params.items())
