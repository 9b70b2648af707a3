"""Child process of the memory workload: invite N people from a CSV file, report peak RSS.

Run by benchmarks/workloads.py in a fresh interpreter, so that the peak is this job's alone.
The mailer counts and drops messages, as a host's SMTP mailer would after handing them over.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

from licensekit import LicenseKit, PasswordHasher, Settings, SQLiteStore
from licensekit.mail import Message


class CountingMailer:
    """Counts messages and keeps none of them."""

    def __init__(self) -> None:
        self.sent = 0

    def send(self, message: Message) -> None:
        self.sent += 1


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    count, folder = int(sys.argv[1]), Path(sys.argv[2])
    source = folder / "people.csv"
    with source.open("w", encoding="utf-8") as out:
        out.write("email\n")
        for n in range(count):
            out.write(f"person{n}@example.com\n")
    mailer = CountingMailer()
    kit = LicenseKit(
        SQLiteStore(folder / "memory.db"),
        mailer,
        secret=b"a benchmark secret of thirty-two bytes or more",
        join_url="https://portal.example.com/join?token={token}",
        download_url="https://downloads.example.com/get?token={token}",
        password_hasher=PasswordHasher.insecure_fast(),
        # One batch larger than the default hourly limit of invitation emails: raised.
        settings=Settings(max_batch_size=count, invitations_per_account_per_hour=count),
    )
    kit.register_user("admin@example.com", "benchmark passphrase", email_verified=True)
    admin = kit.log_in("admin@example.com", "benchmark passphrase")
    account = kit.create_business_account(admin, "Bench Corp")
    key = kit.add_license_key(admin, account.id, product="Bench", value="BENCH-1", seats=count)
    before = peak_mb()
    batch = kit.invite_installers(admin, account.id, key.id, csv=source)
    assert len(batch.invited) == count and mailer.sent == count
    print(json.dumps({"count": count, "peak_mb": peak_mb(), "peak_before_invitation_mb": before}))


if __name__ == "__main__":
    main()
