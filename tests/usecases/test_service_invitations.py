"""Behaviour of the join invitation use cases of LicenseKit: inviting many people at once,
sending and resending, listing, revoking, describing and accepting invitations."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import NamedTuple

import attrs
import pytest

from _records import records
from licensekit import (
    AuditAction,
    DeliveryError,
    InvalidCredentials,
    InvalidPassword,
    InvalidSession,
    InvitationAlreadyAccepted,
    InvitationEmailMismatch,
    InvitationExpired,
    InvitationNotFound,
    InvitationRevoked,
    InvitationState,
    LicenseKit,
    MemberBlocked,
    MemberNotFound,
    MemberStatus,
    PermissionDenied,
    Role,
    Session,
    SessionMethod,
    Settings,
    TooManyAttempts,
    ValidationError,
)
from licensekit.model import DeliveryStatus, Membership
from licensekit.storage import MEMBERSHIPS, USERS
from licensekit.testing import (
    TEST_JOIN_URL,
    TEST_PASSWORD,
    RecordingMailer,
    add_member,
    make_business_account,
    make_licensekit,
)

PASSWORD = TEST_PASSWORD
ACCOUNT = "Acme Ltd"


class Setup(NamedTuple):
    kit: LicenseKit
    admin: Session
    account_id: str


def _setup(kit: LicenseKit) -> Setup:
    admin, account = make_business_account(kit, name=ACCOUNT)
    return Setup(kit, admin, account.id)


@pytest.fixture
def setup() -> Setup:
    return _setup(make_licensekit())


def invite(setup: Setup, email: str, **kwargs):
    """Invite one address and return (invitation view, token)."""
    kit, admin, account_id = setup
    (invitation,) = kit.invite_members(admin, account_id, [email], **kwargs).invited
    return invitation, kit.mailer.last_token(to=email)


def states(setup: Setup) -> dict[str, InvitationState]:
    kit, admin, account_id = setup
    return {i.email: i.state for i in kit.list_join_invitations(admin, account_id).items}


def member_emails(setup: Setup) -> set[str]:
    kit, admin, account_id = setup
    return {m.email for m in kit.list_members(admin, account_id, include_removed=True).items}


def user_exists(kit: LicenseKit, email: str) -> bool:
    with records(kit.store) as tx:
        return tx.find(USERS, email=email) is not None


# == invite_members =========================================================================


def test_invite_members_invites_many_with_the_chosen_language_and_expiry(setup):
    kit, admin, account_id = setup
    now = kit.clock.now()

    batch = kit.invite_members(
        admin,
        account_id,
        ["ann@example.com", "Bob@Example.com", "carol@example.com"],
        language="en-GB",
        expires_in=dt.timedelta(days=3),
    )

    assert [i.email for i in batch.invited] == [
        "ann@example.com",
        "bob@example.com",
        "carol@example.com",
    ]
    for invitation in batch.invited:
        assert invitation.language == "en"
        assert invitation.expires_at == now + dt.timedelta(days=3)
        assert invitation.state is InvitationState.PENDING
        assert invitation.invited_by == admin.user_id
        assert invitation.sent_count == 1
        assert invitation.last_sent_at == now
    assert batch.skipped == batch.undelivered == ()


def test_invite_members_sends_one_email_each_with_a_personal_single_link(setup):
    kit, admin, account_id = setup

    kit.invite_members(admin, account_id, ["ann@example.com", "bob@example.com"])

    assert sorted(m.to for m in kit.mailer.sent) == ["ann@example.com", "bob@example.com"]
    ann, bob = (kit.mailer.last(to=e) for e in ("ann@example.com", "bob@example.com"))
    assert ann.subject == f"Join {ACCOUNT} on licensekit"
    assert ann.data["link"] == TEST_JOIN_URL.replace("{token}", ann.data["token"])
    assert ann.data["link"] in ann.text
    assert ann.data["token"] != bob.data["token"]


def test_invite_members_default_expiry_comes_from_settings(setup):
    kit = setup.kit

    invitation, _ = invite(setup, "ann@example.com")

    assert invitation.expires_at == kit.clock.now() + kit.settings.invitation_lifetime


def test_invite_members_reports_invalid_and_duplicate_entries_with_row_numbers(setup):
    kit, admin, account_id = setup

    batch = kit.invite_members(
        admin,
        account_id,
        ["ann@example.com", "not-an-email", "", "ANN@example.com", "bob@example.com"],
    )

    assert [i.email for i in batch.invited] == ["ann@example.com", "bob@example.com"]
    assert [(r.row, r.text) for r in batch.skipped] == [
        (2, "not-an-email"),
        (4, "ANN@example.com"),
    ]
    assert "@" in batch.skipped[0].reason
    assert batch.skipped[1].reason == "duplicate of row 1"


CSV = (
    "\ufeffemail\r\n"  # row 1: a byte order mark and the header
    "ann@example.com\r\n"  # row 2
    "\r\n"  # row 3: blank
    "not-an-email\r\n"  # row 4
    "  ANN@example.com \r\n"  # row 5: a duplicate of row 2
    "\r\n"  # row 6: blank
    "member@example.com\r\n"  # row 7: already a member
    "bob@example.com\r\n"  # row 8
)


@pytest.mark.parametrize("kind", ["text", "bytes", "path", "binary-file"])
def test_invite_members_reads_a_csv_and_reports_skipped_entries_with_csv_rows(
    setup, tmp_path, kind
):
    kit, admin, account_id = setup
    add_member(kit, admin, account_id, "member@example.com")
    path = tmp_path / "people.csv"
    path.write_bytes(CSV.encode())
    source = {
        "text": CSV,
        "bytes": CSV.encode(),
        "path": path,
        "binary-file": io.BytesIO(CSV.encode()),
    }[kind]

    batch = kit.invite_members(admin, account_id, csv=source)

    assert [i.email for i in batch.invited] == ["ann@example.com", "bob@example.com"]
    assert [(r.row, r.text) for r in batch.skipped] == [
        (4, "not-an-email"),
        (5, "ANN@example.com"),
        (7, "member@example.com"),
    ]
    assert batch.skipped[1].reason == "duplicate of row 2"
    assert "member" in batch.skipped[2].reason


def test_invite_members_reports_csv_rows_as_invite_installers_does(setup):
    kit, admin, account_id = setup
    key = kit.add_license_key(admin, account_id, product="Desktop Pro", value="KEY-1", seats=5)

    joined = kit.invite_members(admin, account_id, csv=CSV, send=False)
    installing = kit.invite_installers(admin, account_id, key.id, csv=CSV, send=False)

    assert [(r.row, r.text, r.reason) for r in joined.skipped] == [
        (r.row, r.text, r.reason) for r in installing.skipped
    ]


@pytest.mark.parametrize(
    "recipients",
    [{}, {"emails": ["ann@example.com"], "csv": "bob@example.com\n"}],
    ids=["neither", "both"],
)
def test_invite_members_needs_either_emails_or_csv(setup, recipients):
    kit, admin, account_id = setup

    with pytest.raises(ValidationError, match="either as emails or as csv") as raised:
        kit.invite_members(admin, account_id, **recipients)

    assert str(raised.value).count("emails") == str(raised.value).count("csv") == 1
    assert kit.list_join_invitations(admin, account_id).items == ()
    assert kit.mailer.sent == []


def test_invite_members_refuses_an_unreadable_csv_and_writes_nothing(setup, tmp_path):
    kit, admin, account_id = setup

    with pytest.raises(ValidationError, match="UTF-8"):
        kit.invite_members(admin, account_id, csv="ann@exämple.com\n".encode("latin-1"))
    with pytest.raises(ValidationError, match="not found"):
        kit.invite_members(admin, account_id, csv=tmp_path / "missing.csv")
    with pytest.raises(ValidationError, match="looks like a file name"):
        kit.invite_members(admin, account_id, csv="people.csv")

    assert kit.list_join_invitations(admin, account_id).items == ()


def test_invite_members_skips_members_blocked_members_and_pending_invitations(setup):
    kit, admin, account_id = setup
    invite(setup, "member@example.com")
    kit.accept_join_invitation(kit.mailer.last_token(to="member@example.com"), password=PASSWORD)
    invite(setup, "blocked@example.com")
    blocked = kit.accept_join_invitation(
        kit.mailer.last_token(to="blocked@example.com"), password=PASSWORD
    )
    kit.block_member(admin, account_id, blocked.user_id)
    pending, _ = invite(setup, "pending@example.com")
    sent = len(kit.mailer.sent)

    batch = kit.invite_members(
        admin,
        account_id,
        ["member@example.com", "new@example.com", "BLOCKED@example.com", "pending@example.com"],
    )

    assert [i.email for i in batch.invited] == ["new@example.com"]
    assert [r.row for r in batch.skipped] == [1, 3, 4]
    reasons = [r.reason for r in batch.skipped]
    assert reasons[0] == "already a member of this account"
    assert reasons[1].startswith("blocked in this account")
    assert reasons[2].startswith(f"already has a pending invitation ({pending.id})")
    assert [m.to for m in kit.mailer.sent[sent:]] == ["new@example.com"]


def test_a_person_whose_invitation_expired_or_was_revoked_can_be_invited_again(setup):
    kit, admin, account_id = setup
    invite(setup, "late@example.com", expires_in=dt.timedelta(hours=1))
    revoked, _ = invite(setup, "revoked@example.com")
    kit.revoke_join_invitation(admin, account_id, revoked.id)
    kit.clock.advance(hours=1)

    batch = kit.invite_members(admin, account_id, ["late@example.com", "revoked@example.com"])

    assert [i.email for i in batch.invited] == ["late@example.com", "revoked@example.com"]
    assert batch.skipped == ()


def test_invite_members_with_send_false_sends_nothing(setup):
    kit, admin, account_id = setup

    batch = kit.invite_members(admin, account_id, ["ann@example.com"], send=False)

    assert kit.mailer.sent == []
    (invitation,) = batch.invited
    assert invitation.sent_count == 0
    assert invitation.last_sent_at is None
    assert invitation.state is InvitationState.PENDING


def test_resend_sends_an_unsent_invitation_and_later_the_same_link_again(setup):
    kit, admin, account_id = setup
    (invitation,) = kit.invite_members(admin, account_id, ["ann@example.com"], send=False).invited
    kit.clock.advance(hours=1)

    first = kit.resend_join_invitation(admin, account_id, invitation.id)
    link = kit.mailer.last_link(to="ann@example.com")
    kit.clock.advance(hours=1)
    second = kit.resend_join_invitation(admin, account_id, invitation.id)

    assert len(kit.mailer.messages(to="ann@example.com")) == 2
    assert kit.mailer.last_link(to="ann@example.com") == link
    assert first.sent_count == 1
    assert (second.sent_count, second.last_sent_at) == (2, kit.clock.now())
    session = kit.accept_join_invitation(
        kit.mailer.last_token(to="ann@example.com"), password=PASSWORD
    )
    assert session.roles[account_id] is Role.REGULAR_MEMBER


def test_resend_is_audited(setup):
    kit, admin, account_id = setup
    invitation, _ = invite(setup, "ann@example.com")

    kit.resend_join_invitation(admin, account_id, invitation.id)

    event = kit.list_audit_events(admin, account_id).items[-1]
    assert (event.action, event.subject, event.details["email"]) == (
        AuditAction.INVITATION_SENT,
        invitation.id,
        "ann@example.com",
    )


def test_invite_members_refuses_more_addresses_than_max_batch_size():
    setup = _setup(make_licensekit(settings=Settings(max_batch_size=2)))
    kit, admin, account_id = setup

    with pytest.raises(ValidationError, match=r"^more than 2 addresses; the limit per call is 2$"):
        kit.invite_members(admin, account_id, ["a@example.com", "b@example.com", "c@example.com"])

    assert kit.list_join_invitations(admin, account_id).items == ()
    assert kit.mailer.sent == []


def test_invite_members_accepts_exactly_max_batch_size_addresses():
    setup = _setup(make_licensekit(settings=Settings(max_batch_size=2)))
    kit, admin, account_id = setup

    batch = kit.invite_members(admin, account_id, ["a@example.com", "b@example.com"])

    assert len(batch.invited) == 2


def test_invite_members_refuses_an_unsupported_language_and_writes_nothing(setup):
    kit, admin, account_id = setup

    with pytest.raises(
        ValidationError,
        match=r"unsupported language 'xx'; supported: en, de, fr, es, it, ja, zh-Hans, pt-BR$",
    ):
        kit.invite_members(admin, account_id, ["ann@example.com"], language="xx")

    assert kit.list_join_invitations(admin, account_id).items == ()
    assert kit.mailer.sent == []


@pytest.mark.parametrize(
    ("expires_in", "message"),
    [
        (dt.timedelta(0), "expires_in must be a positive timedelta"),
        (dt.timedelta(days=-1), "expires_in must be a positive timedelta"),
        (3600, "expires_in must be a positive timedelta"),
        (dt.timedelta(days=90, seconds=1), "expires_in may be at most 90 days"),
        ("P91D", "expires_in may be at most 90 days"),
        ("PT2161H", "expires_in may be at most 90 days"),
        ("PT0S", "expires_in must be a positive duration, got 'PT0S'"),
        ("-P1D", "expires_in must be a positive duration, got '-P1D'"),
        ("P1M", "expires_in may not count years or months"),
        ("P1Y", "expires_in may not count years or months"),
        ("P1Y2M3D", "expires_in may not count years or months"),
        ("10 days", "expires_in must be a timedelta, one of the presets .* or an ISO 8601"),
        ("P1.5D", "expires_in must be a timedelta, one of the presets"),
        ("P", "expires_in must be a timedelta, one of the presets"),
        ("8d", "expires_in must be a timedelta, one of the presets"),
    ],
)
def test_invite_members_refuses_a_bad_expiry_and_writes_nothing(setup, expires_in, message):
    kit, admin, account_id = setup

    with pytest.raises(ValidationError, match=message) as raised:
        kit.invite_members(admin, account_id, ["ann@example.com"], expires_in=expires_in)

    assert raised.value.field == "expires_in"

    assert kit.list_join_invitations(admin, account_id).items == ()
    assert kit.mailer.sent == []


@pytest.mark.parametrize(
    ("expires_in", "lifetime"),
    [
        ("P10D", dt.timedelta(days=10)),
        ("PT36H", dt.timedelta(hours=36)),
        ("P1DT12H", dt.timedelta(days=1, hours=12)),
        ("P2W", dt.timedelta(days=14)),
        ("PT90M", dt.timedelta(minutes=90)),
        ("P90D", dt.timedelta(days=90)),
        ("3d", dt.timedelta(days=3)),
    ],
)
def test_invite_members_takes_an_iso_8601_duration_as_expiry(setup, expires_in, lifetime):
    invitation, _ = invite(setup, "ann@example.com", expires_in=expires_in)

    assert invitation.expires_at == setup.kit.clock.now() + lifetime


def test_invite_members_accepts_the_longest_allowed_expiry(setup):
    invitation, _ = invite(setup, "ann@example.com", expires_in=dt.timedelta(days=90))

    assert invitation.expires_at == setup.kit.clock.now() + dt.timedelta(days=90)


def test_a_failed_email_is_reported_undelivered_and_the_invitation_stays_pending():
    kit = make_licensekit(mailer=RecordingMailer(fail_for=["Bob@example.com"]))
    setup = _setup(kit)
    _, admin, account_id = setup

    batch = kit.invite_members(admin, account_id, ["ann@example.com", "bob@example.com"])

    (failure,) = batch.undelivered
    assert (failure.email, failure.permanent) == ("bob@example.com", True)
    assert "refused" in failure.reason
    assert [m.to for m in kit.mailer.sent] == ["ann@example.com"]
    listed = {i.email: i for i in kit.list_join_invitations(admin, account_id).items}
    assert listed["bob@example.com"].id == failure.invitation_id
    assert listed["bob@example.com"].state is InvitationState.PENDING
    assert (listed["ann@example.com"].sent_count, listed["bob@example.com"].sent_count) == (1, 0)


def test_invited_lists_every_created_invitation_including_undelivered_ones():
    kit = make_licensekit(mailer=RecordingMailer(fail_for=["bob@example.com"]))
    _, admin, account_id = _setup(kit)

    batch = kit.invite_members(admin, account_id, ["ann@example.com", "bob@example.com"])

    assert [(i.email, i.sent_count) for i in batch.invited] == [
        ("ann@example.com", 1),
        ("bob@example.com", 0),
    ]
    assert batch.undelivered[0].invitation_id == batch.invited[1].id


def test_a_failed_resend_raises_delivery_error_and_records_only_the_failure():
    kit = make_licensekit(mailer=RecordingMailer(fail_for=["bob@example.com"]))
    setup = _setup(kit)
    _, admin, account_id = setup
    (failure,) = kit.invite_members(admin, account_id, ["bob@example.com"]).undelivered
    (before,) = kit.list_join_invitations(admin, account_id).items
    events = kit.list_audit_events(admin, account_id).items
    kit.clock.advance(minutes=5)

    with pytest.raises(DeliveryError, match="refused") as raised:
        kit.resend_join_invitation(admin, account_id, failure.invitation_id)

    assert raised.value.permanent is True
    (listed,) = kit.list_join_invitations(admin, account_id).items
    assert (listed.sent_count, listed.last_sent_at) == (0, None)
    assert listed.delivery is DeliveryStatus.REFUSED
    assert listed.delivery_attempts == before.delivery_attempts + 1 == 2
    assert listed.delivery_error == "recipient bob@example.com refused (simulated)"
    assert attrs.evolve(listed, delivery_attempts=before.delivery_attempts) == before
    assert kit.mailer.sent == []
    after = kit.list_audit_events(admin, account_id).items
    assert after[: len(events)] == events
    (added,) = after[len(events) :]
    assert (added.action, added.subject, added.actor_id) == (
        AuditAction.INVITATION_UNDELIVERED,
        failure.invitation_id,
        admin.user_id,
    )
    assert added.at == kit.clock.now()
    assert added.details == {
        "email": "bob@example.com",
        "delivery": "refused",
        "reason": "recipient bob@example.com refused (simulated)",
    }


def test_invite_members_audits_each_invitation_created_then_sent(setup):
    kit, admin, account_id = setup

    batch = kit.invite_members(admin, account_id, ["ann@example.com", "bob@example.com"])

    events = kit.list_audit_events(admin, account_id).items[1:]
    assert [(e.action, e.subject) for e in events] == [
        (AuditAction.INVITATION_CREATED, i.id) for i in batch.invited
    ] + [(AuditAction.INVITATION_SENT, i.id) for i in batch.invited]
    assert events[0].details["email"] == "ann@example.com"
    assert events[0].details["language"] == "en"
    assert events[2].details == {"email": "ann@example.com", "sent_count": "1"}
    assert events[3].details == {"email": "bob@example.com", "sent_count": "1"}


# == list_join_invitations ==================================================================


@pytest.fixture
def four_states(setup):
    """One invitation in each state: accepted, revoked, expired, pending."""
    kit, admin, account_id = setup
    _, token = invite(setup, "accepted@example.com")
    kit.accept_join_invitation(token, password=PASSWORD)
    revoked, _ = invite(setup, "revoked@example.com")
    kit.revoke_join_invitation(admin, account_id, revoked.id)
    invite(setup, "expired@example.com", expires_in=dt.timedelta(hours=1))
    invite(setup, "pending@example.com")
    kit.clock.advance(hours=2)
    return setup


@pytest.mark.parametrize(
    "state",
    [
        InvitationState.PENDING,
        InvitationState.ACCEPTED,
        InvitationState.EXPIRED,
        InvitationState.REVOKED,
    ],
)
def test_list_join_invitations_filters_by_state(four_states, state):
    kit, admin, account_id = four_states

    page = kit.list_join_invitations(admin, account_id, state=state)

    assert [(i.email, i.state) for i in page.items] == [(f"{state.value}@example.com", state)]


def test_list_join_invitations_without_filter_lists_all_oldest_first(four_states):
    kit, admin, account_id = four_states

    items = kit.list_join_invitations(admin, account_id).items

    assert [i.email for i in items] == [
        "accepted@example.com",
        "revoked@example.com",
        "expired@example.com",
        "pending@example.com",
    ]
    assert items[0].accepted_at is not None
    assert items[1].revoked_at is not None


def test_list_join_invitations_filter_pages_with_cursor(setup):
    kit, admin, account_id = setup
    for n in range(5):
        invitation, _ = invite(setup, f"user{n}@example.com")
        if n % 2:
            kit.revoke_join_invitation(admin, account_id, invitation.id)

    first = kit.list_join_invitations(admin, account_id, state="pending", limit=2)
    second = kit.list_join_invitations(
        admin, account_id, state="pending", limit=2, cursor=first.next_cursor
    )

    assert [i.email for i in (*first.items, *second.items)] == [
        "user0@example.com",
        "user2@example.com",
        "user4@example.com",
    ]
    assert second.next_cursor is None


def test_list_join_invitations_shows_who_sent_each(setup):
    kit, admin, account_id = setup
    invite(setup, "bea@example.com")
    bea = kit.accept_join_invitation(kit.mailer.last_token(to="bea@example.com"), password=PASSWORD)
    kit.change_role(admin, account_id, bea.user_id, Role.ACCOUNT_ADMINISTRATOR)
    bea = kit.log_in("bea@example.com", PASSWORD)
    kit.invite_members(bea, account_id, ["carol@example.com"])

    senders = {i.email: i.invited_by for i in kit.list_join_invitations(admin, account_id).items}

    assert senders == {"bea@example.com": admin.user_id, "carol@example.com": bea.user_id}


def test_list_join_invitations_refuses_bad_cursor_state_and_limit(setup):
    kit, admin, account_id = setup

    with pytest.raises(ValidationError, match="cursor 'usr_x' does not belong"):
        kit.list_join_invitations(admin, account_id, cursor="usr_x")
    with pytest.raises(ValidationError, match="limit must be between 1 and 500"):
        kit.list_join_invitations(admin, account_id, limit=501)


def test_list_join_invitations_refuses_an_unknown_state_with_validation_error(setup):
    kit, admin, account_id = setup

    with pytest.raises(ValidationError, match="done"):
        kit.list_join_invitations(admin, account_id, state="done")


# == revoke and resend ======================================================================


def test_a_revoked_invitations_link_fails_with_invitation_revoked(setup):
    kit, admin, account_id = setup
    invitation, token = invite(setup, "ann@example.com")

    view = kit.revoke_join_invitation(admin, account_id, invitation.id)

    assert view.state is InvitationState.REVOKED
    assert view.revoked_at == kit.clock.now()
    with pytest.raises(InvitationRevoked, match="was revoked"):
        kit.describe_join_invitation(token)
    with pytest.raises(InvitationRevoked, match="was revoked"):
        kit.accept_join_invitation(token, password=PASSWORD)
    assert not user_exists(kit, "ann@example.com")
    assert member_emails(setup) == {"admin@example.com"}


def test_revoking_twice_raises_invitation_revoked(setup):
    kit, admin, account_id = setup
    invitation, _ = invite(setup, "ann@example.com")
    kit.revoke_join_invitation(admin, account_id, invitation.id)

    with pytest.raises(InvitationRevoked, match="revoked already"):
        kit.revoke_join_invitation(admin, account_id, invitation.id)


def test_revoking_an_accepted_invitation_raises_already_accepted(setup):
    kit, admin, account_id = setup
    invitation, token = invite(setup, "ann@example.com")
    kit.accept_join_invitation(token, password=PASSWORD)

    with pytest.raises(InvitationAlreadyAccepted, match="already been accepted"):
        kit.revoke_join_invitation(admin, account_id, invitation.id)

    assert states(setup) == {"ann@example.com": InvitationState.ACCEPTED}


def test_revoke_is_audited(setup):
    kit, admin, account_id = setup
    invitation, _ = invite(setup, "ann@example.com")

    kit.revoke_join_invitation(admin, account_id, invitation.id)

    event = kit.list_audit_events(admin, account_id).items[-1]
    assert (event.action, event.subject, event.actor_id) == (
        AuditAction.INVITATION_REVOKED,
        invitation.id,
        admin.user_id,
    )


def test_revoke_or_resend_of_an_unknown_invitation_raises_invitation_not_found(setup):
    kit, admin, account_id = setup

    with pytest.raises(InvitationNotFound, match="no invitation 'jinv_nope'"):
        kit.revoke_join_invitation(admin, account_id, "jinv_nope")
    with pytest.raises(InvitationNotFound, match="no invitation 'jinv_nope'"):
        kit.resend_join_invitation(admin, account_id, "jinv_nope")


def test_resend_of_an_expired_invitation_is_refused_and_sends_nothing(setup):
    kit, admin, account_id = setup
    invitation, _ = invite(setup, "ann@example.com", expires_in=dt.timedelta(hours=1))
    kit.clock.advance(hours=1)
    sent = len(kit.mailer.sent)

    with pytest.raises(InvitationExpired, match="ask for a new one"):
        kit.resend_join_invitation(admin, account_id, invitation.id)

    assert len(kit.mailer.sent) == sent


def test_resend_of_a_revoked_invitation_is_refused_and_sends_nothing(setup):
    kit, admin, account_id = setup
    invitation, _ = invite(setup, "ann@example.com")
    kit.revoke_join_invitation(admin, account_id, invitation.id)
    sent = len(kit.mailer.sent)

    with pytest.raises(InvitationRevoked):
        kit.resend_join_invitation(admin, account_id, invitation.id)

    assert len(kit.mailer.sent) == sent


def test_resend_of_an_accepted_invitation_is_refused(setup):
    kit, admin, account_id = setup
    invitation, token = invite(setup, "ann@example.com")
    kit.accept_join_invitation(token, password=PASSWORD)

    with pytest.raises(InvitationAlreadyAccepted):
        kit.resend_join_invitation(admin, account_id, invitation.id)


# == describe_join_invitation ===============================================================


def test_describe_tells_a_new_person_to_choose_a_password(setup):
    kit, _, account_id = setup
    invitation, token = invite(setup, "ann@example.com")

    preview = kit.describe_join_invitation(token)

    assert preview.user_exists is False
    assert preview.invitation_id == invitation.id
    assert (preview.account_id, preview.account_name) == (account_id, ACCOUNT)
    assert (preview.email, preview.inviter_email) == ("ann@example.com", "admin@example.com")
    assert preview.expires_at == invitation.expires_at


def test_describe_tells_an_existing_user_to_give_their_password(setup):
    kit, _, _ = setup
    kit.register_user("ann@example.com", PASSWORD, email_verified=True)
    _, token = invite(setup, "ann@example.com")

    assert kit.describe_join_invitation(token).user_exists is True


def test_describe_writes_nothing(setup):
    kit, _, _ = setup
    _, token = invite(setup, "ann@example.com")

    kit.describe_join_invitation(token)

    assert states(setup) == {"ann@example.com": InvitationState.PENDING}
    assert not user_exists(kit, "ann@example.com")


# == accept: existing account ===============================================================


def test_accept_with_an_existing_account_and_its_password_joins(setup):
    kit = setup.kit
    ann = kit.register_user("ann@example.com", PASSWORD, email_verified=True)
    _, token = invite(setup, "ann@example.com")

    session = kit.accept_join_invitation(token, password=PASSWORD)

    assert session.user_id == ann.id
    assert states(setup) == {"ann@example.com": InvitationState.ACCEPTED}


def test_accept_with_an_existing_account_and_a_wrong_password_writes_nothing(setup):
    kit, admin, account_id = setup
    ann = kit.register_user("ann@example.com", PASSWORD, email_verified=True)
    _, token = invite(setup, "ann@example.com")

    with pytest.raises(InvalidCredentials, match="wrong password for the existing account"):
        kit.accept_join_invitation(token, password="not the password")

    with pytest.raises(MemberNotFound):
        kit.get_member(admin, account_id, ann.id)
    assert states(setup) == {"ann@example.com": InvitationState.PENDING}
    assert kit.accept_join_invitation(token, password=PASSWORD).user_id == ann.id


def test_accept_with_wrong_passwords_counts_towards_the_log_in_lock_out(setup):
    kit, _, _ = setup
    kit.register_user("ann@example.com", PASSWORD, email_verified=True)
    _, token = invite(setup, "ann@example.com")
    for _ in range(kit.settings.password_throttle.max_failures):
        with pytest.raises(InvalidCredentials):
            kit.accept_join_invitation(token, password="not the password")

    with pytest.raises(TooManyAttempts):
        kit.accept_join_invitation(token, password=PASSWORD)
    with pytest.raises(TooManyAttempts):
        kit.log_in("ann@example.com", PASSWORD)
    assert states(setup) == {"ann@example.com": InvitationState.PENDING}


def test_accept_keeps_the_existing_account_its_password_and_its_name(setup):
    """The name is for a new personal account; an existing one is not renamed."""
    kit, admin, account_id = setup
    ann = kit.register_user("ann@example.com", PASSWORD, name="Ann", email_verified=True)
    _, token = invite(setup, "ann@example.com")

    kit.accept_join_invitation(token, password=PASSWORD, name="Renamed")

    assert kit.log_in("ann@example.com", PASSWORD).user_id == ann.id
    assert kit.get_member(admin, account_id, ann.id).name == "Ann"


# == accept: new person =====================================================================


def test_accept_by_a_new_person_creates_their_account_with_the_chosen_password(setup):
    kit, admin, account_id = setup
    _, token = invite(setup, "ann@example.com")

    session = kit.accept_join_invitation(token, password="my own new password", name=" Ann ")

    assert kit.log_in("ann@example.com", "my own new password").user_id == session.user_id
    view = kit.get_member(admin, account_id, session.user_id)
    assert (view.email, view.name) == ("ann@example.com", "Ann")


@pytest.mark.parametrize(
    ("password", "message"),
    [("short", "at least 10 characters"), ("y" * 257, "at most 256 characters")],
)
def test_accept_by_a_new_person_enforces_the_password_policy_and_writes_nothing(
    setup, password, message
):
    kit, _, _ = setup
    _, token = invite(setup, "ann@example.com")

    with pytest.raises(InvalidPassword, match=message):
        kit.accept_join_invitation(token, password=password)

    assert not user_exists(kit, "ann@example.com")
    assert kit.describe_join_invitation(token).user_exists is False
    assert states(setup) == {"ann@example.com": InvitationState.PENDING}
    assert member_emails(setup) == {"admin@example.com"}


def test_accept_without_password_or_session_raises_validation_error(setup):
    kit, _, _ = setup
    _, token = invite(setup, "ann@example.com")

    with pytest.raises(ValidationError, match="give the password of your account, or choose one"):
        kit.accept_join_invitation(token)

    assert states(setup) == {"ann@example.com": InvitationState.PENDING}
    assert not user_exists(kit, "ann@example.com")


# == accept: host session ===================================================================


def test_accept_with_a_host_session_of_the_same_email_joins(setup):
    kit, _, account_id = setup
    _, token = invite(setup, "ann@example.com")
    host = kit.trusted_session("ann@example.com", create=True)

    session = kit.accept_join_invitation(token, session=host)

    assert session.user_id == host.user_id
    assert session.roles[account_id] is Role.REGULAR_MEMBER
    assert states(setup) == {"ann@example.com": InvitationState.ACCEPTED}


def test_accept_with_a_host_session_of_another_email_is_refused_and_writes_nothing(setup):
    kit = setup.kit
    _, token = invite(setup, "ann@example.com")
    kit.register_user("mallory@example.com", PASSWORD, email_verified=True)
    mallory = kit.log_in("mallory@example.com", PASSWORD)

    with pytest.raises(InvitationEmailMismatch, match="sent to another email address"):
        kit.accept_join_invitation(token, session=mallory)

    assert kit.list_my_accounts(mallory) == ()
    assert states(setup) == {"ann@example.com": InvitationState.PENDING}
    assert member_emails(setup) == {"admin@example.com"}


def test_accept_with_an_invalid_host_session_is_refused(setup):
    kit, _, _ = setup
    _, token = invite(setup, "ann@example.com")

    with pytest.raises(InvalidSession):
        kit.accept_join_invitation(token, session="not-a-session-token")

    assert states(setup) == {"ann@example.com": InvitationState.PENDING}


def test_accept_matches_the_email_case_insensitively_with_a_password(setup):
    kit, _, _ = setup
    ann = kit.register_user("ann@example.com", PASSWORD, email_verified=True)
    _, token = invite(setup, "Ann@Example.COM")

    session = kit.accept_join_invitation(token, password=PASSWORD)

    assert session.user_id == ann.id


def test_accept_matches_the_email_case_insensitively_with_a_host_session(setup):
    kit, _, _ = setup
    kit.register_user("ann@example.com", PASSWORD, email_verified=True)
    host = kit.log_in("ann@example.com", PASSWORD)
    _, token = invite(setup, "Ann@Example.COM")

    session = kit.accept_join_invitation(token, session=host)

    assert session.user_id == host.user_id


# == accept: state of the invitation ========================================================


def test_an_invitation_can_be_accepted_only_once(setup):
    kit, _, _ = setup
    _, token = invite(setup, "ann@example.com")
    first = kit.accept_join_invitation(token, password=PASSWORD)

    with pytest.raises(InvitationAlreadyAccepted, match="already been accepted"):
        kit.accept_join_invitation(token, password=PASSWORD)

    (membership,) = kit.list_my_accounts(first)
    assert membership.status is MemberStatus.ACTIVE


def test_an_expired_invitation_cannot_be_accepted(setup):
    kit, _, _ = setup
    invitation, token = invite(setup, "ann@example.com", expires_in=dt.timedelta(hours=2))
    kit.clock.advance(hours=2)

    with pytest.raises(InvitationExpired, match=re.escape(invitation.expires_at.isoformat())):
        kit.accept_join_invitation(token, password=PASSWORD)

    assert not user_exists(kit, "ann@example.com")
    assert states(setup) == {"ann@example.com": InvitationState.EXPIRED}


def test_an_invitation_still_works_just_before_it_expires(setup):
    kit, _, account_id = setup
    _, token = invite(setup, "ann@example.com", expires_in=dt.timedelta(days=2))
    kit.clock.advance(dt.timedelta(days=2) - dt.timedelta(seconds=1))

    session = kit.accept_join_invitation(token, password=PASSWORD)

    assert session.roles[account_id] is Role.REGULAR_MEMBER


def test_a_member_blocked_while_their_invitation_was_pending_cannot_accept(setup):
    kit, admin, account_id = setup
    _, token = invite(setup, "ann@example.com")
    ann = kit.register_user("ann@example.com", PASSWORD, email_verified=True)
    # A blocked membership that exists next to a pending invitation (as two administrators
    # acting at the same time can leave it): set up directly in the store.
    now = kit.clock.now()
    with records(kit.store) as tx:
        tx.put(
            MEMBERSHIPS,
            Membership(
                account_id=account_id,
                user_id=ann.id,
                role=Role.REGULAR_MEMBER,
                status=MemberStatus.BLOCKED,
                joined_at=now,
                updated_at=now,
            ),
        )

    with pytest.raises(MemberBlocked, match="is blocked in account"):
        kit.accept_join_invitation(token, password=PASSWORD)

    assert kit.get_member(admin, account_id, ann.id).status is MemberStatus.BLOCKED
    assert states(setup) == {"ann@example.com": InvitationState.PENDING}


def test_an_unknown_token_raises_invitation_not_found(setup):
    kit, _, _ = setup

    with pytest.raises(InvitationNotFound, match="this invitation link is not valid"):
        kit.accept_join_invitation("no-such-token", password=PASSWORD)
    with pytest.raises(InvitationNotFound, match="this invitation link is not valid"):
        kit.describe_join_invitation("no-such-token")

    assert not user_exists(kit, "ann@example.com")


def test_repeated_unknown_tokens_from_one_client_are_locked_out(setup):
    kit, _, _ = setup
    _, token = invite(setup, "ann@example.com")
    policy = kit.settings.token_throttle
    for n in range(policy.max_failures):
        with pytest.raises(InvitationNotFound):
            kit.describe_join_invitation(f"guess-{n}", client="203.0.113.7")

    with pytest.raises(TooManyAttempts, match="invitation links") as locked:
        kit.accept_join_invitation("guess-again", password=PASSWORD, client="203.0.113.7")

    assert locked.value.until == kit.clock.now() + policy.lockout
    assert states(setup) == {"ann@example.com": InvitationState.PENDING}
    kit.accept_join_invitation(token, password=PASSWORD, client="203.0.113.7")
    assert states(setup) == {"ann@example.com": InvitationState.ACCEPTED}


def test_the_lock_out_of_one_client_does_not_stop_another(setup):
    kit, _, account_id = setup
    _, token = invite(setup, "ann@example.com")
    for n in range(kit.settings.token_throttle.max_failures):
        with pytest.raises(InvitationNotFound):
            kit.accept_join_invitation(f"guess-{n}", password=PASSWORD, client="attacker")

    session = kit.accept_join_invitation(token, password=PASSWORD, client="ann-laptop")

    assert session.roles[account_id] is Role.REGULAR_MEMBER


def test_a_token_lock_out_ends_after_the_lockout_time(setup):
    kit, _, _ = setup
    _, token = invite(setup, "ann@example.com")
    policy = kit.settings.token_throttle
    for n in range(policy.max_failures):
        with pytest.raises(InvitationNotFound):
            kit.describe_join_invitation(f"guess-{n}", client="c1")
    with pytest.raises(TooManyAttempts):
        kit.describe_join_invitation("guess-again", client="c1")
    assert kit.describe_join_invitation(token, client="c1").email == "ann@example.com"

    kit.clock.advance(policy.lockout)

    with pytest.raises(InvitationNotFound):
        kit.describe_join_invitation("guess-again", client="c1")


# == accept: the result =====================================================================


def test_accepting_returns_a_logged_in_session_of_a_regular_member(setup):
    kit, admin, account_id = setup
    _, token = invite(setup, "ann@example.com")

    session = kit.accept_join_invitation(token, password=PASSWORD)

    assert session.method is SessionMethod.INVITATION
    assert session.email == "ann@example.com"
    assert dict(session.roles) == {account_id: Role.REGULAR_MEMBER}
    (mine,) = kit.list_my_accounts(session)
    assert (mine.account_id, mine.role, mine.effective_role) == (
        account_id,
        Role.REGULAR_MEMBER,
        Role.REGULAR_MEMBER,
    )
    with pytest.raises(PermissionDenied):
        kit.list_members(session, account_id)
    assert kit.get_member(admin, account_id, session.user_id).role is Role.REGULAR_MEMBER


def test_accepting_is_audited_with_the_new_member_as_actor(setup):
    kit, admin, account_id = setup
    invitation, token = invite(setup, "ann@example.com")

    session = kit.accept_join_invitation(token, password=PASSWORD)

    event = kit.list_audit_events(admin, account_id).items[-1]
    assert (event.action, event.actor_id, event.subject) == (
        AuditAction.INVITATION_ACCEPTED,
        session.user_id,
        invitation.id,
    )


def test_accept_ignores_spaces_around_the_token(setup):
    kit, _, account_id = setup
    _, token = invite(setup, "ann@example.com")

    session = kit.accept_join_invitation(f"  {token}\n", password=PASSWORD)

    assert session.roles[account_id] is Role.REGULAR_MEMBER


def test_an_invitation_matches_its_person_whatever_the_spelling(setup):
    """Invited as NFD + punycode; the account exists in NFC + Unicode: same person."""
    kit, admin, account_id = setup
    jose = kit.register_user("jos\u00e9@b\u00fccher.example", PASSWORD, email_verified=True)
    session = kit.log_in("JOSE\u0301@xn--bcher-kva.example", PASSWORD)
    assert session.user_id == jose.id
    kit.invite_members(admin, account_id, ["jose\u0301@XN--BCHER-KVA.example"])
    token = kit.mailer.last_token(to="jos\u00e9@b\u00fccher.example")
    joined = kit.accept_join_invitation(token, session=session)
    assert joined.user_id == jose.id


def test_a_password_and_a_session_together_are_refused(setup):
    kit, _, _ = setup
    ann = kit.register_user("ann@example.com", PASSWORD, email_verified=True)
    session = kit.log_in("ann@example.com", PASSWORD)
    _, token = invite(setup, "ann@example.com")
    with pytest.raises(ValidationError, match="not both"):
        kit.accept_join_invitation(token, password=PASSWORD, session=session)
    assert states(setup) == {"ann@example.com": InvitationState.PENDING}
    assert ann.id not in {m.user_id for m in kit.list_members(setup.admin, setup.account_id).items}


def test_join_url_must_hold_exactly_one_token_placeholder():
    for url in ("https://portal.example.com/join", "https://x/{token}/{token}"):
        with pytest.raises(ValidationError, match=r"join_url must contain \{token\} exactly once"):
            LicenseKit(
                make_licensekit().store,
                RecordingMailer(),
                secret=b"s" * 32,
                join_url=url,
            )
