"""What licensekit hands to the host's mailer: the :class:`Message`, and the mailer protocols.

Documented, imported and pickled as members of :mod:`licensekit.mail`, which sets their
``__module__`` to its own name; they live here so that the templates keep a module of their own.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs

from licensekit._prepared_email import one_line
from licensekit.domain._pickling import picklable_mappings
from licensekit.domain.records import frozen_mapping
from licensekit.exceptions import DeliveryError

if TYPE_CHECKING:
    from email.message import EmailMessage

    from licensekit.mail import MessageKind

__all__ = [
    "AsyncBatchMailer",
    "AsyncMailer",
    "BatchMailer",
    "Mailer",
    "Message",
    "prepared_message",
]


@picklable_mappings
@attrs.frozen
class Message:
    """One email, rendered and ready to send.

    Attributes:
        to: The recipient's address.
        subject: A single line (line breaks are removed).
        text: The plain-text body.
        html: The HTML alternative of the same content.
        language: BCP 47 tag of the language it is written in.
        kind: What the message is about.
        data: The values the template used (link, token, account name, expiry...), for hosts
            that render their own emails or tests that want the link.

    The bodies and ``data`` hold live secrets (links, codes), so ``repr`` leaves them out.
    """

    to: str
    subject: str = attrs.field(converter=one_line)
    text: str = attrs.field(repr=False)
    html: str = attrs.field(repr=False)
    language: str
    kind: MessageKind
    data: Mapping[str, str] = attrs.field(
        factory=dict, converter=frozen_mapping, hash=False, repr=False
    )

    def to_email_message(self, sender: str) -> EmailMessage:
        """Build a standard-library :class:`email.message.EmailMessage` from *sender*.

        The result is ``multipart/alternative`` with the text part first and HTML second.

        Raises:
            DeliveryError: A header would not come out as given (permanent).
        """
        from email.message import EmailMessage

        message = EmailMessage()
        message["From"] = sender
        message["To"] = self.to
        message["Subject"] = _literal_subject(self.subject)
        if str(message["Subject"]) != self.subject:
            raise DeliveryError(
                f"the subject of the message to {self.to} cannot be written as given",
                permanent=True,
            )
        message.set_content(self.text)
        message.add_alternative(self.html, subtype="html")
        message["Content-Language"] = self.language  # after set_content, which drops Content-*
        return message


def _literal_subject(subject: str) -> str:
    """Return a header value that reads back as *subject* itself.

    A value holding ``=?`` may contain RFC 2047 encoded words, which the email package
    decodes: a name such as ``=?utf-8?q?=0D=0ABcc:...?=`` would become a line break and a
    new header on Pythons without the fix for CVE-2024-6923. Such a subject is encoded here
    as a whole, so that decoding gives back exactly the text, encoded words and all.
    """
    if "=?" not in subject:
        return subject
    encoded = base64.b64encode(subject.encode("utf-8")).decode("ascii")
    return f"=?utf-8?b?{encoded}?="


@runtime_checkable
class Mailer(Protocol):
    """Protocol: something that delivers a :class:`Message`.

    ``send`` returns once the message is handed over (to a relay, a queue, a folder). It
    raises :class:`licensekit.exceptions.DeliveryError` when it cannot; licensekit never loses
    the invitation behind a failed message, and reports the failure to the caller.
    """

    def send(self, message: Message) -> None:
        """Deliver *message*, or raise :class:`~licensekit.exceptions.DeliveryError`."""
        ...


@runtime_checkable
class BatchMailer(Mailer, Protocol):
    """Protocol: a :class:`Mailer` that sends many messages over one connection.

    licensekit calls :meth:`send_batch` instead of :meth:`~Mailer.send` for a batch of
    invitations, when the mailer has it.
    """

    def send_batch(self, messages: Sequence[Message]) -> list[DeliveryError | None]:
        """Try every message; return None for each delivered and the error of each failed.

        The result has one entry per message, in order. One failure never stops the others.
        """
        ...


@runtime_checkable
class AsyncMailer(Protocol):
    """Protocol: :class:`Mailer` for async code; ``send`` is a coroutine function.

    :class:`licensekit.aio.AsyncLicenseKit` takes one (the shipped
    :class:`licensekit.mailers.AsyncSMTPMailer`), or any :class:`Mailer`, which it then
    runs in a worker thread.
    """

    async def send(self, message: Message) -> None:
        """Deliver *message*, or raise :class:`~licensekit.exceptions.DeliveryError`."""
        ...


@runtime_checkable
class AsyncBatchMailer(AsyncMailer, Protocol):
    """Protocol: :class:`BatchMailer` for async code."""

    async def send_batch(self, messages: Sequence[Message]) -> list[DeliveryError | None]:
        """As :meth:`BatchMailer.send_batch`."""
        ...


def prepared_message(
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    language: str,
    kind: MessageKind,
    data: dict[str, str],
) -> Message:
    """Return the :class:`Message` of these fields, as a :class:`PreparedEmail` gives them.

    What ``Message(...)`` returns, without its converters' work, already done: the
    prepared email gives the subject on one line, and the data as a new dict that nothing
    else holds, which the message wraps read-only instead of copying (a message is made per
    recipient, tens of thousands in a batch).
    """
    message: Message = _new_object(Message)
    _set_field(message, "to", to)
    _set_field(message, "subject", subject)
    _set_field(message, "text", text)
    _set_field(message, "html", html)
    _set_field(message, "language", language)
    _set_field(message, "kind", kind)
    _set_field(message, "data", MappingProxyType(data))
    return message


_new_object = object.__new__
_set_field = object.__setattr__  # as the frozen class's own __init__ sets its fields
