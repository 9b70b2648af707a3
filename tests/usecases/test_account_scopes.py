"""The account use cases lock the scopes they change (issue 14): a server store serialises
two transactions only when they lock a scope in common, so a use case that forgets its scope
races. Each test records the scopes every transaction of one call locked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from licensekit import JoinInvitationView, MemoryStore
from licensekit.testing import (
    TEST_PASSWORD,
    LicenseKitForTests,
    add_member,
    make_business_account,
    make_licensekit,
)


class _Recording:
    def __init__(self, port: Any, scopes: set[str]) -> None:
        self._port = port
        self._scopes = scopes

    def __getattr__(self, name: str) -> Any:
        return getattr(self._port, name)

    def lock(self, scopes: Any) -> bool:
        self._scopes.update(scopes)
        return bool(self._port.lock(scopes))


class RecordingStore(MemoryStore):
    """A memory store that records, per transaction, the scopes locked in it."""

    def __init__(self) -> None:
        super().__init__()
        self.locked: list[set[str]] = []

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with super().transaction() as port:
            scopes: set[str] = set()
            self.locked.append(scopes)
            yield _Recording(port, scopes)

    def scopes_of(self, call: Callable[[], object]) -> set[str]:
        """Return every scope some transaction of *call* locked."""
        self.locked = []
        call()
        return set().union(*self.locked)


def world() -> tuple[LicenseKitForTests, RecordingStore]:
    store = RecordingStore()
    return make_licensekit(store=store), store


def test_registering_locks_the_address() -> None:
    kit, store = world()
    scopes = store.scopes_of(lambda: kit.register_user("ann@example.com", TEST_PASSWORD))
    assert scopes == {"email:ann@example.com"}


def test_logging_in_locks_its_throttle_then_the_user() -> None:
    kit, store = world()
    ann = kit.register_user("ann@example.com", TEST_PASSWORD)
    scopes = store.scopes_of(lambda: kit.log_in("ann@example.com", TEST_PASSWORD))
    assert scopes == {"throttle:password:ann@example.com", f"user:{ann.id}"}


def test_a_reset_locks_the_user_and_their_log_in_throttle() -> None:
    kit, store = world()
    ann = kit.register_user("ann@example.com", TEST_PASSWORD)
    kit.request_password_reset("ann@example.com")
    token = kit.mailer.last_token(to="ann@example.com")
    scopes = store.scopes_of(lambda: kit.reset_password(token, "a brand new password 1"))
    assert scopes == {f"user:{ann.id}", "throttle:password:ann@example.com"}


def test_a_reset_request_locks_its_request_counters() -> None:
    kit, store = world()
    scopes = store.scopes_of(
        lambda: kit.request_password_reset("ann@example.com", client="203.0.113.9")
    )
    assert scopes == {"throttle:reset:email:ann@example.com", "throttle:reset:client:203.0.113.9"}


def test_member_changes_and_invitations_lock_the_account() -> None:
    kit, store = world()
    admin, account = make_business_account(kit)
    bea = add_member(kit, admin, account.id, "bea@example.com")
    both = f"account:{account.id}"
    assert store.scopes_of(lambda: kit.block_member(admin, account.id, bea.user_id)) == {both}
    invited: list[JoinInvitationView] = []

    def invite() -> None:
        invited.extend(kit.invite_members(admin, account.id, ["cy@example.com"]).invited)

    # Sending also counts the account's invitation emails of the hour, under their own scope.
    emails = f"throttle:invitation-emails-per-hour:account:{account.id}"
    assert store.scopes_of(invite) == {both, emails}
    assert store.scopes_of(
        lambda: kit.revoke_join_invitation(admin, account.id, invited[0].id)
    ) == {both}


def test_accepting_locks_the_account_the_address_and_the_user() -> None:
    kit, store = world()
    admin, account = make_business_account(kit)
    kit.invite_members(admin, account.id, ["dee@example.com"])
    token = kit.mailer.last_token(to="dee@example.com")
    scopes = store.scopes_of(lambda: kit.accept_join_invitation(token, password=TEST_PASSWORD))
    (dee,) = [m for m in kit.list_members(admin, account.id).items if m.email == "dee@example.com"]
    assert scopes == {f"account:{account.id}", "email:dee@example.com", f"user:{dee.user_id}"}


def test_listings_lock_nothing() -> None:
    kit, store = world()
    admin, account = make_business_account(kit)
    assert store.scopes_of(lambda: kit.list_members(admin, account.id)) == set()
    assert store.scopes_of(lambda: kit.list_my_accounts(admin)) == set()
    assert store.scopes_of(lambda: kit.list_audit_events(admin, account.id)) == set()
