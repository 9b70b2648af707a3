"""The async workloads of benchmarks/run.py: :class:`~licensekit.aio.AsyncLicenseKit` under load.

1. ``aio_activation``: a burst of concurrent activations on PostgreSQL, each a distinct
   computer with its own code (the codes spread over several accounts, one key each), each
   a task of one event loop (``asyncio.gather``) through ``AsyncLicenseKit`` over
   ``AsyncPostgresStore``, against the same burst through the synchronous ``LicenseKit``
   over ``PostgresStore`` from as many threads (a ``ThreadPoolExecutor``). Both stores have
   the same pool, :data:`POOL` connections, opened before the timing. The ratio is the
   async throughput over the threads' (higher is better); the p50 and p95 of the calls'
   latencies (from the call in its task or thread to its return, the wait for one of the
   pool's connections included) are rows too.
2. ``aio_loop_stall``: how late a probe task that sleeps 1 ms at a time wakes up while a
   burst of mixed calls runs beside it on the same loop (log-ins with the default Argon2id
   parameters, activations, check-ins, listings of installations, invitations to join),
   on the memory store served by ``ThreadedStore`` and on ``AsyncPostgresStore``. The
   contrast: the same probe while as many log-ins verify their password with Argon2id on
   the loop itself (what a log-in would cost the loop without the offloading).

Every PostgreSQL run works in a fresh schema of the database ``LICENSEKIT_BENCH_POSTGRES``
names (see :mod:`postgres_workloads`), dropped afterwards. Nothing here imports psycopg
unless a PostgreSQL workload runs.
"""

from __future__ import annotations

import asyncio
import gc
import math
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _harness import (
    ADMIN,
    PG_DSN,
    SECRET,
    Result,
    addresses,
    median_of,
    new_kit,
    pg_connect,
    pg_schema,
    quoted,
)

from licensekit import LicenseKit, MemoryStore, PasswordHasher
from licensekit.aio import AsyncLicenseKit, ThreadedStore
from licensekit.storage import Store
from licensekit.testing import RecordingMailer

__all__ = ["POOL", "activation", "loop_stall"]

POOL = 20
"""Connections of every PostgreSQL store measured here (``min_size`` = ``max_size``)."""

PROBE_PERIOD = 0.001
"""Seconds the loop-lag probe sleeps each time; how late it wakes up is the stall."""

STALL_TARGET_MS = 10.0

PASSWORD = ADMIN[1]
"""Every user's password (hashed with the default Argon2id parameters for the log-ins)."""
JOIN_URL = "https://portal.example.com/join?token={token}"
DOWNLOAD_URL = "https://downloads.example.com/get?token={token}"


def _percentile(values: list[float], p: float) -> float:
    """The *p*-th percentile of *values*, by nearest rank (an observed value)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


def _measured_kit(store: Any, kind: type[Any]) -> Any:
    """A kit to measure: the default (real) password hasher, a recording mailer."""
    return kind(
        store, RecordingMailer(), secret=SECRET, join_url=JOIN_URL, download_url=DOWNLOAD_URL
    )


def _postgres(schema: str, asynchronous: bool) -> Any:
    """licensekit's PostgreSQL store on *schema*, :data:`POOL` connections (opened first)."""
    from licensekit.stores.postgres import AsyncPostgresStore, PostgresStore

    kind = AsyncPostgresStore if asynchronous else PostgresStore
    return kind(PG_DSN, schema=schema, min_size=POOL, max_size=POOL)


# == 1. concurrent activations: one event loop against threads ============================


def _invite(kit: LicenseKit, accounts: int, count: int) -> list[str]:
    """*count* activation codes spread over *accounts* accounts (one key each), interleaved.

    The kit is a setup kit (``PasswordHasher.insecure_fast()``); each key has a seat for
    each of its codes.
    """
    kit.register_user(*ADMIN, email_verified=True)
    admin = kit.log_in(*ADMIN)
    per_account = [count // accounts + (a < count % accounts) for a in range(accounts)]
    mailer = kit.mailer
    assert isinstance(mailer, RecordingMailer)
    codes: list[list[str]] = []
    for a, share in enumerate(per_account):
        account = kit.create_business_account(admin, f"Bench Corp {a}")
        key = kit.add_license_key(
            admin, account.id, product="Bench", value=f"BENCH-{a:04d}-1111-2222", seats=share
        )
        mailer.clear()
        kit.invite_installers(admin, account.id, key.id, addresses(share, f"a{a}-"))
        codes.append([m.data["code"] for m in mailer.messages()])
    # Account by account in turn, so that any window of the burst spans many accounts.
    return [c[n] for n in range(max(per_account)) for c in codes if n < len(c)]


@dataclass
class _Burst:
    """One burst's outcome, in seconds: its wall time and each call's latency.

    A latency runs from the call's submission (its task made, or its job handed to the
    executor) to its return; *in_call* from the moment its task or thread started the call.
    """

    wall: float
    latencies: list[float]
    in_call: list[float]
    errors: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.wall


def _threads_burst(schema: str, warm: list[str], codes: list[str]) -> _Burst:
    """The synchronous kit, one thread per activation, all submitted at once."""
    kit = _measured_kit(_postgres(schema, asynchronous=False), LicenseKit)
    latencies: list[float] = []
    in_call: list[float] = []
    errors: list[str] = []

    def activate(code: str, computer: str, submitted: float) -> None:
        began = time.perf_counter()
        try:
            kit.activate(code=code, computer_id=computer)
        except Exception as e:  # counted, and shown
            errors.append(f"{type(e).__name__}: {e}")
        done = time.perf_counter()
        latencies.append(done - submitted)
        in_call.append(done - began)

    try:
        with ThreadPoolExecutor(max_workers=len(codes)) as executor:
            # Every thread started before the timing (the executor starts them lazily).
            started = threading.Barrier(len(codes))
            for waited in [executor.submit(started.wait) for _ in codes]:
                waited.result()
            for done in [
                executor.submit(activate, c, f"warm-{n}", time.perf_counter())
                for n, c in enumerate(warm)
            ]:
                done.result()
            latencies.clear()
            in_call.clear()
            began = time.perf_counter()
            running = [
                executor.submit(activate, c, f"computer-{n}", time.perf_counter())
                for n, c in enumerate(codes)
            ]
            for done in running:
                done.result()
            wall = time.perf_counter() - began
    finally:
        kit.close()
        kit.store.close()
    return _Burst(wall, latencies, in_call, errors)


def _loop_burst(schema: str, warm: list[str], codes: list[str]) -> _Burst:
    """The async kit, one task per activation on one event loop, all gathered at once."""

    async def burst() -> _Burst:
        latencies: list[float] = []
        in_call: list[float] = []
        errors: list[str] = []
        async with _postgres(schema, asynchronous=True) as store:
            kit = _measured_kit(store, AsyncLicenseKit)
            async with kit:  # the store's check, before the timing

                async def activate(code: str, computer: str, submitted: float) -> None:
                    began = time.perf_counter()
                    try:
                        await kit.activate(code=code, computer_id=computer)
                    except Exception as e:  # counted, and shown
                        errors.append(f"{type(e).__name__}: {e}")
                    done = time.perf_counter()
                    latencies.append(done - submitted)
                    in_call.append(done - began)

                def submitted(prefix: str, codes: list[str]) -> list[asyncio.Future[None]]:
                    return [
                        asyncio.ensure_future(activate(c, f"{prefix}-{n}", time.perf_counter()))
                        for n, c in enumerate(codes)
                    ]

                await asyncio.gather(*submitted("warm", warm))
                latencies.clear()
                in_call.clear()
                began = time.perf_counter()
                await asyncio.gather(*submitted("computer", codes))
                wall = time.perf_counter() - began
        return _Burst(wall, latencies, in_call, errors)

    return asyncio.run(burst())


def _activation_run(
    count: int, accounts: int, run: Callable[[str, list[str], list[str]], _Burst]
) -> _Burst:
    """One burst of *count* activations, plus a warm-up of :data:`POOL`, in a fresh schema."""
    with pg_schema() as schema:
        setup = new_kit(_postgres(schema, asynchronous=False), count + POOL)
        try:
            codes = _invite(setup, accounts, count + POOL)
        finally:
            setup.close()
            setup.store.close()  # type: ignore[attr-defined]
        burst = run(schema, codes[:POOL], codes[POOL:])
        with pg_connect() as connection:  # checked: one installation per activation
            row = connection.execute(
                f"SELECT count(*) FROM {quoted(schema)}.installations WHERE status = 'active'"
            ).fetchone()
        installations = row[0] if row else 0
    assert not burst.errors, burst.errors[:3]
    assert installations == count + POOL, (installations, count + POOL)
    return burst


def _latency_rows(
    name: str, count: int, loops: list[_Burst], threads: list[_Burst]
) -> list[Result]:
    rows = []
    for p in (50, 95):
        mine = median_of([_percentile(b.latencies, p) for b in loops])
        base = median_of([_percentile(b.latencies, p) for b in threads])
        rows.append(
            Result(
                f"{name}_p{p}",
                f"{count:,} concurrent activations, PostgreSQL: p{p} latency, "
                "1 loop against threads",
                "ms",
                mine * 1e3,
                base * 1e3,
            )
        )
    return rows


def activation(count: int, accounts: int, repeat: int) -> list[Result]:
    """*count* concurrent activations over *accounts* accounts: one loop against threads.

    Each repetition makes two fresh schemas, each with *count* + :data:`POOL` invitations
    (made by a setup kit with the fast password hasher): :data:`POOL` activations warm each
    side's pool, connections and statements up, then the *count* are timed, each a
    distinct computer with its own code. The threads' and the loop's runs alternate.
    """
    loops: list[_Burst] = []
    threads: list[_Burst] = []
    for _ in range(repeat):
        threads.append(_activation_run(count, accounts, _threads_burst))
        loops.append(_activation_run(count, accounts, _loop_burst))
    name = "aio_activation_postgres"
    what = f"{count:,} concurrent activations on {accounts} accounts, PostgreSQL, pool {POOL}"
    mine = median_of([b.per_second for b in loops])
    base = median_of([b.per_second for b in threads])

    def ms(values: list[float], p: float) -> str:
        return f"{_percentile(values, p) * 1e3:.0f}"

    def shown(bursts: list[_Burst]) -> str:
        return ", ".join(
            f"{b.per_second:,.0f}/s (p50 {ms(b.latencies, 50)}, p95 {ms(b.latencies, 95)}; "
            f"in the call {ms(b.in_call, 50)}, {ms(b.in_call, 95)} ms)"
            for b in bursts
        )

    note = "\n".join(
        [
            f"{what}, each run (latency from submission; in the call: from the task's or "
            "thread's start of the call):",
            f"  AsyncLicenseKit + AsyncPostgresStore, {count} tasks on 1 loop: {shown(loops)}",
            f"  LicenseKit + PostgresStore, {count} threads: {shown(threads)}",
        ]
    )
    details = {
        "count": count,
        "accounts": accounts,
        "pool": POOL,
        "repeat": repeat,
        "loop_per_second": [b.per_second for b in loops],
        "threads_per_second": [b.per_second for b in threads],
        "loop_wall_s": [b.wall for b in loops],
        "threads_wall_s": [b.wall for b in threads],
        "loop_in_call_p50_ms": [_percentile(b.in_call, 50) * 1e3 for b in loops],
        "threads_in_call_p50_ms": [_percentile(b.in_call, 50) * 1e3 for b in threads],
    }
    return [
        Result(
            name,
            f"{count:,} concurrent activations, PostgreSQL, pool {POOL}: 1 loop against {count} "
            "threads",
            "/s",
            mine,
            base,
            lower_is_better=False,
            details=details,
            note=note,
        ),
        *_latency_rows(name, count, loops, threads),
    ]


# == 2. the event loop's stalls beside mixed calls =========================================


async def _probe(lates: list[tuple[float, float]], stop: asyncio.Event) -> None:
    """Sleep :data:`PROBE_PERIOD` at a time until *stop*; note each wake-up and its delay."""
    while not stop.is_set():
        began = time.perf_counter()
        await asyncio.sleep(PROBE_PERIOD)
        woke = time.perf_counter()
        lates.append((woke, woke - began - PROBE_PERIOD))


def _scheduled() -> tuple[float, float] | None:
    """Seconds this thread ran on a CPU and waited, runnable, for one (Linux), or None."""
    try:
        ran, waited, _ = (
            Path(f"/proc/self/task/{threading.get_native_id()}/schedstat").read_text().split()
        )
    except (OSError, ValueError):
        return None
    return int(ran) / 1e9, int(waited) / 1e9


class _FullCollections:
    """The durations of the garbage collector's full (generation 2) passes while active."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._began = 0.0

    def __enter__(self) -> _FullCollections:
        gc.callbacks.append(self._seen)
        return self

    def __exit__(self, *exc_info: object) -> None:
        gc.callbacks.remove(self._seen)

    def _seen(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.seconds.append(time.perf_counter() - self._began)


async def _probed(
    load: Callable[[], Awaitable[object]], launched: list[float] | None = None
) -> dict[str, Any]:
    """The probe's stalls while *load* runs beside it on this loop, and what the loop did.

    A *load* that starts its calls at once notes in *launched* when it started them and
    when every call had run its first step (one loop iteration); the longest stall of
    the wake-ups due after that is then reported apart.

    The setup's garbage is collected first (the garbage collector stays on, as in a
    server); the loop thread's CPU time and its wait for a CPU are read from Linux's
    scheduler statistics where there are some.
    """
    gc.collect()
    lates: list[tuple[float, float]] = []
    stop = asyncio.Event()
    probe = asyncio.create_task(_probe(lates, stop))
    await asyncio.sleep(0.05)  # the probe settled; its idle samples are not counted
    first = len(lates)
    scheduled = _scheduled()
    began = time.perf_counter()
    try:
        with _FullCollections() as collections:
            await load()
    finally:
        stop.set()
        await probe
    wall = time.perf_counter() - began
    after = _scheduled()
    stalls = [late for _, late in lates[first:]]
    observed: dict[str, Any] = {
        "wall_s": wall,
        "samples": len(stalls),
        "longest_ms": max(stalls) * 1e3,
        "p99_ms": _percentile(stalls, 99) * 1e3,
        "median_ms": median_of(stalls) * 1e3,
        "loop_cpu_s": after[0] - scheduled[0] if scheduled and after else None,
        "loop_waiting_for_a_cpu_s": after[1] - scheduled[1] if scheduled and after else None,
        "full_collections_ms": [s * 1e3 for s in collections.seconds],
    }
    if launched:  # the stalls of wake-ups due after the calls' first steps
        start, end = launched
        observed["launch_ms"] = (end - start) * 1e3
        observed["longest_after_launch_ms"] = 1e3 * max(
            (late for woke, late in lates[first:] if woke - late > end), default=0.0
        )
    return observed


@dataclass
class _Mixed:
    """What a store's mixed calls need, made by a setup kit: sessions, codes, tokens, users."""

    admin: str
    account_id: str
    key_id: str
    users: list[str]
    codes: list[str]
    tokens: list[str]


def _mixed_setup(store: Store, share: int, repeat: int) -> _Mixed:
    """An account and key, *share* users with real Argon2id hashes, codes for every run.

    Everything is made with the synchronous kit over *store*; the users' passwords are
    hashed with the default :class:`PasswordHasher` (a log-in then verifies at full cost,
    with nothing to re-hash), the rest with the fast one.
    """
    kit = new_kit(store, share * (repeat + 1))
    kit.register_user(*ADMIN, email_verified=True)
    admin = kit.log_in(*ADMIN)
    account = kit.create_business_account(admin, "Bench Corp")
    key = kit.add_license_key(
        admin, account.id, product="Bench", value="BENCH-0000-1111-2222", seats=share * (repeat + 1)
    )
    kit.invite_installers(admin, account.id, key.id, addresses(share * (repeat + 1)))
    mailer = kit.mailer
    assert isinstance(mailer, RecordingMailer)
    codes = [m.data["code"] for m in mailer.messages()]
    tokens = [
        kit.activate(code=code, computer_id=f"checking-in-{n}").installation_token
        for n, code in enumerate(codes[:share])
    ]
    kit.passwords = PasswordHasher()
    users = addresses(share, "user")
    with ThreadPoolExecutor(4) as hashing:  # Argon2id releases the GIL
        list(hashing.map(lambda email: kit.register_user(email, PASSWORD), users))
    return _Mixed(admin.token, account.id, key.id, users, codes[share:], tokens)


def _mixed_calls(kit: AsyncLicenseKit, bench: _Mixed, share: int, run: int) -> list[Any]:
    """The coroutines of one run: *share* calls of each of five kinds, interleaved."""
    calls: list[tuple[str, Callable[[], Awaitable[object]]]] = []
    for n in range(share):
        code = bench.codes[run * share + n]
        invitees = [f"r{run}-m{n}-{e}@example.com" for e in range(3)]
        calls += [
            ("log_in", lambda n=n: kit.log_in(bench.users[n], PASSWORD)),
            ("activate", lambda c=code, n=n: kit.activate(code=c, computer_id=f"r{run}-c{n}")),
            ("check_in", lambda n=n: kit.check_in(bench.tokens[n])),
            (
                "list_installations",
                lambda: kit.list_installations(bench.admin, bench.account_id, bench.key_id),
            ),
            (
                "invite_members",
                lambda i=invitees: kit.invite_members(bench.admin, bench.account_id, i),
            ),
        ]
    return calls


async def _mixed_runs(
    kit: AsyncLicenseKit, bench: _Mixed, share: int, repeat: int
) -> list[dict[str, Any]]:
    """*repeat* runs of the mixed calls beside the probe; each run's stalls and latencies."""
    runs = []
    for run in range(repeat):
        calls = _mixed_calls(kit, bench, share, run)
        spent: dict[str, list[float]] = {kind: [] for kind, _ in calls[:5]}
        errors: list[str] = []

        async def timed_call(kind: str, call: Callable[[], Awaitable[object]]) -> None:
            began = time.perf_counter()
            try:
                await call()
            except Exception as e:  # counted, and shown
                errors.append(f"{kind}: {type(e).__name__}: {e}")
            spent[kind].append(time.perf_counter() - began)

        launched: list[float] = []

        async def load(calls: list[Any] = calls, launched: list[float] = launched) -> None:
            launched.append(time.perf_counter())
            tasks = [asyncio.ensure_future(timed_call(kind, call)) for kind, call in calls]
            await asyncio.sleep(0)  # back once every task has run its first step
            launched.append(time.perf_counter())
            await asyncio.gather(*tasks)

        observed = await _probed(load, launched)
        assert not errors, errors[:3]
        observed["calls_ms"] = {
            kind: {"p50": _percentile(times, 50) * 1e3, "max": max(times) * 1e3}
            for kind, times in spent.items()
        }
        runs.append(observed)
    return runs


def _memory_stall(share: int, repeat: int) -> list[dict[str, Any]]:
    memory = MemoryStore()
    bench = _mixed_setup(memory, share, repeat)

    async def main() -> list[dict[str, Any]]:
        threaded = ThreadedStore(memory)  # its default 8 workers
        try:
            async with _measured_kit(threaded, AsyncLicenseKit) as kit:
                return await _mixed_runs(kit, bench, share, repeat)
        finally:
            await threaded.aclose()

    return asyncio.run(main())


def _postgres_stall(share: int, repeat: int) -> list[dict[str, Any]]:
    with pg_schema() as schema:
        setup = _postgres(schema, asynchronous=False)
        try:
            bench = _mixed_setup(setup, share, repeat)
        finally:
            setup.close()

        async def main() -> list[dict[str, Any]]:
            store = _postgres(schema, asynchronous=True)
            async with store, _measured_kit(store, AsyncLicenseKit) as kit:
                return await _mixed_runs(kit, bench, share, repeat)

        return asyncio.run(main())


def _on_loop_stall(logins: int, repeat: int) -> list[dict[str, Any]]:
    """The contrast: *logins* Argon2id verifications called on the loop, beside the probe."""
    hasher = PasswordHasher()
    phc = hasher.hash(PASSWORD)

    async def log_in() -> None:
        await asyncio.sleep(0)  # as a request's handler would, before checking the password
        assert hasher.verify(PASSWORD, phc)

    async def main() -> list[dict[str, Any]]:
        runs = []
        for _ in range(repeat):

            async def load() -> None:
                await asyncio.gather(*(log_in() for _ in range(logins)))

            runs.append(await _probed(load))
        return runs

    return asyncio.run(main())


def _idle_probe() -> dict[str, Any]:
    """The probe on an idle loop for 0.3 s: the timer's own granularity."""
    return asyncio.run(_probed(lambda: asyncio.sleep(0.3)))


def _stall_rows(name: str, what: str, runs: list[dict[str, Any]], target: bool) -> list[Result]:
    """Two rows: the median of the runs' longest stalls (the worst in details), and of p99."""
    longest = [r["longest_ms"] for r in runs]
    return [
        Result(
            name,
            f"{what}: longest stall",
            "ms",
            median_of(longest),
            target=STALL_TARGET_MS if target else None,
            details={"repeat": len(runs), "worst_ms": max(longest), "runs": runs},
        ),
        Result(f"{name}_p99", f"{what}: p99 stall", "ms", median_of([r["p99_ms"] for r in runs])),
    ]


def _described(where: str, runs: list[dict[str, Any]]) -> str:
    def each(field: str) -> str:
        return ", ".join(f"{r[field]:.1f}" for r in runs)

    text = f"  {where}: longest {each('longest_ms')} ms, p99 {each('p99_ms')} ms"
    waited = [r["loop_waiting_for_a_cpu_s"] for r in runs]
    if None not in waited:
        text += (
            "; the loop thread waited for a CPU "
            + ", ".join(f"{w * 1e3:.0f}" for w in waited)
            + " ms of "
            + ", ".join(f"{r['wall_s'] * 1e3:.0f}" for r in runs)
        )
    if "launch_ms" in runs[0]:
        text += (
            f"; the first steps of all calls (one loop iteration) {each('launch_ms')} ms, "
            f"the longest stall after them {each('longest_after_launch_ms')} ms"
        )
    collected = [ms for r in runs for ms in r["full_collections_ms"]]
    if collected:
        text += "; full garbage collections " + ", ".join(f"{ms:.1f}" for ms in collected) + " ms"
    if "calls_ms" in runs[-1]:
        text += "; call latency p50 (max), last run: " + ", ".join(
            f"{kind} {t['p50']:.0f} ({t['max']:.0f}) ms" for kind, t in runs[-1]["calls_ms"].items()
        )
    return text


def loop_stall(calls: int, repeat: int, postgres: bool) -> list[Result]:
    """The probe's stalls beside *calls* mixed calls, on each store; the on-loop contrast.

    The calls are a fifth each: log-ins (the default Argon2id parameters), activations by
    code, check-ins, listings of the key's installations, invitations of 3 members, all
    gathered at once on one loop, with distinct users, codes and addresses. Each store is
    set up once for its *repeat* runs (rows: medians of the runs). With *postgres*,
    measured on ``AsyncPostgresStore`` too. The contrast runs as many Argon2id
    verifications as there are log-ins, each called in a task on the loop itself.
    """
    share = max(calls // 5, 1)
    stores: list[tuple[str, str, Callable[[int, int], list[dict[str, Any]]]]] = [
        ("memory", "memory store, ThreadedStore", _memory_stall)
    ]
    if postgres:
        stores.append(("postgres", "AsyncPostgresStore", _postgres_stall))
    results: list[Result] = []
    lines = []
    idle = _idle_probe()
    for short, where, measure in stores:
        runs = measure(share, repeat)
        what = f"{share * 5:,} mixed calls, {where}"
        results += _stall_rows(f"aio_loop_stall_{short}", what, runs, target=True)
        lines.append(_described(where, runs))
    contrast = _on_loop_stall(share, repeat)
    what = f"NOT licensekit: {share:,} Argon2id verifies ON the loop"
    results += _stall_rows("aio_loop_stall_on_loop", what, contrast, target=False)
    lines.append(_described(f"contrast, {share} Argon2id verifications on the loop", contrast))
    results[0].note = "\n".join(
        [
            f"loop stall: how late a task sleeping {PROBE_PERIOD * 1e3:g} ms at a time wakes "
            f"up, beside {share * 5:,} calls gathered at once (idle loop: longest "
            f"{idle['longest_ms']:.2f} ms, p99 {idle['p99_ms']:.2f} ms); each of {repeat} runs:",
            *lines,
        ]
    )
    results[0].details["idle_probe"] = idle
    return results
