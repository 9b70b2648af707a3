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

from licensekit.aio._kit import AsyncLicenseKit
from licensekit.aio._threads import ThreadedBatchMailer, ThreadedMailer, ThreadedStore

__all__ = ["AsyncLicenseKit", "ThreadedBatchMailer", "ThreadedMailer", "ThreadedStore"]
