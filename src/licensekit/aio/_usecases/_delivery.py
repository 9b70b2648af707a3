"""Sending invitations' emails, and storing how each attempt went.

Mail is sent outside any transaction, in chunks; each chunk's outcome is stored before the
next chunk is rendered (so memory stays bounded and an interruption loses at most one chunk's
bookkeeping). An invitation being sent is *claimed* first (:attr:`DeliveryStatus.SENDING`),
so that overlapping calls skip it until the claim runs out.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from typing import Any, Protocol, TypeVar, cast

import attrs

from licensekit._results import DeliveryFailure
from licensekit.aio._usecases._audit import event, events
from licensekit.aio._usecases._context import Context
from licensekit.aio._usecases._offload import offload_batch
from licensekit.aio._usecases._tx import Tx
from licensekit.domain._replace import replacer
from licensekit.domain.model import (
    AuditAction,
    AuditEvent,
    DeliveryStatus,
    InstallInvitation,
    JoinInvitation,
)
from licensekit.exceptions import DeliveryError
from licensekit.mail import AsyncBatchMailer, Message
from licensekit.storage import AUDIT_EVENTS, RecordKind

__all__ = ["SEND_CHUNK", "Delivery", "failure", "mailer_error"]

T = TypeVar("T")
InvitationT = TypeVar("InvitationT", JoinInvitation, InstallInvitation)


class Sendable(Protocol):
    """What sending an invitation's email and recording it needs of the invitation."""

    @property
    def id(self) -> str: ...

    @property
    def email(self) -> str: ...

    @property
    def account_id(self) -> str: ...

    @property
    def sent_count(self) -> int: ...


SendableT = TypeVar("SendableT", bound=Sendable)

SEND_CHUNK = 500
"""Messages rendered and handed to the mailer at a time."""
MAX_DELIVERY_ERROR = 500
"""The longest reason for a failed delivery that is stored."""


class Delivery:
    """Sends invitations and records the outcome (see the module docstring).

    Args:
        ctx: The mailer, settings and runner to use.
    """

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    async def deliver(
        self, items: Sequence[tuple[SendableT, Callable[[], Message]]]
    ) -> tuple[list[SendableT], list[DeliveryFailure]]:
        """Render and hand every message to the mailer; return those delivered and failures.

        A :class:`~licensekit.mail.BatchMailer` gets the whole batch at once (one connection);
        any other mailer one message at a time. One failure never stops the others, and a
        message that cannot be rendered (its language was removed from the templates, say)
        fails alone, for good.
        """
        messages, failed = await offload_batch(len(items), _render, items)
        errors: Sequence[DeliveryError | None]
        if len(messages) > 1 and isinstance(self._ctx.mailer, AsyncBatchMailer):
            errors = await self.send_batch([m for _, m in messages])
        else:
            errors = [await self.try_send(m) for _, m in messages]
        delivered: list[SendableT] = []
        for (invitation, _), error in zip(messages, errors, strict=True):
            if error is None:
                delivered.append(invitation)
            else:
                failed.append(failure(invitation, error))
        return delivered, failed

    async def deliver_and_record(
        self,
        items: Iterable[tuple[InvitationT, Callable[[], Message]]],
        record: Callable[
            [Tx, Sequence[InvitationT], Sequence[DeliveryFailure]],
            Awaitable[dict[str, InvitationT]],
        ],
    ) -> tuple[dict[str, InvitationT], list[InvitationT], list[DeliveryFailure]]:
        """Send in chunks, storing each chunk's outcome with *record* before the next.

        Returns the invitations as now stored (by id), those delivered, and the failures.
        Only one chunk of messages is ever held in memory (a :class:`BatchMailer` gets one
        chunk per call), and an interruption leaves at most one chunk unrecorded, to be sent
        again once its claims run out.
        """
        stored: dict[str, InvitationT] = {}
        delivered: list[InvitationT] = []
        failed: list[DeliveryFailure] = []
        pending = iter(items)  # taken a chunk at a time: the rest is not even built yet
        while batch := list(itertools.islice(pending, SEND_CHUNK)):
            chunk: tuple[list[InvitationT], list[DeliveryFailure]] = await self.deliver(batch)
            sent, refused = chunk
            stored.update(await self.after_sending(partial(_record_chunk, record, chunk)))
            delivered.extend(sent)
            failed.extend(refused)
        return stored, delivered, failed

    @staticmethod
    def outcome(
        invitation: InvitationT, error: DeliveryError | None
    ) -> tuple[list[InvitationT], list[DeliveryFailure]]:
        """Return one invitation's sending outcome as (delivered, failed) lists."""
        if error is None:
            return [invitation], []
        return [], [failure(invitation, error)]

    async def send_batch(self, messages: list[Message]) -> Sequence[DeliveryError | None]:
        assert isinstance(self._ctx.mailer, AsyncBatchMailer)  # noqa: S101 - checked by the caller
        try:
            errors = list(await self._ctx.mailer.send_batch(messages))
        except Exception as e:  # a host mailer's own error must not lose the batch
            # Whatever failed the whole batch is not the fault of one address: retryable.
            error = mailer_error(e, f"a batch of {len(messages)}")
            return [error] * len(messages)
        if len(errors) != len(messages) or not all(
            e is None or isinstance(e, DeliveryError) for e in errors
        ):
            wrong = DeliveryError(
                f"the mailer's send_batch returned {len(errors)} results for "
                f"{len(messages)} messages, or results that are not DeliveryError or None"
            )
            return [wrong] * len(messages)
        return errors

    async def try_send(self, message: Message) -> DeliveryError | None:
        try:
            await self.send(message)
        except DeliveryError as e:
            return e
        return None

    async def send(self, message: Message) -> None:
        """Hand *message* to the mailer; any failure becomes a :class:`DeliveryError`."""
        try:
            await self._ctx.mailer.send(message)
        except DeliveryError:
            raise
        except Exception as e:  # a host mailer's own error must not escape half-way a batch
            raise mailer_error(e, message.to) from e

    async def after_sending(self, record: Callable[[Tx], Awaitable[T]]) -> T:
        """Run *record* (storing how sending went) in a transaction, retrying a busy store.

        The emails are out by then: giving up at the first busy moment would leave their
        invitations claimed, to be sent again once the claim runs out. The commit is not
        durable (no disk sync of its own): a crash of the machine that loses it leaves the
        invitations claimed, exactly as a crash between sending and this commit would.
        """
        return await self._ctx.runner.run(record, durable=False)

    def due(self, invitation: JoinInvitation | InstallInvitation, now: dt.datetime) -> bool:
        """True when *invitation*'s email was never handed over and nobody is sending it."""
        if invitation.delivery in (DeliveryStatus.NOT_SENT, DeliveryStatus.FAILED):
            return True
        if invitation.delivery is not DeliveryStatus.SENDING:
            return False
        started = invitation.delivery_started_at
        return started is None or now >= started + self._ctx.settings.delivery_claim_timeout

    @staticmethod
    async def claim(
        invitations: Sequence[InvitationT],
        now: dt.datetime,
        save: Callable[[Sequence[InvitationT]], Awaitable[None]],
    ) -> list[InvitationT]:
        """Mark *invitations* as being sent by this call, so that overlapping calls skip them."""
        claimed = [
            attrs.evolve(invitation, delivery=DeliveryStatus.SENDING, delivery_started_at=now)
            for invitation in invitations
        ]
        await save(claimed)
        return claimed

    async def record(
        self,
        tx: Tx,
        delivered: Sequence[Sendable],
        failed: Sequence[DeliveryFailure],
        now: dt.datetime,
        actor_id: str,
        kind: RecordKind[InvitationT],
        fetch: Callable[[Sequence[str]], Awaitable[Sequence[InvitationT]]],
        actions: tuple[AuditAction, AuditAction],
        *,
        reread: bool = False,
        keep: bool = True,
    ) -> dict[str, InvitationT]:
        """Store how sending went for each invitation; return them as now stored, by id.

        Audits each delivery with ``actions[0]`` and each failure with ``actions[1]``. The
        invitations delivered are written by one :meth:`~licensekit.storage.Transaction.
        update` of their delivery fields (a statement per chunk of keys, nothing read
        first), unless *reread* asks for them to be read with *fetch* and saved (when some
        may have moved under a scope the caller did not hold). Those that failed are always
        read: a later call may have sent them since, and its outcome is the newer. The
        caller holds the scope every other writer of these invitations holds.

        With *keep* False, the invitations delivered are not returned (nor made): *delivered*
        may then be any :class:`Sendable`, such as a new batch's compact entries.
        """
        updated: dict[str, InvitationT] = {}
        records: list[AuditEvent] = []
        sent_action, failed_action = actions
        if delivered and not reread:
            await tx.update(kind, [i.id for i in delivered], _sent_fields(now), add=_SENT_COUNTS)
            if keep:
                for sendable in delivered:
                    done = _sent(cast(InvitationT, sendable), now)
                    updated[done.id] = done
            records += events(
                now,
                sent_action,
                [(i.account_id, actor_id, i.id, _sent_details(i)) for i in delivered],
            )
        reread_ids: list[str] = [i.id for i in delivered] if reread else []
        if reread_ids or failed:
            stored = {
                i.id: i for i in await fetch([*reread_ids, *(f.invitation_id for f in failed)])
            }
            changed: list[InvitationT] = []
            for invitation_id in reread_ids:
                found = stored.get(invitation_id)
                if found is not None:
                    changed.append(_sent(found, now))
                    records.append(
                        event(
                            now,
                            found.account_id,
                            actor_id,
                            sent_action,
                            found.id,
                            **_sent_details(found),
                        )
                    )
            for failure in failed:
                found = stored.get(failure.invitation_id)
                if found is None:
                    continue
                later = found.delivery_started_at
                if later is not None and later > now:
                    # A later call (this one's claim had run out) has sent it, or tried: its
                    # outcome is newer than this failure, which is only audited.
                    records.append(
                        event(
                            now,
                            found.account_id,
                            actor_id,
                            failed_action,
                            found.id,
                            email=found.email,
                            delivery="superseded",
                            reason=failure.reason[:MAX_DELIVERY_ERROR],
                        )
                    )
                    continue
                status = DeliveryStatus.REFUSED if failure.permanent else DeliveryStatus.FAILED
                done = attrs.evolve(
                    found,
                    delivery=status,
                    delivery_attempts=found.delivery_attempts + 1,
                    delivery_error=failure.reason[:MAX_DELIVERY_ERROR],
                    delivery_started_at=now,
                )
                changed.append(done)
                records.append(
                    event(
                        now,
                        done.account_id,
                        actor_id,
                        failed_action,
                        done.id,
                        email=done.email,
                        delivery=status.value,
                        reason=done.delivery_error,
                    )
                )
            await tx.save_all(kind, changed)
            updated.update((i.id, i) for i in changed)
        await tx.add_all(AUDIT_EVENTS, records)
        return updated


def _sent_fields(now: dt.datetime) -> dict[str, object]:
    """The delivery fields an invitation sent at *now* holds."""
    return {
        "last_sent_at": now,
        "delivery": DeliveryStatus.SENT,
        "delivery_error": "",
        "delivery_started_at": now,
    }


_SENT_COUNTS = {"sent_count": 1, "delivery_attempts": 1}
"""What a sending adds to an invitation's counts."""


_REPLACERS: dict[type, Callable[..., Any]] = {}
"""``replacer(kind)`` of each kind of invitation, made when first needed."""


def _sent(invitation: InvitationT, now: dt.datetime) -> InvitationT:
    """Return *invitation* as recorded when its email was handed over at *now*."""
    kind = type(invitation)
    replace = _REPLACERS.get(kind)
    if replace is None:
        replace = _REPLACERS[kind] = replacer(kind)  # attrs.evolve, compiled for the kind
    done: InvitationT = replace(
        invitation,
        sent_count=invitation.sent_count + 1,
        last_sent_at=now,
        delivery=DeliveryStatus.SENT,
        delivery_attempts=invitation.delivery_attempts + 1,
        delivery_error="",
        delivery_started_at=now,
    )
    return done


def _sent_details(invitation: Sendable) -> dict[str, str]:
    """The details of the event of *invitation*'s email handed over (as it stood before)."""
    return {"email": invitation.email, "sent_count": str(invitation.sent_count + 1)}


async def _record_chunk(
    record: Callable[
        [Tx, Sequence[InvitationT], Sequence[DeliveryFailure]], Awaitable[dict[str, InvitationT]]
    ],
    chunk: tuple[list[InvitationT], list[DeliveryFailure]],
    tx: Tx,
) -> dict[str, InvitationT]:
    """Store how one chunk of sending went (a partial of this runs in a transaction)."""
    return await record(tx, *chunk)


def _render(
    items: Sequence[tuple[SendableT, Callable[[], Message]]],
) -> tuple[list[tuple[SendableT, Message]], list[DeliveryFailure]]:
    """Render every message (slow in bulk: offloaded); one that cannot be written fails."""
    failed: list[DeliveryFailure] = []
    messages: list[tuple[SendableT, Message]] = []
    for invitation, render in items:
        try:
            messages.append((invitation, render()))
        except Exception as e:
            reason = f"the email cannot be written: {type(e).__name__}: {e}"
            failed.append(DeliveryFailure(invitation.email, invitation.id, reason, True))
    return messages, failed


def failure(invitation: Sendable, error: DeliveryError) -> DeliveryFailure:
    return DeliveryFailure(invitation.email, invitation.id, str(error), error.permanent)


def mailer_error(error: Exception, what: str) -> DeliveryError:
    delivery = DeliveryError(f"the mailer failed for {what}: {type(error).__name__}: {error}")
    delivery.__cause__ = error
    return delivery
