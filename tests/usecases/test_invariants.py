"""Random sequences of member and invitation use cases never break the domain's invariants.

A model of users, sessions, memberships and invitations runs beside a real LicenseKit (from
``make_licensekit``). Every step predicts the outcome from the model: either the new state or the
exact licensekit error. After every step the invariants are checked against the store itself:

* every business account keeps at least one active Account Administrator;
* an invitation is accepted at most once, and each accepted invitation is one membership join;
* a session never sees or changes an account its user is not an active member of;
* a session's effective rights never exceed the role its user holds now;
* an operation the rules forbid raises a LicenseKitError and leaves the store as it was
  (except throttle records, which a wrong password or unknown token is meant to write).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from _postgres import examples
from _records import active_administrators, records
from licensekit import (
    AccountNotFound,
    AlreadyMember,
    AuditAction,
    ConflictError,
    EmailAlreadyRegistered,
    InvalidCredentials,
    InvalidSession,
    InvitationAlreadyAccepted,
    InvitationEmailMismatch,
    InvitationExpired,
    InvitationNotFound,
    InvitationRevoked,
    InvitationState,
    LastAdministrator,
    LicenseKitError,
    MemberBlocked,
    MemberNotFound,
    MemberStatus,
    PermissionDenied,
    Role,
    Session,
    TooManyAttempts,
    UserNotFound,
)
from licensekit.model import JoinInvitation, Membership, Throttle
from licensekit.storage import AUDIT_EVENTS, JOIN_INVITATIONS, MEMBERSHIPS
from licensekit.testing import make_licensekit

ADMIN = Role.ACCOUNT_ADMINISTRATOR
REGULAR = Role.REGULAR_MEMBER
ACTIVE, BLOCKED, REMOVED = MemberStatus.ACTIVE, MemberStatus.BLOCKED, MemberStatus.REMOVED

EMAILS = ("ann@example.com", "bob@example.com", "cat@example.com", "dan@example.com")
# What an administrator may type: known addresses, one in another case, and a stranger.
TYPED = (*EMAILS, "ANN@Example.COM", "zed@example.com")
WRONG_PASSWORD = "not-the-right-password"
# Mostly short steps, so that sessions and invitations live long enough to be used.
STEPS = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=20),
    dt.timedelta(minutes=20),
    dt.timedelta(hours=3),
    dt.timedelta(hours=3),
    dt.timedelta(hours=13),
    dt.timedelta(days=8),
)
LIFETIMES = (None, dt.timedelta(hours=2), dt.timedelta(days=2))


def password_of(email: str) -> str:
    return f"the password of {email}"


@dataclass
class SessionModel:
    session: Session
    user_id: str
    email: str
    roles: dict[str, Role]
    """The roles the session was issued with (plus accounts it created)."""
    grants: dict[str, int] = field(default_factory=dict)
    """The administrator grant the session saw in each account where it was administrator."""


@dataclass
class InvitationModel:
    id: str
    account_id: str
    email: str
    token: str
    expires_at: dt.datetime
    accepted_by: str | None = None
    revoked: bool = False


@dataclass
class MemberModel:
    role: Role
    status: MemberStatus
    grant: int = 0
    """How many times the member was made administrator (Membership.admin_grant)."""


@dataclass
class World:
    users: dict[str, str] = field(default_factory=dict)
    """email -> user id."""
    passwords: dict[str, str | None] = field(default_factory=dict)
    """email -> password (None for a user created by single sign-on)."""
    sessions: list[SessionModel] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    members: dict[tuple[str, str], MemberModel] = field(default_factory=dict)
    invitations: list[InvitationModel] = field(default_factory=list)


def pick(items: list[Any] | tuple[Any, ...], index: int) -> Any:
    return items[index % len(items)]


class LicenseKitMachine(RuleBasedStateMachine):
    """Drives a LicenseKit with random use cases and checks it against a model after each."""

    def __init__(self) -> None:
        super().__init__()
        self.kit = make_licensekit()
        self.w = World()

    # -- helpers ----------------------------------------------------------------------------

    @property
    def now(self) -> dt.datetime:
        return self.kit.clock.now()

    def snapshot(self, *, with_throttles: bool) -> Counter[object]:
        records = self.kit.store.dump()  # type: ignore[attr-defined]
        return Counter(r for r in records if with_throttles or not isinstance(r, Throttle))

    def fails(
        self,
        expected: type[LicenseKitError],
        call: Callable[[], object],
        *,
        throttles_may_change: bool = False,
    ) -> LicenseKitError:
        """Run a forbidden call: it raises exactly *expected* and changes nothing stored."""
        before = self.snapshot(with_throttles=not throttles_may_change)
        mails = len(self.kit.mailer.sent)  # type: ignore[attr-defined]
        with pytest.raises(LicenseKitError) as info:
            call()
        assert type(info.value) is expected, f"expected {expected.__name__}, got {info.value!r}"
        assert self.snapshot(with_throttles=not throttles_may_change) == before
        assert len(self.kit.mailer.sent) == mails  # type: ignore[attr-defined]
        return info.value

    def locked(self, *, prefix: str, mentioning: str = "") -> bool:
        """Whether a throttle record for *prefix* (naming *mentioning*) is locked now."""
        return any(
            isinstance(r, Throttle)
            and r.key.startswith(prefix)
            and mentioning in r.key
            and r.locked_until is not None
            and r.locked_until > self.now
            for r in self.kit.store.dump()  # type: ignore[attr-defined]
        )

    def member(self, account_id: str, user_id: str) -> MemberModel | None:
        return self.w.members.get((account_id, user_id))

    def active_roles(self, user_id: str) -> dict[str, Role]:
        return {
            acc: m.role
            for (acc, uid), m in self.w.members.items()
            if uid == user_id and m.status is ACTIVE
        }

    def active_admins(self, account_id: str) -> int:
        return sum(
            1
            for (acc, _), m in self.w.members.items()
            if acc == account_id and m.status is ACTIVE and m.role is ADMIN
        )

    def auth_error(self, s: SessionModel, account_id: str) -> type[LicenseKitError] | None:
        """The error an administrator-only use case raises for *s* in *account_id*, or None."""
        if self.now >= s.session.expires_at:
            return InvalidSession
        m = self.member(account_id, s.user_id)
        if m is None or m.status is REMOVED:
            return AccountNotFound
        if m.status is BLOCKED:
            return MemberBlocked
        if m.role is ADMIN and s.grants.get(account_id) == m.grant:
            return None
        return PermissionDenied

    def session(self, index: int) -> SessionModel:
        """Mostly a live session (if any), sometimes any session, expired ones included."""
        live = [x for x in self.w.sessions if self.now < x.session.expires_at]
        return pick(live if live and index % 5 else self.w.sessions, index // 5)

    def target(self, account_id: str, index: int, prefer: MemberStatus = ACTIVE) -> str:
        """Mostly a user with a membership in *account_id* (often in status *prefer*)."""
        related = [uid for (acc, uid) in self.w.members if acc == account_id]
        preferred = [uid for uid in related if self.w.members[(account_id, uid)].status is prefer]
        if preferred and index % 4 == 1:
            return pick(preferred, index // 4)
        return pick(related if related and index % 4 else list(self.w.users.values()), index // 4)

    def pending(self, inv: InvitationModel) -> bool:
        return inv.accepted_by is None and not inv.revoked and self.now < inv.expires_at

    def unusable(self, inv: InvitationModel) -> type[LicenseKitError] | None:
        if inv.accepted_by is not None:
            return InvitationAlreadyAccepted
        if inv.revoked:
            return InvitationRevoked
        if self.now >= inv.expires_at:
            return InvitationExpired
        return None

    def add_session(self, session: Session) -> None:
        user_id = self.w.users[session.email]
        assert session.user_id == user_id
        assert dict(session.roles) == self.active_roles(user_id)
        grants = {
            acc: m.grant
            for (acc, uid), m in self.w.members.items()
            if uid == user_id and m.status is ACTIVE and m.role is ADMIN
        }
        self.w.sessions.append(
            SessionModel(session, user_id, session.email, dict(session.roles), grants)
        )

    # -- setup ------------------------------------------------------------------------------

    @initialize(
        founder=st.sampled_from(EMAILS),
        joiners=st.lists(st.sampled_from(EMAILS), unique=True, max_size=3),
        registered=st.booleans(),
        promote=st.booleans(),
    )
    def found_an_account(
        self, founder: str, joiners: list[str], registered: bool, promote: bool
    ) -> None:
        """Start from an account with a few members, through the same checked steps."""
        self.register(founder)
        self.log_in(founder, right=True)
        self.create_account(0)
        joiners = [j for j in joiners if j != founder]
        if joiners and registered:
            self.register(joiners[0])
        if joiners:
            self.invite(0, 0, joiners, None)
        for index in range(len(self.w.invitations)):
            self.accept(index, "password", 0)
        if joiners and promote:
            self.change_role(0, 0, 5, ADMIN)  # target() index 5: the first joiner
            self.log_in(joiners[0], right=True)

    # -- users and sessions -----------------------------------------------------------------

    @rule(email=st.sampled_from(EMAILS))
    def register(self, email: str) -> None:
        if email in self.w.users:
            self.fails(EmailAlreadyRegistered, lambda: self.kit.register_user(email, "x" * 12))
            return
        user = self.kit.register_user(email, password_of(email), email_verified=True)
        self.w.users[email] = user.id
        self.w.passwords[email] = password_of(email)

    @rule(email=st.sampled_from(EMAILS), right=st.booleans())
    def log_in(self, email: str, right: bool) -> None:
        known = self.w.passwords.get(email)
        password = password_of(email) if right else WRONG_PASSWORD
        if self.locked(prefix="password:", mentioning=email):
            self.fails(
                TooManyAttempts,
                lambda: self.kit.log_in(email, password),
                throttles_may_change=True,
            )
        elif known is None or password != known:
            self.fails(
                InvalidCredentials,
                lambda: self.kit.log_in(email, password),
                throttles_may_change=True,
            )
        else:
            self.add_session(self.kit.log_in(email, password))

    @rule(email=st.sampled_from(EMAILS), create=st.booleans())
    def trusted_log_in(self, email: str, create: bool) -> None:
        if email not in self.w.users and not create:
            self.fails(UserNotFound, lambda: self.kit.trusted_session(email))
            return
        session = self.kit.trusted_session(email, create=create)
        if email not in self.w.users:
            self.w.users[email] = session.user_id
            self.w.passwords[email] = None
        self.add_session(session)

    @rule(step=st.sampled_from(STEPS))
    def advance_clock(self, step: dt.timedelta) -> None:
        self.kit.clock.advance(step)  # type: ignore[attr-defined]

    # -- accounts and members ---------------------------------------------------------------

    @precondition(lambda self: self.w.sessions)
    @rule(s=st.integers(0, 99))
    def create_account(self, s: int) -> None:
        sm: SessionModel = self.session(s)
        if self.now >= sm.session.expires_at:
            self.fails(InvalidSession, lambda: self.kit.create_business_account(sm.session, "Co"))
            return
        account = self.kit.create_business_account(sm.session, f"Company {len(self.w.accounts)}")
        self.w.accounts.append(account.id)
        self.w.members[(account.id, sm.user_id)] = MemberModel(ADMIN, ACTIVE, grant=1)
        sm.roles[account.id] = ADMIN
        sm.grants[account.id] = 1

    def _target(self, account_id: str, user_id: str) -> MemberModel | None:
        m = self.member(account_id, user_id)
        return None if m is None or m.status is REMOVED else m

    @precondition(lambda self: self.w.sessions and self.w.accounts)
    @rule(
        s=st.integers(0, 99), a=st.integers(0, 99), t=st.integers(0, 99), role=st.sampled_from(Role)
    )
    def change_role(self, s: int, a: int, t: int, role: Role) -> None:
        sm: SessionModel = self.session(s)
        acc: str = pick(self.w.accounts, a)
        target_id: str = self.target(acc, t)
        target = self._target(acc, target_id)
        call = lambda: self.kit.change_role(sm.session, acc, target_id, role, notes="n")  # noqa: E731
        error = self.auth_error(sm, acc)
        if error is None and target is None:
            error = MemberNotFound
        if error is None and target is not None:
            demoting_last = (
                target.status is ACTIVE
                and target.role is ADMIN
                and role is REGULAR
                and self.active_admins(acc) <= 1
            )
            if demoting_last:
                error = LastAdministrator
        if error is not None:
            self.fails(error, call)
            return
        view = call()
        assert target is not None
        if target.role is REGULAR and role is ADMIN:
            target.grant += 1
        target.role = role
        assert (view.role, view.status, view.changed_by) == (role, target.status, sm.user_id)  # type: ignore[attr-defined]

    def _status_change(
        self, s: int, a: int, t: int, action: str
    ) -> tuple[SessionModel, str, str, MemberModel | None, type[LicenseKitError] | None]:
        sm: SessionModel = self.session(s)
        acc: str = pick(self.w.accounts, a)
        target_id: str = self.target(acc, t, BLOCKED if action == "unblock" else ACTIVE)
        target = self._target(acc, target_id)
        error = self.auth_error(sm, acc)
        if error is None and target is None:
            error = MemberNotFound
        if error is None and target is not None:
            wanted = {"block": ACTIVE, "unblock": BLOCKED}.get(action, target.status)
            if target.status is not wanted:
                error = ConflictError
            elif (
                action in ("block", "remove")
                and target.status is ACTIVE
                and target.role is ADMIN
                and self.active_admins(acc) <= 1
            ):
                error = LastAdministrator
        return sm, acc, target_id, target, error

    @precondition(lambda self: self.w.sessions and self.w.accounts)
    @rule(s=st.integers(0, 99), a=st.integers(0, 99), t=st.integers(0, 99))
    def block(self, s: int, a: int, t: int) -> None:
        sm, acc, target_id, target, error = self._status_change(s, a, t, "block")
        call = lambda: self.kit.block_member(sm.session, acc, target_id)  # noqa: E731
        if error is not None:
            self.fails(error, call)
            return
        assert target is not None
        assert call().status is BLOCKED  # type: ignore[attr-defined]
        target.status = BLOCKED

    @precondition(lambda self: self.w.sessions and self.w.accounts)
    @rule(s=st.integers(0, 99), a=st.integers(0, 99), t=st.integers(0, 99))
    def unblock(self, s: int, a: int, t: int) -> None:
        sm, acc, target_id, target, error = self._status_change(s, a, t, "unblock")
        call = lambda: self.kit.unblock_member(sm.session, acc, target_id)  # noqa: E731
        if error is not None:
            self.fails(error, call)
            return
        assert target is not None
        view = call()
        assert (view.status, view.role) == (ACTIVE, target.role)  # type: ignore[attr-defined]
        target.status = ACTIVE
        if target.role is ADMIN:
            target.grant += 1  # like a promotion: open sessions stay powerless

    @precondition(lambda self: self.w.sessions and self.w.accounts)
    @rule(s=st.integers(0, 99), a=st.integers(0, 99), t=st.integers(0, 99))
    def remove(self, s: int, a: int, t: int) -> None:
        sm, acc, target_id, target, error = self._status_change(s, a, t, "remove")
        call = lambda: self.kit.remove_member(sm.session, acc, target_id)  # noqa: E731
        if error is not None:
            self.fails(error, call)
            return
        assert target is not None
        assert call().status is REMOVED  # type: ignore[attr-defined]
        target.status, target.role = REMOVED, REGULAR

    @precondition(lambda self: self.w.sessions and self.w.accounts)
    @rule(s=st.integers(0, 99), a=st.integers(0, 99))
    def leave(self, s: int, a: int) -> None:
        sm: SessionModel = self.session(s)
        acc: str = pick(self.w.accounts, a)
        m = self._target(acc, sm.user_id)
        call = lambda: self.kit.leave_account(sm.session, acc)  # noqa: E731
        if self.now >= sm.session.expires_at:
            self.fails(InvalidSession, call)
        elif m is None:
            self.fails(AccountNotFound, call)
        elif m.status is BLOCKED:
            self.fails(MemberBlocked, call)
        elif m.status is ACTIVE and m.role is ADMIN and self.active_admins(acc) <= 1:
            self.fails(LastAdministrator, call)
        else:
            call()
            m.status, m.role = REMOVED, REGULAR

    # -- join invitations -------------------------------------------------------------------

    @precondition(lambda self: self.w.sessions and self.w.accounts)
    @rule(
        s=st.integers(0, 99),
        a=st.integers(0, 99),
        typed=st.lists(st.sampled_from(TYPED), min_size=1, max_size=4),
        lifetime=st.sampled_from(LIFETIMES),
    )
    def invite(self, s: int, a: int, typed: list[str], lifetime: dt.timedelta | None) -> None:
        sm: SessionModel = self.session(s)
        acc: str = pick(self.w.accounts, a)
        call = lambda: self.kit.invite_members(sm.session, acc, typed, expires_in=lifetime)  # noqa: E731
        error = self.auth_error(sm, acc)
        if error is not None:
            self.fails(error, call)
            return
        expected: list[str] = []
        for email in dict.fromkeys(t.lower() for t in typed):
            user_id = self.w.users.get(email)
            m = None if user_id is None else self.member(acc, user_id)
            if m is not None and m.status in (ACTIVE, BLOCKED):
                continue
            if any(
                i.account_id == acc and i.email == email and self.pending(i)
                for i in self.w.invitations
            ):
                continue
            expected.append(email)
        sent_before = len(self.kit.mailer.sent)  # type: ignore[attr-defined]
        batch = call()
        assert [i.email for i in batch.invited] == expected
        assert len(batch.invited) + len(batch.skipped) == len(typed)
        assert batch.undelivered == ()
        messages = self.kit.mailer.sent[sent_before:]  # type: ignore[attr-defined]
        assert [m.to for m in messages] == expected
        for view, message in zip(batch.invited, messages, strict=True):
            self.w.invitations.append(
                InvitationModel(view.id, acc, view.email, message.data["token"], view.expires_at)
            )

    @precondition(lambda self: self.w.invitations)
    @rule(
        i=st.integers(0, 99),
        how=st.sampled_from(["password", "wrong password", "own session", "other session"]),
        s=st.integers(0, 99),
    )
    def accept(self, i: int, how: str, s: int) -> None:
        inv: InvitationModel = pick(self.w.invitations, i)
        email = inv.email
        existing_id = self.w.users.get(email)
        sm: SessionModel | None = None
        if how.endswith("session"):
            mine = [x for x in self.w.sessions if (x.email == email) == (how == "own session")]
            if not mine:
                how = "password"
            else:
                sm = pick(mine, s)
        password = WRONG_PASSWORD if how == "wrong password" else password_of(email)

        def call() -> Session:
            if sm is not None:
                return self.kit.accept_join_invitation(inv.token, session=sm.session)
            return self.kit.accept_join_invitation(inv.token, password=password)

        error = self.unusable(inv)
        throttles = False
        if error is None and sm is not None:
            if self.now >= sm.session.expires_at:
                error = InvalidSession
            elif sm.email != email:
                error = InvitationEmailMismatch
        elif error is None and existing_id is not None:
            throttles = True
            if self.locked(prefix="password:", mentioning=email):
                error = TooManyAttempts
            elif self.w.passwords[email] is None or password != self.w.passwords[email]:
                error = InvalidCredentials
        user_id = existing_id
        if error is None and user_id is not None:
            m = self.member(inv.account_id, user_id)
            if m is not None and m.status is ACTIVE:
                error = AlreadyMember
            elif m is not None and m.status is BLOCKED:
                error = MemberBlocked
        if error is not None:
            self.fails(error, call, throttles_may_change=throttles)
            return
        session = call()
        if existing_id is None:
            self.w.users[email] = session.user_id
            self.w.passwords[email] = password
        inv.accepted_by = session.user_id
        before = self.w.members.get((inv.account_id, session.user_id))
        self.w.members[(inv.account_id, session.user_id)] = MemberModel(
            REGULAR, ACTIVE, grant=before.grant if before is not None else 0
        )
        self.add_session(session)
        assert session.roles[inv.account_id] is REGULAR

    @precondition(lambda self: any(i.accepted_by for i in self.w.invitations))
    @rule(i=st.integers(0, 99), right=st.booleans())
    def accept_twice(self, i: int, right: bool) -> None:
        """A second accept of an accepted invitation always raises InvitationAlreadyAccepted."""
        inv: InvitationModel = pick([x for x in self.w.invitations if x.accepted_by], i)
        password = password_of(inv.email) if right else WRONG_PASSWORD
        self.fails(
            InvitationAlreadyAccepted,
            lambda: self.kit.accept_join_invitation(inv.token, password=password),
        )
        owner = [x for x in self.w.sessions if x.user_id == inv.accepted_by]
        if owner:
            self.fails(
                InvitationAlreadyAccepted,
                lambda: self.kit.accept_join_invitation(inv.token, session=owner[-1].session),
            )

    @rule(
        token=st.sampled_from(["", "nope", "x" * 43]),
        client=st.sampled_from(["", "bot", "198.51.100.7", "2001:db8::1"]),
    )
    def accept_unknown_token(self, token: str, client: str) -> None:
        """Unknown tokens are throttled per named client; anonymous ones never lock."""
        locked = bool(client) and self.locked(prefix=f"token:client:{client}")
        expected = TooManyAttempts if locked else InvitationNotFound
        self.fails(
            expected,
            lambda: self.kit.accept_join_invitation(token, password=WRONG_PASSWORD, client=client),
            throttles_may_change=True,
        )

    def _invitation_call(
        self, s: int, a: int, i: int
    ) -> tuple[SessionModel, str, InvitationModel, type[LicenseKitError] | None]:
        sm: SessionModel = self.session(s)
        inv: InvitationModel = pick(self.w.invitations, i)
        # Half the time the invitation's own account, otherwise any account (tenant isolation).
        acc: str = inv.account_id if a % 2 else pick(self.w.accounts, a // 2)
        error = self.auth_error(sm, acc)
        if error is None and inv.account_id != acc:
            error = InvitationNotFound
        return sm, acc, inv, error

    @precondition(lambda self: self.w.sessions and self.w.invitations)
    @rule(s=st.integers(0, 99), a=st.integers(0, 99), i=st.integers(0, 99))
    def revoke(self, s: int, a: int, i: int) -> None:
        sm, acc, inv, error = self._invitation_call(s, a, i)
        call = lambda: self.kit.revoke_join_invitation(sm.session, acc, inv.id)  # noqa: E731
        if error is None and inv.accepted_by is not None:
            error = InvitationAlreadyAccepted
        if error is None and inv.revoked:
            error = InvitationRevoked
        if error is not None:
            self.fails(error, call)
            return
        assert call().state is InvitationState.REVOKED  # type: ignore[attr-defined]
        inv.revoked = True

    @precondition(lambda self: self.w.sessions and self.w.invitations)
    @rule(s=st.integers(0, 99), a=st.integers(0, 99), i=st.integers(0, 99))
    def resend(self, s: int, a: int, i: int) -> None:
        sm, acc, inv, error = self._invitation_call(s, a, i)
        call = lambda: self.kit.resend_join_invitation(sm.session, acc, inv.id)  # noqa: E731
        if error is None:
            error = self.unusable(inv)
        if error is not None:
            self.fails(error, call)
            return
        call()
        assert self.kit.mailer.last().data["token"] == inv.token  # type: ignore[attr-defined]

    # -- tenant isolation -------------------------------------------------------------------

    @precondition(lambda self: self.w.sessions and self.w.accounts)
    @rule(s=st.integers(0, 99), a=st.integers(0, 99))
    def outsider_probes_an_account(self, s: int, a: int) -> None:
        """A live session of a non-member (or blocked member) gets no data from an account."""
        outsiders = [
            (sm, acc)
            for sm in self.w.sessions
            for acc in self.w.accounts
            if self.now < sm.session.expires_at
            and (
                self.member(acc, sm.user_id) is None
                or self.member(acc, sm.user_id).status is not ACTIVE
            )  # type: ignore[union-attr]
        ]
        if not outsiders:
            return
        sm, acc = pick(outsiders, s * 100 + a)
        m = self.member(acc, sm.user_id)
        expected = MemberBlocked if m is not None and m.status is BLOCKED else AccountNotFound
        victim = next(uid for (x, uid) in self.w.members if x == acc)
        self.fails(expected, lambda: self.kit.list_members(sm.session, acc))
        self.fails(expected, lambda: self.kit.invite_members(sm.session, acc, ["zed@example.com"]))
        self.fails(expected, lambda: self.kit.change_role(sm.session, acc, victim, ADMIN))
        self.fails(expected, lambda: self.kit.change_role(sm.session, acc, sm.user_id, ADMIN))
        self.fails(expected, lambda: self.kit.list_join_invitations(sm.session, acc))
        self.fails(expected, lambda: self.kit.list_audit_events(sm.session, acc))

    # -- invariants -------------------------------------------------------------------------

    def memberships(self, account_id: str) -> list[Membership]:
        with records(self.kit.store) as tx:
            return list(tx.page(MEMBERSHIPS, account_id, after=None, limit=10_000))

    @invariant()
    def every_account_keeps_an_active_administrator(self) -> None:
        for acc in self.w.accounts:
            with records(self.kit.store) as tx:
                count = active_administrators(tx, acc)
            assert count >= 1, f"account {acc} has no active Account Administrator"
            assert count == self.active_admins(acc)

    @invariant()
    def stored_memberships_match_the_model(self) -> None:
        stored = {
            (m.account_id, m.user_id): (m.role, m.status)
            for acc in self.w.accounts
            for m in self.memberships(acc)
        }
        assert stored == {k: (m.role, m.status) for k, m in self.w.members.items()}

    @invariant()
    def each_accepted_invitation_is_exactly_one_membership_join(self) -> None:
        accepted: dict[str, JoinInvitation] = {}
        events: Counter[str] = Counter()
        with records(self.kit.store) as tx:
            for acc in self.w.accounts:
                for inv in tx.page(JOIN_INVITATIONS, acc, after=None, limit=10_000):
                    if inv.accepted_at is not None:
                        accepted[inv.id] = inv
                        assert inv.accepted_by is not None
                        assert inv.revoked_at is None
                        assert tx.get(MEMBERSHIPS, (acc, inv.accepted_by)) is not None
                for e in tx.page(AUDIT_EVENTS, acc, after=None, limit=10_000):
                    if e.action is AuditAction.INVITATION_ACCEPTED:
                        events[e.subject] += 1
        assert set(accepted) == {i.id for i in self.w.invitations if i.accepted_by}
        assert events == Counter(set(accepted)), "an invitation was accepted more than once"

    @invariant()
    def effective_rights_never_exceed_the_current_role(self) -> None:
        for sm in self.w.sessions[-6:]:
            if self.now >= sm.session.expires_at:
                continue
            for acc in self.w.accounts:
                m = self.member(acc, sm.user_id)
                error = self.auth_error(sm, acc)
                if error is None:
                    page = self.kit.list_members(sm.session, acc, limit=500)
                    assert m is not None
                    assert (m.status, m.role) == (ACTIVE, ADMIN)
                    assert {v.user_id for v in page.items} == {
                        uid
                        for (x, uid), mm in self.w.members.items()
                        if x == acc and mm.status is not REMOVED
                    }
                else:
                    with pytest.raises(LicenseKitError) as info:
                        self.kit.list_members(sm.session, acc)
                    assert type(info.value) is error, (error, info.value)
            mine = self.kit.list_my_accounts(sm.session)
            for entry in mine:
                m = self.member(entry.account_id, sm.user_id)
                assert m is not None
                assert m.status is not REMOVED
                assert (entry.role, entry.status) == (m.role, m.status)
                if entry.effective_role is ADMIN:
                    assert entry.role is ADMIN
            assert {e.account_id for e in mine} == {
                acc
                for (acc, uid), mm in self.w.members.items()
                if uid == sm.user_id and mm.status is not REMOVED
            }


def test_licensekit_invariants_hold_for_random_use_case_sequences(flavour: str) -> None:
    """The model and the kit agree after every step (fewer runs through the async bridge)."""
    run_state_machine_as_test(
        LicenseKitMachine,
        settings=settings(
            max_examples=examples(100 if flavour == "sync" else 30),
            stateful_step_count=50,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


# -- a promotion never empowers a session issued before it, whatever came between --------------


@pytest.mark.parametrize("lost_by", ["demotion", "removal and re-invitation"])
def test_promotion_never_empowers_a_session_issued_before_it(lost_by: str) -> None:
    """roles.py: a promotion to Account Administrator shows only in a session issued after it."""
    kit = make_licensekit()
    kit.register_user("ann@example.com", password_of("ann@example.com"), email_verified=True)
    kit.register_user("bob@example.com", password_of("bob@example.com"), email_verified=True)
    ann = kit.log_in("ann@example.com", password_of("ann@example.com"))
    account = kit.create_business_account(ann, "Example Corp")
    kit.invite_members(ann, account.id, ["bob@example.com"])
    bob = kit.accept_join_invitation(
        kit.mailer.last_token(to="bob@example.com"),  # type: ignore[attr-defined]
        password=password_of("bob@example.com"),
    )
    kit.change_role(ann, account.id, bob.user_id, ADMIN)
    old = kit.log_in("bob@example.com", password_of("bob@example.com"))
    assert kit.list_members(old, account.id).items  # an administrator now

    if lost_by == "demotion":
        kit.change_role(ann, account.id, bob.user_id, REGULAR)
    else:
        kit.remove_member(ann, account.id, bob.user_id)
        kit.invite_members(ann, account.id, ["bob@example.com"])
        kit.accept_join_invitation(
            kit.mailer.last_token(to="bob@example.com"),  # type: ignore[attr-defined]
            password=password_of("bob@example.com"),
        )
    with pytest.raises(PermissionDenied):
        kit.list_members(old, account.id)  # losing rights applies at once

    kit.change_role(ann, account.id, bob.user_id, ADMIN, notes="promoted again")
    with pytest.raises(PermissionDenied):
        kit.list_members(old, account.id)  # the promotion must wait for a new log-in
