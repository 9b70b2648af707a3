"""License keys: adding, listing, changing, renewing, suspending, resuming, removing.

Scopes: a key's change (:meth:`Keys.change_license_key`, renewing, suspending, resuming,
removing) locks ``account:<account id>`` and ``key:<key id>``: the key scope keeps a change
of the key's record from crossing an activation, which claims a seat with the guarded
counter (:mod:`licensekit._usecases.activation`). Adding a key locks ``account:<account
id>``. Listings and look-ups lock nothing. License Administrators' grants are
:mod:`licensekit._usecases.key_grants`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import attrs

from licensekit._ids import new_id
from licensekit._usecases._checks import (
    check_cursor,
    check_flag,
    check_limit,
    clean_name,
    plain_text,
)
from licensekit.aio._usecases._access import Access
from licensekit.aio._usecases._audit import audit
from licensekit.aio._usecases._context import Context
from licensekit.aio._usecases._key_access import (
    account_scope,
    authorize_any_key,
    authorize_key,
    is_admin,
    key_rights,
    key_scope,
    pages_by_id,
)
from licensekit.aio._usecases._listing import merged_page
from licensekit.aio._usecases._seats import check_removable, follow_primary
from licensekit.aio._usecases._tx import Tx
from licensekit.aio._usecases.culling import keep_culling_listed
from licensekit.clock import ensure_aware
from licensekit.domain import licensing, roles, standing
from licensekit.domain.model import (
    AuditAction,
    KeyStatus,
    LicenseKey,
    LicenseKeyView,
    Membership,
    Page,
    Session,
)
from licensekit.domain.roles import Permission
from licensekit.exceptions import DuplicateLicenseKey, ValidationError
from licensekit.storage import LICENSE_KEYS

__all__ = ["Keys", "clean_key_value", "key_value_hash", "key_view"]

MAX_KEY_VALUE = 512
"""The longest license key value, in characters."""


class Keys:
    """The use cases of this group (see :class:`licensekit.LicenseKit` for each one).

    Args:
        ctx: The shared context.
        access: Resolves and authorises sessions.
    """

    def __init__(self, ctx: Context, access: Access) -> None:
        self._ctx = ctx
        self._access = access

    async def add_license_key(
        self,
        session: Session | str,
        account_id: str,
        *,
        product: str,
        value: str,
        seats: int,
        expires_at: dt.datetime | None = None,
        grace_period: dt.timedelta = dt.timedelta(0),
        check_in_interval: dt.timedelta = standing.DEFAULT_CHECK_IN_INTERVAL,
        dead_after: dt.timedelta | None = None,
    ) -> LicenseKeyView:
        """Add a license key to an account.

        The value is kept only as a keyed hash and as ciphertext; listings show it masked,
        and only to Account Administrators. See :mod:`licensekit.domain.standing` for what
        the grace period, the check-in interval and the dead-after time do.

        Args:
            session: The caller, an Account Administrator of *account_id*.
            account_id: The business account.
            product: The product the key licenses.
            value: The key's secret value, as issued by the vendor.
            seats: How many computers may hold an active installation at once.
            expires_at: When the key stops activating (aware datetime), or None.
            grace_period: How long after *expires_at* installations keep running (check-in
                says ``grace``); none by default, at most 365 days. New computers do not
                activate during grace.
            check_in_interval: How often installed copies should check in (1 minute to 90
                days; a day by default).
            dead_after: After how long without a check-in an installation is dead and
                :meth:`cull_installations` frees its seat; at least twice the interval.
                None (the default): never.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            ValidationError: Empty product or value, seats out of range, expiry not in the
                future, or a grace period, interval or dead-after time out of bounds.
            DuplicateLicenseKey: The account holds a key with that value already.
        """
        ctx = self._ctx
        product = clean_name(product, "product", required=True)
        value = clean_key_value(value)
        seats = licensing.check_seats(seats)
        now = ctx.clock.now()
        if expires_at is not None:
            expires_at = ensure_aware(expires_at, "expires_at")
            if expires_at <= now:
                raise ValidationError("a new license key's expiry must be in the future")
        key_id = new_id("key", now)
        value_hash = key_value_hash(ctx, account_id, value)
        new_key = LicenseKey(
            id=key_id,
            account_id=account_id,
            product=product,
            seats=seats,
            seats_used=0,
            created_at=now,
            created_by="",
            value_hash=value_hash,
            value_ciphertext=ctx.keys.encrypt(value, bound_to=key_id),
            expires_at=expires_at,
            updated_at=now,
        )
        grace, interval, dead = standing.liveness(
            new_key,
            grace_period=grace_period,
            check_in_interval=check_in_interval,
            dead_after=dead_after,
        )
        new_key = attrs.evolve(
            new_key, grace_seconds=grace, check_in_seconds=interval, dead_after_seconds=dead
        )

        async def work(tx: Tx) -> LicenseKey:
            record, _ = await self._access.authorize(
                tx, session, account_id, Permission.MANAGE_LICENSE_KEYS, now
            )
            key = attrs.evolve(new_key, created_by=record.user_id)
            same = await tx.find(LICENSE_KEYS, account_id=account_id, value_hash=value_hash)
            if same is not None:
                hint = "; resume it instead" if same.status is KeyStatus.REMOVED else ""
                raise DuplicateLicenseKey(
                    f"account {account_id!r} already holds that license key as {same.id!r} "
                    f"({same.status.value}){hint}"
                )
            await tx.add(LICENSE_KEYS, key)
            await keep_culling_listed(tx, None, key, now)
            await audit(
                tx,
                now,
                account_id,
                record.user_id,
                AuditAction.LICENSE_KEY_ADDED,
                key.id,
                product=product,
                seats=str(seats),
            )
            return key

        return key_view(
            self._ctx, await ctx.runner.run(work, account_scope(account_id)), masked=True
        )

    async def list_license_keys(
        self,
        session: Session | str,
        account_id: str,
        *,
        cursor: str | None = None,
        limit: int = 50,
        include_removed: bool = False,
    ) -> Page[LicenseKeyView]:
        """List an account's license keys with their seats used and free, oldest first.

        Account Administrators see every key, with its masked value. A License
        Administrator sees the keys they were granted, without the value.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is neither an Account Administrator nor a License
                Administrator of any key.
        """
        limit = check_limit(limit, self._ctx.settings)
        after = check_cursor(cursor, "key")
        now = self._ctx.clock.now()

        async def work(tx: Tx) -> tuple[Page[LicenseKey], bool]:
            record, membership = await authorize_any_key(
                self._access, tx, session, account_id, now, "listing license keys"
            )
            admin = is_admin(record, membership)
            if not admin and not membership.all_license_keys:
                return await _granted_page(tx, membership, include_removed, after, limit), admin
            kept = [s for s in KeyStatus if s is not KeyStatus.REMOVED]
            filters = [None] if include_removed else [{"status": s} for s in kept]
            page = await merged_page(
                [pages_by_id(tx, LICENSE_KEYS, account_id, where) for where in filters],
                lambda k: k.id,
                after,
                limit,
            )
            return page, admin

        page, admin = await self._ctx.runner.run(work)
        return Page(
            tuple(key_view(self._ctx, k, masked=admin) for k in page.items), page.next_cursor
        )

    async def get_license_key(
        self, session: Session | str, account_id: str, key_id: str
    ) -> LicenseKeyView:
        """Return one license key with its seats (its masked value for Account Administrators).

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            LicenseKeyNotFound: No such key in *account_id*.
            PermissionDenied: The caller is neither an Account Administrator nor a License
                Administrator of the key.
        """
        now = self._ctx.clock.now()

        async def work(tx: Tx) -> tuple[LicenseKey, bool]:
            record, membership, key = await authorize_key(
                self._access, tx, session, account_id, key_id, Permission.VIEW_INSTALLATIONS, now
            )
            return key, is_admin(record, membership)

        key, admin = await self._ctx.runner.run(work)
        return key_view(self._ctx, key, masked=admin)

    async def change_license_key(
        self,
        session: Session | str,
        account_id: str,
        key_id: str,
        *,
        seats: int | None = None,
        expires_at: dt.datetime | None = None,
        clear_expiry: bool = False,
        grace_period: dt.timedelta | None = None,
        check_in_interval: dt.timedelta | None = None,
        dead_after: dt.timedelta | None = None,
        never_cull: bool = False,
    ) -> LicenseKeyView:
        """Change a key's seats, expiry or liveness; never below the seats in use.

        A new expiry, grace period or interval reaches running copies at their next
        check-in. To extend a subscription from its old expiry, see
        :meth:`renew_license_key`.

        Args:
            session: The caller, an Account Administrator of *account_id*.
            account_id: The business account.
            key_id: The key.
            seats: The new seat count, if it changes.
            expires_at: The new expiry, if it changes (aware, in the future).
            clear_expiry: Make the key never expire.
            grace_period: The new grace period (see :meth:`add_license_key`).
            check_in_interval: The new check-in interval.
            dead_after: The new dead-after time: installations silent that long are culled.
            never_cull: Stop culling this key's installations.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            LicenseKeyNotFound: No such key in *account_id*.
            SeatsInUse: More installations are active than *seats*.
            ValidationError: Nothing to change, both an expiry and *clear_expiry* (or both
                *dead_after* and *never_cull*), seats out of range, an expiry not in the
                future, or a liveness value out of bounds.
            ConflictError: The key was removed.
        """
        check_flag(clear_expiry, "clear_expiry")
        check_flag(never_cull, "never_cull")
        liveness = {
            "grace_period": grace_period,
            "check_in_interval": check_in_interval,
            "dead_after": dead_after,
        }
        changes_liveness = never_cull or any(v is not None for v in liveness.values())
        if seats is None and expires_at is None and not clear_expiry and not changes_liveness:
            raise ValidationError(
                "give new seats, a new expiry, clear_expiry=True, or a liveness change"
            )
        if expires_at is not None and clear_expiry:
            raise ValidationError("give either a new expiry or clear_expiry=True, not both")
        if seats is not None:
            seats = licensing.check_seats(seats)
        if expires_at is not None:
            expires_at = ensure_aware(expires_at, "expires_at")
        new_seats, new_expiry = seats, expires_at

        def change(key: LicenseKey, now: dt.datetime) -> tuple[LicenseKey, dict[str, str]]:
            changed = key
            details: dict[str, str] = {}
            if new_seats is not None:
                changed = licensing.change_seats(changed, new_seats, now=now)
                details.update(seats_from=str(key.seats), seats_to=str(new_seats))
            if new_expiry is not None or clear_expiry:
                changed = licensing.change_expiry(changed, new_expiry, now=now)
                details.update(
                    expires_from=_iso(key.expires_at), expires_to=_iso(changed.expires_at)
                )
            if changes_liveness:
                changed = standing.change_liveness(
                    changed, never_cull=never_cull, now=now, **liveness
                )
                dead = changed.dead_after_seconds
                details.update(
                    grace_seconds=str(changed.grace_seconds),
                    check_in_seconds=str(changed.check_in_seconds),
                    dead_after_seconds="never" if dead is None else str(dead),
                )
            return changed, details

        return await self._change(
            session, account_id, key_id, change, AuditAction.LICENSE_KEY_CHANGED
        )

    async def renew_license_key(
        self, session: Session | str, account_id: str, key_id: str, *, period: dt.timedelta
    ) -> LicenseKeyView:
        """Renew a key for *period*, counted from its old expiry rather than from today.

        A key renewed during its grace period (or after it, if *period* reaches past now)
        keeps its installations, whose copies learn the new expiry at their next check-in.
        Audited as a change of the key (``license_key.changed``).

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            LicenseKeyNotFound: No such key in *account_id*.
            ValidationError: *period* is not a positive timedelta, or the renewed expiry
                would still be in the past.
            ConflictError: The key never expires, or was removed.
        """

        def change(key: LicenseKey, now: dt.datetime) -> tuple[LicenseKey, dict[str, str]]:
            renewed = standing.renew(key, period, now=now)
            return renewed, {
                "expires_from": _iso(key.expires_at),
                "expires_to": _iso(renewed.expires_at),
                "renewed_by": str(int(period.total_seconds())),
            }

        return await self._change(
            session, account_id, key_id, change, AuditAction.LICENSE_KEY_CHANGED
        )

    async def suspend_license_key(
        self, session: Session | str, account_id: str, key_id: str
    ) -> LicenseKeyView:
        """Suspend a key: nothing activates with it; installations made keep their seats.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            LicenseKeyNotFound: No such key in *account_id*.
            ConflictError: The key is not active.
        """
        return await self._change_status(
            session, account_id, key_id, licensing.suspend_key, AuditAction.LICENSE_KEY_SUSPENDED
        )

    async def resume_license_key(
        self, session: Session | str, account_id: str, key_id: str
    ) -> LicenseKeyView:
        """Make a suspended or removed key active again.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            LicenseKeyNotFound: No such key in *account_id*.
            ConflictError: The key is active already.
        """
        return await self._change_status(
            session, account_id, key_id, licensing.resume_key, AuditAction.LICENSE_KEY_RESUMED
        )

    async def remove_license_key(
        self, session: Session | str, account_id: str, key_id: str
    ) -> LicenseKeyView:
        """Remove a key that has no active installations; its codes stop working.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            LicenseKeyNotFound: No such key in *account_id*.
            SeatsInUse: The key still has active installations.
            ConflictError: The key was removed already.
        """
        return await self._change_status(
            session, account_id, key_id, licensing.remove_key, AuditAction.LICENSE_KEY_REMOVED
        )

    # -- internals ------------------------------------------------------------------------

    async def _change(
        self,
        session: Session | str,
        account_id: str,
        key_id: str,
        change: Callable[[LicenseKey, dt.datetime], tuple[LicenseKey, dict[str, str]]],
        action: AuditAction,
    ) -> LicenseKeyView:
        """Apply *change* (the new key and the audit details) to a key, under its scopes."""
        now = self._ctx.clock.now()

        async def work(tx: Tx) -> tuple[LicenseKey, bool]:
            record, membership = await self._access.authorize(
                tx, session, account_id, Permission.VIEW_ACCOUNT, now
            )
            key = await key_rights(
                tx,
                record,
                membership,
                account_id,
                key_id,
                Permission.MANAGE_LICENSE_KEYS,
                additional=Permission.MANAGE_ADDITIONAL_KEYS,
            )
            if action is AuditAction.LICENSE_KEY_REMOVED:
                await check_removable(tx, key)
            changed, details = change(key, now)
            changed = await follow_primary(tx, key, changed, now)
            await tx.save(LICENSE_KEYS, changed)
            await keep_culling_listed(tx, key, changed, now)
            await audit(tx, now, account_id, record.user_id, action, key_id, **details)
            return changed, is_admin(record, membership)

        changed, admin = await self._ctx.runner.run(
            work, account_scope(account_id), key_scope(key_id)
        )
        return key_view(self._ctx, changed, masked=admin)

    async def _change_status(
        self,
        session: Session | str,
        account_id: str,
        key_id: str,
        rule: Callable[..., LicenseKey],
        action: AuditAction,
    ) -> LicenseKeyView:
        def change(key: LicenseKey, now: dt.datetime) -> tuple[LicenseKey, dict[str, str]]:
            return rule(key, now=now), {"product": key.product}

        return await self._change(session, account_id, key_id, change, action)


async def _granted_page(
    tx: Tx, membership: Membership, include_removed: bool, after: str | None, limit: int
) -> Page[LicenseKey]:
    """One page of the keys a License Administrator's grants name, by id after *after*.

    The keys are read by their ids and, for additional keys, by their primaries' ids: as
    many as the grants cover, whatever else the account holds.
    """
    granted = sorted(membership.license_keys)
    keys = {k.id: k for k in await tx.get_many(LICENSE_KEYS, granted)}
    keys.update({k.id: k for k in await tx.find_many(LICENSE_KEYS, "primary_id", granted)})
    shown = sorted(
        (
            k
            for k in keys.values()
            if k.account_id == membership.account_id
            and (include_removed or k.status is not KeyStatus.REMOVED)
            and roles.administers(membership, k.id, k.primary_id)
            and (after is None or k.id > after)
        ),
        key=lambda k: k.id,
    )
    kept = shown[:limit]
    return Page(tuple(kept), kept[-1].id if len(shown) > limit else None)


def key_view(ctx: Context, key: LicenseKey, *, masked: bool) -> LicenseKeyView:
    """Return the view of *key*, its value masked for Account Administrators."""
    masked_value = None
    if masked:
        value = ctx.keys.decrypt(key.value_ciphertext, bound_to=key.id)
        masked_value = licensing.mask_key_value(value)
    return LicenseKeyView(
        id=key.id,
        account_id=key.account_id,
        product=key.product,
        seats=key.seats,
        seats_used=key.seats_used,
        seats_free=key.seats_free,
        status=key.status,
        expires_at=key.expires_at,
        created_at=key.created_at,
        masked_value=masked_value,
        grace_period=key.grace_period,
        check_in_interval=key.check_in_interval,
        dead_after=key.dead_after,
        primary_id=key.primary_id,
        seat_pool=key.seat_pool,
    )


def clean_key_value(value: object) -> str:
    cleaned = plain_text(value, "license key value").strip()
    if not cleaned:
        raise ValidationError("license key value must not be empty")
    if len(cleaned) > MAX_KEY_VALUE:
        raise ValidationError(f"license key value must be at most {MAX_KEY_VALUE} characters")
    if any(ch.isspace() and ch != " " for ch in cleaned):
        raise ValidationError("license key value must be one line")
    return cleaned


def key_value_hash(ctx: Context, account_id: str, value: str) -> bytes:
    """The keyed hash a key's value is found by in *account_id*.

    Two values are the same key when they differ only in whitespace; case matters.
    """
    return ctx.keys.lookup_hash("license-key", f"{account_id}\x00{''.join(value.split())}")


def _iso(moment: dt.datetime | None) -> str:
    return "never" if moment is None else moment.isoformat()
