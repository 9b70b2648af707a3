"""Phases and tenure: the indexed parts of a record's state agree with the state itself.

A listing by state notes the expiries that have passed and then reads phases alone
(:mod:`licensekit._usecases._invitation_states`). For that to be exact, an invitation must be
in state S at *now* exactly when, after noting at *now*, its phase is one of S's phases.
Hypothesis checks it over every combination of the fields a phase reads.
"""

from __future__ import annotations

import datetime as dt

import attrs
from hypothesis import given
from hypothesis import strategies as st

from licensekit.model import (
    InstallInvitation,
    InstallInvitationPhase,
    InstallInvitationState,
    InvitationState,
    JoinInvitation,
    JoinInvitationPhase,
    Membership,
    MemberStatus,
    MemberTenure,
    Role,
)

T0 = dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
moments = st.integers(-5, 5).map(lambda h: T0 + dt.timedelta(hours=h))
maybe_moment = st.none() | moments

INSTALL_PHASES = {
    InstallInvitationState.REVOKED: {InstallInvitationPhase.REVOKED},
    InstallInvitationState.ACTIVATED: {
        InstallInvitationPhase.USED_UP,
        InstallInvitationPhase.ACTIVATED,
    },
    InstallInvitationState.EXPIRED: {InstallInvitationPhase.EXPIRED},
    InstallInvitationState.SENT: {InstallInvitationPhase.SENT},
    InstallInvitationState.PENDING: {InstallInvitationPhase.PENDING},
}
"""The phases a listing reads for each state once expiries are noted."""
LIVE_INSTALL = {
    InstallInvitationPhase.ACTIVATED,
    InstallInvitationPhase.SENT,
    InstallInvitationPhase.PENDING,
}


@st.composite
def install_invitations(draw: st.DrawFn) -> InstallInvitation:
    most = draw(st.integers(1, 3))
    return InstallInvitation(
        id="inst_1",
        account_id="acc_1",
        key_id="key_1",
        email="a@example.com",
        language="en",
        invited_by="usr_1",
        created_at=T0 - dt.timedelta(days=1),
        expires_at=draw(moments),
        code_hash=b"c",
        token_hash=b"t",
        secret_ciphertext=b"s",
        max_activations=most,
        activations=draw(st.integers(0, most)),
        revoked_at=draw(maybe_moment),
        sent_count=draw(st.integers(0, 2)),
        expiry_noted_at=draw(maybe_moment),
    )


def noted_install(invitation: InstallInvitation, now: dt.datetime) -> InstallInvitation:
    """The invitation as a listing at *now* leaves it."""
    if invitation.phase in LIVE_INSTALL and invitation.expires_at <= now:
        return attrs.evolve(invitation, expiry_noted_at=now)
    return invitation


@given(install_invitations(), moments)
def test_an_invitation_to_install_is_in_a_state_exactly_when_its_noted_phase_says_so(
    invitation: InstallInvitation, now: dt.datetime
) -> None:
    noted = noted_install(invitation, now)
    state = invitation.state(now)
    assert noted.state(now) is state  # noting changes no state
    assert {s for s, phases in INSTALL_PHASES.items() if noted.phase in phases} == {state}


@given(install_invitations(), moments, moments)
def test_an_invitation_to_install_noted_expired_stays_expired_and_unusable(
    invitation: InstallInvitation, now: dt.datetime, later: dt.datetime
) -> None:
    noted = noted_install(invitation, now)
    if noted.phase is InstallInvitationPhase.EXPIRED:
        assert noted.state(later) is InstallInvitationState.EXPIRED
        assert not noted.usable(later)
        assert noted.expired(later)
    if noted.usable(now):
        assert noted.phase in LIVE_INSTALL


@st.composite
def join_invitations(draw: st.DrawFn) -> JoinInvitation:
    accepted = draw(maybe_moment)
    return JoinInvitation(
        id="jinv_1",
        account_id="acc_1",
        email="a@example.com",
        language="en",
        invited_by="usr_1",
        created_at=T0 - dt.timedelta(days=1),
        expires_at=draw(moments),
        token_hash=b"t",
        token_ciphertext=b"c",
        accepted_at=accepted,
        accepted_by=None if accepted is None else "usr_2",
        revoked_at=draw(maybe_moment),
        expiry_noted_at=draw(maybe_moment),
    )


@given(join_invitations(), moments)
def test_a_join_invitation_is_in_a_state_exactly_when_its_noted_phase_says_so(
    invitation: JoinInvitation, now: dt.datetime
) -> None:
    noted = invitation
    if invitation.phase is JoinInvitationPhase.OPEN and invitation.expires_at <= now:
        noted = attrs.evolve(invitation, expiry_noted_at=now)
    phases = {
        InvitationState.ACCEPTED: JoinInvitationPhase.ACCEPTED,
        InvitationState.REVOKED: JoinInvitationPhase.REVOKED,
        InvitationState.EXPIRED: JoinInvitationPhase.EXPIRED,
        InvitationState.PENDING: JoinInvitationPhase.OPEN,
    }
    assert noted.state(now) is invitation.state(now)
    assert phases[invitation.state(now)] is noted.phase


def test_an_expiry_noted_before_it_came_means_nothing() -> None:
    invitation = JoinInvitation(
        id="jinv_1",
        account_id="acc_1",
        email="a@example.com",
        language="en",
        invited_by="usr_1",
        created_at=T0,
        expires_at=T0 + dt.timedelta(days=7),
        token_hash=b"t",
        token_ciphertext=b"c",
        expiry_noted_at=T0 + dt.timedelta(days=7, microseconds=-1),
    )
    assert invitation.phase is JoinInvitationPhase.OPEN
    assert invitation.state(T0) is InvitationState.PENDING
    at_expiry = attrs.evolve(invitation, expiry_noted_at=invitation.expires_at)
    assert at_expiry.phase is JoinInvitationPhase.EXPIRED


@given(st.sampled_from(MemberStatus))
def test_a_membership_is_current_until_removed(status: MemberStatus) -> None:
    membership = Membership(
        account_id="acc_1",
        user_id="usr_1",
        role=Role.REGULAR_MEMBER,
        status=status,
        joined_at=T0,
        updated_at=T0,
    )
    expected = MemberTenure.FORMER if status is MemberStatus.REMOVED else MemberTenure.CURRENT
    assert membership.tenure is expected
