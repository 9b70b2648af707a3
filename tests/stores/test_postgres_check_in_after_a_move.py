"""A check-in whose installation moves to another key while it waits, on PostgreSQL.

On a store whose transactions run side by side, a check-in reads its installation, then
locks the computer; a move of that installation may commit in between. The check-in then
reads the installation again and carries on under the key it is under now, in the same
transaction: it does not start again, so moves one after another cannot use up its tries.

Each move here runs to its end in another thread at the moment the check-in asks for its
computer's lock (what a move that held the lock first looks like), on the real server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from _postgres import DSN, drop_schema, new_schema
from licensekit import InstallationStatus, LicenseState
from licensekit.storage import INSTALLATIONS, LICENSE_KEYS, Query
from licensekit.stores.postgres import PostgresStore
from licensekit.testing import LicenseKitForTests, make_business_account, make_licensekit


class MovesWhileLocking:
    """A store over another that runs a queued call before a check-in's computer lock.

    Only locks asked for by the thread that armed it, of the computer named, run a call:
    the calls' own transactions (on other threads) pass straight through.
    """

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self.queued: list[Callable[[], object]] = []
        self.ran = 0
        self._scope = ""
        self._thread = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def arm(self, scope: str, calls: list[Callable[[], object]]) -> None:
        self._scope, self.queued, self._thread = scope, list(calls), threading.get_ident()

    def transaction(self, **options: Any) -> Any:
        store = self

        class Wrapped:
            def __enter__(self) -> Any:
                self._opened = store._store.transaction(**options)
                return _Port(self._opened.__enter__(), store)

            def __exit__(self, *exc: Any) -> Any:
                return self._opened.__exit__(*exc)

        return Wrapped()

    def before_lock(self, scopes: Any) -> None:
        if threading.get_ident() != self._thread or self._scope not in scopes or not self.queued:
            return
        call = self.queued.pop(0)
        errors: list[BaseException] = []

        def run() -> None:
            try:
                call()
            except BaseException as e:  # reported below, on the checking thread
                errors.append(e)

        mover = threading.Thread(target=run)
        mover.start()
        mover.join(60)
        assert not mover.is_alive(), "the move did not end"
        assert not errors, errors
        self.ran += 1


class _Port:
    def __init__(self, port: Any, store: MovesWhileLocking) -> None:
        self._port, self._store = port, store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._port, name)

    def lock(self, scopes: Any) -> bool:
        self._store.before_lock(scopes)
        return bool(self._port.lock(scopes))


@pytest.fixture
def store() -> Iterator[MovesWhileLocking]:
    schema = new_schema("moves")
    opened = PostgresStore(DSN, schema=schema)
    yield MovesWhileLocking(opened)
    opened.close()
    drop_schema(schema)


def test_a_check_in_follows_its_installation_to_the_key_it_moved_to(
    store: MovesWhileLocking,
) -> None:
    kit: LicenseKitForTests = make_licensekit(store=store)  # type: ignore[arg-type]
    admin, account = make_business_account(kit)
    a, b = (
        kit.add_license_key(admin, account.id, product="Tool", value=v, seats=3).id
        for v in ("TOOL-A", "TOOL-B")
    )
    kit.invite_installers(admin, account.id, a, ["ann@example.com"])
    code = kit.mailer.last(to="ann@example.com").data["code"]
    seated = kit.activate(code=code, computer_id="PC-1")

    def move(source: str, target: str) -> Callable[[], object]:
        return lambda: kit.move_installations(admin, account.id, source, target)

    # Three moves, one for each try a check-in that started again would have.
    store.arm(f"computer:{account.id}:PC-1", [move(a, b), move(b, a), move(a, b)])
    checked = kit.check_in(seated.installation_token)

    assert store.ran == 1  # one move met it, and it carried on under the new key
    assert checked.installation.key_id == b
    assert checked.installation.status is InstallationStatus.ACTIVE
    assert checked.license_state is LicenseState.ACTIVE
    with store.transaction() as tx:
        [[installation], keys] = tx.read(
            [
                Query(INSTALLATIONS, ("id",), ((seated.installation_id,),)),
                Query(LICENSE_KEYS, ("id",), ((a,), (b,))),
            ]
        )
    assert installation.key_id == b
    assert {k.id: k.seats_used for k in keys} == {a: 0, b: 1}
