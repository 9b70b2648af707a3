"""Audit events: how a use case writes what it did into an account's trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

from licensekit._ids import new_id, new_ids
from licensekit.aio._usecases._tx import Tx
from licensekit.domain._construct import deferred
from licensekit.domain.model import AuditAction, AuditEvent
from licensekit.storage import AUDIT_EVENTS

__all__ = ["audit", "event", "events"]

# AuditEvent(...) made quicker (see licensekit.domain._construct), compiled on first use.
_new_event: Callable[..., AuditEvent] = deferred(AuditEvent, globals(), "_new_event")


def event(
    now: dt.datetime,
    account_id: str,
    actor_id: str,
    action: AuditAction,
    subject: str,
    **details: str,
) -> AuditEvent:
    """Return an event of *account_id*'s trail: *actor_id* did *action* to *subject* at *now*."""
    return _new_event(
        id=new_id("evt", now),
        account_id=account_id,
        at=now,
        actor_id=actor_id,
        action=action,
        subject=subject,
        details=details,
    )


def events(
    now: dt.datetime,
    action: AuditAction,
    rows: Sequence[tuple[str, str, str, Mapping[str, str]]],
) -> list[AuditEvent]:
    """Return one event of *action* at *now* per (account, actor, subject, details) row.

    The ids of a batch are made at once (see :func:`licensekit._ids.new_ids`); a single
    event's id comes from the batch of random tails :func:`licensekit._ids.new_id` keeps.
    """
    ids = [new_id("evt", now)] if len(rows) == 1 else new_ids("evt", now, len(rows))
    return [
        _new_event(
            id=event_id,
            account_id=account_id,
            at=now,
            actor_id=actor_id,
            action=action,
            subject=subject,
            details=details,
        )
        for event_id, (account_id, actor_id, subject, details) in zip(ids, rows, strict=True)
    ]


async def audit(
    tx: Tx,
    now: dt.datetime,
    account_id: str,
    actor_id: str,
    action: AuditAction,
    subject: str,
    **details: str,
) -> None:
    """Write one event (see :func:`event`, made here without another call) in *tx*."""
    await tx.add(
        AUDIT_EVENTS,
        _new_event(
            id=new_id("evt", now),
            account_id=account_id,
            at=now,
            actor_id=actor_id,
            action=action,
            subject=subject,
            details=details,
        ),
    )
