"""The storage plug-in of protocol version 1, kept while the use cases move to version 2.

A host brings persistence by passing an object that implements :class:`Store`. Every use case
opens one transaction, reads and writes through it, and leaves it; the store must make all of
the transaction's writes visible together on success and none of them if the block raises.
Transactions must be serialisable with respect to each other: a use case that reads a count
(say, of active administrators) and then writes relies on nobody else changing it meanwhile.

Adapters convert their driver's errors into :class:`licensekit.exceptions.StorageError`
(``raise StorageError(...) from e``) and report uniqueness violations as
:class:`licensekit.exceptions.DuplicateKey`.

Listing methods page by key: they return up to ``limit`` records whose sort key is strictly
greater than ``after`` (or from the start when ``after`` is None), in ascending order of that
key, so pages stay stable while records are added.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

from licensekit.model import (
    AuditEvent,
    BusinessAccount,
    ComputerBlock,
    Installation,
    InstallInvitation,
    JoinInvitation,
    LicenseKey,
    Membership,
    SessionRecord,
    Throttle,
    User,
)

__all__ = ["Store", "Transaction"]


@runtime_checkable
class Transaction(Protocol):
    """Protocol: the reads and writes available inside one store transaction.

    ``get_*`` and ``find_*`` return None when nothing matches. ``add_*`` inserts new records
    and raises :class:`~licensekit.exceptions.DuplicateKey` on a clash of a unique key.
    ``save_membership``, ``save_throttle`` and ``save_computer_block`` insert or replace the
    record with the same key; the other ``save_*`` replace an existing record and raise
    :class:`~licensekit.exceptions.StorageError` when there is none (or when it would change
    a field the record is found by, other than those the method names).
    """

    # Users: unique by id and by email.
    def get_user(self, user_id: str) -> User | None:
        """Return the user with *user_id*."""
        ...

    def find_user_by_email(self, email: str) -> User | None:
        """Return the user whose normalised email is *email*."""
        ...

    def add_user(self, user: User) -> None:
        """Insert a new user; the id and the email must both be unused."""
        ...

    def save_user(self, user: User) -> None:
        """Replace an existing user (same id); the email must stay unique."""
        ...

    # Business accounts.
    def get_account(self, account_id: str) -> BusinessAccount | None:
        """Return the business account with *account_id*."""
        ...

    def add_account(self, account: BusinessAccount) -> None:
        """Insert a new business account."""
        ...

    # Memberships: unique by (account_id, user_id).
    def get_membership(self, account_id: str, user_id: str) -> Membership | None:
        """Return *user_id*'s membership in *account_id*, whatever its status."""
        ...

    def save_membership(self, membership: Membership) -> None:
        """Insert or replace the membership for its (account_id, user_id)."""
        ...

    def list_memberships(
        self, account_id: str, *, after: str | None, limit: int
    ) -> Sequence[Membership]:
        """Return an account's memberships of every status, ordered by user id."""
        ...

    def list_user_memberships(self, user_id: str) -> Sequence[Membership]:
        """Return every membership of *user_id*, ordered by account id."""
        ...

    def count_active_administrators(self, account_id: str) -> int:
        """Return how many active Account Administrators *account_id* has."""
        ...

    # Join invitations: unique by id and by token_hash.
    def add_join_invitations(self, invitations: Sequence[JoinInvitation]) -> None:
        """Insert new invitations, all or none."""
        ...

    def save_join_invitation(self, invitation: JoinInvitation) -> None:
        """Replace an existing invitation (same id)."""
        ...

    def save_join_invitations(self, invitations: Sequence[JoinInvitation]) -> None:
        """Replace existing invitations as :meth:`save_join_invitation` does, all or none."""
        ...

    def get_join_invitation(self, invitation_id: str) -> JoinInvitation | None:
        """Return the invitation with *invitation_id*."""
        ...

    def get_join_invitations(self, invitation_ids: Sequence[str]) -> Sequence[JoinInvitation]:
        """Return those of the invitations with *invitation_ids* that exist, in any order."""
        ...

    def find_join_invitation_by_token_hash(self, token_hash: bytes) -> JoinInvitation | None:
        """Return the invitation whose token has the keyed hash *token_hash*."""
        ...

    def list_join_invitations(
        self, account_id: str, *, after: str | None, limit: int
    ) -> Sequence[JoinInvitation]:
        """Return an account's invitations, ordered by id."""
        ...

    def list_join_invitations_for_email(
        self, account_id: str, email: str
    ) -> Sequence[JoinInvitation]:
        """Return every invitation of *account_id* addressed to *email*, ordered by id."""
        ...

    # Sessions: unique by id and by token_hash; deleted by user.
    def add_session(self, session: SessionRecord) -> None:
        """Insert a new session."""
        ...

    def save_session(self, session: SessionRecord) -> None:
        """Replace an existing session (same id and token hash), e.g. to add a role."""
        ...

    def find_session_by_token_hash(self, token_hash: bytes) -> SessionRecord | None:
        """Return the session whose token has the keyed hash *token_hash*."""
        ...

    def delete_session(self, session_id: str) -> None:
        """Delete a session; deleting an unknown id does nothing."""
        ...

    def delete_sessions_expired_before(self, moment: dt.datetime) -> int:
        """Delete sessions whose expiry is at or before *moment*; return how many."""
        ...

    def delete_user_sessions(self, user_id: str, *, keep: str | None = None) -> int:
        """Delete every session of *user_id* except the one with id *keep*; return how many."""
        ...

    # Audit trail: append only.
    def add_audit_events(self, events: Sequence[AuditEvent]) -> None:
        """Append events to the trail."""
        ...

    def list_audit_events(
        self, account_id: str, *, after: str | None, limit: int
    ) -> Sequence[AuditEvent]:
        """Return an account's events, ordered by id (the order they were recorded)."""
        ...

    # License keys: unique by id and by (account_id, value_hash).
    def add_license_key(self, key: LicenseKey) -> None:
        """Insert a new license key."""
        ...

    def save_license_key(self, key: LicenseKey) -> None:
        """Replace an existing key (same id, account and value hash)."""
        ...

    def get_license_key(self, key_id: str) -> LicenseKey | None:
        """Return the license key with *key_id*."""
        ...

    def find_license_key_by_value_hash(
        self, account_id: str, value_hash: bytes
    ) -> LicenseKey | None:
        """Return *account_id*'s key whose value has the keyed hash *value_hash*."""
        ...

    def list_license_keys(
        self, account_id: str, *, after: str | None, limit: int
    ) -> Sequence[LicenseKey]:
        """Return an account's keys of every status, ordered by id."""
        ...

    # Install invitations: unique by id, by code_hash and by token_hash.
    def add_install_invitations(self, invitations: Sequence[InstallInvitation]) -> None:
        """Insert new invitations to install, all or none."""
        ...

    def save_install_invitation(self, invitation: InstallInvitation) -> None:
        """Replace an existing invitation (same id, key, email, code and token hashes)."""
        ...

    def save_install_invitations(self, invitations: Sequence[InstallInvitation]) -> None:
        """Replace existing invitations as :meth:`save_install_invitation` does, all or none."""
        ...

    def get_install_invitation(self, invitation_id: str) -> InstallInvitation | None:
        """Return the invitation to install with *invitation_id*."""
        ...

    def get_install_invitations(self, invitation_ids: Sequence[str]) -> Sequence[InstallInvitation]:
        """Return those of the invitations to install with *invitation_ids* that exist.

        In any order; an id given twice, or not found, is simply not repeated or missing.
        """
        ...

    def find_install_invitation_by_code_hash(self, code_hash: bytes) -> InstallInvitation | None:
        """Return the invitation whose activation code has the keyed hash *code_hash*."""
        ...

    def find_install_invitation_by_token_hash(self, token_hash: bytes) -> InstallInvitation | None:
        """Return the invitation whose download token has the keyed hash *token_hash*."""
        ...

    def list_install_invitations(
        self, key_id: str, *, after: str | None, limit: int
    ) -> Sequence[InstallInvitation]:
        """Return a key's invitations to install, ordered by id."""
        ...

    # Installations: unique by id, by (key_id, computer_id) and by token_hash.
    def add_installation(self, installation: Installation) -> None:
        """Insert a new installation."""
        ...

    def save_installation(self, installation: Installation) -> None:
        """Replace an existing installation (same id, key and computer; the token may change)."""
        ...

    def get_installation(self, installation_id: str) -> Installation | None:
        """Return the installation with *installation_id*."""
        ...

    def find_installation(self, key_id: str, computer_id: str) -> Installation | None:
        """Return the installation of *computer_id* under *key_id*, whatever its status."""
        ...

    def find_installation_by_token_hash(self, token_hash: bytes) -> Installation | None:
        """Return the installation whose installation token has the keyed hash *token_hash*."""
        ...

    def list_installations(
        self, key_id: str, *, after: str | None, limit: int
    ) -> Sequence[Installation]:
        """Return a key's installations of every status, ordered by id."""
        ...

    # Computer blocks: unique by (account_id, computer_id, key_id); key_id None is one value.
    def find_computer_blocks(self, account_id: str, computer_id: str) -> Sequence[ComputerBlock]:
        """Return every block of *computer_id* in *account_id*, in ``sort_key`` order."""
        ...

    def save_computer_block(self, block: ComputerBlock) -> None:
        """Insert or replace the block for its (account_id, computer_id, key_id)."""
        ...

    def delete_computer_block(self, account_id: str, computer_id: str, key_id: str | None) -> None:
        """Lift one block; an unknown one does nothing."""
        ...

    def list_computer_blocks(
        self, account_id: str, *, after: str | None, limit: int
    ) -> Sequence[ComputerBlock]:
        """Return an account's blocks ordered by :attr:`ComputerBlock.sort_key`."""
        ...

    # Throttles: unique by key.
    def get_throttle(self, key: str) -> Throttle | None:
        """Return the failed-attempt record for *key*."""
        ...

    def save_throttle(self, throttle: Throttle) -> None:
        """Insert or replace the record for its key."""
        ...

    def delete_throttle(self, key: str) -> None:
        """Forget failed attempts for *key*; an unknown key does nothing."""
        ...

    def delete_throttles_expired_before(self, moment: dt.datetime) -> int:
        """Delete records whose ``expires_at`` is at or before *moment*; return how many."""
        ...


@runtime_checkable
class Store(Protocol):
    """Protocol: a place where licensekit keeps its records.

    Implementations shipped with licensekit: :class:`licensekit.stores.memory.MemoryStore`.
    """

    def transaction(self) -> AbstractContextManager[Transaction]:
        """Open a transaction: commit when the block ends, roll back if it raises.

        Transactions do not nest. A transaction object must not be used after its block.
        """
        ...

    def close(self) -> None:
        """Release the store's resources. The store is not used afterwards."""
        ...
