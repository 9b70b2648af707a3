"""What the PostgreSQL store's driver errors mean, and the keys of its scopes' locks.

Every ``psycopg`` error the store meets becomes one of licensekit's
(:class:`~licensekit.exceptions.StorageError` and its kinds) through :func:`translate`. The
same in both flavours, so written once, by hand.
"""

from __future__ import annotations

import hashlib

import psycopg
from psycopg import errors

from licensekit.exceptions import DuplicateKey, StorageBusy, StorageError

__all__ = ["scope_lock_id", "translate"]

_BUSY = (
    errors.SerializationFailure,  # 40001
    errors.DeadlockDetected,  # 40P01
    errors.LockNotAvailable,  # 55P03: lock_timeout
    errors.QueryCanceled,  # 57014: statement_timeout
)


def scope_lock_id(namespace: str, scope: str) -> int:
    """The advisory lock key of *scope* in *namespace*: a signed 64-bit hash.

    Two scopes sharing a key (one chance in 2**64) would only wait for each other.
    """
    digest = hashlib.blake2b(
        f"{namespace}\x00{scope}".encode("utf-8", "surrogatepass"), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


def translate(error: Exception, doing: str, *, committing: bool = False) -> StorageError:
    """Return the licensekit error for a driver *error* raised while *doing* something."""
    if isinstance(error, UnicodeEncodeError):
        return StorageError(f"cannot store text that is not valid Unicode: {error}")
    if isinstance(error, errors.UniqueViolation):
        constraint = error.diag.constraint_name or "a unique constraint"
        return DuplicateKey(f"{doing}: a unique value clashes ({constraint})")
    if isinstance(error, psycopg.IntegrityError):
        return StorageError(f"{doing} would break a rule of the database: {error}")
    if isinstance(error, _BUSY):
        return StorageBusy(f"{doing}: PostgreSQL gave up waiting for a lock ({error})")
    if isinstance(error, psycopg.OperationalError) and not isinstance(error, errors.DiskFull):
        if committing:
            return StorageError(
                f"{doing}: the connection to PostgreSQL was lost during the commit, so "
                f"whether the transaction was kept is unknown ({error})"
            )
        return StorageBusy(
            f"{doing}: the connection to PostgreSQL was lost, and the server rolled the "
            f"transaction back ({error})"
        )
    return StorageError(f"{doing} failed in PostgreSQL: {type(error).__name__}: {error}")
