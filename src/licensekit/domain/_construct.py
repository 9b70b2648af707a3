"""Quicker constructors for frozen attrs records, for the hot paths that make them.

A frozen, slotted attrs class sets each field in its ``__init__`` through
``object.__setattr__`` (a frozen class refuses the ordinary assignment): close to 1,000
instructions a field, 22,000 for a 24-field :class:`~licensekit.domain.model.InstallInvitation`,
which every activation reads and makes. :func:`maker` compiles, once per class, a function
that takes the same arguments as the class (the same names, order, defaults and
keyword-only fields, and the same converters run on them), and builds the record as a
*writable twin* first: a subclass without slots of its own whose assignment is the plain
one, so each field is set by one specialised store (about 80 instructions). Then the object
becomes an instance of the class itself (``__class__`` assignment, which CPython allows
between classes of one layout), frozen like any other: equal, hashed, printed, pickled and
refused a change exactly as one made by ``cls(...)``.

Only classes whose ``__init__`` does nothing more are compiled: attrs' own, no validators,
no ``__attrs_pre_init__`` or ``__attrs_post_init__``, every field an argument, slots for
exactly the fields, no base class that holds anything (:class:`typing.Generic` holds
nothing). Any other class gets itself back, so a call is always ``cls(...)``'s equal, only
sometimes faster.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

__all__ = ["deferred", "maker"]

T = TypeVar("T")

_MADE: dict[type[Any], Callable[..., Any]] = {}
"""The maker of each class asked for, made on first use."""
_COMPILING = threading.Lock()
"""Held while a maker is compiled: one writable twin per class, whichever thread asks."""


def maker(cls: type[T]) -> Callable[..., T]:
    """Return a function that makes a *cls* from ``cls(...)``'s arguments, faster when it can.

    See the module's docstring for when it is compiled and how; otherwise *cls* itself.
    """
    made = _MADE.get(cls)
    if made is None:
        with _COMPILING:
            made = _MADE.get(cls)  # another thread may have compiled it meanwhile
            if made is None:
                made = _MADE[cls] = _compiled(cls) or cls
    return made


def deferred(cls: type[T], namespace: dict[str, Any], name: str) -> Callable[..., T]:
    """A stand-in for ``maker(cls)`` kept at ``namespace[name]``, compiled on its first call.

    So that importing a module that holds makers compiles nothing: the first call puts the
    maker in its place (later calls go straight to it) and then makes the record.
    """

    def first(*args: Any, **kwargs: Any) -> T:
        made = namespace[name] = maker(cls)
        record: T = made(*args, **kwargs)
        return record

    return first


def _plain(cls: type[Any]) -> tuple[attrs.Attribute[Any], ...] | None:
    """The fields of *cls* when its ``__init__`` only sets them (converted); else None."""
    try:
        fields: tuple[attrs.Attribute[Any], ...] = attrs.fields(cls)
    except (TypeError, attrs.exceptions.NotAnAttrsClassError):
        return None
    init = cls.__dict__.get("__init__")
    code = getattr(init, "__code__", None)
    slots = cls.__dict__.get("__slots__")
    if (
        any(  # bases holding nothing (Generic), or the fields would not all be here
            base.__dict__.get("__slots__") != () or attrs.has(base) for base in cls.__mro__[1:-1]
        )
        or vars(object)["__new__"] is not getattr(cls, "__new__", None)  # cls(...) calls it
        or code is None
        or not code.co_filename.startswith("<attrs generated")
        or slots is None
        or set(slots) - {"__weakref__"} != {f.name for f in fields}
        or any(hasattr(cls, hook) for hook in ("__attrs_pre_init__", "__attrs_post_init__"))
    ):
        return None
    for f in fields:
        if not f.init or f.validator is not None:
            return None
        alias = f.alias or ""
        if not f.name.isidentifier() or not alias.isidentifier() or alias.startswith("_"):
            return None  # a parameter the compiled function's own names could shadow
        if f.converter is not None and isinstance(f.converter, attrs.Converter):
            return None  # a converter taking the record or the field: left to attrs
        default: Any = f.default
        if isinstance(default, attrs.Factory) and default.takes_self:  # type: ignore[arg-type]
            return None
    return fields


def _compiled(cls: type[T]) -> Callable[..., T] | None:
    """The compiled maker of *cls* (see the module's docstring), or None if it has none."""
    fields = _plain(cls)
    if fields is None:
        return None
    writable = type(
        cls.__name__,
        (cls,),
        {
            "__slots__": (),
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            # Both: one type slot serves assignment and deletion.
            "__setattr__": object.__setattr__,
            "__delattr__": object.__delattr__,
        },
    )
    try:  # the layouts must agree, or no instance may change class
        probe: Any = object.__new__(writable)
        probe.__class__ = cls
    except TypeError:  # pragma: no cover - a twin without slots of its own always agrees
        return None
    # Every name of the function's own begins with an underscore, which no parameter does
    # (see _plain): a field named cls, new or c2 is an argument like any other.
    namespace: dict[str, Any] = {
        "_new": object.__new__,
        "_writable": writable,
        "_cls": cls,
        "_NOTHING": attrs.NOTHING,
    }
    # attrs puts the keyword-only fields after the others in __init__'s signature, wherever
    # they stand among the fields; the fields are still set (and converted) in field order.
    positional: list[str] = []
    keyword: list[str] = []
    body: list[str] = []
    for n, f in enumerate(fields):
        name = value = str(f.alias)
        default: Any = f.default
        parameters = keyword if f.kw_only else positional
        if default is attrs.NOTHING:
            parameters.append(name)
        elif isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            namespace[f"_f{n}"] = default.factory
            parameters.append(f"{name}=_NOTHING")
            value = f"(_f{n}() if {name} is _NOTHING else {name})"
        else:
            namespace[f"_d{n}"] = default
            parameters.append(f"{name}=_d{n}")
        if f.converter is not None:
            namespace[f"_c{n}"] = f.converter
            value = f"_c{n}({value})"
        body.append(f"    _self.{f.name} = {value}\n")
    signature = ", ".join([*positional, *(["*", *keyword] if keyword else [])])
    source = (
        f"def make({signature}):\n"
        "    _self = _new(_writable)\n"
        f"{''.join(body)}"
        "    _self.__class__ = _cls\n"
        "    return _self\n"
    )
    # The source is made of the class's own field names and aliases only.
    code = compile(source, f"<licensekit maker of {cls.__qualname__}>", "exec")
    exec(code, namespace)  # noqa: S102
    made: Callable[..., T] = namespace["make"]
    made.__doc__ = f"Make a {cls.__qualname__} as ``{cls.__qualname__}(...)`` does, faster."
    made.__qualname__ = cls.__qualname__  # what a wrong call's TypeError names, as cls(...)'s
    return made
