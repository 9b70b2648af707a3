"""Inviting many people looks them up in bulk: a constant number of store operations per
chunk of addresses, not one or two per address (issue 14 measured about 2,030 statements
for 1,000 invitations), and the same decisions across chunk boundaries."""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from licensekit import DeliveryStatus, InvitationNotFound, MemoryStore
from licensekit._usecases import join_invitations
from licensekit.testing import add_member, make_business_account, make_licensekit


class _Counting:
    """A transaction that counts the operations called on it."""

    def __init__(self, port: Any, counts: collections.Counter[str]) -> None:
        self._port = port
        self._counts = counts

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._port, name)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            self._counts[name] += 1
            return target(*args, **kwargs)

        return call


class CountingStore(MemoryStore):
    """A memory store whose transactions count their operations while ``on``."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: collections.Counter[str] = collections.Counter()
        self.on = False

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with super().transaction() as port:
            yield _Counting(port, self.counts) if self.on else port

    def operations(self, work: Callable[[], object]) -> int:
        self.counts.clear()
        self.on = True
        try:
            work()
        finally:
            self.on = False
        return sum(self.counts.values())


def invitation_cost(n: int, registered: int = 0) -> int:
    store = CountingStore()
    kit = make_licensekit(store=store)
    admin, account = make_business_account(kit)
    emails = [f"person{i}@example.com" for i in range(n)]
    for email in emails[:registered]:
        kit.register_user(email, "correct horse battery staple")
    return store.operations(lambda: kit.invite_members(admin, account.id, emails))


def test_a_thousand_invitations_cost_a_few_operations_per_chunk() -> None:
    chunks = -(-1000 // join_invitations.LOOKUP_CHUNK)
    # Authorisation, the account and the inviter; two look-ups per chunk; two writes; and per
    # chunk of sending, the lock, one look-up and two writes recording it.
    assert invitation_cost(1000) <= 8 + 2 * chunks + 4 * chunks


def test_the_cost_does_not_grow_with_the_addresses_of_one_chunk() -> None:
    assert invitation_cost(400, registered=200) == invitation_cost(3, registered=2)


@pytest.fixture
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(join_invitations, "LOOKUP_CHUNK", 2)


@pytest.mark.usefixtures("tiny_chunks")
def test_every_reason_is_found_across_chunk_boundaries() -> None:
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    add_member(kit, admin, account.id, "active@example.com")
    blocked = add_member(kit, admin, account.id, "blocked@example.com")
    kit.block_member(admin, account.id, blocked.user_id)
    removed = add_member(kit, admin, account.id, "removed@example.com")
    kit.remove_member(admin, account.id, removed.user_id)
    (pending,) = kit.invite_members(admin, account.id, ["pending@example.com"]).invited
    kit.register_user("stranger@example.com", "correct horse battery staple")

    batch = kit.invite_members(
        admin,
        account.id,
        [
            "new@example.com",
            "active@example.com",
            "removed@example.com",
            "blocked@example.com",
            "stranger@example.com",
            "pending@example.com",
            "admin@example.com",
        ],
    )

    assert sorted(i.email for i in batch.invited) == [
        "new@example.com",
        "removed@example.com",
        "stranger@example.com",
    ]
    assert [(s.text, s.reason) for s in batch.skipped] == [
        ("active@example.com", "already a member of this account"),
        ("blocked@example.com", "blocked in this account; unblock them instead"),
        (
            "pending@example.com",
            f"already has a pending invitation ({pending.id}); resend it instead",
        ),
        ("admin@example.com", "already a member of this account"),
    ]


def sending_cost(n: int) -> int:
    """Store operations of sending *n* join invitations named by id."""
    store = CountingStore()
    kit = make_licensekit(store=store)
    admin, account = make_business_account(kit)
    emails = [f"person{i}@example.com" for i in range(n)]
    batch = kit.invite_members(admin, account.id, emails, send=False)
    ids = [i.id for i in batch.invited]
    return store.operations(
        lambda: kit.send_join_invitations(admin, account.id, invitation_ids=ids)
    )


def test_sending_invitations_named_by_id_reads_them_at_once() -> None:
    # They were read one by one: 1,000 named invitations cost 1,002 statements on SQLite.
    assert sending_cost(400) == sending_cost(3)


def test_sending_names_the_first_invitation_that_is_not_the_accounts() -> None:
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    other_admin, other = make_business_account(kit, name="Other Corp")
    ours = kit.invite_members(admin, account.id, ["a@example.com"], send=False).invited[0]
    theirs = kit.invite_members(other_admin, other.id, ["b@example.com"], send=False).invited[0]
    with pytest.raises(InvitationNotFound, match=theirs.id):
        kit.send_join_invitations(admin, account.id, invitation_ids=[ours.id, theirs.id, "x"])
    listed = kit.list_join_invitations(admin, account.id).items
    assert [(i.id, i.delivery) for i in listed] == [(ours.id, DeliveryStatus.NOT_SENT)]
