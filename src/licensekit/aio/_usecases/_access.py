"""Who is calling and what they may do: sessions, authorisation, and the records they name.

A use case that needs a caller resolves the session it was given with :class:`Access`, then
asks :func:`licensekit.roles.authorize` (through :meth:`Access.authorize`) whether that
session may act on the account. Records named by a caller's id are read through
:func:`user`, :func:`account` and :func:`member`, which raise the right "not found" error
whatever the caller passed (ids that are not even text match nothing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from licensekit._usecases._checks import as_id
from licensekit.aio._usecases._tx import Tx
from licensekit.codes import SecretKeys
from licensekit.domain import roles
from licensekit.domain._echo import echo
from licensekit.domain.model import (
    BusinessAccount,
    Membership,
    MemberStatus,
    MemberView,
    Session,
    SessionRecord,
    User,
)
from licensekit.domain.roles import Permission
from licensekit.exceptions import AccountNotFound, InvalidSession, MemberNotFound, UserNotFound
from licensekit.storage import ACCOUNTS, MEMBERSHIPS, SESSIONS, USERS, Query

__all__ = ["Access", "account", "account_and_user", "member", "member_view", "member_views", "user"]


class Access:
    """Resolves sessions and authorises them.

    Args:
        keys: The keys the session tokens' hashes are made with.
    """

    def __init__(self, keys: SecretKeys) -> None:
        self._keys = keys

    def session_hash(self, session: Session | str) -> bytes:
        """Return the keyed hash a session (or a bare token) is stored under."""
        token = session.token if isinstance(session, Session) else session
        if not isinstance(token, str):
            raise InvalidSession("a session or a session token string is required")
        return self._keys.lookup_hash("session", token)

    async def resolve(self, tx: Tx, session: Session | str, now: dt.datetime) -> SessionRecord:
        """Return the stored session of *session*, refusing an unknown or expired one."""
        record = await tx.find(SESSIONS, token_hash=self.session_hash(session))
        if record is None:
            raise InvalidSession("the session is unknown or has been logged out")
        if now >= record.expires_at:
            raise InvalidSession(f"the session expired at {record.expires_at.isoformat()}")
        return record

    async def session_user(self, tx: Tx, session: Session | str, now: dt.datetime) -> User:
        """Return the user *session* (unknown or expired: refused) belongs to."""
        return await user(tx, (await self.resolve(tx, session, now)).user_id)

    async def authorize(
        self,
        tx: Tx,
        session: Session | str,
        account_id: str,
        permission: Permission,
        now: dt.datetime,
    ) -> tuple[SessionRecord, Membership]:
        """Return the session and its membership in *account_id* if it may do *permission*.

        Raises:
            InvalidSession: The session is unknown or expired.
            PermissionDenied: It may not (see :func:`licensekit.roles.authorize`).
        """
        record = await self.resolve(tx, session, now)
        wanted = as_id(account_id)
        membership = None
        if wanted is not None:
            membership = await tx.get(MEMBERSHIPS, (wanted, record.user_id))
        roles.authorize(record.admin_grants, membership, permission, account_id=account_id)
        assert membership is not None  # noqa: S101 - authorize() raised otherwise
        return record, membership


async def member(tx: Tx, account_id: str, user_id: str) -> Membership:
    """Return *user_id*'s membership of *account_id*, unless there is none or it was removed."""
    wanted = as_id(user_id)
    membership = None
    if wanted is not None:
        membership = await tx.get(MEMBERSHIPS, (account_id, wanted))
    if membership is None or membership.status is MemberStatus.REMOVED:
        raise MemberNotFound(f"user {echo(user_id)} is not a member of account {echo(account_id)}")
    return membership


async def member_view(tx: Tx, membership: Membership) -> MemberView:
    """Return what callers see of *membership*, with its user's address and name."""
    return _member_view(membership, await user(tx, membership.user_id))


async def member_views(tx: Tx, memberships: Sequence[Membership]) -> tuple[MemberView, ...]:
    """Return :func:`member_view` of each of *memberships*, their users read in one look-up.

    Raises:
        UserNotFound: A membership's user does not exist.
    """
    people = {
        person.id: person for person in await tx.get_many(USERS, (m.user_id for m in memberships))
    }
    views = []
    for membership in memberships:
        person = people.get(membership.user_id)
        if person is None:
            raise UserNotFound(f"no user with id {echo(membership.user_id)}")
        views.append(_member_view(membership, person))
    return tuple(views)


def _member_view(membership: Membership, person: User) -> MemberView:
    return MemberView(
        user_id=person.id,
        email=person.email,
        name=person.name,
        role=membership.role,
        status=membership.status,
        joined_at=membership.joined_at,
        updated_at=membership.updated_at,
        changed_by=membership.changed_by,
        notes=membership.notes,
        license_keys=tuple(sorted(membership.license_keys)),
        all_license_keys=membership.all_license_keys,
    )


async def user(tx: Tx, user_id: str) -> User:
    """Return the user with *user_id*, or raise :class:`UserNotFound`."""
    found = None
    if (wanted := as_id(user_id)) is not None:
        found = await tx.get(USERS, wanted)
    if found is None:
        raise UserNotFound(f"no user with id {echo(user_id)}")
    return found


async def account_and_user(tx: Tx, account_id: str, user_id: str) -> tuple[BusinessAccount, User]:
    """Return :func:`account` of *account_id* and :func:`user` of *user_id*, read at once.

    Raises:
        AccountNotFound: No business account *account_id* (before a missing user).
        UserNotFound: No user *user_id*.
    """
    wanted_account, wanted_user = as_id(account_id), as_id(user_id)
    queries: list[Query[Any]] = []
    if wanted_account is not None:
        queries.append(Query(ACCOUNTS, ACCOUNTS.key, ((wanted_account,),)))
    if wanted_user is not None:
        queries.append(Query(USERS, USERS.key, ((wanted_user,),)))
    found = iter(await tx.fetch(*queries) if queries else ())
    accounts = next(found) if wanted_account is not None else []
    if not accounts:
        raise AccountNotFound(f"no business account {echo(account_id)}")
    users = next(found) if wanted_user is not None else []
    if not users:
        raise UserNotFound(f"no user with id {echo(user_id)}")
    return accounts[0], users[0]


async def account(tx: Tx, account_id: str) -> BusinessAccount:
    """Return the business account with *account_id*, or raise :class:`AccountNotFound`."""
    found = None
    if (wanted := as_id(account_id)) is not None:
        found = await tx.get(ACCOUNTS, wanted)
    if found is None:
        raise AccountNotFound(f"no business account {echo(account_id)}")
    return found
