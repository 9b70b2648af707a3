"""The command line: every command, its options, and the options every command accepts."""

from __future__ import annotations

import argparse
import datetime as dt
import re
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import NoReturn

from licensekit._echo import echo
from licensekit._text import encodable
from licensekit.cli import _commands as c
from licensekit.cli._app import App
from licensekit.cli._errors import UsageError
from licensekit.mail import MessageKind
from licensekit.model import InstallInvitationState, InvitationState

__all__ = ["LONGEST_ARGUMENT", "ParserExit", "build_parser", "check_arguments"]

Handler = Callable[[App, argparse.Namespace], int]

LONGEST_ARGUMENT = 4096
"""No option takes more characters than this (the longest, a path, is bounded so by Linux)."""

_DURATION = re.compile(r"(\d{1,6})([dhm])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}

DESCRIPTION = """\
Administer software licenses over a licensekit SQLite database: business accounts,
members and roles, license keys and seats, invitations to join and to install,
activations, installations and the audit trail.

Start with 'licensekit init', or watch 'licensekit demo'."""

EPILOG = """\
Commands that act on a business account run as the user named by --as (or LICENSEKIT_AS),
with that user's rights. Exit status: 0 success, 1 refused (the reason is on standard
error), 2 usage error, 130 interrupted. See docs/cli.md."""


class ParserExit(Exception):
    """The parser finished the command by itself (``--help``, ``--version``).

    Args:
        status: The exit status.
    """

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """An argument parser that raises instead of exiting the process."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, usage=self.format_usage())

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:  # pragma: no cover - argparse passes none once error() is replaced
            self._print_message(message)
        raise ParserExit(status)


def check_arguments(argv: Sequence[str]) -> None:
    """Refuse a command line holding an argument that is not UTF-8 text, or far too long.

    Python hands over bytes of a command line that are not valid in the file system's
    encoding as lone surrogates; nothing could store or print them.

    Raises:
        UsageError: Such an argument, named by its position.
    """
    for number, argument in enumerate(argv, start=1):
        if len(argument) > LONGEST_ARGUMENT:
            raise UsageError(
                f"argument {number} ({echo(argument)}) is longer than any option takes "
                f"({LONGEST_ARGUMENT:,} characters)"
            )
        if not encodable(argument):
            raise UsageError(f"argument {number} ({echo(argument)}) is not valid UTF-8 text")


def duration(text: str) -> dt.timedelta:
    """Parse an invitation lifetime such as ``7d``, ``12h`` or ``90m``."""
    found = _DURATION.fullmatch(text.strip().lower())
    if found is None:
        raise argparse.ArgumentTypeError(
            f"{echo(text)} is not a duration; write it like 7d, 12h or 90m"
        )
    return dt.timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


def moment(text: str) -> dt.datetime:
    """Parse an ISO 8601 date or date and time; without a zone it is UTC."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{echo(text)} is not a date; write it like 2030-12-31 or 2030-12-31T18:00+02:00"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def positive(text: str) -> int:
    """Parse a whole number of at least one."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{echo(text)} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{echo(text)} must be at least 1")
    return value


def _global_options() -> _Parser:
    """Return the options every command accepts, before or after its name."""
    common = _Parser(add_help=False)
    g = common.add_argument_group("global options (before or after the command)")
    s = argparse.SUPPRESS
    g.add_argument(
        "--db",
        metavar="PATH",
        default=s,
        help="the database file (LICENSEKIT_DB; default: licensekit.db here)",
    )
    g.add_argument(
        "--as",
        dest="acting",
        metavar="EMAIL",
        default=s,
        help="act as this user, with their rights (LICENSEKIT_AS)",
    )
    g.add_argument(
        "--json", action="store_true", default=s, help="print JSON for scripts instead of tables"
    )
    g.add_argument(
        "--secret-file",
        metavar="PATH",
        default=s,
        help="the host secret's file (LICENSEKIT_SECRET_FILE; default: beside the "
        "database, .secret); LICENSEKIT_SECRET may hold the secret itself, in hex",
    )
    g.add_argument(
        "--mail-dir",
        metavar="PATH",
        default=s,
        help="write emails as .eml files "
        "here (LICENSEKIT_MAIL_DIR; default: beside the database, -mail)",
    )
    g.add_argument(
        "--smtp-host",
        metavar="HOST",
        default=s,
        help="send emails through this SMTP server instead (LICENSEKIT_SMTP_HOST)",
    )
    g.add_argument(
        "--smtp-port",
        metavar="PORT",
        type=int,
        default=s,
        help="its port (LICENSEKIT_SMTP_PORT; default: from the security)",
    )
    g.add_argument(
        "--smtp-security",
        choices=("starttls", "tls", "none"),
        default=s,
        help="starttls (default), tls or none (LICENSEKIT_SMTP_SECURITY)",
    )
    g.add_argument(
        "--smtp-user",
        metavar="NAME",
        default=s,
        help="log in as NAME "
        "(LICENSEKIT_SMTP_USER; the password is read from LICENSEKIT_SMTP_PASSWORD)",
    )
    g.add_argument(
        "--smtp-timeout",
        metavar="SECONDS",
        type=float,
        default=s,
        help="SMTP timeout (LICENSEKIT_SMTP_TIMEOUT; default: 30)",
    )
    g.add_argument(
        "--sender", metavar="FROM", default=s, help="the From of every email (LICENSEKIT_SENDER)"
    )
    g.add_argument(
        "--join-url",
        metavar="URL",
        default=s,
        help="the join page, with {token} (LICENSEKIT_JOIN_URL)",
    )
    g.add_argument(
        "--download-url",
        metavar="URL",
        default=s,
        help="the download page, with {token} (LICENSEKIT_DOWNLOAD_URL)",
    )
    g.add_argument(
        "--verify-url",
        metavar="URL",
        default=s,
        help="the email verification page, with {token} (LICENSEKIT_VERIFY_URL)",
    )
    g.add_argument(
        "--reset-url",
        metavar="URL",
        default=s,
        help="the page to choose a new password, with {token} (LICENSEKIT_RESET_URL)",
    )
    g.add_argument(
        "--service-name",
        metavar="NAME",
        default=s,
        help="how emails name your service (LICENSEKIT_SERVICE_NAME)",
    )
    return common


class _Builder:
    """Adds commands with the global options and a handler."""

    def __init__(self, common: _Parser) -> None:
        self.common = common

    def command(
        self,
        subparsers: argparse._SubParsersAction[_Parser],
        name: str,
        handler: Handler,
        summary: str,
        *,
        account: bool = False,
    ) -> _Parser:
        parser = subparsers.add_parser(
            name, parents=[self.common], help=summary, description=summary + "."
        )
        parser.set_defaults(handler=handler)
        if account:
            parser.add_argument(
                "--account",
                metavar="NAME_OR_ID",
                help="the business account (LICENSEKIT_ACCOUNT; may be left out when the "
                "acting user belongs to one account only)",
            )
        return parser

    def group(
        self, subparsers: argparse._SubParsersAction[_Parser], name: str, summary: str
    ) -> argparse._SubParsersAction[_Parser]:
        parser = subparsers.add_parser(name, help=summary, description=summary + ".")
        return parser.add_subparsers(dest="action", metavar="ACTION", required=True)


def _language(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--language",
        default="en",
        metavar="TAG",
        help="language of the emails: en, de, fr, es, it, ja, zh-Hans, pt-BR (default: en)",
    )


def _notes(parser: argparse.ArgumentParser, *, notify: bool) -> None:
    parser.add_argument("--notes", default="", help="why, for the record")
    if notify:
        parser.add_argument("--notify", action="store_true", help="tell the member by email")
        _language(parser)


def _recipients(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("emails", nargs="*", metavar="EMAIL", help="addresses to invite")
    parser.add_argument(
        "--csv", metavar="FILE", help="read the addresses from a one-column CSV file instead"
    )
    _language(parser)
    parser.add_argument(
        "--expires",
        type=duration,
        metavar="DURATION",
        help="how long the invitations work, e.g. 7d, 12h (default: the "
        "library's, 7d to join, 14d to install)",
    )
    parser.add_argument(
        "--no-send", action="store_true", help="create the invitations only; send them later"
    )


def build_parser() -> _Parser:
    """Return the parser of the whole command line."""
    common = _global_options()
    b = _Builder(common)
    parser = _Parser(
        prog="licensekit",
        description=DESCRIPTION,
        epilog=EPILOG,
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"licensekit {_version()}")
    top = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    b.command(top, "init", c.init, "Create the database and its secret file here")
    from licensekit.cli._demo import demo

    b.command(
        top,
        "demo",
        demo,
        "Play both administrator guide pages end to end, in a new temporary folder",
    )

    p = b.command(top, "register", c.register, "Create a personal account (a user)")
    p.add_argument("email")
    p.add_argument("--name", default="", help="display name")
    p.add_argument(
        "--verified",
        action="store_true",
        help="you have checked that the address is theirs (otherwise it is unproven until "
        "they open a link sent to it)",
    )
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input instead of asking",
    )

    p = b.command(top, "accept", c.accept, "Accept an invitation to join a business account")
    p.add_argument("link", metavar="LINK_OR_TOKEN", help="the link from the email, or its token")
    p.add_argument("--name", default="", help="display name, for a new personal account")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input instead of asking",
    )

    from licensekit.cli._account_commands import add_account_commands

    add_account_commands(b, top)

    accounts = b.group(top, "accounts", "Business accounts")
    p = b.command(
        accounts,
        "create",
        c.accounts_create,
        "Create a business account; you become its Account Administrator",
    )
    p.add_argument("name")
    b.command(accounts, "list", c.accounts_list, "List your business accounts and roles")

    _member_commands(b, top)
    _key_commands(b, top)
    _installer_commands(b, top)

    p = b.command(top, "activate", c.activate, "Activate a computer, as an installer does")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--code", help="the temporary activation code, as typed")
    how.add_argument(
        "--token", metavar="LINK_OR_TOKEN", help="the download link from the email, or its token"
    )
    p.add_argument(
        "--computer-id",
        required=True,
        metavar="ID",
        help="a stable identifier of the computer (serial number)",
    )
    p.add_argument("--computer-name", default="", metavar="NAME", help="its name")
    p.add_argument("--product", help="refuse a code for another product")

    _installation_commands(b, top)

    p = b.command(
        top,
        "lift-lockout",
        c.lift_lockout,
        "Lift the locks on a client, or on log-ins as an email, at once",
    )
    p.add_argument(
        "--client", metavar="CLIENT", help="the client identifier your service passes (an address)"
    )
    p.add_argument("--email", metavar="EMAIL", help="the address whose log-ins are locked")

    p = b.command(top, "audit", c.audit, "Show an account's audit trail", account=True)
    p.add_argument("--limit", type=positive, metavar="N", help="only the last N events")

    mail = b.group(top, "mail", "Read the emails the file mailer wrote (.eml files)")
    p = b.command(mail, "list", c.mail_list, "List the messages, oldest first")
    p.add_argument("--to", metavar="EMAIL", help="only those to this address")
    p = b.command(mail, "show", c.mail_show, "Show the latest message")
    p.add_argument("--to", metavar="EMAIL", help="the latest to this address")
    p.add_argument("--kind", choices=[k.value for k in MessageKind], help="of this kind")
    only = p.add_mutually_exclusive_group()
    only.add_argument("--link", action="store_true", help="print only its personal link")
    only.add_argument("--code", action="store_true", help="print only its activation code")
    return parser


def _member_commands(b: _Builder, top: argparse._SubParsersAction[_Parser]) -> None:
    members = b.group(top, "members", "Members of a business account and their invitations")
    b.command(members, "list", c.members_list, "List the members", account=True).add_argument(
        "--all", action="store_true", help="include removed members"
    )
    b.command(members, "show", c.members_show, "Show one member", account=True).add_argument(
        "member", metavar="MEMBER", help="email or user id"
    )
    p = b.command(members, "invite", c.members_invite, "Invite people to join", account=True)
    _recipients(p)
    p = b.command(
        members, "invitations", c.members_invitations, "List the invitations to join", account=True
    )
    p.add_argument("--state", choices=[s.value for s in InvitationState])
    p = b.command(
        members, "send", c.members_send, "Send the invitations not delivered yet", account=True
    )
    p.add_argument("ids", nargs="*", metavar="INVITATION", help="only these")
    p = b.command(members, "resend", c.members_resend, "Send one invitation again", account=True)
    p.add_argument("id", metavar="INVITATION")
    p = b.command(members, "revoke", c.members_revoke, "Revoke a pending invitation", account=True)
    p.add_argument("id", metavar="INVITATION")
    p = b.command(members, "role", c.members_role, "Change a member's role", account=True)
    p.add_argument("member", metavar="MEMBER", help="email or user id")
    p.add_argument(
        "role",
        choices=list(c.ROLE_CHOICES),
        metavar="ROLE",
        help="admin (account_administrator) or member (regular_member)",
    )
    _notes(p, notify=True)
    for name, handler, summary, notify in (
        ("block", c.members_block, "Block a member (kept, but powerless)", True),
        ("unblock", c.members_unblock, "Unblock a member", False),
        ("remove", c.members_remove, "Remove a member (they can be invited again)", True),
    ):
        p = b.command(members, name, handler, summary, account=True)
        p.add_argument("member", metavar="MEMBER", help="email or user id")
        _notes(p, notify=notify)


def _key_commands(b: _Builder, top: argparse._SubParsersAction[_Parser]) -> None:
    keys = b.group(top, "keys", "License keys, seats and License Administrators")
    p = b.command(keys, "add", c.keys_add, "Add a license key", account=True)
    p.add_argument("--product", required=True)
    p.add_argument("--seats", type=positive, required=True)
    p.add_argument("--expires", type=moment, metavar="DATE", help="when it stops activating")
    p.add_argument(
        "--value-stdin",
        action="store_true",
        help="read the key's value from standard input instead of asking",
    )
    b.command(keys, "list", c.keys_list, "List the license keys", account=True).add_argument(
        "--all", action="store_true", help="include removed keys"
    )
    key_help = "the key's id or product name"
    b.command(keys, "show", c.keys_show, "Show a key", account=True).add_argument(
        "key", metavar="KEY", help=key_help
    )
    p = b.command(keys, "change", c.keys_change, "Change a key's seats or expiry", account=True)
    p.add_argument("key", metavar="KEY", help=key_help)
    p.add_argument("--seats", type=positive)
    expiry = p.add_mutually_exclusive_group()
    expiry.add_argument("--expires", type=moment, metavar="DATE")
    expiry.add_argument("--no-expiry", action="store_true", help="never expire")
    for name, handler, summary in (
        ("suspend", c.keys_suspend, "Suspend a key: nothing activates with it"),
        ("resume", c.keys_resume, "Make a suspended or removed key active again"),
        ("remove", c.keys_remove, "Remove a key no installation holds"),
    ):
        b.command(keys, name, handler, summary, account=True).add_argument(
            "key", metavar="KEY", help=key_help
        )
    for name, handler, summary in (
        ("grant", c.keys_grant, "Make a Regular Member License Administrator of a key"),
        ("revoke", c.keys_revoke, "End a member's License Administrator rights over a key"),
    ):
        p = b.command(keys, name, handler, summary, account=True)
        p.add_argument("key", metavar="KEY", help=key_help)
        p.add_argument("member", metavar="MEMBER", help="email or user id")


def _installer_commands(b: _Builder, top: argparse._SubParsersAction[_Parser]) -> None:
    installers = b.group(top, "installers", "Invitations to install, with activation codes")
    key_help = "the key's id or product name (may be left out when the account has one)"
    p = b.command(
        installers, "invite", c.installers_invite, "Invite people to install", account=True
    )
    p.add_argument("--key", metavar="KEY", help=key_help)
    _recipients(p)
    p.add_argument(
        "--max-activations",
        type=positive,
        default=1,
        metavar="N",
        help="computers each code may activate (default: 1)",
    )
    p = b.command(installers, "list", c.installers_list, "List a key's invitations", account=True)
    p.add_argument("--key", metavar="KEY", help=key_help)
    p.add_argument("--state", choices=[s.value for s in InstallInvitationState])
    p = b.command(
        installers,
        "export",
        c.installers_export,
        "Export the invitations as CSV: email, temporary activation code, download URL",
        account=True,
    )
    p.add_argument("--key", metavar="KEY", help=key_help)
    p.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="write to a new file (mode 0600) instead of standard output",
    )
    p.add_argument(
        "--all", action="store_true", help="include revoked, expired and used-up invitations"
    )
    p = b.command(
        installers,
        "send",
        c.installers_send,
        "Send the invitations not delivered yet",
        account=True,
    )
    p.add_argument("--key", metavar="KEY", help=key_help)
    p.add_argument("ids", nargs="*", metavar="INVITATION", help="only these")
    p = b.command(
        installers, "resend", c.installers_resend, "Send one invitation again", account=True
    )
    p.add_argument("id", metavar="INVITATION")
    p = b.command(installers, "revoke", c.installers_revoke, "Revoke an invitation", account=True)
    p.add_argument("id", metavar="INVITATION")


def _installation_commands(b: _Builder, top: argparse._SubParsersAction[_Parser]) -> None:
    group = b.group(top, "installations", "Activated computers and blocked ones")
    key_help = "the key's id or product name (may be left out when the account has one)"
    p = b.command(group, "list", c.installations_list, "List a key's installations", account=True)
    p.add_argument("--key", metavar="KEY", help=key_help)
    p.add_argument("--all", action="store_true", help="include deactivated installations")
    target = "an installation id (ins_...) or a computer id"
    p = b.command(
        group,
        "deactivate",
        c.installations_deactivate,
        "Deactivate an installation; its seat is free at once",
        account=True,
    )
    p.add_argument("installation", metavar="INSTALLATION", help=target)
    p.add_argument("--key", metavar="KEY", help="look for the computer under this key only")
    p = b.command(
        group,
        "block",
        c.installations_block,
        "Deactivate a computer and keep it from activating again",
        account=True,
    )
    p.add_argument("installation", metavar="INSTALLATION", help=target)
    p.add_argument("--key", metavar="KEY", help="look for the computer under this key only")
    p.add_argument("--notes", default="", help="why, for the record")
    p = b.command(
        group,
        "unblock",
        c.installations_unblock,
        "Let a blocked computer activate again",
        account=True,
    )
    p.add_argument("computer_id", metavar="COMPUTER_ID")
    p.add_argument(
        "--key", metavar="KEY", help="lift the block of this key (default: the account-wide block)"
    )
    b.command(group, "blocked", c.installations_blocked, "List the blocked computers", account=True)


def _version() -> str:
    try:
        return metadata.version("licensekit-admin")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a bare checkout
        return "unknown"
