"""Reading back the ``.eml`` files of licensekit's :class:`~licensekit.mailers.FileMailer`.

For an operator without a mail server (and for the demo): list what was "sent", show one
message, and pick the personal link or the activation code out of it.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import re
from pathlib import Path

import attrs

from licensekit.cli._errors import CommandError
from licensekit.cli._files import is_folder
from licensekit.domain._echo import echo_path
from licensekit.mail import MessageKind

__all__ = ["CODE_PATTERN", "Letter", "find_code", "find_link", "read_folder"]

CODE_PATTERN = re.compile(r"\b[0-9A-Z]{5}(?:-[0-9A-Z]{5}){4}\b")
"""A temporary activation code as licensekit writes it: five groups of five symbols."""

_TOKEN = r"[A-Za-z0-9_-]+"  # noqa: S105 - the characters of a token
_KINDS = tuple(kind.value for kind in MessageKind)


@attrs.frozen
class Letter:
    """One message of the folder.

    Attributes:
        path: The ``.eml`` file.
        to: The recipient.
        subject: The subject.
        kind: The message kind (``join_invitation``...), read from the file name.
        date: The ``Date`` header, if it can be read.
        text: The plain-text body.
    """

    path: Path
    to: str
    subject: str
    kind: str
    date: dt.datetime | None
    text: str = attrs.field(repr=False)


def read_folder(folder: Path) -> list[Letter]:
    """Return the messages in *folder*, in the order they were written (oldest first).

    Raises:
        CommandError: The folder cannot be looked at, or a file cannot be read.
    """
    if not is_folder(folder):
        return []
    return [_read(path) for path in sorted(folder.glob("*.eml"))]


def _read(path: Path) -> Letter:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CommandError(f"cannot read {echo_path(path)}: {e.strerror}") from None
    message = email.message_from_bytes(data, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",)) if message.is_multipart() else message
    text = ""
    if body is not None:
        try:
            text = str(body.get_content())
        except (LookupError, ValueError):  # an unknown charset or a broken encoding
            text = ""
    date = None
    if message["Date"] is not None:
        try:
            date = email.utils.parsedate_to_datetime(str(message["Date"]))
        except (TypeError, ValueError):
            date = None
    return Letter(
        path=path,
        to=str(message["To"] or ""),
        subject=str(message["Subject"] or ""),
        kind=_kind_of(path.name),
        date=date,
        text=text,
    )


def _kind_of(name: str) -> str:
    # FileMailer names files <time>-<process>-<sequence>-<random>-<kind>-<recipient>.eml.
    parts = name.split("-", 4)
    rest = parts[-1] if len(parts) == 5 else ""
    return next((kind for kind in _KINDS if rest.startswith(kind + "-")), "")


def find_link(text: str, template: str) -> str | None:
    """Return the first link in *text* made from *template* (a URL with ``{token}``)."""
    prefix, _, suffix = template.partition("{token}")
    found = re.search(re.escape(prefix) + _TOKEN + re.escape(suffix), text)
    return found.group(0) if found else None


def find_code(text: str) -> str | None:
    """Return the first temporary activation code in *text*."""
    found = CODE_PATTERN.search(text)
    return found.group(0) if found else None
