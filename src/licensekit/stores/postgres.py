"""The PostgreSQL store: several instances of a host's service on one database.

:class:`PostgresStore` keeps every record in one schema of a PostgreSQL database (15 or
newer), through psycopg 3 and its connection pool. Install it with the extra:
``pip install "licensekit-admin[postgres]"``.

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

import contextlib
import re
import threading
from types import TracebackType
from typing import Any, Final
from urllib.parse import unquote

from licensekit._echo import echo
from licensekit.exceptions import IncompatibleStore, StorageBusy, StorageError
from licensekit.storage import KINDS, PROTOCOL_VERSION

try:
    import psycopg
    from psycopg import sql
    from psycopg_pool import ConnectionPool, PoolTimeout
except ImportError as missing:  # pragma: no cover - the extra is installed in the tests
    raise ImportError(
        "the PostgreSQL store needs psycopg 3 and its pool: "
        'pip install "licensekit-admin[postgres]"'
    ) from missing

from licensekit.stores._pg_schema import MIGRATIONS, SCHEMA_VERSION, TABLE_NAMES
from licensekit.stores._pg_sql import PgTableSQL, tables_in
from licensekit.stores._pg_transaction import PostgresTransaction, scope_lock_id, translate

__all__ = ["PostgresStore"]

_Pool = ConnectionPool[psycopg.Connection[Any]]

_SCHEMA_NAME: Final = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_VERSIONS: Final = "licensekit_schema"


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
                raise StorageError(
                    f"{name} must be a positive number of seconds, got {echo(seconds)}"
                )
        pool = ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            timeout=float(connect_timeout),
            kwargs={
                "autocommit": True,
                "connect_timeout": max(1, round(connect_timeout)),
                "prepare_threshold": prepare_threshold,
            },
            open=False,
            name=f"licensekit-{schema}",
            # After an outage, the pool retries in the background with growing pauses (1,
            # 2, 4... s); its default of 5 minutes of those would keep a server that is back
            # waiting for the next one. Past this, a call that needs a connection makes one.
            reconnect_timeout=float(connect_timeout),
        )
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
            self._open(create)
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
        store._open(True)
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
        self._quoted = sql.Identifier(schema).as_string(None)
        self._tables: dict[str, PgTableSQL] = tables_in(self._quoted)
        self._namespace = f"licensekit:{schema}"
        self._timeout = float(connect_timeout)
        lock_ms = max(1, round(lock_timeout * 1000))
        # Two statements, since a pipeline sends one at a time; both ride with the first read.
        self._begin = (
            "BEGIN ISOLATION LEVEL READ COMMITTED",
            f"SET LOCAL lock_timeout = {lock_ms}",
        )
        self._shown = shown
        self._closed = False
        self._lock = threading.Lock()
        self._local = threading.local()  # .open: a set holding True while a block is open
        self._pool = pool
        self._owns_pool = owns_pool

    def __repr__(self) -> str:
        return f"PostgresStore({self._shown!r}, schema={self.schema!r})"

    # -- connections ------------------------------------------------------------------------

    def _take(self) -> psycopg.Connection[Any]:
        if self._closed:
            raise StorageError("the PostgreSQL store is closed")
        try:
            return self._pool.getconn(timeout=self._timeout)
        except PoolTimeout as e:
            raise StorageBusy(
                f"no connection to PostgreSQL at {self._shown} became free within "
                f"{self._timeout:g} s (all in use, or the server is unreachable)"
            ) from e

    def _give_back(self, connection: psycopg.Connection[Any]) -> None:
        if connection.broken or connection.closed:
            # The server went away: this one is dropped, and the idle ones are checked so
            # that the next transaction does not meet another dead connection.
            self._pool.putconn(connection)
            if not self._closed:
                with contextlib.suppress(psycopg.Error):
                    self._pool.check()
            return
        self._pool.putconn(connection)

    def _rollback(self, connection: psycopg.Connection[Any]) -> None:
        try:
            if not connection.closed and connection.info.transaction_status != 0:  # not IDLE
                connection.execute("ROLLBACK")
        except psycopg.Error:
            connection.close()  # the pool drops a closed connection

    # -- opening: the schema ----------------------------------------------------------------

    def _open(self, create: bool) -> None:
        connection = self._take()
        try:
            try:
                version = self._version(connection)
                if version == 0 and not create:
                    raise IncompatibleStore(
                        f"the schema {self.schema} holds no licensekit tables yet; nothing "
                        "was created"
                    )
                if version < SCHEMA_VERSION:
                    self._migrate(connection)
            except psycopg.Error as e:
                self._rollback(connection)
                raise translate(e, f"opening the schema {self.schema}") from e
            except BaseException:
                self._rollback(connection)
                raise
        finally:
            self._give_back(connection)

    def _version(self, connection: psycopg.Connection[Any]) -> int:
        """The schema's version; refuse a schema of others or of a newer licensekit."""
        versions = f"{self._quoted}.{_VERSIONS}"
        found = connection.execute("SELECT to_regclass(%s)", [versions]).fetchone()
        if found is None or found[0] is None:
            clashing = connection.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = %s AND table_name = ANY(%s) ORDER BY table_name",
                [self.schema, list(TABLE_NAMES)],
            ).fetchall()
            if clashing:
                names = ", ".join(str(r[0]) for r in clashing)
                raise IncompatibleStore(
                    f"the schema {self.schema} already holds tables licensekit did not make "
                    f"({names}); choose another schema"
                )
            return 0
        row = connection.execute(f"SELECT max(version) FROM {versions}").fetchone()  # noqa: S608
        version = int(row[0]) if row is not None and row[0] is not None else 0
        if version > SCHEMA_VERSION:
            raise IncompatibleStore(
                f"the schema {self.schema} has version {version}, made by a newer licensekit; "
                f"this version reads schema versions up to {SCHEMA_VERSION}"
            )
        return version

    def _migrate(self, connection: psycopg.Connection[Any]) -> None:
        """Take the schema to this version in one transaction, under a lock of its own."""
        for statement in self._begin:
            connection.execute(statement)
        connection.execute(
            "SELECT pg_advisory_xact_lock(%s)", [scope_lock_id(self._namespace, "migrate")]
        )
        # CREATE SCHEMA IF NOT EXISTS needs the CREATE right on the database even when the
        # schema exists; a role that only owns its schema can migrate it all the same.
        if (
            connection.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = %s", [self.schema]
            ).fetchone()
            is None
        ):
            connection.execute(f"CREATE SCHEMA {self._quoted}")
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {self._quoted}.{_VERSIONS} ("
            "version integer PRIMARY KEY, migrated_at timestamptz NOT NULL DEFAULT now())"
        )
        version = self._version(connection)  # again, under the lock: another may have done it
        for number in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[number]:
                connection.execute(statement.replace("{schema}", self._quoted))
            connection.execute(
                f"INSERT INTO {self._quoted}.{_VERSIONS} (version) VALUES (%s)",  # noqa: S608
                [number + 1],
            )
        connection.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        """The schema's version (the newest this licensekit knows, once open)."""
        connection = self._take()
        try:
            return self._version(connection)
        finally:
            self._give_back(connection)

    # -- transactions -----------------------------------------------------------------------

    def transaction(self) -> _TransactionBlock:
        """Open a transaction; see :meth:`licensekit.storage.Store.transaction`.

        Raises:
            StorageBusy: No connection became free in time, a lock wait passed
                *lock_timeout*, or the connection was lost before the commit.
            StorageError: The store is closed, the commit failed, or a write was refused and
                the block ended without raising (nothing of the transaction was kept).
        """
        return _TransactionBlock(self)

    def close(self) -> None:
        """Close the pool; further transactions raise :class:`StorageError`."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._owns_pool:
            self._pool.close()

    # -- inspection -------------------------------------------------------------------------

    def dump(self) -> list[object]:
        """Return every record the store holds, kind by kind (for inspection in tests)."""
        records: list[object] = []
        with self.transaction() as tx:
            for kind in KINDS:
                table = self._tables[kind.name]
                rows = tx._fetch(f"{table.select} ORDER BY {', '.join(kind.key)}", ())
                records += [table.mapper.decode(row) for row in rows]
        return records


class _TransactionBlock:
    """The block of one :meth:`PostgresStore.transaction`: begin on entry, commit on exit."""

    __slots__ = ("_connection", "_open", "_store", "_tx")

    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    def __enter__(self) -> PostgresTransaction:
        store = self._store
        # A flag of the thread that opens the block (which may end on another thread).
        self._open: set[bool] = store._local.__dict__.setdefault("open", set())
        if self._open:
            raise StorageError("transactions cannot be nested (on this store)")
        connection = store._take()
        try:
            # BEGIN is queued, and sent with the transaction's first read.
            self._tx = PostgresTransaction(
                connection, store._tables, store._namespace, store._begin
            )
        except BaseException as e:
            connection.close()  # whatever it holds goes with it
            store._give_back(connection)
            if isinstance(e, psycopg.Error):
                raise translate(e, "starting a transaction") from e
            raise
        self._connection = connection
        self._open.add(True)
        return self._tx

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        store, connection, tx = self._store, self._connection, self._tx
        try:
            if kind is not None:
                tx.rollback()
                return  # the block's exception goes on unchanged
            if tx.refused is not None:
                tx.rollback()
                raise StorageError(
                    "a write of this transaction was refused, so nothing of it was kept"
                ) from tx.refused
            tx.commit()
        finally:
            self._open.clear()
            store._give_back(connection)


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
