"""licensekit benchmarks: each workload beside its floor, measured in the same run.

The floor is the unavoidable work done directly with the underlying libraries; the ratio
licensekit / floor is what we track, because it holds on a noisy machine where absolute
times do not. Medians over several repetitions; no timing is asserted anywhere.

    python benchmarks/run.py              # full sizes: prints a table, writes results.json
    python benchmarks/run.py --quick      # tiny sizes: the smoke run CI does
    python benchmarks/run.py --only activation,growth
    python benchmarks/run.py --only bulk_feature,activation_feature   # beside feature floors
    python benchmarks/run.py --only pg_activation,pg_bulk,pg_contention
    python benchmarks/run.py --only aio_activation,aio_loop_stall
    python benchmarks/run.py --only peer      # django-organizations beside licensekit

The PostgreSQL workloads (``pg_*``, ``aio_activation``, and ``aio_loop_stall``'s PostgreSQL
part) use the database LICENSEKIT_BENCH_POSTGRES names (``dbname=test`` by default), a fresh
schema per run; without a reachable server they are skipped with a note.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import async_workloads
import contention_workloads
import growth_workloads
import installed_workloads
import peer_workloads
import pool_workloads
import postgres_workloads
import workloads
from _harness import Result

FULL = {
    "bulk": 10_000,
    "activations": 10_000,
    "processes": 8,
    "per_process": 250,
    "contention_seats": 1_000,
    "growth_small": 1_000,
    "growth_large": 1_000_000,
    "growth_probes": 200,
    "join": 1_000,
    "memory": 100_000,
    "repeat": 5,
    "slow_repeat": 3,
    "certificates": 2_000,
    "check_ins": 2_000,
    "cull": 100_000,
    "move": 10_000,
    "pg_bulk": 10_000,
    "pg_activations": 2_000,  # 10,000 would take minutes on PostgreSQL
    "pg_processes": 8,
    "pg_per_process": 250,
    "pg_remote_per_process": 80,
    "aio_activations": 200,
    "aio_accounts": 20,
    "aio_calls": 200,
    "peer": 200,
    "peer_install": 1,  # make the peer's virtual environment if it is missing
}
QUICK = {
    "bulk": 50,
    "activations": 50,
    "processes": 2,
    "per_process": 10,
    "contention_seats": 10,
    "growth_small": 20,
    "growth_large": 200,
    "growth_probes": 5,
    "join": 20,
    "memory": 200,
    "repeat": 2,
    "slow_repeat": 1,
    "certificates": 50,
    "check_ins": 50,
    "cull": 500,
    "move": 200,
    "pg_bulk": 50,
    "pg_activations": 30,
    "pg_processes": 2,
    "pg_per_process": 10,
    "pg_remote_per_process": 10,
    "aio_activations": 20,
    "aio_accounts": 4,
    "aio_calls": 20,
    "peer": 20,
    "peer_install": 0,  # CI installs nothing: the peer runs only if its environment exists
}

ROUND_TRIP = 0.002
"""Seconds the remote contention run adds to each round trip to PostgreSQL (a network hop)."""


def on_postgres(
    name: str, run: Callable[[list[Result]], list[Result]]
) -> Callable[[list[Result]], list[Result]]:
    """*run*, or no rows and a printed note when the PostgreSQL server is not reachable."""

    def guarded(done: list[Result]) -> list[Result]:
        reason = postgres_workloads.unavailable()
        if reason is not None:
            SKIPPED[name] = reason
            print(f"skipping {name}: {reason}", file=sys.stderr, flush=True)
            return []
        return run(done)

    return guarded


SKIPPED: dict[str, str] = {}
"""The workloads skipped in this run, and why."""


def postgres_reachable(name: str) -> bool:
    """Whether the PostgreSQL part of *name* can run; if not, a printed note says why."""
    reason = postgres_workloads.unavailable()
    if reason is not None:
        SKIPPED[name] = reason
        print(f"skipping {name}: {reason}", file=sys.stderr, flush=True)
    return reason is None


def with_skips(results: list[Result], skipped: dict[str, str]) -> list[Result]:
    """*results*, noting in :data:`SKIPPED` what their workload left out (*skipped*)."""
    SKIPPED.update(skipped)
    return results


def plan(size: dict[str, int]) -> dict[str, Callable[[list[Result]], list[Result]]]:
    """Each workload by name; a function of the results so far, returning its rows."""
    repeat, slow = size["repeat"], size["slow_repeat"]

    return {
        "bulk": lambda done: [
            workloads.bulk_invitation(size["bulk"], slow, "full"),
            workloads.bulk_invitation(size["bulk"], slow, "normal"),
        ],
        "activation": lambda done: [
            workloads.activation(size["activations"], slow, "full"),
            workloads.activation(size["activations"], slow, "normal"),
        ],
        "bulk_feature": lambda done: [
            workloads.bulk_feature(size["bulk"], slow, "full"),
            workloads.bulk_feature(size["bulk"], slow, "normal"),
            workloads.bulk_feature(size["bulk"], slow, "normal", plain_ascii=True),
        ],
        "activation_feature": lambda done: [
            workloads.activation_feature(size["activations"], slow, "full"),
            workloads.activation_feature(size["activations"], slow, "normal"),
        ],
        "pool_activation": lambda done: [
            pool_workloads.dynamic_activation(size["activations"] // 5, repeat, "full"),
            pool_workloads.dynamic_activation(size["activations"] // 5, repeat, "normal"),
        ],
        "contention": lambda done: [
            *contention_workloads.contention(
                size["processes"], size["per_process"], size["contention_seats"], slow, "full"
            ),
            *contention_workloads.contention(
                size["processes"], size["per_process"], size["contention_seats"], slow, "normal"
            ),
        ],
        "growth": lambda done: growth_workloads.growth(
            size["growth_small"], size["growth_large"], size["growth_probes"]
        ),
        "join": lambda done: workloads.join_invitations(size["join"], repeat),
        "import": lambda done: workloads.import_time(max(repeat * 3, 3)),
        "memory": lambda done: [workloads.peak_memory(size["memory"])],
        "login": lambda done: [workloads.login(repeat)],
        "cert_issue": lambda done: [
            installed_workloads.certificate_issue(size["certificates"], repeat)
        ],
        "cert_verify": lambda done: [
            installed_workloads.certificate_verify(size["certificates"], repeat)
        ],
        "check_in": lambda done: [
            *installed_workloads.check_ins(size["check_ins"], repeat, "full"),
            *installed_workloads.check_ins(size["check_ins"], repeat, "normal"),
        ],
        "cull": lambda done: installed_workloads.culls(size["cull"], slow),
        "move": lambda done: workloads.moves(size["move"], slow),
        "pg_bulk": on_postgres(
            "pg_bulk", lambda done: [postgres_workloads.bulk_invitation(size["pg_bulk"], slow)]
        ),
        "pg_activation": on_postgres(
            "pg_activation",
            lambda done: [postgres_workloads.activation(size["pg_activations"], slow)],
        ),
        "pg_contention": on_postgres(
            "pg_contention",
            lambda done: postgres_workloads.contention(
                size["pg_processes"],
                size["pg_per_process"],
                slow,
                size["pg_remote_per_process"],
                ROUND_TRIP,
            ),
        ),
        "aio_activation": on_postgres(
            "aio_activation",
            lambda done: async_workloads.activation(
                size["aio_activations"], size["aio_accounts"], repeat
            ),
        ),
        "aio_loop_stall": lambda done: async_workloads.loop_stall(
            size["aio_calls"], repeat, postgres_reachable("aio_loop_stall (PostgreSQL part)")
        ),
        "peer": lambda done: with_skips(
            peer_workloads.peer(size["peer"], repeat, install=bool(size["peer_install"])),
            peer_workloads.SKIPPED,
        ),
    }


def table(results: list[Result]) -> str:
    lines = [f"{'workload':<78} {'licensekit':>12} {'floor':>12} {'ratio':>6} {'target':>7}"]
    for r in results:
        floor = f"{r.floor:>9.1f} {r.unit:<2}" if r.floor is not None else f"{'':>12}"
        ratio = f"{r.ratio:>6.2f}" if r.ratio is not None else f"{'':>6}"
        target = ""
        if r.target is not None:
            bound = f"<{r.target:g}" if r.floor is None else f"{r.target:g}x"
            if not r.lower_is_better:
                bound = f">={r.target:g}x" if r.floor is not None else f">{r.target:g}"
            target = f"{bound} {'ok' if r.met else 'MISS'}"
        lines.append(f"{r.label:<78} {r.licensekit:>9.1f} {r.unit:<2} {floor} {ratio} {target:>7}")
    lines += [r.note for r in results if r.note]
    lines += [f"skipped {name}: {reason}" for name, reason in SKIPPED.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a CI smoke run")
    parser.add_argument("--only", default="", help="comma-separated workloads to run")
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("results.json"))
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    workloads_by_name = plan(size)
    chosen = [w for w in args.only.split(",") if w] or list(workloads_by_name)
    unknown = sorted(set(chosen) - set(workloads_by_name))
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {sorted(workloads_by_name)}")
    results: list[Result] = []
    began = time.perf_counter()
    for name in chosen:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results.extend(workloads_by_name[name](results))
    report = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "quick": args.quick,
        "seconds": time.perf_counter() - began,
        "results": {r.name: r.as_json() for r in results},
        "skipped": SKIPPED,
    }
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(table(results))
    print(f"results written to {args.output} in {report['seconds']:.0f} s")


if __name__ == "__main__":
    main()
