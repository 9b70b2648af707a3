"""Quoting what a caller passed in an error message, without repeating all of it.

A message that echoes input helps only if it stays one readable line: an argument of 120,000
characters must not come back as a 120 kB message (or log line, or terminal screen).
"""

from __future__ import annotations

import os
import reprlib

__all__ = ["MOST", "PATH_MOST", "echo", "echo_path"]

MOST = 48
"""How many characters of a caller's text a message quotes."""

PATH_MOST = 200
"""How many characters of a file's path a message quotes: most paths whole, with their name."""

_OTHER = reprlib.Repr()  # what is not text: a few items of a collection, a cut repr
_OTHER.maxstring = MOST
_OTHER.maxother = MOST


def echo(value: object, most: int = MOST) -> str:
    """Return *value* quoted for a message: its repr, cut to a prefix when it is long.

    Text of more than *most* characters becomes the repr of its first *most*, an ellipsis and
    its full length: ``'xxxx'... (120,000 characters)``. Other values are shown by
    :mod:`reprlib`, which lists a few items of a collection and cuts a long repr.
    """
    if isinstance(value, str):
        if len(value) <= most:
            return repr(value)
        return f"{value[:most]!r}... ({len(value):,} characters)"
    return _OTHER.repr(value)


def echo_path(path: str | os.PathLike[str]) -> str:
    """Return the path *path* quoted for a message, cut at :data:`PATH_MOST` characters."""
    return echo(os.fspath(path), PATH_MOST)
