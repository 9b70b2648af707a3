"""The use cases, one module per group, over one shared context.

Most modules here are generated from their async source in :mod:`licensekit.aio._usecases`
by ``scripts/unasync.py`` (their first line says so): edit the source, then run the script.
Written here by hand: the modules without I/O (``_checks``, ``_scopes``) and this flavour's
plumbing (``_context``, ``_offload``).

Rules of this layer:

* A group of use cases is a class over a :class:`~licensekit._usecases._context.Context`
  (and the shared helpers it needs: :class:`~licensekit._usecases._access.Access`,
  :class:`~licensekit._usecases._delivery.Delivery`). It keeps no state of its own.
* Every transaction opens through the context's
  :class:`~licensekit._usecases._runner.Runner`: ``ctx.runner.run(work, *scopes)``, which
  retries a busy store; ``ctx.runner.transaction(*scopes)`` only for a block that must not
  run twice. A transaction locks the scopes it changes (``"account:<id>"``...) before it
  reads what it decides on.
* Decisions belong to the pure rules (:mod:`licensekit.members`, :mod:`licensekit.licensing`,
  :mod:`licensekit.roles`, :mod:`licensekit.throttling`); a use case loads what they need,
  calls them, and writes what they return.
* Slow work (password hashing, tokens, encryption) happens before the transaction, mail
  after it commits. CPU-bound work goes through ``offload``, which the async flavour runs
  in a worker thread.
* Groups import the pure rules, the storage port, and this package's private helpers; stores
  never import this package. :class:`licensekit.LicenseKit` composes the groups and
  delegates each public method to one of them.
"""

__all__ = ["TOKEN_PLACEHOLDER"]

TOKEN_PLACEHOLDER = "{token}"  # noqa: S105 - a template field, not a secret
"""What a link template holds where the token goes.

Here, not only in :mod:`licensekit._usecases._checks`, so that a kit being made checks its
link templates without loading the checks of the use cases' arguments (and the email
parsing behind them); :mod:`licensekit._usecases._checks` gives the same value.
"""
