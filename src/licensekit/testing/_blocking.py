"""A synchronous face over an async store, so that one contract suite proves both kinds.

:class:`BlockingStore` turns an :class:`~licensekit.storage.AsyncStore` into a
:class:`~licensekit.storage.Store`. The async store lives on an event loop of its own, in a
thread of its own; each transaction is one task on that loop, from ``async with`` to its
end, as a request of an async host would be. The calling thread hands it one operation at
a time and waits for the answer. Several threads may use one BlockingStore at once: their
transactions are tasks side by side on the loop. Like any synchronous store, it refuses a
transaction opened inside another of the same thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import threading
from collections.abc import Callable, Collection, Coroutine, Mapping, Sequence
from types import TracebackType
from typing import Any, Final, TypeVar

from licensekit.exceptions import StorageError
from licensekit.storage import (
    PROTOCOL_VERSION,
    AsyncStore,
    AsyncTransaction,
    Key,
    Query,
    RecordKind,
    takes_durable,
)

__all__ = ["BlockingStore"]

R = TypeVar("R")
T = TypeVar("T")

WAIT: Final = 120.0
"""Seconds an operation may take before the caller gives up on it (a hang, not a wait)."""

_END: Final = object()


class BlockingStore:
    """A :class:`~licensekit.storage.Store` over an :class:`~licensekit.storage.AsyncStore`.

    Args:
        store: The async store; it is used from this object's event loop only.

    Attributes:
        async_store: The async store served.
    """

    protocol_version = PROTOCOL_VERSION

    def __init__(self, store: AsyncStore) -> None:
        self.async_store = store
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="licensekit-blocking-store", daemon=True
        )
        self._thread.start()
        self._local = threading.local()  # .open: this thread has a transaction open
        self.protocol_version = getattr(store, "protocol_version", PROTOCOL_VERSION)
        self._relaxes = takes_durable(store)  # whether durable=False may be passed on

    def __repr__(self) -> str:
        return f"BlockingStore({self.async_store!r})"

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run *coroutine* on the store's loop and return what it returns (or raise)."""
        if not self._thread.is_alive():
            coroutine.close()
            raise StorageError("the blocking store is closed")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(WAIT)

    def transaction(self, *, durable: bool = True) -> _BlockingBlock:
        """Open a transaction; see :meth:`licensekit.storage.Store.transaction`.

        *durable* False is passed on to the async store when its ``transaction()`` takes it.
        """
        return _BlockingBlock(self, not durable and self._relaxes)

    def close(self) -> None:
        """Close the async store, then stop the loop and its thread."""
        if not self._thread.is_alive():
            return
        try:
            self.run(self.async_store.aclose())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(WAIT)
            self._loop.close()

    def dump(self) -> list[object]:
        """Every record of the async store (its ``dump``, or its synchronous store's)."""
        dump = getattr(self.async_store, "dump", None)
        if dump is None:  # a ThreadedStore: the store it serves
            dump = self.async_store.store.dump  # type: ignore[attr-defined]
        result = dump()
        if asyncio.iscoroutine(result):
            result = self.run(result)
        return list(result)


class _BlockingBlock:
    """One transaction: a task on the store's loop, fed one operation at a time."""

    def __init__(self, store: BlockingStore, relaxed: bool = False) -> None:
        self._store = store
        self._loop = store._loop
        self._ended = False
        self._relaxed = relaxed  # open the async store's transaction with durable=False

    def __enter__(self) -> _BlockingTransaction:
        store = self._store
        if not store._thread.is_alive():
            raise StorageError("the blocking store is closed")
        if getattr(store._local, "open", False):
            # As a synchronous store: the thread would wait for its own transaction.
            raise StorageError("transactions cannot be nested (in one thread)")
        store._local.open = True
        try:
            return self._open()
        except BaseException:
            store._local.open = False
            raise

    def _open(self) -> _BlockingTransaction:
        opened: concurrent.futures.Future[AsyncTransaction] = concurrent.futures.Future()
        self._requests: asyncio.Queue[Any] | None = None
        self._task = asyncio.run_coroutine_threadsafe(self._serve(opened), self._loop)
        try:
            tx = opened.result(WAIT)
        except BaseException:
            self._task.result(WAIT)  # the task ended with the same error; nothing is open
            raise
        return _BlockingTransaction(self, tx)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._ended = True
        self._store._local.open = False
        self._put((_END, error))
        self._task.result(WAIT)  # the commit's error, if any; the block's own is not raised

    def _put(self, item: Any) -> None:
        requests = self._requests
        assert requests is not None  # noqa: S101 - set before the transaction is handed out
        self._loop.call_soon_threadsafe(requests.put_nowait, item)

    def call(self, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run one operation of the transaction in its task; return its result.

        After the block, the operation runs alone, for the transaction to refuse it.
        """
        if self._ended:
            return self._store.run(work())
        done: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._put((work, done))
        return done.result(WAIT)

    async def _serve(self, opened: concurrent.futures.Future[AsyncTransaction]) -> None:
        self._requests = asyncio.Queue()
        ending: BaseException | None = None
        try:
            async_store = self._store.async_store
            block = (
                async_store.transaction(durable=False)
                if self._relaxed
                else async_store.transaction()
            )
            async with block as tx:
                opened.set_result(tx)
                while True:
                    work, payload = await self._requests.get()
                    if work is _END:
                        ending = payload
                        if ending is not None:
                            raise ending  # so that the block rolls back
                        break
                    try:
                        payload.set_result(await work())
                    except Exception as e:
                        payload.set_exception(e)
        except BaseException as e:
            if not opened.done():
                opened.set_exception(e)
            if e is not ending:
                raise


class _BlockingTransaction:
    """A :class:`~licensekit.storage.Transaction` over one async transaction."""

    def __init__(self, block: _BlockingBlock, tx: AsyncTransaction) -> None:
        self._block = block
        self.async_transaction = tx

    def lock(self, scopes: Collection[str]) -> bool:
        """See :meth:`licensekit.storage.Transaction.lock`."""
        return self._block.call(lambda: self.async_transaction.lock(scopes))

    def read(self, queries: Sequence[Query[Any]]) -> list[list[Any]]:
        """See :meth:`licensekit.storage.Transaction.read`."""
        return self._block.call(lambda: self.async_transaction.read(queries))

    def page(
        self,
        kind: RecordKind[R],
        owner: Any,
        *,
        after: Key | None,
        limit: int,
        where: Mapping[str, Any] | None = None,
    ) -> list[R]:
        """See :meth:`licensekit.storage.Transaction.page`."""
        filtered = {} if where is None else {"where": where}
        return self._block.call(
            lambda: self.async_transaction.page(kind, owner, after=after, limit=limit, **filtered)
        )

    def count(self, kind: RecordKind[Any], where: Mapping[str, Any]) -> int:
        """See :meth:`licensekit.storage.Transaction.count`."""
        return self._block.call(lambda: self.async_transaction.count(kind, where))

    def add(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """See :meth:`licensekit.storage.Transaction.add`."""
        self._block.call(lambda: self.async_transaction.add(kind, records))

    def save(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """See :meth:`licensekit.storage.Transaction.save`."""
        self._block.call(lambda: self.async_transaction.save(kind, records))

    def put(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """See :meth:`licensekit.storage.Transaction.put`."""
        self._block.call(lambda: self.async_transaction.put(kind, records))

    def delete(self, kind: RecordKind[Any], keys: Sequence[Key]) -> int:
        """See :meth:`licensekit.storage.Transaction.delete`."""
        return self._block.call(lambda: self.async_transaction.delete(kind, keys))

    def delete_expired(self, kind: RecordKind[Any], moment: dt.datetime) -> int:
        """See :meth:`licensekit.storage.Transaction.delete_expired`."""
        return self._block.call(lambda: self.async_transaction.delete_expired(kind, moment))

    def increment(
        self, kind: RecordKind[Any], key: Key, field: str, by: int, *, cap: str | None = None
    ) -> bool:
        """See :meth:`licensekit.storage.Transaction.increment`."""
        return self._block.call(
            lambda: self.async_transaction.increment(kind, key, field, by, cap=cap)
        )

    def update(
        self,
        kind: RecordKind[Any],
        keys: Sequence[Key],
        values: Mapping[str, Any],
        *,
        add: Mapping[str, int] | None = None,
    ) -> int:
        """See :meth:`licensekit.storage.Transaction.update`."""
        return self._block.call(lambda: self.async_transaction.update(kind, keys, values, add=add))
