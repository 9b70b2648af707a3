"""The whole life of one installed copy, from the product's side, on SQLite and PostgreSQL.

An Account Administrator adds a 30-day key with a 14-day grace period, a daily check-in and
culling after 5 silent days. Ann's copy activates and keeps the certificate it gets, which it
checks offline against the public keys it was built with. It checks in: the key is renewed
(the new expiry arrives), suspended (check-in says so and gives no certificate; the last one
still runs out on time), resumed, expires into grace (the certificate's lease stops at the
end of grace) and then for good. A copy that stops checking in is culled, and its seat goes
to another computer; back too late, it is told it lost it. A certificate edited by one byte
never verifies, and a rotated signing key verifies old and new certificates until the old
public key is dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from licensekit import (
    AuditAction,
    CertificateError,
    CertificateExpired,
    CertificateKeyUnknown,
    InstallationStatus,
    LicenseState,
    MessageKind,
    Session,
    SigningKeyError,
)
from licensekit.signing import KeyFileSigner
from licensekit.storage import Store
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import (
    TEST_PASSWORD,
    LicenseKitForTests,
    make_business_account,
    make_licensekit,
)
from licensekit.verifier import DEFAULT_SKEW, VerifiedLicense, verify_certificate

DAY = dt.timedelta(days=1)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = SQLiteStore(tmp_path / "licensekit.db")
        yield opened
        opened.close()
        return
    from licensekit.testing._postgres import open_postgres_test_store

    pg, close = open_postgres_test_store()
    yield pg
    close()


class Copy:
    """An installed copy: its token and the last certificate it was given."""

    def __init__(self, kit: LicenseKitForTests, computer_id: str, code: str) -> None:
        result = kit.activate(computer_id=computer_id, code=code)
        assert result.certificate is not None
        self.kit, self.computer_id = kit, computer_id
        self.token, self.certificate = result.installation_token, result.certificate
        self.installation_id = result.installation_id

    def verify(self, keys: dict[str, bytes], now: dt.datetime | None = None) -> VerifiedLicense:
        moment = self.kit.clock.now() if now is None else now
        return verify_certificate(self.certificate, keys, computer_id=self.computer_id, now=moment)

    def check_in(self) -> LicenseState:
        result = self.kit.check_in(self.token)
        if result.certificate is not None:
            self.certificate = result.certificate
        return result.license_state


def _admin(kit: LicenseKitForTests) -> Session:
    """A fresh session of the account's administrator (sessions last 12 hours)."""
    return kit.log_in("admin@example.com", TEST_PASSWORD)


def _code(kit: LicenseKitForTests, email: str) -> str:
    return str(kit.mailer.last(to=email, kind=MessageKind.INSTALL_INVITATION).data["code"])


def test_the_whole_life_of_one_copy(store: Store, tmp_path: Path) -> None:
    signer = KeyFileSigner.create(tmp_path / "signing-keys.json")
    kit = make_licensekit(store=store, signer=signer)
    admin, account = make_business_account(kit)
    start = kit.clock.now()
    key = kit.add_license_key(
        admin,
        account.id,
        product="Desktop Pro",
        value="DP-2030-ANN",
        seats=2,
        expires_at=start + 30 * DAY,
        grace_period=14 * DAY,
        check_in_interval=DAY,
        dead_after=5 * DAY,
    )
    assert (key.grace_period, key.check_in_interval, key.dead_after) == (14 * DAY, DAY, 5 * DAY)
    kit.invite_installers(admin, account.id, key.id, ["ann@example.com"])
    shipped = dict(signer.public_keys())  # built into the product

    # Activated: a certificate for 7 days, checked offline.
    ann = Copy(kit, "SN-ANN", _code(kit, "ann@example.com"))
    first = ann.verify(shipped)
    assert (first.license_state, first.license_key_id, first.installation_id) == (
        "active",
        key.id,
        ann.installation_id,
    )
    assert first.valid_until == start + 7 * DAY
    assert first.license_expires_at == start + 30 * DAY

    # A day later it checks in: a new certificate, and when to come back.
    kit.clock.advance(days=1)
    checked = kit.check_in(ann.token)
    assert checked.license_state is LicenseState.ACTIVE
    assert checked.check_in_due_at == kit.clock.now() + DAY
    assert checked.installation.last_seen_at == kit.clock.now()
    assert checked.certificate is not None
    ann.certificate = checked.certificate

    # Renewed for a year, from the old expiry: the next check-in brings the new expiry.
    renewed = kit.renew_license_key(_admin(kit), account.id, key.id, period=365 * DAY)
    assert renewed.expires_at == start + 395 * DAY
    assert ann.check_in() is LicenseState.ACTIVE
    assert ann.verify(shipped).license_expires_at == start + 395 * DAY

    # Suspended: check-in says so and gives no new certificate; the last one runs out on
    # time, and the copy stops then.
    kit.clock.advance(hours=2)
    admin = _admin(kit)
    kit.suspend_license_key(admin, account.id, key.id)
    lease_end = ann.verify(shipped).valid_until
    suspended = kit.check_in(ann.token)
    assert (suspended.license_state, suspended.certificate) == (LicenseState.SUSPENDED, None)
    assert ann.verify(shipped, lease_end).license_state == "active"  # still the old one
    with pytest.raises(CertificateExpired):
        ann.verify(shipped, lease_end + DEFAULT_SKEW + dt.timedelta(seconds=1))

    # Resumed: running again. Time passes, the copy checking in daily, to the expiry.
    kit.resume_license_key(admin, account.id, key.id)
    assert ann.check_in() is LicenseState.ACTIVE
    expiry = start + 395 * DAY
    while kit.clock.now() + DAY < expiry:
        kit.clock.advance(days=1)
        assert ann.check_in() is LicenseState.ACTIVE
    assert kit.cull_installations().culled == 0  # it never went silent

    # Into grace: it keeps running, and the certificate's lease stops at the end of grace.
    kit.clock.set(expiry + 10 * DAY)
    in_grace = kit.check_in(ann.token)
    assert in_grace.license_state is LicenseState.GRACE
    assert in_grace.grace_ends_at == expiry + 14 * DAY
    assert in_grace.certificate is not None
    ann.certificate = in_grace.certificate
    graced = ann.verify(shipped)
    assert (graced.license_state, graced.valid_until) == ("grace", expiry + 14 * DAY)
    assert in_grace.check_in_due_at == kit.clock.now() + DAY

    # Grace ends: expired, no certificate, and the last one has run out.
    kit.clock.set(expiry + 14 * DAY)
    over = kit.check_in(ann.token)
    assert (over.license_state, over.certificate) == (LicenseState.EXPIRED, None)
    with pytest.raises(CertificateExpired):
        ann.verify(shipped, expiry + 14 * DAY + DEFAULT_SKEW + dt.timedelta(seconds=1))

    trail = [e.action for e in kit.list_audit_events(_admin(kit), account.id, limit=500).items]
    assert trail.count(AuditAction.STATE_SEEN) == 4  # suspended, active, grace, expired


def test_a_silent_copy_is_culled_and_its_seat_taken_by_another(store: Store) -> None:
    from licensekit.signing import Ed25519Signer

    kit = make_licensekit(store=store, signer=Ed25519Signer.generate())
    admin, account = make_business_account(kit)
    key = kit.add_license_key(
        admin, account.id, product="Desktop Pro", value="DP-ONE-SEAT", seats=1, dead_after=3 * DAY
    )
    kit.invite_installers(admin, account.id, key.id, ["bob@example.com", "carol@example.com"])
    bob = Copy(kit, "SN-BOB", _code(kit, "bob@example.com"))

    kit.clock.advance(days=2, hours=23)
    admin = _admin(kit)
    assert kit.cull_installations().culled == 0
    overdue = kit.list_installations(admin, account.id, key.id).items
    assert [i.overdue for i in overdue] == [True]  # late by more than a day and a quarter
    kit.clock.advance(hours=1)
    report = kit.cull_installations()
    assert (report.keys, report.culled) == (1, 1)
    assert kit.cull_installations().culled == 0  # nothing is culled twice
    assert kit.get_license_key(admin, account.id, key.id).seats_used == 0

    carol = Copy(kit, "SN-CAROL", _code(kit, "carol@example.com"))
    assert carol.check_in() is LicenseState.ACTIVE

    # Bob's copy comes back within the window, but the seat is Carol's now.
    back = kit.check_in(bob.token)
    assert (back.license_state, back.returned, back.certificate) == (
        LicenseState.DEACTIVATED,
        False,
        None,
    )
    assert back.installation.status is InstallationStatus.CULLED

    # Carol's copy is deactivated: Bob's next check-in takes the seat back.
    kit.deactivate_installation(admin, account.id, carol.installation_id)
    again = kit.check_in(bob.token)
    assert (again.license_state, again.returned) == (LicenseState.ACTIVE, True)
    assert again.certificate is not None
    assert kit.get_license_key(admin, account.id, key.id).seats_used == 1
    events = kit.list_audit_events(admin, account.id, limit=500).items
    culled = [e for e in events if e.action is AuditAction.CULLED]
    assert [(e.subject, e.actor_id, e.details["computer_id"]) for e in culled] == [
        (bob.installation_id, "", "SN-BOB")
    ]
    assert any(e.action is AuditAction.RETURNED for e in events)


def _one_byte_edits(text: str) -> Iterator[str]:
    for i, ch in enumerate(text):
        for other in ("A", "b"):
            if other != ch:
                yield text[:i] + other + text[i + 1 :]
                break


def test_a_certificate_edited_by_one_byte_never_verifies(store: Store, tmp_path: Path) -> None:
    signer = KeyFileSigner.create(tmp_path / "signing-keys.json")
    kit = make_licensekit(store=store, signer=signer)
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="P", value="P-EDIT", seats=1)
    kit.invite_installers(admin, account.id, key.id, ["ann@example.com"])
    ann = Copy(kit, "SN-ANN", _code(kit, "ann@example.com"))
    keys, now = dict(signer.public_keys()), kit.clock.now()
    assert ann.verify(keys).computer_id == "SN-ANN"
    edits = 0
    for edited in _one_byte_edits(ann.certificate):
        edits += 1
        with pytest.raises(CertificateError):
            verify_certificate(edited, keys, computer_id="SN-ANN", now=now)
    assert edits == len(ann.certificate)


def test_a_rotated_signing_key_verifies_old_and_new_until_the_old_is_dropped(
    store: Store, tmp_path: Path
) -> None:
    signer = KeyFileSigner.create(tmp_path / "signing-keys.json")
    kit = make_licensekit(store=store, signer=signer)
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="P", value="P-ROTATE", seats=2)
    kit.invite_installers(admin, account.id, key.id, ["ann@example.com"])
    ann = Copy(kit, "SN-ANN", _code(kit, "ann@example.com"))
    old_certificate, old_id = ann.certificate, signer.key_id

    upcoming = signer.prepare()
    shipped: Callable[[], dict[str, bytes]] = lambda: dict(signer.public_keys())  # noqa: E731
    assert set(shipped()) == {old_id, upcoming.key_id}  # the next release carries both
    signer.rotate()
    kit.clock.advance(hours=6)
    assert ann.check_in() is LicenseState.ACTIVE
    assert ann.verify(shipped()).signing_key_id == upcoming.key_id
    old = verify_certificate(old_certificate, shipped(), computer_id="SN-ANN", now=kit.clock.now())
    assert old.signing_key_id == old_id

    retired_at = next(k.retired_at for k in signer.keys if k.key_id == old_id)
    assert retired_at is not None
    with pytest.raises(SigningKeyError, match="may be valid until"):
        signer.drop(old_id)  # its certificates' 7-day lease has not run out
    signer.drop(old_id, now=retired_at + dt.timedelta(days=7))
    assert set(shipped()) == {upcoming.key_id}
    assert ann.verify(shipped()).signing_key_id == upcoming.key_id
    with pytest.raises(CertificateKeyUnknown):
        verify_certificate(old_certificate, shipped(), computer_id="SN-ANN", now=kit.clock.now())
