"""Test stores on PostgreSQL: schemas made once per process and emptied for each new store.

Making a schema (its tables, indexes and constraints) costs about a quarter of a second, and
starting a connection pool a few tens of milliseconds; a test suite that wants a new, empty
store per test gets one on the process's one pool, in a schema an earlier test of the same
process gave back, emptied with one ``DELETE`` per table in a single round trip. A schema is
given back when its store is closed or garbage-collected; every schema of the process is
dropped, and the pool closed, when it exits.
"""

from __future__ import annotations

import atexit
import os
import secrets
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from licensekit.exceptions import StorageError
from licensekit.stores._pg_schema import TABLE_NAMES
from licensekit.stores.postgres import PostgresStore, _without_password

if TYPE_CHECKING:
    from licensekit.stores.postgres import _Pool

__all__ = ["DSN_VARIABLE", "open_postgres_test_store"]

DSN_VARIABLE = "LICENSEKIT_TEST_POSTGRES"
"""The environment variable holding the connection string of the tests' database."""

_lock = threading.Lock()
_free: list[str] = []  # schemas of this process no store uses, holding records of old tests
_made: list[tuple[str, str]] = []  # (connection string, schema) of every schema made here
_pools: dict[str, _Pool] = {}  # this process's one pool per connection string
_pid = os.getpid()

_POOL_SIZE = 8
"""Connections of a test pool: enough for the suite's threads racing on one store."""


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
            _pools.clear()  # the parent's connections are not the child's to use
        schema = _free.pop() if _free else None
        pool = _pools.get(dsn)
        if pool is None:
            pool = _pools[dsn] = _new_pool(dsn)
    shown = _without_password(dsn)
    if schema is None:
        schema = f"licensekit_test_{os.getpid()}_{secrets.token_hex(4)}"
        with _lock:
            _made.append((dsn, schema))
        store = PostgresStore._sharing(pool, shown, schema)
    else:
        store = PostgresStore._sharing(pool, shown, schema)
        _empty(store)
    return store, weakref.finalize(store, _give_back, schema)


def _new_pool(dsn: str) -> _Pool:
    pool: _Pool = ConnectionPool(
        dsn,
        min_size=1,
        max_size=_POOL_SIZE,
        timeout=10.0,
        kwargs={"autocommit": True, "connect_timeout": 10},
        open=False,
        name="licensekit-tests",
    )
    try:
        pool.open(wait=True, timeout=10.0)
    except PoolTimeout as e:
        pool.close()
        raise StorageError(
            f"cannot connect to the tests' PostgreSQL at {_without_password(dsn)} "
            f"(set {DSN_VARIABLE})"
        ) from e
    return pool


def _empty(store: PostgresStore) -> None:
    # DELETE of the few rows a test left costs about 0.4 ms; TRUNCATE, which makes new
    # files for eleven tables and their indexes, about 40 ms.
    deletes = "; ".join(f"DELETE FROM {store._quoted}.{name}" for name in TABLE_NAMES)  # noqa: S608 - our own names
    with store._pool.connection() as connection:
        try:
            connection.execute(f"BEGIN; {deletes}; COMMIT")
        except Exception as e:
            raise StorageError(f"cannot empty the test schema {store.schema}: {e}") from e


def _give_back(schema: str) -> None:
    with _lock:
        if _pid == os.getpid():
            _free.append(schema)


@atexit.register
def _drop_all() -> None:
    if _pid != os.getpid():
        return
    for dsn, pool in _pools.items():
        schemas = [schema for made_in, schema in _made if made_in == dsn]
        try:
            if schemas:
                with pool.connection(timeout=5) as connection:
                    for schema in schemas:
                        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        except (psycopg.Error, PoolTimeout):
            pass
        finally:
            pool.close()
    _pools.clear()
