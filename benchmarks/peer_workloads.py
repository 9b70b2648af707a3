"""The peer: licensekit beside django-organizations, inviting one member per call on SQLite.

django-organizations (with Django) runs in a virtual environment of its own,
``benchmarks/.peer-venv`` (``LICENSEKIT_BENCH_PEER_VENV`` names another), made once from
``benchmarks/peer/requirements.txt`` and kept (git ignores it); it is never a dependency of
licensekit. Its side is ``benchmarks/peer/django_orgs.py``, a long-lived child process that
sets up a minimal Django project on a SQLite file and answers "invite N members through this
path" commands, so that its runs alternate with licensekit's in the same run:

* ``form``: ``OrganizationUserAddForm`` validated and saved, as its "add a member" view does
  (a new inactive user, the invitation email, the membership row): the target's path;
* ``backend``: ``InvitationBackend.invite_by_email`` (the inactive user and the email);
* ``bare``: ``ModelInvitation.invite_by_email`` (one invitation row and its email).

Each sends through Django's in-memory ``locmem`` email backend. licensekit's side runs in
this process: ``invite_members(session, account, [address])`` one address per call, on a
SQLite file with ``synchronous="full"`` (the default), a recording mailer. The peer runs
twice: on the SQLite file as Django leaves it (rollback journal, ``synchronous`` FULL: the
target's rows) and with licensekit's pragmas (WAL, ``synchronous`` FULL). Rows are calls
per second, so the ratio is how many times faster licensekit is.

When the environment cannot be made (no network, no such package), the peer is skipped with
a printed note. ``--quick`` never makes it (CI must not spend minutes installing Django): it
runs licensekit's side alone unless the environment exists already.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Any

from _harness import ADMIN, Result, median_of, new_kit, sqlite_store, tempfile_dir, timed

from licensekit.storage import Transaction
from licensekit.stores.sqlite import SQLiteStore

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "peer" / "requirements.txt"
SCRIPT = HERE / "peer" / "django_orgs.py"
VENV = Path(os.environ.get("LICENSEKIT_BENCH_PEER_VENV", HERE / ".peer-venv"))
STAMP = "licensekit-peer-requirements.txt"
"""The requirements a finished environment was made from, kept inside it."""

PATHS = {
    "form": "its form path (OrganizationUserAddForm: user + membership)",
    "backend": "its invitation backend (invite_by_email: inactive user)",
    "bare": "its modeled invitation (ModelInvitation: one row)",
}
JOURNALS = {
    "default": "Django's SQLite defaults (rollback journal, synchronous FULL)",
    "wal": "licensekit's pragmas (WAL, synchronous FULL)",
}
TARGET = 15.0
"""How many times faster than the form path, on Django's defaults, licensekit must be."""

SKIPPED: dict[str, str] = {}
"""Why the peer did not run, when it did not (read by run.py for its closing lines)."""


def _python(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / "python"


def peer_python(*, install: bool) -> Path | str:
    """The peer environment's interpreter, made first if *install*; else why there is none."""
    wanted = REQUIREMENTS.read_text(encoding="utf-8")
    python, stamp = _python(VENV), VENV / STAMP
    if python.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == wanted:
        return python
    if not install:
        return (
            f"no peer environment at {VENV} (a full run makes it; --quick does not, so that "
            "CI installs nothing)"
        )
    print(f"making the peer's environment in {VENV} ...", file=sys.stderr, flush=True)
    shutil.rmtree(VENV, ignore_errors=True)
    steps = [
        [sys.executable, "-m", "venv", str(VENV)],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(REQUIREMENTS),
        ],
    ]
    for step in steps:
        try:
            done = subprocess.run(  # noqa: S603 - this interpreter, pip, our requirements
                step, capture_output=True, text=True, timeout=900, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            shutil.rmtree(VENV, ignore_errors=True)
            return f"cannot make the peer's environment ({type(e).__name__}: {e})"
        if done.returncode != 0:
            shutil.rmtree(VENV, ignore_errors=True)
            last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:]
            return f"cannot make the peer's environment ({' '.join(step[2:4])}: {''.join(last)})"
    stamp.write_text(wanted, encoding="utf-8")
    return python


class Peer:
    """The django-organizations child process on one SQLite file (see the module docstring).

    Args:
        python: The peer environment's interpreter.
        database: The SQLite file it makes and uses.
        journal: ``"default"`` or ``"wal"`` (see :data:`JOURNALS`).
    """

    def __init__(self, python: Path, database: Path, journal: str) -> None:
        # Its standard error, read only if it stops; closed by close().
        self._errors: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self._process = subprocess.Popen(  # noqa: S603 - the peer's interpreter, our script
            [str(python), str(SCRIPT), str(database), "--journal", journal],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            text=True,
        )
        self.setup: dict[str, Any] = self._answer()

    def _answer(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            self._process.wait(timeout=30)
            self._errors.seek(0)
            raise RuntimeError(f"the peer stopped: {self._errors.read()[-2000:]}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def invite(self, path: str, count: int) -> float:
        """Seconds the peer took for *count* invitations through *path*, each a new address."""
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"path": path, "count": count}) + "\n")
        self._process.stdin.flush()
        answer = self._answer()
        if answer["sent"] != count:
            raise RuntimeError(f"the peer's {path} path sent {answer['sent']} of {count} emails")
        return float(answer["seconds"])

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=60)
        self._errors.close()


class EveryCommitDurable:
    """A SQLite store whose ``transaction()`` takes no *durable* keyword: every commit syncs.

    licensekit as it was before the bookkeeping after sending stopped waiting for a disk sync
    (two syncs a call instead of one), measured beside it for comparison.
    """

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        self.protocol_version = store.protocol_version

    def transaction(self) -> AbstractContextManager[Transaction]:
        return self.store.transaction()

    def close(self) -> None:
        self.store.close()


class Licensekit:
    """licensekit's side: an administrator, a business account, a SQLite file ("full").

    With *relaxed* False, its store is an :class:`EveryCommitDurable`.
    """

    def __init__(self, database: Path, *, relaxed: bool = True) -> None:
        store = sqlite_store(database, "full")
        self.kit = new_kit(store if relaxed else EveryCommitDurable(store))  # type: ignore[arg-type]
        self.kit.register_user(*ADMIN, email_verified=True)
        self.admin = self.kit.log_in(*ADMIN)
        self.account_id = self.kit.create_business_account(self.admin, "Bench Corp").id
        self._serial = 0
        self.invite(20)  # warm-up: the statement cache, the templates, email-validator

    def invite(self, count: int) -> float:
        """Seconds for *count* calls, each inviting one new address."""
        emails = [f"member{self._serial + n}@example.com" for n in range(count)]
        self._serial += count
        mailer = self.kit.mailer
        before = len(mailer.messages())  # type: ignore[attr-defined]
        kit, admin, account_id = self.kit, self.admin, self.account_id

        def work() -> None:
            for email in emails:
                kit.invite_members(admin, account_id, [email])

        spent = timed(work)
        sent = len(mailer.messages()) - before  # type: ignore[attr-defined]
        if sent != count:
            raise RuntimeError(f"licensekit sent {sent} of {count} invitations")
        return spent

    def close(self) -> None:
        self.kit.close()


def peer(count: int, repeat: int, *, install: bool) -> list[Result]:
    """licensekit against django-organizations' three paths, on both journal settings."""
    python = peer_python(install=install)
    with tempfile_dir() as folder:
        ours = Licensekit(folder / "licensekit.db")
        synced = Licensekit(folder / "synced.db", relaxed=False)
        try:
            if isinstance(python, str):
                SKIPPED["peer"] = python
                print(f"skipping the peer: {python}", file=sys.stderr, flush=True)
                return [_alone(ours, synced, count, repeat)]
            return _beside(ours, synced, python, folder, count, repeat)
        finally:
            ours.close()
            synced.close()


def _alone(ours: Licensekit, synced: Licensekit, count: int, repeat: int) -> Result:
    """licensekit's row when the peer cannot run: one sync a call against two."""
    mine: list[float] = []
    twice: list[float] = []
    for _ in range(repeat):
        mine.append(ours.invite(count))
        twice.append(synced.invite(count))
    ours_s, twice_s = median_of(mine), median_of(twice)
    return Result(
        "peer_licensekit_alone",
        "1 member a call, SQLite full: one sync against two (no peer): calls/s",
        "/s",
        count / ours_s,
        count / twice_s,
        lower_is_better=False,
        details={
            "count": count,
            "licensekit_per_call_us": ours_s / count * 1e6,
            "licensekit_every_commit_durable_per_call_us": twice_s / count * 1e6,
        },
    )


def _beside(
    ours: Licensekit, synced: Licensekit, python: Path, folder: Path, count: int, repeat: int
) -> list[Result]:
    """The rows against the peer: its six runs a repetition, licensekit between each."""
    peers = {j: Peer(python, folder / f"django-{j}.db", j) for j in JOURNALS}
    try:
        for process in peers.values():  # warm-up: imports, templates, statements
            for path in PATHS:
                process.invite(path, 5)
        mine: list[float] = []
        twice: list[float] = []
        theirs: dict[tuple[str, str], list[float]] = {(j, p): [] for j in JOURNALS for p in PATHS}
        for _ in range(repeat):
            twice.append(synced.invite(count))
            for (journal, path), samples in theirs.items():
                mine.append(ours.invite(count))  # licensekit before every peer run
                samples.append(peers[journal].invite(path, count))
        setup = peers["default"].setup
    finally:
        for process in peers.values():
            process.close()
    ours_s, twice_s = median_of(mine), median_of(twice)
    versions = setup["versions"]
    results = []
    for (journal, path), samples in theirs.items():
        theirs_s = median_of(samples)
        settings = "Django defaults" if journal == "default" else "WAL"
        results.append(
            Result(
                f"peer_{path}_{journal}",
                f"1 member a call vs django-organizations {path}, {settings}: calls/s",
                "/s",
                count / ours_s,
                count / theirs_s,
                target=TARGET if (journal, path) == ("default", "form") else None,
                lower_is_better=False,
                details={
                    "count": count,
                    "licensekit_per_call_us": ours_s / count * 1e6,
                    "licensekit_every_commit_durable_per_call_us": twice_s / count * 1e6,
                    "peer_per_call_us": theirs_s / count * 1e6,
                    "peer_path": PATHS[path],
                    "peer_sqlite": JOURNALS[journal],
                    "peer_setup": setup,
                },
            )
        )
    per_call = {
        journal: ", ".join(
            f"{path} {median_of(theirs[(journal, path)]) / count * 1e3:.2f} ms" for path in PATHS
        )
        for journal in JOURNALS
    }
    results[-1].note = (
        f"peer: django-organizations {versions['django-organizations']} on Django "
        f"{versions['django']}, SQLite {versions['sqlite']}, {count:,} calls a run, medians of "
        f"{repeat}. licensekit {ours_s / count * 1e3:.3f} ms a call (SQLite, synchronous full: "
        f"one durable transaction, then the bookkeeping commit without a disk sync; "
        f"{twice_s / count * 1e3:.3f} ms with both commits synced, as before). "
        f"django-organizations a call, Django's defaults: {per_call['default']}; with WAL: "
        f"{per_call['wal']}"
    )
    return results
