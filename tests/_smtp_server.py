"""A real SMTP server on 127.0.0.1 for the mailer tests: aiosmtpd, with knobs for failures.

:class:`RecordingHandler` records every message the server accepts and can be told to answer
a recipient with a 4xx or 5xx reply, to answer a MAIL command with a reply of its choosing, or
to drop the connection at the Nth MAIL or DATA command. :class:`SMTPServer` runs it on a free
port in a thread (a context manager: it always stops). :func:`make_certificate` writes a
self-signed certificate for ``localhost`` / ``127.0.0.1`` for the TLS tests.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import ipaddress
import ssl
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "Authenticator",
    "Received",
    "RecordingHandler",
    "SMTPServer",
    "StartServer",
    "make_certificate",
]


@dataclass(frozen=True)
class Received:
    """One message the server accepted (answered 250 to its DATA)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    peer: object
    tls: bool
    login: str | None

    def parsed(self) -> EmailMessage:
        message = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message

    def text(self) -> str:
        """The plain-text body."""
        body = self.parsed().get_body(("plain",))
        assert body is not None
        content: str = body.get_content()
        return content


class RecordingHandler:
    """aiosmtpd handler: records what is accepted, and fails where it is told to.

    Attributes (set them before sending, or between batches):
        rcpt_replies: Recipient address -> the reply to its RCPT instead of 250
            (``"450 4.2.1 try later"``, ``"550 5.1.1 no such user"``).
        data_replies: Recipient address -> the reply to the end of its DATA instead of 250
            (the message is then not accepted).
        mail_replies: 1-based number of a MAIL command (counted over the server's life)
            -> the reply to it instead of 250 (``"421 4.3.2 closing"``).
        drop_at_mail / drop_at_data: 1-based numbers of MAIL / DATA commands at which the
            server closes the connection without answering (at DATA: before accepting).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.received: list[Received] = []
        self.rcpt_replies: dict[str, str] = {}
        self.data_replies: dict[str, str] = {}
        self.mail_replies: dict[int, str] = {}
        self.drop_at_mail: set[int] = set()
        self.drop_at_data: set[int] = set()
        self.rcpt_attempts: Counter[str] = Counter()
        self.mail_commands = 0
        self.data_commands = 0
        self.greetings: list[object] = []  # the peer of each EHLO / HELO
        self.quits = 0

    # -- what the tests read ---------------------------------------------------------------

    @property
    def connections(self) -> int:
        """How many connections greeted the server (a STARTTLS connection counts once)."""
        with self._lock:
            return len(set(self.greetings))

    def received_by(self, address: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if address in r.rcpt_tos]

    def delivered_count(self) -> Counter[str]:
        """How many accepted messages each recipient got."""
        with self._lock:
            return Counter(to for r in self.received for to in r.rcpt_tos)

    # -- aiosmtpd hooks --------------------------------------------------------------------

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        with self._lock:
            self.greetings.append(session.peer)
        return responses

    async def handle_HELO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str
    ) -> str:
        session.host_name = hostname
        with self._lock:
            self.greetings.append(session.peer)
        return f"250 {server.hostname}"

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self._lock:
            self.mail_commands += 1
            number = self.mail_commands
            drop = number in self.drop_at_mail
            reply = self.mail_replies.get(number)
        if drop:
            return _drop(server)
        if reply is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self._lock:
            self.rcpt_attempts[address] += 1
            reply = self.rcpt_replies.get(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:
            self.data_commands += 1
            if self.data_commands in self.drop_at_data:
                return _drop(server)
            for address in envelope.rcpt_tos:
                if address in self.data_replies:
                    return self.data_replies[address]
            auth_data: object = session.auth_data
            transport = server.transport
            assert transport is not None
            content = envelope.content
            assert isinstance(content, bytes)
            assert envelope.mail_from is not None
            self.received.append(
                Received(
                    mail_from=envelope.mail_from,
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    content=content,
                    peer=session.peer,
                    tls=transport.get_extra_info("ssl_object") is not None,
                    login=auth_data.login.decode()
                    if isinstance(auth_data, LoginPassword)
                    else None,
                )
            )
        return "250 OK"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:
            self.quits += 1
        return "221 Bye"


def _drop(server: SMTP) -> str:
    """Close the connection at once; the reply returned is never written."""
    assert server.transport is not None
    server.transport.close()
    return "421 4.3.0 closing"


class Authenticator:
    """aiosmtpd authenticator accepting one user name and password; counts the attempts."""

    def __init__(self, username: str, password: str) -> None:
        self._expected = LoginPassword(username.encode(), password.encode())
        self.attempts = 0

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        self.attempts += 1
        if auth_data == self._expected:
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)


class _Controller(Controller):
    def __init__(self, handler: object, **kwargs: Any) -> None:
        # port=0 binds a free port; _trigger_server learns which before the first connection.
        super().__init__(
            handler, hostname="127.0.0.1", port=0, server_hostname="smtp.test", **kwargs
        )

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class SMTPServer:
    """An aiosmtpd server on 127.0.0.1 and a free port, running while the context is open.

    Args:
        handler: The hooks; a new :class:`RecordingHandler` when omitted.
        ssl_context: Implicit TLS with this server context.
        **smtp_kwargs: Passed to aiosmtpd's ``SMTP`` (``tls_context``, ``require_starttls``,
            ``authenticator``, ``auth_require_tls``...).
    """

    def __init__(
        self,
        handler: RecordingHandler | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        **smtp_kwargs: Any,
    ) -> None:
        self.handler = handler if handler is not None else RecordingHandler()
        self._controller = _Controller(self.handler, ssl_context=ssl_context, **smtp_kwargs)

    @property
    def port(self) -> int:
        port = self._controller.port
        assert port != 0, "the server is not started"
        return port

    def __enter__(self) -> SMTPServer:
        self._controller.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._controller.stop()


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """Write a self-signed certificate for ``localhost`` and ``127.0.0.1``; return its paths.

    Returns:
        (certificate PEM, private key PEM). The certificate is its own CA: a client trusts it
        with ``ssl.create_default_context(cafile=certificate)``.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path = folder / "localhost.pem"
    key_path = folder / "localhost.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


StartServer = Callable[..., SMTPServer]
"""The ``start_server`` fixture: starts an :class:`SMTPServer` stopped when the test ends."""
