"""The licensekit pytest plug-in, registered through the ``pytest11`` entry point.

Installing licensekit makes these fixtures available to every test, with no import:

``licensekit_clock``
    A :class:`~licensekit.testing.FakeClock` at :data:`~licensekit.testing.DEFAULT_START`.
``licensekit_mailer``
    A :class:`~licensekit.testing.RecordingMailer`.
``licensekit_store``
    An empty store of the kind ``LICENSEKIT_TEST_STORE`` names (see
    :func:`~licensekit.testing.new_test_store`): a :class:`~licensekit.MemoryStore` by
    default, a :class:`~licensekit.stores.sqlite.SQLiteStore` in a temporary folder with
    ``sqlite``, a :class:`~licensekit.stores.postgres.PostgresStore` on an empty schema of
    the database ``LICENSEKIT_TEST_POSTGRES`` names with ``postgres``. It is closed after
    the test, and its folder removed or its schema given back.
``licensekit_app``
    A :class:`~licensekit.testing.LicenseKitForTests` wired to the three fixtures above.

Disable it with ``-p no:licensekit`` if the names clash with your own fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from licensekit import MemoryStore, SQLiteStore
    from licensekit.stores.postgres import PostgresStore
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
def licensekit_store() -> Iterator[MemoryStore | SQLiteStore | PostgresStore]:
    """An empty store of the kind LICENSEKIT_TEST_STORE names (memory, sqlite or postgres)."""
    from licensekit.testing import _open_test_store

    store, discard = _open_test_store()
    yield store
    store.close()
    discard()


@pytest.fixture
def licensekit_app(
    licensekit_clock: FakeClock,
    licensekit_mailer: RecordingMailer,
    licensekit_store: MemoryStore | SQLiteStore | PostgresStore,
) -> LicenseKitForTests:
    """A LicenseKit over the clock, mailer and store fixtures, with cheap password hashing."""
    from licensekit.testing import make_licensekit

    return make_licensekit(clock=licensekit_clock, mailer=licensekit_mailer, store=licensekit_store)
