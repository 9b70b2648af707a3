"""The context every group of async use cases shares, as :mod:`licensekit._usecases._context`.

:class:`licensekit.aio.AsyncLicenseKit` builds one :class:`Context` from its arguments. What
differs from the synchronous context is what does I/O: the store is an
:class:`~licensekit.storage.AsyncStore` (a synchronous store given is served from worker
threads by :class:`~licensekit.aio.ThreadedStore`), the mailer an
:class:`~licensekit.mail.AsyncMailer` (a synchronous one runs in a worker thread), and the
store is checked before its first transaction rather than at once.
"""

from __future__ import annotations

import inspect
import os

import attrs

from licensekit._settings import Settings
from licensekit._signer import Signer
from licensekit._usecases._context import Links, check_arguments
from licensekit.aio._threads import ThreadedBatchMailer, ThreadedMailer, ThreadedStore
from licensekit.aio._usecases._runner import Runner
from licensekit.clock import Clock, SystemClock
from licensekit.codes import SecretKeys
from licensekit.passwords import PasswordHasher
from licensekit.storage import AsyncStore, Store

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy reads it alike
if TYPE_CHECKING:
    # At run time the built-in templates are made on first use, as by the synchronous context.
    from licensekit.mail import AsyncMailer, Mailer, Templates

__all__ = ["Context", "Links", "as_async_mailer", "as_async_store", "open_context"]


@attrs.define
class Context:
    """What the async use cases work with; see :class:`licensekit._usecases._context.Context`.

    Attributes:
        store: Where records live.
        runner: Opens every transaction over *store*.
        mailer: Delivers emails.
        clock: The source of time.
        passwords: Hashes and checks passwords (in worker threads).
        settings: Lifetimes, limits and throttling.
        keys: Keyed hashes and encryption derived from the host's secret.
        links: The templates of emailed links.
        signer: Signs the certificates installed products get; None: they get none.
        templates: The email texts (see :attr:`templates`); None: licensekit's own.
    """

    store: AsyncStore
    runner: Runner
    mailer: AsyncMailer
    clock: Clock
    passwords: PasswordHasher
    settings: Settings
    keys: SecretKeys = attrs.field(repr=False)
    links: Links
    signer: Signer | None = None
    _templates: Templates | None = attrs.field(default=None, alias="templates")

    @property
    def templates(self) -> Templates:
        """The email texts: those given, else licensekit's own languages, made on first use."""
        return self._templates if self._templates is not None else self._default_templates()

    @templates.setter
    def templates(self, value: Templates) -> None:
        self._templates = value

    def _default_templates(self) -> Templates:
        from licensekit.mail import default_templates  # the texts load with the first email

        self._templates = default_templates()
        return self._templates


def as_async_store(store: AsyncStore | Store) -> AsyncStore:
    """Return *store* if it is async, else a :class:`ThreadedStore` serving it.

    The threaded store does not close *store*: a store passed in stays its owner's to close.
    """
    if inspect.iscoroutinefunction(getattr(store, "aclose", None)):
        return store  # type: ignore[return-value]
    return ThreadedStore(store, close_store=False)  # type: ignore[arg-type]


def as_async_mailer(mailer: AsyncMailer | Mailer) -> AsyncMailer:
    """Return *mailer* if its ``send`` is a coroutine function, else a :class:`ThreadedMailer`."""
    if inspect.iscoroutinefunction(getattr(mailer, "send", None)):
        return mailer  # type: ignore[return-value]
    if callable(getattr(mailer, "send_batch", None)):
        return ThreadedBatchMailer(mailer)  # type: ignore[arg-type]
    return ThreadedMailer(mailer)  # type: ignore[arg-type]


def open_context(
    store: AsyncStore | Store | str | os.PathLike[str],
    mailer: AsyncMailer | Mailer,
    *,
    secret: bytes | str,
    links: Links,
    clock: Clock | None,
    password_hasher: PasswordHasher | None,
    settings: Settings | None,
    templates: Templates | None,
    signer: Signer | None = None,
) -> tuple[Context, bool]:
    """Check :class:`licensekit.aio.AsyncLicenseKit`'s arguments and build its context.

    Returns:
        The context, and whether its store was made here (opened from a location, or a
        :class:`ThreadedStore` over a synchronous store given, which closing stops
        without closing that store), and so is the caller's to close.

    Raises:
        ValidationError: As :func:`licensekit._usecases._context.open_context`.
        StorageError: The SQLite file named by *store* cannot be opened.
    """
    check_arguments(store, links=links, templates=templates, signer=signer)
    keys = SecretKeys(secret)
    if isinstance(store, str | os.PathLike):
        from licensekit.aio._stores import open_async_store  # psycopg or sqlite3 on demand

        opened, owned = open_async_store(store), True
    else:
        opened = as_async_store(store)
        # A ThreadedStore made here is this kit's to close: its threads, not your store.
        owned = opened is not store
    context = Context(
        store=opened,
        runner=Runner(opened),
        mailer=as_async_mailer(mailer),
        clock=clock if clock is not None else SystemClock(),
        passwords=password_hasher if password_hasher is not None else PasswordHasher(),
        settings=settings if settings is not None else Settings(),
        templates=templates,
        keys=keys,
        links=links,
        signer=signer,
    )
    return context, owned
