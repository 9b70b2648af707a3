"""The compiled replacer of the hot paths makes what ``attrs.evolve`` makes, for every record."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest

from licensekit.domain._replace import replacer
from licensekit.domain.model import AuditAction, AuditEvent, InstallInvitation, Throttle
from licensekit.storage import KINDS

NOW = dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC)

INVITATION = InstallInvitation(
    id="inst_1",
    account_id="acc_1",
    key_id="key_1",
    email="ann@example.com",
    language="en",
    invited_by="usr_1",
    created_at=NOW,
    expires_at=NOW + dt.timedelta(days=14),
    code_hash=b"c" * 32,
    token_hash=b"t" * 32,
    secret_ciphertext=b"s" * 40,
)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_every_stored_record_type_gets_a_replacer_with_its_init_arguments(kind: Any) -> None:
    replace = replacer(kind.type)
    names = {f.alias for f in attrs.fields(kind.type) if f.init}
    assert replace.__code__.co_kwonlyargcount == len(names)
    assert set(replace.__code__.co_varnames[1 : 1 + len(names)]) == names


def test_a_replacement_equals_attrs_evolve_and_leaves_the_record_unchanged() -> None:
    replace = replacer(InstallInvitation)
    changes = {"activations": 1, "computer_ids": ("pc-1",), "last_activated_at": NOW}
    made = replace(INVITATION, **changes)
    assert made == attrs.evolve(INVITATION, **changes)
    assert type(made) is InstallInvitation
    assert INVITATION.activations == 0
    assert INVITATION.computer_ids == ()
    assert replace(INVITATION) == INVITATION


def test_converters_run_on_the_values_given() -> None:
    """computer_ids is converted to a tuple; a mapping of details to a read-only one."""
    made = replacer(InstallInvitation)(INVITATION, computer_ids=["pc-1", "pc-2"])
    assert made.computer_ids == ("pc-1", "pc-2")
    event = AuditEvent(
        id="evt_1",
        account_id="acc_1",
        at=NOW,
        actor_id="",
        action=AuditAction.ACTIVATED,
        subject="s",
    )
    details = {"a": "b"}
    changed = replacer(AuditEvent)(event, details=details)
    details["a"] = "changed later"
    assert dict(changed.details) == {"a": "b"}


def test_an_unknown_field_is_refused_as_attrs_evolve_refuses_it() -> None:
    throttle = Throttle(key="k", failures=1, window_started_at=NOW, expires_at=NOW)
    with pytest.raises(TypeError):
        replacer(Throttle)(throttle, nope=1)
    with pytest.raises(TypeError):
        attrs.evolve(throttle, nope=1)


def test_private_and_keyword_only_fields_are_named_as_init_names_them() -> None:
    @attrs.frozen
    class Sample:
        first: int
        flag: bool = attrs.field(default=False, kw_only=True)
        last: int = 3
        _hidden: int = 4

    replace = replacer(Sample)
    made = replace(Sample(1, flag=True, last=5, hidden=6), last=9, hidden=7)
    assert made == attrs.evolve(Sample(1, flag=True, last=5, hidden=6), last=9, hidden=7)
