"""Roles, permissions, and the rule that decides what a session may do in an account.

When role changes take effect
-----------------------------
A session remembers the role its user held in each account when it was issued. What the
session may do is decided by the *lesser* of that role and the membership as it stands now:

* a **promotion** to Account Administrator shows only in a session issued after it (the user
  logs out and in again, as the administrator guide describes);
* a **demotion**, a **block** or a **removal** applies to every open session at once, because
  losing rights must never wait for a log-out.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from licensekit.exceptions import AccountNotFound, MemberBlocked, PermissionDenied
from licensekit.model import Membership, MemberStatus, Role

__all__ = ["Permission", "authorize", "effective_role", "permissions_of"]


class Permission(enum.StrEnum):
    """Something a member may be allowed to do in a business account."""

    VIEW_ACCOUNT = "view_account"
    """See the account's name and one's own membership."""
    LIST_MEMBERS = "list_members"
    MANAGE_MEMBERS = "manage_members"
    """Change roles, block, unblock and remove members."""
    INVITE_MEMBERS = "invite_members"
    """Invite people to join, list, revoke and resend join invitations."""
    VIEW_AUDIT = "view_audit"


_ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.REGULAR_MEMBER: frozenset({Permission.VIEW_ACCOUNT}),
    Role.ACCOUNT_ADMINISTRATOR: frozenset(Permission),
}


def permissions_of(role: Role) -> frozenset[Permission]:
    """Return the permissions a role grants in its account."""
    return _ROLE_PERMISSIONS[role]


def effective_role(session_roles: Mapping[str, Role], membership: Membership) -> Role:
    """Return the role a session acts with: the lesser of its issued role and the current one.

    An account the session did not know about when it was issued counts as Regular Member.
    """
    issued = session_roles.get(membership.account_id, Role.REGULAR_MEMBER)
    if membership.role is Role.ACCOUNT_ADMINISTRATOR and issued is Role.ACCOUNT_ADMINISTRATOR:
        return Role.ACCOUNT_ADMINISTRATOR
    return Role.REGULAR_MEMBER


def authorize(
    session_roles: Mapping[str, Role],
    membership: Membership | None,
    permission: Permission,
    *,
    account_id: str,
) -> Role:
    """Check that a session may exercise *permission* in *account_id*; return its role.

    Args:
        session_roles: The roles recorded in the session when it was issued.
        membership: The caller's current membership in the account, if any.
        permission: What the caller wants to do.
        account_id: The account concerned (for the error message).

    Raises:
        AccountNotFound: The caller is not a member (or has been removed); whether the
            account exists is not revealed.
        MemberBlocked: The caller's membership is blocked.
        PermissionDenied: The caller's role does not grant *permission*.
    """
    if membership is None or membership.status is MemberStatus.REMOVED:
        raise AccountNotFound(f"no business account {account_id!r} among your memberships")
    if membership.status is MemberStatus.BLOCKED:
        raise MemberBlocked(f"your membership in account {account_id!r} is blocked")
    role = effective_role(session_roles, membership)
    if permission not in permissions_of(role):
        hint = ""
        if membership.role is Role.ACCOUNT_ADMINISTRATOR:
            hint = "; your promotion takes effect after you log in again"
        raise PermissionDenied(
            f"{permission.value.replace('_', ' ')} in account {account_id!r} needs the "
            f"Account Administrator role{hint}"
        )
    return role
