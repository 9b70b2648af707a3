"""Helpers for the command-line tool's tests: run command lines in this process, and a
ready-made database (an administrator, an account, a 5-seat key, two members) to copy."""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from licensekit.cli._app import Console
from licensekit.cli._main import run

ADMIN = "ida@example.com"
GRACE = "grace@example.com"
ALAN = "alan@example.com"
PASSWORDS = {
    ADMIN: "ida's long passphrase",
    GRACE: "grace's own passphrase",
    ALAN: "alan chose this passphrase",
}
ACCOUNT = "Example Corp"
PRODUCT = "Desktop Pro"
KEY_VALUE = "PDPRO-4F7K-29XQ-MB3T-7HWD"


@dataclass
class Ran:
    """What one command line did."""

    status: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class FakeTerminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@dataclass
class CLI:
    """Runs ``licensekit`` command lines in this process, on the database in *folder*."""

    folder: Path
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.env.setdefault("LICENSEKIT_DB", str(self.db))

    @property
    def db(self) -> Path:
        return self.folder / "licensekit.db"

    @property
    def mail_dir(self) -> Path:
        return self.folder / "licensekit-mail"

    def run(
        self,
        *argv: object,
        stdin: str = "",
        env: dict[str, str] | None = None,
        stderr: io.StringIO | None = None,
    ) -> Ran:
        out, err = io.StringIO(), stderr if stderr is not None else io.StringIO()
        console = Console(io.StringIO(stdin), out, err, {**self.env, **(env or {})})
        status = run([str(a) for a in argv], console)
        return Ran(status, out.getvalue(), err.getvalue())

    def ok(self, *argv: object, stdin: str = "", env: dict[str, str] | None = None) -> Ran:
        ran = self.run(*argv, stdin=stdin, env=env)
        assert ran.status == 0, ran
        return ran

    def refused(self, *argv: object, stdin: str = "", env: dict[str, str] | None = None) -> Ran:
        """Run a command that must be refused: status 1, one line on standard error."""
        ran = self.run(*argv, stdin=stdin, env=env)
        assert ran.status == 1, ran
        assert ran.err.startswith("licensekit: "), ran
        assert ran.err.count("\n") == 1, ran
        assert "Traceback" not in ran.err
        return ran

    def usage(self, *argv: object, stdin: str = "", env: dict[str, str] | None = None) -> Ran:
        ran = self.run(*argv, stdin=stdin, env=env)
        assert ran.status == 2, ran
        assert "licensekit: error: " in ran.err, ran
        return ran

    def link(self, to: str) -> str:
        return self.ok("mail", "show", "--to", to, "--link").out.strip()

    def code(self, to: str) -> str:
        return self.ok("mail", "show", "--to", to, "--code").out.strip()

    def copy(self, folder: Path) -> CLI:
        shutil.copytree(self.folder, folder)
        return CLI(folder)


def build_world(folder: Path) -> CLI:
    """Make the usual starting point: Ida administers Example Corp, which holds a 5-seat key;
    Grace (who had a personal account) and Alan (who had none) joined; Alan is License
    Administrator of the key."""
    folder.mkdir(parents=True, exist_ok=True)
    cli = CLI(folder)
    cli.ok("init")
    cli.ok(
        "register",
        ADMIN,
        "--name",
        "Ida Admin",
        "--verified",
        "--password-stdin",
        stdin=PASSWORDS[ADMIN],
    )
    cli.ok("register", GRACE, "--verified", "--password-stdin", stdin=PASSWORDS[GRACE])
    cli.ok("accounts", "create", ACCOUNT, "--as", ADMIN)
    cli.ok(
        "keys",
        "add",
        "--product",
        PRODUCT,
        "--seats",
        5,
        "--value-stdin",
        "--as",
        ADMIN,
        stdin=KEY_VALUE,
    )
    cli.ok("members", "invite", GRACE, ALAN, "--as", ADMIN)
    cli.ok("accept", cli.link(GRACE), "--password-stdin", stdin=PASSWORDS[GRACE])
    cli.ok("accept", cli.link(ALAN), "--name", "Alan", "--password-stdin", stdin=PASSWORDS[ALAN])
    cli.ok("keys", "grant", PRODUCT, ALAN, "--as", ADMIN)
    return cli
