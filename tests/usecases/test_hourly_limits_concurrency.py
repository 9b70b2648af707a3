"""Calls racing each other never pass an hourly limit together, on any store.

Threads released at once by a barrier, with the interpreter switching threads every
microsecond, activate computers under one key or invite people into one account. Two stores:
the test store (memory, or whatever LICENSEKIT_TEST_STORE names), shared by every thread
through one kit; and a SQLite file with one kit, and so one store and connection, per thread,
as separate processes would have it. Only outcomes and stored records are checked, never time.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from _racing import race
from _records import records
from licensekit import ActivationResult, Settings, TooManyAttempts
from licensekit.domain._hourly_limits import activations_key, invitations_key
from licensekit.storage import INSTALLATIONS, LICENSE_KEYS, THROTTLES
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import (
    FakeClock,
    LicenseKitForTests,
    make_business_account,
    make_licensekit,
)

ROUNDS = 4
RACERS = 12
LIMIT = 5


@pytest.fixture(autouse=True)
def eager_thread_switching() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


class Kits:
    """One kit for the set-up, and the kit each racing thread calls (the same or its own)."""

    def __init__(self, where: str, tmp_path: Path, settings: Settings) -> None:
        self.clock = FakeClock()
        if where == "test store":
            self.main = make_licensekit(clock=self.clock, settings=settings)
            self.racers = [self.main] * RACERS
        else:
            path = tmp_path / "race.db"
            self.main = make_licensekit(
                clock=self.clock, settings=settings, store=SQLiteStore(path)
            )
            self.racers = [
                make_licensekit(clock=self.clock, settings=settings, store=SQLiteStore(path))
                for _ in range(RACERS)
            ]

    def kits(self) -> list[LicenseKitForTests]:
        return list({id(k): k for k in [self.main, *self.racers]}.values())

    def sent(self) -> int:
        """How many emails every kit's mailer holds."""
        return sum(len(kit.mailer.sent) for kit in self.kits())

    def close(self) -> None:
        for kit in self.kits():
            kit.close()
            kit.store.close()


@pytest.fixture(params=["test store", "sqlite file"])
def kits(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Kits]:
    made = Kits(
        request.param,
        tmp_path,
        Settings(activations_per_key_per_hour=LIMIT, invitations_per_account_per_hour=LIMIT * 2),
    )
    yield made
    made.close()


def activate(kit: LicenseKitForTests, code: str, computer: str) -> Callable[[], object]:
    return lambda: kit.activate(code=code, computer_id=computer)


def test_racing_activations_never_take_more_seats_in_an_hour_than_the_limit(kits):
    admin, account = make_business_account(kits.main)
    for round_ in range(ROUNDS):
        key = kits.main.add_license_key(
            admin, account.id, product="Racer", value=f"RACE-{round_}", seats=RACERS * 2
        )
        kits.main.invite_installers(
            admin, account.id, key.id, [f"racer{round_}@example.com"], max_activations=RACERS
        )
        code = kits.main.mailer.last(to=f"racer{round_}@example.com").data["code"]

        results = race(
            [activate(kit, code, f"r{round_}-pc-{n}") for n, kit in enumerate(kits.racers)]
        )

        outcomes = Counter(type(r).__name__ for r in results)
        assert outcomes == {
            ActivationResult.__name__: LIMIT,
            TooManyAttempts.__name__: RACERS - LIMIT,
        }, results
        with records(kits.main.store) as tx:
            stored = tx.get(LICENSE_KEYS, key.id)
            installed = tx.page(INSTALLATIONS, key.id, after=None, limit=RACERS * 2)
            count = tx.get(THROTTLES, activations_key(key.id))
        assert stored is not None
        assert stored.seats_used == LIMIT
        assert len(installed) == LIMIT
        assert count is not None
        assert count.failures == LIMIT


def test_racing_invitations_never_send_more_emails_in_an_hour_than_the_limit(kits):
    batch = 3  # the limit is 10: three batches fit, a fourth would pass it
    for round_ in range(ROUNDS):
        admin, account = make_business_account(
            kits.main, admin_email=f"admin{round_}@example.com", name=f"Corp {round_}"
        )
        key = kits.main.add_license_key(
            admin, account.id, product="Racer", value="RACE-KEY", seats=5
        )
        before = kits.sent()
        calls = []
        for n, kit in enumerate(kits.racers):
            people = [f"p{round_}-{n}-{m}@example.com" for m in range(batch)]
            if n % 2:
                calls.append(partial(kit.invite_members, admin, account.id, people))
            else:
                calls.append(partial(kit.invite_installers, admin, account.id, key.id, people))

        results = race(calls)

        refused = [r for r in results if isinstance(r, TooManyAttempts)]
        assert len(refused) == RACERS - 3, results
        assert kits.sent() - before == 3 * batch
        with records(kits.main.store) as tx:
            count = tx.get(THROTTLES, invitations_key(account.id))
        assert count is not None
        assert count.failures == 3 * batch


def test_racing_resends_never_send_more_emails_in_an_hour_than_the_limit(kits):
    # Resends hold no lock on the account: only the count's own scope keeps them in line.
    limit = LIMIT * 2
    for round_ in range(ROUNDS):
        admin, account = make_business_account(
            kits.main, admin_email=f"admin{round_}@example.com", name=f"Corp {round_}"
        )
        key = kits.main.add_license_key(
            admin, account.id, product="Racer", value="RACE-KEY", seats=5
        )
        people = [f"p{round_}-{n}@example.com" for n in range(RACERS)]
        installs = kits.main.invite_installers(
            admin, account.id, key.id, people[::2], send=False
        ).invited
        joins = kits.main.invite_members(admin, account.id, people[1::2], send=False).invited
        before = kits.sent()
        calls = []
        for n, kit in enumerate(kits.racers):
            if n % 2:
                calls.append(
                    partial(kit.resend_join_invitation, admin, account.id, joins[n // 2].id)
                )
            else:
                calls.append(
                    partial(kit.resend_install_invitation, admin, account.id, installs[n // 2].id)
                )

        results = race(calls)

        refused = [r for r in results if isinstance(r, TooManyAttempts)]
        assert len(refused) == RACERS - limit, results
        assert kits.sent() - before == limit
        with records(kits.main.store) as tx:
            count = tx.get(THROTTLES, invitations_key(account.id))
        assert count is not None
        assert count.failures == limit
