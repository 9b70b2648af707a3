# ruff: noqa: S101, D102
# Part of a test suite that ships with the library: its checks are plain asserts (pytest
# rewrites them), and its test methods are named for the rule they check.
"""Writes: ``add``, ``save``, ``put``, ``delete`` and ``delete_expired``.

The refused writes are checked as the port promises them: the transaction block raises
(the call itself, or the end of the block: an adapter may report a clash as late as the
commit) a :class:`~licensekit.exceptions.DuplicateKey` for a clash of a key or unique set
and a :class:`~licensekit.exceptions.StorageError` for any other refusal, and nothing of
that transaction remains: neither the refused records, nor what the block wrote before
them. licensekit never goes on with a transaction after a refusal, so the suite never
does either.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest

from licensekit.exceptions import DuplicateKey, StorageError
from licensekit.storage import KINDS, Query, RecordKind, Store
from licensekit.testing.contract._support import (
    ANCIENT,
    ERA_END,
    assert_refused,
    assert_same,
    fetch,
    prepare,
    read_back,
    values,
    write_all,
)
from licensekit.testing.contract.base import ContractBase
from licensekit.testing.contract.samples import Samples

__all__ = ["WritesContract"]

_SETS = [(kind, fields) for kind in KINDS for fields in (kind.key, *kind.unique)]
"""Every key and unique set: the values no two records of a kind may share."""

_PARTS = [(kind, fields, f) for kind, fields in _SETS if len(fields) > 1 for f in fields]
"""Each field of each set of several fields: records that differ only there are distinct."""

_NULLABLE = [(kind, f) for kind in KINDS for f in kind.nullable_key]

_FIXED = [(op, kind, f) for op in ("save", "put") for kind in KINDS for f in kind.fixed]

_MOVABLE = [
    (op, kind, fields)
    for op in ("save", "put")
    for kind in KINDS
    for fields in kind.unique
    if not set(fields) & set(kind.fixed)
]
"""Unique sets a save may change, so it may try to take another record's values."""

_EXPIRING = [kind for kind in KINDS if kind.expires is not None]


def _set_id(item: tuple[Any, ...]) -> str:
    """Name a test case: kinds by name, field sets joined by ``+``."""
    return "-".join(
        part
        if isinstance(part, str)
        else part.name
        if isinstance(part, RecordKind)
        else "+".join(part)
        for part in item
    )


def _kind_id(kind: RecordKind[Any]) -> str:
    return kind.name


def _sharing(record: Any, base: Any, fields: tuple[str, ...]) -> Any:
    return attrs.evolve(base, **{f: getattr(record, f) for f in fields})


class WritesContract(ContractBase):
    """Inserts, replacements and deletions, and the writes a store must refuse."""

    # == add ==================================================================================

    @pytest.mark.parametrize(("kind", "fields"), _SETS, ids=map(_set_id, _SETS))
    def test_add_refuses_a_clash_with_a_stored_record(
        self, store: Store, samples: Samples, kind: RecordKind[Any], fields: tuple[str, ...]
    ) -> None:
        stored = samples.full(kind, "stored")
        write_all(store, samples, kind, [stored])
        twin = _sharing(stored, samples.bare(kind, "twin"), fields)
        batch = [samples.bare(kind, "before"), twin, samples.bare(kind, "after")]
        assert_refused(
            store,
            samples,
            kind,
            lambda tx: tx.add(kind, batch),
            DuplicateKey,
            f"add of a {kind.name} with the {fields} of a stored one, in a batch of three",
            [(kind, r) for r in [stored, *batch]],
        )

    @pytest.mark.parametrize(("kind", "fields"), _SETS, ids=map(_set_id, _SETS))
    def test_add_refuses_a_clash_within_its_batch(
        self, store: Store, samples: Samples, kind: RecordKind[Any], fields: tuple[str, ...]
    ) -> None:
        first = samples.full(kind, "first")
        batch = [
            first,
            samples.bare(kind, "middle"),
            _sharing(first, samples.bare(kind, "twin"), fields),
        ]
        assert_refused(
            store,
            samples,
            kind,
            lambda tx: tx.add(kind, batch),
            DuplicateKey,
            f"add of a batch of {kind.name} where two share their {fields}",
            [(kind, r) for r in batch],
        )

    @pytest.mark.parametrize(("kind", "fields", "field"), _PARTS, ids=map(_set_id, _PARTS))
    def test_records_that_differ_in_one_field_of_a_set_are_distinct(
        self,
        store: Store,
        samples: Samples,
        kind: RecordKind[Any],
        fields: tuple[str, ...],
        field: str,
    ) -> None:
        stored = samples.full(kind, "stored")
        shared = tuple(f for f in fields if f != field)
        other = _sharing(stored, samples.bare(kind, "other", side=1), shared)
        assert getattr(other, field) != getattr(stored, field), "the samples must differ there"
        write_all(store, samples, kind, [stored])
        write_all(store, samples, kind, [other])
        for record, found in zip([stored, other], fetch(store, kind, [stored, other]), strict=True):
            assert_same(found, record, f"{kind.name} sharing {shared} but not {field}")

    @pytest.mark.parametrize(("kind", "field"), _NULLABLE, ids=map(_set_id, _NULLABLE))
    def test_none_in_a_nullable_key_field_is_one_value(
        self, store: Store, samples: Samples, kind: RecordKind[Any], field: str
    ) -> None:
        stored = samples.full(kind, "stored", {field: None})
        write_all(store, samples, kind, [stored])
        twin = _sharing(stored, samples.bare(kind, "twin"), kind.key)
        assert_refused(
            store,
            samples,
            kind,
            lambda tx: tx.add(kind, [twin]),
            DuplicateKey,
            f"add of a {kind.name} with the key of a stored one, {field} None in both",
            [(kind, stored), (kind, twin)],
        )

    # == save and put =========================================================================

    @pytest.mark.parametrize("op", ["save", "put"])
    @pytest.mark.parametrize("kind", KINDS, ids=_kind_id)
    def test_save_and_put_replace_every_field_but_the_fixed_ones(
        self, store: Store, samples: Samples, kind: RecordKind[Any], op: str
    ) -> None:
        stored = samples.bare(kind, "stored")
        write_all(store, samples, kind, [stored])
        changed = samples.changed(kind, stored, "changed")
        prepare(store, samples, [(kind, changed)])
        with store.transaction() as tx:
            getattr(tx, op)(kind, [changed])
            assert_same(read_back(tx, kind, [changed])[0], changed, f"{op}d, in its transaction")
        assert_same(fetch(store, kind, [stored])[0], changed, f"{kind.name} after the {op}")
        for fields in kind.unique:
            old, new = values(stored, fields), values(changed, fields)
            if old == new:
                continue
            with store.transaction() as tx:
                by_old, by_new = tx.read([Query(kind, fields, (old,)), Query(kind, fields, (new,))])
            assert by_old == [], f"the {fields} the {op} replaced still find the {kind.name}"
            assert by_new == [changed], f"the {fields} the {op} gave do not find the {kind.name}"
            heir = _sharing(stored, samples.bare(kind, f"heir-{'+'.join(fields)}"), fields)
            write_all(store, samples, kind, [heir])  # the old values are free again

    @pytest.mark.parametrize("kind", KINDS, ids=_kind_id)
    def test_records_read_then_saved_changed_come_back_as_saved(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        """A store may write only what changed since its read: every field still counts."""
        stored = [samples.bare(kind, "bare"), samples.full(kind, "full")]
        write_all(store, samples, kind, stored)
        bare = samples.bare(kind, "source")
        changeable = [f for f in kind.fields if f not in kind.key and f not in kind.fixed]
        changed = [
            samples.changed(kind, stored[0], "source"),
            attrs.evolve(stored[1], **{f: getattr(bare, f) for f in changeable}),
        ]
        prepare(store, samples, [(kind, r) for r in changed])
        with store.transaction() as tx:
            read = read_back(tx, kind, stored)
            assert read == stored, f"the {kind.name} were not read back as written"
            tx.save(kind, [changed[0]])
            tx.save(kind, [changed[1]])
            for found, record in zip(read_back(tx, kind, changed), changed, strict=True):
                assert_same(found, record, f"a {kind.name} read, then saved, in its block")
            tx.save(kind, stored)  # back again, both at once
        for found, record in zip(fetch(store, kind, stored), stored, strict=True):
            assert_same(found, record, f"a {kind.name} saved twice after a read")

    @pytest.mark.parametrize("kind", KINDS, ids=_kind_id)
    def test_save_refuses_a_record_that_does_not_exist(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        stored = samples.bare(kind, "stored")
        write_all(store, samples, kind, [stored])
        changed = samples.changed(kind, stored, "changed")
        ghost = samples.bare(kind, "ghost")
        prepare(store, samples, [(kind, changed), (kind, ghost)])
        assert_refused(
            store,
            samples,
            kind,
            lambda tx: tx.save(kind, [changed, ghost]),
            StorageError,
            f"save of a stored {kind.name} and of one that does not exist",
            [(kind, stored), (kind, ghost)],
        )

    @pytest.mark.parametrize(("op", "kind", "field"), _FIXED, ids=map(_set_id, _FIXED))
    def test_save_and_put_refuse_to_change_a_fixed_field(
        self, store: Store, samples: Samples, op: str, kind: RecordKind[Any], field: str
    ) -> None:
        stored = samples.full(kind, "stored")
        write_all(store, samples, kind, [stored])
        candidates = [
            samples.full(kind, "alt", side=1),
            samples.bare(kind, "alt"),
            samples.full(kind, "alt"),
        ]
        value = next(
            (getattr(c, field) for c in candidates if getattr(c, field) != getattr(stored, field)),
            None,
        )
        assert value is not None, f"the samples hold no other {kind.name}.{field}"
        moved = attrs.evolve(stored, **{field: value})
        prepare(store, samples, [(kind, moved)])
        assert_refused(
            store,
            samples,
            kind,
            lambda tx: getattr(tx, op)(kind, [moved]),
            StorageError,
            f"{op} of a {kind.name} that changes its {field}",
            [(kind, stored), (kind, moved)],
        )

    @pytest.mark.parametrize(("op", "kind", "fields"), _MOVABLE, ids=map(_set_id, _MOVABLE))
    def test_save_and_put_refuse_another_records_unique_values(
        self,
        store: Store,
        samples: Samples,
        op: str,
        kind: RecordKind[Any],
        fields: tuple[str, ...],
    ) -> None:
        first, second = samples.full(kind, "first"), samples.bare(kind, "second")
        write_all(store, samples, kind, [first, second])
        taker = _sharing(first, second, fields)
        assert_refused(
            store,
            samples,
            kind,
            lambda tx: getattr(tx, op)(kind, [taker]),
            DuplicateKey,
            f"{op} of a {kind.name} that takes another's {fields}",
            [(kind, first), (kind, second), (kind, taker)],
        )

    @pytest.mark.parametrize("kind", KINDS, ids=_kind_id)
    def test_put_inserts_what_is_new_and_replaces_what_exists(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        first = samples.bare(kind, "first")
        prepare(store, samples, [(kind, first)])
        with store.transaction() as tx:
            tx.put(kind, [first])
        assert_same(fetch(store, kind, [first])[0], first, f"a {kind.name} put as new")
        changed, second = samples.changed(kind, first, "changed"), samples.full(kind, "second")
        prepare(store, samples, [(kind, changed), (kind, second)])
        with store.transaction() as tx:
            tx.put(kind, [changed, second])
        found = fetch(store, kind, [changed, second])
        assert_same(found[0], changed, f"a {kind.name} put over a stored one")
        assert_same(found[1], second, f"a new {kind.name} put along with a replacement")

    # == delete ===============================================================================

    @pytest.mark.parametrize("kind", KINDS, ids=_kind_id)
    def test_delete_returns_how_many_of_the_records_existed(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        gone, kept, also_gone = (samples.bare(kind, n) for n in ("gone", "kept", "also-gone"))
        write_all(store, samples, kind, [gone, kept, also_gone])
        ghost = kind.key_of(samples.bare(kind, "ghost"))
        with store.transaction() as tx:
            deleted = tx.delete(kind, [kind.key_of(gone), ghost, kind.key_of(also_gone)])
            assert deleted == 2, f"delete of two {kind.name} and an unknown key returned {deleted}"
            assert read_back(tx, kind, [gone]) == [None], "a deleted record is still there"
            again = tx.delete(kind, [kind.key_of(gone)])
            assert again == 0, f"deleting a deleted {kind.name} again returned {again}"
            assert tx.delete(kind, []) == 0, "delete of no keys returned more than 0"
        found = fetch(store, kind, [gone, kept, also_gone])
        assert [found[0], found[2]] == [None, None], f"deleted {kind.name} came back"
        assert_same(found[1], kept, f"a {kind.name} nobody deleted")
        write_all(store, samples, kind, [gone])  # its key and unique values are free again

    # == delete_expired =======================================================================

    @staticmethod
    def _expiring(
        store: Store, samples: Samples, kind: RecordKind[Any], moments: dict[str, dt.datetime]
    ) -> list[Any]:
        """Commit a record of *kind* expiring at each of *moments* (by label); return them.

        What expired before 1900 is deleted first: an earlier run on a shared database may
        have left some, and only these tests make records expire then.
        """
        assert kind.expires is not None
        with store.transaction() as tx:
            tx.delete_expired(kind, ERA_END)
        records = [samples.bare(kind, label, {kind.expires: m}) for label, m in moments.items()]
        write_all(store, samples, kind, records)
        return records

    @pytest.mark.parametrize("kind", _EXPIRING, ids=_kind_id)
    def test_delete_expired_deletes_what_expired_by_the_moment_included(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        tick = dt.timedelta(microseconds=1)
        before, exactly, after = self._expiring(
            store,
            samples,
            kind,
            {"before": ANCIENT - tick, "at": ANCIENT, "after": ANCIENT + tick},
        )
        with store.transaction() as tx:
            deleted = tx.delete_expired(kind, ANCIENT)
            assert deleted == 2, (
                f"{deleted} {kind.name} deleted of those expiring a microsecond before, at and "
                "a microsecond after the moment; the first two expired"
            )
            assert tx.delete_expired(kind, ANCIENT) == 0, "a second call deleted more"
        found = fetch(store, kind, [before, exactly, after])
        assert found[:2] == [None, None], f"expired {kind.name} are still there"
        assert_same(found[2], after, f"the {kind.name} expiring after the moment")

    @pytest.mark.parametrize("kind", _EXPIRING, ids=_kind_id)
    def test_delete_expired_compares_moments_whatever_their_utc_offset(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        hour = dt.timedelta(hours=1)
        early, late = self._expiring(
            store, samples, kind, {"early": ANCIENT - hour, "late": ANCIENT + hour}
        )
        east = ANCIENT.astimezone(dt.timezone(dt.timedelta(hours=5)))  # 17:30+05:00
        with store.transaction() as tx:
            deleted = tx.delete_expired(kind, east)
        assert deleted == 1, f"{deleted} {kind.name} deleted by a moment given at UTC+05:00"
        found = fetch(store, kind, [early, late])
        assert found[0] is None, "the record that expired an hour before was kept"
        assert_same(found[1], late, "the record expiring an hour after")
