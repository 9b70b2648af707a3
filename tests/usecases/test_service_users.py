"""Behaviour of the user and session use cases of LicenseKit: register, log in, log out,
session expiry, throttling of wrong passwords, rehashing, and single sign-on sessions."""

from __future__ import annotations

import datetime as dt

import pytest

from _records import records
from licensekit import (
    Argon2Parameters,
    EmailAlreadyRegistered,
    InvalidCredentials,
    InvalidEmail,
    InvalidPassword,
    InvalidSession,
    LicenseKit,
    MemoryStore,
    PasswordHasher,
    SessionMethod,
    Settings,
    ThrottlePolicy,
    TooManyAttempts,
    UserNotFound,
)
from licensekit.storage import USERS
from licensekit.testing import (
    TEST_JOIN_URL,
    TEST_SECRET,
    FakeClock,
    RecordingMailer,
    make_licensekit,
)

PASSWORD = "correct horse battery"
WRONG = "incorrect horse battery"


@pytest.fixture
def kit() -> LicenseKit:
    return make_licensekit()


def stored_user(kit: LicenseKit, email: str):
    with records(kit.store) as tx:
        return tx.find(USERS, email=email)


# == register ==============================================================================


def test_register_normalises_the_email_to_lower_case_without_spaces(kit):
    user = kit.register_user("  Ada.Lovelace@Example.COM ", PASSWORD, name="  Ada   Lovelace ")

    assert user.email == "ada.lovelace@example.com"
    assert user.name == "Ada Lovelace"
    assert stored_user(kit, "ada.lovelace@example.com").id == user.id


def test_register_stores_an_argon2id_hash_not_the_password(kit):
    user = kit.register_user("ada@example.com", PASSWORD)
    user = stored_user(kit, "ada@example.com")

    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_register_refuses_an_email_already_registered_whatever_its_case(kit):
    first = kit.register_user("ada@example.com", PASSWORD)

    with pytest.raises(EmailAlreadyRegistered, match=r"'ada@example\.com' already exists"):
        kit.register_user("ADA@Example.com", "another good password")

    assert stored_user(kit, "ada@example.com").id == first.id
    assert kit.log_in("ada@example.com", PASSWORD).user_id == first.id


def test_register_refuses_an_invalid_email(kit):
    with pytest.raises(InvalidEmail, match="invalid email address 'not-an-email'"):
        kit.register_user("not-an-email", PASSWORD)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 10 characters"),
        ("x" * 257, "at most 256 characters"),
        (" " * 12, "must not be only whitespace"),
    ],
)
def test_register_refuses_a_password_breaking_the_policy_and_creates_no_user(
    kit, password, message
):
    with pytest.raises(InvalidPassword, match=message):
        kit.register_user("ada@example.com", password)

    assert stored_user(kit, "ada@example.com") is None


# == log in ================================================================================


def test_log_in_accepts_the_email_in_any_case(kit):
    user = kit.register_user("ada@example.com", PASSWORD)
    user = stored_user(kit, "ada@example.com")

    session = kit.log_in("  ADA@example.COM", PASSWORD)

    assert session.user_id == user.id
    assert session.email == "ada@example.com"
    assert session.method is SessionMethod.PASSWORD
    assert session.expires_at == kit.clock.now() + kit.settings.session_lifetime


def test_log_in_with_a_wrong_password_raises_invalid_credentials(kit):
    kit.register_user("ada@example.com", PASSWORD)

    with pytest.raises(InvalidCredentials, match="wrong email or password"):
        kit.log_in("ada@example.com", WRONG)


def test_log_in_gives_the_same_message_for_unknown_email_and_wrong_password(kit):
    kit.register_user("ada@example.com", PASSWORD)

    with pytest.raises(InvalidCredentials) as wrong_password:
        kit.log_in("ada@example.com", WRONG)
    with pytest.raises(InvalidCredentials) as unknown_email:
        kit.log_in("nobody@example.com", PASSWORD)

    assert str(wrong_password.value) == str(unknown_email.value)


def test_log_in_is_locked_after_max_failures_wrong_passwords_even_for_the_right_password(kit):
    kit.register_user("ada@example.com", PASSWORD)
    policy = kit.settings.password_throttle
    for _ in range(policy.max_failures):
        with pytest.raises(InvalidCredentials):
            kit.log_in("ada@example.com", WRONG)

    with pytest.raises(TooManyAttempts, match=r"log-ins as ada@example\.com") as locked:
        kit.log_in("ada@example.com", PASSWORD)

    assert locked.value.until == kit.clock.now() + policy.lockout


def test_log_in_one_failure_below_the_limit_is_not_locked(kit):
    user = kit.register_user("ada@example.com", PASSWORD)
    user = stored_user(kit, "ada@example.com")
    for _ in range(kit.settings.password_throttle.max_failures - 1):
        with pytest.raises(InvalidCredentials):
            kit.log_in("ada@example.com", WRONG)

    assert kit.log_in("ada@example.com", PASSWORD).user_id == user.id


def test_log_in_lock_out_applies_to_unknown_emails_too():
    kit = make_licensekit(settings=Settings(password_throttle=ThrottlePolicy(max_failures=2)))
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            kit.log_in("ghost@example.com", WRONG)

    with pytest.raises(TooManyAttempts):
        kit.log_in("ghost@example.com", WRONG)


def test_log_in_lock_out_of_one_email_does_not_lock_another():
    kit = make_licensekit(settings=Settings(password_throttle=ThrottlePolicy(max_failures=2)))
    kit.register_user("ada@example.com", PASSWORD)
    grace = kit.register_user("grace@example.com", PASSWORD)
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            kit.log_in("ada@example.com", WRONG)

    assert kit.log_in("grace@example.com", PASSWORD).user_id == grace.id
    with pytest.raises(TooManyAttempts):
        kit.log_in("ada@example.com", PASSWORD)


def test_log_in_is_allowed_again_once_the_lockout_has_passed(kit):
    user = kit.register_user("ada@example.com", PASSWORD)
    user = stored_user(kit, "ada@example.com")
    policy = kit.settings.password_throttle
    for _ in range(policy.max_failures):
        with pytest.raises(InvalidCredentials):
            kit.log_in("ada@example.com", WRONG)
    kit.clock.advance(policy.lockout - dt.timedelta(seconds=1))
    with pytest.raises(TooManyAttempts):
        kit.log_in("ada@example.com", PASSWORD)

    kit.clock.advance(seconds=1)

    assert kit.log_in("ada@example.com", PASSWORD).user_id == user.id


def test_log_in_success_resets_the_failure_counter(kit):
    user = kit.register_user("ada@example.com", PASSWORD)
    user = stored_user(kit, "ada@example.com")
    below_limit = kit.settings.password_throttle.max_failures - 1
    for _ in range(below_limit):
        with pytest.raises(InvalidCredentials):
            kit.log_in("ada@example.com", WRONG)
    kit.log_in("ada@example.com", PASSWORD)
    for _ in range(below_limit):
        with pytest.raises(InvalidCredentials):
            kit.log_in("ada@example.com", WRONG)

    assert kit.log_in("ada@example.com", PASSWORD).user_id == user.id


# == rehash on log-in ======================================================================


def _kit_with(params: Argon2Parameters, store: MemoryStore, clock: FakeClock) -> LicenseKit:
    return LicenseKit(
        store,
        RecordingMailer(),
        secret=TEST_SECRET,
        join_url=TEST_JOIN_URL,
        clock=clock,
        password_hasher=PasswordHasher(parameters=params),
    )


def test_log_in_rehashes_the_password_when_the_hashing_parameters_changed():
    store, clock = MemoryStore(), FakeClock()
    old = _kit_with(Argon2Parameters(memory_cost_kib=8, iterations=1), store, clock)
    new = _kit_with(Argon2Parameters(memory_cost_kib=16, iterations=2), store, clock)
    user = old.register_user("ada@example.com", PASSWORD)
    user = stored_user(old, "ada@example.com")
    assert "$m=8,t=1,p=1$" in user.password_hash

    new.log_in("ada@example.com", PASSWORD)

    renewed = stored_user(new, "ada@example.com").password_hash
    assert renewed != user.password_hash
    assert "$m=16,t=2,p=1$" in renewed
    assert not new.passwords.needs_rehash(renewed)
    assert new.log_in("ada@example.com", PASSWORD).user_id == user.id


def test_log_in_keeps_the_hash_when_the_parameters_are_unchanged():
    store, clock = MemoryStore(), FakeClock()
    kit = _kit_with(Argon2Parameters(memory_cost_kib=8, iterations=1), store, clock)
    user = kit.register_user("ada@example.com", PASSWORD)
    user = stored_user(kit, "ada@example.com")

    kit.log_in("ada@example.com", PASSWORD)

    assert stored_user(kit, "ada@example.com").password_hash == user.password_hash


def test_log_in_with_a_wrong_password_does_not_rehash():
    store, clock = MemoryStore(), FakeClock()
    old = _kit_with(Argon2Parameters(memory_cost_kib=8, iterations=1), store, clock)
    new = _kit_with(Argon2Parameters(memory_cost_kib=16, iterations=1), store, clock)
    user = old.register_user("ada@example.com", PASSWORD)
    user = stored_user(old, "ada@example.com")

    with pytest.raises(InvalidCredentials):
        new.log_in("ada@example.com", WRONG)

    assert stored_user(new, "ada@example.com").password_hash == user.password_hash


# == log out, expiry, purge ================================================================


def test_log_out_makes_the_token_unusable(kit):
    kit.register_user("ada@example.com", PASSWORD)
    session = kit.log_in("ada@example.com", PASSWORD)
    assert kit.list_my_accounts(session) == ()

    kit.log_out(session)

    with pytest.raises(InvalidSession, match="unknown or has been logged out"):
        kit.list_my_accounts(session)


def test_log_out_ends_only_that_session(kit):
    kit.register_user("ada@example.com", PASSWORD, email_verified=True)
    first = kit.log_in("ada@example.com", PASSWORD)
    second = kit.log_in("ada@example.com", PASSWORD)

    kit.log_out(first)

    kit.create_business_account(second, "Still logged in Ltd")
    assert [a.account_name for a in kit.list_my_accounts(second)] == ["Still logged in Ltd"]


def test_log_out_of_an_unknown_or_ended_session_is_ignored(kit):
    kit.register_user("ada@example.com", PASSWORD)
    session = kit.log_in("ada@example.com", PASSWORD)
    other = kit.log_in("ada@example.com", PASSWORD)
    kit.log_out(session)

    kit.log_out(session)
    kit.log_out("no-such-token")

    assert kit.list_my_accounts(other) == ()


def test_session_works_until_just_before_its_lifetime_ends(kit):
    kit.register_user("ada@example.com", PASSWORD)
    session = kit.log_in("ada@example.com", PASSWORD)

    kit.clock.advance(kit.settings.session_lifetime - dt.timedelta(seconds=1))

    assert kit.list_my_accounts(session) == ()


def test_session_expires_after_the_session_lifetime(kit):
    kit.register_user("ada@example.com", PASSWORD)
    session = kit.log_in("ada@example.com", PASSWORD)

    kit.clock.advance(kit.settings.session_lifetime)

    with pytest.raises(InvalidSession, match="the session expired at"):
        kit.list_my_accounts(session)


def test_session_lifetime_comes_from_settings():
    kit = make_licensekit(settings=Settings(session_lifetime=dt.timedelta(minutes=30)))
    kit.register_user("ada@example.com", PASSWORD)
    session = kit.log_in("ada@example.com", PASSWORD)
    assert session.expires_at == kit.clock.now() + dt.timedelta(minutes=30)

    kit.clock.advance(minutes=30)

    with pytest.raises(InvalidSession, match="expired"):
        kit.create_business_account(session, "Too late Ltd")


def test_purge_expired_deletes_only_expired_ones(kit):
    kit.register_user("ada@example.com", PASSWORD)
    old = kit.log_in("ada@example.com", PASSWORD)
    kit.clock.advance(hours=1)
    fresh = kit.log_in("ada@example.com", PASSWORD)
    kit.clock.advance(kit.settings.session_lifetime - dt.timedelta(minutes=30))

    assert kit.purge_expired().sessions == 1

    assert kit.list_my_accounts(fresh) == ()
    with pytest.raises(InvalidSession, match="unknown"):
        kit.list_my_accounts(old)
    assert kit.purge_expired().sessions == 0


def test_purge_expired_with_none_expired_deletes_nothing(kit):
    kit.register_user("ada@example.com", PASSWORD)
    session = kit.log_in("ada@example.com", PASSWORD)

    assert kit.purge_expired().sessions == 0
    assert kit.list_my_accounts(session) == ()


# == single sign-on ========================================================================


def test_trusted_session_for_a_known_user_needs_no_password(kit):
    user = kit.register_user("ada@example.com", PASSWORD)
    user = stored_user(kit, "ada@example.com")

    session = kit.trusted_session("Ada@Example.com")

    assert session.user_id == user.id
    assert session.method is SessionMethod.TRUSTED
    assert kit.list_my_accounts(session) == ()


def test_trusted_session_for_an_unknown_email_raises_user_not_found_and_creates_nobody(kit):
    with pytest.raises(UserNotFound, match=r"no user with email 'sso@example\.com'"):
        kit.trusted_session("sso@example.com")

    assert stored_user(kit, "sso@example.com") is None


def test_trusted_session_with_create_makes_a_user_without_password(kit):
    session = kit.trusted_session("SSO@example.com", create=True, name="Single Sign")

    user = stored_user(kit, "sso@example.com")
    assert user.id == session.user_id
    assert user.name == "Single Sign"
    assert user.password_hash is None


def test_user_created_by_trusted_session_cannot_log_in_with_a_password(kit):
    kit.trusted_session("sso@example.com", create=True)

    with pytest.raises(InvalidCredentials, match="wrong email or password"):
        kit.log_in("sso@example.com", PASSWORD)


def test_trusted_session_with_create_reuses_an_existing_user(kit):
    user = kit.register_user("ada@example.com", PASSWORD, email_verified=True)
    user = stored_user(kit, "ada@example.com")

    session = kit.trusted_session("ada@example.com", create=True)

    assert session.user_id == user.id
    assert stored_user(kit, "ada@example.com").password_hash == user.password_hash


def test_a_user_created_by_trusted_session_cannot_register_again(kit):
    kit.trusted_session("sso@example.com", create=True)

    with pytest.raises(EmailAlreadyRegistered):
        kit.register_user("sso@example.com", PASSWORD)


# == session or token =======================================================================


def test_a_plain_token_string_works_like_the_session(kit):
    kit.register_user("ada@example.com", PASSWORD, email_verified=True)
    session = kit.log_in("ada@example.com", PASSWORD)

    account = kit.create_business_account(session.token, "Token Ltd")

    (membership,) = kit.list_my_accounts(session.token)
    assert membership.account_id == account.id
    assert kit.list_my_accounts(session) == kit.list_my_accounts(session.token)
    kit.log_out(session.token)
    with pytest.raises(InvalidSession):
        kit.list_my_accounts(session)


def test_an_unknown_token_string_is_an_invalid_session(kit):
    with pytest.raises(InvalidSession, match="unknown"):
        kit.list_my_accounts("not-a-real-token")


def test_something_that_is_neither_session_nor_token_is_an_invalid_session(kit):
    with pytest.raises(InvalidSession, match="session or a session token string is required"):
        kit.list_my_accounts(None)  # type: ignore[arg-type]
