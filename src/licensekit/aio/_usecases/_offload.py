"""Where slow, CPU-bound work runs: in a worker thread, off the event loop.

Argon2id takes tens of milliseconds a hash, during which an event loop that ran it would
answer nothing else. :func:`offload` runs such work in the event loop's default executor
(:func:`asyncio.to_thread`, which keeps the caller's context variables). A task cancelled
while it waits stops waiting; the thread finishes its work, whose result is dropped, and
nothing was written: the use cases offload before their transaction opens.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar, TypeVarTuple, Unpack

__all__ = ["BATCH", "offload", "offload_batch"]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

BATCH = 64
"""How many items (secrets to make, messages to render) a batch needs to be offloaded."""


async def offload(work: Callable[[Unpack[Ts]], T], /, *args: *Ts) -> T:
    """Return ``work(*args)``, computed in a worker thread."""
    return await asyncio.to_thread(work, *args)


async def offload_batch(size: int, work: Callable[[*Ts], T], /, *args: *Ts) -> T:
    """Return ``work(*args)``: in a worker thread for a batch of at least :data:`BATCH`.

    A small batch costs less than the trip to a thread and back.
    """
    if size < BATCH:
        return work(*args)
    return await asyncio.to_thread(work, *args)
