"""Attacks on certificates, signing keys and the verifier that currently succeed.

Each test states what should hold and fails while the defect is there; the fix is named in
its docstring. The tests are written so that any reasonable fix passes (a refusal with a
licensekit error, or the operation simply working), not one particular wording.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
from collections.abc import Mapping
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from _certificates import T0, claims
from licensekit import signing
from licensekit.domain.certificates import (
    CertificateClaims,
    armour,
    encode_claims,
)
from licensekit.exceptions import (
    CertificateError,
    LicenseKitError,
    SigningKeyError,
    ValidationError,
)
from licensekit.signing import Ed25519Signer, KeyFileSigner, issue_certificate
from licensekit.verifier import key_id_of, public_key_text, verify_certificate

CLAIMS = claims()
SIGNER = Ed25519Signer.generate()
TEXT = issue_certificate(SIGNER, CLAIMS)


def verify(text: str, keys: Mapping[str, object], **options: object) -> object:
    options.setdefault("computer_id", "SN-0001")
    options.setdefault("now", T0 + dt.timedelta(hours=1))
    return verify_certificate(text, keys, **options)  # type: ignore[arg-type]


# == issuing: a Signer that returns garbage =================================================


class _WrongKeySigner:
    """A KMS signer whose alias moved: it names key A, publishes A, but signs with key B."""

    def __init__(self) -> None:
        self._named = Ed25519PrivateKey.generate()
        self._signing = Ed25519PrivateKey.generate()
        self._public = self._named.public_key().public_bytes_raw()

    @property
    def key_id(self) -> str:
        return key_id_of(self._public)

    def sign(self, message: bytes) -> bytes:
        return self._signing.sign(message)

    def public_keys(self) -> dict[str, bytes]:
        return {self.key_id: self._public}


class _ZeroSigner(_WrongKeySigner):
    """A signer stub left in place: 64 zero bytes, the right length and type."""

    def sign(self, message: bytes) -> bytes:
        return bytes(64)


class _UnpublishedKeyIdSigner(_WrongKeySigner):
    """A key id of the right form that is not the id of any key it publishes."""

    @property
    def key_id(self) -> str:
        return "0123456789abcdef"

    def sign(self, message: bytes) -> bytes:
        return self._named.sign(message)


@pytest.mark.parametrize("signer", [_WrongKeySigner(), _ZeroSigner(), _UnpublishedKeyIdSigner()])
def test_issue_certificate_refuses_a_certificate_its_own_public_keys_do_not_verify(
    signer: _WrongKeySigner,
) -> None:
    """issue_certificate checks only the key id's form and the signature's type and length,
    so a misbehaving host Signer silently hands out certificates that every product refuses
    (found only in the field). Fix: before armouring, take ``signer.public_keys()[key_id]``
    (SigningKeyError if missing, or if key_id_of(it) != key_id) and verify the signature
    with it; raise SigningKeyError when it does not verify."""
    try:
        text = issue_certificate(signer, CLAIMS)
    except SigningKeyError:
        return
    verify(text, signer.public_keys())  # raises CertificateError / ValidationError today


# == verifying: public keys of a surprising form ============================================

_IDENTITY = (1).to_bytes(32, "little")  # the neutral point, order 1
_ZERO = bytes(32)  # y = 0: a point of order 4, what a placeholder key often is


@pytest.mark.parametrize("public_key", [_IDENTITY, _ZERO], ids=["identity", "all-zero"])
def test_a_small_order_public_key_lets_anyone_forge_certificates(public_key: bytes) -> None:
    """The verifier takes any 32 bytes as a public key. Under a small-order key (the
    identity, or the all-zero placeholder "AAAA...A=") the signature R=identity, S=0
    verifies for every message (all-zero: about one message in four; the forger varies a
    claim), so a product built with such a key accepts certificates nobody signed.
    Fix: in verifier._raw_public_key (and signing._retired_key / Ed25519Signer), refuse the
    8 small-order encodings (and their non-canonical twins) with ValidationError."""
    key_id = key_id_of(public_key)
    keys = {key_id: public_key_text(public_key)}
    forged_signature = _IDENTITY + bytes(32)
    accepted = 0
    for n in range(32):
        claims = CertificateClaims.leased(
            installation_id=f"ins_forged_{n}",
            computer_id="SN-0001",
            product="Desktop Pro",
            account_id="acc_1",
            license_key_id="key_1",
            issued_at=T0,
            lease=dt.timedelta(days=90),
        )
        forged = armour(key_id, encode_claims(claims), forged_signature)
        with contextlib.suppress(LicenseKitError):
            verify(forged, keys)
            accepted += 1
    assert accepted == 0


# == verifying: exceptions that are not licensekit's =========================================


@pytest.mark.parametrize(
    "now",
    [dt.datetime.max.replace(tzinfo=dt.UTC), dt.datetime(9999, 12, 31, 23, 58, tzinfo=dt.UTC)],
)
def test_a_now_near_the_end_of_time_is_a_licensekit_error_not_overflow(now: dt.datetime) -> None:
    """``moment + allowance`` overflows: OverflowError escapes verify_certificate (and the
    CLI prints a traceback for ``verify-certificate --at 9999-12-31T23:59:59``).
    Fix: compare ``moment < issued_at - allowance`` / ``moment > valid_until + allowance``
    (the claims are at most year 9999 minus a lease), or catch OverflowError in _check_now
    and raise ValidationError."""
    with pytest.raises(LicenseKitError):
        verify(TEXT, SIGNER.public_keys(), now=now)


def test_claims_the_domain_accepts_give_a_certificate_the_verifier_can_read() -> None:
    """CertificateClaims allows 5 texts of 200 printable characters; astral ones are
    written as 12-character surrogate escapes, and the armour then exceeds
    MAX_CERTIFICATE_CHARS (16,728 > 16,384): issue_certificate hands out a certificate
    that verify_certificate refuses as malformed. Fix: raise MAX_CERTIFICATE_CHARS to the
    domain's worst case (about 17 KiB; 32 KiB leaves room), with a test that pins the
    worst case, or have issue_certificate refuse a payload the verifier would not read."""
    wide = "\U0001f600" * 200
    claims = CertificateClaims.leased(
        installation_id=wide,
        computer_id="SN-" + wide[:197],
        product=wide,
        account_id=wide,
        license_key_id=wide,
        issued_at=T0,
        license_expires_at=T0 + dt.timedelta(days=365),
    )
    try:
        text = issue_certificate(SIGNER, claims)
    except (SigningKeyError, ValidationError):
        return
    verify(text, SIGNER.public_keys(), computer_id=claims.computer_id)


@pytest.mark.parametrize(
    "issued_at",
    [
        dt.datetime(9999, 12, 31, 12, tzinfo=dt.UTC),
        dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))),
    ],
    ids=["lease-past-9999", "before-year-1-in-utc"],
)
def test_claims_at_the_edges_of_time_are_a_validation_error(issued_at: dt.datetime) -> None:
    """CertificateClaims.leased lets OverflowError escape (``start + lease``, and
    ``astimezone(UTC)`` in _instant) where its contract says ValidationError.
    Fix: catch OverflowError in _instant and leased and raise ValidationError."""
    with pytest.raises(ValidationError):
        CertificateClaims.leased(
            installation_id="ins_1",
            computer_id="SN-0001",
            product="Desktop Pro",
            account_id="acc_1",
            license_key_id="key_1",
            issued_at=issued_at,
        )


@pytest.mark.parametrize("form", ["base64", "key object"], ids=lambda form: form.replace(" ", "-"))
def test_ed25519_signer_takes_published_keys_in_the_forms_key_id_of_takes(form: str) -> None:
    """Ed25519Signer(also_published=...) computes the id with key_id_of (which takes base64
    text and key objects) and then stores ``bytes(raw)``: TypeError for both forms.
    Fix: store the raw bytes the id was computed from (a verifier helper returning them),
    or refuse anything but 32 raw bytes with ValidationError."""
    other = Ed25519PrivateKey.generate().public_key()
    published: object = public_key_text(other) if form == "base64" else other
    try:
        signer = Ed25519Signer(Ed25519PrivateKey.generate(), also_published=[published])  # type: ignore[list-item]
    except ValidationError:
        return
    assert all(isinstance(raw, bytes) and len(raw) == 32 for raw in signer.public_keys().values())


# == the key file =============================================================================


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "licensekit.signing-keys"


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_deeply_nested_key_file_is_a_signing_key_error(path: Path) -> None:
    """_read_key_file catches ValueError, KeyError, TypeError and AttributeError, not
    RecursionError, which json.loads raises for a 60 KB file of ``[``: it escapes
    KeyFileSigner() (and the CLI) instead of "the signing key file is damaged".
    Fix: add RecursionError to the caught exceptions, as verifier._read_claims does."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(b"[" * 60_000)
    with pytest.raises(SigningKeyError, match="damaged"):
        KeyFileSigner(path)


def test_two_rotations_that_cross_lose_no_key(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read-modify-write of the key file has no lock and no check that the file is still
    the one read: when two processes rotate at once (two admins, a cron job and an admin),
    the second rename drops the first one's new key. That process goes on signing with a
    key no key file holds: its certificates are refused by every product, and the private
    key is gone. The same loses a prepared 'next' key already shipped to products.
    Fix: hold an exclusive lock (fcntl.flock on a sibling ``.lock`` file) from _change()
    to the rename, or compare the file (inode, mtime, bytes) just before os.replace and
    raise SigningKeyError when another process changed it meanwhile."""
    KeyFileSigner.create(path, now=T0)
    first, second = KeyFileSigner(path), KeyFileSigner(path)
    real = signing.replace_private_file

    def crossed(*args: object, **kwargs: object) -> None:
        # The second process rotates between the first one's read and its rename (in a
        # thread, so that a fix holding a lock makes it wait rather than deadlock here).
        monkeypatch.setattr(signing, "replace_private_file", real)
        other.start()
        other.join(timeout=1)
        real(*args, **kwargs)  # type: ignore[arg-type]

    other = threading.Thread(target=second.rotate)
    monkeypatch.setattr(signing, "replace_private_file", crossed)
    with contextlib.suppress(SigningKeyError):  # refusing the crossed write is a fix too
        first.rotate()
    other.join()
    published = KeyFileSigner(path).public_keys()
    for process in (first, second):
        process_text = issue_certificate(process, CLAIMS)
        try:
            verify(process_text, published)
        except CertificateError as e:
            pytest.fail(f"a process signs with key {process.key_id}, which no file holds: {e}")
