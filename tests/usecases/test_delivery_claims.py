"""Sending claims invitations first, so overlapping sends never mail one invitation twice.

A call that sends stores its invitations as ``sending`` before it hands anything to the
mailer; another call skips them until ``Settings.delivery_claim_timeout`` has passed, after
which a claim left by a sender that died counts as undelivered and is sent again.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import attrs
import pytest

from _records import records
from licensekit import DeliveryStatus, Settings
from licensekit.mail import Message
from licensekit.storage import INSTALL_INVITATIONS, PROTOCOL_VERSION
from licensekit.testing import RecordingMailer, make_business_account, make_licensekit

EMAILS = [f"user{n}@example.com" for n in range(6)]
TIMEOUT = dt.timedelta(minutes=30)


class GateMailer(RecordingMailer):
    """Records messages; the first send waits until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.gate = threading.Event()

    def send(self, message: Message) -> None:
        if not self.entered.is_set():
            self.entered.set()
            assert self.gate.wait(timeout=10)
        super().send(message)


class DyingMailer(RecordingMailer):
    """Sends two messages, then the process 'dies' (an exception no mailer should raise)."""

    def send(self, message: Message) -> None:
        if len(self.sent) == 2:
            raise KeyboardInterrupt
        super().send(message)


def counts(mailer: RecordingMailer) -> Counter[str]:
    return Counter(m.to for m in mailer.sent)


def setup_installs(mailer: RecordingMailer):  # type: ignore[no-untyped-def]
    kit = make_licensekit(mailer=mailer, settings=Settings(delivery_claim_timeout=TIMEOUT))
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="Draw", value="DRAW-1234-5678", seats=9)
    return kit, admin, account, key


def test_an_overlapping_send_skips_what_another_call_is_sending() -> None:
    mailer = GateMailer()
    kit, admin, account, key = setup_installs(mailer)
    kit.invite_installers(admin, account.id, key.id, EMAILS, send=False)
    results = {}

    def first() -> None:
        results["first"] = kit.send_install_invitations(admin, account.id, key.id)

    worker = threading.Thread(target=first)
    worker.start()
    assert mailer.entered.wait(timeout=10)  # the first call has claimed everything
    second = kit.send_install_invitations(admin, account.id, key.id)
    mailer.gate.set()
    worker.join(timeout=10)
    assert second.sent == ()
    assert second.undelivered == ()
    assert sorted(v.email for v in results["first"].sent) == sorted(EMAILS)
    assert counts(mailer) == Counter(EMAILS)  # each exactly once


def test_a_claim_shows_as_sending_in_the_listing() -> None:
    mailer = GateMailer()
    kit, admin, account, key = setup_installs(mailer)
    kit.invite_installers(admin, account.id, key.id, EMAILS[:2], send=False)
    worker = threading.Thread(
        target=lambda: kit.send_install_invitations(admin, account.id, key.id)
    )
    worker.start()
    assert mailer.entered.wait(timeout=10)
    during = kit.list_install_invitations(admin, account.id, key.id).items
    mailer.gate.set()
    worker.join(timeout=10)
    after = kit.list_install_invitations(admin, account.id, key.id).items
    assert {v.delivery for v in during} == {DeliveryStatus.SENDING}
    assert {v.delivery for v in after} == {DeliveryStatus.SENT}


@pytest.mark.sync_only("a KeyboardInterrupt in a worker thread ends an event loop, by design")
def test_a_sender_that_died_leaves_claims_that_expire_and_are_sent_again() -> None:
    mailer = DyingMailer()
    kit, admin, account, key = setup_installs(mailer)
    with pytest.raises(KeyboardInterrupt):
        kit.invite_installers(admin, account.id, key.id, EMAILS)
    # The invitations were stored before sending; the unsent ones stay claimed.
    views = kit.list_install_invitations(admin, account.id, key.id).items
    assert len(views) == len(EMAILS)
    assert {v.delivery for v in views} == {DeliveryStatus.SENDING}
    assert len(mailer.sent) == 2

    mailer.send = RecordingMailer.send.__get__(mailer)  # type: ignore[method-assign]
    early = kit.send_install_invitations(admin, account.id, key.id)
    assert early.sent == ()  # still claimed: the other sender might be alive

    kit.clock.advance(TIMEOUT)
    late = kit.send_install_invitations(admin, account.id, key.id)
    # Those that went out before the crash are sent again: the store cannot know they were
    # delivered. Nothing is lost; duplicates are limited to what was in flight.
    assert sorted(v.email for v in late.sent) == sorted(EMAILS)
    assert set(counts(mailer)) == set(EMAILS)


def test_a_claim_younger_than_the_timeout_is_left_alone() -> None:
    kit, admin, account, key = setup_installs(RecordingMailer())
    batch = kit.invite_installers(admin, account.id, key.id, EMAILS[:1], send=False)
    invitation = kit.store.dump()
    stored = next(r for r in invitation if getattr(r, "id", None) == batch.invited[0].id)
    claimed = attrs.evolve(
        stored, delivery=DeliveryStatus.SENDING, delivery_started_at=kit.clock.now()
    )
    with records(kit.store) as tx:
        tx.save(INSTALL_INVITATIONS, claimed)  # type: ignore[arg-type]
    kit.clock.advance(TIMEOUT - dt.timedelta(seconds=1))
    assert kit.send_install_invitations(admin, account.id, key.id).sent == ()
    kit.clock.advance(dt.timedelta(seconds=1))
    assert len(kit.send_install_invitations(admin, account.id, key.id).sent) == 1


def test_overlapping_join_sends_mail_each_invitation_once() -> None:
    mailer = GateMailer()
    kit = make_licensekit(mailer=mailer)
    admin, account = make_business_account(kit)
    kit.invite_members(admin, account.id, EMAILS, send=False)
    results = {}

    def first() -> None:
        results["first"] = kit.send_join_invitations(admin, account.id)

    worker = threading.Thread(target=first)
    worker.start()
    assert mailer.entered.wait(timeout=10)
    second = kit.send_join_invitations(admin, account.id)
    mailer.gate.set()
    worker.join(timeout=10)
    assert second.sent == ()
    assert len(results["first"].sent) == len(EMAILS)
    assert counts(mailer) == Counter(EMAILS)


def test_the_claim_timeout_must_be_positive() -> None:
    from licensekit import ValidationError

    with pytest.raises(ValidationError):
        Settings(delivery_claim_timeout=dt.timedelta(0))


class BusyOnceStore:
    """Wraps a store; the first transaction opened after `arm()` fails with StorageBusy."""

    protocol_version = PROTOCOL_VERSION

    def __init__(self, inner: object, failures: int) -> None:
        self.inner = inner
        self.armed = False
        self.failures = failures

    def arm(self) -> None:
        self.armed = True

    def transaction(self):  # type: ignore[no-untyped-def]
        from licensekit import StorageBusy

        if self.armed and self.failures:
            self.failures -= 1
            raise StorageBusy("locked by another connection (simulated)")
        return self.inner.transaction()  # type: ignore[attr-defined]

    def close(self) -> None:
        self.inner.close()  # type: ignore[attr-defined]


class ArmingMailer(RecordingMailer):
    """Arms the store's busy spell as soon as it has sent something."""

    store: BusyOnceStore

    def send(self, message: Message) -> None:
        super().send(message)
        self.store.arm()


@pytest.mark.parametrize(("failures", "recorded"), [(2, True), (3, False)])
def test_recording_the_outcome_waits_out_a_busy_store(failures: int, recorded: bool) -> None:
    from licensekit import StorageBusy
    from licensekit.testing import make_licensekit as make

    mailer = ArmingMailer()
    kit = make(mailer=mailer)
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="Draw", value="DRAW-9999", seats=3)
    kit.invite_installers(admin, account.id, key.id, EMAILS[:2], send=False)
    store = BusyOnceStore(kit.store, failures)
    mailer.store = store
    kit.store = store  # type: ignore[assignment]
    if recorded:
        report = kit.send_install_invitations(admin, account.id, key.id)
        assert len(report.sent) == 2
    else:
        with pytest.raises(StorageBusy):
            kit.send_install_invitations(admin, account.id, key.id)
    views = kit.list_install_invitations(admin, account.id, key.id).items
    expected = DeliveryStatus.SENT if recorded else DeliveryStatus.SENDING
    assert {v.delivery for v in views} == {expected}
