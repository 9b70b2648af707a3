"""The PostgreSQL store's pipelined transactions: writes sent late, refused all the same.

A transaction keeps its connection in pipeline mode: ``BEGIN`` rides with the first read,
locks with the reads after them, and writes with the next read or with the ``COMMIT``. These
tests check that a write refused that late still keeps nothing, says why, and leaves the
store working; and they count the round trips of an activation, which the pipelining is for.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import attrs
import psycopg
import pytest

from _postgres import DSN, drop_schema, new_schema
from licensekit.exceptions import DuplicateKey, StorageError
from licensekit.storage import SESSIONS, USERS, Query
from licensekit.stores.postgres import PostgresStore
from licensekit.testing import make_business_account, make_licensekit
from licensekit.testing.contract.samples import Samples


@pytest.fixture
def store() -> Iterator[PostgresStore]:
    schema = new_schema("pipeline")
    opened = PostgresStore(DSN, schema=schema, max_size=2)
    yield opened
    opened.close()
    drop_schema(schema)


def _users(store: PostgresStore, *ids: str) -> list[list[object]]:
    with store.transaction() as tx:
        return tx.read([Query(USERS, ("id",), tuple((i,) for i in ids))])


@pytest.mark.parametrize("pause", [0.0, 0.2], ids=["answer after the commit", "answer before"])
def test_a_save_of_a_missing_record_refused_at_the_commit_keeps_nothing(
    store: PostgresStore, pause: float
) -> None:
    samples = Samples()
    kept, missing = samples.bare(USERS, "kept"), samples.bare(USERS, "missing")

    def add_then_save_the_missing() -> None:
        with store.transaction() as tx:
            tx.add(USERS, [kept])
            tx.save(USERS, [missing])  # the last call: sent with the COMMIT...
            time.sleep(pause)  # ...or refused already when the COMMIT is queued

    with pytest.raises(StorageError, match="none of the users has the key") as refused:
        add_then_save_the_missing()
    assert not isinstance(refused.value, DuplicateKey)
    assert store.dump() == []  # the add before it was not kept either
    with store.transaction() as tx:  # the same connections serve the next transaction
        tx.add(USERS, [kept])
    assert _users(store, kept.id) == [[kept]]


def test_a_save_changing_a_fixed_field_is_reported_by_the_next_read(
    store: PostgresStore,
) -> None:
    samples = Samples()
    owner, other = samples.bare(USERS, "owner"), samples.bare(USERS, "other")
    session = samples.bare(SESSIONS, "session", {"user_id": owner.id})
    with store.transaction() as tx:
        tx.add(USERS, [owner, other])
        tx.add(SESSIONS, [session])
    moved = attrs.evolve(session, user_id=other.id)

    def move_the_session() -> None:
        with store.transaction() as tx:
            tx.add(USERS, [samples.bare(USERS, "added meanwhile")])
            tx.save(SESSIONS, [moved])  # queued...
            tx.read([Query(USERS, ("id",), ((owner.id,),))])  # ...and refused here

    with pytest.raises(StorageError, match="may not change the user_id"):
        move_the_session()
    assert sorted(store.dump(), key=repr) == sorted([owner, other, session], key=repr)


def test_a_refused_save_whose_answer_arrives_during_a_later_call_is_reported_there(
    store: PostgresStore,
) -> None:
    """In pipeline mode a call that only queues also takes the answers already in."""
    samples = Samples()
    owner, other = samples.bare(USERS, "owner"), samples.bare(USERS, "other")
    session = samples.bare(SESSIONS, "session", {"user_id": owner.id})
    with store.transaction() as tx:
        tx.add(USERS, [owner, other])
        tx.add(SESSIONS, [session])
    moved = attrs.evolve(session, user_id=other.id)

    def save_then_queue_more() -> None:
        with store.transaction() as tx:
            tx.read([Query(USERS, ("id",), ((owner.id,),))])
            tx.save(SESSIONS, [moved])
            time.sleep(0.2)  # the refusal is back before the next call
            for n in range(20):  # each execute reads what has arrived
                tx.add(USERS, [samples.bare(USERS, f"late {n}")])

    with pytest.raises(StorageError, match="may not change the user_id"):
        save_then_queue_more()
    assert sorted(store.dump(), key=repr) == sorted([owner, other, session], key=repr)
    with store.transaction() as tx:  # the connection came back clean
        tx.add(USERS, [samples.bare(USERS, "after")])


def test_a_clash_of_a_queued_add_is_a_duplicate_key_at_the_commit(store: PostgresStore) -> None:
    user = Samples().bare(USERS, "twice")
    with store.transaction() as tx:
        tx.add(USERS, [user])
    with pytest.raises(DuplicateKey, match="users_key"), store.transaction() as tx:
        tx.add(USERS, [attrs.evolve(user, email="another@example.com")])
    assert store.dump() == [user]
    assert _users(store, user.id) == [[user]]


def test_a_refused_write_ends_the_transaction_for_every_later_call(store: PostgresStore) -> None:
    user = Samples().bare(USERS, "once")
    with store.transaction() as tx:
        tx.add(USERS, [user])
    lookup = [Query(USERS, ("id",), ((user.id,),))]

    def read_on_after_the_clash() -> None:
        with store.transaction() as tx:
            tx.add(USERS, [user])
            with pytest.raises(DuplicateKey):
                tx.read(lookup)  # the add's clash shows here
            tx.read(lookup)  # and nothing runs after it

    with pytest.raises(StorageError, match="refused"):
        read_on_after_the_clash()


def test_an_activation_takes_four_round_trips(
    store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Code look-up (with BEGIN); locks and every read; the seat; the writes and COMMIT."""
    kit = make_licensekit(store=store)
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="Pipe", value="PIPE-1", seats=5)
    kit.invite_installers(admin, account.id, key.id, ["a@example.com", "b@example.com"])
    first, second = (m.data["code"] for m in kit.mailer.messages())
    kit.activate(code=first, computer_id="warm-up")  # statements prepared, pool warm

    trips: list[str] = []
    sync, leave = psycopg.Pipeline.sync, psycopg.Pipeline.__exit__

    def counted_sync(pipeline: psycopg.Pipeline) -> None:
        trips.append("sync")
        sync(pipeline)

    def counted_exit(pipeline: psycopg.Pipeline, *args: object) -> None:
        trips.append("end")
        leave(pipeline, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(psycopg.Pipeline, "sync", counted_sync)
    monkeypatch.setattr(psycopg.Pipeline, "__exit__", counted_exit)
    result = kit.activate(code=second, computer_id="counted")
    monkeypatch.undo()
    assert result.key_id == key.id
    assert trips == ["sync", "sync", "sync", "end"]
