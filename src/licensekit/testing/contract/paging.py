# ruff: noqa: S101, D102
# Part of a test suite that ships with the library: its checks are plain asserts (pytest
# rewrites them), and its test methods are named for the rule they check.
r"""Paging: ``page`` lists one owner's records in the order of :attr:`RecordKind.order`.

The order is ascending, comparing text by code point (``"B" < "a"``, ``"é" < "\ue000" <
"😀"``: neither a locale's collation, nor case-insensitive, nor UTF-16 order), with None
before any value in a nullable key field (a computer's account-wide block before its key
blocks). A page holds the records strictly after ``after``, at most ``limit`` of them, and
only those of its owner; pages joined up give the whole listing, and they stay stable
while records are added.
"""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

import pytest

from licensekit.storage import KINDS, Key, RecordKind, Store
from licensekit.testing.contract._support import (
    ALL,
    assert_same_list,
    sortable,
    values,
    write_all,
)
from licensekit.testing.contract.base import ContractBase
from licensekit.testing.contract.samples import Samples

__all__ = ["PagingContract"]

_LISTED = [kind for kind in KINDS if kind.owner is not None]

TEXTS = (
    "A",
    "B9",
    "Zz",
    "a",
    "a-b",
    "a0",
    "a1",
    "a10",
    "a2",
    "b",
    "b_c",
    "ba",
    "c",
    "c~",
    "é",
    "\ue000",
    "😀",
)
"""Order values in ascending code point order: mixed case, digits, values that prefix
others, and the three ranges where code point, UTF-16 and locale orders part."""

_MOST_PAGES = 100
"""More pages than any listing of the suite fills; a listing that goes on is broken."""

_FEW = ("a", "B", "é")
"""The values of order fields after the first (a key's id after the computer's)."""


def _kind_id(kind: RecordKind[Any]) -> str:
    return kind.name


def ordered(kind: RecordKind[Any], records: list[Any]) -> list[Any]:
    """Return *records* in their listing order."""
    return sorted(records, key=lambda r: sortable(values(r, kind.order)))


def owner(samples: Samples, side: int) -> str:
    """Return the id of an owner (an account, a key) that only the paging tests list."""
    return samples.id("owner", str(side))


def placed(samples: Samples, kind: RecordKind[Any], side: int, label: str) -> list[Any]:
    """Return records of a new owner, one per combination of order values.

    The owner is :func:`owner` of *side*, written before the records like any record they
    refer to. Every order value starts with a prefix of the samples and side, so it is new;
    the records come in a scrambled order, neither ascending nor descending.
    """
    assert kind.owner is not None
    prefix = f"{samples.tag}.{side}."
    choices: list[list[Any]] = []
    for n, field in enumerate(kind.order):
        options: list[Any] = [prefix + text for text in (TEXTS if n == 0 else _FEW)]
        if field in kind.nullable_key:
            options.append(None)
        choices.append(options)
    records = [
        samples.bare(
            kind,
            f"{label}{n}",
            {kind.owner: owner(samples, side), **dict(zip(kind.order, combination, strict=True))},
            side=side,
        )
        for n, combination in enumerate(itertools.product(*choices))
    ]
    return sorted(records, key=lambda r: hashlib.sha256(repr(kind.key_of(r)).encode()).digest())


def _after(kind: RecordKind[Any], record: Any) -> Key:
    return values(record, kind.order)


def _between(kind: RecordKind[Any], record: Any) -> Key:
    """An ``after`` that no record holds: just past *record*'s, before its successor's."""
    order = list(values(record, kind.order))
    n = next(n for n, value in enumerate(order) if isinstance(value, str))
    order[n] += "\x01"
    return tuple(order)


class PagingContract(ContractBase):
    """``page``: order, ``after``, ``limit``, owners, and stability."""

    def _listing(self, store: Store, samples: Samples, kind: RecordKind[Any]) -> list[Any]:
        """Write records of both sides' owners; return side 0's, in their listing order."""
        mine, theirs = placed(samples, kind, 0, "mine"), placed(samples, kind, 1, "theirs")
        write_all(store, samples, kind, mine)
        write_all(store, samples, kind, theirs[::3])
        return ordered(kind, mine)

    @pytest.mark.parametrize("kind", _LISTED, ids=_kind_id)
    def test_a_listing_is_ascending_by_code_point_with_none_first(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        expected = self._listing(store, samples, kind)
        with store.transaction() as tx:
            found = tx.page(kind, owner(samples, 0), after=None, limit=ALL)
        assert_same_list(kind, found, expected, f"the listing of {kind.name}")

    @pytest.mark.parametrize("kind", _LISTED, ids=_kind_id)
    def test_a_listing_holds_only_its_owners_records(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        expected = self._listing(store, samples, kind)
        theirs = ordered(kind, placed(samples, kind, 1, "theirs")[::3])
        ours, other = owner(samples, 0), owner(samples, 1)
        with store.transaction() as tx:
            mine = tx.page(kind, ours, after=None, limit=ALL)
            others = tx.page(kind, other, after=None, limit=ALL)
            strangers = [tx.page(kind, s, after=None, limit=ALL) for s in (ours[:-1], ours + "0")]
        assert_same_list(kind, mine, expected, f"the listing of {kind.name} of one owner")
        assert_same_list(kind, others, theirs, f"the listing of {kind.name} of another owner")
        assert strangers == [[], []], f"owners with no {kind.name} listed some: {strangers!r}"

    @pytest.mark.parametrize("kind", _LISTED, ids=_kind_id)
    def test_after_starts_a_page_strictly_after_its_values(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        expected = self._listing(store, samples, kind)
        cursors = [_after(kind, r) for r in expected] + [_between(kind, r) for r in expected]
        with store.transaction() as tx:
            pages = [tx.page(kind, owner(samples, 0), after=c, limit=ALL) for c in cursors]
        for cursor, found in zip(cursors, pages, strict=True):
            rest = [r for r in expected if sortable(values(r, kind.order)) > sortable(cursor)]
            assert_same_list(kind, found, rest, f"the {kind.name} after {cursor!r}")

    @pytest.mark.parametrize("kind", _LISTED, ids=_kind_id)
    def test_limit_bounds_a_page(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        expected = self._listing(store, samples, kind)
        ours, middle = owner(samples, 0), len(expected) // 2
        limits = [0, 1, 3, len(expected), len(expected) + 5]
        with store.transaction() as tx:
            pages = [tx.page(kind, ours, after=None, limit=n) for n in limits]
            after_middle = tx.page(kind, ours, after=_after(kind, expected[middle]), limit=2)
        for limit, found in zip(limits, pages, strict=True):
            assert_same_list(kind, found, expected[:limit], f"a page of {kind.name}, limit {limit}")
        assert_same_list(
            kind, after_middle, expected[middle + 1 : middle + 3], "a page of 2 from the middle"
        )

    @pytest.mark.parametrize("kind", _LISTED, ids=_kind_id)
    def test_pages_join_up_to_the_whole_listing(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        expected = self._listing(store, samples, kind)
        walked = self._walk(store, kind, owner(samples, 0), None, 4)
        assert_same_list(kind, walked, expected, f"pages of 4 {kind.name} joined up")

    @pytest.mark.parametrize("kind", _LISTED, ids=_kind_id)
    def test_pages_stay_stable_while_records_are_added(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        everything = ordered(kind, placed(samples, kind, 0, "mine"))
        first, later = everything[::2], everything[1::2]
        write_all(store, samples, kind, first)
        ours = owner(samples, 0)
        with store.transaction() as tx:
            page = tx.page(kind, ours, after=None, limit=5)
        assert_same_list(kind, page, first[:5], f"the first page of {kind.name}")
        cursor = _after(kind, page[-1])
        write_all(store, samples, kind, later)  # some before the cursor, some after
        rest = self._walk(store, kind, ours, cursor, 3)
        expected = [r for r in everything if sortable(values(r, kind.order)) > sortable(cursor)]
        assert_same_list(kind, rest, expected, "the pages after records were added")

    @staticmethod
    def _walk(
        store: Store, kind: RecordKind[Any], of: Any, after: Key | None, size: int
    ) -> list[Any]:
        """Return every record from *after* on, read in pages of *size*, one transaction each."""
        walked: list[Any] = []
        for _ in range(_MOST_PAGES):
            with store.transaction() as tx:
                page = tx.page(kind, of, after=after, limit=size)
            assert len(page) <= size, f"a page of {len(page)} {kind.name} with limit {size}"
            walked += page
            if len(page) < size:
                return walked
            after = _after(kind, page[-1])
        raise AssertionError(f"the pages of {kind.name} did not end after {_MOST_PAGES}")
