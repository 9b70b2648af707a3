"""The compiled makers of the hot paths make what the classes make, for every record."""

from __future__ import annotations

import copy
import datetime as dt
import pickle
from typing import Any, Generic, TypeVar

import attrs
import pytest

from licensekit._results import ActivationResult
from licensekit.domain._construct import deferred, maker
from licensekit.domain.licensing import Activation
from licensekit.domain.model import (
    AuditAction,
    AuditEvent,
    InstallInvitation,
    LicenseKey,
    Throttle,
)
from licensekit.storage import INSTALLATIONS, KINDS, Query

NOW = dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC)

T = TypeVar("T")

INVITATION_ARGS: dict[str, Any] = {
    "id": "inst_1",
    "account_id": "acc_1",
    "key_id": "key_1",
    "email": "ann@example.com",
    "language": "en",
    "invited_by": "usr_1",
    "created_at": NOW,
    "expires_at": NOW + dt.timedelta(days=14),
    "code_hash": b"c" * 32,
    "token_hash": b"t" * 32,
    "secret_ciphertext": b"s" * 40,
}


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_every_stored_record_type_is_compiled(kind: Any) -> None:
    made = maker(kind.type)
    assert made is not kind.type
    assert made is maker(kind.type)  # once per class


@pytest.mark.parametrize("cls", [Query, ActivationResult, Activation])
def test_the_other_records_of_an_activation_are_compiled(cls: type[Any]) -> None:
    assert maker(cls) is not cls


def _same(made: Any, expected: Any) -> None:
    assert type(made) is type(expected)
    assert made == expected
    assert hash(made) == hash(expected)
    assert repr(made) == repr(expected)
    assert attrs.asdict(made) == attrs.asdict(expected)


def test_a_made_record_is_the_classs_own_in_every_way() -> None:
    made = maker(InstallInvitation)(**INVITATION_ARGS)
    expected = InstallInvitation(**INVITATION_ARGS)
    _same(made, expected)
    _same(pickle.loads(pickle.dumps(made)), expected)  # noqa: S301 - its own bytes
    _same(copy.copy(made), expected)
    _same(attrs.evolve(made, activations=1), attrs.evolve(expected, activations=1))
    assert not hasattr(made, "__dict__")


def test_positional_arguments_and_defaults_are_the_classs() -> None:
    values: list[Any] = list(INVITATION_ARGS.values())
    _same(maker(InstallInvitation)(*values), InstallInvitation(*values))
    more: list[Any] = [*values, 3, 2]  # max_activations, activations
    _same(maker(InstallInvitation)(*more), InstallInvitation(*more))
    throttle = maker(Throttle)("k", 1, NOW, NOW)
    _same(throttle, Throttle("k", 1, NOW, NOW))
    assert throttle.locked_until is None


def test_a_made_record_is_frozen() -> None:
    made = maker(Throttle)("k", 1, NOW, NOW)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        made.failures = 2  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        del made.failures
    assert made.failures == 1


def test_converters_and_factories_run_as_in_the_class() -> None:
    """computer_ids becomes a tuple; details a read-only copy, made by the factory if left out."""
    made = maker(InstallInvitation)(**INVITATION_ARGS, computer_ids=["pc-1", "pc-2"])
    assert made.computer_ids == ("pc-1", "pc-2")
    details = {"a": "b"}
    event_args: dict[str, Any] = {
        "id": "evt_1",
        "account_id": "acc_1",
        "at": NOW,
        "actor_id": "",
        "action": AuditAction.ACTIVATED,
        "subject": "s",
    }
    event = maker(AuditEvent)(**event_args, details=details)
    details["a"] = "changed later"
    assert dict(event.details) == {"a": "b"}
    with pytest.raises(TypeError):
        event.details["a"] = "c"  # type: ignore[index]
    first, second = maker(AuditEvent)(**event_args), maker(AuditEvent)(**event_args)
    _same(first, AuditEvent(**event_args))
    assert first.details is not second.details  # a factory's value per record


def test_wrong_arguments_are_refused_as_the_class_refuses_them() -> None:
    with pytest.raises(TypeError):
        maker(Throttle)("k", 1)
    with pytest.raises(TypeError):
        maker(Throttle)("k", 1, NOW, NOW, nope=1)
    with pytest.raises(TypeError):
        maker(Throttle)("k", 1, NOW, NOW, None, "one too many")


def test_private_keyword_only_and_generic_classes_are_made_as_init_makes_them() -> None:
    @attrs.frozen
    class Sample(Generic[T]):
        first: T
        _hidden: int = 0
        later: int = attrs.field(default=5, kw_only=True)

    made = maker(Sample)
    assert made is not Sample
    _same(made(1, hidden=2, later=3), Sample(1, hidden=2, later=3))
    _same(made(1), Sample(1))
    with pytest.raises(TypeError):
        made(1, 2, 3)  # later is keyword-only


def test_classes_whose_init_does_more_are_left_to_themselves() -> None:
    @attrs.frozen
    class Validated:
        value: int = attrs.field(validator=attrs.validators.instance_of(int))

    @attrs.frozen
    class Checked:
        value: int

        def __attrs_post_init__(self) -> None:
            if self.value < 0:
                raise ValueError("negative")

    @attrs.frozen
    class SelfFactory:
        value: int
        twice: int = attrs.field(default=attrs.Factory(lambda s: s.value * 2, takes_self=True))

    @attrs.frozen(slots=False)
    class WithDict:
        value: int

    @attrs.frozen
    class Base:
        value: int

    @attrs.frozen
    class Derived(Base):
        more: int

    @attrs.frozen
    class Cached:
        value: int = attrs.field(hash=True)

        __attrs_cached_hash__: int = attrs.field(init=False, default=0, eq=False)

    class Plain:
        pass

    for cls in (Validated, Checked, SelfFactory, WithDict, Derived, Cached, Plain):
        assert maker(cls) is cls, cls
    with pytest.raises(TypeError):
        maker(Validated)("1")
    with pytest.raises(ValueError, match="negative"):
        maker(Checked)(-1)


def test_a_deferred_maker_compiles_on_its_first_call_and_then_steps_aside() -> None:
    namespace: dict[str, Any] = {}
    namespace["make"] = stand_in = deferred(Query, namespace, "make")
    made = namespace["make"](INSTALLATIONS, ("id",), (("ins_1",),))
    assert made == Query(INSTALLATIONS, ("id",), (("ins_1",),))
    assert type(made) is Query
    assert namespace["make"] is maker(Query) is not stand_in


def test_a_key_read_back_by_its_maker_equals_the_one_written() -> None:
    args: dict[str, Any] = {
        "id": "key_1",
        "account_id": "acc_1",
        "product": "P",
        "seats": 3,
        "seats_used": 0,
        "created_at": NOW,
        "created_by": "usr_1",
        "value_hash": b"v" * 32,
        "value_ciphertext": b"c" * 40,
    }
    _same(maker(LicenseKey)(**args), LicenseKey(**args))
