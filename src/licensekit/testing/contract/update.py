"""Updates: ``update`` sets values and adds amounts on every record of the keys it is given.

It changes exactly the records whose keys it names (a key given twice once, a key no record
has not at all, and no record it does not name, also where a key has several fields and
one of them is None) and returns how many it changed: 0 when it has nothing to set or add.
Every value comes back exactly, as after a save, and look-ups, counts and filtered listings
follow it; a later save of the record replaces it whole. An amount is added to the value
each record holds at that moment: updates and increments that run side by side lose no
addition. It may change neither a key nor a :attr:`~licensekit.storage.RecordKind.fixed`
field, and adds only whole numbers of at least 0 to the kind's number fields (those typed
``int``; not a bool, not an ``int | None``); any other call is a refused write, which ends
the transaction with nothing of it kept, as is a value another record holds in a unique set
(a :class:`~licensekit.exceptions.DuplicateKey`).

:class:`UpdateContract` checks all of it. Its three parts check one group of rules each and
can be run alone: what an update changes (:class:`UpdateChangesContract`), all or none and
nothing lost (:class:`UpdateAllOrNoneContract`), and what it refuses
(:class:`UpdateRefusalsContract`).
"""

from __future__ import annotations

from licensekit.testing.contract._update_all_or_none import UpdateAllOrNoneContract
from licensekit.testing.contract._update_changes import UpdateChangesContract
from licensekit.testing.contract._update_refusals import BAD_AMOUNTS as BAD_AMOUNTS
from licensekit.testing.contract._update_refusals import NOT_NUMBERS as NOT_NUMBERS
from licensekit.testing.contract._update_refusals import UpdateRefusalsContract
from licensekit.testing.contract._update_support import numbers as numbers
from licensekit.testing.contract._update_support import settable as settable

__all__ = [
    "UpdateAllOrNoneContract",
    "UpdateChangesContract",
    "UpdateContract",
    "UpdateRefusalsContract",
]


class UpdateContract(UpdateRefusalsContract, UpdateAllOrNoneContract, UpdateChangesContract):
    """``update``: many records changed alike by key, all or none, with nothing lost.

    Its tests are those of its three parts; pytest runs them from the last base: what an
    update changes, then all or none, then the refusals.
    """
