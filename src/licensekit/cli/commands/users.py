"""Personal accounts: ``register``, ``verify-email`` (proving an address) and ``password``.

``register``, ``verify-email send`` and ``password change`` are the operator's or the acting
user's (``--as``); ``verify-email confirm``, ``password forgot`` and ``password reset`` are
what the person does from the emails, with the link or its token.
"""

from __future__ import annotations

import argparse

from licensekit.cli._app import App, token_from
from licensekit.cli._errors import EXIT_OK
from licensekit.cli._options import add_language, add_link, add_password_stdin
from licensekit.cli._parser import Builder, Parser

__all__ = [
    "change_password",
    "confirm_verification",
    "define_password",
    "define_register",
    "define_verify_email",
    "forgot_password",
    "register",
    "reset_password",
    "send_verification",
]

_LANGUAGE = "the email's language (default: en)"


def define_register(parser: Parser, b: Builder) -> None:
    """Define ``licensekit register EMAIL``."""
    b.handle(parser, register)
    parser.add_argument("email")
    parser.add_argument("--name", default="", help="display name")
    parser.add_argument(
        "--verified",
        action="store_true",
        help="you have checked that the address is theirs (otherwise it is unproven until "
        "they open a link sent to it)",
    )
    add_password_stdin(parser)


def define_verify_email(parser: Parser, b: Builder) -> None:
    """Define ``licensekit verify-email send|confirm``."""
    actions = b.actions(parser)
    p = b.command(actions, "send", send_verification, "Email the acting user a verification link")
    add_language(p, _LANGUAGE)
    p = b.command(
        actions,
        "confirm",
        confirm_verification,
        "Open a verification link: prove the address and set the account's password",
    )
    add_link(p)
    add_password_stdin(p, "read the account's password from standard input instead of asking")


def define_password(parser: Parser, b: Builder) -> None:
    """Define ``licensekit password change|forgot|reset``."""
    actions = b.actions(parser)
    p = b.command(
        actions,
        "change",
        change_password,
        "Change the acting user's password; their other sessions end",
    )
    add_password_stdin(
        p, "read the current and the new password from standard input, one line each"
    )
    p.add_argument("--no-notify", action="store_true", help="do not email the user about it")
    add_language(p, _LANGUAGE)
    p = b.command(actions, "forgot", forgot_password, "Email a link to choose a new password")
    p.add_argument("email")
    add_language(p, _LANGUAGE)
    p = b.command(
        actions, "reset", reset_password, "Choose a new password with the link from the email"
    )
    add_link(p)
    add_password_stdin(p, "read the new password from standard input instead of asking")


def register(app: App, args: argparse.Namespace) -> int:
    """Create a personal account with a password."""
    kit = app.kit
    password = app.read_secret_input(
        from_stdin=args.password_stdin,
        prompt=f"Choose a password for {args.email}: ",
        confirm="Type it again: ",
    )
    user = kit.register_user(args.email, password, name=args.name, email_verified=args.verified)
    if app.out.json_mode:
        app.out.json(user)
    elif user.email_verified:
        app.out.line(f"Registered {user.email} ({user.id})")
    else:
        app.out.line(
            f"Registered {user.email} ({user.id}), unproven until they open a link sent there: "
            f"licensekit verify-email send --as {user.email}"
        )
    return EXIT_OK


def send_verification(app: App, args: argparse.Namespace) -> int:
    """Email the acting user a link that proves their address."""
    session = app.session()
    app.kit.send_email_verification(session, language=args.language)
    return app.out.answer(
        {"email": session.email, "sent": True}, f"Sent a verification link to {session.email}"
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
    return app.out.answer(
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
    return app.out.answer(
        {"email": session.email, "changed": True},
        f"Changed the password of {session.email}; their other sessions ended",
    )


def forgot_password(app: App, args: argparse.Namespace) -> int:
    """Ask for a reset link; the answer never tells whether the address has an account."""
    app.kit.request_password_reset(args.email, language=args.language)
    return app.out.answer(
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
    return app.out.answer(
        {"reset": True},
        "The password was changed and every session signed out; sign in with it",
    )
