"""The command-line tool's own errors, beside licensekit's.

Every error a user can cause ends the command with a one-line reason on standard error and
an exit status: :class:`CommandError` and every :class:`licensekit.LicenseKitError` give 1
(a refused operation), :class:`UsageError` gives 2 (the command line itself is wrong).
"""

from __future__ import annotations

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "CommandError",
    "UsageError",
]

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class CommandError(Exception):
    """The command cannot be carried out: a missing file, an unusable secret, a bad CSV."""

    exit_status = EXIT_REFUSED


class UsageError(CommandError):
    """The command line is wrong: a missing or contradictory option, an ambiguous name.

    Args:
        message: What is wrong.
        usage: The usage line of the command concerned, printed before the message.
    """

    exit_status = EXIT_USAGE

    def __init__(self, message: str, usage: str = "") -> None:
        super().__init__(message)
        self.usage = usage
