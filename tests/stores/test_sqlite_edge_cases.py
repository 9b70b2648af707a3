"""Review of the SQLite store: each test pins a defect a review found (now fixed).

A few reach into the store's private attributes, only to inject a fault
(a full disk, an interrupt at an unlucky moment) that a test cannot otherwise bring about.

Moved (storage port v2), each to the test of ``test_sqlite_schema_and_statements.py`` that
checks the same:
``test_a_batch_that_fills_the_disk_says_so`` to
``test_a_write_that_fills_the_disk_is_a_storage_error_and_keeps_nothing`` (a batch of 300
users on a nearly full file), and
``test_a_stored_value_this_version_cannot_read_is_an_incompatible_store`` to its namesake.
"""

from __future__ import annotations

import datetime as dt
import gc
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import licensekit.stores.sqlite as sqlite_module
from _records import records
from licensekit import LicenseKit
from licensekit.exceptions import (
    AccountNotFound,
    LicenseKitError,
    StorageError,
)
from licensekit.model import User
from licensekit.storage import THROTTLES, USERS
from licensekit.stores.memory import MemoryStore
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import (
    TEST_JOIN_URL,
    TEST_SECRET,
    RecordingMailer,
    add_member,
    make_business_account,
    make_licensekit,
    new_test_store,
)

T0 = dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.UTC)


def user(n: int, name: str = "") -> User:
    return User(id=f"usr_{n:06d}", email=f"u{n}@example.com", created_at=T0, name=name)


def emails_in(path: Path) -> set[str]:
    connection = sqlite3.connect(path)
    try:
        return {email for (email,) in connection.execute("SELECT email FROM users")}
    finally:
        connection.close()


def fill_the_disk_soon(tx: Any) -> None:
    """Let the database grow by three pages only: the next big write finds the disk full."""
    connection = tx.port._connection
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages + 3}")


class _ThroughConnection(sqlite3.Cursor):
    """A cursor whose statements run through its connection's ``execute``, hooks and all.

    The store runs ``BEGIN``, ``COMMIT`` and its hot look-ups on a cursor it keeps.
    """

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        return self.connection.execute(sql, *args)


class _FaultyConnection(sqlite3.Connection):
    """A connection that runs *hook* once, just before or after a given statement."""

    hook: Callable[[], None] | None = None
    when: tuple[str, str] = ("", "")

    def cursor(self, factory: Any = None) -> sqlite3.Cursor:  # type: ignore[override]
        return super().cursor(_ThroughConnection)

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        moment, statement = _FaultyConnection.when
        armed = sql == statement and _FaultyConnection.hook is not None
        if armed and moment == "before":
            self._fire()
        cursor = super().execute(sql, *args)
        if armed and moment == "after":
            self._fire()
        return cursor

    @staticmethod
    def _fire() -> None:
        hook, _FaultyConnection.hook = _FaultyConnection.hook, None
        assert hook is not None
        hook()


@pytest.fixture
def faulty_connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_FaultyConnection]]:
    """Make every connection the store opens a :class:`_FaultyConnection`."""
    connect = sqlite3.connect

    def connect_faulty(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        return connect(*args, factory=_FaultyConnection, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect_faulty)
    yield _FaultyConnection
    _FaultyConnection.hook = None


class Interrupt(BaseException):
    """An asynchronous exception: KeyboardInterrupt, a signal handler's timeout..."""


# -- close() and the pool ---------------------------------------------------------------------


def test_closing_the_store_while_another_thread_runs_a_statement_does_not_crash(
    tmp_path: Path,
) -> None:
    script = textwrap.dedent(
        """
        import sys, threading, time
        from licensekit.exceptions import LicenseKitError
        from licensekit.stores.sqlite import SQLiteStore

        store = SQLiteStore(sys.argv[1])
        started, outcome = threading.Event(), []
        SLOW = (
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
            "WHERE x < 5000000) SELECT count(*) FROM c"
        )

        def slow_transaction():
            try:
                with store.transaction() as tx:
                    started.set()
                    tx._connection.execute(SLOW).fetchone()  # a slow read, in SQLite's C code
                outcome.append("committed")
            except LicenseKitError:
                outcome.append("storage error")

        worker = threading.Thread(target=slow_transaction)
        worker.start()
        started.wait()
        time.sleep(0.1)
        store.close()
        worker.join()
        print(outcome)
        """
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script, str(tmp_path / "licensekit.db")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"exit status {done.returncode}: {done.stderr[-500:]}"
    assert done.stdout.strip() in ("['committed']", "['storage error']")


def test_a_transaction_racing_close_fails_with_a_storage_error(
    path: Path, faulty_connections: type[_FaultyConnection]
) -> None:
    store = SQLiteStore(path)
    # The interleaving of the race, made certain: close() runs between _take() and BEGIN.
    faulty_connections.when = ("before", "BEGIN IMMEDIATE")
    faulty_connections.hook = store.close
    try:
        with store.transaction():
            pass  # pragma: no cover - never entered
    except LicenseKitError:
        pass
    except sqlite3.Error as e:
        raise AssertionError(f"raw driver error escaped: {e!r}") from e


def test_an_interrupt_just_after_begin_leaves_no_lock_behind(
    path: Path, faulty_connections: type[_FaultyConnection]
) -> None:
    store = SQLiteStore(path)
    other: SQLiteStore | None = None
    try:

        def interrupt() -> None:
            raise Interrupt

        faulty_connections.when = ("after", "BEGIN IMMEDIATE")
        faulty_connections.hook = interrupt
        with pytest.raises(Interrupt), store.transaction():
            pass  # pragma: no cover - never entered
        other = SQLiteStore(path, busy_timeout=0.2)  # another process, say
        with records(other) as tx:
            assert tx.get(USERS, "usr_nobody") is None
        with records(store) as tx:
            assert tx.get(USERS, "usr_nobody") is None
    finally:
        if other is not None:
            other.close()
        store.close()


# -- opening a file ----------------------------------------------------------------------------


def test_opening_waits_for_a_write_lock_held_while_switching_to_wal(path: Path) -> None:
    SQLiteStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        holder.execute("PRAGMA journal_mode = DELETE")  # as a restored backup may come
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("UPDATE users SET name = name")  # an ordinary write, a moment long
        release = threading.Timer(0.3, lambda: holder.execute("ROLLBACK"))
        release.start()
        try:
            opened = SQLiteStore(path, busy_timeout=10)
        finally:
            release.join()
        try:
            assert opened.schema_version >= 1
        finally:
            opened.close()
    finally:
        holder.close()


# -- values SQLite cannot take -----------------------------------------------------------------


def _outcome(call: Callable[[], object]) -> str:
    try:
        call()
    except LicenseKitError as e:
        return f"licensekit {type(e).__name__}"
    except Exception as e:
        return f"raw {type(e).__name__}"
    return "ok"


def _try_on(store: MemoryStore | SQLiteStore, use_case: str) -> str:
    kit = make_licensekit(store=store)
    try:
        admin, account = make_business_account(kit)
        bob = add_member(kit, admin, account.id, "bob@example.com")
        calls: dict[str, Callable[[], object]] = {
            "get_member": lambda: kit.get_member(admin, "acc_\ud800", bob.user_id),
            "cursor": lambda: kit.list_members(admin, account.id, cursor="usr_\ud800"),
            "notes": lambda: kit.block_member(admin, account.id, bob.user_id, notes="\ud800"),
        }
        return _outcome(calls[use_case])
    finally:
        kit.close()


@pytest.mark.parametrize("use_case", ["get_member", "cursor", "notes"])
def test_text_sqlite_cannot_encode_never_escapes_as_a_raw_error(path: Path, use_case: str) -> None:
    outcomes = [_try_on(MemoryStore(), use_case), _try_on(SQLiteStore(path), use_case)]
    memory, sqlite = outcomes
    assert not sqlite.startswith("raw"), f"memory store: {memory}; SQLite store: {sqlite}"
    if use_case == "get_member":
        assert sqlite == f"licensekit {AccountNotFound.__name__}"


# -- errors that end SQLite's transaction --------------------------------------------------------


def test_nothing_from_a_transaction_that_fails_is_kept(path: Path) -> None:
    store = SQLiteStore(path)

    def fill(tx: Any) -> None:
        for n in range(2, 100):
            tx.add(USERS, user(n, name="x" * 3000))

    def carry_on_after_an_error() -> None:
        with records(store) as tx:
            tx.add(USERS, user(1))
            fill_the_disk_soon(tx)
            with pytest.raises(StorageError):
                fill(tx)
            tx.add(USERS, user(1000))  # the caller carries on after the error

    try:
        with pytest.raises(StorageError):
            carry_on_after_an_error()
    finally:
        store.close()
    assert emails_in(path) == set()


# -- LicenseKit(store=<path>) and new_test_store -------------------------------------------------


@pytest.mark.parametrize("wrong", ["secret", "templates"])
def test_a_refused_licensekit_closes_the_store_it_opened(
    path: Path, monkeypatch: pytest.MonkeyPatch, wrong: str
) -> None:
    made: list[SQLiteStore] = []

    class Recorded(SQLiteStore):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(sqlite_module, "SQLiteStore", Recorded)
    options: dict[str, Any] = {"secret": TEST_SECRET}
    options[wrong] = b"too short" if wrong == "secret" else "not templates"
    try:
        with pytest.raises(LicenseKitError):
            LicenseKit(path, RecordingMailer(), join_url=TEST_JOIN_URL, **options)
        # Everything is checked before the file is opened: nothing was opened or created.
        assert made == []
        assert not path.exists()
    finally:
        for store in made:
            store.close()


def test_a_collected_test_store_is_closed_before_its_folder_goes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LICENSEKIT_TEST_STORE", "sqlite")
    store = new_test_store()
    assert isinstance(store, SQLiteStore)
    folder = store.path.parent
    with records(store) as tx:
        tx.add(USERS, user(1))
    connections = list(store._pool.connections)
    del store, tx
    gc.collect()

    def is_closed(connection: sqlite3.Connection) -> bool:
        try:
            connection.execute("SELECT 1")
        except sqlite3.ProgrammingError:
            return True
        return False

    try:
        assert not folder.exists()
        assert connections
        assert all(is_closed(c) for c in connections)
    finally:
        for connection in connections:
            connection.close()


# -- smaller findings of the review ---------------------------------------------------------------


def test_nesting_transactions_of_two_stores_on_one_file_is_refused_at_once(path: Path) -> None:
    first = SQLiteStore(path, busy_timeout=30)
    second = SQLiteStore(path, busy_timeout=30)
    try:
        with (
            first.transaction(),
            pytest.raises(StorageError, match="nested"),
            second.transaction(),
        ):
            pass  # pragma: no cover - never reached
        with records(second) as tx:  # both still work afterwards
            assert tx.get(USERS, "usr_nobody") is None
    finally:
        first.close()
        second.close()


def test_a_datetime_without_a_time_zone_is_refused_not_read_as_local_time(path: Path) -> None:
    from licensekit.model import Throttle

    store = SQLiteStore(path)
    naive = dt.datetime(2030, 1, 1, 9, 0)
    try:
        with pytest.raises(StorageError, match="time zone"), records(store) as tx:
            tx.put(
                THROTTLES, Throttle(key="k", failures=1, window_started_at=naive, expires_at=naive)
            )
        with records(store) as tx:
            assert tx.get(THROTTLES, "k") is None
    finally:
        store.close()


def test_licensekit_closes_only_a_store_it_opened(path: Path) -> None:
    store = SQLiteStore(path)
    try:
        with LicenseKit(store, RecordingMailer(), secret=TEST_SECRET, join_url=TEST_JOIN_URL):
            pass
        with records(store) as tx:  # the host's store is still open
            assert tx.get(USERS, "usr_nobody") is None
    finally:
        store.close()
