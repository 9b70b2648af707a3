"""What a host-built message with an odd address does at the SMTP mailer.

normalize_email reads an address without the spaces around it, so the mailer, which checks
each recipient with it, sends to the address without them too: the envelope and the To
header hold the address alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from _smtp_server import SMTPServer
from licensekit.emails import normalize_email
from licensekit.exceptions import DeliveryError
from licensekit.mail import Message, MessageKind
from licensekit.mailers import SMTPMailer

SENDER = "Licenses <no-reply@example.com>"


@pytest.fixture
def server() -> Iterator[SMTPServer]:
    with contextlib.ExitStack() as stack:
        yield stack.enter_context(SMTPServer(enable_SMTPUTF8=True))


def message(to: str) -> Message:
    return Message(
        to=to,
        subject="Hello",
        text="Hello",
        html="<p>Hello</p>",
        language="en",
        kind=MessageKind.INSTALL_INVITATION,
    )


@pytest.mark.parametrize(
    ("address", "envelope"),
    [
        (" ann@example.org", "ann@example.org"),
        ("ann@example.org\n", "ann@example.org"),
        ("\tAnn@B\u00fccher.example ", "Ann@xn--bcher-kva.example"),
        (" j\u00fcrgen@b\u00fccher.example\n", "j\u00fcrgen@b\u00fccher.example"),  # SMTPUTF8
    ],
)
def test_an_address_with_spaces_around_it_goes_out_without_them(
    server: SMTPServer, address: str, envelope: str
) -> None:
    normalize_email(address)  # licensekit takes it

    mailer = SMTPMailer("127.0.0.1", server.port, sender=SENDER, security="none", timeout=10)
    assert mailer.send_batch([message(address)]) == [None]

    (received,) = server.handler.received
    assert received.rcpt_tos == (envelope,)
    assert received.parsed()["To"] == envelope


def test_a_line_break_inside_an_address_fails_for_good_before_any_connection(
    server: SMTPServer,
) -> None:
    mailer = SMTPMailer("127.0.0.1", server.port, sender=SENDER, security="none", timeout=10)

    (error,) = mailer.send_batch([message("ann@example.org\r\nBcc: eve@example.org")])

    assert isinstance(error, DeliveryError)
    assert error.permanent
    assert server.handler.connections == 0
