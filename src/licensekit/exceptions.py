"""Every error licensekit raises for something a caller did.

All of them derive from :class:`LicenseKitError`, so a host can catch the whole family with
one ``except`` clause. Where a builtin exception carries the same meaning it is a second base,
so ``except LookupError`` or ``except PermissionError`` keeps working too::

    LicenseKitError
    ├── ValidationError (ValueError)
    │   ├── InvalidEmail
    │   ├── InvalidPassword
    │   └── InvalidCursor
    ├── NotFound (LookupError)
    │   ├── UserNotFound
    │   ├── AccountNotFound
    │   ├── MemberNotFound
    │   └── InvitationNotFound
    ├── AuthenticationError
    │   ├── InvalidCredentials
    │   ├── InvalidSession
    │   └── TooManyAttempts
    ├── PermissionDenied (PermissionError)
    │   └── MemberBlocked
    ├── ConflictError
    │   ├── EmailAlreadyRegistered
    │   ├── AlreadyMember
    │   └── LastAdministrator
    ├── InvitationError
    │   ├── InvitationExpired
    │   ├── InvitationRevoked
    │   ├── InvitationAlreadyAccepted
    │   └── InvitationEmailMismatch
    ├── DeliveryError
    └── StorageError
        ├── DuplicateKey
        └── IncompatibleStore

Tenant isolation shows in the tree: asking about an account you are not a member of, or about
a member or invitation of another account, raises the matching :class:`NotFound`, never a hint
that the object exists elsewhere.
"""

from __future__ import annotations

import datetime as dt

__all__ = [
    "AccountNotFound",
    "AlreadyMember",
    "AuthenticationError",
    "ConflictError",
    "DeliveryError",
    "DuplicateKey",
    "EmailAlreadyRegistered",
    "IncompatibleStore",
    "InvalidCredentials",
    "InvalidCursor",
    "InvalidEmail",
    "InvalidPassword",
    "InvalidSession",
    "InvitationAlreadyAccepted",
    "InvitationEmailMismatch",
    "InvitationError",
    "InvitationExpired",
    "InvitationNotFound",
    "InvitationRevoked",
    "LastAdministrator",
    "LicenseKitError",
    "MemberBlocked",
    "MemberNotFound",
    "NotFound",
    "PermissionDenied",
    "StorageError",
    "TooManyAttempts",
    "UserNotFound",
    "ValidationError",
]


class LicenseKitError(Exception):
    """The root of every exception licensekit raises for a caller's action."""


class ValidationError(LicenseKitError, ValueError):
    """An argument has the wrong form: an email, a password, a duration, a cursor."""


class InvalidEmail(ValidationError):
    """An email address failed validation.

    Attributes:
        email: The text as given.
        reason: Why it was refused, in words a person understands.
    """

    def __init__(self, email: str, reason: str) -> None:
        super().__init__(f"invalid email address {email!r}: {reason}")
        self.email = email
        self.reason = reason


class InvalidPassword(ValidationError):
    """A new password breaks the password policy (too short or too long)."""


class InvalidCursor(ValidationError):
    """A paging cursor was not one this listing produced."""


class NotFound(LicenseKitError, LookupError):
    """The object does not exist, or it belongs to an account the caller cannot see."""


class UserNotFound(NotFound):
    """No user has that id or email."""


class AccountNotFound(NotFound):
    """No business account with that id is visible to the caller."""


class MemberNotFound(NotFound):
    """That user is not a member of the account."""


class InvitationNotFound(NotFound):
    """No invitation matches the id or token given."""


class AuthenticationError(LicenseKitError):
    """The caller could not be identified."""


class InvalidCredentials(AuthenticationError):
    """The email and password do not match a user.

    On log-in the message never says which half was wrong. When accepting an invitation
    the email is the invitation's, so the message says the password was wrong.
    """


class InvalidSession(AuthenticationError):
    """The session token is unknown, logged out or expired."""


class TooManyAttempts(AuthenticationError):
    """Too many wrong passwords or tokens: further attempts are refused for a while.

    Attributes:
        retry_after: When attempts are accepted again (aware UTC datetime).
    """

    def __init__(self, what: str, retry_after: dt.datetime) -> None:
        super().__init__(
            f"too many failed attempts for {what}; try again after {retry_after.isoformat()}"
        )
        self.retry_after = retry_after


class PermissionDenied(LicenseKitError, PermissionError):
    """The caller is identified but their role does not allow the action."""


class MemberBlocked(PermissionDenied):
    """The member is blocked in this account and can do nothing there."""


class ConflictError(LicenseKitError):
    """The action contradicts the current state."""


class EmailAlreadyRegistered(ConflictError):
    """A user with that email already exists."""


class AlreadyMember(ConflictError):
    """The user already belongs to the account."""


class LastAdministrator(ConflictError):
    """The action would leave the account without an active Account Administrator."""


class InvitationError(LicenseKitError):
    """An invitation cannot be used or changed in its current state."""


class InvitationExpired(InvitationError):
    """The invitation's expiry has passed; invite the person again."""


class InvitationRevoked(InvitationError):
    """The invitation was revoked by an administrator."""


class InvitationAlreadyAccepted(InvitationError):
    """The invitation has already been used; it is single use."""


class InvitationEmailMismatch(InvitationError):
    """The invitation was sent to a different email than the accepting user's."""


class DeliveryError(LicenseKitError):
    """A mailer could not hand a message over for delivery.

    Attributes:
        permanent: True when retrying cannot help (the recipient was refused).
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class StorageError(LicenseKitError):
    """The store failed; adapters convert driver errors into this family."""


class DuplicateKey(StorageError):
    """A write would break a uniqueness rule of the store (same id, email or token hash)."""


class IncompatibleStore(StorageError):
    """The store holds data in a format this version of licensekit cannot use."""
