"""The installed product's side (issue 17): certificates, check-in and culling, beside floors.

A certificate is issued with :func:`licensekit.signing.issue_certificate` and checked offline
with :func:`licensekit.verifier.verify_certificate`; their floors are one raw Ed25519
operation of cryptography's (plus, for verification, the decoding any verifier does). A
check-in and the culling job run on a SQLite file, their floors in plain ``sqlite3`` with the
store's pragmas (WAL and the same ``synchronous`` setting), as in :mod:`workloads`.
"""

from __future__ import annotations

import binascii
import datetime as dt
import hashlib
import hmac
import json
import secrets
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from _harness import (
    ADMIN,
    Result,
    addresses,
    connect_raw,
    create_table,
    interleaved,
    licensekit_columns,
    licensing,
    median_of,
    new_kit,
    per_item,
    sqlite_store,
    tempfile_dir,
    timed,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from workloads import _row_like

from licensekit.domain.certificates import (
    SIGNATURE_PREFIX,
    CertificateClaims,
    encode_claims,
    signed_message,
)
from licensekit.domain.model import Installation
from licensekit.signing import Ed25519Signer, issue_certificate
from licensekit.storage import INSTALLATIONS, LICENSE_KEYS
from licensekit.testing import FakeClock
from licensekit.verifier import public_key_text, verify_certificate

START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
"""The fake clocks' time: check-ins and culls are measured at set moments."""


def _sqlite_time(moment: dt.datetime) -> str:
    """*moment* as licensekit's SQLite store writes it (fixed width, so text compares as time)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _id(prefix: str, moment: dt.datetime) -> str:
    """An id shaped as licensekit makes them: prefix, milliseconds, counter, random tail."""
    return f"{prefix}_{int(moment.timestamp() * 1000):012x}_000000_{secrets.token_hex(5)}"


# == 12. issuing a certificate =============================================================


def _claims(now: dt.datetime) -> CertificateClaims:
    """Claims as a check-in makes them: licensekit's ids, a serial number, the default lease."""
    return CertificateClaims.leased(
        installation_id=_id("ins", now),
        computer_id="SN-4C4C4544-0038-5410-8058-B4C04F4B4E32",
        product="Bench Desktop Pro",
        account_id=_id("acc", now),
        license_key_id=_id("key", now),
        issued_at=now,
        license_expires_at=now + dt.timedelta(days=365),
    )


def _calls(count: int, call: Callable[[], object]) -> Callable[[], float]:
    """A timing of *count* calls of *call* in a row."""

    def run() -> float:
        def work() -> None:
            for _ in range(count):
                call()

        return timed(work)

    return run


def certificate_issue(count: int, repeat: int) -> Result:
    signer = Ed25519Signer.generate()
    claims = _claims(dt.datetime.now(dt.UTC))
    message = signed_message(signer.key_id, encode_claims(claims))
    private = Ed25519PrivateKey.generate()
    assert issue_certificate(signer, claims).count("\n") > 6
    ours = _calls(count, lambda: issue_certificate(signer, claims))
    floor = _calls(count, lambda: private.sign(message))
    mine: list[float] = []
    base: list[float] = []
    for _ in range(repeat):
        mine.append(ours())
        base.append(floor())
    ours_us, sign_us = (median_of(t) / count * 1e6 for t in (mine, base))
    return Result(
        "cert_issue",
        f"issue a certificate (Ed25519, a {len(message)}-byte signed message), each",
        "us",
        ours_us,
        sign_us,
        target=1.5,
        details={"count": count, "message_bytes": len(message)},
        note=(
            "issue a certificate: licensekit's own signers skip the self-check a host's signer "
            f"gets (an Ed25519 verify); encoding the claims and armouring the text take the "
            f"other {ours_us - sign_us:.1f} us"
        ),
    )


def certificate_verify(count: int, repeat: int) -> Result:
    signer = Ed25519Signer.generate()
    claims = _claims(dt.datetime.now(dt.UTC))
    text = issue_certificate(signer, claims)
    raw = signer.public_keys()[signer.key_id]
    # As a product embeds them: `licensekit signing-key public --json` prints base64 text.
    public_keys = {signer.key_id: public_key_text(raw)}
    public = Ed25519PublicKey.from_public_bytes(raw)  # made once: the floor's key
    now = claims.issued_at + dt.timedelta(hours=1)
    computer_id = claims.computer_id
    prefix = SIGNATURE_PREFIX + signer.key_id.encode("ascii") + b"\x00"
    earliest = (now + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    latest = (now - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def floor_once() -> None:
        lines = text.split("\n")
        parting = lines.index("", 3)
        payload = binascii.a2b_base64("".join(lines[3:parting]))
        signature = binascii.a2b_base64("".join(lines[parting + 1 : -2]))
        public.verify(signature, prefix + payload)
        found = json.loads(payload)
        assert found["computer_id"] == computer_id
        assert found["issued_at"] <= earliest and found["valid_until"] >= latest

    floor_once()
    assert verify_certificate(text, public_keys, computer_id=computer_id, now=now).version == 1
    return per_item(
        "certificate_verify",
        f"verify a certificate offline ({len(text)} characters), each",
        count,
        _calls(
            count, lambda: verify_certificate(text, public_keys, computer_id=computer_id, now=now)
        ),
        _calls(count, floor_once),
        repeat,
        target=1.5,
    )


# == 14. check-in on a SQLite file =========================================================


def _activated(path: Path, count: int, clock: FakeClock) -> list[str]:
    """*count* installations activated through the API at the clock's time; their tokens."""
    bench = licensing(new_kit(sqlite_store(path, "normal"), count, clock), count)
    bench.kit.invite_installers(bench.admin, bench.account_id, bench.key_id, addresses(count))
    codes = [m.data["code"] for m in bench.mailer.messages()]
    tokens = [
        bench.kit.activate(code=code, computer_id=f"computer-{n}").installation_token
        for n, code in enumerate(codes)
    ]
    bench.kit.store.close()
    return tokens


def check_ins(count: int, repeat: int, synchronous: str) -> list[Result]:
    """Check-ins that write nothing (last seen just now), then check-ins that each write.

    The kit has no signer, so no certificate is issued: signing is measured on its own.
    """
    hmac_key = secrets.token_bytes(32)
    columns = {
        table: licensekit_columns(table)
        for table in ("license_keys", "installations", "computer_blocks")
    }
    with tempfile_dir() as folder:
        clock = FakeClock(START)
        tokens = _activated(folder / "check-in.db", count, clock)
        kit = new_kit(sqlite_store(folder / "check-in.db", synchronous), count, clock)

        connection = connect_raw(folder / "floor.db", synchronous)
        keys, installations, blocks = columns.values()
        create_table(connection, "keys", keys, [])
        create_table(
            connection,
            "installations",
            installations,
            ["UNIQUE key_id, computer_id", "UNIQUE token_hash", "key_id, id"],
        )
        # Keyed as licensekit's: a computer's blocks are found by the key's first columns.
        create_table(connection, "blocks", blocks, [], key="account_id, computer_id, key_id")
        floor_tokens = [secrets.token_urlsafe(32) for _ in range(count)]
        floor_now = [START]
        connection.execute("BEGIN")
        connection.execute(
            f"INSERT INTO keys VALUES ({', '.join('?' * len(keys))})",
            _row_like(keys, 0, id="key", account_id="account", seats=count, seats_used=count),
        )
        connection.executemany(
            f"INSERT INTO installations VALUES ({', '.join('?' * len(installations))})",
            [
                _row_like(
                    installations,
                    n,
                    key_id="key",
                    account_id="account",
                    computer_id=f"computer-{n}",
                    status="active",
                    last_state="active",
                    last_seen_at=_sqlite_time(START),
                    token_hash=_token_hash(hmac_key, token),
                )
                for n, token in enumerate(floor_tokens)
            ],
        )
        connection.execute("COMMIT")
        ins_id, account, key_id, computer, seen = (
            installations.index(c)
            for c in ("id", "account_id", "key_id", "computer_id", "last_seen_at")
        )
        find = "SELECT * FROM installations WHERE token_hash = ?"

        def floor_pass() -> int:
            """Check every floor token in once; return how many wrote last_seen_at."""
            now = floor_now[0]
            now_text = _sqlite_time(now)
            cutoff = _sqlite_time(now - dt.timedelta(days=1) / 4)
            written = 0
            for token in floor_tokens:
                digest = _token_hash(hmac_key, token)
                connection.execute("BEGIN IMMEDIATE")
                found = connection.execute(find, (digest,)).fetchone()
                connection.execute("SELECT * FROM keys WHERE id = ?", (found[key_id],)).fetchone()
                connection.execute(
                    "SELECT * FROM blocks WHERE account_id = ? AND computer_id = ?",
                    (found[account], found[computer]),
                ).fetchall()
                if found[seen] <= cutoff:
                    connection.execute(
                        "UPDATE installations SET last_seen_at = ? WHERE id = ?",
                        (now_text, found[ins_id]),
                    )
                    written += 1
                connection.execute("COMMIT")
            return written

        def ours_pass() -> None:
            for token in tokens:
                kit.check_in(token)

        def fresh(run: Callable[[], object]) -> Callable[[], float]:
            return lambda: timed(run)

        def later(run: Callable[[], object], advance: Callable[[], object]) -> Callable[[], float]:
            def step() -> float:
                advance()
                return timed(run)

            return step

        def floor_later() -> None:
            floor_now[0] += dt.timedelta(hours=6)

        assert kit.check_in(tokens[0]).installation.last_seen_at == START  # nothing to write
        rows = [
            per_item(
                f"check_in_sqlite_{synchronous}",
                f"{count:,} check-ins, last seen just now (no write), SQLite ({synchronous}), each",
                count,
                fresh(ours_pass),
                fresh(lambda: _expect(floor_pass(), 0)),
                repeat,
                target=2.0,
            ),
            per_item(
                f"check_in_write_sqlite_{synchronous}",
                f"{count:,} check-ins, each writing last_seen_at, SQLite ({synchronous}), each",
                count,
                later(ours_pass, lambda: clock.advance(hours=6)),
                later(lambda: _expect(floor_pass(), count), floor_later),
                repeat,
                target=2.0,
            ),
        ]
        assert kit.check_in(tokens[-1]).installation.last_seen_at == clock.now()  # written
        connection.close()
        kit.store.close()
    return rows


def _token_hash(key: bytes, token: str) -> bytes:
    """The keyed hash of an installation token, as licensekit's look-up hash makes it."""
    return hmac.digest(key, b"installation\x00" + token.encode(), hashlib.sha256)


def _expect(written: int, wanted: int) -> None:
    assert written == wanted, (written, wanted)


# == 15. culling dead installations ========================================================

BATCH = 500
"""Installations a floor transaction culls: licensekit's ``CULL_BATCH``."""

DEAD_AFTER = dt.timedelta(days=14)


def _dead_installations(path: Path, count: int) -> str:
    """A licensekit file with one culling key and *count* installations seen 30 days ago.

    The key, its account and one invitation go through the API; the installations are
    written with the store's own transaction (``tx.add(INSTALLATIONS, ...)``), a batch at a
    time, and the key's ``seats_used`` raised to match with its guarded counter.
    """
    clock = FakeClock(START - dt.timedelta(days=60))
    kit = new_kit(sqlite_store(path, "normal"), 1000, clock)
    kit.register_user(*ADMIN, email_verified=True)
    admin = kit.log_in(*ADMIN)
    account = kit.create_business_account(admin, "Bench Corp")
    key = kit.add_license_key(
        admin,
        account.id,
        product="Bench",
        value="BENCH-0000-1111-2222",
        seats=max(count, 1),
        dead_after=DEAD_AFTER,
    )
    kit.invite_installers(admin, account.id, key.id, ["bulk@example.com"], send=False)
    invitation = kit.list_install_invitations(admin, account.id, key.id).items[0]
    kit.store.close()
    seen = START - dt.timedelta(days=30)
    store = sqlite_store(path, "normal")
    with store.transaction() as tx:
        for start in range(0, count, 10_000):
            tx.add(
                INSTALLATIONS,
                [
                    Installation(
                        id=_id("ins", seen + dt.timedelta(milliseconds=n)),
                        account_id=account.id,
                        key_id=key.id,
                        computer_id=f"SN-{n:08d}-{secrets.token_hex(4).upper()}",
                        computer_name=f"Workstation {n}",
                        email=f"installer{n}@example.com",
                        invitation_id=invitation.id,
                        activated_at=seen,
                        last_seen_at=seen,
                        token_hash=secrets.token_bytes(32),
                    )
                    for n in range(start, min(start + 10_000, count))
                ],
            )
        assert tx.increment(LICENSE_KEYS, (key.id,), "seats_used", count, cap="seats")
    store.close()
    assert not path.with_name(path.name + "-wal").exists()  # checkpointed: one file to copy
    return key.id


def culls(count: int, repeat: int) -> list[Result]:
    """One cull of *count* dead installations, "full" then "normal"; the data set made once."""
    with tempfile_dir() as folder:
        template = folder / "template.db"
        key_id = _dead_installations(template, count)
        return [_cull(folder, template, key_id, count, repeat, s) for s in ("full", "normal")]


def _cull(
    folder: Path, template: Path, key_id: str, count: int, repeat: int, synchronous: str
) -> Result:
    audit = _AuditRows()

    def copy(name: str) -> Path:
        target = folder / name
        shutil.copyfile(template, target)
        return target

    def ours() -> float:
        path = copy("ours.db")
        kit = new_kit(sqlite_store(path, synchronous), 1000, FakeClock(START))
        reports = []
        spent = timed(lambda: reports.append(kit.cull_installations()))
        assert reports[0].culled == count, reports
        kit.store.close()
        _check_culled(path, key_id, count)
        return spent

    def floor() -> float:
        path = copy("floor.db")
        connection = connect_raw(path, synchronous)
        spent = timed(lambda: _expect(_cull_floor(connection, key_id, audit), count))
        connection.close()
        _check_culled(path, key_id, count)
        return spent

    mine, base = interleaved(ours, floor, repeat)
    return Result(
        f"cull_sqlite_{synchronous}",
        f"cull {count:,} dead installations of one key, SQLite ({synchronous}), each",
        "us",
        mine / count * 1e6,
        base / count * 1e6,
        details={"count": count, "seconds": mine, "floor_seconds": base, "batch": BATCH},
        note=f"cull, SQLite ({synchronous}): {count:,} installations in {mine:.2f} s, "
        f"the floor in {base:.2f} s",
    )


class _AuditRows:
    """The floor's audit rows: ids as wide as licensekit's, details as licensekit writes them."""

    def __init__(self) -> None:
        self.encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        self.n = 0

    def row(
        self, now: dt.datetime, now_text: str, found: tuple[str, ...], key_id: str
    ) -> tuple[str, ...]:
        ins_id, account_id, computer_id, last_seen = found
        self.n += 1
        details = self.encoder.encode(
            {"computer_id": computer_id, "key_id": key_id, "last_seen_at": last_seen}
        )
        event_id = f"evt_{int(now.timestamp() * 1000):012x}_{self.n:06d}_{self.n:010x}"
        return (event_id, account_id, now_text, "", "installation.culled", ins_id, details)


def _cull_floor(connection: sqlite3.Connection, key_id: str, audit: _AuditRows) -> int:
    """Cull the key's dead installations in transactions of :data:`BATCH`; return how many."""
    now = START
    now_text = _sqlite_time(now)
    cutoff = _sqlite_time(now - DEAD_AFTER)
    culled, after = 0, ""
    while True:
        connection.execute("BEGIN IMMEDIATE")
        dead = connection.execute(
            "SELECT id, account_id, computer_id, last_seen_at FROM installations "
            "WHERE key_id = ? AND id > ? AND status = 'active' AND last_seen_at <= ? "
            "ORDER BY id LIMIT ?",
            (key_id, after, cutoff, BATCH),
        ).fetchall()
        if dead:
            connection.executemany(
                "UPDATE installations SET status = 'culled', deactivated_at = ?, "
                "deactivated_by = NULL WHERE id = ?",
                [(now_text, found[0]) for found in dead],
            )
            connection.execute(
                "UPDATE license_keys SET seats_used = seats_used - ? WHERE id = ?",
                (len(dead), key_id),
            )
            connection.executemany(
                "INSERT INTO audit_events VALUES (?, ?, ?, ?, ?, ?, ?)",
                [audit.row(now, now_text, found, key_id) for found in dead],
            )
        connection.execute("COMMIT")
        culled += len(dead)
        if len(dead) < BATCH:
            return culled
        after = dead[-1][0]


def _check_culled(path: Path, key_id: str, count: int) -> None:
    """Every installation culled, its seat back and its cull audited; then the file goes."""
    connection = sqlite3.connect(path)
    try:
        used = connection.execute(
            "SELECT seats_used FROM license_keys WHERE id = ?", (key_id,)
        ).fetchone()[0]
        statuses = dict(
            connection.execute("SELECT status, count(*) FROM installations GROUP BY status")
        )
        audited = connection.execute(
            "SELECT count(*) FROM audit_events WHERE action = 'installation.culled'"
        ).fetchone()[0]
    finally:
        connection.close()
    assert used == 0 and statuses == {"culled": count} and audited == count, (
        used,
        statuses,
        audited,
    )
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
