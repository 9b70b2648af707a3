"""The use cases: one facade, :class:`LicenseKit`, over a store, a mailer and a clock.

Every method follows the same shape: read the clock once, do slow or CPU-bound work (password
hashing, token generation) outside the store's transaction, then open one transaction, load
what the rules need, call the pure rules of :mod:`licensekit.members` and
:mod:`licensekit.roles`, and write the result. Emails are sent after the transaction commits,
so an invitation is never lost to a mail failure.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

import attrs

from licensekit import members, roles
from licensekit._ids import new_id
from licensekit._validators import positive, positive_timedelta
from licensekit.clock import Clock, SystemClock
from licensekit.codes import SecretKeys, new_token
from licensekit.emails import RejectedEmail, normalize_email, parse_emails
from licensekit.exceptions import (
    AccountNotFound,
    DeliveryError,
    DuplicateKey,
    EmailAlreadyRegistered,
    InvalidCredentials,
    InvalidCursor,
    InvalidSession,
    InvitationEmailMismatch,
    InvitationNotFound,
    MemberNotFound,
    TooManyAttempts,
    UserNotFound,
    ValidationError,
)
from licensekit.mail import Mailer, Message, check_language, render_join_invitation
from licensekit.model import (
    AuditAction,
    AuditEvent,
    BusinessAccount,
    InvitationState,
    JoinInvitation,
    JoinInvitationView,
    Membership,
    MemberStatus,
    MemberView,
    Page,
    Role,
    Session,
    SessionMethod,
    SessionRecord,
    User,
)
from licensekit.passwords import PasswordHasher
from licensekit.roles import Permission
from licensekit.storage import Store, Transaction
from licensekit.throttling import ThrottlePolicy, locked_until, record_failure

__all__ = [
    "AccountMembership",
    "DeliveryFailure",
    "InvitationPreview",
    "JoinInvitationBatch",
    "LicenseKit",
    "PurgeReport",
    "Settings",
]

T = TypeVar("T")
_TOKEN_PLACEHOLDER = "{token}"  # noqa: S105 - a template field, not a secret
_MAX_NAME = 200
_MAX_NOTES = 2000


@attrs.frozen
class Settings:
    """Tunable behaviour of :class:`LicenseKit`; every field has a safe default.

    Attributes:
        service_name: How the host's service names itself in emails.
        session_lifetime: How long a session works after it is issued.
        invitation_lifetime: Default time before a join invitation expires.
        max_invitation_lifetime: The longest expiry an administrator may choose.
        max_batch_size: The most addresses one invitation call accepts.
        max_page_size: The largest ``limit`` a listing accepts.
        password_throttle: Wrong passwords tolerated per email before a lock-out.
        token_throttle: Unknown invitation tokens tolerated per client before a lock-out
            (applies when the host names the client, see
            :meth:`LicenseKit.accept_join_invitation`). There is deliberately no limit across
            all clients: tokens carry 192 bits, so guessing is hopeless anyway, and a global
            lock-out would let anyone disable every valid link.
    """

    service_name: str = "licensekit"
    session_lifetime: dt.timedelta = attrs.field(default=dt.timedelta(hours=12), validator=positive)
    invitation_lifetime: dt.timedelta = attrs.field(
        default=dt.timedelta(days=7), validator=positive
    )
    max_invitation_lifetime: dt.timedelta = attrs.field(
        default=dt.timedelta(days=90), validator=positive
    )
    max_batch_size: int = attrs.field(default=10_000, validator=positive)
    max_page_size: int = attrs.field(default=500, validator=positive)
    password_throttle: ThrottlePolicy = attrs.field(factory=ThrottlePolicy)
    token_throttle: ThrottlePolicy = attrs.field(factory=lambda: ThrottlePolicy(max_failures=10))


@attrs.frozen
class DeliveryFailure:
    """An invitation that was stored but whose email could not be handed over.

    Attributes:
        email: The recipient.
        invitation_id: The stored invitation; resend it later.
        reason: What the mailer said.
        permanent: Whether retrying can help.
    """

    email: str
    invitation_id: str
    reason: str
    permanent: bool


@attrs.frozen
class JoinInvitationBatch:
    """What one call to :meth:`LicenseKit.invite_members` did.

    Attributes:
        invited: The invitations created, in input order.
        skipped: Entries not invited, each with its 1-based position in the input and the
            reason: invalid address, duplicate in the list, already a member, blocked, or
            already holding a pending invitation. ``text`` is the entry as typed for invalid
            entries and duplicates, and the normalised address for the other reasons.
        undelivered: Invitations created whose email failed; they stay pending.
    """

    invited: tuple[JoinInvitationView, ...]
    skipped: tuple[RejectedEmail, ...] = ()
    undelivered: tuple[DeliveryFailure, ...] = ()


@attrs.frozen
class InvitationPreview:
    """What an invitation link leads to, for the host's acceptance page.

    Attributes:
        invitation_id: The invitation.
        account_id: The business account to join.
        account_name: Its name.
        email: Who the invitation is for.
        inviter_email: Who sent it.
        expires_at: When it stops working.
        user_exists: True when the invitee already has a personal account (ask for their
            current password), False when they must choose one.
    """

    invitation_id: str
    account_id: str
    account_name: str
    email: str
    inviter_email: str
    expires_at: dt.datetime
    user_exists: bool


@attrs.frozen
class PurgeReport:
    """What :meth:`LicenseKit.purge_expired` deleted.

    Attributes:
        sessions: Expired sessions.
        throttles: Throttling records whose window and lock-out were over.
    """

    sessions: int
    throttles: int


@attrs.frozen
class AccountMembership:
    """One of the caller's own memberships, as seen from a given session.

    Attributes:
        account_id: The business account.
        account_name: Its name.
        role: The role recorded in the membership now.
        effective_role: The role this session acts with (a promotion shows here only in a
            session issued after it).
        status: Active or blocked.
    """

    account_id: str
    account_name: str
    role: Role
    effective_role: Role
    status: MemberStatus


@attrs.frozen
class _JoinSecret:
    """A join invitation's id and token, with the token's hash and ciphertext."""

    invitation_id: str
    token: str = attrs.field(repr=False)
    token_hash: bytes = attrs.field(repr=False)
    token_ciphertext: bytes = attrs.field(repr=False)


class LicenseKit:
    """The licensekit use cases over a store, a mailer and a clock.

    Args:
        store: Where records live (see :class:`licensekit.storage.Store`).
        mailer: Delivers emails (see :class:`licensekit.mail.Mailer`).
        secret: The host's secret, at least 32 bytes; keys for token hashes and encryption are
            derived from it. Keep it out of the store.
        join_url: Template of the link in join invitations; ``{token}`` is replaced by the
            invitation's token, e.g. ``"https://portal.example.com/join?token={token}"``.
        clock: The source of time; the system clock when omitted.
        password_hasher: Argon2id hasher; OWASP's parameters when omitted.
        settings: Lifetimes, limits and throttling; see :class:`Settings`.

    Attributes:
        store: The store given.
        mailer: The mailer given.
        clock: The clock in use.
        passwords: The password hasher in use.
        settings: The settings in use.

    One instance may serve many threads at once, provided its store and mailer may too (the
    shipped ones can). Every method reads the time once and works in its own transactions.

    Raises:
        ValidationError: The secret is too short or not bytes or text, or *join_url* does
            not hold ``{token}`` exactly once.
    """

    def __init__(
        self,
        store: Store,
        mailer: Mailer,
        *,
        secret: bytes | str,
        join_url: str,
        clock: Clock | None = None,
        password_hasher: PasswordHasher | None = None,
        settings: Settings | None = None,
    ) -> None:
        if join_url.count(_TOKEN_PLACEHOLDER) != 1:
            raise ValidationError(f"join_url must contain {_TOKEN_PLACEHOLDER} exactly once")
        self.store = store
        self.mailer = mailer
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.passwords = password_hasher if password_hasher is not None else PasswordHasher()
        self.settings = settings if settings is not None else Settings()
        self._keys = SecretKeys(secret)
        self._join_url = join_url

    def __repr__(self) -> str:
        return f"LicenseKit(store={self.store!r}, mailer={self.mailer!r}, clock={self.clock!r})"

    # == users and sessions =================================================================

    def register_user(self, email: str, password: str, *, name: str = "") -> User:
        """Create a personal account.

        Raises:
            InvalidEmail: *email* is not a valid address.
            InvalidPassword: *password* breaks the password policy.
            EmailAlreadyRegistered: A user with that email exists.
        """
        email = normalize_email(email)
        name = _clean_name(name, "name", required=False)
        password_hash = self.passwords.hash(password)
        now = self.clock.now()
        user = User(
            id=new_id("usr", now),
            email=email,
            created_at=now,
            password_hash=password_hash,
            name=name,
        )
        with self.store.transaction() as tx:
            self._add_user(tx, user)
        return user

    def log_in(self, email: str, password: str) -> Session:
        """Check an email and password and return a new session.

        The session carries the user's current roles; see :mod:`licensekit.roles` for why a
        promotion needs a new log-in. After too many wrong passwords for one email, log-ins
        for it are refused for a while. When the password hashing parameters have changed
        since the user's hash was made, the hash is renewed.

        Raises:
            InvalidEmail: *email* is not a valid address.
            InvalidCredentials: No such user, or the password is wrong.
            TooManyAttempts: The email is locked out after repeated failures.
        """
        email = normalize_email(email)
        password = _require_text(password, "password")
        now = self.clock.now()
        user = self._verify_password(email, password, now)
        if user is None:
            raise InvalidCredentials("wrong email or password")
        renewed = None
        if user.password_hash is not None and self.passwords.needs_rehash(user.password_hash):
            renewed = self.passwords.hash(password)
        with self.store.transaction() as tx:
            current = self._user(tx, user.id)
            if renewed is not None and current.password_hash == user.password_hash:
                current = attrs.evolve(current, password_hash=renewed)
                tx.save_user(current)
            return self._issue_session(tx, current, SessionMethod.PASSWORD, now)

    def trusted_session(self, email: str, *, create: bool = False, name: str = "") -> Session:
        """Return a session for a user the host has authenticated itself (single sign-on).

        No password is checked: call this only after your own authentication (an OpenID
        Connect or SAML log-in, say) has proved who the person is. Rights follow the same
        rules as a password session.

        Args:
            email: The authenticated email address.
            create: Create a personal account without a password when none exists.
            name: Display name for a user created here.

        Raises:
            InvalidEmail: *email* is not a valid address.
            UserNotFound: No user has that email and *create* is false.
        """
        email = normalize_email(email)
        name = _clean_name(name, "name", required=False)
        now = self.clock.now()
        with self.store.transaction() as tx:
            user = tx.find_user_by_email(email)
            if user is None:
                if not create:
                    raise UserNotFound(f"no user with email {email!r}")
                user = User(id=new_id("usr", now), email=email, created_at=now, name=name)
                self._add_user(tx, user)
            return self._issue_session(tx, user, SessionMethod.TRUSTED, now)

    def log_out(self, session: Session | str) -> None:
        """End a session; its token stops working at once. Unknown tokens are ignored."""
        with self.store.transaction() as tx:
            record = tx.find_session_by_token_hash(self._session_hash(session))
            if record is not None:
                tx.delete_session(record.id)

    def purge_expired(self) -> PurgeReport:
        """Delete expired sessions and spent throttling records. Run it now and then.

        Throttling records hold emails and client identifiers; purging keeps them no longer
        than their window or lock-out needs.
        """
        now = self.clock.now()
        with self.store.transaction() as tx:
            return PurgeReport(
                sessions=tx.delete_sessions_expired_before(now),
                throttles=tx.delete_throttles_expired_before(now),
            )

    def list_my_accounts(self, session: Session | str) -> tuple[AccountMembership, ...]:
        """Return the caller's active and blocked memberships, with this session's roles.

        Raises:
            InvalidSession: The session is unknown or expired.
        """
        now = self.clock.now()
        with self.store.transaction() as tx:
            record = self._resolve_session(tx, session, now)
            result = []
            for membership in tx.list_user_memberships(record.user_id):
                if membership.status is MemberStatus.REMOVED:
                    continue
                account = tx.get_account(membership.account_id)
                if account is None:
                    continue
                result.append(
                    AccountMembership(
                        account_id=account.id,
                        account_name=account.name,
                        role=membership.role,
                        effective_role=roles.effective_role(record.admin_grants, membership),
                        status=membership.status,
                    )
                )
            return tuple(result)

    # == business accounts and members =======================================================

    def create_business_account(self, session: Session | str, name: str) -> BusinessAccount:
        """Create a business account; the caller becomes its first Account Administrator.

        The caller's session gains the administrator role in the new account at once.

        Raises:
            InvalidSession: The session is unknown or expired.
            ValidationError: *name* is empty or too long.
        """
        name = _clean_name(name, "account name", required=True)
        now = self.clock.now()
        with self.store.transaction() as tx:
            record = self._resolve_session(tx, session, now)
            account = BusinessAccount(
                id=new_id("acc", now), name=name, created_at=now, created_by=record.user_id
            )
            tx.add_account(account)
            tx.save_membership(
                Membership(
                    account_id=account.id,
                    user_id=record.user_id,
                    role=Role.ACCOUNT_ADMINISTRATOR,
                    status=MemberStatus.ACTIVE,
                    joined_at=now,
                    updated_at=now,
                    admin_grant=1,
                )
            )
            tx.save_session(
                attrs.evolve(record, admin_grants={**record.admin_grants, account.id: 1})
            )
            self._audit(
                tx,
                now,
                account.id,
                record.user_id,
                AuditAction.ACCOUNT_CREATED,
                account.id,
                name=name,
            )
        return account

    def list_members(
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
        limit = self._check_limit(limit)
        after = _check_cursor(cursor, "usr")
        now = self.clock.now()
        with self.store.transaction() as tx:
            self._authorize(tx, session, account_id, Permission.LIST_MEMBERS, now)

            def fetch(after: str | None, n: int) -> Sequence[Membership]:
                return tx.list_memberships(account_id, after=after, limit=n)

            page = _filtered_page(
                fetch,
                lambda m: m.user_id,
                lambda m: include_removed or m.status is not MemberStatus.REMOVED,
                after,
                limit,
            )
            return Page(tuple(self._member_view(tx, m) for m in page.items), page.next_cursor)

    def get_member(self, session: Session | str, account_id: str, user_id: str) -> MemberView:
        """Return one member of an account, with their role, status and the last notes.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            MemberNotFound: *user_id* is not a member of *account_id*.
        """
        now = self.clock.now()
        with self.store.transaction() as tx:
            self._authorize(tx, session, account_id, Permission.LIST_MEMBERS, now)
            return self._member_view(tx, self._target(tx, account_id, user_id))

    def change_role(
        self,
        session: Session | str,
        account_id: str,
        user_id: str,
        role: Role,
        *,
        notes: str = "",
    ) -> MemberView:
        """Set a member's role, recording who changed it, when, and *notes*.

        A promotion takes effect at the member's next log-in; a demotion at once.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            MemberNotFound: *user_id* is not a member of *account_id*.
            LastAdministrator: The change would demote the last Account Administrator.
        """
        role = _parse_enum(Role, role, "role")
        notes = _clean_notes(notes)
        return self._change_member(
            session,
            account_id,
            user_id,
            AuditAction.ROLE_CHANGED,
            lambda target, actor, now, admins: members.change_role(
                target, role, actor_id=actor, now=now, notes=notes, active_administrators=admins
            ),
            notes,
        )

    def block_member(
        self, session: Session | str, account_id: str, user_id: str, *, notes: str = ""
    ) -> MemberView:
        """Block a member: they stay listed but can do nothing in the account, at once.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            MemberNotFound: *user_id* is not a member of *account_id*.
            ConflictError: The member is already blocked.
            LastAdministrator: The member is the last Account Administrator.
        """
        notes = _clean_notes(notes)
        return self._change_member(
            session,
            account_id,
            user_id,
            AuditAction.MEMBER_BLOCKED,
            lambda target, actor, now, admins: members.block_member(
                target, actor_id=actor, now=now, notes=notes, active_administrators=admins
            ),
            notes,
        )

    def unblock_member(
        self, session: Session | str, account_id: str, user_id: str, *, notes: str = ""
    ) -> MemberView:
        """Unblock a member; they get back the role they had.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            MemberNotFound: *user_id* is not a member of *account_id*.
            ConflictError: The member is not blocked.
        """
        notes = _clean_notes(notes)
        return self._change_member(
            session,
            account_id,
            user_id,
            AuditAction.MEMBER_UNBLOCKED,
            lambda target, actor, now, admins: members.unblock_member(
                target, actor_id=actor, now=now, notes=notes
            ),
            notes,
        )

    def remove_member(
        self, session: Session | str, account_id: str, user_id: str, *, notes: str = ""
    ) -> MemberView:
        """End a membership at once. The person can be invited again later.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            MemberNotFound: *user_id* is not a member of *account_id*.
            LastAdministrator: The member is the last Account Administrator.
        """
        notes = _clean_notes(notes)
        return self._change_member(
            session,
            account_id,
            user_id,
            AuditAction.MEMBER_REMOVED,
            lambda target, actor, now, admins: members.remove_member(
                target, actor_id=actor, now=now, notes=notes, active_administrators=admins
            ),
            notes,
        )

    def leave_account(self, session: Session | str, account_id: str) -> None:
        """End the caller's own membership in *account_id*.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            MemberBlocked: The caller is blocked there (a block is not escaped by leaving).
            LastAdministrator: The caller is its last Account Administrator.
        """
        now = self.clock.now()
        with self.store.transaction() as tx:
            record, membership = self._authorize(
                tx, session, account_id, Permission.VIEW_ACCOUNT, now
            )
            left = members.remove_member(
                membership,
                actor_id=record.user_id,
                now=now,
                notes="",
                active_administrators=tx.count_active_administrators(account_id),
            )
            tx.save_membership(left)
            self._audit(
                tx, now, account_id, record.user_id, AuditAction.MEMBER_LEFT, record.user_id
            )

    def list_audit_events(
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
        limit = self._check_limit(limit)
        after = _check_cursor(cursor, "evt")
        now = self.clock.now()
        with self.store.transaction() as tx:
            self._authorize(tx, session, account_id, Permission.VIEW_AUDIT, now)
            events = tx.list_audit_events(account_id, after=after, limit=limit + 1)
        items = tuple(events[:limit])
        return Page(items, items[-1].id if len(events) > limit else None)

    # == join invitations ===================================================================

    def invite_members(
        self,
        session: Session | str,
        account_id: str,
        emails: Iterable[str],
        *,
        language: str = "en",
        expires_in: dt.timedelta | None = None,
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
            expires_in: Time until the invitations expire (default from :class:`Settings`).
            send: Send the emails now; with False, send later with
                :meth:`resend_join_invitation`.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is not an Account Administrator.
            ValidationError: Unsupported language, bad expiry, or too many addresses.
        """
        language = check_language(language)
        lifetime = self._check_lifetime(expires_in)
        if isinstance(emails, str):
            raise ValidationError("emails must be a collection of addresses, not one string")
        entries: list[object] = list(emails)
        given = sum(1 for e in entries if not isinstance(e, str) or bool(e.strip()))
        if given > self.settings.max_batch_size:
            raise ValidationError(
                f"{given} addresses exceed the limit of {self.settings.max_batch_size} per call"
            )
        parsed = parse_emails(entries)
        now = self.clock.now()
        # Secrets are made before the transaction, so the store is not held during crypto.
        secrets_by_email = {email: self._new_join_secret(now) for email in parsed.emails}
        skipped = [*parsed.rejected, *parsed.duplicates]
        created: list[JoinInvitation] = []
        with self.store.transaction() as tx:
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
            messages = [
                (i, self._join_message(i, secrets_by_email[i.email].token, account, inviter))
                for i in created
            ]
            delivered, undelivered = self._deliver(messages)
            if delivered:
                with self.store.transaction() as tx:
                    sent = {i.id: i for i in self._mark_sent(tx, delivered, now)}
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
        with self.store.transaction() as tx:
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
        with self.store.transaction() as tx:
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
            DeliveryError: The mailer failed; nothing was recorded.
        """
        now = self.clock.now()
        with self.store.transaction() as tx:
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
        self._send(message)
        # The email is out: record it even if the invitation was revoked meanwhile, because
        # that is what happened (the revoked link will not work).
        with self.store.transaction() as tx:
            (sent,) = self._mark_sent(tx, [invitation], now)
            self._audit(
                tx,
                now,
                account_id,
                record.user_id,
                AuditAction.INVITATION_SENT,
                invitation_id,
                email=invitation.email,
                sent_count=str(sent.sent_count),
            )
        return JoinInvitationView.of(sent, now)

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
        with self.store.transaction() as tx:
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

        * they have a personal account: give its current *password*;
        * they have none: give the *password* they choose (and optionally a *name*); the
          personal account is created;
        * the host already authenticated them: pass their *session*; its email must be the
          invitation's.

        Either way they join as a Regular Member.

        Args:
            token: The token from the invitation link.
            password: The existing account's password, or the new account's chosen one.
            session: A session of the invitee, for hosts that authenticate people themselves.
            name: Display name for a newly created personal account.
            client: An identifier of the requesting client (an IP address, say). When
                given, unknown tokens are throttled per client (see
                :attr:`Settings.token_throttle`); without it they are not throttled.

        Raises:
            InvitationNotFound: The token matches no invitation.
            InvitationError: The invitation is accepted, revoked or expired, or addressed to
                another email than the session's.
            InvalidCredentials: The existing account's password is wrong.
            InvalidPassword: A new password breaks the policy.
            ValidationError: Neither a password nor a session was given, or both were.
            InvalidSession: The *session* given is unknown, logged out or expired.
            MemberBlocked: The invitee is blocked in the account.
            AlreadyMember: The invitee is an active member already.
            TooManyAttempts: Too many wrong tokens or passwords.
        """
        now = self.clock.now()
        invitation = self._find_invitation_by_token(token, client, now)
        name = _clean_name(name, "name", required=False)
        new_user: User | None = None
        user_id: str
        if session is not None and password is not None:
            raise ValidationError("give either a password or a session to accept, not both")
        if session is not None:
            with self.store.transaction() as tx:
                record = self._resolve_session(tx, session, now)
                user = self._user(tx, record.user_id)
            if user.email != invitation.email:
                raise InvitationEmailMismatch(
                    "this invitation was sent to another email address than yours"
                )
            user_id = user.id
        elif password is None:
            raise ValidationError("give the password of your account, or choose one")
        else:
            password = _require_text(password, "password")
            with self.store.transaction() as tx:
                existing = tx.find_user_by_email(invitation.email)
            if existing is not None:
                if self._verify_password(existing.email, password, now) is None:
                    raise InvalidCredentials("wrong password for the existing account")
                user_id = existing.id
            else:
                new_user = User(
                    id=new_id("usr", now),
                    email=invitation.email,
                    created_at=now,
                    password_hash=self.passwords.hash(password),
                    name=name,
                )
                user_id = new_user.id
        with self.store.transaction() as tx:
            current = tx.get_join_invitation(invitation.id)
            if current is None:  # pragma: no cover - invitations are never deleted
                raise InvitationNotFound("the invitation no longer exists")
            accepted = members.accept_invitation(current, user_id=user_id, now=now)
            if session is not None:
                self._resolve_session(tx, session, now)  # not logged out meanwhile
            if new_user is not None:
                self._add_user(tx, new_user, hint="sign in with its password to accept")
            user = self._user(tx, user_id)
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

    # == internals ==========================================================================

    def _add_user(self, tx: Transaction, user: User, hint: str = "") -> None:
        if tx.find_user_by_email(user.email) is not None:
            raise EmailAlreadyRegistered(
                f"a user with email {user.email!r} already exists" + (f"; {hint}" if hint else "")
            )
        try:
            tx.add_user(user)
        except DuplicateKey as e:  # pragma: no cover - a race the check above narrows
            raise EmailAlreadyRegistered(f"a user with email {user.email!r} already exists") from e

    def _issue_session(
        self, tx: Transaction, user: User, method: SessionMethod, now: dt.datetime
    ) -> Session:
        token = new_token()
        active = [m for m in tx.list_user_memberships(user.id) if m.is_active]
        record = SessionRecord(
            id=new_id("ses", now),
            token_hash=self._keys.lookup_hash("session", token),
            user_id=user.id,
            method=method,
            issued_at=now,
            expires_at=now + self.settings.session_lifetime,
            admin_grants={m.account_id: m.admin_grant for m in active if m.is_active_administrator},
        )
        tx.add_session(record)
        return Session(
            token=token,
            id=record.id,
            user_id=user.id,
            email=user.email,
            method=method,
            issued_at=now,
            expires_at=record.expires_at,
            roles={m.account_id: m.role for m in active},
        )

    def _session_hash(self, session: Session | str) -> bytes:
        token = session.token if isinstance(session, Session) else session
        if not isinstance(token, str):
            raise InvalidSession("a session or a session token string is required")
        return self._keys.lookup_hash("session", token)

    def _resolve_session(
        self, tx: Transaction, session: Session | str, now: dt.datetime
    ) -> SessionRecord:
        record = tx.find_session_by_token_hash(self._session_hash(session))
        if record is None:
            raise InvalidSession("the session is unknown or has been logged out")
        if now >= record.expires_at:
            raise InvalidSession(f"the session expired at {record.expires_at.isoformat()}")
        return record

    def _authorize(
        self,
        tx: Transaction,
        session: Session | str,
        account_id: str,
        permission: Permission,
        now: dt.datetime,
    ) -> tuple[SessionRecord, Membership]:
        record = self._resolve_session(tx, session, now)
        membership = tx.get_membership(account_id, record.user_id)
        roles.authorize(record.admin_grants, membership, permission, account_id=account_id)
        assert membership is not None  # noqa: S101 - authorize() raised otherwise
        return record, membership

    def _change_member(
        self,
        session: Session | str,
        account_id: str,
        user_id: str,
        action: AuditAction,
        rule: Callable[[Membership, str, dt.datetime, int], Membership],
        notes: str,
    ) -> MemberView:
        now = self.clock.now()
        with self.store.transaction() as tx:
            record, _ = self._authorize(tx, session, account_id, Permission.MANAGE_MEMBERS, now)
            target = self._target(tx, account_id, user_id)
            changed = rule(target, record.user_id, now, tx.count_active_administrators(account_id))
            tx.save_membership(changed)
            details = {"notes": notes} if notes else {}
            if action is AuditAction.ROLE_CHANGED:
                details.update({"from": target.role.value, "to": changed.role.value})
            self._audit(tx, now, account_id, record.user_id, action, user_id, **details)
            return self._member_view(tx, changed)

    def _target(self, tx: Transaction, account_id: str, user_id: str) -> Membership:
        membership = tx.get_membership(account_id, user_id)
        if membership is None or membership.status is MemberStatus.REMOVED:
            raise MemberNotFound(f"user {user_id!r} is not a member of account {account_id!r}")
        return membership

    def _member_view(self, tx: Transaction, membership: Membership) -> MemberView:
        user = self._user(tx, membership.user_id)
        return MemberView(
            user_id=user.id,
            email=user.email,
            name=user.name,
            role=membership.role,
            status=membership.status,
            joined_at=membership.joined_at,
            updated_at=membership.updated_at,
            changed_by=membership.changed_by,
            notes=membership.notes,
        )

    def _user(self, tx: Transaction, user_id: str) -> User:
        user = tx.get_user(user_id)
        if user is None:
            raise UserNotFound(f"no user with id {user_id!r}")
        return user

    def _account(self, tx: Transaction, account_id: str) -> BusinessAccount:
        account = tx.get_account(account_id)
        if account is None:
            raise AccountNotFound(f"no business account {account_id!r}")
        return account

    def _invitation(self, tx: Transaction, account_id: str, invitation_id: str) -> JoinInvitation:
        invitation = tx.get_join_invitation(invitation_id)
        if invitation is None or invitation.account_id != account_id:
            raise InvitationNotFound(
                f"no invitation {invitation_id!r} in business account {account_id!r}"
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
            to=invitation.email,
            account_name=account.name,
            inviter_email=inviter.email,
            link=self._join_url.replace(_TOKEN_PLACEHOLDER, token),
            token=token,
            expires_at=invitation.expires_at,
            language=invitation.language,
            service_name=self.settings.service_name,
        )

    def _deliver(
        self, messages: Sequence[tuple[JoinInvitation, Message]]
    ) -> tuple[list[JoinInvitation], list[DeliveryFailure]]:
        delivered: list[JoinInvitation] = []
        failed: list[DeliveryFailure] = []
        for invitation, message in messages:
            try:
                self._send(message)
            except DeliveryError as e:
                failed.append(DeliveryFailure(invitation.email, invitation.id, str(e), e.permanent))
            else:
                delivered.append(invitation)
        return delivered, failed

    def _send(self, message: Message) -> None:
        """Hand *message* to the mailer; any failure becomes a :class:`DeliveryError`."""
        try:
            self.mailer.send(message)
        except DeliveryError:
            raise
        except Exception as e:  # a host mailer's own error must not escape half-way a batch
            raise DeliveryError(
                f"the mailer failed for {message.to}: {type(e).__name__}: {e}"
            ) from e

    def _mark_sent(
        self, tx: Transaction, invitations: Sequence[JoinInvitation], now: dt.datetime
    ) -> list[JoinInvitation]:
        sent = []
        for invitation in invitations:
            current = tx.get_join_invitation(invitation.id) or invitation
            updated = attrs.evolve(current, sent_count=current.sent_count + 1, last_sent_at=now)
            tx.save_join_invitation(updated)
            sent.append(updated)
        return sent

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
        if not isinstance(token, str):
            raise InvitationNotFound("this invitation link is not valid")
        key = f"token:client:{client}"
        with self.store.transaction() as tx:
            throttle = tx.get_throttle(key) if client else None
            until = locked_until(throttle, now)
            if until is not None:
                raise TooManyAttempts("invitation links from this client", until)
            invitation = tx.find_join_invitation_by_token_hash(
                self._keys.lookup_hash("join", token.strip())
            )
            if invitation is None and client:
                policy = self.settings.token_throttle
                tx.save_throttle(record_failure(throttle, key=key, now=now, policy=policy))
        if invitation is None:
            raise InvitationNotFound("this invitation link is not valid")
        members.check_invitation_usable(invitation, now)
        return invitation

    def _verify_password(self, email: str, password: str, now: dt.datetime) -> User | None:
        """Return the user if *password* is theirs, else None; throttled per email.

        The attempt is counted as a failure *before* the (slow) verification, in the same
        transaction that checks the lock, so parallel guesses cannot slip past the limit;
        a success then clears the count. Unknown emails cost the same hashing time.
        """
        key = f"password:{email}"
        with self.store.transaction() as tx:
            throttle = tx.get_throttle(key)
            until = locked_until(throttle, now)
            if until is not None:
                raise TooManyAttempts(f"log-ins as {email}", until)
            policy = self.settings.password_throttle
            tx.save_throttle(record_failure(throttle, key=key, now=now, policy=policy))
            user = tx.find_user_by_email(email)
        if user is None or user.password_hash is None:
            self.passwords.burn()
            return None
        if not self.passwords.verify(password, user.password_hash):
            return None
        with self.store.transaction() as tx:
            tx.delete_throttle(key)
        return user

    def _check_limit(self, limit: int) -> int:
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise ValidationError(f"limit must be an integer, got {limit!r}")
        if not 1 <= limit <= self.settings.max_page_size:
            raise ValidationError(
                f"limit must be between 1 and {self.settings.max_page_size}, got {limit}"
            )
        return limit

    def _check_lifetime(self, expires_in: dt.timedelta | None) -> dt.timedelta:
        if expires_in is None:
            return self.settings.invitation_lifetime
        expires_in = positive_timedelta(expires_in, "expires_in")
        if expires_in > self.settings.max_invitation_lifetime:
            raise ValidationError(
                f"expires_in may be at most {self.settings.max_invitation_lifetime}, "
                f"got {expires_in}"
            )
        return expires_in

    def _event(
        self,
        now: dt.datetime,
        account_id: str,
        actor_id: str,
        action: AuditAction,
        subject: str,
        **details: str,
    ) -> AuditEvent:
        return AuditEvent(
            id=new_id("evt", now),
            account_id=account_id,
            at=now,
            actor_id=actor_id,
            action=action,
            subject=subject,
            details=details,
        )

    def _audit(
        self,
        tx: Transaction,
        now: dt.datetime,
        account_id: str,
        actor_id: str,
        action: AuditAction,
        subject: str,
        **details: str,
    ) -> None:
        tx.add_audit_events([self._event(now, account_id, actor_id, action, subject, **details)])


E = TypeVar("E", bound=enum.Enum)


def _parse_enum(kind: type[E], value: object, what: str) -> E:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(str(member.value) for member in kind)
        raise ValidationError(f"unknown {what} {value!r}; choose one of: {choices}") from None


def _require_text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be text, got {type(value).__name__}")
    return value


def _clean_name(value: str, what: str, *, required: bool) -> str:
    cleaned = " ".join(_require_text(value, what).split())
    if required and not cleaned:
        raise ValidationError(f"{what} must not be empty")
    if len(cleaned) > _MAX_NAME:
        raise ValidationError(f"{what} must be at most {_MAX_NAME} characters")
    return cleaned


def _clean_notes(notes: str) -> str:
    cleaned = _require_text(notes, "notes").strip()
    if len(cleaned) > _MAX_NOTES:
        raise ValidationError(f"notes must be at most {_MAX_NOTES} characters")
    return cleaned


def _check_cursor(cursor: object, prefix: str) -> str | None:
    if cursor is None:
        return None
    if not isinstance(cursor, str) or not cursor.startswith(prefix + "_"):
        raise InvalidCursor(f"cursor {cursor!r} does not belong to this listing")
    return cursor


def _filtered_page(
    fetch: Callable[[str | None, int], Sequence[T]],
    key: Callable[[T], str],
    keep: Callable[[T], bool],
    after: str | None,
    limit: int,
) -> Page[T]:
    """Collect up to *limit* kept items after *after*, fetching in chunks; say if more exist."""
    kept: list[T] = []
    chunk = limit + 1
    while True:
        batch = fetch(after, chunk)
        for item in batch:
            if not keep(item):
                continue
            if len(kept) == limit:
                return Page(tuple(kept), key(kept[-1]))
            kept.append(item)
        if len(batch) < chunk:
            return Page(tuple(kept), None)
        after = key(batch[-1])
