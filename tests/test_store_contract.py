"""Every store licensekit ships passes the storage contract suite, licensekit.testing.contract.

Each store gets one ``Test...`` class that subclasses ``StoreContract`` and says how to make
(and, for stores that persist, reopen) an instance; the suite's tests are inherited.
"""

from __future__ import annotations

import pytest

# Before the import below, so that pytest rewrites the suite's asserts into detailed messages.
pytest.register_assert_rewrite("licensekit.testing.contract")

from licensekit._storage_v1 import Store  # noqa: E402
from licensekit.stores.memory import MemoryStore  # noqa: E402
from licensekit.stores.sqlite import SQLiteStore  # noqa: E402
from licensekit.testing.contract import StoreContract  # noqa: E402


class TestMemoryStore(StoreContract):
    """The in-memory store. It cannot be reopened, so the persistence tests are skipped."""

    def make_store(self) -> Store:
        return MemoryStore()


class TestSQLiteStore(StoreContract):
    """The SQLite store, on a real file; reopening it runs the persistence tests too."""

    def make_store(self) -> Store:
        return SQLiteStore(self.tmp_path / "licensekit.db", synchronous="normal")

    def reopen_store(self, store: Store) -> Store | None:
        store.close()
        return SQLiteStore(self.tmp_path / "licensekit.db", synchronous="normal")


class TestSQLiteStoreFullSync(TestSQLiteStore):
    """The default durability setting (a sync at every commit) behaves the same."""

    def make_store(self) -> Store:
        return SQLiteStore(self.tmp_path / "licensekit.db")
