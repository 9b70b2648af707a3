"""Guess throttling over the store: the step every look-up of a presented secret shares.

A use case given what a client presented (a code, a token) and, optionally, the client's
identifier looks the secret up, then lets :func:`throttle_guess` apply
:func:`licensekit.throttling.judge_guess` to the keys that count misses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from licensekit._usecases._tx import Tx
from licensekit.storage import THROTTLES
from licensekit.throttling import (
    GuessVerdict,
    LockEnd,
    ThrottlePolicy,
    judge_guess,
    record_failure,
)

__all__ = ["throttle_guess"]


def throttle_guess(
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
        throttle = tx.get(THROTTLES, key)
        verdict = judge_guess(throttle, now, found=False)
        if verdict is GuessVerdict.REFUSE and throttle is not None and throttle.locked_until:
            locks.append(LockEnd.of(throttle.locked_until, now))
        elif verdict is GuessVerdict.RECORD_FAILURE:
            tx.put(THROTTLES, record_failure(throttle, key=key, now=now, policy=policy))
    return max(locks, default=None)
