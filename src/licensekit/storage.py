"""The storage port, version 2: what a store must do for licensekit, and nothing more.

A host brings persistence by passing an object that implements :class:`Store`. licensekit
keeps twelve kinds of record (users, business accounts, memberships, ...). Each kind is
described once, here, by a :class:`RecordKind`: its fields are those of its attrs class, and
the description says which fields identify a record, which must be unique, which a save may
not change, which look-ups and counts the rules make, how listings page and which field says
a record has expired. The port is generic over those descriptions, so a new record type or a
new field adds no method.

Rules an adapter keeps:

* **Transactions.** :meth:`Store.transaction` opens one; all its writes become visible
  together when the block ends and none of them if the block raises. Reads see the
  transaction's own writes.
* **Durable or not.** A commit is durable (it survives a power cut once the block has
  ended) unless licensekit opens the transaction with ``durable=False``, which it does only
  for bookkeeping whose loss a crash could cause anyway: how sending went, after the emails
  are out. Such a commit is still atomic and at once visible; only its flush to disk may
  wait (until the next durable commit, a checkpoint or the server's own flush). A store may
  ignore the keyword, and one whose ``transaction()`` does not take it is called without it
  (see :func:`takes_durable`).
* **Scopes, not global serialisation.** A use case names what it is about to change with
  :meth:`Transaction.lock` (``"account:<id>"``, ``"throttle:<key>"``...) before it reads what
  it decides on. Two transactions that lock a common scope run one after the other; two that
  lock none in common may run at once. A store that serialises every transaction anyway
  (the memory and SQLite stores) may treat :meth:`~Transaction.lock` as a no-op. On a server
  database, a transaction-scoped advisory lock per scope at READ COMMITTED is enough.
* **One guarded counter.** :meth:`Transaction.increment` changes a number in one atomic step
  and only within its bounds (a seat is claimed only while ``seats_used < seats``), so
  seats are never oversold even by transactions that lock nothing in common.
* **A refused write ends the transaction.** After any :class:`~licensekit.exceptions.
  StorageError` (a :class:`~licensekit.exceptions.DuplicateKey` included) licensekit never
  calls the transaction again: the block raises and the store rolls back. Adapters therefore
  need no savepoints, and may report a clash as late as the end of the block.
* **Errors.** Adapters convert their driver's errors into
  :class:`~licensekit.exceptions.StorageError` (``raise StorageError(...) from e``), a clash
  of a key or unique field into :class:`~licensekit.exceptions.DuplicateKey`, and a lock or
  serialisation conflict that a retry may clear into
  :class:`~licensekit.exceptions.StorageBusy`; licensekit retries the whole transaction then.
* **Misuse.** A call the descriptions do not allow (paging a kind that has no owner, a look-up
  or count by fields that are not one of its look-ups or counts, incrementing a field that is
  not a number) raises :class:`~licensekit.exceptions.StorageError`. A store may also refuse,
  as the SQLite store does, a record that refers to one that does not exist.
* **Text.** Every text field holds any sequence of Unicode scalar values without NUL
  (U+0000), up to the lengths licensekit enforces at its edge (which refuses NUL and lone
  surrogates); a store must give back exactly what it was given.
* **Order.** Listings (:meth:`Transaction.page`) return records in ascending order of the
  kind's :attr:`RecordKind.order` fields, comparing text by code point, with None before
  any value. Look-ups (:meth:`Transaction.read`) return records in any order; licensekit
  never asks one for None (an indexed field that may be None, such as a primary key's
  ``primary_id``, is looked up only by values).
* **Filtered listings read only what they return.** A listing filtered by one of the kind's
  :attr:`RecordKind.filters` (equal values) must cost what its page costs, whatever else
  the owner holds: a server store keeps an index that begins with the owner, then the
  filter's fields, then the order. One that also bounds a :attr:`RecordKind.ranges` field
  with a :class:`Range` may cost what the range holds: licensekit asks for those to find
  what has crossed a point since they last asked (the invitations expired since the last listing),
  and a server store keeps an index on the owner, the filter's fields and the range field,
  then sorts what it finds. A filter may name a :attr:`RecordKind.derived` property, a
  value the record computes from its fields; a SQL store keeps it as a generated column.

:data:`RECORD_FORMAT` versions the record fields, for adapters that keep records as
documents; :func:`licensekit.serialization.unstructure` gives a record's document form.
"""

from __future__ import annotations

import _thread
import datetime as dt
import inspect
from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, runtime_checkable

import attrs

from licensekit.exceptions import StorageError

if TYPE_CHECKING:
    from licensekit.domain.records import (
        AuditEvent,
        BusinessAccount,
        ComputerBlock,
        CullingKey,
        Installation,
        InstallInvitation,
        JoinInvitation,
        LicenseKey,
        Membership,
        SessionRecord,
        Throttle,
        User,
    )

__all__ = [
    "ACCOUNTS",
    "AUDIT_EVENTS",
    "COMPUTER_BLOCKS",
    "CULLING_KEYS",
    "INSTALLATIONS",
    "INSTALL_INVITATIONS",
    "JOIN_INVITATIONS",
    "KINDS",
    "LICENSE_KEYS",
    "MEMBERSHIPS",
    "PROTOCOL_VERSION",
    "RECORD_FORMAT",
    "SESSIONS",
    "THROTTLES",
    "USERS",
    "AsyncStore",
    "AsyncTransaction",
    "Query",
    "Range",
    "RecordKind",
    "Store",
    "Transaction",
    "missing_operations",
    "split_filter",
    "takes_durable",
]

PROTOCOL_VERSION = 3
"""The version of this port; a store declares the one it implements as ``protocol_version``."""

RECORD_FORMAT = 3
"""The version of the records' fields; it changes whenever a record gains or loses a field."""

R = TypeVar("R")

Key = tuple[Any, ...]
"""The values of a record's :attr:`RecordKind.key` fields, in that order."""


@attrs.frozen
class RecordKind(Generic[R]):
    """The description of one kind of record: everything a store needs to know about it.

    Attributes:
        name: A short plural name, usable as a table or collection name.
        type: The frozen attrs class of the records.
        key: The fields that identify a record; no two records share their values.
        unique: Other sets of fields whose values no two records share.
        indexes: Sets of fields the rules look records up by without them being unique
            (``read`` by them must not scan the whole kind).
        fixed: Fields, besides the key, that a save may not change.
        owner: The field listings are confined to (``page`` returns one owner's records),
            or None for a kind that is never listed.
        counts: Sets of fields the rules count records by (``count`` by them must not scan
            records of other owners).
        expires: The datetime field after which a record means nothing, for
            ``delete_expired``; None for a kind that does not expire.
        nullable_key: Key fields that may be None; None is one value there, distinct from
            every other (a store that cannot index None may keep it as a sentinel).
        derived: Properties of the records, computed from their fields and never None,
            that :attr:`filters` may name; a store keeps each where it can index it (a
            generated column) and gives it no field of its own.
        filters: Sets of fields (or :attr:`derived` properties) a listing may filter by
            with equal values: ``page(..., where=...)`` by them reads only the records it
            returns (an index on the owner, those fields, then :attr:`order`).
        ranges: Fields a filtered listing may also bound with a :class:`Range`, checked on
            the records the filter selects (best without reading rows: the field ends the
            filter's index).
    """

    name: str
    type: type[R]
    key: tuple[str, ...]
    unique: tuple[tuple[str, ...], ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()
    fixed: tuple[str, ...] = ()
    owner: str | None = None
    counts: tuple[tuple[str, ...], ...] = ()
    expires: str | None = None
    nullable_key: tuple[str, ...] = ()
    derived: tuple[str, ...] = ()
    filters: tuple[tuple[str, ...], ...] = ()
    ranges: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field of the records, in the attrs class's order."""
        return tuple(a.name for a in attrs.fields(self.type))  # type: ignore[arg-type]

    @property
    def order(self) -> tuple[str, ...]:
        """The fields listings sort by: the key without the owner."""
        return tuple(f for f in self.key if f != self.owner)

    @property
    def lookups(self) -> tuple[tuple[str, ...], ...]:
        """Every set of fields ``read`` may look records up by: key, unique sets, indexes."""
        return (self.key, *self.unique, *self.indexes)

    def key_of(self, record: R) -> Key:
        """Return *record*'s key values."""
        key = self.key
        if len(key) == 1:  # most kinds: no generator for one value
            return (getattr(record, key[0]),)
        return tuple([getattr(record, f) for f in key])

    def __repr__(self) -> str:
        return f"RecordKind({self.name!r})"


# The kinds, and the record classes they describe, are made the first time one of them is
# looked up (``from licensekit.storage import USERS`` included), not when this module is
# imported: a store made, and the port checked, before any record is read or written (a kit
# being constructed) needs none of them. Type checkers and documentation read these:
if TYPE_CHECKING:
    USERS: RecordKind[User]
    ACCOUNTS: RecordKind[BusinessAccount]
    MEMBERSHIPS: RecordKind[Membership]
    JOIN_INVITATIONS: RecordKind[JoinInvitation]
    SESSIONS: RecordKind[SessionRecord]
    AUDIT_EVENTS: RecordKind[AuditEvent]
    THROTTLES: RecordKind[Throttle]
    LICENSE_KEYS: RecordKind[LicenseKey]
    INSTALL_INVITATIONS: RecordKind[InstallInvitation]
    INSTALLATIONS: RecordKind[Installation]
    CULLING_KEYS: RecordKind[CullingKey]
    COMPUTER_BLOCKS: RecordKind[ComputerBlock]

    KINDS: tuple[RecordKind[Any], ...]
    """Every kind of record licensekit keeps, in an order where owners come before what they own."""

_KIND_NAMES = frozenset(
    {
        "USERS",
        "ACCOUNTS",
        "MEMBERSHIPS",
        "JOIN_INVITATIONS",
        "SESSIONS",
        "AUDIT_EVENTS",
        "THROTTLES",
        "LICENSE_KEYS",
        "INSTALL_INVITATIONS",
        "INSTALLATIONS",
        "CULLING_KEYS",
        "COMPUTER_BLOCKS",
        "KINDS",
    }
)
# Re-entrant: a look-up made while the record classes are being imported (by this very
# thread) fails with an ImportError naming the cycle rather than waiting for ever.
_describing = _thread.RLock()


def _describe_kinds() -> dict[str, Any]:
    """Every kind of record, by its name in this module (:data:`KINDS` included)."""
    from licensekit._record_kinds import describe_kinds

    return describe_kinds()


if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        if name not in _KIND_NAMES:
            # The record classes are importable from here too; probes of dunder names
            # (import machinery, introspection) build nothing.
            for kind in () if name.startswith("__") else __getattr__("KINDS"):
                if kind.type.__name__ == name:
                    return kind.type
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        with _describing:  # one set of kinds, even when threads look them up at once
            described = globals().get(name)
            if described is None:
                globals().update(_describe_kinds())
                described = globals()[name]
        return described

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})


@attrs.frozen
class Query(Generic[R]):
    """One look-up of :meth:`Transaction.read`.

    It finds the records of *kind* whose *fields* hold one of the value tuples of *values*.

    Attributes:
        kind: What to look up.
        fields: One of ``kind.lookups``: its key, a unique set or an index.
        values: One tuple of values per wanted combination, in the order of *fields*.
    """

    kind: RecordKind[R]
    fields: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]


@attrs.frozen
class Range:
    """A bound on one field in a filtered listing (:meth:`Transaction.page`'s *where*).

    A record is kept when its value is greater than *above* (if given) and at most *up_to*
    (if given); a record whose value is None is never kept.

    Attributes:
        above: The value the field must exceed, or None for no lower bound.
        up_to: The greatest value the field may hold, or None for no upper bound.
    """

    above: Any = None
    up_to: Any = None

    def holds(self, value: Any) -> bool:
        """True when *value* is within the bounds."""
        if value is None:
            return False
        return (self.above is None or value > self.above) and (
            self.up_to is None or value <= self.up_to
        )


@runtime_checkable
class Transaction(Protocol):
    """Protocol: the reads and writes available inside one store transaction.

    Every method takes the :class:`RecordKind` it works on; records passed to a write are
    instances of ``kind.type``. A write of several records applies all or none of them.
    """

    def lock(self, scopes: Collection[str]) -> bool:
        """Hold *scopes* until the transaction ends.

        Another transaction locking any of the same scopes waits until this one ends (or
        fails with :class:`~licensekit.exceptions.StorageBusy`). Locking a scope twice is
        harmless.

        Returns:
            Whether records this transaction read before the lock may have been changed by
            others since (licensekit then reads them again): True for a store whose
            transactions run side by side; False only for one that runs one writing
            transaction at a time, where nothing read can change.
        """
        ...

    def read(self, queries: Sequence[Query[Any]]) -> list[list[Any]]:
        """Run every look-up of *queries*, at once if the store can; one result per query.

        Each result holds every matching record once, in any order, and nothing else.
        """
        ...

    def page(
        self,
        kind: RecordKind[R],
        owner: Any,
        *,
        after: Key | None,
        limit: int,
        where: Mapping[str, Any] | None = None,
    ) -> list[R]:
        """Return up to *limit* of *owner*'s records, in :attr:`RecordKind.order`.

        Only records whose order values come strictly after *after* are returned (all of
        them when *after* is None), so pages stay stable while records are added.

        With *where*, only the records that hold its values: its fields that are not
        bounded by a :class:`Range` are exactly one of ``kind.filters`` (each compared for
        equality, None being one value of a nullable key field); a :class:`Range` may bound
        fields of ``kind.ranges``. A page filtered by equal values reads only the records
        it returns; one bounded by a :class:`Range` may read every record in the range.

        Raises:
            StorageError: *where* is not one of the kind's filters (and ranges).
        """
        ...

    def count(self, kind: RecordKind[Any], where: Mapping[str, Any]) -> int:
        """Return how many records hold every value of *where*.

        The fields of *where* are one of ``kind.counts``.
        """
        ...

    def add(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """Insert new records, all or none.

        Raises:
            DuplicateKey: A record's key or unique fields clash with another record's, or
                two of *records* clash with each other.
        """
        ...

    def save(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """Replace existing records (found by key) with *records*, all or none.

        Raises:
            StorageError: A record does not exist, or the save would change one of its
                :attr:`~RecordKind.fixed` fields.
            DuplicateKey: A unique field would clash with another record's.
        """
        ...

    def put(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """Insert *records*, or replace those with the same key, all or none.

        Raises:
            StorageError: The replacement would change a :attr:`~RecordKind.fixed` field.
            DuplicateKey: A unique field would clash with another record's.
        """
        ...

    def delete(self, kind: RecordKind[Any], keys: Sequence[Key]) -> int:
        """Delete the records with *keys*; return how many existed."""
        ...

    def delete_expired(self, kind: RecordKind[Any], moment: dt.datetime) -> int:
        """Delete the records that expired at or before *moment*; return how many.

        A record expires at the time its :attr:`~RecordKind.expires` field holds.
        """
        ...

    def increment(
        self, kind: RecordKind[Any], key: Key, field: str, by: int, *, cap: str | None = None
    ) -> bool:
        """Add *by* to the number *field* of the record with *key*, in one atomic step.

        The change is made only if the new value is at least 0 and, when *cap* names
        another number field, at most that field's value; it is never made on a value
        another transaction changed meanwhile without seeing it.

        Returns:
            Whether the change was made: False when there is no such record or the bound
            refused it (which leaves the record as it was). Nothing more is returned, so
            that a store can answer from the count of rows its ``UPDATE`` changed.
        """
        ...

    def update(
        self,
        kind: RecordKind[Any],
        keys: Sequence[Key],
        values: Mapping[str, Any],
        *,
        add: Mapping[str, int] | None = None,
    ) -> int:
        """Set *values* and add *add* on every record with one of *keys*, all or none.

        The one write that changes many records alike without reading them (how sending
        went for a chunk of invitations: a SQL store runs one ``UPDATE`` per chunk of keys).
        Each added number is applied to the value stored at that moment, as
        :meth:`increment` does, but without a bound: *add* holds whole numbers of at least
        0. A key that no record has is skipped.

        Returns:
            How many records were changed.

        Raises:
            StorageError: A field of *values* or *add* is part of the key or
                :attr:`~RecordKind.fixed`, is not a field of the kind, or (in *add*) is not
                a number or gets a negative or non-integer amount.
        """
        ...


@runtime_checkable
class Store(Protocol):
    """Protocol: a place where licensekit keeps its records.

    Shipped implementations: :class:`licensekit.stores.memory.MemoryStore` and
    :class:`licensekit.stores.sqlite.SQLiteStore`.

    Attributes:
        protocol_version: The version of this port the store implements
            (:data:`PROTOCOL_VERSION`); licensekit refuses a store that declares another.
    """

    protocol_version: int

    def transaction(self, *, durable: bool = True) -> AbstractContextManager[Transaction]:
        """Open a transaction: commit when the block ends, roll back if it raises.

        Transactions do not nest. A transaction object must not be used after its block.

        Args:
            durable: With False, the commit need not reach the disk before the block ends:
                it must still be atomic, consistent and visible to every later
                transaction, and it may be lost in a crash of the machine (not of the
                process, for a store that can keep that promise), never half of it. It
                becomes durable at the latest with the next durable commit. A store that
                cannot commit faster that way ignores the keyword; an adapter whose
                ``transaction()`` has no such keyword at all is always called without it.
                licensekit asks for it only where losing the commit in a crash loses no
                more than the crash itself would have (see the module docstring).
        """
        ...

    def close(self) -> None:
        """Release the store's resources. The store is not used afterwards."""
        ...


@runtime_checkable
class AsyncTransaction(Protocol):
    """Protocol: :class:`Transaction` for async code; every operation is awaited.

    Each method means exactly what the method of the same name of :class:`Transaction`
    means, and keeps the same rules (all or none, errors, order).
    """

    async def lock(self, scopes: Collection[str]) -> bool:
        """As :meth:`Transaction.lock`."""
        ...

    async def read(self, queries: Sequence[Query[Any]]) -> list[list[Any]]:
        """As :meth:`Transaction.read`."""
        ...

    async def page(
        self,
        kind: RecordKind[R],
        owner: Any,
        *,
        after: Key | None,
        limit: int,
        where: Mapping[str, Any] | None = None,
    ) -> list[R]:
        """As :meth:`Transaction.page`."""
        ...

    async def count(self, kind: RecordKind[Any], where: Mapping[str, Any]) -> int:
        """As :meth:`Transaction.count`."""
        ...

    async def add(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """As :meth:`Transaction.add`."""
        ...

    async def save(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """As :meth:`Transaction.save`."""
        ...

    async def put(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """As :meth:`Transaction.put`."""
        ...

    async def delete(self, kind: RecordKind[Any], keys: Sequence[Key]) -> int:
        """As :meth:`Transaction.delete`."""
        ...

    async def delete_expired(self, kind: RecordKind[Any], moment: dt.datetime) -> int:
        """As :meth:`Transaction.delete_expired`."""
        ...

    async def increment(
        self, kind: RecordKind[Any], key: Key, field: str, by: int, *, cap: str | None = None
    ) -> bool:
        """As :meth:`Transaction.increment`."""
        ...

    async def update(
        self,
        kind: RecordKind[Any],
        keys: Sequence[Key],
        values: Mapping[str, Any],
        *,
        add: Mapping[str, int] | None = None,
    ) -> int:
        """As :meth:`Transaction.update`."""
        ...


@runtime_checkable
class AsyncStore(Protocol):
    """Protocol: :class:`Store` for async code, used by :class:`licensekit.aio.AsyncLicenseKit`.

    Shipped implementations: :class:`licensekit.stores.postgres.AsyncPostgresStore` (native),
    and :class:`licensekit.aio.ThreadedStore`, which serves any :class:`Store` (the memory
    and SQLite stores included) from worker threads.

    A transaction's block may be left at any ``await`` by cancellation: the store then rolls
    it back, as for any other exception, and gives its connection back.

    Attributes:
        protocol_version: As :attr:`Store.protocol_version`.
    """

    protocol_version: int

    def transaction(self, *, durable: bool = True) -> AbstractAsyncContextManager[AsyncTransaction]:
        """Open a transaction (``async with``): commit when the block ends, roll back if not.

        Args:
            durable: As for :meth:`Store.transaction`.
        """
        ...

    async def aclose(self) -> None:
        """Release the store's resources. The store is not used afterwards."""
        ...


_STORE_OPERATIONS = ("transaction", "close")
_TRANSACTION_OPERATIONS = (
    "lock",
    "read",
    "page",
    "count",
    "add",
    "save",
    "put",
    "delete",
    "delete_expired",
    "increment",
    "update",
)


def split_filter(
    kind: RecordKind[Any], where: Mapping[str, Any]
) -> tuple[tuple[str, ...], tuple[tuple[str, Range], ...]]:
    """Return *where*'s filter (one of ``kind.filters``) and its ranges, as a store reads it.

    The filter's fields come in the order of the kind's declaration, the ranges in field
    order.

    Raises:
        StorageError: The fields compared for equality are not one of ``kind.filters``, or
            a :class:`Range` bounds a field that is not one of ``kind.ranges``.
    """
    equal = {f for f, v in where.items() if not isinstance(v, Range)}
    chosen = next((f for f in kind.filters if set(f) == equal), None)
    if chosen is None:
        raise StorageError(f"the {kind.name} are not listed by {tuple(sorted(equal))}")
    ranges = tuple((f, v) for f, v in sorted(where.items()) if isinstance(v, Range))
    refused = [f for f, _ in ranges if f not in kind.ranges]
    if refused:
        raise StorageError(f"the {kind.name} are not listed by a range of {refused[0]}")
    return chosen, ranges


def missing_operations(
    store: object, transaction: object | None = None, *, asynchronous: bool = False
) -> list[str]:
    """Return what *store* (and, when given, one of its *transaction* objects) lacks.

    Names the operations that are missing or not callable, and a ``protocol_version`` that
    is absent or not :data:`PROTOCOL_VERSION`; an empty list means the shape is complete.
    With *asynchronous*, *store* is judged as an :class:`AsyncStore` (``aclose``, and
    every operation of the transaction a coroutine function).
    """
    prefix = "Async" if asynchronous else ""
    operations = ("transaction", "aclose") if asynchronous else _STORE_OPERATIONS
    missing = [
        f"{prefix}Store.{name}" for name in operations if not callable(getattr(store, name, None))
    ]
    version = getattr(store, "protocol_version", None)
    if version != PROTOCOL_VERSION:
        missing.append(
            f"{prefix}Store.protocol_version = {PROTOCOL_VERSION} (it declares {version!r})"
        )
    if transaction is not None:
        missing += [
            f"{prefix}Transaction.{name}"
            + (" (not a coroutine function)" if callable(getattr(transaction, name, None)) else "")
            for name in _TRANSACTION_OPERATIONS
            if not callable(getattr(transaction, name, None))
            or (asynchronous and not inspect.iscoroutinefunction(getattr(transaction, name)))
        ]
    return missing


def takes_durable(store: object) -> bool:
    """Whether *store*'s ``transaction()`` takes the *durable* keyword.

    True when its signature names ``durable`` or takes any keyword (``**kwargs``). A store
    written before the keyword existed answers False, and is then always asked for durable
    transactions, as before (see :meth:`Store.transaction`).
    """
    opener = getattr(store, "transaction", None)
    if opener is None:
        return False
    try:
        parameters = inspect.signature(opener).parameters.values()
    except (TypeError, ValueError):  # no signature to read (a builtin, say)
        return False
    return any(
        (p.name == "durable" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
        or p.kind is p.VAR_KEYWORD
        for p in parameters
    )
