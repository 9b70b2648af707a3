"""``licensekit keys add-additional``, ``keys pool``, ``keys grant-keys`` and ``revoke-keys``,
run as a user would, on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from _cli_support import ADMIN, ALAN, CLI, GRACE, PRODUCT, build_world


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> CLI:
    return build_world(tmp_path_factory.mktemp("cli") / "world")


@pytest.fixture
def world(template: CLI, tmp_path: Path) -> CLI:
    return template.copy(tmp_path / "world")


def add_reserved(world: CLI, seats: int = 2) -> dict[str, object]:
    return world.ok(
        "keys",
        "add-additional",
        PRODUCT,
        "--seats",
        seats,
        "--pool",
        "reserved",
        "--value-stdin",
        "--as",
        ADMIN,
        "--json",
        stdin="EXTRA-RESERVED-0001",
    ).json()


def test_an_additional_key_is_added_and_its_pool_shown(world: CLI) -> None:
    added = add_reserved(world)
    assert (added["seats"], added["seat_pool"]) == (2, "reserved")
    pool = world.ok("keys", "pool", PRODUCT, "--as", ADMIN, "--json").json()
    assert (pool["total"], pool["reserved"], pool["available"], pool["additional_keys"]) == (
        5,
        2,
        3,
        1,
    )
    text = world.ok("keys", "pool", str(added["id"]), "--as", ADMIN).out
    assert any(
        line.startswith("Available in the main pool") and line.rstrip().endswith("3")
        for line in text.splitlines()
    ), text
    shown = world.ok("keys", "show", str(added["id"]), "--as", ADMIN).out
    assert "Additional key of" in shown
    assert "reserved seats" in shown
    # The product's name still means the primary key.
    assert world.ok("keys", "show", PRODUCT, "--as", ADMIN, "--json").json()["primary_id"] is None


def test_reserving_more_than_the_pool_has_is_refused_in_one_line(world: CLI) -> None:
    ran = world.refused(
        "keys",
        "add-additional",
        PRODUCT,
        "--seats",
        6,
        "--pool",
        "dynamic",
        "--value-stdin",
        "--as",
        ADMIN,
        stdin="EXTRA-TOO-MANY-01",
    )
    assert "at most its 5 seats" in ran.err


def test_an_unknown_pool_is_a_usage_error(world: CLI) -> None:
    world.usage("keys", "add-additional", PRODUCT, "--seats", 1, "--pool", "shared", "--as", ADMIN)


def test_grant_keys_over_every_key_and_revoke(world: CLI) -> None:
    view = world.ok("keys", "grant-keys", GRACE, "--all", "--as", ADMIN, "--json").json()
    assert view["all_license_keys"] is True
    assert (
        "License Administrator of every key"
        in world.ok("keys", "revoke-keys", GRACE, "--all", "--as", ADMIN).out
    )
    extra = add_reserved(world)
    view = world.ok(
        "keys",
        "grant-keys",
        GRACE,
        "--key",
        PRODUCT,
        "--key",
        str(extra["id"]),
        "--as",
        ADMIN,
        "--json",
    ).json()
    assert len(view["license_keys"]) == 2
    world.usage("keys", "grant-keys", GRACE, "--as", ADMIN)
    assert (
        "Account Administrator"
        in world.refused("keys", "grant-keys", GRACE, "--all", "--as", ALAN).err
    )
