"""Constructing a kit loads what construction needs, and the rest stays where it was.

The settings live apart from the result classes and the certificates, the storage port loads
the records with the first look-up of a kind (and never the views), the facade binds its
annotations' names without importing the email texts, and those are made when a kit first
needs them. None of it shows: the names are where they were, and a kit's templates are what
they were.
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


def test_the_storage_port_loads_the_records_with_its_kinds_and_never_the_views() -> None:
    loaded = _loaded_after("import licensekit.storage")
    assert not {"licensekit.domain.records", "licensekit.domain.views"} & loaded
    looked_up = _loaded_after("from licensekit.storage import USERS")
    assert "licensekit.domain.records" in looked_up
    assert not {"licensekit.domain.views", "licensekit.domain.model"} & looked_up


def test_constructing_a_kit_loads_neither_the_email_texts_nor_the_certificates() -> None:
    loaded = _loaded_after(CONSTRUCT)
    assert not {"licensekit.mail", "licensekit.domain.certificates", "json"} & loaded


def test_the_kinds_are_made_once_and_are_the_same_objects_under_every_name() -> None:
    from licensekit import storage
    from licensekit.domain.records import User

    assert storage.USERS is storage.KINDS[0]
    assert storage.USERS.type is User
    assert {"KINDS", "USERS", "COMPUTER_BLOCKS"} <= set(dir(storage))
    assert [kind.name for kind in storage.KINDS] == [
        "users",
        "business_accounts",
        "memberships",
        "join_invitations",
        "sessions",
        "audit_events",
        "throttles",
        "license_keys",
        "install_invitations",
        "installations",
        "computer_blocks",
        "culling_keys",
    ]
    with pytest.raises(AttributeError, match="no attribute 'NOTHING'"):
        storage.NOTHING  # type: ignore[attr-defined]  # noqa: B018 - the look-up is tested


def test_threads_looking_up_the_kinds_first_all_get_the_same_ones() -> None:
    probe = (
        "import threading, licensekit.storage as storage\n"
        "start = threading.Barrier(8)\n"
        "seen = []\n"
        "def look():\n"
        "    start.wait()\n"
        "    seen.append((storage.USERS, storage.KINDS))\n"
        "threads = [threading.Thread(target=look) for _ in range(8)]\n"
        "[t.start() for t in threads]\n"
        "[t.join() for t in threads]\n"
        "assert len({id(users) for users, _ in seen}) == 1\n"
        "assert all(kinds[0] is users for users, kinds in seen)\n"
        "print('same')\n"
    )
    assert _loaded_after(probe) >= {"same"}


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


def test_the_lease_bounds_are_the_certificates_own_under_every_name() -> None:
    from licensekit.domain import _leases, certificates

    assert certificates.check_lease is _leases.check_lease
    assert certificates.check_lease.__module__ == "licensekit.domain.certificates"
    assert certificates.DEFAULT_LEASE is _leases.DEFAULT_LEASE
    assert (certificates.MIN_LEASE, certificates.MAX_LEASE) == (
        _leases.MIN_LEASE,
        _leases.MAX_LEASE,
    )
    assert licensekit.Settings().certificate_lease == certificates.DEFAULT_LEASE
    with pytest.raises(ValidationError) as refused:
        licensekit.Settings(certificate_lease=certificates.MAX_LEASE * 2)
    assert refused.value.field == "lease"


def test_the_record_classes_are_still_importable_from_the_storage_port() -> None:
    import licensekit.domain.records as records
    import licensekit.storage as storage

    for name in ("AuditEvent", "InstallInvitation", "Throttle", "User"):
        assert getattr(storage, name) is getattr(records, name)
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        storage.Nothing  # noqa: B018
