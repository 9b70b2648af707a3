"""The rules of license keys, seats, activation codes and installations, as pure functions.

Like :mod:`licensekit.members`, nothing here reads a clock or a store: each function takes the
current records and ``now`` and returns new records (or, for a refused activation, what to
write: :func:`refuse_activation`), or raises the licensekit error that says why not. The use
cases (:mod:`licensekit._usecases`) load the records inside one store transaction, call these
and write what they return.

Seats are first come, first served: a key's :attr:`~licensekit.model.LicenseKey.seats_used`
counts its active installations, an activation that needs a seat is refused with
:class:`~licensekit.exceptions.SeatsFull` when none is free (as read by :func:`activate`, or
as the store's guarded counter finds when it claims the seat), and a deactivation frees one
at once. A computer that already holds a seat keeps it when it activates again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import attrs

from licensekit.domain._construct import deferred
from licensekit.domain._echo import echo
from licensekit.domain._replace import replacer
from licensekit.domain.model import (
    Installation,
    InstallationStatus,
    InstallInvitation,
    KeyStatus,
    LicenseKey,
    LicenseState,
    Membership,
    Role,
    Throttle,
)
from licensekit.domain.throttling import (
    GuessVerdict,
    ThrottlePolicy,
    judge_guess,
    locked_until,
    record_failure,
)
from licensekit.exceptions import (
    ActivationCodeExpired,
    ActivationCodeRevoked,
    ActivationCodeUsedUp,
    ActivationCodeWrongProduct,
    ComputerAlreadyActivated,
    ComputerBlocked,
    ConflictError,
    InvitationAlreadyAccepted,
    InvitationExpired,
    InvitationRevoked,
    LicenseKeyUnavailable,
    LicenseKitError,
    SeatsFull,
    SeatsInUse,
    TooManyAttempts,
    ValidationError,
)

__all__ = [
    "MAX_SEATS",
    "NOT_THE_CODES_FAULT",
    "Activation",
    "Refusal",
    "activate",
    "change_expiry",
    "change_grant",
    "change_grants",
    "change_seats",
    "check_code_usable",
    "check_key_invitable",
    "check_key_usable",
    "check_not_removed",
    "check_resendable",
    "check_seats",
    "clears_code_throttle",
    "code_throttle_key",
    "deactivate",
    "end_installation",
    "forget_computer",
    "invitation_warnings",
    "is_returning",
    "key_usable",
    "mask_key_value",
    "refuse_activation",
    "remove_key",
    "resume_key",
    "revoke_install_invitation",
    "seats_full",
    "suspend_key",
]

MAX_SEATS = 10_000_000
"""The largest seat count a key may have."""


def check_seats(seats: object) -> int:
    """Return *seats* if it is a whole number from 1 to :data:`MAX_SEATS`.

    Raises:
        ValidationError: It is not.
    """
    if isinstance(seats, bool) or not isinstance(seats, int):
        raise ValidationError(f"seats must be a whole number, got {echo(seats)}")
    if not 1 <= seats <= MAX_SEATS:
        raise ValidationError(f"seats must be between 1 and {MAX_SEATS}, got {seats}")
    return seats


def mask_key_value(value: str) -> str:
    """Hide every letter and digit of a key's value but the last four, keeping separators.

    ``ABCD-EFGH-IJKL-MNOP`` becomes ``****-****-****-MNOP``; a value of eight characters or
    fewer is hidden whole, so that the mask never shows half of a short key.
    """
    alnum = sum(ch.isalnum() for ch in value)
    keep = 4 if alnum > 8 else 0
    shown = 0
    out: list[str] = []
    for ch in reversed(value):
        if ch.isalnum():
            out.append(ch if shown < keep else "*")
            shown += 1
        else:
            out.append(ch)
    return "".join(reversed(out))


def check_not_removed(key: LicenseKey) -> None:
    """Refuse to change a removed key (resume it first).

    Raises:
        ConflictError: *key* was removed.
    """
    if key.status is KeyStatus.REMOVED:
        raise ConflictError(f"license key {key.id!r} has been removed")


def change_seats(key: LicenseKey, seats: int, *, now: dt.datetime) -> LicenseKey:
    """Return *key* with *seats* seats.

    Raises:
        ValidationError: *seats* is not a whole number in range.
        SeatsInUse: More installations are active than *seats*; deactivate some first.
        ConflictError: The key was removed.
    """
    seats = check_seats(seats)
    check_not_removed(key)
    if seats < key.seats_used:
        raise SeatsInUse(
            f"license key {key.id!r} has {key.seats_used} active installations; it cannot "
            f"have fewer seats ({seats}) until some are deactivated"
        )
    return attrs.evolve(key, seats=seats, updated_at=now)


def change_expiry(
    key: LicenseKey, expires_at: dt.datetime | None, *, now: dt.datetime
) -> LicenseKey:
    """Return *key* expiring at *expires_at* (None: never).

    Raises:
        ValidationError: *expires_at* is not in the future (suspend the key instead).
        ConflictError: The key was removed.
    """
    check_not_removed(key)
    if expires_at is not None and expires_at <= now:
        raise ValidationError(
            "a license key's expiry must be in the future; to stop activations now, suspend it",
            field="expires_at",
        )
    return attrs.evolve(key, expires_at=expires_at, updated_at=now)


def suspend_key(key: LicenseKey, *, now: dt.datetime) -> LicenseKey:
    """Return *key* suspended: no new activations; existing installations keep their seats.

    Raises:
        ConflictError: The key is not active.
    """
    if key.status is not KeyStatus.ACTIVE:
        raise ConflictError(f"license key {key.id!r} is {key.status.value}, not active")
    return attrs.evolve(key, status=KeyStatus.SUSPENDED, updated_at=now)


def resume_key(key: LicenseKey, *, now: dt.datetime) -> LicenseKey:
    """Return a suspended or removed *key* active again.

    Raises:
        ConflictError: The key is active already.
    """
    if key.status is KeyStatus.ACTIVE:
        raise ConflictError(f"license key {key.id!r} is active already")
    return attrs.evolve(key, status=KeyStatus.ACTIVE, updated_at=now)


def remove_key(key: LicenseKey, *, now: dt.datetime) -> LicenseKey:
    """Return *key* removed; its invitations and codes stop working while it is.

    A removed key leaves the listings; :func:`resume_key` brings it back.

    Raises:
        SeatsInUse: The key still has active installations; deactivate them first.
        ConflictError: The key was removed already.
    """
    check_not_removed(key)
    if key.seats_used:
        raise SeatsInUse(
            f"license key {key.id!r} still has {key.seats_used} active installations; "
            "deactivate them before removing the key"
        )
    return attrs.evolve(key, status=KeyStatus.REMOVED, updated_at=now)


def key_usable(key: LicenseKey, now: dt.datetime) -> bool:
    """True when computers can activate with *key* at *now* (see :func:`check_key_usable`)."""
    return key.status is KeyStatus.ACTIVE and (key.expires_at is None or now < key.expires_at)


def check_key_usable(key: LicenseKey, now: dt.datetime) -> None:
    """Raise unless computers can activate with *key* at *now*.

    Raises:
        LicenseKeyUnavailable: The key is suspended, removed or expired.
    """
    if key.status is not KeyStatus.ACTIVE:
        raise LicenseKeyUnavailable(
            f"the license behind this code is {key.status.value}; contact your administrator"
        )
    if key.expires_at is not None and now >= key.expires_at:
        raise LicenseKeyUnavailable(
            f"the license behind this code expired on {key.expires_at.isoformat()}; "
            "contact your administrator"
        )


def check_key_invitable(key: LicenseKey, now: dt.datetime) -> None:
    """Raise unless installers may be invited (or their invitations sent) with *key* at *now*.

    Raises:
        ConflictError: The key is suspended, removed or expired.
    """
    if key.status is not KeyStatus.ACTIVE:
        raise ConflictError(f"license key {key.id!r} is {key.status.value}; no invitations")
    if key.expires_at is not None and now >= key.expires_at:
        raise ConflictError(
            f"license key {key.id!r} expired on {key.expires_at.isoformat()}; no invitations"
        )


def invitation_warnings(key: LicenseKey, invited: int, expires_at: dt.datetime) -> tuple[str, ...]:
    """Return what an administrator should know about *invited* new invitations to *key*.

    More invitations than free seats is allowed (seats go first come, first served), and so
    are codes that outlive the key; both are worth a warning.
    """
    warnings: list[str] = []
    if invited > key.seats_free:
        warnings.append(
            f"{invited} invitations for {key.seats_free} free seats of key {key.id!r}: "
            "activations are first come, first served, and the rest will be refused "
            "until seats are freed or added"
        )
    if invited and key.expires_at is not None and expires_at > key.expires_at:
        warnings.append(
            f"the codes work until {expires_at.isoformat()}, but license key {key.id!r} "
            f"expires on {key.expires_at.isoformat()}; after that they activate nothing"
        )
    return tuple(warnings)


def change_grant(membership: Membership, key: LicenseKey, *, grant: bool) -> frozenset[str]:
    """Return the keys *membership* administers once its grant over *key* is given or ended.

    Only an active Regular Member can be made License Administrator, of a key not removed.

    Raises:
        ConflictError: Granting to a member who is not an active Regular Member, who holds
            the grant already, or over a removed key; revoking a grant the member does not
            hold.
    """
    user_id, key_id = membership.user_id, key.id
    if not grant:
        if key_id not in membership.license_keys:
            raise ConflictError(f"user {user_id!r} is not License Administrator of key {key_id!r}")
        return membership.license_keys - {key_id}
    if key.status is KeyStatus.REMOVED:
        raise ConflictError(f"license key {key_id!r} has been removed")
    if not membership.is_active or membership.role is not Role.REGULAR_MEMBER:
        raise ConflictError(
            f"only an active Regular Member can be made License Administrator; "
            f"user {user_id!r} is {membership.status.value}, {membership.role.value}"
        )
    if key_id in membership.license_keys or membership.all_license_keys:
        raise ConflictError(f"user {user_id!r} is License Administrator of key {key_id!r} already")
    return membership.license_keys | {key_id}


def change_grants(
    membership: Membership,
    keys: Sequence[LicenseKey],
    *,
    grant: bool,
    all_keys: bool,
) -> tuple[Membership, tuple[str, ...]]:
    """Return *membership* once its grants over *keys*, or over every key, are given or ended.

    Granting: keys already granted are left as they are; only an active Regular Member can
    be granted, and only keys that are not removed. Revoking: every key named must be
    granted. Exactly one of *keys* and *all_keys* is given.

    Returns:
        The membership and the ids whose grant changed (empty for *all_keys*).

    Raises:
        ValidationError: Neither or both of *keys* and *all_keys*.
        ConflictError: Nothing would change, a removed key, a member who is not an active
            Regular Member, or a key revoked that the member does not hold (or holds only
            through a grant over every key).
    """
    user_id = membership.user_id
    if all_keys == bool(keys):
        raise ValidationError("name the keys, or ask for all_keys=True, not both")
    if grant and (not membership.is_active or membership.role is not Role.REGULAR_MEMBER):
        raise ConflictError(
            f"only an active Regular Member can be made License Administrator; "
            f"user {user_id!r} is {membership.status.value}, {membership.role.value}"
        )
    if all_keys:
        if membership.all_license_keys == grant:
            state = "already" if grant else "not"
            raise ConflictError(f"user {user_id!r} is {state} License Administrator of every key")
        return attrs.evolve(membership, all_license_keys=grant), ()
    ids = [key.id for key in keys]
    if grant:
        removed = [key.id for key in keys if key.status is KeyStatus.REMOVED]
        if removed:
            raise ConflictError(f"license keys {removed!r} have been removed")
        new = sorted(set(ids) - membership.license_keys)
        if not new or membership.all_license_keys:
            raise ConflictError(f"user {user_id!r} is License Administrator of those keys already")
        return attrs.evolve(membership, license_keys=membership.license_keys | set(new)), tuple(new)
    missing = sorted(set(ids) - membership.license_keys)
    if missing:
        through_all = (
            " (only through a grant over every key)" if membership.all_license_keys else ""
        )
        raise ConflictError(
            f"user {user_id!r} is not License Administrator of keys {missing!r}{through_all}"
        )
    gone = tuple(sorted(set(ids)))
    return attrs.evolve(membership, license_keys=membership.license_keys - set(ids)), gone


def check_code_usable(
    invitation: InstallInvitation, now: dt.datetime, *, new_computer: bool = True
) -> None:
    """Raise unless *invitation*'s code may activate a computer at *now*.

    Args:
        invitation: The invitation the code belongs to.
        now: The current time.
        new_computer: False when the computer activated with this code before (it may
            activate again without using up another of the code's activations).

    Raises:
        ActivationCodeRevoked: The invitation was revoked.
        ActivationCodeExpired: The invitation has expired.
        ActivationCodeUsedUp: A new computer, and the code has no activations left.
    """
    if invitation.revoked_at is not None:
        raise ActivationCodeRevoked(
            "this activation code was revoked by your administrator; ask them for a new one"
        )
    if invitation.expired(now):
        raise ActivationCodeExpired(
            f"this activation code expired on {invitation.expires_at.isoformat()}; "
            "ask your administrator for a new invitation"
        )
    if new_computer and invitation.activations >= invitation.max_activations:
        raise ActivationCodeUsedUp(
            f"this activation code has already activated {invitation.activations} "
            f"computer{'s' if invitation.activations != 1 else ''}, as many as it allows"
        )


def revoke_install_invitation(
    invitation: InstallInvitation, *, actor_id: str, now: dt.datetime
) -> InstallInvitation:
    """Return *invitation* revoked: its code and link stop working at once.

    Installations already made with it keep their seats.

    Raises:
        InvitationRevoked: It was revoked already.
    """
    if invitation.revoked_at is not None:
        raise InvitationRevoked(f"invitation {invitation.id!r} was revoked already")
    return attrs.evolve(invitation, revoked_at=now, revoked_by=actor_id)


def is_returning(
    invitation: InstallInvitation, existing: Installation | None, computer_id: str
) -> bool:
    """True when *computer_id* may activate with *invitation* without using an activation.

    That is a computer that activated with it and was not deactivated by an administrator
    since (it is in :attr:`~licensekit.model.InstallInvitation.computer_ids`), or one whose
    installation, made with it, is active.
    """
    return computer_id in invitation.computer_ids or (
        existing is not None and existing.is_active and existing.invitation_id == invitation.id
    )


def check_resendable(invitation: InstallInvitation, now: dt.datetime) -> None:
    """Raise unless *invitation*'s email is worth sending (again) at *now*.

    These are the administrator's errors, unlike :func:`check_code_usable`'s, which are
    the installer's.

    Raises:
        InvitationRevoked: It was revoked.
        InvitationAlreadyAccepted: Its code has activated as many computers as it allows.
        InvitationExpired: It has expired.
    """
    if invitation.revoked_at is not None:
        raise InvitationRevoked(f"invitation {invitation.id!r} was revoked; invite again")
    if invitation.activations >= invitation.max_activations:
        raise InvitationAlreadyAccepted(
            f"invitation {invitation.id!r} has activated all {invitation.max_activations} "
            "computers it allows; invite again for another computer"
        )
    if invitation.expired(now):
        raise InvitationExpired(
            f"invitation {invitation.id!r} expired on {invitation.expires_at.isoformat()}; "
            "invite again"
        )


@attrs.frozen
class Activation:
    """The records an activation changes, as :func:`activate` decided.

    The seat is not among the records: a store claims it with its guarded counter, which
    may still refuse it. :attr:`key` says what the key holds once it is claimed.

    Attributes:
        key_as_read: The key as :func:`activate` was given it.
        invitation: The invitation, with the activation counted for a new computer.
        installation: The installation, new or reactivated, or refreshed when the computer
            held a seat already.
        is_new: True when the installation record did not exist before.
        seat_taken: False when the computer already held a seat.
    """

    key_as_read: LicenseKey
    invitation: InstallInvitation
    installation: Installation
    is_new: bool
    seat_taken: bool

    @property
    def key(self) -> LicenseKey:
        """The key with the seat counted, when one was taken (made when asked for)."""
        if not self.seat_taken:
            return self.key_as_read
        return attrs.evolve(self.key_as_read, seats_used=self.key_as_read.seats_used + 1)


_replace_invitation = replacer(InstallInvitation)
_replace_installation = replacer(Installation)
# As the classes themselves, quicker (see _construct), compiled on the first activation.
_new_installation: Callable[..., Installation] = deferred(
    Installation, globals(), "_new_installation"
)
_new_activation: Callable[..., Activation] = deferred(Activation, globals(), "_new_activation")


def activate(
    *,
    key: LicenseKey,
    invitation: InstallInvitation,
    existing: Installation | None,
    blocked: bool,
    computer_id: str,
    computer_name: str,
    product: str | None,
    installation_id: str,
    token_hash: bytes,
    now: dt.datetime,
) -> Activation:
    """Decide an activation of *computer_id* with *invitation*'s code on *key*.

    Checks, in order: the code (revoked, expired), the product, the key (suspended,
    removed, expired), the code's remaining activations (see :func:`is_returning`), the
    computer (blocked, or holding a seat through another invitation), then, unless the
    computer holds a seat already, a free seat. A computer that holds a seat through this
    invitation keeps it and takes no other.

    Args:
        key: The key the invitation belongs to.
        invitation: The invitation whose code or token was presented.
        existing: The installation of *computer_id* under *key*, if there ever was one.
        blocked: Whether *computer_id* is blocked in the key's account.
        computer_id: The computer's identifier.
        computer_name: The computer's name.
        product: The product the installer is activating, when it says; must be the key's.
        installation_id: The id to give a new installation.
        token_hash: Keyed hash of the installation token handed to the installer.
        now: The current time.

    Raises:
        ActivationCodeRevoked: see :func:`check_code_usable`.
        ActivationCodeExpired: see :func:`check_code_usable`.
        ActivationCodeWrongProduct: *product* is not the key's product.
        LicenseKeyUnavailable: see :func:`check_key_usable`.
        ActivationCodeUsedUp: A new computer for a code with no activations left.
        ComputerBlocked: The computer is blocked in the account.
        ComputerAlreadyActivated: The computer holds a seat through another invitation.
        SeatsFull: Every seat is taken.
    """
    check_code_usable(invitation, now, new_computer=False)
    if product is not None and product.casefold() != key.product.casefold():
        raise ActivationCodeWrongProduct(
            f"this activation code is for {key.product!r}, not for {echo(product)}"
        )
    check_key_usable(key, now)
    returning = is_returning(invitation, existing, computer_id)
    # A used-up code is refused before anything about the computer is said, so that it
    # cannot be used to probe which computers are blocked or activated. (Revoked and expired
    # codes were refused above: only the count is left to check.)
    if not returning and invitation.activations >= invitation.max_activations:
        check_code_usable(invitation, now, new_computer=True)
    if blocked:
        raise ComputerBlocked(
            f"computer {computer_id!r} is blocked from activating this license; "
            "contact your administrator"
        )
    if existing is not None and existing.is_active and existing.invitation_id != invitation.id:
        raise ComputerAlreadyActivated(
            f"computer {computer_id!r} is already activated with another invitation; an "
            "administrator must deactivate it before another code can be used on it"
        )
    if not returning:
        counted = _replace_invitation(
            invitation,
            activations=invitation.activations + 1,
            computer_ids=(*invitation.computer_ids, computer_id),
            last_activated_at=now,
        )
    else:
        counted = _replace_invitation(invitation, last_activated_at=now)
    if existing is not None and existing.is_active:
        refreshed = _replace_installation(
            existing, computer_name=computer_name, last_seen_at=now, token_hash=token_hash
        )
        return _new_activation(key, counted, refreshed, is_new=False, seat_taken=False)
    if key.seats_used >= key.seats:
        raise seats_full(key)
    if existing is None:
        installation = _new_installation(
            id=installation_id,
            account_id=key.account_id,
            key_id=key.id,
            computer_id=computer_id,
            computer_name=computer_name,
            email=invitation.email,
            invitation_id=invitation.id,
            activated_at=now,
            last_seen_at=now,
            token_hash=token_hash,
        )
    else:
        installation = _replace_installation(
            existing,
            computer_name=computer_name,
            email=invitation.email,
            invitation_id=invitation.id,
            activated_at=now,
            last_seen_at=now,
            token_hash=token_hash,
            status=InstallationStatus.ACTIVE,
            deactivated_at=None,
            deactivated_by=None,
            last_state=LicenseState.ACTIVE,  # what the installer is told now
        )
    return _new_activation(
        key_as_read=key,
        invitation=counted,
        installation=installation,
        is_new=existing is None,
        seat_taken=True,
    )


def seats_full(key: LicenseKey) -> SeatsFull:
    """Return the refusal of an activation that needs one of *key*'s seats when none is free.

    :func:`activate` raises it when the key as read has no free seat; a store's guarded seat
    counter may still refuse the seat afterwards (another activation took it meanwhile), and
    the activation is then refused the same way.
    """
    return SeatsFull(
        f"all {key.seats} seats of this license are in use; ask your administrator to "
        "free one (first come, first served)",
        seats=key.seats,
    )


def deactivate(
    key: LicenseKey, installation: Installation, *, actor_id: str, now: dt.datetime
) -> tuple[LicenseKey, Installation]:
    """Return *key* and *installation* after the installation releases its seat.

    A culled installation holds none to release.

    Raises:
        ConflictError: The installation was deactivated already.
    """
    released = 1 if installation.is_active else 0
    return (
        attrs.evolve(key, seats_used=max(key.seats_used - released, 0)),
        end_installation(installation, actor_id=actor_id, now=now),
    )


def end_installation(
    installation: Installation, *, actor_id: str, now: dt.datetime
) -> Installation:
    """Return *installation* deactivated by *actor_id* at *now*; its key's seat is then free.

    The use cases release the seat with the store's guarded counter (one less in use), so
    that a deactivation never waits for activations of other computers. A culled
    installation holds no seat, but may still take one back by checking in; deactivating it
    ends that (and its computer's claim on its code, as for an active one).

    Raises:
        ConflictError: The installation was deactivated already.
    """
    if installation.status is InstallationStatus.DEACTIVATED:
        raise ConflictError(f"installation {installation.id!r} is deactivated already")
    return attrs.evolve(
        installation,
        status=InstallationStatus.DEACTIVATED,
        deactivated_at=now,
        deactivated_by=actor_id,
    )


def forget_computer(invitation: InstallInvitation, computer_id: str) -> InstallInvitation:
    """Return *invitation* without *computer_id* among the computers that may come back.

    Called when an administrator deactivates or blocks the computer: the activation it used
    stays counted, so with a one-computer code the person needs a new invitation, and the
    freed seat goes to whoever activates next rather than straight back to that computer.
    """
    if computer_id not in invitation.computer_ids:
        return invitation
    return attrs.evolve(
        invitation, computer_ids=tuple(c for c in invitation.computer_ids if c != computer_id)
    )


def code_throttle_key(invitation_id: str) -> str:
    """Return the key counting refusals of an invitation's code for the code's own sake."""
    return f"activation:invitation:{invitation_id}"


NOT_THE_CODES_FAULT = (SeatsFull, LicenseKeyUnavailable, ComputerBlocked, ComputerAlreadyActivated)
"""Refusals about the seats, the key or the computer: they never count against a code."""


@attrs.frozen
class Refusal:
    """What to answer to a refused activation and what to write, as decided.

    Made by :func:`refuse_activation`.

    Attributes:
        error: What the installer is told.
        throttle: The code's throttle record to store, or None to store nothing.
        audited: Whether the refusal goes into the account's audit trail.
    """

    error: LicenseKitError
    throttle: Throttle | None
    audited: bool


def refuse_activation(
    refusal: LicenseKitError,
    *,
    returning: bool,
    throttle: Throttle | None,
    key: str,
    policy: ThrottlePolicy,
    now: dt.datetime,
) -> Refusal:
    """Decide the bookkeeping of an activation that :func:`activate` (or a full seat) refused.

    A refusal for the code's own sake (revoked, expired, used up, another product) counts on
    the code's throttle (record *key*, now *throttle*) and goes into the audit trail; once
    the code is locked, such a refusal is answered with
    :class:`~licensekit.exceptions.TooManyAttempts` and records nothing. Full seats, an
    unavailable key, a blocked or already activated computer are not the code's fault, nor
    is anything a computer *returning* to its code meets (see :func:`is_returning`): these
    never count and are told whatever the lock, so an installer may retry until a seat is
    freed, one computer retrying a shared code never locks it for the others, and a
    computer is never locked out of its own code.
    """
    blameless = returning or isinstance(refusal, NOT_THE_CODES_FAULT)
    verdict = judge_guess(throttle, now, found=blameless)
    until = locked_until(throttle, now)
    if verdict is GuessVerdict.REFUSE and until is not None:  # REFUSE means locked
        return Refusal(TooManyAttempts("this activation code", until), None, audited=False)
    if verdict is GuessVerdict.RECORD_FAILURE:
        counted = record_failure(throttle, key=key, now=now, policy=policy)
        return Refusal(refusal, counted, audited=True)
    return Refusal(refusal, None, audited=True)


def clears_code_throttle(throttle: Throttle | None, now: dt.datetime) -> bool:
    """True when a successful activation ends the count of its code's refusals.

    A success clears the count, but not a lock in force (which only refuses the code's own
    faults, never a computer returning to it or a valid new activation).
    """
    return throttle is not None and locked_until(throttle, now) is None
