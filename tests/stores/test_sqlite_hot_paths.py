"""The SQLite store's shortcuts on the hot paths keep what the port promises.

An activation reads a few records and writes a few, and each shortcut taken for it is checked
here against the general path or the reference: a put of a record read in the transaction
writes only its changed columns; a few values of one field are looked up a statement each;
instants and enum members are read back without calls; lists are written as JSON writes them.
The last test pins the statements of one activation by typed code.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import attrs
import pytest

from licensekit.exceptions import IncompatibleStore
from licensekit.storage import THROTTLES, Query
from licensekit.stores._rows import _json_list, differ, read_instant
from licensekit.stores._sqlite_transaction import _FEW_VALUES, SQLiteTransaction
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import LicenseKitForTests, make_business_account, make_licensekit

NOW = dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC)


def invited(store: SQLiteStore, count: int) -> tuple[LicenseKitForTests, str, list[str]]:
    """A kit on *store*, a key of two seats and *count* invitations: the key and the codes."""
    kit = make_licensekit(store=store)
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="P", value="K-1", seats=2)
    emails = [f"p{n}@example.com" for n in range(count)]
    kit.invite_installers(admin, account.id, key.id, emails)
    return kit, key.id, [m.data["code"] for m in kit.mailer.messages()]


def throttle(key: str, failures: int = 1) -> object:
    from licensekit.domain.model import Throttle

    return Throttle(
        key=key, failures=failures, window_started_at=NOW, expires_at=NOW + dt.timedelta(hours=1)
    )


def traced(tx: SQLiteTransaction) -> list[str]:
    """The statements *tx*'s connection runs from now on, values written in."""
    statements: list[str] = []
    tx._connection.set_trace_callback(statements.append)
    return statements


def stored_throttles(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as raw:
        return raw.execute("SELECT * FROM throttles ORDER BY key").fetchall()


# -- put --------------------------------------------------------------------------------------


def test_a_put_of_a_record_read_updates_only_its_changed_columns(store: SQLiteStore) -> None:
    first = throttle("t1")
    with store.transaction() as tx:
        tx.add(THROTTLES, [first])
    with store.transaction() as tx:
        (found,) = tx.read([Query(THROTTLES, ("key",), (("t1",),))])
        statements = traced(tx)
        tx.put(THROTTLES, [attrs.evolve(found[0], failures=2)])
        tx.put(THROTTLES, [attrs.evolve(found[0], failures=2)])  # the same again: nothing
    writes = [s for s in statements if not s.startswith(("SELECT", "COMMIT"))]
    assert writes == ["UPDATE throttles SET failures = 2 WHERE key = 't1'"]
    (row,) = stored_throttles(store.path)
    assert row[:2] == ("t1", 2)


def test_a_put_of_a_record_not_read_inserts_or_replaces_it_whole(store: SQLiteStore) -> None:
    with store.transaction() as tx:
        statements = traced(tx)
        tx.put(THROTTLES, [throttle("t1")])
        tx.put(THROTTLES, [throttle("t1", failures=5)])  # not read: replaced whole
        tx.put(THROTTLES, [throttle("t2")])
    assert sum(s.startswith("INSERT INTO throttles") for s in statements) == 3
    assert [r[:2] for r in stored_throttles(store.path)] == [("t1", 5), ("t2", 1)]


def test_a_put_after_a_delete_inserts_again(store: SQLiteStore) -> None:
    """A deleted record is forgotten: its put is an insert, not an update of nothing."""
    with store.transaction() as tx:
        tx.add(THROTTLES, [throttle("t1")])
    with store.transaction() as tx:
        (found,) = tx.read([Query(THROTTLES, ("key",), (("t1",),))])
        tx.delete(THROTTLES, [("t1",)])
        tx.put(THROTTLES, [attrs.evolve(found[0], failures=3)])
    assert [r[:2] for r in stored_throttles(store.path)] == [("t1", 3)]


# -- reads ------------------------------------------------------------------------------------


def test_a_few_values_of_one_field_are_a_statement_each_each_record_once(
    store: SQLiteStore,
) -> None:
    with store.transaction() as tx:
        tx.add(THROTTLES, [throttle("a"), throttle("b")])
    with store.transaction() as tx:
        statements = traced(tx)
        values = (("a",), ("a",), ("\ud800",), ("b", "extra"))[: _FEW_VALUES + 1]
        (found,) = tx.read([Query(THROTTLES, ("key",), values)])
        (both,) = tx.read([Query(THROTTLES, ("key",), (("b",), ("a",), ("none",)))])
    assert [t.key for t in found] == ["a"]  # once; the lone surrogate and wrong width: none
    assert sorted(t.key for t in both) == ["a", "b"]
    selects = [s for s in statements if s.startswith("SELECT")]
    assert len(selects) == 4
    assert not any(" IN (" in s for s in selects)


def test_more_values_are_one_statement_with_an_in_list(store: SQLiteStore) -> None:
    keys = [f"k{n}" for n in range(_FEW_VALUES + 2)]
    with store.transaction() as tx:
        tx.add(THROTTLES, [throttle(k) for k in keys])
    with store.transaction() as tx:
        statements = traced(tx)
        (found,) = tx.read([Query(THROTTLES, ("key",), tuple((k,) for k in keys))])
    assert sorted(t.key for t in found) == keys
    assert sum(s.startswith("SELECT") for s in statements) == 1


def test_instants_read_back_equal_and_one_text_is_read_once() -> None:
    text = "2030-01-01T09:00:00.000001+00:00"
    assert read_instant(text) == dt.datetime(2030, 1, 1, 9, 0, 0, 1, tzinfo=dt.UTC)
    assert read_instant(text) is read_instant(text)
    with pytest.raises(ValueError, match="Invalid isoformat string"):
        read_instant("not a time")


@pytest.mark.parametrize(
    ("column", "value"),
    [("created_at", "yesterday"), ("delivery", "posted"), ("computer_ids", "[oops")],
)
def test_an_unreadable_stored_value_is_an_incompatible_store(
    store: SQLiteStore, column: str, value: str
) -> None:
    kit, _, codes = invited(store, 1)
    with sqlite3.connect(store.path) as raw:
        raw.execute(f"UPDATE install_invitations SET {column} = ?", (value,))  # noqa: S608
    with pytest.raises(IncompatibleStore, match="install_invitations cannot be read"):
        kit.activate(code=codes[0], computer_id="pc-1")


def test_lists_are_written_as_the_json_encoder_writes_them() -> None:
    encode = json.JSONEncoder().encode
    for value in [(), ("pc-1",), ("é", 'q"'), frozenset({"b", "a"})]:
        expected = encode(sorted(value) if isinstance(value, frozenset) else list(value))
        assert _json_list(value) == expected


def test_the_compiled_differ_names_the_fields_that_differ() -> None:
    @attrs.frozen
    class Pair:
        a: object
        b: object
        c: object

    changed = differ(("a", "b", "c"))
    assert changed(Pair(1, [2], "x"), Pair(1, [2], "y")) == (2,)  # equal lists: unchanged
    assert changed(Pair(1, 2, 3), Pair(0, 2, 4)) == (0, 2)
    assert changed(Pair(1, 2, 3), Pair(1, 2, 3)) == ()


# -- one activation ---------------------------------------------------------------------------


def test_one_activation_by_typed_code_runs_these_statements(store: SQLiteStore) -> None:
    """One transaction: six look-ups by key, the guarded seat, narrow writes, two inserts."""
    kit, _, codes = invited(store, 2)
    kit.activate(code=codes[0], computer_id="pc-0")  # the key's hourly count exists now
    statements: list[str] = []
    start = SQLiteTransaction.__init__

    def tracing(self: SQLiteTransaction, connection: sqlite3.Connection, *rest: Any) -> None:
        connection.set_trace_callback(statements.append)
        start(self, connection, *rest)

    SQLiteTransaction.__init__ = tracing  # type: ignore[method-assign]
    try:
        kit.activate(code=codes[1], computer_id="pc-1")
    finally:
        SQLiteTransaction.__init__ = start  # type: ignore[method-assign]
    shapes = [s.split(" WHERE ")[0] if s.startswith("SELECT") else s[:40] for s in statements]
    selects = [s.split(" FROM ")[1] for s in shapes if s.startswith("SELECT")]
    assert selects == [
        "install_invitations",
        "license_keys",
        "installations",
        "computer_blocks",
        "throttles",
        "throttles",
    ]
    writes = [s for s in statements if not s.startswith(("SELECT", "BEGIN", "COMMIT"))]
    seat, invitation = writes[:2]
    assert seat.startswith("UPDATE license_keys SET seats_used = seats_used + 1 WHERE ")
    assert seat.endswith("seats_used + 1 <= seats")  # the guard
    set_part = invitation.split(" WHERE ")[0]
    assert set_part.startswith(
        "UPDATE install_invitations SET activations = 1, computer_ids = '[\"pc-1\"]', "
    )
    assert set_part.count(" = ") == 3  # and last_activated_at: nothing else is written
    assert writes[2].startswith("INSERT INTO installations")
    assert writes[3].startswith("UPDATE throttles SET failures = 2 WHERE key = 'activations-")
    assert writes[4].startswith("INSERT INTO audit_events")
    assert len(writes) == 5
    assert statements[-1] == "COMMIT"
