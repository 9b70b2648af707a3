# ruff: noqa: S608 - the SQL names only schemas these tests made
"""The PostgreSQL server going away and coming back, as the store's client sees it.

The stores of these tests reach the server through a loopback TCP proxy
(:class:`_tcp_proxy.TcpProxy`): stopping the proxy is the server going down (every
connection closed, new ones refused), starting it again on the same port is the server back.
The machine's real server, which other test processes share, keeps running; one test at the
end really restarts it, when asked to.

What must hold: while the server is away, a use case fails with a licensekit
:class:`~licensekit.exceptions.StorageError` (never a driver's exception) whose message says
what happened; a transaction the outage cuts keeps nothing; and once the server is back, the
same store (not reopened) serves the next call.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from _postgres import DSN, drop_schema, new_schema
from _tcp_proxy import TcpProxy
from licensekit._usecases._runner import ATTEMPTS
from licensekit.exceptions import StorageBusy, StorageError
from licensekit.storage import USERS, Query
from licensekit.stores.postgres import PostgresStore
from licensekit.testing import TEST_PASSWORD, make_business_account, make_licensekit
from licensekit.testing.contract.samples import Samples

EMAILS = [f"user{n}@example.com" for n in range(5)]


@pytest.fixture
def schema() -> Iterator[str]:
    name = new_schema("outage")
    yield name
    drop_schema(name)


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    with TcpProxy() as started:
        yield started


def _count(schema: str, table: str) -> int:
    """How many rows *table* holds, read past the proxy (on the server itself)."""
    with psycopg.connect(DSN, autocommit=True) as connection:
        row = connection.execute(f'SELECT count(*) FROM "{schema}".{table}').fetchone()
    assert row is not None
    return int(row[0])


def _is_licensekits(error: BaseException) -> bool:
    """Whether *error* is one of licensekit's storage errors, not a driver's exception."""
    return (
        isinstance(error, StorageError)
        and not isinstance(error, psycopg.Error)
        and type(error).__module__ == "licensekit.exceptions"
    )


def test_a_use_case_during_an_outage_fails_clearly_and_the_next_one_after_it_succeeds(
    schema: str, proxy: TcpProxy
) -> None:
    store = PostgresStore(proxy.conninfo(), schema=schema, connect_timeout=1.0)
    kit = make_licensekit(store=store)
    try:
        admin, account = make_business_account(kit)
        key = kit.add_license_key(admin, account.id, product="Suite", value="K-1", seats=9)
        invitations_before = _count(schema, "install_invitations")

        proxy.stop()
        with pytest.raises(StorageError) as caught:
            kit.invite_installers(admin, account.id, key.id, EMAILS)
        error = caught.value
        assert _is_licensekits(error), repr(error)
        message = str(error)
        assert "PostgreSQL" in message, message
        assert f"port={proxy.port}" in message, message  # where the store looked for it
        assert "unreachable" in message or "lost" in message, message
        assert "password" not in message
        assert kit.mailer.sent == []  # nothing was stored, so nothing was sent
        assert _count(schema, "install_invitations") == invitations_before

        proxy.start()
        batch = kit.invite_installers(admin, account.id, key.id, EMAILS)
        assert kit.store is store  # the same store, not reopened
        assert sorted(v.email for v in batch.invited) == EMAILS
        assert sorted(m.to for m in kit.mailer.sent) == EMAILS
        assert _count(schema, "install_invitations") == invitations_before + len(EMAILS)
    finally:
        kit.close()


def test_a_restart_between_two_calls_costs_one_retry_on_a_fresh_connection(
    schema: str, proxy: TcpProxy
) -> None:
    """Every idle connection of the pool dies unnoticed. The next call's first attempt meets
    one (StorageBusy), the store drops it and checks the others, and the runner's next
    attempt gets a fresh one: with as many dead connections as attempts, only that check
    lets the call succeed."""
    store = PostgresStore(proxy.conninfo(), schema=schema, min_size=ATTEMPTS, connect_timeout=5.0)
    kit = make_licensekit(store=store)
    try:
        admin, _ = make_business_account(kit)
        assert proxy.connections >= ATTEMPTS  # the pool's idle connections, all through it
        proxy.stop()
        proxy.start()  # the server restarted between two calls
        assert proxy.connections == 0
        account = kit.create_business_account(admin, "After the restart")
        assert [a.account_id for a in kit.list_my_accounts(admin)].count(account.id) == 1
        assert kit.store is store
    finally:
        kit.close()


@pytest.mark.parametrize("when", ["before the commit", "at the commit"])
def test_a_transaction_the_outage_cuts_keeps_nothing(
    schema: str, proxy: TcpProxy, when: str
) -> None:
    store = PostgresStore(proxy.conninfo(), schema=schema, connect_timeout=5.0)
    samples = Samples()
    users = [samples.bare(USERS, f"cut {n}") for n in range(2)]
    try:

        def cut() -> None:
            with store.transaction() as tx:
                tx.add(USERS, [users[0]])
                # A read: the first write has reached the server and been run there.
                assert tx.read([Query(USERS, ("id",), ((users[0].id,),))]) == [[users[0]]]
                tx.add(USERS, [users[1]])
                proxy.stop()
                if when == "before the commit":
                    tx.read([Query(USERS, ("id",), ((users[1].id,),))])

        with pytest.raises(StorageError, match="connection to PostgreSQL was lost") as caught:
            cut()
        assert _is_licensekits(caught.value), repr(caught.value)
        if when == "before the commit":
            assert isinstance(caught.value, StorageBusy)  # the runner would try again
        assert _count(schema, "users") == 0  # neither write was kept

        proxy.start()
        with store.transaction() as tx:  # the same store, not reopened
            tx.add(USERS, users)
        assert _count(schema, "users") == 2
    finally:
        store.close()


def test_after_an_outage_of_seconds_the_first_call_once_the_server_is_back_succeeds(
    schema: str, proxy: TcpProxy
) -> None:
    """The store's promise: once the server is back, it works again without being reopened.

    A call that failed during the outage left the pool reconnecting in the background on
    psycopg_pool's backoff: 1, 2, 4, 8... seconds between attempts (up to its
    ``reconnect_timeout`` of five minutes), and no later call starts an attempt sooner. The
    server here comes back 4.5 s after it went away, between the attempts at about 3 s and
    7 s after the first failure; the first call after it has the runner's attempts (3 x 0.25
    s) to be served, which the server, up by then, could serve at once.
    """
    store = PostgresStore(proxy.conninfo(), schema=schema, connect_timeout=0.25)
    kit = make_licensekit(store=store)
    try:
        kit.register_user("before@example.com", TEST_PASSWORD)
        proxy.stop()
        down = time.monotonic()
        with pytest.raises(StorageBusy):
            kit.register_user("during@example.com", TEST_PASSWORD)
        time.sleep(max(0.0, down + 4.5 - time.monotonic()))  # the outage lasts 4.5 s
        proxy.start()
        kit.register_user("after@example.com", TEST_PASSWORD)
    finally:
        kit.close()


def _restart_the_server() -> None:
    versions = sorted(os.listdir("/etc/postgresql"))
    assert len(versions) == 1, versions
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[0], "main", "restart"]
    subprocess.run(command, check=True, timeout=120, capture_output=True)  # noqa: S603


@pytest.mark.skipif(
    os.environ.get("LICENSEKIT_TEST_PG_RESTART") != "1",
    reason="restarts the machine's PostgreSQL server; set LICENSEKIT_TEST_PG_RESTART=1",
)
@pytest.mark.skipif(not Path("/etc/postgresql").is_dir(), reason="no pg_ctlcluster cluster")
def test_a_real_restart_of_the_server(schema: str) -> None:
    """The same, with the real server restarted by ``pg_ctlcluster ... restart``.

    Skipped unless ``LICENSEKIT_TEST_PG_RESTART=1``: the restart cuts every connection of
    every process on the machine's server, the other test processes sharing it included,
    and it needs the right to run ``pg_ctlcluster`` (root or the cluster's owner).
    """
    store = PostgresStore(DSN, schema=schema, min_size=ATTEMPTS, connect_timeout=5.0)
    kit = make_licensekit(store=store)
    user = Samples().bare(USERS, "cut by the restart")
    errors: list[BaseException] = []
    restarted = threading.Event()

    def meanwhile() -> None:  # calls through the restart: each succeeds or fails clearly
        n = 0
        while not restarted.is_set():
            n += 1
            try:
                kit.register_user(f"meanwhile{n}@example.com", TEST_PASSWORD)
            except Exception as e:
                errors.append(e)
            time.sleep(0.05)

    def cut() -> None:  # a transaction open across the restart
        with store.transaction() as tx:
            tx.add(USERS, [user])
            assert tx.read([Query(USERS, ("id",), ((user.id,),))]) == [[user]]
            caller.start()
            try:
                _restart_the_server()
            finally:
                restarted.set()
                caller.join(timeout=60)
            tx.read([Query(USERS, ("id",), ((user.id,),))])

    caller = threading.Thread(target=meanwhile)
    try:
        admin, _ = make_business_account(kit)
        with pytest.raises(StorageError, match="connection to PostgreSQL was lost") as caught:
            cut()
        assert _is_licensekits(caught.value), repr(caught.value)
        assert all(_is_licensekits(e) for e in errors), errors

        account = kit.create_business_account(admin, "After the restart")  # not reopened
        assert [a.account_id for a in kit.list_my_accounts(admin)].count(account.id) == 1
        with psycopg.connect(DSN, autocommit=True) as connection:
            kept = connection.execute(
                f'SELECT count(*) FROM "{schema}".users WHERE id = %s', [user.id]
            ).fetchone()
        assert kept == (0,)
    finally:
        kit.close()
