"""Errors a web host can answer: a stable code and an HTTP status on every class, a JSON body,
the field at fault, the seconds to wait; the table in the documentation matches (issue 19)."""

from __future__ import annotations

import datetime as dt
import inspect
import json
import re
from pathlib import Path

import pytest

import licensekit
from licensekit import exceptions
from licensekit.exceptions import (
    ActivationCodeMistyped,
    ActivationCodeNotFound,
    AuthenticationError,
    InvalidActivationCode,
    InvitationEmailMismatch,
    InvitationError,
    LicenseKitError,
    NotFound,
    PermissionDenied,
    StorageBusy,
    TooManyAttempts,
    ValidationError,
)
from licensekit.testing import (
    TEST_PASSWORD,
    LicenseKitForTests,
    RecordingMailer,
    make_business_account,
    make_licensekit,
)
from licensekit.throttling import LockEnd, ThrottlePolicy

ROOT = Path(__file__).resolve().parents[2]
TABLE_PAGE = ROOT / "docs" / "reference" / "exceptions.md"
CLASSES = [
    value
    for name in exceptions.__all__
    if inspect.isclass(value := getattr(exceptions, name)) and issubclass(value, LicenseKitError)
]
ROW = re.compile(
    r"^\| `(?P<code>[^`]+)` \| `(?P<cls>[^`]+)` \| (?P<status>\d{3}) \| (?P<meaning>.+) \|$"
)
TREE_LINE = re.compile(
    r"^    (?P<indent>(?:[│ ] {3})*)(?:[├└]── )?(?P<name>\w+)(?: \((?P<also>[^)]*)\))?$"
)


# == the codes and statuses ====================================================================


def test_every_exception_is_in_the_module_and_at_the_top_level():
    assert len(CLASSES) >= 49
    assert all(getattr(licensekit, cls.__name__) is cls for cls in CLASSES)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_each_class_states_its_own_code_and_status(cls):
    """Written in the class, not inherited nor made from the name: a rename keeps the code."""
    assert "code" in vars(cls)
    assert "http_status" in vars(cls)
    assert re.fullmatch(r"[a-z][a-z0-9_]*", cls.code)
    assert 400 <= cls.http_status <= 599


def test_no_two_classes_share_a_code():
    codes = [cls.code for cls in CLASSES]
    assert len(codes) == len(set(codes))


def test_the_documented_table_matches_the_classes():
    rows = [
        match.groupdict()
        for line in TABLE_PAGE.read_text(encoding="utf-8").splitlines()
        if (match := ROW.match(line))
    ]
    documented = {(row["cls"], row["code"], int(row["status"])) for row in rows}
    actual = {(cls.__name__, cls.code, cls.http_status) for cls in CLASSES}
    assert len(rows) == len(documented)  # no class twice
    assert documented == actual
    assert all(len(row["meaning"].strip()) > 10 for row in rows)


def test_the_tree_in_the_module_docstring_is_the_class_tree():
    """Each class stands under its first base; the others are named in parentheses."""
    assert exceptions.__doc__ is not None
    lines = [m for line in exceptions.__doc__.splitlines() if (m := TREE_LINE.match(line))]
    parents: list[str] = []
    drawn: set[str] = set()
    for match in lines:
        depth = len(match["indent"]) // 4 + (0 if match["name"] == "LicenseKitError" else 1)
        parents[depth:] = [match["name"]]
        cls = getattr(exceptions, match["name"])
        drawn.add(match["name"])
        bases = [base.__name__ for base in cls.__bases__]
        also = [b.strip().removeprefix("also ") for b in (match["also"] or "").split(",") if b]
        if depth:
            assert bases[0] == parents[depth - 1], match["name"]
            assert sorted(bases[1:]) == sorted(also), match["name"]
    assert drawn == {cls.__name__ for cls in CLASSES}


# == the tree, made consistent for HTTP ========================================================


def test_an_unknown_activation_code_is_a_not_found_and_still_an_invalid_code():
    assert issubclass(ActivationCodeNotFound, NotFound)
    assert issubclass(ActivationCodeNotFound, InvalidActivationCode)
    assert issubclass(ActivationCodeNotFound, LookupError)


def test_too_many_attempts_is_no_longer_an_authentication_error():
    assert not issubclass(TooManyAttempts, AuthenticationError)
    assert TooManyAttempts.__bases__ == (LicenseKitError,)


def test_an_invitation_for_another_address_is_refused_not_gone():
    assert issubclass(InvitationEmailMismatch, InvitationError)
    assert issubclass(InvitationEmailMismatch, PermissionDenied)
    assert InvitationEmailMismatch.http_status == 403


def test_a_use_case_refusing_another_addresses_invitation_answers_403():
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    kit.invite_members(admin, account.id, ["grace@example.com"])
    token = kit.mailer.last_token(to="grace@example.com")
    kit.register_user("mallory@example.com", TEST_PASSWORD, email_verified=True)
    mallory = kit.log_in("mallory@example.com", TEST_PASSWORD)
    with pytest.raises(InvitationEmailMismatch) as refused:
        kit.accept_join_invitation(token, session=mallory)
    assert refused.value.to_dict()["status"] == 403
    assert refused.value.to_dict()["code"] == "invitation_email_mismatch"


# == the JSON body =============================================================================


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_every_error_has_a_json_body(cls):
    error = _instance(cls)
    body = error.to_dict()
    assert json.loads(json.dumps(body)) == body
    assert body["code"] == cls.code
    assert body["status"] == cls.http_status
    assert body["message"] == str(error)
    assert set(body) <= {"code", "status", "message", "field", "retry_after"}


def _instance(cls: type[LicenseKitError]) -> LicenseKitError:
    if cls is TooManyAttempts:
        now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
        return TooManyAttempts("log-ins", now + dt.timedelta(minutes=1), now=now)
    if cls is exceptions.InvalidEmail:
        return exceptions.InvalidEmail("nobody", "no @")
    if cls is exceptions.SeatsFull:
        return exceptions.SeatsFull("every seat is taken", seats=3)
    return cls("what went wrong")


def test_the_body_never_holds_the_password_token_or_code_presented():
    kit = make_licensekit()
    _, account = make_business_account(kit)
    kit.register_user("ann@example.com", TEST_PASSWORD)
    secrets = {
        "a wrong passphrase": lambda s: kit.log_in("ann@example.com", s),
        "tok_" + "A" * 40: lambda s: kit.accept_join_invitation(s, password=TEST_PASSWORD),
        "sess_" + "B" * 40: lambda s: kit.list_members(s, account.id),
        "inst_" + "C" * 40: lambda s: kit.check_in(s),
        "dl_" + "D" * 40: lambda s: kit.activate(token=s, computer_id="pc-1"),
        "7KQ2M-X0D9P-R4T8W-HC1ZB-5NV3E": lambda s: kit.activate(code=s, computer_id="pc-1"),
    }
    for secret, call in secrets.items():
        with pytest.raises(LicenseKitError) as refused:
            call(secret)
        assert secret not in json.dumps(refused.value.to_dict())


# == retry_after ===============================================================================


def test_a_locked_log_in_says_how_many_seconds_to_wait_by_the_kits_clock():
    policy = ThrottlePolicy(max_failures=2, lockout=dt.timedelta(minutes=15))
    kit = make_licensekit(settings=licensekit.Settings(password_throttle=policy))
    kit.register_user("ann@example.com", TEST_PASSWORD)
    for _ in range(2):
        with pytest.raises(licensekit.InvalidCredentials):
            kit.log_in("ann@example.com", "wrong")
    kit.clock.advance(minutes=5, seconds=0.4)
    with pytest.raises(TooManyAttempts) as locked:
        kit.log_in("ann@example.com", TEST_PASSWORD)
    assert locked.value.until == kit.clock.now() + dt.timedelta(minutes=10, seconds=-0.4)
    assert locked.value.retry_after == 600  # 599.6 s, rounded up
    assert locked.value.to_dict()["retry_after"] == 600
    assert locked.value.to_dict()["status"] == 429


def test_an_unknown_code_from_a_locked_client_says_how_long_too():
    kit = make_licensekit(
        settings=licensekit.Settings(
            activation_client_throttle=ThrottlePolicy(
                max_failures=1, lockout=dt.timedelta(seconds=90)
            )
        )
    )
    with pytest.raises(ActivationCodeNotFound):
        kit.activate(token="dl_unknown", computer_id="pc-1", client="203.0.113.9")
    kit.clock.advance(seconds=30)
    with pytest.raises(TooManyAttempts) as locked:
        kit.activate(token="dl_unknown", computer_id="pc-1", client="203.0.113.9")
    assert locked.value.retry_after == 60


def test_retry_after_is_rounded_up_and_at_least_one_second():
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert TooManyAttempts("x", now + dt.timedelta(seconds=0.001), now=now).retry_after == 1
    assert TooManyAttempts("x", now - dt.timedelta(seconds=5), now=now).retry_after == 1
    assert TooManyAttempts("x", now + dt.timedelta(seconds=61.2), now=now).retry_after == 62


def test_retry_after_counts_from_when_the_lock_was_read_unless_told():
    end = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
    read = LockEnd.of(end, end - dt.timedelta(seconds=42))
    assert read == end
    assert TooManyAttempts("x", read).retry_after == 42
    assert TooManyAttempts("x", read, now=end - dt.timedelta(seconds=7)).retry_after == 7


def test_a_plain_instant_counts_from_the_system_clock():
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    assert 29 <= TooManyAttempts("x", soon).retry_after <= 30


def test_storage_busy_suggests_a_delay_and_says_when_it_ends():
    before = dt.datetime.now(dt.UTC)
    busy = StorageBusy("the database stayed locked")
    assert busy.retry_after == exceptions.STORAGE_RETRY_AFTER >= 1
    assert before + dt.timedelta(seconds=busy.retry_after) <= busy.until
    assert busy.until <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=busy.retry_after)
    assert busy.to_dict() == {
        "code": "storage_busy",
        "status": 503,
        "message": "the database stayed locked",
        "retry_after": busy.retry_after,
    }
    assert StorageBusy("x", retry_after=0.2).retry_after == 1
    assert StorageBusy("x", retry_after=12).retry_after == 12


# == the field at fault ========================================================================


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ("limit must be between 1 and 500, got 0", "limit"),
        ("expires_in may be at most 90 days, 0:00:00, got 100 days", "expires_in"),
        ("csv='invites.csv' looks like a file name", "csv"),
        ("an activation code must be text, not int", None),
        ("license key value must not be empty", None),
        ("give either a password or a session to accept, not both", None),
        ("FakeClock start must be timezone-aware", None),
    ],
)
def test_the_field_is_read_from_a_message_that_opens_with_it(message, field):
    assert ValidationError(message).field == field


def test_a_field_given_wins_over_the_message():
    assert ValidationError("limit must be 1", field="page_size").field == "page_size"
    assert ValidationError("limit must be 1", field="page_size").to_dict()["field"] == "page_size"
    assert "field" not in ValidationError("several things are wrong").to_dict()


def _kit() -> tuple[LicenseKitForTests, licensekit.Session, str]:
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    return kit, admin, account.id


def test_the_use_cases_name_the_argument_at_fault():
    kit, admin, account_id = _kit()
    key = kit.add_license_key(admin, account_id, product="Pro", value="K-1", seats=2)
    calls = {
        "limit": lambda: kit.list_members(admin, account_id, limit=0),
        "cursor": lambda: kit.list_members(admin, account_id, cursor="nope"),
        "seats": lambda: kit.add_license_key(admin, account_id, product="P", value="K", seats=0),
        "password": lambda: kit.register_user("new@example.com", "short"),
        "email": lambda: kit.register_user("not an address", TEST_PASSWORD),
        "code": lambda: kit.activate(code="7KQ2M-X0D9P-R4T8W-HC1ZB-5NV3E", computer_id="pc"),
        "computer_id": lambda: kit.activate(code="x", computer_id=""),
        "notes": lambda: kit.block_member(admin, account_id, admin.user_id, notes="x" * 5000),
        "client": lambda: kit.check_in("inst_x", client="a\x00b"),
        "csv": lambda: kit.invite_installers(admin, account_id, key.id, csv=b"\xff\xfe\x00"),
        "max_activations": lambda: kit.invite_installers(
            admin, account_id, key.id, ["a@example.com"], max_activations=0
        ),
        "expires_at": lambda: kit.change_license_key(
            admin, account_id, key.id, expires_at=kit.clock.now() - dt.timedelta(days=1)
        ),
        "language": lambda: kit.invite_members(admin, account_id, ["b@example.com"], language="xx"),
    }
    for field, call in calls.items():
        with pytest.raises(ValidationError) as refused:
            call()
        assert (refused.value.field, refused.value.to_dict().get("field")) == (field, field)


def test_settings_and_policies_name_their_field():
    with pytest.raises(ValidationError) as refused:
        licensekit.Settings(max_batch_size=0)
    assert refused.value.field == "max_batch_size"
    with pytest.raises(ValidationError) as refused:
        licensekit.Settings(invitation_lifetime=dt.timedelta(days=365))
    assert refused.value.field == "invitation_lifetime"
    with pytest.raises(ValidationError) as refused:
        ThrottlePolicy(window=dt.timedelta(0))
    assert refused.value.field == "window"
    with pytest.raises(ValidationError) as refused:
        licensekit.PasswordPolicy(min_length=20, max_length=10)
    assert refused.value.field == "min_length"


def test_a_short_host_secret_is_named():
    with pytest.raises(ValidationError) as refused:
        licensekit.LicenseKit(
            licensekit.MemoryStore(), RecordingMailer(), secret=b"short", join_url="{token}"
        )
    assert refused.value.field == "secret"


def test_a_mistyped_code_names_the_code_argument():
    assert ActivationCodeMistyped("typo").field == "code"
    assert ActivationCodeMistyped("typo").to_dict()["status"] == 422
