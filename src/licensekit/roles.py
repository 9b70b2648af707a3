"""The documented path of :mod:`licensekit.domain.roles`, whose public names it re-exports."""

from licensekit.domain.roles import *  # noqa: F403
from licensekit.domain.roles import __all__ as __all__
