"""The commands: each takes the :class:`~licensekit.cli._app.App` and the parsed arguments.

Each prints its result (a table for people, JSON with ``--json``) and returns the exit
status. Refusals are not caught here: the library's exceptions travel up to
:func:`licensekit.cli.main`, which turns them into one line on standard error and status 1.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import attrs

from licensekit import (
    DeliveryFailure,
    DeliveryReport,
    DeliveryStatus,
    EmailList,
    InstallInvitationState,
    InstallInvitationView,
    InvitationState,
    JoinInvitationView,
    LicenseKeyView,
    MemberView,
    RejectedEmail,
    Role,
    normalize_email,
    parse_email_csv,
)
from licensekit._echo import echo, echo_path
from licensekit.cli._app import SECRET_VARIABLE, App, all_pages, token_from
from licensekit.cli._errors import EXIT_OK, EXIT_REFUSED, CommandError, UsageError
from licensekit.cli._files import is_folder, stat_or_none
from licensekit.cli._mailbox import Letter, find_code, find_link, read_folder
from licensekit.cli._output import clean, when
from licensekit.cli._progress import Progress
from licensekit.cli._secret import create_secret_file, parse_secret, read_secret_file
from licensekit.mailers import FileMailer

__all__: list[str] = []  # the handlers are reached through the parser

ViewT = TypeVar("ViewT", InstallInvitationView, JoinInvitationView)

SEND_CHUNK = 25
"""Invitations sent per library call, so that the progress bar moves."""

# Sending (claimed by a call that may have died) is left to the library to judge.
_UNDELIVERED = (DeliveryStatus.NOT_SENT, DeliveryStatus.FAILED, DeliveryStatus.SENDING)

ROLE_NAMES = {
    Role.REGULAR_MEMBER: "Regular Member",
    Role.ACCOUNT_ADMINISTRATOR: "Account Administrator",
}
ROLE_CHOICES = {
    "account_administrator": Role.ACCOUNT_ADMINISTRATOR,
    "admin": Role.ACCOUNT_ADMINISTRATOR,
    "regular_member": Role.REGULAR_MEMBER,
    "member": Role.REGULAR_MEMBER,
}


# == setting up =========================================================================


def init(app: App, args: argparse.Namespace) -> int:
    """Create the database and its secret file; never overwrite either."""
    from licensekit.stores.sqlite import SQLiteStore

    c = app.config
    if not is_folder(c.db.parent):
        raise CommandError(f"the folder of {echo_path(c.db)} does not exist")
    found = stat_or_none(c.db)
    if found is not None and not stat.S_ISREG(found.st_mode):
        raise CommandError(f"{echo_path(c.db)} is not a database file")
    new_db = found is None or found.st_size == 0  # an empty file is made a database
    if not new_db:
        SQLiteStore(c.db).close()  # a file that is not licensekit's is refused, untouched
    new_secret = False
    environ_secret = app.console.environ.get(SECRET_VARIABLE, "")
    if environ_secret:
        parse_secret(environ_secret, SECRET_VARIABLE)
    elif stat_or_none(c.secret_file) is not None:
        read_secret_file(c.secret_file)
    elif not new_db:
        raise CommandError(
            f"the database {echo_path(c.db)} exists but its secret file {echo_path(c.secret_file)} "
            "does not; a new secret would make its stored codes and links unreadable. Restore "
            "the file, or point LICENSEKIT_SECRET_FILE at it"
        )
    else:
        create_secret_file(c.secret_file)
        new_secret = True
    if new_db:
        try:
            app.open(create=True)
        except BaseException:
            if new_secret:
                c.secret_file.unlink(missing_ok=True)
            raise
    secret_where = SECRET_VARIABLE if environ_secret else str(c.secret_file.resolve())
    if app.out.json_mode:
        app.out.json(
            {
                "database": str(c.db.resolve()),
                "database_created": new_db,
                "secret": secret_where,
                "secret_created": new_secret,
                "mail": _mail_destination(app),
            }
        )
        return EXIT_OK
    app.out.fields(
        [
            ("Database", f"{c.db.resolve()} ({'created' if new_db else 'exists already'})"),
            (
                "Secret",
                f"{secret_where} ("
                + (
                    "created, readable by you alone; back it up"
                    if new_secret
                    else "from the environment"
                    if environ_secret
                    else "exists already"
                )
                + ")",
            ),
            ("Emails", _mail_destination(app)),
        ]
    )
    if new_db:
        app.out.line("Next: licensekit register EMAIL --name NAME")
    return EXIT_OK


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
    if app.out.json_mode:
        app.out.json(
            {
                "account_id": preview.account_id,
                "account_name": preview.account_name,
                "email": session.email,
                "user_id": session.user_id,
                "personal_account_created": not preview.user_exists,
                "role": Role.REGULAR_MEMBER,
            }
        )
        return EXIT_OK
    how = "with their personal account" if preview.user_exists else "with a new personal account"
    app.out.line(f"{session.email} joined {preview.account_name} as a Regular Member, {how}")
    return EXIT_OK


# == business accounts and members ======================================================


def accounts_create(app: App, args: argparse.Namespace) -> int:
    """Create a business account; the acting user becomes its Account Administrator."""
    account = app.kit.create_business_account(app.session(), args.name)
    if app.out.json_mode:
        app.out.json(account)
    else:
        app.out.line(
            f"Created business account {account.name} ({account.id}); "
            f"{app.session().email} is its Account Administrator"
        )
    return EXIT_OK


def accounts_list(app: App, args: argparse.Namespace) -> int:
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


def members_list(app: App, args: argparse.Namespace) -> int:
    """List an account's members with their roles."""
    account = app.account()
    members = app.members(account.account_id, include_removed=args.all)
    if app.out.json_mode:
        app.out.json(members)
        return EXIT_OK
    products = _products(app, account.account_id)
    app.out.line(f"Members of {account.account_name}:")
    app.out.table(
        ["EMAIL", "NAME", "ROLE", "STATUS", "JOINED", "NOTES"],
        [
            [m.email, m.name, _role(m, products), m.status.value, when(m.joined_at), m.notes]
            for m in members
        ],
    )
    return EXIT_OK


def members_show(app: App, args: argparse.Namespace) -> int:
    """Show one member: role, status, who changed it last, the notes."""
    account = app.account()
    member = app.member(account.account_id, args.member)
    if app.out.json_mode:
        app.out.json(member)
        return EXIT_OK
    people = app.people(account.account_id)
    app.out.fields(
        [
            ("Email", member.email),
            ("Name", member.name),
            ("User id", member.user_id),
            ("Account", account.account_name),
            ("Role", _role(member, _products(app, account.account_id))),
            ("Status", member.status.value),
            ("Joined", when(member.joined_at)),
            ("Changed", when(member.updated_at)),
            ("Changed by", people.get(member.changed_by or "", member.changed_by or "")),
            ("Notes", member.notes),
        ]
    )
    return EXIT_OK


def members_invite(app: App, args: argparse.Namespace) -> int:
    """Invite people to join an account: typed emails or a CSV, then send in chunks."""
    account = app.account()
    kit, session = app.kit, app.session()
    parsed: EmailList | None = None
    if args.csv is not None:
        if args.emails:
            raise UsageError("give email addresses or --csv, not both")
        parsed = parse_email_csv(Path(args.csv), max_entries=kit.settings.max_batch_size)
        entries: list[str] = list(parsed.emails)
    elif args.emails:
        entries = list(args.emails)
    else:
        raise UsageError("give the email addresses to invite, or --csv FILE")
    batch = kit.invite_members(
        session,
        account.account_id,
        entries,
        language=args.language,
        expires_in=args.expires,
        send=False,
    )
    skipped = list(batch.skipped)
    if parsed is not None:  # the library counted positions in the list; report CSV rows
        skipped = [
            *parsed.rejected,
            *parsed.duplicates,
            *(RejectedEmail(parsed.rows[s.row - 1], s.text, s.reason) for s in skipped),
        ]
        skipped.sort(key=lambda s: s.row)
    invited = list(batch.invited)
    failures: list[DeliveryFailure] = []
    if not args.no_send and invited:
        invited, _, failures = _send_chunks(
            app,
            invited,
            lambda ids: kit.send_join_invitations(session, account.account_id, invitation_ids=ids),
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
        return _delivery_status(app, failures, "members send")
    app.out.line(f"Invited {len(invited)} to join {account.account_name}:")
    app.out.table(
        ["EMAIL", "INVITATION", "LANGUAGE", "EXPIRES", "EMAIL SENT"],
        [[i.email, i.id, i.language, when(i.expires_at), i.delivery.value] for i in invited],
    )
    _print_skipped(app, skipped)
    _print_sending(app, invited, failures, sent=not args.no_send, later="members send")
    return _delivery_status(app, failures, "members send")


def members_invitations(app: App, args: argparse.Namespace) -> int:
    """List an account's join invitations and their state."""
    account = app.account()
    limit = app.kit.settings.max_page_size
    invitations = all_pages(
        lambda cursor: app.kit.list_join_invitations(
            app.session(), account.account_id, state=args.state, cursor=cursor, limit=limit
        )
    )
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


def members_send(app: App, args: argparse.Namespace) -> int:
    """Send the join invitations not delivered yet (all of them, or those named)."""
    account = app.account()
    kit, session = app.kit, app.session()
    if args.ids:
        chosen = [_join_invitation(app, account.account_id, i) for i in args.ids]
    else:
        limit = kit.settings.max_page_size
        chosen = [
            i
            for i in all_pages(
                lambda cursor: kit.list_join_invitations(
                    session,
                    account.account_id,
                    state=InvitationState.PENDING,
                    cursor=cursor,
                    limit=limit,
                )
            )
            if i.delivery in _UNDELIVERED
        ]
    _, sent, failures = _send_chunks(
        app,
        chosen,
        lambda ids: kit.send_join_invitations(session, account.account_id, invitation_ids=ids),
    )
    return _report_sent(app, sent, failures, later="members send")


def members_resend(app: App, args: argparse.Namespace) -> int:
    """Send one join invitation's email again, with the same link."""
    account = app.account()
    view = app.kit.resend_join_invitation(app.session(), account.account_id, args.id)
    return _report_sent(app, [view], [], later="members send")


def members_revoke(app: App, args: argparse.Namespace) -> int:
    """Revoke a pending join invitation."""
    account = app.account()
    view = app.kit.revoke_join_invitation(app.session(), account.account_id, args.id)
    if app.out.json_mode:
        app.out.json(view)
    else:
        app.out.line(
            f"Revoked the invitation of {view.email} ({view.id}); its link no longer works"
        )
    return EXIT_OK


def members_role(app: App, args: argparse.Namespace) -> int:
    """Change a member's role, with notes."""
    account = app.account()
    member = app.member(account.account_id, args.member)
    role = ROLE_CHOICES[args.role]
    view = app.kit.change_role(
        app.session(),
        account.account_id,
        member.user_id,
        role,
        notes=args.notes,
        notify=args.notify,
        language=args.language,
    )
    if app.out.json_mode:
        app.out.json(view)
        return EXIT_OK
    app.out.line(f"{view.email} is now {ROLE_NAMES[view.role]} in {account.account_name}")
    if view.role is Role.ACCOUNT_ADMINISTRATOR and member.role is not view.role:
        app.out.line(
            "The promotion takes effect at their next log-in (with this tool: their next command)"
        )
    return EXIT_OK


def members_block(app: App, args: argparse.Namespace) -> int:
    """Block a member: kept, but powerless, at once."""
    return _change_member(app, args, "blocked", "block_member")


def members_unblock(app: App, args: argparse.Namespace) -> int:
    """Unblock a member: they get back the role they had."""
    return _change_member(app, args, "unblocked", "unblock_member")


def members_remove(app: App, args: argparse.Namespace) -> int:
    """Remove a member; they can be invited again."""
    return _change_member(app, args, "removed from", "remove_member")


def _change_member(app: App, args: argparse.Namespace, done: str, method: str) -> int:
    account = app.account()
    member = app.member(account.account_id, args.member)
    options: dict[str, object] = {"notes": args.notes}
    if method != "unblock_member":
        options.update(notify=args.notify, language=args.language)
    view: MemberView = getattr(app.kit, method)(
        app.session(), account.account_id, member.user_id, **options
    )
    if app.out.json_mode:
        app.out.json(view)
    elif method == "remove_member":
        app.out.line(f"{view.email} was removed from {account.account_name}")
    else:
        app.out.line(f"{view.email} is {done} in {account.account_name}")
    return EXIT_OK


# == license keys =======================================================================


def keys_add(app: App, args: argparse.Namespace) -> int:
    """Add a license key; its value is read unseen, or from standard input."""
    account = app.account()
    value = app.read_secret_input(
        from_stdin=args.value_stdin, prompt="License key value: ", confirm=None
    )
    key = app.kit.add_license_key(
        app.session(),
        account.account_id,
        product=args.product,
        value=value,
        seats=args.seats,
        expires_at=args.expires,
    )
    return _show_key(
        app, key, f"Added a {key.seats}-seat key for {key.product} to {account.account_name}"
    )


def keys_list(app: App, args: argparse.Namespace) -> int:
    """List the account's license keys with their seats."""
    account = app.account()
    keys = app.keys(account.account_id, include_removed=args.all)
    if app.out.json_mode:
        app.out.json(keys)
        return EXIT_OK
    app.out.line(f"License keys of {account.account_name}:")
    app.out.table(
        ["PRODUCT", "SEATS", "USED", "FREE", "STATUS", "EXPIRES", "VALUE", "ID"],
        [
            [
                k.product,
                str(k.seats),
                str(k.seats_used),
                str(k.seats_free),
                k.status.value,
                when(k.expires_at) or "never",
                k.masked_value or "",
                k.id,
            ]
            for k in keys
        ],
    )
    return EXIT_OK


def keys_show(app: App, args: argparse.Namespace) -> int:
    """Show one license key."""
    account = app.account()
    key = app.key(account.account_id, args.key)
    return _show_key(app, key, None)


def keys_change(app: App, args: argparse.Namespace) -> int:
    """Change a key's seats or expiry."""
    account = app.account()
    key = app.key(account.account_id, args.key)
    if args.seats is None and args.expires is None and not args.no_expiry:
        raise UsageError("give --seats N, --expires DATE or --no-expiry")
    changed = app.kit.change_license_key(
        app.session(),
        account.account_id,
        key.id,
        seats=args.seats,
        expires_at=args.expires,
        clear_expiry=args.no_expiry,
    )
    return _show_key(app, changed, f"Changed the key for {changed.product}")


def keys_suspend(app: App, args: argparse.Namespace) -> int:
    """Suspend a key: nothing activates with it."""
    return _key_status(app, args, "suspend_license_key", "Suspended")


def keys_resume(app: App, args: argparse.Namespace) -> int:
    """Make a suspended or removed key active again."""
    return _key_status(app, args, "resume_license_key", "Resumed")


def keys_remove(app: App, args: argparse.Namespace) -> int:
    """Remove a key that no installation holds a seat of."""
    return _key_status(app, args, "remove_license_key", "Removed")


def _key_status(app: App, args: argparse.Namespace, method: str, done: str) -> int:
    account = app.account()
    key = app.key(account.account_id, args.key)
    changed: LicenseKeyView = getattr(app.kit, method)(app.session(), account.account_id, key.id)
    return _show_key(app, changed, f"{done} the key for {changed.product}")


def _show_key(app: App, key: LicenseKeyView, headline: str | None) -> int:
    if app.out.json_mode:
        app.out.json(key)
        return EXIT_OK
    if headline:
        app.out.line(headline)
    app.out.fields(
        [
            ("Key", key.id),
            ("Product", key.product),
            ("Seats", f"{key.seats} ({key.seats_used} used, {key.seats_free} free)"),
            ("Status", key.status.value),
            ("Expires", when(key.expires_at) or "never"),
            ("Value", key.masked_value or "(hidden)"),
        ]
    )
    return EXIT_OK


def keys_grant(app: App, args: argparse.Namespace) -> int:
    """Make a Regular Member License Administrator of a key."""
    return _grant(app, args, grant=True)


def keys_revoke(app: App, args: argparse.Namespace) -> int:
    """End a member's License Administrator rights over a key."""
    return _grant(app, args, grant=False)


def _grant(app: App, args: argparse.Namespace, *, grant: bool) -> int:
    account = app.account()
    key = app.key(account.account_id, args.key)
    member = app.member(account.account_id, args.member)
    change = app.kit.grant_license_administrator if grant else app.kit.revoke_license_administrator
    view = change(app.session(), account.account_id, member.user_id, key.id)
    if app.out.json_mode:
        app.out.json(view)
    elif grant:
        app.out.line(f"{view.email} is now License Administrator of {key.product} ({key.id})")
    else:
        app.out.line(f"{view.email} is no longer License Administrator of {key.product}")
    return EXIT_OK


# == invitations to install =============================================================


def installers_invite(app: App, args: argparse.Namespace) -> int:
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
    invited = list(batch.invited)
    failures: list[DeliveryFailure] = []
    if not args.no_send and invited:
        invited, _, failures = _send_chunks(
            app,
            invited,
            lambda ids: kit.send_install_invitations(
                session, account.account_id, key.id, invitation_ids=ids
            ),
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
        return _delivery_status(app, failures, "installers send")
    app.out.line(f"Invited {len(invited)} to install {key.product}:")
    app.out.table(
        ["EMAIL", "INVITATION", "LANGUAGE", "EXPIRES", "EMAIL SENT"],
        [[i.email, i.id, i.language, when(i.expires_at), i.delivery.value] for i in invited],
    )
    _print_skipped(app, list(batch.skipped))
    for warning in batch.warnings:
        app.out.line(f"Warning: {warning}")
    _print_sending(app, invited, failures, sent=not args.no_send, later="installers send")
    return _delivery_status(app, failures, "installers send")


def installers_list(app: App, args: argparse.Namespace) -> int:
    """List a key's invitations to install."""
    account = app.account()
    key = app.key(account.account_id, args.key)
    invitations = _install_invitations(app, account.account_id, key.id, args.state)
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


def installers_export(app: App, args: argparse.Namespace) -> int:
    """Write a key's invitations as CSV: email, temporary activation code, download URL."""
    account = app.account()
    key = app.key(account.account_id, args.key)
    text = app.kit.export_install_invitations(
        app.session(), account.account_id, key.id, include_unusable=args.all
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    if args.output is not None and args.output != "-":
        _write_private(Path(args.output), text)
        if app.out.json_mode:
            app.out.json({"output": str(Path(args.output).resolve()), "invitations": len(rows)})
        else:
            app.out.line(
                f"Wrote {len(rows)} invitations to {args.output} (readable by you alone: it "
                "holds live activation codes)"
            )
        return EXIT_OK
    if app.out.json_mode:
        app.out.json(rows)
    else:
        app.out.text(text)
    return EXIT_OK


def _write_private(path: Path, text: str) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags, 0o600)
    except FileExistsError:
        raise CommandError(f"{echo_path(path)} exists already; choose another --output") from None
    except OSError as e:
        raise CommandError(f"cannot create {echo_path(path)}: {e.strerror}") from None
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as file:
        file.write(text)


def installers_send(app: App, args: argparse.Namespace) -> int:
    """Send the invitations to install not delivered yet (all of the key's, or those named)."""
    account = app.account()
    kit, session = app.kit, app.session()
    key = app.key(account.account_id, args.key)
    known = _install_invitations(app, account.account_id, key.id, None)
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
            if i.delivery in _UNDELIVERED
            and i.state not in (InstallInvitationState.EXPIRED, InstallInvitationState.REVOKED)
        ]
    _, sent, failures = _send_chunks(
        app,
        chosen,
        lambda ids: kit.send_install_invitations(
            session, account.account_id, key.id, invitation_ids=ids
        ),
    )
    return _report_sent(app, sent, failures, later="installers send")


def installers_resend(app: App, args: argparse.Namespace) -> int:
    """Send one invitation to install again, with the same code and link."""
    account = app.account()
    view = app.kit.resend_install_invitation(app.session(), account.account_id, args.id)
    return _report_sent(app, [view], [], later="installers send")


def installers_revoke(app: App, args: argparse.Namespace) -> int:
    """Revoke an invitation to install: its code and link stop working."""
    account = app.account()
    view = app.kit.revoke_install_invitation(app.session(), account.account_id, args.id)
    if app.out.json_mode:
        app.out.json(view)
    else:
        app.out.line(
            f"Revoked the invitation of {view.email} ({view.id}); its code and link no longer work"
        )
    return EXIT_OK


def _install_invitations(
    app: App, account_id: str, key_id: str, state: str | None
) -> list[InstallInvitationView]:
    limit = app.kit.settings.max_page_size
    return all_pages(
        lambda cursor: app.kit.list_install_invitations(
            app.session(),
            account_id,
            key_id,
            state=InstallInvitationState(state) if state else None,
            cursor=cursor,
            limit=limit,
        )
    )


def _join_invitation(app: App, account_id: str, invitation_id: str) -> JoinInvitationView:
    limit = app.kit.settings.max_page_size
    for invitation in all_pages(
        lambda cursor: app.kit.list_join_invitations(
            app.session(), account_id, cursor=cursor, limit=limit
        )
    ):
        if invitation.id == invitation_id:
            return invitation
    raise UsageError(f"no invitation {echo(invitation_id)} in this account")


# == activation and installations =======================================================


def activate(app: App, args: argparse.Namespace) -> int:
    """Activate a computer with a temporary activation code or a download link's token."""
    kit = app.kit
    if args.code is not None:
        result = kit.activate(
            code=args.code,
            computer_id=args.computer_id,
            computer_name=args.computer_name,
            product=args.product,
        )
    else:
        result = kit.activate(
            token=token_from(args.token, app.config.download_url),
            computer_id=args.computer_id,
            computer_name=args.computer_name,
            product=args.product,
        )
    if app.out.json_mode:
        app.out.json(result)  # without the installation token, hidden from repr
        return EXIT_OK
    computer = (
        f"{args.computer_name} ({result.computer_id})"
        if args.computer_name
        else (result.computer_id)
    )
    if result.already_active:
        app.out.line(f"{computer} holds a seat of {result.product} already; no other was taken")
    else:
        app.out.line(f"Activated {result.product} on {computer} for {result.email}")
    return EXIT_OK


def installations_list(app: App, args: argparse.Namespace) -> int:
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
                i.status.value,
                i.id,
            ]
            for i in installations
        ],
    )
    return EXIT_OK


def installations_deactivate(app: App, args: argparse.Namespace) -> int:
    """Deactivate an installation (by id or computer id); its seat is free at once."""
    account = app.account()
    target = app.installation(account.account_id, args.installation, args.key)
    view = app.kit.deactivate_installation(app.session(), account.account_id, target)
    if app.out.json_mode:
        app.out.json(view)
    else:
        name = view.computer_name or view.computer_id
        app.out.line(f"Deactivated {name} ({view.computer_id}, {view.email}); its seat is free")
    return EXIT_OK


def installations_block(app: App, args: argparse.Namespace) -> int:
    """Block an installation's computer from activating again."""
    account = app.account()
    target = app.installation(account.account_id, args.installation, args.key)
    block = app.kit.block_computer(app.session(), account.account_id, target, notes=args.notes)
    if app.out.json_mode:
        app.out.json(block)
    else:
        scope = "every key of the account" if block.key_id is None else f"key {block.key_id}"
        app.out.line(f"Blocked computer {block.computer_id} under {scope}")
    return EXIT_OK


def installations_unblock(app: App, args: argparse.Namespace) -> int:
    """Lift a computer's block."""
    account = app.account()
    key_id = app.key(account.account_id, args.key).id if args.key else None
    app.kit.unblock_computer(app.session(), account.account_id, args.computer_id, key_id=key_id)
    if app.out.json_mode:
        app.out.json({"computer_id": args.computer_id, "key_id": key_id, "unblocked": True})
    else:
        app.out.line(f"Computer {args.computer_id} may activate again")
    return EXIT_OK


def installations_blocked(app: App, args: argparse.Namespace) -> int:
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


def audit(app: App, args: argparse.Namespace) -> int:
    """Show an account's audit trail, oldest first."""
    account = app.account()
    limit = app.kit.settings.max_page_size
    events = all_pages(
        lambda cursor: app.kit.list_audit_events(
            app.session(), account.account_id, cursor=cursor, limit=limit
        )
    )
    if args.limit is not None:
        events = events[-args.limit :]
    if app.out.json_mode:
        app.out.json(events)
        return EXIT_OK
    people = {**app.people(account.account_id), account.account_id: account.account_name}
    products = _products(app, account.account_id)
    app.out.line(f"Audit trail of {account.account_name}:")
    app.out.table(
        ["TIME", "ACTION", "BY", "SUBJECT", "DETAILS"],
        [
            [
                when(e.at),
                e.action.value,
                people.get(e.actor_id, e.actor_id) or "(installer)",
                *_audit_subject(e.subject, dict(e.details), people, products),
            ]
            for e in events
        ],
    )
    return EXIT_OK


def _audit_subject(
    subject: str, details: dict[str, str], people: dict[str, str], products: dict[str, str]
) -> tuple[str, str]:
    """Return an event's subject and details as people read them: emails and products."""
    if subject in people:
        subject = people[subject]
    elif subject in products:
        subject = products[subject]
    elif "email" in details:  # an invitation or an installation: whose it is says more
        subject = details.pop("email")
    details.pop("invitation_id", None)
    if details.get("key_id") in products:
        details["key"] = products[details.pop("key_id")]
    if "expires_at" in details:
        details["expires_at"] = _short_time(details["expires_at"])
    return subject, " ".join(f"{k}={_short(v)}" for k, v in sorted(details.items()))


def _short_time(text: str) -> str:
    try:
        return when(dt.datetime.fromisoformat(text))
    except ValueError:  # pragma: no cover - the library writes ISO 8601
        return text


def _short(value: str, most: int = 40) -> str:
    value = clean(value)
    return value if len(value) <= most else value[: most - 3] + "..."


# == lock-outs ==========================================================================


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
    app.out.line(f"Lifted {_count(lifted, 'lock') if lifted else 'no lock'} ({', '.join(names)})")
    return EXIT_OK


# == the mail folder ====================================================================


def mail_list(app: App, args: argparse.Namespace) -> int:
    """List the messages the file mailer wrote, oldest first."""
    letters = _letters(app, args.to, None)
    if app.out.json_mode:
        app.out.json(letters)
        return EXIT_OK
    app.out.line(f"Messages in {app.config.mail_dir}:")
    app.out.table(
        ["TIME", "TO", "KIND", "SUBJECT", "FILE"],
        [[when(m.date), m.to, m.kind, m.subject, m.path.name] for m in letters],
    )
    return EXIT_OK


def mail_show(app: App, args: argparse.Namespace) -> int:
    """Show the latest message (to someone, of a kind), or only its link or code."""
    letters = _letters(app, args.to, args.kind)
    if not letters:
        who = f" to {args.to}" if args.to else ""
        raise CommandError(f"no message{who} in {echo_path(app.config.mail_dir)}")
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
        if app.out.json_mode:
            app.out.json({"code" if args.code else "link": found, "file": letter.path})
        else:
            app.out.line(found)
        return EXIT_OK
    if app.out.json_mode:
        app.out.json({**_letter_fields(letter), "text": letter.text})
        return EXIT_OK
    app.out.fields([("File", letter.path), ("To", letter.to), ("Subject", letter.subject)])
    app.out.line()
    for text in letter.text.splitlines():
        app.out.line(clean(text))
    return EXIT_OK


def _letter_fields(letter: Letter) -> dict[str, object]:
    return {"file": letter.path, "to": letter.to, "subject": letter.subject, "kind": letter.kind}


def _letters(app: App, to: str | None, kind: str | None) -> list[Letter]:
    mailer = app.mailer()
    if not isinstance(mailer, FileMailer):
        raise CommandError(
            "the mail commands read the file mailer's folder, but SMTP is configured"
        )
    letters = read_folder(app.config.mail_dir)
    if to:
        wanted = to.strip().lower()
        letters = [m for m in letters if m.to.lower() == wanted]
    if kind:
        letters = [m for m in letters if m.kind == kind]
    return letters


# == shared pieces ======================================================================


def _send_chunks(
    app: App,
    views: Sequence[ViewT],
    send: Callable[[list[str]], DeliveryReport[ViewT]],
) -> tuple[list[ViewT], list[ViewT], list[DeliveryFailure]]:
    """Send the invitations *views* a chunk at a time, with a progress bar on a terminal.

    The library sends only those still due (it skips any another call is sending).

    Returns:
        Every view as it stands afterwards (in the order given), those sent, the failures.
    """
    latest = {v.id: v for v in views}
    sent: list[ViewT] = []
    failures: list[DeliveryFailure] = []
    ids = list(latest)
    with Progress(len(ids), "Sending", app.console.stderr) as bar:
        for start in range(0, len(ids), SEND_CHUNK):
            chunk = ids[start : start + SEND_CHUNK]
            report = send(chunk)
            latest.update((v.id, v) for v in report.sent)
            sent.extend(report.sent)
            failures.extend(report.undelivered)
            for failure in report.undelivered:  # as the library stored it
                view = latest[failure.invitation_id]
                latest[view.id] = attrs.evolve(
                    view,
                    delivery=DeliveryStatus.REFUSED if failure.permanent else DeliveryStatus.FAILED,
                    delivery_attempts=view.delivery_attempts + 1,
                    delivery_error=failure.reason,
                )
            bar.advance(len(chunk))
    return [latest[i] for i in ids], sent, failures


def _report_sent(
    app: App, sent: Sequence[ViewT], failures: Sequence[DeliveryFailure], *, later: str
) -> int:
    if app.out.json_mode:
        app.out.json({"sent": list(sent), "undelivered": list(failures)})
        return _delivery_status(app, failures, later)
    app.out.line(f"{_count(len(sent), 'email')} {_mail_verb(app)}")
    if failures:
        _print_failures(app, failures)
    return _delivery_status(app, failures, later)


def _print_sending(
    app: App,
    invited: Sequence[ViewT],
    failures: Sequence[DeliveryFailure],
    *,
    sent: bool,
    later: str,
) -> None:
    if not invited:
        return
    if not sent:
        app.out.line(f"No email was sent; send them with: licensekit {later}")
        return
    delivered = sum(1 for v in invited if v.delivery is DeliveryStatus.SENT)
    app.out.line(f"{_count(delivered, 'email')} {_mail_verb(app)}")
    if failures:
        _print_failures(app, failures)


def _print_failures(app: App, failures: Sequence[DeliveryFailure]) -> None:
    app.out.line("Not delivered:")
    app.out.table(
        ["EMAIL", "INVITATION", "RETRY", "REASON"],
        [[f.email, f.invitation_id, "no" if f.permanent else "yes", f.reason] for f in failures],
        indent="  ",
    )


def _delivery_status(app: App, failures: Sequence[DeliveryFailure], later: str) -> int:
    if not failures:
        return EXIT_OK
    app.console.stderr.write(
        f"licensekit: {_count(len(failures), 'email')} not delivered; the invitations are "
        f"stored: send them again with 'licensekit {later}'\n"
    )
    return EXIT_REFUSED


def _print_skipped(app: App, skipped: Sequence[RejectedEmail]) -> None:
    if not skipped:
        return
    app.out.line("Skipped:")
    for s in skipped:
        app.out.line(f"  row {s.row}: {echo(clean(s.text))}: {clean(s.reason)}")


def _mail_destination(app: App) -> str:
    c = app.config
    if c.smtp_host is not None:
        return f"SMTP server {c.smtp_host} ({c.smtp_security})"
    return f"{c.mail_dir.resolve()} (.eml files)"


def _mail_verb(app: App) -> str:
    c = app.config
    if c.smtp_host is not None:
        return f"sent through {c.smtp_host}"
    return f"written to {c.mail_dir}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _products(app: App, account_id: str) -> dict[str, str]:
    return {k.id: k.product for k in app.keys(account_id, include_removed=True)}


def _role(member: MemberView, products: dict[str, str]) -> str:
    role = ROLE_NAMES[member.role]
    if member.license_keys:
        keys = ", ".join(products.get(k, k) for k in member.license_keys)
        role += f", License Administrator of {keys}"
    return role
