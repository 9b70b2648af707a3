"""The pure rules of where an installed copy stands: states, grace, liveness, culling."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from licensekit import ConflictError, ValidationError
from licensekit.domain import standing
from licensekit.domain.certificates import MAX_LEASE
from licensekit.domain.model import (
    Installation,
    InstallationStatus,
    KeyStatus,
    LicenseKey,
    LicenseState,
)

T0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)


def key(**changes: object) -> LicenseKey:
    made = LicenseKey(
        id="key_1",
        account_id="acc_1",
        product="Desktop Pro",
        seats=3,
        seats_used=1,
        created_at=T0 - 30 * DAY,
        created_by="usr_1",
        value_hash=b"h",
        value_ciphertext=b"c",
    )
    return attrs.evolve(made, **changes)


def installation(**changes: object) -> Installation:
    made = Installation(
        id="ins_1",
        account_id="acc_1",
        key_id="key_1",
        computer_id="SN-1",
        computer_name="",
        email="ann@example.com",
        invitation_id="inst_1",
        activated_at=T0 - 10 * DAY,
        last_seen_at=T0 - HOUR,
        token_hash=b"t",
    )
    return attrs.evolve(made, **changes)


# == states ===================================================================================


def test_a_key_without_expiry_is_active_until_an_administrator_changes_it() -> None:
    assert standing.key_state(key(), T0 + 3650 * DAY) is LicenseState.ACTIVE
    assert standing.key_state(key(status=KeyStatus.SUSPENDED), T0) is LicenseState.SUSPENDED
    assert standing.key_state(key(status=KeyStatus.REMOVED), T0) is LicenseState.REMOVED


def test_an_expired_key_is_in_grace_until_its_grace_period_ends() -> None:
    ending = key(expires_at=T0, grace_seconds=30 * 86_400)
    assert standing.key_state(ending, T0 - dt.timedelta(seconds=1)) is LicenseState.ACTIVE
    assert standing.key_state(ending, T0) is LicenseState.GRACE
    assert standing.key_state(ending, T0 + 30 * DAY - dt.timedelta(seconds=1)) is (
        LicenseState.GRACE
    )
    assert standing.key_state(ending, T0 + 30 * DAY) is LicenseState.EXPIRED
    assert standing.ends_at(ending) == T0 + 30 * DAY
    # Without grace, expiry is the end.
    assert standing.key_state(key(expires_at=T0), T0) is LicenseState.EXPIRED
    assert standing.ends_at(key()) is None


def test_a_suspension_wins_over_expiry_and_grace() -> None:
    suspended = key(expires_at=T0, grace_seconds=86_400, status=KeyStatus.SUSPENDED)
    assert standing.key_state(suspended, T0 + HOUR) is LicenseState.SUSPENDED


def test_the_installations_own_state_comes_before_the_keys() -> None:
    live = key(status=KeyStatus.SUSPENDED)
    gone = installation(status=InstallationStatus.DEACTIVATED, deactivated_at=T0)
    culled = installation(status=InstallationStatus.CULLED, deactivated_at=T0)
    assert standing.state_of(live, installation(), blocked=False, now=T0) is (
        LicenseState.SUSPENDED
    )
    assert standing.state_of(live, gone, blocked=False, now=T0) is LicenseState.DEACTIVATED
    assert standing.state_of(live, culled, blocked=False, now=T0) is LicenseState.DEACTIVATED
    assert standing.state_of(live, gone, blocked=True, now=T0) is LicenseState.BLOCKED


# == certificates' claims =====================================================================


def test_a_running_copy_gets_claims_for_the_lease() -> None:
    claims = standing.certificate_claims(
        key(expires_at=T0 + 365 * DAY), installation(), LicenseState.ACTIVE, now=T0, lease=7 * DAY
    )
    assert claims is not None
    assert (claims.issued_at, claims.valid_until) == (T0, T0 + 7 * DAY)
    assert claims.license_expires_at == T0 + 365 * DAY
    assert (claims.installation_id, claims.computer_id, claims.license_key_id) == (
        "ins_1",
        "SN-1",
        "key_1",
    )


def test_the_lease_stops_at_the_end_of_grace() -> None:
    ending = key(expires_at=T0 - DAY, grace_seconds=3 * 86_400)
    claims = standing.certificate_claims(
        ending, installation(), LicenseState.GRACE, now=T0, lease=7 * DAY
    )
    assert claims is not None
    assert claims.license_state is LicenseState.GRACE
    assert claims.valid_until == T0 + 2 * DAY
    # Within the last hour, a shorter lease than any a host may choose.
    late = T0 + 2 * DAY - dt.timedelta(minutes=10)
    short = standing.certificate_claims(
        ending, installation(), LicenseState.GRACE, now=late, lease=7 * DAY
    )
    assert short is not None
    assert short.valid_until - short.issued_at == dt.timedelta(minutes=10)
    # Within the license's last second (certificates count whole seconds), none.
    half = dt.timedelta(milliseconds=500)
    odd = attrs.evolve(ending, expires_at=ending.expires_at + half)
    last = T0 + 2 * DAY + dt.timedelta(milliseconds=100)
    assert (
        standing.certificate_claims(
            odd, installation(), LicenseState.GRACE, now=last, lease=7 * DAY
        )
        is None
    )


@pytest.mark.parametrize(
    "state",
    [s for s in LicenseState if s not in (LicenseState.ACTIVE, LicenseState.GRACE)],
)
def test_a_copy_that_may_not_run_gets_no_claims(state: LicenseState) -> None:
    assert standing.certificate_claims(key(), installation(), state, now=T0, lease=7 * DAY) is None


@given(
    expires_in=st.integers(-400 * 86_400, 400 * 86_400),
    grace=st.integers(0, 365 * 86_400),
    lease=st.integers(3_600, int(MAX_LEASE.total_seconds())),
    micro=st.integers(0, 999_999),
)
def test_no_certificate_outlives_the_license_or_its_lease(
    expires_in: int, grace: int, lease: int, micro: int
) -> None:
    now = T0 + dt.timedelta(microseconds=micro)
    ending = key(expires_at=T0 + dt.timedelta(seconds=expires_in), grace_seconds=grace)
    state = standing.state_of(ending, installation(), blocked=False, now=now)
    claims = standing.certificate_claims(
        ending, installation(), state, now=now, lease=dt.timedelta(seconds=lease)
    )
    end = standing.ends_at(ending)
    assert end is not None
    if claims is None:
        assert state not in standing.RUNNING or end - now < dt.timedelta(seconds=1)
        return
    assert state in standing.RUNNING
    assert claims.issued_at <= now < claims.valid_until + dt.timedelta(seconds=1)
    assert claims.valid_until <= end
    assert claims.valid_until - claims.issued_at <= dt.timedelta(seconds=lease)


# == check-in times, sightings, overdue and dead ==============================================


def test_the_next_check_in_is_one_interval_away_and_never_after_the_lease() -> None:
    hourly = key(check_in_seconds=3_600)
    assert standing.check_in_due(hourly, T0, None) == T0 + HOUR
    assert standing.check_in_due(key(), T0, T0 + HOUR) == T0 + HOUR
    assert standing.check_in_due(key(), T0, T0 + 7 * DAY) == T0 + DAY


def test_last_seen_is_written_once_it_is_a_quarter_interval_old() -> None:
    daily = key()
    assert not standing.records_sighting(daily, installation(last_seen_at=T0 - 5 * HOUR), T0)
    assert standing.records_sighting(daily, installation(last_seen_at=T0 - 6 * HOUR), T0)


def test_an_installation_is_overdue_past_its_interval_and_the_sighting_lag() -> None:
    daily = key()
    on_time = installation(last_seen_at=T0 - 30 * HOUR)
    late = installation(last_seen_at=T0 - 30 * HOUR - dt.timedelta(seconds=1))
    assert not standing.is_overdue(daily, on_time, T0)
    assert standing.is_overdue(daily, late, T0)
    gone = attrs.evolve(late, status=InstallationStatus.DEACTIVATED, deactivated_at=T0)
    assert not standing.is_overdue(daily, gone, T0)


def test_an_installation_is_dead_after_its_keys_dead_after_only() -> None:
    culling = key(dead_after_seconds=3 * 86_400)
    silent = installation(last_seen_at=T0 - 3 * DAY)
    assert standing.is_dead(culling, silent, T0)
    assert not standing.is_dead(culling, silent, T0 - dt.timedelta(seconds=1))
    assert not standing.is_dead(key(), installation(last_seen_at=T0 - 3650 * DAY), T0)
    gone = attrs.evolve(silent, status=InstallationStatus.DEACTIVATED, deactivated_at=T0)
    assert not standing.is_dead(culling, gone, T0)


def test_a_cull_keeps_the_computers_claim_and_may_be_undone_within_the_window() -> None:
    culling = key(dead_after_seconds=3 * 86_400)
    culled = standing.cull(installation(), now=T0)
    assert culled.status is InstallationStatus.CULLED
    assert (culled.deactivated_at, culled.deactivated_by) == (T0, None)
    assert culled.last_state is LicenseState.ACTIVE  # what the copy was told: not yet this
    with pytest.raises(ConflictError, match="not active"):
        standing.cull(culled, now=T0)
    window = standing.RETURN_WINDOW
    assert standing.may_return(culling, culled, T0 + window - dt.timedelta(seconds=1))
    assert not standing.may_return(culling, culled, T0 + window)
    assert not standing.may_return(key(status=KeyStatus.SUSPENDED), culled, T0)
    in_grace = key(expires_at=T0 - HOUR, grace_seconds=86_400)
    assert not standing.may_return(in_grace, culled, T0)
    deactivated = installation(status=InstallationStatus.DEACTIVATED, deactivated_at=T0)
    assert not standing.may_return(culling, deactivated, T0)
    back = standing.return_to_seat(culled, now=T0 + DAY)
    assert back.is_active
    assert (back.last_seen_at, back.deactivated_at) == (T0 + DAY, None)


# == liveness settings and renewal ============================================================


def test_liveness_keeps_what_is_not_given_and_checks_the_rest() -> None:
    assert standing.liveness(key()) == (0, 86_400, None)
    assert standing.liveness(key(), grace_period=30 * DAY, dead_after=7 * DAY) == (
        30 * 86_400,
        86_400,
        7 * 86_400,
    )
    culling = key(dead_after_seconds=7 * 86_400)
    assert standing.liveness(culling, never_cull=True) == (0, 86_400, None)
    assert standing.liveness(culling, check_in_interval=HOUR) == (0, 3_600, 7 * 86_400)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"grace_period": dt.timedelta(seconds=-1)}, "grace_period must be from 0 to 365 days"),
        ({"grace_period": 366 * DAY}, "grace_period"),
        ({"grace_period": 30}, "grace_period must be a timedelta"),
        ({"check_in_interval": dt.timedelta(seconds=59)}, "check_in_interval must be from"),
        ({"check_in_interval": MAX_LEASE + dt.timedelta(seconds=1)}, "check_in_interval"),
        ({"check_in_interval": dt.timedelta(minutes=1, microseconds=5)}, "whole seconds"),
        ({"dead_after": dt.timedelta(hours=47)}, "twice the check-in interval"),
        ({"dead_after": 366 * DAY}, "dead_after"),
        ({"dead_after": 7 * DAY, "never_cull": True}, "not both"),
    ],
)
def test_liveness_out_of_bounds_is_refused(changes: dict[str, object], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        standing.liveness(key(), **changes)  # type: ignore[arg-type]


def test_a_longer_interval_may_not_leave_dead_after_too_short() -> None:
    culling = key(dead_after_seconds=2 * 86_400)
    with pytest.raises(ValidationError, match="give a new dead_after too"):
        standing.liveness(culling, check_in_interval=2 * DAY)
    assert standing.liveness(culling, check_in_interval=2 * DAY, dead_after=4 * DAY) == (
        0,
        2 * 86_400,
        4 * 86_400,
    )


def test_a_renewal_counts_from_the_old_expiry() -> None:
    in_grace = key(expires_at=T0 - 10 * DAY, grace_seconds=30 * 86_400)
    renewed = standing.renew(in_grace, 365 * DAY, now=T0)
    assert renewed.expires_at == T0 + 355 * DAY
    assert renewed.updated_at == T0
    early = standing.renew(key(expires_at=T0 + 10 * DAY), 30 * DAY, now=T0)
    assert early.expires_at == T0 + 40 * DAY


@pytest.mark.parametrize(
    ("record", "period", "error", "match"),
    [
        (key(), 30 * DAY, ConflictError, "never expires"),
        (key(expires_at=T0, status=KeyStatus.REMOVED), 30 * DAY, ConflictError, "removed"),
        (key(expires_at=T0 - 40 * DAY), 30 * DAY, ValidationError, "still be expired"),
        (key(expires_at=T0), dt.timedelta(0), ValidationError, "positive timedelta"),
        (key(expires_at=T0), 30, ValidationError, "positive timedelta"),
        (key(expires_at=dt.datetime.max.replace(tzinfo=dt.UTC)), DAY, ValidationError, "9999"),
    ],
)
def test_a_renewal_that_cannot_be_is_refused(
    record: LicenseKey, period: object, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        standing.renew(record, period, now=T0)
