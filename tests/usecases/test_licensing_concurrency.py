"""Seats hold when installers and administrators race each other on one in-memory store.

Each race releases its threads together with a barrier while the interpreter switches threads
every microsecond, and runs several rounds: the rule must hold in every round, whichever
thread wins. Nothing here measures time; only outcomes and the stored records are checked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from _racing import eager_thread_switching, race  # noqa: F401 - the fixture applies here
from _records import records
from licensekit import (
    ActivationCodeUsedUp,
    ActivationResult,
    ComputerBlocked,
    InstallationNotFound,
    InstallationStatus,
    LicenseKitError,
    SeatsFull,
    SeatsInUse,
    Session,
)
from licensekit.storage import INSTALLATIONS, LICENSE_KEYS
from licensekit.testing import (
    LicenseKitForTests,
    add_member,
    make_business_account,
    make_licensekit,
)

ROUNDS = 12
INSTALLERS = 32
SEATS = 5


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
        with records(self.kit.store) as tx:
            key = tx.get(LICENSE_KEYS, self.key_id)
            installs = tx.page(INSTALLATIONS, self.key_id, after=None, limit=10_000)
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


def _working_tokens(shop: Shop, done: list[ActivationResult]) -> int:
    """How many of the installation tokens handed out still check in (as active)."""
    working = 0
    for r in done:
        try:
            view = shop.kit.check_in(r.installation_token).installation
        except InstallationNotFound:
            continue
        working += 1
        assert view.status is InstallationStatus.ACTIVE
    return working


def test_one_computer_activating_with_one_code_from_many_threads_takes_one_seat() -> None:
    threads = 16
    for _ in range(ROUNDS // 2):
        shop = Shop(SEATS, threads, max_activations=1)
        results = race([shop.activate(0, "THE-ONE-PC") for _ in range(threads)])

        assert kinds(results) == Counter(ActivationResult=threads)
        done = [r for r in results if isinstance(r, ActivationResult)]
        assert sum(not r.already_active for r in done) == 1
        assert len({r.installation_id for r in done}) == 1
        assert shop.seats() == (SEATS, 1, 1)
        assert shop.active_computers() == ["THE-ONE-PC"]
        views = shop.kit.list_install_invitations(
            shop.admin, shop.account_id, shop.key_id, limit=500
        ).items
        # The code counts the computer once.
        assert [v.activations for v in views] == [1] + [0] * (threads - 1)
        # Every activation hands out a new installation token: only the last one counts.
        assert _working_tokens(shop, done) == 1


def test_one_computer_activating_with_many_codes_at_once_keeps_the_first_and_refuses_the_rest() -> (
    None
):
    threads = 16
    for _ in range(ROUNDS // 2):
        shop = Shop(SEATS, threads, max_activations=1)
        results = race([shop.activate(n, "THE-ONE-PC") for n in range(threads)])

        assert kinds(results) == Counter(ActivationResult=1, ComputerAlreadyActivated=threads - 1)
        (winner,) = [r for r in results if isinstance(r, ActivationResult)]
        assert winner.already_active is False
        assert shop.seats() == (SEATS, 1, 1)
        assert shop.active_computers() == ["THE-ONE-PC"]
        views = shop.kit.list_install_invitations(
            shop.admin, shop.account_id, shop.key_id, limit=500
        ).items
        # Only the winning code counts an activation; no other code took the computer over.
        assert {v.email: v.activations for v in views if v.activations} == {winner.email: 1}
        assert sum(v.activations for v in views) == 1
        assert _working_tokens(shop, [winner]) == 1
        installed = shop.kit.list_installations(shop.admin, shop.account_id, shop.key_id).items
        assert [(i.id, i.email) for i in installed] == [(winner.installation_id, winner.email)]


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


def test_a_deactivation_racing_its_computers_reactivation_with_a_one_computer_code_sticks() -> None:
    for _ in range(ROUNDS * 2):
        shop = Shop(SEATS, 1, max_activations=1)
        first = shop.activate(0, "PC-1")()
        deactivation, activation = race(
            [shop.deactivate(first.installation_id), shop.activate(0, "PC-1")]
        )

        assert not isinstance(deactivation, LicenseKitError), deactivation
        # Either the activation came first (and was then deactivated), or it found the
        # computer's claim on the code gone.
        assert isinstance(activation, ActivationResult | ActivationCodeUsedUp), activation
        assert shop.seats() == (SEATS, 0, 0)
        assert shop.active_computers() == []
        with pytest.raises(ActivationCodeUsedUp):
            shop.activate(0, "PC-1")()


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


class TwoKeys:
    """One account with two keys, a License Administrator for the first, and one computer
    active under both (each through a two-computer code)."""

    COMPUTER = "PC-1"

    def __init__(self) -> None:
        self.kit: LicenseKitForTests = make_licensekit()
        self.admin, account = make_business_account(self.kit)
        self.account_id = account.id
        self.key_ids = [
            self.kit.add_license_key(
                self.admin, self.account_id, product="Racer", value=value, seats=SEATS
            ).id
            for value in ("RACE-0001-XK7Q", "RACE-0002-PL3M")
        ]
        self.keeper = add_member(self.kit, self.admin, self.account_id, "keeper@example.com")
        self.kit.grant_license_administrator(
            self.admin, self.account_id, self.keeper.user_id, self.key_ids[0]
        )
        self.codes = []
        self.installations = []
        for n, key_id in enumerate(self.key_ids):
            email = f"user{n}@example.com"
            self.kit.invite_installers(
                self.admin, self.account_id, key_id, [email], max_activations=2
            )
            self.codes.append(self.kit.mailer.last(to=email).data["code"])
            self.installations.append(self.activate(n)().installation_id)

    def activate(self, n: int) -> Callable[[], ActivationResult]:
        code = self.codes[n]
        return lambda: self.kit.activate(code=code, computer_id=self.COMPUTER)

    def block(self, session: Session, n: int) -> Callable[[], object]:
        installation_id = self.installations[n]
        return lambda: self.kit.block_computer(session, self.account_id, installation_id)

    def seats_used(self) -> list[int]:
        return [
            self.kit.get_license_key(self.admin, self.account_id, k).seats_used
            for k in self.key_ids
        ]

    def active(self) -> list[list[str]]:
        return [
            [
                i.computer_id
                for i in self.kit.list_installations(self.admin, self.account_id, k).items
            ]
            for k in self.key_ids
        ]


def test_an_account_wide_block_racing_activations_under_every_key_leaves_no_seat() -> None:
    for _ in range(ROUNDS * 2):
        shop = TwoKeys()
        block, *activations = race(
            [shop.block(shop.admin, 0), shop.activate(0), shop.activate(1), shop.activate(1)]
        )

        assert not isinstance(block, LicenseKitError), block
        assert block.key_id is None
        assert set(kinds(activations)) <= {"ActivationResult", "ComputerBlocked"}
        assert shop.seats_used() == [0, 0]
        assert shop.active() == [[], []]


def test_blocks_of_both_scopes_racing_each_other_both_hold() -> None:
    for _ in range(ROUNDS * 2):
        shop = TwoKeys()
        by_keeper, by_admin = race([shop.block(shop.keeper, 0), shop.block(shop.admin, 0)])

        assert not isinstance(by_keeper, LicenseKitError), by_keeper
        assert not isinstance(by_admin, LicenseKitError), by_admin
        assert (by_keeper.key_id, by_admin.key_id) == (shop.key_ids[0], None)
        listed = shop.kit.list_blocked_computers(shop.admin, shop.account_id).items
        assert [b.key_id for b in listed] == [None, shop.key_ids[0]]
        assert shop.seats_used() == [0, 0]
        for n in (0, 1):
            with pytest.raises(ComputerBlocked):
                shop.activate(n)()


def test_two_blocks_of_one_scope_racing_leave_one_block_and_one_conflict() -> None:
    for _ in range(ROUNDS * 2):
        shop = TwoKeys()
        results = race([shop.block(shop.admin, 0), shop.block(shop.admin, 1)])

        assert kinds(results) == Counter(ComputerBlock=1, ConflictError=1)
        listed = shop.kit.list_blocked_computers(shop.admin, shop.account_id).items
        assert [(b.computer_id, b.key_id) for b in listed] == [(TwoKeys.COMPUTER, None)]
        assert shop.seats_used() == [0, 0]
