# ruff: noqa: S101, D102
# Part of a test suite that ships with the library: its checks are plain asserts (pytest
# rewrites them), and its test methods are named for the rule they check.
"""Counts: ``count`` says how many records hold every value of one of :attr:`RecordKind.counts`.

The counts follow every write: records added, saved with other values, deleted. The rules
decide on them (an account keeps at least one active Account Administrator), so a count
that is off by one lets a rule be broken.
"""

from __future__ import annotations

import itertools
from typing import Any

import attrs
import pytest

from licensekit.storage import KINDS, RecordKind, Store
from licensekit.testing.contract._support import prepare, values, write_all
from licensekit.testing.contract.base import ContractBase
from licensekit.testing.contract.samples import Samples, enum_fields

__all__ = ["CountsContract"]

_COUNTS = [(kind, fields) for kind in KINDS for fields in kind.counts]


def _count_id(item: tuple[RecordKind[Any], tuple[str, ...]]) -> str:
    return f"{item[0].name}-{'+'.join(item[1])}"


def combinations(
    kind: RecordKind[Any], fields: tuple[str, ...]
) -> list[tuple[int, dict[str, Any]]]:
    """Return every combination of the values of counted *fields*, as (side, enum values).

    The enum fields among *fields* take each of their values; the others (an owner) take
    the values of side 0's and side 1's samples.
    """
    enums = {f: list(cls) for f, cls in enum_fields(kind).items() if f in fields}
    return [
        (side, dict(zip(enums, combination, strict=True)))
        for side in (0, 1)
        for combination in itertools.product(*enums.values())
    ]


def _where(record: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return dict(zip(fields, values(record, fields), strict=True))


class CountsContract(ContractBase):
    """``count``: the numbers the rules decide on."""

    @pytest.mark.parametrize(("kind", "fields"), _COUNTS, ids=map(_count_id, _COUNTS))
    def test_count_counts_the_records_holding_every_value(
        self, store: Store, samples: Samples, kind: RecordKind[Any], fields: tuple[str, ...]
    ) -> None:
        combined = combinations(kind, fields)
        records = [  # combination n written n mod 3 times: none of some
            samples.bare(kind, f"grid{n}.{copy}", chosen, side=side)
            for n, (side, chosen) in enumerate(combined)
            for copy in range(n % 3)
        ]
        write_all(store, samples, kind, records)
        wheres = [_where(samples.bare(kind, "probe", c, side=s), fields) for s, c in combined]
        with store.transaction() as tx:
            counted = [tx.count(kind, where) for where in wheres]
        held = records + [r for k, r in samples.world() if k.name == kind.name]
        for where, found in zip(wheres, counted, strict=True):
            wanted = sum(_where(r, fields) == where for r in held)
            assert found == wanted, f"count of {kind.name} where {where!r}: {found}, not {wanted}"

    @pytest.mark.parametrize(("kind", "fields"), _COUNTS, ids=map(_count_id, _COUNTS))
    def test_count_follows_adds_saves_and_deletes(
        self, store: Store, samples: Samples, kind: RecordKind[Any], fields: tuple[str, ...]
    ) -> None:
        changeable = [f for f in fields if f in enum_fields(kind) and f not in kind.key]
        assert changeable, f"no counted field of {kind.name} that a save may change"
        field = changeable[0]
        first, second = samples.bare(kind, "first"), samples.bare(kind, "second")
        other_value = next(v for v in enum_fields(kind)[field] if v != getattr(first, field))
        moved = attrs.evolve(first, **{field: other_value})
        here, there = _where(first, fields), _where(moved, fields)
        write_all(store, samples, kind, [first])
        prepare(store, samples, [(kind, second)])
        with store.transaction() as tx:
            assert (tx.count(kind, here), tx.count(kind, there)) == (1, 0), "after one add"
            tx.add(kind, [second])
            tx.save(kind, [moved])
            assert (tx.count(kind, here), tx.count(kind, there)) == (1, 1), (
                f"after adding one {kind.name} and saving another with a new {field}, in the "
                "same transaction"
            )
        with store.transaction() as tx:
            assert (tx.count(kind, here), tx.count(kind, there)) == (1, 1), "after the commit"
            tx.delete(kind, [kind.key_of(second), kind.key_of(moved)])
            assert (tx.count(kind, here), tx.count(kind, there)) == (0, 0), "after deleting both"
