"""Activation codes: 120 random bits, a GF(32) check symbol that catches typos, forgiving input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from licensekit import ActivationCodeMistyped, ValidationError
from licensekit import codes as codes_module
from licensekit.codes import (
    CODE_ALPHABET,
    CODE_BITS,
    check_symbol,
    format_code,
    new_activation_code,
    normalize_code,
    parse_code,
)

PAYLOAD_SYMBOLS = 24
CODE_SYMBOLS = 25

payloads = st.text(alphabet=CODE_ALPHABET, min_size=PAYLOAD_SYMBOLS, max_size=PAYLOAD_SYMBOLS)


def canonical(payload: str) -> str:
    return payload + check_symbol(payload)


def symbol_value(symbol: str) -> int:
    return CODE_ALPHABET.index(symbol)


class TestEntropy:
    def test_code_bits_constant_is_120(self) -> None:
        assert CODE_BITS == 120

    def test_a_code_has_24_payload_symbols_and_one_check_symbol(self) -> None:
        symbols = new_activation_code().replace("-", "")
        assert len(symbols) == CODE_SYMBOLS
        assert check_symbol(symbols[:PAYLOAD_SYMBOLS]) == symbols[PAYLOAD_SYMBOLS]

    def test_code_draws_exactly_15_random_bytes(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The payload is built from 15 bytes (120 bits) of the system's random source."""
        requested: list[int] = []

        def fake_token_bytes(n: int) -> bytes:
            requested.append(n)
            return bytes(n)

        monkeypatch.setattr(codes_module, "urandom", fake_token_bytes)
        new_activation_code()
        assert requested == [15]

    @given(raw=st.binary(min_size=15, max_size=15))
    def test_every_random_bit_lands_in_the_payload(self, raw: bytes) -> None:
        """The 24 payload symbols encode the 120 random bits one-to-one, big-endian."""
        original = codes_module.urandom
        codes_module.urandom = lambda n: raw
        try:
            code = new_activation_code()
        finally:
            codes_module.urandom = original
        payload = code.replace("-", "")[:PAYLOAD_SYMBOLS]
        number = 0
        for symbol in payload:
            number = number * 32 + symbol_value(symbol)
        assert number.to_bytes(15, "big") == raw

    def test_codes_are_unique_over_many_draws(self) -> None:
        drawn = [new_activation_code() for _ in range(5000)]
        assert len(set(drawn)) == len(drawn)

    def test_payload_symbols_are_spread_over_the_whole_alphabet(self) -> None:
        seen = set("".join(new_activation_code().replace("-", "")[:24] for _ in range(300)))
        assert seen == set(CODE_ALPHABET)

    def test_fresh_codes_parse_cleanly(self) -> None:
        for _ in range(200):
            code = new_activation_code()
            assert format_code(parse_code(code)) == code


class TestTypoDetection:
    @given(payload=payloads)
    def test_every_single_symbol_substitution_is_detected(self, payload: str) -> None:
        code = canonical(payload)
        for position in range(CODE_SYMBOLS):
            for symbol in CODE_ALPHABET:
                if symbol == code[position]:
                    continue
                typo = code[:position] + symbol + code[position + 1 :]
                with pytest.raises(ActivationCodeMistyped, match="typing mistake"):
                    parse_code(format_code(typo))

    @given(payload=payloads)
    def test_every_adjacent_transposition_is_detected(self, payload: str) -> None:
        """Swapping two different neighbours (including the check symbol) is caught."""
        code = canonical(payload)
        for position in range(CODE_SYMBOLS - 1):
            a, b = code[position], code[position + 1]
            if a == b:
                continue
            typo = code[:position] + b + a + code[position + 2 :]
            with pytest.raises(ActivationCodeMistyped, match="typing mistake"):
                parse_code(format_code(typo))

    def test_transposition_across_a_group_dash_is_detected(self) -> None:
        payload = "0123456789ABCDEFGHJKMNPQ"
        code = format_code(canonical(payload))
        groups = code.split("-")
        swapped = groups[0][:-1] + groups[1][0] + "-" + groups[0][-1] + groups[1][1:]
        typo = "-".join([swapped, *groups[2:]])
        assert typo != code
        with pytest.raises(ActivationCodeMistyped):
            parse_code(typo)

    def test_wrong_check_symbol_is_reported_as_a_typing_mistake(self) -> None:
        payload = "Z" * 24
        wrong = next(s for s in CODE_ALPHABET if s != check_symbol(payload))
        with pytest.raises(ActivationCodeMistyped, match="contains a typing mistake"):
            parse_code(payload + wrong)

    def test_check_symbol_is_a_symbol_of_the_alphabet(self) -> None:
        assert check_symbol("0" * 24) in CODE_ALPHABET
        assert check_symbol("Z" * 24) in CODE_ALPHABET

    def test_mistyped_is_a_validation_error(self) -> None:
        with pytest.raises(ValidationError):
            parse_code("not a code")


class TestFormatting:
    @given(payload=payloads)
    def test_format_then_parse_round_trips(self, payload: str) -> None:
        symbols = canonical(payload)
        formatted = format_code(symbols)
        assert parse_code(formatted) == symbols
        assert format_code(parse_code(formatted)) == formatted

    @given(payload=payloads)
    def test_formatted_code_is_five_groups_of_five(self, payload: str) -> None:
        groups = format_code(canonical(payload)).split("-")
        assert [len(g) for g in groups] == [5] * 5

    def test_parse_returns_canonical_symbols_without_dashes(self) -> None:
        code = new_activation_code()
        assert parse_code(code) == code.replace("-", "")


_CONFUSABLE_SPELLINGS = {"0": "0oO", "1": "1iIlL"}


@st.composite
def sloppy_typing(draw: st.DrawFn) -> tuple[str, str]:
    """Return (canonical code, the same code as a person might type it)."""
    payload = draw(st.text(alphabet="01" + CODE_ALPHABET, min_size=24, max_size=24))
    symbols = canonical(payload)
    typed: list[str] = []
    for symbol in symbols:
        spellings = _CONFUSABLE_SPELLINGS.get(symbol, symbol + symbol.lower())
        typed.append(draw(st.sampled_from(spellings)))
        typed.append(draw(st.sampled_from(["", "", "", " ", "-", "_", "  ", "\t"])))
    return symbols, draw(st.sampled_from(["", " ", "\n"])) + "".join(typed)


class TestForgiveness:
    @given(case=sloppy_typing())
    def test_case_separators_and_confusables_are_forgiven(self, case: tuple[str, str]) -> None:
        symbols, typed = case
        assert parse_code(typed) == symbols

    def test_lower_case_code_is_accepted(self) -> None:
        code = new_activation_code()
        assert parse_code(code.lower()) == code.replace("-", "")

    def test_code_typed_with_spaces_instead_of_dashes_is_accepted(self) -> None:
        code = new_activation_code()
        assert parse_code(code.replace("-", " ")) == code.replace("-", "")

    def test_code_typed_without_dashes_is_accepted(self) -> None:
        code = new_activation_code()
        assert parse_code(code.replace("-", "")) == code.replace("-", "")

    def test_letter_o_reads_as_zero_and_i_l_as_one(self) -> None:
        payload = "0101" + "Z" * 20
        symbols = canonical(payload)
        typed = "OIoL" + symbols[4:]
        assert parse_code(typed) == symbols

    def test_normalize_code_forgives_the_same_way(self) -> None:
        assert normalize_code("oIl-ab_c d") == "011ABCD"


class TestRefusals:
    @pytest.mark.parametrize("length", [0, 1, 5, 20, 24, 26, 30, 50])
    def test_wrong_number_of_symbols_is_reported(self, length: int) -> None:
        if length == 0:
            with pytest.raises(ActivationCodeMistyped, match="empty"):
                parse_code("")
            return
        with pytest.raises(
            ActivationCodeMistyped, match=f"has 25 characters, this one has {length}"
        ):
            parse_code("A" * length)

    def test_code_with_a_symbol_dropped_is_reported_as_too_short(self) -> None:
        code = new_activation_code().replace("-", "")
        with pytest.raises(ActivationCodeMistyped, match="this one has 24"):
            parse_code(code[:10] + code[11:])

    def test_code_with_a_symbol_doubled_is_reported_as_too_long(self) -> None:
        code = new_activation_code().replace("-", "")
        with pytest.raises(ActivationCodeMistyped, match="this one has 26"):
            parse_code(code[:10] + code[10] + code[10:])

    @pytest.mark.parametrize("value", [None, 12345, b"ABCDE-FGHJK", ["A"], 1.5, object()])
    def test_non_text_input_is_mistyped(self, value: object) -> None:
        with pytest.raises(ActivationCodeMistyped, match="must be text"):
            parse_code(value)  # type: ignore[arg-type]

    @pytest.mark.parametrize("bad", ["U", "!", "é", "*", "."])
    def test_character_outside_the_alphabet_is_mistyped(self, bad: str) -> None:
        code = new_activation_code()
        with pytest.raises(ActivationCodeMistyped, match="invalid characters"):
            parse_code(code[:3] + bad + code[4:])

    @given(text=st.text(max_size=40))
    def test_parse_code_raises_only_activation_code_mistyped(self, text: str) -> None:
        """Whatever is typed, parse_code returns 25 canonical symbols or says it is mistyped."""
        try:
            symbols = parse_code(text)
        except ActivationCodeMistyped:
            return
        assert len(symbols) == CODE_SYMBOLS
        assert set(symbols) <= set(CODE_ALPHABET)
        assert check_symbol(symbols[:-1]) == symbols[-1]
