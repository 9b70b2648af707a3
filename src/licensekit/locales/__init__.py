"""The texts of licensekit's emails, one module of plain data per language.

Each language lives in its own module (``en``, ``de``, ``fr``, ``es``, ``it``, ``ja``,
``zh_hans``, ``pt_br``) and holds data only: no functions, no imports, nothing done at import.
:data:`BUILTIN` maps each BCP 47 tag to its module. The email engine reads these names; a host
that adds a language or overrides a text provides an object with the same names (see
:class:`Catalog`).

Names every language module defines:

``TAG: str``
    The BCP 47 tag, such as ``"de"``, ``"zh-Hans"`` or ``"pt-BR"``.
``NAME: str``
    The language's own name for itself (``"Deutsch"``, ``"日本語"``).
``MONTHS: tuple[str, ...]``
    The twelve month names, January first, in the form used inside a full date (German
    ``"März"``, French ``"mars"``, Japanese ``"3月"``).
``DATE_FORMAT: str``
    A :meth:`str.format` pattern that writes a full date and time in UTC, ending in ``UTC``.
    Fields: ``{day}`` (day of the month, an ``int``, no padding), ``{month}`` (the name from
    ``MONTHS``), ``{month_number}`` (``int``, 1-12, no padding), ``{year}`` (``int``) and
    ``{time}`` (``"HH:MM"``, 24-hour). A pattern need not use every field. The result is
    passed to the templates as ``${expires}``, so the sentences around it are written for it
    (German "am ${expires}", French "le ${expires}").
``FIRST_DAY: str`` (optional)
    How the first day of a month is written where it is an ordinal (French ``"1er"``,
    Brazilian Portuguese ``"1º"``); ``{day}`` takes it on the 1st.
``ROLE_NAMES: dict[str, str]``
    Keys ``"regular_member"`` and ``"account_administrator"``: the role names as the
    product's interface shows them in this language. The engine passes them to
    ``role_changed`` as ``${old_role}`` and ``${new_role}``.
``NOTES_LABEL: str``
    The label put before an administrator's note (no trailing colon: the punctuation after
    it differs between languages, e.g. French puts a space before the colon and Japanese
    uses a full-width one).
``TEMPLATES: dict[str, tuple[str, str, str]]``
    For each message kind in :data:`KINDS`, a ``(subject, text, html)`` triple of
    :class:`string.Template` strings that use only the ``${name}`` form:

    - *subject* is one line;
    - *text* is the plain-text body, with real line breaks, ending with a line break;
    - *html* is a body fragment (``<p>``, ``<ol>``, ``<ul>``, ``<li>``, ``<strong>``,
      ``<em>``, ``<code>``, ``<a href="${link}">``), never a whole document: the engine wraps
      it. The engine substitutes HTML-escaped values into it, so it holds markup and
      placeholders only.

    A literal dollar sign is written ``$$``. :data:`PLACEHOLDERS` lists the names each kind may
    use and :data:`REQUIRED` the ones it must use. Every built-in language uses the same set of
    placeholders per kind in *text* and in *html*, so either body alone carries every fact.

The ``${notes_block}`` convention (``member_blocked``, ``member_removed``, ``role_changed``):
the engine fills it with ``""`` or with a complete, already rendered note (the label from
``NOTES_LABEL`` and the administrator's text). In *text* it stands alone on a line with a
blank line before and after it; in *html* it stands alone on a line between block elements,
never inside a ``<p>``. An empty note therefore leaves three blank lines in a row in the text
body (the notes line itself and the blank lines around it), which the engine collapses into
one.
"""

from __future__ import annotations

from typing import Protocol

from licensekit.locales import de, en, es, fr, it, ja, pt_br, zh_hans

__all__ = ["BUILTIN", "KINDS", "PLACEHOLDERS", "REQUIRED", "Catalog"]


class Catalog(Protocol):
    """What the engine reads from a language: a built-in module or a host's own object."""

    TAG: str
    NAME: str
    MONTHS: tuple[str, ...]
    DATE_FORMAT: str
    ROLE_NAMES: dict[str, str]
    NOTES_LABEL: str
    TEMPLATES: dict[str, tuple[str, str, str]]


KINDS: tuple[str, ...] = (
    "join_invitation",
    "install_invitation",
    "member_blocked",
    "member_removed",
    "role_changed",
    "email_verification",
    "password_reset",
    "password_reset_unknown",
    "password_changed",
)
"""The message kinds, the keys of every ``TEMPLATES``."""

PLACEHOLDERS: dict[str, frozenset[str]] = {
    "join_invitation": frozenset(
        {"service_name", "account_name", "inviter", "link", "expires", "recipient"}
    ),
    "install_invitation": frozenset(
        {"service_name", "product", "account_name", "inviter", "link", "code", "expires"}
        | {"recipient"}
    ),
    "member_blocked": frozenset(
        {"service_name", "account_name", "actor", "notes_block", "recipient"}
    ),
    "member_removed": frozenset(
        {"service_name", "account_name", "actor", "notes_block", "recipient"}
    ),
    "role_changed": frozenset(
        {"service_name", "account_name", "actor", "old_role", "new_role", "notes_block"}
        | {"recipient"}
    ),
    "email_verification": frozenset({"service_name", "link", "expires", "recipient"}),
    "password_reset": frozenset({"service_name", "link", "expires", "recipient"}),
    "password_reset_unknown": frozenset({"service_name", "recipient"}),
    "password_changed": frozenset({"service_name", "recipient"}),
}
"""The placeholders each kind of message may use (the engine supplies all of them)."""

REQUIRED: dict[str, frozenset[str]] = {
    "join_invitation": frozenset({"service_name", "account_name", "inviter", "link", "expires"}),
    "install_invitation": frozenset(
        {"product", "account_name", "inviter", "link", "code", "expires"}
    ),
    "member_blocked": frozenset({"service_name", "account_name", "actor", "notes_block"}),
    "member_removed": frozenset({"service_name", "account_name", "actor", "notes_block"}),
    "role_changed": frozenset(
        {"service_name", "account_name", "actor", "old_role", "new_role", "notes_block"}
    ),
    "email_verification": frozenset({"service_name", "link", "expires", "recipient"}),
    "password_reset": frozenset({"service_name", "link", "expires", "recipient"}),
    "password_reset_unknown": frozenset({"service_name", "recipient"}),
    "password_changed": frozenset({"service_name", "recipient"}),
}
"""The placeholders each kind must use somewhere in its subject, text or html."""

BUILTIN: dict[str, Catalog] = {
    "en": en,
    "de": de,
    "fr": fr,
    "es": es,
    "it": it,
    "ja": ja,
    "zh-Hans": zh_hans,
    "pt-BR": pt_br,
}
"""The languages licensekit ships, by BCP 47 tag, English first."""
