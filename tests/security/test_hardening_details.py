"""Rules an independent mutation run found unpinned (issue 13, section 7): each test here fails
when its rule is broken in the source."""

from __future__ import annotations

import collections
import contextlib
import ctypes
import datetime as dt
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import attrs
import pytest

from _records import records
from _smtp_server import SMTPServer
from licensekit import (
    InstallationNotFound,
    InvalidCredentials,
    LicenseKit,
    MemoryStore,
    MessageKind,
    PasswordHasher,
    Settings,
    SQLiteStore,
    ThrottlePolicy,
    TooManyAttempts,
    ValidationError,
    parse_email_csv,
)
from licensekit.mail import render_join_invitation
from licensekit.mailers import SMTPMailer
from licensekit.model import Installation, User
from licensekit.storage import INSTALLATIONS, PROTOCOL_VERSION, USERS, Store, Transaction
from licensekit.testing import (
    TEST_JOIN_URL,
    TEST_SECRET,
    FakeClock,
    RecordingMailer,
    make_business_account,
    make_licensekit,
)

T0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MemoryStore | SQLiteStore]:
    made = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "kit.db")
    yield made
    made.close()


# == a log-in that finds no password still pays for one ======================================


@attrs.frozen
class CountingHasher(PasswordHasher):
    """A real (cheap) Argon2id hasher that counts the work it is asked for."""

    work: collections.Counter[str] = attrs.field(factory=collections.Counter, eq=False)

    def verify(self, password: str, phc: str) -> bool:
        self.work["verify"] += 1
        return super().verify(password, phc)

    def burn(self) -> None:
        self.work["burn"] += 1
        super().burn()


def counting_kit(store: MemoryStore | SQLiteStore) -> tuple[LicenseKit, collections.Counter[str]]:
    hasher = CountingHasher(parameters=PasswordHasher.insecure_fast().parameters)
    kit = LicenseKit(
        store,
        RecordingMailer(),
        secret=TEST_SECRET,
        join_url=TEST_JOIN_URL,
        clock=FakeClock(),
        password_hasher=hasher,
    )
    return kit, hasher.work


def test_a_log_in_with_an_unknown_email_pays_one_full_password_hash(store):
    """Otherwise the time of the refusal tells which emails have an account."""
    kit, work = counting_kit(store)
    kit.register_user("ada@example.com", "ada's passphrase")
    with pytest.raises(InvalidCredentials):
        kit.log_in("ada@example.com", "a wrong passphrase")
    assert work == {"verify": 1}  # what a known email costs
    work.clear()

    with pytest.raises(InvalidCredentials):
        kit.log_in("nobody@example.com", "a wrong passphrase")

    assert work == {"burn": 1}


def test_a_log_in_as_a_user_without_a_password_pays_one_full_password_hash(store):
    """A single sign-on user has no password hash; refusing them at once would show it."""
    kit, work = counting_kit(store)
    kit.trusted_session("sso@example.com", create=True)

    with pytest.raises(InvalidCredentials):
        kit.log_in("sso@example.com", "any passphrase at all")

    assert work == {"burn": 1}


# == a replaced installation token refreshes nothing ===========================================


@attrs.define
class LetsACallIn:
    """A store (a real one, wrapped) that runs another call just before one of its next
    transactions opens, as a request of another thread could."""

    store: MemoryStore | SQLiteStore
    _pending: list[Any] | None = None
    protocol_version = PROTOCOL_VERSION

    def let_in(self, call: Callable[[], object], *, before_transaction: int) -> None:
        self._pending = [before_transaction, call]

    def transaction(self) -> AbstractContextManager[Transaction]:
        if self._pending is not None:
            self._pending[0] -= 1
            if self._pending[0] == 0:
                call, self._pending = self._pending[1], None
                call()
        return self.store.transaction()

    def close(self) -> None:
        self.store.close()


def test_a_check_in_whose_token_a_newer_activation_replaced_refreshes_nothing(store):
    """A re-activation of the computer replaces the token just before check_in's one
    transaction opens: the stale token is not found and must not move last_seen_at."""
    interleaved = LetsACallIn(store)
    assert isinstance(interleaved, Store)
    kit = make_licensekit(store=interleaved)  # type: ignore[arg-type]
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="Desktop Pro", value="DP-1", seats=1)
    kit.invite_installers(admin, account.id, key.id, ["ann@example.com"])
    code = kit.mailer.last(to="ann@example.com", kind=MessageKind.INSTALL_INVITATION).data["code"]
    first = kit.activate(code=code, computer_id="pc-1")
    kit.clock.advance(hours=1)
    replaced: list[dt.datetime] = []

    def activate_again() -> None:
        kit.clock.advance(minutes=5)
        kit.activate(code=code, computer_id="pc-1")
        replaced.append(kit.clock.now())

    # check_in looks the token up and writes in one transaction; the call comes in before it.
    interleaved.let_in(activate_again, before_transaction=1)
    with pytest.raises(InstallationNotFound):
        kit.check_in(first.installation_token)

    (activated_again,) = replaced  # the other call did come in
    with records(store) as tx:
        stored = tx.get(INSTALLATIONS, first.installation_id)
    assert isinstance(stored, Installation)
    assert stored.last_seen_at == activated_again


# == a lock outlives its window ===============================================================


def test_purging_during_a_lock_longer_than_the_window_keeps_the_lock(store):
    policy = ThrottlePolicy(
        max_failures=2, window=dt.timedelta(minutes=5), lockout=dt.timedelta(hours=1)
    )
    kit = make_licensekit(store=store, settings=Settings(password_throttle=policy))
    kit.register_user("ada@example.com", "ada's passphrase")
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            kit.log_in("ada@example.com", "a wrong passphrase")
    kit.clock.advance(minutes=30)  # the window is long over, the lock is not

    assert kit.purge_expired().throttles == 0

    with pytest.raises(TooManyAttempts):
        kit.log_in("ada@example.com", "ada's passphrase")


# == an SMTP server refusing the sender defers, it does not bounce ============================


@pytest.mark.parametrize(
    "reply",
    [
        "553 5.1.8 Sender address rejected: domain not found",
        "553 sender address not allowed",
        "554 5.7.1 Sender rejected by policy",
        "554 Transaction failed",
    ],
)
def test_a_sender_refused_at_mail_from_is_retryable_not_a_bounce_of_the_recipient(reply):
    """A refused sender is our side's problem (its address, its reputation): fixing it and
    sending again must reach the recipient, so the recipient is not marked undeliverable."""
    message = render_join_invitation(
        to="grace@example.org",
        account_name="Example Corp",
        inviter_email="admin@example.com",
        link="https://portal.example.com/join?token=abc",
        token="abc",
        expires_at=T0,
        language="en",
        service_name="Example Licensing",
    )
    with SMTPServer() as server:
        server.handler.mail_replies[1] = reply
        mailer = SMTPMailer(
            "127.0.0.1", server.port, sender="no-reply@example.com", security="none"
        )

        (error,) = mailer.send_batch([message])
        assert error is not None
        assert error.permanent is False
        assert "deferred the message to grace@example.org (the sender)" in str(error)
        assert reply.split()[0] in str(error)

        assert mailer.send_batch([message]) == [None]  # the server takes it the next time
        assert len(server.handler.received_by("grace@example.org")) == 1


# == CSV bytes with a byte order mark =========================================================


BOM_CSV = '\ufeff"ann@example.com"\r\nbob@example.com\r\n'
"""As a spreadsheet may write it: a byte order mark, then a quoted first cell."""


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_a_utf8_byte_order_mark_on_csv_bytes_is_stripped(kind):
    result = parse_email_csv(kind(BOM_CSV.encode("utf-8")))

    assert result.emails == ("ann@example.com", "bob@example.com")
    assert result.rejected == ()


def test_a_utf8_byte_order_mark_on_a_csv_file_is_stripped(tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(BOM_CSV.encode("utf-8"))

    assert parse_email_csv(path).emails == ("ann@example.com", "bob@example.com")
    with path.open("rb") as binary:
        assert parse_email_csv(binary).emails == ("ann@example.com", "bob@example.com")


# == max_activations up to the configured limit ===============================================


def test_max_activations_at_the_limit_is_accepted_and_one_above_it_refused(store):
    kit = make_licensekit(store=store, settings=Settings(max_activations_per_code=7))
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="Desktop Pro", value="DP-1", seats=9)

    batch = kit.invite_installers(admin, account.id, key.id, ["ann@example.com"], max_activations=7)
    assert batch.invited[0].max_activations == 7
    with pytest.raises(ValidationError, match="max_activations must be a whole number from 1 to 7"):
        kit.invite_installers(admin, account.id, key.id, ["bob@example.com"], max_activations=8)

    listed = kit.list_install_invitations(admin, account.id, key.id).items
    assert [i.email for i in listed] == ["ann@example.com"]


# == a forked child's close() =================================================================


def _is_open(connection: sqlite3.Connection) -> bool:
    try:
        connection.in_transaction  # noqa: B018 - raises on a closed connection
    except sqlite3.ProgrammingError:
        return False
    return True


@contextlib.contextmanager
def _forked_in_c() -> Iterator[int]:
    """Fork the way a server written in C may (uWSGI, say): Python's at-fork hooks do not
    run, so the child inherits the parent's idle SQLite connections. Yield the child's pid
    (0 in the child); the parent waits for the child at the end."""
    pid = ctypes.PyDLL(None).fork()  # PyDLL: the GIL stays held across the call
    assert pid >= 0, "fork failed"
    yield pid
    if pid:
        os.waitpid(pid, 0)


def _report_of_a_child_forked_in_c(child: Callable[[], bytes]) -> bytes:
    """Run *child* in a process forked by C code (no fork hooks); return what it reported.

    The child never returns into pytest: it writes its report (or its exception) to a pipe
    and exits.
    """
    read_end, write_end = os.pipe()
    with _forked_in_c() as pid:
        if pid == 0:
            try:
                report = child()
            except BaseException as e:  # reported to the parent
                report = repr(e).encode()
            os.write(write_end, report)
            os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as reading:
            return reading.read()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_childs_close_leaves_its_parents_idle_connections_alone(tmp_path):
    """A child must not touch connections whose SQLite locks live in the parent."""
    path = tmp_path / "kit.db"
    store = SQLiteStore(path, synchronous="normal")
    with records(store) as tx:
        tx.add(USERS, User(id="usr_parent", email="parent@example.com", created_at=T0))
    inherited = store._pool.connections  # all idle here
    assert len(inherited) == 1

    def child() -> bytes:
        store.close()
        return b"open" if all(_is_open(c) for c in inherited) else b"closed"

    assert _report_of_a_child_forked_in_c(child) == b"open"
    with records(store) as tx:  # the parent's connection carries on
        tx.add(USERS, User(id="usr_after", email="after@example.com", created_at=T0))
    assert store.integrity_check() == []
    store.close()
    with contextlib.closing(sqlite3.connect(path)) as raw:
        assert {u for (u,) in raw.execute("SELECT id FROM users")} == {"usr_parent", "usr_after"}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_child_forked_without_the_hooks_writes_through_connections_of_its_own(tmp_path):
    """The process id, checked as a connection is taken, tells a child forked by C code that
    the idle connections (and their turns among writers) are its parent's."""
    path = tmp_path / "kit.db"
    store = SQLiteStore(path, synchronous="normal")
    with records(store) as tx:
        tx.add(USERS, User(id="usr_parent", email="parent@example.com", created_at=T0))
    inherited = store._pool.connections  # all idle here
    assert len(inherited) == 1

    def child() -> bytes:
        with records(store) as tx:
            tx.add(USERS, User(id="usr_child", email="child@example.com", created_at=T0))
        own = store._pool.connections
        apart = not any(c is i for c in own for i in inherited)
        return b"apart" if apart and all(_is_open(c) for c in inherited) else b"shared"

    assert _report_of_a_child_forked_in_c(child) == b"apart"
    with records(store) as tx:  # the parent's connection carries on
        tx.add(USERS, User(id="usr_after", email="after@example.com", created_at=T0))
    assert store.integrity_check() == []
    store.close()
    with contextlib.closing(sqlite3.connect(path)) as raw:
        assert {u for (u,) in raw.execute("SELECT id FROM users")} == {
            "usr_parent",
            "usr_child",
            "usr_after",
        }
