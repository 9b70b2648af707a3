"""``licensekit demo``: both administrator guide pages, the product's side and additional keys.

The two pages of the guide come first, then the installed product's side. The tour runs in a
new folder: every step is a real ``licensekit`` command line, shown as a person would type it
and run in this process on a real SQLite database, with the real file mailer. Links and codes
are read back from the ``.eml`` files and the exported CSV, and refusals are the library's
exceptions, caught and shown.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import shlex
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any, TextIO

from licensekit.cli._app import DEFAULTS, App, Console
from licensekit.cli._database import parse_database
from licensekit.cli._errors import EXIT_OK, CommandError
from licensekit.cli._files import is_folder, stat_or_none
from licensekit.cli._mailbox import find_link, read_folder
from licensekit.cli._main import execute
from licensekit.cli._parser import Builder, Parser
from licensekit.domain._echo import echo_path
from licensekit.exceptions import PermissionDenied, SeatsFull
from licensekit.mail import MessageKind

__all__ = ["define_demo", "demo"]

ADMIN = "ida@example.com"
GRACE = "grace@example.com"
ALAN = "alan@example.com"
ACCOUNT = "Example Corp"
PRODUCT = "Desktop Pro"
PASSWORDS = {
    ADMIN: "ida's long passphrase",
    GRACE: "grace's own passphrase",
    ALAN: "alan chose this passphrase",
}
USERS_CSV = """email
ann@example.com
bob@example.com

cy@example.com
BOB@example.com
dee@example.com
eve@example.com
not-an-address
fay@example.com
gus@example.com
hal@example.com
"""
# Who activates, in this order, and how: with the link's token or a typed code.
ACTIVATIONS = [
    ("ann", "token"),
    ("bob", "code"),
    ("cy", "token"),
    ("dee", "code"),
    ("eve", "token"),
    ("fay", "code"),
]
_WIDTH = 92
# The default link template (a key of DEFAULTS) of the emails that carry a link.
_LINK_TEMPLATES = {
    MessageKind.JOIN_INVITATION: "join_url",
    MessageKind.INSTALL_INVITATION: "download_url",
    MessageKind.EMAIL_VERIFICATION: "verify_url",
    MessageKind.PASSWORD_RESET: "reset_url",
}


def define_demo(parser: Parser, b: Builder) -> None:
    """Define ``licensekit demo``: it takes the global options only (``--db`` among them)."""
    b.handle(parser, demo)


def demo(app: App, args: argparse.Namespace) -> int:
    """Play both seed pages end to end in a new folder (or beside ``--db``), and keep it."""
    given = getattr(args, "db", None)
    if given is not None:
        if not isinstance(parse_database(given), Path):
            raise CommandError(
                "the demo plays on a new SQLite file: pass --db a path, not a PostgreSQL URI"
            )
        db = Path(given).absolute()
        if stat_or_none(db) is not None:
            raise CommandError(f"the demo needs a new database, and {echo_path(db)} exists")
        if not is_folder(db.parent):
            raise CommandError(f"the folder of {echo_path(db)} does not exist")
    else:
        db = Path(tempfile.mkdtemp(prefix="licensekit-demo-")) / "licensekit.db"
    started = time.perf_counter()
    with contextlib.chdir(db.parent):
        _Tour(db, app.console).play()
    elapsed = time.perf_counter() - started
    out = app.console.stdout
    out.write(
        f"\nDone in {elapsed:.1f} s. Everything is in {db.parent}: the database, its secret "
        f"and signing keys, users.csv, invitations.csv, the emails and the copy kept in "
        f"gus-laptop. Remove the folder when you are done.\n"
    )
    return EXIT_OK


class _Indented(io.StringIO):
    """A stream that writes to *target* with *prefix* before every line."""

    def __init__(self, target: TextIO, prefix: str) -> None:
        super().__init__()
        self._target = target
        self._prefix = prefix
        self._at_start = True

    def write(self, text: str) -> int:
        for piece in text.splitlines(keepends=True):
            if self._at_start:
                self._target.write(self._prefix)
            self._target.write(piece)
            self._at_start = piece.endswith("\n")
        return len(text)

    def flush(self) -> None:
        self._target.flush()


class _Tour:
    def __init__(self, db: Path, console: Console) -> None:
        self.db = db
        self.folder = db.parent
        self.out = console.stdout
        self.err = console.stderr
        # Nothing from the caller's environment: the demo never sends real mail.
        self.env = {} if db.name == "licensekit.db" else {"LICENSEKIT_DB": db.name}
        self.mail_dir = self.folder / (db.stem + "-mail")
        self.number = 0

    # -- presentation -----------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def heading(self, text: str) -> None:
        self.say()
        self.say(text)
        self.say("=" * len(text))

    def step(self, text: str) -> None:
        self.number += 1
        self.say()
        self.say(
            textwrap.fill(text, _WIDTH, initial_indent=f"{self.number}. ", subsequent_indent="   ")
        )

    def note(self, text: str) -> None:
        self.say(textwrap.fill(text, _WIDTH, initial_indent="   ", subsequent_indent="   "))

    def run(self, *argv: str, stdin: str = "", typed: str = "the password") -> None:
        """Show and run one command line; a refusal is raised as the library's exception."""
        shown = "licensekit " + shlex.join(argv)
        if stdin:
            shown += f"   # {typed} comes on standard input"
        self.say(f"   $ {shown}")
        console = Console(
            io.StringIO(stdin + "\n" if stdin else ""),
            _Indented(self.out, "     "),
            self.err,
            self.env,
        )
        status = execute(argv, console)
        if status != EXIT_OK:  # pragma: no cover - every step succeeds or raises
            raise CommandError(f"the demo stopped: '{shown}' ended with status {status}")

    # -- the guide --------------------------------------------------------------------------

    def play(self) -> None:
        self.say("licensekit demo: the two pages of the administrator guide, played with the")
        self.say("real commands on a new SQLite database.")
        self.say()
        self.say(f"   $ cd {shlex.quote(str(self.folder))}")
        for name, value in self.env.items():
            self.say(f"   $ export {name}={shlex.quote(value)}")
        self.join_business_account()
        self.invite_to_install()
        self.installed_copy()
        self.additional_keys()

    def join_business_account(self) -> None:
        self.heading("Part 1. Inviting users to join a business account")
        self.step("A new database and its host secret (a file only you can read).")
        self.run("init")
        self.step(
            "Ida, the IT administrator, registers. Anyone could type her address, so her "
            "account stays unproven until she opens the link emailed to it, typing her "
            "password there (a password someone else set would stop working)."
        )
        self.run(
            "register", ADMIN, "--name", "Ida Admin", "--password-stdin", stdin=PASSWORDS[ADMIN]
        )
        self.run("verify-email", "send", "--as", ADMIN)
        self.run(
            "verify-email",
            "confirm",
            self.link(ADMIN, MessageKind.EMAIL_VERIFICATION),
            "--password-stdin",
            stdin=PASSWORDS[ADMIN],
        )
        self.step(
            f"Proven, Ida creates the business account {ACCOUNT!r} and adds a 5-seat license key."
        )
        self.run("accounts", "create", ACCOUNT, "--as", ADMIN)
        self.run(
            "keys",
            "add",
            "--product",
            PRODUCT,
            "--seats",
            "5",
            "--value-stdin",
            "--as",
            ADMIN,
            stdin="PDPRO-4F7K-29XQ-MB3T-7HWD",
            typed="the key's value",
        )
        self.step(
            "Grace already has a personal account, whose address was checked when she signed "
            "up; Alan has none."
        )
        self.run(
            "register",
            GRACE,
            "--name",
            "Grace Hopper",
            "--verified",
            "--password-stdin",
            stdin=PASSWORDS[GRACE],
        )
        self.step("Ida invites both of them, with English emails that expire in 7 days.")
        self.run(
            "members", "invite", GRACE, ALAN, "--language", "en", "--expires", "7d", "--as", ADMIN
        )
        self.step(
            "Each opens the link in their email (read here from the .eml file). Grace gives "
            "her current password; Alan chooses one, and his personal account is created."
        )
        for email, extra in ((GRACE, ()), (ALAN, ("--name", "Alan Turing"))):
            link = self.link(email, MessageKind.JOIN_INVITATION)
            self.run("accept", link, *extra, "--password-stdin", stdin=PASSWORDS[email])
        self.step("The Business Account Users list: both joined as Regular Members.")
        self.run("members", "list", "--as", ADMIN)
        self.step("Ida promotes Grace to Account Administrator, with a note.")
        self.run(
            "members",
            "role",
            GRACE,
            "admin",
            "--notes",
            "IT lead of the Berlin office",
            "--as",
            ADMIN,
        )
        self.note(
            "Each command of this tool is a new log-in, so Grace acts as an administrator "
            "from her next command on."
        )
        self.step(f"Ida makes Alan License Administrator of the {PRODUCT} key.")
        self.run("keys", "grant", PRODUCT, ALAN, "--as", ADMIN)
        self.run("members", "list", "--as", GRACE)
        self.step("Alan may invite installers for that key, but not change it:")
        try:
            self.run("keys", "change", PRODUCT, "--seats", "50", "--as", ALAN)
        except PermissionDenied as e:
            self.say(f"     refused ({type(e).__name__}): {e}")
        else:  # pragma: no cover - the library's rule changed
            raise CommandError("the demo expected a refusal: a License Administrator changed a key")
        self.step(
            "Alan forgets his password. The reset link goes to his address only, works once "
            "within 30 minutes, and signs him out everywhere."
        )
        self.run("password", "forgot", ALAN)
        self.run(
            "password",
            "reset",
            self.link(ALAN, MessageKind.PASSWORD_RESET),
            "--password-stdin",
            stdin="alan's second passphrase",
            typed="the new password",
        )

    def invite_to_install(self) -> None:
        self.heading("Part 2. Inviting users to install")
        csv_path = self.folder / "users.csv"
        csv_path.write_text(USERS_CSV, encoding="utf-8")
        self.step(
            "Alan's users.csv: 8 people, with a header, a blank line, a repeated address "
            "and a typo."
        )
        for text in USERS_CSV.splitlines():
            self.say(f"     | {text}")
        self.step(
            "Alan invites them to install, with English emails whose codes expire in 7 days. "
            "8 invitations for 5 seats is allowed: first come, first served."
        )
        self.run(
            "installers",
            "invite",
            "--csv",
            "users.csv",
            "--language",
            "en",
            "--expires",
            "7d",
            "--no-send",
            "--as",
            ALAN,
        )
        self.step("Before sending, he downloads the invitations as CSV, then sends them.")
        self.run("installers", "export", "--output", "invitations.csv", "--as", ALAN)
        exported = (self.folder / "invitations.csv").read_text(encoding="utf-8")
        for text in exported.splitlines()[:3]:
            self.say(f"     | {text}")
        self.say("     | ...")
        self.run("installers", "send", "--as", ALAN)
        codes = {
            row["email"]: row["temporary_activation_code"]
            for row in csv.DictReader(io.StringIO(exported))
        }
        self.step("The email Ann receives (its code is not the license key):")
        ann = self.letter("ann@example.com", MessageKind.INSTALL_INVITATION)
        for text in ann.splitlines():
            self.say(f"     > {text}".rstrip())
        self.step(
            "Six computers activate: some by themselves with the token of their download "
            "link, others with the code typed by hand from the exported CSV. Five get a seat; "
            "the sixth is refused, as every seat is taken."
        )
        for number, (person, how) in enumerate(ACTIVATIONS, start=1):
            self.activate(person, how, number, codes)
        self.step("The installations of the key.")
        self.run("installations", "list", "--as", ALAN)
        self.step("Alan deactivates Ann's laptop, and Fay's laptop tries again.")
        self.run("installations", "deactivate", "SN-0001", "--as", ALAN)
        self.activate("fay", "code", 6, codes)
        self.run("installations", "list", "--as", ALAN)
        self.step("The audit trail of the business account.")
        self.run("audit", "--as", GRACE)
        self.step(f"The emails, as .eml files in {self.mail_dir}:")
        self.run("mail", "list")

    def installed_copy(self) -> None:
        self.heading("Part 3. The installed product's side")
        self.step(
            "The service makes a signing key, apart from its secret. Products are built with "
            "its public key, and check their certificates offline with it."
        )
        self.run("signing-key", "create")
        self.run("signing-key", "public", "--json")
        self.step(
            "Ida buys a sixth seat, gives the key a 30-day grace period after its expiry, and "
            "frees the seats of copies silent for 14 days."
        )
        self.run(
            "keys",
            "change",
            PRODUCT,
            "--seats",
            "6",
            "--expires",
            "2099-12-31",
            "--grace",
            "30d",
            "--cull-after",
            "14d",
            "--as",
            ADMIN,
        )
        self.step(
            "Gus's computer activates and keeps, as the installed copy does, its installation "
            "token and the certificate it was given."
        )
        way = ("--token", self.link("gus@example.com", MessageKind.INSTALL_INVITATION))
        self.run("activate", *way, "--computer-id", "SN-0007", "--keep", "gus-laptop")
        self.step("Offline, the copy checks its certificate: signature, computer and lease.")
        self.run("verify-certificate", "gus-laptop/certificate", "--computer-id", "SN-0007")
        self.step("It checks in, as it does every day: all is well, and a new certificate.")
        self.run("check-in", "--keep", "gus-laptop")
        self.step(
            "Ida suspends the key. The next check-in says so and gives no new certificate: "
            "the copy must stop, and one that stays offline stops when its lease ends."
        )
        self.run("keys", "suspend", PRODUCT, "--as", ADMIN)
        self.run("check-in", "--keep", "gus-laptop")
        self.step("She resumes it, and the copy runs again from its next check-in.")
        self.run("keys", "resume", PRODUCT, "--as", ADMIN)
        self.run("check-in", "--keep", "gus-laptop")
        self.step(
            "The host's scheduled job culls the copies that stopped checking in (none has "
            "been silent for 14 days yet)."
        )
        self.run("installations", "cull")

    def additional_keys(self) -> None:
        self.heading("Part 4. Additional keys")
        self.step(
            "Ida buys four more seats, then hands out additional keys instead of the primary "
            "one: two seats reserved for the lab, and a sales key whose computers take seats "
            "from the primary's pool, first come, first served, at most three."
        )
        self.run("keys", "change", PRODUCT, "--seats", "10", "--as", ADMIN)
        self.run(
            "keys",
            "add-additional",
            PRODUCT,
            "--seats",
            "2",
            "--pool",
            "reserved",
            "--value-stdin",
            "--as",
            ADMIN,
            stdin="PDPRO-LABS-2Q7M-K4XD",
            typed="the lab key's value",
        )
        self.run(
            "keys",
            "add-additional",
            PRODUCT,
            "--seats",
            "3",
            "--pool",
            "dynamic",
            "--value-stdin",
            "--as",
            ADMIN,
            stdin="PDPRO-SALES-8H3W-T6NB",
            typed="the sales key's value",
        )
        self.step(
            "The seat pool, counted as the guide counts it: the reserved seats are no longer "
            "available to the primary key or the sales key."
        )
        self.run("keys", "pool", PRODUCT, "--as", ADMIN)
        keys = self.quiet_json("keys", "list", "--as", ADMIN, "--json")
        lab = next(k["id"] for k in keys if k.get("seat_pool") == "reserved")
        self.step(
            "Alan administers the primary key, so he manages its additional keys too: he "
            "invites Hal to install with the lab key, and Hal's computer activates."
        )
        self.run(
            "installers", "invite", "hal@example.com", "--key", lab, "--expires", "7d", "--as", ALAN
        )
        way = ("--token", self.link("hal@example.com", MessageKind.INSTALL_INVITATION))
        self.run("activate", *way, "--computer-id", "SN-0008", "--computer-name", "hal-laptop")
        self.run("keys", "pool", PRODUCT, "--as", ADMIN)
        self.step(
            "A leak, or a department that leaves: Ida removes the sales key, which no computer "
            "used, and its claim on the pool ends with it."
        )
        sales = next(k["id"] for k in keys if k.get("seat_pool") == "dynamic")
        self.run("keys", "remove", sales, "--as", ADMIN)

    def quiet_json(self, *argv: str) -> Any:
        """Run one command line unseen and return what it printed as JSON."""
        out = io.StringIO()
        status = execute(argv, Console(io.StringIO(), out, self.err, self.env))
        if status != EXIT_OK:  # pragma: no cover - every step succeeds
            raise CommandError(f"the demo stopped: {shlex.join(argv)} ended with status {status}")
        return json.loads(out.getvalue())

    def activate(self, person: str, how: str, number: int, codes: dict[str, str]) -> None:
        email = f"{person}@example.com"
        computer = ("--computer-id", f"SN-{number:04}", "--computer-name", f"{person}-laptop")
        if how == "token":
            way = ("--token", self.link(email, MessageKind.INSTALL_INVITATION))
        else:
            way = ("--code", codes[email].lower().replace("-", " "))  # as a person types it
        try:
            self.run("activate", *way, *computer)
        except SeatsFull as e:
            self.say(f"     refused ({type(e).__name__}): {e}")

    # -- the mail folder ---------------------------------------------------------------------

    def letter(self, email: str, kind: MessageKind) -> str:
        found = [m for m in read_folder(self.mail_dir) if m.to == email and m.kind == kind.value]
        if not found:  # pragma: no cover - the mailer wrote nothing
            raise CommandError(f"no {kind.value} email to {email} in {echo_path(self.mail_dir)}")
        return found[-1].text

    def link(self, email: str, kind: MessageKind) -> str:
        found = find_link(self.letter(email, kind), DEFAULTS[_LINK_TEMPLATES[kind]])
        if found is None:  # pragma: no cover - the templates changed
            raise CommandError(f"no link in the {kind.value} email to {email}")
        return found
