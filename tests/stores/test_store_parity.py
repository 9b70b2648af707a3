"""The SQLite store of storage port v2 does what the memory store does, operation by operation.

The memory store (``stores/_memory_v2.py``) is the reference semantics of the port. Random
sequences of transactions, each a few operations on records drawn from small pools (so that
keys, unique fields and fixed fields clash often), run on both stores; every result, the
type of every error and, after each transaction, everything stored must be the same.

Records refer only to parents that are written first and never changed (the SQLite schema
enforces references at commit; the port does not ask for it), and hold the counts licensekit
keeps in range (the schema's CHECKs). A transaction ends at its first error, as licensekit's
do: the port lets a store refuse every later call after a refused write.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from licensekit.exceptions import StorageError
from licensekit.model import (
    AuditAction,
    BusinessAccount,
    InstallInvitation,
    LicenseKey,
    MemberStatus,
    Role,
    SessionMethod,
    User,
)
from licensekit.storage import (
    INSTALL_INVITATIONS,
    KINDS,
    LICENSE_KEYS,
    MEMBERSHIPS,
    THROTTLES,
    Query,
    RecordKind,
)
from licensekit.stores.memory import MemoryStore
from licensekit.stores.sqlite import SQLiteStore

T0 = dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.UTC)
TIMES = [T0 + dt.timedelta(hours=h) for h in range(3)]
ACCOUNT_IDS = ["acc_1", "acc_2"]
PARENT_USERS = ["usr_1", "usr_2"]
PARENT_KEYS = ["key_1", "key_2"]
HASHES = [b"h1", b"h2", b"h3"]
EMAILS = ["a@example.com", "b@example.com", "person1@example.com"]

PARENTS: list[Any] = [
    *(
        User(id=i, email=f"person{n}@example.com", created_at=T0)
        for n, i in enumerate(PARENT_USERS, 1)
    ),
    *(BusinessAccount(id=a, name=a, created_at=T0, created_by="usr_1") for a in ACCOUNT_IDS),
    *(
        LicenseKey(
            id=k,
            account_id=a,
            product="Draw",
            seats=2,
            seats_used=0,
            created_at=T0,
            created_by="usr_1",
            value_hash=b"h1",
            value_ciphertext=b"c",
        )
        for k, a in zip(PARENT_KEYS, ACCOUNT_IDS, strict=True)
    ),
    InstallInvitation(
        id="inv_1",
        account_id="acc_1",
        key_id="key_1",
        email="a@example.com",
        language="en",
        invited_by="usr_1",
        created_at=T0,
        expires_at=T0,
        code_hash=b"h1",
        token_hash=b"h1",
        secret_ciphertext=b"s",
        max_activations=2,
    ),
]

# Each field's values, per kind: parents' ids where a record refers to one, small pools
# elsewhere. Kinds that are parents use ids no other record refers to.
one = st.sampled_from
POOLS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "users": {
        "id": one(["usr_a", "usr_b", "usr_c"]),
        "email": one(EMAILS),
        "created_at": one(TIMES),
        "password_hash": one([None, "$argon2id$x"]),
        "name": one(["", "Ann"]),
        "email_verified_at": one([None, T0]),
    },
    "memberships": {
        "account_id": one(ACCOUNT_IDS),
        "user_id": one(PARENT_USERS),
        "role": one(list(Role)),
        "status": one(list(MemberStatus)),
        "joined_at": one(TIMES),
        "updated_at": one(TIMES),
        "admin_grant": st.integers(0, 2),
        "license_keys": st.frozensets(one(PARENT_KEYS)),
    },
    "join_invitations": {
        "id": one(["join_a", "join_b", "join_c"]),
        "account_id": one(ACCOUNT_IDS),
        "email": one(EMAILS),
        "language": one(["en", "de"]),
        "invited_by": one(PARENT_USERS),
        "created_at": one(TIMES),
        "expires_at": one(TIMES),
        "token_hash": one(HASHES),
        "token_ciphertext": one([b"c1", b"c2"]),
        "sent_count": st.integers(0, 2),
    },
    "sessions": {
        "id": one(["ses_a", "ses_b", "ses_c"]),
        "token_hash": one(HASHES),
        "user_id": one(PARENT_USERS),
        "method": one(list(SessionMethod)),
        "issued_at": one(TIMES),
        "expires_at": one(TIMES),
        "admin_grants": st.dictionaries(one(ACCOUNT_IDS), st.integers(0, 2)),
    },
    "audit_events": {
        "id": one(["evt_a", "evt_b"]),
        "account_id": one(ACCOUNT_IDS),
        "at": one(TIMES),
        "actor_id": one(PARENT_USERS),
        "action": one([AuditAction.ACTIVATED, AuditAction.DEACTIVATED]),
        "subject": one(["PC-1", ""]),
        "details": st.dictionaries(one(["k", "ß"]), one(["v", "⚙"])),
    },
    "throttles": {
        "key": one(["t:a", "t:b", "t:c"]),
        "failures": st.integers(0, 3),
        "window_started_at": one(TIMES),
        "expires_at": one(TIMES),
        "locked_until": one([None, *TIMES]),
    },
    "license_keys": {
        "id": one(["key_a", "key_b"]),
        "account_id": one(ACCOUNT_IDS),
        "product": one(["Draw", "Paint"]),
        "created_at": one(TIMES),
        "created_by": one(PARENT_USERS),
        "value_hash": one(HASHES),
        "value_ciphertext": one([b"c1", b"c2"]),
        "expires_at": one([None, T0]),
    },
    "install_invitations": {
        "id": one(["inv_a", "inv_b"]),
        "account_id": one(ACCOUNT_IDS),
        "key_id": one(PARENT_KEYS),
        "email": one(EMAILS),
        "language": one(["en"]),
        "invited_by": one(PARENT_USERS),
        "created_at": one(TIMES),
        "expires_at": one(TIMES),
        "code_hash": one(HASHES),
        "token_hash": one(HASHES),
        "secret_ciphertext": one([b"s1", b"s2"]),
        "computer_ids": st.lists(one(["PC-1", "PC-2"]), max_size=2).map(tuple),
    },
    "installations": {
        "id": one(["ins_a", "ins_b", "ins_c"]),
        "account_id": one(ACCOUNT_IDS),
        "key_id": one(PARENT_KEYS),
        "computer_id": one(["PC-1", "PC-2"]),
        "computer_name": one(["Office", "Lab"]),
        "email": one(EMAILS),
        "invitation_id": one(["inv_1"]),
        "activated_at": one(TIMES),
        "last_seen_at": one(TIMES),
        "token_hash": one(HASHES),
    },
    "computer_blocks": {
        "account_id": one(ACCOUNT_IDS),
        "computer_id": one(["PC-1", "PC-2", "PC-10"]),
        "key_id": one([None, "", *PARENT_KEYS]),
        "blocked_at": one(TIMES),
        "blocked_by": one(PARENT_USERS),
        "notes": one(["", "stolen"]),
    },
}
KINDS_USED = [k for k in KINDS if k.name in POOLS]


@st.composite
def records(draw: st.DrawFn, kind: RecordKind[Any]) -> Any:
    values = {field: draw(pool) for field, pool in POOLS[kind.name].items()}
    if kind is LICENSE_KEYS:  # within the schema's CHECKs, as licensekit keeps them
        values["seats"] = draw(st.integers(1, 3))
        values["seats_used"] = draw(st.integers(0, values["seats"]))
    if kind is INSTALL_INVITATIONS:
        values["max_activations"] = draw(st.integers(1, 2))
        values["activations"] = draw(st.integers(0, values["max_activations"]))
    return kind.type(**values)


def values_of(kind: RecordKind[Any], fields: tuple[str, ...]) -> st.SearchStrategy[tuple[Any, ...]]:
    """Values of *fields* as the records of *kind* hold them: look-ups find some, miss some."""
    pools = POOLS[kind.name]
    return st.tuples(*(pools[f] if f in pools else one(ACCOUNT_IDS) for f in fields))


INCREMENTS = [
    (LICENSE_KEYS, ["key_1", "key_a"], "seats_used", "seats"),
    (INSTALL_INVITATIONS, ["inv_1", "inv_a"], "activations", "max_activations"),
    (THROTTLES, ["t:a", "t:b"], "failures", None),
    (MEMBERSHIPS, None, "admin_grant", None),
]

Operation = tuple[str, Any]
Pair = tuple[MemoryStore, SQLiteStore]


@st.composite
def operations(draw: st.DrawFn, focus: list[RecordKind[Any]]) -> Operation:
    kind = draw(one(focus))
    names = ["add", "save", "put", "delete", "read"]
    names += ["page"] if kind.owner is not None else []
    names += ["count"] if kind.counts else []
    names += ["expire"] if kind.expires is not None else []
    increments = [i for i in INCREMENTS if i[0] is kind]
    names += ["increment"] if increments else []
    name = draw(one(names))
    if name in ("add", "save", "put"):
        return name, (kind, draw(st.lists(records(kind), min_size=1, max_size=3)))
    if name == "delete":
        return name, (kind, draw(st.lists(values_of(kind, kind.key), max_size=3)))
    if name == "read":
        fields = draw(one(kind.lookups))
        return name, (kind, fields, tuple(draw(st.lists(values_of(kind, fields), max_size=4))))
    if name == "page":
        owner = draw(values_of(kind, (kind.owner,)))[0]  # type: ignore[arg-type]
        after = draw(st.none() | values_of(kind, kind.order))
        return name, (kind, owner, after, draw(st.integers(0, 3)))
    if name == "count":
        (fields,) = kind.counts
        return name, (kind, dict(zip(fields, draw(values_of(kind, fields)), strict=True)))
    if name == "expire":
        return name, (kind, draw(one(TIMES)))
    _, keys, field, cap = draw(one(increments))
    key = (draw(one(keys)),) if keys else draw(values_of(kind, kind.key))
    return "increment", (kind, key, field, draw(st.integers(-2, 2)), cap)


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[list[Operation], bool]]:
    """Transactions (their operations, and whether they commit) on one or two kinds."""
    focus = draw(st.lists(one(KINDS_USED), min_size=1, max_size=2, unique_by=lambda k: k.name))
    work = st.lists(operations(focus), min_size=1, max_size=5)
    return draw(st.lists(st.tuples(work, st.booleans()), min_size=1, max_size=6))


def run(tx: Any, operation: Operation) -> Any:
    """Apply *operation*; return its result in a form that compares across stores."""
    name, args = operation
    if name in ("add", "save", "put"):
        kind, batch = args
        return getattr(tx, name)(kind, batch)
    if name == "delete":
        return tx.delete(*args)
    if name == "read":
        kind, fields, values = args
        (found,) = tx.read([Query(kind, fields, values)])
        return sorted(found, key=lambda r: sortable(kind.key_of(r)))
    if name == "page":
        kind, owner, after, limit = args
        return tx.page(kind, owner, after=after, limit=limit)
    if name == "count":
        return tx.count(*args)
    if name == "expire":
        return tx.delete_expired(*args)
    kind, key, field, by, cap = args
    return tx.increment(kind, key, field, by, cap=cap)


def sortable(values: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is not None, v if v is not None else "") for v in values)


def everything(store: Any) -> list[Any]:
    found = store.dump()
    return sorted(found, key=lambda r: (type(r).__name__, repr(sortable(kind_of(r).key_of(r)))))


def kind_of(record: Any) -> RecordKind[Any]:
    return next(k for k in KINDS if isinstance(record, k.type))


class _End(Exception):
    """Raised to end a transaction with a roll-back."""


def outcome(store: Any, work: list[Operation], commit: bool) -> list[Any]:
    """Run one transaction of *work*; return each result, then how the transaction ended."""
    results: list[Any] = []
    try:
        with store.transaction() as tx:
            for operation in work:
                try:
                    results.append(run(tx, operation))
                except StorageError as e:
                    results.append(type(e))
                    raise _End from e
            if not commit:
                raise _End
    except _End:
        results.append("rolled back")
    except StorageError as e:
        results.append(("failed to commit", type(e), str(e)))
    return results


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file with the parents written, copied for each example."""
    path = tmp_path_factory.mktemp("parity") / "template.db"
    store = SQLiteStore(path, synchronous="normal")
    with store.transaction() as tx:
        for kind in KINDS:
            tx.add(kind, [r for r in PARENTS if isinstance(r, kind.type)])
    store.close()
    return path


@pytest.fixture(scope="module")
def stores(template: Path) -> Callable[[], contextlib.AbstractContextManager[Pair]]:
    """A maker of a fresh pair of stores holding the parents, for each example."""

    @contextlib.contextmanager
    def make() -> Iterator[Pair]:
        copy = template.with_name(f"{uuid.uuid4().hex}.db")
        shutil.copyfile(template, copy)
        sqlite = SQLiteStore(copy, synchronous="normal")
        memory = MemoryStore()
        with memory.transaction() as tx:
            for kind in KINDS:
                tx.add(kind, [r for r in PARENTS if isinstance(r, kind.type)])
        try:
            yield memory, sqlite
        finally:
            sqlite.close()
            for leftover in copy.parent.glob(f"{copy.name}*"):
                leftover.unlink()

    return make


@settings(max_examples=200)  # a few seconds; fewer miss rare interleavings
@given(histories())
def test_sqlite_and_memory_give_the_same_results_errors_and_records(
    stores: Callable[[], contextlib.AbstractContextManager[Pair]],
    transactions: list[tuple[list[Operation], bool]],
) -> None:
    with stores() as (memory, sqlite):
        for n, (work, commit) in enumerate(transactions):
            expected = outcome(memory, work, commit)
            got = outcome(sqlite, work, commit)
            assert got == expected, f"transaction {n}: {work}"
            assert everything(sqlite) == everything(memory), f"after transaction {n}: {work}"
