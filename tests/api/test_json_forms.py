"""Every result and input type has a JSON form and a JSON Schema that describes it (issue 19).

The instances come from real use cases; each one's JSON form must validate against its
schema, hold no hash and no token unless the token is asked for by name, and read back as
the same value.
"""

from __future__ import annotations

import datetime as dt
import enum
import inspect
import json
import re
import typing
from typing import Any

import attrs
import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

import licensekit
from licensekit import (
    ActivationResult,
    Argon2Parameters,
    InstallInvitationState,
    InvitationState,
    LicenseKit,
    LicenseKitError,
    Page,
    PasswordHasher,
    PasswordPolicy,
    Role,
    Session,
    Settings,
    ThrottlePolicy,
    User,
    UserView,
    ValidationError,
    parse_email_csv,
)
from licensekit import exceptions as errors
from licensekit.model import MemberView
from licensekit.schemas import (
    DIALECT,
    INPUT_TYPES,
    RESULT_TYPES,
    _name,
    error_schema,
    json_schema,
    openapi_components,
)
from licensekit.serialization import (
    duration_from_text,
    duration_text,
    from_json,
    secret_fields,
    structure,
    to_json,
    unstructure,
)
from licensekit.signing import Ed25519Signer
from licensekit.testing import (
    TEST_PASSWORD,
    RecordingMailer,
    add_member,
    make_business_account,
    make_licensekit,
)

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)")
FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time")
def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or RFC3339.fullmatch(value) is not None


@FORMATS.checks("duration", raises=ValidationError)
def _is_duration(value: object) -> bool:
    return not isinstance(value, str) or isinstance(duration_from_text(value), dt.timedelta)


def validate(instance: object, schema: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema, format_checker=FORMATS).validate(instance)


# == real results of real use cases ===========================================================


def _real_results() -> dict[Any, object]:
    """One value of each result type, each returned by the use case that makes it."""
    mailer = RecordingMailer(fail_for={"bounce@example.com"})
    kit = make_licensekit(mailer=mailer, signer=Ed25519Signer.generate())
    admin, account = make_business_account(kit)
    member = add_member(kit, admin, account.id, "member@example.com")
    joins = kit.invite_members(
        admin, account.id, ["grace@example.com", "not an address", "bounce@example.com"]
    )
    join = joins.invited[0]
    key = kit.add_license_key(
        admin,
        account.id,
        product="Desktop Pro",
        value="ABCD-1234-EFGH",
        seats=3,
        expires_at=kit.clock.now() + dt.timedelta(days=365),
    )
    spare = kit.add_license_key(
        admin, account.id, product="Desktop Pro", value="SPARE-0001", seats=3
    )
    installs = kit.invite_installers(
        admin, account.id, key.id, csv="email\r\nann@example.com\r\nnope\r\nbounce@example.com\r\n"
    )
    letter = mailer.last(to="ann@example.com")
    activation = kit.activate(code=letter.data["code"], computer_id="pc-1", computer_name="Ann")
    kit.clock.advance(hours=6)
    checked_in = kit.check_in(activation.installation_token)
    installation = checked_in.installation
    block = kit.block_computer(admin, account.id, activation.installation_id, notes="lost")
    kit.invite_members(admin, account.id, ["later@example.com"], send=False)
    kit.invite_installers(admin, account.id, key.id, ["later@example.com"], send=False)
    again = kit.invite_installers(admin, account.id, key.id, ["again@example.com"]).invited[0]
    kit.clock.advance(hours=1)
    return {
        licensekit.AccountMembership: kit.list_my_accounts(member)[0],
        tuple[licensekit.AccountMembership, ...]: kit.list_my_accounts(admin),
        ActivationResult: activation,
        licensekit.CheckInResult: checked_in,
        licensekit.CullReport: kit.cull_installations(),
        licensekit.CsvPage: kit.export_installations(admin, account.id, include_inactive=True),
        licensekit.BusinessAccount: account,
        licensekit.ComputerBlock: block,
        licensekit.DeliveryReport[licensekit.InstallInvitationView]: (
            kit.send_install_invitations(admin, account.id, key.id)
        ),
        licensekit.DeliveryReport[licensekit.JoinInvitationView]: (
            kit.send_join_invitations(admin, account.id)
        ),
        licensekit.EmailList: parse_email_csv("a@example.com\nA@example.com\nbad\n"),
        licensekit.InstallInvitationBatch: installs,
        licensekit.InstallInvitationPreview: kit.describe_install_invitation(letter.data["token"]),
        licensekit.InstallInvitationView: kit.resend_install_invitation(
            admin, account.id, again.id
        ),
        licensekit.InstallationView: installation,
        licensekit.InvitationPreview: kit.describe_join_invitation(
            mailer.last_token(to="grace@example.com")
        ),
        licensekit.JoinInvitationBatch: joins,
        licensekit.JoinInvitationView: kit.revoke_join_invitation(admin, account.id, join.id),
        licensekit.LicenseKeyView: kit.get_license_key(admin, account.id, key.id),
        licensekit.SeatPoolView: kit.get_seat_pool(admin, account.id, key.id),
        licensekit.MoveReport: kit.move_installations(admin, account.id, key.id, spare.id),
        MemberView: kit.grant_license_administrator(admin, account.id, member.user_id, key.id),
        Page[licensekit.AuditEvent]: kit.list_audit_events(admin, account.id, limit=3),
        Page[licensekit.ComputerBlock]: kit.list_blocked_computers(admin, account.id),
        Page[licensekit.InstallInvitationView]: kit.list_install_invitations(
            admin, account.id, key.id
        ),
        Page[licensekit.InstallationView]: kit.list_installations(
            admin, account.id, key.id, include_inactive=True
        ),
        Page[licensekit.JoinInvitationView]: kit.list_join_invitations(admin, account.id),
        Page[licensekit.LicenseKeyView]: kit.list_license_keys(admin, account.id),
        Page[MemberView]: kit.list_members(admin, account.id, limit=1),
        licensekit.PurgeReport: kit.purge_expired(),
        Session: kit.log_in("member@example.com", TEST_PASSWORD),
        UserView: kit.current_user(member),
    }


@pytest.fixture(scope="module")
def results() -> dict[Any, object]:
    return _real_results()


def _id(kind: Any) -> str:
    return re.sub(r"\W+", "_", repr(kind).replace("licensekit.", "")).strip("_")


def test_a_real_value_is_made_for_every_result_type(results):
    assert set(results) == set(RESULT_TYPES)


@pytest.mark.parametrize("kind", RESULT_TYPES, ids=_id)
def test_the_json_form_of_a_real_result_matches_its_schema(kind, results):
    data = to_json(results[kind])
    assert json.loads(json.dumps(data)) == data
    validate(data, json_schema(kind))


@pytest.mark.parametrize("kind", RESULT_TYPES, ids=_id)
def test_a_result_reads_back_from_its_json_form_with_its_secrets(kind, results):
    value = results[kind]
    data = to_json(value, include_secrets=secret_fields(kind))
    validate(data, json_schema(kind, include_secrets=secret_fields(kind)))
    assert from_json(json.loads(json.dumps(data)), kind) == value


@pytest.mark.parametrize("kind", RESULT_TYPES, ids=_id)
def test_the_json_form_holds_no_hash_and_no_token_unasked(kind, results):
    text = json.dumps(to_json(results[kind]))
    assert "hash" not in text
    assert "ciphertext" not in text
    assert '"token"' not in text
    assert "installation_token" not in text
    assert "ABCD-1234-EFGH" not in text  # the license key's value
    assert "$argon2" not in text


def test_a_token_is_in_the_json_form_only_when_named(results):
    session, result = results[Session], results[ActivationResult]
    assert isinstance(session, Session)
    assert isinstance(result, ActivationResult)
    assert to_json(session, include_secrets={"token"})["token"] == session.token
    assert session.token not in json.dumps(to_json(session))
    data = to_json(result, include_secrets=["installation_token"])
    assert data["installation_token"] == result.installation_token
    assert "token" not in json_schema(Session)["properties"]
    assert "token" in json_schema(Session, include_secrets={"token"})["required"]


@pytest.mark.parametrize("names", ["token", {"installation_token"}, {"password_hash"}, [1]])
def test_include_secrets_must_name_secrets_the_value_holds(names, results):
    with pytest.raises(ValidationError) as refused:
        to_json(results[Session], include_secrets=names)
    assert refused.value.field == "include_secrets"


def test_a_stored_record_never_shows_its_hashes():
    user = User(
        id="usr_1",
        email="ann@example.com",
        created_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        password_hash="$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA",
    )
    assert "password_hash" not in to_json(user)
    assert "password_hash" not in json_schema(User)["properties"]
    with pytest.raises(ValidationError):
        to_json(user, include_secrets={"password_hash"})


# == inputs ===================================================================================

INPUTS: dict[Any, object] = {
    Argon2Parameters: Argon2Parameters(memory_cost_kib=65536, iterations=3, lanes=4),
    InstallInvitationState: InstallInvitationState.ACTIVATED,
    InvitationState: InvitationState.EXPIRED,
    PasswordHasher: PasswordHasher(policy=PasswordPolicy(min_length=12)),
    PasswordPolicy: PasswordPolicy(min_length=12, max_length=128),
    Role: Role.ACCOUNT_ADMINISTRATOR,
    licensekit.SeatPool: licensekit.SeatPool.RESERVED,
    Settings: Settings(
        service_name="Example Portal",
        session_lifetime=dt.timedelta(hours=8, minutes=30),
        password_throttle=ThrottlePolicy(max_failures=3, lockout=dt.timedelta(seconds=90.5)),
        reset_notice_for_unknown_addresses=False,
    ),
    ThrottlePolicy: ThrottlePolicy(max_failures=7, window=dt.timedelta(days=1)),
}


def test_an_example_is_given_for_every_input_type():
    assert set(INPUTS) == set(INPUT_TYPES)


@pytest.mark.parametrize("kind", INPUT_TYPES, ids=_id)
def test_an_input_round_trips_through_its_json_form(kind):
    value = INPUTS[kind]
    data = json.loads(json.dumps(to_json(value)))
    validate(data, json_schema(kind))
    validate(data, json_schema(kind, mode="input"))
    assert from_json(data, kind) == value


@pytest.mark.parametrize("kind", INPUT_TYPES, ids=_id)
def test_an_input_round_trips_through_the_record_form_too(kind):
    value = INPUTS[kind]
    assert structure(json.loads(json.dumps(unstructure(value))), kind) == value


@pytest.mark.parametrize("kind", [k for k in INPUT_TYPES if attrs.has(k)], ids=_id)
def test_an_empty_object_is_valid_input_for_a_class_whose_fields_have_defaults(kind):
    schema = json_schema(kind, mode="input")
    validate({}, schema)
    assert from_json({}, kind) == kind()
    for name, field in schema["properties"].items():
        assert from_json({name: field["default"]}, kind) == kind()


def test_settings_read_from_a_file_name_the_field_at_fault():
    with pytest.raises(ValidationError) as refused:
        from_json({"password_throttle": {"window": "PT0S"}}, Settings)
    assert refused.value.field == "password_throttle.window"
    with pytest.raises(ValidationError) as refused:
        from_json({"session_lifetime": "P1M"}, Settings)  # a month has no fixed length
    assert refused.value.field == "session_lifetime"
    with pytest.raises(ValidationError) as refused:
        from_json({"max_page_size": "many"}, Settings)
    assert refused.value.field == "max_page_size"
    with pytest.raises(ValidationError):
        from_json({"max_page_size": 10, "colour": "red"}, Settings)


def test_the_schema_refuses_what_from_json_refuses():
    schema = json_schema(Settings, mode="input")
    validator = jsonschema.Draft202012Validator(schema, format_checker=FORMATS)
    for data in ({"colour": "red"}, {"session_lifetime": "P1M"}, {"max_page_size": "x"}):
        assert not validator.is_valid(data)


@given(st.timedeltas(min_value=dt.timedelta(days=-1000), max_value=dt.timedelta(days=100_000)))
def test_durations_read_back_exactly(value):
    text = duration_text(value)
    assert duration_from_text(text) == value
    assert re.search(json_schema(dt.timedelta)["pattern"], text)


@pytest.mark.parametrize("text", ["", "P", "PT", "P1Y", "P1M", "P1DT", "PT1.5H", "7 days", 7])
def test_durations_in_years_months_or_other_forms_are_refused(text):
    with pytest.raises(ValidationError):
        duration_from_text(text)


# == every public type is covered =============================================================


def _closure(kinds: typing.Iterable[Any]) -> set[Any]:
    """The attrs classes and enums of *kinds* and of every field they hold."""
    found: set[Any] = set()
    pending = list(kinds)
    while pending:
        kind = pending.pop()
        origin = typing.get_origin(kind) or kind
        pending.extend(a for a in typing.get_args(kind) if a is not Ellipsis)
        if origin in found or not isinstance(origin, type):
            continue
        if issubclass(origin, enum.Enum):
            found.add(origin)
        elif attrs.has(origin):
            found.add(origin)
            pending.extend(typing.get_type_hints(origin).values())
    return found


def _annotations(function: Any) -> list[Any]:
    hints = typing.get_type_hints(function)
    return [hints[name] for name in hints]


def test_every_type_a_use_case_returns_has_a_schema():
    returned = {
        typing.get_type_hints(method)["return"]
        for name, method in inspect.getmembers(LicenseKit, inspect.isfunction)
        if not name.startswith("_")
    }
    described = {kind for kind in returned if _closure([kind])}
    assert described <= set(RESULT_TYPES)


def test_every_class_or_enum_a_use_case_takes_has_a_schema():
    taken = _closure(
        hint
        for name, method in inspect.getmembers(LicenseKit, inspect.isfunction)
        if not name.startswith("_") or name == "__init__"
        for hint in _annotations(method)
    )
    assert taken <= _closure([*INPUT_TYPES, *RESULT_TYPES])


def test_every_public_class_and_enum_is_described_or_is_a_port():
    public = {
        value
        for name in licensekit.__all__
        if isinstance(value := getattr(licensekit, name), type)
        and (attrs.has(value) or issubclass(value, enum.Enum))
    }
    ports = {User, licensekit.Message, licensekit.MessageKind}  # for stores and mailers
    assert public - ports <= _closure([*INPUT_TYPES, *RESULT_TYPES])


# == the schemas themselves ===================================================================


def test_a_generic_class_needs_its_arguments():
    with pytest.raises(TypeError, match="Page"):
        json_schema(Page)


def test_references_can_point_into_an_openapi_document():
    schema = json_schema(Page[MemberView], ref_template="#/components/schemas/{name}")
    member = schema["properties"]["items"]["items"]
    assert member == {"$ref": "#/components/schemas/MemberView"}
    assert set(schema["$defs"]) == {"MemberView", "MemberStatus", "Role", "DeliveryStatus"}


def test_fields_carry_their_documentation():
    schema = json_schema(licensekit.LicenseKeyView)
    assert schema["description"] == "A license key as listed to its administrators."
    assert "last four characters" in schema["properties"]["masked_value"]["description"]
    member = json_schema(MemberView)["properties"]["license_keys"]["description"]
    assert member.startswith("Ids of the keys")


@pytest.mark.parametrize(
    "cls",
    [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, LicenseKitError)],
    ids=lambda c: c.__name__,
)
def test_every_error_body_matches_the_error_schema(cls):
    if cls is errors.TooManyAttempts:
        error: LicenseKitError = cls("x", dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    elif cls is errors.InvalidEmail:
        error = cls("x", "no @")
    elif cls is errors.SeatsFull:
        error = cls("full", seats=1)
    else:
        error = cls("limit must be 1")
    validate(error.to_dict(), error_schema())


@pytest.mark.parametrize(
    "kind", [k for k in RESULT_TYPES if typing.get_origin(k) is not tuple], ids=_id
)
def test_a_result_validates_against_the_openapi_components(kind, results):
    """Every $ref of the components resolves inside them, as it would in an OpenAPI document."""
    components = openapi_components()
    document = {
        "$schema": DIALECT,
        "$ref": f"#/components/schemas/{_name(kind)}",
        "components": {"schemas": components},
    }
    validate(to_json(results[kind]), document)


def test_the_openapi_components_describe_inputs_as_inputs_and_errors():
    components = openapi_components()
    assert "default" in components["Settings"]["properties"]["session_lifetime"]
    assert components["Settings"]["required"] == []
    assert components["LicenseKitError"] == {
        key: value for key, value in error_schema().items() if key != "$schema"
    }


def test_containers_and_unions_have_their_schemas():
    builder_schema = json_schema(tuple[int, str | None])
    assert builder_schema["prefixItems"] == [
        {"type": "integer"},
        {"anyOf": [{"type": "string"}, {"type": "null"}]},
    ]
    assert builder_schema["minItems"] == builder_schema["maxItems"] == 2
    assert json_schema(frozenset[str])["uniqueItems"] is True
    assert json_schema(dict[str, Role])["additionalProperties"] == {"$ref": "#/$defs/Role"}
    stored = json_schema(licensekit.model.Membership)
    assert stored["properties"]["license_keys"]["uniqueItems"] is True


@pytest.mark.parametrize("kind", [object, complex, dict[int, str], typing.Any])
def test_a_type_without_a_json_form_is_refused(kind):
    with pytest.raises(TypeError, match="no JSON form"):
        json_schema(kind)


def test_two_types_of_one_name_are_refused():
    other_role = enum.Enum("Role", {"OWNER": "owner"})  # not licensekit's
    both = attrs.make_class("Both", {"ours": attrs.field(), "theirs": attrs.field()})
    both.__annotations__ = {"ours": Role, "theirs": other_role}
    with pytest.raises(TypeError, match="both called Role"):
        json_schema(both)


def test_secrets_are_found_inside_collections(results):
    activation = results[ActivationResult]
    data = to_json([activation], include_secrets={"installation_token"})
    assert data[0]["installation_token"] == activation.installation_token
    assert (
        "installation_token"
        in to_json({"a": activation}, include_secrets={"installation_token"})["a"]
    )
