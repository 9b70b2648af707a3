"""The pytest plug-in shipped with licensekit gives a host's tests working fixtures."""

from __future__ import annotations

import importlib.metadata

import pytest

pytest_plugins = ["pytester"]

HOST_TESTS = """
import datetime as dt

import pytest

from licensekit import LicenseKit, MemoryStore, StorageError
from licensekit.testing import DEFAULT_START, FakeClock, RecordingMailer

closed_stores = []


def test_fixtures_have_the_documented_types(
    licensekit_app, licensekit_clock, licensekit_mailer, licensekit_store
):
    assert isinstance(licensekit_app, LicenseKit)
    assert isinstance(licensekit_clock, FakeClock)
    assert isinstance(licensekit_mailer, RecordingMailer)
    assert isinstance(licensekit_store, MemoryStore)
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
    assert licensekit_store.dump() == []
    assert licensekit_mailer.sent == []
"""


def _outcome(result: pytest.RunResult) -> None:
    result.assert_outcomes(passed=4)


def test_plugin_fixtures_work_in_a_host_test_suite_when_loaded_by_name(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_host=HOST_TESTS)
    result = pytester.runpytest_inprocess(
        "-p", "no:licensekit", "-p", "licensekit.testing.plugin", "-p", "no:cacheprovider"
    )
    _outcome(result)


def test_plugin_fixtures_work_in_a_host_test_suite_through_the_installed_entry_point(
    pytester: pytest.Pytester,
) -> None:
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


def test_package_metadata_declares_the_pytest11_entry_point() -> None:
    found = [
        ep for ep in importlib.metadata.entry_points(group="pytest11") if ep.name == "licensekit"
    ]
    assert len(found) == 1
    assert found[0].value == "licensekit.testing.plugin"
    assert found[0].dist is not None
    assert found[0].dist.name == "licensekit"


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
