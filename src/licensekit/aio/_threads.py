"""Synchronous stores and mailers, served to async code from worker threads.

:class:`ThreadedStore` lets :class:`~licensekit.aio.AsyncLicenseKit` use any
:class:`~licensekit.storage.Store`: the shipped memory and SQLite stores, or a host's own.
Each transaction lives, from its start to its commit or rollback, in one worker thread of
the store's own pool: the store's locks and connections stay with the thread that took
them, and waiting for them (SQLite's write lock, the memory store's lock) holds a worker,
never the event loop. Every operation is a request to that thread; the task awaits its
answer.

A task cancelled while its transaction is open rolls the transaction back: the block's
``async with`` passes the cancellation to the worker, which ends the transaction with it
(rolling back) and gives its connection back, whether or not the task is still there to
see it. At most *max_workers* transactions are open at once; others wait for a worker.

:class:`ThreadedMailer` runs a :class:`~licensekit.mail.Mailer`'s ``send`` (and
``send_batch``) in a worker thread. A task cancelled while a message is being handed over
stops waiting; the message may still go out, and its invitation stays claimed until the
claim runs out, as after any interruption between sending and recording.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import queue
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, Final, TypeVar

from licensekit.exceptions import DeliveryError, StorageError, ValidationError
from licensekit.mail import BatchMailer, Mailer, Message
from licensekit.storage import (
    PROTOCOL_VERSION,
    Key,
    Query,
    RecordKind,
    Store,
    Transaction,
    takes_durable,
)
from licensekit.stores._task_guard import TaskGuard

__all__ = ["ThreadedBatchMailer", "ThreadedMailer", "ThreadedStore"]

R = TypeVar("R")

DEFAULT_WORKERS: Final = 8
"""How many transactions a :class:`ThreadedStore` keeps open at once by default."""

_END: Final = object()  # asks the worker to end the transaction


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    """Give *future* its outcome, unless the task awaiting it is gone (cancelled)."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class ThreadedStore:
    """An :class:`~licensekit.storage.AsyncStore` over a synchronous store, in worker threads.

    Args:
        store: The synchronous store, e.g. a
            :class:`~licensekit.stores.sqlite.SQLiteStore` or a
            :class:`~licensekit.stores.memory.MemoryStore`.
        max_workers: How many transactions may be open at once (each holds one thread).
        close_store: Whether :meth:`aclose` closes *store* too (otherwise it only stops the
            threads, and *store* stays yours to close).

    Raises:
        ValidationError: *max_workers* is not a whole number of at least 1.
    """

    protocol_version = PROTOCOL_VERSION

    def __init__(
        self, store: Store, *, max_workers: int = DEFAULT_WORKERS, close_store: bool = True
    ) -> None:
        given: object = max_workers
        if isinstance(given, bool) or not isinstance(given, int) or given < 1:
            raise ValidationError(
                f"max_workers must be a whole number of at least 1, not {max_workers!r}",
                field="max_workers",
            )
        self.store = store
        self._workers = max_workers
        self._executor = ThreadPoolExecutor(self._workers, thread_name_prefix="licensekit-store")
        self._close_store = close_store
        self._closed = False
        self._relaxes = takes_durable(store)  # whether durable=False may be passed on

    def __repr__(self) -> str:
        return f"ThreadedStore({self.store!r}, max_workers={self._workers})"

    def transaction(self, *, durable: bool = True) -> _ThreadedBlock:
        """Open a transaction, for ``async with``; see :class:`~licensekit.storage.AsyncStore`.

        *durable* False is passed on to the store when its ``transaction()`` takes it.

        Raises:
            StorageError: The store is closed.
        """
        if self._closed:
            raise StorageError("the threaded store is closed")
        relaxed = not durable and self._relaxes
        return _ThreadedBlock(self.store, self._executor, TaskGuard(self), relaxed)

    async def aclose(self) -> None:
        """Stop the worker threads once their transactions end; close the store if asked."""
        if self._closed:
            return
        self._closed = True
        await asyncio.to_thread(self._executor.shutdown, wait=True)
        if self._close_store:
            await asyncio.to_thread(self.store.close)


class _ThreadedBlock:
    """One transaction of a :class:`ThreadedStore`: the block, and the transaction in it."""

    __slots__ = (
        "_done",
        "_ended",
        "_executor",
        "_guard",
        "_loop",
        "_relaxed",
        "_requests",
        "_store",
    )

    def __init__(
        self, store: Store, executor: ThreadPoolExecutor, guard: TaskGuard, relaxed: bool
    ) -> None:
        self._store = store
        self._relaxed = relaxed  # open the store's transaction with durable=False
        self._executor = executor
        self._guard = guard
        self._ended = False
        self._requests: queue.SimpleQueue[Any] = queue.SimpleQueue()

    async def __aenter__(self) -> _ThreadedBlock:
        self._guard.enter()
        try:
            return await self._open()
        except BaseException:
            self._guard.leave()
            raise

    async def _open(self) -> _ThreadedBlock:
        self._loop = loop = asyncio.get_running_loop()
        opened: asyncio.Future[None] = loop.create_future()
        self._done: asyncio.Future[None] = loop.create_future()
        self._executor.submit(self._serve, opened)
        try:
            await asyncio.shield(opened)
        except asyncio.CancelledError:
            # The worker may still open it: tell it to end at once, rolling back.
            self._requests.put((_END, asyncio.CancelledError()))
            raise
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._ended = True
        self._requests.put((_END, error))
        try:
            # The worker commits or rolls back on its own; a second cancellation here only
            # stops this task from waiting for it to finish.
            await asyncio.shield(self._done)
        finally:
            self._guard.leave()

    def _serve(self, opened: asyncio.Future[None]) -> None:
        """Run in a worker: open the transaction, answer requests, end it as asked."""
        loop, requests = self._loop, self._requests
        try:
            store = self._store
            block = store.transaction(durable=False) if self._relaxed else store.transaction()
            port: Transaction = block.__enter__()
        except BaseException as e:
            loop.call_soon_threadsafe(_settle, opened, None, e)
            return
        loop.call_soon_threadsafe(_settle, opened, None, None)
        while True:
            name, payload = requests.get()
            if name is _END:
                break
            args, kwargs, future = payload
            try:
                result = getattr(port, name)(*args, **kwargs)
            except BaseException as e:
                loop.call_soon_threadsafe(_settle, future, None, e)
            else:
                loop.call_soon_threadsafe(_settle, future, result, None)
        error: BaseException | None = payload
        outcome: BaseException | None = None
        try:
            if error is None:
                block.__exit__(None, None, None)
            else:
                block.__exit__(type(error), error, error.__traceback__)
        except BaseException as e:
            # The block's own exception, given back, goes on from the task; anything else
            # (a refused commit) is the transaction's outcome.
            outcome = None if e is error else e
        loop.call_soon_threadsafe(_settle, self._done, None, outcome)

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if self._ended:
            raise StorageError("this transaction has ended; open a new one")
        future = self._loop.create_future()
        self._requests.put((name, (args, kwargs, future)))
        return await future

    # The port, as AsyncTransaction.
    async def lock(self, scopes: Collection[str]) -> bool:
        """See :meth:`licensekit.storage.Transaction.lock`."""
        result: bool = await self._call("lock", scopes)
        return result

    async def read(self, queries: Sequence[Query[Any]]) -> list[list[Any]]:
        """See :meth:`licensekit.storage.Transaction.read`."""
        result: list[list[Any]] = await self._call("read", queries)
        return result

    async def page(
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
        result: list[R] = await self._call(
            "page", kind, owner, after=after, limit=limit, **filtered
        )
        return result

    async def count(self, kind: RecordKind[Any], where: Mapping[str, Any]) -> int:
        """See :meth:`licensekit.storage.Transaction.count`."""
        result: int = await self._call("count", kind, where)
        return result

    async def add(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """See :meth:`licensekit.storage.Transaction.add`."""
        await self._call("add", kind, records)

    async def save(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """See :meth:`licensekit.storage.Transaction.save`."""
        await self._call("save", kind, records)

    async def put(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """See :meth:`licensekit.storage.Transaction.put`."""
        await self._call("put", kind, records)

    async def delete(self, kind: RecordKind[Any], keys: Sequence[Key]) -> int:
        """See :meth:`licensekit.storage.Transaction.delete`."""
        result: int = await self._call("delete", kind, keys)
        return result

    async def delete_expired(self, kind: RecordKind[Any], moment: dt.datetime) -> int:
        """See :meth:`licensekit.storage.Transaction.delete_expired`."""
        result: int = await self._call("delete_expired", kind, moment)
        return result

    async def increment(
        self, kind: RecordKind[Any], key: Key, field: str, by: int, *, cap: str | None = None
    ) -> bool:
        """See :meth:`licensekit.storage.Transaction.increment`."""
        result: bool = await self._call("increment", kind, key, field, by, cap=cap)
        return result

    async def update(
        self,
        kind: RecordKind[Any],
        keys: Sequence[Key],
        values: Mapping[str, Any],
        *,
        add: Mapping[str, int] | None = None,
    ) -> int:
        """See :meth:`licensekit.storage.Transaction.update`."""
        result: int = await self._call("update", kind, keys, values, add=add)
        return result


class ThreadedMailer:
    """An :class:`~licensekit.mail.AsyncMailer` over a synchronous mailer, in a worker thread.

    Args:
        mailer: The synchronous mailer.
    """

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.mailer!r})"

    async def send(self, message: Message) -> None:
        """Hand *message* to the mailer's ``send``, in a worker thread."""
        await asyncio.to_thread(self.mailer.send, message)


class ThreadedBatchMailer(ThreadedMailer):
    """A :class:`ThreadedMailer` over a :class:`~licensekit.mail.BatchMailer`.

    Args:
        mailer: The synchronous mailer, with ``send_batch``.
    """

    mailer: BatchMailer

    def __init__(self, mailer: BatchMailer) -> None:
        super().__init__(mailer)

    async def send_batch(self, messages: Sequence[Message]) -> list[DeliveryError | None]:
        """Hand *messages* to the mailer's ``send_batch``, in a worker thread."""
        send: Callable[[Sequence[Message]], list[DeliveryError | None]] = self.mailer.send_batch
        # A copy: the caller may change its sequence while the thread reads it.
        return await asyncio.to_thread(send, list(messages))
