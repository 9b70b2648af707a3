"""Reading listings a chunk at a time: a filtered page, or every record of an owner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from licensekit.domain.model import Page

__all__ = ["SCAN_CHUNK", "filtered_page", "scan_all"]

T = TypeVar("T")


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


IdentifiedT = TypeVar("IdentifiedT", bound=_Identified)

SCAN_CHUNK = 500
"""Records read at a time when a use case reads a whole listing."""


async def filtered_page(
    fetch: Callable[[str | None, int], Awaitable[Sequence[T]]],
    key: Callable[[T], str],
    keep: Callable[[T], bool],
    after: str | None,
    limit: int,
) -> Page[T]:
    """Collect up to *limit* kept items after *after*, fetching in chunks; say if more exist."""
    kept: list[T] = []
    chunk = limit + 1
    while True:
        batch = await fetch(after, chunk)
        for item in batch:
            if not keep(item):
                continue
            if len(kept) == limit:
                return Page(tuple(kept), key(kept[-1]))
            kept.append(item)
        if len(batch) < chunk:
            return Page(tuple(kept), None)
        after = key(batch[-1])


async def scan_all(
    fetch: Callable[[str | None, int], Awaitable[Sequence[IdentifiedT]]],
) -> list[IdentifiedT]:
    """Read every record of a listing keyed by ``id``, in chunks."""
    result: list[IdentifiedT] = []
    after: str | None = None
    while True:
        batch = await fetch(after, SCAN_CHUNK)
        result.extend(batch)
        if len(batch) < SCAN_CHUNK:
            return result
        after = batch[-1].id
