"""normalize_email answers plain ASCII addresses itself: exactly as email-validator would.

The reference below is normalize_email as it was before it had a path of its own for plain
addresses: every address went through email-validator. Whatever the input, and whatever
email-validator's module-wide options, both must give the same address or refuse it with
the same reason.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from contextlib import contextmanager

import email_validator
from hypothesis import given, settings
from hypothesis import strategies as st

from _email_reference import assert_same

ATEXT = string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~"
# Characters that change how the library reads an address, or that look like plain ones.
TRICKY = (
    '.@-"<>[]\\ \t\n,;:()'
    "\u00e9\u00dc\u00df\u0130\u212a\u017f"  # é Ü ß, dotted I, Kelvin sign, long s
    "\u0338\u0301\u200b\u00ad"  # combining marks, zero-width space, soft hyphen
    "\uff0e\u3002\uff20\ufe6b\uff21"  # full-width dot, ideographic dot, full-width @ and A
)
TLDS = [
    "com", "COM", "Com", "c", "x1", "1", "test", "TEST", "local", "localhost", "onion",
    "arpa", "invalid", "example", "xn--p1ai", "XN--P1AI", "ab--cd", "a-", "-a", "co.uk",
]  # fmt: skip


def label(alphabet: str, max_size: int = 70) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=0, max_size=max_size)


LOCALS = st.one_of(
    label(ATEXT + ".", 70),
    st.lists(label(ATEXT, 20), min_size=1, max_size=4).map(".".join),
    label(ATEXT + TRICKY, 20),
)
DOMAINS = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(
        st.one_of(
            label(string.ascii_letters + string.digits + "-", 66),
            st.sampled_from(["xn--bcher-kva", "a--b", "ab--c", "-x", "x-", "", "A" * 63]),
            label(string.ascii_lowercase + TRICKY, 8),
        ),
        min_size=0,
        max_size=4,
    ),
    st.one_of(st.sampled_from(TLDS), label(string.ascii_letters + string.digits + "-", 8)),
)
# Addresses that are plain, or nearly: most of them take the plain path.
NEARLY_PLAIN = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join([*labels, tld])}",
    st.lists(label(ATEXT, 22).filter(bool), min_size=1, max_size=4).map(".".join),
    st.lists(
        st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=64),
        min_size=1,
        max_size=3,
    ),
    st.one_of(
        st.text(string.ascii_letters, min_size=1, max_size=6),
        st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=64),
        st.sampled_from(TLDS),
    ),
)
ADDRESSES = st.one_of(
    NEARLY_PLAIN,
    st.builds(lambda local, domain: f"{local}@{domain}", LOCALS, DOMAINS),
    st.builds(
        lambda pad, local, domain, end: f"{pad}{local}@{domain}{end}",
        st.sampled_from(["", " ", "\t", "\u00a0", "<", '"']),
        LOCALS,
        DOMAINS,
        st.sampled_from(["", " ", "\n", ">", ".", "\u2028"]),
    ),
    st.text(ATEXT + TRICKY, max_size=80),
)


@given(ADDRESSES)
@settings(max_examples=3000, deadline=None)
def test_every_address_is_decided_as_email_validator_decides_it(text: str) -> None:
    assert_same(text)


@contextmanager
def options(**values: object) -> Iterator[None]:
    """email-validator's module-wide options set to *values* for the block."""
    values = {n: v for n, v in values.items() if hasattr(email_validator, n)}  # 2.1 lacks some
    before = {name: getattr(email_validator, name) for name in values}
    for name, value in values.items():
        setattr(email_validator, name, value)
    try:
        yield
    finally:
        for name, value in before.items():
            setattr(email_validator, name, value)


OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "STRICT": st.booleans(),
        "TEST_ENVIRONMENT": st.booleans(),
        "GLOBALLY_DELIVERABLE": st.booleans(),
        "ALLOW_SMTPUTF8": st.booleans(),
        "ALLOW_QUOTED_LOCAL": st.booleans(),
        "ALLOW_DISPLAY_NAME": st.booleans(),
        "ALLOW_EMPTY_LOCAL": st.booleans(),
        "ALLOW_DOMAIN_LITERAL": st.booleans(),
        "SPECIAL_USE_DOMAIN_NAMES": st.lists(
            st.sampled_from(["test", "local", "com", "example.com", "EXAMPLE.COM", "b.co"]),
            max_size=4,
        ),
    },
)


@given(OPTIONS, ADDRESSES)
@settings(max_examples=1500, deadline=None)
def test_the_library_options_a_host_sets_are_obeyed(chosen: dict[str, object], text: str) -> None:
    with options(**chosen):
        assert_same(text)


def test_known_addresses() -> None:
    for text in [
        "Ann.Smith@Example.COM",
        "o'neil+tag@mail.example.co.uk",
        "a@b.c",
        "a" * 64 + "@example.com",
        "a" * 65 + "@example.com",
        "ann@" + "a" * 63 + ".com",
        "ann@" + "a" * 64 + ".com",
        "ann@example.test",
        "ann@sub.localhost",
        "ann@xn--bcher-kva.example",
        "ann@ab--cd.example",
        "ann@example.c0m",
        "ann@example.1",
        "ann@-example.com",
        "ann@example-.com",
        "Info@example.com",
        ".ann@example.com",
        "ann.@example.com",
        "a..b@example.com",
        "ann@example.com.",
        "ann@example",
        '"ann"@example.com',
        "Ann <ann@example.com>",
        "ann@[127.0.0.1]",
    ]:
        assert_same(text)
