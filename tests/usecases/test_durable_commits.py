"""Which transactions must reach the disk before a call returns, and which need not.

Inviting one member stores the invitation (claimed for sending) and its audit event in one
durable transaction, sends the email, then stores how sending went. Only that last
transaction is opened with ``durable=False``: losing it in a crash of the machine leaves the
invitation claimed until the claim runs out, exactly as a crash between sending and
recording does. A mail is never recorded as sent before it is, and never sent for an
invitation that is not durably stored. A store whose ``transaction()`` does not take the
keyword is never given it.

Each test runs through LicenseKit and through AsyncLicenseKit (which serves the store from
a ThreadedStore, so the keyword crosses it too).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from licensekit import DeliveryStatus, MemoryStore
from licensekit.testing import RecordingMailer, make_business_account, make_licensekit


class RecordingStore(MemoryStore):
    """A memory store that notes, while ``on``, whether each transaction had to be durable."""

    def __init__(self) -> None:
        super().__init__()
        self.durable: list[bool] = []
        self.on = False

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Any]:
        if self.on:
            self.durable.append(durable)
        with super().transaction(durable=durable) as port:
            yield port


class OldStore(MemoryStore):
    """A store written before the keyword: its ``transaction()`` takes no argument at all."""

    def __init__(self) -> None:
        super().__init__()
        self.opened = 0

    @contextmanager
    def transaction(self) -> Iterator[Any]:  # type: ignore[override]
        self.opened += 1
        with super().transaction() as port:
            yield port


def recording(mailer: RecordingMailer | None = None) -> tuple[Any, RecordingStore, Any, Any]:
    store = RecordingStore()
    kit = make_licensekit(store=store, mailer=mailer)
    admin, account = make_business_account(kit)
    store.on = True
    return kit, store, admin, account


def test_inviting_one_member_makes_one_durable_transaction_then_bookkeeping() -> None:
    kit, store, admin, account = recording()

    batch = kit.invite_members(admin, account.id, ["one@example.com"])

    assert store.durable == [True, False]
    (invited,) = batch.invited
    assert invited.delivery is DeliveryStatus.SENT
    listed = kit.list_join_invitations(admin, account.id).items
    assert [(i.email, i.delivery, i.sent_count) for i in listed] == [
        ("one@example.com", DeliveryStatus.SENT, 1)
    ], "the commit that need not be durable was not kept"
    assert len(kit.mailer.messages(to="one@example.com")) == 1


def test_a_failed_email_is_recorded_by_the_transaction_that_need_not_be_durable() -> None:
    kit, store, admin, account = recording(RecordingMailer(fail_for=["gone@example.com"]))

    batch = kit.invite_members(admin, account.id, ["gone@example.com"])

    assert store.durable == [True, False]
    assert [f.email for f in batch.undelivered] == ["gone@example.com"]
    (listed,) = kit.list_join_invitations(admin, account.id).items
    assert listed.delivery is DeliveryStatus.REFUSED  # the recording mailer refuses for good


def test_nothing_is_relaxed_when_nothing_was_sent() -> None:
    kit, store, admin, account = recording()

    kit.invite_members(admin, account.id, ["later@example.com"], send=False)

    assert store.durable == [True]


def test_resending_and_sending_later_relax_only_their_bookkeeping() -> None:
    kit, store, admin, account = recording()
    (pending,) = kit.invite_members(admin, account.id, ["later@example.com"], send=False).invited
    store.durable.clear()

    kit.resend_join_invitation(admin, account.id, pending.id)
    assert store.durable == [True, False]

    kit.invite_members(admin, account.id, ["other@example.com"], send=False)
    store.durable.clear()
    report = kit.send_join_invitations(admin, account.id)
    assert [i.email for i in report.sent] == ["other@example.com"]
    assert store.durable == [True, False]


def test_a_store_without_the_keyword_is_called_as_before_and_keeps_everything() -> None:
    store = OldStore()
    kit = make_licensekit(store=store)  # type: ignore[arg-type]
    admin, account = make_business_account(kit)
    before = store.opened

    batch = kit.invite_members(admin, account.id, ["one@example.com"])

    assert store.opened - before == 2
    (listed,) = kit.list_join_invitations(admin, account.id).items
    assert (listed.id, listed.delivery) == (batch.invited[0].id, DeliveryStatus.SENT)
