"""Where slow, CPU-bound work runs: here, in the calling thread.

The use cases hand Argon2id hashing and verification, and the crypto and rendering of large
batches, to :func:`offload`. The async use cases (:mod:`licensekit.aio`) run it in a
worker thread, so that the event loop is never held; the synchronous ones, generated from
them, simply call it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar, TypeVarTuple, Unpack

__all__ = ["BATCH", "new_lock", "offload", "offload_batch"]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

BATCH = 64
"""How many items (secrets to make, messages to render) a batch needs to be offloaded."""


def offload(work: Callable[[Unpack[Ts]], T], /, *args: *Ts) -> T:
    """Return ``work(*args)``."""
    return work(*args)


def offload_batch(size: int, work: Callable[[*Ts], T], /, *args: *Ts) -> T:
    """Return ``work(*args)`` (*size* matters to the async flavour only)."""
    return work(*args)


def new_lock() -> threading.Lock:
    """A lock for the threads of one process (an asyncio lock, in the async flavour)."""
    return threading.Lock()
