"""Narrow saves: the SQLite store writes only the changed columns of records read earlier.

``SQLiteTransaction.save`` of a record this transaction read (or saved) before is an
``UPDATE`` of the columns whose values differ, and nothing at all for a record saved
unchanged; any other record rewrites its whole row. The statements are read from the
connection's trace callback (SQLite hands it each statement with its values written in).
Whatever the path, the file must then hold what a save of whole rows leaves: the memory
store (the port's reference) and the same SQLite store with nothing remembered (every save
a whole row) run the same sequences, and everything they hold is compared.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from licensekit.exceptions import DuplicateKey, StorageError
from licensekit.storage import (
    COMPUTER_BLOCKS,
    INSTALL_INVITATIONS,
    KINDS,
    LICENSE_KEYS,
    THROTTLES,
    USERS,
    Query,
    RecordKind,
    Store,
)
from licensekit.stores._sql import BY_NAME
from licensekit.stores._sqlite_known import KNOWN_RECORDS as _KNOWN_RECORDS
from licensekit.stores._sqlite_transaction import SQLiteTransaction
from licensekit.stores.memory import MemoryStore
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing.contract._support import differences, fetch, prepare, read_back, write
from licensekit.testing.contract.samples import REFERENCES, Samples, field_types

# -- reading the statements ---------------------------------------------------------------------

_LITERAL = r"'(?:[^']|'')*'|[xX]'[0-9A-Fa-f]*'|NULL|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_ASSIGNMENT = re.compile(rf"(\w+) = (?:{_LITERAL}|v\.column[0-9]+)(, |(?= (?:WHERE|FROM) ))")
_UPDATE = re.compile(r"UPDATE (\w+) SET ")


def assigned(sql: str) -> tuple[str, tuple[str, ...]] | None:
    """The table and the columns an ``UPDATE`` (values written in) sets; None for others."""
    head = _UPDATE.match(sql)
    if head is None:
        return None
    columns: list[str] = []
    position = head.end()
    while True:
        assignment = _ASSIGNMENT.match(sql, position)
        assert assignment is not None, f"cannot read the assignments of {sql!r}"
        columns.append(assignment.group(1))
        position = assignment.end()
        if not assignment.group(2):
            return head.group(1), tuple(columns)


@contextlib.contextmanager
def updates(tx: SQLiteTransaction) -> Iterator[list[tuple[str, tuple[str, ...]]]]:
    """Each ``UPDATE`` the transaction's connection runs meanwhile: its table and columns."""
    statements: list[str] = []
    found: list[tuple[str, tuple[str, ...]]] = []
    tx._connection.set_trace_callback(statements.append)
    try:
        yield found
    finally:
        tx._connection.set_trace_callback(None)
        found += [a for a in map(assigned, statements) if a is not None]


def test_the_statements_are_read_as_sqlite_writes_them() -> None:
    """The reader of the trace itself: literals holding what looks like SQL, blobs, NULL."""
    sql = (
        "UPDATE users SET name = 'a, b = ''c'' WHERE', password_hash = NULL, n = -3 WHERE id = 'x'"
    )
    assert assigned(sql) == ("users", ("name", "password_hash", "n"))
    assert assigned("UPDATE t SET h = X'00ff', e = 1.5e-3 WHERE k = 1") == ("t", ("h", "e"))
    many = "UPDATE t SET a = v.column2, b = v.column3 FROM (VALUES (1, 2, 3)) AS v WHERE t.k = 1"
    assert assigned(many) == ("t", ("a", "b"))
    assert assigned("SELECT 1") is None


# -- records ------------------------------------------------------------------------------------


def writable(kind: RecordKind[Any]) -> tuple[str, ...]:
    """The columns a save of *kind* may change, in the store's order (a whole row's)."""
    return BY_NAME[kind.name].writable


def other_value(samples: Samples, kind: RecordKind[Any], record: Any, field: str) -> Any:
    """A value of *field* that *record* does not hold and the schema accepts on its own."""
    current = getattr(record, field)
    if field_types(kind)[field] is int:
        return current + 1  # within every bound the schema checks
    candidates = [
        samples.full(kind, "other"),
        samples.full(kind, "other", side=1),
        samples.bare(kind, "other"),
        *samples.variants(kind, "other"),
    ]
    values = [getattr(c, field) for c in candidates]
    if REFERENCES[kind].get(field) is USERS:
        values += [samples.admin.id, samples.member.id]
    elif isinstance(current, str) and field not in REFERENCES[kind]:
        values.append(f"{current} (other)")
    elif isinstance(current, dt.datetime):
        values.append(current + dt.timedelta(seconds=1))
    value = next((v for v in values if v != current), None)
    assert value is not None, f"the samples hold one value of {kind.name}.{field} only"
    return value


def assert_holds(store: Store, kind: RecordKind[Any], records: Sequence[Any], what: str) -> None:
    """Assert that *store* holds exactly *records* (values and types)."""
    for record, found in zip(records, fetch(store, kind, records), strict=True):
        problems = differences(found, record)
        assert not problems, f"{what}: {kind.name} {kind.key_of(record)!r}: {problems}"


@pytest.fixture
def samples(store: SQLiteStore) -> Samples:
    """Sample records, their world committed to the store."""
    made = Samples()
    write(store, made, made.world())
    return made


def stored(store: Store, samples: Samples, kind: RecordKind[Any], *records: Any) -> None:
    """Commit *records* of *kind* (and what they refer to)."""
    write(store, samples, [(kind, r) for r in records])


_SETTABLE = [
    (kind, field)
    for kind in KINDS
    for field in kind.fields
    if field not in kind.key and field not in kind.fixed
]


def _id(item: Any) -> str:
    return item.name if isinstance(item, RecordKind) else str(item)


# -- what is written ----------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "field"), _SETTABLE, ids=_id)
def test_a_record_read_then_changed_in_one_field_is_an_update_of_that_column_alone(
    store: SQLiteStore, samples: Samples, kind: RecordKind[Any], field: str
) -> None:
    record = samples.bare(kind, "read")
    changed = attrs.evolve(record, **{field: other_value(samples, kind, record, field)})
    stored(store, samples, kind, record)
    prepare(store, samples, [(kind, changed)])
    with store.transaction() as tx:
        read_back(tx, kind, [record])
        with updates(tx) as written:
            tx.save(kind, [changed])
    assert written == [(kind.name, (field,))]
    assert_holds(store, kind, [changed], f"{field} changed after a read")


def test_several_fields_changed_are_one_update_of_those_columns(
    store: SQLiteStore, samples: Samples
) -> None:
    kind = INSTALL_INVITATIONS
    record = samples.bare(kind, "read")
    stored(store, samples, kind, record)
    changed = attrs.evolve(
        record,
        delivery_error="421 try later",
        sent_count=1,
        last_sent_at=record.created_at + dt.timedelta(minutes=5),
        computer_ids=("pc-1",),
    )
    with store.transaction() as tx:
        read_back(tx, kind, [record])
        with updates(tx) as written:
            tx.save(kind, [changed])
    expected = tuple(
        c
        for c in writable(kind)
        if c in {"delivery_error", "sent_count", "last_sent_at", "computer_ids"}
    )
    assert written == [(kind.name, expected)]
    assert_holds(store, kind, [changed], "four fields changed after a read")


def test_records_changed_alike_are_saved_by_one_statement_shape(
    store: SQLiteStore, samples: Samples
) -> None:
    """A batch changed in the same columns: one ``UPDATE`` of them, whatever the values."""
    kind = THROTTLES
    records = [samples.bare(kind, f"t{n}") for n in range(5)]
    stored(store, samples, kind, *records)
    changed = [attrs.evolve(r, failures=r.failures + n) for n, r in enumerate(records, 1)]
    with store.transaction() as tx:
        read_back(tx, kind, records)
        with updates(tx) as written:
            tx.save(kind, changed)
    assert set(written) == {(kind.name, ("failures",))}
    assert_holds(store, kind, changed, "a batch changed alike")


def test_a_record_saved_unchanged_after_a_read_writes_nothing(
    store: SQLiteStore, samples: Samples
) -> None:
    kind = INSTALL_INVITATIONS
    record = samples.full(kind, "read")
    stored(store, samples, kind, record)
    with store.transaction() as tx:
        (read,) = read_back(tx, kind, [record])
        with updates(tx) as written:
            tx.save(kind, [read])
            tx.save(kind, [attrs.evolve(read)])  # equal, another object
    assert written == []
    assert_holds(store, kind, [record], "saved unchanged")


def test_a_second_save_writes_what_changed_since_the_first(
    store: SQLiteStore, samples: Samples
) -> None:
    kind = USERS
    record = samples.bare(kind, "twice")
    stored(store, samples, kind, record)
    first = attrs.evolve(record, name="First")
    second = attrs.evolve(first, email_verified_at=record.created_at)
    with store.transaction() as tx:
        read_back(tx, kind, [record])
        with updates(tx) as written:
            tx.save(kind, [first])
            tx.save(kind, [second])
            tx.save(kind, [second])
    assert written == [(kind.name, ("name",)), (kind.name, ("email_verified_at",))]
    assert_holds(store, kind, [second], "saved twice")


def test_a_record_not_read_in_the_transaction_is_saved_whole(
    store: SQLiteStore, samples: Samples
) -> None:
    kind = USERS
    record, other = samples.bare(kind, "unread"), samples.bare(kind, "read")
    stored(store, samples, kind, record, other)
    with store.transaction() as tx:
        read_back(tx, kind, [record])
    with store.transaction() as tx:  # what an earlier transaction read is not known here
        read_back(tx, kind, [other])
        with updates(tx) as written:
            tx.save(kind, [attrs.evolve(record, name="Whole")])
    assert written == [(kind.name, writable(kind))]
    assert_holds(store, kind, [attrs.evolve(record, name="Whole")], "saved without a read")


def test_a_record_whose_key_holds_none_is_saved_narrowly(
    store: SQLiteStore, samples: Samples
) -> None:
    """A nullable key field keeps None as a sentinel: the narrow ``UPDATE`` finds it too."""
    kind = COMPUTER_BLOCKS
    records = [samples.bare(kind, "none"), samples.full(kind, "some")]
    assert [r.key_id is None for r in records] == [True, False]
    stored(store, samples, kind, *records)
    changed = [attrs.evolve(r, notes=f"changed {n}") for n, r in enumerate(records)]
    with store.transaction() as tx:
        read_back(tx, kind, records)
        with updates(tx) as written:
            tx.save(kind, changed)
    assert written == [(kind.name, ("notes",))] * 2
    assert_holds(store, kind, changed, "a block saved after a read")


# -- what the file holds, against whole-row saves ---------------------------------------------


def _both(
    store: SQLiteStore, samples: Samples, kind: RecordKind[Any], records: Sequence[Any]
) -> MemoryStore:
    """A memory store holding what *store* holds of *samples*' world and *records*."""
    memory = MemoryStore()
    write(memory, samples, [*samples.world(), *((kind, r) for r in records)])
    return memory


def _same_in_both(
    run: Callable[[Store], None], store: SQLiteStore, memory: MemoryStore
) -> type[BaseException] | None:
    """Run *run* on each store; assert both raise the same (or nothing); return it."""
    outcomes: list[type[BaseException] | None] = []
    for each in (store, memory):
        try:
            run(each)
        except StorageError as e:
            outcomes.append(type(e))
        else:
            outcomes.append(None)
    assert outcomes[0] is outcomes[1], f"SQLite raised {outcomes[0]}, memory {outcomes[1]}"
    return outcomes[0]


def test_a_save_of_a_record_read_before_an_increment_writes_it_whole(
    store: SQLiteStore, samples: Samples
) -> None:
    """The increment is overwritten, as a save of whole rows (and the memory store) does."""
    kind = LICENSE_KEYS
    record = samples.bare(kind, "counted")
    stored(store, samples, kind, record)
    memory = _both(store, samples, kind, [record])
    saved = attrs.evolve(record, product="Renamed")

    def run(each: Store) -> None:
        with each.transaction() as tx:
            read_back(tx, kind, [record])
            assert tx.increment(kind, kind.key_of(record), "seats_used", 1, cap="seats")
            if isinstance(tx, SQLiteTransaction):
                with updates(tx) as written:
                    tx.save(kind, [saved])
                assert written == [(kind.name, writable(kind))], "not a whole row"
            else:
                tx.save(kind, [saved])

    assert _same_in_both(run, store, memory) is None
    assert saved.seats_used == 0
    assert_holds(store, kind, [saved], "saved after an increment")
    assert_holds(memory, kind, [saved], "saved after an increment, memory")


def test_a_record_read_again_after_an_increment_keeps_it(
    store: SQLiteStore, samples: Samples
) -> None:
    kind = LICENSE_KEYS
    record = samples.bare(kind, "counted")
    stored(store, samples, kind, record)
    with store.transaction() as tx:
        read_back(tx, kind, [record])
        assert tx.increment(kind, kind.key_of(record), "seats_used", 1, cap="seats")
        (fresh,) = read_back(tx, kind, [record])
        with updates(tx) as written:
            tx.save(kind, [attrs.evolve(fresh, product="Renamed")])
    assert written == [(kind.name, ("product",))]
    assert_holds(store, kind, [attrs.evolve(record, product="Renamed", seats_used=1)], "kept")


def test_a_save_of_a_record_read_before_an_update_writes_it_whole(
    store: SQLiteStore, samples: Samples
) -> None:
    kind = INSTALL_INVITATIONS
    record = samples.bare(kind, "updated")
    stored(store, samples, kind, record)
    memory = _both(store, samples, kind, [record])
    saved = attrs.evolve(record, delivery_error="saved")

    def run(each: Store) -> None:
        with each.transaction() as tx:
            read_back(tx, kind, [record])
            assert (
                tx.update(
                    kind, [kind.key_of(record)], {"delivery_error": "x"}, add={"sent_count": 2}
                )
                == 1
            )
            tx.save(kind, [saved])

    assert _same_in_both(run, store, memory) is None
    assert_holds(store, kind, [saved], "saved after an update")
    assert_holds(memory, kind, [saved], "saved after an update, memory")


def test_a_record_read_then_deleted_is_refused_as_a_save_of_a_missing_record(
    store: SQLiteStore, samples: Samples
) -> None:
    kind = USERS
    record, other = samples.bare(kind, "gone"), samples.bare(kind, "other")
    stored(store, samples, kind, record, other)
    memory = _both(store, samples, kind, [record, other])

    def run(each: Store) -> None:
        with each.transaction() as tx:
            (read, _) = read_back(tx, kind, [record, other])
            tx.save(kind, [attrs.evolve(other, name="Kept?")])
            assert tx.delete(kind, [kind.key_of(record)]) == 1
            tx.save(kind, [attrs.evolve(read, name="Back")])

    assert _same_in_both(run, store, memory) is StorageError
    assert_holds(store, kind, [record, other], "after a refused save of a deleted record")


@pytest.mark.parametrize("then", ["save", "put"])
def test_a_record_read_deleted_and_written_unchanged_is_refused_or_put_back(
    store: SQLiteStore, samples: Samples, then: str
) -> None:
    """Unchanged since its read, but deleted since: a save is refused, a put inserts it."""
    kind = USERS
    record = samples.bare(kind, "gone")
    stored(store, samples, kind, record)
    memory = _both(store, samples, kind, [record])

    def run(each: Store) -> None:
        with each.transaction() as tx:
            (read,) = read_back(tx, kind, [record])
            assert tx.delete(kind, [kind.key_of(record)]) == 1
            getattr(tx, then)(kind, [read])
            assert read_back(tx, kind, [record]) == [record], f"{then} after a delete"

    expected = StorageError if then == "save" else None
    assert _same_in_both(run, store, memory) is expected
    assert_holds(store, kind, [record], f"{then} of a deleted record")


def test_a_record_read_then_put_in_a_batch_with_one_not_read_is_saved_as_given(
    store: SQLiteStore, samples: Samples
) -> None:
    """A put that rewrote whole rows (one of its records was not read) leaves no stale copy."""
    kind = USERS
    record, unread = samples.bare(kind, "read"), samples.bare(kind, "unread")
    stored(store, samples, kind, record)
    memory = _both(store, samples, kind, [record])
    put = attrs.evolve(record, name="Put")

    def run(each: Store) -> None:
        with each.transaction() as tx:
            (read,) = read_back(tx, kind, [record])
            tx.put(kind, [put, unread])
            tx.save(kind, [read])  # as read: the put's name is replaced again

    assert _same_in_both(run, store, memory) is None
    assert_holds(store, kind, [record, unread], "saved as read after a put")
    assert_holds(memory, kind, [record, unread], "saved as read after a put, memory")


def test_a_record_read_then_deleted_as_expired_is_refused_as_a_save_of_a_missing_record(
    store: SQLiteStore, samples: Samples
) -> None:
    kind = THROTTLES
    assert kind.expires is not None
    record = samples.bare(kind, "expired", {kind.expires: dt.datetime(1850, 1, 1, tzinfo=dt.UTC)})
    stored(store, samples, kind, record)
    memory = _both(store, samples, kind, [record])

    def run(each: Store) -> None:
        with each.transaction() as tx:
            (read,) = read_back(tx, kind, [record])
            assert tx.delete_expired(kind, dt.datetime(1851, 1, 1, tzinfo=dt.UTC)) >= 1
            tx.save(kind, [read])

    assert _same_in_both(run, store, memory) is StorageError
    assert_holds(store, kind, [record], "after a refused save of an expired record")


def test_a_record_read_then_put_is_saved_as_given(store: SQLiteStore, samples: Samples) -> None:
    kind = USERS
    record = samples.bare(kind, "put")
    stored(store, samples, kind, record)
    memory = _both(store, samples, kind, [record])
    put = attrs.evolve(record, name="Put", password_hash="$argon2id$put")
    saved = attrs.evolve(record, name="Saved")  # from the record read before the put

    def run(each: Store) -> None:
        with each.transaction() as tx:
            read_back(tx, kind, [record])
            tx.put(kind, [put])
            tx.save(kind, [saved])

    assert _same_in_both(run, store, memory) is None
    assert_holds(store, kind, [saved], "saved after a put")
    assert_holds(memory, kind, [saved], "saved after a put, memory")


@pytest.mark.parametrize(("kind", "field"), [(k, f) for k in KINDS for f in k.fixed], ids=_id)
def test_a_changed_fixed_field_is_refused_after_a_read(
    store: SQLiteStore, samples: Samples, kind: RecordKind[Any], field: str
) -> None:
    record = samples.full(kind, "fixed")
    stored(store, samples, kind, record)
    value = other_value(samples, kind, record, field)
    moved = attrs.evolve(record, **{field: value})

    def attempt() -> None:
        with store.transaction() as tx:
            read_back(tx, kind, [record])
            tx.save(kind, [moved])

    with pytest.raises(StorageError):
        attempt()
    assert_holds(store, kind, [record], f"a save refused for its {field}")


def test_the_same_key_twice_in_one_save_leaves_the_last(
    store: SQLiteStore, samples: Samples
) -> None:
    kind = USERS
    record = samples.bare(kind, "twice")
    stored(store, samples, kind, record)
    memory = _both(store, samples, kind, [record])
    first = attrs.evolve(record, name="First", password_hash="$argon2id$first")
    last = attrs.evolve(record, name="Last")

    def run(each: Store) -> None:
        with each.transaction() as tx:
            read_back(tx, kind, [record])
            tx.save(kind, [first, last])

    assert _same_in_both(run, store, memory) is None
    assert_holds(store, kind, [last], "the same key saved twice in one call")
    assert_holds(memory, kind, [last], "the same key saved twice in one call, memory")


@pytest.mark.parametrize("how", ["unique value taken", "naive moment", "lone surrogate"])
def test_a_narrow_save_refuses_what_a_whole_row_save_refuses(
    store: SQLiteStore, samples: Samples, how: str
) -> None:
    kind = USERS
    first, second = samples.bare(kind, "first"), samples.bare(kind, "second")
    stored(store, samples, kind, first, second)
    bad = {
        "unique value taken": {"email": first.email},
        "naive moment": {"email_verified_at": dt.datetime(2030, 1, 1)},
        "lone surrogate": {"name": "bad \ud800"},
    }[how]

    def attempt(read_first: bool) -> None:
        with store.transaction() as tx:
            tx.save(kind, [attrs.evolve(first, name="Changed")])
            if read_first:
                read_back(tx, kind, [second])
            tx.save(kind, [attrs.evolve(second, **bad)])

    errors: list[type[BaseException]] = []
    for read_first in (True, False):
        with pytest.raises(StorageError) as raised:
            attempt(read_first)
        errors.append(raised.type)
        assert_holds(store, kind, [first, second], f"after a refused save ({how})")
    assert errors[0] is errors[1], f"narrow: {errors[0]}, whole row: {errors[1]}"
    if how == "unique value taken":
        assert errors[0] is DuplicateKey


def test_a_rolled_back_narrow_save_leaves_nothing(store: SQLiteStore, samples: Samples) -> None:
    kind = USERS
    record = samples.bare(kind, "rolled-back")
    stored(store, samples, kind, record)
    with contextlib.suppress(ZeroDivisionError), store.transaction() as tx:
        read_back(tx, kind, [record])
        tx.save(kind, [attrs.evolve(record, name="Gone")])
        raise ZeroDivisionError
    assert_holds(store, kind, [record], "after a rolled-back save")


def test_more_records_read_than_a_transaction_keeps_are_saved_exactly(
    store: SQLiteStore, samples: Samples
) -> None:
    """Past the cap, what is read is not kept (saves rewrite rows), and nothing is lost."""
    kind = THROTTLES
    count = _KNOWN_RECORDS + 904
    records = [samples.bare(kind, f"many-{n}") for n in range(count)]
    stored(store, samples, kind, *records)
    half = count // 2
    with store.transaction() as tx:
        read_back(tx, kind, records)  # more than kept at once: none of them kept
        tx.save(kind, [attrs.evolve(r, failures=2) for r in records[:10]])
        read_back(tx, kind, records[:half])  # kept
        read_back(tx, kind, records[half:])  # past the cap with the first half: only these
        with updates(tx) as written:
            tx.save(kind, [attrs.evolve(r, failures=3) for r in records[:half]])  # forgotten
            tx.save(kind, [attrs.evolve(r, failures=3) for r in records[half:]])  # kept
    assert set(written) == {(kind.name, writable(kind)), (kind.name, ("failures",))}
    assert_holds(store, kind, [attrs.evolve(r, failures=3) for r in records], "after the cap")


# -- random sequences, against whole-row saves and the memory store --------------------------

_KIND = INSTALL_INVITATIONS
_COUNT = 2
_MOMENTS = [dt.datetime(2030, 3, 1, tzinfo=dt.UTC), dt.datetime(2030, 3, 2, 12, tzinfo=dt.UTC)]
_VALUES: dict[str, list[Any]] = {
    "language": ["en", "de"],
    "expires_at": _MOMENTS,
    "computer_ids": [(), ("pc-1",), ("pc-2", "pc-1")],
    "last_activated_at": [None, *_MOMENTS],
    "revoked_at": [None, _MOMENTS[0]],
    "sent_count": [0, 1, 7],
    "last_sent_at": [None, *_MOMENTS],
    "delivery_error": ["", "421 later", "é"],
    "delivery_attempts": [0, 2],
    "delivery_started_at": [None, _MOMENTS[1]],
}
"""Values of the fields a save changes, beside the counts the schema's CHECKs bound."""

Step = tuple[Any, ...]


def _steps() -> st.SearchStrategy[Step]:
    """Steps, the ones that make narrow saves (read, change, save) drawn most often."""
    record = st.integers(0, _COUNT - 1)
    fields = st.sampled_from(sorted(_VALUES))
    read = st.tuples(st.just("read"), st.lists(record, min_size=1, max_size=_COUNT))
    change = st.tuples(st.just("change"), record, fields, st.integers(0, 2))
    save = st.tuples(st.just("save"), st.lists(record, min_size=1, max_size=3))
    return st.one_of(
        read,
        change,
        save,
        read,
        change,
        save,
        st.tuples(st.just("increment"), record, st.sampled_from(["sent_count", "activations"])),
        st.tuples(st.just("update"), st.lists(record, max_size=3), fields, st.integers(0, 2)),
        st.tuples(st.just("delete"), record),
        st.tuples(st.just("put"), st.lists(record, min_size=1, max_size=3)),
        st.tuples(st.just("move"), record),  # a fixed field changed: refused
        st.tuples(st.just("commit")),
    )


class _Run:
    """One store running the steps, with the copies of the records a caller holds."""

    def __init__(self, store: Store, originals: list[Any], forgets: bool) -> None:
        self.store = store
        self.held = list(originals)
        self.forgets = forgets  # every save a whole row: nothing is remembered
        self.outcomes: list[Any] = []
        self._block: contextlib.ExitStack | None = None
        self.tx: Any = None

    def _open(self) -> Any:
        if self._block is None:
            self._block = contextlib.ExitStack()
            self.tx = self._block.enter_context(self.store.transaction())
        return self.tx

    def end(self, error: BaseException | None = None) -> None:
        """End the open transaction: commit it, or roll it back after *error*."""
        block, self._block = self._block, None
        if block is None:
            return
        try:
            if error is None:
                block.close()
            else:
                block.__exit__(type(error), error, error.__traceback__)
        except StorageError as e:
            self.outcomes.append(("commit refused", type(e)))

    def step(self, step: Step) -> None:
        name = step[0]
        if name == "commit":
            self.end()
            return
        if name == "change":
            _, n, field, choice = step
            values = _VALUES[field]
            self.held[n] = attrs.evolve(self.held[n], **{field: values[choice % len(values)]})
            return
        tx = self._open()
        try:
            self.outcomes.append(self._call(tx, step))
        except StorageError as e:
            self.outcomes.append(type(e))
            self.end(e)
            return
        if self.forgets and isinstance(tx, SQLiteTransaction):
            tx._known.clear()

    def _call(self, tx: Any, step: Step) -> Any:
        name, keys = step[0], [(r.id,) for r in self.held]
        if name == "read":
            (found,) = tx.read([Query(_KIND, ("id",), tuple(keys[n] for n in step[1]))])
            by_id = {r.id: r for r in found}
            for n in step[1]:
                self.held[n] = by_id.get(self.held[n].id, self.held[n])
            return sorted(found, key=lambda r: r.id)
        if name == "save":
            return tx.save(_KIND, [self.held[n] for n in step[1]])
        if name == "increment":
            cap = "max_activations" if step[2] == "activations" else None
            return tx.increment(_KIND, keys[step[1]], step[2], 1, cap=cap)
        if name == "update":
            _, ns, field, choice = step
            values = _VALUES[field]
            if field_types(_KIND)[field] is int:
                return tx.update(_KIND, [keys[n] for n in ns], {}, add={field: choice})
            return tx.update(_KIND, [keys[n] for n in ns], {field: values[choice % len(values)]})
        if name == "delete":
            return tx.delete(_KIND, [keys[step[1]]])
        if name == "put":
            return tx.put(_KIND, [self.held[n] for n in step[1]])
        assert name == "move"
        return tx.save(_KIND, [attrs.evolve(self.held[step[1]], email="moved@example.com")])


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Store, Store]]:
    """The memory store, a SQLite store saving narrowly, one saving whole rows."""
    folder = tmp_path_factory.mktemp("narrow")
    narrow = SQLiteStore(folder / "narrow.db", synchronous="normal")
    whole = SQLiteStore(folder / "whole.db", synchronous="normal")
    yield MemoryStore(), narrow, whole
    narrow.close()
    whole.close()


@settings(max_examples=150)
@given(st.lists(_steps(), min_size=1, max_size=25))
@example([("read", [0]), ("increment", 0, "sent_count"), ("save", [0])])
@example([("read", [0]), ("update", [0], "sent_count", 1), ("save", [0])])
@example([("read", [0]), ("delete", 0), ("save", [0])])
@example(
    [
        ("read", [0]),
        ("change", 0, "language", 1),
        ("put", [0, 1]),  # 1 was not read: whole rows
        ("change", 0, "language", 0),  # back to what was read
        ("save", [0]),
    ]
)
def test_narrow_saves_leave_what_whole_row_saves_and_the_memory_store_leave(
    three: tuple[Store, Store, Store], steps: list[Step]
) -> None:
    samples = Samples()  # records no other example holds
    originals = [samples.bare(_KIND, f"r{n}") for n in range(_COUNT)]
    originals[1] = samples.full(_KIND, "r1")
    runs = []
    for store, forgets in zip(three, (False, False, True), strict=True):
        write(store, samples, [*samples.world(), *((_KIND, r) for r in originals)])
        runs.append(_Run(store, originals, forgets))
    for step in steps:
        for run in runs:
            run.step(step)
    for run in runs:
        run.end()
    memory, narrow, whole = runs
    assert narrow.outcomes == memory.outcomes, "narrow saves answered otherwise than memory"
    assert whole.outcomes == memory.outcomes, "whole-row saves answered otherwise than memory"
    held = [fetch(run.store, _KIND, originals) for run in runs]
    for n in range(_COUNT):
        expected = held[0][n]
        for name, found in zip(("narrow", "whole rows"), (held[1][n], held[2][n]), strict=True):
            if expected is None:
                assert found is None, f"record {n}: memory has none, {name} has {found!r}"
            else:
                problems = differences(found, expected)
                assert not problems, f"record {n}, {name}: {problems}"
