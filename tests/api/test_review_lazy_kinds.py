"""What an outsider tries on the storage kinds made on first look-up, and on the memory store's
tables made with its first transaction: threads, star imports, dir(), pickling, closing.

The first look-up must happen in a fresh interpreter, so those checks run in a subprocess.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
import threading
from typing import Any

import pytest

from licensekit import storage
from licensekit.exceptions import StorageError
from licensekit.stores.memory import MemoryStore

NAMES = [
    "USERS",
    "ACCOUNTS",
    "MEMBERSHIPS",
    "JOIN_INVITATIONS",
    "SESSIONS",
    "AUDIT_EVENTS",
    "THROTTLES",
    "LICENSE_KEYS",
    "INSTALL_INVITATIONS",
    "INSTALLATIONS",
    "CULLING_KEYS",
    "COMPUTER_BLOCKS",
    "KINDS",
]


def run(code: str, timeout: float = 120) -> str:
    done = subprocess.run(  # noqa: S603 - this interpreter, with the code above
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_threads_looking_up_the_kinds_first_at_once_get_the_same_objects() -> None:
    out = run(
        """
        import sys, threading
        import licensekit.storage as storage
        assert "licensekit.domain.records" not in sys.modules
        names = NAMES
        barrier = threading.Barrier(16)
        seen = []
        def look(n):
            barrier.wait()
            order = [names[(n + i) % len(names)] for i in range(len(names))]
            seen.append({name: id(getattr(storage, name)) for name in order})
        threads = [threading.Thread(target=look, args=(n,)) for n in range(16)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(len(seen), all(s == seen[0] for s in seen))
        """.replace("NAMES", repr(NAMES))
    )
    assert out.split() == ["16", "True"]


def test_a_star_import_and_dir_give_every_kind() -> None:
    out = run(
        """
        import licensekit.storage as storage
        assert "USERS" in dir(storage) and "KINDS" in dir(storage)
        namespace = {}
        exec("from licensekit.storage import *", namespace)
        print(sorted(n for n in namespace if n.isupper() and n in NAMES))
        print(namespace["KINDS"] is storage.KINDS, len(namespace["KINDS"]))
        """.replace("NAMES", repr(NAMES))
    )
    names, same = out.splitlines()
    assert names == repr(sorted(NAMES))
    assert same == "True 12"


def test_a_name_that_is_no_kind_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NOT_A_KIND"):
        storage.NOT_A_KIND  # noqa: B018
    assert not hasattr(storage, "__path__")
    assert not hasattr(storage, "__wrapped__")


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_kinds_pickle_and_come_back_equal(protocol: int) -> None:
    for kind in storage.KINDS:
        again = pickle.loads(pickle.dumps(kind, protocol))  # noqa: S301 - its own bytes
        assert again == kind
        assert again.type is kind.type


def test_a_look_up_made_while_the_kinds_are_described_fails_instead_of_hanging() -> None:
    """A re-entrant look-up (a record module that reads a kind as it is imported)."""
    out = run(
        """
        import sys, types
        import licensekit.storage as storage
        real = storage._describe_kinds
        def describe():
            try:
                storage.USERS
            except ImportError as e:
                print("refused:", type(e).__name__)
            except RecursionError:
                print("refused: recursion")
            return real()
        storage._describe_kinds = describe
        print(storage.USERS.name)
        """,
        timeout=60,  # a lock that is not re-entrant waits here for ever
    )
    lines = out.splitlines()
    assert lines[-1] == "users"


def test_concurrent_first_transactions_make_one_set_of_tables() -> None:
    store = MemoryStore()
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []
    tables: list[Any] = []

    def first() -> None:
        barrier.wait()
        try:
            with store.transaction() as tx:
                tx.read([storage.Query(storage.USERS, ("id",), (("usr_x",),))])
                tables.append(tx._table(storage.USERS))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=first) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len({id(t) for t in tables}) == 1


def test_a_rollback_before_any_table_exists_and_a_closed_store() -> None:
    store = MemoryStore()
    with pytest.raises(RuntimeError), store.transaction():
        raise RuntimeError("before any record")
    assert store.dump() == []
    assert repr(store) == "MemoryStore()"
    with store.transaction() as tx:
        assert tx.read([storage.Query(storage.USERS, ("id",), (("usr_x",),))]) == [[]]
    store.close()
    assert store.dump() == []
    with pytest.raises(StorageError, match="closed"), store.transaction():
        pass  # pragma: no cover - refused on entry
    store.close()  # closing twice is harmless
