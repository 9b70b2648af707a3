# ruff: noqa: S101, D102
# This module is a test suite that ships with the library: its checks are plain asserts (pytest
# rewrites them), and its test methods are named for what they check rather than documented.
"""The storage contract: one pytest suite that every :class:`~licensekit.storage.Store` must pass.

An adapter author subclasses :class:`StoreContract` in one of their test modules and
implements :meth:`StoreContract.make_store`; pytest then runs every test of the contract
against the adapter::

    from licensekit._storage_v1 import Store
    from licensekit.testing.contract import StoreContract

    class TestMyStore(StoreContract):
        def make_store(self) -> Store:
            return MyStore(self.tmp_path / "licensekit.db")

        def reopen_store(self, store: Store) -> Store | None:  # optional
            store.close()
            return MyStore(self.tmp_path / "licensekit.db")

The suite covers every operation of :class:`~licensekit.storage.Transaction`: round trips
of every record type, transactions (commit, rollback, isolation from unfinished work, no use
after the block, no nesting), uniqueness rules, look-ups by keyed hash, paging order and
stability, deletions, thread safety (no lost update, no oversold seat through the real
service) and, when :meth:`StoreContract.reopen_store` is implemented, durability. It expects
only licensekit's exceptions (:class:`~licensekit.exceptions.StorageError` and
:class:`~licensekit.exceptions.DuplicateKey`), never a driver's.

This module imports pytest and is meant to be imported from test modules only;
:mod:`licensekit.testing` does not import it. Call
``pytest.register_assert_rewrite("licensekit.testing.contract")`` in your ``conftest.py``
for pytest's detailed assertion messages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import attrs
import pytest

from licensekit._ids import new_id
from licensekit._storage_v1 import Store, Transaction
from licensekit.exceptions import DuplicateKey, SeatsFull, StorageError
from licensekit.model import (
    AuditAction,
    AuditEvent,
    BusinessAccount,
    ComputerBlock,
    Installation,
    InstallationStatus,
    InstallInvitation,
    JoinInvitation,
    KeyStatus,
    LicenseKey,
    Membership,
    MemberStatus,
    Role,
    SessionMethod,
    SessionRecord,
    Throttle,
    User,
)
from licensekit.passwords import PasswordHasher
from licensekit.service import ActivationResult, LicenseKit
from licensekit.testing import (
    TEST_DOWNLOAD_URL,
    TEST_JOIN_URL,
    TEST_SECRET,
    FakeClock,
    RecordingMailer,
    make_business_account,
)

__all__ = ["StoreContract"]

T0 = dt.datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)
"""The suite's reference moment; it has microseconds on purpose."""

_ALL = 1_000_000
"""A page size larger than any listing the suite makes."""

_WAIT = 30.0
"""Seconds a thread of the suite waits for another before the test fails (a deadlock)."""

_PAGING_KEYS = ("A", "B9", "Zz", "a", "a-b", "a0", "a1", "a10", "a2", "b", "b_c", "ba", "c", "c~")
"""Sort keys in ascending code point order: mixed case, digits, and keys that prefix others."""

_SHUFFLED = tuple(sorted(range(len(_PAGING_KEYS)), key=lambda i: (i * 5) % len(_PAGING_KEYS)))
"""A fixed insertion order that is neither ascending nor descending."""


def _at(**delta: float) -> dt.datetime:
    return T0 + dt.timedelta(**delta)


def _hash(label: str) -> bytes:
    """A 32-byte stand-in for a keyed hash, different for every label."""
    return hashlib.sha256(label.encode()).digest()


# -- the records every test starts from ------------------------------------------------------


@attrs.frozen
class _World:
    """Parent records written before each test: users, two accounts, three keys, invitations.

    Records a test adds refer only to these (or to records the test adds first), so a store
    that enforces foreign keys passes too.
    """

    admin: User
    member: User
    outsider: User
    account: BusinessAccount
    other_account: BusinessAccount
    key: LicenseKey
    second_key: LicenseKey
    other_key: LicenseKey
    invitation: InstallInvitation
    second_invitation: InstallInvitation
    other_invitation: InstallInvitation

    @property
    def records(self) -> tuple[object, ...]:
        return tuple(getattr(self, f.name) for f in attrs.fields(type(self)))

    def invitation_for(self, key_id: str) -> InstallInvitation:
        for invitation in (self.invitation, self.second_invitation, self.other_invitation):
            if invitation.key_id == key_id:
                return invitation
        raise LookupError(key_id)

    def account_of(self, key_id: str) -> str:
        return self.invitation_for(key_id).account_id


def _new_world() -> _World:
    admin = User(
        id=new_id("usr", T0),
        email="admin@example.com",
        created_at=T0,
        password_hash="$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",  # noqa: S106
        name="Ada Admin",
    )
    member = User(id=new_id("usr", T0), email="member@example.com", created_at=_at(seconds=1))
    outsider = User(id=new_id("usr", T0), email="outsider@example.com", created_at=_at(seconds=2))
    account = BusinessAccount(
        id=new_id("acc", T0), name="Alpha Ltd", created_at=T0, created_by=admin.id
    )
    other_account = BusinessAccount(
        id=new_id("acc", T0), name="Beta GmbH", created_at=T0, created_by=outsider.id
    )

    def key(account_id: str, label: str) -> LicenseKey:
        return LicenseKey(
            id=new_id("key", T0),
            account_id=account_id,
            product="Suite",
            seats=5,
            seats_used=0,
            created_at=T0,
            created_by=admin.id,
            value_hash=_hash(f"value:{label}"),
            value_ciphertext=b"ciphertext:" + label.encode(),
        )

    def invite(k: LicenseKey) -> InstallInvitation:
        return _install_invitation(k, new_id("inst", T0), "installer@example.com", admin.id)

    keys = key(account.id, "first"), key(account.id, "second"), key(other_account.id, "other")
    return _World(
        admin=admin,
        member=member,
        outsider=outsider,
        account=account,
        other_account=other_account,
        key=keys[0],
        second_key=keys[1],
        other_key=keys[2],
        invitation=invite(keys[0]),
        second_invitation=invite(keys[1]),
        other_invitation=invite(keys[2]),
    )


def _install_invitation(
    key: LicenseKey, invitation_id: str, email: str, invited_by: str, **fields: Any
) -> InstallInvitation:
    values: dict[str, Any] = {
        "language": "en",
        "created_at": T0,
        "expires_at": _at(days=7),
        "code_hash": _hash(f"code:{invitation_id}"),
        "token_hash": _hash(f"download:{invitation_id}"),
        "secret_ciphertext": b"secret:" + invitation_id.encode(),
    }
    values.update(fields)
    return InstallInvitation(
        id=invitation_id,
        account_id=key.account_id,
        key_id=key.id,
        email=email,
        invited_by=invited_by,
        **values,
    )


def _join_invitation(
    world: _World, invitation_id: str, email: str, *, account_id: str | None = None, **fields: Any
) -> JoinInvitation:
    values: dict[str, Any] = {
        "language": "en",
        "invited_by": world.admin.id,
        "created_at": T0,
        "expires_at": _at(days=7),
        "token_hash": _hash(f"join:{invitation_id}"),
        "token_ciphertext": b"token:" + invitation_id.encode(),
    }
    values.update(fields)
    return JoinInvitation(
        id=invitation_id,
        account_id=world.account.id if account_id is None else account_id,
        email=email,
        **values,
    )


def _session(world: _World, session_id: str, **fields: Any) -> SessionRecord:
    values: dict[str, Any] = {
        "user_id": world.member.id,
        "method": SessionMethod.PASSWORD,
        "issued_at": T0,
        "expires_at": _at(hours=8),
        "token_hash": _hash(f"session:{session_id}"),
    }
    values.update(fields)
    return SessionRecord(id=session_id, **values)


def _license_key(world: _World, key_id: str, **fields: Any) -> LicenseKey:
    values: dict[str, Any] = {
        "account_id": world.account.id,
        "product": "Suite",
        "seats": 3,
        "seats_used": 0,
        "created_at": T0,
        "created_by": world.admin.id,
        "value_hash": _hash(f"value:{key_id}"),
        "value_ciphertext": b"value:" + key_id.encode(),
    }
    values.update(fields)
    return LicenseKey(id=key_id, **values)


def _installation(
    world: _World, installation_id: str, computer_id: str, *, key: LicenseKey | None = None
) -> Installation:
    key = world.key if key is None else key
    return Installation(
        id=installation_id,
        account_id=key.account_id,
        key_id=key.id,
        computer_id=computer_id,
        computer_name=f"Desk of {computer_id}",
        email="installer@example.com",
        invitation_id=world.invitation_for(key.id).id,
        activated_at=T0,
        last_seen_at=_at(minutes=5),
        token_hash=_hash(f"installation:{installation_id}"),
    )


def _membership(account_id: str, user_id: str, **fields: Any) -> Membership:
    values: dict[str, Any] = {
        "role": Role.REGULAR_MEMBER,
        "status": MemberStatus.ACTIVE,
        "joined_at": T0,
        "updated_at": T0,
    }
    values.update(fields)
    return Membership(account_id=account_id, user_id=user_id, **values)


def _block(account_id: str, computer_id: str, key_id: str | None, by: str) -> ComputerBlock:
    return ComputerBlock(
        account_id=account_id,
        computer_id=computer_id,
        key_id=key_id,
        blocked_at=T0,
        blocked_by=by,
        notes=f"blocked {computer_id}",
    )


def _throttle(key: str, **fields: Any) -> Throttle:
    values: dict[str, Any] = {"failures": 1, "window_started_at": T0, "expires_at": _at(hours=1)}
    values.update(fields)
    return Throttle(key=key, **values)


def _user(user_id: str) -> User:
    return User(id=user_id, email=f"{user_id.encode().hex()}@example.com", created_at=T0)


# -- writing and reading any record ----------------------------------------------------------


def _insert(tx: Transaction, record: object) -> None:
    """Write *record* with the protocol's method for new records of its type."""
    match record:
        case User():
            tx.add_user(record)
        case BusinessAccount():
            tx.add_account(record)
        case Membership():
            tx.save_membership(record)
        case JoinInvitation():
            tx.add_join_invitations([record])
        case SessionRecord():
            tx.add_session(record)
        case AuditEvent():
            tx.add_audit_events([record])
        case LicenseKey():
            tx.add_license_key(record)
        case InstallInvitation():
            tx.add_install_invitations([record])
        case Installation():
            tx.add_installation(record)
        case ComputerBlock():
            tx.save_computer_block(record)
        case Throttle():
            tx.save_throttle(record)
        case _:
            raise TypeError(f"not a stored record: {record!r}")


def _read_back(tx: Transaction, record: object) -> object | None:
    """Return the stored record with *record*'s key, found the usual way for its type."""
    match record:
        case User():
            return tx.get_user(record.id)
        case BusinessAccount():
            return tx.get_account(record.id)
        case Membership():
            return tx.get_membership(record.account_id, record.user_id)
        case JoinInvitation():
            return tx.get_join_invitation(record.id)
        case SessionRecord():
            return tx.find_session_by_token_hash(record.token_hash)
        case AuditEvent():
            events = tx.list_audit_events(record.account_id, after=None, limit=_ALL)
            return next((e for e in events if e.id == record.id), None)
        case LicenseKey():
            return tx.get_license_key(record.id)
        case InstallInvitation():
            return tx.get_install_invitation(record.id)
        case Installation():
            return tx.get_installation(record.id)
        case ComputerBlock():
            blocks = tx.find_computer_blocks(record.account_id, record.computer_id)
            return next((b for b in blocks if b.key_id == record.key_id), None)
        case Throttle():
            return tx.get_throttle(record.key)
        case _:
            raise TypeError(f"not a stored record: {record!r}")


def _write(store: Store, records: Sequence[object]) -> None:
    with store.transaction() as tx:
        for record in records:
            _insert(tx, record)


def _differences(actual: object, expected: object) -> str:
    if actual is None:
        return "it was not found"
    cls = type(expected)
    if type(actual) is not cls or not attrs.has(cls):
        return f"it came back as {actual!r}"
    names = [
        f.name for f in attrs.fields(cls) if getattr(actual, f.name) != getattr(expected, f.name)
    ]
    return "these fields differ: " + ", ".join(
        f"{n} (wrote {getattr(expected, n)!r}, read {getattr(actual, n)!r})" for n in names
    )


def _assert_same(actual: object, expected: object, what: str) -> None:
    """Assert that *actual* equals the written *expected*, with UTC datetimes."""
    assert actual == expected, f"{what}: {_differences(actual, expected)}"
    cls = type(expected)
    assert attrs.has(cls), f"{what}: not a record: {expected!r}"
    for field in attrs.fields(cls):
        value = getattr(actual, field.name)
        if isinstance(value, dt.datetime):
            assert value.utcoffset() == dt.timedelta(0), (
                f"{what}: {field.name} came back as {value!r}, not as an aware UTC datetime"
            )


def _assert_same_list(actual: Sequence[object], expected: Sequence[Any], what: str) -> None:
    actual = list(actual)
    assert len(actual) == len(expected), (
        f"{what}: expected {len(expected)} records, got {len(actual)}: {actual!r}"
    )
    for position, (got, wrote) in enumerate(zip(actual, expected, strict=True)):
        _assert_same(got, wrote, f"{what}, item {position}")


# -- what the store holds, as far as a set of keys can see ----------------------------------


@attrs.define
class _Probes:
    """Keys to look the store up by; :func:`_state` reads everything they reach."""

    users: set[str] = attrs.Factory(set)
    emails: set[str] = attrs.Factory(set)
    accounts: set[str] = attrs.Factory(set)
    join_invitations: set[str] = attrs.Factory(set)
    keys: set[str] = attrs.Factory(set)
    install_invitations: set[str] = attrs.Factory(set)
    installations: set[str] = attrs.Factory(set)
    computers: set[str] = attrs.Factory(set)
    hashes: set[bytes] = attrs.Factory(set)
    throttles: set[str] = attrs.Factory(set)

    @classmethod
    def of(cls, records: Sequence[object]) -> _Probes:
        probes = cls()
        for record in records:
            probes._add(record)
        return probes

    def _add(self, record: object) -> None:
        match record:
            case User():
                self.users.add(record.id)
                self.emails.add(record.email)
            case BusinessAccount():
                self.accounts.add(record.id)
            case Membership():
                self.accounts.add(record.account_id)
                self.users.add(record.user_id)
            case JoinInvitation():
                self.join_invitations.add(record.id)
                self.accounts.add(record.account_id)
                self.emails.add(record.email)
                self.hashes.add(record.token_hash)
            case SessionRecord():
                self.users.add(record.user_id)
                self.hashes.add(record.token_hash)
            case AuditEvent():
                self.accounts.add(record.account_id)
            case LicenseKey():
                self.keys.add(record.id)
                self.accounts.add(record.account_id)
                self.hashes.add(record.value_hash)
            case InstallInvitation():
                self.install_invitations.add(record.id)
                self.keys.add(record.key_id)
                self.accounts.add(record.account_id)
                self.hashes.update((record.code_hash, record.token_hash))
            case Installation():
                self.installations.add(record.id)
                self.keys.add(record.key_id)
                self.accounts.add(record.account_id)
                self.computers.add(record.computer_id)
                self.hashes.add(record.token_hash)
            case ComputerBlock():
                self.accounts.add(record.account_id)
                self.computers.add(record.computer_id)
            case Throttle():
                self.throttles.add(record.key)
            case _:
                raise TypeError(f"not a stored record: {record!r}")


def _state(store: Store, probes: _Probes) -> list[tuple[str, object]]:
    """Return every look-up and listing *probes* reach, labelled, in one transaction."""
    seen: list[tuple[str, object]] = []

    def note(label: str, value: object) -> None:
        seen.append((label, list(value) if isinstance(value, Sequence) else value))

    with store.transaction() as tx:
        for user_id in sorted(probes.users):
            note(f"get_user({user_id!r})", tx.get_user(user_id))
            note(f"list_user_memberships({user_id!r})", tx.list_user_memberships(user_id))
        for email in sorted(probes.emails):
            note(f"find_user_by_email({email!r})", tx.find_user_by_email(email))
            for account_id in sorted(probes.accounts):
                note(
                    f"list_join_invitations_for_email({account_id!r}, {email!r})",
                    tx.list_join_invitations_for_email(account_id, email),
                )
        for account_id in sorted(probes.accounts):
            a = repr(account_id)
            note(f"get_account({a})", tx.get_account(account_id))
            note(f"list_memberships({a})", tx.list_memberships(account_id, after=None, limit=_ALL))
            note(f"count_active_administrators({a})", tx.count_active_administrators(account_id))
            note(
                f"list_join_invitations({a})",
                tx.list_join_invitations(account_id, after=None, limit=_ALL),
            )
            note(
                f"list_audit_events({a})", tx.list_audit_events(account_id, after=None, limit=_ALL)
            )
            note(
                f"list_license_keys({a})", tx.list_license_keys(account_id, after=None, limit=_ALL)
            )
            note(
                f"list_computer_blocks({a})",
                tx.list_computer_blocks(account_id, after=None, limit=_ALL),
            )
            for user_id in sorted(probes.users):
                note(f"get_membership({a}, {user_id!r})", tx.get_membership(account_id, user_id))
            for computer_id in sorted(probes.computers):
                note(
                    f"find_computer_blocks({a}, {computer_id!r})",
                    tx.find_computer_blocks(account_id, computer_id),
                )
            for value_hash in sorted(probes.hashes):
                note(
                    f"find_license_key_by_value_hash({a}, {value_hash.hex()})",
                    tx.find_license_key_by_value_hash(account_id, value_hash),
                )
        for invitation_id in sorted(probes.join_invitations):
            note(f"get_join_invitation({invitation_id!r})", tx.get_join_invitation(invitation_id))
        for key_id in sorted(probes.keys):
            k = repr(key_id)
            note(f"get_license_key({k})", tx.get_license_key(key_id))
            note(
                f"list_install_invitations({k})",
                tx.list_install_invitations(key_id, after=None, limit=_ALL),
            )
            note(f"list_installations({k})", tx.list_installations(key_id, after=None, limit=_ALL))
            for computer_id in sorted(probes.computers):
                note(
                    f"find_installation({k}, {computer_id!r})",
                    tx.find_installation(key_id, computer_id),
                )
        for invitation_id in sorted(probes.install_invitations):
            note(
                f"get_install_invitation({invitation_id!r})",
                tx.get_install_invitation(invitation_id),
            )
        for installation_id in sorted(probes.installations):
            note(f"get_installation({installation_id!r})", tx.get_installation(installation_id))
        for token_hash in sorted(probes.hashes):
            h = token_hash.hex()
            note(
                f"find_join_invitation_by_token_hash({h})",
                tx.find_join_invitation_by_token_hash(token_hash),
            )
            note(f"find_session_by_token_hash({h})", tx.find_session_by_token_hash(token_hash))
            note(
                f"find_install_invitation_by_code_hash({h})",
                tx.find_install_invitation_by_code_hash(token_hash),
            )
            note(
                f"find_install_invitation_by_token_hash({h})",
                tx.find_install_invitation_by_token_hash(token_hash),
            )
            note(
                f"find_installation_by_token_hash({h})",
                tx.find_installation_by_token_hash(token_hash),
            )
        for key in sorted(probes.throttles):
            note(f"get_throttle({key!r})", tx.get_throttle(key))
    return seen


def _assert_state_unchanged(
    before: list[tuple[str, object]], after: list[tuple[str, object]], what: str
) -> None:
    changed = [
        f"{label}: was {old!r}, is {new!r}"
        for (label, old), (_, new) in zip(before, after, strict=True)
        if old != new
    ]
    assert not changed, f"{what} changed the store: " + "; ".join(changed)


# -- threads ----------------------------------------------------------------------------------


class _Worker(threading.Thread):
    """A thread that keeps its target's result or the exception it raised."""

    def __init__(self, name: str, work: Callable[[], object]) -> None:
        super().__init__(name=name, daemon=True)
        self._work = work
        self.result: object = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self._work()
        except BaseException as e:  # handed to the test, which reports it
            self.error = e


def _describe(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))


def _join(workers: Sequence[_Worker]) -> None:
    for worker in workers:
        worker.join(timeout=_WAIT)
    stuck = [w.name for w in workers if w.is_alive()]
    assert not stuck, f"threads still running after {_WAIT} s (a deadlock?): {stuck}"


def _race(count: int, work: Callable[[int], object]) -> list[_Worker]:
    """Run ``work(0)`` ... ``work(count - 1)`` in threads released together by a barrier.

    The interpreter switches threads very often meanwhile, so that races interleave.
    """
    barrier = threading.Barrier(count)

    def released(index: int) -> Callable[[], object]:
        def run() -> object:
            barrier.wait(timeout=_WAIT)
            return work(index)

        return run

    workers = [_Worker(f"contract-racer-{n}", released(n)) for n in range(count)]
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for worker in workers:
            worker.start()
        _join(workers)
    finally:
        sys.setswitchinterval(previous)
    return workers


class _DawdlingStore:
    """Wraps a store so that its transactions pause after every read.

    A store that does not serialise its transactions then lets racing threads all read
    before any of them writes, whatever its speed; a store that does serialise them only
    runs a little slower. Everything else is the wrapped store's own behaviour.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self.pause = 0.0
        """Seconds to pause after each read; 0 to pass straight through."""

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self._store.transaction() as tx:
            if not self.pause:
                yield tx
            else:
                yield cast("Transaction", _DawdlingTransaction(tx, self.pause))

    def close(self) -> None:
        self._store.close()


class _DawdlingTransaction:
    _READS = ("get_", "find_", "list_", "count_")

    def __init__(self, tx: Transaction, pause: float) -> None:
        self._tx = tx
        self._pause = pause

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._tx, name)
        if not name.startswith(self._READS):
            return method

        def read_then_pause(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            time.sleep(self._pause)
            return result

        return read_then_pause


def _assert_no_errors(workers: Sequence[_Worker]) -> None:
    errors = [w.error for w in workers if w.error is not None]
    assert not errors, f"{len(errors)} of {len(workers)} threads failed; the first:\n" + _describe(
        errors[0]
    )


# -- listings, described once for the paging tests ------------------------------------------


@attrs.frozen
class _Listing:
    """One ``list_*`` method: how to make a record with a given sort key in a given scope."""

    scopes: Callable[[_World], tuple[str, str]]
    make: Callable[[_World, str, str], Any]
    add: Callable[[Transaction, Any], None]
    fetch: Callable[[Transaction, str, str | None, int], Sequence[Any]]
    sort_key: Callable[[Any], str]
    prepare: Callable[[Transaction, Any], None] = lambda tx, record: None


def _add_member_user(tx: Transaction, membership: Membership) -> None:
    if tx.get_user(membership.user_id) is None:
        tx.add_user(_user(membership.user_id))


_LISTINGS: dict[str, _Listing] = {
    "list_memberships": _Listing(
        scopes=lambda w: (w.account.id, w.other_account.id),
        make=lambda w, scope, key: _membership(scope, key),
        prepare=_add_member_user,
        add=lambda tx, r: tx.save_membership(r),
        fetch=lambda tx, scope, after, limit: tx.list_memberships(scope, after=after, limit=limit),
        sort_key=lambda r: r.user_id,
    ),
    "list_join_invitations": _Listing(
        scopes=lambda w: (w.account.id, w.other_account.id),
        make=lambda w, scope, key: _join_invitation(
            w, key, "guest@example.com", account_id=scope, token_hash=_hash(f"join:{scope}:{key}")
        ),
        add=lambda tx, r: tx.add_join_invitations([r]),
        fetch=lambda tx, scope, after, limit: tx.list_join_invitations(
            scope, after=after, limit=limit
        ),
        sort_key=lambda r: r.id,
    ),
    "list_audit_events": _Listing(
        scopes=lambda w: (w.account.id, w.other_account.id),
        make=lambda w, scope, key: AuditEvent(
            id=key,
            account_id=scope,
            at=T0,
            actor_id=w.admin.id,
            action=AuditAction.MEMBER_BLOCKED,
            subject=w.member.id,
        ),
        add=lambda tx, r: tx.add_audit_events([r]),
        fetch=lambda tx, scope, after, limit: tx.list_audit_events(scope, after=after, limit=limit),
        sort_key=lambda r: r.id,
    ),
    "list_license_keys": _Listing(
        scopes=lambda w: (w.account.id, w.other_account.id),
        make=lambda w, scope, key: _license_key(
            w, key, account_id=scope, value_hash=_hash(f"value:{scope}:{key}")
        ),
        add=lambda tx, r: tx.add_license_key(r),
        fetch=lambda tx, scope, after, limit: tx.list_license_keys(scope, after=after, limit=limit),
        sort_key=lambda r: r.id,
    ),
    "list_install_invitations": _Listing(
        scopes=lambda w: (w.key.id, w.second_key.id),
        make=lambda w, scope, key: _install_invitation(
            w.key if scope == w.key.id else w.second_key,
            key,
            "installer@example.com",
            w.admin.id,
            code_hash=_hash(f"code:{scope}:{key}"),
            token_hash=_hash(f"download:{scope}:{key}"),
        ),
        add=lambda tx, r: tx.add_install_invitations([r]),
        fetch=lambda tx, scope, after, limit: tx.list_install_invitations(
            scope, after=after, limit=limit
        ),
        sort_key=lambda r: r.id,
    ),
    "list_installations": _Listing(
        scopes=lambda w: (w.key.id, w.second_key.id),
        make=lambda w, scope, key: attrs.evolve(
            _installation(w, key, f"pc {key}", key=w.key if scope == w.key.id else w.second_key),
            token_hash=_hash(f"installation:{scope}:{key}"),
        ),
        add=lambda tx, r: tx.add_installation(r),
        fetch=lambda tx, scope, after, limit: tx.list_installations(
            scope, after=after, limit=limit
        ),
        sort_key=lambda r: r.id,
    ),
    "list_computer_blocks": _Listing(
        scopes=lambda w: (w.account.id, w.other_account.id),
        make=lambda w, scope, key: _block(scope, key, None, w.admin.id),
        add=lambda tx, r: tx.save_computer_block(r),
        fetch=lambda tx, scope, after, limit: tx.list_computer_blocks(
            scope, after=after, limit=limit
        ),
        sort_key=lambda r: r.sort_key,
    ),
}


# -- writes the store must refuse -------------------------------------------------------------


@attrs.frozen
class _Refusal:
    """A write that must fail, after *existing* records were committed."""

    attempt: Callable[[Transaction], object]
    attempted: tuple[object, ...]
    existing: tuple[object, ...] = ()


def _user_id_clash(w: _World) -> _Refusal:
    twin = User(id=w.member.id, email="twin@example.com", created_at=T0)
    return _Refusal(lambda tx: tx.add_user(twin), (twin,))


def _user_email_clash(w: _World) -> _Refusal:
    twin = User(id=new_id("usr", T0), email=w.member.email, created_at=T0)
    return _Refusal(lambda tx: tx.add_user(twin), (twin,))


def _user_email_clash_on_save(w: _World) -> _Refusal:
    moved = attrs.evolve(w.outsider, email=w.member.email)
    return _Refusal(lambda tx: tx.save_user(moved), (moved,))


def _account_id_clash(w: _World) -> _Refusal:
    twin = attrs.evolve(w.other_account, id=w.account.id, name="Twin Ltd")
    return _Refusal(lambda tx: tx.add_account(twin), (twin,))


def _join_invitation_clashes(field: str) -> Callable[[_World], _Refusal]:
    def make(w: _World) -> _Refusal:
        first = _join_invitation(w, new_id("jinv", T0), "first@example.com")
        twin = _join_invitation(w, new_id("jinv", T0), "twin@example.com")
        twin = attrs.evolve(twin, **{field: getattr(first, field)})
        return _Refusal(lambda tx: tx.add_join_invitations([twin]), (twin,), (first,))

    return make


def _join_invitation_batch_clash(w: _World) -> _Refusal:
    first = _join_invitation(w, new_id("jinv", T0), "first@example.com")
    fresh = [_join_invitation(w, new_id("jinv", T0), f"new{n}@example.com") for n in range(3)]
    twin = attrs.evolve(fresh[1], token_hash=first.token_hash)
    batch = [fresh[0], twin, fresh[2]]
    return _Refusal(lambda tx: tx.add_join_invitations(batch), tuple(batch), (first,))


def _join_invitation_batch_repeats(field: str) -> Callable[[_World], _Refusal]:
    def make(w: _World) -> _Refusal:
        one = _join_invitation(w, new_id("jinv", T0), "one@example.com")
        two = _join_invitation(w, new_id("jinv", T0), "two@example.com")
        batch = [one, attrs.evolve(two, **{field: getattr(one, field)})]
        return _Refusal(lambda tx: tx.add_join_invitations(batch), tuple(batch))

    return make


def _session_clashes(field: str) -> Callable[[_World], _Refusal]:
    def make(w: _World) -> _Refusal:
        first = _session(w, new_id("ses", T0))
        twin = attrs.evolve(_session(w, new_id("ses", T0)), **{field: getattr(first, field)})
        return _Refusal(lambda tx: tx.add_session(twin), (twin,), (first,))

    return make


def _license_key_id_clash(w: _World) -> _Refusal:
    twin = _license_key(w, w.key.id, value_hash=_hash("value:twin"))
    return _Refusal(lambda tx: tx.add_license_key(twin), (twin,))


def _license_key_value_clash(w: _World) -> _Refusal:
    twin = _license_key(w, new_id("key", T0), value_hash=w.key.value_hash)
    return _Refusal(lambda tx: tx.add_license_key(twin), (twin,))


def _install_invitation_clashes(field: str) -> Callable[[_World], _Refusal]:
    def make(w: _World) -> _Refusal:
        twin = _install_invitation(w.key, new_id("inst", T0), "twin@example.com", w.admin.id)
        twin = attrs.evolve(twin, **{field: getattr(w.invitation, field)})
        return _Refusal(lambda tx: tx.add_install_invitations([twin]), (twin,))

    return make


def _install_invitation_batch_clash(field: str) -> Callable[[_World], _Refusal]:
    def make(w: _World) -> _Refusal:
        fresh = [
            _install_invitation(w.key, new_id("inst", T0), f"new{n}@example.com", w.admin.id)
            for n in range(3)
        ]
        batch = [fresh[0], attrs.evolve(fresh[1], **{field: getattr(w.invitation, field)})]
        batch.append(fresh[2])
        return _Refusal(lambda tx: tx.add_install_invitations(batch), tuple(batch))

    return make


def _install_invitation_batch_repeats(field: str) -> Callable[[_World], _Refusal]:
    def make(w: _World) -> _Refusal:
        one = _install_invitation(w.key, new_id("inst", T0), "one@example.com", w.admin.id)
        two = _install_invitation(w.key, new_id("inst", T0), "two@example.com", w.admin.id)
        batch = [one, attrs.evolve(two, **{field: getattr(one, field)})]
        return _Refusal(lambda tx: tx.add_install_invitations(batch), tuple(batch))

    return make


def _installation_clashes(field: str) -> Callable[[_World], _Refusal]:
    def make(w: _World) -> _Refusal:
        first = _installation(w, new_id("ins", T0), "pc-first")
        twin = _installation(w, new_id("ins", T0), "pc-twin")
        twin = attrs.evolve(twin, **{field: getattr(first, field)})
        return _Refusal(lambda tx: tx.add_installation(twin), (twin,), (first,))

    return make


def _installation_token_clash_on_save(w: _World) -> _Refusal:
    first = _installation(w, new_id("ins", T0), "pc-first")
    second = _installation(w, new_id("ins", T0), "pc-second")
    moved = attrs.evolve(second, token_hash=first.token_hash)
    return _Refusal(lambda tx: tx.save_installation(moved), (moved,), (first, second))


_DUPLICATES: dict[str, Callable[[_World], _Refusal]] = {
    "add_user same id": _user_id_clash,
    "add_user same email": _user_email_clash,
    "save_user to another user's email": _user_email_clash_on_save,
    "add_account same id": _account_id_clash,
    "add_join_invitations same id": _join_invitation_clashes("id"),
    "add_join_invitations same token_hash": _join_invitation_clashes("token_hash"),
    "add_join_invitations batch with one clash": _join_invitation_batch_clash,
    "add_join_invitations batch repeating an id": _join_invitation_batch_repeats("id"),
    "add_join_invitations batch repeating a token_hash": _join_invitation_batch_repeats(
        "token_hash"
    ),
    "add_session same id": _session_clashes("id"),
    "add_session same token_hash": _session_clashes("token_hash"),
    "add_license_key same id": _license_key_id_clash,
    "add_license_key same account and value_hash": _license_key_value_clash,
    "add_install_invitations same id": _install_invitation_clashes("id"),
    "add_install_invitations same code_hash": _install_invitation_clashes("code_hash"),
    "add_install_invitations same token_hash": _install_invitation_clashes("token_hash"),
    "add_install_invitations batch with one id clash": _install_invitation_batch_clash("id"),
    "add_install_invitations batch with one code_hash clash": _install_invitation_batch_clash(
        "code_hash"
    ),
    "add_install_invitations batch with one token_hash clash": _install_invitation_batch_clash(
        "token_hash"
    ),
    "add_install_invitations batch repeating an id": _install_invitation_batch_repeats("id"),
    "add_install_invitations batch repeating a code_hash": _install_invitation_batch_repeats(
        "code_hash"
    ),
    "add_install_invitations batch repeating a token_hash": _install_invitation_batch_repeats(
        "token_hash"
    ),
    "add_installation same id": _installation_clashes("id"),
    "add_installation same key and computer": _installation_clashes("computer_id"),
    "add_installation same token_hash": _installation_clashes("token_hash"),
    "save_installation to another installation's token_hash": _installation_token_clash_on_save,
}


_UNKNOWN: dict[str, Callable[[_World], _Refusal]] = {
    "save_user": lambda w: _Refusal(
        lambda tx: tx.save_user(_user("usr-unknown")), (_user("usr-unknown"),)
    ),
    "save_join_invitation": lambda w: _Refusal(
        lambda tx: tx.save_join_invitation(_join_invitation(w, "jinv-unknown", "x@example.com")),
        (_join_invitation(w, "jinv-unknown", "x@example.com"),),
    ),
    "save_session": lambda w: _Refusal(
        lambda tx: tx.save_session(_session(w, "ses-unknown")), (_session(w, "ses-unknown"),)
    ),
    "save_license_key": lambda w: _Refusal(
        lambda tx: tx.save_license_key(_license_key(w, "key-unknown")),
        (_license_key(w, "key-unknown"),),
    ),
    "save_install_invitation": lambda w: _Refusal(
        lambda tx: tx.save_install_invitation(
            _install_invitation(w.key, "inst-unknown", "x@example.com", w.admin.id)
        ),
        (_install_invitation(w.key, "inst-unknown", "x@example.com", w.admin.id),),
    ),
    "save_installation": lambda w: _Refusal(
        lambda tx: tx.save_installation(_installation(w, "ins-unknown", "pc-unknown")),
        (_installation(w, "ins-unknown", "pc-unknown"),),
    ),
}


def _fixed_field_change(
    existing: Callable[[_World], Any], change: Callable[[_World, Any], Any], save: str
) -> Callable[[_World], _Refusal]:
    def make(w: _World) -> _Refusal:
        old = existing(w)
        new = change(w, old)
        written_first = () if old in w.records else (old,)
        return _Refusal(lambda tx: getattr(tx, save)(new), (new,), written_first)

    return make


def _existing_join_invitation(w: _World) -> JoinInvitation:
    return _join_invitation(w, "jinv-fixed", "fixed@example.com")


def _existing_installation(w: _World) -> Installation:
    return _installation(w, "ins-fixed", "pc-fixed")


_FIXED: dict[str, Callable[[_World], _Refusal]] = {
    "save_join_invitation account_id": _fixed_field_change(
        _existing_join_invitation,
        lambda w, r: attrs.evolve(r, account_id=w.other_account.id),
        "save_join_invitation",
    ),
    "save_join_invitation email": _fixed_field_change(
        _existing_join_invitation,
        lambda w, r: attrs.evolve(r, email="moved@example.com"),
        "save_join_invitation",
    ),
    "save_join_invitation token_hash": _fixed_field_change(
        _existing_join_invitation,
        lambda w, r: attrs.evolve(r, token_hash=_hash("join:moved")),
        "save_join_invitation",
    ),
    "save_session token_hash": _fixed_field_change(
        lambda w: _session(w, "ses-fixed"),
        lambda w, r: attrs.evolve(r, token_hash=_hash("session:moved")),
        "save_session",
    ),
    "save_license_key account_id": _fixed_field_change(
        lambda w: w.key,
        lambda w, r: attrs.evolve(r, account_id=w.other_account.id),
        "save_license_key",
    ),
    "save_license_key value_hash": _fixed_field_change(
        lambda w: w.key,
        lambda w, r: attrs.evolve(r, value_hash=_hash("value:moved")),
        "save_license_key",
    ),
    "save_install_invitation account_id": _fixed_field_change(
        lambda w: w.invitation,
        lambda w, r: attrs.evolve(r, account_id=w.other_account.id),
        "save_install_invitation",
    ),
    "save_install_invitation key_id": _fixed_field_change(
        lambda w: w.invitation,
        lambda w, r: attrs.evolve(r, key_id=w.second_key.id),
        "save_install_invitation",
    ),
    "save_install_invitation email": _fixed_field_change(
        lambda w: w.invitation,
        lambda w, r: attrs.evolve(r, email="moved@example.com"),
        "save_install_invitation",
    ),
    "save_install_invitation code_hash": _fixed_field_change(
        lambda w: w.invitation,
        lambda w, r: attrs.evolve(r, code_hash=_hash("code:moved")),
        "save_install_invitation",
    ),
    "save_install_invitation token_hash": _fixed_field_change(
        lambda w: w.invitation,
        lambda w, r: attrs.evolve(r, token_hash=_hash("download:moved")),
        "save_install_invitation",
    ),
    "save_installation account_id": _fixed_field_change(
        _existing_installation,
        lambda w, r: attrs.evolve(r, account_id=w.other_account.id),
        "save_installation",
    ),
    "save_installation key_id": _fixed_field_change(
        _existing_installation,
        lambda w, r: attrs.evolve(r, key_id=w.second_key.id),
        "save_installation",
    ),
    "save_installation computer_id": _fixed_field_change(
        _existing_installation,
        lambda w, r: attrs.evolve(r, computer_id="pc-moved"),
        "save_installation",
    ),
}


@attrs.frozen
class _Each:
    """A new, fully populated record of every type (see :func:`_one_of_each`)."""

    user: User
    account: BusinessAccount
    key: LicenseKey
    membership: Membership
    join_invitation: JoinInvitation
    session: SessionRecord
    event: AuditEvent
    install_invitation: InstallInvitation
    installation: Installation
    account_block: ComputerBlock
    key_block: ComputerBlock
    throttle: Throttle

    @property
    def records(self) -> list[object]:
        """Every record, parents before the records that refer to them."""
        return [getattr(self, f.name) for f in attrs.fields(type(self))]


def _one_of_each(w: _World) -> _Each:
    """Return a new record of every type, every optional field set, referring to *w*.

    Texts, bytes and numbers are chosen to trip careless encodings.
    """
    user = User(
        id=new_id("usr", T0),
        email="zoë.o'brien+licences@example.com",
        created_at=_at(days=1),
        password_hash="$argon2id$v=19$m=8,t=1,p=1$b3RoZXJzYWx0$b3RoZXJoYXNo",  # noqa: S106
        name="Zoë O'Brien 🚀",
        email_verified_at=_at(days=1, microseconds=7),
    )
    account = BusinessAccount(
        id=new_id("acc", T0), name='Ünïcode & "Quotes" Ltd', created_at=T0, created_by=user.id
    )
    key = _license_key(
        w,
        new_id("key", T0),
        account_id=account.id,
        seats=1_000_000,
        seats_used=999_999,
        value_hash=b"\x00\x01\x00\xff" * 8,
        value_ciphertext=b"\x00ciphertext\x00\xfe",
        expires_at=_at(days=365),
        status=KeyStatus.SUSPENDED,
        updated_at=_at(days=2),
    )
    invitation = _install_invitation(
        key,
        new_id("inst", T0),
        "zoë.o'brien+licences@example.com",
        user.id,
        language="pt-BR",
        max_activations=3,
        activations=2,
        computer_ids=("pc-zeta", "pc-alpha", "pc-mid"),
        last_activated_at=_at(hours=3),
        revoked_at=_at(hours=4),
        revoked_by=user.id,
        sent_count=4,
        last_sent_at=_at(hours=2),
    )
    installation_id = new_id("ins", T0)
    return _Each(
        user=user,
        account=account,
        key=key,
        membership=_membership(
            account.id,
            user.id,
            role=Role.ACCOUNT_ADMINISTRATOR,
            joined_at=_at(seconds=30),
            updated_at=_at(minutes=1),
            changed_by=w.admin.id,
            notes="promoted\nfor the audit",
            admin_grant=3,
            license_keys=frozenset({key.id, w.key.id}),
        ),
        join_invitation=_join_invitation(
            w,
            new_id("jinv", T0),
            "guest+one@example.com",
            account_id=account.id,
            language="fr",
            accepted_at=_at(hours=1),
            accepted_by=w.member.id,
            revoked_at=_at(hours=2),
            revoked_by=user.id,
            sent_count=2,
            last_sent_at=_at(minutes=30),
        ),
        session=_session(
            w,
            new_id("ses", T0),
            user_id=user.id,
            method=SessionMethod.INVITATION,
            admin_grants={account.id: 3, w.account.id: 1},
        ),
        event=AuditEvent(
            id=new_id("evt", T0),
            account_id=account.id,
            at=_at(seconds=1),
            actor_id=user.id,
            action=AuditAction.ROLE_CHANGED,
            subject=w.member.id,
            details={"old_role": "regular_member", "new_role": "account_administrator", "n": "ü"},
        ),
        install_invitation=invitation,
        installation=Installation(
            id=installation_id,
            account_id=account.id,
            key_id=key.id,
            computer_id="pc-alpha",
            computer_name="Zoë's laptop 💻",
            email=invitation.email,
            invitation_id=invitation.id,
            activated_at=_at(hours=3),
            last_seen_at=_at(hours=5),
            token_hash=_hash(f"installation:{installation_id}"),
            status=InstallationStatus.DEACTIVATED,
            deactivated_at=_at(hours=6),
            deactivated_by=user.id,
        ),
        account_block=_block(account.id, "pc-alpha", None, user.id),
        key_block=attrs.evolve(_block(account.id, "pc-alpha", key.id, user.id), notes="ü" * 2000),
        throttle=_throttle(
            "password:zoë.o'brien+licences@example.com",
            failures=7,
            window_started_at=_at(minutes=1),
            expires_at=_at(minutes=16),
            locked_until=_at(minutes=15),
        ),
    )


class _Boom(Exception):
    """Raised inside a transaction block by the suite, to make it roll back."""


def _expect_storage_error(call: Callable[[], object], what: str) -> StorageError:
    try:
        call()
    except StorageError as e:
        return e
    pytest.fail(f"{what} did not raise StorageError")


class StoreContract:
    """The storage contract suite; subclass it as ``Test...`` and implement :meth:`make_store`.

    Every ``test_*`` method runs against a fresh store from :meth:`make_store`. Stores the
    suite opens are closed when the test ends. A test that does not apply to a store can be
    overridden in the subclass (for example marked ``xfail`` with the reason).

    Attributes:
        tmp_path: A directory unique to the running test, for stores kept in files.
    """

    tmp_path: Path

    # -- what the adapter author provides -------------------------------------------------

    def make_store(self) -> Store:
        """Return a new, empty store of the kind under test."""
        raise NotImplementedError("implement make_store() in your StoreContract subclass")

    def reopen_store(self, store: Store) -> Store | None:
        """Close *store* and return a new one open on the same data, or None if impossible.

        The default returns None, which skips the persistence tests.
        """
        return None

    # -- fixtures ---------------------------------------------------------------------------

    @pytest.fixture(autouse=True)
    def _contract_lifecycle(self, tmp_path: Path) -> Iterator[None]:
        self.tmp_path = tmp_path
        self._contract_stores: list[Store] = []
        yield
        while self._contract_stores:
            self._contract_stores.pop().close()

    @pytest.fixture
    def store(self) -> Store:
        """A new empty store, closed after the test."""
        return self._open_store()

    # -- helpers ----------------------------------------------------------------------------

    def _open_store(self) -> Store:
        store = self.make_store()
        self._contract_stores.append(store)
        return store

    def _forget_store(self, store: Store) -> None:
        self._contract_stores = [s for s in self._contract_stores if s is not store]

    def _require_reopen(self) -> None:
        if type(self).reopen_store is StoreContract.reopen_store:
            pytest.skip("reopen_store() is not implemented: persistence is not tested")

    def _reopen(self, store: Store) -> Store:
        self._forget_store(store)
        reopened = self.reopen_store(store)
        if reopened is None:
            pytest.skip("reopen_store() returned None: persistence is not tested")
        assert reopened is not store, "reopen_store() must return a new store object"
        self._contract_stores.append(reopened)
        return reopened

    @staticmethod
    def _seed(store: Store) -> _World:
        world = _new_world()
        _write(store, world.records)
        return world

    @staticmethod
    def _assert_refused(
        store: Store,
        world: _World,
        refusal: _Refusal,
        error: type[StorageError],
        what: str,
    ) -> None:
        """Commit *refusal*'s existing records, then check that its attempt is refused.

        The call itself must raise *error*; the block lets it propagate, and afterwards the
        store must hold exactly what it held before.
        """
        _write(store, refusal.existing)
        probes = _Probes.of([*world.records, *refusal.existing, *refusal.attempted])
        before = _state(store, probes)
        completed = False

        def attempt() -> None:
            nonlocal completed
            with store.transaction() as tx:
                refusal.attempt(tx)
                completed = True

        raised = _expect_storage_error(attempt, what)
        assert not completed, (
            f"{what}: the call returned and the commit raised {raised!r}; the call must raise"
        )
        assert isinstance(raised, error), f"{what}: raised {raised!r}, not {error.__name__}"
        _assert_state_unchanged(before, _state(store, probes), what)

    # == round trips ==========================================================================

    def test_round_trip_users(self, store: Store) -> None:
        world = self._seed(store)
        each = _one_of_each(world)
        _write(store, [each.user])
        with store.transaction() as tx:
            for user in (world.admin, world.member, each.user):
                _assert_same(tx.get_user(user.id), user, "get_user")
                _assert_same(tx.find_user_by_email(user.email), user, "find_user_by_email")

    def test_round_trip_business_accounts(self, store: Store) -> None:
        world = self._seed(store)
        each = _one_of_each(world)
        _write(store, [each.user, each.account])
        with store.transaction() as tx:
            for account in (world.account, world.other_account, each.account):
                _assert_same(tx.get_account(account.id), account, "get_account")

    def test_round_trip_memberships_of_every_role_and_status(self, store: Store) -> None:
        world = self._seed(store)
        memberships = []
        for n, (role, status) in enumerate((r, s) for r in Role for s in MemberStatus):
            user = _user(new_id("usr", T0))
            full = n % 2 == 0
            memberships.append(
                (
                    user,
                    _membership(
                        world.account.id,
                        user.id,
                        role=role,
                        status=status,
                        joined_at=_at(days=n),
                        updated_at=_at(days=n, microseconds=1),
                        changed_by=world.admin.id if full else None,
                        notes=f"note {n} ü" if full else "",
                        admin_grant=n if full else 0,
                        license_keys={world.key.id, world.second_key.id} if full else (),
                    ),
                )
            )
        elsewhere = _membership(world.other_account.id, memberships[0][0].id)
        _write(store, [record for pair in memberships for record in pair] + [elsewhere])
        with store.transaction() as tx:
            for user, membership in memberships:
                _assert_same(
                    tx.get_membership(membership.account_id, user.id), membership, "get_membership"
                )
            expected = sorted((m for _, m in memberships), key=lambda m: m.user_id)
            _assert_same_list(
                tx.list_memberships(world.account.id, after=None, limit=_ALL),
                expected,
                "list_memberships",
            )
            _assert_same_list(
                tx.list_user_memberships(memberships[1][0].id),
                [memberships[1][1]],
                "list_user_memberships",
            )

    def test_round_trip_join_invitations(self, store: Store) -> None:
        world = self._seed(store)
        each = _one_of_each(world)
        invitation = each.join_invitation
        plain = _join_invitation(world, new_id("jinv", T0), invitation.email)
        _write(store, [each.user, each.account, invitation])
        _write(store, [plain])
        with store.transaction() as tx:
            for record in (invitation, plain):
                _assert_same(tx.get_join_invitation(record.id), record, "get_join_invitation")
                _assert_same(
                    tx.find_join_invitation_by_token_hash(record.token_hash),
                    record,
                    "find_join_invitation_by_token_hash",
                )
                _assert_same_list(
                    tx.list_join_invitations(record.account_id, after=None, limit=_ALL),
                    [record],
                    "list_join_invitations",
                )
                _assert_same_list(
                    tx.list_join_invitations_for_email(record.account_id, record.email),
                    [record],
                    "list_join_invitations_for_email",
                )

    def test_round_trip_sessions_of_every_method(self, store: Store) -> None:
        world = self._seed(store)
        sessions = [
            _session(
                world,
                new_id("ses", T0),
                method=method,
                issued_at=_at(minutes=n),
                expires_at=_at(hours=n + 1, microseconds=7),
                admin_grants={world.account.id: n + 1, world.other_account.id: 2} if n else {},
            )
            for n, method in enumerate(SessionMethod)
        ]
        _write(store, sessions)
        with store.transaction() as tx:
            for session in sessions:
                _assert_same(
                    tx.find_session_by_token_hash(session.token_hash),
                    session,
                    "find_session_by_token_hash",
                )

    def test_round_trip_audit_events_of_every_action(self, store: Store) -> None:
        world = self._seed(store)
        events = [
            AuditEvent(
                id=new_id("evt", T0),
                account_id=world.account.id,
                at=_at(seconds=n, microseconds=n),
                actor_id="" if action is AuditAction.ACTIVATED else world.admin.id,
                action=action,
                subject=world.member.id,
                details={"note": f"ünï {n}", "email": "a@example.com"} if n % 2 else {},
            )
            for n, action in enumerate(AuditAction)
        ]
        half = len(events) // 2
        with store.transaction() as tx:
            tx.add_audit_events(events[:half])
        with store.transaction() as tx:
            tx.add_audit_events(events[half:])
        with store.transaction() as tx:
            _assert_same_list(
                tx.list_audit_events(world.account.id, after=None, limit=_ALL),
                sorted(events, key=lambda e: e.id),
                "list_audit_events",
            )

    def test_round_trip_license_keys_of_every_status(self, store: Store) -> None:
        world = self._seed(store)
        keys = [
            _license_key(
                world,
                new_id("key", T0),
                status=status,
                seats=10 + n,
                seats_used=n,
                expires_at=_at(days=30 + n) if n % 2 else None,
                updated_at=_at(hours=n) if n else None,
                value_hash=b"\x00" * 8 + _hash(f"value:{n}")[8:],
            )
            for n, status in enumerate((*KeyStatus, KeyStatus.ACTIVE))
        ]
        each = _one_of_each(world)
        _write(store, [*keys, each.user, each.account, each.key])
        with store.transaction() as tx:
            for key in [*keys, each.key]:
                _assert_same(tx.get_license_key(key.id), key, "get_license_key")
                _assert_same(
                    tx.find_license_key_by_value_hash(key.account_id, key.value_hash),
                    key,
                    "find_license_key_by_value_hash",
                )
            _assert_same_list(
                tx.list_license_keys(world.account.id, after=None, limit=_ALL),
                sorted([world.key, world.second_key, *keys], key=lambda k: k.id),
                "list_license_keys",
            )

    def test_round_trip_install_invitations(self, store: Store) -> None:
        world = self._seed(store)
        each = _one_of_each(world)
        full = each.install_invitation
        plain = _install_invitation(world.key, new_id("inst", T0), "plain@example.com", "")
        _write(store, [each.user, each.account, each.key, full, plain])
        with store.transaction() as tx:
            for invitation in (full, plain, world.invitation):
                _assert_same(
                    tx.get_install_invitation(invitation.id), invitation, "get_install_invitation"
                )
                _assert_same(
                    tx.find_install_invitation_by_code_hash(invitation.code_hash),
                    invitation,
                    "find_install_invitation_by_code_hash",
                )
                _assert_same(
                    tx.find_install_invitation_by_token_hash(invitation.token_hash),
                    invitation,
                    "find_install_invitation_by_token_hash",
                )
            _assert_same_list(
                tx.list_install_invitations(world.key.id, after=None, limit=_ALL),
                sorted([world.invitation, plain], key=lambda i: i.id),
                "list_install_invitations",
            )
            _assert_same_list(
                tx.list_install_invitations(full.key_id, after=None, limit=_ALL),
                [full],
                "list_install_invitations",
            )

    def test_round_trip_installations_of_every_status(self, store: Store) -> None:
        world = self._seed(store)
        each = _one_of_each(world)
        deactivated = each.installation
        active = _installation(world, new_id("ins", T0), "pc-active")
        parents = [each.user, each.account, each.key, each.install_invitation]
        _write(store, [*parents, deactivated, active])
        with store.transaction() as tx:
            for installation in (deactivated, active):
                _assert_same(tx.get_installation(installation.id), installation, "get_installation")
                _assert_same(
                    tx.find_installation(installation.key_id, installation.computer_id),
                    installation,
                    "find_installation",
                )
                _assert_same(
                    tx.find_installation_by_token_hash(installation.token_hash),
                    installation,
                    "find_installation_by_token_hash",
                )
                _assert_same_list(
                    tx.list_installations(installation.key_id, after=None, limit=_ALL),
                    [installation],
                    "list_installations",
                )

    def test_round_trip_computer_blocks(self, store: Store) -> None:
        world = self._seed(store)
        each = _one_of_each(world)
        blocks = [each.account_block, each.key_block]
        plain = ComputerBlock(
            account_id=world.account.id,
            computer_id="pc-plain",
            key_id=world.key.id,
            blocked_at=T0,
            blocked_by=world.admin.id,
        )
        _write(store, [each.user, each.account, each.key, *blocks, plain])
        with store.transaction() as tx:
            for block in [*blocks, plain]:
                _assert_same(_read_back(tx, block), block, "find_computer_blocks")
            _assert_same_list(
                tx.find_computer_blocks(each.account.id, "pc-alpha"),
                blocks,
                "find_computer_blocks",
            )
            _assert_same_list(
                tx.list_computer_blocks(world.account.id, after=None, limit=_ALL),
                [plain],
                "list_computer_blocks",
            )

    def test_round_trip_throttles(self, store: Store) -> None:
        world = self._seed(store)
        throttles = [
            _throttle("password:admin@example.com", failures=0),
            _one_of_each(world).throttle,
            _throttle("token:203.0.113.9", locked_until=_at(minutes=5, microseconds=9)),
        ]
        _write(store, throttles)
        with store.transaction() as tx:
            for throttle in throttles:
                _assert_same(tx.get_throttle(throttle.key), throttle, "get_throttle")

    # == transactions ===========================================================================

    def test_committed_writes_are_visible_to_later_transactions(self, store: Store) -> None:
        world = self._seed(store)
        records = _one_of_each(world).records
        _write(store, records)

        def read_all() -> list[object | None]:
            with store.transaction() as tx:
                return [_read_back(tx, record) for record in records]

        reader = _Worker("contract-reader", read_all)
        reader.start()
        _join([reader])
        assert reader.error is None, _describe(reader.error)
        elsewhere = reader.result
        assert isinstance(elsewhere, list)
        for record, here, there in zip(records, read_all(), elsewhere, strict=True):
            _assert_same(here, record, f"{type(record).__name__} read after the commit")
            _assert_same(there, record, f"{type(record).__name__} read from another thread")

    def test_a_transaction_sees_its_own_writes(self, store: Store) -> None:
        world = self._seed(store)
        each = _one_of_each(world)
        records, throttle = each.records, each.throttle
        with store.transaction() as tx:
            for record in records:
                _insert(tx, record)
            for record in records:
                _assert_same(
                    _read_back(tx, record), record, f"{type(record).__name__} in its transaction"
                )
            tx.delete_throttle(throttle.key)
            assert tx.get_throttle(throttle.key) is None, "a deleted throttle is still there"

    def test_an_exception_rolls_back_every_write_and_propagates_unchanged(
        self, store: Store
    ) -> None:
        world = self._seed(store)
        session = _session(world, new_id("ses", T0))
        installation = _installation(world, new_id("ins", T0), "pc-kept")
        block = _block(world.account.id, "pc-kept", None, world.admin.id)
        membership = _membership(world.account.id, world.member.id)
        throttle = _throttle("password:member@example.com")
        existing = [session, installation, block, membership, throttle]
        _write(store, existing)
        news = _one_of_each(world).records
        moved_email = attrs.evolve(world.member, email="moved@example.com")
        new_token = attrs.evolve(installation, token_hash=_hash("installation:moved"))
        probes = _Probes.of([*world.records, *existing, *news, moved_email, new_token])
        before = _state(store, probes)
        boom = _Boom("the block failed")

        def fail() -> None:
            with store.transaction() as tx:
                for record in news:
                    _insert(tx, record)
                tx.save_user(moved_email)
                tx.save_membership(attrs.evolve(membership, role=Role.ACCOUNT_ADMINISTRATOR))
                tx.save_license_key(attrs.evolve(world.key, seats_used=1, seats=9))
                tx.save_install_invitation(attrs.evolve(world.invitation, activations=1))
                tx.save_installation(new_token)
                tx.save_session(attrs.evolve(session, expires_at=_at(days=9)))
                tx.delete_session(session.id)
                tx.delete_computer_block(block.account_id, block.computer_id, block.key_id)
                tx.delete_throttle(throttle.key)
                tx.delete_sessions_expired_before(_at(days=999))
                tx.delete_throttles_expired_before(_at(days=999))
                raise boom

        with pytest.raises(_Boom) as raised:
            fail()
        assert raised.value is boom, f"the block's exception came out as {raised.value!r}"
        _assert_state_unchanged(before, _state(store, probes), "a rolled-back block")

    def test_a_rolled_back_block_leaves_no_key_taken(self, store: Store) -> None:
        world = self._seed(store)
        records = _one_of_each(world).records
        try:
            with store.transaction() as tx:
                for record in records:
                    _insert(tx, record)
                raise _Boom
        except _Boom:
            pass
        _write(store, records)  # the same ids, emails and hashes are free again
        with store.transaction() as tx:
            for record in records:
                _assert_same(_read_back(tx, record), record, f"{type(record).__name__} re-added")

    @pytest.mark.parametrize("ending", ["commit", "rollback"])
    def test_an_unfinished_transaction_is_invisible_to_other_threads(
        self, store: Store, ending: str
    ) -> None:
        world = self._seed(store)
        throttle = _throttle("password:member@example.com")
        _write(store, [throttle])
        news = _one_of_each(world).records
        moved = attrs.evolve(world.member, email="moved@example.com")
        written, finish = threading.Event(), threading.Event()

        def write() -> None:
            try:
                with store.transaction() as tx:
                    for record in news:
                        _insert(tx, record)
                    tx.save_user(moved)
                    tx.delete_throttle(throttle.key)
                    written.set()
                    assert finish.wait(_WAIT), "the test never let the writer finish"
                    if ending == "rollback":
                        raise _Boom
            except _Boom:
                pass

        def effects() -> list[bool]:
            """Which of the writer's changes are visible, one flag per change."""
            with store.transaction() as tx:
                flags = [_read_back(tx, record) is not None for record in news]
                member = tx.get_user(moved.id)
                flags.append(member is not None and member.email == moved.email)
                flags.append(tx.find_user_by_email(world.member.email) is None)
                flags.append(tx.get_throttle(throttle.key) is None)
                return flags

        writer = _Worker("contract-writer", write)
        writer.start()
        assert written.wait(_WAIT), f"the writer did not write: {writer.error!r}"
        reader = _Worker("contract-reader", effects)
        reader.start()
        reader.join(timeout=0.2)
        read_before_the_end = not reader.is_alive()
        finish.set()
        _join([writer, reader])
        assert writer.error is None, _describe(writer.error)
        assert reader.error is None, _describe(reader.error)
        seen = reader.result
        assert isinstance(seen, list)
        assert len(set(seen)) == 1, f"another thread saw part of a transaction: {seen}"
        if read_before_the_end:
            assert not any(seen), "another thread saw writes of a transaction still open"
        if ending == "rollback":
            assert not any(seen), "another thread saw writes of a rolled-back transaction"
        assert effects() == [ending == "commit"] * len(seen)

    @pytest.mark.parametrize("ending", ["commit", "rollback"])
    def test_a_transaction_cannot_be_used_after_its_block(self, store: Store, ending: str) -> None:
        world = self._seed(store)
        late = _user(new_id("usr", T0))
        try:
            with store.transaction() as tx:
                tx.get_user(world.admin.id)
                if ending == "rollback":
                    raise _Boom
        except _Boom:
            pass
        calls: dict[str, Callable[[], object]] = {
            "get_user": lambda: tx.get_user(world.admin.id),
            "add_user": lambda: tx.add_user(late),
            "list_license_keys": lambda: tx.list_license_keys(
                world.account.id, after=None, limit=10
            ),
            "save_throttle": lambda: tx.save_throttle(_throttle("late")),
            "delete_session": lambda: tx.delete_session("ses-late"),
            "find_installation_by_token_hash": lambda: tx.find_installation_by_token_hash(
                _hash("late")
            ),
        }
        for name, call in calls.items():
            _expect_storage_error(call, f"{name}() on a transaction after its block")
        with store.transaction() as fresh:
            assert fresh.get_user(late.id) is None, "a write after the block was stored"
            assert fresh.get_throttle("late") is None, "a write after the block was stored"

    def test_transactions_do_not_nest(self, store: Store) -> None:
        world = self._seed(store)
        first, second = _user(new_id("usr", T0)), _user(new_id("usr", T0))

        def nest() -> StorageError:
            with store.transaction() as outer:
                outer.add_user(first)

                def inner() -> None:
                    with store.transaction() as tx:
                        tx.get_user(world.admin.id)

                refused = _expect_storage_error(inner, "a transaction opened inside another")
                outer.add_user(second)  # the refusal leaves the outer transaction usable
                return refused

        worker = _Worker("contract-nester", nest)
        worker.start()
        worker.join(timeout=_WAIT)
        if worker.is_alive():
            self._forget_store(store)  # it may be locked for good; do not wait on close()
            pytest.fail("a transaction opened inside another blocked instead of raising")
        assert worker.error is None, _describe(worker.error)
        with store.transaction() as tx:
            assert tx.get_user(first.id) == first, "the outer transaction lost a write"
            assert tx.get_user(second.id) == second, "the outer transaction lost a write"

    def test_a_closed_store_refuses_transactions(self, store: Store) -> None:
        self._seed(store)
        self._forget_store(store)
        store.close()

        def use() -> None:
            with store.transaction() as tx:
                tx.get_user("usr-any")

        _expect_storage_error(use, "a transaction on a closed store")

    # == uniqueness ===========================================================================

    @pytest.mark.parametrize("case", list(_DUPLICATES))
    def test_a_unique_key_clash_raises_duplicate_key_and_changes_nothing(
        self, store: Store, case: str
    ) -> None:
        world = self._seed(store)
        self._assert_refused(store, world, _DUPLICATES[case](world), DuplicateKey, case)

    def test_records_that_share_non_unique_values_are_all_kept(self, store: Store) -> None:
        world = self._seed(store)
        same_value = _license_key(
            world,
            new_id("key", T0),
            account_id=world.other_account.id,
            value_hash=world.key.value_hash,
        )
        here = _installation(world, new_id("ins", T0), "pc-shared")
        there = _installation(world, new_id("ins", T0), "pc-shared", key=world.second_key)
        invitations = [
            _join_invitation(world, new_id("jinv", T0), "same@example.com") for _ in range(2)
        ]
        installs = [
            _install_invitation(world.key, new_id("inst", T0), "same@example.com", "")
            for _ in range(2)
        ]
        blocks = [
            _block(world.account.id, "pc-shared", None, world.admin.id),
            _block(world.account.id, "pc-shared", world.key.id, world.admin.id),
            _block(world.other_account.id, "pc-shared", None, world.admin.id),
        ]
        memberships = [
            _membership(world.account.id, world.member.id),
            _membership(world.other_account.id, world.member.id),
        ]
        records = [same_value, here, there, *invitations, *installs, *blocks, *memberships]
        _write(store, records)
        with store.transaction() as tx:
            for record in records:
                _assert_same(_read_back(tx, record), record, f"{type(record).__name__} kept")
            _assert_same(
                tx.find_license_key_by_value_hash(world.account.id, world.key.value_hash),
                world.key,
                "find_license_key_by_value_hash in the first account",
            )
            _assert_same(
                tx.find_license_key_by_value_hash(world.other_account.id, world.key.value_hash),
                same_value,
                "find_license_key_by_value_hash in the second account",
            )

    # == saves ===============================================================================

    @pytest.mark.parametrize("case", list(_UNKNOWN))
    def test_saving_an_unknown_record_raises_storage_error(self, store: Store, case: str) -> None:
        world = self._seed(store)
        self._assert_refused(store, world, _UNKNOWN[case](world), StorageError, case)

    @pytest.mark.parametrize("case", list(_FIXED))
    def test_saving_a_change_of_a_fixed_field_raises_storage_error(
        self, store: Store, case: str
    ) -> None:
        world = self._seed(store)
        self._assert_refused(store, world, _FIXED[case](world), StorageError, case)

    def test_save_user_replaces_the_user_and_frees_the_old_email(self, store: Store) -> None:
        world = self._seed(store)
        moved = attrs.evolve(world.member, email="moved@example.com", name="Moved")
        moved = attrs.evolve(moved, password_hash=world.admin.password_hash)
        with store.transaction() as tx:
            tx.save_user(moved)
        newcomer = User(id=new_id("usr", T0), email=world.member.email, created_at=T0)
        _write(store, [newcomer])
        with store.transaction() as tx:
            _assert_same(tx.get_user(moved.id), moved, "get_user after save_user")
            _assert_same(tx.find_user_by_email(moved.email), moved, "find_user_by_email (new)")
            _assert_same(
                tx.find_user_by_email(world.member.email), newcomer, "find_user_by_email (old)"
            )

    def test_save_installation_replaces_it_and_moves_its_token(self, store: Store) -> None:
        world = self._seed(store)
        installation = _installation(world, new_id("ins", T0), "pc-one")
        _write(store, [installation])
        changed = attrs.evolve(
            installation,
            token_hash=_hash("installation:new-token"),
            status=InstallationStatus.DEACTIVATED,
            deactivated_at=_at(days=1),
            deactivated_by=world.admin.id,
            last_seen_at=_at(days=1),
            computer_name="Renamed",
            email="other@example.com",
            invitation_id=world.invitation.id,
        )
        with store.transaction() as tx:
            tx.save_installation(changed)
        with store.transaction() as tx:
            _assert_same(tx.get_installation(changed.id), changed, "get_installation")
            _assert_same(
                tx.find_installation_by_token_hash(changed.token_hash),
                changed,
                "find_installation_by_token_hash (new token)",
            )
            assert tx.find_installation_by_token_hash(installation.token_hash) is None, (
                "the old installation token still finds the installation"
            )
            _assert_same(
                tx.find_installation(changed.key_id, changed.computer_id),
                changed,
                "find_installation",
            )
            _assert_same_list(
                tx.list_installations(changed.key_id, after=None, limit=_ALL),
                [changed],
                "list_installations",
            )
        # The old token is free for another installation.
        _write(store, [attrs.evolve(installation, id=new_id("ins", T0), computer_id="pc-two")])

    def test_bulk_saves_and_reads_of_invitations(self, store: Store) -> None:
        world = self._seed(store)
        joins = [
            _join_invitation(world, new_id("jinv", T0), f"guest{n}@example.com") for n in range(3)
        ]
        _write(store, joins)
        sent: dict[str, Any] = {
            "sent_count": 1,
            "last_sent_at": _at(hours=1),
            "delivery_attempts": 1,
        }
        new_joins = [attrs.evolve(j, **sent) for j in joins]
        installs = [world.invitation, world.second_invitation]
        new_installs = [attrs.evolve(i, **sent, delivery_error="late") for i in installs]
        with store.transaction() as tx:
            tx.save_join_invitations(new_joins)
            tx.save_install_invitations(new_installs)
            tx.save_join_invitations([])
            tx.save_install_invitations([])
        with store.transaction() as tx:
            wanted = [j.id for j in reversed(joins)] + [joins[0].id, "jinv_unknown"]
            got = sorted(tx.get_join_invitations(wanted), key=lambda j: j.id)
            _assert_same_list(got, sorted(new_joins, key=lambda j: j.id), "get_join_invitations")
            wanted = [i.id for i in installs] + [installs[0].id, "inst_unknown"]
            got_installs = sorted(tx.get_install_invitations(wanted), key=lambda i: i.id)
            _assert_same_list(
                got_installs, sorted(new_installs, key=lambda i: i.id), "get_install_invitations"
            )
            assert list(tx.get_join_invitations([])) == [], "get_join_invitations([])"
            assert list(tx.get_install_invitations([])) == [], "get_install_invitations([])"

    def test_bulk_reads_of_many_invitations(self, store: Store) -> None:
        world = self._seed(store)
        many = [
            _install_invitation(world.key, new_id("inst", T0), f"p{n}@example.com", world.admin.id)
            for n in range(1_200)
        ]
        with store.transaction() as tx:
            tx.add_install_invitations(many)
        with store.transaction() as tx:
            got = tx.get_install_invitations([i.id for i in many])
        assert sorted(i.id for i in got) == sorted(i.id for i in many), (
            "get_install_invitations of 1,200 ids did not return each invitation once"
        )

    @pytest.mark.parametrize("refused", ["unknown", "fixed field"])
    def test_bulk_saves_are_all_or_none(self, store: Store, refused: str) -> None:
        world = self._seed(store)
        joins = [
            _join_invitation(world, new_id("jinv", T0), f"guest{n}@example.com") for n in range(2)
        ]
        _write(store, joins)
        good_join = attrs.evolve(joins[0], sent_count=5)
        good_install = attrs.evolve(world.invitation, sent_count=5)
        if refused == "unknown":
            bad_join = attrs.evolve(joins[1], id=new_id("jinv", T0))
            bad_install = attrs.evolve(world.second_invitation, id=new_id("inst", T0))
        else:
            bad_join = attrs.evolve(joins[1], email="changed@example.com")
            bad_install = attrs.evolve(world.second_invitation, code_hash=_hash("code:changed"))
        with store.transaction() as tx:
            for save, batch in (
                ("save_join_invitations", [good_join, bad_join]),
                ("save_install_invitations", [good_install, bad_install]),
            ):
                try:
                    getattr(tx, save)(batch)
                except StorageError:
                    pass
                else:
                    raise AssertionError(f"{save} accepted a batch it must refuse")
            # The transaction goes on, and the refused batch changed nothing.
            _assert_same(tx.get_join_invitation(joins[0].id), joins[0], "join after refusal")
            _assert_same(
                tx.get_install_invitation(world.invitation.id),
                world.invitation,
                "install invitation after refusal",
            )

    def test_saves_replace_every_changeable_field(self, store: Store) -> None:
        world = self._seed(store)
        invitation = _join_invitation(world, new_id("jinv", T0), "guest@example.com")
        session = _session(world, new_id("ses", T0))
        _write(store, [invitation, session])
        changes: list[object] = [
            attrs.evolve(
                invitation,
                accepted_at=_at(days=1),
                accepted_by=world.member.id,
                revoked_at=_at(days=2),
                revoked_by=world.admin.id,
                sent_count=5,
                last_sent_at=_at(days=1, microseconds=3),
                expires_at=_at(days=9),
                language="de",
                token_ciphertext=b"resent",
            ),
            attrs.evolve(
                session,
                admin_grants={world.account.id: 4},
                expires_at=_at(days=2),
                method=SessionMethod.TRUSTED,
            ),
            attrs.evolve(
                world.key,
                product="Renamed Suite",
                seats=7,
                seats_used=2,
                expires_at=_at(days=10),
                status=KeyStatus.REMOVED,
                updated_at=_at(days=3),
                value_ciphertext=b"re-encrypted",
            ),
            attrs.evolve(
                world.invitation,
                activations=1,
                max_activations=2,
                computer_ids=("pc-b", "pc-a"),
                last_activated_at=_at(hours=1),
                revoked_at=_at(hours=2),
                revoked_by=world.admin.id,
                sent_count=3,
                last_sent_at=_at(hours=3),
                expires_at=_at(days=3),
                secret_ciphertext=b"re-encrypted",
            ),
        ]
        with store.transaction() as tx:
            for record in changes:
                match record:
                    case JoinInvitation():
                        tx.save_join_invitation(record)
                    case SessionRecord():
                        tx.save_session(record)
                    case LicenseKey():
                        tx.save_license_key(record)
                    case InstallInvitation():
                        tx.save_install_invitation(record)
        with store.transaction() as tx:
            for record in changes:
                _assert_same(_read_back(tx, record), record, f"{type(record).__name__} saved")
            _assert_same_list(
                tx.list_join_invitations(world.account.id, after=None, limit=_ALL),
                [changes[0]],
                "list_join_invitations after a save",
            )
            _assert_same_list(
                tx.list_license_keys(world.account.id, after=None, limit=_ALL),
                [changes[2], world.second_key],
                "list_license_keys after a save",
            )
            _assert_same_list(
                tx.list_install_invitations(world.key.id, after=None, limit=_ALL),
                [changes[3]],
                "list_install_invitations after a save",
            )

    def test_upserts_insert_then_replace(self, store: Store) -> None:
        world = self._seed(store)
        membership = _membership(world.account.id, world.member.id)
        throttle = _throttle("password:member@example.com")
        block = _block(world.account.id, "pc-1", None, world.admin.id)
        key_block = _block(world.account.id, "pc-1", world.key.id, world.admin.id)
        _write(store, [membership, throttle, block, key_block])
        replaced = [
            attrs.evolve(
                membership,
                role=Role.ACCOUNT_ADMINISTRATOR,
                status=MemberStatus.BLOCKED,
                admin_grant=1,
                changed_by=world.admin.id,
                notes="changed",
                updated_at=_at(days=1),
                license_keys={world.key.id},
            ),
            attrs.evolve(throttle, failures=9, locked_until=_at(hours=1)),
            attrs.evolve(block, blocked_by=world.member.id, notes="again", blocked_at=_at(days=1)),
        ]
        _write(store, replaced)
        with store.transaction() as tx:
            for record in replaced:
                _assert_same(_read_back(tx, record), record, f"{type(record).__name__} replaced")
            _assert_same_list(
                tx.list_memberships(world.account.id, after=None, limit=_ALL),
                [replaced[0]],
                "list_memberships after a replace",
            )
            _assert_same_list(
                tx.list_user_memberships(world.member.id),
                [replaced[0]],
                "list_user_memberships after a replace",
            )
            _assert_same_list(
                tx.find_computer_blocks(world.account.id, "pc-1"),
                [replaced[2], key_block],
                "find_computer_blocks after a replace",
            )
            _assert_same_list(
                tx.list_computer_blocks(world.account.id, after=None, limit=_ALL),
                [replaced[2], key_block],
                "list_computer_blocks after a replace",
            )

    # == look-ups =============================================================================

    def test_look_ups_by_keyed_hash_find_only_the_right_record(self, store: Store) -> None:
        world = self._seed(store)
        records = _one_of_each(world).records
        _write(store, records)
        unknown = _hash("nobody has this hash")
        with store.transaction() as tx:
            for record in records:
                _assert_same(_read_back(tx, record), record, type(record).__name__)
            assert tx.find_join_invitation_by_token_hash(unknown) is None
            assert tx.find_session_by_token_hash(unknown) is None
            assert tx.find_install_invitation_by_code_hash(unknown) is None
            assert tx.find_install_invitation_by_token_hash(unknown) is None
            assert tx.find_installation_by_token_hash(unknown) is None
            assert tx.find_license_key_by_value_hash(world.account.id, unknown) is None
            # A hash of one kind never finds a record of another kind.
            code = world.invitation.code_hash
            assert tx.find_install_invitation_by_token_hash(code) is None
            assert tx.find_installation_by_token_hash(world.invitation.token_hash) is None
            # Another account's key is not found by value hash.
            assert (
                tx.find_license_key_by_value_hash(world.other_account.id, world.key.value_hash)
                is None
            ), "find_license_key_by_value_hash found another account's key"
            assert tx.find_user_by_email("nobody@example.com") is None

    def test_look_ups_by_unknown_ids_return_none(self, store: Store) -> None:
        world = self._seed(store)
        installation = _installation(world, new_id("ins", T0), "pc-known")
        _write(store, [installation, _membership(world.account.id, world.member.id)])
        with store.transaction() as tx:
            assert tx.get_user("usr-unknown") is None
            assert tx.get_account("acc-unknown") is None
            assert tx.get_membership(world.account.id, world.admin.id) is None
            assert tx.get_membership(world.other_account.id, world.member.id) is None
            assert tx.get_join_invitation("jinv-unknown") is None
            assert tx.get_license_key("key-unknown") is None
            assert tx.get_install_invitation("inst-unknown") is None
            assert tx.get_installation("ins-unknown") is None
            assert tx.find_installation(world.second_key.id, "pc-known") is None, (
                "find_installation found a computer under another key"
            )
            assert tx.find_installation(world.key.id, "pc-unknown") is None
            assert tx.get_throttle("unknown") is None
            assert list(tx.find_computer_blocks(world.account.id, "pc-known")) == []
            assert list(tx.list_user_memberships("usr-unknown")) == []
            assert list(tx.list_join_invitations_for_email(world.account.id, "x@x.com")) == []

    # == paging ===============================================================================

    def _fill(
        self, store: Store, world: _World, listing: _Listing, assignment: dict[str, int]
    ) -> tuple[list[Any], list[Any]]:
        """Write a record per key of *assignment* into scope 0 or 1, one per transaction.

        Returns:
            Each scope's records after the write, in sort key order, including any the world
            already had there.
        """
        scopes = listing.scopes(world)
        for key, scope in assignment.items():
            record = listing.make(world, scopes[scope], key)
            with store.transaction() as tx:
                listing.prepare(tx, record)
                listing.add(tx, record)
        with store.transaction() as tx:
            found = tuple(list(listing.fetch(tx, s, None, _ALL)) for s in scopes)
        return found[0], found[1]

    def _interleaved(self, store: Store, world: _World, listing: _Listing) -> list[Any]:
        """Fill both scopes with interleaved keys in a scrambled order; return the first's."""
        assignment = {_PAGING_KEYS[i]: i % 2 for i in _SHUFFLED}
        mine, _ = self._fill(store, world, listing, assignment)
        return mine

    @pytest.mark.parametrize("name", list(_LISTINGS))
    def test_listing_is_ascending_and_limited_to_its_scope(self, store: Store, name: str) -> None:
        listing = _LISTINGS[name]
        world = self._seed(store)
        first, second = listing.scopes(world)
        with store.transaction() as tx:
            already = [list(listing.fetch(tx, s, None, _ALL)) for s in (first, second)]
        assignment = {_PAGING_KEYS[i]: i % 2 for i in _SHUFFLED}
        mine, theirs = self._fill(store, world, listing, assignment)
        for index, (scope, found) in enumerate(((first, mine), (second, theirs))):
            made = [listing.make(world, scope, k) for k, s in assignment.items() if s == index]
            expected = sorted([*already[index], *made], key=listing.sort_key)
            _assert_same_list(found, expected, f"{name}({scope!r})")
        with store.transaction() as tx:
            assert list(listing.fetch(tx, "no-such-scope", None, _ALL)) == []

    @pytest.mark.parametrize("name", list(_LISTINGS))
    def test_listing_after_is_strictly_greater(self, store: Store, name: str) -> None:
        listing = _LISTINGS[name]
        world = self._seed(store)
        scope = listing.scopes(world)[0]
        records = self._interleaved(store, world, listing)
        keys = [listing.sort_key(r) for r in records]
        absent = [listing.sort_key(listing.make(world, scope, k)) for k in _PAGING_KEYS]
        cursors = sorted({*keys, *absent, "", "~~~~"})
        with store.transaction() as tx:
            for cursor in cursors:
                _assert_same_list(
                    listing.fetch(tx, scope, cursor, _ALL),
                    [r for r, k in zip(records, keys, strict=True) if k > cursor],
                    f"{name} after={cursor!r}",
                )

    @pytest.mark.parametrize("name", list(_LISTINGS))
    def test_listing_returns_at_most_limit_records(self, store: Store, name: str) -> None:
        listing = _LISTINGS[name]
        world = self._seed(store)
        scope = listing.scopes(world)[0]
        records = self._interleaved(store, world, listing)
        assert len(records) > 4
        with store.transaction() as tx:
            for limit in (1, 2, 3, len(records) - 1, len(records), len(records) + 1):
                _assert_same_list(
                    listing.fetch(tx, scope, None, limit), records[:limit], f"{name} limit={limit}"
                )
                after = listing.sort_key(records[1])
                _assert_same_list(
                    listing.fetch(tx, scope, after, limit),
                    records[2 : 2 + limit],
                    f"{name} after={after!r} limit={limit}",
                )

    @pytest.mark.parametrize("name", list(_LISTINGS))
    def test_listing_pages_concatenate_to_the_whole(self, store: Store, name: str) -> None:
        listing = _LISTINGS[name]
        world = self._seed(store)
        scope = listing.scopes(world)[0]
        records = self._interleaved(store, world, listing)
        for size in (1, 2, 3, 5):
            pages: list[list[Any]] = []
            after: str | None = None
            while len(pages) <= len(records):
                with store.transaction() as tx:
                    page = list(listing.fetch(tx, scope, after, size))
                assert len(page) <= size, f"{name}: a page of {len(page)} for limit={size}"
                if not page:
                    break
                pages.append(page)
                after = listing.sort_key(page[-1])
            joined = [r for page in pages for r in page]
            _assert_same_list(joined, records, f"{name} in pages of {size}")

    @pytest.mark.parametrize("name", list(_LISTINGS))
    def test_listing_pages_stay_stable_while_records_are_added(
        self, store: Store, name: str
    ) -> None:
        listing = _LISTINGS[name]
        world = self._seed(store)
        scope = listing.scopes(world)[0]
        k = _PAGING_KEYS
        self._fill(store, world, listing, {k[1]: 0, k[4]: 0, k[7]: 0, k[10]: 0, k[2]: 1, k[5]: 1})
        with store.transaction() as tx:
            first_page = list(listing.fetch(tx, scope, None, 2))
        cursor = listing.sort_key(first_page[-1])
        mine, _ = self._fill(
            store, world, listing, {k[0]: 0, k[3]: 0, k[6]: 0, k[13]: 0, k[8]: 1, k[12]: 1}
        )
        rest: list[Any] = []
        after: str | None = cursor
        while True:
            with store.transaction() as tx:
                page = list(listing.fetch(tx, scope, after, 2))
            if not page or len(rest) > len(mine):
                break
            rest.extend(page)
            after = listing.sort_key(page[-1])
        _assert_same_list(
            rest,
            [r for r in mine if listing.sort_key(r) > cursor],
            f"{name}: the pages after a cursor, with records added meanwhile",
        )
        seen = [listing.sort_key(r) for r in [*first_page, *rest]]
        assert len(seen) == len(set(seen)), f"{name}: a record was listed twice: {seen}"

    @pytest.mark.parametrize("name", list(_LISTINGS))
    def test_listing_orders_licensekit_ids_as_they_were_made(self, store: Store, name: str) -> None:
        listing = _LISTINGS[name]
        world = self._seed(store)
        scope = listing.scopes(world)[0]
        made = [new_id("id", _at(milliseconds=n // 3)) for n in range(9)]
        assignment = {key: n % 2 for n, key in reversed(list(enumerate(made)))}
        mine, _ = self._fill(store, world, listing, assignment)
        ours = [r for r in mine if listing.sort_key(r).startswith("id_")]
        expected = [listing.make(world, scope, key) for n, key in enumerate(made) if n % 2 == 0]
        _assert_same_list(ours, expected, f"{name} of licensekit ids")

    def test_list_user_memberships_is_ordered_by_account_id(self, store: Store) -> None:
        world = self._seed(store)
        accounts = [
            BusinessAccount(id=i, name=i, created_at=T0, created_by=world.admin.id)
            for i in ("acc-c", "acc-a", "acc-b", "acc-a1")
        ]
        mine = [_membership(a.id, world.member.id) for a in accounts]
        theirs = [_membership(a.id, world.outsider.id) for a in accounts[1:3]]
        _write(store, [*accounts, *mine[:2], *theirs, *mine[2:]])
        with store.transaction() as tx:
            _assert_same_list(
                tx.list_user_memberships(world.member.id),
                sorted(mine, key=lambda m: m.account_id),
                "list_user_memberships",
            )
            _assert_same_list(
                tx.list_user_memberships(world.outsider.id),
                sorted(theirs, key=lambda m: m.account_id),
                "list_user_memberships",
            )

    def test_list_join_invitations_for_email_is_one_accounts_one_email(self, store: Store) -> None:
        world = self._seed(store)
        ids = ["jinv-b", "jinv-a", "jinv-c", "jinv-a0", "jinv-d", "jinv-e"]
        wanted = [_join_invitation(world, i, "wanted@example.com") for i in ids[:4]]
        other_email = _join_invitation(world, ids[4], "wanted@example.co")
        other_account = _join_invitation(
            world, ids[5], "wanted@example.com", account_id=world.other_account.id
        )
        _write(store, [wanted[0], other_email, wanted[1], other_account, *wanted[2:]])
        with store.transaction() as tx:
            _assert_same_list(
                tx.list_join_invitations_for_email(world.account.id, "wanted@example.com"),
                sorted(wanted, key=lambda i: i.id),
                "list_join_invitations_for_email",
            )
            _assert_same_list(
                tx.list_join_invitations_for_email(world.other_account.id, "wanted@example.com"),
                [other_account],
                "list_join_invitations_for_email in the other account",
            )

    def test_find_computer_blocks_returns_one_computers_blocks_in_sort_key_order(
        self, store: Store
    ) -> None:
        world = self._seed(store)
        a, b = world.account.id, world.other_account.id
        by = world.admin.id
        blocks = {
            "pc1 second key": _block(a, "pc1", world.second_key.id, by),
            "pc1 whole account": _block(a, "pc1", None, by),
            "pc10 key": _block(a, "pc10", world.key.id, by),
            "pc1 key": _block(a, "pc1", world.key.id, by),
            "pc key": _block(a, "pc", world.key.id, by),
            "pc10 whole account": _block(a, "pc10", None, by),
            "PC1 whole account": _block(a, "PC1", None, by),
            "pc1 in the other account": _block(b, "pc1", None, by),
            "pc1 other key in the other account": _block(b, "pc1", world.other_key.id, by),
        }
        _write(store, list(blocks.values()))
        expected = {
            (a, "pc1"): ["pc1 whole account", "pc1 key", "pc1 second key"],
            (a, "pc10"): ["pc10 whole account", "pc10 key"],
            (a, "pc"): ["pc key"],
            (a, "PC1"): ["PC1 whole account"],
            (a, "p"): [],
            (a, "pc1\t"): [],
            (b, "pc1"): ["pc1 in the other account", "pc1 other key in the other account"],
            (b, "pc10"): [],
        }
        assert world.key.id < world.second_key.id
        with store.transaction() as tx:
            for (account_id, computer_id), names in expected.items():
                _assert_same_list(
                    tx.find_computer_blocks(account_id, computer_id),
                    [blocks[n] for n in names],
                    f"find_computer_blocks({account_id!r}, {computer_id!r})",
                )
            in_a = sorted(
                (x for x in blocks.values() if x.account_id == a), key=lambda x: x.sort_key
            )
            _assert_same_list(
                tx.list_computer_blocks(a, after=None, limit=_ALL), in_a, "list_computer_blocks"
            )
            for n, block in enumerate(in_a):
                _assert_same_list(
                    tx.list_computer_blocks(a, after=block.sort_key, limit=2),
                    in_a[n + 1 : n + 3],
                    f"list_computer_blocks after={block.sort_key!r}",
                )

    def test_count_active_administrators_counts_only_active_administrators(
        self, store: Store
    ) -> None:
        world = self._seed(store)
        users = [_user(new_id("usr", T0)) for _ in range(6)]
        kinds = [
            (Role.ACCOUNT_ADMINISTRATOR, MemberStatus.ACTIVE),
            (Role.ACCOUNT_ADMINISTRATOR, MemberStatus.ACTIVE),
            (Role.ACCOUNT_ADMINISTRATOR, MemberStatus.BLOCKED),
            (Role.ACCOUNT_ADMINISTRATOR, MemberStatus.REMOVED),
            (Role.REGULAR_MEMBER, MemberStatus.ACTIVE),
            (Role.REGULAR_MEMBER, MemberStatus.BLOCKED),
        ]
        memberships = [
            _membership(world.account.id, u.id, role=r, status=s)
            for u, (r, s) in zip(users, kinds, strict=True)
        ]
        elsewhere = _membership(
            world.other_account.id, users[4].id, role=Role.ACCOUNT_ADMINISTRATOR
        )
        _write(store, [*users, *memberships, elsewhere])
        with store.transaction() as tx:
            assert tx.count_active_administrators(world.account.id) == 2
            assert tx.count_active_administrators(world.other_account.id) == 1
            assert tx.count_active_administrators("acc-unknown") == 0
            tx.save_membership(attrs.evolve(memberships[0], status=MemberStatus.BLOCKED))
            tx.save_membership(attrs.evolve(memberships[4], role=Role.ACCOUNT_ADMINISTRATOR))
            tx.save_membership(attrs.evolve(memberships[1], role=Role.REGULAR_MEMBER))
            assert tx.count_active_administrators(world.account.id) == 1, (
                "count_active_administrators does not follow changes in its transaction"
            )
        with store.transaction() as tx:
            assert tx.count_active_administrators(world.account.id) == 1

    # == deletions ============================================================================

    def test_delete_session_removes_one_session(self, store: Store) -> None:
        world = self._seed(store)
        gone, kept = _session(world, new_id("ses", T0)), _session(world, new_id("ses", T0))
        _write(store, [gone, kept])
        with store.transaction() as tx:
            tx.delete_session(gone.id)
            tx.delete_session(gone.id)  # again: nothing to do
            tx.delete_session("ses-unknown")
        with store.transaction() as tx:
            assert tx.find_session_by_token_hash(gone.token_hash) is None
            _assert_same(tx.find_session_by_token_hash(kept.token_hash), kept, "the other session")
        _write(store, [gone])  # its id and token hash are free again

    def test_delete_sessions_expired_before_includes_the_moment(self, store: Store) -> None:
        world = self._seed(store)
        moment = _at(hours=8)
        before, at, after = (
            _session(world, new_id("ses", T0), expires_at=moment + dt.timedelta(microseconds=d))
            for d in (-1, 0, 1)
        )
        _write(store, [after, at, before])
        with store.transaction() as tx:
            assert tx.delete_sessions_expired_before(moment) == 2
        with store.transaction() as tx:
            assert tx.find_session_by_token_hash(before.token_hash) is None
            assert tx.find_session_by_token_hash(at.token_hash) is None, (
                "a session expiring exactly at the moment was kept"
            )
            _assert_same(tx.find_session_by_token_hash(after.token_hash), after, "later session")
            assert tx.delete_sessions_expired_before(moment) == 0
        _write(store, [before, at])

    def test_delete_user_sessions_ends_one_users_sessions_but_the_one_kept(
        self, store: Store
    ) -> None:
        world = self._seed(store)
        first, second, kept = (_session(world, new_id("ses", T0)) for _ in range(3))
        others = _session(world, new_id("ses", T0), user_id=world.admin.id)
        _write(store, [first, second, kept, others])
        with store.transaction() as tx:
            assert tx.delete_user_sessions(world.member.id, keep=kept.id) == 2
            assert tx.find_session_by_token_hash(first.token_hash) is None, (
                "delete_user_sessions left a session of the user in its own transaction"
            )
        with store.transaction() as tx:
            assert tx.find_session_by_token_hash(first.token_hash) is None
            assert tx.find_session_by_token_hash(second.token_hash) is None
            _assert_same(tx.find_session_by_token_hash(kept.token_hash), kept, "the kept one")
            _assert_same(tx.find_session_by_token_hash(others.token_hash), others, "another's")
            assert tx.delete_user_sessions(world.member.id) == 1, "keep=None keeps nothing"
            assert tx.delete_user_sessions(world.member.id) == 0
            assert tx.delete_user_sessions("usr-unknown") == 0
        with store.transaction() as tx:
            assert tx.find_session_by_token_hash(kept.token_hash) is None
            _assert_same(tx.find_session_by_token_hash(others.token_hash), others, "another's")

    def test_delete_throttle_forgets_one_key(self, store: Store) -> None:
        self._seed(store)
        gone, kept = _throttle("password:a@example.com"), _throttle("password:b@example.com")
        _write(store, [gone, kept])
        with store.transaction() as tx:
            tx.delete_throttle(gone.key)
            tx.delete_throttle("unknown")
        with store.transaction() as tx:
            assert tx.get_throttle(gone.key) is None
            _assert_same(tx.get_throttle(kept.key), kept, "the other throttle")

    def test_delete_throttles_expired_before_includes_the_moment(self, store: Store) -> None:
        self._seed(store)
        moment = _at(hours=1)
        before, at, after = (
            _throttle(f"key{d}", expires_at=moment + dt.timedelta(microseconds=d))
            for d in (-1, 0, 1)
        )
        _write(store, [before, at, after])
        with store.transaction() as tx:
            assert tx.delete_throttles_expired_before(moment) == 2
        with store.transaction() as tx:
            assert tx.get_throttle(before.key) is None
            assert tx.get_throttle(at.key) is None, "a throttle expiring at the moment was kept"
            _assert_same(tx.get_throttle(after.key), after, "the later throttle")
            assert tx.delete_throttles_expired_before(moment) == 0

    def test_delete_computer_block_lifts_exactly_one_block(self, store: Store) -> None:
        world = self._seed(store)
        a, by = world.account.id, world.admin.id
        whole = _block(a, "pc1", None, by)
        keyed = _block(a, "pc1", world.key.id, by)
        longer = _block(a, "pc10", None, by)
        elsewhere = _block(world.other_account.id, "pc1", None, by)
        _write(store, [whole, keyed, longer, elsewhere])
        with store.transaction() as tx:
            tx.delete_computer_block(a, "pc1", None)
            tx.delete_computer_block(a, "pc1", world.second_key.id)  # no such block
            tx.delete_computer_block(a, "pc-unknown", None)
        with store.transaction() as tx:
            _assert_same_list(tx.find_computer_blocks(a, "pc1"), [keyed], "after lifting one")
            _assert_same_list(tx.find_computer_blocks(a, "pc10"), [longer], "a longer id")
            _assert_same_list(
                tx.find_computer_blocks(world.other_account.id, "pc1"), [elsewhere], "elsewhere"
            )
            tx.delete_computer_block(a, "pc1", world.key.id)
        with store.transaction() as tx:
            _assert_same_list(
                tx.list_computer_blocks(a, after=None, limit=_ALL), [longer], "after lifting both"
            )
        _write(store, [whole])  # the block can be made again
        with store.transaction() as tx:
            _assert_same_list(tx.find_computer_blocks(a, "pc1"), [whole], "blocked again")

    # == concurrency ==========================================================================

    @pytest.mark.parametrize("counter", ["throttle failures", "license key seats_used"])
    def test_concurrent_read_modify_writes_lose_no_update(self, store: Store, counter: str) -> None:
        world = self._seed(store)
        threads, rounds = 8, 25
        throttle = _throttle("shared", failures=0)
        key = _license_key(world, new_id("key", T0), seats=threads * rounds)
        _write(store, [throttle, key])

        def increment(_: int) -> None:
            for _ in range(rounds):
                with store.transaction() as tx:
                    if counter == "throttle failures":
                        old = tx.get_throttle(throttle.key)
                        assert old is not None
                        time.sleep(0)  # let another thread run between the read and the write
                        tx.save_throttle(attrs.evolve(old, failures=old.failures + 1))
                    else:
                        old_key = tx.get_license_key(key.id)
                        assert old_key is not None
                        time.sleep(0)
                        used = old_key.seats_used + 1
                        tx.save_license_key(attrs.evolve(old_key, seats_used=used))

        _assert_no_errors(_race(threads, increment))
        with store.transaction() as tx:
            saved_throttle = tx.get_throttle(throttle.key)
            saved_key = tx.get_license_key(key.id)
        assert saved_throttle is not None
        assert saved_key is not None
        count = saved_throttle.failures if counter == "throttle failures" else saved_key.seats_used
        assert count == threads * rounds, f"{threads * rounds - count} updates were lost"

    def test_concurrent_check_then_write_is_serialised(self, store: Store) -> None:
        world = self._seed(store)
        threads, limit = 8, 3
        users = [_user(new_id("usr", T0)) for _ in range(threads * 2)]
        _write(store, users)

        def promote(index: int) -> None:
            for user in users[2 * index : 2 * index + 2]:
                with store.transaction() as tx:
                    if tx.count_active_administrators(world.account.id) < limit:
                        time.sleep(0.001)  # others may try to slip in now
                        tx.save_membership(
                            _membership(world.account.id, user.id, role=Role.ACCOUNT_ADMINISTRATOR)
                        )

        _assert_no_errors(_race(threads, promote))
        with store.transaction() as tx:
            count = tx.count_active_administrators(world.account.id)
            listed = tx.list_memberships(world.account.id, after=None, limit=_ALL)
        assert count == len(listed) == limit, (
            f"{len(listed)} administrators where each transaction checked for fewer than {limit}"
        )

    def test_concurrent_activations_never_oversell_seats(self, store: Store) -> None:
        seats, installers = 5, 24
        dawdling = _DawdlingStore(store)  # the store under test, pausing during the race
        kit = LicenseKit(
            dawdling,
            RecordingMailer(),
            secret=TEST_SECRET,
            join_url=TEST_JOIN_URL,
            download_url=TEST_DOWNLOAD_URL,
            clock=FakeClock(),
            password_hasher=PasswordHasher.insecure_fast(),
        )
        mailer = kit.mailer
        assert isinstance(mailer, RecordingMailer)
        admin, account = make_business_account(kit)
        key = kit.add_license_key(
            admin, account.id, product="Contract", value="CONTRACT-SEATS-0001", seats=seats
        )
        emails = [f"installer{n}@example.com" for n in range(installers)]
        kit.invite_installers(admin, account.id, key.id, emails)
        codes = [mailer.last(to=e).data["code"] for e in emails]

        dawdling.pause = 0.0002
        workers = _race(
            installers, lambda n: kit.activate(code=codes[n], computer_id=f"PC-{n:02d}")
        )
        dawdling.pause = 0.0

        outcomes = Counter(
            "seated" if isinstance(w.result, ActivationResult) else type(w.error).__name__
            for w in workers
        )
        unexpected = [
            w.error for w in workers if w.error is not None and not isinstance(w.error, SeatsFull)
        ]
        assert not unexpected, "an activation failed unexpectedly:\n" + _describe(unexpected[0])
        assert outcomes == Counter(seated=seats, SeatsFull=installers - seats), (
            f"{outcomes['seated']} of {installers} racing activations took one of {seats} seats"
        )
        winners = sorted(
            w.result.computer_id for w in workers if isinstance(w.result, ActivationResult)
        )
        with store.transaction() as tx:
            stored_key = tx.get_license_key(key.id)
            installations = tx.list_installations(key.id, after=None, limit=_ALL)
        assert stored_key is not None
        active = sorted(i.computer_id for i in installations if i.is_active)
        assert stored_key.seats_used == len(active) == seats, (
            f"seats_used={stored_key.seats_used}, active installations={len(active)}"
        )
        assert active == winners

    # == persistence ==========================================================================

    def test_committed_records_survive_reopening(self, store: Store) -> None:
        self._require_reopen()
        world = self._seed(store)
        records = _one_of_each(world).records
        _write(store, records)
        probes = _Probes.of([*world.records, *records])
        before = _state(store, probes)
        reopened = self._reopen(store)
        _assert_state_unchanged(before, _state(reopened, probes), "closing and reopening")
        with reopened.transaction() as tx:
            for record in records:
                _assert_same(_read_back(tx, record), record, f"{type(record).__name__} reopened")

    def test_rolled_back_and_deleted_records_stay_gone_after_reopening(self, store: Store) -> None:
        self._require_reopen()
        world = self._seed(store)
        session = _session(world, new_id("ses", T0))
        throttle = _throttle("password:member@example.com")
        block = _block(world.account.id, "pc1", None, world.admin.id)
        _write(store, [session, throttle, block])
        with store.transaction() as tx:
            tx.delete_session(session.id)
            tx.delete_throttle(throttle.key)
            tx.delete_computer_block(block.account_id, block.computer_id, None)
        records = _one_of_each(world).records
        try:
            with store.transaction() as tx:
                for record in records:
                    _insert(tx, record)
                raise _Boom
        except _Boom:
            pass
        reopened = self._reopen(store)
        with reopened.transaction() as tx:
            for record in [session, throttle, block, *records]:
                assert _read_back(tx, record) is None, (
                    f"a {type(record).__name__} deleted or rolled back came back on reopening"
                )

    def test_rules_still_hold_after_reopening(self, store: Store) -> None:
        self._require_reopen()
        world = self._seed(store)
        reopened = self._reopen(store)
        self._assert_refused(
            reopened, world, _user_email_clash(world), DuplicateKey, "add_user same email"
        )
        self._assert_refused(
            reopened,
            world,
            _install_invitation_clashes("code_hash")(world),
            DuplicateKey,
            "add_install_invitations same code_hash",
        )
        records = _one_of_each(world).records
        _write(reopened, records)
        again = self._reopen(reopened)
        with again.transaction() as tx:
            for record in [*world.records, *records]:
                _assert_same(_read_back(tx, record), record, f"{type(record).__name__} reopened")
