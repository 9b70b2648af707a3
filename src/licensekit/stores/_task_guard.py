"""Refusing, in async code, a transaction opened inside another of the same task.

A task that opens a second transaction on a store while its first is open would wait for
itself (the memory store's lock, SQLite's write lock, a scope its first transaction holds),
so the async stores refuse it at once with :class:`~licensekit.exceptions.StorageError`,
as the synchronous stores do for a thread. Which stores a task has a transaction open on is
a context variable: ``async with`` enters and leaves in the same task, and a task started
inside the block inherits the note (it is refused too, rather than left waiting).
"""

from __future__ import annotations

import contextvars
from typing import Final

from licensekit.exceptions import StorageError

__all__ = ["TaskGuard"]

_OPEN: Final[contextvars.ContextVar[frozenset[int]]] = contextvars.ContextVar(
    "licensekit_open_transactions", default=frozenset()
)


class TaskGuard:
    """The guard of one transaction's block on the store *owner* (any object).

    Args:
        owner: The store; a task may hold one open transaction on it.
    """

    __slots__ = ("_owner", "_token")

    def __init__(self, owner: object) -> None:
        self._owner = id(owner)

    def enter(self) -> None:
        """Note the transaction opening in this task; refuse a second one on the store."""
        held = _OPEN.get()
        if self._owner in held:
            raise StorageError("transactions cannot be nested (on this store, in one task)")
        self._token = _OPEN.set(held | {self._owner})

    def leave(self) -> None:
        """Note the transaction ended."""
        _OPEN.reset(self._token)
