"""TRANSITIONAL: the personal-account steps ``_accounts`` still calls by their old names.

The use cases moved to :mod:`licensekit._usecases.users`; each step here is one call of the
:class:`~licensekit._usecases._sessions.Sessions` helper that ``_compose_accounts`` builds.
The module goes when ``_accounts`` has moved.
"""

from __future__ import annotations

import datetime as dt

from licensekit._core import ServiceCore
from licensekit._usecases._tx import Tx
from licensekit.model import Session, SessionMethod, User

__all__ = ["UsersService"]


class UsersService(ServiceCore):
    """The steps of personal accounts the older groups share (see the module docstring)."""

    def _prove(self, tx: Tx, user: User, now: dt.datetime, *, keep_password: bool) -> User:
        return self._sessions.prove(tx, user, now, keep_password=keep_password)

    def _add_user(self, tx: Tx, user: User, hint: str = "") -> None:
        self._sessions.add_user(tx, user, hint)

    def _issue_session(
        self, tx: Tx, user: User, method: SessionMethod, now: dt.datetime
    ) -> Session:
        return self._sessions.issue(tx, user, method, now)

    def _verify_password(self, email: str, password: str, now: dt.datetime) -> User | None:
        return self._sessions.verify_password(email, password, now)
