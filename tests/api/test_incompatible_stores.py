"""LicenseKit refuses, when it is built, a store that does not implement storage port v2.

An adapter written for the first port, or one that lacks an operation, must fail at once
with IncompatibleStore naming what is missing, not with AttributeError in the middle of a
request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from licensekit import IncompatibleStore, MemoryStore
from licensekit.storage import PROTOCOL_VERSION
from licensekit.testing import make_licensekit


class OldStore:
    """A store of the first port: transactions, but no protocol version."""

    def __init__(self) -> None:
        self.closed = False

    @contextmanager
    def transaction(self) -> Iterator[object]:
        yield object()

    def close(self) -> None:
        self.closed = True


class LacksIncrement:
    """A store of the current port whose transactions have no ``increment``."""

    protocol_version = PROTOCOL_VERSION

    def __init__(self) -> None:
        self._store = MemoryStore()

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self._store.transaction() as port:
            yield _Without(port, "increment")

    def close(self) -> None:
        self._store.close()


class _Without:
    def __init__(self, port: Any, missing: str) -> None:
        self._port, self._missing = port, missing

    def __getattr__(self, name: str) -> Any:
        if name == self._missing:
            raise AttributeError(name)
        return getattr(self._port, name)


def test_a_store_of_the_first_port_is_refused_naming_the_version() -> None:
    expected = rf"protocol_version = {PROTOCOL_VERSION} \(it declares None\)"
    with pytest.raises(IncompatibleStore, match=expected):
        make_licensekit(store=OldStore())  # type: ignore[arg-type]


def test_a_store_lacking_an_operation_is_refused_naming_it() -> None:
    with pytest.raises(IncompatibleStore, match=r"lacks Transaction\.increment"):
        make_licensekit(store=LacksIncrement())  # type: ignore[arg-type]


def test_a_complete_store_is_accepted() -> None:
    kit = make_licensekit(store=MemoryStore())
    assert kit.store.protocol_version == PROTOCOL_VERSION == 3


class VersionTwoStore:
    """A complete store of the second port (no ``update``, no filtered pages)."""

    protocol_version = 2

    def __init__(self) -> None:
        self._store = MemoryStore()

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self._store.transaction() as port:
            yield _Without(port, "update")

    def close(self) -> None:
        self._store.close()


def test_a_store_of_the_second_port_is_refused_naming_both_versions() -> None:
    with pytest.raises(IncompatibleStore, match=r"protocol_version = 3 \(it declares 2\)"):
        make_licensekit(store=VersionTwoStore())  # type: ignore[arg-type]
