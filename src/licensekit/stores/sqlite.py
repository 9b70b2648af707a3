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
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Final, Literal

from licensekit._echo import echo, echo_path
from licensekit._text import encodable
from licensekit.exceptions import IncompatibleStore, StorageError
from licensekit.storage import PROTOCOL_VERSION
from licensekit.stores._sql import TABLES, missing_columns
from licensekit.stores._sqlite_pool import ConnectionPool, Link
from licensekit.stores._sqlite_schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from licensekit.stores._sqlite_transaction import SQLiteTransaction, decode, translate
from licensekit.stores._writer_queue import lock_file

__all__ = ["SQLiteStore"]

Synchronous = Literal["full", "normal"]

_MAX_VALUES: Final = 999
"""The most values one statement binds, whatever more the library allows (32,766 today).

A prepared statement of a write of many rows takes about 100 bytes per value in SQLite's
statement cache, where it stays: 500 invitations of 23 values each were a statement of over
1 MB. Statements of at most 999 values cost the same time per row (measured on bulk
invitations) and keep the cache small.
"""


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
        self._create = create
        self._max_variables = 999  # SQLite's oldest limit, until the library is asked
        self._file = os.path.abspath(self.path)  # one file, however many stores are open on it
        # Without create, a connection opens the file read-write only if it exists.
        self._pool = ConnectionPool(
            self.path if create else f"{Path(self._file).as_uri()}?mode=rw",
            uri=not create,
            file=self._file,
            shown=self._shown,
            busy_timeout=self._busy_timeout,
            pragmas=(
                "PRAGMA foreign_keys = ON",
                f"PRAGMA synchronous = {synchronous.upper()}",
                f"PRAGMA cache_size = -{cache_mb * 1024}",  # negative: in KiB
                "PRAGMA trusted_schema = OFF",
                # Deleted records (sessions, throttles) are overwritten, not left in free pages.
                "PRAGMA secure_delete = ON",
            ),
            # A "normal" store's commits never sync, so durable=False changes nothing there.
            relaxable=synchronous == "full",
        )
        # Each connection gets its own turn in the writers' queue once the file is known to
        # be licensekit's: a refused file gets no lock file beside it, and opening (and
        # migrating) is left to SQLite's lock alone.
        link = self._pool.connect(queued=False)
        try:
            self._open(link)
        except BaseException:
            self._pool.discard(link)
            raise
        self._pool.join_queue(link, lock_file(name) if writer_queue else None)
        self._pool.give_back(link)

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    # -- opening: the schema --------------------------------------------------------------

    def _open(self, link: Link) -> None:
        # Nothing is written before the file is known to be licensekit's (or new): a refused
        # file is left exactly as it was.
        pool, connection = self._pool, link.connection
        version = pool.patiently(lambda: self._version(connection), "reading the header")
        if version == 0 and not self._create:
            raise IncompatibleStore(
                f"{self._shown} holds no licensekit database yet; it was left untouched"
            )
        mode = pool.patiently(
            lambda: connection.execute("PRAGMA journal_mode = WAL").fetchone(),
            "switching the database to WAL mode",
        )
        if mode is None or str(mode[0]).lower() != "wal":
            raise StorageError(f"cannot put {self._shown} in WAL mode (got {mode!r})")
        limit = connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        self._max_variables = min(limit, _MAX_VALUES)
        pool.begin(link)
        try:
            self._migrate(connection)
            missing = missing_columns(connection)
            if missing:
                raise IncompatibleStore(f"the tables of {self._shown} lack columns: {missing}")
            connection.execute("COMMIT")
        except BaseException as e:
            pool.rollback(link)
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
        link, files = self._pool.hold()
        try:
            yield link.connection
        finally:
            self._pool.release(link, files)

    def close(self) -> None:
        """Close the store; further transactions raise :class:`StorageError`.

        Idle connections are closed at once; a transaction still running in another thread
        finishes normally, and its connection is closed when it ends.
        """
        self._pool.close()

    @property
    def writer_queue_file(self) -> Path | None:
        """The lock file in whose queue this store's writers take turns, or None.

        None when they do not queue: *writer_queue* was False, the platform has no
        ``fcntl`` (Windows), or the lock file could not be made or opened when the store
        opened (a read-only folder, something else at its name).
        """
        queue = self._pool.queue
        return None if queue is None else Path(queue)

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

    __slots__ = ("_durable", "_files", "_link", "_store", "_tx")

    def __init__(self, store: SQLiteStore, durable: bool) -> None:
        self._store = store
        self._durable = durable

    def __enter__(self) -> SQLiteTransaction:
        store = self._store
        link, self._files = store._pool.hold(self._durable)
        self._link = link
        tx = self._tx = SQLiteTransaction(link.connection, store._max_variables, link.execute)
        return tx

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        store, link, tx = self._store, self._link, self._tx
        pool = store._pool
        tx._done = True
        try:
            if kind is not None:
                pool.rollback(link)
                return  # the block's exception goes on unchanged
            if tx.refused is not None:
                pool.rollback(link)
                raise StorageError(
                    "a write of this transaction was refused, so nothing of it was kept"
                ) from tx.refused
            try:
                link.execute("COMMIT")
            except sqlite3.Error as e:
                pool.rollback(link)
                raise translate(e, "committing the transaction") from e
        finally:
            try:  # as pool.release does, without its call
                self._files.discard(store._file)
            finally:
                pool.give_back(link)
