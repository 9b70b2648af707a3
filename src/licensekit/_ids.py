"""Identifiers that sort in creation order: a prefix, a millisecond timestamp, a counter, noise.

``acc_0193a1b2c3d4_000000_7f3a9c01e2`` -- the timestamp comes from the clock the service was
given, so tests with a fake clock get reproducible ordering; the per-process counter keeps ids
made in the same millisecond in order; the random tail keeps processes apart.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading

__all__ = ["IdFactory", "new_id"]


class IdFactory:
    """Makes time-ordered, unique string ids. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0

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
        return f"{prefix}_{ms:012x}_{counter:06x}_{secrets.token_hex(5)}"


_PROCESS_IDS = IdFactory()


def new_id(prefix: str, now: dt.datetime) -> str:
    """Return a fresh id from the process-wide factory.

    Every :class:`~licensekit.LicenseKit` in a process shares it, so ids made in one process
    sort in the order they were made, whichever instance made them. Across processes, ids
    sort by millisecond only.
    """
    return _PROCESS_IDS.new(prefix, now)
