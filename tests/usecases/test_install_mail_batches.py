"""The emails of a batch of invitations to install, written once per language, inviter and expiry.

Sending writes the parts a batch shares once (``Templates.prepare``) and fills in each
recipient's address, link and code. One call may send invitations made in several
languages, by several administrators, with several expiries: each email must still be the
one ``render_install_invitation`` writes for its own invitation alone. The code and link
each email should carry are read from the CSV export, not from the emails.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from licensekit import Role
from licensekit.mail import Message, render_install_invitation
from licensekit.testing import (
    TEST_DOWNLOAD_URL,
    LicenseKitForTests,
    add_member,
    make_business_account,
    make_licensekit,
)

PRODUCT = 'Draw "Pro" <2> & more'
ACCOUNT = "Acme & <Partners>\nLtd"


def _exported(kit: LicenseKitForTests, admin: object, account_id: str, key_id: str) -> dict:
    """Each invitation's (code, link) by address, from the CSV export."""
    text = kit.export_install_invitations(admin, account_id, key_id)
    rows = list(csv.reader(io.StringIO(text)))
    return {row[0]: (row[1], row[2]) for row in rows[1:]}


def _expected(
    kit: LicenseKitForTests,
    account_name: str,
    to: str,
    code_and_link: tuple[str, str],
    inviter: str,
    language: str,
    expires_at: dt.datetime,
) -> Message:
    code, link = code_and_link
    prefix = TEST_DOWNLOAD_URL.split("{token}")[0]
    assert link.startswith(prefix)
    return render_install_invitation(
        to=to,
        product=PRODUCT,
        account_name=account_name,
        inviter_email=inviter,
        download_url=link,
        code=code,
        token=link.removeprefix(prefix),
        expires_at=expires_at,
        language=language,
        service_name=kit.settings.service_name,
        templates=kit.templates,
    )


def test_one_call_sends_each_invitation_in_its_own_language_inviter_and_expiry() -> None:
    kit = make_licensekit()
    admin, account = make_business_account(kit, admin_email="first.admin@example.com", name=ACCOUNT)
    second = add_member(
        kit, admin, account.id, "second.admin@example.com", role=Role.ACCOUNT_ADMINISTRATOR
    )
    key = kit.add_license_key(admin, account.id, product=PRODUCT, value="KEY-1", seats=20)
    batches = [  # (who invites, language, expiry, addresses)
        (admin, "first.admin@example.com", "de", dt.timedelta(days=7), ["ann@example.com"]),
        (second, "second.admin@example.com", "ja", dt.timedelta(days=7), ["bob@example.com"]),
        (admin, "first.admin@example.com", "ja", dt.timedelta(days=7), ["cy@example.com"]),
        (second, "second.admin@example.com", "de", dt.timedelta(days=7), ["dee@example.com"]),
        (admin, "first.admin@example.com", "de", dt.timedelta(days=3), ["eve@example.com"]),
        (admin, "first.admin@example.com", "de", dt.timedelta(days=7), ["fay@example.com"]),
    ]
    expected: dict[str, tuple[str, str, dt.datetime]] = {}
    for session, inviter, language, lifetime, emails in batches:
        made = kit.invite_installers(
            session, account.id, key.id, emails, language=language, expires_in=lifetime, send=False
        )
        for view in made.invited:
            expected[view.email] = (inviter, language, view.expires_at)
    kit.mailer.sent.clear()

    report = kit.send_install_invitations(admin, account.id, key.id)

    assert sorted(i.email for i in report.sent) == sorted(expected)
    exported = _exported(kit, admin, account.id, key.id)
    sent = {m.to: m for m in kit.mailer.sent}
    assert sorted(sent) == sorted(expected), "one email per invitation"
    for to, (inviter, language, expires_at) in expected.items():
        want = _expected(kit, account.name, to, exported[to], inviter, language, expires_at)
        assert sent[to] == want, f"the email to {to} ({language}, by {inviter})"
    assert len({m.data["code"] for m in sent.values()}) == len(sent)


def test_a_batch_sent_as_it_is_made_gives_each_recipient_their_own_code_and_link() -> None:
    kit = make_licensekit()
    admin, account = make_business_account(kit, name=ACCOUNT)
    key = kit.add_license_key(admin, account.id, product=PRODUCT, value="KEY-1", seats=20)
    emails = [f"person{n}@example.com" for n in range(5)]

    batch = kit.invite_installers(admin, account.id, key.id, emails, language="pt-BR")

    exported = _exported(kit, admin, account.id, key.id)
    sent = {m.to: m for m in kit.mailer.sent}
    assert sorted(sent) == sorted(emails)
    for view in batch.invited:
        want = _expected(
            kit,
            account.name,
            view.email,
            exported[view.email],
            "admin@example.com",
            "pt-BR",
            view.expires_at,
        )
        assert sent[view.email] == want
