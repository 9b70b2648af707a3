"""Emails prepared once for a batch: ``Templates.prepare(...).render(to, own, data)``.

A prepared email has the values a batch shares written in; each message fills in only the
recipient's own. Whatever the split, the message must be the one a single rendering with
every value gives. Both are compared with a reference written here from the rules of the
templates (``string.Template`` on the parts, the note's line dropped when there is none,
values HTML-escaped in the body and collapsed to one line in the subject), so that a mistake
shared by ``render`` and ``prepare`` (``render`` now prepares) is caught too.
"""

from __future__ import annotations

import datetime as dt
import html
import string
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from licensekit import locales
from licensekit._email_writing import notes_block
from licensekit.mail import (
    SUPPORTED_LANGUAGES,
    EmailTemplate,
    Message,
    MessageKind,
    Templates,
    default_templates,
)

EXPIRES = dt.datetime(2030, 1, 1, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
NOTES = "  First line <b>&amp;</b>\nSecond line: $100 ${link}  "
TO = "ann.o'brien+test@example.com"
OWN = frozenset({"recipient", "link", "code"})
"""What differs from one recipient to the next in licensekit's own batches."""

# Values chosen to trip the filling: markup, quotes, line breaks (the subject collapses
# them), dollar signs and placeholder-like text (never parsed again), and nothing at all.
HOSTILE: Mapping[str, str] = {
    "service_name": 'Licence <Hub> & "Co"',
    "account_name": "Acme\r\nBcc: evil@example.com\n  Ltd",
    "product": "Draw ${code} $$ 100% <script>alert('x')</script>",
    "inviter": "boss@example.com",
    "actor": "Ann\tAdmin\u2028Two",
    "link": "https://example.com/install?token=T&lang=de#x<y>",
    "code": "7KQ2M-X0D9P-R4T8W-HC1ZB-5NV3E",
    "recipient": '"Ann" <ann@example.com>',
    "old_role": "Regular & <Member>",
    "new_role": "",
}


def one_line(value: str) -> str:
    return " ".join(value.split())


def reference(
    templates: Templates,
    kind: MessageKind,
    *,
    to: str,
    language: str,
    values: Mapping[str, str],
    notes: str = "",
    expires_at: dt.datetime | None = None,
    data: Mapping[str, str] | None = None,
) -> Message:
    """The email as the rules of the templates write it, without the engine's own filling."""
    lang = templates.language(language)
    template = lang.templates[kind]
    notes = notes.strip()
    plain = dict(values)
    plain.setdefault("recipient", to)
    if expires_at is not None:
        plain["expires"] = lang.format_date(expires_at)
    text_notes, html_notes = notes_block(lang, notes)
    text, fragment = template.text, template.html
    if not notes:
        text = text.replace("\n${notes_block}\n\n", "\n")
        fragment = fragment.replace("${notes_block}\n", "")
    subject = string.Template(template.subject).substitute(
        {k: one_line(v) for k, v in plain.items()} | {"notes_block": ""}
    )
    escaped = {k: html.escape(v, quote=True) for k, v in plain.items()}
    document = (
        "<!DOCTYPE html>\n"
        f'<html lang="{html.escape(lang.tag, quote=True)}"><head><meta charset="utf-8">'
        f"<title>{html.escape(one_line(subject))}</title></head><body>\n"
        f"{string.Template(fragment).substitute(escaped | {'notes_block': html_notes})}"
        "</body></html>\n"
    )
    message_data = {**plain, "language": lang.tag}
    if expires_at is not None:
        message_data["expires_at"] = expires_at.isoformat()
    if notes:
        message_data["notes"] = notes
    message_data.update(data or {})
    return Message(
        to=to,
        subject=subject,
        text=string.Template(text).substitute(plain | {"notes_block": text_notes}),
        html=document,
        language=lang.tag,
        kind=kind,
        data=message_data,
    )


def placeholders(kind: MessageKind) -> frozenset[str]:
    """The values a caller gives for *kind*: its placeholders but those the engine fills."""
    return locales.PLACEHOLDERS[kind.value] - {"expires", "notes_block"}


def split(values: Mapping[str, str], own: frozenset[str]) -> tuple[dict[str, str], dict[str, str]]:
    return (
        {k: v for k, v in values.items() if k not in own},
        {k: v for k, v in values.items() if k in own},
    )


def check(
    templates: Templates,
    kind: MessageKind,
    language: str,
    values: Mapping[str, str],
    own: frozenset[str],
    *,
    notes: str = "",
    expires_at: dt.datetime | None = None,
    data: Mapping[str, str] | None = None,
    own_data: Mapping[str, str] | None = None,
    to: str = TO,
) -> Message:
    """Assert that the prepared email, the single rendering and the reference agree."""
    shared, mine = split(values, own)
    prepared = templates.prepare(
        kind, language=language, values=shared, notes=notes, expires_at=expires_at, data=data
    )
    got = prepared.render(to, mine, own_data)
    all_data = {**(data or {}), **(own_data or {})}
    single = templates.render(
        kind,
        to=to,
        language=language,
        values=values,
        notes=notes,
        expires_at=expires_at,
        data=all_data,
    )
    expected = reference(
        templates,
        kind,
        to=to,
        language=language,
        values=values,
        notes=notes,
        expires_at=expires_at,
        data=all_data,
    )
    assert single == expected, f"render differs from the rules ({kind}, {language})"
    for part in ("subject", "text", "html", "data", "to", "language", "kind"):
        assert getattr(got, part) == getattr(expected, part), (
            f"{kind} in {language}, own values {sorted(own)}: the prepared {part} differs"
        )
    assert got == expected
    return got


# -- every built-in language and kind -----------------------------------------------------------


@pytest.mark.parametrize("notes", ["", NOTES], ids=["no-notes", "notes"])
@pytest.mark.parametrize("kind", list(MessageKind), ids=str)
@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_a_prepared_email_is_the_single_rendering_for_every_language_and_kind(
    language: str, kind: MessageKind, notes: str
) -> None:
    values = {name: HOSTILE[name] for name in placeholders(kind)}
    templates = default_templates()
    for own in (frozenset(), OWN, frozenset(values)):  # shared, licensekit's split, all own
        check(
            templates,
            kind,
            language,
            values,
            own,
            notes=notes,
            expires_at=EXPIRES,
            data={"inviter_email": "boss@example.com"},
            own_data={"token": "T<&>"},
        )


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_the_recipient_is_filled_from_the_address_unless_given(language: str) -> None:
    kind = MessageKind.INSTALL_INVITATION
    values = {name: HOSTILE[name] for name in placeholders(kind) - {"recipient"}}
    templates = default_templates()
    for to in ("ann@example.com", "bob@example.com"):  # one prepared email, two recipients
        got = check(templates, kind, language, values, OWN, expires_at=EXPIRES, to=to)
        assert got.data["recipient"] == to
    named = {**values, "recipient": "Ann Example"}
    for own in (frozenset(), frozenset({"recipient"})):  # shared by the batch, or its own
        got = check(templates, kind, language, named, own, expires_at=EXPIRES)
        assert got.data["recipient"] == "Ann Example"


def test_one_prepared_email_gives_each_recipient_their_own_values() -> None:
    templates = default_templates()
    kind = MessageKind.INSTALL_INVITATION
    shared = {k: HOSTILE[k] for k in placeholders(kind) - OWN}
    prepared = templates.prepare(
        kind, language="de", values=shared, expires_at=EXPIRES, data={"inviter_email": "b@x"}
    )
    for n in range(3):
        own = {"link": f"https://example.com/{n}?a=1&b=2", "code": f"CODE-{n}"}
        to = f"person{n}@example.com"
        got = prepared.render(to, own, {"token": f"T{n}"})
        assert got == reference(
            templates,
            kind,
            to=to,
            language="de",
            values={**shared, **own},
            expires_at=EXPIRES,
            data={"inviter_email": "b@x", "token": f"T{n}"},
        )
        assert f"CODE-{n}" in got.text
        assert html.escape(own["link"], quote=True) in got.html


def test_line_breaks_in_a_recipients_value_are_collapsed_in_the_subject_only() -> None:
    template = EmailTemplate(
        subject="${recipient}: ${service_name} invites you",
        text="Hello ${recipient},\nuse ${link}.\n",
        html='<p>Hello ${recipient}: <a href="${link}">${link}</a></p>\n',
    )
    templates = Templates().with_template(MessageKind.JOIN_INVITATION, "en", template)
    values = {
        "recipient": "Ann\r\nBcc: evil@example.com",
        "service_name": "Hub\nTwo",
        "link": "https://x/?a=1&b=<2>",
    }
    got = check(templates, MessageKind.JOIN_INVITATION, "en", values, OWN)
    assert got.subject == "Ann Bcc: evil@example.com: Hub Two invites you"
    assert "Hello Ann\r\nBcc: evil@example.com," in got.text
    assert "<title>Ann Bcc: evil@example.com: Hub Two invites you</title>" in got.html
    assert "https://x/?a=1&amp;b=&lt;2&gt;" in got.html


# -- custom templates -----------------------------------------------------------------------------

CUSTOM = [
    EmailTemplate(  # every placeholder twice, next to each other, at the edges, $$ escapes
        subject="${code}${recipient} $$5 for ${product}$$",
        text="${link}${code}\n$$${code} $code and $$link ${product}\n${recipient}",
        html="<p>${link}${code} $$${code}</p>\n<p>$product $$$$ ${recipient}</p>\n",
    ),
    EmailTemplate(  # only shared values in the subject: the same title for every message
        subject="$$ ${product} from ${account_name}",
        text="${inviter} invites you: ${link} (${code}), until ${expires}.\n",
        html='<p>${inviter}: <a href="${link}">${code}</a> ${expires} $$</p>\n',
    ),
    EmailTemplate(  # no placeholder but the essential ones
        subject="Your code",
        text="$$$$ ${code} ${link}",
        html="${code}${link}",
    ),
]


@pytest.mark.parametrize("template", CUSTOM, ids=["mixed", "shared-subject", "bare"])
@pytest.mark.parametrize(
    "own",
    [frozenset(), OWN, frozenset({"product", "code"}), frozenset(HOSTILE)],
    ids=["all-shared", "licensekit", "product-and-code", "all-own"],
)
def test_custom_templates_with_escapes_and_any_split_of_their_values(
    template: EmailTemplate, own: frozenset[str]
) -> None:
    kind = MessageKind.INSTALL_INVITATION
    templates = Templates().with_template(kind, "fr", template)
    values = {name: HOSTILE[name] for name in placeholders(kind)}
    got = check(templates, kind, "fr", values, own, expires_at=EXPIRES, own_data={"t": "1"})
    assert "$$" not in got.subject.replace(values["product"], "")  # $$ is written as $


@pytest.mark.parametrize("name", ["expires", "expires_at", "language", "notes", "inviter_email"])
def test_a_recipients_value_does_not_replace_what_the_engine_or_the_caller_put_in_the_data(
    name: str,
) -> None:
    """As in a single rendering, where the engine's entries and extra data come last."""
    kind = MessageKind.INSTALL_INVITATION
    values = {**{k: HOSTILE[k] for k in placeholders(kind)}, name: "the recipient's own"}
    got = check(
        default_templates(),
        kind,
        "it",
        values,
        frozenset({name, "link"}),
        notes="a note",
        expires_at=EXPIRES,
        data={"inviter_email": "boss@example.com"},
    )
    assert got.data[name] != "the recipient's own"


def test_a_placeholder_without_a_value_raises_key_error_as_render_does() -> None:
    templates = default_templates()
    kind = MessageKind.INSTALL_INVITATION
    shared = {k: HOSTILE[k] for k in placeholders(kind) - OWN}
    prepared = templates.prepare(kind, language="en", values=shared, expires_at=EXPIRES)
    with pytest.raises(KeyError, match="code"):
        prepared.render(TO, {"link": "https://x"})
    with pytest.raises(KeyError):
        templates.render(kind, to=TO, language="en", values={**shared, "link": "https://x"})


# -- any values, any split ------------------------------------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


@settings(max_examples=200)
@given(
    language=st.sampled_from(SUPPORTED_LANGUAGES),
    kind=st.sampled_from(list(MessageKind)),
    texts=st.fixed_dictionaries(dict.fromkeys(HOSTILE, _TEXT)),
    own=st.frozensets(st.sampled_from(sorted(HOSTILE))),
    notes=st.one_of(st.just(""), _TEXT),
    expires=st.booleans(),
)
def test_any_values_split_any_way_give_the_single_rendering(
    language: str,
    kind: MessageKind,
    texts: dict[str, str],
    own: frozenset[str],
    notes: str,
    expires: bool,
) -> None:
    values = {name: texts[name] for name in placeholders(kind)}
    if "expires" in locales.PLACEHOLDERS[kind.value] and not expires:
        values["expires"] = texts["product"]  # given as a value when there is no moment
    check(
        default_templates(),
        kind,
        language,
        values,
        own,
        notes=notes,
        expires_at=EXPIRES if expires else None,
        data={"shared": texts["actor"]},
        own_data={"own": texts["code"]},
    )
