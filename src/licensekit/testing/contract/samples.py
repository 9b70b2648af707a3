"""Sample records of every kind, the only place where the contract knows a record type.

The capability tests are generic: they take each :class:`~licensekit.storage.RecordKind`
of :data:`~licensekit.storage.KINDS` and ask a :class:`Samples` for records of it. A new
kind, or a new field, therefore needs a sample here and no new test:

* add a builder to :data:`BUILDERS` with a *full* record (every optional field set, every
  default changed, values chosen to trip careless encodings) and a *bare* one (only the
  required fields); ``RecordsContract.test_the_samples_cover_every_field`` fails until the
  two cover the new field both ways;
* name in :data:`REFERENCES` the fields that hold another record's id, so that the suite
  writes that record first (an adapter may enforce foreign keys) and leaves the field out
  of the text tests;
* a number that licensekit changes with ``increment`` goes into :data:`COUNTERS`.

Every id, email, hash and throttle key of a :class:`Samples` carries a random tag, so a
test never meets another test's records: the suite also runs on a database that other
tests (or earlier runs) left records in.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import hashlib
import secrets
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

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
from licensekit.storage import (
    ACCOUNTS,
    AUDIT_EVENTS,
    COMPUTER_BLOCKS,
    CULLING_KEYS,
    INSTALL_INVITATIONS,
    INSTALLATIONS,
    JOIN_INVITATIONS,
    KINDS,
    LICENSE_KEYS,
    MEMBERSHIPS,
    SESSIONS,
    THROTTLES,
    USERS,
    RecordKind,
)

__all__ = [
    "BUILDERS",
    "COUNTERS",
    "FILTER_VARIANTS",
    "ID_COLLECTIONS",
    "REFERENCES",
    "T0",
    "Builder",
    "Counter",
    "FilterVariant",
    "Item",
    "Samples",
    "Side",
    "at",
    "enum_fields",
    "field_types",
    "fields_of_type",
    "optional",
    "plain",
    "sort_items",
]

R = TypeVar("R")

T0 = dt.datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)
"""The samples' reference moment; it has microseconds on purpose."""

Item = tuple[RecordKind[Any], Any]
"""A record together with its kind."""


def at(**delta: float) -> dt.datetime:
    """Return :data:`T0` moved by *delta* (``days=7``, ``microseconds=1``...)."""
    return T0 + dt.timedelta(**delta)


@functools.cache
def field_types(kind: RecordKind[Any]) -> Mapping[str, Any]:
    """Return the resolved type annotation of each field of *kind*'s records."""
    hints = typing.get_type_hints(kind.type)
    return {name: hints[name] for name in kind.fields}


def optional(hint: Any) -> bool:
    """True when *hint* admits None (``X | None``)."""
    return isinstance(hint, types.UnionType) and type(None) in typing.get_args(hint)


def plain(hint: Any) -> Any:
    """Return *hint* without its ``| None``."""
    if optional(hint):
        (inner,) = [a for a in typing.get_args(hint) if a is not type(None)]
        return inner
    return hint


def enum_fields(kind: RecordKind[Any]) -> dict[str, type[enum.Enum]]:
    """Return the fields of *kind* that hold an enum, with the enum."""
    return {
        name: hint
        for name, hint in field_types(kind).items()
        if isinstance(hint, type) and issubclass(hint, enum.Enum)
    }


def fields_of_type(kind: RecordKind[Any], cls: type) -> tuple[str, ...]:
    """Return the fields of *kind* that hold a *cls* (or None)."""
    return tuple(name for name, hint in field_types(kind).items() if plain(hint) is cls)


@attrs.frozen
class Side:
    """One of the two sets of parents a :class:`Samples` writes: an account and its keys.

    Attributes:
        index: 0 or 1.
        account: The business account.
        keys: Two license keys of the account.
        invitations: One invitation to install per key, in the same order.
    """

    index: int
    account: BusinessAccount
    keys: tuple[LicenseKey, LicenseKey]
    invitations: tuple[InstallInvitation, InstallInvitation]


Builder = Callable[["Samples", str, Side], Any]
"""Makes a record of one kind from a label (distinct labels give distinct keys and unique
values) on one :class:`Side`."""


@attrs.frozen
class Counter:
    """A number licensekit changes with :meth:`~licensekit.storage.Transaction.increment`.

    Attributes:
        kind: The kind of record.
        field: The number.
        cap: The number *field* may not pass, or None.
    """

    kind: RecordKind[Any]
    field: str
    cap: str | None

    def __str__(self) -> str:
        return f"{self.kind.name}.{self.field}" + (f"<={self.cap}" if self.cap else "")


COUNTERS: tuple[Counter, ...] = (
    Counter(LICENSE_KEYS, "seats_used", "seats"),
    Counter(INSTALL_INVITATIONS, "activations", "max_activations"),
    Counter(THROTTLES, "failures", None),
)
"""The numbers licensekit claims and counts with ``increment``: seats, activations, misses."""

REFERENCES: Mapping[RecordKind[Any], Mapping[str, RecordKind[Any]]] = {
    USERS: {},
    ACCOUNTS: {"created_by": USERS},
    MEMBERSHIPS: {"account_id": ACCOUNTS, "user_id": USERS, "changed_by": USERS},
    JOIN_INVITATIONS: {
        "account_id": ACCOUNTS,
        "invited_by": USERS,
        "accepted_by": USERS,
        "revoked_by": USERS,
    },
    SESSIONS: {"user_id": USERS},
    AUDIT_EVENTS: {"account_id": ACCOUNTS, "actor_id": USERS},
    THROTTLES: {},
    LICENSE_KEYS: {"account_id": ACCOUNTS, "created_by": USERS, "primary_id": LICENSE_KEYS},
    INSTALL_INVITATIONS: {
        "account_id": ACCOUNTS,
        "key_id": LICENSE_KEYS,
        "invited_by": USERS,
        "revoked_by": USERS,
    },
    INSTALLATIONS: {
        "account_id": ACCOUNTS,
        "key_id": LICENSE_KEYS,
        "invitation_id": INSTALL_INVITATIONS,
        "deactivated_by": USERS,
    },
    COMPUTER_BLOCKS: {"account_id": ACCOUNTS, "key_id": LICENSE_KEYS, "blocked_by": USERS},
    CULLING_KEYS: {"key_id": LICENSE_KEYS, "account_id": ACCOUNTS},
}
"""For each kind, the fields that hold the key of a record of another kind.

The suite writes the referenced record before the one that refers to it. Collections of
ids (``Membership.license_keys``, ``SessionRecord.admin_grants``) refer only to records
that every test writes first, and are listed in :data:`ID_COLLECTIONS`.
"""

ID_COLLECTIONS: Mapping[RecordKind[Any], tuple[str, ...]] = {
    MEMBERSHIPS: ("license_keys",),
    SESSIONS: ("admin_grants",),
}
"""Fields that hold collections of other records' ids; the text tests leave them alone."""

_PASSWORD_HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQxMjM0NTY$aGFzaGhhc2hoYXNoaGFzaGhhc2g"  # noqa: S105


class Samples:
    """Records of every kind for one test, under ids no other test uses.

    It holds a *world*: an administrator and a member, and two :class:`Side` s (an account,
    two license keys, an invitation to install per key). Samples refer to the world, which
    a test writes first (see :meth:`world`), and to records it makes on demand
    (:meth:`parents_for`).

    Args:
        tag: What every id of these samples contains; random unless given.
    """

    def __init__(self, tag: str | None = None) -> None:
        self.tag = tag if tag is not None else secrets.token_hex(4)
        self._written: set[tuple[str, tuple[Any, ...]]] = set()
        self.admin = User(
            id=self.id("usr", "admin"),
            email=f"ada.{self.tag}@example.com",
            created_at=T0,
            password_hash=_PASSWORD_HASH,
            name="Ada Admin",
            email_verified_at=T0,
        )
        self.member = User(id=self.id("usr", "member"), email=self.email("member"), created_at=T0)
        self.sides = (self._side(0), self._side(1))

    def __repr__(self) -> str:
        return f"Samples({self.tag!r})"

    # -- values -------------------------------------------------------------------------

    def id(self, prefix: str, label: str) -> str:
        """Return an id of these samples: *prefix*, the tag and *label*."""
        return f"{prefix}_{self.tag}_{label}"

    def email(self, label: str) -> str:
        """Return an address of these samples."""
        return f"{label}.{self.tag}@example.com"

    def digest(self, *parts: str) -> bytes:
        """Return 32 bytes standing in for a keyed hash, distinct for distinct *parts*."""
        return hashlib.sha256("\x1f".join((self.tag, *parts)).encode()).digest()

    # -- the world ------------------------------------------------------------------------

    def _side(self, index: int) -> Side:
        account = BusinessAccount(
            id=self.id("acc", f"side{index}"),
            name=f"Side {index} Ltd",
            created_at=T0,
            created_by=self.admin.id,
        )
        keys = [
            attrs.evolve(_plain_key(self, f"side{index}.{n}", account.id), seats=5)
            for n in range(2)
        ]
        invitations = [
            _plain_install_invitation(self, f"side{index}.{n}", key) for n, key in enumerate(keys)
        ]
        return Side(index, account, (keys[0], keys[1]), (invitations[0], invitations[1]))

    def world(self) -> list[Item]:
        """Return the records every test writes first, parents before what refers to them."""
        items: list[Item] = [(USERS, self.admin), (USERS, self.member)]
        items += [(ACCOUNTS, side.account) for side in self.sides]
        items += [(LICENSE_KEYS, key) for side in self.sides for key in side.keys]
        items += [(INSTALL_INVITATIONS, i) for side in self.sides for i in side.invitations]
        return items

    def side(self, index: int) -> Side:
        """Return side 0 or 1."""
        return self.sides[index]

    def owner(self, kind: RecordKind[Any], side: int = 0) -> Any:
        """Return the owner value (see :attr:`RecordKind.owner`) of *side*'s records."""
        if kind.owner is None:
            raise ValueError(f"{kind!r} is never listed")
        return getattr(self.bare(kind, "owner", side=side), kind.owner)

    # -- records --------------------------------------------------------------------------

    def full(
        self,
        kind: RecordKind[R],
        label: str,
        changes: Mapping[str, Any] | None = None,
        *,
        side: int = 0,
    ) -> R:
        """Return a record of *kind* with every optional field set, changed by *changes*."""
        return self._build(0, kind, label, changes, side)

    def bare(
        self,
        kind: RecordKind[R],
        label: str,
        changes: Mapping[str, Any] | None = None,
        *,
        side: int = 0,
    ) -> R:
        """Return a record of *kind* with only its required fields, changed by *changes*."""
        return self._build(1, kind, label, changes, side)

    def _build(
        self,
        which: int,
        kind: RecordKind[R],
        label: str,
        changes: Mapping[str, Any] | None,
        side: int,
    ) -> R:
        record = BUILDERS[kind.name][which](self, label, self.sides[side])
        return attrs.evolve(record, **changes) if changes else record  # type: ignore[no-any-return]

    def variants(self, kind: RecordKind[R], label: str) -> list[R]:
        """Return a full and a bare record, and a full one for every value of every enum."""
        records = [self.full(kind, f"{label}-full"), self.bare(kind, f"{label}-bare")]
        for name, cls in enum_fields(kind).items():
            records += [
                self.full(kind, f"{label}-{name}-{n}", {name: member})
                for n, member in enumerate(cls)
            ]
        return records

    def changed(self, kind: RecordKind[R], record: R, label: str) -> R:
        """Return *record* with every field a save may change taken from a full sample.

        The key and the :attr:`~licensekit.storage.RecordKind.fixed` fields stay.
        """
        other = self.full(kind, label)
        changeable = [f for f in kind.fields if f not in kind.key and f not in kind.fixed]
        return attrs.evolve(record, **{f: getattr(other, f) for f in changeable})  # type: ignore[misc]

    # -- what a record needs -------------------------------------------------------------

    def parents_for(self, items: Iterable[Item]) -> list[Item]:
        """Return the records *items* refer to that are neither written yet nor in *items*.

        A parent is a bare record of the referenced kind under the referenced id, on the
        side of the account the referring record belongs to.
        """
        items = list(items)
        present = self._written | {(kind.name, kind.key_of(r)) for kind, r in items}
        parents: list[Item] = []
        queue = list(items)
        while queue:
            kind, record = queue.pop()
            for field, target in REFERENCES[kind].items():
                value = getattr(record, field)
                if value is None or (target.name, (value,)) in present:
                    continue
                side = self._side_of(record)
                parent = self.bare(
                    target, f"ref-{_short(value)}", {target.key[0]: value}, side=side
                )
                present.add((target.name, (value,)))
                parents.append((target, parent))
                queue.append((target, parent))
        return sort_items(parents)

    def mark_written(self, items: Iterable[Item]) -> None:
        """Note that *items* are committed, so that :meth:`parents_for` skips them."""
        self._written.update((kind.name, kind.key_of(r)) for kind, r in items)

    def _side_of(self, record: object) -> int:
        account = getattr(record, "account_id", None)
        return 1 if account == self.sides[1].account.id else 0


def _short(value: object) -> str:
    """A short, plain label for any value (ids of parents made on demand)."""
    return hashlib.sha256(repr(value).encode()).hexdigest()[:12]


def sort_items(items: Iterable[Item]) -> list[Item]:
    """Return *items* in the order of :data:`~licensekit.storage.KINDS`, stable within a kind."""
    position = {kind.name: n for n, kind in enumerate(KINDS)}
    return sorted(items, key=lambda item: position[item[0].name])


def _plain_key(s: Samples, label: str, account_id: str) -> LicenseKey:
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


def _plain_install_invitation(s: Samples, label: str, key: LicenseKey) -> InstallInvitation:
    return InstallInvitation(
        id=s.id("inst", label),
        account_id=key.account_id,
        key_id=key.id,
        email=s.email(f"installer.{_short(label)}"),
        language="en",
        invited_by=s.admin.id,
        created_at=T0,
        expires_at=at(days=7),
        code_hash=s.digest("code", label),
        token_hash=s.digest("download", label),
        secret_ciphertext=b"secret:" + label.encode(),
    )


def _zeros(data: bytes) -> bytes:
    """Bytes a careless adapter would cut short: zero bytes first, a 0xFF among them."""
    return b"\x00\x01\x00\xff" + data


# -- one full and one bare builder per kind ---------------------------------------------------


def _full_user(s: Samples, label: str, side: Side) -> User:
    return User(
        id=s.id("usr", label),
        email=f"zoë.o'brien+{label}.{s.tag}@example.com",
        created_at=at(days=1),
        password_hash=_PASSWORD_HASH,
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
        token_hash=_zeros(s.digest("join", label)),
        token_ciphertext=_zeros(b"token:" + label.encode()),
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
        token_hash=_zeros(s.digest("session", label)),
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
        value_hash=_zeros(s.digest("value", label)),
        value_ciphertext=_zeros(b"ciphertext\x00\xfe" + label.encode()),
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
    return _plain_key(s, label, side.account.id)


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
        code_hash=_zeros(s.digest("code", label)),
        token_hash=_zeros(s.digest("download", label)),
        secret_ciphertext=_zeros(b"secret:" + label.encode()),
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
    return _plain_install_invitation(s, label, side.keys[0])


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
        token_hash=_zeros(s.digest("installation", label)),
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


BUILDERS: Mapping[str, tuple[Builder, Builder]] = {
    USERS.name: (_full_user, _bare_user),
    ACCOUNTS.name: (_full_account, _bare_account),
    MEMBERSHIPS.name: (_full_membership, _bare_membership),
    JOIN_INVITATIONS.name: (_full_join_invitation, _bare_join_invitation),
    SESSIONS.name: (_full_session, _bare_session),
    AUDIT_EVENTS.name: (_full_event, _bare_event),
    THROTTLES.name: (_full_throttle, _bare_throttle),
    LICENSE_KEYS.name: (_full_key, _bare_key),
    INSTALL_INVITATIONS.name: (_full_install_invitation, _bare_install_invitation),
    INSTALLATIONS.name: (_full_installation, _bare_installation),
    COMPUTER_BLOCKS.name: (_full_block, _bare_block),
    CULLING_KEYS.name: (_full_culling_key, _bare_culling_key),
}
"""For each kind (by name), the builders of its full and its bare sample."""


FilterVariant = Callable[[Samples, Any, int], Any]
"""Makes variant number *n* of a record of a kind that listings filter: the values it
filters by (or that a derived property is computed from) and its ranged fields changed."""


def _status_cycle(members: Iterable[Any]) -> FilterVariant:
    cycle = list(members)

    def vary(s: Samples, record: Any, n: int) -> Any:
        return attrs.evolve(record, status=cycle[n % len(cycle)])

    return vary


def _noted(n: int, expires_at: dt.datetime) -> dt.datetime | None:
    """An expiry noted at it (expired in phase), noted before it (not), or never noted."""
    return (expires_at, expires_at - dt.timedelta(microseconds=1), None, None)[n % 4]


def _join_phase(s: Samples, record: JoinInvitation, n: int) -> JoinInvitation:
    """Open, expired once noted, accepted or revoked, expiring at one of seven moments."""
    expires_at = at(hours=n % 7)
    changes: dict[str, Any] = {"expires_at": expires_at, "expiry_noted_at": _noted(n, expires_at)}
    if n % 3 == 1:
        changes.update(accepted_at=at(hours=1), accepted_by=s.member.id)
    if n % 3 == 2:
        changes.update(revoked_at=at(hours=2), revoked_by=s.admin.id)
    return attrs.evolve(record, **changes)


def _install_phase(s: Samples, record: InstallInvitation, n: int) -> InstallInvitation:
    """One of six phases (expired once noted among them), expiring at one of seven moments."""
    expires_at = at(hours=n % 7)
    changes: dict[str, Any] = {
        "expires_at": expires_at,
        "max_activations": 2,
        "expiry_noted_at": _noted(n, expires_at),
    }
    phase = n % 5
    if phase >= 1:
        changes["sent_count"] = 1
    if phase >= 2:
        changes["activations"] = 1 if phase == 2 else 2
    if phase == 4:
        changes["revoked_at"] = at(hours=3)
        changes["revoked_by"] = s.admin.id
    return attrs.evolve(record, **changes)


def _as_placed(s: Samples, record: Any, n: int) -> Any:
    """A computer block filtered by its key: the listing already varies it (its order)."""
    return record


FILTER_VARIANTS: Mapping[str, FilterVariant] = {
    MEMBERSHIPS.name: _status_cycle(MemberStatus),
    JOIN_INVITATIONS.name: _join_phase,
    LICENSE_KEYS.name: _status_cycle(KeyStatus),
    INSTALL_INVITATIONS.name: _install_phase,
    INSTALLATIONS.name: _status_cycle(InstallationStatus),
    COMPUTER_BLOCKS.name: _as_placed,
}
"""For each kind listings filter (by name), how its samples get every value of each filter."""
