"""``licensekit keys`` liveness options, ``keys renew``, ``installations cull``, and the
certificates ``activate`` prints once a signing key file exists; on a real SQLite file."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from _cli_support import ADMIN, CLI, PRODUCT, build_world
from licensekit.verifier import verify_certificate


@pytest.fixture(autouse=True)
def _no_licensekit_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("LICENSEKIT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> CLI:
    return build_world(tmp_path_factory.mktemp("cli") / "world")


@pytest.fixture
def world(template: CLI, tmp_path: Path) -> CLI:
    return template.copy(tmp_path / "world")


def test_a_keys_liveness_is_set_shown_and_turned_off(world: CLI) -> None:
    out = world.ok(
        "keys",
        "change",
        PRODUCT,
        "--grace",
        "30d",
        "--check-in-every",
        "12h",
        "--cull-after",
        "3d",
        "--as",
        ADMIN,
    ).out
    assert "Grace:        30 days" in out
    assert "Check-in:     every 12 hours" in out
    assert "Culled after: 3 days" in out
    shown = world.ok("keys", "show", PRODUCT, "--as", ADMIN, "--json").json()
    assert (shown["grace_period"], shown["check_in_interval"], shown["dead_after"]) == (
        "P30D",
        "PT12H",
        "P3D",
    )
    off = world.ok("keys", "change", PRODUCT, "--never-cull", "--as", ADMIN, "--json").json()
    assert off["dead_after"] is None
    assert world.ok("installations", "cull").out == (
        "Culled 0 installations under 0 keys that cull\n"
    )


def test_liveness_out_of_bounds_is_refused_in_one_line(world: CLI) -> None:
    refused = world.refused("keys", "change", PRODUCT, "--cull-after", "1h", "--as", ADMIN)
    assert "dead_after must be from twice the check-in interval" in refused.err
    world.usage("keys", "change", PRODUCT, "--cull-after", "3d", "--never-cull", "--as", ADMIN)
    world.usage("keys", "change", PRODUCT, "--grace", "a month", "--as", ADMIN)


def test_a_key_is_renewed_from_its_old_expiry(world: CLI) -> None:
    world.ok("keys", "change", PRODUCT, "--expires", "2099-01-01", "--as", ADMIN)
    renewed = world.ok("keys", "renew", PRODUCT, "--by", "365d", "--as", ADMIN, "--json").json()
    assert dt.datetime.fromisoformat(renewed["expires_at"]) == dt.datetime(
        2100, 1, 1, tzinfo=dt.UTC
    )
    world.ok("keys", "change", PRODUCT, "--no-expiry", "--as", ADMIN)
    assert (
        "never expires" in world.refused("keys", "renew", PRODUCT, "--by", "1d", "--as", ADMIN).err
    )


def test_activate_prints_a_certificate_once_a_signing_key_exists(world: CLI) -> None:
    world.ok("installers", "invite", PRODUCT, "ann@example.com", "--as", ADMIN)
    code = world.code("ann@example.com")
    assert (
        world.ok("activate", "--code", code, "--computer-id", "SN-1", "--json").json()[
            "certificate"
        ]
        is None
    )
    world.ok("signing-key", "create")
    keys = world.ok("signing-key", "public", "--json").json()
    result = world.ok("activate", "--code", code, "--computer-id", "SN-1", "--json").json()
    assert result["certificate"].startswith("-----BEGIN LICENSEKIT CERTIFICATE-----")
    verified = verify_certificate(
        result["certificate"],
        keys,
        computer_id="SN-1",
        now=dt.datetime.fromisoformat(result["activated_at"]),
    )
    assert verified.product == PRODUCT


def test_a_kept_copy_checks_in_and_keeps_its_new_certificate(world: CLI, tmp_path: Path) -> None:
    world.ok("signing-key", "create")
    world.ok("installers", "invite", PRODUCT, "ann@example.com", "--as", ADMIN)
    code = world.code("ann@example.com")
    out = world.ok("activate", "--code", code, "--computer-id", "SN-1", "--keep", "ann-pc").out
    assert "Kept the token and the certificate in ann-pc" in out
    kept = tmp_path / "ann-pc"
    assert oct(kept.stat().st_mode & 0o777) == oct(0o700)
    ran = world.ok("check-in", "--keep", "ann-pc", "--json")
    assert (kept / "installation-token").read_text() not in ran.out  # never printed
    result = ran.json()
    assert result["license_state"] == "active"
    assert (kept / "certificate").read_text() == result["certificate"]

    world.ok("keys", "suspend", PRODUCT, "--as", ADMIN)
    last = (kept / "certificate").read_text()
    out = world.ok("check-in", "--keep", "ann-pc").out
    assert "License state:   suspended (the copy must stop)" in out
    assert (kept / "certificate").read_text() == last  # no new one: the old runs out

    missing = world.refused("check-in", "--keep", "nowhere").err
    assert "no installation token in" in missing
    assert "activate with --keep FOLDER first" in missing
    (kept / "installation-token").write_text("forged")
    assert "token is not valid" in world.refused("check-in", "--keep", "ann-pc").err
