"""Checking a licensekit certificate offline: the module an installed product ships.

The licensing service gives each installation a certificate (see
:mod:`licensekit.domain.certificates` for the claims and the text format). The product keeps
the text, and at start-up checks it with :func:`verify_certificate` against the public keys
it was built with: without a network, a store or the host's secret.

Rule of this module: it imports only the standard library, ``cryptography`` and
:mod:`licensekit.exceptions`, so that a product importing it loads neither attrs nor cattrs,
email-validator, Argon2 or sqlite3 (a test imports it in a fresh interpreter and reads what
was loaded). It therefore reads the certificate format itself: the constants and the claim
names of :mod:`licensekit.domain.certificates` are written here a second time, on purpose,
and a test checks that the two modules agree on every one.

A certificate is accepted when, in this order:

1. the text is a well-formed certificate (:class:`~licensekit.CertificateMalformed`);
2. its key id is among the public keys given, and the key given under it has that id
   (:class:`~licensekit.CertificateKeyUnknown`);
3. the signature of the prefix, key id and payload verifies under that key
   (:class:`~licensekit.CertificateSignatureInvalid`);
4. its claims are those of a known version, in canonical form, with a lease of at most
   90 days (:class:`~licensekit.CertificateMalformed`);
5. it was issued to this computer (:class:`~licensekit.CertificateWrongComputer`);
6. now is within its validity, give or take the clock-skew allowance
   (:class:`~licensekit.CertificateNotYetValid`, :class:`~licensekit.CertificateExpired`).

Each refusal is a subclass of :class:`~licensekit.CertificateError`, whose message says what
was wrong. What the license state allows (whether a suspended license still runs, say) is
the product's decision: the verifier reports the state, it does not judge it.
"""

from __future__ import annotations

import binascii
import datetime as dt
import enum
import json
import re
from collections.abc import Mapping
from typing import NamedTuple, TypeAlias

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.hashes import SHA256, Hash

from licensekit.exceptions import (
    CertificateExpired,
    CertificateKeyUnknown,
    CertificateMalformed,
    CertificateNotYetValid,
    CertificateSignatureInvalid,
    CertificateWrongComputer,
    ValidationError,
)

__all__ = [
    "DEFAULT_SKEW",
    "MAX_CERTIFICATE_CHARS",
    "MAX_SKEW",
    "LicenseState",
    "PublicKey",
    "VerifiedLicense",
    "key_id_of",
    "public_key_text",
    "verify_certificate",
]

DEFAULT_SKEW = dt.timedelta(minutes=5)
"""How far the computer's clock may be off, either way, before a certificate is refused."""

MAX_SKEW = dt.timedelta(hours=1)
"""The largest clock-skew allowance :func:`verify_certificate` takes: the shortest lease."""

MAX_CERTIFICATE_CHARS = 32_768
"""The longest text read as a certificate; one is usually under 1,000 characters.

The longest claims :mod:`licensekit.domain.certificates` accepts (five texts of 200
characters outside the Basic Multilingual Plane, each written as two ``\\uXXXX`` escapes)
give about 17,000: every certificate licensekit issues fits.
"""

PublicKey: TypeAlias = bytes | str | Ed25519PublicKey
"""A public key as a product may hold it: 32 raw bytes, their base64, or a key object."""

# The format, as licensekit.domain.certificates writes it (a test checks they agree).
_FORMAT_VERSION = 1
_SIGNATURE_PREFIX = b"licensekit certificate v1\x00"
_ARMOUR_BEGIN = "-----BEGIN LICENSEKIT CERTIFICATE-----"
_ARMOUR_END = "-----END LICENSEKIT CERTIFICATE-----"
_KEY_ID_HEADER = "Key-Id: "
_ARMOUR_WIDTH = 64
_MAX_LEASE = dt.timedelta(days=90)
_TEXT_CLAIMS = ("installation_id", "computer_id", "product", "account_id", "license_key_id")
_CLAIMS = frozenset(
    {*_TEXT_CLAIMS, "issued_at", "valid_until", "license_expires_at", "license_state", "version"}
)

_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)
_KEY_ID = re.compile(r"[0-9a-f]{16}")
_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_SIGNATURE_BYTES = 64
_PUBLIC_KEY_BYTES = 32
# The y coordinates of the 8 Ed25519 points of small order (1, 2, 4 and 8), modulo p. Under
# such a public key one signature verifies for many messages: anybody could forge one.
_P = 2**255 - 19
_ORDER_8_Y = 0x5FC536D880238B13933C6D305ACDFD5F098EFF289F4C345B027B2C28F95E826
_SMALL_ORDER_Y = frozenset({0, 1, _P - 1, _ORDER_8_Y, _P - _ORDER_8_Y})
_SURROUNDING = " \t\r\n"
_MOST_QUOTED = 48


class LicenseState(enum.StrEnum):
    """Where the installation's license stood when the certificate was issued.

    The same values as :class:`licensekit.model.LicenseState`; it is a string,
    so ``state == "active"`` works too.
    """

    ACTIVE = "active"
    """The license is valid."""
    GRACE = "grace"
    """The license has expired but is within its grace period."""
    EXPIRED = "expired"
    """The license has expired, and any grace period has ended."""
    SUSPENDED = "suspended"
    """An administrator suspended the license key."""
    REMOVED = "removed"
    """An administrator removed the license key."""
    DEACTIVATED = "deactivated"
    """The installation was deactivated."""
    BLOCKED = "blocked"
    """The installation's computer was blocked from this license."""


_STATES = frozenset(state.value for state in LicenseState)


class VerifiedLicense(NamedTuple):
    """The claims of a certificate that :func:`verify_certificate` accepted.

    An immutable named tuple (``license._asdict()`` gives a dict), rather than a dataclass,
    whose module would load :mod:`inspect` and take longer to import than ``cryptography``.
    """

    #: The installation the certificate belongs to.
    installation_id: str
    #: The computer it was issued to (the one checked).
    computer_id: str
    #: The product name of the license key.
    product: str
    #: The business account that holds the license key.
    account_id: str
    #: The license key's id.
    license_key_id: str
    #: When the certificate was issued (UTC).
    issued_at: dt.datetime
    #: When its lease ends (UTC): check in before then, for a newer certificate.
    valid_until: dt.datetime
    #: When the license expires (UTC), or None if it never does.
    license_expires_at: dt.datetime | None
    #: Where the license stood when the certificate was issued.
    license_state: LicenseState
    #: The certificate format's version.
    version: int
    #: The id of the key that signed it.
    signing_key_id: str


def key_id_of(public_key: PublicKey) -> str:
    """Return the id of an Ed25519 public key: the first 8 bytes of its SHA-256, in hex.

    Raises:
        ValidationError: *public_key* is not an Ed25519 public key in a form
            :data:`PublicKey` names.
    """
    return _key_id(_raw_public_key(public_key, "public_key"))


def public_key_text(public_key: PublicKey) -> str:
    """Return an Ed25519 public key as the base64 of its 32 raw bytes, as products embed it.

    Raises:
        ValidationError: *public_key* is not an Ed25519 public key in a form
            :data:`PublicKey` names.
    """
    return binascii.b2a_base64(_raw_public_key(public_key, "public_key"), newline=False).decode()


def verify_certificate(
    text: str | bytes,
    public_keys: Mapping[str, PublicKey],
    *,
    computer_id: str,
    now: dt.datetime | None = None,
    skew: dt.timedelta = DEFAULT_SKEW,
) -> VerifiedLicense:
    """Check a certificate offline and return its claims.

    Args:
        text: The armoured certificate, as the service gave it. Whitespace around it and
            CRLF line ends are accepted; any other change is not.
        public_keys: The public keys the product trusts, by key id (as ``licensekit
            signing-key public --json`` prints them): each as 32 raw bytes, their base64,
            or an :class:`~cryptography.hazmat.primitives.asymmetric.ed25519.Ed25519PublicKey`.
        computer_id: This computer's identifier, as it was given at activation (spaces
            around it are ignored, as activation ignores them).
        now: The current time (aware); the system clock's when omitted.
        skew: How far this computer's clock may be off, either way (at most
            :data:`MAX_SKEW`).

    Raises:
        CertificateMalformed: The text is not a well-formed certificate.
        CertificateKeyUnknown: Its key id is not in *public_keys*, or the key given under
            that id is another key.
        CertificateSignatureInvalid: The signature does not verify: altered, or signed by
            another key.
        CertificateWrongComputer: It was issued to another computer.
        CertificateNotYetValid: It is issued later than *now* plus *skew*.
        CertificateExpired: Its lease ended before *now* minus *skew*.
        ValidationError: An argument has the wrong form (a public key, *now*, *skew*); or
            the public key for the certificate's key id is of small order (such as all
            zeros), under which anybody could forge a signature.
    """
    moment = _check_now(now)
    allowance = _check_skew(skew)
    wanted_computer = _check_computer_id(computer_id)
    key_id, payload, signature = _read_armour(text)
    key = _public_key_for(key_id, public_keys)
    try:
        key.verify(signature, _SIGNATURE_PREFIX + key_id.encode("ascii") + b"\x00" + payload)
    except InvalidSignature:
        raise CertificateSignatureInvalid(
            f"the certificate's signature does not verify under key {key_id}: the certificate "
            "was altered, or signed by another key with the same id"
        ) from None
    verified = _read_claims(payload, key_id)
    if verified.computer_id != wanted_computer:
        raise CertificateWrongComputer(
            f"the certificate was issued to computer {_quote(verified.computer_id)}, not to "
            f"this one ({_quote(wanted_computer)})",
            computer_id=verified.computer_id,
        )
    # Differences of datetimes, not sums: a moment near datetime.max cannot overflow them.
    if verified.issued_at - moment > allowance:
        raise CertificateNotYetValid(
            f"the certificate is issued at {_shown(verified.issued_at)}, later than now "
            f"({_shown(moment)}) by more than the clock-skew allowance of {allowance}; is "
            "this computer's clock right?",
            issued_at=verified.issued_at,
        )
    if moment - verified.valid_until > allowance:
        raise CertificateExpired(
            f"the certificate's lease ended at {_shown(verified.valid_until)}, before now "
            f"({_shown(moment)}); check in with the licensing service for a new certificate",
            valid_until=verified.valid_until,
        )
    return verified


# == arguments ==================================================================================


def _check_now(now: object) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    if not isinstance(now, dt.datetime) or now.utcoffset() is None:
        raise ValidationError(f"now must be a timezone-aware datetime, got {_quote(now)}")
    try:
        return now.astimezone(dt.UTC)
    except OverflowError:
        raise ValidationError(
            f"now must be a time from year 1 to 9999 in UTC, got {_quote(now)}", field="now"
        ) from None


def _check_skew(skew: object) -> dt.timedelta:
    if not isinstance(skew, dt.timedelta) or not dt.timedelta(0) <= skew <= MAX_SKEW:
        raise ValidationError(f"skew must be a timedelta from 0 to {MAX_SKEW}, got {_quote(skew)}")
    return skew


def _check_computer_id(computer_id: object) -> str:
    if not isinstance(computer_id, str) or not computer_id.strip():
        raise ValidationError(f"computer_id must be non-empty text, got {_quote(computer_id)}")
    return computer_id.strip()


def _raw_public_key(value: object, name: str, *, trusted: bool = False) -> bytes:
    """The 32 raw bytes of the public key *value* (in a form :data:`PublicKey` names).

    When *trusted*, the key is one signatures are to be checked with, and a key of small
    order (under which anybody can forge a signature) is refused too.
    """
    raw: object = value
    if isinstance(value, Ed25519PublicKey):
        raw = value.public_bytes_raw()
    elif isinstance(value, str):
        raw = _strict_base64(value.strip())
    if isinstance(raw, bytes | bytearray) and len(raw) == _PUBLIC_KEY_BYTES:
        if trusted and _small_order(bytes(raw)):
            raise ValidationError(
                f"{name} is an Ed25519 public key of small order (a placeholder such as all "
                "zeros?), under which anybody can forge a signature; give the signing key's "
                "public key",
                field=name,
            )
        return bytes(raw)
    raise ValidationError(
        f"{name} must be an Ed25519 public key: 32 raw bytes, their base64, or an "
        f"Ed25519PublicKey; got {_quote(value)}",
        field=name,
    )


def _small_order(raw: bytes) -> bool:
    """Whether *raw* encodes a point of small order, in its canonical form or another."""
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    return y % _P in _SMALL_ORDER_Y


def _public_key_for(key_id: str, public_keys: object) -> Ed25519PublicKey:
    if not isinstance(public_keys, Mapping):
        raise ValidationError(
            "public_keys must map key ids to public keys, got " + type(public_keys).__name__
        )
    if key_id not in public_keys:
        known = ", ".join(sorted(map(str, public_keys))) or "none"
        raise CertificateKeyUnknown(
            f"the certificate is signed with key {key_id}, which is not among the public keys "
            f"given ({known}); if it is a new signing key, give the product its public key",
            key_id=key_id,
        )
    value = public_keys[key_id]
    raw = _raw_public_key(value, f"public_keys[{key_id!r}]", trusted=True)
    actual = _key_id(raw)
    if actual != key_id:
        raise CertificateKeyUnknown(
            f"the certificate is signed with key {key_id}, and the key given under that id is "
            f"another key, {actual}; give the product the public key whose id is {key_id}",
            key_id=key_id,
        )
    return value if isinstance(value, Ed25519PublicKey) else Ed25519PublicKey.from_public_bytes(raw)


# == the armoured text ==========================================================================


def _read_armour(text: object) -> tuple[str, bytes, bytes]:
    """Return the key id, payload and signature of the armoured *text*."""
    if not isinstance(text, str | bytes | bytearray):
        raise ValidationError(f"text must be str or bytes, got {type(text).__name__}")
    if len(text) > MAX_CERTIFICATE_CHARS:
        raise CertificateMalformed(
            f"the text is {len(text):,} characters long; a certificate has at most "
            f"{MAX_CERTIFICATE_CHARS:,}"
        )
    if not text.isascii():
        raise CertificateMalformed("a certificate is ASCII text, and this holds other characters")
    if not isinstance(text, str):
        text = bytes(text).decode("ascii")
    lines = text.strip(_SURROUNDING).replace("\r\n", "\n").split("\n")
    for number, line in enumerate(lines, start=1):
        if "\r" in line:
            raise CertificateMalformed(f"line {number} holds a carriage return that ends no line")
    if lines[0] != _ARMOUR_BEGIN:
        where = "is not the first line" if _ARMOUR_BEGIN in lines else "is missing"
        raise CertificateMalformed(f"not a licensekit certificate: {_ARMOUR_BEGIN!r} {where}")
    if len(lines) < 7 or lines[-1] != _ARMOUR_END:
        raise CertificateMalformed(f"the certificate does not end with {_ARMOUR_END!r}")
    header = lines[1]
    if not header.startswith(_KEY_ID_HEADER):
        raise CertificateMalformed(
            f"line 2 must be the key id header, {_KEY_ID_HEADER!r} and the key's id"
        )
    key_id = header.removeprefix(_KEY_ID_HEADER)
    if not _KEY_ID.fullmatch(key_id):
        raise CertificateMalformed(
            f"the key id must be 16 lowercase hexadecimal digits, not {_quote(key_id)}"
        )
    if lines[2]:
        raise CertificateMalformed("line 3 must be blank: the header ends there")
    body = lines[3:-1]
    if body.count("") != 1:
        raise CertificateMalformed(
            "one blank line must part the payload from the signature, and this has "
            f"{body.count('')}"
        )
    parting = body.index("")
    payload = _read_base64(body[:parting], "payload", first_line=4)
    signature = _read_base64(body[parting + 1 :], "signature", first_line=parting + 5)
    if len(signature) != _SIGNATURE_BYTES:
        raise CertificateMalformed(
            f"the signature is {len(signature)} bytes long; an Ed25519 signature is "
            f"{_SIGNATURE_BYTES}"
        )
    return key_id, payload, signature


def _read_base64(lines: list[str], what: str, *, first_line: int) -> bytes:
    if not lines:
        raise CertificateMalformed(f"the {what} is missing")
    for offset, line in enumerate(lines):
        last = offset == len(lines) - 1
        if len(line) > _ARMOUR_WIDTH or (not last and len(line) != _ARMOUR_WIDTH):
            raise CertificateMalformed(
                f"line {first_line + offset} of the {what} is {len(line)} characters long; "
                f"every line but its last is {_ARMOUR_WIDTH}"
            )
    text = "".join(lines)
    data = _strict_base64(text)
    if data is None:
        raise CertificateMalformed(f"the {what} is not valid base64")
    return data


def _strict_base64(text: str) -> bytes | None:
    """The bytes *text* encodes in standard, padded base64; None if it is not exactly that.

    Unused bits must be zero (the decoded bytes encode back to the same text), so that two
    texts never decode to the same bytes.
    """
    try:
        data = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        return None
    return data if binascii.b2a_base64(data, newline=False).decode("ascii") == text else None


def _key_id(raw: bytes) -> str:
    digest = Hash(SHA256())
    digest.update(raw)
    return digest.finalize()[:8].hex()


# == the claims =================================================================================


def _read_claims(payload: bytes, key_id: str) -> VerifiedLicense:
    try:
        claims = json.loads(payload)
    except (ValueError, RecursionError):
        raise CertificateMalformed("the certificate's payload is not JSON") from None
    if not isinstance(claims, dict):
        raise CertificateMalformed("the certificate's payload is not a JSON object")
    version = claims.get("version")
    if type(version) is not int or version != _FORMAT_VERSION:
        raise CertificateMalformed(
            f"the certificate is of format version {_quote(version)}; this verifier reads "
            f"version {_FORMAT_VERSION} (a newer licensekit may read it)"
        )
    if set(claims) != _CLAIMS:
        missing = ", ".join(sorted(_CLAIMS - set(claims))) or "none"
        extra = ", ".join(sorted(map(_quote, set(claims) - _CLAIMS))) or "none"
        raise CertificateMalformed(
            f"the certificate's claims are not those of version {_FORMAT_VERSION}: missing "
            f"{missing}; unknown {extra}"
        )
    if _CANONICAL.encode(claims).encode("ascii") != payload:
        raise CertificateMalformed("the certificate's payload is not in canonical form")
    for name in _TEXT_CLAIMS:
        if not isinstance(claims[name], str) or not claims[name]:
            raise CertificateMalformed(f"the claim {name} must be non-empty text")
    state = claims["license_state"]
    if not isinstance(state, str) or state not in _STATES:
        raise CertificateMalformed(f"the license state {_quote(state)} is unknown to this verifier")
    expires = claims["license_expires_at"]
    issued_at = _instant(claims["issued_at"], "issued_at")
    valid_until = _instant(claims["valid_until"], "valid_until")
    if valid_until - issued_at > _MAX_LEASE:
        raise CertificateMalformed(
            f"the certificate's lease, {valid_until - issued_at}, is longer than the longest "
            f"a certificate may have, {_MAX_LEASE.days} days"
        )
    return VerifiedLicense(
        **{name: claims[name] for name in _TEXT_CLAIMS},
        issued_at=issued_at,
        valid_until=valid_until,
        license_expires_at=None if expires is None else _instant(expires, "license_expires_at"),
        license_state=LicenseState(state),
        version=version,
        signing_key_id=key_id,
    )


def _instant(value: object, name: str) -> dt.datetime:
    if isinstance(value, str) and _INSTANT.fullmatch(value):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    raise CertificateMalformed(
        f"the claim {name} must be a UTC time such as 2030-01-31T18:00:00Z, not {_quote(value)}"
    )


# == messages ===================================================================================


def _quote(value: object) -> str:
    """*value*'s repr, cut after a few dozen characters: a message stays one readable line."""
    shown = repr(value)
    if len(shown) <= _MOST_QUOTED:
        return shown
    return f"{shown[:_MOST_QUOTED]}... ({len(shown):,} characters)"


def _shown(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
