"""A quicker ``attrs.evolve`` for the records the hot paths change.

``attrs.evolve(record, **changes)`` looks the class's fields up and loops over them in Python
on every call: about 5 us for a 23-field :class:`~licensekit.domain.model.InstallInvitation`,
which every activation changes. :func:`replacer` compiles, once per class, a function that
does the same in one straight call: each ``__init__`` argument is the change given for it or
the record's own value, so a field added to the class later is carried over like the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from licensekit.domain._construct import deferred

__all__ = ["replacer"]

T = TypeVar("T")


class _Unchanged:
    """The default of each argument of a replacer: the record's own value is kept."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<unchanged>"


_UNCHANGED = _Unchanged()


def replacer(cls: type[T]) -> Callable[..., T]:
    """Return ``replace(record, **changes)`` for the attrs class *cls*, as ``attrs.evolve``.

    The changes are named by the ``__init__`` arguments (an attribute's alias), and
    converters and validators run as they do in ``attrs.evolve``. A name that is no argument
    raises :class:`TypeError`.
    """
    init = [f for f in attrs.fields(cls) if f.init]  # type: ignore[arg-type]
    for f in init:
        # The generated names begin with "_": an argument named so could shadow them.
        if not f.alias.isidentifier() or not f.name.isidentifier() or f.alias.startswith("_"):
            raise TypeError(f"cannot compile a replacer for {cls.__name__}.{f.name}")
    parameters = ", ".join(f"{f.alias}=_UNCHANGED" for f in init)
    values = []
    by_name = False  # positional (cheaper) up to the first keyword-only argument
    for f in init:
        by_name = by_name or f.kw_only
        value = f"(_record.{f.name} if {f.alias} is _UNCHANGED else {f.alias})"
        values.append(f"{f.alias}={value}" if by_name else value)
    source = f"def replace(_record, /, *, {parameters}):\n    return _cls({', '.join(values)})\n"
    # The copy is made as ``cls(...)`` makes it, without the dear assignments of a frozen
    # class's __init__ (see _construct), compiled when first called.
    namespace: dict[str, Any] = {"_UNCHANGED": _UNCHANGED}
    namespace["_cls"] = deferred(cls, namespace, "_cls")
    # The source is made of the class's own field names only.
    exec(compile(source, f"<licensekit replacer of {cls.__name__}>", "exec"), namespace)  # noqa: S102
    replace: Callable[..., T] = namespace["replace"]
    replace.__doc__ = f"Return a copy of a {cls.__name__} with the values given changed."
    return replace
