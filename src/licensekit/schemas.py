"""JSON Schemas (draft 2020-12) of the JSON forms of licensekit's results and inputs.

:func:`json_schema` describes what :func:`licensekit.serialization.to_json` makes of a type
and what :func:`licensekit.serialization.from_json` reads, so that a web host can put real
shapes in its OpenAPI document instead of empty objects. The schemas are made from the attrs
classes themselves (their fields, type hints and docstrings), so they follow the code.

:data:`RESULT_TYPES` lists every type a use case of :class:`~licensekit.LicenseKit` returns,
and :data:`INPUT_TYPES` the attrs classes and enums the use cases and the constructor take;
:func:`error_schema` describes the body of :meth:`licensekit.LicenseKitError.to_dict`, and
:func:`openapi_components` gathers them all for an OpenAPI document.

Example:
    >>> from licensekit import UserView
    >>> schema = json_schema(UserView)
    >>> schema["properties"]["created_at"]
    {'type': 'string', 'format': 'date-time', 'description': 'When the account was made.'}
    >>> schema["required"]
    ['id', 'email', 'name', 'created_at', 'email_verified_at', 'has_password']
"""

from __future__ import annotations

import ast
import datetime as dt
import enum
import functools
import inspect
import itertools
import re
import textwrap
import types
import typing
from collections.abc import Collection, Mapping, Sequence, Set
from typing import Any, Literal

import attrs

from licensekit import exceptions
from licensekit._results import (
    AccountMembership,
    ActivationResult,
    CheckInResult,
    CsvPage,
    CullReport,
    DeliveryReport,
    InstallInvitationBatch,
    InstallInvitationPreview,
    InvitationPreview,
    JoinInvitationBatch,
    MoveReport,
    PurgeReport,
    Settings,
)
from licensekit.domain.model import (
    AuditEvent,
    BusinessAccount,
    ComputerBlock,
    InstallationView,
    InstallInvitationState,
    InstallInvitationView,
    InvitationState,
    JoinInvitationView,
    LicenseKeyView,
    MemberView,
    Page,
    Role,
    SeatPool,
    SeatPoolView,
    Session,
    UserView,
)
from licensekit.domain.throttling import ThrottlePolicy
from licensekit.emails import EmailList
from licensekit.passwords import Argon2Parameters, PasswordHasher, PasswordPolicy
from licensekit.serialization import _checked_secrets, _shown, secret_fields, to_json

__all__ = [
    "DIALECT",
    "INPUT_TYPES",
    "RESULT_TYPES",
    "error_schema",
    "json_schema",
    "openapi_components",
]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
"""The JSON Schema dialect of every schema made here (OpenAPI 3.1 uses the same)."""

RESULT_TYPES: tuple[Any, ...] = (
    AccountMembership,
    ActivationResult,
    BusinessAccount,
    CheckInResult,
    ComputerBlock,
    CsvPage,
    CullReport,
    DeliveryReport[InstallInvitationView],
    DeliveryReport[JoinInvitationView],
    EmailList,
    InstallInvitationBatch,
    InstallInvitationPreview,
    InstallInvitationView,
    InstallationView,
    InvitationPreview,
    JoinInvitationBatch,
    JoinInvitationView,
    LicenseKeyView,
    MemberView,
    MoveReport,
    Page[AuditEvent],
    Page[ComputerBlock],
    Page[InstallInvitationView],
    Page[InstallationView],
    Page[JoinInvitationView],
    Page[LicenseKeyView],
    Page[MemberView],
    PurgeReport,
    SeatPoolView,
    Session,
    UserView,
    tuple[AccountMembership, ...],
)
"""Every type a use case returns (and :class:`~licensekit.EmailList`, from the CSV readers)."""

INPUT_TYPES: tuple[Any, ...] = (
    Argon2Parameters,
    InstallInvitationState,
    InvitationState,
    PasswordHasher,
    PasswordPolicy,
    Role,
    SeatPool,
    Settings,
    ThrottlePolicy,
)
"""The attrs classes and enums that the use cases and :class:`~licensekit.LicenseKit` take.

A :class:`~licensekit.Session` is taken back too; its JSON form with its token
(``include_secrets={"token"}``) reads back as the same session.
"""

Mode = Literal["output", "input"]


def json_schema(
    type_: Any,
    *,
    include_secrets: Collection[str] = (),
    mode: Mode = "output",
    ref_template: str = "#/$defs/{name}",
) -> dict[str, Any]:
    """Return the JSON Schema of the JSON form of *type_*.

    Nested classes and enums are described once under ``$defs`` and referred to by
    ``$ref``; a generic class is named after its arguments (``Page_MemberView``).

    Args:
        type_: An attrs class of licensekit's (generic ones with their arguments, as in
            ``Page[MemberView]``), an enum, or a tuple, frozenset or mapping of them.
        include_secrets: The bearer-token fields to describe, as passed to
            :func:`~licensekit.serialization.to_json`.
        mode: ``"output"`` describes what :func:`~licensekit.serialization.to_json` makes:
            every field is present. ``"input"`` describes what
            :func:`~licensekit.serialization.from_json` accepts: fields with a default may be
            left out, and each states its default.
        ref_template: How a ``$ref`` names a definition; ``{name}`` is replaced by its
            name. For an OpenAPI document, use ``"#/components/schemas/{name}"`` and move
            the definitions of ``$defs`` to ``components/schemas``.

    Raises:
        TypeError: *type_* holds a type that has no JSON form (or a generic class without
            its arguments).
        ValidationError: *include_secrets* is a string, or names a field that is no secret
            of *type_* (field ``include_secrets``), as :func:`~licensekit.serialization.to_json`
            refuses them: the schema would otherwise leave out a token the body holds.
    """
    reveal = _checked_secrets(include_secrets, lambda: secret_fields(type_), _described(type_))
    builder = _Builder(reveal, mode, ref_template)
    schema = {"$schema": DIALECT, **builder.inline(type_)}
    if builder.definitions:
        schema["$defs"] = dict(sorted(builder.definitions.items()))
    return schema


def _described(kind: Any) -> str:
    """How a message names *kind*: ``Session``, ``Page[MemberView]``, ``tuple[Session, ...]``."""
    if isinstance(kind, type) and not typing.get_args(kind):
        return kind.__name__
    return re.sub(r"\b(?:[\w]+\.)+(\w+)", r"\1", repr(kind))


def error_schema() -> dict[str, Any]:
    """Return the JSON Schema of :meth:`licensekit.LicenseKitError.to_dict`'s result.

    Its ``code`` is one of the codes of :mod:`licensekit.exceptions`, listed in an ``enum``.
    """
    codes = sorted(
        {
            value.code
            for value in vars(exceptions).values()
            if isinstance(value, type) and issubclass(value, exceptions.LicenseKitError)
        }
    )
    return {
        "$schema": DIALECT,
        "title": "LicenseKitError",
        "description": "An error licensekit raised, as the body of an HTTP answer.",
        "type": "object",
        "properties": {
            "code": {
                "type": "string",
                "enum": codes,
                "description": "What went wrong, by a name that does not change.",
            },
            "status": {
                "type": "integer",
                "minimum": 400,
                "maximum": 599,
                "description": "The HTTP status to answer with.",
            },
            "message": {"type": "string", "description": "What went wrong, for a person."},
            "field": {
                "type": "string",
                "description": "The argument or field at fault (validation errors).",
            },
            "retry_after": {
                "type": "integer",
                "minimum": 1,
                "description": "Seconds to wait before trying again (429 and 503).",
            },
        },
        "required": ["code", "status", "message"],
        "additionalProperties": False,
    }


def openapi_components(
    *, ref_template: str = "#/components/schemas/{name}"
) -> dict[str, dict[str, Any]]:
    """Return the schemas of every result, every input and the error body, by name.

    Put them under ``components/schemas`` of an OpenAPI 3.1 document and refer to them as
    ``{"$ref": "#/components/schemas/ActivationResult"}``; what they nest is there too. A
    result is described as :func:`~licensekit.serialization.to_json` makes it (without
    tokens), an input as :func:`~licensekit.serialization.from_json` accepts it, the error
    body under the name ``LicenseKitError``.

    Example:
        >>> components = openapi_components()
        >>> components["Page_MemberView"]["properties"]["items"]["items"]
        {'$ref': '#/components/schemas/MemberView'}
        >>> components["LicenseKitError"]["required"]
        ['code', 'status', 'message']
    """
    components: dict[str, dict[str, Any]] = {}
    described: list[tuple[Any, Mode]] = [(kind, "output") for kind in RESULT_TYPES]
    described += [(kind, "input") for kind in INPUT_TYPES]
    for kind, mode in described:
        if typing.get_origin(kind) is tuple:
            continue  # an array of a class that has a component of its own
        schema = json_schema(kind, mode=mode, ref_template=ref_template)
        del schema["$schema"]
        for name, definition in [(_name(kind), schema), *schema.pop("$defs", {}).items()]:
            if components.setdefault(name, definition) != definition:
                raise TypeError(f"{name} would be described twice, differently")
    error = error_schema()
    del error["$schema"]
    components["LicenseKitError"] = error
    return dict(sorted(components.items()))


_DURATION_PATTERN = r"^-?P(?=\d|T\d)(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+([.,]\d{1,6})?S)?)?$"
_SIMPLE: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    float: {"type": "number"},
    type(None): {"type": "null"},
    dt.datetime: {"type": "string", "format": "date-time"},
    # RFC 3339's durations, without years and months (no fixed length), with ISO 8601's
    # fractions of a second: exactly what licensekit.serialization.duration_text writes.
    dt.timedelta: {"type": "string", "format": "duration", "pattern": _DURATION_PATTERN},
    bytes: {"type": "string", "contentEncoding": "base64url"},
}
_ARRAYS = (tuple, list, Sequence, Collection)
_SETS = (frozenset, set, Set)
_MAPPINGS = (dict, Mapping)


class _Builder:
    """Makes the schema of one type, collecting the definitions of what it nests."""

    def __init__(self, reveal: frozenset[str], mode: Mode, ref_template: str) -> None:
        self.reveal = reveal
        self.mode = mode
        self.ref_template = ref_template
        self.definitions: dict[str, dict[str, Any]] = {}
        self._named: dict[str, Any] = {}

    def inline(self, kind: Any) -> dict[str, Any]:
        """The schema of *kind* written out here (a class's object schema, not a $ref)."""
        if _is_enum(kind):
            return _enum_schema(kind)
        if attrs.has(typing.get_origin(kind) or kind):
            return self._object(kind)
        return self.of(kind)

    def of(self, kind: Any) -> dict[str, Any]:
        """The schema of *kind* where it is nested: classes and enums by reference."""
        if kind in _SIMPLE:
            return dict(_SIMPLE[kind])
        if isinstance(kind, typing.TypeVar):
            raise TypeError(f"give the type of {kind}, as in Page[MemberView]")
        origin = typing.get_origin(kind)
        arguments = typing.get_args(kind)
        if origin in (typing.Union, types.UnionType):
            return {"anyOf": [self.of(argument) for argument in arguments]}
        if _is_enum(kind) or attrs.has(origin or kind):
            return self._reference(kind)
        if origin in _SETS:
            return {"type": "array", "items": self.of(arguments[0]), "uniqueItems": True}
        if origin is tuple and arguments[-1:] != (Ellipsis,):
            items = [self.of(argument) for argument in arguments]
            return {
                "type": "array",
                "prefixItems": items,
                "minItems": len(items),
                "maxItems": len(items),
            }
        if origin in _ARRAYS:
            return {"type": "array", "items": self.of(arguments[0])}
        if origin in _MAPPINGS and arguments[:1] == (str,):
            return {"type": "object", "additionalProperties": self.of(arguments[1])}
        raise TypeError(f"{kind!r} has no JSON form that licensekit describes")

    def _reference(self, kind: Any) -> dict[str, Any]:
        name = _name(kind)
        known = self._named.setdefault(name, kind)
        if known != kind:
            raise TypeError(f"two types are both called {name}: {known!r} and {kind!r}")
        if name not in self.definitions:
            self.definitions[name] = {}  # taken, so that a type nesting itself ends
            self.definitions[name] = self.inline(kind)
        return {"$ref": self.ref_template.format(name=name)}

    def _object(self, kind: Any) -> dict[str, Any]:
        origin = typing.get_origin(kind) or kind
        bound = dict(
            zip(getattr(origin, "__parameters__", ()), typing.get_args(kind), strict=False)
        )
        hints = typing.get_type_hints(origin)
        described = _descriptions(origin)
        properties: dict[str, Any] = {}
        required: list[str] = []
        for field in attrs.fields(origin):
            if not _shown(field, self.reveal):
                continue
            schema = self.of(_bind(hints[field.name], bound))
            if field.name in described:
                schema["description"] = described[field.name]
            has_default = field.default is not attrs.NOTHING
            if self.mode == "input" and has_default:
                schema["default"] = to_json(_default(field))
            else:
                required.append(field.name)
            properties[field.name] = schema
        schema = {"title": _title(kind), "type": "object"}
        summary = _summary(origin)
        if summary:
            schema["description"] = summary
        schema["properties"] = properties
        schema["required"] = required
        schema["additionalProperties"] = False
        return schema


def _is_enum(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, enum.Enum)


def _enum_schema(kind: type[enum.Enum]) -> dict[str, Any]:
    values = [member.value for member in kind]
    schema: dict[str, Any] = {"title": kind.__name__}
    summary = _summary(kind)
    if summary:
        schema["description"] = summary
    if all(isinstance(value, str) for value in values):
        schema["type"] = "string"
    schema["enum"] = values
    return schema


def _bind(hint: Any, bound: dict[Any, Any]) -> Any:
    """Return *hint* with the type variables of a generic class replaced by its arguments."""
    if isinstance(hint, typing.TypeVar):
        return bound.get(hint, hint)
    origin = typing.get_origin(hint)
    arguments = typing.get_args(hint)
    if origin is None or not arguments:
        return hint
    replaced = tuple(
        argument if argument is Ellipsis else _bind(argument, bound) for argument in arguments
    )
    if replaced == arguments:
        return hint
    if origin in (typing.Union, types.UnionType):
        return typing.Union[replaced]  # noqa: UP007 - built from values, not written out
    return origin[replaced]


def _default(field: attrs.Attribute[Any]) -> Any:
    default: Any = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return default.factory()
    return default


def _name(kind: Any) -> str:
    """The definition's name: the class's, with a generic's arguments after underscores."""
    origin = typing.get_origin(kind) or kind
    arguments = typing.get_args(kind)
    return "_".join([origin.__name__, *(_name(argument) for argument in arguments)])


def _title(kind: Any) -> str:
    origin = typing.get_origin(kind) or kind
    arguments = typing.get_args(kind)
    if not arguments:
        return str(origin.__name__)
    return f"{origin.__name__}[{', '.join(_title(argument) for argument in arguments)}]"


_ROLE = re.compile(r":(?:py:)?\w+:`~?(?:[\w.]*\.)?([^`.]+)`")


def _plain(text: str) -> str:
    """Docstring text as one line of Markdown: roles become code, double backquotes single."""
    text = _ROLE.sub(r"`\1`", text)
    return " ".join(text.replace("``", "`").split())


def _summary(kind: type) -> str:
    """The first paragraph of *kind*'s own docstring."""
    doc = kind.__dict__.get("__doc__")
    if not doc:
        return ""
    return _plain(inspect.cleandoc(doc).split("\n\n")[0])


@functools.cache
def _descriptions(kind: type) -> dict[str, str]:
    """Return what *kind*'s docstring says of each field.

    That is its ``Attributes:`` section, or else the string written under the field in the
    class body.
    """
    described = _attribute_docstrings(kind)
    doc = inspect.cleandoc(kind.__dict__.get("__doc__") or "")
    lines = doc.splitlines()
    if "Attributes:" not in lines:
        return described
    entry: str | None = None
    for line in lines[lines.index("Attributes:") + 1 :]:
        if line and not line.startswith(" "):
            break
        match = re.match(r"    (\w+)(?: \([^)]*\))?: (.*)", line)
        if match:
            entry = match[1]
            described[entry] = match[2]
        elif entry is not None and line.startswith("        "):
            described[entry] += " " + line.strip()
    return {name: _plain(text) for name, text in described.items()}


def _attribute_docstrings(kind: type) -> dict[str, str]:
    try:
        source = textwrap.dedent(inspect.getsource(kind))
    except (OSError, TypeError):  # pragma: no cover - installed without its sources
        return {}
    body = ast.parse(source).body[0]
    found: dict[str, str] = {}
    statements = getattr(body, "body", [])
    for statement, following in itertools.pairwise(statements):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            found[statement.target.id] = inspect.cleandoc(following.value.value)
    return found
