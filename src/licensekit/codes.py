"""Tokens, activation codes, and the keys derived from the host's secret.

Everything a person could use to get in (link tokens, session tokens, activation codes) is
drawn from the operating system's random source (:func:`os.urandom`, which :mod:`secrets`
uses too) and carries well over 100 bits of entropy. A store keeps only:

* a keyed hash (HMAC-SHA256) of each value, to find it again when it is presented, and
* where the plaintext must be shown again (an invitation email sent a second time), its
  AES-256-GCM ciphertext bound to the record it belongs to.

Both keys are derived with HKDF from the single secret the host passes in, so a copy of the
store alone reveals nothing usable.
"""

from __future__ import annotations

import base64
import hmac
import unicodedata
from os import urandom
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from licensekit.domain._echo import echo
from licensekit.exceptions import ActivationCodeMistyped, StorageError, ValidationError

__all__ = [
    "CODE_ALPHABET",
    "CODE_BITS",
    "CODE_RANDOM_BYTES",
    "MIN_SECRET_BYTES",
    "SECRET_TEXT",
    "TOKEN_BYTES",
    "SecretKeys",
    "activation_code_of",
    "check_symbol",
    "format_code",
    "new_activation_code",
    "new_secret_texts",
    "new_token",
    "normalize_code",
    "parse_code",
    "token_of",
]

MIN_SECRET_BYTES = 32
"""The shortest host secret accepted, in bytes (256 bits)."""

TOKEN_BYTES = 24
"""Random bytes in a link or session token: 192 bits, 32 URL-safe characters."""

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base 32: digits and capitals without I, L, O and U, which are easily confused."""

_CODE_GROUP_SIZE = 5
_CODE_PAYLOAD_SYMBOLS = 24
_CODE_SYMBOLS = _CODE_PAYLOAD_SYMBOLS + 1  # the last one is a check symbol
CODE_BITS = _CODE_PAYLOAD_SYMBOLS * 5
"""Random bits in an activation code: 120 (24 symbols of 5 bits; a 25th symbol is a check)."""
_SYMBOL_VALUE = {symbol: value for value, symbol in enumerate(CODE_ALPHABET)}
_CODE_SYMBOL_SET = frozenset(CODE_ALPHABET)
_CODE_CONFUSABLES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_NONCE_BYTES = 12


CODE_RANDOM_BYTES = CODE_BITS // 8
"""Random bytes behind an activation code (:func:`activation_code_of`)."""


def new_token() -> str:
    """Return a fresh URL-safe bearer token with 192 bits of entropy."""
    return token_of(urandom(TOKEN_BYTES))  # secrets.token_urlsafe, without its import


def token_of(random: bytes) -> str:
    """Return the token :func:`new_token` makes of the :data:`TOKEN_BYTES` bytes *random*.

    Raises:
        ValidationError: *random* is not :data:`TOKEN_BYTES` bytes.
    """
    if len(random) != TOKEN_BYTES:
        raise ValidationError(f"a token is made of {TOKEN_BYTES} random bytes")
    return base64.urlsafe_b64encode(random).rstrip(b"=").decode("ascii")


def new_activation_code() -> str:
    """Return a fresh activation code: five dash-separated groups of five symbols.

    24 symbols carry 120 random bits; the 25th is a check symbol (see :func:`check_symbol`)
    that catches typing mistakes before any look-up. Example: ``Z6M41-S6KFC-JWY9C-SG7RC-S1A7D``.
    """
    return format_code(activation_code_of(urandom(CODE_RANDOM_BYTES)))


def activation_code_of(random: bytes) -> str:
    """Return the canonical code (no dashes) of the :data:`CODE_RANDOM_BYTES` bytes *random*.

    Its payload spells the bits in Crockford's base 32, most significant first (as RFC 4648
    base 32 would, in this alphabet); its last symbol is the check (:func:`check_symbol`).
    Written for bulk invitations: ten bits (two symbols) at a time, from tables.

    Raises:
        ValidationError: *random* is not :data:`CODE_RANDOM_BYTES` bytes.
    """
    if len(random) != CODE_RANDOM_BYTES:
        raise ValidationError(f"an activation code is made of {CODE_RANDOM_BYTES} random bytes")
    bits = int.from_bytes(random, "big")
    pairs = [(bits >> shift) & 0x3FF for shift in _PAIR_SHIFTS]
    total = 0
    for pair in reversed(pairs):  # the check reads the symbols from the last one
        total = _TIMES_ALPHA_SQUARED[total] ^ _PAIR_CHECK[pair]
    return "".join([_PAIR_TEXT[pair] for pair in pairs]) + CODE_ALPHABET[_TIMES_ALPHA[total]]


SECRET_TEXT = _CODE_SYMBOLS + TOKEN_BYTES * 4 // 3
"""The ASCII characters of one canonical code and one token side by side (57)."""


def new_secret_texts(count: int) -> bytearray:
    """Return *count* fresh canonical activation codes and tokens, as ASCII in one buffer.

    Entry *n* is ``buffer[n * SECRET_TEXT : (n + 1) * SECRET_TEXT]``: a canonical code (24
    random symbols and the check symbol, as :func:`check_symbol` computes it) then a token
    (:data:`TOKEN_BYTES` random bytes, as :func:`new_token` writes them). Written for bulk
    invitations: a few dozen operations on whole columns, none per code. Each random symbol
    is the low five bits of its own random byte (uniform, 120 random bits a code); the check
    symbol, linear in the symbols, is the sum of each position's weighted value, looked up
    column by column in a table of that position.

    Raises:
        ValidationError: *count* is not a whole number of at least 0.
    """
    given: object = count
    if isinstance(given, bool) or not isinstance(given, int) or count < 0:
        raise ValidationError(f"count must be a whole number of at least 0, got {echo(given)}")
    symbol_text, weights, check_text = _bulk_tables()
    payload = urandom(_CODE_PAYLOAD_SYMBOLS * count)
    total = 0
    for position, weight in enumerate(weights):
        column = payload[position::_CODE_PAYLOAD_SYMBOLS].translate(weight)
        total ^= int.from_bytes(column, "little")  # bytes of at most 5 bits: no carry
    tokens = base64.urlsafe_b64encode(urandom(TOKEN_BYTES * count))
    symbols = payload.translate(symbol_text)
    texts = bytearray(SECRET_TEXT * count)
    for position in range(_CODE_PAYLOAD_SYMBOLS):
        texts[position::SECRET_TEXT] = symbols[position::_CODE_PAYLOAD_SYMBOLS]
    texts[_CODE_PAYLOAD_SYMBOLS::SECRET_TEXT] = total.to_bytes(count, "little").translate(
        check_text
    )
    width = SECRET_TEXT - _CODE_SYMBOLS
    for position in range(width):
        texts[_CODE_SYMBOLS + position :: SECRET_TEXT] = tokens[position::width]
    return texts


_BULK_TABLES: list[tuple[bytes, tuple[bytes, ...], bytes]] = []


def _bulk_tables() -> tuple[bytes, tuple[bytes, ...], bytes]:
    """The byte tables of :func:`new_secret_texts`, made on first use.

    A random byte's symbol text (its low five bits); for each payload position *i*, a byte's
    value times alpha^(i + 1) in GF(32) (the check of :func:`check_symbol` is the sum of
    those); and a check value's symbol text.
    """
    if not _BULK_TABLES:
        symbol_text = bytes(ord(CODE_ALPHABET[b & 31]) for b in range(256))
        times_alpha = bytes(_TIMES_ALPHA[b & 31] for b in range(256))
        weights = [times_alpha]
        while len(weights) < _CODE_PAYLOAD_SYMBOLS:
            weights.append(weights[-1].translate(times_alpha))
        _BULK_TABLES.append((symbol_text, tuple(weights), symbol_text))
    return _BULK_TABLES[0]


def _gf32_times_alpha(value: int) -> int:
    """Multiply by the generator x in GF(2^5) built on the primitive polynomial x^5 + x^2 + 1."""
    value <<= 1
    return value ^ 0b100101 if value & 0b100000 else value


_TIMES_ALPHA = tuple(_gf32_times_alpha(v) for v in range(32))
# Two symbols at a time, for activation_code_of: the text of each ten-bit pair; and, since
# the check reads symbols backwards (total = alpha * total + value), one step over a pair
# (first, second) is alpha^2 * total + (alpha * second + first).
_PAIR_SHIFTS = tuple(range(CODE_BITS - 10, -1, -10))
_PAIR_TEXT = tuple(CODE_ALPHABET[p >> 5] + CODE_ALPHABET[p & 31] for p in range(1024))
_PAIR_CHECK = tuple(_TIMES_ALPHA[p & 31] ^ (p >> 5) for p in range(1024))
_TIMES_ALPHA_SQUARED = tuple(_TIMES_ALPHA[_TIMES_ALPHA[v]] for v in range(32))
# RFC 4648 base 32 (A-Z, 2-7) spelled in Crockford's alphabet, value for value: 120 bits are
# exactly 24 symbols, so the standard encoder does the bit slicing without padding.
_TO_CROCKFORD = str.maketrans(
    dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", CODE_ALPHABET, strict=True))
)


def check_symbol(payload: str) -> str:
    """Return the check symbol of a code's canonical *payload* symbols.

    The check is a weighted sum in the field GF(32), with weights the successive powers of a
    generator: every single wrong symbol changes it, and so does every swap of two different
    neighbouring symbols.
    """
    total = 0
    times_alpha, value_of = _TIMES_ALPHA, _SYMBOL_VALUE
    for symbol in reversed(payload):
        total = times_alpha[total] ^ value_of[symbol]
    return CODE_ALPHABET[times_alpha[total]]


def format_code(symbols: str) -> str:
    """Group a normalised code into blocks of five separated by dashes."""
    if len(symbols) == _CODE_SYMBOLS:  # every code licensekit makes: spelled out, for bulk
        s = symbols
        return f"{s[:5]}-{s[5:10]}-{s[10:15]}-{s[15:20]}-{s[20:]}"
    return "-".join(
        symbols[i : i + _CODE_GROUP_SIZE] for i in range(0, len(symbols), _CODE_GROUP_SIZE)
    )


def normalize_code(text: str) -> str:
    """Return a typed code in canonical form, forgiving how a person typed or pasted it.

    Case, spaces, dashes and underscores are ignored; ``O`` reads as zero and ``I``/``L``
    as one. Text pasted from a web page or a word processor is read too: it is first
    normalised to NFKC (full-width letters and digits become ASCII ones, a no-break or
    ideographic space a space), and every kind of dash (hyphen U+2010, en dash U+2013, minus
    sign U+2212...), every kind of space and invisible format characters (soft hyphen,
    zero-width space) are ignored like the dash.

    Raises:
        ValidationError: *text* is not text, or a character is not part of the code alphabet.
    """
    if not isinstance(text, str):
        raise ValidationError(
            f"an activation code must be text, not {type(text).__name__}", field="code"
        )
    typed = unicodedata.normalize("NFKC", text).upper()
    if typed.isascii():  # the usual case: one table drops the separators and reads O, I, L
        cleaned = typed.translate(_ASCII_CLEANING)
    else:
        kept = "".join(ch for ch in typed if not _is_separator(ch))
        cleaned = kept.translate(_CODE_CONFUSABLES)
    if not _CODE_SYMBOL_SET.issuperset(cleaned):  # one test in C; the message needs a loop
        bad = sorted({ch for ch in cleaned if ch not in CODE_ALPHABET})
        raise ValidationError(
            f"activation code contains invalid characters: {echo(''.join(bad))}", field="code"
        )
    if not cleaned:
        raise ValidationError("activation code is empty", field="code")
    return cleaned


def _is_separator(ch: str) -> bool:
    """True for what may stand between the symbols of a code: spaces, dashes, invisibles."""
    return ch.isspace() or ch in "_\u2212" or unicodedata.category(ch) in ("Pd", "Cf")


_ASCII_CLEANING = str.maketrans(
    {chr(c): None for c in range(128) if _is_separator(chr(c))}
    | {chr(k): v for k, v in _CODE_CONFUSABLES.items()}
)


def parse_code(text: str) -> str:
    """Return a typed activation code in canonical form after checking it for typos.

    The typing is forgiven as by :func:`normalize_code`; then the length and the check symbol
    must match.

    Raises:
        ActivationCodeMistyped: Not text, a character outside the alphabet, the wrong
            number of symbols, or a check symbol that does not match.
    """
    if not isinstance(text, str):
        raise ActivationCodeMistyped(f"an activation code must be text, not {type(text).__name__}")
    try:
        symbols = normalize_code(text)
    except ValidationError as e:
        raise ActivationCodeMistyped(f"{e}; please check the code and type it again") from None
    if len(symbols) != _CODE_SYMBOLS:
        raise ActivationCodeMistyped(
            f"an activation code has {_CODE_SYMBOLS} characters, this one has {len(symbols)}; "
            "please check the code and type it again"
        )
    if check_symbol(symbols[:-1]) != symbols[-1]:
        raise ActivationCodeMistyped(
            "this activation code contains a typing mistake; please check it and type it again"
        )
    return symbols


class SecretKeys:
    """Keys derived from the host's secret: one for look-up hashes, one for encryption.

    Args:
        secret: At least 32 bytes of high-entropy secret (bytes, or text encoded as UTF-8).
            Keep it out of the store: whoever has both can read codes again.

    Raises:
        ValidationError: The secret is too short.
    """

    __slots__ = ("_aead", "_lookup", "_lookup_key")

    def __init__(self, secret: bytes | str) -> None:
        if isinstance(secret, str):
            raw = secret.encode("utf-8", "surrogatepass")
        elif isinstance(secret, (bytes, bytearray, memoryview)):
            raw = bytes(secret)
        else:
            raise ValidationError(
                f"the host secret must be bytes or text, not {type(secret).__name__}",
                field="secret",
            )
        if len(raw) < MIN_SECRET_BYTES:
            raise ValidationError(
                f"the host secret must be at least {MIN_SECRET_BYTES} bytes, got {len(raw)}",
                field="secret",
            )
        self._lookup_key = _derive(raw, b"licensekit lookup-hash v1")
        # Keyed once: each hash copies it, which spares hashing the key's two pads again.
        self._lookup = _keyed_sha256(self._lookup_key)
        self._aead = AESGCM(_derive(raw, b"licensekit encryption v1"))

    def __repr__(self) -> str:
        return "SecretKeys(<hidden>)"

    def lookup_hash(self, purpose: str, value: str) -> bytes:
        """Return the keyed hash of *value* for finding it in a store.

        Args:
            purpose: A label that keeps hashes of different kinds apart ("session", ...).
            value: The secret value, in canonical form.
        """
        keyed = self._lookup.copy()
        keyed.update(purpose.encode() + b"\x00" + value.encode("utf-8", "surrogatepass"))
        return keyed.digest()

    def encrypt(self, plaintext: str, *, bound_to: str) -> bytes:
        """Encrypt *plaintext*, binding the ciphertext to the record id *bound_to*.

        A ciphertext copied onto another record will not decrypt.
        """
        nonce = urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext.encode(), bound_to.encode())

    def decrypt(self, ciphertext: bytes, *, bound_to: str) -> str:
        """Decrypt what :meth:`encrypt` produced for the same *bound_to*.

        Raises:
            StorageError: The ciphertext was altered, moved to another record, or made
                under a different host secret.
        """
        nonce, body = ciphertext[:_NONCE_BYTES], ciphertext[_NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, body, bound_to.encode()).decode()
        except (InvalidTag, ValueError) as e:
            raise StorageError(
                f"stored ciphertext for {bound_to!r} cannot be decrypted: it was altered "
                "or written under a different host secret"
            ) from e


class _Keyed(Protocol):
    """An HMAC object, keyed: copied, then fed a message, for each hash."""

    def copy(self) -> _Keyed: ...  # pragma: no cover - a protocol

    def update(self, message: bytes, /) -> None: ...  # pragma: no cover - a protocol

    def digest(self) -> bytes: ...  # pragma: no cover - a protocol


def _keyed_sha256(key: bytes) -> _Keyed:
    """An HMAC-SHA256 object keyed with *key*: OpenSSL's own, as :mod:`hmac` makes inside.

    Used without :class:`hmac.HMAC`'s Python layer (three calls a hash on the hot paths),
    where there is one.
    """
    try:
        from _hashlib import hmac_new
    except ImportError:  # pragma: no cover - a Python built without OpenSSL
        return hmac.new(key, digestmod="sha256")
    return hmac_new(key, digestmod="sha256")


def _derive(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)
