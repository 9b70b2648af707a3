"""``licensekit installations move`` and ``licensekit keys replace``, run as a user would, on
a real SQLite file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from _cli_support import ADMIN, ALAN, CLI, PRODUCT, build_world


@pytest.fixture(autouse=True)
def _no_licensekit_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("LICENSEKIT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> CLI:
    """The usual world, with two computers under Desktop Pro and a pending invitation."""
    world = build_world(tmp_path_factory.mktemp("cli") / "world")
    world.ok("installers", "invite", "ann@example.com", "bob@example.com", "--as", ADMIN)
    for number, person in enumerate(("ann", "bob"), start=1):
        world.ok(
            "activate",
            "--code",
            world.code(f"{person}@example.com"),
            "--computer-id",
            f"SN-{number}",
        )
    world.ok("installers", "invite", "cy@example.com", "--as", ADMIN)
    return world


@pytest.fixture
def world(template: CLI, tmp_path: Path) -> CLI:
    return template.copy(tmp_path / "world")


def keys(world: CLI) -> dict[str, dict[str, object]]:
    listed = world.ok("keys", "list", "--all", "--as", ADMIN, "--json").json()
    return {str(k["id"]): k for k in listed}


def second_key(world: CLI, seats: int = 5) -> str:
    added = world.ok(
        "keys",
        "add",
        "--product",
        PRODUCT,
        "--seats",
        seats,
        "--value-stdin",
        "--as",
        ADMIN,
        "--json",
        stdin="PDPRO-SECOND-0001",
    ).json()
    return str(added["id"])


def test_installations_move_to_another_key_with_their_seats(world: CLI) -> None:
    (first,) = keys(world)
    second = second_key(world)
    ran = world.ok("installations", "move", "--key", first, "--to", second, "--as", ADMIN)
    assert "Moved 2 installations" in ran.out
    assert "with 2 seats" in ran.out
    now = keys(world)
    assert (now[first]["seats_used"], now[second]["seats_used"]) == (0, 2)


def test_named_installations_move_alone_and_json_reports_the_counts(world: CLI) -> None:
    (first,) = keys(world)
    second = second_key(world)
    report = world.ok(
        "installations", "move", "SN-2", "--key", first, "--to", second, "--as", ADMIN, "--json"
    ).json()
    assert (report["installations"], report["seats"], report["to_key_id"]) == (1, 1, second)
    listed = world.ok("installations", "list", "--key", second, "--as", ADMIN, "--json").json()
    assert [i["computer_id"] for i in listed] == ["SN-2"]


def test_a_move_without_the_seats_is_refused_and_changes_nothing(world: CLI) -> None:
    (first,) = keys(world)
    second = second_key(world, seats=1)
    ran = world.refused("installations", "move", "--key", first, "--to", second, "--as", ADMIN)
    assert "needs 2 free seats" in ran.err
    assert keys(world)[first]["seats_used"] == 2


def test_a_license_administrator_of_one_key_may_not_move(world: CLI) -> None:
    (first,) = keys(world)
    second = second_key(world)
    ran = world.refused("installations", "move", "--key", first, "--to", second, "--as", ALAN)
    assert "no license key" in ran.err  # the other key is not even visible to Alan
    assert keys(world)[first]["seats_used"] == 2


def test_a_key_is_replaced_and_its_codes_keep_working(world: CLI) -> None:
    (first,) = keys(world)
    ran = world.ok("keys", "replace", first, "--value-stdin", "--as", ADMIN, stdin="PDPRO-NEW-9999")
    assert "2 installations, 3 invitations and 1 License Administrator moved" in ran.out
    assert "nobody needs a new code" in ran.out
    now = keys(world)
    (new,) = [k for k in now if k != first]
    assert now[first]["status"] == "removed"
    assert (now[new]["seats_used"], now[new]["masked_value"]) == (2, "*****-***-9999")
    activated = world.ok(
        "activate", "--code", world.code("cy@example.com"), "--computer-id", "SN-3", "--json"
    ).json()
    assert activated["key_id"] == new
    # Alan's grant moved with the key.
    assert world.ok("installations", "list", "--key", new, "--as", ALAN).out.count("SN-") == 3


def test_replacing_with_a_value_the_account_holds_is_refused(world: CLI) -> None:
    (first,) = keys(world)
    second_key(world)
    ran = world.refused(
        "keys", "replace", first, "--value-stdin", "--as", ADMIN, stdin="PDPRO-SECOND-0001"
    )
    assert "already holds that license key" in ran.err
    assert keys(world)[first]["status"] == "active"
