"""The installed ``licensekit`` script, run as a separate process: exit statuses, standard
error, the progress bar on a real terminal, the demo, and every example of docs/cli.md."""

from __future__ import annotations

import importlib.util
import os
import pty
import re
import runpy
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from _cli_support import ADMIN, ALAN, build_world

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SCRIPT = BIN / "licensekit"
PAGE = ROOT / "docs" / "cli.md"

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="the console script is not installed")


def environment(folder: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no LICENSEKIT_* of the developer's, temporary files in *folder*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSEKIT_")}
    (folder / "tmp").mkdir(exist_ok=True)
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", TMPDIR=str(folder / "tmp"))
    env.update(extra)
    return env


def licensekit(folder: Path, *argv: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own script
        [str(SCRIPT), *argv],
        cwd=folder,
        env=environment(folder, **extra),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_and_version(tmp_path: Path) -> None:
    ran = licensekit(tmp_path, "--help")
    assert ran.returncode == 0
    assert "usage: licensekit" in ran.stdout
    assert licensekit(tmp_path, "installers", "invite", "--help").returncode == 0


@pytest.mark.parametrize("package", ["licensekit.cli", "licensekit"])
def test_python_m_runs_the_tool(monkeypatch: pytest.MonkeyPatch, package: str) -> None:
    """Both ``python -m licensekit.cli`` and ``python -m licensekit`` run the tool."""
    monkeypatch.setattr(sys, "argv", ["licensekit", "--version"])
    spec = importlib.util.find_spec(f"{package}.__main__")
    assert spec is not None
    assert spec.origin is not None
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(spec.origin, run_name="__main__")
    assert exit_.value.code == 0


def test_a_usage_error_ends_with_status_two(tmp_path: Path) -> None:
    ran = licensekit(tmp_path, "keys", "add", "--seats", "many")
    assert ran.returncode == 2
    assert ran.stderr.startswith("usage: licensekit keys add")
    assert "Traceback" not in ran.stderr


def test_a_refusal_is_one_line_on_stderr_with_status_one(tmp_path: Path) -> None:
    build_world(tmp_path / "w")
    ran = licensekit(tmp_path / "w", "members", "list", "--as", ALAN)
    assert ran.returncode == 1
    assert ran.stdout == ""
    assert re.fullmatch(
        r"licensekit: list members .* needs the Account Administrator role\n", ran.stderr
    )
    missing = licensekit(tmp_path, "accounts", "list", "--as", ADMIN)
    assert missing.returncode == 1
    assert missing.stderr.count("\n") == 1
    assert "Traceback" not in missing.stderr


def test_the_demo_exits_zero_within_seconds(tmp_path: Path) -> None:
    started = time.monotonic()
    ran = licensekit(tmp_path, "demo")
    assert ran.returncode == 0, ran.stderr
    assert time.monotonic() - started < 20
    assert "refused (SeatsFull)" in ran.stdout
    assert ran.stderr == ""  # no progress bar in a pipe
    folders = list((tmp_path / "tmp").glob("licensekit-demo-*"))
    assert len(folders) == 1
    assert (folders[0] / "licensekit.db").is_file()


def invite_many(folder: Path, stderr: int) -> tuple[subprocess.Popen[bytes], Path]:
    build_world(folder)
    users = folder / "many.csv"
    users.write_text("".join(f"person{n}@example.com\n" for n in range(60)), encoding="utf-8")
    process = subprocess.Popen(  # noqa: S603 - our own script
        [str(SCRIPT), "installers", "invite", "--csv", str(users), "--as", ALAN],
        cwd=folder,
        env=environment(folder, COLUMNS="80"),
        stdout=subprocess.PIPE,
        stderr=stderr,
    )
    return process, users


def test_the_progress_bar_shows_on_a_terminal(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    try:
        process, _ = invite_many(tmp_path / "w", stderr=terminal)
        os.close(terminal)
        terminal = -1
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closed when the process ended
                break
            if not chunk:
                break
            drawn += chunk
        stdout, _ = process.communicate(timeout=60)
    finally:
        os.close(controller)
        if terminal >= 0:
            os.close(terminal)
    assert process.returncode == 0
    text = drawn.decode()
    assert "\rSending [" in text
    assert "60/60" in text
    assert "25/60" in text
    assert b"60 emails written" in stdout


def test_the_progress_bar_stays_quiet_in_a_pipe(tmp_path: Path) -> None:
    process, _ = invite_many(tmp_path / "w", stderr=subprocess.PIPE)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0
    assert stderr == b""
    assert b"60 emails written" in stdout


# == docs/cli.md, executed ====================================================================


def sessions(page: Path) -> list[tuple[str, list[str]]]:
    """Return each ``$`` command of the page's console blocks with the output lines shown."""
    found: list[tuple[str, list[str]]] = []
    inside = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            inside = line == "```console"
            continue
        if not inside:
            continue
        if line.startswith("$ "):
            found.append((line[2:], []))
        elif found and line.strip():
            found[-1][1].append(line)
    return found


def shown_matches(shown: list[str], actual: str) -> bool:
    """True when the shown lines appear in order in *actual*; ``...`` stands for anything,
    and runs of spaces for any amount of space."""
    lines = iter(actual.splitlines())
    for expected in shown:
        pattern = re.escape(expected.strip()).replace(r"\.\.\.", ".*")
        pattern = re.sub(r"(\\ )+", r"\\s+", pattern)
        if not any(re.fullmatch(pattern, line.strip()) for line in lines):
            return False
    return True


def test_every_command_of_the_cli_page_runs(tmp_path: Path) -> None:
    """Each ``$`` line of docs/cli.md runs in order in one folder, with the environment the
    page sets (``export``), exits 0, and prints what the page shows."""
    commands = sessions(PAGE)
    assert len(commands) >= 20
    env = environment(tmp_path)
    for command, shown in commands:
        if command.startswith("export "):
            name, _, value = command.removeprefix("export ").partition("=")
            env[name] = shlex.split(value)[0]
            continue
        assert command.split()[0] in ("licensekit", "printf"), command
        ran = subprocess.run(  # noqa: S603 - the commands of our own page
            ["bash", "-c", command],  # noqa: S607 - bash from PATH
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert ran.returncode == 0, (command, ran.stdout, ran.stderr)
        assert "Traceback" not in ran.stderr
        assert shown_matches(shown, ran.stdout), (command, shown, ran.stdout)


def test_the_page_matcher_tells_a_mismatch() -> None:
    assert shown_matches(["a ... c", "d"], "x\na b c\nd\n")
    assert not shown_matches(["d", "a ... c"], "a b c\nd\n")
