"""The table of the tool's commands: each one's module and the summary its help shows.

Each module below this package holds a command group whole: its options (the argparse
sub-parser it fills in) and its handlers. ``licensekit --help`` is written from this table
alone; ``licensekit COMMAND ...`` imports the module of that command only, and calls its
function ``define_<command>`` (dashes made underscores) with the command's parser and a
:class:`~licensekit.cli._parser.Builder`. The order of the table is the order of the help.

This module imports nothing, so that anything may import it.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["COMMANDS", "CommandInfo", "define_function"]


class CommandInfo(NamedTuple):
    """One command of the table.

    Attributes:
        module: The module that defines the command (imported when the command is given).
        summary: One line for ``licensekit --help``; with a full stop, the command's own
            description.
        group: The command is a group of actions (``licensekit keys add``), whose parser
            takes no option itself; otherwise the command takes the global options.
    """

    module: str
    summary: str
    group: bool = False


COMMANDS: dict[str, CommandInfo] = {
    "init": CommandInfo(
        "licensekit.cli.commands.init", "Create the database and its secret file here"
    ),
    "demo": CommandInfo(
        "licensekit.cli.commands.demo",
        "Play both administrator guide pages end to end, in a new temporary folder",
    ),
    "register": CommandInfo("licensekit.cli.commands.users", "Create a personal account (a user)"),
    "accept": CommandInfo(
        "licensekit.cli.commands.join_invitations",
        "Accept an invitation to join a business account",
    ),
    "verify-email": CommandInfo(
        "licensekit.cli.commands.users",
        "Prove that a personal account's address is its own",
        group=True,
    ),
    "password": CommandInfo(
        "licensekit.cli.commands.users",
        "Change or reset the password of a personal account",
        group=True,
    ),
    "accounts": CommandInfo("licensekit.cli.commands.accounts", "Business accounts", group=True),
    "members": CommandInfo(
        "licensekit.cli.commands.members",
        "Members of a business account and their invitations",
        group=True,
    ),
    "keys": CommandInfo(
        "licensekit.cli.commands.keys", "License keys, seats and License Administrators", group=True
    ),
    "installers": CommandInfo(
        "licensekit.cli.commands.installers",
        "Invitations to install, with activation codes",
        group=True,
    ),
    "activate": CommandInfo(
        "licensekit.cli.commands.product", "Activate a computer, as an installer does"
    ),
    "check-in": CommandInfo(
        "licensekit.cli.commands.product",
        "Check in as an installed copy does, and see where its license stands",
    ),
    "installations": CommandInfo(
        "licensekit.cli.commands.installations", "Activated computers and blocked ones", group=True
    ),
    "signing-key": CommandInfo(
        "licensekit.cli.commands.certificates",
        "The keys that sign certificates, and their public keys for the product",
        group=True,
    ),
    "verify-certificate": CommandInfo(
        "licensekit.cli.commands.certificates",
        "Check a certificate offline, as the installed product does",
    ),
    "lift-lockout": CommandInfo(
        "licensekit.cli.commands.lockouts",
        "Lift the locks on a client, or on log-ins as an email, at once",
    ),
    "audit": CommandInfo("licensekit.cli.commands.audit", "Show an account's audit trail"),
    "mail": CommandInfo(
        "licensekit.cli.commands.mail",
        "Read the emails the file mailer wrote (.eml files)",
        group=True,
    ),
}
"""Every command: its name on the command line, and where and how it is defined."""


def define_function(command: str) -> str:
    """Return the name of the function that defines *command* in its module."""
    return "define_" + command.replace("-", "_")
