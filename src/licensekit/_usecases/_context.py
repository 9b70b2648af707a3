"""The context every group of use cases shares: the store, the mailer, the clock, the keys.

:class:`licensekit.LicenseKit` builds one :class:`Context` from its arguments and hands it to
each group of use cases it composes; no group holds state of its own beyond it.
"""

from __future__ import annotations

import attrs

from licensekit._results import Settings
from licensekit._usecases._runner import Runner
from licensekit.clock import Clock
from licensekit.codes import SecretKeys
from licensekit.mail import Mailer, Templates
from licensekit.passwords import PasswordHasher
from licensekit.storage import Store

__all__ = ["Context", "Links"]


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

    Mutable on purpose: a host may replace :class:`licensekit.LicenseKit`'s ``mailer``,
    ``clock``, ``passwords``, ``settings`` or ``templates`` after construction (the
    documentation does so), and the facade passes the new value on here.

    Attributes:
        store: Where records live.
        runner: Opens every transaction over *store*.
        mailer: Delivers emails.
        clock: The source of time.
        passwords: Hashes and checks passwords.
        settings: Lifetimes, limits and throttling.
        templates: The email texts.
        keys: Keyed hashes and encryption derived from the host's secret.
        links: The templates of emailed links.
    """

    store: Store
    runner: Runner
    mailer: Mailer
    clock: Clock
    passwords: PasswordHasher
    settings: Settings
    templates: Templates
    keys: SecretKeys = attrs.field(repr=False)
    links: Links
