"""A record the memory store cannot keep is refused before anything changes.

Found by a review: a record with None in a key field that is never None, or a value that
cannot be hashed, failed half-way through updating the indexes, outside the undo log, so a
rolled-back transaction left it readable.
"""

from __future__ import annotations

import datetime as dt

import pytest

from licensekit import MemoryStore
from licensekit.exceptions import StorageError
from licensekit.model import AuditAction, AuditEvent
from licensekit.storage import AUDIT_EVENTS, Query

T0 = dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.UTC)


def event(event_id: object, **changes: object) -> AuditEvent:
    fields: dict[str, object] = {
        "id": event_id,
        "account_id": "acc_1",
        "at": T0,
        "actor_id": "usr_1",
        "action": AuditAction.ACCOUNT_CREATED,
        "subject": "acc_1",
        **changes,
    }
    return AuditEvent(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [event(None), event("evt_2", account_id=["not", "hashable"])],
    ids=["None in the key", "an unhashable owner"],
)
def test_a_record_that_cannot_be_kept_is_refused_and_leaves_nothing(bad: AuditEvent) -> None:
    store = MemoryStore()
    with store.transaction() as tx:
        tx.add(AUDIT_EVENTS, [event("evt_1")])
    with pytest.raises(StorageError, match="cannot be kept"), store.transaction() as tx:
        tx.add(AUDIT_EVENTS, [event("evt_3"), bad])
    with store.transaction() as tx:
        assert tx.page(AUDIT_EVENTS, "acc_1", after=None, limit=10) == [event("evt_1")]
        (found,) = tx.read([Query(AUDIT_EVENTS, ("account_id", "id"), (("acc_1", "evt_3"),))])
        assert found == []
    assert store.dump() == [event("evt_1")]
