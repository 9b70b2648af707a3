"""Invitations to install: codes, download links, CSV export, sending.

Scopes: inviting locks ``account:<account id>`` (it adds invitations to one of its keys).
Claiming invitations for sending (:meth:`InstallInvitations.send_install_invitations`) and
revoking one lock ``account:<account id>`` and ``key:<key id>``, and storing how sending went
(:mod:`licensekit._usecases._install_mail`) locks ``key:<key id>``: an activation changes an
invitation (its activations and computers) under that key scope, so no save here overwrites
one. A resend's reading, listings and exports lock nothing; a link's description locks only
the throttle scopes of a miss (:mod:`licensekit._usecases._presented`).

Invitations are read and written in bulk: inviting N addresses costs a constant number of
store operations per chunk of :data:`~licensekit._usecases._delivery.SEND_CHUNK`, and so do
sending and its bookkeeping.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

from licensekit._results import (
    DeliveryFailure,
    DeliveryReport,
    InstallInvitationBatch,
    InstallInvitationPreview,
    Settings,
)
from licensekit._usecases._checks import (
    CsvSource,
    as_id,
    check_cursor,
    check_lifetime,
    check_limit,
    clean_client,
    id_list,
    parse_enum,
    parse_recipients,
)
from licensekit._usecases._install_batch import InvitedViews, NewInstallBatch, Outcome
from licensekit._usecases._install_secrets import (
    check_download_template,
    download_link,
    install_secret_of,
    presented_invitation,
)
from licensekit.aio._usecases._access import Access
from licensekit.aio._usecases._audit import audit, events
from licensekit.aio._usecases._context import Context
from licensekit.aio._usecases._delivery import SEND_CHUNK, Delivery
from licensekit.aio._usecases._hourly import count_invitation_emails
from licensekit.aio._usecases._install_mail import InstallMail
from licensekit.aio._usecases._invitation_states import (
    install_invitations_in,
    usable_install_invitations,
)
from licensekit.aio._usecases._key_access import (
    account_scope,
    all_by_id,
    authorize_key,
    key_rights,
    key_scope,
    pages_by_id,
)
from licensekit.aio._usecases._listing import merged_page
from licensekit.aio._usecases._offload import offload_batch
from licensekit.aio._usecases._presented import find_presented
from licensekit.aio._usecases._tx import Tx, named, query
from licensekit.domain import licensing
from licensekit.domain._echo import echo
from licensekit.domain.model import (
    AuditAction,
    AuditEvent,
    BusinessAccount,
    InstallInvitation,
    InstallInvitationState,
    InstallInvitationView,
    LicenseKey,
    Page,
    Session,
    User,
)
from licensekit.domain.roles import Permission
from licensekit.domain.throttling import ThrottledSecret
from licensekit.emails import write_csv
from licensekit.exceptions import (
    ActivationCodeNotFound,
    InvitationNotFound,
    TooManyAttempts,
    ValidationError,
)
from licensekit.storage import (
    ACCOUNTS,
    AUDIT_EVENTS,
    INSTALL_INVITATIONS,
    LICENSE_KEYS,
    USERS,
    Query,
)

__all__ = ["InstallInvitations"]

_Described = tuple[InstallInvitation | None, dt.datetime | None, list[Any], list[Any]]
"""What a download link's description reads: the invitation, a lock's end, key, account."""


class InstallInvitations:
    """The use cases of this group (see :class:`licensekit.LicenseKit` for each one).

    Args:
        ctx: The shared context.
        access: Resolves and authorises sessions.
        delivery: Sends emails and records how it went.
    """

    def __init__(self, ctx: Context, access: Access, delivery: Delivery) -> None:
        self._ctx = ctx
        self._access = access
        self._mail = InstallMail(ctx, delivery)

    async def invite_installers(
        self,
        session: Session | str,
        account_id: str,
        key_id: str,
        emails: Iterable[str] | None = None,
        *,
        csv: CsvSource | None = None,
        language: str = "en",
        expires_in: dt.timedelta | str | None = None,
        max_activations: int = 1,
        send: bool = True,
    ) -> InstallInvitationBatch:
        """Invite people to install a key's product, each with their own code and link.

        Give the addresses either typed (*emails*) or as a single-column CSV (*csv*).
        Invalid rows and duplicates are reported with their row numbers; everyone else
        gets an invitation, all stored in one transaction before any email is sent. More
        invitations than free seats is allowed (the result warns): seats then go first
        come, first served. Inviting someone who was invited before for the same key gives
        them a second code (for a second computer, say); revoke the first if it should not
        work any more.

        Args:
            session: An Account Administrator, or a License Administrator of *key_id*.
            account_id: The business account.
            key_id: The license key the installations will use.
            emails: Addresses as typed; blanks are ignored.
            csv: Instead of *emails*: the CSV text itself (a ``str``), its UTF-8 bytes, a
                path (:class:`pathlib.Path`), or a text or binary file object.
            language: BCP 47 tag of the email's language.
            expires_in: Time until the codes stop working: a timedelta, a key of
                :data:`EXPIRY_PRESETS`, or an ISO 8601 duration in weeks, days, hours,
                minutes and seconds such as ``"P10D"`` or ``"PT36H"``; at most
                :attr:`Settings.max_invitation_lifetime` (default from :class:`Settings`).
            max_activations: How many computers each code may activate (default one).
            send: Send the emails now. With False, export the invitations first
                (:meth:`export_install_invitations`) and send them later
                (:meth:`send_install_invitations`).

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            LicenseKeyNotFound: No such key in *account_id*.
            PermissionDenied: The caller may not invite for this key.
            ConflictError: The key is suspended, removed or expired.
            ValidationError: Both or neither of *emails* and *csv*, an unreadable CSV, too
                many addresses, unsupported language, bad expiry or activation count, or
                no download URL template configured.
            TooManyAttempts: With *send*, the emails would pass the account's hourly limit
                (:attr:`Settings.invitations_per_account_per_hour`); nothing was stored.
        """
        ctx = self._ctx
        check_download_template(ctx.links)
        language = ctx.templates.resolve(language)
        lifetime = check_lifetime(
            expires_in, ctx.settings, ctx.settings.install_invitation_lifetime
        )
        max_activations = _check_max_activations(max_activations, ctx.settings)
        parsed = parse_recipients(emails, csv, ctx.settings)
        now = ctx.clock.now()
        expires_at = now + lifetime
        count = len(parsed.emails)

        async def work(
            tx: Tx,
        ) -> tuple[NewInstallBatch, LicenseKey, BusinessAccount, User] | TooManyAttempts:
            record, _, key = await authorize_key(
                self._access, tx, session, account_id, key_id, Permission.INVITE_INSTALLERS, now
            )
            licensing.check_key_invitable(key, now)
            refused = await count_invitation_emails(
                tx, ctx.settings, account_id, count if send else 0, actor_id=record.user_id, now=now
            )
            if refused is not None:
                return refused
            owner, inviters = await _senders(tx, account_id, [record.user_id])
            batch = NewInstallBatch(
                parsed.emails,
                now,
                account_id=account_id,
                key_id=key.id,
                inviter_id=record.user_id,
                language=language,
                expires_at=expires_at,
                max_activations=max_activations,
                send=send,
            )
            # A chunk of records at a time: made (the hashes and ciphertext are the slow
            # part), stored with their audit events, and let go.
            details = _created_details(batch)
            for start in range(0, count, SEND_CHUNK):
                stop = min(start + SEND_CHUNK, count)
                created = await offload_batch(stop - start, batch.records, ctx.keys, start, stop)
                await tx.add_all(INSTALL_INVITATIONS, created)
                await tx.add_all(AUDIT_EVENTS, _created_events(created, now, details))
            return batch, key, owner, inviters[record.user_id]

        outcome = await ctx.runner.run(work, account_scope(account_id))
        if isinstance(outcome, TooManyAttempts):
            raise outcome
        batch, key, owner, inviter = outcome
        warnings = licensing.invitation_warnings(key, count, expires_at)
        failed: dict[int, Outcome] = {}
        undelivered: list[DeliveryFailure] = []
        if send and count:
            failed, undelivered = await self._mail.send_new(batch, key, owner, inviter)
        return InstallInvitationBatch(
            key_id=key_id,
            invited=InvitedViews(batch, failed),
            skipped=tuple(sorted([*parsed.rejected, *parsed.duplicates], key=lambda r: r.row)),
            undelivered=tuple(undelivered),
            seats_free=key.seats_free,
            warnings=warnings,
        )

    async def list_install_invitations(
        self,
        session: Session | str,
        account_id: str,
        key_id: str,
        *,
        state: InstallInvitationState | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[InstallInvitationView]:
        """List a key's invitations to install, oldest first, optionally in one state.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            LicenseKeyNotFound: No such key in *account_id*.
            PermissionDenied: The caller may not see this key's invitations.
        """
        limit = check_limit(limit, self._ctx.settings)
        after = check_cursor(cursor, "inst")
        wanted = None if state is None else parse_enum(InstallInvitationState, state, "state")
        now = self._ctx.clock.now()

        async def work(tx: Tx) -> Page[InstallInvitation]:
            await authorize_key(
                self._access, tx, session, account_id, key_id, Permission.VIEW_INSTALLATIONS, now
            )
            filters: list[dict[str, Any] | None] = [None]
            if wanted is not None:
                filters = [*await install_invitations_in(tx, key_id, wanted, now)]
            return await merged_page(
                [pages_by_id(tx, INSTALL_INVITATIONS, key_id, where) for where in filters],
                lambda i: i.id,
                after,
                limit,
            )

        page = await self._ctx.runner.run(work)
        return Page(tuple(InstallInvitationView.of(i, now) for i in page.items), page.next_cursor)

    async def export_install_invitations(
        self,
        session: Session | str,
        account_id: str,
        key_id: str,
        *,
        invitation_ids: Iterable[str] | None = None,
        include_unusable: bool = False,
    ) -> str:
        """Return a key's invitations as CSV: email, temporary activation code, download URL.

        The text has a header row and CRLF line ends; every cell that a spreadsheet could
        read as a formula is made inert. Use it to write your own emails or to answer
        helpdesk questions. By default only invitations whose code can still activate a
        computer are exported: none while the key is suspended, removed or expired.

        Args:
            session: An Account Administrator, or a License Administrator of *key_id*.
            account_id: The business account.
            key_id: The license key.
            invitation_ids: Export only these (e.g. the batch just created).
            include_unusable: Also export revoked, expired and used-up invitations.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            LicenseKeyNotFound: No such key in *account_id*.
            PermissionDenied: The caller may not see this key's invitations.
            InvitationNotFound: One of *invitation_ids* is not an invitation of the key.
            ValidationError: *invitation_ids* is not a collection of ids, or names more than
                :attr:`Settings.max_batch_size` of them.
        """
        wanted = id_list(invitation_ids, "invitation_ids", self._ctx.settings.max_batch_size)
        now = self._ctx.clock.now()

        async def work(tx: Tx) -> list[InstallInvitation]:
            record, _, key = await authorize_key(
                self._access, tx, session, account_id, key_id, Permission.VIEW_INSTALLATIONS, now
            )
            key_works = licensing.key_usable(key, now)
            invitations = await _of_key(tx, key_id, wanted, None if include_unusable else now)
            chosen = [i for i in invitations if include_unusable or (key_works and i.usable(now))]
            await audit(
                tx,
                now,
                account_id,
                record.user_id,
                AuditAction.INSTALL_INVITATIONS_EXPORTED,
                key_id,
                count=str(len(chosen)),
            )
            return chosen

        rows = []
        for invitation in await self._ctx.runner.run(work):
            code, token = install_secret_of(self._ctx.keys, invitation)
            rows.append((invitation.email, code, download_link(self._ctx.links, token)))
        return write_csv(("email", "temporary_activation_code", "download_url"), rows)

    async def send_install_invitations(
        self,
        session: Session | str,
        account_id: str,
        key_id: str,
        *,
        invitation_ids: Iterable[str] | None = None,
    ) -> DeliveryReport[InstallInvitationView]:
        """Send the emails of invitations not delivered yet (all of the key's, or those named).

        Picks invitations whose email was never sent or failed in a way that may pass
        (:attr:`DeliveryStatus.FAILED`), so calling it again after a mail server outage
        retries exactly what is missing. Invitations already sent, refused for good by the
        server, revoked, expired or used up are left alone; use
        :meth:`resend_install_invitation` to send one again. One failure never stops the
        others; each is stored on its invitation and reported.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            LicenseKeyNotFound: No such key in *account_id*.
            PermissionDenied: The caller may not invite for this key.
            InvitationNotFound: One of *invitation_ids* is not an invitation of the key.
            ValidationError: *invitation_ids* is not a collection of ids, or names more than
                :attr:`Settings.max_batch_size` of them.
            ConflictError: The key is suspended, removed or expired.
            TooManyAttempts: The emails would pass the account's hourly limit
                (:attr:`Settings.invitations_per_account_per_hour`); none was sent.
        """
        wanted = id_list(invitation_ids, "invitation_ids", self._ctx.settings.max_batch_size)
        now = self._ctx.clock.now()

        async def work(
            tx: Tx,
        ) -> (
            tuple[str, LicenseKey, list[InstallInvitation], BusinessAccount, dict[str, User]]
            | TooManyAttempts
        ):
            record, _, key = await authorize_key(
                self._access, tx, session, account_id, key_id, Permission.INVITE_INSTALLERS, now
            )
            licensing.check_key_invitable(key, now)
            invitations = await _of_key(tx, key_id, wanted, now)
            due = self._mail.delivery.due
            chosen = [i for i in invitations if due(i, now) and i.usable(now)]
            refused = await count_invitation_emails(
                tx, self._ctx.settings, account_id, len(chosen), actor_id=record.user_id, now=now
            )
            if refused is not None:
                return refused
            unsent = await self._mail.delivery.claim(
                chosen, now, partial(tx.save_all, INSTALL_INVITATIONS)
            )
            owner, inviters = await _senders(tx, account_id, [i.invited_by for i in unsent])
            return record.user_id, key, unsent, owner, inviters

        outcome = await self._ctx.runner.run(work, account_scope(account_id), key_scope(key_id))
        if isinstance(outcome, TooManyAttempts):
            raise outcome
        actor_id, key, unsent, owner, inviters = outcome
        batch = [(i, *install_secret_of(self._ctx.keys, i)) for i in unsent]
        _, sent, undelivered = await self._mail.send(batch, key, owner, inviters, now, actor_id)
        return DeliveryReport(
            sent=tuple(InstallInvitationView.of(i, now) for i in sent),
            undelivered=tuple(undelivered),
        )

    async def resend_install_invitation(
        self, session: Session | str, account_id: str, invitation_id: str
    ) -> InstallInvitationView:
        """Send an invitation's email (again), with the same code and link.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            InvitationNotFound: No such invitation in *account_id*.
            PermissionDenied: The caller may not invite for the invitation's key.
            InvitationError: The invitation is revoked, expired or used up (invite again).
            ConflictError: The key is suspended, removed or expired.
            TooManyAttempts: The account sent as many invitation emails this hour as
                :attr:`Settings.invitations_per_account_per_hour` allows.
            DeliveryError: The mailer failed; the failure is stored on the invitation.
        """
        ctx = self._ctx
        now = ctx.clock.now()

        async def work(
            tx: Tx,
        ) -> tuple[str, InstallInvitation, LicenseKey, BusinessAccount, User] | TooManyAttempts:
            record, membership = await self._access.authorize(
                tx, session, account_id, Permission.VIEW_ACCOUNT, now
            )
            invitation = await _in_account(tx, account_id, invitation_id)
            key = await key_rights(
                tx, record, membership, account_id, invitation.key_id, Permission.INVITE_INSTALLERS
            )
            licensing.check_key_invitable(key, now)
            licensing.check_resendable(invitation, now)
            refused = await count_invitation_emails(
                tx, ctx.settings, account_id, 1, actor_id=record.user_id, now=now
            )
            if refused is not None:
                return refused
            owner, inviters = await _senders(tx, account_id, [invitation.invited_by])
            return record.user_id, invitation, key, owner, inviters[invitation.invited_by]

        outcome = await ctx.runner.run(work)
        if isinstance(outcome, TooManyAttempts):
            raise outcome
        actor_id, invitation, key, owner, inviter = outcome
        code, token = install_secret_of(ctx.keys, invitation)
        message = self._mail.message(invitation, code, token, key, owner, inviter)
        error = await self._mail.delivery.try_send(message)
        delivered, failed = self._mail.delivery.outcome(invitation, error)
        sent = await self._mail.delivery.after_sending(
            lambda tx: self._mail.record(key.id, tx, delivered, failed, now=now, actor_id=actor_id)
        )
        if error is not None:
            raise error
        return InstallInvitationView.of(sent[invitation.id], now)

    async def revoke_install_invitation(
        self, session: Session | str, account_id: str, invitation_id: str
    ) -> InstallInvitationView:
        """Revoke an invitation to install: its code and link stop working at once.

        Computers already activated with it keep their seats.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            InvitationNotFound: No such invitation in *account_id*.
            PermissionDenied: The caller may not invite for the invitation's key.
            InvitationRevoked: It was revoked already.
        """
        now = self._ctx.clock.now()

        async def work(tx: Tx) -> InstallInvitation:
            record, membership = await self._access.authorize(
                tx, session, account_id, Permission.VIEW_ACCOUNT, now
            )
            # Its key is fixed: lock the key's scope, then read what may have changed.
            key_id = (await _in_account(tx, account_id, invitation_id)).key_id
            await tx.lock(key_scope(key_id))
            invitation = await _in_account(tx, account_id, invitation_id)
            await key_rights(
                tx, record, membership, account_id, key_id, Permission.INVITE_INSTALLERS
            )
            revoked = licensing.revoke_install_invitation(
                invitation, actor_id=record.user_id, now=now
            )
            await tx.save(INSTALL_INVITATIONS, revoked)
            await audit(
                tx,
                now,
                account_id,
                record.user_id,
                AuditAction.INSTALL_INVITATION_REVOKED,
                invitation_id,
                email=invitation.email,
                key_id=invitation.key_id,
            )
            return revoked

        revoked = await self._ctx.runner.run(work, account_scope(account_id))
        return InstallInvitationView.of(revoked, now)

    async def describe_install_invitation(
        self, token: str, *, client: str = ""
    ) -> InstallInvitationPreview:
        """Return what a download link leads to, so the host's download page can serve it.

        Call it before handing out the installer: it tells the product to serve and checks
        that the link still works, without activating anything.

        Args:
            token: The token from the download link.
            client: An identifier of the requesting client (an IP address, say); unknown
                tokens are then also throttled per client.

        Raises:
            ActivationCodeNotFound: The token matches no invitation.
            ActivationCodeRevoked: The invitation was revoked.
            ActivationCodeExpired: The invitation has expired.
            LicenseKeyUnavailable: The key is suspended, removed or expired.
            TooManyAttempts: Too many unknown tokens from this client or overall.
            ValidationError: *client* is not text, holds a NUL or a lone surrogate,
                or is longer than 200 characters.
        """
        if not isinstance(token, str):
            raise ActivationCodeNotFound("this download link is not valid")
        ctx = self._ctx
        lookup = presented_invitation(ctx.keys, None, token)
        client = clean_client(client)
        now = ctx.clock.now()

        async def work(tx: Tx) -> _Described:
            presented = await find_presented(
                tx,
                lookup,
                client=client,
                secret=ThrottledSecret.ACTIVATION,
                settings=ctx.settings,
                now=now,
            )
            found, until = presented
            if found is None:
                return None, until, [], []
            keys, accounts = await tx.fetch(
                query(LICENSE_KEYS, id=found.key_id), query(ACCOUNTS, id=found.account_id)
            )
            return found, until, keys, accounts

        found, until, keys, accounts = await ctx.runner.run(work)
        if until is not None:
            raise TooManyAttempts("activation codes and tokens", until)
        return _preview(found, keys, accounts, now)


def _check_max_activations(value: object, settings: Settings) -> int:
    limit = settings.max_activations_per_code
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise ValidationError(
            f"max_activations must be a whole number from 1 to {limit}, got {echo(value)}"
        )
    return value


def _created_details(batch: NewInstallBatch) -> dict[str, str]:
    """The details every creation event of *batch* shares (written once per batch)."""
    return {
        "key_id": batch.key_id,
        "language": batch.language,
        "expires_at": batch.expires_at.isoformat(),
    }


def _created_events(
    created: Sequence[InstallInvitation], now: dt.datetime, details: dict[str, str]
) -> list[AuditEvent]:
    """Return the audit events of invitations to install just *created*."""
    return events(
        now,
        AuditAction.INSTALL_INVITATION_CREATED,
        [(i.account_id, i.invited_by, i.id, {"email": i.email, **details}) for i in created],
    )


async def _senders(
    tx: Tx, account_id: str, inviter_ids: Iterable[str]
) -> tuple[BusinessAccount, dict[str, User]]:
    """Return the account and the inviters (by id) that invitations' emails name, at once."""
    wanted = tuple(dict.fromkeys((i,) for i in inviter_ids))
    owner, people = await tx.fetch(query(ACCOUNTS, id=account_id), Query(USERS, ("id",), wanted))
    return owner[0], {u.id: u for u in people}


def _preview(
    found: InstallInvitation | None,
    keys: Sequence[LicenseKey],
    accounts: Sequence[BusinessAccount],
    now: dt.datetime,
) -> InstallInvitationPreview:
    """Return what the download link of the invitation *found* leads to, or raise why not."""
    if found is None:
        raise ActivationCodeNotFound("this download link is not valid")
    licensing.check_code_usable(found, now, new_computer=False)
    if not keys or not accounts:  # pragma: no cover - never deleted
        raise ActivationCodeNotFound("this download link is not valid")
    key = keys[0]
    licensing.check_key_usable(key, now)
    return InstallInvitationPreview(
        invitation_id=found.id,
        account_name=accounts[0].name,
        product=key.product,
        email=found.email,
        language=found.language,
        expires_at=found.expires_at,
        activations_left=max(found.max_activations - found.activations, 0),
    )


async def _of_key(
    tx: Tx, key_id: str, wanted: Sequence[str] | None, usable_at: dt.datetime | None = None
) -> list[InstallInvitation]:
    """Return every invitation of *key_id*, or those *wanted* (in one look-up), in order.

    With *usable_at* and no *wanted*, only those the store's filters give as possibly usable
    then (not revoked, not used up, not expired); the caller still checks each.

    Raises:
        InvitationNotFound: One of *wanted* is not an invitation of the key.
    """
    if wanted is None:
        filters = None
        if usable_at is not None:
            filters = await usable_install_invitations(tx, key_id, usable_at)
        invitations: list[InstallInvitation] = await all_by_id(
            tx, INSTALL_INVITATIONS, key_id, filters
        )
        return invitations
    return await named(
        tx,
        INSTALL_INVITATIONS,
        wanted,
        lambda invitation: invitation.key_id == key_id,
        lambda invitation_id: InvitationNotFound(
            f"no invitation {echo(invitation_id)} for license key {echo(key_id)}"
        ),
    )


async def _in_account(tx: Tx, account_id: str, invitation_id: str) -> InstallInvitation:
    """Return the invitation to install *invitation_id* of *account_id*, or raise."""
    wanted = as_id(invitation_id)
    invitation = None
    if wanted is not None:
        invitation = await tx.get(INSTALL_INVITATIONS, wanted)
    if invitation is None or invitation.account_id != account_id:
        raise InvitationNotFound(
            f"no invitation to install {echo(invitation_id)} in business account {echo(account_id)}"
        )
    return invitation
