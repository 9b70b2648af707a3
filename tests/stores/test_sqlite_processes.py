"""Seats are never oversold when several processes share one SQLite file.

Eight processes, each with its own LicenseKit on the same file, activate 200 computers each
(one invitation per computer, so every activation competes for the same key's seats) against a
50-seat key, all released at once by a barrier. Exactly 50 computers get a seat and the other
1,550 get a clear SeatsFull; nothing else happens, and the file is sound afterwards.
"""

from __future__ import annotations

import contextlib
import csv
import io
import multiprocessing
import sqlite3
from collections import Counter
from pathlib import Path

from _process_workers import activate_computers, run_workers
from licensekit.exceptions import SeatsFull
from licensekit.model import AuditAction, InstallationStatus, InstallationView
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import TEST_PASSWORD, make_business_account, make_licensekit

PROCESSES = 8
COMPUTERS_EACH = 200
SEATS = 50
COMPUTERS = PROCESSES * COMPUTERS_EACH

_REFUSAL_THROTTLES = (
    "SELECT count(*) FROM throttles WHERE key NOT LIKE 'activations-per-hour:%' "
    "AND key NOT LIKE 'invitation-emails-per-hour:%'"
)
"""Counts the throttle records but the hourly counts of what succeeded (the hourly limits)."""


def _scalar(path: Path, sql: str, *params: object) -> object:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return connection.execute(sql, params).fetchone()[0]


def _set_up(path: Path) -> tuple[str, str, list[str]]:
    """Make the account, the 50-seat key and one invitation per computer; return their codes."""
    with make_licensekit(store=SQLiteStore(path, synchronous="normal")) as kit:
        admin, account = make_business_account(kit)
        key = kit.add_license_key(
            admin, account.id, product="Suite", value="SUITE-7Q2R-8M4N-N6WX", seats=SEATS
        )
        emails = [f"user{i:04d}@example.com" for i in range(COMPUTERS)]
        batch = kit.invite_installers(admin, account.id, key.id, emails, send=False)
        assert len(batch.invited) == COMPUTERS
        rows = list(
            csv.reader(io.StringIO(kit.export_install_invitations(admin, account.id, key.id)))
        )
    assert rows[0] == ["email", "temporary_activation_code", "download_url"]
    code_of = {email: code for email, code, _ in rows[1:]}
    assert sorted(code_of) == emails
    return account.id, key.id, [code_of[email] for email in emails]


def test_eight_processes_never_oversell_fifty_seats(tmp_path: Path) -> None:
    path = tmp_path / "licensekit.db"
    account_id, key_id, codes = _set_up(path)

    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [
        context.Process(
            target=activate_computers,
            args=(
                str(path),
                w,
                codes[w * COMPUTERS_EACH : (w + 1) * COMPUTERS_EACH],
                start,
                results,
            ),
        )
        for w in range(PROCESSES)
    ]
    reports = run_workers(workers, results)

    outcomes: Counter[str] = Counter()
    for report in reports.values():
        assert sum(report.values()) == COMPUTERS_EACH, report
        outcomes.update(report)
    assert outcomes == {"activated": SEATS, "SeatsFull": COMPUTERS - SEATS}

    # The file agrees, seen through a fresh store and through raw SQL.
    store = SQLiteStore(path)
    with make_licensekit(store=store) as kit:
        admin = kit.log_in("admin@example.com", TEST_PASSWORD)
        assert store.integrity_check() == []
        key = kit.get_license_key(admin, account_id, key_id)
        assert (key.seats, key.seats_used, key.seats_free) == (SEATS, SEATS, 0)
        installations: list[InstallationView] = []
        cursor = None
        while True:
            page = kit.list_installations(
                admin, account_id, key_id, include_inactive=True, cursor=cursor, limit=500
            )
            installations += page.items
            cursor = page.next_cursor
            if cursor is None:
                break
    assert len(installations) == SEATS
    assert {i.status for i in installations} == {InstallationStatus.ACTIVE}
    assert len({i.computer_id for i in installations}) == SEATS
    assert _scalar(path, "SELECT count(*) FROM installations") == SEATS
    assert _scalar(path, "SELECT seats_used FROM license_keys WHERE id = ?", key_id) == SEATS
    assert _scalar(path, "SELECT sum(activations) FROM install_invitations") == SEATS
    assert (
        _scalar(
            path, "SELECT count(*) FROM audit_events WHERE action = ?", AuditAction.ACTIVATED.value
        )
        == SEATS
    )
    assert (
        _scalar(
            path,
            "SELECT count(*) FROM audit_events WHERE action = ?",
            AuditAction.ACTIVATION_REFUSED.value,
        )
        == COMPUTERS - SEATS
    )
    # Full seats are not the code's fault: no refusal left a throttle record behind (the one
    # record is the key's hourly count of seats taken).
    assert _scalar(path, _REFUSAL_THROTTLES) == 0


def test_seats_full_refusals_never_lock_a_code(tmp_path: Path) -> None:
    """A code refused for full seats many times (more than the code's throttle allows for
    its own mistakes) activates as soon as a seat is freed."""
    path = tmp_path / "licensekit.db"
    store = SQLiteStore(path, synchronous="normal")
    with make_licensekit(store=store) as kit:
        admin, account = make_business_account(kit)
        key = kit.add_license_key(admin, account.id, product="Suite", value="K-1", seats=1)
        kit.invite_installers(admin, account.id, key.id, ["a@example.com", "b@example.com"])
        first = kit.activate(code=kit.mailer.last(to="a@example.com").data["code"], computer_id="A")
        code = kit.mailer.last(to="b@example.com").data["code"]
        refusals = kit.settings.activation_invitation_throttle.max_failures * 2
        for _ in range(refusals):
            try:
                kit.activate(code=code, computer_id="B")
            except SeatsFull:
                continue
            raise AssertionError("a second computer got the only seat")
        kit.deactivate_installation(admin, account.id, first.installation_id)
        assert kit.activate(code=code, computer_id="B").computer_id == "B"
        assert store.integrity_check() == []
    assert _scalar(path, _REFUSAL_THROTTLES) == 0
