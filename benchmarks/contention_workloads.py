"""Workload 3, contention: processes activating on one SQLite file, fair writer queue on and off.

Several processes, each with its own ``LicenseKit`` and ``SQLiteStore`` on one file, activate
codes of one key that has seats for half of them: the first half of the attempts take a
seat, the other half are refused with ``SeatsFull`` (a cheaper transaction that writes
nothing). Activations and refusals are reported apart:

* how many a second (activations over the time until the last seat was taken; refusals over
  the time from then to the end), the activations beside one process alone doing the same
  attempts on a copy of the same file (the ratio is many processes / one, higher is better);
* how long each call took, the median, the 99th percentile and the slowest, pooled over the
  repetitions (a call's latency includes its wait for the write lock);
* the CPU time of all processes per attempt, which outside load on the machine moves less
  than it moves the rates (8 processes get a larger share of a busy machine than one);
* the CPU pressure during the runs (Linux's ``/proc/pressure/cpu``: the share of the time in
  which some runnable task waited for a CPU). Taken during the 1-process runs it is the
  outside load alone: above a few percent, the rates, their ratios and the slowest calls
  say more about the machine than about the lock.

Each repetition runs one process alone, then the processes with the store's fair queue of
writers (``writer_queue=True``, the default), then without it, each on a fresh copy of one
prepared file. Every run must take exactly the seats, refuse every other attempt with
``SeatsFull`` and raise nothing else; it fails otherwise.
"""

from __future__ import annotations

import math
import multiprocessing
import sqlite3
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _harness import Result, addresses, licensing, new_kit, sqlite_store, tempfile_dir

from licensekit import SeatsFull, SQLiteStore

ACTIVATED, REFUSED, OTHER = "activated", "refused", "other"


def _activate(
    path: str,
    codes: list[str],
    worker: int,
    synchronous: str,
    writer_queue: bool,
    start: Any,
    results: Any,
) -> None:
    """Activate a computer per code once *start* is set; report each call's outcome and time.

    Puts ``(began, calls, errors, cpu)`` on *results*: the moment (``time.monotonic``) this
    worker began, ``(outcome, ended, seconds)`` per call, the text of every unexpected error,
    and the CPU seconds the process spent on the calls (its helper threads' included).
    """
    store = SQLiteStore(path, synchronous=synchronous, writer_queue=writer_queue)  # type: ignore[arg-type]
    kit = new_kit(store)
    calls: list[tuple[str, float, float]] = []
    errors: list[str] = []
    start.wait()
    began, cpu = time.monotonic(), time.process_time()
    for n, code in enumerate(codes):
        before = time.monotonic()
        try:
            kit.activate(code=code, computer_id=f"worker{worker}-computer{n}")
            outcome = ACTIVATED
        except SeatsFull:
            outcome = REFUSED
        except Exception as e:  # counted, and the run fails
            outcome = OTHER
            errors.append(f"{type(e).__name__}: {e}")
        ended = time.monotonic()
        calls.append((outcome, ended, ended - before))
    results.put((began, calls, errors, time.process_time() - cpu))
    kit.close()
    store.close()


@dataclass
class _Run:
    """One run: every call of every process, and what the file holds afterwards."""

    processes: int
    began: float
    calls: list[tuple[str, float, float]]
    errors: list[str]
    seats_used: int
    active: int
    cpu: float
    """CPU seconds of every process's calls."""
    pressure: float | None
    """The share of the run in which some task waited for a CPU, or None if unknown."""

    def latencies(self, outcome: str) -> list[float]:
        return [seconds for kind, _, seconds in self.calls if kind == outcome]

    @property
    def seats_full_at(self) -> float:
        """When the last seat was taken (the last activation ended)."""
        ends = [ended for kind, ended, _ in self.calls if kind == ACTIVATED]
        return max(ends, default=self.began)

    @property
    def ended(self) -> float:
        return max((ended for _, ended, _ in self.calls), default=self.began)

    def per_second(self, outcome: str) -> float:
        """*outcome*s a second over their phase: up to the last seat, or after it."""
        count = len(self.latencies(outcome))
        if outcome == ACTIVATED:
            span = self.seats_full_at - self.began
        else:
            span = self.ended - self.seats_full_at
        return count / span if span > 0 else 0.0


def _run(
    template: Path, folder: Path, codes: list[str], processes: int, synchronous: str, queue: bool
) -> _Run:
    """Copy *template*, let *processes* activate *codes* on it (dealt out in turn), and read it."""
    path = folder / f"run-{processes}-{queue}.db"
    path.unlink(missing_ok=True)
    with sqlite3.connect(template) as source, sqlite3.connect(path) as target:
        source.backup(target)
    source.close()
    target.close()
    context = multiprocessing.get_context("fork")
    start = context.Event()
    results = context.Queue()
    workers = [
        context.Process(
            target=_activate,
            args=(str(path), codes[w::processes], w, synchronous, queue, start, results),
        )
        for w in range(processes)
    ]
    for worker in workers:
        worker.start()
    time.sleep(0.3)  # every worker has opened its store and waits
    stalled, began = _stalled(), time.monotonic()
    start.set()
    reports = [results.get(timeout=600) for _ in workers]
    ended, stalled_after = time.monotonic(), _stalled()
    for worker in workers:
        worker.join()
    with sqlite3.connect(path) as raw:
        seats_used = raw.execute("SELECT seats_used FROM license_keys").fetchone()[0]
        active = raw.execute(
            "SELECT count(*) FROM installations WHERE status = 'active'"
        ).fetchone()[0]
    raw.close()
    for suffix in ("", "-wal", "-shm", "-writer.lock"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return _Run(
        processes,
        min(r[0] for r in reports),
        [call for r in reports for call in r[1]],
        [error for r in reports for error in r[2]],
        seats_used,
        active,
        sum(r[3] for r in reports),
        None
        if stalled is None or stalled_after is None
        else (stalled_after - stalled) / 1e6 / (ended - began),
    )


def _stalled() -> int | None:
    """Microseconds some task has waited for a CPU since boot (Linux PSI), or None."""
    try:
        with open("/proc/pressure/cpu", encoding="ascii") as f:
            some = f.readline().split()
    except OSError:
        return None
    for item in some:
        if item.startswith("total="):
            return int(item[len("total=") :])
    return None  # pragma: no cover - a kernel with another format


def _check(run: _Run, seats: int, attempts: int) -> None:
    """Fail unless *run* took exactly *seats* and refused the rest with ``SeatsFull`` only."""
    activated, refused = len(run.latencies(ACTIVATED)), len(run.latencies(REFUSED))
    facts = {
        "processes": run.processes,
        "activated": activated,
        "refused": refused,
        "other_errors": run.errors[:5],
        "seats_used": run.seats_used,
        "active_installations": run.active,
    }
    assert not run.errors, facts
    assert activated == seats == run.seats_used == run.active, facts
    assert refused == attempts - seats, facts


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)] if ordered else 0.0


@dataclass
class _Pooled:
    """The runs of one kind (one process alone, or the processes with or without the queue)."""

    runs: list[_Run] = field(default_factory=list)

    def rate(self, outcome: str) -> float:
        return statistics.median(r.per_second(outcome) for r in self.runs)

    def latency_ms(self, outcome: str) -> dict[str, float]:
        every = [s for r in self.runs for s in r.latencies(outcome)]
        return {
            "median": statistics.median(every) * 1e3 if every else 0.0,
            "p99": _percentile(every, 0.99) * 1e3,
            "max": max(every, default=0.0) * 1e3,
        }

    def details(self) -> dict[str, object]:
        return {
            "activations_per_second": [r.per_second(ACTIVATED) for r in self.runs],
            "refusals_per_second": [r.per_second(REFUSED) for r in self.runs],
            "activation_ms": self.latency_ms(ACTIVATED),
            "refusal_ms": self.latency_ms(REFUSED),
            "wall_s": [r.ended - r.began for r in self.runs],
            "cpu_ms_per_attempt": self.cpu_ms(),
            "cpu_pressure": [r.pressure for r in self.runs],
        }

    def pressure(self) -> float | None:
        """The median CPU pressure of the runs (0 to 1), or None if unknown."""
        known = [r.pressure for r in self.runs if r.pressure is not None]
        return statistics.median(known) if known else None

    def cpu_ms(self) -> float:
        """Median CPU milliseconds per call (activation or refusal), all processes counted."""
        return statistics.median(r.cpu / len(r.calls) * 1e3 for r in self.runs if r.calls)


_TITLES = (("one", "1 process"), ("queue", "fair queue"), ("no_queue", "no queue"))


def _latency_label(latency: dict[str, float]) -> str:
    return f"median {latency['median']:.2f}, p99 {latency['p99']:.1f}"


def contention(
    processes: int, per_process: int, seats: int, repeat: int, synchronous: str = "full"
) -> list[Result]:
    """The contention rows: per queue setting, activations a second, the slowest, refusals."""
    attempts = processes * per_process
    kinds = {"one": _Pooled(), "queue": _Pooled(), "no_queue": _Pooled()}
    with tempfile_dir() as folder:
        template = folder / "template.db"
        bench = licensing(new_kit(sqlite_store(template, synchronous), attempts), seats)
        emails = addresses(attempts)
        bench.kit.invite_installers(bench.admin, bench.account_id, bench.key_id, emails)
        codes = [m.data["code"] for m in bench.mailer.messages()]
        bench.kit.store.close()  # type: ignore[attr-defined]
        for _ in range(repeat):
            for kind, count, queue in (
                ("one", 1, True),
                ("queue", processes, True),
                ("no_queue", processes, False),
            ):
                run = _run(template, folder, codes, count, synchronous, queue)
                _check(run, seats, attempts)
                kinds[kind].runs.append(run)
    one = kinds["one"]
    rows: list[Result] = []
    what = f"{processes} processes on one SQLite file ({synchronous})"
    for kind, title in (("queue", "fair queue"), ("no_queue", "no queue")):
        pooled = kinds[kind]
        activation, refusal = pooled.latency_ms(ACTIVATED), pooled.latency_ms(REFUSED)
        details = {
            "processes": processes,
            "attempts": attempts,
            "seats": seats,
            "synchronous": synchronous,
            "writer_queue": kind == "queue",
            "repetitions": repeat,
            **pooled.details(),
            "one_process": one.details(),
        }
        name = f"contention_sqlite_{synchronous}_{kind}"
        rows += [
            Result(
                f"{name}_activations",
                f"{what}, {title}: activations/s, beside 1 process",
                "/s",
                pooled.rate(ACTIVATED),
                one.rate(ACTIVATED),
                target=1.0,
                lower_is_better=False,
                details=details,
            ),
            Result(
                f"{name}_slowest_activation",
                f"  {title}: slowest activation, ms ({_latency_label(activation)})",
                "ms",
                activation["max"],
                target=100.0,
            ),
            Result(
                f"{name}_refusals",
                f"  {title}: refusals/s, beside 1 process",
                "/s",
                pooled.rate(REFUSED),
                one.rate(REFUSED),
            ),
            Result(
                f"{name}_slowest_refusal",
                f"  {title}: slowest refusal, ms ({_latency_label(refusal)})",
                "ms",
                refusal["max"],
            ),
        ]
    single = one.latency_ms(ACTIVATED)
    cpu = ", ".join(f"{title} {kinds[kind].cpu_ms():.2f} ms" for kind, title in _TITLES)
    pressures = [(title, kinds[kind].pressure()) for kind, title in _TITLES]
    pressure = ", ".join(f"{title} {share:.0%}" for title, share in pressures if share is not None)
    rows[-1].note = (
        f"contention, SQLite ({synchronous}), {attempts:,} attempts on {seats:,} seats: "
        "1 process alone: activation "
        f"{_latency_label(single)}, slowest {single['max']:.1f} ms; CPU per attempt: {cpu}; "
        + (f"CPU pressure (some task waiting for a CPU): {pressure}; " if pressure else "")
        + f"every run took exactly {seats:,} seats and refused the other {attempts - seats:,} "
        "attempts with SeatsFull, no other error"
    )
    return rows
