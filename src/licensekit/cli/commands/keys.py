"""``licensekit keys``: license keys, their seats and pools, and who administers each."""

from __future__ import annotations

import argparse
import datetime as dt

from licensekit import LicenseKeyView
from licensekit.cli._app import App
from licensekit.cli._errors import EXIT_OK, UsageError
from licensekit.cli._options import add_member, duration, moment, positive
from licensekit.cli._output import plural, when
from licensekit.cli._parser import Actions, Builder, Parser

__all__ = [
    "add_additional",
    "add_key",
    "change_key",
    "define_keys",
    "grant",
    "grant_keys",
    "list_keys",
    "remove_key",
    "renew_key",
    "replace_key",
    "resume_key",
    "revoke",
    "revoke_keys",
    "show_key",
    "show_pool",
    "suspend_key",
]

_KEY_HELP = "the key's id or product name"


def define_keys(parser: Parser, b: Builder) -> None:
    """Define ``licensekit keys ACTION``."""
    actions = b.actions(parser)
    p = b.command(actions, "add", add_key, "Add a license key", account=True)
    p.add_argument("--product", required=True)
    p.add_argument("--seats", type=positive, required=True)
    p.add_argument("--expires", type=moment, metavar="DATE", help="when it stops activating")
    p.add_argument(
        "--value-stdin",
        action="store_true",
        help="read the key's value from standard input instead of asking",
    )
    _liveness(p)
    b.command(actions, "list", list_keys, "List the license keys", account=True).add_argument(
        "--all", action="store_true", help="include removed keys"
    )
    _key(b.command(actions, "show", show_key, "Show a key", account=True))
    p = b.command(
        actions, "change", change_key, "Change a key's seats, expiry or liveness", account=True
    )
    _key(p)
    p.add_argument("--seats", type=positive)
    expiry = p.add_mutually_exclusive_group()
    expiry.add_argument("--expires", type=moment, metavar="DATE")
    expiry.add_argument("--no-expiry", action="store_true", help="never expire")
    culling = _liveness(p)
    culling.add_argument(
        "--never-cull", action="store_true", help="stop culling installations that go silent"
    )
    p = b.command(
        actions, "renew", renew_key, "Renew a key, counted from its old expiry", account=True
    )
    _key(p)
    p.add_argument(
        "--by", type=duration, required=True, metavar="DURATION", help="how long, such as 365d"
    )
    for name, handler, summary in (
        ("suspend", suspend_key, "Suspend a key: nothing activates with it"),
        ("resume", resume_key, "Make a suspended or removed key active again"),
        ("remove", remove_key, "Remove a key no installation holds"),
    ):
        _key(b.command(actions, name, handler, summary, account=True))
    p = b.command(
        actions,
        "replace",
        replace_key,
        "Replace a key (a leaked one) by a new value: its installations, codes and License "
        "Administrators move to the new key, and the old one is removed",
        account=True,
    )
    _key(p)
    p.add_argument(
        "--value-stdin",
        action="store_true",
        help="read the new value from standard input instead of asking",
    )
    for name, handler, summary in (
        ("grant", grant, "Make a Regular Member License Administrator of a key"),
        ("revoke", revoke, "End a member's License Administrator rights over a key"),
    ):
        p = b.command(actions, name, handler, summary, account=True)
        _key(p)
        add_member(p)
    _define_additional_keys(actions, b)


def _key(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("key", metavar="KEY", help=_KEY_HELP)


def _liveness(parser: argparse.ArgumentParser) -> argparse._MutuallyExclusiveGroup:
    """Add the options of a key's grace, check-in interval and culling.

    Returns:
        The culling option's group: ``keys change`` adds ``--never-cull`` to it.
    """
    parser.add_argument(
        "--grace",
        type=duration,
        metavar="DURATION",
        help="how long installations keep running after the expiry, such as 30d",
    )
    parser.add_argument(
        "--check-in-every",
        type=duration,
        metavar="DURATION",
        help="how often installed copies check in (default 1d)",
    )
    culling = parser.add_mutually_exclusive_group()
    culling.add_argument(
        "--cull-after",
        type=duration,
        metavar="DURATION",
        help="free the seat of an installation silent this long (at least twice the interval)",
    )
    return culling


def add_key(app: App, args: argparse.Namespace) -> int:
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
        dead_after=args.cull_after,
        **_given(grace_period=args.grace, check_in_interval=args.check_in_every),
    )
    return _show(
        app, key, f"Added a {key.seats}-seat key for {key.product} to {account.account_name}"
    )


def _given(**values: dt.timedelta | None) -> dict[str, dt.timedelta]:
    """The options given, leaving the others to the library's defaults."""
    return {name: value for name, value in values.items() if value is not None}


def list_keys(app: App, args: argparse.Namespace) -> int:
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


def show_key(app: App, args: argparse.Namespace) -> int:
    """Show one license key."""
    account = app.account()
    key = app.key(account.account_id, args.key)
    return _show(app, key, None)


def change_key(app: App, args: argparse.Namespace) -> int:
    """Change a key's seats or expiry."""
    account = app.account()
    key = app.key(account.account_id, args.key)
    liveness = (args.grace, args.check_in_every, args.cull_after)
    if (
        args.seats is None
        and args.expires is None
        and not args.no_expiry
        and not args.never_cull
        and all(v is None for v in liveness)
    ):
        raise UsageError(
            "give --seats N, --expires DATE, --no-expiry, --grace, --check-in-every, "
            "--cull-after or --never-cull"
        )
    changed = app.kit.change_license_key(
        app.session(),
        account.account_id,
        key.id,
        seats=args.seats,
        expires_at=args.expires,
        clear_expiry=args.no_expiry,
        grace_period=args.grace,
        check_in_interval=args.check_in_every,
        dead_after=args.cull_after,
        never_cull=args.never_cull,
    )
    return _show(app, changed, f"Changed the key for {changed.product}")


def renew_key(app: App, args: argparse.Namespace) -> int:
    """Renew a key for a period counted from its old expiry."""
    account = app.account()
    key = app.key(account.account_id, args.key)
    renewed = app.kit.renew_license_key(app.session(), account.account_id, key.id, period=args.by)
    return _show(app, renewed, f"Renewed the key for {renewed.product}")


def suspend_key(app: App, args: argparse.Namespace) -> int:
    """Suspend a key: nothing activates with it."""
    return _change_status(app, args, "suspend_license_key", "Suspended")


def resume_key(app: App, args: argparse.Namespace) -> int:
    """Make a suspended or removed key active again."""
    return _change_status(app, args, "resume_license_key", "Resumed")


def remove_key(app: App, args: argparse.Namespace) -> int:
    """Remove a key that no installation holds a seat of."""
    return _change_status(app, args, "remove_license_key", "Removed")


def replace_key(app: App, args: argparse.Namespace) -> int:
    """Replace a key by a new value; everything but the value moves to the new key."""
    account = app.account()
    key = app.key(account.account_id, args.key)
    value = app.read_secret_input(
        from_stdin=args.value_stdin, prompt="New license key value: ", confirm=None
    )
    report = app.kit.replace_license_key(app.session(), account.account_id, key.id, value=value)
    if app.out.json_mode:
        app.out.json(report)
        return EXIT_OK
    new = app.kit.get_license_key(app.session(), account.account_id, report.to_key_id)
    return _show(
        app,
        new,
        f"Replaced key {key.id} by {new.id} and removed it: "
        f"{plural(report.installations, 'installation')}, "
        f"{plural(report.invitations, 'invitation')} and "
        f"{plural(report.grants, 'License Administrator')} moved; nobody needs a new code",
    )


def _change_status(app: App, args: argparse.Namespace, method: str, done: str) -> int:
    account = app.account()
    key = app.key(account.account_id, args.key)
    changed: LicenseKeyView = getattr(app.kit, method)(app.session(), account.account_id, key.id)
    return _show(app, changed, f"{done} the key for {changed.product}")


def _show(app: App, key: LicenseKeyView, headline: str | None) -> int:
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
            ("Grace", _days(key.grace_period) if key.grace_period else "none"),
            ("Check-in", f"every {_days(key.check_in_interval)}"),
            ("Culled after", _days(key.dead_after) if key.dead_after else "never"),
            ("Value", key.masked_value or "(hidden)"),
            *(
                [("Additional key of", f"{key.primary_id} ({key.seat_pool} seats)")]
                if key.primary_id
                else []
            ),
        ]
    )
    return EXIT_OK


def grant(app: App, args: argparse.Namespace) -> int:
    """Make a Regular Member License Administrator of a key."""
    return _grant(app, args, grant=True)


def revoke(app: App, args: argparse.Namespace) -> int:
    """End a member's License Administrator rights over a key."""
    return _grant(app, args, grant=False)


def _grant(app: App, args: argparse.Namespace, *, grant: bool) -> int:
    account = app.account()
    key = app.key(account.account_id, args.key)
    found = app.member(account.account_id, args.member)
    change = app.kit.grant_license_administrator if grant else app.kit.revoke_license_administrator
    view = change(app.session(), account.account_id, found.user_id, key.id)
    if grant:
        return app.out.answer(
            view, f"{view.email} is now License Administrator of {key.product} ({key.id})"
        )
    return app.out.answer(view, f"{view.email} is no longer License Administrator of {key.product}")


def _days(period: dt.timedelta) -> str:
    """A period as people say it: ``30 days``, ``12 hours``, ``90 minutes``."""
    seconds = int(period.total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds % size == 0:
            return plural(seconds // size, unit)
    return plural(seconds, "second")


# -- additional keys, seat pools, grants over several keys -----------------------------------


def _define_additional_keys(actions: Actions, b: Builder) -> None:
    """Add the additional-key and grant commands to ``licensekit keys``."""
    p = b.command(
        actions,
        "add-additional",
        add_additional,
        "Add an additional key under a primary key, with reserved or dynamic seats",
        account=True,
    )
    p.add_argument("primary", metavar="PRIMARY", help="the primary key's id or product name")
    p.add_argument("--seats", type=positive, required=True)
    p.add_argument(
        "--pool",
        choices=("reserved", "dynamic"),
        required=True,
        help="reserved: set aside for this key; dynamic: shared with the primary, first come",
    )
    p.add_argument("--expires", type=moment, metavar="DATE", help="no later than the primary's")
    p.add_argument(
        "--value-stdin",
        action="store_true",
        help="read the key's value from standard input instead of asking",
    )
    p = b.command(actions, "pool", show_pool, "Show the seat pool a key belongs to", account=True)
    p.add_argument("key", metavar="KEY", help="the key's id or product name")
    for name, handler, summary in (
        ("grant-keys", grant_keys, "Make a Regular Member License Administrator of several keys"),
        ("revoke-keys", revoke_keys, "End a member's rights over several keys"),
    ):
        p = b.command(actions, name, handler, summary, account=True)
        add_member(p)
        which = p.add_mutually_exclusive_group(required=True)
        which.add_argument(
            "--key", action="append", metavar="KEY", dest="keys", help="a key (repeat for more)"
        )
        which.add_argument(
            "--all", action="store_true", help="every key of the account, later ones included"
        )


def add_additional(app: App, args: argparse.Namespace) -> int:
    """Add an additional key; its value is read unseen, or from standard input."""
    account = app.account()
    primary = app.key(account.account_id, args.primary)
    value = app.read_secret_input(
        from_stdin=args.value_stdin, prompt="Additional key value: ", confirm=None
    )
    key = app.kit.add_additional_key(
        app.session(),
        account.account_id,
        primary.id,
        value=value,
        seats=args.seats,
        seat_pool=args.pool,
        expires_at=args.expires,
    )
    return app.out.answer(
        key,
        f"Added additional key {key.id} with {key.seats} {args.pool} seats under "
        f"{primary.product} ({primary.id})",
    )


def show_pool(app: App, args: argparse.Namespace) -> int:
    """Show the seats of a primary key and its additional keys."""
    account = app.account()
    key = app.key(account.account_id, args.key)
    pool = app.kit.get_seat_pool(app.session(), account.account_id, key.id)
    if app.out.json_mode:
        app.out.json(pool)
        return EXIT_OK
    app.out.fields(
        [
            ("Primary key", pool.key_id),
            ("Additional keys", str(pool.additional_keys)),
            ("Total seats", str(pool.total)),
            ("Used", str(pool.used)),
            ("Unused", str(pool.unused)),
            ("Reserved", f"{pool.reserved} ({pool.reserved_used} used)"),
            ("Reserved available", str(pool.reserved_available)),
            ("Available in the main pool", str(pool.available)),
        ]
    )
    return EXIT_OK


def grant_keys(app: App, args: argparse.Namespace) -> int:
    """Make a Regular Member License Administrator of several keys, or of every key."""
    return _change(app, args, grant=True)


def revoke_keys(app: App, args: argparse.Namespace) -> int:
    """End a member's License Administrator rights over several keys, or over every key."""
    return _change(app, args, grant=False)


def _change(app: App, args: argparse.Namespace, *, grant: bool) -> int:
    account = app.account()
    found = app.member(account.account_id, args.member)
    if not args.all and not args.keys:  # pragma: no cover - argparse requires one
        raise UsageError("give --key KEY (repeatable) or --all")
    key_ids = [app.key(account.account_id, k).id for k in args.keys or ()]
    change = app.kit.grant_key_rights if grant else app.kit.revoke_key_rights
    view = change(
        app.session(), account.account_id, found.user_id, key_ids=key_ids, all_keys=args.all
    )
    what = "every key" if args.all else ", ".join(key_ids)
    if grant:
        return app.out.answer(view, f"{view.email} is now License Administrator of {what}")
    return app.out.answer(view, f"{view.email} is no longer License Administrator of {what}")
