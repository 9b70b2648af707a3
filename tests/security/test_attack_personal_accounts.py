"""An attacker's pass over proof of address (issue 13, section 1): what Mallory, who registered
Alice's address first, holds a session and knows its password, can still do, and what the
links, throttles and half-written states let through.

Interleavings are made deterministic with hooks, never with timing: a password hasher that
runs another call while it checks or hashes a password (outside any transaction, as the use
cases do), or a store whose transactions fail at a chosen write. The stores are real.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from _records import records
from licensekit import (
    InvalidCredentials,
    InvalidPassword,
    InvalidSession,
    MessageKind,
    PasswordHasher,
    StorageError,
)
from licensekit.storage import PROTOCOL_VERSION, USERS
from licensekit.testing import LicenseKitForTests, make_business_account, make_licensekit

ALICE = "alice@victim.example"
MALLORY_PASSWORD = "mallory chose this"
MALLORY_SECOND = "mallory chose that"
ALICE_PASSWORD = "alice chose this one"


# == helpers ====================================================================================


class HookedHasher(PasswordHasher):
    """A hasher that runs its one-shot hook after the next password it verifies or hashes."""

    def verify(self, password: str, phc: str) -> bool:
        result = super().verify(password, phc)
        _fire(self, "on_verify")
        return result

    def hash(self, password: str) -> str:
        result = super().hash(password)
        _fire(self, "on_hash")
        return result


def _fire(hasher: HookedHasher, name: str) -> None:
    hook = getattr(hasher, name, None)
    if hook is not None:
        object.__setattr__(hasher, name, None)  # one shot: the hook may use the hasher too
        hook()


def hook(kit: LicenseKitForTests, name: str, action: Callable[[], object]) -> None:
    """Run *action* once, right after the kit's hasher next verifies (or hashes) a password."""
    object.__setattr__(kit.passwords, name, action)


def hooked_kit(**kwargs: Any) -> LicenseKitForTests:
    kit = make_licensekit(**kwargs)
    fast = PasswordHasher.insecure_fast().parameters
    object.__setattr__(kit, "passwords", HookedHasher(parameters=fast))
    return kit


def squatted(kit: LicenseKitForTests):
    """Mallory registers Alice's address first and logs in."""
    kit.register_user(ALICE, MALLORY_PASSWORD)
    return kit.log_in(ALICE, MALLORY_PASSWORD)


def invitation_token(kit: LicenseKitForTests) -> str:
    admin, account = make_business_account(kit)
    kit.invite_members(admin, account.id, [ALICE])
    return kit.mailer.last_token(to=ALICE)


def reset_token(kit: LicenseKitForTests) -> str:
    kit.request_password_reset(ALICE)
    return kit.mailer.last(to=ALICE, kind=MessageKind.PASSWORD_RESET).data["token"]


def verification_token(kit: LicenseKitForTests, session) -> str:
    kit.send_email_verification(session)
    return kit.mailer.last(to=ALICE, kind=MessageKind.EMAIL_VERIFICATION).data["token"]


def can_log_in(kit: LicenseKitForTests, password: str) -> bool:
    try:
        kit.log_in(ALICE, password)
    except InvalidCredentials:
        return False
    return True


def stored_alice(kit: LicenseKitForTests):
    with records(kit.store) as tx:
        return tx.find(USERS, email=ALICE)


def prepare_proof(kit: LicenseKitForTests, proof: str, mallory) -> Callable[[], object]:
    """Make what Alice needs for *proof* now, and return her taking it up."""
    if proof == "invitation":
        token = invitation_token(kit)
        return lambda: kit.accept_join_invitation(token, password=ALICE_PASSWORD)
    if proof == "verification":  # Mallory asked for it; the link went to Alice's mailbox
        token = verification_token(kit, mallory)
        return lambda: kit.verify_email(token, password=ALICE_PASSWORD)
    if proof == "reset":
        token = reset_token(kit)
        return lambda: kit.reset_password(token, ALICE_PASSWORD)
    assert proof == "host"
    return lambda: kit.trusted_session(ALICE)


PROOFS = ["invitation", "verification", "reset", "host"]


# == sessions issued on a password that was replaced meanwhile ==============================


@pytest.mark.parametrize("proof", PROOFS)
def test_a_log_in_whose_password_a_proof_replaced_meanwhile_gets_no_session(proof):
    """Mallory's log-in checks his password; before it issues the session, Alice proves the
    address, which ends every session and replaces (or discards) his password. The log-in
    must not then hand Mallory a fresh session of Alice's proven account."""
    kit = hooked_kit()
    mallory = squatted(kit)
    alice_proves = prepare_proof(kit, proof, mallory)

    hook(kit, "on_verify", alice_proves)
    with pytest.raises(InvalidCredentials):
        kit.log_in(ALICE, MALLORY_PASSWORD)

    assert stored_alice(kit).email_verified
    assert not can_log_in(kit, MALLORY_PASSWORD)


def test_an_acceptance_whose_password_a_reset_replaced_meanwhile_is_refused():
    """Someone holding Alice's invitation link and her old password accepts; while that
    password is being checked, Alice resets it. The acceptance must not go through on the
    password she just replaced."""
    kit = hooked_kit()
    kit.register_user(ALICE, MALLORY_PASSWORD, email_verified=True)
    token = invitation_token(kit)
    reset = reset_token(kit)

    hook(kit, "on_verify", lambda: kit.reset_password(reset, ALICE_PASSWORD))
    with pytest.raises(InvalidCredentials):
        kit.accept_join_invitation(token, password=MALLORY_PASSWORD)

    assert kit.describe_join_invitation(token).email == ALICE  # still pending
    assert kit.list_my_accounts(kit.log_in(ALICE, ALICE_PASSWORD)) == ()


# == the squatter cannot kill the owner's links =============================================


@pytest.mark.parametrize("link", ["reset", "verification"])
def test_a_squatters_password_change_does_not_kill_the_owners_link(link):
    """Before the address is proven, the password is whoever registered it: changing it (over
    and over, from the session Mallory keeps) must not kill the link in Alice's mailbox, or
    the squatter could keep her from ever proving her address by email."""
    kit = make_licensekit()
    mallory = squatted(kit)
    token = reset_token(kit) if link == "reset" else verification_token(kit, mallory)

    kit.change_password(mallory, MALLORY_PASSWORD, MALLORY_SECOND)

    if link == "reset":
        kit.reset_password(token, ALICE_PASSWORD)
    else:
        kit.verify_email(token, password=ALICE_PASSWORD)
    assert stored_alice(kit).email_verified
    assert can_log_in(kit, ALICE_PASSWORD)
    assert not can_log_in(kit, MALLORY_SECOND)
    with pytest.raises(InvalidSession):
        kit.current_user(mallory)


def test_a_squatters_password_change_racing_the_owners_reset_loses():
    """Mallory changes the password while Alice's new one is being hashed: her reset still
    wins, and his session and password are gone."""
    kit = hooked_kit()
    mallory = squatted(kit)
    token = reset_token(kit)

    hook(
        kit,
        "on_hash",
        lambda: kit.change_password(mallory, MALLORY_PASSWORD, MALLORY_SECOND, notify=False),
    )
    kit.reset_password(token, ALICE_PASSWORD)

    assert can_log_in(kit, ALICE_PASSWORD)
    assert not can_log_in(kit, MALLORY_SECOND)
    with pytest.raises(InvalidSession):
        kit.current_user(mallory)


# == enumeration =================================================================================


def test_a_reset_request_leaves_the_same_trace_whether_or_not_the_address_has_an_account():
    """Ids count up within a millisecond, process-wide, and callers see ids (a new user's, a
    session's). A reset request for an unknown address made an id for nobody, so the next id
    anyone was handed told whether the address had an account."""
    kit = make_licensekit()  # its clock stands still: every id falls in one millisecond
    kit.register_user(ALICE, ALICE_PASSWORD)

    def ids_made_by(request: Callable[[], object]) -> int:
        before = _id_counter(kit.register_user(f"a{len(kit.mailer.sent)}@example.com", "x" * 12))
        request()
        after = _id_counter(kit.register_user(f"b{len(kit.mailer.sent)}@example.com", "x" * 12))
        return after - before - 1

    assert ids_made_by(lambda: kit.request_password_reset(ALICE)) == 0
    assert ids_made_by(lambda: kit.request_password_reset("nobody@example.com")) == 0


def _id_counter(user) -> int:
    return int(user.id.split("_")[2], 16)


# == mail to an address that is not proven =====================================================


def test_a_squatter_cannot_mail_the_owner_without_limit_by_changing_the_password():
    """Mallory can change the password of the account he registered as often as he likes;
    every change used to email Alice "your password was changed", with no limit, while the
    mails he may request (verification, reset) are limited per address. An unproven address
    gets no such notice; once proven, its owner does."""
    kit = make_licensekit()
    mallory = squatted(kit)
    passwords = [MALLORY_PASSWORD] + [f"mallory's password number {n}" for n in range(20)]

    for current, new in itertools.pairwise(passwords):
        kit.change_password(mallory, current, new)

    assert kit.mailer.messages(to=ALICE, kind=MessageKind.PASSWORD_CHANGED) == []
    alice = kit.verify_email(verification_token(kit, mallory), password=ALICE_PASSWORD)
    kit.change_password(alice, ALICE_PASSWORD, MALLORY_SECOND)
    assert kit.mailer.last(to=ALICE).kind is MessageKind.PASSWORD_CHANGED


# == inputs ==================================================================================


NOT_TEXT = {"None": None, "int": 1234567890123, "bytes": b"bytes password"}


@pytest.mark.parametrize(
    ("use_case", "value"),
    [
        pytest.param(use_case, value, id=f"{use_case}-{name}")
        for use_case in ("register", "verify", "reset", "change")
        for name, value in NOT_TEXT.items()
        if not (use_case == "verify" and value is None)  # there, None means "no password"
    ],
)
def test_a_new_password_that_is_not_text_is_an_invalid_password_and_changes_nothing(
    use_case, value
):
    kit = make_licensekit()
    kit.register_user(ALICE, ALICE_PASSWORD)
    session = kit.log_in(ALICE, ALICE_PASSWORD)
    attempts: dict[str, Callable[[], object]] = {
        "register": lambda: kit.register_user("bob@example.com", value),  # type: ignore[arg-type]
        "verify": lambda: kit.verify_email(verification_token(kit, session), password=value),  # type: ignore[arg-type]
        "reset": lambda: kit.reset_password(reset_token(kit), value),  # type: ignore[arg-type]
        "change": lambda: kit.change_password(session, ALICE_PASSWORD, value),  # type: ignore[arg-type]
    }

    with pytest.raises(InvalidPassword, match="must be text"):
        attempts[use_case]()

    assert not stored_alice(kit).email_verified
    assert can_log_in(kit, ALICE_PASSWORD)
    kit.current_user(session)  # still logged in


# == half-written state =========================================================================


class FailingStore:
    """A store whose transactions raise StorageError at the *fail_at*-th write, counted from
    when it is armed; everything else goes to the real store."""

    WRITES = ("add", "save", "put", "delete", "increment")
    protocol_version = PROTOCOL_VERSION

    def __init__(self, store) -> None:
        self._store = store
        self.writes = 0
        self.fail_at: int | None = None

    @contextmanager
    def transaction(self) -> Iterator[object]:
        with self._store.transaction() as tx:
            yield _FailingTransaction(tx, self)

    def close(self) -> None:
        self._store.close()


class _FailingTransaction:
    def __init__(self, tx, store: FailingStore) -> None:
        self._tx = tx
        self._store = store

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._tx, name)
        if not name.startswith(FailingStore.WRITES):
            return attribute

        def write(*args: Any, **kwargs: Any) -> Any:
            self._store.writes += 1
            if self._store.writes == self._store.fail_at:
                raise StorageError("the disk is full")
            return attribute(*args, **kwargs)

        return write


@pytest.mark.parametrize("proof", PROOFS)
def test_a_proof_failing_at_any_write_changes_nothing_and_can_be_taken_up_again(proof):
    n = 1
    while True:
        plain = make_licensekit()
        failing = FailingStore(plain.store)
        kit = make_licensekit(store=failing, clock=plain.clock, mailer=plain.mailer)  # type: ignore[arg-type]
        mallory = squatted(kit)
        alice_proves = prepare_proof(kit, proof, mallory)
        failing.writes, failing.fail_at = 0, n
        try:
            alice_proves()
        except StorageError:
            pass
        else:
            assert n > 1  # the proof writes something
            break
        failing.fail_at = None
        assert not stored_alice(kit).email_verified, n
        assert can_log_in(kit, MALLORY_PASSWORD), n
        kit.current_user(mallory)  # nothing ended yet
        alice_proves()  # the link (or the host's word) still works
        assert not can_log_in(kit, MALLORY_PASSWORD), n
        n += 1
