"""The host secret of the command-line tool: where it comes from, and how it is kept.

The secret is 32 random bytes or more, written as hexadecimal digits. It comes from the
environment variable ``LICENSEKIT_SECRET`` when that is set, and otherwise from a file (by
default beside the database) that only its owner may read, as ssh insists for private keys.
``licensekit init`` creates that file with mode 0600, never replacing one that exists.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from licensekit._private_files import create_private_file, read_file
from licensekit.cli._errors import CommandError
from licensekit.codes import MIN_SECRET_BYTES
from licensekit.domain._echo import echo_path

__all__ = ["create_secret_file", "parse_secret", "read_secret_file"]

_MAX_FILE_BYTES = 4096
_WHAT = "secret file"
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
        data = read_file(path, _WHAT, most=_MAX_FILE_BYTES, error=CommandError)
    except FileNotFoundError:
        raise CommandError(
            f"no host secret: {echo_path(path)} does not exist; run 'licensekit init', or set "
            "LICENSEKIT_SECRET_FILE or LICENSEKIT_SECRET"
        ) from None
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        text = "?"  # refused as not hexadecimal below
    return parse_secret(text, repr(str(path)))


def create_secret_file(path: Path) -> None:
    """Create *path* holding a new random secret, readable and writable by its owner only.

    The file is created with ``O_EXCL``, so an existing file (or a symbolic link planted
    there) is never overwritten or followed.

    Raises:
        CommandError: The file exists already or cannot be created.
    """
    data = (secrets.token_hex(_NEW_SECRET_BYTES) + "\n").encode("ascii")
    create_private_file(path, data, _WHAT, error=CommandError)
