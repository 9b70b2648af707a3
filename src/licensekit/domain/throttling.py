"""Throttling of guesses: after too many failures in a window, a key is locked for a while.

Keys name what is being guessed at: ``password:<email>`` for log-ins, and for a secret that a
client presents (see :class:`ThrottledSecret`) ``<kind>:client:<client>`` per client and
``<kind>:*`` for all clients together, e.g. ``activation:client:203.0.113.9``. The records
live in the store, so the limits hold across processes sharing it.

Two rules use the records. A log-in lock refuses even the right password, or it would not
stop anyone guessing a weak one (:func:`locked_until`). A lock on presented secrets (codes,
tokens) refuses unknown ones only and never a valid one (:func:`judge_guess`): a client
address may be shared by a whole office, and the secrets are too long to guess anyway.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from licensekit.domain._validators import positive
from licensekit.exceptions import TooManyAttempts

if TYPE_CHECKING:
    from licensekit.domain.records import Throttle

__all__ = [
    "EmailRequest",
    "GuessVerdict",
    "LockEnd",
    "ThrottlePolicy",
    "ThrottledSecret",
    "client_key",
    "count_request",
    "judge_guess",
    "locked_until",
    "lockout_keys",
    "overall_key",
    "password_key",
    "record_failure",
    "request_keys",
]


class ThrottledSecret(enum.StrEnum):
    """A kind of secret that clients present, whose unknown values are counted per client."""

    JOIN_LINK = "token"
    """The token of a join invitation's link."""
    ACTIVATION = "activation"
    """A temporary activation code, or the token of a download link."""
    CHECK_IN = "check-in"
    """The token an installed product checks in with."""
    ACCOUNT_LINK = "account-link"
    """The token of an email verification or password reset link."""


def client_key(secret: ThrottledSecret, client: str) -> str:
    """Return the key counting unknown *secret* values presented by *client*."""
    return f"{secret}:client:{client}"


def overall_key(secret: ThrottledSecret) -> str:
    """Return the key counting unknown *secret* values presented by all clients together."""
    return f"{secret}:*"


def password_key(email: str) -> str:
    """Return the key counting wrong passwords for the (normalised) *email*."""
    return f"password:{email}"


class EmailRequest(enum.StrEnum):
    """A request that makes licensekit email an address, limited per address and client."""

    PASSWORD_RESET = "reset"  # noqa: S105 - a kind of request, not a password
    EMAIL_VERIFICATION = "verify"


def request_keys(
    request: EmailRequest, *, email: str | None = None, client: str | None = None
) -> list[str]:
    """Return the keys counting *request*s for the (normalised) *email* and from *client*."""
    keys = [f"{request}:email:{email}"] if email else []
    return keys + ([f"{request}:client:{client}"] if client else [])


class GuessVerdict(enum.Enum):
    """What :func:`judge_guess` says to do with a presented secret."""

    ALLOW = "allow"
    """It is known: go on, whatever the record says, and count nothing."""
    RECORD_FAILURE = "record failure"
    """It is unknown and the key is not locked: count a failure, then answer "not found"."""
    REFUSE = "refuse"
    """It is unknown and the key is locked: refuse it as too many attempts."""


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


class LockEnd(dt.datetime):
    """When a lock ends, as read at a given moment: a datetime that remembers that moment.

    :func:`locked_until` returns one, so that the
    :class:`~licensekit.exceptions.TooManyAttempts` made from it counts its
    :attr:`~licensekit.exceptions.TooManyAttempts.retry_after` from the time of the use
    case's clock that read the lock, not from the system's. It compares, sorts and formats
    as the datetime it is; arithmetic on it gives datetimes that no longer remember.

    Attributes:
        read_at: The moment the lock was read at.
    """

    __slots__ = ("read_at",)
    read_at: dt.datetime

    @classmethod
    def of(cls, end: dt.datetime, read_at: dt.datetime) -> LockEnd:
        """Return *end*, remembering that it was read at *read_at*."""
        lock = cls.combine(end.date(), end.timetz())
        lock.read_at = read_at
        return lock


def locked_until(throttle: Throttle | None, now: dt.datetime) -> LockEnd | None:
    """Return when the lock on a key ends, or None if attempts are allowed at *now*."""
    if throttle is None or throttle.locked_until is None or throttle.locked_until <= now:
        return None
    return LockEnd.of(throttle.locked_until, now)


def judge_guess(throttle: Throttle | None, now: dt.datetime, *, found: bool) -> GuessVerdict:
    """Decide what to do with a secret a client presented (a code, a token), at *now*.

    A lock on presented secrets may refuse unknown values only: whatever was *found* is
    allowed, so that a valid code or token works even from a locked client. A lock on a
    password is different (see :func:`locked_until`).

    Args:
        throttle: The record of the key that counts this client's (or everyone's) misses.
        now: The current time.
        found: Whether the presented value is known (and, for a key counting one code's
            refusals, whether the code is not to blame).
    """
    if found:
        return GuessVerdict.ALLOW
    if locked_until(throttle, now) is not None:
        return GuessVerdict.REFUSE
    return GuessVerdict.RECORD_FAILURE


def record_failure(
    throttle: Throttle | None, *, key: str, now: dt.datetime, policy: ThrottlePolicy
) -> Throttle:
    """Return the record for *key* after one more failure at *now*.

    The count restarts when the previous window has passed; reaching
    :attr:`ThrottlePolicy.max_failures` sets a lock until ``now + lockout``.
    """
    if throttle is not None and locked_until(throttle, now) is not None:
        return throttle  # already locked: a failure in flight must not lift or shorten it
    from licensekit.domain.records import Throttle  # with the first failure: not to make a kit

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


def count_request(
    throttles: Sequence[tuple[str, Throttle | None]],
    *,
    now: dt.datetime,
    policy: ThrottlePolicy,
    what: str,
) -> list[Throttle]:
    """Count one request (or one log-in attempt) against each key of *throttles*.

    A limit on requests, not on guesses (compare :func:`judge_guess`): every request counts,
    valid or not, and a refused one counts nowhere, so that a locked client cannot keep an
    address's limit spent.

    Args:
        throttles: Each key with its current record (None when it has none).
        now: The current time.
        policy: The limit of these requests.
        what: What is limited, for the error (``"password reset requests"``).

    Returns:
        The records to write, one per key.

    Raises:
        TooManyAttempts: One of the keys is locked; nothing is to be written.
    """
    for _, throttle in throttles:
        until = locked_until(throttle, now)
        if until is not None:
            raise TooManyAttempts(what, until)
    return [
        record_failure(throttle, key=key, now=now, policy=policy) for key, throttle in throttles
    ]


def lockout_keys(*, client: str | None, email: str | None) -> list[str]:
    """Return every key a host operator lifts for *client* and for log-ins as *email*.

    For a client: its misses of every kind of presented secret and its requests of every
    kind of email. For an (already normalised) email: its log-ins and the requests of every
    kind of email for it. The limits across all clients and those of single activation
    codes are not among them.
    """
    keys: list[str] = []
    if client:
        keys.extend(client_key(secret, client) for secret in ThrottledSecret)
        for request in EmailRequest:
            keys.extend(request_keys(request, client=client))
    if email:
        keys.append(password_key(email))
        for request in EmailRequest:
            keys.extend(request_keys(request, email=email))
    return keys
