# ruff: noqa: S608 - the SQL names only the schema this test made
"""Eight processes, each with its own LicenseKit on one PostgreSQL schema, activating at once
against one key's seats (one invitation per computer, so every activation competes for the
same seats): exactly the seats are taken and every other attempt is ``SeatsFull``."""

from __future__ import annotations

import csv
import io
import multiprocessing
from collections import Counter
from collections.abc import Iterator

import psycopg
import pytest
from test_sqlite_processes import _collect

from _postgres import DSN, drop_schema, new_schema
from _sqlite_workers import activate_computers
from licensekit.stores.postgres import PostgresStore
from licensekit.testing import make_business_account, make_licensekit

PROCESSES = 8
COMPUTERS_EACH = 40
SEATS = 25
COMPUTERS = PROCESSES * COMPUTERS_EACH


@pytest.fixture
def schema() -> Iterator[str]:
    name = new_schema("processes")
    yield name
    drop_schema(name)


def test_eight_processes_never_oversell_a_key_on_postgres(schema: str) -> None:
    with make_licensekit(store=PostgresStore(DSN, schema=schema)) as kit:
        admin, account = make_business_account(kit)
        key = kit.add_license_key(admin, account.id, product="Suite", value="PG-1", seats=SEATS)
        emails = [f"user{i:04d}@example.com" for i in range(COMPUTERS)]
        kit.invite_installers(admin, account.id, key.id, emails, send=False)
        rows = csv.reader(io.StringIO(kit.export_install_invitations(admin, account.id, key.id)))
        code_of = {email: code for email, code, _ in list(rows)[1:]}
    codes = [code_of[email] for email in emails]

    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES)
    results = context.Queue()
    target = f"postgres:{schema}"
    workers = [
        context.Process(
            target=activate_computers,
            args=(target, w, codes[w * COMPUTERS_EACH : (w + 1) * COMPUTERS_EACH], start, results),
        )
        for w in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    try:
        reports = _collect(results, workers)
    finally:
        for worker in workers:
            worker.join(timeout=60)
            if worker.is_alive():  # pragma: no cover - only when a worker hangs
                worker.kill()
                worker.join()
    results.close()
    results.join_thread()
    assert [w.exitcode for w in workers] == [0] * PROCESSES
    outcomes: Counter[str] = Counter()
    for report in reports.values():
        outcomes.update(report)
    assert outcomes == {"activated": SEATS, "SeatsFull": COMPUTERS - SEATS}
    with psycopg.connect(DSN) as connection:
        assert connection.execute(
            f'SELECT seats_used FROM "{schema}".license_keys WHERE id = %s', [key.id]
        ).fetchone() == (SEATS,)
        assert connection.execute(f'SELECT count(*) FROM "{schema}".installations').fetchone() == (
            SEATS,
        )
