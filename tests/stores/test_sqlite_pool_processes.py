"""A primary key's pool is never oversold by several processes activating through its
additional keys at once, on one SQLite file (and on one PostgreSQL schema).

A 30-seat primary key has a dynamic additional key of 25 seats and a reserved one of 10.
Eight processes, each with its own LicenseKit on the shared database, activate 60 computers
each, their codes spread evenly over the three keys (one invitation per computer), all
released at once by a barrier. Exactly 30 computers get a seat: the reserved key's 10 go to
its own installers (nobody else may take them), the other 20 to the primary's and the
dynamic key's installers; every other attempt is a clear SeatsFull, and the counters agree
with the installations afterwards.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _postgres import DSN, drop_schema, new_schema
from _process_workers import activate_computers, open_store, run_workers
from _records import records
from licensekit import SeatPool
from licensekit.model import AuditAction, LicenseKey
from licensekit.storage import AUDIT_EVENTS, INSTALLATIONS, LICENSE_KEYS
from licensekit.stores.postgres import PostgresStore
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import LicenseKitForTests, make_business_account, make_licensekit

PROCESSES = 8
COMPUTERS_EACH = 60
COMPUTERS = PROCESSES * COMPUTERS_EACH
SEATS = 30
RESERVED = 10
DYNAMIC = 25


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where the processes meet: a SQLite file, or a PostgreSQL schema of the tests'."""
    if request.param == "sqlite":
        yield str(tmp_path / "licensekit.db")
        return
    name = new_schema("pool_processes")
    yield f"postgres:{name}"
    drop_schema(name)


def _kit(target: str) -> LicenseKitForTests:
    if target.startswith("postgres:"):
        return make_licensekit(store=PostgresStore(DSN, schema=target.removeprefix("postgres:")))
    return make_licensekit(store=SQLiteStore(target, synchronous="normal"))


def _codes(kit: LicenseKitForTests, admin: Any, account_id: str, key_id: str) -> list[str]:
    """Invite one installer per computer under *key_id* (without mail); return the codes."""
    count = COMPUTERS // 3
    emails = [f"{key_id}-{i:04d}@example.com" for i in range(count)]
    kit.invite_installers(admin, account_id, key_id, emails, send=False)
    rows = csv.reader(io.StringIO(kit.export_install_invitations(admin, account_id, key_id)))
    code_of = {email: code for email, code, _ in list(rows)[1:]}
    return [code_of[email] for email in emails]


def _set_up(target: str) -> tuple[dict[str, str], list[list[str]]]:
    """Make the account and its three keys; return the keys by role and each worker's codes
    (every worker alternates between the primary, the dynamic and the reserved key)."""
    with _kit(target) as kit:
        admin, account = make_business_account(kit)
        primary = kit.add_license_key(
            admin, account.id, product="Suite", value="POOL-PRIMARY-7Q2R", seats=SEATS
        ).id
        keys = {"primary": primary}
        for role, seats in (("dynamic", DYNAMIC), ("reserved", RESERVED)):
            keys[role] = kit.add_additional_key(
                admin,
                account.id,
                primary,
                value=f"POOL-{role.upper()}-8M4N",
                seats=seats,
                seat_pool=SeatPool(role),
            ).id
        codes = {role: _codes(kit, admin, account.id, key_id) for role, key_id in keys.items()}
    third = COMPUTERS_EACH // 3
    workers = [
        [
            code
            for trio in zip(
                *(codes[role][w * third : (w + 1) * third] for role in keys), strict=True
            )
            for code in trio
        ]
        for w in range(PROCESSES)
    ]
    return keys, workers


def test_eight_processes_never_oversell_a_primary_and_its_additional_keys(target: str) -> None:
    keys, codes = _set_up(target)

    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [
        context.Process(target=activate_computers, args=(target, w, codes[w], start, results))
        for w in range(PROCESSES)
    ]
    reports = run_workers(workers, results)

    outcomes: Counter[str] = Counter()
    for report in reports.values():
        assert sum(report.values()) == COMPUTERS_EACH, report
        outcomes.update(report)
    assert outcomes == {"activated": SEATS, "SeatsFull": COMPUTERS - SEATS}

    # The database agrees, read through a fresh store.
    store = open_store(target)
    try:
        if isinstance(store, SQLiteStore):
            assert store.integrity_check() == []
        with records(store) as tx:
            stored: dict[str, LicenseKey] = {}
            active: dict[str, int] = {}
            for role, key_id in keys.items():
                key = tx.get(LICENSE_KEYS, key_id)
                assert key is not None
                stored[role] = key
                installations = tx.page(INSTALLATIONS, key_id, after=None, limit=1_000)
                assert all(i.is_active for i in installations)
                active[role] = len(installations)
            events = tx.page(AUDIT_EVENTS, stored["primary"].account_id, after=None, limit=2_000)
    finally:
        store.close()
    # The reserved key's seats went to its own installers, and no further.
    assert active["reserved"] == stored["reserved"].seats_used == RESERVED
    # The main pool's 20 went to the primary's and the dynamic key's installers.
    assert active["primary"] + active["dynamic"] == SEATS - RESERVED
    assert stored["dynamic"].seats_used == active["dynamic"] <= DYNAMIC
    assert stored["primary"].seats_used == active["primary"] + active["dynamic"] + RESERVED
    assert stored["primary"].seats_used == SEATS
    assert all(k.released_at is None for k in stored.values())
    activated = Counter(e.action for e in events)
    assert activated[AuditAction.ACTIVATED] == SEATS
    assert activated[AuditAction.ACTIVATION_REFUSED] == COMPUTERS - SEATS
