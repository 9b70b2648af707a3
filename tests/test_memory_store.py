"""MemoryStore against the storage protocol: records, uniqueness, atomicity, isolation, paging."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections import Counter

import attrs
import pytest

from licensekit import DuplicateKey, MemoryStore, StorageError
from licensekit._storage_v1 import Store, Transaction
from licensekit.model import (
    AuditAction,
    AuditEvent,
    BusinessAccount,
    JoinInvitation,
    Membership,
    MemberStatus,
    Role,
    SessionMethod,
    SessionRecord,
    Throttle,
    User,
)

T0 = dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(minutes=15)
JOIN_TIMEOUT = 10.0


def user(n: int, email: str | None = None) -> User:
    return User(
        id=f"usr_{n:04d}",
        email=email or f"user{n}@example.com",
        created_at=T0,
        password_hash=f"$argon2id$fake{n}",
        name=f"User {n}",
    )


def account(n: int) -> BusinessAccount:
    return BusinessAccount(id=f"acc_{n:04d}", name=f"Account {n}", created_at=T0, created_by="u")


def membership(acc: str, usr: str, role: Role = Role.REGULAR_MEMBER) -> Membership:
    return Membership(
        account_id=acc,
        user_id=usr,
        role=role,
        status=MemberStatus.ACTIVE,
        joined_at=T0,
        updated_at=T0,
    )


def invitation(n: int, acc: str = "acc_0001", email: str = "x@example.com") -> JoinInvitation:
    return JoinInvitation(
        id=f"jinv_{n:04d}",
        account_id=acc,
        email=email,
        language="en",
        invited_by="usr_0001",
        created_at=T0,
        expires_at=T0 + dt.timedelta(days=7),
        token_hash=f"hash-{n}".encode(),
        token_ciphertext=f"cipher-{n}".encode(),
    )


def session(n: int, expires_at: dt.datetime | None = None) -> SessionRecord:
    return SessionRecord(
        id=f"ses_{n:04d}",
        token_hash=f"session-hash-{n}".encode(),
        user_id="usr_0001",
        method=SessionMethod.PASSWORD,
        issued_at=T0,
        expires_at=expires_at or T0 + dt.timedelta(hours=12),
        admin_grants={"acc_0001": 1},
    )


def event(n: int, acc: str = "acc_0001") -> AuditEvent:
    return AuditEvent(
        id=f"evt_{n:04d}",
        account_id=acc,
        at=T0,
        actor_id="usr_0001",
        action=AuditAction.INVITATION_CREATED,
        subject=f"jinv_{n:04d}",
        details={"email": "x@example.com"},
    )


def throttle(key: str, failures: int = 1) -> Throttle:
    return Throttle(key=key, failures=failures, window_started_at=T0, expires_at=T0 + WINDOW)


def snapshot(store: MemoryStore) -> Counter[object]:
    return Counter(store.dump())


def populated() -> MemoryStore:
    """A store holding one record of every kind, plus the indexes they feed."""
    store = MemoryStore()
    with store.transaction() as tx:
        tx.add_user(user(1))
        tx.add_user(user(2))
        tx.add_account(account(1))
        tx.save_membership(membership("acc_0001", "usr_0001", Role.ACCOUNT_ADMINISTRATOR))
        tx.add_join_invitations([invitation(1, email="user2@example.com")])
        tx.add_session(session(1))
        tx.add_audit_events([event(1)])
        tx.save_throttle(throttle("password:user1@example.com"))
    return store


# -- protocols and round trips --------------------------------------------------------------


def test_memory_store_and_its_transactions_satisfy_the_runtime_protocols() -> None:
    store = MemoryStore()
    assert isinstance(store, Store)
    with store.transaction() as tx:
        assert isinstance(tx, Transaction)


def test_every_record_type_reads_back_equal_to_what_was_written() -> None:
    store = MemoryStore()
    u, a, m = user(1), account(1), membership("acc_0001", "usr_0001")
    inv, s, e, t = invitation(1), session(1), event(1), throttle("k")
    with store.transaction() as tx:
        tx.add_user(u)
        tx.add_account(a)
        tx.save_membership(m)
        tx.add_join_invitations([inv])
        tx.add_session(s)
        tx.add_audit_events([e])
        tx.save_throttle(t)
    with store.transaction() as tx:
        assert tx.get_user(u.id) == u
        assert tx.find_user_by_email(u.email) == u
        assert tx.get_account(a.id) == a
        assert tx.get_membership("acc_0001", "usr_0001") == m
        assert tx.list_user_memberships("usr_0001") == [m]
        assert tx.get_join_invitation(inv.id) == inv
        assert tx.find_join_invitation_by_token_hash(inv.token_hash) == inv
        assert tx.find_session_by_token_hash(s.token_hash) == s
        assert tx.list_audit_events("acc_0001", after=None, limit=10) == [e]
        assert tx.get_throttle("k") == t
    assert snapshot(store) == Counter([u, a, m, inv, s, e, t])


def test_save_replaces_records_and_keeps_indexes_consistent() -> None:
    store = populated()
    renamed = attrs.evolve(user(1), email="renamed@example.com")
    demoted = membership("acc_0001", "usr_0001", Role.REGULAR_MEMBER)
    accepted = attrs.evolve(invitation(1, email="user2@example.com"), accepted_by="usr_0002")
    narrowed = attrs.evolve(session(1), admin_grants={})
    with store.transaction() as tx:
        tx.save_user(renamed)
        tx.save_membership(demoted)
        tx.save_join_invitation(accepted)
        tx.save_session(narrowed)
        tx.save_throttle(throttle("password:user1@example.com", failures=3))
    with store.transaction() as tx:
        assert tx.find_user_by_email("user1@example.com") is None
        assert tx.find_user_by_email("renamed@example.com") == renamed
        assert tx.get_membership("acc_0001", "usr_0001") == demoted
        assert tx.list_memberships("acc_0001", after=None, limit=10) == [demoted]
        assert tx.find_join_invitation_by_token_hash(accepted.token_hash) == accepted
        assert tx.find_session_by_token_hash(narrowed.token_hash) == narrowed
        assert tx.get_throttle("password:user1@example.com").failures == 3  # type: ignore[union-attr]


def test_save_of_unknown_records_or_changed_invitation_keys_raises_storage_error() -> None:
    store = populated()
    with store.transaction() as tx:
        with pytest.raises(StorageError):
            tx.save_user(user(99))
        with pytest.raises(StorageError):
            tx.save_join_invitation(invitation(99))
        with pytest.raises(StorageError):
            tx.save_join_invitation(
                attrs.evolve(invitation(1, email="user2@example.com"), email="other@example.com")
            )
        with pytest.raises(StorageError):
            tx.save_session(session(99))
        with pytest.raises(StorageError):
            tx.save_session(attrs.evolve(session(1), token_hash=b"other"))


# -- uniqueness -------------------------------------------------------------------------------


def test_add_user_with_a_used_id_or_email_raises_duplicate_key_and_writes_nothing() -> None:
    store = populated()
    before = snapshot(store)
    with store.transaction() as tx:
        with pytest.raises(DuplicateKey):
            tx.add_user(attrs.evolve(user(1), email="fresh@example.com"))
        with pytest.raises(DuplicateKey):
            tx.add_user(user(3, email="user1@example.com"))
        assert tx.find_user_by_email("fresh@example.com") is None
        assert tx.get_user("usr_0003") is None
    assert snapshot(store) == before


def test_save_user_onto_another_users_email_raises_duplicate_key() -> None:
    store = populated()
    with store.transaction() as tx, pytest.raises(DuplicateKey):
        tx.save_user(attrs.evolve(user(1), email="user2@example.com"))
    with store.transaction() as tx:
        assert tx.find_user_by_email("user2@example.com") == user(2)
        assert tx.find_user_by_email("user1@example.com") == user(1)


def test_add_account_with_a_used_id_raises_duplicate_key() -> None:
    store = populated()
    with store.transaction() as tx, pytest.raises(DuplicateKey):
        tx.add_account(attrs.evolve(account(1), name="Other"))
    with store.transaction() as tx:
        assert tx.get_account("acc_0001") == account(1)


@pytest.mark.parametrize(
    "batch",
    [
        pytest.param([invitation(2), attrs.evolve(invitation(3), id="jinv_0001")], id="old-id"),
        pytest.param(
            [invitation(2), attrs.evolve(invitation(3), token_hash=b"hash-1")], id="old-hash"
        ),
        pytest.param([invitation(2), attrs.evolve(invitation(3), id="jinv_0002")], id="same-id"),
        pytest.param(
            [invitation(2), attrs.evolve(invitation(3), token_hash=b"hash-2")], id="same-hash"
        ),
    ],
)
def test_add_join_invitations_with_a_clash_raises_duplicate_key_and_adds_none(
    batch: list[JoinInvitation],
) -> None:
    store = populated()
    before = snapshot(store)
    with store.transaction() as tx:
        with pytest.raises(DuplicateKey):
            tx.add_join_invitations(batch)
        assert tx.get_join_invitation("jinv_0002") is None
        assert tx.find_join_invitation_by_token_hash(b"hash-2") is None
        assert [i.id for i in tx.list_join_invitations("acc_0001", after=None, limit=10)] == [
            "jinv_0001"
        ]
        assert tx.list_join_invitations_for_email("acc_0001", "x@example.com") == []
    assert snapshot(store) == before


@pytest.mark.parametrize(
    "clash",
    [
        pytest.param(attrs.evolve(session(2), id="ses_0001"), id="same-id"),
        pytest.param(attrs.evolve(session(2), token_hash=b"session-hash-1"), id="same-hash"),
    ],
)
def test_add_session_with_a_used_id_or_token_hash_raises_duplicate_key(
    clash: SessionRecord,
) -> None:
    store = populated()
    before = snapshot(store)
    with store.transaction() as tx:
        with pytest.raises(DuplicateKey):
            tx.add_session(clash)
        assert tx.find_session_by_token_hash(b"session-hash-1") == session(1)
    assert snapshot(store) == before


def test_add_audit_events_with_a_used_id_raises_duplicate_key() -> None:
    store = populated()
    before = snapshot(store)
    with store.transaction() as tx:
        with pytest.raises(DuplicateKey):
            tx.add_audit_events([attrs.evolve(event(1), subject="other")])
        assert tx.list_audit_events("acc_0001", after=None, limit=10) == [event(1)]
    assert snapshot(store) == before


# -- atomicity ------------------------------------------------------------------------------


class _Abort(Exception):
    pass


def test_a_transaction_that_raises_rolls_back_every_write_and_every_index() -> None:
    store = populated()
    before = snapshot(store)

    def doomed() -> None:
        with store.transaction() as tx:
            tx.add_user(user(3))
            tx.save_user(attrs.evolve(user(2), email="moved@example.com", name="Moved"))
            tx.add_account(account(2))
            tx.save_membership(membership("acc_0002", "usr_0003", Role.ACCOUNT_ADMINISTRATOR))
            tx.save_membership(membership("acc_0001", "usr_0001", Role.REGULAR_MEMBER))
            tx.save_membership(membership("acc_0001", "usr_0002"))
            tx.add_join_invitations(
                [invitation(2, email="new@example.com"), invitation(3, acc="acc_0002")]
            )
            tx.save_join_invitation(
                attrs.evolve(invitation(1, email="user2@example.com"), revoked_by="usr_0001")
            )
            tx.add_session(session(2))
            tx.save_session(attrs.evolve(session(1), admin_grants={}))
            tx.delete_session("ses_0001")
            tx.add_session(session(3, expires_at=T0))
            assert tx.delete_sessions_expired_before(T0) == 1
            tx.add_audit_events([event(0), event(2), event(3, acc="acc_0002")])
            tx.save_throttle(throttle("password:user1@example.com", failures=4))
            tx.save_throttle(throttle("token:*"))
            tx.delete_throttle("password:user1@example.com")
            raise _Abort

    with pytest.raises(_Abort):
        doomed()
    assert snapshot(store) == before
    with store.transaction() as tx:
        assert tx.get_user("usr_0003") is None
        assert tx.find_user_by_email("user3@example.com") is None
        assert tx.find_user_by_email("moved@example.com") is None
        assert tx.find_user_by_email("user2@example.com") == user(2)
        assert tx.get_account("acc_0002") is None
        assert tx.list_memberships("acc_0001", after=None, limit=10) == [
            membership("acc_0001", "usr_0001", Role.ACCOUNT_ADMINISTRATOR)
        ]
        assert tx.list_memberships("acc_0002", after=None, limit=10) == []
        assert tx.list_user_memberships("usr_0002") == []
        assert tx.list_user_memberships("usr_0003") == []
        assert tx.count_active_administrators("acc_0001") == 1
        assert tx.count_active_administrators("acc_0002") == 0
        assert tx.get_join_invitation("jinv_0001") == invitation(1, email="user2@example.com")
        assert tx.find_join_invitation_by_token_hash(b"hash-2") is None
        assert [i.id for i in tx.list_join_invitations("acc_0001", after=None, limit=10)] == [
            "jinv_0001"
        ]
        assert tx.list_join_invitations("acc_0002", after=None, limit=10) == []
        assert tx.list_join_invitations_for_email("acc_0001", "new@example.com") == []
        assert tx.find_session_by_token_hash(b"session-hash-1") == session(1)
        assert tx.find_session_by_token_hash(b"session-hash-2") is None
        assert tx.find_session_by_token_hash(b"session-hash-3") is None
        assert tx.list_audit_events("acc_0001", after=None, limit=10) == [event(1)]
        assert tx.list_audit_events("acc_0002", after=None, limit=10) == []
        assert tx.get_throttle("password:user1@example.com") == throttle(
            "password:user1@example.com"
        )
        assert tx.get_throttle("token:*") is None


def test_a_transaction_that_completes_commits_all_its_writes() -> None:
    store = populated()
    with store.transaction() as tx:
        tx.add_user(user(3))
        tx.delete_session("ses_0001")
        tx.delete_throttle("password:user1@example.com")
    with store.transaction() as tx:
        assert tx.get_user("usr_0003") == user(3)
        assert tx.find_session_by_token_hash(b"session-hash-1") is None
        assert tx.get_throttle("password:user1@example.com") is None


def test_deleting_unknown_sessions_and_throttles_does_nothing() -> None:
    store = populated()
    before = snapshot(store)
    with store.transaction() as tx:
        tx.delete_session("ses_9999")
        tx.delete_throttle("nope")
    assert snapshot(store) == before


def test_nested_transactions_are_refused_with_storage_error_and_outer_one_still_works() -> None:
    store = MemoryStore()
    with store.transaction() as tx:
        with pytest.raises(StorageError), store.transaction():
            pass  # pragma: no cover - the inner block must never run
        tx.add_user(user(1))
    with store.transaction() as tx:
        assert tx.get_user("usr_0001") == user(1)


@pytest.mark.parametrize("fails", [False, True], ids=["committed", "rolled-back"])
def test_a_transaction_object_used_after_its_block_raises_storage_error(fails: bool) -> None:
    store = MemoryStore()
    with pytest.raises(_Abort) if fails else contextlib.nullcontext(), store.transaction() as tx:
        tx.add_user(user(1))
        if fails:
            raise _Abort
    with pytest.raises(StorageError):
        tx.get_user("usr_0001")
    with pytest.raises(StorageError):
        tx.add_user(user(2))
    with pytest.raises(StorageError):
        tx.save_throttle(throttle("k"))
    with pytest.raises(StorageError):
        tx.list_memberships("acc_0001", after=None, limit=1)
    assert len(store.dump()) == (0 if fails else 1)


def test_transaction_after_close_raises_storage_error() -> None:
    store = populated()
    store.close()
    with pytest.raises(StorageError), store.transaction():
        pass  # pragma: no cover - the block must never run
    assert store.dump() == []


# -- isolation between threads ----------------------------------------------------------------


def _hold_open(store: MemoryStore, *, commit: bool) -> tuple[threading.Thread, dict[str, object]]:
    """Start a thread that writes a user in a transaction and keeps it open until released."""
    state: dict[str, object] = {
        "written": threading.Event(),
        "release": threading.Event(),
        "finished": False,
    }

    def writer() -> None:
        try:
            with store.transaction() as tx:
                tx.add_user(user(7))
                tx.save_throttle(throttle("held"))
                state["written"].set()  # type: ignore[attr-defined]
                state["release"].wait(JOIN_TIMEOUT)  # type: ignore[attr-defined]
                state["finished"] = True
                if not commit:
                    raise _Abort
        except _Abort:
            pass

    thread = threading.Thread(target=writer)
    thread.start()
    assert state["written"].wait(JOIN_TIMEOUT)  # type: ignore[attr-defined]
    return thread, state


@pytest.mark.parametrize("commit", [True, False], ids=["commit", "rollback"])
def test_writes_of_an_unfinished_transaction_are_invisible_to_other_threads(commit: bool) -> None:
    store = populated()
    writer, state = _hold_open(store, commit=commit)
    seen: list[tuple[bool, User | None, Throttle | None]] = []
    entering = threading.Event()

    def reader() -> None:
        entering.set()
        with store.transaction() as tx:
            seen.append((bool(state["finished"]), tx.get_user("usr_0007"), tx.get_throttle("held")))

    thread = threading.Thread(target=reader)
    thread.start()
    assert entering.wait(JOIN_TIMEOUT)
    thread.join(0.2)  # give a broken store the chance to let the reader in early
    state["release"].set()  # type: ignore[attr-defined]
    writer.join(JOIN_TIMEOUT)
    thread.join(JOIN_TIMEOUT)
    assert not writer.is_alive()
    assert not thread.is_alive()
    assert len(seen) == 1
    finished, seen_user, seen_throttle = seen[0]
    assert finished, "the reader got in while the writer's transaction was still open"
    if commit:
        assert seen_user == user(7)
        assert seen_throttle == throttle("held")
    else:
        assert seen_user is None
        assert seen_throttle is None


def test_dump_waits_for_an_open_transaction_and_never_shows_its_writes_half_done() -> None:
    store = populated()
    before = snapshot(store)
    writer, state = _hold_open(store, commit=False)
    dumps: list[Counter[object]] = []

    def dumper() -> None:
        dumps.append(snapshot(store))

    thread = threading.Thread(target=dumper)
    thread.start()
    thread.join(0.2)
    state["release"].set()  # type: ignore[attr-defined]
    writer.join(JOIN_TIMEOUT)
    thread.join(JOIN_TIMEOUT)
    assert dumps == [before]


def test_concurrent_read_modify_write_increments_lose_no_update() -> None:
    store = MemoryStore()
    threads, increments = 8, 200
    with store.transaction() as tx:
        tx.save_throttle(
            Throttle(key="counter", failures=0, window_started_at=T0, expires_at=T0 + WINDOW)
        )
    start = threading.Barrier(threads)

    def worker() -> None:
        start.wait(JOIN_TIMEOUT)
        for _ in range(increments):
            with store.transaction() as tx:
                current = tx.get_throttle("counter")
                assert current is not None
                time.sleep(0)  # invite a thread switch between the read and the write
                tx.save_throttle(attrs.evolve(current, failures=current.failures + 1))

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(JOIN_TIMEOUT * 3)
    assert not any(thread.is_alive() for thread in pool)
    with store.transaction() as tx:
        final = tx.get_throttle("counter")
    assert final is not None
    assert final.failures == threads * increments


def test_each_thread_may_hold_its_own_transaction_in_turn() -> None:
    """Nesting is refused per thread: another thread's open transaction is no nesting."""
    store = MemoryStore()
    errors: list[StorageError] = []

    def worker(n: int) -> None:
        try:
            with store.transaction() as tx:
                tx.add_user(user(n))
        except StorageError as e:  # pragma: no cover - the failure being tested for
            errors.append(e)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(10)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(JOIN_TIMEOUT)
    assert errors == []
    assert len(store.dump()) == 10


# -- listings -------------------------------------------------------------------------------


def _page_all(fetch, limit: int) -> list[str]:
    keys: list[str] = []
    after = None
    while True:
        page = fetch(after, limit)
        assert len(page) <= limit
        keys.extend(page)
        if len(page) < limit:
            return keys
        after = page[-1]


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 50])
def test_keyset_paging_returns_every_record_once_in_key_order(limit: int) -> None:
    store = MemoryStore()
    order = [5, 1, 9, 3, 7, 2, 8]
    with store.transaction() as tx:
        for n in order:
            tx.save_membership(membership("acc_0001", f"usr_{n:04d}"))
            tx.add_join_invitations([invitation(n, email=f"p{n}@example.com")])
            tx.add_audit_events([event(n)])
        tx.save_membership(membership("acc_0002", "usr_0004"))
        tx.add_join_invitations([invitation(4, acc="acc_0002")])
        tx.add_audit_events([event(4, acc="acc_0002")])
    expected = sorted(order)
    with store.transaction() as tx:
        members = _page_all(
            lambda a, n: [m.user_id for m in tx.list_memberships("acc_0001", after=a, limit=n)],
            limit,
        )
        invites = _page_all(
            lambda a, n: [i.id for i in tx.list_join_invitations("acc_0001", after=a, limit=n)],
            limit,
        )
        events = _page_all(
            lambda a, n: [e.id for e in tx.list_audit_events("acc_0001", after=a, limit=n)],
            limit,
        )
    assert members == [f"usr_{n:04d}" for n in expected]
    assert invites == [f"jinv_{n:04d}" for n in expected]
    assert events == [f"evt_{n:04d}" for n in expected]


def test_after_is_exclusive_and_need_not_be_an_existing_key() -> None:
    store = MemoryStore()
    with store.transaction() as tx:
        for n in (1, 2, 4, 5):
            tx.save_membership(membership("acc_0001", f"usr_{n:04d}"))
            tx.add_audit_events([event(n)])
    with store.transaction() as tx:
        assert [m.user_id for m in tx.list_memberships("acc_0001", after="usr_0002", limit=9)] == [
            "usr_0004",
            "usr_0005",
        ]
        assert [m.user_id for m in tx.list_memberships("acc_0001", after="usr_0003", limit=1)] == [
            "usr_0004"
        ]
        assert [e.id for e in tx.list_audit_events("acc_0001", after="evt_0003", limit=9)] == [
            "evt_0004",
            "evt_0005",
        ]
        assert tx.list_memberships("acc_0001", after="usr_0005", limit=9) == []
        assert tx.list_audit_events("acc_0001", after="evt_9999", limit=9) == []
        assert tx.list_memberships("acc_none", after=None, limit=9) == []
        assert tx.list_audit_events("acc_none", after=None, limit=9) == []


def test_pages_stay_stable_while_records_are_added() -> None:
    store = MemoryStore()
    with store.transaction() as tx:
        for n in (10, 20, 30, 40):
            tx.save_membership(membership("acc_0001", f"usr_{n:04d}"))
    with store.transaction() as tx:
        first = [m.user_id for m in tx.list_memberships("acc_0001", after=None, limit=2)]
    assert first == ["usr_0010", "usr_0020"]
    with store.transaction() as tx:
        tx.save_membership(membership("acc_0001", "usr_0005"))  # before the cursor
        tx.save_membership(membership("acc_0001", "usr_0025"))  # after the cursor
    with store.transaction() as tx:
        rest = [m.user_id for m in tx.list_memberships("acc_0001", after=first[-1], limit=10)]
    assert rest == ["usr_0025", "usr_0030", "usr_0040"]


def test_list_user_memberships_is_ordered_by_account_id() -> None:
    store = MemoryStore()
    with store.transaction() as tx:
        for acc in ("acc_0003", "acc_0001", "acc_0002"):
            tx.save_membership(membership(acc, "usr_0001"))
        tx.save_membership(membership("acc_0001", "usr_0002"))
    with store.transaction() as tx:
        assert [m.account_id for m in tx.list_user_memberships("usr_0001")] == [
            "acc_0001",
            "acc_0002",
            "acc_0003",
        ]
        assert tx.list_user_memberships("usr_none") == []


def test_count_active_administrators_counts_only_active_administrators_of_that_account() -> None:
    store = MemoryStore()
    blocked = attrs.evolve(
        membership("acc_0001", "usr_0003", Role.ACCOUNT_ADMINISTRATOR),
        status=MemberStatus.BLOCKED,
    )
    removed = attrs.evolve(
        membership("acc_0001", "usr_0004", Role.ACCOUNT_ADMINISTRATOR),
        status=MemberStatus.REMOVED,
    )
    with store.transaction() as tx:
        tx.save_membership(membership("acc_0001", "usr_0001", Role.ACCOUNT_ADMINISTRATOR))
        tx.save_membership(membership("acc_0001", "usr_0002"))
        tx.save_membership(blocked)
        tx.save_membership(removed)
        tx.save_membership(membership("acc_0002", "usr_0005", Role.ACCOUNT_ADMINISTRATOR))
    with store.transaction() as tx:
        assert tx.count_active_administrators("acc_0001") == 1
        assert tx.count_active_administrators("acc_0002") == 1
        assert tx.count_active_administrators("acc_none") == 0


def test_list_join_invitations_for_email_returns_that_accounts_invitations_to_that_email() -> None:
    store = MemoryStore()
    with store.transaction() as tx:
        tx.add_join_invitations(
            [
                invitation(5, email="ann@example.com"),
                invitation(2, email="ann@example.com"),
                invitation(3, email="bob@example.com"),
                invitation(4, acc="acc_0002", email="ann@example.com"),
            ]
        )
        tx.add_join_invitations([invitation(1, email="ann@example.com")])
    with store.transaction() as tx:
        assert [
            i.id for i in tx.list_join_invitations_for_email("acc_0001", "ann@example.com")
        ] == [
            "jinv_0001",
            "jinv_0002",
            "jinv_0005",
        ]
        assert [
            i.id for i in tx.list_join_invitations_for_email("acc_0002", "ann@example.com")
        ] == ["jinv_0004"]
        assert tx.list_join_invitations_for_email("acc_0001", "nobody@example.com") == []
        assert tx.list_join_invitations_for_email("acc_0003", "ann@example.com") == []


def test_list_join_invitations_for_email_shows_saved_state() -> None:
    store = MemoryStore()
    with store.transaction() as tx:
        tx.add_join_invitations([invitation(1, email="ann@example.com")])
    revoked = attrs.evolve(invitation(1, email="ann@example.com"), revoked_at=T0)
    with store.transaction() as tx:
        tx.save_join_invitation(revoked)
    with store.transaction() as tx:
        assert tx.list_join_invitations_for_email("acc_0001", "ann@example.com") == [revoked]


def test_delete_sessions_expired_before_deletes_those_at_or_before_the_moment() -> None:
    store = MemoryStore()
    cut = T0 + dt.timedelta(hours=1)
    with store.transaction() as tx:
        tx.add_session(session(1, expires_at=cut - dt.timedelta(seconds=1)))
        tx.add_session(session(2, expires_at=cut))
        tx.add_session(session(3, expires_at=cut + dt.timedelta(microseconds=1)))
    with store.transaction() as tx:
        assert tx.delete_sessions_expired_before(cut) == 2
    with store.transaction() as tx:
        assert tx.find_session_by_token_hash(b"session-hash-1") is None
        assert tx.find_session_by_token_hash(b"session-hash-2") is None
        assert tx.find_session_by_token_hash(b"session-hash-3") == session(
            3, expires_at=cut + dt.timedelta(microseconds=1)
        )
        assert tx.delete_sessions_expired_before(cut) == 0
    assert [r for r in store.dump() if isinstance(r, SessionRecord)] == [
        session(3, expires_at=cut + dt.timedelta(microseconds=1))
    ]
