"""What the tests of ``update`` share: the fields it may change, and the records it leaves.

See :mod:`licensekit.testing.contract.update` for the rules they check.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import attrs

from licensekit.storage import KINDS, RecordKind
from licensekit.testing.contract.samples import REFERENCES, at, field_types, plain

__all__ = [
    "MOMENT",
    "NARROW",
    "NUMBERED",
    "UNIQUE",
    "moment_field",
    "numbers",
    "one_each",
    "param_id",
    "settable",
    "shared_values",
    "updated",
]


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


def moment_field(kind: RecordKind[Any]) -> str:
    """The first field of *kind* an update may set to a moment."""
    return next(f for f in settable(kind) if plain(field_types(kind)[f]) is dt.datetime)


MOMENT = at(days=99, hours=5, microseconds=7)
"""A moment no sample holds, which the tests set to tell updated records from the others."""

NUMBERED = [(kind, field) for kind in KINDS for field in numbers(kind)]
UNIQUE = [
    (kind, fields)
    for kind in KINDS
    for fields in kind.unique
    if all(f in settable(kind) for f in fields)
]
NARROW = next(
    kind for kind in KINDS if len(kind.key) == 1 and numbers(kind) and not REFERENCES[kind]
)


def param_id(item: Any) -> str:
    if isinstance(item, RecordKind):
        return item.name
    if isinstance(item, tuple):
        return "-".join(param_id(part) for part in item)
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


def one_each(kind: RecordKind[Any]) -> dict[str, int]:
    """Adds 1 to each number of *kind*: within every bound of licensekit's SQL schema."""
    return dict.fromkeys(numbers(kind), 1)
