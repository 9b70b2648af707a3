"""The personal-account commands of the CLI: verify-email send|confirm, password
change|forgot|reset, and register --verified, on a real SQLite file and .eml mail folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from _cli_support import ADMIN, ALAN, CLI, GRACE, PASSWORDS, build_world


@pytest.fixture(autouse=True)
def _no_licensekit_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("LICENSEKIT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> CLI:
    return build_world(tmp_path_factory.mktemp("cli-accounts") / "world")


@pytest.fixture
def world(template: CLI, tmp_path: Path) -> CLI:
    return template.copy(tmp_path / "world")


def latest_link(cli: CLI, to: str, kind: str) -> str:
    return cli.ok("mail", "show", "--to", to, "--kind", kind, "--link").out.strip()


def test_an_unproven_user_is_told_how_to_prove_the_address(world: CLI) -> None:
    ran = world.ok("register", "new@example.com", "--password-stdin", stdin="a new passphrase")

    assert "unproven" in ran.out
    assert "verify-email send --as new@example.com" in ran.out
    refused = world.refused("accounts", "create", "New Ltd", "--as", "new@example.com")
    assert refused.err == "licensekit: verify new@example.com before creating a business account\n"


def test_verifying_by_the_emailed_link_lets_the_user_create_an_account(world: CLI) -> None:
    world.ok("register", "new@example.com", "--password-stdin", stdin="a new passphrase")
    world.ok("verify-email", "send", "--as", "new@example.com", "--language", "de")
    link = latest_link(world, "new@example.com", "email_verification")

    ran = world.ok("verify-email", "confirm", link, "--password-stdin", stdin="a new passphrase")

    assert ran.out == "new@example.com is verified; every earlier session was signed out\n"
    world.ok("accounts", "create", "New Ltd", "--as", "new@example.com")


def test_a_verified_address_needs_no_link(world: CLI) -> None:
    ran = world.refused("verify-email", "send", "--as", ADMIN)

    assert ran.err == f"licensekit: {ADMIN} is verified already\n"


def test_a_used_verification_link_is_refused_in_one_line(world: CLI) -> None:
    world.ok("register", "new@example.com", "--password-stdin", stdin="a new passphrase")
    world.ok("verify-email", "send", "--as", "new@example.com")
    link = latest_link(world, "new@example.com", "email_verification")
    world.ok("verify-email", "confirm", link, "--password-stdin", stdin="a new passphrase")

    ran = world.refused("verify-email", "confirm", link, "--password-stdin", stdin="x" * 12)

    assert ran.err.startswith("licensekit: this link has been used already")
    assert ran.err.count("\n") == 1
    assert "Traceback" not in ran.err


def test_password_change_needs_the_current_password(world: CLI) -> None:
    stdin = "not the password\nan entirely new one\n"
    ran = world.refused("password", "change", "--as", GRACE, "--password-stdin", stdin=stdin)

    assert ran.err == "licensekit: the current password is wrong\n"


def test_password_change_emails_the_user_unless_told_not_to(world: CLI) -> None:
    stdin = f"{PASSWORDS[GRACE]}\nan entirely new one\n"
    world.ok("password", "change", "--as", GRACE, "--password-stdin", stdin=stdin)
    assert "Your licensekit password was changed" in world.ok("mail", "show", "--to", GRACE).out

    stdin = "an entirely new one\nand yet another one\n"
    world.ok("password", "change", "--as", GRACE, "--password-stdin", "--no-notify", stdin=stdin)
    letters = world.ok("mail", "list", "--to", GRACE, "--json").json()
    assert [letter["kind"] for letter in letters].count("password_changed") == 1


def test_password_forgot_answers_the_same_for_an_address_without_an_account(world: CLI) -> None:
    known = world.ok("password", "forgot", ALAN, "--json").json()
    unknown = world.ok("password", "forgot", "nobody@example.com", "--json").json()

    assert known == {"email": ALAN, "requested": True}
    assert unknown == {"email": "nobody@example.com", "requested": True}
    kinds = {letter["to"]: letter["kind"] for letter in world.ok("mail", "list", "--json").json()}
    assert kinds[ALAN] == "password_reset"
    assert kinds["nobody@example.com"] == "password_reset_unknown"


def test_password_reset_by_the_link_sets_the_new_password(world: CLI) -> None:
    world.ok("password", "forgot", ALAN)
    link = latest_link(world, ALAN, "password_reset")

    world.ok("password", "reset", link, "--password-stdin", stdin="alan's next passphrase")

    ran = world.refused("password", "reset", link, "--password-stdin", stdin="alan's third one")
    assert "used already" in ran.err
    stdin = "alan's next passphrase\nand his fourth one\n"
    world.ok("password", "change", "--as", ALAN, "--password-stdin", stdin=stdin)


def test_a_garbage_reset_token_is_one_line_on_stderr(world: CLI) -> None:
    ran = world.refused("password", "reset", "not-a-token", "--password-stdin", stdin="x" * 12)

    assert ran.err == "licensekit: this link is not valid\n"


def test_every_account_command_answers_in_json(world: CLI) -> None:
    world.ok("register", "new@example.com", "--password-stdin", stdin="a new passphrase")
    sent = world.ok("verify-email", "send", "--as", "new@example.com", "--json").json()
    assert sent == {"email": "new@example.com", "sent": True}
    link = latest_link(world, "new@example.com", "email_verification")

    confirmed = world.ok(
        "verify-email", "confirm", link, "--password-stdin", "--json", stdin="a new passphrase"
    ).json()
    assert confirmed["email"] == "new@example.com"
    assert confirmed["verified"] is True
    stdin = "a new passphrase\na second passphrase\n"
    changed = world.ok(
        "password", "change", "--as", "new@example.com", "--password-stdin", "--json", stdin=stdin
    ).json()
    assert changed == {"email": "new@example.com", "changed": True}
    world.ok("password", "forgot", "new@example.com")
    link = latest_link(world, "new@example.com", "password_reset")
    reset = world.ok(
        "password", "reset", link, "--password-stdin", "--json", stdin="a third passphrase"
    ).json()
    assert reset == {"reset": True}
