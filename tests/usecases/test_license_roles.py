"""License Administrators: authorize_key, their permissions, and grants that member changes end."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from licensekit import AccountNotFound, MemberBlocked, PermissionDenied
from licensekit.members import block_member, change_role, join, remove_member, unblock_member
from licensekit.model import Membership, MemberStatus, Role
from licensekit.roles import (
    LICENSE_ADMINISTRATOR_PERMISSIONS,
    Permission,
    authorize,
    authorize_key,
)

T0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
LATER = T0 + dt.timedelta(hours=1)
ADMIN = Role.ACCOUNT_ADMINISTRATOR
REGULAR = Role.REGULAR_MEMBER
LA_PERMISSIONS = sorted(LICENSE_ADMINISTRATOR_PERMISSIONS)
NON_LA_PERMISSIONS = sorted(
    p for p in Permission if p not in LICENSE_ADMINISTRATOR_PERMISSIONS | {Permission.VIEW_ACCOUNT}
)
ADMIN_SESSION = {"acc_1": 1}


def membership(
    role: Role = REGULAR,
    status: MemberStatus = MemberStatus.ACTIVE,
    *,
    license_keys: frozenset[str] = frozenset(),
    admin_grant: int = 1,
) -> Membership:
    return Membership(
        account_id="acc_1",
        user_id="usr_1",
        role=role,
        status=status,
        joined_at=T0,
        updated_at=T0,
        admin_grant=admin_grant,
        license_keys=license_keys,
    )


def license_admin(*keys: str) -> Membership:
    return membership(REGULAR, license_keys=frozenset(keys))


def check(
    grants: dict[str, int], member: Membership | None, permission: Permission, key_id: str
) -> Role:
    return authorize_key(grants, member, permission, account_id="acc_1", key_id=key_id)


class TestLicenseAdministratorPermissions:
    def test_exactly_invite_view_and_manage_installations(self) -> None:
        expected = {
            Permission.INVITE_INSTALLERS,
            Permission.VIEW_INSTALLATIONS,
            Permission.MANAGE_INSTALLATIONS,
            Permission.MANAGE_ADDITIONAL_KEYS,
        }
        assert expected == LICENSE_ADMINISTRATOR_PERMISSIONS

    def test_managing_keys_and_members_is_not_a_license_administrator_permission(self) -> None:
        for permission in (
            Permission.MANAGE_LICENSE_KEYS,
            Permission.MANAGE_MEMBERS,
            Permission.INVITE_MEMBERS,
            Permission.VIEW_AUDIT,
            Permission.LIST_MEMBERS,
        ):
            assert permission not in LICENSE_ADMINISTRATOR_PERMISSIONS


class TestAccountAdministrator:
    @pytest.mark.parametrize("permission", list(Permission))
    @pytest.mark.parametrize("key_id", ["key_1", "key_never_granted"])
    def test_account_administrator_may_do_everything_with_any_key(
        self, permission: Permission, key_id: str
    ) -> None:
        assert check(ADMIN_SESSION, membership(ADMIN), permission, key_id) is ADMIN


class TestLicenseAdministrator:
    @pytest.mark.parametrize("permission", LA_PERMISSIONS)
    def test_license_administrator_permissions_on_granted_key(self, permission: Permission) -> None:
        assert check({}, license_admin("key_1", "key_2"), permission, "key_2") is REGULAR

    @pytest.mark.parametrize("permission", LA_PERMISSIONS)
    def test_license_administrator_refused_on_other_keys(self, permission: Permission) -> None:
        with pytest.raises(PermissionDenied) as info:
            check({}, license_admin("key_1"), permission, "key_9")
        assert not isinstance(info.value, MemberBlocked)

    @pytest.mark.parametrize("permission", NON_LA_PERMISSIONS)
    def test_other_permissions_refused_even_on_granted_key(self, permission: Permission) -> None:
        with pytest.raises(PermissionDenied, match=r"needs the Account Administrator role$"):
            check({}, license_admin("key_1"), permission, "key_1")

    def test_viewing_the_account_needs_no_grant(self) -> None:
        assert check({}, membership(REGULAR), Permission.VIEW_ACCOUNT, "key_1") is REGULAR

    @pytest.mark.parametrize("permission", LA_PERMISSIONS)
    def test_regular_member_without_grants_is_refused(self, permission: Permission) -> None:
        with pytest.raises(PermissionDenied):
            check({}, membership(REGULAR), permission, "key_1")

    def test_grant_does_not_widen_account_level_authorize(self) -> None:
        """authorize (no key) ignores License Administrator grants."""
        with pytest.raises(PermissionDenied):
            authorize({}, license_admin("key_1"), Permission.INVITE_INSTALLERS, account_id="acc_1")

    @given(
        granted=st.frozensets(st.sampled_from(["k1", "k2", "k3", "k4"])),
        key_id=st.sampled_from(["k1", "k2", "k3", "k4"]),
        permission=st.sampled_from(list(Permission)),
    )
    def test_regular_member_allowed_iff_view_or_granted_license_permission(
        self, granted: frozenset[str], key_id: str, permission: Permission
    ) -> None:
        allowed = permission is Permission.VIEW_ACCOUNT or (
            permission in LICENSE_ADMINISTRATOR_PERMISSIONS and key_id in granted
        )
        member = membership(REGULAR, license_keys=granted)
        if allowed:
            assert check({}, member, permission, key_id) is REGULAR
        else:
            with pytest.raises(PermissionDenied):
                check({}, member, permission, key_id)


class TestSessionsAndStatus:
    def test_promoted_admin_with_stale_session_acts_as_regular_member(self) -> None:
        """A promotion needs a new log-in; the old session is refused with that hint."""
        promoted = membership(ADMIN, admin_grant=2)
        with pytest.raises(PermissionDenied, match="takes effect after you log in again"):
            check({"acc_1": 1}, promoted, Permission.MANAGE_LICENSE_KEYS, "key_1")

    def test_promoted_license_admin_loses_grants_until_new_log_in(self) -> None:
        """Promotion clears the key grants, and the old session is not yet administrator."""
        before = license_admin("key_1")
        assert check({}, before, Permission.INVITE_INSTALLERS, "key_1") is REGULAR
        promoted = change_role(
            before, ADMIN, actor_id="usr_a", now=LATER, notes="", active_administrators=1
        )
        assert promoted.license_keys == frozenset()
        with pytest.raises(PermissionDenied, match="log in again"):
            check({}, promoted, Permission.INVITE_INSTALLERS, "key_1")
        new_session = {"acc_1": promoted.admin_grant}
        assert check(new_session, promoted, Permission.INVITE_INSTALLERS, "key_1") is ADMIN

    def test_demoted_admin_open_session_loses_rights_at_once(self) -> None:
        with pytest.raises(PermissionDenied):
            check(ADMIN_SESSION, membership(REGULAR), Permission.MANAGE_INSTALLATIONS, "key_1")

    @pytest.mark.parametrize("role", [ADMIN, REGULAR])
    @pytest.mark.parametrize("permission", [Permission.VIEW_ACCOUNT, *LA_PERMISSIONS])
    def test_blocked_member_is_refused_even_with_grants(
        self, role: Role, permission: Permission
    ) -> None:
        blocked = membership(role, MemberStatus.BLOCKED, license_keys=frozenset({"key_1"}))
        with pytest.raises(MemberBlocked, match="is blocked"):
            check(ADMIN_SESSION, blocked, permission, "key_1")

    @pytest.mark.parametrize("permission", [Permission.VIEW_ACCOUNT, *LA_PERMISSIONS])
    def test_removed_member_is_told_the_account_is_not_found(self, permission: Permission) -> None:
        removed = membership(REGULAR, MemberStatus.REMOVED, license_keys=frozenset({"key_1"}))
        with pytest.raises(AccountNotFound, match="no business account 'acc_1'"):
            check({}, removed, permission, "key_1")

    def test_non_member_is_told_the_account_is_not_found(self) -> None:
        with pytest.raises(AccountNotFound):
            check(ADMIN_SESSION, None, Permission.VIEW_INSTALLATIONS, "key_1")


class TestRefusalMessages:
    def test_license_permission_message_offers_license_administrator_rights(self) -> None:
        with pytest.raises(PermissionDenied) as info:
            check({}, license_admin("key_1"), Permission.INVITE_INSTALLERS, "key_9")
        assert str(info.value) == (
            "invite installers in account 'acc_1' needs the Account Administrator role "
            "or License Administrator rights over key 'key_9'"
        )

    def test_key_management_message_mentions_only_the_administrator_role(self) -> None:
        with pytest.raises(PermissionDenied) as info:
            check({}, license_admin("key_1"), Permission.MANAGE_LICENSE_KEYS, "key_1")
        assert str(info.value) == (
            "manage license keys in account 'acc_1' needs the Account Administrator role"
        )
        assert "License Administrator rights" not in str(info.value)

    def test_stale_promoted_admin_message_carries_both_alternative_and_hint(self) -> None:
        with pytest.raises(PermissionDenied) as info:
            check({}, membership(ADMIN, admin_grant=1), Permission.VIEW_INSTALLATIONS, "key_1")
        message = str(info.value)
        assert "or License Administrator rights over key 'key_1'" in message
        assert message.endswith("; your promotion takes effect after you log in again")

    def test_regular_member_message_has_no_log_in_hint(self) -> None:
        with pytest.raises(PermissionDenied) as info:
            check({}, membership(REGULAR), Permission.VIEW_INSTALLATIONS, "key_1")
        assert "log in again" not in str(info.value)


class TestMemberChangesEndGrants:
    def member(self, role: Role = REGULAR) -> Membership:
        return membership(role, license_keys=frozenset({"key_1", "key_2"}))

    def test_promotion_clears_license_keys(self) -> None:
        changed = change_role(
            self.member(), ADMIN, actor_id="a", now=LATER, notes="", active_administrators=1
        )
        assert changed.license_keys == frozenset()

    def test_demotion_clears_license_keys(self) -> None:
        changed = change_role(
            self.member(ADMIN), REGULAR, actor_id="a", now=LATER, notes="", active_administrators=2
        )
        assert changed.license_keys == frozenset()

    @pytest.mark.parametrize("role", [REGULAR, ADMIN])
    def test_same_role_change_keeps_license_keys(self, role: Role) -> None:
        """Saving notes without changing the role keeps the member's key grants."""
        changed = change_role(
            self.member(role), role, actor_id="a", now=LATER, notes="n", active_administrators=2
        )
        assert changed.license_keys == frozenset({"key_1", "key_2"})
        assert changed.notes == "n"

    def test_block_clears_license_keys_and_unblock_does_not_restore_them(self) -> None:
        blocked = block_member(
            self.member(), actor_id="a", now=LATER, notes="", active_administrators=1
        )
        assert blocked.license_keys == frozenset()
        unblocked = unblock_member(blocked, actor_id="a", now=LATER, notes="")
        assert unblocked.license_keys == frozenset()
        with pytest.raises(PermissionDenied):
            check({}, unblocked, Permission.INVITE_INSTALLERS, "key_1")

    def test_removal_clears_license_keys(self) -> None:
        removed = remove_member(
            self.member(), actor_id="a", now=LATER, notes="", active_administrators=1
        )
        assert removed.license_keys == frozenset()

    def test_member_who_rejoins_after_removal_has_no_grants(self) -> None:
        removed = remove_member(
            self.member(), actor_id="a", now=LATER, notes="", active_administrators=1
        )
        rejoined = join(removed, account_id="acc_1", user_id="usr_1", now=LATER)
        assert rejoined.license_keys == frozenset()

    def test_license_keys_are_stored_as_a_frozenset(self) -> None:
        member = Membership(
            account_id="acc_1",
            user_id="u",
            role=REGULAR,
            status=MemberStatus.ACTIVE,
            joined_at=T0,
            updated_at=T0,
            license_keys=["key_2", "key_1", "key_2"],  # type: ignore[arg-type]
        )
        assert member.license_keys == frozenset({"key_1", "key_2"})
        assert isinstance(member.license_keys, frozenset)
