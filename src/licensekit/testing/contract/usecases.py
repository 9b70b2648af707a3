# ruff: noqa: S101, D102
# Part of a test suite that ships with the library: its checks are plain asserts (pytest
# rewrites them), and its test methods are named for the rule they check.
"""End to end: licensekit's use cases keep their rules on the store.

The other capabilities check the port operation by operation; these run the real
:class:`~licensekit.LicenseKit` on the store. Installers racing for the seats of one key
never take more than there are, even when the store's reads are slowed down inside their
transactions, and after the store is closed and reopened the rules still hold.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pytest

from licensekit.exceptions import DuplicateLicenseKey, EmailAlreadyRegistered, SeatsFull
from licensekit.passwords import PasswordHasher
from licensekit.service import LicenseKit
from licensekit.storage import (
    INSTALLATIONS,
    LICENSE_KEYS,
    PROTOCOL_VERSION,
    Key,
    Query,
    RecordKind,
    Store,
    Transaction,
    takes_durable,
)
from licensekit.testing import (
    TEST_DOWNLOAD_URL,
    TEST_JOIN_URL,
    TEST_PASSWORD,
    TEST_SECRET,
    FakeClock,
    RecordingMailer,
    make_business_account,
)
from licensekit.testing.contract._support import ALL, describe, race
from licensekit.testing.contract.base import ContractBase

__all__ = ["UseCasesContract"]


def _kit(store: Any) -> LicenseKit:
    return LicenseKit(
        store,
        RecordingMailer(),
        secret=TEST_SECRET,
        join_url=TEST_JOIN_URL,
        download_url=TEST_DOWNLOAD_URL,
        clock=FakeClock(),
        password_hasher=PasswordHasher.insecure_fast(),
    )


class DawdlingStore:
    """Wraps a store so that its transactions pause after every read, page and count.

    A store that does not keep its promises under concurrency then lets racing threads all
    read before any of them writes, however fast it is; a store that keeps them only runs
    a little slower. Everything else is the wrapped store's own behaviour.

    Args:
        store: The store under test.
    """

    protocol_version = PROTOCOL_VERSION

    def __init__(self, store: Store) -> None:
        self._store = store
        self._relaxes = takes_durable(store)  # whether durable=False may be passed on
        self.pause = 0.0
        """Seconds to pause after each read; 0 to pass straight through."""

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Transaction]:
        """Open a transaction of the wrapped store, slowed down while :attr:`pause` is set.

        *durable* False is passed on when the wrapped store's ``transaction()`` takes it.
        """
        relaxed = not durable and self._relaxes
        opened = self._store.transaction(durable=False) if relaxed else self._store.transaction()
        with opened as tx:
            yield tx if not self.pause else _DawdlingTransaction(tx, self)

    def close(self) -> None:
        """Close the wrapped store."""
        self._store.close()


class _DawdlingTransaction:
    def __init__(self, tx: Transaction, store: DawdlingStore) -> None:
        self._tx = tx
        self._store = store

    def _dawdle(self) -> None:
        time.sleep(self._store.pause)

    def lock(self, scopes: Collection[str]) -> bool:
        return self._tx.lock(scopes)

    def read(self, queries: Sequence[Query[Any]]) -> list[list[Any]]:
        found = self._tx.read(queries)
        self._dawdle()
        return found

    def page(
        self,
        kind: RecordKind[Any],
        owner: Any,
        *,
        after: Key | None,
        limit: int,
        where: Mapping[str, Any] | None = None,
    ) -> Any:
        found = self._tx.page(kind, owner, after=after, limit=limit, where=where)
        self._dawdle()
        return found

    def count(self, kind: RecordKind[Any], where: Mapping[str, Any]) -> int:
        found = self._tx.count(kind, where)
        self._dawdle()
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)


class UseCasesContract(ContractBase):
    """The real use cases on the store: no oversold seat, rules that outlive a reopening."""

    def test_concurrent_activations_never_oversell_seats(self, store: Store) -> None:
        seats, installers = 5, 24
        dawdling = DawdlingStore(store)  # the store under test, pausing during the race
        kit = _kit(dawdling)
        mailer = kit.mailer
        assert isinstance(mailer, RecordingMailer)
        tag = secrets.token_hex(4)  # addresses no other test uses
        admin, account = make_business_account(kit, admin_email=f"admin.{tag}@example.com")
        key = kit.add_license_key(
            admin, account.id, product="Contract", value="CONTRACT-SEATS-0001", seats=seats
        )
        emails = [f"installer{n}.{tag}@example.com" for n in range(installers)]
        kit.invite_installers(admin, account.id, key.id, emails)
        codes = [mailer.last(to=e).data["code"] for e in emails]

        dawdling.pause = 0.0002
        workers = race(installers, lambda n: kit.activate(code=codes[n], computer_id=f"PC-{n:02d}"))
        dawdling.pause = 0.0

        outcomes = Counter("seated" if w.error is None else type(w.error).__name__ for w in workers)
        unexpected = [w.error for w in workers if w.error and not isinstance(w.error, SeatsFull)]
        assert not unexpected, "an activation failed unexpectedly:\n" + describe(unexpected[0])
        assert outcomes == Counter(seated=seats, SeatsFull=installers - seats), (
            f"{outcomes['seated']} of {installers} racing activations took one of {seats} seats"
        )
        winners = sorted(f"PC-{n:02d}" for n, w in enumerate(workers) if w.error is None)
        with store.transaction() as tx:
            ((stored_key,),) = tx.read([Query(LICENSE_KEYS, ("id",), ((key.id,),))])
            installations = tx.page(INSTALLATIONS, key.id, after=None, limit=ALL)
        active = sorted(i.computer_id for i in installations if i.is_active)
        assert stored_key.seats_used == len(active) == seats, (
            f"seats_used={stored_key.seats_used}, active installations={len(active)}"
        )
        assert active == winners

    def test_the_use_cases_keep_their_rules_after_reopening(self, store: Store) -> None:
        self.require_reopen()
        kit = _kit(store)
        tag = secrets.token_hex(4)  # addresses no other test uses
        admin_email, installers = (
            f"admin.{tag}@example.com",
            [f"i{n}.{tag}@example.com" for n in (1, 2)],
        )
        admin, account = make_business_account(kit, admin_email=admin_email)
        key = kit.add_license_key(
            admin, account.id, product="Contract", value="CONTRACT-REOPEN-0001", seats=1
        )
        kit.invite_installers(admin, account.id, key.id, installers)
        mailer = kit.mailer
        assert isinstance(mailer, RecordingMailer)
        codes = [mailer.last(to=e).data["code"] for e in installers]
        kit.activate(code=codes[0], computer_id="PC-ONE")

        kit = _kit(self.reopen(store))
        with pytest.raises(EmailAlreadyRegistered):
            kit.register_user(admin_email, TEST_PASSWORD)
        admin = kit.log_in(admin_email, TEST_PASSWORD)
        with pytest.raises(DuplicateLicenseKey):
            kit.add_license_key(
                admin, account.id, product="Again", value="CONTRACT-REOPEN-0001", seats=1
            )
        with pytest.raises(SeatsFull):
            kit.activate(code=codes[1], computer_id="PC-TWO")
        assert kit.activate(code=codes[0], computer_id="PC-ONE").computer_id == "PC-ONE"
