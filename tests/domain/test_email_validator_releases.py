"""normalize_email decides as email-validator does, with every release pyproject.toml allows.

pyproject.toml allows ``email-validator>=2.1``. The releases differ where a plain ASCII
address could meet them: 2.1 has no ``STRICT`` and refuses a part before the @ longer than
64 characters in any case, 2.1.x has no ``ALLOW_DISPLAY_NAME`` or ``ALLOW_EMPTY_LOCAL``,
2.1 lets a domain reach 255 octets (253 later), and only 2.4 skips the IDNA round trip of a
domain without Punycode. The plain path of :func:`~licensekit.emails.normalize_email` must
agree with whichever release is installed, under each module-wide option that release has.
These tests check that with the installed release; run them under each allowed release
(see the lead's notes: a virtual environment per release) to check the whole range.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from contextlib import contextmanager

import email_validator
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _email_reference import assert_same
from licensekit import InvalidEmail
from licensekit.emails import normalize_email

# Every module-wide option of any allowed release that can change what it accepts.
OPTION_NAMES = [
    "STRICT",
    "TEST_ENVIRONMENT",
    "GLOBALLY_DELIVERABLE",
    "ALLOW_SMTPUTF8",
    "ALLOW_QUOTED_LOCAL",
    "ALLOW_DISPLAY_NAME",
    "ALLOW_EMPTY_LOCAL",
    "ALLOW_DOMAIN_LITERAL",
]
PRESENT = [name for name in OPTION_NAMES if hasattr(email_validator, name)]


@contextmanager
def options(values: dict[str, object]) -> Iterator[None]:
    """The installed release's module-wide options set to *values* (those it has)."""
    values = {name: value for name, value in values.items() if hasattr(email_validator, name)}
    before = {name: getattr(email_validator, name) for name in values}
    for name, value in values.items():
        setattr(email_validator, name, value)
    try:
        yield
    finally:
        for name, value in before.items():
            setattr(email_validator, name, value)


# Plain addresses and near misses at the points where releases differ.
EDGES = [
    "Ann.Smith@Example.COM",
    "a" * 64 + "@example.com",
    "a" * 65 + "@example.com",
    "ann@" + ".".join(["a" * 63] * 3) + ".com",  # 196 characters of domain
    "a@" + ".".join(["b" * 63] * 3) + "." + "c" * 56 + ".com",  # 252: the longest licensekit takes
    "ann@" + "a" * 63 + ".com",
    "ann@" + "a" * 64 + ".com",
    "ann@ab--cd.example",
    "ann@xn--bcher-kva.example",
    "ann@XN--BCHER-KVA.example",
    "ann@xn--abc.example",
    "Postmaster@example.com",
    "MARKETING@example.com",
    "Marking@example.com",
    "ann@1.2.3.com",
    "ann@example.c0m",
    "ann@123.example",
    "ann@a-b.example",
    "ann@example.com.",
    "ann@sub.arpa",
    "ann@x.onion",
    "ann@EXAMPLE.INVALID",
    "ann@mail.local",
    "ann@example.test",
    "ann@localhost",
    "ann@example",
    "Ann <ann@example.com>",
    "<ann@example.com>",
    '"ann"@example.com',
    "@example.com",
    "ann@[127.0.0.1]",
    "o'neil+tag@mail.example.co.uk",
    "{x}|~`^@example.org",
]


@pytest.mark.parametrize("text", EDGES)
def test_edge_addresses_with_the_default_options(text: str) -> None:
    assert_same(text)


@pytest.mark.parametrize("name", PRESENT)
@pytest.mark.parametrize("value", [True, False])
def test_edge_addresses_with_each_option_of_this_release(name: str, value: bool) -> None:
    with options({name: value}):
        for text in EDGES:
            assert_same(text)


@pytest.mark.parametrize(
    "names",
    [[], ["arpa"], ["example.com"], ["EXAMPLE.COM"], ["com"], ["co.uk", "test", "local"]],
)
def test_edge_addresses_with_the_special_use_names_a_host_sets(names: list[str]) -> None:
    with options({"SPECIAL_USE_DOMAIN_NAMES": names}):
        for text in EDGES:
            assert_same(text)


ATEXT = string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~"
HOST = string.ascii_letters + string.digits + "-"
NEARLY_PLAIN = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join([*labels, tld])}",
    st.lists(st.text(ATEXT, min_size=1, max_size=24), min_size=1, max_size=4).map(".".join),
    st.lists(st.text(HOST, min_size=1, max_size=64), min_size=1, max_size=4),
    st.one_of(
        st.text(string.ascii_letters, min_size=1, max_size=6),
        st.text(HOST, min_size=1, max_size=64),
        st.sampled_from(["com", "test", "local", "arpa", "xn--p1ai", "ab--cd", "a-", "1"]),
    ),
)
OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        **{name: st.booleans() for name in PRESENT},
        "SPECIAL_USE_DOMAIN_NAMES": st.lists(
            st.sampled_from(["test", "local", "com", "example.com", "EXAMPLE.COM", "b.co"]),
            max_size=4,
        ),
    },
)


@given(OPTIONS, NEARLY_PLAIN)
@settings(max_examples=1500, deadline=None)
def test_nearly_plain_addresses_under_the_options_of_this_release(
    chosen: dict[str, object], text: str
) -> None:
    with options(chosen):
        assert_same(text)


@given(NEARLY_PLAIN)
@settings(max_examples=500, deadline=None)
def test_a_plain_address_normalised_is_taken_again_unchanged(text: str) -> None:
    try:
        normalized = normalize_email(text)
    except InvalidEmail:
        return
    assert normalize_email(normalized) == normalized
