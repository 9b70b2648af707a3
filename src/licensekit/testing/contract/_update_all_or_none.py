# ruff: noqa: S101
# Part of a test suite that ships with the library: its checks are plain asserts (pytest
# rewrites them), and its test methods are named for the rule they check.
"""``update`` is all or none, and loses no addition to updates and increments beside it.

A block that raises keeps nothing of its updates; an update of more keys than a SQL store
binds in one statement changes each record once; transactions adding to the same records at
once lose no addition. See :mod:`licensekit.testing.contract.update`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import attrs
import pytest

from licensekit.exceptions import StorageBusy
from licensekit.storage import KINDS, Key, RecordKind, Store, Transaction
from licensekit.testing.contract._support import (
    Boom,
    assert_no_errors,
    assert_same,
    assert_unchanged,
    fetch,
    prepare,
    race,
    state,
    write_all,
)
from licensekit.testing.contract._update_support import (
    MOMENT,
    NARROW,
    moment_field,
    numbers,
    one_each,
    param_id,
    shared_values,
    updated,
)
from licensekit.testing.contract.base import ContractBase
from licensekit.testing.contract.samples import COUNTERS, Samples

__all__ = ["UpdateAllOrNoneContract"]

_RACED = next(c for c in COUNTERS if c.cap is None)
_THREADS, _ROUNDS, _RACED_RECORDS = 6, 12, 5
_MANY = 1_201
"""More keys than a SQL store binds in one statement, in a few statements."""
_WIDEST = max(KINDS, key=lambda kind: len(kind.key))


def _key_text(kind: RecordKind[Any], record: Any) -> str:
    return repr(kind.key_of(record))


class UpdateAllOrNoneContract(ContractBase):
    """``update``: all or none, also of many keys, and no addition lost beside others."""

    # == all or none ==========================================================================

    @pytest.mark.parametrize("kind", KINDS, ids=param_id)
    def test_a_block_that_raises_after_an_update_keeps_none_of_it(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        records = [samples.bare(kind, "kept"), samples.full(kind, "kept-too")]
        write_all(store, samples, kind, records)
        probes = [(kind, r) for r in records]
        before = state(store, probes)
        source = samples.full(kind, "source", side=1)
        prepare(store, samples, [(kind, source)])
        changes = {**shared_values(kind, source), moment_field(kind): MOMENT}
        keys = [kind.key_of(r) for r in records]
        with contextlib.suppress(Boom), store.transaction() as tx:
            assert tx.update(kind, keys, changes) == 2
            if numbers(kind):
                assert tx.update(kind, keys, {}, add=one_each(kind)) == 2
            raise Boom
        assert_unchanged(before, state(store, probes), "a rolled-back update")
        for record, found in zip(records, fetch(store, kind, records), strict=True):
            assert_same(found, record, f"a {kind.name} updated in a rolled-back block")

    @pytest.mark.parametrize("kind", [NARROW, _WIDEST], ids=param_id)
    def test_update_of_more_keys_than_a_statement_holds_changes_each_once(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        records = [samples.bare(kind, f"many-{n}") for n in range(_MANY)]
        for field in kind.nullable_key:  # every other record holds a value there, the others None
            value = getattr(samples.full(kind, "value"), field)
            records[::2] = [attrs.evolve(r, **{field: value}) for r in records[::2]]
        write_all(store, samples, kind, records)
        named = records[: _MANY - 1]  # the last is not named
        keys = [kind.key_of(r) for r in named]
        changes, added = {moment_field(kind): MOMENT}, one_each(kind)
        with store.transaction() as tx:
            changed = tx.update(kind, [*keys, *keys[:10]], changes, add=added)
        assert changed == len(named), f"an update of {len(named)} {kind.name} returned {changed}"
        found = fetch(store, kind, records)
        wrong = [
            _key_text(kind, record)
            for record, read in zip(named, found, strict=False)
            if read != updated(record, changes, added)
        ]
        assert not wrong, f"{len(wrong)} of {len(named)} {kind.name} not updated: {wrong[:5]}"
        assert_same(found[-1], records[-1], f"the one {kind.name} not named")

    # == side by side =========================================================================

    def test_concurrent_updates_and_increments_lose_no_addition(
        self, store: Store, samples: Samples
    ) -> None:
        """Transactions adding to the same records at once: updates of them all, increments.

        Each increment is a transaction of its own, so that no transaction waits for a
        record while it holds another (licensekit locks a scope before it writes several).
        A server may still answer a conflict with :class:`~licensekit.exceptions.
        StorageBusy`; the transaction is then run again, as licensekit does.
        """
        kind, field = _RACED.kind, _RACED.field
        records = [samples.bare(kind, f"raced-{n}") for n in range(_RACED_RECORDS)]
        write_all(store, samples, kind, records)
        keys = [kind.key_of(r) for r in records]

        def updating(tx: Transaction) -> None:
            changed = tx.update(kind, keys, {}, add={field: 1})
            assert changed == len(keys), f"an update of {len(keys)} records returned {changed}"

        def incrementing(key: Key) -> Callable[[Transaction], None]:
            def work(tx: Transaction) -> None:
                assert tx.increment(kind, key, field, 1) is True, "an increment was refused"

            return work

        def add(index: int) -> int:
            retries = 0
            for _ in range(_ROUNDS):
                works = [incrementing(k) for k in keys] if index % 3 == 2 else [updating]
                for work in works:  # one thread in three increments instead
                    while True:
                        try:
                            with store.transaction() as tx:
                                work(tx)
                            break
                        except StorageBusy:
                            retries += 1
                            assert retries < 100, "transactions stayed busy 100 times"
            return retries

        workers = race(_THREADS, add)
        assert_no_errors(workers)
        added = _THREADS * _ROUNDS
        found = fetch(store, kind, records)
        lost = {
            _key_text(kind, record): getattr(read, field) - getattr(record, field)
            for record, read in zip(records, found, strict=True)
            if read is None or getattr(read, field) != getattr(record, field) + added
        }
        assert not lost, (
            f"{_THREADS} threads each adding 1 {_ROUNDS} times to {kind.name}.{field}: "
            f"these records gained other than {added}: {lost}"
        )
