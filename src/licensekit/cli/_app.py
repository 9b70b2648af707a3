"""What every command shares: the settings, the open library, the acting user, look-ups.

Settings come from the command line first, then from ``LICENSEKIT_*`` environment variables,
then from defaults (see :data:`ENVIRONMENT`). The library is opened only when a command needs
it, and the acting user's session is logged out when the command ends.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO, TypeVar
from urllib.parse import parse_qs, urlsplit

import attrs

from licensekit import (
    AccountMembership,
    AccountNotFound,
    InstallationNotFound,
    InstallationView,
    LicenseKeyNotFound,
    LicenseKeyView,
    LicenseKit,
    LicenseKitError,
    Mailer,
    MemberNotFound,
    MemberView,
    Page,
    PermissionDenied,
    Session,
    Settings,
    normalize_email,
)
from licensekit._text import encodable
from licensekit.cli._database import PostgresDatabase, open_database, parse_database
from licensekit.cli._errors import CommandError, UsageError
from licensekit.cli._files import stat_or_none
from licensekit.cli._output import Output
from licensekit.cli._secret import parse_secret, read_secret_file
from licensekit.domain._echo import echo, echo_path
from licensekit.domain.model import KeyStatus
from licensekit.mailers import FileMailer, SMTPMailer
from licensekit.signing import KeyFileSigner, Signer

__all__ = [
    "DEFAULTS",
    "ENVIRONMENT",
    "App",
    "Config",
    "Console",
    "all_pages",
    "token_from",
]

T = TypeVar("T")

ENVIRONMENT: Mapping[str, str] = {
    "db": "LICENSEKIT_DB",
    "secret_file": "LICENSEKIT_SECRET_FILE",
    "signing_key_file": "LICENSEKIT_SIGNING_KEY_FILE",
    "acting": "LICENSEKIT_AS",
    "account": "LICENSEKIT_ACCOUNT",
    "mail_dir": "LICENSEKIT_MAIL_DIR",
    "sender": "LICENSEKIT_SENDER",
    "smtp_host": "LICENSEKIT_SMTP_HOST",
    "smtp_port": "LICENSEKIT_SMTP_PORT",
    "smtp_security": "LICENSEKIT_SMTP_SECURITY",
    "smtp_user": "LICENSEKIT_SMTP_USER",
    "smtp_timeout": "LICENSEKIT_SMTP_TIMEOUT",
    "join_url": "LICENSEKIT_JOIN_URL",
    "download_url": "LICENSEKIT_DOWNLOAD_URL",
    "verify_url": "LICENSEKIT_VERIFY_URL",
    "reset_url": "LICENSEKIT_RESET_URL",
    "service_name": "LICENSEKIT_SERVICE_NAME",
}
"""The environment variable behind each setting (the option's ``dest``)."""

SECRET_VARIABLE = "LICENSEKIT_SECRET"  # noqa: S105 - a variable's name
SMTP_PASSWORD_VARIABLE = "LICENSEKIT_SMTP_PASSWORD"  # noqa: S105 - a variable's name

DEFAULTS: Mapping[str, str] = {
    "db": "licensekit.db",
    "sender": "licensekit <licensekit@localhost>",
    "smtp_security": "starttls",
    "join_url": "https://portal.example.com/join?token={token}",
    "download_url": "https://downloads.example.com/install?token={token}",
    "verify_url": "https://portal.example.com/verify?token={token}",
    "reset_url": "https://portal.example.com/reset?token={token}",
    "service_name": "licensekit",
}
"""Defaults of the settings that have one."""

_SMTP_SECURITY = ("starttls", "tls", "none")


@attrs.frozen
class Console:
    """The process's streams and environment, replaceable for the demo and for tests.

    Attributes:
        stdin: Where ``--password-stdin`` and ``--value-stdin`` read.
        stdout: Where results go.
        stderr: Where errors and progress bars go.
        environ: The environment variables.
    """

    stdin: TextIO
    stdout: TextIO
    stderr: TextIO
    environ: Mapping[str, str]

    @classmethod
    def system(cls) -> Console:
        """Return the real standard streams and environment."""
        return cls(sys.stdin, sys.stdout, sys.stderr, os.environ)


@attrs.frozen
class Config:
    """The settings of one command, resolved from options, environment and defaults.

    With a SQLite file the secret file, the signing key file and the mail folder default to
    beside it; with a PostgreSQL URI they have no default (None) and must be named.
    """

    db: Path | PostgresDatabase
    secret_file: Path | None
    signing_key_file: Path | None
    acting: str | None
    json: bool
    mail_dir: Path | None
    sender: str
    smtp_host: str | None
    smtp_port: int | None
    smtp_security: str
    smtp_user: str | None
    smtp_password: str | None = attrs.field(repr=False)
    smtp_timeout: float
    join_url: str
    download_url: str
    verify_url: str
    reset_url: str
    service_name: str

    @classmethod
    def resolve(cls, args: argparse.Namespace, environ: Mapping[str, str]) -> Config:
        """Return the settings for *args*, filling in from *environ* and the defaults.

        Raises:
            UsageError: An environment variable holds a value of the wrong form, or a
                ``LICENSEKIT_*`` variable is not UTF-8 text.
        """
        for variable, value in environ.items():
            if variable.startswith("LICENSEKIT_") and not encodable(value):
                raise UsageError(f"{variable} is not valid UTF-8 text: {echo(value)}")

        def pick(name: str) -> str | None:
            given = getattr(args, name, None)
            if given is not None:
                return str(given)
            value = environ.get(ENVIRONMENT[name], "")
            return value if value else DEFAULTS.get(name)

        db = parse_database(pick("db") or DEFAULTS["db"])
        secret_file = pick("secret_file")
        signing_key_file = pick("signing_key_file")
        mail_dir = pick("mail_dir")
        # A file's secret, signing keys and emails default to beside it; a server has no
        # folder for them.
        default_secret: Path | None = None
        default_signing: Path | None = None
        default_mail: Path | None = None
        if isinstance(db, Path):
            default_secret = default_secret_file(db)
            default_signing = default_secret.with_suffix(".signing-keys")
            default_mail = db.with_name(db.stem + "-mail")
        security = pick("smtp_security") or "starttls"
        if security not in _SMTP_SECURITY:
            raise UsageError(
                f"{ENVIRONMENT['smtp_security']} must be one of {', '.join(_SMTP_SECURITY)}, "
                f"not {echo(security)}"
            )
        return cls(
            db=db,
            secret_file=Path(secret_file) if secret_file else default_secret,
            signing_key_file=Path(signing_key_file) if signing_key_file else default_signing,
            acting=pick("acting"),
            json=bool(getattr(args, "json", False)),
            mail_dir=Path(mail_dir) if mail_dir else default_mail,
            sender=pick("sender") or DEFAULTS["sender"],
            smtp_host=pick("smtp_host"),
            smtp_port=_number(pick("smtp_port"), "smtp_port", int),
            smtp_security=security,
            smtp_user=pick("smtp_user"),
            smtp_password=environ.get(SMTP_PASSWORD_VARIABLE) or None,
            smtp_timeout=_number(pick("smtp_timeout"), "smtp_timeout", float) or 30.0,
            join_url=pick("join_url") or DEFAULTS["join_url"],
            download_url=pick("download_url") or DEFAULTS["download_url"],
            verify_url=pick("verify_url") or DEFAULTS["verify_url"],
            reset_url=pick("reset_url") or DEFAULTS["reset_url"],
            service_name=pick("service_name") or DEFAULTS["service_name"],
        )


N = TypeVar("N", int, float)


def _number(text: str | None, name: str, kind: Callable[[str], N]) -> N | None:
    if text is None:
        return None
    try:
        return kind(text)
    except ValueError:
        raise UsageError(f"{ENVIRONMENT[name]} must be a number, not {echo(text)}") from None


def default_secret_file(db: Path) -> Path:
    """Return where the secret of database *db* lives by default: beside it, ``.secret``."""
    candidate = db.with_suffix(".secret") if db.suffix else db.with_name(db.name + ".secret")
    return candidate if candidate != db else db.with_name(db.name + ".secret")


def all_pages(fetch: Callable[[str | None], Page[T]]) -> list[T]:
    """Return every item of a paged listing, following the cursors."""
    items: list[T] = []
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        cursor = page.next_cursor


def token_from(text: str, template: str) -> str:
    """Return the token in *text*: a link made from *template*, any link, or the token itself.

    Raises:
        UsageError: *text* is a link without a token.
    """
    text = text.strip()
    prefix, _, suffix = template.partition("{token}")
    if text.startswith(prefix) and text.endswith(suffix) and len(text) > len(prefix + suffix):
        return text[len(prefix) : len(text) - len(suffix)]
    if "://" in text:
        found = parse_qs(urlsplit(text).query).get("token")
        if not found:
            raise UsageError(f"no token in the link {echo(text)}")
        return found[0]
    return text


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


class App:
    """One command's settings, its open :class:`~licensekit.LicenseKit`, and the acting user.

    Args:
        args: The parsed command line.
        console: The streams and environment.
    """

    def __init__(self, args: argparse.Namespace, console: Console) -> None:
        self.args = args
        self.console = console
        self.config = Config.resolve(args, console.environ)
        self.out = Output(console.stdout, json_mode=self.config.json)
        self._kit: LicenseKit | None = None
        self._session: Session | None = None

    # -- opening ------------------------------------------------------------------------------

    def secret(self) -> bytes:
        """Return the host secret: ``LICENSEKIT_SECRET``, or the secret file.

        Raises:
            CommandError: The secret is missing, unprotected or malformed, or the database
                is a PostgreSQL URI and no secret file was named.
        """
        text = self.console.environ.get(SECRET_VARIABLE, "")
        if text:
            return parse_secret(text, SECRET_VARIABLE)
        return read_secret_file(self.secret_file())

    def secret_file(self) -> Path:
        """Return the secret file's path: named, or beside a SQLite database.

        Raises:
            CommandError: The database is a PostgreSQL URI and no secret file was named.
        """
        if self.config.secret_file is None:
            raise CommandError(
                "a PostgreSQL database has no folder to keep its host secret in: pass "
                "--secret-file PATH (or set LICENSEKIT_SECRET_FILE), or set LICENSEKIT_SECRET"
            )
        return self.config.secret_file

    def signing_key_file(self) -> Path:
        """Return the file of the keys that sign certificates: named, or beside a SQLite file.

        Raises:
            CommandError: The database is a PostgreSQL URI and no signing key file was named.
        """
        if self.config.signing_key_file is None:
            raise CommandError(
                "a PostgreSQL database has no folder to keep the signing keys in: pass "
                "--signing-key-file PATH (or set LICENSEKIT_SIGNING_KEY_FILE)"
            )
        return self.config.signing_key_file

    def mail_dir(self) -> Path:
        """Return the folder of the ``.eml`` files: named, or beside a SQLite database.

        Raises:
            CommandError: The database is a PostgreSQL URI and no folder was named.
        """
        if self.config.mail_dir is None:
            raise CommandError(
                "a PostgreSQL database has no folder to write emails beside: pass --mail-dir "
                "PATH (or set LICENSEKIT_MAIL_DIR), or send them with --smtp-host HOST"
            )
        return self.config.mail_dir

    def mailer(self) -> Mailer:
        """Return the SMTP mailer when an SMTP host is set, else the ``.eml`` folder mailer.

        Raises:
            CommandError: Neither is set, and the database is a PostgreSQL URI.
        """
        c = self.config
        if c.smtp_host is not None:
            return SMTPMailer(
                c.smtp_host,
                c.smtp_port,
                sender=c.sender,
                security=c.smtp_security,  # type: ignore[arg-type]
                username=c.smtp_user,
                password=c.smtp_password,
                timeout=c.smtp_timeout,
            )
        return FileMailer(self.mail_dir(), sender=c.sender)

    def open(self, *, create: bool = False) -> LicenseKit:
        """Open the library on the database (which must exist unless *create*).

        Raises:
            CommandError: No database there, no usable secret, or (with a PostgreSQL URI)
                no secret file or mail folder named.
            LicenseKitError: The file or schema is not a licensekit database, the server
                cannot be reached, or a setting is invalid.
        """
        if self._kit is None:
            db = self.config.db
            if isinstance(db, Path):
                found = stat_or_none(db)
                if not create and found is None:
                    raise CommandError(
                        f"no licensekit database at {echo_path(db)}; run 'licensekit "
                        "init' first, or "
                        "pass --db PATH (or set LICENSEKIT_DB)"
                    )
                if found is not None and not stat.S_ISREG(found.st_mode):
                    raise CommandError(f"{echo_path(db)} is not a database file")
            secret = self.secret()
            mailer = self.mailer()
            # Only init may make a database: a mistyped --db naming an empty file stays empty,
            # and one naming a wrong PostgreSQL schema creates nothing there.
            store = open_database(db, create=create)
            try:
                self._kit = LicenseKit(
                    store,
                    mailer,
                    secret=secret,
                    join_url=self.config.join_url,
                    download_url=self.config.download_url,
                    verify_url=self.config.verify_url,
                    reset_url=self.config.reset_url,
                    settings=Settings(service_name=self.config.service_name),
                    signer=self._signer(),
                )
            except BaseException:
                store.close()
                raise
        return self._kit

    def _signer(self) -> Signer | None:
        """The signing key file's signer, if there is one: activations then get certificates."""
        path = self.config.signing_key_file
        if path is None or stat_or_none(path) is None:
            return None
        return KeyFileSigner(path)

    @property
    def kit(self) -> LicenseKit:
        """The library, opened on first use."""
        return self.open()

    def close(self) -> None:
        """Log the acting user's session out and close the database."""
        if self._kit is None:
            return
        try:
            if self._session is not None:
                self._kit.log_out(self._session)
        except LicenseKitError:  # pragma: no cover - the store failed at the very end
            pass
        finally:
            self._session = None
            self._kit.store.close()  # opened by open(), not by the LicenseKit
            self._kit = None

    # -- the acting user and what they name -------------------------------------------------

    def session(self) -> Session:
        """Return a session of the acting user (``--as``), the library's rules applying.

        Raises:
            UsageError: No acting user was given.
            UserNotFound: No user has that email.
        """
        if self._session is None:
            email = self.config.acting
            if not email:
                raise UsageError(
                    "this command acts as a user: pass --as EMAIL (or set LICENSEKIT_AS)"
                )
            # The operator acts for the user; that proves nothing about their address.
            self._session = self.kit.trusted_session(email, proves_address=False)
        return self._session

    def account(self) -> AccountMembership:
        """Return the business account named by ``--account`` (a name or an id).

        Without ``--account`` (or ``LICENSEKIT_ACCOUNT``), the acting user's only account.

        Raises:
            UsageError: The name is ambiguous, or none was given and the user has several.
            AccountNotFound: The acting user belongs to no such account.
        """
        session = self.session()
        mine = self.kit.list_my_accounts(session)
        wanted = getattr(self.args, "account", None) or self.console.environ.get(
            ENVIRONMENT["account"], ""
        )
        if not wanted:
            if len(mine) == 1:
                return mine[0]
            if not mine:
                raise AccountNotFound(f"{session.email} is not a member of any business account")
            names = ", ".join(repr(m.account_name) for m in mine)
            raise UsageError(
                f"{session.email} belongs to {len(mine)} business accounts ({names}); "
                "choose one with --account NAME_OR_ID"
            )
        by_id = [m for m in mine if m.account_id == wanted]
        if by_id:
            return by_id[0]
        named = [m for m in mine if _same_name(m.account_name, wanted)]
        if len(named) == 1:
            return named[0]
        if named:
            ids = ", ".join(m.account_id for m in named)
            raise UsageError(f"{len(named)} accounts are named {echo(wanted)}; give the id: {ids}")
        raise AccountNotFound(
            f"{session.email} is not a member of a business account named {echo(wanted)}"
        )

    def keys(self, account_id: str, *, include_removed: bool = False) -> list[LicenseKeyView]:
        """Return the account's license keys the acting user may see."""
        limit = self.kit.settings.max_page_size
        return all_pages(
            lambda cursor: self.kit.list_license_keys(
                self.session(),
                account_id,
                cursor=cursor,
                limit=limit,
                include_removed=include_removed,
            )
        )

    def key(self, account_id: str, wanted: str | None) -> LicenseKeyView:
        """Return the key named by *wanted*: its id or its product name.

        Without *wanted*, the account's only key (that is not removed).

        Raises:
            UsageError: The product name is ambiguous, or none was given and there are several.
            LicenseKeyNotFound: No such key is visible to the acting user.
        """
        keys = self.keys(account_id, include_removed=True)
        current = [k for k in keys if k.status is not KeyStatus.REMOVED]
        if not wanted:
            if len(current) == 1:
                return current[0]
            if not current:
                raise LicenseKeyNotFound(f"no license key in business account {account_id!r}")
            raise UsageError(
                f"the account has {len(current)} license keys; choose one with --key: "
                + ", ".join(f"{k.id} ({k.product})" for k in current)
            )
        by_id = [k for k in keys if k.id == wanted]
        if by_id:
            return by_id[0]
        named = [k for k in keys if _same_name(k.product, wanted)]
        if len(named) > 1:
            named = [k for k in named if k.status is not KeyStatus.REMOVED] or named
        if len(named) > 1:  # a product's name means its primary key, not its additional keys
            named = [k for k in named if k.primary_id is None] or named
        if len(named) == 1:
            return named[0]
        if named:
            ids = ", ".join(k.id for k in named)
            raise UsageError(
                f"{len(named)} license keys are for {echo(wanted)}; give the id: {ids}"
            )
        raise LicenseKeyNotFound(
            f"no license key {echo(wanted)} in business account {account_id!r}"
        )

    def products(self, account_id: str) -> dict[str, str]:
        """Return the product of each of the account's keys the acting user may see, by id."""
        return {k.id: k.product for k in self.keys(account_id, include_removed=True)}

    def members(self, account_id: str, *, include_removed: bool = False) -> list[MemberView]:
        """Return the account's members (the acting user must be an Account Administrator)."""
        limit = self.kit.settings.max_page_size
        return all_pages(
            lambda cursor: self.kit.list_members(
                self.session(),
                account_id,
                cursor=cursor,
                limit=limit,
                include_removed=include_removed,
            )
        )

    def member(self, account_id: str, wanted: str) -> MemberView:
        """Return the member named by *wanted*: their email or their user id.

        Raises:
            InvalidEmail: *wanted* looks like an email but is not a valid one.
            MemberNotFound: Nobody in the account has that email or id.
        """
        members = self.members(account_id)
        if "@" in wanted:
            email = normalize_email(wanted)
            found = [m for m in members if m.email == email]
        else:
            found = [m for m in members if m.user_id == wanted]
        if not found:
            raise MemberNotFound(
                f"{echo(wanted)} is not a member of business account {account_id!r}"
            )
        return found[0]

    def people(self, account_id: str) -> dict[str, str]:
        """Return the email of each member's user id, or nothing if the user may not list them."""
        try:
            return {m.user_id: m.email for m in self.members(account_id, include_removed=True)}
        except PermissionDenied:
            return {}

    def installation(self, account_id: str, wanted: str, key: str | None) -> str:
        """Return the id of the installation named by *wanted*.

        *wanted* is an installation id (``ins_...``) or a computer id; a computer id is looked
        up among the active installations of *key*, or of every key the user may see.

        Raises:
            UsageError: The computer holds installations of several keys.
            InstallationNotFound: No active installation of that computer.
        """
        if wanted.startswith("ins_"):
            return wanted
        keys = [self.key(account_id, key)] if key else self.keys(account_id)
        limit = self.kit.settings.max_page_size
        found: list[InstallationView] = []
        for k in keys:
            found.extend(
                i
                for i in all_pages(
                    lambda cursor, k=k: self.kit.list_installations(  # type: ignore[misc]
                        self.session(), account_id, k.id, cursor=cursor, limit=limit
                    )
                )
                if i.computer_id == wanted
            )
        if len(found) == 1:
            return found[0].id
        if found:
            raise UsageError(
                f"computer {echo(wanted)} is active under several keys; choose one with --key, or "
                "give the installation id: " + ", ".join(i.id for i in found)
            )
        raise InstallationNotFound(f"no active installation of computer {echo(wanted)}")

    # -- reading secrets from the person ---------------------------------------------------

    def read_secret_input(self, *, from_stdin: bool, prompt: str, confirm: str | None) -> str:
        """Return a password or key value: one line of standard input, or typed unseen.

        Args:
            from_stdin: Read the first line of standard input (for scripts).
            prompt: The question asked at the terminal.
            confirm: Ask again with this question and insist on the same answer.

        Raises:
            UsageError: Not from stdin, and there is no terminal to ask at.
            CommandError: Standard input is empty or not UTF-8 text, or the two answers differ.
        """
        if from_stdin:
            try:
                line = self.console.stdin.readline()
            except UnicodeDecodeError:
                raise CommandError(
                    "standard input is not UTF-8 text; nothing was changed"
                ) from None
            if not line:
                raise CommandError("nothing on standard input")
            return line.removesuffix("\n").removesuffix("\r")
        stdin = self.console.stdin
        if stdin is not sys.stdin or not stdin.isatty():
            raise UsageError(
                "no terminal to ask at; pass the value on standard input with the --*-stdin option"
            )
        import getpass

        first = getpass.getpass(prompt)
        if confirm is not None and getpass.getpass(confirm) != first:
            raise CommandError("the two entries differ; nothing was changed")
        return first
