"""The licensing use cases on storage port v2: the scopes they lock, the store operations they
make, and a seat decided by the store's guarded counter.

A recording memory store notes every operation of every transaction, so that these tests can
say how many look-ups an activation makes, which scopes a change locks before it reads, and
that inviting many installers costs the same number of operations as inviting a few.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from licensekit import (
    ActivationCodeNotFound,
    ActivationCodeUsedUp,
    AuditAction,
    InstallationStatus,
    SeatsFull,
    Session,
    TooManyAttempts,
    licensing,
)
from licensekit.codes import new_activation_code
from licensekit.exceptions import ActivationCodeExpired, ComputerBlocked
from licensekit.model import Throttle
from licensekit.storage import LICENSE_KEYS
from licensekit.stores.memory import MemoryStore
from licensekit.testing import LicenseKitForTests, make_business_account, make_licensekit
from licensekit.throttling import ThrottlePolicy

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


class RecordingStore(MemoryStore):
    """A memory store that notes each transaction's operations, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.transactions: list[list[tuple[str, tuple[Any, ...]]]] = []
        self.refuse_seats = False

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        with super().transaction() as port:
            noted: list[tuple[str, tuple[Any, ...]]] = []
            self.transactions.append(noted)
            yield _Recorder(port, noted, self)

    def operations(self) -> list[str]:
        return [name for tx in self.transactions for name, _ in tx]

    def locks(self) -> list[str]:
        return [
            s for tx in self.transactions for name, args in tx if name == "lock" for s in args[0]
        ]

    def forget(self) -> None:
        self.transactions.clear()


class _Recorder:
    def __init__(self, port: Any, noted: list[tuple[str, tuple[Any, ...]]], store: RecordingStore):
        self._port, self._noted, self._store = port, noted, store

    def __getattr__(self, name: str) -> Any:
        operation = getattr(self._port, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self._noted.append((name, args))
            if name == "increment" and self._store.refuse_seats and args[3] > 0:
                return None  # as if another transaction had just taken the last seat
            return operation(*args, **kwargs)

        return call


class Shop:
    def __init__(self, seats: int = 3, invitees: int = 2) -> None:
        self.store = RecordingStore()
        self.kit: LicenseKitForTests = make_licensekit(store=self.store)
        self.admin: Session
        self.admin, account = make_business_account(self.kit)
        self.account_id = account.id
        self.key_id = self.kit.add_license_key(
            self.admin, self.account_id, product="Tool", value="TOOL-0001-XK7Q", seats=seats
        ).id
        self.emails = [f"user{n}@example.com" for n in range(invitees)]
        if invitees:
            self.kit.invite_installers(self.admin, self.account_id, self.key_id, self.emails)
        self.codes = [self.kit.mailer.last(to=e).data["code"] for e in self.emails]
        self.store.forget()

    def seats(self) -> tuple[int, int]:
        key = self.kit.get_license_key(self.admin, self.account_id, self.key_id)
        active = self.kit.list_installations(self.admin, self.account_id, self.key_id).items
        return key.seats_used, len(active)


def test_an_activation_reads_twice_locks_twice_and_claims_its_seat_with_the_counter() -> None:
    shop = Shop()
    shop.kit.activate(computer_id="PC-1", code=shop.codes[0])
    assert len(shop.store.transactions) == 1
    assert shop.store.operations() == [
        "read",  # 1. the invitation, by the code's hash
        "lock",  # 2. the computer, then (a call of its own, as the lock order asks) ...
        "lock",  #    ... its key; a server store queues both: no round trip is added
        "read",  #    ... then everything the decision needs, in one fetch
        "increment",  # 3. the seat
        "save",  # 4. the invitation,
        "add",  #    the installation,
        "put",  #    the key's hourly count of seats taken,
        "add",  #    the audit event
    ]
    (_, (kind, key, field, by)), *_ = [
        (n, a) for tx in shop.store.transactions for n, a in tx if n == "increment"
    ]
    assert (kind, key, field, by) == (LICENSE_KEYS, (shop.key_id,), "seats_used", 1)
    assert sorted(shop.store.locks()) == [
        f"computer:{shop.account_id}:PC-1",
        f"key:{shop.key_id}",
    ]
    assert shop.seats() == (1, 1)


def test_an_activation_locks_nothing_account_wide() -> None:
    shop = Shop()
    shop.kit.activate(computer_id="PC-1", code=shop.codes[0])
    assert not [s for s in shop.store.locks() if s.startswith("account:")]


def test_a_computer_activating_again_takes_no_seat_and_makes_no_increment() -> None:
    shop = Shop()
    shop.kit.activate(computer_id="PC-1", code=shop.codes[0])
    shop.store.forget()
    assert shop.kit.activate(computer_id="PC-1", code=shop.codes[0]).already_active
    assert "increment" not in shop.store.operations()
    assert shop.seats() == (1, 1)


def test_a_seat_the_counter_refuses_is_seats_full_and_changes_nothing_but_the_trail() -> None:
    shop = Shop(seats=3)
    shop.store.refuse_seats = True
    with pytest.raises(SeatsFull):
        shop.kit.activate(computer_id="PC-1", code=shop.codes[0])
    shop.store.refuse_seats = False
    assert shop.seats() == (0, 0)
    events = shop.kit.list_audit_events(shop.admin, shop.account_id, limit=200).items
    refused = [e for e in events if e.action is AuditAction.ACTIVATION_REFUSED]
    assert [e.details["reason"] for e in refused] == ["SeatsFull"]
    # Not the code's fault: the code still activates, once a seat is there.
    assert not shop.kit.activate(computer_id="PC-1", code=shop.codes[0]).already_active


def test_deactivating_releases_the_seat_with_the_counter_under_the_computer_and_key_scopes() -> (
    None
):
    shop = Shop()
    installed = shop.kit.activate(computer_id="PC-1", code=shop.codes[0])
    shop.store.forget()
    shop.kit.deactivate_installation(shop.admin, shop.account_id, installed.installation_id)
    increments = [a for tx in shop.store.transactions for n, a in tx if n == "increment"]
    assert [(a[2], a[3]) for a in increments] == [("seats_used", -1)]
    assert shop.store.locks() == [
        f"account:{shop.account_id}",
        f"computer:{shop.account_id}:PC-1",
        f"key:{shop.key_id}",
    ]
    assert shop.seats() == (0, 0)


def test_an_administrators_block_deactivates_under_every_key_in_one_look_up() -> None:
    shop = Shop()
    other = shop.kit.add_license_key(
        shop.admin, shop.account_id, product="Other", value="OTHR-0002-XK7Q", seats=2
    ).id
    shop.kit.invite_installers(shop.admin, shop.account_id, other, ["x@example.com"])
    other_code = shop.kit.mailer.last(to="x@example.com").data["code"]
    first = shop.kit.activate(computer_id="PC-1", code=shop.codes[0])
    shop.kit.activate(computer_id="PC-1", code=other_code)
    shop.store.forget()
    shop.kit.block_computer(shop.admin, shop.account_id, first.installation_id)
    assert shop.store.operations().count("increment") == 2
    assert sorted(shop.store.locks()) == sorted(
        [
            f"account:{shop.account_id}",
            f"computer:{shop.account_id}:PC-1",
            f"key:{shop.key_id}",
            f"key:{other}",
        ]
    )
    assert shop.seats() == (0, 0)
    with pytest.raises(ComputerBlocked):
        shop.kit.activate(computer_id="PC-1", code=shop.codes[1])


def test_a_check_in_after_a_deactivation_reports_it_and_brings_nothing_back() -> None:
    shop = Shop()
    installed = shop.kit.activate(computer_id="PC-1", code=shop.codes[0])
    shop.kit.deactivate_installation(shop.admin, shop.account_id, installed.installation_id)
    view = shop.kit.check_in(installed.installation_token).installation
    assert view.status is InstallationStatus.DEACTIVATED
    assert shop.seats() == (0, 0)


def test_a_check_in_locks_its_computer_before_it_moves_last_seen() -> None:
    shop = Shop()
    installed = shop.kit.activate(computer_id="PC-1", code=shop.codes[0])
    shop.store.forget()
    shop.kit.check_in(installed.installation_token)
    # Seen a moment ago, nothing changed: nothing written. The memory store's lock answers
    # that nothing read before can have changed: the key and blocks are read, not the
    # installation again.
    assert shop.store.operations() == ["read", "lock", "read"]
    assert shop.store.locks() == [f"computer:{shop.account_id}:PC-1"]
    shop.kit.clock.advance(hours=6)  # a quarter of the daily check-in interval
    shop.store.forget()
    shop.kit.check_in(installed.installation_token)
    assert shop.store.operations() == ["read", "lock", "read", "save"]


@pytest.mark.parametrize("change", ["suspend", "change", "remove"])
def test_a_change_of_a_key_locks_the_account_and_the_key(change: str) -> None:
    shop = Shop(invitees=0)
    if change == "suspend":
        shop.kit.suspend_license_key(shop.admin, shop.account_id, shop.key_id)
    elif change == "change":
        shop.kit.change_license_key(shop.admin, shop.account_id, shop.key_id, seats=9)
    else:
        shop.kit.remove_license_key(shop.admin, shop.account_id, shop.key_id)
    assert shop.store.locks() == [f"account:{shop.account_id}", f"key:{shop.key_id}"]


def test_inviting_many_installers_costs_as_many_operations_as_inviting_a_few() -> None:
    counts = []
    for invitees in (3, 400):
        shop = Shop(invitees=0)
        emails = [f"u{n}@example.com" for n in range(invitees)]
        shop.kit.invite_installers(shop.admin, shop.account_id, shop.key_id, emails, send=False)
        invited = shop.store.operations()
        shop.store.forget()
        shop.kit.send_install_invitations(shop.admin, shop.account_id, shop.key_id)
        counts.append((len(invited), len(shop.store.operations())))
    assert counts[0] == counts[1]


def test_sending_named_invitations_reads_them_in_one_look_up() -> None:
    shop = Shop(invitees=0)
    emails = [f"u{n}@example.com" for n in range(50)]
    batch = shop.kit.invite_installers(shop.admin, shop.account_id, shop.key_id, emails, send=False)
    shop.store.forget()
    ids = [i.id for i in batch.invited]
    report = shop.kit.send_install_invitations(
        shop.admin, shop.account_id, shop.key_id, invitation_ids=ids
    )
    assert len(report.sent) == 50
    claim = shop.store.transactions[0]
    assert [n for n, _ in claim].count("read") <= 6  # with the account's hourly count of emails
    assert "page" not in [n for n, _ in claim]


def test_a_miss_locks_the_throttle_scopes_it_counts_on() -> None:
    shop = Shop()
    with pytest.raises(ActivationCodeNotFound):
        shop.kit.activate(computer_id="PC-1", code=new_activation_code(), client="c1")
    assert shop.store.locks() == ["throttle:activation:*", "throttle:activation:client:c1"]


# The refusal bookkeeping, as a pure decision.


def _policy() -> ThrottlePolicy:
    return ThrottlePolicy(max_failures=2)


def test_a_refusal_for_the_codes_own_sake_counts_and_is_audited() -> None:
    decided = licensing.refuse_activation(
        ActivationCodeUsedUp("used up"),
        returning=False,
        throttle=None,
        key="activation:invitation:inst_1",
        policy=_policy(),
        now=NOW,
    )
    assert decided.audited
    assert isinstance(decided.error, ActivationCodeUsedUp)
    assert decided.throttle is not None
    assert decided.throttle.failures == 1


def test_a_refusal_that_is_not_the_codes_fault_counts_nothing_even_when_locked() -> None:
    locked = Throttle(
        key="k",
        failures=0,
        window_started_at=NOW,
        expires_at=NOW + dt.timedelta(hours=1),
        locked_until=NOW + dt.timedelta(minutes=5),
    )
    decided = licensing.refuse_activation(
        SeatsFull("full", seats=1),
        returning=False,
        throttle=locked,
        key="k",
        policy=_policy(),
        now=NOW,
    )
    assert (decided.throttle, decided.audited, type(decided.error)) == (None, True, SeatsFull)


def test_a_returning_computer_is_never_counted_against_its_code() -> None:
    decided = licensing.refuse_activation(
        ActivationCodeExpired("expired"),
        returning=True,
        throttle=None,
        key="k",
        policy=_policy(),
        now=NOW,
    )
    assert decided.throttle is None
    assert decided.audited


def test_a_locked_code_answers_too_many_attempts_and_records_nothing() -> None:
    until = NOW + dt.timedelta(minutes=5)
    locked = Throttle(
        key="k", failures=0, window_started_at=NOW, expires_at=until, locked_until=until
    )
    decided = licensing.refuse_activation(
        ActivationCodeUsedUp("used up"),
        returning=False,
        throttle=locked,
        key="k",
        policy=_policy(),
        now=NOW,
    )
    assert isinstance(decided.error, TooManyAttempts)
    assert until.isoformat() in str(decided.error)  # the lock's end, whatever the clock
    assert (decided.throttle, decided.audited) == (None, False)


def test_a_success_clears_a_codes_count_but_not_its_lock() -> None:
    counted = Throttle(key="k", failures=1, window_started_at=NOW, expires_at=NOW)
    locked = Throttle(
        key="k",
        failures=0,
        window_started_at=NOW,
        expires_at=NOW,
        locked_until=NOW + dt.timedelta(1),
    )
    assert licensing.clears_code_throttle(counted, NOW)
    assert not licensing.clears_code_throttle(locked, NOW)
    assert not licensing.clears_code_throttle(None, NOW)
