"""Who may act on a license key, and how a key's records are listed.

Every use case that names a key resolves the caller with
:meth:`~licensekit._usecases._access.Access.authorize` (as a member of the account), then
:func:`key_rights` reads the key and asks :func:`licensekit.roles.authorize_key` whether the
member may exercise the permission on it: Account Administrators may on every key of their
account, License Administrators on the keys they were granted (every key, with a grant over
all of them) and on the additional keys of those.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from licensekit._usecases._checks import MAX_NAME, as_id, require_text
from licensekit.aio._usecases._access import Access
from licensekit.aio._usecases._listing import scan_all
from licensekit.aio._usecases._tx import Tx
from licensekit.domain import roles
from licensekit.domain._echo import echo
from licensekit.domain.model import LicenseKey, Membership, Role, Session, SessionRecord
from licensekit.domain.roles import Permission
from licensekit.exceptions import LicenseKeyNotFound, PermissionDenied, ValidationError
from licensekit.storage import LICENSE_KEYS, RecordKind

__all__ = [
    "account_scope",
    "all_by_id",
    "authorize_any_key",
    "authorize_key",
    "clean_computer_id",
    "computer_scope",
    "is_admin",
    "key_rights",
    "key_scope",
    "pages_by_id",
]

R = TypeVar("R")


def account_scope(account_id: object) -> str:
    """The scope of every administrator's change in a business account."""
    return f"account:{account_id}"


def key_scope(key_id: object) -> str:
    """The scope of a key's record and seats, its invitations to install and their codes."""
    return f"key:{key_id}"


def computer_scope(account_id: object, computer_id: object) -> str:
    """The scope of one computer's installations and blocks in a business account."""
    return f"computer:{account_id}:{computer_id}"


def clean_computer_id(value: object) -> str:
    """Return a computer's identifier as given, without surrounding spaces.

    Raises:
        ValidationError: It is not text, empty, too long or not printable.
    """
    cleaned = require_text(value, "computer_id").strip()
    if not cleaned:
        raise ValidationError("computer_id must not be empty")
    if len(cleaned) > MAX_NAME or not cleaned.isprintable():
        raise ValidationError(f"computer_id must be printable and at most {MAX_NAME} characters")
    return cleaned


def is_admin(record: SessionRecord, membership: Membership) -> bool:
    """True when the session acts as Account Administrator of the membership's account."""
    return roles.effective_role(record.admin_grants, membership) is Role.ACCOUNT_ADMINISTRATOR


async def key_rights(
    tx: Tx,
    record: SessionRecord,
    membership: Membership,
    account_id: str,
    key_id: str,
    permission: Permission,
    *,
    additional: Permission | None = None,
) -> LicenseKey:
    """Return the key after checking that an authorised member may exercise *permission*.

    *additional*, if given, is the permission asked instead when the key is an additional
    key.

    Raises:
        LicenseKeyNotFound: No such key in *account_id* (whatever *key_id* is).
        PermissionDenied: The member may not (see :func:`licensekit.roles.authorize_key`).
    """
    key = None
    if (wanted := as_id(key_id)) is not None:
        key = await tx.get(LICENSE_KEYS, wanted)
    if key is None or key.account_id != account_id:
        raise LicenseKeyNotFound(
            f"no license key {echo(key_id)} in business account {echo(account_id)}"
        )
    if additional is not None and key.primary_id is not None:
        permission = additional
    if permission is Permission.MANAGE_ADDITIONAL_KEYS and key.primary_id is not None:
        # Additional keys are managed through their primary: a grant over the additional
        # key alone lets one invite installers under it, not change it.
        roles.authorize_key(
            record.admin_grants,
            membership,
            permission,
            account_id=account_id,
            key_id=key.primary_id,
        )
    else:
        roles.authorize_key(
            record.admin_grants,
            membership,
            permission,
            account_id=account_id,
            key_id=key.id,
            primary_id=key.primary_id,
        )
    return key


async def authorize_key(
    access: Access,
    tx: Tx,
    session: Session | str,
    account_id: str,
    key_id: str,
    permission: Permission,
    now: dt.datetime,
) -> tuple[SessionRecord, Membership, LicenseKey]:
    """Return the session, its membership and the key, if it may do *permission* on the key."""
    record, membership = await access.authorize(
        tx, session, account_id, Permission.VIEW_ACCOUNT, now
    )
    key = await key_rights(tx, record, membership, account_id, key_id, permission)
    return record, membership, key


async def authorize_any_key(
    access: Access, tx: Tx, session: Session | str, account_id: str, now: dt.datetime, what: str
) -> tuple[SessionRecord, Membership]:
    """Admit Account Administrators and License Administrators of at least one key.

    Raises:
        PermissionDenied: The caller is neither; *what* names what they tried.
    """
    record, membership = await access.authorize(
        tx, session, account_id, Permission.VIEW_ACCOUNT, now
    )
    if not is_admin(record, membership) and not (
        membership.license_keys or membership.all_license_keys
    ):
        raise PermissionDenied(
            f"{what} in account {account_id!r} needs the Account Administrator role or "
            "License Administrator rights over a key"
        )
    return record, membership


def pages_by_id(
    tx: Tx, kind: RecordKind[R], owner: Any, where: Mapping[str, Any] | None = None
) -> Callable[[str | None, int], Awaitable[list[R]]]:
    """Return a reader of *owner*'s records of *kind* (ordered by ``id``) a page at a time.

    With *where*, only those records: one of the kind's filters (see the port's ``page``).
    """

    async def fetch(after: str | None, limit: int) -> list[R]:
        position = None if after is None else (after,)
        return await tx.page(kind, owner, after=position, limit=limit, where=where)

    return fetch


async def all_by_id(
    tx: Tx, kind: RecordKind[Any], owner: Any, filters: Sequence[Mapping[str, Any]] | None = None
) -> list[Any]:
    """Return every record of *kind* that *owner* holds, ordered by ``id``, read in chunks.

    With *filters*, only the records that one of them selects (see the port's ``page``);
    no record may be selected by two.
    """
    if filters is None:
        return await scan_all(pages_by_id(tx, kind, owner))
    found = [r for where in filters for r in await scan_all(pages_by_id(tx, kind, owner, where))]
    return sorted(found, key=lambda r: r.id) if len(filters) > 1 else found
