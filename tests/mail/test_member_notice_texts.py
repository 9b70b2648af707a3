"""The notices a blocked or removed member receives, in every built-in language: they say
which account, who made the change and whom to ask, carry nothing that grants access, and
hold the administrator's notes only when given them."""

from __future__ import annotations

import re

import pytest

from licensekit.mail import SUPPORTED_LANGUAGES, Message, MessageKind, render_member_notice

GONE = (MessageKind.MEMBER_BLOCKED, MessageKind.MEMBER_REMOVED)
ACCOUNT = "Zephyr Instruments"
ACTOR = "it-lead@zephyr.example"
SERVICE = "Example Portal"
URL = re.compile(r"https?://|www\.|href=", re.IGNORECASE)


def notice(kind: MessageKind, language: str, notes: str = "") -> Message:
    return render_member_notice(
        kind,
        to="member@zephyr.example",
        account_name=ACCOUNT,
        actor=ACTOR,
        language=language,
        service_name=SERVICE,
        notes=notes,
    )


@pytest.mark.parametrize("tag", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("kind", GONE)
def test_a_notice_names_the_account_the_service_and_who_made_the_change(
    tag: str, kind: MessageKind
) -> None:
    message = notice(kind, tag)
    assert message.language == tag
    assert ACCOUNT in message.subject
    assert SERVICE in message.subject
    for body in (message.text, message.html):
        assert ACTOR in body
        # once for what happened, once more for whom to ask: the account's administrators
        assert body.count(ACCOUNT) >= 2


@pytest.mark.parametrize("tag", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("kind", GONE)
def test_a_notice_holds_no_link_and_no_secret(tag: str, kind: MessageKind) -> None:
    message = notice(kind, tag)
    assert not URL.search(message.text)
    assert not URL.search(message.html)
    assert set(message.data) == {
        "account_name",
        "actor",
        "service_name",
        "recipient",
        "language",
    }


@pytest.mark.parametrize("tag", SUPPORTED_LANGUAGES)
def test_blocked_removed_and_role_changed_read_differently(tag: str) -> None:
    subjects = {notice(kind, tag).subject for kind in (*GONE, MessageKind.ROLE_CHANGED)}
    assert len(subjects) == 3


@pytest.mark.parametrize("tag", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("kind", GONE)
def test_the_notes_are_in_a_notice_only_when_given(tag: str, kind: MessageKind) -> None:
    without = notice(kind, tag)
    shared = notice(kind, tag, notes="Badge 4471 handed back")

    assert "Badge 4471" not in without.text + without.html
    assert "notes" not in without.data
    assert "Badge 4471 handed back" in shared.text
    assert "Badge 4471 handed back" in shared.html
    assert shared.data["notes"] == "Badge 4471 handed back"
    # nothing else changes: the note is one block added to the same email
    assert shared.subject == without.subject
    assert len(shared.text) > len(without.text)
