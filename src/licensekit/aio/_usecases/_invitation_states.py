"""Listing invitations by state: the expiries passed are noted first, then phases suffice.

An invitation's state depends on the clock (pending until its expiry, expired from then on),
while a store indexes only what its fields say: the invitation's ``phase``. So that a page of
pending or of expired invitations reads only that page, however many invitations of the other
kind the owner holds, a listing by state first notes the expiry of every invitation of the
phases it reads that has expired by now and was not noted yet (``expiry_noted_at``, which moves
the invitation to the ``expired`` phase); within that transaction each phase then holds
exactly the invitations of one state. Finding them is a range of expiries (an index on the
owner, the phase and the expiry), so it costs what expired since the last listing, not what
the owner holds; an expiry is noted once.

The note is a field the invitation keeps, written without reading the rest of the record
(:meth:`~licensekit.storage.Transaction.update`), so it never undoes another write; a write
that loses it (a whole record saved from an older read) only makes a later listing note it
again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from licensekit.aio._usecases._tx import Tx
from licensekit.domain.model import (
    InstallInvitationPhase,
    InstallInvitationState,
    InvitationState,
    JoinInvitationPhase,
)
from licensekit.storage import INSTALL_INVITATIONS, JOIN_INVITATIONS, Range, RecordKind

__all__ = [
    "NOTE_CHUNK",
    "install_invitations_in",
    "join_invitations_in",
    "note_expired",
    "usable_install_invitations",
]

NOTE_CHUNK = 2_000
"""Invitations whose expiry is noted at a time (one page read, one update)."""

_LIVE_INSTALL = (
    InstallInvitationPhase.ACTIVATED,
    InstallInvitationPhase.SENT,
    InstallInvitationPhase.PENDING,
)
"""The phases of invitations to install whose invitations expire at their expiry."""


async def note_expired(
    tx: Tx, kind: RecordKind[Any], owner: str, phases: Iterable[str], now: dt.datetime
) -> int:
    """Note the expiry of *owner*'s invitations of *kind* in *phases* that expired by *now*.

    Afterwards, in this transaction, *phases* hold only invitations still live at *now*.

    Returns:
        How many invitations were noted.
    """
    noted = 0
    ended = Range(up_to=now)
    for phase in phases:
        after: tuple[str] | None = None
        while True:
            where = {"phase": phase, "expires_at": ended}
            found = await tx.page(kind, owner, after=after, limit=NOTE_CHUNK, where=where)
            noted += await tx.update(kind, [i.id for i in found], {"expiry_noted_at": now})
            if len(found) < NOTE_CHUNK:
                break
            after = (found[-1].id,)
    return noted


async def install_invitations_in(
    tx: Tx, key_id: str, state: InstallInvitationState, now: dt.datetime
) -> list[dict[str, Any]]:
    """Return the filters whose invitations of *key_id* are together those in *state* at *now*.

    The expiries that the filters' phases depend on are noted first (:func:`note_expired`).
    """
    if state is InstallInvitationState.REVOKED:
        return [{"phase": InstallInvitationPhase.REVOKED}]
    if state is InstallInvitationState.ACTIVATED:
        await note_expired(tx, INSTALL_INVITATIONS, key_id, [InstallInvitationPhase.ACTIVATED], now)
        return [
            {"phase": InstallInvitationPhase.USED_UP},
            {"phase": InstallInvitationPhase.ACTIVATED},
        ]
    if state is InstallInvitationState.EXPIRED:
        await note_expired(tx, INSTALL_INVITATIONS, key_id, _LIVE_INSTALL, now)
        return [{"phase": InstallInvitationPhase.EXPIRED}]
    phase = InstallInvitationPhase(state.value)  # sent or pending: a phase of the same name
    await note_expired(tx, INSTALL_INVITATIONS, key_id, [phase], now)
    return [{"phase": phase}]


async def usable_install_invitations(tx: Tx, key_id: str, now: dt.datetime) -> list[dict[str, Any]]:
    """Return the filters whose invitations of *key_id* may be usable at *now*.

    Those not revoked, used up or expired, after noting expiries; the caller still checks
    each.
    """
    await note_expired(tx, INSTALL_INVITATIONS, key_id, _LIVE_INSTALL, now)
    return [{"phase": phase} for phase in _LIVE_INSTALL]


async def join_invitations_in(
    tx: Tx, account_id: str, state: InvitationState, now: dt.datetime
) -> list[dict[str, Any]]:
    """Return the filter whose join invitations of *account_id* are those in *state*.

    The open ones' expiries are noted first if the state depends on them.
    """
    if state is InvitationState.ACCEPTED:
        return [{"phase": JoinInvitationPhase.ACCEPTED}]
    if state is InvitationState.REVOKED:
        return [{"phase": JoinInvitationPhase.REVOKED}]
    await note_expired(tx, JOIN_INVITATIONS, account_id, [JoinInvitationPhase.OPEN], now)
    if state is InvitationState.EXPIRED:
        return [{"phase": JoinInvitationPhase.EXPIRED}]
    return [{"phase": JoinInvitationPhase.OPEN}]
