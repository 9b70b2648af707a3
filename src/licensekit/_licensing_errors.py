"""The errors of licensing: keys, installations, activations, certificates and their signing.

Part of :mod:`licensekit.exceptions`, which re-exports and documents every class under its own
name (it sets their ``__module__``): import them from there.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from licensekit._error_base import ConflictError, LicenseKitError, NotFound, ValidationError

__all__ = [
    "ActivationCodeExpired",
    "ActivationCodeMistyped",
    "ActivationCodeNotFound",
    "ActivationCodeRevoked",
    "ActivationCodeUsedUp",
    "ActivationCodeWrongProduct",
    "ActivationError",
    "CertificateError",
    "CertificateExpired",
    "CertificateKeyUnknown",
    "CertificateMalformed",
    "CertificateNotYetValid",
    "CertificateSignatureInvalid",
    "CertificateWrongComputer",
    "ComputerAlreadyActivated",
    "ComputerBlocked",
    "DuplicateLicenseKey",
    "InstallationNotFound",
    "InvalidActivationCode",
    "LicenseKeyNotFound",
    "LicenseKeyUnavailable",
    "SeatsFull",
    "SeatsInUse",
    "SigningKeyError",
]


class LicenseKeyNotFound(NotFound):
    """No license key with that id is visible to the caller."""

    code: ClassVar[str] = "license_key_not_found"
    http_status: ClassVar[int] = 404


class InstallationNotFound(NotFound):
    """No installation with that id (or installation token) is visible to the caller."""

    code: ClassVar[str] = "installation_not_found"
    http_status: ClassVar[int] = 404


class DuplicateLicenseKey(ConflictError):
    """The account already holds a license key with the same secret value."""

    code: ClassVar[str] = "duplicate_license_key"
    http_status: ClassVar[int] = 409


class SeatsInUse(ConflictError):
    """The change would leave a key with fewer seats than it has active installations."""

    code: ClassVar[str] = "seats_in_use"
    http_status: ClassVar[int] = 409


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
