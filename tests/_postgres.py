"""Where the tests find PostgreSQL: the real server of this machine.

``LICENSEKIT_TEST_POSTGRES`` holds a connection string (``dbname=test`` over the local
socket by default). Each test process works in schemas of its own, named after its id, and
drops them when it ends.
"""

from __future__ import annotations

import atexit
import os
import secrets

import psycopg

DSN = os.environ.get("LICENSEKIT_TEST_POSTGRES", "dbname=test")
"""The database the tests use."""


def new_schema(label: str) -> str:
    """A schema name no other test or process uses; dropped when the process exits."""
    name = f"lk_{label}_{os.getpid()}_{secrets.token_hex(3)}"
    atexit.register(drop_schema, name)
    return name


def drop_schema(name: str) -> None:
    """Drop *name* and everything in it, if it exists."""
    with psycopg.connect(DSN, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def examples(count: int) -> int:
    """*count* hypothesis examples, a third of them when the suite runs on PostgreSQL.

    A random sequence of use cases on the server makes a round trip per statement; the rules
    it checks are the same on every store, and the memory and SQLite runs try the full count.
    """
    on_server = os.environ.get("LICENSEKIT_TEST_STORE", "").strip().lower() == "postgres"
    return max(10, count // 3) if on_server else count
