"""The host operator's way to lift a lock on a client or an email.

Scopes: ``"throttle:<key>"`` for every throttle it forgets.
"""

from __future__ import annotations

from licensekit._usecases._checks import clean_client
from licensekit.aio._usecases._context import Context
from licensekit.aio._usecases._throttle import scopes
from licensekit.aio._usecases._tx import Tx
from licensekit.domain.throttling import locked_until, lockout_keys
from licensekit.emails import normalize_email
from licensekit.exceptions import ValidationError
from licensekit.storage import THROTTLES

__all__ = ["Lockouts"]


class Lockouts:
    """The use cases of host operators over the throttles (see :class:`licensekit.LicenseKit`).

    Args:
        ctx: The shared context.
    """

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    async def lift_lockout(self, *, client: str | None = None, email: str | None = None) -> int:
        """Lift the locks on a client, or on log-ins as an email, at once.

        For host operators: no session is needed, so call it only from your own
        administration tooling, after your own check of who may. Use it when a client was
        locked out by mistake (an office behind one address, a misconfigured proxy that
        passed its own address as everyone's ``client``) or a person is locked out of
        logging in and has proved who they are. The failures counted against *client* (for
        every kind of code and token, see :class:`~licensekit.throttling.ThrottledSecret`)
        and against log-ins as *email* are forgotten too, locked or not, so they start
        afresh, and so are the limits on password reset and verification emails requested
        for *email* or from *client*. The limit across all clients and the locks of single
        activation codes stay.
        Nothing is written to an account's audit trail, since a client or an email belongs
        to no account: log the call in your own tooling.

        Args:
            client: The identifier your service passed as ``client`` (surrounding white
                space is ignored, as when it was counted).
            email: The address whose log-ins are locked.

        Returns:
            How many locks in force were lifted (forgotten failures short of a lock do not
            count).

        Raises:
            ValidationError: Neither a client nor an email was given, or *client* is not
                text, holds a NUL character or a lone surrogate, or is longer than 200
                characters (as where it is counted).
            InvalidEmail: *email* is not a valid address.
        """
        if client is not None:
            client = clean_client(client)
        if email is not None:
            email = normalize_email(email)
        keys = lockout_keys(client=client, email=email)
        if not keys:
            raise ValidationError("give the client, the email or both, whose locks to lift")
        now = self._ctx.clock.now()

        async def lift(tx: Tx) -> int:
            found = await tx.get_many(THROTTLES, keys)
            await tx.delete(THROTTLES, *(t.key for t in found))
            return sum(locked_until(t, now) is not None for t in found)

        return await self._ctx.runner.run(lift, *scopes(keys))
