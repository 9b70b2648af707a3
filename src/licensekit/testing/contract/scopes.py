# ruff: noqa: S101, D102
# Part of a test suite that ships with the library: its checks are plain asserts (pytest
# rewrites them), and its test methods are named for the rule they check.
"""Scopes: ``lock`` makes transactions about the same thing run one after the other.

A use case locks the scopes it is about to change (``"account:<id>"``,
``"throttle:<key>"``) before it reads what it decides on. Two transactions that lock a
common scope must not interleave: a read-modify-write loses no update, and a check then
write (fewer than three administrators? then promote one) cannot be passed by two at once.
Locking is harmless twice, takes any scope text, and ends with the transaction, also when
a refused write ended it: what the block wrote is rolled back and the scope is free.

A store that runs one transaction at a time may treat ``lock`` as a no-op; these tests
then pass as they are.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import attrs
import pytest

from licensekit.exceptions import DuplicateKey
from licensekit.storage import KINDS, USERS, RecordKind, Store, Transaction
from licensekit.testing.contract._support import (
    assert_no_errors,
    assert_refused,
    fetch,
    in_thread,
    prepare,
    race,
    read_back,
    write_all,
)
from licensekit.testing.contract.base import ContractBase
from licensekit.testing.contract.samples import COUNTERS, Counter, Samples

__all__ = ["ScopesContract"]

_COUNTED = [kind for kind in KINDS if kind.counts]
_THREADS, _ROUNDS, _LIMIT = 8, 25, 3


def _kind_id(kind: RecordKind[Any]) -> str:
    return kind.name


def scope(samples: Samples, name: str) -> str:
    """Return a scope no other test locks."""
    return f"contract:{samples.tag}:{name}"


class ScopesContract(ContractBase):
    """``lock``: transactions that lock a common scope run one after the other."""

    def test_lock_takes_any_scopes_and_locking_twice_is_harmless(
        self, store: Store, samples: Samples
    ) -> None:
        names = [scope(samples, "account"), scope(samples, "throttle")]
        odd = scope(samples, "password:zoë.o'brien+🚀@example.com " + "é" * 250)
        written = samples.bare(USERS, "locked")
        with store.transaction() as tx:
            tx.lock(names[:1])
            tx.lock(tuple(names))
            tx.lock(set(names))
            tx.lock(frozenset())
            tx.lock([odd, odd])
            tx.add(USERS, [written])

        def lock_again() -> None:
            with store.transaction() as tx:
                tx.lock([*names, odd])

        in_thread("contract-locker", lock_again)  # the scopes ended with the transaction
        assert fetch(store, USERS, [written]) == [written], "a write after locks was lost"

    def test_a_lock_that_answers_false_leaves_what_was_read_before_unchanged(
        self, store: Store, samples: Samples
    ) -> None:
        record = samples.bare(USERS, "watched")
        write_all(store, samples, USERS, [record])
        name = scope(samples, "watched")
        read = threading.Event()

        def change() -> None:
            assert read.wait(timeout=30)
            with store.transaction() as tx:
                tx.lock([name])
                tx.save(USERS, [attrs.evolve(record, name="changed meanwhile")])

        worker = threading.Thread(target=change, name="contract-changer")
        worker.start()
        try:
            with store.transaction() as tx:
                (before,) = read_back(tx, USERS, [record])
                read.set()
                time.sleep(0.2)  # the other transaction changes the record now, if it can
                stale = tx.lock([name])
                (after,) = read_back(tx, USERS, [record])
        finally:
            read.set()
            worker.join(timeout=60)
        assert isinstance(stale, bool), f"lock returned {stale!r}, not a bool"
        assert stale or after == before, "lock answered False, yet a record read before changed"

    @pytest.mark.parametrize("counter", COUNTERS, ids=str)
    def test_locking_a_scope_serialises_a_read_modify_write(
        self, store: Store, samples: Samples, counter: Counter
    ) -> None:
        kind, field, total = counter.kind, counter.field, _THREADS * _ROUNDS
        changes = {field: 0} | ({counter.cap: total} if counter.cap else {})
        record = samples.bare(kind, "shared", changes)
        write_all(store, samples, kind, [record])
        name = scope(samples, str(counter))

        def add_one(_: int) -> None:
            for _round in range(_ROUNDS):
                with store.transaction() as tx:
                    tx.lock([name])
                    (old,) = read_back(tx, kind, [record])
                    assert old is not None
                    time.sleep(0)  # let another thread run between the read and the write
                    tx.save(kind, [attrs.evolve(old, **{field: getattr(old, field) + 1})])

        assert_no_errors(race(_THREADS, add_one))
        (final,) = fetch(store, kind, [record])
        assert final is not None
        lost = total - getattr(final, field)
        assert lost == 0, f"{lost} of {total} read-modify-writes of {counter} under a lock lost"

    @pytest.mark.parametrize("kind", _COUNTED, ids=_kind_id)
    def test_locking_a_scope_serialises_a_check_then_write(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        fields = kind.counts[0]
        candidates = [
            [samples.bare(kind, f"candidate{n}.{m}") for m in range(2)] for n in range(_THREADS)
        ]
        prepare(store, samples, [(kind, r) for pair in candidates for r in pair])
        where = {f: getattr(candidates[0][0], f) for f in fields}
        name = scope(samples, "check-then-write")

        def admit(index: int) -> None:
            for candidate in candidates[index]:
                with store.transaction() as tx:
                    tx.lock([name])
                    if tx.count(kind, where) < _LIMIT:
                        time.sleep(0.001)  # others may try to slip in now
                        tx.add(kind, [candidate])

        assert_no_errors(race(_THREADS, admit))
        with store.transaction() as tx:
            count = tx.count(kind, where)
        assert count == _LIMIT, (
            f"{count} {kind.name} where each transaction added one only while there were "
            f"fewer than {_LIMIT}"
        )

    def test_a_refused_write_under_a_lock_rolls_back_everything_and_frees_the_scope(
        self, store: Store, samples: Samples
    ) -> None:
        stored = samples.full(USERS, "stored")
        write_all(store, samples, USERS, [stored])
        twin = attrs.evolve(samples.bare(USERS, "twin"), email=stored.email)
        name = scope(samples, "refused")

        def attempt(tx: Transaction) -> None:
            tx.lock([name])
            tx.add(USERS, [twin])

        assert_refused(
            store,
            samples,
            USERS,
            attempt,
            DuplicateKey,
            "add, under a lock, of a user with another's email",
            [(USERS, stored), (USERS, twin)],
        )
        after = samples.bare(USERS, "after")

        def lock_and_write() -> None:
            with store.transaction() as tx:
                tx.lock([name])
                tx.add(USERS, [after])

        in_thread("contract-next-locker", lock_and_write)
        assert fetch(store, USERS, [after]) == [after], "the next transaction's write was lost"
