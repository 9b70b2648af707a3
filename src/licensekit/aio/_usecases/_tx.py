"""What a use case holds while its transaction is open: the port, with typed look-ups.

The storage port (:class:`licensekit.storage.AsyncTransaction`) is shaped for stores: a batched
``read`` of :class:`~licensekit.storage.Query` objects, keys as tuples. :class:`Tx` wraps it
with the look-ups use cases write every day (one record by key, one by a unique field, many
by an index, a batch of look-ups at once) and passes writes straight through. It adds no
storage behaviour of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from licensekit.storage import AsyncTransaction, Key, Query, RecordKind

__all__ = ["Tx", "named", "query"]

R = TypeVar("R")


def query(kind: RecordKind[R], **where: Any) -> Query[R]:
    """Return a look-up of the records of *kind* whose fields hold the values of *where*.

    Each value of *where* is one value; :meth:`Tx.find_many` looks up many at once.
    """
    return Query(kind, tuple(where), (tuple(where.values()),))


async def named(
    tx: Tx,
    kind: RecordKind[R],
    ids: Sequence[str],
    belongs: Callable[[R], bool],
    missing: Callable[[str], Exception],
) -> list[R]:
    """Return the records of *kind* with the ids *ids*, in that order, read in one look-up.

    Raises:
        Exception: ``missing(id)`` for the first of *ids* without a record that *belongs*.
    """
    found = {r.id: r for r in await tx.get_many(kind, ids) if belongs(r)}  # type: ignore[attr-defined]
    for wanted in ids:
        if wanted not in found:
            raise missing(wanted)
    return [found[i] for i in ids]


def _key(kind: RecordKind[Any], key: Any) -> Key:
    return key if len(kind.key) > 1 else (key,)


class Tx:
    """One open transaction, as use cases see it (see the module docstring).

    Args:
        port: The store's transaction.
    """

    __slots__ = ("port",)

    def __init__(self, port: AsyncTransaction) -> None:
        self.port = port

    # Look-ups.
    async def get(self, kind: RecordKind[R], key: Any) -> R | None:
        """Return the record of *kind* with *key* (a tuple for a key of several fields)."""
        found = (await self.port.read([Query(kind, kind.key, (_key(kind, key),))]))[0]
        return found[0] if found else None

    async def get_many(self, kind: RecordKind[R], keys: Iterable[Any]) -> list[R]:
        """Return those of the records with *keys* that exist, in any order."""
        wanted = tuple(dict.fromkeys(_key(kind, k) for k in keys))
        if not wanted:
            return []
        result: list[R] = (await self.port.read([Query(kind, kind.key, wanted)]))[0]
        return result

    async def find(self, kind: RecordKind[R], **where: Any) -> R | None:
        """Return the record whose unique fields hold *where*, or None."""
        found = (await self.port.read([query(kind, **where)]))[0]
        return found[0] if found else None

    async def find_all(self, kind: RecordKind[R], **where: Any) -> list[R]:
        """Return every record whose indexed fields hold *where*, in any order."""
        result: list[R] = (await self.port.read([query(kind, **where)]))[0]
        return result

    async def find_many(self, kind: RecordKind[R], field: str, values: Iterable[Any]) -> list[R]:
        """Return every record whose *field* holds one of *values*, in one look-up."""
        wanted = tuple(dict.fromkeys((v,) for v in values))
        if not wanted:
            return []
        result: list[R] = (await self.port.read([Query(kind, (field,), wanted)]))[0]
        return result

    async def fetch(self, *queries: Query[Any]) -> list[list[Any]]:
        """Run several look-ups at once (one round trip on a store that can)."""
        return await self.port.read(queries)

    async def page(
        self,
        kind: RecordKind[R],
        owner: Any,
        *,
        after: Key | None,
        limit: int,
        where: Mapping[str, Any] | None = None,
    ) -> list[R]:
        """Return one page of *owner*'s records (filtered by *where*); see the port's ``page``."""
        if where is None:
            return await self.port.page(kind, owner, after=after, limit=limit)
        return await self.port.page(kind, owner, after=after, limit=limit, where=where)

    async def count(self, kind: RecordKind[Any], **where: Any) -> int:
        """Return how many records hold *where*; see :meth:`Transaction.count`."""
        return await self.port.count(kind, where)

    # Writes.
    async def lock(self, *scopes: str) -> bool:
        """Hold *scopes* until the transaction ends; see :meth:`Transaction.lock`.

        Returns:
            Whether records read before may have changed meanwhile (read them again).
        """
        return bool(await self.port.lock(scopes))

    async def add(self, kind: RecordKind[R], *records: R) -> None:
        """Insert records, all or none."""
        if records:
            await self.port.add(kind, records)

    async def add_all(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """Insert a sequence of records, all or none."""
        if records:
            await self.port.add(kind, records)

    async def save(self, kind: RecordKind[R], *records: R) -> None:
        """Replace existing records, all or none."""
        if records:
            await self.port.save(kind, records)

    async def save_all(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """Replace a sequence of existing records, all or none."""
        if records:
            await self.port.save(kind, records)

    async def put(self, kind: RecordKind[R], *records: R) -> None:
        """Insert or replace records, all or none."""
        if records:
            await self.port.put(kind, records)

    async def delete(self, kind: RecordKind[Any], *keys: Any) -> int:
        """Delete the records with *keys*; return how many existed."""
        if not keys:
            return 0
        return await self.port.delete(kind, [_key(kind, k) for k in keys])

    async def delete_expired(self, kind: RecordKind[Any], moment: dt.datetime) -> int:
        """Delete the records of *kind* expired at or before *moment*; return how many."""
        return await self.port.delete_expired(kind, moment)

    async def increment(
        self, kind: RecordKind[Any], key: Any, field: str, by: int, *, cap: str | None = None
    ) -> bool:
        """Change a number within bounds, atomically; see :meth:`Transaction.increment`."""
        return await self.port.increment(kind, _key(kind, key), field, by, cap=cap)

    async def update(
        self,
        kind: RecordKind[Any],
        keys: Iterable[Any],
        values: Mapping[str, Any],
        *,
        add: Mapping[str, int] | None = None,
    ) -> int:
        """Set *values* and add *add* on the records with *keys*; see the port's ``update``."""
        wanted = [_key(kind, k) for k in keys]
        if not wanted:
            return 0
        return await self.port.update(kind, wanted, values, add=add)
