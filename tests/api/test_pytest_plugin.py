"""The pytest plug-in shipped with licensekit gives a host's tests working fixtures."""

from __future__ import annotations

import importlib.metadata

import pytest

pytest_plugins = ["pytester"]

HOST_TESTS = """
import datetime as dt
import os

import pytest

from licensekit import LicenseKit, MemoryStore, SQLiteStore, StorageError
from licensekit.testing import DEFAULT_START, FakeClock, RecordingMailer

EXPECTED_STORE = {"memory": MemoryStore, "sqlite": SQLiteStore}[
    os.environ.get("LICENSEKIT_TEST_STORE", "memory")
]
closed_stores = []


def test_fixtures_have_the_documented_types(
    licensekit_app, licensekit_clock, licensekit_mailer, licensekit_store
):
    assert isinstance(licensekit_app, LicenseKit)
    assert isinstance(licensekit_clock, FakeClock)
    assert isinstance(licensekit_mailer, RecordingMailer)
    assert type(licensekit_store) is EXPECTED_STORE
    assert licensekit_clock.now() == DEFAULT_START
    assert licensekit_mailer.sent == []
    assert licensekit_store.dump() == []


def test_app_is_wired_to_the_other_fixtures(
    licensekit_app, licensekit_clock, licensekit_mailer, licensekit_store
):
    assert licensekit_app.store is licensekit_store
    assert licensekit_app.clock is licensekit_clock
    assert licensekit_app.mailer is licensekit_mailer


def test_a_host_flow_through_the_fixtures(
    licensekit_app, licensekit_clock, licensekit_mailer, licensekit_store
):
    kit = licensekit_app
    kit.register_user("ada@example.com", "correct horse battery", email_verified=True)
    admin = kit.log_in("ada@example.com", "correct horse battery")
    account = kit.create_business_account(admin, "Analytical Engines Ltd")
    kit.invite_members(admin, account.id, ["grace@example.com"])
    assert licensekit_mailer.last(to="grace@example.com").subject == (
        "Join Analytical Engines Ltd on licensekit"
    )
    joined = kit.accept_join_invitation(
        licensekit_mailer.last_token(to="grace@example.com"), password="grace's passphrase"
    )
    assert joined.email == "grace@example.com"
    licensekit_clock.advance(days=1)
    assert kit.purge_expired().sessions == 2
    assert any(type(r).__name__ == "Membership" for r in licensekit_store.dump())
    closed_stores.append(licensekit_store)


def test_each_test_gets_fresh_fixtures_and_the_store_is_closed_after_use(
    licensekit_app, licensekit_store, licensekit_mailer
):
    assert len(closed_stores) == 1
    assert closed_stores[0] is not licensekit_store
    with pytest.raises(StorageError):
        with closed_stores[0].transaction():
            pass
    if EXPECTED_STORE is SQLiteStore:  # its temporary folder is gone too
        assert not closed_stores[0].path.parent.exists()
        assert licensekit_store.path.parent.is_dir()
    assert licensekit_store.dump() == []
    assert licensekit_mailer.sent == []
"""

STORE_KINDS = pytest.mark.parametrize("kind", ["memory", "sqlite"])


def _outcome(result: pytest.RunResult) -> None:
    result.assert_outcomes(passed=4)


@STORE_KINDS
def test_plugin_fixtures_work_in_a_host_test_suite_when_loaded_by_name(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """The fixtures honour LICENSEKIT_TEST_STORE, as make_licensekit does."""
    monkeypatch.setenv("LICENSEKIT_TEST_STORE", kind)
    pytester.makepyfile(test_host=HOST_TESTS)
    result = pytester.runpytest_inprocess(
        "-p", "no:licensekit", "-p", "licensekit.testing.plugin", "-p", "no:cacheprovider"
    )
    _outcome(result)


@STORE_KINDS
def test_plugin_fixtures_work_in_a_host_test_suite_through_the_installed_entry_point(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setenv("LICENSEKIT_TEST_STORE", kind)
    pytester.makepyfile(test_host=HOST_TESTS)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    _outcome(result)


def test_plugin_fixtures_are_absent_when_the_host_disables_the_plugin(
    pytester: pytest.Pytester,
) -> None:
    """``-p no:licensekit`` turns the fixtures off, as the plug-in's docs promise."""
    pytester.makepyfile(
        test_host="""
        def test_uses_app(licensekit_app):
            pass
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:licensekit", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'licensekit_app' not found*"])


def test_without_the_variable_the_store_fixture_is_a_memory_store(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LICENSEKIT_TEST_STORE", raising=False)
    pytester.makepyfile(
        test_host="""
        from licensekit import MemoryStore

        def test_store(licensekit_store):
            assert type(licensekit_store) is MemoryStore
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:licensekit", "-p", "licensekit.testing.plugin")
    result.assert_outcomes(passed=1)


def test_a_store_variable_naming_no_store_fails_the_test_that_asks_for_the_store(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LICENSEKIT_TEST_STORE", "mongodb")
    pytester.makepyfile(
        test_host="""
        def test_store(licensekit_store):
            pass

        def test_clock(licensekit_clock):
            pass
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:licensekit", "-p", "licensekit.testing.plugin")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*LICENSEKIT_TEST_STORE must be 'memory', 'sqlite' or 'postgres'*"]
    )


def test_package_metadata_declares_the_pytest11_entry_point() -> None:
    found = [
        ep for ep in importlib.metadata.entry_points(group="pytest11") if ep.name == "licensekit"
    ]
    assert len(found) == 1
    assert found[0].value == "licensekit.testing.plugin"
    assert found[0].dist is not None
    assert found[0].dist.name == "licensekit-admin"


def test_plugin_lists_its_fixtures_in_fixtures_help(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_host="def test_nothing():\n    pass\n")
    result = pytester.runpytest_inprocess(
        "--fixtures", "-p", "no:licensekit", "-p", "licensekit.testing.plugin"
    )
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*fixtures defined from licensekit.testing.plugin*",
            "licensekit_clock*",
            "licensekit_mailer*",
            "licensekit_store*",
            "licensekit_app*",
        ],
    )
