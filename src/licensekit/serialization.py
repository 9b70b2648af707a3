"""The one cattrs converter that turns licensekit's records into plain data and back.

Plain data means what JSON can hold: dicts, lists, strings, numbers, booleans and None.
Datetimes become ISO 8601 strings with their UTC offset, bytes become unpadded URL-safe
base64, enums their values. Stores and hosts use :func:`make_converter` rather than rolling
their own, so every adapter writes the same shapes.

A bearer token handed to a caller (:attr:`licensekit.Session.token`,
:attr:`licensekit.ActivationResult.installation_token`: the fields marked with
:data:`licensekit.model.SECRET`) is left out, so a host that returns a result as JSON never
sends one by accident. Code that must pass it on reads it by name::

    body = {**unstructure(session), "token": session.token}

Values handed to callers carry no hash to begin with; the stored records that do (for
storage adapters) keep every field, so that they read back equal.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn, override

from licensekit import _results, model
from licensekit._echo import echo
from licensekit.exceptions import ValidationError

__all__ = ["make_converter", "structure", "unstructure"]

T = TypeVar("T")


def _datetime_from_text(value: Any, _: type) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError as e:
            raise ValidationError(f"not an ISO 8601 datetime: {echo(value)}") from e
    else:
        raise ValidationError(f"expected an ISO 8601 datetime string, got {type(value).__name__}")
    if moment.tzinfo is None:
        raise ValidationError(f"datetime {echo(value)} has no UTC offset")
    return moment.astimezone(dt.UTC)


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


def _enum_value(member: enum.Enum) -> Any:
    return member.value


def make_converter() -> cattrs.Converter:
    """Return a new converter configured for every licensekit record type.

    Example:
        >>> from licensekit.serialization import make_converter
        >>> from licensekit.model import Role
        >>> make_converter().unstructure(Role.ACCOUNT_ADMINISTRATOR)
        'account_administrator'
    """
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_unstructure_hook(dt.datetime, lambda v: v.isoformat())
    converter.register_structure_hook(dt.datetime, _datetime_from_text)
    converter.register_unstructure_hook(
        bytes, lambda v: base64.urlsafe_b64encode(v).rstrip(b"=").decode("ascii")
    )
    converter.register_structure_hook(bytes, _bytes_from_text)
    # Sets become sorted lists, so that the same record always gives the same data.
    converter.register_unstructure_hook_func(
        lambda t: t is frozenset or getattr(t, "__origin__", None) is frozenset, sorted
    )
    # cattrs passes str-based enums through as they are; plain data wants their values.
    for value in vars(model).values():
        if isinstance(value, type) and issubclass(value, enum.Enum):
            converter.register_unstructure_hook(value, _enum_value)
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
        ValidationError: *data* does not describe a valid *type_*.
    """
    try:
        return _DEFAULT.structure(data, type_)
    except ValidationError:
        raise
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError, AttributeError) as e:
        if isinstance(e, cattrs.BaseValidationError):
            detail = "; ".join(cattrs.transform_error(e))
        else:
            detail = str(e)
        raise ValidationError(f"cannot read {type_.__name__} from data: {detail}") from e
