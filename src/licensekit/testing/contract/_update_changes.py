# ruff: noqa: S101
# Part of a test suite that ships with the library: its checks are plain asserts (pytest
# rewrites them), and its test methods are named for the rule they check.
"""What ``update`` changes: exactly the records it names, and what follows from them.

It sets every value it is given and adds every amount to what each record holds, on each
record whose key it names (a key given twice once, a key no record has not at all, a record
differing in one key field not at all) and returns how many it changed: 0 when it has
nothing to set or add. Look-ups, counts and filtered listings follow it, and a later save of
the record replaces it whole. See :mod:`licensekit.testing.contract.update`.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from licensekit.storage import KINDS, Query, RecordKind, Store, Transaction
from licensekit.testing.contract._support import (
    ALL,
    assert_same,
    fetch,
    prepare,
    read_back,
    values,
    write_all,
)
from licensekit.testing.contract._update_support import (
    MOMENT,
    NUMBERED,
    UNIQUE,
    moment_field,
    numbers,
    one_each,
    param_id,
    settable,
    shared_values,
    updated,
)
from licensekit.testing.contract.base import ContractBase
from licensekit.testing.contract.samples import Samples, at

__all__ = ["UpdateChangesContract"]

_MULTI = [(kind, field) for kind in KINDS if len(kind.key) > 1 for field in kind.key]
_FOLLOWED = [kind for kind in KINDS if kind.counts or kind.filters]


def _sharing(record: Any, base: Any, fields: tuple[str, ...]) -> Any:
    return attrs.evolve(base, **{f: getattr(record, f) for f in fields})


def _counts(tx: Transaction, kind: RecordKind[Any], record: Any) -> list[int]:
    """How many records hold *record*'s values of each of *kind*'s counts."""
    return [
        tx.count(kind, dict(zip(fields, values(record, fields), strict=True)))
        for fields in kind.counts
    ]


def _check_counts(
    tx: Transaction,
    kind: RecordKind[Any],
    old: Any,
    new: Any,
    before: tuple[list[int], list[int]],
    what: str,
) -> None:
    """Assert that the counts moved *old*'s record from its values to *new*'s."""
    after = (_counts(tx, kind, old), _counts(tx, kind, new))
    for n, fields in enumerate(kind.counts):
        if values(old, fields) == values(new, fields):
            expected = (before[0][n], before[1][n])
        else:
            expected = (before[0][n] - 1, before[1][n] + 1)
        got = (after[0][n], after[1][n])
        assert got == expected, (
            f"{what}: the counts by {fields} of the old and new values went from "
            f"{(before[0][n], before[1][n])} to {got}, not {expected}"
        )


def _check_listings(tx: Transaction, kind: RecordKind[Any], old: Any, new: Any, what: str) -> None:
    """Assert that each filtered listing holds the record as *new*, no longer as *old*."""
    if kind.owner is None:
        return
    owner, key = getattr(new, kind.owner), kind.key_of(new)
    for fields in kind.filters:
        for record, holds in ((new, True), (old, values(old, fields) == values(new, fields))):
            where = dict(zip(fields, values(record, fields), strict=True))
            page = tx.page(kind, owner, after=None, limit=ALL, where=where)
            listed = any(kind.key_of(r) == key for r in page)
            assert listed is holds, (
                f"{what}: the listing by {where} {'missed' if holds else 'still held'} it"
            )


class UpdateChangesContract(ContractBase):
    """``update``: exactly the records named, every value back, and what follows it."""

    # == what it changes ======================================================================

    @pytest.mark.parametrize("kind", KINDS, ids=param_id)
    def test_update_sets_every_field_it_may_change_and_each_comes_back_exactly(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        """Every sort of value (moments, enums, None, JSON, bytes, sets...) one after another."""
        stored = samples.bare(kind, "stored")
        write_all(store, samples, kind, [stored])
        key = kind.key_of(stored)
        sources = [*samples.variants(kind, "to")[1:], samples.full(kind, "to-full")]
        prepare(store, samples, [(kind, s) for s in sources])
        expected = stored
        with store.transaction() as tx:
            for source in sources:
                changes = {f: getattr(source, f) for f in settable(kind)}
                changed = tx.update(kind, [key], changes)
                assert changed == 1, f"an update of one {kind.name} returned {changed}"
                expected = updated(stored, changes)
                found = read_back(tx, kind, [stored])[0]
                assert_same(found, expected, f"a {kind.name} updated to {source!r}, in its block")
        assert_same(fetch(store, kind, [stored])[0], expected, f"an updated {kind.name}")
        back = {f: getattr(stored, f) for f in settable(kind)}  # None where it may be
        with store.transaction() as tx:
            assert tx.update(kind, [key], back) == 1
        assert_same(fetch(store, kind, [stored])[0], stored, f"a {kind.name} updated back")

    @pytest.mark.parametrize(("kind", "field"), NUMBERED, ids=param_id)
    def test_update_adds_to_each_record_the_amount_to_what_it_holds(
        self, store: Store, samples: Samples, kind: RecordKind[Any], field: str
    ) -> None:
        records = [samples.bare(kind, "low"), samples.full(kind, "high")]
        write_all(store, samples, kind, records)
        keys = [kind.key_of(r) for r in records]
        with store.transaction() as tx:
            changed = tx.update(kind, keys, {}, add={field: 1})
            assert changed == 2, f"adding to two {kind.name}.{field} returned {changed}"
        for record, found in zip(records, fetch(store, kind, records), strict=True):
            expected = updated(record, {}, {field: 1})
            assert_same(found, expected, f"{kind.name}.{field} {getattr(record, field)} + 1")

    @pytest.mark.parametrize("kind", KINDS, ids=param_id)
    def test_update_sets_and_adds_in_one_call_on_every_record_named(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        records = [samples.bare(kind, "one"), samples.full(kind, "two"), samples.bare(kind, "3")]
        others = [samples.bare(kind, "not-named"), samples.full(kind, "not-named-either")]
        write_all(store, samples, kind, [*records, *others])
        source = samples.full(kind, "source", side=1)
        prepare(store, samples, [(kind, source)])
        changes = {**shared_values(kind, source), moment_field(kind): MOMENT}
        added = one_each(kind)
        with store.transaction() as tx:
            changed = tx.update(kind, [kind.key_of(r) for r in records], changes, add=added)
            assert changed == 3, f"an update of three {kind.name} returned {changed}"
            for record, found in zip(records, read_back(tx, kind, records), strict=True):
                assert_same(found, updated(record, changes, added), "updated, in its block")
        for record, found in zip(records, fetch(store, kind, records), strict=True):
            assert_same(found, updated(record, changes, added), f"an updated {kind.name}")
        for record, found in zip(others, fetch(store, kind, others), strict=True):
            assert_same(found, record, f"a {kind.name} the update did not name")

    @pytest.mark.parametrize("kind", KINDS, ids=param_id)
    def test_update_skips_unknown_keys_and_counts_a_repeated_key_once(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        first, second = samples.bare(kind, "first"), samples.full(kind, "second")
        write_all(store, samples, kind, [first, second])
        ghost = samples.bare(kind, "ghost")
        prepare(store, samples, [(kind, ghost)])
        changes, added = {moment_field(kind): MOMENT}, one_each(kind)
        one, two, none = (kind.key_of(r) for r in (first, second, ghost))
        with store.transaction() as tx:
            assert tx.update(kind, [], changes, add=added) == 0, "an update of no keys"
            assert tx.update(kind, [none], changes, add=added) == 0, "an update of an unknown key"
            changed = tx.update(kind, [one, none, two, one], changes, add=added)
            assert changed == 2, (
                f"an update of two {kind.name}, an unknown key and the first again returned "
                f"{changed}"
            )
        found = fetch(store, kind, [first, second, ghost])
        assert found[2] is None, f"an update of an unknown key made a {kind.name}"
        assert_same(found[0], updated(first, changes, added), "a key given twice (added once)")
        assert_same(found[1], updated(second, changes, added), "a key given once")

    @pytest.mark.parametrize("kind", KINDS, ids=param_id)
    def test_an_update_of_nothing_changes_nothing_and_returns_zero(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        stored = samples.full(kind, "stored")
        write_all(store, samples, kind, [stored])
        with store.transaction() as tx:
            nothing: tuple[dict[str, int] | None, ...] = (None, {})
            for add in nothing:
                changed = tx.update(kind, [kind.key_of(stored)], {}, add=add)
                assert changed == 0, f"an update of a {kind.name} with nothing to change: {changed}"
        assert_same(fetch(store, kind, [stored])[0], stored, f"a {kind.name} updated by nothing")

    @pytest.mark.parametrize(("kind", "field"), _MULTI, ids=param_id)
    def test_update_changes_no_record_that_differs_in_one_key_field(
        self, store: Store, samples: Samples, kind: RecordKind[Any], field: str
    ) -> None:
        """Keys of several fields, one of them maybe None: each field of the key counts."""
        target = samples.full(kind, "target")
        shared = tuple(f for f in kind.key if f != field)
        neighbour = _sharing(target, samples.bare(kind, "neighbour", side=1), shared)
        assert getattr(neighbour, field) != getattr(target, field), "the samples must differ"
        write_all(store, samples, kind, [target])
        write_all(store, samples, kind, [neighbour])
        moment = moment_field(kind)
        with store.transaction() as tx:
            changed = tx.update(kind, [kind.key_of(target)], {moment: MOMENT})
        assert changed == 1, f"an update of one {kind.name} returned {changed}"
        found = fetch(store, kind, [target, neighbour])
        target = updated(target, {moment: MOMENT})
        assert_same(found[0], target, f"the {kind.name} updated")
        assert_same(found[1], neighbour, f"a {kind.name} differing only in its {field}")
        later = at(days=101)
        with store.transaction() as tx:
            changed = tx.update(kind, [kind.key_of(neighbour)], {moment: later})
        assert changed == 1, f"an update of the other {kind.name} returned {changed}"
        found = fetch(store, kind, [target, neighbour])
        assert_same(found[0], target, f"a {kind.name} differing only in its {field}")
        assert_same(found[1], updated(neighbour, {moment: later}), f"the other {kind.name}")

    # == what follows it ======================================================================

    @pytest.mark.parametrize("kind", _FOLLOWED, ids=param_id)
    def test_counts_and_filtered_listings_follow_what_an_update_changes(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        """One number added at a time (a derived property may move), then every value set."""
        stored = samples.bare(kind, "moving")
        write_all(store, samples, kind, [stored])
        source = samples.full(kind, "source")
        prepare(store, samples, [(kind, source)])
        key = kind.key_of(stored)
        steps: list[tuple[dict[str, Any], dict[str, int]]] = [
            ({}, {field: 1}) for field in reversed(numbers(kind))
        ]
        steps.append((shared_values(kind, source), {}))
        current = stored
        with store.transaction() as tx:
            for changes, added in steps:
                new = updated(current, changes, added)
                before = (_counts(tx, kind, current), _counts(tx, kind, new))
                assert tx.update(kind, [key], changes, add=added) == 1
                what = f"a {kind.name} updated by {changes or added}"
                assert_same(read_back(tx, kind, [stored])[0], new, what)
                _check_counts(tx, kind, current, new, before, what)
                _check_listings(tx, kind, current, new, what)
                current = new
        assert_same(fetch(store, kind, [stored])[0], current, f"an updated {kind.name}")

    @pytest.mark.parametrize(("kind", "fields"), UNIQUE, ids=param_id)
    def test_update_moves_a_unique_value_and_frees_the_old_one(
        self, store: Store, samples: Samples, kind: RecordKind[Any], fields: tuple[str, ...]
    ) -> None:
        stored = samples.bare(kind, "stored")
        write_all(store, samples, kind, [stored])
        source = samples.full(kind, "source")
        new = {f: getattr(source, f) for f in fields}
        with store.transaction() as tx:
            assert tx.update(kind, [kind.key_of(stored)], new) == 1
        old_values, new_values = values(stored, fields), values(source, fields)
        with store.transaction() as tx:
            by_old, by_new = tx.read(
                [Query(kind, fields, (old_values,)), Query(kind, fields, (new_values,))]
            )
        assert by_old == [], f"the {fields} the update replaced still find the {kind.name}"
        assert [kind.key_of(r) for r in by_new] == [kind.key_of(stored)], (
            f"the {fields} the update gave do not find the {kind.name}"
        )
        heir = _sharing(stored, samples.bare(kind, "heir"), fields)
        write_all(store, samples, kind, [heir])  # the old values are free again

    @pytest.mark.parametrize("kind", KINDS, ids=param_id)
    def test_a_save_after_an_update_replaces_the_whole_record(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        """A record read, updated, then saved as read (or changed elsewhere): the save wins."""
        stored = samples.bare(kind, "stored")
        write_all(store, samples, kind, [stored])
        moment = moment_field(kind)
        with store.transaction() as tx:
            (read,) = read_back(tx, kind, [stored])
            assert read is not None
            assert tx.update(kind, [kind.key_of(read)], {moment: MOMENT}) == 1
            tx.save(kind, [read])
        assert_same(fetch(store, kind, [stored])[0], stored, f"a {kind.name} saved as read")
        other = next((f for f in settable(kind) if f != moment), None)
        if other is None:
            return
        source = samples.full(kind, "other-value")
        prepare(store, samples, [(kind, source)])
        saved = attrs.evolve(stored, **{other: getattr(source, other)})
        with store.transaction() as tx:
            read_back(tx, kind, [stored])
            assert tx.update(kind, [kind.key_of(stored)], {moment: MOMENT}) == 1
            tx.save(kind, [saved])
        assert_same(fetch(store, kind, [stored])[0], saved, f"a {kind.name} saved after one")

    @pytest.mark.parametrize("kind", KINDS, ids=param_id)
    def test_update_sees_and_is_seen_by_the_other_writes_of_its_transaction(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        added_record = samples.bare(kind, "added-in-the-block")
        gone = samples.bare(kind, "deleted-in-the-block")
        write_all(store, samples, kind, [gone])
        prepare(store, samples, [(kind, added_record)])
        moment, amounts = moment_field(kind), one_each(kind)
        with store.transaction() as tx:
            tx.add(kind, [added_record])
            assert tx.update(kind, [kind.key_of(added_record)], {moment: MOMENT}, add=amounts) == 1
            expected = updated(added_record, {moment: MOMENT}, amounts)
            assert_same(read_back(tx, kind, [added_record])[0], expected, "added, then updated")
            assert tx.delete(kind, [kind.key_of(gone)]) == 1
            assert tx.update(kind, [kind.key_of(gone)], {moment: MOMENT}) == 0, (
                f"an update of a {kind.name} deleted in its block changed it"
            )
        found = fetch(store, kind, [added_record, gone])
        assert_same(found[0], expected, f"a {kind.name} added then updated, after the commit")
        assert found[1] is None, f"an update brought back a deleted {kind.name}"
