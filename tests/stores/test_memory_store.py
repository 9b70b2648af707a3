"""The memory store's own details, beyond the contract suite it passes like every store."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from licensekit import MemoryStore
from licensekit.exceptions import StorageError
from licensekit.model import Membership, MemberStatus, Role
from licensekit.storage import MEMBERSHIPS, Query

T0 = dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.UTC)


def membership(user_id: str, **changes: object) -> Membership:
    fields: dict[str, object] = {
        "account_id": "acc_1",
        "user_id": user_id,
        "role": Role.REGULAR_MEMBER,
        "status": MemberStatus.ACTIVE,
        "joined_at": T0,
        "updated_at": T0,
        **changes,
    }
    return Membership(**fields)  # type: ignore[arg-type]


def test_a_cursor_that_is_no_value_of_the_order_is_refused() -> None:
    store = MemoryStore()
    with store.transaction() as tx:
        tx.add(MEMBERSHIPS, [membership("usr_1"), membership("usr_2")])
    refused = pytest.raises(StorageError, match="a cursor of the memberships")
    with refused, store.transaction() as tx:
        tx.page(MEMBERSHIPS, "acc_1", after=(None,), limit=10)


def test_a_save_moves_the_counts_and_index_entries_of_the_fields_it_changes() -> None:
    store = MemoryStore()
    with store.transaction() as tx:
        tx.add(MEMBERSHIPS, [membership("usr_1"), membership("usr_2")])
        tx.save(MEMBERSHIPS, [membership("usr_1", role=Role.ACCOUNT_ADMINISTRATOR)])
        admins = {
            "account_id": "acc_1",
            "role": Role.ACCOUNT_ADMINISTRATOR,
            "status": MemberStatus.ACTIVE,
        }
        members = {**admins, "role": Role.REGULAR_MEMBER}
        assert tx.count(MEMBERSHIPS, admins) == 1
        assert tx.count(MEMBERSHIPS, members) == 1
        (mine,) = tx.read([Query(MEMBERSHIPS, ("user_id",), (("usr_1",),))])
        assert [m.role for m in mine] == [Role.ACCOUNT_ADMINISTRATOR]
        assert tx.page(MEMBERSHIPS, "acc_1", after=None, limit=10) == [
            membership("usr_1", role=Role.ACCOUNT_ADMINISTRATOR),
            membership("usr_2"),
        ]


def test_a_store_makes_its_tables_with_its_first_record_and_keeps_them() -> None:
    store = MemoryStore()
    assert repr(store) == "MemoryStore()"
    assert store.dump() == []
    with store.transaction() as tx:
        tx.lock(["account:acc_1"])  # no record touched: nothing to make yet
    member = membership("usr_1")
    key = Query(MEMBERSHIPS, ("account_id", "user_id"), (("acc_1", "usr_1"),))

    def add_then_fail() -> None:
        with store.transaction() as tx:
            tx.add(MEMBERSHIPS, [member])
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        add_then_fail()
    with store.transaction() as tx:
        assert tx.read([key]) == [[]]
        tx.add(MEMBERSHIPS, [member])
    assert store.dump() == [member]
    assert repr(store) == "MemoryStore(memberships=1)"


def test_a_kind_the_store_does_not_keep_is_refused_before_and_after_its_tables_exist() -> None:
    stranger = attrs.evolve(MEMBERSHIPS, name="strangers")
    store = MemoryStore()
    for _ in range(2):
        with (
            pytest.raises(StorageError, match="not a kind this store keeps"),
            store.transaction() as tx,
        ):
            tx.read([Query(stranger, ("account_id", "user_id"), (("acc_1", "usr_1"),))])
    store.close()
    with pytest.raises(StorageError, match="closed"), store.transaction():
        pass
