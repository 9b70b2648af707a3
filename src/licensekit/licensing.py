"""The documented path of :mod:`licensekit.domain.licensing`, whose public names it re-exports."""

from licensekit.domain.licensing import *  # noqa: F403
from licensekit.domain.licensing import __all__ as __all__
