"""The emails of invitations to install: writing them, sending them, storing how it went.

Scopes: storing how sending went locks ``key:<key id>`` of the invitations sent, the scope
an activation changes an invitation under, so that neither overwrites the other's change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from functools import partial

from licensekit._results import DeliveryFailure
from licensekit._usecases._install_secrets import download_link
from licensekit.aio._usecases._context import Context
from licensekit.aio._usecases._delivery import Delivery
from licensekit.aio._usecases._key_access import key_scope
from licensekit.aio._usecases._tx import Tx
from licensekit.domain.model import (
    AuditAction,
    BusinessAccount,
    InstallInvitation,
    LicenseKey,
    User,
)
from licensekit.mail import Message, render_install_invitation
from licensekit.storage import INSTALL_INVITATIONS

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
    ) -> Message:
        """Return the email inviting *invitation*'s address, with its *code* and *token*."""
        ctx = self._ctx
        return render_install_invitation(
            templates=ctx.templates,
            to=invitation.email,
            product=key.product,
            account_name=owner.name,
            inviter_email=inviter.email,
            download_url=download_link(ctx.links, token),
            code=code,
            token=token,
            expires_at=invitation.expires_at,
            language=invitation.language,
            service_name=ctx.settings.service_name,
        )

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
        delivered: Sequence[InstallInvitation],
        failed: Sequence[DeliveryFailure],
        *,
        now: dt.datetime,
        actor_id: str,
    ) -> dict[str, InstallInvitation]:
        """Store how sending went for invitations of *key_id*, under the key's scope.

        An invitation whose key was replaced meanwhile (it moved to the new key) is stored
        under the new key's scope too.
        """
        await tx.lock(key_scope(key_id))

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
            fetch,
            partial(tx.save_all, INSTALL_INVITATIONS),
            (AuditAction.INSTALL_INVITATION_SENT, AuditAction.INSTALL_INVITATION_UNDELIVERED),
        )
