"""The domain's stored records and their enums: frozen attrs classes, no I/O.

Stored records (:class:`User`, :class:`BusinessAccount`, :class:`Membership`,
:class:`JoinInvitation`, :class:`SessionRecord`, :class:`AuditEvent`, :class:`Throttle`,
:class:`LicenseKey`, :class:`InstallInvitation`, :class:`Installation`,
:class:`ComputerBlock`) are what a store keeps. Views (:class:`MemberView`,
:class:`JoinInvitationView`, :class:`Session`, :class:`UserView`, :class:`LicenseKeyView`,
:class:`InstallInvitationView`, :class:`InstallationView`) are what use cases hand back to
callers; they never carry a hash, ciphertext or password hash. A bearer token a caller must
keep (:attr:`Session.token`) is marked with :data:`SECRET`, so that
:mod:`licensekit.serialization` leaves it out of plain data.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

import attrs

from licensekit.domain._pickling import picklable_mappings

__all__ = [
    "CULLING_SCOPE",
    "SECRET",
    "AuditAction",
    "AuditEvent",
    "BusinessAccount",
    "ComputerBlock",
    "CullingKey",
    "DeliveryStatus",
    "InstallInvitation",
    "InstallInvitationPhase",
    "InstallInvitationState",
    "Installation",
    "InstallationStatus",
    "InvitationState",
    "JoinInvitation",
    "JoinInvitationPhase",
    "KeyStatus",
    "LicenseKey",
    "LicenseState",
    "MemberStatus",
    "MemberTenure",
    "Membership",
    "Role",
    "SeatPool",
    "SessionMethod",
    "SessionRecord",
    "Throttle",
    "User",
    "frozen_mapping",
]

T = TypeVar("T")

SECRET: Mapping[str, bool] = MappingProxyType({"secret": True})
"""Field metadata of a value handed to a caller that is a live secret (a bearer token).

:func:`licensekit.serialization.unstructure` leaves such fields out, so a host that turns a
result into JSON never sends one by accident; code that needs it reads it by name.
"""


def frozen_mapping(value: Mapping[Any, Any]) -> Mapping[Any, Any]:
    """Return a read-only copy of *value*, so that records stay immutable all the way down."""
    return MappingProxyType(dict(value))


def _string_set(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


def _string_tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


class Role(enum.StrEnum):
    """A member's role in one business account."""

    REGULAR_MEMBER = "regular_member"
    """Every new member starts here; manages nothing."""

    ACCOUNT_ADMINISTRATOR = "account_administrator"
    """Manages everything in the account."""


class MemberStatus(enum.StrEnum):
    """Where a membership stands."""

    ACTIVE = "active"
    BLOCKED = "blocked"
    """Kept, but powerless until unblocked."""
    REMOVED = "removed"
    """The membership has ended; the person can be invited again."""


class MemberTenure(enum.StrEnum):
    """Whether a membership is current or has ended.

    Stores keep it indexed (:attr:`Membership.tenure`), so that a listing of the current
    members (active and blocked) reads one filtered listing, not one per status.
    """

    CURRENT = "current"
    """Active or blocked."""
    FORMER = "former"
    """Removed."""


class InvitationState(enum.StrEnum):
    """The state of an invitation as seen at a given moment."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    REVOKED = "revoked"


class JoinInvitationPhase(enum.StrEnum):
    """The part of a join invitation's state that does not depend on the clock.

    Stores keep it indexed (:attr:`JoinInvitation.phase`), so that a listing by state reads
    only the invitations in that state: an open invitation is pending before its expiry and
    expired from then on, and once a listing has noted its expiry
    (:attr:`JoinInvitation.expiry_noted_at`) it is expired in phase too; the other phases
    are states of their own.
    """

    OPEN = "open"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"
    """Open no longer: a listing noted that its expiry had passed."""


class SessionMethod(enum.StrEnum):
    """How a session was obtained."""

    PASSWORD = "password"  # noqa: S105 - a label, not a password
    INVITATION = "invitation"
    TRUSTED = "trusted"
    """Issued to a user the host authenticated itself (single sign-on)."""
    EMAIL_LINK = "email_link"
    """Issued to whoever opened an emailed link proving the address (email verification)."""


class DeliveryStatus(enum.StrEnum):
    """Where an invitation's email stands."""

    NOT_SENT = "not_sent"
    """No attempt yet (created with ``send=False``, or not sent yet)."""
    SENDING = "sending"
    """A call is handing the email over right now. Other calls leave it alone until
    :attr:`~licensekit.Settings.delivery_claim_timeout` has passed (the sender may have
    died), then it counts as undelivered."""
    SENT = "sent"
    """The last attempt handed the email over."""
    FAILED = "failed"
    """The last attempt failed in a way that may pass (a busy or unreachable server); sending
    the undelivered invitations again retries it."""
    REFUSED = "refused"
    """The last attempt was refused for good (the server rejected the address); retries skip
    it, an explicit resend tries again."""


class AuditAction(enum.StrEnum):
    """What an audit event records."""

    ACCOUNT_CREATED = "account.created"
    INVITATION_CREATED = "invitation.created"
    INVITATION_SENT = "invitation.sent"
    """An invitation's email was sent (again) after it was created."""
    INVITATION_UNDELIVERED = "invitation.undelivered"
    """An invitation's email could not be handed over; ``details`` says why."""
    INVITATION_REVOKED = "invitation.revoked"
    INVITATION_ACCEPTED = "invitation.accepted"
    INVITATION_LIMIT_REACHED = "invitation_limit.reached"
    """A call that would have sent more invitation emails than the account's hourly limit
    allows was refused (:attr:`~licensekit.Settings.invitations_per_account_per_hour`);
    only the first refusal of each hour is recorded. ``details`` holds the limit, the
    emails already sent in the hour and those the call asked for."""
    ROLE_CHANGED = "member.role_changed"
    MEMBER_BLOCKED = "member.blocked"
    MEMBER_UNBLOCKED = "member.unblocked"
    MEMBER_REMOVED = "member.removed"
    MEMBER_LEFT = "member.left"
    LICENSE_KEY_ADDED = "license_key.added"
    LICENSE_KEY_CHANGED = "license_key.changed"
    """Seats or expiry changed; ``details`` holds the old and new values."""
    LICENSE_KEY_SUSPENDED = "license_key.suspended"
    LICENSE_KEY_RESUMED = "license_key.resumed"
    LICENSE_KEY_REMOVED = "license_key.removed"
    LICENSE_KEY_REPLACED = "license_key.replaced"
    """A key was replaced by a new one with a new value (a leaked key rotated); ``details``
    names the new key and counts the installations, invitations and grants it took over."""
    ADDITIONAL_KEY_ADDED = "license_key.additional_added"
    """An additional key was made under a primary; ``details`` names the primary, the pool
    (reserved or dynamic) and the seats."""
    LICENSE_KEY_RELEASED = "license_key.released"
    """A removed or ended additional key gave its seats back to its primary's pool."""
    LICENSE_ADMIN_GRANTED = "license_admin.granted"
    LICENSE_ADMIN_REVOKED = "license_admin.revoked"
    LICENSE_ADMIN_GRANTED_ALL = "license_admin.granted_all"
    """A member was made License Administrator of every key, later ones included."""
    LICENSE_ADMIN_REVOKED_ALL = "license_admin.revoked_all"
    INSTALL_INVITATION_CREATED = "install_invitation.created"
    INSTALL_INVITATION_SENT = "install_invitation.sent"
    INSTALL_INVITATION_UNDELIVERED = "install_invitation.undelivered"
    """An invitation's email could not be handed over; ``details`` says why."""
    INSTALL_INVITATION_REVOKED = "install_invitation.revoked"
    INSTALL_INVITATIONS_EXPORTED = "install_invitation.exported"
    ACTIVATED = "installation.activated"
    """A computer activated; the actor is empty (installers have no session)."""
    ACTIVATION_REFUSED = "installation.refused"
    """A known code was presented but refused (seats full, expired, blocked computer...), or
    the key's hourly limit on activations refused one (only the first refusal of the hour)."""
    DEACTIVATED = "installation.deactivated"
    CULLED = "installation.culled"
    """An installation that stopped checking in lost its seat; the actor is empty."""
    RETURNED = "installation.returned"
    """A culled installation checked in again and took a seat back."""
    INSTALLATIONS_MOVED = "installation.moved"
    """Installations were moved to another key; one event per move, its subject the key
    they left, ``details`` the key they went to and the counts."""
    STATE_SEEN = "installation.state_seen"
    """A check-in told the product of another license state than its last one; ``details``
    holds both."""
    INSTALLATION_EDITED = "installation.edited"
    """An administrator renamed a computer or changed its notes; ``details`` holds the old
    and new values of what changed."""
    INSTALLATIONS_EXPORTED = "installation.exported"
    """An administrator exported a key's or the account's computer list (its first page)."""
    COMPUTER_BLOCKED = "computer.blocked"
    COMPUTER_UNBLOCKED = "computer.unblocked"
    NOTICE_SENT = "notice.sent"
    """A member was told by email of a block, removal or role change."""
    NOTICE_UNDELIVERED = "notice.undelivered"
    """The notice to a member could not be handed over; ``details`` says why."""


@attrs.frozen
class User:
    """A person's personal account.

    Attributes:
        id: Stable identifier.
        email: Normalised, lower-cased email address; unique among users.
        created_at: When the account was made.
        password_hash: Argon2id PHC string, or None for a user who has no password: one who
            signs in only through the host (single sign-on), or whose unproven password was
            discarded when the address was first proven.
        name: Optional display name.
        email_verified_at: When the owner of the address first proved it (an invitation
            link, an email verification or password reset link, or the host vouching); None
            while the account is unproven, which is how anyone could have registered it.
    """

    id: str
    email: str
    created_at: dt.datetime
    password_hash: str | None = attrs.field(default=None, repr=False)
    name: str = ""
    email_verified_at: dt.datetime | None = None

    @property
    def email_verified(self) -> bool:
        """True once the owner of the address has proven it."""
        return self.email_verified_at is not None


@attrs.frozen
class BusinessAccount:
    """A business account: an organisation that owns licenses and has members."""

    id: str
    name: str
    created_at: dt.datetime
    created_by: str
    """Id of the user who created it (its first Account Administrator)."""


@attrs.frozen
class Membership:
    """One user's membership in one business account.

    There is at most one membership per (account, user) pair; a removed member who joins
    again gets the same record back, active and a Regular Member.

    Attributes:
        account_id: The business account.
        user_id: The member.
        role: The member's current role.
        status: Active, blocked or removed.
        joined_at: When the member (last) joined.
        updated_at: When the record last changed.
        changed_by: Who made the last change of role or status (None when the member joined).
        notes: Free text an administrator attached at the last change.
        admin_grant: How many times this member has been made Account Administrator. A
            session remembers the number it saw; only a session issued after the latest
            promotion carries the matching number, so a promotion needs a new log-in.
        license_keys: Ids of the keys this Regular Member is License Administrator of. Any
            change of role or status (demotion, promotion, block, removal) clears them.
        all_license_keys: True when this Regular Member is License Administrator of every
            key of the account, those added later included; cleared as :attr:`license_keys`.
    """

    account_id: str
    user_id: str
    role: Role
    status: MemberStatus
    joined_at: dt.datetime
    updated_at: dt.datetime
    changed_by: str | None = None
    notes: str = ""
    admin_grant: int = 0
    license_keys: frozenset[str] = attrs.field(default=frozenset(), converter=_string_set)
    all_license_keys: bool = False

    @property
    def is_active(self) -> bool:
        """True when the member is neither blocked nor removed."""
        return self.status is MemberStatus.ACTIVE

    @property
    def tenure(self) -> MemberTenure:
        """Current while active or blocked, former once removed."""
        if self.status is MemberStatus.REMOVED:
            return MemberTenure.FORMER
        return MemberTenure.CURRENT

    @property
    def is_active_administrator(self) -> bool:
        """True for an active Account Administrator: the kind an account may never run out of."""
        return self.is_active and self.role is Role.ACCOUNT_ADMINISTRATOR


@attrs.frozen
class JoinInvitation:
    """An invitation for one email address to join a business account.

    The token in the emailed link is stored only as a keyed hash (for look-up) and as
    ciphertext (so the same link can be sent again); neither reveals it without the host's
    secret.

    Attributes:
        sent_count: How many times its email was handed over.
        delivery: How the last attempt to send it went.
        delivery_attempts: How many attempts were made, successful or not.
        delivery_error: Why the last attempt failed (empty after a success).
        delivery_started_at: When the last attempt started.
        expiry_noted_at: When a listing by state found the invitation expired and noted it,
            so that later listings find it among the expired without reading the pending
            ones (None until then). While it is not before :attr:`expires_at` the invitation
            is expired whatever the clock says.
    """

    id: str
    account_id: str
    email: str
    language: str
    invited_by: str
    created_at: dt.datetime
    expires_at: dt.datetime
    token_hash: bytes = attrs.field(repr=False)
    token_ciphertext: bytes = attrs.field(repr=False)
    accepted_at: dt.datetime | None = None
    accepted_by: str | None = None
    revoked_at: dt.datetime | None = None
    revoked_by: str | None = None
    sent_count: int = 0
    last_sent_at: dt.datetime | None = None
    delivery: DeliveryStatus = DeliveryStatus.NOT_SENT
    delivery_attempts: int = 0
    delivery_error: str = ""
    delivery_started_at: dt.datetime | None = None
    expiry_noted_at: dt.datetime | None = None

    @property
    def phase(self) -> JoinInvitationPhase:
        """Accepted, revoked, expired once noted, or open.

        An open invitation is pending until :attr:`expires_at` and expired from then on.
        """
        if self.accepted_at is not None:
            return JoinInvitationPhase.ACCEPTED
        if self.revoked_at is not None:
            return JoinInvitationPhase.REVOKED
        if self.expiry_noted_at is not None and self.expiry_noted_at >= self.expires_at:
            return JoinInvitationPhase.EXPIRED
        return JoinInvitationPhase.OPEN

    def state(self, now: dt.datetime) -> InvitationState:
        """Return the invitation's state at *now*."""
        phase = self.phase
        if phase is JoinInvitationPhase.ACCEPTED:
            return InvitationState.ACCEPTED
        if phase is JoinInvitationPhase.REVOKED:
            return InvitationState.REVOKED
        if phase is JoinInvitationPhase.EXPIRED or now >= self.expires_at:
            return InvitationState.EXPIRED
        return InvitationState.PENDING


@picklable_mappings
@attrs.frozen
class SessionRecord:
    """A logged-in session as the store keeps it (only the token's keyed hash).

    Attributes:
        admin_grants: For each account where the user was an active Account Administrator
            when the session was issued, the membership's :attr:`Membership.admin_grant`
            then. The session acts as administrator only while the membership is still an
            administrator with that same grant: a demotion applies at once, and a later
            promotion (a new grant) shows only in a new session.
    """

    id: str
    token_hash: bytes = attrs.field(repr=False)
    user_id: str
    method: SessionMethod
    issued_at: dt.datetime
    expires_at: dt.datetime
    admin_grants: Mapping[str, int] = attrs.field(
        factory=dict, converter=frozen_mapping, hash=False
    )


@picklable_mappings
@attrs.frozen
class AuditEvent:
    """One entry of an account's audit trail.

    Attributes:
        id: Identifier; ids sort in the order events were recorded within a process.
        account_id: The account the event belongs to.
        at: When it happened.
        actor_id: The user who acted.
        action: What happened.
        subject: What it happened to (a user id or an invitation id).
        details: Extra facts as strings (old and new role, notes, email...).
    """

    id: str
    account_id: str
    at: dt.datetime
    actor_id: str
    action: AuditAction
    subject: str
    details: Mapping[str, str] = attrs.field(factory=dict, converter=frozen_mapping, hash=False)


@attrs.frozen
class Throttle:
    """Failed-attempt bookkeeping for one throttling key (a login email, a token source).

    Attributes:
        key: What is being guessed at, e.g. ``password:ann@example.com``.
        failures: Failures counted in the current window.
        window_started_at: When the current window began.
        expires_at: After this the record means nothing (window over, lock ended) and may
            be deleted.
        locked_until: Attempts are refused until then, when set.
    """

    key: str
    failures: int
    window_started_at: dt.datetime
    expires_at: dt.datetime
    locked_until: dt.datetime | None = None


class SeatPool(enum.StrEnum):
    """Where an additional key's installations take their seats from."""

    RESERVED = "reserved"
    """From the key's own seats, set aside in its primary's pool for this key alone, whether
    used or not."""
    DYNAMIC = "dynamic"
    """From its primary's pool, which the primary and its dynamic keys share, first come,
    first served; the key's own seat count caps how many it may take."""


class KeyStatus(enum.StrEnum):
    """Where a license key stands."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    """No new activations; installations already made keep their seats."""
    REMOVED = "removed"
    """Gone from the account's listings; nothing activates with it until it is resumed."""


@attrs.frozen
class LicenseKey:
    """A license key of a business account, with its seats.

    The key's secret value is kept only as a keyed hash (to refuse the same key twice) and as
    ciphertext bound to the key's id (to show Account Administrators a masked form).

    Attributes:
        id: Stable identifier; safe to show, unlike the value.
        account_id: The business account that owns it.
        product: The product it licenses.
        seats: How many computers may hold an active installation at once.
        seats_used: How many do now; kept in step with the installations by every use case.
        created_at: When it was added.
        created_by: The Account Administrator who added it.
        value_hash: Keyed hash of the normalised secret value.
        value_ciphertext: The secret value, encrypted.
        expires_at: After this, nothing activates with the key; None for no expiry.
        status: Active, suspended or removed.
        updated_at: When seats, expiry, status or liveness last changed.
        grace_seconds: How long after :attr:`expires_at` installations keep running (in
            grace); 0 for none.
        check_in_seconds: How often installations should check in.
        dead_after_seconds: After how long without a check-in an installation is dead and
            may be culled; None: never.
        primary_id: For an additional key, the primary key whose seats it draws on; None
            for a primary key (every key that is not additional).
        seat_pool: For an additional key, whether its seats are reserved or dynamic; None for
            a primary key.
        released_at: For an additional key, when its hold on its primary's pool was given
            back (it expired or was removed); None while it holds it.

    A primary key's :attr:`seats_used` counts the seats taken from its pool: its own
    installations', its dynamic keys' and every seat its reserved keys set aside (used or
    not). A reserved key's counts its own installations; a dynamic key's its own too, each
    of which holds a seat of the primary's pool as well.
    """

    id: str
    account_id: str
    product: str
    seats: int
    seats_used: int
    created_at: dt.datetime
    created_by: str
    value_hash: bytes = attrs.field(repr=False)
    value_ciphertext: bytes = attrs.field(repr=False)
    expires_at: dt.datetime | None = None
    status: KeyStatus = KeyStatus.ACTIVE
    updated_at: dt.datetime | None = None
    grace_seconds: int = 0
    check_in_seconds: int = 86_400
    dead_after_seconds: int | None = None
    primary_id: str | None = None
    seat_pool: SeatPool | None = None
    released_at: dt.datetime | None = None

    @property
    def is_additional(self) -> bool:
        """True for an additional key (one drawing on a primary key's seats)."""
        return self.primary_id is not None

    @property
    def seats_free(self) -> int:
        """Seats not held by an active installation."""
        return max(self.seats - self.seats_used, 0)

    @property
    def grace_period(self) -> dt.timedelta:
        """How long installations keep running after the key's expiry."""
        return dt.timedelta(seconds=self.grace_seconds)

    @property
    def check_in_interval(self) -> dt.timedelta:
        """How often installations should check in."""
        return dt.timedelta(seconds=self.check_in_seconds)

    @property
    def dead_after(self) -> dt.timedelta | None:
        """After how long without a check-in an installation is dead; None: never."""
        if self.dead_after_seconds is None:
            return None
        return dt.timedelta(seconds=self.dead_after_seconds)


class InstallInvitationState(enum.StrEnum):
    """The state of an invitation to install, as seen at a given moment."""

    PENDING = "pending"
    """Created; its email has not been sent (export it, or send it later)."""
    SENT = "sent"
    ACTIVATED = "activated"
    """At least one computer activated with it (and it has not expired with activations
    left, which shows as expired)."""
    EXPIRED = "expired"
    REVOKED = "revoked"


class InstallInvitationPhase(enum.StrEnum):
    """The part of an invitation to install's state that does not depend on the clock.

    Stores keep it indexed (:attr:`InstallInvitation.phase`), so that a listing by state
    reads only the invitations that can be in that state. Revoked and used-up invitations
    keep their state for good (revoked, activated); the others are activated, sent or
    pending until their expiry, and expired from then on, in phase too once a listing has
    noted it (:attr:`InstallInvitation.expiry_noted_at`).
    """

    REVOKED = "revoked"
    USED_UP = "used_up"
    """Every activation it allows was made."""
    EXPIRED = "expired"
    """Expired with activations left, as a listing noted."""
    ACTIVATED = "activated"
    """Some computers activated with it, and more may."""
    SENT = "sent"
    PENDING = "pending"


@attrs.frozen
class InstallInvitation:
    """An invitation for one email address to install a product under one license key.

    It carries a temporary activation code (typed by a person) and a token (inside the
    personal download URL, used by the installer automatically). Both are stored only as
    keyed hashes for look-up and, together, as ciphertext bound to the invitation's id, so
    that the invitation can be exported or sent again.

    Attributes:
        max_activations: How many different computers may activate with it.
        activations: How many different computers have.
        computer_ids: Those computers, in the order they first activated with it; one of
            them may activate again with it without counting as another.
        sent_count: How many times its email was handed over.
        delivery: How the last attempt to send it went.
        delivery_attempts: How many attempts were made, successful or not.
        delivery_error: Why the last attempt failed (empty after a success).
        delivery_started_at: When the last attempt started.
        expiry_noted_at: When a listing by state found the invitation expired and noted it,
            so that later listings find it among the expired without reading the live ones
            (None until then). While it is not before :attr:`expires_at` the invitation is
            expired whatever the clock says.
    """

    id: str
    account_id: str
    key_id: str
    email: str
    language: str
    invited_by: str
    created_at: dt.datetime
    expires_at: dt.datetime
    code_hash: bytes = attrs.field(repr=False)
    token_hash: bytes = attrs.field(repr=False)
    secret_ciphertext: bytes = attrs.field(repr=False)
    max_activations: int = 1
    activations: int = 0
    computer_ids: tuple[str, ...] = attrs.field(default=(), converter=_string_tuple)
    last_activated_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    revoked_by: str | None = None
    sent_count: int = 0
    last_sent_at: dt.datetime | None = None
    delivery: DeliveryStatus = DeliveryStatus.NOT_SENT
    delivery_attempts: int = 0
    delivery_error: str = ""
    delivery_started_at: dt.datetime | None = None
    expiry_noted_at: dt.datetime | None = None

    @property
    def phase(self) -> InstallInvitationPhase:
        """The state the invitation is in before its expiry (:meth:`state` at an earlier time).

        Revoked and used up are for good, and so is expired once noted
        (:attr:`expiry_noted_at`); activated, sent and pending become expired at
        :attr:`expires_at`.
        """
        if self.revoked_at is not None:
            return InstallInvitationPhase.REVOKED
        if self.activations >= self.max_activations:
            return InstallInvitationPhase.USED_UP
        if self._expiry_noted():
            return InstallInvitationPhase.EXPIRED
        if self.activations:
            return InstallInvitationPhase.ACTIVATED
        if self.sent_count:
            return InstallInvitationPhase.SENT
        return InstallInvitationPhase.PENDING

    def state(self, now: dt.datetime) -> InstallInvitationState:
        """Return the invitation's state at *now*."""
        if self.revoked_at is not None:
            return InstallInvitationState.REVOKED
        if self.activations >= self.max_activations:
            return InstallInvitationState.ACTIVATED
        if self.expired(now):
            return InstallInvitationState.EXPIRED
        if self.activations:
            return InstallInvitationState.ACTIVATED
        if self.sent_count:
            return InstallInvitationState.SENT
        return InstallInvitationState.PENDING

    def usable(self, now: dt.datetime) -> bool:
        """True while the code can still activate a new computer."""
        return (
            self.revoked_at is None
            and self.activations < self.max_activations
            and not self.expired(now)
        )

    def expired(self, now: dt.datetime) -> bool:
        """True from :attr:`expires_at` on, and once a listing has noted the expiry."""
        return now >= self.expires_at or self._expiry_noted()

    def _expiry_noted(self) -> bool:
        noted = self.expiry_noted_at
        return noted is not None and noted >= self.expires_at


class InstallationStatus(enum.StrEnum):
    """Where an installation stands."""

    ACTIVE = "active"
    """Holds a seat."""
    DEACTIVATED = "deactivated"
    """Released its seat (by an administrator, or when its computer was blocked)."""
    CULLED = "culled"
    """Lost its seat after it stopped checking in; checking in again soon enough takes a
    seat back (see :meth:`licensekit.LicenseKit.cull_installations`)."""


class LicenseState(enum.StrEnum):
    """Where an installation's license stands, as check-in and certificates say it.

    The first five describe the license key, the last two the installation itself.
    """

    ACTIVE = "active"
    """The license is valid: the product runs."""
    GRACE = "grace"
    """The license has expired but is within its grace period: the product still runs."""
    EXPIRED = "expired"
    """The license has expired (and any grace period has ended)."""
    SUSPENDED = "suspended"
    """An administrator suspended the license key; it may be resumed."""
    REMOVED = "removed"
    """An administrator removed the license key."""
    DEACTIVATED = "deactivated"
    """The installation lost its seat: an administrator deactivated it, or it was culled
    after it stopped checking in (its status says which)."""
    BLOCKED = "blocked"
    """The installation's computer was blocked from this license."""


@attrs.frozen
class Installation:
    """A computer that activated a product under a license key.

    There is at most one installation per (key, computer); a computer that activates again
    after a deactivation gets the same record back, active.

    Attributes:
        computer_id: The identifier the installer reported (hardware id, serial number).
        computer_name: The name the installer reported, for people.
        email: The invitee whose code or link activated it.
        invitation_id: That invitation.
        token_hash: Keyed hash of the installation token the installer keeps for check-ins.
        last_seen_at: The last activation or check-in, as recorded: a check-in writes it
            only when it is older than a quarter of the key's check-in interval.
        deactivated_at: When it lost its seat (deactivated or culled).
        last_state: The license state its product was last told.
        notes: What administrators wrote about the computer.
    """

    id: str
    account_id: str
    key_id: str
    computer_id: str
    computer_name: str
    email: str
    invitation_id: str
    activated_at: dt.datetime
    last_seen_at: dt.datetime
    token_hash: bytes = attrs.field(repr=False)
    status: InstallationStatus = InstallationStatus.ACTIVE
    deactivated_at: dt.datetime | None = None
    deactivated_by: str | None = None
    last_state: LicenseState = LicenseState.ACTIVE
    notes: str = ""

    @property
    def is_active(self) -> bool:
        """True while the installation holds a seat."""
        return self.status is InstallationStatus.ACTIVE


@attrs.frozen
class ComputerBlock:
    """A computer that may not activate in a business account, or under one of its keys.

    An Account Administrator's block covers the whole account (:attr:`key_id` is None); a
    License Administrator's covers the key they manage. A computer may hold one block of each
    scope.

    Attributes:
        key_id: The one key the block covers, or None for every key of the account.
        notes: Why, as the person who blocked it wrote.
    """

    account_id: str
    computer_id: str
    key_id: str | None
    blocked_at: dt.datetime
    blocked_by: str
    notes: str = ""

    @property
    def sort_key(self) -> str:
        """The position in listings: by computer, the account-wide block before key blocks."""
        return f"{self.computer_id}\t{self.key_id or ''}"

    def covers(self, key_id: str, primary_id: str | None = None) -> bool:
        """True when the block stops activations under *key_id*.

        A block of a primary key covers its additional keys too: pass an additional key's
        *primary_id*.
        """
        return self.key_id is None or self.key_id == key_id or self.key_id == primary_id


CULLING_SCOPE = "all"
"""The :attr:`CullingKey.scope` of every key licensekit records: one list for the whole
store."""


@attrs.frozen
class CullingKey:
    """A license key that culls its dead installations, listed for the culling job.

    :meth:`licensekit.LicenseKit.cull_installations` looks for dead installations under the
    keys listed here only; a key is listed while its ``dead_after_seconds`` is set.

    Attributes:
        scope: What the listing is confined to: always :data:`CULLING_SCOPE`, so that all
            such keys, of every business account, are one list.
        key_id: The license key.
        account_id: Its business account.
        since: When the key's culling was last set or changed.
    """

    scope: str
    key_id: str
    account_id: str
    since: dt.datetime
