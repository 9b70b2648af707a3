# ruff: noqa: S101
# Part of a test suite that ships with the library: its checks are plain asserts, which pytest
# rewrites into detailed messages.
"""What the capability tests share: writing samples, reading them back, comparing, threads."""

from __future__ import annotations

import datetime as dt
import functools
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, TypeVar

import attrs
import pytest

from licensekit.exceptions import StorageError
from licensekit.storage import (
    KINDS,
    LICENSE_KEYS,
    USERS,
    Query,
    RecordKind,
    Store,
    Transaction,
    takes_durable,
)
from licensekit.testing.contract.samples import COUNTERS, Item, Samples, sort_items

R = TypeVar("R")

ALL = 1_000_000
"""A page size larger than any listing the suite makes."""

WAIT = 30.0
"""Seconds a thread of the suite waits for another before the test fails (a deadlock)."""


ANCIENT = dt.datetime(1850, 6, 15, 12, 30, 15, 500000, tzinfo=dt.UTC)
"""When the records that ``delete_expired`` tests delete expire: no sample expires then."""

ERA_END = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
"""Before this, only records the ``delete_expired`` tests make expire."""


class Boom(Exception):
    """Raised inside a transaction block by the suite, to make it roll back."""


def values(record: object, fields: Sequence[str]) -> tuple[Any, ...]:
    """Return *record*'s values of *fields*, in order."""
    return tuple(getattr(record, f) for f in fields)


def sortable(order: Sequence[Any]) -> tuple[tuple[bool, Any], ...]:
    """Return *order* values as a tuple that sorts as the port says: None before any value."""
    return tuple((v is not None, v) for v in order)


def key_text(kind: RecordKind[Any], record: object) -> str:
    """Return *record*'s key as text, for messages and for sorting records of one kind."""
    return repr(kind.key_of(record))


# -- writing -----------------------------------------------------------------------------------


def opened(store: Store, *, durable: bool) -> AbstractContextManager[Transaction]:
    """A transaction of *store* as licensekit opens it: ``durable=False`` only where taken."""
    if not durable and takes_durable(store):
        return store.transaction(durable=False)
    return store.transaction()


def add_items(tx: Transaction, items: Iterable[Item]) -> None:
    """Add *items*, one call per kind, kinds in the order of ``KINDS``."""
    batches: dict[str, tuple[RecordKind[Any], list[Any]]] = {}
    for kind, record in sort_items(items):
        batches.setdefault(kind.name, (kind, []))[1].append(record)
    for kind, records in batches.values():
        tx.add(kind, records)


def prepare(store: Store, samples: Samples, items: Iterable[Item]) -> None:
    """Commit the records *items* refer to (not *items* themselves)."""
    parents = samples.parents_for(items)
    if parents:
        with store.transaction() as tx:
            add_items(tx, parents)
        samples.mark_written(parents)


def write(store: Store, samples: Samples, items: Iterable[Item]) -> None:
    """Commit *items* and every record they refer to, in one transaction."""
    items = list(items)
    parents = samples.parents_for(items)
    with store.transaction() as tx:
        add_items(tx, [*parents, *items])
    samples.mark_written([*parents, *items])


def write_all(store: Store, samples: Samples, kind: RecordKind[R], records: Sequence[R]) -> None:
    """Commit *records* of *kind* and every record they refer to."""
    write(store, samples, [(kind, r) for r in records])


# -- reading -----------------------------------------------------------------------------------


def by_key(kind: RecordKind[R], records: Iterable[R]) -> Query[R]:
    """Return the query that finds *records* by their keys."""
    return Query(kind, kind.key, tuple(kind.key_of(r) for r in records))


def read_back(tx: Transaction, kind: RecordKind[R], records: Sequence[R]) -> list[R | None]:
    """Return the stored record with each of *records*' keys, or None, in their order."""
    (found,) = tx.read([by_key(kind, records)])
    stored = {kind.key_of(r): r for r in found}
    return [stored.get(kind.key_of(r)) for r in records]


def fetch(store: Store, kind: RecordKind[R], records: Sequence[R]) -> list[R | None]:
    """Return what :func:`read_back` finds, in a transaction of its own."""
    with store.transaction() as tx:
        return read_back(tx, kind, records)


# -- comparing ---------------------------------------------------------------------------------


def _type_differences(actual: Any, expected: Any, where: str) -> list[str]:
    """Name the places where *actual* holds a value of another type than *expected*."""
    if type(actual) is not type(expected):
        return [f"{where} is a {type(actual).__name__}, not a {type(expected).__name__}"]
    if isinstance(expected, dt.datetime) and actual.utcoffset() != expected.utcoffset():
        return [f"{where} came back at UTC offset {actual.utcoffset()}, not {expected.utcoffset()}"]
    if isinstance(expected, tuple):
        return [
            d
            for n, (a, e) in enumerate(zip(actual, expected, strict=False))
            for d in _type_differences(a, e, f"{where}[{n}]")
        ]
    if isinstance(expected, frozenset):
        return [
            d
            for a, e in zip(sorted(actual, key=repr), sorted(expected, key=repr), strict=False)
            for d in _type_differences(a, e, f"an element of {where}")
        ]
    if hasattr(expected, "items"):
        return [
            d
            for name in expected
            if name in actual
            for d in _type_differences(actual[name], expected[name], f"{where}[{name!r}]")
        ]
    return []


def differences(actual: Any, expected: Any) -> list[str]:
    """Say how the record *actual* differs from the written *expected*; empty if it does not.

    Besides values, types count (an enum comes back as its enum, bytes as bytes, a tuple as a
    tuple) and so do UTC offsets: what was written in UTC comes back in UTC.
    """
    if actual is None:
        return ["it was not found"]
    if type(actual) is not type(expected):
        return [f"it came back as {actual!r}"]
    found = []
    for field in attrs.fields(type(expected)):
        got, wrote = getattr(actual, field.name), getattr(expected, field.name)
        if got != wrote:
            found.append(f"{field.name} (wrote {wrote!r}, read {got!r})")
        else:
            found += _type_differences(got, wrote, field.name)
    return found


def assert_same(actual: object, expected: Any, what: str) -> None:
    """Assert that the record *actual* is exactly the written *expected*."""
    found = differences(actual, expected)
    assert not found, f"{what}: " + "; ".join(found)


def assert_same_records(
    kind: RecordKind[R], actual: Sequence[R], expected: Sequence[R], what: str
) -> None:
    """Assert that *actual* holds each record of *expected* once, in any order, and no more."""
    keys = [key_text(kind, r) for r in actual]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    assert not repeated, f"{what}: these records came back more than once: {repeated}"
    wanted = {key_text(kind, r): r for r in expected}
    assert sorted(keys) == sorted(wanted), (
        f"{what}: expected the records {sorted(wanted)}, got {sorted(keys)}"
    )
    for record in actual:
        assert_same(record, wanted[key_text(kind, record)], f"{what}, {key_text(kind, record)}")


def assert_same_list(
    kind: RecordKind[R], actual: Sequence[R], expected: Sequence[R], what: str
) -> None:
    """Assert that *actual* holds exactly the records of *expected*, in the same order."""
    got = [key_text(kind, r) for r in actual]
    wanted = [key_text(kind, r) for r in expected]
    assert got == wanted, f"{what}: expected the keys {wanted}, in this order, got {got}"
    for position, (record, written) in enumerate(zip(actual, expected, strict=True)):
        assert_same(record, written, f"{what}, item {position}")


def assert_round_trip(
    store: Store, samples: Samples, kind: RecordKind[R], records: Sequence[R], what: str
) -> None:
    """Commit *records*, read them back by key, and assert that each is exactly as written."""
    write_all(store, samples, kind, records)
    found = fetch(store, kind, records)
    for record, read in zip(records, found, strict=True):
        assert_same(read, record, f"{what}: {kind.name} {kind.key_of(record)!r}")


# -- what the store holds, as far as some records can see ------------------------------------

State = list[tuple[str, object]]


def state(store: Store, probes: Sequence[Item]) -> State:
    """Return what every look-up, listing and count reachable from *probes* finds.

    For each probe record: a read by each of its kind's look-ups with the probe's values, the
    first page of its owner's listing, and each count by the probe's values. It is one
    transaction; two states compare equal when the store holds the same for *probes*.
    """
    labels: list[str] = []
    queries: list[Query[Any]] = []
    listings: dict[tuple[str, Any], RecordKind[Any]] = {}
    counts: dict[tuple[str, str], tuple[RecordKind[Any], dict[str, Any]]] = {}
    for kind, record in probes:
        for fields in kind.lookups:
            found = values(record, fields)
            labels.append(f"read {kind.name} by {fields} = {found!r}")
            queries.append(Query(kind, fields, (found,)))
        if kind.owner is not None:
            listings[kind.name, getattr(record, kind.owner)] = kind
        for fields in kind.counts:
            where = {f: getattr(record, f) for f in fields}
            counts[kind.name, repr(where)] = (kind, where)
    seen: State = []
    with store.transaction() as tx:
        for label, kind_query, result in zip(labels, queries, tx.read(queries), strict=True):
            kind = kind_query.kind
            seen.append((label, sorted(result, key=functools.partial(key_text, kind))))
        for (name, owner), kind in sorted(listings.items(), key=repr):
            seen.append(
                (f"page of {name} of {owner!r}", tx.page(kind, owner, after=None, limit=ALL))
            )
        for (name, text), (kind, where) in sorted(counts.items(), key=repr):
            seen.append((f"count of {name} where {text}", tx.count(kind, where)))
    return seen


def assert_unchanged(before: State, after: State, what: str) -> None:
    """Assert that two :func:`state` s of the same probes are equal."""
    changed = [
        f"{label}: was {old!r}, is {new!r}"
        for (label, old), (_, new) in zip(before, after, strict=True)
        if old != new
    ]
    assert not changed, f"{what} changed the store: " + "; ".join(changed)


def expect_refusal(run: Callable[[], object], error: type[StorageError], what: str) -> StorageError:
    """Run *run* (a whole transaction block, or a call) and return the *error* it raises."""
    try:
        run()
    except StorageError as e:
        raised = e
    else:
        pytest.fail(f"{what}: no {error.__name__} was raised")
    assert isinstance(raised, error), f"{what}: raised {raised!r}, not {error.__name__}"
    return raised


# -- threads -----------------------------------------------------------------------------------


class Worker(threading.Thread):
    """A thread that keeps its work's result or the exception it raised."""

    def __init__(self, name: str, work: Callable[[], object]) -> None:
        super().__init__(name=name, daemon=True)
        self._work = work
        self.result: object = None
        self.error: BaseException | None = None

    def run(self) -> None:
        """Do the work, keeping what it returns or raises."""
        try:
            self.result = self._work()
        except BaseException as e:  # handed to the test, which reports it
            self.error = e


def describe(error: BaseException | None) -> str:
    """Return *error* with its traceback, for a failure message."""
    return "" if error is None else "".join(traceback.format_exception(error))


def join(workers: Sequence[Worker]) -> None:
    """Wait for *workers*; fail if one is still running after :data:`WAIT` seconds."""
    for worker in workers:
        worker.join(timeout=WAIT)
    stuck = [w.name for w in workers if w.is_alive()]
    assert not stuck, f"threads still running after {WAIT} s (a deadlock?): {stuck}"


def race(count: int, work: Callable[[int], object]) -> list[Worker]:
    """Run ``work(0)`` ... ``work(count - 1)`` in threads released together by a barrier.

    The interpreter switches threads very often meanwhile, so that races interleave.
    """
    barrier = threading.Barrier(count)

    def released(index: int) -> Callable[[], object]:
        def run() -> object:
            barrier.wait(timeout=WAIT)
            return work(index)

        return run

    workers = [Worker(f"contract-racer-{n}", released(n)) for n in range(count)]
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for worker in workers:
            worker.start()
        join(workers)
    finally:
        sys.setswitchinterval(previous)
    return workers


def assert_no_errors(workers: Sequence[Worker]) -> None:
    """Assert that no worker raised; show the first error otherwise."""
    errors = [w.error for w in workers if w.error is not None]
    assert not errors, f"{len(errors)} of {len(workers)} threads failed; the first:\n" + describe(
        errors[0]
    )


def in_thread(name: str, work: Callable[[], R]) -> R:
    """Run *work* in another thread and return its result; fail if it raises or hangs."""
    worker = Worker(name, work)
    worker.start()
    join([worker])
    assert worker.error is None, describe(worker.error)
    return worker.result  # type: ignore[return-value]


# -- refusals ----------------------------------------------------------------------------------


class Earlier:
    """What a refused transaction writes before its refused write; none of it may remain.

    It adds a new record of the kind under test, saves a change to the world's member and
    claims a seat of a world key with ``increment``.
    """

    def __init__(self, store: Store, samples: Samples, kind: RecordKind[Any]) -> None:
        self.kind = kind
        self.fresh = samples.full(kind, "earlier")
        prepare(store, samples, [(kind, self.fresh)])
        self.member = attrs.evolve(samples.member, name="Renamed by a refused transaction")
        self.key = samples.side(0).keys[0]
        self.probes: list[Item] = [
            (kind, self.fresh),
            (USERS, samples.member),
            (LICENSE_KEYS, self.key),
        ]

    def __call__(self, tx: Transaction) -> None:
        """Make the writes."""
        tx.add(self.kind, [self.fresh])
        tx.save(USERS, [self.member])
        claimed = tx.increment(
            LICENSE_KEYS, LICENSE_KEYS.key_of(self.key), "seats_used", 1, cap="seats"
        )
        assert claimed is True, "a seat of a key with free seats could not be claimed"


def assert_refused(
    store: Store,
    samples: Samples,
    kind: RecordKind[Any],
    attempt: Callable[[Transaction], object],
    error: type[StorageError],
    what: str,
    probes: Sequence[Item],
) -> None:
    """Check that a transaction making *attempt* after :class:`Earlier` writes is refused.

    The block must raise *error* (from the call or from its end), and the store must then
    hold exactly what it held before, as far as *probes* and the earlier writes can see.
    """
    prepare(store, samples, probes)  # so that the refusal can only be the one under test
    earlier = Earlier(store, samples, kind)
    everything = [*probes, *earlier.probes]
    before = state(store, everything)

    def run() -> None:
        with store.transaction() as tx:
            earlier(tx)
            attempt(tx)

    expect_refusal(run, error, what)
    assert_unchanged(before, state(store, everything), f"a refused {what}")


# -- one of every write -------------------------------------------------------------------------


class EveryWrite:
    """Every kind of write on every kind of record, in one transaction block.

    On every kind it adds a full record and puts a bare one, saves a change to a stored
    record and deletes another; it deletes what expired by :data:`ANCIENT`, claims one of
    every :data:`~licensekit.testing.contract.samples.COUNTERS` and locks a scope. The
    records it reads back or changes are committed by the constructor.
    """

    def __init__(self, store: Store, samples: Samples) -> None:
        self.tag = samples.tag
        self.added: list[Item] = [(k, samples.full(k, "added")) for k in KINDS]
        self.put: list[Item] = [(k, samples.bare(k, "put")) for k in KINDS]
        kept = [(k, samples.bare(k, "kept")) for k in KINDS]
        self.saved: list[Item] = [(k, samples.changed(k, r, "saved")) for k, r in kept]
        self.deleted: list[Item] = [(k, samples.bare(k, "deleted")) for k in KINDS]
        self.expired: list[Item] = [
            (k, samples.bare(k, "expired", {k.expires: ANCIENT}))
            for k in KINDS
            if k.expires is not None
        ]
        self.counted: list[Item] = [
            (c.kind, samples.bare(c.kind, f"counted-{c.field}", {c.field: 0})) for c in COUNTERS
        ]
        committed = [*kept, *self.deleted, *self.expired, *self.counted]
        write(store, samples, committed)
        prepare(store, samples, [*self.added, *self.put, *self.saved])
        self.probes = [*committed, *self.added, *self.put, *self.saved]

    def __call__(self, tx: Transaction) -> None:
        """Make the writes."""
        tx.lock([f"contract:{self.tag}", f"account:{self.tag}"])
        add_items(tx, self.added)
        for kind, record in [*self.put, *self.saved]:
            tx.put(kind, [record])
        for kind, record in self.saved:
            tx.save(kind, [record])
        for kind, record in reversed(self.deleted):  # what refers to a record goes first
            assert tx.delete(kind, [kind.key_of(record)]) == 1, f"a {kind.name} was not deleted"
        for kind, _ in self.expired:
            assert tx.delete_expired(kind, ANCIENT) >= 1, f"an expired {kind.name} was kept"
        for counter, (kind, record) in zip(COUNTERS, self.counted, strict=True):
            claimed = tx.increment(kind, kind.key_of(record), counter.field, 1, cap=counter.cap)
            assert claimed is True, f"{counter} could not be claimed"

    def effects(self, tx: Transaction) -> list[bool]:
        """Which of the writes *tx* sees, one flag per write."""
        flags: list[bool] = []
        for kind, record in [*self.added, *self.put, *self.saved]:
            flags.append(read_back(tx, kind, [record]) == [record])
        for kind, record in [*self.deleted, *self.expired]:
            flags.append(read_back(tx, kind, [record]) == [None])
        for counter, (kind, record) in zip(COUNTERS, self.counted, strict=True):
            (found,) = read_back(tx, kind, [record])
            flags.append(found is not None and getattr(found, counter.field) == 1)
        return flags
