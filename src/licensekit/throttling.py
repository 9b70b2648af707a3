"""Throttling of guesses: after too many failures in a window, a key is locked for a while.

Keys name what is being guessed at: ``password:<email>`` for log-ins, ``token:client:<client>`` for
invitation links presented by one client, ``token:*`` for all clients together. The records
live in the store, so the limits hold across processes sharing it.
"""

from __future__ import annotations

import datetime as dt

import attrs

from licensekit._validators import positive
from licensekit.model import Throttle

__all__ = ["ThrottlePolicy", "locked_until", "record_failure"]


@attrs.frozen
class ThrottlePolicy:
    """How many failures are tolerated, and for how long a key is then locked.

    Attributes:
        max_failures: The failure within :attr:`window` that locks the key (5 means four
            wrong attempts are tolerated and the fifth locks).
        window: How long failures are remembered from the first one.
        lockout: How long the key stays locked.
    """

    max_failures: int = attrs.field(default=5, validator=positive)
    window: dt.timedelta = attrs.field(default=dt.timedelta(minutes=15), validator=positive)
    lockout: dt.timedelta = attrs.field(default=dt.timedelta(minutes=15), validator=positive)


def locked_until(throttle: Throttle | None, now: dt.datetime) -> dt.datetime | None:
    """Return when the lock on a key ends, or None if attempts are allowed at *now*."""
    if throttle is None or throttle.locked_until is None or throttle.locked_until <= now:
        return None
    return throttle.locked_until


def record_failure(
    throttle: Throttle | None, *, key: str, now: dt.datetime, policy: ThrottlePolicy
) -> Throttle:
    """Return the record for *key* after one more failure at *now*.

    The count restarts when the previous window has passed; reaching
    :attr:`ThrottlePolicy.max_failures` sets a lock until ``now + lockout``.
    """
    if throttle is not None and locked_until(throttle, now) is not None:
        return throttle  # already locked: a failure in flight must not lift or shorten it
    if throttle is None or now - throttle.window_started_at >= policy.window:
        throttle = Throttle(
            key=key, failures=0, window_started_at=now, expires_at=now + policy.window
        )
    failures = throttle.failures + 1
    if failures >= policy.max_failures:
        lock = now + policy.lockout
        return Throttle(
            key=key,
            failures=0,
            window_started_at=now,
            expires_at=max(lock, now + policy.window),
            locked_until=lock,
        )
    return attrs.evolve(throttle, failures=failures)
