"""The ``licensekit`` command-line tool, driven in this process as a user would drive it.

Each test runs real command lines (``licensekit.cli._main.run``, which ``main`` calls with the
real streams) against a real SQLite file in a temporary folder, with the file mailer.
"""

from __future__ import annotations

import csv
import io
import os
import re
import sqlite3
import stat
import sys
from pathlib import Path

import pytest

import licensekit.cli.commands.accounts
from _cli_support import (
    ACCOUNT,
    ADMIN,
    ALAN,
    CLI,
    GRACE,
    PRODUCT,
    FakeTerminal,
    Ran,
    build_world,
)
from licensekit import ActivationCodeNotFound, LicenseKit
from licensekit.cli import main
from licensekit.cli._app import default_secret_file, token_from
from licensekit.cli._errors import UsageError
from licensekit.cli._mailbox import _kind_of, find_code, read_folder
from licensekit.cli._output import Output, jsonable, render_table
from licensekit.cli._progress import Progress, is_terminal
from licensekit.cli._secret import parse_secret
from licensekit.testing import TEST_JOIN_URL, RecordingMailer

PEOPLE = ["ann", "bob", "cy", "dee", "eve", "fay", "gus", "hal"]


@pytest.fixture(autouse=True)
def _no_licensekit_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing from the developer's environment reaches the tool; relative paths land here."""
    for name in list(os.environ):
        if name.startswith("LICENSEKIT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> CLI:
    return build_world(tmp_path_factory.mktemp("cli") / "world")


@pytest.fixture
def world(template: CLI, tmp_path: Path) -> CLI:
    """A copy of the usual starting point, for this test alone."""
    return template.copy(tmp_path / "world")


@pytest.fixture
def fresh(tmp_path: Path) -> CLI:
    return CLI(tmp_path / "fresh")


def write_csv(folder: Path, lines: list[str], name: str = "users.csv") -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# == the command line itself ==================================================================


def test_main_prints_help_and_returns_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("init", "demo", "members", "keys", "installers", "activate", "audit"):
        assert command in out


def test_main_reports_a_usage_error_with_status_two(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["members", "frobnicate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: licensekit members")
    assert "licensekit: error: argument ACTION: invalid choice: 'frobnicate'" in err


def test_main_reads_sys_argv_when_given_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["licensekit", "--version"])
    assert main() == 0
    assert capsys.readouterr().out.startswith("licensekit ")


def test_a_command_is_required(fresh: CLI) -> None:
    assert "required" in fresh.usage().err


def test_global_options_go_before_or_after_the_command(world: CLI) -> None:
    before = world.ok("--json", "--as", ADMIN, "accounts", "list").json()
    after = world.ok("accounts", "list", "--as", ADMIN, "--json").json()
    assert before == after


def test_an_interrupt_ends_with_status_130(world: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(licensekit.cli.commands.accounts, "list_accounts", interrupted)
    ran = world.run("accounts", "list", "--as", ADMIN)
    assert ran.status == 130
    assert ran.err.strip() == "licensekit: interrupted"


def test_a_reader_going_away_is_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, template: CLI
) -> None:
    class Gone(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError

    monkeypatch.setattr(sys, "stdout", Gone())
    monkeypatch.setenv("LICENSEKIT_DB", str(template.db))
    assert main(["accounts", "list", "--as", ADMIN]) == 1


# == init and the host secret =================================================================


def test_init_creates_the_database_and_a_private_secret(fresh: CLI) -> None:
    fresh.folder.mkdir()
    ran = fresh.ok("init")
    secret = fresh.folder / "licensekit.secret"
    assert fresh.db.is_file()
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(bytes.fromhex(secret.read_text())) == 32
    assert "created" in ran.out
    assert "Next: licensekit register" in ran.out


def test_init_twice_changes_nothing(fresh: CLI) -> None:
    fresh.folder.mkdir()
    fresh.ok("init")
    secret = (fresh.folder / "licensekit.secret").read_text()
    again = fresh.ok("init", "--json").json()
    assert again["database_created"] is False
    assert again["secret_created"] is False
    assert (fresh.folder / "licensekit.secret").read_text() == secret


def test_init_never_makes_a_new_secret_for_an_existing_database(fresh: CLI) -> None:
    fresh.folder.mkdir()
    fresh.ok("init")
    (fresh.folder / "licensekit.secret").unlink()
    assert "its secret file" in fresh.refused("init").err
    assert not (fresh.folder / "licensekit.secret").exists()


def test_init_with_the_secret_in_the_environment_writes_no_file(fresh: CLI) -> None:
    fresh.folder.mkdir()
    ran = fresh.ok("init", "--json", env={"LICENSEKIT_SECRET": "ab" * 32}).json()
    assert ran["secret"] == "LICENSEKIT_SECRET"
    assert not (fresh.folder / "licensekit.secret").exists()
    assert "from the environment" in fresh.ok("init", env={"LICENSEKIT_SECRET": "ab" * 32}).out


def test_init_refuses_a_missing_folder_and_a_folder_as_database(fresh: CLI) -> None:
    assert "does not exist" in fresh.refused("init").err
    fresh.db.mkdir(parents=True)
    assert "not a database file" in fresh.refused("init").err


def test_init_refuses_a_file_that_is_not_licensekit_and_leaves_it_alone(fresh: CLI) -> None:
    fresh.folder.mkdir()
    fresh.db.write_text("my shopping list\n")
    assert "not a database" in fresh.refused("init").err
    assert fresh.db.read_text() == "my shopping list\n"
    assert not (fresh.folder / "licensekit.secret").exists()


def test_init_removes_the_secret_it_made_when_the_database_cannot_be_made(
    fresh: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh.folder.mkdir()
    fresh.env["LICENSEKIT_JOIN_URL"] = "https://example.com/join"  # no {token}
    assert "{token}" in fresh.refused("init").err
    assert not (fresh.folder / "licensekit.secret").exists()


def test_commands_other_than_init_need_an_existing_database(fresh: CLI) -> None:
    fresh.folder.mkdir()
    assert "run 'licensekit init' first" in fresh.refused("accounts", "list", "--as", ADMIN).err
    assert not fresh.db.exists()


def test_a_database_that_licensekit_did_not_make_is_refused(fresh: CLI) -> None:
    fresh.folder.mkdir()
    fresh.ok("init")
    fresh.db.unlink()
    with sqlite3.connect(fresh.db) as other:
        other.execute("CREATE TABLE recipes (name TEXT)")
    other.close()
    assert "licensekit did not make" in fresh.refused("accounts", "list", "--as", ADMIN).err


def test_a_secret_file_others_can_read_is_refused(world: CLI) -> None:
    (world.folder / "licensekit.secret").chmod(0o640)
    err = world.refused("accounts", "list", "--as", ADMIN).err
    assert "permissions 0640" in err
    assert "chmod 600" in err


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_a_secret_file_of_another_user_is_refused(world: CLI) -> None:
    os.chown(world.folder / "licensekit.secret", 65534, -1)
    assert "belongs to another user" in world.refused("accounts", "list", "--as", ADMIN).err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("ab" * 16 + "\n", "at least 32 bytes"),
        ("not hexadecimal at all\n", "hexadecimal digits"),
        ("é" * 40, "hexadecimal digits"),
        ("0" * 5000, "too large"),
    ],
)
def test_a_secret_file_must_hold_enough_hexadecimal(world: CLI, content: str, message: str) -> None:
    secret = world.folder / "licensekit.secret"
    secret.write_text(content, encoding="utf-8")
    assert message in world.refused("accounts", "list", "--as", ADMIN).err


def test_the_secret_file_must_exist_and_be_a_file(world: CLI, tmp_path: Path) -> None:
    err = world.refused(
        "accounts", "list", "--as", ADMIN, env={"LICENSEKIT_SECRET_FILE": str(tmp_path / "nowhere")}
    ).err
    assert "does not exist" in err
    assert "licensekit init" in err
    assert (
        "not a regular file"
        in world.refused("accounts", "list", "--as", ADMIN, "--secret-file", tmp_path).err
    )
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o700)
    (locked / "s").write_text("00")
    locked.chmod(0)
    try:
        if os.access(locked / "s", os.R_OK):
            pytest.skip("root reads anything")
        assert (
            "cannot read"
            in world.refused("accounts", "list", "--as", ADMIN, "--secret-file", locked / "s").err
        )
    finally:
        locked.chmod(0o700)


def test_a_short_secret_in_the_environment_is_refused(world: CLI) -> None:
    err = world.refused("accounts", "list", "--as", ADMIN, env={"LICENSEKIT_SECRET": "abcd"}).err
    assert "LICENSEKIT_SECRET" in err
    assert "at least 32 bytes" in err


def test_a_wrong_secret_is_reported_with_a_hint(world: CLI) -> None:
    other = {"LICENSEKIT_SECRET": "cd" * 32}
    err = world.refused("keys", "list", "--as", ADMIN, env=other).err
    assert "different host secret" in err
    assert "the one this database was made with" in err


def test_the_secret_file_lies_beside_the_database_by_default() -> None:
    assert default_secret_file(Path("a/licenses.db")) == Path("a/licenses.secret")
    assert default_secret_file(Path("a/licenses")) == Path("a/licenses.secret")
    assert default_secret_file(Path("a/x.secret")) == Path("a/x.secret.secret")


# == users and the acting user ================================================================


def test_register_reads_the_password_from_stdin_and_prints_no_hash(fresh: CLI) -> None:
    fresh.folder.mkdir()
    fresh.ok("init")
    user = fresh.ok(
        "register", "Ada@Example.com", "--password-stdin", "--json", stdin="long enough pw\n"
    ).json()
    assert user["email"] == "ada@example.com"
    assert "password_hash" not in user
    err = fresh.refused("register", "ada@example.com", "--password-stdin", stdin="x" * 12).err
    assert "already exists" in err
    assert (
        "at least 10"
        in fresh.refused("register", "b@example.com", "--password-stdin", stdin="short").err
    )
    assert (
        "nothing on standard input"
        in fresh.refused("register", "c@example.com", "--password-stdin").err
    )


def test_register_asks_at_the_terminal_without_echo(
    world: CLI, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(["typed unseen pw", "typed unseen pw", "one thing", "another"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    monkeypatch.setenv("LICENSEKIT_DB", str(world.db))
    assert main(["register", "new@example.com"]) == 0
    assert main(["register", "other@example.com"]) == 1
    assert "the two entries differ" in capsys.readouterr().err


def test_without_a_terminal_a_password_needs_the_stdin_option(world: CLI) -> None:
    assert "--*-stdin" in world.usage("register", "x@example.com").err


def test_acting_commands_need_as(world: CLI) -> None:
    assert "pass --as EMAIL" in world.usage("accounts", "list").err
    assert "no user with email" in world.refused("accounts", "list", "--as", "no@example.com").err
    world.ok("accounts", "list", env={"LICENSEKIT_AS": ADMIN})


def test_a_regular_member_is_refused_administration(world: CLI) -> None:
    err = world.refused("members", "list", "--as", GRACE).err
    assert "Account Administrator" in err


# == business accounts ========================================================================


def test_accounts_are_created_and_listed(world: CLI) -> None:
    ran = world.ok("accounts", "create", "Second Corp", "--as", ADMIN)
    assert "Created business account Second Corp" in ran.out
    listed = world.ok("accounts", "list", "--as", ADMIN, "--json").json()
    assert [a["account_name"] for a in listed] == [ACCOUNT, "Second Corp"]
    assert "Account Administrator" in world.ok("accounts", "list", "--as", ADMIN).out
    assert world.ok("accounts", "create", "Third", "--as", ADMIN, "--json").json()["name"] == (
        "Third"
    )


def test_an_account_is_named_by_name_or_id_and_must_be_unambiguous(world: CLI) -> None:
    world.ok("accounts", "create", "Second Corp", "--as", ADMIN)
    err = world.usage("members", "list", "--as", ADMIN).err
    assert "belongs to 2 business accounts" in err
    world.ok("members", "list", "--as", ADMIN, "--account", "  example   CORP ")
    account_id = world.ok("accounts", "list", "--as", ADMIN, "--json").json()[1]["account_id"]
    assert world.ok("members", "list", "--as", ADMIN, "--account", account_id, "--json").json()
    world.ok("members", "list", "--as", ADMIN, env={"LICENSEKIT_ACCOUNT": "Second Corp"})
    world.ok("accounts", "create", "Second Corp", "--as", ADMIN)
    assert (
        "2 accounts are named"
        in world.usage("members", "list", "--as", ADMIN, "--account", "second corp").err
    )
    assert (
        "not a member of a business account named"
        in world.refused("members", "list", "--as", ADMIN, "--account", "Nowhere").err
    )


def test_a_user_without_accounts_is_told_so(world: CLI) -> None:
    world.ok("register", "lone@example.com", "--password-stdin", stdin="lonely passphrase")
    assert (
        "belongs to no business account"
        in world.ok("accounts", "list", "--as", "lone@example.com").out
    )
    assert "not a member of any" in world.refused("members", "list", "--as", "lone@example.com").err


# == members and join invitations =============================================================


def test_members_are_listed_with_roles(world: CLI) -> None:
    out = world.ok("members", "list", "--as", ADMIN).out
    assert "Members of Example Corp:" in out
    assert "License Administrator of Desktop Pro" in out
    members = world.ok("members", "list", "--as", ADMIN, "--json").json()
    assert {m["email"] for m in members} == {ADMIN, GRACE, ALAN}
    assert all(set(m) >= {"user_id", "role", "status", "joined_at", "notes"} for m in members)


def test_a_role_change_records_notes_and_shows_when_it_applies(world: CLI) -> None:
    out = world.ok("members", "role", GRACE, "admin", "--notes", "IT lead", "--as", ADMIN).out
    assert "grace@example.com is now Account Administrator" in out
    assert "next log-in" in out
    shown = world.ok("members", "show", GRACE, "--as", ADMIN).out
    assert "Notes:" in shown
    assert "IT lead" in shown
    assert f"Changed by: {ADMIN}" in shown
    # the promotion applies from Grace's next command, each command being a new log-in
    world.ok("members", "list", "--as", GRACE)
    view = world.ok("members", "role", GRACE, "member", "--as", ADMIN, "--json").json()
    assert view["role"] == "regular_member"
    assert (
        "next log-in" not in world.ok("members", "role", ALAN, "regular_member", "--as", ADMIN).out
    )


def test_the_last_administrator_cannot_be_demoted(world: CLI) -> None:
    assert (
        "Account Administrator"
        in world.refused("members", "role", ADMIN, "member", "--as", ADMIN).err
    )


def test_members_are_blocked_unblocked_and_removed(world: CLI) -> None:
    out = world.ok("members", "block", GRACE, "--notes", "left the company?", "--as", ADMIN).out
    assert "is blocked in Example Corp" in out
    assert f"{GRACE} was told by email" in out
    assert world.ok("members", "show", GRACE, "--as", ADMIN, "--json").json()["status"] == (
        "blocked"
    )
    assert "is unblocked" in world.ok("members", "unblock", GRACE, "--as", ADMIN).out
    out = world.ok("members", "remove", GRACE, "--language", "de", "--as", ADMIN).out
    assert "was removed from Example Corp" in out
    assert [m["kind"] for m in world.ok("mail", "list", "--to", GRACE, "--json").json()][-2:] == [
        "member_blocked",
        "member_removed",
    ]
    assert GRACE not in world.ok("members", "list", "--as", ADMIN).out
    assert GRACE in world.ok("members", "list", "--all", "--as", ADMIN).out
    assert world.ok("members", "block", ALAN, "--as", ADMIN, "--json").json()["email"] == ALAN


def test_a_blocked_member_is_told_without_the_notes_unless_shared(world: CLI) -> None:
    world.ok("members", "block", GRACE, "--notes", "laptop stolen", "--as", ADMIN)
    told = world.ok("mail", "show", "--to", GRACE, "--kind", "member_blocked").out
    assert "Example Corp" in told
    assert ADMIN in told
    assert "laptop stolen" not in told
    world.ok("members", "unblock", GRACE, "--as", ADMIN)

    view = world.ok(
        "members",
        "block",
        GRACE,
        "--notes",
        "laptop stolen",
        "--share-notes",
        "--as",
        ADMIN,
        "--json",
    ).json()

    assert view["notice"] == "sent"
    assert "laptop stolen" in world.ok("mail", "show", "--to", GRACE).out


def test_a_member_can_be_blocked_or_removed_without_a_notice(world: CLI) -> None:
    before = len(world.ok("mail", "list", "--json").json())

    blocked = world.ok("members", "block", ALAN, "--no-notify", "--as", ADMIN)
    removed = world.ok("members", "remove", ALAN, "--no-notify", "--as", ADMIN, "--json").json()

    assert "told by email" not in blocked.out
    assert removed["status"] == "removed"
    assert removed["notice"] is None
    assert len(world.ok("mail", "list", "--json").json()) == before


def test_a_notice_is_written_in_the_language_asked_for(world: CLI) -> None:
    world.ok("members", "remove", GRACE, "--language", "fr", "--as", ADMIN)
    told = world.ok("mail", "show", "--to", GRACE, "--kind", "member_removed").out
    assert "Example Corp" in told
    assert "Bonjour" in told
    assert (
        "unsupported language"
        in world.refused("members", "block", ALAN, "--language", "tlh", "--as", ADMIN).err
    )
    assert world.ok("members", "show", ALAN, "--as", ADMIN, "--json").json()["status"] == "active"


def test_a_role_change_notice_is_sent_only_when_asked(world: CLI) -> None:
    before = len(world.ok("mail", "list", "--json").json())
    out = world.ok("members", "role", GRACE, "admin", "--notes", "IT lead", "--as", ADMIN).out
    assert "told by email" not in out
    assert len(world.ok("mail", "list", "--json").json()) == before

    out = world.ok(
        "members",
        "role",
        GRACE,
        "member",
        "--notes",
        "back to normal",
        "--notify",
        "--share-notes",
        "--as",
        ADMIN,
    ).out

    assert f"{GRACE} was told by email" in out
    told = world.ok("mail", "show", "--to", GRACE, "--kind", "role_changed").out
    assert "back to normal" in told


def test_no_notify_is_not_offered_where_nothing_is_sent(world: CLI) -> None:
    assert "--no-notify" in world.usage("members", "unblock", GRACE, "--no-notify").err
    assert "--share-notes" in world.usage("members", "unblock", GRACE, "--share-notes").err
    assert "--notify" in world.usage("members", "block", GRACE, "--notify").err


def test_a_member_is_named_by_email_or_user_id(world: CLI) -> None:
    user_id = world.ok("members", "show", GRACE, "--as", ADMIN, "--json").json()["user_id"]
    assert world.ok("members", "show", user_id, "--as", ADMIN, "--json").json()["email"] == GRACE
    assert (
        "is not a member"
        in world.refused("members", "show", "nobody@example.com", "--as", ADMIN).err
    )
    assert "invalid email" in world.refused("members", "show", "not@an@email", "--as", ADMIN).err


def test_members_are_invited_from_typed_emails_with_skipped_entries(world: CLI) -> None:
    ran = world.ok(
        "members",
        "invite",
        "lee@example.com",
        "Lee@Example.com",
        "bad",
        GRACE,
        "--language",
        "fr",
        "--expires",
        "3d",
        "--as",
        ADMIN,
    )
    assert "Invited 1 to join Example Corp" in ran.out
    assert "row 2: 'Lee@Example.com': duplicate of row 1" in ran.out
    assert "row 3: 'bad'" in ran.out
    assert "row 4: 'grace@example.com': already a member" in ran.out
    assert "1 email written to" in ran.out
    letter = world.ok("mail", "show", "--to", "lee@example.com", "--json").json()
    assert letter["kind"] == "join_invitation"
    assert "rejoindre" in letter["subject"]


def test_members_are_invited_from_a_csv_with_its_row_numbers(world: CLI) -> None:
    path = write_csv(
        world.folder, ["email", "kim@example.com", "", ALAN, "nope", "KIM@example.com"]
    )
    ran = world.ok("members", "invite", "--csv", path, "--as", ADMIN, "--json").json()
    assert [i["email"] for i in ran["invited"]] == ["kim@example.com"]
    assert [(s["row"], s["reason"]) for s in ran["skipped"]] == [
        (4, "already a member of this account"),
        (5, "An email address must have an @-sign."),
        (6, "duplicate of row 2"),
    ]
    assert ran["invited"][0]["delivery"] == "sent"


def test_invitation_input_errors(world: CLI, tmp_path: Path) -> None:
    assert (
        "not both"
        in world.usage("members", "invite", "a@example.com", "--csv", "x.csv", "--as", ADMIN).err
    )
    assert "--csv FILE" in world.usage("members", "invite", "--as", ADMIN).err
    assert (
        "not a duration"
        in world.usage("members", "invite", "a@example.com", "--expires", "soon", "--as", ADMIN).err
    )
    assert (
        "CSV file not found"
        in world.refused("members", "invite", "--csv", tmp_path / "missing.csv", "--as", ADMIN).err
    )
    latin = tmp_path / "latin.csv"
    latin.write_bytes("é@example.com\n".encode("latin-1"))
    assert "not UTF-8" in world.refused("members", "invite", "--csv", latin, "--as", ADMIN).err
    assert (
        "unsupported language"
        in world.refused(
            "members", "invite", "a@example.com", "--language", "tlh", "--as", ADMIN
        ).err
    )


def test_join_invitations_are_created_listed_sent_resent_and_revoked(world: CLI) -> None:
    out = world.ok(
        "members", "invite", "a@example.com", "b@example.com", "--no-send", "--as", ADMIN
    ).out
    assert "No email was sent; send them with: licensekit members send" in out
    pending = world.ok(
        "members", "invitations", "--state", "pending", "--as", ADMIN, "--json"
    ).json()
    assert {i["delivery"] for i in pending} == {"not_sent"}
    assert "a@example.com" in world.ok("members", "invitations", "--as", ADMIN).out
    assert "2 emails written to" in world.ok("members", "send", "--as", ADMIN).out
    assert "0 emails" in world.ok("members", "send", "--as", ADMIN).out
    first = pending[0]["id"]
    sent = world.ok("members", "resend", first, "--as", ADMIN, "--json").json()
    assert sent["sent"][0]["sent_count"] == 2
    again = world.ok("members", "send", first, "--as", ADMIN, "--json").json()
    assert again == {"sent": [], "undelivered": []}
    assert "no invitation" in world.usage("members", "send", "jinv_nope", "--as", ADMIN).err
    assert (
        "Revoked the invitation of a@example.com"
        in world.ok("members", "revoke", first, "--as", ADMIN).out
    )
    assert (
        world.ok("members", "revoke", pending[1]["id"], "--as", ADMIN, "--json").json()["state"]
        == "revoked"
    )
    assert "revoked" in world.refused("members", "resend", first, "--as", ADMIN).err


def test_accept_asks_an_existing_user_for_their_current_password(world: CLI) -> None:
    world.ok(
        "register", "zed@example.com", "--verified", "--password-stdin", stdin="zed's passphrase"
    )
    world.ok("members", "invite", "zed@example.com", "new@example.com", "--as", ADMIN)
    link = world.link("zed@example.com")
    assert (
        "wrong password" in world.refused("accept", link, "--password-stdin", stdin="not zed's").err
    )
    joined = world.ok("accept", link, "--password-stdin", "--json", stdin="zed's passphrase")
    assert joined.json()["personal_account_created"] is False
    token = token_from(
        world.link("new@example.com"), "https://portal.example.com/join?token={token}"
    )
    # "--" ends the options: a bare token starts with "-" one time in 64 (URL-safe base64).
    out = world.ok("accept", "--password-stdin", "--", token, stdin="a new passphrase").out
    assert "with a new personal account" in out
    assert (
        "already been accepted"
        in world.refused("accept", "--password-stdin", "--", token, stdin="x" * 12).err
    )
    assert "not valid" in world.refused("accept", "forged", "--password-stdin", stdin="x" * 12).err


def test_a_link_is_read_for_its_token() -> None:
    template = "https://portal.example.com/join?token={token}"
    assert token_from(" https://portal.example.com/join?token=abc ", template) == "abc"
    assert token_from("https://elsewhere.example/x?token=def&y=1", template) == "def"
    assert token_from("ghi", template) == "ghi"
    with pytest.raises(UsageError, match="no token"):
        token_from("https://elsewhere.example/x", template)


# == license keys =============================================================================


def test_keys_are_added_listed_and_shown_masked(world: CLI) -> None:
    out = world.ok(
        "keys",
        "add",
        "--product",
        "Server",
        "--seats",
        2,
        "--expires",
        "2099-01-31",
        "--value-stdin",
        "--as",
        ADMIN,
        stdin="SRV-1234-5678-ABCD\n",
    ).out
    assert "Added a 2-seat key for Server" in out
    assert "-ABCD" in out
    assert "1234" not in out
    assert "2099-01-31 00:00" in out
    listed = world.ok("keys", "list", "--as", ADMIN, "--json").json()
    assert [k["product"] for k in listed] == [PRODUCT, "Server"]
    assert all("7HWD" in k["masked_value"] or "ABCD" in k["masked_value"] for k in listed)
    assert "never" in world.ok("keys", "list", "--as", ADMIN).out
    assert "(hidden)" in world.ok("keys", "show", PRODUCT, "--as", ALAN).out
    assert world.ok("keys", "list", "--as", ALAN, "--json").json()[0]["masked_value"] is None
    assert (
        "already holds"
        in world.refused(
            "keys",
            "add",
            "--product",
            "X",
            "--seats",
            1,
            "--value-stdin",
            "--as",
            ADMIN,
            stdin="SRV-1234-5678-ABCD",
        ).err
    )


def test_key_options_are_checked(world: CLI) -> None:
    assert (
        "at least 1"
        in world.usage("keys", "add", "--product", "X", "--seats", 0, "--as", ADMIN).err
    )
    assert (
        "not a whole number"
        in world.usage("keys", "add", "--product", "X", "--seats", "many", "--as", ADMIN).err
    )
    assert (
        "not a date"
        in world.usage("keys", "change", PRODUCT, "--expires", "soon", "--as", ADMIN).err
    )
    assert "give --seats" in world.usage("keys", "change", PRODUCT, "--as", ADMIN).err


def test_keys_change_suspend_resume_and_remove(world: CLI) -> None:
    out = world.ok(
        "keys",
        "change",
        PRODUCT,
        "--seats",
        7,
        "--expires",
        "2099-06-01T12:00+02:00",
        "--as",
        ADMIN,
    ).out
    assert re.search(r"Seats: +7 \(0 used, 7 free\)", out)
    assert "2099-06-01 10:00" in out
    assert (
        world.ok("keys", "change", PRODUCT, "--no-expiry", "--as", ADMIN, "--json").json()[
            "expires_at"
        ]
        is None
    )
    assert "Suspended" in world.ok("keys", "suspend", PRODUCT, "--as", ADMIN).out
    assert "Resumed" in world.ok("keys", "resume", PRODUCT, "--as", ADMIN).out
    assert world.ok("keys", "remove", PRODUCT, "--as", ADMIN, "--json").json()["status"] == (
        "removed"
    )
    assert world.ok("keys", "list", "--as", ADMIN, "--json").json() == []
    assert len(world.ok("keys", "list", "--all", "--as", ADMIN, "--json").json()) == 1
    world.ok("keys", "resume", PRODUCT, "--as", ADMIN)
    assert (
        "needs the Account Administrator role"
        in world.refused("keys", "change", PRODUCT, "--seats", 9, "--as", ALAN).err
    )


def test_a_key_is_named_by_id_or_product_and_must_be_unambiguous(world: CLI) -> None:
    key_id = world.ok("keys", "list", "--as", ADMIN, "--json").json()[0]["id"]
    assert world.ok("keys", "show", key_id, "--as", ADMIN, "--json").json()["product"] == PRODUCT
    assert world.ok("keys", "show", "desktop pro", "--as", ADMIN, "--json").json()["id"] == key_id
    world.ok(
        "keys",
        "add",
        "--product",
        PRODUCT,
        "--seats",
        1,
        "--value-stdin",
        "--as",
        ADMIN,
        stdin="ANOTHER-VALUE-1",
    )
    assert "2 license keys are for" in world.usage("keys", "show", PRODUCT, "--as", ADMIN).err
    assert "choose one with --key" in world.usage("installers", "list", "--as", ADMIN).err
    assert "no license key 'Nothing'" in world.refused("keys", "show", "Nothing", "--as", ADMIN).err


def test_a_removed_key_gives_way_to_a_current_one_of_the_same_product(world: CLI) -> None:
    world.ok("keys", "remove", PRODUCT, "--as", ADMIN)
    assert (
        "no license key in business account"
        in world.refused("installers", "list", "--as", ADMIN).err
    )
    world.ok(
        "keys",
        "add",
        "--product",
        PRODUCT,
        "--seats",
        1,
        "--value-stdin",
        "--as",
        ADMIN,
        stdin="ANOTHER-VALUE-2",
    )
    assert world.ok("keys", "show", PRODUCT, "--as", ADMIN, "--json").json()["status"] == "active"


def test_license_administrators_are_granted_and_revoked(world: CLI) -> None:
    assert (
        "is no longer License Administrator of Desktop Pro"
        in world.ok("keys", "revoke", PRODUCT, ALAN, "--as", ADMIN).out
    )
    assert (
        "License Administrator rights over a key" in world.refused("keys", "list", "--as", ALAN).err
    )
    view = world.ok("keys", "grant", PRODUCT, ALAN, "--as", ADMIN, "--json").json()
    assert len(view["license_keys"]) == 1


# == invitations to install, activation and installations =====================================


def invite_everyone(world: CLI, *extra: object) -> Ran:
    path = write_csv(world.folder, [f"{p}@example.com" for p in PEOPLE])
    return world.ok("installers", "invite", "--csv", path, "--as", ALAN, *extra)


def test_installers_are_invited_from_a_csv_with_a_seat_warning(world: CLI) -> None:
    path = write_csv(world.folder, ["email", *(f"{p}@example.com" for p in PEOPLE), "oops"])
    ran = world.ok(
        "installers", "invite", "--csv", path, "--language", "de", "--expires", "7d", "--as", ALAN
    )
    assert "Invited 8 to install Desktop Pro" in ran.out
    assert "row 10: 'oops'" in ran.out
    assert "Warning: 8 invitations for 5 free seats" in ran.out
    assert "8 emails written to" in ran.out
    assert len(read_folder(world.mail_dir)) == 10


def test_installers_invited_from_typed_emails_in_json(world: CLI) -> None:
    ran = world.ok(
        "installers",
        "invite",
        "ann@example.com",
        "--max-activations",
        2,
        "--key",
        PRODUCT,
        "--as",
        ADMIN,
        "--json",
    ).json()
    assert ran["invited"][0]["max_activations"] == 2
    assert ran["warnings"] == []
    assert (
        "not both"
        in world.usage("installers", "invite", "a@example.com", "--csv", "f.csv", "--as", ADMIN).err
    )
    assert "--csv FILE" in world.usage("installers", "invite", "--as", ADMIN).err


def test_invitations_to_install_are_exported_sent_and_revoked(world: CLI, tmp_path: Path) -> None:
    invite_everyone(world, "--no-send")
    exported = world.ok("installers", "export", "--as", ALAN).out
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [r["email"] for r in rows] == [f"{p}@example.com" for p in PEOPLE]
    assert all(find_code(r["temporary_activation_code"]) for r in rows)
    as_json = world.ok("installers", "export", "--as", ALAN, "--json").json()
    assert as_json == rows
    target = tmp_path / "invitations.csv"
    assert "Wrote 8 invitations" in world.ok("installers", "export", "-o", target, "--as", ALAN).out
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_bytes().decode("utf-8") == exported
    assert "exists already" in world.refused("installers", "export", "-o", target, "--as", ALAN).err
    assert (
        "cannot create"
        in world.refused("installers", "export", "-o", tmp_path / "no" / "x.csv", "--as", ALAN).err
    )
    assert (
        world.ok("installers", "export", "-o", tmp_path / "b.csv", "--json", "--as", ALAN).json()[
            "invitations"
        ]
        == 8
    )
    listed = world.ok("installers", "list", "--as", ALAN, "--json").json()
    assert {i["state"] for i in listed} == {"pending"}
    first, second = listed[0]["id"], listed[1]["id"]
    assert "1 email written" in world.ok("installers", "send", first, first, "--as", ALAN).out
    assert (
        "not invitations of Desktop Pro"
        in world.usage("installers", "send", "inst_x", "--as", ALAN).err
    )
    assert "7 emails written" in world.ok("installers", "send", "--as", ALAN).out
    assert "1 email written" in world.ok("installers", "resend", first, "--as", ALAN).out
    out = world.ok("installers", "revoke", second, "--as", ALAN).out
    assert "its code and link no longer work" in out
    assert world.ok("installers", "revoke", first, "--as", ALAN, "--json").json()["state"] == (
        "revoked"
    )
    states = world.ok("installers", "list", "--state", "revoked", "--as", ALAN).out
    assert "0/1" in states
    assert "ann@example.com" in states
    assert (
        len(
            list(
                csv.DictReader(
                    io.StringIO(world.ok("installers", "export", "--all", "--as", ALAN).out)
                )
            )
        )
        == 8
    )


def test_activation_until_the_seats_are_full(world: CLI) -> None:
    invite_everyone(world)
    for number, person in enumerate(PEOPLE[:5], start=1):
        email = f"{person}@example.com"
        if number % 2:
            way = ("--token", world.link(email))
        else:
            way = ("--code", world.code(email).lower().replace("-", " "))
        out = world.ok(
            "activate", *way, "--computer-id", f"SN-{number}", "--computer-name", f"{person}-mac"
        ).out
        assert f"Activated Desktop Pro on {person}-mac (SN-{number}) for {email}" in out
    again = world.ok("activate", "--code", world.code("ann@example.com"), "--computer-id", "SN-1")
    assert "holds a seat of Desktop Pro already" in again.out
    full = world.refused(
        "activate", "--code", world.code("fay@example.com"), "--computer-id", "SN-6"
    )
    assert "all 5 seats" in full.err
    listed = world.ok("installations", "list", "--as", ALAN).out
    assert "5 of 5 seats used" in listed
    assert "ann-mac" in listed
    assert (
        "Deactivated ann-mac (SN-1, ann@example.com)"
        in world.ok("installations", "deactivate", "SN-1", "--as", ALAN).out
    )
    result = world.ok(
        "activate", "--code", world.code("fay@example.com"), "--computer-id", "SN-6", "--json"
    ).json()
    assert result["email"] == "fay@example.com"
    assert "installation_token" not in result


def test_activation_refusals_and_input_errors(world: CLI) -> None:
    invite_everyone(world)
    assert (
        "typing mistake"
        in world.refused(
            "activate", "--code", "7KQ2M-X0D9P-R4T8W-HC1ZB-5NV3E", "--computer-id", "SN-1"
        ).err
    )
    assert (
        "not for 'Other'"
        in world.refused(
            "activate",
            "--token",
            world.link("ann@example.com"),
            "--computer-id",
            "SN-1",
            "--product",
            "Other",
        ).err
    )
    assert (
        "the following arguments are required: --computer-id"
        in world.usage("activate", "--code", "X").err
    )
    assert (
        "not allowed with argument"
        in world.usage("activate", "--code", "X", "--token", "Y", "--computer-id", "1").err
    )


def test_installations_are_blocked_unblocked_and_listed(world: CLI) -> None:
    invite_everyone(world)
    world.ok("activate", "--code", world.code("ann@example.com"), "--computer-id", "SN-1")
    world.ok("activate", "--code", world.code("bob@example.com"), "--computer-id", "SN-2")
    listed = world.ok("installations", "list", "--as", ADMIN, "--json").json()
    assert [i["computer_id"] for i in listed] == ["SN-1", "SN-2"]
    out = world.ok("installations", "block", "SN-1", "--notes", "stolen", "--as", ADMIN).out
    assert "Blocked computer SN-1 under every key of the account" in out
    blocked = world.ok("installations", "blocked", "--as", ADMIN).out
    assert "SN-1" in blocked
    assert "stolen" in blocked
    assert ADMIN in blocked
    assert (
        "blocked"
        in world.refused(
            "activate", "--code", world.code("cy@example.com"), "--computer-id", "SN-1"
        ).err
    )
    assert "may activate again" in world.ok("installations", "unblock", "SN-1", "--as", ADMIN).out
    assert "No computer is blocked" in world.ok("installations", "blocked", "--as", ADMIN).out
    block = world.ok("installations", "block", listed[1]["id"], "--as", ALAN, "--json").json()
    assert block["key_id"] is not None
    assert (
        world.ok("installations", "blocked", "--as", ALAN, "--json").json()[0]["computer_id"]
        == "SN-2"
    )
    assert (
        world.ok(
            "installations", "unblock", "SN-2", "--key", PRODUCT, "--as", ALAN, "--json"
        ).json()["unblocked"]
        is True
    )
    inactive = world.ok("installations", "list", "--all", "--as", ADMIN, "--json").json()
    assert {i["status"] for i in inactive} == {"deactivated"}
    assert (
        "no active installation of computer 'SN-1'"
        in world.refused("installations", "deactivate", "SN-1", "--key", PRODUCT, "--as", ADMIN).err
    )


def test_a_computer_under_several_keys_must_be_chosen(world: CLI) -> None:
    world.ok(
        "keys",
        "add",
        "--product",
        "Server",
        "--seats",
        1,
        "--value-stdin",
        "--as",
        ADMIN,
        stdin="SERVER-KEY-1",
    )
    world.ok("installers", "invite", "ann@example.com", "--key", PRODUCT, "--as", ADMIN)
    world.ok("installers", "invite", "bob@example.com", "--key", "Server", "--as", ADMIN)
    world.ok("activate", "--code", world.code("ann@example.com"), "--computer-id", "SN-1")
    world.ok("activate", "--code", world.code("bob@example.com"), "--computer-id", "SN-1")
    assert (
        "active under several keys"
        in world.usage("installations", "deactivate", "SN-1", "--as", ADMIN).err
    )
    view = world.ok(
        "installations", "deactivate", "SN-1", "--key", "Server", "--as", ADMIN, "--json"
    ).json()
    assert view["status"] == "deactivated"


def test_the_audit_trail_is_shown_in_order(world: CLI) -> None:
    invite_everyone(world)
    world.ok("activate", "--code", world.code("ann@example.com"), "--computer-id", "SN-1")
    out = world.ok("audit", "--as", ADMIN).out
    assert out.index("account.created") < out.index("installation.activated")
    assert "(installer)" in out
    assert "key=Desktop Pro" in out
    assert "ann@example.com" in out
    events = world.ok("audit", "--limit", 2, "--as", ADMIN, "--json").json()
    assert [e["action"] for e in events] == ["install_invitation.sent", "installation.activated"]
    assert "Account Administrator" in world.refused("audit", "--as", ALAN).err


# == lifting a lock ===========================================================================


def test_lift_lockout_lets_a_locked_out_person_accept_again(world: CLI) -> None:
    world.ok(
        "register", "zed@example.com", "--verified", "--password-stdin", stdin="zed's passphrase"
    )
    world.ok("members", "invite", "zed@example.com", "--as", ADMIN)
    link = world.link("zed@example.com")
    for _ in range(5):
        world.refused("accept", link, "--password-stdin", stdin="not zed's passphrase")
    locked = world.refused("accept", link, "--password-stdin", stdin="zed's passphrase")
    assert "too many failed attempts for log-ins as zed@example.com" in locked.err

    lifted = world.ok("lift-lockout", "--email", "ZED@example.com")

    assert lifted.out == "Lifted 1 lock (log-ins and emails asked for zed@example.com)\n"
    assert (
        "joined Example Corp"
        in world.ok("accept", link, "--password-stdin", stdin="zed's passphrase").out
    )
    assert world.ok("lift-lockout", "--email", "zed@example.com", "--json").json() == {
        "lifted": 0,
        "client": None,
        "email": "zed@example.com",
    }


def test_lift_lockout_lifts_a_client_that_a_service_on_the_database_locked(world: CLI) -> None:
    """The tool and a host's service may share the database: the operator lifts its locks."""
    secret = parse_secret((world.folder / "licensekit.secret").read_text(), "the test")
    service = LicenseKit(world.db, RecordingMailer(), secret=secret, join_url=TEST_JOIN_URL)
    try:
        for n in range(10):
            with pytest.raises(ActivationCodeNotFound):
                service.activate(token=f"unknown-{n}", computer_id="probe", client="192.0.2.7")

        ran = world.ok("lift-lockout", "--client", "192.0.2.7", "--json")

        assert ran.json() == {"lifted": 1, "client": "192.0.2.7", "email": None}
        with pytest.raises(ActivationCodeNotFound):
            service.activate(token="unknown", computer_id="probe", client="192.0.2.7")
        assert world.ok("lift-lockout", "--client", "192.0.2.7").out == (
            "Lifted no lock (client 192.0.2.7)\n"
        )
    finally:
        service.close()


def test_lift_lockout_needs_a_client_or_an_email(world: CLI) -> None:
    assert "give --client, --email or both" in world.usage("lift-lockout").err
    assert "give --client, --email or both" in world.usage("lift-lockout", "--client", " ").err
    refused = world.refused("lift-lockout", "--email", "nobody")
    assert "invalid email address 'nobody'" in refused.err


# == the mail folder ==========================================================================


def test_the_mail_folder_is_listed_and_read(world: CLI) -> None:
    out = world.ok("mail", "list").out
    assert "join_invitation" in out
    assert GRACE in out
    shown = world.ok("mail", "show", "--to", "GRACE@example.com").out
    assert "Subject: Join Example Corp on licensekit" in shown
    assert "https://portal" in shown
    link = world.ok("mail", "show", "--kind", "join_invitation", "--link", "--json").json()
    assert link["link"].startswith("https://portal.example.com/join?token=")
    assert world.ok("mail", "show", "--to", ALAN, "--json").json()["text"].startswith("Hello")
    assert "no activation code" in world.refused("mail", "show", "--to", GRACE, "--code").err
    assert (
        "no message to x@example.com" in world.refused("mail", "show", "--to", "x@example.com").err
    )
    invite_everyone(world)
    code = world.ok("mail", "show", "--to", "ann@example.com", "--code", "--json").json()["code"]
    assert find_code(code) == code


def test_the_mail_commands_need_the_file_mailer(world: CLI) -> None:
    assert "SMTP is configured" in world.refused("mail", "list", "--smtp-host", "localhost").err
    empty = CLI(world.folder, env={"LICENSEKIT_MAIL_DIR": str(world.folder / "none")})
    assert "(none)" in empty.ok("mail", "list").out
    assert (
        "no link"
        in world.refused(
            "mail", "show", "--to", GRACE, "--link", "--join-url", "https://other.example/j/{token}"
        ).err
    )


def test_a_broken_message_file_is_read_as_far_as_it_goes(world: CLI) -> None:
    (world.mail_dir / "stray.eml").write_bytes(b"Subject: hand made\nDate: not a date\n\nhi\n")
    (world.mail_dir / "odd.eml").write_bytes(
        b"Subject: odd\nContent-Type: text/plain; charset=klingon\n\nhi\n"
    )
    letters = {m.path.name: m for m in read_folder(world.mail_dir)}
    assert letters["stray.eml"].kind == ""
    assert letters["stray.eml"].date is None
    assert letters["odd.eml"].text == ""
    assert _kind_of("1-2-3-4-unknown_kind-x@example.com.eml") == ""
    assert read_folder(world.folder / "nowhere") == []
    (world.mail_dir / "unreadable.eml").mkdir()
    assert "cannot read" in world.refused("mail", "list").err


# == SMTP =====================================================================================


def test_emails_go_through_smtp_when_a_host_is_set(world: CLI) -> None:
    from _smtp_server import SMTPServer

    with SMTPServer() as server:
        smtp = {
            "LICENSEKIT_SMTP_HOST": "127.0.0.1",
            "LICENSEKIT_SMTP_PORT": str(server.port),
            "LICENSEKIT_SMTP_SECURITY": "none",
            "LICENSEKIT_SENDER": "Licenses <licenses@example.com>",
        }
        out = world.ok("members", "invite", "new@example.com", "--as", ADMIN, env=smtp).out
        assert "1 email sent through 127.0.0.1" in out
        assert server.handler.received_by("new@example.com")
        init = world.ok("init", env=smtp).out
        assert "SMTP server 127.0.0.1 (none)" in init


def test_undelivered_emails_leave_stored_invitations_and_status_one(world: CLI) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = [
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        port,
        "--smtp-security",
        "none",
        "--smtp-timeout",
        2,
    ]
    ran = world.run("members", "invite", "new@example.com", *smtp, "--as", ADMIN)
    assert ran.status == 1
    assert "Not delivered:" in ran.out
    assert "cannot reach the SMTP server" in ran.out
    assert ran.err.strip().endswith("send them again with 'licensekit members send'")
    ran = world.run("installers", "invite", "ann@example.com", *smtp, "--as", ADMIN, "--json")
    assert ran.status == 1
    assert ran.json()["undelivered"][0]["email"] == "ann@example.com"
    ran = world.run("members", "send", *smtp, "--as", ADMIN, "--json")
    assert ran.status == 1
    assert len(ran.json()["undelivered"]) == 1
    ran = world.run("members", "invite", "late@example.com", *smtp, "--as", ADMIN, "--json")
    assert ran.status == 1
    assert ran.json()["invited"][0]["delivery"] == "failed"
    assert "1 email written" in world.ok("installers", "send", "--as", ADMIN).out


def test_smtp_settings_from_the_environment_are_checked(world: CLI) -> None:
    assert (
        "LICENSEKIT_SMTP_PORT must be a number"
        in world.usage("accounts", "list", "--as", ADMIN, env={"LICENSEKIT_SMTP_PORT": "smtp"}).err
    )
    assert (
        "LICENSEKIT_SMTP_SECURITY must be one of"
        in world.usage(
            "accounts", "list", "--as", ADMIN, env={"LICENSEKIT_SMTP_SECURITY": "ssl"}
        ).err
    )
    assert (
        "both username and password"
        in world.refused(
            "accounts",
            "list",
            "--as",
            ADMIN,
            "--smtp-host",
            "mail.example.com",
            "--smtp-user",
            "me",
        ).err
    )


# == output ===================================================================================


def test_json_is_plain_data_without_hidden_fields() -> None:
    import datetime as dt

    from licensekit import ActivationResult, Role

    result = ActivationResult(
        installation_id="ins_1",
        installation_token="secret-token",
        account_id="acc_1",
        key_id="key_1",
        product="P",
        email="a@example.com",
        computer_id="SN",
        activated_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        license_expires_at=None,
        already_active=False,
    )
    data = jsonable({"result": result, "roles": {Role.REGULAR_MEMBER}, "path": Path("x")})
    assert data == {
        "result": {
            "installation_id": "ins_1",
            "account_id": "acc_1",
            "key_id": "key_1",
            "product": "P",
            "email": "a@example.com",
            "computer_id": "SN",
            "activated_at": "2030-01-01T00:00:00+00:00",
            "license_expires_at": None,
            "already_active": False,
            "certificate": None,
            "check_in_due_at": None,
        },
        "roles": ["regular_member"],
        "path": "x",
    }
    assert jsonable(dt.timedelta(days=7, hours=1)) == "P7DT1H"


def test_tables_are_aligned_and_carry_no_control_characters() -> None:
    lines = render_table(["A", "LONG HEADER"], [["x\x1b[31m", "1"], ["yyyy", "22\nz"]])
    assert lines == [
        "A       LONG HEADER",
        "------  -----------",
        "x [31m  1",
        "yyyy    22 z",
    ]
    stream = io.StringIO()
    Output(stream, json_mode=True).table(["A"], [])
    assert stream.getvalue() == ""


# == progress =================================================================================


def test_the_progress_bar_draws_only_on_a_terminal() -> None:
    terminal = FakeTerminal()
    with Progress(4, "Sending", terminal) as bar:
        bar.advance(3)
        bar.advance(3)
    drawn = terminal.getvalue()
    assert drawn.startswith("\rSending [")
    assert drawn.endswith("] 4/4\n")
    assert "0/4" in drawn
    assert "3/4" in drawn
    pipe = io.StringIO()
    with Progress(4, "Sending", pipe) as bar:
        bar.advance(4)
    assert pipe.getvalue() == ""
    assert not Progress(0, "Nothing", FakeTerminal()).enabled


def test_a_stream_that_cannot_tell_is_no_terminal() -> None:
    closed = io.StringIO()
    closed.close()
    assert is_terminal(closed) is False


def test_sending_shows_progress_on_a_terminal_stderr(world: CLI) -> None:
    path = write_csv(world.folder, [f"person{n}@example.com" for n in range(60)])
    terminal = FakeTerminal()
    ran = world.run("installers", "invite", "--csv", path, "--as", ALAN, stderr=terminal)
    assert ran.status == 0
    assert "60 emails written" in ran.out
    drawn = terminal.getvalue()
    assert "25/60" in drawn
    assert "50/60" in drawn
    assert drawn.endswith("60/60\n")


# == the demo =================================================================================


def test_the_demo_plays_both_pages_in_a_new_folder(tmp_path: Path) -> None:
    cli = CLI(tmp_path)
    db = tmp_path / "tour" / "guide.db"
    db.parent.mkdir()
    ran = cli.ok("demo", "--db", db)
    out = ran.out
    assert "Part 1. Inviting users to join a business account" in out
    assert "Part 2. Inviting users to install" in out
    assert "$ export LICENSEKIT_DB=guide.db" in out
    assert "refused (PermissionDenied)" in out
    assert out.count("refused (SeatsFull)") == 1
    # six in part 2, Gus's in part 3, Hal's through the lab's key in part 4
    assert out.count("Activated Desktop Pro on") == 8
    assert "installation.refused" in out
    # Part 3: the installed copy's side.
    assert "Part 3. The installed product's side" in out
    assert "The certificate is valid on SN-0007 until" in out
    assert out.count("License state:   active (the copy runs)") == 2
    assert "License state:   suspended (the copy must stop)" in out
    assert "Certificate:     none (the last one runs out at its lease)" in out
    assert "Culled 0 installations under 1 key that cull" in out
    kept = db.parent / "gus-laptop"
    assert stat.S_IMODE((kept / "installation-token").stat().st_mode) == 0o600
    assert (kept / "certificate").read_text().startswith("-----BEGIN LICENSEKIT CERTIFICATE")
    assert (db.parent / "invitations.csv").is_file()
    assert "ida@example.com is verified" in out
    assert "The password was changed and every session signed out" in out
    # Part 4: additional keys, their pool, and a License Administrator of the primary.
    assert "Part 4. Additional keys" in out
    assert out.count("Added additional key") == 2
    assert "Reserved:                   2 (1 used)" in out
    assert "Additional key of:" in out
    assert "Status:            removed" in out
    # 2 join invitations, 9 invitations to install, a verification and a reset link.
    assert len(list((db.parent / "guide-mail").glob("*.eml"))) == 13
    assert "exists" in cli.refused("demo", "--db", db).err
    assert "does not exist" in cli.refused("demo", "--db", tmp_path / "no" / "x.db").err


def test_the_demo_makes_its_own_folder_and_ignores_the_environment(
    world: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    ran = world.ok("demo", env={"LICENSEKIT_SMTP_HOST": "mail.invalid"})
    assert f"$ cd {tmp_path}" in ran.out
    assert "emails written to licensekit-mail" in ran.out


# == corners ==================================================================================


def test_listings_follow_every_page() -> None:
    from licensekit import Page
    from licensekit.cli._app import all_pages

    pages = {None: Page((1, 2), "a"), "a": Page((3,), "b"), "b": Page((), None)}
    assert all_pages(lambda cursor: pages[cursor]) == [1, 2, 3]


def test_the_demo_indents_partial_lines() -> None:
    from licensekit.cli.commands.demo import _Indented

    target = io.StringIO()
    stream = _Indented(target, "> ")
    stream.write("a")
    stream.write("b\nc\n")
    stream.flush()
    assert target.getvalue() == "> ab\n> c\n"


def test_a_license_administrator_sees_ids_where_emails_are_not_theirs_to_see(world: CLI) -> None:
    invite_everyone(world)
    world.ok("activate", "--code", world.code("ann@example.com"), "--computer-id", "SN-1")
    world.ok("installations", "block", "SN-1", "--as", ALAN)
    assert "usr_" in world.ok("installations", "blocked", "--as", ALAN).out


def test_inviting_only_people_who_are_members_sends_nothing(world: CLI) -> None:
    out = world.ok("members", "invite", GRACE, "--as", ADMIN).out
    assert "Invited 0 to join" in out
    assert "written" not in out


def test_a_failed_send_lists_the_failures(world: CLI) -> None:
    world.ok("members", "invite", "new@example.com", "--no-send", "--as", ADMIN)
    ran = world.run(
        "members",
        "send",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        1,
        "--smtp-security",
        "none",
        "--as",
        ADMIN,
    )
    assert ran.status == 1
    assert "0 emails sent through 127.0.0.1" in ran.out
    assert "Not delivered:" in ran.out


def test_unusable_database_and_secret_paths_are_refused(world: CLI, tmp_path: Path) -> None:
    assert (
        "not a database file"
        in world.refused("accounts", "list", "--as", ADMIN, "--db", tmp_path).err
    )
    beneath = world.folder / "licensekit.secret" / "x"
    assert (
        "cannot read the secret file"
        in world.refused("accounts", "list", "--as", ADMIN, "--secret-file", beneath).err
    )
    fresh = CLI(tmp_path / "new")
    fresh.folder.mkdir()
    assert (
        "cannot create the secret file"
        in fresh.refused("init", "--secret-file", tmp_path / "missing" / "s").err
    )


def test_corners_of_init_and_the_mail_folder(fresh: CLI, tmp_path: Path) -> None:
    from licensekit.cli._secret import create_secret_file

    fresh.folder.mkdir()
    bad = {"LICENSEKIT_SECRET": "ab" * 32, "LICENSEKIT_JOIN_URL": "https://x.example/join"}
    assert "{token}" in fresh.refused("init", env=bad).err
    create_secret_file(tmp_path / "s")
    with pytest.raises(Exception, match="never overwritten"):
        create_secret_file(tmp_path / "s")
    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "html.eml").write_bytes(
        b"Subject: html only\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/alternative; boundary="b"\n\n'
        b"--b\nContent-Type: text/html\n\n<p>hi</p>\n--b--\n"
    )
    assert read_folder(mail)[0].text == ""
