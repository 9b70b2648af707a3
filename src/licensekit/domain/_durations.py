"""ISO 8601 durations in weeks, days, hours, minutes and seconds: read and written.

Years and months are left out: their length depends on the date. The JSON forms
(:mod:`licensekit.serialization`) and the use cases' ``expires_in`` read durations here.
"""

from __future__ import annotations

import datetime as dt
import re

from licensekit.domain._echo import echo
from licensekit.exceptions import ValidationError

__all__ = ["duration_from_text", "duration_text"]

_DURATION = re.compile(
    r"(?P<sign>-)?P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?"
    r"(?:(?P<seconds>\d+)(?:[.,](?P<fraction>\d{1,6}))?S)?)?",
    re.ASCII,  # digits 0-9 only, as the JSON Schema's pattern means them
)


def duration_text(value: dt.timedelta) -> str:
    """Return *value* as an ISO 8601 duration in days, hours, minutes and seconds.

    Years and months are never used (they have no fixed length), so the text reads back as
    exactly the same :class:`~datetime.timedelta`.

    Example:
        >>> import datetime as dt
        >>> duration_text(dt.timedelta(days=7)), duration_text(dt.timedelta(hours=36, seconds=1.5))
        ('P7D', 'P1DT12H1.5S')
    """
    sign = "-" if value < dt.timedelta(0) else ""
    value = abs(value)
    minutes, seconds = divmod(value.seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days = f"{value.days}D" if value.days else ""
    fraction = f".{value.microseconds:06d}".rstrip("0") if value.microseconds else ""
    clock = "".join(f"{number}{unit}" for number, unit in ((hours, "H"), (minutes, "M")) if number)
    if seconds or fraction:
        clock += f"{seconds}{fraction}S"
    if not days and not clock:
        return "PT0S"
    return f"{sign}P{days}{'T' + clock if clock else ''}"


def duration_from_text(value: object) -> dt.timedelta:
    """Return the :class:`~datetime.timedelta` an ISO 8601 duration names.

    Weeks, days, hours, minutes and seconds (with up to six decimals) are accepted; years
    and months are not, since their length depends on the date.

    Example:
        >>> duration_from_text("PT15M"), duration_from_text("P2W")
        (datetime.timedelta(seconds=900), datetime.timedelta(days=14))

    Raises:
        ValidationError: *value* is not text in that form.
    """
    if not isinstance(value, str):
        raise ValidationError(f"expected an ISO 8601 duration string, got {type(value).__name__}")
    match = _DURATION.fullmatch(value.strip())
    if match is None or value.strip().lstrip("-") in ("P", "PT"):
        raise ValidationError(
            f"not an ISO 8601 duration in weeks, days, hours, minutes and seconds "
            f"(such as 'P7D' or 'PT30M'): {echo(value)}"
        )
    fraction = match["fraction"] or ""
    try:
        parts = {
            name: int(number)
            for name, number in match.groupdict().items()
            if name not in ("sign", "fraction") and number
        }
        duration = dt.timedelta(
            microseconds=int(fraction.ljust(6, "0")) if fraction else 0, **parts
        )
    except (OverflowError, ValueError):  # too many digits for int(), or for a timedelta
        raise ValidationError(
            f"duration {echo(value)} is longer than {dt.timedelta.max.days:,} days"
        ) from None
    return -duration if match["sign"] else duration
