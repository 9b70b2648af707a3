"""Behaviour of the licensing use cases of LicenseKit: license keys and their seats, License
Administrators, invitations to install (with their codes, links, CSV import and export),
activation, check-in, installations, computer blocks, throttling and the audit trail."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import attrs
import pytest

from licensekit import (
    AccountNotFound,
    ActivationCodeExpired,
    ActivationCodeMistyped,
    ActivationCodeNotFound,
    ActivationCodeRevoked,
    ActivationCodeUsedUp,
    ActivationCodeWrongProduct,
    ActivationError,
    ActivationResult,
    AuditAction,
    ComputerAlreadyActivated,
    ComputerBlock,
    ComputerBlocked,
    ConflictError,
    DeliveryReport,
    DuplicateLicenseKey,
    InstallationNotFound,
    InstallationStatus,
    InstallInvitationState,
    InstallInvitationView,
    InvalidActivationCode,
    InvalidCursor,
    InvitationAlreadyAccepted,
    InvitationExpired,
    InvitationNotFound,
    InvitationRevoked,
    KeyStatus,
    LicenseKeyNotFound,
    LicenseKeyUnavailable,
    LicenseKit,
    LicenseKitError,
    MemberBlocked,
    MemoryStore,
    MessageKind,
    NotFound,
    PasswordHasher,
    PermissionDenied,
    Role,
    SeatsFull,
    SeatsInUse,
    Session,
    Settings,
    ThrottlePolicy,
    TooManyAttempts,
    ValidationError,
)
from licensekit.codes import CODE_ALPHABET, new_activation_code
from licensekit.model import DeliveryStatus
from licensekit.testing import (
    TEST_DOWNLOAD_URL,
    TEST_JOIN_URL,
    TEST_PASSWORD,
    TEST_SECRET,
    FakeClock,
    LicenseKitForTests,
    RecordingMailer,
    add_member,
    make_business_account,
    make_licensekit,
)

PRODUCT = "Parallels Desktop for Mac Business Edition"
KEY_VALUE = "PDB-7Q2MX-9D4R8-T3WK5-ZH6NC"
OTHER_VALUE = "PDB-AAAAA-BBBBB-CCCCC-DDDDD"


class Setup(NamedTuple):
    kit: LicenseKitForTests
    admin: Session
    account_id: str
    key_id: str


class Invited(NamedTuple):
    view: InstallInvitationView
    code: str
    token: str


LONG_SESSIONS = dt.timedelta(days=365)
"""Tests move the clock by days; sessions outlive that so administrators stay logged in."""


def new_kit(**settings) -> LicenseKitForTests:
    return make_licensekit(settings=Settings(session_lifetime=LONG_SESSIONS, **settings))


def _setup(kit: LicenseKitForTests, *, seats: int = 3) -> Setup:
    admin, account = make_business_account(kit, name="Acme Ltd")
    key = kit.add_license_key(admin, account.id, product=PRODUCT, value=KEY_VALUE, seats=seats)
    return Setup(kit, admin, account.id, key.id)


@pytest.fixture
def kit() -> LicenseKitForTests:
    return new_kit()


@pytest.fixture
def setup(kit) -> Setup:
    return _setup(kit)


def invite(
    setup: Setup, email: str = "ann@example.com", *, key_id: str | None = None, **options
) -> Invited:
    """Invite *email* (sending the email) and return the view with its code and token."""
    kit, admin, account_id, default_key = setup
    batch = kit.invite_installers(admin, account_id, key_id or default_key, [email], **options)
    (view,) = batch.invited
    message = kit.mailer.last(to=email, kind=MessageKind.INSTALL_INVITATION)
    return Invited(view, message.data["code"], message.data["token"])


def activate(kit: LicenseKit, invited: Invited, computer: str = "mac-1", **options):
    return kit.activate(computer_id=computer, code=invited.code, **options)


def second_key(setup: Setup, *, seats: int = 2) -> str:
    kit, admin, account_id, _ = setup
    return kit.add_license_key(
        admin, account_id, product=PRODUCT, value=OTHER_VALUE, seats=seats
    ).id


def license_admin(
    setup: Setup, email: str = "lena@example.com", *, key_id: str | None = None
) -> Session:
    """A Regular Member made License Administrator of a key, by default the setup's key
    (session opened before)."""
    kit, admin, account_id, default_key = setup
    member = add_member(kit, admin, account_id, email)
    kit.grant_license_administrator(admin, account_id, member.user_id, key_id or default_key)
    return member


def exported_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def audit(setup: Setup) -> list:
    kit, admin, account_id, _ = setup
    return list(kit.list_audit_events(admin, account_id, limit=500).items)


def actions(setup: Setup) -> list[AuditAction]:
    return [e.action for e in audit(setup)]


def mistype(code: str, position: int = 7) -> str:
    """Replace one symbol of *code* by another symbol of the alphabet."""
    original = code[position]
    replacement = next(s for s in CODE_ALPHABET if s != original)
    return code[:position] + replacement + code[position + 1 :]


def key_value_forms() -> Iterator[str]:
    for value in (KEY_VALUE, KEY_VALUE.replace("-", "")):
        yield value
        yield value.lower()


# == license keys ===========================================================================


def test_add_license_key_returns_the_key_with_all_seats_free_and_a_masked_value(kit):
    admin, account = make_business_account(kit)
    expiry = kit.clock.now() + dt.timedelta(days=365)

    key = kit.add_license_key(
        admin, account.id, product=PRODUCT, value=KEY_VALUE, seats=25, expires_at=expiry
    )

    assert key.account_id == account.id
    assert key.product == PRODUCT
    assert (key.seats, key.seats_used, key.seats_free) == (25, 0, 25)
    assert key.status is KeyStatus.ACTIVE
    assert key.expires_at == expiry
    assert key.created_at == kit.clock.now()
    assert key.masked_value == "***-*****-*****-*****-*H6NC"
    assert KEY_VALUE not in repr(key)


def test_a_short_key_value_is_masked_whole(kit):
    admin, account = make_business_account(kit)

    key = kit.add_license_key(admin, account.id, product=PRODUCT, value="AB12-CD34", seats=1)

    assert key.masked_value == "****-****"


@pytest.mark.parametrize("seats", [0, -1, 10_000_001, True, 2.0, "5"])
def test_add_license_key_refuses_seats_out_of_range_and_adds_nothing(setup, seats):
    kit, admin, account_id, _ = setup

    with pytest.raises(ValidationError, match="seats"):
        kit.add_license_key(admin, account_id, product=PRODUCT, value=OTHER_VALUE, seats=seats)

    assert len(kit.list_license_keys(admin, account_id).items) == 1


def test_add_license_key_refuses_an_expiry_not_in_the_future(setup):
    kit, admin, account_id, _ = setup

    with pytest.raises(ValidationError, match="future"):
        kit.add_license_key(
            admin,
            account_id,
            product=PRODUCT,
            value=OTHER_VALUE,
            seats=1,
            expires_at=kit.clock.now(),
        )


def test_add_license_key_refuses_a_naive_expiry(setup):
    kit, admin, account_id, _ = setup

    with pytest.raises(ValidationError, match="timezone-aware"):
        kit.add_license_key(
            admin,
            account_id,
            product=PRODUCT,
            value=OTHER_VALUE,
            seats=1,
            expires_at=dt.datetime(2031, 1, 1),  # naive on purpose
        )


@pytest.mark.parametrize(
    ("product", "value"), [("", OTHER_VALUE), ("  ", OTHER_VALUE), (PRODUCT, " "), (PRODUCT, "")]
)
def test_add_license_key_refuses_an_empty_product_or_value(setup, product, value):
    kit, admin, account_id, _ = setup

    with pytest.raises(ValidationError, match="must not be empty"):
        kit.add_license_key(admin, account_id, product=product, value=value, seats=1)


@pytest.mark.parametrize(
    "value",
    [KEY_VALUE, f"  {KEY_VALUE} ", f"\t{KEY_VALUE[:9]} {KEY_VALUE[9:]}\n"],
    ids=["same", "padded", "whitespace-inside"],
)
def test_add_license_key_refuses_a_value_the_account_holds_already(setup, value):
    kit, admin, account_id, _ = setup

    with pytest.raises(DuplicateLicenseKey) as refused:
        kit.add_license_key(admin, account_id, product="Other product", value=value, seats=1)

    assert not str(refused.value).endswith("resume it instead")
    assert len(kit.list_license_keys(admin, account_id).items) == 1


@pytest.mark.parametrize(
    "value",
    [KEY_VALUE.lower(), KEY_VALUE[:4] + KEY_VALUE[4:].lower(), KEY_VALUE.replace("-", "")],
    ids=["lower", "mixed-case", "no-dashes"],
)
def test_key_values_differing_in_case_or_punctuation_are_different_keys(setup, value):
    """Only whitespace is ignored when comparing key values; case is significant."""
    kit, admin, account_id, key_id = setup

    added = kit.add_license_key(admin, account_id, product=PRODUCT, value=value, seats=1)

    assert added.id != key_id
    assert [k.id for k in kit.list_license_keys(admin, account_id).items] == [key_id, added.id]
    with pytest.raises(DuplicateLicenseKey, match=added.id):
        kit.add_license_key(admin, account_id, product=PRODUCT, value=f" {value} ", seats=1)


def test_the_same_key_value_may_belong_to_two_accounts(setup):
    kit = setup.kit
    other_admin, other = make_business_account(kit, admin_email="olga@example.com", name="Other")

    key = kit.add_license_key(other_admin, other.id, product=PRODUCT, value=KEY_VALUE, seats=1)

    assert key.account_id == other.id


def test_list_license_keys_lists_oldest_first_with_seats(setup):
    kit, admin, account_id, key_id = setup
    other_id = second_key(setup, seats=7)

    keys = kit.list_license_keys(admin, account_id).items

    assert [k.id for k in keys] == [key_id, other_id]
    assert [(k.seats, k.seats_free) for k in keys] == [(3, 3), (7, 7)]
    assert all(k.masked_value for k in keys)


def test_list_license_keys_pages_with_a_cursor(setup):
    kit, admin, account_id, key_id = setup
    other_id = second_key(setup)

    first = kit.list_license_keys(admin, account_id, limit=1)
    second = kit.list_license_keys(admin, account_id, limit=1, cursor=first.next_cursor)

    assert [k.id for k in first.items] == [key_id]
    assert [k.id for k in second.items] == [other_id]
    assert second.next_cursor is None


def test_get_license_key_shows_seats_used_after_an_activation(setup):
    kit, admin, account_id, key_id = setup
    activate(kit, invite(setup))

    key = kit.get_license_key(admin, account_id, key_id)

    assert (key.seats, key.seats_used, key.seats_free) == (3, 1, 2)


def test_get_license_key_of_another_account_is_not_found(setup):
    kit, _, _, key_id = setup
    other_admin, other = make_business_account(kit, admin_email="olga@example.com", name="Other")

    with pytest.raises(LicenseKeyNotFound):
        kit.get_license_key(other_admin, other.id, key_id)


def test_regular_members_may_not_see_license_keys(setup):
    kit, admin, account_id, key_id = setup
    member = add_member(kit, admin, account_id, "rita@example.com")

    with pytest.raises(PermissionDenied):
        kit.list_license_keys(member, account_id)
    with pytest.raises(PermissionDenied):
        kit.get_license_key(member, account_id, key_id)


def test_change_license_key_changes_seats_and_records_old_and_new(setup):
    kit, admin, account_id, key_id = setup

    key = kit.change_license_key(admin, account_id, key_id, seats=10)

    assert (key.seats, key.seats_free) == (10, 10)
    assert kit.get_license_key(admin, account_id, key_id).seats == 10
    event = audit(setup)[-1]
    assert event.action is AuditAction.LICENSE_KEY_CHANGED
    assert (event.details["seats_from"], event.details["seats_to"]) == ("3", "10")


def test_change_license_key_may_lower_seats_down_to_the_seats_in_use(setup):
    kit, admin, account_id, key_id = setup
    activate(kit, invite(setup, "ann@example.com"), "mac-1")
    activate(kit, invite(setup, "bob@example.com"), "mac-2")

    key = kit.change_license_key(admin, account_id, key_id, seats=2)

    assert (key.seats, key.seats_used, key.seats_free) == (2, 2, 0)


def test_change_license_key_never_lowers_seats_below_the_seats_in_use(setup):
    kit, admin, account_id, key_id = setup
    activate(kit, invite(setup, "ann@example.com"), "mac-1")
    activate(kit, invite(setup, "bob@example.com"), "mac-2")

    with pytest.raises(SeatsInUse, match="2 active installations"):
        kit.change_license_key(admin, account_id, key_id, seats=1)

    assert kit.get_license_key(admin, account_id, key_id).seats == 3


def test_change_license_key_sets_and_clears_the_expiry(setup):
    kit, admin, account_id, key_id = setup
    expiry = kit.clock.now() + dt.timedelta(days=30)

    assert kit.change_license_key(admin, account_id, key_id, expires_at=expiry).expires_at == (
        expiry
    )
    assert kit.change_license_key(admin, account_id, key_id, clear_expiry=True).expires_at is None

    changes = [e for e in audit(setup) if e.action is AuditAction.LICENSE_KEY_CHANGED]
    assert [(e.details["expires_from"], e.details["expires_to"]) for e in changes] == [
        ("never", expiry.isoformat()),
        (expiry.isoformat(), "never"),
    ]


def test_change_license_key_refuses_an_expiry_in_the_past(setup):
    kit, admin, account_id, key_id = setup

    with pytest.raises(ValidationError, match="future"):
        kit.change_license_key(
            admin, account_id, key_id, expires_at=kit.clock.now() - dt.timedelta(seconds=1)
        )


@pytest.mark.parametrize(
    "changes",
    [{}, {"expires_at": dt.datetime(2031, 1, 1, tzinfo=dt.UTC), "clear_expiry": True}],
    ids=["nothing", "expiry-and-clear"],
)
def test_change_license_key_refuses_nothing_or_contradictory_changes(setup, changes):
    kit, admin, account_id, key_id = setup

    with pytest.raises(ValidationError):
        kit.change_license_key(admin, account_id, key_id, **changes)


def test_suspend_and_resume_license_key(setup):
    kit, admin, account_id, key_id = setup

    suspended = kit.suspend_license_key(admin, account_id, key_id)
    assert suspended.status is KeyStatus.SUSPENDED
    resumed = kit.resume_license_key(admin, account_id, key_id)
    assert resumed.status is KeyStatus.ACTIVE

    assert actions(setup)[-2:] == [
        AuditAction.LICENSE_KEY_SUSPENDED,
        AuditAction.LICENSE_KEY_RESUMED,
    ]


def test_suspending_a_key_keeps_its_installations_seats(setup):
    kit, admin, account_id, key_id = setup
    activate(kit, invite(setup))

    key = kit.suspend_license_key(admin, account_id, key_id)

    assert key.seats_used == 1
    assert len(kit.list_installations(admin, account_id, key_id).items) == 1


def test_suspend_refuses_a_suspended_key_and_resume_an_active_one(setup):
    kit, admin, account_id, key_id = setup

    with pytest.raises(ConflictError, match="active already"):
        kit.resume_license_key(admin, account_id, key_id)
    kit.suspend_license_key(admin, account_id, key_id)
    with pytest.raises(ConflictError, match="not active"):
        kit.suspend_license_key(admin, account_id, key_id)


def test_remove_license_key_hides_it_from_listings_unless_asked(setup):
    kit, admin, account_id, key_id = setup

    removed = kit.remove_license_key(admin, account_id, key_id)

    assert removed.status is KeyStatus.REMOVED
    assert kit.list_license_keys(admin, account_id).items == ()
    (listed,) = kit.list_license_keys(admin, account_id, include_removed=True).items
    assert listed.status is KeyStatus.REMOVED
    assert actions(setup)[-1] is AuditAction.LICENSE_KEY_REMOVED


def test_remove_license_key_is_refused_while_installations_are_active(setup):
    kit, admin, account_id, key_id = setup
    result = activate(kit, invite(setup))

    with pytest.raises(SeatsInUse, match="deactivate"):
        kit.remove_license_key(admin, account_id, key_id)
    assert kit.get_license_key(admin, account_id, key_id).status is KeyStatus.ACTIVE

    kit.deactivate_installation(admin, account_id, result.installation_id)
    assert kit.remove_license_key(admin, account_id, key_id).status is KeyStatus.REMOVED


def test_resume_brings_a_removed_key_back_with_its_invitations(setup):
    kit, admin, account_id, key_id = setup
    invited = invite(setup)
    kit.remove_license_key(admin, account_id, key_id)
    with pytest.raises(LicenseKeyUnavailable):
        activate(kit, invited)

    resumed = kit.resume_license_key(admin, account_id, key_id)

    assert resumed.status is KeyStatus.ACTIVE
    assert [k.id for k in kit.list_license_keys(admin, account_id).items] == [key_id]
    assert activate(kit, invited).key_id == key_id
    assert kit.get_license_key(admin, account_id, key_id).seats_used == 1
    assert actions(setup)[-2:] == [AuditAction.LICENSE_KEY_RESUMED, AuditAction.ACTIVATED]
    with pytest.raises(ConflictError, match="active already"):
        kit.resume_license_key(admin, account_id, key_id)


def test_a_removed_key_cannot_be_changed_or_removed_again(setup):
    kit, admin, account_id, key_id = setup
    kit.remove_license_key(admin, account_id, key_id)

    with pytest.raises(ConflictError):
        kit.change_license_key(admin, account_id, key_id, seats=5)
    with pytest.raises(ConflictError):
        kit.remove_license_key(admin, account_id, key_id)
    with pytest.raises(ConflictError):
        kit.suspend_license_key(admin, account_id, key_id)


@pytest.mark.parametrize("status", ["suspended", "removed", "expired"])
def test_no_invitations_can_be_made_for_a_key_that_is_not_usable(setup, status):
    kit, admin, account_id, key_id = setup
    if status == "suspended":
        kit.suspend_license_key(admin, account_id, key_id)
    elif status == "removed":
        kit.remove_license_key(admin, account_id, key_id)
    else:
        kit.change_license_key(
            admin, account_id, key_id, expires_at=kit.clock.now() + dt.timedelta(days=1)
        )
        kit.clock.advance(days=2)

    with pytest.raises(ConflictError, match="no invitations"):
        kit.invite_installers(admin, account_id, key_id, ["ann@example.com"])

    assert kit.list_install_invitations(admin, account_id, key_id).items == ()


# == who sees the key's value ===============================================================


def test_account_administrators_see_the_masked_value_license_administrators_do_not(setup):
    kit, admin, account_id, key_id = setup
    lena = license_admin(setup)

    assert kit.get_license_key(admin, account_id, key_id).masked_value is not None
    assert kit.get_license_key(lena, account_id, key_id).masked_value is None
    (listed,) = kit.list_license_keys(lena, account_id).items
    assert listed.id == key_id
    assert listed.masked_value is None


def test_a_license_administrator_lists_only_the_keys_granted(setup):
    kit, _, account_id, key_id = setup
    second_key(setup)
    lena = license_admin(setup)

    assert [k.id for k in kit.list_license_keys(lena, account_id).items] == [key_id]


# == License Administrators =================================================================


def test_a_grant_applies_to_the_members_open_session_at_once(setup):
    kit, admin, account_id, key_id = setup
    member = add_member(kit, admin, account_id, "lena@example.com")
    with pytest.raises(PermissionDenied):
        kit.list_installations(member, account_id, key_id)

    view = kit.grant_license_administrator(admin, account_id, member.user_id, key_id)

    assert view.license_keys == (key_id,)
    assert kit.list_installations(member, account_id, key_id).items == ()
    event = audit(setup)[-1]
    assert (event.action, event.subject) == (AuditAction.LICENSE_ADMIN_GRANTED, member.user_id)
    assert event.details["key_id"] == key_id


def test_a_license_administrator_manages_invitations_of_their_key(setup):
    kit, _, account_id, key_id = setup
    lena = license_admin(setup)

    batch = kit.invite_installers(lena, account_id, key_id, ["ann@example.com"], send=False)
    (invitation,) = batch.invited
    listed = kit.list_install_invitations(lena, account_id, key_id).items
    exported = exported_rows(kit.export_install_invitations(lena, account_id, key_id))
    report = kit.send_install_invitations(lena, account_id, key_id)
    resent = kit.resend_install_invitation(lena, account_id, invitation.id)
    revoked = kit.revoke_install_invitation(lena, account_id, invitation.id)

    assert invitation.invited_by == lena.user_id
    assert [i.id for i in listed] == [invitation.id]
    assert [r["email"] for r in exported] == ["ann@example.com"]
    assert [i.id for i in report.sent] == [invitation.id]
    assert resent.sent_count == 2
    assert revoked.state is InstallInvitationState.REVOKED


def test_a_license_administrator_manages_installations_of_their_key(setup):
    kit, _, account_id, key_id = setup
    lena = license_admin(setup)
    first = activate(kit, invite(setup, "ann@example.com"), "mac-1")
    second = activate(kit, invite(setup, "bob@example.com"), "mac-2")

    listed = kit.list_installations(lena, account_id, key_id).items
    deactivated = kit.deactivate_installation(lena, account_id, first.installation_id)
    block = kit.block_computer(lena, account_id, second.installation_id, notes="stolen")
    blocked = kit.list_blocked_computers(lena, account_id).items
    kit.unblock_computer(lena, account_id, "mac-2", key_id=key_id)

    assert {i.id for i in listed} == {first.installation_id, second.installation_id}
    assert deactivated.status is InstallationStatus.DEACTIVATED
    assert (block.computer_id, block.blocked_by, block.notes) == ("mac-2", lena.user_id, "stolen")
    assert block.key_id == key_id
    assert [(b.computer_id, b.key_id) for b in blocked] == [("mac-2", key_id)]
    assert kit.list_blocked_computers(lena, account_id).items == ()


def test_a_license_administrator_is_refused_on_another_key(setup):
    kit, admin, account_id, _ = setup
    other_id = second_key(setup)
    lena = license_admin(setup)
    other = invite(setup, "bob@example.com", key_id=other_id)
    installation = activate(kit, other, "mac-9")

    refused = [
        lambda: kit.get_license_key(lena, account_id, other_id),
        lambda: kit.invite_installers(lena, account_id, other_id, ["ann@example.com"]),
        lambda: kit.list_install_invitations(lena, account_id, other_id),
        lambda: kit.export_install_invitations(lena, account_id, other_id),
        lambda: kit.send_install_invitations(lena, account_id, other_id),
        lambda: kit.resend_install_invitation(lena, account_id, other.view.id),
        lambda: kit.revoke_install_invitation(lena, account_id, other.view.id),
        lambda: kit.list_installations(lena, account_id, other_id),
        lambda: kit.deactivate_installation(lena, account_id, installation.installation_id),
        lambda: kit.block_computer(lena, account_id, installation.installation_id),
    ]
    for call in refused:
        with pytest.raises(PermissionDenied, match="License Administrator rights"):
            call()

    assert kit.get_license_key(admin, account_id, other_id).seats_used == 1


def test_a_license_administrator_may_not_lift_another_keys_block_or_an_account_wide_one(setup):
    kit, admin, account_id, _ = setup
    other_id = second_key(setup)
    lena = license_admin(setup)
    otto = license_admin(setup, "otto@example.com", key_id=other_id)
    installation = activate(kit, invite(setup, "bob@example.com", key_id=other_id), "mac-9")
    kit.block_computer(otto, account_id, installation.installation_id)
    kit.block_computer(admin, account_id, installation.installation_id)

    with pytest.raises(PermissionDenied):
        kit.unblock_computer(lena, account_id, "mac-9", key_id=other_id)
    with pytest.raises(PermissionDenied):
        kit.unblock_computer(lena, account_id, "mac-9")
    with pytest.raises(PermissionDenied):
        kit.unblock_computer(otto, account_id, "mac-9")

    every = [(b.computer_id, b.key_id) for b in kit.list_blocked_computers(admin, account_id).items]
    assert every == [("mac-9", None), ("mac-9", other_id)]
    assert [
        (b.computer_id, b.key_id) for b in kit.list_blocked_computers(lena, account_id).items
    ] == [("mac-9", None)]


def test_a_license_administrator_may_not_manage_keys_or_grants(setup):
    kit, _, account_id, key_id = setup
    lena = license_admin(setup)
    other = add_member(kit, setup.admin, account_id, "rita@example.com")

    refused = [
        lambda: kit.add_license_key(lena, account_id, product=PRODUCT, value=OTHER_VALUE, seats=1),
        lambda: kit.change_license_key(lena, account_id, key_id, seats=10),
        lambda: kit.suspend_license_key(lena, account_id, key_id),
        lambda: kit.remove_license_key(lena, account_id, key_id),
        lambda: kit.grant_license_administrator(lena, account_id, other.user_id, key_id),
        lambda: kit.revoke_license_administrator(lena, account_id, lena.user_id, key_id),
        lambda: kit.list_audit_events(lena, account_id),
    ]
    for call in refused:
        with pytest.raises(PermissionDenied):
            call()

    assert kit.get_license_key(setup.admin, account_id, key_id).seats == 3


def test_revoking_the_grant_applies_to_the_open_session_at_once(setup):
    kit, admin, account_id, key_id = setup
    lena = license_admin(setup)
    kit.list_installations(lena, account_id, key_id)

    view = kit.revoke_license_administrator(admin, account_id, lena.user_id, key_id)

    assert view.license_keys == ()
    with pytest.raises(PermissionDenied):
        kit.list_installations(lena, account_id, key_id)
    assert actions(setup)[-1] is AuditAction.LICENSE_ADMIN_REVOKED


def test_revoke_license_administrator_refuses_a_member_without_the_grant(setup):
    kit, admin, account_id, key_id = setup
    member = add_member(kit, admin, account_id, "rita@example.com")

    with pytest.raises(ConflictError, match="not License Administrator"):
        kit.revoke_license_administrator(admin, account_id, member.user_id, key_id)


def test_grant_license_administrator_refuses_a_second_grant_and_account_administrators(setup):
    kit, admin, account_id, key_id = setup
    lena = license_admin(setup)
    boss = add_member(kit, admin, account_id, "boss@example.com", role=Role.ACCOUNT_ADMINISTRATOR)

    with pytest.raises(ConflictError, match="already"):
        kit.grant_license_administrator(admin, account_id, lena.user_id, key_id)
    with pytest.raises(ConflictError, match="Regular Member"):
        kit.grant_license_administrator(admin, account_id, boss.user_id, key_id)


def test_grant_license_administrator_refuses_a_removed_key(setup):
    kit, admin, account_id, key_id = setup
    member = add_member(kit, admin, account_id, "rita@example.com")
    kit.remove_license_key(admin, account_id, key_id)

    with pytest.raises(ConflictError, match="removed"):
        kit.grant_license_administrator(admin, account_id, member.user_id, key_id)


def test_the_grant_ends_when_the_member_is_promoted_then_demoted(setup):
    kit, admin, account_id, key_id = setup
    lena = license_admin(setup)

    kit.change_role(admin, account_id, lena.user_id, Role.ACCOUNT_ADMINISTRATOR)
    kit.change_role(admin, account_id, lena.user_id, Role.REGULAR_MEMBER)

    assert kit.get_member(admin, account_id, lena.user_id).license_keys == ()
    with pytest.raises(PermissionDenied):
        kit.invite_installers(lena, account_id, key_id, ["ann@example.com"])
    fresh = kit.log_in("lena@example.com", TEST_PASSWORD)
    with pytest.raises(PermissionDenied):
        kit.list_installations(fresh, account_id, key_id)


def test_the_grant_ends_when_the_member_is_blocked_and_stays_ended_after_unblock(setup):
    kit, admin, account_id, key_id = setup
    lena = license_admin(setup)

    kit.block_member(admin, account_id, lena.user_id)
    with pytest.raises(MemberBlocked):
        kit.list_installations(lena, account_id, key_id)
    kit.unblock_member(admin, account_id, lena.user_id)

    assert kit.get_member(admin, account_id, lena.user_id).license_keys == ()
    with pytest.raises(PermissionDenied):
        kit.list_installations(lena, account_id, key_id)


def test_the_grant_ends_when_the_member_is_removed_and_does_not_return_on_rejoining(setup):
    kit, admin, account_id, key_id = setup
    lena = license_admin(setup)

    kit.remove_member(admin, account_id, lena.user_id)
    with pytest.raises(AccountNotFound):
        kit.list_installations(lena, account_id, key_id)
    again = add_member(kit, admin, account_id, "lena@example.com")

    assert kit.get_member(admin, account_id, again.user_id).license_keys == ()
    with pytest.raises(PermissionDenied):
        kit.list_installations(again, account_id, key_id)


# == inviting installers ====================================================================


def test_invite_installers_gives_each_person_their_own_code_and_link(setup):
    kit, admin, account_id, key_id = setup

    batch = kit.invite_installers(admin, account_id, key_id, ["ann@example.com", "Bob@Example.com"])

    assert [i.email for i in batch.invited] == ["ann@example.com", "bob@example.com"]
    assert {i.state for i in batch.invited} == {InstallInvitationState.SENT}
    assert batch.warnings == ()
    assert batch.seats_free == 3
    ann = kit.mailer.last(to="ann@example.com", kind=MessageKind.INSTALL_INVITATION)
    bob = kit.mailer.last(to="bob@example.com", kind=MessageKind.INSTALL_INVITATION)
    assert ann.data["code"] != bob.data["code"]
    assert ann.data["token"] != bob.data["token"]
    assert ann.data["link"] == TEST_DOWNLOAD_URL.replace("{token}", ann.data["token"])


def test_invite_installers_warns_when_invitations_outnumber_free_seats(setup):
    kit, admin, account_id, key_id = setup
    emails = [f"user{n}@example.com" for n in range(4)]

    batch = kit.invite_installers(admin, account_id, key_id, emails)

    assert len(batch.invited) == 4
    (warning,) = batch.warnings
    assert "4 invitations for 3 free seats" in warning


def test_invite_installers_reports_invalid_and_duplicate_typed_entries_by_position(setup):
    kit, admin, account_id, key_id = setup

    batch = kit.invite_installers(
        admin, account_id, key_id, ["ann@example.com", "", "not an email", "ANN@example.com"]
    )

    assert [i.email for i in batch.invited] == ["ann@example.com"]
    assert [(s.row, s.text) for s in batch.skipped] == [
        (3, "not an email"),
        (4, "ANN@example.com"),
    ]
    assert batch.skipped[1].reason == "duplicate of row 1"


CSV_TEXT = "email\r\nann@example.com\r\n\r\n bob@example.com \r\nnope\r\nann@example.com\r\n"


def _csv_sources(tmp_path: Path) -> dict[str, object]:
    path = tmp_path / "users.csv"
    path.write_text(CSV_TEXT, encoding="utf-8", newline="")
    return {
        "text": CSV_TEXT,
        "path": path,
        "text-file": io.StringIO(CSV_TEXT, newline=""),
        "binary-file-with-bom": io.BytesIO(b"\xef\xbb\xbf" + CSV_TEXT.encode()),
        "bytes": CSV_TEXT.encode(),
        "bytes-with-bom": b"\xef\xbb\xbf" + CSV_TEXT.encode(),
    }


@pytest.mark.parametrize(
    "kind", ["text", "path", "text-file", "binary-file-with-bom", "bytes", "bytes-with-bom"]
)
def test_invite_installers_reads_a_csv_from_text_bytes_a_path_or_a_file(setup, tmp_path, kind):
    kit, admin, account_id, key_id = setup

    batch = kit.invite_installers(
        admin, account_id, key_id, csv=_csv_sources(tmp_path)[kind], send=False
    )

    assert [i.email for i in batch.invited] == ["ann@example.com", "bob@example.com"]
    assert [(s.row, s.text) for s in batch.skipped] == [(5, "nope"), (6, "ann@example.com")]
    assert batch.skipped[1].reason == "duplicate of row 2"


def test_invite_installers_refuses_csv_bytes_that_are_not_utf8(setup):
    kit, admin, account_id, key_id = setup

    with pytest.raises(ValidationError, match="UTF-8"):
        kit.invite_installers(admin, account_id, key_id, csv="ann@exämple.com\n".encode("latin-1"))

    assert kit.list_install_invitations(admin, account_id, key_id).items == ()


@pytest.mark.parametrize(
    "source",
    [42, 4.5, ["ann@example.com"], ("ann@example.com",), {"email": "ann@example.com"}, object()],
    ids=["int", "float", "list", "tuple", "dict", "object"],
)
def test_invite_installers_refuses_a_csv_of_the_wrong_type_and_writes_nothing(setup, source):
    kit, admin, account_id, key_id = setup

    with pytest.raises(ValidationError, match="CSV input must be"):
        kit.invite_installers(admin, account_id, key_id, csv=source)

    assert kit.list_install_invitations(admin, account_id, key_id).items == ()
    assert kit.mailer.sent == []


def test_invite_installers_refuses_a_missing_csv_file(setup, tmp_path):
    kit, admin, account_id, key_id = setup

    with pytest.raises(ValidationError, match="not found"):
        kit.invite_installers(admin, account_id, key_id, csv=tmp_path / "missing.csv")


@pytest.mark.parametrize(
    "recipients",
    [
        {},
        {"emails": ["ann@example.com"], "csv": "bob@example.com"},
        {"emails": "ann@example.com"},
    ],
    ids=["neither", "both", "one-string"],
)
def test_invite_installers_needs_either_emails_or_csv(setup, recipients):
    kit, admin, account_id, key_id = setup

    with pytest.raises(ValidationError):
        kit.invite_installers(admin, account_id, key_id, **recipients)

    assert kit.list_install_invitations(admin, account_id, key_id).items == ()


def test_invite_installers_accepts_a_language_by_its_primary_tag(setup):
    invited = invite(setup, language="en-GB")

    assert invited.view.language == "en"
    assert setup.kit.mailer.last(to="ann@example.com").language == "en"


@pytest.mark.parametrize("language", ["xx", "tlh", "xx-YY", "", 42])
def test_invite_installers_refuses_an_unsupported_language_and_writes_nothing(setup, language):
    kit, admin, account_id, key_id = setup

    with pytest.raises(ValidationError, match="language"):
        kit.invite_installers(admin, account_id, key_id, ["ann@example.com"], language=language)

    assert kit.list_install_invitations(admin, account_id, key_id).items == ()
    assert kit.mailer.sent == []


@pytest.mark.parametrize(
    ("expires_in", "lifetime"),
    [
        ("1d", dt.timedelta(days=1)),
        ("7d", dt.timedelta(days=7)),
        ("90d", dt.timedelta(days=90)),
        (dt.timedelta(hours=36), dt.timedelta(hours=36)),
        ("P10D", dt.timedelta(days=10)),
        ("PT36H", dt.timedelta(hours=36)),
        ("P1DT12H", dt.timedelta(days=1, hours=12)),
        ("P90D", dt.timedelta(days=90)),
        (None, dt.timedelta(days=14)),
    ],
)
def test_invite_installers_expiry_is_a_preset_a_timedelta_or_the_default(
    setup, expires_in, lifetime
):
    invited = invite(setup, expires_in=expires_in)

    assert invited.view.expires_at == setup.kit.clock.now() + lifetime


@pytest.mark.parametrize(
    "expires_in",
    [
        "8d",
        "",
        dt.timedelta(days=90, seconds=1),
        dt.timedelta(0),
        dt.timedelta(days=-1),
        7,
        "P91D",
        "PT0S",
        "-P1D",
        "P1M",
        "P1Y",
        "10 days",
    ],
)
def test_invite_installers_refuses_a_bad_or_too_long_expiry(setup, expires_in):
    kit, admin, account_id, key_id = setup

    with pytest.raises(ValidationError) as raised:
        kit.invite_installers(admin, account_id, key_id, ["ann@example.com"], expires_in=expires_in)

    assert raised.value.field == "expires_in"
    assert kit.list_install_invitations(admin, account_id, key_id).items == ()


@pytest.mark.parametrize("max_activations", [0, -1, 1001, True, 1.5])
def test_invite_installers_refuses_a_bad_max_activations(setup, max_activations):
    kit, admin, account_id, key_id = setup

    with pytest.raises(ValidationError, match="max_activations"):
        kit.invite_installers(
            admin, account_id, key_id, ["ann@example.com"], max_activations=max_activations
        )


def test_invite_installers_warns_when_the_codes_outlive_the_key(setup):
    kit, admin, account_id, key_id = setup
    key_expiry = kit.clock.now() + dt.timedelta(days=5)
    kit.change_license_key(admin, account_id, key_id, expires_at=key_expiry)

    batch = kit.invite_installers(
        admin, account_id, key_id, ["ann@example.com"], expires_in="7d", send=False
    )

    (warning,) = batch.warnings
    assert key_id in warning
    assert key_expiry.isoformat() in warning
    assert batch.invited[0].expires_at.isoformat() in warning


@pytest.mark.parametrize("expires_in", ["1d", dt.timedelta(days=5)], ids=["before", "same-time"])
def test_invite_installers_does_not_warn_when_the_codes_end_with_the_key(setup, expires_in):
    kit, admin, account_id, key_id = setup
    kit.change_license_key(
        admin, account_id, key_id, expires_at=kit.clock.now() + dt.timedelta(days=5)
    )

    batch = kit.invite_installers(
        admin, account_id, key_id, ["ann@example.com"], expires_in=expires_in, send=False
    )

    assert batch.warnings == ()


def test_invite_installers_records_max_activations(setup):
    invited = invite(setup, max_activations=5)

    assert (invited.view.max_activations, invited.view.activations) == (5, 0)


def test_invite_installers_refuses_a_csv_with_more_rows_than_max_batch_size():
    setup = _setup(new_kit(max_batch_size=2))
    kit, admin, account_id, key_id = setup

    with pytest.raises(ValidationError, match="more than 2 addresses"):
        kit.invite_installers(admin, account_id, key_id, csv="a@example.com\nb@x.com\nbad\n")

    assert kit.list_install_invitations(admin, account_id, key_id).items == ()
    assert kit.mailer.sent == []


@pytest.mark.parametrize("kind", ["text", "bytes", "path", "binary-file"])
def test_invite_installers_refuses_every_kind_of_csv_over_max_batch_size(tmp_path, kind):
    setup = _setup(new_kit(max_batch_size=3))
    kit, admin, account_id, key_id = setup
    text = "email\n" + "".join(f"u{n}@example.com\n" for n in range(4))
    path = tmp_path / "users.csv"
    path.write_text(text, encoding="utf-8")
    source = {
        "text": text,
        "bytes": text.encode(),
        "path": path,
        "binary-file": io.BytesIO(text.encode()),
    }[kind]

    with pytest.raises(ValidationError, match="more than 3 addresses"):
        kit.invite_installers(admin, account_id, key_id, csv=source)

    assert kit.list_install_invitations(admin, account_id, key_id).items == ()


def test_a_csv_of_exactly_max_batch_size_rows_is_accepted_without_header_or_blank_lines():
    setup = _setup(new_kit(max_batch_size=3))
    kit, admin, account_id, key_id = setup
    text = "email\r\n\r\na@example.com\r\n\r\nnot-an-address\r\nb@example.com\r\n\r\n"

    batch = kit.invite_installers(admin, account_id, key_id, csv=text, send=False)

    assert [i.email for i in batch.invited] == ["a@example.com", "b@example.com"]
    assert [s.text for s in batch.skipped] == ["not-an-address"]


class _LineCountingText(io.StringIO):
    """A text file that counts the lines read from it."""

    lines_read = 0

    def __next__(self) -> str:
        line = super().__next__()
        self.lines_read += 1
        return line


def test_an_oversized_csv_is_refused_without_reading_the_rest():
    setup = _setup(new_kit(max_batch_size=2))
    kit, admin, account_id, key_id = setup
    handle = _LineCountingText("".join(f"u{n}@example.com\n" for n in range(1000)))

    with pytest.raises(ValidationError, match="more than 2 addresses"):
        kit.invite_installers(admin, account_id, key_id, csv=handle)

    assert 3 <= handle.lines_read < 10


def test_invite_installers_needs_a_download_url_template():
    kit = LicenseKit(
        MemoryStore(),
        RecordingMailer(),
        secret=TEST_SECRET,
        join_url=TEST_JOIN_URL,
        clock=FakeClock(),
        password_hasher=PasswordHasher.insecure_fast(),
    )
    setup = _setup(kit)

    with pytest.raises(ValidationError, match="download_url"):
        kit.invite_installers(setup.admin, setup.account_id, setup.key_id, ["ann@example.com"])


def test_invite_installers_by_a_regular_member_is_refused(setup):
    kit, admin, account_id, key_id = setup
    member = add_member(kit, admin, account_id, "rita@example.com")

    with pytest.raises(PermissionDenied):
        kit.invite_installers(member, account_id, key_id, ["ann@example.com"])


def test_invite_installers_for_another_accounts_key_is_not_found(setup):
    kit, _, _, key_id = setup
    other_admin, other = make_business_account(kit, admin_email="olga@example.com", name="Other")

    with pytest.raises(LicenseKeyNotFound):
        kit.invite_installers(other_admin, other.id, key_id, ["ann@example.com"])


def test_invite_installers_records_one_audit_event_per_invitation(setup):
    kit, admin, account_id, key_id = setup

    batch = kit.invite_installers(
        admin, account_id, key_id, ["ann@example.com", "bob@example.com"], send=False
    )

    created = [e for e in audit(setup) if e.action is AuditAction.INSTALL_INVITATION_CREATED]
    assert [e.subject for e in created] == [i.id for i in batch.invited]
    assert [e.details["email"] for e in created] == ["ann@example.com", "bob@example.com"]
    assert {e.actor_id for e in created} == {admin.user_id}
    assert {e.details["key_id"] for e in created} == {key_id}


# == invitation states, sending, resending, revoking ========================================


@pytest.fixture
def five_states(setup) -> dict[InstallInvitationState, str]:
    """One invitation in each state, by id."""
    kit, admin, account_id, key_id = setup
    expiring = invite(setup, "erin@example.com", expires_in="1d")
    kit.clock.advance(days=2)
    (pending,) = kit.invite_installers(
        admin, account_id, key_id, ["pat@example.com"], send=False
    ).invited
    sent = invite(setup, "sam@example.com")
    activated = invite(setup, "ada@example.com")
    activate(kit, activated)
    revoked = invite(setup, "rob@example.com")
    kit.revoke_install_invitation(admin, account_id, revoked.view.id)
    return {
        InstallInvitationState.PENDING: pending.id,
        InstallInvitationState.SENT: sent.view.id,
        InstallInvitationState.ACTIVATED: activated.view.id,
        InstallInvitationState.EXPIRED: expiring.view.id,
        InstallInvitationState.REVOKED: revoked.view.id,
    }


@pytest.mark.parametrize("state", list(InstallInvitationState))
def test_list_install_invitations_filters_by_state(setup, five_states, state):
    kit, admin, account_id, key_id = setup

    listed = kit.list_install_invitations(admin, account_id, key_id, state=state).items

    assert [i.id for i in listed] == [five_states[state]]
    assert listed[0].state is state


def test_an_expired_invitation_with_activations_left_shows_as_expired_a_used_up_one_as_activated(
    setup,
):
    kit, admin, account_id, key_id = setup
    partly = invite(setup, "part@example.com", max_activations=2, expires_in="1d")
    fully = invite(setup, "full@example.com", max_activations=1, expires_in="1d")
    activate(kit, partly, "mac-1")
    activate(kit, fully, "mac-2")

    def states() -> dict[str, InstallInvitationState]:
        listed = kit.list_install_invitations(admin, account_id, key_id).items
        return {i.email: i.state for i in listed}

    before = states()
    kit.clock.advance(days=1)
    after = states()

    assert before == {
        "part@example.com": InstallInvitationState.ACTIVATED,
        "full@example.com": InstallInvitationState.ACTIVATED,
    }
    assert after == {
        "part@example.com": InstallInvitationState.EXPIRED,
        "full@example.com": InstallInvitationState.ACTIVATED,
    }
    expired = kit.list_install_invitations(
        admin, account_id, key_id, state=InstallInvitationState.EXPIRED
    ).items
    assert [i.email for i in expired] == ["part@example.com"]


def test_list_install_invitations_accepts_a_state_by_its_value(setup, five_states):
    kit, admin, account_id, key_id = setup

    listed = kit.list_install_invitations(admin, account_id, key_id, state="revoked").items

    assert [i.id for i in listed] == [five_states[InstallInvitationState.REVOKED]]


def test_list_install_invitations_refuses_an_unknown_state(setup):
    kit, admin, account_id, key_id = setup

    with pytest.raises(ValidationError, match="state"):
        kit.list_install_invitations(admin, account_id, key_id, state="lost")


def test_list_install_invitations_pages_with_a_cursor(setup):
    kit, admin, account_id, key_id = setup
    batch = kit.invite_installers(
        admin, account_id, key_id, [f"u{n}@example.com" for n in range(5)], send=False
    )

    seen = []
    cursor = None
    while True:
        page = kit.list_install_invitations(admin, account_id, key_id, limit=2, cursor=cursor)
        seen.extend(i.id for i in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert seen == [i.id for i in batch.invited]


def test_invite_installers_with_send_false_sends_nothing_and_leaves_them_pending(setup):
    kit, admin, account_id, key_id = setup

    batch = kit.invite_installers(admin, account_id, key_id, ["ann@example.com"], send=False)

    assert kit.mailer.sent == []
    assert batch.invited[0].state is InstallInvitationState.PENDING
    assert batch.invited[0].sent_count == 0


def test_an_undelivered_invitation_stays_pending_and_is_sent_later():
    kit = make_licensekit(mailer=RecordingMailer(fail_for=["bob@example.com"]))
    setup = _setup(kit)
    admin, account_id, key_id = setup.admin, setup.account_id, setup.key_id

    batch = kit.invite_installers(admin, account_id, key_id, ["ann@example.com", "bob@example.com"])

    assert [(i.email, i.state) for i in batch.invited] == [
        ("ann@example.com", InstallInvitationState.SENT),
        ("bob@example.com", InstallInvitationState.PENDING),
    ]
    (failure,) = batch.undelivered
    assert (failure.email, failure.invitation_id) == ("bob@example.com", batch.invited[1].id)
    assert failure.permanent is True
    stored = kit.list_install_invitations(admin, account_id, key_id).items
    assert [(i.email, i.delivery, i.delivery_attempts) for i in stored] == [
        ("ann@example.com", DeliveryStatus.SENT, 1),
        ("bob@example.com", DeliveryStatus.REFUSED, 1),
    ]
    kit.mailer.fail_for.clear()
    # A refusal for good is not retried by the bulk send...
    assert kit.send_install_invitations(admin, account_id, key_id) == DeliveryReport(sent=())
    assert [m.to for m in kit.mailer.sent] == ["ann@example.com"]
    # ...but an explicit resend tries again.
    resent = kit.resend_install_invitation(admin, account_id, failure.invitation_id)
    assert (resent.email, resent.state, resent.sent_count) == (
        "bob@example.com",
        InstallInvitationState.SENT,
        1,
    )
    assert (resent.delivery, resent.delivery_attempts, resent.delivery_error) == (
        DeliveryStatus.SENT,
        2,
        "",
    )
    assert [m.to for m in kit.mailer.sent] == ["ann@example.com", "bob@example.com"]
    assert kit.send_install_invitations(admin, account_id, key_id) == DeliveryReport(sent=())


def test_send_install_invitations_sends_only_the_unsent_usable_ones(setup):
    kit, admin, account_id, key_id = setup
    invite(setup, "sent@example.com")
    unsent = kit.invite_installers(
        admin,
        account_id,
        key_id,
        ["new1@example.com", "new2@example.com", "gone@example.com"],
        send=False,
    ).invited
    kit.revoke_install_invitation(admin, account_id, unsent[2].id)
    kit.mailer.clear()

    report = kit.send_install_invitations(admin, account_id, key_id)

    assert [i.email for i in report.sent] == ["new1@example.com", "new2@example.com"]
    assert {i.state for i in report.sent} == {InstallInvitationState.SENT}
    assert sorted(m.to for m in kit.mailer.sent) == ["new1@example.com", "new2@example.com"]
    again = kit.send_install_invitations(admin, account_id, key_id)
    assert again.sent == ()
    assert len(kit.mailer.sent) == 2


def test_send_install_invitations_may_be_limited_to_named_invitations(setup):
    kit, admin, account_id, key_id = setup
    first, _ = kit.invite_installers(
        admin, account_id, key_id, ["ann@example.com", "bob@example.com"], send=False
    ).invited

    report = kit.send_install_invitations(admin, account_id, key_id, invitation_ids=[first.id])

    assert [i.id for i in report.sent] == [first.id]
    assert [m.to for m in kit.mailer.sent] == ["ann@example.com"]


@pytest.mark.parametrize(
    "invitation_ids",
    [42, object(), "inv_0000", b"inv_0000", [1, 2], ["inv_0000", None]],
    ids=["int", "object", "one-string", "bytes", "ints", "with-none"],
)
@pytest.mark.parametrize("use_case", ["send", "export"])
def test_invitation_ids_must_be_a_collection_of_strings(setup, invitation_ids, use_case):
    kit, admin, account_id, key_id = setup
    kit.invite_installers(admin, account_id, key_id, ["ann@example.com"], send=False)
    call = kit.send_install_invitations if use_case == "send" else kit.export_install_invitations

    with pytest.raises(ValidationError, match="invitation_ids"):
        call(admin, account_id, key_id, invitation_ids=invitation_ids)

    assert kit.mailer.sent == []


def test_invitation_ids_may_be_any_iterable_of_strings(setup):
    kit, admin, account_id, key_id = setup
    first, second = kit.invite_installers(
        admin, account_id, key_id, ["ann@example.com", "bob@example.com"], send=False
    ).invited

    report = kit.send_install_invitations(
        admin, account_id, key_id, invitation_ids=(i.id for i in [second, first, second])
    )

    assert [i.id for i in report.sent] == [second.id, first.id]


def test_send_install_invitations_refuses_an_invitation_of_another_key(setup):
    kit, admin, account_id, key_id = setup
    other = invite(setup, "bob@example.com", key_id=second_key(setup))

    with pytest.raises(InvitationNotFound):
        kit.send_install_invitations(admin, account_id, key_id, invitation_ids=[other.view.id])


def test_resend_install_invitation_sends_the_same_code_and_link_again(setup):
    kit, admin, account_id, _ = setup
    invited = invite(setup)
    kit.clock.advance(hours=3)

    view = kit.resend_install_invitation(admin, account_id, invited.view.id)

    first, second = kit.mailer.messages(to="ann@example.com", kind=MessageKind.INSTALL_INVITATION)
    assert second.data["code"] == first.data["code"] == invited.code
    assert second.data["link"] == first.data["link"]
    assert (view.sent_count, view.last_sent_at) == (2, kit.clock.now())
    event = audit(setup)[-1]
    assert (event.action, event.details["sent_count"]) == (AuditAction.INSTALL_INVITATION_SENT, "2")


@pytest.mark.parametrize(
    ("make_unusable", "error"),
    [
        ("revoke", InvitationRevoked),
        ("expire", InvitationExpired),
        ("use_up", InvitationAlreadyAccepted),
    ],
)
def test_resend_install_invitation_refuses_an_unusable_invitation(setup, make_unusable, error):
    """The administrator gets invitation errors, not the installer's activation errors."""
    kit, admin, account_id, _ = setup
    invited = invite(setup, expires_in="1d")
    if make_unusable == "revoke":
        kit.revoke_install_invitation(admin, account_id, invited.view.id)
    elif make_unusable == "expire":
        kit.clock.advance(days=1)
    else:
        activate(kit, invited)
    kit.mailer.clear()

    with pytest.raises(error):
        kit.resend_install_invitation(admin, account_id, invited.view.id)

    assert kit.mailer.sent == []


def test_revoke_install_invitation_stops_the_code_and_the_link_at_once(setup):
    kit, admin, account_id, _ = setup
    invited = invite(setup)

    view = kit.revoke_install_invitation(admin, account_id, invited.view.id)

    assert view.state is InstallInvitationState.REVOKED
    assert view.revoked_at == kit.clock.now()
    with pytest.raises(ActivationCodeRevoked):
        kit.activate(computer_id="mac-1", code=invited.code)
    with pytest.raises(ActivationCodeRevoked):
        kit.activate(computer_id="mac-1", token=invited.token)
    (event,) = [e for e in audit(setup) if e.action is AuditAction.INSTALL_INVITATION_REVOKED]
    assert (event.subject, event.actor_id) == (view.id, admin.user_id)


def test_revoking_an_invitation_keeps_the_seats_it_activated(setup):
    kit, admin, account_id, key_id = setup
    invited = invite(setup)
    activate(kit, invited)

    kit.revoke_install_invitation(admin, account_id, invited.view.id)

    assert kit.get_license_key(admin, account_id, key_id).seats_used == 1
    assert len(kit.list_installations(admin, account_id, key_id).items) == 1


def test_revoke_install_invitation_refuses_a_second_revocation(setup):
    kit, admin, account_id, _ = setup
    invited = invite(setup)
    kit.revoke_install_invitation(admin, account_id, invited.view.id)

    with pytest.raises(InvitationRevoked, match="revoked already"):
        kit.revoke_install_invitation(admin, account_id, invited.view.id)


def test_revoke_install_invitation_of_another_account_is_not_found(setup):
    kit = setup.kit
    invited = invite(setup)
    other_admin, other = make_business_account(kit, admin_email="olga@example.com", name="Other")

    with pytest.raises(InvitationNotFound):
        kit.revoke_install_invitation(other_admin, other.id, invited.view.id)


# == export =================================================================================


def test_export_lists_email_code_and_download_url_per_invitation(setup):
    kit, admin, account_id, key_id = setup
    ann = invite(setup, "ann@example.com")
    bob = invite(setup, "bob@example.com")

    text = kit.export_install_invitations(admin, account_id, key_id)

    assert text.startswith("email,temporary_activation_code,download_url\r\n")
    assert exported_rows(text) == [
        {
            "email": "ann@example.com",
            "temporary_activation_code": ann.code,
            "download_url": TEST_DOWNLOAD_URL.replace("{token}", ann.token),
        },
        {
            "email": "bob@example.com",
            "temporary_activation_code": bob.code,
            "download_url": TEST_DOWNLOAD_URL.replace("{token}", bob.token),
        },
    ]
    for form in key_value_forms():
        assert form not in text
    event = audit(setup)[-1]
    assert (event.action, event.subject) == (AuditAction.INSTALL_INVITATIONS_EXPORTED, key_id)
    assert event.details["count"] == "2"


def test_export_omits_unusable_invitations_unless_asked(setup):
    kit, admin, account_id, key_id = setup
    invite(setup, "live@example.com")
    revoked = invite(setup, "revoked@example.com")
    kit.revoke_install_invitation(admin, account_id, revoked.view.id)
    activate(kit, invite(setup, "used@example.com"))
    invite(setup, "short@example.com", expires_in="1d")
    kit.clock.advance(days=1)
    invite(setup, "later@example.com")

    default = exported_rows(kit.export_install_invitations(admin, account_id, key_id))
    everything = exported_rows(
        kit.export_install_invitations(admin, account_id, key_id, include_unusable=True)
    )

    assert [r["email"] for r in default] == ["live@example.com", "later@example.com"]
    assert [r["email"] for r in everything] == [
        "live@example.com",
        "revoked@example.com",
        "used@example.com",
        "short@example.com",
        "later@example.com",
    ]


def _make_key_unusable(setup: Setup, status: str) -> None:
    kit, admin, account_id, key_id = setup
    if status == "suspended":
        kit.suspend_license_key(admin, account_id, key_id)
    elif status == "removed":
        kit.remove_license_key(admin, account_id, key_id)
    else:
        kit.change_license_key(
            admin, account_id, key_id, expires_at=kit.clock.now() + dt.timedelta(days=1)
        )
        kit.clock.advance(days=1)


def _make_key_usable_again(setup: Setup, status: str) -> None:
    kit, admin, account_id, key_id = setup
    if status == "expired":
        kit.change_license_key(
            admin, account_id, key_id, expires_at=kit.clock.now() + dt.timedelta(days=30)
        )
    else:
        kit.resume_license_key(admin, account_id, key_id)


@pytest.mark.parametrize("status", ["suspended", "removed", "expired"])
def test_export_is_empty_while_the_key_cannot_activate_and_full_again_after(setup, status):
    kit, admin, account_id, key_id = setup
    ann = invite(setup, "ann@example.com", expires_in="7d")
    invite(setup, "bob@example.com", expires_in="7d")
    _make_key_unusable(setup, status)

    during = exported_rows(kit.export_install_invitations(admin, account_id, key_id))
    named = exported_rows(
        kit.export_install_invitations(admin, account_id, key_id, invitation_ids=[ann.view.id])
    )
    everything = exported_rows(
        kit.export_install_invitations(admin, account_id, key_id, include_unusable=True)
    )
    assert audit(setup)[-3].details["count"] == "0"
    _make_key_usable_again(setup, status)
    after = exported_rows(kit.export_install_invitations(admin, account_id, key_id))

    assert during == named == []
    assert [r["email"] for r in everything] == ["ann@example.com", "bob@example.com"]
    assert [r["email"] for r in after] == ["ann@example.com", "bob@example.com"]
    assert after[0]["temporary_activation_code"] == ann.code


def test_export_may_be_limited_to_named_invitations(setup):
    kit, admin, account_id, key_id = setup
    invite(setup, "ann@example.com")
    bob = invite(setup, "bob@example.com")

    rows = exported_rows(
        kit.export_install_invitations(admin, account_id, key_id, invitation_ids=[bob.view.id])
    )

    assert [r["email"] for r in rows] == ["bob@example.com"]


@pytest.mark.parametrize("email", ["=cmd@example.com", "-x@example.com", "+sum@example.com"])
def test_export_neutralises_cells_a_spreadsheet_would_read_as_formulas(setup, email):
    kit, admin, account_id, key_id = setup
    invite(setup, email)

    (row,) = exported_rows(kit.export_install_invitations(admin, account_id, key_id))

    assert row["email"] == "'" + email


def test_export_by_a_regular_member_is_refused(setup):
    kit, admin, account_id, key_id = setup
    invite(setup)
    member = add_member(kit, admin, account_id, "rita@example.com")

    with pytest.raises(PermissionDenied):
        kit.export_install_invitations(member, account_id, key_id)


# == activation =============================================================================


def test_activation_with_the_download_token_takes_a_seat(setup):
    kit, admin, account_id, key_id = setup
    invited = invite(setup)

    result = kit.activate(computer_id="mac-1", token=invited.token, computer_name="Ann's Mac")

    assert result.email == "ann@example.com"
    assert (result.account_id, result.key_id, result.product) == (account_id, key_id, PRODUCT)
    assert result.computer_id == "mac-1"
    assert result.activated_at == kit.clock.now()
    assert result.license_expires_at is None
    assert result.already_active is False
    assert kit.get_license_key(admin, account_id, key_id).seats_used == 1
    (listed,) = kit.list_install_invitations(admin, account_id, key_id).items
    assert (listed.state, listed.activations) == (InstallInvitationState.ACTIVATED, 1)


@pytest.mark.parametrize(
    "typed",
    [
        lambda c: c.lower(),
        lambda c: " ".join(c.lower().split("-")),
        lambda c: c.replace("-", ""),
        lambda c: f"  {c.replace('-', '_')}  ",
        lambda c: c.replace("0", "O").replace("1", "l"),
    ],
    ids=["lower", "lower-spaces", "no-dashes", "underscores", "confusables"],
)
def test_activation_with_the_code_forgives_case_and_separators(setup, typed):
    kit = setup.kit
    invited = invite(setup)

    result = kit.activate(computer_id="mac-1", code=typed(invited.code))

    assert result.email == "ann@example.com"


def test_activation_needs_exactly_one_of_code_and_token(setup):
    kit = setup.kit
    invited = invite(setup)

    with pytest.raises(ValidationError):
        kit.activate(computer_id="mac-1")
    with pytest.raises(ValidationError):
        kit.activate(computer_id="mac-1", code=invited.code, token=invited.token)


@pytest.mark.parametrize("computer_id", ["", "   ", "a\nb", "x" * 201])
def test_activation_refuses_a_bad_computer_id(setup, computer_id):
    kit = setup.kit
    invited = invite(setup)

    with pytest.raises(ValidationError, match="computer_id"):
        kit.activate(computer_id=computer_id, code=invited.code)


def test_activating_the_same_computer_again_does_not_take_a_second_seat(setup):
    kit, admin, account_id, key_id = setup
    invited = invite(setup)
    first = kit.activate(computer_id="mac-1", token=invited.token, computer_name="Ann's Mac")
    kit.clock.advance(hours=1)

    again = kit.activate(computer_id="mac-1", code=invited.code)

    assert again.already_active is True
    assert again.installation_id == first.installation_id
    assert again.activated_at == first.activated_at
    assert kit.get_license_key(admin, account_id, key_id).seats_used == 1
    (view,) = kit.list_installations(admin, account_id, key_id).items
    assert view.computer_name == "Ann's Mac"
    assert view.last_seen_at == kit.clock.now()
    (listed,) = kit.list_install_invitations(admin, account_id, key_id).items
    assert listed.activations == 1


def test_another_invitations_code_cannot_take_over_an_active_computer(setup):
    kit, admin, account_id, key_id = setup
    first = activate(kit, invite(setup, "ann@example.com"), "mac-1", computer_name="Ann's Mac")
    before = kit.list_installations(admin, account_id, key_id).items
    other = invite(setup, "bob@example.com")
    kit.clock.advance(hours=2)

    with pytest.raises(ComputerAlreadyActivated) as refused:
        activate(kit, other, "mac-1", computer_name="Bob's now")

    assert isinstance(refused.value, ActivationError)
    assert kit.list_installations(admin, account_id, key_id).items == before
    assert kit.get_license_key(admin, account_id, key_id).seats_used == 1
    listed = kit.list_install_invitations(admin, account_id, key_id).items
    assert {i.email: i.activations for i in listed} == {
        "ann@example.com": 1,
        "bob@example.com": 0,
    }
    # The running installation's token still works, and a check-in shows it unchanged.
    view = kit.check_in(first.installation_token).installation
    assert (view.id, view.email, view.computer_name) == (
        first.installation_id,
        "ann@example.com",
        "Ann's Mac",
    )
    assert view.status is InstallationStatus.ACTIVE
    event = audit(setup)[-1]
    assert (event.action, event.subject) == (AuditAction.ACTIVATION_REFUSED, other.view.id)
    assert event.details["reason"] == "ComputerAlreadyActivated"
    # The code itself still works on another computer.
    assert activate(kit, other, "mac-2").email == "bob@example.com"


def test_the_token_of_another_invitation_cannot_take_over_an_active_computer_either(setup):
    kit = setup.kit
    first = activate(kit, invite(setup, "ann@example.com"), "mac-1")
    other = invite(setup, "bob@example.com")

    with pytest.raises(ComputerAlreadyActivated):
        kit.activate(computer_id="mac-1", token=other.token)

    assert kit.check_in(first.installation_token).installation.email == "ann@example.com"


def test_a_used_up_code_on_another_invitations_computer_is_refused_as_used_up(setup):
    """The code's remaining activations are checked before the computer, so that a used-up
    code cannot tell which computers are activated."""
    kit, admin, account_id, key_id = setup
    ann = activate(kit, invite(setup, "ann@example.com"), "mac-1")
    bob = invite(setup, "bob@example.com")
    activate(kit, bob, "mac-2")

    with pytest.raises(ActivationCodeUsedUp) as on_activated:
        activate(kit, bob, "mac-1")
    with pytest.raises(ActivationCodeUsedUp) as on_unknown:
        activate(kit, bob, "mac-never-seen")

    assert str(on_activated.value) == str(on_unknown.value)

    (view,) = [
        i
        for i in kit.list_installations(admin, account_id, key_id).items
        if i.id == ann.installation_id
    ]
    assert view.email == "ann@example.com"
    assert kit.check_in(ann.installation_token).installation.id == ann.installation_id


def test_a_full_key_refuses_another_invitations_code_on_an_active_computer_as_already_activated(
    kit,
):
    """The computer is checked before the seats."""
    setup = _setup(kit, seats=1)
    ann = activate(kit, invite(setup, "ann@example.com"), "mac-1")

    with pytest.raises(ComputerAlreadyActivated):
        activate(kit, invite(setup, "bob@example.com"), "mac-1")

    assert kit.check_in(ann.installation_token).installation.status is InstallationStatus.ACTIVE


def test_a_computer_active_under_one_key_may_activate_under_another_key(setup):
    kit = setup.kit
    other_key = second_key(setup)
    first = activate(kit, invite(setup, "ann@example.com"), "mac-1")

    second = activate(kit, invite(setup, "bob@example.com", key_id=other_key), "mac-1")

    assert (second.key_id, second.already_active) == (other_key, False)
    assert second.installation_id != first.installation_id
    assert kit.check_in(first.installation_token).installation.status is InstallationStatus.ACTIVE


def test_another_invitations_code_may_activate_a_computer_after_an_administrator_deactivated_it(
    setup,
):
    kit, admin, account_id, key_id = setup
    first = activate(kit, invite(setup, "ann@example.com"), "mac-1")
    kit.deactivate_installation(admin, account_id, first.installation_id)
    bob = invite(setup, "bob@example.com")

    again = activate(kit, bob, "mac-1")

    assert (again.installation_id, again.email, again.already_active) == (
        first.installation_id,
        "bob@example.com",
        False,
    )
    assert kit.get_license_key(admin, account_id, key_id).seats_used == 1
    assert kit.check_in(again.installation_token).installation.email == "bob@example.com"
    with pytest.raises(InstallationNotFound):
        kit.check_in(first.installation_token)


def test_a_code_with_max_activations_two_activates_two_computers_then_is_used_up(setup):
    kit, admin, account_id, key_id = setup
    invited = invite(setup, max_activations=2)

    activate(kit, invited, "mac-1")
    activate(kit, invited, "mac-2")
    with pytest.raises(ActivationCodeUsedUp):
        activate(kit, invited, "mac-3")

    assert kit.get_license_key(admin, account_id, key_id).seats_used == 2
    (listed,) = kit.list_install_invitations(admin, account_id, key_id).items
    assert listed.activations == 2


def test_a_one_computer_code_cannot_bring_its_computer_back_after_an_administrators_deactivation(
    setup,
):
    kit, admin, account_id, key_id = setup
    invited = invite(setup)
    result = activate(kit, invited, "mac-1")
    kit.deactivate_installation(admin, account_id, result.installation_id)

    with pytest.raises(ActivationCodeUsedUp):
        activate(kit, invited, "mac-1")
    with pytest.raises(ActivationCodeUsedUp):
        kit.activate(computer_id="mac-1", token=invited.token)

    assert kit.get_license_key(admin, account_id, key_id).seats_used == 0
    (view,) = kit.list_install_invitations(admin, account_id, key_id).items
    assert view.activations == 1
    assert (
        kit.check_in(result.installation_token).installation.status
        is InstallationStatus.DEACTIVATED
    )


def test_a_code_with_activations_left_brings_a_deactivated_computer_back_counting_one_more(setup):
    kit, admin, account_id, key_id = setup
    invited = invite(setup, max_activations=2)
    result = activate(kit, invited, "mac-1")
    kit.deactivate_installation(admin, account_id, result.installation_id)

    again = activate(kit, invited, "mac-1")

    assert again.installation_id == result.installation_id
    assert again.already_active is False
    assert kit.get_license_key(admin, account_id, key_id).seats_used == 1
    (view,) = kit.list_install_invitations(admin, account_id, key_id).items
    assert view.activations == 2
    # From now on the computer is a returning one again, and the code is used up for others.
    assert activate(kit, invited, "mac-1").already_active is True
    with pytest.raises(ActivationCodeUsedUp):
        activate(kit, invited, "mac-2")


def test_a_deactivation_by_a_license_administrator_sticks_too(setup):
    kit, _, account_id, _ = setup
    lena = license_admin(setup)
    invited = invite(setup)
    result = activate(kit, invited, "mac-1")
    kit.deactivate_installation(lena, account_id, result.installation_id)

    with pytest.raises(ActivationCodeUsedUp):
        activate(kit, invited, "mac-1")


def test_a_freed_seat_goes_to_the_next_computer_not_back_to_the_deactivated_one(kit):
    setup = _setup(kit, seats=1)
    admin, account_id, key_id = setup.admin, setup.account_id, setup.key_id
    ann = invite(setup, "ann@example.com")
    held = activate(kit, ann, "mac-1")
    kit.deactivate_installation(admin, account_id, held.installation_id)

    with pytest.raises(ActivationCodeUsedUp):
        activate(kit, ann, "mac-1")
    taken = activate(kit, invite(setup, "bob@example.com"), "mac-2")

    assert taken.already_active is False
    assert kit.get_license_key(admin, account_id, key_id).seats_used == 1


def test_seats_go_first_come_first_served_and_a_full_key_refuses(kit):
    setup = _setup(kit, seats=1)
    activate(kit, invite(setup, "ann@example.com"), "mac-1")

    with pytest.raises(SeatsFull) as refused:
        activate(kit, invite(setup, "bob@example.com"), "mac-2")

    assert refused.value.seats == 1
    assert kit.get_license_key(setup.admin, setup.account_id, setup.key_id).seats_used == 1


def test_an_expired_code_is_refused_with_its_own_error(setup):
    invited = invite(setup, expires_in="1d")
    setup.kit.clock.advance(days=1)

    with pytest.raises(ActivationCodeExpired):
        activate(setup.kit, invited)


def test_a_revoked_code_is_refused_with_its_own_error(setup):
    kit, admin, account_id, _ = setup
    invited = invite(setup)
    kit.revoke_install_invitation(admin, account_id, invited.view.id)

    with pytest.raises(ActivationCodeRevoked):
        activate(kit, invited)


def test_a_used_up_code_is_refused_with_its_own_error(setup):
    invited = invite(setup)
    activate(setup.kit, invited, "mac-1")

    with pytest.raises(ActivationCodeUsedUp):
        activate(setup.kit, invited, "mac-2")


def test_a_code_for_another_product_is_refused_with_its_own_error(setup):
    invited = invite(setup)

    with pytest.raises(ActivationCodeWrongProduct):
        activate(setup.kit, invited, product="Parallels Toolbox")
    result = activate(setup.kit, invited, product=PRODUCT.upper())

    assert result.product == PRODUCT


@pytest.mark.parametrize("position", [0, 7, 28])
def test_a_mistyped_code_is_refused_with_its_own_error(setup, position):
    invited = invite(setup)

    with pytest.raises(ActivationCodeMistyped) as refused:
        setup.kit.activate(computer_id="mac-1", code=mistype(invited.code, position))

    assert isinstance(refused.value, ValidationError)


@pytest.mark.parametrize("code", ["", "ABCDE", "!!!!!-#####", "U" * 25])
def test_malformed_codes_are_reported_as_mistyped(setup, code):
    with pytest.raises(ActivationCodeMistyped):
        setup.kit.activate(computer_id="mac-1", code=code)


def test_an_unknown_code_or_token_is_refused_with_its_own_error(setup):
    kit = setup.kit

    with pytest.raises(ActivationCodeNotFound):
        kit.activate(computer_id="mac-1", code=new_activation_code())
    with pytest.raises(ActivationCodeNotFound):
        kit.activate(computer_id="mac-1", token="no-such-token")
    with pytest.raises(ActivationCodeNotFound):
        kit.activate(computer_id="mac-1", token=b"not text")


def test_each_refusal_has_its_own_class_under_invalid_activation_code():
    classes = [
        ActivationCodeExpired,
        ActivationCodeRevoked,
        ActivationCodeUsedUp,
        ActivationCodeWrongProduct,
        ActivationCodeMistyped,
        ActivationCodeNotFound,
    ]

    assert len(set(classes)) == 6
    for cls in classes:
        assert issubclass(cls, InvalidActivationCode)
        assert not any(issubclass(cls, o) for o in classes if o is not cls)


@pytest.mark.parametrize("status", ["suspended", "expired", "removed"])
def test_a_suspended_expired_or_removed_key_makes_activation_unavailable(setup, status):
    kit, admin, account_id, key_id = setup
    invited = invite(setup, expires_in="7d")
    if status == "suspended":
        kit.suspend_license_key(admin, account_id, key_id)
    elif status == "expired":
        kit.change_license_key(
            admin, account_id, key_id, expires_at=kit.clock.now() + dt.timedelta(days=1)
        )
        kit.clock.advance(days=2)
    else:
        kit.remove_license_key(admin, account_id, key_id)

    with pytest.raises(LicenseKeyUnavailable, match=status):
        activate(kit, invited)

    assert kit.get_license_key(admin, account_id, key_id).seats_used == 0


def test_a_resumed_key_activates_again(setup):
    kit, admin, account_id, key_id = setup
    invited = invite(setup)
    kit.suspend_license_key(admin, account_id, key_id)
    with pytest.raises(LicenseKeyUnavailable):
        activate(kit, invited)

    kit.resume_license_key(admin, account_id, key_id)

    assert activate(kit, invited).already_active is False


def test_a_blocked_computer_is_refused_until_unblocked(setup):
    kit, admin, account_id, key_id = setup
    invited = invite(setup, max_activations=2)
    result = activate(kit, invited, "mac-1")

    block = kit.block_computer(admin, account_id, result.installation_id, notes="lost")
    assert kit.get_license_key(admin, account_id, key_id).seats_used == 0
    with pytest.raises(ComputerBlocked):
        activate(kit, invited, "mac-1")
    kit.unblock_computer(admin, account_id, "mac-1")
    again = activate(kit, invited, "mac-1")

    assert (block.computer_id, block.key_id) == ("mac-1", None)
    assert again.installation_id == result.installation_id
    assert kit.get_license_key(admin, account_id, key_id).seats_used == 1
    # The block's deactivation used up the computer's claim: it counted as a second activation.
    (view,) = kit.list_install_invitations(admin, account_id, key_id).items
    assert view.activations == 2


def test_after_block_and_unblock_a_one_computer_code_is_used_up_for_that_computer(setup):
    kit, admin, account_id, _ = setup
    invited = invite(setup)
    result = activate(kit, invited, "mac-1")
    kit.block_computer(admin, account_id, result.installation_id)
    kit.unblock_computer(admin, account_id, "mac-1")

    with pytest.raises(ActivationCodeUsedUp):
        activate(kit, invited, "mac-1")

    assert activate(kit, invite(setup, "new@example.com"), "mac-1").already_active is False


def test_an_account_administrators_block_covers_every_key_of_the_account(setup):
    kit, admin, account_id, _ = setup
    result = activate(kit, invite(setup, "ann@example.com"), "mac-1")
    kit.block_computer(admin, account_id, result.installation_id)
    other = invite(setup, "bob@example.com", key_id=second_key(setup))

    with pytest.raises(ComputerBlocked):
        activate(kit, other, "mac-1")


def test_block_computer_refuses_a_computer_blocked_already(setup):
    kit, admin, account_id, _ = setup
    result = activate(kit, invite(setup), "mac-1")
    kit.block_computer(admin, account_id, result.installation_id)

    with pytest.raises(ConflictError, match="blocked"):
        kit.block_computer(admin, account_id, result.installation_id)


def test_unblock_computer_refuses_a_computer_that_is_not_blocked(setup):
    kit, admin, account_id, _ = setup

    with pytest.raises(NotFound):
        kit.unblock_computer(admin, account_id, "mac-404")


def test_blocking_the_computer_of_a_deactivated_installation_frees_no_second_seat(setup):
    kit, admin, account_id, key_id = setup
    activate(kit, invite(setup, "bob@example.com"), "mac-2")
    result = activate(kit, invite(setup), "mac-1")
    kit.deactivate_installation(admin, account_id, result.installation_id)

    kit.block_computer(admin, account_id, result.installation_id)

    assert kit.get_license_key(admin, account_id, key_id).seats_used == 1


def test_list_blocked_computers_by_a_regular_member_is_refused(setup):
    kit, admin, account_id, _ = setup
    member = add_member(kit, admin, account_id, "rita@example.com")

    with pytest.raises(PermissionDenied):
        kit.list_blocked_computers(member, account_id)


def test_list_blocked_computers_shows_who_blocked_when_and_why(setup):
    kit, admin, account_id, _ = setup
    result = activate(kit, invite(setup), "mac-1")
    kit.block_computer(admin, account_id, result.installation_id, notes="left the company")

    (block,) = kit.list_blocked_computers(admin, account_id).items

    assert (block.computer_id, block.key_id) == ("mac-1", None)
    assert (block.blocked_by, block.blocked_at) == (admin.user_id, kit.clock.now())
    assert block.notes == "left the company"


# == computer blocks by scope ===============================================================


class Blocks(NamedTuple):
    kit: LicenseKitForTests
    admin: Session
    account_id: str
    key_a: str
    key_b: str
    lena: Session
    """License Administrator of key_a."""
    otto: Session
    """License Administrator of key_b."""


@pytest.fixture
def blocks(setup) -> Blocks:
    """Two keys of one account, each with its own License Administrator."""
    key_b = second_key(setup, seats=3)
    lena = license_admin(setup, "lena@example.com")
    otto = license_admin(setup, "otto@example.com", key_id=key_b)
    return Blocks(setup.kit, setup.admin, setup.account_id, setup.key_id, key_b, lena, otto)


def _installed(b: Blocks, key_id: str, computer: str, email: str, **options) -> ActivationResult:
    setup = Setup(b.kit, b.admin, b.account_id, b.key_a)
    return activate(b.kit, invite(setup, email, key_id=key_id, **options), computer)


def _activate_fresh(b: Blocks, key_id: str, computer: str) -> ActivationResult:
    """Activate *computer* under *key_id* with a brand-new invitation's code."""
    emails = {i.email for i in b.kit.list_install_invitations(b.admin, b.account_id, key_id).items}
    email = f"fresh{len(emails)}@example.com"
    return _installed(b, key_id, computer, email)


def _scopes(b: Blocks, session: Session, **page) -> list[tuple[str, str | None]]:
    listed = b.kit.list_blocked_computers(session, b.account_id, **page).items
    return [(x.computer_id, x.key_id) for x in listed]


def _seats_used(b: Blocks, key_id: str) -> int:
    return b.kit.get_license_key(b.admin, b.account_id, key_id).seats_used


def test_an_account_administrators_block_is_account_wide_and_frees_every_keys_seat(blocks):
    b = blocks
    on_a = _installed(b, b.key_a, "mac-1", "ann@example.com")
    on_b = _installed(b, b.key_b, "mac-1", "ann.b@example.com")
    elsewhere = _installed(b, b.key_b, "mac-2", "bob@example.com")

    block = b.kit.block_computer(b.admin, b.account_id, on_b.installation_id, notes="stolen")

    assert (block.computer_id, block.key_id, block.blocked_by) == ("mac-1", None, b.admin.user_id)
    assert block.covers(b.key_a)
    assert block.covers(b.key_b)
    assert (_seats_used(b, b.key_a), _seats_used(b, b.key_b)) == (0, 1)
    for result in (on_a, on_b):
        assert (
            b.kit.check_in(result.installation_token).installation.status
            is InstallationStatus.DEACTIVATED
        )
    assert (
        b.kit.check_in(elsewhere.installation_token).installation.status
        is InstallationStatus.ACTIVE
    )
    for key_id in (b.key_a, b.key_b):
        with pytest.raises(ComputerBlocked):
            _activate_fresh(b, key_id, "mac-1")
    assert _scopes(b, b.admin) == [("mac-1", None)]


def test_an_account_wide_block_covers_a_key_added_after_it(blocks):
    b = blocks
    result = _installed(b, b.key_a, "mac-1", "ann@example.com")
    b.kit.block_computer(b.admin, b.account_id, result.installation_id)
    later = b.kit.add_license_key(
        b.admin, b.account_id, product=PRODUCT, value="PDB-LATER-00000-11111", seats=1
    ).id

    with pytest.raises(ComputerBlocked):
        _activate_fresh(b, later, "mac-1")


def test_a_license_administrators_block_covers_only_their_key_and_frees_only_that_seat(blocks):
    b = blocks
    on_a = _installed(b, b.key_a, "mac-1", "ann@example.com")
    on_b = _installed(b, b.key_b, "mac-1", "ann.b@example.com")

    block = b.kit.block_computer(b.lena, b.account_id, on_a.installation_id, notes="lost")

    assert (block.computer_id, block.key_id, block.blocked_by) == ("mac-1", b.key_a, b.lena.user_id)
    assert block.covers(b.key_a)
    assert not block.covers(b.key_b)
    assert (_seats_used(b, b.key_a), _seats_used(b, b.key_b)) == (0, 1)
    assert (
        b.kit.check_in(on_a.installation_token).installation.status
        is InstallationStatus.DEACTIVATED
    )
    assert b.kit.check_in(on_b.installation_token).installation.status is InstallationStatus.ACTIVE
    with pytest.raises(ComputerBlocked):
        _activate_fresh(b, b.key_a, "mac-1")
    # Under the other key the computer keeps its seat, and may activate again there.
    b.kit.deactivate_installation(b.admin, b.account_id, on_b.installation_id)
    assert _activate_fresh(b, b.key_b, "mac-1").key_id == b.key_b


def test_a_license_administrator_of_two_keys_blocks_under_the_installations_key_only(blocks):
    b = blocks
    b.kit.grant_license_administrator(b.admin, b.account_id, b.lena.user_id, b.key_b)
    on_a = _installed(b, b.key_a, "mac-1", "ann@example.com")
    _installed(b, b.key_b, "mac-1", "ann.b@example.com")

    block = b.kit.block_computer(b.lena, b.account_id, on_a.installation_id)

    assert block.key_id == b.key_a
    assert (_seats_used(b, b.key_a), _seats_used(b, b.key_b)) == (0, 1)


def test_a_computer_holds_one_block_per_scope(blocks):
    b = blocks
    on_a = _installed(b, b.key_a, "mac-1", "ann@example.com")
    on_b = _installed(b, b.key_b, "mac-1", "ann.b@example.com")
    b.kit.block_computer(b.lena, b.account_id, on_a.installation_id)
    b.kit.block_computer(b.otto, b.account_id, on_b.installation_id)
    b.kit.block_computer(b.admin, b.account_id, on_a.installation_id)

    with pytest.raises(ConflictError, match="blocked in license key"):
        b.kit.block_computer(b.lena, b.account_id, on_a.installation_id)
    with pytest.raises(ConflictError, match="blocked in this account"):
        b.kit.block_computer(b.admin, b.account_id, on_b.installation_id)

    key_scopes = sorted([("mac-1", b.key_a), ("mac-1", b.key_b)])
    assert _scopes(b, b.admin) == [("mac-1", None), *key_scopes]


def test_an_account_administrator_may_block_a_computer_a_license_administrator_blocked(blocks):
    b = blocks
    on_a = _installed(b, b.key_a, "mac-1", "ann@example.com")
    on_b = _installed(b, b.key_b, "mac-1", "ann.b@example.com")
    b.kit.block_computer(b.lena, b.account_id, on_a.installation_id)

    block = b.kit.block_computer(b.admin, b.account_id, on_a.installation_id)

    assert block.key_id is None
    assert (
        b.kit.check_in(on_b.installation_token).installation.status
        is InstallationStatus.DEACTIVATED
    )
    assert _seats_used(b, b.key_b) == 0


def test_lifting_the_account_wide_block_needs_an_account_administrator(blocks):
    b = blocks
    result = _installed(b, b.key_a, "mac-1", "ann@example.com")
    b.kit.block_computer(b.admin, b.account_id, result.installation_id)
    member = add_member(b.kit, b.admin, b.account_id, "rita@example.com")

    for session in (b.lena, b.otto, member):
        with pytest.raises(PermissionDenied):
            b.kit.unblock_computer(session, b.account_id, "mac-1")
    assert _scopes(b, b.admin) == [("mac-1", None)]

    b.kit.unblock_computer(b.admin, b.account_id, "mac-1")
    assert _scopes(b, b.admin) == []
    assert _activate_fresh(b, b.key_a, "mac-1").already_active is False


def test_a_keys_block_is_lifted_by_its_license_administrator_or_an_account_administrator(blocks):
    b = blocks
    on_a = _installed(b, b.key_a, "mac-1", "ann@example.com")
    b.kit.block_computer(b.lena, b.account_id, on_a.installation_id)
    on_a2 = _installed(b, b.key_a, "mac-2", "bob@example.com")
    b.kit.block_computer(b.lena, b.account_id, on_a2.installation_id)
    member = add_member(b.kit, b.admin, b.account_id, "rita@example.com")

    for session in (b.otto, member):
        with pytest.raises(PermissionDenied):
            b.kit.unblock_computer(session, b.account_id, "mac-1", key_id=b.key_a)
    b.kit.unblock_computer(b.lena, b.account_id, "mac-1", key_id=b.key_a)
    b.kit.unblock_computer(b.admin, b.account_id, "mac-2", key_id=b.key_a)

    assert _scopes(b, b.admin) == []
    assert _activate_fresh(b, b.key_a, "mac-1").key_id == b.key_a
    assert _activate_fresh(b, b.key_a, "mac-2").key_id == b.key_a


def test_unblocking_a_scope_without_a_block_is_not_found(blocks):
    b = blocks
    on_a = _installed(b, b.key_a, "mac-1", "ann@example.com")
    b.kit.block_computer(b.lena, b.account_id, on_a.installation_id)
    on_b = _installed(b, b.key_b, "mac-2", "bob@example.com")
    b.kit.block_computer(b.admin, b.account_id, on_b.installation_id)

    with pytest.raises(NotFound, match="this account"):
        b.kit.unblock_computer(b.admin, b.account_id, "mac-1")
    with pytest.raises(NotFound, match=b.key_b):
        b.kit.unblock_computer(b.admin, b.account_id, "mac-1", key_id=b.key_b)
    with pytest.raises(NotFound, match=b.key_a):
        b.kit.unblock_computer(b.lena, b.account_id, "mac-2", key_id=b.key_a)
    with pytest.raises(NotFound):
        b.kit.unblock_computer(b.otto, b.account_id, "mac-404", key_id=b.key_b)

    assert _scopes(b, b.admin) == [("mac-1", b.key_a), ("mac-2", None)]


def test_unblocking_under_an_unknown_key_is_refused_as_license_key_not_found(blocks):
    b = blocks
    result = _installed(b, b.key_a, "mac-1", "ann@example.com")
    b.kit.block_computer(b.lena, b.account_id, result.installation_id)
    other_admin, other = make_business_account(b.kit, admin_email="olga@example.com", name="Other")
    foreign = b.kit.add_license_key(
        other_admin, other.id, product=PRODUCT, value=KEY_VALUE, seats=1
    ).id

    for key_id in ("key_0000", foreign):
        with pytest.raises(LicenseKeyNotFound):
            b.kit.unblock_computer(b.admin, b.account_id, "mac-1", key_id=key_id)
    with pytest.raises(LicenseKeyNotFound):
        b.kit.unblock_computer(other_admin, other.id, "mac-1", key_id=b.key_a)

    assert _scopes(b, b.admin) == [("mac-1", b.key_a)]


def test_lifting_one_scope_leaves_the_other_blocks_in_force(blocks):
    b = blocks
    on_a = _installed(b, b.key_a, "mac-1", "ann@example.com")
    b.kit.block_computer(b.lena, b.account_id, on_a.installation_id)
    b.kit.block_computer(b.admin, b.account_id, on_a.installation_id)

    b.kit.unblock_computer(b.admin, b.account_id, "mac-1")

    with pytest.raises(ComputerBlocked):
        _activate_fresh(b, b.key_a, "mac-1")
    assert _activate_fresh(b, b.key_b, "mac-1").key_id == b.key_b
    b.kit.unblock_computer(b.lena, b.account_id, "mac-1", key_id=b.key_a)
    assert _activate_fresh(b, b.key_a, "mac-1").key_id == b.key_a


def test_a_block_of_one_key_does_not_stop_the_computer_under_another_key(blocks):
    b = blocks
    on_b = _installed(b, b.key_b, "mac-1", "ann.b@example.com")
    b.kit.block_computer(b.otto, b.account_id, on_b.installation_id)

    assert _activate_fresh(b, b.key_a, "mac-1").key_id == b.key_a
    with pytest.raises(ComputerBlocked):
        _activate_fresh(b, b.key_b, "mac-1")


def test_list_blocked_computers_shows_account_wide_blocks_and_a_license_administrators_own(
    blocks,
):
    b = blocks
    on_a = {c: _installed(b, b.key_a, c, f"{c}.a@example.com") for c in ("mac-1", "mac-3")}
    on_b = {c: _installed(b, b.key_b, c, f"{c}.b@example.com") for c in ("mac-1", "mac-2")}
    b.kit.block_computer(b.lena, b.account_id, on_a["mac-3"].installation_id)
    b.kit.block_computer(b.otto, b.account_id, on_b["mac-2"].installation_id)
    b.kit.block_computer(b.otto, b.account_id, on_b["mac-1"].installation_id)
    b.kit.block_computer(b.lena, b.account_id, on_a["mac-1"].installation_id)
    b.kit.block_computer(b.admin, b.account_id, on_a["mac-1"].installation_id)

    assert _scopes(b, b.admin) == [
        ("mac-1", None),
        *sorted([("mac-1", b.key_a), ("mac-1", b.key_b)]),
        ("mac-2", b.key_b),
        ("mac-3", b.key_a),
    ]
    assert _scopes(b, b.lena) == [("mac-1", None), ("mac-1", b.key_a), ("mac-3", b.key_a)]
    assert _scopes(b, b.otto) == [("mac-1", None), ("mac-1", b.key_b), ("mac-2", b.key_b)]


@pytest.mark.parametrize("who", ["admin", "lena"])
def test_list_blocked_computers_pages_through_the_visible_blocks(blocks, who):
    b = blocks
    session = b.admin if who == "admin" else b.lena
    for n in range(4):
        on_a = _installed(b, b.key_a, f"mac-{n}", f"a{n}@example.com")
        on_b = _installed(b, b.key_b, f"mac-{n}", f"b{n}@example.com")
        b.kit.block_computer(b.otto, b.account_id, on_b.installation_id)
        if n % 2:
            b.kit.block_computer(b.lena, b.account_id, on_a.installation_id)
        else:
            b.kit.block_computer(b.admin, b.account_id, on_a.installation_id)
    expected = _scopes(b, session, limit=500)

    seen = []
    cursor = None
    while True:
        page = b.kit.list_blocked_computers(session, b.account_id, limit=2, cursor=cursor)
        seen.extend((x.computer_id, x.key_id) for x in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert seen == expected
    assert len(expected) == (8 if who == "admin" else 4)
    assert [c for c, _ in expected] == sorted(c for c, _ in expected)


def test_block_and_unblock_events_name_their_scope(blocks):
    b = blocks
    on_a = _installed(b, b.key_a, "mac-1", "ann@example.com")
    on_b = _installed(b, b.key_b, "mac-1", "ann.b@example.com")
    b.kit.block_computer(b.lena, b.account_id, on_a.installation_id, notes="lost")
    b.kit.block_computer(b.admin, b.account_id, on_b.installation_id, notes="stolen")
    b.kit.unblock_computer(b.lena, b.account_id, "mac-1", key_id=b.key_a)
    b.kit.unblock_computer(b.admin, b.account_id, "mac-1")

    events = [
        e
        for e in b.kit.list_audit_events(b.admin, b.account_id, limit=500).items
        if e.action in (AuditAction.COMPUTER_BLOCKED, AuditAction.COMPUTER_UNBLOCKED)
    ]

    assert [(e.action, e.subject, e.actor_id) for e in events] == [
        (AuditAction.COMPUTER_BLOCKED, "mac-1", b.lena.user_id),
        (AuditAction.COMPUTER_BLOCKED, "mac-1", b.admin.user_id),
        (AuditAction.COMPUTER_UNBLOCKED, "mac-1", b.lena.user_id),
        (AuditAction.COMPUTER_UNBLOCKED, "mac-1", b.admin.user_id),
    ]
    by_lena, by_admin, lifted_by_lena, lifted_by_admin = (dict(e.details) for e in events)
    assert by_lena == {
        "scope": b.key_a,
        "installation_id": on_a.installation_id,
        "deactivated": on_a.installation_id,
        "notes": "lost",
    }
    assert by_admin == {
        "scope": "account",
        "installation_id": on_b.installation_id,
        "deactivated": on_b.installation_id,
        "notes": "stolen",
    }
    assert lifted_by_lena == {"scope": b.key_a}
    assert lifted_by_admin == {"scope": "account"}


def test_an_account_wide_block_event_lists_every_installation_it_deactivated(blocks):
    b = blocks
    on_a = _installed(b, b.key_a, "mac-1", "ann@example.com")
    on_b = _installed(b, b.key_b, "mac-1", "ann.b@example.com")

    b.kit.block_computer(b.admin, b.account_id, on_a.installation_id)

    event = b.kit.list_audit_events(b.admin, b.account_id, limit=500).items[-1]
    assert event.action is AuditAction.COMPUTER_BLOCKED
    assert sorted(event.details["deactivated"].split(" ")) == sorted(
        [on_a.installation_id, on_b.installation_id]
    )
    assert "notes" not in event.details


def test_computer_block_sort_key_puts_the_account_wide_block_first():
    at = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    wide = ComputerBlock("acc", "mac-1", None, at, "usr")
    keyed = ComputerBlock("acc", "mac-1", "key_1", at, "usr")
    longer = ComputerBlock("acc", "mac-10", None, at, "usr")

    assert sorted([longer, keyed, wide], key=lambda x: x.sort_key) == [wide, keyed, longer]


def test_the_activation_result_never_contains_the_key_value(setup):
    result = activate(setup.kit, invite(setup))

    texts = [repr(result), str(attrs.asdict(result)), *map(str, attrs.astuple(result))]
    for text in texts:
        for form in key_value_forms():
            assert form not in text
    assert result.installation_token not in repr(result)


def test_the_install_email_never_contains_the_key_value_and_says_the_code_is_temporary(setup):
    invite(setup)

    message = setup.kit.mailer.last(to="ann@example.com", kind=MessageKind.INSTALL_INVITATION)

    assert "temporary" in message.text
    assert "not the license key" in message.text
    for part in (message.subject, message.text, message.html, *message.data.values()):
        for form in key_value_forms():
            assert form not in part


# == check-in and installations =============================================================


def test_check_in_moves_last_seen_to_now(setup):
    kit, admin, account_id, key_id = setup
    result = activate(kit, invite(setup))
    kit.clock.advance(days=3)

    view = kit.check_in(result.installation_token).installation

    assert view.id == result.installation_id
    assert view.status is InstallationStatus.ACTIVE
    assert view.last_seen_at == kit.clock.now()
    (listed,) = kit.list_installations(admin, account_id, key_id).items
    assert listed.last_seen_at == kit.clock.now()
    assert listed.activated_at == result.activated_at


@pytest.mark.sync_only("it counts the transactions of the synchronous store it instruments")
def test_a_check_in_is_one_store_transaction(setup, monkeypatch):
    kit = setup.kit
    result = activate(kit, invite(setup))
    kit.clock.advance(hours=6)  # last_seen_at is written once it is a quarter-interval old
    opened = []
    original = kit.store.transaction

    def counting():
        opened.append(1)
        return original()

    monkeypatch.setattr(kit.store, "transaction", counting)

    view = kit.check_in(result.installation_token, client="10.0.0.1").installation
    assert view.last_seen_at == kit.clock.now()
    assert len(opened) == 1
    with pytest.raises(InstallationNotFound):
        kit.check_in("no-such-token", client="10.0.0.1")
    assert len(opened) == 2


def test_check_in_reports_a_deactivated_installation_without_updating_it(setup):
    kit, admin, account_id, _ = setup
    result = activate(kit, invite(setup))
    kit.clock.advance(hours=1)
    kit.deactivate_installation(admin, account_id, result.installation_id)
    kit.clock.advance(hours=1)

    view = kit.check_in(result.installation_token).installation

    assert view.status is InstallationStatus.DEACTIVATED
    assert view.deactivated_at == kit.clock.now() - dt.timedelta(hours=1)
    assert view.last_seen_at == result.activated_at


def test_check_in_with_an_unknown_or_replaced_token_is_not_found(setup):
    kit = setup.kit
    invited = invite(setup)
    first = activate(kit, invited)
    activate(kit, invited)  # a new activation of the same computer issues a new token

    with pytest.raises(InstallationNotFound):
        kit.check_in("no-such-token")
    with pytest.raises(InstallationNotFound):
        kit.check_in(None)
    with pytest.raises(InstallationNotFound):
        kit.check_in(first.installation_token)


def test_deactivate_installation_frees_the_seat_and_is_audited(setup):
    kit, admin, account_id, key_id = setup
    result = activate(kit, invite(setup))

    view = kit.deactivate_installation(admin, account_id, result.installation_id)

    assert view.status is InstallationStatus.DEACTIVATED
    assert view.deactivated_at == kit.clock.now()
    assert kit.get_license_key(admin, account_id, key_id).seats_free == 3
    event = audit(setup)[-1]
    assert (event.action, event.subject, event.actor_id) == (
        AuditAction.DEACTIVATED,
        result.installation_id,
        admin.user_id,
    )


def test_deactivate_installation_refuses_a_deactivated_one(setup):
    kit, admin, account_id, _ = setup
    result = activate(kit, invite(setup))
    kit.deactivate_installation(admin, account_id, result.installation_id)

    with pytest.raises(ConflictError, match="deactivated already"):
        kit.deactivate_installation(admin, account_id, result.installation_id)
    assert kit.get_license_key(admin, account_id, setup.key_id).seats_used == 0


def test_deactivate_installation_of_another_account_is_not_found(setup):
    kit = setup.kit
    result = activate(kit, invite(setup))
    other_admin, other = make_business_account(kit, admin_email="olga@example.com", name="Other")

    with pytest.raises(InstallationNotFound):
        kit.deactivate_installation(other_admin, other.id, result.installation_id)


def test_list_installations_hides_deactivated_ones_unless_asked(setup):
    kit, admin, account_id, key_id = setup
    kept = activate(kit, invite(setup, "ann@example.com"), "mac-1")
    gone = activate(kit, invite(setup, "bob@example.com"), "mac-2")
    kit.deactivate_installation(admin, account_id, gone.installation_id)

    active = kit.list_installations(admin, account_id, key_id).items
    everything = kit.list_installations(admin, account_id, key_id, include_inactive=True).items

    assert [i.id for i in active] == [kept.installation_id]
    assert [i.id for i in everything] == [kept.installation_id, gone.installation_id]


def test_list_installations_pages_with_a_cursor(kit):
    setup = _setup(kit, seats=10)
    invited = invite(setup, max_activations=5)
    made = [activate(kit, invited, f"mac-{n}").installation_id for n in range(5)]
    admin, account_id, key_id = setup.admin, setup.account_id, setup.key_id

    pages = []
    cursor = None
    while True:
        page = kit.list_installations(admin, account_id, key_id, limit=2, cursor=cursor)
        pages.append([i.id for i in page.items])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert pages == [made[0:2], made[2:4], made[4:5]]


def test_list_installations_refuses_a_foreign_cursor(setup):
    kit, admin, account_id, key_id = setup

    with pytest.raises(InvalidCursor):
        kit.list_installations(admin, account_id, key_id, cursor="key_0000")


def test_list_installations_by_a_regular_member_is_refused(setup):
    kit, admin, account_id, key_id = setup
    member = add_member(kit, admin, account_id, "rita@example.com")

    with pytest.raises(PermissionDenied):
        kit.list_installations(member, account_id, key_id)


def _race(calls) -> list[object]:
    """Run *calls* in threads released together; return each result or licensekit error."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index, call):
        barrier.wait(timeout=10)
        try:
            results[index] = call()
        except LicenseKitError as e:
            results[index] = e

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so the races interleave
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        sys.setswitchinterval(before)
    return results


@pytest.mark.parametrize("round_", range(5))
def test_racing_activations_never_take_more_seats_than_the_key_has(round_):
    kit = new_kit()
    setup = _setup(kit, seats=3)
    shared = invite(setup, "team@example.com", max_activations=10)

    results = _race([lambda n=n: activate(kit, shared, f"mac-{n}") for n in range(8)])

    assert sum(isinstance(r, ActivationResult) for r in results) == 3
    assert all(isinstance(r, (ActivationResult, SeatsFull)) for r in results)
    key = kit.get_license_key(setup.admin, setup.account_id, setup.key_id)
    assert key.seats_used == 3
    assert len(kit.list_installations(setup.admin, setup.account_id, setup.key_id).items) == 3


@pytest.mark.parametrize("round_", range(5))
def test_racing_activations_of_one_computer_take_one_seat(round_):
    kit = new_kit()
    setup = _setup(kit, seats=3)
    invited = invite(setup)

    results = _race([lambda: activate(kit, invited, "mac-1") for _ in range(6)])

    assert all(isinstance(r, ActivationResult) for r in results)
    assert [r.already_active for r in results].count(False) == 1
    assert kit.get_license_key(setup.admin, setup.account_id, setup.key_id).seats_used == 1


# == throttling =============================================================================


def _throttled(**policies: ThrottlePolicy) -> Setup:
    return _setup(new_kit(**policies))


def test_many_unknown_codes_from_one_client_lock_that_client_out_of_unknown_codes():
    policy = ThrottlePolicy(max_failures=3, lockout=dt.timedelta(minutes=10))
    setup = _throttled(activation_client_throttle=policy)
    kit = setup.kit
    invited = invite(setup)

    for _ in range(3):
        with pytest.raises(ActivationCodeNotFound):
            kit.activate(computer_id="mac-1", code=new_activation_code(), client="10.0.0.9")
    with pytest.raises(TooManyAttempts) as locked:
        kit.activate(computer_id="mac-1", code=new_activation_code(), client="10.0.0.9")

    assert locked.value.until == kit.clock.now() + dt.timedelta(minutes=10)
    # A valid code still activates; another client is not affected, and the lock ends.
    assert kit.activate(computer_id="mac-1", code=invited.code, client="10.0.0.9").email
    with pytest.raises(ActivationCodeNotFound):
        kit.activate(computer_id="mac-2", code=new_activation_code(), client="10.0.0.7")
    kit.clock.advance(minutes=11)
    with pytest.raises(ActivationCodeNotFound):
        kit.activate(computer_id="mac-2", code=new_activation_code(), client="10.0.0.9")


def _throttle_keys(kit: LicenseKitForTests) -> set[str]:
    return {r.key for r in kit.store.dump() if type(r).__name__ == "Throttle"}


def test_unknown_installation_tokens_lock_the_clients_unknown_check_ins_in_their_own_bucket():
    setup = _throttled(activation_client_throttle=ThrottlePolicy(max_failures=2))
    kit = setup.kit
    result = activate(kit, invite(setup))

    for _ in range(2):
        with pytest.raises(InstallationNotFound):
            kit.check_in("forged", client="10.0.0.9")

    with pytest.raises(TooManyAttempts, match="installation tokens"):
        kit.check_in("forged-again", client="10.0.0.9")
    # A known token always passes, even from the locked client.
    assert kit.check_in(result.installation_token, client="10.0.0.9").installation.id == (
        result.installation_id
    )
    assert kit.check_in(result.installation_token).installation.id == result.installation_id
    assert kit.check_in(result.installation_token, client="10.0.0.7").installation.id == (
        result.installation_id
    )
    assert "check-in:client:10.0.0.9" in _throttle_keys(kit)
    assert "activation:client:10.0.0.9" not in _throttle_keys(kit)


def test_stale_installation_tokens_never_lock_activations_from_that_client():
    setup = _throttled(activation_client_throttle=ThrottlePolicy(max_failures=2))
    kit = setup.kit
    ann = invite(setup, "ann@example.com")
    stale = activate(kit, ann, "mac-1", client="10.0.0.9")
    current = activate(kit, ann, "mac-1", client="10.0.0.9")  # replaces the token
    for _ in range(2):
        with pytest.raises(InstallationNotFound):
            kit.check_in(stale.installation_token, client="10.0.0.9")
    with pytest.raises(TooManyAttempts):
        kit.check_in(stale.installation_token, client="10.0.0.9")
    assert kit.check_in(current.installation_token, client="10.0.0.9").installation.status is (
        InstallationStatus.ACTIVE
    )

    fresh = invite(setup, "bob@example.com")
    assert kit.describe_install_invitation(fresh.token, client="10.0.0.9").email == (
        "bob@example.com"
    )
    assert activate(kit, fresh, "mac-2", client="10.0.0.9").email == "bob@example.com"
    assert kit.check_in(current.installation_token).installation.status is InstallationStatus.ACTIVE
    assert activate(kit, ann, "mac-1", client="10.0.0.9").already_active is True


def test_unknown_activation_codes_never_lock_check_ins_from_that_client():
    setup = _throttled(activation_client_throttle=ThrottlePolicy(max_failures=2))
    kit = setup.kit
    result = activate(kit, invite(setup), "mac-1", client="10.0.0.9")
    for _ in range(2):
        with pytest.raises(ActivationCodeNotFound):
            kit.activate(computer_id="x", code=new_activation_code(), client="10.0.0.9")
    with pytest.raises(TooManyAttempts):
        kit.activate(computer_id="x", code=new_activation_code(), client="10.0.0.9")

    assert kit.check_in(result.installation_token, client="10.0.0.9").installation.status is (
        InstallationStatus.ACTIVE
    )


def test_the_overall_check_in_limit_is_separate_from_the_activation_one():
    policy = ThrottlePolicy(max_failures=2, lockout=dt.timedelta(minutes=5))
    setup = _throttled(activation_overall_throttle=policy)
    kit = setup.kit
    result = activate(kit, invite(setup))

    for n in range(2):
        with pytest.raises(InstallationNotFound):
            kit.check_in(f"forged-{n}", client=f"10.0.0.{n}")
    with pytest.raises(TooManyAttempts):
        kit.check_in("forged-again", client="10.0.0.50")

    with pytest.raises(ActivationCodeNotFound):
        kit.activate(computer_id="x", code=new_activation_code(), client="10.0.0.50")
    assert kit.check_in(result.installation_token).installation.status is InstallationStatus.ACTIVE
    assert {"check-in:*", "activation:*"} <= _throttle_keys(kit)


@pytest.mark.parametrize("client", [None, 42, b"10.0.0.9"])
def test_check_in_refuses_a_client_that_is_not_text(setup, client):
    result = activate(setup.kit, invite(setup))

    with pytest.raises(ValidationError, match="client"):
        setup.kit.check_in(result.installation_token, client=client)


def test_refused_activations_of_one_code_lock_that_code_for_a_while():
    policy = ThrottlePolicy(max_failures=3, lockout=dt.timedelta(minutes=30))
    setup = _setup(new_kit(activation_invitation_throttle=policy), seats=5)
    kit = setup.kit
    shared = invite(setup, "team@example.com")
    activate(kit, shared, "mac-1")
    for n in range(3):
        with pytest.raises(ActivationCodeUsedUp):
            activate(kit, shared, f"mac-{n + 2}")

    with pytest.raises(TooManyAttempts) as locked:
        activate(kit, shared, "mac-2")
    with pytest.raises(TooManyAttempts):
        kit.activate(computer_id="mac-2", token=shared.token)

    assert locked.value.until == kit.clock.now() + dt.timedelta(minutes=30)
    # Only that code is locked: another invitation's code still activates.
    assert activate(kit, invite(setup, "bob@example.com"), "mac-9").email == "bob@example.com"
    kit.clock.advance(minutes=31)
    with pytest.raises(ActivationCodeUsedUp):
        activate(kit, shared, "mac-2")


@pytest.mark.parametrize("refusal", ["revoked", "expired", "wrong-product", "used-up"])
def test_refusals_for_the_codes_own_sake_count_towards_its_lock(refusal):
    policy = ThrottlePolicy(max_failures=3, lockout=dt.timedelta(minutes=30))
    setup = _setup(new_kit(activation_invitation_throttle=policy), seats=5)
    kit, admin, account_id, _ = setup
    code = invite(
        setup,
        "team@example.com",
        max_activations=1 if refusal == "used-up" else 5,
        expires_in="1d",
    )
    computer = "mac-1"
    if refusal == "revoked":
        kit.revoke_install_invitation(admin, account_id, code.view.id)
    elif refusal == "expired":
        kit.clock.advance(days=1)
    elif refusal == "used-up":
        activate(kit, code, "mac-0")
    options = {"product": "Another product"} if refusal == "wrong-product" else {}

    for _ in range(3):
        with pytest.raises(ActivationError):
            activate(kit, code, computer, **options)

    with pytest.raises(TooManyAttempts):
        activate(kit, code, "mac-new", **options)


@pytest.mark.parametrize("refusal", ["blocked", "already-activated"])
def test_one_computer_retrying_a_shared_code_never_locks_it_for_the_others(refusal):
    """A blocked or already activated computer is not the code's fault: 30 refusals of it
    leave the code usable by a new computer."""
    policy = ThrottlePolicy(max_failures=3, lockout=dt.timedelta(minutes=30))
    setup = _setup(new_kit(activation_invitation_throttle=policy), seats=5)
    kit, admin, account_id, _ = setup
    shared = invite(setup, "team@example.com", max_activations=5)
    held = activate(kit, invite(setup, "ann@example.com"), "mac-1")
    expected: type[ActivationError] = ComputerAlreadyActivated
    if refusal == "blocked":
        kit.block_computer(admin, account_id, held.installation_id)
        expected = ComputerBlocked

    for _ in range(30):
        with pytest.raises(expected):
            activate(kit, shared, "mac-1")

    assert not any(k.startswith("activation:invitation:") for k in _throttle_keys(kit))
    assert activate(kit, shared, "mac-new").email == "team@example.com"
    refusals = [e for e in audit(setup) if e.action is AuditAction.ACTIVATION_REFUSED]
    assert len(refusals) == 30
    assert {e.details["reason"] for e in refusals} == {expected.__name__}


@pytest.mark.parametrize("refusal", ["blocked", "already-activated"])
def test_a_used_up_code_on_a_blocked_or_activated_computer_says_used_up_and_counts(refusal):
    """Used up comes first, so the refusal is the code's fault and counts towards its lock."""
    policy = ThrottlePolicy(max_failures=3, lockout=dt.timedelta(minutes=30))
    setup = _setup(new_kit(activation_invitation_throttle=policy), seats=5)
    kit, admin, account_id, _ = setup
    used_up = invite(setup, "team@example.com")
    activate(kit, used_up, "mac-0")
    held = activate(kit, invite(setup, "ann@example.com"), "mac-1")
    if refusal == "blocked":
        kit.block_computer(admin, account_id, held.installation_id)

    for _ in range(3):
        with pytest.raises(ActivationCodeUsedUp):
            activate(kit, used_up, "mac-1")

    with pytest.raises(TooManyAttempts):
        activate(kit, used_up, "mac-1")
    refusals = [e for e in audit(setup) if e.action is AuditAction.ACTIVATION_REFUSED]
    assert [e.details["reason"] for e in refusals] == ["ActivationCodeUsedUp"] * 3


def test_full_seats_never_lock_a_code_an_installer_keeps_retrying():
    setup = _setup(new_kit(), seats=1)
    kit, admin, account_id, _ = setup
    holder = activate(kit, invite(setup, "ann@example.com"), "mac-1")
    waiting = invite(setup, "bob@example.com")
    for _ in range(50):
        with pytest.raises(SeatsFull):
            activate(kit, waiting, "mac-2")

    kit.deactivate_installation(admin, account_id, holder.installation_id)

    assert activate(kit, waiting, "mac-2").email == "bob@example.com"
    refusals = [e for e in audit(setup) if e.action is AuditAction.ACTIVATION_REFUSED]
    assert len(refusals) == 50
    assert {e.details["reason"] for e in refusals} == {"SeatsFull"}


def test_an_unavailable_key_never_locks_a_code_an_installer_keeps_retrying():
    policy = ThrottlePolicy(max_failures=3)
    setup = _setup(new_kit(activation_invitation_throttle=policy))
    kit, admin, account_id, key_id = setup
    waiting = invite(setup)
    kit.suspend_license_key(admin, account_id, key_id)
    for _ in range(10):
        with pytest.raises(LicenseKeyUnavailable):
            activate(kit, waiting, "mac-1")

    kit.resume_license_key(admin, account_id, key_id)

    assert activate(kit, waiting, "mac-1").already_active is False


def test_a_locked_code_still_lets_its_returning_computer_activate():
    policy = ThrottlePolicy(max_failures=3, lockout=dt.timedelta(minutes=30))
    setup = _setup(new_kit(activation_invitation_throttle=policy))
    kit = setup.kit
    shared = invite(setup, "team@example.com")
    first = activate(kit, shared, "mac-1")
    for n in range(3):
        with pytest.raises(ActivationCodeUsedUp):
            activate(kit, shared, f"stranger-{n}")
    with pytest.raises(TooManyAttempts):
        activate(kit, shared, "stranger-9")

    again = activate(kit, shared, "mac-1")

    assert (again.installation_id, again.already_active) == (first.installation_id, True)
    assert kit.check_in(again.installation_token).installation.status is InstallationStatus.ACTIVE


def test_a_success_while_the_code_is_locked_leaves_the_lock():
    """A returning computer's success clears a count, never a lock."""
    policy = ThrottlePolicy(max_failures=3, lockout=dt.timedelta(minutes=30))
    setup = _setup(new_kit(activation_invitation_throttle=policy))
    kit = setup.kit
    shared = invite(setup, "team@example.com")
    activate(kit, shared, "mac-1")
    for n in range(3):
        with pytest.raises(ActivationCodeUsedUp):
            activate(kit, shared, f"stranger-{n}")
    with pytest.raises(TooManyAttempts) as before:
        activate(kit, shared, "stranger-9")
    (lock,) = [
        r for r in kit.store.dump() if getattr(r, "key", "").startswith("activation:invitation:")
    ]

    kit.clock.advance(minutes=10)
    assert activate(kit, shared, "mac-1").already_active

    assert lock in kit.store.dump()
    with pytest.raises(TooManyAttempts) as after:
        activate(kit, shared, "stranger-9")
    assert after.value.until == before.value.until
    # Once the lock has ended, the next success clears the record.
    kit.clock.advance(minutes=21)
    assert lock.key in _throttle_keys(kit)
    assert activate(kit, shared, "mac-1").already_active
    assert not any(k.startswith("activation:invitation:") for k in _throttle_keys(kit))


def test_a_success_clears_the_codes_refusal_count():
    policy = ThrottlePolicy(max_failures=3, lockout=dt.timedelta(minutes=30))
    setup = _setup(new_kit(activation_invitation_throttle=policy))
    kit = setup.kit
    shared = invite(setup, "team@example.com", max_activations=3)
    for _ in range(2):
        with pytest.raises(ActivationCodeWrongProduct):
            activate(kit, shared, "mac-1", product="Another product")

    activate(kit, shared, "mac-1")

    for _ in range(2):
        with pytest.raises(ActivationCodeWrongProduct):
            activate(kit, shared, "mac-2", product="Another product")
    assert activate(kit, shared, "mac-2").already_active is False
    assert not any(k.startswith("activation:invitation:") for k in _throttle_keys(kit))


def test_the_overall_throttle_refuses_unknown_codes_but_never_a_valid_one():
    policy = ThrottlePolicy(max_failures=2, lockout=dt.timedelta(minutes=5))
    setup = _throttled(activation_overall_throttle=policy)
    kit = setup.kit
    by_code = invite(setup, "ann@example.com")
    by_token = invite(setup, "bob@example.com")

    for n in range(2):
        with pytest.raises(ActivationCodeNotFound):
            kit.activate(computer_id="x", code=new_activation_code(), client=f"10.0.0.{n}")
    with pytest.raises(TooManyAttempts):
        kit.activate(computer_id="x", code=new_activation_code(), client="10.0.0.50")

    assert kit.activate(computer_id="mac-1", code=by_code.code, client="10.0.0.50").email == (
        "ann@example.com"
    )
    assert kit.activate(computer_id="mac-2", token=by_token.token).email == "bob@example.com"


def test_mistyped_codes_are_caught_before_any_look_up_and_never_lock_a_client():
    setup = _throttled(activation_client_throttle=ThrottlePolicy(max_failures=2))
    kit = setup.kit
    invited = invite(setup)

    for _ in range(5):
        with pytest.raises(ActivationCodeMistyped):
            kit.activate(computer_id="mac-1", code=mistype(invited.code), client="10.0.0.9")

    assert kit.activate(computer_id="mac-1", code=invited.code, client="10.0.0.9").email


# == audit trail ============================================================================


def test_every_licensing_action_lands_in_the_audit_trail(kit):
    setup = _setup(kit, seats=1)
    admin, account_id, key_id = setup.admin, setup.account_id, setup.key_id
    member = add_member(kit, admin, account_id, "lena@example.com")
    kit.grant_license_administrator(admin, account_id, member.user_id, key_id)
    kit.revoke_license_administrator(admin, account_id, member.user_id, key_id)
    kit.change_license_key(admin, account_id, key_id, seats=2)
    kit.suspend_license_key(admin, account_id, key_id)
    kit.resume_license_key(admin, account_id, key_id)
    ann = invite(setup, "ann@example.com")
    kit.export_install_invitations(admin, account_id, key_id)
    result = activate(kit, ann, "mac-1")
    with pytest.raises(ActivationCodeUsedUp):
        activate(kit, ann, "mac-2")
    kit.deactivate_installation(admin, account_id, result.installation_id)
    again = activate(kit, invite(setup, "ann.again@example.com"), "mac-1")
    kit.block_computer(admin, account_id, result.installation_id)
    kit.unblock_computer(admin, account_id, "mac-1")
    kit.check_in(again.installation_token)  # the product learns it was deactivated
    kit.change_license_key(admin, account_id, key_id, dead_after=dt.timedelta(days=2))
    silent = activate(kit, invite(setup, "sam@example.com"), "mac-9")
    kit.clock.advance(days=2)
    assert kit.cull_installations().culled == 1
    assert kit.check_in(silent.installation_token).returned
    revoked = invite(setup, "rob@example.com")
    kit.revoke_install_invitation(admin, account_id, revoked.view.id)
    kit.mailer.fail_for.add("nobody@example.com")
    kit.invite_installers(admin, account_id, key_id, ["nobody@example.com"])
    key = kit.add_license_key(admin, account_id, product="Other", value=OTHER_VALUE, seats=1)
    kit.remove_license_key(admin, account_id, key.id)
    # Additional keys, and grants over every key.
    primary = kit.add_license_key(admin, account_id, product="Pool", value="POOL-0001", seats=1)
    soon = kit.clock.now() + dt.timedelta(hours=1)
    kit.add_additional_key(
        admin,
        account_id,
        primary.id,
        value="POOL-X-1",
        seats=1,
        seat_pool="reserved",
        expires_at=soon,
    )
    kit.clock.advance(hours=2)
    kit.invite_installers(admin, account_id, primary.id, ["pat@example.com"])
    kit.activate(code=kit.mailer.last(to="pat@example.com").data["code"], computer_id="pool-1")
    kit.grant_key_rights(admin, account_id, member.user_id, all_keys=True)
    kit.revoke_key_rights(admin, account_id, member.user_id, all_keys=True)
    # Moving installations, and replacing a key.
    leaving, joining = (
        kit.add_license_key(admin, account_id, product="Mover", value=value, seats=1).id
        for value in ("MOVER-0001", "MOVER-0002")
    )
    kit.invite_installers(admin, account_id, leaving, ["mo@example.com"])
    kit.activate(code=kit.mailer.last(to="mo@example.com").data["code"], computer_id="mover-1")
    kit.move_installations(admin, account_id, leaving, joining)
    kit.replace_license_key(admin, account_id, joining, value="MOVER-0003")
    # The computer list.
    kit.edit_installation(admin, account_id, again.installation_id, notes="front desk")
    kit.export_installations(admin, account_id)

    recorded = set(actions(setup))

    licensing_actions = {
        AuditAction.LICENSE_KEY_ADDED,
        AuditAction.LICENSE_KEY_CHANGED,
        AuditAction.LICENSE_KEY_SUSPENDED,
        AuditAction.LICENSE_KEY_RESUMED,
        AuditAction.LICENSE_KEY_REMOVED,
        AuditAction.LICENSE_KEY_REPLACED,
        AuditAction.LICENSE_ADMIN_GRANTED,
        AuditAction.LICENSE_ADMIN_REVOKED,
        AuditAction.ADDITIONAL_KEY_ADDED,
        AuditAction.LICENSE_KEY_RELEASED,
        AuditAction.LICENSE_ADMIN_GRANTED_ALL,
        AuditAction.LICENSE_ADMIN_REVOKED_ALL,
        AuditAction.INSTALL_INVITATION_CREATED,
        AuditAction.INSTALL_INVITATION_SENT,
        AuditAction.INSTALL_INVITATION_UNDELIVERED,
        AuditAction.INSTALL_INVITATION_REVOKED,
        AuditAction.INSTALL_INVITATIONS_EXPORTED,
        AuditAction.ACTIVATED,
        AuditAction.ACTIVATION_REFUSED,
        AuditAction.DEACTIVATED,
        AuditAction.CULLED,
        AuditAction.RETURNED,
        AuditAction.STATE_SEEN,
        AuditAction.INSTALLATIONS_MOVED,
        AuditAction.INSTALLATION_EDITED,
        AuditAction.INSTALLATIONS_EXPORTED,
        AuditAction.COMPUTER_BLOCKED,
        AuditAction.COMPUTER_UNBLOCKED,
    }
    assert licensing_actions <= recorded
    prefixes = {"license_key", "license_admin", "install_invitation", "installation", "computer"}
    assert {a for a in AuditAction if a.value.split(".")[0] in prefixes} == licensing_actions


def test_activation_events_have_no_actor_and_name_the_computer(setup):
    kit = setup.kit
    invited = invite(setup)
    result = kit.activate(computer_id="mac-1", code=invited.code, computer_name="Ann's Mac")

    event = audit(setup)[-1]

    assert (event.action, event.actor_id, event.subject) == (
        AuditAction.ACTIVATED,
        "",
        result.installation_id,
    )
    assert event.details["computer_id"] == "mac-1"
    assert event.details["computer_name"] == "Ann's Mac"
    assert event.details["invitation_id"] == invited.view.id
    assert event.details["seat_taken"] == "yes"


@pytest.mark.parametrize(
    ("refuse", "error"),
    [("revoke", ActivationCodeRevoked), ("suspend", LicenseKeyUnavailable)],
)
def test_a_refused_activation_is_audited_with_its_reason(setup, refuse, error):
    kit, admin, account_id, key_id = setup
    invited = invite(setup)
    if refuse == "revoke":
        kit.revoke_install_invitation(admin, account_id, invited.view.id)
    else:
        kit.suspend_license_key(admin, account_id, key_id)

    with pytest.raises(error):
        activate(kit, invited, "mac-7")

    event = audit(setup)[-1]
    assert (event.action, event.subject) == (AuditAction.ACTIVATION_REFUSED, invited.view.id)
    assert event.details["reason"] == error.__name__
    assert event.details["computer_id"] == "mac-7"
    assert event.actor_id == ""


def test_an_unknown_code_leaves_no_audit_event(setup):
    kit = setup.kit
    before = audit(setup)

    with pytest.raises(ActivationCodeNotFound):
        kit.activate(computer_id="mac-1", code=new_activation_code())

    assert audit(setup) == before


def test_no_audit_event_contains_the_key_value(setup):
    kit, admin, account_id, key_id = setup
    activate(kit, invite(setup))
    kit.export_install_invitations(admin, account_id, key_id, include_unusable=True)

    for event in audit(setup):
        for text in (event.subject, *event.details.values()):
            for form in key_value_forms():
                assert form not in text


# -- follow-ups from review ------------------------------------------------------------------


def test_an_account_administrators_block_deactivates_the_computer_under_every_key(
    setup: Setup,
) -> None:
    kit, admin, account_id, key_id = setup
    other = second_key(setup)
    first = activate(kit, invite(setup, "ann@example.com"), "mac-1")
    activate(kit, invite(setup, "ann2@example.com", key_id=other), "mac-1")
    kit.block_computer(admin, account_id, first.installation_id)
    for key in (key_id, other):
        assert kit.get_license_key(admin, account_id, key).seats_used == 0
        assert kit.list_installations(admin, account_id, key).items == ()


def test_a_license_administrators_block_deactivates_only_the_blocked_installation(
    setup: Setup,
) -> None:
    kit, admin, account_id, key_id = setup
    other = second_key(setup)
    lena = license_admin(setup)
    kit.grant_license_administrator(admin, account_id, lena.user_id, other)
    first = activate(kit, invite(setup, "ann@example.com"), "mac-1")
    activate(kit, invite(setup, "ann2@example.com", key_id=other), "mac-1")
    kit.block_computer(lena, account_id, first.installation_id)
    assert kit.get_license_key(admin, account_id, key_id).seats_used == 0
    assert kit.get_license_key(admin, account_id, other).seats_used == 1


def test_a_regular_member_cannot_learn_which_computers_are_blocked(setup: Setup) -> None:
    kit, admin, account_id, key_id = setup
    lena = license_admin(setup)
    first = activate(kit, invite(setup), "mac-1")
    kit.block_computer(admin, account_id, first.installation_id)
    second = activate(kit, invite(setup, "bob@example.com"), "mac-2")
    kit.block_computer(lena, account_id, second.installation_id)
    member = add_member(kit, admin, account_id, "rita@example.com")
    for computer in ("mac-1", "mac-2", "never-seen"):
        with pytest.raises(PermissionDenied):
            kit.unblock_computer(member, account_id, computer)
        with pytest.raises(PermissionDenied):
            kit.unblock_computer(member, account_id, computer, key_id=key_id)
    with pytest.raises(PermissionDenied):
        kit.list_blocked_computers(member, account_id)


@pytest.mark.parametrize("name", ["users.csv", "USERS.CSV", " Users.Csv ", "C:/exports/all.CSV"])
def test_a_csv_file_name_given_as_text_is_refused_with_a_hint(setup: Setup, name: str) -> None:
    kit, admin, account_id, key_id = setup
    with pytest.raises(ValidationError, match=r"pathlib\.Path"):
        kit.invite_installers(admin, account_id, key_id, csv=name)
    assert kit.list_install_invitations(admin, account_id, key_id).items == ()


def test_sending_later_names_the_invitations_creator_not_the_sender(setup: Setup) -> None:
    kit, admin, account_id, key_id = setup
    lena = license_admin(setup)
    kit.invite_installers(lena, account_id, key_id, ["ann@example.com"], send=False)
    kit.send_install_invitations(admin, account_id, key_id)
    message = kit.mailer.last(to="ann@example.com", kind=MessageKind.INSTALL_INVITATION)
    assert message.data["inviter_email"] == "lena@example.com"


def test_re_adding_a_removed_key_names_the_removed_key_and_suggests_resuming_it(
    setup: Setup,
) -> None:
    kit, admin, account_id, key_id = setup
    kit.remove_license_key(admin, account_id, key_id)
    with pytest.raises(DuplicateLicenseKey, match=rf"{key_id}.*removed.*; resume it instead$"):
        kit.add_license_key(admin, account_id, product=PRODUCT, value=KEY_VALUE, seats=1)
    assert kit.list_license_keys(admin, account_id, include_removed=True).items[0].id == key_id


def test_re_adding_a_suspended_key_names_it_without_the_resume_hint(setup: Setup) -> None:
    kit, admin, account_id, key_id = setup
    kit.suspend_license_key(admin, account_id, key_id)
    with pytest.raises(DuplicateLicenseKey, match=rf"{key_id}.*\(suspended\)$"):
        kit.add_license_key(admin, account_id, product=PRODUCT, value=KEY_VALUE, seats=1)


def test_grants_leave_the_members_last_change_and_notes_alone(setup: Setup) -> None:
    kit, admin, account_id, key_id = setup
    member = add_member(kit, admin, account_id, "lena@example.com")
    boss = add_member(kit, admin, account_id, "boss@example.com", role=Role.ACCOUNT_ADMINISTRATOR)
    kit.change_role(admin, account_id, member.user_id, Role.ACCOUNT_ADMINISTRATOR)
    kit.change_role(admin, account_id, member.user_id, Role.REGULAR_MEMBER, notes="back to work")
    before = kit.get_member(admin, account_id, member.user_id)
    kit.clock.advance(hours=1)

    granted = kit.grant_license_administrator(boss, account_id, member.user_id, key_id)
    kit.clock.advance(hours=1)
    revoked = kit.revoke_license_administrator(boss, account_id, member.user_id, key_id)

    for view in (granted, revoked, kit.get_member(admin, account_id, member.user_id)):
        assert (view.changed_by, view.updated_at, view.notes, view.role) == (
            admin.user_id,
            before.updated_at,
            "back to work",
            Role.REGULAR_MEMBER,
        )
    assert granted.license_keys == (key_id,)
    assert revoked.license_keys == ()
    events = [
        e
        for e in audit(setup)
        if e.action in (AuditAction.LICENSE_ADMIN_GRANTED, AuditAction.LICENSE_ADMIN_REVOKED)
    ]
    assert [(e.actor_id, e.subject, e.details["key_id"]) for e in events] == [
        (boss.user_id, member.user_id, key_id),
        (boss.user_id, member.user_id, key_id),
    ]


@pytest.mark.parametrize(
    "name", ["evil\u202e", "nul\x00byte", "\x1b[31mred", "zero\u200bwidth", "bell\x07"]
)
def test_activation_refuses_a_computer_name_with_control_or_format_characters(setup, name):
    kit, admin, account_id, key_id = setup
    invited = invite(setup)

    with pytest.raises(ValidationError, match="computer_name"):
        activate(kit, invited, computer_name=name)

    assert kit.get_license_key(admin, account_id, key_id).seats_used == 0
    assert kit.list_installations(admin, account_id, key_id, include_inactive=True).items == ()
    assert actions(setup)[-1] is not AuditAction.ACTIVATION_REFUSED


@pytest.mark.parametrize("product", [f"{PRODUCT}\x00", f"\u202e{PRODUCT}", "Pro\x1bduct"])
def test_activation_refuses_a_product_with_control_or_format_characters(setup, product):
    kit, admin, account_id, key_id = setup

    with pytest.raises(ValidationError, match="product"):
        activate(kit, invite(setup), product=product)

    assert kit.get_license_key(admin, account_id, key_id).seats_used == 0


@pytest.mark.parametrize("product", ["Parallels\x00Desktop", "Desktop\u202e", "\x1b[2JPro"])
def test_add_license_key_refuses_a_product_with_control_or_format_characters(setup, product):
    kit, admin, account_id, _ = setup

    with pytest.raises(ValidationError, match="product"):
        kit.add_license_key(admin, account_id, product=product, value=OTHER_VALUE, seats=1)

    assert len(kit.list_license_keys(admin, account_id).items) == 1


def test_names_keep_printable_unicode_and_fold_unusual_spaces(setup):
    kit, admin, account_id, _ = setup
    key = kit.add_license_key(
        admin, account_id, product="Démo\u00a0Studio 日本語", value=OTHER_VALUE, seats=1
    )
    invited = invite(setup, key_id=key.id)

    result = activate(kit, invited, computer_name="Zoë\u2019s\u3000MacBook\tPro")

    assert key.product == "Démo Studio 日本語"
    (view,) = kit.list_installations(admin, account_id, key.id).items
    assert (result.product, view.computer_name) == ("Démo Studio 日本語", "Zoë\u2019s MacBook Pro")


def test_emoji_sequences_with_joiners_are_kept_in_a_computer_name(setup):
    """Joiners glue emoji together; unlike direction overrides they disguise nothing."""
    kit, admin, account_id, key_id = setup
    family = "Family \U0001f468\u200d\U0001f469\u200d\U0001f467 Mac"

    activate(kit, invite(setup), computer_name=family)

    (view,) = kit.list_installations(admin, account_id, key_id).items
    assert view.computer_name == family


class TestDescribeInstallInvitation:
    def test_a_download_link_tells_the_product_and_the_invitee(self, setup: Setup) -> None:
        kit = setup.kit
        invited = invite(setup, max_activations=2)
        page = kit.describe_install_invitation(invited.token)
        assert (page.product, page.email, page.account_name) == (
            PRODUCT,
            "ann@example.com",
            "Acme Ltd",
        )
        assert page.activations_left == 2
        assert page.invitation_id == invited.view.id

    def test_describing_activates_nothing(self, setup: Setup) -> None:
        kit, admin, account_id, key_id = setup
        kit.describe_install_invitation(invite(setup).token)
        assert kit.get_license_key(admin, account_id, key_id).seats_used == 0

    def test_an_unknown_link_is_refused(self, kit: LicenseKitForTests) -> None:
        with pytest.raises(ActivationCodeNotFound):
            kit.describe_install_invitation("no-such-token")

    @pytest.mark.parametrize("token", [None, 42, b"token", ["token"]])
    def test_a_token_that_is_not_text_is_not_found(self, setup: Setup, token: object) -> None:
        with pytest.raises(ActivationCodeNotFound):
            setup.kit.describe_install_invitation(token)

    @pytest.mark.parametrize("status", ["suspended", "removed", "expired"])
    def test_a_link_to_a_key_that_cannot_activate_is_unavailable_until_it_can(
        self, setup: Setup, status: str
    ) -> None:
        kit = setup.kit
        invited = invite(setup, expires_in="7d")
        _make_key_unusable(setup, status)

        with pytest.raises(LicenseKeyUnavailable, match=status):
            kit.describe_install_invitation(invited.token)

        _make_key_usable_again(setup, status)
        assert kit.describe_install_invitation(invited.token).invitation_id == invited.view.id

    def test_a_revoked_or_expired_link_says_so(self, setup: Setup) -> None:
        kit, admin, account_id, _ = setup
        revoked = invite(setup, "ann@example.com")
        kit.revoke_install_invitation(admin, account_id, revoked.view.id)
        with pytest.raises(ActivationCodeRevoked):
            kit.describe_install_invitation(revoked.token)
        expiring = invite(setup, "bob@example.com", expires_in="1d")
        kit.clock.advance(days=2)
        with pytest.raises(ActivationCodeExpired):
            kit.describe_install_invitation(expiring.token)

    def test_unknown_links_count_towards_the_client_lock(self) -> None:
        kit = new_kit(activation_client_throttle=ThrottlePolicy(max_failures=2))
        setup = _setup(kit)
        invited = invite(setup)
        for _ in range(2):
            with pytest.raises(ActivationCodeNotFound):
                kit.describe_install_invitation("guess", client="10.0.0.9")
        with pytest.raises(TooManyAttempts):
            kit.describe_install_invitation("guess", client="10.0.0.9")
        assert kit.describe_install_invitation(invited.token, client="10.0.0.9").email


# == second review: typed address lists, CSV file objects, ids of the wrong type ============


class _Pulled:
    """An endless iterable that counts the entries taken from it."""

    def __init__(self, make=lambda n: f"u{n}@example.com") -> None:
        self.make = make
        self.taken = 0

    def __iter__(self) -> Iterator[object]:
        while True:
            self.taken += 1
            yield self.make(self.taken)


@pytest.mark.parametrize(
    ("emails", "type_name"),
    [
        (123, "int"),
        (4.5, "float"),
        (object(), "object"),
        ("ann@example.com", "str"),
        (b"ann@example.com", "bytes"),
    ],
    ids=["int", "float", "object", "str", "bytes"],
)
def test_invite_installers_refuses_emails_that_are_not_a_collection(setup, emails, type_name):
    kit, admin, account_id, key_id = setup

    with pytest.raises(
        ValidationError, match=f"^emails must be a collection of addresses, not {type_name}$"
    ):
        kit.invite_installers(admin, account_id, key_id, emails)

    assert kit.list_install_invitations(admin, account_id, key_id).items == ()
    assert kit.mailer.sent == []


@pytest.mark.parametrize(
    "make",
    [lambda n: f"u{n}@example.com", lambda n: "not an address", lambda n: n],
    ids=["addresses", "invalid-text", "not-text"],
)
def test_invite_installers_stops_reading_an_endless_iterable_past_the_limit(make):
    setup = _setup(new_kit(max_batch_size=3))
    kit, admin, account_id, key_id = setup
    endless = _Pulled(make)

    with pytest.raises(ValidationError, match=r"^more than 3 addresses; the limit per call is 3$"):
        kit.invite_installers(admin, account_id, key_id, endless)

    assert endless.taken == 4
    assert kit.list_install_invitations(admin, account_id, key_id).items == ()
    assert kit.mailer.sent == []


def test_blank_entries_of_a_typed_list_do_not_count_towards_the_limit():
    setup = _setup(new_kit(max_batch_size=2))
    kit, admin, account_id, key_id = setup
    emails = ["", "  ", "ann@example.com", "\t", "", "bob@example.com", " "]

    batch = kit.invite_installers(admin, account_id, key_id, emails, send=False)

    assert [i.email for i in batch.invited] == ["ann@example.com", "bob@example.com"]
    with pytest.raises(ValidationError, match="more than 2 addresses"):
        kit.invite_installers(admin, account_id, key_id, [*emails, "", "cy@example.com"])


def test_a_typed_list_may_be_any_iterable_of_addresses(setup):
    kit, admin, account_id, key_id = setup
    emails = (f"{name}@example.com" for name in ("ann", "bob"))

    batch = kit.invite_installers(admin, account_id, key_id, emails, send=False)

    assert [i.email for i in batch.invited] == ["ann@example.com", "bob@example.com"]


@pytest.mark.parametrize("mode", ["closed-text", "closed-binary", "write-only", "latin-1"])
def test_invite_installers_refuses_an_unreadable_csv_file_object(setup, tmp_path, mode):
    kit, admin, account_id, key_id = setup
    path = tmp_path / "users.csv"
    if mode == "latin-1":
        path.write_bytes("ann@example.com\njosé@example.com\n".encode("latin-1"))
    else:
        path.write_text("ann@example.com\n", encoding="utf-8")

    if mode == "closed-text":
        with open(path, encoding="utf-8") as handle:
            pass
        match = "cannot read the CSV file object"
    elif mode == "closed-binary":
        handle = io.BytesIO(b"ann@example.com\n")
        handle.close()
        match = "cannot read the CSV file object"
    elif mode == "write-only":
        handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed below
        match = "cannot read the CSV file object"
    else:
        handle = open(path, encoding="utf-8")  # noqa: SIM115 - closed below
        match = "not UTF-8"
    try:
        with pytest.raises(ValidationError, match=match):
            kit.invite_installers(admin, account_id, key_id, csv=handle)
    finally:
        handle.close()

    assert kit.list_install_invitations(admin, account_id, key_id).items == ()
    assert kit.mailer.sent == []


WRONG_TYPED_IDS = [None, 42, 4.5, ["x"], {"id": "x"}, object(), "bytes"]
"""Ids no use case may match; "bytes" stands for the real id encoded as bytes."""
WRONG_TYPED_ID_NAMES = ["None", "int", "float", "list", "dict", "object", "real-id-as-bytes"]


def _ids_of(value: object) -> str:
    return type(value).__name__


@pytest.fixture
def populated(setup: Setup) -> tuple[Setup, str, str, str]:
    """A key with one invitation and one installation; their real ids."""
    invited = invite(setup, max_activations=2)
    done = activate(setup.kit, invited)
    return setup, setup.key_id, invited.view.id, done.installation_id


def _stored(kit: LicenseKitForTests) -> list[object]:
    return [r for r in kit.store.dump() if type(r).__name__ != "Throttle"]


KEY_ID_USE_CASES = {
    "get_license_key": lambda k, s, a, key_id, user: k.get_license_key(s, a, key_id),
    "change_license_key": lambda k, s, a, key_id, user: k.change_license_key(s, a, key_id, seats=9),
    "suspend_license_key": lambda k, s, a, key_id, user: k.suspend_license_key(s, a, key_id),
    "resume_license_key": lambda k, s, a, key_id, user: k.resume_license_key(s, a, key_id),
    "remove_license_key": lambda k, s, a, key_id, user: k.remove_license_key(s, a, key_id),
    "grant_license_administrator": lambda k, s, a, key_id, user: k.grant_license_administrator(
        s, a, user, key_id
    ),
    "revoke_license_administrator": lambda k, s, a, key_id, user: k.revoke_license_administrator(
        s, a, user, key_id
    ),
    "invite_installers": lambda k, s, a, key_id, user: k.invite_installers(
        s, a, key_id, ["zed@example.com"]
    ),
    "list_install_invitations": lambda k, s, a, key_id, user: k.list_install_invitations(
        s, a, key_id
    ),
    "export_install_invitations": lambda k, s, a, key_id, user: k.export_install_invitations(
        s, a, key_id
    ),
    "send_install_invitations": lambda k, s, a, key_id, user: k.send_install_invitations(
        s, a, key_id
    ),
    "list_installations": lambda k, s, a, key_id, user: k.list_installations(s, a, key_id),
}


@pytest.mark.parametrize("use_case", list(KEY_ID_USE_CASES), ids=list(KEY_ID_USE_CASES))
@pytest.mark.parametrize("key_id", WRONG_TYPED_IDS, ids=WRONG_TYPED_ID_NAMES)
def test_a_key_id_of_the_wrong_type_matches_no_key(populated, use_case, key_id):
    (kit, admin, account_id, _), real_key_id, _, _ = populated
    user = add_member(kit, admin, account_id, "rita@example.com").user_id
    if key_id == "bytes":
        key_id = real_key_id.encode()
    before = _stored(kit)

    with pytest.raises(LicenseKeyNotFound, match="no license key"):
        KEY_ID_USE_CASES[use_case](kit, admin, account_id, key_id, user)

    assert _stored(kit) == before


@pytest.mark.parametrize("use_case", ["resend", "revoke"])
@pytest.mark.parametrize("invitation_id", WRONG_TYPED_IDS, ids=WRONG_TYPED_ID_NAMES)
def test_an_invitation_id_of_the_wrong_type_matches_no_invitation(
    populated, use_case, invitation_id
):
    (kit, admin, account_id, _), _, real_invitation_id, _ = populated
    if invitation_id == "bytes":
        invitation_id = real_invitation_id.encode()
    call = kit.resend_install_invitation if use_case == "resend" else kit.revoke_install_invitation
    before = _stored(kit)
    sent = len(kit.mailer.sent)

    with pytest.raises(InvitationNotFound, match="no invitation to install"):
        call(admin, account_id, invitation_id)

    assert _stored(kit) == before
    assert len(kit.mailer.sent) == sent


@pytest.mark.parametrize("use_case", ["deactivate", "block"])
@pytest.mark.parametrize("installation_id", WRONG_TYPED_IDS, ids=WRONG_TYPED_ID_NAMES)
def test_an_installation_id_of_the_wrong_type_matches_no_installation(
    populated, use_case, installation_id
):
    (kit, admin, account_id, _), _, _, real_installation_id = populated
    if installation_id == "bytes":
        installation_id = real_installation_id.encode()
    call = kit.deactivate_installation if use_case == "deactivate" else kit.block_computer
    before = _stored(kit)

    with pytest.raises(InstallationNotFound, match="no installation"):
        call(admin, account_id, installation_id)

    assert _stored(kit) == before


@pytest.mark.parametrize("key_id", [42, 4.5, b"key", ["x"], {"id": "x"}, object()], ids=_ids_of)
def test_unblock_computer_refuses_a_key_id_that_is_not_text(populated, key_id):
    (kit, admin, account_id, _), _, _, installation_id = populated
    kit.block_computer(admin, account_id, installation_id)
    before = _stored(kit)

    with pytest.raises(
        ValidationError, match=f"^key_id must be a key id or None, not {type(key_id).__name__}$"
    ):
        kit.unblock_computer(admin, account_id, "mac-1", key_id=key_id)

    assert _stored(kit) == before
    kit.unblock_computer(admin, account_id, "mac-1")  # the block is still there to lift


# == second review: resending order =========================================================


def test_resend_reports_a_used_up_invitation_before_its_expiry(setup):
    kit, admin, account_id, _ = setup
    invited = invite(setup, expires_in="1d")
    activate(kit, invited)
    kit.clock.advance(days=2)
    kit.mailer.clear()

    with pytest.raises(InvitationAlreadyAccepted, match="invite again for another computer"):
        kit.resend_install_invitation(admin, account_id, invited.view.id)

    assert kit.mailer.sent == []


def test_resend_reports_a_revoked_invitation_before_it_being_used_up_or_expired(setup):
    kit, admin, account_id, _ = setup
    invited = invite(setup, expires_in="1d")
    activate(kit, invited)
    kit.revoke_install_invitation(admin, account_id, invited.view.id)
    kit.clock.advance(days=2)
    kit.mailer.clear()

    with pytest.raises(InvitationRevoked):
        kit.resend_install_invitation(admin, account_id, invited.view.id)

    assert kit.mailer.sent == []


# == second review: check-ins of known tokens always pass ===================================


def _lock_check_ins(kit: LicenseKitForTests, client: str, failures: int) -> None:
    for n in range(failures):
        with pytest.raises(InstallationNotFound):
            kit.check_in(f"forged-{n}", client=client)
    with pytest.raises(TooManyAttempts, match="installation tokens"):
        kit.check_in("forged-again", client=client)


def test_a_known_installation_token_checks_in_while_its_client_is_locked():
    policy = ThrottlePolicy(max_failures=2, lockout=dt.timedelta(minutes=10))
    setup = _throttled(activation_client_throttle=policy)
    kit = setup.kit
    result = activate(kit, invite(setup), "mac-1", client="10.0.0.9")
    _lock_check_ins(kit, "10.0.0.9", 2)
    locks = {
        k: t.locked_until
        for k, t in ((r.key, r) for r in kit.store.dump() if type(r).__name__ == "Throttle")
    }
    kit.clock.advance(minutes=3)

    view = kit.check_in(result.installation_token, client="10.0.0.9").installation

    assert (view.id, view.status, view.last_seen_at) == (
        result.installation_id,
        InstallationStatus.ACTIVE,
        result.activated_at,  # seen 3 minutes ago: not written again so soon
    )
    # The success lifts no lock: unknown tokens from that client are still refused.
    with pytest.raises(TooManyAttempts) as still:
        kit.check_in("forged-later", client="10.0.0.9")
    assert still.value.until == locks["check-in:client:10.0.0.9"]


def test_a_known_installation_token_checks_in_while_every_client_is_locked():
    policy = ThrottlePolicy(max_failures=2, lockout=dt.timedelta(minutes=10))
    setup = _throttled(activation_client_throttle=policy, activation_overall_throttle=policy)
    kit = setup.kit
    result = activate(kit, invite(setup))
    _lock_check_ins(kit, "10.0.0.9", 2)
    with pytest.raises(TooManyAttempts):
        kit.check_in("forged", client="10.0.0.7")  # the overall limit, from another client

    for client in ("10.0.0.9", "10.0.0.7", ""):
        assert kit.check_in(result.installation_token, client=client).installation.id == (
            result.installation_id
        )


def test_a_deactivated_installations_token_still_learns_its_status_while_locked(setup):
    kit, admin, account_id, _ = setup
    result = activate(kit, invite(setup))
    kit.deactivate_installation(admin, account_id, result.installation_id)
    _lock_check_ins(kit, "10.0.0.9", Settings().activation_client_throttle.max_failures)

    view = kit.check_in(result.installation_token, client="10.0.0.9").installation

    assert view.status is InstallationStatus.DEACTIVATED
