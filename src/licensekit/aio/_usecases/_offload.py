"""Where slow, CPU-bound work runs: in a worker thread, off the event loop.

Argon2id takes tens of milliseconds a hash, during which an event loop that ran it would
answer nothing else. :func:`offload` runs such work in licensekit's own pool of CPU
threads, one fewer than the machine's cores (at least one), shared by every kit of the
process: more threads than that would only take the cores the event loop needs (measured:
with the loop's default executor, six threads on two cores, the loop stalled three times as
long). Waiting work (a synchronous mailer, a synchronous store) has threads of its own and
never queues behind hashing. A task cancelled while it waits stops waiting; the thread
finishes its work, whose result is dropped, and nothing was written: the use cases offload
before their transaction opens.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar, TypeVarTuple

__all__ = ["BATCH", "CPU_THREADS", "new_lock", "offload", "offload_batch"]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

BATCH = 64
"""How many items (secrets to make, messages to render) a batch needs to be offloaded."""

CPU_THREADS = max(1, (os.cpu_count() or 2) - 1)
"""The threads of the CPU pool: one fewer than the cores, so the event loop keeps one."""

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _forget_pool() -> None:
    """In a forked child: the parent's threads are not there; make a pool anew when asked."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def _cpu_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(CPU_THREADS, thread_name_prefix="licensekit-cpu")
        return _pool


async def offload(work: Callable[[*Ts], T], /, *args: *Ts) -> T:
    """Return ``work(*args)``, computed in a thread of the CPU pool."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_cpu_pool(), functools.partial(work, *args))


async def offload_batch(size: int, work: Callable[[*Ts], T], /, *args: *Ts) -> T:
    """Return ``work(*args)``: in the CPU pool for a batch of at least :data:`BATCH`.

    A small batch costs less than the trip to a thread and back.
    """
    if size < BATCH:
        return work(*args)
    return await offload(work, *args)


def new_lock() -> asyncio.Lock:
    """A lock for the tasks of one event loop (a thread lock, in the synchronous flavour)."""
    return asyncio.Lock()
