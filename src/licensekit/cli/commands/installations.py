"""Computers: ``licensekit installations``.

``installations`` lists the computers of a key, exports the computer list as CSV, renames
them and keeps notes on them, deactivates, blocks and unblocks them, and culls those that
stopped checking in.
"""

from __future__ import annotations

import argparse
import csv
import io
from collections.abc import Iterator
from pathlib import Path

from licensekit import CsvPage
from licensekit.cli._app import App, all_pages
from licensekit.cli._errors import EXIT_OK, UsageError
from licensekit.cli._files import new_output_file
from licensekit.cli._options import add_key, positive
from licensekit.cli._output import plural, when
from licensekit.cli._parser import Builder, Parser

__all__ = [
    "block",
    "block_id",
    "cull",
    "deactivate",
    "define_installations",
    "edit",
    "export_installations",
    "list_blocked",
    "list_installations",
    "move",
    "rename",
    "unblock",
]


def define_installations(parser: Parser, b: Builder) -> None:
    """Define ``licensekit installations ACTION``."""
    actions = b.actions(parser)
    p = b.command(actions, "list", list_installations, "List a key's installations", account=True)
    add_key(p)
    p.add_argument("--all", action="store_true", help="include deactivated installations")
    p = b.command(
        actions,
        "export",
        export_installations,
        "Export the computer list as CSV: computer name and id, user, key, activated, last "
        "seen, status, notes",
        account=True,
    )
    p.add_argument(
        "--key",
        metavar="KEY",
        help="export this key's computers only (default: those of every key you manage)",
    )
    p.add_argument(
        "--all", action="store_true", help="include deactivated and culled installations"
    )
    p.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="write to a new file (mode 0600) instead of standard output",
    )
    p = b.command(
        actions, "edit", edit, "Rename a computer or change the notes kept on it", account=True
    )
    _installation(p)
    p.add_argument("--name", help="the computer's new name ('' shows its identifier instead)")
    p.add_argument("--notes", help="the administrators' notes on it ('' clears them)")
    p = b.command(actions, "rename", rename, "Rename a computer", account=True)
    _installation(p)
    p.add_argument("name", metavar="NAME", help="its new name")
    p = b.command(
        actions,
        "deactivate",
        deactivate,
        "Deactivate an installation; its seat is free at once",
        account=True,
    )
    _installation(p)
    p = b.command(
        actions,
        "move",
        move,
        "Move installations to another key of the same product, with their seats and tokens",
        account=True,
    )
    add_key(p)
    p.add_argument(
        "--to", required=True, metavar="KEY", help="the key they go to (its id or product name)"
    )
    p.add_argument(
        "installations",
        nargs="*",
        metavar="INSTALLATION",
        help="installation ids or computer ids (default: every active installation of --key)",
    )
    p = b.command(
        actions,
        "block",
        block,
        "Deactivate a computer and keep it from activating again",
        account=True,
    )
    _installation(p)
    p.add_argument("--notes", default="", help="why, for the record")
    p = b.command(
        actions,
        "block-id",
        block_id,
        "Block a computer by its identifier, even one that never activated",
        account=True,
    )
    p.add_argument("computer_id", metavar="COMPUTER_ID")
    p.add_argument(
        "--key",
        metavar="KEY",
        help="block it under this key only (default: every key of the account)",
    )
    p.add_argument("--notes", default="", help="why, for the record")
    p = b.command(
        actions, "unblock", unblock, "Let a blocked computer activate again", account=True
    )
    p.add_argument("computer_id", metavar="COMPUTER_ID")
    p.add_argument(
        "--key", metavar="KEY", help="lift the block of this key (default: the account-wide block)"
    )
    b.command(actions, "blocked", list_blocked, "List the blocked computers", account=True)
    p = b.command(
        actions,
        "cull",
        cull,
        "Free the seats of installations that stopped checking in (run it on a schedule)",
    )
    p.add_argument("--limit", type=positive, metavar="N", help="cull at most N in this run")


def _installation(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "installation",
        metavar="INSTALLATION",
        help="an installation id (ins_...) or a computer id",
    )
    parser.add_argument("--key", metavar="KEY", help="look for the computer under this key only")


def list_installations(app: App, args: argparse.Namespace) -> int:
    """List a key's installations."""
    account = app.account()
    key = app.key(account.account_id, args.key)
    limit = app.kit.settings.max_page_size
    installations = all_pages(
        lambda cursor: app.kit.list_installations(
            app.session(),
            account.account_id,
            key.id,
            include_inactive=args.all,
            cursor=cursor,
            limit=limit,
        )
    )
    if app.out.json_mode:
        app.out.json(installations)
        return EXIT_OK
    app.out.line(f"Installations of {key.product}: {key.seats_used} of {key.seats} seats used")
    app.out.table(
        ["COMPUTER", "COMPUTER ID", "EMAIL", "ACTIVATED", "LAST SEEN", "STATUS", "ID"],
        [
            [
                i.computer_name,
                i.computer_id,
                i.email,
                when(i.activated_at),
                when(i.last_seen_at),
                "overdue" if i.overdue else i.status.value,
                i.id,
            ]
            for i in installations
        ],
    )
    return EXIT_OK


def export_installations(app: App, args: argparse.Namespace) -> int:
    """Write the computer list as CSV, a page at a time, to a new file or standard output."""
    account = app.account()
    key_id = app.key(account.account_id, args.key).id if args.key else None
    session = app.session()

    def pages() -> Iterator[CsvPage]:
        cursor = None
        while True:
            page = app.kit.export_installations(
                session,
                account.account_id,
                key_id=key_id,
                include_inactive=args.all,
                cursor=cursor,
            )
            yield page
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    if args.output is not None and args.output != "-":
        path = Path(args.output)
        count = 0
        with new_output_file(path) as file:
            for page in pages():
                file.write(page.csv)
                count += page.rows
        return app.out.answer(
            {"output": str(path.resolve()), "installations": count},
            f"Wrote {plural(count, 'installation')} to {args.output}",
        )
    if app.out.json_mode:
        text = "".join(page.csv for page in pages())
        app.out.json(list(csv.DictReader(io.StringIO(text, newline=""))))
        return EXIT_OK
    for page in pages():
        app.out.text(page.csv)
    return EXIT_OK


def edit(app: App, args: argparse.Namespace) -> int:
    """Rename a computer and/or change the notes kept on it."""
    if args.name is None and args.notes is None:
        raise UsageError("give --name, --notes, or both")
    return _edit(app, args, args.name, args.notes)


def rename(app: App, args: argparse.Namespace) -> int:
    """Rename a computer."""
    return _edit(app, args, args.name, None)


def _edit(app: App, args: argparse.Namespace, name: str | None, notes: str | None) -> int:
    account = app.account()
    target = app.installation(account.account_id, args.installation, args.key)
    view = app.kit.edit_installation(
        app.session(), account.account_id, target, computer_name=name, notes=notes
    )
    shown = view.computer_name or view.computer_id
    said = f"; notes: {view.notes}" if notes is not None and view.notes else ""
    return app.out.answer(view, f"Computer {view.computer_id} is now {shown}{said}")


def deactivate(app: App, args: argparse.Namespace) -> int:
    """Deactivate an installation (by id or computer id); its seat is free at once."""
    account = app.account()
    target = app.installation(account.account_id, args.installation, args.key)
    view = app.kit.deactivate_installation(app.session(), account.account_id, target)
    name = view.computer_name or view.computer_id
    return app.out.answer(
        view, f"Deactivated {name} ({view.computer_id}, {view.email}); its seat is free"
    )


def move(app: App, args: argparse.Namespace) -> int:
    """Move installations to another key: all of them or none."""
    account = app.account()
    source = app.key(account.account_id, args.key)
    target = app.key(account.account_id, args.to)
    listed = [app.installation(account.account_id, i, source.id) for i in args.installations]
    report = app.kit.move_installations(
        app.session(), account.account_id, source.id, target.id, installation_ids=listed or None
    )
    replaced = f"; {plural(report.replaced, 'old record')} replaced" if report.replaced else ""
    return app.out.answer(
        report,
        f"Moved {plural(report.installations, 'installation')} from key {source.id} to key "
        f"{target.id}, with {plural(report.seats, 'seat')}{replaced}",
    )


def block(app: App, args: argparse.Namespace) -> int:
    """Block an installation's computer from activating again."""
    account = app.account()
    target = app.installation(account.account_id, args.installation, args.key)
    found = app.kit.block_computer(app.session(), account.account_id, target, notes=args.notes)
    scope = "every key of the account" if found.key_id is None else f"key {found.key_id}"
    return app.out.answer(found, f"Blocked computer {found.computer_id} under {scope}")


def block_id(app: App, args: argparse.Namespace) -> int:
    """Block a computer by its identifier, whether or not it ever activated."""
    account = app.account()
    key_id = app.key(account.account_id, args.key).id if args.key else None
    found = app.kit.block_computer_id(
        app.session(), account.account_id, args.computer_id, key_id=key_id, notes=args.notes
    )
    scope = "every key of the account" if found.key_id is None else f"key {found.key_id}"
    return app.out.answer(found, f"Blocked computer {found.computer_id} under {scope}")


def unblock(app: App, args: argparse.Namespace) -> int:
    """Lift a computer's block."""
    account = app.account()
    key_id = app.key(account.account_id, args.key).id if args.key else None
    app.kit.unblock_computer(app.session(), account.account_id, args.computer_id, key_id=key_id)
    return app.out.answer(
        {"computer_id": args.computer_id, "key_id": key_id, "unblocked": True},
        f"Computer {args.computer_id} may activate again",
    )


def list_blocked(app: App, args: argparse.Namespace) -> int:
    """List the account's blocked computers."""
    account = app.account()
    limit = app.kit.settings.max_page_size
    blocks = all_pages(
        lambda cursor: app.kit.list_blocked_computers(
            app.session(), account.account_id, cursor=cursor, limit=limit
        )
    )
    if app.out.json_mode:
        app.out.json(blocks)
        return EXIT_OK
    people = app.people(account.account_id)
    app.out.table(
        ["COMPUTER ID", "SCOPE", "BLOCKED", "BY", "NOTES"],
        [
            [
                b.computer_id,
                b.key_id or "account",
                when(b.blocked_at),
                people.get(b.blocked_by, b.blocked_by),
                b.notes,
            ]
            for b in blocks
        ],
        empty="No computer is blocked",
    )
    return EXIT_OK


def cull(app: App, args: argparse.Namespace) -> int:
    """Cull the installations silent for their key's dead-after time; needs no log-in."""
    report = app.kit.cull_installations(limit=args.limit)
    return app.out.answer(
        report,
        f"Culled {plural(report.culled, 'installation')} under "
        f"{plural(report.keys, 'key')} that cull",
    )
