"""Paths the user named: what is at them, and the new files that exports write.

What is there may be nothing, a file, a folder, or a path that cannot be used.

:meth:`pathlib.Path.exists` and its kin raise for a path the system refuses to look at (a
name longer than the file system allows, a loop of symbolic links); the tool answers those with
a one-line refusal like any other.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from licensekit.cli._errors import CommandError
from licensekit.domain._echo import echo_path

__all__ = ["is_folder", "new_output_file", "stat_or_none"]


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


@contextlib.contextmanager
def new_output_file(path: Path) -> Iterator[TextIO]:
    """Create *path* (mode 0600, UTF-8, line ends as written) for an export to write into.

    It is never an existing file, nor reached through a symbolic link. When the block raises,
    the file is removed: a failed export leaves no half of itself behind.

    Raises:
        CommandError: The file exists already or cannot be created.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags, 0o600)
    except FileExistsError:
        raise CommandError(f"{echo_path(path)} exists already; choose another --output") from None
    except OSError as e:
        raise CommandError(f"cannot create {echo_path(path)}: {e.strerror}") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as file:
            yield file
    except BaseException:
        path.unlink(missing_ok=True)
        raise
