"""Members can be told by email when they are blocked, removed, or given another role."""

from __future__ import annotations

import pytest

from licensekit import AuditAction, MessageKind, Role, ValidationError
from licensekit.mail import Templates
from licensekit.testing import (
    LicenseKitForTests,
    add_member,
    make_business_account,
    make_licensekit,
)

MEMBER = "grace@example.com"


def setup() -> tuple[LicenseKitForTests, object, str, str]:
    kit = make_licensekit()
    admin, account = make_business_account(kit, name="Analytical Engines")
    member = add_member(kit, admin, account.id, MEMBER)
    kit.mailer.clear()
    return kit, admin, account.id, member.user_id


def audit_actions(kit: LicenseKitForTests, admin: object, account_id: str) -> list[AuditAction]:
    return [e.action for e in kit.list_audit_events(admin, account_id, limit=500).items]  # type: ignore[arg-type]


def test_no_notice_is_sent_unless_asked() -> None:
    kit, admin, account_id, user_id = setup()
    kit.change_role(admin, account_id, user_id, Role.ACCOUNT_ADMINISTRATOR)  # type: ignore[arg-type]
    kit.block_member(admin, account_id, user_id)  # type: ignore[arg-type]
    kit.unblock_member(admin, account_id, user_id)  # type: ignore[arg-type]
    kit.remove_member(admin, account_id, user_id)  # type: ignore[arg-type]
    assert kit.mailer.sent == []


def test_a_role_change_notice_names_both_roles_and_the_note() -> None:
    kit, admin, account_id, user_id = setup()
    kit.change_role(
        admin,  # type: ignore[arg-type]
        account_id,
        user_id,
        Role.ACCOUNT_ADMINISTRATOR,
        notes="You run the licenses now.\nWelcome aboard.",
        notify=True,
    )
    message = kit.mailer.last(to=MEMBER)
    assert message.kind is MessageKind.ROLE_CHANGED
    assert "Analytical Engines" in message.subject
    assert "Regular Member" in message.text
    assert "Account Administrator" in message.text
    assert "You run the licenses now." in message.text
    assert "Welcome aboard." in message.html
    assert "admin@example.com" in message.text  # who made the change
    assert audit_actions(kit, admin, account_id)[-2:] == [
        AuditAction.ROLE_CHANGED,
        AuditAction.NOTICE_SENT,
    ]


def test_a_notice_is_written_in_the_language_asked_for() -> None:
    kit, admin, account_id, user_id = setup()
    kit.change_role(
        admin,  # type: ignore[arg-type]
        account_id,
        user_id,
        Role.ACCOUNT_ADMINISTRATOR,
        notify=True,
        language="de-AT",
    )
    message = kit.mailer.last(to=MEMBER)
    assert message.language == "de"
    german = Templates().language("de")
    assert german.role_names["account_administrator"] in message.text
    assert german.role_names["regular_member"] in message.text


@pytest.mark.parametrize(
    ("act", "kind"),
    [("block_member", MessageKind.MEMBER_BLOCKED), ("remove_member", MessageKind.MEMBER_REMOVED)],
)
def test_blocked_and_removed_members_can_be_told(act: str, kind: MessageKind) -> None:
    kit, admin, account_id, user_id = setup()
    getattr(kit, act)(admin, account_id, user_id, notes="Left the company", notify=True)
    message = kit.mailer.last(to=MEMBER)
    assert message.kind is kind
    assert "Left the company" in message.text
    assert "Analytical Engines" in message.text


def test_an_undelivered_notice_does_not_undo_the_change_and_is_audited() -> None:
    kit, admin, account_id, user_id = setup()
    kit.mailer.fail_for.add(MEMBER)
    view = kit.block_member(admin, account_id, user_id, notify=True)  # type: ignore[arg-type]
    assert view.status.value == "blocked"
    events = kit.list_audit_events(admin, account_id, limit=500).items  # type: ignore[arg-type]
    assert [e.action for e in events[-2:]] == [
        AuditAction.MEMBER_BLOCKED,
        AuditAction.NOTICE_UNDELIVERED,
    ]
    assert "refused" in events[-1].details["reason"]
    assert events[-1].details["notice"] == "member_blocked"


def test_an_unknown_language_is_refused_before_anything_changes() -> None:
    kit, admin, account_id, user_id = setup()
    with pytest.raises(ValidationError, match="unsupported language"):
        kit.remove_member(admin, account_id, user_id, notify=True, language="tlh")  # type: ignore[arg-type]
    assert kit.get_member(admin, account_id, user_id).status.value == "active"  # type: ignore[arg-type]
    assert kit.mailer.sent == []
