"""The administrator guide's page "Inviting Users to Join a Business Account", as one story.

An administrator invites two emails in one go (one person already has a personal account,
one has none); both accept from their emailed links, the first with the current password,
the second by choosing one; each becomes a Regular Member and is logged in. One is promoted
to Account Administrator with a note, which shows only after a new log-in; a demotion then
applies at once to the still-open session.
"""

from __future__ import annotations

import datetime as dt

import pytest

from licensekit import (
    AuditAction,
    InvitationState,
    MemberStatus,
    PermissionDenied,
    Role,
    SessionMethod,
)
from licensekit.testing import TEST_JOIN_URL, make_licensekit


def test_inviting_two_people_to_join_a_business_account_end_to_end() -> None:
    kit = make_licensekit()
    mailer = kit.mailer
    clock = kit.clock

    # An administrator with a business account.
    kit.register_user(
        "admin@example.com", "the admin's passphrase", name="Alex Admin", email_verified=True
    )
    admin = kit.log_in("admin@example.com", "the admin's passphrase")
    account = kit.create_business_account(admin, "Example Corp")

    # One invitee already has a personal account.
    kit.register_user(
        "existing@example.com", "an existing passphrase", name="Eve Existing", email_verified=True
    )

    # "Invite Users": a language, several emails, Send Invitations.
    batch = kit.invite_members(
        admin,
        account.id,
        ["Existing@Example.com", "newcomer@example.com"],
        language="en",
        expires_in=dt.timedelta(days=14),
    )
    assert [i.email for i in batch.invited] == ["existing@example.com", "newcomer@example.com"]
    assert batch.skipped == ()
    assert batch.undelivered == ()
    assert {i.state for i in batch.invited} == {InvitationState.PENDING}

    # The emails carry instructions and a personal link to join.
    for email in ("existing@example.com", "newcomer@example.com"):
        message = mailer.last(to=email)
        assert "Example Corp" in message.subject
        link = message.data["link"]
        assert link == TEST_JOIN_URL.replace("{token}", message.data["token"])
        assert link in message.text
        assert "password" in message.text

    clock.advance(hours=2)

    # The existing user follows the link: the page asks for the current password.
    existing_token = mailer.last_token(to="existing@example.com")
    assert kit.describe_join_invitation(existing_token).user_exists is True
    existing = kit.accept_join_invitation(existing_token, password="an existing passphrase")
    assert existing.method is SessionMethod.INVITATION
    assert existing.roles == {account.id: Role.REGULAR_MEMBER}

    # The newcomer has no account: they choose a password and one is created.
    newcomer_token = mailer.last_token(to="newcomer@example.com")
    assert kit.describe_join_invitation(newcomer_token).user_exists is False
    newcomer = kit.accept_join_invitation(
        newcomer_token, password="a newly chosen passphrase", name="Nia Newcomer"
    )
    assert kit.log_in("newcomer@example.com", "a newly chosen passphrase").user_id == (
        newcomer.user_id
    )

    # The Business Account Users list: both joined as Regular Members.
    listed = {m.email: m for m in kit.list_members(admin, account.id).items}
    assert {e: m.role for e, m in listed.items()} == {
        "admin@example.com": Role.ACCOUNT_ADMINISTRATOR,
        "existing@example.com": Role.REGULAR_MEMBER,
        "newcomer@example.com": Role.REGULAR_MEMBER,
    }
    assert {m.status for m in listed.values()} == {MemberStatus.ACTIVE}
    invitations = kit.list_join_invitations(admin, account.id).items
    assert {i.state for i in invitations} == {InvitationState.ACCEPTED}

    # A Regular Member manages nothing.
    with pytest.raises(PermissionDenied):
        kit.list_members(newcomer, account.id)

    # Promote the newcomer, with a note.
    clock.advance(minutes=5)
    promoted = kit.change_role(
        admin, account.id, newcomer.user_id, Role.ACCOUNT_ADMINISTRATOR, notes="Runs purchasing"
    )
    assert promoted.role is Role.ACCOUNT_ADMINISTRATOR
    assert promoted.notes == "Runs purchasing"
    assert promoted.changed_by == admin.user_id
    assert promoted.updated_at == clock.now()

    # "The user would need to log off and then log on again for the new role to take effect."
    with pytest.raises(PermissionDenied, match="after you log in again"):
        kit.list_members(newcomer, account.id)
    (mine,) = kit.list_my_accounts(newcomer)
    assert (mine.role, mine.effective_role) == (Role.ACCOUNT_ADMINISTRATOR, Role.REGULAR_MEMBER)
    kit.log_out(newcomer)
    newcomer = kit.log_in("newcomer@example.com", "a newly chosen passphrase")
    assert len(kit.list_members(newcomer, account.id).items) == 3

    # Losing rights does not wait for a log-out: the demotion applies to the open session.
    kit.change_role(admin, account.id, newcomer.user_id, Role.REGULAR_MEMBER, notes="Handed over")
    with pytest.raises(PermissionDenied):
        kit.list_members(newcomer, account.id)

    # The audit trail tells the story, in order.
    actions = [e.action for e in kit.list_audit_events(admin, account.id).items]
    assert actions == [
        AuditAction.ACCOUNT_CREATED,
        AuditAction.INVITATION_CREATED,
        AuditAction.INVITATION_CREATED,
        AuditAction.INVITATION_SENT,
        AuditAction.INVITATION_SENT,
        AuditAction.INVITATION_ACCEPTED,
        AuditAction.INVITATION_ACCEPTED,
        AuditAction.ROLE_CHANGED,
        AuditAction.ROLE_CHANGED,
    ]
    sends = kit.list_audit_events(admin, account.id).items[3:5]
    assert [(e.subject, e.details["email"], e.details["sent_count"]) for e in sends] == [
        (i.id, i.email, "1") for i in batch.invited
    ]
    promotion = kit.list_audit_events(admin, account.id).items[7]
    assert promotion.actor_id == admin.user_id
    assert promotion.subject == newcomer.user_id
    assert promotion.details == {
        "from": "regular_member",
        "to": "account_administrator",
        "notes": "Runs purchasing",
    }
