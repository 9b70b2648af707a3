"""The ``licensekit`` script, run as a real process, fed what people and terminals really send:
bytes that are not UTF-8 under a strict UTF-8 terminal, a FIFO as the secret file, an empty
file as the database, a date at the end of time, arguments of 120,000 characters, a terminal
that cannot show non-ASCII letters. Every one ends with status 1 or 2 and one line on
standard error, never a traceback, a hang or a file written half-way."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import pytest

from _cli_support import ADMIN, CLI, GRACE, PRODUCT, build_world
from licensekit.cli._app import Console
from licensekit.cli._main import run

BIN = Path(sys.executable).parent
SCRIPT = BIN / "licensekit"
STRICT_UTF8 = {"PYTHONIOENCODING": "utf-8:strict"}

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="the console script is not installed")


@dataclass
class Ran:
    """What one process did; its output as bytes, read leniently for the assertions."""

    status: int
    stdout: bytes
    stderr: bytes

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")


def licensekit(
    folder: Path, *argv: str | bytes, stdin: bytes = b"", timeout: float = 60, **env: str
) -> Ran:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LICENSEKIT_")}
    environ.update(PATH=f"{BIN}{os.pathsep}{environ.get('PATH', '')}")
    environ.update({**STRICT_UTF8, **env})
    done = subprocess.run(  # noqa: S603 - our own script
        [os.fsencode(SCRIPT), *argv],
        cwd=folder,
        env=environ,
        input=stdin,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def assert_refused(ran: Ran, status: int = 1) -> str:
    """The process ended with *status* and one line on standard error; return that line."""
    assert ran.status == status, ran
    assert "Traceback" not in ran.err, ran.err
    lines = [line for line in ran.err.splitlines() if line.startswith("licensekit: ")]
    assert len(lines) == 1, ran.err
    return lines[0]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with an administrator, an account, a key and two members, to copy."""
    return build_world(tmp_path_factory.mktemp("cli-world") / "w").folder


@pytest.fixture
def folder(world: Path, tmp_path: Path) -> Path:
    """A copy of the world's folder for one test (its database, secret and mail)."""
    copy = tmp_path / "w"
    subprocess.run(["cp", "-a", str(world), str(copy)], check=True)  # noqa: S603, S607
    return copy


# == bytes that are not UTF-8 under a strict UTF-8 terminal ================================


def test_an_argument_that_is_not_utf8_is_a_usage_error_under_a_strict_terminal(
    folder: Path,
) -> None:
    before = licensekit(folder, "members", "invitations", "--json", "--as", ADMIN).stdout
    ran = licensekit(folder, "members", "invite", b"\xff@example.com", "--json", "--as", ADMIN)
    line = assert_refused(ran, status=2)
    assert "argument 3" in line
    assert "not valid UTF-8" in line
    assert ran.stdout == b""
    assert licensekit(folder, "members", "invitations", "--json", "--as", ADMIN).stdout == before


def test_an_export_to_a_path_that_is_not_utf8_writes_no_file(folder: Path) -> None:
    licensekit(folder, "installers", "invite", GRACE, "--key", PRODUCT, "--as", ADMIN)
    ran = licensekit(
        folder, "installers", "export", "--key", PRODUCT, "--output", b"\xfd.csv", "--as", ADMIN
    )
    assert_refused(ran, status=2)
    assert b"\xfd.csv" not in os.listdir(os.fsencode(folder))


def test_an_export_whose_file_cannot_be_created_leaves_no_file(folder: Path) -> None:
    licensekit(folder, "installers", "invite", GRACE, "--key", PRODUCT, "--as", ADMIN)
    target = folder / "no-such-folder" / "codes.csv"
    ran = licensekit(
        folder, "installers", "export", "--key", PRODUCT, "--output", str(target), "--as", ADMIN
    )
    assert "cannot create" in assert_refused(ran)
    assert not target.parent.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ("keys", "add", "--product", "Other", "--seats", "1", "--value-stdin"),
        ("register", "new@example.com", "--password-stdin"),
    ],
    ids=["key value", "password"],
)
def test_a_secret_on_standard_input_that_is_not_utf8_is_refused(
    folder: Path, argv: tuple[str, ...]
) -> None:
    ran = licensekit(folder, *argv, "--as", ADMIN, stdin=b"KEY-\xff-VALUE\n")
    assert "standard input is not UTF-8" in assert_refused(ran)
    keys = licensekit(folder, "keys", "list", "--json", "--as", ADMIN).out
    assert [k["product"] for k in json.loads(keys)] == [PRODUCT]


def test_a_secret_on_standard_input_with_a_surrogate_escape_is_refused_by_the_library(
    folder: Path,
) -> None:
    """With an error handler that lets the byte in, the library's own check refuses it."""
    ran = licensekit(
        folder,
        *("keys", "add", "--product", "Other", "--seats", "1", "--value-stdin", "--as", ADMIN),
        stdin=b"KEY-\xff-VALUE\n",
        PYTHONIOENCODING="utf-8:surrogateescape",
    )
    assert "license key value must be valid Unicode text" in assert_refused(ran)


def test_an_environment_variable_that_is_not_utf8_is_a_usage_error(folder: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LICENSEKIT_")}
    environ.update(STRICT_UTF8, PATH=f"{BIN}{os.pathsep}{environ.get('PATH', '')}")
    environb = {os.fsencode(k): os.fsencode(v) for k, v in environ.items()}
    environb[b"LICENSEKIT_ACCOUNT"] = b"Example \xe9 Corp"
    done = subprocess.run(  # noqa: S603 - our own script
        [str(SCRIPT), "keys", "list", "--as", ADMIN],
        cwd=folder,
        env=environb,  # type: ignore[arg-type]
        capture_output=True,
        timeout=60,
        check=False,
    )
    line = assert_refused(Ran(done.returncode, done.stdout, done.stderr), status=2)
    assert "LICENSEKIT_ACCOUNT is not valid UTF-8" in line


# == the secret file, the database file =====================================================


def test_a_fifo_as_the_secret_file_is_refused_at_once(folder: Path) -> None:
    fifo = folder / "secret.fifo"
    os.mkfifo(fifo, 0o600)
    ran = licensekit(folder, "--secret-file", str(fifo), "members", "list", "--as", ADMIN)
    assert "is not a regular file" in assert_refused(ran)


def test_a_command_on_an_empty_file_leaves_it_empty(tmp_path: Path) -> None:
    """docs/cli.md: a mistyped --db never becomes a database, not even an empty file."""
    licensekit(tmp_path, "init")
    empty = tmp_path / "e.db"
    empty.touch()
    for argv in (("members", "list", "--as", ADMIN), ("register", "a@example.com")):
        ran = licensekit(tmp_path, "--db", "e.db", "--secret-file", "licensekit.secret", *argv)
        line = assert_refused(ran)
        assert "holds no licensekit database yet" in line
        assert "licensekit init" in line
        assert empty.read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("e.")) == ["e.db"]


def test_init_makes_a_database_of_an_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.db").touch()
    ran = licensekit(tmp_path, "init", "--db", "e.db", "--json")
    assert ran.status == 0, ran
    assert json.loads(ran.out)["database_created"] is True
    registered = licensekit(
        tmp_path, "--db", "e.db", "register", ADMIN, "--password-stdin", stdin=b"long passphrase"
    )
    assert registered.status == 0, registered


# == dates and lengths ========================================================================


@pytest.mark.parametrize("expires", ["9999-12-31T23:00-05:00", "0001-01-01T00:30+01:00"])
def test_an_expiry_beyond_the_utc_calendar_is_refused(folder: Path, expires: str) -> None:
    ran = licensekit(
        *(folder, "keys", "add", "--product", "Other", "--seats", "1", "--value-stdin"),
        *("--expires", expires, "--as", ADMIN),
        stdin=b"OTHER-KEY",
    )
    assert "outside the years 1 to 9999" in assert_refused(ran)


HUGE = "x" * 120_000
LONG = "y" * 4_000  # within what an option may take: the message still quotes a prefix
LONGEST_LINE = 400


@pytest.mark.parametrize(
    "argv",
    [
        ("members", "invite", HUGE, "--as", ADMIN),
        ("keys", "show", HUGE, "--as", ADMIN),
        ("members", "role", HUGE, "--role", "admin", "--as", ADMIN),
        ("members", "role", GRACE, "--role", HUGE, "--as", ADMIN),
        ("activate", "--code", HUGE, "--computer-id", "pc-1"),
        ("--db", HUGE, "members", "list"),
        ("no-such-command-" + HUGE,),
        ("keys", "show", LONG, "--as", ADMIN),
        ("members", "show", LONG, "--as", ADMIN),
        ("members", "show", LONG + "@example.com", "--as", ADMIN),
        ("installations", "deactivate", LONG, "--as", ADMIN),
        ("members", "revoke", LONG, "--as", ADMIN),
        ("activate", "--code", LONG, "--computer-id", "pc-1"),
        ("keys", "change", "--expires", LONG, "--as", ADMIN),
        ("--secret-file", LONG, "members", "list", "--as", ADMIN),
        ("--db", LONG, "members", "list", "--as", ADMIN),
        ("accounts", "list", "--as", LONG),
        ("keys", "list", "--account", LONG, "--as", ADMIN),
    ],
    ids=lambda argv: " ".join(a[:12] for a in argv),
)
def test_a_huge_argument_comes_back_as_a_short_quote(folder: Path, argv: tuple[str, ...]) -> None:
    ran = licensekit(folder, *argv)
    assert ran.status in (1, 2), ran
    assert "Traceback" not in ran.err
    assert max(len(line) for line in ran.err.splitlines()) < LONGEST_LINE, ran.err[:2000]


# == a terminal that cannot show every letter ==============================================


def test_names_beyond_the_terminals_encoding_are_escaped_not_a_traceback(folder: Path) -> None:
    created = licensekit(folder, "accounts", "create", "Zoë & Łukasz GmbH", "--as", ADMIN)
    assert created.status == 0, created
    ascii_only = {"PYTHONIOENCODING": "ascii:strict"}
    table = licensekit(folder, "accounts", "list", "--as", ADMIN, **ascii_only)
    assert table.status == 0, table
    assert "Zo\\xeb & \\u0141ukasz GmbH" in table.out
    listed = licensekit(folder, "accounts", "list", "--json", "--as", ADMIN, **ascii_only)
    assert listed.status == 0, listed
    names = [a["account_name"] for a in json.loads(listed.stdout.decode("ascii"))]
    assert "Zoë & Łukasz GmbH" in names


# == the same in this process, through the tool's own streams ================================


@pytest.fixture
def cli(world: Path, tmp_path: Path) -> CLI:
    """The world's copy, driven in this process (see tests/_cli_support.py)."""
    return CLI(world).copy(tmp_path / "in-process")


def strict_stream(data: bytes = b"", encoding: str = "utf-8") -> io.TextIOWrapper:
    """A text stream over bytes with strict encoding, as a terminal set so hands one over."""
    return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors="strict")


def run_with(cli: CLI, *argv: str, stdin: TextIO, stdout: TextIO) -> tuple[int, str]:
    err = io.StringIO()
    console = Console(stdin, stdout, err, cli.env)
    return run(list(argv), console), err.getvalue()


def test_in_process_an_argument_that_is_not_utf8_is_a_usage_error(cli: CLI) -> None:
    ran = cli.usage("members", "invite", "\udcff@example.com", "--as", ADMIN)
    assert "argument 3 ('\\udcff@example.com') is not valid UTF-8 text" in ran.err


def test_in_process_an_overlong_argument_is_a_usage_error_quoting_a_prefix(cli: CLI) -> None:
    ran = cli.usage("keys", "show", HUGE, "--as", ADMIN)
    assert "(120,000 characters)) is longer than any option takes (4,096" in ran.err
    assert max(len(line) for line in ran.err.splitlines()) < LONGEST_LINE


def test_in_process_a_variable_that_is_not_utf8_is_a_usage_error(cli: CLI) -> None:
    ran = cli.usage("keys", "list", "--as", ADMIN, env={"LICENSEKIT_ACCOUNT": "Example \udce9"})
    assert "LICENSEKIT_ACCOUNT is not valid UTF-8 text" in ran.err


def test_in_process_standard_input_that_is_not_utf8_is_refused(cli: CLI) -> None:
    status, err = run_with(
        cli,
        *("keys", "add", "--product", "Other", "--seats", "1", "--value-stdin", "--as", ADMIN),
        stdin=strict_stream(b"KEY-\xff\n"),
        stdout=io.StringIO(),
    )
    assert status == 1
    assert err == "licensekit: standard input is not UTF-8 text; nothing was changed\n"


def test_in_process_a_path_too_long_to_look_at_is_one_line(cli: CLI, tmp_path: Path) -> None:
    for argv in (
        ("--db", "y" * 300, "members", "list", "--as", ADMIN),
        ("--db", str(tmp_path / ("y" * 300) / "kit.db"), "init"),
        ("--mail-dir", "m" * 300, "mail", "list"),
        ("demo", "--db", str(tmp_path / ("d" * 300))),
    ):
        assert "File name too long" in cli.refused(*argv).err


def test_in_process_an_empty_database_file_is_refused_and_left_empty(cli: CLI) -> None:
    empty = cli.folder / "e.db"
    empty.touch()
    secret = str(cli.folder / "licensekit.secret")
    ran = cli.refused("--db", str(empty), "--secret-file", secret, "members", "list", "--as", ADMIN)
    assert "'licensekit init' makes a database of an empty file" in ran.err
    assert empty.read_bytes() == b""


def test_in_process_a_fifo_secret_file_is_refused(cli: CLI) -> None:
    fifo = cli.folder / "secret.fifo"
    os.mkfifo(fifo, 0o600)
    ran = cli.refused("--secret-file", str(fifo), "members", "list", "--as", ADMIN)
    assert "is not a regular file" in ran.err


def test_in_process_output_the_terminal_cannot_encode_is_escaped(cli: CLI) -> None:
    cli.ok("accounts", "create", "Zoë GmbH", "--as", ADMIN)
    table = strict_stream(encoding="ascii")
    argv = ("accounts", "list", "--as", ADMIN)
    assert run_with(cli, *argv, stdin=io.StringIO(), stdout=table)[0] == 0
    table.flush()
    assert "Zo\\xeb GmbH" in table.buffer.getvalue().decode("ascii")  # type: ignore[attr-defined]
    document = strict_stream(encoding="ascii")
    assert run_with(cli, *argv, "--json", stdin=io.StringIO(), stdout=document)[0] == 0
    document.flush()
    listed = json.loads(document.buffer.getvalue().decode("ascii"))  # type: ignore[attr-defined]
    assert "Zoë GmbH" in [a["account_name"] for a in listed]
