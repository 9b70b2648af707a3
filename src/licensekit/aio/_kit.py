"""The use cases: one facade, :class:`AsyncLicenseKit`, over a store, a mailer and a clock.

Every method follows the same shape: read the clock once, do slow or CPU-bound work (password
hashing, token and code generation, encryption) outside the store's transaction, then open one
transaction, load what the rules need, call the pure rules of :mod:`licensekit.members`,
:mod:`licensekit.licensing` and :mod:`licensekit.roles`, and write the result. Emails are sent
after the transaction commits, so an invitation is never lost to a mail failure.

The facade composes groups of use cases (:mod:`licensekit.aio._usecases`: users and passwords,
business accounts, members, join invitations, license keys, invitations to install,
activation, installations, lock-outs) over one shared context, and hands each public method
to one group. The values they take and return are defined beside them and exported here.

Nothing is loaded before it is needed: reaching the class imports no group (they are named
through :mod:`licensekit._deferred` stand-ins, and type checkers see the real classes);
constructing a kit imports and checks its context (bad arguments are refused there); the
first call of a method makes its group, importing the group's module. A process that only
activates and checks in never loads the code that invites or lists members.
"""

from __future__ import annotations

import os

from licensekit._deferred import binds_annotation_names, deferred, made_on_first_use
from licensekit.aio._usecases._delegation import delegate

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy reads it alike
if TYPE_CHECKING:
    from typing import Self

    from licensekit._results import (
        EXPIRY_PRESETS,
        AccountMembership,
        ActivationResult,
        CheckInResult,
        CsvPage,
        CullReport,
        DeliveryFailure,
        DeliveryReport,
        InstallInvitationBatch,
        InstallInvitationPreview,
        InvitationPreview,
        JoinInvitationBatch,
        MoveReport,
        PurgeReport,
        Settings,
    )
    from licensekit._signer import Signer
    from licensekit.aio._usecases._access import Access
    from licensekit.aio._usecases._context import Links, open_context
    from licensekit.aio._usecases._delivery import Delivery
    from licensekit.aio._usecases._join import JoinLinks
    from licensekit.aio._usecases._links import AccountLinks
    from licensekit.aio._usecases._sessions import Sessions
    from licensekit.aio._usecases.accounts import Accounts
    from licensekit.aio._usecases.activation import Activation
    from licensekit.aio._usecases.additional_keys import AdditionalKeys
    from licensekit.aio._usecases.culling import Culling
    from licensekit.aio._usecases.install_invitations import InstallInvitations
    from licensekit.aio._usecases.installation_export import InstallationExport
    from licensekit.aio._usecases.installations import Installations
    from licensekit.aio._usecases.join_invitations import Invitees, JoinInvitations
    from licensekit.aio._usecases.key_grants import KeyGrants
    from licensekit.aio._usecases.key_moves import KeyMoves
    from licensekit.aio._usecases.keys import Keys
    from licensekit.aio._usecases.lockouts import Lockouts
    from licensekit.aio._usecases.members import Members
    from licensekit.aio._usecases.users import Passwords, Users
    from licensekit.clock import Clock
    from licensekit.mail import AsyncMailer, Mailer, Templates
    from licensekit.passwords import PasswordHasher
    from licensekit.storage import AsyncStore, Store
else:
    # At run time each name stands in for its class or function, imported on first use: a
    # group's module when one of its methods is first looked up, the context's when a kit is
    # first made. Type checkers, above, see the real ones.
    _USECASES = "licensekit.aio._usecases"
    (Access,) = deferred(f"{_USECASES}._access", "Access")
    Links, open_context = deferred(f"{_USECASES}._context", "Links", "open_context")
    (Delivery,) = deferred(f"{_USECASES}._delivery", "Delivery")
    (JoinLinks,) = deferred(f"{_USECASES}._join", "JoinLinks")
    (AccountLinks,) = deferred(f"{_USECASES}._links", "AccountLinks")
    (Sessions,) = deferred(f"{_USECASES}._sessions", "Sessions")
    (Accounts,) = deferred(f"{_USECASES}.accounts", "Accounts")
    (Activation,) = deferred(f"{_USECASES}.activation", "Activation")
    (AdditionalKeys,) = deferred(f"{_USECASES}.additional_keys", "AdditionalKeys")
    (Culling,) = deferred(f"{_USECASES}.culling", "Culling")
    (InstallInvitations,) = deferred(f"{_USECASES}.install_invitations", "InstallInvitations")
    (InstallationExport,) = deferred(f"{_USECASES}.installation_export", "InstallationExport")
    (Installations,) = deferred(f"{_USECASES}.installations", "Installations")
    Invitees, JoinInvitations = deferred(
        f"{_USECASES}.join_invitations", "Invitees", "JoinInvitations"
    )
    (KeyGrants,) = deferred(f"{_USECASES}.key_grants", "KeyGrants")
    (KeyMoves,) = deferred(f"{_USECASES}.key_moves", "KeyMoves")
    (Keys,) = deferred(f"{_USECASES}.keys", "Keys")
    (Lockouts,) = deferred(f"{_USECASES}.lockouts", "Lockouts")
    (Members,) = deferred(f"{_USECASES}.members", "Members")
    Passwords, Users = deferred(f"{_USECASES}.users", "Passwords", "Users")

__all__ = [
    "EXPIRY_PRESETS",
    "AccountMembership",
    "ActivationResult",
    "AsyncLicenseKit",
    "CheckInResult",
    "CsvPage",
    "CullReport",
    "DeliveryFailure",
    "DeliveryReport",
    "InstallInvitationBatch",
    "InstallInvitationPreview",
    "InvitationPreview",
    "JoinInvitationBatch",
    "MoveReport",
    "PurgeReport",
    "Settings",
]


# The values the use cases take and return, defined in licensekit._results, are exported here
# too, and imported with their first look-up: reaching the facade needs none of them. (Type
# checkers see them imported above, and no module __getattr__ that would hide a misspelling.)
if not TYPE_CHECKING:
    _RESULTS = frozenset(__all__) - {"AsyncLicenseKit"}

    def __getattr__(name: str) -> object:
        if name not in _RESULTS:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from licensekit import _results

        value = getattr(_results, name)
        globals()[name] = value  # later look-ups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})


class AsyncLicenseKit:
    """The licensekit use cases over a store, a mailer and a clock.

    Args:
        store: Where records live (see :class:`licensekit.storage.AsyncStore`), or the path of a
            SQLite database file, for which a :class:`~licensekit.stores.sqlite.SQLiteStore`
            is opened (and the file created with its schema if it does not exist), or a
            ``postgresql://`` URI, for which a
            :class:`~licensekit.stores.postgres.PostgresStore` is opened in the schema its
            ``schema`` query parameter names (see :func:`licensekit.stores.open_store`).
        mailer: Delivers emails (see :class:`licensekit.mail.AsyncMailer`).
        secret: The host's secret, at least 32 bytes; keys for token hashes and encryption are
            derived from it. Keep it out of the store.
        join_url: Template of the link in join invitations; ``{token}`` is replaced by the
            invitation's token, e.g. ``"https://portal.example.com/join?token={token}"``.
        download_url: Template of the personal download link in invitations to install,
            with ``{token}`` once, e.g. ``"https://downloads.example.com/get?t={token}"``.
            The installer passes the token to :meth:`activate`. Needed only to invite
            installers.
        verify_url: Template of the link in email verification emails, with ``{token}``
            once; the page behind it passes the token to :meth:`verify_email`. Needed only
            to send them (:meth:`send_email_verification`).
        reset_url: Template of the link in password reset emails, with ``{token}`` once; the
            page behind it asks for the new password and calls :meth:`reset_password`.
            Needed only for :meth:`request_password_reset`.
        clock: The source of time; the system clock when omitted.
        password_hasher: Argon2id hasher; OWASP's parameters when omitted.
        settings: Lifetimes, limits and throttling; see :class:`Settings`.
        templates: The email texts (a :class:`licensekit.mail.Templates`); licensekit's own
            languages when omitted.
        signer: Signs the certificates that :meth:`activate` and :meth:`check_in` hand to
            installed products, which check them offline (see :mod:`licensekit.signing`:
            a :class:`~licensekit.signing.KeyFileSigner`, or the host's own KMS or HSM
            signer). Without one, products get no certificate.

    One instance may serve many callers at once, provided its store and mailer may too (the
    shipped ones can). Every method reads the time once and works in its own transactions.
    :meth:`aclose` (or the end of its ``async with`` block) closes the store.

    In async code, every method is a coroutine function, and a synchronous
    :class:`licensekit.storage.Store` or :class:`licensekit.mail.Mailer` is taken as well:
    it is served from worker threads (:class:`licensekit.aio.ThreadedStore`,
    :class:`licensekit.aio.ThreadedMailer`). A SQLite path opens a threaded SQLiteStore, a
    ``postgresql://`` URI the native :class:`~licensekit.stores.postgres.AsyncPostgresStore`.
    Password hashing runs in worker threads. The store is checked at ``async with`` or
    before the first transaction.

    Raises:
        ValidationError: The secret is too short or not bytes or text, or *join_url* or
            another link template does not hold ``{token}`` exactly once, or *store* is
            neither a store nor a path, or *signer* is not a signer.
        StorageError: The SQLite file or the PostgreSQL database named by *store* cannot be
            opened (see :func:`~licensekit.stores.open_store`).
    """

    # The names of the annotations of __init__ and the properties below are imported from
    # these modules at the first look-up of __init__ (constructing a kit needs them anyway).
    @binds_annotation_names(
        "licensekit._settings",
        "licensekit._signer",
        "licensekit.clock",
        "licensekit.mail",
        "licensekit.passwords",
        "licensekit.storage",
        "typing",
    )
    def __init__(
        self,
        store: AsyncStore | Store | str | os.PathLike[str],
        mailer: AsyncMailer | Mailer,
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
        signer: Signer | None = None,
    ) -> None:
        self._ctx, self._owns_store = open_context(
            store,
            mailer,
            secret=secret,
            links=Links(join_url, download_url, verify_url, reset_url),
            clock=clock,
            password_hasher=password_hasher,
            settings=settings,
            templates=templates,
            signer=signer,
        )

    # == The groups of use cases and what they share, each made on its first use ============
    # (a group's module is imported then too), so that a kit costs little to make and a
    # process pays only for the use cases it calls. A group keeps only what it is given.
    @made_on_first_use
    def _access(self) -> Access:
        return Access(self._ctx.keys)

    @made_on_first_use
    def _delivery(self) -> Delivery:
        return Delivery(self._ctx)

    @made_on_first_use
    def _sessions(self) -> Sessions:
        return Sessions(self._ctx)

    @made_on_first_use
    def _account_links(self) -> AccountLinks:
        return AccountLinks(self._ctx)

    @made_on_first_use
    def _join_links(self) -> JoinLinks:
        return JoinLinks(self._ctx, self._delivery)

    @made_on_first_use
    def _users(self) -> Users:
        parts = self._access, self._delivery, self._sessions, self._account_links
        return Users(self._ctx, *parts)

    @made_on_first_use
    def _passwords(self) -> Passwords:
        parts = self._access, self._delivery, self._sessions, self._account_links
        return Passwords(self._ctx, *parts)

    @made_on_first_use
    def _lockouts(self) -> Lockouts:
        return Lockouts(self._ctx)

    @made_on_first_use
    def _accounts(self) -> Accounts:
        return Accounts(self._ctx, self._access)

    @made_on_first_use
    def _members(self) -> Members:
        return Members(self._ctx, self._access, self._delivery)

    @made_on_first_use
    def _join_invitations(self) -> JoinInvitations:
        return JoinInvitations(self._ctx, self._access, self._delivery, self._join_links)

    @made_on_first_use
    def _invitees(self) -> Invitees:
        return Invitees(self._ctx, self._access, self._sessions, self._join_links)

    @made_on_first_use
    def _keys_group(self) -> Keys:
        return Keys(self._ctx, self._access)

    @made_on_first_use
    def _grants(self) -> KeyGrants:
        return KeyGrants(self._ctx, self._access)

    @made_on_first_use
    def _additional_keys(self) -> AdditionalKeys:
        return AdditionalKeys(self._ctx, self._access)

    @made_on_first_use
    def _install_invitations(self) -> InstallInvitations:
        return InstallInvitations(self._ctx, self._access, self._delivery)

    @made_on_first_use
    def _activation(self) -> Activation:
        return Activation(self._ctx)

    @made_on_first_use
    def _installations(self) -> Installations:
        return Installations(self._ctx, self._access)

    @made_on_first_use
    def _moves(self) -> KeyMoves:
        return KeyMoves(self._ctx, self._access)

    @made_on_first_use
    def _installation_export(self) -> InstallationExport:
        return InstallationExport(self._ctx, self._access)

    @made_on_first_use
    def _culling(self) -> Culling:
        return Culling(self._ctx)

    # The parts a LicenseKit works with, read from and written to the shared context, so
    # that a part replaced on a live object (a test swapping the mailer) reaches every group.
    @property
    def store(self) -> AsyncStore:
        """The store given, or opened from the path given."""
        return self._ctx.store

    @store.setter
    def store(self, value: AsyncStore) -> None:
        self._ctx.store = value
        self._ctx.runner.store = value

    @property
    def mailer(self) -> AsyncMailer:
        """The mailer given."""
        return self._ctx.mailer

    @mailer.setter
    def mailer(self, value: AsyncMailer) -> None:
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
        name = type(self).__name__
        return f"{name}(store={self.store!r}, mailer={self.mailer!r}, clock={self.clock!r})"

    async def aclose(self) -> None:
        """Close the store if this object opened it from a location.

        A store you passed in is yours to close. The object is not used afterwards.

        In async code, the worker threads of a synchronous store given are stopped too (the
        store itself stays open: it is yours).
        """
        if self._owns_store:
            await self.store.aclose()

    async def __aenter__(self) -> Self:
        if not self._ctx.runner.checked:
            await self._ctx.runner.check()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # == Users and sessions (licensekit._usecases.users, .lockouts) ==========================
    register_user = delegate("_users", Users.register_user)
    log_in = delegate("_users", Users.log_in)
    trusted_session = delegate("_users", Users.trusted_session)
    log_out = delegate("_users", Users.log_out)
    current_user = delegate("_users", Users.current_user)
    send_email_verification = delegate("_users", Users.send_email_verification)
    verify_email = delegate("_users", Users.verify_email)
    change_password = delegate("_passwords", Passwords.change_password)
    request_password_reset = delegate("_passwords", Passwords.request_password_reset)
    reset_password = delegate("_passwords", Passwords.reset_password)
    lift_lockout = delegate("_lockouts", Lockouts.lift_lockout)

    # == Business accounts, members, join invitations (.accounts, .members, .join_invitations)
    purge_expired = delegate("_accounts", Accounts.purge_expired)
    list_my_accounts = delegate("_accounts", Accounts.list_my_accounts)
    create_business_account = delegate("_accounts", Accounts.create_business_account)
    leave_account = delegate("_accounts", Accounts.leave_account)
    list_audit_events = delegate("_accounts", Accounts.list_audit_events)
    list_members = delegate("_members", Members.list_members)
    get_member = delegate("_members", Members.get_member)
    change_role = delegate("_members", Members.change_role)
    block_member = delegate("_members", Members.block_member)
    unblock_member = delegate("_members", Members.unblock_member)
    remove_member = delegate("_members", Members.remove_member)
    invite_members = delegate("_join_invitations", JoinInvitations.invite_members)
    list_join_invitations = delegate("_join_invitations", JoinInvitations.list_join_invitations)
    revoke_join_invitation = delegate("_join_invitations", JoinInvitations.revoke_join_invitation)
    resend_join_invitation = delegate("_join_invitations", JoinInvitations.resend_join_invitation)
    send_join_invitations = delegate("_join_invitations", JoinInvitations.send_join_invitations)
    describe_join_invitation = delegate("_invitees", Invitees.describe_join_invitation)
    accept_join_invitation = delegate("_invitees", Invitees.accept_join_invitation)

    # == License keys and License Administrators (.keys), invitations to install
    # (.install_invitations) ====================================================================
    add_license_key = delegate("_keys_group", Keys.add_license_key)
    list_license_keys = delegate("_keys_group", Keys.list_license_keys)
    get_license_key = delegate("_keys_group", Keys.get_license_key)
    change_license_key = delegate("_keys_group", Keys.change_license_key)
    renew_license_key = delegate("_keys_group", Keys.renew_license_key)
    suspend_license_key = delegate("_keys_group", Keys.suspend_license_key)
    resume_license_key = delegate("_keys_group", Keys.resume_license_key)
    remove_license_key = delegate("_keys_group", Keys.remove_license_key)
    replace_license_key = delegate("_moves", KeyMoves.replace_license_key)
    grant_license_administrator = delegate("_grants", KeyGrants.grant_license_administrator)
    revoke_license_administrator = delegate("_grants", KeyGrants.revoke_license_administrator)
    add_additional_key = delegate("_additional_keys", AdditionalKeys.add_additional_key)
    get_seat_pool = delegate("_additional_keys", AdditionalKeys.get_seat_pool)
    grant_key_rights = delegate("_grants", KeyGrants.grant_key_rights)
    revoke_key_rights = delegate("_grants", KeyGrants.revoke_key_rights)
    invite_installers = delegate("_install_invitations", InstallInvitations.invite_installers)
    list_install_invitations = delegate(
        "_install_invitations", InstallInvitations.list_install_invitations
    )
    export_install_invitations = delegate(
        "_install_invitations", InstallInvitations.export_install_invitations
    )
    send_install_invitations = delegate(
        "_install_invitations", InstallInvitations.send_install_invitations
    )
    resend_install_invitation = delegate(
        "_install_invitations", InstallInvitations.resend_install_invitation
    )
    revoke_install_invitation = delegate(
        "_install_invitations", InstallInvitations.revoke_install_invitation
    )
    describe_install_invitation = delegate(
        "_install_invitations", InstallInvitations.describe_install_invitation
    )

    # == Activation and check-in (.activation), installations and blocks (.installations) ====
    activate = delegate("_activation", Activation.activate)
    check_in = delegate("_activation", Activation.check_in)
    list_installations = delegate("_installations", Installations.list_installations)
    deactivate_installation = delegate("_installations", Installations.deactivate_installation)
    edit_installation = delegate("_installations", Installations.edit_installation)
    export_installations = delegate("_installation_export", InstallationExport.export_installations)
    move_installations = delegate("_moves", KeyMoves.move_installations)
    block_computer = delegate("_installations", Installations.block_computer)
    block_computer_id = delegate("_installations", Installations.block_computer_id)
    unblock_computer = delegate("_installations", Installations.unblock_computer)
    list_blocked_computers = delegate("_installations", Installations.list_blocked_computers)
    cull_installations = delegate("_culling", Culling.cull_installations)
