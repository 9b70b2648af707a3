"""License Administrators: granting and revoking a member's rights over license keys.

A member's rights cover one key, several (granted in one call), or every key of the
account, those added later included. Scopes: a grant or revocation locks
``account:<account id>``, as every change of a membership does.
"""

from __future__ import annotations

from collections.abc import Collection

import attrs

from licensekit._usecases._checks import check_flag
from licensekit.aio._usecases._access import Access, member, member_view
from licensekit.aio._usecases._audit import audit
from licensekit.aio._usecases._context import Context
from licensekit.aio._usecases._key_access import account_scope, authorize_key, key_rights
from licensekit.aio._usecases._tx import Tx
from licensekit.domain import licensing, roles
from licensekit.domain.model import AuditAction, MemberView, Session
from licensekit.domain.roles import Permission
from licensekit.exceptions import ValidationError
from licensekit.storage import MEMBERSHIPS

__all__ = ["KeyGrants"]


class KeyGrants:
    """The use cases of this group (see :class:`licensekit.LicenseKit` for each one).

    Args:
        ctx: The shared context.
        access: Resolves and authorises sessions.
    """

    def __init__(self, ctx: Context, access: Access) -> None:
        self._ctx = ctx
        self._access = access

    async def grant_license_administrator(
        self, session: Session | str, account_id: str, user_id: str, key_id: str
    ) -> MemberView:
        """Make a Regular Member License Administrator of one key (at once, in open sessions).

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            MemberNotFound: *user_id* is not a member of *account_id*.
            LicenseKeyNotFound: No such key in *account_id*.
            ConflictError: The member is not an active Regular Member, already holds the
                grant, or the key was removed.
        """
        return await self._change_grant(session, account_id, user_id, key_id, grant=True)

    async def revoke_license_administrator(
        self, session: Session | str, account_id: str, user_id: str, key_id: str
    ) -> MemberView:
        """End a member's License Administrator rights over one key, at once.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            MemberNotFound: *user_id* is not a member of *account_id*.
            LicenseKeyNotFound: No such key in *account_id*.
            ConflictError: The member does not hold that grant.
        """
        return await self._change_grant(session, account_id, user_id, key_id, grant=False)

    async def grant_key_rights(
        self,
        session: Session | str,
        account_id: str,
        user_id: str,
        *,
        key_ids: Collection[str] = (),
        all_keys: bool = False,
    ) -> MemberView:
        """Make a Regular Member License Administrator of several keys, or of every key.

        With *key_ids*, every key is checked first and the grants are made together or not
        at all; keys the member administers already are left as they are. With
        ``all_keys=True`` the member administers every key of the account, those added
        later included, until :meth:`revoke_key_rights` ends it (or a change of role or
        status, as for any grant). Rights over a primary key cover its additional keys.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            MemberNotFound: *user_id* is not a member of *account_id*.
            LicenseKeyNotFound: One of *key_ids* is no key of *account_id*.
            ValidationError: Neither or both of *key_ids* and *all_keys*, or too many ids.
            ConflictError: The member is not an active Regular Member, holds every grant
                asked already, or a key was removed.
        """
        return await self._change_grants(
            session, account_id, user_id, key_ids, all_keys=all_keys, grant=True
        )

    async def revoke_key_rights(
        self,
        session: Session | str,
        account_id: str,
        user_id: str,
        *,
        key_ids: Collection[str] = (),
        all_keys: bool = False,
    ) -> MemberView:
        """End a member's License Administrator rights over several keys, or over every key.

        ``all_keys=True`` ends a grant made with ``all_keys=True`` (grants over named keys
        stay); *key_ids* ends grants over those keys, all of which the member must hold.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            MemberNotFound: *user_id* is not a member of *account_id*.
            LicenseKeyNotFound: One of *key_ids* is no key of *account_id*.
            ValidationError: Neither or both of *key_ids* and *all_keys*, or too many ids.
            ConflictError: The member does not hold one of those grants (or holds it only
                through a grant over every key), or holds no grant over every key.
        """
        return await self._change_grants(
            session, account_id, user_id, key_ids, all_keys=all_keys, grant=False
        )

    async def _change_grants(
        self,
        session: Session | str,
        account_id: str,
        user_id: str,
        key_ids: Collection[str],
        *,
        all_keys: bool,
        grant: bool,
    ) -> MemberView:
        check_flag(all_keys, "all_keys")
        wanted = _key_ids(key_ids, self._ctx.settings.max_batch_size)
        if all_keys == bool(wanted):
            raise ValidationError("name the keys, or ask for all_keys=True, not both")
        now = self._ctx.clock.now()

        async def work(tx: Tx) -> MemberView:
            # Keys first: an id of another account's key is not found, whoever asks.
            record, membership = await self._access.authorize(
                tx, session, account_id, Permission.VIEW_ACCOUNT, now
            )
            keys = [
                await key_rights(
                    tx, record, membership, account_id, key_id, Permission.MANAGE_LICENSE_KEYS
                )
                for key_id in wanted
            ]
            roles.authorize(
                record.admin_grants,
                membership,
                Permission.MANAGE_LICENSE_KEYS,
                account_id=account_id,
            )
            target = await member(tx, account_id, user_id)
            changed, ids = licensing.change_grants(target, keys, grant=grant, all_keys=all_keys)
            await tx.put(MEMBERSHIPS, changed)
            if all_keys:
                action = (
                    AuditAction.LICENSE_ADMIN_GRANTED_ALL
                    if grant
                    else AuditAction.LICENSE_ADMIN_REVOKED_ALL
                )
                await audit(tx, now, account_id, record.user_id, action, user_id)
            action = (
                AuditAction.LICENSE_ADMIN_GRANTED if grant else AuditAction.LICENSE_ADMIN_REVOKED
            )
            for key_id in ids:
                await audit(tx, now, account_id, record.user_id, action, user_id, key_id=key_id)
            return await member_view(tx, changed)

        return await self._ctx.runner.run(work, account_scope(account_id))

    async def _change_grant(
        self, session: Session | str, account_id: str, user_id: str, key_id: str, *, grant: bool
    ) -> MemberView:
        now = self._ctx.clock.now()

        async def work(tx: Tx) -> MemberView:
            record, _, key = await authorize_key(
                self._access, tx, session, account_id, key_id, Permission.MANAGE_LICENSE_KEYS, now
            )
            target = await member(tx, account_id, user_id)
            keys = licensing.change_grant(target, key, grant=grant)
            # Not a change of role or status: changed_by and notes keep describing the last
            # one, and the audit trail records the grant.
            changed = attrs.evolve(target, license_keys=keys)
            await tx.put(MEMBERSHIPS, changed)
            action = (
                AuditAction.LICENSE_ADMIN_GRANTED if grant else AuditAction.LICENSE_ADMIN_REVOKED
            )
            await audit(tx, now, account_id, record.user_id, action, user_id, key_id=key_id)
            return await member_view(tx, changed)

        return await self._ctx.runner.run(work, account_scope(account_id))


def _key_ids(key_ids: object, most: int) -> list[str]:
    """Return the distinct key ids of *key_ids* (a collection of text, not one text)."""
    if isinstance(key_ids, str | bytes) or not isinstance(key_ids, Collection):
        raise ValidationError("key_ids must be a list of key ids", field="key_ids")
    if len(key_ids) > most:
        raise ValidationError(f"at most {most} key ids at once", field="key_ids")
    if not all(isinstance(key_id, str) for key_id in key_ids):
        raise ValidationError("key_ids must be a list of key ids", field="key_ids")
    return list(dict.fromkeys(key_ids))
