"""An in-memory store: thread-safe, transactional, gone when the process ends.

Meant for tests and for embedding licensekit where nothing must persist. It knows no record
type by name: every table, unique index, look-up index, listing and count is built from the
:class:`~licensekit.storage.RecordKind` descriptions in :mod:`licensekit.storage`.

Transactions are serialised by one re-entrant lock held for the whole block, so
:meth:`~licensekit.storage.Transaction.lock` has nothing left to do; each write is noted in
an undo log and undone in reverse order when the block raises.
"""

from __future__ import annotations

import bisect
import datetime as dt
import operator
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import attrs

from licensekit import storage
from licensekit.exceptions import DuplicateKey, StorageError
from licensekit.storage import PROTOCOL_VERSION, Key, Query, RecordKind, split_filter
from licensekit.stores._updates import checked_update

__all__ = ["MemoryStore"]

R = TypeVar("R")
Sortable = tuple[tuple[Any, ...], ...]


Getter = Callable[[object], tuple[Any, ...]]


def _getter(fields: tuple[str, ...]) -> Getter:
    """Return a function giving the values of *fields* of a record, as a tuple."""
    if len(fields) == 1:
        one = operator.attrgetter(fields[0])
        return lambda record: (one(record),)
    return operator.attrgetter(*fields)  # already a tuple for several names


def _sortable(values: Sequence[Any]) -> Sortable:
    """Order values as a tuple that sorts None before anything else."""
    return tuple([(0,) if v is None else (1, v) for v in values])


def _as_tuple(values: Sequence[Any]) -> tuple[Any, ...]:
    """Order values that are never None as they are (cheaper to compare than :func:`_sortable`).

    Raises:
        TypeError: One of them is None after all.
    """
    found = tuple(values)
    if None in found:
        raise TypeError(f"None where a listing's order has no place for it: {found!r}")
    return found


class _Table:
    """One kind's records with every index its description asks for."""

    def __init__(self, kind: RecordKind[Any]) -> None:
        self.kind = kind
        self.rows: dict[Key, Any] = {}
        self.unique: dict[tuple[str, ...], dict[tuple[Any, ...], Key]] = {
            fields: {} for fields in kind.unique
        }
        self.indexes: dict[tuple[str, ...], dict[tuple[Any, ...], set[Key]]] = {
            fields: {} for fields in kind.indexes
        }
        self.counts: dict[tuple[str, ...], dict[tuple[Any, ...], int]] = {
            fields: {} for fields in kind.counts
        }
        # For each unique set, index and count: how to read its values, and its entries.
        self._uniques = [(f, _getter(f), index) for f, index in self.unique.items()]
        self._indexed = [(_getter(f), index) for f, index in self.indexes.items()]
        self._counted = [(_getter(f), counts) for f, counts in self.counts.items()]
        self._getters = [
            *(values for _, values, _ in self._uniques),
            *(values for values, _ in self._indexed),
            *(values for values, _ in self._counted),
        ]
        self._order = _getter(kind.order)
        # Only a listing by a field that may be None needs None to sort first.
        self.position: Callable[[Sequence[Any]], tuple[Any, ...]] = (
            _sortable if set(kind.order) & set(kind.nullable_key) else _as_tuple
        )
        # owner -> the sorted order values of its records, and the key of each.
        self.pages: dict[Any, list[Sortable]] = {}
        self.page_keys: dict[tuple[Any, Sortable], Key] = {}
        # For each filter: (owner, the filter's values) -> the sorted order values of the
        # records that hold them, as in pages (the filtered listings are its parts).
        self.filtered: dict[tuple[str, ...], dict[tuple[Any, ...], list[Sortable]]] = {
            fields: {} for fields in kind.filters
        }
        self._filters = [(_getter(f), listings) for f, listings in self.filtered.items()]

    def clash(self, key: Key, record: object) -> tuple[str, ...] | None:
        """Return the unique fields *record* shares with a record other than *key*'s."""
        for fields, values, index in self._uniques:
            holder = index.get(values(record))
            if holder is not None and holder != key:
                return fields
        return None

    def apply(self, key: Key, old: object | None, new: object | None) -> None:
        """Replace *old* (or nothing) by *new* (or nothing) under *key*, indexes included.

        Everything that can fail (a value that cannot be hashed or ordered) is worked out
        before anything changes, so that a refused record leaves the table as it was.

        Raises:
            TypeError: *new* holds a value that cannot be indexed or listed.
        """
        if old is not None and new is not None:
            self._replace(key, old, new)
            return
        if new is not None:
            entries = self._entries(new)
            owner_field = self.kind.owner
            if owner_field is not None:  # _listed(new), written out: adding is the hot path
                owner = getattr(new, owner_field)
                position = self.position(self._order(new))
                listing = self.pages.get(owner, [])
                at = bisect.bisect_right(listing, position)  # may fail: before any change
                self.pages[owner] = listing
                listing.insert(at, position)
                self.page_keys[owner, position] = key
                for values, listings in self._filters:
                    part = listings.setdefault((owner, values(new)), [])
                    bisect.insort(part, position)
            self.rows[key] = new
            self._index(key, entries)
        elif old is not None:
            self._unindex(key, old)
            del self.rows[key]
            listed = self._listed(old)
            if listed is not None:
                owner, position = listed
                listing = self.pages[owner]
                del listing[bisect.bisect_left(listing, position)]
                del self.page_keys[owner, position]
                if not listing:
                    del self.pages[owner]
                for values, listings in self._filters:
                    self._unfilter(listings, (owner, values(old)), position)

    @staticmethod
    def _unfilter(
        listings: dict[tuple[Any, ...], list[Sortable]], where: tuple[Any, ...], position: Any
    ) -> None:
        part = listings[where]
        del part[bisect.bisect_left(part, position)]
        if not part:
            del listings[where]

    def _listed(self, record: object) -> tuple[Any, tuple[Any, ...]] | None:
        """The owner of *record* and its place in the owner's listing (None if not listed)."""
        if self.kind.owner is None:
            return None
        return getattr(record, self.kind.owner), self.position(self._order(record))

    def _entries(self, record: object, *, check: bool = True) -> list[tuple[Any, ...]]:
        """The values of every unique set, index and count of *record*, in that order.

        Raises:
            TypeError: With *check*, one of them cannot be a dictionary key.
        """
        if not self._getters:
            return []
        entries = [values(record) for values in self._getters]
        if check:
            hash(tuple(entries))
        return entries

    def _index(self, key: Key, entries: list[tuple[Any, ...]]) -> None:
        found = iter(entries)
        for _, _, unique in self._uniques:
            unique[next(found)] = key
        for _, index in self._indexed:
            index.setdefault(next(found), set()).add(key)
        for _, counts in self._counted:
            value = next(found)
            counts[value] = counts.get(value, 0) + 1

    def _unindex(self, key: Key, record: object) -> None:
        for _, values, unique in self._uniques:
            del unique[values(record)]
        for values, index in self._indexed:
            found = values(record)
            holders = index[found]
            holders.discard(key)
            if not holders:
                del index[found]
        for values, counts in self._counted:
            found = values(record)
            counts[found] -= 1
            if not counts[found]:
                del counts[found]

    def _replace(self, key: Key, old: object, new: object) -> None:
        """A save: only the entries whose values changed move (a key, so a listing, stays)."""
        pairs = zip(self._entries(old, check=False), self._entries(new), strict=True)
        self.rows[key] = new  # nothing below can fail: the new values are checked
        for _, _, unique in self._uniques:
            before, after = next(pairs)
            if before != after:
                del unique[before]
                unique[after] = key
        for _, index in self._indexed:
            before, after = next(pairs)
            if before != after:
                holders = index[before]
                holders.discard(key)
                if not holders:
                    del index[before]
                index.setdefault(after, set()).add(key)
        for _, counts in self._counted:
            before, after = next(pairs)
            if before != after:
                counts[before] -= 1
                if not counts[before]:
                    del counts[before]
                counts[after] = counts.get(after, 0) + 1
        if self._filters:
            # The owner and order are key or fixed fields (a save keeps them); a filter's
            # values may change, which moves the record to another filtered listing.
            listed = self._listed(new)
            assert listed is not None  # noqa: S101 - only listed kinds have filters
            owner, position = listed
            for values, listings in self._filters:
                before, after = values(old), values(new)
                if before != after:
                    self._unfilter(listings, (owner, before), position)
                    bisect.insort(listings.setdefault((owner, after), []), position)


def _fill(tables: dict[str, _Table]) -> None:
    """Put a table for every kind of record (:data:`licensekit.storage.KINDS`) in *tables*."""
    tables.update({kind.name: _Table(kind) for kind in storage.KINDS})


class MemoryStore:
    """A :class:`~licensekit.storage.Store` that keeps everything in process memory.

    Safe to share between threads. Records are frozen attrs instances, so what a transaction
    returns cannot be changed behind the store's back.
    """

    protocol_version = PROTOCOL_VERSION

    def __init__(self) -> None:
        self._lock = threading.RLock()
        # Filled by the first transaction that reads or writes a record (see _fill): a store
        # made, and a kit's check of it, need neither the tables nor the record classes.
        self._tables: dict[str, _Table] = {}
        self._active = threading.local()
        self._closed = False

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}={len(t.rows)}" for name, t in self._tables.items() if t.rows)
        return f"MemoryStore({sizes})"

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[_MemoryTransaction]:
        """Open a transaction; see :meth:`licensekit.storage.Store.transaction`.

        *durable* changes nothing here: nothing the store keeps outlives the process.
        """
        if getattr(self._active, "open", False):
            raise StorageError("transactions cannot be nested")
        with self._lock:
            if self._closed:
                raise StorageError("the memory store is closed")
            self._active.open = True
            tx = _MemoryTransaction(self._tables)
            try:
                yield tx
            except BaseException:
                tx._undo_to(0)
                raise
            finally:
                tx._done = True
                self._active.open = False

    def close(self) -> None:
        """Drop all data; further transactions raise :class:`StorageError`."""
        with self._lock:
            self._closed = True
            self._tables = {}

    def dump(self) -> list[object]:
        """Return every record the store holds (for inspection in tests)."""
        with self._lock:
            return [record for table in self._tables.values() for record in table.rows.values()]


class _MemoryTransaction:
    """One transaction of a :class:`MemoryStore`; see :class:`licensekit.storage.Transaction`."""

    def __init__(self, tables: dict[str, _Table]) -> None:
        self._tables = tables
        self._undo: list[tuple[_Table, Key, object | None, object | None]] = []
        self._done = False

    def _check_open(self) -> None:
        if self._done:
            raise StorageError("this transaction has ended")

    def _table(self, kind: RecordKind[Any]) -> _Table:
        self._check_open()
        try:
            return self._tables[kind.name]
        except (KeyError, AttributeError):
            pass
        if not self._tables:  # the store's first use of a record: its tables are made now
            _fill(self._tables)
        try:
            return self._tables[kind.name]
        except (KeyError, AttributeError):
            raise StorageError(f"{kind!r} is not a kind this store keeps") from None

    def _undo_to(self, mark: int) -> None:
        while len(self._undo) > mark:
            table, key, old, new = self._undo.pop()
            table.apply(key, new, old)

    def _write(self, table: _Table, key: Key, new: object | None) -> None:
        old = table.rows.get(key)
        if new is not None:
            clash = table.clash(key, new)
            if clash is not None:
                raise DuplicateKey(
                    f"another of the {table.kind.name} already has this {', '.join(clash)}"
                )
        table.apply(key, old, new)  # changes nothing when it raises
        self._undo.append((table, key, old, new))

    def _each(self, kind: RecordKind[R], records: Sequence[R], write: Any) -> None:
        """Write every record with *write*, all or none."""
        table = self._table(kind)
        mark = len(self._undo)
        try:
            for record in records:
                if not isinstance(record, kind.type):
                    raise StorageError(f"{record!r} is not one of the {kind.name}")
                try:
                    write(table, kind.key_of(record), record)
                except TypeError as e:  # a value that cannot be hashed or ordered
                    raise StorageError(
                        f"one of the {kind.name} holds a value that cannot be kept: {e}"
                    ) from e
        except BaseException:
            self._undo_to(mark)
            raise

    def lock(self, scopes: Collection[str]) -> bool:
        """Nothing to do: the store runs one transaction at a time, so nothing waits."""
        self._check_open()
        return False

    def read(self, queries: Sequence[Query[Any]]) -> list[list[Any]]:
        """Run every look-up; see :meth:`licensekit.storage.Transaction.read`."""
        self._check_open()
        results: list[list[Any]] = []
        for query in queries:
            table = self._table(query.kind)
            fields = query.fields
            if fields not in table.kind.lookups:
                raise StorageError(f"the {table.kind.name} are not looked up by {fields}")
            wanted = dict.fromkeys(query.values)
            found: dict[Key, Any] = {}
            if fields == table.kind.key:
                found = {v: table.rows[v] for v in wanted if v in table.rows}
            elif fields in table.unique:
                unique = table.unique[fields]
                keys = [unique[v] for v in wanted if v in unique]
                found = {k: table.rows[k] for k in keys}
            else:
                index = table.indexes[fields]
                found = {k: table.rows[k] for v in wanted for k in index.get(v, ())}
            results.append(list(found.values()))
        return results

    def page(
        self,
        kind: RecordKind[R],
        owner: Any,
        *,
        after: Key | None,
        limit: int,
        where: Mapping[str, Any] | None = None,
    ) -> list[R]:
        """Return one page of *owner*'s records; see :meth:`licensekit.storage.Transaction.page`."""
        table = self._table(kind)
        if kind.owner is None:
            raise StorageError(f"the {kind.name} are not listed")
        if after is not None and len(after) != len(kind.order):
            raise StorageError(f"a cursor of the {kind.name} holds {kind.order}, not {after!r}")
        ranges: tuple[tuple[str, Any], ...] = ()
        if where is None:
            listing = table.pages.get(owner, [])
        else:
            fields, ranges = split_filter(kind, where)
            try:
                listing = table.filtered[fields].get((owner, tuple(where[f] for f in fields)), [])
            except TypeError:  # a value that cannot be hashed: held by no record
                listing = []
        try:
            start = 0 if after is None else bisect.bisect_right(listing, table.position(after))
        except TypeError:  # None, or text against a number: not values of this order
            raise StorageError(f"a cursor of the {kind.name} holds {after!r}") from None
        wanted = max(limit, 0)
        if not ranges:
            return [
                table.rows[table.page_keys[owner, position]]
                for position in listing[start : start + wanted]
            ]
        found: list[R] = []
        for position in listing[start:]:
            if len(found) == wanted:
                break
            record = table.rows[table.page_keys[owner, position]]
            try:
                if all(bound.holds(getattr(record, f)) for f, bound in ranges):
                    found.append(record)
            except TypeError:  # a bound of another type than the field's: nothing matches
                return []
        return found

    def count(self, kind: RecordKind[Any], where: Mapping[str, Any]) -> int:
        """Count records; see :meth:`licensekit.storage.Transaction.count`."""
        table = self._table(kind)
        for fields, counts in table.counts.items():
            if set(fields) == set(where):
                return counts.get(tuple(where[f] for f in fields), 0)
        raise StorageError(f"the {kind.name} are not counted by {tuple(where)}")

    def add(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """Insert records; see :meth:`licensekit.storage.Transaction.add`."""

        def insert(table: _Table, key: Key, record: object) -> None:
            if key in table.rows:
                raise DuplicateKey(f"one of the {kind.name} already has the key {key!r}")
            self._write(table, key, record)

        self._each(kind, records, insert)

    def save(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """Replace records; see :meth:`licensekit.storage.Transaction.save`."""

        def replace(table: _Table, key: Key, record: object) -> None:
            if key not in table.rows:
                raise StorageError(f"none of the {kind.name} has the key {key!r}")
            self._replace(table, key, record)

        self._each(kind, records, replace)

    def put(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """Insert or replace records; see :meth:`licensekit.storage.Transaction.put`."""
        self._each(kind, records, self._replace)

    def _replace(self, table: _Table, key: Key, record: object) -> None:
        old = table.rows.get(key)
        if old is not None:
            changed = [f for f in table.kind.fixed if getattr(old, f) != getattr(record, f)]
            if changed:
                raise StorageError(
                    f"a save may not change the {', '.join(changed)} of one of the "
                    f"{table.kind.name}"
                )
        self._write(table, key, record)

    def delete(self, kind: RecordKind[Any], keys: Sequence[Key]) -> int:
        """Delete records; see :meth:`licensekit.storage.Transaction.delete`."""
        table = self._table(kind)
        deleted = 0
        for key in dict.fromkeys(tuple(k) for k in keys):
            if key in table.rows:
                self._write(table, key, None)
                deleted += 1
        return deleted

    def delete_expired(self, kind: RecordKind[Any], moment: dt.datetime) -> int:
        """Delete expired records; see :meth:`licensekit.storage.Transaction.delete_expired`."""
        table = self._table(kind)
        if kind.expires is None:
            raise StorageError(f"the {kind.name} do not expire")
        field = kind.expires
        expired = [key for key, r in table.rows.items() if getattr(r, field) <= moment]
        return self.delete(kind, expired)

    def update(
        self,
        kind: RecordKind[Any],
        keys: Sequence[Key],
        values: Mapping[str, Any],
        *,
        add: Mapping[str, int] | None = None,
    ) -> int:
        """Change many records alike; see :meth:`licensekit.storage.Transaction.update`."""
        table = self._table(kind)
        values, added = checked_update(kind, values, add)
        if not values and not added:  # nothing to change, as the SQL stores answer
            return 0
        changed = 0
        mark = len(self._undo)
        try:
            for key in dict.fromkeys(tuple(k) for k in keys):
                record = table.rows.get(key)
                if record is None:
                    continue
                sums = {name: getattr(record, name) + by for name, by in added.items()}
                try:
                    changed_record = attrs.evolve(record, **values, **sums)
                except (TypeError, ValueError) as e:
                    raise StorageError(
                        f"an update gives one of the {kind.name} a value it cannot hold: {e}"
                    ) from e
                self._write(table, key, changed_record)
                changed += 1
        except BaseException:
            self._undo_to(mark)
            raise
        return changed

    def increment(
        self, kind: RecordKind[Any], key: Key, field: str, by: int, *, cap: str | None = None
    ) -> bool:
        """Change a number within bounds; see :meth:`licensekit.storage.Transaction.increment`."""
        table = self._table(kind)
        numbers = (field,) if cap is None else (field, cap)
        if isinstance(by, bool) or not isinstance(by, int):
            raise StorageError(f"an increment is a whole number, not {by!r}")
        fields = attrs.fields_dict(kind.type)
        for name in numbers:
            if name in kind.key or name not in fields or fields[name].type not in ("int", int):
                raise StorageError(f"{name} is not a number of the {kind.name} to increment")
        record = table.rows.get(tuple(key))
        if record is None:
            return False
        value = getattr(record, field) + by
        if value < 0 or (cap is not None and value > getattr(record, cap)):
            return False
        self._write(table, tuple(key), attrs.evolve(record, **{field: value}))
        return True
