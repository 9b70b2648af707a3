"""``licensekit lift-lockout``: lift at once the locks on a client, or on log-ins as an email."""

from __future__ import annotations

import argparse

from licensekit import normalize_email
from licensekit.cli._app import App
from licensekit.cli._errors import EXIT_OK, UsageError
from licensekit.cli._output import plural
from licensekit.cli._parser import Builder, Parser

__all__ = ["define_lift_lockout", "lift_lockout"]


def define_lift_lockout(parser: Parser, b: Builder) -> None:
    """Define ``licensekit lift-lockout --client CLIENT --email EMAIL``."""
    b.handle(parser, lift_lockout)
    parser.add_argument(
        "--client", metavar="CLIENT", help="the client identifier your service passes (an address)"
    )
    parser.add_argument("--email", metavar="EMAIL", help="the address whose log-ins are locked")


def lift_lockout(app: App, args: argparse.Namespace) -> int:
    """Lift the locks on a client, or on log-ins as an email, and say how many were in force."""
    client = args.client.strip() if args.client is not None else ""
    if not client and args.email is None:
        raise UsageError("give --client, --email or both")
    email = normalize_email(args.email) if args.email is not None else None
    lifted = app.kit.lift_lockout(client=client or None, email=email)
    if app.out.json_mode:
        app.out.json({"lifted": lifted, "client": client or None, "email": email})
        return EXIT_OK
    names = [f"client {client}"] if client else []
    if email is not None:
        names.append(f"log-ins and emails asked for {email}")
    app.out.line(f"Lifted {plural(lifted, 'lock') if lifted else 'no lock'} ({', '.join(names)})")
    return EXIT_OK
