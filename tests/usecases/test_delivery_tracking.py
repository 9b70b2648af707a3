"""Delivery tracking of invitation emails (issue 5), at the service level.

Invitations are stored before anything is sent; each one records how its email went (not
sent, sent, failed for now, refused for good), with the number of attempts and the last
error. A failure for one recipient never stops the others, and retrying sends only what was
not delivered, so that every invitation ends up delivered exactly once or marked failed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import pytest

import licensekit
from licensekit import (
    AuditAction,
    DeliveryError,
    DeliveryFailure,
    DeliveryReport,
    InstallInvitationState,
    InvitationNotFound,
    InvitationState,
    JoinInvitationView,
    PasswordHasher,
    PermissionDenied,
    Session,
)
from licensekit.mail import BatchMailer, Mailer, Message
from licensekit.model import DeliveryStatus
from licensekit.testing import (
    TEST_DOWNLOAD_URL,
    TEST_JOIN_URL,
    TEST_PASSWORD,
    TEST_SECRET,
    FakeClock,
    LicenseKitForTests,
    RecordingMailer,
    add_member,
    make_business_account,
    make_licensekit,
    new_test_store,
)

PRODUCT = "Parallels Desktop for Mac Business Edition"
KEY_VALUE = "PDB-7Q2MX-9D4R8-T3WK5-ZH6NC"
REFUSED_REASON = "recipient {} refused (simulated)"


# == test mailers ===========================================================================


class FlakyMailer(RecordingMailer):
    """A recording mailer that fails *transiently* for chosen addresses, a few times.

    Each address in *flaky* fails with ``DeliveryError(permanent=False)`` on its first
    *failures* attempts, then goes through. Addresses in *fail_for* are refused for good, as
    by :class:`RecordingMailer`. :attr:`attempts` lists every address tried, in order.
    """

    def __init__(
        self, *, flaky: Iterable[str] = (), failures: int = 1, fail_for: Iterable[str] = ()
    ) -> None:
        super().__init__(fail_for=fail_for)
        self.failures_left = {address.lower(): failures for address in flaky}
        self.attempts: list[str] = []

    def send(self, message: Message) -> None:
        to = message.to.lower()
        self.attempts.append(to)
        if self.failures_left.get(to, 0) > 0:
            self.failures_left[to] -= 1
            raise DeliveryError(f"451 4.3.0 {to}: try again later (simulated)")
        super().send(message)

    def sent_to(self, address: str) -> int:
        return len(self.messages(to=address))


class BatchRecordingMailer(FlakyMailer):
    """A :class:`FlakyMailer` that also has ``send_batch``, and records each batch.

    *broken* makes ``send_batch`` misbehave: ``"oserror"`` and ``"transient"`` raise (an
    OSError, a transient DeliveryError) and deliver nothing, ``"short"`` and ``"long"``
    deliver everything but return one result too few or too many, ``"junk"`` delivers
    everything but returns strings instead of None.
    """

    def __init__(self, *, broken: str | None = None, **options) -> None:
        super().__init__(**options)
        self.broken = broken
        self.batches: list[list[str]] = []
        self.single_sends: list[str] = []

    def send(self, message: Message) -> None:
        self.single_sends.append(message.to)
        super().send(message)

    def send_batch(self, messages: Sequence[Message]) -> list[DeliveryError | None]:
        self.batches.append([m.to for m in messages])
        if self.broken == "oserror":
            raise ConnectionResetError("connection dropped by the relay (simulated)")
        if self.broken == "transient":
            raise DeliveryError("421 4.7.0 too many connections (simulated)")
        results: list[DeliveryError | None] = []
        for message in messages:
            try:
                FlakyMailer.send(self, message)
            except DeliveryError as e:
                results.append(e)
            else:
                results.append(None)
        if self.broken == "short":
            return results[:-1]
        if self.broken == "long":
            return [*results, None]
        if self.broken == "junk":
            return ["ok" for _ in results]  # type: ignore[misc]
        return results


class ExplodingMailer:
    """A host mailer that raises its own (non-licensekit) error for chosen addresses."""

    def __init__(self, *, explode_for: Iterable[str]) -> None:
        self.explode_for = {a.lower() for a in explode_for}
        self.sent: list[Message] = []

    def send(self, message: Message) -> None:
        if message.to.lower() in self.explode_for:
            raise OSError("relay unreachable (simulated)")
        self.sent.append(message)


def kit_with(mailer: Mailer) -> LicenseKitForTests:
    """Like make_licensekit, for a mailer that is not a RecordingMailer."""
    return LicenseKitForTests(
        new_test_store(),
        mailer,
        secret=TEST_SECRET,
        join_url=TEST_JOIN_URL,
        download_url=TEST_DOWNLOAD_URL,
        clock=FakeClock(),
        password_hasher=PasswordHasher.insecure_fast(),
    )


def test_the_test_mailers_are_what_they_claim():
    assert isinstance(BatchRecordingMailer(), BatchMailer)
    assert not isinstance(FlakyMailer(), BatchMailer)
    assert isinstance(ExplodingMailer(explode_for=()), Mailer)
    assert not isinstance(ExplodingMailer(explode_for=()), BatchMailer)


# == set-up =================================================================================


class Setup(NamedTuple):
    kit: LicenseKitForTests
    admin: Session
    account_id: str
    key_id: str


def new_setup(mailer: RecordingMailer | None = None) -> Setup:
    kit = make_licensekit(mailer=mailer)
    admin, account = make_business_account(kit, name="Acme Ltd")
    key = kit.add_license_key(admin, account.id, product=PRODUCT, value=KEY_VALUE, seats=10)
    return Setup(kit, admin, account.id, key.id)


def install_views(setup: Setup) -> dict[str, licensekit.InstallInvitationView]:
    kit, admin, account_id, key_id = setup
    return {i.email: i for i in kit.list_install_invitations(admin, account_id, key_id).items}


def join_views(setup: Setup) -> dict[str, JoinInvitationView]:
    kit, admin, account_id, _ = setup
    return {i.email: i for i in kit.list_join_invitations(admin, account_id).items}


def delivery(view) -> tuple[DeliveryStatus, int, int, str]:
    return view.delivery, view.delivery_attempts, view.sent_count, view.delivery_error


def transient(address: str) -> str:
    return f"451 4.3.0 {address}: try again later (simulated)"


def assert_delivered_exactly_once_or_marked_failed(views: Iterable, mailer: FlakyMailer) -> None:
    """Every invitation was handed over exactly once and says so, or says it failed."""
    for view in views:
        if view.delivery is DeliveryStatus.SENT:
            assert (view.sent_count, mailer.sent_to(view.email)) == (1, 1), view.email
            assert view.delivery_error == ""
        else:
            assert view.delivery in (DeliveryStatus.FAILED, DeliveryStatus.REFUSED), view
            assert (view.sent_count, mailer.sent_to(view.email)) == (0, 0), view.email
            assert view.delivery_error


def undelivered_events(setup: Setup) -> list:
    kit, admin, account_id, _ = setup
    return [
        e
        for e in kit.list_audit_events(admin, account_id, limit=500).items
        if e.action
        in (AuditAction.INVITATION_UNDELIVERED, AuditAction.INSTALL_INVITATION_UNDELIVERED)
    ]


MIXED = ["ann@example.com", "tom@example.com", "rex@example.com", "bob@example.com"]
"""Ann and Bob go through, Tom fails for now (4xx), Rex is refused for good (5xx)."""


def mixed_mailer(*, failures: int = 1, batch: bool = False) -> FlakyMailer:
    kind = BatchRecordingMailer if batch else FlakyMailer
    return kind(flaky=["tom@example.com"], failures=failures, fail_for=["rex@example.com"])


# == invitations to install =================================================================


def test_invite_installers_stores_every_invitation_and_how_each_email_went():
    setup = new_setup(mixed_mailer())
    kit, admin, account_id, key_id = setup

    batch = kit.invite_installers(admin, account_id, key_id, MIXED)

    assert batch.undelivered == (
        DeliveryFailure(
            "tom@example.com", batch.invited[1].id, transient("tom@example.com"), False
        ),
        DeliveryFailure(
            "rex@example.com",
            batch.invited[2].id,
            REFUSED_REASON.format("rex@example.com"),
            True,
        ),
    )
    views = install_views(setup)
    assert list(views) == MIXED  # nothing lost
    assert [v.id for v in views.values()] == [i.id for i in batch.invited]
    assert {e: delivery(v) for e, v in views.items()} == {
        "ann@example.com": (DeliveryStatus.SENT, 1, 1, ""),
        "tom@example.com": (DeliveryStatus.FAILED, 1, 0, transient("tom@example.com")),
        "rex@example.com": (
            DeliveryStatus.REFUSED,
            1,
            0,
            REFUSED_REASON.format("rex@example.com"),
        ),
        "bob@example.com": (DeliveryStatus.SENT, 1, 1, ""),
    }
    assert {e: v.state for e, v in views.items()} == {
        "ann@example.com": InstallInvitationState.SENT,
        "tom@example.com": InstallInvitationState.PENDING,
        "rex@example.com": InstallInvitationState.PENDING,
        "bob@example.com": InstallInvitationState.SENT,
    }
    assert kit.mailer.attempts == MIXED  # one failure never stops the others
    assert [m.to for m in kit.mailer.sent] == ["ann@example.com", "bob@example.com"]


def test_invite_installers_batch_views_show_the_delivery_of_undelivered_invitations():
    setup = new_setup(mixed_mailer())
    kit, admin, account_id, key_id = setup

    batch = kit.invite_installers(admin, account_id, key_id, MIXED)

    assert list(batch.invited) == list(install_views(setup).values())


def test_send_install_invitations_retries_only_what_failed_for_now_or_was_never_sent():
    setup = new_setup(mixed_mailer(failures=2))
    kit, admin, account_id, key_id = setup
    kit.invite_installers(admin, account_id, key_id, MIXED)
    (later,) = kit.invite_installers(
        admin, account_id, key_id, ["new@example.com"], send=False
    ).invited
    assert later.delivery is DeliveryStatus.NOT_SENT
    kit.mailer.attempts.clear()

    # The server still says 4xx to Tom: Tom stays FAILED; the unsent one goes out.
    first = kit.send_install_invitations(admin, account_id, key_id)

    assert kit.mailer.attempts == ["tom@example.com", "new@example.com"]
    assert [i.email for i in first.sent] == ["new@example.com"]
    assert [(f.email, f.permanent, f.reason) for f in first.undelivered] == [
        ("tom@example.com", False, transient("tom@example.com"))
    ]
    assert delivery(install_views(setup)["tom@example.com"]) == (
        DeliveryStatus.FAILED,
        2,
        0,
        transient("tom@example.com"),
    )

    # The transient failure has passed: Tom, and only Tom, is sent.
    kit.mailer.attempts.clear()
    second = kit.send_install_invitations(admin, account_id, key_id)

    assert kit.mailer.attempts == ["tom@example.com"]
    assert [delivery(i) for i in second.sent] == [(DeliveryStatus.SENT, 3, 1, "")]
    assert second.undelivered == ()

    # Nothing is left to send; the refused one is not retried.
    kit.mailer.attempts.clear()
    assert kit.send_install_invitations(admin, account_id, key_id) == DeliveryReport(sent=())
    assert kit.mailer.attempts == []
    views = install_views(setup)
    assert {e: v.delivery for e, v in views.items()} == {
        "ann@example.com": DeliveryStatus.SENT,
        "tom@example.com": DeliveryStatus.SENT,
        "rex@example.com": DeliveryStatus.REFUSED,
        "bob@example.com": DeliveryStatus.SENT,
        "new@example.com": DeliveryStatus.SENT,
    }
    assert_delivered_exactly_once_or_marked_failed(views.values(), kit.mailer)


def test_send_install_invitations_leaves_named_sent_and_refused_invitations_alone():
    setup = new_setup(mixed_mailer())
    kit, admin, account_id, key_id = setup
    ann, tom, rex, _ = kit.invite_installers(admin, account_id, key_id, MIXED).invited
    kit.mailer.attempts.clear()

    report = kit.send_install_invitations(
        admin, account_id, key_id, invitation_ids=[rex.id, ann.id, tom.id]
    )

    assert kit.mailer.attempts == ["tom@example.com"]
    assert [i.id for i in report.sent] == [tom.id]
    assert_delivered_exactly_once_or_marked_failed(install_views(setup).values(), kit.mailer)


def test_send_install_invitations_refuses_an_unknown_id_and_sends_nothing():
    setup = new_setup(mixed_mailer())
    kit, admin, account_id, key_id = setup
    (tom,) = kit.invite_installers(admin, account_id, key_id, ["tom@example.com"]).invited
    kit.mailer.attempts.clear()

    with pytest.raises(InvitationNotFound):
        kit.send_install_invitations(
            admin, account_id, key_id, invitation_ids=[tom.id, "iinv_nonexistent"]
        )

    assert kit.mailer.attempts == []
    assert delivery(install_views(setup)["tom@example.com"])[:2] == (DeliveryStatus.FAILED, 1)


def test_resend_install_invitation_tries_a_refused_one_again_and_records_success():
    mailer = FlakyMailer(fail_for=["rex@example.com"])
    setup = new_setup(mailer)
    kit, admin, account_id, key_id = setup
    (rex,) = kit.invite_installers(admin, account_id, key_id, ["rex@example.com"]).invited
    mailer.fail_for.clear()  # the address was fixed on the server side

    resent = kit.resend_install_invitation(admin, account_id, rex.id)

    assert delivery(resent) == (DeliveryStatus.SENT, 2, 1, "")
    assert resent.state is InstallInvitationState.SENT
    assert delivery(install_views(setup)["rex@example.com"]) == (DeliveryStatus.SENT, 2, 1, "")
    assert mailer.sent_to("rex@example.com") == 1


def test_a_failed_install_resend_stores_the_failure_then_raises():
    mailer = FlakyMailer(flaky=["tom@example.com"], failures=5)
    setup = new_setup(mailer)
    kit, admin, account_id, key_id = setup
    (tom,) = kit.invite_installers(admin, account_id, key_id, ["tom@example.com"]).invited

    with pytest.raises(DeliveryError, match="try again later") as raised:
        kit.resend_install_invitation(admin, account_id, tom.id)

    assert raised.value.permanent is False
    assert delivery(install_views(setup)["tom@example.com"]) == (
        DeliveryStatus.FAILED,
        2,
        0,
        transient("tom@example.com"),
    )


def test_install_audit_trail_records_each_send_and_each_failure_with_its_reason():
    setup = new_setup(mixed_mailer())
    kit, admin, account_id, key_id = setup
    ann, tom, rex, bob = kit.invite_installers(admin, account_id, key_id, MIXED).invited
    kit.send_install_invitations(admin, account_id, key_id)

    events = [
        e
        for e in kit.list_audit_events(admin, account_id, limit=500).items
        if e.action.value.startswith("install_invitation.")
    ]

    assert [(e.action, e.subject) for e in events] == [
        *[(AuditAction.INSTALL_INVITATION_CREATED, i.id) for i in (ann, tom, rex, bob)],
        (AuditAction.INSTALL_INVITATION_SENT, ann.id),
        (AuditAction.INSTALL_INVITATION_SENT, bob.id),
        (AuditAction.INSTALL_INVITATION_UNDELIVERED, tom.id),
        (AuditAction.INSTALL_INVITATION_UNDELIVERED, rex.id),
        (AuditAction.INSTALL_INVITATION_SENT, tom.id),
    ]
    assert {e.actor_id for e in events} == {admin.user_id}
    assert [dict(e.details) for e in undelivered_events(setup)] == [
        {
            "email": "tom@example.com",
            "delivery": "failed",
            "reason": transient("tom@example.com"),
        },
        {
            "email": "rex@example.com",
            "delivery": "refused",
            "reason": REFUSED_REASON.format("rex@example.com"),
        },
    ]
    assert events[-1].details == {"email": "tom@example.com", "sent_count": "1"}


# == invitations to join ====================================================================


def test_invite_members_stores_every_invitation_and_how_each_email_went():
    setup = new_setup(mixed_mailer())
    kit, admin, account_id, _ = setup

    batch = kit.invite_members(admin, account_id, MIXED)

    assert [(f.email, f.invitation_id, f.reason, f.permanent) for f in batch.undelivered] == [
        ("tom@example.com", batch.invited[1].id, transient("tom@example.com"), False),
        (
            "rex@example.com",
            batch.invited[2].id,
            REFUSED_REASON.format("rex@example.com"),
            True,
        ),
    ]
    views = join_views(setup)
    assert list(views) == MIXED  # nothing lost
    assert list(batch.invited) == list(views.values())
    assert {e: delivery(v) for e, v in views.items()} == {
        "ann@example.com": (DeliveryStatus.SENT, 1, 1, ""),
        "tom@example.com": (DeliveryStatus.FAILED, 1, 0, transient("tom@example.com")),
        "rex@example.com": (
            DeliveryStatus.REFUSED,
            1,
            0,
            REFUSED_REASON.format("rex@example.com"),
        ),
        "bob@example.com": (DeliveryStatus.SENT, 1, 1, ""),
    }
    assert {v.state for v in views.values()} == {InvitationState.PENDING}
    assert kit.mailer.attempts == MIXED


def test_send_join_invitations_retries_only_what_failed_for_now_or_was_never_sent():
    setup = new_setup(mixed_mailer(failures=2))
    kit, admin, account_id, _ = setup
    kit.invite_members(admin, account_id, MIXED)
    (later,) = kit.invite_members(admin, account_id, ["new@example.com"], send=False).invited
    assert delivery(later) == (DeliveryStatus.NOT_SENT, 0, 0, "")
    kit.mailer.attempts.clear()

    first = kit.send_join_invitations(admin, account_id)

    assert kit.mailer.attempts == ["tom@example.com", "new@example.com"]
    assert [(i.email, *delivery(i)) for i in first.sent] == [
        ("new@example.com", DeliveryStatus.SENT, 1, 1, "")
    ]
    assert all(isinstance(i, JoinInvitationView) for i in first.sent)
    assert [(f.email, f.permanent) for f in first.undelivered] == [("tom@example.com", False)]
    assert delivery(join_views(setup)["tom@example.com"])[:3] == (DeliveryStatus.FAILED, 2, 0)

    kit.mailer.attempts.clear()
    second = kit.send_join_invitations(admin, account_id)

    assert kit.mailer.attempts == ["tom@example.com"]
    assert [(i.email, *delivery(i)) for i in second.sent] == [
        ("tom@example.com", DeliveryStatus.SENT, 3, 1, "")
    ]

    kit.mailer.attempts.clear()
    assert kit.send_join_invitations(admin, account_id) == DeliveryReport(sent=())
    assert kit.mailer.attempts == []
    views = join_views(setup)
    assert views["rex@example.com"].delivery is DeliveryStatus.REFUSED
    assert_delivered_exactly_once_or_marked_failed(views.values(), kit.mailer)
    # The retried email carries the same link as the invitation it belongs to.
    token = kit.mailer.last_token(to="tom@example.com")
    assert kit.describe_join_invitation(token).email == "tom@example.com"


def test_send_join_invitations_sends_only_the_named_invitations_in_their_order():
    setup = new_setup(FlakyMailer())
    kit, admin, account_id, _ = setup
    ann, bob, cid = kit.invite_members(
        admin, account_id, ["ann@example.com", "bob@example.com", "cid@example.com"], send=False
    ).invited

    report = kit.send_join_invitations(admin, account_id, invitation_ids=[cid.id, ann.id, cid.id])

    assert [i.id for i in report.sent] == [cid.id, ann.id]
    assert kit.mailer.attempts == ["cid@example.com", "ann@example.com"]
    assert join_views(setup)["bob@example.com"].delivery is DeliveryStatus.NOT_SENT
    again = kit.send_join_invitations(admin, account_id, invitation_ids=[ann.id, bob.id])
    assert [i.id for i in again.sent] == [bob.id]


def test_send_join_invitations_refuses_an_unknown_or_foreign_id_and_sends_nothing():
    setup = new_setup(FlakyMailer())
    kit, admin, account_id, _ = setup
    (ann,) = kit.invite_members(admin, account_id, ["ann@example.com"], send=False).invited
    other_admin, other = make_business_account(kit, admin_email="o@example.com", name="Other")
    (foreign,) = kit.invite_members(other_admin, other.id, ["x@example.com"], send=False).invited

    for wrong in ("jinv_nonexistent", foreign.id):
        with pytest.raises(InvitationNotFound):
            kit.send_join_invitations(admin, account_id, invitation_ids=[ann.id, wrong])

    assert kit.mailer.attempts == []
    assert join_views(setup)["ann@example.com"].delivery is DeliveryStatus.NOT_SENT


def test_send_join_invitations_leaves_accepted_revoked_and_expired_invitations_alone():
    setup = new_setup(FlakyMailer())
    kit, admin, account_id, _ = setup
    accepted, revoked = kit.invite_members(
        admin, account_id, ["acc@example.com", "rev@example.com"], send=False
    ).invited
    (expired,) = kit.invite_members(
        admin, account_id, ["exp@example.com"], expires_in=dt.timedelta(hours=1), send=False
    ).invited
    kit.resend_join_invitation(admin, account_id, accepted.id)
    kit.accept_join_invitation(kit.mailer.last_token(to="acc@example.com"), password=TEST_PASSWORD)
    kit.revoke_join_invitation(admin, account_id, revoked.id)
    (pending,) = kit.invite_members(admin, account_id, ["pen@example.com"], send=False).invited
    kit.clock.advance(hours=2)
    kit.mailer.attempts.clear()

    report = kit.send_join_invitations(admin, account_id)

    assert [i.id for i in report.sent] == [pending.id]
    assert kit.mailer.attempts == ["pen@example.com"]
    states = {e: (v.state, v.delivery) for e, v in join_views(setup).items()}
    assert states == {
        "acc@example.com": (InvitationState.ACCEPTED, DeliveryStatus.SENT),
        "rev@example.com": (InvitationState.REVOKED, DeliveryStatus.NOT_SENT),
        "exp@example.com": (InvitationState.EXPIRED, DeliveryStatus.NOT_SENT),
        "pen@example.com": (InvitationState.PENDING, DeliveryStatus.SENT),
    }
    named = [expired.id, revoked.id, accepted.id]
    assert kit.send_join_invitations(admin, account_id, invitation_ids=named) == (
        DeliveryReport(sent=())
    )
    assert kit.mailer.attempts == ["pen@example.com"]


def test_send_join_invitations_is_for_account_administrators_only():
    setup = new_setup(FlakyMailer())
    kit, admin, account_id, _ = setup
    kit.invite_members(admin, account_id, ["ann@example.com"], send=False)
    member = add_member(kit, admin, account_id, "mia@example.com")
    kit.mailer.attempts.clear()

    with pytest.raises(PermissionDenied):
        kit.send_join_invitations(member, account_id)

    assert kit.mailer.attempts == []


def test_resend_join_invitation_tries_a_refused_one_again_and_records_success():
    mailer = FlakyMailer(fail_for=["rex@example.com"])
    setup = new_setup(mailer)
    kit, admin, account_id, _ = setup
    (rex,) = kit.invite_members(admin, account_id, ["rex@example.com"]).invited
    assert delivery(rex)[:2] == (DeliveryStatus.REFUSED, 1)
    assert kit.send_join_invitations(admin, account_id) == DeliveryReport(sent=())
    mailer.fail_for.clear()

    resent = kit.resend_join_invitation(admin, account_id, rex.id)

    assert delivery(resent) == (DeliveryStatus.SENT, 2, 1, "")
    assert delivery(join_views(setup)["rex@example.com"]) == (DeliveryStatus.SENT, 2, 1, "")
    assert mailer.sent_to("rex@example.com") == 1


def test_join_audit_trail_records_each_send_and_each_failure_with_its_reason():
    setup = new_setup(mixed_mailer())
    kit, admin, account_id, _ = setup
    ann, tom, rex, bob = kit.invite_members(admin, account_id, MIXED).invited
    kit.send_join_invitations(admin, account_id)

    events = [
        e
        for e in kit.list_audit_events(admin, account_id, limit=500).items
        if e.action.value.startswith("invitation.")
    ]

    assert [(e.action, e.subject) for e in events] == [
        *[(AuditAction.INVITATION_CREATED, i.id) for i in (ann, tom, rex, bob)],
        (AuditAction.INVITATION_SENT, ann.id),
        (AuditAction.INVITATION_SENT, bob.id),
        (AuditAction.INVITATION_UNDELIVERED, tom.id),
        (AuditAction.INVITATION_UNDELIVERED, rex.id),
        (AuditAction.INVITATION_SENT, tom.id),
    ]
    assert [dict(e.details) for e in undelivered_events(setup)] == [
        {
            "email": "tom@example.com",
            "delivery": "failed",
            "reason": transient("tom@example.com"),
        },
        {
            "email": "rex@example.com",
            "delivery": "refused",
            "reason": REFUSED_REASON.format("rex@example.com"),
        },
    ]


# == batch mailers ==========================================================================


@pytest.mark.parametrize("kind", ["install", "join"])
def test_a_batch_mailer_gets_each_batch_in_one_call(kind):
    mailer = mixed_mailer(failures=1, batch=True)
    assert isinstance(mailer, BatchRecordingMailer)
    setup = new_setup(mailer)
    kit, admin, account_id, key_id = setup

    if kind == "install":
        kit.invite_installers(admin, account_id, key_id, MIXED)
        kit.invite_installers(admin, account_id, key_id, ["cid@example.com"], send=False)
        report = kit.send_install_invitations(admin, account_id, key_id)
        views = install_views(setup)
    else:
        kit.invite_members(admin, account_id, MIXED)
        kit.invite_members(admin, account_id, ["cid@example.com"], send=False)
        report = kit.send_join_invitations(admin, account_id)
        views = join_views(setup)

    assert mailer.batches == [MIXED, ["tom@example.com", "cid@example.com"]]
    assert mailer.single_sends == []
    assert [i.email for i in report.sent] == ["tom@example.com", "cid@example.com"]
    assert {e: v.delivery for e, v in views.items()} == {
        "ann@example.com": DeliveryStatus.SENT,
        "tom@example.com": DeliveryStatus.SENT,
        "rex@example.com": DeliveryStatus.REFUSED,
        "bob@example.com": DeliveryStatus.SENT,
        "cid@example.com": DeliveryStatus.SENT,
    }
    assert views["tom@example.com"].delivery_attempts == 2
    assert views["rex@example.com"].delivery_error == REFUSED_REASON.format("rex@example.com")
    assert_delivered_exactly_once_or_marked_failed(views.values(), mailer)


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ("oserror", "ConnectionResetError: connection dropped by the relay"),
        ("transient", "421 4.7.0 too many connections"),
        ("short", "returned 2 results for 3 messages"),
        ("long", "returned 4 results for 3 messages"),
        ("junk", "not DeliveryError or None"),
    ],
)
@pytest.mark.parametrize("kind", ["install", "join"])
def test_a_misbehaving_send_batch_marks_the_whole_batch_failed_and_loses_nothing(
    kind, broken, reason
):
    mailer = BatchRecordingMailer(broken=broken)
    setup = new_setup(mailer)
    kit, admin, account_id, key_id = setup
    emails = ["ann@example.com", "bob@example.com", "cid@example.com"]

    if kind == "install":
        batch = kit.invite_installers(admin, account_id, key_id, emails)
        views = install_views(setup)
    else:
        batch = kit.invite_members(admin, account_id, emails)
        views = join_views(setup)

    assert mailer.batches == [emails]
    assert mailer.single_sends == []
    assert [(f.email, f.invitation_id, f.permanent) for f in batch.undelivered] == [
        (i.email, i.id, False) for i in batch.invited
    ]
    assert all(reason in f.reason for f in batch.undelivered)
    assert list(views) == emails
    for view in views.values():
        assert view.delivery is DeliveryStatus.FAILED
        assert (view.delivery_attempts, view.sent_count) == (1, 0)
        assert reason in view.delivery_error
    assert len(undelivered_events(setup)) == 3

    # Once the mailer behaves, the retry sends all three.
    mailer.broken = None
    mailer.clear()
    if kind == "install":
        report = kit.send_install_invitations(admin, account_id, key_id)
        views = install_views(setup)
    else:
        report = kit.send_join_invitations(admin, account_id)
        views = join_views(setup)
    assert [i.email for i in report.sent] == emails
    assert_delivered_exactly_once_or_marked_failed(views.values(), mailer)
    assert {v.delivery_attempts for v in views.values()} == {2}


# == host mailers raising their own errors ==================================================


@pytest.mark.parametrize("kind", ["install", "join"])
def test_a_mailer_raising_its_own_error_is_stored_as_a_transient_failure(kind):
    mailer = ExplodingMailer(explode_for=["bob@example.com"])
    kit = kit_with(mailer)
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product=PRODUCT, value=KEY_VALUE, seats=5)
    setup = Setup(kit, admin, account.id, key.id)
    emails = ["ann@example.com", "bob@example.com"]

    if kind == "install":
        batch = kit.invite_installers(admin, account.id, key.id, emails)
        resend = kit.resend_install_invitation
        views = install_views
    else:
        batch = kit.invite_members(admin, account.id, emails)
        resend = kit.resend_join_invitation
        views = join_views

    (failure,) = batch.undelivered
    assert (failure.email, failure.permanent) == ("bob@example.com", False)
    assert "OSError" in failure.reason
    assert "relay unreachable (simulated)" in failure.reason
    bob = views(setup)["bob@example.com"]
    assert (bob.delivery, bob.delivery_attempts, bob.sent_count) == (DeliveryStatus.FAILED, 1, 0)
    assert bob.delivery_error == failure.reason
    assert [m.to for m in mailer.sent] == ["ann@example.com"]

    # A resend raises a DeliveryError (never the raw OSError) and stores the failure.
    with pytest.raises(DeliveryError) as raised:
        resend(admin, account.id, bob.id)
    assert raised.value.permanent is False
    assert "relay unreachable (simulated)" in str(raised.value)
    assert views(setup)["bob@example.com"].delivery_attempts == 2


@pytest.mark.parametrize("kind", ["install", "join"])
def test_a_failed_resend_keeps_the_mailers_error_as_its_cause(kind):
    mailer = ExplodingMailer(explode_for=["bob@example.com"])
    kit = kit_with(mailer)
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product=PRODUCT, value=KEY_VALUE, seats=5)
    if kind == "install":
        (bob,) = kit.invite_installers(admin, account.id, key.id, ["bob@example.com"]).invited
        resend = kit.resend_install_invitation
    else:
        (bob,) = kit.invite_members(admin, account.id, ["bob@example.com"]).invited
        resend = kit.resend_join_invitation

    with pytest.raises(DeliveryError) as raised:
        resend(admin, account.id, bob.id)

    assert isinstance(raised.value.__cause__, OSError)


# == public API =============================================================================


@pytest.mark.parametrize("name", ["DeliveryStatus", "BatchMailer"])
def test_the_delivery_types_are_part_of_the_public_api(name):
    assert name in licensekit.__all__
    assert getattr(licensekit, name) is getattr(
        licensekit.model if name == "DeliveryStatus" else licensekit.mail, name
    )
