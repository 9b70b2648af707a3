"""Worker functions that the tests of several processes run, on SQLite or PostgreSQL.

They live in a module of their own so that the "spawn" start method can import them by name in
a fresh interpreter. Each worker opens its own LicenseKit on the shared database file.
"""

from __future__ import annotations

import traceback
from collections import Counter
from typing import Any

from licensekit.exceptions import SeatsFull
from licensekit.storage import Store
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import make_licensekit


def open_store(target: str) -> Store:
    """The store *target* names: ``postgres:<schema>`` on the tests' database, else a file."""
    if target.startswith("postgres:"):
        from _postgres import DSN
        from licensekit.stores.postgres import PostgresStore

        return PostgresStore(DSN, schema=target.removeprefix("postgres:"))
    return SQLiteStore(target, synchronous="normal")


def activate_computers(
    path: str,
    worker: int,
    codes: list[str],
    start: Any,
    results: Any,
) -> None:
    """Activate one computer per code once *start* (a Barrier) releases every worker.

    Puts ``(worker, outcomes)`` on *results*: a dict from outcome to count, where the outcome
    is ``"activated"``, ``"SeatsFull"``, or the type and message of anything else (which the
    test counts as a failure). A crash of the worker itself is reported the same way.
    """
    outcomes: Counter[str] = Counter()
    try:
        kit = make_licensekit(store=open_store(path))
        try:
            start.wait(timeout=60)
            for n, code in enumerate(codes):
                try:
                    result = kit.activate(code=code, computer_id=f"pc-{worker}-{n}")
                except SeatsFull:
                    outcomes["SeatsFull"] += 1
                except Exception as e:  # every other outcome is counted, and must be zero
                    outcomes[f"{type(e).__name__}: {e}"] += 1
                else:
                    outcomes["activated" if not result.already_active else "already_active"] += 1
        finally:
            kit.close()
    except BaseException:
        start.abort()  # the other workers stop waiting for this one
        outcomes[f"worker crashed: {traceback.format_exc()}"] += 1
    results.put((worker, dict(outcomes)))
