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
    BusinessAccount,
    InstallationStatus,
    InstallInvitation,
    JoinInvitation,
    KeyStatus,
    LicenseKey,
    MemberStatus,
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
from licensekit.testing.contract import _sample_builders as _b
from licensekit.testing.contract._sample_builders import (
    PASSWORD_HASH,
    at,
    plain_install_invitation,
    plain_key,
    short,
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

T0 = _b.T0
"""The samples' reference moment; it has microseconds on purpose."""

# The builders and the moment they count from live in _sample_builders; at is this module's.
at.__module__ = __name__

Item = tuple[RecordKind[Any], Any]
"""A record together with its kind."""


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
            password_hash=PASSWORD_HASH,
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
            attrs.evolve(plain_key(self, f"side{index}.{n}", account.id), seats=5) for n in range(2)
        ]
        invitations = [
            plain_install_invitation(self, f"side{index}.{n}", key) for n, key in enumerate(keys)
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
                parent = self.bare(target, f"ref-{short(value)}", {target.key[0]: value}, side=side)
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


def sort_items(items: Iterable[Item]) -> list[Item]:
    """Return *items* in the order of :data:`~licensekit.storage.KINDS`, stable within a kind."""
    position = {kind.name: n for n, kind in enumerate(KINDS)}
    return sorted(items, key=lambda item: position[item[0].name])


BUILDERS: Mapping[str, tuple[Builder, Builder]] = {
    USERS.name: (_b._full_user, _b._bare_user),
    ACCOUNTS.name: (_b._full_account, _b._bare_account),
    MEMBERSHIPS.name: (_b._full_membership, _b._bare_membership),
    JOIN_INVITATIONS.name: (_b._full_join_invitation, _b._bare_join_invitation),
    SESSIONS.name: (_b._full_session, _b._bare_session),
    AUDIT_EVENTS.name: (_b._full_event, _b._bare_event),
    THROTTLES.name: (_b._full_throttle, _b._bare_throttle),
    LICENSE_KEYS.name: (_b._full_key, _b._bare_key),
    INSTALL_INVITATIONS.name: (_b._full_install_invitation, _b._bare_install_invitation),
    INSTALLATIONS.name: (_b._full_installation, _b._bare_installation),
    COMPUTER_BLOCKS.name: (_b._full_block, _b._bare_block),
    CULLING_KEYS.name: (_b._full_culling_key, _b._bare_culling_key),
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
