"""Audit events: how a use case writes what it did into an account's trail."""

from __future__ import annotations

import datetime as dt

from licensekit._ids import new_id
from licensekit.aio._usecases._tx import Tx
from licensekit.domain.model import AuditAction, AuditEvent
from licensekit.storage import AUDIT_EVENTS

__all__ = ["audit", "event"]


def event(
    now: dt.datetime,
    account_id: str,
    actor_id: str,
    action: AuditAction,
    subject: str,
    **details: str,
) -> AuditEvent:
    """Return an event of *account_id*'s trail: *actor_id* did *action* to *subject* at *now*."""
    return AuditEvent(
        id=new_id("evt", now),
        account_id=account_id,
        at=now,
        actor_id=actor_id,
        action=action,
        subject=subject,
        details=details,
    )


async def audit(
    tx: Tx,
    now: dt.datetime,
    account_id: str,
    actor_id: str,
    action: AuditAction,
    subject: str,
    **details: str,
) -> None:
    """Write one event (see :func:`event`) in *tx*."""
    await tx.add(AUDIT_EVENTS, event(now, account_id, actor_id, action, subject, **details))
