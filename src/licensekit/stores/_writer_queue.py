"""The fair queue of a SQLite file's writers: a kernel file lock beside the database.

SQLite lets one connection write at a time. A connection that finds the write lock taken
sleeps and tries again (its busy handler), so a writer that has just finished, trying again
at once, often wins over those that have slept longest: with 8 processes activating on one
file the slowest activation waited 0.6 to 1.6 s while the average one took a millisecond.
This module queues writers in the kernel instead, which hands the lock to those waiting in
the order they asked for it (Linux queues each waiter behind the one it conflicts with; a
writer that asks while the lock is free takes it at once):

* Each connection has a :class:`WriterTurn`: its own open file description of a lock file
  beside the database (``<database>-writer.lock``), locked with ``flock(LOCK_EX)`` from
  before ``BEGIN IMMEDIATE`` until after ``COMMIT`` or ``ROLLBACK``. A ``flock`` lock belongs
  to an open file description, so two connections of one process, in two threads, queue
  like two processes.
* A free turn is taken without waiting. A taken one is waited for by a helper thread
  blocked in ``flock`` (one per lock file and process, which ends after an idle
  second), while the caller waits for that thread at most the store's busy timeout: the
  kernel's wait has no timeout of its own. A caller that stops waiting gives the descriptor
  to the helper, which closes it, and with it the turn, once the kernel grants it; the
  caller's next turn opens a new descriptor.
* The kernel releases the lock of a process that dies, however it dies: a crashed writer
  never blocks the others.
* A forked child closes the descriptors it inherited (:func:`os.register_at_fork`) and never
  unlocks them: they share their lock with the parent's. Its inherited turns are left
  without a descriptor, so that they never touch the descriptor numbers the child reuses,
  and no turn asks for the process id on its way.
* The queue only orders writers; SQLite's own lock still keeps them apart. A writer outside
  the queue (another tool, a licensekit without the queue, a store with it off, a process
  that cannot open the lock file) is kept apart as before, and waits as before.

Where the queue cannot be had, :func:`lock_file` or :func:`open_turn` answers None and the
store writes as before: without ``fcntl`` (Windows), for an in-memory database, and where
the lock file cannot be opened or created (a read-only folder, something else at its name).
"""

from __future__ import annotations

import collections
import contextlib
import os
import stat
import sys
import threading
import weakref
from typing import Final

if sys.platform != "win32":  # pragma: no branch - POSIX
    import fcntl

    _flock = fcntl.flock
    _TAKE_NOW: Final = fcntl.LOCK_EX | fcntl.LOCK_NB

__all__ = ["SUFFIX", "WriterTurn", "lock_file", "open_turn"]

SUFFIX: Final = "-writer.lock"
"""What the lock file's name adds to the database file's."""

_FLAGS: Final = os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)

_IDLE: Final = 1.0
"""Seconds a helper thread waits for another wait to do before it ends."""

# Every descriptor this process has open on a lock file, so that a forked child closes them.
# The lock is held across a fork, so that no descriptor is half closed (out of the set, still
# open) when the child starts; reentrant, as other fork hooks may close stores meanwhile.
_OPEN: set[int] = set()
_OPEN_LOCK = threading.RLock()
# Every turn, so that a forked child takes their descriptors away (added under _OPEN_LOCK).
_TURNS: weakref.WeakSet[WriterTurn] = weakref.WeakSet()


def _close_inherited() -> None:  # pragma: no cover - in forked children, which coverage skips
    # In the child, which runs one thread: nothing changes under these lines. The parent's
    # helper threads do not exist here, and their locks may have been held at the fork.
    global _HELPERS_LOCK, _OPEN_LOCK
    for descriptor in _OPEN:
        with contextlib.suppress(OSError):
            os.close(descriptor)
    _OPEN.clear()
    for turn in _TURNS:  # the child's turns unlock nothing, and open anew if taken
        turn._descriptor = None
        turn._held = False
    _OPEN_LOCK = threading.RLock()
    _HELPERS.clear()
    _HELPERS_LOCK = threading.Lock()


def _before_fork() -> None:
    _OPEN_LOCK.acquire()


def _after_fork_in_parent() -> None:
    _OPEN_LOCK.release()


if hasattr(os, "register_at_fork"):  # pragma: no branch - POSIX
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_close_inherited,
    )


def lock_file(database: str) -> str | None:
    """The lock file of the SQLite file *database*, or None where writers cannot queue.

    None without ``fcntl`` and for an in-memory database (``:memory:``, or ``""`` for a
    temporary one); otherwise the path beside the database file, symbolic links resolved,
    so that every name of one file leads to one queue.
    """
    if sys.platform == "win32" or database in ("", ":memory:"):
        return None
    return os.path.realpath(database) + SUFFIX


def _mode_for(mode: int) -> int:
    """Read and write for the classes of users that may write a database of *mode*, no more.

    Whoever may open the lock file may hold up every writer, so readers of the database who
    may not write it are kept out.
    """
    allowed = 0
    for write, both in ((stat.S_IWUSR, 0o600), (stat.S_IWGRP, 0o060), (stat.S_IWOTH, 0o006)):
        if mode & write:
            allowed |= both
    return allowed or 0o600


def _open(path: str, database: str) -> int | None:
    """A new descriptor of the lock file *path*, made if missing; None if it cannot be had."""
    try:
        descriptor = os.open(path, _FLAGS | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        try:
            descriptor = os.open(path, _FLAGS)
        except OSError:
            return None
    except OSError:
        return None
    else:
        # Made here: given the database's owner and the modes of those who may write it,
        # as SQLite gives its log files, whatever this process's umask.
        try:
            info = os.stat(database)
            if hasattr(os, "geteuid") and os.geteuid() == 0:  # pragma: no branch - tests as root
                os.fchown(descriptor, info.st_uid, info.st_gid)
            os.fchmod(descriptor, _mode_for(info.st_mode))
        except OSError:  # pragma: no cover - the database vanished meanwhile
            pass  # the file works as made; only others may find it closed to them
    with _OPEN_LOCK:
        _OPEN.add(descriptor)  # a fork before this line leaves the child an unlocked copy
    return descriptor


def _close(descriptor: int) -> None:
    """Close *descriptor* (which releases its lock, if held)."""
    with _OPEN_LOCK:
        _OPEN.discard(descriptor)
        with contextlib.suppress(OSError):
            os.close(descriptor)


def open_turn(path: str, database: str) -> WriterTurn | None:
    """A turn of a new connection to *database* in the queue of *path*; None if unavailable."""
    descriptor = _open(path, database)
    if descriptor is None:
        return None
    turn = WriterTurn(path, database, descriptor)
    with _OPEN_LOCK:
        _TURNS.add(turn)
    return turn


class _Wait:
    """A helper thread's wait for one turn, which its caller may stop waiting for."""

    __slots__ = ("abandoned", "descriptor", "error", "gate", "guard")

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor
        self.gate = threading.Lock()  # released once the turn is granted (or failed)
        self.gate.acquire()
        self.guard = threading.Lock()
        self.abandoned = False
        self.error: OSError | None = None

    def run(self) -> None:
        try:
            fcntl.flock(self.descriptor, fcntl.LOCK_EX)
        except OSError as e:  # pragma: no cover - a file system that stops locking
            self.error = e
        with self.guard:
            if self.abandoned:
                _close(self.descriptor)  # which gives the turn it was granted back
            else:
                self.gate.release()

    def abandon(self) -> bool:
        """Stop waiting; return True if the turn was granted meanwhile (and is the caller's)."""
        with self.guard:
            if self.gate.acquire(blocking=False):  # pragma: no cover - granted as it timed out
                return True
            self.abandoned = True
            return False


class _Helper:
    """A thread that waits for turns of one lock file, for the threads of this process.

    It waits for one turn at a time, in the order they were asked for (they are turns of
    one lock, so none could be granted before the one it waits for anyway), and ends after
    :data:`_IDLE` seconds without any; the next wait starts another. One thread kept for
    many waits costs less than a thread started for each.
    """

    __slots__ = ("_pending", "_ready", "_running")

    def __init__(self) -> None:
        self._pending: collections.deque[_Wait] = collections.deque()
        self._ready = threading.Condition(threading.Lock())
        self._running = False

    def submit(self, wait: _Wait) -> bool:
        """Have *wait* done; False if no thread can be started for it."""
        with self._ready:
            self._pending.append(wait)
            if self._running:
                self._ready.notify()
                return True
            self._running = True
        try:
            threading.Thread(
                target=self._serve, name="licensekit-writer-queue", daemon=True
            ).start()
        except RuntimeError:  # pragma: no cover - no more threads
            with self._ready:
                self._running = False
                self._pending.remove(wait)
            return False
        return True

    def _serve(self) -> None:
        while True:
            with self._ready:
                if not self._pending:
                    self._ready.wait(_IDLE)
                    if not self._pending:
                        self._running = False
                        return
                wait = self._pending.popleft()
            wait.run()


_HELPERS: dict[str, _Helper] = {}
_HELPERS_LOCK = threading.Lock()


def _helper(path: str) -> _Helper:
    """This process's helper for the lock file *path*."""
    with _HELPERS_LOCK:
        helper = _HELPERS.get(path)
        if helper is None:
            helper = _HELPERS[path] = _Helper()
        return helper


class WriterTurn:
    """One connection's place in the queue of writers: its own descriptor of the lock file.

    Not for two threads at once: the store's pool gives a connection, and so its turn, to
    one transaction at a time. A forked child finds its inherited turns without a
    descriptor (see the module's notes): taking one opens a new descriptor.
    """

    __slots__ = ("__weakref__", "_database", "_descriptor", "_held", "_path")

    def __init__(self, path: str, database: str, descriptor: int) -> None:
        self._path = path
        self._database = database
        self._descriptor: int | None = descriptor
        self._held = False

    def take(self, timeout: float) -> bool:
        """Wait for this turn, at most *timeout* seconds; return whether it is held.

        False means the wait timed out. Without a descriptor (the lock file could no longer
        be opened, or a helper thread cannot be started) the turn is held without a lock:
        SQLite's own lock keeps writers apart, as without the queue.
        """
        descriptor = self._descriptor
        if descriptor is None:
            descriptor = self._descriptor = _open(self._path, self._database)
            if descriptor is None:  # pragma: no cover - the lock file was replaced meanwhile
                self._held = True
                return True
        self._held = True  # before the lock: giving back a turn not taken does no harm
        try:
            _flock(descriptor, _TAKE_NOW)
        except BlockingIOError:
            self._held = False
            if timeout <= 0:
                return False
            self._held = self._wait(descriptor, timeout)
            return self._held
        except OSError:  # pragma: no cover - a file system without flock: write as before
            pass
        return True

    def _wait(self, descriptor: int, timeout: float) -> bool:
        waiter = _Wait(descriptor)
        if not _helper(self._path).submit(waiter):  # pragma: no cover - SQLite's wait decides
            return True
        try:
            granted = waiter.gate.acquire(timeout=timeout)
        except BaseException:  # pragma: no cover - interrupted (KeyboardInterrupt): no turn kept
            if waiter.abandon():
                fcntl.flock(descriptor, fcntl.LOCK_UN)
            else:
                self._descriptor = None  # the helper's now; the next turn opens another
            raise
        if not granted:
            granted = waiter.abandon()
            if not granted:
                self._descriptor = None  # the helper's now; the next turn opens another
        if waiter.error is not None:  # pragma: no cover - a file system that stops locking
            return True
        return granted

    def give_back(self) -> None:
        """Give the turn back, if held, to the next writer in the queue."""
        if not self._held:
            return
        self._held = False
        descriptor = self._descriptor
        if descriptor is not None:  # pragma: no branch
            try:
                _flock(descriptor, fcntl.LOCK_UN)
            except OSError:  # pragma: no cover - closing releases it as surely
                self._descriptor = None
                _close(descriptor)

    def close(self) -> None:
        """Close the descriptor (giving the turn back); a later :meth:`take` opens another."""
        self._held = False
        descriptor, self._descriptor = self._descriptor, None
        if descriptor is not None:
            _close(descriptor)
