# ruff: noqa: S101, D102
# Part of a test suite that ships with the library: its checks are plain asserts (pytest
# rewrites them), and its test methods are named for the rule they check.
"""Round trips: every kind of record comes back exactly as it was written.

Exactly means equal, field by field, and of the same types: an enum comes back as its
enum (not as its text, which compares equal), bytes as bytes (not a ``memoryview``), a
tuple as a tuple, and datetimes in UTC with their microseconds. Each kind is written with
every optional field set and with none, with every value of every enum, and with bytes a
careless encoding cuts short.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from licensekit.storage import KINDS, RecordKind, Store
from licensekit.testing.contract._support import assert_round_trip
from licensekit.testing.contract.base import ContractBase
from licensekit.testing.contract.samples import (
    Samples,
    field_types,
    fields_of_type,
    optional,
)

__all__ = ["RecordsContract"]

_WITH_BYTES = [kind for kind in KINDS if fields_of_type(kind, bytes)]


def _name(kind: RecordKind[Any]) -> str:
    return kind.name


class RecordsContract(ContractBase):
    """Every kind of record round-trips through the store exactly."""

    @pytest.mark.parametrize("kind", KINDS, ids=_name)
    def test_the_samples_cover_every_field(self, kind: RecordKind[Any]) -> None:
        """The suite's own check: a new field gets values in the samples both ways."""
        samples = Samples()
        full, bare = samples.full(kind, "full"), samples.bare(kind, "bare")
        fields = attrs.fields(kind.type)
        required = {f.name: getattr(bare, f.name) for f in fields if f.default is attrs.NOTHING}
        defaults = kind.type(**required)  # what the class fills in
        for field in fields:
            name = field.name
            if optional(field_types(kind)[name]):
                assert (getattr(full, name) is None) != (getattr(bare, name) is None), (
                    f"{kind.name}.{name} may be None: one sample must set it, the other not"
                )
            if field.default is not attrs.NOTHING:
                default = getattr(defaults, name)
                assert getattr(bare, name) == default, (
                    f"the bare {kind.name} sample must leave {name} at its default"
                )
                assert getattr(full, name) != default, (
                    f"the full {kind.name} sample must set {name} to another value than its default"
                )

    @pytest.mark.parametrize("kind", KINDS, ids=_name)
    def test_every_kind_comes_back_exactly_as_written(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        records = samples.variants(kind, "trip")
        assert_round_trip(store, samples, kind, records, "read by its key")

    @pytest.mark.parametrize("kind", _WITH_BYTES, ids=_name)
    def test_bytes_come_back_exactly(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        records = []
        for field in fields_of_type(kind, bytes):
            every_byte = bytes(range(256)) + field.encode()
            trailing_zeros = field.encode() + b"\x00\x00"
            records += [
                samples.full(kind, f"all-{field}", {field: every_byte}),
                samples.full(kind, f"zeros-{field}", {field: trailing_zeros}),
            ]
        assert_round_trip(store, samples, kind, records, "with odd bytes")
