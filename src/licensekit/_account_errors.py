"""The errors of personal and business accounts: sign-in, members, join invitations, attempts.

Part of :mod:`licensekit.exceptions`, which re-exports and documents every class under its own
name (it sets their ``__module__``): import them from there.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, ClassVar

from licensekit._error_base import (
    AuthenticationError,
    ConflictError,
    LicenseKitError,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from licensekit.domain._echo import echo

__all__ = [
    "AccountNotFound",
    "AlreadyMember",
    "EmailAlreadyRegistered",
    "EmailAlreadyVerified",
    "EmailNotVerified",
    "InvalidCredentials",
    "InvalidEmail",
    "InvalidPassword",
    "InvalidSession",
    "InvalidToken",
    "InvitationAlreadyAccepted",
    "InvitationEmailMismatch",
    "InvitationError",
    "InvitationExpired",
    "InvitationNotFound",
    "InvitationRevoked",
    "LastAdministrator",
    "MemberBlocked",
    "MemberNotFound",
    "TooManyAttempts",
    "UserNotFound",
]


class InvalidEmail(ValidationError):
    """An email address failed validation.

    Attributes:
        email: The text as given.
        reason: Why it was refused, in words a person understands.
    """

    code: ClassVar[str] = "invalid_email"
    http_status: ClassVar[int] = 422

    def __init__(self, email: str, reason: str, *, field: str = "email") -> None:
        super().__init__(f"invalid email address {echo(email)}: {reason}", field=field)
        self.email = email
        self.reason = reason


class InvalidPassword(ValidationError):
    """A new password breaks the password policy (too short or too long)."""

    code: ClassVar[str] = "invalid_password"
    http_status: ClassVar[int] = 422

    def __init__(self, message: str = "", *, field: str = "password") -> None:
        super().__init__(message, field=field)


class UserNotFound(NotFound):
    """No user has that id or email."""

    code: ClassVar[str] = "user_not_found"
    http_status: ClassVar[int] = 404


class AccountNotFound(NotFound):
    """No business account with that id is visible to the caller."""

    code: ClassVar[str] = "account_not_found"
    http_status: ClassVar[int] = 404


class MemberNotFound(NotFound):
    """That user is not a member of the account."""

    code: ClassVar[str] = "member_not_found"
    http_status: ClassVar[int] = 404


class InvitationNotFound(NotFound):
    """No invitation matches the id or token given."""

    code: ClassVar[str] = "invitation_not_found"
    http_status: ClassVar[int] = 404


class InvalidCredentials(AuthenticationError):
    """The email and password do not match a user.

    On log-in the message never says which half was wrong. When accepting an invitation
    the email is the invitation's, so the message says the password was wrong.
    """

    code: ClassVar[str] = "invalid_credentials"
    http_status: ClassVar[int] = 401


class InvalidSession(AuthenticationError):
    """The session token is unknown, logged out or expired."""

    code: ClassVar[str] = "invalid_session"
    http_status: ClassVar[int] = 401


class InvalidToken(AuthenticationError):
    """An emailed link (email verification, password reset) cannot be used.

    Its token is unknown or altered, has expired, was already used, or was made unusable by
    a later change to the account (a new password, a proven address). The message says
    which, except between unknown and altered.

    Its status is 400, not 401: the token is part of the request, not the caller's
    credentials, and a 401 would tell a browser client that its session has ended.
    """

    code: ClassVar[str] = "invalid_token"
    http_status: ClassVar[int] = 400


class TooManyAttempts(LicenseKitError):
    """Too many wrong passwords, codes, tokens or requests, or an hourly limit reached.

    More are refused for a while.

    Args:
        what: What was attempted too often, for the message.
        until: When attempts are accepted again (aware UTC datetime).
        now: The moment the error is made, to count :attr:`retry_after` from. When omitted:
            the moment *until* was read at, when licensekit's throttling read it (see
            :class:`licensekit.throttling.LockEnd`), so that the delay follows the clock of
            the :class:`~licensekit.LicenseKit` that refused; else the system clock.
        message: The whole message instead of "too many failed attempts for *what*", for
            a limit on what succeeds (activations of a key, invitation emails of an account
            per hour): it says which limit and when to try again.

    Attributes:
        until: When attempts are accepted again (aware UTC datetime).
        retry_after: Whole seconds to wait from when the error was made, rounded up and at
            least 1: the value of an HTTP ``Retry-After`` header.
    """

    code: ClassVar[str] = "too_many_attempts"
    http_status: ClassVar[int] = 429

    def __init__(
        self,
        what: str,
        until: dt.datetime,
        *,
        now: dt.datetime | None = None,
        message: str | None = None,
    ) -> None:
        super().__init__(
            message or f"too many failed attempts for {what}; try again after {until.isoformat()}"
        )
        if now is None:
            now = getattr(until, "read_at", None) or dt.datetime.now(dt.UTC)
        self.until = until
        self.retry_after = _seconds_until(until, now)

    def to_dict(self) -> dict[str, Any]:
        """Return the error as the body of an HTTP answer, with ``retry_after`` in seconds."""
        return {**super().to_dict(), "retry_after": self.retry_after}


def _seconds_until(until: dt.datetime, now: dt.datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


class MemberBlocked(PermissionDenied):
    """The member is blocked in this account and can do nothing there."""

    code: ClassVar[str] = "member_blocked"
    http_status: ClassVar[int] = 403


class EmailNotVerified(PermissionDenied):
    """The action needs a user whose address is proven (see :meth:`LicenseKit.verify_email`)."""

    code: ClassVar[str] = "email_not_verified"
    http_status: ClassVar[int] = 403


class EmailAlreadyRegistered(ConflictError):
    """A user with that email already exists."""

    code: ClassVar[str] = "email_already_registered"
    http_status: ClassVar[int] = 409


class EmailAlreadyVerified(ConflictError):
    """The user's address is proven already; there is nothing to verify."""

    code: ClassVar[str] = "email_already_verified"
    http_status: ClassVar[int] = 409


class AlreadyMember(ConflictError):
    """The user already belongs to the account."""

    code: ClassVar[str] = "already_member"
    http_status: ClassVar[int] = 409


class LastAdministrator(ConflictError):
    """The action would leave the account without an active Account Administrator."""

    code: ClassVar[str] = "last_administrator"
    http_status: ClassVar[int] = 409


class InvitationError(LicenseKitError):
    """An invitation cannot be used or changed in its current state."""

    code: ClassVar[str] = "invitation_unusable"
    http_status: ClassVar[int] = 409


class InvitationExpired(InvitationError):
    """The invitation's expiry has passed; invite the person again."""

    code: ClassVar[str] = "invitation_expired"
    http_status: ClassVar[int] = 410


class InvitationRevoked(InvitationError):
    """The invitation was revoked by an administrator."""

    code: ClassVar[str] = "invitation_revoked"
    http_status: ClassVar[int] = 410


class InvitationAlreadyAccepted(InvitationError):
    """The invitation has already been used; it is single use."""

    code: ClassVar[str] = "invitation_already_accepted"
    http_status: ClassVar[int] = 410


class InvitationEmailMismatch(InvitationError, PermissionDenied):
    """The invitation was sent to a different email than the accepting user's.

    The invitation is not gone: it still works for the person it was sent to. The caller is
    identified and is not that person, so this is a refusal (403, and a
    :class:`PermissionDenied`), not a 410 nor a conflict that trying again could resolve.
    """

    code: ClassVar[str] = "invitation_email_mismatch"
    http_status: ClassVar[int] = 403
