"""Storage adapters shipped with licensekit, one module per technology."""

from licensekit.stores.memory import MemoryStore

__all__ = ["MemoryStore"]
