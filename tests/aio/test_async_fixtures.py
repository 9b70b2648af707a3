"""The test kit for async hosts: make_async_licensekit and the plug-in's async fixtures.

The fixtures ``licensekit_async_store`` and ``licensekit_async_app`` come from the plug-in
(loaded by tests/conftest.py) because pytest-asyncio is installed; the last tests run a
host's suite with pytester, with pytest-asyncio and without it.
"""

from __future__ import annotations

import asyncio
import importlib.abc
import os
import sys
from collections.abc import Sequence
from types import ModuleType

import pytest

import licensekit.stores.sqlite  # loaded here: a pytester run would load it, then forget it
import licensekit.testing
from licensekit import InvitationExpired, MessageKind, Role
from licensekit.aio import AsyncLicenseKit, ThreadedMailer, ThreadedStore
from licensekit.storage import AsyncStore
from licensekit.testing import (
    DEFAULT_START,
    AsyncLicenseKitForTests,
    FakeClock,
    RecordingMailer,
    make_async_licensekit,
)

pytest_plugins = ["pytester"]

STORE_KIND = os.environ.get("LICENSEKIT_TEST_STORE", "memory").strip().lower() or "memory"
STORE_CLASS = {"memory": "MemoryStore", "sqlite": "SQLiteStore", "postgres": "PostgresStore"}
PASSWORD = "correct horse battery"


# -- the fixtures -----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_app_is_wired_to_the_other_fixtures(
    licensekit_async_app: AsyncLicenseKitForTests,
    licensekit_async_store: AsyncStore,
    licensekit_clock: FakeClock,
    licensekit_mailer: RecordingMailer,
) -> None:
    assert isinstance(licensekit_async_app, AsyncLicenseKit)
    assert licensekit_async_app.store is licensekit_async_store
    assert licensekit_async_app.clock is licensekit_clock
    assert licensekit_async_app.mailer is licensekit_mailer
    assert licensekit_clock.now() == DEFAULT_START


@pytest.mark.asyncio
async def test_the_store_is_the_kind_the_variable_names(licensekit_async_store: AsyncStore) -> None:
    assert isinstance(licensekit_async_store, ThreadedStore)
    assert type(licensekit_async_store.store).__name__ == STORE_CLASS[STORE_KIND]
    async with licensekit_async_store.transaction() as tx:
        assert await tx.lock(["nothing"]) in (True, False)


@pytest.mark.asyncio
async def test_registration_and_log_in(licensekit_async_app: AsyncLicenseKitForTests) -> None:
    kit = licensekit_async_app

    user = await kit.register_user("ada@example.com", PASSWORD, name="Ada")
    session = await kit.log_in("ada@example.com", PASSWORD)

    assert session.user_id == user.id
    assert (await kit.current_user(session)).name == "Ada"


@pytest.mark.asyncio
async def test_the_recording_mailer_catches_an_invitation(
    licensekit_async_app: AsyncLicenseKitForTests, licensekit_mailer: RecordingMailer
) -> None:
    kit = licensekit_async_app
    await kit.register_user("admin@example.com", PASSWORD, email_verified=True)
    admin = await kit.log_in("admin@example.com", PASSWORD)
    account = await kit.create_business_account(admin, "Example Corp")

    await kit.invite_members(admin, account.id, ["grace@example.com"])

    message = licensekit_mailer.last(to="grace@example.com")
    assert message.kind is MessageKind.JOIN_INVITATION
    assert message.subject == "Join Example Corp on licensekit"
    assert kit.mailer.last_link(to="grace@example.com").startswith("https://portal.example.com/")
    grace = await kit.accept_join_invitation(
        licensekit_mailer.last_token(to="grace@example.com"), password="grace's passphrase"
    )
    members = await kit.list_members(admin, account.id)
    assert {(m.email, m.role) for m in members.items} == {
        ("admin@example.com", Role.ACCOUNT_ADMINISTRATOR),
        ("grace@example.com", Role.REGULAR_MEMBER),
    }
    assert grace.email == "grace@example.com"


@pytest.mark.asyncio
async def test_the_clock_fixture_drives_the_app(
    licensekit_async_app: AsyncLicenseKitForTests, licensekit_mailer: RecordingMailer
) -> None:
    kit = licensekit_async_app
    await kit.register_user("admin@example.com", PASSWORD, email_verified=True)
    admin = await kit.log_in("admin@example.com", PASSWORD)
    account = await kit.create_business_account(admin, "Example Corp")
    await kit.invite_members(admin, account.id, ["late@example.com"])

    kit.clock.advance(days=8)  # the default invitation lifetime is seven days

    with pytest.raises(InvitationExpired):
        await kit.accept_join_invitation(
            licensekit_mailer.last_token(to="late@example.com"), password="a fine passphrase"
        )


# -- make_async_licensekit without the plug-in ------------------------------------------------


def test_make_async_licensekit_works_with_asyncio_run() -> None:
    kit = make_async_licensekit()

    async def scenario() -> str:
        try:
            await kit.register_user("ada@example.com", PASSWORD, email_verified=True)
            admin = await kit.log_in("ada@example.com", PASSWORD)
            account = await kit.create_business_account(admin, "Analytical Engines Ltd")
            await kit.invite_members(admin, account.id, ["grace@example.com"])
            return kit.mailer.last(to="grace@example.com").subject
        finally:
            await kit.store.aclose()  # the threads serving the store make_async_licensekit made

    assert asyncio.run(scenario()) == "Join Analytical Engines Ltd on licensekit"
    assert isinstance(kit.clock, FakeClock)
    assert type(kit.store).__name__ == "ThreadedStore"


def test_the_mailer_of_the_async_kit_can_be_swapped() -> None:
    kit = make_async_licensekit()
    failing = RecordingMailer(fail_for=["grace@example.com"])

    kit.mailer = failing

    assert kit.mailer is failing
    assert isinstance(kit._ctx.mailer, ThreadedMailer)

    async def scenario() -> list[str]:
        try:
            await kit.register_user("ada@example.com", PASSWORD, email_verified=True)
            admin = await kit.log_in("ada@example.com", PASSWORD)
            account = await kit.create_business_account(admin, "Example Corp")
            batch = await kit.invite_members(admin, account.id, ["grace@example.com"])
            return [f.email for f in batch.undelivered]
        finally:
            await kit.store.aclose()

    assert asyncio.run(scenario()) == ["grace@example.com"]


# -- a host's suite, run by pytester ------------------------------------------------------------

HOST_TESTS = """
import pytest

from licensekit import StorageError
from licensekit.aio import AsyncLicenseKit

seen = []


@pytest.mark.asyncio
async def test_a_host_flow(licensekit_async_app, licensekit_mailer, licensekit_async_store):
    kit = licensekit_async_app
    assert isinstance(kit, AsyncLicenseKit)
    await kit.register_user("ada@example.com", "correct horse battery", email_verified=True)
    admin = await kit.log_in("ada@example.com", "correct horse battery")
    account = await kit.create_business_account(admin, "Analytical Engines Ltd")
    await kit.invite_members(admin, account.id, ["grace@example.com"])
    assert licensekit_mailer.last(to="grace@example.com").data["token"]
    seen.append(licensekit_async_store)


@pytest.mark.asyncio
async def test_each_test_gets_a_new_store_and_the_last_one_is_closed(licensekit_async_store):
    (previous,) = seen
    assert previous is not licensekit_async_store
    with pytest.raises(StorageError):
        previous.transaction()
    with pytest.raises(StorageError):
        with previous.store.transaction():
            pass
    assert licensekit_async_store.store.dump() == []
"""


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_host_suite_uses_the_async_fixtures(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setenv("LICENSEKIT_TEST_STORE", kind)
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nfilterwarnings = error\n"
    )
    pytester.makepyfile(test_host=HOST_TESTS)

    result = pytester.runpytest_inprocess(
        "-p", "no:licensekit", "-p", "licensekit.testing.plugin", "-p", "no:cacheprovider"
    )

    result.assert_outcomes(passed=2)


def test_the_async_fixtures_are_listed_in_fixtures_help(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_host="def test_nothing():\n    pass\n")

    result = pytester.runpytest_inprocess(
        "--fixtures", "-p", "no:licensekit", "-p", "licensekit.testing.plugin"
    )

    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "licensekit_async_store -- *plugin.py:*",
            "    An empty store of the kind LICENSEKIT_TEST_STORE names, served to async code.",
        ],
        consecutive=True,
    )
    result.stdout.fnmatch_lines(["licensekit_async_app -- *plugin.py:*"])


class NoPytestAsyncio(importlib.abc.MetaPathFinder):
    """An import hook for which pytest-asyncio is not installed."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> None:
        if fullname.split(".")[0] == "pytest_asyncio":
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)


def test_the_plugin_loads_without_pytest_asyncio(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host without pytest-asyncio gets the synchronous fixtures, and no error."""
    # Make ``import pytest_asyncio`` fail, and have the plug-in imported afresh.
    monkeypatch.setattr(sys, "meta_path", [NoPytestAsyncio(), *sys.meta_path])
    for name in [n for n in sys.modules if n.split(".")[0] == "pytest_asyncio"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delitem(sys.modules, "licensekit.testing.plugin")
    monkeypatch.setattr(licensekit.testing, "plugin", licensekit.testing.plugin)
    pytester.makepyfile(
        test_host="""
        def test_sync_fixtures(licensekit_app, licensekit_mailer):
            licensekit_app.register_user("ada@example.com", "correct horse battery")
            assert licensekit_app.log_in("ada@example.com", "correct horse battery")

        def test_async_app(licensekit_async_app):
            pass
        """
    )

    # Plain asserts: pytest's rewriting import hook would go first and find pytest_asyncio.
    result = pytester.runpytest_inprocess(
        "--assert=plain",
        "-p",
        "no:asyncio",
        "-p",
        "no:licensekit",
        "-p",
        "licensekit.testing.plugin",
    )

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*fixture 'licensekit_async_app' not found*"])
