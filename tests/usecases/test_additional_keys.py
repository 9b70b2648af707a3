"""Additional keys under a primary key: reserved and dynamic seats, the pool they share, the
primary's standing, and who may manage them; and grants over several keys or every key."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import pytest

from licensekit import (
    AuditAction,
    ComputerBlocked,
    ConflictError,
    DuplicateLicenseKey,
    LicenseKeyUnavailable,
    LicenseState,
    PermissionDenied,
    SeatPool,
    SeatPoolView,
    SeatsFull,
    SeatsInUse,
    Session,
    ValidationError,
)
from licensekit.testing import (
    LicenseKitForTests,
    add_member,
    make_business_account,
    make_licensekit,
)


class Family(NamedTuple):
    kit: LicenseKitForTests
    admin: Session
    account_id: str
    primary: str


def family(seats: int = 10, expires_in: dt.timedelta | None = None) -> Family:
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    expires_at = None if expires_in is None else kit.clock.now() + expires_in
    primary = kit.add_license_key(
        admin,
        account.id,
        product="Atlas",
        value="ATLAS-PRIMARY-0001",
        seats=seats,
        expires_at=expires_at,
    )
    return Family(kit, admin, account.id, primary.id)


def additional(f: Family, pool: str, seats: int, n: int = 1, **options: object) -> str:
    return f.kit.add_additional_key(
        f.admin,
        f.account_id,
        f.primary,
        value=f"ATLAS-EXTRA-{pool}-{n}",
        seats=seats,
        seat_pool=pool,
        **options,  # type: ignore[arg-type]
    ).id


def activate(f: Family, key_id: str, computer: str) -> str:
    """Invite one installer under *key_id* and activate *computer* with the code."""
    email = f"{computer}@example.com"
    f.kit.invite_installers(f.admin, f.account_id, key_id, [email])
    code = f.kit.mailer.last(to=email).data["code"]
    return f.kit.activate(code=code, computer_id=computer).installation_id


def seats_used(f: Family, key_id: str) -> int:
    return f.kit.get_license_key(f.admin, f.account_id, key_id).seats_used


def pool(f: Family) -> SeatPoolView:
    return f.kit.get_seat_pool(f.admin, f.account_id, f.primary)


# -- the guide's arithmetic ------------------------------------------------------------------


def test_the_pool_counts_as_the_guide_does() -> None:
    f = family(seats=10)
    reserved = additional(f, "reserved", 3)
    dynamic = additional(f, "dynamic", 5)
    for n in range(2):
        activate(f, f.primary, f"own-{n}")
        activate(f, reserved, f"res-{n}")
    activate(f, dynamic, "dyn-0")

    view = pool(f)

    assert view == SeatPoolView(
        key_id=f.primary,
        total=10,
        used=5,
        unused=5,
        reserved=3,
        reserved_used=2,
        reserved_available=1,
        available=10 - 5 - 3 + 2,
        additional_keys=2,
    )
    # The same pool, asked through either additional key.
    assert f.kit.get_seat_pool(f.admin, f.account_id, dynamic) == view
    assert f.kit.get_seat_pool(f.admin, f.account_id, reserved) == view
    # The primary's counter holds its own, the dynamic key's and every reserved seat.
    assert seats_used(f, f.primary) == 2 + 1 + 3
    assert (seats_used(f, reserved), seats_used(f, dynamic)) == (2, 1)


def test_a_key_without_additional_keys_is_a_pool_of_its_own() -> None:
    f = family(seats=4)
    activate(f, f.primary, "pc")
    assert pool(f) == SeatPoolView(f.primary, 4, 1, 3, 0, 0, 0, 3, 0)


def test_reserved_seats_are_for_the_reserved_key_alone() -> None:
    f = family(seats=4)
    reserved = additional(f, "reserved", 3)
    activate(f, f.primary, "own")
    with pytest.raises(SeatsFull):
        activate(f, f.primary, "own-2")
    for n in range(3):
        activate(f, reserved, f"res-{n}")
    with pytest.raises(SeatsFull):
        activate(f, reserved, "res-3")
    assert pool(f).unused == 0


def test_dynamic_keys_compete_with_the_primary_first_come_first_served() -> None:
    f = family(seats=3)
    dynamic = additional(f, "dynamic", 3)
    activate(f, dynamic, "dyn-0")
    activate(f, dynamic, "dyn-1")
    activate(f, f.primary, "own-0")
    for key_id, computer in ((dynamic, "dyn-2"), (f.primary, "own-1")):
        with pytest.raises(SeatsFull):
            activate(f, key_id, computer)
    assert (seats_used(f, f.primary), seats_used(f, dynamic)) == (3, 2)


def test_a_dynamic_keys_seats_cap_it_even_with_room_in_the_pool() -> None:
    f = family(seats=10)
    dynamic = additional(f, "dynamic", 1)
    activate(f, dynamic, "dyn-0")
    with pytest.raises(SeatsFull):
        activate(f, dynamic, "dyn-1")
    # The refused claim left the primary's counter as it was.
    assert seats_used(f, f.primary) == 1
    assert pool(f).available == 9


def test_deactivating_a_dynamic_installation_frees_both_counters() -> None:
    f = family(seats=2)
    dynamic = additional(f, "dynamic", 2)
    installation = activate(f, dynamic, "dyn-0")
    f.kit.deactivate_installation(f.admin, f.account_id, installation)
    assert (seats_used(f, f.primary), seats_used(f, dynamic)) == (0, 0)
    activate(f, f.primary, "own-0")
    activate(f, f.primary, "own-1")


def test_reserving_more_than_the_pool_has_free_is_refused_and_writes_nothing() -> None:
    f = family(seats=4)
    activate(f, f.primary, "own")
    before = f.kit.store.dump()
    with pytest.raises(SeatsFull, match="3 seats free"):
        additional(f, "reserved", 4)
    assert f.kit.store.dump() == before


def test_an_additional_key_cannot_have_more_seats_than_its_primary() -> None:
    f = family(seats=4)
    with pytest.raises(ValidationError, match="at most its 4 seats"):
        additional(f, "dynamic", 5)


def test_changing_a_reserved_keys_seats_moves_them_in_and_out_of_the_pool() -> None:
    f = family(seats=10)
    reserved = additional(f, "reserved", 3)
    activate(f, reserved, "res-0")
    f.kit.change_license_key(f.admin, f.account_id, reserved, seats=6)
    assert seats_used(f, f.primary) == 6
    f.kit.change_license_key(f.admin, f.account_id, reserved, seats=1)
    assert seats_used(f, f.primary) == 1
    activate(f, f.primary, "own-0")
    with pytest.raises(SeatsFull):
        f.kit.change_license_key(f.admin, f.account_id, reserved, seats=10)
    assert seats_used(f, f.primary) == 2


def test_a_reserved_key_cannot_shrink_below_its_installations() -> None:
    f = family(seats=10)
    reserved = additional(f, "reserved", 3)
    activate(f, reserved, "res-0")
    activate(f, reserved, "res-1")
    with pytest.raises(SeatsInUse):
        f.kit.change_license_key(f.admin, f.account_id, reserved, seats=1)
    assert seats_used(f, f.primary) == 3


# -- the primary's standing ------------------------------------------------------------------


def test_an_additional_key_takes_its_primarys_expiry_and_never_a_later_one() -> None:
    f = family(expires_in=dt.timedelta(days=30))
    primary = f.kit.get_license_key(f.admin, f.account_id, f.primary)
    inherited = f.kit.get_license_key(f.admin, f.account_id, additional(f, "dynamic", 1))
    assert inherited.expires_at == primary.expires_at
    assert primary.expires_at is not None
    later = primary.expires_at + dt.timedelta(days=1)
    with pytest.raises(ValidationError, match="no later than its primary"):
        additional(f, "dynamic", 1, n=2, expires_at=later)
    with pytest.raises(ValidationError, match="no later than its primary"):
        f.kit.change_license_key(f.admin, f.account_id, inherited.id, clear_expiry=True)
    with pytest.raises(ValidationError, match="no later than its primary"):
        f.kit.renew_license_key(f.admin, f.account_id, inherited.id, period=dt.timedelta(days=1))
    sooner = primary.expires_at - dt.timedelta(days=10)
    changed = f.kit.change_license_key(f.admin, f.account_id, inherited.id, expires_at=sooner)
    assert changed.expires_at == sooner


def test_a_suspended_primary_stops_its_additional_keys() -> None:
    f = family()
    dynamic = additional(f, "dynamic", 3)
    activate(f, dynamic, "dyn-0")
    f.kit.suspend_license_key(f.admin, f.account_id, f.primary)
    with pytest.raises(LicenseKeyUnavailable, match="suspended"):
        activate(f, dynamic, "dyn-1")
    f.kit.resume_license_key(f.admin, f.account_id, f.primary)
    activate(f, dynamic, "dyn-1")


def test_check_in_through_an_additional_key_tells_the_primarys_suspension() -> None:
    f = family()
    dynamic = additional(f, "dynamic", 3)
    email = "checker@example.com"
    f.kit.invite_installers(f.admin, f.account_id, dynamic, [email])
    result = f.kit.activate(code=f.kit.mailer.last(to=email).data["code"], computer_id="pc")
    assert f.kit.check_in(result.installation_token).license_state is LicenseState.ACTIVE
    f.kit.suspend_license_key(f.admin, f.account_id, f.primary)
    assert f.kit.check_in(result.installation_token).license_state is LicenseState.SUSPENDED


def test_additional_keys_under_an_additional_key_are_refused() -> None:
    f = family()
    dynamic = additional(f, "dynamic", 3)
    with pytest.raises(ConflictError, match="is an additional key"):
        f.kit.add_additional_key(
            f.admin, f.account_id, dynamic, value="NESTED-0001", seats=1, seat_pool="dynamic"
        )


def test_an_unknown_seat_pool_is_refused() -> None:
    f = family()
    with pytest.raises(ValidationError, match="reserved' or 'dynamic"):
        additional(f, "shared", 1)


def test_an_additional_key_licenses_its_primarys_product() -> None:
    f = family()
    with pytest.raises(ValidationError, match="primary's product"):
        additional(f, "dynamic", 1, product="Other")
    key = f.kit.get_license_key(f.admin, f.account_id, additional(f, "dynamic", 1, n=2))
    assert (key.product, key.primary_id, key.seat_pool) == ("Atlas", f.primary, SeatPool.DYNAMIC)


# -- giving seats back -----------------------------------------------------------------------


def test_removing_a_reserved_key_gives_its_seats_back_and_resuming_takes_them_again() -> None:
    f = family(seats=4)
    reserved = additional(f, "reserved", 3)
    f.kit.remove_license_key(f.admin, f.account_id, reserved)
    assert seats_used(f, f.primary) == 0
    for n in range(3):
        activate(f, f.primary, f"own-{n}")
    with pytest.raises(SeatsFull, match="needs 3"):
        f.kit.resume_license_key(f.admin, f.account_id, reserved)
    f.kit.deactivate_installation(
        f.admin,
        f.account_id,
        f.kit.list_installations(f.admin, f.account_id, f.primary).items[0].id,
    )
    f.kit.deactivate_installation(
        f.admin,
        f.account_id,
        f.kit.list_installations(f.admin, f.account_id, f.primary).items[0].id,
    )
    f.kit.resume_license_key(f.admin, f.account_id, reserved)
    assert seats_used(f, f.primary) == 1 + 3


def test_a_key_with_installations_is_not_removed_nor_a_primary_with_additional_keys() -> None:
    f = family()
    reserved = additional(f, "reserved", 2)
    activate(f, reserved, "res-0")
    with pytest.raises(SeatsInUse):
        f.kit.remove_license_key(f.admin, f.account_id, reserved)
    with pytest.raises(ConflictError, match="has additional keys"):
        f.kit.remove_license_key(f.admin, f.account_id, f.primary)


def test_an_ended_reserved_key_gives_its_seats_back_when_the_pool_needs_them() -> None:
    f = family(seats=3)
    reserved = additional(f, "reserved", 2, expires_at=make_future(f, hours=5))
    activate(f, f.primary, "own-0")
    with pytest.raises(SeatsFull):
        activate(f, f.primary, "own-1")
    f.kit.clock.advance(hours=6)
    assert pool(f).available == 2  # the view counts the lapsed hold as given back
    activate(f, f.primary, "own-1")
    activate(f, f.primary, "own-2")
    released = [
        e
        for e in f.kit.list_audit_events(f.admin, f.account_id).items
        if e.action is AuditAction.LICENSE_KEY_RELEASED
    ]
    assert [(e.subject, e.details["seats"]) for e in released] == [(reserved, "2")]
    assert seats_used(f, f.primary) == 3


def test_an_ended_dynamic_key_no_longer_holds_pool_seats() -> None:
    f = family(seats=2)
    dynamic = additional(f, "dynamic", 2, expires_at=make_future(f, hours=5))
    activate(f, dynamic, "dyn-0")
    activate(f, dynamic, "dyn-1")
    f.kit.clock.advance(hours=6)
    activate(f, f.primary, "own-0")
    assert (seats_used(f, f.primary), seats_used(f, dynamic)) == (1, 2)


def make_future(f: Family, **delta: float) -> dt.datetime:
    return f.kit.clock.now() + dt.timedelta(**delta)


def test_culling_a_dynamic_installation_frees_the_primarys_seat_too() -> None:
    f = family(seats=1)
    f.kit.change_license_key(
        f.admin,
        f.account_id,
        f.primary,
        check_in_interval=dt.timedelta(hours=1),
        dead_after=dt.timedelta(hours=2),
    )
    dynamic = additional(f, "dynamic", 1)
    activate(f, dynamic, "dyn-0")
    f.kit.clock.advance(hours=3)
    assert f.kit.cull_installations().culled == 1
    assert (seats_used(f, f.primary), seats_used(f, dynamic)) == (0, 0)
    activate(f, f.primary, "own-0")


# -- who may manage them ---------------------------------------------------------------------


def test_a_license_administrator_of_the_primary_manages_its_additional_keys() -> None:
    f = family()
    keeper = add_member(f.kit, f.admin, f.account_id, "keeper@example.com")
    f.kit.grant_license_administrator(f.admin, f.account_id, keeper.user_id, f.primary)
    added = f.kit.add_additional_key(
        keeper, f.account_id, f.primary, value="KEEPER-EXTRA-1", seats=2, seat_pool="dynamic"
    )
    assert added.masked_value is None  # License Administrators never see values
    f.kit.change_license_key(keeper, f.account_id, added.id, seats=1)
    f.kit.invite_installers(keeper, f.account_id, added.id, ["user@example.com"])
    assert f.kit.get_seat_pool(keeper, f.account_id, added.id).additional_keys == 1
    listed = f.kit.list_license_keys(keeper, f.account_id).items
    assert {k.id for k in listed} == {f.primary, added.id}
    f.kit.suspend_license_key(keeper, f.account_id, added.id)
    f.kit.remove_license_key(keeper, f.account_id, added.id)
    # The primary itself stays an Account Administrator's to change.
    with pytest.raises(PermissionDenied):
        f.kit.change_license_key(keeper, f.account_id, f.primary, seats=20)


def test_a_license_administrator_of_an_additional_key_alone_may_not_change_it() -> None:
    f = family()
    extra = additional(f, "dynamic", 2)
    keeper = add_member(f.kit, f.admin, f.account_id, "keeper@example.com")
    f.kit.grant_license_administrator(f.admin, f.account_id, keeper.user_id, extra)
    f.kit.invite_installers(keeper, f.account_id, extra, ["user@example.com"])
    with pytest.raises(PermissionDenied):
        f.kit.change_license_key(keeper, f.account_id, extra, seats=1)
    with pytest.raises(PermissionDenied):
        f.kit.add_additional_key(
            keeper, f.account_id, f.primary, value="NOPE-0001", seats=1, seat_pool="dynamic"
        )
    with pytest.raises(PermissionDenied):
        f.kit.get_seat_pool(keeper, f.account_id, f.primary)


@pytest.mark.parametrize("who", ["regular member", "license administrator of another key"])
def test_others_may_not_add_additional_keys(who: str) -> None:
    f = family()
    other = f.kit.add_license_key(f.admin, f.account_id, product="Other", value="OTHER-1", seats=1)
    member = add_member(f.kit, f.admin, f.account_id, "someone@example.com")
    if who != "regular member":
        f.kit.grant_license_administrator(f.admin, f.account_id, member.user_id, other.id)
    before = f.kit.store.dump()
    with pytest.raises(PermissionDenied):
        f.kit.add_additional_key(
            member, f.account_id, f.primary, value="NOPE-0002", seats=1, seat_pool="reserved"
        )
    assert f.kit.store.dump() == before


# -- grants over several keys and every key --------------------------------------------------


def test_grant_key_rights_over_several_keys_in_one_call() -> None:
    f = family()
    other = f.kit.add_license_key(f.admin, f.account_id, product="Other", value="OTHER-1", seats=1)
    keeper = add_member(f.kit, f.admin, f.account_id, "keeper@example.com")
    view = f.kit.grant_key_rights(
        f.admin, f.account_id, keeper.user_id, key_ids=[f.primary, other.id, f.primary]
    )
    assert view.license_keys == tuple(sorted((f.primary, other.id)))
    with pytest.raises(ConflictError, match="already"):
        f.kit.grant_key_rights(f.admin, f.account_id, keeper.user_id, key_ids=[other.id])
    view = f.kit.revoke_key_rights(f.admin, f.account_id, keeper.user_id, key_ids=[other.id])
    assert view.license_keys == (f.primary,)
    with pytest.raises(ConflictError, match="not License Administrator"):
        f.kit.revoke_key_rights(f.admin, f.account_id, keeper.user_id, key_ids=[other.id])


def test_a_grant_over_every_key_covers_keys_added_later_until_revoked() -> None:
    f = family()
    keeper = add_member(f.kit, f.admin, f.account_id, "keeper@example.com")
    view = f.kit.grant_key_rights(f.admin, f.account_id, keeper.user_id, all_keys=True)
    assert view.all_license_keys
    later = f.kit.add_license_key(f.admin, f.account_id, product="Later", value="LATER-1", seats=2)
    f.kit.invite_installers(keeper, f.account_id, later.id, ["user@example.com"])
    assert len(f.kit.list_license_keys(keeper, f.account_id).items) == 2
    with pytest.raises(ConflictError):
        f.kit.grant_license_administrator(f.admin, f.account_id, keeper.user_id, later.id)
    f.kit.revoke_key_rights(f.admin, f.account_id, keeper.user_id, all_keys=True)
    with pytest.raises(PermissionDenied):
        f.kit.invite_installers(keeper, f.account_id, later.id, ["user2@example.com"])


def test_a_role_change_ends_a_grant_over_every_key() -> None:
    f = family()
    keeper = add_member(f.kit, f.admin, f.account_id, "keeper@example.com")
    f.kit.grant_key_rights(f.admin, f.account_id, keeper.user_id, all_keys=True)
    f.kit.block_member(f.admin, f.account_id, keeper.user_id)
    f.kit.unblock_member(f.admin, f.account_id, keeper.user_id)
    assert not f.kit.get_member(f.admin, f.account_id, keeper.user_id).all_license_keys


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({}, "name the keys"),
        ({"key_ids": ["k"], "all_keys": True}, "not both"),
        ({"key_ids": "key_1"}, "list of key ids"),
        ({"key_ids": [1]}, "list of key ids"),
        ({"key_ids": [["key_1"]]}, "list of key ids"),
        ({"key_ids": [{}]}, "list of key ids"),
    ],
)
def test_grant_key_rights_refuses_unclear_requests(options: dict[str, object], match: str) -> None:
    f = family()
    keeper = add_member(f.kit, f.admin, f.account_id, "keeper@example.com")
    with pytest.raises(ValidationError, match=match):
        f.kit.grant_key_rights(f.admin, f.account_id, keeper.user_id, **options)  # type: ignore[arg-type]


def test_grants_over_every_key_are_audited() -> None:
    f = family()
    keeper = add_member(f.kit, f.admin, f.account_id, "keeper@example.com")
    f.kit.grant_key_rights(f.admin, f.account_id, keeper.user_id, all_keys=True)
    f.kit.revoke_key_rights(f.admin, f.account_id, keeper.user_id, all_keys=True)
    actions = [e.action for e in f.kit.list_audit_events(f.admin, f.account_id).items]
    assert AuditAction.LICENSE_ADMIN_GRANTED_ALL in actions
    assert AuditAction.LICENSE_ADMIN_REVOKED_ALL in actions


def test_an_additional_key_of_a_removed_primary_stays_removed() -> None:
    f = family()
    extra = additional(f, "dynamic", 2)
    f.kit.remove_license_key(f.admin, f.account_id, extra)
    f.kit.remove_license_key(f.admin, f.account_id, f.primary)
    with pytest.raises(ConflictError, match="primary of"):
        f.kit.resume_license_key(f.admin, f.account_id, extra)
    f.kit.resume_license_key(f.admin, f.account_id, f.primary)
    f.kit.resume_license_key(f.admin, f.account_id, extra)


def test_a_block_of_the_primary_stops_its_additional_keys() -> None:
    f = family()
    dynamic = additional(f, "dynamic", 2)
    activate(f, dynamic, "stolen")
    keeper = add_member(f.kit, f.admin, f.account_id, "keeper@example.com")
    f.kit.grant_license_administrator(f.admin, f.account_id, keeper.user_id, f.primary)
    f.kit.block_computer_id(keeper, f.account_id, "stolen", key_id=f.primary)
    # The block deactivated the computer under the additional key too, and holds there.
    assert f.kit.list_installations(f.admin, f.account_id, dynamic).items == ()
    with pytest.raises(ComputerBlocked):
        activate(f, dynamic, "stolen")
    assert (seats_used(f, f.primary), seats_used(f, dynamic)) == (0, 0)


def test_a_license_administrator_of_the_primary_sees_the_blocks_of_its_additional_keys() -> None:
    f = family()
    dynamic = additional(f, "dynamic", 2)
    keeper = add_member(f.kit, f.admin, f.account_id, "keeper@example.com")
    f.kit.grant_license_administrator(f.admin, f.account_id, keeper.user_id, f.primary)
    f.kit.block_computer_id(keeper, f.account_id, "c9", key_id=dynamic)
    listed = f.kit.list_blocked_computers(keeper, f.account_id).items
    assert [(b.computer_id, b.key_id) for b in listed] == [("c9", dynamic)]


def test_a_duplicate_value_names_the_key_to_account_administrators_only() -> None:
    f = family()
    other = f.kit.add_license_key(
        f.admin, f.account_id, product="Other", value="OTHER-SECRET-1", seats=1
    )
    keeper = add_member(f.kit, f.admin, f.account_id, "keeper@example.com")
    f.kit.grant_license_administrator(f.admin, f.account_id, keeper.user_id, f.primary)
    with pytest.raises(DuplicateLicenseKey) as refused:
        f.kit.add_additional_key(
            keeper, f.account_id, f.primary, value="OTHER-SECRET-1", seats=1, seat_pool="dynamic"
        )
    assert other.id not in str(refused.value)
    with pytest.raises(DuplicateLicenseKey, match=other.id):
        f.kit.add_additional_key(
            f.admin, f.account_id, f.primary, value="OTHER-SECRET-1", seats=1, seat_pool="dynamic"
        )
