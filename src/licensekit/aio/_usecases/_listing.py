"""Reading listings: a page merged from filtered listings, or every record of an owner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

from licensekit.domain.model import Page

__all__ = ["SCAN_CHUNK", "merged_page", "scan_all"]

T = TypeVar("T")


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


IdentifiedT = TypeVar("IdentifiedT", bound=_Identified)

SCAN_CHUNK = 500
"""Records read at a time when a use case reads a whole listing."""


async def merged_page(
    fetches: Sequence[Callable[[str | None, int], Awaitable[Sequence[T]]]],
    key: Callable[[T], str],
    after: str | None,
    limit: int,
    order: Callable[[T], Any] | None = None,
) -> Page[T]:
    """Return up to *limit* items after the cursor *after* from listings of one order.

    Each of *fetches* reads one listing (a filtered page of the store, say) from a cursor
    on, in the order *order* gives (by default that of *key*, the cursor's text); no item
    is in two of them. Each is read for one page, so a page costs what the pages cost,
    whatever the listings skip; the cursor says whether more items exist.
    """
    items: list[T] = []
    for fetch in fetches:
        items += await fetch(after, limit + 1)
    if len(fetches) > 1:
        items.sort(key=order or key)
    kept = items[:limit]
    return Page(tuple(kept), key(kept[-1]) if len(items) > limit else None)


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
