"""TRANSITIONAL: :func:`throttle_guess` for ``_licensing``, which still imports it from here.

Lifting locks moved to :mod:`licensekit._usecases.lockouts` and the guess throttle to
:mod:`licensekit._usecases._throttle`; this module goes when ``_licensing`` has moved.
"""

from __future__ import annotations

from licensekit._usecases._throttle import throttle_guess

__all__ = ["throttle_guess"]
