"""The tokens of the links licensekit emails about a personal account.

Two kinds of link prove that someone reads a user's mailbox: email verification and password
reset. Their tokens are not stored. A token is the AES-GCM ciphertext (under the key derived
from the host's secret, bound to the link's purpose) of three facts:

* the user's id;
* when the link stops working;
* a fingerprint of the account as it was when the link was made: a keyed hash of its
  address, when its address was proven and, once it is, its password hash.

Presenting a token decrypts it, reads the user, and compares the fingerprint with the one
the account has now. Anything a link does changes that state (a proven address, a new
password), so every link of the user made before stops working: each link is single use, a
verification link dies once the address is proven, and once it is, a reset link dies when the
password changes by any path. Before, the password is whoever registered the address, so
changing it leaves the links in the owner's mailbox working: a squatter cannot kill them.
A storage dump holds nothing that opens a link, and a token cannot be forged or moved to
another purpose without the host's secret.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum

import attrs

from licensekit.codes import SecretKeys
from licensekit.domain.model import User
from licensekit.exceptions import InvalidToken, StorageError

__all__ = ["LinkClaims", "LinkPurpose", "issue_link_token", "link_expiry", "open_link_token"]

# Far more than a real token (about 120 characters); longer input is refused unread.
_MAX_TOKEN_CHARS = 512
_FINGERPRINT_BYTES = 12


class LinkPurpose(enum.StrEnum):
    """What an emailed account link does; a token made for one never works for the other."""

    VERIFY_EMAIL = "verify-email"
    RESET_PASSWORD = "reset-password"  # noqa: S105 - a purpose, not a password


@attrs.frozen
class LinkClaims:
    """What a token says, once decrypted: whose link it is, until when, for which state."""

    user_id: str
    expires_at: dt.datetime
    fingerprint: bytes = attrs.field(repr=False)

    def check(self, keys: SecretKeys, purpose: LinkPurpose, user: User, now: dt.datetime) -> None:
        """Refuse the link unless it is *user*'s, unexpired and made for their current state.

        Raises:
            InvalidToken: The link has expired, or the account changed since it was made.
        """
        if user.id != self.user_id:  # pragma: no cover - callers read the user by this id
            raise InvalidToken("this link is not valid")
        if now >= self.expires_at:
            raise InvalidToken(f"this link expired at {self.expires_at.isoformat()}")
        if _fingerprint(keys, purpose, user) != self.fingerprint:
            raise InvalidToken("this link has been used already, or a newer change replaced it")


def issue_link_token(
    keys: SecretKeys, purpose: LinkPurpose, user: User, expires_at: dt.datetime
) -> str:
    """Return a token for *user*'s *purpose* link, working until *expires_at*.

    The token keeps whole seconds: pass an expiry without microseconds (see
    :func:`link_expiry`), so that the link works exactly until the time its email states.
    """
    fingerprint = base64.urlsafe_b64encode(_fingerprint(keys, purpose, user)).decode("ascii")
    payload = f"{user.id}\n{int(expires_at.timestamp())}\n{fingerprint}"
    sealed = keys.encrypt(payload, bound_to=_binding(purpose))
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")


def link_expiry(now: dt.datetime, lifetime: dt.timedelta) -> dt.datetime:
    """Return when a link made at *now* for *lifetime* stops working, to the whole second."""
    return (now + lifetime).replace(microsecond=0)


def open_link_token(keys: SecretKeys, purpose: LinkPurpose, token: object) -> LinkClaims | None:
    """Return what *token* says, or None when it is not a token this host made for *purpose*."""
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_CHARS:
        return None
    text = token.strip()
    try:
        # Strictly: a character outside the URL-safe alphabet is not ignored, it refuses.
        sealed = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
        payload = keys.decrypt(sealed, bound_to=_binding(purpose))
        user_id, expiry, fingerprint = payload.split("\n")
        return LinkClaims(
            user_id=user_id,
            expires_at=dt.datetime.fromtimestamp(int(expiry), dt.UTC),
            fingerprint=base64.urlsafe_b64decode(fingerprint),
        )
    except (StorageError, binascii.Error, ValueError, UnicodeError, OverflowError, OSError):
        return None


def _binding(purpose: LinkPurpose) -> str:
    return f"licensekit account link: {purpose.value}"


def _fingerprint(keys: SecretKeys, purpose: LinkPurpose, user: User) -> bytes:
    if user.email_verified_at is None:
        # Unproven, the password is whoever registered the address: changing it must not kill
        # the owner's link. Every use of a link proves the address, so each still works once.
        proven, password = "", ""
    else:
        proven, password = user.email_verified_at.isoformat(), user.password_hash or ""
    state = "\x00".join((user.id, user.email, password, proven))
    return keys.lookup_hash(f"account link {purpose.value}", state)[:_FINGERPRINT_BYTES]
