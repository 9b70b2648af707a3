"""Personal accounts' shared steps: opening sessions, checking passwords, proving addresses.

Users and join invitations both create users, check passwords, prove an address and log a
person in; :class:`Sessions` is the one place that does each. Its methods that take a
:class:`~licensekit._usecases._tx.Tx` work in the caller's transaction, which holds the
scopes of what they change (``"user:<id>"`` for a user's record and sessions,
``"email:<email>"`` for a registration); :meth:`Sessions.verify_password` runs its own.
"""

from __future__ import annotations

import datetime as dt

import attrs

from licensekit._ids import new_id
from licensekit.aio._usecases._context import Context
from licensekit.aio._usecases._offload import offload
from licensekit.aio._usecases._throttle import scopes
from licensekit.aio._usecases._tx import Tx, query
from licensekit.codes import new_token
from licensekit.domain.model import Session, SessionMethod, SessionRecord, Throttle, User
from licensekit.domain.throttling import count_request, password_key
from licensekit.exceptions import DuplicateKey, EmailAlreadyRegistered
from licensekit.storage import MEMBERSHIPS, SESSIONS, THROTTLES, USERS

__all__ = ["Sessions"]


class Sessions:
    """Sessions, passwords and proof of address (see the module docstring).

    Args:
        ctx: The store, clock, password hasher, keys and settings to use.
    """

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    async def issue(self, tx: Tx, user: User, method: SessionMethod, now: dt.datetime) -> Session:
        """Open a session for *user*, carrying their roles as they stand now."""
        token = new_token()
        active = sorted(
            (m for m in await tx.find_all(MEMBERSHIPS, user_id=user.id) if m.is_active),
            key=lambda m: m.account_id,
        )
        record = SessionRecord(
            id=new_id("ses", now),
            token_hash=self._ctx.keys.lookup_hash("session", token),
            user_id=user.id,
            method=method,
            issued_at=now,
            expires_at=now + self._ctx.settings.session_lifetime,
            admin_grants={m.account_id: m.admin_grant for m in active if m.is_active_administrator},
        )
        await tx.add(SESSIONS, record)
        return Session(
            token=token,
            id=record.id,
            user_id=user.id,
            email=user.email,
            method=method,
            issued_at=now,
            expires_at=record.expires_at,
            roles={m.account_id: m.role for m in active},
            email_verified=user.email_verified,
        )

    @staticmethod
    async def end_all(tx: Tx, user_id: str, *, keep: str | None = None) -> int:
        """End every session of *user_id* but the one with id *keep*; return how many."""
        ended = [s.id for s in await tx.find_all(SESSIONS, user_id=user_id) if s.id != keep]
        return await tx.delete(SESSIONS, *ended)

    async def prove(self, tx: Tx, user: User, now: dt.datetime, *, keep_password: bool) -> User:
        """Record the first proof of *user*'s address: sessions end, and maybe the password."""
        proven = attrs.evolve(
            user,
            email_verified_at=now,
            password_hash=user.password_hash if keep_password else None,
        )
        await tx.save(USERS, proven)
        await self.end_all(tx, user.id)
        return proven

    @staticmethod
    async def add_user(tx: Tx, user: User, hint: str = "") -> None:
        """Store a new *user*, refusing an address that has an account already."""
        if await tx.find(USERS, email=user.email) is not None:
            raise EmailAlreadyRegistered(
                f"a user with email {user.email!r} already exists" + (f"; {hint}" if hint else "")
            )
        try:
            await tx.add(USERS, user)
        except DuplicateKey as e:  # pragma: no cover - a race the check above narrows
            raise EmailAlreadyRegistered(f"a user with email {user.email!r} already exists") from e

    async def verify_password(self, email: str, password: str, now: dt.datetime) -> User | None:
        """Return the user if *password* is theirs, else None; throttled per email.

        The attempt is counted as a failure *before* the (slow) verification, in the same
        transaction that checks the lock, so parallel guesses cannot slip past the limit;
        a success then clears the count. Unknown emails cost the same hashing time.

        Raises:
            TooManyAttempts: Log-ins as *email* are locked.
        """
        key = password_key(email)
        policy = self._ctx.settings.password_throttle

        async def attempt(tx: Tx) -> User | None:
            throttles, users = await tx.fetch(query(THROTTLES, key=key), query(USERS, email=email))
            throttle: Throttle | None = throttles[0] if throttles else None
            what = f"log-ins as {email}"
            await tx.put(
                THROTTLES, *count_request([(key, throttle)], now=now, policy=policy, what=what)
            )
            found: User | None = users[0] if users else None
            return found

        user = await self._ctx.runner.run(attempt, *scopes([key]))
        passwords = self._ctx.passwords
        if user is None or user.password_hash is None:
            await offload(passwords.burn)
            return None
        if not await offload(passwords.verify, password, user.password_hash):
            return None
        await self._ctx.runner.run(lambda tx: tx.delete(THROTTLES, key), *scopes([key]))
        return user
