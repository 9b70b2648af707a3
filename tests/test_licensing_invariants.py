"""Random sequences of licensing use cases never break the seat and activation-code rules.

A model of license keys, invitations to install, installations and computer blocks runs beside
a real LicenseKit (from ``make_licensekit``). Every step predicts the outcome from the model:
either the new state or the exact licensekit error. After every step the invariants are checked
against the store itself:

* a key's active installations never exceed its seats, and ``seats_used`` counts them exactly;
* an activation never succeeds with the code of a revoked or expired invitation, nor for a new
  computer once the code has activated as many computers as it allows;
* no code outlives its invitation: the export lists exactly the codes that still work;
* an operation the rules forbid raises the predicted error and leaves the store as it was
  (a refused activation only adds its throttle record and one ``installation.refused`` event,
  an unknown code only throttle records).
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
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from licensekit import (
    ActivationCodeExpired,
    ActivationCodeMistyped,
    ActivationCodeNotFound,
    ActivationCodeRevoked,
    ActivationCodeUsedUp,
    ActivationCodeWrongProduct,
    AuditAction,
    ComputerBlocked,
    ConflictError,
    DuplicateLicenseKey,
    InstallationNotFound,
    InstallationStatus,
    KeyStatus,
    LicenseKeyUnavailable,
    LicenseKitError,
    NotFound,
    SeatsFull,
    SeatsInUse,
    Settings,
    ThrottlePolicy,
)
from licensekit.codes import new_activation_code
from licensekit.model import AuditEvent, Installation, InstallInvitation, LicenseKey, Throttle
from licensekit.testing import make_business_account, make_licensekit

ACTIVE, SUSPENDED, REMOVED = KeyStatus.ACTIVE, KeyStatus.SUSPENDED, KeyStatus.REMOVED
EMAILS = ("ann@example.com", "bob@example.com", "cy@example.com", "dee@example.com")
COMPUTERS = ("PC-1", "PC-2", "PC-3", "PC-4", "PC-5")
STEPS = (
    dt.timedelta(minutes=10),
    dt.timedelta(hours=2),
    dt.timedelta(hours=20),
    dt.timedelta(days=4),
)
INVITATION_LIFETIMES = (dt.timedelta(hours=3), "1d", "3d")
KEY_LIFETIMES = (None, None, dt.timedelta(days=2), dt.timedelta(days=9))
HOW = ("code", "typed code", "token")
KEY_ACTIONS = (
    "more seats",
    "more seats",
    "fewer seats",
    "fewer seats",
    "suspend",
    "resume",
    "clear expiry",
    "add again",
    "remove",
)
OVERALL_THROTTLE = "activation:*"
# Throttling is tested elsewhere; here a refusal must never turn into TooManyAttempts.
SETTINGS = Settings(
    session_lifetime=dt.timedelta(days=3650),
    activation_invitation_throttle=ThrottlePolicy(max_failures=1_000_000),
    activation_overall_throttle=ThrottlePolicy(max_failures=1_000_000),
)


@dataclass
class KeyModel:
    id: str
    value: str
    product: str
    seats: int
    expires_at: dt.datetime | None
    status: KeyStatus = ACTIVE


@dataclass
class InviteModel:
    id: str
    key_id: str
    email: str
    code: str
    token: str
    max_activations: int
    expires_at: dt.datetime
    revoked: bool = False
    computers: set[str] = field(default_factory=set)
    """The different computers that ever activated with this invitation's code or link."""
    counted: int = 0
    """The invitation's stored ``activations``, as last read after a successful activation."""


@dataclass
class InstallModel:
    id: str
    key_id: str
    computer_id: str
    invitation_id: str
    """The invitation of the latest activation (another code may take a seated computer over)."""
    active: bool
    token: str
    old_tokens: list[str] = field(default_factory=list)


def pick(items: list[Any] | tuple[Any, ...], index: int) -> Any:
    return items[index % len(items)]


def typed(code: str) -> str:
    """The code as a person might type it: lower case, spaces for dashes."""
    return code.lower().replace("-", " ")


class LicensingMachine(RuleBasedStateMachine):
    """Drives the licensing use cases at random and checks them against a model after each."""

    def __init__(self) -> None:
        super().__init__()
        self.kit = make_licensekit(settings=SETTINGS)
        self.admin, account = make_business_account(self.kit)
        self.account_id = account.id
        self.keys: list[KeyModel] = []
        self.invites: list[InviteModel] = []
        self.installs: dict[tuple[str, str], InstallModel] = {}
        self.blocks: dict[str, str] = {}
        """computer id -> the key it was blocked under."""

    # -- helpers ----------------------------------------------------------------------------

    @property
    def now(self) -> dt.datetime:
        return self.kit.clock.now()

    def snapshot(self) -> tuple[Counter[object], list[AuditEvent]]:
        """The stored records but throttles and audit events, and the audit events."""
        records = self.kit.store.dump()
        kept = Counter(r for r in records if not isinstance(r, Throttle | AuditEvent))
        events = sorted((r for r in records if isinstance(r, AuditEvent)), key=lambda e: e.id)
        return kept, events

    def state(self) -> tuple[Counter[object], list[AuditEvent], list[Throttle], int]:
        kept, events = self.snapshot()
        throttles = [r for r in self.kit.store.dump() if isinstance(r, Throttle)]
        return kept, events, throttles, len(self.kit.mailer.sent)

    def unchanged(
        self,
        before: tuple[Counter[object], list[AuditEvent], list[Throttle], int],
        error: LicenseKitError,
        *,
        refusal_of: InviteModel | None = None,
        guessing: bool = False,
    ) -> None:
        """Check that the call that raised *error* changed nothing stored it should not.

        With *refusal_of*, a refused activation of that invitation: one ``installation.refused``
        event naming the reason is recorded, and the invitation's throttle record counts it.
        With *guessing*, an unknown code or token: the overall throttle record counts it.
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
        counting = (
            f"activation:invitation:{refusal_of.id}"
            if refusal_of is not None
            else OVERALL_THROTTLE
            if guessing
            else None
        )
        after = [r for r in self.kit.store.dump() if isinstance(r, Throttle)]
        assert [r for r in after if r.key != counting] == [
            r for r in throttles if r.key != counting
        ]

    def fails(
        self,
        expected: type[LicenseKitError],
        call: Callable[[], object],
        *,
        refusal_of: InviteModel | None = None,
        guessing: bool = False,
    ) -> None:
        """Run a forbidden call: it raises exactly *expected* and changes nothing stored."""
        before = self.state()
        with pytest.raises(LicenseKitError) as info:
            call()
        assert type(info.value) is expected, f"expected {expected.__name__}, got {info.value!r}"
        self.unchanged(before, info.value, refusal_of=refusal_of, guessing=guessing)

    def key(self, key_id: str) -> KeyModel:
        return next(k for k in self.keys if k.id == key_id)

    def used(self, key_id: str) -> int:
        return sum(1 for i in self.installs.values() if i.key_id == key_id and i.active)

    def key_expired(self, k: KeyModel) -> bool:
        return k.expires_at is not None and self.now >= k.expires_at

    def dead(self, inv: InviteModel) -> type[LicenseKitError] | None:
        """Why *inv*'s code cannot activate anything at all now, if it cannot."""
        if inv.revoked:
            return ActivationCodeRevoked
        if self.now >= inv.expires_at:
            return ActivationCodeExpired
        return None

    def stored(self) -> tuple[list[LicenseKey], list[InstallInvitation], list[Installation]]:
        with self.kit.store.transaction() as tx:
            keys = list(tx.list_license_keys(self.account_id, after=None, limit=10_000))
            invites = [
                i for k in keys for i in tx.list_install_invitations(k.id, after=None, limit=10_000)
            ]
            installs = [
                i for k in keys for i in tx.list_installations(k.id, after=None, limit=10_000)
            ]
        return keys, invites, installs

    def stored_invitation(self, invitation_id: str) -> InstallInvitation:
        with self.kit.store.transaction() as tx:
            found = tx.get_install_invitation(invitation_id)
        assert found is not None
        return found

    # -- setup ------------------------------------------------------------------------------

    @initialize(
        seats=st.integers(1, 3), emails=st.integers(1, 4), max_activations=st.integers(1, 3)
    )
    def a_key_with_invitations(self, seats: int, emails: int, max_activations: int) -> None:
        self.add_key(seats, None)
        self.invite(0, list(EMAILS[:emails]), max_activations, "3d", True)

    # -- license keys -----------------------------------------------------------------------

    @precondition(lambda self: len(self.keys) < 3)
    @rule(seats=st.integers(1, 4), lifetime=st.sampled_from(KEY_LIFETIMES))
    def add_key(self, seats: int, lifetime: dt.timedelta | None) -> None:
        n = len(self.keys)
        value = f"KEY{n}-7QX2-M4PB-ZR9{n}"
        product = f"Product {n}"
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
        assert view.masked_value == f"****-****-****-ZR9{n}"
        self.keys.append(KeyModel(view.id, value, product, seats, expires_at))

    @precondition(lambda self: self.keys)
    @rule(k=st.integers(0, 9), action=st.sampled_from(KEY_ACTIONS))
    def administer_key(self, k: int, action: str) -> None:
        km: KeyModel = pick(self.keys, k)
        used = self.used(km.id)
        acc = self.account_id
        if action == "add again":
            self.fails(
                DuplicateLicenseKey,
                lambda: self.kit.add_license_key(
                    self.admin, acc, product="Again", value=km.value.lower(), seats=9
                ),
            )
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
            call = lambda: self.kit.resume_license_key(self.admin, acc, km.id)  # noqa: E731
            if km.status is not SUSPENDED:
                self.fails(ConflictError, call)
            else:
                assert call().status is ACTIVE
                km.status = ACTIVE
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
        if km.status is not ACTIVE or self.key_expired(km):
            self.fails(ConflictError, call)
            return
        sent_before = len(self.kit.mailer.sent)
        batch = call()
        expected = list(dict.fromkeys(emails))
        assert [i.email for i in batch.invited] == expected
        assert len(batch.skipped) == len(emails) - len(expected)
        free = km.seats - self.used(km.id)
        assert batch.seats_free == free
        assert bool(batch.warnings) == (len(expected) > free)
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
            self.invites.append(
                InviteModel(
                    view.id, km.id, view.email, code, token, max_activations, view.expires_at
                )
            )

    @precondition(lambda self: self.invites)
    @rule(i=st.integers(0, 99))
    def revoke(self, i: int) -> None:
        inv: InviteModel = pick(self.invites, i)
        call = lambda: self.kit.revoke_install_invitation(self.admin, self.account_id, inv.id)  # noqa: E731
        if inv.revoked:
            self.fails(ConflictError, call)
            return
        assert call().revoked_at == self.now
        inv.revoked = True

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
        """A computer that holds (or held) a seat comes back, with any code of its key."""
        inst = self._installation(n)
        same_key = [x for x in self.invites if x.key_id == inst.key_id]
        self.activate(pick(same_key, i), inst.computer_id, "token" if i % 2 else "code")

    def activate(
        self, inv: InviteModel, computer: str, how: str, *, product: str | None = None
    ) -> None:
        """Activate *computer* with *inv*'s code or token and check the predicted outcome."""
        km = self.key(inv.key_id)

        def call() -> Any:
            if how == "token":
                return self.kit.activate(token=inv.token, computer_id=computer, product=product)
            code = inv.code if how == "code" else typed(inv.code)
            return self.kit.activate(code=code, computer_id=computer, product=product)

        existing = self.installs.get((km.id, computer))
        error = self.dead(inv)
        if error is None and product is not None and product.casefold() != km.product.casefold():
            error = ActivationCodeWrongProduct
        if error is None and (km.status is not ACTIVE or self.key_expired(km)):
            error = LicenseKeyUnavailable
        if error is None and computer in self.blocks:
            error = ComputerBlocked
        if error is not None:
            event(f"activation: {error.__name__}")
            self.fails(error, call, refusal_of=inv)
            return
        # A computer that activated with this code before is not a new one for it, and may
        # activate again without using up another activation. A computer that holds a seat
        # keeps it; another invitation's code takes it over as one of its own activations.
        seated = existing is not None and existing.active
        new_computer = computer not in inv.computers
        outcome: type[LicenseKitError] | None = None
        if new_computer and len(inv.computers) >= inv.max_activations:
            outcome = ActivationCodeUsedUp
        elif not seated and self.used(km.id) >= km.seats:
            outcome = SeatsFull
        if outcome is not None:
            event(f"activation: {outcome.__name__}")
            self.fails(outcome, call, refusal_of=inv)
            return
        result = call()
        event(
            "activation: already active"
            if seated
            else "activation: took a seat"
            if new_computer
            else "activation: seat again"
        )
        assert result.already_active is seated
        assert (result.key_id, result.email, result.computer_id) == (km.id, inv.email, computer)
        if not seated:
            assert result.activated_at == self.now
        if existing is None:
            existing = InstallModel(
                result.installation_id, km.id, computer, inv.id, True, result.installation_token
            )
            self.installs[(km.id, computer)] = existing
        else:
            assert result.installation_id == existing.id
            existing.old_tokens.append(existing.token)
            existing.token = result.installation_token
            existing.active = True
            existing.invitation_id = inv.id
        inv.computers.add(computer)
        counted = self.stored_invitation(inv.id).activations
        assert counted == inv.counted + (1 if new_computer else 0)
        inv.counted = counted

    @precondition(lambda self: any(self.dead(i) for i in self.invites))
    @rule(i=st.integers(0, 99), c=st.integers(0, len(COMPUTERS) - 1), how=st.sampled_from(HOW))
    def dead_code_never_activates(self, i: int, c: int, how: str) -> None:
        """A revoked or expired code is refused, for a new computer and a seated one alike."""
        inv: InviteModel = pick([x for x in self.invites if self.dead(x)], i)
        error = self.dead(inv)
        assert error is not None
        computer = COMPUTERS[c]
        if how == "token":
            call = lambda: self.kit.activate(token=inv.token, computer_id=computer)  # noqa: E731
        else:
            code = inv.code if how == "code" else typed(inv.code)
            call = lambda: self.kit.activate(code=code, computer_id=computer)  # noqa: E731
        self.fails(error, call, refusal_of=inv)

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
                guessing=True,
            )
        elif kind == "unknown token":
            self.fails(
                ActivationCodeNotFound,
                lambda: self.kit.activate(token="x" * 32, computer_id=computer),
                guessing=True,
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
    @rule(n=st.integers(0, 99))
    def deactivate(self, n: int) -> None:
        inst = self._installation(n)
        call = lambda: self.kit.deactivate_installation(self.admin, self.account_id, inst.id)  # noqa: E731
        if not inst.active:
            self.fails(ConflictError, call)
            return
        view = call()
        assert (view.status, view.deactivated_at) == (InstallationStatus.DEACTIVATED, self.now)
        inst.active = False

    @precondition(lambda self: self.installs)
    @rule(n=st.integers(0, 99))
    def block(self, n: int) -> None:
        inst = self._installation(n)
        call = lambda: self.kit.block_computer(self.admin, self.account_id, inst.id, notes="lost")  # noqa: E731
        if inst.computer_id in self.blocks:
            self.fails(ConflictError, call)
            return
        block = call()
        assert (block.computer_id, block.key_id) == (inst.computer_id, inst.key_id)
        # An Account Administrator's block frees the computer's seats under every key.
        for other in self.installs.values():
            if other.computer_id == inst.computer_id:
                other.active = False
        self.blocks[inst.computer_id] = inst.key_id

    @precondition(lambda self: self.blocks)
    @rule(c=st.integers(0, 99))
    def unblock(self, c: int) -> None:
        """Mostly a blocked computer, sometimes any."""
        computer = pick(sorted(self.blocks) if c % 4 else COMPUTERS, c // 4)
        call = lambda: self.kit.unblock_computer(self.admin, self.account_id, computer)  # noqa: E731
        if computer not in self.blocks:
            self.fails(NotFound, call)
            return
        call()
        del self.blocks[computer]

    @precondition(lambda self: self.installs)
    @rule(n=st.integers(0, 99), old=st.booleans())
    def check_in(self, n: int, old: bool) -> None:
        inst = self._installation(n)
        if old and inst.old_tokens:
            token = inst.old_tokens[-1]
            # An unknown token counts against the overall guessing limit.
            self.fails(
                InstallationNotFound,
                lambda: self.kit.check_in(token),
                guessing=True,
            )
            return
        view = self.kit.check_in(inst.token)
        assert view.id == inst.id
        assert view.status is (
            InstallationStatus.ACTIVE if inst.active else InstallationStatus.DEACTIVATED
        )
        if inst.active:
            assert view.last_seen_at == self.now

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
        assert {
            (i.key_id, i.computer_id): (i.id, i.is_active, i.invitation_id) for i in installs
        } == {k: (m.id, m.active, m.invitation_id) for k, m in self.installs.items()}

    @invariant()
    def no_code_activates_more_computers_than_it_allows(self) -> None:
        _, invites, installs = self.stored()
        assert {i.id for i in invites} == {i.id for i in self.invites}
        by_id = {i.id: i for i in invites}
        for inv in self.invites:
            stored = by_id[inv.id]
            assert len(inv.computers) <= stored.activations <= stored.max_activations
            assert stored.max_activations == inv.max_activations
            assert (stored.revoked_at is not None) == inv.revoked
        for inst in installs:
            assert inst.computer_id in self.invites_by_id[inst.invitation_id].computers

    @property
    def invites_by_id(self) -> dict[str, InviteModel]:
        return {i.id: i for i in self.invites}

    @invariant()
    def no_code_outlives_its_invitation(self) -> None:
        """The export lists exactly the codes that may still activate a new computer."""
        _, invites, _ = self.stored()
        counted = {i.id: i.activations for i in invites}
        for km in self.keys:
            exported = self.kit.export_install_invitations(self.admin, self.account_id, km.id)
            codes = {row[1] for row in list(csv.reader(io.StringIO(exported)))[1:]}
            assert codes == {
                inv.code
                for inv in self.invites
                if inv.key_id == km.id
                and self.dead(inv) is None
                and counted[inv.id] < inv.max_activations
            }

    @invariant()
    def blocks_match_the_model(self) -> None:
        page = self.kit.list_blocked_computers(self.admin, self.account_id, limit=500)
        assert {b.computer_id: b.key_id for b in page.items} == self.blocks


LicensingMachine.TestCase.settings = settings(stateful_step_count=50, deadline=None)
test_licensing_invariants_hold_for_random_use_case_sequences = LicensingMachine.TestCase


# -- a computer returning to an earlier code -------------------------------


@pytest.mark.parametrize("between", ["deactivation", "takeover"])
def test_a_computer_returning_to_its_first_code_does_not_use_it_up(between: str) -> None:
    """licensing.activate: "a computer that activated with this code before is not a new one"."""
    kit = make_licensekit()
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="P", value="V-1234-5678", seats=3)
    kit.invite_installers(admin, account.id, key.id, ["ann@example.com", "bob@example.com"])
    first = kit.mailer.last(to="ann@example.com").data["code"]
    second = kit.mailer.last(to="bob@example.com").data["code"]

    done = kit.activate(code=first, computer_id="PC-1")
    if between == "deactivation":
        kit.deactivate_installation(admin, account.id, done.installation_id)
    kit.activate(code=second, computer_id="PC-1")
    if between == "deactivation":
        kit.deactivate_installation(admin, account.id, done.installation_id)

    again = kit.activate(code=first, computer_id="PC-1")

    assert again.installation_id == done.installation_id
    assert again.already_active is (between == "takeover")
    views = kit.list_install_invitations(admin, account.id, key.id).items
    assert [v.activations for v in views] == [1, 1], "PC-1 is one computer for each code"
