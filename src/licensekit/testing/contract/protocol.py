# ruff: noqa: S101, D102
# Part of a test suite that ships with the library: its checks are plain asserts (pytest
# rewrites them), and its test methods are named for the rule they check.
"""The shape: the store declares this port's version and has every operation of it.

licensekit checks the same when it is given a store (with
:func:`~licensekit.storage.missing_operations`) and refuses an outdated or incomplete one
with :class:`~licensekit.exceptions.IncompatibleStore`; these tests say so sooner.
"""

from __future__ import annotations

from licensekit.storage import PROTOCOL_VERSION, Store, Transaction, missing_operations
from licensekit.testing.contract.base import ContractBase

__all__ = ["ProtocolContract"]


class ProtocolContract(ContractBase):
    """``protocol_version``, and every operation of ``Store`` and ``Transaction``."""

    def test_the_store_declares_this_protocol_version(self, store: Store) -> None:
        declared = getattr(store, "protocol_version", None)
        assert declared == PROTOCOL_VERSION, (
            f"the store declares protocol_version {declared!r}; this port is {PROTOCOL_VERSION}"
        )

    def test_the_store_and_its_transactions_have_every_operation(self, store: Store) -> None:
        with store.transaction() as tx:
            missing = missing_operations(store, tx)
            assert isinstance(tx, Transaction), "the transaction is not a Transaction"
        assert missing == [], f"the store lacks {', '.join(missing)}"
        assert isinstance(store, Store), "the store is not a Store"
