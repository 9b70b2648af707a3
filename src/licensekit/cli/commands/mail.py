"""``licensekit mail``: read back the ``.eml`` files the file mailer wrote."""

from __future__ import annotations

import argparse
from pathlib import Path

from licensekit.cli._app import App
from licensekit.cli._errors import EXIT_OK, CommandError
from licensekit.cli._mailbox import Letter, find_code, find_link, read_folder
from licensekit.cli._options import values_of
from licensekit.cli._output import clean, when
from licensekit.cli._parser import Builder, Parser
from licensekit.domain._echo import echo_path
from licensekit.mail import MessageKind
from licensekit.mailers import FileMailer

__all__ = ["define_mail", "list_mail", "show_mail"]


def define_mail(parser: Parser, b: Builder) -> None:
    """Define ``licensekit mail list|show``."""
    actions = b.actions(parser)
    p = b.command(actions, "list", list_mail, "List the messages, oldest first")
    p.add_argument("--to", metavar="EMAIL", help="only those to this address")
    p = b.command(actions, "show", show_mail, "Show the latest message")
    p.add_argument("--to", metavar="EMAIL", help="the latest to this address")
    p.add_argument("--kind", choices=values_of(MessageKind), help="of this kind")
    only = p.add_mutually_exclusive_group()
    only.add_argument("--link", action="store_true", help="print only its personal link")
    only.add_argument("--code", action="store_true", help="print only its activation code")


def list_mail(app: App, args: argparse.Namespace) -> int:
    """List the messages the file mailer wrote, oldest first."""
    folder, letters = _letters(app, args.to, None)
    if app.out.json_mode:
        app.out.json(letters)
        return EXIT_OK
    app.out.line(f"Messages in {folder}:")
    app.out.table(
        ["TIME", "TO", "KIND", "SUBJECT", "FILE"],
        [[when(m.date), m.to, m.kind, m.subject, m.path.name] for m in letters],
    )
    return EXIT_OK


def show_mail(app: App, args: argparse.Namespace) -> int:
    """Show the latest message (to someone, of a kind), or only its link or code."""
    folder, letters = _letters(app, args.to, args.kind)
    if not letters:
        who = f" to {args.to}" if args.to else ""
        raise CommandError(f"no message{who} in {echo_path(folder)}")
    letter = letters[-1]
    if args.link or args.code:
        if args.code:
            found = find_code(letter.text)
        else:
            c = app.config
            templates = (c.download_url, c.join_url, c.verify_url, c.reset_url)
            found = next(filter(None, (find_link(letter.text, t) for t in templates)), None)
        if found is None:
            what = "activation code" if args.code else "link"
            raise CommandError(f"no {what} in {letter.path.name}")
        return app.out.answer({"code" if args.code else "link": found, "file": letter.path}, found)
    if app.out.json_mode:
        app.out.json(
            {
                "file": letter.path,
                "to": letter.to,
                "subject": letter.subject,
                "kind": letter.kind,
                "text": letter.text,
            }
        )
        return EXIT_OK
    app.out.fields([("File", letter.path), ("To", letter.to), ("Subject", letter.subject)])
    app.out.line()
    for text in letter.text.splitlines():
        app.out.line(clean(text))
    return EXIT_OK


def _letters(app: App, to: str | None, kind: str | None) -> tuple[Path, list[Letter]]:
    """The file mailer's folder, and its messages (to *to*, of *kind*), oldest first."""
    mailer = app.mailer()
    if not isinstance(mailer, FileMailer):
        raise CommandError(
            "the mail commands read the file mailer's folder, but SMTP is configured"
        )
    letters = read_folder(mailer.folder)
    if to:
        wanted = to.strip().lower()
        letters = [m for m in letters if m.to.lower() == wanted]
    if kind:
        letters = [m for m in letters if m.kind == kind]
    return mailer.folder, letters
