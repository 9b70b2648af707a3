"""A store migrated to noted expiries (SQLite 8 -> 9, PostgreSQL 4 -> 5) keeps every phase.

The migration drops the generated ``phase`` column of both kinds of invitations and makes it
again (with an ``expired`` phase for noted expiries), adds the expiry indexes and the
memberships' ``tenure``. These tests take a store full of real records (every phase of both
kinds of invitations, expired by the clock but never noted, members of every status) back to
the older schema, row for row, open it with this licensekit and check that every row's
generated columns say what its record says, that the indexes agree with the table, and that
every listing by state answers as on a store made at the newest version.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest

from _postgres import DSN, new_schema
from licensekit import InstallInvitationState, InvitationState, Settings
from licensekit._usecases._tx import Tx
from licensekit.storage import INSTALL_INVITATIONS, JOIN_INVITATIONS, MEMBERSHIPS
from licensekit.stores import _pg_schema, _sqlite_schema
from licensekit.stores._sql import schema_problems
from licensekit.stores.postgres import PostgresStore
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import (
    FakeClock,
    LicenseKitForTests,
    add_member,
    make_business_account,
    make_licensekit,
)

KINDS = {k.name: k for k in (INSTALL_INVITATIONS, JOIN_INVITATIONS, MEMBERSHIPS)}
LONG = Settings(session_lifetime=dt.timedelta(days=365))
DERIVED = {"install_invitations": "phase", "join_invitations": "phase", "memberships": "tenure"}


def fill(kit: LicenseKitForTests) -> tuple[Any, str, str]:
    """Records of every phase; some expired by the clock, none noted. Returns the ids."""
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="Suite", value="K-MIG", seats=50)

    def invite(emails: list[str], **options: Any) -> list[Any]:
        return list(kit.invite_installers(admin, account.id, key.id, emails, **options).invited)

    def activate(email: str, computer: str) -> None:
        kit.activate(code=kit.mailer.last(to=email).data["code"], computer_id=computer)

    # Expired by the clock once it moves on: pending, sent, partly activated, and kept
    # phases (used up, revoked) whose expiry passes too.
    invite(["old-pending@example.com"], expires_in="1d", send=False)
    invite(["old-sent@example.com"], expires_in="1d")
    invite(["old-partly@example.com"], expires_in="1d", max_activations=3)
    activate("old-partly@example.com", "PC-OLD-1")
    invite(["old-used@example.com"], expires_in="1d", max_activations=1)
    activate("old-used@example.com", "PC-OLD-2")
    (old_revoked,) = invite(["old-revoked@example.com"], expires_in="1d")
    kit.revoke_install_invitation(admin, account.id, old_revoked.id)
    kit.invite_members(admin, account.id, ["old-guest@example.com"], expires_in="1d")
    (gone,) = kit.invite_members(admin, account.id, ["gone@example.com"]).invited
    kit.revoke_join_invitation(admin, account.id, gone.id)
    blocked = add_member(kit, admin, account.id, "blocked@example.com")
    removed = add_member(kit, admin, account.id, "removed@example.com")
    add_member(kit, admin, account.id, "kept@example.com")
    kit.block_member(admin, account.id, blocked.user_id, notify=False)
    kit.remove_member(admin, account.id, removed.user_id, notify=False)
    kit.clock.advance(days=2)
    # Live ones.
    invite(["new-pending@example.com"], send=False)
    invite(["new-sent@example.com"])
    invite(["new-partly@example.com"], max_activations=3)
    activate("new-partly@example.com", "PC-NEW-1")
    invite(["new-used@example.com"], max_activations=1)
    activate("new-used@example.com", "PC-NEW-2")
    kit.invite_members(admin, account.id, ["new-guest@example.com"])
    return admin, account.id, key.id


def listings(kit: LicenseKitForTests, admin: Any, account_id: str, key_id: str) -> dict:
    """Every listing by state, a page of two at a time (cursors included)."""

    def pages(read: Any) -> list[str]:
        found, cursor = [], None
        while True:
            page = read(cursor)
            found += [i.email for i in page.items]
            cursor = page.next_cursor
            if cursor is None:
                return found

    listed: dict[str, list[str]] = {}
    for state in InstallInvitationState:
        listed[f"install {state}"] = pages(
            lambda c, s=state: kit.list_install_invitations(
                admin, account_id, key_id, state=s, cursor=c, limit=2
            )
        )
    for join_state in InvitationState:
        listed[f"join {join_state}"] = pages(
            lambda c, s=join_state: kit.list_join_invitations(
                admin, account_id, state=s, cursor=c, limit=2
            )
        )
    listed["members"] = pages(lambda c: kit.list_members(admin, account_id, cursor=c, limit=2))
    listed["export"] = sorted(
        kit.export_install_invitations(admin, account_id, key_id).splitlines()
    )
    return listed


def kit_on(clock: FakeClock, store: Any) -> LicenseKitForTests:
    """A kit over *store* whose sessions outlive the test's clock moves."""
    return make_licensekit(clock=clock, store=store, settings=LONG)


# -- SQLite: schema 8 -> 9 ------------------------------------------------------------------


def writable_columns(connection: sqlite3.Connection, table: str) -> list[str]:
    """The columns of *table* a row is inserted with (not the generated ones)."""
    rows = connection.execute(f"PRAGMA table_xinfo({table})").fetchall()
    return [str(r[1]) for r in rows if r[6] == 0]  # hidden 0: an ordinary column


def sqlite_at_version_8(newest: Path, older: Path) -> None:
    """Make *older* at schema 8 and copy every row of *newest* (schema 9) into it."""
    with closing(sqlite3.connect(older, isolation_level=None)) as connection:
        connection.execute("BEGIN")
        for step in _sqlite_schema.MIGRATIONS[:8]:
            for statement in step:
                connection.execute(statement)
        connection.execute("PRAGMA user_version = 8")
        connection.execute(f"PRAGMA application_id = {_sqlite_schema.APPLICATION_ID}")
        connection.execute("ATTACH DATABASE ? AS newest", (str(newest),))
        tables = [
            str(r[0])
            for r in connection.execute(
                "SELECT name FROM main.sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for table in tables:
            names = ", ".join(writable_columns(connection, table))
            connection.execute(
                f"INSERT INTO main.{table} ({names}) SELECT {names} FROM newest.{table}"  # noqa: S608
            )
        connection.execute("COMMIT")
        connection.execute("DETACH DATABASE newest")
    with closing(sqlite3.connect(older)) as connection:
        assert "expiry_noted_at" not in writable_columns(connection, "install_invitations")
        assert connection.execute("PRAGMA user_version").fetchone() == (8,)


@pytest.fixture
def sqlite_kits(tmp_path: Path) -> Iterator[tuple[LicenseKitForTests, LicenseKitForTests]]:
    newest, older = tmp_path / "newest.db", tmp_path / "older.db"
    clock = FakeClock()
    kit = kit_on(clock, SQLiteStore(newest, synchronous="normal"))
    kit.fixture = fill(kit)  # type: ignore[attr-defined]
    kit.store.close()
    sqlite_at_version_8(newest, older)
    kits = (
        kit_on(clock, SQLiteStore(newest, synchronous="normal")),
        kit_on(clock, SQLiteStore(older, synchronous="normal")),
    )
    for each in kits:
        each.fixture = kit.fixture  # type: ignore[attr-defined]
    yield kits
    for each in kits:
        each.store.close()


def sqlite_derived(path: Path) -> dict[str, dict[Any, str]]:
    """Each table's generated column by row key, as SQLite computes it."""
    with closing(sqlite3.connect(path)) as connection:
        return {
            table: {
                tuple(r[:-1]): str(r[-1])
                for r in connection.execute(
                    f"SELECT {', '.join(KINDS[table].key)}, {column} FROM {table}"  # noqa: S608
                )
            }
            for table, column in DERIVED.items()
        }


def as_records_say(store: Any, derived: dict[str, dict[Any, str]]) -> dict[str, dict[Any, str]]:
    """The same keys' derived values as the records themselves compute them."""
    found: dict[str, dict[Any, str]] = {}
    with store.transaction() as port:
        tx = Tx(port)
        for table, column in DERIVED.items():
            kind = KINDS[table]
            read = tx.get_many(kind, [k if len(k) > 1 else k[0] for k in derived[table]])
            found[table] = {
                tuple(getattr(r, f) for f in kind.key): str(getattr(r, column)) for r in read
            }
    return found


def test_a_version_8_sqlite_file_with_records_keeps_every_phase_once_migrated(
    sqlite_kits: tuple[LicenseKitForTests, LicenseKitForTests], tmp_path: Path
) -> None:
    newest, older = sqlite_kits
    derived = sqlite_derived(tmp_path / "older.db")  # opening the store migrated it
    assert derived == sqlite_derived(tmp_path / "newest.db")
    assert as_records_say(older.store, derived) == derived
    phases = {str(v) for v in derived["install_invitations"].values()}
    assert phases == {"pending", "sent", "activated", "used_up", "revoked"}, "none 'expired'"
    assert {str(v) for v in derived["join_invitations"].values()} == {"open", "accepted", "revoked"}
    assert sorted(derived["memberships"].values()).count("former") == 1
    with closing(sqlite3.connect(tmp_path / "older.db")) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (
            _sqlite_schema.SCHEMA_VERSION,
        )
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert schema_problems(connection) == []
    admin, account_id, key_id = older.fixture  # type: ignore[attr-defined]
    expected = listings(newest, admin, account_id, key_id)
    assert listings(older, admin, account_id, key_id) == expected
    assert expected["install expired"] == [
        "old-pending@example.com",
        "old-sent@example.com",
        "old-partly@example.com",
    ]
    assert "blocked@example.com" in expected["members"]
    assert "removed@example.com" not in expected["members"]
    # The listings noted the expiries in the migrated file as in the newest one.
    derived = sqlite_derived(tmp_path / "older.db")
    assert derived == sqlite_derived(tmp_path / "newest.db")
    assert as_records_say(older.store, derived) == derived
    with closing(sqlite3.connect(tmp_path / "older.db")) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        noted = connection.execute(
            "SELECT email FROM install_invitations WHERE phase = 'expired' ORDER BY id"
        ).fetchall()
    assert [r[0] for r in noted] == expected["install expired"]


# -- PostgreSQL: schema 4 -> 5 --------------------------------------------------------------


def pg_writable_columns(connection: psycopg.Connection[Any], schema: str, table: str) -> str:
    rows = connection.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s"
        " AND table_name = %s AND is_generated = 'NEVER' ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    return ", ".join(f'"{r[0]}"' for r in rows)


def pg_at_version_4(newest: str, older: str) -> None:
    """Make the schema *older* at version 4 and copy every row of *newest* into it."""
    with psycopg.connect(DSN, autocommit=True) as connection, connection.transaction():
        quoted = f'"{older}"'
        connection.execute(f"CREATE SCHEMA {quoted}")
        connection.execute(
            f"CREATE TABLE {quoted}.licensekit_schema ("
            "version integer PRIMARY KEY, migrated_at timestamptz NOT NULL DEFAULT now())"
        )
        for number, step in enumerate(_pg_schema.MIGRATIONS[:4], start=1):
            for statement in step:
                connection.execute(statement.replace("{schema}", quoted))
            connection.execute(
                f"INSERT INTO {quoted}.licensekit_schema (version) VALUES (%s)",  # noqa: S608
                [number],
            )
        for table in _pg_schema.TABLE_NAMES:
            names = pg_writable_columns(connection, older, table)
            connection.execute(
                f'INSERT INTO {quoted}."{table}" ({names}) '  # noqa: S608
                f'SELECT {names} FROM "{newest}"."{table}"'
            )
        assert '"expiry_noted_at"' not in pg_writable_columns(
            connection, older, "install_invitations"
        )


def pg_derived(schema: str) -> dict[str, dict[Any, str]]:
    with psycopg.connect(DSN, autocommit=True) as connection:
        return {
            table: {
                tuple(r[:-1]): str(r[-1])
                for r in connection.execute(
                    f'SELECT {", ".join(KINDS[table].key)}, {column} FROM "{schema}".{table}'  # noqa: S608
                )
            }
            for table, column in DERIVED.items()
        }


def test_a_version_4_postgresql_schema_with_records_keeps_every_phase_once_migrated() -> None:
    newest, older = new_schema("noted_new"), new_schema("noted_old")
    clock = FakeClock()
    first = PostgresStore(DSN, schema=newest)
    try:
        kit = kit_on(clock, first)
        admin, account_id, key_id = fill(kit)
    finally:
        first.close()
    pg_at_version_4(newest, older)
    stores = [PostgresStore(DSN, schema=newest), PostgresStore(DSN, schema=older)]
    try:
        assert stores[1].schema_version == _pg_schema.SCHEMA_VERSION
        derived = pg_derived(older)
        assert derived == pg_derived(newest)
        assert as_records_say(stores[1], derived) == derived
        assert set(derived["install_invitations"].values()) == {
            "pending",
            "sent",
            "activated",
            "used_up",
            "revoked",
        }
        assert sorted(derived["memberships"].values()).count("former") == 1
        kits = [kit_on(clock, s) for s in stores]
        expected = listings(kits[0], admin, account_id, key_id)
        assert listings(kits[1], admin, account_id, key_id) == expected
        derived = pg_derived(older)
        assert derived == pg_derived(newest)
        assert as_records_say(stores[1], derived) == derived
        assert "expired" in set(pg_derived(older)["install_invitations"].values())
        with psycopg.connect(DSN, autocommit=True) as connection:
            indexes = {
                str(r[0])
                for r in connection.execute(
                    "SELECT indexname FROM pg_indexes WHERE schemaname = %s", [older]
                )
            }
        assert {
            "install_invitations_by_phase",
            "install_invitations_by_phase_expires_at",
            "join_invitations_by_phase",
            "join_invitations_by_phase_expires_at",
            "memberships_by_tenure",
        } <= indexes
    finally:
        for store in stores:
            store.close()
