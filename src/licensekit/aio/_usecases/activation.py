"""Activation of a computer with a code or link, and the installed product's check-in.

Activation is the hot path, and it takes at most four steps on a server database:

1. look the invitation up by the hash of the code or token presented (a miss is counted, per
   client and overall, under the miss's ``throttle:<key>`` scopes, and answered);
2. lock ``key:<key id>`` and ``computer:<account id>:<computer id>``, then read everything
   the decision needs in one :meth:`~licensekit._usecases._tx.Tx.fetch`: the invitation
   again, the key, the computer's installation under the key, the computer's blocks in the
   account, the code's throttle and the key's hourly count of seats taken
   (:mod:`licensekit._usecases._hourly`);
3. when the computer takes a seat and the key's hourly limit allows one more, claim it
   with the store's guarded counter,
   ``increment(LICENSE_KEYS, key_id, "seats_used", 1, cap="seats")``: no free seat, and the
   activation is refused with :class:`~licensekit.exceptions.SeatsFull`, whatever else runs
   at the same time; no lock on the account is needed. Through an additional key, its
   primary is locked (after the key) and read too, the key is judged with it, and a dynamic
   key's seat is claimed on both counters (:mod:`licensekit._usecases._seats`); when the pool
   is full but lapsed additional keys still hold some of it, they give it back in a
   transaction of their own and the activation runs once more;
4. write the rest (invitation, installation, audit event, the code's throttle, the hourly
   count) and commit.

:func:`licensekit.licensing.activate` decides the activation and
:func:`licensekit.licensing.refuse_activation` what a refusal writes; this module only loads
and writes. The key scope keeps a change of the key's record, and the invitation's other
writers (revoking, sending), from crossing an activation; the computer scope keeps blocks,
deactivations and check-ins of the same computer from crossing it.

Check-in finds the installation by its token's hash, then locks
``computer:<account id>:<computer id>`` and reads the key, the computer's blocks and (if the
lock waited) the installation again, in one fetch, before it decides the state
(:func:`licensekit.domain.standing.state_of`) and writes what changed: so that it never
brings back an installation an administrator deactivated meanwhile. A culled installation
takes its seat back with the guarded counter, as an activation does.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import attrs

from licensekit._ids import new_id
from licensekit._results import ActivationResult, CheckInResult
from licensekit._usecases._checks import clean_client, clean_name
from licensekit._usecases._install_secrets import presented_invitation
from licensekit.aio._usecases._audit import audit
from licensekit.aio._usecases._context import Context
from licensekit.aio._usecases._hourly import KeyActivations
from licensekit.aio._usecases._key_access import clean_computer_id, computer_scope, key_scope
from licensekit.aio._usecases._offload import offload
from licensekit.aio._usecases._presented import find_presented
from licensekit.aio._usecases._seats import (
    claim_seats,
    draws_on_primary,
    has_lapsed,
    lock_primary,
    release_lapsed,
)
from licensekit.aio._usecases._tx import Tx, query
from licensekit.codes import new_token
from licensekit.domain import licensing, seat_pools, standing
from licensekit.domain._construct import deferred
from licensekit.domain.model import (
    AuditAction,
    Installation,
    InstallationStatus,
    InstallationView,
    InstallInvitation,
    LicenseKey,
    LicenseState,
)
from licensekit.domain.throttling import ThrottledSecret
from licensekit.exceptions import (
    ActivationCodeNotFound,
    ActivationError,
    InstallationNotFound,
    LicenseKitError,
    SeatsFull,
    StorageBusy,
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

# The records of every activation made quicker (see licensekit.domain._construct), compiled
# on the first one.
_query: Callable[..., Query[Any]] = deferred(Query, globals(), "_query")
_new_result: Callable[..., ActivationResult] = deferred(ActivationResult, globals(), "_new_result")


class _Request(NamedTuple):
    """What an activation was asked, cleaned, with what it hands out if it succeeds.

    A named tuple rather than an attrs class: one is made per activation, the hot path.
    """

    computer_id: str
    computer_name: str
    product: str | None
    installation_id: str
    token_hash: bytes


class _Lapsed(NamedTuple):
    """No seat was free, but lapsed additional keys of *primary_id* hold some: release them."""

    primary_id: str


class _CheckedIn(NamedTuple):
    """What a check-in found and decided, inside its transaction."""

    key: LicenseKey
    installation: Installation
    state: LicenseState
    returned: bool


class Activation:
    """The use cases of this group (see :class:`licensekit.LicenseKit` for each one).

    Args:
        ctx: The shared context.
    """

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    async def activate(
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
            ValidationError: *client* is not text, holds a NUL or a lone surrogate,
                or is longer than 200 characters.
        """
        ctx = self._ctx
        computer_id = clean_computer_id(computer_id)
        if computer_name != "":  # the usual empty name and client need no checks
            computer_name = clean_name(computer_name, "computer_name", required=False)
        if product is not None:
            product = clean_name(product, "product", required=True)
        lookup = presented_invitation(ctx.keys, code, token)
        if client != "":
            client = clean_client(client)
        now = ctx.clock.now()
        installation_token = new_token()
        request = _Request(
            computer_id=computer_id,
            computer_name=computer_name,
            product=product,
            installation_id=new_id("ins", now),
            token_hash=ctx.keys.lookup_hash("installation", installation_token),
        )

        async def work(
            tx: Tx,
        ) -> tuple[LicenseKey, licensing.Activation] | LicenseKitError | _Lapsed:
            # 1. The invitation presented, or a counted miss.
            presented = await find_presented(
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
            return await self._activate(tx, found, request, now)

        outcome = await ctx.runner.run(work)
        if isinstance(outcome, _Lapsed):
            # Seats of a removed or ended additional key go back to the pool; then once more.
            await ctx.runner.run(
                functools.partial(release_lapsed, primary_id=outcome.primary_id, now=now)
            )
            outcome = await ctx.runner.run(work)
        if isinstance(outcome, _Lapsed):  # pragma: no cover - released just before
            raise SeatsFull("every seat of this license is in use", seats=0)
        if isinstance(outcome, LicenseKitError):
            raise outcome
        key, activation = outcome
        installation = activation.installation
        certificate = valid_until = None
        if ctx.signer is not None:
            certificate, valid_until = await self._certificate(
                key, installation, LicenseState.ACTIVE, now
            )
        return _new_result(
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
            certificate=certificate,
            check_in_due_at=standing.check_in_due(key, now, valid_until),
        )

    async def check_in(self, installation_token: str, *, client: str = "") -> CheckInResult:
        """Record that an installed product is alive, and tell it where it stands.

        The product presents the token it got from :meth:`activate`, and learns its license's
        state (run while ``active`` or in ``grace``; stop when expired, suspended, removed,
        deactivated or blocked), the license's expiry as it is now (a renewal arrives here),
        when to check in next and, while it may run, a new certificate.

        An active installation's ``last_seen_at`` moves to now when it is older than a
        quarter of the key's check-in interval (so most check-ins write nothing but a
        change of state). A culled installation (see :meth:`cull_installations`) that checks
        in within 30 days of its cull takes a seat back if one is free and its key is
        active; a deactivated one is told so (activating again needs a code with
        activations left, since an administrator's deactivation uses up the computer's
        claim). A state the product had not been told before is audited
        (``installation.state_seen``).

        Raises:
            InstallationNotFound: The token matches no installation (a newer activation of
                the same computer replaced it, or it was never valid).
            TooManyAttempts: Too many unknown tokens from this client or overall.
            ValidationError: *client* is not text, holds a NUL or a lone surrogate,
                or is longer than 200 characters.
            SigningKeyError: The signer failed (the check-in itself was recorded).
        """
        if not isinstance(installation_token, str):
            raise InstallationNotFound("this installation token is not valid")
        ctx = self._ctx
        token_hash = ctx.keys.lookup_hash("installation", installation_token.strip())
        client = clean_client(client)
        now = ctx.clock.now()

        async def work(tx: Tx) -> _CheckedIn | dt.datetime | None:
            presented = await find_presented(
                tx,
                query(INSTALLATIONS, token_hash=token_hash),
                client=client,
                secret=ThrottledSecret.CHECK_IN,
                settings=ctx.settings,
                now=now,
            )
            found, until = presented
            if until is not None:
                return until
            if found is None:
                return None
            return await _check_in(tx, found, now)

        outcome = await ctx.runner.run(work)
        if isinstance(outcome, dt.datetime):
            raise TooManyAttempts("installation tokens", outcome)
        if outcome is None:
            raise InstallationNotFound("this installation token is not valid")
        key, installation, state, returned = outcome
        certificate, valid_until = await self._certificate(key, installation, state, now)
        return CheckInResult(
            installation=InstallationView.of(installation),
            license_state=state,
            license_expires_at=key.expires_at,
            grace_ends_at=standing.ends_at(key),
            check_in_due_at=standing.check_in_due(key, now, valid_until),
            certificate=certificate,
            returned=returned,
        )

    async def _certificate(
        self, key: LicenseKey, installation: Installation, state: LicenseState, now: dt.datetime
    ) -> tuple[str | None, dt.datetime | None]:
        """Return the certificate a copy gets in *state* at *now*, and when its lease ends.

        None and None without a signer, or when the copy may not run. licensekit's own
        signers sign in microseconds, here; a host's signer (a KMS, an HSM) is offloaded.
        """
        signer = self._ctx.signer
        if signer is None:
            return None, None
        claims = standing.certificate_claims(
            key, installation, state, now=now, lease=self._ctx.settings.certificate_lease
        )
        if claims is None:
            return None, None
        # Imported here: hosts without a signer never load the signing code.
        from licensekit.signing import _is_local_signer, issue_certificate

        if _is_local_signer(signer):
            return issue_certificate(signer, claims), claims.valid_until
        return await offload(issue_certificate, signer, claims), claims.valid_until

    async def _activate(
        self, tx: Tx, found: InstallInvitation, request: _Request, now: dt.datetime
    ) -> tuple[LicenseKey, licensing.Activation] | LicenseKitError | _Lapsed:
        """Steps 2 to 4 of an activation with the invitation *found* (module docstring).

        A refusal is returned rather than raised, with its records written in *tx*, which
        must commit. :class:`_Lapsed` is returned instead of a refusal for want of a seat
        when a lapsed additional key still holds seats of the pool: the caller gives them
        back and tries again.
        """
        computer_id = request.computer_id
        throttle_key = licensing.code_throttle_key(found.id)
        hourly = KeyActivations(self._ctx.settings, found.key_id)  # the key's seats per hour
        # 2. Lock, then read everything the decision needs at once.
        # The invitation is read again only if the lock may have waited for a change.
        # The computer, then the key (an additional key's primary later): see _seats.
        stale = await tx.lock(computer_scope(found.account_id, computer_id))
        stale = await tx.lock(key_scope(found.key_id)) or stale
        # Each look-up spelled out rather than with query(): this is the hottest path. The
        # code's throttle and the key's hourly count are looked up together.
        counted = hourly.key
        keys, installations, blocks, throttles, *again = await tx.fetch(
            _query(LICENSE_KEYS, ("id",), ((found.key_id,),)),
            _query(INSTALLATIONS, ("key_id", "computer_id"), ((found.key_id, computer_id),)),
            _query(
                COMPUTER_BLOCKS, ("account_id", "computer_id"), ((found.account_id, computer_id),)
            ),
            _query(
                THROTTLES,
                ("key",),
                ((throttle_key,),) if counted is None else ((throttle_key,), (counted,)),
            ),
            *([_query(INSTALL_INVITATIONS, ("id",), ((found.id,),))] if stale else []),
        )
        hourly.take(throttles)
        throttle = None
        for counter in throttles:  # the code's own throttle, if it has one
            if counter.key == throttle_key:
                throttle = counter
        invitations = again[0] if stale else [found]
        if not invitations or not keys:  # pragma: no cover - neither is ever deleted
            return ActivationCodeNotFound("the license of this code no longer exists")
        invitation: InstallInvitation = invitations[0]
        if invitation.key_id != found.key_id:
            # Its key was replaced while this waited (replace_license_key moved it): start
            # again in a new transaction, which locks the new key in its turn.
            raise StorageBusy("the license key of this code changed meanwhile; try again")
        key: LicenseKey = keys[0]
        existing = installations[0] if installations else None
        # An additional key is judged with its primary (locked after it: see _seats).
        primary = await lock_primary(tx, key) if key.is_additional else None
        judged = key if primary is None else seat_pools.effective_key(key, primary)
        try:
            outcome = licensing.activate(
                key=judged,
                invitation=invitation,
                existing=existing,
                blocked=bool(blocks) and any(b.covers(key.id, key.primary_id) for b in blocks),
                computer_id=computer_id,
                computer_name=request.computer_name or (existing.computer_name if existing else ""),
                product=request.product,
                installation_id=request.installation_id,
                token_hash=request.token_hash,
                now=now,
            )
            if outcome.seat_taken and (
                limited := await hourly.refusal(tx, invitation, computer_id, now)
            ):
                return limited
            # 3. The seat, claimed by the guarded counter (the primary's too, for a
            # dynamic key).
            claimed = not outcome.seat_taken or await claim_seats(tx, key)
            if not claimed:
                raise licensing.seats_full(judged)
        except ActivationError as e:
            # Lapsed additional keys may hold seats of the pool: given back, then again.
            pool = primary if draws_on_primary(key) else key
            if (
                isinstance(e, SeatsFull)
                and pool is not None
                and not pool.is_additional
                and await has_lapsed(tx, pool, now)
            ):
                return _Lapsed(pool.id)
            refusal = licensing.refuse_activation(
                e,
                returning=licensing.is_returning(invitation, existing, computer_id),
                throttle=throttle,
                key=throttle_key,
                policy=self._ctx.settings.activation_invitation_throttle,
                now=now,
            )
            if refusal.throttle is not None:
                await tx.put(THROTTLES, refusal.throttle)
            if refusal.audited:
                await audit(
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
            await tx.save(INSTALL_INVITATIONS, outcome.invitation)
        if (
            existing is not None
            and existing.status is InstallationStatus.CULLED
            and existing.invitation_id != invitation.id
        ):
            # A culled computer kept its claim on the code it came with; it now holds its
            # seat through another, so that claim ends, as a deactivation would end it.
            await _forget_claim(tx, existing)
        if outcome.is_new:
            await tx.add(INSTALLATIONS, outcome.installation)
        else:
            await tx.save(INSTALLATIONS, outcome.installation)
        if throttle is not None and licensing.clears_code_throttle(throttle, now):
            await tx.delete(THROTTLES, throttle_key)
        await hourly.count(tx)
        await audit(
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
        return judged, outcome


async def _forget_claim(tx: Tx, installation: Installation) -> None:
    """End *installation*'s computer's claim on the code of its invitation."""
    earlier = await tx.get(INSTALL_INVITATIONS, installation.invitation_id)
    if earlier is not None:
        forgotten = licensing.forget_computer(earlier, installation.computer_id)
        if forgotten != earlier:
            await tx.save(INSTALL_INVITATIONS, forgotten)


async def _check_in(tx: Tx, found: Installation, now: dt.datetime) -> _CheckedIn | None:
    """Decide and write the check-in of the installation *found* by its token.

    See :meth:`Activation.check_in`. The computer's scope keeps blocks, deactivations,
    culls and activations of the computer from crossing the check-in; the installation is
    read again by its token if the lock waited, and None returned if the token was retired
    meanwhile.
    """
    account_id, computer_id = found.account_id, found.computer_id
    # A culled installation may take a seat back: that claim, like an activation's, holds
    # the key's scope too, so that no change of the key's record crosses it (a key change
    # writes the whole record, seats_used included). An ordinary check-in locks only its
    # computer. The computer, then the key (an additional key's primary later): see _seats.
    may_claim = found.status is InstallationStatus.CULLED
    stale = await tx.lock(computer_scope(account_id, computer_id))
    if may_claim:
        stale = await tx.lock(key_scope(found.key_id)) or stale
    keys, blocks, *again = await tx.fetch(
        Query(LICENSE_KEYS, ("id",), ((found.key_id,),)),
        Query(COMPUTER_BLOCKS, ("account_id", "computer_id"), ((account_id, computer_id),)),
        # Again by its token: a new activation of the computer meanwhile retired this one.
        *([Query(INSTALLATIONS, ("token_hash",), ((found.token_hash,),))] if stale else []),
    )
    if stale and not again[0]:
        return None
    installation: Installation = again[0][0] if stale else found
    if installation.key_id != found.key_id:
        # Moved to another key while this waited (move_installations).
        if may_claim:
            # Its claim would need the new key's scope, taken after the old one's: start
            # again in a new transaction, which locks the new key in its turn.
            raise StorageBusy("this installation moved to another key meanwhile; try again")
        # An ordinary check-in holds only its computer's scope and reads its key unlocked:
        # it reads the key the installation is under now, in this transaction, rather than
        # starting again (a caller racing several moves would otherwise run out of tries).
        [keys] = await tx.fetch(Query(LICENSE_KEYS, ("id",), ((installation.key_id,),)))
    stored: LicenseKey = keys[0]
    primary = None
    if stored.primary_id is not None:
        # Locked only when the primary's pool may be claimed from (after the key: _seats).
        if may_claim and draws_on_primary(stored):
            primary = await lock_primary(tx, stored)
        else:
            primary = await tx.get(LICENSE_KEYS, stored.primary_id)
    key = seat_pools.effective_key(stored, primary)
    blocked = any(b.covers(key.id, key.primary_id) for b in blocks)
    changed, returned = installation, False
    if (
        may_claim
        and not blocked
        and standing.may_return(key, installation, now)
        and await claim_seats(tx, stored)
    ):
        changed, returned = standing.return_to_seat(installation, now=now), True
        await audit(tx, now, account_id, "", AuditAction.RETURNED, changed.id, key_id=key.id)
    state = standing.state_of(key, changed, blocked=blocked, now=now)
    if state is not changed.last_state:
        await audit(
            tx,
            now,
            account_id,
            "",
            AuditAction.STATE_SEEN,
            changed.id,
            key_id=key.id,
            computer_id=computer_id,
            state_from=changed.last_state.value,
            state_to=state.value,
        )
        changed = attrs.evolve(changed, last_state=state)
    if changed.status is InstallationStatus.ACTIVE and standing.records_sighting(key, changed, now):
        changed = attrs.evolve(changed, last_seen_at=now)
    if changed != installation:
        await tx.save(INSTALLATIONS, changed)
    return _CheckedIn(key, changed, state, returned)
