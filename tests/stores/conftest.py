"""Fixtures of the store tests: a SQLite file in the test's own folder, and a store on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from licensekit.stores.sqlite import SQLiteStore


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """Where the test's SQLite file lives (not created yet)."""
    return tmp_path / "licensekit.db"


@pytest.fixture
def store(path: Path) -> Iterator[SQLiteStore]:
    """A SQLite store on *path*, closed after the test."""
    opened = SQLiteStore(path, synchronous="normal")
    yield opened
    opened.close()
