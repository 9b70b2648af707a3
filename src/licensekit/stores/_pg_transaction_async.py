"""One transaction of the PostgreSQL store: the ten operations of the storage port, in SQL.

Written once, async (:class:`AsyncPostgresTransaction`); ``_pg_transaction.py`` is generated
from this module by ``scripts/unasync.py``.

Rules of this module:

* Every statement comes from :mod:`licensekit.stores._pg_sql`; this module chooses one,
  binds the encoded values and decodes the rows. A look-up, write or delete of many records
  is one statement (one array per column), never one per record.
* Scopes are transaction-scoped advisory locks (``pg_advisory_xact_lock``) on a 64-bit hash
  of the store's schema and the scope, taken in a fixed order so that two transactions
  locking the same scopes cannot deadlock each other. They end with the transaction.
* A write PostgreSQL refuses aborts the transaction there anyway; this one also records it
  (:attr:`PostgresTransaction.refused`) and refuses every later call, as the port allows.
* **Round trips.** The connection runs in pipeline mode for the whole transaction. What
  answers nothing is queued and sent with the next statement that answers something:
  ``BEGIN`` goes with the first read, locks with the reads that follow them, and writes
  (``add``, ``save``, ``put``) with the next read or the commit. A ``read`` of several
  queries is one round trip. A clash of a queued write is therefore reported by a later call
  or by the commit, as the port allows; whether a save or put changed every record it
  should is checked before the ``COMMIT`` is sent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, NoReturn, TypeVar

import psycopg
from psycopg import errors

from licensekit.exceptions import DuplicateKey, StorageBusy, StorageError
from licensekit.storage import Key, Query, RecordKind
from licensekit.stores._listing_async import AsyncListing
from licensekit.stores._pg_rows import (
    columns,
    decode_rows,
    distinct_runs,
    encode_records,
    encode_values,
    key_of,
    valid,
    why_refused,
)
from licensekit.stores._pg_sql import PgTableSQL
from licensekit.stores._updates import checked_update

__all__ = ["AsyncPostgresTransaction", "scope_lock_id", "translate"]

R = TypeVar("R")

_BUSY = (
    errors.SerializationFailure,  # 40001
    errors.DeadlockDetected,  # 40P01
    errors.LockNotAvailable,  # 55P03: lock_timeout
    errors.QueryCanceled,  # 57014: statement_timeout
)


def scope_lock_id(namespace: str, scope: str) -> int:
    """The advisory lock key of *scope* in *namespace*: a signed 64-bit hash.

    Two scopes sharing a key (one chance in 2**64) would only wait for each other.
    """
    digest = hashlib.blake2b(
        f"{namespace}\x00{scope}".encode("utf-8", "surrogatepass"), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


def translate(error: Exception, doing: str, *, committing: bool = False) -> StorageError:
    """Return the licensekit error for a driver *error* raised while *doing* something."""
    if isinstance(error, UnicodeEncodeError):
        return StorageError(f"cannot store text that is not valid Unicode: {error}")
    if isinstance(error, errors.UniqueViolation):
        constraint = error.diag.constraint_name or "a unique constraint"
        return DuplicateKey(f"{doing}: a unique value clashes ({constraint})")
    if isinstance(error, psycopg.IntegrityError):
        return StorageError(f"{doing} would break a rule of the database: {error}")
    if isinstance(error, _BUSY):
        return StorageBusy(f"{doing}: PostgreSQL gave up waiting for a lock ({error})")
    if isinstance(error, psycopg.OperationalError) and not isinstance(error, errors.DiskFull):
        if committing:
            return StorageError(
                f"{doing}: the connection to PostgreSQL was lost during the commit, so "
                f"whether the transaction was kept is unknown ({error})"
            )
        return StorageBusy(
            f"{doing}: the connection to PostgreSQL was lost, and the server rolled the "
            f"transaction back ({error})"
        )
    return StorageError(f"{doing} failed in PostgreSQL: {type(error).__name__}: {error}")


class _Check:
    """A queued save or put: which one failed its row count, should one fail."""

    __slots__ = ("cursor", "must_exist", "rows", "table")

    def __init__(
        self,
        cursor: psycopg.AsyncCursor[Any],
        table: PgTableSQL,
        rows: list[list[Any]],
        *,
        must_exist: bool,
    ) -> None:
        self.cursor, self.table, self.rows, self.must_exist = cursor, table, rows, must_exist


class AsyncPostgresTransaction(AsyncListing[PgTableSQL]):
    """One transaction of a :class:`~licensekit.stores.postgres.PostgresStore`.

    See :class:`licensekit.storage.Transaction` for what each operation promises.

    Attributes:
        refused: The error of the first call the database refused, or None. Once set,
            every call raises :class:`~licensekit.exceptions.StorageError`, and the store
            rolls the transaction back however its block ends.
    """

    def __init__(
        self,
        connection: psycopg.AsyncConnection[Any],
        tables: Mapping[str, PgTableSQL],
        namespace: str,
        begin: Sequence[str],
    ) -> None:
        self._connection = connection
        self._pipeline_block = connection.pipeline()
        self._cursor = connection.cursor()  # for statements whose results nobody reads
        self._tables = tables
        self._namespace = namespace
        self._begin = begin
        self._done = False
        self._queued: list[str] = []  # what the statements sent since the last sync do
        self._checks: list[_Check] = []
        self.refused: StorageError | None = None

    async def start(self) -> None:
        """Enter pipeline mode and queue ``BEGIN`` (sent with the first read)."""
        self._pipeline = await self._pipeline_block.__aenter__()
        for statement in self._begin:
            await self._queue(statement, (), "starting the transaction", prepare=False)

    # -- helpers ----------------------------------------------------------------------------

    def _ended(self) -> NoReturn:
        if self._done:
            raise StorageError("this transaction has ended; open a new one")
        raise StorageError(
            "a call of this transaction was refused, so it can only end (rolled back)"
        ) from self.refused

    def _table(self, kind: RecordKind[Any]) -> PgTableSQL:
        if self._done or self.refused is not None:
            self._ended()
        table = self._tables.get(getattr(kind, "name", None))  # type: ignore[arg-type]
        if table is None or (table.kind is not kind and table.kind != kind):
            raise StorageError(f"{kind!r} is not a kind this store keeps")
        return table

    async def _queue(
        self,
        sql: str,
        params: Sequence[Any],
        doing: str,
        *,
        cursor: psycopg.AsyncCursor[Any] | None = None,
        prepare: bool | None = None,
    ) -> psycopg.AsyncCursor[Any]:
        """Queue one statement (on *cursor*, whose results are wanted, or on the shared one).

        Raises:
            UnicodeEncodeError: A text value is not valid Unicode (nothing was queued).
        """
        used = self._cursor if cursor is None else cursor
        self._queued.append(doing)
        try:
            await used.execute(sql, params, prepare=prepare)
        except UnicodeEncodeError:
            self._queued.pop()
            raise
        except psycopg.Error as e:
            # In pipeline mode an execute also takes the answers that have arrived, so the
            # error may be an earlier statement's; no sync has followed it yet.
            if isinstance(e, errors.DivisionByZero) and self._checks:
                await self._refuse_check(synced=False)
            self._fail(e, ", ".join(dict.fromkeys(self._queued)))
        return used

    def _fail(self, error: psycopg.Error, doing: str) -> NoReturn:
        translated = translate(error, doing)
        self.refused = self.refused or translated
        raise translated from error

    async def _sync(self, doing: str) -> None:
        """Send what is queued and take every result."""
        queued, self._queued = self._queued, []
        try:
            await self._pipeline.sync()
        except psycopg.Error as e:
            if isinstance(e, errors.DivisionByZero) and self._checks:
                await self._refuse_check(synced=True)
            self._fail(e, ", ".join(dict.fromkeys([*queued, doing])))
        self._checks.clear()

    async def _refuse_check(self, *, synced: bool) -> NoReturn:
        """A save or put changed fewer records than it should: roll back, raise why.

        *synced*: a sync followed the error (else the server skips all until one does).
        """
        failed = next(c for c in self._checks if c.cursor.pgresult is None)
        self._checks.clear()
        if not synced:
            with contextlib.suppress(psycopg.Error):  # the skipped statements answer so
                await self._pipeline.sync()
        self._queued.clear()
        try:
            await self._connection.execute("ROLLBACK", prepare=False)
        except psycopg.Error as e:
            self._fail(e, "rolling back a refused write")
        await self._refuse(failed.table, failed.rows, must_exist=failed.must_exist)

    async def _fetch(self, sql: str, params: Sequence[Any], doing: str = "a read") -> list[Any]:
        """Run one statement and return its rows."""
        cursor = await self._queue(sql, params, doing, cursor=self._connection.cursor())
        await self._sync(doing)
        return await cursor.fetchall()

    async def _rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """Run a read; text that is not valid Unicode matches nothing instead of failing."""
        try:
            return await self._fetch(sql, params)
        except UnicodeEncodeError:
            return []

    async def _queue_read(
        self, sql: str, wanted: list[tuple[Any, ...]], width: int
    ) -> psycopg.AsyncCursor[Any] | None:
        """Queue a read of many value tuples; those holding invalid Unicode match nothing."""
        cursor = self._connection.cursor()
        try:
            return await self._queue(sql, columns(wanted, width), "a read", cursor=cursor)
        except UnicodeEncodeError:
            encodable = [w for w in wanted if all(valid(v) for v in w)]
            if not encodable:
                return None
            return await self._queue(sql, columns(encodable, width), "a read", cursor=cursor)

    def _decode(self, table: PgTableSQL, rows: Iterable[Sequence[Any]]) -> list[Any]:
        return decode_rows(table, rows)

    def _encode(self, table: PgTableSQL, fields: Sequence[str], values: Iterable[Any]) -> list[Any]:
        return encode_values(table, fields, values)

    # -- scopes and reads -------------------------------------------------------------------

    async def lock(self, scopes: Collection[str]) -> bool:
        """Take an advisory transaction lock per scope; see the port's ``lock``.

        Returns True: other transactions run beside this one, so what it read before may
        have changed.
        """
        if self._done or self.refused is not None:
            self._ended()
        ids = sorted({scope_lock_id(self._namespace, scope) for scope in scopes})
        # Queued: the locks are taken before anything sent after them, at the next sync.
        if len(ids) == 1:
            await self._queue("SELECT pg_advisory_xact_lock(%s)", ids, "taking a lock")
        elif ids:
            await self._queue(
                "SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k",
                [ids],
                "taking locks",
            )
        return True

    async def read(self, queries: Sequence[Query[Any]]) -> list[list[Any]]:
        """Run every look-up, one statement each, all in one round trip; see the port."""
        if self._done or self.refused is not None:
            self._ended()
        sent: list[tuple[PgTableSQL, psycopg.AsyncCursor[Any]] | None] = []
        for query in queries:
            table = self._table(query.kind)
            fields, values = query.fields, query.values
            if fields not in table.lookups:
                raise StorageError(f"the {table.kind.name} are not looked up by {fields}")
            width = len(fields)
            wanted = list(
                dict.fromkeys(
                    tuple(self._encode(table, fields, v)) for v in values if len(v) == width
                )
            )
            cursor: psycopg.AsyncCursor[Any] | None = None
            if len(wanted) == 1:
                try:
                    cursor = await self._queue(
                        table.find_one[fields],
                        wanted[0],
                        "a read",
                        cursor=self._connection.cursor(),
                    )
                except UnicodeEncodeError:
                    cursor = None
            elif wanted:
                cursor = await self._queue_read(table.find_many[fields], wanted, width)
            sent.append(None if cursor is None else (table, cursor))
        if any(sent):
            await self._sync("a read")
        return [[] if s is None else self._decode(s[0], await s[1].fetchall()) for s in sent]

    # -- writes -----------------------------------------------------------------------------

    def _refusing(self, error: StorageError) -> NoReturn:
        self.refused = self.refused or error
        raise error

    async def add(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """Insert records in one statement; see the port's ``add``."""
        table = self._table(kind)
        try:
            rows = encode_records(table, records)
        except StorageError as e:
            self._refusing(e)
        try:
            if len(rows) == 1:
                await self._queue(table.insert_one, rows[0], "adding records")
            elif rows:
                await self._queue(
                    table.insert_many, columns(rows, len(table.columns)), "adding records"
                )
        except UnicodeEncodeError as e:
            self._refusing(translate(e, "adding records"))

    async def save(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """Replace existing records, one statement per run of distinct keys."""
        await self._replace(kind, records, must_exist=True)

    async def put(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """Insert or replace records, one statement per run of distinct keys."""
        await self._replace(kind, records, must_exist=False)

    async def _replace(
        self, kind: RecordKind[R], records: Sequence[R], *, must_exist: bool
    ) -> None:
        """Queue a save (*must_exist*) or put; its row count is checked at the next sync."""
        table = self._table(kind)
        try:
            rows = encode_records(table, records)
        except StorageError as e:
            self._refusing(e)
        one, many = (
            (table.update_one, table.update_many)
            if must_exist
            else (table.upsert_one, table.upsert_many)
        )
        doing = "saving records" if must_exist else "writing records"
        for chunk in distinct_runs(table, rows):
            if len(chunk) == 1:
                params = table.update_params(chunk[0]) if must_exist else list(chunk[0])
                statement = one
            else:
                params, statement = columns(chunk, len(table.columns)), many
            params.append(len(chunk))  # the statement fails unless it changed that many
            try:
                cursor = await self._queue(
                    statement, params, doing, cursor=self._connection.cursor()
                )
            except UnicodeEncodeError as e:
                self._refusing(translate(e, doing))
            self._checks.append(_Check(cursor, table, chunk, must_exist=must_exist))

    async def _refuse(
        self, table: PgTableSQL, rows: Sequence[list[Any]], *, must_exist: bool
    ) -> NoReturn:
        """Raise why the first of *rows* that was not written was refused.

        Called once the transaction was rolled back, so what it compares *rows* with is what
        other transactions committed: a record this transaction added and then saved with
        other fixed fields is reported missing.
        """
        kind = table.kind
        keys = list(dict.fromkeys(key_of(table, row) for row in rows))
        try:  # a plain read, in pipeline mode or out of it (after a refused commit)
            reading = await self._connection.cursor().execute(
                table.find_many[kind.key], columns(keys, len(kind.key))
            )
            found = await reading.fetchall()
        except psycopg.Error as e:
            self._fail(e, "finding why a write was refused")
        self._refusing(why_refused(table, rows, found, must_exist=must_exist))

    async def delete(self, kind: RecordKind[Any], keys: Sequence[Key]) -> int:
        """Delete records by key in one statement; see the port's ``delete``."""
        table = self._table(kind)
        width = len(kind.key)
        try:
            wanted = list(
                dict.fromkeys(
                    tuple(self._encode(table, kind.key, k)) for k in keys if len(k) == width
                )
            )
        except StorageError as e:
            self._refusing(e)
        if not wanted:
            return 0
        cursor = await self._queue_read(
            table.delete_many, wanted, width
        )  # a lone surrogate: skipped
        if cursor is None:
            return 0
        await self._sync("deleting records")
        return cursor.rowcount

    async def delete_expired(self, kind: RecordKind[Any], moment: dt.datetime) -> int:
        """Delete the records expired at *moment*; see the port's ``delete_expired``."""
        table = self._table(kind)
        if table.delete_expired is None:
            self._refusing(StorageError(f"the {kind.name} do not expire"))
        if not isinstance(moment, dt.datetime):
            self._refusing(StorageError(f"expiry is compared with a datetime, got {moment!r}"))
        try:
            when = table.encoders[kind.expires or ""](moment)
        except StorageError as e:
            self._refusing(e)
        cursor = await self._queue(
            table.delete_expired, [when], "deleting records", cursor=self._connection.cursor()
        )
        await self._sync("deleting records")
        return cursor.rowcount

    async def update(
        self,
        kind: RecordKind[Any],
        keys: Sequence[Key],
        values: Mapping[str, Any],
        *,
        add: Mapping[str, int] | None = None,
    ) -> int:
        """Change many records alike in one ``UPDATE``; see the port's ``update``."""
        table = self._table(kind)
        width = len(kind.key)
        try:
            values, added = checked_update(kind, values, add)
            head = [*self._encode(table, tuple(values), values.values()), *added.values()]
            wanted = list(
                dict.fromkeys(
                    tuple(self._encode(table, kind.key, k)) for k in keys if len(k) == width
                )
            )
        except StorageError as e:
            self._refusing(e)
        if not wanted or not (values or added):
            return 0
        encodable = [w for w in wanted if all(valid(v) for v in w)]  # others match nothing
        if not encodable:
            return 0
        doing = "updating records"
        sql = table.update_alike(tuple(values), tuple(added))
        try:
            cursor = await self._queue(
                sql, [*head, *columns(encodable, width)], doing, cursor=self._connection.cursor()
            )
        except UnicodeEncodeError as e:  # a value to set holds a lone surrogate
            self._refusing(translate(e, doing))
        await self._sync(doing)
        return cursor.rowcount

    async def increment(
        self, kind: RecordKind[Any], key: Key, field: str, by: int, *, cap: str | None = None
    ) -> bool:
        """Change a number within bounds in one ``UPDATE``; see the port's ``increment``."""
        table = self._table(kind)
        if field not in table.counters or (cap is not None and cap not in table.numbers):
            self._refusing(
                StorageError(f"{field} (up to {cap}) is not a number of the {kind.name}")
            )
        if type(by) is not int:
            self._refusing(StorageError(f"an increment is a whole number, got {by!r}"))
        key = tuple(key)
        if len(key) != len(kind.key):
            return False
        values = self._encode(table, kind.key, key)
        params = [by, *values, by] + ([by] if cap is not None else [])
        doing = "changing a number"
        try:
            cursor = await self._queue(
                table.increment(field, cap), params, doing, cursor=self._connection.cursor()
            )
        except UnicodeEncodeError:  # a lone surrogate: no stored record has this key
            return False
        await self._sync(doing)
        return cursor.rowcount == 1

    # -- the end ----------------------------------------------------------------------------

    async def commit(self) -> None:
        """Send what is queued and ``COMMIT`` behind it, in one round trip; end pipeline mode.

        Raises:
            StorageError: A queued write was refused, or the commit failed; nothing of the
                transaction was kept, except when the connection was lost during the
                commit (see :func:`translate`).
        """
        self._done = True
        try:
            await self._cursor.execute("COMMIT", prepare=False)
        except psycopg.Error as e:
            # An answer taken while the COMMIT was queued: an earlier statement was refused
            # (so the server skips the COMMIT), or the connection is gone.
            try:
                if isinstance(e, errors.DivisionByZero) and self._checks:
                    await self._refuse_check(synced=False)
                lost = isinstance(e, psycopg.OperationalError)
                raise translate(e, "committing the transaction", committing=lost) from e
            finally:
                await self.rollback()
        try:
            await self._pipeline_block.__aexit__(None, None, None)  # sends all, takes every answer
        except psycopg.Error as e:
            # A refused statement made the server skip the COMMIT: the transaction is
            # aborted, and waits for a ROLLBACK (out of pipeline mode now).
            if isinstance(e, psycopg.OperationalError) or self._connection.broken:
                await self._abandon()
                raise translate(e, "committing the transaction", committing=True) from e
            if isinstance(e, errors.DivisionByZero) and self._checks:
                await self._refuse_check(synced=True)  # out of pipeline mode: nothing to sync
            await self._rollback_quietly()
            raise translate(e, "committing the transaction") from e

    async def rollback(self) -> None:
        """Roll back and leave pipeline mode; close the connection if that fails."""
        self._done = True
        try:
            if self._queued:
                with contextlib.suppress(psycopg.Error):  # a queued write failed: so be it
                    await self._pipeline.sync()
            await self._cursor.execute("ROLLBACK", prepare=False)
            await self._pipeline_block.__aexit__(None, None, None)
        except psycopg.Error:
            await self._abandon()

    async def _rollback_quietly(self) -> None:
        try:
            await self._connection.execute("ROLLBACK", prepare=False)
        except psycopg.Error:
            await self._abandon()

    async def _abandon(self) -> None:
        """Close the connection (the server rolls back; the pool drops it), pipeline and all."""
        await self._connection.close()
        with contextlib.suppress(psycopg.Error):  # ends pipeline mode on a closed connection
            await self._pipeline_block.__aexit__(None, None, None)
