"""What ``--db`` names: the path of a SQLite file, or a PostgreSQL database by its URI.

A value beginning with ``postgresql://`` or ``postgres://`` is a libpq URI, opened by
:func:`licensekit.stores.open_store` as ``LicenseKit(uri, ...)`` opens it: the query
parameter ``schema`` chooses the schema (``licensekit`` by default) and is removed before
libpq sees the URI. Anything else is a path. Messages and output show a URI with its
password replaced by ``***``, never as given.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote

import attrs

from licensekit.cli._errors import CommandError
from licensekit.storage import Store
from licensekit.stores import POSTGRES_SCHEMES, open_store

__all__ = ["NO_TABLES_YET", "PostgresDatabase", "masked_uri", "open_database", "parse_database"]

NO_TABLES_YET = "holds no licensekit tables yet"
"""What the PostgreSQL store says of a schema licensekit has not made (opened without create)."""

_MASK = "***"


@attrs.frozen(repr=False)
class PostgresDatabase:
    """A ``--db`` that is a PostgreSQL URI.

    Attributes:
        uri: The URI as given, password included: for libpq only, never for a message.
    """

    uri: str

    @property
    def shown(self) -> str:
        """The URI as messages show it: any password replaced by ``***``."""
        return masked_uri(self.uri)

    def __repr__(self) -> str:
        return f"PostgresDatabase({self.shown!r})"


def parse_database(text: str) -> Path | PostgresDatabase:
    """Return what *text* (the value of ``--db`` or ``LICENSEKIT_DB``) names."""
    if text.startswith(POSTGRES_SCHEMES):
        return PostgresDatabase(text)
    return Path(text)


def masked_uri(uri: str) -> str:
    """Return *uri* with the password of its user part and of any ``password=`` masked.

    Everything up to the last ``@`` before the first ``/`` is the user part, so that a
    password holding an unencoded ``@`` is masked whole.
    """
    scheme, separator, rest = uri.partition("://")
    authority, slash, tail = rest.partition("/")
    userinfo, at, hosts = authority.rpartition("@")
    if at and ":" in userinfo:
        authority = f"{userinfo.partition(':')[0]}:{_MASK}@{hosts}"
    if not slash:  # no path: the query, if any, follows the hosts
        authority, question, query = authority.partition("?")
        return f"{scheme}{separator}{authority}{question}{_masked_query(query)}"
    path, question, query = tail.partition("?")
    return f"{scheme}{separator}{authority}/{path}{question}{_masked_query(query)}"


def _masked_query(query: str) -> str:
    pieces = []
    for piece in query.split("&"):
        key, equals, _ = piece.partition("=")
        pieces.append(f"{key}={_MASK}" if equals and unquote(key) == "password" else piece)
    return "&".join(pieces)


def open_database(db: Path | PostgresDatabase, *, create: bool) -> Store:
    """Open the store of *db*; a new database or schema only with *create*.

    Raises:
        CommandError: A PostgreSQL URI, and the ``postgres`` extra is not installed.
        LicenseKitError: The database cannot be reached or opened, or is not licensekit's
            (see :func:`licensekit.stores.open_store`).
    """
    if isinstance(db, Path):
        return open_store(db, create=create)
    # The pool logs each failed attempt to connect; the tool says once, in one line, why it
    # gave up, and a log line could quote a mistyped URI.
    psycopg_log = logging.getLogger("psycopg")
    if not any(isinstance(h, logging.NullHandler) for h in psycopg_log.handlers):
        psycopg_log.addHandler(logging.NullHandler())
    try:
        return open_store(db.uri, create=create)
    except ImportError:
        raise CommandError(
            "a PostgreSQL --db needs psycopg 3 and its pool: "
            'pip install "licensekit-admin[postgres]"'
        ) from None
