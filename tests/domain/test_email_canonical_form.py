"""The address normalize_email returns is its canonical form: given again, it comes back as is.

Stores keep that form and the SMTP mailer checks it again before sending, so an address
licensekit accepted must be accepted again, unchanged. Lower-casing after email-validator's
normalisation used to break that for a few non-ASCII addresses (the last three below), which
are now validated again in lower case.
"""

from __future__ import annotations

import pytest

from licensekit import InvalidEmail
from licensekit.emails import normalize_email


def assert_canonical(text: str) -> None:
    try:
        normalized = normalize_email(text)
    except InvalidEmail:
        return  # refused: nothing stored, nothing to send
    assert normalize_email(normalized) == normalized


@pytest.mark.parametrize(
    "text",
    [
        "Ann.Smith@Example.COM",
        "J\u00fcrgen@B\u00fcCHER.example",
        "\u00c5sa@example.se",
        "STRASSE\u1e9e@example.de",  # capital sharp s
        "\u212aelvin@example.com",  # the Kelvin sign, lower-cased to k
        "\u0130" * 20 + "@example.com",  # dotted capital I, 20 of them: 60 octets in lower case
        "\u0130" * 32 + "@example.com",  # 96 octets in lower case
        "W\u030a@example.com",  # lower case composes: U+1E98
        "Y\u030a@example.com",  # U+1E99
    ],
)
def test_a_normalised_address_is_taken_again_unchanged(text: str) -> None:
    assert_canonical(text)
