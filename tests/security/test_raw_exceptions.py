"""Arguments that used to escape as raw Python exceptions: every one is now a licensekit error
with a message that says what was wrong, on every store, and nothing is written."""

from __future__ import annotations

import datetime as dt
import inspect
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from _records import records
from _use_cases import World, arguments_for, new_world, use_cases, valid_values, world
from licensekit import (
    AccountNotFound,
    IncompatibleStore,
    InstallationNotFound,
    InvitationNotFound,
    LicenseKeyNotFound,
    LicenseKit,
    MemberNotFound,
    MemoryStore,
    NotFound,
    StorageError,
    ValidationError,
)
from licensekit.clock import ensure_aware
from licensekit.storage import USERS
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import LicenseKitForTests, make_business_account, make_licensekit

__all__ = ["new_world", "world"]  # fixtures, used by name

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


# == ids that are not text ================================================================

NOT_TEXT = {"a list": ["x"], "a number": 42, "bytes": b"x", "None": None}
NOT_FOUND = {
    "account_id": AccountNotFound,
    "user_id": MemberNotFound,
    "key_id": LicenseKeyNotFound,
    "invitation_id": InvitationNotFound,
    "installation_id": InstallationNotFound,
}


def required_ids(method_name: str) -> list[str]:
    """The required parameters of a use case that name a record by its id."""
    parameters = list(inspect.signature(getattr(LicenseKit, method_name)).parameters.values())
    return [
        p.name
        for p in parameters
        if p.name.endswith("_id")
        and p.name != "computer_id"  # a name the installer chooses, not a record's id
        and p.default is inspect.Parameter.empty
    ]


def test_the_ids_of_the_use_cases_are_found() -> None:
    assert required_ids("grant_license_administrator") == ["account_id", "user_id", "key_id"]
    assert required_ids("unblock_computer") == ["account_id"]


@pytest.mark.parametrize("method_name", [m for m in use_cases() if required_ids(m)])
def test_an_id_that_is_not_text_matches_nothing_on_every_store(
    world: World, method_name: str
) -> None:
    """The same NotFound as an unknown id, on the accounts side as on the licensing side."""
    function = getattr(LicenseKit, method_name)
    values = valid_values(world, method_name)
    before = world.kit.list_audit_events(world.admin, world.account_id, limit=500).items
    wrong: list[str] = []
    for target in required_ids(method_name):
        for what, value in NOT_TEXT.items():
            expected = NOT_FOUND.get(target, NotFound)
            try:
                getattr(world.kit, method_name)(**arguments_for(function, values, target, value))
            except expected:
                continue
            except Exception as e:  # what this test is for
                wrong.append(f"{target} as {what}: {type(e).__name__}: {e}")
            else:
                wrong.append(f"{target} as {what}: returned")
    assert not wrong, f"{method_name}: " + "; ".join(wrong)
    assert world.kit.list_audit_events(world.admin, world.account_id, limit=500).items == before


def test_the_issues_examples_answer_not_found(world: World) -> None:
    kit, admin, account_id = world.kit, world.admin, world.account_id
    with pytest.raises(AccountNotFound):
        kit.list_members(admin, ["x"])  # type: ignore[arg-type]
    with pytest.raises(MemberNotFound):
        kit.get_member(admin, account_id, ["x"])  # type: ignore[arg-type]
    with pytest.raises(MemberNotFound):
        kit.grant_license_administrator(admin, account_id, ["x"], world.key_id)  # type: ignore[arg-type]


# == opening only an existing database ====================================================


def test_a_store_opened_without_create_refuses_an_empty_file_and_leaves_it_empty(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "typo.db"
    empty.touch()
    with pytest.raises(IncompatibleStore, match="holds no licensekit database yet"):
        SQLiteStore(empty, create=False)
    assert empty.read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["typo.db"]


def test_a_store_opened_without_create_never_creates_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot open"):
        SQLiteStore(tmp_path / "missing.db", create=False)
    assert list(tmp_path.iterdir()) == []


def test_a_store_opened_without_create_refuses_a_sqlite_file_without_licensekit_tables(
    tmp_path: Path,
) -> None:
    path = tmp_path / "other.db"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 0")
    connection.execute("VACUUM")
    connection.close()
    before = path.read_bytes()
    with pytest.raises(IncompatibleStore, match="holds no licensekit database yet"):
        SQLiteStore(path, create=False)
    assert path.read_bytes() == before


def test_a_store_opened_without_create_opens_a_licensekit_database(tmp_path: Path) -> None:
    path = tmp_path / "kit?#%.db"  # characters a URI must escape
    SQLiteStore(path).close()
    store = SQLiteStore(path, create=False)
    with records(store) as tx:
        assert tx.get(USERS, "usr_nobody") is None
    store.close()
