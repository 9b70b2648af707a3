"""AsyncLicenseKit offers exactly LicenseKit's use cases: same names, same signatures, awaited."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

from licensekit import LicenseKit
from licensekit.aio import AsyncLicenseKit

ROOT = Path(__file__).resolve().parents[2]
# What differs by design: how the object is closed.
RENAMED = {"close": "aclose", "__enter__": "__aenter__", "__exit__": "__aexit__"}


def _public(cls: type) -> dict[str, object]:
    return {name: getattr(cls, name) for name in dir(cls) if not name.startswith("_")}


def test_both_facades_have_the_same_public_names() -> None:
    sync = {RENAMED.get(name, name) for name in _public(LicenseKit)}
    assert sync == set(_public(AsyncLicenseKit))


def test_every_use_case_has_the_same_signature_and_is_a_coroutine_function() -> None:
    checked = 0
    for name, method in _public(LicenseKit).items():
        if isinstance(method, property) or name in RENAMED:
            continue
        twin = getattr(AsyncLicenseKit, name)
        assert inspect.iscoroutinefunction(twin), name
        assert not inspect.iscoroutinefunction(method), name
        assert inspect.signature(twin) == inspect.signature(method), name
        assert inspect.getdoc(twin) == inspect.getdoc(method), name
        checked += 1
    assert checked >= 50  # every use case (54 today), not an empty comparison


def test_the_constructors_take_the_same_arguments() -> None:
    sync = inspect.signature(LicenseKit.__init__).parameters
    both = inspect.signature(AsyncLicenseKit.__init__).parameters
    assert list(sync) == list(both)
    for name, parameter in sync.items():
        assert both[name].default == parameter.default, name
        assert both[name].kind == parameter.kind, name


def test_a_misspelt_method_is_an_attribute_error() -> None:
    assert not hasattr(AsyncLicenseKit, "lgo_in")


def test_the_synchronous_use_cases_are_generated_from_the_async_ones() -> None:
    """scripts/unasync.py --check: every generated module matches its async source."""
    result = subprocess.run(  # noqa: S603 - our interpreter, our script
        [sys.executable, str(ROOT / "scripts" / "unasync.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
