"""Throttling over the store: the steps every throttled use case shares.

A use case given what a client presented (a code, a token) and, optionally, the client's
identifier looks the secret up, then lets :func:`throttle_guess` apply
:func:`licensekit.throttling.judge_guess` to the keys that count misses. A use case that
limits requests (emails asked for, log-in attempts) lets :func:`count_request` apply
:func:`licensekit.throttling.count_request`. Either way the caller's transaction holds
``throttle:<key>`` (:func:`scopes`) for every key it may write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from licensekit.aio._usecases._tx import Tx
from licensekit.domain.throttling import (
    GuessVerdict,
    LockEnd,
    ThrottlePolicy,
    judge_guess,
    record_failure,
)
from licensekit.domain.throttling import count_request as count
from licensekit.storage import THROTTLES

__all__ = ["count_request", "scopes", "throttle_guess"]


def scopes(keys: Iterable[str]) -> list[str]:
    """Return the scopes a transaction holds to write the throttles of *keys*."""
    return [f"throttle:{key}" for key in keys]


async def count_request(
    tx: Tx, keys: Sequence[str], policy: ThrottlePolicy, now: dt.datetime, what: str
) -> None:
    """Count one request against each of *keys* in *tx* (one look-up for all of them).

    Raises:
        TooManyAttempts: A key is locked (see :func:`licensekit.throttling.count_request`).
    """
    found = {t.key: t for t in await tx.get_many(THROTTLES, keys)}
    await tx.put(
        THROTTLES, *count([(k, found.get(k)) for k in keys], now=now, policy=policy, what=what)
    )


async def throttle_guess(
    tx: Tx,
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
        throttle = await tx.get(THROTTLES, key)
        verdict = judge_guess(throttle, now, found=False)
        if verdict is GuessVerdict.REFUSE and throttle is not None and throttle.locked_until:
            locks.append(LockEnd.of(throttle.locked_until, now))
        elif verdict is GuessVerdict.RECORD_FAILURE:
            await tx.put(THROTTLES, record_failure(throttle, key=key, now=now, policy=policy))
    return max(locks, default=None)
