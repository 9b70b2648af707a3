# ruff: noqa: S301 - the tests unpickle only what they pickled themselves
"""Records, views and messages can be pickled: hosts hand them to worker processes.

Every public record and view of :mod:`licensekit.model`, and :class:`licensekit.mail.Message`,
comes back from :mod:`pickle` (every protocol), :func:`copy.copy`, :func:`copy.deepcopy` and a
real worker process equal to what was sent, and as immutable: a mapping field is read-only
again. A class with a mapping field needs :func:`licensekit.domain._pickling.picklable_mappings`
in its own module; until it has it, its tests are expected to fail with the TypeError that
pickling a mappingproxy raises.
"""

from __future__ import annotations

import concurrent.futures
import copy
import datetime as dt
import multiprocessing
import pickle
import typing
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import licensekit.model
from licensekit.domain._pickling import picklable_mappings, read_only
from licensekit.domain.model import (
    AuditAction,
    AuditEvent,
    Role,
    Session,
    SessionMethod,
    SessionRecord,
)
from licensekit.domain.records import frozen_mapping
from licensekit.mail import Message, MessageKind, Templates, render_install_invitation

CLASSES: list[type[Any]] = [
    *(
        cls
        for cls in (getattr(licensekit.model, name) for name in licensekit.model.__all__)
        if isinstance(cls, type) and attrs.has(cls)
    ),
    Message,
]
AT = dt.datetime(2031, 5, 17, 9, 30, tzinfo=dt.UTC)


def mapping_fields(cls: type[Any]) -> list[str]:
    return [f.name for f in attrs.fields(cls) if f.converter is frozen_mapping]


def unpatched(cls: type[Any]) -> bool:
    """Whether *cls* has a mapping field but not the pickling that handles it."""
    getstate = getattr(cls, "__getstate__", None)
    return bool(mapping_fields(cls)) and getattr(getstate, "__module__", "") != (
        picklable_mappings.__module__
    )


def instances(cls: type[Any]) -> st.SearchStrategy[Any]:
    """Any instance of *cls*: every field drawn from its type, mapping fields non-empty too."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for field in attrs.fields(cls):
        if not field.init:
            continue
        hint = hints[field.name]
        if field.converter is frozen_mapping:
            key, value = typing.get_args(hint)
            fields[field.alias] = st.dictionaries(st.from_type(key), st.from_type(value))
        else:
            fields[field.alias] = st.from_type(hint)
    return st.builds(cls, **fields).filter(lambda record: not holds_nan(record))


def holds_nan(value: object) -> bool:
    """Whether *value* holds a NaN anywhere: NaN is unequal to itself, so no copy equals it."""
    if isinstance(value, float):
        return value != value
    if isinstance(value, tuple | list | frozenset | set):
        return any(holds_nan(item) for item in value)
    if isinstance(value, Mapping):
        return any(holds_nan(k) or holds_nan(v) for k, v in value.items())
    if attrs.has(type(value)):
        return any(holds_nan(getattr(value, f.name)) for f in attrs.fields(type(value)))
    return False


def assert_same(restored: object, original: object) -> None:
    assert type(restored) is type(original)
    assert restored == original
    for name in mapping_fields(type(original)):
        value = getattr(restored, name)
        assert isinstance(value, MappingProxyType), name  # read-only, as it was
        assert value == getattr(original, name)
        with pytest.raises(TypeError):
            value["new"] = "value"  # type: ignore[index]
    if type(original).__hash__ is not None:
        assert hash(restored) == hash(original)


def for_every_instance(cls: type[Any], check: Callable[[Any], None]) -> None:
    """Run *check* on instances of *cls*."""

    @settings(max_examples=25, deadline=None)
    @given(instances(cls))
    def run(original: Any) -> None:
        check(original)

    run()


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_every_record_and_message_survives_pickling(cls: type[Any]) -> None:
    def check(original: Any) -> None:
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            assert_same(pickle.loads(pickle.dumps(original, protocol)), original)

    for_every_instance(cls, check)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_every_record_and_message_can_be_copied(cls: type[Any]) -> None:
    def check(original: Any) -> None:
        assert_same(copy.deepcopy(original), original)
        shallow = copy.copy(original)
        assert_same(shallow, original)
        for name in mapping_fields(cls):
            assert getattr(shallow, name) is getattr(original, name)  # read-only: not copied

    for_every_instance(cls, check)


def test_every_public_record_is_covered() -> None:
    names = {cls.__name__ for cls in CLASSES}
    assert {"User", "SessionRecord", "AuditEvent", "Session", "LicenseKey", "Message"} <= names
    assert len(CLASSES) >= 20


def sent_message(language: str = "en", templates: Templates | None = None) -> Message:
    """A message as licensekit prepares it (its data wrapped, not copied)."""
    return render_install_invitation(
        to="ann@example.org",
        product="Acme CAD",
        account_name="Example Corp",
        inviter_email="admin@example.com",
        download_url="https://downloads.example.com/install?token=tok0001",
        code="ABCD-EFGH-0001",
        token="tok0001",
        expires_at=AT,
        language=language,
        service_name="Example Licensing",
        templates=templates,
    )


def samples() -> list[object]:
    return [
        sent_message(),
        Message(
            to="bob@example.org",
            subject="Hello\nthere",
            text="text",
            html="<p>html</p>",
            language="de",
            kind=next(iter(MessageKind)),
            data={"link": "https://example.org/x", "token": "t"},
        ),
        SessionRecord(
            id="s1",
            token_hash=b"\x00\x01",
            user_id="u1",
            method=next(iter(SessionMethod)),
            issued_at=AT,
            expires_at=AT + dt.timedelta(hours=1),
            admin_grants={"acc1": 3, "acc2": 7},
        ),
        AuditEvent(
            id="e1",
            account_id="acc1",
            at=AT,
            actor_id="u1",
            action=next(iter(AuditAction)),
            subject="u2",
            details={"old_role": Role.ACCOUNT_ADMINISTRATOR.value, "note": "é ü"},
        ),
        Session(
            token="secret-token",
            id="s1",
            user_id="u1",
            email="ann@example.org",
            method=next(iter(SessionMethod)),
            issued_at=AT,
            expires_at=AT,
            roles={"acc1": Role.ACCOUNT_ADMINISTRATOR},
        ),
    ]


def test_records_and_messages_go_to_a_worker_process_and_back() -> None:
    sent = samples()
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing inherited
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        returned = list(pool.map(copy.copy, sent))  # unpickled there, pickled back

    for restored, original in zip(returned, sent, strict=True):
        assert_same(restored, original)


# -- the decorator itself, on a class of the test's own ------------------------------------


@picklable_mappings
@attrs.frozen
class Record:
    name: str
    details: Mapping[str, object] = attrs.field(factory=dict, converter=frozen_mapping)
    tags: frozenset[str] = frozenset()
    plain: object = None


@given(
    st.text(),
    st.dictionaries(st.text(), st.one_of(st.integers(), st.text(), st.none())),
    st.frozensets(st.text()),
)
def test_a_decorated_class_keeps_its_mappings_read_only(
    name: str, details: dict[str, object], tags: frozenset[str]
) -> None:
    original = Record(name, details, tags, plain={"a plain dict": 1})

    for restored in (pickle.loads(pickle.dumps(original)), copy.deepcopy(original)):
        assert restored == original
        assert isinstance(restored.details, MappingProxyType)
        assert type(restored.plain) is dict  # only read-only mappings are wrapped again
        assert restored.plain is not original.plain


def test_the_unpickled_mapping_is_a_copy_nobody_else_holds() -> None:
    original = Record("x", {"a": 1})
    restored = pickle.loads(pickle.dumps(original))

    assert restored.details == {"a": 1}
    assert restored.details is not original.details


def test_read_only_wraps_without_copying() -> None:
    mapping = {"a": 1}
    wrapped = read_only(mapping)

    assert isinstance(wrapped, MappingProxyType)
    mapping["b"] = 2
    assert wrapped == {"a": 1, "b": 2}


def test_only_attrs_classes_can_be_decorated() -> None:
    with pytest.raises(attrs.exceptions.NotAnAttrsClassError):
        picklable_mappings(dict)  # type: ignore[type-var]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_every_class_with_a_mapping_field_applies_the_pickling(cls: type[Any]) -> None:
    assert not unpatched(cls)


# -- the languages emails are written in ------------------------------------------------------


def test_every_built_in_language_survives_pickling_and_copying() -> None:
    """A mailer's templates go to worker processes too: each language travels whole."""
    templates = Templates()
    for tag in templates.languages:
        language = templates.language(tag)
        copies = [copy.copy(language), copy.deepcopy(language)]
        copies += [
            pickle.loads(pickle.dumps(language, p)) for p in range(pickle.HIGHEST_PROTOCOL + 1)
        ]
        for restored in copies:
            assert_same(restored, language)


def test_templates_that_wrote_emails_survive_pickling() -> None:
    templates = Templates()
    written = sent_message("de-AT", templates)  # the templates now hold what they worked out
    restored = pickle.loads(pickle.dumps(templates))
    assert restored.languages == templates.languages
    assert restored.language("fr") == templates.language("fr")
    again = sent_message("de-AT", restored)
    assert (again.subject, again.text, again.html) == (written.subject, written.text, written.html)
