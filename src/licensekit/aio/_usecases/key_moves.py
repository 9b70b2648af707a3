"""Moving installations to another key, and replacing a leaked key by a new one.

Both are one transaction each: all of it happens, or none.

**Moving** (:meth:`KeyMoves.move_installations`) takes a key's active installations (or the
ones listed, active or culled) to another key of the same account and product. Each keeps
its id and its token: the installed product notices nothing until its next check-in, which
answers (and certifies) with the new key. The storage port fixes an installation's
``key_id``, so each record is deleted and added again, changed only in its key, in the same
transaction. The seats go with them: released on the old key, then claimed on the new one
with :func:`~licensekit._usecases._seats.claim_seats` (in that order, so that a move between
two keys of one pool never needs the pool's seats twice); a new key without enough free
seats refuses the whole move with :class:`~licensekit.exceptions.SeatsFull`, saying how
many were needed and free. The move is refused too, with the list, when the new key blocks
some of the computers (:class:`~licensekit.exceptions.ComputerBlocked`) or already holds a
live installation of one (:class:`~licensekit.exceptions.ConflictError`). An inactive
(deactivated or culled) record of the same computer under the new key is replaced by the
moved one: its token stops working, its computer's claim on its invitation's code ends (as
a deactivation would end it), and its notes carry over if the moved one has none.

Invitations to install do not move: their codes keep activating under the old key. So that
a computer never holds seats of both keys through one code, a moved computer's claim on its
invitation's code ends, as after a deactivation; reinstalling it takes a code of the new
key (or the same installation token, which keeps working).

**Replacing** (:meth:`KeyMoves.replace_license_key`) rotates a leaked key: a new key with a
new secret value and everything else of the old one (product, seats, expiry, status, grace,
check-in and culling settings; for an additional key, its primary and pool) takes over every
live installation, every invitation to install still in force (not revoked, not expired:
pending codes keep working, and computers keep their claims on theirs), the License
Administrators' grants over the old key and its place on the culling list; the old key is
removed. Nobody is invited again. An additional key's replacement is an additional key of
the same primary and pool; a reserved key's seats pass to it without being taken from the
pool twice. A primary key that has additional keys (not removed) is not replaced yet: their
``primary_id`` is fixed.

Scopes: both lock ``account:<account id>`` first (through the runner), as every
administrator's change does, which keeps deactivations, blocks, key changes, grants and
invitation writes from crossing them. Then, in one call, the scopes of every moved computer
(``computer:<account id>:<computer id>``) and of the two keys when they are additional keys,
and in a later call the primary keys involved
(:func:`~licensekit._usecases._seats.lock_keys`), so that no activation, check-in or cull
of those computers, and no activation under either key, crosses the move. The computers are
found before the lock and looked for again after it, on a store whose transactions run side
by side. Activations, check-ins and culls that found a record before a move and waited for
it follow the record to its new key when they read it again.

On PostgreSQL each moved computer holds one advisory lock until the move commits. The
server's lock table holds about ``max_locks_per_transaction`` times ``max_connections``
(6,400 by default, with some slack: 10,000 fit, 30,000 did not); to move more at once, raise
``max_locks_per_transaction``, or move them in parts with ``installation_ids``.

Large moves are read and written :data:`MOVE_CHUNK` records at a time, holding no more than
the moved ids and computers in memory between chunks; one audit event records each move.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from typing import NamedTuple, TypeVar

import attrs

from licensekit._ids import new_id
from licensekit._results import MoveReport
from licensekit._usecases._checks import id_list
from licensekit.aio._usecases._access import Access
from licensekit.aio._usecases._audit import audit
from licensekit.aio._usecases._context import Context
from licensekit.aio._usecases._key_access import (
    account_scope,
    authorize_key,
    computer_scope,
    key_rights,
)
from licensekit.aio._usecases._seats import (
    claim_seats,
    draws_on_primary,
    family,
    has_lapsed,
    lock_keys,
    release_lapsed,
    release_seats,
)
from licensekit.aio._usecases._tx import Tx
from licensekit.aio._usecases.culling import keep_culling_listed
from licensekit.aio._usecases.keys import clean_key_value, key_value_hash
from licensekit.domain import licensing, seat_pools, standing
from licensekit.domain._echo import echo
from licensekit.domain.model import (
    CULLING_SCOPE,
    AuditAction,
    ComputerBlock,
    Installation,
    InstallationStatus,
    KeyStatus,
    LicenseKey,
    Session,
)
from licensekit.domain.roles import Permission
from licensekit.exceptions import (
    ComputerBlocked,
    ConflictError,
    DuplicateLicenseKey,
    InstallationNotFound,
    SeatsFull,
    ValidationError,
)
from licensekit.storage import (
    COMPUTER_BLOCKS,
    CULLING_KEYS,
    INSTALL_INVITATIONS,
    INSTALLATIONS,
    LICENSE_KEYS,
    MEMBERSHIPS,
    Query,
)

__all__ = ["MOVE_CHUNK", "KeyMoves"]

T = TypeVar("T")

MOVE_CHUNK = 500
"""How many installations (or invitations, or memberships) a move reads or writes at once."""

LISTED_IN_AUDIT = 50
"""A move of at most this many listed installations names them in its audit event."""

LISTED_IN_MESSAGE = 10
"""A refusal names at most this many computers, then says how many more."""


class _Moving(NamedTuple):
    """What a move keeps of each installation it moves between reading and writing it."""

    id: str
    computer_id: str
    active: bool


class _PoolLapsed(Exception):
    """No seat was free, but lapsed additional keys of the pool hold some: release them."""

    def __init__(self, primary_id: str) -> None:
        super().__init__(primary_id)
        self.primary_id = primary_id


class KeyMoves:
    """The use cases of this group (see :class:`licensekit.LicenseKit` for each one).

    Args:
        ctx: The shared context.
        access: Resolves and authorises sessions.
    """

    def __init__(self, ctx: Context, access: Access) -> None:
        self._ctx = ctx
        self._access = access

    async def move_installations(
        self,
        session: Session | str,
        account_id: str,
        key_id: str,
        to_key_id: str,
        *,
        installation_ids: Iterable[str] | None = None,
    ) -> MoveReport:
        """Move installations to another key of the same product; all of them or none.

        Each installation keeps its id and its token: the installed product learns its new
        key at its next check-in (its certificate then names it). Its seat moves with it:
        the new key must have a free seat for each active installation moved. An inactive
        record of the same computer under the new key is replaced (its computer's claim on
        its code ends). Invitations to install stay with the old key, and each moved
        computer's claim on its code ends, as after a deactivation. Audited once
        (``installation.moved``, with the counts).

        Args:
            session: An Account Administrator, or a License Administrator of both keys.
            account_id: The business account.
            key_id: The key the installations leave.
            to_key_id: The key they go to: same account and product, active, not expired.
            installation_ids: The installations to move (active or culled ones, of
                *key_id*); None (the default) moves every active installation of the key.

        Returns:
            How many installations moved and how many seats went with them (none moved
            when the key has no active installation).

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            LicenseKeyNotFound: Either key is not a key of *account_id*.
            PermissionDenied: The caller may not manage the installations of both keys.
            InstallationNotFound: One of *installation_ids* is not an installation of
                *key_id*.
            ValidationError: The same key twice, or *installation_ids* empty, not ids, or
                more than :attr:`Settings.max_batch_size` of them.
            ConflictError: The keys are for different products; the new key is suspended,
                removed or expired; one of *installation_ids* is deactivated; or the new key
                holds a live installation of one of the computers already (the message lists
                them).
            ComputerBlocked: The new key blocks some of the computers (listed in the
                message and in its ``computer_ids``).
            SeatsFull: The new key (or its pool) has fewer free seats than the active
                installations moved; its ``needed`` and ``free`` say how many.
        """
        wanted = id_list(installation_ids, "installation_ids", self._ctx.settings.max_batch_size)
        if wanted is not None and not wanted:
            raise ValidationError("installation_ids must name at least one installation")
        now = self._ctx.clock.now()
        retried = False

        async def work(tx: Tx) -> MoveReport:
            record, membership = await self._access.authorize(
                tx, session, account_id, Permission.VIEW_ACCOUNT, now
            )
            source = await key_rights(
                tx, record, membership, account_id, key_id, Permission.MANAGE_INSTALLATIONS
            )
            target = await key_rights(
                tx, record, membership, account_id, to_key_id, Permission.MANAGE_INSTALLATIONS
            )
            if source.id == target.id:
                raise ValidationError(
                    f"installations move to another key; to_key_id names key {source.id!r} "
                    "they are under",
                    field="to_key_id",
                )
            if source.product.casefold() != target.product.casefold():
                raise ConflictError(
                    f"license key {target.id!r} is for {target.product!r}, not "
                    f"{source.product!r}: installations move only between keys of one product"
                )
            mover = _Mover(tx, source, target, now, lapsed_released=retried)
            report = await mover.move(wanted, include_culled=False, keep_claims=False)
            if report.installations:
                listed = wanted is not None and len(wanted) <= LISTED_IN_AUDIT
                await audit(
                    tx,
                    now,
                    account_id,
                    record.user_id,
                    AuditAction.INSTALLATIONS_MOVED,
                    source.id,
                    to_key_id=target.id,
                    selection="all active" if wanted is None else "listed",
                    installations=str(report.installations),
                    seats=str(report.seats),
                    replaced=str(report.replaced),
                    **({"installation_ids": " ".join(wanted or ())} if listed else {}),
                )
            return report

        try:
            return await self._ctx.runner.run(work, account_scope(account_id))
        except _PoolLapsed as lapsed:
            # Seats of a removed or ended additional key go back to the pool; then once more.
            await self._ctx.runner.run(
                partial(release_lapsed, primary_id=lapsed.primary_id, now=now)
            )
            retried = True
            return await self._ctx.runner.run(work, account_scope(account_id))

    async def replace_license_key(
        self, session: Session | str, account_id: str, key_id: str, *, value: str
    ) -> MoveReport:
        """Replace a key (one whose value leaked, say) by a new key with a new value.

        The new key has everything else of the old one: product, seats, expiry, status,
        grace period, check-in interval and culling (an additional key's replacement is an
        additional key of the same primary and pool, and takes over a reserved key's seats).
        It takes over, in one transaction: every active and culled installation (each keeps
        its id and token; copies learn the new key at their next check-in), every invitation
        to install not revoked or expired (pending codes and links keep working), the
        License Administrators' grants over the old key and its culling. The old key is
        then removed; its deactivated installations and its revoked and expired invitations
        stay with it. Nobody is invited again. Audited once (``license_key.replaced``).

        Only Account Administrators replace keys: it sets a secret value and removes a key,
        which License Administrators may not do.

        Args:
            session: An Account Administrator of *account_id*.
            account_id: The business account.
            key_id: The key to replace.
            value: The new key's secret value, as issued by the vendor; unique in the
                account (not the old key's either).

        Returns:
            The old and the new key's ids (``to_key_id``) and the counts of what moved.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            LicenseKeyNotFound: No such key in *account_id*.
            ValidationError: An empty, too long or multi-line value.
            DuplicateLicenseKey: The account holds a key with that value already (the old
                key included).
            ConflictError: The key was removed, or is a primary key with additional keys
                (not supported yet: replace the additional keys, or move the installations
                to another key with :meth:`move_installations`).
        """
        ctx = self._ctx
        value = clean_key_value(value)
        now = ctx.clock.now()
        new_key_id = new_id("key", now)
        value_hash = key_value_hash(ctx, account_id, value)
        ciphertext = ctx.keys.encrypt(value, bound_to=new_key_id)

        async def work(tx: Tx) -> MoveReport:
            record, _, old = await authorize_key(
                self._access, tx, session, account_id, key_id, Permission.MANAGE_LICENSE_KEYS, now
            )
            licensing.check_not_removed(old)
            if not old.is_additional:
                kept = [k.id for k in await family(tx, old.id) if k.status is not KeyStatus.REMOVED]
                if kept:
                    raise ConflictError(
                        f"license key {old.id!r} is the primary key of {len(kept)} additional "
                        f"keys ({_listing(kept)}); a primary key with additional keys cannot "
                        "be replaced yet: move its installations to another key instead"
                    )
            same = await tx.find(LICENSE_KEYS, account_id=account_id, value_hash=value_hash)
            if same is not None:
                raise DuplicateLicenseKey(
                    f"account {account_id!r} already holds that license key as {same.id!r} "
                    f"({same.status.value}); the new key needs a new value"
                )
            new = attrs.evolve(
                old,
                id=new_key_id,
                seats_used=0,
                created_at=now,
                created_by=record.user_id,
                value_hash=value_hash,
                value_ciphertext=ciphertext,
                updated_at=now,
            )
            await tx.add(LICENSE_KEYS, new)
            mover = _Mover(tx, old, new, now, lapsed_released=True, check_target=False)
            moved = await mover.move(None, include_culled=True, keep_claims=True)
            invitations = await _move_invitations(tx, old.id, new.id, now)
            grants = await _carry_grants(tx, account_id, old.id, new.id)
            blocks = await _carry_blocks(tx, account_id, old.id, new.id)
            await keep_culling_listed(tx, None, new, now)
            await tx.delete(CULLING_KEYS, (CULLING_SCOPE, old.id))
            left = await tx.get(LICENSE_KEYS, old.id)
            assert left is not None  # noqa: S101 - keys are never deleted
            removed = licensing.remove_key(left, now=now)
            if removed.is_additional and removed.released_at is None:
                # Its hold on the pool passed to the new key: nothing goes back to the pool.
                removed = attrs.evolve(removed, released_at=now)
            await tx.save(LICENSE_KEYS, removed)
            await audit(
                tx,
                now,
                account_id,
                record.user_id,
                AuditAction.LICENSE_KEY_REPLACED,
                old.id,
                new_key_id=new.id,
                product=old.product,
                installations=str(moved.installations),
                seats=str(moved.seats),
                invitations=str(invitations),
                grants=str(grants),
                blocks=str(blocks),
            )
            return attrs.evolve(moved, invitations=invitations, grants=grants)

        return await ctx.runner.run(work, account_scope(account_id))


class _Mover:
    """One move of installations from *source* to *target*, inside one transaction.

    Args:
        tx: The transaction, which holds the account's scope.
        source: The key the installations leave, as read.
        target: The key they go to, as read.
        now: The time of the move.
        lapsed_released: True once lapsed holds on the pool were released for this move
            (a refusal for want of seats is then final).
        check_target: Refuse a target that does not activate (False for a replacement,
            whose new key is a copy of the old one).
    """

    def __init__(
        self,
        tx: Tx,
        source: LicenseKey,
        target: LicenseKey,
        now: dt.datetime,
        *,
        lapsed_released: bool,
        check_target: bool = True,
    ) -> None:
        self.tx = tx
        self.source = source
        self.target = target
        self.now = now
        self.lapsed_released = lapsed_released
        self.check_target = check_target

    async def move(
        self, wanted: list[str] | None, *, include_culled: bool, keep_claims: bool
    ) -> MoveReport:
        """Move the chosen installations; see the module docstring.

        Args:
            wanted: The ids to move, or None for all of the source's.
            include_culled: With *wanted* None, move culled installations too.
            keep_claims: Keep the moved computers' claims on their codes (their invitations
                move too).
        """
        primaries = await self._primaries()
        moving = await self._lock_and_choose(wanted, include_culled, primaries)
        await self._read_keys_again(primaries)
        if self.check_target:
            primary_id = self.target.primary_id
            primary = None if primary_id is None else primaries.get(primary_id)
            if primary_id is not None and primary is None:
                # Judged with its primary (read, not locked: its pool is not drawn on).
                primary = await self.tx.get(LICENSE_KEYS, primary_id)
            self._check_target(primary)
        if not moving:
            return MoveReport(self.source.id, self.target.id, 0, 0)
        replaced = await self._check_computers(moving)
        seats = sum(1 for m in moving if m.active)
        await self._move_seats(seats, primaries)
        await self._write(moving, replaced, keep_claims=keep_claims)
        return MoveReport(
            from_key_id=self.source.id,
            to_key_id=self.target.id,
            installations=len(moving),
            seats=seats,
            replaced=len(replaced),
        )

    async def _primaries(self) -> dict[str, LicenseKey]:
        """The primary keys whose pools the two keys draw on, by id."""
        wanted = {k.primary_id for k in (self.source, self.target) if draws_on_primary(k)}
        found = await self.tx.get_many(LICENSE_KEYS, sorted(i for i in wanted if i))
        return {k.id: k for k in found}

    async def _lock_and_choose(
        self, wanted: list[str] | None, include_culled: bool, primaries: dict[str, LicenseKey]
    ) -> list[_Moving]:
        """Lock the keys and the computers of the installations to move; return those."""
        account_id = self.source.account_id
        locked: set[str] = set()
        first = True
        while True:
            moving = await self._choose(wanted, include_culled)
            scopes = {computer_scope(account_id, m.computer_id) for m in moving} - locked
            if first:
                keys = [self.source, self.target, *primaries.values()]
                stale = await lock_keys(self.tx, keys, *scopes)
            elif scopes:
                # Activated between the look and the lock: rare, and locked after the keys.
                stale = await self.tx.lock(*sorted(scopes))
            else:
                return moving
            first = False
            locked |= scopes
            if not stale:
                return moving

    async def _choose(self, wanted: list[str] | None, include_culled: bool) -> list[_Moving]:
        """The installations to move, as stored now."""
        chosen: list[_Moving] = []
        if wanted is None:
            after: tuple[str, ...] | None = None
            while True:
                page = await self.tx.page(
                    INSTALLATIONS, self.source.id, after=after, limit=MOVE_CHUNK
                )
                chosen += [
                    _Moving(i.id, i.computer_id, i.is_active)
                    for i in page
                    if i.is_active or (include_culled and i.status is InstallationStatus.CULLED)
                ]
                if len(page) < MOVE_CHUNK:
                    return chosen
                after = (page[-1].id,)
        for chunk in _chunks(wanted):
            found = {i.id: i for i in await self.tx.get_many(INSTALLATIONS, chunk)}
            for installation_id in chunk:
                installation = found.get(installation_id)
                if installation is None or installation.key_id != self.source.id:
                    raise InstallationNotFound(
                        f"no installation {echo(installation_id)} under license key "
                        f"{self.source.id!r}"
                    )
                if installation.status is InstallationStatus.DEACTIVATED:
                    raise ConflictError(
                        f"installation {installation_id!r} is deactivated; only active and "
                        "culled installations move"
                    )
                chosen.append(
                    _Moving(installation.id, installation.computer_id, installation.is_active)
                )
        return chosen

    async def _read_keys_again(self, primaries: dict[str, LicenseKey]) -> None:
        """Read the keys again, now that they are locked."""
        ids = [self.source.id, self.target.id, *primaries]
        current = {k.id: k for k in await self.tx.get_many(LICENSE_KEYS, ids)}
        self.source, self.target = current[self.source.id], current[self.target.id]
        primaries.update({i: current[i] for i in primaries})

    def _check_target(self, primary: LicenseKey | None) -> None:
        """Refuse a target that does not activate now."""
        judged = seat_pools.effective_key(self.target, primary)
        if not licensing.key_usable(judged, self.now):
            state = standing.key_state(judged, self.now).value
            raise ConflictError(
                f"license key {self.target.id!r} is {state}; installations move only to a "
                "key that activates"
            )

    async def _check_computers(self, moving: Sequence[_Moving]) -> dict[str, Installation]:
        """Refuse computers the target blocks or holds live; return the records to replace.

        Returns:
            The target's inactive records of the moving computers, by computer.

        Raises:
            ComputerBlocked: The target blocks some (all of them listed).
            ConflictError: The target holds a live installation of some.
        """
        account_id, target_id = self.source.account_id, self.target.id
        blocked: list[str] = []
        taken: list[str] = []
        replaced: dict[str, Installation] = {}
        for chunk in _chunks(moving):
            computers = [m.computer_id for m in chunk]
            blocks, existing = await self.tx.fetch(
                Query(
                    COMPUTER_BLOCKS,
                    ("account_id", "computer_id"),
                    tuple((account_id, c) for c in computers),
                ),
                Query(
                    INSTALLATIONS,
                    ("key_id", "computer_id"),
                    tuple((target_id, c) for c in computers),
                ),
            )
            primary_id = self.target.primary_id
            blocked += sorted({b.computer_id for b in blocks if b.covers(target_id, primary_id)})
            for installation in existing:
                if installation.status is InstallationStatus.ACTIVE:
                    taken.append(installation.computer_id)
                else:
                    replaced[installation.computer_id] = installation
        if blocked:
            raise ComputerBlocked(
                f"license key {target_id!r} blocks {len(blocked)} of the computers to move "
                f"({_listing(blocked)}); unblock them, or move the others by their ids",
                computer_ids=tuple(blocked),
            )
        if taken:
            raise ConflictError(
                f"license key {target_id!r} already holds an active installation of "
                f"{len(taken)} of the computers to move ({_listing(sorted(taken))}); "
                "deactivate one of the two, or move the others by their ids"
            )
        return replaced

    async def _move_seats(self, seats: int, primaries: dict[str, LicenseKey]) -> None:
        """Give the seats back on the source, then claim them on the target.

        Raises:
            SeatsFull: The target (or its pool) has fewer than *seats* free.
        """
        if not seats:
            return
        tx, target = self.tx, self.target
        await release_seats(tx, self.source, seats)
        if await claim_seats(tx, target, seats):
            return
        primary = primaries.get(target.primary_id or "") if draws_on_primary(target) else None
        pool = primary if primary is not None else None if target.is_additional else target
        if not self.lapsed_released and pool is not None and await has_lapsed(tx, pool, self.now):
            raise _PoolLapsed(pool.id)
        counters = {
            k.id: k
            for k in await tx.get_many(
                LICENSE_KEYS, [target.id, *([primary.id] if primary else [])]
            )
        }
        free = counters[target.id].seats_free
        if primary is not None:
            free = min(free, counters[primary.id].seats_free)
        raise SeatsFull(
            f"moving {seats} active installations needs {seats} free seats of license key "
            f"{target.id!r}; it has {free}",
            seats=target.seats,
            needed=seats,
            free=free,
        )

    async def _write(
        self, moving: Sequence[_Moving], replaced: dict[str, Installation], *, keep_claims: bool
    ) -> None:
        """Delete and add each moved record again under the target, a chunk at a time."""
        tx, target_id = self.tx, self.target.id
        for chunk in _chunks(moving):
            current = {i.id: i for i in await tx.get_many(INSTALLATIONS, [m.id for m in chunk])}
            moved: list[Installation] = []
            gone: list[str] = []
            claims: dict[str, set[str]] = {}  # invitation id: computers whose claims end
            for m in chunk:
                installation = current[m.id]
                notes = installation.notes
                old = replaced.get(installation.computer_id)
                if old is not None:
                    gone.append(old.id)
                    claims.setdefault(old.invitation_id, set()).add(old.computer_id)
                    notes = notes or old.notes
                if not keep_claims:
                    claims.setdefault(installation.invitation_id, set()).add(m.computer_id)
                moved.append(attrs.evolve(installation, key_id=target_id, notes=notes))
            await tx.delete(INSTALLATIONS, *gone, *(i.id for i in moved))
            await tx.add_all(INSTALLATIONS, moved)
            await _end_claims(tx, claims)


async def _end_claims(tx: Tx, claims: dict[str, set[str]]) -> None:
    """End the claims of computers on the codes of invitations, by invitation id."""
    invitations = await tx.get_many(INSTALL_INVITATIONS, claims)
    changed = []
    for invitation in invitations:
        kept = invitation
        for computer_id in sorted(claims[invitation.id]):
            kept = licensing.forget_computer(kept, computer_id)
        if kept != invitation:
            changed.append(kept)
    await tx.save_all(INSTALL_INVITATIONS, changed)


async def _move_invitations(tx: Tx, old_id: str, new_id_: str, now: dt.datetime) -> int:
    """Move the invitations to install of *old_id* still in force to *new_id_*; how many."""
    moved = 0
    after: tuple[str, ...] | None = None
    while True:
        page = await tx.page(INSTALL_INVITATIONS, old_id, after=after, limit=MOVE_CHUNK)
        kept = [
            attrs.evolve(i, key_id=new_id_)
            for i in page
            if i.revoked_at is None and not i.expired(now)  # a noted expiry included
        ]
        await tx.delete(INSTALL_INVITATIONS, *(i.id for i in kept))
        await tx.add_all(INSTALL_INVITATIONS, kept)
        moved += len(kept)
        if len(page) < MOVE_CHUNK:
            return moved
        after = (page[-1].id,)


async def _carry_grants(tx: Tx, account_id: str, old_id: str, new_id_: str) -> int:
    """Give License Administrators of *old_id* the same grant over *new_id_*; how many."""
    carried = 0
    after: tuple[str, ...] | None = None
    while True:
        page = await tx.page(MEMBERSHIPS, account_id, after=after, limit=MOVE_CHUNK)
        changed = [
            attrs.evolve(m, license_keys=(m.license_keys - {old_id}) | {new_id_})
            for m in page
            if old_id in m.license_keys
        ]
        await tx.save_all(MEMBERSHIPS, changed)
        carried += len(changed)
        if len(page) < MOVE_CHUNK:
            return carried
        after = (page[-1].user_id,)


async def _carry_blocks(tx: Tx, account_id: str, old_id: str, new_id_: str) -> int:
    """Block under *new_id_* every computer blocked under *old_id*; how many.

    A block's key is part of its identity, so each one is written anew under the new key
    (by whom, when and why kept) and the old one deleted.
    """
    carried: list[ComputerBlock] = []
    after: tuple[str, str | None] | None = None
    while True:
        page = await tx.page(COMPUTER_BLOCKS, account_id, after=after, limit=MOVE_CHUNK)
        carried += [b for b in page if b.key_id == old_id]
        if len(page) < MOVE_CHUNK:
            break
        last = page[-1]
        after = (last.computer_id, last.key_id)
    for chunk in _chunks(carried):
        await tx.delete(COMPUTER_BLOCKS, *((b.account_id, b.computer_id, b.key_id) for b in chunk))
        await tx.add_all(COMPUTER_BLOCKS, [attrs.evolve(b, key_id=new_id_) for b in chunk])
    return len(carried)


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), MOVE_CHUNK):
        yield items[start : start + MOVE_CHUNK]


def _listing(values: Sequence[str]) -> str:
    """The first few of *values*, quoted, and how many more there are."""
    shown = ", ".join(echo(v) for v in values[:LISTED_IN_MESSAGE])
    more = len(values) - LISTED_IN_MESSAGE
    return shown + (f" and {more} more" if more > 0 else "")
