"""Opening the async store a location names (see :func:`licensekit.stores.open_store`)."""

from __future__ import annotations

import os

from licensekit.aio._threads import ThreadedStore
from licensekit.storage import AsyncStore
from licensekit.stores import POSTGRES_SCHEMES, open_store, split_schema

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
        conninfo, schema = split_schema(location)
        try:
            from licensekit.stores.postgres import AsyncPostgresStore
        except ImportError as missing:
            raise ImportError(
                "a postgresql:// location needs psycopg 3 and its pool: "
                'pip install "licensekit-admin[postgres]"'
            ) from missing
        if schema is None:
            return AsyncPostgresStore(conninfo, create=create)
        return AsyncPostgresStore(conninfo, schema=schema, create=create)
    return ThreadedStore(open_store(location, create=create))
