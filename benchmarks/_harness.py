"""Shared pieces of the benchmarks: timing, kits to measure, and the floors' raw tables.

PostgreSQL pieces (the server, schemas of one run, stores) import psycopg only when used, so
the SQLite workloads run where it is not installed.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from licensekit import LicenseKit, MemoryStore, PasswordHasher, Settings, SQLiteStore
from licensekit.clock import Clock
from licensekit.storage import Store
from licensekit.testing import RecordingMailer

if TYPE_CHECKING:
    import psycopg

    from licensekit.stores.postgres import PostgresStore

SECRET = secrets.token_bytes(32)
ADMIN = ("admin@example.com", "benchmark passphrase")


@dataclass
class Result:
    """One row of the table: licensekit beside its floor."""

    name: str
    label: str
    unit: str
    licensekit: float
    floor: float | None = None
    target: float | None = None
    lower_is_better: bool = True
    details: dict[str, object] = field(default_factory=dict)
    note: str = ""
    """Printed under the table (what a row alone cannot say)."""

    @property
    def ratio(self) -> float | None:
        if self.floor is None or self.floor == 0:
            return None
        return self.licensekit / self.floor

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        value = self.ratio if self.floor is not None else self.licensekit
        if value is None:
            return False
        return value <= self.target if self.lower_is_better else value >= self.target

    def as_json(self) -> dict[str, object]:
        return {
            "label": self.label,
            "unit": self.unit,
            "licensekit": self.licensekit,
            "floor": self.floor,
            "ratio": self.ratio,
            "target": self.target,
            "met": self.met,
            "lower_is_better": self.lower_is_better,
            **({"note": self.note} if self.note else {}),
            **self.details,
        }


def median_of(samples: list[float]) -> float:
    return statistics.median(samples)


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def interleaved(
    ours: Callable[[], float], floor: Callable[[], float], repeat: int
) -> tuple[float, float]:
    """Median seconds of *ours* and *floor*, run alternately so that noise hits both."""
    mine: list[float] = []
    base: list[float] = []
    for _ in range(repeat):
        mine.append(ours())
        base.append(floor())
    return median_of(mine), median_of(base)


def per_item(
    name: str,
    label: str,
    count: int,
    ours: Callable[[], float],
    floor: Callable[[], float],
    repeat: int,
    target: float | None = None,
) -> Result:
    """Median seconds of *ours* and *floor* (interleaved), reported per item in microseconds."""
    mine, base = interleaved(ours, floor, repeat)
    return Result(
        name,
        label,
        "us",
        mine / count * 1e6,
        base / count * 1e6,
        target=target,
        details={"count": count, "seconds": mine, "floor_seconds": base, "per_s": count / mine},
    )


def new_kit(
    store: Store | str | os.PathLike[str] | None = None,
    batch: int = 1000,
    clock: Clock | None = None,
) -> LicenseKit:
    """A kit with a recording mailer and a fast password hasher (log-in is not measured).

    It has no signer: activation and check-in hand out no certificate (signing is measured
    on its own).
    """
    return LicenseKit(
        MemoryStore() if store is None else store,
        RecordingMailer(),
        secret=SECRET,
        join_url="https://portal.example.com/join?token={token}",
        download_url="https://downloads.example.com/get?token={token}",
        password_hasher=PasswordHasher.insecure_fast(),
        # The hourly limits raised past every workload, so that a large batch or 10,000
        # activations of one key in a minute are measured, limit checks included.
        settings=Settings(
            max_batch_size=max(batch, 1),
            activations_per_key_per_hour=10**9,
            invitations_per_account_per_hour=10**9,
        ),
        clock=clock,
    )


def sqlite_store(path: Path, synchronous: str = "full") -> SQLiteStore:
    return SQLiteStore(path, synchronous=synchronous)  # type: ignore[arg-type]


@dataclass
class Licensing:
    """A kit with an administrator session, a business account and a license key."""

    kit: LicenseKit
    admin: str
    account_id: str
    key_id: str

    @property
    def mailer(self) -> RecordingMailer:
        mailer = self.kit.mailer
        assert isinstance(mailer, RecordingMailer)
        return mailer


def licensing(kit: LicenseKit, seats: int) -> Licensing:
    kit.register_user(*ADMIN, email_verified=True)
    admin = kit.log_in(*ADMIN)
    account = kit.create_business_account(admin, "Bench Corp")
    key = kit.add_license_key(
        admin, account.id, product="Bench", value="BENCH-0000-1111-2222", seats=max(seats, 1)
    )
    return Licensing(kit, admin.token, account.id, key.id)


def addresses(count: int, prefix: str = "installer") -> list[str]:
    return [f"{prefix}{n}@example.com" for n in range(count)]


def csv_text(emails: list[str]) -> str:
    return "email\n" + "".join(f"{e}\n" for e in emails)


# -- the floors' raw SQLite -----------------------------------------------------------------


def connect_raw(path: Path, synchronous: str) -> sqlite3.Connection:
    """A plain connection with the pragmas the store uses (WAL, the same synchronous)."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute(f"PRAGMA synchronous = {synchronous.upper()}")
    return connection


def licensekit_columns(table: str) -> list[str]:
    """The columns licensekit's SQLite store gives *table*, so floors write rows as wide."""
    with tempfile_dir() as folder:
        SQLiteStore(folder / "columns.db").close()
        connection = sqlite3.connect(folder / "columns.db")
        try:
            return [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
        finally:
            connection.close()


@contextmanager
def tempfile_dir() -> Iterator[Path]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="licensekit-bench-") as folder:
        yield Path(folder)


def create_table(
    connection: sqlite3.Connection,
    table: str,
    columns: list[str],
    indexes: list[str],
    key: str = "id",
) -> None:
    """*table* with *columns*, keyed by *key*, plus *indexes* (``"UNIQUE col"`` or ``"col"``)."""
    connection.execute(
        f"CREATE TABLE {table} ({', '.join(columns)}, PRIMARY KEY ({key})) WITHOUT ROWID"
    )
    for n, index in enumerate(indexes):
        unique = "UNIQUE" if index.startswith("UNIQUE ") else ""
        cols = index.removeprefix("UNIQUE ")
        connection.execute(f"CREATE {unique} INDEX {table}_{n} ON {table} ({cols})")


# -- PostgreSQL: the server, one schema per run, stores and raw connections ------------------

PG_DSN = os.environ.get("LICENSEKIT_BENCH_POSTGRES", "dbname=test")
"""The database the PostgreSQL workloads use (a libpq connection string or URI)."""


def postgres_unreachable() -> str | None:
    """Why the PostgreSQL workloads cannot run here, or None when they can."""
    try:
        import psycopg
        import psycopg_pool  # noqa: F401 - the store needs it
    except ImportError as e:
        return f"psycopg 3 and psycopg-pool are not installed ({e})"
    try:
        with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return f"PostgreSQL is not reachable at {PG_DSN!r} ({reason})"
    return None


def pg_connect(conninfo: str = PG_DSN) -> psycopg.Connection[Any]:
    """A plain autocommit connection: explicit BEGIN and COMMIT, one round trip each."""
    import psycopg

    return psycopg.connect(conninfo, autocommit=True)


def pg_conninfo(conninfo: str = PG_DSN, **params: str) -> str:
    """*conninfo* with *params* changed (``application_name``, ``host``, ``port``...)."""
    from psycopg.conninfo import make_conninfo

    return make_conninfo(conninfo, **params)


def quoted(schema: str) -> str:
    """*schema* as an SQL identifier (names made by :func:`pg_schema` need no escaping)."""
    return f'"{schema}"'


@contextmanager
def pg_schema() -> Iterator[str]:
    """The name of a fresh schema (``bench_<pid>_<hex>``), dropped with all it holds after."""
    name = f"bench_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        yield name
    finally:
        with pg_connect() as connection:
            connection.execute(f"DROP SCHEMA IF EXISTS {quoted(name)} CASCADE")


def postgres_store(schema: str, conninfo: str = PG_DSN) -> PostgresStore:
    """licensekit's PostgreSQL store on *schema* (created on open), with its defaults."""
    from licensekit.stores.postgres import PostgresStore

    return PostgresStore(conninfo, schema=schema)
