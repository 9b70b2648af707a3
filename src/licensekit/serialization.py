"""The one cattrs converter that turns licensekit's values into plain data and back.

Plain data means what JSON can hold: dicts, lists, strings, numbers, booleans and None.
Datetimes become ISO 8601 strings with their UTC offset, durations ISO 8601 durations
(``"P7D"``, ``"PT12H"``), bytes unpadded URL-safe base64, enums their values, sets sorted
lists. There are two forms, for two audiences:

* The **JSON form** (:func:`to_json` and :func:`from_json`) is what a web host returns from
  an endpoint or reads from a request or a settings file: every result a use case returns
  and every value it takes has one, described by a JSON Schema from
  :func:`licensekit.schemas.json_schema`. It never carries a hash or a ciphertext (a field
  hidden from ``repr``), and carries a bearer token (a field marked with
  :data:`licensekit.model.SECRET`) only when the caller names it::

      body = to_json(session, include_secrets={"token"})

* The **record form** (:func:`unstructure` and :func:`structure`) is what storage adapters
  keep: stored records keep every field, hashes included, so that they read back equal. It
  leaves the bearer tokens out too; code that must pass one on reads it by name.

Stores and hosts use :func:`make_converter` rather than rolling their own, so every adapter
writes the same shapes.
"""

from __future__ import annotations

import ast
import base64
import binascii
import datetime as dt
import enum
import functools
import re
import typing
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn, override

from licensekit import _results, mail
from licensekit.domain import model, throttling
from licensekit.domain._durations import duration_from_text, duration_text
from licensekit.domain._echo import echo
from licensekit.exceptions import ValidationError

__all__ = [
    "duration_from_text",
    "duration_text",
    "from_json",
    "make_converter",
    "secret_fields",
    "structure",
    "to_json",
    "unstructure",
]

T = TypeVar("T")


def _datetime_from_text(value: Any, _: type) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:  # RFC 3339 allows a lower-case "t" and "z", as the schemas' date-time does
            moment = dt.datetime.fromisoformat(value.upper())
        except ValueError as e:
            raise ValidationError(f"not an ISO 8601 datetime: {echo(value)}") from e
    else:
        raise ValidationError(f"expected an ISO 8601 datetime string, got {type(value).__name__}")
    if moment.tzinfo is None:
        raise ValidationError(f"datetime {echo(value)} has no UTC offset")
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError as e:  # 0001-01-01T00:00+01:00 is before the first UTC instant
        raise ValidationError(f"datetime {echo(value)} is out of range in UTC") from e


def _bytes_from_text(value: Any, _: type) -> bytes:
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise ValidationError(f"expected base64 text, got {type(value).__name__}")
    try:
        padded = value + "=" * (-len(value) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValidationError(f"not URL-safe base64: {echo(value)}") from e


def _timedelta_from_text(value: Any, _: type) -> dt.timedelta:
    return value if isinstance(value, dt.timedelta) else duration_from_text(value)


def _enum_value(member: enum.Enum) -> Any:
    return member.value


def _base_converter() -> cattrs.Converter:
    """Return a converter with the hooks both forms share: times, bytes, sets and enums."""
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_unstructure_hook(dt.datetime, lambda v: v.isoformat())
    converter.register_structure_hook(dt.datetime, _datetime_from_text)
    converter.register_unstructure_hook(dt.timedelta, duration_text)
    converter.register_structure_hook(dt.timedelta, _timedelta_from_text)
    converter.register_unstructure_hook(
        bytes, lambda v: base64.urlsafe_b64encode(v).rstrip(b"=").decode("ascii")
    )
    converter.register_structure_hook(bytes, _bytes_from_text)
    # Sets become sorted lists, so that the same record always gives the same data.
    converter.register_unstructure_hook_func(
        lambda t: t is frozenset or getattr(t, "__origin__", None) is frozenset, sorted
    )
    # cattrs passes str-based enums through as they are (they are strings); plain data
    # wants their values, so each enum gets a hook of its own, ahead of the one for str.
    for module in (model, mail, throttling):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, enum.Enum):
                converter.register_unstructure_hook(value, _enum_value)
    return converter


def make_converter() -> cattrs.Converter:
    """Return a new converter of the record form, configured for every licensekit record type.

    Example:
        >>> from licensekit.serialization import make_converter
        >>> from licensekit.domain.model import Role
        >>> make_converter().unstructure(Role.ACCOUNT_ADMINISTRATOR)
        'account_administrator'
    """
    converter = _base_converter()
    for value in (*vars(model).values(), *vars(_results).values()):
        if isinstance(value, type) and attrs.has(value):
            secret = [f.name for f in attrs.fields(value) if f.metadata.get("secret")]
            if secret:
                omitted: dict[str, Any] = {name: override(omit=True) for name in secret}
                hook = make_dict_unstructure_fn(value, converter, **omitted)
                converter.register_unstructure_hook(value, hook)
    return converter


_DEFAULT = make_converter()


def unstructure(record: object) -> Any:
    """Return *record* (any licensekit record, or a collection of them) as plain data."""
    return _DEFAULT.unstructure(record)


def structure(data: Any, type_: type[T]) -> T:
    """Return the *type_* record described by plain *data*.

    Raises:
        ValidationError: *data* does not describe a valid *type_*; its ``field`` names the
            first field at fault (dotted when nested) when there is one.
    """
    record: T = _structure(_DEFAULT, data, type_)
    return record


def _structure(converter: cattrs.Converter, data: Any, type_: Any) -> Any:
    name = getattr(type_, "__name__", None) or str(type_)
    try:
        return converter.structure(data, type_)
    except ValidationError:
        raise
    except cattrs.BaseValidationError as e:
        found = _our_error(e, ())
        if found is not None:
            error, where = found
            path = "".join(where)
            field = ".".join(p for p in (_dotted(path), error.field) if p) or None
            at = f" @ ${path}" if where else ""
            raise ValidationError(f"cannot read {name} from data: {error}{at}", field=field) from e
        problems = cattrs.transform_error(e)
        detail = "; ".join(problems)
        raise ValidationError(
            f"cannot read {name} from data: {detail}", field=_first_path(e)
        ) from e
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise ValidationError(f"cannot read {name} from data: {e}") from e


def _our_error(
    group: cattrs.BaseValidationError, path: tuple[str, ...]
) -> tuple[ValidationError, tuple[str, ...]] | None:
    """Find a :class:`ValidationError` that a hook or a record's own checks raised in *group*.

    Returns it with the path of the value it was raised for, as the steps of a JSONPath
    (``.items``, ``[1]``, ``['key']``), or None when cattrs's own checks (of types, of missing
    keys) refused the data.
    """
    for error in group.exceptions:
        steps = [_step(note) for note in getattr(error, "__notes__", [])]
        inner = (*path, *[step for step in steps if step][:1])
        if isinstance(error, ValidationError):
            return error, inner
        if isinstance(error, cattrs.BaseValidationError):
            found = _our_error(error, inner)
            if found is not None:
                return found
    return None


def _step(note: object) -> str:
    """The JSONPath step a cattrs note names: an attribute, a list index or a mapping key."""
    if isinstance(note, cattrs.AttributeValidationNote):
        return f".{note.name}"
    if isinstance(note, cattrs.IterableValidationNote):
        return f"[{note.index!r}]"
    return ""


_INDEX = re.compile(r"""\[(\d+|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\]""")


def _dotted(path: str) -> str:
    """A JSONPath such as ``.items[1].role`` as a dotted field name: ``items.1.role``."""

    def name(match: re.Match[str]) -> str:
        try:
            return f".{ast.literal_eval(match[1])}"
        except (ValueError, SyntaxError):  # not a repr cattrs wrote: keep it as it is
            return match[0]

    return _INDEX.sub(name, path).lstrip(".")


def _first_path(error: cattrs.BaseValidationError) -> str | None:
    """The dotted path of the first value inside the data that *error* refused.

    Built from cattrs's notes alone, not read from its messages: those may quote the data
    (the names of unknown members), and a member named like a path must not pass for one.
    """
    for path in cattrs.transform_error(error, path="", format_exception=lambda _e, _t: ""):
        dotted = _dotted(path.removeprefix(" @ "))
        if dotted:
            return dotted
    return None


# == the JSON form ============================================================================


def secret_fields(kind: Any) -> frozenset[str]:
    """Return the names of the bearer-token fields of *kind* and of the values it holds.

    These are what :func:`to_json` leaves out unless told otherwise.

    Example:
        >>> from licensekit import ActivationResult, Session, UserView
        >>> secret_fields(Session), secret_fields(ActivationResult), secret_fields(UserView)
        (frozenset({'token'}), frozenset({'installation_token'}), frozenset())
    """
    return _secrets_of(kind, frozenset())


def _secrets_of(kind: Any, seen: frozenset[Any]) -> frozenset[str]:
    if kind in seen:
        return frozenset()
    origin = typing.get_origin(kind) or kind
    found: set[str] = set()
    for argument in typing.get_args(kind):
        found |= _secrets_of(argument, seen | {kind})
    if isinstance(origin, type) and attrs.has(origin):
        hints = typing.get_type_hints(origin)
        for field in attrs.fields(origin):
            if field.metadata.get("secret"):
                found.add(field.name)
            found |= _secrets_of(hints.get(field.name), seen | {kind})
    return frozenset(found)


def _shown(field: attrs.Attribute[Any], reveal: frozenset[str]) -> bool:
    """Whether the JSON form holds *field*: what ``repr`` hides it hides, bar named secrets."""
    if field.metadata.get("secret"):
        return field.name in reveal
    return field.repr is not False


_JSON_TYPES: dict[type, str] = {str: "a string", int: "an integer", bool: "true or false"}


def _strict(kind: type) -> Any:
    """A structure hook that takes only the JSON type its schema names for *kind*.

    cattrs converts by calling the type (``bool("false")`` is true, ``str(None)`` is
    ``"None"``, ``int(5.7)`` is 5); the JSON form refuses such values instead, as the
    schemas do. An integer may come as a float without a fraction (``5.0``), as JSON
    Schema's ``integer`` allows. Enums based on ``str`` pass here too, and are made from the
    text.
    """

    def hook(value: Any, cl: Any) -> Any:
        if kind is int and isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise ValidationError(f"expected {_JSON_TYPES[kind]}, got {_json_type(value)}")
        return value if cl is kind else cl(value)

    return hook


def _json_type(value: object) -> str:
    names = {bool: "a boolean", str: "a string", int: "an integer", float: "a number"}
    names |= {type(None): "null", list: "an array", dict: "an object"}
    return names.get(type(value), type(value).__name__)


@functools.cache
def _json_converter(reveal: frozenset[str]) -> cattrs.Converter:
    converter = _base_converter()
    for kind in _JSON_TYPES:
        converter.register_structure_hook(kind, _strict(kind))

    def hook(kind: Any) -> Any:
        origin = typing.get_origin(kind) or kind
        hidden: dict[str, Any] = {
            f.name: override(omit=True) for f in attrs.fields(origin) if not _shown(f, reveal)
        }
        return make_dict_unstructure_fn(kind, converter, **hidden)

    converter.register_unstructure_hook_factory(attrs.has, hook)
    return converter


def to_json(value: object, *, include_secrets: Collection[str] = ()) -> Any:
    """Return the JSON form of *value*: plain data to answer a request with.

    *value* is any result of a use case (a view, a :class:`~licensekit.Session`, a
    :class:`~licensekit.Page`, a batch, preview or report, a tuple of them) or a value one
    takes (:class:`~licensekit.Settings`, a policy, an enum). Its shape is the one
    :func:`licensekit.schemas.json_schema` describes.

    Fields hidden from ``repr`` are left out: hashes and ciphertexts of stored records, and
    the bearer tokens (:func:`secret_fields`), which a host must send on purpose::

        >>> from licensekit.testing import make_licensekit
        >>> kit = make_licensekit()
        >>> _ = kit.register_user("ann@example.com", "correct horse battery")
        >>> session = kit.log_in("ann@example.com", "correct horse battery")
        >>> "token" in to_json(session)
        False
        >>> to_json(session, include_secrets={"token"})["token"] == session.token
        True

    Args:
        value: What to convert.
        include_secrets: Names of bearer-token fields to keep, such as ``{"token"}`` for a
            :class:`~licensekit.Session` or ``{"installation_token"}`` for an
            :class:`~licensekit.ActivationResult`.

    Raises:
        ValidationError: *include_secrets* is a string, or names a field that is no secret
            of *value* (field ``include_secrets``).
    """
    reveal = _reveal(include_secrets, value)
    return _json_converter(reveal).unstructure(value)


def _reveal(include_secrets: Collection[str], value: object) -> frozenset[str]:
    def known() -> frozenset[str]:
        found = _secrets_of(type(value), frozenset())
        for item in _members(value):
            found |= _secrets_of(type(item), frozenset())
        return found

    return _checked_secrets(include_secrets, known, type(value).__name__)


def _checked_secrets(
    include_secrets: Collection[str], known: Callable[[], frozenset[str]], described: str
) -> frozenset[str]:
    """Return *include_secrets* as a set, once each name is one of the *known()* secrets.

    *described* names the value or type in the message. Shared by :func:`to_json` and
    :func:`licensekit.schemas.json_schema`, which refuse the same arguments alike.

    Raises:
        ValidationError: *include_secrets* is one string, holds something that is no
            string, or names a field that is no secret of what is *described*.
    """
    if isinstance(include_secrets, str) or not all(isinstance(n, str) for n in include_secrets):
        raise ValidationError(
            "include_secrets must be a collection of field names, such as {'token'}",
            field="include_secrets",
        )
    reveal = frozenset(include_secrets)
    if not reveal:
        return reveal
    secrets = known()
    unknown = sorted(reveal - secrets)
    if unknown:
        raise ValidationError(
            f"include_secrets names {unknown}, which {described} does not hold; its secrets: "
            f"{sorted(secrets) or 'none'}",
            field="include_secrets",
        )
    return reveal


def _members(value: object) -> list[object]:
    """The values directly inside a collection or a generic result (a page's items)."""
    if isinstance(value, list | tuple | frozenset | set):
        return list(value)
    if isinstance(value, Mapping):
        return list(value.values())
    kind: Any = type(value)
    if attrs.has(kind):
        return [
            item
            for field in attrs.fields(kind)
            if isinstance(inner := getattr(value, field.name), tuple)
            for item in inner
        ]
    return []


@typing.overload
def from_json(data: Any, type_: type[T]) -> T: ...


@typing.overload
def from_json(data: Any, type_: Any) -> Any: ...


def from_json(data: Any, type_: Any) -> Any:
    """Return the *type_* value that JSON form *data* describes: :func:`to_json` reversed.

    *type_* may be generic, as in ``Page[MemberView]``. Values with a bearer token read
    back only from a JSON form that holds it (made with ``include_secrets``).

    Example:
        >>> import datetime as dt
        >>> from licensekit import Settings
        >>> from_json({"session_lifetime": "PT8H"}, Settings).session_lifetime
        datetime.timedelta(seconds=28800)

    Raises:
        ValidationError: *data* does not describe a valid *type_*; ``field`` names the first
            field at fault, dotted when nested (``"password_throttle.window"``).
    """
    return _structure(_json_converter(frozenset()), data, type_)
