"""The settings a kit is built with, apart from the values its use cases return.

:class:`Settings` (and the named invitation lifetimes, :data:`EXPIRY_PRESETS`) live here so
that constructing a kit loads only what its settings need, not every result class of
:mod:`licensekit._results`, which re-exports both; import them from :mod:`licensekit`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType

import attrs

from licensekit.domain._leases import DEFAULT_LEASE, check_lease
from licensekit.domain._validators import positive, positive_or_none
from licensekit.domain.throttling import ThrottlePolicy
from licensekit.exceptions import ValidationError

__all__ = ["EXPIRY_PRESETS", "Settings"]


@attrs.frozen
class Settings:
    """Tunable behaviour of :class:`LicenseKit`; every field has a safe default.

    Attributes:
        service_name: How the host's service names itself in emails.
        session_lifetime: How long a session works after it is issued.
        invitation_lifetime: Default time before a join invitation expires.
        max_invitation_lifetime: The longest expiry an administrator may choose.
        max_batch_size: The most addresses one invitation call accepts, and the most ids one
            call takes in ``invitation_ids`` or ``installation_ids``.
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
