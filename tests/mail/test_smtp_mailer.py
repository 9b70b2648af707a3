"""SMTPMailer against a real SMTP server (aiosmtpd) on 127.0.0.1: no mock of smtplib.

Covers what issue 5 asks of the SMTP mailer (TLS, login, one connection per batch, reconnect,
4xx retryable and 5xx permanent), and its end-to-end test through the service: a server that
defers some recipients, refuses others and drops the connection mid-batch; afterwards every
invitation is delivered exactly once or marked failed, and a retry completes the rest.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
import ssl
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from _smtp_server import Authenticator, RecordingHandler, SMTPServer, StartServer, make_certificate
from licensekit import LicenseKit, PasswordHasher
from licensekit.exceptions import DeliveryError, ValidationError
from licensekit.mail import BatchMailer, Mailer, Message, render_install_invitation
from licensekit.mailers import SMTPMailer
from licensekit.model import DeliveryStatus
from licensekit.testing import (
    TEST_DOWNLOAD_URL,
    TEST_JOIN_URL,
    TEST_SECRET,
    FakeClock,
    make_business_account,
    new_test_store,
)

SENDER = "Licenses <no-reply@example.com>"
EXPIRES = dt.datetime(2031, 5, 17, 9, 30, tzinfo=dt.UTC)


# -- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture
def server(start_server: StartServer) -> SMTPServer:
    return start_server()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def client_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    """A client context that trusts the test certificate (and checks the host name)."""
    return ssl.create_default_context(cafile=str(certificate[0]))


def mailer_for(server: SMTPServer, **kwargs: Any) -> SMTPMailer:
    options: dict[str, Any] = {"security": "none", "timeout": 10, **kwargs}
    return SMTPMailer("127.0.0.1", server.port, sender=SENDER, **options)


def invitation(to: str, n: int = 0, language: str = "en") -> Message:
    return render_install_invitation(
        to=to,
        product="Acme CAD",
        account_name="Example Corp",
        inviter_email="admin@example.com",
        download_url=f"https://downloads.example.com/install?token=tok{n:04d}",
        code=f"ABCD-EFGH-{n:04d}",
        token=f"tok{n:04d}",
        expires_at=EXPIRES,
        language=language,
        service_name="Example Licensing",
    )


def invitations(count: int) -> list[Message]:
    return [invitation(f"user{i:02d}@example.org", i) for i in range(count)]


def assert_delivered_once_or_failed(
    handler: RecordingHandler,
    messages: Sequence[Message],
    results: Sequence[DeliveryError | None],
) -> None:
    """Each message reached the server exactly once, or is reported failed and never did."""
    assert len(results) == len(messages)
    counts = handler.delivered_count()
    for message, result in zip(messages, results, strict=True):
        if result is None:
            assert counts[message.to] == 1, message.to
        else:
            assert isinstance(result, DeliveryError)
            assert counts[message.to] == 0, message.to


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def unix_lines(text: str) -> str:
    return text.replace("\r\n", "\n")


# -- one message ------------------------------------------------------------------------------


def test_smtp_mailer_is_a_batch_mailer() -> None:
    mailer = SMTPMailer("127.0.0.1", 2525, sender=SENDER, security="none")
    assert isinstance(mailer, Mailer)
    assert isinstance(mailer, BatchMailer)


@pytest.mark.parametrize("language", ["en", "de", "ja"])
def test_send_delivers_one_multipart_message(server: SMTPServer, language: str) -> None:
    message = invitation("alice@example.org", 7, language)

    mailer_for(server).send(message)

    (received,) = server.handler.received
    assert received.mail_from == "no-reply@example.com"
    assert received.rcpt_tos == ("alice@example.org",)
    parsed = received.parsed()
    assert parsed["From"] == SENDER
    assert parsed["To"] == "alice@example.org"
    assert parsed["Subject"] == message.subject
    assert parsed["Content-Language"] == language
    date = parsedate_to_datetime(parsed["Date"])
    assert date.tzinfo is not None
    assert abs(date - dt.datetime.now(dt.UTC)) < dt.timedelta(hours=1)
    assert re.fullmatch(r"<[^<>@\s]+@example\.com>", parsed["Message-ID"])
    assert parsed.get_content_type() == "multipart/alternative"
    text, html = parsed.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert unix_lines(text.get_content()) == message.text
    assert unix_lines(html.get_content()) == message.html
    for part in (text.get_content(), html.get_content()):
        assert "ABCD-EFGH-0007" in part
        assert "https://downloads.example.com/install?token=tok0007" in part


def test_send_raises_the_delivery_error(server: SMTPServer) -> None:
    server.handler.rcpt_replies["bob@example.org"] = "550 5.1.1 no such user"

    with pytest.raises(
        DeliveryError, match=r"refused the message to bob@example\.org \(the recipient\): 550"
    ) as e:
        mailer_for(server).send(invitation("bob@example.org"))

    assert e.value.permanent
    assert server.handler.received == []


def test_each_send_uses_its_own_connection_and_closes_it(server: SMTPServer) -> None:
    mailer = mailer_for(server)

    mailer.send(invitation("a@example.org"))
    mailer.send(invitation("b@example.org"))

    assert server.handler.connections == 2
    assert server.handler.quits == 2
    assert server.handler.delivered_count() == Counter({"a@example.org": 1, "b@example.org": 1})


def test_message_on_the_wire_has_crlf_line_ends(server: SMTPServer) -> None:
    mailer_for(server).send(invitation("alice@example.org"))

    (received,) = server.handler.received
    assert b"\n" not in received.content.replace(b"\r\n", b"")


def test_a_strict_server_accepts_the_message(start_server: StartServer) -> None:
    strict = start_server()

    results = mailer_for(strict).send_batch([invitation("alice@example.org")])

    assert results == [None]
    assert strict.handler.delivered_count() == Counter({"alice@example.org": 1})


# -- batches ------------------------------------------------------------------------------------


def test_batch_uses_one_connection(server: SMTPServer) -> None:
    messages = invitations(20)

    results = mailer_for(server).send_batch(messages)

    assert results == [None] * 20
    assert server.handler.connections == 1
    assert server.handler.quits == 1
    assert len({r.peer for r in server.handler.received}) == 1
    assert [r.rcpt_tos for r in server.handler.received] == [(m.to,) for m in messages]
    message_ids = {r.parsed()["Message-ID"] for r in server.handler.received}
    assert len(message_ids) == 20
    for message, received in zip(messages, server.handler.received, strict=True):
        assert message.data["code"] in received.text()


def test_empty_batch_opens_no_connection(server: SMTPServer) -> None:
    assert mailer_for(server).send_batch([]) == []
    assert server.handler.connections == 0


def test_4xx_is_retryable_and_5xx_permanent_recipient_by_recipient(server: SMTPServer) -> None:
    messages = invitations(8)
    server.handler.rcpt_replies.update(
        {
            "user01@example.org": "450 4.2.1 mailbox busy",
            "user04@example.org": "550 5.1.1 no such user",
            "user05@example.org": "451 4.3.0 try again later",
            "user06@example.org": "553 5.1.3 bad destination address",
        }
    )

    results = mailer_for(server).send_batch(messages)

    kinds = [None if r is None else r.permanent for r in results]
    assert kinds == [None, False, None, None, True, False, True, None]
    for index, code in [(1, "450"), (4, "550"), (5, "451"), (6, "553")]:
        assert messages[index].to in str(results[index])
        assert code in str(results[index])
    assert "deferred" in str(results[1])
    assert "refused" in str(results[4])
    assert_delivered_once_or_failed(server.handler, messages, results)
    assert sum(server.handler.delivered_count().values()) == 4
    assert server.handler.connections == 1  # a refused recipient does not cost the connection


def test_a_refused_data_is_reported_and_the_connection_goes_on(server: SMTPServer) -> None:
    messages = invitations(5)
    server.handler.data_replies.update(
        {
            "user01@example.org": "554 5.6.0 message content rejected",
            "user02@example.org": "554 5.7.1 sending host blocked by policy",
            "user03@example.org": "452 4.3.1 insufficient system storage",
        }
    )

    results = mailer_for(server).send_batch(messages)

    # The content is final; a policy block of our server (5.7.x) is fixed on our side.
    kinds = [None if r is None else r.permanent for r in results]
    assert kinds == [None, True, False, False, None]
    assert "554" in str(results[1])
    assert "452" in str(results[3])
    assert_delivered_once_or_failed(server.handler, messages, results)
    assert server.handler.connections == 1


def test_a_refused_sender_is_not_a_permanent_refusal_of_each_recipient(
    server: SMTPServer,
) -> None:
    server.handler.mail_replies.update(
        dict.fromkeys(range(1, 10), "530 5.7.0 Authentication required")
    )

    results = mailer_for(server).send_batch(invitations(3))

    assert all(isinstance(r, DeliveryError) for r in results)
    assert not any(r.permanent for r in results if r is not None)


def test_an_internationalised_address_does_not_break_the_batch(server: SMTPServer) -> None:
    messages = [
        invitation("first@example.org", 1),
        invitation("j\u00fcrgen@example.org", 2),
        invitation("third@example.org", 3),
    ]

    results = mailer_for(server).send_batch(messages)

    assert results[0] is None
    assert results[2] is None
    assert_delivered_once_or_failed(server.handler, messages, results)


@pytest.mark.parametrize(
    ("setup", "failed"),
    [
        pytest.param(lambda h: h.drop_at_mail.add(5), [], id="dropped-at-MAIL"),
        pytest.param(lambda h: h.drop_at_data.add(5), [], id="dropped-at-DATA"),
        pytest.param(lambda h: h.drop_at_mail.update({5, 6}), [4], id="dropped-twice"),
        pytest.param(
            # The connection is closed and the message tried again on a new one.
            lambda h: h.mail_replies.update({5: "421 4.3.2 shutting down"}),
            [],
            id="421-at-MAIL",
        ),
        pytest.param(
            lambda h: h.rcpt_replies.update({"user04@example.org": "421 4.4.2 closing"}),
            [4],
            id="421-at-RCPT",
        ),
    ],
)
def test_reconnects_when_the_server_drops_the_connection_mid_batch(
    server: SMTPServer, setup: Callable[[RecordingHandler], None], failed: list[int]
) -> None:
    messages = invitations(12)
    setup(server.handler)

    results = mailer_for(server).send_batch(messages)

    assert [i for i, r in enumerate(results) if r is not None] == failed
    for index in failed:
        error = results[index]
        assert error is not None
        assert not error.permanent
        assert messages[index].to in str(error)
    assert_delivered_once_or_failed(server.handler, messages, results)
    assert server.handler.connections >= 2


def test_a_server_that_always_drops_fails_each_message_after_one_retry(
    server: SMTPServer,
) -> None:
    server.handler.drop_at_mail.update(range(1, 100))
    messages = invitations(3)

    results = mailer_for(server).send_batch(messages)

    assert all(isinstance(r, DeliveryError) and not r.permanent for r in results)
    assert server.handler.received == []
    assert server.handler.mail_commands <= 2 * len(messages)


def test_unreachable_server_fails_the_rest_without_trying_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = closed_port()
    attempts: list[object] = []
    real_create_connection = socket.create_connection

    def counting_create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        attempts.append(address)
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", counting_create_connection)
    mailer = SMTPMailer("127.0.0.1", port, sender=SENDER, security="none", timeout=10)

    results = mailer.send_batch(invitations(10))

    assert all(isinstance(r, DeliveryError) for r in results)
    errors = [r for r in results if r is not None]
    assert not any(e.permanent for e in errors)
    assert len({str(e) for e in errors}) == 1
    assert f"cannot reach the SMTP server 127.0.0.1:{port}" in str(errors[0])
    assert "ConnectionRefusedError" in str(errors[0])
    assert 1 <= len(attempts) <= 2


def test_silent_server_costs_one_timeout_not_one_per_message() -> None:
    # A socket that is listening but never answers: connections complete in the kernel, the
    # greeting never comes. Counting what waits in its accept queue counts the attempts.
    with socket.create_server(("127.0.0.1", 0), backlog=32) as listener:
        port = listener.getsockname()[1]
        mailer = SMTPMailer("127.0.0.1", port, sender=SENDER, security="none", timeout=0.1)

        results = mailer.send_batch(invitations(10))

        listener.setblocking(False)
        attempts = 0
        while True:
            try:
                connection, _ = listener.accept()
            except BlockingIOError:
                break
            connection.close()
            attempts += 1
    assert all(isinstance(r, DeliveryError) and not r.permanent for r in results)
    assert "cannot reach" in str(results[-1])
    assert 1 <= attempts <= 2


def test_one_mailer_shared_by_threads(server: SMTPServer) -> None:
    mailer = mailer_for(server)
    batches = [[invitation(f"t{t}-{i}@example.org", i) for i in range(5)] for t in range(4)]
    results: dict[int, list[DeliveryError | None]] = {}
    barrier = threading.Barrier(len(batches))

    def run(number: int) -> None:
        barrier.wait()
        results[number] = mailer.send_batch(batches[number])

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert all(results[n] == [None] * 5 for n in range(len(batches)))
    everyone = [m.to for batch in batches for m in batch]
    assert server.handler.delivered_count() == Counter(everyone)
    assert server.handler.connections == len(batches)


# -- TLS ----------------------------------------------------------------------------------------


def test_starttls_with_a_trusted_certificate(
    start_server: StartServer, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    tls = start_server(tls_context=server_tls, require_starttls=True)
    messages = invitations(3)

    results = mailer_for(tls, security="starttls", ssl_context=client_tls).send_batch(messages)

    assert results == [None, None, None]
    assert [r.tls for r in tls.handler.received] == [True, True, True]
    assert tls.handler.connections == 1


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_an_untrusted_certificate_is_a_delivery_error(
    start_server: StartServer, server_tls: ssl.SSLContext, security: str
) -> None:
    if security == "tls":
        tls = start_server(ssl_context=server_tls)
    else:
        tls = start_server(tls_context=server_tls, require_starttls=True)

    results = mailer_for(tls, security=security).send_batch(invitations(3))  # default context

    assert all(isinstance(r, DeliveryError) for r in results)
    assert "certificate verify failed" in str(results[0])
    assert tls.handler.received == []
    assert tls.handler.mail_commands == 0


def test_starttls_not_offered_is_a_delivery_error_and_nothing_goes_in_clear(
    server: SMTPServer, client_tls: ssl.SSLContext
) -> None:
    results = mailer_for(server, security="starttls", ssl_context=client_tls).send_batch(
        invitations(3)
    )

    assert all(isinstance(r, DeliveryError) for r in results)
    assert "does not offer" in str(results[0])
    assert "STARTTLS" in str(results[0])
    assert server.handler.mail_commands == 0


def test_implicit_tls(
    start_server: StartServer, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    tls = start_server(ssl_context=server_tls)

    results = mailer_for(tls, security="tls", ssl_context=client_tls).send_batch(invitations(2))

    assert results == [None, None]
    assert [r.tls for r in tls.handler.received] == [True, True]
    assert tls.handler.connections == 1


# -- login ----------------------------------------------------------------------------------------


def test_login_with_the_right_credentials(start_server: StartServer) -> None:
    authenticator = Authenticator("mailer", "s3cret")
    plain = start_server(authenticator=authenticator, auth_require_tls=False)

    results = mailer_for(plain, username="mailer", password="s3cret").send_batch(invitations(3))

    assert results == [None, None, None]
    assert [r.login for r in plain.handler.received] == ["mailer"] * 3
    assert authenticator.attempts == 1


def test_login_with_wrong_credentials_fails_every_message(start_server: StartServer) -> None:
    authenticator = Authenticator("mailer", "s3cret")
    plain = start_server(authenticator=authenticator, auth_require_tls=False)

    results = mailer_for(plain, username="mailer", password="wrong").send_batch(invitations(5))

    assert all(isinstance(r, DeliveryError) for r in results)
    assert all("refused the login" in str(r) for r in results)
    assert "535" in str(results[0])
    assert plain.handler.received == []
    assert plain.handler.mail_commands == 0
    assert 1 <= plain.handler.connections <= 2  # not once per message


def test_login_after_starttls(
    start_server: StartServer, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    authenticator = Authenticator("mailer", "s3cret")
    tls = start_server(tls_context=server_tls, require_starttls=True, authenticator=authenticator)
    mailer = mailer_for(
        tls, security="starttls", ssl_context=client_tls, username="mailer", password="s3cret"
    )

    assert mailer.send_batch(invitations(2)) == [None, None]
    assert [(r.tls, r.login) for r in tls.handler.received] == [(True, "mailer")] * 2


def test_login_to_a_server_without_auth_is_a_delivery_error(server: SMTPServer) -> None:
    # aiosmtpd offers AUTH only over TLS by default: this plain server offers none.
    mailer = mailer_for(server, username="mailer", password="s3cret")

    with pytest.raises(DeliveryError, match="does not offer"):
        mailer.send(invitation("alice@example.org"))
    assert server.handler.mail_commands == 0


# -- settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("security", "port"), [("starttls", 587), ("tls", 465), ("none", 25)])
def test_default_ports(security: str, port: int) -> None:
    mailer = SMTPMailer("smtp.example.com", sender=SENDER, security=security)  # type: ignore[arg-type]
    assert mailer.port == port
    assert repr(mailer) == f"SMTPMailer(smtp.example.com:{port}, security={security!r})"


def test_repr_does_not_show_the_password() -> None:
    mailer = SMTPMailer("smtp.example.com", sender=SENDER, username="u", password="hunter2")
    assert "hunter2" not in repr(mailer)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"security": "ssl"},
        {"security": None},
        {"host": ""},
        {"host": "   "},
        {"host": None},
        {"port": 0},
        {"port": 65536},
        {"port": -25},
        {"port": True},
        {"port": "25"},
        {"port": 25.0},
        {"timeout": 0},
        {"timeout": -1},
        {"timeout": True},
        {"timeout": "30"},
        {"sender": ""},
        {"sender": "Licenses"},
        {"sender": "Licenses <no-reply>"},
        {"sender": "no-reply@example.com\r\nBcc: victim@example.org"},
        {"sender": None},
        {"username": "mailer"},
        {"password": "s3cret"},
    ],
    ids=repr,
)
def test_invalid_settings(kwargs: dict[str, Any]) -> None:
    options: dict[str, Any] = {"host": "smtp.example.com", "sender": SENDER, **kwargs}
    with pytest.raises(ValidationError):
        SMTPMailer(**options)


# -- end to end through the service -------------------------------------------------------------


def make_kit(server: SMTPServer) -> LicenseKit:
    return LicenseKit(
        new_test_store(),
        mailer_for(server),
        secret=TEST_SECRET,
        join_url=TEST_JOIN_URL,
        download_url=TEST_DOWNLOAD_URL,
        clock=FakeClock(),
        password_hasher=PasswordHasher.insecure_fast(),
    )


def test_install_invitations_survive_a_flaky_server_and_a_retry_completes_them(
    server: SMTPServer,
) -> None:
    kit = make_kit(server)
    admin, account = make_business_account(kit)
    key = kit.add_license_key(
        admin, account.id, product="Acme CAD", value="ACME-KEY-0001", seats=40
    )
    emails = [f"installer{i:02d}@example.org" for i in range(30)]
    deferred = {emails[i]: f"45{i % 2} 4.2.1 mailbox busy" for i in (2, 9, 17, 25)}
    refused = {emails[i]: "550 5.1.1 no such user" for i in (5, 21)}
    handler = server.handler
    handler.rcpt_replies.update({**deferred, **refused})
    handler.drop_at_mail.add(13)  # the server goes away once, mid-batch
    csv = "email\n" + "\n".join(emails) + "\n"

    batch = kit.invite_installers(admin, account.id, key.id, csv=csv)

    assert [v.email for v in batch.invited] == emails
    assert {f.email: f.permanent for f in batch.undelivered} == {
        **dict.fromkeys(deferred, False),
        **dict.fromkeys(refused, True),
    }
    views = {
        v.email: v for v in kit.list_install_invitations(admin, account.id, key.id, limit=100).items
    }
    counts = handler.delivered_count()
    for address, view in views.items():
        assert view.delivery_attempts == 1, address
        if address in deferred:
            assert view.delivery is DeliveryStatus.FAILED
            assert deferred[address][:3] in view.delivery_error
            assert view.sent_count == 0
            assert counts[address] == 0
        elif address in refused:
            assert view.delivery is DeliveryStatus.REFUSED
            assert "550" in view.delivery_error
            assert view.sent_count == 0
            assert counts[address] == 0
        else:
            assert view.delivery is DeliveryStatus.SENT
            assert view.delivery_error == ""
            assert view.sent_count == 1
            assert counts[address] == 1, address
    assert handler.connections >= 2  # it did reconnect

    # Each email carries the invitee's own code and link.
    exported = kit.export_install_invitations(admin, account.id, key.id).splitlines()[1:]
    for row in exported:
        address, code, link = row.split(",")
        for received in handler.received_by(address):
            text = received.text()
            assert code in text
            assert link in text

    # The server recovers; a retry sends exactly what is missing.
    handler.rcpt_replies = dict(refused)

    report = kit.send_install_invitations(admin, account.id, key.id)

    assert sorted(v.email for v in report.sent) == sorted(deferred)
    assert report.undelivered == ()
    counts = handler.delivered_count()
    assert counts == Counter([e for e in emails if e not in refused])
    for address in refused:
        assert handler.rcpt_attempts[address] == 1  # never retried
    views = {
        v.email: v for v in kit.list_install_invitations(admin, account.id, key.id, limit=100).items
    }
    for address in deferred:
        view = views[address]
        assert (view.delivery, view.delivery_attempts, view.sent_count) == (
            DeliveryStatus.SENT,
            2,
            1,
        )
        assert view.delivery_error == ""
    for address in refused:
        assert (views[address].delivery, views[address].delivery_attempts) == (
            DeliveryStatus.REFUSED,
            1,
        )

    # Nothing is left to send: another retry sends nothing at all.
    received_before = len(handler.received)
    again = kit.send_install_invitations(admin, account.id, key.id)
    assert (again.sent, again.undelivered) == ((), ())
    assert len(handler.received) == received_before

    # An explicit resend does try a refused address again (the address was fixed, say).
    handler.rcpt_replies.clear()
    target = views[next(iter(refused))]
    resent = kit.resend_install_invitation(admin, account.id, target.id)
    assert (resent.delivery, resent.delivery_attempts, resent.sent_count) == (
        DeliveryStatus.SENT,
        2,
        1,
    )
    assert handler.delivered_count()[target.email] == 1


def test_an_internationalised_address_costs_no_duplicate_and_no_lost_email(
    server: SMTPServer,
) -> None:
    kit = make_kit(server)
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="Acme CAD", value="ACME-KEY-2", seats=5)
    emails = ["first@example.org", "j\u00fcrgen@example.org", "third@example.org"]

    kit.invite_installers(admin, account.id, key.id, emails)
    kit.send_install_invitations(admin, account.id, key.id)

    counts = server.handler.delivered_count()
    assert counts["first@example.org"] == 1
    assert counts["third@example.org"] == 1
    views = kit.list_install_invitations(admin, account.id, key.id).items
    for view in views:
        assert view.sent_count == counts[view.email], view.email


def test_join_invitations_survive_a_flaky_server_and_a_retry_completes_them(
    server: SMTPServer,
) -> None:
    kit = make_kit(server)
    admin, account = make_business_account(kit)
    emails = [f"member{i}@example.org" for i in range(8)]
    handler = server.handler
    deferred = {emails[1]: "451 4.3.0 try later", emails[6]: "452 4.2.2 mailbox full"}
    refused = {emails[3]: "550 5.1.1 no such user"}
    handler.rcpt_replies.update({**deferred, **refused})
    handler.drop_at_data.add(3)

    batch = kit.invite_members(admin, account.id, emails)

    assert {f.email: f.permanent for f in batch.undelivered} == {
        emails[1]: False,
        emails[6]: False,
        emails[3]: True,
    }
    views = {v.email: v for v in kit.list_join_invitations(admin, account.id, limit=100).items}
    counts = handler.delivered_count()
    for address in emails:
        view = views[address]
        expected = (
            DeliveryStatus.FAILED
            if address in deferred
            else DeliveryStatus.REFUSED
            if address in refused
            else DeliveryStatus.SENT
        )
        assert (view.delivery, view.delivery_attempts) == (expected, 1), address
        assert counts[address] == (1 if expected is DeliveryStatus.SENT else 0), address
        assert view.sent_count == counts[address]
        if expected is not DeliveryStatus.SENT:
            assert (deferred | refused)[address][:3] in view.delivery_error

    handler.rcpt_replies = dict(refused)
    report = kit.send_join_invitations(admin, account.id)

    assert sorted(v.email for v in report.sent) == sorted(deferred)
    assert report.undelivered == ()
    assert handler.delivered_count() == Counter([e for e in emails if e not in refused])
    assert handler.rcpt_attempts[emails[3]] == 1
    views = {v.email: v for v in kit.list_join_invitations(admin, account.id, limit=100).items}
    assert {a: (views[a].delivery, views[a].delivery_attempts) for a in deferred} == dict.fromkeys(
        deferred, (DeliveryStatus.SENT, 2)
    )
    assert views[emails[3]].delivery is DeliveryStatus.REFUSED
    # The join link in each email is the invitee's own.
    for address in emails:
        for received in handler.received_by(address):
            text = received.text()
            assert TEST_JOIN_URL.split("{token}")[0] in text


# -- internationalised addresses ----------------------------------------------------------------


def test_a_non_ascii_domain_travels_in_idna_form(server: SMTPServer) -> None:
    results = mailer_for(server).send_batch([invitation("ann@b\u00fccher.example")])

    assert results == [None]
    (received,) = server.handler.received
    assert received.rcpt_tos == ("ann@xn--bcher-kva.example",)
    assert received.parsed()["To"] == "ann@xn--bcher-kva.example"


def test_a_non_ascii_local_part_needs_smtputf8_and_is_deferred_without_it(
    start_server: StartServer,
) -> None:
    ascii_only = start_server(enable_SMTPUTF8=False)

    (error,) = mailer_for(ascii_only).send_batch([invitation("j\u00fcrgen@example.org")])

    assert error is not None
    assert not error.permanent  # the relay's limit, not the recipient's: another relay can
    assert "SMTPUTF8" in str(error)
    assert ascii_only.handler.received == []


def test_a_non_ascii_local_part_is_sent_with_smtputf8_when_offered(
    start_server: StartServer,
) -> None:
    utf8 = start_server(enable_SMTPUTF8=True)

    results = mailer_for(utf8).send_batch(
        [invitation("first@example.org", 1), invitation("j\u00fcrgen@example.org", 2)]
    )

    assert results == [None, None]
    assert [r.rcpt_tos for r in utf8.handler.received] == [
        ("first@example.org",),
        ("j\u00fcrgen@example.org",),
    ]
    assert utf8.handler.received[1].parsed()["To"] == "j\u00fcrgen@example.org"
