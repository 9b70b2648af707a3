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

Where pytest-asyncio is installed, two async fixtures come too, for tests marked
``@pytest.mark.asyncio`` (without it, the four above are all there is):

``licensekit_async_store``
    An empty store of the same kind, as an :class:`~licensekit.storage.AsyncStore`: the
    store ``licensekit_store`` would be, served from worker threads by a
    :class:`~licensekit.aio.ThreadedStore`. Its threads are stopped after the test, then the
    store is closed and its folder removed or its schema given back.
``licensekit_async_app``
    A :class:`~licensekit.testing.AsyncLicenseKitForTests` wired to ``licensekit_clock``,
    ``licensekit_mailer`` and ``licensekit_async_store``, its store already checked.

Disable it with ``-p no:licensekit`` if the names clash with your own fixtures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

try:
    import pytest_asyncio
except ImportError:  # the host does without pytest-asyncio: synchronous fixtures only
    _HAS_PYTEST_ASYNCIO = False
else:
    _HAS_PYTEST_ASYNCIO = True

if TYPE_CHECKING:
    from licensekit import MemoryStore, SQLiteStore
    from licensekit.storage import AsyncStore
    from licensekit.stores.postgres import PostgresStore
    from licensekit.testing import (
        AsyncLicenseKitForTests,
        FakeClock,
        LicenseKitForTests,
        RecordingMailer,
    )


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


if _HAS_PYTEST_ASYNCIO:

    @pytest_asyncio.fixture
    async def licensekit_async_store() -> AsyncIterator[AsyncStore]:
        """An empty store of the kind LICENSEKIT_TEST_STORE names, served to async code."""
        from licensekit.aio import ThreadedStore
        from licensekit.testing import _open_test_store

        store, discard = _open_test_store()
        served = ThreadedStore(store, close_store=False)
        yield served
        await served.aclose()
        store.close()
        discard()

    @pytest_asyncio.fixture
    async def licensekit_async_app(
        licensekit_clock: FakeClock,
        licensekit_mailer: RecordingMailer,
        licensekit_async_store: AsyncStore,
    ) -> AsyncIterator[AsyncLicenseKitForTests]:
        """An AsyncLicenseKit over the clock, mailer and async store fixtures."""
        from licensekit.testing import make_async_licensekit

        kit = make_async_licensekit(
            clock=licensekit_clock, mailer=licensekit_mailer, store=licensekit_async_store
        )
        async with kit:  # checks the store now; the store fixture closes it afterwards
            yield kit
