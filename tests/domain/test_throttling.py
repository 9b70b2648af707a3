"""Unit tests of guess throttling in licensekit.throttling."""

from __future__ import annotations

import datetime as dt

import pytest

from licensekit import ValidationError
from licensekit.model import Throttle
from licensekit.throttling import (
    GuessVerdict,
    ThrottlePolicy,
    judge_guess,
    locked_until,
    record_failure,
)

T0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
WINDOW = dt.timedelta(minutes=15)
MINUTE = dt.timedelta(minutes=1)
POLICY = ThrottlePolicy(max_failures=3, window=10 * MINUTE, lockout=30 * MINUTE)
KEY = "password:ann@example.com"


def fail_times(times: list[dt.datetime], policy: ThrottlePolicy = POLICY) -> Throttle:
    throttle: Throttle | None = None
    for moment in times:
        throttle = record_failure(throttle, key=KEY, now=moment, policy=policy)
    assert throttle is not None
    return throttle


class TestThrottlePolicy:
    def test_defaults_are_five_failures_in_fifteen_minutes_then_fifteen_minutes_lock(self) -> None:
        policy = ThrottlePolicy()
        assert policy.max_failures == 5
        assert policy.window == dt.timedelta(minutes=15)
        assert policy.lockout == dt.timedelta(minutes=15)

    @pytest.mark.parametrize("value", [0, -1, True, 2.5])
    def test_max_failures_must_be_a_positive_integer(self, value: object) -> None:
        with pytest.raises(ValidationError, match="max_failures must be a positive integer"):
            ThrottlePolicy(max_failures=value)  # type: ignore[arg-type]

    @pytest.mark.parametrize("field", ["window", "lockout"])
    @pytest.mark.parametrize("value", [dt.timedelta(0), -MINUTE])
    def test_durations_must_be_positive(self, field: str, value: dt.timedelta) -> None:
        with pytest.raises(ValidationError, match=f"{field} must be a positive timedelta"):
            ThrottlePolicy(**{field: value})  # type: ignore[arg-type]


class TestLockedUntil:
    def test_no_record_means_not_locked(self) -> None:
        assert locked_until(None, T0) is None

    def test_record_without_lock_means_not_locked(self) -> None:
        assert (
            locked_until(
                Throttle(key=KEY, failures=2, window_started_at=T0, expires_at=T0 + WINDOW), T0
            )
            is None
        )

    def test_active_lock_returns_its_end(self) -> None:
        end = T0 + 30 * MINUTE
        throttle = Throttle(
            key=KEY, failures=0, window_started_at=T0, expires_at=end, locked_until=end
        )
        assert locked_until(throttle, end - dt.timedelta(seconds=1)) == end

    def test_lock_is_over_exactly_at_its_end(self) -> None:
        end = T0 + 30 * MINUTE
        throttle = Throttle(
            key=KEY, failures=0, window_started_at=T0, expires_at=end, locked_until=end
        )
        assert locked_until(throttle, end) is None
        assert locked_until(throttle, end + MINUTE) is None


class TestRecordFailure:
    def test_first_failure_starts_a_window(self) -> None:
        throttle = record_failure(None, key=KEY, now=T0, policy=POLICY)
        assert throttle == Throttle(
            key=KEY, failures=1, window_started_at=T0, expires_at=T0 + POLICY.window
        )

    def test_failures_within_the_window_accumulate_without_lock(self) -> None:
        throttle = fail_times([T0, T0 + MINUTE])
        assert throttle.failures == 2
        assert throttle.window_started_at == T0
        assert locked_until(throttle, T0 + MINUTE) is None

    def test_reaching_max_failures_locks_for_the_lockout(self) -> None:
        """With max_failures=3 the third failure in the window locks the key."""
        third = T0 + 2 * MINUTE
        throttle = fail_times([T0, T0 + MINUTE, third])
        assert throttle.locked_until == third + POLICY.lockout
        assert locked_until(throttle, third) == third + POLICY.lockout

    def test_lock_resets_the_failure_count(self) -> None:
        throttle = fail_times([T0, T0 + MINUTE, T0 + 2 * MINUTE])
        assert throttle.failures == 0
        assert throttle.window_started_at == T0 + 2 * MINUTE

    def test_max_failures_of_one_locks_on_the_first_failure(self) -> None:
        policy = ThrottlePolicy(max_failures=1, window=MINUTE, lockout=MINUTE)
        throttle = record_failure(None, key=KEY, now=T0, policy=policy)
        assert throttle.locked_until == T0 + MINUTE

    def test_count_restarts_once_the_window_has_passed(self) -> None:
        after_window = T0 + POLICY.window
        throttle = fail_times([T0, T0 + MINUTE, after_window])
        assert throttle.failures == 1
        assert throttle.window_started_at == after_window
        assert throttle.locked_until is None

    def test_record_keeps_its_key(self) -> None:
        assert record_failure(None, key="token:*", now=T0, policy=POLICY).key == "token:*"

    def test_failure_while_locked_keeps_the_lock_within_the_window(self) -> None:
        locked = fail_times([T0, T0, T0])
        again = record_failure(locked, key=KEY, now=T0 + MINUTE, policy=POLICY)
        assert again.locked_until == T0 + POLICY.lockout

    def test_a_failure_never_shortens_an_active_lock(self) -> None:
        """Two racing requests may both pass the lock check; the later failure must not unlock."""
        locked = fail_times([T0, T0, T0])  # locked until T0 + 30 min; window is 10 min
        during_lock = T0 + 15 * MINUTE
        again = record_failure(locked, key=KEY, now=during_lock, policy=POLICY)
        assert locked_until(again, during_lock) == T0 + POLICY.lockout

    def test_a_lock_longer_than_the_window_keeps_its_record_until_the_lock_ends(self) -> None:
        """Purging must not forget a lock: the record expires no sooner than the lock does."""
        third = T0 + 2 * MINUTE
        throttle = fail_times([T0, T0 + MINUTE, third])  # lockout 30 min, window 10 min
        assert throttle.locked_until == third + POLICY.lockout
        assert throttle.expires_at == throttle.locked_until

    def test_a_lock_shorter_than_the_window_keeps_its_record_for_the_window(self) -> None:
        policy = ThrottlePolicy(max_failures=1, window=30 * MINUTE, lockout=MINUTE)
        throttle = record_failure(None, key=KEY, now=T0, policy=policy)
        assert (throttle.locked_until, throttle.expires_at) == (T0 + MINUTE, T0 + 30 * MINUTE)


def _locked_record() -> Throttle:
    return fail_times([T0, T0, T0])  # locked until T0 + 30 min


class TestJudgeGuess:
    """The rule for what a client presents (codes, tokens): a lock refuses unknown ones only."""

    @pytest.mark.parametrize("throttle", [None, "counting", "locked"])
    def test_what_was_found_is_allowed_whatever_the_record_says(self, throttle: str) -> None:
        record = {"counting": fail_times([T0]), "locked": _locked_record()}.get(throttle)
        assert judge_guess(record, T0 + MINUTE, found=True) is GuessVerdict.ALLOW

    def test_an_unknown_value_from_an_unlocked_key_is_counted(self) -> None:
        assert judge_guess(None, T0, found=False) is GuessVerdict.RECORD_FAILURE
        assert judge_guess(fail_times([T0]), T0, found=False) is GuessVerdict.RECORD_FAILURE

    def test_an_unknown_value_from_a_locked_key_is_refused(self) -> None:
        assert judge_guess(_locked_record(), T0 + MINUTE, found=False) is GuessVerdict.REFUSE

    def test_an_unknown_value_is_counted_again_once_the_lock_has_ended(self) -> None:
        ended = T0 + POLICY.lockout
        assert judge_guess(_locked_record(), ended, found=False) is GuessVerdict.RECORD_FAILURE
