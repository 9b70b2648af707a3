"""The built-in email texts in licensekit.locales: names, types, templates and markup."""

from __future__ import annotations

import ast
import inspect
import re
import string
from html.parser import HTMLParser
from types import ModuleType

import pytest

from licensekit import locales
from licensekit.locales import BUILTIN

TAGS = ("en", "de", "fr", "es", "it", "ja", "zh-Hans", "pt-BR")
KINDS = (
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
NAMES = {"TAG", "NAME", "MONTHS", "DATE_FORMAT", "ROLE_NAMES", "NOTES_LABEL", "TEMPLATES"}
OPTIONAL_NAMES = {"FIRST_DAY"}

# The placeholders each kind may use, and the ones it must use, written out here on their own
# so that a change to licensekit.locales.PLACEHOLDERS or REQUIRED is caught.
ALLOWED = {
    "join_invitation": {"service_name", "account_name", "inviter", "link", "expires", "recipient"},
    "install_invitation": {
        "service_name",
        "product",
        "account_name",
        "inviter",
        "link",
        "code",
        "expires",
        "recipient",
    },
    "member_blocked": {"service_name", "account_name", "actor", "notes_block", "recipient"},
    "member_removed": {"service_name", "account_name", "actor", "notes_block", "recipient"},
    "role_changed": {
        "service_name",
        "account_name",
        "actor",
        "old_role",
        "new_role",
        "notes_block",
        "recipient",
    },
    "email_verification": {"service_name", "link", "expires", "recipient"},
    "password_reset": {"service_name", "link", "expires", "recipient"},
    "password_reset_unknown": {"service_name", "recipient"},
    "password_changed": {"service_name", "recipient"},
}
REQUIRED = {
    "join_invitation": {"service_name", "account_name", "inviter", "link", "expires"},
    "install_invitation": {"product", "account_name", "inviter", "link", "code", "expires"},
    "member_blocked": {"service_name", "account_name", "actor", "notes_block"},
    "member_removed": {"service_name", "account_name", "actor", "notes_block"},
    "role_changed": {
        "service_name",
        "account_name",
        "actor",
        "old_role",
        "new_role",
        "notes_block",
    },
    "email_verification": {"service_name", "link", "expires", "recipient"},
    "password_reset": {"service_name", "link", "expires", "recipient"},
    "password_reset_unknown": {"service_name", "recipient"},
    "password_changed": {"service_name", "recipient"},
}
# Required in the text body and in the html body, not only somewhere in the message.
IN_BOTH_BODIES = {
    "install_invitation": {"link", "code"},
    "member_blocked": {"notes_block"},
    "member_removed": {"notes_block"},
    "role_changed": {"notes_block"},
    "email_verification": {"link", "expires"},
    "password_reset": {"link", "expires"},
}

SAMPLE = {
    "service_name": "SvcName-1",
    "account_name": "Acct-Name-2",
    "inviter": "inviter-3@example.com",
    "actor": "actor-4@example.com",
    "link": "https://licenses.example.com/l?t=TOKEN5",
    "code": "CODE-6666",
    "expires": "EXPIRES-7",
    "recipient": "recipient-8@example.com",
    "product": "Product-9",
    "old_role": "OLD-ROLE-10",
    "new_role": "NEW-ROLE-11",
    "notes_block": "NOTES-BLOCK-12",
}

TRACKED_TAGS = {"p", "ol", "ul", "li", "strong", "code", "a", "em"}
BLOCK_TAGS = {"p", "ol", "ul"}
ALLOWED_TAGS = TRACKED_TAGS | {"br"}

CASES = [(tag, kind) for tag in TAGS for kind in KINDS]


def module(tag: str) -> ModuleType:
    m = BUILTIN[tag]
    assert isinstance(m, ModuleType)
    return m


def parts(tag: str, kind: str) -> tuple[str, str, str]:
    subject, text, html = module(tag).TEMPLATES[kind]
    return subject, text, html


def identifiers(template: str) -> set[str]:
    return set(string.Template(template).get_identifiers())


class MarkupChecker(HTMLParser):
    """Records what is wrong with an html fragment, and where its text sits."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.data: list[tuple[str, tuple[str, ...]]] = []
        self.hrefs: list[str] = []
        self.items: dict[int, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"tag <{tag}> is not allowed in a body fragment")
            return
        if tag == "a":
            if attrs != [("href", "${link}")]:
                self.errors.append(f"<a> must have exactly href='${{link}}', got {attrs}")
            self.hrefs.append(dict(attrs).get("href") or "")
        elif attrs:
            self.errors.append(f"<{tag}> has attributes {attrs}")
        if tag in BLOCK_TAGS and self.stack:
            self.errors.append(f"<{tag}> nested inside {self.stack}")
        if tag == "li":
            if not self.stack or self.stack[-1] not in {"ol", "ul"}:
                self.errors.append(f"<li> outside a list: {self.stack}")
            else:
                self.items[len(self.stack)] = self.items.get(len(self.stack), 0) + 1
        if tag in TRACKED_TAGS:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "br":
            self.errors.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if tag not in TRACKED_TAGS:
            self.errors.append(f"end tag </{tag}> is not allowed")
        elif not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.data.append((data, tuple(self.stack)))

    def handle_entityref(self, name: str) -> None:  # pragma: no cover - only on a bad fragment
        self.errors.append(f"entity &{name};")

    def check(self, fragment: str) -> MarkupChecker:
        self.feed(fragment)
        self.close()
        if self.stack:
            self.errors.append(f"left open: {self.stack}")
        return self


# --- the package and its modules -------------------------------------------------------------


def test_builtin_maps_exactly_the_eight_tags_in_order() -> None:
    assert tuple(BUILTIN) == TAGS


@pytest.mark.parametrize("tag", TAGS)
def test_each_module_carries_its_own_tag(tag: str) -> None:
    assert tag == module(tag).TAG


def test_modules_are_distinct() -> None:
    assert len({id(m) for m in BUILTIN.values()}) == len(TAGS)


def test_the_package_tables_match_the_documented_format() -> None:
    assert locales.KINDS == KINDS
    assert {k: set(v) for k, v in locales.PLACEHOLDERS.items()} == ALLOWED
    assert {k: set(v) for k, v in locales.REQUIRED.items()} == REQUIRED
    for kind in KINDS:
        assert REQUIRED[kind] <= ALLOWED[kind]


@pytest.mark.parametrize("tag", TAGS)
def test_module_defines_exactly_the_names_with_the_right_types(tag: str) -> None:
    m = module(tag)
    # (pytest's assertion rewriting may add names such as "@py_builtins": not identifiers)
    public = {name for name in vars(m) if name.isidentifier() and not name.startswith("_")}
    assert NAMES <= public <= NAMES | OPTIONAL_NAMES
    assert isinstance(getattr(m, "FIRST_DAY", ""), str)
    assert isinstance(m.TAG, str)
    assert isinstance(m.NAME, str)
    assert m.NAME.strip()
    assert m.NAME.strip() == m.NAME
    assert isinstance(m.MONTHS, tuple)
    assert all(isinstance(month, str) for month in m.MONTHS)
    assert isinstance(m.DATE_FORMAT, str)
    assert isinstance(m.ROLE_NAMES, dict)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in m.ROLE_NAMES.items())
    assert isinstance(m.NOTES_LABEL, str)
    assert isinstance(m.TEMPLATES, dict)
    assert set(m.TEMPLATES) == set(KINDS)
    for value in m.TEMPLATES.values():
        assert isinstance(value, tuple)
        assert len(value) == 3
        assert all(isinstance(part, str) for part in value)


@pytest.mark.parametrize("tag", TAGS)
def test_module_is_data_only(tag: str) -> None:
    tree = ast.parse(inspect.getsource(module(tag)))
    docstring, *statements = tree.body
    assert isinstance(docstring, ast.Expr)
    assert isinstance(docstring.value, ast.Constant)
    assert isinstance(docstring.value.value, str)
    assert "licensekit.locales" in docstring.value.value  # points at the format's description
    exported, *assignments = statements
    assert isinstance(exported, ast.Assign)
    assert [ast.unparse(target) for target in exported.targets] == ["__all__"]
    assert NAMES <= set(module(tag).__all__) <= NAMES | OPTIONAL_NAMES
    assert assignments
    for statement in assignments:
        assert isinstance(statement, ast.AnnAssign), ast.dump(statement)[:80]


# --- months, dates, roles, notes label ---------------------------------------------------------


@pytest.mark.parametrize("tag", TAGS)
def test_months_are_twelve_distinct_names(tag: str) -> None:
    months = module(tag).MONTHS
    assert len(months) == 12
    assert len(set(months)) == 12
    assert all(month and month == month.strip() for month in months)


@pytest.mark.parametrize("tag", TAGS)
def test_date_format_writes_a_full_utc_date(tag: str) -> None:
    m = module(tag)
    fields = {field for _, field, _, _ in string.Formatter().parse(m.DATE_FORMAT) if field}
    assert fields <= {"day", "month", "month_number", "year", "time"}
    assert {"day", "year", "time"} <= fields
    assert fields & {"month", "month_number"}
    written = m.DATE_FORMAT.format(
        day=27, month=m.MONTHS[10], month_number=11, year=2031, time="09:05"
    )
    assert "2031" in written
    assert "27" in written
    assert "09:05" in written
    assert written.endswith("UTC")
    if "month" in fields:
        assert m.MONTHS[10] in written
    else:
        assert "11" in written


def test_date_formats_differ_where_languages_differ() -> None:
    formats = {tag: module(tag).DATE_FORMAT for tag in TAGS}
    assert formats["en"] != formats["de"]
    assert formats["fr"] != formats["es"]
    assert "年" in formats["ja"]
    assert "年" in formats["zh-Hans"]


@pytest.mark.parametrize("tag", TAGS)
def test_role_names_are_two_distinct_names(tag: str) -> None:
    roles = module(tag).ROLE_NAMES
    assert set(roles) == {"regular_member", "account_administrator"}
    assert all(name and name == name.strip() for name in roles.values())
    assert roles["regular_member"] != roles["account_administrator"]


@pytest.mark.parametrize("tag", TAGS)
def test_notes_label_is_one_line_without_trailing_punctuation(tag: str) -> None:
    label = module(tag).NOTES_LABEL
    assert label
    assert label == label.strip()
    assert "\n" not in label
    assert label[-1] not in ":.\uff1a"  # also no full-width colon


# --- templates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("tag", "kind"), CASES)
def test_templates_are_valid_and_use_only_the_braced_form(tag: str, kind: str) -> None:
    for part in parts(tag, kind):
        template = string.Template(part)
        assert template.is_valid()
        # Every "$" starts "${name}" or is the escaped "$$".
        assert not re.search(r"\$(?![{$])", part.replace("$$", ""))


@pytest.mark.parametrize(("tag", "kind"), CASES)
def test_templates_use_allowed_and_required_placeholders(tag: str, kind: str) -> None:
    subject, text, html = parts(tag, kind)
    used = identifiers(subject) | identifiers(text) | identifiers(html)
    assert used <= ALLOWED[kind]
    assert REQUIRED[kind] <= used
    for name in IN_BOTH_BODIES.get(kind, set()):
        assert name in identifiers(text)
        assert name in identifiers(html)


@pytest.mark.parametrize(("tag", "kind"), CASES)
def test_text_and_html_carry_the_same_facts(tag: str, kind: str) -> None:
    subject, text, html = parts(tag, kind)
    assert identifiers(text) == identifiers(html)
    assert REQUIRED[kind] <= identifiers(text)
    assert identifiers(subject) <= identifiers(text)


@pytest.mark.parametrize(("tag", "kind"), CASES)
def test_every_language_uses_the_placeholders_english_uses(tag: str, kind: str) -> None:
    english = set().union(*(identifiers(part) for part in parts("en", kind)))
    here = set().union(*(identifiers(part) for part in parts(tag, kind)))
    assert here == english


@pytest.mark.parametrize(("tag", "kind"), CASES)
def test_templates_substitute_sample_values(tag: str, kind: str) -> None:
    values = {name: SAMPLE[name] for name in ALLOWED[kind]}
    for part in parts(tag, kind):
        result = string.Template(part).substitute(values)
        assert "$" not in result
        assert "$" not in string.Template(part).safe_substitute(values)
        for name in identifiers(part):
            assert values[name] in result


@pytest.mark.parametrize(("tag", "kind"), CASES)
def test_substitute_reports_a_missing_value(tag: str, kind: str) -> None:
    _, text, _ = parts(tag, kind)
    needed = sorted(identifiers(text))
    values = {name: SAMPLE[name] for name in needed[1:]}
    with pytest.raises(KeyError):
        string.Template(text).substitute(values)


@pytest.mark.parametrize(("tag", "kind"), CASES)
def test_subject_is_one_clean_line(tag: str, kind: str) -> None:
    subject, _, _ = parts(tag, kind)
    assert subject
    assert subject == subject.strip()
    assert "\n" not in subject
    assert "\r" not in subject
    assert "<" not in subject


@pytest.mark.parametrize(("tag", "kind"), CASES)
def test_text_is_plain_and_ends_with_a_newline(tag: str, kind: str) -> None:
    _, text, _ = parts(tag, kind)
    assert text.endswith("\n")
    assert not text.endswith("\n\n")
    assert text == text.lstrip()
    assert "\n\n\n" not in text
    assert "\r" not in text
    assert not re.search(r"<\s*/?\s*(p|strong|a|li|ol|ul|code|em|br)\b", text)
    for line in text.split("\n"):
        assert line == line.rstrip(), repr(line)


@pytest.mark.parametrize(("tag", "kind"), CASES)
def test_html_fragment_is_well_formed(tag: str, kind: str) -> None:
    _, _, html = parts(tag, kind)
    checker = MarkupChecker().check(html)
    assert checker.errors == []
    assert "&" not in html
    # Everything readable sits inside a block; only the notes block stands on its own.
    loose = [data.strip() for data, stack in checker.data if not stack and data.strip()]
    assert set(loose) <= {"${notes_block}"}
    assert html.endswith("\n")
    assert html.lstrip().startswith("<p>")


@pytest.mark.parametrize(("tag", "kind"), CASES)
def test_html_is_a_fragment_not_a_document(tag: str, kind: str) -> None:
    _, _, html = parts(tag, kind)
    lowered = html.lower()
    for forbidden in ("<html", "<head", "<body", "<script", "<style", "<title", "<!doctype"):
        assert forbidden not in lowered


@pytest.mark.parametrize(("tag", "kind"), CASES)
def test_links_go_in_href(tag: str, kind: str) -> None:
    _, _, html = parts(tag, kind)
    checker = MarkupChecker().check(html)
    if "link" in identifiers(html):
        assert checker.hrefs == ["${link}"]
    else:
        assert checker.hrefs == []


@pytest.mark.parametrize(("tag", "kind"), [(t, k) for t, k in CASES if "notes_block" in ALLOWED[k]])
def test_notes_block_stands_alone(tag: str, kind: str) -> None:
    _, text, html = parts(tag, kind)
    lines = text.split("\n")
    assert lines.count("${notes_block}") == 1
    at = lines.index("${notes_block}")
    assert lines[at - 1] == ""
    assert lines[at + 1] == ""
    assert text.count("${notes_block}") == 1
    assert html.split("\n").count("${notes_block}") == 1
    assert html.count("${notes_block}") == 1
    checker = MarkupChecker().check(html)
    stacks = [stack for data, stack in checker.data if "${notes_block}" in data]
    assert stacks == [()]


@pytest.mark.parametrize("tag", TAGS)
def test_install_invitation_gives_three_numbered_steps(tag: str) -> None:
    _, text, html = parts(tag, "install_invitation")
    steps = [line for line in text.split("\n") if re.match(r"\d\. ", line)]
    assert [step[:3] for step in steps] == ["1. ", "2. ", "3. "]
    link_at = text.index("${link}")
    code_at = text.index("${code}")
    assert text.index(steps[0]) < link_at < text.index(steps[1]) < text.index(steps[2]) < code_at
    checker = MarkupChecker().check(html)
    assert "<ol>" in html
    assert sum(checker.items.values()) == 3
    assert "<code>${code}</code>" in html


@pytest.mark.parametrize("tag", TAGS)
def test_install_invitation_says_when_the_code_stops_working(tag: str) -> None:
    _, text, html = parts(tag, "install_invitation")
    for body in (text, html):
        assert body.index("${code}") < body.rindex("${expires}")


@pytest.mark.parametrize("tag", TAGS)
def test_role_change_shows_both_roles_in_a_list(tag: str) -> None:
    _, text, html = parts(tag, "role_changed")
    lines = text.split("\n")
    assert any(line.endswith("${old_role}") for line in lines)
    assert any(line.endswith("${new_role}") for line in lines)
    assert "<ul>" in html
    assert sum(MarkupChecker().check(html).items.values()) == 2


def test_role_change_says_a_promotion_needs_a_new_sign_in() -> None:
    # Rights gained apply from the next sign-in (see change_role); the email must not
    # claim that the new role works in a session already open.
    _, text, html = parts("en", "role_changed")
    for body in (text, html):
        flat = " ".join(body.split())
        assert "sign in again" in flat
        assert "no need to sign in" not in flat


LINK_KINDS = ("join_invitation", "email_verification", "password_reset")


@pytest.mark.parametrize(("tag", "kind"), [(t, k) for t in TAGS for k in LINK_KINDS])
def test_a_link_to_open_stands_alone_on_its_line(tag: str, kind: str) -> None:
    _, text, html = parts(tag, kind)
    assert text.split("\n").count("${link}") == 1
    assert text.count("${link}") == 1
    checker = MarkupChecker().check(html)
    assert [stack for data, stack in checker.data if data.strip() and "a" in stack] == [("p", "a")]


@pytest.mark.parametrize(("tag", "kind"), [(t, k) for t in TAGS for k in LINK_KINDS])
def test_a_link_is_followed_by_when_it_stops_working(tag: str, kind: str) -> None:
    _, text, html = parts(tag, kind)
    for body in (text, html):
        assert body.index("${link}") < body.index("${expires}")


# --- translations ------------------------------------------------------------------------------


def _four_word_runs(template: str) -> set[tuple[str, ...]]:
    """Every run of four consecutive words, placeholders and markup left out."""
    plain = re.sub(r"\$\{\w+\}|<[^>]+>", " | ", template)
    runs: set[tuple[str, ...]] = set()
    for stretch in plain.split("|"):
        words = re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", stretch.lower())
        runs |= {tuple(words[i : i + 4]) for i in range(len(words) - 3)}
    return runs


@pytest.mark.parametrize(("tag", "kind"), [(t, k) for t, k in CASES if t != "en"])
def test_translations_differ_from_english(tag: str, kind: str) -> None:
    english = parts("en", kind)
    here = parts(tag, kind)
    for en_part, part in zip(english, here, strict=True):
        assert part != en_part
    english_runs = set().union(*(_four_word_runs(p) for p in english))
    assert len(english_runs) > 20
    for part in here:
        assert _four_word_runs(part).isdisjoint(english_runs), part


@pytest.mark.parametrize("tag", [t for t in TAGS if t != "en"])
def test_non_template_texts_are_translated(tag: str) -> None:
    m, en = module(tag), module("en")
    assert m.NAME != en.NAME
    assert m.NOTES_LABEL != en.NOTES_LABEL
    assert set(m.ROLE_NAMES.values()).isdisjoint(en.ROLE_NAMES.values())
    assert m.MONTHS != en.MONTHS


def test_no_two_languages_share_a_text() -> None:
    seen: dict[str, str] = {}
    for tag, kind in CASES:
        for part in parts(tag, kind)[1:]:
            assert part not in seen, f"{tag} {kind} repeats {seen.get(part)}"
            seen[part] = tag
