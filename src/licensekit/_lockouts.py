"""Guess throttling over the store: the step every look-up of a presented secret shares.

A host calls a use case with what a client presented (a code, a token) and, optionally, the
client's identifier; the use case looks the secret up, then lets :func:`throttle_guess` apply
:func:`licensekit.throttling.judge_guess` to the keys that count misses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from licensekit.storage import Transaction
from licensekit.throttling import (
    GuessVerdict,
    ThrottlePolicy,
    judge_guess,
    locked_until,
    record_failure,
)

__all__ = ["throttle_guess"]


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
    locks: list[dt.datetime | None] = []
    for key, policy in counters:
        throttle = tx.get_throttle(key)
        verdict = judge_guess(throttle, now, found=found)
        if verdict is GuessVerdict.REFUSE:
            locks.append(locked_until(throttle, now))
        elif verdict is GuessVerdict.RECORD_FAILURE:
            tx.save_throttle(record_failure(throttle, key=key, now=now, policy=policy))
    return max(filter(None, locks), default=None)
