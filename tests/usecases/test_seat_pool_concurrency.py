"""A primary key's pool is never oversold when installers and administrators race through
its additional keys.

Threads released together by a barrier activate computers through a primary key, its
dynamic keys and a reserved key, while others deactivate, change a reserved key's seats,
remove an additional key, or find an ended key's seats to give back. Each race runs several
rounds on a SQLite file and on the suite's test store (memory, or PostgreSQL), with the
interpreter switching threads every microsecond. After each round the stored counters are
exact: every key's ``seats_used`` is its active installations, and the primary's is its own
plus its dynamic keys' installations plus its reserved keys' seats, never above its seats.
Nothing here measures time; only outcomes and the stored records are checked.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from _racing import eager_thread_switching, race  # noqa: F401 - the fixture applies here
from _records import records
from licensekit import (
    ActivationResult,
    AuditAction,
    LicenseKeyUnavailable,
    LicenseKitError,
    SeatPool,
    SeatsFull,
    SeatsInUse,
    Settings,
)
from licensekit.storage import INSTALLATIONS, LICENSE_KEYS
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import LicenseKitForTests, make_business_account, make_licensekit

ROUNDS = 6
SETTINGS = Settings(session_lifetime=dt.timedelta(days=365))


def kinds(results: list[object]) -> Counter[str]:
    return Counter(type(r).__name__ for r in results)


def won(results: list[object]) -> int:
    return sum(isinstance(r, ActivationResult) and not r.already_active for r in results)


@pytest.fixture(params=["sqlite file", "test store"])
def new_kit(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], LicenseKitForTests]]:
    """Kits on a SQLite file each, or on the suite's test store (memory, or PostgreSQL)."""
    stores: list[SQLiteStore] = []

    def make() -> LicenseKitForTests:
        if request.param == "test store":
            return make_licensekit(settings=SETTINGS)
        stores.append(SQLiteStore(tmp_path / f"pool-{len(stores)}.db", synchronous="normal"))
        return make_licensekit(store=stores[-1], settings=SETTINGS)

    yield make
    for store in stores:
        store.close()


class Pool:
    """An account with a primary key; additional keys are added by the test."""

    def __init__(self, kit: LicenseKitForTests, seats: int) -> None:
        self.kit = kit
        self.admin, account = make_business_account(kit)
        self.account_id = account.id
        self.primary = kit.add_license_key(
            self.admin, self.account_id, product="Pool", value="POOL-PRIMARY-1", seats=seats
        ).id
        self.added = 0

    def additional(self, pool: SeatPool, seats: int, **options: object) -> str:
        self.added += 1
        return self.kit.add_additional_key(
            self.admin,
            self.account_id,
            self.primary,
            value=f"POOL-EXTRA-{self.added}",
            seats=seats,
            seat_pool=pool,
            **options,  # type: ignore[arg-type]
        ).id

    def codes(self, key_id: str, count: int) -> list[str]:
        """Invite *count* installers under *key_id*; return their codes."""
        emails = [f"{key_id}-{n}@example.com" for n in range(count)]
        self.kit.invite_installers(self.admin, self.account_id, key_id, emails)
        return [self.kit.mailer.last(to=e).data["code"] for e in emails]

    def activate(self, code: str, computer: str) -> Callable[[], object]:
        return lambda: self.kit.activate(code=code, computer_id=computer)

    def seated(self, key_id: str, count: int, prefix: str) -> list[ActivationResult]:
        """Activate *count* computers under *key_id* now, one after another."""
        return [
            self.kit.activate(code=code, computer_id=f"{prefix}-{n}")
            for n, code in enumerate(self.codes(key_id, count))
        ]

    def deactivate(self, installation_id: str) -> Callable[[], object]:
        return lambda: self.kit.deactivate_installation(
            self.admin, self.account_id, installation_id
        )

    def counters(self) -> dict[str, tuple[int, int, int]]:
        """Each key's (seats, seats_used) as stored, and its active installations.

        Checks on the way that the counters are exact: every additional key's
        ``seats_used`` is its active installations, and the primary's counts its pool.
        """
        with records(self.kit.store) as tx:
            keys = list(tx.page(LICENSE_KEYS, self.account_id, after=None, limit=1_000))
            active = {
                k.id: sum(
                    1 for i in tx.page(INSTALLATIONS, k.id, after=None, limit=1_000) if i.is_active
                )
                for k in keys
            }
        primary = next(k for k in keys if k.id == self.primary)
        pool = active[primary.id]
        for key in keys:
            if key.primary_id is None:
                continue
            assert key.seats_used == active[key.id], (key.id, key.seats_used, active[key.id])
            assert active[key.id] <= key.seats, (key.id, active[key.id], key.seats)
            if key.released_at is None:
                pool += key.seats if key.seat_pool is SeatPool.RESERVED else active[key.id]
        assert primary.seats_used == pool, (primary.seats_used, pool)
        assert pool <= primary.seats, (pool, primary.seats)
        return {k.id: (k.seats, k.seats_used, active[k.id]) for k in keys}


def test_installers_racing_through_a_primary_its_dynamic_keys_and_a_reserved_key(
    new_kit: Callable[[], LicenseKitForTests],
) -> None:
    """Six seats, two of them reserved: eight installers through each of four keys. The
    reserved key's two go to its own installers whatever the others do; the four of the
    main pool go to the first of the primary's and the dynamic keys' installers."""
    each = 8
    for _ in range(ROUNDS):
        pool = Pool(new_kit(), seats=6)
        reserved = pool.additional(SeatPool.RESERVED, 2)
        dynamic = [pool.additional(SeatPool.DYNAMIC, 3) for _ in range(2)]
        keys = [pool.primary, *dynamic, reserved]
        codes = {key_id: pool.codes(key_id, each) for key_id in keys}
        calls = [
            pool.activate(code, f"PC-{k}-{n}")
            for k, key_id in enumerate(keys)
            for n, code in enumerate(codes[key_id])
        ]

        results = race(calls)

        by_key = {key_id: results[k * each : (k + 1) * each] for k, key_id in enumerate(keys)}
        assert kinds(results) == Counter(ActivationResult=6, SeatsFull=4 * each - 6)
        assert won(by_key[reserved]) == 2
        assert sum(won(by_key[key_id]) for key_id in (pool.primary, *dynamic)) == 4
        assert all(won(by_key[key_id]) <= 3 for key_id in dynamic)
        counters = pool.counters()
        assert counters[pool.primary][1] == 6
        for key_id in (*dynamic, reserved):
            assert counters[key_id][2] == won(by_key[key_id])


def test_deactivations_racing_activations_through_the_pool_keep_the_counts_exact(
    new_kit: Callable[[], LicenseKitForTests],
) -> None:
    """A full pool of five (two of the primary's, three of a dynamic key's); one of each is
    deactivated while eight installers race through the primary and two dynamic keys."""
    for _ in range(ROUNDS):
        pool = Pool(new_kit(), seats=5)
        first = pool.additional(SeatPool.DYNAMIC, 4)
        second = pool.additional(SeatPool.DYNAMIC, 4)
        own = pool.seated(pool.primary, 2, "OWN")
        theirs = pool.seated(first, 3, "DYN")
        assert pool.counters()[pool.primary][1] == 5
        newcomers = [
            pool.activate(code, f"NEW-{key_id}-{n}")
            for key_id in (pool.primary, first, second)
            for n, code in enumerate(pool.codes(key_id, 3))
        ]
        calls = [
            pool.deactivate(own[0].installation_id),
            pool.deactivate(theirs[0].installation_id),
        ]

        results = race(calls + newcomers)

        assert all(getattr(r, "status", None) is not None for r in results[:2]), results[:2]
        activated = results[2:]
        assert set(kinds(activated)) <= {"ActivationResult", "SeatsFull"}
        assert won(activated) <= 2
        counters = pool.counters()
        assert counters[pool.primary][1] == 5 - 2 + won(activated)
        # The first dynamic key may have taken its freed seat back, never more than its four.
        assert counters[first][2] <= 4


@pytest.mark.parametrize("grow", [True, False], ids=["more reserved", "fewer reserved"])
def test_a_reserved_keys_seats_changing_while_dynamic_installers_race(
    new_kit: Callable[[], LicenseKitForTests], grow: bool
) -> None:
    """Six seats; a reserved key goes from 1 to 4 seats (or from 3 to 1) while six
    installers race through a dynamic key. Either the pool had the seats when the change
    came, or the change is refused; the pool ends full either way, never past it."""
    before, after = (1, 4) if grow else (3, 1)
    for _ in range(ROUNDS * 2):
        pool = Pool(new_kit(), seats=6)
        reserved = pool.additional(SeatPool.RESERVED, before)
        dynamic = pool.additional(SeatPool.DYNAMIC, 6)
        change = functools.partial(
            pool.kit.change_license_key, pool.admin, pool.account_id, reserved, seats=after
        )
        calls = [change] + [
            pool.activate(code, f"DYN-{n}") for n, code in enumerate(pool.codes(dynamic, 6))
        ]

        results = race(calls)

        changed, activated = results[0], results[1:]
        assert set(kinds(activated)) <= {"ActivationResult", "SeatsFull"}
        counters = pool.counters()
        seats = counters[reserved][0]
        if isinstance(changed, SeatsFull):
            assert grow
            assert seats == before
        else:
            assert not isinstance(changed, LicenseKitError), changed
            assert seats == after
        assert counters[dynamic][2] == won(activated)
        if grow:
            # Nothing frees seats in this race: some installer lost, so saw a full pool,
            # and it stays full.
            assert counters[pool.primary][1] == 6
            assert won(activated) == 6 - seats
        else:
            # The dynamic key had three seats of the pool before the change, five after.
            assert 3 <= won(activated) <= 5


@pytest.mark.parametrize("kind", [SeatPool.DYNAMIC, SeatPool.RESERVED])
def test_removing_an_additional_key_racing_its_first_activation_never_does_both(
    new_kit: Callable[[], LicenseKitForTests], kind: SeatPool
) -> None:
    for _ in range(ROUNDS * 2):
        pool = Pool(new_kit(), seats=4)
        extra = pool.additional(kind, 2)
        (code,) = pool.codes(extra, 1)
        remove = functools.partial(pool.kit.remove_license_key, pool.admin, pool.account_id, extra)

        removed, activated = race([remove, pool.activate(code, "THE-PC")])

        counters = pool.counters()
        if isinstance(activated, ActivationResult):
            assert isinstance(removed, SeatsInUse), removed
            assert counters[extra][1:] == (1, 1)
            assert counters[pool.primary][1] == (1 if kind is SeatPool.DYNAMIC else 2)
        else:
            assert isinstance(activated, LicenseKeyUnavailable), activated
            assert not isinstance(removed, LicenseKitError), removed
            assert counters[extra][1:] == (0, 0)
            assert counters[pool.primary][1] == 0


def test_installers_racing_for_the_seats_of_an_ended_reserved_key_get_them_once(
    new_kit: Callable[[], LicenseKitForTests],
) -> None:
    """A reserved key of three seats ended (the pool holds them until someone needs them);
    eight installers race through the primary for the four seats left: exactly four win,
    and the reserved key's seats are given back once."""
    for _ in range(ROUNDS):
        kit = new_kit()
        pool = Pool(kit, seats=5)
        ended = pool.additional(
            SeatPool.RESERVED, 3, expires_at=kit.clock.now() + dt.timedelta(hours=1)
        )
        pool.seated(pool.primary, 1, "OWN")
        codes = pool.codes(pool.primary, 8)
        kit.clock.advance(hours=2)

        results = race([pool.activate(code, f"NEW-{n}") for n, code in enumerate(codes)])

        assert kinds(results) == Counter(ActivationResult=4, SeatsFull=4)
        counters = pool.counters()
        assert counters[pool.primary][1:] == (5, 5)
        released = [
            e
            for e in kit.list_audit_events(pool.admin, pool.account_id, limit=500).items
            if e.action is AuditAction.LICENSE_KEY_RELEASED
        ]
        assert [(e.subject, e.details["seats"]) for e in released] == [(ended, "3")]


def test_renewing_an_ended_reserved_key_racing_installers_who_need_its_seats(
    new_kit: Callable[[], LicenseKitForTests],
) -> None:
    """A reserved key of three seats ended; it is renewed while six installers race
    through the primary for the seats it held. Either the renewal comes first and keeps
    its three, or the installers take them and the renewal is refused for want of seats:
    never both."""
    for _ in range(ROUNDS * 2):
        kit = new_kit()
        pool = Pool(kit, seats=5)
        ended = pool.additional(
            SeatPool.RESERVED, 3, expires_at=kit.clock.now() + dt.timedelta(hours=1)
        )
        pool.seated(pool.primary, 1, "OWN")
        codes = pool.codes(pool.primary, 6)
        kit.clock.advance(hours=2)
        renew = functools.partial(
            kit.change_license_key,
            pool.admin,
            pool.account_id,
            ended,
            expires_at=kit.clock.now() + dt.timedelta(hours=5),
        )

        results = race([renew] + [pool.activate(code, f"NEW-{n}") for n, code in enumerate(codes)])

        renewed, activated = results[0], results[1:]
        assert set(kinds(activated)) <= {"ActivationResult", "SeatsFull"}
        counters = pool.counters()  # exact, whoever won
        with records(kit.store) as tx:
            key = tx.get(LICENSE_KEYS, ended)
        assert key is not None
        if isinstance(renewed, SeatsFull):
            assert key.released_at is not None
            assert counters[pool.primary][1] == 1 + won(activated)
        else:
            assert not isinstance(renewed, LicenseKitError), renewed
            assert key.released_at is None
            assert counters[pool.primary][1] == 1 + won(activated) + 3
        # Some installer lost, and nothing frees seats in this race: the pool is full.
        assert counters[pool.primary][1] == 5
