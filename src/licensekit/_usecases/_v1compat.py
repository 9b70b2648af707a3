"""TRANSITIONAL: the version-1 transaction methods, over the version-2 port.

The use-case modules still written against storage protocol 1 (``_accounts``, ``_licensing``,
``_users``, ``_lockouts``) call these names; each is one generic operation of
:class:`~licensekit._usecases._tx.Tx`. The module is deleted when the last of them has moved
into :mod:`licensekit._usecases`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from licensekit._usecases._tx import Tx
from licensekit.model import (
    AuditEvent,
    BusinessAccount,
    ComputerBlock,
    Installation,
    InstallInvitation,
    JoinInvitation,
    LicenseKey,
    Membership,
    MemberStatus,
    Role,
    SessionRecord,
    Throttle,
    User,
)
from licensekit.storage import (
    ACCOUNTS,
    AUDIT_EVENTS,
    COMPUTER_BLOCKS,
    INSTALL_INVITATIONS,
    INSTALLATIONS,
    JOIN_INVITATIONS,
    LICENSE_KEYS,
    MEMBERSHIPS,
    SESSIONS,
    THROTTLES,
    USERS,
    RecordKind,
)

__all__ = ["V1Tx"]


def _after(after: str | None) -> tuple[Any, ...] | None:
    return None if after is None else (after,)


def _sorted(records: list[Any], field: str) -> list[Any]:
    return sorted(records, key=lambda r: getattr(r, field))


class V1Tx(Tx):
    """A :class:`Tx` that also answers to the version-1 method names."""

    __slots__ = ()

    def _page(self, kind: RecordKind[Any], owner: str, after: str | None, limit: int) -> Any:
        return self.page(kind, owner, after=_after(after), limit=limit)

    def get_user(self, user_id: str) -> User | None:
        return self.get(USERS, user_id)

    def find_user_by_email(self, email: str) -> User | None:
        return self.find(USERS, email=email)

    def add_user(self, user: User) -> None:
        self.add(USERS, user)

    def save_user(self, user: User) -> None:
        self.save(USERS, user)

    def get_account(self, account_id: str) -> BusinessAccount | None:
        return self.get(ACCOUNTS, account_id)

    def add_account(self, account: BusinessAccount) -> None:
        self.add(ACCOUNTS, account)

    def get_membership(self, account_id: str, user_id: str) -> Membership | None:
        return self.get(MEMBERSHIPS, (account_id, user_id))

    def save_membership(self, membership: Membership) -> None:
        self.put(MEMBERSHIPS, membership)

    def list_memberships(
        self, account_id: str, *, after: str | None, limit: int
    ) -> Sequence[Membership]:
        result: list[Membership] = self._page(MEMBERSHIPS, account_id, after, limit)
        return result

    def list_user_memberships(self, user_id: str) -> Sequence[Membership]:
        return _sorted(self.find_all(MEMBERSHIPS, user_id=user_id), "account_id")

    def count_active_administrators(self, account_id: str) -> int:
        return self.count(
            MEMBERSHIPS,
            account_id=account_id,
            role=Role.ACCOUNT_ADMINISTRATOR,
            status=MemberStatus.ACTIVE,
        )

    def add_join_invitations(self, invitations: Sequence[JoinInvitation]) -> None:
        self.add_all(JOIN_INVITATIONS, invitations)

    def save_join_invitation(self, invitation: JoinInvitation) -> None:
        self.save(JOIN_INVITATIONS, invitation)

    def save_join_invitations(self, invitations: Sequence[JoinInvitation]) -> None:
        self.save_all(JOIN_INVITATIONS, invitations)

    def get_join_invitation(self, invitation_id: str) -> JoinInvitation | None:
        return self.get(JOIN_INVITATIONS, invitation_id)

    def get_join_invitations(self, invitation_ids: Sequence[str]) -> Sequence[JoinInvitation]:
        return self.get_many(JOIN_INVITATIONS, invitation_ids)

    def find_join_invitation_by_token_hash(self, token_hash: bytes) -> JoinInvitation | None:
        return self.find(JOIN_INVITATIONS, token_hash=token_hash)

    def list_join_invitations(
        self, account_id: str, *, after: str | None, limit: int
    ) -> Sequence[JoinInvitation]:
        result: list[JoinInvitation] = self._page(JOIN_INVITATIONS, account_id, after, limit)
        return result

    def list_join_invitations_for_email(
        self, account_id: str, email: str
    ) -> Sequence[JoinInvitation]:
        return _sorted(self.find_all(JOIN_INVITATIONS, account_id=account_id, email=email), "id")

    def add_session(self, session: SessionRecord) -> None:
        self.add(SESSIONS, session)

    def save_session(self, session: SessionRecord) -> None:
        self.save(SESSIONS, session)

    def find_session_by_token_hash(self, token_hash: bytes) -> SessionRecord | None:
        return self.find(SESSIONS, token_hash=token_hash)

    def delete_session(self, session_id: str) -> None:
        self.delete(SESSIONS, session_id)

    def delete_sessions_expired_before(self, moment: dt.datetime) -> int:
        return self.delete_expired(SESSIONS, moment)

    def delete_user_sessions(self, user_id: str, *, keep: str | None = None) -> int:
        ended = [s.id for s in self.find_all(SESSIONS, user_id=user_id) if s.id != keep]
        return self.delete(SESSIONS, *ended)

    def add_audit_events(self, events: Sequence[AuditEvent]) -> None:
        self.add_all(AUDIT_EVENTS, events)

    def list_audit_events(
        self, account_id: str, *, after: str | None, limit: int
    ) -> Sequence[AuditEvent]:
        result: list[AuditEvent] = self._page(AUDIT_EVENTS, account_id, after, limit)
        return result

    def add_license_key(self, key: LicenseKey) -> None:
        self.add(LICENSE_KEYS, key)

    def save_license_key(self, key: LicenseKey) -> None:
        self.save(LICENSE_KEYS, key)

    def get_license_key(self, key_id: str) -> LicenseKey | None:
        return self.get(LICENSE_KEYS, key_id)

    def find_license_key_by_value_hash(
        self, account_id: str, value_hash: bytes
    ) -> LicenseKey | None:
        return self.find(LICENSE_KEYS, account_id=account_id, value_hash=value_hash)

    def list_license_keys(
        self, account_id: str, *, after: str | None, limit: int
    ) -> Sequence[LicenseKey]:
        result: list[LicenseKey] = self._page(LICENSE_KEYS, account_id, after, limit)
        return result

    def add_install_invitations(self, invitations: Sequence[InstallInvitation]) -> None:
        self.add_all(INSTALL_INVITATIONS, invitations)

    def save_install_invitation(self, invitation: InstallInvitation) -> None:
        self.save(INSTALL_INVITATIONS, invitation)

    def save_install_invitations(self, invitations: Sequence[InstallInvitation]) -> None:
        self.save_all(INSTALL_INVITATIONS, invitations)

    def get_install_invitation(self, invitation_id: str) -> InstallInvitation | None:
        return self.get(INSTALL_INVITATIONS, invitation_id)

    def get_install_invitations(self, invitation_ids: Sequence[str]) -> Sequence[InstallInvitation]:
        return self.get_many(INSTALL_INVITATIONS, invitation_ids)

    def find_install_invitation_by_code_hash(self, code_hash: bytes) -> InstallInvitation | None:
        return self.find(INSTALL_INVITATIONS, code_hash=code_hash)

    def find_install_invitation_by_token_hash(self, token_hash: bytes) -> InstallInvitation | None:
        return self.find(INSTALL_INVITATIONS, token_hash=token_hash)

    def list_install_invitations(
        self, key_id: str, *, after: str | None, limit: int
    ) -> Sequence[InstallInvitation]:
        result: list[InstallInvitation] = self._page(INSTALL_INVITATIONS, key_id, after, limit)
        return result

    def add_installation(self, installation: Installation) -> None:
        self.add(INSTALLATIONS, installation)

    def save_installation(self, installation: Installation) -> None:
        self.save(INSTALLATIONS, installation)

    def get_installation(self, installation_id: str) -> Installation | None:
        return self.get(INSTALLATIONS, installation_id)

    def find_installation(self, key_id: str, computer_id: str) -> Installation | None:
        return self.find(INSTALLATIONS, key_id=key_id, computer_id=computer_id)

    def find_installation_by_token_hash(self, token_hash: bytes) -> Installation | None:
        return self.find(INSTALLATIONS, token_hash=token_hash)

    def list_installations(
        self, key_id: str, *, after: str | None, limit: int
    ) -> Sequence[Installation]:
        result: list[Installation] = self._page(INSTALLATIONS, key_id, after, limit)
        return result

    def find_computer_blocks(self, account_id: str, computer_id: str) -> Sequence[ComputerBlock]:
        blocks = self.find_all(COMPUTER_BLOCKS, account_id=account_id, computer_id=computer_id)
        return sorted(blocks, key=lambda b: b.sort_key)

    def save_computer_block(self, block: ComputerBlock) -> None:
        self.put(COMPUTER_BLOCKS, block)

    def delete_computer_block(self, account_id: str, computer_id: str, key_id: str | None) -> None:
        self.delete(COMPUTER_BLOCKS, (account_id, computer_id, key_id))

    def list_computer_blocks(
        self, account_id: str, *, after: str | None, limit: int
    ) -> Sequence[ComputerBlock]:
        if after is None:
            return self.page(COMPUTER_BLOCKS, account_id, after=None, limit=limit)
        computer_id, _, key_id = after.partition("\t")
        return self.page(
            COMPUTER_BLOCKS, account_id, after=(computer_id, key_id or None), limit=limit
        )

    def get_throttle(self, key: str) -> Throttle | None:
        return self.get(THROTTLES, key)

    def save_throttle(self, throttle: Throttle) -> None:
        self.put(THROTTLES, throttle)

    def delete_throttle(self, key: str) -> None:
        self.delete(THROTTLES, key)

    def delete_throttles_expired_before(self, moment: dt.datetime) -> int:
        return self.delete_expired(THROTTLES, moment)
