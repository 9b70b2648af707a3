"""Every public use case of LicenseKit, found by introspection, and a world to call them in:
the valid value of each parameter that needs one, for tests that vary one argument at a time.

A method added to LicenseKit later is found too; a required parameter this table does not
know makes the tests that use it fail, asking for a valid value.
"""

from __future__ import annotations

import datetime as dt
import inspect
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from licensekit import LicenseKit, MemoryStore, Role, Session
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import (
    TEST_PASSWORD,
    LicenseKitForTests,
    add_member,
    make_business_account,
    make_licensekit,
)

# Pairs of alternatives: the first is given unless the second is the parameter under test.
ALTERNATIVES = (("code", "token"), ("password", "session"), ("emails", "csv"))
NOT_USE_CASES = frozenset({"close"})


@dataclass(frozen=True)
class World:
    """An account with a member, a key, a pending join invitation, an invitation to install
    and an installation made with it."""

    kit: LicenseKitForTests
    admin: Session
    account_id: str
    member_id: str
    key_id: str
    join_id: str
    join_token: str
    install_id: str
    install_code: str
    install_token: str
    installation_id: str
    installation_token: str
    verify_token: str
    reset_token: str


def build_world(kit: LicenseKitForTests) -> World:
    admin, account = make_business_account(kit)
    member = add_member(kit, admin, account.id, "member@example.com")
    key = kit.add_license_key(admin, account.id, product="Desktop Pro", value="KEY-1", seats=5)
    join = kit.invite_members(admin, account.id, ["pending@example.com"]).invited[0]
    install = kit.invite_installers(
        admin, account.id, key.id, ["installer@example.com"], max_activations=3
    ).invited[0]
    letter = kit.mailer.last(to="installer@example.com")
    activated = kit.activate(code=letter.data["code"], computer_id="pc-1")
    kit.register_user("unproven@example.com", TEST_PASSWORD)
    kit.send_email_verification(kit.log_in("unproven@example.com", TEST_PASSWORD))
    verify_token = kit.mailer.last_token(to="unproven@example.com")
    kit.request_password_reset("member@example.com")
    return World(
        kit=kit,
        admin=admin,
        account_id=account.id,
        member_id=member.user_id,
        key_id=key.id,
        join_id=join.id,
        join_token=kit.mailer.last_token(to="pending@example.com"),
        install_id=install.id,
        install_code=letter.data["code"],
        install_token=letter.data["token"],
        installation_id=activated.installation_id,
        installation_token=activated.installation_token,
        verify_token=verify_token,
        reset_token=kit.mailer.last_token(to="member@example.com"),
    )


def valid_values(world: World, method: str) -> dict[str, object]:
    """A valid value for each parameter that needs one to get past the first checks."""
    installing = "install" in method or method == "activate"
    tokens = {"verify_email": world.verify_token, "reset_password": world.reset_token}
    return {
        "session": world.admin,
        "account_id": world.account_id,
        "user_id": world.member_id,
        "key_id": world.key_id,
        "primary_key_id": world.key_id,
        "key_ids": [world.key_id],
        "seat_pool": "dynamic",
        "to_key_id": world.key_id,  # the same key: refused, past the first checks
        "invitation_id": world.install_id if installing else world.join_id,
        "token": tokens.get(method, world.install_token if installing else world.join_token),
        "code": world.install_code,
        "installation_id": world.installation_id,
        "installation_token": world.installation_token,
        "computer_id": "pc-1",
        "email": "newcomer@example.com",
        "password": TEST_PASSWORD,
        "current_password": TEST_PASSWORD,
        "new_password": "a brand new passphrase",
        "name": "A Name",
        "product": "Desktop Pro",
        "value": "NEW-KEY-VALUE",
        "seats": 5,
        "period": dt.timedelta(days=30),
        "role": Role.REGULAR_MEMBER,
        "emails": ["newcomer@example.com"],
        "csv": "newcomer@example.com\r\n",
        "notes": "why",
        "language": "en",
        "client": "203.0.113.9",
    }


def use_cases() -> list[str]:
    return [
        name
        for name, _ in inspect.getmembers(LicenseKit, inspect.isfunction)
        if not name.startswith("_") and name not in NOT_USE_CASES
    ]


def text_shape(annotation: object) -> str | None:
    """``"text"`` for a parameter that takes a str, ``"texts"`` for a collection of them."""
    if annotation is str:
        return "text"
    arguments = typing.get_args(annotation)
    if typing.get_origin(annotation) in (Iterable, Sequence, list, tuple, set, frozenset):
        return "texts" if arguments[:1] == (str,) else None
    shapes = {text_shape(a) for a in arguments}
    return "text" if "text" in shapes else "texts" if "texts" in shapes else None


def text_parameters(method: Callable[..., object]) -> dict[str, str]:
    hints = typing.get_type_hints(method)
    return {
        name: shape
        for name in list(inspect.signature(method).parameters)[1:]
        if (shape := text_shape(hints.get(name))) is not None
    }


def arguments_for(
    function: Callable[..., object], values: dict[str, object], target: str, hostile: object
) -> dict[str, object]:
    """The keyword arguments of a call of *function* with *hostile* as *target*."""
    parameters = list(inspect.signature(function).parameters.values())[1:]
    names = {p.name for p in parameters}
    dropped = {
        (second if target != second else first)
        for first, second in ALTERNATIVES
        if first in names and second in names
    }
    arguments: dict[str, object] = {}
    for p in parameters:
        if p.name == target:
            arguments[p.name] = hostile
        elif p.name in values and p.name not in dropped:
            arguments[p.name] = values[p.name]
        elif p.default is inspect.Parameter.empty:
            pytest.fail(f"{function.__name__}: give required parameter {p.name!r} a valid value")
    return arguments


@pytest.fixture(params=["memory", "sqlite"])
def new_world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], World]]:
    """Builds worlds on one kind of store, each on a store of its own."""
    stores: list[MemoryStore | SQLiteStore] = []

    def build() -> World:
        if request.param == "memory":
            stores.append(MemoryStore())
        else:
            stores.append(SQLiteStore(tmp_path / f"kit-{len(stores)}.db"))
        return build_world(make_licensekit(store=stores[-1]))

    yield build
    for store in stores:
        store.close()


@pytest.fixture
def world(new_world: Callable[[], World]) -> World:
    """One world on each kind of store."""
    return new_world()
