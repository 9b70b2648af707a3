"""The SQLite store's connections: a pool, and the hold of one for each transaction.

A :class:`ConnectionPool` opens connections to one database file with the store's pragmas,
lends one to each transaction (:meth:`ConnectionPool.hold`) and takes it back afterwards
(:meth:`ConnectionPool.give_back`). Holding a connection means, in this order:

1. this thread holds no other transaction on the file (it would wait for itself);
2. an idle connection is taken, or a new one opened;
3. its commits are made to sync to disk or not, as the transaction asks (``durable``);
4. its turn in the writers' queue is taken, if the store queues (:mod:`._writer_queue`);
5. ``BEGIN IMMEDIATE`` takes SQLite's write lock. SQLite waits for a taken lock itself, up to
   the busy timeout, but may give up early (while another process recovers the log, say):
   only then does the pool try again, until the timeout is spent.

Giving back rolls back what is left open, gives the turn back and pools the connection.

This is the path of every transaction, so it is written for few calls: each connection's
state is kept on a :class:`Link` beside it (its turn, whether its commits sync, a cursor for
the store's own statements), the process id is asked for once, and the retry loop is
entered only when ``BEGIN IMMEDIATE`` failed.

After :func:`os.fork`: connections are closed before the fork if idle; the child forgets the
ones in use (never closing them: they share SQLite's locks with the parent) and opens its own.
A child that inherits an open SQLite connection inherits SQLite's record of the parent's file
locks without the locks themselves; if the parent then closed its store, SQLite would believe
it was the last user and delete the write-ahead log under the child. A fork hook does this
in the child; a process forked without Python's hooks (by C code, as uWSGI may) is told by its
process id, checked when a connection is taken and when the store closes.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Final, TypeVar

from licensekit.exceptions import IncompatibleStore, StorageBusy, StorageError
from licensekit.stores._sqlite_transaction import translate
from licensekit.stores._writer_queue import WriterTurn, open_turn

__all__ = ["ConnectionPool", "Link", "error_code"]

T = TypeVar("T")

_RETRY_PAUSE: Final = 0.005  # seconds between two tries of a lock SQLite gave up on early
_monotonic = time.monotonic
_getpid = os.getpid


def error_code(error: BaseException) -> int:
    """The primary SQLite result code of a driver *error* (0 if it has none)."""
    return getattr(error, "sqlite_errorcode", 0) & 0xFF


class _Held(threading.local):
    """The database files the current thread has a transaction open on."""

    def __init__(self) -> None:
        self.files: set[str] = set()


_HELD = _Held()

# Every open pool, so that idle connections are closed before the process forks and the child
# forgets the rest.
_POOLS: weakref.WeakSet[ConnectionPool] = weakref.WeakSet()


def _before_fork() -> None:
    for pool in list(_POOLS):
        pool.close_idle()


def _after_fork_in_child() -> None:  # pragma: no cover - in forked children, which coverage skips
    for pool in _POOLS:
        pool._lock = threading.Lock()  # another thread of the parent may have held it
        pool._forget_inherited()


if hasattr(os, "register_at_fork"):  # pragma: no branch - POSIX
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)


class Link:
    """One pooled connection, and what the pool keeps of it.

    Attributes:
        connection: The connection.
        execute: The ``execute`` of a cursor of the connection, kept for the statements
            whose results are read at once (``BEGIN``, ``COMMIT``, the hot look-ups):
            ``connection.execute`` makes a new cursor for every statement.
        turn: Its turn in the writers' queue, or None when the store does not queue.
        relaxed: Whether its commits are set not to sync to disk (``durable=False``).
        pooled: Whether it belongs to the pool; False once closed, dropped or inherited
            through a fork.
    """

    __slots__ = ("connection", "execute", "pooled", "relaxed", "turn")

    def __init__(self, connection: sqlite3.Connection, turn: WriterTurn | None) -> None:
        self.connection = connection
        self.execute: Callable[..., sqlite3.Cursor] = connection.cursor().execute
        self.turn = turn
        self.relaxed = False
        self.pooled = True


class ConnectionPool:
    """The connections of one :class:`~licensekit.stores.sqlite.SQLiteStore`.

    Args:
        target: What :func:`sqlite3.connect` opens (a path, or a ``file:`` URI with *uri*).
        uri: Whether *target* is a URI.
        file: The database file's absolute path, which names it for the nesting check.
        shown: The file's name as messages show it.
        busy_timeout: How long a transaction waits for its turn and the write lock.
        pragmas: The statements that set up each new connection.
        relaxable: Whether transactions may ask for commits without a disk sync (on a
            ``synchronous="full"`` store; a ``"normal"`` store never syncs at commit).
    """

    def __init__(
        self,
        target: str | os.PathLike[str],
        *,
        uri: bool,
        file: str,
        shown: str,
        busy_timeout: float,
        pragmas: Sequence[str],
        relaxable: bool,
    ) -> None:
        self._target = target
        self._uri = uri
        self._file = file
        self._shown = shown
        self._busy_timeout = busy_timeout
        self._pragmas = tuple(pragmas)
        self._relaxable = relaxable
        self._lock = threading.Lock()
        self._idle: list[Link] = []
        self._all: list[Link] = []
        self._closed = False
        self._pid = os.getpid()
        self.queue: str | None = None
        """The lock file of the writers' queue, once the store joined it (else None)."""
        _POOLS.add(self)

    @property
    def connections(self) -> list[sqlite3.Connection]:
        """The pool's open connections, idle or in use (for inspection in tests)."""
        with self._lock:
            return [link.connection for link in self._all]

    @property
    def idle(self) -> int:
        """How many connections wait in the pool for a transaction."""
        return len(self._idle)

    # -- connections --------------------------------------------------------------------------

    def connect(self, *, queued: bool = True) -> Link:
        """Open a connection with the pragmas, in the pool (not idle: its caller holds it).

        With *queued* False it gets no turn in the writers' queue (the store's first
        connection, which opens the file before the store joins the queue).

        Raises:
            StorageError: The file cannot be opened.
            IncompatibleStore: The file is not a SQLite database.
        """
        try:
            connection = sqlite3.connect(
                self._target,
                uri=self._uri,
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
            if error_code(e) == sqlite3.SQLITE_NOTADB:
                raise IncompatibleStore(
                    f"{self._shown} is not a SQLite database licensekit can open: {e}"
                ) from e
            raise translate(e, f"opening {self._shown}") from e
        queue = self.queue if queued else None
        link = Link(connection, None if queue is None else open_turn(queue, self._file))
        with self._lock:
            self._all.append(link)
        return link

    def join_queue(self, link: Link, queue: str | None) -> None:
        """Queue the writers in the lock file *queue* from now on, *link* among them.

        If the lock file cannot be had (or *queue* is None), the store goes without the queue.
        """
        turn = None if queue is None else open_turn(queue, self._file)
        if turn is not None:
            link.turn = turn
            self.queue = queue

    def give_back(self, link: Link) -> None:
        """Return *link* to the pool: rolled back, its turn given back, idle again.

        A pooled connection never holds the write lock, whatever ended its transaction (a
        signal between ``BEGIN`` and the block, an inspection that only read), nor its turn.
        """
        try:
            # A link out of the pool is closed (its rollback failed) or the parent's.
            if link.pooled and link.connection.in_transaction:
                self.rollback(link)
        finally:
            turn = link.turn
            if turn is not None:
                turn.give_back()
        if not link.pooled:  # dropped (and closed), or a parent's before a fork
            return
        # No lock: appending to a list and popping from it are atomic, and close() marks the
        # pool closed before it empties the idle list, so a link put back after that is
        # seen and closed here.
        self._idle.append(link)
        if self._closed:
            self.close_idle()

    def rollback(self, link: Link) -> None:
        """Roll back *link*'s open transaction; drop it if even that fails."""
        try:
            if link.connection.in_transaction:
                link.execute("ROLLBACK")
        except sqlite3.Error:
            # It cannot even roll back: drop it, and SQLite rolls back as it closes.
            self.discard(link)

    def discard(self, link: Link) -> None:
        """Close *link* and drop it from the pool."""
        with self._lock:
            if link.pooled:
                link.pooled = False
                self._all.remove(link)
        self._close(link)

    def _close(self, link: Link) -> None:
        """Close *link*'s connection, and its turn in the writers' queue."""
        try:
            link.connection.close()
        finally:
            turn, link.turn = link.turn, None
            if turn is not None:
                turn.close()

    def close_idle(self) -> None:
        """Close the pooled connections no transaction is using (before a fork)."""
        if self._pid != _getpid():
            self._forget_inherited()  # forked without the hooks: they are the parent's
        idle = self._idle
        while idle:
            try:
                link = idle.pop()  # atomic: a link is either taken here or by a transaction
            except IndexError:  # pragma: no cover - taken by a transaction meanwhile
                return
            self.discard(link)

    def close(self) -> None:
        """Close the idle connections now, the others when their transactions end."""
        self._closed = True
        self.close_idle()

    def _forget_inherited(self) -> None:  # pragma: no cover - in forked children
        """In a forked child: forget the parent's connections (never closing them)."""
        self._pid = os.getpid()
        for link in self._all:
            link.pooled = False
            link.turn = None  # its descriptor was closed after the fork
        self._all = []
        self._idle = []

    # -- transactions -------------------------------------------------------------------------

    def hold(self, durable: bool = True) -> tuple[Link, set[str]]:
        """Lend a connection holding the turn and the write lock, in a transaction.

        Its commits sync to disk as the store says, or not, with *durable* False.
        :meth:`release` gives it back.

        Returns:
            The connection's link, and the set of files this thread holds a transaction on
            (the transaction may end on another thread: it is this set the file leaves).

        Raises:
            StorageError: This thread holds a transaction on the file already, or the store
                is closed.
            StorageBusy: The writers ahead, or the write lock, were held for longer than the
                busy timeout.
        """
        files = _HELD.files
        if self._file in files:
            # Waiting for the lock this thread holds would only end in StorageBusy, later.
            raise StorageError("transactions cannot be nested (on this database file)")
        if self._closed:
            raise StorageError("the SQLite store is closed")
        if self._pid != _getpid():
            self._forget_inherited()  # forked without the hooks: they are the parent's
        try:
            link = self._idle.pop()  # atomic, as give_back explains: no lock
        except IndexError:
            link = self.connect()
        try:
            if self._relaxable and link.relaxed is durable:
                self._sync_commits(link, durable)
            self.begin(link)
        except BaseException:
            self.give_back(link)
            raise
        files.add(self._file)
        return link, files

    def release(self, link: Link, files: set[str]) -> None:
        """End a :meth:`hold` of *link*: the file leaves *files*, the connection the hold."""
        try:
            files.discard(self._file)
        finally:
            self.give_back(link)

    def begin(self, link: Link) -> None:
        """Take *link*'s turn in the writers' queue, then the write lock, within the timeout.

        The turn is given back by :meth:`give_back` (or by closing), whatever happens.

        Raises:
            StorageBusy: The writers ahead, or the write lock, kept it for too long.
        """
        started = _monotonic()
        turn = link.turn
        if turn is not None and not turn.take(self._busy_timeout):
            raise self._queue_busy()
        try:
            link.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as e:  # SQLite's own wait ended: try again, if busy
            self._begin_again(link, e, started + self._busy_timeout)

    def _queue_busy(self) -> StorageBusy:
        """The error of a transaction that waited for its turn for too long."""
        return StorageBusy(
            f"starting a transaction: writers queued before this one kept {self._shown} "
            f"locked for more than {self._busy_timeout:g} s"
        )

    def _begin_again(self, link: Link, error: sqlite3.DatabaseError, deadline: float) -> None:
        """Try ``BEGIN IMMEDIATE`` again after it failed with *error*, until *deadline*."""
        doing = "starting a transaction"
        self._pause_after(error, doing, deadline)
        self.patiently(lambda: link.execute("BEGIN IMMEDIATE"), doing, deadline)

    def _sync_commits(self, link: Link, durable: bool) -> None:
        """Make *link*'s commits sync to disk (FULL) or not (NORMAL), between transactions."""
        try:
            link.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
        except sqlite3.Error as e:
            raise translate(e, "choosing how the transaction commits") from e
        link.relaxed = not durable

    def patiently(self, step: Callable[[], T], doing: str, deadline: float | None = None) -> T:
        """Run *step*, again while another connection holds the lock, up to the busy timeout.

        *deadline* (by :func:`time.monotonic`) ends the wait earlier: the busy timeout
        counted from an earlier start.

        Raises:
            StorageBusy: The lock stayed taken.
            IncompatibleStore: The file is not a SQLite database.
            StorageError: Another driver error.
        """
        if deadline is None:
            deadline = _monotonic() + self._busy_timeout
        while True:
            try:
                return step()
            except sqlite3.DatabaseError as e:
                self._pause_after(e, doing, deadline)

    def _pause_after(self, error: sqlite3.DatabaseError, doing: str, deadline: float) -> None:
        """Pause before another try after *error*, or raise what it means if none is due.

        Raises:
            StorageBusy: *error* says the lock is taken, and *deadline* has passed.
            IncompatibleStore: *error* says the file is not a SQLite database.
            StorageError: Another driver error.
        """
        if isinstance(error, sqlite3.OperationalError):
            if error_code(error) not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise translate(error, doing) from error
            if _monotonic() >= deadline:
                raise StorageBusy(
                    f"{doing}: {self._shown} stayed locked by another connection for "
                    f"more than {self._busy_timeout:g} s"
                ) from error
            time.sleep(_RETRY_PAUSE)
            return
        if isinstance(error, sqlite3.IntegrityError):
            raise translate(error, doing) from error
        raise IncompatibleStore(
            f"{self._shown} is not a SQLite database licensekit can open: {error}"
        ) from error
