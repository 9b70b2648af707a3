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
    ComputerBlock,
    Installation,
    InstallInvitation,
    JoinInvitation,
    LicenseKey,
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
        self.keys: dict[str, LicenseKey] = {}
        self.key_by_value: dict[tuple[str, bytes], str] = {}
        self.account_keys: dict[str, list[str]] = {}
        self.installs: dict[str, InstallInvitation] = {}
        self.install_by_code: dict[bytes, str] = {}
        self.install_by_token: dict[bytes, str] = {}
        self.key_installs: dict[str, list[str]] = {}
        self.installations: dict[str, Installation] = {}
        self.installation_by_computer: dict[tuple[str, str], str] = {}
        self.installation_by_token: dict[bytes, str] = {}
        self.key_installations: dict[str, list[str]] = {}
        self.blocks: dict[tuple[str, str], ComputerBlock] = {}  # by (account, sort key)
        self.account_blocks: dict[str, list[str]] = {}


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
            tables: tuple[dict[Any, Any], ...] = (
                t.users,
                t.accounts,
                t.memberships,
                t.invitations,
                t.sessions,
                t.keys,
                t.installs,
                t.installations,
                t.blocks,
            )
            for table in tables:
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

    def _remove_sorted(self, table: dict[K, list[str]], key: K, value: str) -> None:
        items = table.get(key, [])
        if _contains(items, value):
            items.remove(value)
            self._undo.append(lambda: bisect.insort(items, value))

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
        self.save_join_invitations([invitation])

    def save_join_invitations(self, invitations: Sequence[JoinInvitation]) -> None:
        t = self._check()
        for invitation in invitations:  # every one is checked before any is changed
            old = t.invitations.get(invitation.id)
            if old is None:
                raise StorageError(f"cannot save unknown invitation {invitation.id!r}")
            if (old.account_id, old.email, old.token_hash) != (
                invitation.account_id,
                invitation.email,
                invitation.token_hash,
            ):
                raise StorageError("an invitation's account, email and token cannot change")
        for invitation in invitations:
            self._set(t.invitations, invitation.id, invitation)

    def get_join_invitation(self, invitation_id: str) -> JoinInvitation | None:
        return self._check().invitations.get(invitation_id)

    def get_join_invitations(self, invitation_ids: Sequence[str]) -> list[JoinInvitation]:
        found = self._check().invitations
        return [found[i] for i in dict.fromkeys(invitation_ids) if i in found]

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

    def delete_user_sessions(self, user_id: str, *, keep: str | None = None) -> int:
        t = self._check()
        ended = [s.id for s in t.sessions.values() if s.user_id == user_id and s.id != keep]
        for session_id in ended:
            self.delete_session(session_id)
        return len(ended)

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

    # -- license keys -----------------------------------------------------------------------

    def add_license_key(self, key: LicenseKey) -> None:
        t = self._check()
        if key.id in t.keys:
            raise DuplicateKey(f"a license key with id {key.id!r} already exists")
        if (key.account_id, key.value_hash) in t.key_by_value:
            raise DuplicateKey("the account already holds a license key with that value")
        self._set(t.keys, key.id, key)
        self._set(t.key_by_value, (key.account_id, key.value_hash), key.id)
        self._insort(t.account_keys, key.account_id, key.id)

    def save_license_key(self, key: LicenseKey) -> None:
        t = self._check()
        old = t.keys.get(key.id)
        if old is None:
            raise StorageError(f"cannot save unknown license key {key.id!r}")
        if (old.account_id, old.value_hash) != (key.account_id, key.value_hash):
            raise StorageError("a license key's account and value cannot change")
        self._set(t.keys, key.id, key)

    def get_license_key(self, key_id: str) -> LicenseKey | None:
        return self._check().keys.get(key_id)

    def find_license_key_by_value_hash(
        self, account_id: str, value_hash: bytes
    ) -> LicenseKey | None:
        t = self._check()
        key_id = t.key_by_value.get((account_id, value_hash))
        return None if key_id is None else t.keys[key_id]

    def list_license_keys(
        self, account_id: str, *, after: str | None, limit: int
    ) -> list[LicenseKey]:
        t = self._check()
        return [t.keys[i] for i in _page(t.account_keys.get(account_id, []), after, limit)]

    # -- install invitations ----------------------------------------------------------------

    def add_install_invitations(self, invitations: Sequence[InstallInvitation]) -> None:
        t = self._check()
        ids = {i.id for i in invitations}
        codes = {i.code_hash for i in invitations}
        tokens = {i.token_hash for i in invitations}
        if len(ids) != len(invitations) or not ids.isdisjoint(t.installs):
            raise DuplicateKey("an invitation to install with the same id already exists")
        if len(codes) != len(invitations) or not codes.isdisjoint(t.install_by_code):
            raise DuplicateKey("an invitation to install with the same code hash already exists")
        if len(tokens) != len(invitations) or not tokens.isdisjoint(t.install_by_token):
            raise DuplicateKey("an invitation to install with the same token hash already exists")
        for invitation in invitations:
            self._set(t.installs, invitation.id, invitation)
            self._set(t.install_by_code, invitation.code_hash, invitation.id)
            self._set(t.install_by_token, invitation.token_hash, invitation.id)
            self._insort(t.key_installs, invitation.key_id, invitation.id)

    def save_install_invitation(self, invitation: InstallInvitation) -> None:
        self.save_install_invitations([invitation])

    def save_install_invitations(self, invitations: Sequence[InstallInvitation]) -> None:
        t = self._check()
        fixed = ("account_id", "key_id", "email", "code_hash", "token_hash")
        for invitation in invitations:  # every one is checked before any is changed
            old = t.installs.get(invitation.id)
            if old is None:
                raise StorageError(f"cannot save unknown invitation to install {invitation.id!r}")
            if any(getattr(old, f) != getattr(invitation, f) for f in fixed):
                raise StorageError(
                    "an invitation's account, key, email, code and token cannot change"
                )
        for invitation in invitations:
            self._set(t.installs, invitation.id, invitation)

    def get_install_invitation(self, invitation_id: str) -> InstallInvitation | None:
        return self._check().installs.get(invitation_id)

    def get_install_invitations(self, invitation_ids: Sequence[str]) -> list[InstallInvitation]:
        found = self._check().installs
        return [found[i] for i in dict.fromkeys(invitation_ids) if i in found]

    def find_install_invitation_by_code_hash(self, code_hash: bytes) -> InstallInvitation | None:
        t = self._check()
        invitation_id = t.install_by_code.get(code_hash)
        return None if invitation_id is None else t.installs[invitation_id]

    def find_install_invitation_by_token_hash(self, token_hash: bytes) -> InstallInvitation | None:
        t = self._check()
        invitation_id = t.install_by_token.get(token_hash)
        return None if invitation_id is None else t.installs[invitation_id]

    def list_install_invitations(
        self, key_id: str, *, after: str | None, limit: int
    ) -> list[InstallInvitation]:
        t = self._check()
        return [t.installs[i] for i in _page(t.key_installs.get(key_id, []), after, limit)]

    # -- installations ----------------------------------------------------------------------

    def add_installation(self, installation: Installation) -> None:
        t = self._check()
        computer = (installation.key_id, installation.computer_id)
        if installation.id in t.installations:
            raise DuplicateKey(f"an installation with id {installation.id!r} already exists")
        if computer in t.installation_by_computer:
            raise DuplicateKey(
                f"computer {installation.computer_id!r} already has an installation of that key"
            )
        if installation.token_hash in t.installation_by_token:
            raise DuplicateKey("an installation with the same token hash already exists")
        self._set(t.installations, installation.id, installation)
        self._set(t.installation_by_computer, computer, installation.id)
        self._set(t.installation_by_token, installation.token_hash, installation.id)
        self._insort(t.key_installations, installation.key_id, installation.id)

    def save_installation(self, installation: Installation) -> None:
        t = self._check()
        old = t.installations.get(installation.id)
        if old is None:
            raise StorageError(f"cannot save unknown installation {installation.id!r}")
        fixed = ("account_id", "key_id", "computer_id")
        if any(getattr(old, f) != getattr(installation, f) for f in fixed):
            raise StorageError("an installation's account, key and computer cannot change")
        if old.token_hash != installation.token_hash:
            if installation.token_hash in t.installation_by_token:
                raise DuplicateKey("an installation with the same token hash already exists")
            self._delete(t.installation_by_token, old.token_hash)
            self._set(t.installation_by_token, installation.token_hash, installation.id)
        self._set(t.installations, installation.id, installation)

    def get_installation(self, installation_id: str) -> Installation | None:
        return self._check().installations.get(installation_id)

    def find_installation(self, key_id: str, computer_id: str) -> Installation | None:
        t = self._check()
        installation_id = t.installation_by_computer.get((key_id, computer_id))
        return None if installation_id is None else t.installations[installation_id]

    def find_installation_by_token_hash(self, token_hash: bytes) -> Installation | None:
        t = self._check()
        installation_id = t.installation_by_token.get(token_hash)
        return None if installation_id is None else t.installations[installation_id]

    def list_installations(
        self, key_id: str, *, after: str | None, limit: int
    ) -> list[Installation]:
        t = self._check()
        ids = _page(t.key_installations.get(key_id, []), after, limit)
        return [t.installations[i] for i in ids]

    # -- computer blocks --------------------------------------------------------------------

    def find_computer_blocks(self, account_id: str, computer_id: str) -> list[ComputerBlock]:
        t = self._check()
        keys = t.account_blocks.get(account_id, [])
        start = bisect.bisect_left(keys, f"{computer_id}\t")
        found = []
        for sort_key in keys[start:]:
            block = t.blocks[(account_id, sort_key)]
            if block.computer_id != computer_id:
                break
            found.append(block)
        return found

    def save_computer_block(self, block: ComputerBlock) -> None:
        t = self._check()
        key = (block.account_id, block.sort_key)
        if key not in t.blocks:
            self._insort(t.account_blocks, block.account_id, block.sort_key)
        self._set(t.blocks, key, block)

    def delete_computer_block(self, account_id: str, computer_id: str, key_id: str | None) -> None:
        t = self._check()
        sort_key = f"{computer_id}\t{key_id or ''}"
        if (account_id, sort_key) in t.blocks:
            self._delete(t.blocks, (account_id, sort_key))
            self._remove_sorted(t.account_blocks, account_id, sort_key)

    def list_computer_blocks(
        self, account_id: str, *, after: str | None, limit: int
    ) -> list[ComputerBlock]:
        t = self._check()
        keys = _page(t.account_blocks.get(account_id, []), after, limit)
        return [t.blocks[(account_id, sort_key)] for sort_key in keys]

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
