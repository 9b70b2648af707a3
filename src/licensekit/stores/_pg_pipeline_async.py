"""How a PostgreSQL transaction sends its statements: in pipeline mode, few round trips.

The connection runs in pipeline mode for the whole transaction. What answers nothing is
queued and sent with the next statement that answers something: ``BEGIN`` goes with the
first read, locks with the reads that follow them, and writes (``add``, ``save``, ``put``)
with the next read or the commit. A clash of a queued write is therefore reported by a later
call or by the commit, as the port allows. A save or put queued with a row count to reach
(:class:`_Check`) fails by dividing by zero when it falls short; once the transaction was
rolled back, the writes explain that error
(:mod:`licensekit.stores._pg_writes_async`, ``_refuse``).

Written once, async (:class:`AsyncPipelinedStatements`); ``_pg_pipeline.py`` is generated
from this module by ``scripts/unasync.py``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import psycopg
from psycopg import errors
from psycopg.generators import send

from licensekit.exceptions import StorageError
from licensekit.stores._pg_errors import translate
from licensekit.stores._pg_rows import columns, valid
from licensekit.stores._pg_sql import PgTableSQL

__all__ = ["AsyncPipelinedStatements"]


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


class AsyncPipelinedStatements:
    """A PostgreSQL transaction's statements in pipeline mode, and how the transaction ends.

    A part of :class:`~licensekit.stores._pg_transaction_async.AsyncPostgresTransaction`,
    which supplies why a write was refused (``_refuse``).
    """

    if TYPE_CHECKING:  # supplied by the transaction

        async def _refuse(
            self, table: PgTableSQL, rows: Sequence[list[Any]], *, must_exist: bool
        ) -> NoReturn: ...

    def __init__(self, connection: psycopg.AsyncConnection[Any], begin: Sequence[str]) -> None:
        self._connection = connection
        self._pipeline_block = connection.pipeline()
        self._cursor = connection.cursor()  # for statements whose results nobody reads
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

    def _refusing(self, error: StorageError) -> NoReturn:
        self.refused = self.refused or error
        raise error

    async def _synced(self) -> None:
        """Sync the pipeline once everything queued has left the client.

        psycopg's ``sync()`` writes what libpq holds once, as far as the socket takes it,
        then waits for answers. A statement larger than the socket's buffer (a parameter of
        a megabyte) would then never end: the server waits for the rest of it, the client
        for its answer. So the queue is sent whole first, as leaving pipeline mode does.
        """
        await self._connection.wait(send(self._connection.pgconn))
        await self._pipeline.sync()

    async def _sync(self, doing: str) -> None:
        """Send what is queued and take every result."""
        queued, self._queued = self._queued, []
        try:
            await self._synced()
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
                await self._synced()
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

    # -- the end ----------------------------------------------------------------------------

    async def commit(self) -> None:
        """Send what is queued and ``COMMIT`` behind it, in one round trip; end pipeline mode.

        Raises:
            StorageError: A queued write was refused, or the commit failed; nothing of the
                transaction was kept, except when the connection was lost during the
                commit (see :func:`~licensekit.stores._pg_errors.translate`).
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
                    await self._synced()
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
