"""Running a command line: parse, dispatch, and turn every refusal into an exit status."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from licensekit.cli._app import App, Console
from licensekit.cli._database import NO_TABLES_YET
from licensekit.cli._errors import (
    EXIT_INTERRUPTED,
    EXIT_REFUSED,
    EXIT_USAGE,
    CommandError,
    UsageError,
)
from licensekit.cli._options import check_arguments
from licensekit.cli._parser import Handler, ParserExit, build_parser
from licensekit.exceptions import IncompatibleStore, LicenseKitError, StorageError

__all__ = ["execute", "main", "run"]


def execute(argv: Sequence[str], console: Console) -> int:
    """Run one command line and return its exit status; refusals are raised, not caught.

    Raises:
        ParserExit: ``--help`` or ``--version`` was given.
        UsageError: The command line is wrong, or holds an argument that is not UTF-8 text.
        CommandError: The command cannot be carried out.
        LicenseKitError: The library refused the operation.
    """
    check_arguments(argv)
    args = build_parser().parse_args(list(argv))
    app = App(args, console)
    try:
        handler: Handler = args.handler
        return handler(app, args)
    finally:
        app.close()


def run(argv: Sequence[str], console: Console) -> int:
    """Run one command line; print any refusal as one line on standard error.

    Returns:
        0 on success, 1 when the operation was refused or failed (the library's
        :class:`~licensekit.LicenseKitError` and the tool's own refusals), 2 for a usage
        error, 130 when interrupted.
    """
    err = console.stderr
    try:
        return execute(argv, console)
    except ParserExit as e:
        return e.status
    except UsageError as e:
        if e.usage:
            err.write(e.usage)
        err.write(f"licensekit: error: {_one_line(e)}\n")
        return EXIT_USAGE
    except (CommandError, LicenseKitError) as e:
        err.write(f"licensekit: {_one_line(e)}{_hint(e)}\n")
        return EXIT_REFUSED
    except KeyboardInterrupt:
        err.write("\nlicensekit: interrupted\n")
        return EXIT_INTERRUPTED


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``licensekit`` command line (*argv* without the program name) on this process.

    Returns:
        The exit status; the console script passes it to :func:`sys.exit`.
    """
    try:
        return run(sys.argv[1:] if argv is None else argv, Console.system())
    except BrokenPipeError:  # the reader went away (``licensekit audit | head``)
        _silence_stdout()
        return EXIT_REFUSED


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # pragma: no cover - no real stdout
        pass


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__


def _hint(error: BaseException) -> str:
    if isinstance(error, StorageError) and "host secret" in str(error):
        return " (is LICENSEKIT_SECRET, or the secret file, the one this database was made with?)"
    if isinstance(error, IncompatibleStore) and "no licensekit database yet" in str(error):
        return " (is --db right? 'licensekit init' makes a database of an empty file)"
    if isinstance(error, IncompatibleStore) and NO_TABLES_YET in str(error):
        return " (are --db and its ?schema= right? 'licensekit init' makes the tables)"
    return ""
