"""What callers are handed never serialises a hash, and a token only when asked for by name
(issue 13, section 5).

The values use cases return are the views of licensekit.model and the results of
licensekit.service. A host that turns them into JSON with licensekit.serialization must not
leak a password hash, a keyed hash or ciphertext, nor a bearer token it did not ask for.
"""

from __future__ import annotations

import inspect
import json
import typing

import attrs
import pytest

import licensekit
from licensekit import model, service
from licensekit.serialization import unstructure
from licensekit.testing import add_member, make_business_account, make_licensekit

# The stored records: only storage adapters see them, and they must keep every field.
STORED = {
    model.User,
    model.BusinessAccount,
    model.Membership,
    model.JoinInvitation,
    model.SessionRecord,
    model.AuditEvent,
    model.Throttle,
    model.LicenseKey,
    model.InstallInvitation,
    model.Installation,
    model.ComputerBlock,
}
HANDED_OUT = sorted(
    (
        value
        for module in (model, service)
        for value in vars(module).values()
        if isinstance(value, type) and attrs.has(value) and value not in STORED
    ),
    key=lambda kind: kind.__name__,
)
BEARER_TOKENS = {(model.Session, "token"), (service.ActivationResult, "installation_token")}


def test_the_values_handed_out_are_the_ones_expected():
    """A new result type is checked by the tests below without being listed here."""
    names = {kind.__name__ for kind in HANDED_OUT}
    assert {"Session", "UserView", "ActivationResult", "MemberView", "Page"} <= names


@pytest.mark.parametrize("kind", HANDED_OUT, ids=lambda kind: kind.__name__)
def test_no_value_handed_out_has_a_hash_or_ciphertext_field(kind):
    hints = typing.get_type_hints(kind)
    for field in attrs.fields(kind):
        assert "hash" not in field.name, f"{kind.__name__}.{field.name}"
        assert "ciphertext" not in field.name, f"{kind.__name__}.{field.name}"
        assert hints[field.name] is not bytes, f"{kind.__name__}.{field.name} holds bytes"


@pytest.mark.parametrize("kind", HANDED_OUT, ids=lambda kind: kind.__name__)
def test_every_bearer_token_handed_out_is_marked_secret(kind):
    for field in attrs.fields(kind):
        if field.name.endswith("token"):
            assert (kind, field.name) in BEARER_TOKENS, f"{kind.__name__}.{field.name}"
            assert field.metadata.get("secret") is True
            assert field.repr is False


def test_a_session_serialises_without_its_token():
    kit = make_licensekit()
    admin, _ = make_business_account(kit)

    data = unstructure(admin)

    assert "token" not in data
    assert admin.token not in json.dumps(data)
    assert data["email"] == "admin@example.com"
    assert {**data, "token": admin.token}["token"] == admin.token  # asked for by name


def test_an_activation_result_serialises_without_its_installation_token():
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="Suite", value="KEY-1", seats=1)
    kit.invite_installers(admin, account.id, key.id, ["ann@example.com"])

    result = kit.activate(code=kit.mailer.last(to="ann@example.com").data["code"], computer_id="A")
    data = unstructure(result)

    assert "installation_token" not in data
    assert result.installation_token not in json.dumps(data)
    assert data["computer_id"] == "A"


def test_register_user_hands_back_no_password_hash():
    kit = make_licensekit()

    user = kit.register_user("ann@example.com", "correct horse battery")
    text = json.dumps(unstructure(user)) + repr(user)

    assert "argon2" not in text
    assert "password_hash" not in text


def test_every_use_case_returns_only_values_that_are_handed_out():
    """No public method of LicenseKit is annotated to return a stored record with a secret."""
    stored_names = {
        kind.__name__
        for kind in STORED
        if any("hash" in f.name or "ciphertext" in f.name for f in attrs.fields(kind))
    }
    assert "User" in stored_names
    for name, method in inspect.getmembers(licensekit.LicenseKit, inspect.isfunction):
        if name.startswith("_"):
            continue
        annotation = str(inspect.signature(method).return_annotation)
        words = set(annotation.replace("[", " ").replace("]", " ").replace("|", " ").split())
        assert not words & stored_names, f"{name} returns {annotation}"


def test_views_of_members_and_invitations_serialise_without_secrets():
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    member = add_member(kit, admin, account.id, "grace@example.com")
    batch = kit.invite_members(admin, account.id, ["alan@example.com"])
    token = kit.mailer.last_token(to="alan@example.com")

    text = json.dumps(
        unstructure(
            [
                batch,
                kit.list_members(admin, account.id),
                kit.list_my_accounts(member),
                kit.describe_join_invitation(token),
            ]
        )
    )

    assert token not in text
    assert member.token not in text
    assert "argon2" not in text
