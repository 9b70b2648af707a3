"""``licensekit audit``: a business account's audit trail, as people read it."""

from __future__ import annotations

import argparse
import datetime as dt

from licensekit.cli._app import App, all_pages
from licensekit.cli._errors import EXIT_OK
from licensekit.cli._options import positive
from licensekit.cli._output import clean, when
from licensekit.cli._parser import Builder, Parser

__all__ = ["audit", "define_audit"]


def define_audit(parser: Parser, b: Builder) -> None:
    """Define ``licensekit audit [--limit N]``."""
    b.handle(parser, audit, account=True)
    parser.add_argument("--limit", type=positive, metavar="N", help="only the last N events")


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
    products = app.products(account.account_id)
    app.out.line(f"Audit trail of {account.account_name}:")
    app.out.table(
        ["TIME", "ACTION", "BY", "SUBJECT", "DETAILS"],
        [
            [
                when(e.at),
                e.action.value,
                people.get(e.actor_id, e.actor_id) or "(installer)",
                *_subject(e.subject, dict(e.details), people, products),
            ]
            for e in events
        ],
    )
    return EXIT_OK


def _subject(
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
