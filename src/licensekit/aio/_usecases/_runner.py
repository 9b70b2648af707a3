"""The one place where use cases open transactions, and where a busy store is retried.

Every use case reaches the store through :class:`Runner`: :meth:`Runner.run` runs a function
in a transaction and runs it again, from the start, when the store answers
:class:`~licensekit.exceptions.StorageBusy` (a lock held too long, a server's serialisation
failure or deadlock); :meth:`Runner.transaction` opens one transaction without retrying, for
the few blocks that must not run twice.

A transaction is durable unless :meth:`Runner.run` is asked for ``durable=False``: then its
commit may reach the disk later (see :meth:`licensekit.storage.Store.transaction`), and a
store whose ``transaction()`` does not take that keyword is asked for a durable one anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from licensekit.aio._usecases._offload import new_lock
from licensekit.aio._usecases._tx import Tx
from licensekit.exceptions import IncompatibleStore, StorageBusy
from licensekit.storage import AsyncStore, missing_operations, takes_durable

__all__ = ["Runner", "check_store"]

T = TypeVar("T")

ATTEMPTS = 3
"""How many times :meth:`Runner.run` tries a transaction the store reported busy."""
_FIRST_PAUSE = 0.005  # seconds before the second attempt; doubled, with jitter, after that
_ASYNC = True  # which flavour this module is (the generated synchronous one says False)


async def check_store(store: object) -> None:
    """Refuse a store that does not implement this version of the storage port.

    Opens and ends one transaction to see its operations.

    Raises:
        IncompatibleStore: Naming every operation or declaration that is missing.
    """
    missing = missing_operations(store, asynchronous=_ASYNC)
    if not missing:
        async with store.transaction() as port:  # type: ignore[attr-defined]
            missing = missing_operations(store, port, asynchronous=_ASYNC)
    if missing:
        raise IncompatibleStore(
            f"{type(store).__name__} does not implement licensekit's storage port: it lacks "
            + "; ".join(missing)
        )


class Runner:
    """Opens every transaction of the use cases over one store.

    The store is checked (:func:`check_store`) before its first transaction, unless
    :meth:`check` was awaited before.

    Args:
        store: A store implementing :class:`licensekit.storage.AsyncStore`.
    """

    def __init__(self, store: AsyncStore) -> None:
        self.store = store
        self.checked = False
        self._checking = new_lock()

    @property
    def store(self) -> AsyncStore:
        """The store; another may be set (a test's wrapper, say)."""
        return self._store

    @store.setter
    def store(self, store: AsyncStore) -> None:
        self._store = store
        self._relaxes = takes_durable(store)  # whether durable=False may be passed on

    async def check(self) -> None:
        """Check the store now (see :func:`check_store`), unless it was; callers at once wait."""
        async with self._checking:
            if not self.checked:
                await check_store(self.store)
                self.checked = True

    @asynccontextmanager
    async def transaction(self, *scopes: str) -> AsyncIterator[Tx]:
        """Open one transaction holding *scopes*; commit when the block ends."""
        if not self.checked:
            await self.check()
        async with self.store.transaction() as port:
            tx = Tx(port)
            await lock_in_order(tx, scopes)
            yield tx

    async def run(
        self, work: Callable[[Tx], Awaitable[T]], *scopes: str, durable: bool = True
    ) -> T:
        """Run *work* in a transaction holding *scopes*; again while the store is busy.

        *work* may run more than once, so it must do nothing outside the transaction (no
        email, no change of shared state) that a second run would repeat. With *durable*
        False the commit need not reach the disk before this returns: only for writes whose
        loss in a crash of the machine costs no more than the crash itself (how sending
        went, once the emails are out).

        Raises:
            StorageBusy: The store stayed busy for every attempt.
            IncompatibleStore: The store's first check found it lacking.
        """
        if not self.checked:
            await self.check()
        store, relaxed = self._store, not durable and self._relaxes
        for attempt in range(1, ATTEMPTS + 1):
            try:
                opened = store.transaction(durable=False) if relaxed else store.transaction()
                async with opened as port:  # as transaction(), one layer less
                    tx = Tx(port)
                    if scopes:
                        await lock_in_order(tx, scopes)
                    return await work(tx)
            except StorageBusy:
                if attempt == ATTEMPTS:
                    raise
                import random  # here: only a busy store's retry needs it, not making a kit

                pause = _FIRST_PAUSE * 2 ** (attempt - 1)
                await asyncio.sleep(pause * (0.5 + random.random()))  # noqa: S311 - jitter
        raise AssertionError("unreachable")  # pragma: no cover


async def lock_in_order(tx: Tx, scopes: tuple[str, ...]) -> None:
    """Lock *scopes* one call each, in the order given (an account's before a key's).

    A server store takes the scopes of one call in an order of its own (PostgreSQL's by
    their hashes), so only separate calls keep the order every use case follows: the
    account first, then computers, then additional keys, then primary keys (see
    :mod:`licensekit._usecases._seats`).
    """
    for scope in scopes:
        await tx.lock(scope)
