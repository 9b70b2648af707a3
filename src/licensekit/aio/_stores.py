"""Opening the async store a location names (see :func:`licensekit.stores.open_store`)."""

from __future__ import annotations

import os

from licensekit.aio._threads import ThreadedStore
from licensekit.storage import AsyncStore
from licensekit.stores import POSTGRES_SCHEMES, open_store

__all__ = ["open_async_store"]


def open_async_store(location: str | os.PathLike[str], *, create: bool = True) -> AsyncStore:
    """Open the store *location* names, for async code.

    A SQLite path opens a :class:`~licensekit.stores.sqlite.SQLiteStore` served by a
    :class:`~licensekit.aio.ThreadedStore`.

    Raises:
        As :func:`licensekit.stores.open_store`.
    """
    if isinstance(location, str) and location.startswith(POSTGRES_SCHEMES):
        return ThreadedStore(open_store(location, create=create))
    return ThreadedStore(open_store(location, create=create))
