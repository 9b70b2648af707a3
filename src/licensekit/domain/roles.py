"""Roles, permissions, and the rule that decides what a session may do in an account.

When role changes take effect
-----------------------------
A session remembers in which accounts its user was an Account Administrator when it was
issued, and which promotion made them one (:attr:`Membership.admin_grant`). What the session
may do is decided by the *lesser* of that and the membership as it stands now:

* a **promotion** to Account Administrator shows only in a session issued after it (the user
  logs out and in again, as the administrator guide describes), even for a session that was
  issued during an earlier, since revoked, administrator period;
* a **demotion**, a **block** or a **removal** applies to every open session at once, because
  losing rights must never wait for a log-out.

License Administrators
----------------------
A Regular Member can be made License Administrator of chosen keys
(:attr:`Membership.license_keys`), or of every key of the account, those added later
included (:attr:`Membership.all_license_keys`). For those keys only, they hold the permissions
in :data:`LICENSE_ADMINISTRATOR_PERMISSIONS`. A grant over a primary key covers its additional
keys too: a License Administrator of a primary manages its additional keys
(:data:`Permission.MANAGE_ADDITIONAL_KEYS`). A grant is not a change of role: it applies to
open sessions at once, like its revocation. Any change of role or status ends every grant.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from licensekit.domain._echo import echo
from licensekit.domain.model import Membership, MemberStatus, Role
from licensekit.exceptions import AccountNotFound, MemberBlocked, PermissionDenied

__all__ = [
    "LICENSE_ADMINISTRATOR_PERMISSIONS",
    "Permission",
    "administers",
    "authorize",
    "authorize_key",
    "effective_role",
    "permissions_of",
]


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
    MANAGE_LICENSE_KEYS = "manage_license_keys"
    """Add, change, suspend and remove keys, see their masked values, and appoint License
    Administrators."""
    INVITE_INSTALLERS = "invite_installers"
    """Create, send, resend and revoke invitations to install under a key."""
    VIEW_INSTALLATIONS = "view_installations"
    """See a key's seats, its invitations to install (and export them) and installations."""
    MANAGE_INSTALLATIONS = "manage_installations"
    """Deactivate a key's installations, block and unblock their computers."""
    MANAGE_ADDITIONAL_KEYS = "manage_additional_keys"
    """Make additional keys under a primary key, and change, suspend, resume and remove
    them."""


LICENSE_ADMINISTRATOR_PERMISSIONS: frozenset[Permission] = frozenset(
    {
        Permission.INVITE_INSTALLERS,
        Permission.VIEW_INSTALLATIONS,
        Permission.MANAGE_INSTALLATIONS,
        Permission.MANAGE_ADDITIONAL_KEYS,
    }
)
"""What a License Administrator may do, for the keys they were granted only."""

_ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.REGULAR_MEMBER: frozenset({Permission.VIEW_ACCOUNT}),
    Role.ACCOUNT_ADMINISTRATOR: frozenset(Permission),
}


def permissions_of(role: Role) -> frozenset[Permission]:
    """Return the permissions a role grants in its account."""
    return _ROLE_PERMISSIONS[role]


def effective_role(admin_grants: Mapping[str, int], membership: Membership) -> Role:
    """Return the role a session acts with: the lesser of its issued role and the current one.

    Args:
        admin_grants: The session's :attr:`~licensekit.model.SessionRecord.admin_grants`.
        membership: The membership as it stands now.

    A session is administrator only if the membership is an active Account Administrator
    whose current grant is the one the session was issued with; otherwise Regular Member.
    """
    if (
        membership.is_active_administrator
        and admin_grants.get(membership.account_id) == membership.admin_grant
    ):
        return Role.ACCOUNT_ADMINISTRATOR
    return Role.REGULAR_MEMBER


def authorize(
    admin_grants: Mapping[str, int],
    membership: Membership | None,
    permission: Permission,
    *,
    account_id: str,
) -> Role:
    """Check that a session may exercise *permission* in *account_id*; return its role.

    Args:
        admin_grants: The session's administrator grants (see :func:`effective_role`).
        membership: The caller's current membership in the account, if any.
        permission: What the caller wants to do.
        account_id: The account concerned (for the error message).

    Raises:
        AccountNotFound: The caller is not a member (or has been removed); whether the
            account exists is not revealed.
        MemberBlocked: The caller's membership is blocked.
        PermissionDenied: The caller's role does not grant *permission*.
    """
    role = _active_role(admin_grants, membership, account_id)
    if permission not in permissions_of(role):
        raise PermissionDenied(_refusal(permission, account_id, membership, ""))
    return role


def administers(membership: Membership, key_id: str, primary_id: str | None = None) -> bool:
    """True when *membership*'s grants cover key *key_id* (of primary *primary_id*, if any).

    Only grants count here, not the role: an Account Administrator's grants are empty.
    """
    return (
        membership.all_license_keys
        or key_id in membership.license_keys
        or (primary_id is not None and primary_id in membership.license_keys)
    )


def authorize_key(
    admin_grants: Mapping[str, int],
    membership: Membership | None,
    permission: Permission,
    *,
    account_id: str,
    key_id: str,
    primary_id: str | None = None,
) -> Role:
    """Check that a session may exercise *permission* on license key *key_id*.

    Account Administrators may do anything with any key of their account; a Regular Member
    may exercise :data:`LICENSE_ADMINISTRATOR_PERMISSIONS` on the keys they were granted
    (see :func:`administers`; *primary_id* is the key's primary, for an additional key).

    Raises:
        AccountNotFound: The caller is not a member of *account_id*.
        MemberBlocked: The caller's membership is blocked.
        PermissionDenied: Neither the caller's role nor their grants allow it.
    """
    role = _active_role(admin_grants, membership, account_id)
    if permission in permissions_of(role):
        return role
    assert membership is not None  # noqa: S101 - _active_role raised otherwise
    if permission in LICENSE_ADMINISTRATOR_PERMISSIONS and administers(
        membership, key_id, primary_id
    ):
        return role
    alternative = (
        f" or License Administrator rights over key {key_id!r}"
        if permission in LICENSE_ADMINISTRATOR_PERMISSIONS
        else ""
    )
    raise PermissionDenied(_refusal(permission, account_id, membership, alternative))


def _active_role(
    admin_grants: Mapping[str, int], membership: Membership | None, account_id: str
) -> Role:
    if membership is None or membership.status is MemberStatus.REMOVED:
        raise AccountNotFound(f"no business account {echo(account_id)} among your memberships")
    if membership.status is MemberStatus.BLOCKED:
        raise MemberBlocked(f"your membership in account {account_id!r} is blocked")
    return effective_role(admin_grants, membership)


def _refusal(
    permission: Permission, account_id: str, membership: Membership | None, alternative: str
) -> str:
    hint = ""
    if membership is not None and membership.role is Role.ACCOUNT_ADMINISTRATOR:
        hint = "; your promotion takes effect after you log in again"
    return (
        f"{permission.value.replace('_', ' ')} in account {account_id!r} needs the "
        f"Account Administrator role{alternative}{hint}"
    )
