"""The computer list: a key's or a whole account's installations as CSV, a page at a time.

An account may hold hundreds of thousands of installations, so the export is paged like a
listing: each page is one short transaction that reads one chunk of installations (keys in
id order, each key's installations in id order) and locks nothing, and the caller writes
the pages one after the other. The first page carries the header row and is audited
(``installation.exported``); the later ones are reads like any listing's.

Cells are neutralised against formula injection by :func:`licensekit.emails.write_csv`, as
in the export of invitations to install. A key appears by its id and product, never by its
value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from licensekit._results import CsvPage
from licensekit._usecases._checks import check_flag, check_limit
from licensekit.aio._usecases._access import Access
from licensekit.aio._usecases._audit import audit
from licensekit.aio._usecases._context import Context
from licensekit.aio._usecases._key_access import (
    all_by_id,
    authorize_any_key,
    authorize_key,
    pages_by_id,
)
from licensekit.aio._usecases._listing import merged_page
from licensekit.aio._usecases._tx import Tx
from licensekit.domain import roles, standing
from licensekit.domain._echo import echo
from licensekit.domain.model import (
    AuditAction,
    Installation,
    InstallationStatus,
    LicenseKey,
    Membership,
    Session,
    SessionRecord,
)
from licensekit.domain.roles import Permission
from licensekit.emails import write_csv
from licensekit.exceptions import InvalidCursor, PermissionDenied, ValidationError
from licensekit.storage import INSTALLATIONS, LICENSE_KEYS

__all__ = ["EXPORT_HEADER", "InstallationExport"]

EXPORT_HEADER = (
    "computer_name",
    "computer_id",
    "email",
    "license_key_id",
    "product",
    "activated_at",
    "last_seen_at",
    "status",
    "notes",
    "installation_id",
)
"""The columns of the computer list, in order."""

_Row = tuple[LicenseKey, Installation]


class InstallationExport:
    """The use cases of this group (see :class:`licensekit.LicenseKit` for each one).

    Args:
        ctx: The shared context.
        access: Resolves and authorises sessions.
    """

    def __init__(self, ctx: Context, access: Access) -> None:
        self._ctx = ctx
        self._access = access

    async def export_installations(
        self,
        session: Session | str,
        account_id: str,
        *,
        key_id: str | None = None,
        include_inactive: bool = False,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> CsvPage:
        """Return one page of the computer list as CSV: a key's installations, or the account's.

        Columns: ``computer_name``, ``computer_id``, ``email`` (the invitee whose code or
        link activated it), ``license_key_id`` and ``product`` (never the key's value),
        ``activated_at``, ``last_seen_at`` (ISO 8601, UTC), ``status`` (``active``,
        ``overdue``: active but late for its check-in, ``culled`` or ``deactivated``; a
        blocked computer's installations are deactivated), ``notes`` (the administrators'),
        ``installation_id``. Every cell that a spreadsheet could read as a formula is made
        inert, as in :meth:`export_install_invitations`.

        Call it without *cursor* for the first page, which starts with the header row, then
        with each page's ``next_cursor`` until it is None, writing the pages' ``csv`` one
        after the other. Each page is read in a transaction of its own. The first page is
        audited (``installation.exported``).

        Args:
            session: For one key, an Account Administrator or a License Administrator of
                that key. For the whole account (*key_id* None), an Account
                Administrator, or a License Administrator: their export holds the
                installations of the keys they manage only.
            account_id: The business account.
            key_id: Export this key's installations only.
            include_inactive: Also export deactivated and culled installations.
            cursor: From a previous page's ``next_cursor`` (of the same export).
            limit: Rows per page, at most ``settings.max_page_size`` (the default).

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            LicenseKeyNotFound: *key_id* is not a key of *account_id*.
            PermissionDenied: The caller may not see the key's installations, or (for the
                whole account) is neither kind of administrator.
            InvalidCursor: *cursor* does not come from this export.
        """
        settings = self._ctx.settings
        limit = check_limit(settings.max_page_size if limit is None else limit, settings)
        if key_id is not None and not isinstance(key_id, str):
            raise ValidationError(f"key_id must be a key id or None, not {type(key_id).__name__}")
        check_flag(include_inactive, "include_inactive")
        position = _position(cursor)
        now = self._ctx.clock.now()

        async def work(tx: Tx) -> tuple[list[_Row], str | None]:
            keys: list[LicenseKey]
            if key_id is None:
                record, membership = await authorize_any_key(
                    self._access, tx, session, account_id, now, "exporting the computer list"
                )
                every: list[LicenseKey] = await all_by_id(tx, LICENSE_KEYS, account_id)
                keys = [k for k in every if _may_view(record, membership, k)]
            else:
                record, _, key = await authorize_key(
                    self._access,
                    tx,
                    session,
                    account_id,
                    key_id,
                    Permission.VIEW_INSTALLATIONS,
                    now,
                )
                if position is not None and position[0] != key.id:
                    raise InvalidCursor(f"cursor {echo(cursor)} does not belong to this export")
                keys = [key]
            rows, next_cursor = await _page(tx, keys, position, include_inactive, limit)
            if cursor is None:
                await audit(
                    tx,
                    now,
                    account_id,
                    record.user_id,
                    AuditAction.INSTALLATIONS_EXPORTED,
                    key_id or account_id,
                    scope=key_id or "account",
                    include_inactive="yes" if include_inactive else "no",
                )
            return rows, next_cursor

        rows, next_cursor = await self._ctx.runner.run(work)
        text = write_csv(
            EXPORT_HEADER if cursor is None else None, [_cells(k, i, now) for k, i in rows]
        )
        return CsvPage(csv=text, rows=len(rows), next_cursor=next_cursor)


def _may_view(record: SessionRecord, membership: Membership, key: LicenseKey) -> bool:
    """True when the member may see *key*'s installations (the roles' rule decides)."""
    try:
        roles.authorize_key(
            record.admin_grants,
            membership,
            Permission.VIEW_INSTALLATIONS,
            account_id=key.account_id,
            key_id=key.id,
            primary_id=key.primary_id,
        )
    except PermissionDenied:
        return False
    return True


def _position(cursor: object) -> tuple[str, str] | None:
    """Return the key and installation a cursor ``<key id>/<installation id>`` names."""
    if cursor is None:
        return None
    if isinstance(cursor, str):
        key_id, _, installation_id = cursor.partition("/")
        if key_id.startswith("key_") and installation_id.startswith("ins_"):
            return key_id, installation_id
    raise InvalidCursor(f"cursor {echo(cursor)} does not belong to this export")


async def _page(
    tx: Tx,
    keys: Sequence[LicenseKey],
    position: tuple[str, str] | None,
    include_inactive: bool,
    limit: int,
) -> tuple[list[_Row], str | None]:
    """Read up to *limit* rows after *position*, key after key; return them and the cursor.

    *keys* are in id order. The cursor is None only when no key after the last row holds
    another row to export, so the last page is never an empty one.
    """
    where = None if include_inactive else {"status": InstallationStatus.ACTIVE}

    def ident(installation: Installation) -> str:
        return installation.id

    start_key, after = position if position is not None else ("", None)
    remaining = [k for k in keys if k.id >= start_key]
    rows: list[_Row] = []
    for n, key in enumerate(remaining):
        page = await merged_page(
            [pages_by_id(tx, INSTALLATIONS, key.id, where)],
            ident,
            after if key.id == start_key else None,
            limit - len(rows),
        )
        rows.extend((key, i) for i in page.items)
        if page.next_cursor is not None:
            return rows, f"{key.id}/{page.next_cursor}"
        if len(rows) == limit:
            for later in remaining[n + 1 :]:
                if await pages_by_id(tx, INSTALLATIONS, later.id, where)(None, 1):
                    return rows, f"{key.id}/{rows[-1][1].id}"
            return rows, None
    return rows, None


def _cells(key: LicenseKey, installation: Installation, now: dt.datetime) -> tuple[str, ...]:
    overdue = standing.is_overdue(key, installation, now)
    return (
        installation.computer_name,
        installation.computer_id,
        installation.email,
        key.id,
        key.product,
        _iso(installation.activated_at),
        _iso(installation.last_seen_at),
        "overdue" if overdue else installation.status.value,
        installation.notes,
        installation.id,
    )


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")
