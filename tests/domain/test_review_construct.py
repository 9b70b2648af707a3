"""What an outsider tries on the compiled makers: is a made record ``cls(...)``'s in every way?

Signatures attrs lays out differently from the fields (keyword-only fields first), field names
that the compiled function uses for its own, classes whose ``__new__`` does something,
threads compiling one class at once, and every way a record is looked at afterwards.
"""

from __future__ import annotations

import copy
import datetime as dt
import gc
import pickle
import threading
import weakref
from typing import Any

import attrs
import pytest

from licensekit.domain._construct import maker
from licensekit.domain.model import AuditAction, AuditEvent, InstallInvitation, Throttle
from licensekit.storage import KINDS

NOW = dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC)

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


def _same(made: Any, expected: Any) -> None:
    assert type(made) is type(expected)
    assert made.__class__ is expected.__class__
    assert made == expected
    assert not made != expected  # noqa: SIM202 - __ne__ too
    assert hash(made) == hash(expected)
    assert repr(made) == repr(expected)
    assert attrs.asdict(made) == attrs.asdict(expected)
    assert attrs.astuple(made) == attrs.astuple(expected)


@attrs.frozen
class KeywordFirst:
    """A keyword-only field before a positional one: attrs' __init__ is (self, later, *, first)."""

    first: int = attrs.field(kw_only=True)
    later: int
    after: int = attrs.field(default=3, kw_only=True)


def test_keyword_only_fields_before_positional_ones_take_the_same_arguments() -> None:
    made = maker(KeywordFirst)
    assert made is not KeywordFirst
    _same(made(2, first=1), KeywordFirst(2, first=1))
    _same(made(later=2, first=1, after=4), KeywordFirst(later=2, first=1, after=4))
    for args, kwargs in (((1, 2), {}), ((), {"first": 1}), ((2,), {})):
        with pytest.raises(TypeError):
            KeywordFirst(*args, **kwargs)
        with pytest.raises(TypeError):
            made(*args, **kwargs)


def _twice(value: str) -> str:
    return value * 2


@attrs.frozen
class OwnNames:
    """Fields named as the compiled function's helpers once were."""

    cls: int
    new: int
    writable: int = 0
    c2: str = attrs.field(default="x", converter=_twice)
    d1: tuple[int, ...] = attrs.field(factory=list, converter=tuple)
    f0: int = 7


def test_fields_named_like_the_makers_own_helpers_are_plain_arguments() -> None:
    made = maker(OwnNames)
    assert made is not OwnNames
    _same(made(1, 2, 3, "y", [5], 6), OwnNames(1, 2, 3, "y", [5], 6))
    assert made(1, 2, 3, "y", [5], 6).d1 == (5,)
    _same(made(cls=1, new=2), OwnNames(cls=1, new=2))
    assert made(1, 2).c2 == "xx"


@attrs.frozen
class Underscored:
    """An alias of its own that begins with an underscore: left to attrs."""

    value: int = attrs.field(alias="_value")


def test_an_alias_beginning_with_an_underscore_is_left_to_attrs() -> None:
    assert maker(Underscored) is Underscored
    assert maker(Underscored)(_value=1) == Underscored(_value=1)


@attrs.frozen
class Interned:
    """A class whose __new__ matters: cls(...) calls it, so must its maker."""

    value: int

    def __new__(cls, *args: Any, **kwargs: Any) -> Interned:
        Interned.calls += 1
        return super().__new__(cls)


Interned.calls = 0  # type: ignore[attr-defined]


def test_a_class_with_its_own_new_is_left_to_itself() -> None:
    assert maker(Interned) is Interned
    before = Interned.calls  # type: ignore[attr-defined]
    maker(Interned)(1)
    assert Interned.calls == before + 1  # type: ignore[attr-defined]


def test_wrong_calls_name_the_class_as_its_own_init_does() -> None:
    for call in (
        lambda f: f(),
        lambda f: f("k", 1, NOW, NOW, None, "extra"),
        lambda f: f("k", 1, NOW, NOW, nope=1),
        lambda f: f("k", 1, NOW, NOW, key="k"),
    ):
        with pytest.raises(TypeError) as by_class:
            call(Throttle)
        with pytest.raises(TypeError) as by_maker:
            call(maker(Throttle))
        assert "Throttle" in str(by_maker.value)
        # the same complaint, but for self among the positional arguments counted
        complaint = str(by_class.value).split("()", 1)[1]
        if "positional arguments but" not in complaint:
            assert str(by_maker.value).split("()", 1)[1] == complaint


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_made_record_pickles_copies_and_weakrefs_as_the_classs(protocol: int) -> None:
    made = maker(InstallInvitation)(**INVITATION_ARGS)
    expected = InstallInvitation(**INVITATION_ARGS)
    data = pickle.dumps(made, protocol)
    assert data == pickle.dumps(expected, protocol)
    _same(pickle.loads(data), expected)  # noqa: S301 - its own bytes
    _same(copy.copy(made), expected)
    _same(copy.deepcopy(made), expected)
    _same(attrs.evolve(made, activations=2), attrs.evolve(expected, activations=2))
    assert weakref.ref(made)() is made
    assert not hasattr(made, "__dict__")
    assert {made: 1}[expected] == 1
    match made:
        case InstallInvitation(id="inst_1", activations=0):
            pass
        case _:  # pragma: no cover - the assertion below says what went wrong
            pytest.fail("a made record does not match its class's pattern")


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_made_records_are_frozen_with_the_classs_own_error(kind: Any) -> None:
    cls = kind.type
    assert maker(cls) is not cls
    field = attrs.fields(cls)[0]
    probe_values = _values_of(cls)
    made = maker(cls)(**probe_values)
    _same(made, cls(**probe_values))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(made, field.name, getattr(made, field.name))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        delattr(made, field.name)
    assert type(made).__mro__ == cls.__mro__


def _values_of(cls: type[Any]) -> dict[str, Any]:
    """Arguments for every mandatory field of *cls*, of a plausible type."""
    from typing import get_type_hints

    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in attrs.fields(cls):
        if f.default is not attrs.NOTHING:
            continue
        hint = hints[f.name]
        text = str(hint)
        if hint is dt.datetime or "datetime" in text:
            values[f.alias or f.name] = NOW
        elif hint is bytes or "bytes" in text:
            values[f.alias or f.name] = b"x" * 32
        elif hint is int or text == "int":
            values[f.alias or f.name] = 1
        elif isinstance(hint, type) and issubclass(hint, __import__("enum").Enum):
            values[f.alias or f.name] = next(iter(hint))
        else:
            values[f.alias or f.name] = "x"
    return values


def test_threads_compiling_one_class_at_once_share_one_maker() -> None:
    @attrs.frozen
    class Fresh:
        value: int

    barrier = threading.Barrier(8)
    makers: list[Any] = []

    def compile_it() -> None:
        barrier.wait()
        makers.append(maker(Fresh))

    threads = [threading.Thread(target=compile_it) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(m) for m in makers}) == 1
    assert len(Fresh.__subclasses__()) == 1  # one writable twin, whichever thread made it


def test_a_converter_that_raises_leaves_no_record_behind() -> None:
    def refuse(value: str) -> str:
        if value == "bad":
            raise ValueError("refused")
        return value

    @attrs.frozen
    class Converted:
        first: str
        second: str = attrs.field(converter=refuse)

    made = maker(Converted)
    assert made is not Converted
    with pytest.raises(ValueError, match="refused"):
        made("ok", "bad")
    gc.collect()
    (twin,) = Converted.__subclasses__()
    assert not [o for o in gc.get_objects() if type(o) is twin]
    assert made("ok", "fine") == Converted("ok", "fine")


def test_converters_and_factories_are_called_as_often_and_in_the_same_order() -> None:
    calls: list[str] = []

    def first(value: int) -> int:
        calls.append("first")
        return value

    def second(value: int) -> int:
        calls.append("second")
        return value

    def factory() -> list[int]:
        calls.append("factory")
        return []

    @attrs.frozen
    class Ordered:
        a: int = attrs.field(converter=first)
        b: list[int] = attrs.field(factory=factory)
        c: int = attrs.field(default=0, converter=second)

    Ordered(1)
    by_class, calls[:] = calls[:], []
    maker(Ordered)(1)
    assert calls == by_class == ["first", "factory", "second"]
    calls.clear()
    maker(Ordered)(1, [2], 3)
    assert calls == ["first", "second"]


def test_an_audit_event_made_by_a_maker_keeps_a_read_only_copy_of_its_details() -> None:
    details = {"k": "v"}
    made = maker(AuditEvent)(
        id="evt_1",
        account_id="acc_1",
        at=NOW,
        actor_id="",
        action=AuditAction.ACTIVATED,
        subject="s",
        details=details,
    )
    details["k"] = "changed"
    assert dict(made.details) == {"k": "v"}
    again = pickle.loads(pickle.dumps(made))  # noqa: S301 - its own bytes
    assert again == made
    assert hash(again) == hash(made)
    with pytest.raises(TypeError):
        again.details["k"] = "w"


def test_a_replacer_takes_fields_named_like_its_own_helpers() -> None:
    from licensekit.domain._replace import replacer

    @attrs.frozen
    class Clashing:
        cls: int
        record: int
        UNCHANGED: int

    replace = replacer(Clashing)
    assert replace(Clashing(1, 2, 3), record=5) == Clashing(1, 5, 3)
    assert replace(Clashing(1, 2, 3), cls=7, UNCHANGED=9) == Clashing(7, 2, 9)
