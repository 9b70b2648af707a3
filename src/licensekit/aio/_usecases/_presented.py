"""The throttled look-up of what an installer or an installed product presented.

Activation codes, download tokens and installation tokens are looked up by their keyed hash.
A miss is counted per client and for all clients together (see
:func:`licensekit._usecases._throttle.throttle_guess`); what was found always passes, lock
or not: an office behind one address must not lose its valid codes to one member's typos,
nor products on one network their check-ins to one stale token. Check-ins count apart from
activations.

Scopes: counting a miss locks ``throttle:<key>`` for each key it counts on, in the
transaction that looked the secret up (which must then commit).
"""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

from licensekit._results import Settings
from licensekit.aio._usecases._throttle import throttle_guess
from licensekit.aio._usecases._tx import Tx
from licensekit.domain.throttling import ThrottledSecret, client_key, overall_key
from licensekit.storage import Query

__all__ = ["count_miss", "find_presented", "throttle_scope"]

R = TypeVar("R")


def throttle_scope(key: str) -> str:
    """The scope of the throttling record *key*."""
    return f"throttle:{key}"


async def count_miss(
    tx: Tx,
    *,
    found: bool,
    client: str,
    secret: ThrottledSecret,
    settings: Settings,
    now: dt.datetime,
) -> dt.datetime | None:
    """Judge a presented *secret* that was *found* or not, in *tx*.

    Returns:
        Until when an unknown secret is refused (the client, or everyone, guessed wrong too
        often), or None when the caller may answer with what it found, or that nothing was.
    """
    if found:
        return None
    counters = [(overall_key(secret), settings.activation_overall_throttle)]
    if client:
        counters.append((client_key(secret, client), settings.activation_client_throttle))
    await tx.lock(*(throttle_scope(key) for key, _ in counters))
    return await throttle_guess(tx, counters, found=False, now=now)


async def find_presented(
    tx: Tx,
    lookup: Query[R],
    *,
    client: str,
    secret: ThrottledSecret,
    settings: Settings,
    now: dt.datetime,
) -> tuple[R | None, dt.datetime | None]:
    """Run *lookup* (by a presented *secret*'s hash) in *tx*, and count a miss.

    Returns:
        What was found (or None), and until when an unknown secret is refused (or None):
        see :func:`count_miss`.
    """
    found = (await tx.fetch(lookup))[0]
    if found:  # what was found always passes
        return found[0], None
    until = await count_miss(
        tx, found=False, client=client, secret=secret, settings=settings, now=now
    )
    return None, until
