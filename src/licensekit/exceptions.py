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
    │   ├── InvitationNotFound
    │   ├── LicenseKeyNotFound
    │   └── InstallationNotFound
    ├── AuthenticationError
    │   ├── InvalidCredentials
    │   ├── InvalidSession
    │   ├── InvalidToken
    │   └── TooManyAttempts
    ├── PermissionDenied (PermissionError)
    │   ├── MemberBlocked
    │   └── EmailNotVerified
    ├── ConflictError
    │   ├── EmailAlreadyRegistered
    │   ├── EmailAlreadyVerified
    │   ├── AlreadyMember
    │   ├── LastAdministrator
    │   ├── DuplicateLicenseKey
    │   └── SeatsInUse
    ├── InvitationError
    │   ├── InvitationExpired
    │   ├── InvitationRevoked
    │   ├── InvitationAlreadyAccepted
    │   └── InvitationEmailMismatch
    ├── ActivationError
    │   ├── InvalidActivationCode
    │   │   ├── ActivationCodeNotFound
    │   │   ├── ActivationCodeMistyped (also ValidationError)
    │   │   ├── ActivationCodeExpired
    │   │   ├── ActivationCodeRevoked
    │   │   ├── ActivationCodeUsedUp
    │   │   └── ActivationCodeWrongProduct
    │   ├── LicenseKeyUnavailable
    │   ├── ComputerBlocked
    │   ├── ComputerAlreadyActivated
    │   └── SeatsFull
    ├── DeliveryError
    └── StorageError
        ├── DuplicateKey
        ├── IncompatibleStore
        └── StorageBusy

Tenant isolation shows in the tree: asking about an account you are not a member of, or about
a member, invitation, license key or installation of another account, raises the matching
:class:`NotFound`, never a hint that the object exists elsewhere.

Activation is the one use case called by installers rather than members, so its refusals have
their own branch, :class:`ActivationError`, with one class per reason an installer can act on.
"""

from __future__ import annotations

import datetime as dt

from licensekit._echo import echo

__all__ = [
    "AccountNotFound",
    "ActivationCodeExpired",
    "ActivationCodeMistyped",
    "ActivationCodeNotFound",
    "ActivationCodeRevoked",
    "ActivationCodeUsedUp",
    "ActivationCodeWrongProduct",
    "ActivationError",
    "AlreadyMember",
    "AuthenticationError",
    "ComputerAlreadyActivated",
    "ComputerBlocked",
    "ConflictError",
    "DeliveryError",
    "DuplicateKey",
    "DuplicateLicenseKey",
    "EmailAlreadyRegistered",
    "EmailAlreadyVerified",
    "EmailNotVerified",
    "IncompatibleStore",
    "InstallationNotFound",
    "InvalidActivationCode",
    "InvalidCredentials",
    "InvalidCursor",
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
    "LicenseKeyNotFound",
    "LicenseKeyUnavailable",
    "LicenseKitError",
    "MemberBlocked",
    "MemberNotFound",
    "NotFound",
    "PermissionDenied",
    "SeatsFull",
    "SeatsInUse",
    "StorageBusy",
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
        super().__init__(f"invalid email address {echo(email)}: {reason}")
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


class LicenseKeyNotFound(NotFound):
    """No license key with that id is visible to the caller."""


class InstallationNotFound(NotFound):
    """No installation with that id (or installation token) is visible to the caller."""


class AuthenticationError(LicenseKitError):
    """The caller could not be identified."""


class InvalidCredentials(AuthenticationError):
    """The email and password do not match a user.

    On log-in the message never says which half was wrong. When accepting an invitation
    the email is the invitation's, so the message says the password was wrong.
    """


class InvalidSession(AuthenticationError):
    """The session token is unknown, logged out or expired."""


class InvalidToken(AuthenticationError):
    """An emailed link (email verification, password reset) cannot be used.

    Its token is unknown or altered, has expired, was already used, or was made unusable by
    a later change to the account (a new password, a proven address). The message says
    which, except between unknown and altered.
    """


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


class EmailNotVerified(PermissionDenied):
    """The action needs a user whose address is proven (see :meth:`LicenseKit.verify_email`)."""


class ConflictError(LicenseKitError):
    """The action contradicts the current state."""


class EmailAlreadyRegistered(ConflictError):
    """A user with that email already exists."""


class EmailAlreadyVerified(ConflictError):
    """The user's address is proven already; there is nothing to verify."""


class AlreadyMember(ConflictError):
    """The user already belongs to the account."""


class LastAdministrator(ConflictError):
    """The action would leave the account without an active Account Administrator."""


class DuplicateLicenseKey(ConflictError):
    """The account already holds a license key with the same secret value."""


class SeatsInUse(ConflictError):
    """The change would leave a key with fewer seats than it has active installations."""


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


class ActivationError(LicenseKitError):
    """An installer's activation was refused; the subclass says why."""


class InvalidActivationCode(ActivationError):
    """The temporary activation code or download token cannot be used."""


class ActivationCodeNotFound(InvalidActivationCode):
    """No invitation has that code or token."""


class ActivationCodeMistyped(InvalidActivationCode, ValidationError):
    """The typed code has the wrong length or its check symbol does not match: a typo.

    Detected from the code alone, before any look-up; every single wrong symbol and every
    swap of two neighbouring symbols is caught.
    """


class ActivationCodeExpired(InvalidActivationCode):
    """The invitation that carries the code has expired."""


class ActivationCodeRevoked(InvalidActivationCode):
    """The invitation that carries the code was revoked."""


class ActivationCodeUsedUp(InvalidActivationCode):
    """The code has activated as many computers as it allows."""


class ActivationCodeWrongProduct(InvalidActivationCode):
    """The code belongs to a license key for another product than the one activating."""


class LicenseKeyUnavailable(ActivationError):
    """The license key behind the code is suspended, expired or removed."""


class ComputerBlocked(ActivationError):
    """The computer is blocked from activating in this business account (or under this key)."""


class ComputerAlreadyActivated(ActivationError):
    """The computer holds a seat through another invitation's code.

    Someone else's code cannot take over a running installation; an administrator
    deactivates it first.
    """


class SeatsFull(ActivationError):
    """Every seat of the license key is taken by an active installation.

    Attributes:
        seats: The key's seat count.
    """

    def __init__(self, message: str, *, seats: int) -> None:
        super().__init__(message)
        self.seats = seats


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


class StorageBusy(StorageError):
    """The store stayed locked by other connections for longer than it was willing to wait.

    Nothing was written; the same call can be tried again later.
    """
