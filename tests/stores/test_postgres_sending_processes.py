# ruff: noqa: S608 - the SQL names only the schema this test made
"""Overlapping senders in several processes never mail one invitation twice, on PostgreSQL.

Eight processes, each with its own LicenseKit (and mailer) on one schema, are released at
once and each makes the same kind of calls over the same invitations: sending a window of
the key's invitations to install and of the account's invitations to join (each window
overlapping its neighbours'), then everything due of both kinds, then once more. A call
claims what it sends (``sending``) in a transaction before handing anything to the mailer,
and the others skip a claimed invitation; so every invitation is mailed exactly once in all,
and ends ``sent`` once.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from _postgres import DSN, drop_schema, new_schema
from _process_workers import run_workers, send_invitations
from licensekit.mail import MessageKind
from licensekit.stores.postgres import PostgresStore
from licensekit.testing import make_business_account, make_licensekit

PROCESSES = 8
INSTALLS = 160
JOINS = 80


@pytest.fixture
def schema() -> Iterator[str]:
    name = new_schema("sending")
    yield name
    drop_schema(name)


def _window(ids: list[str], start: int, size: int) -> list[str]:
    """*size* ids from *start* on, wrapping round: neighbouring windows overlap."""
    return [ids[(start + n) % len(ids)] for n in range(size)]


def test_overlapping_senders_in_eight_processes_mail_each_invitation_once(
    schema: str, tmp_path: Path
) -> None:
    installers = [f"installer{n:03d}@example.com" for n in range(INSTALLS)]
    members = [f"member{n:03d}@example.com" for n in range(JOINS)]
    with make_licensekit(store=PostgresStore(DSN, schema=schema)) as kit:
        admin, account = make_business_account(kit)
        key = kit.add_license_key(admin, account.id, product="Suite", value="SEND-1", seats=5)
        installs = kit.invite_installers(admin, account.id, key.id, installers, send=False)
        joins = kit.invite_members(admin, account.id, members, send=False)
        install_ids = [v.id for v in installs.invited]
        join_ids = [v.id for v in joins.invited]
        assert kit.mailer.sent == []
    assert (len(install_ids), len(join_ids)) == (INSTALLS, JOINS)

    def calls(worker: int) -> list[tuple[str, list[str] | None]]:
        windows: list[tuple[str, list[str] | None]] = [
            ("install", _window(install_ids, worker * INSTALLS // PROCESSES, INSTALLS // 3)),
            ("join", _window(join_ids, worker * JOINS // PROCESSES, JOINS // 3)),
        ]
        if worker % 2:
            windows.reverse()  # half of them start with the other kind
        return [*windows, ("install", None), ("join", None), ("install", None), ("join", None)]

    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES)
    results = context.Queue()
    logs = [tmp_path / f"mail-{w}.log" for w in range(PROCESSES)]
    target = f"postgres:{schema}"
    token = admin.token
    workers = [
        context.Process(
            target=send_invitations,
            args=(target, w, token, account.id, key.id, calls(w), str(logs[w]), start, results),
        )
        for w in range(PROCESSES)
    ]
    reports = run_workers(workers, results)

    outcomes: Counter[str] = Counter()
    for report in reports.values():
        outcomes.update(report)
    assert +outcomes == {"install sent": INSTALLS, "join sent": JOINS}  # and no error

    mailed = Counter(
        tuple(line.split("\t"))
        for log in logs
        if log.exists()
        for line in log.read_text(encoding="utf-8").splitlines()
    )
    expected = [(MessageKind.INSTALL_INVITATION.value, e) for e in installers] + [
        (MessageKind.JOIN_INVITATION.value, e) for e in members
    ]
    assert mailed == Counter(expected), "an invitation was mailed twice, or never"

    with psycopg.connect(DSN) as connection:
        for table, count in (("install_invitations", INSTALLS), ("join_invitations", JOINS)):
            rows = connection.execute(
                f'SELECT delivery, sent_count, delivery_attempts, count(*) FROM "{schema}".{table} '
                "GROUP BY 1, 2, 3"
            ).fetchall()
            assert rows == [("sent", 1, 1, count)], table
