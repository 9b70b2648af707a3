# ruff: noqa: S301 - the tests unpickle only what they pickled themselves
"""Pickling records with read-only mappings, as an outsider tries it: subclasses a host
defines, copies that share, and what comes back (read-only, equal, the same hash).
"""

from __future__ import annotations

import copy
import datetime as dt
import pickle
from types import MappingProxyType
from typing import Any

import attrs
import pytest

from licensekit.domain._construct import maker
from licensekit.domain.model import AuditAction, AuditEvent
from licensekit.mail import Message, MessageKind

NOW = dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC)
EVENT: dict[str, Any] = {
    "id": "evt_1",
    "account_id": "acc_1",
    "at": NOW,
    "actor_id": "",
    "action": AuditAction.ACTIVATED,
    "subject": "s",
    "details": {"k": "v"},
}


@attrs.frozen
class HostEvent(AuditEvent):
    """A host's event with a field of its own."""

    extra: int = 0


class LooseEvent(AuditEvent):
    """A host's subclass without slots: its instances have a __dict__."""


@attrs.frozen
class OwnPickling(AuditEvent):
    """A host's subclass with pickling of its own, which must be left alone."""

    def __getstate__(self) -> dict[str, Any]:
        return {"details": {"own": "state"}}

    def __setstate__(self, state: dict[str, Any]) -> None:
        object.__setattr__(self, "details", MappingProxyType(state["details"]))


def check(record: Any, again: Any) -> None:
    assert type(again) is type(record)
    assert again == record
    assert hash(again) == hash(record)
    assert type(again.details) is MappingProxyType
    with pytest.raises(TypeError):
        again.details["k"] = "w"


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_hosts_attrs_subclass_pickles_with_its_own_fields(protocol: int) -> None:
    record = HostEvent(**EVENT, extra=7)
    again = pickle.loads(pickle.dumps(record, protocol))
    check(record, again)
    assert again.extra == 7
    check(record, copy.deepcopy(record))
    check(record, copy.copy(record))


def test_a_hosts_subclass_without_slots_keeps_its_instance_attributes() -> None:
    record = LooseEvent(**EVENT)
    object.__setattr__(record, "note", "kept")
    for again in (pickle.loads(pickle.dumps(record)), copy.deepcopy(record)):
        check(record, again)
        assert again.note == "kept"  # type: ignore[attr-defined]


def test_a_hosts_own_pickling_is_left_alone() -> None:
    again = pickle.loads(pickle.dumps(OwnPickling(**EVENT)))
    assert dict(again.details) == {"own": "state"}


def test_a_shallow_copy_shares_the_mapping_and_a_deep_copy_does_not() -> None:
    record = AuditEvent(**EVENT)
    assert copy.copy(record).details is record.details
    deep = copy.deepcopy(record)
    assert deep.details is not record.details
    check(record, deep)


def test_a_record_made_by_a_maker_pickles_as_one_made_by_its_class() -> None:
    made = maker(AuditEvent)(**EVENT)
    assert pickle.dumps(made) == pickle.dumps(AuditEvent(**EVENT))
    check(made, pickle.loads(pickle.dumps(made)))


def test_a_message_comes_back_with_read_only_data_equal_and_hashed_alike() -> None:
    message = Message(
        to="ann@example.com",
        subject="Hi",
        text="t",
        html="<p>t</p>",
        language="en",
        kind=MessageKind.INSTALL_INVITATION,
        data={"link": "https://x.example/t"},
    )
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        again = pickle.loads(pickle.dumps(message, protocol))
        assert again == message
        assert hash(again) == hash(message)
        assert type(again.data) is MappingProxyType
        with pytest.raises(TypeError):
            again.data["link"] = "elsewhere"  # type: ignore[index]
