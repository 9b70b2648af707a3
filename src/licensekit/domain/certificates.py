r"""Certificates: the signed claims an installed product keeps and checks offline.

A certificate tells a copy of the product, without asking the service, which installation it
is, on which computer, of which license, and until when it may run. This module holds the
claims and their two written forms; it signs nothing and verifies nothing.

The claims (:class:`CertificateClaims`) are encoded as canonical JSON
(:func:`encode_claims`): the keys sorted, no spaces, ASCII only (other characters as
``\uXXXX`` escapes), timestamps in UTC to the second as ``2030-01-31T18:00:00Z``, so that
the same claims always give the same bytes. The signed message is a fixed prefix, the
signing key's id and the payload (:func:`signed_message`): a signature made for a
certificate can serve for nothing else, and names the key it was made with.

The armoured form (:func:`armour`) is plain text that survives email, copy and paste::

    -----BEGIN LICENSEKIT CERTIFICATE-----
    Key-Id: 56475aa75463474c

    eyJhY2NvdW50X2lkIjoiYWNjXzEiLCJjb21wdXRlcl9pZCI6IlNOLTAwMDEiLCJp
    bnN0YWxsYXRpb25faWQiOiJpbnNfMSIsImlzc3VlZF9hdCI6IjIwMzAtMDEtMDFU
    MTI6MDA6MDBaIiwibGljZW5zZV9leHBpcmVzX2F0IjpudWxsLCJsaWNlbnNlX2tl
    eV9pZCI6ImtleV8xIiwibGljZW5zZV9zdGF0ZSI6ImFjdGl2ZSIsInByb2R1Y3Qi
    OiJEZXNrdG9wIFBybyIsInZhbGlkX3VudGlsIjoiMjAzMC0wMS0wOFQxMjowMDow
    MFoiLCJ2ZXJzaW9uIjoxfQ==

    jjB5ojJOnvrZ7Pql08uZTj3mKpgKIpntpOKXo/kA77LP8uwUxRnnmas+yc1pPBlD
    83YUsw8KSp4iOs+XZfz1Bg==
    -----END LICENSEKIT CERTIFICATE-----

one header naming the signing key, a blank line, the payload in standard base64 wrapped at
64 columns, a blank line, and the 64-byte Ed25519 signature in base64, wrapped the same way.
The product reads it with :mod:`licensekit.verifier`, which parses this format on its own
(it must not load attrs): the constants below are written there a second time, and a test
checks that both modules agree on every one of them and on every field.

The lease is how long a certificate is valid from its issue: :data:`DEFAULT_LEASE` (7 days)
unless the host chooses another between :data:`MIN_LEASE` (1 hour) and :data:`MAX_LEASE`
(90 days). A copy that stops checking in stops working when its lease ends, so the lease is
also the longest time a suspension or deactivation can take to reach a copy that stays
offline; beyond a quarter a certificate would be a perpetual license in all but name. A
lease never runs past the end of the license itself (its expiry plus any grace period): a
certificate issued an hour before that end is valid for that hour only.
"""

from __future__ import annotations

import binascii
import datetime as dt
import json
from typing import Any

import attrs

from licensekit.domain import _leases
from licensekit.domain._echo import echo
from licensekit.domain.records import LicenseState
from licensekit.exceptions import ValidationError

__all__ = [
    "ARMOUR_BEGIN",
    "ARMOUR_END",
    "ARMOUR_WIDTH",
    "CLAIM_FIELDS",
    "DEFAULT_LEASE",
    "FORMAT_VERSION",
    "KEY_ID_HEADER",
    "MAX_CERTIFICATE_CHARS",
    "MAX_LEASE",
    "MAX_TEXT",
    "MIN_LEASE",
    "SIGNATURE_PREFIX",
    "TIME_FORMAT",
    "CertificateClaims",
    "LicenseState",
    "armour",
    "check_lease",
    "encode_claims",
    "signed_message",
]

FORMAT_VERSION = 1
"""The version of the claims' format that this licensekit writes (the ``version`` claim)."""

DEFAULT_LEASE = _leases.DEFAULT_LEASE
"""How long a certificate is valid by default: a copy that stops checking in runs a week."""

MIN_LEASE = _leases.MIN_LEASE
"""The shortest lease: shorter ones would fail on copies whose clocks are a little off."""

MAX_LEASE = _leases.MAX_LEASE
"""The longest lease: how long, at most, a change can take to reach a copy that stays offline."""

# Defined beside the bounds (the settings check a lease with it when a kit is made, without
# loading the claims), and documented here, where hosts import it.
check_lease = _leases.check_lease
check_lease.__module__ = __name__

MAX_TEXT = 200
"""The most characters of an id, computer id or product name in the claims."""

SIGNATURE_PREFIX = b"licensekit certificate v1\x00"
"""What every signed message starts with, so that no other signed data can pass for one."""

ARMOUR_BEGIN = "-----BEGIN LICENSEKIT CERTIFICATE-----"
"""The first line of a certificate's armoured text."""

ARMOUR_END = "-----END LICENSEKIT CERTIFICATE-----"
"""The last line of a certificate's armoured text."""

KEY_ID_HEADER = "Key-Id: "
"""How the header naming the signing key begins."""

ARMOUR_WIDTH = 64
"""The base64 characters in a full line of the payload or the signature."""

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
"""How the claims write an instant: UTC, to the second."""

MAX_CERTIFICATE_CHARS = 32_768
"""The longest armoured text the verifier reads as a certificate.

The longest claims accepted here (five texts of :data:`MAX_TEXT` characters outside the
Basic Multilingual Plane, each written as two ``\\uXXXX`` escapes) armour to about 17,000
characters, within it.
"""

_STATES = tuple(state.value for state in LicenseState)


def _instant(value: object, name: str) -> dt.datetime:
    """An aware datetime in UTC, to the whole second (rounded down)."""
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise ValidationError(
            f"{name} must be a timezone-aware datetime, got {echo(value)}",
            field=name,
        )
    try:
        return value.astimezone(dt.UTC).replace(microsecond=0)
    except OverflowError:
        raise ValidationError(
            f"{name} must be a time from year 1 to 9999 in UTC, got {echo(value)}", field=name
        ) from None


def _issued_at(value: object) -> dt.datetime:
    return _instant(value, "issued_at")


def _valid_until(value: object) -> dt.datetime:
    return _instant(value, "valid_until")


def _optional_instant(value: object) -> dt.datetime | None:
    return None if value is None else _instant(value, "license_expires_at")


def _text(_: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    name = attribute.name
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be text, got {type(value).__name__}", field=name)
    if not value or len(value) > MAX_TEXT or not value.isprintable() or value != value.strip():
        raise ValidationError(
            f"{name} must be printable text of 1 to {MAX_TEXT} characters without surrounding "
            f"spaces, got {echo(value)}",
            field=name,
        )


def _state(value: object) -> LicenseState:
    if isinstance(value, str) and value in _STATES:
        return LicenseState(value)
    raise ValidationError(
        f"license_state must be one of {', '.join(_STATES)}, got {echo(value)}",
        field="license_state",
    )


def _lease(claims: CertificateClaims, _: Any, valid_until: dt.datetime) -> None:
    lease = valid_until - claims.issued_at
    if not dt.timedelta(0) < lease <= MAX_LEASE:
        raise ValidationError(
            f"valid_until must be after issued_at by at most {MAX_LEASE.days} days, got {lease}",
            field="valid_until",
        )


@attrs.frozen(kw_only=True)
class CertificateClaims:
    """What a certificate says about one installation, as its signer vouches for it.

    Instants are kept in UTC to the whole second (a finer one is rounded down), the form they
    are written in, so that claims read back from a certificate equal the claims signed.

    Attributes:
        installation_id: The installation the certificate belongs to.
        computer_id: The computer it was activated on; a product checks it is running there.
        product: The product name of the license key.
        account_id: The business account that holds the license key.
        license_key_id: The license key's id (never its secret value).
        issued_at: When the certificate was issued.
        valid_until: When its lease ends: from then on the product needs a newer one. It
            must be after :attr:`issued_at`, by at most :data:`MAX_LEASE` (the lease a
            host chooses is at least :data:`MIN_LEASE`, but it is cut short at the end of
            the license).
        license_expires_at: When the license expires, or None if it never does.
        license_state: Where the license stands at :attr:`issued_at`.
        version: The format's version, :data:`FORMAT_VERSION`.
    """

    installation_id: str = attrs.field(validator=_text)
    computer_id: str = attrs.field(validator=_text)
    product: str = attrs.field(validator=_text)
    account_id: str = attrs.field(validator=_text)
    license_key_id: str = attrs.field(validator=_text)
    issued_at: dt.datetime = attrs.field(converter=_issued_at)
    valid_until: dt.datetime = attrs.field(converter=_valid_until, validator=_lease)
    license_expires_at: dt.datetime | None = attrs.field(default=None, converter=_optional_instant)
    license_state: LicenseState = attrs.field(default=LicenseState.ACTIVE, converter=_state)
    version: int = attrs.field(default=FORMAT_VERSION)

    @version.validator
    def _known_version(self, _: Any, value: object) -> None:
        if value != FORMAT_VERSION or isinstance(value, bool):
            raise ValidationError(
                f"version must be {FORMAT_VERSION}, got {echo(value)}", field="version"
            )

    @classmethod
    def leased(
        cls,
        *,
        installation_id: str,
        computer_id: str,
        product: str,
        account_id: str,
        license_key_id: str,
        issued_at: dt.datetime,
        lease: dt.timedelta = DEFAULT_LEASE,
        license_expires_at: dt.datetime | None = None,
        license_state: LicenseState = LicenseState.ACTIVE,
        not_after: dt.datetime | None = None,
    ) -> CertificateClaims:
        """Return claims issued at *issued_at* and valid for *lease*, or until *not_after*.

        *not_after* is when the license ends, if it does: the lease stops there if that is
        sooner.

        Raises:
            ValidationError: A claim has the wrong form, *lease* is out of bounds (see
                :func:`check_lease`), or *not_after* is not after *issued_at* (to the
                second).
        """
        start = _instant(issued_at, "issued_at")
        lease = check_lease(lease)
        try:
            end = start + lease
        except OverflowError:
            raise ValidationError(
                f"issued_at plus the lease is past the year 9999: issued_at is {echo(start)}",
                field="issued_at",
            ) from None
        if not_after is not None:
            end = min(end, _instant(not_after, "not_after"))
        return cls(
            installation_id=installation_id,
            computer_id=computer_id,
            product=product,
            account_id=account_id,
            license_key_id=license_key_id,
            issued_at=start,
            valid_until=end,
            license_expires_at=license_expires_at,
            license_state=license_state,
        )


CLAIM_FIELDS: tuple[str, ...] = tuple(field.name for field in attrs.fields(CertificateClaims))
"""The names of the claims, as the payload's JSON keys."""


def encode_claims(claims: CertificateClaims) -> bytes:
    """Return the canonical payload of *claims*: the same claims always give the same bytes.

    Example:
        >>> import datetime as dt
        >>> claims = CertificateClaims.leased(
        ...     installation_id="ins_1", computer_id="SN-1", product="Desktop Pro",
        ...     account_id="acc_1", license_key_id="key_1",
        ...     issued_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        ... )
        >>> encode_claims(claims)[:60]
        b'{"account_id":"acc_1","computer_id":"SN-1","installation_id"'
    """
    data = {name: getattr(claims, name) for name in _SORTED_FIELDS}
    for name in _INSTANT_FIELDS:
        if data[name] is not None:
            # Kept in UTC to the second (see _instant): the first 19 characters of isoformat.
            data[name] = data[name].isoformat()[:19] + "Z"
    return _CANONICAL.encode(data).encode("ascii")


_SORTED_FIELDS = tuple(sorted(CLAIM_FIELDS))
_INSTANT_FIELDS = ("issued_at", "valid_until", "license_expires_at")
# The claims are put in the dictionary in sorted order, so the encoder need not sort them;
# a test checks the keys come out sorted.
_CANONICAL = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True)


def signed_message(key_id: str, payload: bytes) -> bytes:
    """Return what is signed for *payload* under the key *key_id*: prefix, key id, payload."""
    return SIGNATURE_PREFIX + key_id.encode("ascii") + b"\x00" + payload


def armour(key_id: str, payload: bytes, signature: bytes) -> str:
    """Return the armoured text of a certificate, ending with a line break.

    Args:
        key_id: The id of the key that made *signature*.
        payload: The canonical payload (:func:`encode_claims`).
        signature: The signature of :func:`signed_message` of *key_id* and *payload*.
    """
    lines = [ARMOUR_BEGIN, KEY_ID_HEADER + key_id, ""]
    lines += _wrapped(payload)
    lines.append("")
    lines += _wrapped(signature)
    lines.append(ARMOUR_END)
    return "\n".join(lines) + "\n"


def _wrapped(data: bytes) -> list[str]:
    text = binascii.b2a_base64(data, newline=False).decode("ascii")
    return [text[i : i + ARMOUR_WIDTH] for i in range(0, len(text), ARMOUR_WIDTH)]
