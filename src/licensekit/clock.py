"""Time, read only through a :class:`Clock` so that hosts and tests control it."""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

from licensekit.exceptions import ValidationError

__all__ = ["Clock", "SystemClock", "ensure_aware"]


@runtime_checkable
class Clock(Protocol):
    """Protocol: a source of the current time.

    licensekit never calls :func:`datetime.datetime.now` itself; every use case asks the clock
    it was given. :class:`licensekit.testing.FakeClock` implements this protocol for tests.
    """

    def now(self) -> dt.datetime:
        """Return the current time as an aware datetime in UTC."""
        ...


class SystemClock:
    """The real clock: the operating system's time in UTC. The default everywhere."""

    def now(self) -> dt.datetime:
        """Return the current time as an aware datetime in UTC."""
        return dt.datetime.now(dt.UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


def ensure_aware(value: dt.datetime, name: str = "datetime") -> dt.datetime:
    """Return *value* converted to UTC, refusing naive datetimes and the edges of the calendar.

    Args:
        value: The datetime to check.
        name: What it is, for the error message.

    Raises:
        ValidationError: *value* is not a datetime, has no time zone, or is so close to year 1
            or year 9999 that in UTC it falls outside them.
    """
    field = name if name.isidentifier() else None
    if not isinstance(value, dt.datetime):
        raise ValidationError(f"{name} must be a datetime, got {type(value).__name__}", field=field)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(
            f"{name} must be timezone-aware, got naive {value.isoformat()}", field=field
        )
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValidationError(
            f"{name} {value.isoformat()} is outside the years 1 to 9999 once in UTC", field=field
        ) from None
