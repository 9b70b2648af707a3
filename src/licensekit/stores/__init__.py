"""Storage adapters shipped with licensekit, one module per technology.

* :class:`~licensekit.stores.memory.MemoryStore`: in process memory, for tests and embedding;
* :class:`~licensekit.stores.sqlite.SQLiteStore`: one SQLite file, the embedded default
  (imported on first use, so that hosts on another store never load :mod:`sqlite3`).
"""

from typing import TYPE_CHECKING

from licensekit.stores.memory import MemoryStore

if TYPE_CHECKING:
    from licensekit.stores.sqlite import SQLiteStore

__all__ = ["MemoryStore", "SQLiteStore"]


def __getattr__(name: str) -> object:
    if name == "SQLiteStore":
        from licensekit.stores.sqlite import SQLiteStore

        return SQLiteStore
    raise AttributeError(f"module 'licensekit.stores' has no attribute {name!r}")
