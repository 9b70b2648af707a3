"""Constructing a kit loads what construction needs, and the rest stays where it was.

The settings live apart from the result classes, the storage port needs the records but not
the views, and the email texts are made when a kit first needs them. None of it shows: the
names are where they were, and a kit's templates are what they were.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import licensekit
import licensekit.service
from licensekit import LicenseKit, MemoryStore, ValidationError
from licensekit.aio import AsyncLicenseKit
from licensekit.mail import Templates, default_templates
from licensekit.testing import RecordingMailer

SECRET = b"k" * 32
JOIN = "https://example.com/join?token={token}"
CONSTRUCT = (
    "import licensekit\n"
    "class Mailer:\n"
    "    def send(self, message): pass\n"
    f"kit = licensekit.LicenseKit(licensekit.MemoryStore(), Mailer(), secret={SECRET!r},"
    f" join_url={JOIN!r})\n"
)


def _loaded_after(statement: str) -> set[str]:
    ran = subprocess.run(  # noqa: S603 - our own interpreter, our own code
        [sys.executable, "-c", f"import sys\n{statement}\nprint('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(ran.stdout.split())


def test_constructing_a_kit_loads_no_result_class() -> None:
    loaded = _loaded_after(CONSTRUCT)
    assert "licensekit._settings" in loaded
    assert "licensekit._results" not in loaded


def test_the_storage_port_loads_the_records_not_the_views() -> None:
    loaded = _loaded_after("import licensekit.storage")
    assert "licensekit.domain.records" in loaded
    assert not {"licensekit.domain.views", "licensekit.domain.model"} & loaded


def test_settings_and_presets_are_the_same_objects_under_every_name() -> None:
    from licensekit import _results, _settings

    assert licensekit.Settings is licensekit.service.Settings is _results.Settings
    assert _results.Settings is _settings.Settings
    assert licensekit.service.EXPIRY_PRESETS is _results.EXPIRY_PRESETS
    assert _results.EXPIRY_PRESETS is _settings.EXPIRY_PRESETS
    assert {"Settings", "EXPIRY_PRESETS"} <= set(_results.__all__)


def test_a_kit_without_templates_gets_the_built_in_ones_when_first_needed() -> None:
    kit = LicenseKit(MemoryStore(), RecordingMailer(), secret=SECRET, join_url=JOIN)
    assert kit._ctx._templates is None  # not made by construction
    assert kit.templates is default_templates()
    assert kit._ctx._templates is default_templates()


def test_templates_given_or_set_are_the_ones_a_kit_uses() -> None:
    mine = Templates()
    kit = LicenseKit(MemoryStore(), RecordingMailer(), secret=SECRET, join_url=JOIN, templates=mine)
    assert kit.templates is mine
    other = Templates()
    kit.templates = other
    assert kit.templates is other
    assert kit._ctx.templates is other


def test_templates_that_are_not_templates_are_still_refused_at_construction() -> None:
    with pytest.raises(ValidationError, match="templates must be Templates"):
        LicenseKit(
            MemoryStore(),
            RecordingMailer(),
            secret=SECRET,
            join_url=JOIN,
            templates={"en": "hello"},  # type: ignore[arg-type]
        )


def test_an_async_kit_makes_its_templates_on_first_use_too() -> None:
    kit = AsyncLicenseKit(MemoryStore(), RecordingMailer(), secret=SECRET, join_url=JOIN)
    assert kit._ctx._templates is None
    assert kit.templates is default_templates()
    mine = Templates()
    kit.templates = mine
    assert kit._ctx.templates is mine
