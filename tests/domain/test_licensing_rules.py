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
    ActivationError,
    ComputerAlreadyActivated,
    ComputerBlocked,
    ConflictError,
    InvitationAlreadyAccepted,
    InvitationExpired,
    InvitationRevoked,
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
    check_resendable,
    check_seats,
    deactivate,
    forget_computer,
    is_returning,
    key_usable,
    mask_key_value,
    remove_key,
    resume_key,
    revoke_install_invitation,
    suspend_key,
)
from licensekit.model import (
    ComputerBlock,
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

    def test_resume_removed_key(self) -> None:
        """A removed key comes back active (its seats and value unchanged)."""
        removed = make_key(status=KeyStatus.REMOVED, seats=4)
        key = resume_key(removed, now=LATER)
        assert (key.status, key.updated_at) == (KeyStatus.ACTIVE, LATER)
        assert (key.seats, key.seats_used, key.value_hash) == (4, 0, removed.value_hash)

    @pytest.mark.parametrize("status", [KeyStatus.SUSPENDED, KeyStatus.REMOVED])
    def test_resume_does_not_change_the_given_key(self, status: KeyStatus) -> None:
        key = make_key(status=status)
        resume_key(key, now=LATER)
        assert key.status is status

    def test_only_an_active_key_cannot_be_resumed(self) -> None:
        with pytest.raises(ConflictError, match="is active already"):
            resume_key(make_key(), now=LATER)

    def test_removed_key_can_be_removed_again_after_resume(self) -> None:
        """Remove, resume, remove: the lifecycle is not one-way any more."""
        key = remove_key(resume_key(make_key(status=KeyStatus.REMOVED), now=LATER), now=LATER)
        assert key.status is KeyStatus.REMOVED

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


class TestKeyUsable:
    def test_active_key_without_expiry_is_usable(self) -> None:
        assert key_usable(make_key(), LATER) is True

    def test_active_key_is_usable_until_just_before_its_expiry(self) -> None:
        key = make_key(expires_at=LATER)
        assert key_usable(key, LATER - dt.timedelta(microseconds=1)) is True
        assert key_usable(key, LATER) is False

    @pytest.mark.parametrize("status", [KeyStatus.SUSPENDED, KeyStatus.REMOVED])
    def test_suspended_or_removed_key_is_not_usable(self, status: KeyStatus) -> None:
        assert key_usable(make_key(status=status), LATER) is False

    @given(
        status=st.sampled_from(KeyStatus),
        expires_in=st.none() | st.integers(min_value=-3, max_value=3),
    )
    def test_key_usable_agrees_with_check_key_usable(
        self, status: KeyStatus, expires_in: int | None
    ) -> None:
        """key_usable is True exactly when check_key_usable does not raise."""
        expires_at = None if expires_in is None else LATER + dt.timedelta(seconds=expires_in)
        key = make_key(status=status, expires_at=expires_at)
        try:
            check_key_usable(key, LATER)
        except LicenseKeyUnavailable:
            assert key_usable(key, LATER) is False
        else:
            assert key_usable(key, LATER) is True


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

    def test_revoking_twice_says_it_was_revoked(self) -> None:
        invitation = make_invitation(revoked_at=T0, revoked_by="u")
        with pytest.raises(InvitationRevoked, match="revoked already"):
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
            ({"activations": 1}, InstallInvitationState.ACTIVATED),
            ({"activations": 1, "expires_at": T0}, InstallInvitationState.ACTIVATED),
            (
                {"activations": 2, "max_activations": 2, "sent_count": 1, "expires_at": T0},
                InstallInvitationState.ACTIVATED,
            ),
            ({"activations": 1, "max_activations": 2}, InstallInvitationState.ACTIVATED),
            (
                {"activations": 1, "max_activations": 2, "sent_count": 1},
                InstallInvitationState.ACTIVATED,
            ),
            (
                {"activations": 1, "max_activations": 2, "expires_at": T0},
                InstallInvitationState.EXPIRED,
            ),
            ({"activations": 1, "revoked_at": T0}, InstallInvitationState.REVOKED),
            ({"revoked_at": T0, "expires_at": T0}, InstallInvitationState.REVOKED),
            (
                {"activations": 1, "max_activations": 2, "revoked_at": T0, "expires_at": T0},
                InstallInvitationState.REVOKED,
            ),
        ],
    )
    def test_invitation_state_precedence(
        self, changes: dict[str, object], state: InstallInvitationState
    ) -> None:
        """Revoked > used up > expired > partly activated > sent > pending."""
        assert make_invitation(**changes).state(LATER) is state

    def test_partly_used_invitation_turns_expired_exactly_at_its_expiry(self) -> None:
        """A code with activations left shows as expired once it can no longer be used."""
        invitation = make_invitation(expires_at=LATER, activations=1, max_activations=3)
        assert invitation.state(LATER - dt.timedelta(microseconds=1)) is (
            InstallInvitationState.ACTIVATED
        )
        assert invitation.state(LATER) is InstallInvitationState.EXPIRED

    @given(
        revoked=st.booleans(),
        expired=st.booleans(),
        sent=st.booleans(),
        max_activations=st.integers(min_value=1, max_value=3),
        activations=st.integers(min_value=0, max_value=4),
    )
    def test_invitation_state_follows_the_documented_order(
        self, revoked: bool, expired: bool, sent: bool, max_activations: int, activations: int
    ) -> None:
        """Every combination gets the first state of the documented order that applies."""
        invitation = make_invitation(
            revoked_at=T0 if revoked else None,
            expires_at=T0 if expired else LATER + DAY,
            sent_count=1 if sent else 0,
            max_activations=max_activations,
            activations=activations,
        )
        if revoked:
            expected = InstallInvitationState.REVOKED
        elif activations >= max_activations:
            expected = InstallInvitationState.ACTIVATED
        elif expired:
            expected = InstallInvitationState.EXPIRED
        elif activations:
            expected = InstallInvitationState.ACTIVATED
        elif sent:
            expected = InstallInvitationState.SENT
        else:
            expected = InstallInvitationState.PENDING
        assert invitation.state(LATER) is expected

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
    (ActivationCodeUsedUp, "used_up"),
    (ComputerBlocked, "blocked"),
    (ComputerAlreadyActivated, "taken"),
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
    existing = None
    if "taken" in faults:
        existing = make_installation(invitation_id="ii_other", email="other@example.com")
    return do_activate(
        key=key,
        invitation=invitation,
        existing=existing,
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

    def test_computer_already_activated_comes_after_blocked(self) -> None:
        """A blocked computer holding another invitation's seat is reported as blocked."""
        with pytest.raises(ComputerBlocked):
            activate_with_faults({"blocked", "taken"})

    def test_used_up_comes_before_computer_already_activated_and_seats_full(self) -> None:
        with pytest.raises(ActivationCodeUsedUp):
            activate_with_faults({"taken", "used_up", "seats_full"})

    def test_computer_already_activated_comes_before_seats_full(self) -> None:
        with pytest.raises(ComputerAlreadyActivated):
            activate_with_faults({"taken", "seats_full"})

    @pytest.mark.parametrize("computer_fault", ["blocked", "taken"])
    def test_a_used_up_code_says_nothing_about_a_new_computer(self, computer_fault: str) -> None:
        """A used-up code cannot probe which computers are blocked or activated elsewhere."""
        with pytest.raises(ActivationCodeUsedUp) as with_fault:
            activate_with_faults({"used_up", computer_fault})
        with pytest.raises(ActivationCodeUsedUp) as without:
            activate_with_faults({"used_up"})
        assert str(with_fault.value) == str(without.value)
        assert "pc-1" not in str(with_fault.value)

    def test_a_returning_computer_with_a_used_up_code_is_still_refused_when_blocked(
        self,
    ) -> None:
        """Its own computer is no probe: the code activated it, so blocking is reported."""
        invitation = make_invitation(activations=1, max_activations=1, computer_ids=("pc-1",))
        with pytest.raises(ComputerBlocked):
            do_activate(invitation=invitation, blocked=True)
        with pytest.raises(ComputerBlocked):
            do_activate(
                invitation=make_invitation(activations=1, max_activations=1),
                existing=make_installation(),
                blocked=True,
            )

    def test_a_code_with_activations_left_reports_a_blocked_new_computer(self) -> None:
        invitation = make_invitation(activations=1, max_activations=2)
        with pytest.raises(ComputerBlocked):
            do_activate(invitation=invitation, blocked=True)

    def test_computer_already_activated_is_an_activation_error(self) -> None:
        assert issubclass(ComputerAlreadyActivated, ActivationError)


class TestActivateNewComputer:
    def test_the_decision_keeps_the_key_as_read_and_counts_the_seat_only_when_asked(
        self,
    ) -> None:
        key = make_key(seats=3, seats_used=1)
        result = do_activate(key=key)
        assert result.key_as_read is key  # the store claims the seat; nothing to write
        assert result.key == attrs.evolve(key, seats_used=2)

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

    @pytest.mark.parametrize(
        ("activations", "max_activations"), [(0, 1), (0, 5), (4, 5)], ids=["fresh", "many", "last"]
    )
    def test_another_invitations_code_cannot_take_over_an_active_computer(
        self, activations: int, max_activations: int
    ) -> None:
        """While that code has activations left, the computer is reported already activated."""
        existing = make_installation()
        other = make_invitation(
            id="ii_other", activations=activations, max_activations=max_activations
        )
        with pytest.raises(ComputerAlreadyActivated, match="'pc-1' is already activated"):
            do_activate(invitation=other, existing=existing)

    def test_another_invitations_used_up_code_on_an_active_computer_is_used_up(self) -> None:
        """A used-up code is refused as such before anything is said about the computer."""
        existing = make_installation()
        other = make_invitation(id="ii_other", activations=1, max_activations=1)
        with pytest.raises(ActivationCodeUsedUp):
            do_activate(invitation=other, existing=existing)

    def test_another_invitations_code_is_refused_even_if_it_lists_the_computer(self) -> None:
        """Having activated that computer once with the other code gives no right to take it."""
        existing = make_installation()
        other = make_invitation(id="ii_other", activations=1, computer_ids=("pc-1",))
        with pytest.raises(ComputerAlreadyActivated):
            do_activate(invitation=other, existing=existing)

    def test_another_invitations_code_may_activate_a_deactivated_computer(self) -> None:
        """Once an administrator deactivated it, the computer may take a seat with a new code."""
        existing = make_installation(status=InstallationStatus.DEACTIVATED, deactivated_at=T0)
        other = make_invitation(id="ii_other", email="new@example.com")
        result = do_activate(invitation=other, existing=existing)
        assert result.seat_taken
        assert result.invitation.activations == 1
        assert result.installation.invitation_id == "ii_other"
        assert result.installation.email == "new@example.com"

    def test_already_active_computer_keeps_its_invitation_and_email(self) -> None:
        """Activating again with the same code refreshes the installation, not its owner."""
        existing = make_installation(email="ann@example.com")
        invitation = make_invitation(email="ann@example.com")
        result = do_activate(existing=existing, invitation=invitation)
        assert (result.installation.invitation_id, result.installation.email) == (
            "ii_1",
            "ann@example.com",
        )
        assert result.installation.status is InstallationStatus.ACTIVE

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

    def test_deactivated_computer_with_a_used_up_code_is_refused(self) -> None:
        """A deactivation sticks: the same one-computer code cannot bring the computer back."""
        existing = make_installation(status=InstallationStatus.DEACTIVATED, deactivated_at=T0)
        invitation = make_invitation(activations=1, max_activations=1)
        with pytest.raises(ActivationCodeUsedUp):
            do_activate(existing=existing, invitation=invitation)

    def test_deactivated_computer_with_activations_left_counts_one_more(self) -> None:
        existing = make_installation(status=InstallationStatus.DEACTIVATED, deactivated_at=T0)
        invitation = make_invitation(activations=1, max_activations=2)
        result = do_activate(existing=existing, invitation=invitation)
        assert result.seat_taken
        assert result.invitation.activations == 2
        assert result.invitation.computer_ids == ("pc-1",)
        assert result.installation.is_active


class TestReturningComputer:
    """A computer is returning when it is in the invitation's computer_ids, or holds an active
    installation made with this invitation; a returning computer uses no activation."""

    def test_computer_in_computer_ids_reactivates_without_using_an_activation(self) -> None:
        existing = make_installation(status=InstallationStatus.DEACTIVATED, deactivated_at=T0)
        invitation = make_invitation(activations=1, max_activations=1, computer_ids=("pc-1",))
        result = do_activate(existing=existing, invitation=invitation)
        assert result.seat_taken
        assert result.invitation.activations == 1
        assert result.invitation.computer_ids == ("pc-1",)
        assert result.invitation.last_activated_at == LATER

    def test_computer_in_computer_ids_without_installation_is_returning(self) -> None:
        invitation = make_invitation(activations=1, max_activations=1, computer_ids=("pc-1",))
        result = do_activate(invitation=invitation)
        assert result.is_new
        assert result.invitation.activations == 1

    def test_active_installation_with_this_invitation_is_returning(self) -> None:
        """Even when computer_ids does not list it (records made before they were tracked)."""
        invitation = make_invitation(activations=1, max_activations=1, computer_ids=())
        result = do_activate(existing=make_installation(), invitation=invitation)
        assert not result.seat_taken
        assert result.invitation.activations == 1
        assert result.invitation.computer_ids == ()

    def test_deactivated_installation_with_this_invitation_is_not_returning(self) -> None:
        invitation = make_invitation(activations=1, max_activations=1, computer_ids=("pc-2",))
        existing = make_installation(status=InstallationStatus.DEACTIVATED, deactivated_at=T0)
        with pytest.raises(ActivationCodeUsedUp):
            do_activate(existing=existing, invitation=invitation)

    def test_another_computer_listed_does_not_make_this_one_returning(self) -> None:
        invitation = make_invitation(activations=1, max_activations=1, computer_ids=("pc-10",))
        with pytest.raises(ActivationCodeUsedUp):
            do_activate(invitation=invitation, computer_id="pc-1")

    def test_new_computer_is_added_to_computer_ids_in_order(self) -> None:
        invitation = make_invitation(max_activations=3, activations=1, computer_ids=("pc-a",))
        result = do_activate(invitation=invitation, computer_id="pc-b")
        assert result.invitation.computer_ids == ("pc-a", "pc-b")

    def test_returning_computer_is_not_listed_twice(self) -> None:
        invitation = make_invitation(max_activations=3, activations=1, computer_ids=("pc-1",))
        result = do_activate(invitation=invitation, existing=make_installation())
        assert result.invitation.computer_ids == ("pc-1",)

    def test_returning_computer_still_needs_a_free_seat(self) -> None:
        existing = make_installation(status=InstallationStatus.DEACTIVATED, deactivated_at=T0)
        invitation = make_invitation(activations=1, computer_ids=("pc-1",))
        with pytest.raises(SeatsFull):
            do_activate(
                key=make_key(seats=1, seats_used=1), existing=existing, invitation=invitation
            )

    @pytest.mark.parametrize(
        "changes",
        [{"revoked_at": T0}, {"expires_at": LATER}],
        ids=["revoked", "expired"],
    )
    def test_returning_computer_is_refused_by_a_revoked_or_expired_code(
        self, changes: dict[str, object]
    ) -> None:
        invitation = make_invitation(activations=1, computer_ids=("pc-1",), **changes)
        with pytest.raises((ActivationCodeRevoked, ActivationCodeExpired)):
            do_activate(existing=make_installation(), invitation=invitation)


class TestForgetComputer:
    def test_computer_is_removed_and_the_activation_stays_counted(self) -> None:
        invitation = make_invitation(activations=2, max_activations=2, computer_ids=("a", "b"))
        forgotten = forget_computer(invitation, "a")
        assert forgotten.computer_ids == ("b",)
        assert forgotten.activations == 2
        assert not forgotten.usable(LATER)

    def test_unknown_computer_returns_the_invitation_unchanged(self) -> None:
        invitation = make_invitation(activations=1, computer_ids=("pc-1",))
        assert forget_computer(invitation, "pc-10") is invitation

    def test_a_computer_id_that_is_a_prefix_of_another_is_not_confused(self) -> None:
        invitation = make_invitation(activations=2, max_activations=2, computer_ids=("pc1", "pc10"))
        assert forget_computer(invitation, "pc1").computer_ids == ("pc10",)

    def test_only_the_returned_invitation_changes(self) -> None:
        invitation = make_invitation(activations=1, computer_ids=("pc-1",))
        forget_computer(invitation, "pc-1")
        assert invitation.computer_ids == ("pc-1",)

    def test_forgotten_computer_is_no_longer_returning(self) -> None:
        """After an administrator's deactivation, a one-computer code cannot come back."""
        first = do_activate()
        key, stopped = deactivate(first.key, first.installation, actor_id="u", now=LATER)
        invitation = forget_computer(first.invitation, "pc-1")
        with pytest.raises(ActivationCodeUsedUp):
            do_activate(key=key, invitation=invitation, existing=stopped)

    def test_forgotten_computer_with_activations_left_counts_again(self) -> None:
        first = do_activate(invitation=make_invitation(max_activations=2))
        key, stopped = deactivate(first.key, first.installation, actor_id="u", now=LATER)
        invitation = forget_computer(first.invitation, "pc-1")
        again = do_activate(key=key, invitation=invitation, existing=stopped)
        assert again.invitation.activations == 2
        assert again.invitation.computer_ids == ("pc-1",)
        assert again.key.seats_used == 1


class TestComputerBlock:
    @staticmethod
    def block(key_id: str | None, computer_id: str = "pc-1") -> ComputerBlock:
        return ComputerBlock(
            account_id="acc_1",
            computer_id=computer_id,
            key_id=key_id,
            blocked_at=T0,
            blocked_by="usr_admin",
        )

    @pytest.mark.parametrize("key_id", ["key_1", "key_2", ""])
    def test_account_wide_block_covers_every_key(self, key_id: str) -> None:
        assert self.block(None).covers(key_id)

    def test_key_block_covers_its_own_key(self) -> None:
        assert self.block("key_1").covers("key_1")

    @pytest.mark.parametrize("key_id", ["key_2", "key_10", "key_", "KEY_1"])
    def test_key_block_does_not_cover_another_key(self, key_id: str) -> None:
        assert not self.block("key_1").covers(key_id)

    def test_sort_key_is_computer_tab_key(self) -> None:
        assert self.block("key_1").sort_key == "pc-1\tkey_1"

    def test_account_wide_sort_key_has_an_empty_key_part(self) -> None:
        assert self.block(None).sort_key == "pc-1\t"

    def test_account_wide_block_sorts_before_key_blocks_of_the_same_computer(self) -> None:
        assert self.block(None).sort_key < self.block("a").sort_key < self.block("b").sort_key

    def test_blocks_sort_by_computer_first(self) -> None:
        """All blocks of pc1 come before those of pc10 and pc2, whatever their keys."""
        order = [
            self.block("key_z", "pc1"),
            self.block(None, "pc10"),
            self.block("key_a", "pc10"),
            self.block(None, "pc2"),
        ]
        assert sorted(order, key=lambda b: b.sort_key) == order

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
        with pytest.raises(ConflictError, match="is deactivated already"):
            deactivate(make_key(seats_used=1), inactive, actor_id="u", now=LATER)

    def test_a_culled_installation_is_deactivated_without_releasing_a_seat(self) -> None:
        culled = make_installation(status=InstallationStatus.CULLED, deactivated_at=LATER)
        key, ended = deactivate(make_key(seats_used=1), culled, actor_id="u", now=LATER)
        assert key.seats_used == 1
        assert (ended.status, ended.deactivated_by) == (InstallationStatus.DEACTIVATED, "u")

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
    """Through any sequence of activate/deactivate/change_seats, seats_used stays exact.

    Deactivations forget the computer, as the service does, so every seat taken uses one of
    the code's activations and refreshing an active computer uses none.
    """
    key = make_key(seats=seats)
    invitation = make_invitation(max_activations=100)
    installations: dict[str, Installation] = {}
    tokens = 0
    seats_taken = 0
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
            seats_taken += result.seat_taken
        elif op == "deactivate":
            if existing is None or not existing.is_active:
                if existing is not None:
                    with pytest.raises(ConflictError):
                        deactivate(key, existing, actor_id="u", now=LATER)
                continue
            key, installations[computer] = deactivate(key, existing, actor_id="u", now=LATER)
            invitation = forget_computer(invitation, computer)
        else:
            try:
                key = change_seats(key, n + 1, now=LATER)
            except SeatsInUse:
                assert n + 1 < active_before
        active = sum(i.is_active for i in installations.values())
        assert key.seats_used == active
        assert 0 <= key.seats_used <= key.seats
        assert key.seats_free == key.seats - key.seats_used
        assert invitation.activations == seats_taken
        assert set(invitation.computer_ids) == {c for c, i in installations.items() if i.is_active}


class TestCheckResendable:
    """Resending is the administrator's act, so its refusals are invitation errors."""

    def test_a_usable_invitation_may_be_sent_again(self) -> None:
        check_resendable(make_invitation(), T0)

    def test_a_revoked_invitation_is_refused(self) -> None:
        with pytest.raises(InvitationRevoked, match="invite again"):
            check_resendable(make_invitation(revoked_at=T0, revoked_by="u"), T0)

    def test_an_expired_invitation_is_refused(self) -> None:
        invitation = make_invitation()
        with pytest.raises(InvitationExpired, match="invite again"):
            check_resendable(invitation, invitation.expires_at)

    def test_a_used_up_invitation_is_refused(self) -> None:
        with pytest.raises(InvitationAlreadyAccepted, match="all 1 computers"):
            check_resendable(make_invitation(activations=1, max_activations=1), T0)

    def test_revoked_is_reported_before_used_up_and_expired(self) -> None:
        invitation = make_invitation(
            revoked_at=T0, revoked_by="u", activations=1, max_activations=1
        )
        with pytest.raises(InvitationRevoked):
            check_resendable(invitation, invitation.expires_at)

    def test_used_up_is_reported_before_expired(self) -> None:
        invitation = make_invitation(activations=1, max_activations=1)
        with pytest.raises(InvitationAlreadyAccepted):
            check_resendable(invitation, invitation.expires_at)

    @given(revoked=st.booleans(), used_up=st.booleans(), expired=st.booleans())
    def test_the_first_fault_in_order_revoked_used_up_expired_is_reported(
        self, revoked: bool, used_up: bool, expired: bool
    ) -> None:
        invitation = make_invitation(
            revoked_at=T0 if revoked else None,
            activations=1 if used_up else 0,
            max_activations=1,
        )
        now = invitation.expires_at if expired else T0
        faults = [
            (revoked, InvitationRevoked),
            (used_up, InvitationAlreadyAccepted),
            (expired, InvitationExpired),
        ]
        expected = next((error for present, error in faults if present), None)
        if expected is None:
            check_resendable(invitation, now)
        else:
            with pytest.raises(expected) as info:
                check_resendable(invitation, now)
            assert type(info.value) is expected


class TestIsReturning:
    """The pure helper activate and the service both use to spare a returning computer."""

    def test_a_computer_the_code_activated_is_returning_without_an_installation(self) -> None:
        assert is_returning(make_invitation(computer_ids=("pc-1",)), None, "pc-1")

    def test_an_unknown_computer_is_not_returning(self) -> None:
        assert not is_returning(make_invitation(computer_ids=("pc-2",)), None, "pc-1")

    def test_an_active_installation_made_with_this_invitation_is_returning(self) -> None:
        assert is_returning(make_invitation(), make_installation(), "pc-1")

    @pytest.mark.parametrize(
        "installation",
        [
            make_installation(status=InstallationStatus.DEACTIVATED, deactivated_at=T0),
            make_installation(invitation_id="ii_other"),
        ],
        ids=["deactivated", "other-invitation"],
    )
    def test_an_inactive_or_foreign_installation_is_not_returning(
        self, installation: Installation
    ) -> None:
        assert not is_returning(make_invitation(), installation, "pc-1")

    def test_being_listed_is_enough_even_with_a_foreign_installation(self) -> None:
        other = make_installation(invitation_id="ii_other")
        assert is_returning(make_invitation(computer_ids=("pc-1",)), other, "pc-1")

    @given(
        listed=st.booleans(),
        has_installation=st.booleans(),
        active=st.booleans(),
        same_invitation=st.booleans(),
    )
    def test_returning_is_what_activate_spares_from_a_used_up_code(
        self, listed: bool, has_installation: bool, active: bool, same_invitation: bool
    ) -> None:
        invitation = make_invitation(
            activations=1, max_activations=1, computer_ids=("pc-1",) if listed else ()
        )
        existing = None
        if has_installation:
            existing = make_installation(
                invitation_id="ii_1" if same_invitation else "ii_other",
                status=InstallationStatus.ACTIVE if active else InstallationStatus.DEACTIVATED,
                deactivated_at=None if active else T0,
            )
        returning = is_returning(invitation, existing, "pc-1")
        try:
            do_activate(
                key=make_key(seats=5, seats_used=1), invitation=invitation, existing=existing
            )
        except ActivationCodeUsedUp:
            assert not returning
        except ComputerAlreadyActivated:
            assert returning  # listed, but the seat is held through another invitation
        else:
            assert returning
