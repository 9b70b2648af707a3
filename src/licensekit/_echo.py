"""Bounded echoes of caller input, for messages: see :mod:`licensekit.domain._echo`."""

from licensekit.domain._echo import MOST, PATH_MOST, echo, echo_path

__all__ = ["MOST", "PATH_MOST", "echo", "echo_path"]
