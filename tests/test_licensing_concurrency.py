"""Seats hold when installers and administrators race each other on one in-memory store.

Each race releases its threads together with a barrier while the interpreter switches threads
every microsecond, and runs several rounds: the rule must hold in every round, whichever
thread wins. Nothing here measures time; only outcomes and the stored records are checked.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from licensekit import (
    ActivationResult,
    ComputerBlocked,
    InstallationNotFound,
    InstallationStatus,
    LicenseKitError,
    SeatsFull,
    SeatsInUse,
    Session,
)
from licensekit.testing import LicenseKitForTests, make_business_account, make_licensekit

ROUNDS = 12
INSTALLERS = 32
SEATS = 5


@pytest.fixture(autouse=True)
def eager_thread_switching() -> Iterator[None]:
    """Switch threads every microsecond, so that races interleave inside use cases."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def race(calls: list[Callable[[], object]]) -> list[object]:
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
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a racing thread did not finish"
    assert all(r is not None for r in results), "a racing thread died of an unexpected error"
    return results


def kinds(results: list[object]) -> Counter[str]:
    return Counter(type(r).__name__ for r in results)


class Shop:
    """An account with one key and invitations to install, each with its own code."""

    def __init__(self, seats: int, invitees: int, *, max_activations: int = 1) -> None:
        self.kit: LicenseKitForTests = make_licensekit()
        self.admin: Session
        self.admin, account = make_business_account(self.kit)
        self.account_id = account.id
        self.key_id = self.kit.add_license_key(
            self.admin, self.account_id, product="Racer", value="RACE-0001-XK7Q", seats=seats
        ).id
        emails = [f"user{n}@example.com" for n in range(invitees)]
        self.kit.invite_installers(
            self.admin, self.account_id, self.key_id, emails, max_activations=max_activations
        )
        self.codes = [self.kit.mailer.last(to=e).data["code"] for e in emails]
        self.tokens = [self.kit.mailer.last(to=e).data["token"] for e in emails]

    def activate(self, n: int, computer: str) -> Callable[[], ActivationResult]:
        code = self.codes[n]
        return lambda: self.kit.activate(code=code, computer_id=computer)

    def deactivate(self, installation_id: str) -> Callable[[], object]:
        return lambda: self.kit.deactivate_installation(
            self.admin, self.account_id, installation_id
        )

    def block(self, installation_id: str) -> Callable[[], object]:
        return lambda: self.kit.block_computer(self.admin, self.account_id, installation_id)

    def change_seats(self, seats: int) -> Callable[[], object]:
        return lambda: self.kit.change_license_key(
            self.admin, self.account_id, self.key_id, seats=seats
        )

    def remove_key(self) -> Callable[[], object]:
        return lambda: self.kit.remove_license_key(self.admin, self.account_id, self.key_id)

    def seats(self) -> tuple[int, int, int]:
        """The key's (seats, seats_used) as stored, and its active installations."""
        with self.kit.store.transaction() as tx:
            key = tx.get_license_key(self.key_id)
            installs = tx.list_installations(self.key_id, after=None, limit=10_000)
        assert key is not None
        return key.seats, key.seats_used, sum(1 for i in installs if i.is_active)

    def active_computers(self) -> list[str]:
        page = self.kit.list_installations(self.admin, self.account_id, self.key_id, limit=500)
        return [i.computer_id for i in page.items]


def test_installers_racing_for_few_seats_never_oversell() -> None:
    for _ in range(ROUNDS):
        shop = Shop(SEATS, INSTALLERS)

        results = race([shop.activate(n, f"PC-{n}") for n in range(INSTALLERS)])

        assert kinds(results) == Counter(ActivationResult=SEATS, SeatsFull=INSTALLERS - SEATS)
        assert shop.seats() == (SEATS, SEATS, SEATS)
        winners = {r.computer_id for r in results if isinstance(r, ActivationResult)}
        assert sorted(shop.active_computers()) == sorted(winners)
        assert all(e.seats == SEATS for e in results if isinstance(e, SeatsFull))


def test_deactivations_racing_activations_keep_the_count_right() -> None:
    freed = 3
    for _ in range(ROUNDS):
        shop = Shop(SEATS, SEATS + 2 * freed)
        seated = [shop.activate(n, f"OLD-{n}")() for n in range(SEATS)]
        assert shop.seats() == (SEATS, SEATS, SEATS)
        calls = [shop.deactivate(r.installation_id) for r in seated[:freed]]
        calls += [shop.activate(SEATS + n, f"NEW-{n}") for n in range(2 * freed)]

        results = race(calls)

        deactivated, activated = results[:freed], results[freed:]
        assert all(
            getattr(r, "status", None) is InstallationStatus.DEACTIVATED for r in deactivated
        )
        won = sum(isinstance(r, ActivationResult) for r in activated)
        assert kinds(activated) == Counter(ActivationResult=won, SeatsFull=2 * freed - won)
        assert won <= freed
        seats, used, active = shop.seats()
        assert used == active == SEATS - freed + won
        assert active <= seats


def test_one_computer_activating_from_many_threads_takes_one_seat() -> None:
    threads = 16
    for same_code in (True, False):
        for _ in range(ROUNDS // 2):
            shop = Shop(SEATS, threads, max_activations=1)
            results = race(
                [shop.activate(0 if same_code else n, "THE-ONE-PC") for n in range(threads)]
            )

            assert kinds(results) == Counter(ActivationResult=threads)
            done = [r for r in results if isinstance(r, ActivationResult)]
            assert sum(not r.already_active for r in done) == 1
            assert len({r.installation_id for r in done}) == 1
            assert shop.seats() == (SEATS, 1, 1)
            assert shop.active_computers() == ["THE-ONE-PC"]
            views = shop.kit.list_install_invitations(
                shop.admin, shop.account_id, shop.key_id, limit=500
            ).items
            # One code counts the computer once; other codes take it over, each as one of
            # their own activations, without a second seat.
            expected = [1] + [0] * (threads - 1) if same_code else [1] * threads
            assert [v.activations for v in views] == expected
            # Every activation hands out a new installation token: only the last one counts.
            working = 0
            for r in done:
                try:
                    view = shop.kit.check_in(r.installation_token)
                except InstallationNotFound:
                    continue
                working += 1
                assert view.status is InstallationStatus.ACTIVE
            assert working == 1


@pytest.mark.parametrize("target", [3, 4])
def test_seat_reduction_racing_activations_never_leaves_more_installations_than_seats(
    target: int,
) -> None:
    for _ in range(ROUNDS * 4):
        shop = Shop(SEATS, 8)
        for n in range(3):
            shop.activate(n, f"OLD-{n}")()
        results = race(
            [shop.change_seats(target), *(shop.activate(3 + n, f"NEW-{n}") for n in range(4))]
        )

        seats, used, active = shop.seats()
        assert used == active <= seats
        reduced = not isinstance(results[0], LicenseKitError)
        assert reduced or isinstance(results[0], SeatsInUse), results[0]
        assert seats == (target if reduced else SEATS)
        assert set(kinds(results[1:])) <= {"ActivationResult", "SeatsFull"}


def test_removing_a_key_racing_its_first_activations_never_does_both() -> None:
    installers = 4
    for _ in range(ROUNDS * 4):
        shop = Shop(SEATS, installers)
        removal, *activations = race(
            [shop.remove_key(), *(shop.activate(n, f"PC-{n}") for n in range(installers))]
        )
        won = sum(isinstance(r, ActivationResult) for r in activations)
        assert kinds(activations) == Counter(
            ActivationResult=won, LicenseKeyUnavailable=installers - won
        )
        if won:
            assert isinstance(removal, SeatsInUse)
        else:
            assert not isinstance(removal, LicenseKitError), removal
        assert shop.seats() == (SEATS, won, won)


def test_a_computer_blocked_while_it_activates_again_ends_up_without_a_seat() -> None:
    for _ in range(ROUNDS * 2):
        shop = Shop(SEATS, 2, max_activations=2)
        first = shop.activate(0, "PC-1")()
        assert isinstance(first, ActivationResult)
        shop.kit.deactivate_installation(shop.admin, shop.account_id, first.installation_id)
        block, activation = race([shop.block(first.installation_id), shop.activate(1, "PC-1")])
        assert not isinstance(block, LicenseKitError), block
        assert isinstance(activation, ActivationResult | ComputerBlocked), activation
        assert shop.seats() == (SEATS, 0, 0)
        assert shop.active_computers() == []
