# ruff: noqa: S101, D102
# Part of a test suite that ships with the library: its checks are plain asserts (pytest
# rewrites them), and its test methods are named for the rule they check.
"""Filtered listings: ``page(..., where=...)`` by a kind's :attr:`RecordKind.filters`.

A filtered page holds exactly the owner's records whose filter fields hold the values of
*where* (a :attr:`RecordKind.derived` property as the record computes it from its current
fields, after every save), bounded by a :class:`~licensekit.storage.Range` of a
:attr:`RecordKind.ranges` field when one is given, in the listing's order, strictly after
*after* and at most *limit* of them. A filter the kind does not declare is refused.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Mapping
from typing import Any

import pytest

from licensekit.exceptions import StorageError
from licensekit.storage import KINDS, Range, RecordKind, Store
from licensekit.testing.contract._support import (
    ALL,
    Boom,
    assert_same_list,
    sortable,
    values,
    write_all,
)
from licensekit.testing.contract.base import ContractBase
from licensekit.testing.contract.paging import ordered, owner, placed
from licensekit.testing.contract.samples import FILTER_VARIANTS, Samples, at

__all__ = ["FiltersContract"]

_FILTERS = [(kind, fields) for kind in KINDS for fields in kind.filters]
_MOVABLE = [(kind, fields) for kind, fields in _FILTERS if set(fields) - {*kind.key, *kind.fixed}]
"""The filters whose values a save may change (not only key and fixed fields)."""
_RANGED = [(kind, fields, f) for kind, fields in _FILTERS for f in kind.ranges]
_FILTERED_KINDS = [kind for kind in KINDS if kind.filters]

_MOMENTS = [at(hours=h) for h in (-1, 0, 3, 6, 7)]
"""Bounds for the range tests: before, at, between and after the samples' expiries."""


def _id(value: Any) -> str:
    if isinstance(value, RecordKind):
        return value.name
    if isinstance(value, tuple):
        return "+".join(value)
    return str(value)


def _matches(record: Any, where: Mapping[str, Any]) -> bool:
    return all(
        value.holds(getattr(record, f)) if isinstance(value, Range) else getattr(record, f) == value
        for f, value in where.items()
    )


class FiltersContract(ContractBase):
    """``page`` with ``where``: the records a filter selects, in order, and nothing else."""

    def _filtered_listing(self, store: Store, samples: Samples, kind: RecordKind[Any]) -> list[Any]:
        """Write varied records of both sides' owners; return side 0's, in listing order."""
        vary = FILTER_VARIANTS[kind.name]
        mine = [vary(samples, r, n) for n, r in enumerate(placed(samples, kind, 0, "mine"))]
        theirs = [vary(samples, r, n) for n, r in enumerate(placed(samples, kind, 1, "theirs"))]
        write_all(store, samples, kind, mine)
        write_all(store, samples, kind, theirs[::2])
        return ordered(kind, mine)

    @staticmethod
    def _filter_values(
        kind: RecordKind[Any], fields: tuple[str, ...], records: list[Any]
    ) -> list[Any]:
        """Every value tuple of *fields* the records hold, in a stable order."""
        found = {values(r, fields): None for r in records}
        return sorted(found, key=lambda v: repr(v))

    @pytest.mark.parametrize("kind", _FILTERED_KINDS, ids=_id)
    def test_the_samples_give_every_filter_more_than_one_value(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        expected = self._filtered_listing(store, samples, kind)
        for fields in kind.filters:
            assert len(self._filter_values(kind, fields, expected)) > 1, f"{kind.name} by {fields}"

    @pytest.mark.parametrize(("kind", "fields"), _FILTERS, ids=_id)
    def test_a_filtered_listing_holds_exactly_the_records_with_those_values_in_order(
        self, store: Store, samples: Samples, kind: RecordKind[Any], fields: tuple[str, ...]
    ) -> None:
        expected = self._filtered_listing(store, samples, kind)
        ours = owner(samples, 0)
        for wanted in self._filter_values(kind, fields, expected):
            where = dict(zip(fields, wanted, strict=True))
            with store.transaction() as tx:
                found = tx.page(kind, ours, after=None, limit=ALL, where=where)
            selected = [r for r in expected if _matches(r, where)]
            assert_same_list(kind, found, selected, f"the {kind.name} where {where!r}")

    @pytest.mark.parametrize(("kind", "fields"), _FILTERS, ids=_id)
    def test_a_filter_no_record_matches_gives_an_empty_page(
        self, store: Store, samples: Samples, kind: RecordKind[Any], fields: tuple[str, ...]
    ) -> None:
        expected = self._filtered_listing(store, samples, kind)
        wanted = self._filter_values(kind, fields, expected)[0]
        where = dict(zip(fields, wanted, strict=True))
        stranger = owner(samples, 0) + "0"
        with store.transaction() as tx:
            found = tx.page(kind, stranger, after=None, limit=ALL, where=where)
        assert found == [], f"an owner with no {kind.name} listed some where {where!r}"

    @pytest.mark.parametrize(("kind", "fields"), _FILTERS, ids=_id)
    def test_filtered_pages_start_after_any_cursor_and_join_up(
        self, store: Store, samples: Samples, kind: RecordKind[Any], fields: tuple[str, ...]
    ) -> None:
        expected = self._filtered_listing(store, samples, kind)
        ours = owner(samples, 0)
        for wanted in self._filter_values(kind, fields, expected):
            where = dict(zip(fields, wanted, strict=True))
            selected = [r for r in expected if _matches(r, where)]
            # A cursor from every record, those the filter leaves out included.
            for record in expected[:: max(1, len(expected) // 7)]:
                cursor = values(record, kind.order)
                with store.transaction() as tx:
                    found = tx.page(kind, ours, after=cursor, limit=ALL, where=where)
                rest = [r for r in selected if sortable(values(r, kind.order)) > sortable(cursor)]
                assert_same_list(kind, found, rest, f"the {kind.name} where {where!r} after")
            walked: list[Any] = []
            after = None
            for _ in range(len(selected) + 2):
                with store.transaction() as tx:
                    page = tx.page(kind, ours, after=after, limit=2, where=where)
                assert len(page) <= 2, f"a page of {len(page)} {kind.name} with limit 2"
                walked += page
                if len(page) < 2:
                    break
                after = values(page[-1], kind.order)
            assert_same_list(kind, walked, selected, f"pages of 2 {kind.name} where {where!r}")

    @pytest.mark.parametrize(("kind", "fields"), _MOVABLE, ids=_id)
    def test_a_save_moves_a_record_to_the_listing_of_its_new_values(
        self, store: Store, samples: Samples, kind: RecordKind[Any], fields: tuple[str, ...]
    ) -> None:
        expected = self._filtered_listing(store, samples, kind)
        ours = owner(samples, 0)
        vary = FILTER_VARIANTS[kind.name]
        moved = next(
            (
                (old, new)
                for old, n in itertools.product(expected, range(7))
                if values(new := vary(samples, old, n), fields) != values(old, fields)
                and all(getattr(new, f) == getattr(old, f) for f in (*kind.key, *kind.fixed))
            ),
            None,
        )
        assert moved is not None, f"no sample of the {kind.name} changes {fields} in a save"
        old, new = moved
        with store.transaction() as tx:
            tx.save(kind, [new])
        now = [new if kind.key_of(r) == kind.key_of(old) else r for r in expected]
        for record in (old, new):
            where = dict(zip(fields, values(record, fields), strict=True))
            with store.transaction() as tx:
                found = tx.page(kind, ours, after=None, limit=ALL, where=where)
            selected = [r for r in now if _matches(r, where)]
            assert_same_list(kind, found, selected, f"the {kind.name} where {where!r} after a save")
        # A save rolled back leaves the record where it was.
        with contextlib.suppress(Boom), store.transaction() as tx:
            tx.save(kind, [old])
            raise Boom
        where = dict(zip(fields, values(old, fields), strict=True))
        with store.transaction() as tx:
            found = tx.page(kind, ours, after=None, limit=ALL, where=where)
        selected = [r for r in now if _matches(r, where)]
        assert_same_list(kind, found, selected, f"the {kind.name} where {where!r} after a rollback")

    @pytest.mark.parametrize(("kind", "fields", "ranged"), _RANGED, ids=_id)
    def test_a_range_bounds_a_filtered_listing(
        self,
        store: Store,
        samples: Samples,
        kind: RecordKind[Any],
        fields: tuple[str, ...],
        ranged: str,
    ) -> None:
        expected = self._filtered_listing(store, samples, kind)
        ours = owner(samples, 0)
        bounds = [Range(above=m) for m in _MOMENTS] + [Range(up_to=m) for m in _MOMENTS]
        bounds += [Range(above=_MOMENTS[1], up_to=_MOMENTS[3])]
        for wanted, bound in itertools.product(self._filter_values(kind, fields, expected), bounds):
            where: dict[str, Any] = {**dict(zip(fields, wanted, strict=True)), ranged: bound}
            selected = [r for r in expected if _matches(r, where)]
            with store.transaction() as tx:
                found = tx.page(kind, ours, after=None, limit=ALL, where=where)
                first = tx.page(kind, ours, after=None, limit=1, where=where)
            assert_same_list(kind, found, selected, f"the {kind.name} where {where!r}")
            assert_same_list(kind, first, selected[:1], f"a page of 1 where {where!r}")

    @pytest.mark.parametrize("kind", _FILTERED_KINDS, ids=_id)
    def test_a_filter_the_kind_does_not_declare_is_refused(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        declared = {f for fields in kind.filters for f in fields}
        undeclared = next(f for f in kind.fields if f not in declared and f != kind.owner)
        example = dict.fromkeys(kind.filters[0], "x")
        refused: list[Mapping[str, Any]] = [
            {undeclared: "x"},
            {**example, undeclared: "x"},
            {},
            {**example, undeclared: Range(above="x")} if undeclared not in kind.ranges else {},
        ]
        for where in refused:
            with pytest.raises(StorageError), store.transaction() as tx:
                tx.page(kind, owner(samples, 0), after=None, limit=5, where=where)
