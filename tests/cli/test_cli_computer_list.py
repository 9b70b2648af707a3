"""``licensekit installations export``, ``edit``, ``rename`` and ``block-id``: the computer list
from the command line, driven in this process against a real SQLite file."""

from __future__ import annotations

import csv
import io
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from _cli_support import ADMIN, ALAN, CLI, GRACE, KEY_VALUE, PRODUCT, build_world
from licensekit import LicenseKit, StorageError

HEADER = (
    "computer_name,computer_id,email,license_key_id,product,activated_at,last_seen_at,status,"
    "notes,installation_id"
)


@pytest.fixture(autouse=True)
def _no_licensekit_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("LICENSEKIT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> CLI:
    """The usual world, with three computers activated under Desktop Pro."""
    world = build_world(tmp_path_factory.mktemp("cli") / "world")
    world.ok(
        "installers",
        "invite",
        "ann@example.com",
        "bob@example.com",
        "cy@example.com",
        "--as",
        ADMIN,
    )
    for number, (person, name) in enumerate(
        (("ann", '=HYPERLINK("http://evil.example")'), ("bob", "bob, the laptop"), ("cy", "Zoë")),
        start=1,
    ):
        world.ok(
            "activate",
            "--code",
            world.code(f"{person}@example.com"),
            "--computer-id",
            f"SN-{number}",
            "--computer-name",
            name,
        )
    return world


@pytest.fixture
def world(template: CLI, tmp_path: Path) -> CLI:
    return template.copy(tmp_path / "world")


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


# == export ===================================================================================


def test_the_computer_list_goes_to_standard_output(world: CLI) -> None:
    out = world.ok("installations", "export", "--as", ADMIN).out

    assert out.startswith(HEADER + "\r\n")
    listed = rows(out)
    assert [r["computer_id"] for r in listed] == ["SN-1", "SN-2", "SN-3"]
    assert [r["computer_name"] for r in listed] == [
        '\'=HYPERLINK("http://evil.example")',
        "bob, the laptop",
        "Zoë",
    ]
    assert {r["product"] for r in listed} == {PRODUCT}
    assert {r["status"] for r in listed} == {"active"}
    assert KEY_VALUE not in out


def test_a_license_administrator_exports_their_key_and_a_member_is_refused(world: CLI) -> None:
    by_key = world.ok("installations", "export", "--key", PRODUCT, "--as", ALAN).out
    whole = world.ok("installations", "export", "--as", ALAN).out
    assert by_key == whole
    assert len(rows(whole)) == 3

    refused = world.refused("installations", "export", "--as", GRACE)
    assert "computer list" in refused.err


def test_deactivated_computers_are_exported_with_all(world: CLI) -> None:
    world.ok("installations", "deactivate", "SN-2", "--as", ADMIN)

    active = rows(world.ok("installations", "export", "--as", ADMIN).out)
    everything = rows(world.ok("installations", "export", "--all", "--as", ADMIN).out)

    assert [r["computer_id"] for r in active] == ["SN-1", "SN-3"]
    assert {r["computer_id"]: r["status"] for r in everything}["SN-2"] == "deactivated"


def test_the_export_is_written_to_a_new_private_file(world: CLI, tmp_path: Path) -> None:
    target = tmp_path / "computers.csv"
    shown = world.ok("installations", "export", "--as", ADMIN).out

    said = world.ok("installations", "export", "-o", target, "--as", ADMIN).out

    assert "Wrote 3 installations to" in said
    assert target.read_bytes().decode("utf-8") == shown
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert (
        "exists already"
        in world.refused("installations", "export", "-o", target, "--as", ADMIN).err
    )
    nowhere = tmp_path / "no-such-folder" / "computers.csv"
    refused = world.refused("installations", "export", "-o", nowhere, "--as", ADMIN)
    assert "cannot create" in refused.err
    assert not nowhere.parent.exists()
    answer = world.ok(
        "installations", "export", "--output", tmp_path / "b.csv", "--json", "--as", ADMIN
    ).json()
    assert answer == {"output": str((tmp_path / "b.csv").resolve()), "installations": 3}


def test_the_export_in_json_is_the_rows(world: CLI) -> None:
    listed = world.ok("installations", "export", "--json", "--as", ADMIN).json()
    assert [r["computer_id"] for r in listed] == ["SN-1", "SN-2", "SN-3"]
    assert listed[1]["computer_name"] == "bob, the laptop"
    assert set(listed[0]) == set(HEADER.split(","))


def _paged(
    monkeypatch: pytest.MonkeyPatch, calls: list[str | None], fail_at: int | None = None
) -> None:
    """Make every export page one row long, recording each cursor asked for."""
    original = LicenseKit.export_installations

    def one_row(self: LicenseKit, *args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("cursor"))
        if fail_at is not None and len(calls) == fail_at:
            raise StorageError("the database went away")
        return original(self, *args, **{**kwargs, "limit": 1})

    monkeypatch.setattr(LicenseKit, "export_installations", one_row)


def test_the_tool_reads_the_list_a_page_at_a_time(
    world: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = world.ok("installations", "export", "--as", ADMIN).out
    calls: list[str | None] = []
    _paged(monkeypatch, calls)

    shown = world.ok("installations", "export", "--as", ADMIN).out
    world.ok("installations", "export", "-o", tmp_path / "paged.csv", "--as", ADMIN)

    assert shown == whole
    assert (tmp_path / "paged.csv").read_bytes().decode("utf-8") == whole
    assert len(calls) == 6
    assert calls[0] is None
    assert all(c is not None for c in calls[1:3])


def test_an_export_that_fails_half_way_leaves_no_file(
    world: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _paged(monkeypatch, [], fail_at=2)
    target = tmp_path / "half.csv"

    ran = world.run("installations", "export", "-o", target, "--as", ADMIN)

    assert ran.status != 0
    assert "went away" in ran.err
    assert not target.exists()


# == edit, rename =============================================================================


def test_a_computer_is_renamed_and_given_notes(world: CLI) -> None:
    said = world.ok("installations", "rename", "SN-1", "Reception PC", "--as", ADMIN).out
    assert "Computer SN-1 is now Reception PC" in said

    edited = world.ok(
        "installations", "edit", "SN-1", "--notes", "asset 114, front desk", "--as", ALAN, "--json"
    ).json()
    assert (edited["computer_name"], edited["notes"]) == ("Reception PC", "asset 114, front desk")

    listed = world.ok("installations", "list", "--as", ADMIN, "--json").json()
    assert listed[0]["notes"] == "asset 114, front desk"
    exported = rows(world.ok("installations", "export", "--as", ADMIN).out)
    assert (exported[0]["computer_name"], exported[0]["notes"]) == (
        "Reception PC",
        "asset 114, front desk",
    )
    cleared = world.ok(
        "installations", "edit", "SN-1", "--name", "", "--notes", "", "--as", ADMIN, "--json"
    ).json()
    assert (cleared["computer_name"], cleared["notes"]) == ("", "")


def test_an_edit_needs_something_to_change_and_the_right_to(world: CLI) -> None:
    assert "give --name, --notes" in world.usage("installations", "edit", "SN-1", "--as", ADMIN).err
    assert (
        "at most 200"
        in world.refused("installations", "rename", "SN-1", "x" * 201, "--as", ADMIN).err
    )
    assert (
        "Account Administrator"
        in world.refused("installations", "rename", "SN-1", "mine now", "--as", GRACE).err
    )


# == block-id =================================================================================


def test_a_computer_is_blocked_by_its_identifier_before_it_activates(world: CLI) -> None:
    world.ok("installers", "invite", "dee@example.com", "--as", ADMIN)
    said = world.ok(
        "installations", "block-id", "SN-STOLEN", "--notes", "stolen laptop", "--as", ADMIN
    ).out
    assert "Blocked computer SN-STOLEN under every key of the account" in said
    assert "stolen laptop" in world.ok("installations", "blocked", "--as", ADMIN).out

    refused = world.refused(
        "activate", "--code", world.code("dee@example.com"), "--computer-id", "SN-STOLEN"
    )
    assert "blocked" in refused.err

    world.ok("installations", "unblock", "SN-STOLEN", "--as", ADMIN)
    world.ok("activate", "--code", world.code("dee@example.com"), "--computer-id", "SN-STOLEN")


def test_a_license_administrator_blocks_under_their_key_only(world: CLI) -> None:
    block = world.ok(
        "installations", "block-id", "SN-9", "--key", PRODUCT, "--as", ALAN, "--json"
    ).json()
    assert (block["computer_id"], block["key_id"] is not None) == ("SN-9", True)
    assert (
        "Account Administrator"
        in world.refused("installations", "block-id", "SN-10", "--as", ALAN).err
    )
