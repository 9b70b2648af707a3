"""A task cancelled at any await of a use case leaves nothing half-written and no connection held.

The store and the mailer are wrapped so that the N-th operation (opening a transaction, a
read or write, the commit, sending an email) cancels the task that called it, either before
the operation runs or once it has run (the answer lost on its way back, as when a request is
cancelled while the database works). N goes over every await of an
activation and of a bulk invitation to install. After each cancellation: every transaction
applied all or nothing (the records are those before, or those of whole transactions), the
store opens the next transaction at once (no lock or connection left held), and the same
call, made again, succeeds.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from _postgres import DSN, new_schema
from licensekit import AuditAction, Settings
from licensekit.aio import AsyncLicenseKit, ThreadedStore
from licensekit.mail import Message
from licensekit.model import Installation, InstallInvitation, LicenseKey
from licensekit.passwords import PasswordHasher
from licensekit.storage import AsyncStore, AsyncTransaction
from licensekit.stores.memory import MemoryStore
from licensekit.stores.postgres import AsyncPostgresStore
from licensekit.testing import (
    TEST_DOWNLOAD_URL,
    TEST_JOIN_URL,
    TEST_PASSWORD,
    TEST_SECRET,
    FakeClock,
    RecordingMailer,
)

EMAILS = [f"installer{i}@example.com" for i in range(12)]
MODES = ("before", "after")


class Cancel(Exception):
    """Internal: marks the operation that cancels its task."""


class Tripwire:
    """Counts operations; the N-th cancels the task that awaits it."""

    def __init__(self) -> None:
        self.count = 0
        self.at: int | None = None
        self.mode = "before"
        self.fired = False

    def arm(self, at: int | None, mode: str = "before") -> None:
        self.count, self.at, self.mode, self.fired = 0, at, mode, False

    async def around(self, operation: Callable[[], Any], *, commit: bool = False) -> Any:
        self.count += 1
        hit = self.count == self.at
        if hit and (self.mode == "before" or commit):
            return await self._cancel()
        result = await operation()
        if hit:
            await self._cancel()
        return result

    async def _cancel(self) -> Any:
        self.fired = True
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        await asyncio.sleep(0)  # the cancellation lands here, at this await
        raise AssertionError("not cancelled")


async def _nothing() -> None:
    return None


class _Transaction:
    def __init__(self, inner: AsyncTransaction, wire: Tripwire) -> None:
        self._inner, self._wire = inner, wire

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._inner, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await self._wire.around(lambda: method(*args, **kwargs))

        return call


class TrippingStore:
    """An AsyncStore over another whose every transaction operation goes through the wire."""

    def __init__(self, inner: AsyncStore, wire: Tripwire) -> None:
        self.inner, self.wire = inner, wire
        self.protocol_version = inner.protocol_version

    @asynccontextmanager
    async def _block(self) -> Any:
        await self.wire.around(_nothing)  # the await that opens the transaction
        async with self.inner.transaction() as tx:
            yield _Transaction(tx, self.wire)
            # The await that commits: cancelled there, the block rolls back. (Cancelled
            # once the commit is done, the whole transaction stays, which is not a case.)
            await self.wire.around(_nothing, commit=True)

    def transaction(self) -> Any:
        return self._block()

    async def aclose(self) -> None:
        await self.inner.aclose()


class TrippingMailer:
    """An async mailer recording messages; every send goes through the wire."""

    def __init__(self, wire: Tripwire) -> None:
        self.wire = wire
        self.recording = RecordingMailer()

    async def send(self, message: Message) -> None:
        async def deliver() -> None:
            self.recording.send(message)

        await self.wire.around(deliver)


def _stores() -> Iterator[Any]:
    yield pytest.param(lambda: ThreadedStore(MemoryStore()), id="threaded-memory")
    if os.environ.get("LICENSEKIT_SKIP_POSTGRES") != "1":
        schema = new_schema("cancel")
        yield pytest.param(
            lambda: AsyncPostgresStore(DSN, schema=schema, max_size=4), id="async-postgres"
        )


World = tuple[AsyncLicenseKit, Tripwire, TrippingMailer]


def _world(inner: AsyncStore) -> World:
    """A kit over *inner*, its store and mailer wired to one tripwire."""
    wire = Tripwire()
    mailer = TrippingMailer(wire)
    kit = AsyncLicenseKit(
        TrippingStore(inner, wire),
        mailer,
        secret=TEST_SECRET,
        join_url=TEST_JOIN_URL,
        download_url=TEST_DOWNLOAD_URL,
        clock=FakeClock(),
        password_hasher=PasswordHasher.insecure_fast(),
        settings=Settings(),
    )
    return kit, wire, mailer


@pytest.fixture(params=list(_stores()))
def make_store(request: pytest.FixtureRequest) -> Callable[[], AsyncStore]:
    """Makes the store under test (inside the test's event loop, which it belongs to)."""
    factory: Callable[[], AsyncStore] = request.param
    return factory


async def _setup(kit: AsyncLicenseKit, tag: str) -> tuple[Any, str, LicenseKey]:
    email = f"admin-{tag}@example.com"
    await kit.register_user(email, TEST_PASSWORD, email_verified=True)
    admin = await kit.log_in(email, TEST_PASSWORD)
    account = await kit.create_business_account(admin, f"Cancel {tag}")
    key = await kit.add_license_key(
        admin, account.id, product="Draw", value=f"DRAW-{tag}-0001", seats=40
    )
    return admin, account.id, key


async def _records(kit: AsyncLicenseKit, account_id: str) -> Counter[str]:
    """What the account's records are, by kind and state (a fingerprint of the store)."""
    store = kit.store
    assert isinstance(store, TrippingStore)
    found: Counter[str] = Counter()
    dump = getattr(store.inner, "dump", None)
    records = await dump() if dump is not None else store.inner.store.dump()  # type: ignore[attr-defined]
    for record in records:
        if getattr(record, "account_id", None) != account_id:
            continue
        if isinstance(record, LicenseKey):
            found[f"key seats_used={record.seats_used}"] += 1
        elif isinstance(record, InstallInvitation):
            found[f"invitation activations={record.activations} {record.delivery.value}"] += 1
        elif isinstance(record, Installation):
            found[f"installation {record.status.value}"] += 1
        else:
            found[
                type(record).__name__ + getattr(getattr(record, "action", None), "value", "")
            ] += 1
    return found


async def _pool_settled(kit: AsyncLicenseKit) -> None:
    """The next transaction opens at once: nothing of the cancelled one is held."""
    store = kit.store
    assert isinstance(store, TrippingStore)
    async with asyncio.timeout(5):
        async with store.inner.transaction() as tx:
            await tx.read([])
    inner = store.inner
    if isinstance(inner, AsyncPostgresStore):
        stats = inner._pool.get_stats()
        assert stats.get("pool_size", 0) - stats.get("pool_available", 0) == 0, stats


@pytest.mark.parametrize("mode", MODES)
def test_cancelling_an_activation_at_any_await_leaves_nothing_half_written(
    make_store: Callable[[], AsyncStore], mode: str
) -> None:
    async def scenario() -> None:
        inner = make_store()
        try:
            await activation(inner)
        finally:
            await inner.aclose()

    async def activation(inner: AsyncStore) -> None:
        kit, wire, mailer = _world(inner)
        admin, account_id, key = await _setup(kit, f"act-{mode}")
        await kit.invite_installers(
            admin, account_id, key.id, ["one@example.com"], max_activations=100
        )
        token = mailer.recording.last_token(to="one@example.com")
        wire.arm(None)
        # How many operations one activation makes, measured on another computer.
        await kit.activate(computer_id="measure", token=token)
        total = wire.count
        assert total >= 3
        await kit.deactivate_installation(
            admin, account_id, (await kit.list_installations(admin, account_id, key.id)).items[0].id
        )
        before = await _records(kit, account_id)
        for at in range(1, total + 1):
            wire.arm(at, mode)
            attempt = asyncio.ensure_future(kit.activate(computer_id=f"pc-{at}", token=token))
            with pytest.raises(asyncio.CancelledError):
                await attempt
            assert wire.fired, f"operation {at} of {total} was not reached"
            wire.arm(None)
            await _pool_settled(kit)
            after = await _records(kit, account_id)
            assert after == before, f"cancelled at operation {at} ({mode}): {after - before}"
        wire.arm(None)
        done = await kit.activate(computer_id="pc-final", token=token)
        assert done.installation_id  # the call made again succeeds

    asyncio.run(scenario())


@pytest.mark.parametrize("mode", MODES)
def test_cancelling_a_bulk_invitation_at_any_await_applies_whole_transactions_only(
    make_store: Callable[[], AsyncStore], mode: str
) -> None:
    async def scenario() -> None:
        inner = make_store()
        try:
            await bulk(inner)
        finally:
            await inner.aclose()

    async def bulk(inner: AsyncStore) -> None:
        kit, wire, mailer = _world(inner)
        admin, account_id, key = await _setup(kit, f"bulk-{mode}")
        wire.arm(None)
        await kit.invite_installers(admin, account_id, key.id, EMAILS[:2])
        total = wire.count + len(EMAILS) - 2  # a send per email: ten more than for two
        for at in range(1, total + 1):
            emails = [f"{at}-{e}" for e in EMAILS]
            wire.arm(at, mode)
            attempt = asyncio.ensure_future(
                kit.invite_installers(admin, account_id, key.id, emails)
            )
            with pytest.raises(asyncio.CancelledError):
                await attempt
            assert wire.fired, f"operation {at} of {total} was not reached"
            wire.arm(None)
            await _pool_settled(kit)
            listed = await kit.list_install_invitations(admin, account_id, key.id, limit=500)
            mine = [i for i in listed.items if i.email.startswith(f"{at}-")]
            # The invitations are created in one transaction: all of them or none.
            assert len(mine) in (0, len(EMAILS)), f"cancelled at {at} ({mode}): {len(mine)}"
            sent = {m.to for m in mailer.recording.sent if m.to.startswith(f"{at}-")}
            for invitation in mine:
                # Sent and recorded, or still claimed (sent again once the claim runs out):
                # never recorded as sent without having been handed to the mailer.
                if invitation.delivery.value == "sent":
                    assert invitation.email in sent

    asyncio.run(scenario())


def test_the_fingerprint_sees_a_change() -> None:
    """The check above can fail: an activation that went through changes the records."""
    inner = ThreadedStore(MemoryStore())
    kit, _, mailer = _world(inner)

    async def scenario() -> None:
        admin, account_id, key = await _setup(kit, "fingerprint")
        await kit.invite_installers(admin, account_id, key.id, ["one@example.com"])
        before = await _records(kit, account_id)
        await kit.activate(
            computer_id="pc", token=mailer.recording.last_token(to="one@example.com")
        )
        assert await _records(kit, account_id) != before
        assert (
            sum(
                n
                for k, n in (await _records(kit, account_id)).items()
                if k.startswith("AuditEvent") and AuditAction.ACTIVATED.value in k
            )
            == 1
        )

    asyncio.run(scenario())
    asyncio.run(inner.aclose())
