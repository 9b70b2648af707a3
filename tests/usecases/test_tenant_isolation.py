"""Tenant isolation: an administrator of one business account can neither read nor change
another account's data, whatever ids they pass, and learns nothing about whether it exists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

from licensekit import (
    AccountNotFound,
    InvitationNotFound,
    LicenseKit,
    MemberNotFound,
    MemberStatus,
    PermissionDenied,
    Role,
    Session,
)
from licensekit.testing import make_licensekit

PASSWORD = "correct horse battery"


class Tenant(NamedTuple):
    admin: Session
    account_id: str
    member_id: str
    blocked_id: str
    invitation_id: str


class World(NamedTuple):
    kit: LicenseKit
    a: Tenant
    b: Tenant


def _tenant(kit: LicenseKit, name: str) -> Tenant:
    kit.register_user(f"admin@{name}.example", PASSWORD, email_verified=True)
    admin = kit.log_in(f"admin@{name}.example", PASSWORD)
    account = kit.create_business_account(admin, f"{name} Ltd")
    ids = []
    for who in ("member", "blocked"):
        email = f"{who}@{name}.example"
        kit.invite_members(admin, account.id, [email])
        ids.append(
            kit.accept_join_invitation(kit.mailer.last_token(to=email), password=PASSWORD).user_id
        )
    kit.block_member(admin, account.id, ids[1])
    (pending,) = kit.invite_members(admin, account.id, [f"pending@{name}.example"]).invited
    return Tenant(admin, account.id, ids[0], ids[1], pending.id)


@pytest.fixture
def world() -> World:
    kit = make_licensekit()
    return World(kit, _tenant(kit, "alpha"), _tenant(kit, "beta"))


def snapshot(kit: LicenseKit, tenant: Tenant) -> tuple[Any, ...]:
    """Everything an administrator of *tenant* can see of it."""
    return (
        kit.list_members(tenant.admin, tenant.account_id, include_removed=True).items,
        kit.list_join_invitations(tenant.admin, tenant.account_id).items,
        kit.list_audit_events(tenant.admin, tenant.account_id, limit=500).items,
        kit.list_my_accounts(tenant.admin),
    )


Call = Callable[[LicenseKit, Session, str, str, str], object]

# Each use case taking an account id, called as (kit, session, account_id, user_id, invitation_id).
ACCOUNT_SCOPED: dict[str, Call] = {
    "list_members": lambda kit, s, acc, uid, inv: kit.list_members(s, acc),
    "get_member": lambda kit, s, acc, uid, inv: kit.get_member(s, acc, uid),
    "change_role": lambda kit, s, acc, uid, inv: kit.change_role(
        s, acc, uid, Role.ACCOUNT_ADMINISTRATOR
    ),
    "block_member": lambda kit, s, acc, uid, inv: kit.block_member(s, acc, uid),
    "unblock_member": lambda kit, s, acc, uid, inv: kit.unblock_member(s, acc, uid),
    "remove_member": lambda kit, s, acc, uid, inv: kit.remove_member(s, acc, uid),
    "leave_account": lambda kit, s, acc, uid, inv: kit.leave_account(s, acc),
    "list_audit_events": lambda kit, s, acc, uid, inv: kit.list_audit_events(s, acc),
    "invite_members": lambda kit, s, acc, uid, inv: kit.invite_members(
        s, acc, ["intruder@example.com"]
    ),
    "list_join_invitations": lambda kit, s, acc, uid, inv: kit.list_join_invitations(s, acc),
    "revoke_join_invitation": lambda kit, s, acc, uid, inv: kit.revoke_join_invitation(s, acc, inv),
    "resend_join_invitation": lambda kit, s, acc, uid, inv: kit.resend_join_invitation(s, acc, inv),
}

MEMBER_SCOPED = ["get_member", "change_role", "block_member", "unblock_member", "remove_member"]
INVITATION_SCOPED = ["revoke_join_invitation", "resend_join_invitation"]


@pytest.mark.parametrize("method", sorted(ACCOUNT_SCOPED))
def test_an_admin_of_a_gets_account_not_found_for_account_b(world, method):
    kit, a, b = world
    before = snapshot(kit, b)
    sent = len(kit.mailer.sent)

    with pytest.raises(AccountNotFound, match=f"no business account '{b.account_id}'"):
        ACCOUNT_SCOPED[method](kit, a.admin, b.account_id, b.member_id, b.invitation_id)

    assert snapshot(kit, b) == before
    assert len(kit.mailer.sent) == sent


@pytest.mark.parametrize("method", MEMBER_SCOPED)
def test_an_admin_of_a_naming_a_member_of_b_in_account_a_gets_member_not_found(world, method):
    kit, a, b = world
    before_a, before_b = snapshot(kit, a), snapshot(kit, b)

    with pytest.raises(MemberNotFound, match=f"'{b.member_id}' is not a member"):
        ACCOUNT_SCOPED[method](kit, a.admin, a.account_id, b.member_id, a.invitation_id)

    assert snapshot(kit, b) == before_b
    assert snapshot(kit, a) == before_a


@pytest.mark.parametrize("method", ["unblock_member", "remove_member", "get_member"])
def test_a_blocked_member_of_b_is_not_found_through_account_a(world, method):
    kit, a, b = world
    before = snapshot(kit, b)

    with pytest.raises(MemberNotFound):
        ACCOUNT_SCOPED[method](kit, a.admin, a.account_id, b.blocked_id, a.invitation_id)

    assert snapshot(kit, b) == before
    status = kit.get_member(b.admin, b.account_id, b.blocked_id).status
    assert status is MemberStatus.BLOCKED


@pytest.mark.parametrize("method", MEMBER_SCOPED)
def test_the_admin_of_b_is_not_found_through_account_a(world, method):
    kit, a, b = world
    before = snapshot(kit, b)

    with pytest.raises(MemberNotFound):
        ACCOUNT_SCOPED[method](kit, a.admin, a.account_id, b.admin.user_id, a.invitation_id)

    assert snapshot(kit, b) == before


@pytest.mark.parametrize("method", INVITATION_SCOPED)
def test_an_admin_of_a_gets_invitation_not_found_for_bs_invitation(world, method):
    kit, a, b = world
    before_a, before_b = snapshot(kit, a), snapshot(kit, b)
    sent = len(kit.mailer.sent)

    with pytest.raises(InvitationNotFound, match=f"no invitation '{b.invitation_id}'"):
        ACCOUNT_SCOPED[method](kit, a.admin, a.account_id, a.member_id, b.invitation_id)

    assert snapshot(kit, b) == before_b
    assert snapshot(kit, a) == before_a
    assert len(kit.mailer.sent) == sent


def test_bs_invitation_still_works_after_a_tried_to_revoke_it(world):
    kit, a, b = world
    with pytest.raises(InvitationNotFound):
        kit.revoke_join_invitation(a.admin, a.account_id, b.invitation_id)

    session = kit.accept_join_invitation(
        kit.mailer.last_token(to="pending@beta.example"), password=PASSWORD
    )

    assert dict(session.roles) == {b.account_id: Role.REGULAR_MEMBER}


def test_an_existing_foreign_account_looks_like_a_missing_one(world):
    kit, a, b = world

    with pytest.raises(AccountNotFound) as existing:
        kit.list_members(a.admin, b.account_id)
    with pytest.raises(AccountNotFound) as missing:
        kit.list_members(a.admin, "acc_does_not_exist")

    assert str(existing.value).replace(b.account_id, "X") == str(missing.value).replace(
        "acc_does_not_exist", "X"
    )


def test_a_member_of_a_cannot_see_account_b(world):
    kit, a, b = world
    member = kit.log_in("member@alpha.example", PASSWORD)

    with pytest.raises(AccountNotFound):
        kit.list_members(member, b.account_id)
    assert [m.account_id for m in kit.list_my_accounts(member)] == [a.account_id]


def test_being_admin_of_a_gives_no_rights_as_regular_member_of_b(world):
    kit, a, b = world
    kit.invite_members(b.admin, b.account_id, ["admin@alpha.example"])
    token = kit.mailer.last_token(to="admin@alpha.example")
    both = kit.accept_join_invitation(token, session=a.admin)
    before = snapshot(kit, b)

    with pytest.raises(PermissionDenied, match="needs the Account Administrator role"):
        kit.remove_member(both, b.account_id, b.member_id)
    with pytest.raises(PermissionDenied):
        kit.list_members(a.admin, b.account_id)

    assert snapshot(kit, b)[0] == before[0]
    assert len(kit.list_members(both, a.account_id).items) == 3


def test_a_cursor_from_bs_listing_shows_only_as_members(world):
    kit, a, b = world
    b_page = kit.list_members(b.admin, b.account_id, limit=1)
    assert b_page.next_cursor is not None
    kit.invite_members(a.admin, a.account_id, ["late@alpha.example"])
    late = kit.accept_join_invitation(
        kit.mailer.last_token(to="late@alpha.example"), password=PASSWORD
    )

    page = kit.list_members(a.admin, a.account_id, cursor=b_page.next_cursor)

    assert [m.user_id for m in page.items] == [late.user_id]


def test_audit_trails_are_separate(world):
    kit, a, b = world

    a_events = kit.list_audit_events(a.admin, a.account_id).items
    b_events = kit.list_audit_events(b.admin, b.account_id).items

    assert {e.account_id for e in a_events} == {a.account_id}
    assert {e.account_id for e in b_events} == {b.account_id}
    assert not {e.id for e in a_events} & {e.id for e in b_events}


def test_invitation_listings_are_separate(world):
    kit, a, b = world

    a_items = kit.list_join_invitations(a.admin, a.account_id).items
    b_items = kit.list_join_invitations(b.admin, b.account_id).items

    assert {i.email.split("@")[1] for i in a_items} == {"alpha.example"}
    assert {i.email.split("@")[1] for i in b_items} == {"beta.example"}
