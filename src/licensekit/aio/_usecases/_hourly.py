"""The hourly limits over the store: seats a key takes, invitation emails an account sends.

The rules are :mod:`licensekit.domain._hourly_limits`; this module reads and writes their
records (:data:`~licensekit.storage.THROTTLES`) inside the transaction that does what is
counted, so a refusal leaves nothing done and nothing counted.

Scopes. Two calls racing must never both pass under a limit, so each count is read and
written under a scope every other writer of it holds:

* a key's activations are counted by activations alone, which hold ``key:<key id>``
  already (:mod:`licensekit._usecases.activation`): the count is read in the activation's
  one fetch of step 2 and written, once, with the rest in step 4;
* an account's invitation emails are counted under ``throttle:<key>`` of the count's key,
  locked by the transaction that stores or claims the invitations, after the scopes it
  holds already (``account:<id>``, ``key:<id>``), never before them.
"""

from __future__ import annotations

import datetime as dt

from licensekit._results import Settings
from licensekit.aio._usecases._audit import audit
from licensekit.aio._usecases._presented import throttle_scope
from licensekit.aio._usecases._tx import Tx
from licensekit.domain._hourly_limits import (
    activation_refusal,
    activations_key,
    admit,
    count_more,
    invitation_refusal,
    invitations_key,
)
from licensekit.domain.model import AuditAction, InstallInvitation, Throttle
from licensekit.exceptions import TooManyAttempts
from licensekit.storage import THROTTLES

__all__ = ["KeyActivations", "count_invitation_emails"]


class KeyActivations:
    """The hourly count of one key's activations, as one activation reads and writes it.

    Args:
        settings: The kit's settings (the limit; None turns it off and reads nothing).
        key_id: The key the activation is under.
    """

    __slots__ = ("_counted", "_key", "_limit", "_record")

    def __init__(self, settings: Settings, key_id: str) -> None:
        self._limit = settings.activations_per_key_per_hour
        self._key = None if self._limit is None else activations_key(key_id)
        self._record: Throttle | None = None
        self._counted: Throttle | None = None  # the record with this activation counted

    @property
    def key(self) -> str | None:
        """The key of the count's record, looked up with the activation's throttles.

        None when the limit is off: there is nothing to read.
        """
        return self._key

    def take(self, throttles: list[Throttle]) -> None:
        """Keep the count's record from *throttles*, the records found by their keys."""
        for throttle in throttles:
            if throttle.key == self._key:
                self._record = throttle

    async def refusal(
        self, tx: Tx, invitation: InstallInvitation, computer_id: str, now: dt.datetime
    ) -> TooManyAttempts | None:
        """Decide whether the activation may take one more seat of the key.

        Returns:
            None when it may (:meth:`count` then counts it), or the error to answer with;
            the first refusal of an hour is marked and audited in *tx*, which must commit.
        """
        if self._key is None or self._limit is None:
            return None
        counted = count_more(self._record, key=self._key, count=1, limit=self._limit, now=now)
        if counted is not None:
            self._counted = counted
            return None
        decision = admit(self._record, key=self._key, count=1, limit=self._limit, now=now)
        if decision.record is not None:
            await tx.put(THROTTLES, decision.record)
        if decision.audited:
            await audit(
                tx,
                now,
                invitation.account_id,
                "",
                AuditAction.ACTIVATION_REFUSED,
                invitation.id,
                key_id=invitation.key_id,
                email=invitation.email,
                computer_id=computer_id,
                reason=TooManyAttempts.__name__,
                limit=f"{self._limit} activations per hour",
            )
        return activation_refusal(decision, self._limit, now)

    async def count(self, tx: Tx) -> None:
        """Count the seat the activation took (after :meth:`refusal` let it), in *tx*.

        One write of the whole record, not a narrow increment: a server store queues a
        write until the commit, while an increment waits for its answer (one more round
        trip on the hot path). The key's scope keeps every other activation of the key out
        meanwhile, so the record read in step 2 is still the one stored.
        """
        if self._counted is not None:
            await tx.put(THROTTLES, self._counted)


async def count_invitation_emails(
    tx: Tx,
    settings: Settings,
    account_id: str,
    count: int,
    *,
    actor_id: str,
    now: dt.datetime,
) -> TooManyAttempts | None:
    """Count *count* invitation emails about to be handed to the mailer for *account_id*.

    Call it in the transaction that stores or claims the invitations, before it writes
    them, and after every check that may refuse the call for another reason.

    Returns:
        None when they fit (they are counted in *tx*), or the error refusing the whole call;
        then nothing is counted, and the first refusal of the hour is marked and audited in
        *tx*, which must commit and write nothing else.
    """
    limit = settings.invitations_per_account_per_hour
    if limit is None or count <= 0:
        return None
    key = invitations_key(account_id)
    await tx.lock(throttle_scope(key))
    record: Throttle | None = await tx.get(THROTTLES, key)
    decision = admit(record, key=key, count=count, limit=limit, now=now)
    if decision.record is not None:
        await tx.put(THROTTLES, decision.record)
    if decision.allowed:
        return None
    if decision.audited:
        await audit(
            tx,
            now,
            account_id,
            actor_id,
            AuditAction.INVITATION_LIMIT_REACHED,
            account_id,
            limit=str(limit),
            sent=str(decision.used),
            asked=str(count),
        )
    return invitation_refusal(decision, limit, count, now)
