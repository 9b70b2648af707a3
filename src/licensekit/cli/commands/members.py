"""``licensekit members``: the members of a business account, their roles and status.

The group's actions on invitations to join (``invite``, ``invitations``, ``send``,
``resend``, ``revoke``) live in :mod:`licensekit.cli.commands.join_invitations`, beside
``licensekit accept``; this module places them among its own in the group's help.
"""

from __future__ import annotations

import argparse

from licensekit import DeliveryStatus, MemberView, Role
from licensekit.cli._app import App
from licensekit.cli._errors import EXIT_OK
from licensekit.cli._options import add_member, add_notes
from licensekit.cli._output import ROLE_NAMES, when
from licensekit.cli._parser import Builder, Parser
from licensekit.cli.commands.join_invitations import define_invitation_actions

__all__ = [
    "ROLE_CHOICES",
    "block_member",
    "change_role",
    "define_members",
    "list_members",
    "remove_member",
    "show_member",
    "unblock_member",
]

ROLE_CHOICES = {
    "account_administrator": Role.ACCOUNT_ADMINISTRATOR,
    "admin": Role.ACCOUNT_ADMINISTRATOR,
    "regular_member": Role.REGULAR_MEMBER,
    "member": Role.REGULAR_MEMBER,
}
"""The roles ``members role`` accepts, under their long and short names."""


def define_members(parser: Parser, b: Builder) -> None:
    """Define ``licensekit members ACTION``, the invitation actions among them."""
    actions = b.actions(parser)
    b.command(actions, "list", list_members, "List the members", account=True).add_argument(
        "--all", action="store_true", help="include removed members"
    )
    add_member(b.command(actions, "show", show_member, "Show one member", account=True))
    define_invitation_actions(actions, b)
    p = b.command(actions, "role", change_role, "Change a member's role", account=True)
    add_member(p)
    p.add_argument(
        "role",
        choices=list(ROLE_CHOICES),
        metavar="ROLE",
        help="admin (account_administrator) or member (regular_member)",
    )
    add_notes(p, notice="asked")
    for name, handler, summary, notice in (
        ("block", block_member, "Block a member (kept, but powerless); they are told", "default"),
        ("unblock", unblock_member, "Unblock a member", ""),
        (
            "remove",
            remove_member,
            "Remove a member (can be invited again); they are told",
            "default",
        ),
    ):
        p = b.command(actions, name, handler, summary, account=True)
        add_member(p)
        add_notes(p, notice=notice)


def list_members(app: App, args: argparse.Namespace) -> int:
    """List an account's members with their roles."""
    account = app.account()
    members = app.members(account.account_id, include_removed=args.all)
    if app.out.json_mode:
        app.out.json(members)
        return EXIT_OK
    products = app.products(account.account_id)
    app.out.line(f"Members of {account.account_name}:")
    app.out.table(
        ["EMAIL", "NAME", "ROLE", "STATUS", "JOINED", "NOTES"],
        [
            [m.email, m.name, _role(m, products), m.status.value, when(m.joined_at), m.notes]
            for m in members
        ],
    )
    return EXIT_OK


def show_member(app: App, args: argparse.Namespace) -> int:
    """Show one member: role, status, who changed it last, the notes."""
    account = app.account()
    found = app.member(account.account_id, args.member)
    if app.out.json_mode:
        app.out.json(found)
        return EXIT_OK
    people = app.people(account.account_id)
    app.out.fields(
        [
            ("Email", found.email),
            ("Name", found.name),
            ("User id", found.user_id),
            ("Account", account.account_name),
            ("Role", _role(found, app.products(account.account_id))),
            ("Status", found.status.value),
            ("Joined", when(found.joined_at)),
            ("Changed", when(found.updated_at)),
            ("Changed by", people.get(found.changed_by or "", found.changed_by or "")),
            ("Notes", found.notes),
        ]
    )
    return EXIT_OK


def change_role(app: App, args: argparse.Namespace) -> int:
    """Change a member's role, with notes."""
    account = app.account()
    found = app.member(account.account_id, args.member)
    role = ROLE_CHOICES[args.role]
    view = app.kit.change_role(
        app.session(),
        account.account_id,
        found.user_id,
        role,
        notes=args.notes,
        notify=args.notify,
        share_notes=args.share_notes,
        language=args.language,
    )
    if app.out.json_mode:
        app.out.json(view)
        return EXIT_OK
    app.out.line(f"{view.email} is now {ROLE_NAMES[view.role]} in {account.account_name}")
    _told(app, view)
    if view.role is Role.ACCOUNT_ADMINISTRATOR and found.role is not view.role:
        app.out.line(
            "The promotion takes effect at their next log-in (with this tool: their next command)"
        )
    return EXIT_OK


def block_member(app: App, args: argparse.Namespace) -> int:
    """Block a member: kept, but powerless, at once."""
    return _change_member(app, args, "blocked", "block_member")


def unblock_member(app: App, args: argparse.Namespace) -> int:
    """Unblock a member: they get back the role they had."""
    return _change_member(app, args, "unblocked", "unblock_member")


def remove_member(app: App, args: argparse.Namespace) -> int:
    """Remove a member; they can be invited again."""
    return _change_member(app, args, "removed from", "remove_member")


def _change_member(app: App, args: argparse.Namespace, done: str, method: str) -> int:
    account = app.account()
    found = app.member(account.account_id, args.member)
    options: dict[str, object] = {"notes": args.notes}
    if method != "unblock_member":
        options.update(notify=args.notify, share_notes=args.share_notes, language=args.language)
    view: MemberView = getattr(app.kit, method)(
        app.session(), account.account_id, found.user_id, **options
    )
    if method == "remove_member":
        line = f"{view.email} was removed from {account.account_name}"
    else:
        line = f"{view.email} is {done} in {account.account_name}"
    app.out.answer(view, line)
    if not app.out.json_mode:
        _told(app, view)
    return EXIT_OK


def _told(app: App, view: MemberView) -> None:
    """Say how the email to the member went, if one was sent (the change stands anyway)."""
    if view.notice is DeliveryStatus.SENT:
        app.out.line(f"{view.email} was told by email")
    elif view.notice is not None:
        app.out.line(
            f"The email telling {view.email} could not be sent ({view.notice.value}); "
            "the change stands (see the audit trail)"
        )


def _role(found: MemberView, products: dict[str, str]) -> str:
    role = ROLE_NAMES[found.role]
    if found.license_keys:
        keys = ", ".join(products.get(k, k) for k in found.license_keys)
        role += f", License Administrator of {keys}"
    return role
