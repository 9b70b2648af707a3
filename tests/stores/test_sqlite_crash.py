"""A process killed in the middle of a 10,000-recipient invitation batch leaves a sound file.

A child process (tests/_sqlite_crash_child.py) invites 10,000 new recipients into the same
SQLite file, round after round, and the parent kills it with SIGKILL at a random moment while
the batch is being written. After every kill the file passes ``PRAGMA integrity_check`` and
the batch is either wholly present or wholly absent, never a part; the batches of earlier
rounds are untouched.

The first round is not killed: it measures how long writing a batch takes, so that the kills
of the next rounds land at random moments inside that window. The child reports, through
markers on its standard output, how far it got, which tells how each kill landed; the test
makes sure at least one kill fell after half the batch's rows had been handed to SQLite and
before the commit (and then found the batch wholly absent).
"""

from __future__ import annotations

import contextlib
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from licensekit.model import AuditAction
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import make_business_account, make_licensekit

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

BATCH = 10_000
KILLED_ROUNDS = 5
EXTRA_ROUNDS = 5
CHILD = Path(__file__).resolve().parents[1] / "_sqlite_crash_child.py"


class Child:
    """The child process, with a thread that timestamps every marker it prints."""

    def __init__(self, path: Path, session: str, account_id: str, key_id: str, prefix: str):
        self.process = subprocess.Popen(  # noqa: S603 - our own script, run by this interpreter
            [
                sys.executable,
                str(CHILD),
                str(path),
                session,
                account_id,
                key_id,
                prefix,
                str(BATCH),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.markers: queue.Queue[tuple[float, str | None]] = queue.Queue()
        self.seen: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.markers.put((time.monotonic(), line.strip()))
        self.markers.put((time.monotonic(), None))

    def wait_for(self, marker: str) -> float:
        """Return when the child printed *marker*; fail if it ends or stalls before."""
        while True:
            try:
                at, line = self.markers.get(timeout=60)
            except queue.Empty:
                self.kill()
                pytest.fail(f"the child printed nothing for 60 s while we waited for {marker!r}")
            if line is None:
                self.finish()
                pytest.fail(f"the child ended before {marker!r}: {self.seen} {self.errors!r}")
            self.seen.append(line)
            if line == marker:
                return at

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.finish()

    def finish(self) -> None:
        """Wait for the child to end; collect every marker it printed and its stderr."""
        self.process.wait(timeout=60)
        self._reader.join(timeout=60)
        while not self.markers.empty():
            _, line = self.markers.get_nowait()
            if line is not None:
                self.seen.append(line)
        assert self.process.stderr is not None
        self.errors = self.process.stderr.read()
        self.process.stdout.close()  # type: ignore[union-attr]
        self.process.stderr.close()


def _count(connection: sqlite3.Connection, sql: str, *params: object) -> int:
    return int(connection.execute(sql, params).fetchone()[0])


def _check_file(path: Path, prefix: str) -> tuple[int, int, int]:
    """Check the file's integrity; return (this batch's invitations, all invitations, events)."""
    with contextlib.closing(sqlite3.connect(path)) as raw:  # the first opener recovers the log
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
        batch = _count(raw, "SELECT count(*) FROM install_invitations WHERE email LIKE ?", prefix)
        everything = _count(raw, "SELECT count(*) FROM install_invitations")
        events = _count(
            raw,
            "SELECT count(*) FROM audit_events WHERE action = ?",
            AuditAction.INSTALL_INVITATION_CREATED.value,
        )
    store = SQLiteStore(path)
    try:
        assert store.integrity_check() == []
    finally:
        store.close()
    return batch, everything, events


def test_killed_batches_are_all_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "licensekit.db"
    with make_licensekit(store=SQLiteStore(path)) as kit:
        admin, account = make_business_account(kit)
        key = kit.add_license_key(admin, account.id, product="Suite", value="K-CRASH", seats=10)
    args = (path, admin.token, account.id, key.id)

    # Round 0, not killed: the batch is written whole, and we learn how long writing takes.
    child = Child(*args, "round0")
    writing = child.wait_for("writing")
    write_time = child.wait_for("committed") - writing
    child.finish()
    assert child.process.returncode == 0, child.errors
    assert _check_file(path, "round0-%") == (BATCH, BATCH, BATCH)

    present = 1
    landed: Counter[str] = Counter()
    rounds = 0
    mid_write_kills = 0
    while rounds < KILLED_ROUNDS or (
        mid_write_kills == 0 and rounds < KILLED_ROUNDS + EXTRA_ROUNDS
    ):
        rounds += 1
        prefix = f"round{rounds}"
        child = Child(*args, prefix)
        if rounds <= KILLED_ROUNDS:
            child.wait_for("writing")
            time.sleep(random.uniform(0, write_time * 1.2))  # the random moment of the kill
        else:  # no kill landed mid-write yet: kill as soon as half the rows are in SQLite
            child.wait_for("half")
        child.kill()

        batch, everything, events = _check_file(path, f"{prefix}-%")
        assert batch in (0, BATCH), f"round {rounds}: {batch} of {BATCH} invitations survived"
        present += batch == BATCH
        assert everything == events == present * BATCH, f"round {rounds}"

        stage = (
            "committed"
            if "committed" in child.seen
            else "half"
            if "half" in child.seen
            else "writing"
        )
        outcome = "present" if batch else "absent"
        landed[f"after {stage!r}, {outcome}"] += 1
        if stage == "half" and outcome == "absent":
            mid_write_kills += 1

    print(f"\nwrite window {write_time:.3f} s; {rounds} kills: {dict(landed)}")
    assert mid_write_kills > 0, f"no kill landed in the middle of a batch: {dict(landed)}"
