"""Additional keys: making them under a primary key, and the seat pool they share.

The rules are :mod:`licensekit.domain.seat_pools`; the counters' writes are
:mod:`licensekit._usecases._seats`. Scopes: making an additional key locks
``account:<account id>`` (as adding any key does), then ``key:<primary id>``, so that the
reserved seats are taken from a primary no other change is crossing; its seats are taken with
the guarded counter. Reading the pool locks nothing.
"""

from __future__ import annotations

import datetime as dt
import functools

from licensekit._ids import new_id
from licensekit._usecases._checks import clean_name
from licensekit.aio._usecases._access import Access
from licensekit.aio._usecases._audit import audit
from licensekit.aio._usecases._context import Context
from licensekit.aio._usecases._key_access import (
    account_scope,
    authorize_key,
    is_admin,
    key_rights,
    key_scope,
)
from licensekit.aio._usecases._seats import family, has_lapsed, release_lapsed
from licensekit.aio._usecases._tx import Tx
from licensekit.aio._usecases.culling import keep_culling_listed
from licensekit.aio._usecases.keys import clean_key_value, key_value_hash, key_view
from licensekit.clock import ensure_aware
from licensekit.domain import licensing, seat_pools
from licensekit.domain.model import (
    AuditAction,
    LicenseKey,
    LicenseKeyView,
    SeatPool,
    SeatPoolView,
    Session,
)
from licensekit.domain.roles import Permission
from licensekit.exceptions import DuplicateLicenseKey, SeatsFull, ValidationError
from licensekit.storage import LICENSE_KEYS

__all__ = ["AdditionalKeys"]


class AdditionalKeys:
    """The use cases of this group (see :class:`licensekit.LicenseKit` for each one).

    Args:
        ctx: The shared context.
        access: Resolves and authorises sessions.
    """

    def __init__(self, ctx: Context, access: Access) -> None:
        self._ctx = ctx
        self._access = access

    async def add_additional_key(
        self,
        session: Session | str,
        account_id: str,
        primary_key_id: str,
        *,
        value: str,
        seats: int,
        seat_pool: SeatPool | str,
        expires_at: dt.datetime | None = None,
        product: str | None = None,
    ) -> LicenseKeyView:
        """Add an additional key under a primary key, with reserved or dynamic seats.

        Installers are invited under an additional key as under any key; its installations
        take their seats from the primary's pool. *Reserved* seats are taken from the pool
        now and kept for this key alone, used or not; *dynamic* seats are taken as its
        computers activate, first come, first served, with the primary and its other dynamic
        keys (*seats* caps how many). The key expires no later than its primary (without
        *expires_at*, with it), and is judged with it: while the primary is suspended,
        removed or ended, so is the additional key. When the additional key is removed or
        its license ends, its seats go back to the primary's pool. It starts with the
        primary's grace period, check-in interval and culling
        (:meth:`change_license_key` changes them).

        Revoking an additional key and making a new one is easy, which is why activating
        through additional keys rather than through the primary is the better practice.

        Args:
            session: An Account Administrator, or a License Administrator of the primary.
            account_id: The business account.
            primary_key_id: The primary key (not itself an additional key).
            value: The additional key's own secret value.
            seats: Its seats: at most the primary's.
            seat_pool: ``"reserved"`` or ``"dynamic"`` (a :class:`~licensekit.SeatPool`).
            expires_at: Its expiry: no later than the primary's; the primary's by default.
            product: Must be the primary's product when given (the default).

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            LicenseKeyNotFound: No such primary key in *account_id*.
            PermissionDenied: The caller is neither an Account Administrator nor a License
                Administrator of the primary.
            ValidationError: A bad value, seats out of range or above the primary's, an
                unknown pool, another product, or an expiry not in the future or later
                than the primary's.
            ConflictError: The primary key is an additional key, or is not active.
            SeatsFull: Reserved seats that the primary's pool does not have free.
            DuplicateLicenseKey: The account holds a key with that value already.
        """
        ctx = self._ctx
        value = clean_key_value(value)
        seats = licensing.check_seats(seats)
        pool = seat_pools.seat_pool_of(seat_pool)
        if product is not None:
            product = clean_name(product, "product", required=True)
        now = ctx.clock.now()
        if expires_at is not None:
            expires_at = ensure_aware(expires_at, "expires_at")
            if expires_at <= now:
                raise ValidationError("a new license key's expiry must be in the future")
        key_id = new_id("key", now)
        value_hash = key_value_hash(ctx, account_id, value)
        ciphertext = ctx.keys.encrypt(value, bound_to=key_id)

        async def work(tx: Tx) -> tuple[LicenseKey, bool] | str:
            record, membership = await self._access.authorize(
                tx, session, account_id, Permission.VIEW_ACCOUNT, now
            )
            await key_rights(
                tx,
                record,
                membership,
                account_id,
                primary_key_id,
                Permission.MANAGE_ADDITIONAL_KEYS,
            )
            await tx.lock(key_scope(primary_key_id))
            primary = await tx.get(LICENSE_KEYS, primary_key_id)
            assert primary is not None  # noqa: S101 - key_rights found it, keys stay
            if product is not None and product != primary.product:
                raise ValidationError(
                    f"an additional key licenses its primary's product, {primary.product!r}",
                    field="product",
                )
            short = pool is SeatPool.RESERVED and seats > primary.seats_free
            if short and await has_lapsed(tx, primary, now):
                return primary.id  # seats held by lapsed keys: release, then again
            expiry = seat_pools.check_additional(
                primary, seats=seats, seat_pool=pool, expires_at=expires_at, now=now
            )
            same = await tx.find(LICENSE_KEYS, account_id=account_id, value_hash=value_hash)
            if same is not None:
                # Which key holds it is for Account Administrators: a License Administrator
                # must not learn that a guessed value belongs to a key they do not manage.
                where = (
                    f" as {same.id!r} ({same.status.value})" if is_admin(record, membership) else ""
                )
                raise DuplicateLicenseKey(
                    f"account {account_id!r} already holds that license key{where}"
                )
            key = LicenseKey(
                id=key_id,
                account_id=account_id,
                product=primary.product,
                seats=seats,
                seats_used=0,
                created_at=now,
                created_by=record.user_id,
                value_hash=value_hash,
                value_ciphertext=ciphertext,
                expires_at=expiry,
                updated_at=now,
                grace_seconds=primary.grace_seconds,
                check_in_seconds=primary.check_in_seconds,
                dead_after_seconds=primary.dead_after_seconds,
                primary_id=primary.id,
                seat_pool=pool,
            )
            # Reserved seats leave the pool at once, by the primary's guarded counter.
            if pool is SeatPool.RESERVED and not await tx.increment(
                LICENSE_KEYS, primary.id, "seats_used", seats, cap="seats"
            ):  # pragma: no cover - the primary is locked and was checked above
                raise SeatsFull(f"{seats} seats cannot be reserved", seats=primary.seats)
            await tx.add(LICENSE_KEYS, key)
            await keep_culling_listed(tx, None, key, now)
            await audit(
                tx,
                now,
                account_id,
                record.user_id,
                AuditAction.ADDITIONAL_KEY_ADDED,
                key.id,
                primary_id=primary.id,
                seat_pool=pool.value,
                seats=str(seats),
            )
            return key, is_admin(record, membership)

        scopes = (account_scope(account_id),)
        added = await ctx.runner.run(work, *scopes)
        if isinstance(added, str):
            await ctx.runner.run(functools.partial(_release, primary_id=added, now=now))
            added = await ctx.runner.run(work, *scopes)
        if isinstance(added, str):  # pragma: no cover - released just before
            raise SeatsFull(f"{seats} seats cannot be reserved", seats=seats)
        key, admin = added
        return key_view(ctx, key, masked=admin)

    async def get_seat_pool(
        self, session: Session | str, account_id: str, key_id: str
    ) -> SeatPoolView:
        """Return the seat pool a key belongs to: its primary's and its additional keys'.

        *key_id* may be the primary or any of its additional keys (a key without
        additional keys is a pool of its own). The numbers are the administrator's guide's:
        total and used seats, reserved seats and how many of them are used, and what is
        available in the main pool (for the primary and its dynamic keys).

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            LicenseKeyNotFound: No such key in *account_id*.
            PermissionDenied: The caller is neither an Account Administrator nor a License
                Administrator of the key (or of its primary).
        """
        now = self._ctx.clock.now()

        async def work(tx: Tx) -> SeatPoolView:
            _, _, key = await authorize_key(
                self._access, tx, session, account_id, key_id, Permission.VIEW_INSTALLATIONS, now
            )
            primary = key
            if key.primary_id is not None:
                found = await tx.get(LICENSE_KEYS, key.primary_id)
                primary = found if found is not None else key
            return seat_pools.pool_view(primary, await family(tx, primary.id), now)

        return await self._ctx.runner.run(work)


async def _release(tx: Tx, *, primary_id: str, now: dt.datetime) -> int:
    return await release_lapsed(tx, primary_id, now)
