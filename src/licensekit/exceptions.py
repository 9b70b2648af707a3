"""Every error licensekit raises for something a caller did, and how a web host answers it.

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
    │   └── InvalidToken
    ├── TooManyAttempts
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
    │   └── InvitationEmailMismatch (also PermissionDenied)
    ├── ActivationError
    │   ├── InvalidActivationCode
    │   │   ├── ActivationCodeNotFound (also NotFound)
    │   │   ├── ActivationCodeMistyped (also ValidationError)
    │   │   ├── ActivationCodeExpired
    │   │   ├── ActivationCodeRevoked
    │   │   ├── ActivationCodeUsedUp
    │   │   └── ActivationCodeWrongProduct
    │   ├── LicenseKeyUnavailable
    │   ├── ComputerBlocked
    │   ├── ComputerAlreadyActivated
    │   └── SeatsFull
    ├── CertificateError
    │   ├── CertificateMalformed
    │   ├── CertificateKeyUnknown
    │   ├── CertificateSignatureInvalid
    │   ├── CertificateWrongComputer
    │   ├── CertificateNotYetValid
    │   └── CertificateExpired
    ├── SigningKeyError
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
Likewise an installed product checking its certificate offline (:mod:`licensekit.verifier`)
meets only :class:`CertificateError` and its subclasses, one per reason it refuses.

For a web host every class carries two class attributes: :attr:`~LicenseKitError.code`, a
stable machine-readable name that a client can branch on (it is written out in each class
and never derived from the class's name, so renaming a class leaves it as it is), and
:attr:`~LicenseKitError.http_status`, the status to answer with.
:meth:`~LicenseKitError.to_dict` gives the body of such an answer::

    try:
        ...
    except LicenseKitError as error:
        return error.http_status, error.to_dict()

The documentation's reference page on exceptions lists every code and status in one table.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, ClassVar

from licensekit._account_errors import (
    AccountNotFound,
    AlreadyMember,
    EmailAlreadyRegistered,
    EmailAlreadyVerified,
    EmailNotVerified,
    InvalidCredentials,
    InvalidEmail,
    InvalidPassword,
    InvalidSession,
    InvalidToken,
    InvitationAlreadyAccepted,
    InvitationEmailMismatch,
    InvitationError,
    InvitationExpired,
    InvitationNotFound,
    InvitationRevoked,
    LastAdministrator,
    MemberBlocked,
    MemberNotFound,
    TooManyAttempts,
    UserNotFound,
)
from licensekit._error_base import (
    AuthenticationError,
    ConflictError,
    LicenseKitError,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from licensekit._licensing_errors import (
    ActivationCodeExpired,
    ActivationCodeMistyped,
    ActivationCodeNotFound,
    ActivationCodeRevoked,
    ActivationCodeUsedUp,
    ActivationCodeWrongProduct,
    ActivationError,
    CertificateError,
    CertificateExpired,
    CertificateKeyUnknown,
    CertificateMalformed,
    CertificateNotYetValid,
    CertificateSignatureInvalid,
    CertificateWrongComputer,
    ComputerAlreadyActivated,
    ComputerBlocked,
    DuplicateLicenseKey,
    InstallationNotFound,
    InvalidActivationCode,
    LicenseKeyNotFound,
    LicenseKeyUnavailable,
    SeatsFull,
    SeatsInUse,
    SigningKeyError,
)

__all__ = [
    "STORAGE_RETRY_AFTER",
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
    "CertificateError",
    "CertificateExpired",
    "CertificateKeyUnknown",
    "CertificateMalformed",
    "CertificateNotYetValid",
    "CertificateSignatureInvalid",
    "CertificateWrongComputer",
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
    "SigningKeyError",
    "StorageBusy",
    "StorageError",
    "TooManyAttempts",
    "UserNotFound",
    "ValidationError",
]


class InvalidCursor(ValidationError):
    """A paging cursor was not one this listing produced."""

    code: ClassVar[str] = "invalid_cursor"
    http_status: ClassVar[int] = 422

    def __init__(self, message: str = "", *, field: str = "cursor") -> None:
        super().__init__(message, field=field)


class DeliveryError(LicenseKitError):
    """A mailer could not hand a message over for delivery.

    Attributes:
        permanent: True when retrying cannot help (the recipient was refused).
    """

    code: ClassVar[str] = "delivery_failed"
    http_status: ClassVar[int] = 502

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class StorageError(LicenseKitError):
    """The store failed; adapters convert driver errors into this family."""

    code: ClassVar[str] = "storage_error"
    http_status: ClassVar[int] = 500


class DuplicateKey(StorageError):
    """A write would break a uniqueness rule of the store (same id, email or token hash)."""

    code: ClassVar[str] = "duplicate_key"
    http_status: ClassVar[int] = 409


class IncompatibleStore(StorageError):
    """The store holds data in a format this version of licensekit cannot use."""

    code: ClassVar[str] = "incompatible_store"
    http_status: ClassVar[int] = 500


class StorageBusy(StorageError):
    """The store stayed locked by other connections for longer than it was willing to wait.

    Nothing was written; the same call can be tried again later.

    Args:
        message: What was being done, and for how long the store waited.
        retry_after: Seconds after which trying again makes sense (rounded up, at least 1);
            :data:`STORAGE_RETRY_AFTER` unless the adapter knows better.

    Attributes:
        retry_after: Whole seconds to wait, at least 1: the value of a ``Retry-After`` header.
        until: The moment those seconds end, by the system clock: a lock on a store is held
            in real time, whatever clock the use cases read.
    """

    code: ClassVar[str] = "storage_busy"
    http_status: ClassVar[int] = 503

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message)
        seconds = STORAGE_RETRY_AFTER if retry_after is None else retry_after
        self.retry_after = max(1, math.ceil(seconds))
        self.until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.retry_after)

    def to_dict(self) -> dict[str, Any]:
        """Return the error as the body of an HTTP answer, with ``retry_after`` in seconds."""
        return {**super().to_dict(), "retry_after": self.retry_after}


STORAGE_RETRY_AFTER = 5
"""The seconds :class:`StorageBusy` suggests waiting when its adapter names none.

A store gives up only after waiting a while itself (the SQLite store, 30 seconds by default),
so whatever held it is a long job: a few seconds spare it a burst of retries.
"""


# Most classes are defined by concern in private modules; tracebacks, pickles and the API
# reference name them as this module's, which is where they are imported from.
for _name in __all__:
    _value = globals()[_name]
    if isinstance(_value, type) and _value.__module__.startswith("licensekit._"):
        _value.__module__ = __name__
