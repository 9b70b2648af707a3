"""Every store licensekit ships passes the storage contract suite, licensekit.testing.contract.

Each store gets one ``Test...`` class that subclasses ``StoreContract`` and says how to make
(and, for stores that persist, reopen) an instance; the suite's tests are inherited. Below
them, checks of the suite itself: it runs every capability's tests, and the records it
writes would pass a SQL schema's foreign keys and CHECK constraints.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest

# Before the imports below, so that pytest rewrites the suite's asserts into detailed messages.
pytest.register_assert_rewrite("licensekit.testing.contract")

import licensekit.testing.contract as contract  # noqa: E402
from _postgres import DSN, new_schema  # noqa: E402
from licensekit._usecases._checks import MAX_NAME as _MAX_NAME  # noqa: E402
from licensekit._usecases._checks import MAX_NOTES as _MAX_NOTES  # noqa: E402
from licensekit._usecases._delivery import MAX_DELIVERY_ERROR as _MAX_DELIVERY_ERROR  # noqa: E402
from licensekit.aio import ThreadedStore  # noqa: E402
from licensekit.emails import _MAX_EMAIL_LENGTH  # noqa: E402
from licensekit.exceptions import StorageError  # noqa: E402
from licensekit.storage import (  # noqa: E402
    KINDS,
    AsyncStore,
    Key,
    RecordKind,
    Store,
)
from licensekit.stores.memory import MemoryStore, _MemoryTransaction, _Table  # noqa: E402
from licensekit.stores.postgres import AsyncPostgresStore, PostgresStore  # noqa: E402
from licensekit.stores.sqlite import SQLiteStore  # noqa: E402
from licensekit.testing.contract import (  # noqa: E402
    CAPABILITIES,
    AsyncStoreContract,
    StoreContract,
)
from licensekit.testing.contract.samples import REFERENCES  # noqa: E402
from licensekit.testing.contract.text import TEXT_LIMITS  # noqa: E402
from licensekit.throttling import EmailRequest, password_key, request_keys  # noqa: E402


class TestMemoryStore(StoreContract):
    """The in-memory store. It cannot be reopened, so the durability tests are skipped."""

    def make_store(self) -> Store:
        return MemoryStore()


class TestSQLiteStore(StoreContract):
    """The SQLite store, on a real file; reopening it runs the durability tests too."""

    def make_store(self) -> Store:
        return SQLiteStore(self.tmp_path / "licensekit.db", synchronous="normal")

    def reopen_store(self, store: Store) -> Store | None:
        store.close()
        return SQLiteStore(self.tmp_path / "licensekit.db", synchronous="normal")


class TestPostgresStore(StoreContract):
    """The PostgreSQL store, on the real server, in one schema for the whole run.

    The suite's records carry random tags, so its tests share the schema; reopening the
    store runs the durability tests.
    """

    schema = new_schema("contract")

    def make_store(self) -> Store:
        return PostgresStore(DSN, schema=self.schema, max_size=12)

    def reopen_store(self, store: Store) -> Store | None:
        store.close()
        return self.make_store()


# == the async stores: the same suite, each transaction a task on an event loop =============


class TestThreadedMemoryStore(AsyncStoreContract):
    """A MemoryStore served to async code from worker threads (licensekit.aio.ThreadedStore)."""

    def make_async_store(self) -> AsyncStore:
        return ThreadedStore(MemoryStore())


class TestThreadedSQLiteStore(AsyncStoreContract):
    """A SQLite file served to async code from worker threads; reopened for durability."""

    def make_async_store(self) -> AsyncStore:
        return ThreadedStore(SQLiteStore(self.tmp_path / "licensekit.db", synchronous="normal"))

    def reopen_async_store(self) -> AsyncStore | None:
        return self.make_async_store()


class TestAsyncPostgresStore(AsyncStoreContract):
    """The native async PostgreSQL store (psycopg's async pool), in one schema for the run."""

    schema = new_schema("contract_async")

    def make_async_store(self) -> AsyncStore:
        return AsyncPostgresStore(DSN, schema=self.schema, max_size=12)

    def reopen_async_store(self) -> AsyncStore | None:
        return self.make_async_store()


# == a store as strict as a SQL schema ========================================================

CHECKS: dict[str, list[tuple[str, str]]] = {
    "license_keys": [("seats", "seats >= 1"), ("seats_used", "0 <= seats_used <= seats")],
    "install_invitations": [
        ("max_activations", "max_activations >= 1"),
        ("activations", "0 <= activations <= max_activations"),
    ],
}
"""The CHECK constraints of licensekit's SQLite schema, as Python expressions."""


def _referrers(tables: dict[str, _Table], kind: RecordKind[Any], key: Key) -> list[str]:
    """Name the records that refer to *kind*'s record with *key*."""
    found = []
    for other in KINDS:
        for field, target in REFERENCES[other].items():
            if target.name == kind.name:
                found += [
                    f"{other.name}.{field}"
                    for record in tables[other.name].rows.values()
                    if (getattr(record, field),) == key
                ]
    return found


class _StrictTransaction(_MemoryTransaction):
    """Refuses, at the call, what a schema with immediate foreign keys and CHECKs refuses."""

    def _each(self, kind: RecordKind[Any], records: Sequence[Any], write: Any) -> None:
        for record in records:
            for field, target in REFERENCES[kind].items():
                value = getattr(record, field)  # None, or "" for an installer, is nobody
                if value and (value,) not in self._tables[target.name].rows:
                    raise StorageError(f"{kind.name}.{field} refers to no {target.name}: {value!r}")
            for field, check in CHECKS.get(kind.name, []):
                if not eval(check, {}, {f: getattr(record, f) for f in kind.fields}):  # noqa: S307
                    raise StorageError(f"{kind.name}.{field}: CHECK ({check}) failed")
        super()._each(kind, records, write)

    def delete(self, kind: RecordKind[Any], keys: Sequence[Key]) -> int:
        for key in keys:
            referrers = _referrers(self._tables, kind, tuple(key))
            if referrers:
                raise StorageError(f"{kind.name} {key!r} is still referred to by {referrers}")
        return super().delete(kind, keys)


class _StrictStore(MemoryStore):
    @contextmanager
    def transaction(self) -> Iterator[_MemoryTransaction]:
        with super().transaction() as tx:
            tx.__class__ = _StrictTransaction
            yield tx


class TestTheSuiteWritesWhatASQLSchemaAccepts(StoreContract):
    """Referenced records first, numbers within the CHECK constraints: a SQL store passes."""

    def make_store(self) -> Store:
        return _StrictStore()


# == the suite itself ==========================================================================


def test_store_contract_runs_every_test_of_every_capability() -> None:
    """No test of one capability hides another's of the same name in StoreContract."""
    hidden = [
        f"{capability.__name__}.{name}"
        for capability in CAPABILITIES
        for name in dir(capability)
        if name.startswith("test_")
        and getattr(StoreContract, name) is not getattr(capability, name)
    ]
    assert hidden == []
    assert set(StoreContract.__mro__) >= set(CAPABILITIES)


def test_every_capability_module_has_its_class_in_capabilities() -> None:
    support = {"base", "samples", "asynchronous"}  # asynchronous: all of them, for async stores
    modules = [
        info.name
        for info in pkgutil.iter_modules(contract.__path__)
        if not info.name.startswith("_") and info.name not in support
    ]
    classes = {c.__module__.rsplit(".", 1)[-1]: c for c in CAPABILITIES}
    assert sorted(modules) == sorted(classes)
    for name, capability in classes.items():
        module = importlib.import_module(f"licensekit.testing.contract.{name}")
        assert capability.__name__ in module.__all__


def _email_keys(email: str) -> list[str]:
    """Every throttle key licensekit makes of an address."""
    keys = [password_key(email)]
    for request in EmailRequest:
        keys += request_keys(request, email=email)
    return keys


def test_the_text_limits_are_those_licensekit_enforces() -> None:
    enforced = {
        "email": _MAX_EMAIL_LENGTH,
        "name": _MAX_NAME,
        "product": _MAX_NAME,
        "computer_id": _MAX_NAME,
        "computer_name": _MAX_NAME,
        "notes": _MAX_NOTES,
        "delivery_error": _MAX_DELIVERY_ERROR,
        "key": _MAX_EMAIL_LENGTH + max(len(k) - 1 for k in _email_keys("a")),
    }
    assert enforced == TEXT_LIMITS
