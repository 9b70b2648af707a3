"""The personal-account commands: proving an address, and changing or resetting a password.

``verify-email send`` and ``password change`` act as a user (``--as``); ``verify-email
confirm``, ``password forgot`` and ``password reset`` are what the person does from the
emails, with the link or its token.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from licensekit.cli._app import App, token_from
from licensekit.cli._errors import EXIT_OK

if TYPE_CHECKING:
    from licensekit.cli._parser import _Builder, _Parser

__all__ = ["add_account_commands"]


def add_account_commands(b: _Builder, top: argparse._SubParsersAction[_Parser]) -> None:
    """Register the ``verify-email`` and ``password`` command groups."""
    verify = b.group(top, "verify-email", "Prove that a personal account's address is its own")
    p = b.command(verify, "send", send_verification, "Email the acting user a verification link")
    _language(p)
    p = b.command(
        verify,
        "confirm",
        confirm_verification,
        "Open a verification link: prove the address and set the account's password",
    )
    p.add_argument("link", metavar="LINK_OR_TOKEN", help="the link from the email, or its token")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the account's password from standard input instead of asking",
    )

    password = b.group(top, "password", "Change or reset the password of a personal account")
    p = b.command(
        password,
        "change",
        change_password,
        "Change the acting user's password; their other sessions end",
    )
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the current and the new password from standard input, one line each",
    )
    p.add_argument("--no-notify", action="store_true", help="do not email the user about it")
    _language(p)
    p = b.command(password, "forgot", forgot_password, "Email a link to choose a new password")
    p.add_argument("email")
    _language(p)
    p = b.command(
        password, "reset", reset_password, "Choose a new password with the link from the email"
    )
    p.add_argument("link", metavar="LINK_OR_TOKEN", help="the link from the email, or its token")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the new password from standard input instead of asking",
    )


def _language(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--language", default="en", metavar="TAG", help="the email's language (default: en)"
    )


def send_verification(app: App, args: argparse.Namespace) -> int:
    """Email the acting user a link that proves their address."""
    session = app.session()
    app.kit.send_email_verification(session, language=args.language)
    return _answer(
        app, {"email": session.email, "sent": True}, f"Sent a verification link to {session.email}"
    )


def confirm_verification(app: App, args: argparse.Namespace) -> int:
    """Prove an address with a verification link; the password typed becomes the account's."""
    token = token_from(args.link, app.config.verify_url)
    password = app.read_secret_input(
        from_stdin=args.password_stdin,
        prompt="Password of your personal account (the one you signed up with, or a new one): ",
        confirm="Type it again: ",
    )
    session = app.kit.verify_email(token, password=password)
    app.kit.log_out(session)
    return _answer(
        app,
        {"email": session.email, "user_id": session.user_id, "verified": True},
        f"{session.email} is verified; every earlier session was signed out",
    )


def change_password(app: App, args: argparse.Namespace) -> int:
    """Change the acting user's password, given the current one."""
    session = app.session()
    current = app.read_secret_input(
        from_stdin=args.password_stdin, prompt="Current password: ", confirm=None
    )
    new = app.read_secret_input(
        from_stdin=args.password_stdin, prompt="New password: ", confirm="Type it again: "
    )
    app.kit.change_password(
        session, current, new, notify=not args.no_notify, language=args.language
    )
    return _answer(
        app,
        {"email": session.email, "changed": True},
        f"Changed the password of {session.email}; their other sessions ended",
    )


def forgot_password(app: App, args: argparse.Namespace) -> int:
    """Ask for a reset link; the answer never tells whether the address has an account."""
    app.kit.request_password_reset(args.email, language=args.language)
    return _answer(
        app,
        {"email": args.email, "requested": True},
        f"If {args.email} has a personal account, a link to reset it was sent there",
    )


def reset_password(app: App, args: argparse.Namespace) -> int:
    """Choose a new password with the link from a reset email."""
    token = token_from(args.link, app.config.reset_url)
    new = app.read_secret_input(
        from_stdin=args.password_stdin, prompt="New password: ", confirm="Type it again: "
    )
    app.kit.reset_password(token, new)
    return _answer(
        app,
        {"reset": True},
        "The password was changed and every session signed out; sign in with it",
    )


def _answer(app: App, data: dict[str, object], line: str) -> int:
    """Print *data* as JSON under ``--json``, else *line* for people; the command succeeded."""
    if app.out.json_mode:
        app.out.json(data)
    else:
        app.out.line(line)
    return EXIT_OK
