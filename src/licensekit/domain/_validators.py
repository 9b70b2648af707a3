"""Small argument checks shared by the settings classes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from licensekit.domain._echo import echo
from licensekit.exceptions import ValidationError

__all__ = ["positive", "positive_or_none", "positive_timedelta"]


def positive_timedelta(value: object, name: str) -> dt.timedelta:
    """Return *value* if it is a timedelta longer than zero.

    Raises:
        ValidationError: It is not a timedelta, or not positive.
    """
    if not isinstance(value, dt.timedelta) or value <= dt.timedelta(0):
        raise ValidationError(f"{name} must be a positive timedelta, got {echo(value)}", field=name)
    return value


def positive(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An attrs validator: ints above zero, timedeltas longer than zero."""
    if isinstance(value, dt.timedelta):
        positive_timedelta(value, attribute.name)
    elif isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError(
            f"{attribute.name} must be a positive integer, got {echo(value)}", field=attribute.name
        )


def positive_or_none(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An attrs validator: as :func:`positive`, or None (a limit turned off)."""
    if value is not None:
        positive(instance, attribute, value)
