"""How the facade hands each public method to one group of use cases.

``log_in = delegate("_users", Users.log_in)`` in the class body makes ``kit.log_in(...)``
call ``kit._users.log_in(...)``. The method keeps the group method's signature (for type
checkers, :func:`inspect.signature`, IDEs and the documentation) and its docstring, which is
written once, on the group.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

__all__ = ["delegate"]

P = ParamSpec("P")
R = TypeVar("R")


def delegate(
    group: str, method: Callable[Concatenate[Any, P], Awaitable[R]]
) -> Callable[Concatenate[Any, P], Awaitable[R]]:
    """Return a method that calls *method* on the object held in the attribute *group*."""

    @functools.wraps(method)
    async def call(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await method(getattr(self, group), *args, **kwargs)

    return call
