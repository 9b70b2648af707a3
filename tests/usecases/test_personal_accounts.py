"""The personal-account lifecycle: proof of address, email verification, password change and
reset, and the account squatting they close (issue 13, section 1).

Anyone can register any address, so an account is unproven until its owner proves the address
(a join invitation's link, a verification link, a reset link, or the host vouching). The first
proof ends every session and keeps a password only if the prover showed they know it.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest
from hypothesis import given
from hypothesis import strategies as st

from _records import records
from licensekit import (
    Argon2Parameters,
    ConflictError,
    EmailAlreadyRegistered,
    EmailAlreadyVerified,
    EmailNotVerified,
    InvalidCredentials,
    InvalidPassword,
    InvalidSession,
    InvalidToken,
    LicenseKit,
    MessageKind,
    PasswordHasher,
    SessionMethod,
    Settings,
    TooManyAttempts,
    UserView,
    ValidationError,
)
from licensekit._usecases._tx import Tx
from licensekit.mail import SUPPORTED_LANGUAGES
from licensekit.serialization import unstructure
from licensekit.storage import JOIN_INVITATIONS, PROTOCOL_VERSION, SESSIONS, THROTTLES, USERS
from licensekit.testing import (
    TEST_JOIN_URL,
    TEST_SECRET,
    FakeClock,
    LicenseKitForTests,
    RecordingMailer,
    make_business_account,
    make_licensekit,
    new_test_store,
)

ALICE = "alice@victim.example"
MALLORY_PASSWORD = "mallory chose this"
ALICE_PASSWORD = "alice chose this one"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def kit() -> LicenseKitForTests:
    return make_licensekit()


def stored_user(kit: LicenseKit, email: str):
    with records(kit.store) as tx:
        return tx.find(USERS, email=email)


def session_works(kit: LicenseKit, session) -> bool:
    try:
        kit.list_my_accounts(session)
    except InvalidSession:
        return False
    return True


def can_log_in(kit: LicenseKit, email: str, password: str) -> bool:
    try:
        kit.log_in(email, password)
    except InvalidCredentials:
        return False
    return True


def invite(kit: LicenseKitForTests, email: str) -> str:
    admin, account = make_business_account(kit)
    kit.invite_members(admin, account.id, [email])
    return kit.mailer.last_token(to=email)


def verification_token(kit: LicenseKitForTests, session) -> str:
    kit.send_email_verification(session)
    return kit.mailer.last(kind=MessageKind.EMAIL_VERIFICATION).data["token"]


def reset_token(kit: LicenseKitForTests, email: str) -> str:
    kit.request_password_reset(email)
    return kit.mailer.last(to=email, kind=MessageKind.PASSWORD_RESET).data["token"]


# == the squatting reproduction of the issue ===============================================


def test_a_squatters_password_no_longer_opens_the_account_the_owner_joined_by_sso(kit):
    """The issue's reproduction: Mallory registers Alice's address first, the host's SSO
    proves Alice, Alice accepts; Mallory's password must not open Example Corp."""
    kit.register_user(ALICE, MALLORY_PASSWORD)
    mallory = kit.log_in(ALICE, MALLORY_PASSWORD)
    token = invite(kit, ALICE)

    alice = kit.trusted_session(ALICE)
    kit.accept_join_invitation(token, session=alice)

    assert not can_log_in(kit, ALICE, MALLORY_PASSWORD)
    assert not session_works(kit, mallory)


def test_on_a_password_only_host_the_owner_joins_by_choosing_a_password(kit):
    """Before the fix Alice could not join at all: accepting asked for Mallory's password."""
    kit.register_user(ALICE, MALLORY_PASSWORD)
    mallory = kit.log_in(ALICE, MALLORY_PASSWORD)
    token = invite(kit, ALICE)
    assert kit.describe_join_invitation(token).needs_current_password is False

    alice = kit.accept_join_invitation(token, password=ALICE_PASSWORD)

    assert [m.account_name for m in kit.list_my_accounts(alice)] == ["Example Corp"]
    assert can_log_in(kit, ALICE, ALICE_PASSWORD)
    assert not can_log_in(kit, ALICE, MALLORY_PASSWORD)
    assert not session_works(kit, mallory)
    assert stored_user(kit, ALICE).email_verified


def test_a_proven_account_accepts_only_with_its_current_password(kit):
    kit.register_user(ALICE, ALICE_PASSWORD, email_verified=True)
    token = invite(kit, ALICE)
    assert kit.describe_join_invitation(token).needs_current_password is True

    with pytest.raises(InvalidCredentials):
        kit.accept_join_invitation(token, password="some other password")
    session = kit.accept_join_invitation(token, password=ALICE_PASSWORD)

    assert session.email_verified is True
    assert can_log_in(kit, ALICE, ALICE_PASSWORD)


def test_accepting_from_a_password_session_of_an_unproven_account_keeps_its_password(kit):
    """Whoever accepts through a session opened with the password knows that password."""
    kit.register_user(ALICE, ALICE_PASSWORD)
    elsewhere = kit.log_in(ALICE, ALICE_PASSWORD)
    here = kit.log_in(ALICE, ALICE_PASSWORD)
    token = invite(kit, ALICE)

    joined = kit.accept_join_invitation(token, session=here)

    assert joined.email_verified is True
    assert can_log_in(kit, ALICE, ALICE_PASSWORD)
    assert not session_works(kit, elsewhere)
    assert not session_works(kit, here)  # every session ends; the new one is returned
    assert session_works(kit, joined)


def test_a_link_gives_no_password_to_a_proven_account_that_has_none(kit):
    """A forwarded invitation link must not hand a single sign-on account to its holder."""
    sso = kit.trusted_session(ALICE, create=True)
    token = invite(kit, ALICE)
    assert kit.describe_join_invitation(token).needs_current_password is True

    with pytest.raises(InvalidCredentials, match="has no password: accept from a session"):
        kit.accept_join_invitation(token, password="the forwardee's choice")

    assert not can_log_in(kit, ALICE, "the forwardee's choice")
    assert kit.accept_join_invitation(token, session=sso).email_verified is True


def test_a_new_invitee_is_created_proven(kit):
    token = invite(kit, ALICE)

    session = kit.accept_join_invitation(token, password=ALICE_PASSWORD)

    assert session.email_verified is True
    assert stored_user(kit, ALICE).email_verified_at == kit.clock.now()


class _LogsOutBeforeAccepting:
    """A store that ends one session just before the transaction that accepts an invitation.

    That transaction starts by reading the invitation again; the session is deleted through
    the same transaction first, as if a log-out had committed just before it began.
    """

    protocol_version = PROTOCOL_VERSION

    def __init__(self, store, session_hash: bytes) -> None:
        self._store = store
        self._session_hash = session_hash

    @contextmanager
    def transaction(self):
        with self._store.transaction() as port:
            yield _EndsSessionOnRead(port, self._session_hash)

    def close(self) -> None:
        self._store.close()


class _EndsSessionOnRead:
    def __init__(self, port, session_hash: bytes) -> None:
        self._port = port
        self._session_hash = session_hash

    def read(self, queries):
        if any(q.kind is JOIN_INVITATIONS and q.fields == ("id",) for q in queries):
            tx = Tx(self._port)
            record = tx.find(SESSIONS, token_hash=self._session_hash)
            if record is not None:
                tx.delete(SESSIONS, record.id)
        return self._port.read(queries)

    def __getattr__(self, name):
        return getattr(self._port, name)


def test_accepting_with_a_session_logged_out_between_the_checks_is_refused():
    """Rule pinned: the session is checked again inside the accepting transaction."""
    plain = make_licensekit()
    plain.register_user(ALICE, ALICE_PASSWORD, email_verified=True)
    session = plain.log_in(ALICE, ALICE_PASSWORD)
    token = invite(plain, ALICE)
    racing = make_licensekit(
        store=_LogsOutBeforeAccepting(plain.store, plain._access.session_hash(session)),  # type: ignore[arg-type]
        clock=plain.clock,
        mailer=plain.mailer,
    )

    with pytest.raises(InvalidSession):
        racing.accept_join_invitation(token, session=session)

    assert plain.describe_join_invitation(token).email == ALICE  # still pending
    assert plain.list_my_accounts(plain.log_in(ALICE, ALICE_PASSWORD)) == ()


# == registration and what callers are handed ==============================================


def test_register_returns_a_view_without_the_password_hash(kit):
    user = kit.register_user(ALICE, ALICE_PASSWORD)

    assert isinstance(user, UserView)
    assert not hasattr(user, "password_hash")
    assert "argon2" not in repr(user)
    assert "argon2" not in str(unstructure(user))
    assert user.has_password is True
    assert user.email_verified is False
    assert user.email_verified_at is None


def test_register_with_email_verified_makes_a_proven_account(kit):
    user = kit.register_user(ALICE, ALICE_PASSWORD, email_verified=True)

    assert user.email_verified_at == kit.clock.now()
    assert kit.log_in(ALICE, ALICE_PASSWORD).email_verified is True


def test_register_refuses_a_non_boolean_email_verified(kit):
    with pytest.raises(ValidationError, match="email_verified"):
        kit.register_user(ALICE, ALICE_PASSWORD, email_verified="yes")  # type: ignore[arg-type]


def test_registering_a_squatted_address_says_how_to_take_it_back(kit):
    kit.register_user(ALICE, MALLORY_PASSWORD)

    with pytest.raises(EmailAlreadyRegistered, match="ask for a new password"):
        kit.register_user(ALICE, ALICE_PASSWORD)


def test_an_unproven_user_may_not_create_a_business_account(kit):
    kit.register_user(ALICE, ALICE_PASSWORD)
    session = kit.log_in(ALICE, ALICE_PASSWORD)

    with pytest.raises(EmailNotVerified, match=r"verify alice@victim\.example"):
        kit.create_business_account(session, "Squatted Ltd")

    assert kit.list_my_accounts(session) == ()


def test_a_host_may_let_unproven_users_create_business_accounts():
    kit = make_licensekit(settings=Settings(verified_email_to_create_accounts=False))
    kit.register_user(ALICE, ALICE_PASSWORD)
    session = kit.log_in(ALICE, ALICE_PASSWORD)

    assert kit.create_business_account(session, "Alice Ltd").name == "Alice Ltd"


def test_current_user_tells_whether_the_address_is_proven(kit):
    kit.register_user(ALICE, ALICE_PASSWORD)
    session = kit.log_in(ALICE, ALICE_PASSWORD)
    assert kit.current_user(session).email_verified is False

    kit.verify_email(verification_token(kit, session), session=session)

    assert kit.current_user(kit.log_in(ALICE, ALICE_PASSWORD)).email_verified is True


# == the host vouching ======================================================================


def test_trusted_session_proves_an_unproven_account_and_ends_its_sessions(kit):
    kit.register_user(ALICE, MALLORY_PASSWORD)
    mallory = kit.log_in(ALICE, MALLORY_PASSWORD)

    alice = kit.trusted_session(ALICE)

    assert alice.email_verified is True
    assert not session_works(kit, mallory)
    assert stored_user(kit, ALICE).password_hash is None
    assert not can_log_in(kit, ALICE, MALLORY_PASSWORD)


def test_trusted_session_leaves_a_proven_accounts_password_and_sessions_alone(kit):
    kit.register_user(ALICE, ALICE_PASSWORD, email_verified=True)
    earlier = kit.log_in(ALICE, ALICE_PASSWORD)

    kit.trusted_session(ALICE)

    assert session_works(kit, earlier)
    assert can_log_in(kit, ALICE, ALICE_PASSWORD)


def test_a_user_created_by_trusted_session_is_proven(kit):
    session = kit.trusted_session(ALICE, create=True)

    assert session.email_verified is True
    assert kit.current_user(session).has_password is False


# == email verification ======================================================================


def test_verification_email_carries_a_link_to_the_verify_url(kit):
    kit.register_user(ALICE, ALICE_PASSWORD)
    session = kit.log_in(ALICE, ALICE_PASSWORD)

    kit.send_email_verification(session, language="de")

    message = kit.mailer.last(to=ALICE)
    assert message.kind is MessageKind.EMAIL_VERIFICATION
    assert message.language == "de"
    assert (
        message.data["link"] == f"https://portal.example.com/verify?token={message.data['token']}"
    )
    assert message.data["link"] in message.text
    assert message.data["expires_at"] == (kit.clock.now() + dt.timedelta(days=2)).isoformat()


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize(
    "kind",
    [
        MessageKind.EMAIL_VERIFICATION,
        MessageKind.PASSWORD_RESET,
        MessageKind.PASSWORD_RESET_UNKNOWN,
        MessageKind.PASSWORD_CHANGED,
    ],
)
def test_every_account_email_is_written_in_every_language(kit, language, kind):
    message = kit.templates.render(
        kind,
        to=ALICE,
        language=language,
        values={"service_name": "Portal", "link": "https://x.example/t?token=T0K3N"},
        expires_at=kit.clock.now(),
    )

    assert message.language == language
    assert ALICE in message.text or kind is MessageKind.PASSWORD_CHANGED
    assert "Portal" in message.text
    if kind in (MessageKind.EMAIL_VERIFICATION, MessageKind.PASSWORD_RESET):
        assert "https://x.example/t?token=T0K3N" in message.text
        assert 'href="https://x.example/t?token=T0K3N"' in message.html
    assert "${" not in message.text + message.html + message.subject


def test_verifying_with_a_password_proves_the_address_and_sets_that_password(kit):
    kit.register_user(ALICE, MALLORY_PASSWORD)
    mallory = kit.log_in(ALICE, MALLORY_PASSWORD)
    token = verification_token(kit, mallory)  # Mallory asks; the link reaches Alice

    alice = kit.verify_email(token, password=ALICE_PASSWORD)

    assert alice.email_verified is True
    assert alice.method is SessionMethod.EMAIL_LINK
    assert not session_works(kit, mallory)
    assert can_log_in(kit, ALICE, ALICE_PASSWORD)
    assert not can_log_in(kit, ALICE, MALLORY_PASSWORD)


def test_verifying_without_password_or_session_discards_the_password(kit):
    kit.register_user(ALICE, MALLORY_PASSWORD)
    token = verification_token(kit, kit.log_in(ALICE, MALLORY_PASSWORD))

    session = kit.verify_email(token)

    assert session_works(kit, session)
    assert kit.current_user(session).has_password is False
    assert not can_log_in(kit, ALICE, MALLORY_PASSWORD)


def test_verifying_from_the_password_session_keeps_the_password(kit):
    kit.register_user(ALICE, ALICE_PASSWORD)
    session = kit.log_in(ALICE, ALICE_PASSWORD)

    fresh = kit.verify_email(verification_token(kit, session), session=session)

    assert can_log_in(kit, ALICE, ALICE_PASSWORD)
    assert not session_works(kit, session)
    assert session_works(kit, fresh)


def test_verifying_with_another_accounts_session_is_refused_and_changes_nothing(kit):
    kit.register_user(ALICE, ALICE_PASSWORD)
    kit.register_user("bob@example.com", "bob's own password")
    token = verification_token(kit, kit.log_in(ALICE, ALICE_PASSWORD))

    with pytest.raises(ValidationError, match="another account"):
        kit.verify_email(token, session=kit.log_in("bob@example.com", "bob's own password"))

    assert not stored_user(kit, ALICE).email_verified
    kit.verify_email(token, password=ALICE_PASSWORD)  # the link still works


def test_a_verification_link_works_once(kit):
    kit.register_user(ALICE, ALICE_PASSWORD)
    token = verification_token(kit, kit.log_in(ALICE, ALICE_PASSWORD))
    kit.verify_email(token, password=ALICE_PASSWORD)

    with pytest.raises(InvalidToken, match="used already"):
        kit.verify_email(token, password="a password of the attacker")

    assert can_log_in(kit, ALICE, ALICE_PASSWORD)


def test_a_verification_link_expires_after_its_lifetime(kit):
    kit.register_user(ALICE, ALICE_PASSWORD)
    token = verification_token(kit, kit.log_in(ALICE, ALICE_PASSWORD))
    kit.clock.advance(days=2)

    with pytest.raises(InvalidToken, match="expired"):
        kit.verify_email(token, password=ALICE_PASSWORD)

    assert not stored_user(kit, ALICE).email_verified


def test_a_verification_link_works_until_just_before_it_expires(kit):
    kit.register_user(ALICE, ALICE_PASSWORD)
    token = verification_token(kit, kit.log_in(ALICE, ALICE_PASSWORD))
    kit.clock.advance(days=2, seconds=-1)

    assert kit.verify_email(token, password=ALICE_PASSWORD).email_verified is True


def test_a_proven_address_needs_no_verification(kit):
    kit.register_user(ALICE, ALICE_PASSWORD, email_verified=True)

    with pytest.raises(EmailAlreadyVerified):
        kit.send_email_verification(kit.log_in(ALICE, ALICE_PASSWORD))

    assert kit.mailer.messages(to=ALICE) == []


def test_verification_emails_are_limited_per_address(kit):
    kit.register_user(ALICE, MALLORY_PASSWORD)
    session = kit.log_in(ALICE, MALLORY_PASSWORD)
    for _ in range(5):
        kit.send_email_verification(session)

    with pytest.raises(TooManyAttempts):
        kit.send_email_verification(session)

    assert len(kit.mailer.messages(to=ALICE)) == 5
    kit.clock.advance(hours=1)
    kit.send_email_verification(session)


def test_links_need_their_url_templates():
    kit = LicenseKit(
        new_test_store(),
        RecordingMailer(),
        secret=TEST_SECRET,
        join_url=TEST_JOIN_URL,
        clock=FakeClock(),
        password_hasher=PasswordHasher.insecure_fast(),
    )
    kit.register_user(ALICE, ALICE_PASSWORD)
    session = kit.log_in(ALICE, ALICE_PASSWORD)

    with pytest.raises(ValidationError, match="verify_url"):
        kit.send_email_verification(session)
    with pytest.raises(ValidationError, match="reset_url"):
        kit.request_password_reset(ALICE)


@pytest.mark.parametrize("name", ["verify_url", "reset_url"])
def test_a_link_template_must_hold_the_token_placeholder_once(name):
    with pytest.raises(ValidationError, match=f"{name} must contain"):
        LicenseKit(
            new_test_store(),
            RecordingMailer(),
            secret=TEST_SECRET,
            join_url=TEST_JOIN_URL,
            **{name: "https://portal.example.com/no-token"},
        )


# == tokens that are not what they claim ===================================================


@given(position=st.integers(min_value=0, max_value=200), replacement=st.sampled_from("AQw_-9"))
def test_a_link_token_changed_anywhere_is_refused(position, replacement):
    kit = make_licensekit()
    kit.register_user(ALICE, ALICE_PASSWORD)
    token = verification_token(kit, kit.log_in(ALICE, ALICE_PASSWORD))
    index = position % len(token)
    if token[index] == replacement:
        return
    altered = token[:index] + replacement + token[index + 1 :]

    with pytest.raises(InvalidToken):
        kit.verify_email(altered, password=ALICE_PASSWORD)

    assert not stored_user(kit, ALICE).email_verified


def test_a_reset_token_does_not_verify_and_a_verification_token_does_not_reset(kit):
    kit.register_user(ALICE, ALICE_PASSWORD)
    verify = verification_token(kit, kit.log_in(ALICE, ALICE_PASSWORD))
    reset = reset_token(kit, ALICE)

    with pytest.raises(InvalidToken):
        kit.verify_email(reset, password=ALICE_PASSWORD)
    with pytest.raises(InvalidToken):
        kit.reset_password(verify, NEW_PASSWORD)


def test_a_token_made_under_another_host_secret_is_refused(kit):
    other = LicenseKit(
        kit.store,
        RecordingMailer(),
        secret=b"another host secret of thirty-two bytes or more",
        join_url=TEST_JOIN_URL,
        reset_url="https://x.example/r?t={token}",
        clock=kit.clock,
        password_hasher=PasswordHasher.insecure_fast(),
    )
    kit.register_user(ALICE, ALICE_PASSWORD)
    other.request_password_reset(ALICE)
    forged = other.mailer.last(to=ALICE).data["token"]  # type: ignore[attr-defined]

    with pytest.raises(InvalidToken, match="not valid"):
        kit.reset_password(forged, NEW_PASSWORD)


@pytest.mark.parametrize("token", ["", " ", "x" * 100_000, "not base64 at all!", 42, None])
def test_garbage_tokens_are_invalid_tokens(kit, token):
    with pytest.raises(InvalidToken):
        kit.verify_email(token)  # type: ignore[arg-type]
    with pytest.raises(InvalidToken):
        kit.reset_password(token, NEW_PASSWORD)  # type: ignore[arg-type]


def test_unknown_link_tokens_are_throttled_per_client_but_a_real_link_still_works(kit):
    kit.register_user(ALICE, ALICE_PASSWORD)
    token = reset_token(kit, ALICE)
    for _ in range(10):
        with pytest.raises(InvalidToken):
            kit.reset_password("guess" + "A" * 100, NEW_PASSWORD, client="10.0.0.1")

    with pytest.raises(TooManyAttempts):
        kit.reset_password("guess" + "B" * 100, NEW_PASSWORD, client="10.0.0.1")
    kit.reset_password(token, NEW_PASSWORD, client="10.0.0.1")

    assert can_log_in(kit, ALICE, NEW_PASSWORD)


# == password reset ===========================================================================


def test_a_reset_link_sets_the_password_and_ends_every_session(kit):
    kit.register_user(ALICE, ALICE_PASSWORD, email_verified=True)
    one, two = kit.log_in(ALICE, ALICE_PASSWORD), kit.log_in(ALICE, ALICE_PASSWORD)
    token = reset_token(kit, ALICE)
    message = kit.mailer.last(to=ALICE)
    assert message.data["link"] == f"https://portal.example.com/reset?token={token}"

    assert kit.reset_password(token, NEW_PASSWORD) is None

    assert not session_works(kit, one)
    assert not session_works(kit, two)
    assert can_log_in(kit, ALICE, NEW_PASSWORD)
    assert not can_log_in(kit, ALICE, ALICE_PASSWORD)


def test_a_reset_link_works_once(kit):
    kit.register_user(ALICE, ALICE_PASSWORD)
    token = reset_token(kit, ALICE)
    kit.reset_password(token, NEW_PASSWORD)

    with pytest.raises(InvalidToken, match="used already"):
        kit.reset_password(token, "the attacker's password")

    assert can_log_in(kit, ALICE, NEW_PASSWORD)


def test_every_earlier_reset_link_dies_when_one_is_used(kit):
    kit.register_user(ALICE, ALICE_PASSWORD)
    first, second = reset_token(kit, ALICE), reset_token(kit, ALICE)
    kit.reset_password(second, NEW_PASSWORD)

    with pytest.raises(InvalidToken):
        kit.reset_password(first, "the attacker's password")


def test_a_reset_link_lasts_thirty_minutes_by_default(kit):
    kit.register_user(ALICE, ALICE_PASSWORD)
    late, in_time = reset_token(kit, ALICE), reset_token(kit, ALICE)

    kit.clock.advance(minutes=30)
    with pytest.raises(InvalidToken, match="expired"):
        kit.reset_password(late, NEW_PASSWORD)
    kit.clock.advance(seconds=-1)
    kit.reset_password(in_time, NEW_PASSWORD)


def test_a_reset_proves_an_unproven_account(kit):
    kit.register_user(ALICE, MALLORY_PASSWORD)
    mallory = kit.log_in(ALICE, MALLORY_PASSWORD)

    kit.reset_password(reset_token(kit, ALICE), ALICE_PASSWORD)

    assert stored_user(kit, ALICE).email_verified
    assert not session_works(kit, mallory)
    assert not can_log_in(kit, ALICE, MALLORY_PASSWORD)


def test_a_reset_lifts_the_log_in_lock_of_the_address(kit):
    kit.register_user(ALICE, ALICE_PASSWORD, email_verified=True)
    for _ in range(5):
        with pytest.raises((InvalidCredentials, TooManyAttempts)):
            kit.log_in(ALICE, "an attacker guessing")
    with pytest.raises(TooManyAttempts):
        kit.log_in(ALICE, ALICE_PASSWORD)

    kit.reset_password(reset_token(kit, ALICE), NEW_PASSWORD)

    assert can_log_in(kit, ALICE, NEW_PASSWORD)


def test_a_new_password_breaking_the_policy_is_refused_and_the_link_still_works(kit):
    kit.register_user(ALICE, ALICE_PASSWORD)
    token = reset_token(kit, ALICE)

    with pytest.raises(InvalidPassword):
        kit.reset_password(token, "short")
    kit.reset_password(token, NEW_PASSWORD)


def test_a_reset_for_an_unknown_address_answers_the_same_and_mails_a_notice(kit):
    kit.register_user(ALICE, ALICE_PASSWORD)

    assert kit.request_password_reset(ALICE) is None
    assert kit.request_password_reset("nobody@example.com") is None

    assert kit.mailer.last(to=ALICE).kind is MessageKind.PASSWORD_RESET
    notice = kit.mailer.last(to="nobody@example.com")
    assert notice.kind is MessageKind.PASSWORD_RESET_UNKNOWN
    assert "token" not in notice.data
    assert "link" not in notice.data


def test_a_reset_for_a_known_and_an_unknown_address_does_the_same_work():
    """Same answer, same cost: one counted request, one token sealed, one email."""
    work = {}
    for email in (ALICE, "nobody@example.com"):
        kit = make_licensekit()
        kit.register_user(ALICE, ALICE_PASSWORD)
        sealed: list[str] = []
        kit._ctx.keys = _CountingKeys(kit._ctx.keys, sealed)  # type: ignore[assignment]
        kit.mailer.clear()
        answer = kit.request_password_reset(email)
        with records(kit.store) as tx:
            counted = tx.get(THROTTLES, f"reset:email:{email}").failures
        work[email] = (answer, len(kit.mailer.sent), len(sealed), counted)

    assert work[ALICE] == work["nobody@example.com"] == (None, 1, 1, 1)


class _CountingKeys:
    """The kit's keys, recording every encryption."""

    def __init__(self, keys, log: list[str]) -> None:
        self._keys = keys
        self._log = log

    def encrypt(self, plaintext: str, *, bound_to: str) -> bytes:
        self._log.append(bound_to)
        return self._keys.encrypt(plaintext, bound_to=bound_to)

    def __getattr__(self, name):
        return getattr(self._keys, name)


def test_hosts_may_turn_off_the_notice_to_unknown_addresses():
    kit = make_licensekit(settings=Settings(reset_notice_for_unknown_addresses=False))

    kit.request_password_reset("nobody@example.com")

    assert kit.mailer.sent == []


def test_reset_requests_are_limited_per_address_whether_or_not_it_has_an_account(kit):
    kit.register_user(ALICE, ALICE_PASSWORD)
    for email in (ALICE, "nobody@example.com"):
        for _ in range(5):
            kit.request_password_reset(email)
        with pytest.raises(TooManyAttempts, match="password reset requests"):
            kit.request_password_reset(email)


def test_reset_requests_are_limited_per_client(kit):
    for n in range(5):
        kit.request_password_reset(f"person{n}@example.com", client="10.0.0.9")

    with pytest.raises(TooManyAttempts):
        kit.request_password_reset("person9@example.com", client="10.0.0.9")
    kit.request_password_reset("person9@example.com", client="10.0.0.10")


# == password change ========================================================================


def test_changing_the_password_ends_every_other_session_and_keeps_this_one(kit):
    kit.register_user(ALICE, ALICE_PASSWORD, email_verified=True)
    here, elsewhere = kit.log_in(ALICE, ALICE_PASSWORD), kit.log_in(ALICE, ALICE_PASSWORD)

    kit.change_password(here, ALICE_PASSWORD, NEW_PASSWORD)

    assert session_works(kit, here)
    assert not session_works(kit, elsewhere)
    assert can_log_in(kit, ALICE, NEW_PASSWORD)
    assert not can_log_in(kit, ALICE, ALICE_PASSWORD)
    assert kit.mailer.last(to=ALICE).kind is MessageKind.PASSWORD_CHANGED


def test_changing_the_password_needs_the_current_one(kit):
    kit.register_user(ALICE, ALICE_PASSWORD)
    session = kit.log_in(ALICE, ALICE_PASSWORD)

    with pytest.raises(InvalidCredentials, match="current password"):
        kit.change_password(session, "not the password", NEW_PASSWORD)

    assert can_log_in(kit, ALICE, ALICE_PASSWORD)
    assert kit.mailer.messages(kind=MessageKind.PASSWORD_CHANGED) == []


def test_changing_the_password_without_notice_sends_nothing(kit):
    kit.register_user(ALICE, ALICE_PASSWORD)
    session = kit.log_in(ALICE, ALICE_PASSWORD)

    kit.change_password(session, ALICE_PASSWORD, NEW_PASSWORD, notify=False)

    assert kit.mailer.sent == []


def test_a_failed_notice_does_not_undo_a_password_change():
    kit = make_licensekit(mailer=RecordingMailer(fail_for=[ALICE]))
    kit.register_user(ALICE, ALICE_PASSWORD)
    session = kit.log_in(ALICE, ALICE_PASSWORD)

    kit.change_password(session, ALICE_PASSWORD, NEW_PASSWORD)

    assert can_log_in(kit, ALICE, NEW_PASSWORD)


def test_changing_the_password_kills_an_outstanding_reset_link(kit):
    # Of a proven account: before, the password is the registrant's, whose change must not
    # kill the owner's link (tests/security/test_attack_personal_accounts.py).
    kit.register_user(ALICE, ALICE_PASSWORD, email_verified=True)
    token = reset_token(kit, ALICE)

    kit.change_password(kit.log_in(ALICE, ALICE_PASSWORD), ALICE_PASSWORD, NEW_PASSWORD)

    with pytest.raises(InvalidToken):
        kit.reset_password(token, "the attacker's password")


def test_an_account_without_a_password_cannot_change_it(kit):
    session = kit.trusted_session(ALICE, create=True)

    with pytest.raises(InvalidCredentials):
        kit.change_password(session, "", NEW_PASSWORD)


class _HasherWithHook(PasswordHasher):
    """A hasher calling its hook (set with :func:`set_hook`) with each password it hashed."""

    hook = None

    def hash(self, password: str) -> str:
        result = super().hash(password)
        if self.hook is not None:
            self.hook(password)
        return result


def set_hook(hasher: _HasherWithHook, hook) -> None:
    object.__setattr__(hasher, "hook", hook)  # the hasher is frozen, the hook a test's


def kit_with_hook(hasher: PasswordHasher, **kwargs) -> LicenseKitForTests:
    kit = make_licensekit(**kwargs)
    object.__setattr__(kit, "passwords", hasher)
    return kit


def test_a_password_changed_meanwhile_wins_over_a_concurrent_change():
    hasher = _HasherWithHook(parameters=PasswordHasher.insecure_fast().parameters)
    kit = kit_with_hook(hasher)
    kit.register_user(ALICE, ALICE_PASSWORD)
    session = kit.log_in(ALICE, ALICE_PASSWORD)

    def race(password: str) -> None:
        if password == NEW_PASSWORD:
            set_hook(hasher, None)
            kit.change_password(session, ALICE_PASSWORD, "the winner of the race")

    set_hook(hasher, race)
    with pytest.raises(ConflictError, match="changed meanwhile"):
        kit.change_password(session, ALICE_PASSWORD, NEW_PASSWORD)

    assert can_log_in(kit, ALICE, "the winner of the race")


def test_a_rehash_at_log_in_never_overwrites_a_password_changed_meanwhile():
    """Rule pinned: log-in renews the hash only if the stored one is still the one it checked."""
    old = make_licensekit()
    old.register_user(ALICE, ALICE_PASSWORD, email_verified=True)
    stronger = _HasherWithHook(parameters=Argon2Parameters(memory_cost_kib=16, iterations=1))
    kit = kit_with_hook(stronger, store=old.store, clock=old.clock, mailer=old.mailer)

    def change_meanwhile(password: str) -> None:
        if password == ALICE_PASSWORD:  # the renewed hash of the old password
            old.reset_password(reset_token(old, ALICE), NEW_PASSWORD)

    set_hook(stronger, change_meanwhile)
    with pytest.raises(InvalidCredentials):  # the password it checked was replaced meanwhile
        kit.log_in(ALICE, ALICE_PASSWORD)

    assert can_log_in(old, ALICE, NEW_PASSWORD)
    assert not can_log_in(old, ALICE, ALICE_PASSWORD)


# == lifting the limits =====================================================================


def test_lifting_a_clients_lockout_lets_it_present_unknown_links_again(kit):
    for _ in range(10):
        with pytest.raises(InvalidToken):
            kit.verify_email("guess" + "A" * 100, client="10.0.0.1")
    with pytest.raises(TooManyAttempts):
        kit.verify_email("guess" + "A" * 100, client="10.0.0.1")

    assert kit.lift_lockout(client=" 10.0.0.1 ") == 1

    with pytest.raises(InvalidToken):
        kit.verify_email("guess" + "A" * 100, client="10.0.0.1")


def test_lifting_an_addresses_lockout_lifts_its_reset_limit_too(kit):
    kit.register_user(ALICE, ALICE_PASSWORD)
    for _ in range(5):
        kit.request_password_reset(ALICE, client="10.0.0.2")
    with pytest.raises(TooManyAttempts):
        kit.request_password_reset(ALICE)

    assert kit.lift_lockout(email=ALICE) == 1
    with pytest.raises(TooManyAttempts):  # the client's own limit stays until it is lifted
        kit.request_password_reset(ALICE, client="10.0.0.2")
    kit.request_password_reset(ALICE)
    assert kit.lift_lockout(client="10.0.0.2") == 1
    kit.request_password_reset(ALICE, client="10.0.0.2")


def test_a_dead_link_is_reported_before_a_password_that_breaks_the_policy(kit):
    kit.register_user(ALICE, ALICE_PASSWORD)
    token = reset_token(kit, ALICE)
    kit.reset_password(token, NEW_PASSWORD)

    with pytest.raises(InvalidToken):
        kit.reset_password(token, "short")
    with pytest.raises(InvalidToken):
        kit.verify_email(token, password="short")


def test_a_link_works_exactly_until_the_time_its_email_states(kit):
    kit.clock.advance(microseconds=700_000)
    kit.register_user(ALICE, ALICE_PASSWORD)
    token = reset_token(kit, ALICE)
    stated = dt.datetime.fromisoformat(kit.mailer.last(to=ALICE).data["expires_at"])
    assert stated == dt.datetime(2030, 1, 1, 9, 30, tzinfo=dt.UTC)

    kit.clock.set(stated)
    with pytest.raises(InvalidToken, match="expired"):
        kit.reset_password(token, NEW_PASSWORD)
    kit.clock.set(stated - dt.timedelta(microseconds=1))
    kit.reset_password(token, NEW_PASSWORD)


@pytest.mark.parametrize("junk", ["!", "=", "+", "/", "\x00", "é"])
def test_a_token_with_a_character_outside_its_alphabet_is_refused(kit, junk):
    kit.register_user(ALICE, ALICE_PASSWORD)
    token = reset_token(kit, ALICE)

    with pytest.raises(InvalidToken, match="not valid"):
        kit.reset_password(token[:10] + junk + token[10:], NEW_PASSWORD)

    kit.reset_password(token, NEW_PASSWORD)


def test_an_invitee_choosing_a_password_while_the_account_is_proven_meanwhile_is_refused():
    """Accepting for an unproven account must not overwrite a proof made while it hashed."""
    hasher = _HasherWithHook(parameters=PasswordHasher.insecure_fast().parameters)
    kit = kit_with_hook(hasher)
    kit.register_user(ALICE, MALLORY_PASSWORD)
    token = invite(kit, ALICE)

    def proven_meanwhile(password: str) -> None:
        if password == ALICE_PASSWORD:
            set_hook(hasher, None)
            kit.trusted_session(ALICE)

    set_hook(hasher, proven_meanwhile)
    with pytest.raises(ConflictError, match="proven meanwhile"):
        kit.accept_join_invitation(token, password=ALICE_PASSWORD)

    assert kit.describe_join_invitation(token).needs_current_password is True


def test_a_link_for_an_account_this_store_does_not_hold_is_refused():
    """Same host secret, another store: the sealed token opens, but names nobody here."""
    here, elsewhere = make_licensekit(), make_licensekit()
    elsewhere.register_user(ALICE, ALICE_PASSWORD)
    token = reset_token(elsewhere, ALICE)

    with pytest.raises(InvalidToken, match="no longer exists"):
        here.reset_password(token, NEW_PASSWORD)
