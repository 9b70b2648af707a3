"""An in-memory store: thread-safe, transactional, gone when the process ends.

Meant for tests and for embedding licensekit where nothing must persist. Transactions are
serialised by one re-entrant lock held for the whole block, which gives the serialisable
isolation the storage protocol asks for; each write is noted in an undo log and undone in
reverse order when the block raises.
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
from collections.abc import Callable, Hashable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from licensekit.exceptions import DuplicateKey, StorageError
from licensekit.model import (
    AuditEvent,
    BusinessAccount,
    JoinInvitation,
    Membership,
    SessionRecord,
    Throttle,
    User,
)

__all__ = ["MemoryStore"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
_MISSING: Any = object()


class _Tables:
    """The data of a :class:`MemoryStore`, with the secondary indexes it needs."""

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.user_by_email: dict[str, str] = {}
        self.accounts: dict[str, BusinessAccount] = {}
        self.memberships: dict[tuple[str, str], Membership] = {}
        self.account_members: dict[str, list[str]] = {}
        self.user_accounts: dict[str, list[str]] = {}
        self.invitations: dict[str, JoinInvitation] = {}
        self.invitation_by_token: dict[bytes, str] = {}
        self.account_invitations: dict[str, list[str]] = {}
        self.invitations_by_email: dict[tuple[str, str], list[str]] = {}
        self.sessions: dict[str, SessionRecord] = {}
        self.session_by_token: dict[bytes, str] = {}
        self.audit: dict[str, list[AuditEvent]] = {}
        self.audit_ids: dict[str, list[str]] = {}
        self.throttles: dict[str, Throttle] = {}


class MemoryStore:
    """A :class:`~licensekit.storage.Store` that keeps everything in process memory.

    Safe to share between threads. Records are frozen attrs instances, so what a transaction
    returns cannot be changed behind the store's back.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._tables = _Tables()
        self._active = threading.local()
        self._closed = False

    def __repr__(self) -> str:
        t = self._tables
        return f"MemoryStore(users={len(t.users)}, accounts={len(t.accounts)})"

    @contextmanager
    def transaction(self) -> Iterator[_MemoryTransaction]:
        """Open a transaction; see :meth:`licensekit.storage.Store.transaction`."""
        if getattr(self._active, "open", False):
            raise StorageError("transactions cannot be nested")
        with self._lock:
            if self._closed:
                raise StorageError("the memory store is closed")
            self._active.open = True
            tx = _MemoryTransaction(self._tables)
            try:
                yield tx
            except BaseException:
                tx._rollback()
                raise
            finally:
                tx._done = True
                self._active.open = False

    def close(self) -> None:
        """Drop all data; further transactions raise :class:`StorageError`."""
        with self._lock:
            self._closed = True
            self._tables = _Tables()

    def dump(self) -> list[object]:
        """Return every record the store holds (for inspection in tests)."""
        t = self._tables
        with self._lock:
            records: list[object] = []
            for table in (t.users, t.accounts, t.memberships, t.invitations, t.sessions):
                records.extend(table.values())
            for events in t.audit.values():
                records.extend(events)
            records.extend(t.throttles.values())
            return records


class _MemoryTransaction:
    """One transaction of a :class:`MemoryStore`; applies writes at once, undoes on failure."""

    def __init__(self, tables: _Tables) -> None:
        self._t = tables
        self._undo: list[Callable[[], None]] = []
        self._done = False

    # -- undo-logged primitives -----------------------------------------------------------

    def _check(self) -> _Tables:
        if self._done:
            raise StorageError("this transaction has ended; open a new one")
        return self._t

    def _set(self, table: MutableMapping[K, V], key: K, value: V) -> None:
        old = table.get(key, _MISSING)
        table[key] = value
        self._undo.append(lambda: _restore(table, key, old))

    def _delete(self, table: MutableMapping[K, V], key: K) -> None:
        old = table.pop(key, _MISSING)
        if old is not _MISSING:
            self._undo.append(lambda: _restore(table, key, old))

    def _insort(self, table: dict[K, list[str]], key: K, value: str) -> None:
        items = table.setdefault(key, [])
        bisect.insort(items, value)
        self._undo.append(lambda: items.remove(value))

    def _rollback(self) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()

    # -- users ------------------------------------------------------------------------------

    def get_user(self, user_id: str) -> User | None:
        return self._check().users.get(user_id)

    def find_user_by_email(self, email: str) -> User | None:
        t = self._check()
        user_id = t.user_by_email.get(email)
        return None if user_id is None else t.users[user_id]

    def add_user(self, user: User) -> None:
        t = self._check()
        if user.id in t.users:
            raise DuplicateKey(f"a user with id {user.id!r} already exists")
        if user.email in t.user_by_email:
            raise DuplicateKey(f"a user with email {user.email!r} already exists")
        self._set(t.users, user.id, user)
        self._set(t.user_by_email, user.email, user.id)

    def save_user(self, user: User) -> None:
        t = self._check()
        old = t.users.get(user.id)
        if old is None:
            raise StorageError(f"cannot save unknown user {user.id!r}")
        if old.email != user.email:
            if user.email in t.user_by_email:
                raise DuplicateKey(f"a user with email {user.email!r} already exists")
            self._delete(t.user_by_email, old.email)
            self._set(t.user_by_email, user.email, user.id)
        self._set(t.users, user.id, user)

    # -- accounts ---------------------------------------------------------------------------

    def get_account(self, account_id: str) -> BusinessAccount | None:
        return self._check().accounts.get(account_id)

    def add_account(self, account: BusinessAccount) -> None:
        t = self._check()
        if account.id in t.accounts:
            raise DuplicateKey(f"an account with id {account.id!r} already exists")
        self._set(t.accounts, account.id, account)

    # -- memberships ------------------------------------------------------------------------

    def get_membership(self, account_id: str, user_id: str) -> Membership | None:
        return self._check().memberships.get((account_id, user_id))

    def save_membership(self, membership: Membership) -> None:
        t = self._check()
        key = (membership.account_id, membership.user_id)
        if key not in t.memberships:
            self._insort(t.account_members, membership.account_id, membership.user_id)
            self._insort(t.user_accounts, membership.user_id, membership.account_id)
        self._set(t.memberships, key, membership)

    def list_memberships(
        self, account_id: str, *, after: str | None, limit: int
    ) -> list[Membership]:
        t = self._check()
        user_ids = _page(t.account_members.get(account_id, []), after, limit)
        return [t.memberships[(account_id, user_id)] for user_id in user_ids]

    def list_user_memberships(self, user_id: str) -> list[Membership]:
        t = self._check()
        return [t.memberships[(a, user_id)] for a in t.user_accounts.get(user_id, [])]

    def count_active_administrators(self, account_id: str) -> int:
        t = self._check()
        return sum(
            1
            for user_id in t.account_members.get(account_id, [])
            if t.memberships[(account_id, user_id)].is_active_administrator
        )

    # -- join invitations -------------------------------------------------------------------

    def add_join_invitations(self, invitations: Sequence[JoinInvitation]) -> None:
        t = self._check()
        ids = {i.id for i in invitations}
        hashes = {i.token_hash for i in invitations}
        if len(ids) != len(invitations) or ids & t.invitations.keys():
            raise DuplicateKey("an invitation with the same id already exists")
        if len(hashes) != len(invitations) or hashes & t.invitation_by_token.keys():
            raise DuplicateKey("an invitation with the same token hash already exists")
        for invitation in invitations:
            self._set(t.invitations, invitation.id, invitation)
            self._set(t.invitation_by_token, invitation.token_hash, invitation.id)
            self._insort(t.account_invitations, invitation.account_id, invitation.id)
            self._insort(
                t.invitations_by_email, (invitation.account_id, invitation.email), invitation.id
            )

    def save_join_invitation(self, invitation: JoinInvitation) -> None:
        t = self._check()
        old = t.invitations.get(invitation.id)
        if old is None:
            raise StorageError(f"cannot save unknown invitation {invitation.id!r}")
        if (old.account_id, old.email, old.token_hash) != (
            invitation.account_id,
            invitation.email,
            invitation.token_hash,
        ):
            raise StorageError("an invitation's account, email and token cannot change")
        self._set(t.invitations, invitation.id, invitation)

    def get_join_invitation(self, invitation_id: str) -> JoinInvitation | None:
        return self._check().invitations.get(invitation_id)

    def find_join_invitation_by_token_hash(self, token_hash: bytes) -> JoinInvitation | None:
        t = self._check()
        invitation_id = t.invitation_by_token.get(token_hash)
        return None if invitation_id is None else t.invitations[invitation_id]

    def list_join_invitations(
        self, account_id: str, *, after: str | None, limit: int
    ) -> list[JoinInvitation]:
        t = self._check()
        ids = _page(t.account_invitations.get(account_id, []), after, limit)
        return [t.invitations[i] for i in ids]

    def list_join_invitations_for_email(self, account_id: str, email: str) -> list[JoinInvitation]:
        t = self._check()
        return [t.invitations[i] for i in t.invitations_by_email.get((account_id, email), [])]

    # -- sessions ---------------------------------------------------------------------------

    def add_session(self, session: SessionRecord) -> None:
        t = self._check()
        if session.id in t.sessions or session.token_hash in t.session_by_token:
            raise DuplicateKey(f"session {session.id!r} or its token already exists")
        self._set(t.sessions, session.id, session)
        self._set(t.session_by_token, session.token_hash, session.id)

    def save_session(self, session: SessionRecord) -> None:
        t = self._check()
        old = t.sessions.get(session.id)
        if old is None or old.token_hash != session.token_hash:
            raise StorageError(f"cannot save unknown session {session.id!r}")
        self._set(t.sessions, session.id, session)

    def find_session_by_token_hash(self, token_hash: bytes) -> SessionRecord | None:
        t = self._check()
        session_id = t.session_by_token.get(token_hash)
        return None if session_id is None else t.sessions[session_id]

    def delete_session(self, session_id: str) -> None:
        t = self._check()
        session = t.sessions.get(session_id)
        if session is not None:
            self._delete(t.sessions, session_id)
            self._delete(t.session_by_token, session.token_hash)

    def delete_sessions_expired_before(self, moment: dt.datetime) -> int:
        t = self._check()
        expired = [s.id for s in t.sessions.values() if s.expires_at <= moment]
        for session_id in expired:
            self.delete_session(session_id)
        return len(expired)

    # -- audit ------------------------------------------------------------------------------

    def add_audit_events(self, events: Sequence[AuditEvent]) -> None:
        t = self._check()
        keys = {(e.account_id, e.id) for e in events}
        if len(keys) != len(events) or any(
            _contains(t.audit_ids.get(account_id, []), event_id) for account_id, event_id in keys
        ):
            raise DuplicateKey("an audit event with the same id already exists")
        for event in events:
            ids = t.audit_ids.setdefault(event.account_id, [])
            log = t.audit.setdefault(event.account_id, [])
            position = bisect.bisect_left(ids, event.id)
            ids.insert(position, event.id)
            log.insert(position, event)
            self._undo.append(_partial_unlog(ids, log, event))

    def list_audit_events(
        self, account_id: str, *, after: str | None, limit: int
    ) -> list[AuditEvent]:
        t = self._check()
        ids = t.audit_ids.get(account_id, [])
        start = 0 if after is None else bisect.bisect_right(ids, after)
        return t.audit.get(account_id, [])[start : start + limit]

    # -- throttles --------------------------------------------------------------------------

    def get_throttle(self, key: str) -> Throttle | None:
        return self._check().throttles.get(key)

    def save_throttle(self, throttle: Throttle) -> None:
        self._set(self._check().throttles, throttle.key, throttle)

    def delete_throttle(self, key: str) -> None:
        self._delete(self._check().throttles, key)

    def delete_throttles_expired_before(self, moment: dt.datetime) -> int:
        t = self._check()
        spent = [key for key, throttle in t.throttles.items() if throttle.expires_at <= moment]
        for key in spent:
            self._delete(t.throttles, key)
        return len(spent)


def _restore(table: MutableMapping[K, V], key: K, old: V) -> None:
    if old is _MISSING:
        table.pop(key, None)
    else:
        table[key] = old


def _unlog(ids: list[str], log: list[AuditEvent], event: AuditEvent) -> None:
    position = bisect.bisect_left(ids, event.id)
    del ids[position]
    del log[position]


def _partial_unlog(ids: list[str], log: list[AuditEvent], event: AuditEvent) -> Callable[[], None]:
    return lambda: _unlog(ids, log, event)


def _contains(sorted_keys: list[str], key: str) -> bool:
    position = bisect.bisect_left(sorted_keys, key)
    return position < len(sorted_keys) and sorted_keys[position] == key


def _page(sorted_keys: list[str], after: str | None, limit: int) -> list[str]:
    start = 0 if after is None else bisect.bisect_right(sorted_keys, after)
    return sorted_keys[start : start + limit]
