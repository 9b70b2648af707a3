"""Where an installed copy stands: license state, grace, check-in times, culling. Pure rules.

A license key carries three liveness settings (:class:`LicenseKey` stores them in seconds):

* its **grace period** (none by default): after the key's expiry its installations keep
  running, and check-in says :attr:`LicenseState.GRACE`, until the grace period ends. New
  computers do not activate during grace: it keeps running copies running while a renewal is
  arranged. A renewal (:func:`renew`) counts from the old expiry, not from the day it is
  made, so grace is never a free extension;
* its **check-in interval** (a day by default): how often a copy should check in. Check-in
  tells the copy when its next one is due; a copy that is later than that is *overdue* in
  the listings. To spare the store a write per check-in, ``last_seen_at`` is written only
  when it is older than a quarter of the interval (:func:`records_sighting`), so it may lag
  by that much;
* after how long without a check-in an installation is **dead** (never, by default): then
  :func:`cull` takes its seat back. It must be at least twice the interval, so a copy that
  checks in on time is never culled. A culled installation that checks in again within
  :data:`RETURN_WINDOW` of its cull gets a seat back if one is free (:func:`may_return`);
  after that it must activate again (its code still knows the computer, so it needs no new
  invitation).

:func:`state_of` decides what a check-in tells a copy; :func:`certificate_claims` what its
certificate says, and whether it gets one: only a copy allowed to run (active or in grace)
does. A suspended, expired or removed license gives no new certificate, so a copy that
stays offline stops when its current certificate's lease ends.
"""

from __future__ import annotations

import datetime as dt

import attrs

from licensekit.domain._echo import echo
from licensekit.domain.certificates import MAX_LEASE, CertificateClaims
from licensekit.domain.records import (
    Installation,
    InstallationStatus,
    KeyStatus,
    LicenseKey,
    LicenseState,
)
from licensekit.exceptions import ConflictError, ValidationError

__all__ = [
    "DEFAULT_CHECK_IN_INTERVAL",
    "MAX_CHECK_IN_INTERVAL",
    "MAX_GRACE_PERIOD",
    "MIN_CHECK_IN_INTERVAL",
    "RETURN_WINDOW",
    "RUNNING",
    "SIGHTING_FRACTION",
    "certificate_claims",
    "change_liveness",
    "check_dead_after",
    "check_grace_period",
    "check_in_due",
    "check_interval",
    "cull",
    "ends_at",
    "is_dead",
    "is_overdue",
    "key_state",
    "liveness",
    "may_return",
    "records_sighting",
    "renew",
    "return_to_seat",
    "state_of",
]

DEFAULT_CHECK_IN_INTERVAL = dt.timedelta(days=1)
"""How often installations check in unless their key says otherwise."""

MIN_CHECK_IN_INTERVAL = dt.timedelta(minutes=1)
"""The shortest check-in interval a key may ask for."""

MAX_CHECK_IN_INTERVAL = MAX_LEASE
"""The longest: a certificate's lease is never longer, so a copy must check in by then."""

MAX_GRACE_PERIOD = dt.timedelta(days=365)
"""The longest grace period a key may have."""

SIGHTING_FRACTION = 4
"""``last_seen_at`` is written when it is older than the interval divided by this."""

RETURN_WINDOW = dt.timedelta(days=30)
"""How long after its cull a culled installation that checks in takes a seat back."""

RUNNING = frozenset({LicenseState.ACTIVE, LicenseState.GRACE})
"""The states in which a copy may run, and gets a certificate."""

_DAY = dt.timedelta(days=1)


def _whole_seconds(value: object, name: str) -> int:
    if not isinstance(value, dt.timedelta):
        raise ValidationError(f"{name} must be a timedelta, got {echo(value)}", field=name)
    if value % dt.timedelta(seconds=1):
        raise ValidationError(f"{name} must be whole seconds, got {value}", field=name)
    return int(value.total_seconds())


def check_grace_period(value: object) -> int:
    """Return a grace period in seconds, if it is one.

    Raises:
        ValidationError: Not a timedelta of whole seconds from 0 to :data:`MAX_GRACE_PERIOD`.
    """
    seconds = _whole_seconds(value, "grace_period")
    if not 0 <= seconds <= MAX_GRACE_PERIOD.total_seconds():
        raise ValidationError(
            f"grace_period must be from 0 to {MAX_GRACE_PERIOD.days} days, got {value}",
            field="grace_period",
        )
    return seconds


def check_interval(value: object) -> int:
    """Return a check-in interval in seconds, if it is one.

    Raises:
        ValidationError: Not a timedelta of whole seconds from :data:`MIN_CHECK_IN_INTERVAL`
            to :data:`MAX_CHECK_IN_INTERVAL`.
    """
    seconds = _whole_seconds(value, "check_in_interval")
    if not MIN_CHECK_IN_INTERVAL <= dt.timedelta(seconds=seconds) <= MAX_CHECK_IN_INTERVAL:
        raise ValidationError(
            f"check_in_interval must be from {MIN_CHECK_IN_INTERVAL} to "
            f"{MAX_CHECK_IN_INTERVAL.days} days, got {value}",
            field="check_in_interval",
        )
    return seconds


def check_dead_after(value: object, interval_seconds: int) -> int | None:
    """Return after how many seconds without a check-in an installation is dead, or None.

    Raises:
        ValidationError: Not None or a timedelta of whole seconds, at least twice the
            check-in interval (so a copy that checks in on time is never culled) and at
            most a year.
    """
    if value is None:
        return None
    seconds = _whole_seconds(value, "dead_after")
    if not 2 * interval_seconds <= seconds <= 365 * _DAY.total_seconds():
        raise ValidationError(
            f"dead_after must be from twice the check-in interval "
            f"({dt.timedelta(seconds=2 * interval_seconds)}) to 365 days, got {value}",
            field="dead_after",
        )
    return seconds


def ends_at(key: LicenseKey) -> dt.datetime | None:
    """Return when the license ends for running copies: its expiry plus grace; None: never."""
    if key.expires_at is None:
        return None
    try:
        return key.expires_at + key.grace_period
    except OverflowError:
        return None  # later than datetime can say: never, in practice


def key_state(key: LicenseKey, now: dt.datetime) -> LicenseState:
    """Return where the key's license stands at *now*."""
    if key.status is KeyStatus.REMOVED:
        return LicenseState.REMOVED
    if key.status is KeyStatus.SUSPENDED:
        return LicenseState.SUSPENDED
    if key.expires_at is None or now < key.expires_at:
        return LicenseState.ACTIVE
    end = ends_at(key)
    if end is None or now < end:
        return LicenseState.GRACE
    return LicenseState.EXPIRED


def state_of(
    key: LicenseKey, installation: Installation, *, blocked: bool, now: dt.datetime
) -> LicenseState:
    """Return what a check-in of *installation* tells its copy at *now*.

    The installation's own state comes first (blocked, then deactivated or culled, both
    told as deactivated), then the key's. *blocked* is true when a block of the
    installation's computer covers *key*.
    """
    if blocked:
        return LicenseState.BLOCKED
    if not installation.is_active:  # deactivated or culled
        return LicenseState.DEACTIVATED
    return key_state(key, now)


def check_in_due(key: LicenseKey, now: dt.datetime, valid_until: dt.datetime | None) -> dt.datetime:
    """Return when a copy that checked in at *now* should check in next.

    One interval from now, and never after its certificate's lease ends (*valid_until*).
    """
    due = now + key.check_in_interval
    return due if valid_until is None else min(due, valid_until)


def records_sighting(key: LicenseKey, installation: Installation, now: dt.datetime) -> bool:
    """True when a check-in at *now* writes ``last_seen_at``: it is a quarter-interval old."""
    return now - installation.last_seen_at >= key.check_in_interval / SIGHTING_FRACTION


def is_overdue(key: LicenseKey, installation: Installation, now: dt.datetime) -> bool:
    """True when an active installation has missed its check-in.

    ``last_seen_at`` may lag a check-in by a quarter interval (:func:`records_sighting`), so
    a copy is overdue once that long past its interval.
    """
    if not installation.is_active:
        return False
    late = key.check_in_interval + key.check_in_interval / SIGHTING_FRACTION
    return now - installation.last_seen_at > late


def is_dead(key: LicenseKey, installation: Installation, now: dt.datetime) -> bool:
    """True when an active installation has not checked in for its key's ``dead_after``."""
    dead_after = key.dead_after
    return (
        dead_after is not None
        and installation.is_active
        and now - installation.last_seen_at >= dead_after
    )


def cull(installation: Installation, *, now: dt.datetime) -> Installation:
    """Return *installation* culled at *now*; its seat is then free.

    Unlike a deactivation, a cull leaves the computer's claim on its code: the copy comes
    back by checking in (see :func:`may_return`), or activates again with the same code.
    ``last_state`` stays what the copy was last told: its next check-in tells it, and the
    audit trail records that.

    Raises:
        ConflictError: It is not active.
    """
    if not installation.is_active:
        raise ConflictError(f"installation {installation.id!r} is not active")
    return attrs.evolve(
        installation,
        status=InstallationStatus.CULLED,
        deactivated_at=now,
        deactivated_by=None,
    )


def may_return(key: LicenseKey, installation: Installation, now: dt.datetime) -> bool:
    """True when a check-in of a culled installation at *now* may take a seat back.

    It must have been culled less than :data:`RETURN_WINDOW` ago, and its key must let
    copies run and activate (active, not in grace). The caller still needs a free seat.
    """
    culled_at = installation.deactivated_at
    return (
        installation.status is InstallationStatus.CULLED
        and culled_at is not None
        and now - culled_at < RETURN_WINDOW
        and key_state(key, now) is LicenseState.ACTIVE
    )


def return_to_seat(installation: Installation, *, now: dt.datetime) -> Installation:
    """Return a culled *installation* active again, seen at *now* (its seat claimed)."""
    return attrs.evolve(
        installation,
        status=InstallationStatus.ACTIVE,
        deactivated_at=None,
        deactivated_by=None,
        last_seen_at=now,
        last_state=LicenseState.ACTIVE,
    )


def renew(key: LicenseKey, period: object, *, now: dt.datetime) -> LicenseKey:
    """Return *key* renewed for *period*, counted from its old expiry (not from *now*).

    Raises:
        ValidationError: *period* is not a positive timedelta, or the renewed expiry would
            not be in the future (the key expired longer ago than *period*: set a new
            expiry instead).
        ConflictError: The key never expires, or was removed.
    """
    if not isinstance(period, dt.timedelta) or period <= dt.timedelta(0):
        raise ValidationError(
            f"period must be a positive timedelta, got {echo(period)}", field="period"
        )
    if key.status is KeyStatus.REMOVED:
        raise ConflictError(f"license key {key.id!r} was removed; resume it first")
    if key.expires_at is None:
        raise ConflictError(f"license key {key.id!r} never expires; nothing to renew")
    try:
        renewed = key.expires_at + period
    except OverflowError:
        raise ValidationError(f"renewing by {period} goes past the year 9999") from None
    if renewed <= now:
        raise ValidationError(
            f"license key {key.id!r} expired on {key.expires_at.isoformat()}; renewed by "
            f"{period} from then it would still be expired: set a new expiry instead",
            field="period",
        )
    return attrs.evolve(key, expires_at=renewed, updated_at=now)


def certificate_claims(
    key: LicenseKey,
    installation: Installation,
    state: LicenseState,
    *,
    now: dt.datetime,
    lease: dt.timedelta,
) -> CertificateClaims | None:
    """Return the claims of the certificate a copy gets at *now*, or None for none.

    Only a copy allowed to run (:data:`RUNNING`) gets one; its lease stops at the end of the
    license (:func:`ends_at`), and a license ending within the second gives none.
    """
    if state not in RUNNING:
        return None
    end = ends_at(key)
    if end is not None and end.replace(microsecond=0) <= now.replace(microsecond=0):
        return None
    return CertificateClaims.leased(
        installation_id=installation.id,
        computer_id=installation.computer_id,
        product=key.product,
        account_id=key.account_id,
        license_key_id=key.id,
        issued_at=now,
        lease=lease,
        license_expires_at=key.expires_at,
        license_state=state,
        not_after=end,
    )


def liveness(
    key: LicenseKey,
    *,
    grace_period: object = None,
    check_in_interval: object = None,
    dead_after: object = None,
    never_cull: bool = False,
) -> tuple[int, int, int | None]:
    """Return *key*'s grace, check-in interval and dead-after seconds after a change.

    Each argument left as None keeps the key's value; *never_cull* turns culling off.

    Raises:
        ValidationError: A value is out of its bounds (see :func:`check_grace_period`,
            :func:`check_interval`, :func:`check_dead_after`), both *dead_after* and
            *never_cull* are given, or a new interval would leave the key's dead-after time
            under twice the interval.
    """
    if never_cull and dead_after is not None:
        raise ValidationError("give either dead_after or never_cull=True, not both")
    grace = key.grace_seconds if grace_period is None else check_grace_period(grace_period)
    interval = (
        key.check_in_seconds if check_in_interval is None else check_interval(check_in_interval)
    )
    if never_cull:
        return grace, interval, None
    if dead_after is not None:
        return grace, interval, check_dead_after(dead_after, interval)
    kept = key.dead_after_seconds
    if kept is not None and kept < 2 * interval:
        raise ValidationError(
            f"the key's dead_after ({dt.timedelta(seconds=kept)}) would be under twice the "
            f"new check-in interval ({dt.timedelta(seconds=interval)}); give a new dead_after "
            "too",
            field="dead_after",
        )
    return grace, interval, kept


def change_liveness(
    key: LicenseKey,
    *,
    grace_period: object = None,
    check_in_interval: object = None,
    dead_after: object = None,
    never_cull: bool = False,
    now: dt.datetime,
) -> LicenseKey:
    """Return *key* with its liveness changed (see :func:`liveness`) at *now*.

    Raises:
        ConflictError: *key* was removed.
        ValidationError: See :func:`liveness`.
    """
    if key.status is KeyStatus.REMOVED:
        raise ConflictError(f"license key {key.id!r} has been removed")
    grace, interval, dead = liveness(
        key,
        grace_period=grace_period,
        check_in_interval=check_in_interval,
        dead_after=dead_after,
        never_cull=never_cull,
    )
    return attrs.evolve(
        key,
        grace_seconds=grace,
        check_in_seconds=interval,
        dead_after_seconds=dead,
        updated_at=now,
    )
