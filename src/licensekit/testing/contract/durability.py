# ruff: noqa: S101, D102
# Part of a test suite that ships with the library: its checks are plain asserts (pytest
# rewrites them), and its test methods are named for the rule they check.
"""Durability: what was committed survives closing and reopening the store, and only that.

These tests run when the contract subclass implements
:meth:`~licensekit.testing.contract.base.ContractBase.reopen_store`; without it they are
skipped. After reopening, committed records come back exactly, rolled-back and deleted
ones stay gone, and the rules still hold: keys and unique sets refuse clashes, listings
keep their order, the guarded counter its cap. Closing the store is no crash: a commit of a
transaction opened with ``durable=False`` is kept too.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

from licensekit.exceptions import DuplicateKey
from licensekit.storage import KINDS, RecordKind, Store, Transaction
from licensekit.testing.contract._support import (
    ALL,
    Boom,
    EveryWrite,
    add_items,
    assert_refused,
    assert_same,
    assert_same_list,
    assert_unchanged,
    opened,
    prepare,
    read_back,
    state,
    write,
)
from licensekit.testing.contract.base import ContractBase
from licensekit.testing.contract.paging import ordered, owner, placed
from licensekit.testing.contract.samples import COUNTERS, Item, Samples

__all__ = ["DurabilityContract"]


def _assert_all_there(store: Store, items: list[Item], what: str) -> None:
    with store.transaction() as tx:
        for kind, record in items:
            assert_same(read_back(tx, kind, [record])[0], record, f"a {kind.name} {what}")


class DurabilityContract(ContractBase):
    """Closing and reopening keeps what was committed and the rules."""

    def test_committed_records_survive_reopening(self, store: Store, samples: Samples) -> None:
        self.require_reopen()
        items = [(kind, r) for kind in KINDS for r in samples.variants(kind, "kept")]
        write(store, samples, items)
        probes = [*samples.world(), *items]
        before = state(store, probes)
        reopened = self.reopen(store)
        assert_unchanged(before, state(reopened, probes), "closing and reopening")
        _assert_all_there(reopened, items, "reopened")

    def test_a_commit_that_need_not_be_durable_survives_closing_and_reopening(
        self, store: Store, samples: Samples
    ) -> None:
        self.require_reopen()
        items = [(kind, samples.full(kind, "lazily")) for kind in KINDS]
        prepare(store, samples, items)
        with opened(store, durable=False) as tx:
            add_items(tx, items)
        samples.mark_written(items)
        reopened = self.reopen(store)
        _assert_all_there(reopened, items, "committed without durability, then reopened")

    def test_rolled_back_and_deleted_records_stay_gone_after_reopening(
        self, store: Store, samples: Samples
    ) -> None:
        self.require_reopen()
        deleted = [(kind, samples.full(kind, "erased")) for kind in KINDS]
        write(store, samples, deleted)
        with store.transaction() as tx:
            for kind, record in reversed(deleted):  # what refers to a record goes first
                tx.delete(kind, [kind.key_of(record)])
        changes = EveryWrite(store, samples)
        with contextlib.suppress(Boom), store.transaction() as tx:
            changes(tx)
            raise Boom
        probes = [*changes.probes, *deleted]
        before = state(store, probes)
        reopened = self.reopen(store)
        assert_unchanged(before, state(reopened, probes), "reopening after a rollback")
        with reopened.transaction() as tx:
            gone = [read_back(tx, kind, [record])[0] for kind, record in deleted]
        assert gone == [None] * len(deleted), "deleted records came back on reopening"

    def test_the_rules_still_hold_after_reopening(self, store: Store, samples: Samples) -> None:
        self.require_reopen()
        stored = [(kind, samples.full(kind, "stored")) for kind in KINDS]
        listed = [kind for kind in KINDS if kind.owner is not None]
        pages = {kind.name: placed(samples, kind, 0, "listed")[::4] for kind in listed}
        counted = [(c, samples.bare(c.kind, f"capped-{c.field}", {c.field: 0})) for c in COUNTERS]
        write(store, samples, stored)
        write(store, samples, [(k, r) for k in listed for r in pages[k.name]])
        write(store, samples, [(c.kind, r) for c, r in counted])
        reopened = self.reopen(store)
        for kind, record in stored:
            for fields in (kind.key, *kind.unique):
                twin = samples.bare(kind, f"twin-{'+'.join(fields)}", _share(record, fields))
                assert_refused(
                    reopened,
                    samples,
                    kind,
                    functools.partial(_add, kind, twin),
                    DuplicateKey,
                    f"after reopening, add of a {kind.name} with another's {fields}",
                    [(kind, record), (kind, twin)],
                )
        with reopened.transaction() as tx:
            for kind in listed:
                found = tx.page(kind, owner(samples, 0), after=None, limit=ALL)
                expected = ordered(kind, pages[kind.name])
                assert_same_list(kind, found, expected, f"{kind.name} listed after reopening")
            for counter, record in counted:
                key, cap = counter.kind.key_of(record), counter.cap
                assert tx.increment(counter.kind, key, counter.field, -1, cap=cap) is False, (
                    f"after reopening, {counter} went below 0"
                )
                if cap is not None:
                    past = getattr(record, cap) + 1
                    assert tx.increment(counter.kind, key, counter.field, past, cap=cap) is False, (
                        f"after reopening, {counter} went past its cap"
                    )
        again = self.reopen(reopened)
        _assert_all_there(again, [*samples.world(), *stored], "reopened twice")


def _add(kind: RecordKind[Any], record: Any, tx: Transaction) -> None:
    tx.add(kind, [record])


def _share(record: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: getattr(record, f) for f in fields}
