"""``account_and_user``: a business account and a user read in one look-up, with the same
errors, in the same order, as :func:`account` then :func:`user` raise them."""

from __future__ import annotations

import pytest

from licensekit import AccountNotFound, MemoryStore, UserNotFound
from licensekit._usecases._access import account, account_and_user, user
from licensekit._usecases._tx import Tx
from licensekit.testing import make_business_account, make_licensekit


@pytest.fixture
def named() -> tuple[MemoryStore, str, str]:
    store = MemoryStore()
    kit = make_licensekit(store=store)
    admin, business = make_business_account(kit)
    return store, business.id, admin.user_id


def test_both_found_as_each_alone(named: tuple[MemoryStore, str, str]) -> None:
    store, account_id, user_id = named
    with store.transaction() as port:
        tx = Tx(port)
        both = account_and_user(tx, account_id, user_id)
        assert both == (account(tx, account_id), user(tx, user_id))


@pytest.mark.parametrize("account_id", ["acc_missing", 7, None, "x" * 1000])
def test_a_missing_account_is_told_first(
    named: tuple[MemoryStore, str, str], account_id: object
) -> None:
    store, _, _ = named
    with store.transaction() as port, pytest.raises(AccountNotFound):
        account_and_user(Tx(port), account_id, "usr_missing")  # type: ignore[arg-type]


@pytest.mark.parametrize("user_id", ["usr_missing", 7, None])
def test_a_missing_user(named: tuple[MemoryStore, str, str], user_id: object) -> None:
    store, account_id, _ = named
    with store.transaction() as port, pytest.raises(UserNotFound):
        account_and_user(Tx(port), account_id, user_id)  # type: ignore[arg-type]
