"""Seats: claiming and giving back the seats installations hold, across additional keys.

A primary key's ``seats_used`` counts every seat taken from its pool: its own
installations', its dynamic additional keys' installations', and all the seats its reserved
additional keys set aside. So:

* an installation of a primary key holds one seat of the primary's counter;
* an installation of a reserved key holds one seat of the reserved key's own counter (the
  reserved seats were taken from the primary's pool when the key was made);
* an installation of a dynamic key holds one seat of its own counter (its cap) **and** one
  of its primary's (the shared pool) — until the key's hold on the pool is released
  (:attr:`~licensekit.domain.model.LicenseKey.released_at`), after which only its own.

Every change goes through the store's guarded counter, so that no number passes its cap
whatever runs at the same time.

Locking: scopes are taken in levels, each level in calls of its own and never one after a
later level: the business account's scope, then computers, then additional keys, then primary
keys (a key that is not additional is a primary), then throttles. A server store takes the
scopes of one call in an order of its own (PostgreSQL's by their hashes), so two scopes of
different levels are never locked in one call. Only then can no two transactions wait for
each other in a circle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from licensekit.aio._usecases._audit import audit
from licensekit.aio._usecases._key_access import key_scope
from licensekit.aio._usecases._tx import Tx
from licensekit.domain import seat_pools
from licensekit.domain.model import AuditAction, KeyStatus, LicenseKey, SeatPool
from licensekit.exceptions import ConflictError, SeatsFull, ValidationError
from licensekit.storage import LICENSE_KEYS

__all__ = [
    "check_removable",
    "claim_seats",
    "draws_on_primary",
    "family",
    "follow_primary",
    "has_lapsed",
    "lock_keys",
    "lock_primary",
    "release_lapsed",
    "release_seats",
]


def draws_on_primary(key: LicenseKey) -> bool:
    """True when *key*'s installations also hold seats of its primary's pool."""
    return key.seat_pool is SeatPool.DYNAMIC and key.released_at is None


async def claim_seats(tx: Tx, key: LicenseKey, count: int = 1) -> bool:
    """Claim *count* seats for installations of *key*, or none.

    Returns:
        Whether they were claimed; False leaves every counter as it was (the key's, or its
        primary's pool, has fewer free seats than *count*).
    """
    if count <= 0:
        return True
    primary_id = key.primary_id
    if primary_id is not None and draws_on_primary(key):
        if not await tx.increment(LICENSE_KEYS, primary_id, "seats_used", count, cap="seats"):
            return False
        if not await tx.increment(LICENSE_KEYS, key.id, "seats_used", count, cap="seats"):
            await tx.increment(LICENSE_KEYS, primary_id, "seats_used", -count)
            return False
        return True
    return await tx.increment(LICENSE_KEYS, key.id, "seats_used", count, cap="seats")


async def release_seats(tx: Tx, key: LicenseKey, count: int = 1) -> None:
    """Give back *count* seats that installations of *key* held.

    One step per counter; the counters count the active installations exactly, so they
    never go below 0, but if one ever would, it is released a seat at a time (a count at 0
    stays there).
    """
    if count <= 0:
        return
    counters = [key.id]
    if key.primary_id is not None and draws_on_primary(key):
        counters.append(key.primary_id)
    for key_id in counters:
        if not await tx.increment(LICENSE_KEYS, key_id, "seats_used", -count) and count > 1:
            for _ in range(count):
                await tx.increment(LICENSE_KEYS, key_id, "seats_used", -1)


async def lock_keys(tx: Tx, keys: Iterable[LicenseKey], *scopes: str) -> bool:
    """Lock *scopes*, then the additional ones of *keys*, then the primary ones.

    Three calls at most, in that order (see the module docstring): a server store takes
    the scopes of one call in an order of its own, so the levels are separate calls.

    Returns:
        Whether any call may have waited (see :meth:`Tx.lock`).
    """
    keys = list(keys)
    stale = False
    for level in (
        sorted(set(scopes)),
        sorted({key_scope(k.id) for k in keys if k.is_additional}),
        sorted({key_scope(k.id) for k in keys if not k.is_additional}),
    ):
        if level:
            stale = await tx.lock(*level) or stale
    return stale


async def lock_primary(tx: Tx, key: LicenseKey) -> LicenseKey | None:
    """Lock an additional *key*'s primary (after *key*) and read it; None for a primary key."""
    if key.primary_id is None:
        return None
    await tx.lock(key_scope(key.primary_id))
    return await tx.get(LICENSE_KEYS, key.primary_id)


async def family(tx: Tx, primary_id: str) -> list[LicenseKey]:
    """Return the additional keys of the primary key *primary_id* (removed ones included)."""
    return sorted(await tx.find_all(LICENSE_KEYS, primary_id=primary_id), key=lambda k: k.id)


async def has_lapsed(tx: Tx, primary: LicenseKey, now: dt.datetime) -> bool:
    """True when an additional key of *primary* holds seats of its pool that have lapsed."""
    return any(
        seat_pools.lapsed(k, now) and seat_pools.hold(k) for k in await family(tx, primary.id)
    )


async def release_lapsed(tx: Tx, primary_id: str, now: dt.datetime) -> int:
    """Give back the seats that the lapsed additional keys of *primary_id* hold.

    Locks those keys, then the primary, as the module docstring says; marks each released
    key with ``released_at`` and audits it. Returns how many seats went back to the pool.
    """
    candidates = await family(tx, primary_id)
    primary = await tx.get(LICENSE_KEYS, primary_id)
    if primary is None:
        return 0
    lapsing = [k for k in candidates if seat_pools.lapsed(k, now)]
    if not lapsing:
        return 0
    await lock_keys(tx, [*lapsing, primary])
    current = await tx.get_many(LICENSE_KEYS, [k.id for k in lapsing])
    primary = await tx.get(LICENSE_KEYS, primary_id)
    if primary is None:  # pragma: no cover - keys are never deleted
        return 0
    returned = 0
    for key in sorted(current, key=lambda k: k.id):
        if not seat_pools.lapsed(key, now):
            continue
        seats = seat_pools.hold(key)
        if seats:
            await tx.increment(LICENSE_KEYS, primary_id, "seats_used", -seats)
        await tx.save(LICENSE_KEYS, attrs.evolve(key, released_at=now))
        await audit(
            tx,
            now,
            key.account_id,
            "",
            AuditAction.LICENSE_KEY_RELEASED,
            key.id,
            primary_id=primary_id,
            seats=str(seats),
        )
        returned += seats
    return returned


async def check_removable(tx: Tx, key: LicenseKey) -> None:
    """Refuse to remove a primary key that has additional keys not removed.

    Raises:
        ConflictError: It has.
    """
    if key.primary_id is not None or key.status is KeyStatus.REMOVED:
        return
    live = [k.id for k in await family(tx, key.id) if k.status is not KeyStatus.REMOVED]
    if live:
        raise ConflictError(
            f"license key {key.id!r} has additional keys {live!r}; remove them first"
        )


async def follow_primary(
    tx: Tx, before: LicenseKey, after: LicenseKey, now: dt.datetime
) -> LicenseKey:
    """Keep a key change within its family's rules; return the key to save.

    Called by every change of a key's record, with the key's scope held. An additional key's
    primary is locked (after it) and read: its expiry stays within the primary's, a
    reserved key's change of seats takes or gives back seats of the pool, its removal gives
    back what it holds, and bringing a released key back takes its hold again.

    Raises:
        ValidationError: An expiry later than the primary's, or a dynamic key with more
            seats than its primary.
        SeatsInUse: Fewer reserved seats than the key's active installations.
        SeatsFull: The pool lacks the seats a reserved key (or a key brought back) needs.
    """
    if before.primary_id is None:
        return after
    await tx.lock(key_scope(before.primary_id))
    primary = await tx.get(LICENSE_KEYS, before.primary_id)
    if primary is None:  # pragma: no cover - keys are never deleted
        return after
    if after.status is not KeyStatus.REMOVED and primary.status is KeyStatus.REMOVED:
        raise ConflictError(
            f"license key {primary.id!r}, the primary of {before.id!r}, has been removed"
        )
    if after.expires_at != before.expires_at:
        seat_pools.check_primary_expiry(primary, after.expires_at)
    if after.seats != before.seats:
        if before.seat_pool is SeatPool.RESERVED:
            more = seat_pools.check_reserved_seats(before, primary, after.seats)
            if more and not await tx.increment(
                LICENSE_KEYS, primary.id, "seats_used", more, cap="seats"
            ):  # pragma: no cover - the primary is locked and was checked
                raise SeatsFull(f"{more} more seats cannot be reserved", seats=primary.seats)
        elif after.seats > primary.seats:
            raise ValidationError(
                f"an additional key of {primary.id!r} has at most its {primary.seats} seats",
                field="seats",
            )
    if after.status is KeyStatus.REMOVED and before.status is not KeyStatus.REMOVED:
        held = seat_pools.hold(after)
        if held:
            await tx.increment(LICENSE_KEYS, primary.id, "seats_used", -held)
        return attrs.evolve(after, released_at=after.released_at or now)
    back = attrs.evolve(after, released_at=None)
    if after.released_at is not None and not seat_pools.lapsed(back, now):
        needed = seat_pools.hold(back)
        if needed and not await tx.increment(
            LICENSE_KEYS, primary.id, "seats_used", needed, cap="seats"
        ):
            raise SeatsFull(
                f"license key {primary.id!r} has {primary.seats_free} seats free in its pool; "
                f"{after.id!r} needs {needed} to be back",
                seats=primary.seats,
            )
        return back
    return after
