"""``licensekit signing-key`` and ``licensekit verify-certificate``: the signing key file made,
rotated and listed from the command line, and certificates checked as the product does."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from _certificates import claims
from _cli_support import CLI
from licensekit.domain.certificates import LicenseState
from licensekit.signing import KeyFileSigner, issue_certificate

AT = ("--at", "2030-01-02T12:00")
CLAIMS = claims(license_state=LicenseState.GRACE)


@pytest.fixture(autouse=True)
def _no_licensekit_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("LICENSEKIT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def cli(tmp_path: Path) -> CLI:
    folder = tmp_path / "site"
    folder.mkdir()
    return CLI(folder)


@pytest.fixture
def keyed(cli: CLI) -> CLI:
    cli.ok("signing-key", "create")
    return cli


def key_file(cli: CLI) -> Path:
    return cli.folder / "licensekit.signing-keys"


def certificate(cli: CLI, name: str = "cert.txt") -> Path:
    """A certificate signed with the current key of *cli*'s key file, as the service would."""
    path = cli.folder / name
    path.write_text(issue_certificate(KeyFileSigner(key_file(cli)), CLAIMS), encoding="ascii")
    return path


def public_keys(cli: CLI, name: str = "public-keys.json") -> Path:
    path = cli.folder / name
    path.write_text(cli.ok("signing-key", "public", "--json").out, encoding="utf-8")
    return path


# == the key file ============================================================================


def test_create_makes_a_private_key_file_beside_the_database(cli: CLI) -> None:
    ran = cli.ok("signing-key", "create")
    path = key_file(cli)
    assert f"Created the signing key file {path.resolve()} (readable by you alone" in ran.out
    assert "licensekit signing-key public --json" in ran.out
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key_id = KeyFileSigner(path).key_id
    assert key_id in ran.out
    assert "exists already" in cli.refused("signing-key", "create").err


def test_the_key_file_can_be_named(cli: CLI, tmp_path: Path) -> None:
    named = tmp_path / "named.keys"
    data = cli.ok("signing-key", "create", "--signing-key-file", named, "--json").json()
    assert data["file"] == str(named.resolve())
    assert data["key"]["state"] == "current"
    assert data["key"]["key_id"] == KeyFileSigner(named).key_id
    by_env = tmp_path / "env.keys"
    cli.ok("signing-key", "create", env={"LICENSEKIT_SIGNING_KEY_FILE": str(by_env)})
    assert by_env.exists()
    assert not key_file(cli).exists()


def test_a_postgresql_database_needs_the_key_file_named(cli: CLI) -> None:
    err = cli.refused("signing-key", "create", "--db", "postgresql://db.internal/x").err
    assert "--signing-key-file PATH" in err


def test_public_lists_the_keys_and_prints_them_for_the_product(keyed: CLI) -> None:
    signer = KeyFileSigner(key_file(keyed))
    table = keyed.ok("signing-key", "public").out
    assert "KEY ID" in table
    assert f"{signer.key_id}  current" in table
    assert signer.keys[0].public_key_text in table
    assert keyed.ok("signing-key", "public", "--json").json() == {
        signer.key_id: signer.keys[0].public_key_text
    }


def test_prepare_rotate_and_drop(keyed: CLI) -> None:
    first = KeyFileSigner(key_file(keyed)).key_id
    ahead = keyed.ok("signing-key", "prepare", "--json").json()
    assert ahead["state"] == "next"
    assert list(keyed.ok("signing-key", "public", "--json").json()) == [first, ahead["key_id"]]
    assert "holds a next key already" in keyed.refused("signing-key", "prepare").err
    ran = keyed.ok("signing-key", "rotate")
    assert f"Key {ahead['key_id']} signs certificates from now on; {first} is retired" in ran.out
    assert "is new" not in ran.out
    rotated = keyed.ok("signing-key", "rotate", "--json").json()
    assert rotated["retired"] == ahead["key_id"]
    assert rotated["prepared"] is False
    assert (
        "current signing key"
        in keyed.refused("signing-key", "drop", rotated["current"]["key_id"]).err
    )
    assert "no key 'nope'" in keyed.refused("signing-key", "drop", "nope").err
    too_soon = keyed.refused("signing-key", "drop", first).err
    assert "may be valid until" in too_soon
    assert "force it" in too_soon
    dropped = keyed.ok("signing-key", "drop", first, "--force")
    assert f"Dropped the retired key {first}" in dropped.out
    assert first not in keyed.ok("signing-key", "public", "--json").json()


def test_a_rotation_without_a_prepared_key_warns(keyed: CLI) -> None:
    out = keyed.ok("signing-key", "rotate").out
    assert "is new: products refuse its certificates until they have its public key" in out


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_key_file_others_can_read_is_refused(keyed: CLI) -> None:
    key_file(keyed).chmod(0o644)
    err = keyed.refused("signing-key", "public").err
    assert "permissions 0644" in err
    assert "chmod 600" in err


def test_without_a_key_file_the_commands_say_how_to_make_one(cli: CLI) -> None:
    for argv in (("signing-key", "rotate"), ("verify-certificate", "x", "--computer-id", "pc")):
        assert "licensekit signing-key create" in cli.refused(*argv).err


# == verifying ===============================================================================


def test_verify_shows_the_claims_of_a_valid_certificate(keyed: CLI) -> None:
    path = certificate(keyed)
    out = keyed.ok("verify-certificate", path, "--computer-id", "SN-0001", *AT).out
    assert out.startswith("The certificate is valid on SN-0001 until 2030-01-08 12:00 UTC:")
    assert "License state:    grace" in out
    assert "License expires:  never" in out
    data = keyed.ok("verify-certificate", path, "--computer-id", "SN-0001", *AT, "--json").json()
    assert data["installation_id"] == "ins_1"
    assert data["valid_until"] == "2030-01-08T12:00:00+00:00"
    assert data["signing_key_id"] == KeyFileSigner(key_file(keyed)).key_id


def test_verify_reads_standard_input_and_a_public_keys_file(keyed: CLI) -> None:
    text = certificate(keyed).read_text(encoding="ascii")
    keys = public_keys(keyed)
    ran = keyed.ok(
        "verify-certificate",
        "-",
        "--computer-id",
        "SN-0001",
        "--public-keys",
        keys,
        *AT,
        stdin=text.replace("\n", "\r\n"),
    )
    assert "valid on SN-0001" in ran.out


def test_a_rotated_key_still_verifies_until_dropped(keyed: CLI) -> None:
    old = certificate(keyed, "old.txt")
    first = KeyFileSigner(key_file(keyed)).key_id
    keyed.ok("signing-key", "rotate")
    new = certificate(keyed, "new.txt")
    for path in (old, new):
        keyed.ok("verify-certificate", path, "--computer-id", "SN-0001", *AT)
    keyed.ok("signing-key", "drop", first, "--force")
    assert (
        "not among the public keys"
        in keyed.refused("verify-certificate", old, "--computer-id", "SN-0001", *AT).err
    )
    keyed.ok("verify-certificate", new, "--computer-id", "SN-0001", *AT)


def test_each_refusal_is_one_line(keyed: CLI, tmp_path: Path) -> None:
    path = certificate(keyed)
    text = path.read_text(encoding="ascii")
    tampered = keyed.folder / "tampered.txt"
    lines = text.split("\n")
    lines[4] = lines[4][:10] + ("A" if lines[4][10] != "A" else "B") + lines[4][11:]
    tampered.write_text("\n".join(lines), encoding="ascii")
    other = CLI(tmp_path / "other")
    other.folder.mkdir()
    other.ok("signing-key", "create")
    not_keys = keyed.folder / "bad.json"
    not_keys.write_text("[1, 2]", encoding="utf-8")
    not_json = keyed.folder / "bad.txt"
    not_json.write_text("{", encoding="utf-8")
    cases = {
        "issued to computer 'SN-0001', not to this one ('SN-0002')": (path, "SN-0002", AT),
        "lease ended at 2030-01-08 12:00:00 UTC": (path, "SN-0001", ("--at", "2031-01-01")),
        "later than now": (path, "SN-0001", ("--at", "2029-12-31")),
        "signature does not verify": (tampered, "SN-0001", AT),
        "not among the public keys given": (
            path,
            "SN-0001",
            (*AT, "--public-keys", public_keys(other)),
        ),
        "must hold a JSON object of key ids": (path, "SN-0001", ("--public-keys", not_keys)),
        "bad.txt' must hold a JSON object": (path, "SN-0001", ("--public-keys", not_json)),
        "there is no certificate": (keyed.folder / "none.txt", "SN-0001", AT),
        "is not a regular file": (keyed.folder, "SN-0001", AT),
    }
    for message, (file, computer, extra) in cases.items():
        err = keyed.refused("verify-certificate", file, "--computer-id", computer, *extra).err
        assert message in err, (message, err)


def test_the_computer_id_is_required(keyed: CLI) -> None:
    assert "--computer-id" in keyed.usage("verify-certificate", "cert.txt").err
