"""The async stores' own rules: one transaction per task at a time, closing, opening late."""

from __future__ import annotations

import asyncio

import pytest

from _postgres import DSN, new_schema
from licensekit import StorageError, ValidationError
from licensekit.aio import ThreadedStore
from licensekit.storage import USERS, AsyncStore, Query
from licensekit.stores.memory import MemoryStore
from licensekit.stores.postgres import AsyncPostgresStore

SCHEMA = new_schema("async_rules")


def _threaded() -> AsyncStore:
    return ThreadedStore(MemoryStore())


def _postgres() -> AsyncStore:
    return AsyncPostgresStore(DSN, schema=SCHEMA, max_size=4)


STORES = [pytest.param(_threaded, id="threaded"), pytest.param(_postgres, id="postgres")]


@pytest.mark.parametrize("make", STORES)
def test_a_transaction_inside_another_of_the_same_task_is_refused_not_awaited(make) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        store = make()
        try:
            async with store.transaction() as outer:
                await outer.read([])
                with pytest.raises(StorageError, match="nested"):
                    async with asyncio.timeout(5), store.transaction():
                        pass
            # Refused, and nothing was left held: the next one opens at once.
            async with asyncio.timeout(5), store.transaction() as tx:
                await tx.read([Query(USERS, ("id",), (("usr_none",),))])
        finally:
            await store.aclose()

    asyncio.run(scenario())


def test_two_tasks_hold_postgres_transactions_side_by_side() -> None:
    """Each task takes its own connection (the memory store would serialise them)."""

    async def scenario() -> None:
        store = _postgres()
        both = asyncio.Barrier(2)

        async def one() -> None:
            async with store.transaction() as tx:
                await tx.read([])
                async with asyncio.timeout(5):
                    await both.wait()  # the other task has its own open meanwhile

        try:
            await asyncio.gather(one(), one())
        finally:
            await store.aclose()

    asyncio.run(scenario())


@pytest.mark.parametrize("make", STORES)
def test_a_closed_async_store_refuses_transactions(make) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        store = make()
        await store.aclose()
        await store.aclose()  # twice is harmless
        with pytest.raises(StorageError, match="closed"):
            async with store.transaction():
                pass

    asyncio.run(scenario())


def test_a_call_after_the_block_is_refused_by_a_threaded_transaction() -> None:
    async def scenario() -> None:
        store = ThreadedStore(MemoryStore())
        async with store.transaction() as tx:
            await tx.read([])
        with pytest.raises(StorageError, match="ended"):
            await tx.read([])
        await store.aclose()

    asyncio.run(scenario())


@pytest.mark.parametrize("workers", [0, -1, 1.5, True, "8"])
def test_threaded_store_refuses_a_bad_number_of_workers(workers: object) -> None:
    with pytest.raises(ValidationError, match="max_workers"):
        ThreadedStore(MemoryStore(), max_workers=workers)  # type: ignore[arg-type]


def test_the_async_postgres_store_connects_only_when_opened() -> None:
    """Made outside any event loop, it opens in the loop that first uses it."""
    store = AsyncPostgresStore(DSN, schema=SCHEMA, max_size=2)
    assert not store.is_open
    assert "AsyncPostgresStore" in repr(store)

    async def scenario() -> None:
        async with store:
            assert store.is_open
            assert await store.schema_version() >= 1

    asyncio.run(scenario())


def test_an_unreachable_server_is_a_storage_error_when_opening() -> None:
    store = AsyncPostgresStore(
        "postgresql://licensekit@127.0.0.1:1/nothing", connect_timeout=1, max_size=1
    )

    async def scenario() -> None:
        with pytest.raises(StorageError, match="cannot connect"):
            await store.open()

    asyncio.run(scenario())


def test_the_async_postgres_store_checks_its_arguments_at_once() -> None:
    with pytest.raises(StorageError, match="max_size"):
        AsyncPostgresStore(DSN, max_size=0)
    with pytest.raises(StorageError, match="schema"):
        AsyncPostgresStore(DSN, schema="Not Valid")


class _Counting:
    """An AsyncStore over a threaded memory store that counts the transactions opened."""

    def __init__(self) -> None:
        self.inner = ThreadedStore(MemoryStore())
        self.protocol_version = self.inner.protocol_version
        self.opened = 0

    def transaction(self):  # type: ignore[no-untyped-def]
        self.opened += 1
        return self.inner.transaction()

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_a_fresh_kit_checks_its_store_once_however_many_calls_start_at_once() -> None:
    from licensekit.aio import AsyncLicenseKit
    from licensekit.passwords import PasswordHasher
    from licensekit.testing import TEST_JOIN_URL, TEST_SECRET, RecordingMailer

    async def burst(checked_first: bool) -> int:
        store = _Counting()
        kit = AsyncLicenseKit(
            store,
            RecordingMailer(),
            secret=TEST_SECRET,
            join_url=TEST_JOIN_URL,
            password_hasher=PasswordHasher.insecure_fast(),
        )
        if checked_first:
            await kit.__aenter__()
        before = store.opened
        await asyncio.gather(
            *(kit.register_user(f"u{n}@example.com", "long enough password") for n in range(20))
        )
        await store.aclose()
        return store.opened - before

    fresh, checked = asyncio.run(burst(False)), asyncio.run(burst(True))
    assert fresh == checked + 1  # one check, not one per call
