"""An invitation is expired in phase exactly when its noted instant is not before its expiry.

The stores compute the ``phase`` themselves: SQLite compares the instants as the text its
row codec writes (``expiry_noted_at >= expires_at``), PostgreSQL as ``timestamptz``, the
memory store with the record's own property. These tests plant pairs of instants that a
text comparison could get wrong (a whole second against one with microseconds, the last
microsecond of a second against the next second, the same instant in other time zones, a
later instant whose local text is earlier) and check that every store files each
invitation under the phase the record itself computes, and that a range of expiries finds
exactly the invitations that expired by then, whether the note was written with the
invitation or afterwards by ``update``.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _postgres import DSN, new_schema
from licensekit import MemoryStore
from licensekit.model import InstallInvitation, InstallInvitationPhase, JoinInvitation
from licensekit.storage import INSTALL_INVITATIONS, JOIN_INVITATIONS, Query, Range
from licensekit.stores.postgres import PostgresStore
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing.contract._support import write, write_all
from licensekit.testing.contract.samples import Samples

UTC = dt.UTC
BASE = dt.datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC)
PLUS_2 = dt.timezone(dt.timedelta(hours=2))
MINUS_5 = dt.timezone(dt.timedelta(hours=-5, minutes=-30))
SECOND, MICRO = dt.timedelta(seconds=1), dt.timedelta(microseconds=1)


def tricky_pairs() -> list[tuple[dt.datetime, dt.datetime | None]]:
    """(expires_at, expiry_noted_at) pairs on either side of, or at, the expiry."""
    whole = BASE.replace(microsecond=0)
    pairs: list[tuple[dt.datetime, dt.datetime | None]] = [
        (whole, whole),  # noted at the expiry: expired
        (whole, whole + MICRO),  # "...:07+00:00" text would sort after "...:07.000001"
        (whole + MICRO, whole),
        (whole, whole - MICRO),
        (whole - MICRO, whole),  # ".999999" of one second against the next second
        (whole + SECOND - MICRO, whole + SECOND),
        (whole + SECOND, whole + SECOND - MICRO),
        (whole, whole.astimezone(PLUS_2)),  # the same instant, other zones
        (whole.astimezone(MINUS_5), whole),
        (whole, (whole - MICRO).astimezone(PLUS_2)),  # earlier, but "07:06:06" > "05:06:07"
        (whole, (whole + MICRO).astimezone(MINUS_5)),  # later, but its text is earlier
        (whole.astimezone(PLUS_2), (whole - MICRO).astimezone(MINUS_5)),
        (
            dt.datetime(2031, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            dt.datetime(2032, 1, 1, tzinfo=PLUS_2),
        ),
        (whole, None),
    ]
    chance = random.Random(20)  # reproducible instants, not secrets
    zones = [UTC, PLUS_2, MINUS_5]
    for _ in range(120):
        expires = BASE + dt.timedelta(microseconds=chance.randint(-3_000_000, 3_000_000))
        noted = expires + dt.timedelta(microseconds=chance.choice([-1, 0, 1, -999_999, 10**6]))
        pairs.append(
            (expires.astimezone(chance.choice(zones)), noted.astimezone(chance.choice(zones)))
        )
    return pairs


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    opened: Any
    if request.param == "memory":
        opened = MemoryStore()
    elif request.param == "sqlite":
        opened = SQLiteStore(tmp_path / "licensekit.db", synchronous="normal")
    else:
        opened = PostgresStore(DSN, schema=new_schema("instants"))
    yield opened
    opened.close()


def planted(
    samples: Samples, *, noted: bool
) -> tuple[list[InstallInvitation], list[JoinInvitation]]:
    """Invitations of both kinds, one per pair, noted as planted (or not at all)."""
    installs, joins = [], []
    for n, (expires, when) in enumerate(tricky_pairs()):
        changes = {"expires_at": expires, "expiry_noted_at": when if noted else None}
        installs.append(samples.bare(INSTALL_INVITATIONS, f"i{n}", changes))
        joins.append(samples.bare(JOIN_INVITATIONS, f"j{n}", changes))
    return installs, joins


def phases_as_stored(store: Any, kind: Any, owner: str, phases: Any) -> dict[str, str]:
    """Each record's phase as the store files it: the pages of each phase."""
    found: dict[str, str] = {}
    with store.transaction() as tx:
        for phase in phases:
            after = None
            while True:
                page = tx.page(kind, owner, after=after, limit=50, where={"phase": phase})
                found.update({r.id: str(phase) for r in page})
                if len(page) < 50:
                    break
                after = (page[-1].id,)
    return found


def check_filed(store: Any, samples: Samples, installs: list[Any], joins: list[Any]) -> None:
    with store.transaction() as tx:
        installs = tx.read([_by_id(INSTALL_INVITATIONS, installs)])[0]
        joins = tx.read([_by_id(JOIN_INVITATIONS, joins)])[0]
    key_id, account_id = installs[0].key_id, joins[0].account_id
    ids = {r.id for r in (*installs, *joins)}
    assert len(ids) == 2 * len(tricky_pairs())
    filed = phases_as_stored(store, INSTALL_INVITATIONS, key_id, InstallInvitationPhase)
    assert {i: p for i, p in filed.items() if i in ids} == {r.id: str(r.phase) for r in installs}
    join_phases = {type(joins[0].phase)(p) for p in ("open", "accepted", "revoked", "expired")}
    filed = phases_as_stored(store, JOIN_INVITATIONS, account_id, join_phases)
    assert {i: p for i, p in filed.items() if i in ids} == {r.id: str(r.phase) for r in joins}
    assert sum(r.phase == "expired" for r in installs) > 10
    assert sum(r.phase != "expired" for r in installs) > 10


def _by_id(kind: Any, records: list[Any]) -> Any:
    return Query(kind, ("id",), tuple((r.id,) for r in records))


def test_each_store_files_a_noted_invitation_as_expired_exactly_when_the_record_does(
    store: Any,
) -> None:
    samples = Samples()
    write(store, samples, samples.world())
    installs, joins = planted(samples, noted=True)
    write_all(store, samples, INSTALL_INVITATIONS, installs)
    write_all(store, samples, JOIN_INVITATIONS, joins)
    check_filed(store, samples, installs, joins)


def test_a_note_written_by_update_files_the_invitation_as_the_record_does(store: Any) -> None:
    samples = Samples()
    write(store, samples, samples.world())
    installs, joins = planted(samples, noted=False)
    write_all(store, samples, INSTALL_INVITATIONS, installs)
    write_all(store, samples, JOIN_INVITATIONS, joins)
    with store.transaction() as tx:
        for kind, records in ((INSTALL_INVITATIONS, installs), (JOIN_INVITATIONS, joins)):
            for record, (_, when) in zip(records, tricky_pairs(), strict=True):
                if when is not None:
                    assert tx.update(kind, [(record.id,)], {"expiry_noted_at": when}) == 1
    check_filed(store, samples, installs, joins)


def test_a_range_of_expiries_holds_exactly_those_expired_by_its_end(store: Any) -> None:
    samples = Samples()
    write(store, samples, samples.world())
    installs, _ = planted(samples, noted=False)
    write_all(store, samples, INSTALL_INVITATIONS, installs)
    key_id = installs[0].key_id
    planted_ids = {r.id for r in installs}
    ends = [BASE.replace(microsecond=0), BASE.replace(microsecond=0) - MICRO]
    ends += [e.astimezone(PLUS_2) for e in ends] + [e.astimezone(MINUS_5) for e in ends]
    ends += [r.expires_at for r in installs[:20]]
    with store.transaction() as tx:
        for end in ends:
            where = {"phase": InstallInvitationPhase.PENDING, "expires_at": Range(up_to=end)}
            found = tx.page(INSTALL_INVITATIONS, key_id, after=None, limit=1000, where=where)
            found = [r for r in found if r.id in planted_ids]
            assert {r.id for r in found} == {r.id for r in installs if r.expires_at <= end}, end
            where = {"phase": InstallInvitationPhase.PENDING, "expires_at": Range(above=end)}
            found = tx.page(INSTALL_INVITATIONS, key_id, after=None, limit=1000, where=where)
            found = [r for r in found if r.id in planted_ids]
            assert {r.id for r in found} == {r.id for r in installs if r.expires_at > end}, end
