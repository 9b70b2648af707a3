"""Regressions found by an outside integrator wiring licensekit into web services (2026-12).

Each test is a defect met while following the documentation as a host or an adapter author
would: a request body the JSON form read wrongly, a caller's input escaping as something
other than a :class:`~licensekit.LicenseKitError`, and so on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import jsonschema
import pytest

from licensekit import LicenseKitError, MemberView, Page, Role, Session, Settings, ValidationError
from licensekit.schemas import json_schema
from licensekit.serialization import duration_from_text, from_json, to_json
from licensekit.testing import RecordingMailer, add_member, make_business_account, make_licensekit

# == from_json takes only the JSON types its schemas name =====================================

WRONG_TYPES = [
    # A settings file that says "false" in quotes must not turn a security check on or off.
    ("verified_email_to_create_accounts", "false"),
    ("member_notices", 0),
    ("max_batch_size", "5"),
    ("max_batch_size", 5.7),  # not silently truncated to 5
    ("max_batch_size", True),
    ("service_name", None),  # not the text "None"
    ("service_name", 5),
    ("service_name", ["Portal"]),
]


@pytest.mark.parametrize(("name", "value"), WRONG_TYPES)
def test_from_json_refuses_a_value_of_the_wrong_json_type_as_the_schema_does(
    name: str, value: object
) -> None:
    data = {name: value}
    schema = json_schema(Settings, mode="input")
    assert not jsonschema.Draft202012Validator(schema).is_valid(data)

    with pytest.raises(ValidationError) as caught:
        from_json(data, Settings)
    assert caught.value.field == name
    assert "expected" in str(caught.value)


def test_from_json_takes_an_integer_written_with_a_zero_fraction_as_the_schema_does() -> None:
    data = {"max_batch_size": 50.0}  # JSON Schema's "integer" admits 50.0
    assert jsonschema.Draft202012Validator(json_schema(Settings, mode="input")).is_valid(data)
    assert from_json(data, Settings).max_batch_size == 50


def test_from_json_still_reads_enums_and_the_values_it_wrote() -> None:
    assert from_json("account_administrator", Role) is Role.ACCOUNT_ADMINISTRATOR
    with pytest.raises(ValidationError):
        from_json(1, Role)
    data: dict[str, Any] = {"service_name": "Portal", "member_notices": False}
    settings = from_json(data, Settings)
    assert (settings.service_name, settings.member_notices) == ("Portal", False)


# == instants and durations out of range ======================================================


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_datetime_that_has_no_utc_instant_is_a_validation_error(text: str) -> None:
    with pytest.raises(ValidationError, match="out of range"):
        from_json(text, dt.datetime)


TOO_LONG = ["P99999999999D", "PT99999999999999999999S", "P" + "9" * 5000 + "D"]


@pytest.mark.parametrize("text", TOO_LONG)
def test_a_duration_too_long_for_a_timedelta_is_a_validation_error(text: str) -> None:
    with pytest.raises(ValidationError, match="longer than"):
        duration_from_text(text)
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    with pytest.raises(LicenseKitError) as caught:
        kit.invite_members(admin, account.id, ["ann@example.com"], expires_in=text)
    assert caught.value.http_status == 422


@pytest.mark.parametrize("text", ["P\u0663D", "PT\uff15M", "P1W\u0968D"])
def test_a_duration_takes_only_the_digits_0_to_9_as_its_schema_does(text: str) -> None:
    with pytest.raises(ValidationError, match="duration"):
        duration_from_text(text)
    assert duration_from_text("P3D") == dt.timedelta(days=3)


def test_a_datetime_with_a_lower_case_t_and_z_reads_as_rfc_3339_allows() -> None:
    expected = dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.UTC)
    assert from_json("2030-01-01t09:00:00z", dt.datetime) == expected
    assert from_json("2030-01-01T09:00:00+00:00", dt.datetime) == expected
    with pytest.raises(ValidationError, match="not an ISO 8601 datetime"):
        from_json("next tuesday", dt.datetime)


# == the test kit ============================================================================


def test_recording_mailer_refuses_one_address_given_as_a_string() -> None:
    # A string is an iterable of letters: no message would ever fail, and the host's test of
    # an undelivered invitation would pass without testing anything.
    with pytest.raises(ValidationError, match="collection of addresses") as caught:
        RecordingMailer(fail_for="ann@example.com")
    assert caught.value.field == "fail_for"
    assert RecordingMailer(fail_for=["Ann@example.com"]).fail_for == {"ann@example.com"}
    assert RecordingMailer(fail_for=(a for a in ["bob@example.com"])).fail_for == {
        "bob@example.com"
    }


@pytest.mark.parametrize(
    ("email", "why"),
    [
        ("grace@example.com", "already a member"),  # added a second time
        ("not an address", "@-sign"),
        ("bounce@example.com", "not delivered"),
    ],
)
def test_add_member_says_why_it_could_not_invite(email: str, why: str) -> None:
    kit = make_licensekit(mailer=RecordingMailer(fail_for=["bounce@example.com"]))
    admin, account = make_business_account(kit)
    add_member(kit, admin, account.id, "grace@example.com")
    # It used to fail later, with an unrelated InvitationAlreadyAccepted or NotFound.
    with pytest.raises(ValidationError, match=why) as caught:
        add_member(kit, admin, account.id, email)
    assert caught.value.field == "email"


# == where a nested value is at fault ========================================================


@pytest.mark.parametrize(
    ("member", "value"),
    [("role", "king"), ("joined_at", "yesterday"), ("email", 5), ("unknown", 1)],
)
def test_a_fault_in_a_list_item_names_the_item_by_its_index(member: str, value: object) -> None:
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    add_member(kit, admin, account.id, "grace@example.com")
    data = to_json(kit.list_members(admin, account.id))
    data["items"][1][member] = value
    with pytest.raises(ValidationError) as caught:
        from_json(data, Page[MemberView])
    # It used to be "items" for some faults and "items.joined_at" (no index) for others.
    expected = "items.1" if member == "unknown" else f"items.1.{member}"
    assert caught.value.field == expected
    assert f"@ $.items[1]{'' if member == 'unknown' else '.' + member}" in str(caught.value)


def test_a_fault_in_a_mapping_value_names_its_key() -> None:
    kit = make_licensekit()
    admin, _ = make_business_account(kit)
    data = to_json(admin, include_secrets={"token"})
    with pytest.raises(ValidationError) as caught:
        from_json({**data, "roles": {"acc_1": "king"}}, Session)
    assert caught.value.field == "roles.acc_1"


@pytest.mark.parametrize(
    "name", ["a @ $['\\N{x']", "a @ $[" + "9" * 5000 + "]", "a @ $.session_lifetime"]
)
def test_an_unknown_member_named_like_a_path_is_a_validation_error(name: str) -> None:
    # The field is found from cattrs's notes, not from its messages, which quote the name.
    with pytest.raises(ValidationError) as caught:
        from_json({"password_throttle": {name: 1}}, Settings)
    assert caught.value.field == "password_throttle"
    with pytest.raises(ValidationError) as caught:
        from_json({name: 1}, Settings)
    assert caught.value.field is None


# == json_schema names the same secrets to_json does =========================================


@pytest.mark.parametrize("named", ["token", {"tokn"}, {"installation_token"}])
def test_json_schema_refuses_secrets_that_to_json_refuses(named: Any) -> None:
    kit = make_licensekit()
    admin, _ = make_business_account(kit)
    with pytest.raises(ValidationError) as sent:
        to_json(admin, include_secrets=named)
    # It used to describe a session without its token, silently: a handler sending the
    # token (with the right name) then answered with a body its own schema refused.
    with pytest.raises(ValidationError) as described:
        json_schema(Session, include_secrets=named)
    assert described.value.field == sent.value.field == "include_secrets"
    assert str(described.value) == str(sent.value)


def test_json_schema_describes_the_token_to_json_sends() -> None:
    kit = make_licensekit()
    admin, _ = make_business_account(kit)
    body = to_json(admin, include_secrets=["token"])
    schema = json_schema(Session, include_secrets=["token"])
    jsonschema.Draft202012Validator(schema).validate(body)
    with pytest.raises(ValidationError, match=r"tuple\[Session, \.\.\.\] does not hold"):
        json_schema(tuple[Session, ...], include_secrets={"installation_token"})
