# ruff: noqa: S101, D102
# Part of a test suite that ships with the library: its checks are plain asserts (pytest
# rewrites them), and its test methods are named for the rule they check.
"""The whole contract for an async store: the same tests, through a BlockingStore."""

from __future__ import annotations

from licensekit.storage import AsyncStore, AsyncTransaction, Store, missing_operations
from licensekit.testing._blocking import BlockingStore
from licensekit.testing.contract import StoreContract

__all__ = ["AsyncStoreContract"]


class AsyncStoreContract(StoreContract):
    """The whole storage contract, for an :class:`~licensekit.storage.AsyncStore`.

    Subclass it as ``Test...`` and implement :meth:`make_async_store` (and, for a store
    that can be closed and opened again, :meth:`reopen_async_store`). Every test runs
    through a :class:`~licensekit.testing.BlockingStore`: each transaction is one task on
    an event loop of the store's own, and the tests' threads are that many tasks side by
    side. The protocol tests check the async store itself: ``aclose``, and every operation
    of its transactions a coroutine function.
    """

    def make_async_store(self) -> AsyncStore:
        """Return a new async store of the kind under test."""
        raise NotImplementedError("implement make_async_store() in your contract subclass")

    def reopen_async_store(self) -> AsyncStore | None:
        """Return a new async store on the data of the one just closed, or None.

        The default returns None, which skips the durability tests.
        """
        return None

    def make_store(self) -> Store:
        """The async store of :meth:`make_async_store`, behind a BlockingStore."""
        return BlockingStore(self.make_async_store())

    def reopen_store(self, store: Store) -> Store | None:
        """Close *store*; the async store of :meth:`reopen_async_store` behind another."""
        store.close()
        reopened = self.reopen_async_store()
        return None if reopened is None else BlockingStore(reopened)

    def test_the_store_and_its_transactions_have_every_operation(self, store: Store) -> None:
        assert isinstance(store, BlockingStore)
        served = store.async_store
        with store.transaction() as tx:
            inner = tx.async_transaction
            missing = missing_operations(served, inner, asynchronous=True)
            assert isinstance(inner, AsyncTransaction), "the transaction is not one"
        assert missing == [], f"the store lacks {', '.join(missing)}"
        assert isinstance(served, AsyncStore), "the store is not an AsyncStore"
