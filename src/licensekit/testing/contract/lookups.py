# ruff: noqa: S101, D102
# Part of a test suite that ships with the library: its checks are plain asserts (pytest
# rewrites them), and its test methods are named for the rule they check.
"""Look-ups: ``read`` by a kind's key, by each unique set and by each index.

A read takes many values at once and several queries in one call; each result holds every
matching record once, in any order, and nothing else. Values match exactly: not by prefix
(``pc1`` does not find ``pc10``), not ignoring case or trailing spaces, not ignoring a
trailing zero byte. A query on fields that are not one of the kind's look-ups is refused.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from licensekit.exceptions import StorageError
from licensekit.storage import KINDS, Query, RecordKind, Store
from licensekit.testing.contract._support import (
    assert_same_records,
    expect_refusal,
    values,
    write,
    write_all,
)
from licensekit.testing.contract.base import ContractBase
from licensekit.testing.contract.samples import Samples

__all__ = ["LookupsContract"]

_LOOKUPS = [(kind, fields) for kind in KINDS for fields in kind.lookups]

_MANY = 200
"""Records a bulk read finds at once; with the misses, five times as many values."""


def _lookup_id(item: tuple[RecordKind[Any], tuple[str, ...]]) -> str:
    return f"{item[0].name}-{'+'.join(item[1])}"


def _kind_id(kind: RecordKind[Any]) -> str:
    return kind.name


def _near_misses(value: Any) -> list[Any]:
    """Values a careless store confuses with *value*; none of them equals it."""
    found: list[Any] = []
    if isinstance(value, str):
        found = [value + "0", value[:-1], value.upper(), value.lower(), value + " ", " " + value]
    elif isinstance(value, bytes):
        found = [value + b"\x00", value[:-1], b"\x00" + value]
    return [v for v in dict.fromkeys(found) if v != value]


def _sharing(record: Any, base: Any, fields: tuple[str, ...]) -> Any:
    return attrs.evolve(base, **{f: getattr(record, f) for f in fields})


class LookupsContract(ContractBase):
    """``read``: by key, by unique sets and by indexes, in bulk, exactly."""

    @pytest.mark.parametrize(("kind", "fields"), _LOOKUPS, ids=map(_lookup_id, _LOOKUPS))
    def test_read_finds_every_match_once_and_nothing_else(
        self, store: Store, samples: Samples, kind: RecordKind[Any], fields: tuple[str, ...]
    ) -> None:
        wanted, other = samples.full(kind, "wanted"), samples.full(kind, "other", side=1)
        unwanted = samples.bare(kind, "unwanted")
        records = [wanted, other, unwanted]
        expected = [wanted, other]
        if fields in kind.indexes:  # an index is not unique: a record shares its values
            sharer = _sharing(wanted, samples.bare(kind, "sharer", side=1), fields)
            assert kind.key_of(sharer) != kind.key_of(wanted), "the samples must differ"
            records.append(sharer)
            expected.append(sharer)
        write_all(store, samples, kind, records)
        unknown = tuple(_near_misses(v)[0] for v in values(wanted, fields))
        asked = (values(wanted, fields), unknown, values(other, fields), values(wanted, fields))
        assert values(unwanted, fields) not in asked, "the samples must differ"
        with store.transaction() as tx:
            (found,) = tx.read([Query(kind, fields, asked)])
        assert_same_records(
            kind, found, expected, f"read of {kind.name} by {fields}, a value asked twice"
        )

    @pytest.mark.parametrize(("kind", "fields"), _LOOKUPS, ids=map(_lookup_id, _LOOKUPS))
    def test_read_matches_values_exactly(
        self, store: Store, samples: Samples, kind: RecordKind[Any], fields: tuple[str, ...]
    ) -> None:
        stored = samples.full(kind, "stored")
        write_all(store, samples, kind, [stored])
        exact = values(stored, fields)
        misses = [
            (*exact[:n], miss, *exact[n + 1 :])
            for n, value in enumerate(exact)
            for miss in _near_misses(value)
        ]
        with store.transaction() as tx:
            hits, *missed = tx.read(
                [Query(kind, fields, (exact,)), *(Query(kind, fields, (m,)) for m in misses)]
            )
        assert_same_records(kind, hits, [stored], f"read of {kind.name} by its exact {fields}")
        wrong = [m for m, found in zip(misses, missed, strict=True) if found]
        assert not wrong, f"these values found the {kind.name} with {exact!r}: {wrong!r}"

    def test_one_read_answers_several_queries_in_their_order(
        self, store: Store, samples: Samples
    ) -> None:
        stored = {kind.name: [samples.full(kind, "q1"), samples.bare(kind, "q2")] for kind in KINDS}
        write(store, samples, [(kind, r) for kind in KINDS for r in stored[kind.name]])
        queries: list[Query[Any]] = []
        for kind, fields in _LOOKUPS:
            # Look-ups never ask for None (a primary key's primary_id is None).
            asked = [v for r in stored[kind.name] if None not in (v := values(r, fields))]
            queries += [
                Query(kind, fields, tuple(asked[-1:])),
                Query(kind, fields, ()),
                Query(kind, fields, tuple(asked)),
            ]
        with store.transaction() as tx:
            results = tx.read(queries)
            assert tx.read([]) == [], "a read of no queries returned something"
        assert len(results) == len(queries), f"{len(queries)} queries, {len(results)} results"
        for n, (query, found) in enumerate(zip(queries, results, strict=True)):
            matching = [
                r for r in stored[query.kind.name] if values(r, query.fields) in query.values
            ]
            what = f"query {n} of one read: {query.kind.name} by {query.fields}"
            assert_same_records(query.kind, found, matching, what)

    @pytest.mark.parametrize("kind", KINDS, ids=_kind_id)
    def test_read_takes_many_values_at_once(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        records = [samples.bare(kind, f"bulk{n}") for n in range(_MANY)]
        write_all(store, samples, kind, records)
        unknown = [kind.key_of(samples.bare(kind, f"absent{n}")) for n in range(4 * _MANY)]
        asked = [kind.key_of(r) for r in records]
        mixed = tuple(v for pair in zip(unknown[::4], asked, strict=True) for v in pair)
        with store.transaction() as tx:
            (found,) = tx.read([Query(kind, kind.key, mixed + tuple(unknown))])
        assert_same_records(
            kind, found, records, f"read of {len(asked)} {kind.name} among {len(unknown)} misses"
        )

    @pytest.mark.parametrize("kind", KINDS, ids=_kind_id)
    def test_read_refuses_fields_that_are_not_a_look_up(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        looked_up = {f for fields in kind.lookups for f in fields}
        field = next(f for f in reversed(kind.fields) if f not in looked_up)
        stored = samples.full(kind, "stored")
        write_all(store, samples, kind, [stored])

        def run() -> None:
            with store.transaction() as tx:
                tx.read([Query(kind, (field,), ((getattr(stored, field),),))])

        expect_refusal(run, StorageError, f"a read of {kind.name} by {field}, not a look-up")
