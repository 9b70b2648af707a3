"""Hourly limits on what succeeds: activations per license key, invitation emails per account.

The throttles of :mod:`licensekit.domain.throttling` count failures (wrong passwords,
unknown codes). These count what goes through, to bound what a leaked key or a hijacked
administrator can do in an hour: the seats a license key takes
(:attr:`~licensekit.Settings.activations_per_key_per_hour`) and the invitation emails a
business account hands to the mailer
(:attr:`~licensekit.Settings.invitations_per_account_per_hour`).

A limit counts in a window of one hour that opens at the first thing counted and ends an
hour later; the first thing counted after that opens the next window. (A fixed window: in
the hour around a window's end up to twice the limit may pass, never more.) A call asking
for more than remain in the window is refused whole, and passes again when the window ends.

Each count is kept in a :class:`~licensekit.domain.model.Throttle` record under its own key
(:func:`activations_key`, :func:`invitations_key`), which the store's
:meth:`~licensekit.LicenseKit.purge_expired` deletes once its window is over:

* ``failures`` holds what was counted in the window (successes, despite the name);
* ``window_started_at`` and ``expires_at`` are the window's start and end;
* ``locked_until`` is set to the window's end by the first refusal in the window, so that
  only that refusal is audited, however often a client tries again.
"""

from __future__ import annotations

import datetime as dt

import attrs

from licensekit.domain._replace import replacer
from licensekit.domain.model import Throttle
from licensekit.exceptions import TooManyAttempts

__all__ = [
    "WINDOW",
    "HourlyDecision",
    "activation_refusal",
    "activations_key",
    "admit",
    "count_more",
    "invitation_refusal",
    "invitations_key",
]

WINDOW = dt.timedelta(hours=1)
"""How long one window of an hourly limit lasts."""

_replace_throttle = replacer(Throttle)


def activations_key(key_id: str) -> str:
    """Return the key counting the seats license key *key_id* took in the current hour."""
    return f"activations-per-hour:key:{key_id}"


def invitations_key(account_id: str) -> str:
    """Return the key counting the invitation emails *account_id* sent in the current hour."""
    return f"invitation-emails-per-hour:account:{account_id}"


@attrs.frozen
class HourlyDecision:
    """What :func:`admit` decided.

    Attributes:
        allowed: Whether the call may go on.
        used: What was counted in the window before this call.
        until: When the window ends (for a refusal: when to try again).
        record: The record to write, or None to write nothing.
        audited: True for the first refusal of the window, which goes into the audit trail.
    """

    allowed: bool
    used: int
    until: dt.datetime
    record: Throttle | None
    audited: bool = False


def admit(
    throttle: Throttle | None, *, key: str, count: int, limit: int, now: dt.datetime
) -> HourlyDecision:
    """Decide whether *count* more fit under *limit* in the window of *key* at *now*.

    All of them or none: a call that would pass the limit is refused whole, and counts
    nothing.

    Args:
        throttle: The current record of *key*, or None when it has none.
        key: The limit's key (:func:`activations_key`, :func:`invitations_key`).
        count: How many this call would add (0 counts nothing and writes nothing).
        limit: The most one window may count.
        now: The current time.
    """
    if throttle is None or now >= throttle.window_started_at + WINDOW:
        throttle = Throttle(key=key, failures=0, window_started_at=now, expires_at=now + WINDOW)
    until = throttle.window_started_at + WINDOW
    used = throttle.failures
    if count <= 0:
        return HourlyDecision(allowed=True, used=used, until=until, record=None)
    if used + count <= limit:
        counted = _replace_throttle(throttle, failures=used + count, expires_at=until)
        return HourlyDecision(allowed=True, used=used, until=until, record=counted)
    if throttle.locked_until is not None:  # this window's refusal was audited already
        return HourlyDecision(allowed=False, used=used, until=until, record=None)
    marked = attrs.evolve(throttle, expires_at=until, locked_until=until)
    return HourlyDecision(allowed=False, used=used, until=until, record=marked, audited=True)


def count_more(
    throttle: Throttle | None, *, key: str, count: int, limit: int, now: dt.datetime
) -> Throttle | None:
    """Return the record of *key* with *count* more counted at *now*, or None if they do not fit.

    The record :func:`admit` writes when it allows *count* (at least 1) more, without its
    decision: for a hot path that only needs to know whether they fit (:func:`admit` then
    says why not).
    """
    if throttle is None or now >= (until := throttle.window_started_at + WINDOW):
        if count > limit:
            return None
        return Throttle(key=key, failures=count, window_started_at=now, expires_at=now + WINDOW)
    used = throttle.failures + count
    if used > limit:
        return None
    return _replace_throttle(throttle, failures=used, expires_at=until)


def activation_refusal(decision: HourlyDecision, limit: int, now: dt.datetime) -> TooManyAttempts:
    """Return the error refusing an activation over a key's hourly limit."""
    return TooManyAttempts(
        "activations of this license key",
        decision.until,
        now=now,
        message=(
            f"this license key has reached its limit of {limit} activations per hour; "
            f"try again after {decision.until.isoformat()}"
        ),
    )


def invitation_refusal(
    decision: HourlyDecision, limit: int, count: int, now: dt.datetime
) -> TooManyAttempts:
    """Return the error refusing a call that would send *count* invitation emails."""
    remaining = max(limit - decision.used, 0)
    until = decision.until.isoformat()
    if count > limit:
        message = (
            f"this call would send {_emails(count)}, more than a business account may "
            f"send in an hour ({limit}): send them in smaller batches ({remaining} may "
            f"be sent now, {limit} after {until})"
        )
    else:
        left = {0: "none remain", 1: "1 remains"}.get(remaining, f"{remaining} remain")
        sent = f"{decision.used} {'was' if decision.used == 1 else 'were'} sent"
        message = (
            f"this business account has reached its limit of {_emails(limit)} per hour: "
            f"{sent} in this hour, {left}, and this call would send {count}; try again "
            f"after {until}"
        )
    return TooManyAttempts("invitation emails", decision.until, now=now, message=message)


def _emails(count: int) -> str:
    return f"{count} invitation email" + ("" if count == 1 else "s")
