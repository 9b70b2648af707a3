"""Every Python example in README.md and docs/ runs, and every docstring example passes."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import licensekit

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```(python|pycon)\n(.*?)^```", re.DOTALL | re.MULTILINE)
DOCTEST_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def code_blocks(path: Path) -> list[tuple[str, str]]:
    """Return the (language, code) of each python or pycon block of *path*, in order."""
    return BLOCK.findall(path.read_text(encoding="utf-8"))


def test_the_documents_have_examples() -> None:
    assert sum(len(code_blocks(p)) for p in DOCUMENTS) >= 10


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_document_examples_run(path: Path) -> None:
    """A page's blocks run in order in one namespace, as a reader would type them.

    ``python`` blocks must run without error; ``pycon`` blocks are doctests whose printed
    output and exceptions must match what the page shows.
    """
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem}"}
    runner = doctest.DocTestRunner(optionflags=DOCTEST_FLAGS)
    for number, (language, block) in enumerate(code_blocks(path), start=1):
        name = f"{path.name}[block {number}]"
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


def _call_with_fixtures(test: object) -> None:
    from licensekit.testing import FakeClock, RecordingMailer, make_licensekit

    mailer = RecordingMailer()
    app = make_licensekit(clock=FakeClock(), mailer=mailer)
    available = {"licensekit_app": app, "licensekit_mailer": mailer}
    code = test.__code__  # type: ignore[attr-defined]
    names = code.co_varnames[: code.co_argcount]
    test(**{n: available[n] for n in names})  # type: ignore[operator]


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
