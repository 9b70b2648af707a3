"""Unit tests of the plain-data converter in licensekit.serialization."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from licensekit import ValidationError
from licensekit.model import (
    AuditAction,
    AuditEvent,
    BusinessAccount,
    InvitationState,
    JoinInvitation,
    JoinInvitationView,
    Membership,
    MemberStatus,
    MemberView,
    Page,
    Role,
    Session,
    SessionMethod,
    SessionRecord,
    Throttle,
    User,
)
from licensekit.serialization import make_converter, structure, unstructure

T0 = dt.datetime(2030, 1, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)
WINDOW = dt.timedelta(minutes=15)

# -- strategies ---------------------------------------------------------------------------

aware = st.datetimes(
    min_value=dt.datetime(1970, 1, 1),
    max_value=dt.datetime(2200, 1, 1),
    timezones=st.just(dt.UTC),
)
maybe_aware = st.none() | aware
text = st.text(max_size=20)
maybe_text = st.none() | text
blobs = st.binary(max_size=40)
roles = st.dictionaries(text, st.sampled_from(Role), max_size=3)
grants = st.dictionaries(text, st.integers(min_value=0, max_value=1000), max_size=3)

users = st.builds(User, id=text, email=text, created_at=aware, password_hash=maybe_text, name=text)
accounts = st.builds(BusinessAccount, id=text, name=text, created_at=aware, created_by=text)
memberships = st.builds(
    Membership,
    account_id=text,
    user_id=text,
    role=st.sampled_from(Role),
    status=st.sampled_from(MemberStatus),
    joined_at=aware,
    updated_at=aware,
    changed_by=maybe_text,
    notes=text,
    admin_grant=st.integers(min_value=0, max_value=10**6),
)
join_invitations = st.builds(
    JoinInvitation,
    id=text,
    account_id=text,
    email=text,
    language=text,
    invited_by=text,
    created_at=aware,
    expires_at=aware,
    token_hash=blobs,
    token_ciphertext=blobs,
    accepted_at=maybe_aware,
    accepted_by=maybe_text,
    revoked_at=maybe_aware,
    revoked_by=maybe_text,
    sent_count=st.integers(min_value=0, max_value=10**6),
    last_sent_at=maybe_aware,
)
session_records = st.builds(
    SessionRecord,
    id=text,
    token_hash=blobs,
    user_id=text,
    method=st.sampled_from(SessionMethod),
    issued_at=aware,
    expires_at=aware,
    admin_grants=grants,
)
sessions = st.builds(
    Session,
    token=text,
    id=text,
    user_id=text,
    email=text,
    method=st.sampled_from(SessionMethod),
    issued_at=aware,
    expires_at=aware,
    roles=roles,
)
audit_events = st.builds(
    AuditEvent,
    id=text,
    account_id=text,
    at=aware,
    actor_id=text,
    action=st.sampled_from(AuditAction),
    subject=text,
    details=st.dictionaries(text, text, max_size=3),
)
throttles = st.builds(
    Throttle,
    key=text,
    failures=st.integers(min_value=0, max_value=100),
    window_started_at=aware,
    expires_at=aware,
    locked_until=maybe_aware,
)
member_views = st.builds(
    MemberView,
    user_id=text,
    email=text,
    name=text,
    role=st.sampled_from(Role),
    status=st.sampled_from(MemberStatus),
    joined_at=aware,
    updated_at=aware,
    changed_by=maybe_text,
    notes=text,
)
join_invitation_views = st.builds(
    JoinInvitationView,
    id=text,
    account_id=text,
    email=text,
    language=text,
    state=st.sampled_from(InvitationState),
    invited_by=text,
    created_at=aware,
    expires_at=aware,
    sent_count=st.integers(min_value=0, max_value=10**6),
    last_sent_at=maybe_aware,
    accepted_at=maybe_aware,
    revoked_at=maybe_aware,
)

RECORD_STRATEGIES = [
    (User, users),
    (BusinessAccount, accounts),
    (Membership, memberships),
    (JoinInvitation, join_invitations),
    (SessionRecord, session_records),
    (Session, sessions),
    (AuditEvent, audit_events),
    (Throttle, throttles),
    (MemberView, member_views),
    (JoinInvitationView, join_invitation_views),
]


def invitation() -> JoinInvitation:
    return JoinInvitation(
        id="inv_1",
        account_id="acc_1",
        email="ann@example.com",
        language="en",
        invited_by="usr_1",
        created_at=T0,
        expires_at=T0 + dt.timedelta(days=7),
        token_hash=b"\x00\xfb\xff",
        token_ciphertext=b"cipher",
    )


def throttle_data(**changes: Any) -> dict[str, Any]:
    data = unstructure(Throttle(key="k", failures=1, window_started_at=T0, expires_at=T0 + WINDOW))
    data.update(changes)
    return data


# -- round trips ---------------------------------------------------------------------------


class TestRoundTrip:
    @pytest.mark.parametrize(
        ("record_type", "strategy"),
        RECORD_STRATEGIES,
        ids=[t.__name__ for t, _ in RECORD_STRATEGIES],
    )
    @given(data=st.data())
    def test_every_record_type_round_trips_through_json(
        self, record_type: type, strategy: st.SearchStrategy[Any], data: st.DataObject
    ) -> None:
        record = data.draw(strategy)
        plain = json.loads(json.dumps(unstructure(record)))
        if record_type is Session:  # its bearer token is left out, and added back by name
            plain["token"] = record.token
        assert structure(plain, record_type) == record

    def test_page_of_views_round_trips(self) -> None:
        view = MemberView(
            user_id="usr_1",
            email="ann@example.com",
            name="Ann",
            role=Role.ACCOUNT_ADMINISTRATOR,
            status=MemberStatus.ACTIVE,
            joined_at=T0,
            updated_at=T0,
            changed_by=None,
            notes="",
        )
        page = Page(items=(view, view), next_cursor="abc")
        assert structure(json.loads(json.dumps(unstructure(page))), Page[MemberView]) == page

    def test_collections_of_records_round_trip(self) -> None:
        records = [invitation(), invitation()]
        assert structure(unstructure(records), list[JoinInvitation]) == records

    def test_structured_datetimes_are_utc(self) -> None:
        data = throttle_data(window_started_at="2030-01-01T14:00:00+02:00")
        moment = structure(data, Throttle).window_started_at
        assert moment == dt.datetime(2030, 1, 1, 12, tzinfo=dt.UTC)
        assert moment.utcoffset() == dt.timedelta(0)

    def test_make_converter_returns_independent_converters(self) -> None:
        """A hook a host registers on its converter does not leak into another one."""
        mine, other = make_converter(), make_converter()
        mine.register_unstructure_hook(Role, lambda role: role.name)
        assert mine.unstructure(Role.ACCOUNT_ADMINISTRATOR) == "ACCOUNT_ADMINISTRATOR"
        assert other.unstructure(Role.ACCOUNT_ADMINISTRATOR) == "account_administrator"


# -- plain shapes --------------------------------------------------------------------------


class TestPlainShapes:
    def test_datetimes_become_iso_strings_with_offset(self) -> None:
        data = unstructure(invitation())
        assert data["created_at"] == "2030-01-01T12:00:00.123456+00:00"
        assert data["accepted_at"] is None

    def test_bytes_become_unpadded_url_safe_base64(self) -> None:
        data = unstructure(invitation())
        assert data["token_hash"] == "APv_"
        assert data["token_ciphertext"] == "Y2lwaGVy"
        assert data["token_ciphertext"] == base64.urlsafe_b64encode(b"cipher").decode()
        one_byte = unstructure(attrs.evolve(invitation(), token_hash=b"\x00"))
        assert one_byte["token_hash"] == "AA"

    def test_enums_become_their_values(self) -> None:
        event = AuditEvent(
            id="evt_1",
            account_id="acc_1",
            at=T0,
            actor_id="usr_1",
            action=AuditAction.ROLE_CHANGED,
            subject="usr_2",
            details={"old": "regular_member"},
        )
        data = unstructure(event)
        assert data["action"] == "member.role_changed"
        assert data["details"] == {"old": "regular_member"}

    def test_session_roles_become_a_plain_dict_of_values(self) -> None:
        session = Session(
            token="t",
            id="ses_1",
            user_id="usr_1",
            email="a@example.com",
            method=SessionMethod.PASSWORD,
            issued_at=T0,
            expires_at=T0,
            roles={"acc_1": Role.ACCOUNT_ADMINISTRATOR},
        )
        data = unstructure(session)
        assert data["roles"] == {"acc_1": "account_administrator"}
        assert data["method"] == "password"

    def test_unstructured_data_is_json_serialisable(self) -> None:
        json.dumps(unstructure(invitation()))  # raises TypeError if not

    def test_padded_base64_is_accepted(self) -> None:
        data = {**unstructure(invitation()), "token_ciphertext": "Y2lwaGVy", "token_hash": "AA=="}
        assert structure(data, JoinInvitation).token_hash == b"\x00"


# -- refusals ------------------------------------------------------------------------------


class TestBadData:
    def test_extra_keys_are_refused(self) -> None:
        with pytest.raises(
            ValidationError, match=r"cannot read Throttle.*extra fields found \(x\)"
        ):
            structure(throttle_data(x=1), Throttle)

    def test_missing_keys_are_refused(self) -> None:
        with pytest.raises(ValidationError, match=r"required field missing @ \$\.failures"):
            structure({"key": "k"}, Throttle)

    def test_naive_datetime_is_refused(self) -> None:
        with pytest.raises(ValidationError, match=r"cannot read Throttle.*window_started_at"):
            structure(throttle_data(window_started_at="2030-01-01T00:00:00"), Throttle)

    @pytest.mark.parametrize("value", ["yesterday", "2030-13-01T00:00:00+00:00", 1893456000, None])
    def test_non_iso_datetime_is_refused(self, value: object) -> None:
        with pytest.raises(ValidationError, match=r"window_started_at"):
            structure(throttle_data(window_started_at=value), Throttle)

    def test_wrong_scalar_type_is_refused(self) -> None:
        with pytest.raises(ValidationError, match=r"expected int @ \$\.failures"):
            structure(throttle_data(failures="many"), Throttle)

    def test_unknown_enum_value_is_refused(self) -> None:
        data = unstructure(
            Membership(
                account_id="acc_1",
                user_id="usr_1",
                role=Role.REGULAR_MEMBER,
                status=MemberStatus.ACTIVE,
                joined_at=T0,
                updated_at=T0,
            )
        )
        with pytest.raises(ValidationError, match=r"cannot read Membership.*\$\.role"):
            structure({**data, "role": "boss"}, Membership)

    @pytest.mark.parametrize("value", ["a", 42])
    def test_invalid_base64_is_refused(self, value: object) -> None:
        data = {**unstructure(invitation()), "token_hash": value}
        with pytest.raises(ValidationError, match=r"cannot read JoinInvitation.*token_hash"):
            structure(data, JoinInvitation)

    @pytest.mark.parametrize("value", ["@@@@", "!!!!!!!!"])
    def test_text_outside_the_base64_alphabet_is_refused(self, value: str) -> None:
        data = {**unstructure(invitation()), "token_hash": value}
        with pytest.raises(ValidationError, match=r"token_hash"):
            structure(data, JoinInvitation)

    @pytest.mark.parametrize("value", [None, 3])
    def test_scalar_instead_of_a_mapping_is_refused(self, value: object) -> None:
        with pytest.raises(ValidationError, match="cannot read Throttle"):
            structure(value, Throttle)

    @pytest.mark.parametrize("value", ["not a record", ["k", 1]])
    def test_string_or_list_instead_of_a_mapping_is_refused(self, value: object) -> None:
        with pytest.raises(ValidationError, match="cannot read Throttle"):
            structure(value, Throttle)

    def test_bad_data_errors_are_value_errors_too(self) -> None:
        with pytest.raises(ValueError, match="cannot read Throttle"):
            structure({}, Throttle)
