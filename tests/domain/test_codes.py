"""Unit tests of tokens, activation codes and host-secret keys in licensekit.codes."""

from __future__ import annotations

import base64
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from licensekit import StorageError, ValidationError
from licensekit.codes import (
    CODE_ALPHABET,
    MIN_SECRET_BYTES,
    SecretKeys,
    format_code,
    new_activation_code,
    new_token,
    normalize_code,
)

SECRET = b"s" * 32
OTHER_SECRET = b"t" * 32
CODE_RE = re.compile(rf"^[{CODE_ALPHABET}]{{5}}(-[{CODE_ALPHABET}]{{5}}){{4}}$")


class TestTokens:
    def test_token_is_32_url_safe_characters(self) -> None:
        token = new_token()
        assert len(token) == 32
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token)

    def test_token_decodes_to_192_random_bits(self) -> None:
        raw = base64.urlsafe_b64decode(new_token())
        assert len(raw) * 8 == 192

    def test_tokens_are_unique(self) -> None:
        assert len({new_token() for _ in range(200)}) == 200


class TestActivationCodeFormat:
    def test_code_is_five_dash_separated_groups_of_five(self) -> None:
        assert CODE_RE.match(new_activation_code())

    def test_alphabet_is_32_distinct_symbols_without_confusable_letters(self) -> None:
        assert len(set(CODE_ALPHABET)) == 32
        assert not set("ILOU") & set(CODE_ALPHABET)
        assert CODE_ALPHABET.upper() == CODE_ALPHABET

    def test_code_carries_at_least_100_bits_of_entropy(self) -> None:
        symbols = new_activation_code().replace("-", "")
        assert len(symbols) * math.log2(len(CODE_ALPHABET)) >= 100

    def test_codes_use_only_the_alphabet_and_are_unique(self) -> None:
        codes = {new_activation_code() for _ in range(200)}
        assert len(codes) == 200
        assert set("".join(codes).replace("-", "")) <= set(CODE_ALPHABET)

    def test_format_code_groups_by_five(self) -> None:
        assert format_code("ABCDE12345XY") == "ABCDE-12345-XY"


class TestNormalizeCode:
    def test_canonical_code_round_trips_through_format(self) -> None:
        code = new_activation_code()
        assert format_code(normalize_code(code)) == code

    def test_dashes_are_removed(self) -> None:
        assert normalize_code("ABCDE-12345") == "ABCDE12345"

    def test_lower_case_is_accepted(self) -> None:
        assert normalize_code("abcde-fghjk") == "ABCDEFGHJK"

    def test_spaces_tabs_newlines_and_underscores_are_ignored(self) -> None:
        assert normalize_code("  ab cd\te_12\r\n34 ") == "ABCDE1234"

    @pytest.mark.parametrize(
        ("typed", "canonical"), [("O", "0"), ("o", "0"), ("I", "1"), ("i", "1"), ("L", "1")]
    )
    def test_confusable_letters_read_as_digits(self, typed: str, canonical: str) -> None:
        assert normalize_code(f"AB{typed}DE") == f"AB{canonical}DE"

    def test_lower_case_l_reads_as_one(self) -> None:
        assert normalize_code("l0ol1") == "10011"

    @pytest.mark.parametrize(("text", "bad"), [("ABCDU", "U"), ("AB!CD", "!"), ("AB.C+", "+.")])
    def test_characters_outside_the_alphabet_are_rejected(self, text: str, bad: str) -> None:
        with pytest.raises(ValidationError, match=f"invalid characters: {re.escape(repr(bad))}"):
            normalize_code(text)

    def test_non_ascii_letters_are_rejected(self) -> None:
        with pytest.raises(ValidationError, match="invalid characters"):
            normalize_code("ABCDÉ")

    @pytest.mark.parametrize("text", ["", "   ", "- - _"])
    def test_empty_code_is_rejected(self, text: str) -> None:
        with pytest.raises(ValidationError, match="activation code is empty"):
            normalize_code(text)


class TestSecretKeysConstruction:
    def test_minimum_secret_is_32_bytes(self) -> None:
        assert MIN_SECRET_BYTES == 32

    def test_short_secret_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="at least 32 bytes, got 31"):
            SecretKeys(b"x" * 31)

    def test_short_text_secret_is_measured_in_utf8_bytes(self) -> None:
        with pytest.raises(ValidationError, match="got 30"):
            SecretKeys("é" * 15)

    def test_text_secret_equals_its_utf8_bytes(self) -> None:
        text = "ü" * 16
        assert SecretKeys(text).lookup_hash("p", "v") == SecretKeys(text.encode()).lookup_hash(
            "p", "v"
        )

    def test_repr_hides_the_secret(self) -> None:
        keys = SecretKeys("my-very-secret-host-key-0123456789")
        assert repr(keys) == "SecretKeys(<hidden>)"
        assert "my-very-secret" not in repr(keys)
        assert "my-very-secret" not in str(keys)


class TestLookupHash:
    def test_lookup_hash_is_deterministic(self) -> None:
        assert SecretKeys(SECRET).lookup_hash("join", "tok") == SecretKeys(SECRET).lookup_hash(
            "join", "tok"
        )

    def test_lookup_hash_is_a_sha256_digest(self) -> None:
        assert len(SecretKeys(SECRET).lookup_hash("join", "tok")) == 32

    def test_lookup_hash_does_not_contain_the_value(self) -> None:
        assert b"my-token" not in SecretKeys(SECRET).lookup_hash("join", "my-token")

    def test_purposes_are_kept_apart(self) -> None:
        keys = SecretKeys(SECRET)
        assert keys.lookup_hash("join", "tok") != keys.lookup_hash("session", "tok")

    def test_different_values_hash_differently(self) -> None:
        keys = SecretKeys(SECRET)
        assert keys.lookup_hash("join", "tok1") != keys.lookup_hash("join", "tok2")

    def test_different_secrets_hash_differently(self) -> None:
        assert SecretKeys(SECRET).lookup_hash("join", "tok") != SecretKeys(
            OTHER_SECRET
        ).lookup_hash("join", "tok")


class TestEncryption:
    def test_encrypt_decrypt_round_trip(self) -> None:
        keys = SecretKeys(SECRET)
        ciphertext = keys.encrypt("tok-ünïcode", bound_to="inv_1")
        assert keys.decrypt(ciphertext, bound_to="inv_1") == "tok-ünïcode"

    def test_another_instance_with_the_same_secret_decrypts(self) -> None:
        ciphertext = SecretKeys(SECRET).encrypt("tok", bound_to="inv_1")
        assert SecretKeys(SECRET).decrypt(ciphertext, bound_to="inv_1") == "tok"

    def test_ciphertext_does_not_reveal_the_plaintext(self) -> None:
        assert b"plain-token" not in SecretKeys(SECRET).encrypt("plain-token", bound_to="inv_1")

    def test_each_encryption_uses_a_fresh_nonce(self) -> None:
        keys = SecretKeys(SECRET)
        assert keys.encrypt("tok", bound_to="inv_1") != keys.encrypt("tok", bound_to="inv_1")

    def test_ciphertext_is_bound_to_its_record_id(self) -> None:
        keys = SecretKeys(SECRET)
        ciphertext = keys.encrypt("tok", bound_to="inv_1")
        with pytest.raises(StorageError, match="for 'inv_2' cannot be decrypted"):
            keys.decrypt(ciphertext, bound_to="inv_2")

    @pytest.mark.parametrize("position", [0, 12, -1])
    def test_tampered_ciphertext_is_detected(self, position: int) -> None:
        keys = SecretKeys(SECRET)
        ciphertext = bytearray(keys.encrypt("tok", bound_to="inv_1"))
        ciphertext[position] ^= 0x01
        with pytest.raises(StorageError, match="altered"):
            keys.decrypt(bytes(ciphertext), bound_to="inv_1")

    @pytest.mark.parametrize("ciphertext", [b"", b"short", b"\x00" * 12])
    def test_truncated_ciphertext_is_a_storage_error(self, ciphertext: bytes) -> None:
        with pytest.raises(StorageError, match="cannot be decrypted"):
            SecretKeys(SECRET).decrypt(ciphertext, bound_to="inv_1")

    def test_ciphertext_under_another_secret_does_not_decrypt(self) -> None:
        ciphertext = SecretKeys(SECRET).encrypt("tok", bound_to="inv_1")
        with pytest.raises(StorageError, match="different host secret"):
            SecretKeys(OTHER_SECRET).decrypt(ciphertext, bound_to="inv_1")


# -- codes and tokens made from given random bytes (bulk invitations) -------------------


@given(st.binary(min_size=15, max_size=15))
def test_a_code_made_from_bytes_is_their_base32_with_its_check_symbol(random: bytes) -> None:
    from licensekit import codes

    payload = base64.b32encode(random).decode().translate(codes._TO_CROCKFORD)
    made = codes.activation_code_of(random)
    assert made == payload + codes.check_symbol(payload)
    assert codes.parse_code(codes.format_code(made)) == made


def test_a_code_is_made_only_from_fifteen_bytes() -> None:
    from licensekit.codes import CODE_RANDOM_BYTES, activation_code_of

    assert CODE_RANDOM_BYTES == 15
    for wrong in (b"", bytes(14), bytes(16)):
        with pytest.raises(ValidationError, match="15 random bytes"):
            activation_code_of(wrong)


def test_a_token_is_made_only_from_twenty_four_bytes() -> None:
    from licensekit.codes import token_of

    for wrong in (b"", bytes(23), bytes(25)):
        with pytest.raises(ValidationError, match="24 random bytes"):
            token_of(wrong)


@given(st.binary(min_size=24, max_size=24))
def test_a_token_made_from_bytes_is_their_url_safe_base64(random: bytes) -> None:
    from licensekit.codes import TOKEN_BYTES, token_of

    token = token_of(random)
    assert TOKEN_BYTES == 24
    assert len(token) == 32
    assert base64.urlsafe_b64decode(token) == random


# -- codes and tokens made in bulk (new_secret_texts) -------------------------------------


@pytest.mark.parametrize("count", [0, 1, 2, 7, 300])
def test_bulk_secrets_are_valid_codes_and_tokens(count: int) -> None:
    from licensekit.codes import SECRET_TEXT, new_secret_texts, parse_code

    texts = new_secret_texts(count)
    assert len(texts) == SECRET_TEXT * count == 57 * count
    for n in range(count):
        entry = texts[n * SECRET_TEXT : (n + 1) * SECRET_TEXT].decode("ascii")
        code, token = entry[:25], entry[25:]
        assert parse_code(format_code(code)) == code  # the check symbol matches
        assert len(base64.urlsafe_b64decode(token)) == 24
        assert base64.urlsafe_b64encode(base64.urlsafe_b64decode(token)).decode() == token


def test_bulk_check_symbols_are_check_symbol() -> None:
    from licensekit.codes import SECRET_TEXT, check_symbol, new_secret_texts

    texts = new_secret_texts(500)
    for n in range(500):
        code = texts[n * SECRET_TEXT : n * SECRET_TEXT + 25].decode()
        assert code[24] == check_symbol(code[:24])


def test_bulk_secrets_are_spread_over_the_alphabet_and_never_repeat() -> None:
    from licensekit.codes import CODE_ALPHABET, SECRET_TEXT, new_secret_texts

    count = 2000
    texts = new_secret_texts(count)
    entries = [bytes(texts[n * SECRET_TEXT : (n + 1) * SECRET_TEXT]) for n in range(count)]
    assert len({e[:24] for e in entries}) == len({e[25:] for e in entries}) == count
    # Every position of the random payload takes every symbol (2000 draws of 32 values).
    for position in range(24):
        assert {chr(e[position]) for e in entries} == set(CODE_ALPHABET)
    assert texts != new_secret_texts(count)
