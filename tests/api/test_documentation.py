"""Every Python example in README.md and docs/ runs, and every docstring example passes."""

from __future__ import annotations

import asyncio
import doctest
import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest

import licensekit

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _pages() -> list[Path]:
    """Return README.md and every Markdown page of docs/, in subfolders too.

    Folders whose names start with ``_`` or ``.`` (``_build``, ``_static``...) hold build
    output or assets, not pages.
    """
    pages = (
        p
        for p in DOCS.rglob("*.md")
        if not any(part.startswith(("_", ".")) for part in p.relative_to(DOCS).parts)
    )
    return [ROOT / "README.md", *sorted(pages)]


DOCUMENTS = _pages()
BLOCK = re.compile(r"^```(python|pycon)\n(.*?)^```", re.DOTALL | re.MULTILINE)
FENCE = re.compile(r"^(`{3,}|~{3,})(.*)$")
EXECUTED = {"python", "pycon"}
DOCTEST_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
# Pages that explain without examples: the API reference is generated from docstrings (whose
# examples test_docstring_examples_pass runs), the index pages only link, and the CLI page is
# made of shell sessions, which the CLI's own tests run.
WITHOUT_EXAMPLES = {"docs/cli.md"}


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def code_blocks(path: Path) -> list[tuple[str, str]]:
    """Return the (language, code) of each python or pycon block of *path*, in order."""
    return BLOCK.findall(path.read_text(encoding="utf-8"))


def fence_infos(path: Path) -> list[str]:
    """Return the info string of every fenced block that opens in *path*, in order."""
    infos: list[str] = []
    closing: str | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = FENCE.match(line)
        if closing is None:
            if match:
                closing = match.group(1)
                infos.append(match.group(2).strip())
        elif match and match.group(1).startswith(closing) and not match.group(2).strip():
            closing = None
    return infos


def _needs_examples(path: Path) -> bool:
    name = _name(path)
    return not (
        name in WITHOUT_EXAMPLES or name.startswith("docs/reference/") or path.name == "index.md"
    )


def test_the_documents_have_examples() -> None:
    """The glob finds the pages, and every page that teaches by example has examples."""
    names = {_name(p) for p in DOCUMENTS}
    assert {"README.md", "docs/quickstart.md", "docs/security.md"} <= names
    assert any(n.startswith("docs/concepts/") for n in names)
    assert any(n.startswith("docs/howto/") for n in names)
    assert not any("/_build/" in n for n in names)
    without = [_name(p) for p in DOCUMENTS if _needs_examples(p) and not code_blocks(p)]
    assert without == []
    assert sum(len(code_blocks(p)) for p in DOCUMENTS) >= 50


@pytest.mark.parametrize("path", DOCUMENTS, ids=_name)
def test_python_examples_are_fenced_so_that_they_run(path: Path) -> None:
    """A block marked ``py``, ``Python`` or ``{code-block} python`` would silently not run."""
    hidden = [
        info
        for info in fence_infos(path)
        if info not in EXECUTED and re.search(r"(?i)\bpy|python", info)
    ]
    assert hidden == []


@pytest.mark.parametrize("path", DOCUMENTS, ids=_name)
def test_document_examples_run(path: Path) -> None:
    """A page's blocks run in order in one namespace, as a reader would type them.

    ``python`` blocks must run without error; ``pycon`` blocks are doctests whose printed
    output and exceptions must match what the page shows.
    """
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem.replace('-', '_')}"}
    runner = doctest.DocTestRunner(optionflags=DOCTEST_FLAGS)
    for number, (language, block) in enumerate(code_blocks(path), start=1):
        name = f"{_name(path)}[block {number}]"
        if language == "pycon":
            test = doctest.DocTestParser().get_doctest(block, namespace, name, str(path), 0)
            runner.run(test, clear_globs=False)
            namespace.update(test.globs)  # DocTest works on a copy; later blocks see its names
            continue
        exec(compile(block, name, "exec"), namespace)  # noqa: S102 - our own documentation
    assert runner.failures == 0
    for key, value in namespace.items():
        if key.startswith("test_") and callable(value):
            _call_with_fixtures(value)  # a test function shown on the page must pass too


# A page may show a storage adapter and the contract suite run on it: a class whose name
# starts with Test and whose base is one of the suite's classes. Such a page is run by pytest
# too, its python blocks joined into one test module, so the suite passes on what it shows.
CONTRACT_CLASS = re.compile(r"^class (Test\w*)\(\w*Contract\):", re.MULTILINE)


def _python_source(path: Path) -> str:
    return "\n\n".join(code for language, code in code_blocks(path) if language == "python")


CONTRACT_PAGES = [p for p in DOCUMENTS if CONTRACT_CLASS.search(_python_source(p))]


def test_the_adapter_guide_runs_the_contract_suite() -> None:
    assert [_name(p) for p in CONTRACT_PAGES] == ["docs/howto/storage-adapter.md"]


@pytest.mark.parametrize("path", CONTRACT_PAGES, ids=_name)
def test_contract_suites_shown_on_a_page_pass(path: Path, pytester: pytest.Pytester) -> None:
    """Every contract class on the page runs under pytest, and none of its tests fails."""
    source = _python_source(path)
    pytester.makepyfile(**{f"test_{path.stem.replace('-', '_')}": source})
    recorder = pytester.inline_run(
        "-p", "no:licensekit", "-p", "no:cacheprovider", "-p", "no:cov", "-p", "no:randomly"
    )
    passed, _, failed = recorder.listoutcomes()
    assert [r.nodeid for r in failed] == []
    ran = {r.nodeid.split("::")[1] for r in passed}
    assert set(CONTRACT_CLASS.findall(source)) <= ran, "a class shown ran no test"


def _call_with_fixtures(test: object) -> None:
    from licensekit.testing import FakeClock, RecordingMailer, make_licensekit

    if inspect.iscoroutinefunction(test):  # a test marked asyncio, with the async fixtures
        asyncio.run(_await_with_fixtures(test))
        return
    mailer = RecordingMailer()
    app = make_licensekit(clock=FakeClock(), mailer=mailer)
    available = {"licensekit_app": app, "licensekit_mailer": mailer}
    code = test.__code__  # type: ignore[attr-defined]
    names = code.co_varnames[: code.co_argcount]
    test(**{n: available[n] for n in names})  # type: ignore[operator]


async def _await_with_fixtures(test: Any) -> None:
    from licensekit.testing import FakeClock, RecordingMailer, make_async_licensekit

    mailer = RecordingMailer()
    app = make_async_licensekit(clock=FakeClock(), mailer=mailer)
    available = {"licensekit_async_app": app, "licensekit_mailer": mailer}
    names = test.__code__.co_varnames[: test.__code__.co_argcount]
    try:
        async with app:
            await test(**{n: available[n] for n in names})
    finally:
        await app.store.aclose()


def _modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(licensekit.__path__, "licensekit.")
        if not info.name.endswith(".plugin")
    )


@pytest.mark.parametrize("name", ["licensekit", *_modules()])
def test_docstring_examples_pass(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


# == the API reference ========================================================================

# The reference pages render modules with ``.. automodule::`` inside ``{eval-rst}`` blocks
# (MyST would read autodoc's output as Markdown otherwise), options indented below.
AUTOMODULE = re.compile(r"^\.\. automodule:: (\S+)\n((?:[ \t]+:[^\n]*\n)*)", re.MULTILINE)
# Public modules the reference leaves out: the language modules hold data only and are
# described by licensekit.locales; the command-line tool (licensekit.cli and anything below it)
# is documented in docs/cli.md.
CLI = "licensekit.cli"
NOT_IN_REFERENCE = {
    CLI,
    *(
        f"licensekit.locales.{info.name}"
        for info in pkgutil.iter_modules(importlib.import_module("licensekit.locales").__path__)
    ),
}


def _rendered_modules() -> dict[str, bool]:
    """Map each module the reference renders to whether its members are listed too."""
    rendered: dict[str, bool] = {}
    for page in sorted((DOCS / "reference").glob("*.md")):
        for name, options in AUTOMODULE.findall(page.read_text(encoding="utf-8")):
            assert name not in rendered, f"{name} is rendered twice"
            rendered[name] = ":members:" in options
    return rendered


def test_the_api_reference_renders_every_public_module() -> None:
    public = {
        name
        for name in ["licensekit", "licensekit.testing.plugin", *_modules()]
        if not any(part.startswith("_") for part in name.split("."))
        and not name.startswith(f"{CLI}.")
    }
    assert sorted(public - NOT_IN_REFERENCE - set(_rendered_modules())) == []


def test_the_api_reference_documents_every_top_level_name() -> None:
    """Each name of ``licensekit.__all__`` is listed under a module whose members are shown."""
    listed = [importlib.import_module(m) for m, members in _rendered_modules().items() if members]
    missing = [
        name
        for name in licensekit.__all__
        if not any(
            name in getattr(module, "__all__", ())
            and getattr(module, name) is getattr(licensekit, name)
            for module in listed
        )
    ]
    assert missing == []
