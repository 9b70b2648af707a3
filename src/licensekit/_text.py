"""Whether text can be written out: a lone surrogate (half of a UTF-16 pair) never can.

Python strings may hold them (a JSON document or an undecodable command line can bring them
in), but no encoding writes one: not UTF-8 for a store, a hash or an email, nor a terminal's.
"""

from __future__ import annotations

__all__ = ["encodable", "lone_surrogate_at"]


def encodable(text: str, encoding: str = "utf-8", errors: str = "strict") -> bool:
    """True when *text* can be encoded in *encoding* (UTF-8 unless told otherwise).

    With ``errors="surrogateescape"``, the lone surrogates that stand for undecodable bytes
    (as in file names) pass; others do not.
    """
    try:
        text.encode(encoding, errors)
    except UnicodeEncodeError:
        return False
    return True


def lone_surrogate_at(text: str) -> int | None:
    """Return the position of the first lone surrogate in *text*, or None if it holds none."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        return e.start
    return None
