"""A listing by state notes the expiries that have passed, then reads phases alone.

An invitation's expiry is time, which no index holds; its phase is data. A listing of
invitations by state first marks those of the phases it reads whose expiry has passed
(``expiry_noted_at``, which moves them to the ``expired`` phase), so that a page of live
or of expired invitations reads only that page. These tests pin what the note means: the
same answers as before, each expiry noted once, never one that has not passed, and an
invitation once noted stays expired.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from _records import records
from licensekit import InstallInvitationState, InvitationState, Settings
from licensekit.model import (
    InstallInvitation,
    InstallInvitationPhase,
    JoinInvitation,
    JoinInvitationPhase,
)
from licensekit.storage import INSTALL_INVITATIONS, JOIN_INVITATIONS
from licensekit.testing import LicenseKitForTests, make_business_account, make_licensekit


@pytest.fixture
def kit() -> LicenseKitForTests:
    return make_licensekit(settings=Settings(session_lifetime=dt.timedelta(days=365)))


def stored(kit: LicenseKitForTests, kind: Any, ids: list[str]) -> dict[str, Any]:
    with records(kit.store) as tx:
        return {r.id: r for r in tx.get_many(kind, ids)}


def install_setup(kit: LicenseKitForTests) -> tuple[Any, str, str]:
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="Suite", value="K-NOTE", seats=50)
    return admin, account.id, key.id


def states_listed(kit: LicenseKitForTests, admin: Any, account_id: str, key_id: str) -> dict:
    return {
        state: [
            i.email
            for i in kit.list_install_invitations(admin, account_id, key_id, state=state).items
        ]
        for state in InstallInvitationState
    }


def test_listing_by_state_notes_passed_expiries_once_and_answers_as_the_clock_says(
    kit: LicenseKitForTests,
) -> None:
    admin, account_id, key_id = install_setup(kit)
    short = kit.invite_installers(
        admin, account_id, key_id, ["a@example.com", "b@example.com"], expires_in="1d"
    ).invited
    unsent = kit.invite_installers(
        admin, account_id, key_id, ["c@example.com"], expires_in="1d", send=False
    ).invited
    used = kit.invite_installers(
        admin, account_id, key_id, ["d@example.com"], expires_in="1d", max_activations=2
    ).invited
    code = kit.mailer.last(to="d@example.com").data["code"]
    kit.activate(code=code, computer_id="PC-D")
    kit.clock.advance(hours=12)
    later = kit.invite_installers(admin, account_id, key_id, ["e@example.com"]).invited
    ids = [i.id for i in (*short, *unsent, *used, *later)]
    kit.clock.advance(hours=13)  # the first four expired an hour ago, e@ lives on

    assert all(r.expiry_noted_at is None for r in stored(kit, INSTALL_INVITATIONS, ids).values())
    listed = states_listed(kit, admin, account_id, key_id)
    assert listed[InstallInvitationState.EXPIRED] == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
        "d@example.com",
    ]
    assert listed[InstallInvitationState.SENT] == ["e@example.com"]
    assert listed[InstallInvitationState.PENDING] == []
    assert listed[InstallInvitationState.ACTIVATED] == []
    now = kit.clock.now()
    after = stored(kit, INSTALL_INVITATIONS, ids)
    assert [after[i].phase for i in ids] == [
        *[InstallInvitationPhase.EXPIRED] * 4,
        InstallInvitationPhase.SENT,
    ]
    assert {after[i].expiry_noted_at for i in ids[:4]} == {now}
    assert after[ids[4]].expiry_noted_at is None  # never one that has not passed

    kit.clock.advance(hours=1)
    assert states_listed(kit, admin, account_id, key_id) == listed
    assert {r.expiry_noted_at for r in stored(kit, INSTALL_INVITATIONS, ids[:4]).values()} == {
        now
    }  # noted once


def test_a_noted_invitation_stays_expired_and_its_code_refused_even_if_the_clock_goes_back(
    kit: LicenseKitForTests,
) -> None:
    admin, account_id, key_id = install_setup(kit)
    (view,) = kit.invite_installers(
        admin, account_id, key_id, ["late@example.com"], expires_in="1d"
    ).invited
    code = kit.mailer.last(to="late@example.com").data["code"]
    kit.clock.advance(days=2)
    expired = kit.list_install_invitations(
        admin, account_id, key_id, state=InstallInvitationState.EXPIRED
    )
    assert [i.id for i in expired.items] == [view.id]
    kit.clock.advance(days=-2)  # a clock set back (a host's, or a test's)

    record: InstallInvitation = stored(kit, INSTALL_INVITATIONS, [view.id])[view.id]
    now = kit.clock.now()
    assert now < record.expires_at
    assert record.state(now) is InstallInvitationState.EXPIRED
    assert not record.usable(now)
    assert states_listed(kit, admin, account_id, key_id)[InstallInvitationState.SENT] == []
    with pytest.raises(Exception, match="expired"):
        kit.activate(code=code, computer_id="PC-1")


def test_exporting_usable_invitations_notes_expiries_and_leaves_out_the_expired(
    kit: LicenseKitForTests,
) -> None:
    admin, account_id, key_id = install_setup(kit)
    kit.invite_installers(admin, account_id, key_id, ["old@example.com"], expires_in="1d")
    kit.clock.advance(days=2)
    (fresh,) = kit.invite_installers(admin, account_id, key_id, ["new@example.com"]).invited
    text = kit.export_install_invitations(admin, account_id, key_id)
    assert "new@example.com" in text
    assert "old@example.com" not in text
    everything = kit.export_install_invitations(admin, account_id, key_id, include_unusable=True)
    assert "old@example.com" in everything
    listed = kit.list_install_invitations(admin, account_id, key_id).items
    by_email = stored(kit, INSTALL_INVITATIONS, [i.id for i in listed])
    phases = {r.email: r.phase for r in by_email.values()}
    assert phases == {
        "old@example.com": InstallInvitationPhase.EXPIRED,
        "new@example.com": InstallInvitationPhase.SENT,
    }
    assert fresh.state is InstallInvitationState.SENT


def test_join_invitations_by_state_note_passed_expiries(kit: LicenseKitForTests) -> None:
    admin, account = make_business_account(kit)
    old = kit.invite_members(admin, account.id, ["old@example.com"], expires_in="1d").invited
    kit.clock.advance(days=2)
    new = kit.invite_members(admin, account.id, ["new@example.com"], send=False).invited
    ids = [old[0].id, new[0].id]
    assert all(r.expiry_noted_at is None for r in stored(kit, JOIN_INVITATIONS, ids).values())

    def listed(state: InvitationState) -> list[str]:
        return [i.email for i in kit.list_join_invitations(admin, account.id, state=state).items]

    assert listed(InvitationState.PENDING) == ["new@example.com"]
    assert listed(InvitationState.EXPIRED) == ["old@example.com"]
    after: dict[str, JoinInvitation] = stored(kit, JOIN_INVITATIONS, ids)
    assert after[ids[0]].phase is JoinInvitationPhase.EXPIRED
    assert after[ids[0]].expiry_noted_at == kit.clock.now()
    assert after[ids[1]].phase is JoinInvitationPhase.OPEN
    assert after[ids[0]].state(kit.clock.now()) is InvitationState.EXPIRED
    # Sending the pending ones notes too, and sends only the live one.
    kit.mailer.clear()
    report = kit.send_join_invitations(admin, account.id)
    assert [m.to for m in kit.mailer.messages()] == ["new@example.com"]
    assert report is not None


def test_many_expired_invitations_are_noted_in_chunks(
    kit: LicenseKitForTests, monkeypatch: pytest.MonkeyPatch
) -> None:
    from licensekit._usecases import _invitation_states
    from licensekit.aio._usecases import _invitation_states as async_states

    monkeypatch.setattr(_invitation_states, "NOTE_CHUNK", 3)
    monkeypatch.setattr(async_states, "NOTE_CHUNK", 3)
    admin, account_id, key_id = install_setup(kit)
    emails = [f"p{n:02}@example.com" for n in range(10)]
    kit.invite_installers(admin, account_id, key_id, emails, expires_in="1d", send=False)
    kit.clock.advance(days=1)  # the expiry itself: expired from that instant on
    expired = kit.list_install_invitations(
        admin, account_id, key_id, state=InstallInvitationState.EXPIRED, limit=4
    )
    assert [i.email for i in expired.items] == emails[:4]
    rest = kit.list_install_invitations(
        admin, account_id, key_id, state="expired", cursor=expired.next_cursor, limit=20
    )
    assert [i.email for i in rest.items] == emails[4:]
    assert kit.list_install_invitations(admin, account_id, key_id, state="pending").items == ()
