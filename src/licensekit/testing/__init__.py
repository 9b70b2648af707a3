"""Test doubles and ready-made configurations for testing code that uses licensekit.

Everything here is public and documented, meant for a host application's own tests:

* :class:`FakeClock` -- a clock you set and advance by hand;
* :class:`RecordingMailer` -- keeps every message instead of sending it, and finds the
  link or token in what was sent;
* :func:`make_licensekit` -- a :class:`~licensekit.LicenseKit` on a test store with the two
  doubles above and cheap password hashing;
* :func:`make_async_licensekit` -- the same, as a :class:`~licensekit.aio.AsyncLicenseKit`;
* :func:`make_business_account` and :func:`add_member` -- builders for the usual starting
  point of a test: an administrator, their account, and members in given roles;
* :func:`new_test_store` -- a new store of the kind ``LICENSEKIT_TEST_STORE`` names
  (``memory`` or ``sqlite``), so that one suite runs on both;
* a pytest plug-in, installed with licensekit, providing the fixtures ``licensekit_clock``,
  ``licensekit_mailer``, ``licensekit_store`` and ``licensekit_app``, and, where pytest-asyncio
  is installed, ``licensekit_async_store`` and ``licensekit_async_app``.

Example:
    >>> from licensekit.testing import make_licensekit
    >>> kit = make_licensekit()
    >>> admin = kit.register_user("ada@example.com", "correct horse battery", email_verified=True)
    >>> session = kit.log_in("ada@example.com", "correct horse battery")
    >>> account = kit.create_business_account(session, "Analytical Engines Ltd")
    >>> batch = kit.invite_members(session, account.id, ["grace@example.com"])
    >>> kit.mailer.last(to="grace@example.com").subject
    'Join Analytical Engines Ltd on licensekit'
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from licensekit._signer import Signer
from licensekit.aio import AsyncLicenseKit, ThreadedMailer
from licensekit.clock import ensure_aware
from licensekit.domain.model import BusinessAccount, Role, Session
from licensekit.exceptions import (
    DeliveryError,
    EmailAlreadyRegistered,
    NotFound,
    ValidationError,
)
from licensekit.mail import Message, MessageKind
from licensekit.passwords import PasswordHasher
from licensekit.service import LicenseKit, Settings
from licensekit.stores.memory import MemoryStore

if TYPE_CHECKING:
    from licensekit.storage import AsyncStore
    from licensekit.stores._sqlite_pool import ConnectionPool
    from licensekit.stores.postgres import PostgresStore
    from licensekit.stores.sqlite import SQLiteStore

from licensekit.testing._blocking import BlockingStore

__all__ = [
    "DEFAULT_START",
    "TEST_DOWNLOAD_URL",
    "TEST_JOIN_URL",
    "TEST_PASSWORD",
    "TEST_RESET_URL",
    "TEST_SECRET",
    "TEST_VERIFY_URL",
    "AsyncLicenseKitForTests",
    "BlockingStore",
    "FakeClock",
    "LicenseKitForTests",
    "RecordingMailer",
    "add_member",
    "make_async_licensekit",
    "make_business_account",
    "make_licensekit",
    "new_test_store",
]

DEFAULT_START = dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.UTC)
"""Where a :class:`FakeClock` starts unless told otherwise."""

TEST_SECRET = b"licensekit-testing-secret-not-for-production-use!!"
"""The host secret :func:`make_licensekit` uses. Never use it outside tests."""

TEST_JOIN_URL = "https://portal.example.com/join?token={token}"
"""The join link template :func:`make_licensekit` uses."""

TEST_DOWNLOAD_URL = "https://downloads.example.com/install?token={token}"
"""The download link template :func:`make_licensekit` uses."""

TEST_VERIFY_URL = "https://portal.example.com/verify?token={token}"
"""The email verification link template :func:`make_licensekit` uses."""

TEST_RESET_URL = "https://portal.example.com/reset?token={token}"
"""The password reset link template :func:`make_licensekit` uses."""

TEST_PASSWORD = "correct horse battery"  # noqa: S105 - a documented test value
"""The password the builders give every user they create."""


class FakeClock:
    """A :class:`~licensekit.Clock` that stands still until told to move. Thread-safe.

    Args:
        start: The initial time; must be timezone-aware.
    """

    def __init__(self, start: dt.datetime = DEFAULT_START) -> None:
        self._lock = threading.Lock()
        self._now = ensure_aware(start, "FakeClock start")

    def __repr__(self) -> str:
        return f"FakeClock({self._now.isoformat()})"

    def now(self) -> dt.datetime:
        """Return the clock's current time."""
        with self._lock:
            return self._now

    def set(self, moment: dt.datetime) -> None:
        """Jump to *moment* (forwards or backwards)."""
        with self._lock:
            self._now = ensure_aware(moment, "FakeClock time")

    def advance(self, delta: dt.timedelta | None = None, **units: float) -> dt.datetime:
        """Move forward by *delta* or by keyword units (``days=7``, ``minutes=5``).

        Returns:
            The new current time.
        """
        step = (delta or dt.timedelta()) + dt.timedelta(**units)
        with self._lock:
            self._now += step
            return self._now


class RecordingMailer:
    """A :class:`~licensekit.Mailer` that keeps messages in :attr:`sent` instead of sending.

    Args:
        fail_for: Addresses whose messages fail with :class:`~licensekit.DeliveryError`, to
            test how your code reports undelivered invitations.

    Raises:
        ValidationError: *fail_for* is one string rather than a collection of addresses.
    """

    def __init__(self, *, fail_for: Iterable[str] = ()) -> None:
        addresses = () if isinstance(fail_for, str) else tuple(fail_for)
        if isinstance(fail_for, str) or not all(isinstance(a, str) for a in addresses):
            # A string is an iterable of letters: no address would fail, silently.
            raise ValidationError(
                "fail_for must be a collection of addresses, such as ['ann@example.com']",
                field="fail_for",
            )
        self.sent: list[Message] = []
        self.fail_for: set[str] = {address.lower() for address in addresses}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RecordingMailer(sent={len(self.sent)})"

    def send(self, message: Message) -> None:
        """Record *message*, or raise :class:`DeliveryError` if its recipient is in fail_for."""
        if message.to.lower() in self.fail_for:
            raise DeliveryError(f"recipient {message.to} refused (simulated)", permanent=True)
        with self._lock:
            self.sent.append(message)

    def clear(self) -> None:
        """Forget every recorded message."""
        with self._lock:
            self.sent.clear()

    def messages(self, *, to: str | None = None, kind: MessageKind | None = None) -> list[Message]:
        """Return recorded messages, oldest first, optionally only to *to* or of *kind*."""
        with self._lock:
            return [
                m
                for m in self.sent
                if (to is None or m.to.lower() == to.lower()) and (kind is None or m.kind is kind)
            ]

    def last(self, *, to: str | None = None, kind: MessageKind | None = None) -> Message:
        """Return the newest recorded message matching the filters.

        Raises:
            NotFound: Nothing matching was sent (a :class:`LookupError` too).
        """
        found = self.messages(to=to, kind=kind)
        if not found:
            who = f" to {to}" if to else ""
            raise NotFound(f"no message{who} has been sent")
        return found[-1]

    def last_link(self, *, to: str | None = None) -> str:
        """Return the link in the newest message matching *to*."""
        return self.last(to=to).data["link"]

    def last_token(self, *, to: str | None = None) -> str:
        """Return the token in the newest message matching *to*."""
        return self.last(to=to).data["token"]


def new_test_store() -> MemoryStore | SQLiteStore | PostgresStore:
    """Return a new, empty store of the kind ``LICENSEKIT_TEST_STORE`` names.

    The environment variable's value ``memory`` (also when the variable is unset or empty) gives a
    :class:`~licensekit.MemoryStore`; ``sqlite`` gives a
    :class:`~licensekit.stores.sqlite.SQLiteStore` on a new file in a new temporary folder,
    which is removed once the store is garbage-collected, or when the process exits;
    ``postgres`` gives a :class:`~licensekit.stores.postgres.PostgresStore` in an empty schema
    of its own, in the database ``LICENSEKIT_TEST_POSTGRES`` names (a libpq connection string;
    libpq's defaults when unset), dropped when the process exits.
    :func:`make_licensekit` and the plug-in's ``licensekit_store`` fixture take their stores
    from here, so that one variable runs a whole test suite on any of the three. Call it for
    fixtures of your own; close the store when you are done with it.

    Raises:
        ValidationError: The variable names none of ``memory``, ``sqlite`` and ``postgres``.
    """
    store, _ = _open_test_store()
    return store


def _open_test_store() -> tuple[MemoryStore | SQLiteStore | PostgresStore, Callable[[], object]]:
    """Return a new store (see :func:`new_test_store`) and what closes it and removes it now."""
    kind = os.environ.get("LICENSEKIT_TEST_STORE", "memory").strip().lower() or "memory"
    if kind == "memory":
        memory = MemoryStore()
        return memory, memory.close
    if kind == "postgres":
        from licensekit.testing._postgres import open_postgres_test_store

        return open_postgres_test_store()
    if kind != "sqlite":
        raise ValidationError(
            f"LICENSEKIT_TEST_STORE must be 'memory', 'sqlite' or 'postgres', got {kind!r}"
        )
    from licensekit.stores.sqlite import SQLiteStore

    folder = tempfile.TemporaryDirectory(prefix="licensekit-test-")
    store = SQLiteStore(Path(folder.name) / "licensekit.db", synchronous="normal")
    # When the store is garbage, or when called: close its connections (the list, not the
    # store, is held), then remove the folder.
    return store, weakref.finalize(store, _close_and_remove, store._pool, folder)


def _close_and_remove(pool: ConnectionPool, folder: tempfile.TemporaryDirectory[str]) -> None:
    for connection in pool.connections:
        connection.close()
    folder.cleanup()


class LicenseKitForTests(LicenseKit):
    """A :class:`~licensekit.LicenseKit` whose doubles keep their types for a type checker.

    It behaves exactly like its base class; only the annotations differ, so that
    ``kit.clock.advance(...)`` and ``kit.mailer.last_token(...)`` type-check in a host's tests.
    Made by :func:`make_licensekit`.
    """

    clock: FakeClock
    mailer: RecordingMailer
    store: MemoryStore | SQLiteStore | PostgresStore


def make_licensekit(
    *,
    clock: FakeClock | None = None,
    mailer: RecordingMailer | None = None,
    store: MemoryStore | SQLiteStore | PostgresStore | None = None,
    settings: Settings | None = None,
    signer: Signer | None = None,
) -> LicenseKitForTests:
    """Return a :class:`~licensekit.LicenseKit` wired for tests.

    It uses a :class:`FakeClock`, a :class:`RecordingMailer`, the :data:`TEST_SECRET`, and
    the cheapest Argon2 parameters, so that a test suite runs fast. The returned object's
    ``store``, ``clock`` and ``mailer`` attributes are those doubles, typed as such.

    Without *store* it makes a new one: a :class:`~licensekit.MemoryStore`, or, when the
    environment variable ``LICENSEKIT_TEST_STORE`` is ``sqlite``, a
    :class:`~licensekit.stores.sqlite.SQLiteStore` in a new temporary folder (removed when
    the process exits). Set it to run a whole test suite on real database files.

    Products get certificates when a *signer* is given (an
    :meth:`~licensekit.signing.Ed25519Signer.generate` one is enough for tests).
    """
    return LicenseKitForTests(
        store if store is not None else new_test_store(),
        mailer if mailer is not None else RecordingMailer(),
        secret=TEST_SECRET,
        join_url=TEST_JOIN_URL,
        download_url=TEST_DOWNLOAD_URL,
        verify_url=TEST_VERIFY_URL,
        reset_url=TEST_RESET_URL,
        clock=clock if clock is not None else FakeClock(),
        password_hasher=PasswordHasher.insecure_fast(),
        settings=settings,
        signer=signer,
    )


class AsyncLicenseKitForTests(AsyncLicenseKit):
    """An :class:`~licensekit.aio.AsyncLicenseKit` whose doubles keep their types.

    It behaves exactly like its base class. ``clock`` is the :class:`FakeClock` it was given,
    and ``mailer`` the :class:`RecordingMailer`, which the kit awaits through a
    :class:`~licensekit.aio.ThreadedMailer`; so ``kit.clock.advance(...)`` and
    ``kit.mailer.last_token(...)`` type-check in a host's tests. Made by
    :func:`make_async_licensekit`.
    """

    clock: FakeClock

    # The base class's mailer is the awaited one; this one is the recording mailer behind it.
    @property  # type: ignore[override]
    def mailer(self) -> RecordingMailer:
        """The :class:`RecordingMailer` the kit sends through."""
        awaited = self._ctx.mailer
        recording = awaited.mailer if isinstance(awaited, ThreadedMailer) else awaited
        if not isinstance(recording, RecordingMailer):
            raise TypeError(f"the kit's mailer is not a RecordingMailer: {recording!r}")
        return recording

    @mailer.setter
    def mailer(self, value: RecordingMailer) -> None:
        self._ctx.mailer = ThreadedMailer(value)


def make_async_licensekit(
    *,
    clock: FakeClock | None = None,
    mailer: RecordingMailer | None = None,
    store: MemoryStore | SQLiteStore | PostgresStore | AsyncStore | None = None,
    settings: Settings | None = None,
    signer: Signer | None = None,
) -> AsyncLicenseKitForTests:
    """Return an :class:`~licensekit.aio.AsyncLicenseKit` wired for tests.

    It is :func:`make_licensekit` for async code: the same :class:`FakeClock`,
    :class:`RecordingMailer`, :data:`TEST_SECRET`, link templates and cheapest Argon2
    parameters, and, without *store*, a new store from :func:`new_test_store`, which the kit
    serves from worker threads (:class:`~licensekit.aio.ThreadedStore`). *store* may also be
    an :class:`~licensekit.storage.AsyncStore`, such as the plug-in's
    ``licensekit_async_store``. Every method of the result is awaited; its ``clock`` and
    ``mailer`` are the doubles, typed as such.

    The kit may be built outside the event loop that awaits it.

    Example:
        >>> import asyncio
        >>> from licensekit.testing import make_async_licensekit
        >>> kit = make_async_licensekit()
        >>> async def sign_up() -> str:
        ...     await kit.register_user("ada@example.com", "correct horse battery")
        ...     session = await kit.log_in("ada@example.com", "correct horse battery")
        ...     return (await kit.current_user(session)).email
        >>> asyncio.run(sign_up())
        'ada@example.com'
    """
    return AsyncLicenseKitForTests(
        store if store is not None else new_test_store(),
        mailer if mailer is not None else RecordingMailer(),
        secret=TEST_SECRET,
        join_url=TEST_JOIN_URL,
        download_url=TEST_DOWNLOAD_URL,
        verify_url=TEST_VERIFY_URL,
        reset_url=TEST_RESET_URL,
        clock=clock if clock is not None else FakeClock(),
        password_hasher=PasswordHasher.insecure_fast(),
        settings=settings,
        signer=signer,
    )


def make_business_account(
    kit: LicenseKit,
    *,
    admin_email: str = "admin@example.com",
    name: str = "Example Corp",
    password: str = TEST_PASSWORD,
) -> tuple[Session, BusinessAccount]:
    """Register (if needed) and log in an administrator, and create their business account.

    The administrator is registered with a proven address (``email_verified=True``), as if
    they had confirmed it, since only proven users may create business accounts.

    Returns:
        The administrator's session, already carrying the administrator role, and the account.
    """
    with contextlib.suppress(EmailAlreadyRegistered):
        kit.register_user(admin_email, password, email_verified=True)
    admin = kit.log_in(admin_email, password)
    return admin, kit.create_business_account(admin, name)


def add_member(
    kit: LicenseKit,
    admin: Session,
    account_id: str,
    email: str,
    *,
    role: Role = Role.REGULAR_MEMBER,
    password: str = TEST_PASSWORD,
) -> Session:
    """Bring *email* into an account the way a person would, and return their session.

    The administrator invites *email*; the invitee accepts from the link the
    :class:`RecordingMailer` caught (creating a personal account with *password*, or signing
    in with it when one exists). For ``Role.ACCOUNT_ADMINISTRATOR`` the member is then
    promoted and logged in again, so the returned session acts with the new role.

    Raises:
        ValidationError: *kit* does not use a :class:`RecordingMailer`, or *email* could not
            be invited (an invalid address, one already a member or blocked...; the message
            gives the reason), or its invitation could not be delivered.
    """
    mailer = kit.mailer
    if not isinstance(mailer, RecordingMailer):
        raise ValidationError("add_member needs a LicenseKit whose mailer is a RecordingMailer")
    batch = kit.invite_members(admin, account_id, [email])
    for rejected in batch.skipped:
        raise ValidationError(
            f"add_member could not invite {rejected.text!r}: {rejected.reason}", field="email"
        )
    for invitation in batch.undelivered:
        raise ValidationError(
            f"add_member's invitation to {invitation.email!r} was not delivered", field="email"
        )
    member = kit.accept_join_invitation(mailer.last_token(to=email), password=password)
    if role is Role.REGULAR_MEMBER:
        return member
    kit.change_role(admin, account_id, member.user_id, role)
    return kit.log_in(email, password)
