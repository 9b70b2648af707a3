"""Defences found by review: throttles that hold under parallel guessing, no oracle in timing
or lock-outs, mailers that cannot break a batch, immutable records, and licensekit errors for
every malformed argument."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest

from _records import records
from licensekit import (
    AuditAction,
    DeliveryError,
    InvalidCredentials,
    InvalidCursor,
    InvalidEmail,
    InvalidPassword,
    InvalidSession,
    InvitationNotFound,
    LicenseKit,
    MemoryStore,
    PasswordHasher,
    Settings,
    TooManyAttempts,
    ValidationError,
)
from licensekit.storage import THROTTLES
from licensekit.testing import (
    TEST_JOIN_URL,
    TEST_PASSWORD,
    TEST_SECRET,
    FakeClock,
    add_member,
    make_business_account,
    make_licensekit,
)


class ExplodingMailer:
    """A host mailer with a bug: it raises something that is not a DeliveryError."""

    def __init__(self, explode_for: set[str], error: Exception) -> None:
        self.explode_for = explode_for
        self.error = error
        self.sent: list[str] = []

    def send(self, message) -> None:
        if message.to in self.explode_for:
            raise self.error
        self.sent.append(message.to)


# == throttling ===========================================================================


def test_parallel_wrong_passwords_never_get_more_guesses_than_the_limit() -> None:
    """Each attempt is counted before its (slow, real Argon2id) check, not after."""
    kit = LicenseKit(
        MemoryStore(),
        ExplodingMailer(set(), RuntimeError()),
        secret=TEST_SECRET,
        join_url=TEST_JOIN_URL,
        clock=FakeClock(),
    )
    kit.register_user("victim@example.com", TEST_PASSWORD, email_verified=True)
    outcomes: list[type[Exception]] = []
    lock = threading.Lock()

    def guess(n: int) -> None:
        try:
            kit.log_in("victim@example.com", f"wrong guess number {n}")
        except (InvalidCredentials, TooManyAttempts) as e:
            with lock:
                outcomes.append(type(e))

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    limit = Settings().password_throttle.max_failures
    assert len(outcomes) == 16
    assert outcomes.count(InvalidCredentials) == limit
    assert outcomes.count(TooManyAttempts) == 16 - limit


class CountingHasher(PasswordHasher):
    burns: list[int] = []  # noqa: RUF012 - a shared tally for one test

    def burn(self) -> None:
        CountingHasher.burns.append(1)
        super().burn()


def test_an_overlong_password_costs_a_full_hash_like_an_unknown_email() -> None:
    """Otherwise timing tells a known email (instant refusal) from an unknown one."""
    hasher = CountingHasher.insecure_fast()
    phc = hasher.hash(TEST_PASSWORD)
    CountingHasher.burns.clear()
    assert hasher.verify("x" * (hasher.policy.max_length + 1), phc) is False
    assert hasher.verify("\ud800 lone surrogate", phc) is False
    assert CountingHasher.burns == [1, 1]


def test_unknown_tokens_from_anonymous_clients_never_lock_out_valid_links() -> None:
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    kit.invite_members(admin, account.id, ["ann@example.com"])
    for n in range(1500):
        with pytest.raises(InvitationNotFound):
            kit.describe_join_invitation(f"made-up-token-{n}")
    token = kit.mailer.last_token(to="ann@example.com")
    assert kit.describe_join_invitation(token, client="198.51.100.7").email == "ann@example.com"


def test_a_client_that_guesses_too_much_is_locked_out_of_unknown_tokens_only() -> None:
    """A client address may be a whole office's: a lock must not refuse a valid link."""
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    kit.invite_members(admin, account.id, ["ann@example.com"])
    for n in range(Settings().token_throttle.max_failures):
        with pytest.raises(InvitationNotFound):
            kit.describe_join_invitation(f"guess-{n}", client="203.0.113.9")
    token = kit.mailer.last_token(to="ann@example.com")
    with pytest.raises(TooManyAttempts, match="invitation links from this client"):
        kit.describe_join_invitation("guess-again", client="203.0.113.9")
    assert kit.describe_join_invitation(token, client="203.0.113.9").email == "ann@example.com"


def test_purge_expired_deletes_spent_throttling_records_only() -> None:
    kit = make_licensekit()
    with pytest.raises(InvalidCredentials):
        kit.log_in("nobody@example.com", "some password here")
    kit.clock.advance(minutes=5)
    with pytest.raises(InvalidCredentials):
        kit.log_in("someone@example.com", "some password here")
    kit.clock.advance(minutes=11)  # the first window (15 min) is over, the second is not
    report = kit.purge_expired()
    assert (report.sessions, report.throttles) == (0, 1)
    with records(kit.store) as tx:
        assert tx.get(THROTTLES, "password:nobody@example.com") is None
        assert tx.get(THROTTLES, "password:someone@example.com") is not None


# == mail failures ========================================================================


def test_a_mailer_bug_fails_only_its_own_recipient_and_the_batch_is_reported() -> None:
    mailer = ExplodingMailer({"b@example.com"}, RuntimeError("template cache corrupted"))
    kit = make_licensekit(mailer=mailer)  # type: ignore[arg-type]
    admin, account = make_business_account(kit)
    batch = kit.invite_members(
        admin, account.id, ["a@example.com", "b@example.com", "c@example.com"]
    )
    assert mailer.sent == ["a@example.com", "c@example.com"]
    (failure,) = batch.undelivered
    assert failure.email == "b@example.com"
    assert "RuntimeError: template cache corrupted" in failure.reason
    assert failure.permanent is False
    sent = {i.email: i.sent_count for i in batch.invited}
    assert sent == {"a@example.com": 1, "b@example.com": 0, "c@example.com": 1}


def test_a_resend_through_a_failing_connection_raises_delivery_error() -> None:
    mailer = ExplodingMailer(set(), ConnectionRefusedError(111, "Connection refused"))
    kit = make_licensekit(mailer=mailer)  # type: ignore[arg-type]
    admin, account = make_business_account(kit)
    (invitation,) = kit.invite_members(admin, account.id, ["a@example.com"], send=False).invited
    mailer.explode_for.add("a@example.com")
    with pytest.raises(DeliveryError, match="ConnectionRefusedError"):
        kit.resend_join_invitation(admin, account.id, invitation.id)
    (listed,) = kit.list_join_invitations(admin, account.id).items
    assert listed.sent_count == 0
    actions = [e.action for e in kit.list_audit_events(admin, account.id).items]
    assert AuditAction.INVITATION_SENT not in actions


# == immutability and ordering ==============================================================


def test_records_handed_out_cannot_rewrite_the_audit_trail() -> None:
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    event = kit.list_audit_events(admin, account.id).items[0]
    with pytest.raises(TypeError):
        event.details["name"] = "forged"  # type: ignore[index]
    with pytest.raises(TypeError):
        admin.roles[account.id] = "x"  # type: ignore[index]
    assert kit.list_audit_events(admin, account.id).items[0].details == {"name": "Example Corp"}


def test_ids_from_two_instances_in_one_process_keep_creation_order() -> None:
    store, clock = MemoryStore(), FakeClock()
    first = make_licensekit(store=store, clock=clock)
    second = make_licensekit(store=store, clock=clock)
    admin, account = make_business_account(first)
    for n in range(6):
        kit = (first, second)[n % 2]
        kit.invite_members(admin, account.id, [f"p{n}@example.com"])
    listed = [i.email for i in first.list_join_invitations(admin, account.id).items]
    assert listed == [f"p{n}@example.com" for n in range(6)]


# == malformed arguments ==================================================================


@pytest.fixture
def kit_admin_account():
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    return kit, admin, account.id


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda k, s, a: k.register_user(None, TEST_PASSWORD), InvalidEmail, "expected text"),
        (
            lambda k, s, a: k.register_user("x@example.com", "bad \udc80 password"),
            InvalidPassword,
            "not valid Unicode",
        ),
        (
            lambda k, s, a: k.log_in("admin@example.com", None),
            ValidationError,
            "password must be text",
        ),
        (
            lambda k, s, a: k.log_in("admin@example.com", "\ud800" * 12),
            InvalidCredentials,
            "wrong email or password",
        ),
        (
            lambda k, s, a: k.list_members(s, a, limit="5"),
            ValidationError,
            "limit must be an integer",
        ),
        (
            lambda k, s, a: k.list_members(s, a, limit=True),
            ValidationError,
            "limit must be an integer",
        ),
        (lambda k, s, a: k.list_members(s, a, cursor=5), InvalidCursor, "does not belong"),
        (
            lambda k, s, a: k.invite_members(s, a, "bob@example.com"),
            ValidationError,
            "must be a collection of addresses, not str",
        ),
        (
            lambda k, s, a: k.invite_members(s, a, 123),
            ValidationError,
            "must be a collection of addresses, not int",
        ),
        (
            lambda k, s, a: k.invite_members(s, a, ["b@example.com"], language=None),
            ValidationError,
            "language must be a BCP 47 tag",
        ),
        (lambda k, s, a: k.create_business_account(s, None), ValidationError, "must be text"),
        (
            lambda k, s, a: k.block_member(s, a, s.user_id, notes=None),
            ValidationError,
            "notes must be text",
        ),
        (
            lambda k, s, a: k.accept_join_invitation(None, password=TEST_PASSWORD),
            InvitationNotFound,
            "not valid",
        ),
        (lambda k, s, a: k.describe_join_invitation("\udfff"), InvitationNotFound, "not valid"),
        (lambda k, s, a: k.log_out(None), InvalidSession, "session token"),
        (lambda k, s, a: k.list_my_accounts("\ud800"), InvalidSession, "unknown"),
    ],
)
def test_malformed_arguments_raise_licensekit_errors_and_write_nothing(
    kit_admin_account, call, error, match
) -> None:
    kit, admin, account_id = kit_admin_account
    before = [m for m in kit.store.dump() if type(m).__name__ != "Throttle"]
    with pytest.raises(error, match=match):
        call(kit, admin, account_id)
    after = [m for m in kit.store.dump() if type(m).__name__ != "Throttle"]
    assert after == before


def test_non_text_entries_in_an_email_list_are_reported_not_crashed_on(kit_admin_account) -> None:
    kit, admin, account_id = kit_admin_account
    batch = kit.invite_members(admin, account_id, ["a@example.com", None, 42])
    assert [i.email for i in batch.invited] == ["a@example.com"]
    assert [(r.row, r.reason) for r in batch.skipped] == [
        (2, "expected text, got NoneType"),
        (3, "expected text, got int"),
    ]


def test_the_batch_limit_is_checked_before_any_address_is_validated() -> None:
    kit = make_licensekit(settings=Settings(max_batch_size=3))
    admin, account = make_business_account(kit)
    with pytest.raises(ValidationError, match=r"^more than 3 addresses; the limit per call is 3$"):
        kit.invite_members(admin, account.id, ["a", "b", "c", "d", " ", ""])


@pytest.mark.parametrize(
    "make", [lambda n: f"p{n}@example.com", lambda n: None], ids=["addresses", "not-text"]
)
def test_an_endless_iterable_of_addresses_is_refused_after_one_entry_too_many(make) -> None:
    kit = make_licensekit(settings=Settings(max_batch_size=3))
    admin, account = make_business_account(kit)
    taken = []

    def endless() -> Iterator[object]:
        for n in itertools.count():
            taken.append(n)
            yield make(n)

    with pytest.raises(ValidationError, match=r"^more than 3 addresses; the limit per call is 3$"):
        kit.invite_members(admin, account.id, endless())

    assert len(taken) == 4
    assert kit.list_join_invitations(admin, account.id).items == ()
    assert kit.mailer.sent == []


def test_blank_entries_are_read_but_not_counted_towards_the_batch_limit() -> None:
    kit = make_licensekit(settings=Settings(max_batch_size=2))
    admin, account = make_business_account(kit)
    batch = kit.invite_members(
        admin, account.id, ["", " ", "a@example.com", "\t", "b@example.com", ""]
    )
    assert [i.email for i in batch.invited] == ["a@example.com", "b@example.com"]


@pytest.mark.parametrize(
    "emails",
    [123, 4.5, True, object(), "a@example.com", b"a@example.com"],
    ids=["int", "float", "bool", "object", "str", "bytes"],
)
def test_an_address_list_that_is_not_a_collection_is_refused_and_names_its_type(emails) -> None:
    """(None means no list: then the addresses must come as csv=, see test_service_invitations.)"""
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    with pytest.raises(
        ValidationError,
        match=f"^emails must be a collection of addresses, not {type(emails).__name__}$",
    ):
        kit.invite_members(admin, account.id, emails)
    assert kit.list_join_invitations(admin, account.id).items == ()


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_binary_buffers_are_refused_like_bytes(kind) -> None:
    """Raw upload bytes are never read as a list of ints, one rejected row per byte."""
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    with pytest.raises(
        ValidationError, match=f"^emails must be a collection of addresses, not {kind.__name__}$"
    ):
        kit.invite_members(admin, account.id, kind(b"ann@example.com"))


@pytest.mark.parametrize("secret", [64, None, 3.5, ["x" * 40]])
def test_a_host_secret_must_be_bytes_or_text(secret) -> None:
    with pytest.raises(ValidationError, match="must be bytes or text"):
        LicenseKit(
            MemoryStore(),
            ExplodingMailer(set(), RuntimeError()),
            secret=secret,
            join_url=TEST_JOIN_URL,
        )


def test_an_unblocked_regular_member_uses_their_open_session_again_at_once() -> None:
    """Only administrator rights wait for a new log-in; a Regular Member loses nothing."""
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    ann = add_member(kit, admin, account.id, "ann@example.com")
    kit.block_member(admin, account.id, ann.user_id)
    kit.unblock_member(admin, account.id, ann.user_id)
    kit.leave_account(ann, account.id)  # needs an active membership, seen through this session
    assert kit.list_my_accounts(ann) == ()


def test_an_endless_stream_of_blank_entries_is_refused() -> None:
    """Blank entries do not count as addresses, but they are not read without end."""
    kit = make_licensekit(settings=Settings(max_batch_size=5))
    admin, account = make_business_account(kit)
    with pytest.raises(ValidationError, match="most of them blank"):
        kit.invite_members(admin, account.id, itertools.repeat("  "))
