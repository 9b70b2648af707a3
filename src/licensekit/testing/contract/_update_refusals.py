# Part of a test suite that ships with the library: its test methods are named for the rule
# they check.
"""The updates a store refuses, each a refused write that ends its transaction.

An update may change neither a key nor a :attr:`~licensekit.storage.RecordKind.fixed` field
nor a field the kind lacks, and adds only whole numbers of at least 0 to the kind's number
fields (those typed ``int``; not a bool, not an ``int | None``), never to a field it also
sets; a value another record holds in a unique set is a
:class:`~licensekit.exceptions.DuplicateKey`. Nothing of the refused transaction is kept.
See :mod:`licensekit.testing.contract.update`.
"""

from __future__ import annotations

import contextlib
import enum
import typing
from typing import Any

import pytest

from licensekit.exceptions import DuplicateKey, StorageError
from licensekit.storage import KINDS, RecordKind, Store, Transaction
from licensekit.testing.contract._support import (
    Boom,
    assert_refused,
    assert_same,
    expect_refusal,
    fetch,
    read_back,
    write_all,
)
from licensekit.testing.contract._update_support import (
    MOMENT,
    NARROW,
    NUMBERED,
    UNIQUE,
    moment_field,
    numbers,
    param_id,
    settable,
    updated,
)
from licensekit.testing.contract.base import ContractBase
from licensekit.testing.contract.samples import REFERENCES, Samples, field_types, optional, plain

__all__ = ["BAD_AMOUNTS", "NOT_NUMBERS", "UpdateRefusalsContract"]

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
_ADDED = next((kind, field) for kind, field in NUMBERED if not REFERENCES[kind])
"""A number of a kind that refers to no other: where amounts are tried."""
BAD_AMOUNTS = [-1, 1.5, 2.0, True, False, "1", None]
"""Amounts an update refuses to add: below 0, not whole, not an ``int`` (bool is not one)."""


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


class UpdateRefusalsContract(ContractBase):
    """``update``: the fields, amounts and unique values it refuses, and after the block."""

    # == refusals =============================================================================

    @pytest.mark.parametrize("op", ["set", "add"])
    @pytest.mark.parametrize(("kind", "field"), _FORBIDDEN, ids=param_id)
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
        kind = NARROW
        assert_refused(
            store,
            samples,
            kind,
            lambda tx: tx.update(kind, [], {kind.key[0]: "x"}),
            StorageError,
            f"an empty update that would change {kind.name}.{kind.key[0]}",
            [],
        )

    @pytest.mark.parametrize(("kind", "field"), NOT_NUMBERS, ids=param_id)
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
            tx.update(kind, [kind.key_of(stored)], {moment_field(kind): MOMENT}, add={field: 0})
        expected = updated(stored, {moment_field(kind): MOMENT})
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

    @pytest.mark.parametrize(("kind", "fields"), UNIQUE, ids=param_id)
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

    @pytest.mark.parametrize(("kind", "fields"), UNIQUE, ids=param_id)
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
