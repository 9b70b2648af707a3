"""Members are told by email when they are blocked or removed (by default), or given another
role (when asked); the administrator's notes go in only when shared."""

from __future__ import annotations

import pytest

from licensekit import (
    AuditAction,
    DeliveryError,
    DeliveryStatus,
    MemberStatus,
    MessageKind,
    Role,
    Session,
    Settings,
    StorageBusy,
    ValidationError,
)
from licensekit.mail import Language, Message, Templates
from licensekit.storage import PROTOCOL_VERSION
from licensekit.testing import (
    TEST_PASSWORD,
    LicenseKitForTests,
    RecordingMailer,
    add_member,
    make_business_account,
    make_licensekit,
)

MEMBER = "grace@example.com"
ADMIN = "admin@example.com"
NOTES = "Left the company; laptop kept by IT"


def setup(
    settings: Settings | None = None, mailer: RecordingMailer | None = None
) -> tuple[LicenseKitForTests, Session, str, str]:
    kit = make_licensekit(settings=settings, mailer=mailer)
    admin, account = make_business_account(kit, name="Analytical Engines")
    member = add_member(kit, admin, account.id, MEMBER)
    kit.mailer.clear()
    return kit, admin, account.id, member.user_id


def audit_events(kit: LicenseKitForTests, admin: Session, account_id: str) -> list:  # type: ignore[type-arg]
    return list(kit.list_audit_events(admin, account_id, limit=500).items)


def audit_actions(kit: LicenseKitForTests, admin: Session, account_id: str) -> list[AuditAction]:
    return [e.action for e in audit_events(kit, admin, account_id)]


def everything(message: Message) -> str:
    """Every text a message carries: subject, bodies and data."""
    return "\n".join([message.subject, message.text, message.html, *message.data.values()])


# == sent by default on a block and a removal =================================================


@pytest.mark.parametrize(
    ("act", "kind", "status"),
    [
        ("block_member", MessageKind.MEMBER_BLOCKED, MemberStatus.BLOCKED),
        ("remove_member", MessageKind.MEMBER_REMOVED, MemberStatus.REMOVED),
    ],
)
def test_a_blocked_or_removed_member_is_told_by_default(
    act: str, kind: MessageKind, status: MemberStatus
) -> None:
    kit, admin, account_id, user_id = setup()

    view = getattr(kit, act)(admin, account_id, user_id)

    assert view.status is status
    assert view.notice is DeliveryStatus.SENT
    (message,) = kit.mailer.sent
    assert (message.to, message.kind, message.language) == (MEMBER, kind, "en")
    assert "Analytical Engines" in message.subject
    assert "Analytical Engines" in message.text
    assert ADMIN in message.text  # who did it
    assert "contact" in message.text  # whom to ask
    assert "http" not in message.text
    assert "href" not in message.html
    *_, change, notice = audit_events(kit, admin, account_id)
    assert change.subject == notice.subject == user_id
    assert notice.action is AuditAction.NOTICE_SENT
    assert notice.actor_id == admin.user_id
    assert dict(notice.details) == {
        "notice": kind.value,
        "email": MEMBER,
        "language": "en",
        "delivery": "sent",
    }


def test_unblocking_and_role_changes_send_nothing_unless_asked() -> None:
    kit, admin, account_id, user_id = setup(Settings(member_notices=True))
    kit.block_member(admin, account_id, user_id, notify=False)

    unblocked = kit.unblock_member(admin, account_id, user_id, notes="Back")
    promoted = kit.change_role(admin, account_id, user_id, Role.ACCOUNT_ADMINISTRATOR)

    assert kit.mailer.sent == []
    assert unblocked.notice is None
    assert promoted.notice is None
    assert AuditAction.NOTICE_SENT not in audit_actions(kit, admin, account_id)


def test_listed_members_carry_no_notice_outcome() -> None:
    kit, admin, account_id, user_id = setup()
    assert kit.block_member(admin, account_id, user_id).notice is DeliveryStatus.SENT

    assert kit.get_member(admin, account_id, user_id).notice is None
    assert {m.notice for m in kit.list_members(admin, account_id).items} == {None}


# == the administrator's notes ================================================================


@pytest.mark.parametrize("act", ["block_member", "remove_member"])
def test_the_notes_stay_out_of_the_email_unless_shared(act: str) -> None:
    kit, admin, account_id, user_id = setup()

    view = getattr(kit, act)(admin, account_id, user_id, notes=NOTES)

    message = kit.mailer.last(to=MEMBER)
    assert "Left the company" not in everything(message)
    assert "notes" not in message.data
    assert "Note from the administrator" not in message.text
    # ...but they are kept for the administrators, as always
    assert view.notes == NOTES
    change, notice = audit_events(kit, admin, account_id)[-2:]
    assert change.details["notes"] == NOTES
    assert "notes" not in notice.details


@pytest.mark.parametrize("act", ["block_member", "remove_member"])
def test_shared_notes_are_in_both_bodies(act: str) -> None:
    kit, admin, account_id, user_id = setup()

    getattr(kit, act)(admin, account_id, user_id, notes=NOTES, share_notes=True)

    message = kit.mailer.last(to=MEMBER)
    assert "Note from the administrator" in message.text
    assert NOTES in message.text
    assert "Left the company; laptop kept by IT" in message.html
    assert message.data["notes"] == NOTES


def test_sharing_empty_notes_adds_no_empty_note() -> None:
    kit, admin, account_id, user_id = setup()
    kit.block_member(admin, account_id, user_id, share_notes=True)
    assert "Note from the administrator" not in kit.mailer.last(to=MEMBER).text


def test_a_role_change_notice_names_both_roles_and_shares_notes_only_when_asked() -> None:
    kit, admin, account_id, user_id = setup()
    kit.change_role(
        admin,
        account_id,
        user_id,
        Role.ACCOUNT_ADMINISTRATOR,
        notes="You run the licenses now.",
        notify=True,
    )
    quiet = kit.mailer.last(to=MEMBER)
    kit.change_role(
        admin,
        account_id,
        user_id,
        Role.REGULAR_MEMBER,
        notes="Thanks for covering.\nWelcome back.",
        notify=True,
        share_notes=True,
    )
    shared = kit.mailer.last(to=MEMBER)

    assert quiet.kind is shared.kind is MessageKind.ROLE_CHANGED
    assert "Regular Member" in quiet.text
    assert "Account Administrator" in quiet.text
    assert "You run the licenses now." not in everything(quiet)
    assert "Thanks for covering." in shared.text
    assert "Welcome back." in shared.html
    assert audit_actions(kit, admin, account_id)[-2:] == [
        AuditAction.ROLE_CHANGED,
        AuditAction.NOTICE_SENT,
    ]


# == turned off: by the host, per call ========================================================


def test_the_host_can_turn_the_notices_off() -> None:
    kit, admin, account_id, user_id = setup(Settings(member_notices=False))

    blocked = kit.block_member(admin, account_id, user_id, notes=NOTES, share_notes=True)
    kit.unblock_member(admin, account_id, user_id)
    removed = kit.remove_member(admin, account_id, user_id)

    assert kit.mailer.sent == []
    assert blocked.notice is None
    assert removed.notice is None
    assert removed.status is MemberStatus.REMOVED
    actions = audit_actions(kit, admin, account_id)
    assert AuditAction.NOTICE_SENT not in actions
    assert AuditAction.NOTICE_UNDELIVERED not in actions


@pytest.mark.parametrize("act", ["block_member", "remove_member"])
def test_a_call_can_decline_the_notice(act: str) -> None:
    kit, admin, account_id, user_id = setup()
    view = getattr(kit, act)(admin, account_id, user_id, notify=False)
    assert view.notice is None
    assert kit.mailer.sent == []


@pytest.mark.parametrize(
    ("act", "kind"),
    [("block_member", MessageKind.MEMBER_BLOCKED), ("remove_member", MessageKind.MEMBER_REMOVED)],
)
def test_a_call_can_ask_for_the_notice_the_host_turned_off(act: str, kind: MessageKind) -> None:
    kit, admin, account_id, user_id = setup(Settings(member_notices=False))
    view = getattr(kit, act)(admin, account_id, user_id, notify=True)
    assert view.notice is DeliveryStatus.SENT
    assert kit.mailer.last(to=MEMBER).kind is kind


# == a failing mailer never undoes the change =================================================


class BrokenMailer(RecordingMailer):
    """Once armed, fails for the member with *error*: a DeliveryError, or its own."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error
        self.armed = False

    def send(self, message: Message) -> None:
        if self.armed and message.to == MEMBER:
            raise self.error
        super().send(message)


def test_a_refused_notice_leaves_the_block_in_place_and_is_reported() -> None:
    kit, admin, account_id, user_id = setup()
    kit.mailer.fail_for.add(MEMBER)

    view = kit.block_member(admin, account_id, user_id, notes=NOTES)

    assert view.status is MemberStatus.BLOCKED
    assert view.notice is DeliveryStatus.REFUSED
    assert kit.get_member(admin, account_id, user_id).status is MemberStatus.BLOCKED
    change, notice = audit_events(kit, admin, account_id)[-2:]
    assert change.action is AuditAction.MEMBER_BLOCKED
    assert notice.action is AuditAction.NOTICE_UNDELIVERED
    assert notice.details["notice"] == "member_blocked"
    assert notice.details["delivery"] == "refused"
    assert "refused" in notice.details["reason"]
    assert "notes" not in notice.details


@pytest.mark.parametrize(
    ("error", "delivery"),
    [
        (DeliveryError("451 try again later"), DeliveryStatus.FAILED),
        (RuntimeError("the relay's client crashed"), DeliveryStatus.FAILED),
        (DeliveryError("550 no such user", permanent=True), DeliveryStatus.REFUSED),
    ],
)
def test_no_mailer_error_escapes_a_removal(error: Exception, delivery: DeliveryStatus) -> None:
    mailer = BrokenMailer(error)
    kit, admin, account_id, user_id = setup(mailer=mailer)
    mailer.armed = True

    view = kit.remove_member(admin, account_id, user_id)

    assert view.status is MemberStatus.REMOVED
    assert view.notice is delivery
    assert kit.list_my_accounts(kit.log_in(MEMBER, TEST_PASSWORD)) == ()
    notice = audit_events(kit, admin, account_id)[-1]
    assert notice.action is AuditAction.NOTICE_UNDELIVERED
    assert notice.details["delivery"] == delivery.value
    assert str(error) in notice.details["reason"]


# == what a notice never holds ================================================================


def test_a_notice_holds_no_key_code_token_or_link() -> None:
    kit = make_licensekit()
    admin, account = make_business_account(kit, name="Analytical Engines")
    member = add_member(kit, admin, account.id, MEMBER)
    join_token = kit.mailer.last_token(to=MEMBER)
    key_value = "SECRET-KEY-VALUE-0001"
    key = kit.add_license_key(admin, account.id, product="Desktop Pro", seats=5, value=key_value)
    kit.grant_license_administrator(admin, account.id, member.user_id, key.id)
    kit.invite_installers(member, account.id, key.id, [MEMBER, "alan@example.com"])
    install = kit.mailer.last(to=MEMBER, kind=MessageKind.INSTALL_INVITATION)
    secrets = {
        key_value,
        join_token,
        install.data["token"],
        install.data["code"],
        install.data["link"],
        member.token,
        admin.token,
    }

    kit.block_member(admin, account.id, member.user_id, notes="Rotate the key", share_notes=True)
    kit.remove_member(admin, account.id, member.user_id, share_notes=True)

    notices = kit.mailer.messages(to=MEMBER)[-2:]
    assert [m.kind for m in notices] == [MessageKind.MEMBER_BLOCKED, MessageKind.MEMBER_REMOVED]
    for message in notices:
        text = everything(message)
        assert not {s for s in secrets if s in text}
        assert not {"token", "code", "link"} & set(message.data)
        assert "Rotate the key" in text or message.kind is MessageKind.MEMBER_REMOVED


def test_an_unproven_address_is_not_mailed() -> None:
    """An account's creator may be unproven where the host allows it: the address may be
    someone else's, who never joined anything."""
    kit = make_licensekit(settings=Settings(verified_email_to_create_accounts=False))
    kit.register_user(MEMBER, TEST_PASSWORD)
    founder = kit.log_in(MEMBER, TEST_PASSWORD)
    account = kit.create_business_account(founder, "Analytical Engines")
    other = add_member(kit, founder, account.id, ADMIN, role=Role.ACCOUNT_ADMINISTRATOR)
    kit.mailer.clear()

    view = kit.block_member(other, account.id, founder.user_id)

    assert view.status is MemberStatus.BLOCKED
    assert view.notice is None
    assert kit.mailer.sent == []


# == which language ===========================================================================


def join_in(kit: LicenseKitForTests, admin: Session, account_id: str, language: str) -> str:
    kit.invite_members(admin, account_id, [MEMBER], language=language)
    return kit.accept_join_invitation(
        kit.mailer.last_token(to=MEMBER), password=TEST_PASSWORD
    ).user_id


def test_a_notice_is_written_in_the_language_the_member_was_invited_in() -> None:
    kit = make_licensekit()
    admin, account = make_business_account(kit, name="Analytical Engines")
    user_id = join_in(kit, admin, account.id, "de-AT")

    kit.block_member(admin, account.id, user_id)

    message = kit.mailer.last(to=MEMBER)
    assert message.language == "de"
    assert message.subject == Templates().language("de").templates[
        MessageKind.MEMBER_BLOCKED
    ].subject.replace("${account_name}", "Analytical Engines").replace(
        "${service_name}", "licensekit"
    )
    assert audit_events(kit, admin, account.id)[-1].details["language"] == "de"


def test_the_latest_invitation_a_returning_member_took_decides() -> None:
    kit = make_licensekit()
    admin, account = make_business_account(kit, name="Analytical Engines")
    user_id = join_in(kit, admin, account.id, "fr")
    kit.remove_member(admin, account.id, user_id)
    assert kit.mailer.last(to=MEMBER).language == "fr"

    again = join_in(kit, admin, account.id, "ja")
    kit.remove_member(admin, account.id, again)

    assert again == user_id
    assert kit.mailer.last(to=MEMBER).language == "ja"


def test_a_language_given_wins_over_the_members() -> None:
    kit = make_licensekit()
    admin, account = make_business_account(kit, name="Analytical Engines")
    user_id = join_in(kit, admin, account.id, "de")

    kit.change_role(
        admin, account.id, user_id, Role.ACCOUNT_ADMINISTRATOR, notify=True, language="pt"
    )

    message = kit.mailer.last(to=MEMBER)
    assert message.language == "pt-BR"
    assert Templates().language("pt-BR").role_names["account_administrator"] in message.text


def test_a_member_without_an_invitation_is_written_to_in_english() -> None:
    """The account's founder joined by creating it, not through an invitation."""
    kit, admin, account_id, _ = setup()
    founder = add_member(kit, admin, account_id, "ada@example.com", role=Role.ACCOUNT_ADMINISTRATOR)
    kit.mailer.clear()

    kit.block_member(founder, account_id, admin.user_id)

    assert kit.mailer.last(to=ADMIN).language == "en"


def test_a_language_the_templates_no_longer_have_falls_back() -> None:
    kit = make_licensekit()
    admin, account = make_business_account(kit, name="Analytical Engines")
    user_id = join_in(kit, admin, account.id, "it")
    builtin = Templates()
    kit.templates = Templates([builtin.language("fr"), builtin.language("en")])

    kit.block_member(admin, account.id, user_id)
    assert kit.mailer.last(to=MEMBER).language == "en"

    kit.unblock_member(admin, account.id, user_id)
    kit.templates = Templates([builtin.language("fr")])
    kit.block_member(admin, account.id, user_id)
    assert kit.mailer.last(to=MEMBER).language == "fr"


def test_an_unknown_language_is_refused_before_anything_changes() -> None:
    kit, admin, account_id, user_id = setup()
    with pytest.raises(ValidationError, match="unsupported language"):
        kit.remove_member(admin, account_id, user_id, language="tlh")
    assert kit.get_member(admin, account_id, user_id).status is MemberStatus.ACTIVE
    assert kit.mailer.sent == []


@pytest.mark.parametrize("settings", [Settings(), Settings(member_notices=False)])
def test_a_wrong_language_is_refused_even_when_no_notice_would_go(settings: Settings) -> None:
    kit, admin, account_id, user_id = setup(settings)
    with pytest.raises(ValidationError, match="unsupported language"):
        kit.block_member(admin, account_id, user_id, notify=False, language="tlh")
    assert kit.get_member(admin, account_id, user_id).status is MemberStatus.ACTIVE


def test_a_host_language_is_used_for_notices() -> None:
    base = Templates().language("en")
    pirate = Language(
        tag="en-x-pirate",
        name="Pirate",
        months=base.months,
        date_format=base.date_format,
        role_names=base.role_names,
        notes_label="Word from the captain",
        templates=base.templates,
    )
    kit = make_licensekit()
    kit.templates = Templates().with_language(pirate)
    admin, account = make_business_account(kit, name="Analytical Engines")
    user_id = join_in(kit, admin, account.id, "en-x-pirate")

    kit.block_member(admin, account.id, user_id, notes="Walk the plank", share_notes=True)

    message = kit.mailer.last(to=MEMBER)
    assert message.language == "en-x-pirate"
    assert "Word from the captain" in message.text


class BusyStore:
    """Wraps a store; once armed, its next *failures* transactions fail with StorageBusy."""

    protocol_version = PROTOCOL_VERSION

    def __init__(self, inner: object, failures: int) -> None:
        self.inner = inner
        self.armed = False
        self.failures = failures

    def transaction(self):  # type: ignore[no-untyped-def]
        if self.armed and self.failures:
            self.failures -= 1
            raise StorageBusy("locked by another connection (simulated)")
        return self.inner.transaction()  # type: ignore[attr-defined]

    def close(self) -> None:
        self.inner.close()  # type: ignore[attr-defined]


class StoreArmingMailer(RecordingMailer):
    """Makes the store busy as soon as the notice is handed over."""

    store: BusyStore

    def send(self, message: Message) -> None:
        super().send(message)
        if message.kind is MessageKind.MEMBER_BLOCKED:
            self.store.armed = True


def test_a_store_failing_after_the_notice_does_not_make_the_block_look_failed() -> None:
    mailer = StoreArmingMailer()
    kit, admin, account_id, user_id = setup(mailer=mailer)
    store = BusyStore(kit.store, failures=10)  # more than the runner's retries
    mailer.store = store
    kit.store = store  # type: ignore[assignment]

    view = kit.block_member(admin, account_id, user_id)

    assert view.status is MemberStatus.BLOCKED
    assert view.notice is DeliveryStatus.SENT
    assert mailer.last(to=MEMBER).kind is MessageKind.MEMBER_BLOCKED
    store.failures = 0
    assert kit.get_member(admin, account_id, user_id).status is MemberStatus.BLOCKED
    # only the notice's own audit event is missing
    assert audit_actions(kit, admin, account_id)[-1] is AuditAction.MEMBER_BLOCKED


@pytest.mark.parametrize(("option", "value"), [("share_notes", "no"), ("notify", "false")])
def test_a_flag_that_is_not_a_boolean_is_refused_before_anything_changes(
    option: str, value: str
) -> None:
    kit, admin, account_id, user_id = setup()
    before = kit.store.dump()

    with pytest.raises(ValidationError, match=option):
        kit.block_member(admin, account_id, user_id, notes=NOTES, **{option: value})

    assert kit.store.dump() == before
    assert kit.mailer.sent == []
