"""Invitations to join a business account: ``licensekit accept``, and ``members`` actions.

The ``members`` actions ``invite``, ``invitations``, ``send``, ``resend`` and ``revoke``
make, list, send and withdraw the invitations.

:mod:`licensekit.cli.commands.members` adds the actions of :func:`define_invitation_actions`
to its group; ``licensekit accept`` is this module's own command.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from licensekit import (
    InvitationState,
    JoinInvitationView,
    Role,
)
from licensekit.cli._app import App, all_pages, token_from
from licensekit.cli._errors import EXIT_OK, UsageError
from licensekit.cli._options import (
    add_invitation,
    add_link,
    add_password_stdin,
    add_recipients,
    values_of,
)
from licensekit.cli._output import when
from licensekit.cli._parser import Actions, Builder, Parser
from licensekit.cli._sending import (
    UNDELIVERED,
    delivery_status,
    print_invited,
    report_sent,
    send_chunks,
    send_new,
)
from licensekit.domain._echo import echo

__all__ = [
    "accept",
    "define_accept",
    "define_invitation_actions",
    "invite_members",
    "list_invitations",
    "resend_invitation",
    "revoke_invitation",
    "send_invitations",
]

_LATER = "members send"


def define_accept(parser: Parser, b: Builder) -> None:
    """Define ``licensekit accept LINK_OR_TOKEN``."""
    b.handle(parser, accept)
    add_link(parser)
    parser.add_argument("--name", default="", help="display name, for a new personal account")
    add_password_stdin(parser)


def define_invitation_actions(actions: Actions, b: Builder) -> None:
    """Add ``invite``, ``invitations``, ``send``, ``resend`` and ``revoke`` to ``members``."""
    add_recipients(
        b.command(actions, "invite", invite_members, "Invite people to join", account=True)
    )
    b.command(
        actions, "invitations", list_invitations, "List the invitations to join", account=True
    ).add_argument("--state", choices=values_of(InvitationState))
    p = b.command(
        actions, "send", send_invitations, "Send the invitations not delivered yet", account=True
    )
    add_invitation(p, many=True)
    p = b.command(actions, "resend", resend_invitation, "Send one invitation again", account=True)
    add_invitation(p)
    p = b.command(actions, "revoke", revoke_invitation, "Revoke a pending invitation", account=True)
    add_invitation(p)


def accept(app: App, args: argparse.Namespace) -> int:
    """Accept a join invitation with the current password, or a new one."""
    kit = app.kit
    token = token_from(args.link, app.config.join_url)
    preview = kit.describe_join_invitation(token)
    if preview.needs_current_password:
        prompt, confirm = f"Current password of {preview.email}: ", None
    else:
        prompt, confirm = f"Choose a password for {preview.email}: ", "Type it again: "
    password = app.read_secret_input(from_stdin=args.password_stdin, prompt=prompt, confirm=confirm)
    session = kit.accept_join_invitation(token, password=password, name=args.name)
    kit.log_out(session)
    how = "with their personal account" if preview.user_exists else "with a new personal account"
    return app.out.answer(
        {
            "account_id": preview.account_id,
            "account_name": preview.account_name,
            "email": session.email,
            "user_id": session.user_id,
            "personal_account_created": not preview.user_exists,
            "role": Role.REGULAR_MEMBER,
        },
        f"{session.email} joined {preview.account_name} as a Regular Member, {how}",
    )


def invite_members(app: App, args: argparse.Namespace) -> int:
    """Invite people to join an account: typed emails or a CSV, then send in chunks."""
    account = app.account()
    kit, session = app.kit, app.session()
    if args.csv is not None and args.emails:
        raise UsageError("give email addresses or --csv, not both")
    if args.csv is None and not args.emails:
        raise UsageError("give the email addresses to invite, or --csv FILE")
    batch = kit.invite_members(
        session,
        account.account_id,
        None if args.csv is not None else list(args.emails),
        csv=Path(args.csv) if args.csv is not None else None,
        language=args.language,
        expires_in=args.expires,
        send=False,
    )
    skipped = list(batch.skipped)
    invited, failures = send_new(
        app,
        batch.invited,
        lambda ids: kit.send_join_invitations(session, account.account_id, invitation_ids=ids),
        no_send=args.no_send,
    )
    if app.out.json_mode:
        app.out.json(
            {
                "account_id": account.account_id,
                "invited": invited,
                "skipped": skipped,
                "undelivered": failures,
            }
        )
        return delivery_status(app, failures, _LATER)
    return print_invited(
        app,
        f"Invited {len(invited)} to join {account.account_name}:",
        invited,
        skipped,
        failures,
        sent=not args.no_send,
        later=_LATER,
    )


def list_invitations(app: App, args: argparse.Namespace) -> int:
    """List an account's join invitations and their state."""
    account = app.account()
    state = InvitationState(args.state) if args.state else None
    invitations = _invitations(app, account.account_id, state)
    if app.out.json_mode:
        app.out.json(invitations)
        return EXIT_OK
    people = app.people(account.account_id)
    app.out.line(f"Invitations to join {account.account_name}:")
    app.out.table(
        ["EMAIL", "STATE", "EMAIL SENT", "SENT", "EXPIRES", "INVITED BY", "ID"],
        [
            [
                i.email,
                i.state.value,
                i.delivery.value,
                str(i.sent_count),
                when(i.expires_at),
                people.get(i.invited_by, i.invited_by),
                i.id,
            ]
            for i in invitations
        ],
    )
    return EXIT_OK


def send_invitations(app: App, args: argparse.Namespace) -> int:
    """Send the join invitations not delivered yet (all of them, or those named)."""
    account = app.account()
    kit, session = app.kit, app.session()
    if args.ids:
        known = {i.id: i for i in _invitations(app, account.account_id, None)}
        missing = next((i for i in args.ids if i not in known), None)
        if missing is not None:
            raise UsageError(f"no invitation {echo(missing)} in this account")
        chosen = [known[i] for i in args.ids]
    else:
        chosen = [
            i
            for i in _invitations(app, account.account_id, InvitationState.PENDING)
            if i.delivery in UNDELIVERED
        ]
    _, sent, failures = send_chunks(
        app,
        chosen,
        lambda ids: kit.send_join_invitations(session, account.account_id, invitation_ids=ids),
    )
    return report_sent(app, sent, failures, later=_LATER)


def resend_invitation(app: App, args: argparse.Namespace) -> int:
    """Send one join invitation's email again, with the same link."""
    account = app.account()
    view = app.kit.resend_join_invitation(app.session(), account.account_id, args.id)
    return report_sent(app, [view], [], later=_LATER)


def revoke_invitation(app: App, args: argparse.Namespace) -> int:
    """Revoke a pending join invitation."""
    account = app.account()
    view = app.kit.revoke_join_invitation(app.session(), account.account_id, args.id)
    return app.out.answer(
        view, f"Revoked the invitation of {view.email} ({view.id}); its link no longer works"
    )


def _invitations(
    app: App, account_id: str, state: InvitationState | None
) -> list[JoinInvitationView]:
    """Return the account's join invitations (in *state*), every page of them."""
    limit = app.kit.settings.max_page_size
    return all_pages(
        lambda cursor: app.kit.list_join_invitations(
            app.session(), account_id, state=state, cursor=cursor, limit=limit
        )
    )
