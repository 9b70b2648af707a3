"""The command-line tool on PostgreSQL: ``--db postgresql://...?schema=NAME``, on the real server.

Every test works in a schema of its own (``tests/_postgres.py``), in the database
``LICENSEKIT_TEST_POSTGRES`` names; the tool reaches it by a URI built from that connection
string. With a URI the secret file and the mail folder have no default, the schema comes
from the URI's ``schema`` parameter, and no output or message ever shows the password.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from _cli_support import CLI, KEY_VALUE, PASSWORDS, PRODUCT
from _postgres import DSN, drop_schema, new_schema
from licensekit import LicenseKit
from licensekit.cli._app import Config
from licensekit.cli._database import masked_uri
from licensekit.mailers import FileMailer
from licensekit.stores.postgres import PostgresStore

ADMIN = "ida@example.com"
SCRIPT = Path(sys.executable).parent / "licensekit"

# The password every URI below carries. The local server trusts its users and never asks for
# it; when LICENSEKIT_TEST_POSTGRES holds a password, that one is carried (and hidden) instead.
GIVEN = psycopg.conninfo.conninfo_to_dict(DSN)
PASSWORD = str(GIVEN.get("password") or "hunter2-not-to-be-shown")


def uri(schema: str | None) -> str:
    """A ``postgresql://`` URI of the tests' database, with a password and *schema*."""
    params = {key: str(value) for key, value in GIVEN.items()} | {"password": PASSWORD}
    query = "&".join(f"{key}={quote(value, safe='')}" for key, value in params.items())
    return f"postgresql://?{query}" + (f"&schema={schema}" if schema else "")


def schema_exists(name: str) -> bool:
    with psycopg.connect(DSN, autocommit=True) as connection:
        found = connection.execute(
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name]
        ).fetchone()
    return found is not None


@pytest.fixture
def schema() -> Iterator[str]:
    name = new_schema("cli")
    yield name
    drop_schema(name)


def on_postgres(folder: Path, schema: str, **env: str) -> CLI:
    """The tool on *schema*, its secret file and mail folder in *folder*."""
    return CLI(
        folder,
        env={
            "LICENSEKIT_DB": uri(schema),
            "LICENSEKIT_SECRET_FILE": str(folder / "licensekit.secret"),
            "LICENSEKIT_MAIL_DIR": str(folder / "mail"),
        }
        | env,
    )


def assert_hidden(*texts: str) -> None:
    for text in texts:
        assert PASSWORD not in text
        assert quote(PASSWORD, safe="") not in text


def test_init_makes_the_tables_in_the_schema_and_every_command_works_there(
    tmp_path: Path, schema: str
) -> None:
    cli = on_postgres(tmp_path, schema)

    made = cli.ok("init")

    assert f"Schema:   {schema} (created)" in made.out
    assert "Database: postgresql://?" in made.out
    assert f"Secret:   {tmp_path / 'licensekit.secret'} (created" in made.out
    assert f"Emails:   {tmp_path / 'mail'} (.eml files)" in made.out
    assert not cli.db.exists()  # no SQLite file was made on the side
    cli.ok("register", ADMIN, "--verified", "--password-stdin", stdin=PASSWORDS[ADMIN])
    cli.ok("accounts", "create", "Example Corp", "--as", ADMIN)
    add = ("keys", "add", "--product", PRODUCT, "--seats", 1, "--value-stdin", "--as", ADMIN)
    cli.ok(*add, stdin=KEY_VALUE)
    cli.ok("installers", "invite", "ann@example.com", "bob@example.com", "--as", ADMIN)
    cli.ok("activate", "--code", cli.code("ann@example.com"), "--computer-id", "SN-1")
    full = cli.refused("activate", "--code", cli.code("bob@example.com"), "--computer-id", "SN-2")
    assert "seat" in full.err
    listed = cli.ok("installations", "list", "--as", ADMIN)
    assert "1 of 1 seats used" in listed.out

    again = cli.ok("init")
    assert f"Schema:   {schema} (exists already)" in again.out
    assert "Secret:   " in again.out
    assert "exists already" in again.out.splitlines()[2]
    assert_hidden(made.out, made.err, again.out, listed.out)


def test_the_library_opens_the_schema_the_tool_made_from_the_same_uri(
    tmp_path: Path, schema: str
) -> None:
    cli = on_postgres(tmp_path, schema)
    cli.ok("init")
    cli.ok("register", ADMIN, "--verified", "--password-stdin", stdin=PASSWORDS[ADMIN])
    secret = (tmp_path / "licensekit.secret").read_text(encoding="ascii").strip()

    with LicenseKit(
        uri(schema),
        FileMailer(tmp_path / "mail", sender="licensekit <licensekit@localhost>"),
        secret=bytes.fromhex(secret),
        join_url="https://portal.example.com/join?token={token}",
    ) as kit:
        assert isinstance(kit.store, PostgresStore)
        assert kit.store.schema == schema
        assert_hidden(repr(kit.store))
        session = kit.log_in(ADMIN, PASSWORDS[ADMIN])
        assert kit.current_user(session).email == ADMIN


def test_init_with_a_uri_needs_the_secret_file_and_the_mail_folder_named(
    tmp_path: Path, schema: str
) -> None:
    no_secret = CLI(tmp_path, env={"LICENSEKIT_DB": uri(schema), "LICENSEKIT_MAIL_DIR": "m"})
    refused = no_secret.refused("init")
    assert "--secret-file PATH (or set LICENSEKIT_SECRET_FILE)" in refused.err
    assert "LICENSEKIT_SECRET" in refused.err
    no_mail = CLI(
        tmp_path,
        env={"LICENSEKIT_DB": uri(schema), "LICENSEKIT_SECRET_FILE": str(tmp_path / "s")},
    )
    refused = no_mail.refused("init")
    assert "--mail-dir PATH (or set LICENSEKIT_MAIL_DIR)" in refused.err
    assert "--smtp-host" in refused.err
    assert not schema_exists(schema), "a refused init made the schema"
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # and no secret file either

    # Any command that opens the database needs them too; mail only for the file mailer.
    assert "--secret-file" in no_secret.refused("audit", "--as", ADMIN).err
    via_smtp = no_mail.run("init", env={"LICENSEKIT_SMTP_HOST": "mail.example.com"})
    assert via_smtp.status == 0, via_smtp
    assert "Emails:   SMTP server mail.example.com (starttls)" in via_smtp.out


def test_a_secret_in_the_environment_needs_no_file(tmp_path: Path, schema: str) -> None:
    cli = CLI(
        tmp_path,
        env={
            "LICENSEKIT_DB": uri(schema),
            "LICENSEKIT_SECRET": "ab" * 32,
            "LICENSEKIT_MAIL_DIR": str(tmp_path / "mail"),
        },
    )

    ran = cli.ok("init")

    assert "Secret:   LICENSEKIT_SECRET (from the environment)" in ran.out
    cli.ok("register", ADMIN, "--verified", "--password-stdin", stdin=PASSWORDS[ADMIN])


def test_init_refuses_a_new_secret_for_a_schema_that_holds_a_database(
    tmp_path: Path, schema: str
) -> None:
    first = on_postgres(tmp_path / "first", schema)
    first.folder.mkdir()
    first.ok("init")
    elsewhere = on_postgres(tmp_path, schema)

    refused = elsewhere.refused("init")

    assert f"the database in the schema {schema} exists but its secret file" in refused.err
    assert not (tmp_path / "licensekit.secret").exists()


def test_a_schema_without_licensekits_tables_is_refused_and_left_alone(
    tmp_path: Path, schema: str
) -> None:
    cli = on_postgres(tmp_path, schema)
    (tmp_path / "licensekit.secret").write_text("ab" * 32 + "\n", encoding="ascii")
    (tmp_path / "licensekit.secret").chmod(0o600)

    refused = cli.refused("keys", "list", "--as", ADMIN)

    assert f"the schema {schema} holds no licensekit tables yet" in refused.err
    assert "'licensekit init' makes the tables" in refused.err
    assert not schema_exists(schema)


def test_a_schema_of_other_tables_is_refused_by_init(tmp_path: Path, schema: str) -> None:
    with psycopg.connect(DSN, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
        connection.execute(f'CREATE TABLE "{schema}".users (id integer)')
    cli = on_postgres(tmp_path, schema)

    refused = cli.refused("init")

    assert "tables licensekit did not make (users)" in refused.err
    assert not (tmp_path / "licensekit.secret").exists()


def test_no_output_or_message_shows_the_password(tmp_path: Path, schema: str) -> None:
    cli = on_postgres(tmp_path, schema)
    outputs = [cli.ok("init", "--json"), cli.ok("init")]
    data = outputs[0].json()
    assert data["database"].startswith("postgresql://?")
    assert "password=***" in data["database"]
    assert data["schema"] == schema
    outputs.append(cli.run("keys", "list", "--as", ADMIN, env={"LICENSEKIT_DB": uri("lk_none")}))
    outputs.append(cli.run("init", env={"LICENSEKIT_DB": uri("Not-A-Schema")}))
    assert outputs[-1].status == 1
    assert "schema must be" in outputs[-1].err
    unreadable = f"postgresql://me:{PASSWORD}%zz@localhost/test"
    outputs.append(cli.refused("audit", "--as", ADMIN, env={"LICENSEKIT_DB": unreadable}))
    assert "the connection string cannot be read" in outputs[-1].err
    assert_hidden(*(ran.out + ran.err for ran in outputs))
    resolved = Config.resolve(argparse.Namespace(), cli.env)
    assert_hidden(repr(resolved))


def test_an_unreadable_uri_is_refused_at_once(tmp_path: Path) -> None:
    cli = CLI(tmp_path, env={"LICENSEKIT_SECRET": "ab" * 32, "LICENSEKIT_MAIL_DIR": "m"})
    started = time.monotonic()

    wrong = cli.refused("audit", "--as", ADMIN, "--db", "postgresql:///test?bogus=1")
    twice = cli.refused("audit", "--as", ADMIN, "--db", "postgresql:///test?schema=a&schema=b")

    assert wrong.err == (
        'licensekit: the connection string cannot be read: invalid URI query parameter: "bogus"\n'
    )
    assert "names the schema more than once" in twice.err
    assert time.monotonic() - started < 5  # libpq refused it; no pool waited for a server


@pytest.mark.skipif(not SCRIPT.exists(), reason="the console script is not installed")
def test_an_unreachable_server_is_one_line_without_the_password(tmp_path: Path) -> None:
    """Run as a process, so that anything the driver or its pool logs would show too."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LICENSEKIT_", "PG"))}
    env |= {"LICENSEKIT_SECRET": "ab" * 32, "LICENSEKIT_MAIL_DIR": str(tmp_path / "mail")}
    nowhere = f"postgresql://someone:{PASSWORD}@127.0.0.1:1/nowhere"

    ran = subprocess.run(  # noqa: S603 - our own script
        [str(SCRIPT), "audit", "--as", ADMIN, "--db", nowhere],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert ran.returncode == 1
    assert ran.stdout == ""
    assert ran.stderr.startswith("licensekit: cannot connect to PostgreSQL at ")
    assert ran.stderr.count("\n") == 1, ran.stderr
    assert "password=***" in ran.stderr
    assert_hidden(ran.stderr)


def test_without_the_postgres_extra_the_tool_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now fails
    monkeypatch.delitem(sys.modules, "licensekit.stores.postgres")
    cli = CLI(tmp_path, env={"LICENSEKIT_SECRET": "ab" * 32, "LICENSEKIT_MAIL_DIR": "m"})

    refused = cli.refused("audit", "--as", ADMIN, "--db", "postgresql:///test")

    assert refused.err == (
        "licensekit: a PostgreSQL --db needs psycopg 3 and its pool: "
        'pip install "licensekit-admin[postgres]"\n'
    )


def test_the_demo_plays_on_a_file_only(tmp_path: Path) -> None:
    refused = CLI(tmp_path).refused("demo", "--db", f"postgresql://me:{PASSWORD}@db/licensing")

    assert "pass --db a path, not a PostgreSQL URI" in refused.err
    assert_hidden(refused.err)


MASKED = {
    "postgresql://ida:s3cret@db.example.com/lic": "postgresql://ida:***@db.example.com/lic",
    "postgres://ida:p%40ss@db:5433/l?sslmode=allow": "postgres://ida:***@db:5433/l?sslmode=allow",
    "postgresql://ida:a@b@db/lic": "postgresql://ida:***@db/lic",
    "postgresql://ida@db/lic?password=s3&schema=x": "postgresql://ida@db/lic?password=***&schema=x",
    "postgresql://db?pass%77ord=s3cret": "postgresql://db?pass%77ord=***",
    "postgresql://h1:5432,h2/lic?sslmode=require": "postgresql://h1:5432,h2/lic?sslmode=require",
    "postgresql:///lic?host=/var/run/postgresql": "postgresql:///lic?host=/var/run/postgresql",
}


@pytest.mark.parametrize(("given", "shown"), MASKED.items())
def test_a_uri_is_shown_with_its_password_masked(given: str, shown: str) -> None:
    assert masked_uri(given) == shown
