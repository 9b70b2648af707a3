"""A language's email with a batch's shared values written in, before each recipient's.

:func:`write` fills the values every message of a batch shares, and the administrator's note,
into the parts of one template, escaped for HTML and on one line in the subject as a single
rendering has them; what is left are each recipient's own placeholders.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import TYPE_CHECKING

from licensekit._prepared_email import Parts, fill_known, one_line, page_head

if TYPE_CHECKING:
    from licensekit.mail import Language, MessageKind

__all__ = ["Written", "notes_block", "write"]

# The punctuation between the label of an administrator's note and the note itself.
_LABEL_SEPARATORS = {"fr": "\u00a0: ", "ja": "\uff1a", "zh": "\uff1a"}


class Written:
    """The parts of an email with a batch's shared values written in (see Templates.prepare).

    *page* is the document up to the body when the subject needs no recipient's value.
    """

    __slots__ = ("head", "html", "page", "subject", "text")

    def __init__(self, subject: Parts, text: Parts, html: Parts, head: str) -> None:
        self.subject = subject
        self.text = text
        self.html = html
        self.head = head
        self.page = page_head(head, subject)


def write(kind: MessageKind, lang: Language, plain: Mapping[str, str], notes: str) -> Written:
    """Write *plain* and *notes* into *lang*'s email of *kind* (see Templates.prepare)."""
    template = lang.templates[kind]
    text_notes, html_notes = notes_block(lang, notes)
    has_notes = bool(notes)
    shared = {k: one_line(v) for k, v in plain.items()} | {"notes_block": ""}
    escaped = {k: html.escape(v, quote=True) for k, v in plain.items()}
    escaped["notes_block"] = html_notes
    subject = fill_known(template.parts("subject", notes=has_notes), shared)
    head = (
        "<!DOCTYPE html>\n"
        f'<html lang="{html.escape(lang.tag, quote=True)}"><head><meta charset="utf-8">'
        "<title>"
    )
    return Written(
        subject=subject,
        text=fill_known(
            template.parts("text", notes=has_notes), {**plain, "notes_block": text_notes}
        ),
        html=fill_known(template.parts("html", notes=has_notes), escaped),
        head=head,
    )


def notes_block(language: Language, notes: str) -> tuple[str, str]:
    """Return the rendered note (text, html), or two empty strings when there is none."""
    if not notes:
        return "", ""
    separator = _LABEL_SEPARATORS.get(language.tag.split("-")[0].lower(), ": ")
    lines = notes.strip().splitlines()
    label = f"{language.notes_label}{separator.rstrip()}"
    text = label + "\n" + "\n".join(f"  {line}" for line in lines)
    escaped = "<br>\n".join(html.escape(line) for line in lines)
    markup = f"<p><strong>{html.escape(language.notes_label)}</strong>{separator}<br>\n"
    return text, f"{markup}{escaped}</p>"
