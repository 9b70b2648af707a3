"""The child process of test_sqlite_crash.py: invite a batch of recipients, reporting progress.

Usage: ``python _sqlite_crash_child.py DB_PATH SESSION_TOKEN ACCOUNT_ID KEY_ID PREFIX COUNT``

It invites COUNT recipients ``PREFIX-N@example.com`` with send=False and prints, each on its
own flushed line, the moments the parent may want to kill it at:

* ``ready``: about to call invite_installers;
* ``writing``: inside the transaction, the invitations about to be inserted;
* ``half``: SQLite has consumed half of the invitation rows of the batch insert;
* ``committed``: the transaction is over and invite_installers returned.

The markers are printed from wrappers around the store's own methods
(``SQLiteTransaction.add`` and ``SQLiteTransaction._run``); the store's code runs unchanged.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from licensekit.storage import INSTALL_INVITATIONS, RecordKind
from licensekit.stores._sqlite_transaction import SQLiteTransaction
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import make_licensekit


def say(marker: str) -> None:
    print(marker, flush=True)


def main(path: str, session: str, account_id: str, key_id: str, prefix: str, count: int) -> None:
    add = SQLiteTransaction.add
    run = SQLiteTransaction._run
    width = len(INSTALL_INVITATIONS.fields)
    progress = {"rows": 0, "half": False}

    def reporting_add(
        self: SQLiteTransaction, kind: RecordKind[Any], records: Sequence[Any]
    ) -> None:
        if kind is INSTALL_INVITATIONS:
            say("writing")
        add(self, kind, records)

    def reporting_run(self: SQLiteTransaction, sql: str, params: Sequence[Any], doing: str) -> Any:
        cursor = run(self, sql, params, doing)
        if sql.startswith("INSERT INTO install_invitations") and not progress["half"]:
            progress["rows"] += len(params) // width
            if progress["rows"] >= count // 2:  # this statement's rows took it past half
                progress["half"] = True
                say("half")
        return cursor

    SQLiteTransaction.add = reporting_add  # type: ignore[method-assign]
    SQLiteTransaction._run = reporting_run  # type: ignore[method-assign]

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
