"""Identifiers that sort in creation order: a prefix, a millisecond timestamp, a counter, noise.

``acc_0193a1b2c3d4_000000_7f3a9c01e2`` -- the timestamp comes from the clock the service was
given, so tests with a fake clock get reproducible ordering; the per-process counter keeps ids
made in the same millisecond in order; the random tail keeps processes apart.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import weakref

__all__ = ["IdFactory", "new_id"]


_NOISE_BYTES = 5  # the random tail of an id: 40 bits, ten hexadecimal digits
_NOISE_BATCH = 256  # tails read from the operating system at once


class IdFactory:
    """Makes time-ordered, unique string ids. Thread-safe and fork-safe.

    The random tails are read from the operating system's CSPRNG a batch at a time (one
    system call per 256 ids instead of one per id); a forked child forgets the batch it
    inherited, so that parent and child never hand out the same tails.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0
        self._noise = b""
        self._used = 0
        if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
            alive = weakref.ref(self)  # the hook must not keep the factory alive
            os.register_at_fork(
                after_in_child=lambda: None if (f := alive()) is None else f._forget_noise()
            )

    def _forget_noise(self) -> None:
        self._lock = threading.Lock()  # a thread of the parent may have held it at the fork
        self._noise, self._used = b"", 0

    def new(self, prefix: str, now: dt.datetime) -> str:
        """Return a fresh id with *prefix*, ordered after every id this factory made before."""
        ms = int(now.timestamp() * 1000)
        with self._lock:
            if ms <= self._last_ms:
                ms = self._last_ms
                self._counter += 1
            else:
                self._last_ms = ms
                self._counter = 0
            counter = self._counter
            if self._used >= len(self._noise):
                self._noise, self._used = os.urandom(_NOISE_BYTES * _NOISE_BATCH), 0
            start = self._used
            self._used = start + _NOISE_BYTES
            noise = self._noise[start : start + _NOISE_BYTES]  # before another refill
        return f"{prefix}_{ms:012x}_{counter:06x}_{noise.hex()}"


_PROCESS_IDS = IdFactory()


def new_id(prefix: str, now: dt.datetime) -> str:
    """Return a fresh id from the process-wide factory.

    Every :class:`~licensekit.LicenseKit` in a process shares it, so ids made in one process
    sort in the order they were made, whichever instance made them. Across processes, ids
    sort by millisecond only.
    """
    return _PROCESS_IDS.new(prefix, now)
