"""``page`` and ``count`` of the SQL stores, written once over their generated statements.

Both SQL transactions (SQLite's and PostgreSQL's) answer a listing the same way: check the
kind is listed or counted by those fields, encode the owner, the cursor or the counted
values, run the one statement their table description generated, and decode the rows.
Only how a statement runs differs, which each transaction supplies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from licensekit.exceptions import StorageError
from licensekit.storage import Key, RecordKind, split_filter

__all__ = ["AsyncListing"]

R = TypeVar("R")


class ListedTable(Protocol):
    """What :class:`Listing` needs of a table's statements."""

    @property
    def page_first(self) -> str | None: ...
    @property
    def page_after(self) -> str | None: ...
    @property
    def counts(self) -> Mapping[frozenset[str], tuple[tuple[str, ...], str]]: ...
    @property
    def null_tested(self) -> frozenset[str]: ...
    def filtered_pages(
        self, fields: tuple[str, ...], bounds: tuple[tuple[str, str], ...], nulls: frozenset[str]
    ) -> tuple[str, str]: ...


T = TypeVar("T", bound=ListedTable)


class AsyncListing(Generic[T]):
    """The port's ``page`` and ``count`` for a transaction over tables of type *T*."""

    if TYPE_CHECKING:  # supplied by each transaction

        def _table(self, kind: RecordKind[Any]) -> T: ...
        def _encode(
            self, table: T, fields: tuple[str, ...], values: Iterable[Any]
        ) -> Sequence[Any]: ...
        async def _rows(self, sql: str, params: Sequence[Any]) -> list[Any]: ...
        def _decode(self, table: T, rows: Iterable[Any]) -> list[Any]: ...

    async def page(
        self,
        kind: RecordKind[R],
        owner: Any,
        *,
        after: Key | None,
        limit: int,
        where: Mapping[str, Any] | None = None,
    ) -> list[R]:
        """Return one page of *owner*'s records; see the port's ``page``."""
        table = self._table(kind)
        if table.page_first is None or table.page_after is None or kind.owner is None:
            raise StorageError(f"the {kind.name} are not listed")
        params = [*self._encode(table, (kind.owner,), (owner,))]
        first, later, lead = table.page_first, table.page_after, False
        if where is not None:
            first, later = self._filtered(table, kind, where, params)
            lead = len(kind.order) > 1  # the statement seeks to the first order value
        if limit <= 0:
            return []
        if after is None:
            rows = await self._rows(first, [*params, limit])
        else:
            if len(after) != len(kind.order):
                raise StorageError(f"a cursor of the {kind.name} holds {kind.order}, got {after!r}")
            cursor = self._encode(table, kind.order, after)
            rows = await self._rows(later, [*params, *cursor[:lead], *cursor, limit])
        return self._decode(table, rows)

    def _filtered(
        self, table: T, kind: RecordKind[Any], where: Mapping[str, Any], params: list[Any]
    ) -> tuple[str, str]:
        """The statements of a filtered page; append the filter's and bounds' values to *params*.

        A value None of a field the store tests apart (``IS NULL``) is not bound.
        """
        fields, ranges = split_filter(kind, where)
        nulls = frozenset(f for f in fields if f in table.null_tested and where[f] is None)
        bound = tuple(f for f in fields if f not in nulls)
        params += self._encode(table, bound, (where[f] for f in bound))
        bounds: list[tuple[str, str]] = []
        for field, limits in ranges:
            for side, value in (("above", limits.above), ("up_to", limits.up_to)):
                if value is not None:
                    bounds.append((field, side))
                    params += self._encode(table, (field,), (value,))
        return table.filtered_pages(fields, tuple(bounds), nulls)

    async def count(self, kind: RecordKind[Any], where: Mapping[str, Any]) -> int:
        """Count records by one of the kind's ``counts``; see the port's ``count``."""
        table = self._table(kind)
        counted = table.counts.get(frozenset(where))
        if counted is None:
            raise StorageError(f"the {kind.name} are not counted by {tuple(where)}")
        fields, sql = counted
        rows = await self._rows(sql, self._encode(table, fields, (where[f] for f in fields)))
        return int(rows[0][0]) if rows else 0
