"""``licensekit.stores.open_store``: the store a location names, as ``LicenseKit(location)``
and the command line's ``--db`` open it.

A ``postgresql://`` URI opens a PostgresStore (on the real server here, in schemas of the
tests' own), its ``schema`` parameter removed before libpq sees the URI; anything else is the
path of a SQLite file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from _postgres import DSN, drop_schema, new_schema
from licensekit import IncompatibleStore, LicenseKit, StorageError
from licensekit.stores import _split_schema, open_store
from licensekit.stores.postgres import PostgresStore
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import RecordingMailer

PARAMS = psycopg.conninfo.conninfo_to_dict(DSN)
URI = "postgresql://?" + "&".join(f"{key}={value}" for key, value in PARAMS.items())


@pytest.fixture
def schema() -> Iterator[str]:
    name = new_schema("locations")
    yield name
    drop_schema(name)


def test_licensekit_opens_the_schema_the_uri_names(schema: str) -> None:
    with LicenseKit(
        f"{URI}&schema={schema}",
        RecordingMailer(),
        secret=b"s" * 32,
        join_url="https://portal.example.com/join?token={token}",
    ) as kit:
        assert isinstance(kit.store, PostgresStore)
        assert kit.store.schema == schema
        kit.register_user("uri@example.com", "a long enough passphrase")
    reopened = open_store(f"{URI}&schema={schema}", create=False)
    try:
        assert isinstance(reopened, PostgresStore)
        assert reopened.schema == schema
    finally:
        reopened.close()


def test_without_create_a_schema_is_neither_made_nor_filled(schema: str) -> None:
    with pytest.raises(IncompatibleStore, match=f"the schema {schema} holds no licensekit"):
        open_store(f"{URI}&schema={schema}", create=False)
    with psycopg.connect(DSN) as connection:
        found = connection.execute(
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [schema]
        ).fetchone()
    assert found is None


@pytest.mark.parametrize(
    ("uri", "conninfo", "schema"),
    [
        ("postgresql://db/lic", "postgresql://db/lic", None),
        ("postgresql://db/lic?schema=portal", "postgresql://db/lic", "portal"),
        (
            "postgres://db/lic?options=-csearch_path%3Dx&sch%65ma=p&sslmode=require",
            "postgres://db/lic?options=-csearch_path%3Dx&sslmode=require",
            "p",
        ),
        ("postgresql://db/lic?schema=", "postgresql://db/lic", ""),
    ],
)
def test_the_schema_parameter_is_taken_out_and_the_rest_kept_as_written(
    uri: str, conninfo: str, schema: str | None
) -> None:
    assert _split_schema(uri) == (conninfo, schema)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("postgresql:///test?schema=a&schema=b", "names the schema more than once"),
        ("postgresql:///test?schema=", "schema must be 1 to 63"),
        ("postgresql:///test?bogus=1", 'invalid URI query parameter: "bogus"'),
        ("postgresql://me:hunter2%zz@db/test", "libpq's reason is not shown"),
        ("postgresql:///test?password=hunter2%zz", "libpq's reason is not shown"),
    ],
)
def test_an_unreadable_uri_is_refused_at_once_without_its_password(uri: str, message: str) -> None:
    with pytest.raises(StorageError, match=message) as refused:
        open_store(uri)
    assert "hunter2" not in str(refused.value)


def test_a_path_opens_a_sqlite_file(tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        open_store(tmp_path / "missing.db", create=False)
    store = open_store(str(tmp_path / "licensekit.db"))
    try:
        assert isinstance(store, SQLiteStore)
    finally:
        store.close()
