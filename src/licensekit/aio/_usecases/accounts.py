"""Business accounts: creating and leaving them, listing one's own, the audit trail.

Scopes: ``"user:<id>"`` to create a business account (the creator's session gains the
administrator role; the new account's own scope is known to nobody else yet);
``"account:<id>"`` to leave one. Listings lock nothing, and neither does
:meth:`Accounts.purge_expired`, which deletes only what has expired.
"""

from __future__ import annotations

import attrs

from licensekit._ids import new_id
from licensekit._results import AccountMembership, PurgeReport
from licensekit._usecases._checks import check_cursor, check_limit, clean_name
from licensekit._usecases._scopes import account_scope, user_scope
from licensekit.aio._usecases._access import Access, user
from licensekit.aio._usecases._audit import audit
from licensekit.aio._usecases._context import Context
from licensekit.aio._usecases._tx import Tx
from licensekit.domain import members, roles
from licensekit.domain.model import (
    AuditAction,
    AuditEvent,
    BusinessAccount,
    Membership,
    MemberStatus,
    Page,
    Role,
    Session,
)
from licensekit.domain.roles import Permission
from licensekit.exceptions import EmailNotVerified
from licensekit.storage import ACCOUNTS, AUDIT_EVENTS, MEMBERSHIPS, SESSIONS, THROTTLES

__all__ = ["Accounts", "active_administrators"]


async def active_administrators(tx: Tx, account_id: str) -> int:
    """Return how many active Account Administrators *account_id* has."""
    return await tx.count(
        MEMBERSHIPS,
        account_id=account_id,
        role=Role.ACCOUNT_ADMINISTRATOR,
        status=MemberStatus.ACTIVE,
    )


class Accounts:
    """The use cases of this group (see :class:`licensekit.LicenseKit` for each one).

    Args:
        ctx: The shared context.
        access: Resolves and authorises sessions.
    """

    def __init__(self, ctx: Context, access: Access) -> None:
        self._ctx = ctx
        self._access = access

    async def purge_expired(self) -> PurgeReport:
        """Delete expired sessions and spent throttling records. Run it now and then.

        Throttling records hold emails and client identifiers; purging keeps them no longer
        than their window or lock-out needs.
        """
        now = self._ctx.clock.now()

        async def purge(tx: Tx) -> PurgeReport:
            return PurgeReport(
                sessions=await tx.delete_expired(SESSIONS, now),
                throttles=await tx.delete_expired(THROTTLES, now),
            )

        return await self._ctx.runner.run(purge)

    async def list_my_accounts(self, session: Session | str) -> tuple[AccountMembership, ...]:
        """Return the caller's active and blocked memberships, with this session's roles.

        Raises:
            InvalidSession: The session is unknown or expired.
        """
        now = self._ctx.clock.now()

        async def read(tx: Tx) -> tuple[AccountMembership, ...]:
            record = await self._access.resolve(tx, session, now)
            mine = sorted(
                (
                    m
                    for m in await tx.find_all(MEMBERSHIPS, user_id=record.user_id)
                    if m.status is not MemberStatus.REMOVED
                ),
                key=lambda m: m.account_id,
            )
            accounts = {a.id: a for a in await tx.get_many(ACCOUNTS, (m.account_id for m in mine))}
            return tuple(
                AccountMembership(
                    account_id=m.account_id,
                    account_name=accounts[m.account_id].name,
                    role=m.role,
                    effective_role=roles.effective_role(record.admin_grants, m),
                    status=m.status,
                )
                for m in mine
                if m.account_id in accounts
            )

        return await self._ctx.runner.run(read)

    async def create_business_account(self, session: Session | str, name: str) -> BusinessAccount:
        """Create a business account; the caller becomes its first Account Administrator.

        The caller's session acts as the account's administrator at once: pass the same
        session (or token) to the next call. The :class:`Session` object you hold does not
        change, though: it is a frozen snapshot from log-in, and its :attr:`Session.roles`
        still lacks the new account. To show the caller's roles as they stand now, call
        :meth:`list_my_accounts` (its ``role`` and ``effective_role``); a new log-in also
        returns a :class:`Session` whose ``roles`` include the account.

        Raises:
            InvalidSession: The session is unknown or expired.
            EmailNotVerified: The caller's address is not proven (see
                :attr:`Settings.verified_email_to_create_accounts`).
            ValidationError: *name* is empty or too long.
        """
        name = clean_name(name, "account name", required=True)
        now = self._ctx.clock.now()
        settings = self._ctx.settings

        async def create(tx: Tx) -> BusinessAccount:
            record = await self._access.resolve(tx, session, now)
            if await tx.lock(user_scope(record.user_id)):
                record = await self._access.resolve(tx, session, now)  # as it stands under the lock
            if settings.verified_email_to_create_accounts:
                creator = await user(tx, record.user_id)
                if not creator.email_verified:
                    raise EmailNotVerified(
                        f"verify {creator.email} before creating a business account"
                    )
            account = BusinessAccount(
                id=new_id("acc", now), name=name, created_at=now, created_by=record.user_id
            )
            await tx.add(ACCOUNTS, account)
            await tx.put(
                MEMBERSHIPS,
                Membership(
                    account_id=account.id,
                    user_id=record.user_id,
                    role=Role.ACCOUNT_ADMINISTRATOR,
                    status=MemberStatus.ACTIVE,
                    joined_at=now,
                    updated_at=now,
                    admin_grant=1,
                ),
            )
            await tx.save(
                SESSIONS,
                attrs.evolve(record, admin_grants={**record.admin_grants, account.id: 1}),
            )
            await audit(
                tx,
                now,
                account.id,
                record.user_id,
                AuditAction.ACCOUNT_CREATED,
                account.id,
                name=name,
            )
            return account

        return await self._ctx.runner.run(create)

    async def leave_account(self, session: Session | str, account_id: str) -> None:
        """End the caller's own membership in *account_id*.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            MemberBlocked: The caller is blocked there (a block is not escaped by leaving).
            LastAdministrator: The caller is its last Account Administrator.
        """
        now = self._ctx.clock.now()

        async def leave(tx: Tx) -> None:
            record, membership = await self._access.authorize(
                tx, session, account_id, Permission.VIEW_ACCOUNT, now
            )
            left = members.remove_member(
                membership,
                actor_id=record.user_id,
                now=now,
                notes="",
                active_administrators=await active_administrators(tx, account_id),
            )
            await tx.put(MEMBERSHIPS, left)
            await audit(
                tx, now, account_id, record.user_id, AuditAction.MEMBER_LEFT, record.user_id
            )

        await self._ctx.runner.run(leave, account_scope(account_id))

    async def list_audit_events(
        self,
        session: Session | str,
        account_id: str,
        *,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[AuditEvent]:
        """Return an account's audit trail, oldest first, one page at a time.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
        """
        limit = check_limit(limit, self._ctx.settings)
        after = check_cursor(cursor, "evt")
        now = self._ctx.clock.now()

        async def read(tx: Tx) -> list[AuditEvent]:
            await self._access.authorize(tx, session, account_id, Permission.VIEW_AUDIT, now)
            position = None if after is None else (after,)
            return await tx.page(AUDIT_EVENTS, account_id, after=position, limit=limit + 1)

        events = await self._ctx.runner.run(read)
        items = tuple(events[:limit])
        return Page(items, items[-1].id if len(events) > limit else None)
