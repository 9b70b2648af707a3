"""Unit tests of the pure membership and join-invitation rules in licensekit.members."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from licensekit import (
    AlreadyMember,
    ConflictError,
    InvitationAlreadyAccepted,
    InvitationExpired,
    InvitationRevoked,
    LastAdministrator,
    MemberBlocked,
)
from licensekit.members import (
    accept_invitation,
    block_member,
    change_role,
    check_invitation_usable,
    join,
    remove_member,
    revoke_invitation,
    unblock_member,
)
from licensekit.model import InvitationState, JoinInvitation, Membership, MemberStatus, Role

T0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
LATER = T0 + dt.timedelta(hours=1)
EXPIRES = T0 + dt.timedelta(days=7)


def membership(
    role: Role = Role.REGULAR_MEMBER, status: MemberStatus = MemberStatus.ACTIVE
) -> Membership:
    return Membership(
        account_id="acc_1",
        user_id="usr_1",
        role=role,
        status=status,
        joined_at=T0,
        updated_at=T0,
    )


def invitation(**changes: object) -> JoinInvitation:
    base = JoinInvitation(
        id="inv_1",
        account_id="acc_1",
        email="ann@example.com",
        language="en",
        invited_by="usr_admin",
        created_at=T0,
        expires_at=EXPIRES,
        token_hash=b"hash",
        token_ciphertext=b"ciphertext",
    )
    return attrs.evolve(base, **changes)


ADMIN = Role.ACCOUNT_ADMINISTRATOR
REGULAR = Role.REGULAR_MEMBER


class TestJoin:
    def test_new_member_is_active_regular_member_joined_now(self) -> None:
        m = join(None, account_id="acc_1", user_id="usr_1", now=LATER)
        assert (m.account_id, m.user_id) == ("acc_1", "usr_1")
        assert m.role is REGULAR
        assert m.status is MemberStatus.ACTIVE
        assert m.joined_at == LATER
        assert m.updated_at == LATER
        assert m.changed_by is None
        assert m.notes == ""

    def test_active_member_cannot_join_again(self) -> None:
        with pytest.raises(AlreadyMember, match="already a member of account 'acc_1'"):
            join(membership(), account_id="acc_1", user_id="usr_1", now=LATER)

    def test_active_administrator_cannot_join_again(self) -> None:
        with pytest.raises(AlreadyMember, match="already a member"):
            join(membership(ADMIN), account_id="acc_1", user_id="usr_1", now=LATER)

    def test_blocked_member_cannot_rejoin_until_unblocked(self) -> None:
        blocked = membership(status=MemberStatus.BLOCKED)
        with pytest.raises(MemberBlocked, match=r"blocked in account 'acc_1'.*must unblock"):
            join(blocked, account_id="acc_1", user_id="usr_1", now=LATER)

    def test_removed_member_rejoins_as_fresh_active_regular_member(self) -> None:
        removed = attrs.evolve(
            membership(status=MemberStatus.REMOVED), changed_by="usr_admin", notes="left"
        )
        m = join(removed, account_id="acc_1", user_id="usr_1", now=LATER)
        assert m.status is MemberStatus.ACTIVE
        assert m.role is REGULAR
        assert m.joined_at == LATER
        assert m.changed_by is None
        assert m.notes == ""


class TestChangeRole:
    def test_promotion_records_role_actor_time_and_notes(self) -> None:
        m = change_role(
            membership(),
            ADMIN,
            actor_id="usr_admin",
            now=LATER,
            notes="runs IT now",
            active_administrators=1,
        )
        assert m.role is ADMIN
        assert m.changed_by == "usr_admin"
        assert m.updated_at == LATER
        assert m.notes == "runs IT now"
        assert m.joined_at == T0

    def test_demoting_the_last_active_administrator_fails(self) -> None:
        with pytest.raises(LastAdministrator, match="cannot demote the last Account Administrator"):
            change_role(
                membership(ADMIN),
                REGULAR,
                actor_id="usr_1",
                now=LATER,
                notes="",
                active_administrators=1,
            )

    def test_demoting_an_administrator_succeeds_when_another_remains(self) -> None:
        m = change_role(
            membership(ADMIN),
            REGULAR,
            actor_id="usr_admin",
            now=LATER,
            notes="",
            active_administrators=2,
        )
        assert m.role is REGULAR

    def test_demoting_a_blocked_administrator_is_not_guarded(self) -> None:
        """A blocked administrator is not one of the active administrators to keep."""
        blocked_admin = membership(ADMIN, MemberStatus.BLOCKED)
        m = change_role(
            blocked_admin,
            REGULAR,
            actor_id="usr_admin",
            now=LATER,
            notes="",
            active_administrators=1,
        )
        assert m.role is REGULAR
        assert m.status is MemberStatus.BLOCKED

    def test_removed_member_role_cannot_change(self) -> None:
        with pytest.raises(ConflictError, match="no longer a member"):
            change_role(
                membership(status=MemberStatus.REMOVED),
                ADMIN,
                actor_id="usr_admin",
                now=LATER,
                notes="",
                active_administrators=1,
            )

    def test_change_role_does_not_mutate_the_input(self) -> None:
        original = membership()
        change_role(
            original, ADMIN, actor_id="usr_admin", now=LATER, notes="", active_administrators=1
        )
        assert original.role is REGULAR
        assert original.updated_at == T0


class TestBlockAndUnblock:
    def test_block_keeps_role_and_records_who_when_and_notes(self) -> None:
        m = block_member(
            membership(ADMIN),
            actor_id="usr_admin",
            now=LATER,
            notes="left the company",
            active_administrators=2,
        )
        assert m.status is MemberStatus.BLOCKED
        assert m.role is ADMIN
        assert (m.changed_by, m.updated_at, m.notes) == ("usr_admin", LATER, "left the company")
        assert not m.is_active

    def test_blocking_the_last_active_administrator_fails(self) -> None:
        with pytest.raises(LastAdministrator, match="cannot block the last Account Administrator"):
            block_member(
                membership(ADMIN), actor_id="usr_1", now=LATER, notes="", active_administrators=1
            )

    def test_blocking_a_regular_member_ignores_administrator_count(self) -> None:
        m = block_member(
            membership(), actor_id="usr_admin", now=LATER, notes="", active_administrators=1
        )
        assert m.status is MemberStatus.BLOCKED

    @pytest.mark.parametrize(
        ("status", "word"), [(MemberStatus.BLOCKED, "blocked"), (MemberStatus.REMOVED, "removed")]
    )
    def test_only_active_members_can_be_blocked(self, status: MemberStatus, word: str) -> None:
        with pytest.raises(ConflictError, match=f"is {word}, not active"):
            block_member(
                membership(status=status),
                actor_id="usr_admin",
                now=LATER,
                notes="",
                active_administrators=2,
            )

    def test_unblock_restores_active_status_with_previous_role(self) -> None:
        m = unblock_member(
            membership(ADMIN, MemberStatus.BLOCKED), actor_id="usr_admin", now=LATER, notes="back"
        )
        assert m.status is MemberStatus.ACTIVE
        assert m.role is ADMIN
        assert (m.changed_by, m.updated_at, m.notes) == ("usr_admin", LATER, "back")
        assert m.is_active_administrator

    @pytest.mark.parametrize(
        ("status", "word"), [(MemberStatus.ACTIVE, "active"), (MemberStatus.REMOVED, "removed")]
    )
    def test_only_blocked_members_can_be_unblocked(self, status: MemberStatus, word: str) -> None:
        with pytest.raises(ConflictError, match=f"is {word}, not blocked"):
            unblock_member(membership(status=status), actor_id="usr_admin", now=LATER, notes="")


class TestRemove:
    def test_removal_ends_membership_and_resets_role(self) -> None:
        m = remove_member(
            membership(ADMIN),
            actor_id="usr_admin",
            now=LATER,
            notes="bye",
            active_administrators=2,
        )
        assert m.status is MemberStatus.REMOVED
        assert m.role is REGULAR
        assert (m.changed_by, m.updated_at, m.notes) == ("usr_admin", LATER, "bye")

    def test_removing_the_last_active_administrator_fails(self) -> None:
        with pytest.raises(LastAdministrator, match="cannot remove the last Account Administrator"):
            remove_member(
                membership(ADMIN), actor_id="usr_1", now=LATER, notes="", active_administrators=1
            )

    def test_blocked_member_can_be_removed(self) -> None:
        m = remove_member(
            membership(status=MemberStatus.BLOCKED),
            actor_id="usr_admin",
            now=LATER,
            notes="",
            active_administrators=1,
        )
        assert m.status is MemberStatus.REMOVED

    def test_removed_member_cannot_be_removed_again(self) -> None:
        with pytest.raises(ConflictError, match="no longer a member"):
            remove_member(
                membership(status=MemberStatus.REMOVED),
                actor_id="usr_admin",
                now=LATER,
                notes="",
                active_administrators=1,
            )


class TestMembershipFlags:
    @pytest.mark.parametrize(
        ("role", "status", "active", "active_admin"),
        [
            (REGULAR, MemberStatus.ACTIVE, True, False),
            (ADMIN, MemberStatus.ACTIVE, True, True),
            (ADMIN, MemberStatus.BLOCKED, False, False),
            (ADMIN, MemberStatus.REMOVED, False, False),
        ],
    )
    def test_only_active_administrators_count_as_active_administrators(
        self, role: Role, status: MemberStatus, active: bool, active_admin: bool
    ) -> None:
        m = membership(role, status)
        assert m.is_active is active
        assert m.is_active_administrator is active_admin


class TestInvitationState:
    def test_fresh_invitation_is_pending_before_expiry(self) -> None:
        assert invitation().state(EXPIRES - dt.timedelta(seconds=1)) is InvitationState.PENDING

    def test_invitation_expires_exactly_at_its_expiry(self) -> None:
        assert invitation().state(EXPIRES) is InvitationState.EXPIRED

    def test_revoked_invitation_is_revoked_even_after_expiry(self) -> None:
        inv = invitation(revoked_at=LATER, revoked_by="usr_admin")
        assert inv.state(LATER) is InvitationState.REVOKED
        assert inv.state(EXPIRES + dt.timedelta(days=1)) is InvitationState.REVOKED

    def test_accepted_state_wins_over_revoked_and_expired(self) -> None:
        inv = invitation(accepted_at=LATER, accepted_by="usr_1", revoked_at=LATER)
        assert inv.state(EXPIRES + dt.timedelta(days=1)) is InvitationState.ACCEPTED


class TestCheckInvitationUsable:
    def test_pending_invitation_is_usable(self) -> None:
        check_invitation_usable(invitation(), LATER)  # raises if not

    def test_accepted_invitation_is_single_use(self) -> None:
        with pytest.raises(InvitationAlreadyAccepted, match="'inv_1' has already been accepted"):
            check_invitation_usable(invitation(accepted_at=LATER, accepted_by="usr_1"), LATER)

    def test_revoked_invitation_never_works(self) -> None:
        with pytest.raises(InvitationRevoked, match="'inv_1' was revoked"):
            check_invitation_usable(invitation(revoked_at=LATER), LATER)

    def test_expired_invitation_never_works_and_says_when_it_expired(self) -> None:
        with pytest.raises(InvitationExpired, match="expired at 2030-01-08T00:00:00"):
            check_invitation_usable(invitation(), EXPIRES)


class TestAcceptInvitation:
    def test_accepting_records_user_and_time(self) -> None:
        inv = accept_invitation(invitation(), user_id="usr_1", now=LATER)
        assert inv.accepted_at == LATER
        assert inv.accepted_by == "usr_1"
        assert inv.state(LATER) is InvitationState.ACCEPTED

    def test_an_invitation_cannot_be_accepted_twice(self) -> None:
        once = accept_invitation(invitation(), user_id="usr_1", now=LATER)
        with pytest.raises(InvitationAlreadyAccepted, match="already been accepted"):
            accept_invitation(once, user_id="usr_2", now=LATER)

    def test_expired_invitation_cannot_be_accepted(self) -> None:
        with pytest.raises(InvitationExpired, match="ask for a new one"):
            accept_invitation(invitation(), user_id="usr_1", now=EXPIRES + dt.timedelta(1))

    def test_revoked_invitation_cannot_be_accepted(self) -> None:
        with pytest.raises(InvitationRevoked, match="was revoked"):
            accept_invitation(invitation(revoked_at=LATER), user_id="usr_1", now=LATER)


class TestRevokeInvitation:
    def test_revoking_records_who_and_when(self) -> None:
        inv = revoke_invitation(invitation(), actor_id="usr_admin", now=LATER)
        assert (inv.revoked_at, inv.revoked_by) == (LATER, "usr_admin")
        assert inv.state(LATER) is InvitationState.REVOKED

    def test_expired_invitation_can_still_be_revoked(self) -> None:
        now = EXPIRES + dt.timedelta(days=1)
        inv = revoke_invitation(invitation(), actor_id="usr_admin", now=now)
        assert inv.state(now) is InvitationState.REVOKED

    def test_accepted_invitation_cannot_be_revoked(self) -> None:
        with pytest.raises(InvitationAlreadyAccepted, match="already been accepted"):
            revoke_invitation(
                invitation(accepted_at=LATER, accepted_by="usr_1"), actor_id="usr_admin", now=LATER
            )

    def test_revoked_invitation_cannot_be_revoked_again(self) -> None:
        with pytest.raises(InvitationRevoked, match="was revoked already"):
            revoke_invitation(invitation(revoked_at=T0), actor_id="usr_admin", now=LATER)


class TestAdministratorGrants:
    """The grant counter that lets a session tell an old administrator period from a new one."""

    def test_promotion_takes_a_new_grant_and_demotion_keeps_the_count(self) -> None:
        regular = Membership("acc", "usr", Role.REGULAR_MEMBER, MemberStatus.ACTIVE, T0, T0)
        promoted = change_role(
            regular,
            Role.ACCOUNT_ADMINISTRATOR,
            actor_id="a",
            now=T0,
            notes="",
            active_administrators=1,
        )
        assert promoted.admin_grant == 1
        demoted = change_role(
            promoted, Role.REGULAR_MEMBER, actor_id="a", now=T0, notes="", active_administrators=2
        )
        assert demoted.admin_grant == 1
        again = change_role(
            demoted,
            Role.ACCOUNT_ADMINISTRATOR,
            actor_id="a",
            now=T0,
            notes="",
            active_administrators=1,
        )
        assert again.admin_grant == 2

    def test_an_administrator_to_administrator_change_takes_no_new_grant(self) -> None:
        admin = Membership(
            "acc", "usr", Role.ACCOUNT_ADMINISTRATOR, MemberStatus.ACTIVE, T0, T0, admin_grant=4
        )
        same = change_role(
            admin,
            Role.ACCOUNT_ADMINISTRATOR,
            actor_id="a",
            now=T0,
            notes="x",
            active_administrators=2,
        )
        assert same.admin_grant == 4

    def test_rejoining_after_removal_keeps_the_count_of_past_grants(self) -> None:
        removed = Membership(
            "acc", "usr", Role.REGULAR_MEMBER, MemberStatus.REMOVED, T0, T0, admin_grant=3
        )
        rejoined = join(removed, account_id="acc", user_id="usr", now=T0)
        assert (rejoined.role, rejoined.status, rejoined.admin_grant) == (
            Role.REGULAR_MEMBER,
            MemberStatus.ACTIVE,
            3,
        )

    def test_unblocking_an_administrator_takes_a_new_grant(self) -> None:
        blocked = Membership(
            "acc", "usr", Role.ACCOUNT_ADMINISTRATOR, MemberStatus.BLOCKED, T0, T0, admin_grant=1
        )
        assert unblock_member(blocked, actor_id="a", now=T0, notes="").admin_grant == 2
        blocked_regular = attrs.evolve(blocked, role=Role.REGULAR_MEMBER)
        assert unblock_member(blocked_regular, actor_id="a", now=T0, notes="").admin_grant == 1
