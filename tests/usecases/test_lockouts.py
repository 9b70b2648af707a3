"""A throttle on guessed codes and tokens refuses unknown ones only, never a valid one; hosts
lift a lock with LicenseKit.lift_lockout. Both stores, whatever LICENSEKIT_TEST_STORE says."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from licensekit import (
    ActivationCodeNotFound,
    ActivationCodeWrongProduct,
    InstallationNotFound,
    InvalidCredentials,
    InvalidEmail,
    InvitationNotFound,
    MemoryStore,
    MessageKind,
    SeatsFull,
    Session,
    Settings,
    SQLiteStore,
    ThrottlePolicy,
    TooManyAttempts,
    ValidationError,
)
from licensekit.codes import new_activation_code
from licensekit.testing import (
    LicenseKitForTests,
    make_business_account,
    make_licensekit,
)

NAT = "198.51.100.20"
"""One address in front of a whole office."""
OTHER = "203.0.113.5"
LOCK = dt.timedelta(minutes=15)


class Invited(NamedTuple):
    email: str
    code: str
    token: str


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MemoryStore | SQLiteStore]:
    made = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "lock.db")
    yield made
    made.close()


class World(NamedTuple):
    kit: LicenseKitForTests
    admin: Session
    account_id: str
    key_id: str

    def invite(self, email: str, **options: Any) -> Invited:
        self.kit.invite_installers(self.admin, self.account_id, self.key_id, [email], **options)
        data = self.kit.mailer.last(to=email, kind=MessageKind.INSTALL_INVITATION).data
        return Invited(email, data["code"], data["token"])


def world(store: MemoryStore | SQLiteStore, *, seats: int = 300, **settings: Any) -> World:
    kit = make_licensekit(store=store, settings=Settings(**settings))
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="Desktop Pro", value="DP-1", seats=seats)
    return World(kit, admin, account.id, key.id)


def lock_out_activations(kit: LicenseKitForTests, client: str = NAT, times: int = 10) -> None:
    """Present *times* unknown download tokens from *client* (the default policy locks at 10)."""
    for n in range(times):
        with pytest.raises(ActivationCodeNotFound):
            kit.activate(token=f"unknown-{n}", computer_id="probe", client=client)


# == valid codes and tokens are never refused ==================================================


def test_a_locked_client_still_activates_every_valid_code_and_token(store):
    """The load test: ten unknown tokens lock the office's address; its valid ones all work."""
    w = world(store)
    office = [w.invite(f"user{n}@example.com") for n in range(12)]
    lock_out_activations(w.kit)

    for n, person in enumerate(office):
        how = {"code": person.code} if n % 2 else {"token": person.token}
        result = w.kit.activate(computer_id=f"pc-{n}", client=NAT, **how)
        assert (result.email, result.already_active) == (person.email, False)
    assert w.kit.get_license_key(w.admin, w.account_id, w.key_id).seats_used == len(office)


def test_a_locked_client_is_refused_unknown_codes_and_tokens_until_the_lock_ends(store):
    w = world(store)
    lock_out_activations(w.kit)

    with pytest.raises(TooManyAttempts, match="activation codes and tokens") as locked:
        w.kit.activate(code=new_activation_code(), computer_id="probe", client=NAT)
    with pytest.raises(TooManyAttempts):
        w.kit.activate(token="unknown-again", computer_id="probe", client=NAT)
    with pytest.raises(TooManyAttempts):
        w.kit.describe_install_invitation("unknown-again", client=NAT)

    assert locked.value.until == w.kit.clock.now() + LOCK
    with pytest.raises(ActivationCodeNotFound):  # another client is not locked
        w.kit.activate(token="unknown-again", computer_id="probe", client=OTHER)
    w.kit.clock.advance(LOCK)
    with pytest.raises(ActivationCodeNotFound):
        w.kit.activate(token="unknown-again", computer_id="probe", client=NAT)


def test_a_locked_client_still_opens_a_valid_download_link(store):
    w = world(store)
    ann = w.invite("ann@example.com")
    lock_out_activations(w.kit)

    assert w.kit.describe_install_invitation(ann.token, client=NAT).email == "ann@example.com"


def test_a_valid_code_from_a_locked_client_leaves_the_lock_in_force(store):
    w = world(store)
    ann = w.invite("ann@example.com")
    lock_out_activations(w.kit)
    w.kit.activate(code=ann.code, computer_id="pc-1", client=NAT)

    with pytest.raises(TooManyAttempts):
        w.kit.activate(code=new_activation_code(), computer_id="probe", client=NAT)


def test_a_locked_client_still_checks_in_with_a_known_installation_token(store):
    w = world(store, activation_client_throttle=ThrottlePolicy(max_failures=2))
    installed = w.kit.activate(code=w.invite("ann@example.com").code, computer_id="pc-1")
    for _ in range(2):
        with pytest.raises(InstallationNotFound):
            w.kit.check_in("forged", client=NAT)
    with pytest.raises(TooManyAttempts, match="installation tokens"):
        w.kit.check_in("forged", client=NAT)

    assert (
        w.kit.check_in(installed.installation_token, client=NAT).installation.id
        == installed.installation_id
    )


# == one code's own lock ======================================================================


def test_a_code_locked_for_its_refusals_still_activates_once_it_is_used_right(store):
    """The per-code lock keeps its meaning (refusals for the code's own sake are counted, and
    then refused), but a usable code is not refused."""
    policy = ThrottlePolicy(max_failures=3, lockout=dt.timedelta(minutes=30))
    w = world(store, activation_invitation_throttle=policy)
    team = w.invite("team@example.com", max_activations=5)
    for _ in range(3):
        with pytest.raises(ActivationCodeWrongProduct):
            w.kit.activate(code=team.code, computer_id="pc-1", product="Other product", client=NAT)
    with pytest.raises(TooManyAttempts, match="this activation code"):
        w.kit.activate(code=team.code, computer_id="pc-1", product="Other product", client=NAT)

    result = w.kit.activate(code=team.code, computer_id="pc-1", product="Desktop Pro", client=NAT)

    assert (result.email, result.already_active) == ("team@example.com", False)
    with pytest.raises(TooManyAttempts, match="this activation code"):
        w.kit.activate(token=team.token, computer_id="pc-2", product="Other product")


def test_a_locked_code_says_the_seats_are_full_rather_than_too_many_attempts(store):
    """Full seats are not the code's fault, lock or not: the installer learns the truth."""
    policy = ThrottlePolicy(max_failures=2, lockout=dt.timedelta(minutes=30))
    w = world(store, seats=1, activation_invitation_throttle=policy)
    w.kit.activate(code=w.invite("ann@example.com").code, computer_id="pc-0")
    team = w.invite("team@example.com", max_activations=5)
    for _ in range(2):
        with pytest.raises(ActivationCodeWrongProduct):
            w.kit.activate(code=team.code, computer_id="pc-1", product="Other product")

    with pytest.raises(SeatsFull):
        w.kit.activate(code=team.code, computer_id="pc-1")


# == join invitation links ====================================================================


def lock_out_join_links(kit: LicenseKitForTests, client: str = NAT) -> None:
    for n in range(10):  # the default token_throttle locks at the tenth
        with pytest.raises(InvitationNotFound):
            kit.describe_join_invitation(f"unknown-{n}", client=client)


def test_a_locked_client_still_opens_and_accepts_a_valid_join_link(store):
    w = world(store)
    w.kit.invite_members(w.admin, w.account_id, ["grace@example.com", "alan@example.com"])
    grace = w.kit.mailer.last_token(to="grace@example.com")
    alan = w.kit.mailer.last_token(to="alan@example.com")
    lock_out_join_links(w.kit)

    assert w.kit.describe_join_invitation(grace, client=NAT).email == "grace@example.com"
    joined = w.kit.accept_join_invitation(grace, password="grace's passphrase", client=NAT)
    assert joined.email == "grace@example.com"
    session = w.kit.accept_join_invitation(alan, password="alan's passphrase", client=f" {NAT} ")
    assert session.email == "alan@example.com"


def test_a_locked_client_is_refused_unknown_join_links_until_the_lock_ends(store):
    w = world(store)
    lock_out_join_links(w.kit)

    with pytest.raises(TooManyAttempts, match="invitation links from this client") as locked:
        w.kit.describe_join_invitation("unknown", client=NAT)
    with pytest.raises(TooManyAttempts):
        w.kit.accept_join_invitation("unknown", password="a passphrase", client=f"{NAT}\n")

    assert locked.value.until == w.kit.clock.now() + LOCK
    with pytest.raises(InvitationNotFound):
        w.kit.describe_join_invitation("unknown", client=OTHER)
    w.kit.clock.advance(LOCK)
    with pytest.raises(InvitationNotFound):
        w.kit.describe_join_invitation("unknown", client=NAT)


# == lifting locks ============================================================================


def lock_out_check_ins(kit: LicenseKitForTests, client: str = NAT) -> None:
    for n in range(10):
        with pytest.raises(InstallationNotFound):
            kit.check_in(f"unknown-{n}", client=client)


def lock_out_log_ins(kit: LicenseKitForTests, email: str) -> None:
    for _ in range(5):  # the default password_throttle locks at the fifth
        with pytest.raises(InvalidCredentials):
            kit.log_in(email, "not the password")


def test_lift_lockout_lifts_every_lock_on_a_client_and_says_how_many(store):
    w = world(store)
    lock_out_join_links(w.kit)
    lock_out_activations(w.kit)
    lock_out_check_ins(w.kit)
    lock_out_activations(w.kit, client=OTHER)

    assert w.kit.lift_lockout(client=NAT) == 3

    with pytest.raises(InvitationNotFound):
        w.kit.describe_join_invitation("unknown", client=NAT)
    with pytest.raises(ActivationCodeNotFound):
        w.kit.activate(token="unknown", computer_id="probe", client=NAT)
    with pytest.raises(InstallationNotFound):
        w.kit.check_in("unknown", client=NAT)
    with pytest.raises(TooManyAttempts):  # another client's lock stays
        w.kit.activate(token="unknown", computer_id="probe", client=OTHER)
    assert w.kit.lift_lockout(client=NAT) == 0


def test_lift_lockout_lifts_the_log_in_lock_of_an_email(store):
    w = world(store)
    w.kit.register_user("ada@example.com", "ada's passphrase")
    lock_out_log_ins(w.kit, "ada@example.com")
    with pytest.raises(TooManyAttempts):
        w.kit.log_in("ada@example.com", "ada's passphrase")

    assert w.kit.lift_lockout(email=" ADA@Example.com ") == 1

    assert w.kit.log_in("ada@example.com", "ada's passphrase").email == "ada@example.com"


def test_lift_lockout_takes_a_client_and_an_email_together(store):
    w = world(store)
    w.kit.register_user("ada@example.com", "ada's passphrase")
    lock_out_log_ins(w.kit, "ada@example.com")
    lock_out_activations(w.kit)

    assert w.kit.lift_lockout(client=f" {NAT} ", email="ada@example.com") == 2


def test_lift_lockout_forgets_failures_short_of_a_lock_without_counting_them(store):
    """A lifted client starts afresh: the failures it had are gone, so it gets all its tries."""
    w = world(store)
    lock_out_activations(w.kit, times=9)

    assert w.kit.lift_lockout(client=NAT) == 0

    lock_out_activations(w.kit, times=9)  # nine more misses, and still no lock
    with pytest.raises(ActivationCodeNotFound):
        w.kit.activate(token="tenth", computer_id="probe", client=NAT)
    with pytest.raises(TooManyAttempts):
        w.kit.activate(token="eleventh", computer_id="probe", client=NAT)


def test_a_lock_that_has_ended_is_not_counted_as_lifted(store):
    w = world(store)
    lock_out_activations(w.kit)
    w.kit.clock.advance(LOCK)

    assert w.kit.lift_lockout(client=NAT) == 0


def test_lift_lockout_leaves_the_overall_limit_and_a_codes_own_lock(store):
    """The overall limit is nobody's to lift, and a code's lock is about the code."""
    overall = ThrottlePolicy(max_failures=10)
    code = ThrottlePolicy(max_failures=1)
    w = world(store, activation_overall_throttle=overall, activation_invitation_throttle=code)
    team = w.invite("team@example.com")
    with pytest.raises(ActivationCodeWrongProduct):
        w.kit.activate(code=team.code, computer_id="pc-1", product="Other", client=NAT)
    lock_out_activations(w.kit)  # ten misses: the client's lock, and the overall one

    assert w.kit.lift_lockout(client=NAT) == 1

    with pytest.raises(TooManyAttempts, match="activation codes and tokens"):
        w.kit.activate(token="unknown", computer_id="probe", client=OTHER)
    with pytest.raises(TooManyAttempts, match="this activation code"):
        w.kit.activate(code=team.code, computer_id="pc-1", product="Other", client=NAT)


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({}, ValidationError, "give the client, the email or both"),
        ({"client": ""}, ValidationError, "give the client, the email or both"),
        ({"client": " \t"}, ValidationError, "give the client, the email or both"),
        ({"client": 42}, ValidationError, "client must be text"),
        ({"client": "\ud800"}, ValidationError, "client must be valid Unicode text"),
        ({"client": "a\x00b"}, ValidationError, "client must not contain a NUL"),
        ({"email": "not an address"}, InvalidEmail, None),
    ],
)
def test_lift_lockout_refuses_what_names_nothing(store, arguments, error, message):
    w = world(store)
    lock_out_activations(w.kit)

    with pytest.raises(error, match=message):
        w.kit.lift_lockout(**arguments)

    with pytest.raises(TooManyAttempts):  # nothing was lifted
        w.kit.activate(token="unknown", computer_id="probe", client=NAT)
