"""Certificate claims and their written forms (licensekit.domain.certificates), without keys:
the rules of the claims, the lease's bounds, canonical bytes, and the armour's layout."""

from __future__ import annotations

import base64
import datetime as dt
import json

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from _certificates import T0, claims
from licensekit.domain.certificates import (
    ARMOUR_BEGIN,
    ARMOUR_END,
    CLAIM_FIELDS,
    DEFAULT_LEASE,
    MAX_LEASE,
    MIN_LEASE,
    SIGNATURE_PREFIX,
    CertificateClaims,
    LicenseState,
    armour,
    check_lease,
    encode_claims,
    signed_message,
)
from licensekit.exceptions import ValidationError

# == the claims ==============================================================================


def test_a_lease_is_seven_days_by_default() -> None:
    made = claims()
    assert dt.timedelta(days=7) == DEFAULT_LEASE
    assert made.valid_until - made.issued_at == DEFAULT_LEASE
    assert made.license_state is LicenseState.ACTIVE
    assert made.version == 1
    assert made.license_expires_at is None


@pytest.mark.parametrize("lease", [MIN_LEASE, dt.timedelta(days=30), MAX_LEASE])
def test_a_lease_from_one_hour_to_ninety_days_is_accepted(lease: dt.timedelta) -> None:
    assert claims(lease=lease).valid_until == T0 + lease
    assert check_lease(lease) == lease


@pytest.mark.parametrize(
    "lease",
    [
        MIN_LEASE - dt.timedelta(seconds=1),
        dt.timedelta(0),
        -DEFAULT_LEASE,
        MAX_LEASE + dt.timedelta(seconds=1),
        3600,
        "P7D",
    ],
)
def test_a_lease_out_of_bounds_is_refused(lease: object) -> None:
    with pytest.raises(ValidationError, match="lease must be a timedelta of 1 hour to 90 days"):
        claims(lease=lease)
    with pytest.raises(ValidationError) as refused:
        check_lease(lease)
    assert refused.value.field == "lease"


def test_claims_made_directly_keep_the_lease_bounds_too() -> None:
    made = claims()
    too_long = made.issued_at + dt.timedelta(days=90, seconds=1)
    with pytest.raises(ValidationError, match="after issued_at by at most 90 days") as e:
        attrs.evolve(made, valid_until=too_long)
    assert e.value.field == "valid_until"
    for end in (made.issued_at, made.issued_at - dt.timedelta(days=1)):
        with pytest.raises(ValidationError, match="valid_until"):
            attrs.evolve(made, valid_until=end)
    # Shorter than the least lease a host may choose: a license ending soon cuts it short.
    short = attrs.evolve(made, valid_until=made.issued_at + dt.timedelta(minutes=59))
    assert short.valid_until - short.issued_at == dt.timedelta(minutes=59)


def test_a_lease_stops_at_the_end_of_the_license() -> None:
    end = T0 + dt.timedelta(days=2, seconds=30, microseconds=5)
    made = claims(not_after=end)
    assert made.valid_until == end.replace(microsecond=0)
    later = claims(not_after=T0 + dt.timedelta(days=30))
    assert later.valid_until == T0 + DEFAULT_LEASE
    with pytest.raises(ValidationError, match="valid_until"):
        claims(not_after=T0)


def test_instants_are_kept_in_utc_to_the_second() -> None:
    tokyo = dt.timezone(dt.timedelta(hours=9))
    made = claims(issued_at=dt.datetime(2030, 1, 1, 21, 0, 0, 999_999, tzinfo=tokyo))
    assert made.issued_at == T0
    assert made.issued_at.tzinfo is dt.UTC
    assert made.issued_at.microsecond == 0


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        claims(issued_at=dt.datetime(2030, 1, 1))
    with pytest.raises(ValidationError, match="timezone-aware"):
        claims(license_expires_at="2031-01-01")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("computer_id", ""),
        ("computer_id", " SN-1"),
        ("computer_id", "SN\n1"),
        ("product", "x" * 201),
        ("installation_id", 5),
        ("account_id", None),
    ],
)
def test_texts_must_be_printable_and_short(name: str, value: object) -> None:
    with pytest.raises(ValidationError) as refused:
        claims(**{name: value})
    assert refused.value.field == name


def test_the_state_and_version_are_checked() -> None:
    assert claims(license_state="grace").license_state is LicenseState.GRACE
    with pytest.raises(ValidationError, match="license_state must be one of active, grace"):
        claims(license_state="paused")
    with pytest.raises(ValidationError, match="version must be 1"):
        attrs.evolve(claims(), version=2)
    with pytest.raises(ValidationError, match="version must be 1"):
        attrs.evolve(claims(), version=True)


def test_the_states_are_those_of_the_installed_products_rules() -> None:
    """ARCHITECTURE.md: active, grace, expired, suspended, removed, deactivated, blocked."""
    assert [s.value for s in LicenseState] == [
        "active",
        "grace",
        "expired",
        "suspended",
        "removed",
        "deactivated",
        "blocked",
    ]


# == canonical bytes =========================================================================

GOLDEN = (
    b'{"account_id":"acc_1","computer_id":"SN-0001","installation_id":"ins_1",'
    b'"issued_at":"2030-01-01T12:00:00Z","license_expires_at":"2031-01-01T00:00:00Z",'
    b'"license_key_id":"key_1","license_state":"grace","product":"Desktop Pr\\u00f6",'
    b'"valid_until":"2030-01-08T12:00:00Z","version":1}'
)


def test_the_payload_is_pinned() -> None:
    """A change to these bytes is a change of format: it needs a new version."""
    made = claims(
        product="Desktop Prö",
        license_expires_at=dt.datetime(2031, 1, 1, tzinfo=dt.UTC),
        license_state=LicenseState.GRACE,
    )
    assert encode_claims(made) == GOLDEN


def test_the_payload_has_every_claim_once_sorted_compact_and_ascii() -> None:
    payload = encode_claims(claims())
    assert payload.isascii()
    assert b" " not in payload.replace(b"Desktop Pro", b"")
    data = json.loads(payload)
    assert list(data) == sorted(CLAIM_FIELDS)
    assert data["license_expires_at"] is None


texts = st.text(min_size=1, max_size=40).filter(lambda s: s.isprintable() and s == s.strip())
instants = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),  # hypothesis adds the zones
    max_value=dt.datetime(2200, 1, 1),
    timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-5, minutes=-30))]),
)


@given(
    computer_id=texts,
    product=texts,
    issued_at=instants,
    lease=st.timedeltas(min_value=MIN_LEASE, max_value=MAX_LEASE),
    state=st.sampled_from(LicenseState),
    expires=st.none() | instants,
)
def test_equal_claims_give_equal_bytes_and_the_bytes_name_every_claim(
    computer_id: str,
    product: str,
    issued_at: dt.datetime,
    lease: dt.timedelta,
    state: LicenseState,
    expires: dt.datetime | None,
) -> None:
    made = claims(
        computer_id=computer_id,
        product=product,
        issued_at=issued_at,
        lease=lease,
        license_state=state,
        license_expires_at=expires,
    )
    again = CertificateClaims(**attrs.asdict(made, recurse=False))
    assert again == made
    assert encode_claims(again) == encode_claims(made)
    data = json.loads(encode_claims(made))
    assert (data["computer_id"], data["product"], data["license_state"]) == (
        computer_id,
        product,
        state.value,
    )
    assert dt.datetime.fromisoformat(data["issued_at"]) == made.issued_at


# == the signed message and the armour =======================================================


def test_the_signed_message_is_prefixed_and_names_the_key() -> None:
    message = signed_message("0123456789abcdef", b"{}")
    assert message == b"licensekit certificate v1\x000123456789abcdef\x00{}"
    assert message.startswith(SIGNATURE_PREFIX)
    assert signed_message("fedcba9876543210", b"{}") != message


def test_the_armour_is_laid_out_as_documented() -> None:
    payload = encode_claims(claims())
    signature = bytes(range(64))
    text = armour("0123456789abcdef", payload, signature)
    lines = text.split("\n")
    assert text.endswith("-----\n")
    assert lines[0] == ARMOUR_BEGIN
    assert lines[1] == "Key-Id: 0123456789abcdef"
    assert lines[2] == ""
    assert lines[-2] == ARMOUR_END
    body = lines[3:-2]
    parting = body.index("")
    payload_lines, signature_lines = body[:parting], body[parting + 1 :]
    assert all(len(line) == 64 for line in payload_lines[:-1])
    assert 0 < len(payload_lines[-1]) <= 64
    assert [len(line) for line in signature_lines] == [64, 24]
    assert base64.b64decode("".join(payload_lines)) == payload
    assert base64.b64decode("".join(signature_lines)) == signature
