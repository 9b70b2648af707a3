"""Storage adapters shipped with licensekit, one module per technology.

* :class:`~licensekit.stores.memory.MemoryStore`: in process memory, for tests and embedding;
* :class:`~licensekit.stores.sqlite.SQLiteStore`: one SQLite file, the embedded default;
* :class:`~licensekit.stores.postgres.PostgresStore`: one schema of a PostgreSQL database,
  shared by several instances of a service (the ``postgres`` extra).

:func:`open_store` opens the store a location names, as ``LicenseKit(location, ...)`` and
the command line's ``--db`` do: a ``postgresql://`` (or ``postgres://``) URI opens a
PostgresStore, anything else is the path of a SQLite file.

Every ``LicenseKit`` imports this module (for :func:`open_store`); each store, and what only
a PostgreSQL URI needs (:mod:`urllib.parse`), is imported on first use, so that hosts on
another store never load :mod:`sqlite3` or the memory store.
"""

from __future__ import annotations

import os

from licensekit.exceptions import StorageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy reads it alike
if TYPE_CHECKING:
    from typing import Any, Final

    from licensekit.storage import Store
    from licensekit.stores.memory import MemoryStore
    from licensekit.stores.sqlite import SQLiteStore

__all__ = ["POSTGRES_SCHEMES", "MemoryStore", "SQLiteStore", "open_store"]

POSTGRES_SCHEMES: Final = ("postgresql://", "postgres://")
"""How a location that is a PostgreSQL URI, not the path of a SQLite file, begins."""

_SCHEMA_PARAMETER: Final = "schema"


def __getattr__(name: str) -> object:
    if name == "MemoryStore":
        from licensekit.stores.memory import MemoryStore

        return MemoryStore
    if name == "SQLiteStore":
        from licensekit.stores.sqlite import SQLiteStore

        return SQLiteStore
    raise AttributeError(f"module 'licensekit.stores' has no attribute {name!r}")


def open_store(location: str | os.PathLike[str], *, create: bool = True) -> Store:
    """Open the store *location* names: a PostgreSQL URI, or the path of a SQLite file.

    A text beginning with ``postgresql://`` or ``postgres://`` opens a
    :class:`~licensekit.stores.postgres.PostgresStore` with the pool's defaults. Its query
    parameter ``schema`` names the schema (``licensekit`` when absent); it is licensekit's,
    not libpq's, and is removed before the URI reaches libpq, so
    ``postgresql://db.internal/licensing?schema=portal&sslmode=require`` opens the schema
    ``portal`` with TLS required. Anything else is a path, opened with
    :class:`~licensekit.stores.sqlite.SQLiteStore`.

    Args:
        location: The URI or the path.
        create: With False, open only a database licensekit has made (a SQLite file with
            its schema, a PostgreSQL schema holding its tables); nothing is created.

    Returns:
        The open store, yours to close.

    Raises:
        ImportError: A PostgreSQL URI, and the ``postgres`` extra is not installed.
        IncompatibleStore: The database was made by a newer licensekit or by someone else
            (without *create*: holds no licensekit database yet).
        StorageError: The URI cannot be read, names the schema twice, or the database
            cannot be reached or opened. No message shows the URI's password.
    """
    if isinstance(location, str) and location.startswith(POSTGRES_SCHEMES):
        store: Store = _postgres_store(location, create=create, asynchronous=False)
        return store
    from licensekit.stores.sqlite import SQLiteStore

    return SQLiteStore(location, create=create)


def _postgres_store(uri: str, *, create: bool, asynchronous: bool) -> Any:
    """The PostgreSQL store (async with *asynchronous*) of a ``postgresql://`` *uri*.

    See :func:`open_store`; :func:`licensekit.aio._stores.open_async_store` uses it too.
    """
    conninfo, schema = _split_schema(uri)
    try:
        from licensekit.stores.postgres import AsyncPostgresStore, PostgresStore
    except ImportError as missing:
        raise ImportError(
            "a postgresql:// location needs psycopg 3 and its pool: "
            'pip install "licensekit-admin[postgres]"'
        ) from missing
    kind = AsyncPostgresStore if asynchronous else PostgresStore
    if schema is None:
        return kind(conninfo, create=create)
    return kind(conninfo, schema=schema, create=create)


def _split_schema(uri: str) -> tuple[str, str | None]:
    """*uri* without its ``schema`` query parameter, and the schema it named (or None).

    The other parameters are kept exactly as written, percent-encoding included.
    """
    base, mark, query = uri.partition("?")
    if not mark:
        return uri, None
    from urllib.parse import unquote

    kept: list[str] = []
    named: list[str] = []
    for piece in query.split("&"):
        key, _, value = piece.partition("=")
        if unquote(key) == _SCHEMA_PARAMETER:
            named.append(unquote(value))
        else:
            kept.append(piece)
    if len(named) > 1:
        raise StorageError("the PostgreSQL URI names the schema more than once")
    rest = "&".join(kept)
    return (f"{base}?{rest}" if rest else base), (named[0] if named else None)
