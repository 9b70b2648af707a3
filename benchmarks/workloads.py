"""The workloads of benchmarks/run.py, each measured beside its floor in the same run.

A floor is the work no implementation can skip, done directly with the underlying libraries
(email-validator, ``secrets``, ``hmac``, ``sqlite3``, cryptography). SQLite floors use the
pragmas licensekit's store uses (WAL and the same ``synchronous`` setting) and write rows as
wide as licensekit's own, with the indexes the look-ups need.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import email_validator
import feature_floors
from _harness import (
    ADMIN,
    SECRET,
    Licensing,
    Result,
    addresses,
    connect_raw,
    create_table,
    csv_text,
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
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from licensekit import LicenseKit, MemoryStore, PasswordHasher
from licensekit.testing import RecordingMailer

HERE = Path(__file__).resolve().parent


def _row_like(columns: list[str], n: int, **values: object) -> tuple[object, ...]:
    """A row as wide as licensekit's: ids and timestamps as text, hashes as 32 bytes."""
    row: list[object] = []
    for column in columns:
        if column in values:
            row.append(values[column])
        elif column == "id":
            row.append(f"row_{n:026d}")
        elif column.endswith("_hash"):
            row.append(secrets.token_bytes(32))
        elif column.endswith("_ciphertext"):
            row.append(secrets.token_bytes(80))
        elif column.endswith(("_at", "_until")):
            row.append("2026-11-25T12:00:00.000000+00:00")
        elif column in ("seats", "seats_used", "activations", "sent_count", "failures"):
            row.append(0)
        elif column in ("max_activations",):
            row.append(1)
        else:
            row.append(f"{column}-{n:08d}"[:32])
    return tuple(row)


def _row_template(
    columns: list[str], varying: list[str], **values: object
) -> tuple[list[object], list[int]]:
    """A row as :func:`_row_like` makes it, made once, and where *varying* columns sit in it.

    A timed loop copies the template and sets only the varying values (a fraction of a
    microsecond), where :func:`_row_like` costs about 17 us a row: benchmark code, not work.
    """
    return list(_row_like(columns, 0, **values)), [columns.index(c) for c in varying]


def _timed_then_closed(connection: sqlite3.Connection, work: Callable[[], None]) -> float:
    spent = timed(work)
    connection.close()
    return spent


# == 1. bulk invitation of installers from a CSV into a SQLite file ========================


def _bulk_ours(text: str, count: int, synchronous: str) -> float:
    """Seconds licensekit takes to invite the *count* addresses of the CSV *text*."""
    with tempfile_dir() as folder:
        bench = licensing(new_kit(sqlite_store(folder / "bulk.db", synchronous), count), count)
        spent = timed(
            lambda: bench.kit.invite_installers(
                bench.admin, bench.account_id, bench.key_id, csv=text
            )
        )
        assert len(bench.mailer.messages()) == count
        bench.kit.store.close()  # type: ignore[attr-defined]
        return spent


def bulk_invitation(count: int, repeat: int, synchronous: str) -> Result:
    emails = addresses(count)
    text = csv_text(emails)
    columns = licensekit_columns("install_invitations")
    key = secrets.token_bytes(32)

    def ours() -> float:
        return _bulk_ours(text, count, synchronous)

    # Filler of the row (outside the timing): ids and code hashes, unique as the indexes need.
    template, (at_id, at_email, at_token, at_code) = _row_template(
        columns, ["id", "email", "token_hash", "code_hash"]
    )
    fillers = [(f"row_{n:026d}", secrets.token_bytes(32)) for n in range(count)]

    def floor() -> float:
        with tempfile_dir() as folder:
            connection = connect_raw(folder / "floor.db", synchronous)
            create_table(
                connection, "invitations", columns, ["UNIQUE code_hash", "UNIQUE token_hash"]
            )

            def work() -> None:
                rows = []
                for email, (row_id, code_hash) in zip(emails, fillers, strict=True):
                    email_validator.validate_email(email, check_deliverability=False)
                    token = secrets.token_urlsafe(24)
                    digest = hmac.new(key, token.encode(), hashlib.sha256).digest()
                    row = template.copy()
                    row[at_id], row[at_email], row[at_token], row[at_code] = (
                        row_id,
                        email,
                        digest,
                        code_hash,
                    )
                    rows.append(row)
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(
                    f"INSERT INTO invitations VALUES ({', '.join('?' * len(columns))})", rows
                )
                connection.execute("COMMIT")

            return _timed_then_closed(connection, work)

    return per_item(
        f"bulk_invitation_sqlite_{synchronous}",
        f"invite {count:,} installers from CSV, SQLite ({synchronous}), per invitation",
        count,
        ours,
        floor,
        repeat,
        target=1.5,
    )


# == 2. activation on a SQLite file ========================================================


def _invited_codes(bench_path: Path, count: int, synchronous: str) -> tuple[LicenseKit, list[str]]:
    bench = licensing(new_kit(sqlite_store(bench_path, synchronous), count), count)
    bench.kit.invite_installers(bench.admin, bench.account_id, bench.key_id, addresses(count))
    return bench.kit, [m.data["code"] for m in bench.mailer.messages()]


def _activation_ours(count: int, synchronous: str) -> float:
    """Seconds licensekit takes to activate *count* computers by typed code, in sequence."""
    with tempfile_dir() as folder:
        kit, codes = _invited_codes(folder / "activate.db", count, synchronous)

        def work() -> None:
            for n, code in enumerate(codes):
                kit.activate(code=code, computer_id=f"computer-{n}")

        spent = timed(work)
        kit.store.close()  # type: ignore[attr-defined]
        return spent


def activation(count: int, repeat: int, synchronous: str) -> Result:
    key = secrets.token_bytes(32)
    columns = {
        table: licensekit_columns(table)
        for table in ("license_keys", "install_invitations", "installations")
    }

    def ours() -> float:
        return _activation_ours(count, synchronous)

    def floor() -> float:
        with tempfile_dir() as folder:
            connection = connect_raw(folder / "floor.db", synchronous)
            keys, invitations, installations = columns.values()
            create_table(connection, "keys", keys, [])
            create_table(connection, "invitations", invitations, ["UNIQUE code_hash"])
            create_table(
                connection,
                "installations",
                installations,
                ["UNIQUE key_id, computer_id", "UNIQUE token_hash", "key_id, id"],
            )
            codes = [secrets.token_hex(12).upper() for _ in range(count)]
            connection.execute("BEGIN")
            connection.execute(
                f"INSERT INTO keys VALUES ({', '.join('?' * len(keys))})",
                _row_like(keys, 0, id="key", seats=count, seats_used=0),
            )
            connection.executemany(
                f"INSERT INTO invitations VALUES ({', '.join('?' * len(invitations))})",
                [
                    _row_like(
                        invitations,
                        n,
                        key_id="key",
                        code_hash=hmac.new(key, c.encode(), hashlib.sha256).digest(),
                    )
                    for n, c in enumerate(codes)
                ],
            )
            connection.execute("COMMIT")
            insert = f"INSERT INTO installations VALUES ({', '.join('?' * len(installations))})"
            # The installation rows' template and filler, made outside the timing.
            template, (at_id, at_computer, at_token) = _row_template(
                installations, ["id", "computer_id", "token_hash"], key_id="key"
            )
            fillers = [
                (f"row_{n:026d}", f"computer-{n}", secrets.token_bytes(32)) for n in range(count)
            ]

            def work() -> None:
                for code, (row_id, computer_id, token_hash) in zip(codes, fillers, strict=True):
                    typed = "".join(code.split()).upper()
                    digest = hmac.new(key, typed.encode(), hashlib.sha256).digest()
                    connection.execute("BEGIN IMMEDIATE")
                    found = connection.execute(
                        "SELECT id, key_id, activations, max_activations, expires_at "
                        "FROM invitations WHERE code_hash = ?",
                        (digest,),
                    ).fetchone()
                    taken = connection.execute(
                        "UPDATE keys SET seats_used = seats_used + 1 "
                        "WHERE id = ? AND seats_used < seats",
                        (found[1],),
                    ).rowcount
                    assert taken == 1 and found[2] < found[3]
                    row = template.copy()
                    row[at_id], row[at_computer], row[at_token] = row_id, computer_id, token_hash
                    connection.execute(insert, row)
                    connection.execute(
                        "UPDATE invitations SET activations = activations + 1 WHERE id = ?",
                        (found[0],),
                    )
                    connection.execute("COMMIT")

            return _timed_then_closed(connection, work)

    return per_item(
        f"activation_sqlite_{synchronous}",
        f"{count:,} activations by typed code in sequence, SQLite ({synchronous}), each",
        count,
        ours,
        floor,
        repeat,
        target=2.0,
    )


# == 1 and 2 beside their feature floors ===================================================

DOWNLOAD_URL = "https://downloads.example.com/get?token={token}"
"""The download link template of :func:`_harness.new_kit`'s kits."""


def _feature_floor(connection: sqlite3.Connection, count: int) -> feature_floors.Floor:
    """A feature floor with the secret, link and settings of :func:`_harness.new_kit`."""
    return feature_floors.Floor(
        connection,
        SECRET,
        DOWNLOAD_URL,
        max_batch=max(count, 1),
        activations_per_hour=10**9,
        invitations_per_hour=10**9,
    )


def bulk_feature(count: int, repeat: int, synchronous: str, *, plain_ascii: bool = False) -> Result:
    """Workload 1 beside its feature floor (:func:`feature_floors.invite_installers`).

    The floor's file is made by licensekit (schema, user, session, account, key) and opened
    with licensekit's pragmas; the first repetition then checks the floor's work with
    licensekit itself (see :func:`_check_bulk_floor`), outside the timing. With
    *plain_ascii*, an informational row without a target: the floor lower-cases plain ASCII
    addresses without email-validator, as licensekit's ``normalize_email`` does.
    """
    emails = addresses(count)
    text = csv_text(emails)
    checked: list[bool] = []

    def ours() -> float:
        return _bulk_ours(text, count, synchronous)

    def floor() -> float:
        with tempfile_dir() as folder:
            path = folder / "feature.db"
            bench = licensing(new_kit(sqlite_store(path, synchronous), count), count)
            connection = feature_floors.connect(path, synchronous)
            feature_floors.check_pragmas(bench.kit.store, connection)  # type: ignore[arg-type]
            bench.kit.store.close()
            floor = _feature_floor(connection, count)
            done: list[tuple[list[str], list[str]]] = []
            spent = timed(
                lambda: done.append(
                    feature_floors.invite_installers(
                        floor,
                        bench.admin,
                        bench.account_id,
                        bench.key_id,
                        text,
                        plain_ascii=plain_ascii,
                    )[:2]
                )
            )
            connection.close()
            assert len(floor.sent) == len(done[0][0]) == count
            if not checked:
                _check_bulk_floor(path, bench, floor, done[0][0], synchronous)
                checked.append(True)
            return spent

    shortcut = "_plain_ascii" if plain_ascii else ""
    return per_item(
        f"bulk_feature_sqlite_{synchronous}{shortcut}",
        f"invite {count:,} installers from CSV, SQLite ({synchronous}): "
        + ("floor with ASCII shortcut" if plain_ascii else "feature floor"),
        count,
        ours,
        floor,
        repeat,
        target=None if plain_ascii else 1.25,
    )


def _check_bulk_floor(
    path: Path, bench: Licensing, floor: feature_floors.Floor, ids: list[str], synchronous: str
) -> None:
    """licensekit reads what the floor wrote as its own, and renders the same first email."""
    from licensekit.mail import render_install_invitation

    raw = sqlite3.connect(path)
    try:
        sent = raw.execute(
            "SELECT count(*) FROM install_invitations WHERE delivery = 'sent' AND sent_count = 1"
        ).fetchone()[0]
        events = dict(raw.execute("SELECT action, count(*) FROM audit_events GROUP BY action"))
        first = dict(
            raw.execute("SELECT action, details FROM audit_events WHERE subject = ?", (ids[0],))
        )
    finally:
        raw.close()
    count = len(ids)
    assert sent == count, sent
    assert events.get("install_invitation.created") == count, events
    assert events.get("install_invitation.sent") == count, events
    to, subject, text, document, _, _, data = floor.sent[0]
    assert isinstance(data, dict)
    theirs = render_install_invitation(
        to=str(to),
        product="Bench",
        account_name="Bench Corp",
        inviter_email=ADMIN[0],
        download_url=data["link"],
        code=data["code"],
        token=data["token"],
        expires_at=dt.datetime.fromisoformat(data["expires_at"]),
        language="en",
        service_name="licensekit",
    )
    assert (theirs.subject, theirs.text, theirs.html) == (subject, text, document)
    assert dict(theirs.data) == data, (dict(theirs.data), data)
    assert {action: json.loads(details) for action, details in first.items()} == {
        "install_invitation.created": {
            "email": to,
            "expires_at": data["expires_at"],
            "key_id": bench.key_id,
            "language": "en",
        },
        "install_invitation.sent": {"email": to, "sent_count": "1"},
    }, first
    kit = new_kit(sqlite_store(path, synchronous), count)
    try:
        exported = kit.export_install_invitations(
            bench.admin, bench.account_id, bench.key_id, invitation_ids=[ids[0]]
        )
        page = kit.list_install_invitations(bench.admin, bench.account_id, bench.key_id, limit=5)
    finally:
        kit.store.close()
    assert exported.splitlines()[1] == f"{to},{data['code']},{data['link']}", exported
    assert [i.id for i in page.items] == ids[:5]


def activation_feature(count: int, repeat: int, synchronous: str) -> Result:
    """Workload 2 beside its feature floor (:func:`feature_floors.activate`).

    licensekit invites the installers on the floor's file too (not timed), so that the
    floor activates licensekit's own invitations with the codes licensekit emailed; the
    first repetition then checks the floor's installations with licensekit itself.
    """
    checked: list[bool] = []

    def ours() -> float:
        return _activation_ours(count, synchronous)

    def floor() -> float:
        with tempfile_dir() as folder:
            path = folder / "feature.db"
            kit, codes = _invited_codes(path, count, synchronous)
            connection = feature_floors.connect(path, synchronous)
            feature_floors.check_pragmas(kit.store, connection)  # type: ignore[arg-type]
            kit.store.close()
            floor = _feature_floor(connection, count)
            results: list[tuple[object, ...]] = []
            activate = feature_floors.activate

            def work() -> None:
                for n, code in enumerate(codes):
                    results.append(activate(floor, code, f"computer-{n}"))

            spent = timed(work)
            connection.close()
            if not checked:
                _check_activation_floor(path, results, synchronous)
                checked.append(True)
            return spent

    return per_item(
        f"activation_feature_sqlite_{synchronous}",
        f"{count:,} activations by typed code, SQLite ({synchronous}): feature floor",
        count,
        ours,
        floor,
        repeat,
        target=1.25,
    )


def _check_activation_floor(path: Path, results: list[tuple[object, ...]], sync: str) -> None:
    """Every seat taken once, audited once; licensekit checks in with the floor's tokens."""
    raw = sqlite3.connect(path)
    try:
        seats_used = raw.execute("SELECT seats_used FROM license_keys").fetchone()[0]
        active = raw.execute(
            "SELECT count(*) FROM installations WHERE status = 'active'"
        ).fetchone()[0]
        audited = raw.execute(
            "SELECT count(*) FROM audit_events WHERE action = 'installation.activated'"
        ).fetchone()[0]
        activated = raw.execute(
            "SELECT count(*) FROM install_invitations WHERE activations = 1"
        ).fetchone()[0]
        installed = raw.execute(
            "SELECT i.invitation_id, a.details FROM installations i JOIN audit_events a "
            "ON a.subject = i.id WHERE i.id = ?",
            (results[0][0],),
        ).fetchone()
    finally:
        raw.close()
    count = len(results)
    assert seats_used == active == audited == activated == count, (seats_used, active, audited)
    _, _, _, key_id, _, email, computer_id, *_ = results[0]
    assert json.loads(installed[1]) == {
        "computer_id": computer_id,
        "computer_name": "",
        "email": email,
        "invitation_id": installed[0],
        "key_id": key_id,
        "seat_taken": "yes",
    }, installed
    kit = new_kit(sqlite_store(path, sync))
    try:
        for result in (results[0], results[-1]):
            seen = kit.check_in(str(result[1]))
            assert seen.installation.id == result[0], (seen, result)
    finally:
        kit.store.close()


# == 3. contention: see contention_workloads.py ===========================================


# == 5. join invitations ===================================================================


def join_invitations(count: int, repeat: int) -> list[Result]:
    emails = addresses(count, "member")
    columns = licensekit_columns("join_invitations")
    results = []
    for store_name in ("memory", "sqlite"):

        def ours(store_name: str = store_name) -> float:
            with tempfile_dir() as folder:
                store = None if store_name == "memory" else sqlite_store(folder / "join.db")
                kit = new_kit(store, count)
                kit.register_user(*ADMIN, email_verified=True)
                admin = kit.log_in(*ADMIN)
                account = kit.create_business_account(admin, "Bench Corp")
                spent = timed(lambda: kit.invite_members(admin, account.id, emails))
                kit.store.close() if store is not None else None  # type: ignore[attr-defined]
                return spent

        def floor(store_name: str = store_name) -> float:
            with tempfile_dir() as folder:
                aead = AESGCM(secrets.token_bytes(32))
                key = secrets.token_bytes(32)
                connection = None
                if store_name == "sqlite":
                    connection = connect_raw(folder / "floor.db", "full")
                    create_table(connection, "invitations", columns, ["UNIQUE token_hash"])

                def work() -> None:
                    rows = []
                    for n, email in enumerate(emails):
                        email_validator.validate_email(email, check_deliverability=False)
                        token = secrets.token_urlsafe(24)
                        digest = hmac.new(key, token.encode(), hashlib.sha256).digest()
                        sealed = aead.encrypt(secrets.token_bytes(12), token.encode(), b"id")
                        rows.append(
                            _row_like(
                                columns, n, email=email, token_hash=digest, token_ciphertext=sealed
                            )
                        )
                    if connection is not None:
                        connection.execute("BEGIN IMMEDIATE")
                        connection.executemany(
                            f"INSERT INTO invitations VALUES ({', '.join('?' * len(columns))})",
                            rows,
                        )
                        connection.execute("COMMIT")

                spent = timed(work)
                if connection is not None:
                    connection.close()
                return spent

        results.append(
            per_item(
                f"join_invitations_{store_name}",
                f"invite {count:,} members in one call, {store_name}, per invitation",
                count,
                ours,
                floor,
                repeat,
            )
        )
    return results


# == 6. import time ========================================================================

REACH = "import licensekit; licensekit.LicenseKit"
"""Row 6's statement: importing licensekit and reaching its facade class."""

IMPORT_FLOOR = ""
"""The import floor: the third-party modules :data:`REACH` loads, and only those (every run
checks that both load the same set). Since 2026-12-05 licensekit loads none there (its use
cases, records and context come with a kit's construction and first calls), so this floor
imports nothing and the row reports licensekit's time alone."""

CONSTRUCT = (
    "import licensekit\n"
    "class Mailer:\n"
    "    def send(self, message): pass\n"
    "kit = licensekit.LicenseKit(licensekit.MemoryStore(), Mailer(), secret=b'k' * 32,"
    " join_url='https://example.com/join?token={token}')"
)
"""Importing licensekit and constructing a kit on a MemoryStore (the host's own mailer)."""

FIRST_CALL = (
    f"{CONSTRUCT}\n"
    "try:\n"
    "    kit.check_in('no-such-token')\n"
    "except licensekit.InstallationNotFound:\n"
    "    pass"
)
""":data:`CONSTRUCT`, then one call: the check-in of an unknown installation token, which
loads the activation use cases and reads the store."""

CONSTRUCT_FLOOR = (
    "import datetime, hashlib, hmac\n"
    "import attrs, cryptography.exceptions, cryptography.hazmat.primitives.hashes, "
    "cryptography.hazmat.primitives.ciphers.aead, cryptography.hazmat.primitives.kdf.hkdf, "
    "cryptography.hazmat.primitives.kdf.argon2"
)
"""The floor of :data:`CONSTRUCT` and :data:`FIRST_CALL`: what a hand-written program with the
same features imports to construct its kit.

Third-party: the modules they load (attrs, and cryptography's modules down to their native
bindings), checked in every run. Standard library: only the modules such a program needs
to build what a kit holds once constructed, whatever it imports for later calls:

* :mod:`datetime`: its settings are durations (session and invitation lifetimes, leases,
  lock-outs), and its clock gives aware datetimes;
* :mod:`hmac` and :mod:`hashlib`: the host's secret becomes, at construction, the key of the
  keyed SHA-256 that every token, code and session is looked up by.

Left out, and so counted as licensekit's when it loads them here: what only later calls
need (:mod:`secrets`, :mod:`base64` and :mod:`random` to make and write tokens and codes,
:mod:`json` for audit details and certificates, :mod:`bisect` for a memory store's
listings), and what no hand-written program needs at all (:mod:`typing`, :mod:`inspect`,
:mod:`ast`: those the floor loads come with attrs, as they do for licensekit). Modules both
load anyway (:mod:`enum`, :mod:`re`, :mod:`threading`, :mod:`collections`) cost the two
sides alike.
"""


def import_time(repeat: int) -> list[Result]:
    """Fresh interpreters importing licensekit, against the third-party modules they load.

    Three statements, each beside a floor that imports exactly the modules outside the
    standard library and licensekit that the statement loads (checked in every run, in fresh
    interpreters; the run fails when the sets differ): reaching ``licensekit.LicenseKit``
    (:data:`REACH`), constructing a kit (:data:`CONSTRUCT`, the targeted row: reaching the
    class loads no third-party module, so its floor is empty) and making one call with it
    (:data:`FIRST_CALL`). The constructing rows' floor also imports the few standard library
    modules a hand-written equivalent needs to construct its kit (see :data:`CONSTRUCT_FLOOR`
    for which and why); any other standard library module licensekit loads counts as its own.
    Bytecode is written and reused, as after any normal installation (PYTHONDONTWRITEBYTECODE
    would have licensekit compiled from source on every run while the dependencies are not).
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run(statement: str) -> float:
        code = f"import time\ns = time.perf_counter()\n{statement}\nprint(time.perf_counter() - s)"
        out = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env
        )
        return float(out.stdout.split()[-1])

    rows = [
        (
            "import_time",
            "import licensekit (and reach LicenseKit) in a fresh interpreter",
            REACH,
            IMPORT_FLOOR,
            None,
        ),
        (
            "import_construct",
            "import licensekit, construct a kit on a MemoryStore",
            CONSTRUCT,
            CONSTRUCT_FLOOR,
            1.15,
        ),
        (
            "import_first_call",
            "import licensekit, construct a kit on a MemoryStore, one call",
            FIRST_CALL,
            CONSTRUCT_FLOOR,
            None,
        ),
    ]
    results = []
    for name, label, statement, floor, target in rows:
        run(statement)  # write the bytecode
        loaded = _third_party_loaded(statement, env)
        floor_loads = _third_party_loaded(floor, env)
        assert loaded == floor_loads, (
            f"the floor of {name} no longer loads what licensekit loads: update it "
            f"(licensekit alone: {sorted(loaded - floor_loads)}, "
            f"the floor alone: {sorted(floor_loads - loaded)})"
        )
        if not floor:  # nothing to import: no floor to divide by, licensekit's time alone
            mine = median_of([run(statement) for _ in range(repeat)])
            base = None
            note = (
                f"{name}: licensekit loads no third-party module here (its floor imports "
                f"nothing), so the row is its time alone, {mine * 1e3:.1f} ms"
            )
        else:
            mine, base = interleaved(lambda s=statement: run(s), lambda f=floor: run(f), repeat)
            note = ""
        results.append(
            Result(
                name,
                label,
                "ms",
                mine * 1e3,
                None if base is None else base * 1e3,
                target=target if base is not None else None,
                details={"third_party_modules": sorted(loaded)},
                note=note,
            )
        )
    return results


def _third_party_loaded(statement: str, env: dict[str, str]) -> set[str]:
    """The modules outside the standard library and licensekit that *statement* loads."""
    probe = (
        f"import sys\nbefore = set(sys.modules)\n{statement}\n"
        "print('\\n'.join(m for m in sys.modules if m not in before))"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, env=env
    )
    return {
        m
        for m in out.stdout.split()
        if m.split(".")[0] not in sys.stdlib_module_names and m.split(".")[0] != "licensekit"
    }


# == 7. peak memory of a large invitation ==================================================


def peak_memory(count: int) -> Result:
    with tempfile_dir() as folder:
        out = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, str(HERE / "_memory_child.py"), str(count), str(folder)],
            check=True,
            capture_output=True,
            text=True,
        )
    report = json.loads(out.stdout)
    return Result(
        "peak_memory",
        f"peak resident memory inviting {count:,} from a CSV file into SQLite",
        "MB",
        report["peak_mb"],
        target=100.0 if count >= 100_000 else None,
        details=report,
    )


# == 8. log-in =============================================================================


def login(repeat: int) -> Result:
    kit = LicenseKit(
        MemoryStore(), RecordingMailer(), secret=os.urandom(32), join_url="x?t={token}"
    )
    kit.register_user("bench@example.com", "benchmark passphrase")
    phc = PasswordHasher().hash("benchmark passphrase")
    mine, base = interleaved(
        lambda: timed(lambda: kit.log_in("bench@example.com", "benchmark passphrase")),
        lambda: timed(lambda: Argon2id.verify_phc_encoded(b"benchmark passphrase", phc)),
        repeat,
    )
    return Result(
        "login",
        "log-in with the default Argon2id parameters (a security setting, reported)",
        "ms",
        mine * 1e3,
        base * 1e3,
    )


# == 16. moving 10,000 installations to another key ========================================

MOVE_CHUNK = 500
"""The floor's chunk, as licensekit's (:data:`licensekit._usecases.key_moves.MOVE_CHUNK`)."""


def _installed_for_move(path: Path, count: int) -> tuple[str, str, str]:
    """A licensekit file with two keys of one product, *count* active installations on the
    first; returns the account's and the two keys' ids.

    The keys, their account and one invitation go through the API; the installations are
    written with the store's own transaction (``tx.add(INSTALLATIONS, ...)``), a batch at a
    time, and the first key's ``seats_used`` raised to match with its guarded counter.
    """
    import datetime as dt

    from licensekit.domain.model import Installation
    from licensekit.storage import INSTALLATIONS, LICENSE_KEYS

    kit = new_kit(sqlite_store(path, "normal"))
    shop = licensing(kit, count)
    admin = kit.log_in(*ADMIN)
    target = kit.add_license_key(
        admin, shop.account_id, product="Bench", value="BENCH-TARGET", seats=max(count, 1)
    )
    kit.invite_installers(admin, shop.account_id, shop.key_id, ["bulk@example.com"], send=False)
    invitation = kit.list_install_invitations(admin, shop.account_id, shop.key_id).items[0]
    kit.store.close()
    now = dt.datetime.now(dt.UTC)
    store = sqlite_store(path, "normal")
    with store.transaction() as tx:
        for start in range(0, count, 10_000):
            tx.add(
                INSTALLATIONS,
                [
                    Installation(
                        id=f"ins_{int(now.timestamp() * 1000):012x}_{n:06x}_{secrets.token_hex(5)}",
                        account_id=shop.account_id,
                        key_id=shop.key_id,
                        computer_id=f"SN-{n:08d}-{secrets.token_hex(4).upper()}",
                        computer_name=f"Workstation {n}",
                        email=f"installer{n}@example.com",
                        invitation_id=invitation.id,
                        activated_at=now,
                        last_seen_at=now,
                        token_hash=secrets.token_bytes(32),
                    )
                    for n in range(start, min(start + 10_000, count))
                ],
            )
        assert tx.increment(LICENSE_KEYS, (shop.key_id,), "seats_used", count, cap="seats")
    store.close()
    return shop.account_id, shop.key_id, target.id


def moves(count: int, repeat: int) -> list[Result]:
    """Moving *count* installations to another key, "full" then "normal"; the data made once."""
    with tempfile_dir() as folder:
        template = folder / "template.db"
        ids = _installed_for_move(template, count)
        return [_move(folder, template, ids, count, repeat, s) for s in ("full", "normal")]


def _move(
    folder: Path,
    template: Path,
    ids: tuple[str, str, str],
    count: int,
    repeat: int,
    synchronous: str,
) -> Result:
    import shutil

    account_id, source, target = ids

    def copy(name: str) -> Path:
        path = folder / name
        shutil.copyfile(template, path)
        return path

    def ours() -> float:
        path = copy("ours.db")
        kit = new_kit(sqlite_store(path, synchronous))
        admin = kit.log_in(*ADMIN)
        reports = []
        spent = timed(
            lambda: reports.append(kit.move_installations(admin, account_id, source, target))
        )
        assert reports[0].installations == count, reports
        kit.store.close()
        _check_moved(path, source, target, count)
        return spent

    def floor() -> float:
        path = copy("floor.db")
        connection = connect_raw(path, synchronous)
        spent = timed(lambda: _move_floor(connection, account_id, source, target, count))
        connection.close()
        _check_moved(path, source, target, count)
        return spent

    mine, base = interleaved(ours, floor, repeat)
    return Result(
        f"move_sqlite_{synchronous}",
        f"move {count:,} installations to another key in one call, SQLite ({synchronous}), each",
        "us",
        mine / count * 1e6,
        base / count * 1e6,
        target=3.0 if count >= 10_000 else None,
        details={"count": count, "seconds": mine, "floor_seconds": base, "chunk": MOVE_CHUNK},
        note=f"move, SQLite ({synchronous}): {count:,} installations in {mine:.2f} s, "
        f"the floor in {base:.2f} s",
    )


def _move_floor(
    connection: sqlite3.Connection, account_id: str, source: str, target: str, count: int
) -> None:
    """One transaction: the source's active installations, a chunk at a time, checked for
    blocks and for records of their computers under the target, their invitations read (for
    the computers' claims on codes), each moved by an ``UPDATE`` of its key; the two seat
    counters (the target's guarded); one audit event."""
    connection.execute("BEGIN IMMEDIATE")
    moving: list[tuple[str, str, str]] = []
    after = ""
    while True:
        page = connection.execute(
            "SELECT id, computer_id, invitation_id FROM installations "
            "WHERE key_id = ? AND id > ? AND status = 'active' ORDER BY id LIMIT ?",
            (source, after, MOVE_CHUNK),
        ).fetchall()
        moving += page
        if len(page) < MOVE_CHUNK:
            break
        after = page[-1][0]
    for start in range(0, len(moving), MOVE_CHUNK):
        chunk = moving[start : start + MOVE_CHUNK]
        computers = [c for _, c, _ in chunk]
        marks = ",".join("?" * len(chunk))
        blocked = connection.execute(
            f"SELECT computer_id FROM computer_blocks WHERE account_id = ? "
            f"AND computer_id IN ({marks})",
            (account_id, *computers),
        ).fetchall()
        taken = connection.execute(
            f"SELECT id FROM installations WHERE key_id = ? AND computer_id IN ({marks})",
            (target, *computers),
        ).fetchall()
        assert not blocked and not taken
        invitations = sorted({i for _, _, i in chunk})
        connection.execute(
            f"SELECT id, computer_ids FROM install_invitations "
            f"WHERE id IN ({','.join('?' * len(invitations))})",
            invitations,
        ).fetchall()
        connection.executemany(
            "UPDATE installations SET key_id = ? WHERE id = ?", [(target, i) for i, _, _ in chunk]
        )
    n = len(moving)
    connection.execute(
        "UPDATE license_keys SET seats_used = seats_used - ? WHERE id = ?", (n, source)
    )
    assert connection.execute(
        "UPDATE license_keys SET seats_used = seats_used + ? WHERE id = ? "
        "AND seats_used + ? <= seats",
        (n, target, n),
    ).rowcount
    details = json.dumps(
        {"installations": str(n), "seats": str(n), "to_key_id": target}, sort_keys=True
    )
    connection.execute(
        "INSERT INTO audit_events VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            f"evt_{secrets.token_hex(16)}",
            account_id,
            time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00"),
            "",
            "installation.moved",
            source,
            details,
        ),
    )
    connection.execute("COMMIT")
    assert n == count


def _check_moved(path: Path, source: str, target: str, count: int) -> None:
    """Every installation under the target, the seats with them; then the file goes."""
    connection = sqlite3.connect(path)
    try:
        used = dict(
            connection.execute(
                "SELECT id, seats_used FROM license_keys WHERE id IN (?, ?)", (source, target)
            )
        )
        where = dict(connection.execute("SELECT key_id, count(*) FROM installations GROUP BY 1"))
    finally:
        connection.close()
    assert used == {source: 0, target: count} and where == {target: count}, (used, where)
    path.unlink()
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
