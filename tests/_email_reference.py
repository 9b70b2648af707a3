"""The reference answer for licensekit's plain-address path: email-validator decides all.

What ``normalize_email`` returned before it answered plain ASCII addresses itself; the tests
of that path compare the two on every address they draw.
"""

from __future__ import annotations

import email_validator

from licensekit import InvalidEmail
from licensekit.emails import normalize_email

__all__ = ["assert_same", "outcome", "reference"]


def reference(text: str) -> str:
    """normalize_email before the plain path: email-validator decides every address."""
    candidate = text.strip()
    if not candidate:
        raise InvalidEmail(text, "the address is empty")
    if len(candidate) > 254:
        raise InvalidEmail(text[:40] + "...", "longer than 254 characters")
    if "=?" in candidate:
        raise InvalidEmail(text, "the address contains '=?', which headers read as encoding")
    try:
        result = email_validator.validate_email(candidate, check_deliverability=False)
    except email_validator.EmailNotValidError as e:
        raise InvalidEmail(text, str(e)) from None
    octets = len(result.local_part.encode("utf-8"))
    if octets > 64:
        raise InvalidEmail(
            text,
            f"the part before the @ is {octets} octets long (in UTF-8); RFC 5321 allows at most 64",
        )
    return result.normalized.lower()


def outcome(normalize: object, text: str) -> tuple[str, str]:
    try:
        return "address", normalize(text)  # type: ignore[operator]
    except InvalidEmail as e:
        return "refused", f"{e.email!r}: {e.reason}"


def assert_same(text: str) -> None:
    assert outcome(normalize_email, text) == outcome(reference, text), text
