"""licensekit.testing: the doubles and builders host developers use in their own tests."""

from __future__ import annotations

import datetime as dt

import pytest

from licensekit import (
    LicenseKit,
    MemoryStore,
    MessageKind,
    NotFound,
    Role,
    ValidationError,
)
from licensekit.testing import (
    DEFAULT_START,
    TEST_JOIN_URL,
    TEST_PASSWORD,
    TEST_SECRET,
    FakeClock,
    RecordingMailer,
    add_member,
    make_business_account,
    make_licensekit,
)


class NullMailer:
    def send(self, message: object) -> None:
        del message


class TestFakeClock:
    def test_starts_at_the_documented_moment_and_stands_still(self) -> None:
        clock = FakeClock()
        assert clock.now() == DEFAULT_START
        assert clock.now() == DEFAULT_START

    def test_advance_accepts_a_timedelta_and_keyword_units(self) -> None:
        clock = FakeClock()
        assert clock.advance(dt.timedelta(hours=1), minutes=30) == DEFAULT_START + dt.timedelta(
            minutes=90
        )
        assert clock.now() == DEFAULT_START + dt.timedelta(minutes=90)

    def test_set_jumps_anywhere_and_converts_to_utc(self) -> None:
        clock = FakeClock()
        plus_two = dt.timezone(dt.timedelta(hours=2))
        clock.set(dt.datetime(2029, 6, 1, 12, 0, tzinfo=plus_two))
        assert clock.now() == dt.datetime(2029, 6, 1, 10, 0, tzinfo=dt.UTC)
        assert clock.now().tzinfo is dt.UTC

    def test_naive_datetimes_are_refused(self) -> None:
        with pytest.raises(ValidationError, match="timezone-aware"):
            FakeClock(dt.datetime(2030, 1, 1))
        with pytest.raises(ValidationError, match="timezone-aware"):
            FakeClock().set(dt.datetime(2030, 1, 1))


class TestRecordingMailer:
    def test_last_without_any_message_is_a_licensekit_not_found(self) -> None:
        with pytest.raises(NotFound, match=r"no message to x@example\.com has been sent"):
            RecordingMailer().last(to="x@example.com")

    def test_filters_by_recipient_case_insensitively_and_by_kind(self) -> None:
        kit = make_licensekit()
        admin, account = make_business_account(kit)
        kit.invite_members(admin, account.id, ["a@example.com", "b@example.com"])
        mailer = kit.mailer
        assert isinstance(mailer, RecordingMailer)
        assert [m.to for m in mailer.messages(to="B@EXAMPLE.COM")] == ["b@example.com"]
        assert len(mailer.messages(kind=MessageKind.JOIN_INVITATION)) == 2
        assert mailer.last_link(to="a@example.com") == TEST_JOIN_URL.replace(
            "{token}", mailer.last_token(to="a@example.com")
        )
        mailer.clear()
        assert mailer.sent == []

    def test_fail_for_refuses_chosen_recipients_permanently(self) -> None:
        mailer = RecordingMailer(fail_for=["Refused@Example.com"])
        kit = make_licensekit(mailer=mailer)
        admin, account = make_business_account(kit)
        batch = kit.invite_members(admin, account.id, ["refused@example.com", "ok@example.com"])
        assert [(f.email, f.permanent) for f in batch.undelivered] == [
            ("refused@example.com", True)
        ]
        assert [m.to for m in mailer.sent] == ["ok@example.com"]


class TestBuilders:
    def test_make_licensekit_wires_the_doubles_it_was_given(self) -> None:
        clock, mailer, store = FakeClock(), RecordingMailer(), MemoryStore()
        kit = make_licensekit(clock=clock, mailer=mailer, store=store)
        assert (kit.clock, kit.mailer, kit.store) == (clock, mailer, store)

    def test_make_business_account_gives_an_administrator_session(self) -> None:
        kit = make_licensekit()
        admin, account = make_business_account(kit, admin_email="boss@example.com", name="Co")
        assert account.name == "Co"
        assert [m.email for m in kit.list_members(admin, account.id).items] == ["boss@example.com"]

    def test_make_business_account_reuses_an_existing_administrator(self) -> None:
        kit = make_licensekit()
        admin, first = make_business_account(kit, name="First")
        again, second = make_business_account(kit, name="Second")
        assert again.user_id == admin.user_id
        assert first.id != second.id

    def test_add_member_joins_as_regular_member_by_invitation(self) -> None:
        kit = make_licensekit()
        admin, account = make_business_account(kit)
        member = add_member(kit, admin, account.id, "m@example.com")
        assert member.roles == {account.id: Role.REGULAR_MEMBER}
        assert kit.log_in("m@example.com", TEST_PASSWORD).user_id == member.user_id

    def test_add_member_as_administrator_returns_a_session_that_acts_as_one(self) -> None:
        kit = make_licensekit()
        admin, account = make_business_account(kit)
        boss = add_member(kit, admin, account.id, "b@example.com", role=Role.ACCOUNT_ADMINISTRATOR)
        assert len(kit.list_members(boss, account.id).items) == 2

    def test_add_member_needs_a_recording_mailer(self) -> None:
        kit = LicenseKit(MemoryStore(), NullMailer(), secret=TEST_SECRET, join_url=TEST_JOIN_URL)
        kit.register_user("admin@example.com", TEST_PASSWORD, email_verified=True)
        admin = kit.log_in("admin@example.com", TEST_PASSWORD)
        account = kit.create_business_account(admin, "Co")
        with pytest.raises(ValidationError, match="RecordingMailer"):
            add_member(kit, admin, account.id, "m@example.com")
