# ruff: noqa: S101, D102
# Part of a test suite that ships with the library: its checks are plain asserts (pytest
# rewrites them), and its test methods are named for the rule they check.
"""Transactions: all of a block's writes become visible together, or none of them.

A committed block's writes are seen by every later transaction, in any thread; a block
sees its own writes; a block that raises keeps none of them and its exception comes out
unchanged, and the keys and unique values it took are free again. Another thread never
sees part of an unfinished transaction. A transaction object refuses every call once its
block has ended, transactions do not nest, and a closed store opens none. A transaction
opened with ``durable=False`` (when the store's ``transaction()`` takes the keyword) keeps
every one of these rules: only its flush to disk may come later.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import pytest

from licensekit.exceptions import StorageError
from licensekit.storage import KINDS, USERS, Store
from licensekit.testing.contract._support import (
    ANCIENT,
    WAIT,
    Boom,
    EveryWrite,
    Worker,
    add_items,
    assert_same,
    assert_unchanged,
    by_key,
    describe,
    expect_refusal,
    fetch,
    in_thread,
    join,
    opened,
    prepare,
    read_back,
    state,
    write,
)
from licensekit.testing.contract.base import ContractBase
from licensekit.testing.contract.samples import COUNTERS, Item, Samples

__all__ = ["TransactionsContract"]

_LISTED = next(kind for kind in KINDS if kind.owner is not None)
_COUNTED = next(kind for kind in KINDS if kind.counts)
_EXPIRING = next(kind for kind in KINDS if kind.expires is not None)


def _read_all(store: Store, items: list[Item]) -> list[Any]:
    with store.transaction() as tx:
        return [read_back(tx, kind, [record])[0] for kind, record in items]


class TransactionsContract(ContractBase):
    """Commit, rollback, isolation, and the life of a transaction object."""

    def test_committed_writes_are_seen_later_and_from_other_threads(
        self, store: Store, samples: Samples
    ) -> None:
        items = [(k, r) for k in KINDS for r in (samples.full(k, "one"), samples.bare(k, "two"))]
        write(store, samples, items)
        here = _read_all(store, items)
        there = in_thread("contract-reader", lambda: _read_all(store, items))
        for (kind, record), mine, theirs in zip(items, here, there, strict=True):
            assert_same(mine, record, f"a {kind.name} read after its commit")
            assert_same(theirs, record, f"a {kind.name} read from another thread")

    @pytest.mark.parametrize("ending", ["commit", "rollback"])
    def test_a_transaction_that_need_not_be_durable_is_still_all_or_nothing(
        self, store: Store, samples: Samples, ending: str
    ) -> None:
        """``durable=False`` lets only the flush wait: atomic, visible at once, or nothing."""
        changes = EveryWrite(store, samples)
        before = state(store, changes.probes)
        with contextlib.suppress(Boom), opened(store, durable=False) as tx:
            changes(tx)
            seen = changes.effects(tx)
            assert all(seen), f"a transaction that need not be durable missed its writes: {seen}"
            if ending == "rollback":
                raise Boom
        if ending == "rollback":
            assert_unchanged(before, state(store, changes.probes), "a rolled-back block")
            return

        def effects() -> list[bool]:
            with store.transaction() as tx:
                return changes.effects(tx)

        here, there = effects(), in_thread("contract-reader", effects)
        assert all(here), f"a later transaction missed writes of one not durable: {here}"
        assert all(there), f"another thread missed writes of a transaction not durable: {there}"
        after = samples.bare(USERS, "after-not-durable")
        write(store, samples, [(USERS, after)])  # durable transactions go on as before
        assert fetch(store, USERS, [after]) == [after], "a durable commit after it was lost"

    def test_a_transaction_sees_its_own_writes(self, store: Store, samples: Samples) -> None:
        changes = EveryWrite(store, samples)
        owned = samples.bare(_LISTED, "owned")
        counted = samples.full(_COUNTED, "counted")
        prepare(store, samples, [(_LISTED, owned), (_COUNTED, counted)])
        where = {f: getattr(counted, f) for f in _COUNTED.counts[0]}
        with store.transaction() as tx:
            changes(tx)
            seen = changes.effects(tx)
            assert all(seen), f"a transaction missed some of its own writes: {seen}"
            before = tx.count(_COUNTED, where)
            tx.add(_COUNTED, [counted])
            after = tx.count(_COUNTED, where)
            assert after == before + 1, f"a count did not see an added {_COUNTED.name}"
            tx.add(_LISTED, [owned])
            assert _LISTED.owner is not None
            listed = tx.page(_LISTED, getattr(owned, _LISTED.owner), after=None, limit=1_000)
            assert owned in listed, f"a {_LISTED.name} just added is missing from its listing"

    def test_an_exception_rolls_back_every_write_and_propagates_unchanged(
        self, store: Store, samples: Samples
    ) -> None:
        changes = EveryWrite(store, samples)
        before = state(store, changes.probes)
        boom = Boom("the block failed")

        def fail() -> None:
            with store.transaction() as tx:
                changes(tx)
                raise boom

        with pytest.raises(Boom) as raised:
            fail()
        assert raised.value is boom, f"the block's exception came out as {raised.value!r}"
        assert_unchanged(before, state(store, changes.probes), "a rolled-back block")

    def test_a_rolled_back_block_leaves_no_key_or_unique_value_taken(
        self, store: Store, samples: Samples
    ) -> None:
        items = [(k, samples.full(k, "again")) for k in KINDS]
        prepare(store, samples, items)
        with contextlib.suppress(Boom), store.transaction() as tx:
            add_items(tx, items)
            raise Boom
        write(store, samples, items)  # the same keys and unique values are free again
        for (kind, record), found in zip(items, _read_all(store, items), strict=True):
            assert_same(found, record, f"a {kind.name} added again after a rollback")

    @pytest.mark.parametrize("ending", ["commit", "rollback"])
    def test_an_unfinished_transaction_is_invisible_to_other_threads(
        self, store: Store, samples: Samples, ending: str
    ) -> None:
        changes = EveryWrite(store, samples)
        written, finish = threading.Event(), threading.Event()

        def write_and_wait() -> None:
            try:
                with store.transaction() as tx:
                    changes(tx)
                    written.set()
                    assert finish.wait(WAIT), "the test never let the writer finish"
                    if ending == "rollback":
                        raise Boom
            except Boom:
                pass

        def effects() -> list[bool]:
            with store.transaction() as tx:
                return changes.effects(tx)

        writer = Worker("contract-writer", write_and_wait)
        writer.start()
        assert written.wait(WAIT), f"the writer did not write: {describe(writer.error)}"
        reader = Worker("contract-reader", effects)
        reader.start()
        reader.join(timeout=0.2)
        read_before_the_end = not reader.is_alive()
        finish.set()
        join([writer, reader])
        assert writer.error is None, describe(writer.error)
        assert reader.error is None, describe(reader.error)
        seen = reader.result
        assert isinstance(seen, list)
        assert len(set(seen)) == 1, f"another thread saw part of a transaction: {seen}"
        if read_before_the_end:
            assert not any(seen), "another thread saw the writes of a transaction still open"
        if ending == "rollback":
            assert not any(seen), "another thread saw the writes of a rolled-back transaction"
        assert effects() == [ending == "commit"] * len(seen)

    @pytest.mark.parametrize("ending", ["commit", "rollback"])
    def test_a_transaction_refuses_every_call_after_its_block(
        self, store: Store, samples: Samples, ending: str
    ) -> None:
        late, counter = samples.bare(USERS, "late"), COUNTERS[0]
        counted = samples.bare(counter.kind, "late-counter")
        write(store, samples, [(counter.kind, counted)])
        with contextlib.suppress(Boom), store.transaction() as tx:
            tx.read([by_key(USERS, [samples.admin])])
            if ending == "rollback":
                raise Boom
        assert _LISTED.owner is not None
        calls: dict[str, Callable[[], object]] = {
            "lock": lambda: tx.lock(["contract:late"]),
            "read": lambda: tx.read([by_key(USERS, [samples.admin])]),
            "read of no queries": lambda: tx.read([]),
            "page": lambda: tx.page(_LISTED, samples.owner(_LISTED), after=None, limit=10),
            "count": lambda: tx.count(
                _COUNTED, {f: getattr(samples.bare(_COUNTED, "c"), f) for f in _COUNTED.counts[0]}
            ),
            "add": lambda: tx.add(USERS, [late]),
            "save": lambda: tx.save(USERS, [samples.member]),
            "put": lambda: tx.put(USERS, [late]),
            "delete": lambda: tx.delete(USERS, [USERS.key_of(samples.member)]),
            "delete_expired": lambda: tx.delete_expired(_EXPIRING, ANCIENT),
            "increment": lambda: tx.increment(
                counter.kind, counter.kind.key_of(counted), counter.field, 1, cap=counter.cap
            ),
        }
        for name, call in calls.items():
            expect_refusal(call, StorageError, f"{name} on a transaction after its {ending}")
        assert fetch(store, USERS, [late, samples.member]) == [None, samples.member], (
            "a write after the end of a transaction was stored"
        )
        assert fetch(store, counter.kind, [counted]) == [counted], "an increment was stored"

    def test_transactions_do_not_nest(self, store: Store, samples: Samples) -> None:
        outer_write = samples.bare(USERS, "outer")
        inner_opened = threading.Event()

        def nest() -> None:
            with store.transaction() as outer:
                outer.add(USERS, [outer_write])
                with store.transaction() as inner:
                    inner_opened.set()
                    inner.read([by_key(USERS, [samples.admin])])

        worker = Worker("contract-nester", nest)
        worker.start()
        worker.join(timeout=WAIT)
        if worker.is_alive():
            self.forget_store(store)  # it may be locked for good; do not wait on close()
            pytest.fail("a transaction opened inside another waited instead of raising")
        assert not inner_opened.is_set(), "a transaction opened inside another"
        assert isinstance(worker.error, StorageError), (
            "opening a transaction inside another must raise StorageError, not "
            + (describe(worker.error) or "nothing")
        )
        assert fetch(store, USERS, [outer_write]) == [None], (
            "the outer transaction's write stayed although its block raised"
        )

    def test_a_closed_store_refuses_transactions(self, store: Store, samples: Samples) -> None:
        self.forget_store(store)
        store.close()

        def use() -> None:
            with store.transaction() as tx:
                tx.read([by_key(USERS, [samples.admin])])

        expect_refusal(use, StorageError, "a transaction on a closed store")
