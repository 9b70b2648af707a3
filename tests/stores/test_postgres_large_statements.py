"""Statements larger than the socket's buffer, through both PostgreSQL stores' pipelines.

A transaction's statements go in pipeline mode, and a read waits for its answer. A statement
whose parameters outgrow what the socket takes at once (a megabyte, say) must still be sent
whole before that wait: otherwise the server waits for its end and the client for the answer,
for ever. Here one read looks up keys of megabytes, and one write stores an audit event whose
details are megabytes, each answered in full. Each runs under a generous limit (a thread
joined, a task awaited with a timeout), so that such a hang fails the test instead of holding
up the run; nothing is timed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Iterator

import pytest

from _postgres import DSN, drop_schema, new_schema
from licensekit.model import AuditAction, AuditEvent
from licensekit.storage import AUDIT_EVENTS, THROTTLES, Query
from licensekit.stores.postgres import AsyncPostgresStore, PostgresStore

AT = dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.UTC)
MEGABYTES = 4
LIMIT = 120  # seconds: a bound on a hang, not a measure (about a second is usual)
WANTED = ("acc_1", "evt_large")
KEYS = tuple((f"key-{n}-" + "k" * (MEGABYTES << 20),) for n in range(3))
EVENT = AuditEvent(
    id="evt_large",
    account_id="acc_1",
    at=AT,
    actor_id="usr_1",
    action=next(iter(AuditAction)),
    subject="usr_2",
    details={"notes": "n" * (MEGABYTES << 20), "more": "é" * (1 << 20)},
)


@pytest.fixture
def schema() -> Iterator[str]:
    name = new_schema("large")
    yield name
    drop_schema(name)


def test_a_read_and_a_write_of_megabytes_are_answered(schema: str) -> None:
    store = PostgresStore(DSN, schema=schema, min_size=1, max_size=1)
    answers: list[object] = []

    def run() -> None:
        with store.transaction() as tx:
            answers.append(tx.read([Query(THROTTLES, ("key",), KEYS)]))
            tx.add(AUDIT_EVENTS, [EVENT])
            # The write is queued; this read sends it ahead of itself, and waits for both.
            answers.append(tx.read([Query(AUDIT_EVENTS, ("account_id", "id"), (WANTED,))]))

    worker = threading.Thread(target=run, daemon=True)  # a hung one must not stop the exit
    worker.start()
    worker.join(LIMIT)
    assert not worker.is_alive(), "a statement of megabytes was never answered"
    assert answers == [[[]], [[EVENT]]]
    store.close()


def test_the_async_store_answers_them_too(schema: str) -> None:
    async def run() -> AuditEvent:
        store = AsyncPostgresStore(DSN, schema=schema, min_size=1, max_size=1)
        async with store, store.transaction() as tx:
            assert await tx.read([Query(THROTTLES, ("key",), KEYS)]) == [[]]
            await tx.add(AUDIT_EVENTS, [EVENT])
            [[found]] = await tx.read([Query(AUDIT_EVENTS, ("account_id", "id"), (WANTED,))])
        return found  # type: ignore[no-any-return]

    assert asyncio.run(asyncio.wait_for(run(), LIMIT)) == EVENT
