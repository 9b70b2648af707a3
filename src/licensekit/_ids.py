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

__all__ = ["IdFactory", "new_id", "new_ids"]


_NOISE_BYTES = 5  # the random tail of an id: 40 bits, ten hexadecimal digits
_NOISE_BATCH = 256  # tails read from the operating system at once
_MOST_HEADS = 64  # prefixes whose formatted head is kept (licensekit uses about a dozen)


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
        self._noise = ""  # random tails, as hexadecimal text
        self._used = 0
        self._last_now: tuple[dt.datetime | None, int] = (None, 0)
        # Each prefix's head (``evt_0193a1b2c3d4_``) with its milliseconds: formatting them
        # is the dearest part of an id, and the ids of one call share their milliseconds.
        self._heads: dict[str, tuple[int, str]] = {}
        if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
            alive = weakref.ref(self)  # the hook must not keep the factory alive
            os.register_at_fork(
                after_in_child=lambda: None if (f := alive()) is None else f._forget_noise()
            )

    def _milliseconds(self, now: dt.datetime) -> int:
        """*now* in milliseconds since the epoch, remembered for the next id made at *now*."""
        ms = int(now.timestamp() * 1000)
        self._last_now = (now, ms)  # one tuple, replaced whole: threads see a matching pair
        return ms

    def _forget_noise(self) -> None:
        self._lock = threading.Lock()  # a thread of the parent may have held it at the fork
        self._noise, self._used = "", 0

    def new(self, prefix: str, now: dt.datetime) -> str:
        """Return a fresh id with *prefix*, ordered after every id this factory made before."""
        last = self._last_now  # a call makes several ids at one instant: its milliseconds
        ms = last[1] if last[0] is now else self._milliseconds(now)
        with self._lock:
            if ms <= self._last_ms:
                ms = self._last_ms
                self._counter += 1
            else:
                self._last_ms = ms
                self._counter = 0
            counter = self._counter
            start = self._used
            if start >= len(self._noise):  # the batch is kept as hexadecimal text
                self._noise, start = os.urandom(_NOISE_BYTES * _NOISE_BATCH).hex(), 0
            self._used = start + 2 * _NOISE_BYTES
            noise = self._noise[start : start + 2 * _NOISE_BYTES]  # before another refill
        head = self._heads.get(prefix)
        if head is None or head[0] != ms:
            if len(self._heads) >= _MOST_HEADS:
                self._heads.clear()
            head = self._heads[prefix] = (ms, f"{prefix}_{ms:012x}_")
        # %-formatting: a quarter of the cost of the format spec {counter:06x}.
        return f"{head[1]}{'%06x' % counter}_{noise}"  # noqa: UP031

    def many(self, prefix: str, now: dt.datetime, count: int) -> list[str]:
        """Return *count* fresh ids with *prefix*, in order, as :meth:`new` would one by one.

        They take consecutive counter values under one hold of the lock, and their random
        tails are read from the operating system at once.
        """
        ms = int(now.timestamp() * 1000)
        noise = os.urandom(_NOISE_BYTES * count).hex()
        with self._lock:
            if ms <= self._last_ms:
                ms = self._last_ms
                first = self._counter + 1
            else:
                self._last_ms = ms
                first = 0
            self._counter = first + count - 1
        head = f"{prefix}_{ms:012x}_"
        width = 2 * _NOISE_BYTES
        return [
            f"{head}{counter:06x}_{noise[i * width : (i + 1) * width]}"
            for i, counter in enumerate(range(first, first + count))
        ]


_PROCESS_IDS = IdFactory()


def new_id(prefix: str, now: dt.datetime) -> str:
    """Return a fresh id from the process-wide factory.

    Every :class:`~licensekit.LicenseKit` in a process shares it, so ids made in one process
    sort in the order they were made, whichever instance made them. Across processes, ids
    sort by millisecond only.
    """
    return _PROCESS_IDS.new(prefix, now)


def new_ids(prefix: str, now: dt.datetime, count: int) -> list[str]:
    """Return *count* fresh ids from the process-wide factory, in order (see :func:`new_id`)."""
    if count <= 0:
        return []
    return _PROCESS_IDS.many(prefix, now, count)
