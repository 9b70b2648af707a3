"""Test stores on PostgreSQL: schemas made once per process and emptied for each new store.

Making a schema (its tables, indexes and constraints) costs about a quarter of a second; a
test suite that wants a new, empty store per test gets one from a schema an earlier test
of the same process gave back, emptied with one ``DELETE`` per table in a single round
trip. A schema is given back when its store is closed or garbage-collected, and every
schema of the process is dropped when it exits.
"""

from __future__ import annotations

import atexit
import os
import secrets
import threading
import weakref
from collections.abc import Callable

from licensekit.exceptions import StorageError
from licensekit.stores._pg_schema import TABLE_NAMES
from licensekit.stores.postgres import PostgresStore

__all__ = ["DSN_VARIABLE", "open_postgres_test_store"]

DSN_VARIABLE = "LICENSEKIT_TEST_POSTGRES"
"""The environment variable holding the connection string of the tests' database."""

_lock = threading.Lock()
_free: list[str] = []  # schemas of this process no store uses, holding records of old tests
_made: list[tuple[str, str]] = []  # (connection string, schema) of every schema made here
_pid = os.getpid()


def open_postgres_test_store() -> tuple[PostgresStore, Callable[[], object]]:
    """Return a store on an empty schema of its own, and what closes it and frees the schema.

    Raises:
        StorageError: The server named by ``LICENSEKIT_TEST_POSTGRES`` (libpq's defaults when
            it is unset) cannot be reached.
    """
    global _pid
    dsn = os.environ.get(DSN_VARIABLE, "")
    with _lock:
        if _pid != os.getpid():  # a forked child: the parent's schemas stay the parent's
            _pid = os.getpid()
            _free.clear()
            _made.clear()
        schema = _free.pop() if _free else None
    if schema is None:
        schema = f"licensekit_test_{os.getpid()}_{secrets.token_hex(4)}"
        with _lock:
            _made.append((dsn, schema))
        store = PostgresStore(dsn, schema=schema, min_size=1, max_size=4)
    else:
        store = PostgresStore(dsn, schema=schema, min_size=1, max_size=4)
        _empty(store)
    return store, weakref.finalize(store, _give_back, store._pool, schema)


def _empty(store: PostgresStore) -> None:
    # DELETE of the few rows a test left costs about 0.4 ms; TRUNCATE, which makes new
    # files for eleven tables and their indexes, about 40 ms.
    deletes = "; ".join(f"DELETE FROM {store._quoted}.{name}" for name in TABLE_NAMES)  # noqa: S608 - our own names
    with store._pool.connection() as connection:
        try:
            connection.execute(f"BEGIN; {deletes}; COMMIT")
        except Exception as e:
            raise StorageError(f"cannot empty the test schema {store.schema}: {e}") from e


def _give_back(pool: object, schema: str) -> None:
    close = getattr(pool, "close", None)
    if close is not None:
        close()
    with _lock:
        if _pid == os.getpid():
            _free.append(schema)


@atexit.register
def _drop_all() -> None:
    if _pid != os.getpid() or not _made:
        return
    import psycopg

    for dsn, schema in _made:
        try:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as connection:
                connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        except psycopg.Error:  # the server went away: nothing more to tidy
            return
