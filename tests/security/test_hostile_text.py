"""Text that no store can keep (a lone surrogate) or that no one really types (NUL): every text
parameter of every public use case, on both stores, answers with a licensekit error or
matches nothing, and never lets a raw Python exception out.

The use cases are found by introspection (see tests/_use_cases.py), so a method added later is
tried too; a small table there only supplies the valid values (a session, ids, a code) that
let a call reach the parameter under test.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import attrs
import pytest

from _use_cases import (
    World,
    arguments_for,
    new_world,
    text_parameters,
    use_cases,
    valid_values,
    world,
)
from licensekit import (
    InvalidPassword,
    LicenseKit,
    LicenseKitError,
    PasswordHasher,
    PasswordPolicy,
    StorageError,
    ValidationError,
)
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import TEST_JOIN_URL, TEST_SECRET, RecordingMailer

__all__ = ["new_world", "world"]  # fixtures, used by name

HOSTILE = {"lone low surrogate": "\udc80", "lone high surrogate": "\ud83d", "NUL": "\x00"}


def hostile_value(shape: str, valid: object, bad: str) -> object:
    text = valid if isinstance(valid, str) else "text"
    return text + bad if shape == "text" else ["someone@example.com", "text" + bad]


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


@pytest.mark.parametrize("bad", ["\ud83d", "\x00"], ids=["unencodable surrogate", "NUL"])
def test_a_database_path_that_cannot_name_a_file_is_a_storage_error(
    tmp_path: Path, bad: str
) -> None:
    with pytest.raises(StorageError, match="cannot name a file"):
        SQLiteStore(tmp_path / f"kit{bad}.db")
    with pytest.raises(StorageError, match="cannot name a file"):
        LicenseKit(
            str(tmp_path / f"kit{bad}.db"),
            RecordingMailer(),
            secret=TEST_SECRET,
            join_url=TEST_JOIN_URL,
        )
    assert list(tmp_path.iterdir()) == []
