"""``licensekit init``: create the database and its host secret, never overwriting either.

The database is a SQLite file, or licensekit's tables in a schema of a PostgreSQL database
(``--db postgresql://...``); the secret is a file, or ``LICENSEKIT_SECRET``.
"""

from __future__ import annotations

import argparse
import stat
from pathlib import Path

from licensekit.cli._app import SECRET_VARIABLE, App
from licensekit.cli._database import NO_TABLES_YET, PostgresDatabase, open_database
from licensekit.cli._errors import EXIT_OK, CommandError
from licensekit.cli._files import is_folder, stat_or_none
from licensekit.cli._parser import Builder, Parser
from licensekit.cli._secret import create_secret_file, parse_secret, read_secret_file
from licensekit.domain._echo import echo_path
from licensekit.exceptions import IncompatibleStore
from licensekit.stores.sqlite import SQLiteStore

__all__ = ["define_init", "init"]


def define_init(parser: Parser, b: Builder) -> None:
    """Define ``licensekit init``: it takes the global options only."""
    b.handle(parser, init)


def init(app: App, args: argparse.Namespace) -> int:
    """Create the database and its secret file; never overwrite either."""
    db = app.config.db
    environ_secret = app.console.environ.get(SECRET_VARIABLE, "")
    schema: str | None = None  # a PostgreSQL database's, once licensekit's tables are there
    if isinstance(db, PostgresDatabase):
        # A server has no folder to keep the secret and emails beside: both must be named,
        # and they are checked before the server is asked anything.
        app.mailer()
        if not environ_secret:
            app.secret_file()
        schema = _postgres_schema(db)
        new_db = schema is None
    else:
        new_db = _sqlite_is_new(db)
    new_secret = False
    secret_file: Path | None = None
    if environ_secret:
        parse_secret(environ_secret, SECRET_VARIABLE)
    else:
        secret_file = app.secret_file()
        if stat_or_none(secret_file) is not None:
            read_secret_file(secret_file)
        elif not new_db:
            where = echo_path(db) if isinstance(db, Path) else f"in the schema {schema}"
            raise CommandError(
                f"the database {where} exists but its secret file {echo_path(secret_file)} "
                "does not; a new secret would make its stored codes and links unreadable. "
                "Restore the file, or point LICENSEKIT_SECRET_FILE at it"
            )
        else:
            create_secret_file(secret_file)
            new_secret = True
    if new_db:
        try:
            store = app.open(create=True).store
        except BaseException:
            if new_secret and secret_file is not None:
                secret_file.unlink(missing_ok=True)
            raise
        if isinstance(db, PostgresDatabase):
            schema = str(getattr(store, "schema", ""))
    shown = str(db.resolve()) if isinstance(db, Path) else db.shown
    state = "created" if new_db else "exists already"
    secret_where = SECRET_VARIABLE if secret_file is None else str(secret_file.resolve())
    if app.out.json_mode:
        app.out.json(
            {
                "database": shown,
                **({} if schema is None else {"schema": schema}),
                "database_created": new_db,
                "secret": secret_where,
                "secret_created": new_secret,
                "mail": _mail_destination(app),
            }
        )
        return EXIT_OK
    app.out.fields(
        [
            ("Database", f"{shown} ({state})" if schema is None else shown),
            *([] if schema is None else [("Schema", f"{schema} ({state})")]),
            (
                "Secret",
                f"{secret_where} ("
                + (
                    "created, readable by you alone; back it up"
                    if new_secret
                    else "from the environment"
                    if environ_secret
                    else "exists already"
                )
                + ")",
            ),
            ("Emails", _mail_destination(app)),
        ]
    )
    if new_db:
        app.out.line("Next: licensekit register EMAIL --name NAME")
    return EXIT_OK


def _sqlite_is_new(db: Path) -> bool:
    """Whether *db* is to be made a database: nothing there yet, or an empty file."""
    if not is_folder(db.parent):
        raise CommandError(f"the folder of {echo_path(db)} does not exist")
    found = stat_or_none(db)
    if found is not None and not stat.S_ISREG(found.st_mode):
        raise CommandError(f"{echo_path(db)} is not a database file")
    new_db = found is None or found.st_size == 0  # an empty file is made a database
    if not new_db:
        SQLiteStore(db).close()  # a file that is not licensekit's is refused, untouched
    return new_db


def _postgres_schema(db: PostgresDatabase) -> str | None:
    """The schema of *db* if licensekit's tables are in it already; None if yet to be made.

    Nothing is created here. A schema holding tables of others, or of a newer licensekit, is
    refused.
    """
    try:
        store = open_database(db, create=False)
    except IncompatibleStore as e:
        if NO_TABLES_YET in str(e):
            return None
        raise
    try:
        return str(getattr(store, "schema", ""))
    finally:
        store.close()


def _mail_destination(app: App) -> str:
    c = app.config
    if c.smtp_host is not None:
        return f"SMTP server {c.smtp_host} ({c.smtp_security})"
    return f"{app.mail_dir().resolve()} (.eml files)"
