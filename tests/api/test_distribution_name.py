"""The distribution has a name of its own on the package index, and every place says it.

The name ``licensekit`` on the index is an unrelated project's, so an install line that named
it would install someone else's code. The import name and the command stay ``licensekit``.
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest

from licensekit.cli import main

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
    "name"
]
# `pip install NAME`, `pip install "NAME[extra]"`: not an install from a checkout (`-e .`).
INSTALL = re.compile(r"""pip install\s+(?!-)["']?([A-Za-z0-9][A-Za-z0-9._-]*)""")


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def test_the_distribution_is_not_called_licensekit() -> None:
    assert DISTRIBUTION != "licensekit"
    assert DISTRIBUTION.startswith("licensekit")


def test_the_installed_metadata_carries_the_name_of_pyproject() -> None:
    meta = importlib.metadata.metadata(DISTRIBUTION)
    assert meta["Name"] == DISTRIBUTION
    scripts = [
        ep
        for ep in importlib.metadata.entry_points(group="console_scripts")
        if ep.name == "licensekit"
    ]
    assert [ep.value for ep in scripts] == ["licensekit.cli:main"]
    assert scripts[0].dist is not None
    assert scripts[0].dist.name == DISTRIBUTION


def test_every_install_line_of_the_documents_names_the_distribution() -> None:
    lines = {
        f"{page.relative_to(ROOT)}: {match.group(0)}": match.group(1)
        for page in _pages()
        for match in INSTALL.finditer(page.read_text(encoding="utf-8"))
    }
    assert any(where.startswith("README.md") for where in lines)
    assert any(where.startswith("docs/quickstart.md") for where in lines)
    wrong = {where for where, name in lines.items() if name != DISTRIBUTION}
    assert wrong == set()


def test_the_version_option_reports_the_distribution_installed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--version"]) == 0
    version = importlib.metadata.version(DISTRIBUTION)
    assert capsys.readouterr().out.strip() == f"licensekit {version}"
