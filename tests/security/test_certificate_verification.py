"""Certificates verified offline (licensekit.verifier): what is signed verifies, and anything
else is refused with its own error: one byte edited anywhere, another key, an unknown key, a
lease that is over or not begun, another computer."""

from __future__ import annotations

import base64
import datetime as dt
import json
import string

import attrs
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from _certificates import T0, claims
from licensekit import verifier
from licensekit.domain import certificates
from licensekit.domain.certificates import (
    CLAIM_FIELDS,
    CertificateClaims,
    LicenseState,
    armour,
    encode_claims,
    signed_message,
)
from licensekit.exceptions import (
    CertificateError,
    CertificateExpired,
    CertificateKeyUnknown,
    CertificateMalformed,
    CertificateNotYetValid,
    CertificateSignatureInvalid,
    CertificateWrongComputer,
    LicenseKitError,
    SigningKeyError,
    ValidationError,
)
from licensekit.signing import Ed25519Signer, Signer, issue_certificate
from licensekit.verifier import (
    DEFAULT_SKEW,
    MAX_SKEW,
    VerifiedLicense,
    key_id_of,
    public_key_text,
    verify_certificate,
)

SIGNER = Ed25519Signer.generate()
OTHER = Ed25519Signer.generate()
CLAIMS = CertificateClaims.leased(
    installation_id="ins_0193a1b2c3d4_000000_7f3a9c01e2",
    computer_id="SN-0001",
    product="Desktop Pro",
    account_id="acc_0193a1b2c3d4_000000_1a2b3c4d5e",
    license_key_id="key_0193a1b2c3d4_000000_5e4d3c2b1a",
    issued_at=T0,
    license_expires_at=T0 + dt.timedelta(days=365),
)
TEXT = issue_certificate(SIGNER, CLAIMS)
KEYS = SIGNER.public_keys()


def verify(text: str | bytes = TEXT, keys=KEYS, **options: object) -> VerifiedLicense:
    options.setdefault("computer_id", "SN-0001")
    options.setdefault("now", T0 + dt.timedelta(days=1))
    return verify_certificate(text, keys, **options)  # type: ignore[arg-type]


def signed(payload: bytes, signer: Ed25519Signer = SIGNER, key_id: str | None = None) -> str:
    """A certificate around any *payload*, validly signed: only the verifier's parsing stands."""
    key_id = key_id or signer.key_id
    return armour(key_id, payload, signer.sign(signed_message(key_id, payload)))


# == what is signed verifies =================================================================


def test_a_certificate_verifies_and_gives_back_every_claim() -> None:
    license = verify()
    for name in CLAIM_FIELDS:
        assert getattr(license, name) == getattr(CLAIMS, name), name
    assert license.signing_key_id == SIGNER.key_id
    assert license.license_state == "active"
    assert license.valid_until.tzinfo is not None


@pytest.mark.parametrize("state", list(LicenseState))
def test_every_state_and_no_expiry_come_back(state: LicenseState) -> None:
    claims = attrs.evolve(CLAIMS, license_state=state, license_expires_at=None)
    license = verify(issue_certificate(SIGNER, claims))
    assert license.license_state == state
    assert license.license_state is verifier.LicenseState(state.value)
    assert license.license_expires_at is None


def test_the_verifier_and_the_claims_agree_on_every_field_and_constant() -> None:
    """The verifier reads the format on its own (it must not load attrs): the two copies agree."""
    assert VerifiedLicense._fields == (*CLAIM_FIELDS, "signing_key_id")
    assert frozenset(CLAIM_FIELDS) == verifier._CLAIMS
    texts = {f.name for f in attrs.fields(CertificateClaims) if f.type in ("str", str)}
    assert set(verifier._TEXT_CLAIMS) == texts
    assert [s.value for s in verifier.LicenseState] == [s.value for s in LicenseState]
    assert verifier._FORMAT_VERSION == certificates.FORMAT_VERSION
    assert verifier._SIGNATURE_PREFIX == certificates.SIGNATURE_PREFIX
    assert verifier._ARMOUR_BEGIN == certificates.ARMOUR_BEGIN
    assert verifier._ARMOUR_END == certificates.ARMOUR_END
    assert verifier._KEY_ID_HEADER == certificates.KEY_ID_HEADER
    assert verifier._ARMOUR_WIDTH == certificates.ARMOUR_WIDTH
    assert verifier._INSTANT.fullmatch(T0.strftime(certificates.TIME_FORMAT))
    assert verifier.MAX_SKEW == certificates.MIN_LEASE
    assert verifier.MAX_CERTIFICATE_CHARS == certificates.MAX_CERTIFICATE_CHARS
    assert verifier._MAX_LEASE == certificates.MAX_LEASE


@pytest.mark.parametrize(
    "keys",
    [
        KEYS,
        {SIGNER.key_id: public_key_text(KEYS[SIGNER.key_id])},
        {SIGNER.key_id: Ed25519PublicKey.from_public_bytes(KEYS[SIGNER.key_id])},
        json.loads(json.dumps({k: public_key_text(v) for k, v in KEYS.items()})),
    ],
    ids=["raw", "base64", "object", "json"],
)
def test_public_keys_as_raw_bytes_base64_or_objects(keys: dict[str, object]) -> None:
    assert verify(keys=keys).installation_id == CLAIMS.installation_id


GOLDEN = """\
-----BEGIN LICENSEKIT CERTIFICATE-----
Key-Id: 56475aa75463474c

eyJhY2NvdW50X2lkIjoiYWNjXzEiLCJjb21wdXRlcl9pZCI6IlNOLTAwMDEiLCJp
bnN0YWxsYXRpb25faWQiOiJpbnNfMSIsImlzc3VlZF9hdCI6IjIwMzAtMDEtMDFU
MTI6MDA6MDBaIiwibGljZW5zZV9leHBpcmVzX2F0IjpudWxsLCJsaWNlbnNlX2tl
eV9pZCI6ImtleV8xIiwibGljZW5zZV9zdGF0ZSI6ImFjdGl2ZSIsInByb2R1Y3Qi
OiJEZXNrdG9wIFBybyIsInZhbGlkX3VudGlsIjoiMjAzMC0wMS0wOFQxMjowMDow
MFoiLCJ2ZXJzaW9uIjoxfQ==

jjB5ojJOnvrZ7Pql08uZTj3mKpgKIpntpOKXo/kA77LP8uwUxRnnmas+yc1pPBlD
83YUsw8KSp4iOs+XZfz1Bg==
-----END LICENSEKIT CERTIFICATE-----
"""


def test_the_format_is_pinned_by_a_certificate_of_a_fixed_key() -> None:
    """Ed25519 signatures are deterministic: the same key and claims give this very text,
    which every later verifier must keep accepting (products in the field hold it)."""
    fixed = Ed25519Signer(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
    assert issue_certificate(fixed, claims()) == GOLDEN
    license = verify(GOLDEN, fixed.public_keys())
    assert (license.signing_key_id, license.product) == ("56475aa75463474c", "Desktop Pro")


def test_whitespace_around_and_crlf_line_ends_are_accepted() -> None:
    assert verify("\n\n  " + TEXT.replace("\n", "\r\n") + " \t\r\n")
    assert verify(TEXT.encode("ascii"))
    assert verify(TEXT.rstrip("\n"))


# == one byte edited anywhere ================================================================

B64 = string.ascii_letters + string.digits + "+/"
HEX = "0123456789abcdef"
LINES = TEXT.split("\n")
HEADER_AT = len(LINES[0]) + 1 + len("Key-Id: ")  # where the key id starts
PARTING = LINES.index("", 3)  # the blank line between the payload and the signature


def _section_of(position: int) -> str:
    """Which part of the text the character at *position* is in."""
    line_start = 0
    for number, line in enumerate(LINES):
        if position < line_start + len(line):
            if number == 1 and position >= HEADER_AT:
                return "key id"
            if 3 <= number < PARTING:
                return "payload"
            if PARTING < number < len(LINES) - 2:
                return "signature"
            return "structure"
        if position == line_start + len(line):
            return "trailing" if number == len(LINES) - 2 else "structure"
        line_start += len(line) + 1
    raise AssertionError(position)  # pragma: no cover


def _canonical_base64(text: str, size: int | None) -> bool:
    """Whether *text* is base64 exactly as written, of *size* bytes (None: any)."""
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError:
        return False
    return base64.b64encode(data).decode() == text and size in (None, len(data))


def _expected(edited: str, position: int, new: str) -> type[Exception] | None:
    """The error one edit must raise, or None where it is tolerated (whitespace around)."""
    section = _section_of(position)
    if section == "trailing":
        return None if new in " \t\r\n" else CertificateMalformed
    if section == "key id" and new in HEX:
        return CertificateKeyUnknown
    if section in ("payload", "signature") and new in B64:
        lines = edited.split("\n")
        first_blank = lines.index("", 3)
        part = lines[3:first_blank] if section == "payload" else lines[first_blank + 1 : -2]
        if _canonical_base64("".join(part), 64 if section == "signature" else None):
            return CertificateSignatureInvalid
    return CertificateMalformed


def _replacements(old: str) -> list[str]:
    alphabet = B64 if old in B64 else HEX if old in HEX else string.ascii_letters
    neighbour = alphabet[(alphabet.find(old) + 1) % len(alphabet)]
    return sorted({neighbour, "A", "=", " ", "\n", "\r", "-", ":", "\x00", "é"} - {old})


def test_every_byte_edited_anywhere_is_refused_with_the_right_error() -> None:
    """Each position of the text, including the payload and the signature, several edits each."""
    checked = 0
    for position, old in enumerate(TEXT):
        for new in _replacements(old):
            edited = TEXT[:position] + new + TEXT[position + 1 :]
            expected = _expected(edited, position, new)
            if expected is None:
                assert verify(edited).installation_id == CLAIMS.installation_id
                continue
            with pytest.raises(expected):
                verify(edited)
            checked += 1
    assert checked > 8 * len(TEXT)


def test_a_character_deleted_anywhere_is_refused() -> None:
    for position in range(len(TEXT) - 1):  # the last is the final line break
        with pytest.raises(CertificateError):
            verify(TEXT[:position] + TEXT[position + 1 :])


@given(position=st.integers(0, len(TEXT) - 2), byte=st.integers(0, 255))
def test_any_byte_of_the_certificate_changed_is_refused(position: int, byte: int) -> None:
    data = bytearray(TEXT.encode("ascii"))
    if data[position] == byte:
        byte ^= 1
    data[position] = byte
    with pytest.raises(CertificateError):
        verify(bytes(data))


# == keys ======================================================================================


def test_a_key_the_product_does_not_have_is_an_unknown_key() -> None:
    with pytest.raises(CertificateKeyUnknown, match=f"signed with key {SIGNER.key_id}") as e:
        verify(keys=OTHER.public_keys())
    assert e.value.key_id == SIGNER.key_id
    assert OTHER.key_id in str(e.value)
    with pytest.raises(CertificateKeyUnknown, match=r"\(none\)"):
        verify(keys={})


def test_a_signature_by_another_key_under_this_key_id_is_refused() -> None:
    payload = encode_claims(CLAIMS)
    forged = armour(SIGNER.key_id, payload, OTHER.sign(signed_message(SIGNER.key_id, payload)))
    with pytest.raises(CertificateSignatureInvalid, match="does not verify under key"):
        verify(forged)


def test_the_signature_binds_the_key_id_and_the_prefix() -> None:
    payload = encode_claims(CLAIMS)
    both = {**SIGNER.public_keys(), **OTHER.public_keys()}
    moved = armour(OTHER.key_id, payload, SIGNER.sign(signed_message(SIGNER.key_id, payload)))
    with pytest.raises(CertificateSignatureInvalid):
        verify(moved, both)
    bare = armour(SIGNER.key_id, payload, SIGNER.sign(payload))
    with pytest.raises(CertificateSignatureInvalid):
        verify(bare)
    other_id = signed_message(OTHER.key_id, payload)
    with pytest.raises(CertificateSignatureInvalid):
        verify(armour(SIGNER.key_id, payload, SIGNER.sign(other_id)))


def test_another_key_given_under_the_certificates_key_id_is_an_unknown_key() -> None:
    # Was a ValidationError: the product's key list is wrong, as for a missing key.
    with pytest.raises(CertificateKeyUnknown, match="given under that id is another key") as e:
        verify(keys={SIGNER.key_id: OTHER.public_keys()[OTHER.key_id]})
    assert e.value.key_id == SIGNER.key_id


_P = 2**255 - 19
_ORDER_8_Y = int.from_bytes(
    bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"), "little"
)
# The 8 points of small order (y = 1, -1, 0 and the two order-8 y, with either sign of x),
# and the non-canonical encodings y + p of y = 0 and 1.
SMALL_ORDER = [
    (y | sign << 255).to_bytes(32, "little")
    for y in (1, _P - 1, 0, _ORDER_8_Y, _P - _ORDER_8_Y, _P, _P + 1)
    for sign in (0, 1)
]


@pytest.mark.parametrize("raw", SMALL_ORDER, ids=lambda raw: raw.hex()[:8] + raw.hex()[-2:])
def test_a_public_key_of_small_order_is_refused(raw: bytes) -> None:
    key_id = key_id_of(raw)
    with pytest.raises(ValidationError, match="of small order"):
        verify(signed(encode_claims(CLAIMS), key_id=key_id), {key_id: raw})
    with pytest.raises(ValidationError, match="of small order"):
        Ed25519Signer(Ed25519PrivateKey.generate(), also_published=[raw])


def test_public_keys_given_wrongly_are_a_validation_error() -> None:
    for bad in (b"short", "not base64!", 42, "QQ=="):
        with pytest.raises(ValidationError, match="must be an Ed25519 public key"):
            verify(keys={SIGNER.key_id: bad})
    with pytest.raises(ValidationError, match="must map key ids"):
        verify(keys=[KEYS[SIGNER.key_id]])
    with pytest.raises(ValidationError):
        key_id_of(b"x" * 31)


def test_key_ids_come_from_the_public_key() -> None:
    raw = KEYS[SIGNER.key_id]
    assert key_id_of(raw) == key_id_of(public_key_text(raw)) == SIGNER.key_id
    assert len(SIGNER.key_id) == 16
    assert SIGNER.key_id != OTHER.key_id


# == time ======================================================================================


def test_the_lease_runs_out_beyond_the_clock_skew_allowance() -> None:
    end = CLAIMS.valid_until
    assert verify(now=end + DEFAULT_SKEW)
    with pytest.raises(CertificateExpired, match="lease ended at 2030-01-08 12:00:00 UTC") as e:
        verify(now=end + DEFAULT_SKEW + dt.timedelta(seconds=1))
    assert e.value.valid_until == end
    with pytest.raises(CertificateExpired):
        verify(now=end + dt.timedelta(seconds=1), skew=dt.timedelta(0))


def test_a_certificate_from_the_future_is_not_yet_valid() -> None:
    assert verify(now=T0 - DEFAULT_SKEW)
    with pytest.raises(CertificateNotYetValid, match="clock") as e:
        verify(now=T0 - DEFAULT_SKEW - dt.timedelta(seconds=1))
    assert e.value.issued_at == T0
    assert verify(now=T0 - dt.timedelta(minutes=50), skew=MAX_SKEW)


def test_now_and_skew_are_checked() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        verify(now=dt.datetime(2030, 1, 2))
    for skew in (dt.timedelta(seconds=-1), MAX_SKEW + dt.timedelta(seconds=1), 300):
        with pytest.raises(ValidationError, match="skew must be a timedelta"):
            verify(skew=skew)


def test_without_now_the_system_clock_is_read() -> None:
    now = dt.datetime.now(dt.UTC)
    current = attrs.evolve(CLAIMS, issued_at=now, valid_until=now + dt.timedelta(days=1))
    assert verify_certificate(issue_certificate(SIGNER, current), KEYS, computer_id="SN-0001")
    past = dt.datetime(2001, 1, 1, tzinfo=dt.UTC)
    old = attrs.evolve(CLAIMS, issued_at=past, valid_until=past + dt.timedelta(days=1))
    with pytest.raises(CertificateExpired):
        verify_certificate(issue_certificate(SIGNER, old), KEYS, computer_id="SN-0001")


# == the computer ==============================================================================


def test_a_certificate_of_another_computer_is_refused() -> None:
    with pytest.raises(CertificateWrongComputer, match="issued to computer 'SN-0001'") as e:
        verify(computer_id="SN-0002")
    assert "'SN-0002'" in str(e.value)
    assert e.value.computer_id == "SN-0001"
    assert verify(computer_id="  SN-0001 ")  # spaces around, as activation ignores them
    with pytest.raises(CertificateWrongComputer):
        verify(computer_id="sn-0001")
    for empty in ("", "   ", None):
        with pytest.raises(ValidationError, match="computer_id must be non-empty text"):
            verify(computer_id=empty)


# == malformed texts and payloads ==============================================================


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is missing"),
        ("hello", "is missing"),
        ("x\n" + TEXT, "is not the first line"),
        (TEXT.replace("-----END", "-----FIN"), "does not end with"),
        (TEXT + "x", "does not end with"),
        (TEXT.replace("Key-Id: ", "Key-ID: "), "must be the key id header, 'Key-Id: '"),
        (TEXT.replace("Key-Id: ", "Key-Id:  "), "16 lowercase hexadecimal digits"),
        (TEXT.replace(f"Key-Id: {SIGNER.key_id}", f"Key-Id: {SIGNER.key_id.upper()}"), "16 lo"),
        (TEXT.replace(f"{SIGNER.key_id}\n\n", f"{SIGNER.key_id}\nX: y\n\n"), "line 3 must be"),
        ("\n".join(LINES[:PARTING] + LINES[PARTING + 1 :]), "one blank line must part"),
        (TEXT.replace("=\n-----END", "=\n\n-----END"), "one blank line must part"),
        (TEXT.replace("\n", "\r", 1), "carriage return"),
        ("\n".join([*LINES[:3], *LINES[PARTING:]]), "the payload is missing"),
        ("\n".join([*LINES[:4], LINES[4][:-1], *LINES[5:]]), "line 5 of the payload is 63"),
        ("\n".join([*LINES[:4], LINES[4] + "A", *LINES[5:]]), "line 5 of the payload is 65"),
        (TEXT + " " * verifier.MAX_CERTIFICATE_CHARS, "characters long; a certificate has"),
        (TEXT.replace("Key-Id", "Kéy-Id"), "ASCII"),
    ],
)
def test_a_malformed_text_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(CertificateMalformed, match=message):
        verify(text)


def test_text_of_another_type_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="text must be str or bytes, got int"):
        verify(42)
    with pytest.raises(CertificateMalformed, match="ASCII text, and this holds other"):
        verify("é".encode() + TEXT.encode())
    with pytest.raises(CertificateMalformed, match="characters long"):
        verify(bytearray(TEXT.encode() * (verifier.MAX_CERTIFICATE_CHARS // len(TEXT) + 1)))


def test_a_signature_of_the_wrong_length_is_malformed() -> None:
    payload = encode_claims(CLAIMS)
    with pytest.raises(CertificateMalformed, match="signature is 63 bytes long"):
        verify(armour(SIGNER.key_id, payload, bytes(63)))


def _payload(**changes: object) -> bytes:
    data = json.loads(encode_claims(CLAIMS))
    data.update(changes)
    for name in [k for k, v in changes.items() if v is ...]:
        del data[name]
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not json", "not JSON"),
        (b"[1,2]", "not a JSON object"),
        (b"[" * 5000, "not JSON"),
        (_payload(version=2), "format version 2; this verifier reads version 1"),
        (_payload(version="1"), "format version '1'"),
        (_payload(version=True), "format version True"),
        (_payload(version=...), "format version None"),
        (_payload(product=...), "missing product; unknown none"),
        (_payload(seats=5), "missing none; unknown 'seats'"),
        (_payload(product=""), "claim product must be non-empty text"),
        (_payload(computer_id=7), "claim computer_id must be non-empty text"),
        (_payload(license_state="paused"), "license state 'paused' is unknown"),
        (_payload(license_state=None), "license state None"),
        (_payload(issued_at="2030-01-01T12:00:00+00:00"), "claim issued_at must be a UTC"),
        (_payload(valid_until="2030-02-30T12:00:00Z"), "claim valid_until must be"),
        (_payload(license_expires_at=0), "claim license_expires_at must be"),
        (_payload(valid_until="2030-04-01T12:00:01Z"), "longer than the longest"),
        (_payload(valid_until="9999-12-31T23:59:59Z"), "longer than the longest"),
        (encode_claims(CLAIMS).replace(b",", b", "), "not in canonical form"),
        (encode_claims(CLAIMS)[:-1] + b',"version":1}', "not in canonical form"),
        (encode_claims(CLAIMS).replace(b"Desktop Pro", b"Desktop Pr\\u00F6"), "canonical"),
    ],
)
def test_a_signed_payload_of_the_wrong_form_is_malformed(payload: bytes, message: str) -> None:
    with pytest.raises(CertificateMalformed, match=message):
        verify(signed(payload))


def test_messages_quote_long_values_briefly() -> None:
    with pytest.raises(CertificateWrongComputer) as e:
        verify(computer_id="x" * 10_000)
    assert len(str(e.value)) < 200
    assert "10,002 characters" in str(e.value)


def test_every_refusal_is_a_licensekit_error_with_a_code() -> None:
    refusals = [
        CertificateMalformed,
        CertificateKeyUnknown,
        CertificateSignatureInvalid,
        CertificateWrongComputer,
        CertificateNotYetValid,
        CertificateExpired,
    ]
    assert all(issubclass(cls, CertificateError) for cls in refusals)
    assert issubclass(CertificateError, LicenseKitError)
    assert len({cls.code for cls in refusals}) == len(refusals)


# == issuing ===================================================================================


class KmsSigner:
    """A host's own signer, as a KMS would be wrapped: the protocol's three members."""

    def __init__(self, key_id: str | None = None, signature: object = None) -> None:
        self._key = Ed25519PrivateKey.generate()
        public = self._key.public_key().public_bytes_raw()
        self.key_id = key_id or key_id_of(public)
        self._public = public
        self._signature = signature

    def sign(self, message: bytes) -> bytes:
        if self._signature is not None:
            return self._signature  # type: ignore[return-value]
        return self._key.sign(message)

    def public_keys(self) -> dict[str, bytes]:
        return {key_id_of(self._public): self._public}


def test_a_host_signer_plugs_in() -> None:
    kms = KmsSigner()
    assert isinstance(kms, Signer)
    assert isinstance(SIGNER, Signer)
    assert verify(issue_certificate(kms, CLAIMS), kms.public_keys()).signing_key_id == kms.key_id


@pytest.mark.parametrize(
    ("signer", "message"),
    [
        (KmsSigner(key_id="kms-key-1"), "key id must be 16 lowercase hexadecimal digits"),
        (KmsSigner(signature=b"\0" * 63), "an Ed25519 signature is 64 bytes"),
        (KmsSigner(signature="sig"), "an Ed25519 signature is 64 bytes"),
    ],
)
def test_a_signer_that_misbehaves_is_refused_before_any_certificate(
    signer: KmsSigner, message: str
) -> None:
    with pytest.raises(SigningKeyError, match=message):
        issue_certificate(signer, CLAIMS)
