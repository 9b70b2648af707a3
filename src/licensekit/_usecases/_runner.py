"""The one place where use cases open transactions, and where a busy store is retried.

Every use case reaches the store through :class:`Runner`: :meth:`Runner.run` runs a function
in a transaction and runs it again, from the start, when the store answers
:class:`~licensekit.exceptions.StorageBusy` (a lock held too long, a server's serialisation
failure or deadlock); :meth:`Runner.transaction` opens one transaction without retrying, for
the few blocks that must not run twice. An async facade replaces this module, not the use
cases' decisions.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from licensekit._usecases._tx import Tx
from licensekit.exceptions import IncompatibleStore, StorageBusy
from licensekit.storage import Store, missing_operations

__all__ = ["Runner", "check_store"]

T = TypeVar("T")

ATTEMPTS = 3
"""How many times :meth:`Runner.run` tries a transaction the store reported busy."""
_FIRST_PAUSE = 0.005  # seconds before the second attempt; doubled, with jitter, after that


def check_store(store: object) -> None:
    """Refuse a store that does not implement this version of the storage port.

    Opens and ends one transaction to see its operations.

    Raises:
        IncompatibleStore: Naming every operation or declaration that is missing.
    """
    missing = missing_operations(store)
    if not missing:
        with store.transaction() as port:  # type: ignore[attr-defined]
            missing = missing_operations(store, port)
    if missing:
        raise IncompatibleStore(
            f"{type(store).__name__} does not implement licensekit's storage port: it lacks "
            + "; ".join(missing)
        )


class Runner:
    """Opens every transaction of the use cases over one store.

    Args:
        store: A store implementing :class:`licensekit.storage.Store`.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    @contextmanager
    def transaction(self, *scopes: str) -> Iterator[Tx]:
        """Open one transaction holding *scopes*; commit when the block ends."""
        with self.store.transaction() as port:
            tx = Tx(port)
            if scopes:
                tx.lock(*scopes)
            yield tx

    def run(self, work: Callable[[Tx], T], *scopes: str) -> T:
        """Run *work* in a transaction holding *scopes*; again while the store is busy.

        *work* may run more than once, so it must do nothing outside the transaction (no
        email, no change of shared state) that a second run would repeat.

        Raises:
            StorageBusy: The store stayed busy for every attempt.
        """
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with self.store.transaction() as port:  # as transaction(), one layer less
                    tx = Tx(port)
                    if scopes:
                        tx.lock(*scopes)
                    return work(tx)
            except StorageBusy:
                if attempt == ATTEMPTS:
                    raise
                pause = _FIRST_PAUSE * 2 ** (attempt - 1)
                time.sleep(pause * (0.5 + random.random()))  # noqa: S311 - jitter, not a secret
        raise AssertionError("unreachable")  # pragma: no cover
