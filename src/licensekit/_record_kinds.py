"""The kinds of record licensekit keeps, described for the storage port.

:mod:`licensekit.storage` names them (``USERS`` ... ``COMPUTER_BLOCKS``, ``KINDS``) and makes
them here on the first look-up of one, so that importing the port, or constructing a kit,
builds no record class.
"""

from __future__ import annotations

from typing import Any

from licensekit.storage import RecordKind

__all__ = ["describe_kinds"]


def describe_kinds() -> dict[str, Any]:
    """Every kind of record, by its name in :mod:`licensekit.storage` (``KINDS`` included)."""
    from licensekit.domain.records import (
        AuditEvent,
        BusinessAccount,
        ComputerBlock,
        CullingKey,
        Installation,
        InstallInvitation,
        JoinInvitation,
        LicenseKey,
        Membership,
        SessionRecord,
        Throttle,
        User,
    )

    USERS = RecordKind("users", User, ("id",), unique=(("email",),))
    ACCOUNTS = RecordKind("business_accounts", BusinessAccount, ("id",))
    MEMBERSHIPS = RecordKind(
        "memberships",
        Membership,
        ("account_id", "user_id"),
        indexes=(("user_id",),),
        owner="account_id",
        counts=(("account_id", "role", "status"),),
        derived=("tenure",),
        filters=(("status",), ("tenure",)),
    )
    JOIN_INVITATIONS = RecordKind(
        "join_invitations",
        JoinInvitation,
        ("id",),
        unique=(("token_hash",),),
        indexes=(("account_id", "email"),),
        fixed=("account_id", "email", "token_hash", "token_ciphertext"),
        owner="account_id",
        derived=("phase",),
        filters=(("phase",),),
        ranges=("expires_at",),
    )
    SESSIONS = RecordKind(
        "sessions",
        SessionRecord,
        ("id",),
        unique=(("token_hash",),),
        indexes=(("user_id",),),
        fixed=("token_hash", "user_id"),
        expires="expires_at",
    )
    AUDIT_EVENTS = RecordKind("audit_events", AuditEvent, ("account_id", "id"), owner="account_id")
    THROTTLES = RecordKind("throttles", Throttle, ("key",), expires="expires_at")
    LICENSE_KEYS = RecordKind(
        "license_keys",
        LicenseKey,
        ("id",),
        unique=(("account_id", "value_hash"),),
        indexes=(("primary_id",),),
        fixed=(
            "account_id",
            "value_hash",
            "value_ciphertext",
            "created_at",
            "created_by",
            "primary_id",
            "seat_pool",
        ),
        owner="account_id",
        filters=(("status",),),
    )
    INSTALL_INVITATIONS = RecordKind(
        "install_invitations",
        InstallInvitation,
        ("id",),
        unique=(("code_hash",), ("token_hash",)),
        fixed=("account_id", "key_id", "email", "code_hash", "token_hash", "secret_ciphertext"),
        owner="key_id",
        derived=("phase",),
        filters=(("phase",),),
        ranges=("expires_at",),
    )
    INSTALLATIONS = RecordKind(
        "installations",
        Installation,
        ("id",),
        unique=(("key_id", "computer_id"), ("token_hash",)),
        fixed=("account_id", "key_id", "computer_id"),
        owner="key_id",
        filters=(("status",),),
    )
    CULLING_KEYS = RecordKind(
        "culling_keys", CullingKey, ("scope", "key_id"), fixed=("account_id",), owner="scope"
    )
    COMPUTER_BLOCKS = RecordKind(
        "computer_blocks",
        ComputerBlock,
        ("account_id", "computer_id", "key_id"),
        indexes=(("account_id", "computer_id"),),
        owner="account_id",
        nullable_key=("key_id",),
        filters=(("key_id",),),
    )

    kinds = (
        USERS,
        ACCOUNTS,
        MEMBERSHIPS,
        JOIN_INVITATIONS,
        SESSIONS,
        AUDIT_EVENTS,
        THROTTLES,
        LICENSE_KEYS,
        INSTALL_INVITATIONS,
        INSTALLATIONS,
        COMPUTER_BLOCKS,
        CULLING_KEYS,
    )
    return {
        "USERS": USERS,
        "ACCOUNTS": ACCOUNTS,
        "MEMBERSHIPS": MEMBERSHIPS,
        "JOIN_INVITATIONS": JOIN_INVITATIONS,
        "SESSIONS": SESSIONS,
        "AUDIT_EVENTS": AUDIT_EVENTS,
        "THROTTLES": THROTTLES,
        "LICENSE_KEYS": LICENSE_KEYS,
        "INSTALL_INVITATIONS": INSTALL_INVITATIONS,
        "INSTALLATIONS": INSTALLATIONS,
        "CULLING_KEYS": CULLING_KEYS,
        "COMPUTER_BLOCKS": COMPUTER_BLOCKS,
        "KINDS": kinds,
    }
