"""Once a listing has noted an invitation's expiry, every use case treats it as expired.

A noted expiry is expired whatever the clock says later (a host's clock set back): the code
is refused, the listings file it under expired, a replacement key leaves it behind with the
other expired invitations. What is for good before an expiry stays so after it was noted: a
revoked invitation is listed as revoked, a used-up one as activated.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from licensekit import InstallInvitationState, InvitationState, Settings
from licensekit.exceptions import ActivationCodeExpired, InvitationExpired
from licensekit.testing import (
    TEST_PASSWORD,
    LicenseKitForTests,
    make_business_account,
    make_licensekit,
)


@pytest.fixture
def kit() -> LicenseKitForTests:
    return make_licensekit(settings=Settings(session_lifetime=dt.timedelta(days=365)))


def by_state(kit: LicenseKitForTests, admin: Any, account_id: str, key_id: str) -> dict:
    return {
        str(state): sorted(
            i.email
            for i in kit.list_install_invitations(
                admin, account_id, key_id, state=state, limit=100
            ).items
        )
        for state in InstallInvitationState
    }


def test_a_replacement_key_leaves_behind_an_invitation_noted_expired_despite_the_clock(
    kit: LicenseKitForTests,
) -> None:
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="P", value="K-OLD", seats=5)
    kit.invite_installers(admin, account.id, key.id, ["late@example.com"], expires_in="1d")
    kit.clock.advance(days=2)
    kit.invite_installers(admin, account.id, key.id, ["fresh@example.com"], expires_in="3d")
    assert by_state(kit, admin, account.id, key.id)["expired"] == ["late@example.com"]
    kit.clock.advance(days=-2)  # a host's clock set back: the expiry is still noted
    report = kit.replace_license_key(admin, account.id, key.id, value="K-NEW")
    moved = kit.list_install_invitations(admin, account.id, report.to_key_id, limit=100).items
    assert [i.email for i in moved] == ["fresh@example.com"]
    assert report.invitations == 1


def test_a_noted_join_invitation_cannot_be_accepted_after_the_clock_goes_back(
    kit: LicenseKitForTests,
) -> None:
    admin, account = make_business_account(kit)
    kit.invite_members(admin, account.id, ["late@example.com"], expires_in="1d")
    token = kit.mailer.last_token(to="late@example.com")
    kit.clock.advance(days=2)
    expired = kit.list_join_invitations(admin, account.id, state=InvitationState.EXPIRED)
    assert [i.email for i in expired.items] == ["late@example.com"]
    kit.clock.advance(days=-2)
    pending = kit.list_join_invitations(admin, account.id, state=InvitationState.PENDING)
    assert pending.items == ()
    with pytest.raises(InvitationExpired):
        kit.accept_join_invitation(token, password=TEST_PASSWORD)
    kit.mailer.clear()
    kit.send_join_invitations(admin, account.id)
    assert kit.mailer.messages() == []


def test_revoked_or_used_up_after_the_expiry_was_noted_keep_their_own_state(
    kit: LicenseKitForTests,
) -> None:
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="P", value="K-KEEP", seats=5)
    (late,) = kit.invite_installers(
        admin, account.id, key.id, ["late@example.com"], expires_in="1d"
    ).invited
    kit.invite_installers(
        admin, account.id, key.id, ["used@example.com"], expires_in="1d", max_activations=1
    )
    kit.activate(code=kit.mailer.last(to="used@example.com").data["code"], computer_id="PC-U")
    late_code = kit.mailer.last(to="late@example.com").data["code"]
    kit.clock.advance(days=2)
    assert by_state(kit, admin, account.id, key.id)["expired"] == ["late@example.com"]
    with pytest.raises(ActivationCodeExpired):
        kit.activate(code=late_code, computer_id="PC-L")
    kit.revoke_install_invitation(admin, account.id, late.id)
    listed = by_state(kit, admin, account.id, key.id)
    assert listed["revoked"] == ["late@example.com"]
    assert listed["activated"] == ["used@example.com"]
    assert listed["expired"] == []
    text = kit.export_install_invitations(admin, account.id, key.id)
    assert "late@example.com" not in text
    assert "used@example.com" not in text
