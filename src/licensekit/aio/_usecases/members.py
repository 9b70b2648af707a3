"""Members of a business account: listing them, changing roles, blocking and removing.

Scopes: ``"account:<id>"`` for every change of a member, and for the audit event of the
notice emailed about it afterwards. Listings lock nothing.

Notices: a blocked or removed member is emailed by default (:attr:`Settings.member_notices`,
a call's ``notify``), a member whose role changed only when the call asks. The email is
rendered in the change's transaction and handed to the mailer after it commits, so a mailer
that fails or hangs never holds the change back or undoes it; its outcome is audited
(``notice.sent`` or ``notice.undelivered``) and returned in :attr:`MemberView.notice`. The
administrator's notes go into the email only when the call shares them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import attrs

from licensekit._usecases._checks import (
    check_cursor,
    check_flag,
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
from licensekit.aio._usecases._listing import merged_page
from licensekit.aio._usecases._tx import Tx
from licensekit.aio._usecases.accounts import active_administrators
from licensekit.domain import members
from licensekit.domain.model import (
    AuditAction,
    DeliveryStatus,
    Membership,
    MemberTenure,
    MemberView,
    Page,
    Role,
    Session,
    User,
)
from licensekit.domain.roles import Permission
from licensekit.exceptions import StorageError, ValidationError
from licensekit.mail import Message, MessageKind, render_member_notice
from licensekit.storage import JOIN_INVITATIONS, MEMBERSHIPS

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

            def reader(
                where: Mapping[str, Any] | None,
            ) -> Callable[[str | None, int], Awaitable[Sequence[Membership]]]:
                async def fetch(after: str | None, n: int) -> Sequence[Membership]:
                    position = None if after is None else (after,)
                    return await tx.page(
                        MEMBERSHIPS, account_id, after=position, limit=n, where=where
                    )

                return fetch

            filters = [None] if include_removed else [{"tenure": MemberTenure.CURRENT}]
            page = await merged_page(
                [reader(where) for where in filters], lambda m: m.user_id, after, limit
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
        share_notes: bool = False,
        language: str | None = None,
    ) -> MemberView:
        """Set a member's role, recording who changed it, when, and *notes*.

        A promotion takes effect at the member's next log-in; a demotion at once.

        Args:
            session: The caller, an Account Administrator of *account_id*.
            account_id: The business account.
            user_id: The member.
            role: The new role.
            notes: Why, for the record (the member view and the audit trail).
            notify: Also email the member about the change: the account, both roles, and
                who made the change, whom to ask. Sent after the change is committed, and
                only to a proven address; how it went is in :attr:`MemberView.notice` and
                the audit trail (``notice.sent``, ``notice.undelivered``). A failed email
                never undoes the change and is not raised.
            share_notes: Put *notes* in that email too. They stay out of it by default:
                notes are written for the administrators.
            language: BCP 47 tag of that email's language. By default, the language of the
                invitation through which the member joined this account, else English.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            MemberNotFound: *user_id* is not a member of *account_id*.
            LastAdministrator: The change would demote the last Account Administrator.
            ValidationError: *language* is not one the email texts are written in (refused
                before anything changes, whether or not an email is due).
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
            self._notice(
                MessageKind.ROLE_CHANGED, check_flag(notify, "notify"), share_notes, language
            ),
        )

    async def block_member(
        self,
        session: Session | str,
        account_id: str,
        user_id: str,
        *,
        notes: str = "",
        notify: bool | None = None,
        share_notes: bool = False,
        language: str | None = None,
    ) -> MemberView:
        """Block a member: they stay listed but can do nothing in the account, at once.

        The member is told by email (see :meth:`change_role` for how, in which language,
        and how a failure is reported): which account, that their access there is
        suspended, who blocked them and whom to ask; *notes* only with *share_notes*.
        *notify* True or False sends the email or not whatever
        :attr:`Settings.member_notices` says; None (the default) follows it (on unless
        the host turned it off).

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            MemberNotFound: *user_id* is not a member of *account_id*.
            ConflictError: The member is already blocked.
            LastAdministrator: The member is the last Account Administrator.
            ValidationError: *language* is not one the email texts are written in.
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
            self._notice(MessageKind.MEMBER_BLOCKED, notify, share_notes, language),
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
        notify: bool | None = None,
        share_notes: bool = False,
        language: str | None = None,
    ) -> MemberView:
        """End a membership at once. The person can be invited again later.

        The person is told by email, as by :meth:`block_member` (*notify*, *share_notes*
        and *language* work the same): which account, that they are no longer a member,
        who removed them and whom to ask.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            MemberNotFound: *user_id* is not a member of *account_id*.
            LastAdministrator: The member is the last Account Administrator.
            ValidationError: *language* is not one the email texts are written in.
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
            self._notice(MessageKind.MEMBER_REMOVED, notify, share_notes, language),
        )

    def _notice(
        self, kind: MessageKind, notify: bool | None, share_notes: bool, language: str | None
    ) -> _Notice | None:
        """The email a change is to send, if any, its *language* resolved.

        A wrong tag is refused before any change, even when no email is due: a typo must
        not wait to surface until the host turns notices on. For a block or a removal,
        *notify* None follows :attr:`Settings.member_notices`.
        """
        check_flag(share_notes, "share_notes")  # "false" from a form must not share them
        if notify is not None:
            check_flag(notify, "notify")
        if language is not None:
            language = self._ctx.templates.resolve(language)
        wanted = self._ctx.settings.member_notices if notify is None else notify
        return _Notice(kind, share_notes, language) if wanted else None

    async def _change(
        self,
        session: Session | str,
        account_id: str,
        user_id: str,
        action: AuditAction,
        rule: Rule,
        notes: str,
        notice: _Notice | None = None,
    ) -> MemberView:
        """Apply *rule* to a member, audit it, and email the member *notice* if one is due."""
        ctx = self._ctx
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
            person = await user(tx, user_id)
            view = await member_view(tx, changed)
            if notice is None or not person.email_verified:
                # An unproven address may be someone else's, who never joined.
                return record.user_id, view, None
            message = render_member_notice(
                notice.kind,
                templates=ctx.templates,
                to=person.email,
                account_name=(await account(tx, account_id)).name,
                actor=(await user(tx, record.user_id)).email,
                language=notice.language or await self._language(tx, account_id, person),
                service_name=ctx.settings.service_name,
                notes=notes if notice.share_notes else "",
                old_role=target.role.value,
                new_role=changed.role.value,
            )
            return record.user_id, view, message

        actor_id, view, message = await ctx.runner.run(change, scope)
        if message is None:
            return view
        error = await self._delivery.try_send(message)
        if error is None:
            outcome, delivery, reason = AuditAction.NOTICE_SENT, DeliveryStatus.SENT, {}
        else:
            outcome = AuditAction.NOTICE_UNDELIVERED
            delivery = DeliveryStatus.REFUSED if error.permanent else DeliveryStatus.FAILED
            reason = {"reason": str(error)[:500]}
        # The change is committed and the email handed over (or not): a store failing now
        # must not tell the caller the change failed. Only this audit event would be missing.
        with contextlib.suppress(StorageError):
            await ctx.runner.run(
                lambda tx: audit(
                    tx,
                    now,
                    account_id,
                    actor_id,
                    outcome,
                    user_id,
                    notice=message.kind.value,
                    email=message.to,
                    language=message.language,
                    delivery=delivery.value,
                    **reason,
                ),
                scope,
            )
        return attrs.evolve(view, notice=delivery)

    async def _language(self, tx: Tx, account_id: str, person: User) -> str:
        """The language to write to *person* in: that of the invitation they joined by.

        licensekit keeps no language per user; the account's administrators chose one for
        this person when they invited them. Falls back to English, then to the first
        language of the templates (a host's may lack the invitation's, or English).
        """
        invitations = await tx.find_all(JOIN_INVITATIONS, account_id=account_id, email=person.email)
        accepted = sorted(
            (i.accepted_at, i.language)
            for i in invitations
            if i.accepted_by == person.id and i.accepted_at is not None
        )
        templates = self._ctx.templates
        for tag in (*(language for _, language in accepted[-1:]), "en"):
            try:
                return templates.resolve(tag)
            except ValidationError:
                continue
        return templates.languages[0]


@attrs.frozen
class _Notice:
    """The email a change is to send.

    Attributes:
        kind: What it tells.
        share_notes: Whether the administrator's notes go in.
        language: Its language, or None for the member's own (looked up in the change's
            transaction).
    """

    kind: MessageKind
    share_notes: bool
    language: str | None
