"""Commits that need not be durable (``transaction(durable=False)``), store by store.

* SQLite (``synchronous="full"``): such a transaction runs with ``PRAGMA synchronous =
  NORMAL``, set before its ``BEGIN``; the next durable one on the same connection is FULL
  again; a ``"normal"`` store changes nothing. Counted with ``strace`` (where it can trace
  a child process): inviting one member makes exactly one disk sync, and two with a store
  that cannot relax its commits, so the count is not an accident of the tracing. A process
  killed right after such a commit has it on reopening.
* PostgreSQL: such a transaction has ``synchronous_commit`` off, for itself only.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from _postgres import DSN, drop_schema, new_schema
from licensekit.model import DeliveryStatus
from licensekit.storage import JOIN_INVITATIONS, USERS, Query, takes_durable
from licensekit.stores._pg_transaction import PostgresTransaction
from licensekit.stores._sqlite_transaction import SQLiteTransaction
from licensekit.stores.postgres import AsyncPostgresStore, PostgresStore
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing.contract.samples import Samples

SRC = Path(__file__).resolve().parents[2] / "src"

# == SQLite ===================================================================================


def _level(tx: object) -> int:
    """The ``PRAGMA synchronous`` a SQLite transaction commits with (2 FULL, 1 NORMAL)."""
    assert isinstance(tx, SQLiteTransaction)
    return int(tx._connection.execute("PRAGMA synchronous").fetchone()[0])


def test_sqlite_relaxes_only_the_transaction_that_asks(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "full.db")
    try:
        assert takes_durable(store)
        with store.transaction() as tx:
            assert _level(tx) == 2
        with store.transaction(durable=False) as tx:
            assert _level(tx) == 1
        with store.transaction(durable=False) as tx:
            assert _level(tx) == 1
        with store.transaction() as tx:
            assert _level(tx) == 2, "a durable transaction ran on a relaxed connection"
    finally:
        store.close()


def test_a_relaxed_transaction_that_fails_leaves_the_next_durable_one_full(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "full.db")
    try:

        def fail() -> None:
            with store.transaction(durable=False) as tx:
                assert _level(tx) == 1
                raise ZeroDivisionError

        with pytest.raises(ZeroDivisionError):
            fail()
        with store.transaction() as tx:
            assert _level(tx) == 2
    finally:
        store.close()


def test_a_normal_sqlite_store_stays_normal(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "normal.db", synchronous="normal")
    try:
        for durable in (True, False, True):
            with store.transaction(durable=durable) as tx:
                assert _level(tx) == 1
    finally:
        store.close()


_CHILD = textwrap.dedent(
    """
    import os, sys
    from contextlib import contextmanager
    from licensekit.stores.sqlite import SQLiteStore
    from licensekit.testing import make_business_account, make_licensekit

    path, mode, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = SQLiteStore(path)

    class Old:
        '''A store written before the keyword: it commits every transaction durably.'''

        protocol_version = store.protocol_version

        @contextmanager
        def transaction(self):
            with store.transaction() as tx:
                yield tx

        def close(self):
            store.close()

    kit = make_licensekit(store=Old() if mode == "old" else store)
    admin, account = make_business_account(kit)
    kit.invite_members(admin, account.id, ["warm@example.com"])
    os.write(2, b"<<counting>>\\n")
    for n in range(calls):
        kit.invite_members(admin, account.id, [f"one{n}@example.com"])
    os.write(2, b"<<done>>\\n")
    kit.close()
    """
)


def _syncs(tmp_path: Path, mode: str, calls: int) -> int:
    """Disk syncs (fsync, fdatasync...) of *calls* one-member invitations, in a traced child."""
    trace = tmp_path / f"{mode}.strace"
    database = tmp_path / f"{mode}.db"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(  # noqa: S603 - strace and this interpreter, on our own script
        [
            shutil.which("strace") or "strace",
            "-f",
            "-o",
            str(trace),
            "-e",
            "trace=fsync,fdatasync,sync_file_range,syncfs,sync,write",
            sys.executable,
            "-c",
            _CHILD,
            str(database),
            mode,
            str(calls),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if done.returncode != 0 and "ptrace" in done.stderr.lower():
        pytest.skip(f"strace cannot trace here: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stderr
    lines = trace.read_text().splitlines()
    start = next(n for n, line in enumerate(lines) if "<<counting>>" in line)
    end = next(n for n, line in enumerate(lines) if "<<done>>" in line)
    sync = re.compile(r"\b(fsync|fdatasync|sync_file_range|syncfs|sync)\(")
    return sum(1 for line in lines[start:end] if sync.search(line))


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
@pytest.mark.skipif(sys.platform != "linux", reason="strace is Linux's")
def test_inviting_one_member_syncs_the_disk_once_on_a_full_sqlite_store(tmp_path: Path) -> None:
    calls = 3
    assert _syncs(tmp_path, "new", calls) == calls
    # The same calls on a store that cannot relax: two syncs each (the count is real).
    assert _syncs(tmp_path, "old", calls) == 2 * calls


def test_a_relaxed_commit_survives_the_process_being_killed(tmp_path: Path) -> None:
    if not hasattr(signal, "SIGKILL"):
        pytest.skip("needs SIGKILL")
    database = tmp_path / "killed.db"
    child = textwrap.dedent(
        """
        import os, signal, sys
        from licensekit.storage import USERS
        from licensekit.stores.sqlite import SQLiteStore
        from licensekit.testing.contract.samples import Samples

        store = SQLiteStore(sys.argv[1])
        user = Samples("killed").bare(USERS, "relaxed")
        with store.transaction(durable=False) as tx:
            tx.add(USERS, [user])
        print(user.id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(  # noqa: S603 - this interpreter, on our own script
        [sys.executable, "-c", child, str(database)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    user_id = done.stdout.strip()
    store = SQLiteStore(database)
    try:
        with store.transaction() as tx:
            (found,) = tx.read([Query(USERS, ("id",), ((user_id,),))])
        assert [u.id for u in found] == [user_id]
        assert store.integrity_check() == []
    finally:
        store.close()


# == PostgreSQL ===============================================================================


@pytest.fixture
def schema() -> Iterator[str]:
    name = new_schema("durable")
    yield name
    drop_schema(name)


def _synchronous_commit(tx: object) -> str:
    assert isinstance(tx, PostgresTransaction)
    return str(tx._fetch("SHOW synchronous_commit", ())[0][0])


def test_postgres_turns_synchronous_commit_off_for_that_transaction_only(schema: str) -> None:
    store = PostgresStore(DSN, schema=schema, min_size=1, max_size=1)
    try:
        with store.transaction() as tx:
            default = _synchronous_commit(tx)
        assert default != "off", "the server commits asynchronously already: nothing to test"
        samples = Samples("durable")
        user = samples.bare(USERS, "relaxed")
        with store.transaction(durable=False) as tx:
            assert _synchronous_commit(tx) == "off"
            tx.add(USERS, [user])
        with store.transaction() as tx:  # the same connection (a pool of one)
            assert _synchronous_commit(tx) == default
            (found,) = tx.read([Query(USERS, ("id",), ((user.id,),))])
        assert found == [user]
    finally:
        store.close()


def test_async_postgres_turns_synchronous_commit_off_for_that_transaction_only(
    schema: str,
) -> None:
    async def levels() -> list[str]:
        seen = []
        async with AsyncPostgresStore(DSN, schema=schema, min_size=1, max_size=1) as store:
            for durable in (False, True):
                async with store.transaction(durable=durable) as tx:
                    rows = await tx._fetch("SHOW synchronous_commit", ())  # type: ignore[attr-defined]
                    seen.append(str(rows[0][0]))
        return seen

    relaxed, durable = asyncio.run(levels())
    assert (relaxed, durable != "off") == ("off", True)


def test_the_join_invitation_kept_by_a_relaxed_commit_reads_as_sent(tmp_path: Path) -> None:
    """End to end on a SQLite file: what the relaxed bookkeeping wrote is there to read."""
    from licensekit.testing import make_business_account, make_licensekit

    kit = make_licensekit(store=SQLiteStore(tmp_path / "kit.db"))
    admin, account = make_business_account(kit)
    (invited,) = kit.invite_members(admin, account.id, ["one@example.com"]).invited
    kit.close()
    store = SQLiteStore(tmp_path / "kit.db")
    try:
        with store.transaction() as tx:
            (found,) = tx.read([Query(JOIN_INVITATIONS, ("id",), ((invited.id,),))])
        assert [(i.delivery, i.sent_count) for i in found] == [(DeliveryStatus.SENT, 1)]
    finally:
        store.close()
