"""TRANSITIONAL: the base of the use-case groups not yet moved into :mod:`licensekit._usecases`.

:class:`ServiceCore` builds the shared :class:`~licensekit._usecases._context.Context` and
answers to the private names the older group ``_licensing`` calls, each by delegating to
:mod:`licensekit._usecases`. It goes when that group has moved.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Self, TypeVar

from licensekit._results import DeliveryFailure, Settings
from licensekit._usecases._access import Access, account, member, member_view, user
from licensekit._usecases._audit import audit, event
from licensekit._usecases._checks import (
    MAX_NAME as _MAX_NAME,
)
from licensekit._usecases._checks import (
    TOKEN_PLACEHOLDER,
    check_lifetime,
    check_limit,
)
from licensekit._usecases._checks import (
    as_id as _as_id,
)
from licensekit._usecases._checks import (
    bounded_entries as _bounded_entries,
)
from licensekit._usecases._checks import (
    check_cursor as _check_cursor,
)
from licensekit._usecases._checks import (
    clean_name as _clean_name,
)
from licensekit._usecases._checks import (
    clean_notes as _clean_notes,
)
from licensekit._usecases._checks import (
    filtered_page as _filtered_page,
)
from licensekit._usecases._checks import (
    id_list as _id_list,
)
from licensekit._usecases._checks import (
    parse_enum as _parse_enum,
)
from licensekit._usecases._checks import (
    plain_text as _plain_text,
)
from licensekit._usecases._checks import (
    require_text as _require_text,
)
from licensekit._usecases._checks import (
    scan_all as _scan_all,
)
from licensekit._usecases._context import Context, Links
from licensekit._usecases._delivery import SEND_CHUNK as _SEND_CHUNK
from licensekit._usecases._delivery import Delivery
from licensekit._usecases._join import JoinLinks
from licensekit._usecases._links import AccountLinks
from licensekit._usecases._runner import Runner, check_store
from licensekit._usecases._sessions import Sessions
from licensekit._usecases._tx import Tx
from licensekit._usecases._v1compat import V1Tx
from licensekit._usecases.accounts import Accounts
from licensekit._usecases.activation import Activation
from licensekit._usecases.install_invitations import InstallInvitations
from licensekit._usecases.installations import Installations
from licensekit._usecases.join_invitations import Invitees, JoinInvitations
from licensekit._usecases.keys import Keys
from licensekit._usecases.lockouts import Lockouts
from licensekit._usecases.members import Members
from licensekit._usecases.users import Passwords, Users
from licensekit.clock import Clock, SystemClock
from licensekit.codes import SecretKeys
from licensekit.exceptions import DeliveryError, ValidationError
from licensekit.mail import Mailer, Message, Templates, default_templates
from licensekit.model import (
    AuditAction,
    BusinessAccount,
    InstallInvitation,
    JoinInvitation,
    Membership,
    MemberView,
    Session,
    SessionRecord,
    User,
)
from licensekit.passwords import PasswordHasher
from licensekit.roles import Permission
from licensekit.storage import Store

__all__ = [
    "_MAX_NAME",
    "_SEND_CHUNK",
    "_TOKEN_PLACEHOLDER",
    "ServiceCore",
    "T",
    "_as_id",
    "_bounded_entries",
    "_check_cursor",
    "_clean_name",
    "_clean_notes",
    "_filtered_page",
    "_id_list",
    "_parse_enum",
    "_plain_text",
    "_require_text",
    "_scan_all",
]

T = TypeVar("T")
InvitationT = TypeVar("InvitationT", JoinInvitation, InstallInvitation)
_TOKEN_PLACEHOLDER = TOKEN_PLACEHOLDER


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
            if not isinstance(url, str) or url.count(TOKEN_PLACEHOLDER) != 1:
                raise ValidationError(f"{name} must contain {TOKEN_PLACEHOLDER} exactly once")
        if not isinstance(store, str | os.PathLike | Store):
            raise ValidationError(
                f"store must be a Store or the path of a SQLite file, not {type(store).__name__}"
            )
        if templates is not None and not isinstance(templates, Templates):
            raise ValidationError(f"templates must be Templates, not {type(templates).__name__}")
        clock = clock if clock is not None else SystemClock()
        passwords = password_hasher if password_hasher is not None else PasswordHasher()
        settings = settings if settings is not None else Settings()
        templates = templates if templates is not None else default_templates()
        self._keys = SecretKeys(secret)
        self._join_url = join_url
        self._download_url = download_url
        self._verify_url = verify_url
        self._reset_url = reset_url
        links = Links(join_url, download_url, verify_url, reset_url)
        # Last, once every argument is known to be good, so a refused call leaves no file open.
        if isinstance(store, str | os.PathLike):
            from licensekit.stores.sqlite import SQLiteStore  # sqlite3 only when it is used

            opened: Store = SQLiteStore(store)  # type: ignore[assignment]
            self._owns_store = True
        else:
            opened = store
            self._owns_store = False
        try:
            check_store(opened)
        except BaseException:
            if self._owns_store:
                opened.close()
            raise
        store = opened
        self._ctx = Context(
            store=store,
            runner=Runner(store, V1Tx),
            mailer=mailer,
            clock=clock,
            passwords=passwords,
            settings=settings,
            templates=templates,
            keys=self._keys,
            links=links,
        )
        self._access = Access(self._keys)
        self._delivery = Delivery(self._ctx)
        self._compose_accounts()
        self._compose_licensing()

    def _compose_accounts(self) -> None:
        """Build the groups of users, accounts, members and join invitations."""
        ctx, access, delivery = self._ctx, self._access, self._delivery
        sessions, links, join_links = Sessions(ctx), AccountLinks(ctx), JoinLinks(ctx, delivery)
        self._users = Users(ctx, access, delivery, sessions, links)
        self._passwords = Passwords(ctx, access, delivery, sessions, links)
        self._lockouts = Lockouts(ctx)
        self._accounts = Accounts(ctx, access)
        self._members = Members(ctx, access, delivery)
        self._join_invitations = JoinInvitations(ctx, access, delivery, join_links)
        self._invitees = Invitees(ctx, access, sessions, join_links)

    # The parts a LicenseKit works with, read from and written to the shared context, so
    # that a part replaced on a live object (a test swapping the mailer) reaches every group.
    @property
    def store(self) -> Store:
        """The store given, or opened from the path given."""
        return self._ctx.store

    @store.setter
    def store(self, value: Store) -> None:
        self._ctx.store = value
        self._ctx.runner.store = value

    @property
    def mailer(self) -> Mailer:
        """The mailer given."""
        return self._ctx.mailer

    @mailer.setter
    def mailer(self, value: Mailer) -> None:
        self._ctx.mailer = value

    @property
    def clock(self) -> Clock:
        """The clock in use."""
        return self._ctx.clock

    @clock.setter
    def clock(self, value: Clock) -> None:
        self._ctx.clock = value

    @property
    def passwords(self) -> PasswordHasher:
        """The password hasher in use."""
        return self._ctx.passwords

    @passwords.setter
    def passwords(self, value: PasswordHasher) -> None:
        self._ctx.passwords = value

    @property
    def settings(self) -> Settings:
        """The settings in use."""
        return self._ctx.settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self._ctx.settings = value

    @property
    def templates(self) -> Templates:
        """The email texts in use."""
        return self._ctx.templates

    @templates.setter
    def templates(self, value: Templates) -> None:
        self._ctx.templates = value

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

    # TRANSITIONAL: the names the version-1 use-case modules call, each a delegation to
    # licensekit._usecases; they go when those modules have moved there.
    def _transaction(self) -> AbstractContextManager[V1Tx]:
        return self._ctx.runner.transaction()  # type: ignore[return-value]

    def _session_hash(self, session: Session | str) -> bytes:
        return self._access.session_hash(session)

    def _authorize(
        self,
        tx: Tx,
        session: Session | str,
        account_id: str,
        permission: Permission,
        now: dt.datetime,
    ) -> tuple[SessionRecord, Membership]:
        return self._access.authorize(tx, session, account_id, permission, now)

    def _target(self, tx: Tx, account_id: str, user_id: str) -> Membership:
        return member(tx, account_id, user_id)

    def _member_view(self, tx: Tx, membership: Membership) -> MemberView:
        return member_view(tx, membership)

    def _user(self, tx: Tx, user_id: str) -> User:
        return user(tx, user_id)

    def _account(self, tx: Tx, account_id: str) -> BusinessAccount:
        return account(tx, account_id)

    def _deliver_and_record(
        self,
        items: Iterable[tuple[InvitationT, Callable[[], Message]]],
        record: Callable[
            [V1Tx, Sequence[InvitationT], Sequence[DeliveryFailure]], dict[str, InvitationT]
        ],
    ) -> tuple[dict[str, InvitationT], list[InvitationT], list[DeliveryFailure]]:
        return self._delivery.deliver_and_record(items, record)  # type: ignore[arg-type]

    _outcome = staticmethod(Delivery.outcome)
    _claim = staticmethod(Delivery.claim)

    def _try_send(self, message: Message) -> DeliveryError | None:
        return self._delivery.try_send(message)

    def _after_sending(self, record: Callable[[V1Tx], T]) -> T:
        return self._delivery.after_sending(record)  # type: ignore[arg-type]

    def _due_for_delivery(
        self, invitation: JoinInvitation | InstallInvitation, now: dt.datetime
    ) -> bool:
        return self._delivery.due(invitation, now)

    def _record_delivery(
        self,
        tx: Tx,
        delivered: Sequence[InvitationT],
        failed: Sequence[DeliveryFailure],
        now: dt.datetime,
        actor_id: str,
        fetch: Callable[[Sequence[str]], Sequence[InvitationT]],
        save: Callable[[Sequence[InvitationT]], None],
        actions: tuple[AuditAction, AuditAction],
    ) -> dict[str, InvitationT]:
        return self._delivery.record(tx, delivered, failed, now, actor_id, fetch, save, actions)

    def _check_limit(self, limit: int) -> int:
        return check_limit(limit, self.settings)

    def _check_lifetime(
        self, expires_in: dt.timedelta | str | None, default: dt.timedelta | None = None
    ) -> dt.timedelta:
        return check_lifetime(expires_in, self.settings, default)

    _event = staticmethod(event)
    _audit = staticmethod(audit)

    def _compose_licensing(self) -> None:
        """Build the groups of license keys, invitations to install and installations."""
        ctx, access, delivery = self._ctx, self._access, self._delivery
        self._keys_group = Keys(ctx, access)
        self._install_invitations = InstallInvitations(ctx, access, delivery)
        self._activation = Activation(ctx)
        self._installations = Installations(ctx, access)
