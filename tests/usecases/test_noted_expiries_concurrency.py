"""Listings that note expiries race activations, revocations, sends and each other safely.

A listing by state writes (it notes the expiries that have passed) without locking the key
or the account, while activations, revocations and sends lock them and save whole records.
On every store, and on PostgreSQL with its row locks and READ COMMITTED snapshots above all
(``LICENSEKIT_TEST_STORE=postgres``), such races must leave no error to a caller but the
domain's own (an expired or revoked code), no deadlock unretried, no field another
transaction wrote lost (an activation, a revocation, a send counted), and every listing
must answer as the clock says.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from _racing import eager_thread_switching, race
from _records import records
from licensekit import (
    ActivationCodeExpired,
    ActivationCodeRevoked,
    InstallInvitationState,
    InvitationState,
    Settings,
)
from licensekit.model import InstallInvitationPhase
from licensekit.storage import INSTALL_INVITATIONS, JOIN_INVITATIONS, Query
from licensekit.testing import LicenseKitForTests, make_business_account, make_licensekit

__all__ = ["eager_thread_switching"]

ROUNDS = int(os.environ.get("NOTE_ROUNDS", "3"))  # more to hunt rare interleavings
PER_BATCH = 6


def stored(kit: LicenseKitForTests, kind: Any, ids: list[str]) -> list[Any]:
    with records(kit.store) as tx:
        return tx.port.read([Query(kind, ("id",), tuple((i,) for i in ids))])[0]


def race_round(n: int) -> None:
    kit = make_licensekit(settings=Settings(session_lifetime=dt.timedelta(days=365)))
    admin, account = make_business_account(kit, admin_email=f"admin{n}@example.com")
    key = kit.add_license_key(admin, account.id, product="Suite", value=f"K-RACE-{n}", seats=500)

    def invite(label: str, **options: Any) -> list[Any]:
        emails = [f"{label}{i}@example.com" for i in range(PER_BATCH)]
        return list(kit.invite_installers(admin, account.id, key.id, emails, **options).invited)

    dying = invite("dying", expires_in="1d", max_activations=2)
    living = invite("living", expires_in="3d", max_activations=2)
    unsent = invite("unsent", expires_in="3d", send=False)
    old_guests = kit.invite_members(
        admin, account.id, [f"guest{i}@example.com" for i in range(PER_BATCH)], expires_in="1d"
    ).invited
    new_guests = kit.invite_members(
        admin, account.id, [f"new{i}@example.com" for i in range(PER_BATCH)], send=False
    ).invited
    codes = {i.id: kit.mailer.last(to=i.email).data["code"] for i in (*dying, *living)}
    kit.clock.advance(days=1)  # the dying expire at this very instant; nothing noted yet
    now = kit.clock.now()

    def listing(state: InstallInvitationState) -> Any:
        return lambda: kit.list_install_invitations(admin, account.id, key.id, state=state)

    def join_listing(state: InvitationState) -> Any:
        return lambda: kit.list_join_invitations(admin, account.id, state=state)

    def activation(invitation: Any, computer: str) -> Any:
        return lambda: kit.activate(code=codes[invitation.id], computer_id=computer)

    calls = [
        listing(InstallInvitationState.EXPIRED),
        listing(InstallInvitationState.SENT),
        listing(InstallInvitationState.PENDING),
        listing(InstallInvitationState.ACTIVATED),
        lambda: kit.export_install_invitations(admin, account.id, key.id),
        join_listing(InvitationState.EXPIRED),
        join_listing(InvitationState.PENDING),
        lambda: kit.send_install_invitations(admin, account.id, key.id),
        lambda: kit.send_join_invitations(admin, account.id),
        lambda: kit.revoke_install_invitation(admin, account.id, dying[0].id),
        lambda: kit.revoke_install_invitation(admin, account.id, living[0].id),
        *[activation(i, f"PC-{i.email}") for i in (*dying[1:4], *living[:4])],
    ]
    results = race(calls)
    allowed = (ActivationCodeExpired, ActivationCodeRevoked)
    failures = [r for r in results if isinstance(r, Exception) and not isinstance(r, allowed)]
    assert failures == [], f"round {n}: a caller saw {failures!r}"
    expired_codes = [r for r in results[-7:-4] if isinstance(r, Exception)]
    assert len(expired_codes) == 3, results[-7:-4]
    assert all(isinstance(r, ActivationCodeExpired) for r in expired_codes), results[-7:-4]
    # Nothing another transaction wrote is lost.
    ids = [i.id for i in (*dying, *living, *unsent)]
    after = {r.id: r for r in stored(kit, INSTALL_INVITATIONS, ids)}
    assert after[dying[0].id].revoked_at is not None
    assert after[living[0].id].revoked_at is not None
    activated = [r for r in results[-4:] if not isinstance(r, Exception)]
    assert sum(after[i.id].activations for i in living) == len(activated)
    assert all(after[i.id].activations == 0 for i in dying)
    for invitation in after.values():
        mails = kit.mailer.messages(to=invitation.email)
        assert invitation.sent_count == len(mails), invitation.email
    assert all(r.sent_count == 1 for r in stored(kit, JOIN_INVITATIONS, [g.id for g in new_guests]))
    # Every listing answers as the clock says; each expiry noted by now (once more if lost).
    for state in InstallInvitationState:
        listed = kit.list_install_invitations(admin, account.id, key.id, state=state, limit=100)
        assert sorted(i.id for i in listed.items) == sorted(
            r.id for r in after.values() if r.state(now) is state
        ), state
    final = {r.id: r for r in stored(kit, INSTALL_INVITATIONS, ids)}
    for invitation in final.values():
        is_expired = invitation.state(now) is InstallInvitationState.EXPIRED
        assert (invitation.phase is InstallInvitationPhase.EXPIRED) == is_expired
    expired_guests = kit.list_join_invitations(
        admin, account.id, state=InvitationState.EXPIRED, limit=100
    )
    assert sorted(i.id for i in expired_guests.items) == sorted(g.id for g in old_guests)


def test_listings_noting_expiries_race_activations_revocations_and_sends_safely() -> None:
    for n in range(ROUNDS):
        race_round(n)
