"""Attacks on the installed product's side: check-in, grace, culling, renewals, certificates.

Each test tries to break one promise of issue 17 as an attacker (a copy of the product with
its installation token, another account's administrator) or as a careful host (a culling
job overlapping with everything else, threads and processes on one SQLite file, PostgreSQL
at READ COMMITTED) would. The promises:

* seats are never oversold: ``seats_used`` never exceeds ``seats`` and always equals the
  count of active installations, whatever runs at the same time;
* a check-in token reaches its own installation only, and culling only the dead
  installations of keys that cull;
* a deactivated or blocked installation never comes back through check-in;
* no certificate for a copy that may not run, and none valid past the license's end;
* the culling job never culls a copy that checked in after it read it, nor twice;
* what a caller gets wrong raises a :class:`~licensekit.LicenseKitError` and writes nothing.

The review that wrote them found five defects, fixed since: a culled copy returning by
check-in while the key was changed lost a seat count on PostgreSQL (its claim now holds the
key's scope); a block or a deactivation left a culled installation free to come back (both
now end it); ``never_cull`` took any truthy value. Every test is now a regression test.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from _postgres import examples
from licensekit import (
    AccountNotFound,
    AuditAction,
    ConflictError,
    InstallationNotFound,
    InstallationStatus,
    LicenseKeyNotFound,
    LicenseKeyUnavailable,
    LicenseKitError,
    LicenseState,
    MessageKind,
    PermissionDenied,
    SeatsFull,
    SeatsInUse,
    Settings,
    ValidationError,
)
from licensekit.model import Installation, LicenseKey
from licensekit.signing import Ed25519Signer
from licensekit.storage import INSTALLATIONS, PROTOCOL_VERSION, RecordKind
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import (
    FakeClock,
    LicenseKitForTests,
    add_member,
    make_business_account,
    make_licensekit,
)
from licensekit.verifier import verify_certificate

DAY = dt.timedelta(days=1)
SIGNER = Ed25519Signer.generate()
PUBLIC = dict(SIGNER.public_keys())
# Sessions outlive the years these tests skip.
SETTINGS = Settings(session_lifetime=dt.timedelta(days=800))


# == helpers ================================================================================


def _kit(store: Any = None, *, clock: FakeClock | None = None) -> LicenseKitForTests:
    return make_licensekit(store=store, signer=SIGNER, settings=SETTINGS, clock=clock)


class Licence:
    """An account, its administrator, one key and an invitation code for many computers."""

    def __init__(
        self,
        kit: LicenseKitForTests,
        *,
        seats: int = 2,
        dead_after: dt.timedelta | None = 2 * DAY,
        admin_email: str = "admin@example.com",
        value: str = "KEY-0001",
        invite_expires_in: str | None = None,
        **liveness: Any,
    ) -> None:
        self.kit = kit
        self.admin, account = make_business_account(kit, admin_email=admin_email)
        self.account_id = account.id
        key = kit.add_license_key(
            self.admin,
            self.account_id,
            product="Desktop Pro",
            value=value,
            seats=seats,
            dead_after=dead_after,
            **liveness,
        )
        self.key_id = key.id
        invitee = f"installer-{value.lower()}@example.com"
        kit.invite_installers(
            self.admin,
            self.account_id,
            self.key_id,
            [invitee],
            max_activations=50,
            expires_in=invite_expires_in,
        )
        self.code = str(
            kit.mailer.last(to=invitee, kind=MessageKind.INSTALL_INVITATION).data["code"]
        )

    def activate(self, computer_id: str) -> tuple[str, str]:
        """Activate *computer_id*; return its installation id and token."""
        result = self.kit.activate(computer_id=computer_id, code=self.code)
        return result.installation_id, result.installation_token

    def key(self) -> LicenseKey:
        return _records(self.kit.store, LicenseKey, id=self.key_id)[0]

    def installation(self, installation_id: str) -> Installation:
        return _records(self.kit.store, Installation, id=installation_id)[0]

    def events(self, action: AuditAction) -> list[Any]:
        page = self.kit.list_audit_events(self.admin, self.account_id, limit=500)
        return [e for e in page.items if e.action is action]


def _records(store: Any, kind: type, **where: Any) -> list[Any]:
    return [
        r
        for r in store.dump()
        if isinstance(r, kind) and all(getattr(r, f) == v for f, v in where.items())
    ]


def assert_seats_consistent(store: Any) -> None:
    """Every key: ``seats_used`` equals its active installations, and never exceeds seats."""
    records = store.dump()
    active = Counter(r.key_id for r in records if isinstance(r, Installation) and r.is_active)
    for key in (r for r in records if isinstance(r, LicenseKey)):
        assert key.seats_used == active[key.id], (key.id, key.seats_used, active[key.id])
        assert active[key.id] <= key.seats, (key.id, active[key.id], key.seats)


def _culled(lic: Licence, computer_id: str) -> tuple[str, str]:
    """Activate *computer_id*, let it go silent past dead_after, and cull it."""
    installation_id, token = lic.activate(computer_id)
    lic.kit.clock.advance(days=3)
    assert lic.kit.cull_installations().culled >= 1
    assert lic.installation(installation_id).status is InstallationStatus.CULLED
    return installation_id, token


class _HookedTransaction:
    """A store transaction that lets a test act at chosen moments inside a use case."""

    def __init__(self, port: Any, store: _HookedStore) -> None:
        self._port, self._store = port, store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._port, name)

    def save(self, kind: RecordKind[Any], records: Any) -> None:
        self._store.fire(f"save:{kind.name}")
        self._port.save(kind, records)

    def page(self, kind: RecordKind[Any], owner: Any, *, after: Any, limit: int) -> list[Any]:
        found: list[Any] = self._port.page(kind, owner, after=after, limit=limit)
        if kind is INSTALLATIONS:
            self._store.scanned = True
        return found


class _HookedStore:
    """Wraps a store; ``on(event, action)`` runs *action* once, when *event* happens.

    Events: ``save:<kind>`` (inside the transaction, before the save reaches the store) and
    ``after_scan`` (before the first transaction that follows a page of installations: in
    the culling job, between reading a page and culling its dead installations).
    """

    protocol_version = PROTOCOL_VERSION

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.scanned = False
        self._hooks: dict[str, Callable[[], object]] = {}

    def on(self, event: str, action: Callable[[], object]) -> None:
        self._hooks[event] = action

    def fire(self, event: str) -> None:
        action = self._hooks.pop(event, None)
        if action is not None:
            action()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[_HookedTransaction]:
        if self.scanned:
            self.scanned = False
            self.fire("after_scan")
        with self.inner.transaction() as port:
            yield _HookedTransaction(port, self)

    def dump(self) -> list[object]:
        return list(self.inner.dump())

    def close(self) -> None:
        self.inner.close()


class _Concurrent:
    """A use case run in a thread of its own: another connection, another transaction.

    ``start`` (a hook) starts it and gives it a moment to finish; it may instead wait for a
    lock the hooked transaction holds, in which case it finishes once that one commits.
    ``finish`` waits for it and raises what it raised.
    """

    def __init__(self, action: Callable[[], object], *, grace: float = 2.0) -> None:
        self._action, self._grace = action, grace
        self._errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        try:
            self._action()
        except BaseException as e:  # pragma: no cover - raised again by finish()
            self._errors.append(e)

    def start(self) -> None:
        self._thread.start()
        self._thread.join(self._grace)

    def finish(self) -> None:
        self._thread.join(30)
        assert not self._thread.is_alive(), "the concurrent use case never finished"
        if self._errors:
            raise self._errors[0]


@pytest.fixture
def pg_store() -> Iterator[Any]:
    from licensekit.exceptions import StorageError

    try:
        from licensekit.testing._postgres import open_postgres_test_store

        store, close = open_postgres_test_store()
    except (ImportError, StorageError) as e:  # pragma: no cover - no server here
        pytest.skip(f"no PostgreSQL: {e}")
    yield store
    close()


# == seats: never oversold ==================================================================


def test_a_culled_copy_returns_only_to_a_free_seat() -> None:
    lic = Licence(_kit(), seats=1)
    _, ann = _culled(lic, "SN-ANN")
    lic.activate("SN-BOB")  # takes the seat Ann lost
    back = lic.kit.check_in(ann)
    assert (back.returned, back.license_state, back.certificate) == (
        False,
        LicenseState.DEACTIVATED,
        None,
    )
    assert back.installation.status is InstallationStatus.CULLED
    assert_seats_consistent(lic.kit.store)


def test_lowering_seats_under_culled_copies_leaves_them_without_a_seat() -> None:
    lic = Licence(_kit(), seats=3)
    _, ann = _culled(lic, "SN-ANN")
    _, bob = _culled(lic, "SN-BOB")
    lic.activate("SN-CAT")
    # Only Cat holds a seat: one seat is enough, and the culled copies find none.
    assert lic.kit.change_license_key(lic.admin, lic.account_id, lic.key_id, seats=1).seats == 1
    assert not lic.kit.check_in(ann).returned
    assert not lic.kit.check_in(bob).returned
    with pytest.raises(SeatsFull):
        lic.activate("SN-DAN")
    assert_seats_consistent(lic.kit.store)


def test_culled_copies_returning_while_others_activate_on_sqlite_threads(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "lk.db")
    try:
        lic = Licence(_kit(store), seats=4)
        culled = [lic.activate(f"SN-OLD-{i}")[1] for i in range(4)]
        lic.kit.clock.advance(days=3)
        assert lic.kit.cull_installations().culled == 4
        barrier = threading.Barrier(12)
        outcomes: list[str] = []

        def back(token: str) -> None:
            barrier.wait()
            outcomes.append("returned" if lic.kit.check_in(token).returned else "refused")

        def new(computer_id: str) -> None:
            barrier.wait()
            try:
                lic.activate(computer_id)
                outcomes.append("activated")
            except SeatsFull:
                outcomes.append("full")

        def lower() -> None:
            barrier.wait()
            for seats in (3, 2):
                with contextlib.suppress(SeatsInUse):
                    lic.kit.change_license_key(lic.admin, lic.account_id, lic.key_id, seats=seats)

        def cull() -> None:
            barrier.wait()
            lic.kit.cull_installations()

        jobs = [lambda t=t: back(t) for t in culled]
        jobs += [lambda i=i: new(f"SN-NEW-{i}") for i in range(6)]
        jobs += [lower, cull]
        threads = [threading.Thread(target=job) for job in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        seated = outcomes.count("returned") + outcomes.count("activated")
        assert seated == lic.key().seats_used
        assert_seats_consistent(store)
    finally:
        store.close()


def test_two_licensekits_on_one_sqlite_file_never_oversell(tmp_path: Path) -> None:
    path = tmp_path / "lk.db"
    first, second = SQLiteStore(path), SQLiteStore(path)
    try:
        clock = FakeClock()
        lic = Licence(_kit(first, clock=clock), seats=2)
        other = _kit(second, clock=clock)
        tokens = [lic.activate(f"SN-OLD-{i}")[1] for i in range(2)]
        clock.advance(days=3)
        assert lic.kit.cull_installations().culled == 2
        barrier = threading.Barrier(6)

        def job(i: int) -> None:
            barrier.wait()
            kit = lic.kit if i % 2 else other
            with contextlib.suppress(SeatsFull):
                if i < 2:
                    kit.check_in(tokens[i])
                else:
                    kit.activate(computer_id=f"SN-NEW-{i}", code=lic.code)

        threads = [threading.Thread(target=job, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert lic.key().seats_used == 2
        assert_seats_consistent(first)
    finally:
        first.close()
        second.close()


def test_culled_copies_returning_while_others_activate_on_postgresql(pg_store: Any) -> None:
    lic = Licence(_kit(pg_store), seats=3)
    culled = [lic.activate(f"SN-OLD-{i}")[1] for i in range(3)]
    lic.kit.clock.advance(days=3)
    assert lic.kit.cull_installations().culled == 3
    barrier = threading.Barrier(8)

    def job(i: int) -> None:
        barrier.wait()
        with contextlib.suppress(SeatsFull):
            if i < 3:
                lic.kit.check_in(culled[i])
            elif i < 7:
                lic.activate(f"SN-NEW-{i}")
            else:
                lic.kit.cull_installations()

    threads = [threading.Thread(target=job, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert lic.key().seats_used == 3
    assert_seats_consistent(pg_store)


def test_lowering_seats_while_a_culled_copy_returns_on_postgresql(pg_store: Any) -> None:
    kit = _kit(pg_store)
    lic = Licence(kit, seats=3)
    _, ann = _culled(lic, "SN-ANN")
    lic.activate("SN-BOB")
    lic.activate("SN-CAT")
    hooked = _HookedStore(pg_store)
    kit.store = hooked
    # Ann's copy checks in after the change read the key (seats_used 2), before it saves it.
    ann_back = _Concurrent(lambda: kit.check_in(ann))
    hooked.on("save:license_keys", ann_back.start)
    # A fix may refuse the lower count, having seen Ann back: fine.
    with contextlib.suppress(SeatsInUse):
        kit.change_license_key(lic.admin, lic.account_id, lic.key_id, seats=2)
    ann_back.finish()
    kit.store = pg_store
    assert_seats_consistent(pg_store)


def test_removing_a_key_while_a_culled_copy_returns_on_postgresql(pg_store: Any) -> None:
    kit = _kit(pg_store)
    lic = Licence(kit, seats=2)
    _, ann = _culled(lic, "SN-ANN")
    hooked = _HookedStore(pg_store)
    kit.store = hooked
    ann_back = _Concurrent(lambda: kit.check_in(ann))
    hooked.on("save:license_keys", ann_back.start)
    with contextlib.suppress(SeatsInUse):
        kit.remove_license_key(lic.admin, lic.account_id, lic.key_id)
    ann_back.finish()
    kit.store = pg_store
    assert_seats_consistent(pg_store)


def test_lowering_seats_while_a_culled_copy_returns_on_sqlite(tmp_path: Path) -> None:
    # SQLite runs one writing transaction at a time: the same interleaving cannot happen,
    # and the check-in, started during the change, waits for it.
    store = SQLiteStore(tmp_path / "lk.db")
    try:
        kit = _kit(store)
        lic = Licence(kit, seats=3)
        _, ann = _culled(lic, "SN-ANN")
        lic.activate("SN-BOB")
        lic.activate("SN-CAT")
        hooked = _HookedStore(store)
        kit.store = hooked
        results: list[bool] = []
        thread = threading.Thread(target=lambda: results.append(kit.check_in(ann).returned))
        hooked.on("save:license_keys", thread.start)
        kit.change_license_key(lic.admin, lic.account_id, lic.key_id, seats=2)
        thread.join(30)
        kit.store = store
        assert results == [False]  # the change came first: no seat left for Ann
        assert_seats_consistent(store)
    finally:
        store.close()


# == accounts: a token or a job reaches its own records only ================================


def test_a_check_in_token_reaches_its_own_installation_only() -> None:
    kit = _kit()
    a = Licence(kit, admin_email="a@example.com", value="KEY-A")
    b = Licence(kit, admin_email="b@example.com", value="KEY-B")
    a_id, token_a = a.activate("SN-SHARED")
    b_id, _ = b.activate("SN-SHARED")  # the same computer id in another account
    before = b.installation(b_id)
    kit.clock.advance(hours=12)
    result = kit.check_in(token_a)
    assert (result.installation.id, result.installation.key_id) == (a_id, a.key_id)
    assert b.installation(b_id) == before
    assert b.events(AuditAction.STATE_SEEN) == []
    claims = verify_certificate(
        result.certificate or "", PUBLIC, computer_id="SN-SHARED", now=kit.clock.now()
    )
    assert (claims.account_id, claims.license_key_id) == (a.account_id, a.key_id)


def test_another_accounts_administrator_cannot_change_liveness_or_renew() -> None:
    kit = _kit()
    a = Licence(kit, admin_email="a@example.com", value="KEY-A", expires_at=None)
    b = Licence(kit, admin_email="b@example.com", value="KEY-B")
    before = a.key()
    with pytest.raises(AccountNotFound):
        kit.change_license_key(b.admin, a.account_id, a.key_id, never_cull=True)
    with pytest.raises(LicenseKeyNotFound):
        kit.change_license_key(b.admin, b.account_id, a.key_id, dead_after=30 * DAY)
    with pytest.raises(LicenseKeyNotFound):
        kit.renew_license_key(b.admin, b.account_id, a.key_id, period=DAY)
    with pytest.raises(AccountNotFound):
        kit.renew_license_key(b.admin, a.account_id, a.key_id, period=DAY)
    assert a.key() == before


def test_a_license_administrator_cannot_change_liveness_or_renew() -> None:
    kit = _kit()
    lic = Licence(kit, expires_at=kit.clock.now() + 30 * DAY)
    member = add_member(kit, lic.admin, lic.account_id, "la@example.com")
    kit.grant_license_administrator(lic.admin, lic.account_id, member.user_id, lic.key_id)
    before = lic.key()
    with pytest.raises(PermissionDenied):
        kit.change_license_key(member, lic.account_id, lic.key_id, never_cull=True)
    with pytest.raises(PermissionDenied):
        kit.renew_license_key(member, lic.account_id, lic.key_id, period=365 * DAY)
    assert lic.key() == before


def test_culling_touches_only_dead_installations_of_keys_that_cull() -> None:
    kit = _kit()
    culls = Licence(kit, admin_email="a@example.com", value="KEY-A", seats=3)
    never = Licence(kit, admin_email="b@example.com", value="KEY-B", dead_after=None)
    dead_id, _ = culls.activate("SN-DEAD")
    silent_id, _ = never.activate("SN-SILENT")
    kit.clock.advance(days=1)
    alive_id, alive = culls.activate("SN-ALIVE")
    kit.clock.advance(days=1, hours=12)
    kit.check_in(alive)
    assert kit.cull_installations().culled == 1
    assert culls.installation(dead_id).status is InstallationStatus.CULLED
    assert culls.installation(alive_id).status is InstallationStatus.ACTIVE
    assert never.installation(silent_id).status is InstallationStatus.ACTIVE
    assert never.events(AuditAction.CULLED) == []
    assert_seats_consistent(kit.store)


# == deactivated or blocked: never back through check-in ====================================


def test_a_deactivated_installation_never_returns_through_check_in() -> None:
    lic = Licence(_kit())
    installation_id, token = lic.activate("SN-ANN")
    lic.kit.deactivate_installation(lic.admin, lic.account_id, installation_id)
    for _ in range(3):
        result = lic.kit.check_in(token)
        assert (result.license_state, result.returned, result.certificate) == (
            LicenseState.DEACTIVATED,
            False,
            None,
        )
        lic.kit.clock.advance(days=3)
        lic.kit.cull_installations()
    assert lic.installation(installation_id).status is InstallationStatus.DEACTIVATED
    assert_seats_consistent(lic.kit.store)


def test_a_blocked_then_unblocked_active_installation_does_not_return() -> None:
    lic = Licence(_kit())
    installation_id, token = lic.activate("SN-ANN")
    lic.kit.block_computer(lic.admin, lic.account_id, installation_id)
    blocked = lic.kit.check_in(token)
    assert (blocked.license_state, blocked.certificate) == (LicenseState.BLOCKED, None)
    lic.kit.unblock_computer(lic.admin, lic.account_id, "SN-ANN")
    after = lic.kit.check_in(token)
    assert (after.license_state, after.returned, after.certificate) == (
        LicenseState.DEACTIVATED,
        False,
        None,
    )


def test_a_blocked_culled_installation_does_not_return_while_blocked() -> None:
    lic = Licence(_kit())
    installation_id, token = _culled(lic, "SN-ANN")
    lic.kit.block_computer(lic.admin, lic.account_id, installation_id)
    result = lic.kit.check_in(token)
    assert (result.license_state, result.returned, result.certificate) == (
        LicenseState.BLOCKED,
        False,
        None,
    )
    assert lic.key().seats_used == 0


def test_a_culled_installation_blocked_then_unblocked_does_not_return() -> None:
    lic = Licence(_kit())
    installation_id, token = _culled(lic, "SN-ANN")
    lic.kit.block_computer(lic.admin, lic.account_id, installation_id)
    lic.kit.unblock_computer(lic.admin, lic.account_id, "SN-ANN")
    result = lic.kit.check_in(token)
    assert not result.returned
    assert result.license_state is LicenseState.DEACTIVATED


def test_an_administrator_can_deactivate_a_culled_installation_for_good() -> None:
    lic = Licence(_kit())
    installation_id, token = _culled(lic, "SN-LOST")
    lic.kit.deactivate_installation(lic.admin, lic.account_id, installation_id)
    result = lic.kit.check_in(token)
    assert (result.returned, result.license_state) == (False, LicenseState.DEACTIVATED)


# == certificates: only for a copy that may run, never past the license's end ===============


@pytest.mark.parametrize("change", ["suspend", "remove", "expire", "deactivate", "block", "cull"])
def test_no_certificate_for_a_copy_that_may_not_run(change: str) -> None:
    kit = _kit()
    lic = Licence(kit, expires_at=kit.clock.now() + 10 * DAY, grace_period=2 * DAY)
    installation_id, token = lic.activate("SN-ANN")
    expected = {
        "suspend": LicenseState.SUSPENDED,
        "remove": LicenseState.DEACTIVATED,  # a key is removed only once its seats are free
        "expire": LicenseState.EXPIRED,
        "deactivate": LicenseState.DEACTIVATED,
        "block": LicenseState.BLOCKED,
        "cull": LicenseState.DEACTIVATED,
    }[change]
    if change == "suspend":
        kit.suspend_license_key(lic.admin, lic.account_id, lic.key_id)
    elif change == "remove":
        kit.deactivate_installation(lic.admin, lic.account_id, installation_id)
        kit.remove_license_key(lic.admin, lic.account_id, lic.key_id)
    elif change == "expire":
        kit.clock.advance(days=12)
    elif change == "deactivate":
        kit.deactivate_installation(lic.admin, lic.account_id, installation_id)
    elif change == "block":
        kit.block_computer(lic.admin, lic.account_id, installation_id)
    else:
        kit.clock.advance(days=3)
        assert kit.cull_installations().culled == 1
        lic.activate("SN-BOB")  # the freed seat and the other one go to others
        lic.activate("SN-CAT")
    for _ in range(2):  # and again, once the state was told
        result = kit.check_in(token)
        assert (result.license_state, result.certificate) == (expected, None)


def test_certificates_never_outlive_the_end_of_the_license() -> None:
    kit = _kit()
    start = kit.clock.now()
    # An expiry off the whole second: the end is rounded down, never up.
    expires = start + 10 * DAY + dt.timedelta(microseconds=999_999)
    lic = Licence(kit, expires_at=expires, grace_period=3 * DAY, check_in_interval=DAY)
    _, token = lic.activate("SN-ANN")
    end = expires + 3 * DAY
    moments = [start + i * DAY for i in range(13)]
    moments += [end - dt.timedelta(hours=1), end - dt.timedelta(seconds=1)]
    for moment in moments:
        kit.clock.set(moment)
        result = kit.check_in(token)
        assert result.license_state in (LicenseState.ACTIVE, LicenseState.GRACE)
        assert result.certificate is not None
        claims = verify_certificate(result.certificate, PUBLIC, computer_id="SN-ANN", now=moment)
        assert claims.valid_until <= end
        assert result.check_in_due_at <= claims.valid_until
    kit.clock.set(end)
    last = kit.check_in(token)
    assert (last.license_state, last.certificate) == (LicenseState.EXPIRED, None)


def test_an_activation_certificate_stops_at_the_license_end() -> None:
    kit = _kit()
    expires = kit.clock.now() + dt.timedelta(hours=2)
    lic = Licence(kit, expires_at=expires)
    result = kit.activate(computer_id="SN-ANN", code=lic.code)
    claims = verify_certificate(
        result.certificate or "", PUBLIC, computer_id="SN-ANN", now=kit.clock.now()
    )
    assert claims.valid_until == expires


# == grace: running copies keep running, nothing new comes in ===============================


def test_grace_refuses_new_computers_and_returning_culled_copies() -> None:
    kit = _kit()
    lic = Licence(kit, seats=3, expires_at=kit.clock.now() + 10 * DAY, grace_period=5 * DAY)
    _, ann = lic.activate("SN-ANN")
    kit.clock.advance(days=8)
    _, bob = lic.activate("SN-BOB")
    kit.clock.advance(days=3)  # expired a day ago: grace; Bob silent for 3 days, dead
    kit.check_in(ann)
    assert kit.cull_installations().culled == 1
    with pytest.raises(LicenseKeyUnavailable):
        lic.activate("SN-CAT")
    with pytest.raises(LicenseKeyUnavailable):
        lic.activate("SN-BOB")  # even a computer returning to its own code
    back = kit.check_in(bob)
    assert (back.returned, back.license_state, back.certificate) == (
        False,
        LicenseState.DEACTIVATED,
        None,
    )
    graced = kit.check_in(ann)
    assert graced.license_state is LicenseState.GRACE
    assert graced.certificate is not None
    assert_seats_consistent(kit.store)


# == the culling job: never a copy that checked in after it read it, never twice ============


def test_a_copy_checking_in_between_the_scan_and_the_cull_keeps_its_seat() -> None:
    kit = _kit()
    lic = Licence(kit)
    installation_id, token = lic.activate("SN-ANN")
    kit.clock.advance(days=3)
    hooked = _HookedStore(kit.store)
    kit.store = hooked
    hooked.on("after_scan", lambda: kit.check_in(token))
    assert kit.cull_installations().culled == 0
    assert lic.installation(installation_id).status is InstallationStatus.ACTIVE
    assert lic.events(AuditAction.CULLED) == []
    assert_seats_consistent(hooked)


def test_a_copy_checking_in_between_the_scan_and_the_cull_on_postgresql(pg_store: Any) -> None:
    kit = _kit(pg_store)
    lic = Licence(kit)
    installation_id, token = lic.activate("SN-ANN")
    kit.clock.advance(days=3)
    hooked = _HookedStore(pg_store)
    kit.store = hooked
    copy = _Concurrent(lambda: kit.check_in(token))
    hooked.on("after_scan", copy.start)
    assert kit.cull_installations().culled == 0
    copy.finish()
    assert lic.installation(installation_id).status is InstallationStatus.ACTIVE
    assert_seats_consistent(pg_store)


def test_overlapping_culling_jobs_cull_each_installation_once() -> None:
    kit = _kit()
    lic = Licence(kit, seats=3)
    for computer in ("SN-1", "SN-2", "SN-3"):
        lic.activate(computer)
    kit.clock.advance(days=3)
    hooked = _HookedStore(kit.store)
    kit.store = hooked
    inner: list[int] = []
    hooked.on("after_scan", lambda: inner.append(kit.cull_installations().culled))
    outer = kit.cull_installations().culled
    assert (inner, outer) == ([3], 0)
    assert len(lic.events(AuditAction.CULLED)) == 3
    assert kit.cull_installations().culled == 0  # and again later: nothing
    assert_seats_consistent(hooked)


def test_overlapping_culling_jobs_on_sqlite_threads(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "lk.db")
    try:
        lic = Licence(_kit(store), seats=20)
        for i in range(20):
            lic.activate(f"SN-{i:02}")
        lic.kit.clock.advance(days=3)
        barrier = threading.Barrier(4)
        totals: list[int] = []

        def job() -> None:
            barrier.wait()
            totals.append(lic.kit.cull_installations(limit=7).culled)

        threads = [threading.Thread(target=job) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sum(totals) == 20
        events = lic.events(AuditAction.CULLED)
        assert len(events) == 20
        assert len({e.subject for e in events}) == 20
        assert_seats_consistent(store)
    finally:
        store.close()


def test_culling_turned_off_while_the_job_runs_culls_nothing() -> None:
    kit = _kit()
    lic = Licence(kit)
    installation_id, _ = lic.activate("SN-ANN")
    kit.clock.advance(days=3)
    hooked = _HookedStore(kit.store)
    kit.store = hooked
    hooked.on(
        "after_scan",
        lambda: kit.change_license_key(lic.admin, lic.account_id, lic.key_id, never_cull=True),
    )
    assert kit.cull_installations().culled == 0
    assert lic.installation(installation_id).status is InstallationStatus.ACTIVE
    assert kit.cull_installations().keys == 0  # unlisted


def test_dead_after_lengthened_while_the_job_runs_spares_the_copy() -> None:
    kit = _kit()
    lic = Licence(kit)
    installation_id, _ = lic.activate("SN-ANN")
    kit.clock.advance(days=3)
    hooked = _HookedStore(kit.store)
    kit.store = hooked
    hooked.on(
        "after_scan",
        lambda: kit.change_license_key(lic.admin, lic.account_id, lic.key_id, dead_after=9 * DAY),
    )
    assert kit.cull_installations().culled == 0
    assert lic.installation(installation_id).status is InstallationStatus.ACTIVE


def test_a_deactivation_between_the_scan_and_the_cull_is_not_culled_again() -> None:
    kit = _kit()
    lic = Licence(kit)
    installation_id, _ = lic.activate("SN-ANN")
    kit.clock.advance(days=3)
    hooked = _HookedStore(kit.store)
    kit.store = hooked
    hooked.on(
        "after_scan",
        lambda: kit.deactivate_installation(lic.admin, lic.account_id, installation_id),
    )
    assert kit.cull_installations().culled == 0
    assert lic.installation(installation_id).status is InstallationStatus.DEACTIVATED
    assert lic.events(AuditAction.CULLED) == []
    assert_seats_consistent(hooked)


def test_cull_limit_is_respected_and_the_rest_wait() -> None:
    kit = _kit()
    lic = Licence(kit, seats=5)
    for i in range(5):
        lic.activate(f"SN-{i}")
    kit.clock.advance(days=3)
    assert [kit.cull_installations(limit=2).culled for _ in range(4)] == [2, 2, 1, 0]
    assert len(lic.events(AuditAction.CULLED)) == 5
    assert_seats_consistent(kit.store)


# == a key suspended, removed or renewed while its copies are culled ========================


def test_a_suspended_keys_culled_copy_returns_only_once_resumed() -> None:
    kit = _kit()
    lic = Licence(kit)
    _, token = _culled(lic, "SN-ANN")
    kit.suspend_license_key(lic.admin, lic.account_id, lic.key_id)
    held = kit.check_in(token)
    assert (held.returned, held.license_state, held.certificate) == (
        False,
        LicenseState.DEACTIVATED,
        None,
    )
    kit.resume_license_key(lic.admin, lic.account_id, lic.key_id)
    back = kit.check_in(token)
    assert (back.returned, back.license_state) == (True, LicenseState.ACTIVE)
    assert back.certificate is not None
    assert_seats_consistent(kit.store)


def test_a_removed_keys_culled_copy_stays_out() -> None:
    kit = _kit()
    lic = Licence(kit)
    installation_id, token = _culled(lic, "SN-ANN")
    kit.remove_license_key(lic.admin, lic.account_id, lic.key_id)
    for _ in range(2):
        result = kit.check_in(token)
        assert (result.returned, result.certificate) == (False, None)
        assert result.license_state is LicenseState.DEACTIVATED
    assert lic.installation(installation_id).status is InstallationStatus.CULLED
    assert lic.key().seats_used == 0
    # Removed keys stay listed for culling but have nothing active to cull.
    kit.clock.advance(days=3)
    assert kit.cull_installations().culled == 0


def test_a_culled_copy_returns_no_later_than_thirty_days_after_its_cull() -> None:
    kit = _kit()
    lic = Licence(kit)
    installation_id, token = _culled(lic, "SN-ANN")
    kit.clock.advance(days=30)
    late = kit.check_in(token)
    assert (late.returned, late.license_state) == (False, LicenseState.DEACTIVATED)
    assert lic.installation(installation_id).status is InstallationStatus.CULLED
    assert lic.key().seats_used == 0


def test_reactivating_a_culled_computer_records_no_spurious_state_change() -> None:
    kit = _kit()
    lic = Licence(kit)
    _culled(lic, "SN-ANN")
    _, token = lic.activate("SN-ANN")
    kit.check_in(token)
    assert lic.events(AuditAction.STATE_SEEN) == []


def test_a_removed_keys_liveness_cannot_change() -> None:
    kit = _kit()
    lic = Licence(kit, dead_after=None)
    kit.remove_license_key(lic.admin, lic.account_id, lic.key_id)
    before = lic.key()
    with pytest.raises(ConflictError):
        kit.change_license_key(lic.admin, lic.account_id, lic.key_id, dead_after=3 * DAY)
    assert lic.key() == before
    assert kit.cull_installations().keys == 0  # not listed among the keys that cull


# == renewals ===============================================================================


def test_renewal_counts_from_the_old_expiry_not_from_today() -> None:
    kit = _kit()
    start = kit.clock.now()
    lic = Licence(kit, expires_at=start + 10 * DAY, grace_period=30 * DAY)
    _, token = lic.activate("SN-ANN")
    kit.clock.advance(days=25)  # in grace
    assert kit.check_in(token).license_state is LicenseState.GRACE
    with pytest.raises(ValidationError):  # from the old expiry it would still be expired
        kit.renew_license_key(lic.admin, lic.account_id, lic.key_id, period=10 * DAY)
    assert lic.key().expires_at == start + 10 * DAY
    renewed = kit.renew_license_key(lic.admin, lic.account_id, lic.key_id, period=365 * DAY)
    assert renewed.expires_at == start + 375 * DAY
    assert kit.check_in(token).license_expires_at == start + 375 * DAY


@pytest.mark.parametrize(
    "period",
    [
        None,
        0,
        1,
        True,
        "30d",
        dt.timedelta(0),
        -DAY,
        dt.timedelta.max,
        dt.timedelta(days=999_999_999),
    ],
)
def test_renewal_refuses_bad_periods_and_writes_nothing(period: object) -> None:
    kit = _kit()
    lic = Licence(kit, expires_at=kit.clock.now() + 10 * DAY)
    before = lic.key()
    with pytest.raises(ValidationError):
        kit.renew_license_key(lic.admin, lic.account_id, lic.key_id, period=period)  # type: ignore[arg-type]
    assert lic.key() == before


def test_renewal_of_a_key_that_never_expires_or_was_removed_is_a_conflict() -> None:
    kit = _kit()
    never = Licence(kit, value="KEY-NEVER")
    with pytest.raises(ConflictError):
        kit.renew_license_key(never.admin, never.account_id, never.key_id, period=DAY)
    lic = Licence(kit, value="KEY-GONE", expires_at=kit.clock.now() + DAY)
    kit.remove_license_key(lic.admin, lic.account_id, lic.key_id)
    with pytest.raises(ConflictError):
        kit.renew_license_key(lic.admin, lic.account_id, lic.key_id, period=DAY)


def test_renewal_past_year_9999_is_refused() -> None:
    kit = _kit()
    far = dt.datetime(9999, 12, 1, tzinfo=dt.UTC)
    lic = Licence(kit, expires_at=far)
    with pytest.raises(ValidationError):
        kit.renew_license_key(lic.admin, lic.account_id, lic.key_id, period=365 * DAY)
    assert lic.key().expires_at == far


# == what a caller gets wrong: a licensekit error, and nothing written ======================


@pytest.mark.parametrize("limit", [0, -1, True, False, 1.5, "10", [], float("inf")])
def test_cull_limit_must_be_a_positive_integer(limit: object) -> None:
    kit = _kit()
    with pytest.raises(ValidationError, match="limit"):
        kit.cull_installations(limit=limit)  # type: ignore[arg-type]


def test_a_huge_cull_limit_is_fine() -> None:
    kit = _kit()
    lic = Licence(kit)
    lic.activate("SN-ANN")
    kit.clock.advance(days=3)
    assert kit.cull_installations(limit=10**100).culled == 1


BAD_LIVENESS = [
    {"grace_period": -DAY},
    {"grace_period": 366 * DAY},
    {"grace_period": dt.timedelta(seconds=1.5)},
    {"grace_period": 3600},
    {"grace_period": True},
    {"grace_period": dt.timedelta.max},
    {"grace_period": dt.timedelta.min},
    {"check_in_interval": dt.timedelta(seconds=59)},
    {"check_in_interval": 91 * DAY},
    {"check_in_interval": dt.timedelta(0)},
    {"check_in_interval": "1d"},
    {"check_in_interval": False},
    {"dead_after": DAY},  # under twice the default interval
    {"dead_after": 366 * DAY},
    {"dead_after": dt.timedelta(days=2, microseconds=1)},
    {"dead_after": True},
    {"dead_after": 172_800},
    {"dead_after": dt.timedelta(days=999_999_999)},
    {"check_in_interval": 30 * DAY, "dead_after": 59 * DAY},
]


@pytest.mark.parametrize("bad", BAD_LIVENESS, ids=repr)
def test_add_license_key_refuses_bad_liveness_and_adds_nothing(bad: dict[str, Any]) -> None:
    kit = _kit()
    admin, account = make_business_account(kit)
    with pytest.raises(ValidationError):
        kit.add_license_key(admin, account.id, product="P", value="KEY-X", seats=1, **bad)
    assert _records(kit.store, LicenseKey) == []


@pytest.mark.parametrize("bad", BAD_LIVENESS, ids=repr)
def test_change_license_key_refuses_bad_liveness_and_changes_nothing(
    bad: dict[str, Any],
) -> None:
    kit = _kit()
    lic = Licence(kit, seats=2)
    before = lic.key()
    with pytest.raises(ValidationError):
        kit.change_license_key(lic.admin, lic.account_id, lic.key_id, seats=5, **bad)
    assert lic.key() == before


def test_a_longer_interval_must_not_leave_dead_after_under_twice_it() -> None:
    kit = _kit()
    lic = Licence(kit, dead_after=4 * DAY)
    before = lic.key()
    with pytest.raises(ValidationError, match="dead_after"):
        kit.change_license_key(lic.admin, lic.account_id, lic.key_id, check_in_interval=3 * DAY)
    with pytest.raises(ValidationError):
        kit.change_license_key(
            lic.admin, lic.account_id, lic.key_id, dead_after=9 * DAY, never_cull=True
        )
    assert lic.key() == before


def test_naive_expiry_is_refused_and_nothing_is_written() -> None:
    kit = _kit()
    lic = Licence(kit)
    naive = dt.datetime(2031, 1, 1)  # no time zone: the attack
    before = lic.key()
    with pytest.raises(ValidationError, match="timezone"):
        kit.change_license_key(lic.admin, lic.account_id, lic.key_id, expires_at=naive)
    with pytest.raises(ValidationError, match="timezone"):
        kit.add_license_key(
            lic.admin, lic.account_id, product="P", value="KEY-NAIVE", seats=1, expires_at=naive
        )
    assert lic.key() == before
    assert len(_records(kit.store, LicenseKey)) == 1


def test_never_cull_must_be_a_boolean() -> None:
    kit = _kit()
    lic = Licence(kit)
    with pytest.raises(ValidationError):
        kit.change_license_key(lic.admin, lic.account_id, lic.key_id, never_cull="no")  # type: ignore[arg-type]
    assert lic.key().dead_after == 2 * DAY


@pytest.mark.parametrize("token", [None, 42, b"token", "", " ", "x" * 100_000, "\x00"])
def test_a_bad_check_in_token_is_not_found(token: object) -> None:
    kit = _kit()
    with pytest.raises(InstallationNotFound):
        kit.check_in(token)  # type: ignore[arg-type]


@pytest.mark.parametrize("client", [b"1.2.3.4", 42, "\x00", "\ud800"])
def test_a_bad_check_in_client_is_a_validation_error_and_writes_nothing(client: object) -> None:
    kit = _kit()
    lic = Licence(kit)
    installation_id, token = lic.activate("SN-ANN")
    kit.clock.advance(days=1)
    before = lic.installation(installation_id)
    with pytest.raises(LicenseKitError):
        kit.check_in(token, client=client)  # type: ignore[arg-type]
    assert lic.installation(installation_id) == before


def test_check_in_refusals_are_licensekit_errors() -> None:
    kit = _kit()
    with pytest.raises(LicenseKitError):
        kit.check_in("not-a-token", client="10.0.0.1")
    assert issubclass(InstallationNotFound, LicenseKitError)


# == random sequences: the promises hold whatever happens in between ========================

COMPUTERS = st.sampled_from(["SN-0", "SN-1", "SN-2"])
RUNNING = (LicenseState.ACTIVE, LicenseState.GRACE)


class LivenessMachine(RuleBasedStateMachine):
    """Copies check in, go silent, are culled, come back; administrators act meanwhile.

    After every step: seats are counted exactly and never oversold. Every check-in: a
    certificate exactly while the copy may run, never past the license's end, and a copy
    an administrator deactivated (or blocked while it held a seat) never comes back by
    checking in.
    """

    def __init__(self) -> None:
        super().__init__()
        kit = _kit()
        self.lic = Licence(
            kit,
            seats=2,
            expires_at=kit.clock.now() + 20 * DAY,
            grace_period=3 * DAY,
            check_in_interval=DAY,
            invite_expires_in="90d",
        )
        self.kit = kit
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, str] = {}
        self.ended: set[str] = set()  # deactivated by an administrator: no return by check-in

    @initialize()
    def two_copies_run(self) -> None:
        for computer in ("SN-0", "SN-1"):
            self.ids[computer], self.tokens[computer] = self.lic.activate(computer)

    def _stored(self, computer: str) -> Installation | None:
        found = _records(self.kit.store, Installation, computer_id=computer)
        return found[0] if found else None

    @rule(computer=COMPUTERS)
    def activate(self, computer: str) -> None:
        try:
            self.ids[computer], self.tokens[computer] = self.lic.activate(computer)
        except LicenseKitError:
            return
        self.ended.discard(computer)

    @rule(computer=COMPUTERS)
    def check_in(self, computer: str) -> None:
        token = self.tokens.get(computer)
        if token is None:
            return
        result = self.kit.check_in(token)
        assert (result.certificate is not None) == (result.license_state in RUNNING)
        if result.certificate is not None:
            claims = verify_certificate(
                result.certificate, PUBLIC, computer_id=computer, now=self.kit.clock.now()
            )
            end = self.lic.key().expires_at
            assert end is not None
            assert claims.valid_until <= end + 3 * DAY
        if computer in self.ended:
            assert not result.returned
            assert result.installation.status is InstallationStatus.DEACTIVATED
            assert result.license_state in (LicenseState.DEACTIVATED, LicenseState.BLOCKED)

    @rule(hours=st.sampled_from([1, 7, 25, 24 * 7]))
    def wait(self, hours: int) -> None:
        self.kit.clock.advance(hours=hours)

    @rule(limit=st.none() | st.integers(1, 3), silent=st.booleans())
    def cull(self, limit: int | None, silent: bool) -> None:
        if silent:  # long enough for every copy that did not check in since to be dead
            self.kit.clock.advance(days=2)
        self.kit.cull_installations(limit=limit)

    @rule(computer=COMPUTERS)
    def deactivate(self, computer: str) -> None:
        installation = self._stored(computer)
        if installation is None or installation.status is InstallationStatus.DEACTIVATED:
            return
        self.kit.deactivate_installation(self.lic.admin, self.lic.account_id, installation.id)
        self.ended.add(computer)

    @rule(computer=COMPUTERS)
    def block(self, computer: str) -> None:
        installation = self._stored(computer)
        if installation is None:
            return
        with contextlib.suppress(ConflictError):
            self.kit.block_computer(self.lic.admin, self.lic.account_id, installation.id)
            self.ended.add(computer)  # active or culled alike: it never comes back

    @rule(computer=COMPUTERS)
    def unblock(self, computer: str) -> None:
        with contextlib.suppress(LicenseKitError):
            self.kit.unblock_computer(self.lic.admin, self.lic.account_id, computer)

    @rule(seats=st.integers(1, 3))
    def change_seats(self, seats: int) -> None:
        with contextlib.suppress(SeatsInUse):
            self.kit.change_license_key(
                self.lic.admin, self.lic.account_id, self.lic.key_id, seats=seats
            )

    @rule(suspend=st.booleans())
    def suspend_or_resume(self, suspend: bool) -> None:
        change = self.kit.suspend_license_key if suspend else self.kit.resume_license_key
        with contextlib.suppress(ConflictError):
            change(self.lic.admin, self.lic.account_id, self.lic.key_id)

    @rule(days=st.integers(1, 10))
    def renew(self, days: int) -> None:
        with contextlib.suppress(ValidationError, ConflictError):
            self.kit.renew_license_key(
                self.lic.admin, self.lic.account_id, self.lic.key_id, period=days * DAY
            )

    @invariant()
    def seats_are_counted_exactly(self) -> None:
        assert_seats_consistent(self.kit.store)

    @invariant()
    def each_cull_is_audited_once(self) -> None:
        culls = Counter((e.subject, e.at) for e in self.lic.events(AuditAction.CULLED))
        assert all(n == 1 for n in culls.values())


def test_liveness_promises_hold_for_random_sequences(flavour: str) -> None:
    """The promises hold after every step (fewer runs through the async bridge)."""
    run_state_machine_as_test(
        LivenessMachine,
        settings=settings(
            max_examples=examples(150 if flavour == "sync" else 40),
            stateful_step_count=40,
            deadline=None,
        ),
    )
