"""The storage contract: the pytest suite every :class:`~licensekit.storage.Store` must pass.

One module per capability of the port, each with one class of tests, so that an adapter
author can run and read one capability at a time:

=========================  ==========================================================
:mod:`.protocol`           the declared ``protocol_version`` and every operation
:mod:`.records`            every kind of record comes back exactly as written
:mod:`.writes`             ``add``, ``save``, ``put``, ``delete``, ``delete_expired``,
                           and the writes a store must refuse
:mod:`.lookups`            ``read`` by key, unique set and index, in bulk, exactly
:mod:`.paging`             ``page``: code point order, None first, ``after``, ``limit``
:mod:`.filters`            ``page`` with ``where``: filters, derived values, ranges
:mod:`.counts`             ``count``
:mod:`.increment`          the atomic, bounded ``increment``, also under threads
:mod:`.update`             ``update``: many records changed alike by key, nothing lost
:mod:`.transactions`       commit, rollback, isolation, no use after the block
:mod:`.scopes`             ``lock``: transactions on a common scope do not interleave
:mod:`.text`               the text range every text field holds
:mod:`.durability`         what survives closing and reopening (with ``reopen_store``)
:mod:`.usecases`           the real use cases on the store, end to end
=========================  ==========================================================

An adapter author subclasses :class:`StoreContract` (all of them) or one capability class
in a test module, under a name that starts with ``Test``, and implements
:meth:`~licensekit.testing.contract.base.ContractBase.make_store`::

    from licensekit.storage import Store
    from licensekit.testing.contract import StoreContract
    from licensekit.testing.contract.paging import PagingContract

    class TestMyStore(StoreContract):
        def make_store(self) -> Store:
            return MyStore(self.tmp_path / "licensekit.db")

        def reopen_store(self, store: Store) -> Store | None:  # optional
            store.close()
            return MyStore(self.tmp_path / "licensekit.db")

    class TestMyStorePaging(PagingContract):  # one capability, while working on it
        def make_store(self) -> Store:
            return MyStore(self.tmp_path / "licensekit.db")

An async store (:class:`~licensekit.storage.AsyncStore`) subclasses
:class:`AsyncStoreContract` instead and implements ``make_async_store``: the same tests
run through a :class:`~licensekit.testing.BlockingStore`.

The tests are generic over the record kinds of :data:`licensekit.storage.KINDS`; the
records they write come from :mod:`.samples`. The suite expects only licensekit's
exceptions (:class:`~licensekit.exceptions.StorageError` and its subclasses), never a
driver's.

This package imports pytest and is meant to be imported from test modules only;
:mod:`licensekit.testing` does not import it. Call
``pytest.register_assert_rewrite("licensekit.testing.contract")`` in your ``conftest.py``,
before anything imports the suite, for pytest's detailed assertion messages.
"""

from __future__ import annotations

from licensekit.testing.contract.base import ContractBase
from licensekit.testing.contract.counts import CountsContract
from licensekit.testing.contract.durability import DurabilityContract
from licensekit.testing.contract.filters import FiltersContract
from licensekit.testing.contract.increment import IncrementContract
from licensekit.testing.contract.lookups import LookupsContract
from licensekit.testing.contract.paging import PagingContract
from licensekit.testing.contract.protocol import ProtocolContract
from licensekit.testing.contract.records import RecordsContract
from licensekit.testing.contract.scopes import ScopesContract
from licensekit.testing.contract.text import TextContract
from licensekit.testing.contract.transactions import TransactionsContract
from licensekit.testing.contract.update import UpdateContract
from licensekit.testing.contract.usecases import UseCasesContract
from licensekit.testing.contract.writes import WritesContract

__all__ = [
    "CAPABILITIES",
    "AsyncStoreContract",
    "ContractBase",
    "CountsContract",
    "DurabilityContract",
    "FiltersContract",
    "IncrementContract",
    "LookupsContract",
    "PagingContract",
    "ProtocolContract",
    "RecordsContract",
    "ScopesContract",
    "StoreContract",
    "TextContract",
    "TransactionsContract",
    "UpdateContract",
    "UseCasesContract",
    "WritesContract",
]


class StoreContract(
    UseCasesContract,
    DurabilityContract,
    TextContract,
    ScopesContract,
    TransactionsContract,
    UpdateContract,
    IncrementContract,
    CountsContract,
    FiltersContract,
    PagingContract,
    LookupsContract,
    WritesContract,
    RecordsContract,
    ProtocolContract,
):
    """The whole storage contract: every capability class in one.

    Subclass it as ``Test...`` and implement
    :meth:`~licensekit.testing.contract.base.ContractBase.make_store` (and, for a store that
    can be closed and opened again, ``reopen_store``). A test that does not apply to a store
    can be overridden in the subclass, for example marked ``skip`` with the reason.
    """


CAPABILITIES: tuple[type[ContractBase], ...] = StoreContract.__bases__[::-1]
"""Every capability class, in the order :class:`StoreContract` runs them.

pytest collects the tests of a class's bases from the last one, so the bases of
:class:`StoreContract` are listed the other way round.
"""

# Last: it builds on StoreContract.
from licensekit.testing.contract.asynchronous import AsyncStoreContract  # noqa: E402
