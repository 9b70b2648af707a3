"""Moving installations to another key, and replacing a leaked key by a new one.

A move is all or nothing: every chosen installation moves, keeping its id and token, with
its seat, or nothing changes (seats lacking, a blocked computer, a computer the new key
holds already). A replacement gives the key a new value and everything else of the old:
installations, codes still in force, License Administrators, culling.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import pytest

from _records import records
from licensekit import (
    AccountNotFound,
    ActivationCodeUsedUp,
    ActivationResult,
    AuditAction,
    ComputerBlocked,
    ConflictError,
    DuplicateLicenseKey,
    InstallationNotFound,
    InstallationStatus,
    KeyStatus,
    LicenseKeyNotFound,
    LicenseState,
    MoveReport,
    PermissionDenied,
    SeatPool,
    SeatsFull,
    SeatsInUse,
    Session,
    ValidationError,
)
from licensekit.storage import INSTALL_INVITATIONS, INSTALLATIONS
from licensekit.testing import (
    TEST_PASSWORD,
    LicenseKitForTests,
    add_member,
    make_business_account,
    make_licensekit,
)


class Shop(NamedTuple):
    kit: LicenseKitForTests
    admin: Session
    account_id: str
    old: str
    """Key "Desktop Pro", 5 seats."""
    new: str
    """Another key of "Desktop Pro", 5 seats."""
    other_product: str
    """A key of "Mobile", 5 seats."""


def _shop(**kit_options: object) -> Shop:
    kit = make_licensekit(**kit_options)  # type: ignore[arg-type]
    admin, account = make_business_account(kit)
    keys = [
        kit.add_license_key(admin, account.id, product=product, value=value, seats=5).id
        for product, value in (
            ("Desktop Pro", "OLD-1"),
            ("Desktop Pro", "NEW-1"),
            ("Mobile", "M-1"),
        )
    ]
    return Shop(kit, admin, account.id, *keys)


@pytest.fixture
def shop() -> Shop:
    return _shop()


_invited = 0


def install(shop: Shop, key_id: str, *computers: str) -> list[ActivationResult]:
    """Activate *computers* under *key_id*, each with its own invitation's code."""
    global _invited
    results = []
    for computer in computers:
        _invited += 1
        email = f"user{_invited}@example.com"
        shop.kit.invite_installers(shop.admin, shop.account_id, key_id, [email])
        code = shop.kit.mailer.last(to=email).data["code"]
        results.append(shop.kit.activate(code=code, computer_id=computer))
    return results


def later(shop: Shop, days: int) -> Shop:
    """The shop *days* later, its administrator logged in again (sessions expire)."""
    shop.kit.clock.advance(days=days)
    return shop._replace(admin=shop.kit.log_in("admin@example.com", TEST_PASSWORD))


def seats_used(shop: Shop, key_id: str) -> int:
    return shop.kit.get_license_key(shop.admin, shop.account_id, key_id).seats_used


def listed(shop: Shop, key_id: str, *, include_inactive: bool = False) -> dict[str, str]:
    """The key's installations: id to status."""
    page = shop.kit.list_installations(
        shop.admin, shop.account_id, key_id, include_inactive=include_inactive, limit=500
    )
    return {i.id: i.status.value for i in page.items}


def trail(shop: Shop) -> list[object]:
    return list(shop.kit.list_audit_events(shop.admin, shop.account_id, limit=500).items)


def license_admin(shop: Shop, email: str, *keys: str) -> Session:
    member = add_member(shop.kit, shop.admin, shop.account_id, email)
    for key_id in keys:
        shop.kit.grant_license_administrator(shop.admin, shop.account_id, member.user_id, key_id)
    return shop.kit.log_in(email, TEST_PASSWORD)


# == moving ==================================================================================


def test_moving_every_active_installation_keeps_ids_and_tokens_and_moves_the_seats(
    shop: Shop,
) -> None:
    kit = shop.kit
    moved = install(shop, shop.old, "pc-1", "pc-2", "pc-3")
    (gone,) = install(shop, shop.old, "pc-4")
    kit.deactivate_installation(shop.admin, shop.account_id, gone.installation_id)

    report = kit.move_installations(shop.admin, shop.account_id, shop.old, shop.new)

    assert report == MoveReport(shop.old, shop.new, installations=3, seats=3)
    assert listed(shop, shop.new) == {r.installation_id: "active" for r in moved}
    assert listed(shop, shop.old, include_inactive=True) == {gone.installation_id: "deactivated"}
    assert (seats_used(shop, shop.old), seats_used(shop, shop.new)) == (0, 3)
    for result in moved:
        checked = kit.check_in(result.installation_token)
        assert checked.installation.key_id == shop.new
        assert checked.installation.id == result.installation_id
        assert checked.license_state is LicenseState.ACTIVE


def test_moving_listed_installations_leaves_the_others(shop: Shop) -> None:
    one, two, three = install(shop, shop.old, "pc-1", "pc-2", "pc-3")
    report = shop.kit.move_installations(
        shop.admin,
        shop.account_id,
        shop.old,
        shop.new,
        installation_ids=[one.installation_id, three.installation_id],
    )
    assert (report.installations, report.seats) == (2, 2)
    assert set(listed(shop, shop.new)) == {one.installation_id, three.installation_id}
    assert set(listed(shop, shop.old)) == {two.installation_id}
    assert (seats_used(shop, shop.old), seats_used(shop, shop.new)) == (1, 2)


def test_a_move_is_audited_once_with_its_counts(shop: Shop) -> None:
    install(shop, shop.old, "pc-1", "pc-2")
    shop.kit.move_installations(shop.admin, shop.account_id, shop.old, shop.new)
    (moved,) = [e for e in trail(shop) if e.action is AuditAction.INSTALLATIONS_MOVED]  # type: ignore[attr-defined]
    assert moved.subject == shop.old
    assert moved.details["to_key_id"] == shop.new
    assert (moved.details["installations"], moved.details["seats"]) == ("2", "2")


def test_nothing_to_move_changes_nothing(shop: Shop) -> None:
    before = trail(shop)
    report = shop.kit.move_installations(shop.admin, shop.account_id, shop.old, shop.new)
    assert report == MoveReport(shop.old, shop.new, 0, 0)
    assert trail(shop) == before


def test_certificates_after_a_move_name_the_new_key() -> None:
    from licensekit.signing import Ed25519Signer
    from licensekit.verifier import verify_certificate

    signer = Ed25519Signer.generate()
    shop = _shop(signer=signer)
    (result,) = install(shop, shop.old, "pc-1")
    shop.kit.move_installations(shop.admin, shop.account_id, shop.old, shop.new)
    checked = shop.kit.check_in(result.installation_token)
    assert checked.certificate is not None
    verified = verify_certificate(
        checked.certificate,
        dict(signer.public_keys()),
        computer_id="pc-1",
        now=shop.kit.clock.now(),
    )
    assert verified.license_key_id == shop.new


def test_a_move_that_lacks_seats_changes_nothing_and_says_how_many(shop: Shop) -> None:
    kit = shop.kit
    install(shop, shop.old, "pc-1", "pc-2", "pc-3")
    install(shop, shop.new, "pc-7", "pc-8", "pc-9")  # 2 of 5 seats left
    before = (listed(shop, shop.old), listed(shop, shop.new), trail(shop))

    with pytest.raises(SeatsFull) as refused:
        kit.move_installations(shop.admin, shop.account_id, shop.old, shop.new)

    assert (refused.value.needed, refused.value.free) == (3, 2)
    assert "3 free seats" in str(refused.value)
    assert (listed(shop, shop.old), listed(shop, shop.new), trail(shop)) == before
    assert (seats_used(shop, shop.old), seats_used(shop, shop.new)) == (3, 3)


def test_keys_of_another_product_the_same_key_or_a_suspended_key_are_refused(
    shop: Shop,
) -> None:
    kit = shop.kit
    install(shop, shop.old, "pc-1")
    with pytest.raises(ConflictError, match="Mobile"):
        kit.move_installations(shop.admin, shop.account_id, shop.old, shop.other_product)
    with pytest.raises(ValidationError, match="another key"):
        kit.move_installations(shop.admin, shop.account_id, shop.old, shop.old)
    kit.suspend_license_key(shop.admin, shop.account_id, shop.new)
    with pytest.raises(ConflictError, match="suspended"):
        kit.move_installations(shop.admin, shop.account_id, shop.old, shop.new)
    assert seats_used(shop, shop.old) == 1


def test_listed_ids_must_be_live_installations_of_the_key(shop: Shop) -> None:
    kit = shop.kit
    (one,) = install(shop, shop.old, "pc-1")
    (elsewhere,) = install(shop, shop.new, "pc-2")
    (gone,) = install(shop, shop.old, "pc-3")
    kit.deactivate_installation(shop.admin, shop.account_id, gone.installation_id)
    move = kit.move_installations
    with pytest.raises(InstallationNotFound):
        move(shop.admin, shop.account_id, shop.old, shop.new, installation_ids=["ins_nope"])
    with pytest.raises(InstallationNotFound):
        move(
            shop.admin,
            shop.account_id,
            shop.old,
            shop.new,
            installation_ids=[one.installation_id, elsewhere.installation_id],
        )
    with pytest.raises(ConflictError, match="deactivated"):
        move(
            shop.admin, shop.account_id, shop.old, shop.new, installation_ids=[gone.installation_id]
        )
    with pytest.raises(ValidationError):
        move(shop.admin, shop.account_id, shop.old, shop.new, installation_ids=[])
    assert listed(shop, shop.old) == {one.installation_id: "active"}


def test_an_inactive_record_of_the_computer_under_the_new_key_is_replaced(shop: Shop) -> None:
    kit = shop.kit
    (earlier,) = install(shop, shop.new, "pc-1")
    kit.deactivate_installation(shop.admin, shop.account_id, earlier.installation_id)
    (current,) = install(shop, shop.old, "pc-1")

    report = kit.move_installations(shop.admin, shop.account_id, shop.old, shop.new)

    assert (report.installations, report.replaced) == (1, 1)
    assert listed(shop, shop.new, include_inactive=True) == {current.installation_id: "active"}
    assert kit.check_in(current.installation_token).installation.key_id == shop.new
    with pytest.raises(InstallationNotFound):
        kit.check_in(earlier.installation_token)
    assert seats_used(shop, shop.new) == 1


def test_a_culled_record_under_the_new_key_loses_its_claim_on_its_code(shop: Shop) -> None:
    kit = shop.kit
    kit.change_license_key(shop.admin, shop.account_id, shop.new, dead_after=dt.timedelta(days=3))
    (earlier,) = install(shop, shop.new, "pc-1")
    shop = later(shop, 4)
    assert kit.cull_installations().culled == 1
    (current,) = install(shop, shop.old, "pc-1")
    with records(kit.store) as tx:
        culled = tx.get(INSTALLATIONS, earlier.installation_id)
    assert culled is not None
    assert culled.status is InstallationStatus.CULLED

    kit.move_installations(shop.admin, shop.account_id, shop.old, shop.new)

    with records(kit.store) as tx:
        old_record = tx.get(INSTALLATIONS, earlier.installation_id)
        moved = tx.get(INSTALLATIONS, current.installation_id)
        claimed = tx.get(INSTALL_INVITATIONS, culled.invitation_id)
    assert old_record is None
    assert moved is not None
    assert moved.key_id == shop.new
    assert claimed is not None
    assert "pc-1" not in claimed.computer_ids
    with pytest.raises(InstallationNotFound):
        kit.check_in(earlier.installation_token)


def test_a_moved_computer_cannot_take_a_second_seat_with_its_old_code(shop: Shop) -> None:
    kit = shop.kit
    kit.invite_installers(shop.admin, shop.account_id, shop.old, ["ann@example.com"])
    code = kit.mailer.last(to="ann@example.com").data["code"]
    kit.activate(code=code, computer_id="pc-1")
    kit.move_installations(shop.admin, shop.account_id, shop.old, shop.new)
    with pytest.raises(ActivationCodeUsedUp):
        kit.activate(code=code, computer_id="pc-1")
    assert (seats_used(shop, shop.old), seats_used(shop, shop.new)) == (0, 1)


def test_a_computer_the_new_key_holds_already_is_refused_with_the_list(shop: Shop) -> None:
    install(shop, shop.old, "pc-1", "pc-2")
    install(shop, shop.new, "pc-2")
    with pytest.raises(ConflictError, match="'pc-2'"):
        shop.kit.move_installations(shop.admin, shop.account_id, shop.old, shop.new)
    assert (seats_used(shop, shop.old), seats_used(shop, shop.new)) == (2, 1)


def test_computers_blocked_under_the_new_key_are_refused_with_the_list(shop: Shop) -> None:
    kit = shop.kit
    install(shop, shop.old, "pc-1", "pc-2", "pc-3")
    for computer in ("pc-3", "pc-1"):
        kit.block_computer_id(shop.admin, shop.account_id, computer, key_id=shop.new)
    before = (listed(shop, shop.old), trail(shop))
    with pytest.raises(ComputerBlocked) as refused:
        kit.move_installations(shop.admin, shop.account_id, shop.old, shop.new)
    assert refused.value.computer_ids == ("pc-1", "pc-3")
    assert (listed(shop, shop.old), trail(shop)) == before
    # Without them, the rest moves.
    ids = [i for i, _ in listed(shop, shop.old).items()]
    pc2 = [
        i.id
        for i in kit.list_installations(shop.admin, shop.account_id, shop.old).items
        if i.computer_id == "pc-2"
    ]
    assert len(ids) == 3
    report = kit.move_installations(
        shop.admin, shop.account_id, shop.old, shop.new, installation_ids=pc2
    )
    assert report.installations == 1


def test_a_key_change_keeps_the_moved_seats_counted(shop: Shop) -> None:
    install(shop, shop.old, "pc-1", "pc-2")
    shop.kit.move_installations(shop.admin, shop.account_id, shop.old, shop.new)
    with pytest.raises(SeatsInUse):
        shop.kit.change_license_key(shop.admin, shop.account_id, shop.new, seats=1)
    shop.kit.remove_license_key(shop.admin, shop.account_id, shop.old)


# == who may move ============================================================================


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("account administrator", True),
        ("license administrator of both keys", True),
        ("license administrator of the old key", False),
        ("license administrator of the new key", False),
        ("license administrator of another key", False),
        ("regular member", False),
    ],
)
def test_who_may_move_installations(shop: Shop, who: str, allowed: bool) -> None:
    kit = shop.kit
    install(shop, shop.old, "pc-1")
    sessions = {
        "account administrator": lambda: shop.admin,
        "license administrator of both keys": lambda: license_admin(
            shop, "both@example.com", shop.old, shop.new
        ),
        "license administrator of the old key": lambda: license_admin(
            shop, "old@example.com", shop.old
        ),
        "license administrator of the new key": lambda: license_admin(
            shop, "new@example.com", shop.new
        ),
        "license administrator of another key": lambda: license_admin(
            shop, "other@example.com", shop.other_product
        ),
        "regular member": lambda: license_admin(shop, "member@example.com"),
    }
    session = sessions[who]()
    if allowed:
        report = kit.move_installations(session, shop.account_id, shop.old, shop.new)
        assert report.installations == 1
    else:
        with pytest.raises(PermissionDenied):
            kit.move_installations(session, shop.account_id, shop.old, shop.new)
        assert seats_used(shop, shop.old) == 1


def test_another_accounts_keys_are_not_found(shop: Shop) -> None:
    kit = shop.kit
    install(shop, shop.old, "pc-1")
    outsider, theirs = make_business_account(kit, admin_email="boss@other.example")
    their_key = kit.add_license_key(
        outsider, theirs.id, product="Desktop Pro", value="THEIRS-1", seats=5
    ).id
    with pytest.raises(AccountNotFound):
        kit.move_installations(outsider, shop.account_id, shop.old, shop.new)
    with pytest.raises(LicenseKeyNotFound):
        kit.move_installations(outsider, theirs.id, shop.old, their_key)
    with pytest.raises(LicenseKeyNotFound):
        kit.move_installations(shop.admin, shop.account_id, shop.old, their_key)
    with pytest.raises(AccountNotFound):
        kit.replace_license_key(outsider, shop.account_id, shop.old, value="STOLEN")
    with pytest.raises(LicenseKeyNotFound):
        kit.replace_license_key(outsider, theirs.id, shop.old, value="STOLEN")
    assert seats_used(shop, shop.old) == 1
    assert kit.list_installations(outsider, theirs.id, their_key).items == ()


# == replacing a key =========================================================================


def test_replacing_a_key_moves_everything_and_nobody_is_invited_again(shop: Shop) -> None:
    kit = shop.kit
    kit.change_license_key(shop.admin, shop.account_id, shop.old, dead_after=dt.timedelta(days=3))
    la = license_admin(shop, "la@example.com", shop.old)
    active = install(shop, shop.old, "pc-1", "pc-2")
    kit.invite_installers(shop.admin, shop.account_id, shop.old, ["pending@example.com"])
    pending_code = kit.mailer.last(to="pending@example.com").data["code"]
    revoked = kit.invite_installers(
        shop.admin, shop.account_id, shop.old, ["revoked@example.com"]
    ).invited[0]
    kit.revoke_install_invitation(shop.admin, shop.account_id, revoked.id)
    sent_before = len(kit.mailer.messages())
    old_view = kit.get_license_key(shop.admin, shop.account_id, shop.old)

    report = kit.replace_license_key(shop.admin, shop.account_id, shop.old, value="LEAKED-NO-MORE")

    new_id = report.to_key_id
    assert (report.from_key_id, report.installations, report.seats) == (shop.old, 2, 2)
    assert (report.invitations, report.grants) == (3, 1)  # 2 used, 1 pending
    assert len(kit.mailer.messages()) == sent_before
    new = kit.get_license_key(shop.admin, shop.account_id, new_id)
    assert (new.product, new.seats, new.seats_used, new.dead_after, new.expires_at) == (
        old_view.product,
        old_view.seats,
        2,
        old_view.dead_after,
        old_view.expires_at,
    )
    assert new.masked_value is not None
    assert new.masked_value.endswith("MORE")
    old = kit.get_license_key(shop.admin, shop.account_id, shop.old)
    assert (old.status, old.seats_used) == (KeyStatus.REMOVED, 0)
    # Installations check in under the new key, with the same tokens.
    for result in active:
        assert kit.check_in(result.installation_token).installation.key_id == new_id
    # The pending code activates under the new key; the revoked one stayed with the old.
    fresh = kit.activate(code=pending_code, computer_id="pc-3")
    assert fresh.key_id == new_id
    invitations = kit.list_install_invitations(shop.admin, shop.account_id, new_id).items
    assert revoked.id not in {i.id for i in invitations}
    assert len(invitations) == 3
    # The License Administrator now manages the new key, not the old.
    assert listed(shop, new_id).keys() == {
        i.id for i in kit.list_installations(la, shop.account_id, new_id).items
    }
    # Culling carried over.
    shop = later(shop, 4)
    assert kit.cull_installations().culled == 3
    (event,) = [e for e in trail(shop) if e.action is AuditAction.LICENSE_KEY_REPLACED]  # type: ignore[attr-defined]
    assert event.details["new_key_id"] == new_id


def test_a_replaced_computer_may_activate_again_with_its_code(shop: Shop) -> None:
    kit = shop.kit
    kit.invite_installers(shop.admin, shop.account_id, shop.old, ["ann@example.com"])
    code = kit.mailer.last(to="ann@example.com").data["code"]
    first = kit.activate(code=code, computer_id="pc-1")
    report = kit.replace_license_key(shop.admin, shop.account_id, shop.old, value="ROTATED")
    again = kit.activate(code=code, computer_id="pc-1")
    assert again.already_active
    assert (again.installation_id, again.key_id) == (first.installation_id, report.to_key_id)
    assert seats_used(shop, report.to_key_id) == 1


def test_a_replacement_needs_a_value_new_to_the_account(shop: Shop) -> None:
    kit = shop.kit
    install(shop, shop.old, "pc-1")
    for taken in ("OLD-1", " OLD-1 ", "NEW-1"):
        with pytest.raises(DuplicateLicenseKey):
            kit.replace_license_key(shop.admin, shop.account_id, shop.old, value=taken)
    with pytest.raises(ValidationError):
        kit.replace_license_key(shop.admin, shop.account_id, shop.old, value="  ")
    assert seats_used(shop, shop.old) == 1
    assert kit.get_license_key(shop.admin, shop.account_id, shop.old).status is KeyStatus.ACTIVE


def test_only_account_administrators_replace_keys(shop: Shop) -> None:
    kit = shop.kit
    for session in (
        license_admin(shop, "la@example.com", shop.old),
        license_admin(shop, "member@example.com"),
    ):
        with pytest.raises(PermissionDenied):
            kit.replace_license_key(session, shop.account_id, shop.old, value="MINE")
    kit.remove_license_key(shop.admin, shop.account_id, shop.other_product)
    with pytest.raises(ConflictError, match="removed"):
        kit.replace_license_key(shop.admin, shop.account_id, shop.other_product, value="M-2")


# == additional keys =========================================================================


def test_moves_between_a_primary_and_its_additional_keys_keep_the_pool_exact(
    shop: Shop,
) -> None:
    kit = shop.kit
    kit.change_license_key(shop.admin, shop.account_id, shop.old, seats=10)
    dynamic = kit.add_additional_key(
        shop.admin, shop.account_id, shop.old, value="DYN-1", seats=3, seat_pool="dynamic"
    ).id
    reserved = kit.add_additional_key(
        shop.admin, shop.account_id, shop.old, value="RES-1", seats=2, seat_pool="reserved"
    ).id
    install(shop, shop.old, "pc-1", "pc-2")
    assert seats_used(shop, shop.old) == 4  # 2 installations + 2 reserved

    kit.move_installations(shop.admin, shop.account_id, shop.old, dynamic)
    assert (seats_used(shop, shop.old), seats_used(shop, dynamic)) == (4, 2)

    kit.move_installations(shop.admin, shop.account_id, dynamic, reserved)
    assert (seats_used(shop, shop.old), seats_used(shop, dynamic)) == (2, 0)
    assert seats_used(shop, reserved) == 2

    report = kit.replace_license_key(shop.admin, shop.account_id, reserved, value="RES-2")
    replacement = kit.get_license_key(shop.admin, shop.account_id, report.to_key_id)
    assert (replacement.primary_id, replacement.seat_pool) == (shop.old, SeatPool.RESERVED)
    assert (replacement.seats_used, seats_used(shop, shop.old)) == (2, 2)

    with pytest.raises(ConflictError, match="additional keys"):
        kit.replace_license_key(shop.admin, shop.account_id, shop.old, value="OLD-2")


def test_a_dynamic_key_refuses_a_move_beyond_its_cap(shop: Shop) -> None:
    kit = shop.kit
    dynamic = kit.add_additional_key(
        shop.admin, shop.account_id, shop.old, value="DYN-1", seats=1, seat_pool="dynamic"
    ).id
    install(shop, shop.new, "pc-1", "pc-2")
    with pytest.raises(SeatsFull) as refused:
        kit.move_installations(shop.admin, shop.account_id, shop.new, dynamic)
    assert (refused.value.needed, refused.value.free) == (2, 1)
    assert (seats_used(shop, shop.new), seats_used(shop, shop.old)) == (2, 0)


def test_a_culled_installation_moved_by_id_returns_to_a_seat_of_the_new_key(shop: Shop) -> None:
    kit = shop.kit
    kit.change_license_key(shop.admin, shop.account_id, shop.old, dead_after=dt.timedelta(days=3))
    (result,) = install(shop, shop.old, "pc-1")
    shop = later(shop, 4)
    kit.cull_installations()
    report = kit.move_installations(
        shop.admin, shop.account_id, shop.old, shop.new, installation_ids=[result.installation_id]
    )
    assert (report.installations, report.seats) == (1, 0)
    checked = kit.check_in(result.installation_token)
    assert checked.returned
    assert checked.installation.status is InstallationStatus.ACTIVE
    assert (seats_used(shop, shop.old), seats_used(shop, shop.new)) == (0, 1)


def test_seats_held_by_an_ended_additional_key_go_back_to_the_pool_for_a_move(
    shop: Shop,
) -> None:
    kit = shop.kit
    kit.change_license_key(shop.admin, shop.account_id, shop.old, seats=3)
    soon = kit.clock.now() + dt.timedelta(hours=1)
    kit.add_additional_key(
        shop.admin,
        shop.account_id,
        shop.old,
        value="RES-SOON",
        seats=2,
        seat_pool="reserved",
        expires_at=soon,
    )
    install(shop, shop.old, "pc-1")
    assert seats_used(shop, shop.old) == 3  # full: 1 installation + 2 reserved
    install(shop, shop.new, "pc-2", "pc-3")
    kit.clock.advance(hours=2)  # the reserved key has ended; its seats are not given back yet

    report = kit.move_installations(shop.admin, shop.account_id, shop.new, shop.old)

    assert report.seats == 2
    assert (seats_used(shop, shop.old), seats_used(shop, shop.new)) == (3, 0)


def test_moves_read_and_write_a_chunk_at_a_time(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    from licensekit._usecases import key_moves
    from licensekit.aio._usecases import key_moves as async_key_moves

    for module in (key_moves, async_key_moves):
        monkeypatch.setattr(module, "MOVE_CHUNK", 2)
    kit = shop.kit
    results = install(shop, shop.old, *(f"pc-{n}" for n in range(5)))
    license_admin(shop, "one@example.com", shop.new)
    license_admin(shop, "two@example.com", shop.new)
    license_admin(shop, "three@example.com")

    chosen = [r.installation_id for r in results[:3]]
    moved = kit.move_installations(
        shop.admin, shop.account_id, shop.old, shop.new, installation_ids=chosen
    )
    assert moved.installations == 3
    moved = kit.move_installations(shop.admin, shop.account_id, shop.old, shop.new)
    assert moved.installations == 2

    kit.invite_installers(
        shop.admin, shop.account_id, shop.new, [f"later{n}@example.com" for n in range(3)]
    )

    replaced = kit.replace_license_key(shop.admin, shop.account_id, shop.new, value="NEW-2")

    assert (replaced.installations, replaced.invitations, replaced.grants) == (5, 3, 2)
    assert set(listed(shop, replaced.to_key_id)) == {r.installation_id for r in results}
    assert seats_used(shop, replaced.to_key_id) == 5


def test_an_additional_key_whose_primary_is_suspended_takes_no_installations(
    shop: Shop,
) -> None:
    kit = shop.kit
    reserved = kit.add_additional_key(
        shop.admin, shop.account_id, shop.old, value="RES-1", seats=2, seat_pool="reserved"
    ).id
    install(shop, shop.new, "pc-1")
    kit.suspend_license_key(shop.admin, shop.account_id, shop.old)
    with pytest.raises(ConflictError, match="suspended"):
        kit.move_installations(shop.admin, shop.account_id, shop.new, reserved)
    assert (seats_used(shop, shop.new), seats_used(shop, reserved)) == (1, 0)


def test_a_replacement_keeps_the_old_keys_computer_blocks(shop: Shop) -> None:
    shop.kit.block_computer_id(
        shop.admin, shop.account_id, "STOLEN-LAPTOP", key_id=shop.old, notes="stolen"
    )
    shop.kit.invite_installers(shop.admin, shop.account_id, shop.old, ["thief@example.com"])
    code = shop.kit.mailer.last(to="thief@example.com").data["code"]

    shop.kit.replace_license_key(shop.admin, shop.account_id, shop.old, value="OLD-2")

    with pytest.raises(ComputerBlocked):
        shop.kit.activate(code=code, computer_id="STOLEN-LAPTOP")
    blocks = shop.kit.list_blocked_computers(shop.admin, shop.account_id).items
    events = shop.kit.list_audit_events(shop.admin, shop.account_id, limit=500).items
    (replaced,) = [e for e in events if e.action is AuditAction.LICENSE_KEY_REPLACED]
    assert replaced.details["blocks"] == "1"
    assert [(b.computer_id, b.key_id, b.notes) for b in blocks] == [
        ("STOLEN-LAPTOP", replaced.details["new_key_id"], "stolen")
    ]
