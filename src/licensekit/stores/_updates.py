"""What every store checks of an :meth:`~licensekit.storage.Transaction.update`, once.

The storage port's ``update`` sets fields and adds to numbers on many records by key. Which
fields it may touch follows from the record description alone (never the key or a fixed
field; only whole-number fields gain), so the check is written here, once, for every store.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Mapping
from typing import Any

from licensekit.exceptions import StorageError
from licensekit.storage import RecordKind

__all__ = ["checked_update"]


@functools.cache
def _fields(kind: RecordKind[Any]) -> tuple[frozenset[str], frozenset[str]]:
    """The fields an update of *kind* may set, and those of them it may add to."""
    hints = typing.get_type_hints(kind.type)
    settable = frozenset(f for f in kind.fields if f not in kind.key and f not in kind.fixed)
    return settable, frozenset(f for f in settable if hints[f] is int)


def checked_update(
    kind: RecordKind[Any], values: Mapping[str, Any], add: Mapping[str, int] | None
) -> tuple[dict[str, Any], dict[str, int]]:
    """Return *values* and *add* as dictionaries, after checking that *kind* allows them.

    Raises:
        StorageError: A field is unknown, part of the key or fixed, named twice, or (in
            *add*) not a number or given an amount that is not a whole number of at least 0.
    """
    settable, numbers = _fields(kind)
    values, added = dict(values), dict(add or {})
    for name in (*values, *added):
        if name not in settable:
            raise StorageError(f"an update of the {kind.name} cannot change {name!r}")
    for name, amount in added.items():
        if name not in numbers:
            raise StorageError(f"{name} is not a number of the {kind.name} to add to")
        if type(amount) is not int or amount < 0:
            raise StorageError(f"an update adds whole numbers of at least 0, not {amount!r}")
        if name in values:
            raise StorageError(f"an update both sets and adds to {name}")
    return values, added
