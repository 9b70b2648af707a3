"""Random sequences of licensing use cases never break the seat and activation-code rules.

A model of license keys, invitations to install, installations, computer blocks and the
per-invitation refusal throttle runs beside a real LicenseKit (from ``make_licensekit``). Two
people act: the Account Administrator, and a License Administrator of some of the keys. Every
step predicts the outcome from the model: either the new state or the exact licensekit error.
After every step the invariants are checked against the store itself:

* a key's active installations never exceed its seats, and ``seats_used`` counts them exactly;
* an activation never succeeds with the code of a revoked or expired invitation, nor for a new
  computer once the code has activated as many computers as it allows (refused as used up
  before anything is said about the computer being blocked or seated); a computer seated
  through one invitation is never taken over with another's code;
* an administrator's deactivation (or block) ends the computer's claim on its code: the
  computers an invitation counts as returning are exactly those it holds a seat for;
* no code outlives its invitation: the export lists exactly the codes that still work, none
  while the key is unusable, and each invitation shows the state the rules give it;
* a block covers the whole account (Account Administrator) or one key (License
  Administrator), frees the seats it covers and no other, and each administrator lists and
  lifts the blocks their role reaches;
* an operation the rules forbid raises the predicted error and leaves the store as it was
  (a refused activation only adds one ``installation.refused`` event and, unless it was refused
  for want of a seat or of a usable key, or because the computer is blocked or seated through
  another invitation, counts in its invitation's throttle record; an unknown code or token only
  counts in the overall throttle of its bucket, and in its client's).

A client's check-in throttle is live and modelled too: its unknown installation tokens count
and, once it is locked, are refused; a known token always passes and changes no throttle.
The invitation throttle is live (a low limit, a short lock) and modelled exactly: a locked code
is refused before anything else, except on a computer returning to it; a success clears the
count, but never a lock (a returning computer may succeed while its code is locked).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from _postgres import examples
from _records import records
from licensekit import (
    ActivationCodeExpired,
    ActivationCodeMistyped,
    ActivationCodeNotFound,
    ActivationCodeRevoked,
    ActivationCodeUsedUp,
    ActivationCodeWrongProduct,
    AuditAction,
    ComputerAlreadyActivated,
    ComputerBlocked,
    ConflictError,
    DuplicateLicenseKey,
    InstallationNotFound,
    InstallationStatus,
    InstallInvitationState,
    InvitationRevoked,
    KeyStatus,
    LicenseKeyNotFound,
    LicenseKeyUnavailable,
    LicenseKitError,
    NotFound,
    PermissionDenied,
    SeatsFull,
    SeatsInUse,
    Settings,
    ThrottlePolicy,
    TooManyAttempts,
)
from licensekit.codes import new_activation_code
from licensekit.model import AuditEvent, Installation, InstallInvitation, LicenseKey, Throttle
from licensekit.storage import INSTALL_INVITATIONS, INSTALLATIONS, LICENSE_KEYS
from licensekit.testing import add_member, make_business_account, make_licensekit
from licensekit.throttling import locked_until

ACTIVE, SUSPENDED, REMOVED = KeyStatus.ACTIVE, KeyStatus.SUSPENDED, KeyStatus.REMOVED
EMAILS = ("ann@example.com", "bob@example.com", "cy@example.com", "dee@example.com")
COMPUTERS = ("PC-1", "PC-2", "PC-3", "PC-4", "PC-5")
# Mostly short steps: one of four days outlives every code and may end a key.
STEPS = (
    dt.timedelta(minutes=10),
    dt.timedelta(minutes=10),
    dt.timedelta(minutes=40),
    dt.timedelta(hours=2),
    dt.timedelta(hours=20),
    dt.timedelta(days=4),
)
INVITATION_LIFETIMES = (dt.timedelta(hours=3), "1d", "3d")
KEY_LIFETIMES = (None, None, dt.timedelta(days=2), dt.timedelta(days=9))
HOW = ("code", "typed code", "token")
ADMIN, LICENSE_ADMIN = "Account Administrator", "License Administrator"
ACTORS = st.sampled_from([ADMIN, LICENSE_ADMIN])
KEY_ACTIONS = (
    "more seats",
    "more seats",
    "fewer seats",
    "fewer seats",
    "suspend",
    "resume",
    "clear expiry",
    "add again",
    "add in other case",
    "remove",
    "cull after 2 days",
    "never cull",
)
ACTIVATION_GUESSES, CHECK_IN_GUESSES = "activation:*", "check-in:*"
# The overall guessing limits are tested elsewhere; here an unknown code never locks anything.
# The invitation throttle is live: the fourth counted refusal within an hour locks the code
# for half an hour (the clock moves by ten minutes or more).
INVITATION_THROTTLE = ThrottlePolicy(
    max_failures=4, window=dt.timedelta(hours=1), lockout=dt.timedelta(minutes=30)
)
# One client (a network) checks in from time to time: its third unknown token within an
# hour locks its unknown tokens out for twenty minutes; its known tokens always pass.
CLIENT_THROTTLE = ThrottlePolicy(
    max_failures=3, window=dt.timedelta(hours=1), lockout=dt.timedelta(minutes=20)
)
NETWORK = "192.0.2.10"
SETTINGS = Settings(
    session_lifetime=dt.timedelta(days=3650),
    activation_invitation_throttle=INVITATION_THROTTLE,
    activation_overall_throttle=ThrottlePolicy(max_failures=1_000_000),
    activation_client_throttle=CLIENT_THROTTLE,
)
# Refusals that are not the code's fault, and do not count against it.
NOT_COUNTED = (SeatsFull, LicenseKeyUnavailable, ComputerBlocked, ComputerAlreadyActivated)


@dataclass
class KeyModel:
    id: str
    value: str
    product: str
    seats: int
    expires_at: dt.datetime | None
    status: KeyStatus = ACTIVE
    dead_after: dt.timedelta | None = None
    """Installations silent this long are culled; None: never."""


@dataclass(frozen=True)
class ThrottleModel:
    """An invitation's counted refusals: how many in the window that began at *since*, and
    the lock the last of them set, if any."""

    failures: int
    since: dt.datetime
    locked_until: dt.datetime | None = None

    def locked(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def seen(self, now: dt.datetime) -> tuple[int, dt.datetime, dt.datetime | None]:
        """What matters of it at *now* (a lock that ended is no lock)."""
        return self.failures, self.since, self.locked_until if self.locked(now) else None


def after_refusal(
    throttle: ThrottleModel | None, now: dt.datetime, policy: ThrottlePolicy = INVITATION_THROTTLE
) -> ThrottleModel:
    """The throttle of an invitation (or a client) after one more counted failure at *now*."""
    if throttle is not None and throttle.locked(now):
        return throttle  # a lock is neither lifted nor stretched by refusals during it
    if throttle is None or now - throttle.since >= policy.window:
        failures, since = 1, now
    else:
        failures, since = throttle.failures + 1, throttle.since
    if failures >= policy.max_failures:
        return ThrottleModel(0, now, now + policy.lockout)
    return ThrottleModel(failures, since)


@dataclass
class InviteModel:
    id: str
    key_id: str
    email: str
    code: str
    token: str
    max_activations: int
    expires_at: dt.datetime
    sent: bool
    revoked: bool = False
    activations: int = 0
    """Computers the code activated, each counted once per claim (a claim ends when an
    administrator deactivates or blocks the computer; activating again counts again)."""
    computers: list[str] = field(default_factory=list)
    """The computers with a claim on the code (``computer_ids``), in the order they made it."""
    throttle: ThrottleModel | None = None

    @property
    def throttle_key(self) -> str:
        return f"activation:invitation:{self.id}"


@dataclass
class InstallModel:
    id: str
    key_id: str
    computer_id: str
    invitation_id: str
    """The invitation of the latest activation that took a seat."""
    active: bool
    token: str
    activated_at: dt.datetime
    old_tokens: list[str] = field(default_factory=list)
    last_seen: dt.datetime | None = None
    """As recorded: every activation writes it, a check-in only once it is 6 hours old (a
    quarter of the default daily check-in interval)."""
    culled_at: dt.datetime | None = None
    """When the culling job took its seat (its computer keeps its claim on the code)."""


Block = tuple[str, str | None]
"""(computer id, key id), the key None for an account-wide block."""


def sort_key(block: Block) -> str:
    """The listing order of blocks: by computer, the account-wide one first."""
    return f"{block[0]}\t{block[1] or ''}"


def pick(items: list[Any] | tuple[Any, ...], index: int) -> Any:
    return items[index % len(items)]


def typed(code: str) -> str:
    """The code as a person might type it: lower case, spaces for dashes."""
    return code.lower().replace("-", " ")


def unknown_id(real: str) -> str:
    """An id shaped like *real* that names nothing."""
    return real[:-4] + ("0000" if not real.endswith("0000") else "1111")


class LicensingMachine(RuleBasedStateMachine):
    """Drives the licensing use cases at random and checks them against a model after each."""

    def __init__(self) -> None:
        super().__init__()
        self.kit = make_licensekit(settings=SETTINGS)
        self.admin, account = make_business_account(self.kit)
        self.account_id = account.id
        self.license_admin = add_member(self.kit, self.admin, account.id, "keeper@example.com")
        self.license_admin_id = self.license_admin.user_id
        self.keys: list[KeyModel] = []
        self.invites: list[InviteModel] = []
        self.installs: dict[tuple[str, str], InstallModel] = {}
        self.blocks: set[Block] = set()
        self.granted: set[str] = set()
        """The keys the License Administrator administers."""
        self.network: ThrottleModel | None = None
        """The check-in throttle of the client NETWORK."""

    # -- helpers ----------------------------------------------------------------------------

    @property
    def now(self) -> dt.datetime:
        return self.kit.clock.now()

    def session(self, by: str) -> Any:
        return self.admin if by == ADMIN else self.license_admin

    def snapshot(self) -> tuple[Counter[object], list[AuditEvent]]:
        """The stored records but throttles and audit events, and the audit events."""
        records = self.kit.store.dump()
        kept = Counter(r for r in records if not isinstance(r, Throttle | AuditEvent))
        events = sorted((r for r in records if isinstance(r, AuditEvent)), key=lambda e: e.id)
        return kept, events

    def throttles(self) -> dict[str, Throttle]:
        return {r.key: r for r in self.kit.store.dump() if isinstance(r, Throttle)}

    def stored_throttles(self) -> dict[str, tuple[int, dt.datetime, dt.datetime | None]]:
        """The invitations' throttle records, as far as they matter now."""
        now = self.now
        return {
            key: (
                t.failures,
                t.window_started_at,
                t.locked_until if t.locked_until is not None and now < t.locked_until else None,
            )
            for key, t in self.throttles().items()
            if key.startswith("activation:invitation:")
        }

    def state(self) -> tuple[Counter[object], list[AuditEvent], dict[str, Throttle], int]:
        kept, events = self.snapshot()
        return kept, events, self.throttles(), len(self.kit.mailer.sent)

    def unchanged(
        self,
        before: tuple[Counter[object], list[AuditEvent], dict[str, Throttle], int],
        error: LicenseKitError,
        *,
        refusal_of: InviteModel | None,
        counting: str | None,
        also_counting: str | None = None,
    ) -> None:
        """Check that the call that raised *error* changed nothing stored it should not.

        With *refusal_of*, a refused activation of that invitation: one ``installation.refused``
        event naming the reason is recorded. Only the throttle records *counting* and
        *also_counting* may change.
        """
        kept, events, throttles, mails = before
        kept_after, events_after = self.snapshot()
        name = type(error).__name__
        assert kept_after == kept, f"{name} left records changed"
        assert len(self.kit.mailer.sent) == mails
        if refusal_of is None:
            assert events_after == events, f"{name} wrote to the audit trail"
        else:
            new = [e for e in events_after if e not in events]
            assert len(events_after) == len(events) + 1
            assert [(e.action, e.subject, e.details["reason"]) for e in new] == [
                (AuditAction.ACTIVATION_REFUSED, refusal_of.id, name)
            ]
        after = self.throttles()
        may_change = {counting, also_counting}
        assert {k: t for k, t in after.items() if k not in may_change} == {
            k: t for k, t in throttles.items() if k not in may_change
        }, f"{name} changed a throttle record it should not count in"

    def fails(
        self,
        expected: type[LicenseKitError],
        call: Callable[[], object],
        *,
        refusal_of: InviteModel | None = None,
        returning: bool = False,
        guessing: str | None = None,
        client_key: str | None = None,
    ) -> None:
        """Run a forbidden call: it raises exactly *expected* and changes nothing stored.

        With *refusal_of*, a refused activation: counted in the invitation's throttle unless it
        is one of NOT_COUNTED or the computer is *returning* to the code. With *guessing*, an
        unknown code or token: counted in that overall throttle, and in the client's throttle
        *client_key* when given.
        """
        before = self.state()
        with pytest.raises(LicenseKitError) as info:
            call()
        assert type(info.value) is expected, f"expected {expected.__name__}, got {info.value!r}"
        counting = guessing
        if refusal_of is not None and not returning and not issubclass(expected, NOT_COUNTED):
            counting = refusal_of.throttle_key
            refusal_of.throttle = after_refusal(refusal_of.throttle, self.now)
        self.unchanged(
            before, info.value, refusal_of=refusal_of, counting=counting, also_counting=client_key
        )
        if counting is not None and refusal_of is not None:
            assert refusal_of.throttle is not None
            assert self.stored_throttles().get(counting) == refusal_of.throttle.seen(self.now)
        if guessing is not None:
            assert guessing in self.throttles()

    def key(self, key_id: str) -> KeyModel:
        return next(k for k in self.keys if k.id == key_id)

    def used(self, key_id: str) -> int:
        return sum(1 for i in self.installs.values() if i.key_id == key_id and i.active)

    def key_expired(self, k: KeyModel) -> bool:
        return k.expires_at is not None and self.now >= k.expires_at

    def key_usable(self, k: KeyModel) -> bool:
        return k.status is ACTIVE and not self.key_expired(k)

    def dead(self, inv: InviteModel) -> type[LicenseKitError] | None:
        """Why *inv*'s code cannot activate anything at all now, if it cannot."""
        if inv.revoked:
            return ActivationCodeRevoked
        if self.now >= inv.expires_at:
            return ActivationCodeExpired
        return None

    def blocked(self, computer: str, key_id: str) -> bool:
        return (computer, None) in self.blocks or (computer, key_id) in self.blocks

    def may_manage(self, by: str, key_id: str) -> bool:
        return by == ADMIN or key_id in self.granted

    def forget(self, inst: InstallModel) -> None:
        """An administrator deactivated *inst* (active or culled): its computer's claim on its
        code ends."""
        inst.active, inst.culled_at = False, None
        claims = self.invites_by_id[inst.invitation_id].computers
        if inst.computer_id in claims:
            claims.remove(inst.computer_id)

    def stored(self) -> tuple[list[LicenseKey], list[InstallInvitation], list[Installation]]:
        with records(self.kit.store) as tx:
            keys = list(tx.page(LICENSE_KEYS, self.account_id, after=None, limit=10_000))
            invites = [
                i
                for k in keys
                for i in tx.page(INSTALL_INVITATIONS, k.id, after=None, limit=10_000)
            ]
            installs = [
                i for k in keys for i in tx.page(INSTALLATIONS, k.id, after=None, limit=10_000)
            ]
        return keys, invites, installs

    def stored_invitation(self, invitation_id: str) -> InstallInvitation:
        with records(self.kit.store) as tx:
            found = tx.get(INSTALL_INVITATIONS, invitation_id)
        assert found is not None
        return found

    @property
    def invites_by_id(self) -> dict[str, InviteModel]:
        return {i.id: i for i in self.invites}

    # -- setup ------------------------------------------------------------------------------

    @initialize(
        keys=st.integers(1, 2),
        seats=st.integers(1, 3),
        emails=st.integers(1, 4),
        max_activations=st.integers(1, 3),
        computers=st.integers(0, 3),
    )
    def keys_with_invitations(
        self, keys: int, seats: int, emails: int, max_activations: int, computers: int
    ) -> None:
        """One or two keys with invitations and the same computers installed under each; the
        License Administrator administers the first key only."""
        for k in range(keys):
            self.add_key(seats, None)
            self.invite(k, list(EMAILS[:emails]), max_activations, "3d", True)
            for c in range(computers):
                self.activate(pick(self.invites[k * emails :], c), COMPUTERS[c], "code")
        self.kit.grant_license_administrator(
            self.admin, self.account_id, self.license_admin_id, self.keys[0].id
        )
        self.granted.add(self.keys[0].id)

    # -- license keys -----------------------------------------------------------------------

    @precondition(lambda self: len(self.keys) < 3)
    @rule(seats=st.integers(1, 4), lifetime=st.sampled_from(KEY_LIFETIMES))
    def add_key(self, seats: int, lifetime: dt.timedelta | None) -> None:
        n = len(self.keys)
        self._add_key(f"KEY{n}-7QX2-M4PB-ZR9{n}", seats, lifetime)

    def _add_key(self, value: str, seats: int, lifetime: dt.timedelta | None) -> None:
        product = f"Product {len(self.keys)}"
        expires_at = None if lifetime is None else self.now + lifetime
        view = self.kit.add_license_key(
            self.admin,
            self.account_id,
            product=product,
            value=value,
            seats=seats,
            expires_at=expires_at,
        )
        assert (view.seats, view.seats_used, view.seats_free) == (seats, 0, seats)
        assert view.masked_value == f"****-****-****-{value[-4:]}"
        self.keys.append(KeyModel(view.id, value, product, seats, expires_at))

    @precondition(lambda self: self.keys)
    @rule(k=st.integers(0, 9), action=st.sampled_from(KEY_ACTIONS))
    def administer_key(self, k: int, action: str) -> None:
        km: KeyModel = pick(self.keys, k)
        used = self.used(km.id)
        acc = self.account_id
        if action == "add again":
            # Whitespace does not make another key; a removed one is to be resumed instead.
            spaced = " " + km.value.replace("-", "- ") + "\n"
            before = self.state()
            with pytest.raises(DuplicateLicenseKey) as info:
                self.kit.add_license_key(self.admin, acc, product="Again", value=spaced, seats=9)
            assert str(info.value).endswith("; resume it instead") is (km.status is REMOVED)
            self.unchanged(before, info.value, refusal_of=None, counting=None)
        elif action == "add in other case":
            # Case matters in key values: the same letters in another case are another key.
            other = km.value.swapcase()
            if any(x.value == other for x in self.keys):
                self.fails(
                    DuplicateLicenseKey,
                    lambda: self.kit.add_license_key(
                        self.admin, acc, product="Again", value=other, seats=9
                    ),
                )
            elif len(self.keys) < 3:
                self._add_key(other, km.seats, None)
        elif action in ("more seats", "fewer seats"):
            seats = km.seats + 1 if action == "more seats" else km.seats - 1
            if seats < 1:
                return
            call = lambda: self.kit.change_license_key(self.admin, acc, km.id, seats=seats)  # noqa: E731
            if km.status is REMOVED:
                self.fails(ConflictError, call)
            elif seats < used:
                self.fails(SeatsInUse, call)
            else:
                view = call()
                assert (view.seats, view.seats_used, view.seats_free) == (seats, used, seats - used)
                km.seats = seats
        elif action == "clear expiry":
            call = lambda: self.kit.change_license_key(self.admin, acc, km.id, clear_expiry=True)  # noqa: E731
            if km.status is REMOVED:
                self.fails(ConflictError, call)
            else:
                assert call().expires_at is None
                km.expires_at = None
        elif action == "suspend":
            call = lambda: self.kit.suspend_license_key(self.admin, acc, km.id)  # noqa: E731
            if km.status is not ACTIVE:
                self.fails(ConflictError, call)
            else:
                assert call().status is SUSPENDED
                km.status = SUSPENDED
        elif action == "resume":
            # A suspended key and a removed one alike.
            call = lambda: self.kit.resume_license_key(self.admin, acc, km.id)  # noqa: E731
            if km.status is ACTIVE:
                self.fails(ConflictError, call)
            else:
                event(f"resume a {km.status.value} key")
                assert call().status is ACTIVE
                km.status = ACTIVE
        elif action in ("cull after 2 days", "never cull"):
            dead_after = dt.timedelta(days=2) if action == "cull after 2 days" else None
            call = lambda: self.kit.change_license_key(  # noqa: E731
                self.admin, acc, km.id, dead_after=dead_after, never_cull=dead_after is None
            )
            if km.status is REMOVED:
                self.fails(ConflictError, call)
            else:
                assert call().dead_after == dead_after
                km.dead_after = dead_after
        else:
            assert action == "remove"
            call = lambda: self.kit.remove_license_key(self.admin, acc, km.id)  # noqa: E731
            if km.status is REMOVED:
                self.fails(ConflictError, call)
            elif used:
                self.fails(SeatsInUse, call)
            else:
                assert call().status is REMOVED
                km.status = REMOVED

    @precondition(lambda self: self.keys)
    @rule(k=st.integers(0, 9))
    def grant_or_revoke_license_administrator(self, k: int) -> None:
        km: KeyModel = pick(self.keys, k)
        acc, user = self.account_id, self.license_admin_id
        if km.id in self.granted:
            self.kit.revoke_license_administrator(self.admin, acc, user, km.id)
            self.granted.remove(km.id)
            return
        call = lambda: self.kit.grant_license_administrator(self.admin, acc, user, km.id)  # noqa: E731
        if km.status is REMOVED:
            self.fails(ConflictError, call)
            return
        assert km.id in call().license_keys
        self.granted.add(km.id)

    # -- invitations to install -------------------------------------------------------------

    @precondition(lambda self: self.keys)
    @rule(
        k=st.integers(0, 9),
        emails=st.lists(st.sampled_from(EMAILS), min_size=1, max_size=3),
        max_activations=st.integers(1, 3),
        lifetime=st.sampled_from(INVITATION_LIFETIMES),
        send=st.booleans(),
    )
    def invite(
        self,
        k: int,
        emails: list[str],
        max_activations: int,
        lifetime: dt.timedelta | str,
        send: bool,
    ) -> None:
        km: KeyModel = pick(self.keys, k)
        call = lambda: self.kit.invite_installers(  # noqa: E731
            self.admin,
            self.account_id,
            km.id,
            emails,
            expires_in=lifetime,
            max_activations=max_activations,
            send=send,
        )
        if not self.key_usable(km):
            self.fails(ConflictError, call)
            return
        sent_before = len(self.kit.mailer.sent)
        batch = call()
        expected = list(dict.fromkeys(emails))
        assert [i.email for i in batch.invited] == expected
        assert len(batch.skipped) == len(emails) - len(expected)
        free = km.seats - self.used(km.id)
        assert batch.seats_free == free
        expires_at = batch.invited[0].expires_at
        outlives_key = km.expires_at is not None and expires_at > km.expires_at
        assert len(batch.warnings) == (len(expected) > free) + outlives_key
        if send:
            messages = self.kit.mailer.sent[sent_before:]
            assert [m.to for m in messages] == expected
            secrets = [(m.data["code"], m.data["token"]) for m in messages]
        else:
            assert len(self.kit.mailer.sent) == sent_before
            exported = self.kit.export_install_invitations(
                self.admin, self.account_id, km.id, invitation_ids=[i.id for i in batch.invited]
            )
            rows = list(csv.reader(io.StringIO(exported)))[1:]
            assert [r[0] for r in rows] == expected
            secrets = [(r[1], r[2].split("token=", 1)[1]) for r in rows]
        for view, (code, token) in zip(batch.invited, secrets, strict=True):
            assert view.max_activations == max_activations
            assert view.activations == 0
            assert view.expires_at == expires_at
            self.invites.append(
                InviteModel(
                    view.id, km.id, view.email, code, token, max_activations, expires_at, send
                )
            )

    @precondition(lambda self: self.invites)
    @rule(i=st.integers(0, 99))
    def revoke(self, i: int) -> None:
        inv: InviteModel = pick(self.invites, i)
        call = lambda: self.kit.revoke_install_invitation(self.admin, self.account_id, inv.id)  # noqa: E731
        if inv.revoked:
            self.fails(InvitationRevoked, call)
            return
        assert call().revoked_at == self.now
        inv.revoked = True

    @precondition(lambda self: self.invites)
    @rule(i=st.integers(0, 99))
    def describe_the_download_link(self, i: int) -> None:
        """The download page serves a link while its code and its key work."""
        inv: InviteModel = pick(self.invites, i)
        km = self.key(inv.key_id)
        call = lambda: self.kit.describe_install_invitation(inv.token)  # noqa: E731
        error = self.dead(inv) or (None if self.key_usable(km) else LicenseKeyUnavailable)
        if error is not None:
            event(f"describe: {error.__name__}")
            self.fails(error, call)
            return
        preview = call()
        assert (preview.invitation_id, preview.product, preview.email) == (
            inv.id,
            km.product,
            inv.email,
        )

    # -- activation -------------------------------------------------------------------------

    @precondition(lambda self: self.invites)
    @rule(i=st.integers(0, 99), c=st.integers(0, len(COMPUTERS) - 1))
    def activate_with_the_code(self, i: int, c: int) -> None:
        self.activate(pick(self.invites, i), COMPUTERS[c], "code")

    @precondition(lambda self: self.invites)
    @rule(i=st.integers(0, 99), c=st.integers(0, len(COMPUTERS) - 1))
    def activate_with_the_code_as_typed(self, i: int, c: int) -> None:
        self.activate(pick(self.invites, i), COMPUTERS[c], "typed code")

    @precondition(lambda self: self.invites)
    @rule(i=st.integers(0, 99), c=st.integers(0, len(COMPUTERS) - 1))
    def activate_with_the_token(self, i: int, c: int) -> None:
        self.activate(pick(self.invites, i), COMPUTERS[c], "token")

    @precondition(lambda self: self.invites)
    @rule(i=st.integers(0, 99), c=st.integers(0, len(COMPUTERS) - 1), wrong=st.booleans())
    def activate_naming_the_product(self, i: int, c: int, wrong: bool) -> None:
        inv: InviteModel = pick(self.invites, i)
        product = "Other Tool" if wrong else self.key(inv.key_id).product.upper()
        self.activate(inv, COMPUTERS[c], "code", product=product)

    @precondition(lambda self: self.installs and self.invites)
    @rule(n=st.integers(0, 99), i=st.integers(0, 99))
    def activate_an_installed_computer(self, n: int, i: int) -> None:
        """A computer that holds (or held) a seat comes back, with any code of its key:
        its own (again), or another (a takeover, refused while it holds the seat)."""
        inst = self._installation(n)
        same_key = [x for x in self.invites if x.key_id == inst.key_id]
        self.activate(pick(same_key, i), inst.computer_id, "token" if i % 2 else "code")

    @precondition(lambda self: self.blocks and self.invites)
    @rule(b=st.integers(0, 99), i=st.integers(0, 99))
    def activate_a_blocked_computer(self, b: int, i: int) -> None:
        """A blocked computer tries a working code: refused under the keys its blocks cover,
        treated like any computer under the others."""
        computer, _ = pick(sorted(self.blocks, key=sort_key), b)
        live = [x for x in self.invites if self.dead(x) is None]
        outcome = self.activate(pick(live or self.invites, i), computer, "code")
        event(f"blocked computer: {'activated' if outcome is None else outcome.__name__}")

    def predict(
        self, inv: InviteModel, computer: str, product: str | None
    ) -> type[LicenseKitError] | None:
        """The error activating *computer* with *inv*'s code raises, or None."""
        km = self.key(inv.key_id)
        existing = self.installs.get((km.id, computer))
        seated = existing is not None and existing.active
        returning = self.returning(inv, computer)
        error = self.dead(inv)
        if error is None and product is not None and product.casefold() != km.product.casefold():
            error = ActivationCodeWrongProduct
        if error is None and not self.key_usable(km):
            error = LicenseKeyUnavailable
        # Used up before the computer, so that a used-up code probes no computer.
        if error is None and not returning and inv.activations >= inv.max_activations:
            error = ActivationCodeUsedUp
        if error is None and self.blocked(computer, km.id):
            error = ComputerBlocked
        if error is None and seated and existing is not None and existing.invitation_id != inv.id:
            error = ComputerAlreadyActivated
        if error is None and not seated and self.used(km.id) >= km.seats:
            error = SeatsFull
        # A code locked for its refusals refuses what it is to blame for, but never a usable
        # code, never what is not its fault, and never a computer returning to it.
        if (
            error is not None
            and not issubclass(error, NOT_COUNTED)
            and not returning
            and inv.throttle is not None
            and inv.throttle.locked(self.now)
        ):
            return TooManyAttempts
        return error

    def returning(self, inv: InviteModel, computer: str) -> bool:
        """Whether *computer* holds a claim on *inv*'s code, or its seat through it."""
        existing = self.installs.get((inv.key_id, computer))
        return computer in inv.computers or (
            existing is not None and existing.active and existing.invitation_id == inv.id
        )

    def activate(
        self, inv: InviteModel, computer: str, how: str, *, product: str | None = None
    ) -> type[LicenseKitError] | None:
        """Activate *computer* with *inv*'s code or token and check the predicted outcome."""
        km = self.key(inv.key_id)

        def call() -> Any:
            if how == "token":
                return self.kit.activate(token=inv.token, computer_id=computer, product=product)
            code = inv.code if how == "code" else typed(inv.code)
            return self.kit.activate(code=code, computer_id=computer, product=product)

        error = self.predict(inv, computer, product)
        if error is TooManyAttempts:
            event("activation: TooManyAttempts")
            self.fails(TooManyAttempts, call)
            return error
        if error is not None:
            event(f"activation: {error.__name__}")
            self.fails(error, call, refusal_of=inv, returning=self.returning(inv, computer))
            return error
        existing = self.installs.get((km.id, computer))
        seated = existing is not None and existing.active
        new_claim = computer not in inv.computers
        locked = inv.throttle is not None and inv.throttle.locked(self.now)
        result = call()
        event(
            "activation: already active"
            if seated
            else "activation: new installation"
            if existing is None
            else "activation: reactivated"
        )
        if locked:
            event("activation: a success while the code is locked")
        assert result.already_active is seated
        assert (result.key_id, result.email, result.computer_id) == (km.id, inv.email, computer)
        if existing is None:
            existing = InstallModel(
                result.installation_id,
                km.id,
                computer,
                inv.id,
                True,
                result.installation_token,
                self.now,
            )
            self.installs[(km.id, computer)] = existing
        else:
            assert result.installation_id == existing.id
            existing.old_tokens.append(existing.token)
            existing.token = result.installation_token
            if not seated:
                existing.activated_at = self.now
            existing.active = True
            if existing.culled_at is not None and existing.invitation_id != inv.id:
                # A culled computer's claim on its earlier code ends when another code
                # gives it its seat back.
                earlier = self.invites_by_id[existing.invitation_id].computers
                if computer in earlier:
                    earlier.remove(computer)
            existing.invitation_id = inv.id
        existing.culled_at = None
        existing.last_seen = self.now
        assert result.activated_at == existing.activated_at
        if new_claim:
            inv.activations += 1
            inv.computers.append(computer)
        if not locked:
            inv.throttle = None  # a success clears the code's refusals, but never a lock
        stored = self.stored_invitation(inv.id)
        assert (stored.activations, stored.computer_ids) == (inv.activations, tuple(inv.computers))
        return None

    @precondition(lambda self: any(self.dead(i) for i in self.invites))
    @rule(i=st.integers(0, 99), c=st.integers(0, len(COMPUTERS) - 1), how=st.sampled_from(HOW))
    def dead_code_never_activates(self, i: int, c: int, how: str) -> None:
        """A revoked or expired code is refused, for a new computer and a seated one alike."""
        inv: InviteModel = pick([x for x in self.invites if self.dead(x)], i)
        assert self.activate(inv, COMPUTERS[c], how) in (self.dead(inv), TooManyAttempts)

    @rule(
        kind=st.sampled_from(["unknown code", "mistyped code", "unknown token"]),
        c=st.integers(0, len(COMPUTERS) - 1),
    )
    def activate_with_what_was_never_issued(self, kind: str, c: int) -> None:
        computer = COMPUTERS[c]
        if kind == "unknown code":
            self.fails(
                ActivationCodeNotFound,
                lambda: self.kit.activate(code=new_activation_code(), computer_id=computer),
                guessing=ACTIVATION_GUESSES,
            )
        elif kind == "unknown token":
            self.fails(
                ActivationCodeNotFound,
                lambda: self.kit.activate(token="x" * 32, computer_id=computer),
                guessing=ACTIVATION_GUESSES,
            )
        else:
            code = new_activation_code()
            wrong = "0" if code[0] != "0" else "1"
            self.fails(
                ActivationCodeMistyped,
                lambda: self.kit.activate(code=wrong + code[1:], computer_id=computer),
            )

    # -- installations ----------------------------------------------------------------------

    def _installation(self, n: int) -> InstallModel:
        found: InstallModel = pick(sorted(self.installs.values(), key=lambda i: i.id), n)
        return found

    @precondition(lambda self: self.installs)
    @rule(n=st.integers(0, 99), by=ACTORS)
    def deactivate(self, n: int, by: str) -> None:
        inst = self._installation(n)
        call = lambda: self.kit.deactivate_installation(  # noqa: E731
            self.session(by), self.account_id, inst.id
        )
        if not self.may_manage(by, inst.key_id):
            self.fails(PermissionDenied, call)
        elif not inst.active and inst.culled_at is None:
            self.fails(ConflictError, call)
        else:
            event(f"deactivate: {by}{'' if inst.active else ', culled'}")
            view = call()
            assert (view.status, view.deactivated_at) == (InstallationStatus.DEACTIVATED, self.now)
            self.forget(inst)

    @precondition(lambda self: self.installs and self.invites)
    @rule(n=st.integers(0, 99), by=ACTORS, i=st.integers(0, 99))
    def deactivate_and_come_back(self, n: int, by: str, i: int) -> None:
        """An administrator deactivates an installation, and its computer activates again:
        with its own code it counts as a new computer, with another invitation's it may."""
        inst = self._installation(n)
        self.deactivate(n, by)
        same_key = [x for x in self.invites if x.key_id == inst.key_id]
        self.activate(pick(same_key, i), inst.computer_id, "code")

    @precondition(lambda self: self.installs)
    @rule(n=st.integers(0, 99), by=ACTORS)
    def block(self, n: int, by: str) -> None:
        """An Account Administrator blocks the computer in the whole account and frees its
        seats under every key; a License Administrator, under the installation's key only."""
        inst = self._installation(n)
        call = lambda: self.kit.block_computer(  # noqa: E731
            self.session(by), self.account_id, inst.id, notes="lost"
        )
        if not self.may_manage(by, inst.key_id):
            self.fails(PermissionDenied, call)
            return
        scope = None if by == ADMIN else inst.key_id
        if (inst.computer_id, scope) in self.blocks:
            self.fails(ConflictError, call)
            return
        _, events = self.snapshot()
        block = call()
        assert (block.computer_id, block.key_id, block.notes) == (inst.computer_id, scope, "lost")
        covered = [
            other
            for other in self.installs.values()
            if other.computer_id == inst.computer_id
            and (other.active or other.culled_at is not None)
            and (scope is None or other.key_id == scope)
        ]
        event(f"block: {by}, {len(covered)} deactivated")
        for other in covered:
            self.forget(other)
        self.blocks.add((inst.computer_id, scope))
        _, after = self.snapshot()
        new = [e for e in after if e not in events]
        assert [(e.action, e.subject) for e in new] == [
            (AuditAction.COMPUTER_BLOCKED, inst.computer_id)
        ]
        details = new[0].details
        assert (details["scope"], details["installation_id"], details["notes"]) == (
            scope or "account",
            inst.id,
            "lost",
        )
        assert sorted(details["deactivated"].split()) == sorted(o.id for o in covered)

    @precondition(lambda self: self.keys)
    @rule(c=st.integers(0, 99), s=st.integers(0, 99), by=ACTORS)
    def unblock(self, c: int, s: int, by: str) -> None:
        """Mostly a block that exists, in its scope; sometimes any computer, in any scope."""
        if self.blocks and c % 4:
            computer, key_id = pick(sorted(self.blocks, key=sort_key), c // 4)
        else:
            computer = pick(COMPUTERS, c)
            key_id = pick([None, *(k.id for k in self.keys), unknown_id(self.keys[0].id)], s)
        call = lambda: self.kit.unblock_computer(  # noqa: E731
            self.session(by), self.account_id, computer, key_id=key_id
        )
        if key_id is not None and key_id not in {k.id for k in self.keys}:
            self.fails(LicenseKeyNotFound, call)
        elif key_id is None and by != ADMIN:
            # Only an Account Administrator lifts an account-wide block.
            self.fails(PermissionDenied, call)
        elif key_id is not None and not self.may_manage(by, key_id):
            self.fails(PermissionDenied, call)
        elif (computer, key_id) not in self.blocks:
            self.fails(NotFound, call)
        else:
            event(f"unblock: {by}, {'account-wide' if key_id is None else 'one key'}")
            _, events = self.snapshot()
            call()
            self.blocks.remove((computer, key_id))
            _, after = self.snapshot()
            assert [
                (e.action, e.subject, e.details["scope"]) for e in after if e not in events
            ] == [(AuditAction.COMPUTER_UNBLOCKED, computer, key_id or "account")]

    def network_locked(self) -> bool:
        return self.network is not None and self.network.locked(self.now)

    @rule()
    def check_in_a_forged_token_from_the_network(self) -> None:
        self.check_in_unknown("forged-installation-token", from_network=True)

    @precondition(lambda self: self.installs)
    @rule(n=st.integers(0, 99), old=st.booleans(), from_network=st.booleans())
    def check_in(self, n: int, old: bool, from_network: bool) -> None:
        """A product checks in, perhaps with the token a later activation replaced. From the
        client NETWORK, unknown tokens count and, once it is locked, are refused; a known
        token always passes, lock or not."""
        inst = self._installation(n)
        client = NETWORK if from_network else ""
        if old and inst.old_tokens:
            self.check_in_unknown(inst.old_tokens[-1], from_network=from_network)
            return
        if from_network and self.network_locked():
            event("check-in: known token from the locked client")
        before = self.throttles()
        returns = self.returns(inst)
        result = self.kit.check_in(inst.token, client=client)
        view = result.installation
        assert self.throttles() == before, "a known token changed a throttle record"
        assert view.id == inst.id
        assert result.returned is returns
        if returns:
            event("check-in: a culled installation takes a seat back")
            inst.active, inst.culled_at, inst.last_seen = True, None, self.now
        assert view.status is (
            InstallationStatus.ACTIVE
            if inst.active
            else InstallationStatus.CULLED
            if inst.culled_at is not None
            else InstallationStatus.DEACTIVATED
        )
        if inst.active and (
            inst.last_seen is None or self.now - inst.last_seen >= dt.timedelta(hours=6)
        ):
            inst.last_seen = self.now
        if inst.active:
            assert view.last_seen_at == inst.last_seen

    def returns(self, inst: InstallModel) -> bool:
        """Whether a check-in of *inst* now takes a seat back after a cull."""
        km = self.key(inst.key_id)
        return (
            inst.culled_at is not None
            and not inst.active
            and not self.blocked(inst.computer_id, km.id)
            and self.now - inst.culled_at < dt.timedelta(days=30)
            and self.key_usable(km)
            and self.used(km.id) < km.seats
        )

    @rule()
    def cull(self) -> None:
        """The host's job frees the seats of installations silent for their key's dead-after
        time; their computers keep their claims on their codes."""
        dead = [
            inst
            for inst in self.installs.values()
            if inst.active
            and (km := self.key(inst.key_id)).dead_after is not None
            and inst.last_seen is not None
            and self.now - inst.last_seen >= km.dead_after
        ]
        report = self.kit.cull_installations()
        assert report.culled == len(dead)
        assert report.keys == sum(1 for k in self.keys if k.dead_after is not None)
        event(f"cull: {min(len(dead), 2)}{'+' if len(dead) > 2 else ''} culled")
        for inst in dead:
            inst.active, inst.culled_at = False, self.now

    @precondition(lambda self: self.installs)
    @rule(n=st.integers(0, 99), seats=st.booleans())
    def go_silent_then_come_back(self, n: int, seats: bool) -> None:
        """A key culls; two days pass without a check-in; the job culls; perhaps a seat is
        added; a copy checks in: a culled one takes a seat back if one is free."""
        inst = self._installation(n)
        km = self.key(inst.key_id)
        if km.dead_after is None and km.status is not REMOVED:
            self.administer_key(self.keys.index(km), "cull after 2 days")
        self.kit.clock.advance(dt.timedelta(days=2))
        self.cull()
        if seats:
            self.administer_key(self.keys.index(km), "more seats")
        self.check_in(n, old=False, from_network=False)

    def check_in_unknown(self, token: str, *, from_network: bool) -> None:
        """An unknown token counts against the check-ins' own overall guessing limit and, from
        NETWORK, against that client's; while the client is locked it is refused (and counted
        overall only)."""
        client = NETWORK if from_network else ""
        if from_network and self.network_locked():
            event("check-in: unknown token from the locked client")
            self.fails(
                TooManyAttempts,
                lambda: self.kit.check_in(token, client=client),
                guessing=CHECK_IN_GUESSES,
            )
            return
        client_key = f"check-in:client:{NETWORK}" if from_network else None
        self.fails(
            InstallationNotFound,
            lambda: self.kit.check_in(token, client=client),
            guessing=CHECK_IN_GUESSES,
            client_key=client_key,
        )
        if client_key is None:
            return
        self.network = after_refusal(self.network, self.now, CLIENT_THROTTLE)
        stored = self.throttles()[client_key]
        assert (stored.failures, stored.window_started_at) == (
            self.network.failures,
            self.network.since,
        )
        assert locked_until(stored, self.now) == (
            self.network.locked_until if self.network_locked() else None
        )

    @rule(step=st.sampled_from(STEPS))
    def advance_clock(self, step: dt.timedelta) -> None:
        self.kit.clock.advance(step)

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def active_installations_never_exceed_seats_and_are_counted_exactly(self) -> None:
        keys, _, installs = self.stored()
        assert len(keys) == len(self.keys)
        for key in keys:
            active = sum(1 for i in installs if i.key_id == key.id and i.is_active)
            assert active <= key.seats, f"key {key.id}: {active} active, {key.seats} seats"
            assert key.seats_used == active
            km = self.key(key.id)
            assert (key.seats, key.status, key.expires_at) == (km.seats, km.status, km.expires_at)
            assert key.seats_used == self.used(key.id)

    @invariant()
    def installations_match_the_model(self) -> None:
        _, _, installs = self.stored()
        assert len({(i.key_id, i.computer_id) for i in installs}) == len(installs)
        invites = self.invites_by_id
        assert {
            (i.key_id, i.computer_id): (i.id, i.is_active, i.invitation_id, i.email)
            for i in installs
        } == {
            k: (m.id, m.active, m.invitation_id, invites[m.invitation_id].email)
            for k, m in self.installs.items()
        }

    @invariant()
    def no_code_activates_more_computers_than_it_allows(self) -> None:
        _, invites, installs = self.stored()
        assert {i.id for i in invites} == {i.id for i in self.invites}
        by_id = {i.id: i for i in invites}
        for inv in self.invites:
            stored = by_id[inv.id]
            assert len(stored.computer_ids) <= stored.activations <= stored.max_activations
            assert (stored.activations, stored.computer_ids) == (
                inv.activations,
                tuple(inv.computers),
            )
            assert stored.max_activations == inv.max_activations
            assert (stored.revoked_at is not None) == inv.revoked
            # A computer has a claim on a code exactly while it holds a seat through it, or
            # lost the seat to a cull (it may come back).
            assert set(stored.computer_ids) == {
                i.computer_id
                for i in installs
                if i.invitation_id == inv.id
                and i.status in (InstallationStatus.ACTIVE, InstallationStatus.CULLED)
            }

    @invariant()
    def no_code_outlives_its_invitation(self) -> None:
        """The export lists exactly the codes that may still activate a new computer."""
        for km in self.keys:
            exported = self.kit.export_install_invitations(self.admin, self.account_id, km.id)
            codes = {row[1] for row in list(csv.reader(io.StringIO(exported)))[1:]}
            assert codes == {
                inv.code
                for inv in self.invites
                if inv.key_id == km.id
                and self.key_usable(km)
                and self.dead(inv) is None
                and inv.activations < inv.max_activations
            }

    @invariant()
    def invitations_show_their_state(self) -> None:
        """Revoked, then used up, then expired, then activated, then sent, then pending."""
        _, invites, _ = self.stored()
        states = {i.id: i.state(self.now) for i in invites}
        for inv in self.invites:
            if inv.revoked:
                expected = InstallInvitationState.REVOKED
            elif inv.activations >= inv.max_activations:
                expected = InstallInvitationState.ACTIVATED
            elif self.now >= inv.expires_at:
                expected = InstallInvitationState.EXPIRED
            elif inv.activations:
                expected = InstallInvitationState.ACTIVATED
            elif inv.sent:
                expected = InstallInvitationState.SENT
            else:
                expected = InstallInvitationState.PENDING
            assert states[inv.id] is expected, f"{inv.id}: {states[inv.id]} not {expected}"

    @invariant()
    def invitation_throttles_match_the_model(self) -> None:
        assert self.stored_throttles() == {
            inv.throttle_key: inv.throttle.seen(self.now) for inv in self.invites if inv.throttle
        }

    def _blocks_seen_by(self, session: Any) -> list[Block]:
        """Every block the listing shows *session*, walking it two at a time."""
        seen: list[Block] = []
        cursor = None
        for _ in range(len(COMPUTERS) * 4 + 1):
            page = self.kit.list_blocked_computers(session, self.account_id, cursor=cursor, limit=2)
            seen += [(b.computer_id, b.key_id) for b in page.items]
            cursor = page.next_cursor
            if cursor is None:
                return seen
        raise AssertionError("the listing of blocks does not end")

    @invariant()
    def blocks_match_the_model(self) -> None:
        assert self._blocks_seen_by(self.admin) == sorted(self.blocks, key=sort_key)
        if not self.granted:
            with pytest.raises(PermissionDenied):
                self.kit.list_blocked_computers(self.license_admin, self.account_id)
            return
        # A License Administrator sees the blocks that stop activations under their keys.
        assert self._blocks_seen_by(self.license_admin) == sorted(
            (b for b in self.blocks if b[1] is None or b[1] in self.granted), key=sort_key
        )


def test_licensing_invariants_hold_for_random_use_case_sequences(flavour: str) -> None:
    """The model and the kit agree after every step (fewer runs through the async bridge)."""
    run_state_machine_as_test(
        LicensingMachine,
        settings=settings(
            max_examples=examples(150 if flavour == "sync" else 40),
            stateful_step_count=50,
            deadline=None,
        ),
    )


# -- a computer returning to a code --------------------------------------------------------


def _two_invitations(max_activations: int) -> tuple[Any, Any, str, str, str, str]:
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="P", value="V-1234-5678", seats=3)
    kit.invite_installers(
        admin,
        account.id,
        key.id,
        ["ann@example.com", "bob@example.com"],
        max_activations=max_activations,
    )
    first = kit.mailer.last(to="ann@example.com").data["code"]
    second = kit.mailer.last(to="bob@example.com").data["code"]
    return kit, admin, account.id, key.id, first, second


def test_after_an_administrators_deactivation_a_one_computer_code_is_used_up_for_it() -> None:
    """licensing.forget_computer: the deactivation ends the computer's claim on the code."""
    kit, admin, account_id, key_id, first, _ = _two_invitations(1)
    done = kit.activate(code=first, computer_id="PC-1")
    kit.deactivate_installation(admin, account_id, done.installation_id)

    with pytest.raises(ActivationCodeUsedUp):
        kit.activate(code=first, computer_id="PC-1")

    views = kit.list_install_invitations(admin, account_id, key_id).items
    assert [v.activations for v in views] == [1, 0]
    assert views[0].state is InstallInvitationState.ACTIVATED
    installs = kit.list_installations(admin, account_id, key_id, include_inactive=True).items
    assert [(i.id, i.status) for i in installs] == [
        (done.installation_id, InstallationStatus.DEACTIVATED)
    ]
    assert kit.get_license_key(admin, account_id, key_id).seats_used == 0


def test_after_an_administrators_deactivation_a_code_with_activations_left_counts_again() -> None:
    kit, admin, account_id, key_id, first, _ = _two_invitations(2)
    done = kit.activate(code=first, computer_id="PC-1")
    kit.deactivate_installation(admin, account_id, done.installation_id)

    again = kit.activate(code=first, computer_id="PC-1")

    assert (again.installation_id, again.already_active) == (done.installation_id, False)
    views = kit.list_install_invitations(admin, account_id, key_id).items
    assert [v.activations for v in views] == [2, 0]
    with pytest.raises(ActivationCodeUsedUp):
        kit.activate(code=first, computer_id="PC-2")


def test_after_a_takeover_attempt_the_other_code_is_refused_and_nothing_changes() -> None:
    """A computer seated through one invitation cannot be taken over with another's code."""
    kit, admin, account_id, key_id, first, second = _two_invitations(1)
    done = kit.activate(code=first, computer_id="PC-1")

    with pytest.raises(ComputerAlreadyActivated):
        kit.activate(code=second, computer_id="PC-1")

    views = kit.list_install_invitations(admin, account_id, key_id).items
    assert [v.activations for v in views] == [1, 0]
    (install,) = kit.list_installations(admin, account_id, key_id).items
    assert (install.id, install.email) == (done.installation_id, "ann@example.com")
    again = kit.activate(code=first, computer_id="PC-1")
    assert (again.installation_id, again.already_active) == (done.installation_id, True)
    assert [
        v.activations for v in kit.list_install_invitations(admin, account_id, key_id).items
    ] == [
        1,
        0,
    ]
    # Once an administrator deactivates it, the other code may seat the computer.
    kit.deactivate_installation(admin, account_id, done.installation_id)
    taken = kit.activate(code=second, computer_id="PC-1")
    assert (taken.installation_id, taken.email, taken.already_active) == (
        done.installation_id,
        "bob@example.com",
        False,
    )
