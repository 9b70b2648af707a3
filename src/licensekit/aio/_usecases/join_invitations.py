"""Join invitations: inviting people into a business account, and their taking it up.

:class:`JoinInvitations` holds an administrator's use cases, :class:`Invitees` those of the
people invited.

Scopes: ``"account:<id>"`` to invite, revoke, claim invitations for sending and store how
sending went; accepting holds the account's, ``"email:<email>"`` (it may register the
invitee) and ``"user:<id>"`` (it may prove the address, and opens a session). A client's
unknown tokens are counted under ``"throttle:<key>"``. Listings and previews lock nothing.

Inviting N addresses reads a constant number of times per :data:`LOOKUP_CHUNK` addresses
(their users and invitations in one batch, then the users' memberships), whatever N is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from typing import Any

import attrs

from licensekit._ids import new_id
from licensekit._results import (
    DeliveryFailure,
    DeliveryReport,
    InvitationPreview,
    JoinInvitationBatch,
)
from licensekit._usecases._checks import (
    CsvSource,
    check_cursor,
    check_lifetime,
    check_limit,
    clean_name,
    id_list,
    parse_enum,
    parse_recipients,
    require_text,
)
from licensekit._usecases._scopes import account_scope, email_scope, user_scope
from licensekit.aio._usecases._access import Access, account, account_and_user, user
from licensekit.aio._usecases._audit import audit, event
from licensekit.aio._usecases._context import Context
from licensekit.aio._usecases._delivery import Delivery
from licensekit.aio._usecases._hourly import count_invitation_emails
from licensekit.aio._usecases._invitation_states import join_invitations_in
from licensekit.aio._usecases._join import (
    JoinLinks,
    JoinSecret,
    all_in_account,
    asks_current_password,
    in_account,
)
from licensekit.aio._usecases._listing import merged_page, scan_all
from licensekit.aio._usecases._offload import offload, offload_batch
from licensekit.aio._usecases._sessions import Sessions
from licensekit.aio._usecases._tx import Tx
from licensekit.domain import members
from licensekit.domain.model import (
    AuditAction,
    BusinessAccount,
    DeliveryStatus,
    InvitationState,
    JoinInvitation,
    JoinInvitationView,
    Page,
    Session,
    SessionMethod,
    SessionRecord,
    User,
)
from licensekit.domain.roles import Permission
from licensekit.emails import RejectedEmail
from licensekit.exceptions import (
    ConflictError,
    InvalidCredentials,
    InvitationEmailMismatch,
    InvitationNotFound,
    TooManyAttempts,
    ValidationError,
)
from licensekit.mail import Message
from licensekit.storage import AUDIT_EVENTS, JOIN_INVITATIONS, MEMBERSHIPS, USERS, Query

__all__ = ["LOOKUP_CHUNK", "Invitees", "JoinInvitations"]

LOOKUP_CHUNK = 500
"""Addresses looked up at a time when deciding whom to invite."""


class JoinInvitations:
    """Inviting, listing, revoking and sending (see :class:`licensekit.LicenseKit`).

    Args:
        ctx: The shared context.
        access: Resolves and authorises sessions.
        delivery: Sends the invitations.
        links: Makes and writes the invitations' links.
    """

    def __init__(self, ctx: Context, access: Access, delivery: Delivery, links: JoinLinks) -> None:
        self._ctx = ctx
        self._access = access
        self._delivery = delivery
        self._links = links

    async def invite_members(
        self,
        session: Session | str,
        account_id: str,
        emails: Iterable[str] | None = None,
        *,
        csv: CsvSource | None = None,
        language: str = "en",
        expires_in: dt.timedelta | str | None = None,
        send: bool = True,
    ) -> JoinInvitationBatch:
        """Invite people to join a business account, one invitation and email each.

        Give the addresses either typed (*emails*) or as a single-column CSV (*csv*), as
        :meth:`invite_installers` takes them. Invalid addresses, repeats, current members,
        blocked members and people with a pending invitation are skipped and reported with
        their row numbers (list positions from 1, or the CSV's rows); everyone else is
        invited, all in one transaction. Emails are sent after the invitations are stored; a
        failed email leaves its invitation pending and is reported in
        :attr:`JoinInvitationBatch.undelivered`.

        Args:
            session: The caller, an Account Administrator of *account_id*.
            account_id: The business account.
            emails: Addresses as typed; blanks are ignored.
            csv: Instead of *emails*: the CSV text itself (a ``str``), its UTF-8 bytes, a
                path (:class:`pathlib.Path`), or a text or binary file object; read by
                :func:`licensekit.emails.parse_email_csv`.
            language: BCP 47 tag of the email's language.
            expires_in: Time until the invitations expire: a timedelta, a key of
                :data:`EXPIRY_PRESETS` such as ``"7d"``, or an ISO 8601 duration in weeks,
                days, hours, minutes and seconds such as ``"P10D"`` or ``"PT36H"``; at most
                :attr:`Settings.max_invitation_lifetime` (default from :class:`Settings`).
            send: Send the emails now; with False, send them later with
                :meth:`send_join_invitations`.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            ValidationError: Both or neither of *emails* and *csv*, an unreadable CSV, too
                many addresses, unsupported language, or bad expiry.
            TooManyAttempts: With *send*, the emails would pass the account's hourly limit
                (:attr:`Settings.invitations_per_account_per_hour`); nothing was stored.
        """
        ctx, links = self._ctx, self._links
        language = ctx.templates.resolve(language)
        lifetime = check_lifetime(expires_in, ctx.settings)
        parsed = parse_recipients(emails, csv, ctx.settings)
        now = ctx.clock.now()
        # Secrets are made before the transaction, so the store is not held during crypto.
        secrets_by_email = await offload_batch(
            len(parsed.emails), _new_secrets, links, parsed.emails, now
        )
        # Invitations to be sent now are stored claimed by this call (see Delivery.claim).
        delivery = DeliveryStatus.SENDING if send else DeliveryStatus.NOT_SENT

        async def invite(
            tx: Tx,
        ) -> (
            tuple[str, BusinessAccount, User, list[JoinInvitation], list[RejectedEmail]]
            | TooManyAttempts
        ):
            record, _ = await self._access.authorize(
                tx, session, account_id, Permission.INVITE_MEMBERS, now
            )
            reasons = await why_not_invite(tx, account_id, parsed.emails, now)
            skipped = [*parsed.rejected, *parsed.duplicates]
            created: list[JoinInvitation] = []
            for row, email in zip(parsed.rows, parsed.emails, strict=True):
                reason = reasons.get(email)
                if reason is not None:
                    skipped.append(RejectedEmail(row, email, reason))
                    continue
                secret = secrets_by_email[email]
                created.append(
                    new_invitation(
                        secret, account_id, email, language, record.user_id, now, lifetime, delivery
                    )
                )
            refused = await count_invitation_emails(
                tx,
                ctx.settings,
                account_id,
                len(created) if send else 0,
                actor_id=record.user_id,
                now=now,
            )
            if refused is not None:
                return refused
            await tx.add_all(JOIN_INVITATIONS, created)
            # Every invitation of the batch expires at the same instant: written once.
            expires_at = (now + lifetime).isoformat()
            await tx.add_all(
                AUDIT_EVENTS,
                [
                    event(
                        now,
                        account_id,
                        record.user_id,
                        AuditAction.INVITATION_CREATED,
                        i.id,
                        email=i.email,
                        language=language,
                        expires_at=expires_at,
                    )
                    for i in created
                ],
            )
            invited_to, inviter = await account_and_user(tx, account_id, record.user_id)
            return record.user_id, invited_to, inviter, created, skipped

        outcome = await ctx.runner.run(invite, account_scope(account_id))
        if isinstance(outcome, TooManyAttempts):
            raise outcome
        actor_id, invited_to, inviter, created, skipped = outcome
        undelivered: list[DeliveryFailure] = []
        if send and created:
            sent, _, undelivered = await self._delivery.deliver_and_record(
                [
                    (
                        i,
                        partial(
                            links.message, i, secrets_by_email[i.email].token, invited_to, inviter
                        ),
                    )
                    for i in created
                ],
                lambda tx, d, f: links.record(tx, d, f, now, actor_id, account_id),
            )
            created = [sent.get(i.id, i) for i in created]
        skipped.sort(key=lambda r: r.row)
        return JoinInvitationBatch(
            invited=tuple(JoinInvitationView.of(i, now) for i in created),
            skipped=tuple(skipped),
            undelivered=tuple(undelivered),
        )

    async def list_join_invitations(
        self,
        session: Session | str,
        account_id: str,
        *,
        state: InvitationState | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[JoinInvitationView]:
        """List an account's join invitations, oldest first, optionally in one state.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
        """
        limit = check_limit(limit, self._ctx.settings)
        after = check_cursor(cursor, "jinv")
        wanted = None if state is None else parse_enum(InvitationState, state, "state")
        now = self._ctx.clock.now()

        async def read(tx: Tx) -> Page[JoinInvitation]:
            await self._access.authorize(tx, session, account_id, Permission.INVITE_MEMBERS, now)
            filters: list[dict[str, Any] | None] = [None]
            if wanted is not None:
                filters = [*await join_invitations_in(tx, account_id, wanted, now)]
            return await merged_page(
                [partial(listing, tx, account_id, where=where) for where in filters],
                lambda i: i.id,
                after,
                limit,
            )

        page = await self._ctx.runner.run(read)
        return Page(tuple(JoinInvitationView.of(i, now) for i in page.items), page.next_cursor)

    async def revoke_join_invitation(
        self, session: Session | str, account_id: str, invitation_id: str
    ) -> JoinInvitationView:
        """Revoke a pending invitation: its link stops working at once.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            InvitationNotFound: No such invitation in *account_id*.
            InvitationAlreadyAccepted: It was used already.
            InvitationRevoked: It was revoked already.
        """
        now = self._ctx.clock.now()

        async def revoke(tx: Tx) -> JoinInvitation:
            record, _ = await self._access.authorize(
                tx, session, account_id, Permission.INVITE_MEMBERS, now
            )
            invitation = await in_account(tx, account_id, invitation_id)
            revoked = members.revoke_invitation(invitation, actor_id=record.user_id, now=now)
            await tx.save(JOIN_INVITATIONS, revoked)
            await audit(
                tx,
                now,
                account_id,
                record.user_id,
                AuditAction.INVITATION_REVOKED,
                invitation_id,
                email=invitation.email,
            )
            return revoked

        return JoinInvitationView.of(
            await self._ctx.runner.run(revoke, account_scope(account_id)), now
        )

    async def resend_join_invitation(
        self, session: Session | str, account_id: str, invitation_id: str
    ) -> JoinInvitationView:
        """Send a pending invitation's email (again), always with the same link.

        Use it for invitations created with ``send=False``, for those whose email failed,
        and for people who lost the message.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            InvitationNotFound: No such invitation in *account_id*.
            InvitationError: It is accepted, revoked or expired (invite the person again).
            TooManyAttempts: The account sent as many invitation emails this hour as
                :attr:`Settings.invitations_per_account_per_hour` allows.
            DeliveryError: The mailer failed; the failure is stored on the invitation.
        """
        now = self._ctx.clock.now()
        links = self._links

        async def read(
            tx: Tx,
        ) -> tuple[str, JoinInvitation, BusinessAccount, User] | TooManyAttempts:
            record, _ = await self._access.authorize(
                tx, session, account_id, Permission.INVITE_MEMBERS, now
            )
            invitation = await in_account(tx, account_id, invitation_id)
            members.check_invitation_usable(invitation, now)
            refused = await count_invitation_emails(
                tx, self._ctx.settings, account_id, 1, actor_id=record.user_id, now=now
            )
            if refused is not None:
                return refused
            return (
                record.user_id,
                invitation,
                await account(tx, account_id),
                await user(tx, invitation.invited_by),
            )

        outcome = await self._ctx.runner.run(read)
        if isinstance(outcome, TooManyAttempts):
            raise outcome
        actor_id, invitation, invited_to, inviter = outcome
        message = links.message(invitation, links.token_of(invitation), invited_to, inviter)
        error = await self._delivery.try_send(message)
        delivered, failed = self._delivery.outcome(invitation, error)
        # Record what happened even if the invitation was revoked meanwhile: the email is out
        # (the revoked link will not work), or the attempt failed.
        sent = await self._delivery.after_sending(
            lambda tx: links.record(tx, delivered, failed, now, actor_id, account_id)
        )
        if error is not None:
            raise error
        return JoinInvitationView.of(sent[invitation_id], now)

    async def send_join_invitations(
        self,
        session: Session | str,
        account_id: str,
        *,
        invitation_ids: Iterable[str] | None = None,
    ) -> DeliveryReport[JoinInvitationView]:
        """Send the emails of pending invitations that were not delivered yet.

        Picks the account's pending invitations (or those named) whose email was never sent
        or failed in a way that may pass (:attr:`DeliveryStatus.FAILED`); those refused for
        good, already sent, accepted, revoked or expired are left alone. Use it after
        ``invite_members(..., send=False)`` and to retry after a mail server outage. One
        failure never stops the others; each is stored on its invitation and reported.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            InvitationNotFound: One of *invitation_ids* is not an invitation of the account.
            ValidationError: *invitation_ids* is not a collection of ids, or names more than
                :attr:`Settings.max_batch_size` of them.
            TooManyAttempts: The emails would pass the account's hourly limit
                (:attr:`Settings.invitations_per_account_per_hour`); none was sent.
        """
        wanted = id_list(invitation_ids, "invitation_ids", self._ctx.settings.max_batch_size)
        now = self._ctx.clock.now()
        links, delivery = self._links, self._delivery

        async def claim(
            tx: Tx,
        ) -> tuple[str, list[JoinInvitation], BusinessAccount, dict[str, User]] | TooManyAttempts:
            record, _ = await self._access.authorize(
                tx, session, account_id, Permission.INVITE_MEMBERS, now
            )
            if wanted is None:
                filters = await join_invitations_in(tx, account_id, InvitationState.PENDING, now)
                invitations = await scan_all(partial(listing, tx, account_id, where=filters[0]))
            else:
                invitations = await all_in_account(tx, account_id, wanted)
            due = [
                i
                for i in invitations
                if i.state(now) is InvitationState.PENDING and delivery.due(i, now)
            ]
            refused = await count_invitation_emails(
                tx, self._ctx.settings, account_id, len(due), actor_id=record.user_id, now=now
            )
            if refused is not None:
                return refused
            chosen = await delivery.claim(
                due, now, lambda claimed: tx.save_all(JOIN_INVITATIONS, claimed)
            )
            inviters = {u: await user(tx, u) for u in {i.invited_by for i in chosen}}
            return record.user_id, chosen, await account(tx, account_id), inviters

        outcome = await self._ctx.runner.run(claim, account_scope(account_id))
        if isinstance(outcome, TooManyAttempts):
            raise outcome
        actor_id, chosen, invited_to, inviters = outcome

        def render(invitation: JoinInvitation) -> Message:
            token = links.token_of(invitation)
            return links.message(invitation, token, invited_to, inviters[invitation.invited_by])

        stored, delivered, failed = await delivery.deliver_and_record(
            [(i, partial(render, i)) for i in chosen],
            lambda tx, d, f: links.record(tx, d, f, now, actor_id, account_id),
        )
        return DeliveryReport(
            sent=tuple(JoinInvitationView.of(stored[i.id], now) for i in delivered),
            undelivered=tuple(failed),
        )


class Invitees:
    """Taking up a join invitation (see :class:`licensekit.LicenseKit` for each use case).

    Args:
        ctx: The shared context.
        access: Resolves sessions.
        sessions: Registers invitees, checks their passwords and logs them in.
        links: Finds the invitations' links.
    """

    def __init__(self, ctx: Context, access: Access, sessions: Sessions, links: JoinLinks) -> None:
        self._ctx = ctx
        self._access = access
        self._sessions = sessions
        self._links = links

    async def describe_join_invitation(self, token: str, *, client: str = "") -> InvitationPreview:
        """Return what an invitation link leads to, so the host can show the right form.

        Args:
            token: The token from the link.
            client: An identifier of the requesting client (an IP address, say). When
                given, unknown tokens are throttled per client (see
                :attr:`Settings.token_throttle`); without it they are not throttled.

        Raises:
            InvitationNotFound: The token matches no invitation.
            InvitationError: The invitation is accepted, revoked or expired.
            TooManyAttempts: Too many unknown tokens were presented.
            ValidationError: *client* is not text, holds a NUL or a lone surrogate, or is
                longer than 200 characters.
        """
        now = self._ctx.clock.now()
        invitation = await self._links.find_by_token(token, client, now)

        async def read(tx: Tx) -> tuple[BusinessAccount, User | None, User | None]:
            invited_to = await account(tx, invitation.account_id)
            inviter = await tx.get(USERS, invitation.invited_by)
            return invited_to, inviter, await tx.find(USERS, email=invitation.email)

        invited_to, inviter, invitee = await self._ctx.runner.run(read)
        return InvitationPreview(
            invitation_id=invitation.id,
            account_id=invited_to.id,
            account_name=invited_to.name,
            email=invitation.email,
            inviter_email=inviter.email if inviter is not None else "",
            expires_at=invitation.expires_at,
            user_exists=invitee is not None,
            needs_current_password=invitee is not None and asks_current_password(invitee),
        )

    async def accept_join_invitation(
        self,
        token: str,
        *,
        password: str | None = None,
        session: Session | str | None = None,
        name: str = "",
        client: str = "",
    ) -> Session:
        """Accept a join invitation and return a logged-in session.

        Three ways in, matching the invitee's situation:

        * they have a personal account whose address is proven: give its current
          *password* (see :attr:`InvitationPreview.needs_current_password`); one without a
          password accepts from a *session* (or first sets a password by a reset);
        * they have none, or an unproven one: give the *password* they choose (and
          optionally a *name*); the personal account is created, or the unproven one gets
          this password;
        * the host already authenticated them: pass their *session*; its email must be the
          invitation's.

        Either way they join as a Regular Member. The link proves the address: for an
        account that was unproven, every earlier session ends, and a password set by
        whoever registered the address survives only when the invitee shows they know it
        (by typing it, or by accepting from a session opened with it).

        Args:
            token: The token from the invitation link.
            password: The existing account's password, or the password chosen.
            session: A session of the invitee, for hosts that authenticate people themselves.
            name: Display name for a newly created personal account.
            client: An identifier of the requesting client (an IP address, say). When
                given, unknown tokens are throttled per client (see
                :attr:`Settings.token_throttle`); without it they are not throttled.

        Raises:
            InvitationNotFound: The token matches no invitation.
            InvitationError: The invitation is accepted, revoked or expired, or addressed to
                another email than the session's.
            InvalidCredentials: The proven account's password is wrong (or was replaced
                while it was being checked).
            InvalidPassword: A chosen password breaks the policy.
            ValidationError: Neither a password nor a session was given, or both were; or
                *client* is not text, holds a NUL or a lone surrogate, or is longer than 200
                characters.
            InvalidSession: The *session* given is unknown, logged out or expired.
            MemberBlocked: The invitee is blocked in the account.
            AlreadyMember: The invitee is an active member already.
            TooManyAttempts: Too many wrong tokens or passwords.
        """
        now = self._ctx.clock.now()
        invitation = await self._links.find_by_token(token, client, now)
        name = clean_name(name, "name", required=False)
        if session is not None and password is not None:
            raise ValidationError("give either a password or a session to accept, not both")
        if session is None and password is None:
            raise ValidationError("give the password of your account, or choose one")
        if session is not None:
            prepared = await self._from_session(invitation, session, now)
        else:
            prepared = await self._with_password(
                invitation, require_text(password, "password"), name, now
            )
        sessions = self._sessions

        async def accept(tx: Tx) -> Session:
            current = await tx.get(JOIN_INVITATIONS, invitation.id)
            if current is None:  # pragma: no cover - invitations are never deleted
                raise InvitationNotFound("the invitation no longer exists")
            accepted = members.accept_invitation(current, user_id=prepared.user_id, now=now)
            record: SessionRecord | None = None
            if session is not None:
                record = await self._access.resolve(tx, session, now)  # not logged out meanwhile
            if prepared.new_user is not None:
                await sessions.add_user(
                    tx, prepared.new_user, hint="sign in with its password to accept"
                )
            invitee = await user(tx, prepared.user_id)
            chosen_hash, checked = prepared.chosen_hash, prepared.checked
            if chosen_hash is not None and asks_current_password(invitee):
                raise ConflictError("the account was proven meanwhile; accept again")
            if checked is not None and invitee.password_hash != checked.password_hash:
                # Replaced (reset) while it was being checked: no longer the account's.
                raise InvalidCredentials("wrong password for the existing account")
            if not invitee.email_verified:
                if chosen_hash is not None:
                    invitee = attrs.evolve(invitee, password_hash=chosen_hash)
                # Through a session, the password stays only if that session was opened with it.
                keep = chosen_hash is not None or (
                    record is not None and record.method is SessionMethod.PASSWORD
                )
                invitee = await sessions.prove(tx, invitee, now, keep_password=keep)
            membership = await tx.get(MEMBERSHIPS, (current.account_id, prepared.user_id))
            joined = members.join(
                membership,
                account_id=current.account_id,
                user_id=prepared.user_id,
                now=now,
            )
            await tx.save(JOIN_INVITATIONS, accepted)
            await tx.put(MEMBERSHIPS, joined)
            await audit(
                tx,
                now,
                current.account_id,
                prepared.user_id,
                AuditAction.INVITATION_ACCEPTED,
                current.id,
                email=current.email,
            )
            return await sessions.issue(tx, invitee, SessionMethod.INVITATION, now)

        return await self._ctx.runner.run(
            accept,
            account_scope(invitation.account_id),
            email_scope(invitation.email),
            user_scope(prepared.user_id),
        )

    async def _from_session(
        self, invitation: JoinInvitation, session: Session | str, now: dt.datetime
    ) -> Acceptance:
        """Return how the holder of *session* accepts *invitation*: as themselves."""
        found = await self._ctx.runner.run(
            partial(self._access.session_user, session=session, now=now)
        )
        if found.email != invitation.email:
            raise InvitationEmailMismatch(
                "this invitation was sent to another email address than yours"
            )
        return Acceptance(found.id)

    async def _with_password(
        self, invitation: JoinInvitation, password: str, name: str, now: dt.datetime
    ) -> Acceptance:
        """Return how the giver of *password* accepts *invitation* (slow: hashes or checks it).

        A new address gets a personal account with that password; a proven account must be
        given its current one; an unproven one gets this password once the link proves it.
        """
        existing = await self._ctx.runner.run(lambda tx: tx.find(USERS, email=invitation.email))
        if existing is None:
            new_user = User(
                id=new_id("usr", now),
                email=invitation.email,
                created_at=now,
                password_hash=await offload(self._ctx.passwords.hash, password),
                name=name,
                email_verified_at=now,
            )
            return Acceptance(new_user.id, new_user=new_user)
        if not asks_current_password(existing):
            return Acceptance(
                existing.id, chosen_hash=await offload(self._ctx.passwords.hash, password)
            )
        checked = await self._sessions.verify_password(existing.email, password, now)
        if checked is None and existing.password_hash is None:
            raise InvalidCredentials(
                "this personal account has no password: accept from a session of it "
                "(single sign-on), or choose a password with a password reset first"
            )
        if checked is None:
            raise InvalidCredentials("wrong password for the existing account")
        return Acceptance(existing.id, checked=checked)


@attrs.frozen
class Acceptance:
    """What taking up an invitation writes to the personal account, prepared beforehand.

    Attributes:
        user_id: The invitee's user.
        new_user: A personal account to create, with the password chosen.
        chosen_hash: The password chosen for an unproven account.
        checked: A proven account as its password was checked.
    """

    user_id: str
    new_user: User | None = None
    chosen_hash: str | None = attrs.field(default=None, repr=False)
    checked: User | None = None


async def listing(
    tx: Tx,
    account_id: str,
    after: str | None,
    limit: int,
    *,
    where: Mapping[str, Any] | None = None,
) -> list[JoinInvitation]:
    """Return one page of *account_id*'s join invitations after the id *after*.

    With *where*, only those it selects (one of the store's filters of join invitations).
    """
    position = None if after is None else (after,)
    return await tx.page(JOIN_INVITATIONS, account_id, after=position, limit=limit, where=where)


def new_invitation(
    secret: JoinSecret,
    account_id: str,
    email: str,
    language: str,
    invited_by: str,
    now: dt.datetime,
    lifetime: dt.timedelta,
    delivery: DeliveryStatus,
) -> JoinInvitation:
    """Return a new join invitation of *email* to *account_id*, made with *secret*."""
    return JoinInvitation(
        id=secret.invitation_id,
        account_id=account_id,
        email=email,
        language=language,
        invited_by=invited_by,
        created_at=now,
        expires_at=now + lifetime,
        token_hash=secret.token_hash,
        token_ciphertext=secret.token_ciphertext,
        delivery=delivery,
        delivery_started_at=now if delivery is DeliveryStatus.SENDING else None,
    )


async def why_not_invite(
    tx: Tx, account_id: str, emails: Sequence[str], now: dt.datetime
) -> dict[str, str]:
    """Return why each address of *emails* that cannot be invited to *account_id* cannot.

    Reads twice per :data:`LOOKUP_CHUNK` addresses: their users and the account's
    invitations to them in one batch, then those users' memberships; the decision is
    :func:`licensekit.members.why_not_invite`'s.
    """
    reasons: dict[str, str] = {}
    for start in range(0, len(emails), LOOKUP_CHUNK):
        chunk = emails[start : start + LOOKUP_CHUNK]
        users, invitations = await tx.fetch(
            Query(USERS, ("email",), tuple((e,) for e in chunk)),
            Query(JOIN_INVITATIONS, ("account_id", "email"), tuple((account_id, e) for e in chunk)),
        )
        memberships = {
            m.user_id: m
            for m in await tx.get_many(MEMBERSHIPS, ((account_id, u.id) for u in users))
        }
        members_by_email = {u.email: memberships.get(u.id) for u in users}
        invitations_by_email: dict[str, list[JoinInvitation]] = {}
        for invitation in invitations:
            invitations_by_email.setdefault(invitation.email, []).append(invitation)
        for email in chunk:
            reason = members.why_not_invite(
                members_by_email.get(email), invitations_by_email.get(email, ()), now
            )
            if reason is not None:
                reasons[email] = reason
    return reasons


def _new_secrets(
    links: JoinLinks, emails: Sequence[str], now: dt.datetime
) -> dict[str, JoinSecret]:
    """The tokens of the invitations of *emails* (slow in bulk: offloaded)."""
    return {email: links.new_secret(now) for email in emails}
