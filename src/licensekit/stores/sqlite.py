"""The SQLite store: one database file, the embedded default.

:class:`SQLiteStore` keeps every record in one SQLite file, in WAL mode with foreign keys
enforced. Any number of threads and processes may share the file:

* Every transaction starts with ``BEGIN IMMEDIATE``, which takes the database's one write
  lock at once, so transactions run one after the other and
  :meth:`~licensekit.storage.Transaction.lock` has nothing left to do: a use case that reads
  free seats and then takes one cannot be overtaken by another process. Readers of other
  connections are not blocked (WAL).
* Writers take turns in a fair queue (``writer_queue``, on by default): before ``BEGIN
  IMMEDIATE`` a transaction locks a file beside the database, ``<database>-writer.lock``,
  with the kernel's ``flock``, which grants it to waiting connections (of any thread or
  process) in the order they asked, and unlocks it after ``COMMIT`` or ``ROLLBACK``.
  SQLite's own wait (sleeping longer and longer, then trying again) lets a writer that has
  just finished win again over writers that have waited longest: with 8 processes
  activating on one file the slowest activation took seconds without the queue and under
  a tenth of a second with it, for a quarter to a third less throughput at saturation
  (``benchmarks/README.md``). A process that dies releases its turn with it. The queue
  only orders writers, SQLite's lock still keeps them apart: a writer outside the queue (a
  store with it off, another tool) is safe, but waits as SQLite makes it wait. Opening the
  store (checking and migrating the schema) does not queue. Where the queue cannot be had,
  writers wait as SQLite makes them: without ``fcntl`` (Windows), and where the lock file
  cannot be made or opened (a read-only folder); :attr:`SQLiteStore.writer_queue_file`
  says whether they queue.
* A transaction that finds the lock taken waits for it (``busy_timeout``, 30 seconds by
  default) and only then fails, with :class:`~licensekit.exceptions.StorageBusy`.
* The schema enforces what must never happen even through a bug: a key's ``seats_used``
  between 0 and its seats, an invitation's activations within its maximum, one
  installation per computer and key, unique hashes, records that refer to others that exist
  (checked when the transaction commits).

Its SQL is generated from the record descriptions of :mod:`licensekit.storage` (see
:mod:`licensekit.stores._sql`): a table per kind, a column per field. A look-up, write or
delete of many records costs one statement per few hundred records, never one per record.
A write the store refuses ends the transaction: the storage port lets licensekit never
continue after one, so nothing of that transaction is kept, even if its block swallows the
error.

The schema is created on first open and migrated forward, in one transaction, when an older
licensekit made the file; a file made by a newer licensekit, or by something else, is refused
with :class:`~licensekit.exceptions.IncompatibleStore`. Every driver error becomes a
:class:`~licensekit.exceptions.StorageError` (a clash of unique keys a
:class:`~licensekit.exceptions.DuplicateKey`), with the driver's error as its cause.

Example:
    >>> import tempfile, pathlib
    >>> from licensekit.storage import USERS, Query
    >>> from licensekit.stores.sqlite import SQLiteStore
    >>> folder = tempfile.TemporaryDirectory()
    >>> store = SQLiteStore(pathlib.Path(folder.name) / "licensekit.db")
    >>> with store.transaction() as tx:
    ...     tx.read([Query(USERS, ("id",), (("usr_nobody",),))])
    [[]]
    >>> store.close(); folder.cleanup()
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Final, Literal, TypeVar

from licensekit._echo import echo, echo_path
from licensekit._text import encodable
from licensekit.exceptions import IncompatibleStore, StorageBusy, StorageError
from licensekit.storage import PROTOCOL_VERSION
from licensekit.stores._sql import TABLES, missing_columns
from licensekit.stores._sqlite_schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from licensekit.stores._sqlite_transaction import SQLiteTransaction, decode, translate
from licensekit.stores._writer_queue import WriterTurn, lock_file, open_turn

__all__ = ["SQLiteStore"]

T = TypeVar("T")
Synchronous = Literal["full", "normal"]

_RETRY_PAUSE: Final = 0.005  # seconds between two tries of a lock SQLite gave up on early
_MAX_VALUES: Final = 999
"""The most values one statement binds, whatever more the library allows (32,766 today).

A prepared statement of a write of many rows takes about 100 bytes per value in SQLite's
statement cache, where it stays: 500 invitations of 23 values each were a statement of over
1 MB. Statements of at most 999 values cost the same time per row (measured on bulk
invitations) and keep the cache small.
"""

# Every open store, so that their idle connections are closed before the process forks. A
# child that inherits an open SQLite connection inherits SQLite's record of the parent's file
# locks without the locks themselves; if the parent then closed its store, SQLite would
# believe it was the last user and delete the write-ahead log under the child.
_OPEN_STORES: weakref.WeakSet[SQLiteStore] = weakref.WeakSet()
# .files: the database files the current thread has a transaction open on.
_THREAD = threading.local()


def _before_fork() -> None:
    for store in list(_OPEN_STORES):
        store._close_idle()


if hasattr(os, "register_at_fork"):  # pragma: no branch - POSIX
    os.register_at_fork(before=_before_fork)


def _error_code(error: BaseException) -> int:
    return getattr(error, "sqlite_errorcode", 0) & 0xFF


class SQLiteStore:
    """A :class:`~licensekit.storage.Store` in one SQLite database file.

    Args:
        path: The database file; created, with its schema, if it does not exist. Its folder
            must exist.
        create: With False, open only a licensekit database that exists: a missing file is
            not created, and a file without licensekit's schema (an empty one, say) is
            refused and left untouched. For tools that must not turn a mistyped path into a
            new database.
        busy_timeout: How long, in seconds, a transaction waits for its turn and for
            another connection's write lock before it fails with
            :class:`~licensekit.exceptions.StorageBusy`.
        synchronous: ``"full"`` (the default) syncs the log to disk at every commit, so a
            committed activation survives a power cut; ``"normal"`` syncs only at
            checkpoints: faster, and still never corrupt, but the last commits before a
            power cut (not a process crash) may be lost. With ``"full"``, a transaction
            opened with ``durable=False`` commits as ``"normal"`` does (see
            :meth:`transaction`).
        cache_mb: The page cache of each pooled connection, in MiB (SQLite's own default is
            2). It only grows as pages are read; 16 keeps the upper levels and the hot leaves
            of a million installations' indexes in memory, so that an activation costs
            about the same in a large database as in a small one.
        writer_queue: Whether writers take turns in the fair queue of a lock file beside
            the database (see above), so that none waits much longer than the others. With
            False, SQLite alone decides who writes next, as it did before this option. The
            wait for a turn counts in *busy_timeout*.

    Safe to share between threads, and between processes that each open the file. A
    connection is taken from a small pool for each transaction and given back afterwards.
    After :func:`os.fork`, the child opens connections of its own.

    Attributes:
        protocol_version: The storage port version this store implements.
        path: The database file.

    Raises:
        IncompatibleStore: The file was made by a newer licensekit, or is not a licensekit
            database (without *create*: is not one yet).
        StorageError: The file cannot be opened or created (without *create*: does not
            exist), or an option is out of range.
    """

    protocol_version = PROTOCOL_VERSION

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 30.0,
        synchronous: Synchronous = "full",
        cache_mb: int = 16,
        create: bool = True,
        writer_queue: bool = True,
    ) -> None:
        if type(cache_mb) is not int or cache_mb < 1:  # True is an int, and no size
            raise StorageError(
                f"cache_mb must be a whole number of MiB from 1, got {echo(cache_mb)}"
            )
        if synchronous not in ("full", "normal"):
            raise StorageError(f"synchronous must be 'full' or 'normal', got {echo(synchronous)}")
        if isinstance(busy_timeout, bool) or not isinstance(busy_timeout, int | float):
            raise StorageError(
                f"busy_timeout must be a number of seconds, got {echo(busy_timeout)}"
            )
        if busy_timeout < 0:
            raise StorageError(f"busy_timeout must not be negative, got {busy_timeout!r}")
        if not isinstance(writer_queue, bool):
            raise StorageError(f"writer_queue must be True or False, got {echo(writer_queue)}")
        self.path = Path(path)
        self._shown = echo_path(self.path)  # a long path is cut in messages
        name = str(self.path)
        if "\x00" in name or not encodable(name, sys.getfilesystemencoding(), "surrogateescape"):
            raise StorageError(
                f"{self._shown} cannot name a file: it holds a NUL character or a lone surrogate"
            )
        self._busy_timeout = float(busy_timeout)
        self._pragmas = (
            "PRAGMA foreign_keys = ON",
            f"PRAGMA synchronous = {synchronous.upper()}",
            f"PRAGMA cache_size = -{cache_mb * 1024}",  # negative: in KiB
            "PRAGMA trusted_schema = OFF",
            # Deleted records (sessions, throttles) are overwritten, not left in free pages.
            "PRAGMA secure_delete = ON",
        )
        self._create = create
        # Connections set to commit without a disk sync (for transactions that need not be
        # durable); a "normal" store's commits never sync, so it sets none.
        self._relaxed: set[sqlite3.Connection] = set()
        self._relaxable = synchronous == "full"
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._all: list[sqlite3.Connection] = []
        self._pid = os.getpid()
        self._closed = False
        self._max_variables = 999  # SQLite's oldest limit, until the library is asked
        self._file = os.path.abspath(self.path)  # one file, however many stores are open on it
        # Without create, a connection opens the file read-write only if it exists.
        self._target = self.path if create else f"{Path(self._file).as_uri()}?mode=rw"
        # Each connection's own turn in the writers' queue (its own open file description),
        # once the file is known to be licensekit's: a refused file gets no lock file beside
        # it, and opening (and migrating) is left to SQLite's lock alone.
        self._turns: dict[sqlite3.Connection, WriterTurn] = {}
        self._queue: str | None = None
        _OPEN_STORES.add(self)
        connection = self._connect()
        try:
            self._open(connection)
        except BaseException:
            self._discard(connection)
            raise
        self._join_queue(connection, lock_file(name) if writer_queue else None)
        self._give_back(connection)

    def _join_queue(self, connection: sqlite3.Connection, queue: str | None) -> None:
        """Give *connection* a turn in the writers' queue of the lock file *queue*, if any.

        If the lock file cannot be had, the store goes without the queue.
        """
        turn = None if queue is None else open_turn(queue, self._file)
        if turn is not None:
            with self._lock:
                self._turns[connection] = turn
            self._queue = queue

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    # -- the pool of connections --------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(
                self._target,
                uri=not self._create,
                timeout=self._busy_timeout,
                isolation_level=None,  # BEGIN, COMMIT and ROLLBACK are the store's to say
                check_same_thread=False,  # the pool hands a connection to one thread at a time
                cached_statements=512,  # the statements of eleven kinds, at a few sizes
            )
        except sqlite3.Error as e:
            raise StorageError(f"cannot open the SQLite database {self._shown}: {e}") from e
        try:
            for pragma in self._pragmas:
                connection.execute(pragma)
        except sqlite3.Error as e:
            connection.close()
            if _error_code(e) == sqlite3.SQLITE_NOTADB:
                raise IncompatibleStore(
                    f"{self._shown} is not a SQLite database licensekit can open: {e}"
                ) from e
            raise translate(e, f"opening {self._shown}") from e
        turn = None if self._queue is None else open_turn(self._queue, self._file)
        with self._lock:
            self._all.append(connection)
            if turn is not None:
                self._turns[connection] = turn
        return connection

    def _take(self) -> sqlite3.Connection:
        with self._lock:
            if self._closed:
                raise StorageError("the SQLite store is closed")
            if self._pid != os.getpid():
                # In a forked child: the parent's connections share SQLite's locks with the
                # parent, so they are forgotten (never closed here) and new ones opened.
                self._pid = os.getpid()
                self._idle.clear()
                self._all.clear()
                self._turns.clear()  # their descriptors were closed after the fork
                self._relaxed.clear()
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def _give_back(self, connection: sqlite3.Connection) -> None:
        # A pooled connection never holds the write lock, whatever ended its transaction (a
        # signal between BEGIN and the block, an inspection that only read), nor its turn.
        try:
            self._rollback(connection)
        finally:
            turn = self._turns.get(connection)
            if turn is not None:
                turn.give_back()
        with self._lock:
            if connection in self._all:
                if not self._closed:
                    self._idle.append(connection)
                    return
                self._all.remove(connection)
        self._close(connection)

    def _discard(self, connection: sqlite3.Connection) -> None:
        with self._lock:
            if connection in self._all:
                self._all.remove(connection)
        self._close(connection)

    def _close(self, connection: sqlite3.Connection) -> None:
        """Close *connection*, out of the pool, and its turn in the writers' queue."""
        try:
            connection.close()
        finally:
            self._relaxed.discard(connection)
            turn = self._turns.pop(connection, None)
            if turn is not None:
                turn.close()

    def _close_idle(self) -> None:
        """Close the pooled connections no transaction is using (before a fork)."""
        with self._lock:
            if self._pid != os.getpid():
                return
            idle, self._idle = self._idle, []
            for connection in idle:
                self._all.remove(connection)
        for connection in idle:
            self._close(connection)

    def _patiently(self, step: Callable[[], T], doing: str, deadline: float | None = None) -> T:
        """Run *step*, again while another connection holds the lock, up to the busy timeout.

        *deadline* (by :func:`time.monotonic`) ends the wait earlier: the busy timeout
        counted from an earlier start.

        SQLite waits for a lock itself, but may give up early (while another process
        recovers the log, say); this waits out the rest of the timeout.

        Raises:
            StorageBusy: The lock stayed taken.
            IncompatibleStore: The file is not a SQLite database.
            StorageError: Another driver error.
        """
        if deadline is None:
            deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                return step()
            except sqlite3.OperationalError as e:
                if _error_code(e) not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                    raise translate(e, doing) from e
                if time.monotonic() >= deadline:
                    raise StorageBusy(
                        f"{doing}: {self._shown} stayed locked by another connection for "
                        f"more than {self._busy_timeout:g} s"
                    ) from e
                time.sleep(_RETRY_PAUSE)
            except sqlite3.DatabaseError as e:
                if isinstance(e, sqlite3.IntegrityError):
                    raise translate(e, doing) from e
                raise IncompatibleStore(
                    f"{self._shown} is not a SQLite database licensekit can open: {e}"
                ) from e

    def _begin(self, connection: sqlite3.Connection) -> None:
        """Take a turn in the writers' queue, then the write lock, within the busy timeout.

        The turn is given back by :meth:`_give_back` (or :meth:`_close`), whatever happens.

        Raises:
            StorageBusy: The writers ahead, or the write lock, kept it for too long.
        """
        turn = self._turns.get(connection)
        if turn is None:
            self._patiently(lambda: connection.execute("BEGIN IMMEDIATE"), "starting a transaction")
            return
        deadline = time.monotonic() + self._busy_timeout
        if not turn.take(self._busy_timeout):
            raise StorageBusy(
                f"starting a transaction: writers queued before this one kept {self._shown} "
                f"locked for more than {self._busy_timeout:g} s"
            )
        self._patiently(
            lambda: connection.execute("BEGIN IMMEDIATE"), "starting a transaction", deadline
        )

    # -- opening: the schema --------------------------------------------------------------

    def _open(self, connection: sqlite3.Connection) -> None:
        # Nothing is written before the file is known to be licensekit's (or new): a refused
        # file is left exactly as it was.
        version = self._patiently(lambda: self._version(connection), "reading the header")
        if version == 0 and not self._create:
            raise IncompatibleStore(
                f"{self._shown} holds no licensekit database yet; it was left untouched"
            )
        mode = self._patiently(
            lambda: connection.execute("PRAGMA journal_mode = WAL").fetchone(),
            "switching the database to WAL mode",
        )
        if mode is None or str(mode[0]).lower() != "wal":
            raise StorageError(f"cannot put {self._shown} in WAL mode (got {mode!r})")
        limit = connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        self._max_variables = min(limit, _MAX_VALUES)
        self._begin(connection)
        try:
            self._migrate(connection)
            missing = missing_columns(connection)
            if missing:
                raise IncompatibleStore(f"the tables of {self._shown} lack columns: {missing}")
            connection.execute("COMMIT")
        except BaseException as e:
            self._rollback(connection)
            if isinstance(e, sqlite3.Error):
                raise translate(e, "creating the schema") from e
            raise

    def _version(self, connection: sqlite3.Connection) -> int:
        """Return the file's schema version; refuse a file of others or of a newer licensekit."""
        application = connection.execute("PRAGMA application_id").fetchone()[0]
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        if application not in (0, APPLICATION_ID):
            raise IncompatibleStore(
                f"{self._shown} belongs to another application (application id {application:#x})"
            )
        if (
            application == 0
            and connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        ):
            raise IncompatibleStore(
                f"{self._shown} already holds tables that licensekit did not make"
            )
        if version > SCHEMA_VERSION:
            raise IncompatibleStore(
                f"{self._shown} has schema version {version}, made by a newer licensekit; "
                f"this version reads schema versions up to {SCHEMA_VERSION}"
            )
        return version

    def _migrate(self, connection: sqlite3.Connection) -> None:
        # Read again under the write lock: another process may have migrated meanwhile.
        version = self._version(connection)
        try:
            for step in MIGRATIONS[version:]:
                for statement in step:
                    connection.execute(statement)
            if version < SCHEMA_VERSION:
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        except sqlite3.Error as e:
            raise StorageError(
                f"migrating {self._shown} from schema version {version} to "
                f"{SCHEMA_VERSION} failed, nothing was changed: {e}"
            ) from e

    @property
    def schema_version(self) -> int:
        """The schema version of the file (the newest this licensekit knows, once open)."""
        with self._connection() as connection:
            return int(connection.execute("PRAGMA user_version").fetchone()[0])

    # -- transactions -------------------------------------------------------------------------

    def transaction(self, *, durable: bool = True) -> AbstractContextManager[SQLiteTransaction]:
        """Open a transaction; see :meth:`licensekit.storage.Store.transaction`.

        The write lock is taken when the block is entered, not by this call.

        With *durable* False on a ``synchronous="full"`` store, the commit does not wait for
        a disk sync (the connection runs it with ``PRAGMA synchronous = NORMAL``, set before
        ``BEGIN``, as SQLite allows it only outside a transaction): in WAL mode it is still
        atomic and at once visible to every connection, survives a crash of the process,
        and reaches the disk with the next synced commit or checkpoint; a power cut before
        then loses it whole, never part of it.

        Raises:
            StorageBusy: The writers queued before this one, or another connection holding
                the write lock, kept it for longer than the busy timeout.
            StorageError: The store is closed, a transaction of this thread is already open on
                the file, the commit failed, or a write was refused and the block ended
                without raising (nothing of the transaction was kept).
        """
        return _TransactionBlock(self, durable)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A pooled connection holding the write lock, for one transaction of this thread."""
        connection, files = self._hold()
        try:
            yield connection
        finally:
            self._release(connection, files)

    def _hold(self, durable: bool = True) -> tuple[sqlite3.Connection, set[str]]:
        """Take a pooled connection and the write lock; :meth:`_release` gives both back.

        The connection's commits sync to disk as the store says, or not, with *durable*
        False (see :meth:`transaction`).

        Returns:
            The connection, and the set of files this thread holds a transaction on (the
            block may end on another thread: it is this set the file leaves again).
        """
        files: set[str] = _THREAD.__dict__.setdefault("files", set())
        if self._file in files:
            # Waiting for the lock this thread holds would only end in StorageBusy, later.
            raise StorageError("transactions cannot be nested (on this database file)")
        connection = self._take()
        try:
            if self._relaxable and (connection in self._relaxed) is durable:
                self._sync_commits(connection, durable)
            self._begin(connection)
        except BaseException:
            self._give_back(connection)
            raise
        files.add(self._file)
        return connection, files

    def _sync_commits(self, connection: sqlite3.Connection, durable: bool) -> None:
        """Make *connection*'s commits sync to disk (FULL) or not (NORMAL), between transactions."""
        try:
            connection.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
        except sqlite3.Error as e:
            raise translate(e, "choosing how the transaction commits") from e
        if durable:
            self._relaxed.discard(connection)
        else:
            self._relaxed.add(connection)

    def _release(self, connection: sqlite3.Connection, files: set[str]) -> None:
        try:
            files.discard(self._file)
        finally:
            self._give_back(connection)

    def _rollback(self, connection: sqlite3.Connection) -> None:
        try:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
        except sqlite3.Error:
            # It cannot even roll back: drop it, and SQLite rolls back as it closes.
            self._discard(connection)

    def close(self) -> None:
        """Close the store; further transactions raise :class:`StorageError`.

        Idle connections are closed at once; a transaction still running in another thread
        finishes normally, and its connection is closed when it ends.
        """
        with self._lock:
            self._closed = True
            idle = self._idle if self._pid == os.getpid() else []
            self._idle = []
            for connection in idle:
                self._all.remove(connection)
        for connection in idle:
            self._close(connection)

    @property
    def writer_queue_file(self) -> Path | None:
        """The lock file in whose queue this store's writers take turns, or None.

        None when they do not queue: *writer_queue* was False, the platform has no
        ``fcntl`` (Windows), or the lock file could not be made or opened when the store
        opened (a read-only folder, something else at its name).
        """
        return None if self._queue is None else Path(self._queue)

    # -- inspection ---------------------------------------------------------------------------

    def dump(self) -> list[object]:
        """Return every record the store holds, kind by kind (for inspection in tests)."""
        records: list[object] = []
        with self._connection() as connection:
            for table in TABLES:
                rows = connection.execute(f"{table.select} ORDER BY {', '.join(table.kind.key)}")
                records += decode(table, rows)
        return records

    def integrity_check(self) -> list[str]:
        """Run SQLite's ``PRAGMA integrity_check`` and foreign key check; return the problems.

        An empty list means the file is sound.
        """
        with self._connection() as connection:
            problems = [
                str(r[0]) for r in connection.execute("PRAGMA integrity_check") if r[0] != "ok"
            ]
            problems += [
                f"foreign key of {r[0]} row {r[1]} points at a missing {r[2]}"
                for r in connection.execute("PRAGMA foreign_key_check")
            ]
        return problems


class _TransactionBlock:
    """The block of one :meth:`SQLiteStore.transaction`: begin on entry, commit on exit.

    A class rather than a generator-based context manager, which costs several calls more
    on every transaction.
    """

    __slots__ = ("_connection", "_durable", "_files", "_store", "_tx")

    def __init__(self, store: SQLiteStore, durable: bool) -> None:
        self._store = store
        self._durable = durable

    def __enter__(self) -> SQLiteTransaction:
        store = self._store
        self._connection, self._files = store._hold(self._durable)
        self._tx = SQLiteTransaction(self._connection, store._max_variables)
        return self._tx

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        store, connection, tx = self._store, self._connection, self._tx
        tx._done = True
        try:
            if kind is not None:
                store._rollback(connection)
                return  # the block's exception goes on unchanged
            if tx.refused is not None:
                store._rollback(connection)
                raise StorageError(
                    "a write of this transaction was refused, so nothing of it was kept"
                ) from tx.refused
            try:
                connection.execute("COMMIT")
            except sqlite3.Error as e:
                store._rollback(connection)
                raise translate(e, "committing the transaction") from e
        finally:
            store._release(connection, self._files)
