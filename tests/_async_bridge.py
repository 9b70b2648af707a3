"""Run the synchronous test suite through AsyncLicenseKit: a blocking face over the async kit.

:class:`BlockingKit` has LicenseKit's methods; each runs the AsyncLicenseKit coroutine of the
same name on one event loop in a background thread and waits for it. Tests written against
LicenseKit then exercise the async use cases (licensekit.aio), the threaded or native async
store, and the threaded mailer, unchanged: the ``flavour`` fixture of the use-case, story and
security folders runs each of their tests both ways (``LICENSEKIT_TEST_FLAVOUR`` picks one).

On PostgreSQL (``LICENSEKIT_TEST_STORE=postgres``), the async kit works through the native
:class:`~licensekit.stores.postgres.AsyncPostgresStore`, on the schema of the synchronous
store the test kit made (which the test reads and swaps as usual).

Several threads may call one BlockingKit at once (the concurrency tests do): their coroutines
run side by side on the one loop, as an async host's requests would.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from psycopg_pool import AsyncConnectionPool

from licensekit import LicenseKit
from licensekit.aio import AsyncLicenseKit
from licensekit.aio._usecases import _offload
from licensekit.aio._usecases._context import as_async_mailer, as_async_store
from licensekit.stores.postgres import AsyncPostgresStore, PostgresStore

FLAVOURS = ("sync", "async")

# Some tests hook the password hasher to run a use case in the middle of a hash (a proof of
# the address while a log-in checks a password). Through the bridge, that use case's own
# hashing needs a second thread of licensekit's CPU pool while the first waits for it, so
# the pool gets more threads than a two-core machine's one, for those re-entrant hooks only.
_offload._pool = ThreadPoolExecutor(4, thread_name_prefix="licensekit-cpu-tests")


def flavours() -> list[str]:
    """The flavours LICENSEKIT_TEST_FLAVOUR asks for: ``sync``, ``async`` or both (default)."""
    wanted = os.environ.get("LICENSEKIT_TEST_FLAVOUR", "both").strip().lower() or "both"
    if wanted not in (*FLAVOURS, "both"):
        raise ValueError(f"LICENSEKIT_TEST_FLAVOUR must be sync, async or both, not {wanted!r}")
    return list(FLAVOURS) if wanted == "both" else [wanted]


class _Loop:
    """One event loop, running for the whole test session in a daemon thread."""

    _lock = threading.Lock()
    _loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def get(cls) -> asyncio.AbstractEventLoop:
        with cls._lock:
            if cls._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="bridge-loop", daemon=True)
                thread.start()
                cls._loop = loop
            return cls._loop


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run *coroutine* on the bridge's loop and return its result (or raise its error)."""
    return asyncio.run_coroutine_threadsafe(coroutine, _Loop.get()).result(timeout=120)


def _blocking(name: str) -> Callable[..., Any]:
    method = getattr(AsyncLicenseKit, name)

    def call(self: BlockingKit, /, *args: Any, **kwargs: Any) -> Any:
        return run(getattr(self._async, name)(*args, **kwargs))

    call.__name__ = name
    call.__doc__ = method.__doc__
    call.__signature__ = inspect.signature(method)  # type: ignore[attr-defined]
    return call


_POOLS: dict[str, Any] = {}  # the bridge loop's async pool, one per database


def _native(store: PostgresStore) -> AsyncPostgresStore:
    """The native async store on the schema of the test kit's PostgreSQL store.

    Its pool (one for the run, on the bridge's loop) is shared, like the test kit's.
    """

    async def open_on_loop() -> AsyncPostgresStore:
        dsn = os.environ.get("LICENSEKIT_TEST_POSTGRES", "")
        pool = _POOLS.get(dsn)
        if pool is None:
            pool = AsyncConnectionPool(
                dsn,
                min_size=1,
                max_size=8,
                kwargs={"autocommit": True},
                open=False,
                name="licensekit-bridge",
            )
            await pool.open(wait=True, timeout=10)
            _POOLS[dsn] = pool
        return AsyncPostgresStore._sharing(pool, store._shown, store.schema)

    result: AsyncPostgresStore = run(open_on_loop())
    return result


class BlockingKit:
    """LicenseKit's methods over an AsyncLicenseKit (see the module docstring).

    The parts a test reads or swaps (store, mailer, clock...) are the synchronous ones it
    gave: the store behind the ThreadedStore, the mailer behind the ThreadedMailer.
    """

    def __init__(self, store: Any, mailer: Any, **kwargs: Any) -> None:
        self._sync_store = store
        self._sync_mailer = mailer
        served = _native(store) if isinstance(store, PostgresStore) else store
        self._async = AsyncLicenseKit(served, mailer, **kwargs)

    def __getattr__(self, name: str) -> Any:  # the rare part a test reaches for (_ctx...)
        return getattr(self._async, name)

    @property
    def store(self) -> Any:
        return self._sync_store

    @store.setter
    def store(self, value: Any) -> None:
        self._sync_store = value
        self._async.store = as_async_store(value)

    @property
    def mailer(self) -> Any:
        return self._sync_mailer

    @mailer.setter
    def mailer(self, value: Any) -> None:
        self._sync_mailer = value
        self._async.mailer = as_async_mailer(value)

    def close(self) -> None:
        run(self._async.aclose())  # a ThreadedStore's threads; the given store stays open

    def __enter__(self) -> BlockingKit:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _setter(name: str) -> Callable[[BlockingKit, Any], None]:
    def set_part(self: BlockingKit, value: Any) -> None:
        setattr(self._async, name, value)

    return set_part


def _getter(name: str) -> Callable[[BlockingKit], Any]:
    def get_part(self: BlockingKit) -> Any:
        return getattr(self._async, name)

    return get_part


for _name, _value in vars(LicenseKit).items():
    if _name in ("clock", "passwords", "settings", "templates"):
        setattr(BlockingKit, _name, property(_getter(_name), _setter(_name)))
    elif not _name.startswith("_") and not isinstance(_value, property) and _name != "close":
        setattr(BlockingKit, _name, _blocking(_name))


def natively_async(kit: object) -> bool:
    """Whether *kit* runs through the native async PostgreSQL store (not the store it shows).

    Tests that patch the synchronous store's internals skip then: nothing of theirs runs.
    """
    return isinstance(kit, BlockingKit) and isinstance(kit._async.store, AsyncPostgresStore)
