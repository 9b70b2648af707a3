"""The mail plug-in: the :class:`Mailer` protocol, the :class:`Message` type, and templates.

licensekit renders each email itself (plain text and an HTML alternative) and hands the
finished :class:`Message` to the host's mailer. A host that prefers to write its own emails
can read everything the template used from :attr:`Message.data`.
"""

from __future__ import annotations

import datetime as dt
import enum
import html
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs

from licensekit.exceptions import ValidationError
from licensekit.model import frozen_mapping

if TYPE_CHECKING:
    from email.message import EmailMessage

__all__ = [
    "SUPPORTED_LANGUAGES",
    "Mailer",
    "Message",
    "MessageKind",
    "check_language",
    "render_install_invitation",
    "render_join_invitation",
]

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en",)
"""BCP 47 tags of the languages licensekit can write emails in."""


class MessageKind(enum.StrEnum):
    """What an email is about."""

    JOIN_INVITATION = "join_invitation"
    INSTALL_INVITATION = "install_invitation"


def _one_line(value: str) -> str:
    """Collapse line breaks so a user-supplied value can never start a new header."""
    return " ".join(value.split())


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
    subject: str = attrs.field(converter=_one_line)
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
        """
        from email.message import EmailMessage

        message = EmailMessage()
        message["From"] = sender
        message["To"] = self.to
        message["Subject"] = self.subject
        message.set_content(self.text)
        message.add_alternative(self.html, subtype="html")
        message["Content-Language"] = self.language  # after set_content, which drops Content-*
        return message


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


def check_language(tag: str) -> str:
    """Return the supported language for BCP 47 *tag* (``en-GB`` falls back to ``en``).

    Raises:
        ValidationError: Neither the tag nor its primary language is supported.
    """
    if not isinstance(tag, str):
        raise ValidationError(f"language must be a BCP 47 tag, got {type(tag).__name__}")
    wanted = tag.strip().replace("_", "-")
    by_lower = {lang.lower(): lang for lang in SUPPORTED_LANGUAGES}
    if wanted.lower() in by_lower:
        return by_lower[wanted.lower()]
    primary = wanted.split("-", 1)[0].lower()
    if primary in by_lower:
        return by_lower[primary]
    raise ValidationError(
        f"unsupported language {tag!r}; supported: {', '.join(SUPPORTED_LANGUAGES)}"
    )


def _format_date(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%d %B %Y, %H:%M UTC")


def render_join_invitation(
    *,
    to: str,
    account_name: str,
    inviter_email: str,
    link: str,
    token: str,
    expires_at: dt.datetime,
    language: str,
    service_name: str,
) -> Message:
    """Render the email inviting *to* to join the business account *account_name*.

    Args:
        to: Recipient address.
        account_name: Name of the business account (user-supplied: escaped in HTML).
        inviter_email: Who sent the invitation.
        link: The personal link that accepts the invitation.
        token: The token inside *link* (kept in :attr:`Message.data` only).
        expires_at: When the link stops working.
        language: A supported language tag (see :func:`check_language`).
        service_name: How the host's service calls itself in emails.
    """
    language = check_language(language)
    expires = _format_date(expires_at)
    subject = f"Join {account_name} on {service_name}"
    text = (
        f"Hello,\n\n"
        f"{inviter_email} would like you to become a member of the business account "
        f'"{account_name}" on {service_name}.\n\n'
        f"Open this personal link to accept:\n{link}\n\n"
        f"If you already have a personal account, sign in with your current password. "
        f"Otherwise you will pick a password and your personal account is created for you.\n\n"
        f"The link can be used once and stops working on {expires}.\n"
        f"If you did not expect this message, you can ignore it.\n"
    )
    e = html.escape
    body = (
        "<!DOCTYPE html>\n"
        f'<html lang="{e(language)}"><head><meta charset="utf-8">'
        f"<title>{e(subject)}</title></head><body>\n"
        f"<p>Hello,</p>\n"
        f"<p>{e(inviter_email)} would like you to become a member of the business account "
        f"<strong>{e(account_name)}</strong> on {e(service_name)}.</p>\n"
        f'<p><a href="{e(link, quote=True)}">Accept the invitation</a></p>\n'
        f"<p>If you already have a personal account, sign in with your current password. "
        f"Otherwise you will pick a password and your personal account is created for you.</p>\n"
        f"<p>The link can be used once and stops working on {e(expires)}.<br>\n"
        f"If you did not expect this message, you can ignore it.</p>\n"
        "</body></html>\n"
    )
    return Message(
        to=to,
        subject=subject,
        text=text,
        html=body,
        language=language,
        kind=MessageKind.JOIN_INVITATION,
        data={
            "account_name": account_name,
            "inviter_email": inviter_email,
            "link": link,
            "token": token,
            "expires_at": expires_at.isoformat(),
            "service_name": service_name,
        },
    )


def render_install_invitation(
    *,
    to: str,
    product: str,
    account_name: str,
    inviter_email: str,
    download_url: str,
    code: str,
    token: str,
    expires_at: dt.datetime,
    language: str,
    service_name: str,
) -> Message:
    """Render the email inviting *to* to install *product*, with their own code and link.

    Args:
        to: Recipient address.
        product: The product to install (user-supplied: escaped in HTML).
        account_name: The business account that pays for it (user-supplied).
        inviter_email: Who sent the invitation.
        download_url: The recipient's personal download link.
        code: The recipient's temporary activation code, formatted for reading.
        token: The token inside *download_url* (kept in :attr:`Message.data` only).
        expires_at: When the code and the link stop working.
        language: A supported language tag (see :func:`check_language`).
        service_name: How the host's service calls itself in emails.
    """
    language = check_language(language)
    expires = _format_date(expires_at)
    subject = f"Install {product} for {account_name}"
    text = (
        f"Hello,\n\n"
        f"{inviter_email} invites you to install {product}, licensed to {account_name}.\n\n"
        f"1. Download the installer from your personal link:\n   {download_url}\n"
        f"2. Run it. It activates {product} on this computer by itself.\n"
        f"3. Only if activation does not happen on its own, enter this code when asked:\n"
        f"   {code}\n\n"
        f"The code is temporary and belongs to you alone: it is not the license key, it works "
        f"only for this license, and it stops working on {expires}.\n"
        f"If you did not expect this message, you can ignore it.\n"
    )
    e = html.escape
    body = (
        "<!DOCTYPE html>\n"
        f'<html lang="{e(language)}"><head><meta charset="utf-8">'
        f"<title>{e(subject)}</title></head><body>\n"
        f"<p>Hello,</p>\n"
        f"<p>{e(inviter_email)} invites you to install <strong>{e(product)}</strong>, "
        f"licensed to {e(account_name)}.</p>\n<ol>\n"
        f'<li><a href="{e(download_url, quote=True)}">Download the installer</a> '
        f"(a link made for you alone).</li>\n"
        f"<li>Run it. It activates {e(product)} on this computer by itself.</li>\n"
        f"<li>Only if activation does not happen on its own, enter this code when asked: "
        f"<code>{e(code)}</code></li>\n</ol>\n"
        f"<p>The code is temporary and belongs to you alone: it is not the license key, it "
        f"works only for this license, and it stops working on {e(expires)}.<br>\n"
        f"If you did not expect this message, you can ignore it.</p>\n"
        "</body></html>\n"
    )
    return Message(
        to=to,
        subject=subject,
        text=text,
        html=body,
        language=language,
        kind=MessageKind.INSTALL_INVITATION,
        data={
            "product": product,
            "account_name": account_name,
            "inviter_email": inviter_email,
            "link": download_url,
            "code": code,
            "token": token,
            "expires_at": expires_at.isoformat(),
            "service_name": service_name,
        },
    )
