"""The documented path of :mod:`licensekit.domain.members`, whose public names it re-exports."""

from licensekit.domain.members import *  # noqa: F403
from licensekit.domain.members import __all__ as __all__
