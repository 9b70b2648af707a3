"""SQLite store behaviour that a mutation audit found no test pinning (each test kills a mutant).

Every test here failed against one deliberate change to ``stores/sqlite.py``,
``stores/_rows.py`` or ``stores/_sqlite_schema.py`` that the rest of the suite let pass: a CHECK
constraint dropped, a listing's ORDER BY removed, datetimes stored in their own time zone, a
busy ``BEGIN`` not retried, deleted rows left readable in the file, and so on. Like
tests/stores/test_sqlite_store.py, a few reach into the store's private attributes (its
connections), only to configure or measure them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import multiprocessing
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

# Before the import below, so that pytest rewrites the suite's asserts into detailed messages.
pytest.register_assert_rewrite("licensekit.testing.contract")

from _records import active_administrators, records  # noqa: E402
from licensekit.exceptions import DuplicateKey, IncompatibleStore, StorageError  # noqa: E402
from licensekit.model import (  # noqa: E402
    BusinessAccount,
    DeliveryStatus,
    InstallInvitation,
    LicenseKey,
    Membership,
    MemberStatus,
    Role,
    SessionMethod,
    SessionRecord,
    Throttle,
    User,
)
from licensekit.storage import (  # noqa: E402
    ACCOUNTS,
    COMPUTER_BLOCKS,
    INSTALL_INVITATIONS,
    JOIN_INVITATIONS,
    LICENSE_KEYS,
    MEMBERSHIPS,
    SESSIONS,
    THROTTLES,
    USERS,
)
from licensekit.storage import Store as StoreV2  # noqa: E402
from licensekit.stores._sqlite_schema import (  # noqa: E402
    APPLICATION_ID,
    MIGRATIONS,
    SCHEMA_VERSION,
)
from licensekit.stores.sqlite import SQLiteStore  # noqa: E402
from licensekit.stores.sqlite import SQLiteStore as SQLiteStoreV2  # noqa: E402
from licensekit.testing.contract import StoreContract  # noqa: E402

T0 = dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.UTC)
T0_TEXT = "2030-01-01T09:00:00.000000+00:00"  # how every licensekit release stores T0
PLUS_TWO = dt.timezone(dt.timedelta(hours=2))
PLUS_FIVE = dt.timezone(dt.timedelta(hours=5))


# -- helpers -------------------------------------------------------------------------------


@contextlib.contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection in autocommit mode (foreign keys off), always closed."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        yield connection
    finally:
        connection.close()


def wal_of(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def digest(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def admin_and_account(tx: Any) -> tuple[User, BusinessAccount]:
    admin = User(id="usr_admin", email="admin@example.com", created_at=T0)
    account = BusinessAccount(id="acc_alpha", name="Alpha", created_at=T0, created_by=admin.id)
    tx.add(USERS, admin)
    tx.add(ACCOUNTS, account)
    return admin, account


def license_key(**fields: Any) -> LicenseKey:
    values: dict[str, Any] = {
        "id": "key_alpha",
        "account_id": "acc_alpha",
        "product": "Suite",
        "seats": 3,
        "seats_used": 0,
        "created_at": T0,
        "created_by": "usr_admin",
        "value_hash": digest("value"),
        "value_ciphertext": b"ciphertext",
    }
    return LicenseKey(**(values | fields))


def install_invitation(**fields: Any) -> InstallInvitation:
    values: dict[str, Any] = {
        "id": "inst_first",
        "account_id": "acc_alpha",
        "key_id": "key_alpha",
        "email": "installer@example.com",
        "language": "en",
        "invited_by": "usr_admin",
        "created_at": T0,
        "expires_at": T0 + dt.timedelta(days=7),
        "code_hash": digest("code"),
        "token_hash": digest("download"),
        "secret_ciphertext": b"secret",
    }
    return InstallInvitation(**(values | fields))


def session(n: int, expires_at: dt.datetime, **fields: Any) -> SessionRecord:
    values: dict[str, Any] = {
        "id": f"ses_{n}",
        "token_hash": digest(f"session {n}"),
        "user_id": "usr_admin",
        "method": SessionMethod.PASSWORD,
        "issued_at": T0 - dt.timedelta(hours=1),
        "expires_at": expires_at,
    }
    return SessionRecord(**(values | fields))


# -- the schema's CHECK constraints -----------------------------------------------------------

# Values that no bug may ever store: each write must be refused by the database itself.
_BROKEN_RULES: dict[str, Callable[[Any], None]] = {
    "a key without seats": lambda tx: tx.add(LICENSE_KEYS, license_key(seats=0)),
    "a key with fewer than no seats used": lambda tx: tx.add(
        LICENSE_KEYS, license_key(seats_used=-1)
    ),
    "an invitation allowing no activation": lambda tx: tx.add_all(
        INSTALL_INVITATIONS, [install_invitation(max_activations=0, activations=0)]
    ),
    "an invitation activated beyond its maximum": lambda tx: tx.add_all(
        INSTALL_INVITATIONS,
        [install_invitation(max_activations=2, activations=3, computer_ids=("A", "B", "C"))],
    ),
    "an invitation with fewer than no activations": lambda tx: tx.add_all(
        INSTALL_INVITATIONS, [install_invitation(activations=-1)]
    ),
}


@pytest.mark.parametrize("rule", sorted(_BROKEN_RULES))
def test_the_schema_refuses_counts_no_use_case_may_store(store: SQLiteStore, rule: str) -> None:
    with records(store) as tx:
        admin_and_account(tx)
        if "invitation" in rule:
            tx.add(LICENSE_KEYS, license_key())
    before = store.dump()
    with pytest.raises(StorageError) as info, records(store) as tx:
        _BROKEN_RULES[rule](tx)
    assert not isinstance(info.value, DuplicateKey)
    assert isinstance(info.value.__cause__, sqlite3.IntegrityError)
    assert "CHECK" in str(info.value)
    assert store.dump() == before


def test_saving_an_invitation_activated_beyond_its_maximum_is_refused(store: SQLiteStore) -> None:
    invitation = install_invitation(max_activations=1)
    with records(store) as tx:
        admin_and_account(tx)
        tx.add(LICENSE_KEYS, license_key())
        tx.add_all(INSTALL_INVITATIONS, [invitation])
    broken = attrs.evolve(invitation, activations=2, computer_ids=("A", "B"))
    with pytest.raises(StorageError) as info, records(store) as tx:
        tx.save(INSTALL_INVITATIONS, broken)
    assert "CHECK" in str(info.value)
    with records(store) as tx:
        assert tx.get(INSTALL_INVITATIONS, invitation.id) == invitation


# -- listings never depend on the order SQLite happens to choose -------------------------------


@pytest.fixture
def unordered_rows_reversed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every connection opened from now on returns the rows of a SELECT without ORDER BY in
    the reverse of SQLite's natural order (``PRAGMA reverse_unordered_selects``)."""
    connect = sqlite3.connect

    def connect_reversed(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection: sqlite3.Connection = connect(*args, **kwargs)
        connection.execute("PRAGMA reverse_unordered_selects = ON")
        return connection

    monkeypatch.setattr(sqlite3, "connect", connect_reversed)


class TestSQLiteStoreWithUnorderedRowsReversed(StoreContract):
    """The whole storage contract (listing and look-up order included) still holds when SQLite
    returns unordered rows backwards: every ordered result asks for its order. The contract
    is storage port v2's, so the store is the port v2 one."""

    @pytest.fixture(autouse=True)
    def _reverse_unordered_rows(self, unordered_rows_reversed: None) -> None:
        """Applied before the contract's store fixture opens a store."""

    def make_store(self) -> StoreV2:
        return SQLiteStoreV2(self.tmp_path / "licensekit.db", synchronous="normal")

    def reopen_store(self, store: StoreV2) -> StoreV2 | None:
        store.close()
        return SQLiteStoreV2(self.tmp_path / "licensekit.db", synchronous="normal")


# -- datetimes: UTC, fixed width ----------------------------------------------------------------


def test_datetimes_in_other_time_zones_compare_as_the_moments_they_are(
    store: SQLiteStore,
) -> None:
    nine = T0  # 09:00 UTC
    early = session(1, expires_at=dt.datetime(2030, 1, 1, 10, 30, tzinfo=PLUS_TWO))  # 08:30 UTC
    late = session(2, expires_at=dt.datetime(2030, 1, 1, 9, 30, tzinfo=dt.UTC))
    with records(store) as tx:
        admin_and_account(tx)
        tx.add(SESSIONS, early)
        tx.add(SESSIONS, late)
        for n, expires in enumerate([early.expires_at, late.expires_at]):
            tx.put(
                THROTTLES,
                Throttle(key=f"k{n}", failures=1, window_started_at=T0, expires_at=expires),
            )
    moment = nine.astimezone(PLUS_FIVE)  # 14:00+05:00: after 08:30 UTC, before 09:30 UTC
    with records(store) as tx:
        assert tx.delete_expired(SESSIONS, moment) == 1
        assert tx.delete_expired(THROTTLES, moment) == 1
    with records(store) as tx:
        assert tx.find(SESSIONS, token_hash=early.token_hash) is None
        assert tx.find(SESSIONS, token_hash=late.token_hash) == late
        assert tx.get(THROTTLES, "k0") is None
        assert tx.get(THROTTLES, "k1") is not None


def test_datetimes_are_stored_as_fixed_width_utc_text(store: SQLiteStore, path: Path) -> None:
    """The file format every release wrote: files are shared across versions and migrated, and
    ``expires_at <= ?`` compares text, which is time order only in this one form."""
    expires = T0.astimezone(PLUS_TWO)  # 11:00+02:00, whole seconds
    with records(store) as tx:
        admin_and_account(tx)
        tx.add(SESSIONS, session(1, expires_at=expires))
    with raw(path) as connection:
        (stored,) = connection.execute("SELECT expires_at FROM sessions").fetchone()
    assert stored == T0_TEXT


def test_a_session_written_by_an_earlier_release_expires_at_its_moment(
    store: SQLiteStore, path: Path
) -> None:
    with records(store) as tx:
        admin_and_account(tx)
    with raw(path) as connection:
        connection.execute(
            "INSERT INTO sessions (id, token_hash, user_id, method, issued_at, expires_at,"
            " admin_grants) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ("ses_old", digest("old"), "usr_admin", "password", T0_TEXT, T0_TEXT, "{}"),
        )
    with records(store) as tx:
        assert tx.delete_expired(SESSIONS, T0) == 1


# -- waiting for the write lock ---------------------------------------------------------------


class _ThroughConnection(sqlite3.Cursor):
    """A cursor whose statements run through its connection's ``execute``, hooks and all.

    The store runs ``BEGIN``, ``COMMIT`` and its hot look-ups on a cursor it keeps.
    """

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        return self.connection.execute(sql, *args)


class _GivesUpOnce(sqlite3.Connection):
    """A connection whose next ``BEGIN IMMEDIATE`` fails at once with a real SQLITE_BUSY, as
    SQLite's own wait does when it gives up early (while another process recovers the log)."""

    armed = False

    def cursor(self, factory: Any = None) -> sqlite3.Cursor:  # type: ignore[override]
        return super().cursor(_ThroughConnection)

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "BEGIN IMMEDIATE" and _GivesUpOnce.armed:
            _GivesUpOnce.armed = False
            timeout = super().execute("PRAGMA busy_timeout").fetchone()[0]
            database = super().execute("PRAGMA database_list").fetchone()[2]
            with raw(Path(database)) as holder:
                holder.execute("BEGIN IMMEDIATE")
                super().execute("PRAGMA busy_timeout = 0")
                try:
                    super().execute(sql, *args)
                finally:
                    super().execute(f"PRAGMA busy_timeout = {timeout}")
                    holder.execute("ROLLBACK")
            raise AssertionError("BEGIN IMMEDIATE took a lock that another connection held")
        return super().execute(sql, *args)


def test_a_begin_that_sqlite_gives_up_early_is_tried_again(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: connect(*a, factory=_GivesUpOnce, **k))
    store = SQLiteStore(path, busy_timeout=30)
    try:
        _GivesUpOnce.armed = True
        with records(store) as tx:
            tx.add(USERS, User(id="usr_1", email="one@example.com", created_at=T0))
        assert not _GivesUpOnce.armed  # the failure did happen
        with records(store) as tx:
            assert tx.get(USERS, "usr_1") is not None
    finally:
        _GivesUpOnce.armed = False
        store.close()


# -- files that must be refused ----------------------------------------------------------------


def test_a_file_one_schema_version_ahead_is_refused(path: Path) -> None:
    SQLiteStore(path).close()
    with raw(path) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(IncompatibleStore) as info:
        SQLiteStore(path)
    assert str(SCHEMA_VERSION + 1) in str(info.value)


def test_a_file_at_the_current_version_that_lacks_a_column_is_refused(path: Path) -> None:
    SQLiteStore(path).close()
    with raw(path) as connection:
        connection.execute("ALTER TABLE join_invitations DROP COLUMN delivery_error")
    with pytest.raises(IncompatibleStore) as info:
        SQLiteStore(path)
    assert "join_invitations" in str(info.value)
    assert "delivery_error" in str(info.value)


# -- migrations ------------------------------------------------------------------------------


def make_version_2(path: Path) -> None:
    """A file at schema version 2 (before delivery tracking), with invitations sent or not."""
    with raw(path) as connection:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("BEGIN")
        for step in MIGRATIONS[:2]:
            for statement in step:
                connection.execute(statement)
        connection.execute("PRAGMA user_version = 2")
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        connection.execute(
            "INSERT INTO users (id, email, created_at, password_hash, name) VALUES (?,?,?,?,?)",
            ("usr_old", "old@example.com", T0_TEXT, None, ""),
        )
        connection.execute(
            "INSERT INTO business_accounts (id, name, created_at, created_by) VALUES (?,?,?,?)",
            ("acc_old", "Old Ltd", T0_TEXT, "usr_old"),
        )
        for n, sent in enumerate([2, 0]):
            connection.execute(
                "INSERT INTO join_invitations (id, account_id, email, language, invited_by,"
                " created_at, expires_at, token_hash, token_ciphertext, sent_count,"
                " last_sent_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    f"inv_{n}",
                    "acc_old",
                    f"joiner{n}@example.com",
                    "en",
                    "usr_old",
                    T0_TEXT,
                    T0_TEXT,
                    digest(f"join {n}"),
                    b"ciphertext",
                    sent,
                    T0_TEXT if sent else None,
                ),
            )
        connection.execute(
            "INSERT INTO license_keys (id, account_id, product, seats, seats_used, created_at,"
            " created_by, value_hash, value_ciphertext, status) VALUES (?,?,?,?,?,?,?,?,?,?)",
            ("key_old", "acc_old", "Suite", 2, 0, T0_TEXT, "usr_old", digest("v"), b"c", "active"),
        )
        for n, sent in enumerate([3, 0]):
            connection.execute(
                "INSERT INTO install_invitations (id, account_id, key_id, email, language,"
                " invited_by, created_at, expires_at, code_hash, token_hash, secret_ciphertext,"
                " max_activations, activations, computer_ids, sent_count, last_sent_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    f"inst_{n}",
                    "acc_old",
                    "key_old",
                    f"installer{n}@example.com",
                    "en",
                    "usr_old",
                    T0_TEXT,
                    T0_TEXT,
                    digest(f"code {n}"),
                    digest(f"download {n}"),
                    b"secret",
                    1,
                    0,
                    "[]",
                    sent,
                    T0_TEXT if sent else None,
                ),
            )
        connection.execute("COMMIT")


def test_invitations_sent_before_delivery_tracking_count_as_sent_after_migration(
    path: Path,
) -> None:
    make_version_2(path)
    store = SQLiteStore(path)
    try:
        with records(store) as tx:
            found = {
                "inv_0": tx.get(JOIN_INVITATIONS, "inv_0"),
                "inv_1": tx.get(JOIN_INVITATIONS, "inv_1"),
                "inst_0": tx.get(INSTALL_INVITATIONS, "inst_0"),
                "inst_1": tx.get(INSTALL_INVITATIONS, "inst_1"),
            }
        delivery = {
            name: None if found is None else (found.delivery, found.delivery_attempts)
            for name, found in found.items()
        }
        assert delivery == {
            "inv_0": (DeliveryStatus.SENT, 2),
            "inv_1": (DeliveryStatus.NOT_SENT, 0),
            "inst_0": (DeliveryStatus.SENT, 3),
            "inst_1": (DeliveryStatus.NOT_SENT, 0),
        }
        assert store.integrity_check() == []
    finally:
        store.close()


# -- integrity_check ---------------------------------------------------------------------------


def test_integrity_check_reports_a_row_whose_reference_is_missing(
    store: SQLiteStore, path: Path
) -> None:
    with raw(path) as connection:  # foreign keys are off on a plain connection
        connection.execute(
            "INSERT INTO sessions (id, token_hash, user_id, method, issued_at, expires_at,"
            " admin_grants) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ("ses_orphan", digest("orphan"), "usr_missing", "password", T0_TEXT, T0_TEXT, "{}"),
        )
    problems = store.integrity_check()
    assert len(problems) == 1
    assert "foreign key" in problems[0]
    assert "sessions" in problems[0]
    assert "users" in problems[0]


# -- what a connection is configured to do ------------------------------------------------------


@pytest.mark.parametrize(
    ("synchronous", "level"),
    [(None, 2), ("full", 2), ("normal", 1)],
    ids=["default", "full", "normal"],
)
def test_connections_run_with_the_settings_asked_for(
    path: Path, synchronous: str | None, level: int
) -> None:
    options: dict[str, Any] = {} if synchronous is None else {"synchronous": synchronous}
    store = SQLiteStore(path, **options)
    try:
        with store.transaction() as tx:
            connection = tx._connection
            assert connection.execute("PRAGMA synchronous").fetchone()[0] == level
            assert connection.execute("PRAGMA trusted_schema").fetchone()[0] == 0
            assert connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        store.close()


@pytest.fixture(params=["SQLite's default", "a SQLite that does not overwrite by default"])
def sqlite_build(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Some builds of SQLite (Debian's) overwrite deleted content by default, others do not
    (``SQLITE_SECURE_DELETE``); the second kind is emulated by turning it off at connect."""
    if request.param == "SQLite's default":
        return
    connect = sqlite3.connect

    def connect_without_secure_delete(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection: sqlite3.Connection = connect(*args, **kwargs)
        connection.execute("PRAGMA secure_delete = OFF")
        return connection

    monkeypatch.setattr(sqlite3, "connect", connect_without_secure_delete)


@pytest.mark.usefixtures("sqlite_build")
def test_deleted_sessions_and_throttles_leave_nothing_readable_in_the_file(path: Path) -> None:
    """An email in a throttle's key, a session's token hash: gone from the file once deleted."""
    token_hash = b"SESSION-TOKEN-HASH-THAT-MUST-GO!"
    throttle_key = "password:forgotten-person@example.com"
    store = SQLiteStore(path, synchronous="normal")
    try:
        with records(store) as tx:
            admin_and_account(tx)
            tx.add(SESSIONS, session(1, expires_at=T0, token_hash=token_hash))
            tx.put(
                THROTTLES,
                Throttle(key=throttle_key, failures=1, window_started_at=T0, expires_at=T0),
            )
        with records(store) as tx:
            tx.delete(SESSIONS, "ses_1")
            tx.delete(THROTTLES, throttle_key)
    finally:
        store.close()
    assert not wal_of(path).exists()  # everything is in the database file itself
    content = path.read_bytes()
    assert token_hash not in content
    assert throttle_key.encode() not in content


# -- text SQLite cannot encode -----------------------------------------------------------------


def test_deleting_by_text_that_is_not_valid_unicode_deletes_nothing(store: SQLiteStore) -> None:
    throttle = Throttle(
        key="password:a@example.com", failures=1, window_started_at=T0, expires_at=T0
    )
    with records(store) as tx:
        admin_and_account(tx)
        tx.add(SESSIONS, session(1, expires_at=T0))
        tx.put(THROTTLES, throttle)
    before = store.dump()
    with records(store) as tx:
        tx.delete(SESSIONS, "ses_\ud800")
        tx.delete(THROTTLES, "password:\ud800")
        tx.delete(COMPUTER_BLOCKS, ("acc_alpha", "PC-\ud800", None))
    assert store.dump() == before


# -- cost ------------------------------------------------------------------------------------


def count_steps(store: SQLiteStore, work: Callable[[], object]) -> int:
    """SQLite virtual machine instructions *work* runs: a measure of cost that does not depend
    on the machine's speed."""
    steps = 0

    def tick() -> int:
        nonlocal steps
        steps += 1
        return 0

    for connection in store._pool.connections:
        connection.set_progress_handler(tick, 1)
    try:
        work()
    finally:
        for connection in store._pool.connections:
            connection.set_progress_handler(None, 1)
    return steps


def admin_count_steps(path: Path, members: int) -> int:
    """The steps of counting an account's 2 active administrators among *members* others."""
    store = SQLiteStore(path, synchronous="normal")
    try:
        with records(store) as tx:
            admin_and_account(tx)
            for n in range(members + 2):
                tx.add(USERS, User(id=f"usr_{n:05d}", email=f"u{n}@example.com", created_at=T0))
                tx.put(
                    MEMBERSHIPS,
                    Membership(
                        account_id="acc_alpha",
                        user_id=f"usr_{n:05d}",
                        role=Role.ACCOUNT_ADMINISTRATOR if n < 2 else Role.REGULAR_MEMBER,
                        status=MemberStatus.ACTIVE,
                        joined_at=T0,
                        updated_at=T0,
                    ),
                )

        def count() -> None:
            with records(store) as tx:
                assert active_administrators(tx, "acc_alpha") == 2

        return count_steps(store, count)
    finally:
        store.close()


def test_counting_administrators_does_not_grow_with_the_other_members(tmp_path: Path) -> None:
    small = admin_count_steps(tmp_path / "small.db", 10)
    big = admin_count_steps(tmp_path / "big.db", 990)
    assert big < small * 1.5, f"{small} steps with 10 other members, {big} with 990"


# -- connections are released: after close(), and in a forked child ------------------------------


def test_a_transaction_that_outlives_close_releases_its_connection(path: Path) -> None:
    store = SQLiteStore(path, synchronous="normal")
    inside, closed = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def long_transaction() -> None:
        try:
            with records(store) as tx:
                tx.add(USERS, User(id="usr_1", email="one@example.com", created_at=T0))
                inside.set()
                if not closed.wait(30):
                    raise TimeoutError("the store was never closed")
        except BaseException as e:  # reported to the test below
            failures.append(e)

    worker = threading.Thread(target=long_transaction)
    worker.start()
    try:
        assert inside.wait(30)
        store.close()
    finally:
        closed.set()
        worker.join(30)
    assert failures == []
    # The last connection to the file was closed: SQLite checkpointed and removed the log.
    assert not wal_of(path).exists()
    with raw(path) as connection:
        assert connection.execute("SELECT id FROM users WHERE id = 'usr_1'").fetchall() == [
            ("usr_1",)
        ]


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs os.fork")
def test_closing_the_store_in_a_forked_child_releases_the_childs_connections(path: Path) -> None:
    store = SQLiteStore(path, synchronous="normal")
    with records(store) as tx:
        tx.add(USERS, User(id="usr_parent", email="parent@example.com", created_at=T0))

    def child(results: Any) -> None:
        try:
            with records(store) as tx:
                tx.add(USERS, User(id="usr_child", email="child@example.com", created_at=T0))
            store.close()
            # The child held the only connection: closing it removes the log.
            results.put(("closed", wal_of(path).exists()))
        except BaseException as e:
            results.put(("failed", repr(e)))

    context = multiprocessing.get_context("fork")
    results = context.Queue()
    process = context.Process(target=child, args=(results,))
    process.start()  # the store's idle connection is closed before the fork
    try:
        outcome = results.get(timeout=60)
    finally:
        process.join(60)
        results.close()
        results.join_thread()
        store.close()
    assert outcome == ("closed", False)
    assert process.exitcode == 0
    with raw(path) as connection:
        users = {u for (u,) in connection.execute("SELECT id FROM users")}
    assert users == {"usr_parent", "usr_child"}
