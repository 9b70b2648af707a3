"""The links licensekit emails about a personal account: their messages and their opening.

Email verification and password reset links carry a token made by
:mod:`licensekit._account_links`; :class:`AccountLinks` writes their emails and opens the
tokens presented back, counting unknown ones per client (in a transaction holding that
counter's ``throttle:<key>`` scope).
"""

from __future__ import annotations

import datetime as dt

from licensekit._account_links import LinkClaims, LinkPurpose, open_link_token
from licensekit._usecases._checks import TOKEN_PLACEHOLDER, clean_client
from licensekit.aio._usecases._context import Context
from licensekit.aio._usecases._throttle import scopes, throttle_guess
from licensekit.aio._usecases._tx import Tx
from licensekit.domain.model import User
from licensekit.domain.throttling import ThrottledSecret, client_key
from licensekit.exceptions import InvalidToken, TooManyAttempts, ValidationError
from licensekit.mail import Message, MessageKind
from licensekit.storage import USERS

__all__ = ["AccountLinks"]


class AccountLinks:
    """Writes and opens account links (see the module docstring).

    Args:
        ctx: The keys, templates, settings and runner to use.
    """

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    @staticmethod
    def template(template: str | None, name: str, what: str) -> str:
        """Return the link *template*, refusing a use case the host set up no link for."""
        if template is None:
            raise ValidationError(
                f"{what} links need a {name} template; pass {name}= (with {TOKEN_PLACEHOLDER}) "
                "to LicenseKit"
            )
        return template

    def message(
        self,
        kind: MessageKind,
        to: str,
        template: str,
        token: str,
        expires_at: dt.datetime,
        language: str,
    ) -> Message:
        """Return the email of kind *kind* carrying the link of *token*."""
        return self._ctx.templates.render(
            kind,
            to=to,
            language=language,
            values={
                "service_name": self._ctx.settings.service_name,
                "link": template.replace(TOKEN_PLACEHOLDER, token),
            },
            expires_at=expires_at,
            data={"token": token},
        )

    async def open(
        self, purpose: LinkPurpose, token: object, client: object, now: dt.datetime
    ) -> LinkClaims:
        """Return what an account link's *token* says, if the link can still be used.

        A token we did not make counts against the *client* (when one is named), and only
        such tokens are refused while it is locked: a real link always works. A link that
        expired or was used is refused too, before the caller hashes a new password for it.
        """
        client = clean_client(client)
        claims = open_link_token(self._ctx.keys, purpose, token)
        if claims is None and client:
            counter = client_key(ThrottledSecret.ACCOUNT_LINK, client)
            policy = self._ctx.settings.token_throttle
            until = await self._ctx.runner.run(
                lambda tx: throttle_guess(tx, [(counter, policy)], found=False, now=now),
                *scopes([counter]),
            )
            if until is not None:
                raise TooManyAttempts("links from this client", until)
        if claims is None:
            raise InvalidToken("this link is not valid")
        await self._ctx.runner.run(lambda tx: self.linked_user(tx, purpose, claims, now))
        return claims

    async def linked_user(
        self, tx: Tx, purpose: LinkPurpose, claims: LinkClaims, now: dt.datetime
    ) -> User:
        """Return the user an opened link is for, if it still fits their account."""
        user = await tx.get(USERS, claims.user_id)
        if user is None:
            raise InvalidToken("this link's account no longer exists")
        claims.check(self._ctx.keys, purpose, user, now)
        return user
