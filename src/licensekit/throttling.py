"""The documented path of :mod:`licensekit.domain.throttling`, whose public names it re-exports."""

from licensekit.domain.throttling import *  # noqa: F403
from licensekit.domain.throttling import __all__ as __all__
