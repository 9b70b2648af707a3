"""The workloads of benchmarks/run.py, each measured beside its floor in the same run.

A floor is the work no implementation can skip, done directly with the underlying libraries
(email-validator, ``secrets``, ``hmac``, ``sqlite3``, cryptography). SQLite floors use the
pragmas licensekit's store uses (WAL and the same ``synchronous`` setting) and write rows as
wide as licensekit's own, with the indexes the look-ups need.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import multiprocessing
import os
import secrets
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import email_validator
from _harness import (
    ADMIN,
    SECRET,
    Result,
    addresses,
    connect_raw,
    create_table,
    csv_text,
    interleaved,
    licensekit_columns,
    licensing,
    median_of,
    new_kit,
    per_item,
    sqlite_store,
    tempfile_dir,
    timed,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from licensekit import LicenseKit, MemoryStore, PasswordHasher, SeatsFull
from licensekit.testing import RecordingMailer

HERE = Path(__file__).resolve().parent


def _row_like(columns: list[str], n: int, **values: object) -> tuple[object, ...]:
    """A row as wide as licensekit's: ids and timestamps as text, hashes as 32 bytes."""
    row: list[object] = []
    for column in columns:
        if column in values:
            row.append(values[column])
        elif column == "id":
            row.append(f"row_{n:026d}")
        elif column.endswith("_hash"):
            row.append(secrets.token_bytes(32))
        elif column.endswith("_ciphertext"):
            row.append(secrets.token_bytes(80))
        elif column.endswith(("_at", "_until")):
            row.append("2026-11-25T12:00:00.000000+00:00")
        elif column in ("seats", "seats_used", "activations", "sent_count", "failures"):
            row.append(0)
        elif column in ("max_activations",):
            row.append(1)
        else:
            row.append(f"{column}-{n:08d}"[:32])
    return tuple(row)


def _timed_then_closed(connection: sqlite3.Connection, work: Callable[[], None]) -> float:
    spent = timed(work)
    connection.close()
    return spent


# == 1. bulk invitation of installers from a CSV into a SQLite file ========================


def bulk_invitation(count: int, repeat: int, synchronous: str) -> Result:
    emails = addresses(count)
    text = csv_text(emails)
    columns = licensekit_columns("install_invitations")
    key = secrets.token_bytes(32)

    def ours() -> float:
        with tempfile_dir() as folder:
            bench = licensing(new_kit(sqlite_store(folder / "bulk.db", synchronous), count), count)
            spent = timed(
                lambda: bench.kit.invite_installers(
                    bench.admin, bench.account_id, bench.key_id, csv=text
                )
            )
            assert len(bench.mailer.messages()) == count
            bench.kit.store.close()  # type: ignore[attr-defined]
            return spent

    def floor() -> float:
        with tempfile_dir() as folder:
            connection = connect_raw(folder / "floor.db", synchronous)
            create_table(
                connection, "invitations", columns, ["UNIQUE code_hash", "UNIQUE token_hash"]
            )

            def work() -> None:
                rows = []
                for n, email in enumerate(emails):
                    email_validator.validate_email(email, check_deliverability=False)
                    token = secrets.token_urlsafe(24)
                    digest = hmac.new(key, token.encode(), hashlib.sha256).digest()
                    rows.append(_row_like(columns, n, email=email, token_hash=digest))
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(
                    f"INSERT INTO invitations VALUES ({', '.join('?' * len(columns))})", rows
                )
                connection.execute("COMMIT")

            return _timed_then_closed(connection, work)

    return per_item(
        f"bulk_invitation_sqlite_{synchronous}",
        f"invite {count:,} installers from CSV, SQLite ({synchronous}), per invitation",
        count,
        ours,
        floor,
        repeat,
        target=1.5,
    )


# == 2. activation on a SQLite file ========================================================


def _invited_codes(bench_path: Path, count: int, synchronous: str) -> tuple[LicenseKit, list[str]]:
    bench = licensing(new_kit(sqlite_store(bench_path, synchronous), count), count)
    bench.kit.invite_installers(bench.admin, bench.account_id, bench.key_id, addresses(count))
    return bench.kit, [m.data["code"] for m in bench.mailer.messages()]


def activation(count: int, repeat: int, synchronous: str) -> Result:
    key = secrets.token_bytes(32)
    columns = {
        table: licensekit_columns(table)
        for table in ("license_keys", "install_invitations", "installations")
    }

    def ours() -> float:
        with tempfile_dir() as folder:
            kit, codes = _invited_codes(folder / "activate.db", count, synchronous)

            def work() -> None:
                for n, code in enumerate(codes):
                    kit.activate(code=code, computer_id=f"computer-{n}")

            spent = timed(work)
            kit.store.close()  # type: ignore[attr-defined]
            return spent

    def floor() -> float:
        with tempfile_dir() as folder:
            connection = connect_raw(folder / "floor.db", synchronous)
            keys, invitations, installations = columns.values()
            create_table(connection, "keys", keys, [])
            create_table(connection, "invitations", invitations, ["UNIQUE code_hash"])
            create_table(
                connection,
                "installations",
                installations,
                ["UNIQUE key_id, computer_id", "UNIQUE token_hash", "key_id, id"],
            )
            codes = [secrets.token_hex(12).upper() for _ in range(count)]
            connection.execute("BEGIN")
            connection.execute(
                f"INSERT INTO keys VALUES ({', '.join('?' * len(keys))})",
                _row_like(keys, 0, id="key", seats=count, seats_used=0),
            )
            connection.executemany(
                f"INSERT INTO invitations VALUES ({', '.join('?' * len(invitations))})",
                [
                    _row_like(
                        invitations,
                        n,
                        key_id="key",
                        code_hash=hmac.new(key, c.encode(), hashlib.sha256).digest(),
                    )
                    for n, c in enumerate(codes)
                ],
            )
            connection.execute("COMMIT")
            insert = f"INSERT INTO installations VALUES ({', '.join('?' * len(installations))})"

            def work() -> None:
                for n, code in enumerate(codes):
                    typed = "".join(code.split()).upper()
                    digest = hmac.new(key, typed.encode(), hashlib.sha256).digest()
                    connection.execute("BEGIN IMMEDIATE")
                    found = connection.execute(
                        "SELECT id, key_id, activations, max_activations, expires_at "
                        "FROM invitations WHERE code_hash = ?",
                        (digest,),
                    ).fetchone()
                    taken = connection.execute(
                        "UPDATE keys SET seats_used = seats_used + 1 "
                        "WHERE id = ? AND seats_used < seats",
                        (found[1],),
                    ).rowcount
                    assert taken == 1 and found[2] < found[3]
                    connection.execute(
                        insert,
                        _row_like(installations, n, key_id="key", computer_id=f"computer-{n}"),
                    )
                    connection.execute(
                        "UPDATE invitations SET activations = activations + 1 WHERE id = ?",
                        (found[0],),
                    )
                    connection.execute("COMMIT")

            return _timed_then_closed(connection, work)

    return per_item(
        f"activation_sqlite_{synchronous}",
        f"{count:,} activations by typed code in sequence, SQLite ({synchronous}), each",
        count,
        ours,
        floor,
        repeat,
        target=2.0,
    )


# == 3. contention: processes activating on one file ======================================


def _contend(path: str, codes: list[str], worker: int, start: object, results: object) -> None:
    kit = LicenseKit(
        sqlite_store(Path(path)),
        RecordingMailer(),
        secret=SECRET,
        join_url="https://portal.example.com/join?token={token}",
    )
    ok = full = other = 0
    start.wait()  # type: ignore[attr-defined]
    began = time.perf_counter()
    for n, code in enumerate(codes):
        try:
            kit.activate(code=code, computer_id=f"worker{worker}-computer{n}")
            ok += 1
        except SeatsFull:
            full += 1
        except Exception:
            other += 1
    results.put((ok, full, other, time.perf_counter() - began))  # type: ignore[attr-defined]
    kit.close()
    kit.store.close()  # type: ignore[attr-defined]


def contention(processes: int, per_process: int, seats: int, sequential: Result | None) -> Result:
    context = multiprocessing.get_context("fork")
    with tempfile_dir() as folder:
        path = folder / "contention.db"
        bench = licensing(new_kit(sqlite_store(path), processes * per_process), seats)
        bench.kit.invite_installers(
            bench.admin, bench.account_id, bench.key_id, addresses(processes * per_process)
        )
        codes = [m.data["code"] for m in bench.mailer.messages()]
        bench.kit.store.close()  # type: ignore[attr-defined]
        start = context.Event()
        results = context.Queue()
        workers = [
            context.Process(
                target=_contend,
                args=(str(path), codes[w::processes], w, start, results),
            )
            for w in range(processes)
        ]
        for w in workers:
            w.start()
        time.sleep(0.2)
        began = time.perf_counter()
        start.set()
        outcomes = [results.get() for _ in workers]
        wall = time.perf_counter() - began
        for w in workers:
            w.join()
        raw = sqlite3.connect(path)
        seats_used = raw.execute("SELECT seats_used FROM license_keys").fetchone()[0]
        active = raw.execute(
            "SELECT count(*) FROM installations WHERE status = 'active'"
        ).fetchone()[0]
        raw.close()
    ok = sum(o[0] for o in outcomes)
    full = sum(o[1] for o in outcomes)
    other = sum(o[2] for o in outcomes)
    oversold = max(active - seats, 0) + abs(seats_used - active) + max(ok - seats, 0)
    attempts = processes * per_process
    details: dict[str, object] = {
        "processes": processes,
        "attempts": attempts,
        "seats": seats,
        "activated": ok,
        "refused_seats_full": full,
        "other_errors": other,
        "active_installations": active,
        "seats_used": seats_used,
        "oversold": oversold,
        "wall_s": wall,
        "attempts_per_second": attempts / wall,
    }
    if sequential is not None:
        details["sequential_activations_per_second"] = sequential.details["per_s"]
    assert oversold == 0 and other == 0 and ok == seats, details
    return Result(
        "contention_sqlite",
        f"{processes} processes, {attempts:,} attempts on {seats:,} seats: attempts per second",
        "/s",
        attempts / wall,
        details=details,
    )


# == 4. growth: one activation and one page with many installations =======================


def _grown(folder: Path, existing: int, probes: int) -> tuple[LicenseKit, str, str, str, list[str]]:
    """A key with *existing* active installations written in bulk, and *probes* fresh codes."""
    path = folder / f"growth-{existing}.db"
    bench = licensing(new_kit(sqlite_store(path, "normal"), probes), existing + 2 * probes)
    bench.kit.invite_installers(
        bench.admin, bench.account_id, bench.key_id, ["bulk@example.com"], send=False
    )
    invitation = bench.kit.list_install_invitations(
        bench.admin, bench.account_id, bench.key_id
    ).items[0]
    bench.kit.store.close()  # type: ignore[attr-defined]
    columns = licensekit_columns("installations")
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("PRAGMA foreign_keys = ON")
    raw.execute("BEGIN IMMEDIATE")
    raw.executemany(
        f"INSERT INTO installations VALUES ({', '.join('?' * len(columns))})",
        (
            _row_like(
                columns,
                n,
                id=f"ins_0{n:025d}",  # older than any id licensekit makes now
                account_id=bench.account_id,
                key_id=bench.key_id,
                invitation_id=invitation.id,
                status="active",
                last_state="active",
                deactivated_at=None,
                deactivated_by=None,
                activated_at="2026-01-01T00:00:00.000000Z",
                last_seen_at="2026-01-01T00:00:00.000000Z",
            )
            for n in range(existing)
        ),
    )
    raw.execute("UPDATE license_keys SET seats_used = ?", (existing,))
    raw.execute("COMMIT")
    raw.close()
    kit = new_kit(sqlite_store(path, "normal"), 2 * probes)
    admin = kit.log_in(*ADMIN)
    kit.invite_installers(admin, bench.account_id, bench.key_id, addresses(2 * probes, "probe"))
    mailer = kit.mailer
    assert isinstance(mailer, RecordingMailer)
    codes = [m.data["code"] for m in mailer.messages()]
    for n, code in enumerate(codes[probes:]):  # warm-up, not measured: a steady state
        kit.activate(code=code, computer_id=f"warm-up-{n}")
    return kit, admin.token, bench.account_id, bench.key_id, codes[:probes]


def growth(small: int, large: int, probes: int) -> list[Result]:
    measured: dict[int, tuple[float, float]] = {}
    with tempfile_dir() as folder:
        for existing in (small, large):
            kit, admin, account_id, key_id, codes = _grown(folder, existing, probes)
            activations = []
            for n, code in enumerate(codes):
                activations.append(
                    timed(lambda c=code, n=n: kit.activate(code=c, computer_id=f"probe-{n}"))
                )
            middle = f"ins_0{existing // 2:025d}"
            pages = []
            for _ in range(probes):
                pages.append(
                    timed(
                        lambda: kit.list_installations(
                            admin, account_id, key_id, cursor=middle, limit=50
                        )
                    )
                )
            page = kit.list_installations(admin, account_id, key_id, cursor=middle, limit=50)
            assert len(page.items) == min(50, existing - existing // 2 - 1 + 2 * probes)
            measured[existing] = (median_of(activations), median_of(pages))
            kit.store.close()  # type: ignore[attr-defined]
    return [
        Result(
            "growth_activation",
            f"one activation with {large:,} installations, against {small:,}",
            "us",
            measured[large][0] * 1e6,
            measured[small][0] * 1e6,
            target=1.2,
            details={"small": small, "large": large, "probes": probes},
        ),
        Result(
            "growth_page",
            f"one page of 50 installations with {large:,}, against {small:,}",
            "us",
            measured[large][1] * 1e6,
            measured[small][1] * 1e6,
            target=1.2,
            details={"small": small, "large": large, "probes": probes},
        ),
    ]


# == 5. join invitations ===================================================================


def join_invitations(count: int, repeat: int) -> list[Result]:
    emails = addresses(count, "member")
    columns = licensekit_columns("join_invitations")
    results = []
    for store_name in ("memory", "sqlite"):

        def ours(store_name: str = store_name) -> float:
            with tempfile_dir() as folder:
                store = None if store_name == "memory" else sqlite_store(folder / "join.db")
                kit = new_kit(store, count)
                kit.register_user(*ADMIN, email_verified=True)
                admin = kit.log_in(*ADMIN)
                account = kit.create_business_account(admin, "Bench Corp")
                spent = timed(lambda: kit.invite_members(admin, account.id, emails))
                kit.store.close() if store is not None else None  # type: ignore[attr-defined]
                return spent

        def floor(store_name: str = store_name) -> float:
            with tempfile_dir() as folder:
                aead = AESGCM(secrets.token_bytes(32))
                key = secrets.token_bytes(32)
                connection = None
                if store_name == "sqlite":
                    connection = connect_raw(folder / "floor.db", "full")
                    create_table(connection, "invitations", columns, ["UNIQUE token_hash"])

                def work() -> None:
                    rows = []
                    for n, email in enumerate(emails):
                        email_validator.validate_email(email, check_deliverability=False)
                        token = secrets.token_urlsafe(24)
                        digest = hmac.new(key, token.encode(), hashlib.sha256).digest()
                        sealed = aead.encrypt(secrets.token_bytes(12), token.encode(), b"id")
                        rows.append(
                            _row_like(
                                columns, n, email=email, token_hash=digest, token_ciphertext=sealed
                            )
                        )
                    if connection is not None:
                        connection.execute("BEGIN IMMEDIATE")
                        connection.executemany(
                            f"INSERT INTO invitations VALUES ({', '.join('?' * len(columns))})",
                            rows,
                        )
                        connection.execute("COMMIT")

                spent = timed(work)
                if connection is not None:
                    connection.close()
                return spent

        results.append(
            per_item(
                f"join_invitations_{store_name}",
                f"invite {count:,} members in one call, {store_name}, per invitation",
                count,
                ours,
                floor,
                repeat,
            )
        )
    return results


# == 6. import time ========================================================================


def import_time(repeat: int) -> Result:
    """A fresh interpreter importing licensekit, against its four dependencies alone.

    Bytecode is written and reused, as after any normal installation (PYTHONDONTWRITEBYTECODE
    would have licensekit compiled from source on every run while the dependencies are not).
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run(statement: str) -> float:
        code = f"import time; s = time.perf_counter(); {statement}; print(time.perf_counter() - s)"
        out = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env
        )
        return float(out.stdout)

    deps = "import attrs, cattrs, email_validator, cryptography.hazmat.primitives.kdf.argon2"
    ours = "import licensekit; licensekit.LicenseKit"
    run(ours)  # write the bytecode
    mine, base = interleaved(lambda: run(ours), lambda: run(deps), repeat)
    return Result(
        "import_time",
        "import licensekit (and reach LicenseKit) in a fresh interpreter",
        "ms",
        mine * 1e3,
        base * 1e3,
        target=1.3,
    )


# == 7. peak memory of a large invitation ==================================================


def peak_memory(count: int) -> Result:
    with tempfile_dir() as folder:
        out = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, str(HERE / "_memory_child.py"), str(count), str(folder)],
            check=True,
            capture_output=True,
            text=True,
        )
    report = json.loads(out.stdout)
    return Result(
        "peak_memory",
        f"peak resident memory inviting {count:,} from a CSV file into SQLite",
        "MB",
        report["peak_mb"],
        target=200.0 if count >= 100_000 else None,
        details=report,
    )


# == 8. log-in =============================================================================


def login(repeat: int) -> Result:
    kit = LicenseKit(
        MemoryStore(), RecordingMailer(), secret=os.urandom(32), join_url="x?t={token}"
    )
    kit.register_user("bench@example.com", "benchmark passphrase")
    phc = PasswordHasher().hash("benchmark passphrase")
    mine, base = interleaved(
        lambda: timed(lambda: kit.log_in("bench@example.com", "benchmark passphrase")),
        lambda: timed(lambda: Argon2id.verify_phc_encoded(b"benchmark passphrase", phc)),
        repeat,
    )
    return Result(
        "login",
        "log-in with the default Argon2id parameters (a security setting, reported)",
        "ms",
        mine * 1e3,
        base * 1e3,
    )


# == 16. moving 10,000 installations to another key ========================================

MOVE_CHUNK = 500
"""The floor's chunk, as licensekit's (:data:`licensekit._usecases.key_moves.MOVE_CHUNK`)."""


def _installed_for_move(path: Path, count: int) -> tuple[str, str, str]:
    """A licensekit file with two keys of one product, *count* active installations on the
    first; returns the account's and the two keys' ids.

    The keys, their account and one invitation go through the API; the installations are
    written with the store's own transaction (``tx.add(INSTALLATIONS, ...)``), a batch at a
    time, and the first key's ``seats_used`` raised to match with its guarded counter.
    """
    import datetime as dt

    from licensekit.domain.model import Installation
    from licensekit.storage import INSTALLATIONS, LICENSE_KEYS

    kit = new_kit(sqlite_store(path, "normal"))
    shop = licensing(kit, count)
    admin = kit.log_in(*ADMIN)
    target = kit.add_license_key(
        admin, shop.account_id, product="Bench", value="BENCH-TARGET", seats=max(count, 1)
    )
    kit.invite_installers(admin, shop.account_id, shop.key_id, ["bulk@example.com"], send=False)
    invitation = kit.list_install_invitations(admin, shop.account_id, shop.key_id).items[0]
    kit.store.close()
    now = dt.datetime.now(dt.UTC)
    store = sqlite_store(path, "normal")
    with store.transaction() as tx:
        for start in range(0, count, 10_000):
            tx.add(
                INSTALLATIONS,
                [
                    Installation(
                        id=f"ins_{int(now.timestamp() * 1000):012x}_{n:06x}_{secrets.token_hex(5)}",
                        account_id=shop.account_id,
                        key_id=shop.key_id,
                        computer_id=f"SN-{n:08d}-{secrets.token_hex(4).upper()}",
                        computer_name=f"Workstation {n}",
                        email=f"installer{n}@example.com",
                        invitation_id=invitation.id,
                        activated_at=now,
                        last_seen_at=now,
                        token_hash=secrets.token_bytes(32),
                    )
                    for n in range(start, min(start + 10_000, count))
                ],
            )
        assert tx.increment(LICENSE_KEYS, (shop.key_id,), "seats_used", count, cap="seats")
    store.close()
    return shop.account_id, shop.key_id, target.id


def moves(count: int, repeat: int) -> list[Result]:
    """Moving *count* installations to another key, "full" then "normal"; the data made once."""
    with tempfile_dir() as folder:
        template = folder / "template.db"
        ids = _installed_for_move(template, count)
        return [_move(folder, template, ids, count, repeat, s) for s in ("full", "normal")]


def _move(
    folder: Path,
    template: Path,
    ids: tuple[str, str, str],
    count: int,
    repeat: int,
    synchronous: str,
) -> Result:
    import shutil

    account_id, source, target = ids

    def copy(name: str) -> Path:
        path = folder / name
        shutil.copyfile(template, path)
        return path

    def ours() -> float:
        path = copy("ours.db")
        kit = new_kit(sqlite_store(path, synchronous))
        admin = kit.log_in(*ADMIN)
        reports = []
        spent = timed(
            lambda: reports.append(kit.move_installations(admin, account_id, source, target))
        )
        assert reports[0].installations == count, reports
        kit.store.close()
        _check_moved(path, source, target, count)
        return spent

    def floor() -> float:
        path = copy("floor.db")
        connection = connect_raw(path, synchronous)
        spent = timed(lambda: _move_floor(connection, account_id, source, target, count))
        connection.close()
        _check_moved(path, source, target, count)
        return spent

    mine, base = interleaved(ours, floor, repeat)
    return Result(
        f"move_sqlite_{synchronous}",
        f"move {count:,} installations to another key in one call, SQLite ({synchronous}), each",
        "us",
        mine / count * 1e6,
        base / count * 1e6,
        target=3.0 if count >= 10_000 else None,
        details={"count": count, "seconds": mine, "floor_seconds": base, "chunk": MOVE_CHUNK},
        note=f"move, SQLite ({synchronous}): {count:,} installations in {mine:.2f} s, "
        f"the floor in {base:.2f} s",
    )


def _move_floor(
    connection: sqlite3.Connection, account_id: str, source: str, target: str, count: int
) -> None:
    """One transaction: the source's active installations, a chunk at a time, checked for
    blocks and for records of their computers under the target, their invitations read (for
    the computers' claims on codes), each moved by an ``UPDATE`` of its key; the two seat
    counters (the target's guarded); one audit event."""
    connection.execute("BEGIN IMMEDIATE")
    moving: list[tuple[str, str, str]] = []
    after = ""
    while True:
        page = connection.execute(
            "SELECT id, computer_id, invitation_id FROM installations "
            "WHERE key_id = ? AND id > ? AND status = 'active' ORDER BY id LIMIT ?",
            (source, after, MOVE_CHUNK),
        ).fetchall()
        moving += page
        if len(page) < MOVE_CHUNK:
            break
        after = page[-1][0]
    for start in range(0, len(moving), MOVE_CHUNK):
        chunk = moving[start : start + MOVE_CHUNK]
        computers = [c for _, c, _ in chunk]
        marks = ",".join("?" * len(chunk))
        blocked = connection.execute(
            f"SELECT computer_id FROM computer_blocks WHERE account_id = ? "
            f"AND computer_id IN ({marks})",
            (account_id, *computers),
        ).fetchall()
        taken = connection.execute(
            f"SELECT id FROM installations WHERE key_id = ? AND computer_id IN ({marks})",
            (target, *computers),
        ).fetchall()
        assert not blocked and not taken
        invitations = sorted({i for _, _, i in chunk})
        connection.execute(
            f"SELECT id, computer_ids FROM install_invitations "
            f"WHERE id IN ({','.join('?' * len(invitations))})",
            invitations,
        ).fetchall()
        connection.executemany(
            "UPDATE installations SET key_id = ? WHERE id = ?", [(target, i) for i, _, _ in chunk]
        )
    n = len(moving)
    connection.execute(
        "UPDATE license_keys SET seats_used = seats_used - ? WHERE id = ?", (n, source)
    )
    assert connection.execute(
        "UPDATE license_keys SET seats_used = seats_used + ? WHERE id = ? "
        "AND seats_used + ? <= seats",
        (n, target, n),
    ).rowcount
    details = json.dumps(
        {"installations": str(n), "seats": str(n), "to_key_id": target}, sort_keys=True
    )
    connection.execute(
        "INSERT INTO audit_events VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            f"evt_{secrets.token_hex(16)}",
            account_id,
            time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00"),
            "",
            "installation.moved",
            source,
            details,
        ),
    )
    connection.execute("COMMIT")
    assert n == count


def _check_moved(path: Path, source: str, target: str, count: int) -> None:
    """Every installation under the target, the seats with them; then the file goes."""
    connection = sqlite3.connect(path)
    try:
        used = dict(
            connection.execute(
                "SELECT id, seats_used FROM license_keys WHERE id IN (?, ?)", (source, target)
            )
        )
        where = dict(connection.execute("SELECT key_id, count(*) FROM installations GROUP BY 1"))
    finally:
        connection.close()
    assert used == {source: 0, target: count} and where == {target: count}, (used, where)
    path.unlink()
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
