"""The mail plug-in: the :class:`Mailer` protocol, the :class:`Message` type, and templates.

licensekit renders each email itself (plain text and an HTML alternative) and hands the
finished :class:`Message` to the host's mailer. A host that prefers to write its own emails
can read everything the template used from :attr:`Message.data`.
"""

from __future__ import annotations

import datetime as dt
import enum
import string
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, TypeVar

import attrs

from licensekit._email_writing import Written, write
from licensekit._language_tags import resolve_tag
from licensekit._message import (
    AsyncBatchMailer,
    AsyncMailer,
    BatchMailer,
    Mailer,
    Message,
    prepared_message,
)
from licensekit._prepared_email import Parts, PreparedEmail, fill
from licensekit.domain._echo import echo
from licensekit.domain._pickling import picklable_mappings
from licensekit.domain.records import frozen_mapping
from licensekit.exceptions import ValidationError

if TYPE_CHECKING:
    from licensekit import locales

__all__ = [
    "SUPPORTED_LANGUAGES",
    "AsyncBatchMailer",
    "AsyncMailer",
    "BatchMailer",
    "EmailTemplate",
    "Language",
    "Mailer",
    "Message",
    "MessageKind",
    "Templates",
    "check_language",
    "default_templates",
    "render_install_invitation",
    "render_join_invitation",
    "render_member_notice",
]

# The same as tuple(licensekit.locales.BUILTIN) (a test checks), written out so that
# importing licensekit does not load the texts of every language.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "it", "ja", "zh-Hans", "pt-BR")
"""BCP 47 tags of the languages licensekit ships email texts for."""


class MessageKind(enum.StrEnum):
    """What an email is about."""

    JOIN_INVITATION = "join_invitation"
    INSTALL_INVITATION = "install_invitation"
    MEMBER_BLOCKED = "member_blocked"
    MEMBER_REMOVED = "member_removed"
    ROLE_CHANGED = "role_changed"
    EMAIL_VERIFICATION = "email_verification"
    """A link that proves the recipient owns the address of their personal account."""
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a message kind, not a password
    """A link to choose a new password."""
    PASSWORD_RESET_UNKNOWN = "password_reset_unknown"  # noqa: S105 - a message kind
    """The answer to a new password requested for an address that has no account."""
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a message kind
    """A notice that the account's password was changed."""


# The message and the mailer protocols live in licensekit._message; they are documented,
# pickled and named as this module's.
for _moved in (Message, Mailer, BatchMailer, AsyncMailer, AsyncBatchMailer):
    _moved.__module__ = __name__


# -- templates --------------------------------------------------------------------------------


@attrs.frozen
class EmailTemplate:
    """The three parts of one email in one language, as :class:`string.Template` strings.

    Placeholders use the ``${name}`` form; :data:`licensekit.locales.PLACEHOLDERS` lists the
    names each kind of message offers. The HTML part is a body fragment (paragraphs, lists,
    links): licensekit wraps it in a document and substitutes HTML-escaped values into it.

    Raises:
        ValidationError: A part is not a valid template.
    """

    subject: str
    text: str
    html: str
    # Each part parsed once into (literal, placeholder or None) pairs, with and without the
    # line of an administrator's note (dropped, with one blank line, when there is none).
    _compiled: dict[tuple[str, bool], Parts] = attrs.field(
        init=False, factory=dict, eq=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        for part in ("subject", "text", "html"):
            value = getattr(self, part)
            if not isinstance(value, str) or not string.Template(value).is_valid():
                raise ValidationError(f"the {part} of an email template is not a valid template")
        without_notes = {
            "subject": self.subject,
            "text": self.text.replace("\n${notes_block}\n\n", "\n"),
            "html": self.html.replace("${notes_block}\n", ""),
        }
        for part in ("subject", "text", "html"):
            self._compiled[part, True] = _compile(getattr(self, part))
            self._compiled[part, False] = _compile(without_notes[part])

    def fill(self, part: str, values: Mapping[str, str], *, notes: bool) -> str:
        """Return *part* (``"subject"``, ``"text"`` or ``"html"``) with *values* filled in.

        Raises:
            KeyError: A placeholder has no value.
        """
        return fill(self._compiled[part, notes], values)

    def parts(self, part: str, *, notes: bool) -> Parts:
        """Return *part* split into (literal, placeholder name or None) pairs."""
        return self._compiled[part, notes]

    def placeholders(self) -> frozenset[str]:
        """Return every placeholder name the three parts use."""
        return frozenset(
            name
            for part in (self.subject, self.text, self.html)
            for name in string.Template(part).get_identifiers()
        )


def _compile(source: str) -> Parts:
    """Split a valid :class:`string.Template` into (literal, placeholder) pairs."""
    parts: list[tuple[str, str | None]] = []
    start = 0
    for match in string.Template.pattern.finditer(source):
        literal = source[start : match.start()]
        if match.group("escaped") is not None:
            parts.append((literal + "$", None))
        else:
            parts.append((literal, match.group("named") or match.group("braced")))
        start = match.end()
    parts.append((source[start:], None))
    return tuple(parts)


def _text_tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@picklable_mappings
@attrs.frozen
class Language:
    """Everything licensekit needs to write emails in one language.

    Attributes:
        tag: The BCP 47 tag (``"de"``, ``"pt-BR"``).
        name: The language's name for itself.
        months: The twelve month names as written inside a date.
        date_format: :meth:`str.format` pattern with ``{day}``, ``{month}``,
            ``{month_number}``, ``{year}`` and ``{time}``; see :mod:`licensekit.locales`.
        role_names: The role names by :class:`~licensekit.Role` value.
        notes_label: The label put before an administrator's note.
        templates: One :class:`EmailTemplate` per :class:`MessageKind`.
        first_day: How ``{day}`` writes the 1st of a month where that is an ordinal
            (``"1er"``); empty for the plain number.
    """

    tag: str
    name: str
    months: tuple[str, ...] = attrs.field(converter=_text_tuple)
    date_format: str
    role_names: Mapping[str, str] = attrs.field(converter=frozen_mapping, hash=False)
    notes_label: str
    templates: Mapping[MessageKind, EmailTemplate] = attrs.field(
        converter=frozen_mapping, hash=False
    )
    first_day: str = ""

    def __attrs_post_init__(self) -> None:
        if len(self.months) != 12:
            raise ValidationError(f"language {self.tag!r} must name 12 months")
        missing = [k.value for k in MessageKind if k not in self.templates]
        if missing:
            raise ValidationError(f"language {self.tag!r} has no template for {missing}")
        for kind, template in self.templates.items():
            _check_placeholders(_message_kind(kind), template, self.tag)

    @classmethod
    def from_catalog(cls, catalog: locales.Catalog) -> Language:
        """Return the language a catalog module (see :mod:`licensekit.locales`) describes."""
        return cls(
            tag=catalog.TAG,
            name=catalog.NAME,
            months=catalog.MONTHS,
            date_format=catalog.DATE_FORMAT,
            role_names=catalog.ROLE_NAMES,
            notes_label=catalog.NOTES_LABEL,
            first_day=getattr(catalog, "FIRST_DAY", ""),
            templates={
                _message_kind(kind): EmailTemplate(*parts)
                for kind, parts in catalog.TEMPLATES.items()
            },
        )

    def format_date(self, moment: dt.datetime) -> str:
        """Return *moment* written as this language writes a date and time, in UTC."""
        utc = moment.astimezone(dt.UTC)
        return self.date_format.format(
            day=self.first_day if utc.day == 1 and self.first_day else utc.day,
            month=self.months[utc.month - 1],
            month_number=utc.month,
            year=utc.year,
            time=f"{utc.hour:02d}:{utc.minute:02d}",
        )


# What an email of each kind cannot do without, whoever wrote its text. (licensekit's own
# texts use more: see licensekit.locales.REQUIRED, checked by its tests.)
_ESSENTIAL = {
    MessageKind.JOIN_INVITATION: frozenset({"link"}),
    MessageKind.INSTALL_INVITATION: frozenset({"link", "code"}),
    MessageKind.EMAIL_VERIFICATION: frozenset({"link"}),
    MessageKind.PASSWORD_RESET: frozenset({"link"}),
}


def _check_placeholders(kind: MessageKind, template: EmailTemplate, tag: str) -> None:
    used = template.placeholders()
    from licensekit import locales

    unknown = used - locales.PLACEHOLDERS[kind.value]
    if unknown:
        raise ValidationError(
            f"the {kind.value} template for {tag!r} uses unknown placeholders "
            f"{sorted(unknown)}; it may use {sorted(locales.PLACEHOLDERS[kind.value])}"
        )
    missing = _ESSENTIAL.get(kind, frozenset()) - used
    if missing:
        raise ValidationError(f"the {kind.value} template for {tag!r} must use {sorted(missing)}")


class Templates:
    r"""The languages and texts licensekit writes its emails with.

    ``Templates()`` holds the languages licensekit ships (:data:`SUPPORTED_LANGUAGES`).
    Hosts change it without touching licensekit's files: :meth:`with_language` adds a
    language or replaces one, :meth:`with_template` replaces one kind of email in one
    language. Both return a new object; pass it as ``LicenseKit(..., templates=...)``.

    Example:
        >>> from licensekit.mail import EmailTemplate, MessageKind, Templates
        >>> templates = Templates().with_template(
        ...     MessageKind.MEMBER_REMOVED,
        ...     "en",
        ...     EmailTemplate(
        ...         subject="Goodbye from ${account_name}",
        ...         text="${actor} removed you from ${account_name} on ${service_name}.\\n"
        ...         "${notes_block}\\n",
        ...         html="<p>${actor} removed you from ${account_name}.</p>\\n${notes_block}\\n",
        ...     ),
        ... )
        >>> templates.resolve("de-AT"), templates.resolve("zh-CN"), templates.resolve("pt")
        ('de', 'zh-Hans', 'pt-BR')
    """

    def __init__(self, languages: Iterable[Language] | None = None) -> None:
        if languages is None:
            from licensekit import locales

            languages = [Language.from_catalog(c) for c in locales.BUILTIN.values()]
        self._languages: dict[str, Language] = {}
        for language in languages:
            if not isinstance(language, Language):
                raise ValidationError(f"expected a Language, got {type(language).__name__}")
            self._languages[language.tag] = language
        if not self._languages:
            raise ValidationError("templates need at least one language")
        # What was worked out before, by what it was worked out from (the languages never
        # change: with_language and with_template make new Templates): the tag each asked
        # tag resolves to, each expiry written in each language (to the minute, as dates are
        # written), and the parts of emails prepared (see prepare). Each is emptied when full.
        self._resolved: dict[str, str] = {}
        self._dates: dict[tuple[str, int], str] = {}
        self._written: dict[tuple[object, ...], Written] = {}

    def __repr__(self) -> str:
        return f"Templates({', '.join(self._languages)})"

    @property
    def languages(self) -> tuple[str, ...]:
        """The tags of every language, in the order they were given."""
        return tuple(self._languages)

    def language(self, tag: str) -> Language:
        """Return the language that *tag* resolves to (see :meth:`resolve`)."""
        return self._languages[self.resolve(tag)]

    def with_language(self, language: Language) -> Templates:
        """Return a copy that also writes in *language* (replacing one with the same tag)."""
        merged = {**self._languages, language.tag: language}  # a replaced one keeps its place
        return Templates(merged.values())

    def with_template(
        self, kind: MessageKind | str, tag: str, template: EmailTemplate
    ) -> Templates:
        """Return a copy in which *kind* emails in language *tag* use *template*.

        Raises:
            ValidationError: Unknown kind or language, or the template uses placeholders the
                kind does not offer, or lacks ones it must use.
        """
        kind = _message_kind(kind)
        if not isinstance(template, EmailTemplate):
            raise ValidationError(f"expected an EmailTemplate, got {type(template).__name__}")
        current = self.language(tag)
        changed = attrs.evolve(current, templates={**current.templates, kind: template})
        return self.with_language(changed)

    def resolve(self, tag: str) -> str:
        """Return the tag of the language to write in for BCP 47 *tag*.

        An exact match wins (case does not matter, ``_`` reads as ``-``); otherwise subtags
        are dropped from the end (``de-AT`` gives ``de``, ``zh-Hans-CN`` gives ``zh-Hans``);
        otherwise a language's only variant is taken (``pt`` gives ``pt-BR``, ``zh`` and
        ``zh-CN`` give ``zh-Hans``), except where the tag names another script (``zh-Hant``,
        ``zh-TW``).

        Raises:
            ValidationError: No language fits; the message lists the supported ones.
        """
        if not isinstance(tag, str):
            raise ValidationError(
                f"language must be a BCP 47 tag, got {type(tag).__name__}", field="language"
            )
        known = self._resolved.get(tag)
        if known is None:
            known = resolve_tag(tag, self._languages)
            if len(tag) <= _REMEMBERED_TAG:  # a caller's megabyte of subtags is not kept
                _remember(self._resolved, tag, known)
        return known

    def render(
        self,
        kind: MessageKind,
        *,
        to: str,
        language: str,
        values: Mapping[str, str],
        notes: str = "",
        expires_at: dt.datetime | None = None,
        data: Mapping[str, str] | None = None,
    ) -> Message:
        """Render one email.

        Args:
            kind: What the email is about.
            to: The recipient's address.
            language: A BCP 47 tag (see :meth:`resolve`).
            values: The placeholders' values, as plain text (escaped here for HTML, and
                collapsed to one line in the subject).
            notes: An administrator's note, for the notices; may span lines.
            expires_at: Filled in as ``${expires}``, written for the language.
            data: Extra values for :attr:`Message.data` (a token, say) beyond *values*.
        """
        # Every value is this message's own (its link, say): nothing worth remembering.
        prepared = self._prepare(kind, language, values, notes, expires_at, data, remember=False)
        message: Message = prepared.render(to)
        return message

    def prepare(
        self,
        kind: MessageKind,
        *,
        language: str,
        values: Mapping[str, str],
        notes: str = "",
        expires_at: dt.datetime | None = None,
        data: Mapping[str, str] | None = None,
    ) -> PreparedEmail:
        """Write the parts of an email a batch shares, once; each recipient's come later.

        Takes what :meth:`render` takes but the recipient: *values* holds the values every
        message of the batch shares, and :meth:`PreparedEmail.render` (``to``, the
        recipient's own values, extra data) gives each message, as :meth:`render` would.

        The parts written for the last few (kind, language, *values*, *notes*, expiry to
        the minute) are remembered, so that calls sending the same email to one recipient
        each (an administrator inviting people one by one) write them once: keep a
        recipient's own values, secrets above all, out of *values*.
        """
        return self._prepare(kind, language, values, notes, expires_at, data, remember=True)

    def _prepare(
        self,
        kind: MessageKind,
        language: str,
        values: Mapping[str, str],
        notes: str,
        expires_at: dt.datetime | None,
        data: Mapping[str, str] | None,
        *,
        remember: bool,
    ) -> PreparedEmail:
        """:meth:`prepare`, remembering the parts written only with *remember*."""
        kind = _message_kind(kind)
        notes = notes.strip()
        lang = self.language(language)
        plain = dict(values)
        if expires_at is not None:
            plain["expires"] = self._date(lang, expires_at)
        if remember:
            key = (kind, lang.tag, notes, *plain.items())
            written = self._written.get(key)
            if written is None:
                written = _remember(self._written, key, write(kind, lang, plain, notes))
        else:
            written = write(kind, lang, plain, notes)
        # What the engine writes into the data, and the caller's data: a recipient's own
        # values do not replace them (as in a single rendering, where they come last).
        kept = {"language": lang.tag}
        if expires_at is not None:
            kept["expires"] = plain["expires"]
            kept["expires_at"] = expires_at.isoformat()
        if notes:
            kept["notes"] = notes
        kept.update(data or {})
        message_data = {**plain, **kept}
        return PreparedEmail(
            prepared_message,
            kind=kind,
            language=lang.tag,
            subject=written.subject,
            text=written.text,
            html=written.html,
            head=written.head,
            page=written.page,
            data=message_data,
            kept=kept,
            recipient_known="recipient" in plain,
        )

    def _date(self, lang: Language, moment: dt.datetime) -> str:
        """*moment* written in *lang* (see :meth:`Language.format_date`), to the minute."""
        if type(lang) is not Language:  # a subclass may write dates its own way
            return lang.format_date(moment)
        key = (lang.tag, int(moment.timestamp() // 60))
        written = self._dates.get(key)
        if written is None:
            written = _remember(self._dates, key, lang.format_date(moment))
        return written


_MEMORY = 256
"""The most entries each memory of a Templates holds; it is emptied when full."""
_REMEMBERED_TAG = 64
"""The longest language tag whose resolution a Templates remembers."""

K = TypeVar("K")
V = TypeVar("V")


def _remember(memory: dict[K, V], key: K, value: V) -> V:
    """Keep *value* under *key* in *memory* (emptied first when full); return *value*."""
    if len(memory) >= _MEMORY:
        memory.clear()
    memory[key] = value
    return value


def _message_kind(kind: object) -> MessageKind:
    try:
        return MessageKind(kind)  # type: ignore[arg-type]  # checked here
    except ValueError:
        choices = ", ".join(k.value for k in MessageKind)
        raise ValidationError(f"unknown message kind {echo(kind)}; one of {choices}") from None


_DEFAULT_TEMPLATES: Templates | None = None


def default_templates() -> Templates:
    """Return the shared :class:`Templates` of the built-in languages (made on first use)."""
    global _DEFAULT_TEMPLATES
    if _DEFAULT_TEMPLATES is None:
        _DEFAULT_TEMPLATES = Templates()
    return _DEFAULT_TEMPLATES


def check_language(tag: str) -> str:
    """Return the built-in language for BCP 47 *tag* (``en-GB`` gives ``en``).

    Raises:
        ValidationError: No built-in language fits; the message lists the supported ones.
    """
    return default_templates().resolve(tag)


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
    templates: Templates | None = None,
) -> Message:
    """Render the email inviting *to* to join the business account *account_name*.

    Args:
        to: Recipient address.
        account_name: Name of the business account (user-supplied: escaped in HTML).
        inviter_email: Who sent the invitation.
        link: The personal link that accepts the invitation.
        token: The token inside *link* (kept in :attr:`Message.data` only).
        expires_at: When the link stops working.
        language: A BCP 47 tag (see :meth:`Templates.resolve`).
        service_name: How the host's service calls itself in emails.
        templates: The texts to use; licensekit's own when omitted.
    """
    return (templates or default_templates()).render(
        MessageKind.JOIN_INVITATION,
        to=to,
        language=language,
        values={
            "account_name": account_name,
            "inviter": inviter_email,
            "link": link,
            "service_name": service_name,
        },
        expires_at=expires_at,
        data={"inviter_email": inviter_email, "token": token},
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
    templates: Templates | None = None,
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
        language: A BCP 47 tag (see :meth:`Templates.resolve`).
        service_name: How the host's service calls itself in emails.
        templates: The texts to use; licensekit's own when omitted.
    """
    return (templates or default_templates()).render(
        MessageKind.INSTALL_INVITATION,
        to=to,
        language=language,
        values={
            "product": product,
            "account_name": account_name,
            "inviter": inviter_email,
            "link": download_url,
            "code": code,
            "service_name": service_name,
        },
        expires_at=expires_at,
        data={"inviter_email": inviter_email, "token": token},
    )


_NOTICES = (MessageKind.MEMBER_BLOCKED, MessageKind.MEMBER_REMOVED, MessageKind.ROLE_CHANGED)


def render_member_notice(
    kind: MessageKind,
    *,
    to: str,
    account_name: str,
    actor: str,
    language: str,
    service_name: str,
    notes: str = "",
    old_role: str = "",
    new_role: str = "",
    templates: Templates | None = None,
) -> Message:
    """Render a notice to a member: blocked, removed, or a changed role.

    Args:
        kind: :attr:`MessageKind.MEMBER_BLOCKED`, :attr:`~MessageKind.MEMBER_REMOVED` or
            :attr:`~MessageKind.ROLE_CHANGED`.
        to: The member's address.
        account_name: The business account.
        actor: Who made the change (a name or an address).
        language: A BCP 47 tag.
        service_name: How the host's service calls itself in emails.
        notes: The administrator's note, if any.
        old_role: For a role change, the :class:`~licensekit.Role` value it had.
        new_role: For a role change, the value it has now.
        templates: The texts to use; licensekit's own when omitted.
    """
    kind = _message_kind(kind)
    if kind not in _NOTICES:
        raise ValidationError(f"{kind!r} is not a member notice")
    chosen = templates or default_templates()
    lang = chosen.language(language)
    values = {"account_name": account_name, "actor": actor, "service_name": service_name}
    data = {}
    if kind is MessageKind.ROLE_CHANGED:
        values["old_role"] = lang.role_names.get(old_role, old_role)
        values["new_role"] = lang.role_names.get(new_role, new_role)
        data = {"old_role_value": old_role, "new_role_value": new_role}
    return chosen.render(kind, to=to, language=lang.tag, values=values, notes=notes, data=data)
