"""The PostgreSQL workloads of benchmarks/run.py, each measured beside its floor in the same run.

Every run (licensekit's and each floor's) works in a fresh schema of the database
``LICENSEKIT_BENCH_POSTGRES`` names (``dbname=test`` by default), dropped afterwards.

A floor's tables are licensekit's own, copied with ``CREATE TABLE ... (LIKE ... INCLUDING
ALL)`` from a schema a :class:`~licensekit.stores.postgres.PostgresStore` made: the same
columns, types, defaults, CHECK constraints and indexes (not the foreign keys, which
``LIKE`` leaves out, as the SQLite floors have none). Its rows are copied from a data set
licensekit wrote, so they are as wide as licensekit's. Floors connect with plain psycopg
in autocommit mode and send one statement per round trip, with explicit BEGIN and COMMIT.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import multiprocessing
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import email_validator
from _harness import (
    ADMIN,
    PG_DSN,
    SECRET,
    Result,
    addresses,
    csv_text,
    licensing,
    median_of,
    new_kit,
    per_item,
    pg_connect,
    pg_conninfo,
    pg_schema,
    postgres_store,
    postgres_unreachable,
    quoted,
    timed,
)
from _latency_proxy import delayed, server_address

from licensekit import LicenseKit, SeatsFull
from licensekit.testing import RecordingMailer

__all__ = ["activation", "bulk_invitation", "contention", "unavailable"]

_KIT_TABLES = ("license_keys", "install_invitations", "installations")


@functools.cache
def unavailable() -> str | None:
    """Why the PostgreSQL workloads are skipped (the server is not reachable), or None."""
    return postgres_unreachable()


def _like(connection: Any, schema: str, template: str, tables: tuple[str, ...]) -> None:
    """Make *schema* with *tables* as licensekit made them in *template*, rows included."""
    connection.execute(f"CREATE SCHEMA {quoted(schema)}")
    for table in tables:
        connection.execute(
            f"CREATE TABLE {quoted(schema)}.{table} (LIKE {quoted(template)}.{table} INCLUDING ALL)"
        )
        stored = ", ".join(_columns(connection, template, table))
        connection.execute(
            f"INSERT INTO {quoted(schema)}.{table} ({stored}) "
            f"SELECT {stored} FROM {quoted(template)}.{table}"
        )


def _columns(connection: Any, schema: str, table: str) -> list[str]:
    """The columns of *table* that rows are written to (a generated one is computed)."""
    rows = connection.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s"
        " AND table_name = %s AND is_generated = 'NEVER' ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    return [str(r[0]) for r in rows]


def _digest(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _invited(schema: str, seats: int, emails: list[str]) -> tuple[LicenseKit, list[str]]:
    """A kit on a fresh licensekit *schema*: one key of *seats*, *emails* invited and sent."""
    bench = licensing(new_kit(postgres_store(schema), len(emails)), seats)
    bench.kit.invite_installers(bench.admin, bench.account_id, bench.key_id, emails)
    return bench.kit, [m.data["code"] for m in bench.mailer.messages()]


# == 1. activation by typed code ===========================================================


def activation(count: int, repeat: int) -> Result:
    """*count* activations by typed code in sequence, against the minimal raw transactions."""
    emails = addresses(count)
    key = secrets.token_bytes(32)
    with pg_schema() as template:
        # The floor's data set, written by licensekit: the key, *count* invitations and one
        # more, activated, whose installation is the template of the floor's inserts.
        kit, codes = _invited(template, count + 1, [*emails, "template@example.com"])
        kit.activate(code=codes[-1], computer_id="template-computer")
        kit.store.close()  # type: ignore[attr-defined]

        def ours() -> float:
            with pg_schema() as schema:
                kit, codes = _invited(schema, count, emails)

                def work() -> None:
                    for n, code in enumerate(codes):
                        kit.activate(code=code, computer_id=f"computer-{n}")

                try:
                    return timed(work)
                finally:
                    kit.store.close()  # type: ignore[attr-defined]

        def floor() -> float:
            with pg_schema() as schema, pg_connect() as connection:
                s = quoted(schema)
                _like(connection, schema, template, _KIT_TABLES)
                codes = [secrets.token_hex(12).upper() for _ in emails]
                connection.execute(  # the floor's own code hashes, matched by address
                    f"UPDATE {s}.install_invitations AS i SET code_hash = v.code_hash "
                    "FROM unnest(%s::text[], %s::bytea[]) AS v (email, code_hash) "
                    "WHERE i.email = v.email",
                    [emails, [_digest(key, c) for c in codes]],
                )
                columns = _columns(connection, schema, "installations")
                model = list(connection.execute(f"SELECT * FROM {s}.installations").fetchall()[0])
                where = {c: columns.index(c) for c in ("id", "computer_id", "token_hash")}
                invitation_at = columns.index("invitation_id")
                id_width = len(model[where["id"]]) - 5
                select = (
                    "SELECT id, key_id, activations, max_activations, expires_at "
                    f"FROM {s}.install_invitations WHERE code_hash = %s"
                )
                take = (
                    f"UPDATE {s}.license_keys SET seats_used = seats_used + 1 "
                    "WHERE id = %s AND seats_used < seats"
                )
                insert = (
                    f"INSERT INTO {s}.installations ({', '.join(columns)}) "
                    f"VALUES ({', '.join(['%s'] * len(columns))})"
                )
                used = f"UPDATE {s}.install_invitations SET activations = activations + 1 "
                used += "WHERE id = %s"
                cursor = connection.cursor()

                def work() -> None:
                    for n, code in enumerate(codes):
                        typed = "".join(code.split()).upper()
                        digest = _digest(key, typed)
                        token = secrets.token_urlsafe(24)
                        cursor.execute("BEGIN")
                        found = cursor.execute(select, [digest]).fetchone()
                        assert found is not None and found[2] < found[3]
                        taken = cursor.execute(take, [found[1]]).rowcount
                        assert taken == 1
                        row = model.copy()
                        row[where["id"]] = f"ins_F{n:0{id_width}d}"
                        row[where["computer_id"]] = f"computer-{n}"
                        row[where["token_hash"]] = _digest(key, token)
                        row[invitation_at] = found[0]
                        cursor.execute(insert, row)
                        cursor.execute(used, [found[0]])
                        cursor.execute("COMMIT")

                return timed(work)

        return per_item(
            "activation_postgres",
            f"{count:,} activations by typed code in sequence, PostgreSQL, each",
            count,
            ours,
            floor,
            repeat,
            target=1.5,
        )


# == 2. bulk invitation of installers from CSV =============================================


def bulk_invitation(count: int, repeat: int) -> Result:
    """Inviting *count* installers from CSV text, against validation, tokens and one COPY."""
    emails = addresses(count)
    text = csv_text(emails)
    key = secrets.token_bytes(32)
    table = "install_invitations"
    with pg_schema() as template:
        kit, _ = _invited(template, 1, ["template@example.com"])
        kit.store.close()  # type: ignore[attr-defined]

        def ours() -> float:
            with pg_schema() as schema:
                bench = licensing(new_kit(postgres_store(schema), count), count)
                try:
                    spent = timed(
                        lambda: bench.kit.invite_installers(
                            bench.admin, bench.account_id, bench.key_id, csv=text
                        )
                    )
                finally:
                    bench.kit.store.close()  # type: ignore[attr-defined]
                assert len(bench.mailer.messages()) == count
                return spent

        def floor() -> float:
            with pg_schema() as schema, pg_connect() as connection:
                s = quoted(schema)
                connection.execute(f"CREATE SCHEMA {s}")
                connection.execute(
                    f"CREATE TABLE {s}.{table} (LIKE {quoted(template)}.{table} INCLUDING ALL)"
                )
                columns = _columns(connection, template, table)
                # The model row in COPY's text form: the floor converts no value per row.
                model = list(
                    connection.execute(
                        f"SELECT {', '.join(f'{c}::text' for c in columns)} "
                        f"FROM {quoted(template)}.{table}"
                    ).fetchall()[0]
                )
                at = {c: columns.index(c) for c in ("id", "email", "code_hash", "token_hash")}
                id_width = len(model[at["id"]]) - 5
                copy = f"COPY {s}.{table} ({', '.join(columns)}) FROM STDIN"

                def work() -> None:
                    rows = []
                    for n, email in enumerate(emails):
                        email_validator.validate_email(email, check_deliverability=False)
                        token = secrets.token_urlsafe(24)
                        row = model.copy()
                        row[at["id"]] = f"iiv_F{n:0{id_width}d}"
                        row[at["email"]] = email
                        row[at["code_hash"]] = secrets.token_bytes(32)
                        row[at["token_hash"]] = _digest(key, token)
                        rows.append(row)
                    with connection.cursor() as cursor, cursor.copy(copy) as writing:
                        for row in rows:
                            writing.write_row(row)

                return timed(work)

        return per_item(
            "bulk_invitation_postgres",
            f"invite {count:,} installers from CSV, PostgreSQL, per invitation",
            count,
            ours,
            floor,
            repeat,
            target=2.0,
        )


# == 3. contention: processes on many accounts, or all on one ==============================


def _contend(
    conninfo: str,
    schema: str,
    codes: list[str],
    worker: int,
    start: Any,
    ready: Any,
    results: Any,
) -> None:
    kit = LicenseKit(
        postgres_store(schema, conninfo),
        RecordingMailer(),
        secret=SECRET,
        join_url="https://portal.example.com/join?token={token}",
    )
    ready.put(worker)
    ok = full = other = 0
    first_error = ""
    start.wait()
    began, cpu = time.perf_counter(), time.process_time()
    for n, code in enumerate(codes):
        try:
            kit.activate(code=code, computer_id=f"worker{worker}-computer{n}")
            ok += 1
        except SeatsFull:
            full += 1
        except Exception as e:  # counted, and the first one shown
            other += 1
            first_error = first_error or f"{type(e).__name__}: {e}"
    spent = time.perf_counter() - began
    results.put((ok, full, other, spent, time.process_time() - cpu, first_error))
    kit.close()
    kit.store.close()  # type: ignore[attr-defined]


def _ended(workers: list[Any]) -> None:
    """Wait for the *workers* to end; stop those still running after 60 s (a failed run)."""
    for w in workers:
        w.join(timeout=60)
        if w.is_alive():
            w.terminate()
            w.join()


def _round_trip(conninfo: str) -> float:
    """Median seconds of ``SELECT 1`` through *conninfo*: one round trip, as measured."""
    with pg_connect(conninfo) as connection:
        spent = [timed(lambda: connection.execute("SELECT 1").fetchone()) for _ in range(50)]
    return median_of(spent[10:])


def _machine_busy() -> tuple[float, float] | None:
    """Busy and total CPU ticks of the whole machine so far (Linux), or None."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return float(sum(fields) - idle), float(sum(fields))


class _Sessions(threading.Thread):
    """Samples what the workers' server sessions do, every 10 ms, from pg_stat_activity."""

    def __init__(self, application_name: str) -> None:
        super().__init__(daemon=True)
        self._name = application_name
        self._finished = threading.Event()
        self.samples: list[tuple[int, int, int]] = []  # (lock waits, active, in transaction)

    def run(self) -> None:
        with pg_connect() as connection:
            while not self._finished.is_set():
                row = connection.execute(
                    "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), "
                    "count(*) FILTER (WHERE state = 'active'), "
                    "count(*) FILTER (WHERE state = 'idle in transaction') "
                    "FROM pg_stat_activity WHERE application_name = %s",
                    [self._name],
                ).fetchone()
                assert row is not None
                self.samples.append((int(row[0]), int(row[1]), int(row[2])))
                self._finished.wait(0.01)

    def stop(self) -> dict[str, float]:
        self._finished.set()
        self.join()
        n = max(len(self.samples), 1)
        return {
            "samples": len(self.samples),
            "waiting_for_a_lock": sum(s[0] for s in self.samples) / n,
            "running_a_statement": sum(s[1] for s in self.samples) / n,
            "idle_in_transaction": sum(s[2] for s in self.samples) / n,
        }


def _contention_run(
    processes: int, per_process: int, accounts: int, delay: float = 0.0
) -> dict[str, Any]:
    """*processes* activating *per_process* codes each, spread over *accounts* accounts.

    Each account has one key with half as many seats as its codes; the processes take the
    codes in turn (with as many accounts as processes, each process has one account). With
    a *delay*, the processes reach the server through a proxy adding that much to every
    round trip (the setup and the checks do not).
    """
    attempts = processes * per_process
    per_account = attempts // accounts
    context = multiprocessing.get_context("fork")
    with pg_schema() as schema:
        kit = new_kit(postgres_store(schema), per_account)
        kit.register_user(*ADMIN, email_verified=True)
        admin = kit.log_in(*ADMIN)
        codes: list[str] = []
        for a in range(accounts):
            account = kit.create_business_account(admin, f"Bench Corp {a}")
            key = kit.add_license_key(
                admin,
                account.id,
                product="Bench",
                value=f"BENCH-{a:04d}-1111-2222",
                seats=max(per_account // 2, 1),
            )
            kit.invite_installers(admin, account.id, key.id, addresses(per_account, f"a{a}-"))
        mailer = kit.mailer
        assert isinstance(mailer, RecordingMailer)
        codes = [m.data["code"] for m in mailer.messages()]
        kit.close()
        kit.store.close()  # type: ignore[attr-defined]
        seats = accounts * max(per_account // 2, 1)
        # Process w takes codes w, w + processes, ...: with one account per process, that
        # account's codes only (codes[a * per_account:(a + 1) * per_account]).
        shares = (
            [codes[w * per_account : (w + 1) * per_account] for w in range(processes)]
            if accounts == processes
            else [codes[w::processes] for w in range(processes)]
        )
        tag = f"{schema}_{accounts}"
        round_trip = _round_trip(PG_DSN)
        with contextlib.ExitStack() as proxy:
            conninfo = pg_conninfo(application_name=tag)
            forwarding = None
            if delay:
                forwarding = proxy.enter_context(delayed(server_address(PG_DSN), delay))
                conninfo = pg_conninfo(conninfo, host="127.0.0.1", port=str(forwarding.port))
                round_trip = _round_trip(conninfo)
            start = context.Event()
            ready = context.Queue()
            results = context.Queue()
            workers = [
                context.Process(
                    target=_contend, args=(conninfo, schema, shares[w], w, start, ready, results)
                )
                for w in range(processes)
            ]
            for w in workers:
                w.start()
            proxy.callback(_ended, workers)
            for _ in workers:  # every worker's kit and store open
                ready.get(timeout=60)
            sessions = _Sessions(tag)
            sessions.start()
            busy_before = _machine_busy()
            proxy_before = forwarding.cpu_seconds() if forwarding else None
            began = time.perf_counter()
            start.set()
            outcomes = [results.get(timeout=600) for _ in workers]
            wall = time.perf_counter() - began
            busy_after = _machine_busy()
            proxy_after = forwarding.cpu_seconds() if forwarding else None
            observed = sessions.stop()
        with pg_connect() as connection:
            keys = connection.execute(
                f"SELECT k.seats, k.seats_used, (SELECT count(*) FROM {quoted(schema)}"
                ".installations AS i WHERE i.key_id = k.id AND i.status = 'active') "
                f"FROM {quoted(schema)}.license_keys AS k"
            ).fetchall()
    ok = sum(o[0] for o in outcomes)
    full = sum(o[1] for o in outcomes)
    other = sum(o[2] for o in outcomes)
    oversold = sum(
        max(active - key_seats, 0) + abs(used - active) for key_seats, used, active in keys
    ) + max(ok - seats, 0)
    machine = None
    if busy_before is not None and busy_after is not None:
        spent_ticks = busy_after[1] - busy_before[1]
        machine = (busy_after[0] - busy_before[0]) / spent_ticks if spent_ticks else None
    details: dict[str, Any] = {
        "processes": processes,
        "accounts": accounts,
        "round_trip_delay_ms": delay * 1e3,
        "round_trip_ms": None if round_trip is None else round_trip * 1e3,
        "attempts": attempts,
        "seats": seats,
        "activated": ok,
        "refused_seats_full": full,
        "other_errors": other,
        "first_other_error": next((o[5] for o in outcomes if o[5]), ""),
        "seats_used": sum(k[1] for k in keys),
        "active_installations": sum(k[2] for k in keys),
        "oversold": oversold,
        "wall_s": wall,
        "attempts_per_second": attempts / wall,
        "client_cpu_s": sum(o[4] for o in outcomes),
        "proxy_cpu_s": (
            proxy_after - proxy_before
            if proxy_before is not None and proxy_after is not None
            else None
        ),
        "machine_busy": machine,  # share of all cores busy during the run (any process)
        "sessions": observed,  # mean number of the workers' sessions in each state
    }
    assert oversold == 0 and other == 0 and ok == seats, details
    return details


def _compared(
    processes: int, per_process: int, repeat: int, delay: float, alone: bool
) -> tuple[list[dict[str, Any]], ...]:
    """Runs on as many accounts as processes, on one account (and by one process), in turn."""
    runs: tuple[list[dict[str, Any]], ...] = ([], [], [])
    for _ in range(repeat):
        runs[0].append(_contention_run(processes, per_process, processes, delay))
        runs[1].append(_contention_run(processes, per_process, 1, delay))
        if alone:
            runs[2].append(_contention_run(1, processes * per_process, 1, delay))
    return runs


def _rate(runs: list[dict[str, Any]]) -> float:
    return median_of([r["attempts_per_second"] for r in runs])


def _middle(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median throughput, shown with what was observed during it."""
    return sorted(runs, key=lambda r: r["attempts_per_second"])[len(runs) // 2]


def _described(name: str, run: dict[str, Any]) -> str:
    s, busy = run["sessions"], run["machine_busy"]
    return (
        f"  {name}: {run['attempts_per_second']:,.0f} attempts/s"
        + ("" if run["round_trip_ms"] is None else f" ({run['round_trip_ms']:.2f} ms a round trip)")
        + (
            ""
            if run["proxy_cpu_s"] is None
            else f", the proxy using {run['proxy_cpu_s'] / run['wall_s']:.0%} of a core"
        )
        + ", machine "
        f"{'?' if busy is None else f'{busy:.0%}'} busy; of {run['processes']} sessions on "
        f"average {s['waiting_for_a_lock']:.1f} waiting for a lock, "
        f"{s['running_a_statement']:.1f} running a statement, "
        f"{s['idle_in_transaction']:.1f} idle in a transaction"
    )


def contention(
    processes: int, per_process: int, repeat: int, remote_per_process: int, delay: float
) -> list[Result]:
    """*processes* processes on as many accounts, against the same processes on one account.

    Both runs do the same work: the same number of activations by code against half as many
    seats, in as many processes, each process with its own kit and store on one schema.
    Measured twice: on this machine's server directly, where a round trip costs CPU and the
    cores limit the many accounts; and through a proxy adding *delay* to every round trip
    (*remote_per_process* attempts each), a server a network hop away, where the one
    account's lock limits it. One process doing all the local work alone gives the
    sequential rate.
    """
    results: list[Result] = []
    for remote in (False, True):
        count = remote_per_process if remote else per_process
        count += count % 2  # an even count: every account has seats for exactly half its codes
        wait = delay if remote else 0.0
        many, one, alone = _compared(processes, count, repeat, wait, alone=not remote)
        attempts = processes * count
        shown = {"many_accounts": _middle(many), "one_account": _middle(one)}
        if alone:
            shown["one_process"] = _middle(alone)
        where = f"{wait * 1e3:g} ms added to each round trip" if remote else "local server"
        note = "\n".join(
            [
                f"contention on PostgreSQL, {where}: {attempts:,} attempts on "
                f"{attempts // 2:,} seats, medians of {repeat}:",
                *(_described(name, run) for name, run in shown.items()),
            ]
        )
        results.append(
            Result(
                "contention_postgres_remote" if remote else "contention_postgres",
                f"{processes} processes on {processes} accounts against on 1, "
                f"{'+' + format(wait * 1e3, 'g') + ' ms a round trip' if remote else 'local'}: "
                "attempts/s",
                "/s",
                _rate(many),
                _rate(one),
                target=3.0,
                lower_is_better=False,
                details={"repeat": repeat, "round_trip_delay_ms": wait * 1e3, **shown},
                note=note,
            )
        )
        if alone:
            results.append(
                Result(
                    "contention_postgres_one_process",
                    f"1 process, {attempts:,} attempts on {attempts // 2:,} seats, local: "
                    "attempts/s",
                    "/s",
                    _rate(alone),
                    details={"repeat": repeat},
                )
            )
    return results
