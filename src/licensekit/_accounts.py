"""The accounts use cases: business accounts, members, join invitations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from functools import partial

import attrs

from licensekit import members
from licensekit._core import (
    _TOKEN_PLACEHOLDER,
    _as_id,
    _bounded_entries,
    _check_cursor,
    _clean_name,
    _filtered_page,
    _id_list,
    _parse_enum,
    _plain_text,
    _require_text,
    _scan_all,
)
from licensekit._echo import echo
from licensekit._ids import new_id
from licensekit._lockouts import throttle_guess
from licensekit._results import (
    DeliveryFailure,
    DeliveryReport,
    InvitationPreview,
    JoinInvitationBatch,
)
from licensekit._usecases._v1compat import V1Tx as Transaction
from licensekit._users import UsersService
from licensekit.codes import new_token
from licensekit.emails import (
    RejectedEmail,
    parse_emails,
)
from licensekit.exceptions import (
    ConflictError,
    InvalidCredentials,
    InvitationEmailMismatch,
    InvitationNotFound,
    TooManyAttempts,
    ValidationError,
)
from licensekit.mail import (
    Message,
    render_join_invitation,
)
from licensekit.model import (
    AuditAction,
    BusinessAccount,
    DeliveryStatus,
    InvitationState,
    JoinInvitation,
    JoinInvitationView,
    MemberStatus,
    Page,
    Session,
    SessionMethod,
    User,
)
from licensekit.roles import Permission
from licensekit.throttling import (
    ThrottledSecret,
    client_key,
)

__all__ = ["AccountsService"]


@attrs.frozen
class _JoinSecret:
    """A join invitation's id and token, with the token's hash and ciphertext."""

    invitation_id: str
    token: str = attrs.field(repr=False)
    token_hash: bytes = attrs.field(repr=False)
    token_ciphertext: bytes = attrs.field(repr=False)


class AccountsService(UsersService):
    """Business accounts and members, and join invitations."""

    # == sessions and business accounts ======================================================

    # == business accounts and members =======================================================

    # == join invitations ===================================================================

    def invite_members(
        self,
        session: Session | str,
        account_id: str,
        emails: Iterable[str],
        *,
        language: str = "en",
        expires_in: dt.timedelta | str | None = None,
        send: bool = True,
    ) -> JoinInvitationBatch:
        """Invite people to join a business account, one invitation and email each.

        Invalid addresses, repeats, current members, blocked members and people with a
        pending invitation are skipped and reported; everyone else is invited, all in one
        transaction. Emails are sent after the invitations are stored; a failed email leaves
        its invitation pending and is reported in :attr:`JoinInvitationBatch.undelivered`.

        Args:
            session: The caller, an Account Administrator of *account_id*.
            account_id: The business account.
            emails: Addresses as typed; blanks are ignored.
            language: BCP 47 tag of the email's language.
            expires_in: Time until the invitations expire: a timedelta, or a key of
                :data:`EXPIRY_PRESETS` such as ``"7d"`` (default from :class:`Settings`).
            send: Send the emails now; with False, send them later with
                :meth:`send_join_invitations`.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            ValidationError: Unsupported language, bad expiry, or too many addresses.
        """
        language = self.templates.resolve(language)
        lifetime = self._check_lifetime(expires_in)
        parsed = parse_emails(_bounded_entries(emails, self.settings.max_batch_size))
        now = self.clock.now()
        # Secrets are made before the transaction, so the store is not held during crypto.
        secrets_by_email = {email: self._new_join_secret(now) for email in parsed.emails}
        skipped = [*parsed.rejected, *parsed.duplicates]
        created: list[JoinInvitation] = []
        # Invitations to be sent now are stored claimed by this call (see _claim).
        delivery = DeliveryStatus.SENDING if send else DeliveryStatus.NOT_SENT
        with self._transaction() as tx:
            record, _ = self._authorize(tx, session, account_id, Permission.INVITE_MEMBERS, now)
            account = self._account(tx, account_id)
            inviter = self._user(tx, record.user_id)
            for row, email in zip(parsed.rows, parsed.emails, strict=True):
                reason = self._why_not_invite(tx, account_id, email, now)
                if reason is not None:
                    skipped.append(RejectedEmail(row, email, reason))
                    continue
                secret = secrets_by_email[email]
                created.append(
                    JoinInvitation(
                        id=secret.invitation_id,
                        account_id=account_id,
                        email=email,
                        language=language,
                        invited_by=record.user_id,
                        created_at=now,
                        expires_at=now + lifetime,
                        token_hash=secret.token_hash,
                        token_ciphertext=secret.token_ciphertext,
                        delivery=delivery,
                        delivery_started_at=now if send else None,
                    )
                )
            tx.add_join_invitations(created)
            tx.add_audit_events(
                [
                    self._event(
                        now,
                        account_id,
                        record.user_id,
                        AuditAction.INVITATION_CREATED,
                        i.id,
                        email=i.email,
                        language=language,
                        expires_at=i.expires_at.isoformat(),
                    )
                    for i in created
                ]
            )
        undelivered: list[DeliveryFailure] = []
        if send and created:
            sent, _, undelivered = self._deliver_and_record(
                [
                    (
                        i,
                        partial(
                            self._join_message, i, secrets_by_email[i.email].token, account, inviter
                        ),
                    )
                    for i in created
                ],
                lambda tx, d, f: self._record_join_delivery(tx, d, f, now, record.user_id),
            )
            created = [sent.get(i.id, i) for i in created]
        skipped.sort(key=lambda r: r.row)
        return JoinInvitationBatch(
            invited=tuple(JoinInvitationView.of(i, now) for i in created),
            skipped=tuple(skipped),
            undelivered=tuple(undelivered),
        )

    def list_join_invitations(
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
        limit = self._check_limit(limit)
        after = _check_cursor(cursor, "jinv")
        wanted = None if state is None else _parse_enum(InvitationState, state, "state")
        now = self.clock.now()
        with self._transaction() as tx:
            self._authorize(tx, session, account_id, Permission.INVITE_MEMBERS, now)

            def fetch(after: str | None, n: int) -> Sequence[JoinInvitation]:
                return tx.list_join_invitations(account_id, after=after, limit=n)

            page = _filtered_page(
                fetch,
                lambda i: i.id,
                lambda i: wanted is None or i.state(now) is wanted,
                after,
                limit,
            )
        return Page(tuple(JoinInvitationView.of(i, now) for i in page.items), page.next_cursor)

    def revoke_join_invitation(
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
        now = self.clock.now()
        with self._transaction() as tx:
            record, _ = self._authorize(tx, session, account_id, Permission.INVITE_MEMBERS, now)
            invitation = self._invitation(tx, account_id, invitation_id)
            revoked = members.revoke_invitation(invitation, actor_id=record.user_id, now=now)
            tx.save_join_invitation(revoked)
            self._audit(
                tx,
                now,
                account_id,
                record.user_id,
                AuditAction.INVITATION_REVOKED,
                invitation_id,
                email=invitation.email,
            )
        return JoinInvitationView.of(revoked, now)

    def resend_join_invitation(
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
            DeliveryError: The mailer failed; the failure is stored on the invitation.
        """
        now = self.clock.now()
        with self._transaction() as tx:
            record, _ = self._authorize(tx, session, account_id, Permission.INVITE_MEMBERS, now)
            invitation = self._invitation(tx, account_id, invitation_id)
            members.check_invitation_usable(invitation, now)
            token = self._keys.decrypt(invitation.token_ciphertext, bound_to=invitation.id)
            message = self._join_message(
                invitation,
                token,
                self._account(tx, account_id),
                self._user(tx, invitation.invited_by),
            )
        error = self._try_send(message)
        delivered, failed = self._outcome(invitation, error)
        # Record what happened even if the invitation was revoked meanwhile: the email is out
        # (the revoked link will not work), or the attempt failed.
        sent = self._after_sending(
            lambda tx: self._record_join_delivery(tx, delivered, failed, now, record.user_id)
        )
        if error is not None:
            raise error
        return JoinInvitationView.of(sent[invitation_id], now)

    def send_join_invitations(
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
        """
        wanted = None if invitation_ids is None else _id_list(invitation_ids, "invitation_ids")
        now = self.clock.now()
        with self._transaction() as tx:
            record, _ = self._authorize(tx, session, account_id, Permission.INVITE_MEMBERS, now)
            if wanted is None:
                invitations = _scan_all(
                    lambda after, n: tx.list_join_invitations(account_id, after=after, limit=n)
                )
            else:
                invitations = [self._invitation(tx, account_id, i) for i in wanted]
            chosen = self._claim(
                [
                    i
                    for i in invitations
                    if i.state(now) is InvitationState.PENDING and self._due_for_delivery(i, now)
                ],
                now,
                tx.save_join_invitations,
            )
            account = self._account(tx, account_id)
            inviters = {u: self._user(tx, u) for u in {i.invited_by for i in chosen}}

        def render(invitation: JoinInvitation) -> Message:
            token = self._keys.decrypt(invitation.token_ciphertext, bound_to=invitation.id)
            return self._join_message(invitation, token, account, inviters[invitation.invited_by])

        stored, delivered, failed = self._deliver_and_record(
            [(i, partial(render, i)) for i in chosen],
            lambda tx, d, f: self._record_join_delivery(tx, d, f, now, record.user_id),
        )
        return DeliveryReport(
            sent=tuple(JoinInvitationView.of(stored[i.id], now) for i in delivered),
            undelivered=tuple(failed),
        )

    def describe_join_invitation(self, token: str, *, client: str = "") -> InvitationPreview:
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
        """
        now = self.clock.now()
        invitation = self._find_invitation_by_token(token, client, now)
        with self._transaction() as tx:
            account = self._account(tx, invitation.account_id)
            inviter = tx.get_user(invitation.invited_by)
            user = tx.find_user_by_email(invitation.email)
        return InvitationPreview(
            invitation_id=invitation.id,
            account_id=account.id,
            account_name=account.name,
            email=invitation.email,
            inviter_email=inviter.email if inviter is not None else "",
            expires_at=invitation.expires_at,
            user_exists=user is not None,
            needs_current_password=user is not None and _asks_current_password(user),
        )

    def accept_join_invitation(
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
            ValidationError: Neither a password nor a session was given, or both were.
            InvalidSession: The *session* given is unknown, logged out or expired.
            MemberBlocked: The invitee is blocked in the account.
            AlreadyMember: The invitee is an active member already.
            TooManyAttempts: Too many wrong tokens or passwords.
        """
        now = self.clock.now()
        invitation = self._find_invitation_by_token(token, client, now)
        name = _clean_name(name, "name", required=False)
        if session is not None and password is not None:
            raise ValidationError("give either a password or a session to accept, not both")
        if session is None and password is None:
            raise ValidationError("give the password of your account, or choose one")
        # What the acceptance writes to the personal account: a new user, or a new password.
        new_user: User | None = None
        chosen_hash: str | None = None
        checked: User | None = None  # the proven account as its password was checked
        user_id: str
        if session is not None:
            with self._transaction() as tx:
                record = self._resolve_session(tx, session, now)
                user = self._user(tx, record.user_id)
            if user.email != invitation.email:
                raise InvitationEmailMismatch(
                    "this invitation was sent to another email address than yours"
                )
            user_id = user.id
        else:
            password = _require_text(password, "password")
            with self._transaction() as tx:
                existing = tx.find_user_by_email(invitation.email)
            if existing is None:
                new_user = User(
                    id=new_id("usr", now),
                    email=invitation.email,
                    created_at=now,
                    password_hash=self.passwords.hash(password),
                    name=name,
                    email_verified_at=now,
                )
                user_id = new_user.id
            elif _asks_current_password(existing):
                checked = self._verify_password(existing.email, password, now)
                if checked is None and existing.password_hash is None:
                    raise InvalidCredentials(
                        "this personal account has no password: accept from a session of it "
                        "(single sign-on), or choose a password with a password reset first"
                    )
                if checked is None:
                    raise InvalidCredentials("wrong password for the existing account")
                user_id = existing.id
            else:
                chosen_hash = self.passwords.hash(password)
                user_id = existing.id
        with self._transaction() as tx:
            current = tx.get_join_invitation(invitation.id)
            if current is None:  # pragma: no cover - invitations are never deleted
                raise InvitationNotFound("the invitation no longer exists")
            accepted = members.accept_invitation(current, user_id=user_id, now=now)
            if session is not None:
                record = self._resolve_session(tx, session, now)  # not logged out meanwhile
            if new_user is not None:
                self._add_user(tx, new_user, hint="sign in with its password to accept")
            user = self._user(tx, user_id)
            if chosen_hash is not None and _asks_current_password(user):
                raise ConflictError("the account was proven meanwhile; accept again")
            if checked is not None and user.password_hash != checked.password_hash:
                # Replaced (reset) while it was being checked: no longer the account's.
                raise InvalidCredentials("wrong password for the existing account")
            if not user.email_verified:
                if chosen_hash is not None:
                    user = attrs.evolve(user, password_hash=chosen_hash)
                # Through a session, the password stays only if that session was opened with it.
                keep = chosen_hash is not None or (
                    session is not None and record.method is SessionMethod.PASSWORD
                )
                user = self._prove(tx, user, now, keep_password=keep)
            joined = members.join(
                tx.get_membership(current.account_id, user_id),
                account_id=current.account_id,
                user_id=user_id,
                now=now,
            )
            tx.save_join_invitation(accepted)
            tx.save_membership(joined)
            self._audit(
                tx,
                now,
                current.account_id,
                user_id,
                AuditAction.INVITATION_ACCEPTED,
                current.id,
                email=current.email,
            )
            return self._issue_session(tx, user, SessionMethod.INVITATION, now)

    def _invitation(self, tx: Transaction, account_id: str, invitation_id: str) -> JoinInvitation:
        wanted = _as_id(invitation_id)
        invitation = None if wanted is None else tx.get_join_invitation(wanted)
        if invitation is None or invitation.account_id != account_id:
            raise InvitationNotFound(
                f"no invitation {echo(invitation_id)} in business account {echo(account_id)}"
            )
        return invitation

    def _why_not_invite(
        self, tx: Transaction, account_id: str, email: str, now: dt.datetime
    ) -> str | None:
        user = tx.find_user_by_email(email)
        if user is not None:
            membership = tx.get_membership(account_id, user.id)
            if membership is not None and membership.status is MemberStatus.ACTIVE:
                return "already a member of this account"
            if membership is not None and membership.status is MemberStatus.BLOCKED:
                return "blocked in this account; unblock them instead"
        for invitation in tx.list_join_invitations_for_email(account_id, email):
            if invitation.state(now) is InvitationState.PENDING:
                return f"already has a pending invitation ({invitation.id}); resend it instead"
        return None

    def _join_message(
        self,
        invitation: JoinInvitation,
        token: str,
        account: BusinessAccount,
        inviter: User,
    ) -> Message:
        return render_join_invitation(
            templates=self.templates,
            to=invitation.email,
            account_name=account.name,
            inviter_email=inviter.email,
            link=self._join_url.replace(_TOKEN_PLACEHOLDER, token),
            token=token,
            expires_at=invitation.expires_at,
            language=invitation.language,
            service_name=self.settings.service_name,
        )

    def _record_join_delivery(
        self,
        tx: Transaction,
        delivered: Sequence[JoinInvitation],
        failed: Sequence[DeliveryFailure],
        now: dt.datetime,
        actor_id: str,
    ) -> dict[str, JoinInvitation]:
        return self._record_delivery(
            tx,
            delivered,
            failed,
            now,
            actor_id,
            tx.get_join_invitations,
            tx.save_join_invitations,
            (AuditAction.INVITATION_SENT, AuditAction.INVITATION_UNDELIVERED),
        )

    def _new_join_secret(self, now: dt.datetime) -> _JoinSecret:
        invitation_id = new_id("jinv", now)
        token = new_token()
        return _JoinSecret(
            invitation_id=invitation_id,
            token=token,
            token_hash=self._keys.lookup_hash("join", token),
            token_ciphertext=self._keys.encrypt(token, bound_to=invitation_id),
        )

    def _find_invitation_by_token(
        self, token: object, client: str, now: dt.datetime
    ) -> JoinInvitation:
        """Return the invitation of a join link's *token*, if it can still be accepted.

        Unknown tokens count per *client*, when one is named; a known token passes even a
        locked client (see :func:`~licensekit.throttling.judge_guess`).
        """
        client = _plain_text(client, "client").strip()
        if not isinstance(token, str):
            raise InvitationNotFound("this invitation link is not valid")
        policy = self.settings.token_throttle
        counters = [(client_key(ThrottledSecret.JOIN_LINK, client), policy)] if client else []
        with self._transaction() as tx:
            invitation = tx.find_join_invitation_by_token_hash(
                self._keys.lookup_hash("join", token.strip())
            )
            until = throttle_guess(tx, counters, found=invitation is not None, now=now)
        if until is not None:
            raise TooManyAttempts("invitation links from this client", until)
        if invitation is None:
            raise InvitationNotFound("this invitation link is not valid")
        members.check_invitation_usable(invitation, now)
        return invitation


def _asks_current_password(user: User) -> bool:
    """True when only the holder of *user*'s current password may accept for them.

    That is a proven account: it belongs to the owner of the address, and a link alone
    (which may have been forwarded) does not hand it over, nor give it a password it does
    not have. For an unproven one, the invitation link itself proves the address, and the
    invitee chooses the password.
    """
    return user.email_verified
