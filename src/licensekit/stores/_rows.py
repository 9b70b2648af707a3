"""Turning licensekit's records into SQL rows and back, one codec per field type.

Each stored record type gets a :class:`RowMapper` built once from its attrs fields: the
columns (named after the fields, in field order) and, for each, how a value is written to
and read from SQLite. Scalars pass through; datetimes become fixed-width ISO 8601 text in
UTC (so that text order is time order and ``expires_at <= ?`` works in SQL); enums their
values; sets, tuples and mappings compact JSON. A field named as *nullable* (a key field that
may be None, where SQLite refuses NULL) keeps None as the empty string and the empty string as
one NUL character, which no stored text holds: the order of values is kept, None first.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import types
import typing
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Generic, TypeVar

import attrs

from licensekit.exceptions import StorageError

__all__ = ["NULL_SENTINEL", "RowMapper", "encode_datetime", "is_plain"]

R = TypeVar("R")
Codec = Callable[[Any], Any] | None  # None: the value passes through unchanged

NULL_SENTINEL = ""
"""How a *nullable* field keeps None (and ``"\\x00"`` how it keeps the empty string)."""


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


# One encoder and decoder each, made once: json.dumps and json.loads add a call per value.
_LIST_ENCODER = json.JSONEncoder()
_DECODER = json.JSONDecoder()


def _json_list(value: Any) -> str:
    return _LIST_ENCODER.encode(sorted(value) if isinstance(value, frozenset) else list(value))


def _encode_nullable(value: str | None) -> str:
    if value is None:
        return NULL_SENTINEL
    return value or "\x00"


def _decode_nullable(value: str) -> str | None:
    if value == NULL_SENTINEL:
        return None
    return "" if value == "\x00" else value


def _enum_value(value: Any) -> Any:
    # _value_ is where enum keeps a member's value; .value reaches it through a property.
    return value._value_ if isinstance(value, enum.Enum) else value


def _enum_decoder(cls: type[enum.Enum]) -> Callable[[Any], Any]:
    """Return a function that reads a stored value of *cls* back as its member.

    A dictionary look-up, where calling *cls* runs the enum machinery in Python; a value
    that is no member is still refused by *cls* itself, with its own message.
    """
    members = {member.value: member for member in cls}

    def decode(value: Any) -> Any:
        try:
            return members[value]
        except (KeyError, TypeError):  # TypeError: an unhashable value
            return cls(value)

    return decode


_MAPPING_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _json_mapping(value: Mapping[str, Any]) -> str:
    return _MAPPING_ENCODER.encode(dict(value))


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
    if annotation is bool:
        return False, int, bool
    if annotation in (str, int, bytes):
        return False, None, None
    if annotation is dt.datetime:
        return False, encode_datetime, dt.datetime.fromisoformat
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return False, _enum_value, _enum_decoder(annotation)
    origin = typing.get_origin(annotation)
    if origin in (frozenset, tuple, list):
        container = origin
        return False, _json_list, lambda text: container(_DECODER.decode(text))
    if origin in (Mapping, dict, typing.Mapping):
        return False, _json_mapping, _DECODER.decode
    raise TypeError(f"cannot store a field of type {annotation!r}")


def _same(value: Any) -> Any:
    return value


def is_plain(encoders: Sequence[Callable[[Any], Any]]) -> bool:
    """True when each of *encoders* passes its value through unchanged (text, bytes, ints)."""
    return all(encode is _same for encode in encoders)


def _nullsafe(optional: bool, encode: Codec) -> Callable[[Any], Any]:
    """Return *encode* as a function of one value, None passed through when *optional*."""
    if encode is None:
        return _same
    if not optional:
        return encode
    present = encode
    return lambda value: None if value is None else present(value)


def _compile(name: str, source: str, namespace: dict[str, Any]) -> Callable[..., Any]:
    code = compile(source, f"<licensekit row codec {name}>", "exec")
    exec(code, namespace)  # noqa: S102 - source built above from attrs field names only
    function: Callable[..., Any] = namespace[name]
    return function


def _expression(value: str, index: int, optional: bool, codec: Codec, prefix: str) -> str:
    """Python source applying codec number *index* to *value*, ``None`` kept when optional.

    A datetime in UTC, the usual case, is written inline as :func:`encode_datetime` writes
    it, without a call.
    """
    if codec is None:
        return value
    name, call = f"v{index}", f"{prefix}{index}(v{index})"
    if codec is encode_datetime:
        utc = f"{name}.tzinfo is UTC"
        text = f'{name}.isoformat(timespec="microseconds")'
        if not optional:
            return f"({text} if ({name} := {value}).tzinfo is UTC else {call})"
        return f"(None if ({name} := {value}) is None else {text} if {utc} else {call})"
    if not optional:
        return f"{prefix}{index}({value})"
    return f"(None if ({name} := {value}) is None else {call})"


class RowMapper(Generic[R]):
    """Columns and codecs for one record type.

    Attributes:
        columns: The field names, in the order :meth:`encode` writes them.
        select: ``"col1, col2, ..."`` for a SELECT of a whole record.
        encoders: For each field, how one value of it is written (None included): for the
            values of look-ups, cursors and keys.
        encode: ``encode(record)`` gives *record*'s column values, in :attr:`columns` order.
        decode: ``decode(row)`` gives the record a ``SELECT`` of :attr:`select` read as *row*.

    Args:
        only: The fields stored, when not all are (a table of an older schema): the others
            take their defaults when a record is read.
    """

    def __init__(
        self,
        record_type: type[R],
        *,
        extra: Sequence[str] = (),
        nullable: Collection[str] = (),
        codecs: Callable[[Any], tuple[bool, Codec, Codec]] | None = None,
        only: Collection[str] | None = None,
    ) -> None:
        hints = typing.get_type_hints(record_type)
        fields = attrs.fields(record_type)  # type: ignore[arg-type]
        self.type = record_type
        self.columns: tuple[str, ...] = tuple(
            f.name for f in fields if only is None or f.name in only
        )
        self.all_columns: tuple[str, ...] = (*self.columns, *extra)
        self.select = ", ".join(self.columns)
        specs = [
            (False, _encode_nullable, _decode_nullable)
            if name in nullable
            else (codecs or _codecs)(hints[name])
            for name in self.columns
        ]
        self.encoders: dict[str, Callable[[Any], Any]] = {
            name: _nullsafe(optional, encode)
            for name, (optional, encode, _) in zip(self.columns, specs, strict=True)
        }
        # Both directions are compiled once into straight-line functions: a record is
        # encoded or decoded on every read and write, and a loop over the fields with a
        # call per codec cost as much as the SQL of a small statement.
        namespace: dict[str, Any] = {"record_type": record_type, "UTC": dt.UTC}
        for i, (_, encode, decode) in enumerate(specs):
            namespace[f"e{i}"] = encode
            namespace[f"d{i}"] = decode
        written = ", ".join(
            _expression(f"record.{name}", i, optional, encode, "e")
            for i, (name, (optional, encode, _)) in enumerate(zip(self.columns, specs, strict=True))
        )
        # Positional arguments, unless some fields are not stored (*only*): those then take
        # their defaults.
        named = "" if only is None else "{}="
        read = ", ".join(
            named.format(name) + _expression(f"row[{i}]", i, optional, decode, "d")
            for i, (name, (optional, _, decode)) in enumerate(zip(self.columns, specs, strict=True))
        )
        # Instance attributes, not methods: a method calling them would add a call per row.
        self.encode: Callable[[R], list[Any]] = _compile(
            "encode", f"def encode(record):\n    return [{written}]\n", namespace
        )
        self.decode: Callable[[Sequence[Any]], R] = _compile(
            "decode", f"def decode(row):\n    return record_type({read})\n", namespace
        )
