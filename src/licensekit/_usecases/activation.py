"""Activation of a computer with a code or link, and the installed product's check-in.

Activation is the hot path, and it takes at most four steps on a server database:

1. look the invitation up by the hash of the code or token presented (a miss is counted, per
   client and overall, under the miss's ``throttle:<key>`` scopes, and answered);
2. lock ``key:<key id>`` and ``computer:<account id>:<computer id>``, then read everything
   the decision needs in one :meth:`~licensekit._usecases._tx.Tx.fetch`: the invitation
   again, the key, the computer's installation under the key, the computer's blocks in the
   account and the code's throttle;
3. when the computer takes a seat, claim it with the store's guarded counter,
   ``increment(LICENSE_KEYS, key_id, "seats_used", 1, cap="seats")``: no free seat, and the
   activation is refused with :class:`~licensekit.exceptions.SeatsFull`, whatever else runs
   at the same time; no lock on the account is needed;
4. write the rest (invitation, installation, audit event, the code's throttle) and commit.

:func:`licensekit.licensing.activate` decides the activation and
:func:`licensekit.licensing.refuse_activation` what a refusal writes; this module only loads
and writes. The key scope keeps a change of the key's record, and the invitation's other
writers (revoking, sending), from crossing an activation; the computer scope keeps blocks,
deactivations and check-ins of the same computer from crossing it.

Check-in finds the installation by its token's hash, then locks
``computer:<account id>:<computer id>`` and reads it again before it moves ``last_seen_at``,
so that it never brings back an installation an administrator deactivated meanwhile.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import attrs

from licensekit._ids import new_id
from licensekit._results import ActivationResult
from licensekit._usecases._audit import audit
from licensekit._usecases._checks import clean_name, plain_text
from licensekit._usecases._context import Context
from licensekit._usecases._install_secrets import presented_invitation
from licensekit._usecases._key_access import clean_computer_id, computer_scope, key_scope
from licensekit._usecases._presented import find_presented
from licensekit._usecases._tx import Tx, query
from licensekit.codes import new_token
from licensekit.domain import licensing
from licensekit.domain.model import (
    AuditAction,
    Installation,
    InstallationView,
    InstallInvitation,
    LicenseKey,
)
from licensekit.domain.throttling import ThrottledSecret
from licensekit.exceptions import (
    ActivationCodeNotFound,
    ActivationError,
    InstallationNotFound,
    LicenseKitError,
    TooManyAttempts,
)
from licensekit.storage import (
    COMPUTER_BLOCKS,
    INSTALL_INVITATIONS,
    INSTALLATIONS,
    LICENSE_KEYS,
    THROTTLES,
    Query,
)

__all__ = ["Activation"]


class _Request(NamedTuple):
    """What an activation was asked, cleaned, with what it hands out if it succeeds.

    A named tuple rather than an attrs class: one is made per activation, the hot path.
    """

    computer_id: str
    computer_name: str
    product: str | None
    installation_id: str
    token_hash: bytes


class Activation:
    """The use cases of this group (see :class:`licensekit.LicenseKit` for each one).

    Args:
        ctx: The shared context.
    """

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def activate(
        self,
        *,
        computer_id: str,
        code: str | None = None,
        token: str | None = None,
        computer_name: str = "",
        product: str | None = None,
        client: str = "",
    ) -> ActivationResult:
        """Activate a computer with an invitation's code or download token; no session needed.

        Called by the installer: automatically with the *token* from the download URL, or
        with the *code* a person typed (case, spaces and dashes do not matter, and ``O``,
        ``I``, ``L`` read as ``0``, ``1``, ``1``). Seats go first come, first served. A
        computer that holds a seat of the key already keeps it and takes no other.

        Args:
            computer_id: A stable identifier of the computer (hardware id, serial number).
            code: The temporary activation code, as typed.
            token: Instead of *code*: the token from the download URL.
            computer_name: The computer's name, for the administrators' listing.
            product: The product being activated, when the installer knows; a code for a
                key of another product is refused.
            client: An identifier of the requesting client (an IP address, say); unknown
                codes are then also throttled per client.

        Returns:
            The installation made, without the license key's value.

        Raises:
            ValidationError: Neither or both of *code* and *token*, or a bad computer id.
            ActivationCodeMistyped: The code has a typing mistake (detected before look-up).
            ActivationCodeNotFound: No invitation has that code or token.
            ActivationCodeRevoked: The invitation was revoked.
            ActivationCodeExpired: The invitation has expired.
            ActivationCodeUsedUp: The code activated as many computers as it allows.
            ActivationCodeWrongProduct: The code is for another product.
            LicenseKeyUnavailable: The key is suspended, removed or expired.
            ComputerBlocked: The computer is blocked in the account or under the key.
            ComputerAlreadyActivated: The computer holds a seat through another invitation.
            SeatsFull: Every seat of the key is taken.
            TooManyAttempts: Too many unknown codes from this client or overall, or too many
                refused activations with this code.
            ValidationError: *client* is not text, or holds a NUL or a lone surrogate.
        """
        ctx = self._ctx
        computer_id = clean_computer_id(computer_id)
        computer_name = clean_name(computer_name, "computer_name", required=False)
        if product is not None:
            product = clean_name(product, "product", required=True)
        lookup = presented_invitation(ctx.keys, code, token)
        client = plain_text(client, "client").strip()
        now = ctx.clock.now()
        installation_token = new_token()
        request = _Request(
            computer_id=computer_id,
            computer_name=computer_name,
            product=product,
            installation_id=new_id("ins", now),
            token_hash=ctx.keys.lookup_hash("installation", installation_token),
        )

        def work(tx: Tx) -> tuple[LicenseKey, licensing.Activation] | LicenseKitError:
            # 1. The invitation presented, or a counted miss.
            presented = find_presented(
                tx,
                lookup,
                client=client,
                secret=ThrottledSecret.ACTIVATION,
                settings=ctx.settings,
                now=now,
            )
            found, until = presented
            if until is not None:
                return TooManyAttempts("activation codes and tokens", until)
            if found is None:
                return ActivationCodeNotFound(
                    "no invitation has this activation code; check it, or ask your administrator"
                    if code is not None
                    else "this download link is not valid"
                )
            return self._activate(tx, found, request, now)

        outcome = ctx.runner.run(work)
        if isinstance(outcome, LicenseKitError):
            raise outcome
        key, activation = outcome
        installation = activation.installation
        return ActivationResult(
            installation_id=installation.id,
            installation_token=installation_token,
            account_id=key.account_id,
            key_id=key.id,
            product=key.product,
            email=installation.email,
            computer_id=computer_id,
            activated_at=installation.activated_at,
            license_expires_at=key.expires_at,
            already_active=not activation.seat_taken,
        )

    def check_in(self, installation_token: str, *, client: str = "") -> InstallationView:
        """Record that an installed product is alive, and tell it where it stands.

        The product presents the token it got from :meth:`activate`. An active
        installation's ``last_seen_at`` moves to now; a deactivated one is reported as such
        (the product should stop running; activating again needs a code with activations
        left, since an administrator's deactivation uses up the computer's claim).

        Raises:
            InstallationNotFound: The token matches no installation (a newer activation of
                the same computer replaced it, or it was never valid).
            TooManyAttempts: Too many unknown tokens from this client or overall.
            ValidationError: *client* is not text, or holds a NUL or a lone surrogate.
        """
        if not isinstance(installation_token, str):
            raise InstallationNotFound("this installation token is not valid")
        ctx = self._ctx
        token_hash = ctx.keys.lookup_hash("installation", installation_token.strip())
        client = plain_text(client, "client").strip()
        now = ctx.clock.now()

        def work(tx: Tx) -> tuple[Installation | None, dt.datetime | None]:
            presented = find_presented(
                tx,
                query(INSTALLATIONS, token_hash=token_hash),
                client=client,
                secret=ThrottledSecret.CHECK_IN,
                settings=ctx.settings,
                now=now,
            )
            found, until = presented
            if found is not None and found.is_active:
                if tx.lock(computer_scope(found.account_id, found.computer_id)):
                    found = tx.find(INSTALLATIONS, token_hash=token_hash)  # as it is now
                if found is not None and found.is_active:
                    found = attrs.evolve(found, last_seen_at=now)
                    tx.save(INSTALLATIONS, found)
            return found, until

        found, until = ctx.runner.run(work)
        if until is not None:
            raise TooManyAttempts("installation tokens", until)
        if found is None:
            raise InstallationNotFound("this installation token is not valid")
        return InstallationView.of(found)

    def _activate(
        self, tx: Tx, found: InstallInvitation, request: _Request, now: dt.datetime
    ) -> tuple[LicenseKey, licensing.Activation] | LicenseKitError:
        """Steps 2 to 4 of an activation with the invitation *found* (module docstring).

        A refusal is returned rather than raised, with its records written in *tx*, which
        must commit.
        """
        computer_id = request.computer_id
        throttle_key = licensing.code_throttle_key(found.id)
        # 2. Lock, then read everything the decision needs at once.
        # The invitation is read again only if the lock may have waited for a change.
        # The scopes in sorted order: "computer:..." < "key:...".
        stale = tx.lock(computer_scope(found.account_id, computer_id), key_scope(found.key_id))
        # Each look-up spelled out rather than with query(): this is the hottest path.
        keys, installations, blocks, throttles, *again = tx.fetch(
            Query(LICENSE_KEYS, ("id",), ((found.key_id,),)),
            Query(INSTALLATIONS, ("key_id", "computer_id"), ((found.key_id, computer_id),)),
            Query(
                COMPUTER_BLOCKS, ("account_id", "computer_id"), ((found.account_id, computer_id),)
            ),
            Query(THROTTLES, ("key",), ((throttle_key,),)),
            *([Query(INSTALL_INVITATIONS, ("id",), ((found.id,),))] if stale else []),
        )
        invitations = again[0] if stale else [found]
        if not invitations or not keys:  # pragma: no cover - neither is ever deleted
            return ActivationCodeNotFound("the license of this code no longer exists")
        invitation: InstallInvitation = invitations[0]
        key: LicenseKey = keys[0]
        existing = installations[0] if installations else None
        throttle = throttles[0] if throttles else None
        try:
            outcome = licensing.activate(
                key=key,
                invitation=invitation,
                existing=existing,
                blocked=any(b.covers(key.id) for b in blocks),
                computer_id=computer_id,
                computer_name=request.computer_name or (existing.computer_name if existing else ""),
                product=request.product,
                installation_id=request.installation_id,
                token_hash=request.token_hash,
                now=now,
            )
            # 3. The seat, claimed by the guarded counter.
            claimed = not outcome.seat_taken or tx.increment(
                LICENSE_KEYS, key.id, "seats_used", 1, cap="seats"
            )
            if not claimed:
                raise licensing.seats_full(key)
        except ActivationError as e:
            refusal = licensing.refuse_activation(
                e,
                returning=licensing.is_returning(invitation, existing, computer_id),
                throttle=throttle,
                key=throttle_key,
                policy=self._ctx.settings.activation_invitation_throttle,
                now=now,
            )
            if refusal.throttle is not None:
                tx.put(THROTTLES, refusal.throttle)
            if refusal.audited:
                audit(
                    tx,
                    now,
                    invitation.account_id,
                    "",
                    AuditAction.ACTIVATION_REFUSED,
                    invitation.id,
                    key_id=invitation.key_id,
                    email=invitation.email,
                    computer_id=computer_id,
                    reason=type(e).__name__,
                )
            return refusal.error
        # 4. The rest.
        if outcome.invitation is not invitation:
            tx.save(INSTALL_INVITATIONS, outcome.invitation)
        if outcome.is_new:
            tx.add(INSTALLATIONS, outcome.installation)
        else:
            tx.save(INSTALLATIONS, outcome.installation)
        if licensing.clears_code_throttle(throttle, now):
            tx.delete(THROTTLES, throttle_key)
        audit(
            tx,
            now,
            key.account_id,
            "",
            AuditAction.ACTIVATED,
            outcome.installation.id,
            key_id=key.id,
            invitation_id=invitation.id,
            email=invitation.email,
            computer_id=computer_id,
            computer_name=outcome.installation.computer_name,
            seat_taken="yes" if outcome.seat_taken else "no",
        )
        return key, outcome
