"""Random sequences over a primary key and its additional keys never oversell the pool.

A hypothesis state machine drives one business account: a primary key, additional keys
under it (reserved or dynamic, some ending a few hours ahead), installers activating
computers through any of them, and administrators deactivating, blocking, changing seats
and expiries, suspending, removing and resuming keys, moving installations, culling, while
the clock moves. It does not predict every outcome; it checks, after every step and against
the store itself:

* for every key K: ``K.seats_used`` is K's active installations, and never above K's seats;
* for the primary P: ``P.seats_used`` is P's own active installations, plus the active
  installations of its dynamic keys and the seats of its reserved keys (those whose hold on
  the pool was not released), and never above P's seats;
* a key whose hold was released is not usable (its license, judged with the primary's, has
  ended, or it is removed or suspended), so the installations that may run and the seats
  set aside never add up to more than the primary's seats;

and at every call:

* a refusal is a licensekit error of the family the operation documents, and leaves the
  keys' counters and the installations as they were (seats of lapsed keys given back on the
  way count as given back already: a refused activation may first release them);
* no activation succeeds through a key that is not usable (judged with its primary), and
  ``SeatsFull`` is said only when the key's own seats, or the pool it draws on, are full.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from _postgres import examples
from _records import records
from licensekit import (
    ActivationCodeExpired,
    ActivationCodeUsedUp,
    ComputerAlreadyActivated,
    ComputerBlocked,
    ConflictError,
    InstallationNotFound,
    KeyStatus,
    LicenseKeyUnavailable,
    LicenseKitError,
    LicenseState,
    NotFound,
    SeatPool,
    SeatsFull,
    SeatsInUse,
    Settings,
    TooManyAttempts,
    ValidationError,
)
from licensekit.domain import seat_pools, standing
from licensekit.model import Installation, LicenseKey
from licensekit.storage import INSTALLATIONS, LICENSE_KEYS
from licensekit.testing import make_business_account, make_licensekit

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
# Sessions outlive every step the clock takes.
SETTINGS = Settings(session_lifetime=dt.timedelta(days=3650))
COMPUTERS = tuple(f"PC-{n}" for n in range(7))
MAX_ADDITIONAL = 4
STEPS = (HOUR, 3 * HOUR, 7 * HOUR, 26 * HOUR, 4 * DAY)
RUNNING = (LicenseState.ACTIVE, LicenseState.GRACE)

# What each operation may refuse with (their documented families).
ACTIVATION_REFUSALS = (
    SeatsFull,
    LicenseKeyUnavailable,
    ComputerBlocked,
    ComputerAlreadyActivated,
    ActivationCodeExpired,
    ActivationCodeUsedUp,
    TooManyAttempts,
)
INVITE_REFUSALS = (ConflictError, LicenseKeyUnavailable, ValidationError)
ADD_REFUSALS = (SeatsFull, ValidationError, ConflictError)
KEY_CHANGE_REFUSALS = (SeatsFull, SeatsInUse, ValidationError, ConflictError)
MOVE_REFUSALS = (SeatsFull, ConflictError, ValidationError, LicenseKeyUnavailable, NotFound)

Snapshot = tuple[dict[str, tuple[Any, ...]], dict[str, tuple[str, str, str]]]


@dataclass
class Stored:
    """The account's keys and installations, read from the store in one transaction."""

    keys: dict[str, LicenseKey]
    installations: list[Installation]

    def active(self, key_id: str) -> int:
        return sum(1 for i in self.installations if i.key_id == key_id and i.is_active)


def ended_alone(key: LicenseKey, now: dt.datetime) -> bool:
    """True when *key*'s own record (its primary aside) says its license has ended."""
    if key.status is KeyStatus.REMOVED:
        return True
    end = standing.ends_at(key)
    return key.expires_at is not None and end is not None and now >= end


class SeatPoolMachine(RuleBasedStateMachine):
    """One primary key and its additional keys, driven at random (module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.kit = make_licensekit(settings=SETTINGS)
        self.admin, account = make_business_account(self.kit)
        self.account_id = account.id
        self.primary = ""
        self.keys: list[str] = []
        """The primary first, then its additional keys in the order they were made."""
        self.codes: dict[str, str] = {}
        """Each key's standing invitation code (for many computers)."""
        self.tokens: dict[str, str] = {}
        """The latest installation token of each installation."""
        self.invited = 0

    # -- reading the store ------------------------------------------------------------------

    @property
    def now(self) -> dt.datetime:
        return self.kit.clock.now()

    def stored(self) -> Stored:
        with records(self.kit.store) as tx:
            keys = list(tx.page(LICENSE_KEYS, self.account_id, after=None, limit=1_000))
            installations = [
                i for k in keys for i in tx.page(INSTALLATIONS, k.id, after=None, limit=1_000)
            ]
        return Stored({k.id: k for k in keys}, installations)

    def judged(self, stored: Stored, key_id: str) -> LicenseKey:
        """The key as activations judge it: with its primary's standing."""
        key = stored.keys[key_id]
        primary = stored.keys[key.primary_id] if key.primary_id is not None else None
        return seat_pools.effective_key(key, primary)

    def usable(self, stored: Stored, key_id: str) -> bool:
        judged = self.judged(stored, key_id)
        return (
            judged.status is KeyStatus.ACTIVE
            and standing.key_state(judged, self.now) is LicenseState.ACTIVE
        )

    def snapshot(self) -> Snapshot:
        """The keys' counters and the installations, lapsed holds counted as given back.

        A use case may give back the seats of lapsed additional keys in a transaction of its
        own before it refuses; that release changes nothing this snapshot shows.
        """
        stored = self.stored()
        primary = stored.keys[self.primary]
        lapsed = {
            k.id
            for k in stored.keys.values()
            if k.primary_id == primary.id and seat_pools.lapsed(k, self.now)
        }
        lapsed_hold = sum(seat_pools.hold(stored.keys[k]) for k in lapsed)
        keys = {
            k.id: (
                k.seats,
                k.seats_used - (lapsed_hold if k.id == primary.id else 0),
                k.status,
                k.expires_at,
                k.grace_seconds,
                k.dead_after_seconds,
                k.released_at is not None or k.id in lapsed,
            )
            for k in stored.keys.values()
        }
        installations = {
            i.id: (i.key_id, i.computer_id, i.status.value) for i in stored.installations
        }
        return keys, installations

    def refused(
        self,
        allowed: tuple[type[LicenseKitError], ...],
        call: Any,
        before: Snapshot | None = None,
    ) -> LicenseKitError | None:
        """Run *call*; a refusal must be one of *allowed* and leave the counters as they were.

        Returns the refusal, or None when the call went through.
        """
        before = before if before is not None else self.snapshot()
        refusal: LicenseKitError | None = None
        try:
            call()
        except LicenseKitError as e:
            refusal = e
        if refusal is None:
            return None
        assert isinstance(refusal, allowed), f"unexpected refusal {refusal!r}"
        name = type(refusal).__name__
        assert self.snapshot() == before, f"{name} changed the counters or installations"
        event(f"refused: {name}")
        return refusal

    def key_at(self, n: int) -> str:
        return self.keys[n % len(self.keys)]

    def installation_at(self, n: int, *, live: bool = True) -> Installation | None:
        installations = sorted(
            (i for i in self.stored().installations if not live or i.status.value != "deactivated"),
            key=lambda i: i.id,
        )
        return installations[n % len(installations)] if installations else None

    def invite(self, key_id: str, *, max_activations: int = 1) -> str | None:
        """Invite one new installer under *key_id*; return the code, or None if refused."""
        self.invited += 1
        email = f"installer{self.invited}@example.com"
        refusal = self.refused(
            INVITE_REFUSALS,
            lambda: self.kit.invite_installers(
                self.admin,
                self.account_id,
                key_id,
                [email],
                expires_in="30d",
                max_activations=max_activations,
            ),
        )
        if refusal is not None:
            return None
        return str(self.kit.mailer.last(to=email).data["code"])

    # -- setting up -------------------------------------------------------------------------

    @initialize(
        seats=st.integers(3, 8),
        expires=st.sampled_from([None, None, 3 * DAY, 9 * DAY]),
        grace=st.sampled_from([dt.timedelta(0), 12 * HOUR]),
        extra=st.lists(
            st.tuples(st.booleans(), st.integers(1, 3), st.sampled_from([None, None, 2, 5, 8])),
            max_size=3,
        ),
    )
    def primary_key(
        self,
        seats: int,
        expires: dt.timedelta | None,
        grace: dt.timedelta,
        extra: list[tuple[bool, int, int | None]],
    ) -> None:
        """The primary key, and perhaps some additional keys from the start."""
        key = self.kit.add_license_key(
            self.admin,
            self.account_id,
            product="Atlas",
            value="ATLAS-PRIMARY-0001",
            seats=seats,
            expires_at=None if expires is None else self.now + expires,
            grace_period=grace,
        )
        self.primary = key.id
        self.keys = [key.id]
        code = self.invite(key.id, max_activations=50)
        assert code is not None
        self.codes[key.id] = code
        for reserved, extra_seats, hours in extra:
            self.add_additional_key(reserved, extra_seats, hours)

    # -- the rules --------------------------------------------------------------------------

    @precondition(lambda self: len(self.keys) <= MAX_ADDITIONAL)
    @rule(
        reserved=st.booleans(),
        seats=st.integers(1, 4),
        hours=st.sampled_from([None, None, 2, 5, 8]),
    )
    def add_additional_key(self, reserved: bool, seats: int, hours: int | None) -> None:
        pool = SeatPool.RESERVED if reserved else SeatPool.DYNAMIC
        stored = self.stored()
        primary = stored.keys[self.primary]
        added: list[str] = []

        def call() -> None:
            added.append(
                self.kit.add_additional_key(
                    self.admin,
                    self.account_id,
                    self.primary,
                    value=f"ATLAS-EXTRA-{len(self.keys):04d}",
                    seats=seats,
                    seat_pool=pool,
                    expires_at=None if hours is None else self.now + hours * HOUR,
                ).id
            )

        refusal = self.refused(ADD_REFUSALS, call)
        if refusal is None:
            self.keys.append(added[0])
            key = self.stored().keys[added[0]]
            assert (key.primary_id, key.seat_pool, key.seats) == (self.primary, pool, seats)
            assert key.seats_used == 0
            assert key.released_at is None
            code = self.invite(added[0], max_activations=50)
            if code is not None:
                self.codes[added[0]] = code
            return
        if isinstance(refusal, SeatsFull):
            # Only reserved seats are taken at once, and only when the pool lacks them
            # (lapsed holds given back first).
            assert reserved
            assert seats > primary.seats - self.snapshot()[0][self.primary][1]

    @precondition(lambda self: len(self.keys) <= MAX_ADDITIONAL)
    @rule()
    def reserve_the_whole_pool(self) -> None:
        """An administrator asks for every seat of the pool as reserved seats: the seats of
        lapsed keys are given back on the way, then the request is (most often) refused."""
        seats = self.stored().keys[self.primary].seats
        self.add_additional_key(True, seats, None)

    @rule(n=st.integers(0, 99), computer=st.sampled_from(COMPUTERS), fresh=st.booleans())
    def activate(self, n: int, computer: str, fresh: bool) -> None:
        """Activate *computer* through a key: with a new invitation, or the key's standing
        one (which activates many computers)."""
        key_id = self.key_at(n)
        code = self.invite(key_id) if fresh else None
        if code is None:
            code = self.codes.get(key_id)
        if code is None:
            return
        stored = self.stored()
        usable = self.usable(stored, key_id)
        results: list[Any] = []
        refusal = self.refused(
            ACTIVATION_REFUSALS,
            lambda: results.append(self.kit.activate(code=code, computer_id=computer)),
        )
        if refusal is None:
            result = results[0]
            assert usable, f"activated through {key_id}, which is not usable"
            self.tokens[result.installation_id] = result.installation_token
            (installation,) = [
                i for i in self.stored().installations if i.id == result.installation_id
            ]
            assert installation.is_active
            assert installation.key_id == key_id
            event(f"activated ({'again' if result.already_active else 'a seat'})")
        elif isinstance(refusal, LicenseKeyUnavailable):
            assert not usable
        elif isinstance(refusal, SeatsFull):
            # Said only when the key's seats, or the pool it draws on, are full.
            after = self.stored()
            key = after.keys[key_id]
            primary = after.keys[self.primary]
            full = key.seats_used >= key.seats
            if key.seat_pool is SeatPool.DYNAMIC and key.released_at is None:
                full = full or primary.seats_used >= primary.seats
            assert full, f"SeatsFull through {key_id} with seats free"

    @rule(n=st.integers(0, 99), computers=st.lists(st.sampled_from(COMPUTERS), max_size=4))
    def activate_several(self, n: int, computers: list[str]) -> None:
        """Several computers activate through one key's standing invitation, one by one."""
        for computer in computers:
            self.activate(n, computer, fresh=False)

    @rule(n=st.integers(0, 99))
    def deactivate(self, n: int) -> None:
        installation = self.installation_at(n)
        if installation is None:
            return
        refusal = self.refused(
            (),
            lambda: self.kit.deactivate_installation(self.admin, self.account_id, installation.id),
        )
        assert refusal is None
        stored = self.stored()
        (after,) = [i for i in stored.installations if i.id == installation.id]
        assert after.status.value == "deactivated"

    @rule(
        n=st.integers(0, 99),
        by_id=st.sampled_from([False, False, True]),
        computer=st.sampled_from(COMPUTERS),
    )
    def block(self, n: int, by_id: bool, computer: str) -> None:
        """The Account Administrator blocks a computer in the whole account: by one of its
        installations, or by its identifier (perhaps before it ever activates)."""
        if by_id:
            call: Any = lambda: self.kit.block_computer_id(  # noqa: E731
                self.admin, self.account_id, computer
            )
        else:
            installation = self.installation_at(n, live=False)
            if installation is None:
                return
            computer = installation.computer_id
            call = lambda: self.kit.block_computer(  # noqa: E731
                self.admin, self.account_id, installation.id
            )
        refusal = self.refused((ConflictError,), call)
        # Blocked now (or already): the computer holds no seat under any key.
        assert not any(
            i.computer_id == computer and i.is_active for i in self.stored().installations
        )
        event("block: already" if refusal else "block")

    @rule(n=st.integers(0, 99))
    def unblock(self, n: int) -> None:
        blocked = self.kit.list_blocked_computers(self.admin, self.account_id, limit=100).items
        if not blocked:
            return
        computer = sorted(b.computer_id for b in blocked)[n % len(blocked)]
        self.refused((), lambda: self.kit.unblock_computer(self.admin, self.account_id, computer))

    @rule(n=st.integers(0, 99), seats=st.integers(1, 7))
    def change_seats(self, n: int, seats: int) -> None:
        key_id = self.key_at(n)
        refusal = self.refused(
            KEY_CHANGE_REFUSALS,
            lambda: self.kit.change_license_key(self.admin, self.account_id, key_id, seats=seats),
        )
        if refusal is None:
            assert self.stored().keys[key_id].seats == seats

    @rule(action=st.sampled_from(["suspend", "resume", "resume"]))
    def suspend_or_resume_primary(self, action: str) -> None:
        change = (
            self.kit.suspend_license_key if action == "suspend" else self.kit.resume_license_key
        )
        self.refused((ConflictError,), lambda: change(self.admin, self.account_id, self.primary))

    @precondition(lambda self: len(self.keys) > 1)
    @rule(n=st.integers(0, 99), action=st.sampled_from(["remove", "resume", "suspend"]))
    def remove_or_resume_additional_key(self, n: int, action: str) -> None:
        key_id = self.keys[1 + n % (len(self.keys) - 1)]
        change = {
            "remove": self.kit.remove_license_key,
            "resume": self.kit.resume_license_key,
            "suspend": self.kit.suspend_license_key,
        }[action]
        refusal = self.refused(
            KEY_CHANGE_REFUSALS, lambda: change(self.admin, self.account_id, key_id)
        )
        if refusal is None and action == "remove":
            key = self.stored().keys[key_id]
            assert key.status is KeyStatus.REMOVED
            assert key.released_at is not None

    @precondition(lambda self: len(self.keys) > 1)
    @rule(n=st.integers(0, 99), hours=st.sampled_from([1, 4, 30, None]))
    def change_additional_expiry(self, n: int, hours: int | None) -> None:
        """An additional key's expiry moves (never past its primary's: else refused)."""
        key_id = self.keys[1 + n % (len(self.keys) - 1)]
        if hours is None:
            call: Any = lambda: self.kit.change_license_key(  # noqa: E731
                self.admin, self.account_id, key_id, clear_expiry=True
            )
        else:
            call = lambda: self.kit.change_license_key(  # noqa: E731
                self.admin, self.account_id, key_id, expires_at=self.now + hours * HOUR
            )
        self.refused(KEY_CHANGE_REFUSALS, call)

    @rule(change=st.sampled_from(["renew", "sooner", "clear", "grace"]))
    def change_primary_expiry(self, change: str) -> None:
        session, account_id, key_id = self.admin, self.account_id, self.primary
        calls = {
            "renew": lambda: self.kit.renew_license_key(
                session, account_id, key_id, period=2 * DAY
            ),
            "sooner": lambda: self.kit.change_license_key(
                session, account_id, key_id, expires_at=self.now + 6 * HOUR
            ),
            "clear": lambda: self.kit.change_license_key(
                session, account_id, key_id, clear_expiry=True
            ),
            "grace": lambda: self.kit.change_license_key(
                session, account_id, key_id, grace_period=DAY
            ),
        }
        self.refused(KEY_CHANGE_REFUSALS, calls[change])

    @precondition(lambda self: len(self.keys) > 1)
    @rule(source=st.integers(0, 99), to=st.integers(0, 99))
    def move_installations(self, source: int, to: int) -> None:
        """Every installation of one key of the family moves to another: all or none."""
        from_key, to_key = self.key_at(source), self.key_at(to)
        if from_key == to_key:
            return
        before = self.stored()
        moving = before.active(from_key)
        refusal = self.refused(
            MOVE_REFUSALS,
            lambda: self.kit.move_installations(self.admin, self.account_id, from_key, to_key),
        )
        if refusal is None:
            after = self.stored()
            assert after.active(from_key) == 0
            assert after.active(to_key) >= moving
            event("moved")

    @rule(step=st.sampled_from(STEPS))
    def advance_clock(self, step: dt.timedelta) -> None:
        self.kit.clock.advance(step)

    @rule(
        n=st.integers(0, 99),
        which=st.sampled_from(["primary", "one", "all"]),
        silent=st.sampled_from([True, True, False]),
    )
    def cull(self, n: int, which: str, silent: bool) -> None:
        """The primary, one key or every key culls after two hours without a check-in;
        perhaps the copies stay silent that long; the culling job runs."""
        keys = {"primary": [self.primary], "one": [self.key_at(n)], "all": self.keys}[which]
        for key_id in keys:
            self.refused(
                KEY_CHANGE_REFUSALS,
                lambda key_id=key_id: self.kit.change_license_key(
                    self.admin,
                    self.account_id,
                    key_id,
                    check_in_interval=HOUR,
                    dead_after=2 * HOUR,
                ),
            )
        if silent:
            self.kit.clock.advance(3 * HOUR)
        report = self.kit.cull_installations()
        event(f"cull: {min(report.culled, 2)}{'+' if report.culled > 2 else ''}")

    @rule(n=st.integers(0, 99))
    def check_in(self, n: int) -> None:
        """A copy checks in; a culled one takes its seat back only if its key is usable."""
        if not self.tokens:
            return
        installation_id = sorted(self.tokens)[n % len(self.tokens)]
        stored = self.stored()
        found = [i for i in stored.installations if i.id == installation_id]
        before = self.snapshot()
        if not found:  # a move of the computer's active copy to its key replaced this record
            with pytest.raises(InstallationNotFound):
                self.kit.check_in(self.tokens[installation_id])
            assert self.snapshot() == before
            event("check-in: replaced by a move")
            return
        (installation,) = found
        running = standing.key_state(self.judged(stored, installation.key_id), self.now)
        try:
            result = self.kit.check_in(self.tokens[installation_id])
        except InstallationNotFound:  # a later activation of the computer replaced it
            assert self.snapshot() == before
            return
        if result.returned:
            assert running is LicenseState.ACTIVE
            event("check-in: returned")
        else:
            assert self.snapshot()[0] == before[0], "a check-in changed the counters"

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def every_key_counts_its_own_installations_exactly(self) -> None:
        if not self.primary:
            return
        stored = self.stored()
        for key in stored.keys.values():
            active = stored.active(key.id)
            if key.primary_id is None:
                continue
            assert key.seats_used == active, f"{key.id}: seats_used {key.seats_used}, {active}"
            assert active <= key.seats, f"{key.id}: {active} active, {key.seats} seats"

    @invariant()
    def the_primary_counts_its_whole_pool_and_is_never_oversold(self) -> None:
        if not self.primary:
            return
        stored = self.stored()
        primary = stored.keys[self.primary]
        expected = stored.active(primary.id)
        for key in stored.keys.values():
            if key.primary_id != primary.id or key.released_at is not None:
                continue
            if key.seat_pool is SeatPool.RESERVED:
                expected += key.seats
            else:
                expected += stored.active(key.id)
        assert primary.seats_used == expected, (primary.seats_used, expected)
        assert primary.seats_used <= primary.seats, (primary.seats_used, primary.seats)

    @invariant()
    def a_released_key_is_never_usable_and_what_may_run_fits_the_pool(self) -> None:
        if not self.primary:
            return
        stored = self.stored()
        primary = stored.keys[self.primary]
        in_use = stored.active(primary.id)
        for key in stored.keys.values():
            if key.primary_id != primary.id:
                continue
            state = standing.key_state(self.judged(stored, key.id), self.now)
            if key.released_at is not None:
                assert state not in RUNNING, f"{key.id} released but {state.value}"
                continue
            if state in RUNNING or state is LicenseState.SUSPENDED:
                in_use += key.seats if key.seat_pool is SeatPool.RESERVED else stored.active(key.id)
        assert in_use <= primary.seats, f"{in_use} seats in use of {primary.seats}"

    @invariant()
    def installations_are_one_per_key_and_computer(self) -> None:
        if not self.primary:
            return
        installations = self.stored().installations
        pairs = Counter((i.key_id, i.computer_id) for i in installations)
        assert all(n == 1 for n in pairs.values())


def test_seats_of_a_primary_and_its_additional_keys_are_never_oversold(flavour: str) -> None:
    """The invariants hold after every step (fewer runs through the async bridge)."""
    run_state_machine_as_test(
        SeatPoolMachine,
        settings=settings(
            max_examples=examples(60 if flavour == "sync" else 20),
            stateful_step_count=30,
            deadline=None,
        ),
    )


# -- a defect the machine found, fixed ---------------------------------------------------------


def test_reviving_a_primary_brings_back_released_keys_without_their_seats() -> None:
    """A dynamic key's hold is released while its primary has ended; the primary's expiry
    is then cleared: the dynamic key runs again, and so must hold its seats of the pool."""
    kit = make_licensekit(settings=SETTINGS)
    admin, account = make_business_account(kit)
    primary = kit.add_license_key(admin, account.id, product="Atlas", value="P-1", seats=2).id
    dynamic = kit.add_additional_key(
        admin, account.id, primary, value="D-1", seats=2, seat_pool="dynamic"
    ).id
    kit.invite_installers(admin, account.id, dynamic, ["d@example.com"], max_activations=5)
    code = kit.mailer.last(to="d@example.com").data["code"]
    for computer in ("D-0", "D-1"):
        kit.activate(code=code, computer_id=computer)
    kit.change_license_key(admin, account.id, primary, expires_at=kit.clock.now() + DAY)
    kit.clock.advance(days=2)
    # The primary has ended: a refused attempt to reserve seats under it gives the lapsed
    # dynamic key's seats back to the pool first.
    with pytest.raises(ConflictError, match="expired"):
        kit.add_additional_key(
            admin, account.id, primary, value="R-1", seats=2, seat_pool="reserved"
        )
    kit.change_license_key(admin, account.id, primary, clear_expiry=True)

    # The dynamic key's two computers run again...
    assert kit.get_license_key(admin, account.id, dynamic).seats_used == 2
    with records(kit.store) as tx:
        key = tx.get(LICENSE_KEYS, dynamic)
        pool = tx.get(LICENSE_KEYS, primary)
    assert key is not None
    assert pool is not None
    assert standing.key_state(seat_pools.effective_key(key, pool), kit.clock.now()) in RUNNING
    # ...so the pool of two seats has none left for the primary (got: 2 free, and two more
    # computers activate through the primary: four running on two seats).
    assert kit.get_seat_pool(admin, account.id, primary).available == 0
    kit.invite_installers(admin, account.id, primary, ["p@example.com"])
    with pytest.raises(SeatsFull):
        kit.activate(code=kit.mailer.last(to="p@example.com").data["code"], computer_id="P-0")
