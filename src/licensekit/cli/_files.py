"""What is at a path the user named: nothing, a file, a folder, or a path that cannot be used.

:meth:`pathlib.Path.exists` and its kin raise for a path the system refuses to look at (a
name longer than the file system allows, a loop of symbolic links); the tool answers those with
a one-line refusal like any other.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from licensekit.cli._errors import CommandError
from licensekit.domain._echo import echo_path

__all__ = ["is_folder", "stat_or_none"]


def stat_or_none(path: Path) -> os.stat_result | None:
    """Return what is at *path* (following links), or None when nothing is.

    Raises:
        CommandError: The path cannot be looked at; the message says why.
    """
    try:
        return path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        raise CommandError(f"cannot use {echo_path(path)}: {e.strerror}") from None


def is_folder(path: Path) -> bool:
    """True when *path* is a folder (or a link to one).

    Raises:
        CommandError: The path cannot be looked at.
    """
    found = stat_or_none(path)
    return found is not None and stat.S_ISDIR(found.st_mode)
