"""The licensing use cases.

License keys, License Administrators, invitations to install, activation, installations and
blocked computers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TypeVar

from licensekit import licensing, roles
from licensekit._core import (
    _MAX_NAME,
    ServiceCore,
    _as_id,
    _check_cursor,
    _clean_notes,
    _filtered_page,
    _require_text,
    _scan_all,
)
from licensekit._echo import echo
from licensekit._usecases._v1compat import V1Tx as Transaction
from licensekit.exceptions import (
    ConflictError,
    InstallationNotFound,
    InvalidCursor,
    LicenseKeyNotFound,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from licensekit.model import (
    AuditAction,
    ComputerBlock,
    Installation,
    InstallationView,
    InstallInvitation,
    LicenseKey,
    Membership,
    Page,
    Role,
    Session,
    SessionRecord,
)
from licensekit.roles import Permission

__all__ = ["LicensingService"]

R = TypeVar("R", LicenseKey, InstallInvitation)


class LicensingService(ServiceCore):
    """License keys and seats, License Administrators, invitations to install, activation."""

    # == activation and installations =======================================================

    def list_installations(
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
        limit = self._check_limit(limit)
        after = _check_cursor(cursor, "ins")
        now = self.clock.now()
        with self._transaction() as tx:
            self._authorize_key(tx, session, account_id, key_id, Permission.VIEW_INSTALLATIONS, now)

            def fetch(after: str | None, n: int) -> Sequence[Installation]:
                return tx.list_installations(key_id, after=after, limit=n)

            page = _filtered_page(
                fetch, lambda i: i.id, lambda i: include_inactive or i.is_active, after, limit
            )
        return Page(tuple(InstallationView.of(i) for i in page.items), page.next_cursor)

    def deactivate_installation(
        self, session: Session | str, account_id: str, installation_id: str
    ) -> InstallationView:
        """Deactivate an installation; its seat is free at once.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            InstallationNotFound: No such installation in *account_id*.
            PermissionDenied: The caller may not manage the installation's key.
            ConflictError: It is not active.
        """
        now = self.clock.now()
        with self._transaction() as tx:
            record, membership = self._authorize(
                tx, session, account_id, Permission.VIEW_ACCOUNT, now
            )
            installation = self._installation(tx, account_id, installation_id)
            key = self._key_rights(
                tx,
                record,
                membership,
                account_id,
                installation.key_id,
                Permission.MANAGE_INSTALLATIONS,
            )
            self._deactivate(tx, key, installation, record.user_id, now)
            self._audit(
                tx,
                now,
                account_id,
                record.user_id,
                AuditAction.DEACTIVATED,
                installation_id,
                key_id=key.id,
                computer_id=installation.computer_id,
            )
            deactivated = tx.get_installation(installation_id) or installation
        return InstallationView.of(deactivated)

    def block_computer(
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
        notes = _clean_notes(notes)
        now = self.clock.now()
        with self._transaction() as tx:
            record, membership = self._authorize(
                tx, session, account_id, Permission.VIEW_ACCOUNT, now
            )
            installation = self._installation(tx, account_id, installation_id)
            key = self._key_rights(
                tx,
                record,
                membership,
                account_id,
                installation.key_id,
                Permission.MANAGE_INSTALLATIONS,
            )
            is_admin = _is_admin(record, membership)
            computer_id = installation.computer_id
            scope = None if is_admin else key.id
            blocks = tx.find_computer_blocks(account_id, computer_id)
            if any(b.key_id == scope for b in blocks):
                where = "this account" if scope is None else f"license key {scope!r}"
                raise ConflictError(f"computer {computer_id!r} is blocked in {where} already")
            keys = self._all_license_keys(tx, account_id) if is_admin else [key]
            deactivated = []
            for covered in keys:
                found = tx.find_installation(covered.id, computer_id)
                if found is not None and found.is_active:
                    deactivated.append(self._deactivate(tx, covered, found, record.user_id, now))
            block = ComputerBlock(
                account_id=account_id,
                computer_id=computer_id,
                key_id=scope,
                blocked_at=now,
                blocked_by=record.user_id,
                notes=notes,
            )
            tx.save_computer_block(block)
            details = {"notes": notes} if notes else {}
            self._audit(
                tx,
                now,
                account_id,
                record.user_id,
                AuditAction.COMPUTER_BLOCKED,
                computer_id,
                scope=scope or "account",
                installation_id=installation_id,
                deactivated=" ".join(deactivated),
                **details,
            )
        return block

    def unblock_computer(
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
        computer_id = _clean_computer_id(computer_id)
        if key_id is not None and not isinstance(key_id, str):
            raise ValidationError(f"key_id must be a key id or None, not {type(key_id).__name__}")
        now = self.clock.now()
        with self._transaction() as tx:
            if key_id is None:
                record, _ = self._authorize(
                    tx, session, account_id, Permission.MANAGE_LICENSE_KEYS, now
                )
            else:
                record, _, _ = self._authorize_key(
                    tx, session, account_id, key_id, Permission.MANAGE_INSTALLATIONS, now
                )
            blocks = tx.find_computer_blocks(account_id, computer_id)
            if not any(b.key_id == key_id for b in blocks):
                where = "this account" if key_id is None else f"license key {key_id!r}"
                raise NotFound(f"computer {echo(computer_id)} is not blocked in {where}")
            tx.delete_computer_block(account_id, computer_id, key_id)
            self._audit(
                tx,
                now,
                account_id,
                record.user_id,
                AuditAction.COMPUTER_UNBLOCKED,
                computer_id,
                scope=key_id or "account",
            )

    def list_blocked_computers(
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
        limit = self._check_limit(limit)
        if cursor is not None and not isinstance(cursor, str):
            raise InvalidCursor(f"cursor {echo(cursor)} does not belong to this listing")
        now = self.clock.now()
        with self._transaction() as tx:
            record, membership = self._authorize_any_key(
                tx, session, account_id, now, "listing blocked computers"
            )
            is_admin = _is_admin(record, membership)

            def fetch(after: str | None, n: int) -> Sequence[ComputerBlock]:
                return tx.list_computer_blocks(account_id, after=after, limit=n)

            return _filtered_page(
                fetch,
                lambda b: b.sort_key,
                lambda b: is_admin or b.key_id is None or b.key_id in membership.license_keys,
                cursor,
                limit,
            )

    # == internals ==========================================================================

    def _authorize_key(
        self,
        tx: Transaction,
        session: Session | str,
        account_id: str,
        key_id: str,
        permission: Permission,
        now: dt.datetime,
    ) -> tuple[SessionRecord, Membership, LicenseKey]:
        record, membership = self._authorize(tx, session, account_id, Permission.VIEW_ACCOUNT, now)
        key = self._key_rights(tx, record, membership, account_id, key_id, permission)
        return record, membership, key

    def _key_rights(
        self,
        tx: Transaction,
        record: SessionRecord,
        membership: Membership,
        account_id: str,
        key_id: str,
        permission: Permission,
    ) -> LicenseKey:
        """Return the key after checking that an authorised member may exercise *permission*."""
        key = None if (wanted := _as_id(key_id)) is None else tx.get_license_key(wanted)
        if key is None or key.account_id != account_id:
            raise LicenseKeyNotFound(
                f"no license key {echo(key_id)} in business account {echo(account_id)}"
            )
        roles.authorize_key(
            record.admin_grants, membership, permission, account_id=account_id, key_id=key_id
        )
        return key

    def _deactivate(
        self,
        tx: Transaction,
        key: LicenseKey,
        installation: Installation,
        actor_id: str,
        now: dt.datetime,
    ) -> str:
        """Deactivate *installation*, free its seat, end its computer's claim on its code."""
        key, installation = licensing.deactivate(key, installation, actor_id=actor_id, now=now)
        tx.save_license_key(key)
        tx.save_installation(installation)
        invitation = tx.get_install_invitation(installation.invitation_id)
        if invitation is not None:
            forgotten = licensing.forget_computer(invitation, installation.computer_id)
            if forgotten != invitation:
                tx.save_install_invitation(forgotten)
        return installation.id

    def _authorize_any_key(
        self, tx: Transaction, session: Session | str, account_id: str, now: dt.datetime, what: str
    ) -> tuple[SessionRecord, Membership]:
        """Admit Account Administrators and License Administrators of at least one key."""
        record, membership = self._authorize(tx, session, account_id, Permission.VIEW_ACCOUNT, now)
        if not _is_admin(record, membership) and not membership.license_keys:
            raise PermissionDenied(
                f"{what} in account {account_id!r} needs the Account Administrator role or "
                "License Administrator rights over a key"
            )
        return record, membership

    def _all_license_keys(self, tx: Transaction, account_id: str) -> list[LicenseKey]:
        return _scan_all(lambda after, n: tx.list_license_keys(account_id, after=after, limit=n))

    def _installation(self, tx: Transaction, account_id: str, installation_id: str) -> Installation:
        wanted = _as_id(installation_id)
        installation = None if wanted is None else tx.get_installation(wanted)
        if installation is None or installation.account_id != account_id:
            raise InstallationNotFound(
                f"no installation {echo(installation_id)} in business account {echo(account_id)}"
            )
        return installation


def _is_admin(record: SessionRecord, membership: Membership) -> bool:
    """True when the session acts as Account Administrator of the membership's account."""
    return roles.effective_role(record.admin_grants, membership) is Role.ACCOUNT_ADMINISTRATOR


def _clean_computer_id(value: object) -> str:
    cleaned = _require_text(value, "computer_id").strip()
    if not cleaned:
        raise ValidationError("computer_id must not be empty")
    if len(cleaned) > _MAX_NAME or not cleaned.isprintable():
        raise ValidationError(f"computer_id must be printable and at most {_MAX_NAME} characters")
    return cleaned
