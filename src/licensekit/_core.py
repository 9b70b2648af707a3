"""What every group of use cases shares: the constructor, sessions, authorisation, mail, audit.

:class:`licensekit.LicenseKit` is assembled from the groups in :mod:`licensekit._accounts` and
:mod:`licensekit._licensing`, which both build on :class:`ServiceCore` here.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import os
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Protocol, Self, TypeVar

import attrs

from licensekit import roles
from licensekit._echo import echo
from licensekit._ids import new_id
from licensekit._results import (
    EXPIRY_PRESETS,
    DeliveryFailure,
    Settings,
)
from licensekit._storage_v1 import Store, Transaction
from licensekit._text import lone_surrogate_at
from licensekit._validators import positive_timedelta
from licensekit.clock import Clock, SystemClock
from licensekit.codes import SecretKeys
from licensekit.exceptions import (
    AccountNotFound,
    DeliveryError,
    InvalidCursor,
    InvalidSession,
    MemberNotFound,
    StorageBusy,
    UserNotFound,
    ValidationError,
)
from licensekit.mail import (
    BatchMailer,
    Mailer,
    Message,
    Templates,
    default_templates,
)
from licensekit.model import (
    AuditAction,
    AuditEvent,
    BusinessAccount,
    DeliveryStatus,
    InstallInvitation,
    JoinInvitation,
    Membership,
    MemberStatus,
    MemberView,
    Page,
    Session,
    SessionRecord,
    User,
)
from licensekit.passwords import PasswordHasher
from licensekit.roles import Permission

__all__ = ["ServiceCore"]

T = TypeVar("T")


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


IdentifiedT = TypeVar("IdentifiedT", bound=_Identified)
InvitationT = TypeVar("InvitationT", JoinInvitation, InstallInvitation)
_TOKEN_PLACEHOLDER = "{token}"  # noqa: S105 - a template field, not a secret
_MAX_NAME = 200
_MAX_NOTES = 2000
_SCAN_CHUNK = 500
_MAX_DELIVERY_ERROR = 500
_RECORD_ATTEMPTS = 3
# Messages rendered and handed to the mailer at a time; each chunk's outcome is stored
# before the next is rendered, which bounds memory however many are sent.
_SEND_CHUNK = 500


class ServiceCore:
    """The state and the shared steps of every use case (see :class:`licensekit.LicenseKit`)."""

    def __init__(
        self,
        store: Store | str | os.PathLike[str],
        mailer: Mailer,
        *,
        secret: bytes | str,
        join_url: str,
        download_url: str | None = None,
        verify_url: str | None = None,
        reset_url: str | None = None,
        clock: Clock | None = None,
        password_hasher: PasswordHasher | None = None,
        settings: Settings | None = None,
        templates: Templates | None = None,
    ) -> None:
        for name, url in (
            ("join_url", join_url),
            ("download_url", download_url),
            ("verify_url", verify_url),
            ("reset_url", reset_url),
        ):
            if url is None and name != "join_url":
                continue
            if not isinstance(url, str) or url.count(_TOKEN_PLACEHOLDER) != 1:
                raise ValidationError(f"{name} must contain {_TOKEN_PLACEHOLDER} exactly once")
        if not isinstance(store, str | os.PathLike | Store):
            raise ValidationError(
                f"store must be a Store or the path of a SQLite file, not {type(store).__name__}"
            )
        if templates is not None and not isinstance(templates, Templates):
            raise ValidationError(f"templates must be Templates, not {type(templates).__name__}")
        self.mailer = mailer
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.passwords = password_hasher if password_hasher is not None else PasswordHasher()
        self.settings = settings if settings is not None else Settings()
        self.templates = templates if templates is not None else default_templates()
        self._keys = SecretKeys(secret)
        self._join_url = join_url
        self._download_url = download_url
        self._verify_url = verify_url
        self._reset_url = reset_url
        # Last, once every argument is known to be good, so a refused call leaves no file open.
        if isinstance(store, str | os.PathLike):
            from licensekit.stores.sqlite import SQLiteStore  # sqlite3 only when it is used

            store = SQLiteStore(store)
            self._owns_store = True
        else:
            self._owns_store = False
        self.store: Store = store

    def __repr__(self) -> str:
        return f"LicenseKit(store={self.store!r}, mailer={self.mailer!r}, clock={self.clock!r})"

    def close(self) -> None:
        """Close the store if this object opened it from a path.

        A store you passed in is yours to close. The object is not used afterwards.
        """
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _session_hash(self, session: Session | str) -> bytes:
        token = session.token if isinstance(session, Session) else session
        if not isinstance(token, str):
            raise InvalidSession("a session or a session token string is required")
        return self._keys.lookup_hash("session", token)

    def _resolve_session(
        self, tx: Transaction, session: Session | str, now: dt.datetime
    ) -> SessionRecord:
        record = tx.find_session_by_token_hash(self._session_hash(session))
        if record is None:
            raise InvalidSession("the session is unknown or has been logged out")
        if now >= record.expires_at:
            raise InvalidSession(f"the session expired at {record.expires_at.isoformat()}")
        return record

    def _authorize(
        self,
        tx: Transaction,
        session: Session | str,
        account_id: str,
        permission: Permission,
        now: dt.datetime,
    ) -> tuple[SessionRecord, Membership]:
        record = self._resolve_session(tx, session, now)
        wanted = _as_id(account_id)
        membership = None if wanted is None else tx.get_membership(wanted, record.user_id)
        roles.authorize(record.admin_grants, membership, permission, account_id=account_id)
        assert membership is not None  # noqa: S101 - authorize() raised otherwise
        return record, membership

    def _target(self, tx: Transaction, account_id: str, user_id: str) -> Membership:
        wanted = _as_id(user_id)
        membership = None if wanted is None else tx.get_membership(account_id, wanted)
        if membership is None or membership.status is MemberStatus.REMOVED:
            raise MemberNotFound(
                f"user {echo(user_id)} is not a member of account {echo(account_id)}"
            )
        return membership

    def _member_view(self, tx: Transaction, membership: Membership) -> MemberView:
        user = self._user(tx, membership.user_id)
        return MemberView(
            user_id=user.id,
            email=user.email,
            name=user.name,
            role=membership.role,
            status=membership.status,
            joined_at=membership.joined_at,
            updated_at=membership.updated_at,
            changed_by=membership.changed_by,
            notes=membership.notes,
            license_keys=tuple(sorted(membership.license_keys)),
        )

    def _user(self, tx: Transaction, user_id: str) -> User:
        user = None if (wanted := _as_id(user_id)) is None else tx.get_user(wanted)
        if user is None:
            raise UserNotFound(f"no user with id {echo(user_id)}")
        return user

    def _account(self, tx: Transaction, account_id: str) -> BusinessAccount:
        account = None if (wanted := _as_id(account_id)) is None else tx.get_account(wanted)
        if account is None:
            raise AccountNotFound(f"no business account {echo(account_id)}")
        return account

    def _deliver(
        self, items: Sequence[tuple[InvitationT, Callable[[], Message]]]
    ) -> tuple[list[InvitationT], list[DeliveryFailure]]:
        """Render and hand every message to the mailer; return those delivered and failures.

        A :class:`~licensekit.mail.BatchMailer` gets the whole batch at once (one connection);
        any other mailer one message at a time. One failure never stops the others, and a
        message that cannot be rendered (its language was removed from the templates, say)
        fails alone, for good.
        """
        failed: list[DeliveryFailure] = []
        messages: list[tuple[InvitationT, Message]] = []
        for invitation, render in items:
            try:
                messages.append((invitation, render()))
            except Exception as e:
                reason = f"the email cannot be written: {type(e).__name__}: {e}"
                failed.append(DeliveryFailure(invitation.email, invitation.id, reason, True))
        errors: Sequence[DeliveryError | None]
        if len(messages) > 1 and isinstance(self.mailer, BatchMailer):
            errors = self._send_batch([m for _, m in messages])
        else:
            errors = [self._try_send(m) for _, m in messages]
        delivered: list[InvitationT] = []
        for (invitation, _), error in zip(messages, errors, strict=True):
            if error is None:
                delivered.append(invitation)
            else:
                failed.append(_failure(invitation, error))
        return delivered, failed

    def _deliver_and_record(
        self,
        items: Iterable[tuple[InvitationT, Callable[[], Message]]],
        record: Callable[
            [Transaction, Sequence[InvitationT], Sequence[DeliveryFailure]],
            dict[str, InvitationT],
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
        while batch := list(itertools.islice(pending, _SEND_CHUNK)):
            chunk: tuple[list[InvitationT], list[DeliveryFailure]] = self._deliver(batch)
            sent, refused = chunk
            stored.update(self._after_sending(partial(_record_chunk, record, chunk)))
            delivered.extend(sent)
            failed.extend(refused)
        return stored, delivered, failed

    @staticmethod
    def _outcome(
        invitation: InvitationT, error: DeliveryError | None
    ) -> tuple[list[InvitationT], list[DeliveryFailure]]:
        """Return one invitation's sending outcome as (delivered, failed) lists."""
        if error is None:
            return [invitation], []
        return [], [_failure(invitation, error)]

    def _send_batch(self, messages: list[Message]) -> Sequence[DeliveryError | None]:
        assert isinstance(self.mailer, BatchMailer)  # noqa: S101 - checked by the caller
        try:
            errors = list(self.mailer.send_batch(messages))
        except Exception as e:  # a host mailer's own error must not lose the batch
            # Whatever failed the whole batch is not the fault of one address: retryable.
            error = _mailer_error(e, f"a batch of {len(messages)}")
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

    def _try_send(self, message: Message) -> DeliveryError | None:
        try:
            self._send(message)
        except DeliveryError as e:
            return e
        return None

    def _send(self, message: Message) -> None:
        """Hand *message* to the mailer; any failure becomes a :class:`DeliveryError`."""
        try:
            self.mailer.send(message)
        except DeliveryError:
            raise
        except Exception as e:  # a host mailer's own error must not escape half-way a batch
            raise _mailer_error(e, message.to) from e

    def _after_sending(self, record: Callable[[Transaction], T]) -> T:
        """Run *record* (storing how sending went) in a transaction, retrying a busy store.

        The emails are out by then: giving up at the first busy moment would leave their
        invitations claimed, to be sent again once the claim runs out.
        """
        for attempt in range(_RECORD_ATTEMPTS):
            try:
                with self.store.transaction() as tx:
                    return record(tx)
            except StorageBusy:
                if attempt + 1 == _RECORD_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _due_for_delivery(
        self, invitation: JoinInvitation | InstallInvitation, now: dt.datetime
    ) -> bool:
        """True when *invitation*'s email was never handed over and nobody is sending it."""
        if invitation.delivery in (DeliveryStatus.NOT_SENT, DeliveryStatus.FAILED):
            return True
        if invitation.delivery is not DeliveryStatus.SENDING:
            return False
        started = invitation.delivery_started_at
        return started is None or now >= started + self.settings.delivery_claim_timeout

    @staticmethod
    def _claim(
        invitations: Sequence[InvitationT],
        now: dt.datetime,
        save: Callable[[Sequence[InvitationT]], None],
    ) -> list[InvitationT]:
        """Mark *invitations* as being sent by this call, so that overlapping calls skip them."""
        claimed = [
            attrs.evolve(invitation, delivery=DeliveryStatus.SENDING, delivery_started_at=now)
            for invitation in invitations
        ]
        save(claimed)
        return claimed

    def _record_delivery(
        self,
        tx: Transaction,
        delivered: Sequence[InvitationT],
        failed: Sequence[DeliveryFailure],
        now: dt.datetime,
        actor_id: str,
        fetch: Callable[[Sequence[str]], Sequence[InvitationT]],
        save: Callable[[Sequence[InvitationT]], None],
        actions: tuple[AuditAction, AuditAction],
    ) -> dict[str, InvitationT]:
        """Store how sending went for each invitation; return them as now stored, by id.

        Audits each delivery with ``actions[0]`` and each failure with ``actions[1]``. The
        invitations are read and written in bulk (*fetch* and *save* take many).
        """
        stored = {
            i.id: i for i in fetch([*(i.id for i in delivered), *(f.invitation_id for f in failed)])
        }
        updated: dict[str, InvitationT] = {}
        events = []
        for invitation in delivered:
            current = stored.get(invitation.id, invitation)
            if current == invitation:
                current = invitation  # the same record: keep the copy whose values are shared
            done = attrs.evolve(
                current,
                sent_count=current.sent_count + 1,
                last_sent_at=now,
                delivery=DeliveryStatus.SENT,
                delivery_attempts=current.delivery_attempts + 1,
                delivery_error="",
                delivery_started_at=now,
            )
            updated[done.id] = done
            events.append(
                self._event(
                    now,
                    done.account_id,
                    actor_id,
                    actions[0],
                    done.id,
                    email=done.email,
                    sent_count=str(done.sent_count),
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
                events.append(
                    self._event(
                        now,
                        found.account_id,
                        actor_id,
                        actions[1],
                        found.id,
                        email=found.email,
                        delivery="superseded",
                        reason=failure.reason[:_MAX_DELIVERY_ERROR],
                    )
                )
                continue
            status = DeliveryStatus.REFUSED if failure.permanent else DeliveryStatus.FAILED
            done = attrs.evolve(
                found,
                delivery=status,
                delivery_attempts=found.delivery_attempts + 1,
                delivery_error=failure.reason[:_MAX_DELIVERY_ERROR],
                delivery_started_at=now,
            )
            updated[done.id] = done
            events.append(
                self._event(
                    now,
                    done.account_id,
                    actor_id,
                    actions[1],
                    done.id,
                    email=done.email,
                    delivery=status.value,
                    reason=done.delivery_error,
                )
            )
        save(list(updated.values()))
        tx.add_audit_events(events)
        return updated

    def _check_limit(self, limit: int) -> int:
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise ValidationError(f"limit must be an integer, got {echo(limit)}")
        if not 1 <= limit <= self.settings.max_page_size:
            raise ValidationError(
                f"limit must be between 1 and {self.settings.max_page_size}, got {limit}"
            )
        return limit

    def _check_lifetime(
        self, expires_in: dt.timedelta | str | None, default: dt.timedelta | None = None
    ) -> dt.timedelta:
        if expires_in is None:
            return default if default is not None else self.settings.invitation_lifetime
        if isinstance(expires_in, str):
            if expires_in not in EXPIRY_PRESETS:
                raise ValidationError(
                    f"unknown expiry preset {echo(expires_in)}; choose one of: "
                    f"{', '.join(EXPIRY_PRESETS)}, or give a timedelta"
                )
            expires_in = EXPIRY_PRESETS[expires_in]
        expires_in = positive_timedelta(expires_in, "expires_in")
        if expires_in > self.settings.max_invitation_lifetime:
            raise ValidationError(
                f"expires_in may be at most {self.settings.max_invitation_lifetime}, "
                f"got {expires_in}"
            )
        return expires_in

    def _event(
        self,
        now: dt.datetime,
        account_id: str,
        actor_id: str,
        action: AuditAction,
        subject: str,
        **details: str,
    ) -> AuditEvent:
        return AuditEvent(
            id=new_id("evt", now),
            account_id=account_id,
            at=now,
            actor_id=actor_id,
            action=action,
            subject=subject,
            details=details,
        )

    def _audit(
        self,
        tx: Transaction,
        now: dt.datetime,
        account_id: str,
        actor_id: str,
        action: AuditAction,
        subject: str,
        **details: str,
    ) -> None:
        tx.add_audit_events([self._event(now, account_id, actor_id, action, subject, **details)])


def _record_chunk(
    record: Callable[
        [Transaction, Sequence[InvitationT], Sequence[DeliveryFailure]], dict[str, InvitationT]
    ],
    chunk: tuple[list[InvitationT], list[DeliveryFailure]],
    tx: Transaction,
) -> dict[str, InvitationT]:
    """Store how one chunk of sending went (a partial of this is run by _after_sending)."""
    return record(tx, *chunk)


E = TypeVar("E", bound=enum.Enum)


def _failure(
    invitation: JoinInvitation | InstallInvitation, error: DeliveryError
) -> DeliveryFailure:
    return DeliveryFailure(invitation.email, invitation.id, str(error), error.permanent)


def _mailer_error(error: Exception, what: str) -> DeliveryError:
    delivery = DeliveryError(f"the mailer failed for {what}: {type(error).__name__}: {error}")
    delivery.__cause__ = error
    return delivery


def _parse_enum(kind: type[E], value: object, what: str) -> E:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(str(member.value) for member in kind)
        raise ValidationError(f"unknown {what} {echo(value)}; choose one of: {choices}") from None


def _as_id(value: object) -> str | None:
    """Return *value* if it can be an id; anything else matches nothing."""
    return value if isinstance(value, str) else None


def _require_text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be text, got {type(value).__name__}")
    return value


def _plain_text(value: object, what: str) -> str:
    """Return *value* if it is text that can be stored, hashed and shown as it is.

    Raises:
        ValidationError: *value* is not text, or holds a NUL character or a lone surrogate
            (half of a UTF-16 pair, which no encoding can write), named by its position.
    """
    text = _require_text(value, what)
    nul = text.find("\x00")
    if nul >= 0:
        raise ValidationError(f"{what} must not contain a NUL character (one is at {nul})")
    surrogate = lone_surrogate_at(text)
    if surrogate is not None:
        raise ValidationError(
            f"{what} must be valid Unicode text: it holds a lone surrogate "
            f"U+{ord(text[surrogate]):04X} at {surrogate}"
        )
    return text


def _clean_name(value: str, what: str, *, required: bool) -> str:
    cleaned = " ".join(_require_text(value, what).split())
    if required and not cleaned:
        raise ValidationError(f"{what} must not be empty")
    if len(cleaned) > _MAX_NAME:
        raise ValidationError(f"{what} must be at most {_MAX_NAME} characters")
    if any(_is_hidden_control(ch) for ch in cleaned):
        raise ValidationError(
            f"{what} must not contain control characters or invisible direction and spacing marks"
        )
    return cleaned


# Names may not hold controls, line or paragraph separators, or invisible format characters
# (direction overrides and marks, zero-width space, word joiner, byte order mark, soft
# hyphen...), which can disguise a name or break an email's lines. The zero-width joiner and
# non-joiner (emoji sequences, Persian and Indic scripts) and the tag characters of flag
# sequences are the format characters that ordinary names need.
_ALLOWED_FORMAT = frozenset("\u200c\u200d") | frozenset(map(chr, range(0xE0020, 0xE0080)))
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def _is_hidden_control(ch: str) -> bool:
    category = unicodedata.category(ch)
    if category == "Cf":
        return ch not in _ALLOWED_FORMAT
    return category in _REFUSED_CATEGORIES


def _bounded_entries(emails: object, limit: int) -> list[object]:
    """Return the entries of a typed address list, refusing more than *limit* non-blank ones.

    Stops reading as soon as the limit is passed, so an endless iterable is refused too;
    blank entries are skipped but not without end (at most as many again, plus 1,000).
    """
    if isinstance(emails, (str, bytes, bytearray, memoryview)) or not isinstance(emails, Iterable):
        raise ValidationError(
            f"emails must be a collection of addresses, not {type(emails).__name__}"
        )
    entries: list[object] = []
    given = 0
    most = 2 * limit + 1000
    for entry in emails:
        entries.append(entry)
        if len(entries) > most:
            raise ValidationError(f"more than {most} entries, most of them blank")
        if not isinstance(entry, str) or entry.strip():
            given += 1
            if given > limit:
                raise ValidationError(f"more than {limit} addresses; the limit per call is {limit}")
    return entries


def _clean_notes(notes: str) -> str:
    cleaned = _require_text(notes, "notes").strip()
    if len(cleaned) > _MAX_NOTES:
        raise ValidationError(f"notes must be at most {_MAX_NOTES} characters")
    return _plain_text(cleaned, "notes")


def _check_cursor(cursor: object, prefix: str) -> str | None:
    if cursor is None:
        return None
    if not isinstance(cursor, str) or not cursor.startswith(prefix + "_"):
        raise InvalidCursor(f"cursor {echo(cursor)} does not belong to this listing")
    return cursor


def _filtered_page(
    fetch: Callable[[str | None, int], Sequence[T]],
    key: Callable[[T], str],
    keep: Callable[[T], bool],
    after: str | None,
    limit: int,
) -> Page[T]:
    """Collect up to *limit* kept items after *after*, fetching in chunks; say if more exist."""
    kept: list[T] = []
    chunk = limit + 1
    while True:
        batch = fetch(after, chunk)
        for item in batch:
            if not keep(item):
                continue
            if len(kept) == limit:
                return Page(tuple(kept), key(kept[-1]))
            kept.append(item)
        if len(batch) < chunk:
            return Page(tuple(kept), None)
        after = key(batch[-1])


def _id_list(ids: Iterable[str], what: str) -> list[str]:
    if isinstance(ids, str) or not isinstance(ids, Iterable):
        raise ValidationError(f"{what} must be a collection of ids, not {type(ids).__name__}")
    listed = list(ids)
    if not all(isinstance(i, str) for i in listed):
        raise ValidationError(f"{what} must hold id strings only")
    return list(dict.fromkeys(listed))


def _scan_all(fetch: Callable[[str | None, int], Sequence[IdentifiedT]]) -> list[IdentifiedT]:
    """Read every record of a listing keyed by ``id``, in chunks."""
    result: list[IdentifiedT] = []
    after: str | None = None
    while True:
        batch = fetch(after, _SCAN_CHUNK)
        result.extend(batch)
        if len(batch) < _SCAN_CHUNK:
            return result
        after = batch[-1].id
