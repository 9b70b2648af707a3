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
    if moment.tzinfo is dt.UTC:  # the usual case: licensekit's clocks and SQLite's rows
        return moment.isoformat(timespec="microseconds")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise StorageError(f"cannot store a datetime without a time zone: {moment.isoformat()}")
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _json_list(value: Any) -> str:
    return json.dumps(sorted(value) if isinstance(value, frozenset) else list(value))


def _json_mapping(value: Mapping[str, Any]) -> str:
    return json.dumps(dict(sorted(value.items())), ensure_ascii=False, separators=(",", ":"))


def _codecs(annotation: Any) -> tuple[bool, Codec, Codec]:
    """Return (optional, encode, decode) for a field annotated *annotation*.

    The codecs handle present values; an optional field's ``None`` passes through.
    """
    args = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"cannot store a field of type {annotation!r}")
        _, encode, decode = _codecs(inner[0])
        return True, encode, decode
    if annotation in (str, int, bytes, bool):
        return False, None, None
    if annotation is dt.datetime:
        return False, encode_datetime, dt.datetime.fromisoformat
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return False, (lambda member: member.value), annotation
    origin = typing.get_origin(annotation)
    if origin in (frozenset, tuple, list):
        return False, _json_list, json.loads
    if origin in (Mapping, dict, typing.Mapping):
        return False, _json_mapping, json.loads
    raise TypeError(f"cannot store a field of type {annotation!r}")


def _compile(name: str, source: str, namespace: dict[str, Any]) -> Callable[..., Any]:
    code = compile(source, f"<licensekit row codec {name}>", "exec")
    exec(code, namespace)  # noqa: S102 - source built above from attrs field names only
    function: Callable[..., Any] = namespace[name]
    return function


def _expression(value: str, index: int, optional: bool, codec: Codec, prefix: str) -> str:
    """Python source applying codec number *index* to *value*, ``None`` kept when optional."""
    if codec is None:
        return value
    if not optional:
        return f"{prefix}{index}({value})"
    return f"(None if (v{index} := {value}) is None else {prefix}{index}(v{index}))"


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
        self.select = ", ".join(self.columns)
        specs = [_codecs(hints[name]) for name in self.columns]
        # Both directions are compiled once into straight-line functions: a record is
        # encoded or decoded on every read and write, and a loop over the fields with a
        # call per codec cost as much as the SQL of a small statement.
        namespace: dict[str, Any] = {"record_type": record_type}
        for i, (_, encode, decode) in enumerate(specs):
            namespace[f"e{i}"] = encode
            namespace[f"d{i}"] = decode
        written = ", ".join(
            _expression(f"record.{name}", i, optional, encode, "e")
            for i, (name, (optional, encode, _)) in enumerate(zip(self.columns, specs, strict=True))
        )
        read = ", ".join(
            _expression(f"row[{i}]", i, optional, decode, "d")
            for i, (optional, _, decode) in enumerate(specs)
        )
        self._encode: Callable[[R], list[Any]] = _compile(
            "encode", f"def encode(record):\n    return [{written}]\n", namespace
        )
        self._decode: Callable[[Sequence[Any]], R] = _compile(
            "decode", f"def decode(row):\n    return record_type({read})\n", namespace
        )

    def encode(self, record: R) -> list[Any]:
        """Return *record*'s column values, in :attr:`columns` order."""
        return self._encode(record)

    def decode(self, row: Sequence[Any]) -> R:
        """Return the record a SELECT of :attr:`select` read as *row*."""
        return self._decode(row)
