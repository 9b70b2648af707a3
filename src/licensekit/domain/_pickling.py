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
    unpickled; other values are pickled as they are. Subclasses (a host's, with fields of
    their own or an instance ``__dict__``) are pickled the same way: attrs gives a slotted
    subclass pickling of its own, which :meth:`__init_subclass__` replaces with this one.

    Raises:
        attrs.exceptions.NotAnAttrsClassError: *cls* is not an attrs class.
    """
    attrs.fields(cls)  # an attrs class, or NotAnAttrsClassError

    def __init_subclass__(subclass: type[Any], /, **kwargs: Any) -> None:
        super(cls, subclass).__init_subclass__(**kwargs)
        own = [subclass.__dict__.get(name) for name in ("__getstate__", "__setstate__")]
        if all(method is None or _by_attrs(method) for method in own):  # not the host's own
            _install(subclass)

    __init_subclass__.__qualname__ = f"{cls.__qualname__}.__init_subclass__"
    _install(cls)
    setattr(cls, "__init_subclass__", classmethod(__init_subclass__))  # noqa: B010
    return cls


def _by_attrs(method: object) -> bool:
    """Whether *method* is one attrs wrote (for a slotted class), not one of the class's own."""
    return str(getattr(method, "__module__", "")).split(".")[0] == "attr"


def _install(cls: type[Any]) -> None:
    """Give *cls* the state of :func:`picklable_mappings` (its fields, then its __dict__)."""
    setattr(cls, "__getstate__", _getstate)  # noqa: B010  (a method of the finished class)
    setattr(cls, "__setstate__", _setstate)  # noqa: B010


def _getstate(self: Any) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for field in attrs.fields(type(self)):
        value = getattr(self, field.name)
        state[field.name] = _ReadOnly(value) if type(value) is MappingProxyType else value
    for name, value in getattr(self, "__dict__", {}).items():  # a subclass without slots
        state.setdefault(name, _ReadOnly(value) if type(value) is MappingProxyType else value)
    return state


def _setstate(self: Any, state: Mapping[str, Any]) -> None:
    for name, value in state.items():
        _set_field(self, name, value.mapping if type(value) is _ReadOnly else value)
