"""A listing by state writes only when it has expiries to note, on a real SQLite file.

Every listing by state first looks for the invitations whose expiry has passed unnoted. Most
listings find none: they must stay reads (no UPDATE, nothing written to the log, so nothing
for a commit to sync). One that finds some writes one UPDATE per phase that holds any (a
chunk at a time), another owner's invitations untouched, and the next listing writes nothing
again. Noting thousands at once is a few statements, not one per invitation.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from licensekit import InstallInvitationState, InvitationState, Settings
from licensekit.stores._sqlite_transaction import SQLiteTransaction
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import LicenseKitForTests, make_business_account, make_licensekit

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@pytest.fixture
def kit(path: Path) -> Iterator[LicenseKitForTests]:
    store = SQLiteStore(path, synchronous="normal")
    yield make_licensekit(store=store, settings=Settings(session_lifetime=dt.timedelta(days=400)))
    store.close()


def statements_of(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch, work: Callable[[], object]
) -> list[str]:
    """Every statement *work* runs on the store's connections, values written in."""
    statements: list[str] = []
    start = SQLiteTransaction.__init__

    def tracing(self: SQLiteTransaction, connection: sqlite3.Connection, *rest: Any) -> None:
        connection.set_trace_callback(statements.append)
        start(self, connection, *rest)

    with monkeypatch.context() as patch:
        patch.setattr(SQLiteTransaction, "__init__", tracing)
        try:
            work()
        finally:
            for connection in store._pool.connections:
                connection.set_trace_callback(None)
    return statements


def writes(statements: list[str]) -> list[str]:
    """The statements that write, but for the audit event an export records."""
    return [
        s
        for s in statements
        if s.lstrip().upper().startswith(WRITES) and not s.startswith("INSERT INTO audit_events")
    ]


def wal_size(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def every_listing(
    kit: LicenseKitForTests, admin: Any, account_id: str, key_id: str, *, export: bool = True
) -> None:
    for state in InstallInvitationState:
        kit.list_install_invitations(admin, account_id, key_id, state=state)
    for join_state in InvitationState:
        kit.list_join_invitations(admin, account_id, state=join_state)
    kit.list_members(admin, account_id)
    if export:  # audited, nothing else written
        kit.export_install_invitations(admin, account_id, key_id)


def test_listings_with_no_expiry_to_note_write_nothing(
    kit: LicenseKitForTests, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="P", value="K-QUIET", seats=5)
    emails = [f"q{n}@example.com" for n in range(5)]
    kit.invite_installers(admin, account.id, key.id, emails[:3], expires_in="1d")
    kit.invite_installers(admin, account.id, key.id, emails[3:], send=False)
    kit.invite_members(admin, account.id, ["guest@example.com"], expires_in="1d")
    kit.clock.advance(hours=1)  # nothing expired yet
    statements = statements_of(
        kit.store, monkeypatch, lambda: every_listing(kit, admin, account.id, key.id)
    )
    assert any("expires_at <=" in s for s in statements), "no listing looked for expiries"
    assert writes(statements) == []
    before = wal_size(path)
    statements = statements_of(
        kit.store, monkeypatch, lambda: every_listing(kit, admin, account.id, key.id, export=False)
    )
    assert statements
    assert writes(statements) == []
    assert wal_size(path) == before, "a listing that noted nothing wrote to the log"


def test_a_listing_notes_once_per_phase_then_the_next_writes_nothing(
    kit: LicenseKitForTests, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="P", value="K-NOTE-ONCE", seats=5)
    kit.invite_installers(
        admin, account.id, key.id, ["s1@example.com", "s2@example.com"], expires_in="1d"
    )
    kit.invite_installers(
        admin, account.id, key.id, ["p1@example.com"], expires_in="1d", send=False
    )
    kit.clock.advance(days=2)

    def expired() -> object:
        return kit.list_install_invitations(
            admin, account.id, key.id, state=InstallInvitationState.EXPIRED
        )

    updates = writes(statements_of(kit.store, monkeypatch, expired))
    assert len(updates) == 2, updates  # the sent phase and the pending phase, one each
    assert all("expiry_noted_at" in s for s in updates), updates
    again = statements_of(
        kit.store, monkeypatch, lambda: every_listing(kit, admin, account.id, key.id)
    )
    assert writes(again) == []
    before = wal_size(path)
    quiet = lambda: every_listing(kit, admin, account.id, key.id, export=False)  # noqa: E731
    assert writes(statements_of(kit.store, monkeypatch, quiet)) == []
    assert wal_size(path) == before


def test_a_listing_never_notes_another_owners_invitations(kit: LicenseKitForTests) -> None:
    admin, account = make_business_account(kit)
    other_admin, other = make_business_account(kit, admin_email="other@example.com")
    key = kit.add_license_key(admin, account.id, product="P", value="K-MINE", seats=5)
    theirs = kit.add_license_key(other_admin, other.id, product="P", value="K-THEIRS", seats=5)
    second = kit.add_license_key(admin, account.id, product="P", value="K-MINE-2", seats=5)
    for owner_admin, owner, k in ((admin, account, key), (other_admin, other, theirs)):
        kit.invite_installers(owner_admin, owner.id, k.id, ["x@example.com"], expires_in="1d")
        kit.invite_members(owner_admin, owner.id, ["y@example.com"], expires_in="1d")
    kit.invite_installers(admin, account.id, second.id, ["z@example.com"], expires_in="1d")
    kit.clock.advance(days=2)
    listed = kit.list_install_invitations(admin, account.id, key.id, state="expired").items
    assert [i.email for i in listed] == ["x@example.com"]
    guests = kit.list_join_invitations(admin, account.id, state="expired").items
    assert [i.email for i in guests] == ["y@example.com"]
    with closing(sqlite3.connect(kit.store.path)) as connection:
        noted = connection.execute(
            "SELECT key_id FROM install_invitations WHERE expiry_noted_at IS NOT NULL"
        ).fetchall()
        noted_guests = connection.execute(
            "SELECT account_id FROM join_invitations WHERE expiry_noted_at IS NOT NULL"
        ).fetchall()
    assert noted == [(key.id,)], "another key's invitations were noted"
    assert noted_guests == [(account.id,)], "another account's invitations were noted"


def test_ten_thousand_expiries_are_noted_in_a_few_statements(
    kit: LicenseKitForTests, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="P", value="K-MANY", seats=5)
    count = 10_000
    for start in range(0, count, 1_000):
        emails = [f"m{n:05}@example.com" for n in range(start, start + 1_000)]
        kit.invite_installers(admin, account.id, key.id, emails, expires_in="1d", send=False)
    kit.clock.advance(days=1)

    def expired() -> object:
        return kit.list_install_invitations(admin, account.id, key.id, state="expired", limit=10)

    statements = statements_of(kit.store, monkeypatch, expired)
    updates = writes(statements)
    assert 0 < len(updates) <= count // 100, len(updates)  # chunks, not one per invitation
    assert len(statements) < 60, len(statements)
    with closing(sqlite3.connect(kit.store.path)) as connection:
        phases = connection.execute(
            "SELECT phase, count(*) FROM install_invitations GROUP BY phase"
        ).fetchall()
    assert phases == [("expired", count)]
    assert writes(statements_of(kit.store, monkeypatch, expired)) == []
