"""Tenant isolation for licensing: keys, invitations to install, installations and blocks.

An administrator of account B who passes ids of account A's license key, invitation,
installation or blocked computer gets the matching NotFound error: never A's data, never a
PermissionDenied that would tell the object exists, and nothing stored changes. A License
Administrator of key K1 reaches K1 only: K2 of the same account is refused with
PermissionDenied, and another account is not found at all.

Computer blocks are scoped: an Account Administrator's block covers the whole account, a License
Administrator's covers their key. A License Administrator of K1 sees the account-wide blocks and
K1's, lifts K1's only, and is refused the account-wide ones and K2's.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

from licensekit import (
    AccountNotFound,
    ComputerBlocked,
    InstallationNotFound,
    InvitationNotFound,
    LicenseKeyNotFound,
    LicenseKit,
    LicenseKitError,
    MemberNotFound,
    NotFound,
    PermissionDenied,
    Session,
)
from licensekit.testing import (
    TEST_PASSWORD,
    LicenseKitForTests,
    add_member,
    make_business_account,
    make_licensekit,
)


class Tenant(NamedTuple):
    name: str
    admin: Session
    license_admin: Session
    """License Administrator of key1 only."""
    account_id: str
    member_id: str
    license_admin_id: str
    key1: str
    key2: str
    invitation1: str
    invitation2: str
    installation1: str
    installation2: str
    blocked1: str
    """A computer blocked under key1 only (by key1's License Administrator)."""
    blocked2: str
    """A computer blocked under key2 only (by a License Administrator of key2 at the time)."""
    banned: str
    """A computer blocked in the whole account (by the Account Administrator)."""
    secrets: tuple[str, ...]
    """What an outsider must never learn: products, emails, computer names, values."""


class World(NamedTuple):
    kit: LicenseKitForTests
    a: Tenant
    b: Tenant


def _tenant(kit: LicenseKitForTests, name: str) -> Tenant:
    admin, account = make_business_account(
        kit, admin_email=f"admin@{name}.example", name=f"{name.title()} Ltd"
    )
    acc = account.id
    member = add_member(kit, admin, acc, f"member@{name}.example")
    license_admin = add_member(kit, admin, acc, f"keeper@{name}.example")
    keys = [
        kit.add_license_key(
            admin, acc, product=f"{name.title()} {n}", value=f"{name.upper()}-{n}-SECRET", seats=5
        ).id
        for n in (1, 2)
    ]
    kit.grant_license_administrator(admin, acc, license_admin.user_id, keys[0])
    # Only a License Administrator makes a block of one key: key2's is made by a member who
    # administers key2 for the occasion.
    keeper2 = add_member(kit, admin, acc, f"keeper2@{name}.example")
    kit.grant_license_administrator(admin, acc, keeper2.user_id, keys[1])
    invitations, installations, blocked, codes = [], [], [], []
    for n, (key_id, keeper) in enumerate(zip(keys, (license_admin, keeper2), strict=True), start=1):
        email = f"user{n}@{name}.example"
        batch = kit.invite_installers(admin, acc, key_id, [email], max_activations=4)
        invitations.append(batch.invited[0].id)
        code = kit.mailer.last(to=email).data["code"]
        codes.append(code)
        installations.append(
            kit.activate(
                code=code, computer_id=f"{name}-pc-{n}", computer_name=f"{name} desk {n}"
            ).installation_id
        )
        doomed = kit.activate(code=code, computer_id=f"{name}-lost-{n}")
        block = kit.block_computer(keeper, acc, doomed.installation_id, notes=f"{name} stolen")
        assert (block.computer_id, block.key_id) == (f"{name}-lost-{n}", key_id)
        blocked.append(f"{name}-lost-{n}")
    kit.revoke_license_administrator(admin, acc, keeper2.user_id, keys[1])
    banned = kit.activate(code=codes[0], computer_id=f"{name}-banned")
    block = kit.block_computer(admin, acc, banned.installation_id, notes=f"{name} stolen laptop")
    assert (block.computer_id, block.key_id) == (f"{name}-banned", None)
    return Tenant(
        name,
        admin,
        license_admin,
        acc,
        member.user_id,
        license_admin.user_id,
        keys[0],
        keys[1],
        invitations[0],
        invitations[1],
        installations[0],
        installations[1],
        blocked[0],
        blocked[1],
        f"{name}-banned",
        (
            f"{name.title()} 1",
            f"{name.title()} 2",
            f"{name.title()} Ltd",
            f"user1@{name}.example",
            f"user2@{name}.example",
            f"{name} desk",
            f"{name} stolen",
            f"{name.upper()}-1-SECRET",
            "SECRET",
        ),
    )


@pytest.fixture
def world() -> World:
    kit = make_licensekit()
    return World(kit, _tenant(kit, "alpha"), _tenant(kit, "beta"))


def stored(kit: LicenseKitForTests) -> Counter[object]:
    return Counter(kit.store.dump())


def refused(
    world: World, call: Callable[[], object], expected: type[LicenseKitError]
) -> LicenseKitError:
    """Run *call*: it raises exactly *expected*, changes nothing, and tells nothing of A."""
    kit = world.kit
    before, mails = stored(kit), len(kit.mailer.sent)
    with pytest.raises(LicenseKitError) as info:
        call()
    error = info.value
    assert type(error) is expected, f"expected {expected.__name__}, got {error!r}"
    assert stored(kit) == before
    assert len(kit.mailer.sent) == mails
    leaked = [s for s in world.a.secrets if s in str(error)]
    assert not leaked, f"{error!r} mentions {leaked}"
    return error


# Each licensing use case that takes a session, called as (kit, session, account id, tenant
# whose object ids are passed, tenant whose member ids are passed).
Call = Callable[[LicenseKitForTests, Session, str, Tenant, Tenant], Any]

LICENSING: dict[str, Call] = {
    "add_license_key": lambda kit, s, acc, o, m: kit.add_license_key(
        s, acc, product="Intruder", value="INTRUDER-VALUE-1", seats=1
    ),
    "list_license_keys": lambda kit, s, acc, o, m: kit.list_license_keys(s, acc),
    "get_license_key": lambda kit, s, acc, o, m: kit.get_license_key(s, acc, o.key1),
    "change_license_key": lambda kit, s, acc, o, m: kit.change_license_key(
        s, acc, o.key1, seats=50
    ),
    "renew_license_key": lambda kit, s, acc, o, m: kit.renew_license_key(
        s, acc, o.key1, period=dt.timedelta(days=30)
    ),
    "suspend_license_key": lambda kit, s, acc, o, m: kit.suspend_license_key(s, acc, o.key1),
    "resume_license_key": lambda kit, s, acc, o, m: kit.resume_license_key(s, acc, o.key1),
    "remove_license_key": lambda kit, s, acc, o, m: kit.remove_license_key(s, acc, o.key2),
    "replace_license_key": lambda kit, s, acc, o, m: kit.replace_license_key(
        s, acc, o.key1, value="INTRUDER-VALUE-2"
    ),
    "move_installations": lambda kit, s, acc, o, m: kit.move_installations(s, acc, o.key1, o.key2),
    "grant_license_administrator": lambda kit, s, acc, o, m: kit.grant_license_administrator(
        s, acc, m.member_id, o.key1
    ),
    "revoke_license_administrator": lambda kit, s, acc, o, m: kit.revoke_license_administrator(
        s, acc, m.license_admin_id, o.key1
    ),
    "invite_installers": lambda kit, s, acc, o, m: kit.invite_installers(
        s, acc, o.key1, ["intruder@example.com"]
    ),
    "list_install_invitations": lambda kit, s, acc, o, m: kit.list_install_invitations(
        s, acc, o.key1
    ),
    "export_install_invitations": lambda kit, s, acc, o, m: kit.export_install_invitations(
        s, acc, o.key1, include_unusable=True
    ),
    "send_install_invitations": lambda kit, s, acc, o, m: kit.send_install_invitations(
        s, acc, o.key1
    ),
    "resend_install_invitation": lambda kit, s, acc, o, m: kit.resend_install_invitation(
        s, acc, o.invitation1
    ),
    "revoke_install_invitation": lambda kit, s, acc, o, m: kit.revoke_install_invitation(
        s, acc, o.invitation1
    ),
    "list_installations": lambda kit, s, acc, o, m: kit.list_installations(
        s, acc, o.key1, include_inactive=True
    ),
    "deactivate_installation": lambda kit, s, acc, o, m: kit.deactivate_installation(
        s, acc, o.installation1
    ),
    "block_computer": lambda kit, s, acc, o, m: kit.block_computer(s, acc, o.installation1),
    "unblock_computer": lambda kit, s, acc, o, m: kit.unblock_computer(
        s, acc, o.blocked1, key_id=o.key1
    ),
    "list_blocked_computers": lambda kit, s, acc, o, m: kit.list_blocked_computers(s, acc),
    "export_installations": lambda kit, s, acc, o, m: kit.export_installations(
        s, acc, key_id=o.key1, include_inactive=True
    ),
    "edit_installation": lambda kit, s, acc, o, m: kit.edit_installation(
        s, acc, o.installation1, computer_name="intruder", notes="intruder"
    ),
    "block_computer_id": lambda kit, s, acc, o, m: kit.block_computer_id(
        s, acc, "intruder-pc", key_id=o.key1
    ),
    "add_additional_key": lambda kit, s, acc, o, m: kit.add_additional_key(
        s, acc, o.key1, value="INTRUDER-EXTRA-1", seats=1, seat_pool="reserved"
    ),
    "get_seat_pool": lambda kit, s, acc, o, m: kit.get_seat_pool(s, acc, o.key1),
    "grant_key_rights": lambda kit, s, acc, o, m: kit.grant_key_rights(
        s, acc, m.member_id, key_ids=[o.key1, o.key2]
    ),
    "grant_key_rights(all)": lambda kit, s, acc, o, m: kit.grant_key_rights(
        s, acc, m.member_id, all_keys=True
    ),
    "revoke_key_rights": lambda kit, s, acc, o, m: kit.revoke_key_rights(
        s, acc, m.license_admin_id, key_ids=[o.key1]
    ),
}

# What B's administrator gets for A's object ids passed in account B.
NOT_FOUND_IN_B: dict[str, type[NotFound]] = {
    "get_license_key": LicenseKeyNotFound,
    "change_license_key": LicenseKeyNotFound,
    "renew_license_key": LicenseKeyNotFound,
    "suspend_license_key": LicenseKeyNotFound,
    "resume_license_key": LicenseKeyNotFound,
    "remove_license_key": LicenseKeyNotFound,
    "replace_license_key": LicenseKeyNotFound,
    "move_installations": LicenseKeyNotFound,
    "grant_license_administrator": LicenseKeyNotFound,
    "revoke_license_administrator": LicenseKeyNotFound,
    "invite_installers": LicenseKeyNotFound,
    "list_install_invitations": LicenseKeyNotFound,
    "export_install_invitations": LicenseKeyNotFound,
    "send_install_invitations": LicenseKeyNotFound,
    "resend_install_invitation": InvitationNotFound,
    "revoke_install_invitation": InvitationNotFound,
    "list_installations": LicenseKeyNotFound,
    "deactivate_installation": InstallationNotFound,
    "block_computer": InstallationNotFound,
    "unblock_computer": LicenseKeyNotFound,
    "export_installations": LicenseKeyNotFound,
    "edit_installation": InstallationNotFound,
    "block_computer_id": LicenseKeyNotFound,
    "add_additional_key": LicenseKeyNotFound,
    "get_seat_pool": LicenseKeyNotFound,
    "grant_key_rights": LicenseKeyNotFound,
    "revoke_key_rights": LicenseKeyNotFound,
}


def test_every_licensing_method_with_a_session_is_covered() -> None:
    session_methods = {
        name
        for name in dir(LicenseKit)
        if not name.startswith("_")
        and any(w in name for w in ("license", "install", "computer", "key", "seat"))
        # describe_install_invitation takes a download token; cull_installations is the
        # host's scheduled job, without a session.
        and name not in ("describe_install_invitation", "cull_installations")
    }
    assert session_methods == {name.split("(")[0] for name in LICENSING}


@pytest.mark.parametrize("method", sorted(LICENSING))
def test_an_admin_of_b_gets_account_not_found_for_account_a(world: World, method: str) -> None:
    kit, a, b = world
    error = refused(
        world, lambda: LICENSING[method](kit, b.admin, a.account_id, a, a), AccountNotFound
    )
    assert not isinstance(error, PermissionDenied)


@pytest.mark.parametrize("method", sorted(NOT_FOUND_IN_B))
def test_an_admin_of_b_naming_as_objects_in_account_b_gets_not_found(
    world: World, method: str
) -> None:
    kit, a, b = world
    refused(
        world,
        lambda: LICENSING[method](kit, b.admin, b.account_id, a, b),
        NOT_FOUND_IN_B[method],
    )


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        pytest.param(
            lambda kit, s, a, b: kit.export_install_invitations(
                s, b.account_id, b.key1, invitation_ids=[a.invitation1]
            ),
            InvitationNotFound,
            id="export B's key with A's invitation",
        ),
        pytest.param(
            lambda kit, s, a, b: kit.send_install_invitations(
                s, b.account_id, b.key1, invitation_ids=[a.invitation1]
            ),
            InvitationNotFound,
            id="send B's key with A's invitation",
        ),
        pytest.param(
            lambda kit, s, a, b: kit.grant_license_administrator(
                s, b.account_id, a.member_id, b.key1
            ),
            MemberNotFound,
            id="grant B's key to A's member",
        ),
        pytest.param(
            lambda kit, s, a, b: kit.revoke_license_administrator(
                s, b.account_id, a.license_admin_id, b.key1
            ),
            MemberNotFound,
            id="revoke B's key from A's License Administrator",
        ),
        pytest.param(
            lambda kit, s, a, b: kit.unblock_computer(s, b.account_id, a.banned),
            NotFound,
            id="unblock A's banned computer in B",
        ),
        pytest.param(
            lambda kit, s, a, b: kit.unblock_computer(s, b.account_id, a.blocked2, key_id=b.key2),
            NotFound,
            id="unblock A's computer under B's key",
        ),
    ],
)
def test_an_admin_of_b_mixing_as_ids_into_bs_objects_gets_not_found(
    world: World, method: Callable[..., object], expected: type[NotFound]
) -> None:
    kit, a, b = world
    refused(world, lambda: method(kit, b.admin, a, b), expected)


def test_as_objects_are_intact_after_bs_attempts(world: World) -> None:
    kit, a, b = world
    for method in NOT_FOUND_IN_B:
        with pytest.raises(NotFound):
            LICENSING[method](kit, b.admin, b.account_id, a, b)

    key = kit.get_license_key(a.admin, a.account_id, a.key1)
    assert (key.seats, key.seats_used, key.status.value) == (5, 1, "active")
    invitation = kit.list_install_invitations(a.admin, a.account_id, a.key1).items[0]
    assert invitation.revoked_at is None
    installs = kit.list_installations(a.admin, a.account_id, a.key1).items
    assert [i.id for i in installs] == [a.installation1]
    blocks = kit.list_blocked_computers(a.admin, a.account_id).items
    assert [(x.computer_id, x.key_id) for x in blocks] == [
        (a.banned, None),
        (a.blocked1, a.key1),
        (a.blocked2, a.key2),
    ]


def test_bs_listings_show_only_bs_objects(world: World) -> None:
    kit, _, b = world
    keys = kit.list_license_keys(b.admin, b.account_id, include_removed=True).items
    assert [k.id for k in keys] == [b.key1, b.key2]
    for key_id in (b.key1, b.key2):
        invitations = kit.list_install_invitations(b.admin, b.account_id, key_id).items
        assert {i.account_id for i in invitations} == {b.account_id}
        installs = kit.list_installations(b.admin, b.account_id, key_id, include_inactive=True)
        assert {i.key_id for i in installs.items} == {key_id}
        exported = kit.export_install_invitations(
            b.admin, b.account_id, key_id, include_unusable=True
        )
        assert "alpha" not in exported
    blocks = kit.list_blocked_computers(b.admin, b.account_id).items
    assert [x.computer_id for x in blocks] == [b.banned, b.blocked1, b.blocked2]


def test_a_cursor_from_as_listing_shows_nothing_of_a_in_b(world: World) -> None:
    kit, a, b = world
    page = kit.list_license_keys(a.admin, a.account_id, limit=1)
    assert page.next_cursor is not None

    items = kit.list_license_keys(b.admin, b.account_id, cursor=page.next_cursor).items

    assert {k.account_id for k in items} <= {b.account_id}


# -- existing and missing objects of a foreign account look alike ---------------------------

BY_ID: dict[str, Callable[[LicenseKitForTests, Session, str, str], object]] = {
    "get_license_key": lambda kit, s, acc, x: kit.get_license_key(s, acc, x),
    "list_installations": lambda kit, s, acc, x: kit.list_installations(s, acc, x),
    "invite_installers": lambda kit, s, acc, x: kit.invite_installers(
        s, acc, x, ["intruder@example.com"]
    ),
    "revoke_install_invitation": lambda kit, s, acc, x: kit.revoke_install_invitation(s, acc, x),
    "resend_install_invitation": lambda kit, s, acc, x: kit.resend_install_invitation(s, acc, x),
    "deactivate_installation": lambda kit, s, acc, x: kit.deactivate_installation(s, acc, x),
    "block_computer": lambda kit, s, acc, x: kit.block_computer(s, acc, x),
    "unblock_computer": lambda kit, s, acc, x: kit.unblock_computer(s, acc, x),
    "unblock_computer under a key": lambda kit, s, acc, x: kit.unblock_computer(
        s, acc, "any-pc", key_id=x
    ),
    "export_installations": lambda kit, s, acc, x: kit.export_installations(s, acc, key_id=x),
    "edit_installation": lambda kit, s, acc, x: kit.edit_installation(s, acc, x, notes="x"),
    "block_computer_id under a key": lambda kit, s, acc, x: kit.block_computer_id(
        s, acc, "any-pc", key_id=x
    ),
}


def _real_id(t: Tenant, method: str) -> str:
    if method in (
        "get_license_key",
        "list_installations",
        "invite_installers",
        "unblock_computer under a key",
        "export_installations",
        "block_computer_id under a key",
    ):
        return t.key1
    if method.endswith("install_invitation"):
        return t.invitation1
    if method == "unblock_computer":
        return t.banned
    return t.installation1


def _answer(call: Callable[[], object], replace: str) -> tuple[str, str]:
    with pytest.raises(LicenseKitError) as info:
        call()
    return type(info.value).__name__, str(info.value).replace(replace, "<id>")


@pytest.mark.parametrize("method", list(BY_ID))
def test_a_non_member_cannot_tell_an_existing_id_from_a_missing_one(
    world: World, method: str
) -> None:
    kit, a, b = world
    real = _real_id(a, method)
    missing = real[:-4] + ("0000" if not real.endswith("0000") else "1111")
    call = BY_ID[method]

    existing = _answer(lambda: call(kit, b.admin, a.account_id, real), real)
    absent = _answer(lambda: call(kit, b.admin, a.account_id, missing), missing)

    assert existing == absent


@pytest.mark.parametrize("method", list(BY_ID))
def test_in_their_own_account_as_ids_look_like_missing_ones(world: World, method: str) -> None:
    kit, a, b = world
    real = _real_id(a, method)
    missing = real[:-4] + ("0000" if not real.endswith("0000") else "1111")
    call = BY_ID[method]

    existing = _answer(lambda: call(kit, b.admin, b.account_id, real), real)
    absent = _answer(lambda: call(kit, b.admin, b.account_id, missing), missing)

    assert existing == absent
    assert existing[0].endswith("NotFound")


# -- a License Administrator of K1 ------------------------------------------------------------

# Use cases a License Administrator may run on the keys they were granted.
LICENSE_ADMIN_MAY = [
    "get_license_key",
    "invite_installers",
    "list_install_invitations",
    "export_install_invitations",
    "send_install_invitations",
    "resend_install_invitation",
    "revoke_install_invitation",
    "list_installations",
    "deactivate_installation",
    "block_computer",
    "unblock_computer",
    "export_installations",
    "edit_installation",
    "block_computer_id",
]
ADMIN_ONLY = [
    "change_license_key",
    "replace_license_key",
    "renew_license_key",
    "suspend_license_key",
    "resume_license_key",
    "grant_license_administrator",
    "revoke_license_administrator",
]


def _on_key2(t: Tenant) -> Tenant:
    """*t* with key2's objects standing in for key1's."""
    return t._replace(
        key1=t.key2,
        invitation1=t.invitation2,
        installation1=t.installation2,
        blocked1=t.blocked2,
    )


@pytest.mark.parametrize("method", LICENSE_ADMIN_MAY)
def test_a_license_administrator_of_k1_is_denied_k2(world: World, method: str) -> None:
    kit, a, _ = world
    refused(
        world,
        lambda: LICENSING[method](kit, a.license_admin, a.account_id, _on_key2(a), a),
        PermissionDenied,
    )


@pytest.mark.parametrize("method", LICENSE_ADMIN_MAY)
def test_a_license_administrator_of_k1_may_use_k1(world: World, method: str) -> None:
    """The refusals above are about K2, not about the use case: on K1 each one works."""
    kit, a, _ = world
    LICENSING[method](kit, a.license_admin, a.account_id, a, a)


@pytest.mark.parametrize("method", ADMIN_ONLY)
def test_a_license_administrator_may_not_manage_even_k1(world: World, method: str) -> None:
    kit, a, _ = world
    refused(
        world,
        lambda: LICENSING[method](kit, a.license_admin, a.account_id, a, a),
        PermissionDenied,
    )


@pytest.mark.parametrize("method", ["add_license_key", "remove_license_key"])
def test_a_license_administrator_may_not_add_or_remove_keys(world: World, method: str) -> None:
    kit, a, _ = world
    refused(
        world,
        lambda: LICENSING[method](kit, a.license_admin, a.account_id, a, a),
        PermissionDenied,
    )


@pytest.mark.parametrize("method", sorted(LICENSING))
def test_a_license_administrator_of_a_finds_nothing_in_b(world: World, method: str) -> None:
    kit, a, b = world
    refused(
        world,
        lambda: LICENSING[method](kit, a.license_admin, b.account_id, b, b),
        AccountNotFound,
    )


@pytest.mark.parametrize("method", sorted(NOT_FOUND_IN_B))
def test_a_license_administrator_of_b_naming_as_objects_gets_not_found(
    world: World, method: str
) -> None:
    kit, a, b = world
    refused(
        world,
        lambda: LICENSING[method](kit, b.license_admin, b.account_id, a, b),
        NOT_FOUND_IN_B[method],
    )


def test_a_license_administrator_lists_only_k1_and_the_blocks_that_cover_it(world: World) -> None:
    """Account-wide blocks stop activations under K1 too, so K1's administrator sees them."""
    kit, a, _ = world
    keys = kit.list_license_keys(a.license_admin, a.account_id).items
    assert [(k.id, k.masked_value) for k in keys] == [(a.key1, None)]
    blocks = kit.list_blocked_computers(a.license_admin, a.account_id).items
    assert [(x.computer_id, x.key_id) for x in blocks] == [(a.banned, None), (a.blocked1, a.key1)]
    first = kit.list_blocked_computers(a.license_admin, a.account_id, limit=1)
    assert first.next_cursor is not None
    rest = kit.list_blocked_computers(a.license_admin, a.account_id, cursor=first.next_cursor)
    assert [(x.computer_id, x.key_id) for x in (*first.items, *rest.items)] == [
        (a.banned, None),
        (a.blocked1, a.key1),
    ]
    assert rest.next_cursor is None


def test_a_license_administrator_of_k1_cannot_lift_an_account_wide_block(world: World) -> None:
    kit, a, _ = world
    refused(
        world,
        lambda: kit.unblock_computer(a.license_admin, a.account_id, a.banned),
        PermissionDenied,
    )
    # Naming K1 lifts only a block of K1, and the banned computer has none.
    refused(
        world,
        lambda: kit.unblock_computer(a.license_admin, a.account_id, a.banned, key_id=a.key1),
        NotFound,
    )
    refused(
        world,
        lambda: kit.unblock_computer(a.license_admin, a.account_id, a.blocked2, key_id=a.key2),
        PermissionDenied,
    )
    # The refusals are about the scope: they tell nothing of which computers are blocked.
    for computer, key_id in ((a.blocked1, None), ("never-seen", None), ("never-seen", a.key2)):
        refused(
            world,
            lambda c=computer, k=key_id: kit.unblock_computer(  # type: ignore[misc]
                a.license_admin, a.account_id, c, key_id=k
            ),
            PermissionDenied,
        )
    blocks = kit.list_blocked_computers(a.admin, a.account_id).items
    assert len(blocks) == 3


def test_a_license_administrator_of_k1_lifts_k1_blocks_only(world: World) -> None:
    kit, a, _ = world
    kit.unblock_computer(a.license_admin, a.account_id, a.blocked1, key_id=a.key1)

    blocks = kit.list_blocked_computers(a.admin, a.account_id).items
    assert [(x.computer_id, x.key_id) for x in blocks] == [(a.banned, None), (a.blocked2, a.key2)]
    refused(
        world,
        lambda: kit.unblock_computer(a.license_admin, a.account_id, a.blocked1, key_id=a.key1),
        NotFound,
    )


def test_a_license_administrators_block_stops_at_k1(world: World) -> None:
    """A License Administrator of K1 blocking a computer neither frees nor blocks it under K2."""
    kit, a, _ = world
    seated, codes = {}, {}
    for key_id in (a.key1, a.key2):
        # An activation left, so that a refusal reports the block, not a used-up code.
        kit.invite_installers(
            a.admin, a.account_id, key_id, ["both@alpha.example"], max_activations=2
        )
        codes[key_id] = kit.mailer.last(to="both@alpha.example").data["code"]
        seated[key_id] = kit.activate(
            code=codes[key_id], computer_id="alpha-shared"
        ).installation_id

    block = kit.block_computer(a.license_admin, a.account_id, seated[a.key1])

    assert (block.computer_id, block.key_id) == ("alpha-shared", a.key1)
    k1 = kit.list_installations(a.admin, a.account_id, a.key1).items
    k2 = kit.list_installations(a.admin, a.account_id, a.key2).items
    assert seated[a.key1] not in {i.id for i in k1}
    assert seated[a.key2] in {i.id for i in k2}
    assert kit.list_blocked_computers(a.license_admin, a.account_id).items[-1] == block
    with pytest.raises(ComputerBlocked):
        kit.activate(code=codes[a.key1], computer_id="alpha-shared")
    assert kit.activate(code=codes[a.key2], computer_id="alpha-shared").already_active
    # The Account Administrator may still block it account-wide (another scope) ...
    wide = kit.block_computer(a.admin, a.account_id, seated[a.key2])
    assert wide.key_id is None
    assert seated[a.key2] not in {
        i.id for i in kit.list_installations(a.admin, a.account_id, a.key2).items
    }
    with pytest.raises(ComputerBlocked):
        kit.activate(code=codes[a.key2], computer_id="alpha-shared")
    # ... and lift K1's block, which K1's administrator could too.
    kit.unblock_computer(a.admin, a.account_id, "alpha-shared", key_id=a.key1)


def test_a_regular_member_reaches_no_key(world: World) -> None:
    kit, a, _ = world
    member = kit.log_in(f"member@{a.name}.example", TEST_PASSWORD)
    for method in LICENSE_ADMIN_MAY:
        refused(
            world,
            lambda m=method: LICENSING[m](kit, member, a.account_id, a, a),  # type: ignore[misc]
            PermissionDenied,
        )
