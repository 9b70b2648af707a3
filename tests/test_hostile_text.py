"""Text that no store can keep (a lone surrogate) or that no one really types (NUL): every text
parameter of every public use case, on both stores, answers with a licensekit error or
matches nothing, and never lets a raw Python exception out.

The use cases are found by introspection, so a method added later is tried too; the table
below only supplies the valid values (a session, ids, a code) that let a call reach the
parameter under test.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import attrs
import pytest

from licensekit import (
    InvalidPassword,
    LicenseKit,
    LicenseKitError,
    MemoryStore,
    PasswordHasher,
    PasswordPolicy,
    Role,
    Session,
    StorageError,
    ValidationError,
)
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import (
    TEST_PASSWORD,
    LicenseKitForTests,
    add_member,
    make_business_account,
    make_licensekit,
)

HOSTILE = {"lone low surrogate": "\udc80", "lone high surrogate": "\ud83d", "NUL": "\x00"}
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
    )


def valid_values(world: World, method: str) -> dict[str, object]:
    """A valid value for each parameter that needs one to get past the first checks."""
    installing = "install" in method or method == "activate"
    return {
        "session": world.admin,
        "account_id": world.account_id,
        "user_id": world.member_id,
        "key_id": world.key_id,
        "invitation_id": world.install_id if installing else world.join_id,
        "token": world.install_token if installing else world.join_token,
        "code": world.install_code,
        "installation_id": world.installation_id,
        "installation_token": world.installation_token,
        "computer_id": "pc-1",
        "email": "newcomer@example.com",
        "password": TEST_PASSWORD,
        "name": "A Name",
        "product": "Desktop Pro",
        "value": "NEW-KEY-VALUE",
        "seats": 5,
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


def hostile_value(shape: str, valid: object, bad: str) -> object:
    text = valid if isinstance(valid, str) else "text"
    return text + bad if shape == "text" else ["someone@example.com", "text" + bad]


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
    return new_world()


def test_the_introspection_finds_the_use_cases_and_their_text_parameters() -> None:
    found = {name: text_parameters(getattr(LicenseKit, name)) for name in use_cases()}
    assert found["add_license_key"] == {
        "session": "text",
        "account_id": "text",
        "product": "text",
        "value": "text",
    }
    assert found["invite_members"]["emails"] == "texts"
    assert found["send_join_invitations"]["invitation_ids"] == "texts"
    assert len(found) >= 45


@pytest.mark.parametrize("method_name", use_cases())
def test_every_text_parameter_refuses_nul_and_lone_surrogates_with_licensekit_errors(
    new_world: Callable[[], World], method_name: str
) -> None:
    """Each text parameter gets, in turn, a value holding a lone surrogate or NUL; the others
    are valid. The call may refuse (a licensekit error, not a failing store) or match nothing;
    after a call that returned, the next one starts from a new world."""
    function = getattr(LicenseKit, method_name)
    world = new_world()
    escaped: list[str] = []
    for target, shape in text_parameters(function).items():
        for what, bad in HOSTILE.items():
            values = valid_values(world, method_name)
            arguments = arguments_for(
                function, values, target, hostile_value(shape, values.get(target), bad)
            )
            try:
                getattr(world.kit, method_name)(**arguments)
            except StorageError as e:
                escaped.append(f"{target} with a {what}: the store failed: {e}")
            except LicenseKitError:
                continue
            except Exception as e:  # what this test is for
                escaped.append(f"{target} with a {what}: {type(e).__name__}: {e}")
            world = new_world()
    assert not escaped, f"{method_name}: " + "; ".join(escaped)


# == the free text licensekit keeps is refused at its edge, naming the argument =============


STORED_TEXT: list[tuple[str, str, Callable[[World, str], object]]] = [
    (
        "license key value",
        "value",
        lambda w, t: w.kit.add_license_key(
            w.admin, w.account_id, product="Desktop Pro", value=t, seats=1
        ),
    ),
    (
        "notes",
        "notes",
        lambda w, t: w.kit.block_member(w.admin, w.account_id, w.member_id, notes=t),
    ),
    (
        "notes",
        "computer notes",
        lambda w, t: w.kit.block_computer(w.admin, w.account_id, w.installation_id, notes=t),
    ),
    (
        "client",
        "activation client",
        lambda w, t: w.kit.activate(code=w.install_code, computer_id="pc-2", client=t),
    ),
    (
        "client",
        "check-in client",
        lambda w, t: w.kit.check_in(w.installation_token, client=t),
    ),
    (
        "client",
        "install link client",
        lambda w, t: w.kit.describe_install_invitation("unknown-token", client=t),
    ),
    (
        "client",
        "join link client",
        lambda w, t: w.kit.describe_join_invitation("unknown-token", client=t),
    ),
]


@pytest.mark.parametrize("bad", list(HOSTILE.values()), ids=list(HOSTILE))
@pytest.mark.parametrize(
    ("named", "call"), [(n, c) for n, _, c in STORED_TEXT], ids=[i for _, i, _ in STORED_TEXT]
)
def test_free_text_with_nul_or_a_lone_surrogate_is_a_validation_error_naming_it(
    world: World, named: str, call: Callable[[World, str], object], bad: str
) -> None:
    before = world.kit.list_audit_events(world.admin, world.account_id, limit=500).items
    with pytest.raises(ValidationError, match=f"^{named} "):
        call(world, f"KEY-{bad}-TAIL")
    after = world.kit.list_audit_events(world.admin, world.account_id, limit=500).items
    assert after == before


class PolicyBeforeTheNulRule(PasswordPolicy):
    """What the password policy was before it refused NUL characters."""

    def check(self, password: str) -> None:
        pass


def test_a_new_password_may_not_hold_nul_but_one_chosen_before_the_rule_still_verifies() -> None:
    hasher = PasswordHasher.insecure_fast()
    with pytest.raises(InvalidPassword, match="NUL"):
        hasher.hash("correct horse\x00battery")
    earlier = attrs.evolve(hasher, policy=PolicyBeforeTheNulRule()).hash("correct horse\x00battery")
    assert hasher.verify("correct horse\x00battery", earlier)
