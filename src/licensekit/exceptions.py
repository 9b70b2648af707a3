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
import re
from typing import Any, ClassVar

from licensekit.domain._echo import echo

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


_NAMED_FIELD = re.compile(r"(?P<field>[a-z][a-z0-9_]*)(?: must | may |=)")
"""A message that opens with an argument's name and a rule (``limit must be ...``), or with
the argument as it was passed (``csv='x.csv' looks like a file name``)."""


def _field_named_in(message: str) -> str | None:
    match = _NAMED_FIELD.match(message)
    return match.group("field") if match else None


class LicenseKitError(Exception):
    """The root of every exception licensekit raises for a caller's action.

    Attributes:
        code: A stable machine-readable name of the error, such as ``"seats_full"``. Each
            class states its own; a client may branch on it.
        http_status: The HTTP status a web service answers the error with.
    """

    code: ClassVar[str] = "licensekit_error"
    http_status: ClassVar[int] = 400

    def to_dict(self) -> dict[str, Any]:
        """Return the error as the body of an HTTP answer: plain data that JSON can hold.

        It holds ``code``, ``status`` (the :attr:`http_status`) and ``message`` (the text of
        the error, which never holds a password, token or code), and, when the error has
        them, ``field`` (:class:`ValidationError`) and ``retry_after`` in seconds
        (:class:`TooManyAttempts`, :class:`StorageBusy`), the shape of a problem details
        object (RFC 9457) with licensekit's names.

        Example:
            >>> from licensekit import SeatsFull
            >>> SeatsFull("every seat of the key is taken", seats=5).to_dict()
            {'code': 'seats_full', 'status': 409, 'message': 'every seat of the key is taken'}
        """
        return {"code": self.code, "status": self.http_status, "message": str(self)}


class ValidationError(LicenseKitError, ValueError):
    """An argument has the wrong form: an email, a password, a duration, a cursor.

    Args:
        message: What is wrong.
        field: The name of the argument or record field at fault. When omitted it is read
            from a message that opens with the name and a rule, as in ``"limit must be
            between 1 and 500"``, or with the argument as passed (``"csv='a.csv' ..."``);
            otherwise it is None.

    Attributes:
        field: The argument or field at fault (dotted for a nested field, as in
            ``"password_throttle.window"``), or None when the error concerns several or none.
    """

    code: ClassVar[str] = "invalid_input"
    http_status: ClassVar[int] = 422

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field if field is not None else _field_named_in(message)

    def to_dict(self) -> dict[str, Any]:
        """Return the error as the body of an HTTP answer, with ``field`` when it is known."""
        body = super().to_dict()
        if self.field is not None:
            body["field"] = self.field
        return body


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


class InvalidCursor(ValidationError):
    """A paging cursor was not one this listing produced."""

    code: ClassVar[str] = "invalid_cursor"
    http_status: ClassVar[int] = 422

    def __init__(self, message: str = "", *, field: str = "cursor") -> None:
        super().__init__(message, field=field)


class NotFound(LicenseKitError, LookupError):
    """The object does not exist, or it belongs to an account the caller cannot see."""

    code: ClassVar[str] = "not_found"
    http_status: ClassVar[int] = 404


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


class LicenseKeyNotFound(NotFound):
    """No license key with that id is visible to the caller."""

    code: ClassVar[str] = "license_key_not_found"
    http_status: ClassVar[int] = 404


class InstallationNotFound(NotFound):
    """No installation with that id (or installation token) is visible to the caller."""

    code: ClassVar[str] = "installation_not_found"
    http_status: ClassVar[int] = 404


class AuthenticationError(LicenseKitError):
    """The caller could not be identified."""

    code: ClassVar[str] = "authentication_failed"
    http_status: ClassVar[int] = 401


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


class PermissionDenied(LicenseKitError, PermissionError):
    """The caller is identified but their role does not allow the action."""

    code: ClassVar[str] = "permission_denied"
    http_status: ClassVar[int] = 403


class MemberBlocked(PermissionDenied):
    """The member is blocked in this account and can do nothing there."""

    code: ClassVar[str] = "member_blocked"
    http_status: ClassVar[int] = 403


class EmailNotVerified(PermissionDenied):
    """The action needs a user whose address is proven (see :meth:`LicenseKit.verify_email`)."""

    code: ClassVar[str] = "email_not_verified"
    http_status: ClassVar[int] = 403


class ConflictError(LicenseKitError):
    """The action contradicts the current state."""

    code: ClassVar[str] = "conflict"
    http_status: ClassVar[int] = 409


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


class DuplicateLicenseKey(ConflictError):
    """The account already holds a license key with the same secret value."""

    code: ClassVar[str] = "duplicate_license_key"
    http_status: ClassVar[int] = 409


class SeatsInUse(ConflictError):
    """The change would leave a key with fewer seats than it has active installations."""

    code: ClassVar[str] = "seats_in_use"
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


class ActivationError(LicenseKitError):
    """An installer's activation was refused; the subclass says why."""

    code: ClassVar[str] = "activation_refused"
    http_status: ClassVar[int] = 403


class InvalidActivationCode(ActivationError):
    """The temporary activation code or download token cannot be used."""

    code: ClassVar[str] = "invalid_activation_code"
    http_status: ClassVar[int] = 400


class ActivationCodeNotFound(InvalidActivationCode, NotFound):
    """No invitation has that code or token."""

    code: ClassVar[str] = "activation_code_not_found"
    http_status: ClassVar[int] = 404


class ActivationCodeMistyped(InvalidActivationCode, ValidationError):
    """The typed code has the wrong length or its check symbol does not match: a typo.

    Detected from the code alone, before any look-up; every single wrong symbol and every
    swap of two neighbouring symbols is caught. Its :attr:`~ValidationError.field` is
    ``"code"``, the argument of :meth:`~licensekit.LicenseKit.activate`.
    """

    code: ClassVar[str] = "activation_code_mistyped"
    http_status: ClassVar[int] = 422

    def __init__(self, message: str = "", *, field: str = "code") -> None:
        super().__init__(message, field=field)


class ActivationCodeExpired(InvalidActivationCode):
    """The invitation that carries the code has expired."""

    code: ClassVar[str] = "activation_code_expired"
    http_status: ClassVar[int] = 410


class ActivationCodeRevoked(InvalidActivationCode):
    """The invitation that carries the code was revoked."""

    code: ClassVar[str] = "activation_code_revoked"
    http_status: ClassVar[int] = 410


class ActivationCodeUsedUp(InvalidActivationCode):
    """The code has activated as many computers as it allows."""

    code: ClassVar[str] = "activation_code_used_up"
    http_status: ClassVar[int] = 409


class ActivationCodeWrongProduct(InvalidActivationCode):
    """The code belongs to a license key for another product than the one activating."""

    code: ClassVar[str] = "activation_code_wrong_product"
    http_status: ClassVar[int] = 403


class LicenseKeyUnavailable(ActivationError):
    """The license key behind the code is suspended, expired or removed."""

    code: ClassVar[str] = "license_key_unavailable"
    http_status: ClassVar[int] = 403


class ComputerBlocked(ActivationError):
    """The computer is blocked from activating in this business account (or under this key).

    Also raised when installations would be moved to a key that blocks some of their
    computers.

    Attributes:
        computer_ids: The blocked computers, when several are concerned (a move); empty
            for an activation, whose one computer the caller knows.
    """

    code: ClassVar[str] = "computer_blocked"
    http_status: ClassVar[int] = 403

    def __init__(self, message: str, *, computer_ids: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.computer_ids = computer_ids


class ComputerAlreadyActivated(ActivationError):
    """The computer holds a seat through another invitation's code.

    Someone else's code cannot take over a running installation; an administrator
    deactivates it first.
    """

    code: ClassVar[str] = "computer_already_activated"
    http_status: ClassVar[int] = 409


class SeatsFull(ActivationError):
    """Every seat of the license key is taken by an active installation.

    Also raised when installations are moved to a key (or seats reserved in a pool) that
    has fewer free seats than they need.

    Attributes:
        seats: The key's seat count.
        needed: How many free seats were needed (1 for an activation).
        free: How many were free, when known (None otherwise).
    """

    code: ClassVar[str] = "seats_full"
    http_status: ClassVar[int] = 409

    def __init__(
        self, message: str, *, seats: int, needed: int = 1, free: int | None = None
    ) -> None:
        super().__init__(message)
        self.seats = seats
        self.needed = needed
        self.free = free


class CertificateError(LicenseKitError):
    """A certificate was refused by :mod:`licensekit.verifier`; the subclass says why.

    The first three mean the text cannot be trusted at all; the last three that it is
    genuine but does not allow the product to run here, now.
    """

    code: ClassVar[str] = "certificate_refused"
    http_status: ClassVar[int] = 400


class CertificateMalformed(CertificateError):
    """The text is not a well-formed certificate: cut, edited, or not a certificate at all.

    The message names the first thing found wrong (a line, the base64, a claim).
    """

    code: ClassVar[str] = "certificate_malformed"
    http_status: ClassVar[int] = 400


class CertificateKeyUnknown(CertificateError):
    """The certificate names a signing key that is not among the public keys given.

    Either it was signed by a key that is newer than the product's list (publish the new
    public key to the product), or by a key the product no longer trusts.

    Attributes:
        key_id: The key id the certificate names, or None.
    """

    code: ClassVar[str] = "certificate_key_unknown"
    http_status: ClassVar[int] = 400

    def __init__(self, message: str = "", *, key_id: str | None = None) -> None:
        super().__init__(message)
        self.key_id = key_id


class CertificateSignatureInvalid(CertificateError):
    """The signature does not match: the certificate was altered, or signed by another key."""

    code: ClassVar[str] = "certificate_signature_invalid"
    http_status: ClassVar[int] = 400


class CertificateWrongComputer(CertificateError):
    """The certificate is genuine but was issued to another computer than this one.

    Attributes:
        computer_id: The computer the certificate was issued to, or None.
    """

    code: ClassVar[str] = "certificate_wrong_computer"
    http_status: ClassVar[int] = 403

    def __init__(self, message: str = "", *, computer_id: str | None = None) -> None:
        super().__init__(message)
        self.computer_id = computer_id


class CertificateNotYetValid(CertificateError):
    """The certificate is genuine but issued later than now, beyond the clock-skew allowance.

    Usually the computer's clock is behind.

    Attributes:
        issued_at: When the certificate was issued, or None.
    """

    code: ClassVar[str] = "certificate_not_yet_valid"
    http_status: ClassVar[int] = 403

    def __init__(self, message: str = "", *, issued_at: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.issued_at = issued_at


class CertificateExpired(CertificateError):
    """The certificate is genuine but its lease is over: the product must check in for another.

    Attributes:
        valid_until: When the lease ended, or None.
    """

    code: ClassVar[str] = "certificate_expired"
    http_status: ClassVar[int] = 403

    def __init__(self, message: str = "", *, valid_until: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.valid_until = valid_until


class SigningKeyError(LicenseKitError):
    """The key that signs certificates cannot be used, or a change to its file is refused.

    The key file is missing, readable by others, damaged, or asked to drop a key it does not
    hold; the message says which. It concerns the host's set-up, not the caller's request.
    """

    code: ClassVar[str] = "signing_key_unusable"
    http_status: ClassVar[int] = 500


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
