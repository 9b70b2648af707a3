"""licensekit for async hosts: :class:`AsyncLicenseKit`, the same use cases, awaited.

``AsyncLicenseKit`` has every method of :class:`licensekit.LicenseKit`, with the same name,
arguments, result and exceptions, as a coroutine function::

    kit = AsyncLicenseKit("postgresql://db.internal/licensing", mailer, secret=..., join_url=...)
    session = await kit.log_in(email, password)

The use cases are written once, async, in :mod:`licensekit.aio._usecases`; the synchronous
ones are generated from them (``scripts/unasync.py``), so both decide alike.

What runs where:

* **Stores.** A native :class:`~licensekit.storage.AsyncStore`
  (:class:`~licensekit.stores.postgres.AsyncPostgresStore`) is awaited directly. A
  synchronous :class:`~licensekit.storage.Store` (the memory and SQLite stores, or yours)
  is served by :class:`ThreadedStore`: each transaction lives in one worker thread, so
  waiting for SQLite's write lock never holds the event loop.
* **Mailers.** An :class:`~licensekit.mail.AsyncMailer` (the
  :class:`~licensekit.mailers.AsyncSMTPMailer`) is awaited; a synchronous one runs in a
  worker thread (:class:`ThreadedMailer`).
* **Slow work.** Argon2id hashing and verification run in worker threads, so a log-in does
  not stall other requests.
* **Cancellation.** A task cancelled at any ``await`` leaves nothing half-written: its
  transaction rolls back and its connection goes back to the pool.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy reads it alike
if TYPE_CHECKING:
    from licensekit.aio._kit import AsyncLicenseKit
    from licensekit.aio._threads import ThreadedBatchMailer, ThreadedMailer, ThreadedStore

__all__ = ["AsyncLicenseKit", "ThreadedBatchMailer", "ThreadedMailer", "ThreadedStore"]

# Where each name is defined; it is imported on first use, as in :mod:`licensekit`, so that
# reaching AsyncLicenseKit loads neither asyncio's threads nor any use case.
_HOME = {
    "AsyncLicenseKit": "licensekit.aio._kit",
    "ThreadedBatchMailer": "licensekit.aio._threads",
    "ThreadedMailer": "licensekit.aio._threads",
    "ThreadedStore": "licensekit.aio._threads",
}

if not TYPE_CHECKING:  # type checkers see the names imported above, and no __getattr__

    def __getattr__(name: str) -> object:
        home = _HOME.get(name)
        if home is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        __import__(home)
        value = getattr(sys.modules[home], name)
        globals()[name] = value  # later look-ups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})
