"""The values the use cases of :class:`licensekit.LicenseKit` take and return.

They are re-exported by :mod:`licensekit.service` and :mod:`licensekit`; import them from there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Generic, TypeVar

import attrs

from licensekit._settings import EXPIRY_PRESETS, Settings
from licensekit.domain.model import (
    SECRET,
    InstallationView,
    InstallInvitationView,
    JoinInvitationView,
    LicenseState,
    MemberStatus,
    Role,
)
from licensekit.emails import (
    RejectedEmail,
)

__all__ = [
    "EXPIRY_PRESETS",
    "AccountMembership",
    "ActivationResult",
    "CheckInResult",
    "CsvPage",
    "CullReport",
    "DeliveryFailure",
    "DeliveryReport",
    "InstallInvitationBatch",
    "InstallInvitationPreview",
    "InvitationPreview",
    "JoinInvitationBatch",
    "MoveReport",
    "PurgeReport",
    "Settings",
]


@attrs.frozen
class DeliveryFailure:
    """An invitation that was stored but whose email could not be handed over.

    Attributes:
        email: The recipient.
        invitation_id: The stored invitation; resend it later.
        reason: What the mailer said.
        permanent: Whether retrying can help.
    """

    email: str
    invitation_id: str
    reason: str
    permanent: bool


@attrs.frozen
class JoinInvitationBatch:
    """What one call to :meth:`LicenseKit.invite_members` did.

    Attributes:
        invited: The invitations created, in input order.
        skipped: Entries not invited, each with its 1-based position in the input and the
            reason: invalid address, duplicate in the list, already a member, blocked, or
            already holding a pending invitation. ``text`` is the entry as typed for invalid
            entries and duplicates, and the normalised address for the other reasons.
        undelivered: Invitations created whose email failed; they stay pending.
    """

    invited: tuple[JoinInvitationView, ...]
    skipped: tuple[RejectedEmail, ...] = ()
    undelivered: tuple[DeliveryFailure, ...] = ()


@attrs.frozen
class InvitationPreview:
    """What an invitation link leads to, for the host's acceptance page.

    Attributes:
        invitation_id: The invitation.
        account_id: The business account to join.
        account_name: Its name.
        email: Who the invitation is for.
        inviter_email: Who sent it.
        expires_at: When it stops working.
        user_exists: True when the invitee already has a personal account.
        needs_current_password: True when accepting must give that account's current
            password (or come from a session of it): it exists and its address is proven.
            Otherwise the invitee chooses a password (the link proves the address, and a
            password set by whoever registered an unproven address is discarded).
    """

    invitation_id: str
    account_id: str
    account_name: str
    email: str
    inviter_email: str
    expires_at: dt.datetime
    user_exists: bool
    needs_current_password: bool


@attrs.frozen
class PurgeReport:
    """What :meth:`LicenseKit.purge_expired` deleted.

    Attributes:
        sessions: Expired sessions.
        throttles: Throttling records whose window and lock-out were over.
    """

    sessions: int
    throttles: int


@attrs.frozen
class CsvPage:
    """One page of a CSV export.

    Exports come a page at a time, so that a long list never sits in memory (or in one
    transaction) whole.

    Attributes:
        csv: The page's rows as CSV text (CRLF line ends); the first page (asked for without
            a cursor) starts with the header row. Written one after the other, the pages
            make one CSV file.
        rows: How many rows the page holds, the header not counted.
        next_cursor: Pass it back to get the next page; None on the last page.
    """

    csv: str
    rows: int
    next_cursor: str | None = None


@attrs.frozen
class CullReport:
    """What :meth:`LicenseKit.cull_installations` did.

    Attributes:
        keys: Keys that cull, whose installations were looked at.
        culled: Installations culled (their seats are free).
    """

    keys: int
    culled: int


@attrs.frozen
class MoveReport:
    """What moving installations or replacing a key did.

    Returned by :meth:`LicenseKit.move_installations` and
    :meth:`LicenseKit.replace_license_key`.

    Attributes:
        from_key_id: The key the installations left.
        to_key_id: The key they went to (for a replacement, the new key).
        installations: How many installations moved, each with its id and token.
        seats: How many of them hold a seat (active ones; culled ones hold none): as many
            seats were taken on the new key and given back on the old one.
        replaced: Inactive installation records of the same computers that the new key
            held and the moved ones replaced.
        invitations: Invitations to install that moved with them (a replacement only).
        grants: License Administrators whose grant over the old key now covers the new one
            (a replacement only).
    """

    from_key_id: str
    to_key_id: str
    installations: int
    seats: int
    replaced: int = 0
    invitations: int = 0
    grants: int = 0


@attrs.frozen
class AccountMembership:
    """One of the caller's own memberships, as seen from a given session.

    Attributes:
        account_id: The business account.
        account_name: Its name.
        role: The role recorded in the membership now.
        effective_role: The role this session acts with (a promotion shows here only in a
            session issued after it).
        status: Active or blocked.
    """

    account_id: str
    account_name: str
    role: Role
    effective_role: Role
    status: MemberStatus


@attrs.frozen
class InstallInvitationBatch:
    """What one call to :meth:`LicenseKit.invite_installers` did.

    Attributes:
        key_id: The license key the invitations are for.
        invited: The invitations created, in input order (a read-only sequence whose views
            are made as they are read, so that a batch of any size stays small).
        skipped: Entries not invited (invalid address, duplicate in the list), each with its
            1-based row in the input (the CSV line, or the position in the list) and why.
        undelivered: Invitations created whose email failed; send them again later.
        seats_free: Free seats of the key when the invitations were made.
        warnings: Things the caller should tell the person, e.g. more invitations than free
            seats (then activations are first come, first served).
    """

    key_id: str
    invited: Sequence[InstallInvitationView]
    skipped: tuple[RejectedEmail, ...] = ()
    undelivered: tuple[DeliveryFailure, ...] = ()
    seats_free: int = 0
    warnings: tuple[str, ...] = ()


ViewT = TypeVar("ViewT", InstallInvitationView, JoinInvitationView)


@attrs.frozen
class DeliveryReport(Generic[ViewT]):
    """What sending a set of stored invitations did, recipient by recipient.

    Every invitation tried appears once: in :attr:`sent` or in :attr:`undelivered`. The
    outcome is stored on each invitation too (its ``delivery`` and ``delivery_attempts``), so
    a later call sends only what is still undelivered.

    Attributes:
        sent: The invitations whose email was handed over, as they stand now.
        undelivered: Those whose email failed, with the reason and whether retrying can help.
    """

    sent: tuple[ViewT, ...]
    undelivered: tuple[DeliveryFailure, ...] = ()


@attrs.frozen
class ActivationResult:
    """What an installer gets back from a successful activation.

    It never contains the license key's value: the installer learns only that it may run.

    Attributes:
        installation_id: The installation, as administrators see it listed.
        installation_token: A secret the installed product keeps, to report that it is
            alive with :meth:`LicenseKit.check_in` (hidden from ``repr`` and left out of
            :func:`licensekit.serialization.unstructure`: read it by name). A new one is
            issued on every activation.
        account_id: The business account the license belongs to.
        key_id: The license key's id (not its value).
        product: The licensed product.
        email: The invitee whose code or link was used.
        computer_id: The computer, as the installer identified it.
        activated_at: When the seat was taken (or first taken, when it was held already).
        license_expires_at: When the license key expires, if it does.
        already_active: True when the computer held a seat already and took no other.
        certificate: The signed certificate the product keeps and checks offline with
            :func:`licensekit.verifier.verify_certificate`; None when the host gave
            :class:`LicenseKit` no signer.
        check_in_due_at: When the product should check in first.
    """

    installation_id: str
    installation_token: str = attrs.field(repr=False, metadata=SECRET)
    account_id: str
    key_id: str
    product: str
    email: str
    computer_id: str
    activated_at: dt.datetime
    license_expires_at: dt.datetime | None
    already_active: bool
    certificate: str | None = None
    check_in_due_at: dt.datetime | None = None


@attrs.frozen
class CheckInResult:
    """What an installed product learns when it checks in: where it stands.

    Attributes:
        installation: The installation as it is now (its ``status`` tells a deactivation
            from a cull).
        license_state: What the product should do: run while it is ``active`` or
            ``grace``; otherwise stop (expired, suspended, removed, deactivated, blocked).
        license_expires_at: When the license key expires (now, after renewals), if it does.
        grace_ends_at: When the grace period after that expiry ends: until then copies keep
            running; None when the key never expires.
        check_in_due_at: When to check in next: one check-in interval of the key from now,
            and never after :attr:`certificate`'s lease ends.
        certificate: A new signed certificate, while the product may run and the host gave
            :class:`LicenseKit` a signer; otherwise None (a copy that stays offline runs
            until the lease of the certificate it holds ends).
        returned: True when the installation had been culled and took a seat back.
    """

    installation: InstallationView
    license_state: LicenseState
    license_expires_at: dt.datetime | None
    grace_ends_at: dt.datetime | None
    check_in_due_at: dt.datetime
    certificate: str | None = None
    returned: bool = False


@attrs.frozen
class InstallInvitationPreview:
    """What a download link leads to, for the host's download page.

    Attributes:
        invitation_id: The invitation.
        account_name: The business account that licenses the product.
        product: The product to serve.
        email: Who the invitation is for.
        language: The invitation's language, for the page.
        expires_at: When the link and the code stop working.
        activations_left: How many more computers may activate with it (0: only computers
            that activated with it before may activate again).
    """

    invitation_id: str
    account_name: str
    product: str
    email: str
    language: str
    expires_at: dt.datetime
    activations_left: int
