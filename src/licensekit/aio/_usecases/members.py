"""Members of a business account: listing them, changing roles, blocking and removing.

Scopes: ``"account:<id>"`` for every change of a member, and for the audit event of the
notice emailed about it afterwards. Listings lock nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from licensekit._usecases._checks import (
    check_cursor,
    check_limit,
    clean_notes,
    parse_enum,
)
from licensekit._usecases._scopes import account_scope
from licensekit.aio._usecases._access import (
    Access,
    account,
    member,
    member_view,
    member_views,
    user,
)
from licensekit.aio._usecases._audit import audit
from licensekit.aio._usecases._context import Context
from licensekit.aio._usecases._delivery import Delivery
from licensekit.aio._usecases._listing import filtered_page
from licensekit.aio._usecases._tx import Tx
from licensekit.aio._usecases.accounts import active_administrators
from licensekit.domain import members
from licensekit.domain.model import (
    AuditAction,
    Membership,
    MemberStatus,
    MemberView,
    Page,
    Role,
    Session,
)
from licensekit.domain.roles import Permission
from licensekit.mail import Message, MessageKind, render_member_notice
from licensekit.storage import MEMBERSHIPS

__all__ = ["Members"]

Rule = Callable[[Membership, str, dt.datetime, int], Membership]
"""A rule of :mod:`licensekit.members` given the target, the actor, the time and the count of
active administrators."""


class Members:
    """The use cases of this group (see :class:`licensekit.LicenseKit` for each one).

    Args:
        ctx: The shared context.
        access: Resolves and authorises sessions.
        delivery: Sends the notices.
    """

    def __init__(self, ctx: Context, access: Access, delivery: Delivery) -> None:
        self._ctx = ctx
        self._access = access
        self._delivery = delivery

    async def list_members(
        self,
        session: Session | str,
        account_id: str,
        *,
        cursor: str | None = None,
        limit: int = 50,
        include_removed: bool = False,
    ) -> Page[MemberView]:
        """List an account's members, ordered by user id, one page at a time.

        Raises:
            InvalidSession: The session is unknown or expired.
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
        """
        limit = check_limit(limit, self._ctx.settings)
        after = check_cursor(cursor, "usr")
        now = self._ctx.clock.now()

        async def read(tx: Tx) -> Page[MemberView]:
            await self._access.authorize(tx, session, account_id, Permission.LIST_MEMBERS, now)

            async def fetch(after: str | None, n: int) -> Sequence[Membership]:
                position = None if after is None else (after,)
                return await tx.page(MEMBERSHIPS, account_id, after=position, limit=n)

            page = await filtered_page(
                fetch,
                lambda m: m.user_id,
                lambda m: include_removed or m.status is not MemberStatus.REMOVED,
                after,
                limit,
            )
            return Page(await member_views(tx, page.items), page.next_cursor)

        return await self._ctx.runner.run(read)

    async def get_member(self, session: Session | str, account_id: str, user_id: str) -> MemberView:
        """Return one member of an account, with their role, status and the last notes.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            MemberNotFound: *user_id* is not a member of *account_id*.
        """
        now = self._ctx.clock.now()

        async def read(tx: Tx) -> MemberView:
            await self._access.authorize(tx, session, account_id, Permission.LIST_MEMBERS, now)
            return await member_view(tx, await member(tx, account_id, user_id))

        return await self._ctx.runner.run(read)

    async def change_role(
        self,
        session: Session | str,
        account_id: str,
        user_id: str,
        role: Role,
        *,
        notes: str = "",
        notify: bool = False,
        language: str = "en",
    ) -> MemberView:
        """Set a member's role, recording who changed it, when, and *notes*.

        A promotion takes effect at the member's next log-in; a demotion at once.

        Args:
            session: The caller, an Account Administrator of *account_id*.
            account_id: The business account.
            user_id: The member.
            role: The new role.
            notes: Why, for the record.
            notify: Also email the member about the change, *notes* included. A failed
                email does not undo the change; it is recorded in the audit trail.
            language: BCP 47 tag of that email's language.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            MemberNotFound: *user_id* is not a member of *account_id*.
            LastAdministrator: The change would demote the last Account Administrator.
        """
        role = parse_enum(Role, role, "role")
        notes = clean_notes(notes)
        return await self._change(
            session,
            account_id,
            user_id,
            AuditAction.ROLE_CHANGED,
            lambda target, actor, now, admins: members.change_role(
                target, role, actor_id=actor, now=now, notes=notes, active_administrators=admins
            ),
            notes,
            MessageKind.ROLE_CHANGED if notify else None,
            language,
        )

    async def block_member(
        self,
        session: Session | str,
        account_id: str,
        user_id: str,
        *,
        notes: str = "",
        notify: bool = False,
        language: str = "en",
    ) -> MemberView:
        """Block a member: they stay listed but can do nothing in the account, at once.

        With *notify*, the member is told by email in *language*, *notes* included (see
        :meth:`change_role`).

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            MemberNotFound: *user_id* is not a member of *account_id*.
            ConflictError: The member is already blocked.
            LastAdministrator: The member is the last Account Administrator.
        """
        notes = clean_notes(notes)
        return await self._change(
            session,
            account_id,
            user_id,
            AuditAction.MEMBER_BLOCKED,
            lambda target, actor, now, admins: members.block_member(
                target, actor_id=actor, now=now, notes=notes, active_administrators=admins
            ),
            notes,
            MessageKind.MEMBER_BLOCKED if notify else None,
            language,
        )

    async def unblock_member(
        self, session: Session | str, account_id: str, user_id: str, *, notes: str = ""
    ) -> MemberView:
        """Unblock a member; they get back the role they had.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            MemberNotFound: *user_id* is not a member of *account_id*.
            ConflictError: The member is not blocked.
        """
        notes = clean_notes(notes)
        return await self._change(
            session,
            account_id,
            user_id,
            AuditAction.MEMBER_UNBLOCKED,
            lambda target, actor, now, admins: members.unblock_member(
                target, actor_id=actor, now=now, notes=notes
            ),
            notes,
        )

    async def remove_member(
        self,
        session: Session | str,
        account_id: str,
        user_id: str,
        *,
        notes: str = "",
        notify: bool = False,
        language: str = "en",
    ) -> MemberView:
        """End a membership at once. The person can be invited again later.

        With *notify*, the person is told by email in *language*, *notes* included (see
        :meth:`change_role`).

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            MemberNotFound: *user_id* is not a member of *account_id*.
            LastAdministrator: The member is the last Account Administrator.
        """
        notes = clean_notes(notes)
        return await self._change(
            session,
            account_id,
            user_id,
            AuditAction.MEMBER_REMOVED,
            lambda target, actor, now, admins: members.remove_member(
                target, actor_id=actor, now=now, notes=notes, active_administrators=admins
            ),
            notes,
            MessageKind.MEMBER_REMOVED if notify else None,
            language,
        )

    async def _change(
        self,
        session: Session | str,
        account_id: str,
        user_id: str,
        action: AuditAction,
        rule: Rule,
        notes: str,
        notice: MessageKind | None = None,
        language: str = "en",
    ) -> MemberView:
        """Apply *rule* to a member, audit it, and email the member *notice* if one is named."""
        ctx = self._ctx
        language = ctx.templates.resolve(language)  # a wrong tag is refused before any change
        now = ctx.clock.now()
        scope = account_scope(account_id)

        async def change(tx: Tx) -> tuple[str, MemberView, Message | None]:
            record, _ = await self._access.authorize(
                tx, session, account_id, Permission.MANAGE_MEMBERS, now
            )
            target = await member(tx, account_id, user_id)
            changed = rule(target, record.user_id, now, await active_administrators(tx, account_id))
            await tx.put(MEMBERSHIPS, changed)
            details = {"notes": notes} if notes else {}
            if action is AuditAction.ROLE_CHANGED:
                details.update({"from": target.role.value, "to": changed.role.value})
            await audit(tx, now, account_id, record.user_id, action, user_id, **details)
            view = await member_view(tx, changed)
            if notice is None:
                return record.user_id, view, None
            message = render_member_notice(
                notice,
                templates=ctx.templates,
                to=view.email,
                account_name=(await account(tx, account_id)).name,
                actor=(await user(tx, record.user_id)).email,
                language=language,
                service_name=ctx.settings.service_name,
                notes=notes,
                old_role=target.role.value,
                new_role=changed.role.value,
            )
            return record.user_id, view, message

        actor_id, view, message = await ctx.runner.run(change, scope)
        if notice is not None and message is not None:
            error = await self._delivery.try_send(message)
            outcome = AuditAction.NOTICE_SENT if error is None else AuditAction.NOTICE_UNDELIVERED
            reason = {} if error is None else {"reason": str(error)[:500]}
            await ctx.runner.run(
                lambda tx: audit(
                    tx,
                    now,
                    account_id,
                    actor_id,
                    outcome,
                    user_id,
                    notice=notice.value,
                    email=view.email,
                    **reason,
                ),
                scope,
            )
        return view
