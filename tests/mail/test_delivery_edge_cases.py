"""Review of the email work (issue 5): each test pins a defect a review found (now fixed).

Each test states the behaviour licensekit promises (docs/concepts/emails.md and
docs/howto/mailer.md, issue 5).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import os
import stat
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from _smtp_server import RecordingHandler, SMTPServer
from licensekit import DeliveryStatus, Settings
from licensekit.exceptions import DeliveryError
from licensekit.locales import en
from licensekit.mail import Language, Message, Templates, render_join_invitation
from licensekit.mailers import FileMailer, SMTPMailer
from licensekit.testing import RecordingMailer, make_business_account, make_licensekit

SENDER = "Licenses <no-reply@example.com>"
EXPIRES = dt.datetime(2031, 5, 17, 9, 30, tzinfo=dt.UTC)
HEADERS = (
    "From",
    "To",
    "Subject",
    "MIME-Version",
    "Content-Type",
    "Content-Language",
    "Date",
    "Message-ID",
)


@pytest.fixture
def server() -> Iterator[SMTPServer]:
    with SMTPServer() as running:
        yield running


def mailer_for(server: SMTPServer) -> SMTPMailer:
    return SMTPMailer("127.0.0.1", server.port, sender=SENDER, security="none", timeout=10)


def join_message(to: str, account_name: str = "Example Corp") -> Message:
    return render_join_invitation(
        to=to,
        account_name=account_name,
        inviter_email="admin@example.com",
        link="https://app.example.com/join?token=tok",
        token="tok",
        expires_at=EXPIRES,
        language="en",
        service_name="Example Portal",
    )


# -- header injection -------------------------------------------------------------------------

# CPython decodes RFC 2047 encoded words in a header value it is given and, before the fix for
# CVE-2024-6923 (3.11.10, 3.12.5), writes a decoded CR LF out raw. requires-python is ">=3.11".
_UNPATCHED_EMAIL = sys.version_info < (3, 11, 10) or (3, 12) <= sys.version_info < (3, 12, 5)


def test_an_account_name_cannot_inject_a_header_through_an_encoded_word(
    tmp_path: Path,
) -> None:
    kit = make_licensekit()
    kit.mailer = FileMailer(tmp_path, sender=SENDER)  # type: ignore[assignment]
    evil = "=?utf-8?q?Acme=0D=0ABcc:_attacker@evil.example=0D=0AReply-To:_x@evil.example?="
    admin, account = make_business_account(kit, name=evil)

    kit.invite_members(admin, account.id, ["victim@example.org"])

    (path,) = FileMailer(tmp_path, sender=SENDER).files
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert "Bcc" not in parsed
    assert "Reply-To" not in parsed
    assert sorted(parsed.keys()) == sorted(HEADERS)


# -- misdirected mail ---------------------------------------------------------------------------


def test_a_non_ascii_domain_is_not_sent_to_another_domain(server: SMTPServer) -> None:
    (result,) = mailer_for(server).send_batch([join_message("ann@stra\u00dfe.de")])

    assert result is None
    (received,) = server.handler.received
    assert received.rcpt_tos == ("ann@xn--strae-oqa.de",)  # IDNA 2008, not ann@strasse.de


# -- delivery state -----------------------------------------------------------------------------


class OvertakenMailer(RecordingMailer):
    """The first send is slow: meanwhile its claim times out, another call sends the same
    invitation successfully; then the slow one fails (a timeout, say)."""

    def __init__(self) -> None:
        super().__init__()
        self.overtake: Any = None
        self.calls = 0

    def send(self, message: Message) -> None:
        self.calls += 1
        if self.calls == 1:
            self.overtake()  # another caller, after the claim timeout
            raise DeliveryError("451 timed out waiting for the server")
        super().send(message)


def test_a_late_failure_does_not_undo_a_later_successful_send() -> None:
    timeout = dt.timedelta(minutes=30)
    mailer = OvertakenMailer()
    kit = make_licensekit(mailer=mailer, settings=Settings(delivery_claim_timeout=timeout))
    admin, account = make_business_account(kit)
    kit.invite_members(admin, account.id, ["ann@example.org"], send=False)

    def overtake() -> None:
        kit.clock.advance(timeout + dt.timedelta(minutes=1))
        assert len(kit.send_join_invitations(admin, account.id).sent) == 1

    mailer.overtake = overtake
    kit.send_join_invitations(admin, account.id)  # the slow call: its send fails at the end

    (view,) = kit.list_join_invitations(admin, account.id).items
    assert view.delivery is DeliveryStatus.SENT
    assert kit.send_join_invitations(admin, account.id).sent == ()
    assert len(mailer.messages(to="ann@example.org")) == 1


def test_one_unrenderable_invitation_does_not_block_the_others() -> None:
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    kit.invite_members(admin, account.id, ["ann@example.org"], language="en", send=False)
    kit.invite_members(admin, account.id, ["bea@example.org"], language="de", send=False)
    kit.templates = Templates([Language.from_catalog(en)])  # the host dropped German

    report = kit.send_join_invitations(admin, account.id)

    assert [v.email for v in report.sent] == ["ann@example.org"]
    assert [f.email for f in report.undelivered] == ["bea@example.org"]


# -- SMTP mailer ----------------------------------------------------------------------------


# email-validator accepts this address (every character is atext); the email package decodes
# the encoded word in its local part to CR LF and refuses to build a To header from it.
# licensekit now refuses such addresses when invitations are made; a mailer still has to cope
# with one it is handed directly.
POISON = "=?utf-8?q?x=0D=0ABcc=3A_e=40evil.example?=@example.com"


def test_a_message_that_cannot_be_built_fails_alone(server: SMTPServer) -> None:
    batch = [join_message(a) for a in ("ann@example.org", POISON, "cat@example.org")]

    results = mailer_for(server).send_batch(batch)

    assert results[0] is None
    assert isinstance(results[1], DeliveryError)
    assert results[1].permanent
    assert results[2] is None
    assert server.handler.quits == 1


def test_an_unbuildable_address_costs_no_duplicates_and_no_lost_invitations(
    server: SMTPServer,
) -> None:
    kit = make_licensekit()
    kit.mailer = mailer_for(server)  # type: ignore[assignment]
    admin, account = make_business_account(kit)
    batch = kit.invite_members(admin, account.id, ["ann@example.org", POISON, "cat@example.org"])
    assert [r.text for r in batch.skipped] == [POISON]  # refused before anything is stored

    kit.send_join_invitations(admin, account.id)
    kit.send_join_invitations(admin, account.id)

    delivered = server.handler.delivered_count()
    assert delivered["ann@example.org"] == 1
    assert delivered["cat@example.org"] == 1


class SlowHandler(RecordingHandler):
    """Takes a while to accept each message, like a busy relay."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(0.5)
        return await super().handle_DATA(server, session, envelope)


def test_one_send_does_not_wait_for_another_threads_batch() -> None:
    with SMTPServer(SlowHandler()) as slow:
        mailer = mailer_for(slow)
        batch = [join_message(f"user{n}@example.org") for n in range(6)]
        worker = threading.Thread(target=mailer.send_batch, args=(batch,))
        worker.start()
        deadline = time.monotonic() + 5
        while slow.handler.data_commands == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        mailer.send(join_message("notice@example.org"))
        waited = time.monotonic() - started
        worker.join(timeout=30)

    assert waited < 1.5  # its own message takes 0.5 s; the batch takes 3 s


@pytest.mark.parametrize(
    "reply",
    [
        "554 5.7.1 <{address}>: Relay access denied",
        "553 5.7.1 <no-reply@example.com>: Sender address rejected: not owned by user",
    ],
)
def test_a_policy_rejection_of_every_recipient_is_retried_once_fixed(
    server: SMTPServer, reply: str
) -> None:
    kit = make_licensekit()
    kit.mailer = mailer_for(server)  # type: ignore[assignment]
    admin, account = make_business_account(kit)
    emails = ["ann@example.org", "bob@example.org"]
    for address in emails:
        server.handler.rcpt_replies[address] = reply.format(address=address)
    kit.invite_members(admin, account.id, emails)

    server.handler.rcpt_replies.clear()  # the operator fixed the relay settings
    report = kit.send_join_invitations(admin, account.id)

    assert sorted(v.email for v in report.sent) == emails


# -- file mailer ----------------------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_file_mailer_files_are_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        mailer = FileMailer(tmp_path / "outbox", sender=SENDER)
        mailer.send(join_message("ann@example.org"))
    finally:
        os.umask(previous)

    (path,) = mailer.files
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE((tmp_path / "outbox").stat().st_mode) & 0o077 == 0
