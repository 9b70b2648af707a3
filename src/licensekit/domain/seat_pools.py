"""Additional keys and the seat pool they share with their primary key.

An Account Administrator (or a License Administrator of the primary) makes *additional
keys* under a *primary key*: each with its own secret value, seat count and expiry, never
later than the primary's. An additional key's seats are either

* **reserved**: set aside in the primary's pool for that key alone, used or not; or
* **dynamic**: taken from the primary's pool as its installations activate, first come,
  first served, shared with the primary's own installations and the other dynamic keys;
  the key's seat count caps how many it may take.

How the numbers are kept (see :mod:`licensekit._usecases._seats` for the writes): a primary
key's ``seats_used`` counts every seat taken from its pool, which is its own installations,
its dynamic keys' installations and all of its reserved keys' seats. So the primary's
guarded counter alone keeps the pool from being oversold, and a reserved key is made by
taking its seats from that counter in one step. The administrator's guide's arithmetic
(:class:`~licensekit.domain.views.SeatPoolView`) follows from it:

* unused = total - used, where used counts installations only;
* available in the main pool = total - used - reserved + reserved used
  (= the primary's seats minus its ``seats_used``);
* reserved available = reserved total - reserved used.

When an additional key is removed, or its own license ends (its expiry and grace), its hold
on the pool *lapses* and its seats go back to the primary: :func:`lapsed` says when, and the
release is written once, marked by :attr:`~licensekit.domain.model.LicenseKey.released_at`.
The primary's end releases nothing: the pool is unusable then, and a renewed primary gets its
additional keys back as they were.
An additional key decides nothing alone: activations and check-ins judge it by
:func:`effective_key`, which adds its primary's suspension, removal and expiry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from licensekit.domain import standing
from licensekit.domain._echo import echo
from licensekit.domain.model import KeyStatus, LicenseKey, LicenseState, SeatPool, SeatPoolView
from licensekit.exceptions import ConflictError, SeatsFull, SeatsInUse, ValidationError

__all__ = [
    "check_additional",
    "check_primary_expiry",
    "check_reserved_seats",
    "effective_key",
    "hold",
    "lapsed",
    "pool_view",
    "seat_pool_of",
]


def seat_pool_of(value: object) -> SeatPool:
    """Return *value* (a :class:`SeatPool` or its name) as a :class:`SeatPool`.

    Raises:
        ValidationError: It is neither ``"reserved"`` nor ``"dynamic"``.
    """
    if isinstance(value, SeatPool):
        return value
    if isinstance(value, str):
        try:
            return SeatPool(value.strip().lower())
        except ValueError:
            pass
    raise ValidationError(
        f"seat_pool must be 'reserved' or 'dynamic', got {echo(value)}", field="seat_pool"
    )


def check_additional(
    primary: LicenseKey,
    *,
    seats: int,
    seat_pool: SeatPool,
    expires_at: dt.datetime | None,
    now: dt.datetime,
) -> dt.datetime | None:
    """Check that an additional key may be made under *primary*; return its expiry.

    An additional key without an expiry takes its primary's.

    Raises:
        ConflictError: *primary* is itself an additional key, or is not active, or has
            ended.
        ValidationError: *seats* exceed the primary's, or *expires_at* is later than the
            primary's expiry.
        SeatsFull: Reserved seats that the primary's pool has not free.
    """
    if primary.is_additional:
        raise ConflictError(
            f"license key {primary.id!r} is an additional key; additional keys are made "
            f"under its primary key {primary.primary_id!r}"
        )
    state = standing.key_state(primary, now)  # active only while not suspended nor ended
    if state is not LicenseState.ACTIVE:
        raise ConflictError(
            f"license key {primary.id!r} is {state.value}; "
            "additional keys are made under an active key"
        )
    if seats > primary.seats:
        raise ValidationError(
            f"an additional key of {primary.id!r} has at most its {primary.seats} seats, "
            f"not {seats}",
            field="seats",
        )
    if expires_at is None:
        expires_at = primary.expires_at
    check_primary_expiry(primary, expires_at)
    if seat_pool is SeatPool.RESERVED and seats > primary.seats_free:
        raise SeatsFull(
            f"license key {primary.id!r} has {primary.seats_free} seats free in its pool; "
            f"{seats} cannot be reserved",
            seats=primary.seats,
        )
    return expires_at


def check_primary_expiry(primary: LicenseKey, expires_at: dt.datetime | None) -> None:
    """Refuse an additional key's expiry later than its primary's.

    Raises:
        ValidationError: *expires_at* is later than the primary's expiry (or None while
            the primary expires).
    """
    if primary.expires_at is None:
        return
    if expires_at is None or expires_at > primary.expires_at:
        raise ValidationError(
            f"an additional key expires no later than its primary key {primary.id!r}, "
            f"which expires on {primary.expires_at.isoformat()}",
            field="expires_at",
        )


def check_reserved_seats(key: LicenseKey, primary: LicenseKey, seats: int) -> int:
    """Return how many more seats a reserved *key* takes from the pool to have *seats*.

    Raises:
        SeatsInUse: Fewer seats than the key's active installations.
        SeatsFull: More than the primary's pool has free.
    """
    if seats < key.seats_used:
        raise SeatsInUse(
            f"license key {key.id!r} has {key.seats_used} active installations; it cannot "
            f"have fewer seats ({seats}) until some are deactivated"
        )
    more = seats - key.seats if key.released_at is None else 0
    if more > primary.seats_free:
        raise SeatsFull(
            f"license key {primary.id!r} has {primary.seats_free} seats free in its pool; "
            f"{key.id!r} cannot reserve {more} more",
            seats=primary.seats,
        )
    return more


def hold(key: LicenseKey) -> int:
    """Return how many seats of its primary's counter *key* holds (0 for a primary key).

    A reserved key holds all its seats, a dynamic key one per active installation, and a
    key whose hold was released none.
    """
    if not key.is_additional or key.released_at is not None:
        return 0
    return key.seats if key.seat_pool is SeatPool.RESERVED else key.seats_used


def lapsed(key: LicenseKey, now: dt.datetime) -> bool:
    """True when additional *key* still holds seats of its primary's pool but should not.

    It lapses once it is removed or its own license has ended: after its expiry and its
    grace period, when its installations stop running. Its primary's end is not its own:
    while the primary has ended nobody uses the pool anyway, and the primary's renewal
    brings the key back holding what it held.
    """
    if not key.is_additional or key.released_at is not None:
        return False
    if key.status is KeyStatus.REMOVED:
        return True
    return standing.key_state(key, now) is LicenseState.EXPIRED


def effective_key(key: LicenseKey, primary: LicenseKey | None) -> LicenseKey:
    """Return *key* as activations and check-ins judge it, its primary's standing added.

    An additional key is suspended or removed while its primary is, and ends no later than
    its primary (its grace period no later than the primary's either). The result is for
    deciding only; it is never stored.
    """
    if primary is None or not key.is_additional:
        return key
    status = key.status
    if primary.status is KeyStatus.REMOVED or (
        primary.status is KeyStatus.SUSPENDED and status is KeyStatus.ACTIVE
    ):
        status = primary.status
    expires_at, grace = key.expires_at, key.grace_seconds
    if primary.expires_at is not None and (expires_at is None or primary.expires_at < expires_at):
        expires_at = primary.expires_at
        grace = min(grace, primary.grace_seconds)
    if status is key.status and expires_at == key.expires_at and grace == key.grace_seconds:
        return key
    return attrs.evolve(key, status=status, expires_at=expires_at, grace_seconds=grace)


def pool_view(
    primary: LicenseKey, additional: Iterable[LicenseKey], now: dt.datetime
) -> SeatPoolView:
    """Return the seat pool of *primary* and its *additional* keys, as the guide counts it.

    Holds that have lapsed but are not released yet count as given back already.
    """
    reserved = reserved_used = dynamic_used = lapsed_hold = 0
    keys = 0
    for key in additional:
        if key.primary_id != primary.id:
            continue
        keys += 1
        if lapsed(key, now):
            lapsed_hold += hold(key)
            continue
        if key.released_at is not None:
            continue
        if key.seat_pool is SeatPool.RESERVED:
            reserved += key.seats
            reserved_used += key.seats_used
        else:
            dynamic_used += key.seats_used
    claimed = primary.seats_used - lapsed_hold
    own_used = claimed - reserved - dynamic_used
    used = own_used + dynamic_used + reserved_used
    return SeatPoolView(
        key_id=primary.id,
        total=primary.seats,
        used=used,
        unused=primary.seats - used,
        reserved=reserved,
        reserved_used=reserved_used,
        reserved_available=reserved - reserved_used,
        available=primary.seats - claimed,
        additional_keys=keys,
    )
