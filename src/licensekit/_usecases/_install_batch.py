"""A batch of new invitations to install, kept compact from the CSV to the result.

Inviting 100,000 people must not hold 100,000 records at once. A :class:`NewInstallBatch`
keeps, per recipient, only the address, the invitation's id and the 57 ASCII characters of its
code and token (in one shared buffer); everything else is the same for the whole batch.
Records are made a chunk at a time, to be stored, and the emails a chunk at a time, to be
sent; the result lists the invitations through :class:`InvitedViews`, which makes each view
when it is read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import NamedTuple, overload

from licensekit._ids import new_ids
from licensekit.codes import SECRET_TEXT, SecretKeys, format_code, new_secret_texts
from licensekit.domain.model import (
    DeliveryStatus,
    InstallInvitation,
    InstallInvitationView,
)

__all__ = ["InvitedViews", "NewInstallBatch", "Outcome", "Outgoing"]

_CODE_TEXT = 25
"""The characters of a canonical activation code (24 random symbols and a check symbol)."""


class Outgoing(NamedTuple):
    """What sending needs of a new invitation: who, which, and how often it was sent."""

    id: str
    email: str
    account_id: str
    sent_count: int = 0
    delivery_attempts: int = 0


class NewInstallBatch:
    """The invitations to install one call makes: ids and secrets for *emails*.

    Args:
        emails: The recipients' addresses, in input order.
        now: The moment of the call (ids are ordered by it).
        account_id: The business account.
        key_id: The key the invitations are for.
        inviter_id: Who invites.
        language: The language of the emails (resolved).
        expires_at: When the codes and links stop working.
        max_activations: How many computers each code may activate.
        send: Whether the emails go out now (then the invitations are stored claimed).
    """

    def __init__(
        self,
        emails: Sequence[str],
        now: dt.datetime,
        *,
        account_id: str,
        key_id: str,
        inviter_id: str,
        language: str,
        expires_at: dt.datetime,
        max_activations: int,
        send: bool,
    ) -> None:
        self.emails = emails
        self.now = now
        self.ids = new_ids("inst", now, len(emails))
        # Every code and token, made at once and kept as ASCII in one buffer (57 bytes each,
        # no object per recipient): read to store the hashes, then to write the emails.
        self._secrets = new_secret_texts(len(emails))
        self.account_id = account_id
        self.key_id = key_id
        self.inviter_id = inviter_id
        self.language = language
        self.expires_at = expires_at
        self.max_activations = max_activations
        self.send = send

    def __len__(self) -> int:
        return len(self.emails)

    def secrets(self, n: int) -> tuple[str, str]:
        """Return recipient *n*'s canonical code (no dashes) and token."""
        text = self._secrets[n * SECRET_TEXT : (n + 1) * SECRET_TEXT].decode("ascii")
        return text[:_CODE_TEXT], text[_CODE_TEXT:]

    def code_and_token(self, n: int) -> tuple[str, str]:
        """Return recipient *n*'s code, as the email shows it, and token."""
        code, token = self.secrets(n)
        return format_code(code), token

    def records(self, keys: SecretKeys, start: int, stop: int) -> list[InstallInvitation]:
        """Return the records of recipients *start* to *stop* (slow in bulk: offloaded).

        Each holds its code's and token's keyed hashes and both encrypted under its id.
        """
        now, send = self.now, self.send
        delivery = DeliveryStatus.SENDING if send else DeliveryStatus.NOT_SENT
        started = now if send else None
        lookup_hash, encrypt = keys.lookup_hash, keys.encrypt
        made = []
        for n in range(start, stop):
            invitation_id = self.ids[n]
            code, token = self.secrets(n)
            made.append(
                InstallInvitation(
                    id=invitation_id,
                    account_id=self.account_id,
                    key_id=self.key_id,
                    email=self.emails[n],
                    language=self.language,
                    invited_by=self.inviter_id,
                    created_at=now,
                    expires_at=self.expires_at,
                    code_hash=lookup_hash("install-code", code),
                    token_hash=lookup_hash("install-token", token),
                    secret_ciphertext=encrypt(f"{code} {token}", bound_to=invitation_id),
                    max_activations=self.max_activations,
                    # Invitations to be sent now are stored claimed by this call (see
                    # Delivery.claim).
                    delivery=delivery,
                    delivery_started_at=started,
                )
            )
        return made

    def outgoing(self, start: int, stop: int) -> list[tuple[int, Outgoing]]:
        """Return recipients *start* to *stop* as sending sees them, with their positions."""
        account_id = self.account_id
        return [(n, Outgoing(self.ids[n], self.emails[n], account_id)) for n in range(start, stop)]


class Outcome(NamedTuple):
    """How an invitation of a new batch whose email failed stands."""

    delivery: DeliveryStatus
    error: str


class InvitedViews(Sequence[InstallInvitationView]):
    """The invitations a batch made, as views made when read (a read-only sequence).

    It compares equal to a tuple (or any sequence) of the same views, and hashes as one.

    Args:
        batch: The batch.
        failed: The invitations whose email failed, by position: how they stand.
    """

    __slots__ = ("_batch", "_failed")

    def __init__(self, batch: NewInstallBatch, failed: dict[int, Outcome]) -> None:
        self._batch = batch
        self._failed = failed

    def __len__(self) -> int:
        return len(self._batch)

    @overload
    def __getitem__(self, index: int) -> InstallInvitationView: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[InstallInvitationView, ...]: ...

    def __getitem__(
        self, index: int | slice
    ) -> InstallInvitationView | tuple[InstallInvitationView, ...]:
        if isinstance(index, slice):
            return tuple(self._view(n) for n in range(*index.indices(len(self))))
        size = len(self)
        n = index.__index__()
        if n < 0:
            n += size
        if not 0 <= n < size:
            raise IndexError("invitation index out of range")
        return self._view(n)

    def __iter__(self) -> Iterator[InstallInvitationView]:
        return (self._view(n) for n in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, InvitedViews | tuple | list):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))

    def _view(self, n: int) -> InstallInvitationView:
        """The view of invitation *n* as the call left it (made from a record as stored)."""
        batch = self._batch
        failed = self._failed.get(n)
        if not batch.send:
            delivery, attempts, error, sent, last = DeliveryStatus.NOT_SENT, 0, "", 0, None
        elif failed is None:
            delivery, attempts, error, sent, last = DeliveryStatus.SENT, 1, "", 1, batch.now
        else:
            delivery, attempts, error, sent, last = failed.delivery, 1, failed.error, 0, None
        stored = InstallInvitation(
            id=batch.ids[n],
            account_id=batch.account_id,
            key_id=batch.key_id,
            email=batch.emails[n],
            language=batch.language,
            invited_by=batch.inviter_id,
            created_at=batch.now,
            expires_at=batch.expires_at,
            code_hash=b"",  # secrets the view does not show
            token_hash=b"",
            secret_ciphertext=b"",
            max_activations=batch.max_activations,
            sent_count=sent,
            last_sent_at=last,
            delivery=delivery,
            delivery_attempts=attempts,
            delivery_error=error,
            delivery_started_at=batch.now if batch.send else None,
        )
        return InstallInvitationView.of(stored, batch.now)
