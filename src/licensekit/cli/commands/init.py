"""``licensekit init``: create the database and its host secret, never overwriting either."""

from __future__ import annotations

import argparse
import stat

from licensekit.cli._app import SECRET_VARIABLE, App
from licensekit.cli._errors import EXIT_OK, CommandError
from licensekit.cli._files import is_folder, stat_or_none
from licensekit.cli._parser import Builder, Parser
from licensekit.cli._secret import create_secret_file, parse_secret, read_secret_file
from licensekit.domain._echo import echo_path
from licensekit.stores.sqlite import SQLiteStore

__all__ = ["define_init", "init"]


def define_init(parser: Parser, b: Builder) -> None:
    """Define ``licensekit init``: it takes the global options only."""
    b.handle(parser, init)


def init(app: App, args: argparse.Namespace) -> int:
    """Create the database and its secret file; never overwrite either."""
    c = app.config
    if not is_folder(c.db.parent):
        raise CommandError(f"the folder of {echo_path(c.db)} does not exist")
    found = stat_or_none(c.db)
    if found is not None and not stat.S_ISREG(found.st_mode):
        raise CommandError(f"{echo_path(c.db)} is not a database file")
    new_db = found is None or found.st_size == 0  # an empty file is made a database
    if not new_db:
        SQLiteStore(c.db).close()  # a file that is not licensekit's is refused, untouched
    new_secret = False
    environ_secret = app.console.environ.get(SECRET_VARIABLE, "")
    if environ_secret:
        parse_secret(environ_secret, SECRET_VARIABLE)
    elif stat_or_none(c.secret_file) is not None:
        read_secret_file(c.secret_file)
    elif not new_db:
        raise CommandError(
            f"the database {echo_path(c.db)} exists but its secret file {echo_path(c.secret_file)} "
            "does not; a new secret would make its stored codes and links unreadable. Restore "
            "the file, or point LICENSEKIT_SECRET_FILE at it"
        )
    else:
        create_secret_file(c.secret_file)
        new_secret = True
    if new_db:
        try:
            app.open(create=True)
        except BaseException:
            if new_secret:
                c.secret_file.unlink(missing_ok=True)
            raise
    secret_where = SECRET_VARIABLE if environ_secret else str(c.secret_file.resolve())
    if app.out.json_mode:
        app.out.json(
            {
                "database": str(c.db.resolve()),
                "database_created": new_db,
                "secret": secret_where,
                "secret_created": new_secret,
                "mail": _mail_destination(app),
            }
        )
        return EXIT_OK
    app.out.fields(
        [
            ("Database", f"{c.db.resolve()} ({'created' if new_db else 'exists already'})"),
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


def _mail_destination(app: App) -> str:
    c = app.config
    if c.smtp_host is not None:
        return f"SMTP server {c.smtp_host} ({c.smtp_security})"
    return f"{c.mail_dir.resolve()} (.eml files)"
