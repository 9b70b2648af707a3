"""The documented path of :mod:`licensekit.domain.model`, whose public names it re-exports."""

from licensekit.domain.model import *  # noqa: F403
from licensekit.domain.model import __all__ as __all__
