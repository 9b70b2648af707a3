# ruff: noqa: S101, D102
# Part of a test suite that ships with the library: its checks are plain asserts (pytest
# rewrites them), and its test methods are named for the rule they check.
"""Updates: ``update`` sets values and adds amounts on every record of the keys it is given.

It changes exactly the records whose keys it names (a key given twice once, a key no record
has not at all, and no record it does not name, also where a key has several fields and
one of them is None) and returns how many it changed: 0 when it has nothing to set or add.
Every value comes back exactly, as after a save, and look-ups, counts and filtered listings
follow it; a later save of the record replaces it whole. An amount is added to the value
each record holds at that moment: updates and increments that run side by side lose no
addition. It may change neither a key nor a :attr:`~licensekit.storage.RecordKind.fixed`
field, and adds only whole numbers of at least 0 to the kind's number fields (those typed
``int``; not a bool, not an ``int | None``); any other call is a refused write, which ends
the transaction with nothing of it kept, as is a value another record holds in a unique set
(a :class:`~licensekit.exceptions.DuplicateKey`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import functools
import typing
from collections.abc import Callable
from typing import Any

import attrs
import pytest

from licensekit.exceptions import DuplicateKey, StorageBusy, StorageError
from licensekit.storage import KINDS, Key, Query, RecordKind, Store, Transaction
from licensekit.testing.contract._support import (
    ALL,
    Boom,
    assert_no_errors,
    assert_refused,
    assert_same,
    assert_unchanged,
    expect_refusal,
    fetch,
    prepare,
    race,
    read_back,
    state,
    values,
    write_all,
)
from licensekit.testing.contract.base import ContractBase
from licensekit.testing.contract.samples import (
    COUNTERS,
    REFERENCES,
    Samples,
    at,
    field_types,
    optional,
    plain,
)

__all__ = ["UpdateContract"]


@functools.cache
def settable(kind: RecordKind[Any]) -> tuple[str, ...]:
    """The fields an update of *kind* may set: neither key nor fixed."""
    return tuple(f for f in kind.fields if f not in kind.key and f not in kind.fixed)


@functools.cache
def numbers(kind: RecordKind[Any]) -> tuple[str, ...]:
    """The fields an update of *kind* may add to: those of :func:`settable` typed ``int``."""
    return tuple(f for f in settable(kind) if field_types(kind)[f] is int)


def _unique_fields(kind: RecordKind[Any]) -> frozenset[str]:
    return frozenset(f for fields in kind.unique for f in fields)


def _moment_field(kind: RecordKind[Any]) -> str:
    """The first field of *kind* an update may set to a moment."""
    return next(f for f in settable(kind) if plain(field_types(kind)[f]) is dt.datetime)


MOMENT = at(days=99, hours=5, microseconds=7)
"""A moment no sample holds, which the tests set to tell updated records from the others."""

_NUMBERED = [(kind, field) for kind in KINDS for field in numbers(kind)]
_MULTI = [(kind, field) for kind in KINDS if len(kind.key) > 1 for field in kind.key]
_UNIQUE = [
    (kind, fields)
    for kind in KINDS
    for fields in kind.unique
    if all(f in settable(kind) for f in fields)
]
_FOLLOWED = [kind for kind in KINDS if kind.counts or kind.filters]
_FORBIDDEN = [
    *((kind, field) for kind in KINDS for field in kind.key),
    *((kind, field) for kind in KINDS for field in kind.fixed),
    *((kind, "no_such_field") for kind in KINDS),
]
"""Fields no update may set: each key field, each fixed field, and one the kind lacks."""


def _category(kind: RecordKind[Any], field: str) -> str:
    """The sort of value *field* holds: its type's name, ``enum``, and ``| None``."""
    hint = field_types(kind)[field]
    inner = plain(hint)
    if isinstance(inner, type) and issubclass(inner, enum.Enum):
        name = "enum"
    else:
        origin = typing.get_origin(inner) or inner
        name = getattr(origin, "__name__", repr(origin))
    return name + (" | None" if optional(hint) else "")


def _not_numbers() -> list[tuple[RecordKind[Any], str]]:
    """One settable field of each sort of value but ``int``, each with its kind."""
    found: dict[str, tuple[RecordKind[Any], str]] = {}
    for kind in KINDS:
        for field in settable(kind):
            if field not in numbers(kind):
                found.setdefault(_category(kind, field), (kind, field))
    return list(found.values())


NOT_NUMBERS = _not_numbers()
"""One field of each sort of value (text, moment, enum, set, JSON, bool, ``int | None``...)."""
_ADDED = next((kind, field) for kind, field in _NUMBERED if not REFERENCES[kind])
"""A number of a kind that refers to no other: where amounts are tried."""
BAD_AMOUNTS = [-1, 1.5, 2.0, True, False, "1", None]
"""Amounts an update refuses to add: below 0, not whole, not an ``int`` (bool is not one)."""
_RACED = next(c for c in COUNTERS if c.cap is None)
_THREADS, _ROUNDS, _RACED_RECORDS = 6, 12, 5
_MANY = 1_201
"""More keys than a SQL store binds in one statement, in a few statements."""
_WIDEST = max(KINDS, key=lambda kind: len(kind.key))
_NARROW = next(
    kind for kind in KINDS if len(kind.key) == 1 and numbers(kind) and not REFERENCES[kind]
)


def _id(item: Any) -> str:
    if isinstance(item, RecordKind):
        return item.name
    if isinstance(item, tuple):
        return "-".join(_id(part) for part in item)
    return str(item)


def shared_values(kind: RecordKind[Any], source: Any) -> dict[str, Any]:
    """*source*'s values of the fields many records of *kind* may hold at once.

    Those an update may set, but for numbers (added to instead) and unique fields.
    """
    unique = _unique_fields(kind)
    return {
        f: getattr(source, f) for f in settable(kind) if f not in unique and f not in numbers(kind)
    }


def updated(record: Any, changes: dict[str, Any], added: dict[str, int] | None = None) -> Any:
    """*record* as an update setting *changes* and adding *added* leaves it."""
    sums = {f: getattr(record, f) + by for f, by in (added or {}).items()}
    return attrs.evolve(record, **changes, **sums)


def _one_each(kind: RecordKind[Any]) -> dict[str, int]:
    """Adds 1 to each number of *kind*: within every bound of licensekit's SQL schema."""
    return dict.fromkeys(numbers(kind), 1)


def _another_value(samples: Samples, kind: RecordKind[Any], field: str, record: Any) -> Any:
    """A value of *field* that *record* does not hold (any value, for a field it lacks)."""
    if field not in kind.fields:
        return "a value"
    candidates = [
        samples.full(kind, "alt", side=1),
        samples.bare(kind, "alt", side=1),
        samples.full(kind, "alt"),
    ]
    mine = getattr(record, field)
    return next((getattr(c, field) for c in candidates if getattr(c, field) != mine), mine)


def _sharing(record: Any, base: Any, fields: tuple[str, ...]) -> Any:
    return attrs.evolve(base, **{f: getattr(record, f) for f in fields})


def _key_text(kind: RecordKind[Any], record: Any) -> str:
    return repr(kind.key_of(record))


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


class UpdateContract(ContractBase):
    """``update``: many records changed alike by key, all or none, with nothing lost."""

    # == what it changes ======================================================================

    @pytest.mark.parametrize("kind", KINDS, ids=_id)
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

    @pytest.mark.parametrize(("kind", "field"), _NUMBERED, ids=_id)
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

    @pytest.mark.parametrize("kind", KINDS, ids=_id)
    def test_update_sets_and_adds_in_one_call_on_every_record_named(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        records = [samples.bare(kind, "one"), samples.full(kind, "two"), samples.bare(kind, "3")]
        others = [samples.bare(kind, "not-named"), samples.full(kind, "not-named-either")]
        write_all(store, samples, kind, [*records, *others])
        source = samples.full(kind, "source", side=1)
        prepare(store, samples, [(kind, source)])
        changes = {**shared_values(kind, source), _moment_field(kind): MOMENT}
        added = _one_each(kind)
        with store.transaction() as tx:
            changed = tx.update(kind, [kind.key_of(r) for r in records], changes, add=added)
            assert changed == 3, f"an update of three {kind.name} returned {changed}"
            for record, found in zip(records, read_back(tx, kind, records), strict=True):
                assert_same(found, updated(record, changes, added), "updated, in its block")
        for record, found in zip(records, fetch(store, kind, records), strict=True):
            assert_same(found, updated(record, changes, added), f"an updated {kind.name}")
        for record, found in zip(others, fetch(store, kind, others), strict=True):
            assert_same(found, record, f"a {kind.name} the update did not name")

    @pytest.mark.parametrize("kind", KINDS, ids=_id)
    def test_update_skips_unknown_keys_and_counts_a_repeated_key_once(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        first, second = samples.bare(kind, "first"), samples.full(kind, "second")
        write_all(store, samples, kind, [first, second])
        ghost = samples.bare(kind, "ghost")
        prepare(store, samples, [(kind, ghost)])
        changes, added = {_moment_field(kind): MOMENT}, _one_each(kind)
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

    @pytest.mark.parametrize("kind", KINDS, ids=_id)
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

    @pytest.mark.parametrize(("kind", "field"), _MULTI, ids=_id)
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
        moment = _moment_field(kind)
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

    @pytest.mark.parametrize("kind", _FOLLOWED, ids=_id)
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

    @pytest.mark.parametrize(("kind", "fields"), _UNIQUE, ids=_id)
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

    @pytest.mark.parametrize("kind", KINDS, ids=_id)
    def test_a_save_after_an_update_replaces_the_whole_record(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        """A record read, updated, then saved as read (or changed elsewhere): the save wins."""
        stored = samples.bare(kind, "stored")
        write_all(store, samples, kind, [stored])
        moment = _moment_field(kind)
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

    @pytest.mark.parametrize("kind", KINDS, ids=_id)
    def test_update_sees_and_is_seen_by_the_other_writes_of_its_transaction(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        added_record = samples.bare(kind, "added-in-the-block")
        gone = samples.bare(kind, "deleted-in-the-block")
        write_all(store, samples, kind, [gone])
        prepare(store, samples, [(kind, added_record)])
        moment, amounts = _moment_field(kind), _one_each(kind)
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

    # == all or none ==========================================================================

    @pytest.mark.parametrize("kind", KINDS, ids=_id)
    def test_a_block_that_raises_after_an_update_keeps_none_of_it(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        records = [samples.bare(kind, "kept"), samples.full(kind, "kept-too")]
        write_all(store, samples, kind, records)
        probes = [(kind, r) for r in records]
        before = state(store, probes)
        source = samples.full(kind, "source", side=1)
        prepare(store, samples, [(kind, source)])
        changes = {**shared_values(kind, source), _moment_field(kind): MOMENT}
        keys = [kind.key_of(r) for r in records]
        with contextlib.suppress(Boom), store.transaction() as tx:
            assert tx.update(kind, keys, changes) == 2
            if numbers(kind):
                assert tx.update(kind, keys, {}, add=_one_each(kind)) == 2
            raise Boom
        assert_unchanged(before, state(store, probes), "a rolled-back update")
        for record, found in zip(records, fetch(store, kind, records), strict=True):
            assert_same(found, record, f"a {kind.name} updated in a rolled-back block")

    @pytest.mark.parametrize("kind", [_NARROW, _WIDEST], ids=_id)
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
        changes, added = {_moment_field(kind): MOMENT}, _one_each(kind)
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

    # == refusals =============================================================================

    @pytest.mark.parametrize("op", ["set", "add"])
    @pytest.mark.parametrize(("kind", "field"), _FORBIDDEN, ids=_id)
    def test_update_refuses_a_key_or_fixed_or_unknown_field(
        self, store: Store, samples: Samples, kind: RecordKind[Any], field: str, op: str
    ) -> None:
        stored = samples.full(kind, "stored")
        write_all(store, samples, kind, [stored])
        value = _another_value(samples, kind, field, stored)
        keys = [kind.key_of(stored), kind.key_of(samples.bare(kind, "ghost"))]

        def attempt(tx: Transaction) -> object:
            if op == "set":
                return tx.update(kind, keys, {field: value})
            return tx.update(kind, keys, {}, add={field: 1})

        assert_refused(
            store,
            samples,
            kind,
            attempt,
            StorageError,
            f"update that would {op} {kind.name}.{field}",
            [(kind, stored)],
        )

    def test_update_refuses_a_field_it_may_not_change_even_with_no_keys(
        self, store: Store, samples: Samples
    ) -> None:
        kind = _NARROW
        assert_refused(
            store,
            samples,
            kind,
            lambda tx: tx.update(kind, [], {kind.key[0]: "x"}),
            StorageError,
            f"an empty update that would change {kind.name}.{kind.key[0]}",
            [],
        )

    @pytest.mark.parametrize(("kind", "field"), NOT_NUMBERS, ids=_id)
    def test_update_refuses_to_add_to_what_is_not_a_number(
        self, store: Store, samples: Samples, kind: RecordKind[Any], field: str
    ) -> None:
        """One field of each sort: text, moments, enums, sets, JSON, bool, ``int | None``..."""
        stored = samples.full(kind, "stored")
        write_all(store, samples, kind, [stored])
        assert_refused(
            store,
            samples,
            kind,
            lambda tx: tx.update(kind, [kind.key_of(stored)], {}, add={field: 1}),
            StorageError,
            f"update adding 1 to {kind.name}.{field} ({_category(kind, field)})",
            [(kind, stored)],
        )

    @pytest.mark.parametrize("amount", BAD_AMOUNTS, ids=repr)
    def test_update_refuses_an_amount_that_is_not_a_whole_number_of_at_least_zero(
        self, store: Store, samples: Samples, amount: Any
    ) -> None:
        kind, field = _ADDED
        stored = samples.full(kind, "stored")
        write_all(store, samples, kind, [stored])
        assert_refused(
            store,
            samples,
            kind,
            lambda tx: tx.update(kind, [kind.key_of(stored)], {}, add={field: amount}),
            StorageError,
            f"update adding {amount!r} to {kind.name}.{field}",
            [(kind, stored)],
        )

    def test_update_takes_an_amount_of_zero(self, store: Store, samples: Samples) -> None:
        kind, field = _ADDED
        stored = samples.full(kind, "stored")
        write_all(store, samples, kind, [stored])
        with store.transaction() as tx:
            tx.update(kind, [kind.key_of(stored)], {_moment_field(kind): MOMENT}, add={field: 0})
        expected = updated(stored, {_moment_field(kind): MOMENT})
        assert_same(fetch(store, kind, [stored])[0], expected, f"{kind.name}.{field} + 0")

    def test_update_refuses_a_field_both_set_and_added(
        self, store: Store, samples: Samples
    ) -> None:
        kind, field = _ADDED
        stored = samples.full(kind, "stored")
        write_all(store, samples, kind, [stored])
        assert_refused(
            store,
            samples,
            kind,
            lambda tx: tx.update(kind, [kind.key_of(stored)], {field: 5}, add={field: 1}),
            StorageError,
            f"update both setting and adding to {kind.name}.{field}",
            [(kind, stored)],
        )

    @pytest.mark.parametrize(("kind", "fields"), _UNIQUE, ids=_id)
    def test_update_refuses_a_value_another_record_holds_in_a_unique_set(
        self, store: Store, samples: Samples, kind: RecordKind[Any], fields: tuple[str, ...]
    ) -> None:
        first, second = samples.full(kind, "first"), samples.bare(kind, "second")
        write_all(store, samples, kind, [first, second])
        taken = {f: getattr(first, f) for f in fields}
        assert_refused(
            store,
            samples,
            kind,
            lambda tx: tx.update(kind, [kind.key_of(second)], taken),
            DuplicateKey,
            f"update giving a {kind.name} another one's {fields}",
            [(kind, first), (kind, second)],
        )

    @pytest.mark.parametrize(("kind", "fields"), _UNIQUE, ids=_id)
    def test_update_refuses_one_unique_value_for_several_records(
        self, store: Store, samples: Samples, kind: RecordKind[Any], fields: tuple[str, ...]
    ) -> None:
        records = [samples.bare(kind, "one"), samples.bare(kind, "two")]
        write_all(store, samples, kind, records)
        source = samples.full(kind, "source")
        same = {f: getattr(source, f) for f in fields}
        assert_refused(
            store,
            samples,
            kind,
            lambda tx: tx.update(kind, [kind.key_of(r) for r in records], same),
            DuplicateKey,
            f"update giving two {kind.name} the same {fields}",
            [(kind, r) for r in records],
        )

    @pytest.mark.parametrize("ending", ["commit", "rollback"])
    def test_a_transaction_refuses_an_update_after_its_block(
        self, store: Store, samples: Samples, ending: str
    ) -> None:
        kind, field = _ADDED
        stored = samples.bare(kind, "late")
        write_all(store, samples, kind, [stored])
        with contextlib.suppress(Boom), store.transaction() as tx:
            read_back(tx, kind, [stored])
            if ending == "rollback":
                raise Boom
        expect_refusal(
            lambda: tx.update(kind, [kind.key_of(stored)], {}, add={field: 1}),
            StorageError,
            f"update on a transaction after its {ending}",
        )
        assert_same(fetch(store, kind, [stored])[0], stored, "a record updated after the block")

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
