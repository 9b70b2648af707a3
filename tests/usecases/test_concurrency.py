"""The account rules hold when use cases race each other on one store.

Each race runs many rounds with the threads released together by a barrier; the rule must
hold in every round, not just usually. A use case that read in one transaction what it writes
in another fails these tests as soon as anything yields between the two, as every real
store's I/O does.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator

import pytest

from _records import active_administrators, records
from licensekit import (
    AccountNotFound,
    AuditAction,
    InvitationAlreadyAccepted,
    LastAdministrator,
    LicenseKitError,
    MemberBlocked,
    Role,
)
from licensekit.storage import AUDIT_EVENTS
from licensekit.testing import TEST_PASSWORD, add_member, make_business_account, make_licensekit

ROUNDS = 40


@pytest.fixture(autouse=True)
def eager_thread_switching() -> Iterator[None]:
    """Switch threads every microsecond, so that races interleave inside use cases."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def race(*calls: Callable[[], object]) -> list[object]:
    """Run *calls* in threads released at once; return each result or licensekit error."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        barrier.wait(timeout=10)
        try:
            results[index] = call()
        except LicenseKitError as e:
            results[index] = e

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def errors(results: list[object]) -> list[type[BaseException]]:
    return [type(r) for r in results if isinstance(r, BaseException)]


# The loser of each race is refused as the last administrator or, removed or blocked by the
# winner first, has lost the right to act at all. Both never succeed.
STEP_DOWN_LOSER = {
    "demote": LastAdministrator,
    "leave": LastAdministrator,
    "remove each other": AccountNotFound,
    "block each other": MemberBlocked,
}


def step_down_round(how: str) -> None:
    kit = make_licensekit()
    ann, account = make_business_account(kit, admin_email="ann@example.com")
    bob = add_member(kit, ann, account.id, "bob@example.com", role=Role.ACCOUNT_ADMINISTRATOR)
    acc = account.id
    calls: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "demote": (
            lambda: kit.change_role(ann, acc, ann.user_id, Role.REGULAR_MEMBER),
            lambda: kit.change_role(bob, acc, bob.user_id, Role.REGULAR_MEMBER),
        ),
        "leave": (lambda: kit.leave_account(ann, acc), lambda: kit.leave_account(bob, acc)),
        "remove each other": (
            lambda: kit.remove_member(ann, acc, bob.user_id),
            lambda: kit.remove_member(bob, acc, ann.user_id),
        ),
        "block each other": (
            lambda: kit.block_member(ann, acc, bob.user_id),
            lambda: kit.block_member(bob, acc, ann.user_id),
        ),
    }
    failed = errors(race(*calls[how]))
    with records(kit.store) as tx:
        assert active_administrators(tx, acc) == 1
    assert failed == [STEP_DOWN_LOSER[how]]


@pytest.mark.parametrize("how", list(STEP_DOWN_LOSER))
def test_two_administrators_racing_to_step_down_leave_exactly_one(how: str) -> None:
    for _ in range(ROUNDS):
        step_down_round(how)


def double_accept_round(*, existing_account: bool) -> None:
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    if existing_account:
        kit.register_user("ann@example.com", TEST_PASSWORD, email_verified=True)
    kit.invite_members(admin, account.id, ["ann@example.com"])
    token = kit.mailer.last_token(to="ann@example.com")
    results = race(
        lambda: kit.accept_join_invitation(token, password=TEST_PASSWORD),
        lambda: kit.accept_join_invitation(token, password=TEST_PASSWORD),
    )
    assert errors(results) == [InvitationAlreadyAccepted]
    emails = [m.email for m in kit.list_members(admin, account.id).items]
    assert emails.count("ann@example.com") == 1
    with records(kit.store) as tx:
        events = tx.page(AUDIT_EVENTS, account.id, after=None, limit=100)
    assert sum(e.action is AuditAction.INVITATION_ACCEPTED for e in events) == 1


@pytest.mark.parametrize("existing_account", [False, True], ids=["new person", "existing"])
def test_one_invitation_accepted_from_two_places_at_once_joins_once(
    existing_account: bool,
) -> None:
    for _ in range(ROUNDS):
        double_accept_round(existing_account=existing_account)


def double_invite_round() -> None:
    kit = make_licensekit()
    ann, account = make_business_account(kit, admin_email="ann@example.com")
    bob = add_member(kit, ann, account.id, "bob@example.com", role=Role.ACCOUNT_ADMINISTRATOR)
    results = race(
        lambda: kit.invite_members(ann, account.id, ["carol@example.com"]),
        lambda: kit.invite_members(bob, account.id, ["carol@example.com"]),
    )
    invited = sum(len(r.invited) for r in results)  # type: ignore[attr-defined]
    skipped = [s.reason for r in results for s in r.skipped]  # type: ignore[attr-defined]
    assert invited == 1
    assert len(skipped) == 1
    assert skipped[0].startswith("already has a pending invitation")


def test_two_administrators_inviting_one_person_at_once_create_one_invitation() -> None:
    for _ in range(ROUNDS):
        double_invite_round()
