"""A page of members reads its users in one look-up, not one per member.

Each member's address and name live on the user record; a page of members once ran one read
of users per member (found after issue 14's bulk look-ups for invitations).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from licensekit.stores._sqlite_transaction import SQLiteTransaction
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import add_member, make_business_account, make_licensekit


def test_a_page_of_members_reads_the_users_in_one_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SQLiteStore(tmp_path / "members.db", synchronous="normal")
    kit = make_licensekit(store=store)
    admin, account = make_business_account(kit)
    invited = {f"member{n}@example.com" for n in range(12)}
    for email in sorted(invited):
        add_member(kit, admin, account.id, email)
    statements: list[str] = []
    start = SQLiteTransaction.__init__

    def tracing(self: SQLiteTransaction, connection: sqlite3.Connection, *rest: Any) -> None:
        connection.set_trace_callback(statements.append)
        start(self, connection, *rest)

    monkeypatch.setattr(SQLiteTransaction, "__init__", tracing)
    first = kit.list_members(admin, account.id, limit=10)
    statements_of_first = list(statements)
    second = kit.list_members(admin, account.id, cursor=first.next_cursor, limit=10)
    store.close()
    listed = [*first.items, *second.items]
    assert len(first.items) == 10
    assert {m.email for m in listed} == invited | {"admin@example.com"}
    users_read = [s for s in statements_of_first if s.startswith("SELECT") and "FROM users" in s]
    assert len(users_read) == 1, users_read  # the ten members' users, in one statement
