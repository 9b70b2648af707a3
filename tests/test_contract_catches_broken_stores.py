"""The storage contract suite can fail: it catches stores with one deliberate defect each.

Each broken store is a MemoryStore with one rule broken, the way an adapter could get it
wrong (a missing unique index, a write outside the transaction, a cursor ignored, a LIKE
'prefix%' look-up, no locking...). The contract runs against it in a child pytest session
and must fail exactly the tests about that rule, while the intact MemoryStore passes all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import pytest

# Rewritten asserts for the suite, and imported once here: child sessions then reuse the
# module instead of importing it (and everything it imports) afresh each time.
pytest.register_assert_rewrite("licensekit.testing.contract")
import licensekit.testing.contract  # noqa: E402, F401

pytest_plugins = ["pytester"]

BROKEN_STORES = '''
import datetime as dt
import time
from contextlib import contextmanager

import attrs

from licensekit.exceptions import DuplicateKey
from licensekit.stores.memory import MemoryStore, _MemoryTransaction, _page
from licensekit.testing.contract import StoreContract


class PatchedStore(MemoryStore):
    """A MemoryStore whose transactions are of a (broken) subclass of its own."""

    transaction_class = _MemoryTransaction

    @contextmanager
    def transaction(self):
        with super().transaction() as tx:
            tx.__class__ = self.transaction_class
            yield tx


def broken(transaction_class):
    name = transaction_class.__name__
    return type(name, (PatchedStore,), {"transaction_class": transaction_class})


class AcceptsDuplicateEmails(_MemoryTransaction):
    def add_user(self, user):
        t = self._check()
        if user.id in t.users:
            raise DuplicateKey(f"a user with id {user.id!r} already exists")
        self._set(t.users, user.id, user)
        self._set(t.user_by_email, user.email, user.id)


class WritesThrottlesOutsideTheTransaction(_MemoryTransaction):
    def save_throttle(self, throttle):
        self._check().throttles[throttle.key] = throttle

    def delete_throttle(self, key):
        self._check().throttles.pop(key, None)


class ListsInstallationsFromTheStartAlways(_MemoryTransaction):
    def list_installations(self, key_id, *, after, limit):
        return super().list_installations(key_id, after=None, limit=limit)


class ListsLicenseKeysOfEveryAccount(_MemoryTransaction):
    def list_license_keys(self, account_id, *, after, limit):
        t = self._check()
        return [t.keys[i] for i in _page(sorted(t.keys), after, limit)]


class FindsBlocksByPrefix(_MemoryTransaction):
    def find_computer_blocks(self, account_id, computer_id):
        t = self._check()
        keys = t.account_blocks.get(account_id, [])
        return [t.blocks[(account_id, k)] for k in keys if k.startswith(computer_id)]


class KeepsTheOldInstallationToken(_MemoryTransaction):
    def save_installation(self, installation):
        old = self._check().installations.get(installation.id)
        if old is None:
            return super().save_installation(installation)
        super().save_installation(attrs.evolve(installation, token_hash=old.token_hash))
        self._set(self._t.installations, installation.id, installation)


class KeepsSessionsExpiringAtTheMoment(_MemoryTransaction):
    def delete_sessions_expired_before(self, moment):
        return super().delete_sessions_expired_before(moment - dt.timedelta(microseconds=1))


class ReturnsUsersInAnotherTimezone(_MemoryTransaction):
    def get_user(self, user_id):
        user = super().get_user(user_id)
        if user is None:
            return None
        plus_one = dt.timezone(dt.timedelta(hours=1))
        return attrs.evolve(user, created_at=user.created_at.astimezone(plus_one))


class Unlocked(MemoryStore):
    """Transactions that take no lock: they interleave freely between threads."""

    @contextmanager
    def transaction(self):
        tx = _MemoryTransaction(self._tables)
        try:
            yield tx
        except BaseException:
            tx._rollback()
            raise
        finally:
            tx._done = True


def reopen_on_the_same_tables(store):
    """What reopening a file does: a new store object over the data the old one held."""
    reopened = MemoryStore()
    reopened._tables = store._tables
    store.close()
    return reopened


def reopen_empty(store):
    store.close()
    return MemoryStore()


def cannot_reopen(store):
    return None
'''

CONTRACT = """
class TestContract(StoreContract):
    def make_store(self):
        return {store}

    def reopen_store(self, store):
        return {reopen}(store)
"""


class Case(NamedTuple):
    """A defective store and what the contract must say about it."""

    store: str
    """The expression that makes the store, in the module BROKEN_STORES."""
    area: str
    """A ``-k`` expression over test names: the part of the suite about the defect."""
    failures: set[str]
    """The tests of that area that must fail; the others must pass."""
    reopen: str = "cannot_reopen"
    """How the store is reopened, for the persistence tests."""


CASES = {
    "reopening loses the data": Case(
        "MemoryStore()",
        "reopening",
        {"test_committed_records_survive_reopening", "test_rules_still_hold_after_reopening"},
        reopen="reopen_empty",
    ),
    "add_user accepts a used email": Case(
        "broken(AcceptsDuplicateEmails)()",
        "unique_key or user",
        {"test_a_unique_key_clash_raises_duplicate_key_and_changes_nothing[add_user same email]"},
    ),
    "throttles are written outside the transaction": Case(
        "broken(WritesThrottlesOutsideTheTransaction)()",
        "transaction or roll or throttle",
        {
            "test_an_exception_rolls_back_every_write_and_propagates_unchanged",
            "test_an_unfinished_transaction_is_invisible_to_other_threads[rollback]",
            "test_rolled_back_and_deleted_records_stay_gone_after_reopening",
        },
        reopen="reopen_on_the_same_tables",
    ),
    "list_installations ignores after": Case(
        "broken(ListsInstallationsFromTheStartAlways)()",
        "listing",
        {
            f"{test}[list_installations]"
            for test in (
                "test_listing_after_is_strictly_greater",
                "test_listing_returns_at_most_limit_records",
                "test_listing_pages_concatenate_to_the_whole",
                "test_listing_pages_stay_stable_while_records_are_added",
            )
        },
    ),
    "list_license_keys lists every account's keys": Case(
        "broken(ListsLicenseKeysOfEveryAccount)()",
        "listing",
        {
            "test_listing_is_ascending_and_limited_to_its_scope[list_license_keys]",
            "test_listing_orders_licensekit_ids_as_they_were_made[list_license_keys]",
        },
    ),
    "find_computer_blocks matches a prefix of the computer id": Case(
        "broken(FindsBlocksByPrefix)()",
        "block",
        {
            "test_find_computer_blocks_returns_one_computers_blocks_in_sort_key_order",
            "test_delete_computer_block_lifts_exactly_one_block",
        },
    ),
    "save_installation keeps the old token's index": Case(
        "broken(KeepsTheOldInstallationToken)()",
        "installation or token",
        {
            "test_save_installation_replaces_it_and_moves_its_token",
            "test_a_unique_key_clash_raises_duplicate_key_and_changes_nothing"
            "[save_installation to another installation's token_hash]",
        },
    ),
    "delete_sessions_expired_before spares the moment itself": Case(
        "broken(KeepsSessionsExpiringAtTheMoment)()",
        "delete or session",
        {"test_delete_sessions_expired_before_includes_the_moment"},
    ),
    "users come back in another timezone": Case(
        "broken(ReturnsUsersInAnotherTimezone)()",
        "round_trip",
        {"test_round_trip_users"},
    ),
    "transactions take no lock": Case(
        "Unlocked()",
        "concurrent or transaction or nest or closed",
        {
            "test_an_unfinished_transaction_is_invisible_to_other_threads[commit]",
            "test_an_unfinished_transaction_is_invisible_to_other_threads[rollback]",
            "test_transactions_do_not_nest",
            "test_a_closed_store_refuses_transactions",
            "test_concurrent_read_modify_writes_lose_no_update[throttle failures]",
            "test_concurrent_read_modify_writes_lose_no_update[license key seats_used]",
            "test_concurrent_check_then_write_is_serialised",
            "test_concurrent_activations_never_oversell_seats",
        },
    ),
}


def run_contract(
    pytester: pytest.Pytester, store: str, reopen: str, *options: str
) -> tuple[set[str], set[str], int]:
    """Run the contract suite in a child session on *store*, with pytest *options*.

    Returns:
        The names of the tests that failed and passed, and how many were skipped. A failure
        in set-up or tear-down counts as a failure of its test.
    """
    contract = CONTRACT.format(store=store, reopen=reopen)
    pytester.makepyfile(test_broken_stores=BROKEN_STORES + contract)
    recorder = pytester.inline_run(
        "-p",
        "no:licensekit",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:cov",
        "-p",
        "no:hypothesispytest",
        *options,
    )
    passed, skipped, failed = recorder.listoutcomes()

    def names(reports: Sequence[pytest.TestReport | pytest.CollectReport]) -> set[str]:
        return {r.nodeid.rsplit("::", 1)[-1] for r in reports}

    assert len(names(failed)) == len(failed), "a test failed twice (in its call and tear-down)"
    return names(failed), names(passed), len(skipped)


def test_the_intact_memory_store_passes_every_contract_test_including_persistence(
    pytester: pytest.Pytester,
) -> None:
    failed, passed, skipped = run_contract(pytester, "MemoryStore()", "reopen_on_the_same_tables")
    assert failed == set()
    assert skipped == 0
    assert len(passed) > 100
    assert "test_committed_records_survive_reopening" in passed


def test_without_reopen_store_the_persistence_tests_are_skipped(
    pytester: pytest.Pytester,
) -> None:
    failed, passed, skipped = run_contract(
        pytester, "MemoryStore()", "cannot_reopen", "-k", "reopen"
    )
    assert (failed, passed, skipped) == (set(), set(), 3)


@pytest.mark.parametrize("defect", list(CASES))
def test_a_broken_store_fails_exactly_the_tests_about_its_defect(
    pytester: pytest.Pytester, defect: str
) -> None:
    case = CASES[defect]
    failed, passed, _ = run_contract(pytester, case.store, case.reopen, "-k", case.area)
    assert failed == case.failures
    assert passed, "the area has tests the defect does not touch; they must pass"
