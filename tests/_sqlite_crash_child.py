"""The child process of test_sqlite_crash.py: invite a batch of recipients, reporting progress.

Usage: ``python _sqlite_crash_child.py DB_PATH SESSION_TOKEN ACCOUNT_ID KEY_ID PREFIX COUNT``

It invites COUNT recipients ``PREFIX-N@example.com`` with send=False and prints, each on its
own flushed line, the moments the parent may want to kill it at:

* ``ready``: about to call invite_installers;
* ``writing``: inside the transaction, the invitations about to be inserted;
* ``half``: SQLite has consumed half of the invitation rows of the batch insert;
* ``committed``: the transaction is over and invite_installers returned.

The markers are printed from wrappers around the store's own methods; the store's code runs
unchanged (the rows reach ``executemany`` through a generator instead of a list).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from licensekit.model import InstallInvitation
from licensekit.stores import sqlite as sqlite_store
from licensekit.stores.sqlite import SQLiteStore, _SQLiteTransaction
from licensekit.testing import make_licensekit


def say(marker: str) -> None:
    print(marker, flush=True)


def main(path: str, session: str, account_id: str, key_id: str, prefix: str, count: int) -> None:
    add_install_invitations = _SQLiteTransaction.add_install_invitations
    run_many = _SQLiteTransaction._run_many

    def reporting_add(self: _SQLiteTransaction, invitations: Sequence[InstallInvitation]) -> None:
        say("writing")
        add_install_invitations(self, invitations)

    def reporting_run_many(
        self: _SQLiteTransaction, sql: str, rows: Iterable[list[Any]], expect: int | None = None
    ) -> bool:
        if sql != sqlite_store._SQL.insert_install:
            return run_many(self, sql, rows, expect)
        rows = list(rows)

        def feed() -> Iterator[list[Any]]:
            for n, row in enumerate(rows):
                if n == len(rows) // 2:
                    say("half")
                yield row

        return run_many(self, sql, feed(), expect)

    _SQLiteTransaction.add_install_invitations = reporting_add  # type: ignore[method-assign]
    _SQLiteTransaction._run_many = reporting_run_many  # type: ignore[method-assign]

    kit = make_licensekit(store=SQLiteStore(path))
    emails = [f"{prefix}-{n}@example.com" for n in range(count)]
    say("ready")
    batch = kit.invite_installers(session, account_id, key_id, emails, send=False)
    say("committed")
    assert len(batch.invited) == count
    kit.close()


if __name__ == "__main__":
    path, session, account_id, key_id, prefix, count = sys.argv[1:]
    main(path, session, account_id, key_id, prefix, int(count))
