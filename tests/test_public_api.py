"""The curated public API: what ``import licensekit`` offers, pinned so changes are deliberate."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

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
    "Clock",
    "ComputerAlreadyActivated",
    "ComputerBlock",
    "ComputerBlocked",
    "ConflictError",
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
    "Mailer",
    "MemberBlocked",
    "MemberNotFound",
    "MemberStatus",
    "MemberView",
    "MemoryStore",
    "Message",
    "MessageKind",
    "NotFound",
    "Page",
    "PasswordHasher",
    "PasswordPolicy",
    "PermissionDenied",
    "PurgeReport",
    "RejectedEmail",
    "Role",
    "SQLiteStore",
    "SeatsFull",
    "SeatsInUse",
    "Session",
    "SessionMethod",
    "Settings",
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
