"""Review of commit 758716d (activation in one transaction, sending in chunks of 500, bulk
reads and writes of invitations, compiled row codecs).

Each test exercises one of the risky paths of that change, on the store chosen by
``LICENSEKIT_TEST_STORE`` (memory by default), and directly on SQLite where it is SQLite's
own code that changed.

Moved (storage port v2): ``test_sqlite_run_many_takes_a_generator_and_checks_the_count``
tested ``_run_many``, a v1 private helper the v2 store no longer has. Writing many records in
a statement per chunk is checked by ``test_sqlite_schema_and_statements.py::
test_bulk_work_is_a_statement_per_chunk_never_one_per_record``, and a batch that does not
write every record (the count it checked) by ``test_sqlite_schema_and_statements.py::
test_a_batch_refused_midway_reports_its_first_bad_record_as_in_order`` and the contract
suite's ``test_save_refuses_a_record_that_does_not_exist``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import attrs
import pytest

from _async_bridge import natively_async
from _records import records
from licensekit import (
    ActivationCodeNotFound,
    ActivationCodeUsedUp,
    AuditAction,
    DeliveryError,
    SeatsFull,
    Session,
    Settings,
    StorageError,
    ThrottlePolicy,
    TooManyAttempts,
)
from licensekit.codes import new_activation_code
from licensekit.mail import BatchMailer, Message, MessageKind
from licensekit.model import DeliveryStatus, InstallInvitation, Throttle
from licensekit.storage import (
    AUDIT_EVENTS,
    INSTALL_INVITATIONS,
    INSTALLATIONS,
    JOIN_INVITATIONS,
    THROTTLES,
)
from licensekit.stores import _rows
from licensekit.stores.sqlite import SQLiteStore
from licensekit.testing import (
    LicenseKitForTests,
    RecordingMailer,
    make_business_account,
    make_licensekit,
)

PRODUCT = "Parallels Desktop for Mac Business Edition"
KEY_VALUE = "PDB-7Q2MX-9D4R8-T3WK5-ZH6NC"
BIG = 1_201  # three chunks of sending: 500, 500 and 201
FAILING = (3, 499, 500, 777, 1_000, 1_200)  # in every chunk, at the chunks' edges too


def address(n: int) -> str:
    return f"person{n:05d}@example.com"


ADDRESSES = [address(n) for n in range(BIG)]
FAILING_ADDRESSES = {address(n) for n in FAILING}


# == mailers ================================================================================


class BatchRecorder(RecordingMailer):
    """A RecordingMailer with ``send_batch``; records the size of every batch."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.batch_sizes: list[int] = []
        self.single: int = 0

    def send(self, message: Message) -> None:
        self.single += 1
        super().send(message)

    def send_batch(self, messages: Sequence[Message]) -> list[DeliveryError | None]:
        self.batch_sizes.append(len(messages))
        results: list[DeliveryError | None] = []
        for message in messages:
            try:
                RecordingMailer.send(self, message)
            except DeliveryError as e:
                results.append(e)
            else:
                results.append(None)
        return results


class Setup(NamedTuple):
    kit: LicenseKitForTests
    admin: Session
    account_id: str
    key_id: str


def new_setup(mailer: RecordingMailer | None = None, **settings: Any) -> Setup:
    kit = make_licensekit(
        mailer=mailer,
        settings=Settings(session_lifetime=dt.timedelta(days=30), **settings),
    )
    admin, account = make_business_account(kit, name="Acme Ltd")
    key = kit.add_license_key(admin, account.id, product=PRODUCT, value=KEY_VALUE, seats=5)
    return Setup(kit, admin, account.id, key.id)


def all_install_views(setup: Setup) -> list[Any]:
    kit, admin, account_id, key_id = setup
    views: list[Any] = []
    cursor = None
    while True:
        page = kit.list_install_invitations(admin, account_id, key_id, cursor=cursor, limit=500)
        views.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return views


def all_join_views(setup: Setup) -> list[Any]:
    kit, admin, account_id, _ = setup
    views: list[Any] = []
    cursor = None
    while True:
        page = kit.list_join_invitations(admin, account_id, cursor=cursor, limit=500)
        views.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return views


def audit(setup: Setup) -> list[Any]:
    kit, admin, account_id, _ = setup
    events: list[Any] = []
    cursor = None
    while True:
        page = kit.list_audit_events(admin, account_id, cursor=cursor, limit=500)
        events.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return events


def assert_stored_outcomes(views: Sequence[Any], failing: set[str]) -> None:
    assert len(views) == BIG
    for view in views:
        if view.email in failing:
            assert (view.delivery, view.sent_count, view.delivery_attempts) == (
                DeliveryStatus.REFUSED,
                0,
                1,
            ), view.email
            assert view.delivery_error
        else:
            assert (view.delivery, view.sent_count, view.delivery_attempts) == (
                DeliveryStatus.SENT,
                1,
                1,
            ), view.email


# == 2. sending in chunks ===================================================================


@pytest.mark.parametrize("batch", [False, True], ids=["plain", "batch"])
def test_invite_installers_of_1201_reports_and_stores_every_outcome(batch: bool) -> None:
    mailer = (BatchRecorder if batch else RecordingMailer)(fail_for=FAILING_ADDRESSES)
    setup = new_setup(mailer)
    kit, admin, account_id, key_id = setup

    result = kit.invite_installers(admin, account_id, key_id, ADDRESSES)

    assert [v.email for v in result.invited] == ADDRESSES  # order kept
    assert len({v.id for v in result.invited}) == BIG
    by_email = {v.email: v for v in result.invited}
    assert [f.email for f in result.undelivered] == [address(n) for n in FAILING]
    assert [f.invitation_id for f in result.undelivered] == [
        by_email[address(n)].id for n in FAILING
    ]
    assert all(f.permanent for f in result.undelivered)
    assert_stored_outcomes(result.invited, FAILING_ADDRESSES)
    stored = all_install_views(setup)
    assert_stored_outcomes(stored, FAILING_ADDRESSES)
    assert {v.id: v for v in stored} == {v.id: v for v in result.invited}
    assert len(kit.mailer.messages(kind=MessageKind.INSTALL_INVITATION)) == BIG - len(FAILING)
    if batch:
        assert isinstance(mailer, BatchMailer)
        assert mailer.batch_sizes == [500, 500, 201]
        assert mailer.single == 0
    events = audit(setup)
    sent = [e for e in events if e.action is AuditAction.INSTALL_INVITATION_SENT]
    failed = [e for e in events if e.action is AuditAction.INSTALL_INVITATION_UNDELIVERED]
    created = [e for e in events if e.action is AuditAction.INSTALL_INVITATION_CREATED]
    assert (len(created), len(sent), len(failed)) == (BIG, BIG - len(FAILING), len(FAILING))
    assert {e.details["email"] for e in failed} == FAILING_ADDRESSES


@pytest.mark.parametrize("batch", [False, True], ids=["plain", "batch"])
def test_send_install_invitations_of_1201_reports_every_outcome(batch: bool) -> None:
    mailer = (BatchRecorder if batch else RecordingMailer)(fail_for=FAILING_ADDRESSES)
    setup = new_setup(mailer)
    kit, admin, account_id, key_id = setup
    created = kit.invite_installers(admin, account_id, key_id, ADDRESSES, send=False)
    assert all(v.delivery is DeliveryStatus.NOT_SENT for v in created.invited)

    report = kit.send_install_invitations(admin, account_id, key_id)

    assert len(report.sent) == BIG - len(FAILING)
    assert {v.email for v in report.sent} == set(ADDRESSES) - FAILING_ADDRESSES
    assert all((v.delivery, v.sent_count) == (DeliveryStatus.SENT, 1) for v in report.sent)
    assert {f.email for f in report.undelivered} == FAILING_ADDRESSES
    assert_stored_outcomes(all_install_views(setup), FAILING_ADDRESSES)
    # Nothing left to send: the refused ones are refused for good.
    again = kit.send_install_invitations(admin, account_id, key_id)
    assert (again.sent, again.undelivered) == ((), ())


@pytest.mark.parametrize("batch", [False, True], ids=["plain", "batch"])
def test_invite_members_of_1201_reports_and_stores_every_outcome(batch: bool) -> None:
    mailer = (BatchRecorder if batch else RecordingMailer)(fail_for=FAILING_ADDRESSES)
    setup = new_setup(mailer)
    kit, admin, account_id, _ = setup

    result = kit.invite_members(admin, account_id, ADDRESSES)

    assert [v.email for v in result.invited] == ADDRESSES
    assert [f.email for f in result.undelivered] == [address(n) for n in FAILING]
    assert_stored_outcomes(result.invited, FAILING_ADDRESSES)
    stored = all_join_views(setup)
    assert_stored_outcomes(stored, FAILING_ADDRESSES)
    assert {v.id: v for v in stored} == {v.id: v for v in result.invited}


def test_send_join_invitations_of_1201_reports_every_outcome() -> None:
    setup = new_setup(BatchRecorder(fail_for=FAILING_ADDRESSES))
    kit, admin, account_id, _ = setup
    kit.invite_members(admin, account_id, ADDRESSES, send=False)

    report = kit.send_join_invitations(admin, account_id)

    assert {v.email for v in report.sent} == set(ADDRESSES) - FAILING_ADDRESSES
    assert all((v.delivery, v.sent_count) == (DeliveryStatus.SENT, 1) for v in report.sent)
    assert {f.email for f in report.undelivered} == FAILING_ADDRESSES
    assert_stored_outcomes(all_join_views(setup), FAILING_ADDRESSES)


class OvertakingMailer(RecordingMailer):
    """Fails for *target* once, after a later call (its claim run out) has sent it."""

    def __init__(self) -> None:
        super().__init__()
        self.target = ""
        self.setup: Setup | None = None
        self.overtaken = False

    def send(self, message: Message) -> None:
        if message.to == self.target and not self.overtaken and self.setup is not None:
            self.overtaken = True
            kit, admin, account_id, key_id = self.setup
            kit.clock.advance(hours=2)
            (view,) = [v for v in all_install_views(self.setup) if v.email == self.target]
            report = kit.send_install_invitations(
                admin, account_id, key_id, invitation_ids=[view.id]
            )
            assert [v.email for v in report.sent] == [self.target]
            raise DeliveryError("451 try again later (simulated)")
        super().send(message)


def test_a_failure_in_a_later_chunk_never_overwrites_a_newer_delivery() -> None:
    mailer = OvertakingMailer()
    setup = new_setup(mailer, delivery_claim_timeout=dt.timedelta(hours=1))
    kit, admin, account_id, key_id = setup
    kit.invite_installers(admin, account_id, key_id, ADDRESSES, send=False)
    mailer.target = address(777)
    mailer.setup = setup

    report = kit.send_install_invitations(admin, account_id, key_id)

    assert mailer.overtaken
    assert [f.email for f in report.undelivered] == [address(777)]
    (view,) = [v for v in all_install_views(setup) if v.email == address(777)]
    assert (view.delivery, view.sent_count) == (DeliveryStatus.SENT, 1)
    superseded = [
        e
        for e in audit(setup)
        if e.action is AuditAction.INSTALL_INVITATION_UNDELIVERED
        and e.details.get("delivery") == "superseded"
    ]
    assert [e.details["email"] for e in superseded] == [address(777)]


# == 1. activation in one transaction =======================================================


def invite_one(setup: Setup, email: str = "ann@example.com", **options: Any) -> str:
    kit, admin, account_id, key_id = setup
    kit.invite_installers(admin, account_id, key_id, [email], **options)
    return kit.mailer.last(to=email, kind=MessageKind.INSTALL_INVITATION).data["code"]


def throttles(setup: Setup) -> dict[str, Throttle]:
    """The throttles counting failures (the hourly limits' counts of successes left out)."""
    return {
        r.key: r
        for r in setup.kit.store.dump()
        if isinstance(r, Throttle) and "-per-hour:" not in r.key
    }


def test_a_refusal_is_audited_counted_and_raised_with_its_message() -> None:
    policy = ThrottlePolicy(max_failures=2, lockout=dt.timedelta(minutes=30))
    setup = new_setup(activation_invitation_throttle=policy)
    kit = setup.kit
    code = invite_one(setup)
    kit.activate(computer_id="mac-1", code=code)
    with pytest.raises(ActivationCodeUsedUp):
        kit.activate(computer_id="mac-2", code=code)
    with pytest.raises(ActivationCodeUsedUp):
        kit.activate(computer_id="mac-3", code=code)
    with pytest.raises(TooManyAttempts, match="this activation code") as locked:
        kit.activate(computer_id="mac-4", code=code)
    assert locked.value.until == kit.clock.now() + dt.timedelta(minutes=30)
    refusals = [e for e in audit(setup) if e.action is AuditAction.ACTIVATION_REFUSED]
    assert [(e.details["computer_id"], e.details["reason"]) for e in refusals] == [
        ("mac-2", "ActivationCodeUsedUp"),
        ("mac-3", "ActivationCodeUsedUp"),
    ]
    # The returning computer still passes the locked code.
    assert kit.activate(computer_id="mac-1", code=code).already_active


def test_a_miss_is_counted_and_raises_not_found_then_too_many_attempts() -> None:
    setup = new_setup(activation_client_throttle=ThrottlePolicy(max_failures=2))
    kit = setup.kit
    code = invite_one(setup)
    for _ in range(2):
        with pytest.raises(ActivationCodeNotFound, match="no invitation has this"):
            kit.activate(computer_id="x", code=new_activation_code(), client=" 10.0.0.9 ")
    with pytest.raises(ActivationCodeNotFound, match="download link is not valid"):
        kit.activate(computer_id="x", token="forged", client="10.0.0.8")
    assert throttles(setup)["activation:*"].failures == 3
    assert throttles(setup)["activation:client:10.0.0.9"].locked_until is not None
    with pytest.raises(TooManyAttempts, match="activation codes and tokens"):
        kit.activate(computer_id="x", code=new_activation_code(), client="10.0.0.9")
    assert kit.activate(computer_id="x", code=code, client="10.0.0.9").email == "ann@example.com"


def test_the_overall_limit_refuses_a_miss_with_too_many_attempts() -> None:
    setup = new_setup(activation_overall_throttle=ThrottlePolicy(max_failures=2))
    kit = setup.kit
    code = invite_one(setup)
    for n in range(2):
        with pytest.raises(ActivationCodeNotFound):
            kit.activate(computer_id="x", code=new_activation_code(), client=f"c{n}")
    with pytest.raises(TooManyAttempts, match="activation codes and tokens"):
        kit.activate(computer_id="x", code=new_activation_code(), client="c9")
    assert kit.activate(computer_id="x", code=code, client="c9").email == "ann@example.com"


def _transaction_class(setup: Setup) -> type:
    if natively_async(setup.kit):
        pytest.skip("it patches the synchronous store's transactions, which the kit does not use")
    with setup.kit.store.transaction() as tx:
        return type(tx)


def test_a_store_failure_during_activation_writes_nothing(monkeypatch) -> None:
    policy = ThrottlePolicy(max_failures=5)
    setup = new_setup(activation_invitation_throttle=policy)
    kit = setup.kit
    code = invite_one(setup)
    with pytest.raises(ActivationCodeNotFound):
        kit.activate(computer_id="x", code=new_activation_code(), client="c1")
    before = sorted(map(repr, kit.store.dump()))
    events_before = len(audit(setup))

    original = _transaction_class(setup).add

    def broken(self, kind, records):
        if kind is INSTALLATIONS:
            raise StorageError("disk full (simulated)")
        return original(self, kind, records)

    monkeypatch.setattr(_transaction_class(setup), "add", broken)
    with pytest.raises(StorageError, match="disk full"):
        kit.activate(computer_id="mac-1", code=code, client="c1")
    monkeypatch.undo()

    assert sorted(map(repr, kit.store.dump())) == before
    assert len(audit(setup)) == events_before
    assert not kit.activate(computer_id="mac-1", code=code).already_active


def test_a_store_failure_while_counting_a_miss_writes_nothing(monkeypatch) -> None:
    setup = new_setup()
    kit = setup.kit
    original = _transaction_class(setup).put
    calls: list[str] = []

    def second_save_breaks(self, kind, records):
        if kind is THROTTLES:
            calls.extend(r.key for r in records)
            if len(calls) >= 2:
                raise StorageError("disk full (simulated)")
        return original(self, kind, records)

    monkeypatch.setattr(_transaction_class(setup), "put", second_save_breaks)
    with pytest.raises(StorageError):
        kit.activate(computer_id="x", code=new_activation_code(), client="c1")
    monkeypatch.undo()
    assert calls == ["activation:*", "activation:client:c1"]
    assert throttles(setup) == {}


def test_a_store_failure_while_recording_a_refusal_leaves_no_count(monkeypatch) -> None:
    setup = new_setup()
    kit = setup.kit
    code = invite_one(setup)
    kit.activate(computer_id="mac-1", code=code)
    cls = _transaction_class(setup)

    original = cls.add

    def broken(self, kind, records):
        if kind is AUDIT_EVENTS:
            raise StorageError("disk full (simulated)")
        return original(self, kind, records)

    monkeypatch.setattr(cls, "add", broken)
    with pytest.raises(StorageError):
        kit.activate(computer_id="mac-2", code=code)
    monkeypatch.undo()
    assert not any(k.startswith("activation:invitation:") for k in throttles(setup))
    with pytest.raises(ActivationCodeUsedUp):
        kit.activate(computer_id="mac-2", code=code)
    assert len(throttles(setup)) == 1


def test_seats_full_is_audited_but_never_counts_against_the_code() -> None:
    setup = new_setup(activation_invitation_throttle=ThrottlePolicy(max_failures=1))
    kit = setup.kit
    codes = [invite_one(setup, f"p{n}@example.com") for n in range(6)]
    for n, code in enumerate(codes[:5]):
        kit.activate(computer_id=f"mac-{n}", code=code)
    for _ in range(3):
        with pytest.raises(SeatsFull):
            kit.activate(computer_id="mac-9", code=codes[5])
    assert throttles(setup) == {}
    refusals = [e for e in audit(setup) if e.action is AuditAction.ACTIVATION_REFUSED]
    assert [e.details["reason"] for e in refusals] == ["SeatsFull"] * 3


# == 2. bulk reads and writes in the stores =================================================
# Bulk look-ups with repeated and unknown ids and all-or-none bulk writes are promises of the
# storage port now, checked on every store by the contract suite
# (licensekit.testing.contract.lookups and .writes).


# == 3. and 4. SQLite: compiled codecs and batched writes =========================================


@pytest.fixture
def sqlite_kit(tmp_path: Path) -> Iterator[Setup]:
    store = SQLiteStore(tmp_path / "review.db")
    kit = make_licensekit(store=store, settings=Settings(session_lifetime=dt.timedelta(days=30)))
    admin, account = make_business_account(kit, name="Acme Ltd")
    key = kit.add_license_key(admin, account.id, product=PRODUCT, value=KEY_VALUE, seats=5)
    yield Setup(kit, admin, account.id, key.id)
    store.close()


@pytest.fixture
def world(sqlite_kit: Setup) -> tuple[Setup, list[InstallInvitation], None]:
    """A SQLite kit with an account, a key and three invitations to install."""
    return sqlite_kit, _three_invitations(sqlite_kit), None


def test_encode_datetime_converts_other_zones_and_refuses_naive_ones() -> None:
    utc = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    paris = utc.astimezone(zoneinfo.ZoneInfo("Europe/Paris"))
    fixed = utc.astimezone(dt.timezone(dt.timedelta(hours=-5, minutes=-30)))
    zero = utc.replace(tzinfo=dt.timezone(dt.timedelta(0), "Z"))
    assert _rows.encode_datetime(utc) == "2026-03-01T12:00:00.000000+00:00"
    for moment in (paris, fixed, zero, utc.replace(tzinfo=zoneinfo.ZoneInfo("UTC"))):
        assert _rows.encode_datetime(moment) == "2026-03-01T12:00:00.000000+00:00"
    with pytest.raises(StorageError, match="without a time zone"):
        _rows.encode_datetime(utc.replace(tzinfo=None))


class _NoOffset(dt.tzinfo):
    def utcoffset(self, _: dt.datetime | None) -> None:
        return None


def test_encode_datetime_refuses_a_zone_without_offset() -> None:
    with pytest.raises(StorageError):
        _rows.encode_datetime(dt.datetime(2026, 3, 1, tzinfo=_NoOffset()))


def test_row_mapper_round_trips_every_record_with_none_enums_and_json(world) -> None:
    setup, installs, _ = world
    kit = setup.kit
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    later = dt.datetime(2026, 7, 1, 9, 30, 0, 123456, tzinfo=paris)
    records: list[Any] = [r for r in kit.store.dump() if not isinstance(r, bytes)]
    records.append(
        attrs.evolve(
            installs[0],
            computer_ids=("pc-b", "pc-a"),
            delivery=DeliveryStatus.REFUSED,
            delivery_started_at=None,
            delivery_error="ünïcode ✓",
            last_sent_at=later,
        )
    )
    mapped = 0
    for record in records:
        name = type(record).__name__
        try:
            mapper = _rows.RowMapper(type(record))
        except TypeError:  # pragma: no cover - a record type that is not stored as a row
            continue
        mapped += 1
        row = mapper.encode(record)
        assert len(row) == len(mapper.columns), name
        back = mapper.decode(row)
        for field in mapper.columns:
            got, want = getattr(back, field), getattr(record, field)
            if isinstance(want, dt.datetime):
                assert got == want, (name, field)
                assert got.utcoffset() == dt.timedelta(0), (name, field)
            elif isinstance(want, frozenset | tuple | list):
                assert sorted(got) == sorted(want), (name, field)
            elif isinstance(want, bool):
                assert bool(got) == want, (name, field)
            else:
                assert got == want, (name, field)
    assert mapped >= 5


def test_row_mapper_refuses_a_naive_datetime_in_an_optional_field(world) -> None:
    _, installs, _ = world
    mapper = _rows.RowMapper(InstallInvitation)
    naive = attrs.evolve(installs[0], last_sent_at=dt.datetime(2026, 1, 1))
    with pytest.raises(StorageError, match="without a time zone"):
        mapper.encode(naive)
    none = attrs.evolve(installs[0], last_sent_at=None, delivery_started_at=None)
    assert mapper.decode(mapper.encode(none)) == none


def test_sqlite_add_many_with_a_bad_record_adds_none_and_ends_the_transaction(
    sqlite_kit: Setup,
) -> None:
    """A batch with one record SQLite cannot hold adds none of it; the refused write ends
    the transaction (port v2), and a later transaction adds the good records."""
    kit = sqlite_kit.kit
    kit.invite_installers(
        sqlite_kit.admin, sqlite_kit.account_id, sqlite_kit.key_id, ADDRESSES[:3], send=False
    )
    (template,) = [r for r in kit.store.dump() if isinstance(r, InstallInvitation)][:1]
    fresh = [
        attrs.evolve(template, id=f"inst_new{n}", code_hash=b"c%d" % n, token_hash=b"t%d" % n)
        for n in range(5)
    ]
    fresh[3] = attrs.evolve(fresh[3], created_at=dt.datetime(2026, 1, 1))

    def add_then_read(tx: Any) -> None:
        with pytest.raises(StorageError, match="without a time zone"):
            tx.add_all(INSTALL_INVITATIONS, fresh)
        with pytest.raises(StorageError, match="refused"):
            tx.get_many(INSTALL_INVITATIONS, [i.id for i in fresh])

    with pytest.raises(StorageError, match="refused"), records(kit.store) as tx:
        add_then_read(tx)
    with records(kit.store) as tx:
        assert tx.get_many(INSTALL_INVITATIONS, [i.id for i in fresh]) == []
        tx.add_all(INSTALL_INVITATIONS, fresh[:3])
    with records(kit.store) as tx:
        assert len(tx.get_many(INSTALL_INVITATIONS, [i.id for i in fresh])) == 3


def _three_invitations(setup: Setup) -> list[InstallInvitation]:
    kit, admin, account_id, key_id = setup
    kit.invite_installers(admin, account_id, key_id, ADDRESSES[:3], send=False)
    return sorted(
        (r for r in kit.store.dump() if isinstance(r, InstallInvitation)), key=lambda i: i.id
    )


def test_get_install_invitations_skips_an_id_that_is_not_valid_unicode_on_every_store() -> None:
    setup = new_setup()
    invitations = _three_invitations(setup)
    with records(setup.kit.store) as tx:
        got = tx.get_many(
            INSTALL_INVITATIONS, [invitations[0].id, "inst_\ud800", invitations[2].id]
        )
    if isinstance(setup.kit.store, SQLiteStore):
        pytest.skip("covered by the SQLite test below")
    assert sorted(i.id for i in got) == [invitations[0].id, invitations[2].id]


def test_sqlite_get_install_invitations_with_an_id_that_is_not_valid_unicode(
    sqlite_kit: Setup,
) -> None:
    invitations = _three_invitations(sqlite_kit)
    with records(sqlite_kit.kit.store) as tx:
        got = tx.get_many(
            INSTALL_INVITATIONS, [invitations[0].id, "inst_\ud800", invitations[2].id]
        )
        joins = tx.get_many(JOIN_INVITATIONS, ["jinv_\ud800"])
    assert list(joins) == []
    assert sorted(i.id for i in got) == [invitations[0].id, invitations[2].id]
