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
from licensekit.storage import Key, RecordKind

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
        self, kind: RecordKind[R], owner: Any, *, after: Key | None, limit: int
    ) -> list[R]:
        """Return one page of *owner*'s records; see the port's ``page``."""
        table = self._table(kind)
        if table.page_first is None or table.page_after is None or kind.owner is None:
            raise StorageError(f"the {kind.name} are not listed")
        if limit <= 0:
            return []
        head = self._encode(table, (kind.owner,), (owner,))
        if after is None:
            rows = await self._rows(table.page_first, [*head, limit])
        else:
            if len(after) != len(kind.order):
                raise StorageError(f"a cursor of the {kind.name} holds {kind.order}, got {after!r}")
            cursor = self._encode(table, kind.order, after)
            rows = await self._rows(table.page_after, [*head, *cursor, limit])
        return self._decode(table, rows)

    async def count(self, kind: RecordKind[Any], where: Mapping[str, Any]) -> int:
        """Count records by one of the kind's ``counts``; see the port's ``count``."""
        table = self._table(kind)
        counted = table.counts.get(frozenset(where))
        if counted is None:
            raise StorageError(f"the {kind.name} are not counted by {tuple(where)}")
        fields, sql = counted
        rows = await self._rows(sql, self._encode(table, fields, (where[f] for f in fields)))
        return int(rows[0][0]) if rows else 0
