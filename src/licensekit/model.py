"""The domain's values: frozen attrs classes and enums, no behaviour that touches I/O.

Stored records (:class:`User`, :class:`BusinessAccount`, :class:`Membership`,
:class:`JoinInvitation`, :class:`SessionRecord`, :class:`AuditEvent`, :class:`Throttle`) are
what a store keeps. Views (:class:`MemberView`, :class:`JoinInvitationView`, :class:`Session`)
are what use cases hand back to callers; they never carry a hash, ciphertext or password hash.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Generic, TypeVar

import attrs

__all__ = [
    "AuditAction",
    "AuditEvent",
    "BusinessAccount",
    "InvitationState",
    "JoinInvitation",
    "JoinInvitationView",
    "MemberStatus",
    "MemberView",
    "Membership",
    "Page",
    "Role",
    "Session",
    "SessionMethod",
    "SessionRecord",
    "Throttle",
    "User",
    "frozen_mapping",
]

T = TypeVar("T")


def frozen_mapping(value: Mapping[Any, Any]) -> Mapping[Any, Any]:
    """Return a read-only copy of *value*, so that records stay immutable all the way down."""
    return MappingProxyType(dict(value))


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


class InvitationState(enum.StrEnum):
    """The state of an invitation as seen at a given moment."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    REVOKED = "revoked"


class SessionMethod(enum.StrEnum):
    """How a session was obtained."""

    PASSWORD = "password"  # noqa: S105 - a label, not a password
    INVITATION = "invitation"
    TRUSTED = "trusted"
    """Issued to a user the host authenticated itself (single sign-on)."""


class AuditAction(enum.StrEnum):
    """What an audit event records."""

    ACCOUNT_CREATED = "account.created"
    INVITATION_CREATED = "invitation.created"
    INVITATION_SENT = "invitation.sent"
    """An invitation's email was sent by :meth:`~licensekit.LicenseKit.resend_join_invitation`."""
    INVITATION_REVOKED = "invitation.revoked"
    INVITATION_ACCEPTED = "invitation.accepted"
    ROLE_CHANGED = "member.role_changed"
    MEMBER_BLOCKED = "member.blocked"
    MEMBER_UNBLOCKED = "member.unblocked"
    MEMBER_REMOVED = "member.removed"
    MEMBER_LEFT = "member.left"


@attrs.frozen
class User:
    """A person's personal account.

    Attributes:
        id: Stable identifier.
        email: Normalised, lower-cased email address; unique among users.
        created_at: When the account was made.
        password_hash: Argon2id PHC string, or None for a user who only signs in through the
            host (single sign-on) and has never chosen a password.
        name: Optional display name.
    """

    id: str
    email: str
    created_at: dt.datetime
    password_hash: str | None = attrs.field(default=None, repr=False)
    name: str = ""


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

    @property
    def is_active(self) -> bool:
        """True when the member is neither blocked nor removed."""
        return self.status is MemberStatus.ACTIVE

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

    def state(self, now: dt.datetime) -> InvitationState:
        """Return the invitation's state at *now*."""
        if self.accepted_at is not None:
            return InvitationState.ACCEPTED
        if self.revoked_at is not None:
            return InvitationState.REVOKED
        if now >= self.expires_at:
            return InvitationState.EXPIRED
        return InvitationState.PENDING


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


@attrs.frozen
class Session:
    """A logged-in session handed to the caller.

    Pass it (or just its :attr:`token`) to every use case that needs a caller. The token is
    shown here once and stored only as a keyed hash; keep it secret, like a password.

    Attributes:
        token: The bearer token (hidden from ``repr``).
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
    """

    token: str = attrs.field(repr=False)
    id: str
    user_id: str
    email: str
    method: SessionMethod
    issued_at: dt.datetime
    expires_at: dt.datetime
    roles: Mapping[str, Role] = attrs.field(factory=dict, converter=frozen_mapping, hash=False)


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
