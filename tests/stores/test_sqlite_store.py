"""What is specific to the SQLite store: the file, its schema, SQLite's locks and errors.

The statements the store runs and their query plans are checked in
test_sqlite_schema_and_statements.py.

The generic storage contract (round trips, transactions, uniqueness, paging, thread safety)
runs against SQLiteStore in tests/contract/test_store_contract.py. Here: WAL mode and foreign
keys on a new file, forward migrations and the files that must be refused, waiting on a busy
database, driver errors turned into licensekit's, LicenseKit opened from a path, threads and fork,
indexes (query plans, and cost that does not grow with table size), keyset paging, bulk
invitation in one transaction, and LICENSEKIT_TEST_STORE.

Moved (storage port v2): ``test_a_batch_that_clashes_midway_is_undone_whole`` checked that a
caller who carries on after a DuplicateKey keeps its other writes but none of the batch; in
port v2 a refused write ends the transaction and nothing of it is kept, which
``test_sqlite_schema_and_statements.py::test_a_refused_write_ends_the_transaction_even_when_its_error_is_swallowed``
checks (and ``test_a_batch_refused_midway_reports_its_first_bad_record_as_in_order`` the batch).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gc
import hashlib
import io
import multiprocessing
import os
import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest

from _records import records
from licensekit import LicenseKit
from licensekit.exceptions import (
    DuplicateKey,
    IncompatibleStore,
    LicenseKitError,
    SeatsFull,
    StorageBusy,
    StorageError,
    ValidationError,
)
from licensekit.model import (
    BusinessAccount,
    ComputerBlock,
    Installation,
    InstallInvitation,
    InstallInvitationState,
    InvitationState,
    LicenseKey,
    Membership,
    MemberStatus,
    Role,
    SessionMethod,
    SessionRecord,
    User,
)
from licensekit.passwords import PasswordHasher
from licensekit.storage import (
    ACCOUNTS,
    COMPUTER_BLOCKS,
    INSTALL_INVITATIONS,
    INSTALLATIONS,
    LICENSE_KEYS,
    MEMBERSHIPS,
    SESSIONS,
    THROTTLES,
    USERS,
)
from licensekit.stores import sqlite as sqlite_module
from licensekit.stores._sql import BY_NAME, rows_per_statement
from licensekit.stores._sqlite_schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from licensekit.stores._sqlite_transaction import SQLiteTransaction
from licensekit.stores.memory import MemoryStore
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import (
    TEST_DOWNLOAD_URL,
    TEST_JOIN_URL,
    TEST_PASSWORD,
    TEST_SECRET,
    LicenseKitForTests,
    RecordingMailer,
    make_business_account,
    make_licensekit,
    new_test_store,
)

T0 = dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.UTC)
T0_TEXT = "2030-01-01T09:00:00.000000+00:00"  # how the schema stores T0
TABLES = {
    "users",
    "business_accounts",
    "memberships",
    "join_invitations",
    "sessions",
    "audit_events",
    "throttles",
    "license_keys",
    "install_invitations",
    "installations",
    "computer_blocks",
}


# -- helpers -------------------------------------------------------------------------------


@contextlib.contextmanager
def raw(path: Path, **options: Any) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection in autocommit mode, always closed."""
    connection = sqlite3.connect(path, isolation_level=None, **options)
    try:
        yield connection
    finally:
        connection.close()


def pragma(path: Path, name: str) -> Any:
    with raw(path) as connection:
        return connection.execute(f"PRAGMA {name}").fetchone()[0]


def table_names(path: Path) -> set[str]:
    with raw(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def without_path(error: BaseException, path: Path) -> str:
    """The error's message with the file's path taken out (it may contain any digits)."""
    return str(error).replace(str(path), "<path>")


def digest(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


@attrs.frozen
class World:
    """An administrator, their account, a 3-seat key and one invitation to install."""

    admin: User
    account: BusinessAccount
    key: LicenseKey
    invitation: InstallInvitation

    def invitation_n(self, n: int, **fields: Any) -> InstallInvitation:
        return attrs.evolve(
            self.invitation,
            id=f"inst_{n:06d}",
            email=f"installer{n}@example.com",
            code_hash=digest(f"code {n}"),
            token_hash=digest(f"download {n}"),
            **fields,
        )

    def installation(self, n: int, *, key_id: str | None = None, **fields: Any) -> Installation:
        return Installation(
            id=fields.pop("id", f"ins_{n:06d}"),
            account_id=self.account.id,
            key_id=self.key.id if key_id is None else key_id,
            computer_id=fields.pop("computer_id", f"PC-{n}"),
            computer_name=f"Desk {n}",
            email="installer@example.com",
            invitation_id=fields.pop("invitation_id", self.invitation.id),
            activated_at=T0,
            last_seen_at=T0,
            token_hash=fields.pop("token_hash", digest(f"installation {n}")),
            **fields,
        )


def make_world(store: SQLiteStore) -> World:
    admin = User(id="usr_admin", email="admin@example.com", created_at=T0)
    account = BusinessAccount(id="acc_alpha", name="Alpha", created_at=T0, created_by=admin.id)
    key = LicenseKey(
        id="key_alpha",
        account_id=account.id,
        product="Suite",
        seats=3,
        seats_used=0,
        created_at=T0,
        created_by=admin.id,
        value_hash=digest("value"),
        value_ciphertext=b"ciphertext",
    )
    invitation = InstallInvitation(
        id="inst_first",
        account_id=account.id,
        key_id=key.id,
        email="installer@example.com",
        language="en",
        invited_by=admin.id,
        created_at=T0,
        expires_at=T0 + dt.timedelta(days=7),
        code_hash=digest("code"),
        token_hash=digest("download"),
        secret_ciphertext=b"secret",
    )
    with records(store) as tx:
        tx.add(USERS, admin)
        tx.add(ACCOUNTS, account)
        tx.add(LICENSE_KEYS, key)
        tx.add_all(INSTALL_INVITATIONS, [invitation])
    return World(admin, account, key, invitation)


def add_a_user(tx: Any) -> None:
    tx.add(USERS, User(id="usr_new", email="new@example.com", created_at=T0))


def in_one_transaction(store: SQLiteStore, *writes: Callable[[Any], object]) -> None:
    """Run *writes* in order, in one transaction of *store*."""
    with records(store) as tx:
        for write in writes:
            write(tx)


def kit_on(store: SQLiteStore) -> LicenseKitForTests:
    return make_licensekit(store=store)


def invite_and_export(
    kit: LicenseKit, seats: int, count: int, *, prefix: str = "pc"
) -> tuple[Any, Any, Any, list[str]]:
    """An account with a key of *seats* seats and *count* invitations; return their codes."""
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="Suite", value="KEY-1", seats=seats)
    emails = [f"{prefix}{n:05d}@example.com" for n in range(count)]
    kit.invite_installers(admin, account.id, key.id, emails, send=False)
    exported = kit.export_install_invitations(admin, account.id, key.id)
    code_of = {row[0]: row[1] for row in list(csv.reader(io.StringIO(exported)))[1:]}
    return admin, account, key, [code_of[email] for email in emails]


def make_version_1(path: Path) -> str:
    """A file at schema version 1 (as the first release left it), with a user and account.

    Returns the administrator's password hash, so that the test can compare what it reads.
    """
    password_hash = PasswordHasher.insecure_fast().hash(TEST_PASSWORD)
    with raw(path) as connection:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("BEGIN")
        for statement in MIGRATIONS[0]:
            connection.execute(statement)
        connection.execute("PRAGMA user_version = 1")
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        connection.execute(
            "INSERT INTO users (id, email, created_at, password_hash, name) VALUES (?,?,?,?,?)",
            ("usr_old", "old@example.com", T0_TEXT, password_hash, "Olga Old"),
        )
        connection.execute(
            "INSERT INTO business_accounts (id, name, created_at, created_by) VALUES (?,?,?,?)",
            ("acc_old", "Old Ltd", T0_TEXT, "usr_old"),
        )
        connection.execute(
            "INSERT INTO memberships (account_id, user_id, role, status, joined_at, updated_at,"
            " changed_by, notes, admin_grant, license_keys) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                "acc_old",
                "usr_old",
                Role.ACCOUNT_ADMINISTRATOR.value,
                MemberStatus.ACTIVE.value,
                T0_TEXT,
                T0_TEXT,
                None,
                "",
                1,
                "[]",
            ),
        )
        connection.execute("COMMIT")
    return password_hash


def snapshot(path: Path) -> tuple[Any, ...]:
    """What a failed open must not change: version, application id, schema and rows."""
    with raw(path) as connection:
        schema = connection.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name")
        return (
            connection.execute("PRAGMA user_version").fetchone()[0],
            connection.execute("PRAGMA application_id").fetchone()[0],
            schema.fetchall(),
            connection.execute("SELECT * FROM users ORDER BY id").fetchall(),
            connection.execute("SELECT * FROM memberships").fetchall(),
        )


# -- a new file ------------------------------------------------------------------------------


def test_new_file_is_in_wal_mode_with_the_whole_schema(path: Path) -> None:
    store = SQLiteStore(path)
    try:
        assert store.schema_version == len(MIGRATIONS) == SCHEMA_VERSION
        # Read from a connection of our own: what the file says, not what the store thinks.
        assert pragma(path, "journal_mode") == "wal"
        assert pragma(path, "user_version") == len(MIGRATIONS)
        assert pragma(path, "application_id") == APPLICATION_ID
        assert table_names(path) >= TABLES
        assert store.integrity_check() == []
    finally:
        store.close()


def _orphans(w: World) -> dict[str, Callable[[Any], None]]:
    """Writes that refer to a record that does not exist, one per kind of reference."""
    return {
        "installation of a missing key": lambda tx: tx.add(
            INSTALLATIONS, w.installation(1, key_id="key_missing")
        ),
        "installation of a missing invitation": lambda tx: tx.add(
            INSTALLATIONS, w.installation(2, invitation_id="inst_missing")
        ),
        "invitation of a missing key": lambda tx: tx.add_all(
            INSTALL_INVITATIONS, [w.invitation_n(3, key_id="key_missing")]
        ),
        "membership of a missing user": lambda tx: tx.put(
            MEMBERSHIPS,
            Membership(
                account_id=w.account.id,
                user_id="usr_missing",
                role=Role.REGULAR_MEMBER,
                status=MemberStatus.ACTIVE,
                joined_at=T0,
                updated_at=T0,
            ),
        ),
        "session of a missing user": lambda tx: tx.add(
            SESSIONS,
            SessionRecord(
                id="ses_orphan",
                token_hash=digest("session"),
                user_id="usr_missing",
                method=SessionMethod.PASSWORD,
                issued_at=T0,
                expires_at=T0 + dt.timedelta(hours=1),
            ),
        ),
    }


@pytest.mark.parametrize(
    "orphan",
    [
        "installation of a missing key",
        "installation of a missing invitation",
        "invitation of a missing key",
        "membership of a missing user",
        "session of a missing user",
    ],
)
def test_foreign_keys_are_enforced_at_commit(store: SQLiteStore, orphan: str) -> None:
    w = make_world(store)
    before = store.dump()
    written: list[str] = []
    with pytest.raises(StorageError) as info:
        in_one_transaction(
            store,
            add_a_user,
            _orphans(w)[orphan],
            lambda tx: written.append(orphan),  # references are checked only at commit
        )
    assert written == [orphan]
    assert not isinstance(info.value, DuplicateKey)
    assert isinstance(info.value.__cause__, sqlite3.IntegrityError)
    assert "foreign key" in str(info.value).lower()
    assert store.dump() == before  # nothing of the transaction is left, not even the user
    with records(store) as tx:  # and the store's connection is fine afterwards
        tx.add(USERS, User(id="usr_new", email="new@example.com", created_at=T0))
    assert store.integrity_check() == []


def test_reopening_a_file_keeps_everything(path: Path) -> None:
    with kit_on(SQLiteStore(path)) as kit:
        admin, account = make_business_account(kit)
        kit.add_license_key(admin, account.id, product="Suite", value="KEY-1", seats=2)
        before = kit.store.dump()
    store = SQLiteStore(path)
    try:
        assert store.dump() == before
        assert store.schema_version == SCHEMA_VERSION
    finally:
        store.close()


# -- migrations and files that must be refused -------------------------------------------------


def test_a_version_1_file_is_migrated_and_its_records_still_work(path: Path) -> None:
    password_hash = make_version_1(path)
    assert pragma(path, "user_version") == 1
    assert "license_keys" not in table_names(path)

    store = SQLiteStore(path)
    with kit_on(store) as kit:
        assert store.schema_version == SCHEMA_VERSION
        with records(store) as tx:
            assert tx.get(USERS, "usr_old") == User(
                id="usr_old",
                email="old@example.com",
                created_at=T0,
                password_hash=password_hash,
                name="Olga Old",
            )
            assert tx.get(ACCOUNTS, "acc_old") == BusinessAccount(
                id="acc_old", name="Old Ltd", created_at=T0, created_by="usr_old"
            )
            membership = tx.get(MEMBERSHIPS, ("acc_old", "usr_old"))
            assert membership is not None
            assert membership.is_active_administrator
        # The old administrator logs in and licenses computers in their old account.
        admin = kit.log_in("old@example.com", TEST_PASSWORD)
        key = kit.add_license_key(admin, "acc_old", product="Suite", value="OLD-KEY", seats=1)
        kit.invite_installers(admin, "acc_old", key.id, ["ann@example.com", "bob@example.com"])
        kit.activate(code=kit.mailer.last(to="ann@example.com").data["code"], computer_id="A")
        with pytest.raises(SeatsFull):
            kit.activate(code=kit.mailer.last(to="bob@example.com").data["code"], computer_id="B")
        assert store.integrity_check() == []
    assert pragma(path, "user_version") == SCHEMA_VERSION
    assert pragma(path, "application_id") == APPLICATION_ID
    assert table_names(path) >= TABLES


def make_version_3(path: Path) -> str:
    """A file at schema version 3 (before proof of address), with an administrator who
    created Old Ltd and four people invited to it: one whom accepting created, one who had a
    password before accepting, one without a password (single sign-on) who accepted, and one
    who has not accepted.

    Returns the administrator's password hash."""
    password_hash = PasswordHasher.insecure_fast().hash(TEST_PASSWORD)
    joined_at = "2030-01-02T10:30:00.000000+00:00"
    users = [  # id, created_at, password hash, accepted_at
        ("usr_admin", T0_TEXT, password_hash, None),
        ("usr_created", joined_at, password_hash, joined_at),
        ("usr_had_one", T0_TEXT, password_hash, joined_at),
        ("usr_sso", T0_TEXT, None, joined_at),
        ("usr_waiting", T0_TEXT, password_hash, None),
    ]
    with raw(path) as connection:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("BEGIN")
        for step in MIGRATIONS[:3]:
            for statement in step:
                connection.execute(statement)
        connection.execute("PRAGMA user_version = 3")
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        for user_id, created_at, hashed, _ in users:
            connection.execute(
                "INSERT INTO users (id, email, created_at, password_hash, name) VALUES (?,?,?,?,?)",
                (user_id, f"{user_id}@example.com", created_at, hashed, ""),
            )
        connection.execute(
            "INSERT INTO business_accounts (id, name, created_at, created_by) VALUES (?,?,?,?)",
            ("acc_old", "Old Ltd", T0_TEXT, "usr_admin"),
        )
        for user_id, _, _, accepted_at in users[1:]:
            connection.execute(
                "INSERT INTO join_invitations (id, account_id, email, language, invited_by,"
                " created_at, expires_at, token_hash, token_ciphertext, sent_count, accepted_at,"
                " accepted_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    f"jinv_{user_id}",
                    "acc_old",
                    f"{user_id}@example.com",
                    "en",
                    "usr_admin",
                    T0_TEXT,
                    "2030-02-01T09:00:00.000000+00:00",
                    hashlib.sha256(user_id.encode()).digest(),
                    b"ciphertext",
                    1,
                    accepted_at,
                    user_id if accepted_at else None,
                ),
            )
        connection.execute("COMMIT")
    return password_hash


def test_a_version_3_file_learns_who_proved_their_address_by_an_invitation(path: Path) -> None:
    """Migration 3 -> 4: a user whom accepting created, or who has no password, proved the
    address by the link. One who had a password before accepting stays unproven, so that if
    the account was a squatter's, the owner's next proof still evicts them."""
    password_hash = make_version_3(path)

    store = SQLiteStore(path)
    try:
        with records(store) as tx:
            proven = {
                user_id: user.email_verified_at
                for user_id in ("usr_admin", "usr_created", "usr_had_one", "usr_sso", "usr_waiting")
                if (user := tx.get(USERS, user_id)) is not None
            }
            admin = tx.get(USERS, "usr_admin")
        joined = dt.datetime(2030, 1, 2, 10, 30, tzinfo=dt.UTC)
        assert proven == {
            "usr_admin": None,
            "usr_created": joined,
            "usr_had_one": None,
            "usr_sso": joined,
            "usr_waiting": None,
        }
        assert admin is not None
        assert admin.password_hash == password_hash
        with raw(path) as connection:
            indexes = {row[1] for row in connection.execute("PRAGMA index_list(sessions)")}
        assert "sessions_by_user" in indexes
        assert store.integrity_check() == []
    finally:
        store.close()
    assert pragma(path, "user_version") == SCHEMA_VERSION


def test_a_failing_migration_leaves_the_file_at_its_old_version(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_version_1(path)
    before = snapshot(path)
    broken = (*MIGRATIONS, ("CREATE TABLE added_by_the_broken_step (x)", "THIS IS NOT SQL"))
    # The store module imported these names; patch them where it looks them up.
    monkeypatch.setattr(sqlite_module, "MIGRATIONS", broken)
    monkeypatch.setattr(sqlite_module, "SCHEMA_VERSION", len(broken))

    with pytest.raises(StorageError) as info:
        SQLiteStore(path)
    message = without_path(info.value, path)
    assert "migrat" in message.lower()
    assert "1" in message
    assert str(len(broken)) in message
    assert isinstance(info.value.__cause__, sqlite3.Error)
    # Not even the steps before the broken one were kept (they succeeded, then were undone).
    assert snapshot(path) == before
    assert "license_keys" not in table_names(path)

    monkeypatch.undo()  # the real migrations still apply to the untouched file
    store = SQLiteStore(path)
    try:
        assert store.schema_version == SCHEMA_VERSION
    finally:
        store.close()


def test_a_file_from_a_newer_licensekit_is_refused(path: Path) -> None:
    SQLiteStore(path).close()
    newer = SCHEMA_VERSION + 5
    with raw(path) as connection:
        connection.execute(f"PRAGMA user_version = {newer}")
    before = snapshot(path)
    with pytest.raises(IncompatibleStore) as info:
        SQLiteStore(path)
    message = without_path(info.value, path)
    assert str(newer) in message
    assert str(SCHEMA_VERSION) in message
    assert snapshot(path) == before


def test_a_sqlite_file_with_tables_of_its_own_is_refused(path: Path) -> None:
    with raw(path) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
        connection.execute("INSERT INTO notes VALUES ('keep me')")
    with pytest.raises(IncompatibleStore):
        SQLiteStore(path)
    with raw(path) as connection:
        assert connection.execute("SELECT body FROM notes").fetchall() == [("keep me",)]
    assert table_names(path) == {"notes"}
    assert pragma(path, "user_version") == 0


def test_a_file_of_another_application_is_refused(path: Path) -> None:
    with raw(path) as connection:
        connection.execute("PRAGMA application_id = 305419896")  # 0x12345678
    with pytest.raises(IncompatibleStore) as info:
        SQLiteStore(path)
    assert "0x12345678" in without_path(info.value, path)
    assert pragma(path, "application_id") == 0x12345678
    assert table_names(path) == set()


def test_a_refused_file_is_left_exactly_as_it_was(path: Path) -> None:
    with raw(path) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
        connection.execute("INSERT INTO notes VALUES ('keep me')")
    before = path.read_bytes()
    with pytest.raises(IncompatibleStore):
        SQLiteStore(path)
    assert pragma(path, "journal_mode") == "delete"
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    "content",
    [
        random.Random(4).randbytes(8192),
        b"This is a text file, not a database.\n" * 100,
        b"SQLite format 3\x00" + random.Random(5).randbytes(4080),  # the magic, then garbage
    ],
    ids=["random bytes", "text", "corrupt header"],
)
def test_a_file_that_is_not_a_database_is_refused(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    with pytest.raises(StorageError) as info:  # IncompatibleStore is one
        SQLiteStore(path)
    assert isinstance(info.value, LicenseKitError)
    assert isinstance(info.value.__cause__, sqlite3.Error)
    assert path.read_bytes() == content


@pytest.mark.parametrize("content", [b"hi\n", b"This is a text file.\n" * 400])
def test_a_text_file_is_an_incompatible_store(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    with pytest.raises(IncompatibleStore, match="is not a SQLite database"):
        SQLiteStore(path)
    assert path.read_bytes() == content


@pytest.mark.parametrize("where", ["missing folder", "a folder"])
def test_a_path_that_cannot_be_a_database_file_is_a_storage_error(
    tmp_path: Path, where: str
) -> None:
    target = tmp_path / "missing" / "licensekit.db" if where == "missing folder" else tmp_path
    with pytest.raises(StorageError) as info:
        SQLiteStore(target)
    assert isinstance(info.value.__cause__, sqlite3.Error)
    assert str(target) in str(info.value)
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize(
    "options",
    [
        {"synchronous": "off"},
        {"synchronous": "FULLY"},
        {"busy_timeout": -1},
        {"busy_timeout": "x"},
        {"busy_timeout": True},
        {"busy_timeout": None},
        {"cache_mb": 0},
        {"cache_mb": 1.5},
        {"cache_mb": True},
    ],
)
def test_invalid_options_are_refused_before_the_file_is_made(
    path: Path, options: dict[str, Any]
) -> None:
    with pytest.raises(StorageError):
        SQLiteStore(path, **options)
    assert not path.exists()


def test_each_connection_gets_the_page_cache_asked_for(path: Path) -> None:
    for cache_mb, expected in ((None, -16 * 1024), (3, -3 * 1024)):
        options = {} if cache_mb is None else {"cache_mb": cache_mb}
        store = SQLiteStore(path, **options)
        with records(store) as tx:
            connection = tx.port._connection  # type: ignore[attr-defined]
            assert connection.execute("PRAGMA cache_size").fetchone() == (expected,)
        store.close()


# -- a busy database -----------------------------------------------------------------------


def test_a_transaction_gives_up_on_a_lock_held_too_long(path: Path) -> None:
    store = SQLiteStore(path, busy_timeout=0.2)
    try:
        with raw(path, timeout=0) as holder:
            holder.execute("BEGIN IMMEDIATE")
            with pytest.raises(StorageBusy) as info, records(store) as tx:
                tx.get(USERS, "usr_nobody")
            holder.execute("ROLLBACK")
        assert isinstance(info.value, StorageError)
        assert "database is locked" not in str(info.value)
        assert isinstance(info.value.__cause__, sqlite3.OperationalError)
        with records(store) as tx:  # the store works again once the lock is free
            tx.add(USERS, User(id="usr_after", email="after@example.com", created_at=T0))
    finally:
        store.close()


def test_a_transaction_waits_for_a_lock_that_is_released(path: Path) -> None:
    """The holder keeps the write lock for 0.2 s, writes, and commits; the store waits."""
    store = SQLiteStore(path, busy_timeout=30)
    locked = threading.Event()
    failures: list[BaseException] = []

    def hold() -> None:
        try:
            with raw(path, timeout=0) as holder:
                holder.execute("BEGIN IMMEDIATE")
                holder.execute(
                    "INSERT INTO throttles (key, failures, window_started_at, expires_at) "
                    "VALUES ('written while the store waited', 1, ?, ?)",
                    (T0_TEXT, T0_TEXT),
                )
                locked.set()
                time.sleep(0.2)  # how long the lock is held (not a synchronisation)
                holder.execute("COMMIT")
        except BaseException as e:  # pragma: no cover - reported below
            failures.append(e)
            locked.set()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(30)
        with records(store) as tx:
            # The transaction began only after the holder committed: it sees its row.
            assert tx.get(THROTTLES, "written while the store waited") is not None
            tx.delete(THROTTLES, "written while the store waited")
    finally:
        holder.join()
        store.close()
    assert failures == []


def test_opening_a_locked_file_waits_then_raises_storage_busy(path: Path) -> None:
    SQLiteStore(path).close()
    with raw(path, timeout=0) as holder:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(StorageBusy) as info:
            SQLiteStore(path, busy_timeout=0.2)
        holder.execute("ROLLBACK")
    assert "database is locked" not in str(info.value)


def test_a_lock_held_while_switching_to_wal_is_storage_busy(path: Path) -> None:
    SQLiteStore(path).close()
    with raw(path) as connection:
        connection.execute("PRAGMA journal_mode = DELETE")  # as a backup tool might leave it
    with raw(path, timeout=0) as reader:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM users").fetchall()  # holds a shared lock
        with pytest.raises(StorageError) as info:
            SQLiteStore(path, busy_timeout=0.2)
        reader.execute("ROLLBACK")
    assert isinstance(info.value, StorageBusy), repr(info.value)
    assert "database is locked" not in str(info.value)


# -- driver errors ---------------------------------------------------------------------------


def test_a_check_violation_is_a_storage_error_and_nothing_is_written(store: SQLiteStore) -> None:
    w = make_world(store)
    before = store.dump()
    with pytest.raises(StorageError) as info:
        in_one_transaction(
            store,
            add_a_user,
            lambda tx: tx.save(LICENSE_KEYS, attrs.evolve(w.key, seats_used=w.key.seats + 1)),
        )
    assert not isinstance(info.value, DuplicateKey)
    assert isinstance(info.value.__cause__, sqlite3.IntegrityError)
    assert "CHECK" in str(info.value)
    assert store.dump() == before


def _clashes(w: World) -> dict[str, tuple[Callable[[Any], None], str]]:
    """Writes that clash with a unique key of the world, and a word their message must hold."""
    return {
        "user id": (
            lambda tx: tx.add(USERS, attrs.evolve(w.admin, email="other@example.com")),
            "user",
        ),
        "user email": (
            lambda tx: tx.add(USERS, attrs.evolve(w.admin, id="usr_other")),
            "email",
        ),
        "license key value": (
            lambda tx: tx.add(LICENSE_KEYS, attrs.evolve(w.key, id="key_other")),
            "value_hash",
        ),
        "invitation code": (
            lambda tx: tx.add_all(
                INSTALL_INVITATIONS,
                [attrs.evolve(w.invitation_n(1), code_hash=w.invitation.code_hash)],
            ),
            "code",
        ),
        "installation of a computer": (
            lambda tx: [
                tx.add(INSTALLATIONS, w.installation(1, computer_id="PC-SAME")),
                tx.add(INSTALLATIONS, w.installation(2, computer_id="PC-SAME")),
            ],
            "computer",
        ),
    }


@pytest.mark.parametrize(
    "clash",
    ["user id", "user email", "license key value", "invitation code", "installation of a computer"],
)
def test_a_unique_clash_is_a_readable_duplicate_key(store: SQLiteStore, clash: str) -> None:
    w = make_world(store)
    before = store.dump()
    write, word = _clashes(w)[clash]
    with pytest.raises(DuplicateKey) as info:
        in_one_transaction(store, add_a_user, write)
    message = str(info.value)
    assert word in message
    assert "UNIQUE constraint failed" not in message
    assert isinstance(info.value.__cause__, sqlite3.IntegrityError)
    assert store.dump() == before


def test_a_value_sqlite_cannot_bind_is_a_storage_error(store: SQLiteStore) -> None:
    with pytest.raises(StorageError) as info, records(store) as tx:
        tx.get(USERS, object())  # type: ignore[arg-type]
    assert isinstance(info.value.__cause__, sqlite3.Error)


def test_a_closed_store_raises_storage_error(path: Path) -> None:
    store = SQLiteStore(path)
    store.close()
    with pytest.raises(StorageError), store.transaction():
        pass  # pragma: no cover - never entered
    with pytest.raises(StorageError):
        _ = store.schema_version


# -- LicenseKit on a path ------------------------------------------------------------------


def kit_at(path: str | Path, **options: Any) -> LicenseKit:
    return LicenseKit(
        path,
        RecordingMailer(),
        secret=TEST_SECRET,
        join_url=TEST_JOIN_URL,
        download_url=TEST_DOWNLOAD_URL,
        password_hasher=PasswordHasher.insecure_fast(),
        **options,
    )


@pytest.mark.parametrize("as_text", [True, False], ids=["str", "Path"])
def test_licensekit_given_a_path_keeps_its_records_in_that_sqlite_file(
    path: Path, as_text: bool
) -> None:
    first = kit_at(str(path) if as_text else path)
    try:
        assert isinstance(first.store, SQLiteStore)
        assert first.store.path == path
        first.register_user("ada@example.com", TEST_PASSWORD, email_verified=True)
    finally:
        first.close()
    assert path.exists()
    with kit_at(path) as second:
        assert second.log_in("ada@example.com", TEST_PASSWORD).token
    with pytest.raises(StorageError):  # the with block closed it
        second.log_in("ada@example.com", TEST_PASSWORD)
    with pytest.raises(StorageError), second.store.transaction():
        pass  # pragma: no cover - never entered
    if Path("/proc/self/fd").is_dir():
        assert open_descriptors(path) == []


def open_descriptors(path: Path) -> list[str]:
    """This process's open file descriptors on *path* or its -wal and -shm files."""
    names = {str(path), f"{path}-wal", f"{path}-shm"}
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):  # closed since listed
            if os.readlink(fd) in names:
                found.append(os.readlink(fd))
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc/self/fd")
def test_a_licensekit_that_fails_to_start_leaves_no_file_open(path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        LicenseKit(path, RecordingMailer(), secret=b"too short", join_url=TEST_JOIN_URL)
    assert "secret" in str(info.value)  # the error is still at hand, as a host might keep it
    assert open_descriptors(path) == []


@pytest.mark.parametrize("store", [42, b"licensekit.db", None])
def test_licensekit_refuses_what_is_neither_a_store_nor_a_path(store: object) -> None:
    with pytest.raises(ValidationError):
        LicenseKit(
            store=store,  # type: ignore[arg-type]
            mailer=RecordingMailer(),
            secret=TEST_SECRET,
            join_url=TEST_JOIN_URL,
        )


# -- threads, the connection pool, fork ------------------------------------------------------


def count_calls(monkeypatch: pytest.MonkeyPatch, target: Any, name: str) -> Counter[str]:
    """Count the calls of *target*.*name* (patched on that very object)."""
    calls: Counter[str] = Counter()
    original = getattr(target, name)

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, counting)
    return calls


def test_sixteen_threads_never_oversell_ten_seats(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SQLiteStore(path, synchronous="normal")
    kit = kit_on(store)
    admin, account, key, codes = invite_and_export(kit, seats=10, count=40)
    connects = count_calls(monkeypatch, store._pool, "connect")
    transactions = count_calls(monkeypatch, store, "transaction")
    threads = 16
    start = threading.Barrier(threads)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def work(first: int) -> None:
        start.wait(timeout=30)
        for n in range(first, len(codes), threads):
            try:
                kit.activate(code=codes[n], computer_id=f"PC-{n}")
                outcome = "activated"
            except SeatsFull:
                outcome = "SeatsFull"
            except Exception as e:  # every other outcome is counted, and must be zero
                outcome = f"{type(e).__name__}: {e}"
            with lock:
                outcomes[outcome] += 1

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    try:
        assert outcomes == {"activated": 10, "SeatsFull": 30}
        view = kit.get_license_key(admin, account.id, key.id)
        assert (view.seats_used, view.seats_free) == (10, 0)
        installations = kit.list_installations(admin, account.id, key.id, limit=100).items
        assert len(installations) == 10
        # The pool: connections are reused, at most one per thread ever opened.
        assert transactions["transaction"] >= len(codes)  # one per activation, at least
        assert connects["connect"] <= threads
        assert len(store._pool.connections) <= threads + 1
        for connection in store._pool.connections:  # every pooled connection is configured alike
            assert connection.execute("PRAGMA foreign_keys").fetchone() == (1,)
            assert connection.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
        assert store.integrity_check() == []
    finally:
        kit.close()


def test_one_thread_reuses_one_connection(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    connects = count_calls(monkeypatch, store._pool, "connect")
    for n in range(50):
        with records(store) as tx:
            tx.add(USERS, User(id=f"usr_{n}", email=f"u{n}@example.com", created_at=T0))
    assert connects["connect"] == 0  # the connection opened with the store serves them all
    assert len(store._pool.connections) == 1


def run_forked(target: Callable[[Any], None], timeout: float = 60) -> tuple[int | None, Any]:
    """Run target(results_queue) in a forked child; return its exit code and what it put."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=target, args=(results,))
    child.start()
    try:
        outcome = results.get(timeout=timeout)
    finally:
        child.join(timeout)
        results.close()
        results.join_thread()
    return child.exitcode, outcome


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs os.fork")
def test_a_forked_child_opens_its_own_connection(path: Path) -> None:
    store = SQLiteStore(path, synchronous="normal")
    kit = kit_on(store)
    kit.register_user("parent@example.com", TEST_PASSWORD, email_verified=True)
    assert len(store._pool.connections) == 1

    def child(results: Any) -> None:
        inherited = list(
            store._pool.connections
        )  # kept alive, so that no new object can take their ids
        try:
            kit.register_user("child@example.com", TEST_PASSWORD, email_verified=True)
            kit.log_in("parent@example.com", TEST_PASSWORD)
            own = list(store._pool.connections)
            reused = any(c is i for c in own for i in inherited)
            results.put(("worked", len(inherited), len(own), reused, store.integrity_check()))
        except BaseException as e:
            results.put(("failed", repr(e)))

    exit_code, outcome = run_forked(child)
    # The parent's idle connection was closed before the fork: the child inherits none.
    assert outcome == ("worked", 0, 1, False, [])
    assert exit_code == 0
    try:  # the parent carries on with its own connections
        kit.log_in("child@example.com", TEST_PASSWORD)
        kit.register_user("after@example.com", TEST_PASSWORD, email_verified=True)
        assert store.integrity_check() == []
    finally:
        kit.close()


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs os.fork")
def test_a_forked_childs_commits_survive_the_parent_closing_its_store(path: Path) -> None:
    kit = kit_on(SQLiteStore(path, synchronous="normal"))
    kit.register_user("parent@example.com", TEST_PASSWORD, email_verified=True)
    context = multiprocessing.get_context("fork")
    opened, parent_closed = context.Event(), context.Event()

    def child(results: Any) -> None:
        try:
            kit.register_user("child-before@example.com", TEST_PASSWORD, email_verified=True)
            opened.set()
            if not parent_closed.wait(60):
                raise TimeoutError("the parent never closed its store")
            kit.register_user("child-after@example.com", TEST_PASSWORD, email_verified=True)
            results.put("worked")
        except BaseException as e:
            results.put(repr(e))

    results = context.Queue()
    process = context.Process(target=child, args=(results,))
    process.start()
    try:
        assert opened.wait(60)
        kit.close()
        parent_closed.set()
        assert results.get(timeout=60) == "worked"
    finally:
        process.join(60)
        results.close()
        results.join_thread()
    with raw(path) as connection:
        emails = {e for (e,) in connection.execute("SELECT email FROM users")}
    assert emails == {
        "parent@example.com",
        "child-before@example.com",
        "child-after@example.com",
    }


# -- indexes, query plans and cost -------------------------------------------------------------


def query_plan(store: SQLiteStore, sql: str) -> list[str]:
    """SQLite's plan for *sql* on one of the store's own connections (foreign keys on)."""
    with records(store) as tx:
        rows = tx._connection.execute(f"EXPLAIN QUERY PLAN {sql}", [None] * sql.count("?"))
        return [str(row[3]) for row in rows]


def assert_indexed(plan: list[str]) -> None:
    assert plan, "no plan: the statement reads no table"
    for step in plan:
        assert not step.startswith("SCAN"), plan
        assert "TEMP B-TREE" not in step, plan
        if step.startswith("SEARCH"):
            assert " USING " in step, plan
            assert any(way in step for way in ("INDEX", "PRIMARY KEY")), plan


def vm_steps(store: SQLiteStore, work: Callable[[], object]) -> int:
    """How many SQLite virtual machine instructions *work* runs on the store's connections.

    A measure of cost that does not depend on the machine's speed: a look-up through an index
    takes the same number of steps in a small table as in a big one; a scan does not.
    """
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


def activation_steps(path: Path, grow: str, size: int) -> int:
    """The steps of one activation after *size* records of the kind *grow* were made."""
    store = SQLiteStore(path, synchronous="normal")
    kit = kit_on(store)
    try:
        own = size + 1 if grow in ("invitations of the key", "installations of the key") else 1
        admin, account, key, codes = invite_and_export(kit, seats=size + 1, count=own)
        if grow == "installations of the key":
            for n in range(size):
                kit.activate(code=codes[n], computer_id=f"PC-{n}")
        elif grow == "invitations of another key":
            other = kit.add_license_key(admin, account.id, product="Other", value="K-2", seats=1)
            emails = [f"other{n}@example.com" for n in range(size)]
            kit.invite_installers(admin, account.id, other.id, emails, send=False)
        elif grow == "computer blocks":
            with records(store) as tx:
                for n in range(size):
                    tx.put(
                        COMPUTER_BLOCKS,
                        ComputerBlock(
                            account_id=account.id,
                            computer_id=f"BLOCKED-{n}",
                            key_id=key.id if n % 2 else None,
                            blocked_at=T0,
                            blocked_by="usr_admin",
                        ),
                    )
        return vm_steps(store, lambda: kit.activate(code=codes[-1], computer_id="PC-NEW"))
    finally:
        kit.close()


@pytest.mark.parametrize(
    "grow",
    [
        "invitations of another key",
        "invitations of the key",
        "installations of the key",
        "computer blocks",
    ],
)
def test_activation_cost_does_not_grow_with_the_tables(tmp_path: Path, grow: str) -> None:
    small = activation_steps(tmp_path / "small.db", grow, 20)
    big = activation_steps(tmp_path / "big.db", grow, 1500)
    assert big < small * 1.5, f"{small} steps with 20 {grow}, {big} with 1500"


# -- paging ----------------------------------------------------------------------------------


def test_paging_through_a_thousand_installations_returns_each_once(store: SQLiteStore) -> None:
    w = make_world(store)
    ids = [f"ins_{n:04d}_{random.Random(n).randrange(10**6):06d}" for n in range(1000)]
    shuffled = random.Random(7).sample(ids, len(ids))
    with records(store) as tx:
        for n, installation_id in enumerate(shuffled):
            tx.add(INSTALLATIONS, w.installation(n, id=installation_id))
    seen: list[str] = []
    after = None
    while True:
        with records(store) as tx:
            page = tx.page(INSTALLATIONS, w.key.id, after=after, limit=37)
        if not page:
            break
        seen += [i.id for i in page]
        after = (page[-1].id,)
    assert seen == sorted(ids)


def listing_statements(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch, work: Callable[[], object]
) -> list[str]:
    """The SELECTs with an ORDER BY (the pages) that *work* runs, with their values."""
    statements: list[str] = []
    start = SQLiteTransaction.__init__

    def tracing_start(self: SQLiteTransaction, connection: sqlite3.Connection, *rest: Any) -> None:
        connection.set_trace_callback(statements.append)
        start(self, connection, *rest)

    with monkeypatch.context() as patch:
        patch.setattr(SQLiteTransaction, "__init__", tracing_start)
        for connection in store._pool.connections:
            connection.set_trace_callback(statements.append)
        try:
            work()
        finally:
            for connection in store._pool.connections:
                connection.set_trace_callback(None)
    return [s for s in statements if s.startswith("SELECT") and " ORDER BY " in s]


def test_every_filtered_listing_reads_through_an_index(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listings by state or status, blocks and the computer list: each page a filter reads
    is a search of an index in the listing's order, never a scan of the table."""
    kit = kit_on(store)
    admin, account, key, codes = invite_and_export(kit, seats=10, count=12)
    for n in range(4):
        kit.activate(code=codes[n], computer_id=f"PC-{n}")
    kit.block_computer_id(admin, account.id, "PC-9", key_id=key.id)
    kit.invite_members(admin, account.id, ["joiner@example.com"], send=False)
    listings: dict[str, Callable[[], object]] = {
        **{
            f"install invitations {state}": lambda s=state: kit.list_install_invitations(
                admin, account.id, key.id, state=s
            )
            for state in InstallInvitationState
        },
        **{
            f"join invitations {state}": lambda s=state: kit.list_join_invitations(
                admin, account.id, state=s
            )
            for state in InvitationState
        },
        "active installations": lambda: kit.list_installations(admin, account.id, key.id),
        "members not removed": lambda: kit.list_members(admin, account.id),
        "keys not removed": lambda: kit.list_license_keys(admin, account.id),
        "blocked computers": lambda: kit.list_blocked_computers(admin, account.id),
        "computer list": lambda: kit.export_installations(admin, account.id),
    }
    for name, work in listings.items():
        statements = listing_statements(store, monkeypatch, work)
        assert statements, f"{name}: no page was read"
        for sql in statements:
            with contextlib.closing(sqlite3.connect(store.path)) as connection:
                plan = [str(r[3]) for r in connection.execute(f"EXPLAIN QUERY PLAN {sql}")]
            assert not any(step.startswith("SCAN") for step in plan), (name, sql, plan)
            if "expires_at <=" in sql:  # noting expiries: the range of them, sorted
                assert any("_phase_expires_at (" in step for step in plan), (name, plan)
                plan = [step for step in plan if step != "USE TEMP B-TREE FOR ORDER BY"]
            assert_indexed(plan)
            if " WHERE " in sql and any(w in sql for w in ("phase =", "status =", "key_id =")):
                assert any(" USING " in step and "INDEX" in step for step in plan), (name, plan)


# -- bulk invitation -----------------------------------------------------------------------


def test_inviting_thousands_is_one_transaction_of_batched_statements(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    kit = kit_on(store)
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="Suite", value="K-BULK", seats=5)
    transactions = count_calls(monkeypatch, store, "transaction")
    statements: list[str] = []
    start = SQLiteTransaction.__init__

    def tracing_start(self: SQLiteTransaction, connection: sqlite3.Connection, *rest: Any) -> None:
        connection.set_trace_callback(statements.append)
        start(self, connection, *rest)

    monkeypatch.setattr(SQLiteTransaction, "__init__", tracing_start)

    def invite(count: int, prefix: str) -> tuple[int, Counter[str], list[str]]:
        transactions.clear()
        statements.clear()
        emails = [f"{prefix}{n}@example.com" for n in range(count)]
        batch = kit.invite_installers(admin, account.id, key.id, emails, send=False)
        assert len(batch.invited) == count
        inserts = Counter(s.split()[2] for s in statements if s.startswith("INSERT INTO"))
        # What else ran, less BEGIN (traced only once the pooled connection has the tracer).
        others = [s[:40] for s in statements if not s.startswith(("INSERT INTO", "BEGIN"))]
        return transactions["transaction"], inserts, others

    def per_statement(table: str) -> int:
        return rows_per_statement(len(BY_NAME[table].columns), store._max_variables)

    few = invite(30, "few")
    many = invite(3000, "many")
    assert many[0] == 1  # one transaction
    # The invitations and their audit events 500 at a time (bounded memory: the records
    # of one chunk are made, stored and let go), each 500 a chunk per statement.
    assert many[1] == {
        "install_invitations": 6 * -(-500 // per_statement("install_invitations")),
        "audit_events": 6 * -(-500 // per_statement("audit_events")),
    }
    assert per_statement("install_invitations") >= 40  # 40 or more invitations a statement
    assert many[2] == few[2]  # no statement per recipient outside the batches
    with raw(Path(store.path)) as connection:
        assert connection.execute("SELECT count(*) FROM install_invitations").fetchone() == (3030,)


def test_a_bulk_invitation_that_fails_midway_leaves_nothing(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    kit = kit_on(store)
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="Suite", value="K-BULK", seats=5)
    before = store.dump()
    add = SQLiteTransaction.add
    chunks: list[Sequence[Any]] = []

    def clashing_add(self: SQLiteTransaction, kind: Any, added: Sequence[Any]) -> None:
        if kind is INSTALL_INVITATIONS:
            chunks.append(added)
            if len(chunks) == 6:  # the last chunk of 500: its 2,999th reuses the first code
                added = list(added)
                added[498] = attrs.evolve(added[498], code_hash=chunks[0][0].code_hash)
        add(self, kind, added)

    monkeypatch.setattr(SQLiteTransaction, "add", clashing_add)
    emails = [f"r{n}@example.com" for n in range(3000)]
    with pytest.raises(DuplicateKey):
        kit.invite_installers(admin, account.id, key.id, emails, send=False)
    assert store.dump() == before
    monkeypatch.undo()
    assert len(kit.invite_installers(admin, account.id, key.id, emails, send=False).invited) == 3000


# -- LICENSEKIT_TEST_STORE -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("sqlite", SQLiteStore),
        (" SQLite ", SQLiteStore),
        ("memory", MemoryStore),
        ("", MemoryStore),
        (None, MemoryStore),
    ],
)
def test_the_test_store_follows_licensekit_test_store(
    monkeypatch: pytest.MonkeyPatch, value: str | None, kind: type
) -> None:
    if value is None:
        monkeypatch.delenv("LICENSEKIT_TEST_STORE", raising=False)
    else:
        monkeypatch.setenv("LICENSEKIT_TEST_STORE", value)
    store = new_test_store()
    try:
        assert type(store) is kind
        with records(store) as tx:
            tx.add(USERS, User(id="usr_1", email="one@example.com", created_at=T0))
        with records(store) as tx:
            assert tx.get(USERS, "usr_1") is not None
    finally:
        store.close()


def test_a_sqlite_test_store_is_a_new_file_removed_with_the_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LICENSEKIT_TEST_STORE", "sqlite")
    kit = make_licensekit()
    store = kit.store
    assert isinstance(store, SQLiteStore)
    folder = store.path.parent
    assert store.path.exists()
    with make_licensekit() as other:  # every kit gets its own file
        assert isinstance(other.store, SQLiteStore)
        assert other.store.path != store.path
    kit.register_user("ada@example.com", TEST_PASSWORD, email_verified=True)
    kit.close()
    del kit, store
    gc.collect()
    assert not folder.exists()


@pytest.mark.parametrize("value", ["postgresql", "sqlite3", "mem"])
def test_an_unknown_test_store_kind_is_a_validation_error(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("LICENSEKIT_TEST_STORE", value)
    with pytest.raises(ValidationError, match=value):
        new_test_store()
