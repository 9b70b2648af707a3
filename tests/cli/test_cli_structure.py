"""How the command-line package is built: commands imported lazily, no import cycle, small
modules.

Each command group is a module of ``licensekit.cli.commands``, listed in the table
``COMMANDS``; ``licensekit COMMAND`` must import that module alone, and ``licensekit --help``
none of them. What a command line imports is read from ``sys.modules`` in a fresh interpreter,
since this one has imported everything already.
"""

from __future__ import annotations

import argparse
import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import licensekit.cli
from licensekit.cli._parser import LazyCommands, Parser, build_parser
from licensekit.cli.commands import COMMANDS, define_function

PACKAGE = Path(licensekit.cli.__file__).parent
COMMAND_MODULES = "licensekit.cli.commands."
MOST_MODULE_LINES = 800
MOST_CLASS_LINES = 400

# One fresh interpreter prepares what every case shares, then forks a child per case: each
# child starts as a new interpreter would at that point (in a tenth of the time) and prints
# one line of JSON, the result of run(case) or the exception it raised.
FORKS = """\
import json, os, sys
{prepare}
assert not [m for m in sys.modules if m.startswith({untouched!r})], "imported too early"
for case in json.loads(sys.argv[1]):
    pid = os.fork()
    if pid == 0:
        try:
            result = run(case)
        except BaseException as error:
            result = {{"error": repr(error)}}
        sys.__stdout__.write(json.dumps(result) + "\\n")
        sys.__stdout__.flush()
        os._exit(0)
    os.waitpid(pid, 0)
"""

# Runs a command line, its output thrown away: its status and the command modules it imported.
RUN_COMMAND = """\
import contextlib, io
from licensekit.cli import main

def run(argv):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        status = main(argv)
    loaded = sorted(m for m in sys.modules if m.startswith("licensekit.cli.commands."))
    return {"status": status, "loaded": loaded}
"""

# Imports one module of the tool, after the library's package (which Python imports first).
IMPORT_MODULE = """\
import importlib
import licensekit

def run(name):
    importlib.import_module(name)
    return {"imported": name}
"""


def _forked(prepare: str, untouched: str, cases: list[object]) -> list[dict[str, object]]:
    script = FORKS.format(prepare=prepare, untouched=untouched)
    ran = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", script, json.dumps(cases)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    results = [json.loads(line) for line in ran.stdout.splitlines()]
    assert len(results) == len(cases), ran.stderr
    return results


def _run(*command_lines: list[str]) -> list[dict[str, object]]:
    return _forked(RUN_COMMAND, COMMAND_MODULES, list(command_lines))


def _short(modules: object) -> set[str]:
    assert isinstance(modules, list)
    return {m.removeprefix(COMMAND_MODULES) for m in modules}


# == lazy commands ============================================================================


def test_the_help_lists_every_command_without_importing_one() -> None:
    assert _run(["--help"]) == [{"status": 0, "loaded": []}]
    help_text = build_parser().format_help()
    for name, info in COMMANDS.items():
        assert name in help_text
        assert info.summary.split()[0] in help_text


# The command modules each command line imports: its own, and for ``members`` the module of
# the invitations to join, whose actions the group holds.
EXPECTED = {
    name: {info.module.removeprefix(COMMAND_MODULES)} for name, info in COMMANDS.items()
} | {"members": {"members", "join_invitations"}}


def test_each_command_imports_its_own_module_only() -> None:
    found = dict(zip(EXPECTED, _run(*([n, "--help"] for n in EXPECTED)), strict=True))
    assert {name: found[name]["status"] for name in EXPECTED} == dict.fromkeys(EXPECTED, 0)
    assert {name: _short(found[name]["loaded"]) for name in EXPECTED} == EXPECTED


def test_carrying_out_a_command_imports_no_other(tmp_path: Path) -> None:
    """Past the parser, the handler too needs its own module alone (here it is refused)."""
    missing = str(tmp_path / "none.db")
    found, wrong = _run(["keys", "list", "--db", missing, "--as", "ida@example.com"], ["nonsense"])
    assert found["status"] == 1
    assert _short(found["loaded"]) == {"keys"}
    assert wrong == {"status": 2, "loaded": []}


def _complete_all() -> tuple[Parser, LazyCommands]:
    parser = build_parser()
    top = next(a for a in parser._actions if isinstance(a, LazyCommands))
    for name in COMMANDS:
        top.complete(name)
    return parser, top


def _has_actions(parser: argparse.ArgumentParser) -> bool:
    return any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)


def test_the_table_matches_the_modules() -> None:
    """Every entry names a module that defines it, as a group or a command, as it says; every
    module of the package is named by an entry."""
    _, top = _complete_all()
    for name, info in COMMANDS.items():
        parser = top.choices[name]
        assert isinstance(parser, Parser)
        assert _has_actions(parser) is info.group, name
        assert (parser.get_default("handler") is None) is info.group, name
        assert parser.description == info.summary + "."
    modules = {f"{COMMAND_MODULES}{m.name}" for m in pkgutil.iter_modules([PACKAGE / "commands"])}
    assert {info.module for info in COMMANDS.values()} == modules
    for name, info in COMMANDS.items():
        assert callable(getattr(sys.modules[info.module], define_function(name)))


def test_a_command_is_completed_once() -> None:
    parser, top = _complete_all()
    before = len(top.choices["keys"]._actions)
    top.complete("keys")
    parser.parse_known_args(["keys", "list"])
    assert len(top.choices["keys"]._actions) == before


# == imports ==================================================================================


def _modules() -> list[str]:
    return sorted(
        ["licensekit.cli"]
        + [m.name for m in pkgutil.walk_packages([str(PACKAGE)], prefix="licensekit.cli.")]
    )


def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    """Importing any one module first works: none leans on another having been imported."""
    names = _modules()
    results = _forked(IMPORT_MODULE, "licensekit.cli", list(names))
    assert results == [{"imported": name} for name in names]


def _path_of(module: str) -> Path:
    parts = module.split(".")[2:]
    folder = PACKAGE.joinpath(*parts)
    return folder / "__init__.py" if folder.is_dir() else folder.with_suffix(".py")


def _imports(module: str, known: set[str]) -> set[str]:
    """Return the modules of *known* that *module* imports, wherever the import stands.

    Imports in function bodies and under ``if TYPE_CHECKING:`` count too, so that no cycle
    can hide there. The package imports by absolute names only.
    """
    tree = ast.parse(_path_of(module).read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"a relative import in {module}"
            base = node.module or ""
            found.update(
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            )
    return found & known


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """Return one cycle of *graph* as the path that closes it, or an empty list."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return []


def test_no_import_cycle_among_the_modules() -> None:
    known = set(_modules())
    graph = {m: _imports(m, known) - {m} for m in known}
    assert _cycle(graph) == []
    # The walk sees the imports that matter: the entry point's chain, and the demo's own.
    assert "licensekit.cli._parser" in graph["licensekit.cli._main"]
    assert "licensekit.cli.commands" in graph["licensekit.cli._parser"]
    assert "licensekit.cli._main" in graph["licensekit.cli.commands.demo"]


def test_the_cycle_finder_finds_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_the_tool_imports_no_private_use_case_module() -> None:
    """The tool uses the library's public API, and its text and private-file helpers; never a
    use case."""
    allowed = {"licensekit._echo", "licensekit._text", "licensekit._private_files"}
    private = {
        f"licensekit.{m.name}"
        for m in pkgutil.iter_modules([str(PACKAGE.parent)])
        if m.name.startswith("_")
    }
    used = {module: _imports(module, private) - allowed for module in _modules()}
    assert {m: names for m, names in used.items() if names} == {}


# == sizes ====================================================================================


@pytest.mark.parametrize("module", _modules())
def test_modules_and_classes_stay_small(module: str) -> None:
    source = _path_of(module).read_text(encoding="utf-8")
    assert len(source.splitlines()) <= MOST_MODULE_LINES
    classes = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ClassDef)]
    too_long = {
        c.name: size
        for c in classes
        if (size := (c.end_lineno or c.lineno) - c.lineno + 1) > MOST_CLASS_LINES
    }
    assert too_long == {}
