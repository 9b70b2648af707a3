"""Unit tests of the decisions moved into the pure core: whom an account may invite
(licensekit.members.why_not_invite), and the counting of requests and the keys a host
operator lifts (licensekit.throttling.count_request, lockout_keys)."""

from __future__ import annotations

import datetime as dt

import pytest

from licensekit import TooManyAttempts, throttling
from licensekit.members import why_not_invite
from licensekit.model import JoinInvitation, Membership, MemberStatus, Role, Throttle
from licensekit.throttling import EmailRequest, ThrottledSecret, ThrottlePolicy

T0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
WEEK = dt.timedelta(days=7)


def membership(status: MemberStatus) -> Membership:
    return Membership(
        account_id="acc_1",
        user_id="usr_1",
        role=Role.REGULAR_MEMBER,
        status=status,
        joined_at=T0,
        updated_at=T0,
    )


def invitation(invitation_id: str, **state: object) -> JoinInvitation:
    return JoinInvitation(
        id=invitation_id,
        account_id="acc_1",
        email="ann@example.com",
        language="en",
        invited_by="usr_admin",
        created_at=T0,
        expires_at=T0 + WEEK,
        token_hash=invitation_id.encode(),
        token_ciphertext=b"ciphertext",
        **state,  # type: ignore[arg-type]
    )


# -- why_not_invite ---------------------------------------------------------------------------


def test_a_stranger_may_be_invited() -> None:
    assert why_not_invite(None, [], T0) is None


def test_an_active_member_may_not_be_invited() -> None:
    assert why_not_invite(membership(MemberStatus.ACTIVE), [], T0) == (
        "already a member of this account"
    )


def test_a_blocked_member_is_to_be_unblocked_not_invited() -> None:
    assert why_not_invite(membership(MemberStatus.BLOCKED), [], T0) == (
        "blocked in this account; unblock them instead"
    )


def test_a_removed_member_may_be_invited_again() -> None:
    assert why_not_invite(membership(MemberStatus.REMOVED), [], T0) is None


def test_a_pending_invitation_is_to_be_resent_and_the_oldest_is_named() -> None:
    pending = [invitation("jinv_b"), invitation("jinv_a")]
    assert why_not_invite(None, pending, T0) == (
        "already has a pending invitation (jinv_a); resend it instead"
    )


def test_invitations_that_are_no_longer_pending_do_not_stop_a_new_one() -> None:
    done = [
        invitation("jinv_1", accepted_at=T0, accepted_by="usr_1"),
        invitation("jinv_2", revoked_at=T0, revoked_by="usr_admin"),
        invitation("jinv_3"),  # expired by then
    ]
    assert why_not_invite(membership(MemberStatus.REMOVED), done, T0 + WEEK) is None


def test_membership_is_judged_before_invitations() -> None:
    reason = why_not_invite(membership(MemberStatus.ACTIVE), [invitation("jinv_1")], T0)
    assert reason == "already a member of this account"


# -- count_request ----------------------------------------------------------------------------

POLICY = ThrottlePolicy(max_failures=2, window=dt.timedelta(minutes=10))


def test_every_request_counts_on_every_key() -> None:
    records = throttling.count_request([("a", None), ("b", None)], now=T0, policy=POLICY, what="x")
    assert [(t.key, t.failures, t.locked_until) for t in records] == [
        ("a", 1, None),
        ("b", 1, None),
    ]


def test_the_request_reaching_the_limit_locks_its_keys() -> None:
    (first,) = throttling.count_request([("a", None)], now=T0, policy=POLICY, what="x")
    (second,) = throttling.count_request([("a", first)], now=T0, policy=POLICY, what="x")
    assert second.locked_until == T0 + POLICY.lockout


def test_a_locked_key_refuses_and_nothing_is_counted_anywhere() -> None:
    locked = Throttle(
        key="b", failures=0, window_started_at=T0, expires_at=T0 + WEEK, locked_until=T0 + WEEK
    )
    with pytest.raises(TooManyAttempts, match="reset requests") as refused:
        throttling.count_request(
            [("a", None), ("b", locked)], now=T0, policy=POLICY, what="reset requests"
        )
    assert refused.value.until == T0 + WEEK


def test_a_lock_that_has_passed_counts_afresh() -> None:
    over = Throttle(
        key="a", failures=0, window_started_at=T0, expires_at=T0 + WEEK, locked_until=T0
    )
    (record,) = throttling.count_request([("a", over)], now=T0 + WEEK, policy=POLICY, what="x")
    assert (record.failures, record.locked_until) == (1, None)


# -- lockout_keys -----------------------------------------------------------------------------


def test_a_client_is_lifted_for_every_secret_and_every_request() -> None:
    keys = throttling.lockout_keys(client="203.0.113.9", email=None)
    expected = [throttling.client_key(s, "203.0.113.9") for s in ThrottledSecret]
    expected += [k for r in EmailRequest for k in throttling.request_keys(r, client="203.0.113.9")]
    assert keys == expected


def test_an_email_is_lifted_for_log_ins_and_every_request() -> None:
    keys = throttling.lockout_keys(client=None, email="ann@example.com")
    expected = [throttling.password_key("ann@example.com")]
    expected += [
        k for r in EmailRequest for k in throttling.request_keys(r, email="ann@example.com")
    ]
    assert keys == expected


def test_nothing_named_lifts_nothing() -> None:
    assert throttling.lockout_keys(client="", email=None) == []
