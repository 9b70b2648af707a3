"""AsyncSMTPMailer against a real SMTP server (aiosmtpd) on 127.0.0.1, as SMTPMailer is tested.

It runs SMTPMailer in worker threads, so these tests check what the async face adds: the
coroutine methods, the same errors (``permanent`` included), tasks sending at once, an event
loop that keeps running while the server is slow, and, through AsyncLicenseKit, invitations
whose delivery tracking ends exactly as with LicenseKit and SMTPMailer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import socket
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from _smtp_server import SMTPServer, StartServer
from licensekit import DeliveryStatus, LicenseKit, MemoryStore, PasswordHasher
from licensekit.aio import AsyncLicenseKit
from licensekit.exceptions import DeliveryError, ValidationError
from licensekit.mail import AsyncBatchMailer, AsyncMailer, Message, render_install_invitation
from licensekit.mailers import AsyncSMTPMailer, SMTPMailer
from licensekit.testing import TEST_DOWNLOAD_URL, TEST_JOIN_URL, TEST_SECRET, FakeClock

SENDER = "Licenses <no-reply@example.com>"
EXPIRES = dt.datetime(2031, 5, 17, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def server(start_server: StartServer) -> SMTPServer:
    return start_server()


def async_mailer_for(server: SMTPServer, **kwargs: Any) -> AsyncSMTPMailer:
    options: dict[str, Any] = {"security": "none", "timeout": 10, **kwargs}
    return AsyncSMTPMailer("127.0.0.1", server.port, sender=SENDER, **options)


def invitation(to: str, n: int = 0) -> Message:
    return render_install_invitation(
        to=to,
        product="Acme CAD",
        account_name="Example Corp",
        inviter_email="admin@example.com",
        download_url=f"https://downloads.example.com/install?token=tok{n:04d}",
        code=f"ABCD-EFGH-{n:04d}",
        token=f"tok{n:04d}",
        expires_at=EXPIRES,
        language="en",
        service_name="Example Licensing",
    )


def invitations(count: int, prefix: str = "user") -> list[Message]:
    return [invitation(f"{prefix}{i:02d}@example.org", i) for i in range(count)]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# -- the mailer itself ----------------------------------------------------------------------


def test_it_is_an_async_batch_mailer_with_coroutine_methods() -> None:
    mailer = AsyncSMTPMailer("127.0.0.1", 2525, sender=SENDER, security="none")

    assert isinstance(mailer, AsyncMailer)
    assert isinstance(mailer, AsyncBatchMailer)
    assert inspect.iscoroutinefunction(mailer.send)
    assert inspect.iscoroutinefunction(mailer.send_batch)
    assert isinstance(mailer.mailer, SMTPMailer)


def test_it_takes_the_same_arguments_as_the_smtp_mailer() -> None:
    assert inspect.signature(AsyncSMTPMailer.__init__) == inspect.signature(SMTPMailer.__init__)


def test_settings_are_those_of_the_smtp_mailer_it_builds() -> None:
    mailer = AsyncSMTPMailer(
        "smtp.example.com", sender=SENDER, security="tls", username="u", password="hunter2"
    )

    assert (mailer.host, mailer.port, mailer.sender, mailer.security, mailer.timeout) == (
        "smtp.example.com",
        465,
        SENDER,
        "tls",
        30.0,
    )
    assert repr(mailer) == "AsyncSMTPMailer(smtp.example.com:465, security='tls')"
    assert "hunter2" not in repr(mailer)


@pytest.mark.parametrize(
    "kwargs",
    [{"port": 0}, {"security": "ssl"}, {"username": "mailer"}, {"sender": "Licenses"}],
    ids=repr,
)
def test_invalid_settings_are_refused_at_once(kwargs: dict[str, Any]) -> None:
    options: dict[str, Any] = {"host": "smtp.example.com", "sender": SENDER, **kwargs}
    with pytest.raises(ValidationError):
        AsyncSMTPMailer(**options)


@pytest.mark.asyncio
async def test_send_delivers_one_message(server: SMTPServer) -> None:
    message = invitation("alice@example.org", 7)

    await async_mailer_for(server).send(message)

    (received,) = server.handler.received
    assert received.mail_from == "no-reply@example.com"
    assert received.rcpt_tos == ("alice@example.org",)
    parsed = received.parsed()
    assert parsed["From"] == SENDER
    assert parsed["Subject"] == message.subject
    assert "ABCD-EFGH-0007" in received.text()
    assert server.handler.quits == 1


@pytest.mark.asyncio
async def test_a_batch_goes_over_one_connection(server: SMTPServer) -> None:
    messages = invitations(12)

    results = await async_mailer_for(server).send_batch(messages)

    assert results == [None] * 12
    assert server.handler.connections == 1
    assert [r.rcpt_tos for r in server.handler.received] == [(m.to,) for m in messages]


@pytest.mark.asyncio
async def test_an_empty_batch_sends_nothing(server: SMTPServer) -> None:
    assert await async_mailer_for(server).send_batch([]) == []
    assert server.handler.connections == 0


@pytest.mark.asyncio
async def test_a_permanent_refusal_fails_that_recipient_alone(server: SMTPServer) -> None:
    messages = invitations(5)
    server.handler.rcpt_replies["user02@example.org"] = "550 5.1.1 no such user"
    server.handler.rcpt_replies["user03@example.org"] = "451 4.3.0 try again later"

    results = await async_mailer_for(server).send_batch(messages)

    kinds = [None if r is None else r.permanent for r in results]
    assert kinds == [None, None, True, False, None]
    assert "refused the message to user02@example.org (the recipient): 550" in str(results[2])
    assert server.handler.delivered_count() == Counter(
        ["user00@example.org", "user01@example.org", "user04@example.org"]
    )
    assert server.handler.connections == 1


@pytest.mark.asyncio
async def test_send_raises_the_permanent_delivery_error(server: SMTPServer) -> None:
    server.handler.rcpt_replies["bob@example.org"] = "550 5.1.1 no such user"

    with pytest.raises(DeliveryError, match=r"refused the message to bob@example\.org") as e:
        await async_mailer_for(server).send(invitation("bob@example.org"))

    assert e.value.permanent
    assert server.handler.received == []


@pytest.mark.asyncio
async def test_an_unreachable_server_is_a_retryable_failure() -> None:
    port = closed_port()
    mailer = AsyncSMTPMailer("127.0.0.1", port, sender=SENDER, security="none", timeout=10)

    with pytest.raises(DeliveryError, match=f"cannot reach the SMTP server 127.0.0.1:{port}") as e:
        await mailer.send(invitation("alice@example.org"))
    results = await mailer.send_batch(invitations(4))

    assert not e.value.permanent
    assert all(isinstance(r, DeliveryError) and not r.permanent for r in results)
    assert "ConnectionRefusedError" in str(results[0])


@pytest.mark.asyncio
async def test_tasks_send_at_once_each_on_its_own_connection(server: SMTPServer) -> None:
    mailer = async_mailer_for(server)
    batches = [invitations(5, prefix=f"task{t}-") for t in range(4)]

    results = await asyncio.gather(*(mailer.send_batch(batch) for batch in batches))

    assert results == [[None] * 5] * 4
    everyone = [m.to for batch in batches for m in batch]
    assert server.handler.delivered_count() == Counter(everyone)
    assert server.handler.connections == 4


@pytest.mark.asyncio
async def test_the_event_loop_runs_while_the_server_keeps_it_waiting() -> None:
    # A socket that listens and never greets: the mailer waits for its timeout, in a thread.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        mailer = AsyncSMTPMailer("127.0.0.1", port, sender=SENDER, security="none", timeout=0.2)
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        try:
            results = await mailer.send_batch(invitations(3))
        finally:
            ticker.cancel()

    assert all(isinstance(r, DeliveryError) and not r.permanent for r in results)
    assert ticks >= 5  # the loop went on while the thread waited (0.2 s or more)


# -- through the facades: AsyncLicenseKit + AsyncSMTPMailer ends as LicenseKit + SMTPMailer ----


class AwaitedKit:
    """LicenseKit's methods as coroutine functions that call it inline.

    The scenarios below are written once, awaited, and run on both kits through this.
    """

    def __init__(self, kit: LicenseKit) -> None:
        self._kit = kit

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._kit, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return method(*args, **kwargs)

        return call


def tracking(views: Any) -> dict[str, tuple[DeliveryStatus, int, int, str]]:
    """Each invitation's delivery state, attempts, messages sent and error, by address."""
    return {
        v.email: (v.delivery, v.delivery_attempts, v.sent_count, v.delivery_error)
        for v in views.items
    }


async def join_scenario(kit: Any, server: SMTPServer) -> dict[str, object]:
    """Invite eight members past a flaky server, then retry once it has recovered."""
    await kit.register_user("admin@example.com", "admin passphrase 1", email_verified=True)
    admin = await kit.log_in("admin@example.com", "admin passphrase 1")
    account = await kit.create_business_account(admin, "Example Corp")
    emails = [f"member{i}@example.org" for i in range(8)]
    handler = server.handler
    refused = {emails[3]: "550 5.1.1 no such user"}
    handler.rcpt_replies.update(
        {emails[1]: "451 4.3.0 try later", emails[6]: "452 4.2.2 mailbox full", **refused}
    )
    handler.drop_at_data.add(3)  # the server drops the connection once, mid-batch

    batch = await kit.invite_members(admin, account.id, emails)
    first = tracking(await kit.list_join_invitations(admin, account.id, limit=100))
    handler.rcpt_replies = dict(refused)
    report = await kit.send_join_invitations(admin, account.id)
    second = tracking(await kit.list_join_invitations(admin, account.id, limit=100))
    return {
        "undelivered": {f.email: f.permanent for f in batch.undelivered},
        "first": first,
        "retried": sorted(v.email for v in report.sent),
        "second": second,
        "received": handler.delivered_count(),
    }


async def install_scenario(kit: Any, server: SMTPServer) -> dict[str, object]:
    """Invite twelve installers past a flaky server, then retry once it has recovered."""
    await kit.register_user("admin@example.com", "admin passphrase 1", email_verified=True)
    admin = await kit.log_in("admin@example.com", "admin passphrase 1")
    account = await kit.create_business_account(admin, "Example Corp")
    key = await kit.add_license_key(
        admin, account.id, product="Acme CAD", value="ACME-KEY-0001", seats=20
    )
    emails = [f"installer{i:02d}@example.org" for i in range(12)]
    handler = server.handler
    refused = {emails[i]: "553 5.1.3 bad destination address" for i in (4, 9)}
    handler.rcpt_replies.update({emails[2]: "450 4.2.1 mailbox busy", **refused})
    handler.drop_at_mail.add(7)

    batch = await kit.invite_installers(admin, account.id, key.id, emails)
    first = tracking(await kit.list_install_invitations(admin, account.id, key.id, limit=100))
    handler.rcpt_replies = dict(refused)
    report = await kit.send_install_invitations(admin, account.id, key.id)
    second = tracking(await kit.list_install_invitations(admin, account.id, key.id, limit=100))
    return {
        "undelivered": {f.email: f.permanent for f in batch.undelivered},
        "first": first,
        "retried": sorted(v.email for v in report.sent),
        "second": second,
        "received": handler.delivered_count(),
    }


Scenario = Callable[[Any, SMTPServer], Any]
KIT_OPTIONS: dict[str, Any] = {
    "secret": TEST_SECRET,
    "join_url": TEST_JOIN_URL,
    "download_url": TEST_DOWNLOAD_URL,
}


def run_with_licensekit(scenario: Scenario, server: SMTPServer) -> dict[str, object]:
    mailer = SMTPMailer("127.0.0.1", server.port, sender=SENDER, security="none", timeout=10)
    kit = LicenseKit(
        MemoryStore(),
        mailer,
        clock=FakeClock(),
        password_hasher=PasswordHasher.insecure_fast(),
        **KIT_OPTIONS,
    )
    outcome: dict[str, object] = asyncio.run(scenario(AwaitedKit(kit), server))
    return outcome


async def run_with_async_licensekit(scenario: Scenario, server: SMTPServer) -> dict[str, object]:
    kit = AsyncLicenseKit(
        MemoryStore(),
        async_mailer_for(server),
        clock=FakeClock(),
        password_hasher=PasswordHasher.insecure_fast(),
        **KIT_OPTIONS,
    )
    assert type(kit.mailer) is AsyncSMTPMailer  # awaited as it is, not wrapped in a thread
    try:
        async with kit:
            outcome: dict[str, object] = await scenario(kit, server)
    finally:
        await kit.store.aclose()  # the worker threads of the store it serves from
    return outcome


@pytest.mark.parametrize("scenario", [join_scenario, install_scenario], ids=["join", "install"])
def test_async_delivery_tracking_ends_as_the_synchronous_one(
    start_server: StartServer, scenario: Scenario
) -> None:
    expected = run_with_licensekit(scenario, start_server())
    got = asyncio.run(run_with_async_licensekit(scenario, start_server()))

    assert got == expected
    # Not two empty results that agree: every outcome is there, as with SMTPMailer's own test.
    first, second, received = got["first"], got["second"], got["received"]
    assert isinstance(first, dict)
    assert isinstance(second, dict)
    assert isinstance(received, Counter)
    assert {state for state, *_ in first.values()} == {
        DeliveryStatus.SENT,
        DeliveryStatus.FAILED,
        DeliveryStatus.REFUSED,
    }
    assert {state for state, *_ in second.values()} == {
        DeliveryStatus.SENT,
        DeliveryStatus.REFUSED,
    }
    assert got["retried"]
    assert set(received.values()) == {1}  # every address delivered got its message once
