"""``licensekit accounts``: create a business account, and list the acting user's."""

from __future__ import annotations

import argparse

from licensekit.cli._app import App
from licensekit.cli._errors import EXIT_OK
from licensekit.cli._output import ROLE_NAMES
from licensekit.cli._parser import Builder, Parser

__all__ = ["create_account", "define_accounts", "list_accounts"]


def define_accounts(parser: Parser, b: Builder) -> None:
    """Define ``licensekit accounts create|list``."""
    actions = b.actions(parser)
    p = b.command(
        actions,
        "create",
        create_account,
        "Create a business account; you become its Account Administrator",
    )
    p.add_argument("name")
    b.command(actions, "list", list_accounts, "List your business accounts and roles")


def create_account(app: App, args: argparse.Namespace) -> int:
    """Create a business account; the acting user becomes its Account Administrator."""
    account = app.kit.create_business_account(app.session(), args.name)
    return app.out.answer(
        account,
        f"Created business account {account.name} ({account.id}); "
        f"{app.session().email} is its Account Administrator",
    )


def list_accounts(app: App, args: argparse.Namespace) -> int:
    """List the acting user's business accounts and roles."""
    mine = app.kit.list_my_accounts(app.session())
    if app.out.json_mode:
        app.out.json(list(mine))
        return EXIT_OK
    app.out.table(
        ["ACCOUNT", "ID", "ROLE", "STATUS"],
        [
            [
                m.account_name,
                m.account_id,
                ROLE_NAMES[m.role]
                + ("" if m.role is m.effective_role else " (from the next log-in)"),
                m.status.value,
            ]
            for m in mine
        ],
        empty=f"{app.session().email} belongs to no business account",
    )
    return EXIT_OK
