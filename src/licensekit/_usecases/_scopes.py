"""The scopes the use cases lock (see :meth:`licensekit.storage.Transaction.lock`).

A transaction locks what it is about to change before it reads what it decides on; two
transactions that lock a scope in common run one after the other. Throttles have theirs in
:func:`licensekit._usecases._throttle.scopes`.
"""

from __future__ import annotations

__all__ = ["account_scope", "email_scope", "user_scope"]


def account_scope(account_id: str) -> str:
    """The scope of a business account's members, invitations and audit trail."""
    return f"account:{account_id}"


def user_scope(user_id: str) -> str:
    """The scope of a user's record and sessions."""
    return f"user:{user_id}"


def email_scope(email: str) -> str:
    """The scope of registering (or looking up to create) the user with *email*."""
    return f"email:{email}"
