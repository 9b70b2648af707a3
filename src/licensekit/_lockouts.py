"""Guess throttling over the store, and the host operator's way to lift a lock.

:func:`throttle_guess` is the step every look-up of a presented secret shares: a use case
given what a client presented (a code, a token) and, optionally, the client's identifier
looks the secret up, then lets it apply :func:`licensekit.throttling.judge_guess` to the
keys that count misses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from licensekit._core import ServiceCore, _plain_text
from licensekit.emails import normalize_email
from licensekit.exceptions import ValidationError
from licensekit.storage import Transaction
from licensekit.throttling import (
    EmailRequest,
    GuessVerdict,
    LockEnd,
    ThrottledSecret,
    ThrottlePolicy,
    client_key,
    judge_guess,
    locked_until,
    password_key,
    record_failure,
    request_keys,
)

__all__ = ["LockoutsService", "throttle_guess"]


class LockoutsService(ServiceCore):
    """The use cases of host operators over the throttles (see :class:`licensekit.LicenseKit`)."""

    def lift_lockout(self, *, client: str | None = None, email: str | None = None) -> int:
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
                text or holds a NUL character or a lone surrogate (as where it is counted).
            InvalidEmail: *email* is not a valid address.
        """
        keys: list[str] = []
        if client is not None:
            client = _plain_text(client, "client").strip()
            if client:
                keys.extend(client_key(secret, client) for secret in ThrottledSecret)
                for request in EmailRequest:
                    keys.extend(request_keys(request, client=client))
        if email is not None:
            email = normalize_email(email)
            keys.append(password_key(email))
            for request in EmailRequest:
                keys.extend(request_keys(request, email=email))
        if not keys:
            raise ValidationError("give the client, the email or both, whose locks to lift")
        now = self.clock.now()
        lifted = 0
        with self.store.transaction() as tx:
            for key in keys:
                throttle = tx.get_throttle(key)
                if locked_until(throttle, now) is not None:
                    lifted += 1
                if throttle is not None:
                    tx.delete_throttle(key)
        return lifted


def throttle_guess(
    tx: Transaction,
    counters: Iterable[tuple[str, ThrottlePolicy]],
    *,
    found: bool,
    now: dt.datetime,
) -> dt.datetime | None:
    """Judge a presented secret by each of its *counters* (a key and its policy), in *tx*.

    What was *found* passes. An unknown secret is counted on every key not locked (in *tx*,
    which must then commit), and refused while any key is locked.

    Returns:
        Until when the secret is refused (the last lock in force), or None when the caller
        may answer: with what was found, or that nothing was.
    """
    if found:  # what was found passes whatever the records say: read none of them
        return None
    locks: list[dt.datetime] = []
    for key, policy in counters:
        throttle = tx.get_throttle(key)
        verdict = judge_guess(throttle, now, found=False)
        if verdict is GuessVerdict.REFUSE and throttle is not None and throttle.locked_until:
            locks.append(LockEnd.of(throttle.locked_until, now))
        elif verdict is GuessVerdict.RECORD_FAILURE:
            tx.save_throttle(record_failure(throttle, key=key, now=now, policy=policy))
    return max(locks, default=None)
