"""Arguments that used to escape as raw Python exceptions: every one is now a licensekit error
with a message that says what was wrong, on every store, and nothing is written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from licensekit import MemoryStore, ValidationError
from licensekit.clock import ensure_aware
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import LicenseKitForTests, make_business_account, make_licensekit

EDGE_OF_TIME = [
    pytest.param(dt.datetime.fromisoformat("9999-12-31T23:00-05:00"), id="9999"),
    pytest.param(dt.datetime.fromisoformat("0001-01-01T00:30+01:00"), id="0001"),
]


@pytest.fixture(params=["memory", "sqlite"])
def any_kit(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LicenseKitForTests]:
    """A kit on each shipped store, built explicitly whatever LICENSEKIT_TEST_STORE says."""
    store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "kit.db")
    yield make_licensekit(store=store)
    store.close()


# == datetimes whose UTC value is out of range ============================================


@pytest.mark.parametrize("moment", EDGE_OF_TIME)
def test_an_aware_datetime_beyond_the_utc_calendar_is_a_validation_error(
    moment: dt.datetime,
) -> None:
    with pytest.raises(ValidationError, match=r"expires_at .* outside the years 1 to 9999"):
        ensure_aware(moment, "expires_at")


def test_ensure_aware_refuses_what_is_not_a_datetime() -> None:
    with pytest.raises(ValidationError, match="expires_at must be a datetime, got str"):
        ensure_aware("2030-01-01", "expires_at")  # type: ignore[arg-type]


@pytest.mark.parametrize("moment", EDGE_OF_TIME)
def test_a_key_expiry_beyond_the_utc_calendar_is_refused_and_nothing_is_added(
    any_kit: LicenseKitForTests, moment: dt.datetime
) -> None:
    admin, account = make_business_account(any_kit)
    with pytest.raises(ValidationError, match="expires_at"):
        any_kit.add_license_key(
            admin, account.id, product="Desktop Pro", value="KEY-1", seats=1, expires_at=moment
        )
    assert any_kit.list_license_keys(admin, account.id).items == ()


@pytest.mark.parametrize("moment", EDGE_OF_TIME)
def test_a_changed_expiry_beyond_the_utc_calendar_is_refused_and_the_key_kept(
    any_kit: LicenseKitForTests, moment: dt.datetime
) -> None:
    admin, account = make_business_account(any_kit)
    key = any_kit.add_license_key(admin, account.id, product="Desktop Pro", value="K", seats=1)
    with pytest.raises(ValidationError, match="expires_at"):
        any_kit.change_license_key(admin, account.id, key.id, expires_at=moment)
    assert any_kit.get_license_key(admin, account.id, key.id) == key
