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

from licensekit.domain._construct import deferred
from licensekit.exceptions import StorageError

__all__ = ["NULL_SENTINEL", "RowMapper", "differ", "encode_datetime", "is_plain", "reader"]

R = TypeVar("R")
Codec = Callable[[Any], Any] | None  # None: the value passes through unchanged

NULL_SENTINEL = ""
"""How a *nullable* field keeps None (and ``"\\x00"`` how it keeps the empty string)."""


_LAST_TEXT: list[tuple[dt.datetime | None, str]] = [(None, ""), (None, "")]
"""The two instants written last and their texts, the latest first: the rows of one batch
hold the same instants several times, alternating (created, expires, sent...), and writing an
instant is the dearest part of encoding a row. Each entry is one tuple, replaced whole, so
that threads never see one instant with another's text."""


def _utc_text(moment: dt.datetime) -> str:
    """Return *moment* (in UTC) as :func:`encode_datetime` writes it, and remember it."""
    older = _LAST_TEXT[1]
    text = older[1] if older[0] is moment else moment.isoformat(timespec="microseconds")
    _LAST_TEXT[1] = _LAST_TEXT[0]
    _LAST_TEXT[0] = (moment, text)
    return text


_INSTANTS: dict[str, dt.datetime] = {}
"""The instants read lately, by their stored text: records read together hold the same ones
(a batch's invitations were made, sent and expire at the same instants; a key's creation is
read with every activation; an hourly count's window with every count in it). Cleared when
full; a datetime is immutable, so records may share one."""
_MOST_INSTANTS = 512


def read_instant(text: str) -> dt.datetime:
    """Return the datetime stored as *text* (:func:`encode_datetime`'s form), parsed once.

    Raises:
        ValueError: *text* is no ISO 8601 datetime.
        TypeError: *text* is not text.
    """
    found = _INSTANTS.get(text)
    if found is None:
        found = dt.datetime.fromisoformat(text)
        if len(_INSTANTS) >= _MOST_INSTANTS:
            _INSTANTS.clear()
        _INSTANTS[text] = found
    return found


def encode_datetime(moment: dt.datetime) -> str:
    """Return *moment* as fixed-width UTC text (``2030-01-01T09:00:00.000000+00:00``).

    Raises:
        StorageError: *moment* has no time zone (it would be read as local time).
    """
    if moment.tzinfo is dt.UTC:  # the usual case: licensekit's clocks and SQLite's rows
        last = _LAST_TEXT[0]
        return last[1] if last[0] is moment else _utc_text(moment)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise StorageError(f"cannot store a datetime without a time zone: {moment.isoformat()}")
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


# One encoder and decoder each, made once: json.dumps and json.loads add a call per value.
_LIST_ENCODER = json.JSONEncoder()
_DECODER = json.JSONDecoder()


def _list_encoder() -> Callable[[list[Any]], str]:
    """``_LIST_ENCODER.encode`` of a list, with its C encoder made once, not on every call.

    The lists stored hold text only, so the check for a list inside itself is left out.
    Where the C encoder is missing or takes other arguments, the encoder's own ``encode``.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    try:
        chunks = make(  # type: ignore[misc]
            None,
            _LIST_ENCODER.default,
            json.encoder.encode_basestring_ascii,
            None,
            _LIST_ENCODER.key_separator,
            _LIST_ENCODER.item_separator,
            False,
            False,
            True,
        )
        if "".join(chunks(["a\u00e9", 1], 0)) != _LIST_ENCODER.encode(["a\u00e9", 1]):
            raise TypeError("another encoding")  # pragma: no cover - CPython's is the same
    except TypeError:  # pragma: no cover - no C encoder, or another version's arguments
        return _LIST_ENCODER.encode

    def encode(items: list[Any]) -> str:
        return "".join(chunks(items, 0))

    return encode


_ENCODE_LIST = _list_encoder()


def _json_list(value: Any) -> str:
    if not value:  # the usual case: a new record's sets are empty
        return "[]"
    return _ENCODE_LIST(sorted(value) if isinstance(value, frozenset) else list(value))


def _list_decoder(container: type[Any]) -> Callable[[str], Any]:
    """Return a function that reads a stored JSON list back as a *container* of its items.

    An empty list, the usual value (no computer activated with an invitation yet), is read
    without the JSON decoder's Python layers: a frozenset or tuple is the same empty one.
    """
    if container is list:
        return lambda text: [] if text == "[]" else list(_DECODER.decode(text))
    empty = container()
    return lambda text: empty if text == "[]" else container(_DECODER.decode(text))


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

    decode.members = members  # type: ignore[attr-defined]  # for the compiled decoders
    return decode


_MAPPING_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


_TEXT = json.encoder.c_encode_basestring or json.encoder.py_encode_basestring  # type: ignore[attr-defined]
"""A JSON string of text as :data:`_MAPPING_ENCODER` writes it (``ensure_ascii=False``)."""


_LAYOUTS: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}
"""For each tuple of keys met (in the mapping's order), the keys sorted, each with the JSON
text written before its value: an audit event of one kind has the same keys every time."""
_MOST_LAYOUTS = 512  # mappings keyed by ids (a session's grants) are not kept


def _layout(keys: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """The keys sorted, each with what precedes its value: ``{"a":``, then ``,"b":``..."""
    ordered = sorted(keys)
    layout = tuple((k, f"{',' if n else '{'}{_TEXT(k)}:") for n, k in enumerate(ordered))
    if len(_LAYOUTS) < _MOST_LAYOUTS:
        _LAYOUTS[keys] = layout
    return layout


def _json_mapping(value: Mapping[str, Any]) -> str:
    """*value* as compact JSON with sorted keys (audit details: text to text, written fast)."""
    if not value:
        return "{}"
    try:
        keys = tuple(value)
        layout = _LAYOUTS.get(keys) or _layout(keys)
        text = _TEXT
        return "".join([head + text(value[k]) for k, head in layout]) + "}"
    except (TypeError, AttributeError):  # a key or value that is not text
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
        return False, encode_datetime, read_instant
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return False, _enum_value, _enum_decoder(annotation)
    origin = typing.get_origin(annotation)
    if origin in (frozenset, tuple, list):
        return False, _json_list, _list_decoder(origin)
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
    if codec is read_instant:  # an instant read lately, without a call
        if not optional:
            return f"(INSTANTS.get({name} := {value}) or {call})"
        return f"(None if ({name} := {value}) is None else INSTANTS.get({name}) or {call})"
    if codec is _enum_value:  # an enum member's value, without a call
        plain = f"({name}._value_ if isinstance({name}, Enum) else {name})"
        if not optional:
            return f"({name}._value_ if isinstance(({name} := {value}), Enum) else {name})"
        return f"(None if ({name} := {value}) is None else {plain})"
    if getattr(codec, "members", None) is not None:  # an enum decoder: its members, inline
        member = f"(m{index}[{name}] if {name} in m{index} else {call})"
        if not optional:
            return f"(m{index}[{name}] if ({name} := {value}) in m{index} else {call})"
        return f"(None if ({name} := {value}) is None else {member})"
    if codec is encode_datetime:
        # The same instant as the last one written (the same object) reuses its text.
        utc = f"{name}.tzinfo is UTC"
        text = f"(c[1] if (c := LAST[0])[0] is {name} else utc_text({name}))"
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
        namespace: dict[str, Any] = {
            "UTC": dt.UTC,
            "LAST": _LAST_TEXT,
            "utc_text": _utc_text,
            "Enum": enum.Enum,
            "INSTANTS": _INSTANTS,
        }
        # The record is made as ``record_type(...)`` makes it, without the dear assignments
        # of a frozen class's __init__ (see domain._construct); compiled on the first read.
        namespace["record_type"] = deferred(record_type, namespace, "record_type")
        for i, (_, encode, decode) in enumerate(specs):
            namespace[f"e{i}"] = encode
            namespace[f"d{i}"] = decode
            namespace[f"m{i}"] = getattr(decode, "members", None)
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


def differ(
    names: Sequence[str], guarded: Sequence[str] = ()
) -> Callable[[Any, Any], tuple[int, ...] | None]:
    """Return ``changed(old, new)``: the positions in *names* of the fields that differ.

    A value is unchanged when it is the same object or an equal one. None when one of the
    *guarded* fields (a key, a fixed field) differs, which a save may not change. Compiled
    once into straight-line code, one test per field: a save compares each record it writes
    with the one it read, and a loop over the fields cost as much as the ``UPDATE`` it
    prepares.
    """
    guards = "".join(
        f"    if (a := old.{name}) is not (b := new.{name}) and a != b:\n        return None\n"
        for name in guarded
    )
    tests = "".join(
        f"    if (a := old.{name}) is not (b := new.{name}) and a != b:\n"
        f"        found.append({i})\n"
        for i, name in enumerate(names)
    )
    source = f"def changed(old, new):\n{guards}    found = []\n{tests}    return tuple(found)\n"
    return _compile("changed", source, {})


def reader(
    names: Sequence[str], encoders: Sequence[Callable[[Any], Any]]
) -> Callable[[Any], tuple[Any, ...]]:
    """Return ``values(record)``: the encoded values of the fields *names*, as a tuple.

    Compiled (once per set of columns a narrow save writes) into one expression, where a
    loop over the fields with a call per encoder cost a call and a list more per save. An
    encoder that passes its value through (text, bytes, numbers) is left out.
    """
    namespace: dict[str, Any] = {}
    values = []
    for i, (name, encode) in enumerate(zip(names, encoders, strict=True)):
        if encode is _same:
            values.append(f"record.{name}")
        else:
            namespace[f"e{i}"] = encode
            values.append(f"e{i}(record.{name})")
    source = f"def values(record):\n    return ({', '.join(values)},)\n"
    return _compile("values", source, namespace)
