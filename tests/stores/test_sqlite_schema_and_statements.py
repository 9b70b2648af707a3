"""What is particular to the SQLite store of storage port v2 (``stores/sqlite.py``).

Its schema against the record descriptions, the plan of every generated statement, the
migration of files the port v1 store made, how many statements bulk work costs, the lock,
refused writes and the errors the driver's become. What every store does alike is checked by
running the same operations on it and on the memory store (``test_store_parity.py``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from _sqlite_v1_store import SQLiteStore as SQLiteStoreV1
from licensekit.exceptions import DuplicateKey, IncompatibleStore, StorageBusy, StorageError
from licensekit.model import (
    AuditAction,
    AuditEvent,
    BusinessAccount,
    ComputerBlock,
    DeliveryStatus,
    Installation,
    InstallInvitation,
    JoinInvitation,
    LicenseKey,
    Membership,
    MemberStatus,
    Role,
    SessionMethod,
    SessionRecord,
    Throttle,
    User,
)
from licensekit.storage import (
    COMPUTER_BLOCKS,
    INSTALL_INVITATIONS,
    KINDS,
    LICENSE_KEYS,
    MEMBERSHIPS,
    SESSIONS,
    USERS,
    Query,
    missing_operations,
)
from licensekit.stores import sqlite as _sqlite_v2
from licensekit.stores._sql import TABLES, rows_per_statement, schema_problems
from licensekit.stores._sqlite_schema import MIGRATIONS, SCHEMA_VERSION
from licensekit.stores.sqlite import SQLiteStore

T0 = dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


@contextlib.contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection in autocommit mode, always closed."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        yield connection
    finally:
        connection.close()


def digest(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def user(n: int, **changes: Any) -> User:
    fields = {"email": f"person{n}@example.com", "created_at": T0, **changes}
    return User(id=f"usr_{n:04d}", **fields)


def every_kind() -> list[object]:
    """Records of every kind, as licensekit writes them, with every optional field used."""
    admin = user(1, password_hash="$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", name="Ann")
    member = user(2, email_verified_at=T0 + HOUR)
    account = BusinessAccount(id="acc_1", name="Acme ⚙", created_at=T0, created_by=admin.id)
    key = LicenseKey(
        id="key_1",
        account_id=account.id,
        product="Draw",
        seats=3,
        seats_used=1,
        created_at=T0,
        created_by=admin.id,
        value_hash=digest("value"),
        value_ciphertext=b"\x00cipher",
        expires_at=T0 + 400 * 24 * HOUR,
        updated_at=T0 + HOUR,
    )
    invitation = InstallInvitation(
        id="inv_1",
        account_id=account.id,
        key_id=key.id,
        email="installer@example.com",
        language="de",
        invited_by=admin.id,
        created_at=T0,
        expires_at=T0 + 24 * HOUR,
        code_hash=digest("code"),
        token_hash=digest("install token"),
        secret_ciphertext=b"secret",
        max_activations=2,
        activations=1,
        computer_ids=("PC-9", "PC-1"),
        last_activated_at=T0 + HOUR,
        sent_count=1,
        last_sent_at=T0,
        delivery=DeliveryStatus.SENT,
        delivery_attempts=1,
        delivery_started_at=T0,
    )
    return [
        admin,
        member,
        account,
        Membership(
            account_id=account.id,
            user_id=admin.id,
            role=Role.ACCOUNT_ADMINISTRATOR,
            status=MemberStatus.ACTIVE,
            joined_at=T0,
            updated_at=T0,
            admin_grant=2,
        ),
        Membership(
            account_id=account.id,
            user_id=member.id,
            role=Role.REGULAR_MEMBER,
            status=MemberStatus.BLOCKED,
            joined_at=T0,
            updated_at=T0 + HOUR,
            changed_by=admin.id,
            notes="on leave",
            license_keys=frozenset({key.id, "key_2"}),
        ),
        JoinInvitation(
            id="join_1",
            account_id=account.id,
            email=member.email,
            language="fr",
            invited_by=admin.id,
            created_at=T0,
            expires_at=T0 + 48 * HOUR,
            token_hash=digest("join token"),
            token_ciphertext=b"join",
            accepted_at=T0 + HOUR,
            accepted_by=member.id,
            sent_count=2,
            last_sent_at=T0,
            delivery=DeliveryStatus.FAILED,
            delivery_attempts=3,
            delivery_error="421 try later",
            delivery_started_at=T0,
        ),
        SessionRecord(
            id="ses_1",
            token_hash=digest("session"),
            user_id=admin.id,
            method=SessionMethod.PASSWORD,
            issued_at=T0,
            expires_at=T0 + 8 * HOUR,
            admin_grants={account.id: 2},
        ),
        AuditEvent(
            id="evt_1",
            account_id=account.id,
            at=T0,
            actor_id=admin.id,
            action=AuditAction.COMPUTER_BLOCKED,
            subject="PC-7",
            details={"notes": "stolen", "key": "ß"},
        ),
        Throttle(
            key="password:person1@example.com",
            failures=3,
            window_started_at=T0,
            expires_at=T0 + HOUR,
            locked_until=T0 + HOUR,
        ),
        key,
        invitation,
        Installation(
            id="ins_1",
            account_id=account.id,
            key_id=key.id,
            computer_id="PC-9",
            computer_name="Drawing office",
            email=invitation.email,
            invitation_id=invitation.id,
            activated_at=T0,
            last_seen_at=T0 + HOUR,
            token_hash=digest("installation"),
        ),
        ComputerBlock(
            account_id=account.id, computer_id="PC-7", key_id=None, blocked_at=T0, blocked_by="x"
        ),
        ComputerBlock(
            account_id=account.id,
            computer_id="PC-7",
            key_id=key.id,
            blocked_at=T0,
            blocked_by=admin.id,
            notes="stolen",
        ),
    ]


def add_every_kind(store: SQLiteStore) -> list[object]:
    records = every_kind()
    with store.transaction() as tx:
        for kind in KINDS:
            tx.add(kind, [r for r in records if isinstance(r, kind.type)])
    return records


# -- the schema against the descriptions ---------------------------------------------------


def test_the_store_declares_the_port_version_and_lacks_no_operation(store: SQLiteStore) -> None:
    with store.transaction() as tx:
        assert missing_operations(store, tx) == []


def test_a_new_file_has_exactly_the_schema_the_descriptions_ask_for(store: SQLiteStore) -> None:
    """A field added to a record without a migration that adds its column fails here."""
    assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS) == 9
    with raw(store.path) as connection:
        assert schema_problems(connection) == []


def test_the_schema_check_names_a_missing_column_index_and_key(store: SQLiteStore) -> None:
    with raw(store.path) as connection:
        connection.execute("ALTER TABLE users DROP COLUMN name")
        connection.execute("DROP INDEX memberships_by_role")
        connection.execute("DROP INDEX sessions_by_user")
        problems = schema_problems(connection)
    assert problems == [
        "users has no column name",
        "memberships has no index for its count by ('account_id', 'role', 'status')",
        "sessions has no index for its index by ('user_id',)",
    ]


def test_a_file_whose_tables_lack_a_field_is_refused(path: Path) -> None:
    SQLiteStore(path).close()
    with raw(path) as connection:
        connection.execute("ALTER TABLE throttles DROP COLUMN locked_until")
    with pytest.raises(IncompatibleStore, match="locked_until"):
        SQLiteStore(path)


# -- query plans ---------------------------------------------------------------------------


STATEMENTS = [(t.table, name, sql) for t in TABLES for name, sql in t.statements().items()]


def test_every_operation_of_every_kind_has_a_statement_checked_below() -> None:
    names = {name for table, name, _ in STATEMENTS if table == "memberships"}
    assert {
        "insert many",
        "update many",
        "upsert many",
        "delete many",
        "find many by user_id",
        "page after",
        "count by account_id, role, status",
        "increment admin_grant",
    } <= names
    assert ("sessions", "delete expired") in {(t, n) for t, n, _ in STATEMENTS}
    assert ("license_keys", "increment seats_used up to seats") in {
        (t, n) for t, n, _ in STATEMENTS
    }


@pytest.mark.parametrize(
    ("table", "name", "sql"), STATEMENTS, ids=[f"{t}: {n}" for t, n, _ in STATEMENTS]
)
def test_no_statement_scans_a_table(store: SQLiteStore, table: str, name: str, sql: str) -> None:
    """Each look-up, count, page and write finds its rows through an index: none reads
    another owner's records, and its cost does not grow with the table."""
    numbered = [int(n) for n in re.findall(r"\?(\d+)", sql)]
    parameters = [None] * (max(numbered) if numbered else sql.count("?"))
    with raw(store.path) as connection:
        rows = connection.execute(f"EXPLAIN QUERY PLAN {sql}", parameters)
        plan = [str(row[3]) for row in rows]
    tables = {t.table for t in TABLES}
    ranged = re.search(r"page by (\w+), (\w+) (above|up_to)", name)
    for step in plan:
        words = step.split()
        assert not (words[0] == "SCAN" and words[1] in tables), plan
        if ranged is None:
            assert "TEMP B-TREE" not in step, plan  # pages come in the index's order
        else:  # the records in the range, through the range's index, sorted
            assert "TEMP B-TREE" not in step or step == "USE TEMP B-TREE FOR ORDER BY", plan
    if ranged is not None:
        index = f"{table}_by_{ranged[1]}_{ranged[2]}"
        assert any(f"USING INDEX {index} (" in step and ranged[2] in step for step in plan), plan
    if not sql.startswith("INSERT"):  # an insert's conflict check shows no plan
        assert any(table in step and " USING " in step for step in plan), plan


# -- migrating files the port v1 store made -------------------------------------------------


def test_a_file_the_v1_store_made_migrates_with_every_record_kept(path: Path) -> None:
    records = every_kind()
    v1 = SQLiteStoreV1(path, synchronous="normal")
    with v1.transaction() as tx:
        adders = {
            User: tx.add_user,
            BusinessAccount: tx.add_account,
            Membership: tx.save_membership,
            JoinInvitation: lambda r: tx.add_join_invitations([r]),
            SessionRecord: tx.add_session,
            AuditEvent: lambda r: tx.add_audit_events([r]),
            Throttle: tx.save_throttle,
            LicenseKey: tx.add_license_key,
            InstallInvitation: lambda r: tx.add_install_invitations([r]),
            Installation: tx.add_installation,
            ComputerBlock: tx.save_computer_block,
        }
        for record in records:
            adders[type(record)](record)
    v1.close()
    with raw(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 4

    store = SQLiteStore(path)
    try:
        assert store.schema_version == SCHEMA_VERSION
        dumped = store.dump()
        assert len(dumped) == len(records)
        assert [r for r in records if r not in dumped] == []
        assert store.integrity_check() == []
        with raw(path) as connection:
            assert schema_problems(connection) == []
            assert "sort_key" not in {
                r[1] for r in connection.execute("PRAGMA table_info(computer_blocks)")
            }
        with store.transaction() as tx:
            blocks = tx.page(COMPUTER_BLOCKS, "acc_1", after=None, limit=5)
            assert [b.key_id for b in blocks] == [None, "key_1"]
            assert (
                tx.count(
                    MEMBERSHIPS,
                    {
                        "account_id": "acc_1",
                        "role": Role.ACCOUNT_ADMINISTRATOR,
                        "status": MemberStatus.ACTIVE,
                    },
                )
                == 1
            )
            # The migrated records take part in every operation: saved, incremented, found.
            assert tx.increment(LICENSE_KEYS, ("key_1",), "seats_used", 2, cap="seats") is True
            tx.save(COMPUTER_BLOCKS, [blocks[0]])
    finally:
        store.close()
    with pytest.raises(IncompatibleStore, match=f"schema version {SCHEMA_VERSION}"):
        SQLiteStoreV1(path)  # the older store refuses what it cannot read


def test_account_wide_blocks_of_a_version_4_file_become_none_and_stay_apart(path: Path) -> None:
    """Rows written with SQL as schema version 4 has them, NULL key included."""
    with raw(path) as connection:
        for step in MIGRATIONS[:4]:
            for statement in step:
                connection.execute(statement)
        connection.execute("PRAGMA user_version = 4")
        connection.execute(f"PRAGMA application_id = {0x4C4B4954}")
        connection.execute("INSERT INTO business_accounts VALUES ('acc_1', 'A', 't', 'u')")
        connection.execute(
            "INSERT INTO license_keys (id, account_id, product, seats, seats_used, created_at,"
            " created_by, value_hash, value_ciphertext, status)"
            " VALUES ('k', 'acc_1', 'p', 1, 0, 't', 'u', x'01', x'02', 'active')"
        )
        text = "2030-01-01T09:00:00.000000+00:00"
        for computer, key_id in [("PC-1", None), ("PC-1", "k"), ("PC-0", "k"), ("PC-2", None)]:
            connection.execute(
                "INSERT INTO computer_blocks VALUES ('acc_1', ?, ?, ?, ?, 'usr', '')",
                (f"{computer}\t{key_id or ''}", computer, key_id, text),
            )
    store = SQLiteStore(path)
    try:
        with store.transaction() as tx:
            listed = tx.page(COMPUTER_BLOCKS, "acc_1", after=None, limit=9)
            found = tx.read(
                [Query(COMPUTER_BLOCKS, COMPUTER_BLOCKS.key, (("acc_1", "PC-1", None),))]
            )
        assert [(b.computer_id, b.key_id) for b in listed] == [
            ("PC-0", "k"),
            ("PC-1", None),
            ("PC-1", "k"),
            ("PC-2", None),
        ]
        assert [b.key_id for b in found[0]] == [None]
        assert all(b.blocked_at == T0 for b in listed)
    finally:
        store.close()


def test_a_failing_migration_leaves_a_version_4_file_as_it_was(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = every_kind()
    v1 = SQLiteStoreV1(path)
    with v1.transaction() as tx:
        tx.add_account(records[2])  # type: ignore[arg-type]
        tx.add_license_key(records[9])  # type: ignore[arg-type]
        tx.save_computer_block(records[-1])  # type: ignore[arg-type]
    v1.close()
    broken = (*MIGRATIONS[:4], (*MIGRATIONS[4], "THIS IS NOT SQL"))
    monkeypatch.setattr(_sqlite_v2, "MIGRATIONS", broken)
    with pytest.raises(StorageError, match="from schema version 4 to 9 failed"):
        SQLiteStore(path)
    with raw(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 4
        assert connection.execute("SELECT sort_key FROM computer_blocks").fetchall() == [
            ("PC-7\tkey_1",)
        ]


def test_a_file_from_a_newer_licensekit_or_another_application_is_refused(path: Path) -> None:
    SQLiteStore(path).close()
    with raw(path) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(IncompatibleStore, match="newer licensekit"):
        SQLiteStore(path)
    other = path.with_name("other.db")
    with raw(other) as connection:
        connection.execute("CREATE TABLE mine (x)")
    with pytest.raises(IncompatibleStore, match="did not make"):
        SQLiteStore(other)
    with pytest.raises(StorageError):
        SQLiteStore(path.with_name("missing.db"), create=False)


# -- statements per operation --------------------------------------------------------------


@contextlib.contextmanager
def counted(tx: Any) -> Iterator[list[str]]:
    """The statements the transaction's connection runs meanwhile."""
    seen: list[str] = []
    tx._connection.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        tx._connection.set_trace_callback(None)


def test_bulk_work_is_a_statement_per_chunk_never_one_per_record(store: SQLiteStore) -> None:
    # A statement binds at most 999 values: 1,000 users of 7 fields are 7 statements of at
    # most 142 rows each, 1,000 emails or ids 2 of 500.
    width = len(next(t for t in TABLES if t.kind is USERS).columns)
    assert store._max_variables == 999
    rows = -(-1000 // rows_per_statement(width, 999))
    users = [user(n) for n in range(1000)]
    with store.transaction() as tx, counted(tx) as statements:
        tx.add(USERS, users)
    assert len(statements) == rows
    with store.transaction() as tx, counted(tx) as statements:
        emails = tuple((u.email,) for u in users)
        (found,) = tx.read([Query(USERS, ("email",), emails)])
    assert len(statements) == 2
    assert len(found) == 1000
    renamed = [User(id=u.id, email=u.email, created_at=T0, name="renamed") for u in users]
    with store.transaction() as tx, counted(tx) as statements:
        tx.save(USERS, renamed)
    assert len(statements) == rows
    with store.transaction() as tx, counted(tx) as statements:
        tx.put(USERS, renamed)
        assert tx.delete(USERS, [(u.id,) for u in users]) == 1000
    assert len(statements) == rows + 2


def test_a_chunk_never_binds_more_values_than_sqlite_allows(store: SQLiteStore) -> None:
    """With SQLite's oldest limit of 999 values a statement, wide records take more chunks."""
    table = next(t for t in TABLES if t.kind is INSTALL_INVITATIONS)
    width = len(table.columns)
    assert rows_per_statement(width, 999) == 999 // width
    assert rows_per_statement(width, 250_000) == 500
    store._max_variables = 999
    with store.transaction() as tx:
        tx._connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        with counted(tx) as statements:
            tx.add(USERS, [user(n) for n in range(1000)])
            tx.read([Query(USERS, ("id",), tuple((user(n).id,) for n in range(1000)))])
        tx._connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 250_000)
    assert len(statements) == -(-1000 // (999 // 6)) + 2


def test_a_single_record_is_one_plain_statement(store: SQLiteStore) -> None:
    with store.transaction() as tx, counted(tx) as statements:
        tx.add(USERS, [user(1)])
        tx.save(USERS, [user(1, name="Ann")])
        tx.read([Query(USERS, ("id",), (("usr_0001",),))])
    assert [s.split()[0] for s in statements] == ["INSERT", "UPDATE", "SELECT"]
    assert " IN " not in statements[2]


# -- the lock, refused writes, driver errors --------------------------------------------


def test_a_write_lock_held_too_long_is_storage_busy(path: Path) -> None:
    store = SQLiteStore(path, busy_timeout=0.2)
    try:
        with raw(path) as holder:
            holder.execute("BEGIN IMMEDIATE")
            with pytest.raises(StorageBusy, match="locked"), store.transaction():
                pass  # pragma: no cover - never entered
            with pytest.raises(StorageBusy):
                SQLiteStore(path, busy_timeout=0.2)
            holder.execute("ROLLBACK")
        with store.transaction() as tx:
            tx.add(USERS, [user(1)])  # the lock is free again
    finally:
        store.close()


def test_threads_claiming_seats_at_once_never_oversell(store: SQLiteStore) -> None:
    add_every_kind(store)  # key_1: three seats, one used
    claimed: list[object] = []

    def claim() -> None:
        for _ in range(5):
            with store.transaction() as tx:
                claimed.append(tx.increment(LICENSE_KEYS, ("key_1",), "seats_used", 1, cap="seats"))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert claimed.count(True) == 2
    assert claimed.count(False) == 38
    with store.transaction() as tx:
        ((key,),) = tx.read([Query(LICENSE_KEYS, ("id",), (("key_1",),))])
    assert key.seats_used == key.seats == 3


def test_a_clash_is_a_duplicate_key_with_the_driver_error_as_cause(store: SQLiteStore) -> None:
    with store.transaction() as tx:
        tx.add(USERS, [user(1)])
    clash = User(id="usr_other", email=user(1).email, created_at=T0)
    with (
        pytest.raises(DuplicateKey, match="users already has this email") as info,
        store.transaction() as tx,
    ):
        tx.add(USERS, [clash])
    assert isinstance(info.value.__cause__, sqlite3.IntegrityError)


def test_a_refused_write_ends_the_transaction_even_when_its_error_is_swallowed(
    store: SQLiteStore,
) -> None:
    with store.transaction() as tx:
        tx.add(USERS, [user(1)])

    def swallow_a_refused_write() -> None:
        with store.transaction() as tx:
            tx.add(USERS, [user(2)])
            with pytest.raises(DuplicateKey):
                tx.add(USERS, [user(3), user(1)])
            with pytest.raises(StorageError, match="can only end"):
                tx.read([Query(USERS, ("id",), (("usr_0001",),))])

    with pytest.raises(StorageError, match="nothing of it was kept"):
        swallow_a_refused_write()
    with store.transaction() as tx:
        (found,) = tx.read([Query(USERS, ("id",), tuple((user(n).id,) for n in range(4)))])
    assert found == [user(1)]


def test_a_batch_refused_midway_reports_its_first_bad_record_as_in_order(
    store: SQLiteStore,
) -> None:
    """Memory writes records one by one: an unknown record before a clash is the error."""
    with store.transaction() as tx:
        tx.add(USERS, [user(1), user(2)])
    with (
        pytest.raises(StorageError, match="none of the users has the key") as info,
        store.transaction() as tx,
    ):
        tx.save(USERS, [user(7), user(2, email=user(1).email)])
    assert type(info.value) is StorageError
    with pytest.raises(DuplicateKey), store.transaction() as tx:
        tx.save(USERS, [user(2, email=user(1).email), user(7)])


def test_a_dangling_reference_is_refused_at_commit(store: SQLiteStore) -> None:
    """Stricter than the port asks: licensekit always writes what a record refers to."""
    with pytest.raises(StorageError, match="FOREIGN KEY") as info, store.transaction() as tx:
        tx.add(MEMBERSHIPS, [every_kind()[3]])  # type: ignore[list-item]
    assert isinstance(info.value.__cause__, sqlite3.IntegrityError)


def test_text_that_is_not_unicode_matches_nothing_and_is_never_stored(store: SQLiteStore) -> None:
    with store.transaction() as tx:
        tx.add(USERS, [user(1)])
        found = tx.read([Query(USERS, ("id",), (("usr_\ud800",), ("usr_0001",)))])
        assert found == [[user(1)]]
        assert tx.delete(USERS, [("\udfff",)]) == 0
        assert tx.increment(LICENSE_KEYS, ("\udfff",), "seats_used", 1) is False
    with pytest.raises(StorageError, match="not valid Unicode"), store.transaction() as tx:
        tx.add(USERS, [User(id="usr_2", email="\ud800@example.com", created_at=T0)])


def test_a_closed_store_and_a_nested_transaction_are_storage_errors(path: Path) -> None:
    store = SQLiteStore(path)
    with store.transaction(), pytest.raises(StorageError, match="nested"), store.transaction():
        pass  # pragma: no cover - never entered
    store.close()
    with pytest.raises(StorageError, match="closed"), store.transaction():
        pass  # pragma: no cover - never entered


def test_options_are_checked_before_the_file_is_made(path: Path) -> None:
    for options in ({"synchronous": "off"}, {"busy_timeout": -1}, {"cache_mb": 0}):
        with pytest.raises(StorageError):
            SQLiteStore(path, **options)
    assert not path.exists()


# -- misuse of the port ----------------------------------------------------------------


OTHER_USERS = attrs.evolve(USERS, unique=())  # a description this store was not made from

MISUSES: dict[str, Callable[[Any], object]] = {
    "a look-up by fields the kind has no index on": lambda tx: tx.read(
        [Query(USERS, ("name",), (("Ann",),))]
    ),
    "a listing of a kind without an owner": lambda tx: tx.page(USERS, None, after=None, limit=1),
    "a cursor of the wrong length": lambda tx: tx.page(MEMBERSHIPS, "acc_1", after=(), limit=1),
    "a count by fields the kind is not counted by": lambda tx: tx.count(USERS, {"name": "x"}),
    "expiring a kind that does not expire": lambda tx: tx.delete_expired(USERS, T0),
    "adding a record of another kind": lambda tx: tx.add(USERS, [every_kind()[2]]),
    "adding a datetime without a time zone": lambda tx: tx.add(
        USERS,
        [user(1, created_at=dt.datetime(2030, 1, 1))],
    ),
    "a kind this store does not keep": lambda tx: tx.read([Query(OTHER_USERS, ("id",), ())]),
    "incrementing text": lambda tx: tx.increment(USERS, ("usr_0001",), "name", 1),
    "incrementing up to text": lambda tx: tx.increment(
        LICENSE_KEYS, ("key_1",), "seats_used", 1, cap="product"
    ),
    "incrementing by a fraction": lambda tx: tx.increment(
        LICENSE_KEYS, ("key_1",), "seats_used", 0.5
    ),
}


@pytest.mark.parametrize("misuse", sorted(MISUSES))
def test_a_misuse_of_the_port_is_a_storage_error(store: SQLiteStore, misuse: str) -> None:
    with pytest.raises(StorageError), store.transaction() as tx:
        MISUSES[misuse](tx)


def test_look_ups_that_cannot_match_find_nothing(store: SQLiteStore) -> None:
    add_every_kind(store)
    with store.transaction() as tx:
        assert tx.read([Query(USERS, ("id",), (("usr_0001", "extra"), ()))]) == [[]]
        assert tx.page(MEMBERSHIPS, "acc_1", after=None, limit=0) == []
        assert tx.increment(LICENSE_KEYS, ("key_1", "extra"), "seats_used", 1) is False
        assert tx.increment(LICENSE_KEYS, ("key_9",), "seats_used", 1) is False
        assert tx.delete(USERS, [()]) == 0


def test_a_put_that_would_change_a_fixed_field_is_refused(store: SQLiteStore) -> None:
    records = add_every_kind(store)
    key = records[9]
    assert isinstance(key, LicenseKey)
    moved = attrs.evolve(key, account_id="acc_2")
    with (
        pytest.raises(StorageError, match="may not change the account_id") as info,
        store.transaction() as tx,
    ):
        tx.put(LICENSE_KEYS, [attrs.evolve(key, seats=5), moved])
    assert type(info.value) is StorageError
    with store.transaction() as tx:
        assert tx.read([Query(LICENSE_KEYS, ("id",), ((key.id,),))]) == [[key]]


# -- the pool of connections --------------------------------------------------------------


def test_a_transaction_still_running_when_the_store_closes_ends_normally(path: Path) -> None:
    store = SQLiteStore(path)
    with store.transaction() as tx:
        store.close()
        tx.add(USERS, [user(1)])
    assert store._pool.connections == []
    reopened = SQLiteStore(path)
    with reopened.transaction() as tx:
        assert tx.read([Query(USERS, ("id",), (("usr_0001",),))]) == [[user(1)]]
    reopened.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_uses_connections_of_its_own(path: Path) -> None:
    store = SQLiteStore(path)
    with store.transaction() as tx:
        tx.add(USERS, [user(1)])
    parents = list(store._pool.connections)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports by its exit status
        status = 1
        try:
            with store.transaction() as tx:
                tx.add(USERS, [user(2)])
            status = 0 if not set(store._pool.connections) & set(parents) else 2
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with store.transaction() as tx:
        (found,) = tx.read([Query(USERS, ("id",), (("usr_0001",), ("usr_0002",)))])
    assert len(found) == 2
    store.close()


def test_a_stored_value_this_version_cannot_read_is_an_incompatible_store(
    store: SQLiteStore,
) -> None:
    with store.transaction() as tx:
        tx.add(USERS, [user(1)])
    with raw(store.path) as connection:
        connection.execute("UPDATE users SET created_at = 'yesterday'")
    with pytest.raises(IncompatibleStore, match="users"), store.transaction() as tx:
        tx.read([Query(USERS, ("id",), (("usr_0001",),))])
    with pytest.raises(IncompatibleStore):
        store.dump()


def error_of(store: SQLiteStore, write: Callable[[Any], object]) -> StorageError:
    """The error of a transaction that locks a scope, then runs *write*."""
    try:
        with store.transaction() as tx:
            tx.lock(["account:acc_1"])
            write(tx)
    except StorageError as e:
        return e
    raise AssertionError("the write was not refused")


def test_values_sqlite_cannot_hold_are_storage_errors(store: SQLiteStore) -> None:
    records = add_every_kind(store)
    key = records[9]
    assert isinstance(key, LicenseKey)
    refused = {
        "a number beyond 64 bits": lambda tx: tx.save(
            LICENSE_KEYS, [attrs.evolve(key, seats=2**70)]
        ),
        "text in a datetime": lambda tx: tx.add(USERS, [user(5), user(6, created_at="today")]),
        "a record of another kind after a good one": lambda tx: tx.save(USERS, [user(1), key]),
        "a clash of one saved record": lambda tx: tx.save(USERS, [user(2, email=user(1).email)]),
        "a put of a new record then a fixed change": lambda tx: tx.put(
            LICENSE_KEYS,
            [attrs.evolve(key, id="key_9", value_hash=b"9"), attrs.evolve(key, created_by="usr_2")],
        ),
    }
    for what, write in refused.items():
        error = error_of(store, write)
        assert type(error) is (DuplicateKey if "clash" in what else StorageError), what
    dumped = store.dump()
    assert len(dumped) == len(records)
    assert [r for r in records if r not in dumped] == []


def test_a_transaction_cannot_be_used_after_its_block(store: SQLiteStore) -> None:
    with store.transaction() as tx:
        pass
    with pytest.raises(StorageError, match="has ended"):
        tx.read([Query(USERS, ("id",), (("usr_0001",),))])


def test_a_write_that_fills_the_disk_is_a_storage_error_and_keeps_nothing(
    store: SQLiteStore,
) -> None:
    def fill(tx: Any) -> None:
        pages = tx._connection.execute("PRAGMA page_count").fetchone()[0]
        tx._connection.execute(f"PRAGMA max_page_count = {pages + 2}")
        tx.add(USERS, [user(n, name="x" * 2000) for n in range(300)])

    error = error_of(store, fill)
    assert "full" in str(error)
    assert isinstance(error.__cause__, sqlite3.Error)
    assert store.dump() == []


@pytest.mark.parametrize(
    "content", [b"not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 200]
)
def test_a_file_that_is_not_a_database_is_an_incompatible_store(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    with pytest.raises(IncompatibleStore, match="not a SQLite database"):
        SQLiteStore(path)
    assert path.read_bytes() == content


def test_files_that_are_not_licensekit_databases_yet_are_refused_without_create(
    path: Path,
) -> None:
    with raw(path) as connection:
        connection.execute("PRAGMA application_id = 7")
    with pytest.raises(IncompatibleStore, match="another application"):
        SQLiteStore(path)
    empty = path.with_name("empty.db")
    empty.touch()
    with pytest.raises(IncompatibleStore, match="no licensekit database yet"):
        SQLiteStore(empty, create=False)
    assert empty.read_bytes() == b""
    with pytest.raises(StorageError, match="NUL"):
        SQLiteStore(path.with_name("a\x00b.db"))
    with pytest.raises(StorageError, match="busy_timeout"):
        SQLiteStore(path, busy_timeout="soon")  # type: ignore[arg-type]
    made = SQLiteStore(empty)  # with create, the empty file becomes a licensekit database
    assert repr(made) == f"SQLiteStore({str(empty)!r})"
    made.close()


@pytest.mark.parametrize("wanted", [1, 2], ids=["one value", "several values"])
def test_a_stored_value_this_licensekit_cannot_read_is_refused(
    store: SQLiteStore, path: Path, wanted: int
) -> None:
    # Reading one value has its own fast path; both paths must refuse a row they cannot read.
    add_every_kind(store)
    with raw(path) as connection:
        connection.execute("UPDATE license_keys SET created_at = 'yesterday' WHERE id = 'key_1'")
    keys = (("key_1",), ("key_9",))[:wanted]
    refused = pytest.raises(IncompatibleStore, match="license_keys cannot be read by this")
    with refused, store.transaction() as tx:
        tx.read([Query(LICENSE_KEYS, ("id",), keys)])


def test_a_transaction_takes_the_lock_when_its_block_is_entered(store: SQLiteStore) -> None:
    pending = store.transaction()  # not entered: holds nothing
    with store.transaction() as tx:
        tx.add(USERS, [user(1)])
    with pending as tx:
        assert tx.read([Query(USERS, ("id",), (("usr_0001",),))])[0] == [user(1)]


def test_a_transaction_may_end_on_another_thread(store: SQLiteStore) -> None:
    # Found by a review: the block's end looked for the other thread's marker of the open
    # transaction, failed, and kept both the connection and this thread's marker.
    block = store.transaction()
    tx = block.__enter__()
    tx.add(USERS, [user(1)])
    ending = threading.Thread(target=block.__exit__, args=(None, None, None))
    ending.start()
    ending.join()
    with store.transaction() as tx:  # this thread holds no transaction any more
        assert tx.read([Query(USERS, ("id",), (("usr_0001",),))])[0] == [user(1)]
    assert store._pool.idle == 1


def test_writes_take_their_arguments_by_name_as_the_port_names_them(store: SQLiteStore) -> None:
    with store.transaction() as tx:
        tx.add(USERS, records=[user(1), user(2)])
        tx.save(kind=USERS, records=[user(1, name="Ann")])
        tx.put(USERS, records=[user(3)])
        assert tx.delete(USERS, keys=[("usr_0002",)]) == 1
        assert tx.delete_expired(SESSIONS, moment=T0) == 0
        found = tx.read([Query(USERS, ("id",), (("usr_0001",), ("usr_0003",)))])[0]
    assert sorted(found, key=lambda u: u.id) == [user(1, name="Ann"), user(3)]
