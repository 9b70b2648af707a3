"""The emails of invitations to install: writing them, sending them, storing how it went.

Scopes: storing how sending went locks ``key:<key id>`` of the invitations sent, the scope
an activation changes an invitation under, so that neither overwrites the other's change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from functools import partial

from licensekit._prepared_email import PreparedEmail
from licensekit._results import DeliveryFailure
from licensekit._usecases._install_batch import NewInstallBatch, Outcome, Outgoing
from licensekit._usecases._install_secrets import download_link
from licensekit.aio._usecases._context import Context
from licensekit.aio._usecases._delivery import MAX_DELIVERY_ERROR, SEND_CHUNK, Delivery, Sendable
from licensekit.aio._usecases._key_access import key_scope
from licensekit.aio._usecases._tx import Tx
from licensekit.domain.model import (
    AuditAction,
    BusinessAccount,
    DeliveryStatus,
    InstallInvitation,
    KeyStatus,
    LicenseKey,
    User,
)
from licensekit.mail import Message, MessageKind
from licensekit.storage import INSTALL_INVITATIONS, LICENSE_KEYS

__all__ = ["InstallMail"]


class InstallMail:
    """Writes, sends and records the emails of invitations to install.

    Args:
        ctx: The shared context.
        delivery: Hands messages to the mailer and records the outcome.
    """

    def __init__(self, ctx: Context, delivery: Delivery) -> None:
        self._ctx = ctx
        self.delivery = delivery

    def message(
        self,
        invitation: InstallInvitation,
        code: str,
        token: str,
        key: LicenseKey,
        owner: BusinessAccount,
        inviter: User,
        prepared: dict[tuple[str, str, dt.datetime], PreparedEmail] | None = None,
    ) -> Message:
        """Return the email inviting *invitation*'s address, with its *code* and *token*.

        With *prepared*, the emails of a batch are written once per language, inviter and
        expiry (kept there), and each message fills in only its address, link and code.
        """
        return self._write(
            invitation.email,
            invitation.language,
            invitation.expires_at,
            code,
            token,
            key,
            owner,
            inviter,
            prepared,
        )

    def _write(
        self,
        to: str,
        language: str,
        expires_at: dt.datetime,
        code: str,
        token: str,
        key: LicenseKey,
        owner: BusinessAccount,
        inviter: User,
        prepared: dict[tuple[str, str, dt.datetime], PreparedEmail] | None,
    ) -> Message:
        ctx = self._ctx
        shared = (language, inviter.id, expires_at)
        email = None if prepared is None else prepared.get(shared)
        if email is None:
            email = ctx.templates.prepare(
                MessageKind.INSTALL_INVITATION,
                language=language,
                values={
                    "product": key.product,
                    "account_name": owner.name,
                    "inviter": inviter.email,
                    "service_name": ctx.settings.service_name,
                },
                expires_at=expires_at,
                data={"inviter_email": inviter.email},
            )
            if prepared is not None:
                prepared[shared] = email
        message: Message = email.render(
            to, {"link": download_link(ctx.links, token), "code": code}, {"token": token}
        )
        return message

    def _new_message(
        self,
        batch: NewInstallBatch,
        n: int,
        key: LicenseKey,
        owner: BusinessAccount,
        inviter: User,
        prepared: dict[tuple[str, str, dt.datetime], PreparedEmail],
    ) -> Message:
        """Return the email of recipient *n* of a new *batch*."""
        code, token = batch.code_and_token(n)
        return self._write(
            batch.emails[n],
            batch.language,
            batch.expires_at,
            code,
            token,
            key,
            owner,
            inviter,
            prepared,
        )

    async def send_new(
        self, batch: NewInstallBatch, key: LicenseKey, owner: BusinessAccount, inviter: User
    ) -> tuple[dict[int, Outcome], list[DeliveryFailure]]:
        """Send the emails of a *batch* just stored, a chunk at a time, recording each chunk.

        Returns how the invitations whose email failed stand (by position in the batch, for
        :class:`~licensekit._usecases._install_batch.InvitedViews`), and the failures.
        Nothing per recipient is kept beyond the failures.
        """
        prepared: dict[tuple[str, str, dt.datetime], PreparedEmail] = {}
        failed_at: dict[int, Outcome] = {}
        failures: list[DeliveryFailure] = []
        now, actor_id = batch.now, inviter.id
        for start in range(0, len(batch), SEND_CHUNK):
            entries = batch.outgoing(start, min(start + SEND_CHUNK, len(batch)))
            items = [
                (entry, partial(self._new_message, batch, n, key, owner, inviter, prepared))
                for n, entry in entries
            ]
            sent, refused = await self.delivery.deliver(items)
            await self.delivery.after_sending(
                partial(self._record_new, batch.key_id, sent, refused, now, actor_id)
            )
            if refused:
                position = {entry.id: n for n, entry in entries}
                for failure in refused:
                    status = DeliveryStatus.REFUSED if failure.permanent else DeliveryStatus.FAILED
                    failed_at[position[failure.invitation_id]] = Outcome(
                        status, failure.reason[:MAX_DELIVERY_ERROR]
                    )
                failures.extend(refused)
        return failed_at, failures

    async def _record_new(
        self,
        key_id: str,
        delivered: Sequence[Outgoing],
        failed: Sequence[DeliveryFailure],
        now: dt.datetime,
        actor_id: str,
        tx: Tx,
    ) -> None:
        """Store how sending a chunk of a new batch went (see :meth:`record`)."""
        await self.record(key_id, tx, delivered, failed, now=now, actor_id=actor_id, keep=False)

    async def send(
        self,
        batch: Iterable[tuple[InstallInvitation, str, str]],
        key: LicenseKey,
        owner: BusinessAccount,
        inviters: Mapping[str, User],
        now: dt.datetime,
        actor_id: str,
    ) -> tuple[dict[str, InstallInvitation], list[InstallInvitation], list[DeliveryFailure]]:
        """Send each invitation's email; return those tried, those sent, and the failures.

        The first two are as now stored (the first by id). Each email names the invitation's
        creator (from *inviters*, by user id).
        """
        prepared: dict[tuple[str, str, dt.datetime], PreparedEmail] = {}
        stored, delivered, undelivered = await self.delivery.deliver_and_record(
            (
                (
                    invitation,
                    partial(
                        self.message,
                        invitation,
                        code,
                        token,
                        key,
                        owner,
                        inviters[invitation.invited_by],
                        prepared,
                    ),
                )
                for invitation, code, token in batch
            ),
            partial(self.record, key.id, now=now, actor_id=actor_id),
        )
        return stored, [stored[i.id] for i in delivered], undelivered

    async def record(
        self,
        key_id: str,
        tx: Tx,
        delivered: Sequence[Sendable],
        failed: Sequence[DeliveryFailure],
        *,
        now: dt.datetime,
        actor_id: str,
        keep: bool = True,
    ) -> dict[str, InstallInvitation]:
        """Store how sending went for invitations of *key_id*, under the key's scope.

        An invitation whose key was replaced meanwhile (it moved to the new key) is stored
        under the new key's scope too.
        """
        await tx.lock(key_scope(key_id))
        # Invitations move to another key only when their key is replaced, which removes it
        # in the same transaction, under this scope: while the key is not removed, none of
        # its invitations has moved, and the key's scope is the only one to hold.
        key = await tx.get(LICENSE_KEYS, key_id)
        reread = key is None or key.status is KeyStatus.REMOVED

        async def fetch(ids: Sequence[str]) -> list[InstallInvitation]:
            found = await tx.get_many(INSTALL_INVITATIONS, ids)
            moved = sorted({key_scope(i.key_id) for i in found if i.key_id != key_id})
            if moved and await tx.lock(*moved):
                found = await tx.get_many(INSTALL_INVITATIONS, ids)
            return found

        return await self.delivery.record(
            tx,
            delivered,
            failed,
            now,
            actor_id,
            INSTALL_INVITATIONS,
            fetch,
            (AuditAction.INSTALL_INVITATION_SENT, AuditAction.INSTALL_INVITATION_UNDELIVERED),
            reread=reread,
            keep=keep,
        )
