"""Signing certificates: the :class:`Signer` protocol, Ed25519 keys, and their key file.

The service signs each certificate (:func:`issue_certificate`) with a :class:`Signer`, and
the installed product checks it with the signer's public keys (:mod:`licensekit.verifier`).
A host plugs in its own signer to keep the private key in a KMS or an HSM; otherwise
:class:`KeyFileSigner` keeps Ed25519 keys in a file that only its owner may read.

The signing key has nothing to do with the host secret (the one the hashes and encryption
keys come from): either can be replaced without touching the other. A key's id is derived
from its public key (:func:`licensekit.verifier.key_id_of`), so that a certificate names the
key that signed it and the product picks the right public key.

Rotation, in three steps, as products verify only against the public keys they were built
with:

1. :meth:`KeyFileSigner.prepare` makes the next key. It signs nothing yet, but its public
   key is published with the others: ship it to the products.
2. :meth:`KeyFileSigner.rotate` makes it current. The old key is retired and stays
   published, so the certificates it signed keep verifying.
3. :meth:`KeyFileSigner.drop` removes the retired key once no certificate it signed is
   within its lease any more (at most
   :data:`~licensekit.domain.certificates.MAX_LEASE` after the rotation).

A rotation without a prepared key (after a leak, say) makes a new key current at once;
copies of the product without its public key then refuse new certificates until they get
it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from licensekit._private_files import (
    create_private_file,
    locked,
    read_file,
    replace_private_file,
)
from licensekit._signer import Signer
from licensekit.domain._echo import echo, echo_path
from licensekit.domain.certificates import (
    DEFAULT_LEASE,
    TIME_FORMAT,
    CertificateClaims,
    armour,
    check_lease,
    encode_claims,
    signed_message,
)
from licensekit.exceptions import SigningKeyError, ValidationError
from licensekit.verifier import PublicKey, _raw_public_key, key_id_of, public_key_text

__all__ = [
    "KEY_FILE_FORMAT",
    "Ed25519Signer",
    "KeyFileSigner",
    "KeyState",
    "Signer",
    "SigningKey",
    "issue_certificate",
]

KEY_FILE_FORMAT = "licensekit signing keys"
"""The ``format`` member of a key file, naming what the file is."""

_KEY_FILE_VERSION = 1
_MAX_KEY_FILE_BYTES = 1 << 16
_WHAT = "signing key file"
_KEY_ID = re.compile(r"[0-9a-f]{16}")
_SIGNATURE_BYTES = 64


# The protocol lives in a module that imports nothing heavy, so that importing licensekit
# (whose LicenseKit takes a signer) does not load cryptography's Ed25519 and the verifier.
Signer.__module__ = __name__


class Ed25519Signer:
    """A signer holding its Ed25519 private key in memory.

    For a host that keeps the key elsewhere (a secret manager) and loads it itself, and for
    tests; :class:`KeyFileSigner` keeps keys in a file.

    Args:
        private_key: The current key, which signs.
        also_published: Public keys published beside it, in the forms
            :data:`~licensekit.verifier.PublicKey` names (32 raw bytes, their base64, or a
            key object): retired keys whose certificates still run, and the next key,
            published ahead of its use.

    Raises:
        ValidationError: *private_key* is not an Ed25519 private key, or a key of
            *also_published* is not an Ed25519 public key or is one of small order.
    """

    def __init__(
        self, private_key: Ed25519PrivateKey, *, also_published: Iterable[PublicKey] = ()
    ) -> None:
        if not isinstance(private_key, Ed25519PrivateKey):
            raise ValidationError(
                f"private_key must be an Ed25519PrivateKey, got {type(private_key).__name__}"
            )
        self._private_key = private_key
        public_key = private_key.public_key().public_bytes_raw()
        self._key_id = key_id_of(public_key)
        self._published = {self._key_id: public_key}
        for value in also_published:
            raw = _raw_public_key(value, "also_published", trusted=True)
            self._published.setdefault(key_id_of(raw), raw)

    @classmethod
    def generate(cls) -> Ed25519Signer:
        """Return a signer with a new random key."""
        return cls(Ed25519PrivateKey.generate())

    @property
    def key_id(self) -> str:
        """The id of the current key."""
        return self._key_id

    def sign(self, message: bytes) -> bytes:
        """Return the Ed25519 signature of *message* by the current key."""
        return self._private_key.sign(message)

    def public_keys(self) -> Mapping[str, bytes]:
        """Return the current public key, then the others published, by key id."""
        return dict(self._published)

    def __repr__(self) -> str:
        return f"Ed25519Signer(key_id={self._key_id!r})"


class KeyState(enum.StrEnum):
    """The part a key of a key file plays."""

    CURRENT = "current"
    """It signs the certificates issued now."""
    NEXT = "next"
    """Made and published ahead: it becomes current at the next rotation."""
    RETIRED = "retired"
    """Replaced; still published, so that the certificates it signed keep verifying."""


@attrs.frozen
class SigningKey:
    """One key of a key file, as :attr:`KeyFileSigner.keys` lists it (no private part).

    Attributes:
        key_id: Its id.
        state: Current, next or retired.
        public_key: Its raw 32-byte public key.
        created_at: When it was made.
        retired_at: When a newer key replaced it; None unless it is retired.
    """

    key_id: str
    state: KeyState
    public_key: bytes = attrs.field(repr=False)
    created_at: dt.datetime
    retired_at: dt.datetime | None = None

    @property
    def public_key_text(self) -> str:
        """The public key as base64, as a product embeds it."""
        return public_key_text(self.public_key)


@attrs.frozen
class _PrivateKey:
    key: Ed25519PrivateKey
    created_at: dt.datetime

    @property
    def public_key(self) -> bytes:
        return self.key.public_key().public_bytes_raw()

    def listed(self, state: KeyState) -> SigningKey:
        public_key = self.public_key
        return SigningKey(key_id_of(public_key), state, public_key, self.created_at)


@attrs.frozen
class _KeyFile:
    """What a key file holds: the current and next private keys, the retired public keys."""

    current: _PrivateKey
    next: _PrivateKey | None
    retired: tuple[SigningKey, ...]  # newest first

    @property
    def keys(self) -> tuple[SigningKey, ...]:
        ahead = () if self.next is None else (self.next.listed(KeyState.NEXT),)
        return (self.current.listed(KeyState.CURRENT), *ahead, *self.retired)

    def signer(self) -> Ed25519Signer:
        return Ed25519Signer(self.current.key, also_published=[k.public_key for k in self.keys])


class KeyFileSigner:
    """The default signer: Ed25519 keys in a JSON file that only its owner may read.

    The file holds the current private key, optionally the next one (made ahead by
    :meth:`prepare`, so that products get its public key before it signs anything), and the
    public keys of retired ones, with when each was made and retired. It is refused, as the
    host secret's file is, if its group or others may read it, if it belongs to another
    user, or if it is not a regular file.

    The file is read when the signer is made; a service keeps signing with that key until
    it is restarted or calls :meth:`reload`, which is safe: after a rotation the old key
    stays published.

    Args:
        path: The key file, made by :meth:`create`.

    Raises:
        SigningKeyError: The file is missing, unreadable, readable by others, or damaged.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._file = _read_key_file(self.path)
        self._signer = self._file.signer()

    @classmethod
    def create(
        cls, path: str | os.PathLike[str], *, now: dt.datetime | None = None
    ) -> KeyFileSigner:
        """Make a new key file at *path* with a new key, readable by its owner alone.

        Raises:
            SigningKeyError: A file exists there already (it is never overwritten), or the
                file cannot be created.
        """
        target = Path(path)
        key_file = _KeyFile(_PrivateKey(Ed25519PrivateKey.generate(), _now(now)), None, ())
        with locked(target, _WHAT, error=SigningKeyError):
            create_private_file(target, _document(key_file), _WHAT, error=SigningKeyError)
        return cls(target)

    def reload(self) -> None:
        """Read the key file again, after another process changed it.

        Raises:
            SigningKeyError: The file is missing, unreadable, readable by others, or damaged.
        """
        self._file = _read_key_file(self.path)
        self._signer = self._file.signer()

    @property
    def key_id(self) -> str:
        """The id of the current key."""
        return self._signer.key_id

    def sign(self, message: bytes) -> bytes:
        """Return the Ed25519 signature of *message* by the current key."""
        return self._signer.sign(message)

    def public_keys(self) -> Mapping[str, bytes]:
        """Return every public key to publish, by key id, in the order of :attr:`keys`."""
        return self._signer.public_keys()

    @property
    def keys(self) -> tuple[SigningKey, ...]:
        """The keys of the file: the current one, the next if any, the retired newest first."""
        return self._file.keys

    def prepare(self, *, now: dt.datetime | None = None) -> SigningKey:
        """Make the next key: published from now on, signing from the next :meth:`rotate`.

        Returns:
            The next key.

        Raises:
            SigningKeyError: The file holds a next key already, or cannot be read or
                written.
        """
        moment = _now(now)
        with self._change() as found:
            if found.next is not None:
                raise SigningKeyError(
                    f"{echo_path(self.path)} holds a next key already, "
                    f"{found.next.listed(KeyState.NEXT).key_id}; rotate to it, or drop it first"
                )
            ahead = _PrivateKey(Ed25519PrivateKey.generate(), moment)
            self._write(attrs.evolve(found, next=ahead))
        return self._file.keys[1]

    def rotate(self, *, now: dt.datetime | None = None) -> SigningKey:
        """Make the next key current (a new one if none was prepared); retire the current one.

        The retired key stays published, so the certificates it signed keep verifying until
        it is dropped. Certificates signed from now on name the new key: a product that
        does not have its public key refuses them, which :meth:`prepare` avoids.

        Returns:
            The new current key.

        Raises:
            SigningKeyError: The file cannot be read or written.
        """
        moment = _now(now)
        with self._change() as found:
            successor = found.next or _PrivateKey(Ed25519PrivateKey.generate(), moment)
            retired = attrs.evolve(found.current.listed(KeyState.RETIRED), retired_at=moment)
            self._write(_KeyFile(successor, None, (retired, *found.retired)))
        return self._file.keys[0]

    def drop(
        self,
        key_id: str,
        *,
        lease: dt.timedelta = DEFAULT_LEASE,
        force: bool = False,
        now: dt.datetime | None = None,
    ) -> SigningKey:
        """Stop publishing the retired or next key *key_id*.

        Certificates a dropped retired key signed stop verifying once products lose its
        public key, so a retired key is dropped only once *lease* (the service's
        ``Settings.certificate_lease``) has passed since it was retired: by then every
        certificate it signed has run out. *force* drops it earlier (a leaked key, say).

        Returns:
            The key dropped.

        Raises:
            SigningKeyError: *key_id* is the current key or no key of the file; it was
                retired less than *lease* ago and *force* is not set; or the file cannot be
                read or written.
        """
        moment = _now(now)
        check_lease(lease)
        with self._change() as found:
            keys = {key.key_id: key for key in found.keys}
            dropped = keys.get(key_id)
            if dropped is None:
                raise SigningKeyError(
                    f"no key {echo(key_id)} in {echo_path(self.path)} (its keys: {', '.join(keys)})"
                )
            if dropped.state is KeyState.CURRENT:
                raise SigningKeyError(
                    f"{key_id} is the current signing key; rotate to a new key first, then drop it"
                )
            retired_at = dropped.retired_at
            if not force and retired_at is not None and moment - retired_at < lease:
                raise SigningKeyError(
                    f"{key_id} was retired at {retired_at:%Y-%m-%d %H:%M} UTC: certificates it "
                    f"signed may be valid until {retired_at + lease:%Y-%m-%d %H:%M} UTC, and "
                    "products would "
                    "refuse them; drop it after that, or force it (a leaked key)"
                )
            if dropped.state is KeyState.NEXT:
                self._write(attrs.evolve(found, next=None))
            else:
                kept = tuple(key for key in found.retired if key.key_id != key_id)
                self._write(attrs.evolve(found, retired=kept))
        return dropped

    @contextmanager
    def _change(self) -> Iterator[_KeyFile]:
        """The file as it is now, locked until the block ends (and the change is written).

        Another process changing the file waits for the lock, then reads the file again: no
        change is written over one it has not read.
        """
        with locked(self.path, _WHAT, error=SigningKeyError):
            self.reload()
            yield self._file

    def _write(self, key_file: _KeyFile) -> None:
        replace_private_file(self.path, _document(key_file), _WHAT, error=SigningKeyError)
        self._file = key_file
        self._signer = key_file.signer()

    def __repr__(self) -> str:
        return f"KeyFileSigner({str(self.path)!r}, key_id={self.key_id!r})"


def issue_certificate(signer: Signer, claims: CertificateClaims) -> str:
    """Sign *claims* with *signer*'s current key and return the certificate's armoured text.

    The signature of a host's own signer is checked with the public key the signer publishes
    for its key id before the certificate is handed out, so that a signer whose keys do not
    match (a KMS alias moved, a stub left in place) fails here rather than in every product.
    licensekit's own signers (:class:`Ed25519Signer`, :class:`KeyFileSigner`, not their
    subclasses) derive their key id and published key from the private key they sign with,
    so the check, two thirds of the cost of issuing, is skipped for them.

    Raises:
        SigningKeyError: The signer gave a key id or a signature of the wrong form; does not
            publish a usable public key for its key id; or its signature does not verify
            under that key.
    """
    key_id: object = signer.key_id
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        raise SigningKeyError(
            f"the signer's key id must be 16 lowercase hexadecimal digits, got {echo(key_id)}"
        )
    payload = encode_claims(claims)
    message = signed_message(key_id, payload)
    signature: object = signer.sign(message)
    if not isinstance(signature, bytes) or len(signature) != _SIGNATURE_BYTES:
        raise SigningKeyError(
            f"the signer returned {echo(signature)} as a signature; an Ed25519 signature is "
            f"{_SIGNATURE_BYTES} bytes"
        )
    if type(signer) not in _CONSISTENT_BY_MAKING:
        _check_signature(signer, key_id, message, signature)
    return armour(key_id, payload, signature)


_CONSISTENT_BY_MAKING: tuple[type, ...] = (Ed25519Signer, KeyFileSigner)


def _is_local_signer(signer: Signer) -> bool:
    """Whether *signer* is one of licensekit's, which sign in this process, in microseconds.

    A host's own signer may call a KMS or an HSM; the async API runs it in a worker thread.
    """
    return type(signer) in _CONSISTENT_BY_MAKING


"""Signers whose key id, published key and signatures come from one private key."""


def _check_signature(signer: Signer, key_id: str, message: bytes, signature: bytes) -> None:
    """Refuse *signature* unless it verifies under the public key *signer* gives for *key_id*."""
    published: object = signer.public_keys()
    value = published.get(key_id) if isinstance(published, Mapping) else None
    if value is None:
        raise SigningKeyError(
            f"the signer does not publish the public key of its current key {key_id}: "
            "products could not verify its certificates"
        )
    try:
        raw = _raw_public_key(value, f"the signer's public key {key_id}", trusted=True)
    except ValidationError as e:
        raise SigningKeyError(str(e)) from None
    if key_id_of(raw) != key_id:
        raise SigningKeyError(
            f"the signer publishes, as its key {key_id}, the public key whose id is "
            f"{key_id_of(raw)}: its key id and its keys do not match"
        )
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, message)
    except InvalidSignature:
        raise SigningKeyError(
            f"the signer's signature does not verify under its published public key {key_id}: "
            "it signs with another key than the one it names (or returns no real signature); "
            "no certificate was issued"
        ) from None


# == the key file ===============================================================================


def _now(now: object) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    if not isinstance(now, dt.datetime) or now.utcoffset() is None:
        raise ValidationError(f"now must be a timezone-aware datetime, got {echo(now)}")
    return now.astimezone(dt.UTC).replace(microsecond=0)


def _document(key_file: _KeyFile) -> bytes:
    """The content of a key file: JSON, the private keys in base64 of their 32 raw bytes."""
    ahead = key_file.next
    data = {
        "format": KEY_FILE_FORMAT,
        "version": _KEY_FILE_VERSION,
        "current": _private_entry(key_file.current),
        "next": None if ahead is None else _private_entry(ahead),
        "retired": [
            {
                "public_key": _b64(key.public_key),
                "created_at": _time_text(key.created_at),
                "retired_at": _time_text(key.retired_at),
            }
            for key in key_file.retired
        ],
    }
    return (json.dumps(data, indent=2) + "\n").encode("ascii")


def _private_entry(key: _PrivateKey) -> dict[str, str | None]:
    return {
        "private_key": _b64(key.key.private_bytes_raw()),
        "created_at": _time_text(key.created_at),
    }


def _time_text(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.strftime(TIME_FORMAT)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _read_key_file(path: Path) -> _KeyFile:
    try:
        data = read_file(path, _WHAT, most=_MAX_KEY_FILE_BYTES, error=SigningKeyError)
    except FileNotFoundError:
        raise SigningKeyError(
            f"no signing key file at {echo_path(path)}; make one with "
            "'licensekit signing-key create' (or KeyFileSigner.create)"
        ) from None
    try:
        return _parse_document(json.loads(data))
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
        raise SigningKeyError(
            f"the signing key file {echo_path(path)} is damaged: {_why(e)}"
        ) from None


def _why(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"{error} is missing"
    if isinstance(error, UnicodeDecodeError | json.JSONDecodeError):
        return "it is not JSON"
    if isinstance(error, RecursionError):
        return "it is nested too deeply"
    return str(error) or type(error).__name__


def _parse_document(document: Any) -> _KeyFile:
    if not isinstance(document, dict) or document.get("format") != KEY_FILE_FORMAT:
        raise ValueError(f"it does not say it is a {KEY_FILE_FORMAT!r} file")
    if document.get("version") != _KEY_FILE_VERSION:
        raise ValueError(
            f"its version is {echo(document.get('version'))}; this licensekit reads version "
            f"{_KEY_FILE_VERSION}"
        )
    ahead = document["next"]
    retired = document["retired"]
    if not isinstance(retired, list):
        raise ValueError("'retired' is not a list")
    key_file = _KeyFile(
        _private_key(_entry(document["current"], "current")),
        None if ahead is None else _private_key(_entry(ahead, "next")),
        tuple(_retired_key(_entry(entry, "a retired key")) for entry in retired),
    )
    if len({key.key_id for key in key_file.keys}) != len(key_file.keys):
        raise ValueError("it holds the same key twice")
    return key_file


def _entry(value: object, name: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise ValueError(f"{name} is not a JSON object")
    return value


def _private_key(entry: dict[str, object]) -> _PrivateKey:
    seed = _raw(entry["private_key"], "a private key")
    return _PrivateKey(Ed25519PrivateKey.from_private_bytes(seed), _time(entry["created_at"]))


def _retired_key(entry: dict[str, object]) -> SigningKey:
    raw = _raw(entry["public_key"], "a retired public key")
    try:
        _raw_public_key(raw, "a retired public key", trusted=True)
    except ValidationError:
        raise ValueError("a retired public key is of small order, not a signing key's") from None
    Ed25519PublicKey.from_public_bytes(raw)
    return SigningKey(
        key_id_of(raw),
        KeyState.RETIRED,
        raw,
        _time(entry["created_at"]),
        _time(entry["retired_at"]),
    )


def _raw(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise ValueError(f"{what} is not base64 text")
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError(f"{what} is not base64 text") from None
    if len(raw) != 32:
        raise ValueError(f"{what} is {len(raw)} bytes long, not 32")
    return raw


def _time(text: object) -> dt.datetime:
    if not isinstance(text, str):
        raise ValueError(f"{echo(text)} is not a time")
    return dt.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=dt.UTC)
