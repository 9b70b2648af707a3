"""How the facade hands each public method to one group of use cases.

``log_in = delegate("_users", Users.log_in)`` in the class body makes ``kit.log_in(...)``
call ``kit._users.log_in(...)``. The method keeps the group method's signature (for type
checkers, :func:`inspect.signature`, IDEs and the documentation) and its docstring, which is
written once, on the group.

The facade names its groups through :class:`~licensekit._deferred.Deferred` stand-ins, so
that reaching it imports none of them: ``Users.log_in`` is then a
:class:`~licensekit._deferred.DeferredMember`, and the method is made the first time it is
looked up (on the class or an instance), which imports the group's module, and put in the
class in place of the stand-in. From then on it is a plain function of the class.

This module imports no more than :mod:`licensekit._deferred` when the facade is reached.
"""

from __future__ import annotations

from licensekit._deferred import DeferredMember

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy reads it alike
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from typing import Any, Concatenate, ParamSpec, TypeVar

    P = ParamSpec("P")
    R = TypeVar("R")

__all__ = ["delegate"]


def delegate(
    group: str, method: Callable[Concatenate[Any, P], Awaitable[R]]
) -> Callable[Concatenate[Any, P], Awaitable[R]]:
    """Return a method that calls *method* on the object held in the attribute *group*.

    *method* may be a :class:`~licensekit._deferred.DeferredMember`; the method is then made
    on its first look-up.
    """
    named: object = method  # what the facade passes at run time, unlike what type checkers see
    if isinstance(named, DeferredMember):
        return _OnFirstLookUp(group, named)  # type: ignore[return-value]
    return _forwarding(group, method)


def _forwarding(
    group: str, method: Callable[Concatenate[Any, P], Awaitable[R]]
) -> Callable[Concatenate[Any, P], Awaitable[R]]:
    """The method itself: calls *method* on the group, wrapped to look like it."""
    import functools  # here: a facade that is only reached never loads it

    @functools.wraps(method)
    async def call(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await method(getattr(self, group), *args, **kwargs)

    return call


class _OnFirstLookUp:
    """A method of the facade named but not made yet (see the module docstring)."""

    __slots__ = ("_group", "_member", "_name", "_owner")

    def __init__(self, group: str, member: DeferredMember) -> None:
        self._group = group
        self._member = member
        self._name = member.name
        self._owner: type | None = None

    def __set_name__(self, owner: type, name: str) -> None:
        self._owner, self._name = owner, name

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        method = _forwarding(self._group, self._member.resolve())
        # Threads looking it up at once each make one; they are alike and hold no state, so
        # whichever stays in the class serves every later look-up.
        setattr(self._owner or owner, self._name, method)
        return method if instance is None else method.__get__(instance, owner)

    def __repr__(self) -> str:
        return f"<method {self._name} of {self._group}, made on first look-up>"
