"""The SQLite store's fair queue of writers: a kernel file lock beside the database.

Every transaction holds its turn (an exclusive ``flock`` of ``<database>-writer.lock``) from
before ``BEGIN IMMEDIATE`` until after ``COMMIT`` or ``ROLLBACK``; threads and processes
queue alike; a wait longer than the busy timeout is ``StorageBusy``; a process that dies
frees its turn, even with a forked child alive; and where the lock file cannot be had, the
store writes as it did without the queue. Checked on real files, threads and processes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import os
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _racing import race
from licensekit.exceptions import IncompatibleStore, StorageBusy, StorageError
from licensekit.storage import THROTTLES, Query, Throttle
from licensekit.stores._writer_queue import lock_file, open_turn
from licensekit.stores.sqlite import SQLiteStore

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the queue needs fcntl")

if sys.platform != "win32":
    import fcntl

T0 = dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.UTC)
COUNTER = "counter"
WORKERS = 4
INCREMENTS = 50
FORK = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs os.fork"
)


def lock_path(path: Path) -> Path:
    return Path(os.path.realpath(path) + "-writer.lock")


@contextlib.contextmanager
def descriptor(path: Path) -> Iterator[int]:
    """A descriptor of the lock file of the database *path*, of its own (not the store's)."""
    opened = os.open(lock_path(path), os.O_RDWR)
    try:
        yield opened
    finally:
        os.close(opened)


def turn_is_free(path: Path) -> bool:
    """Whether nobody holds the writers' turn of *path* (taken and given back to find out)."""
    with descriptor(path) as opened:
        try:
            fcntl.flock(opened, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(opened, fcntl.LOCK_UN)
        return True


@contextlib.contextmanager
def turn_held(path: Path) -> Iterator[None]:
    """Hold the writers' turn of *path* as another writer would, without SQLite's lock."""
    with descriptor(path) as opened:
        fcntl.flock(opened, fcntl.LOCK_EX)
        yield


def counter(value: int) -> Throttle:
    return Throttle(key=COUNTER, failures=value, window_started_at=T0, expires_at=T0)


def read_counter(store: SQLiteStore) -> int:
    with store.transaction() as tx:
        [[found]] = tx.read([Query(THROTTLES, ("key",), ((COUNTER,),))])
    return int(found.failures)


def increment(store: SQLiteStore, checks: list[bool] | None = None) -> int:
    """Read the counter, then write it plus one, in one transaction; return the new value.

    With *checks*, note whether the writers' turn was held meanwhile (as it should be).
    """
    with store.transaction() as tx:
        if checks is not None:
            checks.append(not turn_is_free(store.path))
        [[found]] = tx.read([Query(THROTTLES, ("key",), ((COUNTER,),))])
        value = int(found.failures) + 1
        tx.save(THROTTLES, [counter(value)])
    return value


def new_counter(path: Path, **options: Any) -> SQLiteStore:
    store = SQLiteStore(path, synchronous="normal", **options)
    with store.transaction() as tx:
        tx.add(THROTTLES, [counter(0)])
    return store


# -- the turn is held from the start to the end of every transaction ---------------------------


def test_the_lock_file_lies_beside_the_database(path: Path) -> None:
    store = SQLiteStore(path)
    try:
        assert store.writer_queue_file == lock_path(path)
        assert lock_path(path).is_file()
    finally:
        store.close()


def test_a_transaction_holds_the_turn_until_it_commits_or_rolls_back(path: Path) -> None:
    store = SQLiteStore(path, synchronous="normal")
    try:
        assert turn_is_free(path)
        with store.transaction() as tx:
            assert not turn_is_free(path)
            tx.add(THROTTLES, [counter(0)])
        assert turn_is_free(path)
        held_in_the_block: list[bool] = []

        def fail_in_a_block() -> None:
            with store.transaction():
                held_in_the_block.append(not turn_is_free(path))
                raise LookupError("the block fails: rolled back")

        with pytest.raises(LookupError):
            fail_in_a_block()
        assert held_in_the_block == [True]
        assert turn_is_free(path)
        with pytest.raises(StorageError), store.transaction() as tx:
            tx.add(THROTTLES, [counter(1)])  # refused: the key exists
        assert turn_is_free(path)
        assert read_counter(store) == 0
    finally:
        store.close()


def test_threads_queue_for_their_turns_and_lose_no_write(path: Path) -> None:
    """Each pooled connection has its own open file of the lock: threads queue as processes."""
    store = new_counter(path)
    checks: list[bool] = []
    try:
        race([lambda: [increment(store, checks) for _ in range(INCREMENTS)]] * WORKERS)
        assert read_counter(store) == WORKERS * INCREMENTS
        assert checks == [True] * (WORKERS * INCREMENTS)
        assert len(store._pool.connections) > 1  # several connections, each queued on its own
        assert turn_is_free(path)
    finally:
        store.close()


def _increment_in_a_process(path: Path, results: Any) -> None:
    try:
        store = SQLiteStore(path, synchronous="normal")
        checks: list[bool] = []
        for _ in range(INCREMENTS):
            increment(store, checks)
        store.close()
        results.put(("done", checks.count(True), checks.count(False)))
    except BaseException as e:  # reported to the test
        results.put(("failed", repr(e), 0))


@FORK
def test_processes_queue_for_their_turns_and_lose_no_write(path: Path) -> None:
    new_counter(path).close()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [
        context.Process(target=_increment_in_a_process, args=(path, results))
        for _ in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    try:
        outcomes = [results.get(timeout=120) for _ in workers]
    finally:
        for worker in workers:
            worker.join(60)
    assert outcomes == [("done", INCREMENTS, 0)] * WORKERS
    assert [w.exitcode for w in workers] == [0] * WORKERS
    store = SQLiteStore(path)
    try:
        assert read_counter(store) == WORKERS * INCREMENTS
    finally:
        store.close()


def test_a_store_opened_through_a_link_queues_on_the_same_file(path: Path) -> None:
    first = SQLiteStore(path)
    link = path.with_name("link.db")
    link.symlink_to(path)
    second = SQLiteStore(link, busy_timeout=0)
    try:
        assert second.writer_queue_file == first.writer_queue_file == lock_path(path)
        # Another name of the file, so not a nested transaction: it queues, and gives up.
        with (
            first.transaction(),
            pytest.raises(StorageBusy, match="writers queued before"),
            second.transaction(),
        ):
            pass  # pragma: no cover - never entered
    finally:
        second.close()
        first.close()


# -- waiting, and giving up ----------------------------------------------------------------


def test_a_turn_held_too_long_is_storage_busy_with_a_clear_message(path: Path) -> None:
    store = SQLiteStore(path, busy_timeout=0.2)
    try:
        with turn_held(path), pytest.raises(StorageBusy) as info, store.transaction():
            pass  # pragma: no cover - never entered
        message = str(info.value)
        assert "writers queued before this one" in message
        assert str(path.name) in message
        assert "0.2 s" in message
        with store.transaction():  # the turn is free again: the store works
            assert not turn_is_free(path)
    finally:
        store.close()


def test_with_no_busy_timeout_a_taken_turn_fails_at_once(path: Path) -> None:
    store = SQLiteStore(path, busy_timeout=0)
    try:
        with (
            turn_held(path),
            pytest.raises(StorageBusy, match="writers queued before"),
            store.transaction(),
        ):
            pass  # pragma: no cover - never entered
    finally:
        store.close()


def test_a_writer_waits_for_a_turn_given_back_within_the_timeout(path: Path) -> None:
    store = new_counter(path)
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with turn_held(path):
            holding.set()
            done.wait(0.2)  # how long the turn is held (not a synchronisation)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(30)
        increment(store)  # waits in the queue, then writes
        assert read_counter(store) == 1
    finally:
        done.set()
        holder.join()
        store.close()


def test_a_writer_that_gave_up_does_not_keep_the_turn_it_was_queued_for(path: Path) -> None:
    """The descriptor of an abandoned wait is closed once the kernel grants it the turn."""
    store = new_counter(path, busy_timeout=0.1)
    try:
        with turn_held(path), pytest.raises(StorageBusy):
            increment(store)
        # The abandoned wait is granted the turn now, and gives it back by closing.
        other = SQLiteStore(path, busy_timeout=10)
        try:
            increment(other)
            increment(store)  # the first store's connection queues with a new descriptor
        finally:
            other.close()
        assert read_counter(store) == 2
    finally:
        store.close()


# -- dying and forking ---------------------------------------------------------------------


def _hold_a_transaction_then_hang(path: Path, ready: Any, fork_a_child: bool, results: Any) -> None:
    store = SQLiteStore(path, synchronous="normal")
    entered = threading.Event()

    def transaction() -> None:
        with store.transaction():
            entered.set()
            time.sleep(600)  # killed before this ends

    threading.Thread(target=transaction, daemon=True).start()
    entered.wait(60)
    child = 0
    if fork_a_child:
        child = os.fork()
        if child == 0:  # the child lives on after its parent is killed
            time.sleep(600)
            os._exit(0)
    results.put(child)
    ready.set()
    time.sleep(600)


@FORK
@pytest.mark.parametrize("fork_a_child", [False, True], ids=["alone", "with-a-forked-child"])
def test_a_process_killed_while_holding_the_turn_blocks_nobody(
    path: Path, fork_a_child: bool
) -> None:
    """The kernel frees the turn of a dead process; a child forked meanwhile does not keep it."""
    store = new_counter(path, busy_timeout=20)
    context = multiprocessing.get_context("fork")
    ready, results = context.Event(), context.Queue()
    holder = context.Process(
        target=_hold_a_transaction_then_hang, args=(path, ready, fork_a_child, results)
    )
    holder.start()
    child = 0
    try:
        assert ready.wait(60)
        child = results.get(timeout=60)
        assert not turn_is_free(path)
        os.kill(holder.pid, signal.SIGKILL)  # type: ignore[arg-type]
        # Not joined yet: the child, alive, holds the pipe by which the join would see it end.
        increment(store)  # would wait for the child, and fail, if it kept the turn
        assert read_counter(store) == 1
        assert store.integrity_check() == []
    finally:
        if child:
            os.kill(child, signal.SIGKILL)
        holder.kill()
        holder.join(60)
        store.close()


@FORK
def test_a_forked_child_takes_turns_of_its_own(path: Path) -> None:
    store = new_counter(path)
    increment(store)
    context = multiprocessing.get_context("fork")
    results = context.Queue()

    def child(results: Any) -> None:
        try:
            checks: list[bool] = []
            increment(store, checks)
            results.put(("done", checks, store.writer_queue_file == lock_path(path)))
        except BaseException as e:
            results.put(("failed", repr(e), False))

    process = context.Process(target=child, args=(results,))
    process.start()
    try:
        assert results.get(timeout=60) == ("done", [True], True)
    finally:
        process.join(60)
    assert process.exitcode == 0
    increment(store)  # the parent's own turns still work
    try:
        assert read_counter(store) == 3
        assert turn_is_free(path)
    finally:
        store.close()


# -- where there is no queue ---------------------------------------------------------------


def test_the_queue_can_be_turned_off(path: Path) -> None:
    store = new_counter(path, writer_queue=False)
    try:
        assert store.writer_queue_file is None
        assert not lock_path(path).exists()
        increment(store)
        assert read_counter(store) == 1
    finally:
        store.close()


def test_a_store_without_the_queue_still_waits_for_one_with_it(path: Path) -> None:
    """The queue only orders writers; SQLite's lock keeps a writer outside it apart."""
    queued = new_counter(path)
    unqueued = SQLiteStore(path, busy_timeout=0.2, writer_queue=False)
    # The race below waits as long as it must: a loaded machine is slow, not wrong.
    patient = SQLiteStore(path, busy_timeout=60, writer_queue=False)
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with queued.transaction():
            holding.set()
            done.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(30)
        with pytest.raises(StorageBusy, match="locked by another"), unqueued.transaction():
            pass  # pragma: no cover - never entered
        done.set()
        holder.join()
        results = race([lambda: increment(queued), lambda: increment(patient)] * 10)
        assert sorted(r for r in results if isinstance(r, int)) == list(range(1, 21))
        assert read_counter(queued) == 20
    finally:
        done.set()
        holder.join()
        patient.close()
        unqueued.close()
        queued.close()


@pytest.mark.parametrize("obstacle", ["directory", "link"])
def test_a_lock_file_that_cannot_be_opened_means_no_queue(path: Path, obstacle: str) -> None:
    """Something else at the lock file's name (never followed if a link): SQLite alone orders."""
    target = path.with_name("elsewhere")
    if obstacle == "directory":
        lock_path(path).mkdir(parents=True)
    else:
        lock_path(path).symlink_to(target)
    store = new_counter(path)
    try:
        assert store.writer_queue_file is None
        increment(store)
        assert read_counter(store) == 1
        assert not target.exists()
    finally:
        store.close()


def test_an_in_memory_database_makes_no_lock_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store refuses it (it needs WAL), and leaves no ``:memory:-writer.lock`` behind."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StorageError, match="WAL"):
        SQLiteStore(":memory:")
    assert list(tmp_path.iterdir()) == []
    assert lock_file(":memory:") is None
    assert lock_file("") is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write a read-only folder")
def test_a_read_only_folder_means_no_queue(path: Path) -> None:  # pragma: no cover - not root
    new_counter(path).close()
    lock_path(path).unlink()
    path.parent.chmod(0o555)
    try:
        store = SQLiteStore(path, synchronous="normal")
        try:
            assert store.writer_queue_file is None
            assert read_counter(store) == 0
        finally:
            store.close()
    finally:
        path.parent.chmod(0o755)


@pytest.mark.parametrize(
    ("database_mode", "lock_mode"), [(0o644, 0o600), (0o664, 0o660), (0o666, 0o666)]
)
def test_the_lock_file_is_open_to_those_who_may_write_the_database(
    path: Path, database_mode: int, lock_mode: int
) -> None:
    SQLiteStore(path).close()
    lock_path(path).unlink()
    path.chmod(database_mode)
    SQLiteStore(path).close()
    assert lock_path(path).stat().st_mode & 0o777 == lock_mode


@pytest.mark.parametrize("value", [None, 1, "yes"])
def test_writer_queue_must_be_true_or_false(path: Path, value: object) -> None:
    with pytest.raises(StorageError, match="writer_queue must be True or False"):
        SQLiteStore(path, writer_queue=value)  # type: ignore[arg-type]
    assert not path.exists()


def test_a_refused_file_gets_no_lock_file(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE notes (text)")
    with pytest.raises(IncompatibleStore):
        SQLiteStore(path)
    assert not lock_path(path).exists()


def test_no_turn_where_the_lock_file_cannot_be_made(tmp_path: Path) -> None:
    missing = tmp_path / "no such folder" / "licensekit.db"
    assert open_turn(str(missing) + "-writer.lock", str(missing)) is None
