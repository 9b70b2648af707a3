"""Behaviour of the business account and membership use cases of LicenseKit: creating an
account, listing members, roles and when they take effect, blocking, removing, leaving, the
last-administrator rule and the audit trail."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from licensekit import (
    AccountNotFound,
    AuditAction,
    ConflictError,
    InvalidCursor,
    LastAdministrator,
    LicenseKit,
    MemberBlocked,
    MemberNotFound,
    MemberStatus,
    PermissionDenied,
    Role,
    Session,
    ValidationError,
)
from licensekit.testing import TEST_PASSWORD, add_member, make_business_account, make_licensekit

PASSWORD = TEST_PASSWORD


class Setup(NamedTuple):
    kit: LicenseKit
    admin: Session
    account_id: str


@pytest.fixture
def kit() -> LicenseKit:
    return make_licensekit()


@pytest.fixture
def setup(kit) -> Setup:
    admin, account = make_business_account(kit, name="Acme Ltd")
    return Setup(kit, admin, account.id)


def add_admin(kit: LicenseKit, admin: Session, account_id: str, email: str) -> Session:
    """Add *email* as a member, promote them, and return a session issued after promotion."""
    return add_member(kit, admin, account_id, email, role=Role.ACCOUNT_ADMINISTRATOR)


def audit_actions(kit: LicenseKit, admin: Session, account_id: str) -> list[AuditAction]:
    return [e.action for e in kit.list_audit_events(admin, account_id, limit=500).items]


def member_state(kit: LicenseKit, admin: Session, account_id: str, user_id: str):
    view = kit.get_member(admin, account_id, user_id)
    return view.role, view.status


# == create_business_account ================================================================


def test_create_business_account_makes_the_creator_its_account_administrator(setup):
    kit, admin, account_id = setup

    (member,) = kit.list_members(admin, account_id).items

    assert member.user_id == admin.user_id
    assert member.email == "admin@example.com"
    assert member.role is Role.ACCOUNT_ADMINISTRATOR
    assert member.status is MemberStatus.ACTIVE
    assert member.joined_at == kit.clock.now()


def test_create_business_account_rights_are_usable_at_once_without_new_log_in(kit):
    kit.register_user("ada@example.com", PASSWORD, email_verified=True)
    session = kit.log_in("ada@example.com", PASSWORD)

    account = kit.create_business_account(session, "  Analytical   Engines ")

    assert account.name == "Analytical Engines"
    assert account.created_by == session.user_id
    (mine,) = kit.list_my_accounts(session)
    assert mine.effective_role is Role.ACCOUNT_ADMINISTRATOR
    batch = kit.invite_members(session, account.id, ["grace@example.com"])
    assert len(batch.invited) == 1


def test_the_session_object_stays_a_snapshot_and_list_my_accounts_shows_the_new_role(kit):
    """The Session a caller holds is frozen at log-in (its roles lack the new account, as
    create_business_account's docstring says); list_my_accounts and a new log-in show it."""
    kit.register_user("ada@example.com", PASSWORD, email_verified=True)
    session = kit.log_in("ada@example.com", PASSWORD)

    account = kit.create_business_account(session, "Analytical Engines")

    assert account.id not in session.roles
    assert [(m.account_id, m.role) for m in kit.list_my_accounts(session)] == [
        (account.id, Role.ACCOUNT_ADMINISTRATOR)
    ]
    assert kit.log_in("ada@example.com", PASSWORD).roles == {account.id: Role.ACCOUNT_ADMINISTRATOR}
    doc = kit.create_business_account.__doc__ or ""
    assert "snapshot" in doc
    assert "list_my_accounts" in doc


def test_create_business_account_records_an_audit_event(setup):
    kit, admin, account_id = setup

    (event,) = kit.list_audit_events(admin, account_id).items

    assert event.action is AuditAction.ACCOUNT_CREATED
    assert event.actor_id == admin.user_id
    assert event.subject == account_id
    assert event.details["name"] == "Acme Ltd"


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_create_business_account_refuses_an_empty_name_and_creates_nothing(kit, name):
    kit.register_user("ada@example.com", PASSWORD, email_verified=True)
    session = kit.log_in("ada@example.com", PASSWORD)

    with pytest.raises(ValidationError, match="account name must not be empty"):
        kit.create_business_account(session, name)

    assert kit.list_my_accounts(session) == ()


def test_create_business_account_refuses_a_name_over_200_characters(kit):
    kit.register_user("ada@example.com", PASSWORD, email_verified=True)
    session = kit.log_in("ada@example.com", PASSWORD)

    with pytest.raises(ValidationError, match="at most 200 characters"):
        kit.create_business_account(session, "x" * 201)

    assert kit.list_my_accounts(session) == ()


# == listing members ========================================================================


def test_list_members_shows_every_member_ordered_by_user_id(setup):
    kit, admin, account_id = setup
    ann = add_member(kit, admin, account_id, "ann@example.com")
    bob = add_member(kit, admin, account_id, "bob@example.com")

    page = kit.list_members(admin, account_id)

    assert [m.user_id for m in page.items] == sorted([admin.user_id, ann.user_id, bob.user_id])
    assert {m.email for m in page.items} == {
        "admin@example.com",
        "ann@example.com",
        "bob@example.com",
    }
    assert page.next_cursor is None


def test_list_members_pages_with_limit_and_next_cursor(setup):
    kit, admin, account_id = setup
    for n in range(4):
        add_member(kit, admin, account_id, f"user{n}@example.com")

    first = kit.list_members(admin, account_id, limit=2)
    second = kit.list_members(admin, account_id, limit=2, cursor=first.next_cursor)
    third = kit.list_members(admin, account_id, limit=2, cursor=second.next_cursor)

    assert len(first.items) == len(second.items) == 2
    assert len(third.items) == 1
    assert first.next_cursor == first.items[-1].user_id
    assert third.next_cursor is None
    everyone = [m.user_id for page in (first, second, third) for m in page.items]
    assert everyone == [m.user_id for m in kit.list_members(admin, account_id).items]
    assert len(set(everyone)) == 5


def test_list_members_last_full_page_has_no_next_cursor(setup):
    kit, admin, account_id = setup
    add_member(kit, admin, account_id, "ann@example.com")

    page = kit.list_members(admin, account_id, limit=2)

    assert len(page.items) == 2
    assert page.next_cursor is None


def test_list_members_hides_removed_members_unless_asked(setup):
    kit, admin, account_id = setup
    ann = add_member(kit, admin, account_id, "ann@example.com")
    kit.remove_member(admin, account_id, ann.user_id)

    shown = kit.list_members(admin, account_id).items
    everyone = kit.list_members(admin, account_id, include_removed=True).items

    assert [m.user_id for m in shown] == [admin.user_id]
    assert {m.user_id: m.status for m in everyone}[ann.user_id] is MemberStatus.REMOVED


def test_list_members_paging_skips_removed_members(setup):
    kit, admin, account_id = setup
    sessions = [add_member(kit, admin, account_id, f"user{n}@example.com") for n in range(4)]
    for removed in sessions[:3]:
        kit.remove_member(admin, account_id, removed.user_id)

    page = kit.list_members(admin, account_id, limit=1)
    rest = kit.list_members(admin, account_id, limit=1, cursor=page.next_cursor)

    assert [m.user_id for m in (*page.items, *rest.items)] == sorted(
        [admin.user_id, sessions[3].user_id]
    )
    assert rest.next_cursor is None


@pytest.mark.parametrize("cursor", ["bogus", "evt_0001", "jinv_0001", ""])
def test_list_members_refuses_a_cursor_it_did_not_produce(setup, cursor):
    kit, admin, account_id = setup

    with pytest.raises(InvalidCursor, match="does not belong to this listing"):
        kit.list_members(admin, account_id, cursor=cursor)


@pytest.mark.parametrize("limit", [0, -1, 501])
def test_list_members_refuses_a_limit_out_of_range(setup, limit):
    kit, admin, account_id = setup

    with pytest.raises(ValidationError, match=f"limit must be between 1 and 500, got {limit}"):
        kit.list_members(admin, account_id, limit=limit)


def test_list_members_accepts_the_largest_limit(setup):
    kit, admin, account_id = setup

    assert len(kit.list_members(admin, account_id, limit=500).items) == 1


def test_get_member_returns_the_member(setup):
    kit, admin, account_id = setup
    ann = add_member(kit, admin, account_id, "ann@example.com")

    view = kit.get_member(admin, account_id, ann.user_id)

    assert view.email == "ann@example.com"
    assert view.role is Role.REGULAR_MEMBER
    assert view.status is MemberStatus.ACTIVE
    assert view.changed_by is None
    assert view.notes == ""


def test_get_member_of_an_unknown_user_raises_member_not_found(setup):
    kit, admin, account_id = setup

    with pytest.raises(MemberNotFound, match="'usr_nobody' is not a member"):
        kit.get_member(admin, account_id, "usr_nobody")


# == roles ==================================================================================


def test_change_role_records_who_when_and_notes(setup):
    kit, admin, account_id = setup
    ann = add_member(kit, admin, account_id, "ann@example.com")
    changed_at = kit.clock.advance(hours=2)

    view = kit.change_role(
        admin, account_id, ann.user_id, Role.ACCOUNT_ADMINISTRATOR, notes="  Runs purchasing  "
    )

    assert view.role is Role.ACCOUNT_ADMINISTRATOR
    assert view.changed_by == admin.user_id
    assert view.notes == "Runs purchasing"
    assert view.updated_at == changed_at
    assert kit.get_member(admin, account_id, ann.user_id) == view


def test_change_role_records_an_audit_event_with_from_to_and_notes(setup):
    kit, admin, account_id = setup
    ann = add_member(kit, admin, account_id, "ann@example.com")

    kit.change_role(admin, account_id, ann.user_id, Role.ACCOUNT_ADMINISTRATOR, notes="Buyer")

    event = kit.list_audit_events(admin, account_id).items[-1]
    assert event.action is AuditAction.ROLE_CHANGED
    assert event.actor_id == admin.user_id
    assert event.subject == ann.user_id
    assert dict(event.details) == {
        "from": "regular_member",
        "to": "account_administrator",
        "notes": "Buyer",
    }


def test_change_role_accepts_the_role_as_its_string_value(setup):
    kit, admin, account_id = setup
    ann = add_member(kit, admin, account_id, "ann@example.com")

    view = kit.change_role(admin, account_id, ann.user_id, "account_administrator")

    assert view.role is Role.ACCOUNT_ADMINISTRATOR


def test_change_role_refuses_notes_over_2000_characters_and_changes_nothing(setup):
    kit, admin, account_id = setup
    ann = add_member(kit, admin, account_id, "ann@example.com")

    with pytest.raises(ValidationError, match="notes must be at most 2000"):
        kit.change_role(
            admin, account_id, ann.user_id, Role.ACCOUNT_ADMINISTRATOR, notes="x" * 2001
        )

    assert kit.get_member(admin, account_id, ann.user_id).role is Role.REGULAR_MEMBER


def test_promotion_is_not_effective_in_the_members_current_session(setup):
    kit, admin, account_id = setup
    ann = add_member(kit, admin, account_id, "ann@example.com")

    kit.change_role(admin, account_id, ann.user_id, Role.ACCOUNT_ADMINISTRATOR)

    (mine,) = kit.list_my_accounts(ann)
    assert mine.role is Role.ACCOUNT_ADMINISTRATOR
    assert mine.effective_role is Role.REGULAR_MEMBER
    with pytest.raises(PermissionDenied, match="takes effect after you log in again"):
        kit.invite_members(ann, account_id, ["carol@example.com"])


def test_promotion_is_effective_after_a_new_log_in(setup):
    kit, admin, account_id = setup
    ann = add_member(kit, admin, account_id, "ann@example.com")
    kit.change_role(admin, account_id, ann.user_id, Role.ACCOUNT_ADMINISTRATOR)

    fresh = kit.log_in("ann@example.com", PASSWORD)

    (mine,) = kit.list_my_accounts(fresh)
    assert mine.effective_role is Role.ACCOUNT_ADMINISTRATOR
    assert len(kit.invite_members(fresh, account_id, ["carol@example.com"]).invited) == 1


def test_demotion_is_effective_at_once_in_open_sessions(setup):
    kit, admin, account_id = setup
    bea = add_admin(kit, admin, account_id, "bea@example.com")
    assert len(kit.list_members(bea, account_id).items) == 2

    kit.change_role(admin, account_id, bea.user_id, Role.REGULAR_MEMBER)

    with pytest.raises(PermissionDenied, match="needs the Account Administrator role"):
        kit.list_members(bea, account_id)
    (mine,) = kit.list_my_accounts(bea)
    assert mine.effective_role is Role.REGULAR_MEMBER


def test_an_administrator_can_demote_another_when_two_exist(setup):
    kit, admin, account_id = setup
    bea = add_admin(kit, admin, account_id, "bea@example.com")

    view = kit.change_role(bea, account_id, admin.user_id, Role.REGULAR_MEMBER)

    assert view.role is Role.REGULAR_MEMBER
    assert member_state(kit, bea, account_id, admin.user_id)[0] is Role.REGULAR_MEMBER


def test_change_role_to_an_unknown_role_raises_validation_error(setup):
    kit, admin, account_id = setup
    ann = add_member(kit, admin, account_id, "ann@example.com")

    with pytest.raises(ValidationError, match="boss"):
        kit.change_role(admin, account_id, ann.user_id, "boss")


def test_re_promotion_after_a_demotion_needs_a_new_log_in(setup):
    kit, admin, account_id = setup
    bea = add_admin(kit, admin, account_id, "bea@example.com")
    kit.change_role(admin, account_id, bea.user_id, Role.REGULAR_MEMBER)

    kit.change_role(admin, account_id, bea.user_id, Role.ACCOUNT_ADMINISTRATOR)

    with pytest.raises(PermissionDenied, match="log in again"):
        kit.list_members(bea, account_id)


# == the last Account Administrator =========================================================


def test_the_last_administrator_cannot_be_demoted(setup):
    kit, admin, account_id = setup
    before = audit_actions(kit, admin, account_id)

    with pytest.raises(LastAdministrator, match="cannot demote the last Account Administrator"):
        kit.change_role(admin, account_id, admin.user_id, Role.REGULAR_MEMBER)

    assert member_state(kit, admin, account_id, admin.user_id) == (
        Role.ACCOUNT_ADMINISTRATOR,
        MemberStatus.ACTIVE,
    )
    assert audit_actions(kit, admin, account_id) == before


def test_the_last_administrator_cannot_be_blocked(setup):
    kit, admin, account_id = setup
    before = audit_actions(kit, admin, account_id)

    with pytest.raises(LastAdministrator, match="cannot block the last Account Administrator"):
        kit.block_member(admin, account_id, admin.user_id)

    assert member_state(kit, admin, account_id, admin.user_id)[1] is MemberStatus.ACTIVE
    assert audit_actions(kit, admin, account_id) == before


def test_the_last_administrator_cannot_be_removed(setup):
    kit, admin, account_id = setup
    before = audit_actions(kit, admin, account_id)

    with pytest.raises(LastAdministrator, match="cannot remove the last Account Administrator"):
        kit.remove_member(admin, account_id, admin.user_id)

    assert member_state(kit, admin, account_id, admin.user_id)[1] is MemberStatus.ACTIVE
    assert audit_actions(kit, admin, account_id) == before


def test_the_last_administrator_cannot_leave(setup):
    kit, admin, account_id = setup

    with pytest.raises(LastAdministrator, match="last Account Administrator"):
        kit.leave_account(admin, account_id)

    (mine,) = kit.list_my_accounts(admin)
    assert mine.status is MemberStatus.ACTIVE
    assert audit_actions(kit, admin, account_id) == [AuditAction.ACCOUNT_CREATED]


def test_a_blocked_administrator_does_not_count_as_another_administrator(setup):
    kit, admin, account_id = setup
    bea = add_admin(kit, admin, account_id, "bea@example.com")
    kit.block_member(admin, account_id, bea.user_id)

    with pytest.raises(LastAdministrator):
        kit.change_role(admin, account_id, admin.user_id, Role.REGULAR_MEMBER)


def test_an_administrator_can_be_demoted_when_another_exists(setup):
    kit, admin, account_id = setup
    bea = add_admin(kit, admin, account_id, "bea@example.com")

    kit.change_role(admin, account_id, admin.user_id, Role.REGULAR_MEMBER)

    assert member_state(kit, bea, account_id, admin.user_id)[0] is Role.REGULAR_MEMBER


def test_an_administrator_can_be_blocked_when_another_exists(setup):
    kit, admin, account_id = setup
    bea = add_admin(kit, admin, account_id, "bea@example.com")

    kit.block_member(bea, account_id, admin.user_id)

    assert member_state(kit, bea, account_id, admin.user_id)[1] is MemberStatus.BLOCKED


def test_an_administrator_can_be_removed_when_another_exists(setup):
    kit, admin, account_id = setup
    bea = add_admin(kit, admin, account_id, "bea@example.com")

    kit.remove_member(admin, account_id, bea.user_id)

    with pytest.raises(MemberNotFound):
        kit.get_member(admin, account_id, bea.user_id)


def test_an_administrator_can_leave_when_another_exists(setup):
    kit, admin, account_id = setup
    bea = add_admin(kit, admin, account_id, "bea@example.com")

    kit.leave_account(admin, account_id)

    assert kit.list_my_accounts(admin) == ()
    assert [m.user_id for m in kit.list_members(bea, account_id).items] == [bea.user_id]


# == block and unblock ======================================================================


def test_block_makes_the_member_powerless_at_once(setup):
    kit, admin, account_id = setup
    bea = add_admin(kit, admin, account_id, "bea@example.com")

    view = kit.block_member(admin, account_id, bea.user_id, notes="Left the company")

    assert view.status is MemberStatus.BLOCKED
    assert view.notes == "Left the company"
    assert view.changed_by == admin.user_id
    with pytest.raises(MemberBlocked, match="is blocked"):
        kit.list_members(bea, account_id)
    with pytest.raises(MemberBlocked):
        kit.invite_members(bea, account_id, ["carol@example.com"])


def test_a_blocked_member_stays_listed_and_sees_the_blocked_status(setup):
    kit, admin, account_id = setup
    ann = add_member(kit, admin, account_id, "ann@example.com")

    kit.block_member(admin, account_id, ann.user_id)

    listed = {m.user_id: m.status for m in kit.list_members(admin, account_id).items}
    assert listed[ann.user_id] is MemberStatus.BLOCKED
    (mine,) = kit.list_my_accounts(ann)
    assert mine.status is MemberStatus.BLOCKED


def test_a_blocked_member_is_still_blocked_after_a_new_log_in(setup):
    kit, admin, account_id = setup
    bea = add_admin(kit, admin, account_id, "bea@example.com")
    kit.block_member(admin, account_id, bea.user_id)

    fresh = kit.log_in("bea@example.com", PASSWORD)

    with pytest.raises(MemberBlocked):
        kit.list_members(fresh, account_id)


def test_unblock_restores_the_member_with_their_role(setup):
    kit, admin, account_id = setup
    bea = add_admin(kit, admin, account_id, "bea@example.com")
    kit.block_member(admin, account_id, bea.user_id)

    view = kit.unblock_member(admin, account_id, bea.user_id, notes="Back")

    assert view.status is MemberStatus.ACTIVE
    assert view.role is Role.ACCOUNT_ADMINISTRATOR
    assert view.notes == "Back"
    bea = kit.log_in("bea@example.com", PASSWORD)
    assert len(kit.list_members(bea, account_id).items) == 2


def test_an_unblocked_administrator_needs_a_new_log_in_like_a_promotion(setup):
    """The sessions open when the block came (a stolen one, say) stay powerless."""
    kit, admin, account_id = setup
    bea = add_admin(kit, admin, account_id, "bea@example.com")
    kit.block_member(admin, account_id, bea.user_id)
    kit.unblock_member(admin, account_id, bea.user_id)

    with pytest.raises(PermissionDenied, match="after you log in again"):
        kit.list_members(bea, account_id)


def test_blocking_a_blocked_member_is_a_conflict(setup):
    kit, admin, account_id = setup
    ann = add_member(kit, admin, account_id, "ann@example.com")
    kit.block_member(admin, account_id, ann.user_id)
    before = audit_actions(kit, admin, account_id)

    with pytest.raises(ConflictError, match="is blocked, not active"):
        kit.block_member(admin, account_id, ann.user_id)

    assert audit_actions(kit, admin, account_id) == before


def test_unblocking_an_active_member_is_a_conflict(setup):
    kit, admin, account_id = setup
    ann = add_member(kit, admin, account_id, "ann@example.com")

    with pytest.raises(ConflictError, match="is active, not blocked"):
        kit.unblock_member(admin, account_id, ann.user_id)


def test_block_and_unblock_are_audited(setup):
    kit, admin, account_id = setup
    ann = add_member(kit, admin, account_id, "ann@example.com")

    kit.block_member(admin, account_id, ann.user_id, notes="why")
    kit.unblock_member(admin, account_id, ann.user_id)

    *_, blocked, told, unblocked = kit.list_audit_events(admin, account_id).items
    assert (told.action, told.subject) == (AuditAction.NOTICE_SENT, ann.user_id)
    assert (blocked.action, blocked.subject, blocked.details.get("notes")) == (
        AuditAction.MEMBER_BLOCKED,
        ann.user_id,
        "why",
    )
    assert (unblocked.action, unblocked.subject) == (AuditAction.MEMBER_UNBLOCKED, ann.user_id)


# == remove and leave =======================================================================


def test_remove_ends_the_membership_at_once(setup):
    kit, admin, account_id = setup
    bea = add_admin(kit, admin, account_id, "bea@example.com")

    view = kit.remove_member(admin, account_id, bea.user_id, notes="Contract ended")

    assert view.status is MemberStatus.REMOVED
    with pytest.raises(AccountNotFound, match="among your memberships"):
        kit.list_members(bea, account_id)
    assert kit.list_my_accounts(bea) == ()
    with pytest.raises(MemberNotFound):
        kit.get_member(admin, account_id, bea.user_id)


def test_a_removed_member_cannot_be_removed_or_changed_again(setup):
    kit, admin, account_id = setup
    ann = add_member(kit, admin, account_id, "ann@example.com")
    kit.remove_member(admin, account_id, ann.user_id)

    with pytest.raises(MemberNotFound):
        kit.remove_member(admin, account_id, ann.user_id)
    with pytest.raises(MemberNotFound):
        kit.change_role(admin, account_id, ann.user_id, Role.ACCOUNT_ADMINISTRATOR)


def test_a_removed_member_can_be_invited_again_and_rejoins_as_regular_member(setup):
    kit, admin, account_id = setup
    bea = add_admin(kit, admin, account_id, "bea@example.com")
    kit.remove_member(admin, account_id, bea.user_id)

    batch = kit.invite_members(admin, account_id, ["bea@example.com"])
    assert batch.skipped == ()
    session = kit.accept_join_invitation(
        kit.mailer.last_token(to="bea@example.com"), password=PASSWORD
    )

    assert session.user_id == bea.user_id
    assert session.roles[account_id] is Role.REGULAR_MEMBER
    view = kit.get_member(admin, account_id, bea.user_id)
    assert (view.role, view.status) == (Role.REGULAR_MEMBER, MemberStatus.ACTIVE)
    with pytest.raises(PermissionDenied):
        kit.list_members(bea, account_id)


def test_leave_account_ends_the_callers_membership(setup):
    kit, admin, account_id = setup
    ann = add_member(kit, admin, account_id, "ann@example.com")

    kit.leave_account(ann, account_id)

    assert kit.list_my_accounts(ann) == ()
    with pytest.raises(MemberNotFound):
        kit.get_member(admin, account_id, ann.user_id)
    event = kit.list_audit_events(admin, account_id).items[-1]
    assert (event.action, event.actor_id, event.subject) == (
        AuditAction.MEMBER_LEFT,
        ann.user_id,
        ann.user_id,
    )


def test_leave_account_twice_raises_account_not_found(setup):
    kit, admin, account_id = setup
    ann = add_member(kit, admin, account_id, "ann@example.com")
    kit.leave_account(ann, account_id)

    with pytest.raises(AccountNotFound, match="among your memberships"):
        kit.leave_account(ann, account_id)


def test_a_blocked_member_cannot_escape_the_block_by_leaving(setup):
    kit, admin, account_id = setup
    ann = add_member(kit, admin, account_id, "ann@example.com")
    kit.block_member(admin, account_id, ann.user_id)

    with pytest.raises(MemberBlocked, match="blocked"):
        kit.leave_account(ann, account_id)

    assert kit.get_member(admin, account_id, ann.user_id).status is MemberStatus.BLOCKED


# == regular members ========================================================================


REGULAR_MEMBER_REFUSED = {
    "list_members": lambda kit, s, acc, uid, inv: kit.list_members(s, acc),
    "get_member": lambda kit, s, acc, uid, inv: kit.get_member(s, acc, uid),
    "change_role": lambda kit, s, acc, uid, inv: kit.change_role(s, acc, uid, Role.REGULAR_MEMBER),
    "block_member": lambda kit, s, acc, uid, inv: kit.block_member(s, acc, uid),
    "unblock_member": lambda kit, s, acc, uid, inv: kit.unblock_member(s, acc, uid),
    "remove_member": lambda kit, s, acc, uid, inv: kit.remove_member(s, acc, uid),
    "list_audit_events": lambda kit, s, acc, uid, inv: kit.list_audit_events(s, acc),
    "invite_members": lambda kit, s, acc, uid, inv: kit.invite_members(s, acc, ["new@example.com"]),
    "list_join_invitations": lambda kit, s, acc, uid, inv: kit.list_join_invitations(s, acc),
    "revoke_join_invitation": lambda kit, s, acc, uid, inv: kit.revoke_join_invitation(s, acc, inv),
    "resend_join_invitation": lambda kit, s, acc, uid, inv: kit.resend_join_invitation(s, acc, inv),
}


@pytest.mark.parametrize("action", sorted(REGULAR_MEMBER_REFUSED))
def test_a_regular_member_is_refused_every_administrator_action(setup, action):
    kit, admin, account_id = setup
    ann = add_member(kit, admin, account_id, "ann@example.com")
    (pending,) = kit.invite_members(admin, account_id, ["pending@example.com"]).invited
    sent = len(kit.mailer.sent)
    before = audit_actions(kit, admin, account_id)

    with pytest.raises(PermissionDenied, match="needs the Account Administrator role") as refused:
        REGULAR_MEMBER_REFUSED[action](kit, ann, account_id, admin.user_id, pending.id)

    assert not isinstance(refused.value, MemberBlocked)
    assert audit_actions(kit, admin, account_id) == before
    assert len(kit.mailer.sent) == sent
    assert member_state(kit, admin, account_id, admin.user_id) == (
        Role.ACCOUNT_ADMINISTRATOR,
        MemberStatus.ACTIVE,
    )


def test_a_regular_member_sees_their_own_membership(setup):
    kit, admin, account_id = setup
    ann = add_member(kit, admin, account_id, "ann@example.com")

    (mine,) = kit.list_my_accounts(ann)

    assert (mine.account_id, mine.account_name) == (account_id, "Acme Ltd")
    assert mine.role is mine.effective_role is Role.REGULAR_MEMBER


# == audit trail ============================================================================


def test_the_audit_trail_lists_every_action_in_order(setup):
    kit, admin, account_id = setup
    kit.clock.advance(minutes=1)
    ann = add_member(kit, admin, account_id, "ann@example.com")
    kit.clock.advance(minutes=1)
    kit.change_role(admin, account_id, ann.user_id, Role.ACCOUNT_ADMINISTRATOR)
    kit.change_role(admin, account_id, ann.user_id, Role.REGULAR_MEMBER)
    kit.block_member(admin, account_id, ann.user_id)
    kit.unblock_member(admin, account_id, ann.user_id)
    kit.remove_member(admin, account_id, ann.user_id)
    (inv,) = kit.invite_members(admin, account_id, ["bob@example.com"]).invited
    kit.resend_join_invitation(admin, account_id, inv.id)
    kit.revoke_join_invitation(admin, account_id, inv.id)

    events = kit.list_audit_events(admin, account_id).items

    assert [e.action for e in events] == [
        AuditAction.ACCOUNT_CREATED,
        AuditAction.INVITATION_CREATED,
        AuditAction.INVITATION_SENT,
        AuditAction.INVITATION_ACCEPTED,
        AuditAction.ROLE_CHANGED,
        AuditAction.ROLE_CHANGED,
        AuditAction.MEMBER_BLOCKED,
        AuditAction.NOTICE_SENT,  # a blocked or removed member is told by default
        AuditAction.MEMBER_UNBLOCKED,
        AuditAction.MEMBER_REMOVED,
        AuditAction.NOTICE_SENT,
        AuditAction.INVITATION_CREATED,
        AuditAction.INVITATION_SENT,
        AuditAction.INVITATION_SENT,
        AuditAction.INVITATION_REVOKED,
    ]
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert all(e.account_id == account_id for e in events)
    assert events[2].actor_id == admin.user_id
    assert events[3].actor_id == ann.user_id
    assert {e.actor_id for e in events[4:]} == {admin.user_id}
    assert [(e.subject, e.details["sent_count"]) for e in events[12:14]] == [
        (inv.id, "1"),
        (inv.id, "2"),
    ]


def test_the_audit_trail_pages_with_cursor(setup):
    kit, admin, account_id = setup
    for n in range(3):
        add_member(kit, admin, account_id, f"user{n}@example.com")
    everything = kit.list_audit_events(admin, account_id).items
    assert [e.action for e in everything] == [
        AuditAction.ACCOUNT_CREATED,
        *[
            AuditAction.INVITATION_CREATED,
            AuditAction.INVITATION_SENT,
            AuditAction.INVITATION_ACCEPTED,
        ]
        * 3,
    ]

    pages = [kit.list_audit_events(admin, account_id, limit=3)]
    while pages[-1].next_cursor is not None:
        pages.append(
            kit.list_audit_events(admin, account_id, limit=3, cursor=pages[-1].next_cursor)
        )

    assert [len(p.items) for p in pages] == [3, 3, 3, 1]
    assert [e for p in pages for e in p.items] == list(everything)


def test_the_audit_trail_refuses_a_foreign_cursor_and_a_bad_limit(setup):
    kit, admin, account_id = setup

    with pytest.raises(InvalidCursor):
        kit.list_audit_events(admin, account_id, cursor=admin.user_id)
    with pytest.raises(ValidationError, match="limit must be between"):
        kit.list_audit_events(admin, account_id, limit=0)


def test_single_sign_on_sessions_follow_the_same_role_rules(setup):
    kit, admin, account_id = setup
    member = add_member(kit, admin, account_id, "sso@example.com")
    before = kit.trusted_session("sso@example.com")
    kit.change_role(admin, account_id, member.user_id, Role.ACCOUNT_ADMINISTRATOR)
    with pytest.raises(PermissionDenied, match="after you log in again"):
        kit.list_members(before, account_id)
    after = kit.trusted_session("sso@example.com")
    assert len(kit.list_members(after, account_id).items) == 2
    kit.change_role(admin, account_id, member.user_id, Role.REGULAR_MEMBER)
    with pytest.raises(PermissionDenied):
        kit.list_members(after, account_id)


def test_a_session_lists_roles_only_for_active_memberships(setup):
    kit, admin, account_id = setup
    ann = add_member(kit, admin, account_id, "ann@example.com")
    kit.block_member(admin, account_id, ann.user_id)
    assert kit.log_in("ann@example.com", PASSWORD).roles == {}


def test_saving_notes_on_an_administrator_keeps_their_open_sessions_working(setup):
    kit, admin, account_id = setup
    bea = add_admin(kit, admin, account_id, "bea@example.com")
    kit.change_role(admin, account_id, bea.user_id, Role.ACCOUNT_ADMINISTRATOR, notes="Lead")
    assert len(kit.list_members(bea, account_id).items) == 2
