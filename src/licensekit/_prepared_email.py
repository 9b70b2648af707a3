"""An email written once for a whole batch, with only each recipient's own values left to fill.

A batch of invitations shares its sender, product, account, expiry and language; each
message differs only in its address, link and code. :meth:`licensekit.mail.Templates.prepare`
fills the shared values into the template's parts once (escaped for HTML and collapsed to one
line for the subject, as a single rendering does) and returns a :class:`PreparedEmail`, whose
:meth:`~PreparedEmail.render` fills in the rest. The result is the message
:meth:`~licensekit.mail.Templates.render` gives for the same values.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Parts", "PreparedEmail", "fill", "fill_known", "one_line", "page_head"]

Parts = tuple[tuple[str, str | None], ...]
"""A template split into (literal, placeholder name or None) pairs."""


def one_line(value: str) -> str:
    """Collapse line breaks so a user-supplied value can never start a new header."""
    return " ".join(value.split())


def fill(parts: Parts, values: Mapping[str, str]) -> str:
    """Return *parts* with every placeholder replaced by its value in *values*.

    Raises:
        KeyError: A placeholder has no value.
    """
    return "".join([literal if name is None else literal + values[name] for literal, name in parts])


def fill_known(parts: Parts, values: Mapping[str, str]) -> Parts:
    """Return *parts* with the placeholders *values* names filled in, the others kept.

    Neighbouring literals are joined, so that a part whose placeholders are all known
    becomes one literal.
    """
    filled: list[tuple[str, str | None]] = []
    pending = ""
    for literal, name in parts:
        if name is None:
            pending += literal
        elif name in values:
            pending += literal + values[name]
        else:
            filled.append((pending + literal, name))
            pending = ""
    filled.append((pending, None))
    return tuple(filled)


class PreparedEmail:
    """One kind of email in one language with a batch's shared values written in.

    Made by :meth:`licensekit.mail.Templates.prepare`; :meth:`render` gives each recipient's
    message.

    Args:
        make: Builds the message from its fields (``to``, ``subject``, ``text``, ``html``,
            ``language``, ``kind``, ``data``), given the subject on one line and the data
            as a new dict that nothing else holds: :class:`licensekit.mail.Message`.
        kind: What the emails are about.
        language: The BCP 47 tag they are written in.
        subject: The subject's parts, shared values filled in (collapsed to one line).
        text: The plain-text body's parts, shared values filled in.
        html: The HTML fragment's parts, shared values filled in (escaped).
        head: The HTML document up to the title's text.
        data: The shared part of :attr:`licensekit.mail.Message.data`.
        kept: The entries of *data* a recipient's own values do not replace (those the
            engine writes, such as ``language``, and the caller's extra data).
        recipient_known: Whether ``${recipient}`` was among the shared values (else each
            message fills it with its address).
        page: What :func:`page_head` gives for *head* and *subject*, if worked out before.
    """

    __slots__ = (
        "_data",
        "_head",
        "_html",
        "_kept",
        "_kind",
        "_language",
        "_line",
        "_make",
        "_page",
        "_recipient",
        "_subject",
        "_text",
    )

    def __init__(
        self,
        make: Callable[..., Any],
        *,
        kind: Any,
        language: str,
        subject: Parts,
        text: Parts,
        html: Parts,
        head: str,
        data: Mapping[str, str],
        kept: Mapping[str, str] | None = None,
        recipient_known: bool,
        page: str | None = None,
    ) -> None:
        self._make = make
        self._kind = kind
        self._language = language
        self._subject = subject
        self._text = text
        self._html = html
        self._head = head
        self._data = dict(data)
        self._kept = dict(kept or {})
        self._recipient = not recipient_known
        self._page = page if page is not None else page_head(head, subject)
        # The whole subject, on one line, when it needs no recipient's value.
        self._line = one_line(subject[0][0]) if self._page is not None else ""

    def render(
        self,
        to: str,
        values: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> Any:
        """Return the message to *to*, with the recipient's own *values* and extra *data*.

        Raises:
            KeyError: A placeholder of the template has no value, shared or own.
        """
        plain = dict(values) if values else {}
        if self._recipient:
            plain.setdefault("recipient", to)
        page = self._page
        if page is not None:
            subject = self._line
        else:
            subject = one_line(fill(self._subject, {k: one_line(v) for k, v in plain.items()}))
            page = f"{self._head}{_title(subject)}</title></head><body>\n"
        text = fill(self._text, plain)
        fragment = fill(self._html, {k: html.escape(v, quote=True) for k, v in plain.items()})
        return self._make(
            to=to,
            subject=subject,
            text=text,
            html=f"{page}{fragment}</body></html>\n",
            language=self._language,
            kind=self._kind,
            data={**self._data, **plain, **self._kept, **(data or {})},
        )


def page_head(head: str, subject: Parts) -> str | None:
    """The document up to its body, when *subject* is whole; else None.

    A subject without a recipient's value is the same for every message: so is the
    document's head, its title included.
    """
    return f"{head}{_title(subject[0][0])}</title></head><body>\n" if len(subject) == 1 else None


def _title(subject: str) -> str:
    return html.escape(one_line(subject))
