"""How long a certificate may be valid: the bounds, the default and the check of a lease.

Documented and imported as members of :mod:`licensekit.domain.certificates`, which re-exports
them and sets :func:`check_lease`'s ``__module__`` to its own name. They live here because
the settings check their lease with them when a kit is made, which must not cost the claims,
their JSON form and the records behind them.
"""

from __future__ import annotations

import datetime as dt

from licensekit.domain._echo import echo
from licensekit.exceptions import ValidationError

__all__ = ["DEFAULT_LEASE", "MAX_LEASE", "MIN_LEASE", "check_lease"]

DEFAULT_LEASE = dt.timedelta(days=7)
MIN_LEASE = dt.timedelta(hours=1)
MAX_LEASE = dt.timedelta(days=90)

_LEASE_BOUNDS = f"{MIN_LEASE // dt.timedelta(hours=1)} hour to {MAX_LEASE.days} days"


def check_lease(lease: object) -> dt.timedelta:
    """Return *lease* if a certificate may be valid for that long.

    Example:
        >>> import datetime as dt
        >>> check_lease(dt.timedelta(days=7))
        datetime.timedelta(days=7)

    Raises:
        ValidationError: *lease* is not a timedelta between :data:`MIN_LEASE` and
            :data:`MAX_LEASE` (``field`` is ``"lease"``).
    """
    if not isinstance(lease, dt.timedelta) or not MIN_LEASE <= lease <= MAX_LEASE:
        raise ValidationError(
            f"lease must be a timedelta of {_LEASE_BOUNDS}, got {echo(lease)}",
            field="lease",
        )
    return lease
