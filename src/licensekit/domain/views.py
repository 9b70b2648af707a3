"""What use cases hand back to callers: views of the records, never a hash or ciphertext.

A bearer token a caller must keep (:attr:`Session.token`) is marked with
:data:`~licensekit.domain.records.SECRET`, so that :mod:`licensekit.serialization` leaves it
out of plain data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Generic, TypeVar

import attrs

from licensekit.domain._pickling import picklable_mappings
from licensekit.domain.records import (
    SECRET,
    DeliveryStatus,
    Installation,
    InstallationStatus,
    InstallInvitation,
    InstallInvitationState,
    InvitationState,
    JoinInvitation,
    KeyStatus,
    MemberStatus,
    Role,
    SeatPool,
    SessionMethod,
    User,
    frozen_mapping,
)

__all__ = [
    "InstallInvitationView",
    "InstallationView",
    "JoinInvitationView",
    "LicenseKeyView",
    "MemberView",
    "Page",
    "SeatPoolView",
    "Session",
    "UserView",
]

T = TypeVar("T")


@attrs.frozen
class UserView:
    """A personal account as handed to callers: no password hash.

    Attributes:
        id: Stable identifier.
        email: Normalised address.
        name: Display name.
        created_at: When the account was made.
        email_verified_at: When the address was first proven; None while it is not.
        has_password: False for an account that signs in only through the host or an emailed
            link until a password is chosen.
    """

    id: str
    email: str
    name: str
    created_at: dt.datetime
    email_verified_at: dt.datetime | None
    has_password: bool

    @property
    def email_verified(self) -> bool:
        """True once the owner of the address has proven it."""
        return self.email_verified_at is not None

    @classmethod
    def of(cls, user: User) -> UserView:
        """Return the view of *user*."""
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            created_at=user.created_at,
            email_verified_at=user.email_verified_at,
            has_password=user.password_hash is not None,
        )


@picklable_mappings
@attrs.frozen
class Session:
    """A logged-in session handed to the caller.

    Pass it (or just its :attr:`token`) to every use case that needs a caller. The token is
    shown here once and stored only as a keyed hash; keep it secret, like a password.

    Attributes:
        token: The bearer token (hidden from ``repr`` and left out of
            :func:`licensekit.serialization.unstructure`; read it by name).
        id: Identifier of the session, safe to log.
        user_id: Who is logged in.
        email: Their email address.
        method: How the session was obtained.
        issued_at: When it was issued.
        expires_at: When it stops working.
        roles: The role held in each active membership at issue time, for display. It is
            a snapshot: what the session may do is decided on every call (see
            :class:`SessionRecord`), and :meth:`~licensekit.LicenseKit.list_my_accounts`
            tells the current roles and the ones this session acts with.
        email_verified: Whether the user's address was proven when the session was issued.
            A host may keep an unproven account to a "confirm your address" page.
    """

    token: str = attrs.field(repr=False, metadata=SECRET)
    id: str
    user_id: str
    email: str
    method: SessionMethod
    issued_at: dt.datetime
    expires_at: dt.datetime
    roles: Mapping[str, Role] = attrs.field(factory=dict, converter=frozen_mapping, hash=False)
    email_verified: bool = False


@attrs.frozen
class MemberView:
    """A member as listed to an administrator."""

    user_id: str
    email: str
    name: str
    role: Role
    status: MemberStatus
    joined_at: dt.datetime
    updated_at: dt.datetime
    changed_by: str | None
    notes: str
    license_keys: tuple[str, ...] = ()
    """Ids of the keys the member is License Administrator of, sorted."""
    all_license_keys: bool = False
    """True when the member is License Administrator of every key of the account."""
    notice: DeliveryStatus | None = None
    """Only in the view a change returns (:meth:`~licensekit.LicenseKit.block_member`,
    :meth:`~licensekit.LicenseKit.remove_member`, :meth:`~licensekit.LicenseKit.change_role`):
    how the email telling the member went (``sent``, ``failed`` or ``refused``); None when
    no email was sent, and always in listings. A failed email never undoes the change."""


@attrs.frozen
class JoinInvitationView:
    """A join invitation as listed to an administrator (no token, no hash)."""

    id: str
    account_id: str
    email: str
    language: str
    state: InvitationState
    invited_by: str
    created_at: dt.datetime
    expires_at: dt.datetime
    sent_count: int
    last_sent_at: dt.datetime | None
    accepted_at: dt.datetime | None
    revoked_at: dt.datetime | None
    delivery: DeliveryStatus = DeliveryStatus.NOT_SENT
    delivery_attempts: int = 0
    delivery_error: str = ""

    @classmethod
    def of(cls, invitation: JoinInvitation, now: dt.datetime) -> JoinInvitationView:
        """Return the view of *invitation* as it stands at *now*."""
        return cls(
            id=invitation.id,
            account_id=invitation.account_id,
            email=invitation.email,
            language=invitation.language,
            state=invitation.state(now),
            invited_by=invitation.invited_by,
            created_at=invitation.created_at,
            expires_at=invitation.expires_at,
            sent_count=invitation.sent_count,
            last_sent_at=invitation.last_sent_at,
            accepted_at=invitation.accepted_at,
            revoked_at=invitation.revoked_at,
            delivery=invitation.delivery,
            delivery_attempts=invitation.delivery_attempts,
            delivery_error=invitation.delivery_error,
        )


@attrs.frozen
class LicenseKeyView:
    """A license key as listed to its administrators.

    Attributes:
        masked_value: The secret value with all but its last four characters hidden, for
            Account Administrators; None for License Administrators, who never see it.
        seats_free: Seats not held by an active installation.
        grace_period: How long installations keep running after :attr:`expires_at`.
        check_in_interval: How often installations should check in.
        dead_after: After how long without a check-in an installation is culled; None:
            never.
        primary_id: For an additional key, its primary key; None for a primary key.
        seat_pool: For an additional key, whether its seats are reserved or dynamic.
    """

    id: str
    account_id: str
    product: str
    seats: int
    seats_used: int
    seats_free: int
    status: KeyStatus
    expires_at: dt.datetime | None
    created_at: dt.datetime
    masked_value: str | None
    grace_period: dt.timedelta = dt.timedelta(0)
    check_in_interval: dt.timedelta = dt.timedelta(days=1)
    dead_after: dt.timedelta | None = None
    primary_id: str | None = None
    seat_pool: SeatPool | None = None


@attrs.frozen
class SeatPoolView:
    """The seats of a primary key and its additional keys, counted as the guide counts them.

    Attributes:
        key_id: The primary key.
        total: The primary key's seats: the whole pool.
        used: Seats held by active installations, through any key of the pool.
        unused: ``total - used``.
        reserved: Seats reserved keys set aside, used or not.
        reserved_used: Of those, seats held by the reserved keys' installations.
        reserved_available: ``reserved - reserved_used``: free, but only for reserved keys.
        available: Free in the main pool for the primary and its dynamic keys:
            ``total - used - reserved + reserved_used``.
        additional_keys: How many additional keys the primary has (removed ones included).
    """

    key_id: str
    total: int
    used: int
    unused: int
    reserved: int
    reserved_used: int
    reserved_available: int
    available: int
    additional_keys: int


@attrs.frozen
class InstallInvitationView:
    """An invitation to install, as listed to the key's administrators (no code, no token)."""

    id: str
    account_id: str
    key_id: str
    email: str
    language: str
    state: InstallInvitationState
    invited_by: str
    created_at: dt.datetime
    expires_at: dt.datetime
    max_activations: int
    activations: int
    sent_count: int
    last_sent_at: dt.datetime | None
    revoked_at: dt.datetime | None
    delivery: DeliveryStatus = DeliveryStatus.NOT_SENT
    delivery_attempts: int = 0
    delivery_error: str = ""

    @classmethod
    def of(cls, invitation: InstallInvitation, now: dt.datetime) -> InstallInvitationView:
        """Return the view of *invitation* as it stands at *now*."""
        return cls(
            id=invitation.id,
            account_id=invitation.account_id,
            key_id=invitation.key_id,
            email=invitation.email,
            language=invitation.language,
            state=invitation.state(now),
            invited_by=invitation.invited_by,
            created_at=invitation.created_at,
            expires_at=invitation.expires_at,
            max_activations=invitation.max_activations,
            activations=invitation.activations,
            sent_count=invitation.sent_count,
            last_sent_at=invitation.last_sent_at,
            revoked_at=invitation.revoked_at,
            delivery=invitation.delivery,
            delivery_attempts=invitation.delivery_attempts,
            delivery_error=invitation.delivery_error,
        )


@attrs.frozen
class InstallationView:
    """An installation as listed to the key's administrators.

    Attributes:
        last_seen_at: Its last activation or check-in, as recorded (it may lag a check-in
            by a quarter of the key's check-in interval).
        overdue: It is active and has missed its check-in (by the key's interval, plus that
            quarter); known in listings, False elsewhere.
        notes: What administrators wrote about the computer; shown to administrators only
            (empty in a check-in's result, which the installed product receives).
    """

    id: str
    key_id: str
    computer_id: str
    computer_name: str
    email: str
    activated_at: dt.datetime
    last_seen_at: dt.datetime
    status: InstallationStatus
    deactivated_at: dt.datetime | None
    overdue: bool = False
    notes: str = ""

    @classmethod
    def of(
        cls, installation: Installation, *, overdue: bool = False, with_notes: bool = False
    ) -> InstallationView:
        """Return the view of *installation*; its notes only *with_notes* (for administrators)."""
        return cls(
            id=installation.id,
            key_id=installation.key_id,
            computer_id=installation.computer_id,
            computer_name=installation.computer_name,
            email=installation.email,
            activated_at=installation.activated_at,
            last_seen_at=installation.last_seen_at,
            status=installation.status,
            deactivated_at=installation.deactivated_at,
            overdue=overdue,
            notes=installation.notes if with_notes else "",
        )


@attrs.frozen
class Page(Generic[T]):
    """One page of a listing.

    Attributes:
        items: The page's items, in the listing's stable order.
        next_cursor: Pass it back to get the next page; None on the last page.
    """

    items: tuple[T, ...]
    next_cursor: str | None = None
