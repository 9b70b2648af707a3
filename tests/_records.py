"""Reading and writing a store's records directly in tests, through licensekit's typed view.

Tests that check what a store holds (or plant a record the use cases would never write) open
a transaction with :func:`records` and use :class:`licensekit._usecases._tx.Tx`'s look-ups.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from licensekit._usecases._tx import Tx
from licensekit.model import MemberStatus, Role
from licensekit.storage import MEMBERSHIPS


@contextmanager
def records(store: Any) -> Iterator[Tx]:
    """Open a transaction of *store* and yield it as a :class:`Tx`."""
    with store.transaction() as port:
        yield Tx(port)


def active_administrators(tx: Tx, account_id: str) -> int:
    """Return how many active Account Administrators *account_id* has, as the store counts."""
    return tx.count(
        MEMBERSHIPS,
        account_id=account_id,
        role=Role.ACCOUNT_ADMINISTRATOR,
        status=MemberStatus.ACTIVE,
    )
