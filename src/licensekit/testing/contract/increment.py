# ruff: noqa: S101, D102
# Part of a test suite that ships with the library: its checks are plain asserts (pytest
# rewrites them), and its test methods are named for the rule they check.
"""The guarded counter: ``increment`` changes a number in one atomic step, within bounds.

The new value must be at least 0 and, with ``cap``, at most the cap field's value; a
change made returns True, a change out of bounds returns False and leaves the record as it
was, and so does a record that does not exist. A refused increment is an answer, not an
error: the transaction goes on. Under threads that claim at once, each in its own
transaction and locking no scope, the number never passes its cap and no increment is lost.
This is what keeps seats from being oversold on a server database where transactions run
side by side.
"""

from __future__ import annotations

from collections import Counter as Tally
from typing import Any

import attrs
import pytest

from licensekit.storage import Key, Store
from licensekit.testing.contract._support import (
    assert_no_errors,
    assert_same,
    fetch,
    prepare,
    race,
    read_back,
    write_all,
)
from licensekit.testing.contract.base import ContractBase
from licensekit.testing.contract.samples import COUNTERS, Counter, Samples

__all__ = ["IncrementContract"]

_CAPPED = [c for c in COUNTERS if c.cap is not None]

_THREADS, _ROUNDS, _SEATS = 8, 20, 50
"""Threads that race, transactions each makes, and the cap when there is one."""


def counted(samples: Samples, counter: Counter, label: str, value: int, cap: int = 0) -> Any:
    """Return a record whose *counter* holds *value*, its cap (if any) *cap*."""
    changes = {counter.field: value}
    if counter.cap is not None:
        changes[counter.cap] = cap
    return samples.bare(counter.kind, label, changes)


def stored(
    store: Store, samples: Samples, counter: Counter, label: str, value: int, cap: int
) -> tuple[Any, Key]:
    """Commit a :func:`counted` record; return it and its key."""
    record = counted(samples, counter, label, value, cap)
    write_all(store, samples, counter.kind, [record])
    return record, counter.kind.key_of(record)


class IncrementContract(ContractBase):
    """``increment``: bounds, atomicity, and what a refusal leaves."""

    @staticmethod
    def _steps(
        store: Store,
        samples: Samples,
        counter: Counter,
        start: tuple[int, int],
        steps: list[tuple[int, int | None]],
    ) -> None:
        """From *start* (value, cap), increment by each step: the value it gives, or None.

        A refused step must leave the record as it was; the last value is committed.
        """
        kind, field = counter.kind, counter.field
        record, key = stored(store, samples, counter, f"from-{start[0]}", *start)
        current = record
        with store.transaction() as tx:
            for by, value in steps:
                what = f"{counter} {getattr(current, field)} {by:+d}, cap {start[1]}"
                changed = tx.increment(kind, key, field, by, cap=counter.cap)
                if value is None:
                    assert changed is False, f"{what}: not refused, it returned {changed!r}"
                else:
                    current = attrs.evolve(record, **{field: value})
                    assert changed is True, f"{what}: returned {changed!r}, not True"
                assert_same(read_back(tx, kind, [record])[0], current, f"read after {what}")
        assert_same(fetch(store, kind, [record])[0], current, f"{counter} after the commit")

    @pytest.mark.parametrize("counter", COUNTERS, ids=str)
    def test_increment_adds_and_says_so(
        self, store: Store, samples: Samples, counter: Counter
    ) -> None:
        self._steps(store, samples, counter, (2, 10), [(3, 5), (-4, 1)])

    @pytest.mark.parametrize("counter", _CAPPED, ids=str)
    def test_increment_stops_at_the_cap_included(
        self, store: Store, samples: Samples, counter: Counter
    ) -> None:
        self._steps(store, samples, counter, (3, 5), [(3, None), (2, 5), (1, None)])

    @pytest.mark.parametrize("counter", COUNTERS, ids=str)
    def test_increment_never_goes_below_zero(
        self, store: Store, samples: Samples, counter: Counter
    ) -> None:
        self._steps(store, samples, counter, (1, 5), [(-2, None), (-1, 0), (-1, None)])

    @pytest.mark.parametrize("counter", COUNTERS, ids=str)
    def test_increment_of_a_missing_record_returns_none_and_makes_none(
        self, store: Store, samples: Samples, counter: Counter
    ) -> None:
        ghost = counted(samples, counter, "ghost", 0, cap=5)
        with store.transaction() as tx:
            found = tx.increment(counter.kind, counter.kind.key_of(ghost), counter.field, 1)
            assert found is False, f"increment of a missing record returned {found!r}"
        assert fetch(store, counter.kind, [ghost]) == [None], "increment made a record"

    @pytest.mark.parametrize("counter", COUNTERS, ids=str)
    def test_a_refused_increment_leaves_the_transaction_going(
        self, store: Store, samples: Samples, counter: Counter
    ) -> None:
        kind, field = counter.kind, counter.field
        record = counted(samples, counter, "refused", 0, cap=5)
        later = samples.bare(kind, "written-after-the-refusal")
        write_all(store, samples, kind, [record])
        prepare(store, samples, [(kind, later)])
        with store.transaction() as tx:
            assert tx.increment(kind, kind.key_of(record), field, -1, cap=counter.cap) is False
            tx.add(kind, [later])
            assert tx.increment(kind, kind.key_of(record), field, 1, cap=counter.cap) is True
        raised = attrs.evolve(record, **{field: getattr(record, field) + 1})
        assert_same(fetch(store, kind, [later])[0], later, "a record added after a refusal")
        assert_same(fetch(store, kind, [record])[0], raised, "an increment after a refusal")

    @pytest.mark.parametrize("counter", COUNTERS, ids=str)
    def test_concurrent_increments_never_pass_the_cap_nor_lose_one(
        self, store: Store, samples: Samples, counter: Counter
    ) -> None:
        kind, field = counter.kind, counter.field
        record, key = stored(store, samples, counter, "raced", 0, _SEATS)

        def claim(_: int) -> Tally[str]:
            outcomes: Tally[str] = Tally()
            for _round in range(_ROUNDS):
                with store.transaction() as tx:
                    claimed = tx.increment(kind, key, field, 1, cap=counter.cap)
                outcomes["claimed" if claimed else "refused"] += 1
            return outcomes

        workers = race(_THREADS, claim)
        assert_no_errors(workers)
        total: Tally[str] = sum((w.result for w in workers), Tally())  # type: ignore[misc]
        attempts = _THREADS * _ROUNDS
        room = attempts if counter.cap is None else _SEATS
        final = fetch(store, kind, [record])[0]
        assert final is not None
        assert total["claimed"] == getattr(final, field) == room, (
            f"{attempts} racing increments of {counter} from 0 with room for {room}: "
            f"{total['claimed']} succeeded and the number ended at {getattr(final, field)}"
        )
