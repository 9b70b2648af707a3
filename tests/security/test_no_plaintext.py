"""A storage dump reveals no session token, invitation token or password, in any form it is read."""

from __future__ import annotations

import json

import pytest

from _records import records
from licensekit import InvalidCredentials, InvitationNotFound, LicenseKit, Session
from licensekit.model import User
from licensekit.serialization import unstructure
from licensekit.storage import USERS
from licensekit.testing import TEST_SECRET, make_licensekit

ADMIN_PASSWORD = "admin-passphrase-Zq81"
SECOND_ADMIN_PASSWORD = "second-admin-pass-Kd27"
EXISTING_PASSWORD = "existing-user-pass-Hx55"
NEWCOMER_PASSWORD = "newcomer-chosen-pass-Wm03"
LATE_PASSWORD = "late-joiner-pass-Pv64"
WRONG_GUESS = "a-wrong-guess-Lr19"
PASSWORDS = (
    WRONG_GUESS,
    ADMIN_PASSWORD,
    SECOND_ADMIN_PASSWORD,
    EXISTING_PASSWORD,
    NEWCOMER_PASSWORD,
    LATE_PASSWORD,
)


def _full_scenario() -> tuple[LicenseKit, list[Session]]:
    kit = make_licensekit()
    sessions: list[Session] = []
    kit.register_user("admin@example.com", ADMIN_PASSWORD, name="Ada Admin", email_verified=True)
    kit.register_user("existing@example.com", EXISTING_PASSWORD, email_verified=True)
    kit.register_user("other-admin@example.com", SECOND_ADMIN_PASSWORD, email_verified=True)
    admin = kit.log_in("admin@example.com", ADMIN_PASSWORD)
    sessions.append(admin)
    account = kit.create_business_account(admin, "Plaintext Hunters Ltd")

    batch = kit.invite_members(
        admin,
        account.id,
        ["existing@example.com", "newcomer@example.com", "late@example.com", "sso@example.com"],
    )
    assert len(batch.invited) == 4
    by_email = {i.email: i for i in batch.invited}

    sessions.append(
        kit.accept_join_invitation(
            kit.mailer.last_token(to="existing@example.com"), password=EXISTING_PASSWORD
        )
    )
    sessions.append(
        kit.accept_join_invitation(
            kit.mailer.last_token(to="newcomer@example.com"),
            password=NEWCOMER_PASSWORD,
            name="Nina Newcomer",
        )
    )
    kit.resend_join_invitation(admin, account.id, by_email["late@example.com"].id)
    kit.clock.advance(hours=1)
    sessions.append(
        kit.accept_join_invitation(
            kit.mailer.last_token(to="late@example.com"), password=LATE_PASSWORD
        )
    )
    trusted = kit.trusted_session("sso@example.com", create=True, name="Sam SSO")
    sessions.append(trusted)
    sessions.append(
        kit.accept_join_invitation(kit.mailer.last_token(to="sso@example.com"), session=trusted)
    )
    sessions.append(kit.log_in("newcomer@example.com", NEWCOMER_PASSWORD))
    sessions.append(kit.log_in("other-admin@example.com", SECOND_ADMIN_PASSWORD))
    kit.resend_join_invitation(
        admin,
        account.id,
        kit.invite_members(admin, account.id, ["pending@example.com"]).invited[0].id,
    )
    # Wrong guesses leave throttle records behind; they must not hold the guess either.
    with pytest.raises(InvalidCredentials):
        kit.log_in("existing@example.com", WRONG_GUESS)
    with pytest.raises(InvitationNotFound):
        kit.accept_join_invitation(WRONG_GUESS, password=WRONG_GUESS, client="203.0.113.9")
    return kit, sessions


@pytest.fixture(scope="module")
def scenario() -> tuple[LicenseKit, list[Session]]:
    return _full_scenario()


def _secrets(kit: LicenseKit, sessions: list[Session]) -> list[str]:
    tokens = [s.token for s in sessions]
    invitation_tokens = [m.data["token"] for m in kit.mailer.sent]  # type: ignore[attr-defined]
    assert len(invitation_tokens) >= 6
    assert all(len(t) >= 16 for t in [*tokens, *invitation_tokens])
    host_secret = TEST_SECRET.decode()
    return [*tokens, *invitation_tokens, *PASSWORDS, host_secret]


def _records(kit: LicenseKit) -> list[object]:
    records = kit.store.dump()  # type: ignore[attr-defined]
    kinds = {type(r).__name__ for r in records}
    assert kinds >= {
        "User",
        "BusinessAccount",
        "Membership",
        "JoinInvitation",
        "SessionRecord",
        "AuditEvent",
        "Throttle",
    }, kinds
    return records


def test_serialised_store_records_contain_no_token_or_password(
    scenario: tuple[LicenseKit, list[Session]],
) -> None:
    kit, sessions = scenario
    secrets = _secrets(kit, sessions)
    for record in _records(kit):
        text = json.dumps(unstructure(record))
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{type(record).__name__} serialises a secret"


def test_repr_of_store_records_contains_no_token_or_password(
    scenario: tuple[LicenseKit, list[Session]],
) -> None:
    kit, sessions = scenario
    secrets = _secrets(kit, sessions)
    for record in _records(kit):
        text = repr(record)
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"repr of {type(record).__name__} shows a secret"


def test_whole_dump_as_one_text_contains_no_token_or_password(
    scenario: tuple[LicenseKit, list[Session]],
) -> None:
    kit, sessions = scenario
    everything = json.dumps(unstructure(_records(kit))) + repr(kit.store.dump())  # type: ignore[attr-defined]
    for secret in _secrets(kit, sessions):
        assert secret not in everything


def test_invitation_tokens_in_sent_mail_are_the_ones_that_worked(
    scenario: tuple[LicenseKit, list[Session]],
) -> None:
    """The tokens searched for are real: each mailed link carries its token."""
    kit, _ = scenario
    for message in kit.mailer.sent:  # type: ignore[attr-defined]
        assert message.data["token"] in message.data["link"]
        assert message.data["token"] in message.text


def test_repr_of_session_hides_its_token() -> None:
    kit = make_licensekit()
    kit.register_user("ann@example.com", ADMIN_PASSWORD, email_verified=True)
    session = kit.log_in("ann@example.com", ADMIN_PASSWORD)
    assert session.token not in repr(session)
    assert "token" not in repr(session)
    assert session.id in repr(session)


def test_repr_of_user_hides_its_password_hash() -> None:
    kit = make_licensekit()
    kit.register_user("ann@example.com", ADMIN_PASSWORD, email_verified=True)
    with records(kit.store) as tx:
        stored = tx.find(USERS, email="ann@example.com")
    assert isinstance(stored, User)
    assert stored.password_hash is not None
    assert ADMIN_PASSWORD not in stored.password_hash
    assert stored.password_hash not in repr(stored)
    assert "password" not in repr(stored)
    assert ADMIN_PASSWORD not in repr(stored)


def test_repr_of_the_facade_and_store_reveal_no_secret(
    scenario: tuple[LicenseKit, list[Session]],
) -> None:
    kit, sessions = scenario
    text = repr(kit) + repr(kit.store) + repr(kit.mailer)
    for secret in _secrets(kit, sessions):
        assert secret not in text
