"""Writes of many records that behave as if written one after another, and why one was refused.

The storage port asks a write of several records to behave as if they were written in
order: the first that cannot be written decides the error, as in the memory store.
:class:`OrderedWrites` gives the SQLite transaction that behaviour over statements of many
rows each: records are encoded a statement's worth at a time up to the first this kind
cannot hold; a statement that wrote fewer rows than it was given is explained by reading
the stored rows back (:meth:`OrderedWrites._refuse`: a missing record, a fixed field
changed); and a clash of unique values, which fails a statement as a whole, is found by
writing its rows again one by one. :func:`refusing` makes a write that raises end its
transaction: nothing may follow a refused write.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from licensekit.exceptions import DuplicateKey, StorageError
from licensekit.stores._sql import TableSQL

if TYPE_CHECKING:
    from licensekit.stores._sqlite_errors import Row

__all__ = ["OrderedWrites", "flat", "refusing"]


W = TypeVar("W", bound=Callable[..., Any])


_POSITIONAL = object()  # the default that says the argument came by keyword


def refusing(write: W) -> W:
    """Make *write* (of a kind and one argument) note a refusal on its transaction, which ends.

    The usual call, by position, passes its two arguments on as they are: the writes are on
    the path of every use case, and ``*args, **kwargs`` would cost more. A call naming the
    argument (``add(kind, records=...)``) is passed on by keyword.
    """

    @functools.wraps(write)
    def refusing(self: Any, kind: Any, what: Any = _POSITIONAL, **named: Any) -> Any:
        try:
            if what is _POSITIONAL:
                return write(self, kind, **named)
            return write(self, kind, what, **named)
        except StorageError as e:
            self.refused = self.refused or e
            raise

    return refusing  # type: ignore[return-value]


def flat(rows: Iterable[Row]) -> list[Any]:
    """The values of *rows*, one after another, as one statement binds them."""
    return [value for row in rows for value in row]


class OrderedWrites:
    """The writes of many records of a SQLite transaction, in order, and their refusals.

    A part of :class:`~licensekit.stores._sqlite_transaction.SQLiteTransaction`, which
    supplies how statements run.
    """

    if TYPE_CHECKING:  # supplied by the transaction

        def _size(self, width: int) -> int: ...
        def _key(self, table: TableSQL, row: Row) -> tuple[Any, ...]: ...
        def _run(self, sql: str, params: Sequence[Any], doing: str) -> sqlite3.Cursor: ...
        def _chunked(
            self, sql: Callable[[int], str], rows: Sequence[Row], width: int, doing: str
        ) -> Iterator[sqlite3.Cursor]: ...

    def _encoded_records(
        self, table: TableSQL, records: Sequence[Any]
    ) -> tuple[list[Row], StorageError | None]:
        """The encoded records up to the first one this kind cannot hold, and why it cannot."""
        kind, encode = table.kind, table.mapper.encode
        rows: list[Row] = []
        for record in records:
            if not isinstance(record, kind.type):
                return rows, StorageError(f"{record!r} is not one of the {kind.name}")
            try:
                rows.append(encode(record))
            except StorageError as e:
                return rows, e
            except (AttributeError, TypeError, ValueError) as e:
                return rows, StorageError(
                    f"one of the {kind.name} holds a value of a wrong type: {e}"
                )
        return rows, None

    def _encoded_chunks(
        self, table: TableSQL, records: Sequence[Any]
    ) -> Iterator[tuple[list[Row], StorageError | None]]:
        """Encode *records* a statement's worth at a time, never a whole batch at once.

        Yields each chunk's rows up to the first record this kind cannot hold, and why it
        cannot; nothing more is yielded after such a record.
        """
        size = self._size(len(table.columns))
        for start in range(0, len(records), size):
            rows, bad = self._encoded_records(table, records[start : start + size])
            yield rows, bad
            if bad is not None:
                return

    def _distinct(self, table: TableSQL, rows: list[Row]) -> Iterator[list[Row]]:
        """Cut *rows* into chunks in which no key repeats (one ``UPDATE`` changes a row once)."""
        size = self._size(len(table.columns))
        chunk: list[Row] = []
        keys: set[tuple[Any, ...]] = set()
        for row in rows:
            key = self._key(table, row)
            if key in keys or len(chunk) == size:
                yield chunk
                chunk, keys = [], set()
            chunk.append(row)
            keys.add(key)
        if chunk:
            yield chunk

    def _replace(
        self, table: TableSQL, chunk: Sequence[Row], sql: str, one: str, must_exist: bool
    ) -> None:
        """Write *chunk* with *sql*, each row counted once when it was written.

        A row is not written when a fixed field differs from the stored record's (or, with
        *must_exist*, when there is no stored record): :meth:`_refuse` says which. A clash of
        a unique field fails the statement as a whole; the rows are then written again one
        by one, so that the first that cannot be written decides the error, as in order.
        """
        try:
            written = self._run(sql, flat(chunk), "saving records").rowcount
        except DuplicateKey:
            if len(chunk) == 1:
                raise
            for row in chunk:
                if self._run(one, row, "saving records").rowcount != 1:
                    self._refuse(table, [row], must_exist)
            raise  # pragma: no cover - one of the rows failed again above
        if written != len(chunk):
            self._refuse(table, chunk, must_exist)

    def _refuse(self, table: TableSQL, rows: Sequence[Row], must_exist: bool) -> NoReturn:
        """Raise why the first of *rows* that was not written was refused."""
        kind = table.kind
        keys = list(dict.fromkeys(self._key(table, row) for row in rows))
        find = functools.partial(table.find, kind.key)
        stored: dict[tuple[Any, ...], Row] = {
            self._key(table, found): found
            for cursor in self._chunked(find, keys, len(kind.key), "a read")
            for found in cursor.fetchall()
        }
        position = table.position
        for row in rows:
            old = stored.get(self._key(table, row))
            if old is None:
                if must_exist:
                    key = kind.key_of(table.mapper.decode(row))
                    raise StorageError(f"none of the {kind.name} has the key {key!r}")
                continue
            changed = [f for f in kind.fixed if old[position[f]] != row[position[f]]]
            if changed:
                raise StorageError(
                    f"a save may not change the {', '.join(changed)} of one of the {kind.name}"
                )
        raise StorageError(f"a write of the {kind.name} changed fewer records than it should")
