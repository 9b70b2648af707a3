"""Shared pieces of the benchmarks: timing, kits to measure, and the floors' raw tables."""

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

from licensekit import LicenseKit, MemoryStore, PasswordHasher, Settings, SQLiteStore
from licensekit.storage import Store
from licensekit.testing import RecordingMailer

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
        return value is not None and value <= self.target

    def as_json(self) -> dict[str, object]:
        return {
            "label": self.label,
            "unit": self.unit,
            "licensekit": self.licensekit,
            "floor": self.floor,
            "ratio": self.ratio,
            "target": self.target,
            "met": self.met,
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


def new_kit(store: Store | str | os.PathLike[str] | None = None, batch: int = 1000) -> LicenseKit:
    """A kit with a recording mailer and a fast password hasher (log-in is not measured)."""
    return LicenseKit(
        MemoryStore() if store is None else store,
        RecordingMailer(),
        secret=SECRET,
        join_url="https://portal.example.com/join?token={token}",
        download_url="https://downloads.example.com/get?token={token}",
        password_hasher=PasswordHasher.insecure_fast(),
        settings=Settings(max_batch_size=max(batch, 1)),
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
    connection: sqlite3.Connection, table: str, columns: list[str], indexes: list[str]
) -> None:
    """*table* with *columns*, keyed by ``id``, plus *indexes* (``"UNIQUE col"`` or ``"col"``)."""
    connection.execute(
        f"CREATE TABLE {table} ({', '.join(columns)}, PRIMARY KEY (id)) WITHOUT ROWID"
    )
    for n, index in enumerate(indexes):
        unique = "UNIQUE" if index.startswith("UNIQUE ") else ""
        cols = index.removeprefix("UNIQUE ")
        connection.execute(f"CREATE {unique} INDEX {table}_{n} ON {table} ({cols})")
