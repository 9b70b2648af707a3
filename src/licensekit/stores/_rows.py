"""Turning licensekit's records into SQL rows and back, one codec per field type.

Each stored record type gets a :class:`RowMapper` built once from its attrs fields: the
columns (named after the fields, in field order) and, for each, how a value is written to
and read from SQLite. Scalars pass through; datetimes become fixed-width ISO 8601 text in
UTC (so that text order is time order and ``expires_at <= ?`` works in SQL); enums their
values; sets, tuples and mappings compact JSON.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import attrs

from licensekit.exceptions import StorageError

__all__ = ["RowMapper", "encode_datetime"]

R = TypeVar("R")
Codec = Callable[[Any], Any] | None  # None: the value passes through unchanged


def encode_datetime(moment: dt.datetime) -> str:
    """Return *moment* as fixed-width UTC text (``2030-01-01T09:00:00.000000+00:00``).

    Raises:
        StorageError: *moment* has no time zone (it would be read as local time).
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise StorageError(f"cannot store a datetime without a time zone: {moment.isoformat()}")
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _optional(codec: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else codec(value)


def _json_list(value: Any) -> str:
    return json.dumps(sorted(value) if isinstance(value, frozenset) else list(value))


def _json_mapping(value: Mapping[str, Any]) -> str:
    return json.dumps(dict(sorted(value.items())), ensure_ascii=False, separators=(",", ":"))


def _codecs(annotation: Any) -> tuple[Codec, Codec]:
    """Return (encode, decode) for a field annotated *annotation*."""
    args = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"cannot store a field of type {annotation!r}")
        encode, decode = _codecs(inner[0])
        return (
            None if encode is None else _optional(encode),
            None if decode is None else _optional(decode),
        )
    if annotation in (str, int, bytes, bool):
        return None, None
    if annotation is dt.datetime:
        return encode_datetime, dt.datetime.fromisoformat
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return (lambda member: member.value), annotation
    origin = typing.get_origin(annotation)
    if origin in (frozenset, tuple, list):
        return _json_list, json.loads
    if origin in (Mapping, dict, typing.Mapping):
        return _json_mapping, json.loads
    raise TypeError(f"cannot store a field of type {annotation!r}")


class RowMapper(Generic[R]):
    """Columns and codecs for one record type.

    Attributes:
        columns: The field names, in the order :meth:`encode` writes them.
        select: ``"col1, col2, ..."`` for a SELECT of a whole record.
    """

    def __init__(self, record_type: type[R], *, extra: Sequence[str] = ()) -> None:
        hints = typing.get_type_hints(record_type)
        fields = attrs.fields(record_type)  # type: ignore[arg-type]
        self.type = record_type
        self.columns: tuple[str, ...] = tuple(f.name for f in fields)
        self.all_columns: tuple[str, ...] = (*self.columns, *extra)
        pairs = [_codecs(hints[name]) for name in self.columns]
        self._encoders = [(i, enc) for i, (enc, _) in enumerate(pairs) if enc is not None]
        self._decoders = [(i, dec) for i, (_, dec) in enumerate(pairs) if dec is not None]
        self.select = ", ".join(self.columns)

    def encode(self, record: R) -> list[Any]:
        """Return *record*'s column values, in :attr:`columns` order."""
        values = [getattr(record, name) for name in self.columns]
        for i, encode in self._encoders:
            values[i] = encode(values[i])
        return values

    def decode(self, row: Sequence[Any]) -> R:
        """Return the record a SELECT of :attr:`select` read as *row*."""
        values = list(row)
        for i, decode in self._decoders:
            values[i] = decode(values[i])
        return self.type(*values)
