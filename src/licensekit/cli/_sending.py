"""Sending invitations in chunks and telling what was delivered: for both kinds of invitation.

``members invite``, ``members send``, ``installers invite`` and ``installers send`` hand the
library a chunk of invitations at a time, so that a progress bar can move, and then print
the same report: how many emails went where, which were not delivered, and an exit status of
1 when any was not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import attrs

from licensekit import (
    DeliveryFailure,
    DeliveryReport,
    DeliveryStatus,
    InstallInvitationView,
    JoinInvitationView,
    RejectedEmail,
)
from licensekit.cli._app import App
from licensekit.cli._errors import EXIT_OK, EXIT_REFUSED
from licensekit.cli._output import clean, plural, when
from licensekit.cli._progress import Progress
from licensekit.domain._echo import echo

__all__ = [
    "SEND_CHUNK",
    "UNDELIVERED",
    "delivery_status",
    "print_invited",
    "report_sent",
    "send_chunks",
    "send_new",
]

ViewT = TypeVar("ViewT", InstallInvitationView, JoinInvitationView)

SEND_CHUNK = 25
"""Invitations sent per library call, so that the progress bar moves."""

UNDELIVERED = (DeliveryStatus.NOT_SENT, DeliveryStatus.FAILED, DeliveryStatus.SENDING)
"""The delivery states of an invitation still to send.

Sending (claimed by a call that may have died) is left to the library to judge.
"""


def send_chunks(
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


def report_sent(
    app: App, sent: Sequence[ViewT], failures: Sequence[DeliveryFailure], *, later: str
) -> int:
    """Print what a send command delivered and what not; return its exit status.

    Args:
        app: The command.
        sent: The invitations sent.
        failures: Those not delivered.
        later: The command that sends them again (``members send``).
    """
    if app.out.json_mode:
        app.out.json({"sent": list(sent), "undelivered": list(failures)})
        return delivery_status(app, failures, later)
    app.out.line(f"{plural(len(sent), 'email')} {_mail_verb(app)}")
    if failures:
        _print_failures(app, failures)
    return delivery_status(app, failures, later)


def send_new(
    app: App,
    made: Sequence[ViewT],
    send: Callable[[list[str]], DeliveryReport[ViewT]],
    *,
    no_send: bool,
) -> tuple[list[ViewT], list[DeliveryFailure]]:
    """Send the invitations an invite command just made, unless ``--no-send``.

    Returns:
        The invitations as they stand afterwards, and the failures.
    """
    if no_send or not made:
        return list(made), []
    invited, _, failures = send_chunks(app, made, send)
    return invited, failures


def print_invited(
    app: App,
    headline: str,
    invited: Sequence[ViewT],
    skipped: Sequence[RejectedEmail],
    failures: Sequence[DeliveryFailure],
    *,
    sent: bool,
    later: str,
    warnings: Sequence[str] = (),
) -> int:
    """Print for people what an invite command made and sent; return its exit status.

    Args:
        app: The command.
        headline: The line above the table of invitations.
        invited: The invitations made, as they stand after sending.
        skipped: The addresses left out, with the reason.
        failures: The emails not delivered.
        sent: The emails were sent (not ``--no-send``).
        later: The command that sends them later (``members send``).
        warnings: What else the library warned of.
    """
    app.out.line(headline)
    app.out.table(
        ["EMAIL", "INVITATION", "LANGUAGE", "EXPIRES", "EMAIL SENT"],
        [[i.email, i.id, i.language, when(i.expires_at), i.delivery.value] for i in invited],
    )
    if skipped:
        app.out.line("Skipped:")
        for s in skipped:
            app.out.line(f"  row {s.row}: {echo(clean(s.text))}: {clean(s.reason)}")
    for warning in warnings:
        app.out.line(f"Warning: {warning}")
    if invited and not sent:
        app.out.line(f"No email was sent; send them with: licensekit {later}")
    elif invited:
        delivered = sum(1 for v in invited if v.delivery is DeliveryStatus.SENT)
        app.out.line(f"{plural(delivered, 'email')} {_mail_verb(app)}")
        if failures:
            _print_failures(app, failures)
    return delivery_status(app, failures, later)


def delivery_status(app: App, failures: Sequence[DeliveryFailure], later: str) -> int:
    """Return 0 when every email went, else say on standard error how to send them again."""
    if not failures:
        return EXIT_OK
    app.console.stderr.write(
        f"licensekit: {plural(len(failures), 'email')} not delivered; the invitations are "
        f"stored: send them again with 'licensekit {later}'\n"
    )
    return EXIT_REFUSED


def _print_failures(app: App, failures: Sequence[DeliveryFailure]) -> None:
    app.out.line("Not delivered:")
    app.out.table(
        ["EMAIL", "INVITATION", "RETRY", "REASON"],
        [[f.email, f.invitation_id, "no" if f.permanent else "yes", f.reason] for f in failures],
        indent="  ",
    )


def _mail_verb(app: App) -> str:
    c = app.config
    if c.smtp_host is not None:
        return f"sent through {c.smtp_host}"
    return f"written to {c.mail_dir}"
