"""The pure rules of the hourly limits: windows, all-or-nothing admission, one audited refusal."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given
from hypothesis import strategies as st

from licensekit.domain._hourly_limits import (
    WINDOW,
    activation_refusal,
    activations_key,
    admit,
    count_more,
    invitation_refusal,
    invitations_key,
)
from licensekit.domain.model import Throttle

NOW = dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC)
KEY = invitations_key("acc_1")


def test_each_limit_has_its_own_key_apart_from_the_guessing_throttles():
    assert activations_key("key_1") == "activations-per-hour:key:key_1"
    assert invitations_key("acc_1") == "invitation-emails-per-hour:account:acc_1"
    assert activations_key("x") != invitations_key("x")


def test_the_first_count_opens_a_window_of_one_hour():
    decision = admit(None, key=KEY, count=3, limit=5, now=NOW)
    assert decision.allowed
    assert decision.used == 0
    assert decision.record == Throttle(
        key=KEY, failures=3, window_started_at=NOW, expires_at=NOW + WINDOW
    )


def test_counting_nothing_writes_nothing_even_at_the_limit():
    full = Throttle(key=KEY, failures=5, window_started_at=NOW, expires_at=NOW + WINDOW)
    decision = admit(full, key=KEY, count=0, limit=5, now=NOW)
    assert decision.allowed
    assert decision.record is None


def test_a_call_that_would_pass_the_limit_is_refused_whole_and_marked_once():
    used = Throttle(key=KEY, failures=4, window_started_at=NOW, expires_at=NOW + WINDOW)
    later = NOW + dt.timedelta(minutes=10)

    first = admit(used, key=KEY, count=2, limit=5, now=later)
    assert not first.allowed
    assert first.audited
    assert first.until == NOW + WINDOW
    assert first.record is not None
    assert first.record.failures == 4  # nothing of the refused call counted
    assert first.record.locked_until == NOW + WINDOW

    second = admit(first.record, key=KEY, count=2, limit=5, now=later)
    assert not second.allowed
    assert not second.audited
    assert second.record is None

    fits = admit(first.record, key=KEY, count=1, limit=5, now=later)
    assert fits.allowed
    assert fits.record is not None
    assert fits.record.failures == 5
    assert fits.record.locked_until == NOW + WINDOW  # the refusal stays audited


def test_the_window_ends_an_hour_after_it_opened_and_the_count_restarts():
    full = Throttle(
        key=KEY,
        failures=5,
        window_started_at=NOW,
        expires_at=NOW + WINDOW,
        locked_until=NOW + WINDOW,
    )
    assert not admit(full, key=KEY, count=1, limit=5, now=NOW + WINDOW - dt.timedelta(0, 1)).allowed
    decision = admit(full, key=KEY, count=1, limit=5, now=NOW + WINDOW)
    assert decision.allowed
    assert decision.record == Throttle(
        key=KEY, failures=1, window_started_at=NOW + WINDOW, expires_at=NOW + 2 * WINDOW
    )


def test_a_call_larger_than_the_limit_opens_a_window_to_mark_its_refusal():
    decision = admit(None, key=KEY, count=6, limit=5, now=NOW)
    assert not decision.allowed
    assert decision.audited
    assert decision.record == Throttle(
        key=KEY,
        failures=0,
        window_started_at=NOW,
        expires_at=NOW + WINDOW,
        locked_until=NOW + WINDOW,
    )


def test_the_errors_say_which_limit_and_when_to_try_again():
    used = Throttle(key=KEY, failures=4, window_started_at=NOW, expires_at=NOW + WINDOW)
    later = NOW + dt.timedelta(minutes=15)
    decision = admit(used, key=KEY, count=3, limit=5, now=later)

    error = invitation_refusal(decision, 5, 3, later)
    assert error.retry_after == 45 * 60
    assert str(error) == (
        "this business account has reached its limit of 5 invitation emails per hour: 4 "
        "were sent in this hour, 1 remains, and this call would send 3; try again after "
        "2030-01-01T10:00:00+00:00"
    )
    too_big = invitation_refusal(decision, 5, 9, later)
    assert "send them in smaller batches (1 may be sent now, 5 after 2030-01-01T10:00" in str(
        too_big
    )
    activation = activation_refusal(decision, 5, later)
    assert activation.retry_after == 45 * 60
    assert str(activation) == (
        "this license key has reached its limit of 5 activations per hour; try again after "
        "2030-01-01T10:00:00+00:00"
    )


@given(
    limit=st.integers(1, 20),
    calls=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 25)), max_size=40),
)
def test_no_window_ever_counts_more_than_the_limit(limit, calls):
    """Whatever the calls and their spacing, what is admitted in a window fits the limit."""
    record: Throttle | None = None
    now = NOW
    admitted: list[tuple[dt.datetime, int]] = []  # (window start, count) of admitted calls
    for minutes, count in calls:
        now += dt.timedelta(minutes=minutes)
        decision = admit(record, key=KEY, count=count, limit=limit, now=now)
        if decision.allowed and count:
            assert decision.record is not None
            admitted.append((decision.record.window_started_at, count))
        if not decision.allowed:
            assert decision.used + count > limit
            assert decision.until > now
        if decision.record is not None:
            record = decision.record
            assert record.expires_at == record.window_started_at + WINDOW
    windows: dict[dt.datetime, int] = {}
    for start, count in admitted:
        windows[start] = windows.get(start, 0) + count
    assert all(total <= limit for total in windows.values())
    # Windows never overlap: each opens at or after the end of the one before.
    starts = sorted(windows)
    assert all(b - a >= WINDOW for a, b in itertools.pairwise(starts))


@given(
    limit=st.integers(1, 20),
    count=st.integers(1, 25),
    used=st.integers(0, 25),
    started_minutes_ago=st.integers(0, 130),
    locked=st.booleans(),
    fresh=st.booleans(),
)
def test_count_more_is_the_record_admit_writes_when_it_allows(
    limit, count, used, started_minutes_ago, locked, fresh
):
    """The activation's fast path counts exactly as admit does, and refuses when admit does."""
    started = NOW - dt.timedelta(minutes=started_minutes_ago)
    record = (
        None
        if fresh
        else Throttle(
            key=KEY,
            failures=used,
            window_started_at=started,
            expires_at=started + WINDOW,
            locked_until=started + WINDOW if locked else None,
        )
    )
    decision = admit(record, key=KEY, count=count, limit=limit, now=NOW)
    counted = count_more(record, key=KEY, count=count, limit=limit, now=NOW)
    if decision.allowed:
        assert counted == decision.record
    else:
        assert counted is None
