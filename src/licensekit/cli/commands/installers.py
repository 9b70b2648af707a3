"""``licensekit installers``: invitations to install, each with a temporary activation code."""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

from licensekit import InstallInvitationState, InstallInvitationView
from licensekit.cli._app import App, all_pages
from licensekit.cli._errors import EXIT_OK, UsageError
from licensekit.cli._files import new_output_file
from licensekit.cli._options import add_invitation, add_key, add_recipients, positive, values_of
from licensekit.cli._output import when
from licensekit.cli._parser import Builder, Parser
from licensekit.cli._sending import (
    UNDELIVERED,
    delivery_status,
    print_invited,
    report_sent,
    send_chunks,
    send_new,
)

__all__ = [
    "define_installers",
    "export_invitations",
    "invite_installers",
    "list_invitations",
    "resend_invitation",
    "revoke_invitation",
    "send_invitations",
]

_LATER = "installers send"


def define_installers(parser: Parser, b: Builder) -> None:
    """Define ``licensekit installers ACTION``."""
    actions = b.actions(parser)
    p = b.command(actions, "invite", invite_installers, "Invite people to install", account=True)
    add_key(p)
    add_recipients(p)
    p.add_argument(
        "--max-activations",
        type=positive,
        default=1,
        metavar="N",
        help="computers each code may activate (default: 1)",
    )
    p = b.command(actions, "list", list_invitations, "List a key's invitations", account=True)
    add_key(p)
    p.add_argument("--state", choices=values_of(InstallInvitationState))
    p = b.command(
        actions,
        "export",
        export_invitations,
        "Export the invitations as CSV: email, temporary activation code, download URL",
        account=True,
    )
    add_key(p)
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
        actions, "send", send_invitations, "Send the invitations not delivered yet", account=True
    )
    add_key(p)
    add_invitation(p, many=True)
    p = b.command(actions, "resend", resend_invitation, "Send one invitation again", account=True)
    add_invitation(p)
    p = b.command(actions, "revoke", revoke_invitation, "Revoke an invitation", account=True)
    add_invitation(p)


def invite_installers(app: App, args: argparse.Namespace) -> int:
    """Invite people to install: typed emails or a CSV; created at once, then sent."""
    account = app.account()
    kit, session = app.kit, app.session()
    key = app.key(account.account_id, args.key)
    if args.csv is not None and args.emails:
        raise UsageError("give email addresses or --csv, not both")
    if args.csv is None and not args.emails:
        raise UsageError("give the email addresses to invite, or --csv FILE")
    batch = kit.invite_installers(
        session,
        account.account_id,
        key.id,
        None if args.csv is not None else list(args.emails),
        csv=Path(args.csv) if args.csv is not None else None,
        language=args.language,
        expires_in=args.expires,
        max_activations=args.max_activations,
        send=False,
    )
    invited, failures = send_new(
        app,
        batch.invited,
        lambda ids: kit.send_install_invitations(
            session, account.account_id, key.id, invitation_ids=ids
        ),
        no_send=args.no_send,
    )
    if app.out.json_mode:
        app.out.json(
            {
                "account_id": account.account_id,
                "key_id": key.id,
                "invited": invited,
                "skipped": batch.skipped,
                "undelivered": failures,
                "seats_free": batch.seats_free,
                "warnings": batch.warnings,
            }
        )
        return delivery_status(app, failures, _LATER)
    return print_invited(
        app,
        f"Invited {len(invited)} to install {key.product}:",
        invited,
        list(batch.skipped),
        failures,
        sent=not args.no_send,
        later=_LATER,
        warnings=batch.warnings,
    )


def list_invitations(app: App, args: argparse.Namespace) -> int:
    """List a key's invitations to install."""
    account = app.account()
    key = app.key(account.account_id, args.key)
    state = InstallInvitationState(args.state) if args.state else None
    invitations = _invitations(app, account.account_id, key.id, state)
    if app.out.json_mode:
        app.out.json(invitations)
        return EXIT_OK
    app.out.line(f"Invitations to install {key.product} ({key.id}):")
    app.out.table(
        ["EMAIL", "STATE", "EMAIL SENT", "ACTIVATIONS", "EXPIRES", "ID"],
        [
            [
                i.email,
                i.state.value,
                i.delivery.value,
                f"{i.activations}/{i.max_activations}",
                when(i.expires_at),
                i.id,
            ]
            for i in invitations
        ],
    )
    return EXIT_OK


def export_invitations(app: App, args: argparse.Namespace) -> int:
    """Write a key's invitations as CSV: email, temporary activation code, download URL."""
    account = app.account()
    key = app.key(account.account_id, args.key)
    text = app.kit.export_install_invitations(
        app.session(), account.account_id, key.id, include_unusable=args.all
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    if args.output is not None and args.output != "-":
        _write_private(Path(args.output), text)
        return app.out.answer(
            {"output": str(Path(args.output).resolve()), "invitations": len(rows)},
            f"Wrote {len(rows)} invitations to {args.output} (readable by you alone: it "
            "holds live activation codes)",
        )
    if app.out.json_mode:
        app.out.json(rows)
    else:
        app.out.text(text)
    return EXIT_OK


def _write_private(path: Path, text: str) -> None:
    with new_output_file(path) as file:
        file.write(text)


def send_invitations(app: App, args: argparse.Namespace) -> int:
    """Send the invitations to install not delivered yet (all of the key's, or those named)."""
    account = app.account()
    kit, session = app.kit, app.session()
    key = app.key(account.account_id, args.key)
    known = _invitations(app, account.account_id, key.id, None)
    if args.ids:
        by_id = {i.id: i for i in known}
        missing = [i for i in args.ids if i not in by_id]
        if missing:
            raise UsageError(f"not invitations of {key.product}: {', '.join(missing)}")
        chosen = [by_id[i] for i in dict.fromkeys(args.ids)]
    else:
        chosen = [
            i
            for i in known
            if i.delivery in UNDELIVERED
            and i.state not in (InstallInvitationState.EXPIRED, InstallInvitationState.REVOKED)
        ]
    _, sent, failures = send_chunks(
        app,
        chosen,
        lambda ids: kit.send_install_invitations(
            session, account.account_id, key.id, invitation_ids=ids
        ),
    )
    return report_sent(app, sent, failures, later=_LATER)


def resend_invitation(app: App, args: argparse.Namespace) -> int:
    """Send one invitation to install again, with the same code and link."""
    account = app.account()
    view = app.kit.resend_install_invitation(app.session(), account.account_id, args.id)
    return report_sent(app, [view], [], later=_LATER)


def revoke_invitation(app: App, args: argparse.Namespace) -> int:
    """Revoke an invitation to install: its code and link stop working."""
    account = app.account()
    view = app.kit.revoke_install_invitation(app.session(), account.account_id, args.id)
    return app.out.answer(
        view,
        f"Revoked the invitation of {view.email} ({view.id}); its code and link no longer work",
    )


def _invitations(
    app: App, account_id: str, key_id: str, state: InstallInvitationState | None
) -> list[InstallInvitationView]:
    """Return the key's invitations to install (in *state*), every page of them."""
    limit = app.kit.settings.max_page_size
    return all_pages(
        lambda cursor: app.kit.list_install_invitations(
            app.session(), account_id, key_id, state=state, cursor=cursor, limit=limit
        )
    )
