"""The PostgreSQL transaction's writes of whole records, and why one was refused.

``add`` is one ``INSERT`` of one array per column; ``save`` and ``put`` are one statement
per run of distinct keys, each queued with the number of rows it must change: one that
changes fewer fails (by dividing by zero) at the next sync, and the transaction, rolled
back, explains it by reading the stored rows (:meth:`AsyncRecordWrites._refuse`): a record
missing, or a fixed field changed. A write the store refuses ends the transaction.

Written once, async (:class:`AsyncRecordWrites`); ``_pg_writes.py`` is generated from this
module by ``scripts/unasync.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import psycopg

from licensekit.exceptions import StorageError
from licensekit.storage import RecordKind
from licensekit.stores._pg_errors import translate
from licensekit.stores._pg_pipeline_async import _Check
from licensekit.stores._pg_rows import columns, distinct_runs, encode_records, key_of, why_refused
from licensekit.stores._pg_sql import PgTableSQL

__all__ = ["AsyncRecordWrites"]

R = TypeVar("R")


class AsyncRecordWrites:
    """The port's ``add``, ``save`` and ``put`` in PostgreSQL, and their refusals.

    A part of :class:`~licensekit.stores._pg_transaction_async.AsyncPostgresTransaction`,
    which supplies the connection and how statements are queued.
    """

    if TYPE_CHECKING:  # supplied by the transaction
        _connection: psycopg.AsyncConnection[Any]
        _checks: list[_Check]

        def _table(self, kind: RecordKind[Any]) -> PgTableSQL: ...
        async def _queue(
            self,
            sql: str,
            params: Sequence[Any],
            doing: str,
            *,
            cursor: psycopg.AsyncCursor[Any] | None = None,
            prepare: bool | None = None,
        ) -> psycopg.AsyncCursor[Any]: ...
        def _fail(self, error: psycopg.Error, doing: str) -> NoReturn: ...
        def _refusing(self, error: StorageError) -> NoReturn: ...

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
