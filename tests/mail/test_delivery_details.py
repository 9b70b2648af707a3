"""Behaviour of the email code that a mutation audit found no test pinning.

Each test names the promise it holds (the docstrings of licensekit.mail, licensekit.mailers
and the sending use cases) and would fail if that promise were quietly broken.
"""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
import smtplib
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from _records import records
from _smtp_server import SMTPServer
from licensekit import AuditAction, ConflictError, DeliveryStatus, InvitationState, Settings
from licensekit.exceptions import DeliveryError
from licensekit.locales import en
from licensekit.mail import (
    EmailTemplate,
    Language,
    Message,
    MessageKind,
    Templates,
    render_install_invitation,
    render_join_invitation,
    render_member_notice,
)
from licensekit.mailers import FileMailer, SMTPMailer
from licensekit.storage import JOIN_INVITATIONS
from licensekit.testing import RecordingMailer, add_member, make_business_account, make_licensekit

SENDER = "Licenses <no-reply@example.com>"
EXPIRES = dt.datetime(2031, 5, 17, 9, 30, tzinfo=dt.UTC)
TIMEOUT = dt.timedelta(minutes=30)
LONG_REASON = "451 4.3.0 " + "the relay said a great deal " * 100


@pytest.fixture
def server() -> Iterator[SMTPServer]:
    with SMTPServer() as running:
        yield running


def mailer_for(server: SMTPServer) -> SMTPMailer:
    return SMTPMailer("127.0.0.1", server.port, sender=SENDER, security="none", timeout=10)


def install_message(to: str) -> Message:
    return render_install_invitation(
        to=to,
        product="Acme CAD",
        account_name="Example Corp",
        inviter_email="admin@example.com",
        download_url="https://downloads.example.com/install?token=tok",
        code="ABCD-EFGH-0001",
        token="tok",
        expires_at=EXPIRES,
        language="en",
        service_name="Example Licensing",
    )


def audit(kit: Any, admin: Any, account_id: str, action: AuditAction) -> list[Any]:
    events = kit.list_audit_events(admin, account_id, limit=200).items
    return [e for e in events if e.action is action]


# -- Templates.resolve ------------------------------------------------------------------------


def test_resolve_drops_subtags_before_it_looks_for_an_only_variant() -> None:
    # With both en and en-GB, "en-US" is not one language's only variant: dropping its
    # region is what finds "en"; the same goes for a Traditional Chinese a host adds.
    english = Language.from_catalog(en)
    templates = (
        Templates()
        .with_language(attrs.evolve(english, tag="en-GB"))
        .with_language(attrs.evolve(english, tag="zh-Hant"))
    )

    assert templates.resolve("en-US") == "en"
    assert templates.resolve("en-GB-oxendict") == "en-GB"
    assert templates.resolve("zh-Hant-TW") == "zh-Hant"
    assert templates.resolve("zh-Hans-CN") == "zh-Hans"


def test_unbraced_placeholders_are_filled_in_too() -> None:
    # string.Template's $name form is valid in a host's template; it must not vanish.
    plain = EmailTemplate(
        subject="Goodbye from $account_name",
        text="$actor removed you from $account_name, costs $$0.\n\n${notes_block}\n\nBye.\n",
        html="<p>$actor removed you from $account_name.</p>\n${notes_block}\n",
    )
    templates = Templates().with_template(MessageKind.MEMBER_REMOVED, "en", plain)

    message = render_member_notice(
        MessageKind.MEMBER_REMOVED,
        to="ann@example.org",
        account_name="Acme & Sons",
        actor="boss@example.com",
        language="en",
        service_name="Example Portal",
        templates=templates,
    )

    assert message.subject == "Goodbye from Acme & Sons"
    assert message.text == "boss@example.com removed you from Acme & Sons, costs $0.\n\nBye.\n"
    assert "<p>boss@example.com removed you from Acme &amp; Sons.</p>" in message.html


# -- subjects holding "=?" -----------------------------------------------------------------


def test_a_non_ascii_subject_with_an_encoded_word_reads_back_as_written() -> None:
    message = render_join_invitation(
        to="ann@example.org",
        account_name="Caf\u00e9 M\u00fcller =?utf-8?q?x?= \u6771\u4eac",
        inviter_email="admin@example.com",
        link="https://app.example.com/join?token=tok",
        token="tok",
        expires_at=EXPIRES,
        language="de",
        service_name="Example Portal",
    )

    built = message.to_email_message(SENDER)

    assert str(built["Subject"]) == message.subject
    assert "Caf\u00e9 M\u00fcller =?utf-8?q?x?= \u6771\u4eac" in message.subject


# -- SMTP: which refusals are final ----------------------------------------------------------


def test_recipient_refusals_about_the_mailbox_are_final_and_a_bare_552_is_not(
    server: SMTPServer,
) -> None:
    server.handler.rcpt_replies.update(
        {
            "full@example.org": "552 5.2.2 mailbox full",
            "disabled@example.org": "550 5.2.1 mailbox disabled",
            "storage@example.org": "552 requested action aborted: exceeded storage allocation",
        }
    )
    messages = [
        install_message(a)
        for a in ("full@example.org", "disabled@example.org", "storage@example.org")
    ]

    results = mailer_for(server).send_batch(messages)

    assert [r is not None and r.permanent for r in results] == [True, True, False]
    assert all(isinstance(r, DeliveryError) for r in results)


def test_a_sender_refused_for_the_message_size_is_final(server: SMTPServer) -> None:
    server.handler.mail_replies.update(
        {
            1: "554 5.3.4 message too big for system",
            2: "552 message size exceeds fixed maximum",
            3: "550 5.7.1 sender address rejected by policy",
        }
    )
    messages = [install_message(f"user{n}@example.org") for n in range(3)]

    results = mailer_for(server).send_batch(messages)

    assert [r is not None and r.permanent for r in results] == [True, True, False]
    assert all(isinstance(r, DeliveryError) for r in results)
    assert server.handler.received == []


# -- SMTP: connections -------------------------------------------------------------------------


def test_a_connection_refused_once_is_tried_again_before_giving_up(
    server: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[object] = []
    real_create_connection = socket.create_connection

    def refuse_first(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        attempts.append(address)
        if len(attempts) == 1:
            raise ConnectionRefusedError("refused (simulated)")
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", refuse_first)
    messages = [install_message("ann@example.org"), install_message("bea@example.org")]

    results = mailer_for(server).send_batch(messages)

    assert results == [None, None]
    assert len(attempts) == 2
    assert sum(server.handler.delivered_count().values()) == 2


def test_a_missing_smtputf8_fails_that_message_alone_and_keeps_the_connection() -> None:
    with SMTPServer(enable_SMTPUTF8=False) as ascii_only:
        messages = [
            install_message("j\u00fcrgen@example.org"),
            install_message("ann@example.org"),
        ]

        results = mailer_for(ascii_only).send_batch(messages)

        first, second = results
        assert second is None
        assert isinstance(first, DeliveryError)
        assert not first.permanent
        assert "does not offer it" in str(first)
        assert ascii_only.handler.connections == 1
        assert ascii_only.handler.mail_commands == 1  # the unsendable one never reached MAIL


def test_an_unexpected_error_mid_message_costs_that_message_only(
    server: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first sendmail dies half-way (after MAIL FROM) with an error smtplib never raises:
    # that connection is in an unknown state and must not carry the next message.
    real_sendmail = smtplib.SMTP.sendmail
    calls: list[str] = []

    def sendmail(self: smtplib.SMTP, from_addr: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(from_addr)
        if len(calls) == 1:
            self.mail(from_addr)
            raise RuntimeError("the host's instrumentation crashed (simulated)")
        return real_sendmail(self, from_addr, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "sendmail", sendmail)
    messages = [install_message("ann@example.org"), install_message("bea@example.org")]

    first, second = mailer_for(server).send_batch(messages)

    assert isinstance(first, DeliveryError)
    assert "RuntimeError" in str(first)
    assert second is None
    assert server.handler.delivered_count() == {"bea@example.org": 1}


# -- FileMailer ---------------------------------------------------------------------------------


def test_file_mailer_never_replaces_an_existing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Force two messages onto the same file name (a frozen clock, counter and random part):
    # the second must fail, and be retried later, rather than overwrite the first.
    monkeypatch.setattr(time, "time_ns", lambda: 1)
    monkeypatch.setattr(secrets, "token_hex", lambda n: "00" * n)
    monkeypatch.setattr("licensekit.mailers._FILE_NUMBERS", itertools.repeat(7))
    mailer = FileMailer(tmp_path, sender=SENDER)
    mailer.send(install_message("ann@example.org"))
    (path,) = mailer.files
    before = path.read_bytes()

    with pytest.raises(DeliveryError):
        mailer.send(install_message("ann@example.org"))

    assert mailer.files == [path]
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left behind


# -- the sending use cases ------------------------------------------------------------------


def test_an_email_that_cannot_be_written_is_refused_for_good() -> None:
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    kit.invite_members(admin, account.id, ["bea@example.org"], language="de", send=False)
    kit.templates = Templates([Language.from_catalog(en)])  # the host dropped German

    report = kit.send_join_invitations(admin, account.id)

    (failure,) = report.undelivered
    assert failure.permanent
    (view,) = kit.list_join_invitations(admin, account.id).items
    assert view.delivery is DeliveryStatus.REFUSED
    again = kit.send_join_invitations(admin, account.id)
    assert again.sent == ()
    assert again.undelivered == ()


class RevokingMailer(RecordingMailer):
    """Delivers, but while it does an administrator revokes the invitation."""

    revoke: Any = None

    def send(self, message: Message) -> None:
        super().send(message)
        self.revoke()


@pytest.mark.parametrize("how", ["send_join_invitations", "resend_join_invitation"])
def test_a_revocation_made_while_the_email_goes_out_is_kept(how: str) -> None:
    mailer = RevokingMailer()
    kit = make_licensekit(mailer=mailer)
    admin, account = make_business_account(kit)
    (invited,) = kit.invite_members(admin, account.id, ["ann@example.org"], send=False).invited
    mailer.revoke = lambda: kit.revoke_join_invitation(admin, account.id, invited.id)

    if how == "send_join_invitations":
        assert len(kit.send_join_invitations(admin, account.id).sent) == 1
    else:
        kit.resend_join_invitation(admin, account.id, invited.id)

    (view,) = kit.list_join_invitations(admin, account.id).items
    assert view.state is InvitationState.REVOKED
    assert view.revoked_at is not None
    assert view.delivery is DeliveryStatus.SENT
    assert view.sent_count == 1


class DyingMailer(RecordingMailer):
    """Sends two messages, then the process 'dies' (an exception no mailer should raise)."""

    def send(self, message: Message) -> None:
        if len(self.sent) == 2:
            raise KeyboardInterrupt
        super().send(message)


def test_join_invitations_sent_on_creation_stay_claimed_until_the_timeout() -> None:
    emails = [f"user{n}@example.com" for n in range(5)]
    mailer = DyingMailer()
    kit = make_licensekit(mailer=mailer, settings=Settings(delivery_claim_timeout=TIMEOUT))
    admin, account = make_business_account(kit)
    with pytest.raises(KeyboardInterrupt):
        kit.invite_members(admin, account.id, emails)
    views = kit.list_join_invitations(admin, account.id).items
    assert {v.delivery for v in views} == {DeliveryStatus.SENDING}

    mailer.send = RecordingMailer.send.__get__(mailer)  # type: ignore[method-assign]
    kit.clock.advance(TIMEOUT - dt.timedelta(seconds=1))
    assert kit.send_join_invitations(admin, account.id).sent == ()  # still claimed

    kit.clock.advance(dt.timedelta(seconds=1))
    late = kit.send_join_invitations(admin, account.id)
    assert sorted(v.email for v in late.sent) == emails


def test_a_claim_without_a_start_time_is_not_stuck_for_ever() -> None:
    # A sending mark with no time (written by another tool, say) cannot be timed out, so it
    # counts as undelivered rather than blocking the invitation for good.
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    (invited,) = kit.invite_members(admin, account.id, ["ann@example.org"], send=False).invited
    with records(kit.store) as tx:
        stored = tx.get(JOIN_INVITATIONS, invited.id)
        assert stored is not None
        tx.save(
            JOIN_INVITATIONS,
            attrs.evolve(stored, delivery=DeliveryStatus.SENDING, delivery_started_at=None),
        )

    report = kit.send_join_invitations(admin, account.id)

    assert [v.email for v in report.sent] == ["ann@example.org"]


def test_send_install_invitations_refuses_a_suspended_key_and_sends_nothing() -> None:
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="Draw", value="DRAW-1234-5678", seats=5)
    kit.invite_installers(admin, account.id, key.id, ["ann@example.org"], send=False)
    kit.suspend_license_key(admin, account.id, key.id)

    with pytest.raises(ConflictError):
        kit.send_install_invitations(admin, account.id, key.id)

    assert kit.mailer.sent == []
    (view,) = kit.list_install_invitations(admin, account.id, key.id).items
    assert view.delivery is DeliveryStatus.NOT_SENT


# -- audit records stay bounded ------------------------------------------------------------


class LongWindedOvertakenMailer(RecordingMailer):
    """The first send is slow: another call sends the invitation meanwhile (after the claim
    timed out); then the slow one fails with a very long reply."""

    overtake: Any = None

    def send(self, message: Message) -> None:
        if self.overtake is not None:
            overtake, self.overtake = self.overtake, None
            overtake()
            raise DeliveryError(LONG_REASON)
        super().send(message)


def test_a_superseded_failure_is_audited_with_a_bounded_reason() -> None:
    mailer = LongWindedOvertakenMailer()
    kit = make_licensekit(mailer=mailer, settings=Settings(delivery_claim_timeout=TIMEOUT))
    admin, account = make_business_account(kit)
    kit.invite_members(admin, account.id, ["ann@example.org"], send=False)

    def overtake() -> None:
        kit.clock.advance(TIMEOUT + dt.timedelta(minutes=1))
        assert len(kit.send_join_invitations(admin, account.id).sent) == 1

    mailer.overtake = overtake
    kit.send_join_invitations(admin, account.id)

    (event,) = audit(kit, admin, account.id, AuditAction.INVITATION_UNDELIVERED)
    assert event.details["delivery"] == "superseded"
    assert event.details["reason"] == LONG_REASON[:500]


class RefusingMailer(RecordingMailer):
    """Delivers until told to refuse, then fails every message with a very long reply."""

    refusing = False

    def send(self, message: Message) -> None:
        if self.refusing:
            raise DeliveryError(LONG_REASON)
        super().send(message)


def test_an_undelivered_notice_is_audited_with_a_bounded_reason() -> None:
    mailer = RefusingMailer()
    kit = make_licensekit(mailer=mailer)
    admin, account = make_business_account(kit)
    member = add_member(kit, admin, account.id, "ann@example.org")
    mailer.refusing = True

    kit.block_member(admin, account.id, member.user_id, notify=True)

    (event,) = audit(kit, admin, account.id, AuditAction.NOTICE_UNDELIVERED)
    assert event.details["reason"] == LONG_REASON[:500]
