"""Join invitations' shared steps: their secrets, their emails, and finding them.

:class:`JoinLinks` makes an invitation's token (before the transaction that stores it),
writes its email, stores how sending went (holding the account's scope), and finds the
invitation a presented link's token names (counting unknown tokens per client, holding that
counter's ``throttle:<key>`` scope).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs

from licensekit._ids import new_id
from licensekit._results import DeliveryFailure
from licensekit._usecases._checks import TOKEN_PLACEHOLDER, as_id, clean_client
from licensekit._usecases._scopes import account_scope
from licensekit.aio._usecases._context import Context
from licensekit.aio._usecases._delivery import Delivery
from licensekit.aio._usecases._throttle import scopes, throttle_guess
from licensekit.aio._usecases._tx import Tx, named
from licensekit.codes import new_token
from licensekit.domain import members
from licensekit.domain._echo import echo
from licensekit.domain.model import AuditAction, BusinessAccount, JoinInvitation, User
from licensekit.domain.throttling import ThrottledSecret, client_key
from licensekit.exceptions import InvitationNotFound, TooManyAttempts
from licensekit.mail import Message, MessageKind
from licensekit.storage import JOIN_INVITATIONS

__all__ = ["JoinLinks", "JoinSecret", "all_in_account", "asks_current_password", "in_account"]


@attrs.frozen
class JoinSecret:
    """A join invitation's id and token, with the token's hash and ciphertext."""

    invitation_id: str
    token: str = attrs.field(repr=False)
    token_hash: bytes = attrs.field(repr=False)
    token_ciphertext: bytes = attrs.field(repr=False)


async def in_account(tx: Tx, account_id: str, invitation_id: str) -> JoinInvitation:
    """Return the join invitation *invitation_id* of *account_id*, or raise InvitationNotFound."""
    wanted = as_id(invitation_id)
    invitation = None
    if wanted is not None:
        invitation = await tx.get(JOIN_INVITATIONS, wanted)
    if invitation is None or invitation.account_id != account_id:
        raise InvitationNotFound(
            f"no invitation {echo(invitation_id)} in business account {echo(account_id)}"
        )
    return invitation


async def all_in_account(tx: Tx, account_id: str, wanted: Sequence[str]) -> list[JoinInvitation]:
    """Return the join invitations *wanted* of *account_id*, in that order, read at once.

    Raises:
        InvitationNotFound: The first of *wanted* that is not an invitation of the account.
    """
    return await named(
        tx,
        JOIN_INVITATIONS,
        wanted,
        lambda invitation: invitation.account_id == account_id,
        lambda invitation_id: InvitationNotFound(
            f"no invitation {echo(invitation_id)} in business account {echo(account_id)}"
        ),
    )


def asks_current_password(user: User) -> bool:
    """True when only the holder of *user*'s current password may accept for them.

    That is a proven account: it belongs to the owner of the address, and a link alone
    (which may have been forwarded) does not hand it over, nor give it a password it does
    not have. For an unproven one, the invitation link itself proves the address, and the
    invitee chooses the password.
    """
    return user.email_verified


class JoinLinks:
    """The secrets, emails and look-ups of join invitations (see the module docstring).

    Args:
        ctx: The keys, templates, settings and runner to use.
        delivery: Stores how sending went.
    """

    def __init__(self, ctx: Context, delivery: Delivery) -> None:
        self._ctx = ctx
        self._delivery = delivery

    def new_secret(self, now: dt.datetime) -> JoinSecret:
        """Return a new invitation id and token, hashed and encrypted for storage."""
        invitation_id = new_id("jinv", now)
        token = new_token()
        keys = self._ctx.keys
        return JoinSecret(
            invitation_id=invitation_id,
            token=token,
            token_hash=keys.lookup_hash("join", token),
            token_ciphertext=keys.encrypt(token, bound_to=invitation_id),
        )

    def token_of(self, invitation: JoinInvitation) -> str:
        """Return the token of a stored invitation's link (to send it again)."""
        return self._ctx.keys.decrypt(invitation.token_ciphertext, bound_to=invitation.id)

    def message(
        self, invitation: JoinInvitation, token: str, account: BusinessAccount, inviter: User
    ) -> Message:
        """Return the email of *invitation*, whose link carries *token*.

        The message :func:`~licensekit.mail.render_join_invitation` writes, from the parts
        its account, inviter, language and expiry share (prepared once for every message
        that shares them: see :meth:`~licensekit.mail.Templates.prepare`), with the
        invitee's link and token filled in.
        """
        ctx = self._ctx
        prepared = ctx.templates.prepare(
            MessageKind.JOIN_INVITATION,
            language=invitation.language,
            values={
                "account_name": account.name,
                "inviter": inviter.email,
                "service_name": ctx.settings.service_name,
            },
            expires_at=invitation.expires_at,
            data={"inviter_email": inviter.email},
        )
        message: Message = prepared.render(
            invitation.email,
            {"link": ctx.links.join.replace(TOKEN_PLACEHOLDER, token)},
            {"token": token},
        )
        return message

    async def record(
        self,
        tx: Tx,
        delivered: Sequence[JoinInvitation],
        failed: Sequence[DeliveryFailure],
        now: dt.datetime,
        actor_id: str,
        account_id: str,
    ) -> dict[str, JoinInvitation]:
        """Store how sending *account_id*'s invitations went, holding the account's scope."""
        await tx.lock(account_scope(account_id))
        return await self._delivery.record(
            tx,
            delivered,
            failed,
            now,
            actor_id,
            JOIN_INVITATIONS,
            lambda ids: tx.get_many(JOIN_INVITATIONS, ids),
            (AuditAction.INVITATION_SENT, AuditAction.INVITATION_UNDELIVERED),
        )

    async def find_by_token(self, token: object, client: str, now: dt.datetime) -> JoinInvitation:
        """Return the invitation of a join link's *token*, if it can still be accepted.

        Unknown tokens count per *client*, when one is named; a known token passes even a
        locked client (see :func:`~licensekit.throttling.judge_guess`).
        """
        client = clean_client(client)
        if not isinstance(token, str):
            raise InvitationNotFound("this invitation link is not valid")
        policy = self._ctx.settings.token_throttle
        counters = [(client_key(ThrottledSecret.JOIN_LINK, client), policy)] if client else []
        token_hash = self._ctx.keys.lookup_hash("join", token.strip())

        async def find(tx: Tx) -> tuple[JoinInvitation | None, dt.datetime | None]:
            invitation = await tx.find(JOIN_INVITATIONS, token_hash=token_hash)
            return invitation, await throttle_guess(
                tx, counters, found=invitation is not None, now=now
            )

        invitation, until = await self._ctx.runner.run(find, *scopes(key for key, _ in counters))
        if until is not None:
            raise TooManyAttempts("invitation links from this client", until)
        if invitation is None:
            raise InvitationNotFound("this invitation link is not valid")
        members.check_invitation_usable(invitation, now)
        return invitation
