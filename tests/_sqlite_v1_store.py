"""A frozen copy of the SQLite store of storage port v1 (schema version 4), kept for tests.

It makes files as the released store did, so that tests can check that the current store
migrates them with every record kept. It is not licensekit's code and is never changed.

The SQLite store: one database file, the embedded default.

:class:`SQLiteStore` keeps every record in one SQLite file, in WAL mode with foreign keys
enforced. Any number of threads and processes may share the file:

* Every transaction starts with ``BEGIN IMMEDIATE``, which takes the database's one write
  lock at once. Transactions are therefore serialised, which is the isolation the storage
  protocol asks for: a use case that reads free seats and then takes one cannot be
  overtaken by another process. Readers of other connections are not blocked (WAL).
* A transaction that finds the lock taken waits for it (``busy_timeout``, 30 seconds by
  default) and only then fails, with :class:`~licensekit.exceptions.StorageBusy`.
* The schema enforces what must never happen even through a bug: a key's ``seats_used``
  between 0 and its seats, an invitation's activations within its maximum, one
  installation per computer and key, unique hashes.

The schema is created on first open and migrated forward, in one transaction, when an older
licensekit made the file; a file made by a newer licensekit, or by something else, is refused
with :class:`~licensekit.exceptions.IncompatibleStore`. Every driver error becomes a
:class:`~licensekit.exceptions.StorageError` (a clash of unique keys a
:class:`~licensekit.exceptions.DuplicateKey`), with the driver's error as its cause.

Example:
    >>> import tempfile, pathlib
    >>> from licensekit.stores.sqlite import SQLiteStore
    >>> folder = tempfile.TemporaryDirectory()
    >>> store = SQLiteStore(pathlib.Path(folder.name) / "licensekit.db")
    >>> with store.transaction() as tx:
    ...     tx.get_user("usr_nobody") is None
    True
    >>> store.close(); folder.cleanup()
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, Literal, NoReturn, TypeVar

import attrs

from licensekit._echo import echo, echo_path
from licensekit._text import encodable
from licensekit.domain.model import (
    AuditEvent,
    BusinessAccount,
    ComputerBlock,
    Installation,
    InstallInvitation,
    JoinInvitation,
    LicenseKey,
    Membership,
    SessionRecord,
    Throttle,
    User,
)
from licensekit.exceptions import DuplicateKey, IncompatibleStore, StorageBusy, StorageError
from licensekit.stores import _sqlite_schema
from licensekit.stores._rows import RowMapper, encode_datetime
from licensekit.stores._sqlite_schema import APPLICATION_ID

__all__ = ["SQLiteStore"]

R = TypeVar("R")
T = TypeVar("T")
Synchronous = Literal["full", "normal"]

# This store (storage port v1) keeps schema version 4. Version 5 is the port v2 store's
# (licensekit.stores.sqlite), which migrates the files this one makes.
SCHEMA_VERSION: Final = 4
MIGRATIONS: Final = _sqlite_schema.MIGRATIONS[:SCHEMA_VERSION]

_USERS: Final = RowMapper(User)
_ACCOUNTS: Final = RowMapper(BusinessAccount)
_SESSIONS: Final = RowMapper(SessionRecord)
_AUDIT: Final = RowMapper(AuditEvent)
_THROTTLES: Final = RowMapper(Throttle)
# The fields later schemas added are not in this store's tables: records read take their
# defaults.
_LATER: Final[dict[type[Any], frozenset[str]]] = {
    LicenseKey: frozenset(
        {
            "grace_seconds",
            "check_in_seconds",
            "dead_after_seconds",
            "primary_id",
            "seat_pool",
            "released_at",
        }
    ),
    Installation: frozenset({"last_state", "notes"}),
    Membership: frozenset({"all_license_keys"}),
    JoinInvitation: frozenset({"expiry_noted_at"}),
    InstallInvitation: frozenset({"expiry_noted_at"}),
}


def _v1_fields(record_type: type[Any]) -> frozenset[str]:
    return frozenset(f.name for f in attrs.fields(record_type)) - _LATER[record_type]


_MEMBERSHIPS: Final = RowMapper(Membership, only=_v1_fields(Membership))
_JOIN_INVITATIONS: Final = RowMapper(JoinInvitation, only=_v1_fields(JoinInvitation))
_KEYS: Final = RowMapper(LicenseKey, only=_v1_fields(LicenseKey))
_INSTALL_INVITATIONS: Final = RowMapper(InstallInvitation, only=_v1_fields(InstallInvitation))
_INSTALLATIONS: Final = RowMapper(Installation, only=_v1_fields(Installation))
_BLOCKS: Final = RowMapper(ComputerBlock, extra=("sort_key",))

# Table of each mapper, for the check that the file's columns match the records.
_TABLES: Final[dict[str, RowMapper[Any]]] = {
    "users": _USERS,
    "business_accounts": _ACCOUNTS,
    "memberships": _MEMBERSHIPS,
    "join_invitations": _JOIN_INVITATIONS,
    "sessions": _SESSIONS,
    "audit_events": _AUDIT,
    "throttles": _THROTTLES,
    "license_keys": _KEYS,
    "install_invitations": _INSTALL_INVITATIONS,
    "installations": _INSTALLATIONS,
    "computer_blocks": _BLOCKS,
}

# What a clash of each unique constraint means, in the words of the protocol.
_UNIQUE_MESSAGES: Final = {
    "users.id": "a user with that id already exists",
    "users.email": "a user with that email already exists",
    "business_accounts.id": "an account with that id already exists",
    "join_invitations.id": "an invitation with the same id already exists",
    "join_invitations.token_hash": "an invitation with the same token hash already exists",
    "sessions.id": "a session with that id already exists",
    "sessions.token_hash": "a session with the same token hash already exists",
    "audit_events.account_id, audit_events.id": "an audit event with the same id already exists",
    "license_keys.id": "a license key with that id already exists",
    "license_keys.account_id, license_keys.value_hash": (
        "the account already holds a license key with that value"
    ),
    "install_invitations.id": "an invitation to install with the same id already exists",
    "install_invitations.code_hash": (
        "an invitation to install with the same code hash already exists"
    ),
    "install_invitations.token_hash": (
        "an invitation to install with the same token hash already exists"
    ),
    "installations.id": "an installation with that id already exists",
    "installations.key_id, installations.computer_id": (
        "the computer already has an installation of that key"
    ),
    "installations.token_hash": "an installation with the same token hash already exists",
}


def _insert(table: str, mapper: RowMapper[Any]) -> str:
    marks = ", ".join("?" * len(mapper.all_columns))
    return f"INSERT INTO {table} ({', '.join(mapper.all_columns)}) VALUES ({marks})"  # noqa: S608


def _update(table: str, mapper: RowMapper[Any], fixed: Sequence[str]) -> str:
    """``UPDATE`` the columns not in *fixed*, in the row whose *fixed* columns match.

    Its parameters are exactly the encoded record (numbered ``?N``, in column order). The
    fixed columns (the key among them) are never assigned, not even to their own value: an
    assignment to a key makes SQLite check every row of the tables that refer to it.
    """
    number = {c: i for i, c in enumerate(mapper.all_columns, start=1)}
    sets = ", ".join(f"{c} = ?{number[c]}" for c in mapper.all_columns if c not in fixed)
    where = " AND ".join(f"{c} = ?{number[c]}" for c in fixed)
    return f"UPDATE {table} SET {sets} WHERE {where}"  # noqa: S608


def _upsert(table: str, mapper: RowMapper[Any], conflict: Sequence[str]) -> str:
    changes = ", ".join(f"{c} = excluded.{c}" for c in mapper.all_columns if c not in conflict)
    return f"{_insert(table, mapper)} ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {changes}"


def _page_sql(table: str, mapper: RowMapper[Any], owner: str, order: str = "id") -> tuple[str, str]:
    """SELECTs of one page of *table* for one *owner*: (from the start, after a cursor)."""
    head = f"SELECT {mapper.select} FROM {table} WHERE {owner} = ?"  # noqa: S608
    tail = f"ORDER BY {order} LIMIT ?"
    return f"{head} {tail}", f"{head} AND {order} > ? {tail}"


class _SQL:
    """Every statement the store runs, built once from the mappers."""

    insert_user = _insert("users", _USERS)
    update_user = _update("users", _USERS, ["id"])
    get_user = f"SELECT {_USERS.select} FROM users WHERE id = ?"  # noqa: S608
    user_by_email = f"SELECT {_USERS.select} FROM users WHERE email = ?"  # noqa: S608

    insert_account = _insert("business_accounts", _ACCOUNTS)
    get_account = f"SELECT {_ACCOUNTS.select} FROM business_accounts WHERE id = ?"  # noqa: S608

    upsert_membership = _upsert("memberships", _MEMBERSHIPS, ["account_id", "user_id"])
    get_membership = (
        f"SELECT {_MEMBERSHIPS.select} FROM memberships "  # noqa: S608
        "WHERE account_id = ? AND user_id = ?"
    )
    memberships = _page_sql("memberships", _MEMBERSHIPS, "account_id", "user_id")
    user_memberships = (
        f"SELECT {_MEMBERSHIPS.select} FROM memberships "  # noqa: S608
        "WHERE user_id = ? ORDER BY account_id"
    )
    count_admins = (
        # The planner, without statistics, would rather walk the account's memberships.
        "SELECT count(*) FROM memberships INDEXED BY memberships_active_administrators "
        "WHERE account_id = ? AND role = 'account_administrator' AND status = 'active'"
    )

    insert_join = _insert("join_invitations", _JOIN_INVITATIONS)
    update_join = _update(
        "join_invitations", _JOIN_INVITATIONS, ["id", "account_id", "email", "token_hash"]
    )
    get_join = f"SELECT {_JOIN_INVITATIONS.select} FROM join_invitations WHERE id = ?"  # noqa: S608
    join_by_token = (
        f"SELECT {_JOIN_INVITATIONS.select} FROM join_invitations "  # noqa: S608
        "WHERE token_hash = ?"
    )
    joins = _page_sql("join_invitations", _JOIN_INVITATIONS, "account_id")
    joins_for_email = (
        f"SELECT {_JOIN_INVITATIONS.select} FROM join_invitations "  # noqa: S608
        "WHERE account_id = ? AND email = ? ORDER BY id"
    )

    insert_session = _insert("sessions", _SESSIONS)
    update_session = _update("sessions", _SESSIONS, ["id", "token_hash"])
    session_by_token = f"SELECT {_SESSIONS.select} FROM sessions WHERE token_hash = ?"  # noqa: S608
    delete_session = "DELETE FROM sessions WHERE id = ?"
    delete_expired_sessions = "DELETE FROM sessions WHERE expires_at <= ?"
    delete_user_sessions = "DELETE FROM sessions WHERE user_id = ? AND id != ?"

    insert_audit = _insert("audit_events", _AUDIT)
    audit = _page_sql("audit_events", _AUDIT, "account_id")

    insert_key = _insert("license_keys", _KEYS)
    update_key = _update("license_keys", _KEYS, ["id", "account_id", "value_hash"])
    get_key = f"SELECT {_KEYS.select} FROM license_keys WHERE id = ?"  # noqa: S608
    key_by_value = (
        f"SELECT {_KEYS.select} FROM license_keys "  # noqa: S608
        "WHERE account_id = ? AND value_hash = ?"
    )
    keys = _page_sql("license_keys", _KEYS, "account_id")

    insert_install = _insert("install_invitations", _INSTALL_INVITATIONS)
    update_install = _update(
        "install_invitations",
        _INSTALL_INVITATIONS,
        ["id", "account_id", "key_id", "email", "code_hash", "token_hash"],
    )
    get_install = (
        f"SELECT {_INSTALL_INVITATIONS.select} FROM install_invitations "  # noqa: S608
        "WHERE id = ?"
    )
    install_by_code = (
        f"SELECT {_INSTALL_INVITATIONS.select} FROM install_invitations "  # noqa: S608
        "WHERE code_hash = ?"
    )
    install_by_token = (
        f"SELECT {_INSTALL_INVITATIONS.select} FROM install_invitations "  # noqa: S608
        "WHERE token_hash = ?"
    )
    installs = _page_sql("install_invitations", _INSTALL_INVITATIONS, "key_id")

    insert_installation = _insert("installations", _INSTALLATIONS)
    update_installation = _update(
        "installations", _INSTALLATIONS, ["id", "account_id", "key_id", "computer_id"]
    )
    get_installation = f"SELECT {_INSTALLATIONS.select} FROM installations WHERE id = ?"  # noqa: S608
    installation_by_computer = (
        f"SELECT {_INSTALLATIONS.select} FROM installations "  # noqa: S608
        "WHERE key_id = ? AND computer_id = ?"
    )
    installation_by_token = (
        f"SELECT {_INSTALLATIONS.select} FROM installations "  # noqa: S608
        "WHERE token_hash = ?"
    )
    installations = _page_sql("installations", _INSTALLATIONS, "key_id")

    upsert_block = _upsert("computer_blocks", _BLOCKS, ["account_id", "sort_key"])
    # A computer's blocks are the sort keys from "computer\t" up to "computer\n" (tab + 1).
    computer_blocks = (
        f"SELECT {_BLOCKS.select} FROM computer_blocks "  # noqa: S608
        "WHERE account_id = ? AND sort_key >= ? AND sort_key < ? AND computer_id = ? "
        "ORDER BY sort_key"
    )
    delete_block = "DELETE FROM computer_blocks WHERE account_id = ? AND sort_key = ?"
    blocks = _page_sql("computer_blocks", _BLOCKS, "account_id", "sort_key")

    upsert_throttle = _upsert("throttles", _THROTTLES, ["key"])
    get_throttle = f"SELECT {_THROTTLES.select} FROM throttles WHERE key = ?"  # noqa: S608
    delete_throttle = "DELETE FROM throttles WHERE key = ?"
    delete_expired_throttles = "DELETE FROM throttles WHERE expires_at <= ?"


# Every open store, so that their idle connections can be closed before the process forks. A
# child that inherits an open SQLite connection inherits SQLite's record of the parent's file
# locks without the locks themselves; if the parent then closes its store, SQLite believes it
# was the last user and deletes the write-ahead log under the child.
_OPEN_STORES: weakref.WeakSet[SQLiteStore] = weakref.WeakSet()
_THREAD = threading.local()  # .open_files: the database files this thread is in a transaction on
# Ids bound in one "id IN (...)" look-up: well below SQLite's oldest limit of 999.
_IDS_PER_STATEMENT: Final = 500


def _close_idle_connections_before_fork() -> None:
    for store in list(_OPEN_STORES):
        store._close_idle()


if hasattr(os, "register_at_fork"):  # pragma: no branch - POSIX
    os.register_at_fork(before=_close_idle_connections_before_fork)


def _decode(mapper: RowMapper[R], row: Sequence[Any]) -> R:
    try:
        return mapper.decode(row)
    except (ValueError, TypeError, KeyError) as e:  # json.JSONDecodeError is a ValueError
        raise IncompatibleStore(
            f"a stored {mapper.type.__name__} cannot be read by this licensekit: {e}"
        ) from e


def _binding_error(error: UnicodeEncodeError | OverflowError) -> StorageError:
    """Return the error for a value sqlite3 cannot bind at all."""
    if isinstance(error, UnicodeEncodeError):
        return StorageError(f"cannot store text that is not valid Unicode: {error}")
    return StorageError(f"a number is too large for SQLite: {error}")


def _translate(error: sqlite3.Error, doing: str) -> StorageError:
    """Return the licensekit error for a driver *error* raised while *doing* something."""
    if isinstance(error, sqlite3.IntegrityError):
        text = str(error)
        if text.startswith("UNIQUE constraint failed: "):
            constraint = text.removeprefix("UNIQUE constraint failed: ")
            return DuplicateKey(_UNIQUE_MESSAGES.get(constraint, f"duplicate {constraint}"))
        return StorageError(f"{doing} would break a rule of the database: {text}")
    code = getattr(error, "sqlite_errorcode", 0) & 0xFF
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StorageBusy(f"{doing}: the database stayed locked by another connection")
    return StorageError(f"{doing} failed in SQLite: {type(error).__name__}: {error}")


class SQLiteStore:
    """A :class:`~licensekit.storage.Store` in one SQLite database file.

    Args:
        path: The database file; created, with its schema, if it does not exist. Its folder
            must exist.
        create: With False, open only a licensekit database that exists: a missing file is
            not created, and a file without licensekit's schema (an empty one, say) is
            refused and left untouched. For tools that must not turn a mistyped path into a
            new database.
        busy_timeout: How long, in seconds, a transaction waits for another connection's
            write lock before it fails with :class:`~licensekit.exceptions.StorageBusy`.
        synchronous: ``"full"`` (the default) syncs the log to disk at every commit, so a
            committed activation survives a power cut; ``"normal"`` syncs only at
            checkpoints: faster, and still never corrupt, but the last commits before a
            power cut (not a process crash) may be lost.
        cache_mb: The page cache of each pooled connection, in MiB (SQLite's own default is
            2). It only grows as pages are read; 16 keeps the upper levels and the hot leaves
            of a million installations' indexes in memory, so that an activation costs
            about the same in a large database as in a small one.

    Safe to share between threads, and between processes that each open the file. A
    connection is taken from a small pool for each transaction and given back afterwards.
    After :func:`os.fork`, the child opens connections of its own.

    Raises:
        IncompatibleStore: The file was made by a newer licensekit, or is not a licensekit
            database (without *create*: is not one yet).
        StorageError: The file cannot be opened or created (without *create*: does not
            exist).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 30.0,
        synchronous: Synchronous = "full",
        cache_mb: int = 16,
        create: bool = True,
    ) -> None:
        if type(cache_mb) is not int or cache_mb < 1:  # bool is an int, and no size
            raise StorageError(
                f"cache_mb must be a whole number of MiB from 1, got {echo(cache_mb)}"
            )
        if synchronous not in ("full", "normal"):
            raise StorageError(f"synchronous must be 'full' or 'normal', got {echo(synchronous)}")
        if isinstance(busy_timeout, bool) or not isinstance(busy_timeout, int | float):
            raise StorageError(
                f"busy_timeout must be a number of seconds, got {echo(busy_timeout)}"
            )
        if busy_timeout < 0:
            raise StorageError(f"busy_timeout must not be negative, got {busy_timeout!r}")
        self.path = Path(path)
        self._shown = echo_path(self.path)  # in messages: a long path is cut
        name = str(self.path)
        if "\x00" in name or not encodable(name, sys.getfilesystemencoding(), "surrogateescape"):
            raise StorageError(
                f"{self._shown} cannot name a file: it holds a NUL character or a lone surrogate"
            )
        self._busy_timeout = float(busy_timeout)
        self._synchronous = synchronous.upper()
        self._cache_kib = cache_mb * 1024
        self._create = create
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._all: list[sqlite3.Connection] = []
        self._pid = os.getpid()
        self._closed = False
        self._key = os.path.abspath(self.path)  # one file, however many stores are open on it
        # Without create, every connection opens the file read-write only if it exists.
        self._target = self.path if create else f"{Path(self._key).as_uri()}?mode=rw"
        _OPEN_STORES.add(self)
        connection = self._connect()
        try:
            self._initialise(connection)
        except BaseException:
            self._discard(connection)
            raise
        self._give_back(connection)

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    # -- connections ------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(
                self._target,
                uri=not self._create,
                timeout=self._busy_timeout,
                isolation_level=None,  # transactions are begun and ended by hand
                check_same_thread=False,  # one thread at a time, handed over by the pool
                cached_statements=256,
            )
        except sqlite3.Error as e:
            raise StorageError(f"cannot open the SQLite database {self._shown}: {e}") from e
        try:
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute(f"PRAGMA synchronous = {self._synchronous}")
            connection.execute(f"PRAGMA cache_size = -{self._cache_kib}")  # negative: KiB
            connection.execute("PRAGMA trusted_schema = OFF")
            # Deleted records (sessions, throttles) are overwritten, not left in free pages.
            connection.execute("PRAGMA secure_delete = ON")
        except sqlite3.Error as e:
            connection.close()
            if getattr(e, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_NOTADB:
                raise IncompatibleStore(
                    f"{self._shown} is not a SQLite database licensekit can open: {e}"
                ) from e
            raise _translate(e, f"opening {self._shown}") from e
        with self._lock:
            self._all.append(connection)
        return connection

    def _take(self) -> sqlite3.Connection:
        with self._lock:
            if self._closed:
                raise StorageError("the SQLite store is closed")
            if self._pid != os.getpid():
                # A forked child must not touch its parent's connections (SQLite's locks
                # would be shared between the two processes): forget them, open new ones.
                self._pid = os.getpid()
                self._idle.clear()
                self._all.clear()
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def _close_idle(self) -> None:
        """Close the pooled connections no transaction is using (before a fork)."""
        with self._lock:
            if self._pid != os.getpid():
                return
            idle, self._idle = self._idle, []
            for connection in idle:
                self._all.remove(connection)
                connection.close()

    def _give_back(self, connection: sqlite3.Connection) -> None:
        if connection.in_transaction:
            # Interrupted between BEGIN and the block (a signal, say): never pool a connection
            # that still holds the write lock.
            try:
                connection.execute("ROLLBACK")
            except sqlite3.Error:
                self._discard(connection)
                return
        with self._lock:
            if not self._closed and connection in self._all:
                self._idle.append(connection)
                return
            if connection in self._all:
                self._all.remove(connection)
        connection.close()

    def _discard(self, connection: sqlite3.Connection) -> None:
        with self._lock:
            if connection in self._all:
                self._all.remove(connection)
        connection.close()

    def _begin(self, connection: sqlite3.Connection) -> None:
        """Take the write lock, waiting up to the busy timeout for it."""
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.Error as e:
                busy = getattr(e, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY
                if not busy:
                    raise _translate(e, "starting a transaction") from e
                if time.monotonic() >= deadline:
                    raise StorageBusy(
                        f"the database {self._shown} stayed locked by another "
                        f"connection for more than {self._busy_timeout:g} s"
                    ) from e
                time.sleep(0.005)  # SQLite gave up early (it may during recovery): again

    # -- schema -----------------------------------------------------------------------------

    def _initialise(self, connection: sqlite3.Connection) -> None:
        # Nothing is changed before the file is known to be ours (or new): a refused file is
        # left exactly as it was.
        version = self._when_free(
            lambda: self._check_owner(connection), "reading the database header"
        )
        if version == 0 and not self._create:
            raise IncompatibleStore(
                f"{self._shown} holds no licensekit database yet; it was left untouched"
            )
        mode = self._when_free(
            lambda: connection.execute("PRAGMA journal_mode = WAL").fetchone(),
            "switching the database to WAL mode",
        )
        if mode is None or str(mode[0]).lower() != "wal":
            raise StorageError(f"cannot put {self._shown} in WAL mode (got {mode!r})")
        self._begin(connection)
        try:
            self._migrate(connection)
            self._check_columns(connection)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        try:
            connection.execute("COMMIT")
        except sqlite3.Error as e:
            connection.execute("ROLLBACK")
            raise _translate(e, "creating the schema") from e

    def _when_free(self, step: Callable[[], T], doing: str) -> T:
        """Run *step*, retrying while another connection holds the lock, up to the timeout.

        Raises:
            StorageBusy: The lock stayed taken.
            IncompatibleStore: The file is not a SQLite database.
            StorageError: Another driver error.
        """
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                return step()
            except sqlite3.OperationalError as e:
                code = getattr(e, "sqlite_errorcode", 0) & 0xFF
                if code not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                    raise _translate(e, doing) from e
                if time.monotonic() >= deadline:
                    raise StorageBusy(
                        f"{doing}: {self._shown} stayed locked by another connection for "
                        f"more than {self._busy_timeout:g} s"
                    ) from e
                time.sleep(0.005)
            except sqlite3.DatabaseError as e:
                raise IncompatibleStore(
                    f"{self._shown} is not a SQLite database licensekit can open: {e}"
                ) from e

    def _check_owner(self, connection: sqlite3.Connection) -> int:
        """Return the file's schema version, refusing a file made by others or a newer us."""
        application_id = connection.execute("PRAGMA application_id").fetchone()[0]
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        if application_id not in (0, APPLICATION_ID):
            raise IncompatibleStore(
                f"{self._shown} belongs to another application (application id {application_id:#x})"
            )
        if application_id == 0:
            tables = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables:
                raise IncompatibleStore(
                    f"{self._shown} already holds tables that licensekit did not make"
                )
        if version > SCHEMA_VERSION:
            raise IncompatibleStore(
                f"{self._shown} has schema version {version}, made by a newer "
                f"licensekit; this version reads schema versions up to {SCHEMA_VERSION}"
            )
        return version

    def _migrate(self, connection: sqlite3.Connection) -> None:
        # Checked again under the write lock: another process may have migrated meanwhile.
        version = self._check_owner(connection)
        try:
            for step in MIGRATIONS[version:]:
                for statement in step:
                    connection.execute(statement)
            if version < SCHEMA_VERSION:
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        except sqlite3.Error as e:
            raise StorageError(
                f"migrating {self._shown} from schema version {version} to "
                f"{SCHEMA_VERSION} failed, nothing was changed: {e}"
            ) from e

    def _check_columns(self, connection: sqlite3.Connection) -> None:
        for table, mapper in _TABLES.items():
            found = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
            missing = set(mapper.all_columns) - found
            if missing:
                raise IncompatibleStore(
                    f"table {table} of {self._shown} lacks columns {sorted(missing)}"
                )

    @property
    def schema_version(self) -> int:
        """The schema version of the file (the newest this licensekit knows, once open)."""
        with self.transaction() as tx:
            return int(tx._one_value("PRAGMA user_version"))

    # -- transactions -----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[_SQLiteTransaction]:
        """Open a transaction; see :meth:`licensekit.storage.Store.transaction`."""
        open_files: set[str] = _THREAD.__dict__.setdefault("open_files", set())
        if self._key in open_files:
            # Waiting for our own write lock would only end in StorageBusy, much later.
            raise StorageError("transactions cannot be nested (on this database file)")
        connection = self._take()
        try:
            self._begin(connection)
        except BaseException:
            self._give_back(connection)
            raise
        open_files.add(self._key)
        tx = _SQLiteTransaction(connection)
        try:
            try:
                yield tx
            except BaseException:
                tx._done = True
                self._rollback(connection)
                raise
            tx._done = True
            try:
                connection.execute("COMMIT")
            except sqlite3.Error as e:
                self._rollback(connection)
                raise _translate(e, "committing the transaction") from e
        finally:
            tx._done = True
            open_files.discard(self._key)
            self._give_back(connection)

    def _rollback(self, connection: sqlite3.Connection) -> None:
        try:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
        except sqlite3.Error:
            # The connection cannot even roll back: drop it; SQLite rolls back on close.
            self._discard(connection)

    def close(self) -> None:
        """Close the store; further transactions raise :class:`StorageError`.

        Idle connections are closed at once; a transaction still running in another thread
        finishes normally, and its connection is closed when it ends.
        """
        with self._lock:
            self._closed = True
            idle = self._idle if self._pid == os.getpid() else []
            self._idle = []
            for connection in idle:
                self._all.remove(connection)
        for connection in idle:
            connection.close()

    def dump(self) -> list[object]:
        """Return every record the store holds, table by table (for inspection in tests)."""
        records: list[object] = []
        with self.transaction() as tx:
            for table, mapper in _TABLES.items():
                sql = f"SELECT {mapper.select} FROM {table} ORDER BY 1"  # noqa: S608
                records.extend(tx._many(mapper, sql, ()))
        return records

    def integrity_check(self) -> list[str]:
        """Run SQLite's ``PRAGMA integrity_check`` and foreign key check; return the problems.

        An empty list means the file is sound.
        """
        with self.transaction() as tx:
            rows = tx._all_rows("PRAGMA integrity_check")
            problems = [str(r[0]) for r in rows if r[0] != "ok"]
            problems += [
                f"foreign key of {r[0]} row {r[1]} points at a missing {r[2]}"
                for r in tx._all_rows("PRAGMA foreign_key_check")
            ]
            return problems


class _SQLiteTransaction:
    """One transaction of a :class:`SQLiteStore`, on one connection."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._done = False

    # -- statement helpers ------------------------------------------------------------------

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        if self._done:
            raise StorageError("this transaction has ended; open a new one")
        reading = sql.startswith(("SELECT", "DELETE", "PRAGMA"))
        try:
            return self._connection.execute(sql, params)
        except UnicodeEncodeError as e:
            # Text that is not valid Unicode (a lone surrogate) matches nothing stored, so a
            # look-up finds nothing; storing it is refused.
            if reading:
                return self._connection.execute("SELECT 1 WHERE 0")
            raise _binding_error(e) from e
        except OverflowError as e:
            raise _binding_error(e) from e
        except sqlite3.Error as e:
            self._note_lost_transaction()
            raise _translate(e, "a read" if reading else "a write") from e

    def _note_lost_transaction(self) -> None:
        """End the transaction here too when SQLite rolled it back after an error.

        SQLite does so after some errors (a full disk); no later statement may then run
        outside the transaction.
        """
        if not self._connection.in_transaction:
            self._done = True

    def _run_many(self, sql: str, rows: Iterable[Sequence[Any]], expect: int | None = None) -> bool:
        """Run *sql* for every row, all or none (a savepoint undoes a partial batch).

        Returns False, having undone the batch, when *expect* is given and the rows changed
        were not that many.
        """
        if self._done:
            raise StorageError("this transaction has ended; open a new one")
        connection = self._connection
        try:
            connection.execute("SAVEPOINT batch")
            try:
                changed = connection.executemany(sql, rows).rowcount
            except BaseException:
                if connection.in_transaction:  # else SQLite rolled everything back itself
                    connection.execute("ROLLBACK TO batch")
                    connection.execute("RELEASE batch")
                raise
            if expect is not None and changed != expect:
                connection.execute("ROLLBACK TO batch")
                connection.execute("RELEASE batch")
                return False
            connection.execute("RELEASE batch")
            return True
        except (UnicodeEncodeError, OverflowError) as e:
            raise _binding_error(e) from e
        except sqlite3.Error as e:
            self._note_lost_transaction()
            raise _translate(e, "a batch write") from e

    def _one(self, mapper: RowMapper[R], sql: str, params: Sequence[Any]) -> R | None:
        row = self._run(sql, params).fetchone()
        return None if row is None else _decode(mapper, row)

    def _many(self, mapper: RowMapper[R], sql: str, params: Sequence[Any]) -> list[R]:
        return [_decode(mapper, row) for row in self._run(sql, params).fetchall()]

    def _page(
        self,
        mapper: RowMapper[R],
        sql: tuple[str, str],
        owner: str,
        after: str | None,
        limit: int,
    ) -> list[R]:
        if after is None:
            return self._many(mapper, sql[0], (owner, limit))
        return self._many(mapper, sql[1], (owner, after, limit))

    def _one_value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._run(sql, params).fetchone()[0]

    def _all_rows(self, sql: str) -> list[Any]:
        return self._run(sql).fetchall()

    def _replace(
        self,
        sql: str,
        mapper: RowMapper[R],
        record: R,
        fixed: Sequence[str],
        table: str,
        what: str,
    ) -> None:
        """UPDATE *record* in place; explain why when no row had its id and fixed fields."""
        values = mapper.encode(record)
        if self._run(sql, values).rowcount != 1:
            self._refuse_save(values, mapper, fixed, table, what)

    def _replace_many(
        self,
        sql: str,
        mapper: RowMapper[R],
        records: Sequence[R],
        fixed: Sequence[str],
        table: str,
        what: str,
    ) -> None:
        """UPDATE every one of *records*, or none of them (see :meth:`_replace`)."""
        rows = [mapper.encode(r) for r in records]
        if rows and not self._run_many(sql, rows, expect=len(rows)):
            match = " AND ".join(f"{c} = ?" for c in fixed)
            for values in rows:
                keys = [values[mapper.all_columns.index(c)] for c in fixed]
                if self._run(f"SELECT 1 FROM {table} WHERE {match}", keys).fetchone() is None:  # noqa: S608
                    self._refuse_save(values, mapper, fixed, table, what)
            raise AssertionError("a batch that matched every row changed fewer")  # pragma: no cover

    def _refuse_save(
        self, values: list[Any], mapper: RowMapper[R], fixed: Sequence[str], table: str, what: str
    ) -> NoReturn:
        """Raise why *values* matched no row: an unknown id, or a fixed field changed."""
        keys = [values[mapper.all_columns.index(c)] for c in fixed]
        found = self._run(f"SELECT 1 FROM {table} WHERE id = ?", (keys[0],)).fetchone()  # noqa: S608
        if found is None:
            raise StorageError(f"cannot save unknown {what} {keys[0]!r}")
        names = ", ".join(fixed[1:])
        raise StorageError(f"the {names} of {what} {keys[0]!r} cannot change")

    def _by_ids(self, mapper: RowMapper[R], table: str, ids: Sequence[str]) -> list[R]:
        """The records of *table* with these ids, a few hundred per statement."""
        # An id that is not valid Unicode matches nothing; bound with the others, it would make
        # the whole statement find nothing (see _run).
        wanted = [i for i in dict.fromkeys(ids) if encodable(i)]
        found: list[R] = []
        for start in range(0, len(wanted), _IDS_PER_STATEMENT):
            chunk = wanted[start : start + _IDS_PER_STATEMENT]
            marks = ", ".join("?" * len(chunk))
            sql = f"SELECT {mapper.select} FROM {table} WHERE id IN ({marks})"  # noqa: S608
            found.extend(self._many(mapper, sql, chunk))
        return found

    # -- users ------------------------------------------------------------------------------

    def get_user(self, user_id: str) -> User | None:
        return self._one(_USERS, _SQL.get_user, (user_id,))

    def find_user_by_email(self, email: str) -> User | None:
        return self._one(_USERS, _SQL.user_by_email, (email,))

    def add_user(self, user: User) -> None:
        self._run(_SQL.insert_user, _USERS.encode(user))

    def save_user(self, user: User) -> None:
        self._replace(_SQL.update_user, _USERS, user, ["id"], "users", "user")

    # -- accounts ---------------------------------------------------------------------------

    def get_account(self, account_id: str) -> BusinessAccount | None:
        return self._one(_ACCOUNTS, _SQL.get_account, (account_id,))

    def add_account(self, account: BusinessAccount) -> None:
        self._run(_SQL.insert_account, _ACCOUNTS.encode(account))

    # -- memberships ------------------------------------------------------------------------

    def get_membership(self, account_id: str, user_id: str) -> Membership | None:
        return self._one(_MEMBERSHIPS, _SQL.get_membership, (account_id, user_id))

    def save_membership(self, membership: Membership) -> None:
        self._run(_SQL.upsert_membership, _MEMBERSHIPS.encode(membership))

    def list_memberships(
        self, account_id: str, *, after: str | None, limit: int
    ) -> list[Membership]:
        return self._page(_MEMBERSHIPS, _SQL.memberships, account_id, after, limit)

    def list_user_memberships(self, user_id: str) -> list[Membership]:
        return self._many(_MEMBERSHIPS, _SQL.user_memberships, (user_id,))

    def count_active_administrators(self, account_id: str) -> int:
        return int(self._one_value(_SQL.count_admins, (account_id,)))

    # -- join invitations -------------------------------------------------------------------

    def add_join_invitations(self, invitations: Sequence[JoinInvitation]) -> None:
        self._run_many(_SQL.insert_join, map(_JOIN_INVITATIONS.encode, invitations))

    def save_join_invitation(self, invitation: JoinInvitation) -> None:
        self._replace(
            _SQL.update_join,
            _JOIN_INVITATIONS,
            invitation,
            ["id", "account_id", "email", "token_hash"],
            "join_invitations",
            "invitation",
        )

    def save_join_invitations(self, invitations: Sequence[JoinInvitation]) -> None:
        self._replace_many(
            _SQL.update_join,
            _JOIN_INVITATIONS,
            invitations,
            ["id", "account_id", "email", "token_hash"],
            "join_invitations",
            "invitation",
        )

    def get_join_invitation(self, invitation_id: str) -> JoinInvitation | None:
        return self._one(_JOIN_INVITATIONS, _SQL.get_join, (invitation_id,))

    def get_join_invitations(self, invitation_ids: Sequence[str]) -> list[JoinInvitation]:
        return self._by_ids(_JOIN_INVITATIONS, "join_invitations", invitation_ids)

    def find_join_invitation_by_token_hash(self, token_hash: bytes) -> JoinInvitation | None:
        return self._one(_JOIN_INVITATIONS, _SQL.join_by_token, (token_hash,))

    def list_join_invitations(
        self, account_id: str, *, after: str | None, limit: int
    ) -> list[JoinInvitation]:
        return self._page(_JOIN_INVITATIONS, _SQL.joins, account_id, after, limit)

    def list_join_invitations_for_email(self, account_id: str, email: str) -> list[JoinInvitation]:
        return self._many(_JOIN_INVITATIONS, _SQL.joins_for_email, (account_id, email))

    # -- sessions ---------------------------------------------------------------------------

    def add_session(self, session: SessionRecord) -> None:
        self._run(_SQL.insert_session, _SESSIONS.encode(session))

    def save_session(self, session: SessionRecord) -> None:
        self._replace(
            _SQL.update_session, _SESSIONS, session, ["id", "token_hash"], "sessions", "session"
        )

    def find_session_by_token_hash(self, token_hash: bytes) -> SessionRecord | None:
        return self._one(_SESSIONS, _SQL.session_by_token, (token_hash,))

    def delete_session(self, session_id: str) -> None:
        self._run(_SQL.delete_session, (session_id,))

    def delete_sessions_expired_before(self, moment: dt.datetime) -> int:
        return self._run(_SQL.delete_expired_sessions, (encode_datetime(moment),)).rowcount

    def delete_user_sessions(self, user_id: str, *, keep: str | None = None) -> int:
        return self._run(_SQL.delete_user_sessions, (user_id, keep or "")).rowcount

    # -- audit ------------------------------------------------------------------------------

    def add_audit_events(self, events: Sequence[AuditEvent]) -> None:
        if len(events) == 1:
            self._run(_SQL.insert_audit, _AUDIT.encode(events[0]))
        else:
            self._run_many(_SQL.insert_audit, map(_AUDIT.encode, events))

    def list_audit_events(
        self, account_id: str, *, after: str | None, limit: int
    ) -> list[AuditEvent]:
        return self._page(_AUDIT, _SQL.audit, account_id, after, limit)

    # -- license keys -----------------------------------------------------------------------

    def add_license_key(self, key: LicenseKey) -> None:
        self._run(_SQL.insert_key, _KEYS.encode(key))

    def save_license_key(self, key: LicenseKey) -> None:
        self._replace(
            _SQL.update_key,
            _KEYS,
            key,
            ["id", "account_id", "value_hash"],
            "license_keys",
            "license key",
        )

    def get_license_key(self, key_id: str) -> LicenseKey | None:
        return self._one(_KEYS, _SQL.get_key, (key_id,))

    def find_license_key_by_value_hash(
        self, account_id: str, value_hash: bytes
    ) -> LicenseKey | None:
        return self._one(_KEYS, _SQL.key_by_value, (account_id, value_hash))

    def list_license_keys(
        self, account_id: str, *, after: str | None, limit: int
    ) -> list[LicenseKey]:
        return self._page(_KEYS, _SQL.keys, account_id, after, limit)

    # -- install invitations ----------------------------------------------------------------

    def add_install_invitations(self, invitations: Sequence[InstallInvitation]) -> None:
        encode = _INSTALL_INVITATIONS.encode
        self._run_many(_SQL.insert_install, map(encode, invitations))

    def save_install_invitation(self, invitation: InstallInvitation) -> None:
        self._replace(
            _SQL.update_install,
            _INSTALL_INVITATIONS,
            invitation,
            ["id", "account_id", "key_id", "email", "code_hash", "token_hash"],
            "install_invitations",
            "invitation to install",
        )

    def save_install_invitations(self, invitations: Sequence[InstallInvitation]) -> None:
        self._replace_many(
            _SQL.update_install,
            _INSTALL_INVITATIONS,
            invitations,
            ["id", "account_id", "key_id", "email", "code_hash", "token_hash"],
            "install_invitations",
            "invitation to install",
        )

    def get_install_invitation(self, invitation_id: str) -> InstallInvitation | None:
        return self._one(_INSTALL_INVITATIONS, _SQL.get_install, (invitation_id,))

    def get_install_invitations(self, invitation_ids: Sequence[str]) -> list[InstallInvitation]:
        return self._by_ids(_INSTALL_INVITATIONS, "install_invitations", invitation_ids)

    def find_install_invitation_by_code_hash(self, code_hash: bytes) -> InstallInvitation | None:
        return self._one(_INSTALL_INVITATIONS, _SQL.install_by_code, (code_hash,))

    def find_install_invitation_by_token_hash(self, token_hash: bytes) -> InstallInvitation | None:
        return self._one(_INSTALL_INVITATIONS, _SQL.install_by_token, (token_hash,))

    def list_install_invitations(
        self, key_id: str, *, after: str | None, limit: int
    ) -> list[InstallInvitation]:
        return self._page(_INSTALL_INVITATIONS, _SQL.installs, key_id, after, limit)

    # -- installations ----------------------------------------------------------------------

    def add_installation(self, installation: Installation) -> None:
        self._run(_SQL.insert_installation, _INSTALLATIONS.encode(installation))

    def save_installation(self, installation: Installation) -> None:
        self._replace(
            _SQL.update_installation,
            _INSTALLATIONS,
            installation,
            ["id", "account_id", "key_id", "computer_id"],
            "installations",
            "installation",
        )

    def get_installation(self, installation_id: str) -> Installation | None:
        return self._one(_INSTALLATIONS, _SQL.get_installation, (installation_id,))

    def find_installation(self, key_id: str, computer_id: str) -> Installation | None:
        return self._one(_INSTALLATIONS, _SQL.installation_by_computer, (key_id, computer_id))

    def find_installation_by_token_hash(self, token_hash: bytes) -> Installation | None:
        return self._one(_INSTALLATIONS, _SQL.installation_by_token, (token_hash,))

    def list_installations(
        self, key_id: str, *, after: str | None, limit: int
    ) -> list[Installation]:
        return self._page(_INSTALLATIONS, _SQL.installations, key_id, after, limit)

    # -- computer blocks --------------------------------------------------------------------

    def find_computer_blocks(self, account_id: str, computer_id: str) -> list[ComputerBlock]:
        return self._many(
            _BLOCKS,
            _SQL.computer_blocks,
            (account_id, f"{computer_id}\t", f"{computer_id}\n", computer_id),
        )

    def save_computer_block(self, block: ComputerBlock) -> None:
        self._run(_SQL.upsert_block, [*_BLOCKS.encode(block), block.sort_key])

    def delete_computer_block(self, account_id: str, computer_id: str, key_id: str | None) -> None:
        self._run(_SQL.delete_block, (account_id, f"{computer_id}\t{key_id or ''}"))

    def list_computer_blocks(
        self, account_id: str, *, after: str | None, limit: int
    ) -> list[ComputerBlock]:
        return self._page(_BLOCKS, _SQL.blocks, account_id, after, limit)

    # -- throttles --------------------------------------------------------------------------

    def get_throttle(self, key: str) -> Throttle | None:
        return self._one(_THROTTLES, _SQL.get_throttle, (key,))

    def save_throttle(self, throttle: Throttle) -> None:
        self._run(_SQL.upsert_throttle, _THROTTLES.encode(throttle))

    def delete_throttle(self, key: str) -> None:
        self._run(_SQL.delete_throttle, (key,))

    def delete_throttles_expired_before(self, moment: dt.datetime) -> int:
        return self._run(_SQL.delete_expired_throttles, (encode_datetime(moment),)).rowcount
