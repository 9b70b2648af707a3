"""The curated public API: what ``import licensekit`` offers, pinned so changes are deliberate."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import licensekit
import licensekit.testing
from licensekit import LicenseKitError

PUBLIC_API = [
    "AccountMembership",
    "AccountNotFound",
    "ActivationCodeExpired",
    "ActivationCodeMistyped",
    "ActivationCodeNotFound",
    "ActivationCodeRevoked",
    "ActivationCodeUsedUp",
    "ActivationCodeWrongProduct",
    "ActivationError",
    "ActivationResult",
    "AlreadyMember",
    "Argon2Parameters",
    "AuditAction",
    "AuditEvent",
    "AuthenticationError",
    "BatchMailer",
    "BusinessAccount",
    "CertificateError",
    "CertificateExpired",
    "CertificateKeyUnknown",
    "CertificateMalformed",
    "CertificateNotYetValid",
    "CertificateSignatureInvalid",
    "CertificateWrongComputer",
    "CheckInResult",
    "Clock",
    "ComputerAlreadyActivated",
    "ComputerBlock",
    "ComputerBlocked",
    "ConflictError",
    "CsvPage",
    "CullReport",
    "DeliveryError",
    "DeliveryFailure",
    "DeliveryReport",
    "DeliveryStatus",
    "DuplicateKey",
    "DuplicateLicenseKey",
    "EmailAlreadyRegistered",
    "EmailAlreadyVerified",
    "EmailList",
    "EmailNotVerified",
    "IncompatibleStore",
    "InstallInvitationBatch",
    "InstallInvitationPreview",
    "InstallInvitationState",
    "InstallInvitationView",
    "InstallationNotFound",
    "InstallationStatus",
    "InstallationView",
    "InvalidActivationCode",
    "InvalidCredentials",
    "InvalidCursor",
    "InvalidEmail",
    "InvalidPassword",
    "InvalidSession",
    "InvalidToken",
    "InvitationAlreadyAccepted",
    "InvitationEmailMismatch",
    "InvitationError",
    "InvitationExpired",
    "InvitationNotFound",
    "InvitationPreview",
    "InvitationRevoked",
    "InvitationState",
    "JoinInvitationBatch",
    "JoinInvitationView",
    "KeyStatus",
    "LastAdministrator",
    "LicenseKeyNotFound",
    "LicenseKeyUnavailable",
    "LicenseKeyView",
    "LicenseKit",
    "LicenseKitError",
    "LicenseState",
    "Mailer",
    "MemberBlocked",
    "MemberNotFound",
    "MemberStatus",
    "MemberView",
    "MemoryStore",
    "Message",
    "MessageKind",
    "MoveReport",
    "NotFound",
    "Page",
    "PasswordHasher",
    "PasswordPolicy",
    "PermissionDenied",
    "PurgeReport",
    "RejectedEmail",
    "Role",
    "SQLiteStore",
    "SeatPool",
    "SeatPoolView",
    "SeatsFull",
    "SeatsInUse",
    "Session",
    "SessionMethod",
    "Settings",
    "SigningKeyError",
    "StorageBusy",
    "StorageError",
    "Store",
    "SystemClock",
    "ThrottlePolicy",
    "TooManyAttempts",
    "Transaction",
    "User",
    "UserNotFound",
    "UserView",
    "ValidationError",
    "normalize_email",
    "parse_email_csv",
    "parse_emails",
]


def test_all_is_pinned_and_sorted() -> None:
    assert licensekit.__all__ == PUBLIC_API
    assert sorted(licensekit.__all__) == licensekit.__all__


def test_the_shipped_mailers_are_pinned() -> None:
    """The mailers live in licensekit.mailers (not at the top level, which loads no smtplib)."""
    import licensekit.mailers

    assert licensekit.mailers.__all__ == ["AsyncSMTPMailer", "FileMailer", "SMTPMailer"]
    assert not {"AsyncSMTPMailer", "FileMailer", "SMTPMailer"} & set(licensekit.__all__)


def test_every_public_name_exists() -> None:
    for name in licensekit.__all__:
        assert hasattr(licensekit, name), name


def test_every_public_name_has_a_docstring() -> None:
    undocumented = [
        name for name in licensekit.__all__ if not inspect.getdoc(getattr(licensekit, name))
    ]
    assert undocumented == []


def test_every_public_method_has_a_docstring() -> None:
    missing = []
    for name in [*licensekit.__all__, *(f"testing.{n}" for n in licensekit.testing.__all__)]:
        owner = licensekit.testing if name.startswith("testing.") else licensekit
        obj = getattr(owner, name.removeprefix("testing."))
        if not inspect.isclass(obj):
            continue
        for attr, member in inspect.getmembers(obj):
            if attr.startswith("_") or not callable(member):
                continue
            if not (getattr(member, "__module__", None) or "").startswith("licensekit"):
                continue  # inherited from the standard library or attrs
            if not inspect.getdoc(member):
                missing.append(f"{name}.{attr}")
    assert missing == []


def test_the_facade_offers_every_use_case_group() -> None:
    """LicenseKit's methods come from its groups; the docstring check above must see them."""
    methods = {n for n, m in inspect.getmembers(licensekit.LicenseKit) if callable(m)}
    assert {
        "invite_members",
        "accept_join_invitation",
        "invite_installers",
        "activate",
        "lift_lockout",
    } <= methods


def test_every_exception_derives_from_the_one_root() -> None:
    exceptions = [
        getattr(licensekit, n)
        for n in licensekit.__all__
        if inspect.isclass(getattr(licensekit, n))
        and issubclass(getattr(licensekit, n), BaseException)
    ]
    assert len(exceptions) > 20
    assert all(issubclass(e, LicenseKitError) for e in exceptions)


def test_builtin_bases_match_the_meaning() -> None:
    assert issubclass(licensekit.NotFound, LookupError)
    assert issubclass(licensekit.PermissionDenied, PermissionError)
    assert issubclass(licensekit.ValidationError, ValueError)


def test_every_module_imports_and_declares_all() -> None:
    for info in pkgutil.walk_packages(licensekit.__path__, "licensekit."):
        module = importlib.import_module(info.name)
        if info.name.rsplit(".", 1)[-1].startswith("_") or info.name.endswith(".plugin"):
            continue
        assert isinstance(getattr(module, "__all__", None), list), info.name
        assert inspect.getdoc(module), info.name


# Every public method of LicenseKit, with its parameters, defaults and return type as they were
# before the use cases moved into groups (licensekit._usecases). Types are named without their
# module, so that moving a class to another module does not count as a change.
LICENSEKIT_SIGNATURES = {
    "add_additional_key": (
        "(self, session: Session | str, account_id: str, primary_key_id: str, *, value: str, "
        "seats: int, seat_pool: SeatPool | str, expires_at: datetime | None = None, "
        "product: str | None = None) -> LicenseKeyView"
    ),
    "get_seat_pool": (
        "(self, session: Session | str, account_id: str, key_id: str) -> SeatPoolView"
    ),
    "grant_key_rights": (
        "(self, session: Session | str, account_id: str, user_id: str, *, "
        "key_ids: Collection[str] = (), all_keys: bool = False) -> MemberView"
    ),
    "revoke_key_rights": (
        "(self, session: Session | str, account_id: str, user_id: str, *, "
        "key_ids: Collection[str] = (), all_keys: bool = False) -> MemberView"
    ),
    "accept_join_invitation": (
        "(self, token: str, *, password: str | None = None, session: Session | str | None"
        " = None, name: str = '', client: str = '') -> Session"
    ),
    "activate": (
        "(self, *, computer_id: str, code: str | None = None, token: str | None = None, c"
        "omputer_name: str = '', product: str | None = None, client: str = '') -> Activat"
        "ionResult"
    ),
    "add_license_key": (
        "(self, session: Session | str, account_id: str, *, product: str, value: str, sea"
        "ts: int, expires_at: datetime | None = None, grace_period: timedelta = timedelta"
        "(0), check_in_interval: timedelta = timedelta(days=1), dead_after: timedelta | N"
        "one = None) -> LicenseKeyView"
    ),
    "block_computer": (
        "(self, session: Session | str, account_id: str, installation_id: str, *, notes: "
        "str = '') -> ComputerBlock"
    ),
    "block_computer_id": (
        "(self, session: Session | str, account_id: str, computer_id: str, *, key_id: str"
        " | None = None, notes: str = '') -> ComputerBlock"
    ),
    "block_member": (
        "(self, session: Session | str, account_id: str, user_id: str, *, notes: str = ''"
        ", notify: bool | None = None, share_notes: bool = False, language: str | None = "
        "None) -> MemberView"
    ),
    "change_license_key": (
        "(self, session: Session | str, account_id: str, key_id: str, *, seats: int | Non"
        "e = None, expires_at: datetime | None = None, clear_expiry: bool = False, grace_"
        "period: timedelta | None = None, check_in_interval: timedelta | None = None, dea"
        "d_after: timedelta | None = None, never_cull: bool = False) -> LicenseKeyView"
    ),
    "change_password": (
        "(self, session: Session | str, current_password: str, new_password: str, *, noti"
        "fy: bool = True, language: str = 'en') -> None"
    ),
    "change_role": (
        "(self, session: Session | str, account_id: str, user_id: str, role: Role, *, not"
        "es: str = '', notify: bool = False, share_notes: bool = False, language: str | N"
        "one = None) -> MemberView"
    ),
    "check_in": ("(self, installation_token: str, *, client: str = '') -> CheckInResult"),
    "close": ("(self) -> None"),
    "create_business_account": ("(self, session: Session | str, name: str) -> BusinessAccount"),
    "cull_installations": ("(self, *, limit: int | None = None) -> CullReport"),
    "current_user": ("(self, session: Session | str) -> UserView"),
    "deactivate_installation": (
        "(self, session: Session | str, account_id: str, installation_id: str) -> InstallationView"
    ),
    "edit_installation": (
        "(self, session: Session | str, account_id: str, installation_id: str, *, compute"
        "r_name: str | None = None, notes: str | None = None) -> InstallationView"
    ),
    "describe_install_invitation": (
        "(self, token: str, *, client: str = '') -> InstallInvitationPreview"
    ),
    "describe_join_invitation": ("(self, token: str, *, client: str = '') -> InvitationPreview"),
    "export_installations": (
        "(self, session: Session | str, account_id: str, *, key_id: str | None = None, in"
        "clude_inactive: bool = False, cursor: str | None = None, limit: int | None = Non"
        "e) -> CsvPage"
    ),
    "export_install_invitations": (
        "(self, session: Session | str, account_id: str, key_id: str, *, invitation_ids: "
        "Iterable[str] | None = None, include_unusable: bool = False) -> str"
    ),
    "get_license_key": (
        "(self, session: Session | str, account_id: str, key_id: str) -> LicenseKeyView"
    ),
    "get_member": ("(self, session: Session | str, account_id: str, user_id: str) -> MemberView"),
    "grant_license_administrator": (
        "(self, session: Session | str, account_id: str, user_id: str, key_id: str) -> MemberView"
    ),
    "invite_installers": (
        "(self, session: Session | str, account_id: str, key_id: str, emails: Iterable[st"
        "r] | None = None, *, csv: Union[str, bytes, PathLike[str], IO[str], IO[bytes], N"
        "oneType] = None, language: str = 'en', expires_in: timedelta | str | None = None"
        ", max_activations: int = 1, send: bool = True) -> InstallInvitationBatch"
    ),
    "invite_members": (
        "(self, session: Session | str, account_id: str, emails: Iterable[str] | None = N"
        "one, *, csv: Union[str, bytes, PathLike[str], IO[str], IO[bytes], NoneType] = No"
        "ne, language: str = 'en', expires_in: timedelta | str | None = None, send: bool "
        "= True) -> JoinInvitationBatch"
    ),
    "leave_account": ("(self, session: Session | str, account_id: str) -> None"),
    "lift_lockout": ("(self, *, client: str | None = None, email: str | None = None) -> int"),
    "list_audit_events": (
        "(self, session: Session | str, account_id: str, *, cursor: str | None = None, li"
        "mit: int = 50) -> Page[AuditEvent]"
    ),
    "list_blocked_computers": (
        "(self, session: Session | str, account_id: str, *, cursor: str | None = None, li"
        "mit: int = 50) -> Page[ComputerBlock]"
    ),
    "list_install_invitations": (
        "(self, session: Session | str, account_id: str, key_id: str, *, state: InstallIn"
        "vitationState | None = None, cursor: str | None = None, limit: int = 50) -> Page"
        "[InstallInvitationView]"
    ),
    "list_installations": (
        "(self, session: Session | str, account_id: str, key_id: str, *, include_inactive"
        ": bool = False, cursor: str | None = None, limit: int = 50) -> Page[Installation"
        "View]"
    ),
    "list_join_invitations": (
        "(self, session: Session | str, account_id: str, *, state: InvitationState | None"
        " = None, cursor: str | None = None, limit: int = 50) -> Page[JoinInvitationView]"
    ),
    "list_license_keys": (
        "(self, session: Session | str, account_id: str, *, cursor: str | None = None, li"
        "mit: int = 50, include_removed: bool = False) -> Page[LicenseKeyView]"
    ),
    "list_members": (
        "(self, session: Session | str, account_id: str, *, cursor: str | None = None, li"
        "mit: int = 50, include_removed: bool = False) -> Page[MemberView]"
    ),
    "list_my_accounts": ("(self, session: Session | str) -> tuple[AccountMembership, ...]"),
    "log_in": ("(self, email: str, password: str) -> Session"),
    "log_out": ("(self, session: Session | str) -> None"),
    "move_installations": (
        "(self, session: Session | str, account_id: str, key_id: str, to_key_id: str, *, "
        "installation_ids: Iterable[str] | None = None) -> MoveReport"
    ),
    "purge_expired": ("(self) -> PurgeReport"),
    "register_user": (
        "(self, email: str, password: str, *, name: str = '', email_verified: bool = Fals"
        "e) -> UserView"
    ),
    "remove_license_key": (
        "(self, session: Session | str, account_id: str, key_id: str) -> LicenseKeyView"
    ),
    "remove_member": (
        "(self, session: Session | str, account_id: str, user_id: str, *, notes: str = ''"
        ", notify: bool | None = None, share_notes: bool = False, language: str | None = "
        "None) -> MemberView"
    ),
    "replace_license_key": (
        "(self, session: Session | str, account_id: str, key_id: str, *, value: str) -> MoveReport"
    ),
    "renew_license_key": (
        "(self, session: Session | str, account_id: str, key_id: str, *, period: timedelt"
        "a) -> LicenseKeyView"
    ),
    "request_password_reset": (
        "(self, email: str, *, language: str = 'en', client: str = '') -> None"
    ),
    "resend_install_invitation": (
        "(self, session: Session | str, account_id: str, invitation_id: str) -> InstallIn"
        "vitationView"
    ),
    "resend_join_invitation": (
        "(self, session: Session | str, account_id: str, invitation_id: str) -> JoinInvitationView"
    ),
    "reset_password": ("(self, token: str, new_password: str, *, client: str = '') -> None"),
    "resume_license_key": (
        "(self, session: Session | str, account_id: str, key_id: str) -> LicenseKeyView"
    ),
    "revoke_install_invitation": (
        "(self, session: Session | str, account_id: str, invitation_id: str) -> InstallIn"
        "vitationView"
    ),
    "revoke_join_invitation": (
        "(self, session: Session | str, account_id: str, invitation_id: str) -> JoinInvitationView"
    ),
    "revoke_license_administrator": (
        "(self, session: Session | str, account_id: str, user_id: str, key_id: str) -> MemberView"
    ),
    "send_email_verification": ("(self, session: Session | str, *, language: str = 'en') -> None"),
    "send_install_invitations": (
        "(self, session: Session | str, account_id: str, key_id: str, *, invitation_ids: "
        "Iterable[str] | None = None) -> DeliveryReport[InstallInvitationView]"
    ),
    "send_join_invitations": (
        "(self, session: Session | str, account_id: str, *, invitation_ids: Iterable[str]"
        " | None = None) -> DeliveryReport[JoinInvitationView]"
    ),
    "suspend_license_key": (
        "(self, session: Session | str, account_id: str, key_id: str) -> LicenseKeyView"
    ),
    "trusted_session": (
        "(self, email: str, *, create: bool = False, name: str = '', proves_address: bool"
        " = True) -> Session"
    ),
    "unblock_computer": (
        "(self, session: Session | str, account_id: str, computer_id: str, *, key_id: str"
        " | None = None) -> None"
    ),
    "unblock_member": (
        "(self, session: Session | str, account_id: str, user_id: str, *, notes: str = ''"
        ") -> MemberView"
    ),
    "verify_email": (
        "(self, token: str, *, password: str | None = None, session: Session | str | None"
        " = None, client: str = '') -> Session"
    ),
    "__init__": (
        "(self, store: Store | str | PathLike[str], mailer: Mailer, *, secret: bytes | st"
        "r, join_url: str, download_url: str | None = None, verify_url: str | None = None"
        ", reset_url: str | None = None, clock: Clock | None = None, password_hasher: Pas"
        "swordHasher | None = None, settings: Settings | None = None, templates: Template"
        "s | None = None, signer: Signer | None = None) -> None"
    ),
}


def _signature(method: object) -> str:
    rendered = str(inspect.signature(method, eval_str=True))  # type: ignore[arg-type]
    return re.sub(r"\b(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)", r"\1", rendered)


def test_every_licensekit_method_keeps_its_signature() -> None:
    public = {
        name: _signature(method)
        for name, method in inspect.getmembers(licensekit.LicenseKit)
        if not name.startswith("_") and callable(method)
    }
    public["__init__"] = _signature(licensekit.LicenseKit.__init__)
    assert public == LICENSEKIT_SIGNATURES


def test_every_licensekit_method_has_its_full_docstring() -> None:
    for name, method in inspect.getmembers(licensekit.LicenseKit):
        if not name.startswith("_") and callable(method):
            doc = inspect.getdoc(method) or ""
            assert len(doc) > 40, f"LicenseKit.{name} lost its docstring"
