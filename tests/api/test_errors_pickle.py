# ruff: noqa: S301 - the tests unpickle only what they pickled themselves
"""Every licensekit error survives pickling: a process pool or a task queue hands it back whole.

Errors whose details are keyword arguments (``SeatsFull(message, seats=5)``) could not be
rebuilt by BaseException's own pickling, which calls the class with the message alone.
"""

from __future__ import annotations

import datetime as dt
import inspect
import pickle
import typing
from typing import Any

import pytest

import licensekit.exceptions as errors
from licensekit.exceptions import LicenseKitError, SeatsFull, StorageBusy, ValidationError

CLASSES = sorted(
    (c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, LicenseKitError)),
    key=lambda c: c.__name__,
)
_SAMPLES: dict[Any, Any] = {
    int: 3,
    float: 1.5,
    str: "detail",
    bool: True,
    dt.datetime: dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    dt.timedelta: dt.timedelta(seconds=30),
}


def _sample(annotation: Any) -> Any:
    """A value of the annotated type (the first member of a union that has one)."""
    for option in typing.get_args(annotation) or (annotation,):
        if option in _SAMPLES:
            return _SAMPLES[option]
    return None


def _instance(cls: type[LicenseKitError]) -> LicenseKitError:
    """An error of *cls* with every argument given, the optional ones included."""
    try:
        parameters = inspect.signature(cls).parameters
    except ValueError:  # the builtin exception's own __init__: the message alone
        return cls("what went wrong")
    hints = typing.get_type_hints(cls.__init__)
    arguments: dict[str, Any] = {}
    positional: list[Any] = []
    for name, parameter in parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        value = "what went wrong" if name == "message" else _sample(hints.get(name, str))
        if parameter.kind is parameter.POSITIONAL_ONLY:
            positional.append(value)
        else:
            arguments[name] = value
    return cls(*positional, **arguments)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_error_comes_back_from_pickling_with_its_details(cls: type[LicenseKitError]) -> None:
    error = _instance(cls)
    error.add_note("raised while testing")
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is cls
    assert back.args == error.args
    assert str(back) == str(error)
    assert vars(back) == vars(error)
    assert back.to_dict() == error.to_dict()


def test_the_details_given_by_keyword_come_back() -> None:
    full = pickle.loads(pickle.dumps(SeatsFull("every seat is taken", seats=5, needed=2, free=1)))
    assert (full.seats, full.needed, full.free) == (5, 2, 1)
    busy = pickle.loads(pickle.dumps(StorageBusy("the database is busy", retry_after=2.0)))
    assert busy.retry_after == 2.0
    bad = pickle.loads(pickle.dumps(ValidationError("limit must be between 1 and 500")))
    assert bad.field == "limit"
