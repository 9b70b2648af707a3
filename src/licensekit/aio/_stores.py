"""Opening the async store a location names (see :func:`licensekit.stores.open_store`)."""

from __future__ import annotations

import os

from licensekit.aio._threads import ThreadedStore
from licensekit.storage import AsyncStore
from licensekit.stores import POSTGRES_SCHEMES, _postgres_store, open_store

__all__ = ["open_async_store"]


def open_async_store(location: str | os.PathLike[str], *, create: bool = True) -> AsyncStore:
    """Open the store *location* names, for async code.

    A ``postgresql://`` URI gives an :class:`~licensekit.stores.postgres.AsyncPostgresStore`
    (its ``schema`` parameter as for :func:`licensekit.stores.open_store`), opened at its
    first transaction; a SQLite path a :class:`~licensekit.stores.sqlite.SQLiteStore`
    served by a :class:`~licensekit.aio.ThreadedStore`, opened at once.

    Raises:
        ImportError: A PostgreSQL URI, and the ``postgres`` extra is not installed.
        StorageError: The URI cannot be read; the SQLite file cannot be opened.
    """
    if isinstance(location, str) and location.startswith(POSTGRES_SCHEMES):
        store: AsyncStore = _postgres_store(location, create=create, asynchronous=True)
        return store
    return ThreadedStore(open_store(location, create=create))
