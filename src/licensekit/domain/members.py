"""The rules of memberships and join invitations, as pure functions.

Each function takes the current records and ``now`` and returns the new record, or raises the
licensekit error that says why the change is not allowed. Nothing here reads a clock or a store;
:mod:`licensekit.service` loads the records, calls these, and saves the result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from licensekit.domain.model import InvitationState, JoinInvitation, Membership, MemberStatus, Role
from licensekit.exceptions import (
    AlreadyMember,
    ConflictError,
    InvitationAlreadyAccepted,
    InvitationExpired,
    InvitationRevoked,
    LastAdministrator,
    MemberBlocked,
)

__all__ = [
    "accept_invitation",
    "block_member",
    "change_role",
    "check_invitation_usable",
    "join",
    "remove_member",
    "revoke_invitation",
    "unblock_member",
    "why_not_invite",
]


def join(
    existing: Membership | None, *, account_id: str, user_id: str, now: dt.datetime
) -> Membership:
    """Return the membership of a user joining an account: active, as a Regular Member.

    A removed member joins again with a fresh Regular Member membership (keeping the count
    of past promotions, so sessions from an earlier administrator period stay powerless).

    Raises:
        AlreadyMember: The user is an active member already.
        MemberBlocked: The user is blocked in this account; an administrator must unblock.
    """
    if existing is not None and existing.status is MemberStatus.ACTIVE:
        raise AlreadyMember(f"user {user_id!r} is already a member of account {account_id!r}")
    if existing is not None and existing.status is MemberStatus.BLOCKED:
        raise MemberBlocked(
            f"user {user_id!r} is blocked in account {account_id!r}; an administrator must "
            "unblock them"
        )
    return Membership(
        account_id=account_id,
        user_id=user_id,
        role=Role.REGULAR_MEMBER,
        status=MemberStatus.ACTIVE,
        joined_at=now,
        updated_at=now,
        admin_grant=existing.admin_grant if existing is not None else 0,
    )


def _guard_last_administrator(target: Membership, active_administrators: int, what: str) -> None:
    if target.is_active_administrator and active_administrators <= 1:
        raise LastAdministrator(
            f"cannot {what} the last Account Administrator of account {target.account_id!r}; "
            "promote another member first"
        )


def change_role(
    target: Membership,
    role: Role,
    *,
    actor_id: str,
    now: dt.datetime,
    notes: str,
    active_administrators: int,
) -> Membership:
    """Return *target* with *role*, recording who changed it, when, and the notes.

    A change of role ends the member's License Administrator grants (an Account
    Administrator manages every key anyway; a demoted one starts over with none).

    Raises:
        LastAdministrator: *target* is the account's only active Account Administrator and
            *role* would demote them.
        ConflictError: *target* has been removed.
    """
    if target.status is MemberStatus.REMOVED:
        raise ConflictError(f"user {target.user_id!r} is no longer a member")
    if target.role is Role.ACCOUNT_ADMINISTRATOR and role is Role.REGULAR_MEMBER:
        _guard_last_administrator(target, active_administrators, "demote")
    grant = target.admin_grant
    if target.role is Role.REGULAR_MEMBER and role is Role.ACCOUNT_ADMINISTRATOR:
        grant += 1
    return attrs.evolve(
        target,
        role=role,
        updated_at=now,
        changed_by=actor_id,
        notes=notes,
        admin_grant=grant,
        license_keys=target.license_keys if role is target.role else frozenset(),
        all_license_keys=target.all_license_keys and role is target.role,
    )


def block_member(
    target: Membership,
    *,
    actor_id: str,
    now: dt.datetime,
    notes: str,
    active_administrators: int,
) -> Membership:
    """Return *target* blocked: kept, but powerless until unblocked.

    License Administrator grants end, and an unblock does not bring them back.

    Raises:
        ConflictError: *target* is not active (already blocked, or removed).
        LastAdministrator: *target* is the last active Account Administrator.
    """
    if target.status is not MemberStatus.ACTIVE:
        raise ConflictError(f"user {target.user_id!r} is {target.status.value}, not active")
    _guard_last_administrator(target, active_administrators, "block")
    return attrs.evolve(
        target,
        status=MemberStatus.BLOCKED,
        updated_at=now,
        changed_by=actor_id,
        notes=notes,
        license_keys=frozenset(),
        all_license_keys=False,
    )


def unblock_member(
    target: Membership, *, actor_id: str, now: dt.datetime, notes: str
) -> Membership:
    """Return *target* active again, with the role it had.

    An administrator's rights come back like a promotion's: in sessions issued after the
    unblock, never in the sessions that were open when they were blocked.

    Raises:
        ConflictError: *target* is not blocked.
    """
    if target.status is not MemberStatus.BLOCKED:
        raise ConflictError(f"user {target.user_id!r} is {target.status.value}, not blocked")
    grant = target.admin_grant + (1 if target.role is Role.ACCOUNT_ADMINISTRATOR else 0)
    return attrs.evolve(
        target,
        status=MemberStatus.ACTIVE,
        updated_at=now,
        changed_by=actor_id,
        notes=notes,
        admin_grant=grant,
    )


def remove_member(
    target: Membership,
    *,
    actor_id: str,
    now: dt.datetime,
    notes: str,
    active_administrators: int,
) -> Membership:
    """Return *target* removed: the membership ends, and the person may be invited again.

    Raises:
        ConflictError: *target* was removed already.
        LastAdministrator: *target* is the last active Account Administrator.
    """
    if target.status is MemberStatus.REMOVED:
        raise ConflictError(f"user {target.user_id!r} is no longer a member")
    _guard_last_administrator(target, active_administrators, "remove")
    return attrs.evolve(
        target,
        status=MemberStatus.REMOVED,
        role=Role.REGULAR_MEMBER,
        updated_at=now,
        changed_by=actor_id,
        notes=notes,
        license_keys=frozenset(),
        all_license_keys=False,
    )


def check_invitation_usable(invitation: JoinInvitation, now: dt.datetime) -> None:
    """Raise unless *invitation* can be accepted (or sent again) at *now*.

    Raises:
        InvitationAlreadyAccepted: It was used already.
        InvitationRevoked: An administrator revoked it.
        InvitationExpired: Its expiry has passed.
    """
    state = invitation.state(now)
    if state is InvitationState.ACCEPTED:
        raise InvitationAlreadyAccepted(f"invitation {invitation.id!r} has already been accepted")
    if state is InvitationState.REVOKED:
        raise InvitationRevoked(f"invitation {invitation.id!r} was revoked")
    if state is InvitationState.EXPIRED:
        raise InvitationExpired(
            f"invitation {invitation.id!r} expired at {invitation.expires_at.isoformat()}; "
            "ask for a new one"
        )


def accept_invitation(
    invitation: JoinInvitation, *, user_id: str, now: dt.datetime
) -> JoinInvitation:
    """Return *invitation* used by *user_id* at *now*.

    Raises:
        InvitationError: The invitation is accepted, revoked or expired already.
    """
    check_invitation_usable(invitation, now)
    return attrs.evolve(invitation, accepted_at=now, accepted_by=user_id)


def revoke_invitation(
    invitation: JoinInvitation, *, actor_id: str, now: dt.datetime
) -> JoinInvitation:
    """Return *invitation* revoked, so that its link never works again.

    Expired invitations may be revoked too (it changes nothing but the listing).

    Raises:
        InvitationAlreadyAccepted: It was used already.
        InvitationRevoked: It was revoked already.
    """
    state = invitation.state(now)
    if state is InvitationState.ACCEPTED:
        raise InvitationAlreadyAccepted(f"invitation {invitation.id!r} has already been accepted")
    if state is InvitationState.REVOKED:
        raise InvitationRevoked(f"invitation {invitation.id!r} was revoked already")
    return attrs.evolve(invitation, revoked_at=now, revoked_by=actor_id)


def why_not_invite(
    membership: Membership | None, invitations: Iterable[JoinInvitation], now: dt.datetime
) -> str | None:
    """Return why the owner of an address cannot be invited to an account now, or None.

    Args:
        membership: The membership of the user with that address in the account, if that
            user exists and has one.
        invitations: The account's join invitations to that address, in any order.
        now: The current time.

    Returns:
        The reason to report for the address (an active or blocked member, a pending
        invitation, named by the oldest one's id), or None when it may be invited.
    """
    if membership is not None and membership.status is MemberStatus.ACTIVE:
        return "already a member of this account"
    if membership is not None and membership.status is MemberStatus.BLOCKED:
        return "blocked in this account; unblock them instead"
    pending = sorted(i.id for i in invitations if i.state(now) is InvitationState.PENDING)
    if pending:
        return f"already has a pending invitation ({pending[0]}); resend it instead"
    return None
