"""One transaction of the PostgreSQL store: the ten operations of the storage port, in SQL.

Rules of this module:

* Every statement comes from :mod:`licensekit.stores._pg_sql`; this module chooses one,
  binds the encoded values and decodes the rows. A look-up, write or delete of many records
  is one statement (one array per column), never one per record.
* Scopes are transaction-scoped advisory locks (``pg_advisory_xact_lock``) on a 64-bit hash
  of the store's schema and the scope, taken in a fixed order so that two transactions
  locking the same scopes cannot deadlock each other. They end with the transaction.
* A write PostgreSQL refuses aborts the transaction there anyway; this one also records it
  (:attr:`PostgresTransaction.refused`) and refuses every later call, as the port allows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, NoReturn, TypeVar

import psycopg
from psycopg import errors

from licensekit.exceptions import DuplicateKey, IncompatibleStore, StorageBusy, StorageError
from licensekit.storage import Key, Query, RecordKind
from licensekit.stores._pg_sql import PgTableSQL

__all__ = ["PostgresTransaction", "scope_lock_id", "translate"]

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


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """The values of *rows*, one list per column (the arrays of an ``unnest``)."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width


class PostgresTransaction:
    """One transaction of a :class:`~licensekit.stores.postgres.PostgresStore`.

    See :class:`licensekit.storage.Transaction` for what each operation promises.

    Attributes:
        refused: The error of the first call the database refused, or None. Once set,
            every call raises :class:`~licensekit.exceptions.StorageError`, and the store
            rolls the transaction back however its block ends.
    """

    def __init__(
        self, connection: psycopg.Connection[Any], tables: Mapping[str, PgTableSQL], namespace: str
    ) -> None:
        self._cursor = connection.cursor()
        self._tables = tables
        self._namespace = namespace
        self._done = False
        self.refused: StorageError | None = None

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

    def _run(self, sql: str, params: Sequence[Any], doing: str) -> psycopg.Cursor[Any]:
        try:
            return self._cursor.execute(sql, params)
        except (psycopg.Error, UnicodeEncodeError) as e:
            error = translate(e, doing)
            self.refused = self.refused or error
            raise error from e

    def _rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """Run a read; text that is not valid Unicode matches nothing instead of failing."""
        try:
            return self._cursor.execute(sql, params).fetchall()
        except UnicodeEncodeError:
            return []
        except psycopg.Error as e:
            error = translate(e, "a read")
            self.refused = self.refused or error
            raise error from e

    def _rows_of(self, sql: str, wanted: list[tuple[Any, ...]], width: int) -> list[Any]:
        """Run a read of many value tuples; those holding invalid Unicode match nothing."""
        try:
            return self._cursor.execute(sql, _columns(wanted, width)).fetchall()
        except UnicodeEncodeError:
            valid = [w for w in wanted if all(_valid(v) for v in w)]
            return self._rows(sql, _columns(valid, width)) if valid else []
        except psycopg.Error as e:
            error = translate(e, "a read")
            self.refused = self.refused or error
            raise error from e

    def _decode(self, table: PgTableSQL, rows: Iterable[Sequence[Any]]) -> list[Any]:
        try:
            return [table.mapper.decode(row) for row in rows]
        except (ValueError, TypeError, KeyError) as e:
            raise IncompatibleStore(
                f"a stored record of the {table.kind.name} cannot be read by this licensekit: {e}"
            ) from e

    def _encode(self, table: PgTableSQL, fields: Sequence[str], values: Iterable[Any]) -> list[Any]:
        encoders = table.encoders
        try:
            return [encoders[f](v) for f, v in zip(fields, values, strict=True)]
        except StorageError:
            raise
        except (AttributeError, TypeError, ValueError) as e:
            raise StorageError(f"a value of the {table.kind.name} has a wrong type: {e}") from e

    def _records(self, table: PgTableSQL, records: Sequence[Any]) -> list[list[Any]]:
        """The encoded *records*, all of the kind's type; refused, all of them, otherwise."""
        kind, encode = table.kind, table.mapper.encode
        rows = []
        for record in records:
            if not isinstance(record, kind.type):
                raise StorageError(f"{record!r} is not one of the {kind.name}")
            try:
                rows.append(encode(record))
            except StorageError:
                raise
            except (AttributeError, TypeError, ValueError) as e:
                raise StorageError(
                    f"one of the {kind.name} holds a value of a wrong type: {e}"
                ) from e
        return rows

    def _key(self, table: PgTableSQL, row: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(row[p] for p in table.key_positions)

    # -- scopes and reads -------------------------------------------------------------------

    def lock(self, scopes: Collection[str]) -> bool:
        """Take an advisory transaction lock per scope; see the port's ``lock``.

        Returns True: other transactions run beside this one, so what it read before may
        have changed.
        """
        if self._done or self.refused is not None:
            self._ended()
        ids = sorted({scope_lock_id(self._namespace, scope) for scope in scopes})
        if len(ids) == 1:
            self._run("SELECT pg_advisory_xact_lock(%s)", ids, "taking a lock")
        elif ids:
            self._run(
                "SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k",
                [ids],
                "taking locks",
            )
        return True

    def read(self, queries: Sequence[Query[Any]]) -> list[list[Any]]:
        """Run every look-up, one statement each; see the port's ``read``."""
        if self._done or self.refused is not None:
            self._ended()
        results: list[list[Any]] = []
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
            if not wanted:
                results.append([])
            elif len(wanted) == 1:
                results.append(self._decode(table, self._rows(table.find_one[fields], wanted[0])))
            else:
                rows = self._rows_of(table.find_many[fields], wanted, width)
                results.append(self._decode(table, rows))
        return results

    def page(self, kind: RecordKind[R], owner: Any, *, after: Key | None, limit: int) -> list[R]:
        """Return one page of *owner*'s records; see the port's ``page``."""
        table = self._table(kind)
        if table.page_first is None or table.page_after is None or kind.owner is None:
            raise StorageError(f"the {kind.name} are not listed")
        if limit <= 0:
            return []
        head = self._encode(table, (kind.owner,), (owner,))
        if after is None:
            rows = self._rows(table.page_first, [*head, limit])
        else:
            if len(after) != len(kind.order):
                raise StorageError(f"a cursor of the {kind.name} holds {kind.order}, got {after!r}")
            cursor = self._encode(table, kind.order, after)
            rows = self._rows(table.page_after, [*head, *cursor, limit])
        return self._decode(table, rows)

    def count(self, kind: RecordKind[Any], where: Mapping[str, Any]) -> int:
        """Count records by one of the kind's ``counts``; see the port's ``count``."""
        table = self._table(kind)
        counted = table.counts.get(frozenset(where))
        if counted is None:
            raise StorageError(f"the {kind.name} are not counted by {tuple(where)}")
        fields, sql = counted
        rows = self._rows(sql, self._encode(table, fields, (where[f] for f in fields)))
        return int(rows[0][0]) if rows else 0

    # -- writes -----------------------------------------------------------------------------

    def _refusing(self, error: StorageError) -> NoReturn:
        self.refused = self.refused or error
        raise error

    def add(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """Insert records in one statement; see the port's ``add``."""
        table = self._table(kind)
        try:
            rows = self._records(table, records)
        except StorageError as e:
            self._refusing(e)
        if len(rows) == 1:
            self._run(table.insert_one, rows[0], "adding records")
        elif rows:
            self._run(table.insert_many, _columns(rows, len(table.columns)), "adding records")

    def save(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """Replace existing records, one statement per run of distinct keys."""
        table = self._table(kind)
        try:
            rows = self._records(table, records)
        except StorageError as e:
            self._refusing(e)
        for chunk in self._distinct(table, rows):
            if len(chunk) == 1:
                written = self._run(
                    table.update_one, table.update_params(chunk[0]), "saving records"
                ).rowcount
            else:
                params = _columns(chunk, len(table.columns))
                written = self._run(table.update_many, params, "saving records").rowcount
            if written != len(chunk):
                self._refuse(table, chunk, must_exist=True)

    def put(self, kind: RecordKind[R], records: Sequence[R]) -> None:
        """Insert or replace records, one statement per run of distinct keys."""
        table = self._table(kind)
        try:
            rows = self._records(table, records)
        except StorageError as e:
            self._refusing(e)
        for chunk in self._distinct(table, rows):
            if len(chunk) == 1:
                written = self._run(table.upsert_one, chunk[0], "writing records").rowcount
            else:
                params = _columns(chunk, len(table.columns))
                written = self._run(table.upsert_many, params, "writing records").rowcount
            if written != len(chunk):
                self._refuse(table, chunk, must_exist=False)

    def _distinct(self, table: PgTableSQL, rows: list[list[Any]]) -> list[list[list[Any]]]:
        """Cut *rows* into runs in which no key repeats (a statement changes a row once)."""
        runs: list[list[list[Any]]] = []
        run: list[list[Any]] = []
        keys: set[tuple[Any, ...]] = set()
        for row in rows:
            key = self._key(table, row)
            if key in keys:
                runs.append(run)
                run, keys = [], set()
            run.append(row)
            keys.add(key)
        if run:
            runs.append(run)
        return runs

    def _refuse(
        self, table: PgTableSQL, rows: Sequence[list[Any]], *, must_exist: bool
    ) -> NoReturn:
        """Raise why the first of *rows* that was not written was refused; end the transaction."""
        kind = table.kind
        keys = list(dict.fromkeys(self._key(table, row) for row in rows))
        stored = {
            self._key(table, found): found
            for found in self._rows(table.find_many[kind.key], _columns(keys, len(kind.key)))
        }
        position = table.position
        for row in rows:
            old = stored.get(self._key(table, row))
            if old is None:
                if must_exist:
                    key = self._key(table, row)
                    self._refusing(StorageError(f"none of the {kind.name} has the key {key!r}"))
                continue
            changed = [f for f in kind.fixed if old[position[f]] != row[position[f]]]
            if changed:
                self._refusing(
                    StorageError(
                        f"a save may not change the {', '.join(changed)} of one of the {kind.name}"
                    )
                )
        self._refusing(
            StorageError(f"a write of the {kind.name} changed fewer records than it should")
        )

    def delete(self, kind: RecordKind[Any], keys: Sequence[Key]) -> int:
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
        params = _columns(wanted, width)
        try:
            return self._cursor.execute(table.delete_many, params).rowcount
        except UnicodeEncodeError:  # a lone surrogate: delete the keys that can exist
            valid = [k for k in wanted if all(_valid(v) for v in k)]
            if not valid:
                return 0
            return self._run(table.delete_many, _columns(valid, width), "deleting records").rowcount
        except psycopg.Error as e:
            error = translate(e, "deleting records")
            self._refusing(error)

    def delete_expired(self, kind: RecordKind[Any], moment: dt.datetime) -> int:
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
        return self._run(table.delete_expired, [when], "deleting records").rowcount

    def increment(
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
        try:
            changed: int = self._cursor.execute(table.increment(field, cap), params).rowcount
        except UnicodeEncodeError:  # a lone surrogate: no stored record has this key
            return False
        except psycopg.Error as e:
            self._refusing(translate(e, "changing a number"))
        return changed == 1


def _valid(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
