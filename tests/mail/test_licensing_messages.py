"""The invitation-to-install email, and CSV export made safe for spreadsheets."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from licensekit import Message, MessageKind, ValidationError
from licensekit.emails import neutralize_cell, write_csv
from licensekit.mail import render_install_invitation

EXPIRES = dt.datetime(2030, 1, 8, 12, 30, tzinfo=dt.UTC)
CODE = "7KQ2M-X0D9P-R4T8W-HC1ZB-5NV3E"
TOKEN = "TOKabc123"
URL = f"https://licenses.example.com/download?token={TOKEN}&lang=en"


def render(**overrides: object) -> Message:
    args: dict[str, object] = {
        "to": "ann@example.com",
        "product": "Acme Draw",
        "account_name": "Acme Ltd",
        "inviter_email": "boss@example.com",
        "download_url": URL,
        "code": CODE,
        "token": TOKEN,
        "expires_at": EXPIRES,
        "language": "en",
        "service_name": "LicenseHub",
    }
    args.update(overrides)
    return render_install_invitation(**args)  # type: ignore[arg-type]


class _Structure(HTMLParser):
    """Records the tags of an HTML document and the text inside chosen tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.text_in: dict[str, str] = {}
        self.elements: dict[str, list[str]] = {}
        self.visible: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs.extend(value or "" for name, value in attrs if name == "href")
        if tag not in ("meta", "br"):
            self._open.append(tag)
            self.elements.setdefault(tag, []).append("")

    def handle_endtag(self, tag: str) -> None:
        self.tags.append("/" + tag)
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open:
            tag = self._open[-1]
            self.text_in[tag] = self.text_in.get(tag, "") + data
            self.elements[tag][-1] += data
            if "title" not in self._open:
                self.visible.append(data)


def visible_text(body: str) -> str:
    """The text of an HTML body as a reader sees it: tags dropped, whitespace collapsed."""
    return " ".join("".join(structure_of(body).visible).split())


def structure_of(body: str) -> _Structure:
    parser = _Structure()
    parser.feed(body)
    parser.close()
    return parser


class TestInstallInvitationContent:
    def test_metadata(self) -> None:
        m = render()
        assert m.to == "ann@example.com"
        assert m.kind is MessageKind.INSTALL_INVITATION
        assert m.language == "en"
        assert m.subject == "Install Acme Draw for Acme Ltd"

    @pytest.mark.parametrize("part", ["text", "html"])
    def test_body_says_the_code_is_temporary_and_not_the_license_key(self, part: str) -> None:
        m = render()
        body = visible_text(m.html) if part == "html" else " ".join(m.text.split())
        assert "temporary activation code" in body
        assert "It is not the license key" in body

    def test_text_carries_code_link_product_account_and_expiry(self) -> None:
        text = render().text
        assert CODE in text
        assert URL in text
        assert "Acme Draw" in text
        assert "Acme Ltd" in text
        assert "boss@example.com" in text
        assert "8 January 2030, 12:30 UTC" in text

    def test_html_carries_code_and_link(self) -> None:
        body = render().html
        parsed = structure_of(body)
        assert parsed.text_in["code"] == CODE
        assert parsed.hrefs == [URL]
        assert "8 January 2030, 12:30 UTC" in body

    def test_expiry_is_shown_in_utc(self) -> None:
        plus_two = dt.timezone(dt.timedelta(hours=2))
        m = render(expires_at=dt.datetime(2030, 1, 8, 14, 30, tzinfo=plus_two))
        assert "8 January 2030, 12:30 UTC" in m.text

    def test_data_has_code_link_and_token(self) -> None:
        data = render().data
        assert data["code"] == CODE
        assert data["link"] == URL
        assert data["token"] == TOKEN
        assert data["product"] == "Acme Draw"
        assert data["account_name"] == "Acme Ltd"
        assert data["expires_at"] == EXPIRES.isoformat()

    def test_data_is_read_only(self) -> None:
        with pytest.raises(TypeError):
            render().data["code"] = "other"  # type: ignore[index]

    def test_regional_language_falls_back_to_english(self) -> None:
        assert render(language="en-GB").language == "en"

    def test_repr_never_shows_the_code_link_or_token(self) -> None:
        """The bodies hold the activation code and download link; repr leaves them out."""
        m = render()
        assert CODE in m.text
        assert CODE in m.html
        shown = repr(m)
        assert CODE not in shown
        assert CODE.replace("-", "") not in shown
        assert TOKEN not in shown
        assert "licenses.example.com" not in shown
        assert "Install Acme Draw for Acme Ltd" in shown

    @given(code=st.text(alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZ-", min_size=12, max_size=29))
    def test_repr_never_shows_any_code_put_in_the_body(self, code: str) -> None:
        m = render(code=code, token="t", download_url="https://d.example/x")
        assert code in m.text
        assert code not in repr(m)

    def test_unsupported_language_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="unsupported language"):
            render(language="xx")


class TestInstallInvitationEscaping:
    HOSTILE_PRODUCT = '<script>alert("p")</script> & Co'
    HOSTILE_ACCOUNT = "<img src=x onerror=alert(1)>Evil & Sons"

    def test_user_supplied_names_are_escaped_in_html(self) -> None:
        body = render(product=self.HOSTILE_PRODUCT, account_name=self.HOSTILE_ACCOUNT).html
        assert "<script>" not in body
        assert "<img" not in body
        assert html.escape(self.HOSTILE_PRODUCT) in body
        assert html.escape(self.HOSTILE_ACCOUNT) in body

    def test_inviter_and_code_are_escaped_in_html(self) -> None:
        body = render(inviter_email="<b>x</b>@example.com", code="<i>C</i>").html
        assert "<b>" not in body
        assert "<i>" not in body

    def test_link_cannot_break_out_of_its_attribute(self) -> None:
        url = 'https://example.com/d?t=1"><script>x()</script>'
        parsed = structure_of(render(download_url=url).html)
        assert parsed.hrefs == [url]
        assert "script" not in parsed.tags

    def test_plain_text_keeps_names_as_typed(self) -> None:
        text = render(product="R&D <Tools>", account_name="A & B").text
        assert "R&D <Tools>" in text
        assert "A & B" in text

    @given(
        product=st.text(alphabet="<>&\"'/= abc\n\t;#", min_size=1, max_size=30),
        account=st.text(alphabet="<>&\"'/= xyz\n;#", min_size=1, max_size=30),
    )
    def test_no_name_changes_the_html_structure(self, product: str, account: str) -> None:
        """Whatever the names, the HTML has the template's tags and shows the names as text.

        Each ``<strong>`` element is compared on its own: the template has several (the
        product, the account, the word "not"), so their texts run together when concatenated.
        """
        baseline = structure_of(render().html)
        parsed = structure_of(render(product=product, account_name=account).html)
        assert parsed.tags == baseline.tags
        names = {"Acme Draw": product, "Acme Ltd": account}
        assert baseline.elements["strong"][:2] == ["Acme Draw", "Acme Ltd"]
        expected = [names.get(text, text) for text in baseline.elements["strong"]]
        assert parsed.elements["strong"] == expected
        assert parsed.hrefs == [URL]


class TestInstallInvitationSubject:
    @pytest.mark.parametrize(
        ("product", "account"),
        [("Acme\r\nBcc: evil@example.com", "Acme Ltd"), ("Draw", "Acme\nLtd\r"), ("A\u2028B", "C")],
    )
    def test_subject_is_one_line(self, product: str, account: str) -> None:
        m = render(product=product, account_name=account)
        assert "\n" not in m.subject
        assert "\r" not in m.subject
        assert len(m.subject.splitlines()) == 1

    def test_line_breaks_become_single_spaces(self) -> None:
        assert render(product="Acme\r\nDraw").subject == "Install Acme Draw for Acme Ltd"

    def test_email_message_has_a_single_subject_header(self) -> None:
        m = render(product="Acme\r\nBcc: evil@example.com")
        email_message = m.to_email_message("noreply@example.com")
        assert email_message["Subject"] == "Install Acme Bcc: evil@example.com for Acme Ltd"
        assert email_message["Bcc"] is None

    @given(product=st.text(max_size=40), account=st.text(max_size=40))
    def test_subject_never_contains_a_line_break(self, product: str, account: str) -> None:
        subject = render(product=product, account_name=account).subject
        assert len(subject.splitlines()) <= 1


# -- CSV -----------------------------------------------------------------------------------

DANGEROUS = ["=", "+", "-", "@", "\t", "\r", "\n"]


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


class TestNeutralizeCell:
    @pytest.mark.parametrize("start", DANGEROUS)
    def test_every_dangerous_leading_character_is_neutralised(self, start: str) -> None:
        value = start + 'HYPERLINK("http://evil")'
        assert neutralize_cell(value) == "'" + value

    @pytest.mark.parametrize("start", DANGEROUS)
    def test_dangerous_character_alone_is_neutralised(self, start: str) -> None:
        assert neutralize_cell(start) == "'" + start

    @pytest.mark.parametrize(
        "value", ["", "ann@example.com", "Acme Draw", "1+1", "a=b", "'=already", " text", "42"]
    )
    def test_safe_values_are_unchanged(self, value: str) -> None:
        assert neutralize_cell(value) == value

    @given(value=st.text(max_size=30))
    def test_neutralised_cell_never_starts_a_formula(self, value: str) -> None:
        cell = neutralize_cell(value)
        assert not cell.startswith(tuple(DANGEROUS))
        assert cell in (value, "'" + value)


class TestWriteCsv:
    def test_header_row_comes_first_and_lines_end_in_crlf(self) -> None:
        text = write_csv(["email", "code"], [["ann@example.com", "AAAAA"], ["b@x.org", "BBBBB"]])
        assert text == "email,code\r\nann@example.com,AAAAA\r\nb@x.org,BBBBB\r\n"

    def test_header_alone_when_there_are_no_rows(self) -> None:
        assert write_csv(["email", "state"], []) == "email,state\r\n"

    def test_commas_and_quotes_are_quoted(self) -> None:
        text = write_csv(["name"], [["Acme, Ltd"], ['say "hi"']])
        assert text == 'name\r\n"Acme, Ltd"\r\n"say ""hi"""\r\n'

    def test_line_breaks_inside_a_cell_are_quoted(self) -> None:
        text = write_csv(["notes"], [["one\ntwo"]])
        assert text == 'notes\r\n"one\ntwo"\r\n'
        assert read_csv(text) == [["notes"], ["one\ntwo"]]

    @pytest.mark.parametrize("start", DANGEROUS)
    def test_dangerous_cells_are_neutralised_in_rows(self, start: str) -> None:
        rows = read_csv(write_csv(["product"], [[start + "cmd|' /C calc'!A0"]]))
        assert rows[1] == ["'" + start + "cmd|' /C calc'!A0"]

    def test_header_cells_are_neutralised_too(self) -> None:
        assert read_csv(write_csv(["=SUM(A1)", "ok"], []))[0] == ["'=SUM(A1)", "ok"]

    @given(
        header=st.lists(st.text(max_size=12), min_size=1, max_size=4),
        rows=st.lists(st.lists(st.text(max_size=12), min_size=1, max_size=4), max_size=5),
    )
    def test_csv_reads_back_as_the_neutralised_cells(
        self, header: list[str], rows: list[list[str]]
    ) -> None:
        text = write_csv(header, rows)
        expected = [[neutralize_cell(c) for c in row] for row in [header, *rows]]
        parsed = read_csv(text)
        assert parsed == expected
        assert text.endswith("\r\n")
        for row in parsed:
            for cell in row:
                assert not cell.startswith(tuple(DANGEROUS))
