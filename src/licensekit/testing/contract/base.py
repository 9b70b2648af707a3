"""The base of every capability class: the hooks an adapter author implements, and fixtures.

A capability class (:class:`~licensekit.testing.contract.paging.PagingContract`, ...) is a
:class:`ContractBase` with tests. Subclass one, or
:class:`~licensekit.testing.contract.StoreContract` for all of them, under a name that
starts with ``Test``, and implement :meth:`ContractBase.make_store`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from licensekit.storage import Store
from licensekit.testing.contract._support import write
from licensekit.testing.contract.samples import Samples

__all__ = ["ContractBase"]


class ContractBase:
    """The hooks and fixtures every capability class of the contract shares.

    Every test runs against a fresh store from :meth:`make_store`; the stores the suite
    opens are closed when the test ends. The suite gives every record of a test ids no
    other test uses, so :meth:`make_store` may also return a store over a database that
    already holds records (see the adapter guide on server databases).

    Attributes:
        tmp_path: A directory unique to the running test, for stores kept in files.
    """

    tmp_path: Path

    # -- what the adapter author provides -------------------------------------------------

    def make_store(self) -> Store:
        """Return a new store of the kind under test."""
        raise NotImplementedError("implement make_store() in your contract subclass")

    def reopen_store(self, store: Store) -> Store | None:
        """Close *store* and return a new one open on the same data, or None if impossible.

        The default returns None, which skips the durability tests.
        """
        return None

    # -- fixtures ---------------------------------------------------------------------------

    @pytest.fixture(autouse=True)
    def _contract_lifecycle(self, tmp_path: Path) -> Iterator[None]:
        self.tmp_path = tmp_path
        self._contract_stores: list[Store] = []
        yield
        while self._contract_stores:
            self._contract_stores.pop().close()

    @pytest.fixture
    def store(self) -> Store:
        """A new store from :meth:`make_store`, closed after the test."""
        return self.open_store()

    @pytest.fixture
    def samples(self, store: Store) -> Samples:
        """Sample records for the test, their world (users, accounts, keys) committed."""
        samples = Samples()
        write(store, samples, samples.world())
        return samples

    # -- helpers ----------------------------------------------------------------------------

    def open_store(self) -> Store:
        """Return a new store from :meth:`make_store`, closed when the test ends."""
        store = self.make_store()
        self._contract_stores.append(store)
        return store

    def forget_store(self, store: Store) -> None:
        """Do not close *store* when the test ends (the test closed it, or it hangs)."""
        self._contract_stores = [s for s in self._contract_stores if s is not store]

    def require_reopen(self) -> None:
        """Skip the running test unless :meth:`reopen_store` is implemented."""
        if type(self).reopen_store is ContractBase.reopen_store:
            pytest.skip("reopen_store() is not implemented: durability is not tested")

    def reopen(self, store: Store) -> Store:
        """Return :meth:`reopen_store`'s new store on *store*'s data; skip without one."""
        self.require_reopen()
        self.forget_store(store)
        reopened = self.reopen_store(store)
        if reopened is None:
            pytest.skip("reopen_store() returned None: durability is not tested")
        assert reopened is not store, "reopen_store() must return a new store object"  # noqa: S101
        self._contract_stores.append(reopened)
        return reopened
