"""The pure rules of licensekit.licensing: seats, masking, key lifecycle, codes and activation."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from licensekit import (
    ActivationCodeExpired,
    ActivationCodeRevoked,
    ActivationCodeUsedUp,
    ActivationCodeWrongProduct,
    ComputerBlocked,
    ConflictError,
    LicenseKeyUnavailable,
    SeatsFull,
    SeatsInUse,
    ValidationError,
)
from licensekit.licensing import (
    MAX_SEATS,
    Activation,
    activate,
    change_expiry,
    change_seats,
    check_code_usable,
    check_key_usable,
    check_seats,
    deactivate,
    mask_key_value,
    remove_key,
    resume_key,
    revoke_install_invitation,
    suspend_key,
)
from licensekit.model import (
    Installation,
    InstallationStatus,
    InstallInvitation,
    InstallInvitationState,
    KeyStatus,
    LicenseKey,
)

T0 = dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.UTC)
LATER = T0 + dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def make_key(**changes: object) -> LicenseKey:
    key = LicenseKey(
        id="key_1",
        account_id="acc_1",
        product="Acme Draw",
        seats=3,
        seats_used=0,
        created_at=T0,
        created_by="usr_admin",
        value_hash=b"vh",
        value_ciphertext=b"vc",
    )
    return attrs.evolve(key, **changes)


def make_invitation(**changes: object) -> InstallInvitation:
    invitation = InstallInvitation(
        id="ii_1",
        account_id="acc_1",
        key_id="key_1",
        email="ann@example.com",
        language="en",
        invited_by="usr_admin",
        created_at=T0,
        expires_at=T0 + 7 * DAY,
        code_hash=b"ch",
        token_hash=b"th",
        secret_ciphertext=b"sc",
    )
    return attrs.evolve(invitation, **changes)


def make_installation(**changes: object) -> Installation:
    installation = Installation(
        id="ins_old",
        account_id="acc_1",
        key_id="key_1",
        computer_id="pc-1",
        computer_name="Old name",
        email="ann@example.com",
        invitation_id="ii_1",
        activated_at=T0,
        last_seen_at=T0,
        token_hash=b"old-token",
    )
    return attrs.evolve(installation, **changes)


def do_activate(
    *,
    key: LicenseKey | None = None,
    invitation: InstallInvitation | None = None,
    existing: Installation | None = None,
    blocked: bool = False,
    computer_id: str = "pc-1",
    product: str | None = "Acme Draw",
    now: dt.datetime = LATER,
    token_hash: bytes = b"new-token",
    installation_id: str = "ins_new",
) -> Activation:
    return activate(
        key=key or make_key(),
        invitation=invitation or make_invitation(),
        existing=existing,
        blocked=blocked,
        computer_id=computer_id,
        computer_name="New name",
        product=product,
        installation_id=installation_id,
        token_hash=token_hash,
        now=now,
    )


# -- check_seats ---------------------------------------------------------------------------


class TestCheckSeats:
    @given(seats=st.integers(min_value=1, max_value=MAX_SEATS))
    def test_whole_numbers_from_one_to_max_are_returned_unchanged(self, seats: int) -> None:
        assert check_seats(seats) == seats

    def test_max_seats_is_ten_million(self) -> None:
        assert MAX_SEATS == 10_000_000

    @pytest.mark.parametrize("seats", [0, -1, MAX_SEATS + 1, -(10**20), 10**20])
    def test_out_of_range_is_refused(self, seats: int) -> None:
        with pytest.raises(ValidationError, match=f"between 1 and {MAX_SEATS}"):
            check_seats(seats)

    @pytest.mark.parametrize("seats", [True, False, 1.0, 2.5, "3", None, [1]])
    def test_non_integers_and_booleans_are_refused(self, seats: object) -> None:
        with pytest.raises(ValidationError, match="whole number"):
            check_seats(seats)


# -- mask_key_value ------------------------------------------------------------------------


class TestMaskKeyValue:
    def test_only_last_four_shown_and_separators_kept(self) -> None:
        assert mask_key_value("ABCD-EFGH-IJKL-MNOP") == "****-****-****-MNOP"

    @pytest.mark.parametrize("value", ["", "A", "ABCD", "ABCD-EFGH", "12345678", "a.b.c.d.e.f.g.h"])
    def test_keys_of_eight_alphanumerics_or_fewer_are_hidden_whole(self, value: str) -> None:
        masked = mask_key_value(value)
        assert not any(ch.isalnum() for ch in masked)
        assert len(masked) == len(value)

    def test_nine_alphanumerics_show_the_last_four(self) -> None:
        assert mask_key_value("ABCDEFGHI") == "*****FGHI"

    def test_last_four_alphanumerics_are_counted_across_separators(self) -> None:
        assert mask_key_value("ABCDEFG-HI-J") == "******G-HI-J"

    @given(value=st.text(alphabet="ABCDEFGHJKMNPQRSTVWXYZ0123456789-", min_size=9, max_size=40))
    def test_long_keys_show_exactly_four_alphanumerics(self, value: str) -> None:
        masked = mask_key_value(value)
        alnums = sum(ch.isalnum() for ch in value)
        shown = sum(ch.isalnum() for ch in masked)
        assert shown == (4 if alnums > 8 else 0)
        assert masked.count("*") == alnums - shown


# -- key lifecycle -------------------------------------------------------------------------


class TestChangeSeats:
    def test_new_seat_count_and_update_time_are_set(self) -> None:
        key = change_seats(make_key(seats=3, seats_used=2), 10, now=LATER)
        assert (key.seats, key.seats_used, key.updated_at) == (10, 2, LATER)

    def test_seats_may_drop_to_exactly_the_seats_in_use(self) -> None:
        assert change_seats(make_key(seats=5, seats_used=2), 2, now=LATER).seats == 2

    def test_fewer_seats_than_in_use_is_refused(self) -> None:
        with pytest.raises(SeatsInUse, match="has 2 active installations"):
            change_seats(make_key(seats=5, seats_used=2), 1, now=LATER)

    @pytest.mark.parametrize("seats", [0, MAX_SEATS + 1, True, "4"])
    def test_invalid_seat_count_is_a_validation_error(self, seats: object) -> None:
        with pytest.raises(ValidationError):
            change_seats(make_key(), seats, now=LATER)  # type: ignore[arg-type]

    def test_removed_key_cannot_change(self) -> None:
        with pytest.raises(ConflictError, match="has been removed"):
            change_seats(make_key(status=KeyStatus.REMOVED), 4, now=LATER)

    def test_suspended_key_may_change_seats(self) -> None:
        assert change_seats(make_key(status=KeyStatus.SUSPENDED), 7, now=LATER).seats == 7

    def test_original_key_is_not_changed(self) -> None:
        key = make_key()
        change_seats(key, 9, now=LATER)
        assert key.seats == 3


class TestChangeExpiry:
    def test_future_expiry_is_set(self) -> None:
        key = change_expiry(make_key(), LATER + DAY, now=LATER)
        assert (key.expires_at, key.updated_at) == (LATER + DAY, LATER)

    def test_none_means_never(self) -> None:
        assert change_expiry(make_key(expires_at=LATER + DAY), None, now=LATER).expires_at is None

    @pytest.mark.parametrize("delta", [dt.timedelta(0), -dt.timedelta(seconds=1), -DAY])
    def test_expiry_now_or_in_the_past_is_refused(self, delta: dt.timedelta) -> None:
        with pytest.raises(ValidationError, match="must be in the future"):
            change_expiry(make_key(), LATER + delta, now=LATER)

    def test_removed_key_cannot_change_expiry(self) -> None:
        with pytest.raises(ConflictError):
            change_expiry(make_key(status=KeyStatus.REMOVED), LATER + DAY, now=LATER)


class TestSuspendResumeRemove:
    def test_suspend_active_key(self) -> None:
        key = suspend_key(make_key(seats_used=2), now=LATER)
        assert (key.status, key.updated_at, key.seats_used) == (KeyStatus.SUSPENDED, LATER, 2)

    @pytest.mark.parametrize("status", [KeyStatus.SUSPENDED, KeyStatus.REMOVED])
    def test_only_an_active_key_can_be_suspended(self, status: KeyStatus) -> None:
        with pytest.raises(ConflictError, match=f"is {status.value}, not active"):
            suspend_key(make_key(status=status), now=LATER)

    def test_resume_suspended_key(self) -> None:
        key = resume_key(make_key(status=KeyStatus.SUSPENDED), now=LATER)
        assert (key.status, key.updated_at) == (KeyStatus.ACTIVE, LATER)

    @pytest.mark.parametrize("status", [KeyStatus.ACTIVE, KeyStatus.REMOVED])
    def test_only_a_suspended_key_can_be_resumed(self, status: KeyStatus) -> None:
        with pytest.raises(ConflictError, match=f"is {status.value}, not suspended"):
            resume_key(make_key(status=status), now=LATER)

    @pytest.mark.parametrize("status", [KeyStatus.ACTIVE, KeyStatus.SUSPENDED])
    def test_key_without_installations_can_be_removed(self, status: KeyStatus) -> None:
        key = remove_key(make_key(status=status), now=LATER)
        assert (key.status, key.updated_at) == (KeyStatus.REMOVED, LATER)

    def test_key_with_active_installations_cannot_be_removed(self) -> None:
        with pytest.raises(SeatsInUse, match="still has 1 active installations"):
            remove_key(make_key(seats_used=1), now=LATER)

    def test_removed_key_cannot_be_removed_again(self) -> None:
        with pytest.raises(ConflictError, match="has been removed"):
            remove_key(make_key(status=KeyStatus.REMOVED), now=LATER)


class TestCheckKeyUsable:
    def test_active_key_without_expiry_is_usable(self) -> None:
        check_key_usable(make_key(), LATER)

    def test_active_key_before_expiry_is_usable(self) -> None:
        check_key_usable(make_key(expires_at=LATER + dt.timedelta(seconds=1)), LATER)

    @pytest.mark.parametrize("status", [KeyStatus.SUSPENDED, KeyStatus.REMOVED])
    def test_suspended_or_removed_key_is_unavailable(self, status: KeyStatus) -> None:
        with pytest.raises(LicenseKeyUnavailable, match=f"is {status.value}"):
            check_key_usable(make_key(status=status), LATER)

    @pytest.mark.parametrize("delta", [dt.timedelta(0), dt.timedelta(seconds=1), DAY])
    def test_key_is_unavailable_from_its_expiry_on(self, delta: dt.timedelta) -> None:
        with pytest.raises(LicenseKeyUnavailable, match="expired on"):
            check_key_usable(make_key(expires_at=LATER), LATER + delta)


class TestCheckCodeUsable:
    def test_fresh_invitation_is_usable(self) -> None:
        check_code_usable(make_invitation(), LATER)

    def test_revoked_code_is_refused(self) -> None:
        with pytest.raises(ActivationCodeRevoked):
            check_code_usable(make_invitation(revoked_at=LATER), LATER)

    def test_code_is_expired_from_its_expiry_on(self) -> None:
        with pytest.raises(ActivationCodeExpired, match="expired on"):
            check_code_usable(make_invitation(expires_at=LATER), LATER)

    def test_used_up_code_refuses_a_new_computer(self) -> None:
        with pytest.raises(ActivationCodeUsedUp, match="already activated 1 computer,"):
            check_code_usable(make_invitation(activations=1), LATER)

    def test_used_up_message_uses_plural(self) -> None:
        with pytest.raises(ActivationCodeUsedUp, match="activated 2 computers"):
            check_code_usable(make_invitation(activations=2, max_activations=2), LATER)

    def test_used_up_code_still_serves_a_known_computer(self) -> None:
        check_code_usable(make_invitation(activations=1), LATER, new_computer=False)

    def test_revoked_is_reported_before_expired_and_used_up(self) -> None:
        invitation = make_invitation(revoked_at=T0, expires_at=T0, activations=1)
        with pytest.raises(ActivationCodeRevoked):
            check_code_usable(invitation, LATER)

    def test_expired_is_reported_before_used_up(self) -> None:
        with pytest.raises(ActivationCodeExpired):
            check_code_usable(make_invitation(expires_at=T0, activations=1), LATER)


class TestRevokeInstallInvitation:
    def test_revoke_records_when_and_who(self) -> None:
        revoked = revoke_install_invitation(make_invitation(), actor_id="usr_x", now=LATER)
        assert (revoked.revoked_at, revoked.revoked_by) == (LATER, "usr_x")
        assert revoked.state(LATER) is InstallInvitationState.REVOKED

    def test_expired_invitation_may_be_revoked(self) -> None:
        invitation = make_invitation(expires_at=T0)
        assert revoke_install_invitation(invitation, actor_id="u", now=LATER).revoked_at == LATER

    def test_revoking_twice_is_a_conflict(self) -> None:
        invitation = make_invitation(revoked_at=T0, revoked_by="u")
        with pytest.raises(ConflictError, match="revoked already"):
            revoke_install_invitation(invitation, actor_id="u", now=LATER)


# -- model helpers -------------------------------------------------------------------------


class TestModelHelpers:
    @pytest.mark.parametrize(
        ("seats", "used", "free"), [(3, 0, 3), (3, 2, 1), (3, 3, 0), (2, 5, 0)]
    )
    def test_seats_free_is_seats_minus_used_never_negative(
        self, seats: int, used: int, free: int
    ) -> None:
        assert make_key(seats=seats, seats_used=used).seats_free == free

    def test_installation_is_active_only_while_active(self) -> None:
        assert make_installation().is_active
        assert not make_installation(status=InstallationStatus.DEACTIVATED).is_active

    @pytest.mark.parametrize(
        ("changes", "state"),
        [
            ({}, InstallInvitationState.PENDING),
            ({"sent_count": 1}, InstallInvitationState.SENT),
            ({"sent_count": 1, "expires_at": T0}, InstallInvitationState.EXPIRED),
            ({"activations": 1, "expires_at": T0}, InstallInvitationState.ACTIVATED),
            ({"activations": 1, "revoked_at": T0}, InstallInvitationState.REVOKED),
            ({"revoked_at": T0, "expires_at": T0}, InstallInvitationState.REVOKED),
        ],
    )
    def test_invitation_state_precedence(
        self, changes: dict[str, object], state: InstallInvitationState
    ) -> None:
        """Revoked beats activated beats expired beats sent beats pending."""
        assert make_invitation(**changes).state(LATER) is state

    def test_invitation_expires_exactly_at_its_expiry(self) -> None:
        invitation = make_invitation(expires_at=LATER)
        assert invitation.state(LATER - dt.timedelta(microseconds=1)) is (
            InstallInvitationState.PENDING
        )
        assert invitation.state(LATER) is InstallInvitationState.EXPIRED

    @pytest.mark.parametrize(
        ("changes", "usable"),
        [
            ({}, True),
            ({"max_activations": 2, "activations": 1}, True),
            ({"activations": 1}, False),
            ({"revoked_at": T0}, False),
            ({"expires_at": LATER}, False),
        ],
    )
    def test_usable_while_not_revoked_expired_or_used_up(
        self, changes: dict[str, object], usable: bool
    ) -> None:
        assert make_invitation(**changes).usable(LATER) is usable

    @given(
        revoked=st.booleans(),
        expires_in=st.integers(min_value=-3, max_value=3),
        max_activations=st.integers(min_value=1, max_value=3),
        activations=st.integers(min_value=0, max_value=4),
    )
    def test_usable_agrees_with_check_code_usable_for_a_new_computer(
        self, revoked: bool, expires_in: int, max_activations: int, activations: int
    ) -> None:
        invitation = make_invitation(
            revoked_at=T0 if revoked else None,
            expires_at=LATER + expires_in * dt.timedelta(seconds=1),
            max_activations=max_activations,
            activations=activations,
        )
        try:
            check_code_usable(invitation, LATER)
        except (ActivationCodeRevoked, ActivationCodeExpired, ActivationCodeUsedUp):
            assert not invitation.usable(LATER)
        else:
            assert invitation.usable(LATER)


# -- activate ------------------------------------------------------------------------------

# Each fault, in the order activate must report it, with the change that causes it.
FAULTS: list[tuple[type[Exception], str]] = [
    (ActivationCodeRevoked, "revoked"),
    (ActivationCodeExpired, "code_expired"),
    (ActivationCodeWrongProduct, "wrong_product"),
    (LicenseKeyUnavailable, "key_unavailable"),
    (ComputerBlocked, "blocked"),
    (ActivationCodeUsedUp, "used_up"),
    (SeatsFull, "seats_full"),
]


def activate_with_faults(faults: set[str], key_fault: str = "suspended") -> Activation:
    key = make_key(seats=2, seats_used=0)
    invitation = make_invitation(max_activations=2, activations=0)
    if "revoked" in faults:
        invitation = attrs.evolve(invitation, revoked_at=T0, revoked_by="u")
    if "code_expired" in faults:
        invitation = attrs.evolve(invitation, expires_at=LATER)
    if "key_unavailable" in faults:
        if key_fault == "suspended":
            key = attrs.evolve(key, status=KeyStatus.SUSPENDED)
        elif key_fault == "removed":
            key = attrs.evolve(key, status=KeyStatus.REMOVED)
        else:
            key = attrs.evolve(key, expires_at=LATER)
    if "used_up" in faults:
        invitation = attrs.evolve(invitation, activations=2)
    if "seats_full" in faults:
        key = attrs.evolve(key, seats_used=2)
    return do_activate(
        key=key,
        invitation=invitation,
        blocked="blocked" in faults,
        product="Other Product" if "wrong_product" in faults else "Acme Draw",
    )


class TestActivateRefusalOrder:
    @pytest.mark.parametrize("first", range(len(FAULTS)), ids=[name for _, name in FAULTS])
    def test_first_remaining_fault_in_documented_order_is_reported(self, first: int) -> None:
        """With every fault from *first* on present, the one at *first* is the one raised."""
        expected, _ = FAULTS[first]
        with pytest.raises(expected):
            activate_with_faults({name for _, name in FAULTS[first:]})

    @pytest.mark.parametrize("index", range(len(FAULTS)), ids=[name for _, name in FAULTS])
    def test_each_fault_alone_is_refused_with_its_own_error(self, index: int) -> None:
        expected, name = FAULTS[index]
        with pytest.raises(expected):
            activate_with_faults({name})

    @pytest.mark.parametrize("key_fault", ["suspended", "removed", "expired"])
    def test_every_kind_of_unavailable_key_is_refused(self, key_fault: str) -> None:
        with pytest.raises(LicenseKeyUnavailable):
            activate_with_faults({"key_unavailable", "blocked"}, key_fault=key_fault)

    @given(faults=st.sets(st.sampled_from([name for _, name in FAULTS]), min_size=1))
    def test_any_set_of_faults_reports_the_earliest(self, faults: set[str]) -> None:
        expected = next(error for error, name in FAULTS if name in faults)
        with pytest.raises(expected) as info:
            activate_with_faults(faults)
        assert type(info.value) is expected

    def test_no_fault_activates(self) -> None:
        assert activate_with_faults(set()).seat_taken

    def test_seats_full_carries_the_seat_count(self) -> None:
        with pytest.raises(SeatsFull, match="all 2 seats") as info:
            activate_with_faults({"seats_full"})
        assert info.value.seats == 2

    def test_product_is_compared_without_case(self) -> None:
        assert do_activate(product="ACME draw").seat_taken

    def test_installer_that_names_no_product_is_not_checked(self) -> None:
        assert do_activate(product=None).seat_taken

    def test_wrong_product_message_names_both(self) -> None:
        with pytest.raises(ActivationCodeWrongProduct, match="'Acme Draw', not for 'Paint'"):
            do_activate(product="Paint")

    def test_already_active_computer_is_still_refused_when_blocked(self) -> None:
        with pytest.raises(ComputerBlocked):
            do_activate(existing=make_installation(), blocked=True)

    def test_already_active_computer_is_still_refused_when_code_revoked(self) -> None:
        with pytest.raises(ActivationCodeRevoked):
            do_activate(existing=make_installation(), invitation=make_invitation(revoked_at=T0))


class TestActivateNewComputer:
    def test_new_computer_gets_a_new_installation_and_a_seat(self) -> None:
        result = do_activate(key=make_key(seats=3, seats_used=1))
        assert result.is_new
        assert result.seat_taken
        assert result.key.seats_used == 2
        installation = result.installation
        assert installation.id == "ins_new"
        assert (installation.account_id, installation.key_id) == ("acc_1", "key_1")
        assert (installation.computer_id, installation.computer_name) == ("pc-1", "New name")
        assert (installation.email, installation.invitation_id) == ("ann@example.com", "ii_1")
        assert (installation.activated_at, installation.last_seen_at) == (LATER, LATER)
        assert installation.token_hash == b"new-token"
        assert installation.is_active

    def test_new_computer_uses_one_of_the_codes_activations(self) -> None:
        result = do_activate(invitation=make_invitation(max_activations=3, activations=1))
        assert result.invitation.activations == 2
        assert result.invitation.last_activated_at == LATER

    def test_inputs_are_not_mutated(self) -> None:
        key, invitation = make_key(), make_invitation()
        do_activate(key=key, invitation=invitation)
        assert key.seats_used == 0
        assert invitation.activations == 0

    def test_code_for_two_computers_refuses_a_third(self) -> None:
        invitation = make_invitation(max_activations=2)
        key = make_key(seats=10)
        first = do_activate(key=key, invitation=invitation, computer_id="pc-a")
        second = do_activate(
            key=first.key, invitation=first.invitation, computer_id="pc-b", installation_id="i2"
        )
        assert second.invitation.activations == 2
        with pytest.raises(ActivationCodeUsedUp):
            do_activate(key=second.key, invitation=second.invitation, computer_id="pc-c")


class TestActivateKnownComputer:
    def test_already_active_computer_keeps_its_seat(self) -> None:
        """No second seat, no activation used, even when seats are full and the code used up."""
        key = make_key(seats=1, seats_used=1)
        invitation = make_invitation(activations=1, max_activations=1)
        existing = make_installation()
        result = do_activate(key=key, invitation=invitation, existing=existing)
        assert not result.seat_taken
        assert not result.is_new
        assert result.key == key
        assert result.invitation.activations == 1
        assert result.invitation.last_activated_at == LATER

    def test_another_used_up_code_cannot_take_over_an_active_computer(self) -> None:
        """Holding any code of the key is not enough to capture a running installation."""
        existing = make_installation()
        other = attrs.evolve(make_invitation(activations=1), id="inst_other", code_hash=b"c2")
        with pytest.raises(ActivationCodeUsedUp):
            do_activate(invitation=other, existing=existing)

    def test_another_code_with_activations_left_takes_an_active_computer_over(self) -> None:
        """The takeover counts as one of that code's activations and takes no seat."""
        key = make_key(seats=1, seats_used=1)
        existing = make_installation()
        other = attrs.evolve(
            make_invitation(max_activations=2), id="inst_other", email="new@example.com"
        )
        result = do_activate(key=key, invitation=other, existing=existing)
        assert not result.seat_taken
        assert result.key == key
        assert result.invitation.activations == 1
        assert result.installation.invitation_id == "inst_other"
        assert result.installation.email == "new@example.com"

    def test_already_active_computer_gets_a_refreshed_token_and_name(self) -> None:
        existing = make_installation()
        result = do_activate(existing=existing, token_hash=b"fresh-token")
        installation = result.installation
        assert installation.id == existing.id
        assert installation.token_hash == b"fresh-token"
        assert installation.computer_name == "New name"
        assert installation.last_seen_at == LATER
        assert installation.activated_at == existing.activated_at
        assert installation.is_active

    def test_deactivated_installation_is_reused_on_reactivation(self) -> None:
        existing = make_installation(
            status=InstallationStatus.DEACTIVATED, deactivated_at=T0, deactivated_by="usr_admin"
        )
        key = make_key(seats=2, seats_used=1)
        result = do_activate(key=key, existing=existing, installation_id="ins_unused")
        installation = result.installation
        assert installation.id == "ins_old"
        assert not result.is_new
        assert result.seat_taken
        assert result.key.seats_used == 2
        assert installation.status is InstallationStatus.ACTIVE
        assert (installation.deactivated_at, installation.deactivated_by) == (None, None)
        assert (installation.activated_at, installation.last_seen_at) == (LATER, LATER)
        assert installation.token_hash == b"new-token"

    def test_same_computer_same_code_reactivates_without_using_an_activation(self) -> None:
        existing = make_installation(status=InstallationStatus.DEACTIVATED, deactivated_at=T0)
        invitation = make_invitation(activations=1, max_activations=1)
        result = do_activate(existing=existing, invitation=invitation)
        assert result.seat_taken
        assert result.invitation.activations == 1
        assert result.invitation.last_activated_at == LATER

    def test_same_computer_with_another_code_counts_as_a_new_computer(self) -> None:
        existing = make_installation(
            status=InstallationStatus.DEACTIVATED, deactivated_at=T0, invitation_id="ii_other"
        )
        invitation = make_invitation(email="bob@example.com", max_activations=2, activations=1)
        result = do_activate(existing=existing, invitation=invitation)
        assert result.invitation.activations == 2
        assert result.installation.invitation_id == "ii_1"
        assert result.installation.email == "bob@example.com"

    def test_same_computer_with_another_used_up_code_is_refused(self) -> None:
        existing = make_installation(
            status=InstallationStatus.DEACTIVATED, deactivated_at=T0, invitation_id="ii_other"
        )
        with pytest.raises(ActivationCodeUsedUp):
            do_activate(existing=existing, invitation=make_invitation(activations=1))

    def test_reactivation_needs_a_free_seat(self) -> None:
        existing = make_installation(status=InstallationStatus.DEACTIVATED, deactivated_at=T0)
        with pytest.raises(SeatsFull):
            do_activate(key=make_key(seats=1, seats_used=1), existing=existing)


# -- deactivate ----------------------------------------------------------------------------


class TestDeactivate:
    def test_deactivation_frees_the_seat_and_records_who(self) -> None:
        key, installation = deactivate(
            make_key(seats_used=2), make_installation(), actor_id="usr_admin", now=LATER
        )
        assert key.seats_used == 1
        assert installation.status is InstallationStatus.DEACTIVATED
        assert (installation.deactivated_at, installation.deactivated_by) == (LATER, "usr_admin")
        assert installation.id == "ins_old"

    def test_inactive_installation_cannot_be_deactivated(self) -> None:
        inactive = make_installation(status=InstallationStatus.DEACTIVATED)
        with pytest.raises(ConflictError, match="is not active"):
            deactivate(make_key(seats_used=1), inactive, actor_id="u", now=LATER)

    def test_seats_used_never_goes_below_zero(self) -> None:
        key, _ = deactivate(make_key(seats_used=0), make_installation(), actor_id="u", now=LATER)
        assert key.seats_used == 0


# -- seats through any sequence ------------------------------------------------------------

operations = st.lists(
    st.tuples(
        st.sampled_from(["activate", "deactivate", "change_seats"]),
        st.integers(min_value=0, max_value=5),
    ),
    max_size=40,
)


@given(seats=st.integers(min_value=1, max_value=4), ops=operations)
def test_seats_used_counts_active_installations_and_never_exceeds_seats(
    seats: int, ops: list[tuple[str, int]]
) -> None:
    """Through any sequence of activate/deactivate/change_seats, seats_used stays exact."""
    key = make_key(seats=seats)
    invitation = make_invitation(max_activations=100)
    installations: dict[str, Installation] = {}
    tokens = 0
    for op, n in ops:
        computer = f"pc-{n}"
        existing = installations.get(computer)
        active_before = sum(i.is_active for i in installations.values())
        if op == "activate":
            tokens += 1
            try:
                result = do_activate(
                    key=key,
                    invitation=invitation,
                    existing=existing,
                    computer_id=computer,
                    installation_id=f"ins-{n}",
                    token_hash=f"tok-{tokens}".encode(),
                )
            except SeatsFull:
                assert active_before == key.seats
                assert existing is None or not existing.is_active
                continue
            key, invitation = result.key, result.invitation
            installations[computer] = result.installation
            assert result.seat_taken == (existing is None or not existing.is_active)
        elif op == "deactivate":
            if existing is None or not existing.is_active:
                if existing is not None:
                    with pytest.raises(ConflictError):
                        deactivate(key, existing, actor_id="u", now=LATER)
                continue
            key, installations[computer] = deactivate(key, existing, actor_id="u", now=LATER)
        else:
            try:
                key = change_seats(key, n + 1, now=LATER)
            except SeatsInUse:
                assert n + 1 < active_before
        active = sum(i.is_active for i in installations.values())
        assert key.seats_used == active
        assert 0 <= key.seats_used <= key.seats
        assert key.seats_free == key.seats - key.seats_used
