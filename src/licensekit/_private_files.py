"""Files only their owner may read (the host secret's, the signing keys'), and others.

Such a file is read only if it is a regular file (a FIFO is refused at once, never waited
on), belongs to the user reading it, and its group and others have no right on it at all,
as ssh insists for private keys. It is created with mode 0600 and ``O_EXCL`` (never
overwriting a file, never following a planted link), and replaced through a new file of the
same mode renamed over it, so that a reader never sees half of it.

Each function raises the error class its caller names, with a message naming the file as
*what* (``"secret file"``); a missing file is left to the caller to word. :func:`read_file`
reads files anybody may read too (a certificate), with the same care for FIFOs and size.
:func:`locked` keeps other processes from changing a file while one reads, changes and
replaces it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from licensekit.domain._echo import echo_path

if sys.platform != "win32":
    import fcntl

__all__ = ["create_private_file", "locked", "read_file", "replace_private_file"]


def read_file(
    path: Path, what: str, *, most: int, error: type[Exception], private: bool = True
) -> bytes:
    """Return the content of the file *path*, at most *most* bytes.

    Args:
        path: The file.
        what: What the file is, for the messages (``"secret file"``).
        most: The most bytes it may hold.
        error: The exception class to raise.
        private: Refuse the file unless it is its reader's and only theirs (on POSIX).

    Raises:
        FileNotFoundError: There is no file at *path*.
        error: The file cannot be read, is not a regular file, holds more than *most*
            bytes, or, when *private*, belongs to another user or is readable or writable
            by its group or others.
    """
    try:
        # Not blocking: opening a FIFO would otherwise wait for a writer that may never come.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise
    except OSError as e:
        raise error(f"cannot read the {what} {echo_path(path)}: {e.strerror}") from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode):
        os.close(descriptor)
        raise error(f"the {what} {echo_path(path)} is not a regular file")
    with os.fdopen(descriptor, "rb") as file:
        if private and os.name == "posix":
            _check_private(path, info, what, error)
        try:
            data = file.read(most + 1)
        except OSError as e:  # pragma: no cover - a disk failing between open and read
            raise error(f"cannot read the {what} {echo_path(path)}: {e.strerror}") from None
    if len(data) > most:
        raise error(f"the {what} {echo_path(path)} is too large (more than {most:,} bytes)")
    return data


def _check_private(path: Path, info: os.stat_result, what: str, error: type[Exception]) -> None:
    if info.st_uid != os.geteuid():
        raise error(f"the {what} {echo_path(path)} belongs to another user; it must be yours")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise error(
            f"permissions {mode:04o} for the {what} {echo_path(path)} are too open: others "
            f"could read it; run: chmod 600 {echo_path(path)}"
        )


def create_private_file(path: Path, data: bytes, what: str, *, error: type[Exception]) -> None:
    """Create *path* holding *data*, readable and writable by its owner only.

    Raises:
        error: The file exists already (it is never overwritten), or cannot be created or
            written (nothing is left behind then).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags, 0o600)
    except FileExistsError:
        raise error(f"{echo_path(path)} exists already; it is never overwritten") from None
    except OSError as e:
        raise error(f"cannot create the {what} {echo_path(path)}: {e.strerror}") from None
    try:
        _write(descriptor, data)
    except OSError as e:  # pragma: no cover - a full disk between open and write
        path.unlink(missing_ok=True)
        raise error(f"cannot write the {what} {echo_path(path)}: {e.strerror}") from None


def replace_private_file(path: Path, data: bytes, what: str, *, error: type[Exception]) -> None:
    """Replace the content of *path* with *data* at once: a reader sees the old or the new.

    The new content is written to a file of mode 0600 in the same folder, then renamed over
    *path*.

    Raises:
        error: The new file cannot be written or renamed (*path* is then left as it was).
    """
    try:
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as e:
        raise error(f"cannot write the {what} {echo_path(path)}: {e.strerror}") from None
    try:
        _write(descriptor, data)
        os.replace(temporary, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise error(f"cannot write the {what} {echo_path(path)}: {e.strerror}") from None
    _sync_folder(path.parent)


def _write(descriptor: int, data: bytes) -> None:
    with os.fdopen(descriptor, "wb") as file:
        if os.name == "posix":
            os.fchmod(file.fileno(), 0o600)  # whatever the umask left
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def _sync_folder(folder: Path) -> None:
    """Make a rename in *folder* durable, where the system allows opening a folder."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


@contextlib.contextmanager
def locked(path: Path, what: str, *, error: type[Exception]) -> Iterator[None]:
    """Hold an exclusive lock on *path* for the ``with`` block, waiting for it if need be.

    The lock is taken (``flock``) on the sibling file ``<path>.lock``, created with mode
    0600 and removed when the block ends, so that *path* itself can be replaced while it
    is held. Every process that changes *path* through this lock changes it in turn: none
    of them writes over a change it has not read. Where ``flock`` does not exist (Windows),
    nothing is locked.

    Raises:
        error: The lock file cannot be opened or locked.
    """
    if sys.platform == "win32":  # pragma: no cover - no flock there
        yield
        return
    lock_path = path.with_name(path.name + ".lock")
    descriptor = _lock(lock_path, path, what, error)
    try:
        yield
    finally:
        # Removed before it is unlocked: a process waiting on this file sees, once it has
        # the lock, that the file is gone, and locks a new one (see _lock).
        with contextlib.suppress(OSError):
            os.unlink(lock_path)
        os.close(descriptor)  # which releases the lock


def _lock(lock_path: Path, path: Path, what: str, error: type[Exception]) -> int:
    """Open and lock *lock_path*; return its descriptor, once it is the file at that path."""
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    while True:
        try:
            descriptor = os.open(lock_path, flags, 0o600)
        except OSError as e:
            raise error(f"cannot lock the {what} {echo_path(path)}: {e.strerror}") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            held = os.fstat(descriptor)
            try:
                now = os.stat(lock_path, follow_symlinks=False)
            except FileNotFoundError:
                now = None
        except OSError as e:  # pragma: no cover - a file system without locks
            os.close(descriptor)
            raise error(f"cannot lock the {what} {echo_path(path)}: {e.strerror}") from None
        if now is not None and (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
            return descriptor
        os.close(descriptor)  # the holder before us removed it: lock the new one
