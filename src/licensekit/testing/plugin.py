"""The licensekit pytest plug-in, registered through the ``pytest11`` entry point.

Installing licensekit makes these fixtures available to every test, with no import:

``licensekit_clock``
    A :class:`~licensekit.testing.FakeClock` at :data:`~licensekit.testing.DEFAULT_START`.
``licensekit_mailer``
    A :class:`~licensekit.testing.RecordingMailer`.
``licensekit_store``
    An empty :class:`~licensekit.MemoryStore`.
``licensekit_app``
    A :class:`~licensekit.testing.LicenseKitForTests` wired to the three fixtures above.

Disable it with ``-p no:licensekit`` if the names clash with your own fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from licensekit import MemoryStore
    from licensekit.testing import FakeClock, LicenseKitForTests, RecordingMailer


@pytest.fixture
def licensekit_clock() -> FakeClock:
    """A settable clock, starting at 2030-01-01 09:00 UTC."""
    from licensekit.testing import FakeClock

    return FakeClock()


@pytest.fixture
def licensekit_mailer() -> RecordingMailer:
    """A mailer that records messages instead of sending them."""
    from licensekit.testing import RecordingMailer

    return RecordingMailer()


@pytest.fixture
def licensekit_store() -> Iterator[MemoryStore]:
    """An empty in-memory store, closed after the test."""
    from licensekit import MemoryStore

    store = MemoryStore()
    yield store
    store.close()


@pytest.fixture
def licensekit_app(
    licensekit_clock: FakeClock,
    licensekit_mailer: RecordingMailer,
    licensekit_store: MemoryStore,
) -> LicenseKitForTests:
    """A LicenseKit over the clock, mailer and store fixtures, with cheap password hashing."""
    from licensekit.testing import make_licensekit

    return make_licensekit(clock=licensekit_clock, mailer=licensekit_mailer, store=licensekit_store)
