"""What an outsider checks of ``codes.new_secret_texts``, the bulk codes and tokens.

Each code's check symbol must be :func:`~licensekit.codes.check_symbol`'s for every input:
both are sums (XOR in GF(32)) of one term per position, so checking every byte value at
every position alone (and all zeros) proves it for every code. Each random symbol must be
its byte's low five bits (uniform), and each token :func:`~licensekit.codes.token_of` of
its own 24 bytes, as :func:`~licensekit.codes.new_token` writes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from licensekit import codes
from licensekit.codes import (
    CODE_ALPHABET,
    SECRET_TEXT,
    TOKEN_BYTES,
    check_symbol,
    new_secret_texts,
    new_token,
    parse_code,
    token_of,
)
from licensekit.exceptions import ValidationError

PAYLOAD = 24
TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


def entries(texts: bytearray) -> Iterator[tuple[str, str]]:
    assert len(texts) % SECRET_TEXT == 0
    for n in range(len(texts) // SECRET_TEXT):
        text = texts[n * SECRET_TEXT : (n + 1) * SECRET_TEXT].decode("ascii")
        yield text[:25], text[25:]


def test_every_byte_at_every_position_gives_check_symbols_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payloads = [bytes(PAYLOAD)]  # all zeros, then one position at a time
    for position in range(PAYLOAD):
        for value in range(256):
            payload = bytearray(PAYLOAD)
            payload[position] = value
            payloads.append(bytes(payload))
    token_bytes = bytes(range(256)) * (TOKEN_BYTES * len(payloads) // 256 + 1)
    given = [b"".join(payloads), token_bytes[: TOKEN_BYTES * len(payloads)]]
    monkeypatch.setattr(codes, "urandom", lambda n: given.pop(0)[:n])

    texts = new_secret_texts(len(payloads))

    assert not given  # one read of the code bytes, one of the token bytes
    for n, (code, token) in enumerate(entries(texts)):
        expected_symbols = "".join(CODE_ALPHABET[b & 31] for b in payloads[n])
        assert code[:PAYLOAD] == expected_symbols
        assert code[PAYLOAD] == check_symbol(code[:PAYLOAD])
        assert parse_code(code) == code
        assert token == token_of(token_bytes[n * TOKEN_BYTES : (n + 1) * TOKEN_BYTES])


def test_random_batches_agree_with_check_symbol_and_new_token() -> None:
    texts = new_secret_texts(5000)
    codes_seen: set[str] = set()
    tokens_seen: set[str] = set()
    symbols_seen: set[str] = set()
    for code, token in entries(texts):
        assert len(code) == 25
        assert set(code) <= set(CODE_ALPHABET)
        assert code[PAYLOAD] == check_symbol(code[:PAYLOAD])
        assert TOKEN.fullmatch(token)
        assert len(token) == len(new_token())
        codes_seen.add(code)
        tokens_seen.add(token)
        symbols_seen.update(code)
    assert len(codes_seen) == len(tokens_seen) == 5000
    assert symbols_seen == set(CODE_ALPHABET)


def test_each_symbol_is_uniform() -> None:
    """Every one of the 32 symbols appears at each position about as often (chi-square)."""
    texts = new_secret_texts(6400)
    for position in range(PAYLOAD):
        column = texts[position::SECRET_TEXT].decode("ascii")
        counts = [column.count(symbol) for symbol in CODE_ALPHABET]
        expected = len(column) / 32
        chi_square = sum((c - expected) ** 2 / expected for c in counts)
        assert chi_square < 100, (position, counts)  # 31 degrees of freedom: p < 1e-8


def test_no_codes_and_one_code() -> None:
    assert new_secret_texts(0) == bytearray()
    (only,) = entries(new_secret_texts(1))
    assert only[0][PAYLOAD] == check_symbol(only[0][:PAYLOAD])


@pytest.mark.parametrize("count", [-1, -1000, 1.5, "3", None, True])
def test_a_count_that_is_not_a_whole_number_is_a_validation_error(count: object) -> None:
    with pytest.raises(ValidationError, match="count"):
        new_secret_texts(count)  # type: ignore[arg-type]
