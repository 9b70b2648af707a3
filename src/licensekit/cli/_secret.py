"""The host secret of the command-line tool: where it comes from, and how it is kept.

The secret is 32 random bytes or more, written as hexadecimal digits. It comes from the
environment variable ``LICENSEKIT_SECRET`` when that is set, and otherwise from a file (by
default beside the database) that only its owner may read, as ssh insists for private keys.
``licensekit init`` creates that file with mode 0600, never replacing one that exists.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from licensekit.cli._errors import CommandError
from licensekit.codes import MIN_SECRET_BYTES
from licensekit.domain._echo import echo_path

__all__ = ["create_secret_file", "parse_secret", "read_secret_file"]

_MAX_FILE_BYTES = 4096
_NEW_SECRET_BYTES = 32


def parse_secret(text: str, origin: str) -> bytes:
    """Return the secret written as hexadecimal digits in *text* (from *origin*).

    Raises:
        CommandError: The text is not hexadecimal, or holds fewer than 32 bytes.
    """
    digits = "".join(text.split())
    try:
        secret = bytes.fromhex(digits)
    except ValueError:
        raise CommandError(
            f"the host secret in {origin} must be hexadecimal digits "
            "(make one with: python3 -c 'import secrets; print(secrets.token_hex(32))')"
        ) from None
    if len(secret) < MIN_SECRET_BYTES:
        raise CommandError(
            f"the host secret in {origin} is {len(secret)} bytes long; at least "
            f"{MIN_SECRET_BYTES} bytes ({2 * MIN_SECRET_BYTES} hexadecimal digits) are needed"
        )
    return secret


def read_secret_file(path: Path) -> bytes:
    """Read the secret from *path*, refusing a file that others could read.

    Raises:
        CommandError: The file is missing or unreadable, not a regular file (a FIFO, a
            folder, a device), readable by its group or by others, owned by another user, or
            does not hold a valid secret.
    """
    try:
        # Not blocking: opening a FIFO would otherwise wait for a writer that may never come.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise CommandError(
            f"no host secret: {echo_path(path)} does not exist; run 'licensekit init', or set "
            "LICENSEKIT_SECRET_FILE or LICENSEKIT_SECRET"
        ) from None
    except OSError as e:
        raise CommandError(f"cannot read the secret file {echo_path(path)}: {e.strerror}") from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode):
        os.close(descriptor)
        raise CommandError(f"the secret file {echo_path(path)} is not a regular file")
    with os.fdopen(descriptor, "rb") as file:
        if os.name == "posix":
            _check_private(path, info)
        try:
            data = file.read(_MAX_FILE_BYTES + 1)
        except OSError as e:  # pragma: no cover - a disk failing between open and read
            raise CommandError(
                f"cannot read the secret file {echo_path(path)}: {e.strerror}"
            ) from None
    if len(data) > _MAX_FILE_BYTES:
        raise CommandError(f"the secret file {echo_path(path)} is too large to be a secret")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        text = "?"  # refused as not hexadecimal below
    return parse_secret(text, repr(str(path)))


def _check_private(path: Path, info: os.stat_result) -> None:
    if info.st_uid != os.geteuid():
        raise CommandError(
            f"the secret file {echo_path(path)} belongs to another user; it must be yours"
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise CommandError(
            f"permissions {mode:04o} for the secret file {echo_path(path)} are too open: others "
            f"could read it; run: chmod 600 {echo_path(path)}"
        )


def create_secret_file(path: Path) -> None:
    """Create *path* holding a new random secret, readable and writable by its owner only.

    The file is created with ``O_EXCL``, so an existing file (or a symbolic link planted
    there) is never overwritten or followed.

    Raises:
        CommandError: The file exists already or cannot be created.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags, 0o600)
    except FileExistsError:
        raise CommandError(f"{echo_path(path)} exists already; it is never overwritten") from None
    except OSError as e:
        raise CommandError(
            f"cannot create the secret file {echo_path(path)}: {e.strerror}"
        ) from None
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            if os.name == "posix":
                os.fchmod(file.fileno(), 0o600)  # whatever the umask left
            file.write(secrets.token_hex(_NEW_SECRET_BYTES) + "\n")
            file.flush()
            os.fsync(file.fileno())
    except OSError as e:  # pragma: no cover - a full disk between open and write
        path.unlink(missing_ok=True)
        raise CommandError(
            f"cannot write the secret file {echo_path(path)}: {e.strerror}"
        ) from None
