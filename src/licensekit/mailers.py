"""Mailers shipped with licensekit: SMTP, and a folder of ``.eml`` files.

* :class:`SMTPMailer` hands messages to an SMTP server with :mod:`smtplib`: STARTTLS or
  implicit TLS, an optional login, a timeout, one connection reused across a batch, and a
  reconnection when the server drops it. It tells failures that may pass (a 4xx reply, a
  refused or dropped connection) from those that will not (a 5xx reply for a recipient), so
  that licensekit retries only the first kind.
* :class:`AsyncSMTPMailer` is the same mailer for async hosts
  (:class:`licensekit.aio.AsyncLicenseKit`): its methods are coroutine functions, and each
  call runs :class:`SMTPMailer` in a worker thread, so no new dependency comes with it.
* :class:`FileMailer` writes each message as an ``.eml`` file into a folder, for the demo, for
  development, and for hosts whose own system picks the files up.

The test kit's :class:`licensekit.testing.RecordingMailer` keeps messages in memory.
"""

from __future__ import annotations

import email.policy
import itertools
import os
import re
import secrets
import smtplib
import ssl
import threading
import time
from collections.abc import Sequence
from email.headerregistry import Address
from email.policy import SMTP, SMTPUTF8
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Literal

import attrs

from licensekit.aio._threads import ThreadedBatchMailer
from licensekit.domain._echo import echo
from licensekit.emails import normalize_email
from licensekit.exceptions import DeliveryError, InvalidEmail, ValidationError
from licensekit.mail import Message

__all__ = ["AsyncSMTPMailer", "FileMailer", "SMTPMailer"]

Security = Literal["starttls", "tls", "none"]
_DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


def _email_message_bytes(
    message: Message, sender: str, domain: str, policy: email.policy.Policy
) -> bytes:
    email_message = message.to_email_message(sender)
    email_message["Date"] = formatdate(usegmt=True)
    email_message["Message-ID"] = make_msgid(domain=domain)
    return email_message.as_bytes(policy=policy)


def _envelope_recipient(address: str) -> str | None:
    """Return *address* in ASCII (its domain in IDNA 2008 form), or None if it cannot be.

    The address must be one licensekit accepts: :func:`~licensekit.emails.normalize_email`
    decides, with its reasons, its fast path for plain ASCII addresses, and whatever
    email-validator options the host has set, so the mailer sends to exactly the addresses
    the rest of licensekit takes. The address itself is kept as given but for the spaces
    around it, which normalize_email ignores too (an address licensekit stored is normalised
    already).

    An address with a non-ASCII local part needs SMTPUTF8 and gets None. A non-ASCII domain
    is converted by email-validator, as it was when the address was accepted (Python's own
    ``idna`` codec follows IDNA 2003, which sends ``straße.de`` to ``strasse.de``).

    Raises:
        DeliveryError: The address is not valid (permanent: no retry can change that).
    """
    try:
        normalize_email(address)
    except InvalidEmail as e:
        raise _invalid_recipient(address, e.reason) from None
    address = address.strip()  # as normalize_email reads it: no space in the envelope
    if address.isascii():
        return address
    import email_validator  # loaded by normalize_email above: a look-up, not an import

    try:
        checked = email_validator.validate_email(address, check_deliverability=False)
    except email_validator.EmailNotValidError as e:  # the host changed its options meanwhile
        raise _invalid_recipient(address, str(e)) from None
    return checked.ascii_email


def _invalid_recipient(address: str, reason: str) -> DeliveryError:
    return DeliveryError(
        f"the message to {echo(address)} cannot be sent: not a valid address: {reason}",
        permanent=True,
    )


def _check_sender(sender: str) -> tuple[str, str]:
    """Return (envelope address, domain) of a From header value, refusing a bad one."""
    value: object = sender
    if not isinstance(value, str) or any(c in sender for c in "\r\n"):
        raise ValidationError("sender must be one line of text, e.g. 'Licenses <no-reply@x.com>'")
    _, address = parseaddr(sender)
    try:
        parsed = Address(addr_spec=address)
    except (ValueError, IndexError) as e:
        raise ValidationError(
            f"sender {echo(sender)} holds no valid email address", field="sender"
        ) from e
    if not parsed.domain:
        raise ValidationError(f"sender {echo(sender)} holds no valid email address", field="sender")
    return address, parsed.domain


class SMTPMailer:
    """A :class:`~licensekit.mail.BatchMailer` that sends through an SMTP server.

    Args:
        host: The server's name or address.
        port: Its port; 587 for STARTTLS, 465 for implicit TLS, 25 without TLS by default.
        sender: The From header, e.g. ``"Licenses <no-reply@example.com>"``; its address is
            also the envelope sender.
        security: ``"starttls"`` (the default: upgrade the connection before anything is
            sent, and fail if the server cannot), ``"tls"`` (TLS from the first byte), or
            ``"none"`` (plain text: only for a relay on the same machine or in tests).
        username: Log in with this name (after TLS), when given.
        password: The password for *username*.
        timeout: Seconds to wait for the server at each step.
        ssl_context: The TLS settings; :func:`ssl.create_default_context` (certificates and
            host names checked) when omitted.

    One instance may be shared by threads; each batch (and each single message) has its own
    connection.

    Raises:
        ValidationError: A setting is invalid.
    """

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        sender: str,
        security: Security = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in _DEFAULT_PORTS:
            raise ValidationError(f"security must be one of {sorted(_DEFAULT_PORTS)}")
        given: dict[str, object] = {"host": host, "port": port, "timeout": timeout}
        if not isinstance(given["host"], str) or not host.strip():
            raise ValidationError("host must name the SMTP server")
        if port is not None and (
            isinstance(given["port"], bool)
            or not isinstance(given["port"], int)
            or not 0 < port < 65536
        ):
            raise ValidationError(f"port must be between 1 and 65535, got {echo(port)}")
        if (username is None) != (password is None):
            raise ValidationError("give both username and password, or neither")
        if (
            isinstance(given["timeout"], bool)
            or not isinstance(given["timeout"], int | float)
            or timeout <= 0
        ):
            raise ValidationError(
                f"timeout must be a positive number of seconds, got {echo(timeout)}"
            )
        self.host = host.strip()
        self.port = port if port is not None else _DEFAULT_PORTS[security]
        self.sender = sender
        self._envelope_from, self._domain = _check_sender(sender)
        self.security: Security = security
        self._username = username
        self._password = password
        self.timeout = float(timeout)
        self._ssl_context = ssl_context

    def __repr__(self) -> str:
        return f"SMTPMailer({self.host}:{self.port}, security={self.security!r})"

    def send(self, message: Message) -> None:
        """Send one message on its own connection.

        Raises:
            DeliveryError: The server refused it or could not be reached.
        """
        (error,) = self.send_batch([message])
        if error is not None:
            raise error

    def send_batch(self, messages: Sequence[Message]) -> list[DeliveryError | None]:
        """Send *messages* over one connection; see :meth:`licensekit.mail.BatchMailer`.

        A dropped connection (or a server closing it with 421) is opened again once per
        message; when the server cannot be reached at all, the remaining messages fail at
        once (retryable) rather than each waiting for its own timeout. Each batch has its own
        connection, so threads sending at the same time do not wait for each other.
        """
        results: list[DeliveryError | None] = []
        state = _Connection()
        unreachable: DeliveryError | None = None
        try:
            for message in messages:
                if unreachable is None:
                    error, unreachable = self._deliver(message, state)
                    results.append(error)
                else:
                    results.append(unreachable)
        finally:
            state.close()
        return results

    def _deliver(
        self, message: Message, state: _Connection
    ) -> tuple[DeliveryError | None, DeliveryError | None]:
        """Send one message; return (its error, the error that makes the server unreachable).

        Never raises: whatever goes wrong is this message's :class:`DeliveryError`. An
        address licensekit would not accept fails before any connection is made.
        """
        try:
            recipient = _envelope_recipient(message.to)
        except DeliveryError as e:
            return e, None
        for attempt in (1, 2):
            if state.smtp is None:
                try:
                    state.smtp = self._connect()
                except DeliveryError as e:
                    if attempt == 2 or e.permanent:
                        return e, e
                    continue
            try:
                envelope_to, payload, options = self._prepare(message, recipient, state.smtp)
            except DeliveryError as e:
                return e, None
            except Exception as e:  # a message the email package cannot build
                return _unbuildable(message, e), None
            try:
                state.smtp.sendmail(self._envelope_from, [envelope_to], payload, options)
            except smtplib.SMTPRecipientsRefused as e:
                code, reply = e.recipients.get(envelope_to, (0, b""))
                return _refusal(message.to, code, reply, "recipient"), None
            except smtplib.SMTPResponseException as e:
                if e.smtp_code == 421:  # the server is closing the connection: drop it
                    state.close()
                    if attempt == 1:
                        continue
                phase = "sender" if isinstance(e, smtplib.SMTPSenderRefused) else "data"
                return _refusal(message.to, e.smtp_code, e.smtp_error, phase), None
            except (UnicodeError, ValueError) as e:  # a message smtplib cannot encode
                return _unbuildable(message, e), None
            except (smtplib.SMTPException, OSError) as e:
                state.close()
                if attempt == 2:
                    return (
                        DeliveryError(
                            f"the connection to {self.host}:{self.port} failed while sending "
                            f"to {message.to}: {type(e).__name__}: {e}"
                        ),
                        None,
                    )
                continue  # dropped: connect again and try this message once more
            except Exception as e:  # anything else: this message fails, the batch goes on
                state.close()
                return (
                    DeliveryError(f"sending to {message.to} failed: {type(e).__name__}: {e}"),
                    None,
                )
            return None, None
        raise AssertionError("unreachable")  # pragma: no cover

    def _prepare(
        self, message: Message, recipient: str | None, connection: smtplib.SMTP
    ) -> tuple[str, bytes, list[str]]:
        """Return (envelope recipient, bytes, MAIL options) for *message* on *connection*.

        *recipient* is what :func:`_envelope_recipient` made of its address. Lines end in
        CRLF, as SMTP requires. An address with a non-ASCII domain is sent with the domain in
        IDNA form; one with a non-ASCII local part needs the server's SMTPUTF8.

        Raises:
            DeliveryError: The address needs SMTPUTF8 and the server does not offer it.
        """
        if recipient is not None and self._envelope_from.isascii():
            if recipient != message.to:
                message = attrs.evolve(message, to=recipient)
            return recipient, _email_message_bytes(message, self.sender, self._domain, SMTP), []
        if not connection.has_extn("smtputf8"):
            raise DeliveryError(
                f"the address {message.to} needs an SMTP server with SMTPUTF8, and "
                f"{self.host}:{self.port} does not offer it (another relay could send it)"
            )
        if message.to != message.to.strip():  # the address alone, as on the ASCII path
            message = attrs.evolve(message, to=message.to.strip())
        payload = _email_message_bytes(message, self.sender, self._domain, SMTPUTF8)
        return message.to, payload, ["SMTPUTF8"]

    def _connect(self) -> smtplib.SMTP:
        where = f"{self.host}:{self.port}"
        try:
            if self.security == "tls":
                connection: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=self._context()
                )
            else:
                connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            try:
                connection.ehlo()
                if self.security == "starttls":
                    connection.starttls(context=self._context())
                    connection.ehlo()
                if self._username is not None and self._password is not None:
                    connection.login(self._username, self._password)
            except BaseException:
                _quit(connection)
                raise
        except smtplib.SMTPAuthenticationError as e:
            raise DeliveryError(
                f"the SMTP server {where} refused the login: {e.smtp_code} {_text(e.smtp_error)}"
            ) from e
        except smtplib.SMTPNotSupportedError as e:
            raise DeliveryError(f"the SMTP server {where} does not offer {e}") from e
        except (smtplib.SMTPException, OSError) as e:
            raise DeliveryError(
                f"cannot reach the SMTP server {where}: {type(e).__name__}: {e}"
            ) from e
        return connection

    def _context(self) -> ssl.SSLContext:
        return self._ssl_context if self._ssl_context is not None else ssl.create_default_context()


class AsyncSMTPMailer(ThreadedBatchMailer):
    """A :class:`~licensekit.mail.AsyncBatchMailer` that sends through an SMTP server.

    Made for :class:`licensekit.aio.AsyncLicenseKit` and other async code. It brings no new
    dependency: every call hands the work to an :class:`SMTPMailer` (so to :mod:`smtplib`)
    in a worker thread, with :func:`asyncio.to_thread`, and the event loop goes on serving
    other tasks while the server is slow to answer. It takes the same arguments, keeps the
    same rules (TLS, login, one connection per batch, one reconnection per message), and
    reports the same :class:`~licensekit.exceptions.DeliveryError`, ``permanent`` included.

    No lock is needed: :class:`SMTPMailer` keeps no connection between calls (each batch,
    and each single message, opens and closes its own), so several tasks may send at once,
    each in its own thread and on its own connection.

    A task cancelled while its messages are being handed over stops waiting, but the thread
    finishes the call: those messages may still go out.

    Args:
        host: The server's name or address.
        port: Its port; 587 for STARTTLS, 465 for implicit TLS, 25 without TLS by default.
        sender: The From header, e.g. ``"Licenses <no-reply@example.com>"``; its address is
            also the envelope sender.
        security: ``"starttls"`` (the default), ``"tls"`` or ``"none"``, as for
            :class:`SMTPMailer`.
        username: Log in with this name (after TLS), when given.
        password: The password for *username*.
        timeout: Seconds to wait for the server at each step.
        ssl_context: The TLS settings; :func:`ssl.create_default_context` when omitted.

    Attributes:
        mailer: The :class:`SMTPMailer` built from these arguments, which does the sending.

    Raises:
        ValidationError: A setting is invalid.

    Example:
        >>> from licensekit.mailers import AsyncSMTPMailer
        >>> AsyncSMTPMailer("smtp.example.com", sender="Licenses <no-reply@example.com>")
        AsyncSMTPMailer(smtp.example.com:587, security='starttls')
    """

    mailer: SMTPMailer

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        sender: str,
        security: Security = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(
            SMTPMailer(
                host,
                port,
                sender=sender,
                security=security,
                username=username,
                password=password,
                timeout=timeout,
                ssl_context=ssl_context,
            )
        )

    def __repr__(self) -> str:
        smtp = self.mailer
        return f"AsyncSMTPMailer({smtp.host}:{smtp.port}, security={smtp.security!r})"

    @property
    def host(self) -> str:
        """The server's name or address."""
        return self.mailer.host

    @property
    def port(self) -> int:
        """The server's port."""
        return self.mailer.port

    @property
    def sender(self) -> str:
        """The From header of every message."""
        return self.mailer.sender

    @property
    def security(self) -> Security:
        """How the connection is protected: ``"starttls"``, ``"tls"`` or ``"none"``."""
        return self.mailer.security

    @property
    def timeout(self) -> float:
        """Seconds to wait for the server at each step."""
        return self.mailer.timeout


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")


def _is_permanent(code: int, reply: str, phase: str) -> bool:
    """Tell whether an SMTP refusal is final for this recipient or message.

    Only a 5xx reply can be. At RCPT, it must be about the address (enhanced status 5.1.x or
    5.2.x, or a bare 550, 551 or 553): a refused relay, a policy block of our server (5.7.x)
    or a full disk of theirs is fixed on the sending side, and retrying then succeeds. For the
    sender, only a message too large is final (552 or 5.3.4); for the data, anything but a
    policy refusal (5.7.x).
    """
    if not 500 <= code < 600:
        return False
    enhanced = _ENHANCED.match(reply)
    subject = enhanced.group(2) if enhanced else None
    if phase == "recipient":
        return subject in ("1", "2") if subject is not None else code in (550, 551, 553)
    if phase == "sender":
        return code == 552 or (enhanced is not None and enhanced.group(0).strip() == "5.3.4")
    return subject != "7"


def _refusal(recipient: str, code: int, reply: bytes | str, phase: str) -> DeliveryError:
    """Return the error for an SMTP refusal at *phase* (recipient, sender or data)."""
    text = _text(reply)
    permanent = _is_permanent(code, text, phase)
    kind = "refused" if permanent else "deferred"
    what = {"recipient": "the recipient", "sender": "the sender", "data": "the message"}[phase]
    return DeliveryError(
        f"the SMTP server {kind} the message to {recipient} ({what}): {code} {text}".strip(),
        permanent=permanent,
    )


def _unbuildable(message: Message, error: Exception) -> DeliveryError:
    return DeliveryError(
        f"the message to {message.to} cannot be sent over SMTP: {type(error).__name__}: {error}",
        permanent=True,
    )


class _Connection:
    """The SMTP connection of one batch, or None between connections."""

    def __init__(self) -> None:
        self.smtp: smtplib.SMTP | None = None

    def close(self) -> None:
        if self.smtp is not None:
            _quit(self.smtp)
            self.smtp = None


def _quit(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except (smtplib.SMTPException, OSError):
        connection.close()


_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]+")
_FILE_NUMBERS = itertools.count(1)


class FileMailer:
    """A :class:`~licensekit.mail.Mailer` that writes each message into a folder as ``.eml``.

    Files are named ``<time>-<process>-<sequence>-<kind>-<recipient>.eml`` so that a sorted
    listing shows them in the order they were sent and two processes never clash; each is
    written to a temporary name and renamed, so a reader never sees half a message. The folder is
    created when missing.

    Args:
        folder: Where the files go.
        sender: The From header of every message.

    Example:
        >>> import tempfile
        >>> from licensekit.mailers import FileMailer
        >>> mailer = FileMailer(tempfile.mkdtemp(), sender="Licenses <no-reply@example.com>")
        >>> mailer.files
        []
    """

    def __init__(self, folder: str | os.PathLike[str], *, sender: str) -> None:
        self.folder = Path(folder)
        self.sender = sender
        _, self._domain = _check_sender(sender)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FileMailer({str(self.folder)!r})"

    @property
    def files(self) -> list[Path]:
        """The ``.eml`` files in the folder, oldest first."""
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob("*.eml"))

    def send(self, message: Message) -> None:
        """Write *message* as a new ``.eml`` file.

        Raises:
            DeliveryError: The folder cannot be created or written.
        """
        payload = _email_message_bytes(message, self.sender, self._domain, email.policy.default)
        recipient = _UNSAFE.sub("_", message.to)[:80]
        try:
            with self._lock:
                # The messages hold live links and codes: the folder and the files are the
                # owner's alone (0700 and 0600, whatever the umask).
                self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                # Time, process and a counter shared by every FileMailer of the process keep
                # names in sending order; the random part keeps two processes with a coarse
                # clock apart. Linking (not renaming) never replaces an existing file.
                number = f"{time.time_ns():020d}-{os.getpid()}-{next(_FILE_NUMBERS):06d}"
                name = f"{number}-{secrets.token_hex(3)}-{message.kind.value}-{recipient}.eml"
                temporary = self.folder / f".{name}.tmp"
                descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    with os.fdopen(descriptor, "wb") as file:
                        file.write(payload)
                        file.flush()
                        os.fsync(file.fileno())
                    os.link(temporary, self.folder / name)
                finally:
                    temporary.unlink(missing_ok=True)
        except OSError as e:
            raise DeliveryError(
                f"cannot write the message to {message.to} into {str(self.folder)!r}: {e}"
            ) from e
