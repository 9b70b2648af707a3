"""Where slow, CPU-bound work runs: here, in the calling thread.

The use cases hand Argon2id hashing and verification, and the crypto and rendering of large
batches, to :func:`offload`. The async use cases (:mod:`licensekit.aio`) run it in a
worker thread, so that the event loop is never held; the synchronous ones, generated from
them, simply call it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, TypeVarTuple, Unpack

__all__ = ["offload"]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


def offload(work: Callable[[Unpack[Ts]], T], /, *args: *Ts) -> T:
    """Return ``work(*args)``."""
    return work(*args)
