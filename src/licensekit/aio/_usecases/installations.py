"""Installations and blocked computers: listing, editing, deactivating, blocking, unblocking.

A computer is blocked through one of its installations, or by its identifier alone (one that
never activated, too). An edit renames an installation's computer or changes its notes.

Scopes: every change here locks ``account:<account id>`` first; a deactivation or an edit
then locks ``computer:<account id>:<computer id>`` and ``key:<key id>`` of the installation
(an edit reads the installation again under them: activations and check-ins rewrite it
under the computer's scope), and a block the computer scope with the scope of every key it
covers (all of the account's for an Account Administrator's block), before reading what
it decides on: activations of that computer (which hold the same computer and key scopes)
cannot cross them. Lifting a block
locks the account and the computer scopes. Scopes locked together are locked in sorted
order, and the account scope always first, so that no two use cases wait on each other in a
circle. A deactivation releases its seat with the store's guarded counter
(``increment(LICENSE_KEYS, key_id, "seats_used", -1)``), so the count of seats in use never
drifts from the active installations. Listings lock nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence

import attrs

from licensekit._usecases._checks import (
    as_id,
    check_cursor,
    check_limit,
    clean_name,
    clean_notes,
)
from licensekit.aio._usecases._access import Access
from licensekit.aio._usecases._audit import audit
from licensekit.aio._usecases._context import Context
from licensekit.aio._usecases._key_access import (
    account_scope,
    all_by_id,
    authorize_any_key,
    authorize_key,
    clean_computer_id,
    computer_scope,
    is_admin,
    key_rights,
    pages_by_id,
)
from licensekit.aio._usecases._listing import merged_page
from licensekit.aio._usecases._seats import draws_on_primary, family, lock_keys, release_seats
from licensekit.aio._usecases._tx import Tx, query
from licensekit.domain import licensing, standing
from licensekit.domain._echo import echo
from licensekit.domain.model import (
    AuditAction,
    ComputerBlock,
    Installation,
    InstallationStatus,
    InstallationView,
    LicenseKey,
    Membership,
    Page,
    Session,
    SessionRecord,
)
from licensekit.domain.roles import Permission
from licensekit.exceptions import (
    ConflictError,
    InstallationNotFound,
    InvalidCursor,
    NotFound,
    ValidationError,
)
from licensekit.storage import (
    COMPUTER_BLOCKS,
    INSTALL_INVITATIONS,
    INSTALLATIONS,
    LICENSE_KEYS,
    Query,
)

__all__ = ["Installations"]


class Installations:
    """The use cases of this group (see :class:`licensekit.LicenseKit` for each one).

    Args:
        ctx: The shared context.
        access: Resolves and authorises sessions.
    """

    def __init__(self, ctx: Context, access: Access) -> None:
        self._ctx = ctx
        self._access = access

    async def list_installations(
        self,
        session: Session | str,
        account_id: str,
        key_id: str,
        *,
        include_inactive: bool = False,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[InstallationView]:
        """List a key's installations, oldest first, one page at a time.

        Each says when it was last seen and whether it is overdue (active, and late for its
        check-in by the key's interval and a quarter).

        Args:
            session: An Account Administrator, or a License Administrator of *key_id*.
            account_id: The business account.
            key_id: The license key.
            include_inactive: Also list deactivated installations.
            cursor: From a previous page's ``next_cursor``.
            limit: Page size.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            LicenseKeyNotFound: No such key in *account_id*.
            PermissionDenied: The caller may not see this key's installations.
        """
        limit = check_limit(limit, self._ctx.settings)
        after = check_cursor(cursor, "ins")
        now = self._ctx.clock.now()

        async def work(tx: Tx) -> tuple[LicenseKey, Page[Installation]]:
            _, _, key = await authorize_key(
                self._access, tx, session, account_id, key_id, Permission.VIEW_INSTALLATIONS, now
            )
            where = None if include_inactive else {"status": InstallationStatus.ACTIVE}
            return key, await merged_page(
                [pages_by_id(tx, INSTALLATIONS, key_id, where)], lambda i: i.id, after, limit
            )

        key, page = await self._ctx.runner.run(work)
        return Page(
            tuple(
                InstallationView.of(i, overdue=standing.is_overdue(key, i, now), with_notes=True)
                for i in page.items
            ),
            page.next_cursor,
        )

    async def deactivate_installation(
        self, session: Session | str, account_id: str, installation_id: str
    ) -> InstallationView:
        """Deactivate an installation; its seat is free at once.

        A culled installation (one that stopped checking in) may be deactivated too: it then
        cannot take a seat back by checking in.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            InstallationNotFound: No such installation in *account_id*.
            PermissionDenied: The caller may not manage the installation's key.
            ConflictError: It is deactivated already.
        """
        now = self._ctx.clock.now()

        async def work(tx: Tx) -> Installation:
            record, _, named, key = await _authorize_installation(
                self._access, tx, session, account_id, installation_id, now
            )
            # Its key and computer are fixed: lock their scopes, then read it as it is now.
            await lock_keys(tx, [key], computer_scope(account_id, named.computer_id))
            installation = await _installation(tx, account_id, installation_id)
            (deactivated,) = await _deactivate(tx, [installation], record.user_id, now)
            await audit(
                tx,
                now,
                account_id,
                record.user_id,
                AuditAction.DEACTIVATED,
                installation_id,
                key_id=key.id,
                computer_id=installation.computer_id,
            )
            return deactivated

        return InstallationView.of(
            await self._ctx.runner.run(work, account_scope(account_id)), with_notes=True
        )

    async def block_computer(
        self,
        session: Session | str,
        account_id: str,
        installation_id: str,
        *,
        notes: str = "",
    ) -> ComputerBlock:
        """Block an installation's computer from activating again, and free its seats.

        An Account Administrator's block covers every key of the account, and deactivates the
        computer's installations under all of them. A License Administrator's block covers
        the installation's key only, and deactivates that installation. Either holds until
        :meth:`unblock_computer` lifts it.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            InstallationNotFound: No such installation in *account_id*.
            PermissionDenied: The caller may not manage the installation's key.
            ConflictError: The computer is blocked in that scope already.
        """
        notes = clean_notes(notes)
        now = self._ctx.clock.now()

        async def work(tx: Tx) -> ComputerBlock:
            record, membership, named, key = await _authorize_installation(
                self._access, tx, session, account_id, installation_id, now
            )
            admin = is_admin(record, membership)
            # Keys are added under the account's scope, which this transaction holds.
            keys: list[LicenseKey] = (
                await all_by_id(tx, LICENSE_KEYS, account_id) if admin else await _covered(tx, key)
            )
            return await _block(
                tx,
                record.user_id,
                account_id,
                named.computer_id,
                keys,
                None if admin else key.id,
                notes,
                now,
                installation_id=installation_id,
            )

        return await self._ctx.runner.run(work, account_scope(account_id))

    async def block_computer_id(
        self,
        session: Session | str,
        account_id: str,
        computer_id: str,
        *,
        key_id: str | None = None,
        notes: str = "",
    ) -> ComputerBlock:
        """Block a computer by its identifier, whether or not it has ever activated.

        Use it to stop a computer before it tries (a stolen laptop's serial number, a
        machine that must never run the product): from then on its activations are refused
        with :class:`~licensekit.exceptions.ComputerBlocked`, and other computers activate
        as before. Installations it holds in the block's scope are deactivated and their
        seats freed, as with :meth:`block_computer`. :meth:`unblock_computer` lifts it.

        Args:
            session: An Account Administrator; or, for a block of one key, a License
                Administrator of that key.
            account_id: The business account.
            computer_id: The identifier the installer reports (hardware id, serial number),
                compared as activation compares it (surrounding spaces ignored).
            key_id: Block it under this key only; None blocks it under every key of the
                account, those added later included.
            notes: Why, for the record.

        Raises:
            ValidationError: *computer_id* is empty, too long or not printable, or *notes*
                are too long.
            AccountNotFound: The caller is not a member of *account_id*.
            LicenseKeyNotFound: *key_id* is not a key of *account_id*.
            PermissionDenied: The caller may not block computers in that scope.
            ConflictError: The computer is blocked in that scope already.
        """
        computer_id = clean_computer_id(computer_id)
        if key_id is not None and not isinstance(key_id, str):
            raise ValidationError(f"key_id must be a key id or None, not {type(key_id).__name__}")
        notes = clean_notes(notes)
        now = self._ctx.clock.now()

        async def work(tx: Tx) -> ComputerBlock:
            keys: list[LicenseKey]
            if key_id is None:
                record, _ = await self._access.authorize(
                    tx, session, account_id, Permission.MANAGE_LICENSE_KEYS, now
                )
                # Keys are added under the account's scope, which this transaction holds.
                keys = await all_by_id(tx, LICENSE_KEYS, account_id)
            else:
                record, _, key = await authorize_key(
                    self._access,
                    tx,
                    session,
                    account_id,
                    key_id,
                    Permission.MANAGE_INSTALLATIONS,
                    now,
                )
                keys = await _covered(tx, key)
            return await _block(
                tx, record.user_id, account_id, computer_id, keys, key_id, notes, now
            )

        return await self._ctx.runner.run(work, account_scope(account_id))

    async def edit_installation(
        self,
        session: Session | str,
        account_id: str,
        installation_id: str,
        *,
        computer_name: str | None = None,
        notes: str | None = None,
    ) -> InstallationView:
        """Rename an installation's computer and/or change the notes kept on it.

        The name is checked like other names (spaces collapsed, at most 200 characters, no
        control or invisible characters); an empty name shows the computer's identifier
        instead. Notes are free text of up to 2,000 characters, line breaks allowed, shown
        to administrators only (never to the installed product). Deactivated and culled
        installations can be edited too. A change is audited with the values before and
        after; a call that changes nothing writes nothing.

        Which name wins: the name given here holds until the computer activates again
        *and* reports a name of its own (an activation that reports none keeps it); the
        notes are never changed by an activation or a check-in.

        Args:
            session: An Account Administrator, or a License Administrator of the
                installation's key.
            account_id: The business account.
            installation_id: The installation.
            computer_name: The new name; None keeps it.
            notes: The new notes (``""`` clears them); None keeps them.

        Raises:
            ValidationError: Neither *computer_name* nor *notes* given, or one is invalid.
            AccountNotFound: The caller is not a member of *account_id*.
            InstallationNotFound: No such installation in *account_id*.
            PermissionDenied: The caller may not manage the installation's key.
        """
        if computer_name is None and notes is None:
            raise ValidationError("give a computer_name, notes, or both to change")
        name = None
        if computer_name is not None:
            name = clean_name(computer_name, "computer_name", required=False)
        cleaned_notes = None if notes is None else clean_notes(notes)
        now = self._ctx.clock.now()

        async def work(tx: Tx) -> Installation:
            record, _, named, key = await _authorize_installation(
                self._access, tx, session, account_id, installation_id, now
            )
            # Activations and check-ins write the record under these scopes: read it again.
            await lock_keys(tx, [key], computer_scope(account_id, named.computer_id))
            installation = await _installation(tx, account_id, installation_id)
            changed = installation
            details: dict[str, str] = {}
            if name is not None and name != installation.computer_name:
                changed = attrs.evolve(changed, computer_name=name)
                details.update(computer_name_from=installation.computer_name, computer_name_to=name)
            if cleaned_notes is not None and cleaned_notes != installation.notes:
                changed = attrs.evolve(changed, notes=cleaned_notes)
                details.update(notes_from=installation.notes, notes_to=cleaned_notes)
            if not details:
                return installation
            await tx.save(INSTALLATIONS, changed)
            await audit(
                tx,
                now,
                account_id,
                record.user_id,
                AuditAction.INSTALLATION_EDITED,
                installation_id,
                key_id=key.id,
                computer_id=installation.computer_id,
                **details,
            )
            return changed

        return InstallationView.of(
            await self._ctx.runner.run(work, account_scope(account_id)), with_notes=True
        )

    async def unblock_computer(
        self,
        session: Session | str,
        account_id: str,
        computer_id: str,
        *,
        key_id: str | None = None,
    ) -> None:
        """Lift a block, so the computer may activate again (it holds no seat until then).

        Args:
            session: An Account Administrator; or, for a block of one key, a License
                Administrator of that key.
            account_id: The business account.
            computer_id: The computer.
            key_id: The key of the block to lift; None for the account-wide block.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            LicenseKeyNotFound: *key_id* is not a key of *account_id*.
            PermissionDenied: The caller may not lift blocks in that scope.
            NotFound: The computer has no block in that scope.
        """
        computer_id = clean_computer_id(computer_id)
        if key_id is not None and not isinstance(key_id, str):
            raise ValidationError(f"key_id must be a key id or None, not {type(key_id).__name__}")
        now = self._ctx.clock.now()

        async def work(tx: Tx) -> None:
            if key_id is None:
                record, _ = await self._access.authorize(
                    tx, session, account_id, Permission.MANAGE_LICENSE_KEYS, now
                )
            else:
                record, _, _ = await authorize_key(
                    self._access,
                    tx,
                    session,
                    account_id,
                    key_id,
                    Permission.MANAGE_INSTALLATIONS,
                    now,
                )
            blocks = await tx.find_all(
                COMPUTER_BLOCKS, account_id=account_id, computer_id=computer_id
            )
            if not any(b.key_id == key_id for b in blocks):
                where = "this account" if key_id is None else f"license key {key_id!r}"
                raise NotFound(f"computer {echo(computer_id)} is not blocked in {where}")
            await tx.delete(COMPUTER_BLOCKS, (account_id, computer_id, key_id))
            await audit(
                tx,
                now,
                account_id,
                record.user_id,
                AuditAction.COMPUTER_UNBLOCKED,
                computer_id,
                scope=key_id or "account",
            )

        await self._ctx.runner.run(
            work, account_scope(account_id), computer_scope(account_id, computer_id)
        )

    async def list_blocked_computers(
        self,
        session: Session | str,
        account_id: str,
        *,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[ComputerBlock]:
        """List an account's computer blocks, by computer.

        Account Administrators see every block; a License Administrator sees the blocks
        that stop activations under their keys (account-wide ones included).

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is neither kind of administrator.
        """
        limit = check_limit(limit, self._ctx.settings)
        if cursor is not None and not isinstance(cursor, str):
            raise InvalidCursor(f"cursor {echo(cursor)} does not belong to this listing")
        now = self._ctx.clock.now()

        async def work(tx: Tx) -> Page[ComputerBlock]:
            record, membership = await authorize_any_key(
                self._access, tx, session, account_id, now, "listing blocked computers"
            )
            # Everyone sees the account-wide blocks; a License Administrator those of the
            # keys they administer too (a primary key's grant covers its additional keys).
            filters: list[dict[str, str | None]] | list[None] = [None]
            if not is_admin(record, membership) and not membership.all_license_keys:
                granted = sorted(membership.license_keys)
                additional = await tx.find_many(LICENSE_KEYS, "primary_id", granted)
                covered = {*granted, *(k.id for k in additional if k.account_id == account_id)}
                filters = [{"key_id": k} for k in [None, *sorted(covered)]]

            def reader(
                where: dict[str, str | None] | None,
            ) -> Callable[[str | None, int], Awaitable[list[ComputerBlock]]]:
                async def fetch(after: str | None, n: int) -> list[ComputerBlock]:
                    # The cursor is a block's sort key: its computer, a tab, its key (if any).
                    position = None
                    if after is not None:
                        computer_id, _, key_id = after.partition("\t")
                        position = (computer_id, key_id or None)
                    return await tx.page(
                        COMPUTER_BLOCKS, account_id, after=position, limit=n, where=where
                    )

                return fetch

            return await merged_page(
                [reader(where) for where in filters],
                lambda b: b.sort_key,
                cursor,
                limit,
                order=lambda b: (b.computer_id, b.key_id is not None, b.key_id or ""),
            )

        return await self._ctx.runner.run(work)


async def _covered(tx: Tx, key: LicenseKey) -> list[LicenseKey]:
    """The keys a block of *key* covers: the key, and a primary key's additional keys."""
    return [key] if key.is_additional else [key, *await family(tx, key.id)]


async def _block(
    tx: Tx,
    actor_id: str,
    account_id: str,
    computer_id: str,
    keys: Sequence[LicenseKey],
    scope: str | None,
    notes: str,
    now: dt.datetime,
    **details: str,
) -> ComputerBlock:
    """Block *computer_id* under *scope* (a key's id, or None for the account), audited.

    Locks the computer's scope with those of *keys* (every key the block covers), then
    deactivates the computer's installations under them.

    Raises:
        ConflictError: The computer is blocked in that scope already.
    """
    await lock_keys(tx, keys, computer_scope(account_id, computer_id))
    blocks, installations = await tx.fetch(
        query(COMPUTER_BLOCKS, account_id=account_id, computer_id=computer_id),
        Query(
            INSTALLATIONS,
            ("key_id", "computer_id"),
            tuple((k.id, computer_id) for k in keys),
        ),
    )
    if any(b.key_id == scope for b in blocks):
        where = "this account" if scope is None else f"license key {scope!r}"
        raise ConflictError(f"computer {computer_id!r} is blocked in {where} already")
    # Culled ones too: they may take a seat back by checking in.
    live = sorted(
        (i for i in installations if i.status is not InstallationStatus.DEACTIVATED),
        key=lambda i: i.key_id,
    )
    deactivated = await _deactivate(tx, live, actor_id, now)
    block = ComputerBlock(
        account_id=account_id,
        computer_id=computer_id,
        key_id=scope,
        blocked_at=now,
        blocked_by=actor_id,
        notes=notes,
    )
    await tx.put(COMPUTER_BLOCKS, block)
    if notes:
        details["notes"] = notes
    await audit(
        tx,
        now,
        account_id,
        actor_id,
        AuditAction.COMPUTER_BLOCKED,
        computer_id,
        scope=scope or "account",
        deactivated=" ".join(i.id for i in deactivated),
        **details,
    )
    return block


async def _authorize_installation(
    access: Access,
    tx: Tx,
    session: Session | str,
    account_id: str,
    installation_id: str,
    now: dt.datetime,
) -> tuple[SessionRecord, Membership, Installation, LicenseKey]:
    """Return the session, its membership, the installation and its key, if it may manage it."""
    record, membership = await access.authorize(
        tx, session, account_id, Permission.VIEW_ACCOUNT, now
    )
    installation = await _installation(tx, account_id, installation_id)
    key = await key_rights(
        tx, record, membership, account_id, installation.key_id, Permission.MANAGE_INSTALLATIONS
    )
    return record, membership, installation, key


async def _installation(tx: Tx, account_id: str, installation_id: str) -> Installation:
    """Return the installation *installation_id* of *account_id*, or raise."""
    wanted = as_id(installation_id)
    installation = None
    if wanted is not None:
        installation = await tx.get(INSTALLATIONS, wanted)
    if installation is None or installation.account_id != account_id:
        raise InstallationNotFound(
            f"no installation {echo(installation_id)} in business account {echo(account_id)}"
        )
    return installation


async def _primaries(tx: Tx, keys: Sequence[LicenseKey]) -> list[LicenseKey]:
    """Return the primaries of those of *keys* that draw on them."""
    wanted = sorted({k.primary_id for k in keys if k.primary_id and draws_on_primary(k)})
    return await tx.get_many(LICENSE_KEYS, wanted) if wanted else []


async def _deactivate(
    tx: Tx, installations: Sequence[Installation], actor_id: str, now: dt.datetime
) -> list[Installation]:
    """Deactivate *installations*, free their seats, end their computers' claims on codes.

    Each seat is released with the guarded counter (a count already at 0 stays there); a
    culled installation holds none to release. The installations and their invitations are
    read and written in bulk.

    Raises:
        ConflictError: One of them is deactivated already.
    """
    ended = [licensing.end_installation(i, actor_id=actor_id, now=now) for i in installations]
    holding = [i for i in installations if i.is_active]
    if holding:
        # The caller holds the keys' scopes; a dynamic key's primary is locked after them.
        keys = await tx.get_many(LICENSE_KEYS, sorted({i.key_id for i in holding}))
        await lock_keys(tx, await _primaries(tx, keys))
        by_id = {k.id: k for k in keys}
        for installation in holding:
            await release_seats(tx, by_id[installation.key_id], 1)
    await tx.save_all(INSTALLATIONS, ended)
    computers = {i.invitation_id: i.computer_id for i in installations}
    invitations = await tx.get_many(INSTALL_INVITATIONS, computers)
    forgotten = [licensing.forget_computer(i, computers[i.id]) for i in invitations]
    await tx.save_all(
        INSTALL_INVITATIONS, [f for f, i in zip(forgotten, invitations, strict=True) if f != i]
    )
    return ended
