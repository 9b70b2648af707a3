"""Moves race activations, deactivations and check-ins; seats stay exactly counted.

Threads released together by a barrier move a key's installations back and forth between
two keys while others activate new computers under both, deactivate installations and check
in. After each round, every key's ``seats_used`` equals its active installations, no
installation exists twice, no seat is oversold, and no call failed with a storage error.
Nothing here measures time; only outcomes and the stored records are checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from _racing import eager_thread_switching, race  # noqa: F401 - the fixture applies here
from _records import records
from licensekit import ActivationResult, InstallationStatus, LicenseKitError, StorageError
from licensekit.storage import INSTALLATIONS, LICENSE_KEYS
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import LicenseKitForTests, make_business_account, make_licensekit

ROUNDS = 12
REPLACEMENT_ROUNDS = 20
"""More: an activation must find its code just before the replacement commits."""
SEATS = 8


@pytest.fixture(params=["sqlite file", "test store"])
def new_kit(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], LicenseKitForTests]]:
    """Kits on a SQLite file each, or on the suite's test store (memory, or PostgreSQL)."""
    stores: list[SQLiteStore] = []

    def make() -> LicenseKitForTests:
        if request.param == "test store":
            return make_licensekit()
        stores.append(SQLiteStore(tmp_path / f"moves-{len(stores)}.db"))
        return make_licensekit(store=stores[-1])

    yield make
    for store in stores:
        store.close()


def test_moves_racing_activations_deactivations_and_check_ins_keep_seats_exact(
    new_kit: Callable[[], LicenseKitForTests],
) -> None:
    for round_ in range(ROUNDS):
        _race_one_round(new_kit(), round_)


def _check_in_thrice(kit: LicenseKitForTests, token: str) -> object:
    """Check in three times; the first refusal, or the last result."""
    for _ in range(3):
        try:
            result: object = kit.check_in(token)
        except LicenseKitError as e:
            return e
    return result


def _race_one_round(kit: LicenseKitForTests, round_: int) -> None:
    admin, account = make_business_account(kit)
    a, b = (
        kit.add_license_key(admin, account.id, product="Racer", value=v, seats=SEATS).id
        for v in ("RACE-A", "RACE-B")
    )
    codes = {}
    for key_id, email in ((a, "a@example.com"), (b, "b@example.com")):
        kit.invite_installers(admin, account.id, key_id, [email], max_activations=50)
        codes[key_id] = kit.mailer.last(to=email).data["code"]
    seated = [kit.activate(code=codes[a], computer_id=f"A-{n}") for n in range(3)]
    seated += [kit.activate(code=codes[b], computer_id=f"B-{n}") for n in range(2)]

    calls: list[Callable[[], object]] = [
        lambda: kit.move_installations(admin, account.id, a, b),
        lambda: kit.move_installations(admin, account.id, b, a),
        lambda: kit.move_installations(admin, account.id, a, b),
    ]
    calls += [
        (lambda k=k, n=n: kit.activate(code=codes[k], computer_id=f"NEW-{k[-4:]}-{n}"))
        for k in (a, b)
        for n in range(3)
    ]
    calls += [
        (lambda i=r.installation_id: kit.deactivate_installation(admin, account.id, i))
        for r in seated[:2]
    ]
    # Late enough that each check-in writes the installation (its last sighting).
    calls += [(lambda t=r.installation_token: _check_in_thrice(kit, t)) for r in seated]
    kit.clock.advance(hours=7)

    results = race(calls)

    failures = [r for r in results if isinstance(r, StorageError)]
    assert not failures, f"round {round_}: {failures}"
    with records(kit.store) as tx:
        keys = {k: tx.get(LICENSE_KEYS, k) for k in (a, b)}
        installs = {k: tx.page(INSTALLATIONS, k, after=None, limit=1_000) for k in (a, b)}
    computers = [(i.key_id, i.computer_id) for k in (a, b) for i in installs[k]]
    assert len(computers) == len(set(computers))
    ids = [i.id for k in (a, b) for i in installs[k]]
    assert len(ids) == len(set(ids))
    for key_id in (a, b):
        key = keys[key_id]
        assert key is not None
        active = sum(1 for i in installs[key_id] if i.is_active)
        assert key.seats_used == active, f"round {round_}: key {key_id}"
        assert active <= key.seats
    activated = [r for r in results if isinstance(r, ActivationResult)]
    assert sum(1 for k in (a, b) for i in installs[k] if i.is_active) == (
        len(seated) - 2 + sum(not r.already_active for r in activated)
    )
    # Every live token handed out checks in, under the key it is now under.
    for r in [*seated[2:], *activated]:
        view = kit.check_in(r.installation_token).installation
        assert view.key_id in (a, b)
        assert view.status is InstallationStatus.ACTIVE


def test_a_replacement_racing_activations_and_check_ins_loses_nobody(
    new_kit: Callable[[], LicenseKitForTests],
) -> None:
    for round_ in range(REPLACEMENT_ROUNDS):
        _race_a_replacement(new_kit(), round_)


def _race_a_replacement(kit: LicenseKitForTests, round_: int) -> None:
    admin, account = make_business_account(kit)
    old = kit.add_license_key(admin, account.id, product="Racer", value="RACE-A", seats=SEATS).id
    emails = [f"user{n}@example.com" for n in range(SEATS)]
    kit.invite_installers(admin, account.id, old, emails)
    codes = [kit.mailer.last(to=e).data["code"] for e in emails]
    seated = [kit.activate(code=codes[n], computer_id=f"PC-{n}") for n in range(3)]

    calls: list[Callable[[], object]] = [
        lambda: kit.replace_license_key(admin, account.id, old, value="RACE-NEW")
    ]
    calls += [
        (lambda n=n: kit.activate(code=codes[n], computer_id=f"PC-{n}")) for n in range(3, SEATS)
    ]
    calls += [(lambda t=r.installation_token: _check_in_thrice(kit, t)) for r in seated]
    kit.clock.advance(hours=7)

    results = race(calls)

    wrong = [r for r in results if isinstance(r, LicenseKitError)]
    assert not wrong, f"round {round_}: {wrong}"
    (new,) = [k.id for k in kit.list_license_keys(admin, account.id).items if k.id != old]
    with records(kit.store) as tx:
        keys = {k: tx.get(LICENSE_KEYS, k) for k in (old, new)}
        installs = {k: tx.page(INSTALLATIONS, k, after=None, limit=1_000) for k in (old, new)}
    assert installs[old] == []
    assert keys[old] is not None
    assert keys[new] is not None
    assert keys[old].seats_used == 0
    assert keys[new].seats_used == SEATS == sum(1 for i in installs[new] if i.is_active)
    for r in results:
        if isinstance(r, ActivationResult):
            assert kit.check_in(r.installation_token).installation.key_id == new
