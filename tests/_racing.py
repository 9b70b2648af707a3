"""Races for the concurrency tests: calls run in threads released at once."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator

import pytest

from licensekit import LicenseKitError


@pytest.fixture(autouse=True)
def eager_thread_switching() -> Iterator[None]:
    """Switch threads every microsecond, so that races interleave inside use cases.

    Imported by a test module, it applies to each of that module's tests.
    """
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def race(calls: list[Callable[[], object]], *, timeout: float = 120) -> list[object]:
    """Run *calls* in threads released at once; return each result or licensekit error.

    Fails when a thread does not finish within *timeout* seconds, or dies of an error that
    is not licensekit's.
    """
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        barrier.wait(timeout=10)
        try:
            results[index] = call()
        except LicenseKitError as e:
            results[index] = e

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a racing thread did not finish"
    assert all(r is not None for r in results), "a racing thread died of an unexpected error"
    return results
