"""The :class:`~licensekit.signing.Signer` protocol, apart from the signing code.

Documented and imported as :class:`licensekit.signing.Signer`; it is defined here so that
``licensekit`` and its use cases can name it without loading :mod:`licensekit.signing`
(cryptography's Ed25519, the verifier, the key file) at import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

__all__ = ["Signer"]


@runtime_checkable
class Signer(Protocol):
    """Protocol: what signs certificates, wherever its private key is kept.

    A KMS or HSM signer implements these three members. Its key ids must be those
    :func:`licensekit.verifier.key_id_of` derives from the public keys (16 lowercase hex
    digits), or products would not find the key a certificate names.
    """

    @property
    def key_id(self) -> str:
        """The id of the key that :meth:`sign` signs with now."""
        ...

    def sign(self, message: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of *message* by the current key."""
        ...

    def public_keys(self) -> Mapping[str, bytes]:
        """Return the raw 32-byte public keys to publish, by key id.

        The current key's, those of retired keys whose certificates may still be within
        their lease, and that of a key about to become current.
        """
        ...
