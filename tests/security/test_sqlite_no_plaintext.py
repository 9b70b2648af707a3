"""The bytes of a SQLite store hold no plaintext code, token, password or license key value.

A full scenario runs on a real file: users register with passwords and log in (and out),
an administrator creates a business account and invites members, who accept; license keys
are added; installers are invited (sent, and exported); computers activate by code and by
download token and check in. Then the raw bytes of the database file, its write-ahead log
and its shared-memory index are searched for every secret the scenario handled, in every
spelling a person or a program could use it (case, dashes, spaces; for random tokens also
their bytes, hex and base64) -- while the store is open, after it is closed, and after a
checkpoint that moves the log into the database file. Free pages are searched too, since
the whole files are: a secret that was never written cannot be left in one.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import csv
import io
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import pytest

from licensekit.exceptions import InvalidCredentials
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import TEST_SECRET, LicenseKitForTests, make_licensekit

ADMIN_PASSWORD = "admin-sqlite-pass-Vx31"
EXISTING_PASSWORD = "existing-sqlite-pass-Hq72"
NEWCOMER_PASSWORD = "newcomer-sqlite-pass-Zr08"
WRONG_GUESS = "wrong-sqlite-guess-Mb46"
KEY_VALUES = ("SQLT-4F7K-29XQ-MB3T-PLAIN", "ent 88zz 71qw kp0v sqlt")


class Secrets:
    def __init__(self) -> None:
        self.passwords = [ADMIN_PASSWORD, EXISTING_PASSWORD, NEWCOMER_PASSWORD, WRONG_GUESS]
        self.key_values = list(KEY_VALUES)
        self.codes: list[str] = []
        self.tokens: dict[str, list[str]] = {
            "join": [],
            "session": [],
            "download": [],
            "installation": [],
        }


def _scenario(kit: LicenseKitForTests) -> Secrets:
    found = Secrets()
    sessions = found.tokens["session"]
    kit.register_user("admin@example.com", ADMIN_PASSWORD, name="Ada Admin", email_verified=True)
    kit.register_user("existing@example.com", EXISTING_PASSWORD, email_verified=True)
    admin = kit.log_in("admin@example.com", ADMIN_PASSWORD)
    sessions.append(admin.token)
    with pytest.raises(InvalidCredentials):
        kit.log_in("admin@example.com", WRONG_GUESS)  # leaves a throttle record
    account = kit.create_business_account(admin, "Plaintext Hunters Ltd")

    invited = ["existing@example.com", "newcomer@example.com", "pending@example.com"]
    kit.invite_members(admin, account.id, invited)
    found.tokens["join"] += [kit.mailer.last_token(to=email) for email in invited]
    sessions.append(
        kit.accept_join_invitation(found.tokens["join"][0], password=EXISTING_PASSWORD).token
    )
    sessions.append(
        kit.accept_join_invitation(
            found.tokens["join"][1], password=NEWCOMER_PASSWORD, name="Nina Newcomer"
        ).token
    )
    newcomer = kit.log_in("newcomer@example.com", NEWCOMER_PASSWORD)
    sessions.append(newcomer.token)
    kit.log_out(newcomer)  # its record is deleted
    sessions.append(kit.trusted_session("sso@example.com", create=True).token)

    keys = [
        kit.add_license_key(admin, account.id, product=f"Product {n}", value=value, seats=5)
        for n, value in enumerate(KEY_VALUES)
    ]
    sent = ["ann@example.com", "bob@example.com", "cy@example.com"]
    kit.invite_installers(admin, account.id, keys[0].id, sent, max_activations=2)
    mail = {email: kit.mailer.last(to=email).data for email in sent}
    kit.invite_installers(
        admin, account.id, keys[1].id, ["dee@example.com", "eve@example.com"], send=False
    )
    exported = kit.export_install_invitations(admin, account.id, keys[1].id)
    rows = list(csv.reader(io.StringIO(exported)))[1:]
    found.codes += [m["code"] for m in mail.values()] + [row[1] for row in rows]
    found.tokens["download"] += [m["token"] for m in mail.values()]
    found.tokens["download"] += [row[2].split("token=", 1)[1] for row in rows]
    assert len(set(found.codes)) == len(set(found.tokens["download"])) == 5

    activations = [
        kit.activate(
            code=mail["ann@example.com"]["code"].lower().replace("-", " "), computer_id="PC-ANN"
        ),
        kit.activate(token=mail["bob@example.com"]["token"], computer_id="PC-BOB"),
        kit.activate(code=rows[0][1], computer_id="PC-DEE", computer_name="dee-laptop"),
        kit.activate(token=rows[1][2].split("token=", 1)[1], computer_id="PC-EVE"),
        kit.activate(code=mail["ann@example.com"]["code"], computer_id="PC-ANN-2"),
    ]
    found.tokens["installation"] += [a.installation_token for a in activations]
    for activation in activations:
        kit.check_in(activation.installation_token)
    kit.deactivate_installation(admin, account.id, activations[-1].installation_id)
    return found


def _text_forms(secret: str) -> set[str]:
    squeezed = "".join(secret.split())
    return {
        form
        for text in (secret, squeezed, secret.replace("-", ""), secret.replace("-", " "))
        for form in (text, text.upper(), text.lower())
    }


def _byte_forms(raw: bytes) -> set[bytes]:
    return {
        raw,
        binascii.hexlify(raw),
        binascii.hexlify(raw).upper(),
        base64.b64encode(raw),
        base64.b64encode(raw).rstrip(b"="),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
        base64.b32encode(raw).rstrip(b"="),
    }


def _token_bytes(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _needles(found: Secrets, kit: LicenseKitForTests) -> dict[bytes, str]:
    """Every byte string whose presence in the files would reveal a secret, and its name."""
    needles: dict[bytes, str] = {}

    def add(what: str, texts: Iterable[str]) -> None:
        for text in texts:
            for form in _text_forms(text):
                needles[form.encode()] = what
                needles[form.encode("utf-16-le")] = f"{what} (UTF-16)"

    add("password", found.passwords)
    add("license key value", found.key_values)
    add("activation code", found.codes)
    for kind, tokens in found.tokens.items():
        add(f"{kind} token", tokens)
        for token in tokens:
            for form in _byte_forms(_token_bytes(token)):
                needles[form] = f"{kind} token's bytes"
    for form in _byte_forms(TEST_SECRET):
        needles[form] = "host secret"
    for form in _byte_forms(kit._ctx.keys._lookup_key):
        needles[form] = "look-up key derived from the host secret"
    assert all(len(needle) >= 16 for needle in needles), "a needle short enough to match by chance"
    return needles


def _files(path: Path) -> dict[str, bytes]:
    return {
        f.name: f.read_bytes()
        for f in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm"))
        if f.exists()
    }


def _leaks(files: dict[str, bytes], needles: dict[bytes, str]) -> list[str]:
    return sorted(
        f"{what} in {name}"
        for name, data in files.items()
        for needle, what in needles.items()
        if needle in data
    )


def test_no_plaintext_secret_in_the_database_files(tmp_path: Path) -> None:
    path = tmp_path / "licensekit.db"
    kit = make_licensekit(store=SQLiteStore(path))
    found = _scenario(kit)
    needles = _needles(found, kit)

    # While the store is open: the latest writes are in the write-ahead log.
    files = _files(path)
    assert len(files.get("licensekit.db-wal", b"")) > 0, sorted(files)
    # The search does see what is stored in plain text (the scan is not blind).
    for visible in (b"newcomer@example.com", b"Plaintext Hunters Ltd", b"dee-laptop"):
        assert any(visible in data for data in files.values()), visible
    assert _leaks(files, needles) == []

    kit.close()
    assert _leaks(_files(path), needles) == []

    with contextlib.closing(sqlite3.connect(path)) as raw:
        assert raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
        files = _files(path)
        assert _leaks(files, needles) == []
    assert _leaks(_files(path), needles) == []
    assert b"newcomer@example.com" in path.read_bytes()
