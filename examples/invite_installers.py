"""Plays the administrator guide's "invite users to install" page end to end.

An administrator adds a 5-seat license key and invites 8 people to install from a CSV file
(with a header, a blank line, a repeated address and an invalid one). The invitations are
exported as CSV, then sent. Six computers activate, some automatically with the token from
their download link and some with the code typed by hand: five get a seat, the sixth is
refused because the seats are full. One installation is deactivated, and the sixth computer
then succeeds. The administrator lists the installations.

Run it with:  python examples/invite_installers.py
"""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from licensekit import LicenseKit, MemoryStore, MessageKind, SeatsFull
from licensekit.testing import RecordingMailer

USERS_CSV = """email
ann@example.com
bob@example.com

cy@example.com
BOB@example.com
dee@example.com
not-an-address
eve@example.com
fay@example.com
gus@example.com
hal@example.com
"""


def main() -> None:
    """Run the scenario and print what happens at each step."""
    mailer = RecordingMailer()
    kit = LicenseKit(
        MemoryStore(),
        mailer,
        secret=secrets.token_bytes(32),
        join_url="https://portal.example.com/join?token={token}",
        download_url="https://downloads.example.com/desktop?token={token}",
    )
    # The host set this administrator up itself, so it vouches for the address.
    kit.register_user("it@example.com", "a long admin passphrase", email_verified=True)
    admin = kit.log_in("it@example.com", "a long admin passphrase")
    account = kit.create_business_account(admin, "Example Corp")

    print("1. The administrator adds a 5-seat key for 'Desktop Pro'.")
    key = kit.add_license_key(
        admin, account.id, product="Desktop Pro", value="PDPRO-4F7K-29XQ-MB3T-7HWD", seats=5
    )
    print(f"   {key.product}: {key.seats} seats, value shown as {key.masked_value}")

    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / "users.csv"
        csv_path.write_text(USERS_CSV, encoding="utf-8")
        print("2. Eight people are invited from users.csv, in English, for 7 days.")
        batch = kit.invite_installers(
            admin, account.id, key.id, csv=csv_path, language="en", expires_in="7d", send=False
        )
    print(f"   {len(batch.invited)} invitations created")
    for skipped in batch.skipped:
        print(f"   row {skipped.row} skipped ({skipped.text!r}): {skipped.reason}")
    for warning in batch.warnings:
        print(f"   warning: {warning}")

    print("3. The invitations are downloaded as CSV before sending:")
    exported = kit.export_install_invitations(admin, account.id, key.id)
    for line in exported.splitlines()[:3]:
        print(f"   {line}")
    print("   ...")

    report = kit.send_install_invitations(admin, account.id, key.id)
    print(f"4. {len(report.sent)} emails sent. The one Ann receives:")
    print("   " + mailer.last(to="ann@example.com").text.replace("\n", "\n   "))

    print("5. Six computers activate, first come, first served.")
    people = ["ann", "bob", "cy", "dee", "eve", "fay"]
    results = {}
    for number, person in enumerate(people, start=1):
        message = mailer.last(to=f"{person}@example.com", kind=MessageKind.INSTALL_INVITATION)
        computer = f"{person}-laptop"
        try:
            if number % 2:
                token = parse_qs(urlsplit(message.data["link"]).query)["token"][0]
                result = kit.activate(
                    token=token, computer_id=f"SN-{number:04}", computer_name=computer
                )
                how = "automatically"
            else:
                typed = message.data["code"].lower().replace("-", " ")
                result = kit.activate(
                    code=typed, computer_id=f"SN-{number:04}", computer_name=computer
                )
                how = "with the typed code"
        except SeatsFull as e:
            print(f"   {computer}: refused: {e}")
            continue
        results[person] = result
        print(f"   {computer}: activated {how}")

    print("6. Ann's laptop is deactivated; Fay's laptop tries again.")
    kit.deactivate_installation(admin, account.id, results["ann"].installation_id)
    fay = mailer.last(to="fay@example.com", kind=MessageKind.INSTALL_INVITATION)
    kit.activate(code=fay.data["code"], computer_id="SN-0006", computer_name="fay-laptop")
    print("   fay-laptop: activated")

    print("7. The installations of the key:")
    for installation in kit.list_installations(admin, account.id, key.id).items:
        print(
            f"   {installation.computer_name:<12} {installation.computer_id:<8} "
            f"{installation.email:<18} {installation.activated_at:%Y-%m-%d %H:%M}"
        )
    seats = kit.get_license_key(admin, account.id, key.id)
    print(f"   seats used {seats.seats_used} of {seats.seats}")


if __name__ == "__main__":
    main()
