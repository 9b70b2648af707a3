"""Which recipients SMTPMailer sends to: the addresses licensekit accepts, and only those.

A message's address is checked by licensekit's own :func:`~licensekit.emails.normalize_email`
(its reasons, its fast path for plain addresses, the email-validator options the host has
set), against a real SMTP server (aiosmtpd) on 127.0.0.1. An address it refuses fails at
once, for good, with licensekit's reason, and never reaches the server; the rest of the
batch goes on.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import email_validator
import pytest

from _smtp_server import SMTPServer, StartServer
from licensekit.emails import normalize_email
from licensekit.exceptions import DeliveryError, InvalidEmail
from licensekit.mail import Message, render_install_invitation
from licensekit.mailers import AsyncSMTPMailer, SMTPMailer

SENDER = "Licenses <no-reply@example.com>"
EXPIRES = dt.datetime(2031, 5, 17, 9, 30, tzinfo=dt.UTC)


# Addresses licensekit refuses, each for a reason of its own or of email-validator's.
INVALID = [
    "not-an-address",
    "ann@localhost",  # a special-use name
    "ann@example.test",  # likewise, unless the host says it is testing
    "Ann <ann@example.org>",  # a display name: an address is asked for
    "bob@example.org, eve@example.org",  # two addresses
    "a..b@example.org",
    "ann@example..org",
    "ann@-example.org",
    "a" * 65 + "@example.org",  # RFC 5321's 64 octets before the @: licensekit's own rule
    "=?utf-8?q?ann?=@example.org",  # an encoded word, which headers would decode
    "ann@b\u00fccher..example",  # not ASCII and not valid: once deferred as needing SMTPUTF8
    "j\u00fcrgen@-b\u00fccher.example",
    "\u00fc" * 33 + "@example.org",  # 66 octets in UTF-8
]


@pytest.fixture
def server(start_server: StartServer) -> SMTPServer:
    return start_server(enable_SMTPUTF8=True)


def mailer_for(server: SMTPServer) -> SMTPMailer:
    return SMTPMailer("127.0.0.1", server.port, sender=SENDER, security="none", timeout=10)


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


def reason(address: str) -> str:
    with pytest.raises(InvalidEmail) as refused:
        normalize_email(address)
    return refused.value.reason


@pytest.mark.parametrize("address", INVALID)
def test_an_address_licensekit_refuses_fails_for_good_with_its_reason(
    server: SMTPServer, address: str
) -> None:
    (error,) = mailer_for(server).send_batch([invitation(address)])

    assert isinstance(error, DeliveryError)
    assert error.permanent
    assert str(error).endswith(f"not a valid address: {reason(address)}")
    assert server.handler.rcpt_attempts == {}
    assert server.handler.connections == 0  # nothing to send: no connection opened


def test_send_raises_the_same_error(server: SMTPServer) -> None:
    with pytest.raises(DeliveryError, match="not a valid address") as raised:
        mailer_for(server).send(invitation("ann@localhost"))

    assert raised.value.permanent


def test_the_rest_of_a_batch_goes_out_on_one_connection(server: SMTPServer) -> None:
    addresses = ["first@example.org", *INVALID, "last@example.org", "ann@b\u00fccher.example"]

    results = mailer_for(server).send_batch([invitation(a, n) for n, a in enumerate(addresses)])

    assert results[0] is None
    assert all(isinstance(e, DeliveryError) and e.permanent for e in results[1:-2])
    assert results[-2:] == [None, None]
    assert [r.rcpt_tos for r in server.handler.received] == [
        ("first@example.org",),
        ("last@example.org",),
        ("ann@xn--bcher-kva.example",),
    ]
    assert server.handler.connections == 1


def test_an_invalid_non_ascii_address_is_not_deferred_as_needing_smtputf8(
    start_server: StartServer,
) -> None:
    ascii_only = start_server(enable_SMTPUTF8=False)

    (error,) = mailer_for(ascii_only).send_batch([invitation("ann@b\u00fccher..example")])

    assert isinstance(error, DeliveryError)
    assert error.permanent  # retrying, through any relay, can never deliver it
    assert "SMTPUTF8" not in str(error)


@pytest.mark.parametrize(
    ("address", "envelope"),
    [
        ("ann@example.org", "ann@example.org"),
        ("Ann.Smith@Example.ORG", "Ann.Smith@Example.ORG"),  # sent as given
        ("ann@b\u00fccher.example", "ann@xn--bcher-kva.example"),
        ("Ann@B\u00fccher.Example", "Ann@xn--bcher-kva.example"),
        ("ann@xn--bcher-kva.example", "ann@xn--bcher-kva.example"),
        ("j\u00fcrgen@b\u00fccher.example", "j\u00fcrgen@b\u00fccher.example"),  # SMTPUTF8
    ],
)
def test_every_address_licensekit_accepts_is_delivered(
    server: SMTPServer, address: str, envelope: str
) -> None:
    normalize_email(address)  # licensekit accepts it

    assert mailer_for(server).send_batch([invitation(address)]) == [None]

    (received,) = server.handler.received
    assert received.rcpt_tos == (envelope,)


def test_a_stored_address_is_delivered_as_stored(server: SMTPServer) -> None:
    addresses = ["ann.smith@mail.example.co.uk", "J\u00fcrgen@B\u00dcCHER.example"]
    stored = [normalize_email(a) for a in addresses]  # what licensekit keeps

    assert mailer_for(server).send_batch([invitation(a) for a in stored]) == [None, None]
    assert [r.rcpt_tos for r in server.handler.received] == [
        ("ann.smith@mail.example.co.uk",),
        ("j\u00fcrgen@b\u00fccher.example",),
    ]


@pytest.mark.parametrize(
    ("option", "value", "address"),
    [
        ("TEST_ENVIRONMENT", True, "ann@example.test"),
        ("TEST_ENVIRONMENT", True, "ann@b\u00fccher.test"),
        ("SPECIAL_USE_DOMAIN_NAMES", [], "ann@mail.local"),
        ("SPECIAL_USE_DOMAIN_NAMES", ["example.org"], "ann@example.org"),
        ("SPECIAL_USE_DOMAIN_NAMES", ["example.org"], "ann@b\u00fccher.example.org"),
        ("ALLOW_SMTPUTF8", False, "j\u00fcrgen@example.org"),
        ("ALLOW_QUOTED_LOCAL", True, '"ann smith"@example.org'),
    ],
)
def test_the_email_validator_options_a_host_sets_decide_as_for_licensekit(
    server: SMTPServer, monkeypatch: pytest.MonkeyPatch, option: str, value: object, address: str
) -> None:
    """Whatever the host sets, the mailer takes what licensekit takes, and refuses the rest."""
    monkeypatch.setattr(email_validator, option, value)
    try:
        normalize_email(address)
    except InvalidEmail as e:
        accepted, expected = False, e.reason
    else:
        accepted, expected = True, ""

    (error,) = mailer_for(server).send_batch([invitation(address)])

    if accepted:
        assert error is None
        assert len(server.handler.received) == 1
    else:
        assert isinstance(error, DeliveryError)
        assert error.permanent
        assert str(error).endswith(f"not a valid address: {expected}")
        assert server.handler.received == []


def test_the_async_mailer_refuses_alike(server: SMTPServer) -> None:
    mailer = AsyncSMTPMailer("127.0.0.1", server.port, sender=SENDER, security="none", timeout=10)

    async def send() -> list[DeliveryError | None]:
        return await mailer.send_batch([invitation("ann@localhost"), invitation("ann@example.org")])

    refused, sent = asyncio.run(send())

    assert isinstance(refused, DeliveryError)
    assert refused.permanent
    assert str(refused).endswith(f"not a valid address: {reason('ann@localhost')}")
    assert sent is None
    assert [r.rcpt_tos for r in server.handler.received] == [("ann@example.org",)]
