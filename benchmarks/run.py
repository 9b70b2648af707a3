"""licensekit benchmarks: each workload beside its floor, measured in the same run.

The floor is the unavoidable work done directly with the underlying libraries; the ratio
licensekit / floor is what we track, because it holds on a noisy machine where absolute
times do not. Medians over several repetitions.

    python benchmarks/run.py            # full sizes, prints a table, writes results.json
    python benchmarks/run.py --quick    # tiny sizes: a smoke run for CI, no targets checked
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import platform
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import email_validator
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from licensekit import LicenseKit, MemoryStore, PasswordHasher, Settings
from licensekit.testing import RecordingMailer

SECRET = secrets.token_bytes(32)


def median_seconds(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def login_cost(repeat: int) -> dict[str, float]:
    """Workload 8: one log-in with the default Argon2id parameters, beside one raw verify."""
    kit = LicenseKit(MemoryStore(), RecordingMailer(), secret=SECRET, join_url="x?t={token}")
    kit.register_user("bench@example.com", "benchmark passphrase")
    phc = PasswordHasher().hash("benchmark passphrase")
    ours = median_seconds(lambda: kit.log_in("bench@example.com", "benchmark passphrase"), repeat)
    floor = median_seconds(
        lambda: Argon2id.verify_phc_encoded(b"benchmark passphrase", phc), repeat
    )
    return {"licensekit_s": ours, "floor_s": floor, "ratio": ours / floor}


def join_invitations(count: int, repeat: int) -> dict[str, float]:
    """Workload 5 (in-memory part): inviting *count* members in one call, per invitation."""
    emails = [f"member{i}@example.com" for i in range(count)]

    def ours() -> None:
        kit = LicenseKit(
            MemoryStore(),
            RecordingMailer(),
            secret=SECRET,
            join_url="https://portal.example.com/join?token={token}",
            password_hasher=PasswordHasher.insecure_fast(),
            settings=Settings(max_batch_size=max(count, 1)),
        )
        kit.register_user("admin@example.com", "benchmark passphrase")
        admin = kit.log_in("admin@example.com", "benchmark passphrase")
        account = kit.create_business_account(admin, "Bench Corp")
        start = time.perf_counter()
        batch = kit.invite_members(admin, account.id, emails)
        timings.append(time.perf_counter() - start)
        assert len(batch.invited) == count

    def floor() -> None:
        aead = AESGCM(secrets.token_bytes(32))
        key = secrets.token_bytes(32)
        for email in emails:
            email_validator.validate_email(email, check_deliverability=False)
            token = secrets.token_urlsafe(24)
            hmac.new(key, token.encode(), hashlib.sha256).digest()
            nonce = secrets.token_bytes(12)
            aead.encrypt(nonce, token.encode(), b"id")

    timings: list[float] = []
    for _ in range(repeat):
        ours()
    ours_s = statistics.median(timings)
    floor_s = median_seconds(floor, repeat)
    return {
        "count": count,
        "licensekit_per_invitation_us": ours_s / count * 1e6,
        "floor_per_invitation_us": floor_s / count * 1e6,
        "ratio": ours_s / floor_s,
    }


def _licensing_kit(count: int) -> tuple[LicenseKit, str, str, str]:
    """Return a kit with an administrator session, an account id and a key id with *count* seats."""
    kit = LicenseKit(
        MemoryStore(),
        RecordingMailer(),
        secret=SECRET,
        join_url="https://portal.example.com/join?token={token}",
        download_url="https://downloads.example.com/get?token={token}",
        password_hasher=PasswordHasher.insecure_fast(),
        settings=Settings(max_batch_size=max(count, 1)),
    )
    kit.register_user("admin@example.com", "benchmark passphrase")
    admin = kit.log_in("admin@example.com", "benchmark passphrase")
    account = kit.create_business_account(admin, "Bench Corp")
    key = kit.add_license_key(
        admin, account.id, product="Bench", value="BENCH-0000-1111-2222", seats=max(count, 1)
    )
    return kit, admin.token, account.id, key.id


def install_invitations(count: int, repeat: int) -> dict[str, float]:
    """Workload 1 (in-memory part): *count* installers from CSV text, sent to a recording mailer.

    Floor: per address, email-validator, a code and a token from ``secrets``, two HMACs and one
    AES-GCM encryption: the work no implementation can skip.
    """
    emails = [f"installer{i}@example.com" for i in range(count)]
    csv_text = "email\n" + "".join(f"{e}\n" for e in emails)
    timings: list[float] = []
    for _ in range(repeat):
        kit, admin, account_id, key_id = _licensing_kit(count)
        start = time.perf_counter()
        batch = kit.invite_installers(admin, account_id, key_id, csv=csv_text)
        timings.append(time.perf_counter() - start)
        assert len(batch.invited) == count

    def floor() -> None:
        aead = AESGCM(secrets.token_bytes(32))
        key = secrets.token_bytes(32)
        for email in emails:
            email_validator.validate_email(email, check_deliverability=False)
            code = secrets.token_bytes(15)
            token = secrets.token_urlsafe(24)
            hmac.new(key, code, hashlib.sha256).digest()
            hmac.new(key, token.encode(), hashlib.sha256).digest()
            aead.encrypt(secrets.token_bytes(12), code + token.encode(), b"id")

    ours_s = statistics.median(timings)
    floor_s = median_seconds(floor, repeat)
    return {
        "count": count,
        "licensekit_per_invitation_us": ours_s / count * 1e6,
        "floor_per_invitation_us": floor_s / count * 1e6,
        "ratio": ours_s / floor_s,
    }


def activations_memory(count: int, repeat: int) -> dict[str, float]:
    """Activation by typed code on the in-memory store, per activation.

    Floor: checking and HMAC-ing the typed code, and making and HMAC-ing the installation
    token. The SQLite version, with its raw-``sqlite3`` floor, is the benchmark issue's.
    """
    timings: list[float] = []
    for _ in range(repeat):
        kit, admin, account_id, key_id = _licensing_kit(count)
        invitees = [f"installer{n}@example.com" for n in range(count)]
        kit.invite_installers(admin, account_id, key_id, invitees)
        mailer = kit.mailer
        assert isinstance(mailer, RecordingMailer)
        codes = [m.data["code"] for m in mailer.messages()]
        start = time.perf_counter()
        for n, code in enumerate(codes):
            kit.activate(code=code, computer_id=f"computer-{n}")
        timings.append(time.perf_counter() - start)

    typed = [secrets.token_hex(12).upper() for _ in range(count)]
    key = secrets.token_bytes(32)

    def floor() -> None:
        for code in typed:
            canonical = "".join(code.split()).upper()
            hmac.new(key, canonical.encode(), hashlib.sha256).digest()
            hmac.new(key, secrets.token_urlsafe(24).encode(), hashlib.sha256).digest()

    ours_s = statistics.median(timings)
    floor_s = median_seconds(floor, repeat)
    return {
        "count": count,
        "licensekit_per_activation_us": ours_s / count * 1e6,
        "floor_per_activation_us": floor_s / count * 1e6,
        "ratio": ours_s / floor_s,
    }


def import_time(repeat: int) -> dict[str, float]:
    """Workload 6: a fresh interpreter importing licensekit, against its four dependencies."""

    def run(statement: str) -> float:
        code = f"import time; s = time.perf_counter(); {statement}; print(time.perf_counter() - s)"
        out = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        )
        return float(out.stdout)

    deps = "import attrs, cattrs, email_validator, cryptography.hazmat.primitives.kdf.argon2"
    ours = statistics.median(run("import licensekit") for _ in range(repeat))
    floor = statistics.median(run(deps) for _ in range(repeat))
    return {"licensekit_s": ours, "floor_s": floor, "ratio": ours / floor}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a CI smoke run")
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("results.json"))
    args = parser.parse_args()
    repeat = 2 if args.quick else 7
    results = {
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "quick": args.quick,
        "login_default_argon2id": login_cost(repeat),
        "join_invitations_memory": join_invitations(20 if args.quick else 1000, repeat),
        "install_invitations_memory": install_invitations(20 if args.quick else 10_000, repeat),
        "activations_memory": activations_memory(20 if args.quick else 2000, repeat),
        "import_time": import_time(repeat),
    }
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    rows = [
        ("log-in (Argon2id default)", "login_default_argon2id", "licensekit_s", "floor_s", 1e3),
        (
            "join invitation (memory)",
            "join_invitations_memory",
            "licensekit_per_invitation_us",
            "floor_per_invitation_us",
            1.0,
        ),
        (
            "install invitation (memory)",
            "install_invitations_memory",
            "licensekit_per_invitation_us",
            "floor_per_invitation_us",
            1.0,
        ),
        (
            "activation (memory)",
            "activations_memory",
            "licensekit_per_activation_us",
            "floor_per_activation_us",
            1.0,
        ),
        ("import licensekit", "import_time", "licensekit_s", "floor_s", 1e3),
    ]
    print(f"{'workload':<28} {'licensekit':>14} {'floor':>14} {'ratio':>7}")
    for label, name, ours, floor, scale in rows:
        result = results[name]
        assert isinstance(result, dict)
        unit = "ms" if scale == 1e3 else "us"
        print(
            f"{label:<28} {result[ours] * scale:>11.1f} {unit} "
            f"{result[floor] * scale:>11.1f} {unit} {result['ratio']:>7.2f}"
        )
    print(f"results written to {args.output}")


if __name__ == "__main__":
    main()
