"""The administrator guide's page "Inviting Users to Install Parallels Desktop", as one story.

An Account Administrator adds a five-seat key and invites eight people from a CSV file (with a
header, a blank line, a duplicate and an invalid address). The invitations are exported first
(email, temporary activation code, personal download URL) and sent afterwards; the emails say
the code is temporary and not the license key, whose value appears nowhere. Six computers then
activate, some automatically with the token of their download URL, some by hand with the code
typed carelessly: five get a seat, the sixth is refused until a deactivation frees one (its
retries never lock its code). The deactivated computer cannot take its seat back with its
one-computer code, and no one's code takes over a running computer. The administrator lists
the active installations, and the audit trail tells the story.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from pathlib import Path

import pytest

from licensekit import (
    ActivationCodeUsedUp,
    ActivationResult,
    AuditAction,
    ComputerAlreadyActivated,
    InstallationStatus,
    InstallInvitationState,
    KeyStatus,
    MessageKind,
    SeatsFull,
)
from licensekit.testing import TEST_DOWNLOAD_URL, LicenseKitForTests, make_licensekit

PRODUCT = "Parallels Desktop for Mac Business Edition"
KEY_VALUE = "PDB-7Q2MX-9D4R8-T3WK5-ZH6NC"
INVITEES = [
    "ann@example.com",
    "bob@example.com",
    "carol@example.com",
    "dave@example.com",
    "erin@example.com",
    "frank@example.com",
    "grace@example.com",
    "heidi@example.com",
]

# Rows as a spreadsheet would number them: the header is row 1.
USERS_CSV = (
    "\ufeffemail\r\n"  # 1 (UTF-8 BOM, as Excel writes it)
    "ann@example.com\r\n"  # 2
    "  Bob@Example.com  \r\n"  # 3
    "\r\n"  # 4 blank
    "carol@example.com\r\n"  # 5
    "dave@example.com\r\n"  # 6
    "bob@example.com\r\n"  # 7 duplicate of row 3
    "erin@example.com\r\n"  # 8
    "erin.example.com\r\n"  # 9 invalid: no @-sign
    "frank@example.com\r\n"  # 10
    "grace@example.com\r\n"  # 11
    "heidi@example.com\r\n"  # 12
)


def key_value_forms() -> list[str]:
    """The key's value in every spelling someone might search for."""
    bare = KEY_VALUE.replace("-", "")
    return [KEY_VALUE, KEY_VALUE.lower(), bare, bare.lower()]


def assert_no_key_value(text: str) -> None:
    for form in key_value_forms():
        assert form not in text


def typed_carelessly(code: str) -> str:
    """A code as a person types it: lower case, groups separated by spaces."""
    return " ".join(code.lower().split("-"))


def activate_by_token(kit: LicenseKitForTests, link: str, computer: str) -> ActivationResult:
    """What the installer downloaded from *link* does on its own."""
    token = link.rsplit("token=", 1)[1]
    return kit.activate(
        computer_id=f"serial-{computer}",
        token=token,
        computer_name=f"{computer}'s MacBook",
        product=PRODUCT,
    )


def activate_by_code(kit: LicenseKitForTests, code: str, computer: str) -> ActivationResult:
    """A person typing the code from the email when automatic activation did not happen."""
    return kit.activate(
        computer_id=f"serial-{computer}",
        code=typed_carelessly(code),
        computer_name=f"{computer}'s MacBook",
    )


def test_inviting_users_to_install_from_a_csv_end_to_end(tmp_path: Path) -> None:
    kit = make_licensekit()
    clock = kit.clock
    mailer = kit.mailer

    kit.register_user("admin@example.com", "the admin's passphrase", email_verified=True)
    admin = kit.log_in("admin@example.com", "the admin's passphrase")
    account = kit.create_business_account(admin, "Example Corp")

    # The account holds a five-seat key; administrators see its value only masked.
    key = kit.add_license_key(admin, account.id, product=PRODUCT, value=KEY_VALUE, seats=5)
    assert (key.seats, key.seats_used, key.seats_free) == (5, 0, 5)
    assert key.masked_value == "***-*****-*****-*****-*H6NC"

    # "Invite Users": the key, a language, an expiry, and a CSV file of addresses.
    users_file = tmp_path / "users.csv"
    users_file.write_bytes(USERS_CSV.encode("utf-8"))
    batch = kit.invite_installers(
        admin, account.id, key.id, csv=users_file, language="en", expires_in="7d", send=False
    )

    assert [i.email for i in batch.invited] == INVITEES
    assert len(batch.invited) == 8
    assert {i.state for i in batch.invited} == {InstallInvitationState.PENDING}
    assert {i.expires_at for i in batch.invited} == {clock.now() + dt.timedelta(days=7)}
    assert [(s.row, s.text) for s in batch.skipped] == [
        (7, "bob@example.com"),
        (9, "erin.example.com"),
    ]
    duplicate, invalid = batch.skipped
    assert duplicate.reason == "duplicate of row 3"
    assert "@" in invalid.reason
    # More invitations than free seats is allowed, and the result says so.
    assert batch.seats_free == 5
    (warning,) = batch.warnings
    assert "8 invitations for 5 free seats" in warning
    assert "first come, first served" in warning
    # Nothing is sent yet.
    assert mailer.messages(kind=MessageKind.INSTALL_INVITATION) == []

    # "Download Invitations": email, temporary activation code, download URL.
    exported = kit.export_install_invitations(admin, account.id, key.id)
    assert exported.splitlines()[0] == "email,temporary_activation_code,download_url"
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [r["email"] for r in rows] == INVITEES
    codes = [r["temporary_activation_code"] for r in rows]
    urls = [r["download_url"] for r in rows]
    assert len(set(codes)) == 8
    assert len(set(urls)) == 8
    assert all(url.startswith(TEST_DOWNLOAD_URL.replace("{token}", "")) for url in urls)
    assert_no_key_value(exported)
    by_email = {r["email"]: (r["temporary_activation_code"], r["download_url"]) for r in rows}

    # "Send Invitations".
    report = kit.send_install_invitations(admin, account.id, key.id)
    assert sorted(i.email for i in report.sent) == INVITEES
    assert report.undelivered == ()
    for email in INVITEES:
        (message,) = mailer.messages(to=email, kind=MessageKind.INSTALL_INVITATION)
        code, url = by_email[email]
        # The same code and link as in the exported file.
        assert (message.data["code"], message.data["link"]) == (code, url)
        assert code in message.text
        assert url in message.text
        assert PRODUCT in message.text
        # "This is not the actual license key ... only a temporary activation code."
        assert "temporary" in message.text
        assert "not the license key" in message.text
        assert "not the license key" in re.sub(r"<[^>]+>", "", message.html)
        for part in (message.subject, message.text, message.html, *message.data.values()):
            assert_no_key_value(part)

    # Users install and activate: automatically with their link, or by typing the code.
    results: dict[str, ActivationResult] = {}
    ways = {
        "ann": "token",
        "bob": "code",
        "carol": "token",
        "dave": "code",
        "erin": "token",
    }
    for name, way in ways.items():
        clock.advance(minutes=7)
        code, url = by_email[f"{name}@example.com"]
        result = (
            activate_by_token(kit, url, name)
            if way == "token"
            else activate_by_code(kit, code, name)
        )
        assert result.email == f"{name}@example.com"
        assert result.product == PRODUCT
        assert result.already_active is False
        assert result.activated_at == clock.now()
        assert_no_key_value(repr(result))
        assert_no_key_value(result.installation_token)
        results[name] = result

    # The sixth computer finds every seat taken: first come, first served.
    clock.advance(minutes=7)
    frank_code, _ = by_email["frank@example.com"]
    with pytest.raises(SeatsFull) as refused:
        activate_by_code(kit, frank_code, "frank")
    assert refused.value.seats == 5
    # Frank's installer retries; full seats are not his code's fault, so it is never locked.
    for _ in range(30):
        with pytest.raises(SeatsFull):
            activate_by_code(kit, frank_code, "frank")
    assert kit.get_license_key(admin, account.id, key.id).seats_free == 0

    # The administrator deactivates one installation; the seat is free at once.
    clock.advance(minutes=7)
    freed = kit.deactivate_installation(admin, account.id, results["bob"].installation_id)
    assert freed.status is InstallationStatus.DEACTIVATED
    assert kit.get_license_key(admin, account.id, key.id).seats_free == 1

    clock.advance(minutes=7)
    results["frank"] = activate_by_code(kit, frank_code, "frank")
    assert results["frank"].already_active is False
    key = kit.get_license_key(admin, account.id, key.id)
    assert (key.seats_used, key.seats_free, key.status) == (5, 0, KeyStatus.ACTIVE)

    # Bob's code allowed one computer, and the deactivation used up its claim: typing it again
    # does not bring his computer back (he needs a new invitation).
    bob_code, _ = by_email["bob@example.com"]
    with pytest.raises(ActivationCodeUsedUp):
        activate_by_code(kit, bob_code, "bob")
    # Grace's code does not take over Frank's running computer; Frank's installation is intact.
    grace_code, _ = by_email["grace@example.com"]
    with pytest.raises(ComputerAlreadyActivated):
        activate_by_code(kit, grace_code, "frank")
    assert (
        kit.check_in(results["frank"].installation_token).installation.email == "frank@example.com"
    )

    # The list of active installations: computer name and id, user email, activation time.
    installations = kit.list_installations(admin, account.id, key.id).items
    assert len(installations) == 5
    listed = {i.email: i for i in installations}
    assert set(listed) == {f"{n}@example.com" for n in ("ann", "carol", "dave", "erin", "frank")}
    for name in ("ann", "carol", "dave", "erin", "frank"):
        view = listed[f"{name}@example.com"]
        assert view.id == results[name].installation_id
        assert view.computer_id == f"serial-{name}"
        assert view.computer_name == f"{name}'s MacBook"
        assert view.activated_at == results[name].activated_at
        assert view.status is InstallationStatus.ACTIVE

    # Invitations as the administrator now sees them.
    states = Counter(i.state for i in kit.list_install_invitations(admin, account.id, key.id).items)
    assert states == {InstallInvitationState.ACTIVATED: 6, InstallInvitationState.SENT: 2}

    # The audit trail.
    events = kit.list_audit_events(admin, account.id, limit=500).items
    actions = Counter(e.action for e in events)
    assert actions[AuditAction.LICENSE_KEY_ADDED] == 1
    assert actions[AuditAction.INSTALL_INVITATION_CREATED] == 8
    assert actions[AuditAction.INSTALL_INVITATIONS_EXPORTED] == 1
    assert actions[AuditAction.INSTALL_INVITATION_SENT] == 8
    assert actions[AuditAction.ACTIVATED] == 6
    assert actions[AuditAction.ACTIVATION_REFUSED] == 33
    assert actions[AuditAction.DEACTIVATED] == 1
    refusals = [e for e in events if e.action is AuditAction.ACTIVATION_REFUSED]
    assert Counter((e.details["reason"], e.details["email"]) for e in refusals) == {
        ("SeatsFull", "frank@example.com"): 31,
        ("ActivationCodeUsedUp", "bob@example.com"): 1,
        ("ComputerAlreadyActivated", "grace@example.com"): 1,
    }
    (deactivation,) = [e for e in events if e.action is AuditAction.DEACTIVATED]
    assert deactivation.actor_id == admin.user_id
    assert deactivation.subject == results["bob"].installation_id
    for event in events:
        for value in (event.subject, *event.details.values()):
            assert_no_key_value(value)
