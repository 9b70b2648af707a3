"""Unit tests of email rendering and the Message type in licensekit.mail."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

import pytest

from licensekit import Message, MessageKind, ValidationError
from licensekit.mail import SUPPORTED_LANGUAGES, check_language, render_join_invitation

EXPIRES = dt.datetime(2030, 1, 8, 12, 30, tzinfo=dt.UTC)
LINK = "https://licenses.example.com/join?token=TOK123&lang=en"


def render(**overrides: object) -> Message:
    args: dict[str, object] = {
        "to": "ann@example.com",
        "account_name": "Acme Ltd",
        "inviter_email": "boss@example.com",
        "link": LINK,
        "token": "TOK123",
        "expires_at": EXPIRES,
        "language": "en",
        "service_name": "LicenseHub",
    }
    args.update(overrides)
    return render_join_invitation(**args)  # type: ignore[arg-type]


def message(subject: str = "Hello") -> Message:
    return Message(
        to="ann@example.com",
        subject=subject,
        text="plain body",
        html="<p>html body</p>",
        language="en",
        kind=MessageKind.JOIN_INVITATION,
    )


class TestRenderJoinInvitation:
    def test_message_metadata(self) -> None:
        m = render()
        assert m.to == "ann@example.com"
        assert m.kind is MessageKind.JOIN_INVITATION
        assert m.language == "en"
        assert m.subject == "Join Acme Ltd on LicenseHub"

    def test_text_body_names_inviter_account_link_and_expiry(self) -> None:
        text = render().text
        assert "boss@example.com" in text
        assert '"Acme Ltd"' in text
        assert LINK in text
        assert "8 January 2030, 12:30 UTC" in text

    def test_html_body_carries_the_same_facts(self) -> None:
        body = render().html
        assert body.startswith("<!DOCTYPE html>")
        assert '<html lang="en">' in body
        assert "<strong>Acme Ltd</strong>" in body
        assert 'href="https://licenses.example.com/join?token=TOK123&amp;lang=en"' in body
        assert "8 January 2030, 12:30 UTC" in body

    def test_expiry_is_shown_in_utc(self) -> None:
        plus_two = dt.timezone(dt.timedelta(hours=2))
        m = render(expires_at=dt.datetime(2030, 1, 8, 14, 30, tzinfo=plus_two))
        assert "8 January 2030, 12:30 UTC" in m.text

    def test_html_escapes_account_name(self) -> None:
        body = render(account_name='<script>alert("x")</script>').html
        assert "<script>" not in body
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body

    def test_html_escapes_inviter_and_service_name(self) -> None:
        body = render(inviter_email="<b>@example.com", service_name="Hub & <i>Co</i>").html
        assert "<b>" not in body
        assert "<i>" not in body
        assert "&lt;b&gt;@example.com" in body
        assert "Hub &amp; &lt;i&gt;Co&lt;/i&gt;" in body

    def test_link_cannot_break_out_of_the_href_attribute(self) -> None:
        body = render(link='https://x.example/"><script>evil()</script>').html
        assert "<script>" not in body
        assert 'href="https://x.example/&quot;&gt;&lt;script&gt;' in body

    @pytest.mark.parametrize(
        "name", ["Acme\r\nBcc: victim@example.com", "Acme\nBcc: x", "Acme\rX", "Acme\u2028X"]
    )
    def test_subject_never_contains_a_line_break(self, name: str) -> None:
        subject = render(account_name=name).subject
        assert "\n" not in subject
        assert "\r" not in subject
        assert "\u2028" not in subject
        assert subject.startswith("Join Acme ")

    def test_data_carries_template_values_including_token(self) -> None:
        assert render().data == {
            "account_name": "Acme Ltd",
            "inviter": "boss@example.com",
            "inviter_email": "boss@example.com",
            "link": LINK,
            "token": "TOK123",
            "expires": "8 January 2030, 12:30 UTC",
            "expires_at": "2030-01-08T12:30:00+00:00",
            "service_name": "LicenseHub",
            "recipient": "ann@example.com",
            "language": "en",
        }

    def test_regional_language_falls_back_to_supported(self) -> None:
        assert render(language="en-GB").language == "en"

    def test_unsupported_language_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="unsupported language 'xx'"):
            render(language="xx")

    def test_repr_does_not_show_the_data_with_the_token(self) -> None:
        assert "TOK123" not in repr(render(link="https://x.example/"))

    def test_repr_hides_the_bodies_that_carry_the_link_and_token(self) -> None:
        """The link (with its token) is in text and html; repr shows neither."""
        m = render()
        assert "TOK123" in m.text
        assert "TOK123" in m.html
        shown = repr(m)
        assert "TOK123" not in shown
        assert "licenses.example.com" not in shown
        assert "text=" not in shown
        assert "html=" not in shown


class TestMessageRepr:
    def test_repr_keeps_the_harmless_fields(self) -> None:
        shown = repr(message("Hello there"))
        assert "ann@example.com" in shown
        assert "Hello there" in shown
        assert "join_invitation" in shown.lower()

    def test_repr_hides_text_and_html_bodies(self) -> None:
        m = Message(
            to="ann@example.com",
            subject="Hi",
            text="secret-in-text-Q7Z3",
            html="<p>secret-in-html-K9W2</p>",
            language="en",
            kind=MessageKind.JOIN_INVITATION,
            data={"token": "secret-in-data-P4R8"},
        )
        shown = repr(m)
        assert "secret-in-text-Q7Z3" not in shown
        assert "secret-in-html-K9W2" not in shown
        assert "secret-in-data-P4R8" not in shown

    def test_hidden_bodies_still_take_part_in_equality(self) -> None:
        """Hiding text and html from repr does not make different messages compare equal."""
        base = message()
        other = Message(
            to=base.to,
            subject=base.subject,
            text="another body",
            html=base.html,
            language=base.language,
            kind=base.kind,
        )
        assert base != other
        assert repr(base) == repr(other)


class TestMessageSubject:
    def test_line_breaks_in_subject_collapse_to_spaces(self) -> None:
        assert message("Hi\r\nBcc: evil@example.com").subject == "Hi Bcc: evil@example.com"

    def test_runs_of_whitespace_collapse(self) -> None:
        assert message("  a \t\n b  ").subject == "a b"


class TestToEmailMessage:
    def test_is_multipart_alternative_with_text_then_html(self) -> None:
        em = render().to_email_message("noreply@example.com")
        assert em.get_content_type() == "multipart/alternative"
        parts = list(em.iter_parts())
        assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
        assert "open your personal link" in parts[0].get_content()
        assert LINK in parts[0].get_content()
        assert "<strong>Acme Ltd</strong>" in parts[1].get_content()

    def test_address_and_subject_headers(self) -> None:
        em = render().to_email_message("LicenseHub <noreply@example.com>")
        assert em["From"] == "LicenseHub <noreply@example.com>"
        assert em["To"] == "ann@example.com"
        assert em["Subject"] == "Join Acme Ltd on LicenseHub"

    def test_serialised_message_has_no_injected_header(self) -> None:
        m = render(account_name="Acme\r\nBcc: victim@example.com")
        raw = m.to_email_message("noreply@example.com").as_bytes()
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert parsed["Bcc"] is None
        assert parsed["Subject"] == "Join Acme Bcc: victim@example.com on LicenseHub"

    def test_content_language_header_is_set(self) -> None:
        em = render().to_email_message("noreply@example.com")
        assert em["Content-Language"] == "en"


class TestCheckLanguage:
    @pytest.mark.parametrize("tag", ["en", "EN", " en ", "en-GB", "en_GB", "EN_us", "en-Latn-US"])
    def test_english_variants_resolve_to_en(self, tag: str) -> None:
        assert check_language(tag) == "en"

    def test_english_is_supported(self) -> None:
        assert "en" in SUPPORTED_LANGUAGES

    @pytest.mark.parametrize(("tag", "expected"), [("fr", "fr"), ("de-DE", "de")])
    def test_other_built_in_languages_resolve(self, tag: str, expected: str) -> None:
        assert check_language(tag) == expected

    @pytest.mark.parametrize("tag", ["xx", "tlh", "zh-Hant", "zh-TW", "", "eng", "e"])
    def test_unknown_language_lists_supported_ones(self, tag: str) -> None:
        with pytest.raises(ValidationError, match=r"unsupported language .*; supported: en"):
            check_language(tag)
