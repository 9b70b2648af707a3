"""The values the use cases of :class:`licensekit.LicenseKit` take and return.

They are re-exported by :mod:`licensekit.service` and :mod:`licensekit`; import them from there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Generic, TypeVar

import attrs

from licensekit.domain._validators import positive, positive_or_none
from licensekit.domain.certificates import DEFAULT_LEASE, check_lease
from licensekit.domain.model import (
    SECRET,
    InstallationView,
    InstallInvitationView,
    JoinInvitationView,
    LicenseState,
    MemberStatus,
    Role,
)
from licensekit.domain.throttling import ThrottlePolicy
from licensekit.emails import (
    RejectedEmail,
)
from licensekit.exceptions import ValidationError

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
class Settings:
    """Tunable behaviour of :class:`LicenseKit`; every field has a safe default.

    Attributes:
        service_name: How the host's service names itself in emails.
        session_lifetime: How long a session works after it is issued.
        invitation_lifetime: Default time before a join invitation expires.
        max_invitation_lifetime: The longest expiry an administrator may choose.
        max_batch_size: The most addresses one invitation call accepts.
        max_page_size: The largest ``limit`` a listing accepts.
        password_throttle: Wrong passwords tolerated per email before a lock-out.
        token_throttle: Unknown join invitation tokens, and unknown email verification and
            password reset tokens (counted apart), tolerated per client before a lock-out
            (applies when the host names the client, see
            :meth:`LicenseKit.accept_join_invitation`, :meth:`LicenseKit.verify_email` and
            :meth:`LicenseKit.reset_password`). A lock-out refuses unknown tokens
            only; a valid link still works. There is deliberately no limit across all
            clients: tokens carry 192 bits, so guessing is hopeless anyway, and a global
            lock-out would let anyone disable every valid link.
        install_invitation_lifetime: Default time before an invitation to install expires.
        max_activations_per_code: The most computers one invitation to install may allow.
        activation_client_throttle: Unknown activation codes and download tokens tolerated
            per client (when the installer's request names one). A lock-out refuses unknown
            codes and tokens only, never a valid one, since one address may be a whole
            office's; :meth:`~licensekit.LicenseKit.lift_lockout` lifts one at once. Unknown
            installation tokens in :meth:`~licensekit.LicenseKit.check_in` count separately,
            with the same limits and the same rule, so a product holding a stale token
            cannot lock its network out of activating or checking in.
        activation_overall_throttle: Unknown codes and tokens tolerated from all clients
            together. When it trips, unknown codes are answered with
            :class:`~licensekit.exceptions.TooManyAttempts`, but a valid code still works: a
            flood of guesses must not lock real installers out. This limit does not slow an
            attacker down (a guess that hits still succeeds); it turns a flood into a
            signal. The codes' 120 random bits are what make guessing hopeless.
        activation_invitation_throttle: Refusals of one invitation's code for its own sake
            (revoked, expired, used up, another product) before such refusals are answered
            with :class:`~licensekit.exceptions.TooManyAttempts` for a while; a use of the
            code that is allowed still activates. A computer that holds its activation from
            the code is never locked out, and its refusals do not count. Full seats, an
            unavailable key, and a blocked or already activated computer do not count and are
            told whatever the lock, so an installer may retry until a seat is freed and one
            computer's retries never lock a shared code. A success clears the count, not a
            lock in force.
        delivery_claim_timeout: How long an invitation stays claimed by a call that is
            sending its email. Another call skips it meanwhile, so two overlapping sends
            never mail it twice; after this time (the sender died, say) it counts as
            undelivered and is sent again. Keep it longer than your longest batch takes.
        email_verification_lifetime: How long an email verification link works.
        password_reset_lifetime: How long a password reset link works (OWASP suggests
            minutes, not days).
        password_reset_throttle: Password reset requests tolerated per address and, when
            the host names the client, per client, before further requests are refused for
            a while. The same for addresses with and without an account. Email verification
            requests are limited per address by the same policy, counted apart.
        reset_notice_for_unknown_addresses: Answer a password reset requested for an address
            without an account by an email saying so. Either way the caller's answer is the
            same; with this on, the cost is the same too (one email each), so timing does not
            tell whether an account exists, and a failing mailer fails for both. With it off,
            only addresses with an account are mailed: a mailer's failure or slowness then
            tells which those are.
        member_notices: Email a member whom an administrator blocks or removes (see
            :meth:`~licensekit.LicenseKit.block_member`). A call's ``notify`` argument
            overrides it either way; off, a call sends one only when it asks.
        verified_email_to_create_accounts: Only a user whose address is proven may create a
            business account. Anyone can register any address, so an unproven account could
            otherwise set up an account that its real owner later inherits.
        certificate_lease: How long a certificate from :meth:`~licensekit.LicenseKit.activate`
            or :meth:`~licensekit.LicenseKit.check_in` is valid (1 hour to 90 days; never past
            the license's end): a copy that stops checking in stops running when it ends, so
            it is also the longest a suspension takes to reach a copy that stays offline.
        activations_per_key_per_hour: The most seats one license key may take in an hour.
            Each activation that gives a computer a seat counts (a new computer, or one
            back after a deactivation or a cull); one whose computer holds its seat already
            (the installer run again, a reinstall) does not, nor does a refused one, nor a
            culled copy taking its seat back by checking in. The
            window is one hour from the first activation counted; past the limit,
            activations that would take a seat are refused with
            :class:`~licensekit.exceptions.TooManyAttempts` until it ends (``retry_after``
            says when), while computers holding a seat still re-activate. It stops a leaked
            code or key from being cycled through computer after computer faster than that.
            The default, 10,000, lets a whole batch of the largest size
            (:attr:`max_batch_size`) activate within one hour, as a scripted rollout may;
            raise it for larger keys rolled out at once. None turns the limit off. The
            first refusal of a window is audited (``installation.refused``, reason
            ``TooManyAttempts``), later ones are not.
        invitations_per_account_per_hour: The most invitation emails one business account
            may hand to the mailer in an hour: invitations to install and join invitations
            together, one per email, whether sent first or again (the ``send_*`` and
            ``resend_*`` use cases), delivered or not; invitations stored with
            ``send=False`` count when they are sent. The window is one hour from the first
            email counted. A call that would pass the limit is refused whole, before
            anything is stored or sent, with :class:`~licensekit.exceptions.TooManyAttempts`
            (its message says how many remain, ``retry_after`` when the window ends). The
            default, 20,000, is twice :attr:`max_batch_size`: a batch of the largest size
            and a full resend of it (after a mail server outage, say) fit in one hour, so a
            rollout does not trip it, while a hijacked administrator cannot mail without
            end. (Clerk allows 250 member invitations an hour.) Raise it with
            :attr:`max_batch_size`; None turns it off. The first refusal of a window is
            audited (``invitation_limit.reached``), later ones are not.

    Raises:
        ValidationError: A default lifetime exceeds ``max_invitation_lifetime``.
    """

    service_name: str = "licensekit"
    session_lifetime: dt.timedelta = attrs.field(default=dt.timedelta(hours=12), validator=positive)
    invitation_lifetime: dt.timedelta = attrs.field(
        default=dt.timedelta(days=7), validator=positive
    )
    max_invitation_lifetime: dt.timedelta = attrs.field(
        default=dt.timedelta(days=90), validator=positive
    )
    max_batch_size: int = attrs.field(default=10_000, validator=positive)
    max_page_size: int = attrs.field(default=500, validator=positive)
    password_throttle: ThrottlePolicy = attrs.field(factory=ThrottlePolicy)
    token_throttle: ThrottlePolicy = attrs.field(factory=lambda: ThrottlePolicy(max_failures=10))
    install_invitation_lifetime: dt.timedelta = attrs.field(
        default=dt.timedelta(days=14), validator=positive
    )
    max_activations_per_code: int = attrs.field(default=1000, validator=positive)
    activation_client_throttle: ThrottlePolicy = attrs.field(
        factory=lambda: ThrottlePolicy(max_failures=10)
    )
    activation_overall_throttle: ThrottlePolicy = attrs.field(
        factory=lambda: ThrottlePolicy(
            max_failures=1000, window=dt.timedelta(minutes=1), lockout=dt.timedelta(minutes=1)
        )
    )
    delivery_claim_timeout: dt.timedelta = attrs.field(
        default=dt.timedelta(hours=1), validator=positive
    )
    activation_invitation_throttle: ThrottlePolicy = attrs.field(
        factory=lambda: ThrottlePolicy(max_failures=20)
    )
    email_verification_lifetime: dt.timedelta = attrs.field(
        default=dt.timedelta(days=2), validator=positive
    )
    password_reset_lifetime: dt.timedelta = attrs.field(
        default=dt.timedelta(minutes=30), validator=positive
    )
    password_reset_throttle: ThrottlePolicy = attrs.field(
        factory=lambda: ThrottlePolicy(
            max_failures=5, window=dt.timedelta(hours=1), lockout=dt.timedelta(hours=1)
        )
    )
    reset_notice_for_unknown_addresses: bool = True
    verified_email_to_create_accounts: bool = True
    member_notices: bool = True
    certificate_lease: dt.timedelta = attrs.field(default=DEFAULT_LEASE, converter=check_lease)
    activations_per_key_per_hour: int | None = attrs.field(
        default=10_000, validator=positive_or_none
    )
    invitations_per_account_per_hour: int | None = attrs.field(
        default=20_000, validator=positive_or_none
    )

    def __attrs_post_init__(self) -> None:
        for name in ("invitation_lifetime", "install_invitation_lifetime"):
            if getattr(self, name) > self.max_invitation_lifetime:
                raise ValidationError(
                    f"{name} ({getattr(self, name)}) exceeds max_invitation_lifetime "
                    f"({self.max_invitation_lifetime})",
                    field=name,
                )


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


EXPIRY_PRESETS: Mapping[str, dt.timedelta] = MappingProxyType(
    {
        "1d": dt.timedelta(days=1),
        "3d": dt.timedelta(days=3),
        "7d": dt.timedelta(days=7),
        "14d": dt.timedelta(days=14),
        "30d": dt.timedelta(days=30),
        "90d": dt.timedelta(days=90),
    }
)
"""Named invitation lifetimes for a drop-down list; any timedelta up to the maximum works too."""


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
