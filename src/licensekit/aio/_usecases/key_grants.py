"""License Administrators: granting and revoking a member's rights over a license key.

Scopes: a grant or revocation locks ``account:<account id>``, as every change of a
membership does.
"""

from __future__ import annotations

import attrs

from licensekit.aio._usecases._access import Access, member, member_view
from licensekit.aio._usecases._audit import audit
from licensekit.aio._usecases._context import Context
from licensekit.aio._usecases._key_access import account_scope, authorize_key
from licensekit.aio._usecases._tx import Tx
from licensekit.domain import licensing
from licensekit.domain.model import AuditAction, MemberView, Session
from licensekit.domain.roles import Permission
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
