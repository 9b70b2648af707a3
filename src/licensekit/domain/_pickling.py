"""Pickling frozen attrs classes whose fields hold read-only mappings.

A record keeps a mapping field (a session's grants, an event's details, a message's data) as
a :class:`types.MappingProxyType` over a dict of its own, so that it stays immutable all the
way down. A mappingproxy cannot be pickled, yet hosts hand records and messages to worker
processes (:mod:`multiprocessing`, job queues), which pickle them.
:func:`picklable_mappings` gives such a class a state in which each read-only mapping travels
as a plain dict and comes back read-only, so that an unpickled record equals the original and
is as immutable. :func:`copy.copy` and :func:`copy.deepcopy` use the same state.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

if TYPE_CHECKING:
    from attrs import AttrsInstance

__all__ = ["picklable_mappings", "read_only"]

T = TypeVar("T", bound="AttrsInstance")

_set_field = object.__setattr__  # as a frozen class's own __init__ sets its fields


def read_only(mapping: dict[Any, Any]) -> Mapping[Any, Any]:
    """Return *mapping* wrapped read-only: what a pickled read-only mapping becomes again."""
    return MappingProxyType(mapping)


class _ReadOnly:
    """A read-only mapping in a record's state: pickled and deep-copied as its dict.

    A shallow copy hands the state over as it is, and gets the wrapped mapping back.
    """

    __slots__ = ("mapping",)

    def __init__(self, mapping: Mapping[Any, Any]) -> None:
        self.mapping = mapping

    def __reduce__(self) -> tuple[Any, ...]:
        return read_only, (dict(self.mapping),)


def picklable_mappings(cls: type[T]) -> type[T]:
    """Class decorator: let the frozen attrs class *cls* be pickled with read-only mappings.

    Put it above ``@attrs.frozen``. The state is ``{field name: value}``, each
    :class:`~types.MappingProxyType` value pickled as its dict and unwrapped again when
    unpickled; other values are pickled as they are.

    Raises:
        attrs.exceptions.NotAnAttrsClassError: *cls* is not an attrs class.
    """
    names = tuple(field.name for field in attrs.fields(cls))

    def __getstate__(self: T) -> dict[str, Any]:
        state: dict[str, Any] = {}
        for name in names:
            value = getattr(self, name)
            state[name] = _ReadOnly(value) if type(value) is MappingProxyType else value
        return state

    def __setstate__(self: T, state: Mapping[str, Any]) -> None:
        for name, value in state.items():
            _set_field(self, name, value.mapping if type(value) is _ReadOnly else value)

    __getstate__.__qualname__ = f"{cls.__qualname__}.__getstate__"
    __setstate__.__qualname__ = f"{cls.__qualname__}.__setstate__"
    setattr(cls, "__getstate__", __getstate__)  # noqa: B010  (a method of the finished class)
    setattr(cls, "__setstate__", __setstate__)  # noqa: B010
    return cls
