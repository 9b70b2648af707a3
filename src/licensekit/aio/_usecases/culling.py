"""Culling: installations that stopped checking in lose their seats.

A key culls when its ``dead_after_seconds`` is set; such keys are listed as
:class:`~licensekit.domain.model.CullingKey` records (kept in step by
:func:`keep_culling_listed`, called wherever a key's liveness changes), so that the culling
job finds them across every business account without scanning the others.

For each listed key the job reads the key's installations a page at a time, each page in a
transaction of its own that locks nothing; the dead ones of a page are culled in one more
transaction, which locks their computers' scopes and the key's (in sorted order, as an
activation does), reads them again and culls those still dead. So a copy that checks in
while the job runs keeps its seat, and an activation or deactivation never crosses a cull.
Seats are released with the guarded counter.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

from licensekit._results import CullReport
from licensekit.aio._usecases._audit import event
from licensekit.aio._usecases._context import Context
from licensekit.aio._usecases._key_access import computer_scope
from licensekit.aio._usecases._seats import (
    draws_on_primary,
    lock_keys,
    lock_primary,
    release_seats,
)
from licensekit.aio._usecases._tx import Tx
from licensekit.domain import standing
from licensekit.domain._echo import echo
from licensekit.domain.model import (
    CULLING_SCOPE,
    AuditAction,
    CullingKey,
    Installation,
    LicenseKey,
)
from licensekit.exceptions import ValidationError
from licensekit.storage import AUDIT_EVENTS, CULLING_KEYS, INSTALLATIONS, LICENSE_KEYS, Query

__all__ = ["CULL_BATCH", "Culling", "keep_culling_listed"]

CULL_BATCH = 500
"""How many installations one page of the job reads, and at most how many one of its
transactions culls."""

_READ_AGAIN = 3
"""How many times in a row a page is read again after a cull that culled nothing of it."""


async def keep_culling_listed(
    tx: Tx, before: LicenseKey | None, after: LicenseKey, now: dt.datetime
) -> None:
    """List *after* among the keys that cull, or unlist it, as its ``dead_after`` says.

    *before* is the key as it was (None for a new key); nothing is written when its culling
    did not change.
    """
    was = None if before is None else before.dead_after_seconds
    if was == after.dead_after_seconds:
        return
    if after.dead_after_seconds is None:
        await tx.delete(CULLING_KEYS, (CULLING_SCOPE, after.id))
    else:
        await tx.put(
            CULLING_KEYS,
            CullingKey(
                scope=CULLING_SCOPE, key_id=after.id, account_id=after.account_id, since=now
            ),
        )


class Culling:
    """The use case of this group (see :class:`licensekit.LicenseKit`).

    Args:
        ctx: The shared context.
    """

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    async def cull_installations(self, *, limit: int | None = None) -> CullReport:
        """Cull the dead installations of every key that culls, freeing their seats.

        An installation is dead when it is active and has not checked in for its key's
        ``dead_after`` (set with :meth:`add_license_key` or :meth:`change_license_key`;
        keys without one never cull). A culled installation keeps its computer's claim on
        its code; if it checks in within 30 days it takes a seat back when one is free (see
        :meth:`check_in`). Each cull is audited (``installation.culled``, no actor).

        Hosts run it on a schedule (``licensekit cull-installations``, from cron or a task
        queue); it needs no session. Runs may overlap: a cull re-reads each installation
        under its computer's lock, so nothing is culled twice and a copy that checks in
        meanwhile keeps its seat.

        Args:
            limit: Cull at most this many installations in this call (None: all); the rest
                wait for the next run.

        Returns:
            How many keys were looked at and how many installations were culled.

        Raises:
            ValidationError: *limit* is not a positive integer or None.
        """
        given: object = limit
        if given is not None and (type(given) is not int or given < 1):
            raise ValidationError(
                f"limit must be a positive integer or None, got {echo(given)}", field="limit"
            )
        now = self._ctx.clock.now()
        run = self._ctx.runner.run
        keys = culled = 0
        after: tuple[str, ...] | None = None
        while limit is None or culled < limit:
            listed = await run(functools.partial(_listed, after=after))
            for entry in listed:
                if limit is not None and culled >= limit:
                    break
                keys += 1
                culled += await self._cull_key(
                    entry.key_id, now, None if limit is None else limit - culled
                )
            if len(listed) < CULL_BATCH:
                break
            after = (listed[-1].key_id,)
        return CullReport(keys=keys, culled=culled)

    async def _cull_key(self, key_id: str, now: dt.datetime, most: int | None) -> int:
        """Cull the dead installations of one key, at most *most*; return how many.

        When another job culled some of a page's dead installations first (or they checked
        in), the page is read again rather than left: its other dead ones are this job's to
        cull, so overlapping jobs together cull every dead installation, up to their limits.
        """
        run = self._ctx.runner.run
        culled = 0
        after: tuple[str, ...] | None = None
        again = 0
        while most is None or culled < most:
            key, page = await run(functools.partial(_scan, key_id=key_id, after=after))
            if key is None or key.dead_after is None:
                return culled  # listed a moment before its culling was turned off
            dead = [i for i in page if standing.is_dead(key, i, now)]
            if most is not None:
                dead = dead[: most - culled]
            if dead:
                done = await run(functools.partial(_cull, key=key, dead=dead, now=now))
                culled += done
                # Fewer than found: others were here. Read the page again (a few times at
                # most without progress: what one read finds dead, the next finds gone).
                again = 0 if done else again + 1
                if done < len(dead) and again <= _READ_AGAIN:
                    continue
            if len(page) < CULL_BATCH:
                break
            after = (page[-1].id,)
            again = 0
        return culled


async def _listed(tx: Tx, *, after: tuple[str, ...] | None) -> list[CullingKey]:
    """One page of the keys that cull."""
    return await tx.page(CULLING_KEYS, CULLING_SCOPE, after=after, limit=CULL_BATCH)


async def _scan(
    tx: Tx, *, key_id: str, after: tuple[str, ...] | None
) -> tuple[LicenseKey | None, list[Installation]]:
    """The key, and one page of its installations."""
    return await tx.get(LICENSE_KEYS, key_id), await tx.page(
        INSTALLATIONS, key_id, after=after, limit=CULL_BATCH
    )


async def _cull(tx: Tx, *, key: LicenseKey, dead: Sequence[Installation], now: dt.datetime) -> int:
    """Cull those of *dead* still dead once their computers and key are locked."""
    key_id = key.id
    await lock_keys(tx, [key], *{computer_scope(i.account_id, i.computer_id) for i in dead})
    keys, current = await tx.fetch(
        Query(LICENSE_KEYS, ("id",), ((key_id,),)),
        Query(INSTALLATIONS, ("id",), tuple((i.id,) for i in dead)),
    )
    if not keys:  # pragma: no cover - keys are never deleted
        return 0
    key = keys[0]
    still = sorted(
        # One moved to another key meanwhile (move_installations) is that key's to cull.
        (i for i in current if i.key_id == key_id and standing.is_dead(key, i, now)),
        key=lambda i: i.id,
    )
    if not still:
        return 0
    # A dynamic key's primary is locked after the key (see _seats).
    if draws_on_primary(key):
        await lock_primary(tx, key)
    await release_seats(tx, key, len(still))
    await tx.save_all(INSTALLATIONS, [standing.cull(i, now=now) for i in still])
    await tx.add_all(
        AUDIT_EVENTS,
        [
            event(
                now,
                i.account_id,
                "",
                AuditAction.CULLED,
                i.id,
                key_id=key_id,
                computer_id=i.computer_id,
                last_seen_at=i.last_seen_at.isoformat(),
            )
            for i in still
        ],
    )
    return len(still)
