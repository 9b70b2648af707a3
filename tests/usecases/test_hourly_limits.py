"""The hourly limits on what succeeds: seats a license key takes, invitation emails an account
sends (Settings.activations_per_key_per_hour and Settings.invitations_per_account_per_hour).

Each limit counts in a window of one hour from the first thing counted; a call that would
pass it is refused whole with TooManyAttempts (and retry_after), and the first refusal of a
window is audited. The fake clock moves the windows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from _records import records
from licensekit import (
    ActivationCodeNotFound,
    AuditAction,
    DeliveryStatus,
    InstallationStatus,
    MessageKind,
    PermissionDenied,
    Session,
    Settings,
    TooManyAttempts,
    ValidationError,
)
from licensekit.domain._hourly_limits import activations_key, invitations_key
from licensekit.storage import INSTALL_INVITATIONS, LICENSE_KEYS, THROTTLES
from licensekit.testing import (
    LicenseKitForTests,
    add_member,
    make_business_account,
    make_licensekit,
)

HOUR = dt.timedelta(hours=1)


class Shop:
    """An account with a key, and one invitation whose code may activate many computers."""

    def __init__(self, *, seats: int = 50, **settings: Any) -> None:
        self.kit: LicenseKitForTests = make_licensekit(settings=Settings(**settings))
        self.admin: Session
        self.admin, account = make_business_account(self.kit)
        self.account_id = account.id
        self.key_id = self.add_key("Desktop Pro", "DP-0001", seats)
        self.code = self.code_for(self.key_id, "ann@example.com")

    def add_key(self, product: str, value: str, seats: int) -> str:
        key = self.kit.add_license_key(
            self.admin, self.account_id, product=product, value=value, seats=seats
        )
        return key.id

    def code_for(self, key_id: str, email: str, *, max_activations: int = 50) -> str:
        self.kit.invite_installers(
            self.admin, self.account_id, key_id, [email], max_activations=max_activations
        )
        code: str = self.kit.mailer.last(to=email, kind=MessageKind.INSTALL_INVITATION).data["code"]
        return code

    def activate(self, computer: str, code: str | None = None) -> Any:
        return self.kit.activate(code=code or self.code, computer_id=computer)

    def events(self, action: AuditAction) -> list[Any]:
        page = self.kit.list_audit_events(self.admin, self.account_id, limit=500)
        return [e for e in page.items if e.action is action]

    def seats_used(self, key_id: str | None = None) -> int:
        with records(self.kit.store) as tx:
            key = tx.get(LICENSE_KEYS, key_id or self.key_id)
        assert key is not None
        return key.seats_used

    def invite_installers(self, emails: list[str], **options: Any) -> Any:
        return self.kit.invite_installers(
            self.admin, self.account_id, self.key_id, emails, **options
        )

    def invitations(self) -> list[Any]:
        return list(
            self.kit.list_install_invitations(
                self.admin, self.account_id, self.key_id, limit=500
            ).items
        )


def emails(count: int, prefix: str = "user") -> list[str]:
    return [f"{prefix}{n}@example.com" for n in range(count)]


# == Settings ================================================================================


def test_both_limits_are_on_by_default_and_a_largest_batch_fits_under_them():
    settings = Settings()
    assert settings.activations_per_key_per_hour == 10_000
    assert settings.invitations_per_account_per_hour == 20_000
    assert settings.activations_per_key_per_hour >= settings.max_batch_size
    assert settings.invitations_per_account_per_hour >= 2 * settings.max_batch_size


@pytest.mark.parametrize(
    "field", ["activations_per_key_per_hour", "invitations_per_account_per_hour"]
)
@pytest.mark.parametrize("value", [0, -1, True, 2.5, "10"])
def test_a_limit_is_a_positive_whole_number_or_none(field, value):
    with pytest.raises(ValidationError) as refused:
        Settings(**{field: value})
    assert refused.value.field == field
    assert getattr(Settings(**{field: None}), field) is None
    assert getattr(Settings(**{field: 1}), field) == 1


# == Activations per key =====================================================================


def test_the_limit_refuses_the_activation_past_it_with_a_retry_time():
    shop = Shop(activations_per_key_per_hour=3)
    shop.activate("pc-1")
    shop.kit.clock.advance(minutes=20)
    shop.activate("pc-2")
    shop.activate("pc-3")

    with pytest.raises(TooManyAttempts) as refused:
        shop.activate("pc-4")

    # The window opened at the first activation, 20 minutes ago: 40 minutes are left.
    assert refused.value.retry_after == 40 * 60
    assert refused.value.until == shop.kit.clock.now() + dt.timedelta(minutes=40)
    message = str(refused.value)
    assert "limit of 3 activations per hour" in message
    assert refused.value.until.isoformat() in message
    assert refused.value.to_dict()["retry_after"] == 40 * 60
    assert shop.seats_used() == 3
    computers = {
        i.computer_id
        for i in shop.kit.list_installations(shop.admin, shop.account_id, shop.key_id).items
    }
    assert computers == {"pc-1", "pc-2", "pc-3"}


def test_a_refused_activation_takes_no_seat_and_keeps_the_code_for_later():
    shop = Shop(activations_per_key_per_hour=1)
    code = shop.code_for(shop.key_id, "bob@example.com", max_activations=1)
    shop.activate("pc-1")
    with pytest.raises(TooManyAttempts):
        shop.activate("bob-pc", code)
    assert shop.seats_used() == 1

    shop.kit.clock.advance(HOUR)
    assert shop.activate("bob-pc", code).computer_id == "bob-pc"  # its one activation was kept
    assert shop.seats_used() == 2


def test_the_window_rolls_over_an_hour_after_it_opened():
    shop = Shop(activations_per_key_per_hour=2)
    shop.activate("pc-1")
    shop.activate("pc-2")
    shop.kit.clock.advance(HOUR - dt.timedelta(seconds=1))
    with pytest.raises(TooManyAttempts) as refused:
        shop.activate("pc-3")
    assert refused.value.retry_after == 1

    shop.kit.clock.advance(seconds=1)
    shop.activate("pc-3")  # a new window opens here
    shop.activate("pc-4")
    with pytest.raises(TooManyAttempts) as again:
        shop.activate("pc-5")
    assert again.value.retry_after == 3600


def test_none_turns_the_activation_limit_off_and_stores_no_count():
    shop = Shop(activations_per_key_per_hour=None)
    for n in range(6):
        shop.activate(f"pc-{n}")
    assert shop.seats_used() == 6
    with records(shop.kit.store) as tx:
        assert tx.get(THROTTLES, activations_key(shop.key_id)) is None


def test_the_count_is_stored_under_the_key_and_ends_with_its_window():
    shop = Shop(activations_per_key_per_hour=5)
    opened = shop.kit.clock.now()
    shop.activate("pc-1")
    shop.kit.clock.advance(minutes=5)
    shop.activate("pc-2")
    with records(shop.kit.store) as tx:
        count = tx.get(THROTTLES, activations_key(shop.key_id))
    assert count is not None
    assert (count.failures, count.window_started_at, count.expires_at) == (2, opened, opened + HOUR)
    assert count.locked_until is None

    shop.kit.clock.advance(HOUR)
    assert shop.kit.purge_expired().throttles >= 1
    with records(shop.kit.store) as tx:
        assert tx.get(THROTTLES, activations_key(shop.key_id)) is None


def test_activating_again_a_computer_that_holds_its_seat_does_not_count():
    shop = Shop(activations_per_key_per_hour=2)
    shop.activate("pc-1")
    for _ in range(4):  # the installer run again, a reinstall
        assert shop.activate("pc-1").already_active
    shop.activate("pc-2")  # the second seat of the hour
    with pytest.raises(TooManyAttempts):
        shop.activate("pc-3")
    assert shop.activate("pc-2").already_active  # refused no more than before: nothing taken


def test_a_computer_back_after_a_deactivation_takes_a_seat_and_counts():
    shop = Shop(activations_per_key_per_hour=2)
    first = shop.activate("pc-1")
    shop.kit.deactivate_installation(shop.admin, shop.account_id, first.installation_id)
    second_code = shop.code_for(shop.key_id, "again@example.com")
    back = shop.activate("pc-1", second_code)  # the deactivation used up its first claim
    assert not back.already_active
    with pytest.raises(TooManyAttempts):
        shop.activate("pc-2")  # two seats taken this hour, by one computer twice
    assert shop.seats_used() == 1


def test_each_key_has_its_own_count():
    shop = Shop(activations_per_key_per_hour=1)
    other_key = shop.add_key("Studio", "ST-0001", 10)
    other_code = shop.code_for(other_key, "carl@example.com")
    shop.activate("pc-1")
    with pytest.raises(TooManyAttempts):
        shop.activate("pc-2")

    assert shop.activate("pc-2", other_code).key_id == other_key
    with pytest.raises(TooManyAttempts):
        shop.activate("pc-3", other_code)


def test_another_accounts_keys_are_not_affected():
    shop = Shop(activations_per_key_per_hour=1)
    shop.activate("pc-1")
    with pytest.raises(TooManyAttempts):
        shop.activate("pc-2")

    other_admin, other_account = make_business_account(
        shop.kit, admin_email="boss@other.example", name="Other Corp"
    )
    other_key = shop.kit.add_license_key(
        other_admin, other_account.id, product="Desktop Pro", value="DP-0001", seats=5
    )
    shop.kit.invite_installers(other_admin, other_account.id, other_key.id, ["x@other.example"])
    code = shop.kit.mailer.last(to="x@other.example").data["code"]
    assert shop.kit.activate(code=code, computer_id="pc-2").key_id == other_key.id


def test_only_the_first_refusal_of_a_window_is_audited():
    shop = Shop(activations_per_key_per_hour=1)
    shop.activate("pc-1")
    for n in range(5):
        with pytest.raises(TooManyAttempts):
            shop.activate(f"other-{n}")

    refusals = shop.events(AuditAction.ACTIVATION_REFUSED)
    assert len(refusals) == 1
    (event,) = refusals
    assert event.actor_id == ""
    assert event.details["reason"] == "TooManyAttempts"
    assert event.details["computer_id"] == "other-0"
    assert event.details["key_id"] == shop.key_id
    assert event.details["limit"] == "1 activations per hour"

    shop.kit.clock.advance(HOUR)
    shop.activate("pc-2")
    with pytest.raises(TooManyAttempts):
        shop.activate("other-late")
    assert len(shop.events(AuditAction.ACTIVATION_REFUSED)) == 2  # one per window


def test_a_refusal_for_the_limit_does_not_count_against_the_code():
    # Refusals of a code for its own sake lock it after 2 here; this limit's do not count.
    from licensekit import ThrottlePolicy

    shop = Shop(
        activations_per_key_per_hour=1,
        activation_invitation_throttle=ThrottlePolicy(max_failures=2),
    )
    shop.activate("pc-1")
    for n in range(4):
        with pytest.raises(TooManyAttempts) as refused:
            shop.activate(f"other-{n}")
        assert "activations per hour" in str(refused.value)
    shop.kit.clock.advance(HOUR)
    assert shop.activate("pc-2").computer_id == "pc-2"


def test_an_unknown_code_is_still_not_found_at_the_limit():
    shop = Shop(activations_per_key_per_hour=1)
    shop.activate("pc-1")
    with pytest.raises(ActivationCodeNotFound):
        shop.kit.activate(token="no-such-token", computer_id="pc-2")


# == Invitation emails per account ===========================================================


def test_the_limit_refuses_a_batch_that_would_pass_it_whole():
    shop = Shop(invitations_per_account_per_hour=10)  # the Shop's own invitation: 1 sent
    shop.invite_installers(emails(6))
    stored, sent = len(shop.invitations()), len(shop.kit.mailer.sent)
    created = len(shop.events(AuditAction.INSTALL_INVITATION_CREATED))
    shop.kit.clock.advance(minutes=15)

    with pytest.raises(TooManyAttempts) as refused:
        shop.invite_installers(emails(4, "late"))

    # 7 sent, 3 remain: nothing of the 4 was stored or sent.
    assert (len(shop.invitations()), len(shop.kit.mailer.sent)) == (stored, sent)
    assert len(shop.events(AuditAction.INSTALL_INVITATION_CREATED)) == created
    message = str(refused.value)
    assert "limit of 10 invitation emails per hour" in message
    assert "7 were sent in this hour, 3 remain" in message
    assert "this call would send 4" in message
    assert refused.value.retry_after == 45 * 60

    shop.invite_installers(emails(3, "fits"))  # what remains still goes
    with pytest.raises(TooManyAttempts) as full:
        shop.invite_installers(["one-more@example.com"])
    assert "none remain" in str(full.value)


def test_a_join_invitation_batch_is_refused_whole_too():
    shop = Shop(invitations_per_account_per_hour=4)
    shop.kit.invite_members(shop.admin, shop.account_id, emails(2, "member"))
    sent = len(shop.kit.mailer.sent)
    with pytest.raises(TooManyAttempts):
        shop.kit.invite_members(shop.admin, shop.account_id, emails(2, "late"))
    assert len(shop.kit.mailer.sent) == sent
    pending = shop.kit.list_join_invitations(shop.admin, shop.account_id).items
    assert sorted(i.email for i in pending) == ["member0@example.com", "member1@example.com"]
    assert not shop.events(AuditAction.INVITATION_CREATED)[2:]


def test_install_and_join_invitations_share_the_accounts_count():
    shop = Shop(invitations_per_account_per_hour=5)  # 1 sent by the Shop
    shop.kit.invite_members(shop.admin, shop.account_id, emails(2, "member"))
    shop.invite_installers(emails(2))
    with pytest.raises(TooManyAttempts):
        shop.kit.invite_members(shop.admin, shop.account_id, ["late@example.com"])
    with pytest.raises(TooManyAttempts):
        shop.invite_installers(["late@example.com"])
    with records(shop.kit.store) as tx:
        count = tx.get(THROTTLES, invitations_key(shop.account_id))
    assert count is not None
    assert count.failures == 5


def test_join_invitations_skipped_in_a_batch_do_not_count():
    shop = Shop(invitations_per_account_per_hour=3)  # 1 sent by the Shop
    member = "member@example.com"
    add_member(shop.kit, shop.admin, shop.account_id, member)  # 1 more
    batch = shop.kit.invite_members(shop.admin, shop.account_id, [member, "new@example.com"])
    assert [i.email for i in batch.invited] == ["new@example.com"]  # the member is skipped
    with pytest.raises(TooManyAttempts):
        shop.kit.invite_members(shop.admin, shop.account_id, ["late@example.com"])


def test_resends_count_for_both_kinds_of_invitation():
    shop = Shop(invitations_per_account_per_hour=4)  # 1 sent by the Shop
    install = shop.invite_installers(["ann2@example.com"]).invited[0]
    join = shop.kit.invite_members(shop.admin, shop.account_id, ["jo@example.com"]).invited[0]
    shop.kit.resend_install_invitation(shop.admin, shop.account_id, install.id)  # 4th
    sent = len(shop.kit.mailer.sent)

    with pytest.raises(TooManyAttempts):
        shop.kit.resend_join_invitation(shop.admin, shop.account_id, join.id)
    with pytest.raises(TooManyAttempts):
        shop.kit.resend_install_invitation(shop.admin, shop.account_id, install.id)
    assert len(shop.kit.mailer.sent) == sent

    shop.kit.clock.advance(HOUR)
    shop.kit.resend_join_invitation(shop.admin, shop.account_id, join.id)
    assert shop.kit.mailer.last().to == "jo@example.com"


def test_invitations_stored_without_sending_count_when_sent():
    shop = Shop(invitations_per_account_per_hour=6)  # 1 sent by the Shop
    shop.invite_installers(emails(6), send=False)  # nothing sent: nothing counted
    shop.kit.invite_members(shop.admin, shop.account_id, emails(3, "member"), send=False)
    sent = len(shop.kit.mailer.sent)

    with pytest.raises(TooManyAttempts) as refused:
        shop.kit.send_install_invitations(shop.admin, shop.account_id, shop.key_id)
    assert "5 remain" in str(refused.value)
    assert "would send 6" in str(refused.value)
    assert len(shop.kit.mailer.sent) == sent
    # None was claimed for sending: all still wait, and can go once they fit.
    assert {i.delivery for i in shop.invitations()[1:]} == {DeliveryStatus.NOT_SENT}

    assert len(shop.kit.send_join_invitations(shop.admin, shop.account_id).sent) == 3
    with records(shop.kit.store) as tx:
        count = tx.get(THROTTLES, invitations_key(shop.account_id))
    assert count is not None
    assert count.failures == 4
    shop.kit.clock.advance(HOUR)
    report = shop.kit.send_install_invitations(shop.admin, shop.account_id, shop.key_id)
    assert len(report.sent) == 6


def test_sending_nothing_is_never_refused():
    shop = Shop(invitations_per_account_per_hour=1)  # used up by the Shop's invitation
    report = shop.kit.send_install_invitations(shop.admin, shop.account_id, shop.key_id)
    assert report.sent == ()
    assert report.undelivered == ()
    assert shop.invite_installers(emails(2), send=False).invited


def test_a_batch_larger_than_the_limit_itself_says_to_send_smaller_batches():
    shop = Shop(invitations_per_account_per_hour=5)
    with pytest.raises(TooManyAttempts) as refused:
        shop.invite_installers(emails(8))
    message = str(refused.value)
    assert "would send 8 invitation emails" in message
    assert "smaller batches" in message
    assert "4 may be sent now" in message
    assert len(shop.invitations()) == 1


def test_the_invitation_window_rolls_over_an_hour_after_it_opened():
    shop = Shop(invitations_per_account_per_hour=3)  # the window opens with the Shop's
    shop.kit.clock.advance(minutes=30)
    shop.invite_installers(emails(2))
    with pytest.raises(TooManyAttempts) as refused:
        shop.invite_installers(["late@example.com"])
    assert refused.value.retry_after == 30 * 60

    shop.kit.clock.advance(minutes=30)
    shop.invite_installers(emails(3, "next"))
    with records(shop.kit.store) as tx:
        count = tx.get(THROTTLES, invitations_key(shop.account_id))
    assert count is not None
    assert (count.failures, count.window_started_at) == (3, shop.kit.clock.now())


def test_none_turns_the_invitation_limit_off():
    shop = Shop(invitations_per_account_per_hour=None)
    shop.invite_installers(emails(30))
    shop.kit.invite_members(shop.admin, shop.account_id, emails(30, "member"))
    assert len(shop.kit.mailer.sent) == 61
    with records(shop.kit.store) as tx:
        assert tx.get(THROTTLES, invitations_key(shop.account_id)) is None


def test_each_account_has_its_own_count():
    shop = Shop(invitations_per_account_per_hour=2)
    shop.invite_installers(["second@example.com"])
    with pytest.raises(TooManyAttempts):
        shop.invite_installers(["third@example.com"])

    other_admin, other_account = make_business_account(
        shop.kit, admin_email="boss@other.example", name="Other Corp"
    )
    batch = shop.kit.invite_members(other_admin, other_account.id, emails(2, "other"))
    assert len(batch.invited) == 2


def test_a_refused_caller_without_the_right_counts_nothing():
    shop = Shop(invitations_per_account_per_hour=2)
    member = add_member(shop.kit, shop.admin, shop.account_id, "member@example.com")  # 2nd
    for _ in range(3):
        with pytest.raises(PermissionDenied):
            shop.kit.invite_installers(member, shop.account_id, shop.key_id, ["x@example.com"])
    assert not shop.events(AuditAction.INVITATION_LIMIT_REACHED)
    with records(shop.kit.store) as tx:
        count = tx.get(THROTTLES, invitations_key(shop.account_id))
    assert count is not None
    assert count.failures == 2


def test_only_the_first_refused_batch_of_a_window_is_audited():
    shop = Shop(invitations_per_account_per_hour=3)
    shop.invite_installers(emails(2))
    for _ in range(4):
        with pytest.raises(TooManyAttempts):
            shop.kit.invite_members(shop.admin, shop.account_id, emails(2, "member"))

    (event,) = shop.events(AuditAction.INVITATION_LIMIT_REACHED)
    assert event.actor_id == shop.admin.user_id
    assert event.subject == shop.account_id
    assert event.details == {"limit": "3", "sent": "3", "asked": "2"}

    shop.kit.clock.advance(HOUR)
    with pytest.raises(TooManyAttempts):
        shop.invite_installers(emails(4, "big"))
    assert len(shop.events(AuditAction.INVITATION_LIMIT_REACHED)) == 2


def test_a_refused_batch_leaves_a_pending_invitation_unclaimed():
    shop = Shop(invitations_per_account_per_hour=2)
    shop.invite_installers(["second@example.com"])
    pending = shop.invite_installers(["third@example.com"], send=False).invited[0]
    with pytest.raises(TooManyAttempts):
        shop.kit.send_install_invitations(
            shop.admin, shop.account_id, shop.key_id, invitation_ids=[pending.id]
        )
    with records(shop.kit.store) as tx:
        stored = tx.get(INSTALL_INVITATIONS, pending.id)
    assert stored is not None
    assert stored.delivery is DeliveryStatus.NOT_SENT
    assert stored.delivery_started_at is None


def test_activations_still_work_at_the_invitation_limit_and_the_other_way_round():
    shop = Shop(invitations_per_account_per_hour=1, activations_per_key_per_hour=1)
    shop.activate("pc-1")
    with pytest.raises(TooManyAttempts):
        shop.invite_installers(["late@example.com"])
    with pytest.raises(TooManyAttempts):
        shop.activate("pc-2")
    installed = shop.kit.list_installations(shop.admin, shop.account_id, shop.key_id).items
    assert [i.status for i in installed] == [InstallationStatus.ACTIVE]
