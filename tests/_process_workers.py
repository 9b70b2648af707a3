"""Worker functions that the tests of several processes run, on SQLite or PostgreSQL.

They live in a module of their own so that the "spawn" start method can import them by name in
a fresh interpreter. Each worker opens its own LicenseKit on the shared database: a SQLite file,
or a schema of the tests' PostgreSQL database (see :func:`open_store`).
"""

from __future__ import annotations

import queue
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from licensekit.exceptions import SeatsFull
from licensekit.mail import Message
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import RecordingMailer, make_licensekit

if TYPE_CHECKING:
    from licensekit.stores.postgres import PostgresStore


def run_workers(workers: list[Any], results: Any) -> dict[int, dict[str, int]]:
    """Start *workers*, return each one's report from *results*, and see that each ended well.

    Runs in the test's own process. Gives up waiting when no worker is left to send a report.
    """
    for worker in workers:
        worker.start()
    reports: dict[int, dict[str, int]] = {}
    try:
        deadline = time.monotonic() + 120
        while len(reports) < len(workers) and time.monotonic() < deadline:
            try:
                number, report = results.get(timeout=1)
            except queue.Empty:
                if not any(w.is_alive() for w in workers) and results.empty():
                    break
                continue
            reports[number] = report
    finally:
        for worker in workers:
            worker.join(timeout=60)
            if worker.is_alive():  # pragma: no cover - only when a worker hangs
                worker.kill()
                worker.join()
    results.close()
    results.join_thread()
    assert [w.exitcode for w in workers] == [0] * len(workers)
    assert sorted(reports) == list(range(len(workers)))
    return reports


def open_store(target: str, *, lock_timeout: float = 10.0) -> SQLiteStore | PostgresStore:
    """The store *target* names: ``postgres:<schema>`` on the tests' database, else a file.

    *lock_timeout* is the PostgreSQL store's (how long a statement waits for a scope).
    """
    if target.startswith("postgres:"):
        from _postgres import DSN
        from licensekit.stores.postgres import PostgresStore

        return PostgresStore(
            DSN, schema=target.removeprefix("postgres:"), lock_timeout=lock_timeout
        )
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


def activate_one(target: str, code: str, computer_id: str, results: Any) -> None:
    """Activate one computer, waiting as long as a minute for the scopes it locks.

    Puts the outcome on *results* when done: ``"activated"``, ``"SeatsFull"``, or the type
    and message of anything else (a crash of the worker included).
    """
    outcome = "worker crashed"
    try:
        kit = make_licensekit(store=open_store(target, lock_timeout=60.0))
        try:
            result = kit.activate(code=code, computer_id=computer_id)
            outcome = "activated" if not result.already_active else "already_active"
        except SeatsFull:
            outcome = "SeatsFull"
        except Exception as e:
            outcome = f"{type(e).__name__}: {e}"
        finally:
            kit.close()
    except BaseException:
        outcome = f"worker crashed: {traceback.format_exc()}"
    results.put(outcome)


class LoggingMailer(RecordingMailer):
    """Records every message, and appends a line per message to *log* before it returns.

    A line is ``<kind>\\t<recipient>``; a file survives its process, whatever ends it.
    """

    def __init__(self, log: Path) -> None:
        super().__init__()
        self.log = log

    def send(self, message: Message) -> None:
        super().send(message)
        with self.log.open("a", encoding="utf-8") as lines:
            lines.write(f"{message.kind.value}\t{message.to}\n")


def send_invitations(
    target: str,
    worker: int,
    token: str,
    account_id: str,
    key_id: str,
    calls: list[tuple[str, list[str] | None]],
    log: str,
    start: Any,
    results: Any,
) -> None:
    """Make the sending calls *calls* in order, once *start* (a Barrier) releases every worker.

    Each call is ``("install", ids)``, sending the invitations to install under the key
    *key_id* (``send_install_invitations``), or ``("join", ids)``, sending the invitations to
    join the account (``send_join_invitations``): those of *ids* or, with None, every one
    due. The mailer appends each message it sends to the file *log*. Puts
    ``(worker, outcomes)`` on *results*: how many invitations each kind of call reported sent
    (``"install sent"``, ``"join sent"``) and undelivered, and the type and message of any
    error (which the test counts as a failure).
    """
    outcomes: Counter[str] = Counter()
    try:
        kit = make_licensekit(store=open_store(target), mailer=LoggingMailer(Path(log)))
        try:
            start.wait(timeout=60)
            for kind, ids in calls:
                try:
                    if kind == "install":
                        report = kit.send_install_invitations(
                            token, account_id, key_id, invitation_ids=ids
                        )
                        sent, undelivered = len(report.sent), len(report.undelivered)
                    else:
                        joins = kit.send_join_invitations(token, account_id, invitation_ids=ids)
                        sent, undelivered = len(joins.sent), len(joins.undelivered)
                except Exception as e:
                    outcomes[f"{type(e).__name__}: {e}"] += 1
                else:
                    outcomes[f"{kind} sent"] += sent
                    outcomes[f"{kind} undelivered"] += undelivered
        finally:
            kit.close()
    except BaseException:
        start.abort()
        outcomes[f"worker crashed: {traceback.format_exc()}"] += 1
    results.put((worker, dict(outcomes)))
