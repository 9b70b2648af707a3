"""The email template engine in licensekit.mail: every language, resolving tags, escaping,
host overrides and dates."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import html
from html.parser import HTMLParser

import attrs
import pytest

from licensekit import Message, MessageKind, ValidationError, locales
from licensekit.mail import (
    SUPPORTED_LANGUAGES,
    EmailTemplate,
    Language,
    Templates,
    check_language,
    default_templates,
    render_install_invitation,
    render_join_invitation,
    render_member_notice,
)

TAGS = ("en", "de", "fr", "es", "it", "ja", "zh-Hans", "pt-BR")
NOTICES = (MessageKind.MEMBER_BLOCKED, MessageKind.MEMBER_REMOVED, MessageKind.ROLE_CHANGED)

EXPIRES = dt.datetime(2030, 1, 8, 12, 30, tzinfo=dt.UTC)
# How each language writes EXPIRES, spelled out here rather than read from the catalogs.
DATES = {
    "en": "8 January 2030, 12:30 UTC",
    "de": "8. Januar 2030, 12:30 Uhr UTC",
    "fr": "8 janvier 2030 à 12:30 UTC",
    "es": "8 de enero de 2030, 12:30 UTC",
    "it": "8 gennaio 2030, ore 12:30 UTC",
    "ja": "2030年1月8日 12:30 UTC",
    "zh-Hans": "2030年1月8日 12:30 UTC",
    "pt-BR": "8 de janeiro de 2030, às 12:30 UTC",
}
LINK = "https://licenses.example.com/accept?token=TOK-77&lang=x"
CODE = "7KQ2M-X0D9P-R4T8W-HC1ZB-5NV3E"
NOTES = "First line of the note\nSecond line, with detail"
INJECTION = "Evil\r\nBcc: x@evil.example"
HOSTILE = '<script>alert("x")</script> & Co ' + INJECTION


def join(language: str = "en", **overrides: object) -> Message:
    args: dict[str, object] = {
        "to": "ann@example.com",
        "account_name": "Acme Ltd",
        "inviter_email": "boss@example.com",
        "link": LINK,
        "token": "TOK-77",
        "expires_at": EXPIRES,
        "language": language,
        "service_name": "LicenseHub",
    }
    args.update(overrides)
    return render_join_invitation(**args)  # type: ignore[arg-type]


def install(language: str = "en", **overrides: object) -> Message:
    args: dict[str, object] = {
        "to": "ann@example.com",
        "product": "Acme Draw",
        "account_name": "Acme Ltd",
        "inviter_email": "boss@example.com",
        "download_url": LINK,
        "code": CODE,
        "token": "TOK-77",
        "expires_at": EXPIRES,
        "language": language,
        "service_name": "LicenseHub",
    }
    args.update(overrides)
    return render_install_invitation(**args)  # type: ignore[arg-type]


def notice(kind: MessageKind, language: str = "en", **overrides: object) -> Message:
    args: dict[str, object] = {
        "to": "ann@example.com",
        "account_name": "Acme Ltd",
        "actor": "boss@example.com",
        "language": language,
        "service_name": "LicenseHub",
        "notes": "",
        "old_role": "regular_member",
        "new_role": "account_administrator",
    }
    args.update(overrides)
    return render_member_notice(kind, **args)  # type: ignore[arg-type]


def render_kind(kind: MessageKind, language: str, notes: str = "") -> Message:
    if kind is MessageKind.JOIN_INVITATION:
        return join(language)
    if kind is MessageKind.INSTALL_INVITATION:
        return install(language)
    if kind in ACCOUNT_EMAILS:
        return default_templates().render(
            kind,
            to="ann@example.com",
            language=language,
            values={"service_name": "LicenseHub", "link": LINK},
            expires_at=EXPIRES,
        )
    return notice(kind, language, notes=notes)


# The emails about a personal account (its address, its password), rendered by the use cases
# straight from the templates.
ACCOUNT_EMAILS = (
    MessageKind.EMAIL_VERIFICATION,
    MessageKind.PASSWORD_RESET,
    MessageKind.PASSWORD_RESET_UNKNOWN,
    MessageKind.PASSWORD_CHANGED,
)


class _Parsed(HTMLParser):
    VOID = frozenset({"meta", "br"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.code: list[str] = []
        self.html_lang: list[str | None] = []
        self.unbalanced: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs.extend(value or "" for name, value in attrs if name == "href")
        if tag == "html":
            self.html_lang.extend(value for name, value in attrs if name == "lang")
        if tag not in self.VOID:
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()
        else:
            self.unbalanced.append(tag)

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1] == "code":
            self.code.append(data)


def parse(body: str) -> _Parsed:
    parser = _Parsed()
    parser.feed(body)
    parser.close()
    return parser


def header_lines(raw: bytes) -> list[bytes]:
    """The header lines of the outer message (up to the first blank line)."""
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    return head.split(b"\n")


ALL_RENDERS = [
    pytest.param(kind, tag, notes, id=f"{tag}-{kind.value}{'-notes' if notes else ''}")
    for tag in TAGS
    for kind in MessageKind
    for notes in (("", NOTES) if kind in NOTICES else ("",))
]


def test_the_built_in_languages_are_the_expected_eight() -> None:
    assert SUPPORTED_LANGUAGES == TAGS
    assert Templates().languages == TAGS


# -- every language, every kind --------------------------------------------------------------


class TestEveryLanguageRendersEveryKind:
    @pytest.mark.parametrize(("kind", "tag", "notes"), ALL_RENDERS)
    def test_no_placeholder_is_left(self, kind: MessageKind, tag: str, notes: str) -> None:
        m = render_kind(kind, tag, notes)
        assert m.kind is kind
        assert m.language == tag
        for part in (m.subject, m.text, m.html):
            assert "$" not in part

    @pytest.mark.parametrize(("kind", "tag", "notes"), ALL_RENDERS)
    def test_html_is_a_whole_balanced_document_in_the_language(
        self, kind: MessageKind, tag: str, notes: str
    ) -> None:
        body = render_kind(kind, tag, notes).html
        assert body.startswith("<!DOCTYPE html>\n")
        assert body.rstrip().endswith("</body></html>")
        parsed = parse(body)
        assert parsed.html_lang == [tag]
        for element in ("html", "head", "title", "body"):
            assert parsed.tags.count(element) == 1
        assert parsed.unbalanced == []
        assert parsed._open == []

    @pytest.mark.parametrize(("kind", "tag", "notes"), ALL_RENDERS)
    def test_subject_is_one_non_empty_line(self, kind: MessageKind, tag: str, notes: str) -> None:
        subject = render_kind(kind, tag, notes).subject
        assert subject.strip()
        assert "\n" not in subject
        assert "\r" not in subject
        assert len(subject.splitlines()) == 1

    @pytest.mark.parametrize(("kind", "tag", "notes"), ALL_RENDERS)
    def test_text_has_no_run_of_blank_lines(self, kind: MessageKind, tag: str, notes: str) -> None:
        text = render_kind(kind, tag, notes).text
        assert "\n\n\n" not in text
        assert text.endswith("\n")

    @pytest.mark.parametrize("kind", [MessageKind.JOIN_INVITATION, MessageKind.INSTALL_INVITATION])
    @pytest.mark.parametrize("tag", TAGS)
    def test_expiry_date_is_written_for_the_language(self, tag: str, kind: MessageKind) -> None:
        m = render_kind(kind, tag)
        assert DATES[tag] in m.text
        assert DATES[tag] in m.html
        assert m.data["expires"] == DATES[tag]
        assert m.data["expires_at"] == EXPIRES.isoformat()

    @pytest.mark.parametrize("tag", TAGS)
    def test_install_email_carries_code_and_link_in_both_bodies(self, tag: str) -> None:
        m = install(tag)
        assert CODE in m.text
        assert LINK in m.text
        parsed = parse(m.html)
        assert parsed.hrefs == [LINK]
        assert CODE in parsed.code
        assert m.data["code"] == CODE
        assert m.data["link"] == LINK
        assert m.data["token"] == "TOK-77"

    @pytest.mark.parametrize("tag", TAGS)
    def test_join_email_carries_link_in_both_bodies(self, tag: str) -> None:
        m = join(tag)
        assert LINK in m.text
        assert parse(m.html).hrefs == [LINK]

    @pytest.mark.parametrize("tag", TAGS)
    @pytest.mark.parametrize("kind", NOTICES)
    def test_notice_names_account_and_actor(self, tag: str, kind: MessageKind) -> None:
        m = notice(kind, tag)
        for body in (m.text, m.html):
            assert "Acme Ltd" in body
            assert "boss@example.com" in body

    @pytest.mark.parametrize("tag", TAGS)
    def test_role_change_shows_role_names_of_the_language(self, tag: str) -> None:
        m = notice(MessageKind.ROLE_CHANGED, tag)
        names = Templates().language(tag).role_names
        for body, write in ((m.text, str), (m.html, html.escape)):
            assert write(names["regular_member"]) in body
            assert write(names["account_administrator"]) in body
            assert "account_administrator" not in body
            assert "regular_member" not in body
        assert m.data["old_role_value"] == "regular_member"
        assert m.data["new_role_value"] == "account_administrator"


class TestNotes:
    @pytest.mark.parametrize("tag", TAGS)
    @pytest.mark.parametrize("kind", NOTICES)
    def test_notes_lines_appear_in_text_and_html(self, tag: str, kind: MessageKind) -> None:
        m = notice(kind, tag, notes=NOTES)
        label = Templates().language(tag).notes_label
        assert label in m.text
        assert html.escape(label) in m.html
        assert "First line of the note" in m.text
        assert "Second line, with detail" in m.text
        assert "First line of the note<br>\nSecond line, with detail" in m.html
        assert m.data["notes"] == NOTES

    @pytest.mark.parametrize("tag", TAGS)
    @pytest.mark.parametrize("kind", NOTICES)
    def test_no_label_without_notes(self, tag: str, kind: MessageKind) -> None:
        m = notice(kind, tag, notes="")
        label = Templates().language(tag).notes_label
        assert label not in m.text
        assert html.escape(label) not in m.html
        assert "\n\n\n" not in m.text
        assert "notes" not in m.data

    def test_whitespace_only_notes_count_as_no_notes(self) -> None:
        m = notice(MessageKind.MEMBER_BLOCKED, notes="  \n \t")
        assert "Note from the administrator" not in m.text
        assert "Note from the administrator" not in m.html
        assert "\n\n\n" not in m.text

    def test_notes_keep_their_line_order_and_text_as_typed(self) -> None:
        m = notice(MessageKind.MEMBER_REMOVED, notes='a < b\r\nc & d\n"e"')
        assert m.text.index("a < b") < m.text.index("c & d") < m.text.index('"e"')
        assert "a &lt; b<br>\nc &amp; d<br>\n&quot;e&quot;" in m.html


# -- resolving language tags -------------------------------------------------------------------


class TestResolve:
    @pytest.mark.parametrize(
        ("tag", "expected"),
        [
            ("en", "en"),
            ("de-AT", "de"),
            ("DE", "de"),
            ("en_GB", "en"),
            (" fr-CA ", "fr"),
            ("zh-Hans", "zh-Hans"),
            ("zh-hans", "zh-Hans"),
            ("zh-Hans-CN", "zh-Hans"),
            ("zh", "zh-Hans"),
            ("zh-CN", "zh-Hans"),
            ("pt", "pt-BR"),
            ("pt-br", "pt-BR"),
            # No pt-PT texts: the only Portuguese variant is taken, as resolve() documents.
            ("pt-PT", "pt-BR"),
            ("ja-JP", "ja"),
        ],
    )
    def test_tag_resolves(self, tag: str, expected: str) -> None:
        assert Templates().resolve(tag) == expected
        assert check_language(tag) == expected
        assert Templates().language(tag).tag == expected

    @pytest.mark.parametrize("tag", ["zh-Hant", "zh-TW", "zh-Hant-HK", "zh-HK", "xx", "tlh", ""])
    def test_unsupported_tag_lists_the_supported_ones(self, tag: str) -> None:
        with pytest.raises(ValidationError, match="unsupported language") as caught:
            Templates().resolve(tag)
        message = str(caught.value)
        for known in TAGS:
            assert known in message

    @pytest.mark.parametrize("tag", [None, 5, b"en", ["en"]])
    def test_non_string_is_refused(self, tag: object) -> None:
        with pytest.raises(ValidationError):
            Templates().resolve(tag)  # type: ignore[arg-type]

    def test_two_variants_of_a_language_need_a_region(self) -> None:
        brazil = Templates().language("pt-BR")
        portugal = attrs.evolve(brazil, tag="pt-PT", name="Português (Portugal)")
        templates = Templates().with_language(portugal)
        assert templates.resolve("pt-PT") == "pt-PT"
        assert templates.resolve("pt-BR") == "pt-BR"
        with pytest.raises(ValidationError, match="unsupported language 'pt'"):
            templates.resolve("pt")

    def test_rendering_with_a_regional_tag_uses_the_resolved_language(self) -> None:
        m = join("de-CH")
        assert m.language == "de"
        assert 'lang="de"' in m.html
        assert DATES["de"] in m.text


# -- escaping and header injection -------------------------------------------------------------


class TestEscaping:
    @pytest.mark.parametrize("tag", TAGS)
    def test_join_invitation(self, tag: str) -> None:
        m = join(tag, account_name=HOSTILE, inviter_email=HOSTILE, service_name=HOSTILE)
        self.check_html(m.html)
        self.check_headers(m)

    @pytest.mark.parametrize("tag", TAGS)
    def test_install_invitation(self, tag: str) -> None:
        m = install(tag, product=HOSTILE, account_name=HOSTILE, inviter_email=HOSTILE)
        self.check_html(m.html)
        self.check_headers(m)

    @pytest.mark.parametrize("tag", TAGS)
    @pytest.mark.parametrize("kind", NOTICES)
    def test_member_notice(self, tag: str, kind: MessageKind) -> None:
        m = notice(kind, tag, account_name=HOSTILE, actor=HOSTILE, notes=HOSTILE)
        self.check_html(m.html)
        self.check_headers(m)
        # The note's lines (split at the CRLF) are escaped in html, kept as typed in text.
        assert html.escape('<script>alert("x")</script> & Co Evil') in m.html
        assert '<script>alert("x")</script> & Co Evil' in m.text
        assert "Bcc: x@evil.example" in m.text

    def test_plain_text_keeps_names_as_typed(self) -> None:
        m = install(product="R&D <Tools>", account_name='"A" & B')
        assert "R&D <Tools>" in m.text
        assert '"A" & B' in m.text

    @staticmethod
    def check_html(body: str) -> None:
        assert "<script" not in body
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in body
        assert "script" not in parse(body).tags

    @staticmethod
    def check_headers(m: Message) -> None:
        assert "\n" not in m.subject
        assert "\r" not in m.subject
        raw = m.to_email_message("noreply@example.com").as_bytes()
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert parsed["Bcc"] is None
        assert len(parsed.get_all("Subject") or []) == 1
        assert not any(line.lower().startswith(b"bcc:") for line in header_lines(raw))
        assert parsed["To"] == "ann@example.com"


# -- host overrides ----------------------------------------------------------------------------

GOODBYE = EmailTemplate(
    subject="Goodbye from ${account_name}",
    text="${actor} removed you from ${account_name} on ${service_name}.\n"
    "\n${notes_block}\n\nBye.\n",
    html="<p>${actor} removed you from ${account_name}.</p>\n${notes_block}\n<p>Bye.</p>\n",
)


class TestOverrides:
    def test_with_template_changes_only_that_kind_and_language(self) -> None:
        base = Templates()
        changed = base.with_template(MessageKind.MEMBER_REMOVED, "en", GOODBYE)
        m = notice(MessageKind.MEMBER_REMOVED, templates=changed)
        assert m.subject == "Goodbye from Acme Ltd"
        assert m.text == "boss@example.com removed you from Acme Ltd on LicenseHub.\n\nBye.\n"
        assert "<p>boss@example.com removed you from Acme Ltd.</p>" in m.html
        # Other kinds in the same language, and the same kind in other languages, are as before.
        for kind in (MessageKind.MEMBER_BLOCKED, MessageKind.ROLE_CHANGED):
            assert notice(kind, templates=changed) == notice(kind, templates=base)
        assert join(templates=changed) == join(templates=base)
        for tag in TAGS[1:]:
            assert notice(MessageKind.MEMBER_REMOVED, tag, templates=changed) == notice(
                MessageKind.MEMBER_REMOVED, tag, templates=base
            )

    def test_overridden_template_takes_notes(self) -> None:
        changed = Templates().with_template("member_removed", "en", GOODBYE)
        m = notice(MessageKind.MEMBER_REMOVED, templates=changed, notes="See you")
        assert "Note from the administrator" in m.text
        assert "See you" in m.text
        assert "See you" in m.html

    def test_with_template_resolves_the_language_tag(self) -> None:
        changed = Templates().with_template(MessageKind.MEMBER_REMOVED, "en-GB", GOODBYE)
        assert notice(MessageKind.MEMBER_REMOVED, templates=changed).subject == (
            "Goodbye from Acme Ltd"
        )

    def test_original_templates_are_unchanged(self) -> None:
        base = Templates()
        before = base.language("en").templates[MessageKind.MEMBER_REMOVED]
        base.with_template(MessageKind.MEMBER_REMOVED, "en", GOODBYE)
        base.with_language(attrs.evolve(base.language("en"), tag="nl"))
        assert base.language("en").templates[MessageKind.MEMBER_REMOVED] == before
        assert base.languages == TAGS
        assert notice(MessageKind.MEMBER_REMOVED, templates=base).subject != (
            "Goodbye from Acme Ltd"
        )
        # The shared default templates are not touched either.
        assert "Goodbye" not in notice(MessageKind.MEMBER_REMOVED).subject
        assert default_templates().languages == TAGS

    def test_unknown_placeholder_is_refused(self) -> None:
        bad = attrs.evolve(GOODBYE, subject="Goodbye from ${account_name} ${bogus}")
        with pytest.raises(ValidationError, match="bogus"):
            Templates().with_template(MessageKind.MEMBER_REMOVED, "en", bad)

    def test_placeholder_of_another_kind_is_refused(self) -> None:
        bad = attrs.evolve(GOODBYE, text=GOODBYE.text + "${code}\n")
        with pytest.raises(ValidationError, match="code"):
            Templates().with_template(MessageKind.MEMBER_REMOVED, "en", bad)

    @pytest.mark.parametrize(
        ("kind", "name"),
        [
            (MessageKind.JOIN_INVITATION, "link"),
            (MessageKind.INSTALL_INVITATION, "link"),
            (MessageKind.INSTALL_INVITATION, "code"),
        ],
    )
    def test_a_host_template_must_keep_the_link_and_code(
        self, kind: MessageKind, name: str
    ) -> None:
        current = Templates().language("en").templates[kind]
        parts = {
            part: getattr(current, part).replace("${" + name + "}", "")
            for part in ("subject", "text", "html")
        }
        with pytest.raises(ValidationError, match=name):
            Templates().with_template(kind, "en", EmailTemplate(**parts))

    @pytest.mark.parametrize("kind", [MessageKind.MEMBER_REMOVED, MessageKind.ROLE_CHANGED])
    def test_a_host_notice_may_leave_out_optional_facts(self, kind: MessageKind) -> None:
        plain = EmailTemplate(subject="News", text="Something changed.\n", html="<p>News</p>\n")
        templates = Templates().with_template(kind, "en", plain)
        assert templates.language("en").templates[kind] == plain

    @pytest.mark.parametrize(
        "parts",
        [
            {"subject": "Pay $5 now"},
            {"text": "Unclosed ${actor\n"},
            {"html": "<p>${}</p>"},
            {"subject": 42},
        ],
    )
    def test_invalid_template_syntax_is_refused(self, parts: dict[str, object]) -> None:
        fields: dict[str, object] = {
            "subject": GOODBYE.subject,
            "text": GOODBYE.text,
            "html": GOODBYE.html,
        }
        fields.update(parts)
        with pytest.raises(ValidationError):
            EmailTemplate(**fields)  # type: ignore[arg-type]

    def test_literal_dollar_is_written_twice(self) -> None:
        template = attrs.evolve(GOODBYE, subject="Goodbye from ${account_name}, $$5 refunded")
        changed = Templates().with_template(MessageKind.MEMBER_REMOVED, "en", template)
        subject = notice(MessageKind.MEMBER_REMOVED, templates=changed).subject
        assert subject == "Goodbye from Acme Ltd, $5 refunded"

    @pytest.mark.parametrize("kind", ["bogus", "", "JOIN_INVITATION", 3])
    def test_unknown_kind_is_refused(self, kind: object) -> None:
        with pytest.raises(ValidationError, match="unknown message kind"):
            Templates().with_template(kind, "en", GOODBYE)  # type: ignore[arg-type]

    def test_unknown_language_in_with_template_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="unsupported language"):
            Templates().with_template(MessageKind.MEMBER_REMOVED, "xx", GOODBYE)

    def test_non_template_is_refused(self) -> None:
        with pytest.raises(ValidationError):
            Templates().with_template(
                MessageKind.MEMBER_REMOVED,
                "en",
                ("s", "t", "h"),  # type: ignore[arg-type]
            )


DUTCH_MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def dutch() -> Language:
    en = Templates().language("en")
    removed = EmailTemplate(
        subject="U bent geen lid meer van ${account_name}",
        text="${actor} heeft u verwijderd uit ${account_name} op ${service_name}.\n"
        "\n${notes_block}\n\nTot ziens.\n",
        html="<p>${actor} heeft u verwijderd uit <strong>${account_name}</strong>.</p>\n"
        "${notes_block}\n<p>Tot ziens.</p>\n",
    )
    return attrs.evolve(
        en,
        tag="nl",
        name="Nederlands",
        months=DUTCH_MONTHS,
        date_format="{day} {month} {year}, {time} UTC",
        notes_label="Opmerking van de beheerder",
        templates={**en.templates, MessageKind.MEMBER_REMOVED: removed},
    )


class TestNewLanguage:
    def test_with_language_adds_a_language_that_resolve_finds(self) -> None:
        base = Templates()
        templates = base.with_language(dutch())
        assert templates.languages == (*TAGS, "nl")
        assert templates.resolve("nl-BE") == "nl"
        assert templates.resolve("NL") == "nl"
        with pytest.raises(ValidationError):
            base.resolve("nl-BE")

    def test_new_language_renders(self) -> None:
        templates = Templates().with_language(dutch())
        m = notice(MessageKind.MEMBER_REMOVED, "nl-BE", templates=templates, notes="Dag")
        assert m.language == "nl"
        assert m.subject == "U bent geen lid meer van Acme Ltd"
        assert '<html lang="nl">' in m.html
        assert "Opmerking van de beheerder:\n  Dag" in m.text
        assert join("nl", templates=templates).data["expires"] == "8 januari 2030, 12:30 UTC"

    def test_with_language_replaces_a_language_with_the_same_tag(self) -> None:
        english = attrs.evolve(Templates().language("en"), notes_label="Admin says")
        templates = Templates().with_language(english)
        assert sorted(templates.languages) == sorted(TAGS)
        m = notice(MessageKind.MEMBER_BLOCKED, templates=templates, notes="hi")
        assert "Admin says" in m.text

    def test_eleven_months_are_refused(self) -> None:
        with pytest.raises(ValidationError, match="12 months"):
            attrs.evolve(dutch(), months=dutch().months[:11])

    @pytest.mark.parametrize("kind", list(MessageKind))
    def test_a_missing_kind_is_refused(self, kind: MessageKind) -> None:
        templates = {k: v for k, v in dutch().templates.items() if k != kind}
        with pytest.raises(ValidationError, match=kind.value):
            attrs.evolve(dutch(), templates=templates)

    def test_a_language_template_with_a_wrong_placeholder_is_refused(self) -> None:
        bad = attrs.evolve(GOODBYE, html=GOODBYE.html + "${link}")
        with pytest.raises(ValidationError, match="link"):
            attrs.evolve(dutch(), templates={**dutch().templates, "member_removed": bad})

    def test_a_template_for_an_unknown_kind_is_refused(self) -> None:
        with pytest.raises(ValidationError):
            attrs.evolve(dutch(), templates={**dutch().templates, "bogus": GOODBYE})

    def test_from_catalog_reads_a_host_object(self) -> None:
        class Catalog:
            TAG = "en-x-test"
            NAME = "Test English"
            MONTHS = locales.en.MONTHS
            DATE_FORMAT = "{year}-{month_number}-{day} {time} UTC"
            ROLE_NAMES = locales.en.ROLE_NAMES
            NOTES_LABEL = "N"
            TEMPLATES = locales.en.TEMPLATES

        language = Language.from_catalog(Catalog)
        assert language.tag == "en-x-test"
        assert language.format_date(EXPIRES) == "2030-1-8 12:30 UTC"


class TestMemberNoticeKinds:
    @pytest.mark.parametrize("kind", [MessageKind.JOIN_INVITATION, MessageKind.INSTALL_INVITATION])
    def test_invitation_kinds_are_not_notices(self, kind: MessageKind) -> None:
        with pytest.raises(ValidationError, match="not a member notice"):
            notice(kind)

    def test_role_change_given_as_a_string(self) -> None:
        m = notice("role_changed")  # type: ignore[arg-type]
        assert "Account Administrator" in m.text


# -- dates -------------------------------------------------------------------------------------


class TestFormatDate:
    def test_non_utc_datetime_is_written_in_utc(self) -> None:
        english = Templates().language("en")
        plus_fourteen = dt.timezone(dt.timedelta(hours=14))
        moment = dt.datetime(2030, 1, 9, 1, 30, tzinfo=plus_fourteen)  # 8 Jan, 11:30 UTC
        assert english.format_date(moment) == "8 January 2030, 11:30 UTC"

    def test_negative_offset_crosses_the_year(self) -> None:
        japanese = Templates().language("ja")
        minus_five = dt.timezone(dt.timedelta(hours=-5))
        moment = dt.datetime(2029, 12, 31, 22, 5, tzinfo=minus_five)  # 1 Jan 2030, 03:05 UTC
        assert japanese.format_date(moment) == "2030年1月1日 03:05 UTC"

    @pytest.mark.parametrize("tag", TAGS)
    def test_every_language_writes_the_reference_date(self, tag: str) -> None:
        assert Templates().language(tag).format_date(EXPIRES) == DATES[tag]

    @pytest.mark.parametrize("tag", TAGS)
    def test_every_month_has_its_own_name(self, tag: str) -> None:
        language = Templates().language(tag)
        written = {
            language.format_date(dt.datetime(2030, month, 2, tzinfo=dt.UTC))
            for month in range(1, 13)
        }
        assert len(written) == 12

    def test_rendered_expiry_is_in_utc(self) -> None:
        plus_two = dt.timezone(dt.timedelta(hours=2))
        m = join("de", expires_at=dt.datetime(2030, 1, 8, 14, 30, tzinfo=plus_two))
        assert DATES["de"] in m.text
        assert DATES["de"] in m.html


def test_the_supported_languages_are_the_built_in_catalogs_in_order() -> None:
    assert tuple(locales.BUILTIN) == SUPPORTED_LANGUAGES
    assert Templates().languages == SUPPORTED_LANGUAGES


@pytest.mark.parametrize(
    ("tag", "first", "second"),
    [
        ("fr", "1er mars 2030", "2 mars 2030"),
        ("pt-BR", "1º de março de 2030", "2 de março de 2030"),
        ("en", "1 March 2030", "2 March 2030"),
    ],
)
def test_the_first_of_the_month_is_written_as_the_language_does(
    tag: str, first: str, second: str
) -> None:
    language = Templates().language(tag)
    assert first in language.format_date(dt.datetime(2030, 3, 1, 9, 0, tzinfo=dt.UTC))
    assert second in language.format_date(dt.datetime(2030, 3, 2, 9, 0, tzinfo=dt.UTC))


@pytest.mark.parametrize("tag", ["zh-yue", "zh-yue-HK", "zh-min-nan", "zh-Hant-TW"])
def test_other_chinese_languages_and_scripts_are_not_simplified_mandarin(tag: str) -> None:
    with pytest.raises(ValidationError, match="unsupported language"):
        Templates().resolve(tag)


def test_mandarin_named_by_its_extlang_is_simplified_chinese() -> None:
    assert Templates().resolve("zh-cmn-Hans-CN") == "zh-Hans"
