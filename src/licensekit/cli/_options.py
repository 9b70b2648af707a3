"""The options several commands share, and the checks every command line passes first.

The global options (``--db``, ``--as``, ``--json``, the mail settings) are accepted before or
after any command's name; the value types (durations, dates, counts, enumerations) and the
option groups that recur (``--language``, ``--notes``, the recipients of invitations,
``--password-stdin``) are written once here for every command module to use.
"""

from __future__ import annotations

import argparse
import datetime as dt
import enum
import re
from collections.abc import Sequence

from licensekit._text import encodable
from licensekit.cli._errors import UsageError
from licensekit.domain._echo import echo

__all__ = [
    "LANGUAGES_HELP",
    "LONGEST_ARGUMENT",
    "MEMBER_LANGUAGE_HELP",
    "add_global_options",
    "add_invitation",
    "add_key",
    "add_language",
    "add_link",
    "add_member",
    "add_notes",
    "add_password_stdin",
    "add_recipients",
    "check_arguments",
    "duration",
    "moment",
    "positive",
    "values_of",
]

LONGEST_ARGUMENT = 4096
"""No option takes more characters than this (the longest, a path, is bounded so by Linux)."""

LANGUAGES_HELP = "language of the emails: en, de, fr, es, it, ja, zh-Hans, pt-BR (default: en)"
"""The help of ``--language`` where a command may send several emails."""

_DURATION = re.compile(r"(\d{1,6})([dhm])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


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


# == value types ========================================================================


def duration(text: str) -> dt.timedelta:
    """Parse a duration such as ``7d``, ``12h`` or ``90m`` (a lifetime, a period, a grace)."""
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


def values_of(kind: type[enum.Enum]) -> list[str]:
    """Return the values of the enumeration *kind*, as the ``choices`` of an option."""
    return [str(member.value) for member in kind]


# == options several commands take ======================================================


def add_language(parser: argparse.ArgumentParser, help_text: str = LANGUAGES_HELP) -> None:
    """Add ``--language TAG``: the language of the emails the command sends."""
    parser.add_argument("--language", default="en", metavar="TAG", help=help_text)


MEMBER_LANGUAGE_HELP = (
    "language of the email to the member: en, de, fr, es, it, ja, zh-Hans, pt-BR (default: "
    "the one they were invited in, else en)"
)
"""The help of ``--language`` where a command emails a member about a change."""


def add_notes(parser: argparse.ArgumentParser, *, notice: str = "") -> None:
    """Add ``--notes``, and the options of the email to the member the change may send.

    *notice* ``"asked"`` (the email is sent only when asked) adds ``--notify``; ``"default"``
    (sent unless declined) adds ``--no-notify``; either adds ``--share-notes`` and
    ``--language``. Empty adds none of them.
    """
    parser.add_argument("--notes", default="", help="why, for the record")
    if not notice:
        return
    if notice == "asked":
        parser.add_argument("--notify", action="store_true", help="tell the member by email")
    else:
        parser.add_argument(
            "--no-notify",
            dest="notify",
            action="store_false",
            default=None,
            help="do not tell the member by email (they are told by default)",
        )
    parser.add_argument(
        "--share-notes",
        action="store_true",
        help="put the notes in the email to the member (left out by default)",
    )
    parser.add_argument("--language", default=None, metavar="TAG", help=MEMBER_LANGUAGE_HELP)


def add_member(parser: argparse.ArgumentParser) -> None:
    """Add the positional ``MEMBER``: an email or a user id."""
    parser.add_argument("member", metavar="MEMBER", help="email or user id")


def add_invitation(parser: argparse.ArgumentParser, *, many: bool = False) -> None:
    """Add the positional ``INVITATION``: one invitation's id, or with *many* any number."""
    if many:
        parser.add_argument("ids", nargs="*", metavar="INVITATION", help="only these")
    else:
        parser.add_argument("id", metavar="INVITATION")


def add_key(parser: argparse.ArgumentParser) -> None:
    """Add ``--key KEY``: the license key, which an account with one key may leave out."""
    parser.add_argument(
        "--key",
        metavar="KEY",
        help="the key's id or product name (may be left out when the account has one)",
    )


def add_link(parser: argparse.ArgumentParser) -> None:
    """Add the positional ``LINK_OR_TOKEN`` of a command that opens an emailed link."""
    parser.add_argument(
        "link", metavar="LINK_OR_TOKEN", help="the link from the email, or its token"
    )


def add_password_stdin(
    parser: argparse.ArgumentParser,
    help_text: str = "read the password from standard input instead of asking",
) -> None:
    """Add ``--password-stdin``: read what would be typed unseen from standard input."""
    parser.add_argument("--password-stdin", action="store_true", help=help_text)


def add_recipients(parser: argparse.ArgumentParser) -> None:
    """Add who is invited (typed emails or ``--csv``), in what language, for how long."""
    parser.add_argument("emails", nargs="*", metavar="EMAIL", help="addresses to invite")
    parser.add_argument(
        "--csv", metavar="FILE", help="read the addresses from a one-column CSV file instead"
    )
    add_language(parser)
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


# == the global options =================================================================


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """Add the options every command accepts, before or after its name, to *parser*.

    They default to nothing at all (``SUPPRESS``), so that an option given before the
    command's name is not overwritten by the command's own parser.
    """
    g = parser.add_argument_group("global options (before or after the command)")
    s = argparse.SUPPRESS
    g.add_argument(
        "--db",
        metavar="PATH_OR_URI",
        default=s,
        help="the database file, or a PostgreSQL database as postgresql://...[?schema=NAME] "
        "(LICENSEKIT_DB; default: licensekit.db here)",
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
        help="the host secret's file (LICENSEKIT_SECRET_FILE; default: beside a database "
        "file, .secret; no default with a PostgreSQL URI); LICENSEKIT_SECRET may hold the "
        "secret itself, in hex",
    )
    g.add_argument(
        "--signing-key-file",
        metavar="PATH",
        default=s,
        help="the file of the keys that sign certificates (LICENSEKIT_SIGNING_KEY_FILE; "
        "default: beside a database file, .signing-keys; no default with a PostgreSQL URI)",
    )
    g.add_argument(
        "--mail-dir",
        metavar="PATH",
        default=s,
        help="write emails as .eml files here (LICENSEKIT_MAIL_DIR; default: beside a "
        "database file, -mail; no default with a PostgreSQL URI)",
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
    for name, page, variable in (
        ("join", "the join page", "LICENSEKIT_JOIN_URL"),
        ("download", "the download page", "LICENSEKIT_DOWNLOAD_URL"),
        ("verify", "the email verification page", "LICENSEKIT_VERIFY_URL"),
        ("reset", "the page to choose a new password", "LICENSEKIT_RESET_URL"),
    ):
        g.add_argument(
            f"--{name}-url", metavar="URL", default=s, help=f"{page}, with {{token}} ({variable})"
        )
    g.add_argument(
        "--service-name",
        metavar="NAME",
        default=s,
        help="how emails name your service (LICENSEKIT_SERVICE_NAME)",
    )
