"""normalize_email over generated Unicode addresses: one canonical form, one error type.

Whatever it is given, normalize_email returns an address it gives back unchanged when it is
given that address again (a store keeps it; the SMTP mailer checks it again before sending),
or raises InvalidEmail, never another exception.
"""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from licensekit.emails import normalize_email
from licensekit.exceptions import InvalidEmail

# Characters whose case, composition or width change under lower() and NFC: cased letters,
# combining marks, ligatures, compatibility forms, and the ASCII of ordinary addresses.
TRICKY = (  # the ambiguous characters are the point
    "İıIiKkÅåẞßǅǄǆΣσςΐΰᾼᾳẘẙŉǰﬃﬀÅKΩⅫⅻ\u0307\u0308\u030a\u0301\u0345"  # noqa: RUF001
    "Ａａ０ＡBCxyz09.-_+'"  # noqa: RUF001
)
local_parts = st.text(st.sampled_from(TRICKY), min_size=1, max_size=70) | st.text(
    st.characters(
        categories=["Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Nd", "Pc", "Pd"],
        exclude_characters="@",
    ),
    min_size=1,
    max_size=40,
)
domains = st.sampled_from(
    [
        "example.com",
        "EXAMPLE.com",
        "b\u00fccher.example",
        "B\u00dcCHER.example",
        "stra\u00dfe.de",
        "\u03a3\u038a\u03a3\u03a5\u03a6\u039f\u03a3.gr",
        "xn--bcher-kva.example",
        "\u0130stanbul.example",
        "mail.local",
        "[127.0.0.1]",
    ]
)


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(local_parts, domains, st.sampled_from(["", " ", "\t", "\n"]))
@example("\u0130" * 21, "example.com", "")
@example("W\u030a", "example.com", "")
@example("\u03a3\u0391\u03a3", "example.com", "")
def test_an_accepted_address_is_its_own_canonical_form(local: str, domain: str, space: str) -> None:
    text = f"{space}{local}@{domain}{space}"
    try:
        normalized = normalize_email(text)
    except InvalidEmail:
        return
    assert normalize_email(normalized) == normalized
    assert normalized == normalized.lower()
    assert normalized.strip() == normalized
    assert unicodedata.is_normalized("NFC", normalized)
    assert len(normalized.rpartition("@")[0].encode("utf-8")) <= 64


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=80))
def test_anything_else_is_refused_with_invalid_email_only(text: str) -> None:
    try:
        normalized = normalize_email(text)
    except InvalidEmail:
        return
    assert normalize_email(normalized) == normalized
