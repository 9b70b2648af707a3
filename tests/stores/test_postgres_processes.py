# ruff: noqa: S608 - the SQL names only the schema this test made
"""Several processes, each with its own LicenseKit on one PostgreSQL schema, activating at once.

* Eight processes against one key's seats (one invitation per computer, so every activation
  competes for the same seats): exactly the seats are taken and every other attempt is
  ``SeatsFull``.
* The same against two keys of two business accounts at once: exactly each key's seats.
* Two accounts do not serialise each other: while a transaction holds account A's scopes
  (those an activation under A's key waits for), eight processes activate against account
  B's key and all finish, and an activation under A in another process waits until the
  scopes are released, then succeeds.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import queue
import time
from collections import Counter
from collections.abc import Iterator

import psycopg
import pytest

from _postgres import DSN, drop_schema, new_schema
from _process_workers import activate_computers, activate_one, run_workers
from licensekit import LicenseKit
from licensekit.model import BusinessAccount, LicenseKey, Session
from licensekit.storage import USERS, Query
from licensekit.stores._pg_transaction import scope_lock_id
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


def _codes(
    kit: LicenseKit, admin: Session, account: BusinessAccount, key: LicenseKey, count: int
) -> list[str]:
    """Invite *count* addresses to install under *key* (without mail); return their codes."""
    emails = [f"{key.id}-{i:04d}@example.com" for i in range(count)]
    kit.invite_installers(admin, account.id, key.id, emails, send=False)
    rows = csv.reader(io.StringIO(kit.export_install_invitations(admin, account.id, key.id)))
    code_of = {email: code for email, code, _ in list(rows)[1:]}
    return [code_of[email] for email in emails]


def _outcomes(reports: dict[int, dict[str, int]]) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    for report in reports.values():
        outcomes.update(report)
    return outcomes


def _seats_and_installations(schema: str) -> dict[str, tuple[int, int]]:
    """Each key's ``seats_used`` and number of installations, by key id."""
    with psycopg.connect(DSN) as connection:
        rows = connection.execute(
            f'SELECT k.id, k.seats_used, (SELECT count(*) FROM "{schema}".installations i '
            f'WHERE i.key_id = k.id) FROM "{schema}".license_keys k'
        ).fetchall()
    return {key_id: (used, installed) for key_id, used, installed in rows}


def test_eight_processes_never_oversell_a_key_on_postgres(schema: str) -> None:
    with make_licensekit(store=PostgresStore(DSN, schema=schema)) as kit:
        admin, account = make_business_account(kit)
        key = kit.add_license_key(admin, account.id, product="Suite", value="PG-1", seats=SEATS)
        codes = _codes(kit, admin, account, key, COMPUTERS)

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
    reports = run_workers(workers, results)
    assert _outcomes(reports) == {"activated": SEATS, "SeatsFull": COMPUTERS - SEATS}
    assert _seats_and_installations(schema) == {key.id: (SEATS, SEATS)}


def test_eight_processes_on_two_keys_of_two_accounts_take_exactly_each_keys_seats(
    schema: str,
) -> None:
    seats = {"A": 20, "B": 30}
    each = 15  # computers per key and process
    with make_licensekit(store=PostgresStore(DSN, schema=schema)) as kit:
        admin, first = make_business_account(kit, name="Account A")
        second = kit.create_business_account(admin, "Account B")
        keys = {
            label: kit.add_license_key(
                admin, account.id, product="Suite", value=f"PG-{label}", seats=seats[label]
            )
            for label, account in (("A", first), ("B", second))
        }
        assert keys["A"].account_id != keys["B"].account_id
        codes = {
            label: _codes(kit, admin, account, keys[label], PROCESSES * each)
            for label, account in (("A", first), ("B", second))
        }

    def interleaved(w: int) -> list[str]:  # each process alternates between the two keys
        mine = [codes[label][w * each : (w + 1) * each] for label in ("A", "B")]
        return [code for pair in zip(*mine, strict=True) for code in pair]

    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES)
    results = context.Queue()
    target = f"postgres:{schema}"
    workers = [
        context.Process(target=activate_computers, args=(target, w, interleaved(w), start, results))
        for w in range(PROCESSES)
    ]
    reports = run_workers(workers, results)
    taken = seats["A"] + seats["B"]
    assert _outcomes(reports) == {"activated": taken, "SeatsFull": 2 * PROCESSES * each - taken}
    assert _seats_and_installations(schema) == {
        keys[label].id: (seats[label], seats[label]) for label in ("A", "B")
    }


def _waiting_for(lock_id: int) -> int:
    """How many transactions of this database wait for the advisory lock *lock_id*.

    PostgreSQL shows a bigint advisory key split in two: its high half as ``classid``, its
    low half as ``objid``, with ``objsubid`` 1.
    """
    unsigned = lock_id & 0xFFFF_FFFF_FFFF_FFFF
    with psycopg.connect(DSN, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 1",
            [unsigned >> 32, unsigned & 0xFFFF_FFFF],
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_an_account_held_up_does_not_hold_up_eight_processes_of_another(schema: str) -> None:
    """Account A's scopes are held by an open transaction. An activation locks its key's
    scope (``key:<key id>``, with the computer's), not the account's, so the holder takes
    both ``account:<A>`` and ``key:<A's key>``. Meanwhile eight processes activate against
    account B's key and all finish; the activation under A, in a ninth process, is seen
    waiting for the key's lock before and after they finish, and succeeds once released.
    """
    each, seats = 10, 25
    with make_licensekit(store=PostgresStore(DSN, schema=schema)) as kit:
        admin, held = make_business_account(kit, name="Account A")
        free = kit.create_business_account(admin, "Account B")
        held_key = kit.add_license_key(admin, held.id, product="Suite", value="PG-A", seats=1)
        free_key = kit.add_license_key(admin, free.id, product="Suite", value="PG-B", seats=seats)
        [held_code] = _codes(kit, admin, held, held_key, 1)
        codes = _codes(kit, admin, free, free_key, PROCESSES * each)

    holder = PostgresStore(DSN, schema=schema)
    key_lock = scope_lock_id(f"licensekit:{schema}", f"key:{held_key.id}")
    context = multiprocessing.get_context("spawn")
    waited = context.Queue()
    target = f"postgres:{schema}"
    waiter = context.Process(target=activate_one, args=(target, held_code, "pc-a", waited))
    start = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [
        context.Process(
            target=activate_computers,
            args=(target, w, codes[w * each : (w + 1) * each], start, results),
        )
        for w in range(PROCESSES)
    ]
    try:
        with holder.transaction() as tx:
            tx.lock([f"account:{held.id}", f"key:{held_key.id}"])
            tx.read([Query(USERS, ("id",), (("nobody",),))])  # the locks are surely taken now
            waiter.start()
            deadline = time.monotonic() + 60
            while _waiting_for(key_lock) == 0 and time.monotonic() < deadline:
                assert waiter.is_alive(), "A's activation did not wait: its process ended"
                assert waited.empty(), f"A's activation did not wait: {waited.get()}"
                time.sleep(0.05)
            assert _waiting_for(key_lock) == 1, "A's activation never came to wait for its key"

            reports = run_workers(workers, results)
            assert _outcomes(reports) == {"activated": seats, "SeatsFull": PROCESSES * each - seats}

            assert waited.empty(), f"A's activation ended while its key was held: {waited.get()}"
            assert waiter.is_alive()
            assert _waiting_for(key_lock) == 1  # still waiting, for the same lock
        # Released: the activation under A goes on.
        try:
            outcome = waited.get(timeout=60)
        except queue.Empty:  # pragma: no cover - only when the waiter hangs
            outcome = "no outcome within 60 s"
    finally:
        holder.close()
        waiter.join(timeout=60)
        if waiter.is_alive():  # pragma: no cover - only when the waiter hangs
            waiter.kill()
            waiter.join()
    waited.close()
    waited.join_thread()
    assert outcome == "activated"
    assert waiter.exitcode == 0
    assert _seats_and_installations(schema) == {held_key.id: (1, 1), free_key.id: (seats, seats)}
