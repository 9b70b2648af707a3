"""The storage contract suite can fail: it catches stores with one deliberate defect each.

Each broken store is the v2 MemoryStore with one promise of the port broken, the way an
adapter could get it wrong: an increment that reads and then writes, unique sets ignored,
a listing sorted like a locale or with None last, a save that moves fixed fields, writes
kept after a rollback or committed after a refusal, transactions that take no lock... The
capability that checks the promise runs against it in a child pytest session and must fail
exactly the tests about that promise, while the intact MemoryStore passes every capability.
A store that reports refusals only at the end of the block, which the port allows, passes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import pytest

# Rewritten asserts for the suite, and imported once here: child sessions then reuse the
# modules instead of importing them (and everything they import) afresh each time.
pytest.register_assert_rewrite("licensekit.testing.contract")
from licensekit.storage import (  # noqa: E402
    INSTALL_INVITATIONS,
    KINDS,
    LICENSE_KEYS,
    THROTTLES,
    RecordKind,
)
from licensekit.testing.contract import CAPABILITIES  # noqa: E402
from licensekit.testing.contract.samples import (  # noqa: E402
    COUNTERS,
    REFERENCES,
    enum_fields,
    fields_of_type,
)
from licensekit.testing.contract.text import text_fields  # noqa: E402
from licensekit.testing.contract.update import (  # noqa: E402
    BAD_AMOUNTS,
    NOT_NUMBERS,
    numbers,
    settable,
)

pytest_plugins = ["pytester"]

BROKEN_STORES = '''
import datetime as dt
import enum
import time
import unicodedata
from contextlib import contextmanager

import attrs

from licensekit.exceptions import StorageError
from licensekit.storage import Range
from licensekit.stores.memory import MemoryStore, _MemoryTransaction


class PatchedStore(MemoryStore):
    """A MemoryStore whose transactions are of a (broken) subclass of its own."""

    transaction_class = _MemoryTransaction

    @contextmanager
    def transaction(self):
        with super().transaction() as tx:
            tx.__class__ = self.transaction_class
            tx.store = self
            yield tx


def broken(transaction_class):
    name = transaction_class.__name__
    return type(name, (PatchedStore,), {"transaction_class": transaction_class})


def listing(tx, kind, owner, position):
    """The owner's records sorted by *position*, as a store with its own order lists them."""
    return sorted(
        (r for r in tx._table(kind).rows.values() if getattr(r, kind.owner) == owner),
        key=lambda r: position([getattr(r, f) for f in kind.order]),
    )


def page_by(position):
    def page(self, kind, owner, *, after, limit):
        rows = listing(self, kind, owner, position)
        if after is not None:
            start = position(after)
            rows = [r for r in rows if position([getattr(r, f) for f in kind.order]) > start]
        return rows[: max(limit, 0)]

    return page


class ReadsThenWritesIncrements(_MemoryTransaction):
    """increment as a SELECT then an UPDATE: other transactions run in between."""

    def increment(self, kind, key, field, by, *, cap=None):
        table = self._table(kind)
        record = table.rows.get(tuple(key))
        if record is None:
            return False
        value = getattr(record, field) + by
        if value < 0 or (cap is not None and value > getattr(record, cap)):
            return False
        self.store._lock.release()  # the round trip to the database
        try:
            time.sleep(0.0002)
        finally:
            self.store._lock.acquire()
        changed = attrs.evolve(table.rows[tuple(key)], **{field: value})
        self._write(table, tuple(key), changed)
        return True


class IgnoresAddedAmounts(_MemoryTransaction):
    """update checks what it is to add, then adds nothing."""

    def update(self, kind, keys, values, *, add=None):
        super().update(kind, [], values, add=add)  # the checks, on no record
        return super().update(kind, keys, values)


class SetsAmountsInsteadOfAdding(_MemoryTransaction):
    """update as ``SET n = ?`` where it should be ``SET n = n + ?``."""

    def update(self, kind, keys, values, *, add=None):
        super().update(kind, [], values, add=add)  # the checks, on no record
        return super().update(kind, keys, {**values, **(add or {})})


class ReadsThenWritesUpdates(_MemoryTransaction):
    """update as a SELECT then an UPDATE: other transactions add in between."""

    def update(self, kind, keys, values, *, add=None):
        if not super().update(kind, [], values, add=add) and not (values or add):
            return 0  # the checks, on no record; nothing to change
        table = self._table(kind)
        found = [table.rows[k] for k in dict.fromkeys(map(tuple, keys)) if k in table.rows]
        self.store._lock.release()  # the round trip to the database
        try:
            time.sleep(0.0002)
        finally:
            self.store._lock.acquire()
        for record in found:
            sums = {f: getattr(record, f) + by for f, by in (add or {}).items()}
            self._write(table, kind.key_of(record), attrs.evolve(record, **values, **sums))
        return len(found)


class UpdatesByTheFirstKeyField(_MemoryTransaction):
    """update of a key of several fields changes every record sharing its first field."""

    def update(self, kind, keys, values, *, add=None):
        wanted = {tuple(k)[0] for k in keys}
        rows = self._table(kind).rows
        matching = [k for k in rows if k[0] in wanted]
        return super().update(kind, matching, values, add=add)


class UpdatesNoKeyHoldingNone(_MemoryTransaction):
    """update compares each key field with ``=``, which None never satisfies in SQL."""

    def update(self, kind, keys, values, *, add=None):
        kept = [k for k in keys if None not in tuple(k)]
        return super().update(kind, kept, values, add=add)


class CountsEveryKeyGiven(_MemoryTransaction):
    def update(self, kind, keys, values, *, add=None):
        changed = super().update(kind, keys, values, add=add)
        return len(keys) if changed else changed


class LetsUpdatesChangeFixedFields(_MemoryTransaction):
    """update refuses key fields and unknown ones, but forgets the fixed fields."""

    def update(self, kind, keys, values, *, add=None):
        for name in (*values, *(add or {})):
            if name in kind.key or name not in kind.fields:
                raise StorageError(f"an update cannot change {name}")
        fixed = {f: v for f, v in values.items() if f in kind.fixed}
        others = {f: v for f, v in values.items() if f not in fixed}
        changed = super().update(kind, keys, others, add=add)
        table = self._table(kind)
        for key in dict.fromkeys(map(tuple, keys)):
            if fixed and key in table.rows:
                self._write(table, key, attrs.evolve(table.rows[key], **fixed))
                changed = changed or 1
        return changed


class IncrementsPastTheCap(_MemoryTransaction):
    def increment(self, kind, key, field, by, *, cap=None):
        return super().increment(kind, key, field, by)


class IgnoresUniqueSets(_MemoryTransaction):
    """Only the key is unique: the other sets are indexed, but never checked."""

    def _write(self, table, key, new):
        old = table.rows.get(key)
        table.apply(key, old, new)
        self._undo.append((table, key, old, new))


class SortsLikeALocale(_MemoryTransaction):
    page = page_by(lambda order: [(v is not None, (v or "").casefold(), v or "") for v in order])


class PutsNoneLast(_MemoryTransaction):
    page = page_by(lambda order: [(v is None, v or "") for v in order])


class LetsSavesChangeFixedFields(_MemoryTransaction):
    def _replace(self, table, key, record):
        self._write(table, key, record)


class KeepsWritesOnRollback(_MemoryTransaction):
    def _undo_to(self, mark):
        self._undo[mark:] = []


class CommitsWhatCameBeforeARefusal(MemoryStore):
    """After a refused write, commits the block's other writes, then raises."""

    @contextmanager
    def transaction(self):
        refused = None
        with super().transaction() as tx:
            try:
                yield tx
            except StorageError as e:
                refused = e
        if refused is not None:
            raise refused


class ReportsRefusalsAtTheEnd(_MemoryTransaction):
    """Allowed by the port: a refusal raised only when the block ends, then rolled back."""

    refused = None

    def _each(self, kind, records, write):
        try:
            super()._each(kind, records, write)
        except StorageError as e:
            self.refused = self.refused or e


class LateReportingStore(PatchedStore):
    transaction_class = ReportsRefusalsAtTheEnd

    @contextmanager
    def transaction(self):
        with super().transaction() as tx:
            yield tx
            if tx.refused is not None:
                raise tx.refused


class Unlocked(MemoryStore):
    """Transactions that take no lock and lock() that does nothing: they interleave."""

    @contextmanager
    def transaction(self):
        if getattr(self._active, "open", False) or self._closed:
            raise StorageError("nested, or closed")
        self._active.open = True
        tx = _MemoryTransaction(self._tables)
        try:
            yield tx
        except BaseException:
            tx._undo_to(0)
            raise
        finally:
            tx._done = True
            self._active.open = False


class MatchesTextIgnoringCase(_MemoryTransaction):
    def read(self, queries):
        def fold(values):
            return tuple(v.casefold() if isinstance(v, str) else v for v in values)

        results = []
        for query in queries:
            super().read([query])  # the same refusals
            wanted = {fold(v) for v in query.values}
            rows = self._table(query.kind).rows.values()
            results.append([r for r in rows if fold(getattr(r, f) for f in query.fields) in wanted])
        return results


def _returned(convert):
    class Converting(_MemoryTransaction):
        def read(self, queries):
            return [[convert(r) for r in found] for found in super().read(queries)]

    return Converting


def _fields(record):
    return {f.name: getattr(record, f.name) for f in attrs.fields(type(record))}


def _enums_as_text(record):
    enums = {n: str(v) for n, v in _fields(record).items() if isinstance(v, enum.Enum)}
    return attrs.evolve(record, **enums)


def _in_paris_time(record):
    paris = dt.timezone(dt.timedelta(hours=1))
    moments = {n: v for n, v in _fields(record).items() if isinstance(v, dt.datetime)}
    return attrs.evolve(record, **{n: v.astimezone(paris) for n, v in moments.items()})


def _normalised(record):
    texts = {n: v for n, v in _fields(record).items() if type(v) is str}
    cleaned = {n: unicodedata.normalize("NFC", v).strip() for n, v in texts.items()}
    return attrs.evolve(record, **cleaned)


ReturnsEnumsAsText = _returned(_enums_as_text)
ReturnsDatetimesInParisTime = _returned(_in_paris_time)
ReturnsTextNormalisedAndTrimmed = _returned(_normalised)


def selects(record, where):
    return all(
        value.holds(getattr(record, f)) if isinstance(value, Range) else getattr(record, f) == value
        for f, value in where.items()
    )


class IgnoresWhere(_MemoryTransaction):
    """A filtered listing answered as if it were not filtered."""

    def page(self, kind, owner, *, after, limit, where=None):
        return super().page(kind, owner, after=after, limit=limit)


class IgnoresRanges(_MemoryTransaction):
    """A filter's equal values are kept, its range is dropped."""

    def page(self, kind, owner, *, after, limit, where=None):
        if where is not None:
            super().page(kind, owner, after=after, limit=0, where=where)  # its refusals
            where = {f: v for f, v in where.items() if not isinstance(v, Range)}
        return super().page(kind, owner, after=after, limit=limit, where=where)


class FiltersInInsertionOrder(_MemoryTransaction):
    """A filter answered by the records in the order they were added (a table scan)."""

    def page(self, kind, owner, *, after, limit, where=None):
        if where is None:
            return super().page(kind, owner, after=after, limit=limit)
        super().page(kind, owner, after=after, limit=0, where=where)  # its refusals
        position = lambda order: [(v is not None, v or "") for v in order]  # noqa: E731
        rows = [
            r
            for r in self._table(kind).rows.values()
            if getattr(r, kind.owner) == owner and selects(r, where)
        ]
        if after is not None:
            start = position(after)
            rows = [r for r in rows if position([getattr(r, f) for f in kind.order]) > start]
        return rows[: max(limit, 0)]


class FiltersByTheValuesFirstWritten(_MemoryTransaction):
    """A filter (or derived) column computed when a record is added and never again."""

    def add(self, kind, records):
        super().add(kind, records)
        first = self.store.__dict__.setdefault("first", {})
        for record in records:
            first.setdefault((kind.name, kind.key_of(record)), record)

    def page(self, kind, owner, *, after, limit, where=None):
        if where is None:
            return super().page(kind, owner, after=after, limit=limit)
        super().page(kind, owner, after=after, limit=0, where=where)  # its refusals
        first = self.store.__dict__.setdefault("first", {})
        rows = super().page(kind, owner, after=after, limit=10**9)
        kept = [r for r in rows if selects(first.get((kind.name, kind.key_of(r)), r), where)]
        return kept[: max(limit, 0)]


class SparesWhatExpiresAtTheMoment(_MemoryTransaction):
    def delete_expired(self, kind, moment):
        return super().delete_expired(kind, moment - dt.timedelta(microseconds=1))


def reopen_on_the_same_tables(store):
    """What reopening a file does: a new store object over the data the old one held."""
    reopened = MemoryStore()
    reopened._tables = store._tables
    store.close()
    return reopened


def reopen_empty(store):
    store.close()
    return MemoryStore()


def cannot_reopen(store):
    return None
'''

CONTRACT = """
from licensekit.testing.contract import {capabilities}


class TestContract({capabilities}):
    def make_store(self):
        return {store}

    def reopen_store(self, store):
        return {reopen}(store)
"""


class Case(NamedTuple):
    """A defective store and what the contract must say about it."""

    store: str
    """The expression that makes the store, in the module BROKEN_STORES."""
    capabilities: tuple[str, ...]
    """The capability classes that check the promise it breaks."""
    failures: set[str]
    """The tests of those capabilities that must fail; the others must pass."""
    reopen: str = "cannot_reopen"
    """How the store is reopened, for the durability tests."""


def ids(tests: Iterable[str], params: Iterable[Any]) -> set[str]:
    """Return the names of *tests* for each of their *params*."""
    return {f"{test}[{_param(p)}]" for test in tests for p in params}


def _param(value: Any) -> str:
    if isinstance(value, RecordKind):
        return value.name
    if isinstance(value, tuple):
        return "-".join(_param(v) for v in value)
    return str(value)


LISTED = [k for k in KINDS if k.owner is not None]
ORDER_TESTS = (
    "test_a_listing_is_ascending_by_code_point_with_none_first",
    "test_a_listing_holds_only_its_owners_records",
    "test_after_starts_a_page_strictly_after_its_values",
    "test_limit_bounds_a_page",
    "test_pages_join_up_to_the_whole_listing",
    "test_pages_stay_stable_while_records_are_added",
)
UNIQUE_SETS = [(k, "+".join(fields)) for k in KINDS for fields in k.unique]
MOVABLE = [
    (op, k, "+".join(fields))
    for op in ("save", "put")
    for k in KINDS
    for fields in k.unique
    if not set(fields) & set(k.fixed)
]
REFUSALS = {  # every test of WritesContract that checks a refusal, with its parameters
    **{
        f"test_add_refuses_a_clash_with_a_stored_record[{_param((k, '+'.join(s)))}]": None
        for k in KINDS
        for s in (k.key, *k.unique)
    },
    **{
        f"test_add_refuses_a_clash_within_its_batch[{_param((k, '+'.join(s)))}]": None
        for k in KINDS
        for s in (k.key, *k.unique)
    },
    **{
        f"test_none_in_a_nullable_key_field_is_one_value[{_param((k, f))}]": None
        for k in KINDS
        for f in k.nullable_key
    },
    **{f"test_save_refuses_a_record_that_does_not_exist[{k.name}]": None for k in KINDS},
    **{
        f"test_save_and_put_refuse_to_change_a_fixed_field[{_param((op, k, f))}]": None
        for op in ("save", "put")
        for k in KINDS
        for f in k.fixed
    },
    **{
        f"test_save_and_put_refuse_another_records_unique_values[{_param(m)}]": None
        for m in MOVABLE
    },
}
TEXT_LOOKUPS = [
    (k, f) for k in KINDS for fields in k.lookups for f in fields if f in text_fields(k)
]
WITH_ENUMS = [k for k in KINDS if enum_fields(k)]
WITH_TEXT = [k for k in KINDS if fields_of_type(k, str)]
EXPIRING = [k for k in KINDS if k.expires]
FILTERS = [(k, f) for k in KINDS for f in k.filters]
MOVABLE_FILTERS = [(k, f) for k, f in FILTERS if set(f) - {*k.key, *k.fixed}]
RANGED = [(k, f, r) for k, f in FILTERS for r in k.ranges]
FILTERED = [k for k in KINDS if k.filters]
FILTER_RESULTS = ids(
    [
        "test_a_filtered_listing_holds_exactly_the_records_with_those_values_in_order",
        "test_filtered_pages_start_after_any_cursor_and_join_up",
    ],
    FILTERS,
) | ids(["test_a_range_bounds_a_filtered_listing"], RANGED)
FILTER_MOVES = ids(["test_a_save_moves_a_record_to_the_listing_of_its_new_values"], MOVABLE_FILTERS)

NUMBERED = [(k, f) for k in KINDS for f in numbers(k)]
WITH_NUMBERS = [k for k in KINDS if numbers(k)]
SEVERAL_FIELDS = [k for k in KINDS if len(k.key) > 1]
WITH_NULLABLE = [k for k in KINDS if k.nullable_key]
WIDEST = max(KINDS, key=lambda k: len(k.key))
MANY_KEYS = [next(k for k in WITH_NUMBERS if len(k.key) == 1 and not REFERENCES[k]), WIDEST]
UPDATED_BY_KIND = (  # UpdateContract's tests that update stored records of each kind
    "test_update_sets_and_adds_in_one_call_on_every_record_named",
    "test_update_skips_unknown_keys_and_counts_a_repeated_key_once",
    "test_update_sees_and_is_seen_by_the_other_writes_of_its_transaction",
    "test_a_block_that_raises_after_an_update_keeps_none_of_it",
)
UNIQUE_SETTABLE = [
    (k, "+".join(fields))
    for k in KINDS
    for fields in k.unique
    if all(f in settable(k) for f in fields)
]
UPDATE_REFUSALS = (  # every test of UpdateContract that checks a refusal, with its parameters
    ids(
        ["test_update_refuses_a_key_or_fixed_or_unknown_field"],
        [
            (k, f, op)
            for k in KINDS
            for f in (*k.key, *k.fixed, "no_such_field")
            for op in ("set", "add")
        ],
    )
    | ids(["test_update_refuses_to_add_to_what_is_not_a_number"], NOT_NUMBERS)
    | {
        f"test_update_refuses_an_amount_that_is_not_a_whole_number_of_at_least_zero[{a!r}]"
        for a in BAD_AMOUNTS
    }
    | ids(
        [
            "test_update_refuses_a_value_another_record_holds_in_a_unique_set",
            "test_update_refuses_one_unique_value_for_several_records",
        ],
        UNIQUE_SETTABLE,
    )
    | {
        "test_update_refuses_a_field_it_may_not_change_even_with_no_keys",
        "test_update_refuses_a_field_both_set_and_added",
    }
)

CASES = {
    "filtered listings ignore the filter": Case(
        "broken(IgnoresWhere)()",
        ("FiltersContract",),
        FILTER_RESULTS
        | FILTER_MOVES
        | ids(["test_a_filter_the_kind_does_not_declare_is_refused"], FILTERED),
    ),
    "filtered listings ignore the range": Case(
        "broken(IgnoresRanges)()",
        ("FiltersContract",),
        ids(["test_a_range_bounds_a_filtered_listing"], RANGED),
    ),
    "filtered listings in the order records were added": Case(
        "broken(FiltersInInsertionOrder)()", ("FiltersContract",), FILTER_RESULTS | FILTER_MOVES
    ),
    "filtered by the values first written": Case(
        "broken(FiltersByTheValuesFirstWritten)()", ("FiltersContract",), FILTER_MOVES
    ),
    "increment reads, then writes": Case(
        "broken(ReadsThenWritesIncrements)()",
        ("IncrementContract",),
        ids(["test_concurrent_increments_never_pass_the_cap_nor_lose_one"], COUNTERS),
    ),
    "increment ignores the cap": Case(
        "broken(IncrementsPastTheCap)()",
        ("IncrementContract",),
        ids(["test_increment_stops_at_the_cap_included"], [c for c in COUNTERS if c.cap])
        | ids(
            ["test_concurrent_increments_never_pass_the_cap_nor_lose_one"],
            [c for c in COUNTERS if c.cap],
        ),
    ),
    "update ignores the amounts to add": Case(
        "broken(IgnoresAddedAmounts)()",
        ("UpdateContract",),
        ids(["test_update_adds_to_each_record_the_amount_to_what_it_holds"], NUMBERED)
        | ids(UPDATED_BY_KIND, WITH_NUMBERS)
        | ids(
            ["test_counts_and_filtered_listings_follow_what_an_update_changes"],
            [k for k in WITH_NUMBERS if k.counts or k.filters],
        )
        | ids(["test_update_of_more_keys_than_a_statement_holds_changes_each_once"], MANY_KEYS[:1])
        | {"test_concurrent_updates_and_increments_lose_no_addition"},
    ),
    "update sets the amounts instead of adding them": Case(
        "broken(SetsAmountsInsteadOfAdding)()",
        ("UpdateContract",),
        # Wherever a record held other than 0 (the bare samples mostly hold 0 or 1).
        ids(["test_update_adds_to_each_record_the_amount_to_what_it_holds"], NUMBERED)
        | ids(UPDATED_BY_KIND[:2], WITH_NUMBERS)
        | ids(
            [
                "test_counts_and_filtered_listings_follow_what_an_update_changes",
                "test_update_sees_and_is_seen_by_the_other_writes_of_its_transaction",
            ],
            [LICENSE_KEYS, INSTALL_INVITATIONS],
        )
        | ids(
            [
                "test_update_sees_and_is_seen_by_the_other_writes_of_its_transaction",
                "test_update_of_more_keys_than_a_statement_holds_changes_each_once",
            ],
            [THROTTLES],
        )
        | {
            "test_update_takes_an_amount_of_zero",
            "test_concurrent_updates_and_increments_lose_no_addition",
        },
    ),
    "update reads, then writes": Case(
        "broken(ReadsThenWritesUpdates)()",
        ("UpdateContract",),
        {"test_concurrent_updates_and_increments_lose_no_addition"},
    ),
    "update matches the first field of a key only": Case(
        "broken(UpdatesByTheFirstKeyField)()",
        ("UpdateContract",),
        ids(UPDATED_BY_KIND[:3], SEVERAL_FIELDS)
        | ids(
            ["test_update_changes_no_record_that_differs_in_one_key_field"],
            [(k, f) for k in SEVERAL_FIELDS for f in k.key[1:]],
        )
        | ids(["test_update_of_more_keys_than_a_statement_holds_changes_each_once"], [WIDEST]),
    ),
    "update never matches None in a key": Case(
        "broken(UpdatesNoKeyHoldingNone)()",
        ("UpdateContract",),
        ids(
            [
                "test_update_sets_every_field_it_may_change_and_each_comes_back_exactly",
                *UPDATED_BY_KIND,
                "test_counts_and_filtered_listings_follow_what_an_update_changes",
                "test_a_save_after_an_update_replaces_the_whole_record",
                "test_update_of_more_keys_than_a_statement_holds_changes_each_once",
            ],
            WITH_NULLABLE,
        )
        | ids(
            ["test_update_changes_no_record_that_differs_in_one_key_field"],
            [(k, f) for k in WITH_NULLABLE for f in k.nullable_key],
        ),
    ),
    "update counts every key it is given": Case(
        "broken(CountsEveryKeyGiven)()",
        ("UpdateContract",),
        ids(["test_update_skips_unknown_keys_and_counts_a_repeated_key_once"], KINDS)
        | ids(["test_update_of_more_keys_than_a_statement_holds_changes_each_once"], MANY_KEYS),
    ),
    "update changes fixed fields": Case(
        "broken(LetsUpdatesChangeFixedFields)()",
        ("UpdateContract",),
        ids(
            ["test_update_refuses_a_key_or_fixed_or_unknown_field"],
            [(k, f, "set") for k in KINDS for f in k.fixed],
        ),
    ),
    "update commits what came before its refusal": Case(
        "CommitsWhatCameBeforeARefusal()", ("UpdateContract",), UPDATE_REFUSALS
    ),
    "unique sets are not unique": Case(
        "broken(IgnoresUniqueSets)()",
        ("WritesContract",),
        ids(
            [
                "test_add_refuses_a_clash_with_a_stored_record",
                "test_add_refuses_a_clash_within_its_batch",
            ],
            UNIQUE_SETS,
        )
        | ids(["test_save_and_put_refuse_another_records_unique_values"], MOVABLE),
    ),
    "listings sorted like a locale": Case(
        "broken(SortsLikeALocale)()",
        ("PagingContract",),
        ids(ORDER_TESTS, LISTED),
    ),
    "None listed last": Case(
        "broken(PutsNoneLast)()",
        ("PagingContract",),
        ids(ORDER_TESTS, [k for k in LISTED if k.nullable_key]),
    ),
    "a save changes fixed fields": Case(
        "broken(LetsSavesChangeFixedFields)()",
        ("WritesContract",),
        {n for n in REFUSALS if n.startswith("test_save_and_put_refuse_to_change")},
    ),
    "writes kept on rollback": Case(
        "broken(KeepsWritesOnRollback)()",
        ("TransactionsContract",),
        {
            "test_an_exception_rolls_back_every_write_and_propagates_unchanged",
            "test_a_rolled_back_block_leaves_no_key_or_unique_value_taken",
            "test_an_unfinished_transaction_is_invisible_to_other_threads[rollback]",
            "test_a_transaction_that_need_not_be_durable_is_still_all_or_nothing[rollback]",
            "test_transactions_do_not_nest",  # the outer block raised, its write stayed
        },
    ),
    "writes committed after a refusal": Case(
        "CommitsWhatCameBeforeARefusal()",
        ("WritesContract",),
        set(REFUSALS),
    ),
    "transactions take no lock": Case(
        "Unlocked()",
        ("ScopesContract", "TransactionsContract"),
        ids(["test_locking_a_scope_serialises_a_read_modify_write"], COUNTERS)
        | ids(
            ["test_locking_a_scope_serialises_a_check_then_write"], [k for k in KINDS if k.counts]
        )
        | ids(
            ["test_an_unfinished_transaction_is_invisible_to_other_threads"], ["commit", "rollback"]
        )
        | {"test_a_lock_that_answers_false_leaves_what_was_read_before_unchanged"},
    ),
    "look-ups ignore case": Case(
        "broken(MatchesTextIgnoringCase)()",
        ("LookupsContract",),
        ids(
            ["test_read_matches_values_exactly"],
            [
                (k, "+".join(fields))
                for k in KINDS
                for fields in k.lookups
                if set(fields) & set(fields_of_type(k, str))
            ],
        ),
    ),
    "enums come back as text": Case(
        "broken(ReturnsEnumsAsText)()",
        ("RecordsContract",),
        ids(["test_every_kind_comes_back_exactly_as_written"], WITH_ENUMS)
        | ids(
            ["test_bytes_come_back_exactly"], [k for k in WITH_ENUMS if fields_of_type(k, bytes)]
        ),
    ),
    "datetimes come back in another time zone": Case(
        "broken(ReturnsDatetimesInParisTime)()",
        ("RecordsContract",),
        ids(
            ["test_every_kind_comes_back_exactly_as_written", "test_bytes_come_back_exactly"], KINDS
        )
        - ids(["test_bytes_come_back_exactly"], [k for k in KINDS if not fields_of_type(k, bytes)]),
    ),
    "text comes back normalised and trimmed": Case(
        "broken(ReturnsTextNormalisedAndTrimmed)()",
        ("TextContract",),
        ids(["test_text_fields_hold_any_text_but_nul"], [k for k in KINDS if text_fields(k)])
        | ids(["test_texts_that_differ_only_in_form_case_or_padding_are_distinct"], TEXT_LOOKUPS),
    ),
    "delete_expired spares the moment": Case(
        "broken(SparesWhatExpiresAtTheMoment)()",
        ("WritesContract",),
        ids(["test_delete_expired_deletes_what_expired_by_the_moment_included"], EXPIRING),
    ),
    "reopening loses the data": Case(
        "MemoryStore()",
        ("DurabilityContract",),
        {
            "test_committed_records_survive_reopening",
            "test_a_commit_that_need_not_be_durable_survives_closing_and_reopening",
            "test_rolled_back_and_deleted_records_stay_gone_after_reopening",
            "test_the_rules_still_hold_after_reopening",
        },
        reopen="reopen_empty",
    ),
}


def run_contract(
    pytester: pytest.Pytester, store: str, capabilities: Sequence[str], reopen: str
) -> tuple[set[str], set[str], int]:
    """Run *capabilities* of the contract suite in a child session on *store*.

    Returns:
        The names of the tests that failed and passed, and how many were skipped. A failure
        in set-up or tear-down counts as a failure of its test.
    """
    contract = CONTRACT.format(store=store, reopen=reopen, capabilities=", ".join(capabilities))
    pytester.makepyfile(test_broken_stores=BROKEN_STORES + contract)
    recorder = pytester.inline_run(
        "-p", "no:licensekit", "-p", "no:cacheprovider", "-p", "no:cov", "-p", "no:randomly"
    )
    passed, skipped, failed = recorder.listoutcomes()

    def names(reports: Sequence[pytest.TestReport | pytest.CollectReport]) -> set[str]:
        return {r.nodeid.rsplit("::", 1)[-1] for r in reports}

    assert len(names(failed)) == len(failed), "a test failed twice (in its call and tear-down)"
    return names(failed), names(passed), len(skipped)


def test_the_intact_memory_store_passes_every_capability_including_durability(
    pytester: pytest.Pytester,
) -> None:
    capabilities = [c.__name__ for c in CAPABILITIES]
    failed, passed, skipped = run_contract(
        pytester, "MemoryStore()", capabilities, "reopen_on_the_same_tables"
    )
    assert failed == set()
    assert skipped == 0
    assert len(passed) > 300
    assert "test_committed_records_survive_reopening" in passed


def test_without_reopen_store_the_durability_tests_are_skipped(
    pytester: pytest.Pytester,
) -> None:
    failed, passed, skipped = run_contract(
        pytester, "MemoryStore()", ["DurabilityContract"], "cannot_reopen"
    )
    assert (failed, passed, skipped) == (set(), set(), 4)


def test_a_store_that_reports_refusals_at_the_end_of_the_block_passes(
    pytester: pytest.Pytester,
) -> None:
    """The port lets an adapter report a clash as late as the commit; the suite allows it."""
    failed, passed, _ = run_contract(
        pytester,
        "LateReportingStore()",
        ["WritesContract", "ScopesContract", "DurabilityContract"],
        "reopen_on_the_same_tables",
    )
    assert failed == set()
    assert set(REFUSALS) <= passed


@pytest.mark.parametrize("defect", list(CASES))
def test_a_broken_store_fails_exactly_the_tests_about_its_defect(
    pytester: pytest.Pytester, defect: str
) -> None:
    case = CASES[defect]
    failed, _, _ = run_contract(pytester, case.store, case.capabilities, case.reopen)
    assert failed == case.failures
