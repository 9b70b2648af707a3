"""The root of licensekit's exceptions and the branches that mirror a builtin exception.

Part of :mod:`licensekit.exceptions`, which re-exports and documents every class under its own
name (it sets their ``__module__``): import them from there.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

__all__ = [
    "AuthenticationError",
    "ConflictError",
    "LicenseKitError",
    "NotFound",
    "PermissionDenied",
    "ValidationError",
]


_NAMED_FIELD = re.compile(r"(?P<field>[a-z][a-z0-9_]*)(?: must | may |=)")
"""A message that opens with an argument's name and a rule (``limit must be ...``), or with
the argument as it was passed (``csv='x.csv' looks like a file name``)."""


def _field_named_in(message: str) -> str | None:
    match = _NAMED_FIELD.match(message)
    return match.group("field") if match else None


class LicenseKitError(Exception):
    """The root of every exception licensekit raises for a caller's action.

    Attributes:
        code: A stable machine-readable name of the error, such as ``"seats_full"``. Each
            class states its own; a client may branch on it.
        http_status: The HTTP status a web service answers the error with.
    """

    code: ClassVar[str] = "licensekit_error"
    http_status: ClassVar[int] = 400

    def to_dict(self) -> dict[str, Any]:
        """Return the error as the body of an HTTP answer: plain data that JSON can hold.

        It holds ``code``, ``status`` (the :attr:`http_status`) and ``message`` (the text of
        the error, which never holds a password, token or code), and, when the error has
        them, ``field`` (:class:`ValidationError`) and ``retry_after`` in seconds
        (:class:`TooManyAttempts`, :class:`StorageBusy`), the shape of a problem details
        object (RFC 9457) with licensekit's names.

        Example:
            >>> from licensekit import SeatsFull
            >>> SeatsFull("every seat of the key is taken", seats=5).to_dict()
            {'code': 'seats_full', 'status': 409, 'message': 'every seat of the key is taken'}
        """
        return {"code": self.code, "status": self.http_status, "message": str(self)}

    def __reduce__(self) -> tuple[Any, ...]:
        # BaseException pickles an error as its class called with its args, which fails for
        # the errors whose details are keyword arguments (SeatsFull's seats): rebuilt from
        # class, args and attributes instead, every error crosses a process boundary (a
        # process pool, a task queue) whole.
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _rebuild(cls: type[LicenseKitError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    """Make an error of *cls* with *args* and the attributes *state*, without its ``__init__``."""
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class ValidationError(LicenseKitError, ValueError):
    """An argument has the wrong form: an email, a password, a duration, a cursor.

    Args:
        message: What is wrong.
        field: The name of the argument or record field at fault. When omitted it is read
            from a message that opens with the name and a rule, as in ``"limit must be
            between 1 and 500"``, or with the argument as passed (``"csv='a.csv' ..."``);
            otherwise it is None.

    Attributes:
        field: The argument or field at fault (dotted for a nested field, as in
            ``"password_throttle.window"``), or None when the error concerns several or none.
    """

    code: ClassVar[str] = "invalid_input"
    http_status: ClassVar[int] = 422

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field if field is not None else _field_named_in(message)

    def to_dict(self) -> dict[str, Any]:
        """Return the error as the body of an HTTP answer, with ``field`` when it is known."""
        body = super().to_dict()
        if self.field is not None:
            body["field"] = self.field
        return body


class NotFound(LicenseKitError, LookupError):
    """The object does not exist, or it belongs to an account the caller cannot see."""

    code: ClassVar[str] = "not_found"
    http_status: ClassVar[int] = 404


class AuthenticationError(LicenseKitError):
    """The caller could not be identified."""

    code: ClassVar[str] = "authentication_failed"
    http_status: ClassVar[int] = 401


class PermissionDenied(LicenseKitError, PermissionError):
    """The caller is identified but their role does not allow the action."""

    code: ClassVar[str] = "permission_denied"
    http_status: ClassVar[int] = 403


class ConflictError(LicenseKitError):
    """The action contradicts the current state."""

    code: ClassVar[str] = "conflict"
    http_status: ClassVar[int] = 409
