"""Shared fixtures. The licensekit pytest plug-in is loaded here rather than through its entry
point (disabled in pyproject.toml) so that coverage measures licensekit from its first import."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from _async_bridge import BlockingKit, flavours

pytest_plugins = ["licensekit.testing.plugin"]

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=60,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=40)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(scope="module", params=flavours())
def flavour(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a module's tests through LicenseKit (``sync``) and through AsyncLicenseKit (``async``).

    For ``async``, every kit that make_licensekit (and the licensekit_app fixture) builds is a
    BlockingKit over an AsyncLicenseKit (see _async_bridge.py). Module-scoped, so hypothesis
    tests may use it. The folders whose conftest uses it say so.
    """
    import licensekit.testing

    with pytest.MonkeyPatch.context() as patch:
        if request.param == "async":
            patch.setattr(licensekit.testing, "LicenseKitForTests", BlockingKit)
        yield request.param


@pytest.fixture
def pytester(pytester: pytest.Pytester) -> pytest.Pytester:
    """pytester, its child sessions set up as pyproject.toml sets ours up for pytest-asyncio.

    pytest-asyncio (installed with the dev extra) warns in every session that leaves its
    fixtures' loop scope unset, and child sessions do not read pyproject.toml. A test may
    write its own ini file over this one.
    """
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    return pytester


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the async run of a test marked ``sync_only``, saying why."""
    for item in items:
        marker = item.get_closest_marker("sync_only")
        callspec = getattr(item, "callspec", None)
        if marker and callspec is not None and callspec.params.get("flavour") == "async":
            item.add_marker(pytest.mark.skip(reason=f"sync only: {marker.args[0]}"))
