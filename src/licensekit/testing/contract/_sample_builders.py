"""The builders of every kind's full and bare sample, which :data:`~.samples.BUILDERS` names.

Part of :mod:`licensekit.testing.contract.samples`, which names them in its table of builders
and re-exports :data:`T0` and :func:`at` (setting the function's ``__module__``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING

import attrs

from licensekit.domain.model import (
    AuditAction,
    AuditEvent,
    BusinessAccount,
    ComputerBlock,
    CullingKey,
    DeliveryStatus,
    Installation,
    InstallationStatus,
    InstallInvitation,
    JoinInvitation,
    KeyStatus,
    LicenseKey,
    LicenseState,
    Membership,
    MemberStatus,
    Role,
    SeatPool,
    SessionMethod,
    SessionRecord,
    Throttle,
    User,
)

if TYPE_CHECKING:
    from licensekit.testing.contract.samples import Samples, Side

T0 = dt.datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)


def at(**delta: float) -> dt.datetime:
    """Return :data:`T0` moved by *delta* (``days=7``, ``microseconds=1``...)."""
    return T0 + dt.timedelta(**delta)


PASSWORD_HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQxMjM0NTY$aGFzaGhhc2hoYXNoaGFzaGhhc2g"  # noqa: S105


def short(value: object) -> str:
    """A short, plain label for any value (ids of parents made on demand)."""
    return hashlib.sha256(repr(value).encode()).hexdigest()[:12]


def plain_key(s: Samples, label: str, account_id: str) -> LicenseKey:
    return LicenseKey(
        id=s.id("key", label),
        account_id=account_id,
        product="Suite",
        seats=3,
        seats_used=0,
        created_at=T0,
        created_by=s.admin.id,
        value_hash=s.digest("value", label),
        value_ciphertext=b"value:" + label.encode(),
    )


def plain_install_invitation(s: Samples, label: str, key: LicenseKey) -> InstallInvitation:
    return InstallInvitation(
        id=s.id("inst", label),
        account_id=key.account_id,
        key_id=key.id,
        email=s.email(f"installer.{short(label)}"),
        language="en",
        invited_by=s.admin.id,
        created_at=T0,
        expires_at=at(days=7),
        code_hash=s.digest("code", label),
        token_hash=s.digest("download", label),
        secret_ciphertext=b"secret:" + label.encode(),
    )


def zeros(data: bytes) -> bytes:
    """Bytes a careless adapter would cut short: zero bytes first, a 0xFF among them."""
    return b"\x00\x01\x00\xff" + data


def _full_user(s: Samples, label: str, side: Side) -> User:
    return User(
        id=s.id("usr", label),
        email=f"zoë.o'brien+{label}.{s.tag}@example.com",
        created_at=at(days=1),
        password_hash=PASSWORD_HASH,
        name="Zoë O'Brien 🚀",
        email_verified_at=at(days=1, microseconds=7),
    )


def _bare_user(s: Samples, label: str, side: Side) -> User:
    return User(id=s.id("usr", label), email=s.email(f"user.{label}"), created_at=T0)


def _full_account(s: Samples, label: str, side: Side) -> BusinessAccount:
    return BusinessAccount(
        id=s.id("acc", label),
        name='Ünïcode & "Quotes" Ltd',
        created_at=at(days=2),
        created_by=s.member.id,
    )


def _bare_account(s: Samples, label: str, side: Side) -> BusinessAccount:
    return BusinessAccount(
        id=s.id("acc", label), name="Example Corp", created_at=T0, created_by=s.admin.id
    )


def _full_membership(s: Samples, label: str, side: Side) -> Membership:
    return Membership(
        account_id=side.account.id,
        user_id=s.id("usr", label),
        role=Role.ACCOUNT_ADMINISTRATOR,
        status=MemberStatus.BLOCKED,
        joined_at=at(seconds=30),
        updated_at=at(minutes=1),
        changed_by=s.admin.id,
        notes="promoted\nfor the audit",
        admin_grant=3,
        license_keys=frozenset(key.id for key in side.keys),
        all_license_keys=True,
    )


def _bare_membership(s: Samples, label: str, side: Side) -> Membership:
    return Membership(
        account_id=side.account.id,
        user_id=s.id("usr", label),
        role=Role.REGULAR_MEMBER,
        status=MemberStatus.ACTIVE,
        joined_at=T0,
        updated_at=T0,
    )


def _full_join_invitation(s: Samples, label: str, side: Side) -> JoinInvitation:
    return JoinInvitation(
        id=s.id("jinv", label),
        account_id=side.account.id,
        email=f"guest+{label}.{s.tag}@example.com",
        language="pt-BR",
        invited_by=s.admin.id,
        created_at=at(hours=1),
        expires_at=at(days=7),
        token_hash=zeros(s.digest("join", label)),
        token_ciphertext=zeros(b"token:" + label.encode()),
        accepted_at=at(hours=2),
        accepted_by=s.member.id,
        revoked_at=at(hours=3),
        revoked_by=s.admin.id,
        sent_count=2,
        last_sent_at=at(minutes=30),
        delivery=DeliveryStatus.REFUSED,
        delivery_attempts=3,
        delivery_error="550 5.1.1 <guest@example.com>: Recipient address rejected",
        delivery_started_at=at(minutes=29),
        expiry_noted_at=at(days=7, microseconds=1),
    )


def _bare_join_invitation(s: Samples, label: str, side: Side) -> JoinInvitation:
    return JoinInvitation(
        id=s.id("jinv", label),
        account_id=side.account.id,
        email=s.email(f"guest.{label}"),
        language="en",
        invited_by=s.admin.id,
        created_at=T0,
        expires_at=at(days=7),
        token_hash=s.digest("join", label),
        token_ciphertext=b"token:" + label.encode(),
    )


def _full_session(s: Samples, label: str, side: Side) -> SessionRecord:
    return SessionRecord(
        id=s.id("ses", label),
        token_hash=zeros(s.digest("session", label)),
        user_id=s.member.id,
        method=SessionMethod.INVITATION,
        issued_at=at(minutes=1),
        expires_at=at(hours=8),
        admin_grants={s.sides[0].account.id: 3, s.sides[1].account.id: 1},
    )


def _bare_session(s: Samples, label: str, side: Side) -> SessionRecord:
    return SessionRecord(
        id=s.id("ses", label),
        token_hash=s.digest("session", label),
        user_id=s.admin.id,
        method=SessionMethod.PASSWORD,
        issued_at=T0,
        expires_at=at(hours=1),
    )


def _full_event(s: Samples, label: str, side: Side) -> AuditEvent:
    return AuditEvent(
        id=s.id("evt", label),
        account_id=side.account.id,
        at=at(seconds=1),
        actor_id=s.admin.id,
        action=AuditAction.ROLE_CHANGED,
        subject=s.member.id,
        details={"old_role": "regular_member", "new_role": "account_administrator", "n": "ü"},
    )


def _bare_event(s: Samples, label: str, side: Side) -> AuditEvent:
    return AuditEvent(
        id=s.id("evt", label),
        account_id=side.account.id,
        at=T0,
        actor_id=s.admin.id,
        action=AuditAction.MEMBER_BLOCKED,
        subject=s.member.id,
    )


def _full_throttle(s: Samples, label: str, side: Side) -> Throttle:
    return Throttle(
        key=f"password:zoë+{label}.{s.tag}@example.com",
        failures=7,
        window_started_at=at(minutes=1),
        expires_at=at(minutes=16),
        locked_until=at(minutes=15),
    )


def _bare_throttle(s: Samples, label: str, side: Side) -> Throttle:
    return Throttle(
        key=f"activation:client:{label}.{s.tag}",
        failures=1,
        window_started_at=T0,
        expires_at=at(hours=1),
    )


def _full_key(s: Samples, label: str, side: Side) -> LicenseKey:
    return LicenseKey(
        id=s.id("key", label),
        account_id=side.account.id,
        product="Analytical Engine Pro 🚀",
        seats=10_000_000,
        seats_used=9_999_999,
        created_at=at(days=3),
        created_by=s.member.id,
        value_hash=zeros(s.digest("value", label)),
        value_ciphertext=zeros(b"ciphertext\x00\xfe" + label.encode()),
        expires_at=at(days=365),
        status=KeyStatus.SUSPENDED,
        updated_at=at(days=4),
        grace_seconds=30 * 86_400,
        check_in_seconds=3_600,
        dead_after_seconds=7 * 86_400,
        primary_id=side.keys[0].id,
        seat_pool=(SeatPool.DYNAMIC, SeatPool.RESERVED)[side.index],
        released_at=at(days=5),
    )


def _bare_key(s: Samples, label: str, side: Side) -> LicenseKey:
    return plain_key(s, label, side.account.id)


def _full_install_invitation(s: Samples, label: str, side: Side) -> InstallInvitation:
    key = side.keys[0]
    return InstallInvitation(
        id=s.id("inst", label),
        account_id=key.account_id,
        key_id=key.id,
        email=f"zoë.o'brien+{label}.{s.tag}@example.com",
        language="zh-Hans",
        invited_by=s.member.id,
        created_at=at(hours=1),
        expires_at=at(days=30),
        code_hash=zeros(s.digest("code", label)),
        token_hash=zeros(s.digest("download", label)),
        secret_ciphertext=zeros(b"secret:" + label.encode()),
        max_activations=3,
        activations=2,
        computer_ids=("pc-zeta", "pc-alpha", "pc-mid"),
        last_activated_at=at(hours=3),
        revoked_at=at(hours=4),
        revoked_by=s.admin.id,
        sent_count=4,
        last_sent_at=at(hours=2),
        delivery=DeliveryStatus.FAILED,
        delivery_attempts=5,
        delivery_error="421 4.7.0 Try again later",
        delivery_started_at=at(hours=2, microseconds=-1),
        expiry_noted_at=at(days=31),
    )


def _bare_install_invitation(s: Samples, label: str, side: Side) -> InstallInvitation:
    return plain_install_invitation(s, label, side.keys[0])


def _full_installation(s: Samples, label: str, side: Side) -> Installation:
    key, invitation = side.keys[0], side.invitations[0]
    return Installation(
        id=s.id("ins", label),
        account_id=key.account_id,
        key_id=key.id,
        computer_id=f"PC-{label}-Zoë",
        computer_name="Zoë's laptop 💻",
        email=invitation.email,
        invitation_id=invitation.id,
        activated_at=at(hours=3),
        last_seen_at=at(hours=5),
        token_hash=zeros(s.digest("installation", label)),
        status=InstallationStatus.DEACTIVATED,
        deactivated_at=at(hours=6),
        deactivated_by=s.admin.id,
        last_state=LicenseState.DEACTIVATED,
        notes="Reception desk;\nreplaced in March 🛠",
    )


def _bare_installation(s: Samples, label: str, side: Side) -> Installation:
    key, invitation = side.keys[0], side.invitations[0]
    return Installation(
        id=s.id("ins", label),
        account_id=key.account_id,
        key_id=key.id,
        computer_id=f"pc-{label}",
        computer_name="",
        email=invitation.email,
        invitation_id=invitation.id,
        activated_at=T0,
        last_seen_at=T0,
        token_hash=s.digest("installation", label),
    )


def _full_block(s: Samples, label: str, side: Side) -> ComputerBlock:
    return ComputerBlock(
        account_id=side.account.id,
        computer_id=f"PC-{label}-Zoë",
        key_id=side.keys[1].id,
        blocked_at=at(hours=7),
        blocked_by=s.member.id,
        notes="left the company\nreturn the laptop",
    )


def _bare_block(s: Samples, label: str, side: Side) -> ComputerBlock:
    return ComputerBlock(
        account_id=side.account.id,
        computer_id=f"pc-{label}",
        key_id=None,
        blocked_at=T0,
        blocked_by=s.admin.id,
    )


def _full_culling_key(s: Samples, label: str, side: Side) -> CullingKey:
    # One scope per side, so that the two sides' listings stay apart (licensekit itself
    # writes one scope, CULLING_SCOPE).
    return CullingKey(
        scope=f"culling {side.account.id} Zoë",
        key_id=s.id("key", label),
        account_id=side.account.id,
        since=at(days=2, microseconds=1),
    )


def _bare_culling_key(s: Samples, label: str, side: Side) -> CullingKey:
    return attrs.evolve(_full_culling_key(s, label, side), since=T0)
