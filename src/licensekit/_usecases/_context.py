"""The context every group of use cases shares: the store, the mailer, the clock, the keys.

:class:`licensekit.LicenseKit` builds one :class:`Context` from its arguments and hands it to
each group of use cases it composes; no group holds state of its own beyond it.
"""

from __future__ import annotations

import os

import attrs

from licensekit._settings import Settings
from licensekit._signer import Signer
from licensekit._usecases import TOKEN_PLACEHOLDER
from licensekit._usecases._runner import Runner
from licensekit.clock import Clock, SystemClock
from licensekit.codes import SecretKeys
from licensekit.exceptions import ValidationError
from licensekit.passwords import PasswordHasher
from licensekit.storage import Store
from licensekit.stores import POSTGRES_SCHEMES, open_store

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy reads it alike
if TYPE_CHECKING:
    # At run time licensekit.mail is imported to check templates given or to make the
    # built-in ones, which a context does when it first needs them (a kit that sends no
    # email never makes them).
    from licensekit.mail import Mailer, Templates

__all__ = ["POSTGRES_SCHEMES", "Context", "Links", "check_arguments", "open_context"]


@attrs.frozen
class Links:
    """The templates of the links licensekit emails, each with ``{token}`` once.

    Attributes:
        join: Join invitations.
        download: Invitations to install (None when the host does not invite installers).
        verify: Email verification (None when the host does not send it).
        reset: Password reset (None when the host does not offer it).
    """

    join: str
    download: str | None = None
    verify: str | None = None
    reset: str | None = None


@attrs.define
class Context:
    """What the use cases work with (see the module docstring).

    One context is shared by every group of one :class:`~licensekit.LicenseKit`; replacing
    a part of it (the mailer, the clock) reaches all of them at once.

    Attributes:
        store: Where records live.
        runner: Opens every transaction over *store*.
        mailer: Delivers emails.
        clock: The source of time.
        passwords: Hashes and checks passwords.
        settings: Lifetimes, limits and throttling.
        keys: Keyed hashes and encryption derived from the host's secret.
        links: The templates of emailed links.
        signer: Signs the certificates installed products get; None: they get none.
        templates: The email texts (see :attr:`templates`); None: licensekit's own.
    """

    store: Store
    runner: Runner
    mailer: Mailer
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

        # Threads racing here each store built-in templates; any of them serves alike.
        self._templates = default_templates()
        return self._templates


def check_arguments(
    store: object, *, links: Links, templates: Templates | None, signer: Signer | None
) -> None:
    """Check the arguments a context is built from that need no store to judge.

    Raises:
        ValidationError: A link template lacks ``{token}`` or holds it twice, *store* is
            neither a store nor a path, *templates* are not Templates, *signer* is not a
            :class:`~licensekit.signing.Signer`.
    """
    for name, url in attrs.asdict(links).items():
        if url is None and name != "join":
            continue
        if not isinstance(url, str) or url.count(TOKEN_PLACEHOLDER) != 1:
            raise ValidationError(
                f"{name}_url must contain {TOKEN_PLACEHOLDER} exactly once", field=f"{name}_url"
            )
    # Anything with transactions is judged as a store (check_store below names what an
    # outdated or incomplete one lacks); anything else is not a store at all.
    if not isinstance(store, str | os.PathLike) and not callable(
        getattr(store, "transaction", None)
    ):
        raise ValidationError(
            f"store must be a Store or the path of a SQLite file, not {type(store).__name__}",
            field="store",
        )
    if templates is not None and not _are_templates(templates):
        raise ValidationError(
            f"templates must be Templates, not {type(templates).__name__}", field="templates"
        )
    if signer is not None and not isinstance(signer, Signer):
        raise ValidationError(
            f"signer must be a licensekit.signing.Signer (key_id, sign, public_keys), not "
            f"{type(signer).__name__}",
            field="signer",
        )


def open_context(
    store: Store | str | os.PathLike[str],
    mailer: Mailer,
    *,
    secret: bytes | str,
    links: Links,
    clock: Clock | None,
    password_hasher: PasswordHasher | None,
    settings: Settings | None,
    templates: Templates | None,
    signer: Signer | None = None,
) -> tuple[Context, bool]:
    """Check :class:`licensekit.LicenseKit`'s arguments and build its context.

    Returns:
        The context, and whether its store was opened here (from a path), and so is the
        caller's to close.

    Raises:
        ValidationError: A link template lacks ``{token}`` or holds it twice, the secret is
            unusable, *store* is neither a store nor a path, *templates* are not Templates,
            *signer* is not a :class:`~licensekit.signing.Signer`.
        IncompatibleStore: The store does not implement this version of the storage port.
        StorageError: The SQLite file or PostgreSQL database named by *store* cannot be
            opened (see :func:`licensekit.stores.open_store`).
    """
    check_arguments(store, links=links, templates=templates, signer=signer)
    keys = SecretKeys(secret)
    # Last, once every argument is known to be good, so a refused call leaves no file open.
    owned = isinstance(store, str | os.PathLike)
    # sqlite3 or psycopg is imported only when a location names its store.
    opened: Store = open_store(store) if isinstance(store, str | os.PathLike) else store
    runner = Runner(opened)
    try:
        runner.check()
    except BaseException:
        if owned:
            opened.close()
        raise
    context = Context(
        store=opened,
        runner=runner,
        mailer=mailer,
        clock=clock if clock is not None else SystemClock(),
        passwords=password_hasher if password_hasher is not None else PasswordHasher(),
        settings=settings if settings is not None else Settings(),
        templates=templates,
        keys=keys,
        links=links,
        signer=signer,
    )
    return context, owned


def _are_templates(value: object) -> bool:
    """Whether *value* is a :class:`~licensekit.mail.Templates` (importing it to ask)."""
    from licensekit.mail import Templates

    return isinstance(value, Templates)
