# ruff: noqa: S608 - the SQL names only schemas these tests made
"""The PostgreSQL store beyond the contract suite: its schema, its locks and its faults.

Every test runs against the real server (``LICENSEKIT_TEST_POSTGRES``, ``dbname=test`` by
default), each in a schema of its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from _postgres import DSN, drop_schema, new_schema
from licensekit.exceptions import IncompatibleStore, StorageBusy, StorageError
from licensekit.storage import USERS, Query
from licensekit.stores._pg_schema import SCHEMA_VERSION
from licensekit.stores.postgres import PostgresStore
from licensekit.testing.contract.samples import Samples


@pytest.fixture
def schema() -> Iterator[str]:
    name = new_schema("store")
    yield name
    drop_schema(name)


@pytest.fixture
def store(schema: str) -> Iterator[PostgresStore]:
    opened = PostgresStore(DSN, schema=schema, lock_timeout=1.0, connect_timeout=2.0)
    yield opened
    opened.close()


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(DSN, autocommit=True)


def test_a_new_schema_is_made_at_the_current_version_and_reopened_without_change(
    store: PostgresStore, schema: str
) -> None:
    assert store.schema_version == SCHEMA_VERSION
    again = PostgresStore(DSN, schema=schema)
    try:
        assert again.schema_version == SCHEMA_VERSION
    finally:
        again.close()
    with _admin() as admin:
        rows = admin.execute(
            f'SELECT version FROM "{schema}".licensekit_schema ORDER BY version'
        ).fetchall()
    # One row per step applied, each once.
    assert rows == [(v,) for v in range(1, SCHEMA_VERSION + 1)], "a schema was migrated again"


def test_a_schema_of_a_newer_licensekit_is_refused(store: PostgresStore, schema: str) -> None:
    with _admin() as admin:
        admin.execute(f'INSERT INTO "{schema}".licensekit_schema (version) VALUES (99)')
    with pytest.raises(IncompatibleStore, match="version 99, made by a newer licensekit"):
        PostgresStore(DSN, schema=schema)


def test_tables_of_another_application_are_refused_and_left_untouched(schema: str) -> None:
    with _admin() as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        admin.execute(f'CREATE TABLE "{schema}".users (name text)')
        admin.execute(f"INSERT INTO \"{schema}\".users VALUES ('theirs')")
    with pytest.raises(IncompatibleStore, match=r"tables licensekit did not make \(users\)"):
        PostgresStore(DSN, schema=schema)
    with _admin() as admin:
        assert admin.execute(f'SELECT name FROM "{schema}".users').fetchall() == [("theirs",)]
        tables = admin.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", [schema]
        ).fetchone()
    assert tables == (1,), "licensekit created tables beside another application's"


def test_without_create_a_schema_without_licensekit_tables_is_refused(schema: str) -> None:
    with pytest.raises(IncompatibleStore, match="holds no licensekit tables yet"):
        PostgresStore(DSN, schema=schema, create=False)


def test_two_instances_starting_together_migrate_once(schema: str) -> None:
    stores: list[PostgresStore] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            stores.append(PostgresStore(DSN, schema=schema))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for opened in stores:
        opened.close()
    assert errors == []
    with _admin() as admin:
        rows = admin.execute(
            f'SELECT version FROM "{schema}".licensekit_schema ORDER BY version'
        ).fetchall()
    assert rows == [(v,) for v in range(1, SCHEMA_VERSION + 1)]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"schema": "Bad-Name"}, "schema must be"),
        ({"min_size": -1}, "min_size must be"),
        ({"max_size": 0}, "max_size must be"),
        ({"min_size": 5, "max_size": 2}, "larger than max_size"),
        ({"lock_timeout": 0}, "lock_timeout must be"),
        ({"connect_timeout": True}, "connect_timeout must be"),
        ({"prepare_threshold": -1}, "prepare_threshold must be"),
    ],
)
def test_arguments_out_of_range_are_refused(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(StorageError, match=message):
        PostgresStore(DSN, **arguments)  # type: ignore[arg-type]


def test_an_unreachable_server_is_a_storage_error_that_hides_the_password() -> None:
    with pytest.raises(StorageError, match="cannot connect") as caught:
        PostgresStore("postgresql://someone:hunter2@127.0.0.1:1/nowhere", connect_timeout=1.0)
    assert "hunter2" not in str(caught.value)


def test_a_connection_string_that_cannot_be_read_is_refused_at_once_without_its_password() -> None:
    for conninfo in ("host=localhost password='hunter2 bogus=x", "dbname=test password=hunter2 =x"):
        with pytest.raises(StorageError, match="cannot be read") as caught:
            PostgresStore(conninfo, connect_timeout=30.0)  # refused before any wait
        assert "hunter2" not in str(caught.value)


def test_a_refused_connection_says_why() -> None:
    missing = f"no_database_{new_schema('x')}"
    with pytest.raises(StorageError, match=f'database "{missing}" does not exist'):
        PostgresStore(f"{DSN} dbname={missing}", connect_timeout=1.0)


def test_without_prepared_statements_nothing_is_prepared_on_the_server(schema: str) -> None:
    unprepared = PostgresStore(DSN, schema=schema, max_size=1, prepare_threshold=None)
    try:
        for _ in range(8):  # past psycopg's default threshold of 5
            with unprepared.transaction() as tx:
                tx.read([Query(USERS, ("id",), (("nobody",),))])
        with unprepared.transaction() as tx:
            prepared = tx._fetch("SELECT count(*) FROM pg_prepared_statements", ())
    finally:
        unprepared.close()
    assert prepared == [(0,)]


def test_a_role_that_owns_only_its_schema_can_make_and_migrate_it(schema: str) -> None:
    """CREATE SCHEMA IF NOT EXISTS would need the CREATE right on the whole database."""
    role = schema  # a fresh name, dropped below
    with _admin() as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(f'CREATE SCHEMA "{schema}" AUTHORIZATION "{role}"')
        has_create = admin.execute(
            "SELECT has_database_privilege(%s, current_database(), 'CREATE')", [role]
        ).fetchone()
    try:
        assert has_create == (False,)
        PostgresStore(f"{DSN} user={role}", schema=schema).close()
        reopened = PostgresStore(f"{DSN} user={role}", schema=schema, create=False)
        assert reopened.schema_version == SCHEMA_VERSION
        reopened.close()
    finally:
        drop_schema(schema)
        with _admin() as admin:
            admin.execute(f'DROP ROLE "{role}"')


def test_two_scopes_do_not_wait_for_each_other_and_one_scope_does(store: PostgresStore) -> None:
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with store.transaction() as tx:
            tx.lock(["account:a"])
            held.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(5)
        started = time.monotonic()
        with store.transaction() as tx:
            assert tx.lock(["account:b"]) is True
        assert time.monotonic() - started < 0.9, "another account's scope waited"
        with (
            pytest.raises(StorageBusy, match="gave up waiting for a lock"),
            store.transaction() as tx,
        ):
            tx.lock(["account:a"])  # lock_timeout is 1 s
    finally:
        release.set()
        thread.join()


def test_a_connection_killed_mid_transaction_is_busy_and_nothing_is_kept(
    store: PostgresStore,
) -> None:
    samples = Samples()
    user = samples.bare(USERS, "killed")

    def killed_midway() -> None:
        with store.transaction() as tx:
            tx.add(USERS, [user])
            pid = tx._cursor.connection.info.backend_pid
            with _admin() as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", [pid])
            tx.read([Query(USERS, ("id",), ((user.id,),))])

    with pytest.raises(StorageBusy, match="connection to PostgreSQL was lost"):
        killed_midway()
    with store.transaction() as tx:  # the store recovered by itself
        assert tx.read([Query(USERS, ("id",), ((user.id,),))]) == [[]]


def test_an_exhausted_pool_is_busy(schema: str) -> None:
    small = PostgresStore(DSN, schema=schema, max_size=1, connect_timeout=0.5)
    refused: list[BaseException] = []

    def other() -> None:
        try:
            with small.transaction():
                pass
        except BaseException as e:
            refused.append(e)

    try:
        with small.transaction():  # holds the pool's one connection
            thread = threading.Thread(target=other)
            thread.start()
            thread.join()
    finally:
        small.close()
    assert len(refused) == 1
    assert isinstance(refused[0], StorageBusy)
    assert "no connection" in str(refused[0])


def test_a_closed_store_refuses_transactions(store: PostgresStore) -> None:
    store.close()
    with pytest.raises(StorageError, match="closed"):
        store.transaction().__enter__()


def test_licensekit_opens_a_postgresql_uri_as_it_opens_a_path() -> None:
    from licensekit import LicenseKit
    from licensekit.testing import RecordingMailer

    database = DSN.removeprefix("dbname=") if DSN.startswith("dbname=") else "test"
    kit = LicenseKit(
        f"postgresql:///{database}",
        RecordingMailer(),
        secret=b"s" * 32,
        join_url="https://portal.example.com/join?token={token}",
    )
    try:
        assert isinstance(kit.store, PostgresStore)
        assert kit.store.schema == "licensekit"
        kit.register_user("uri@example.com", "a long enough passphrase")
    finally:
        kit.close()
        drop_schema("licensekit")


def test_test_stores_share_one_pool_and_a_given_back_schema_comes_back_empty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from licensekit.testing._postgres import open_postgres_test_store

    monkeypatch.setenv("LICENSEKIT_TEST_POSTGRES", DSN)
    first, give_back = open_postgres_test_store()
    user = Samples().bare(USERS, "handed on")
    with first.transaction() as tx:
        tx.add(USERS, [user])
    first.close()
    give_back()
    second, give_back_again = open_postgres_test_store()
    try:
        assert second.schema == first.schema  # the schema was handed on...
        assert second._pool is first._pool  # ...on the same pool, which closing left open
        assert second.dump() == []  # ...with nothing of the earlier test in it
        with second.transaction() as tx:
            tx.add(USERS, [user])  # the same key again: no clash with the earlier record
        assert second.dump() == [user]
    finally:
        second.close()
        give_back_again()
