"""The command line's parser: the commands of the table, each filled in only when given.

:func:`build_parser` adds every command of :data:`~licensekit.cli.commands.COMMANDS` as an
empty parser holding its summary, which is all ``licensekit --help`` shows. When argparse
reaches the command's name, :class:`LazyCommands` imports the command's module and lets it add
its options, actions and handlers to that parser, then parses the rest as usual: a command
line imports one command module, and the help and errors are argparse's own.
"""

from __future__ import annotations

import argparse
import functools
import importlib
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Any, NoReturn, TypeAlias, cast

from licensekit.cli._app import App
from licensekit.cli._errors import UsageError
from licensekit.cli._options import add_global_options
from licensekit.cli.commands import COMMANDS, CommandInfo, define_function

__all__ = [
    "Actions",
    "Builder",
    "Define",
    "Handler",
    "LazyCommands",
    "Parser",
    "ParserExit",
    "build_parser",
]

Handler = Callable[[App, argparse.Namespace], int]
"""A command's handler: it prints the result and returns the exit status."""

DESCRIPTION = """\
Administer software licenses over a licensekit SQLite database: business accounts,
members and roles, license keys and seats, invitations to join and to install,
activations, installations and the audit trail.

Start with 'licensekit init', or watch 'licensekit demo'."""

EPILOG = """\
Commands that act on a business account run as the user named by --as (or LICENSEKIT_AS),
with that user's rights. Exit status: 0 success, 1 refused (the reason is on standard
error), 2 usage error, 130 interrupted. See docs/cli.md."""


class ParserExit(Exception):
    """The parser finished the command by itself (``--help``, ``--version``).

    Args:
        status: The exit status.
    """

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class Parser(argparse.ArgumentParser):
    """An argument parser that raises instead of exiting the process."""

    def error(self, message: str) -> NoReturn:
        """Raise the usage error *message*, with this parser's usage line."""
        raise UsageError(message, usage=self.format_usage())

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        """Raise :class:`ParserExit` where argparse would end the process."""
        if message:  # pragma: no cover - argparse passes none once error() is replaced
            self._print_message(message)
        raise ParserExit(status)


if TYPE_CHECKING:
    Actions: TypeAlias = argparse._SubParsersAction[Parser]
    _SubParsers = argparse._SubParsersAction[Parser]
else:
    Actions = argparse._SubParsersAction
    _SubParsers = argparse._SubParsersAction


class LazyCommands(_SubParsers):
    """The sub-parsers of the commands, each completed when its command is given.

    argparse calls this action with the command's name and the arguments that follow it;
    the command's definition, deferred by :meth:`defer`, runs first, once.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deferred: dict[str, Callable[[], None]] = {}

    def defer(self, name: str, define: Callable[[], None]) -> None:
        """Run *define* to fill in the parser of command *name* when the command is given."""
        self._deferred[name] = define

    def complete(self, name: str) -> None:
        """Fill in the parser of command *name* now, if it is not yet."""
        define = self._deferred.pop(name, None)
        if define is not None:
            define()

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        """Complete the command named first in *values*, then parse its arguments."""
        if isinstance(values, list) and values:
            self.complete(str(values[0]))
        super().__call__(parser, namespace, values, option_string)


class Builder:
    """Adds actions to the commands, with the global options and a handler.

    Args:
        common: The parser holding the global options, a parent of every command's.
    """

    def __init__(self, common: Parser) -> None:
        self.common = common

    @staticmethod
    def actions(group: Parser) -> Actions:
        """Give the command *group* its actions (``licensekit GROUP ACTION``), one required."""
        return group.add_subparsers(dest="action", metavar="ACTION", required=True)

    @staticmethod
    def handle(parser: Parser, handler: Handler, *, account: bool = False) -> Parser:
        """Make *handler* carry out *parser*'s command; with *account*, add ``--account``."""
        parser.set_defaults(handler=handler)
        if account:
            parser.add_argument(
                "--account",
                metavar="NAME_OR_ID",
                help="the business account (LICENSEKIT_ACCOUNT; may be left out when the "
                "acting user belongs to one account only)",
            )
        return parser

    def command(
        self,
        actions: Actions,
        name: str,
        handler: Handler,
        summary: str,
        *,
        account: bool = False,
    ) -> Parser:
        """Add the action *name* to a group; it takes the global options.

        Args:
            actions: The group's actions (from :meth:`actions`).
            name: The action's name.
            handler: What carries it out.
            summary: Its line in the group's help; with a full stop, its description.
            account: It acts on a business account, chosen with ``--account``.
        """
        parser = actions.add_parser(
            name, parents=[self.common], help=summary, description=summary + "."
        )
        return self.handle(parser, handler, account=account)


Define = Callable[[Parser, Builder], None]
"""A command module's ``define_<command>``: fills in the command's parser."""


def build_parser() -> Parser:
    """Return the parser of the whole command line, its commands to be filled in when given."""
    common = Parser(add_help=False)
    add_global_options(common)
    builder = Builder(common)
    parser = Parser(
        prog="licensekit",
        description=DESCRIPTION,
        epilog=EPILOG,
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"licensekit {_version()}")
    top = cast(
        LazyCommands,
        parser.add_subparsers(
            dest="command", metavar="COMMAND", required=True, action=LazyCommands
        ),
    )
    for name, info in COMMANDS.items():
        command = top.add_parser(
            name,
            parents=[] if info.group else [common],
            help=info.summary,
            description=info.summary + ".",
        )
        top.defer(name, functools.partial(_define, name, info, command, builder))
    return parser


def _define(name: str, info: CommandInfo, parser: Parser, builder: Builder) -> None:
    """Import the module of command *name* and let it fill in *parser*."""
    module = importlib.import_module(info.module)
    define = cast(Define, getattr(module, define_function(name)))
    define(parser, builder)


def _version() -> str:
    try:
        return metadata.version("licensekit-admin")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a bare checkout
        return "unknown"
