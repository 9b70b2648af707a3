"""Unit tests of roles, permissions and authorisation in licensekit.roles."""

from __future__ import annotations

import datetime as dt

import pytest

from licensekit import AccountNotFound, MemberBlocked, PermissionDenied
from licensekit.model import Membership, MemberStatus, Role
from licensekit.roles import Permission, authorize, effective_role, permissions_of

T0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
ADMIN = Role.ACCOUNT_ADMINISTRATOR
REGULAR = Role.REGULAR_MEMBER
ADMIN_ONLY = [p for p in Permission if p is not Permission.VIEW_ACCOUNT]


def membership(
    role: Role,
    status: MemberStatus = MemberStatus.ACTIVE,
    account_id: str = "acc_1",
    admin_grant: int = 1,
) -> Membership:
    return Membership(
        account_id=account_id,
        user_id="usr_1",
        role=role,
        status=status,
        joined_at=T0,
        updated_at=T0,
        admin_grant=admin_grant,
    )


class TestPermissionsOf:
    def test_regular_member_may_only_view_the_account(self) -> None:
        assert permissions_of(REGULAR) == frozenset({Permission.VIEW_ACCOUNT})

    def test_account_administrator_has_every_permission(self) -> None:
        assert permissions_of(ADMIN) == frozenset(Permission)


class TestEffectiveRole:
    def test_administrator_in_session_and_membership_acts_as_administrator(self) -> None:
        assert effective_role({"acc_1": 1}, membership(ADMIN)) is ADMIN

    def test_promotion_after_session_issue_does_not_count(self) -> None:
        """Session issued as Regular Member, membership promoted since: still regular."""
        assert effective_role({}, membership(ADMIN)) is REGULAR

    def test_demotion_after_session_issue_applies_at_once(self) -> None:
        assert effective_role({"acc_1": 1}, membership(REGULAR)) is REGULAR

    def test_an_administrator_to_administrator_change_keeps_the_grant_and_the_rights(
        self,
    ) -> None:
        """Saving notes on an administrator (same role) must not cut their open sessions."""
        assert effective_role({"acc_1": 3}, membership(ADMIN, admin_grant=3)) is ADMIN

    def test_administrator_role_in_another_account_does_not_carry_over(self) -> None:
        assert effective_role({"acc_2": 1}, membership(ADMIN)) is REGULAR

    def test_a_later_promotion_does_not_revive_an_earlier_administrator_session(self) -> None:
        """Session from the first administrator period; demoted, then promoted again."""
        assert effective_role({"acc_1": 1}, membership(ADMIN, admin_grant=2)) is REGULAR
        assert effective_role({"acc_1": 2}, membership(ADMIN, admin_grant=2)) is ADMIN

    def test_a_blocked_administrator_acts_as_nothing_more_than_regular(self) -> None:
        assert effective_role({"acc_1": 1}, membership(ADMIN, MemberStatus.BLOCKED)) is REGULAR


class TestAuthorizeMembership:
    @pytest.mark.parametrize("session_roles", [{}, {"acc_1": 1}])
    def test_non_member_gets_account_not_found(self, session_roles: dict[str, int]) -> None:
        with pytest.raises(AccountNotFound, match="no business account 'acc_1'"):
            authorize(session_roles, None, Permission.VIEW_ACCOUNT, account_id="acc_1")

    def test_removed_member_gets_account_not_found_at_once(self) -> None:
        removed = membership(REGULAR, MemberStatus.REMOVED)
        with pytest.raises(AccountNotFound, match="among your memberships"):
            authorize({"acc_1": 1}, removed, Permission.VIEW_ACCOUNT, account_id="acc_1")

    def test_blocked_member_is_refused_even_to_view(self) -> None:
        blocked = membership(ADMIN, MemberStatus.BLOCKED)
        with pytest.raises(MemberBlocked, match="membership in account 'acc_1' is blocked"):
            authorize({"acc_1": 1}, blocked, Permission.VIEW_ACCOUNT, account_id="acc_1")

    def test_blocked_is_a_permission_denied(self) -> None:
        blocked = membership(REGULAR, MemberStatus.BLOCKED)
        with pytest.raises(PermissionDenied, match="blocked"):
            authorize({}, blocked, Permission.VIEW_ACCOUNT, account_id="acc_1")


class TestAuthorizeRoles:
    def test_regular_member_may_view_the_account(self) -> None:
        role = authorize({}, membership(REGULAR), Permission.VIEW_ACCOUNT, account_id="acc_1")
        assert role is REGULAR

    @pytest.mark.parametrize("permission", ADMIN_ONLY)
    def test_regular_member_is_denied_administrator_permissions(
        self, permission: Permission
    ) -> None:
        with pytest.raises(PermissionDenied, match=r"needs the Account Administrator role$"):
            authorize({}, membership(REGULAR), permission, account_id="acc_1")

    def test_denial_message_names_the_permission_and_account(self) -> None:
        with pytest.raises(PermissionDenied, match=r"^manage members in account 'acc_1'"):
            authorize(
                {},
                membership(REGULAR),
                Permission.MANAGE_MEMBERS,
                account_id="acc_1",
            )

    @pytest.mark.parametrize("permission", list(Permission))
    def test_administrator_session_may_do_everything(self, permission: Permission) -> None:
        role = authorize({"acc_1": 1}, membership(ADMIN), permission, account_id="acc_1")
        assert role is ADMIN

    def test_promotion_only_counts_in_a_session_issued_after_it(self) -> None:
        """An old session is denied with a hint to log in again; a new one is allowed."""
        promoted = membership(ADMIN)
        with pytest.raises(PermissionDenied, match="promotion takes effect after you log in"):
            authorize({}, promoted, Permission.INVITE_MEMBERS, account_id="acc_1")
        role = authorize({"acc_1": 1}, promoted, Permission.INVITE_MEMBERS, account_id="acc_1")
        assert role is ADMIN

    def test_demotion_removes_rights_from_an_open_administrator_session(self) -> None:
        with pytest.raises(PermissionDenied, match=r"needs the Account Administrator role$"):
            authorize({"acc_1": 1}, membership(REGULAR), Permission.VIEW_AUDIT, account_id="acc_1")

    def test_demoted_member_keeps_regular_rights(self) -> None:
        role = authorize(
            {"acc_1": 1}, membership(REGULAR), Permission.VIEW_ACCOUNT, account_id="acc_1"
        )
        assert role is REGULAR

    def test_block_of_an_administrator_applies_to_an_open_session_at_once(self) -> None:
        blocked = membership(ADMIN, MemberStatus.BLOCKED)
        with pytest.raises(MemberBlocked):
            authorize({"acc_1": 1}, blocked, Permission.MANAGE_MEMBERS, account_id="acc_1")
