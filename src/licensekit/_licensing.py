"""The licensing use cases.

License keys, License Administrators, invitations to install, activation, installations and
blocked computers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

import attrs

from licensekit import licensing, roles
from licensekit._core import (
    _MAX_NAME,
    ServiceCore,
    T,
    _as_id,
    _check_cursor,
    _clean_name,
    _clean_notes,
    _filtered_page,
    _plain_text,
    _require_text,
    _scan_all,
)
from licensekit._echo import echo
from licensekit._ids import new_id
from licensekit._lockouts import throttle_guess
from licensekit._results import (
    ActivationResult,
)
from licensekit._usecases._v1compat import V1Tx as Transaction
from licensekit.codes import new_token, parse_code
from licensekit.exceptions import (
    ActivationCodeNotFound,
    ActivationError,
    ComputerAlreadyActivated,
    ComputerBlocked,
    ConflictError,
    InstallationNotFound,
    InvalidCursor,
    LicenseKeyNotFound,
    LicenseKeyUnavailable,
    LicenseKitError,
    NotFound,
    PermissionDenied,
    SeatsFull,
    TooManyAttempts,
    ValidationError,
)
from licensekit.model import (
    AuditAction,
    ComputerBlock,
    Installation,
    InstallationView,
    InstallInvitation,
    LicenseKey,
    Membership,
    Page,
    Role,
    Session,
    SessionRecord,
)
from licensekit.roles import Permission
from licensekit.throttling import (
    ThrottledSecret,
    client_key,
    locked_until,
    overall_key,
)

__all__ = ["LicensingService"]

_NOT_THE_CODES_FAULT = (SeatsFull, LicenseKeyUnavailable, ComputerBlocked, ComputerAlreadyActivated)
"""Refusals about the seats, the key or the computer: they never count against a code."""
R = TypeVar("R", LicenseKey, InstallInvitation)


class LicensingService(ServiceCore):
    """License keys and seats, License Administrators, invitations to install, activation."""

    # == activation and installations =======================================================

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
        computer_id = _clean_computer_id(computer_id)
        computer_name = _clean_name(computer_name, "computer_name", required=False)
        if product is not None:
            product = _clean_name(product, "product", required=True)
        lookup = self._activation_lookup(code, token)
        client = _plain_text(client, "client").strip()
        now = self.clock.now()
        installation_token = new_token()
        token_hash = self._keys.lookup_hash("installation", installation_token)
        installation_id = new_id("ins", now)
        refusal: LicenseKitError | None = None
        # One transaction: the throttled look-up, the checks and the seat (or the refusal's
        # records) commit together, so nothing can change in between.
        with self._transaction() as tx:
            found, until = self._throttled_find(
                tx,
                lambda: self._find_install_invitation(tx, lookup),
                client,
                now,
                ThrottledSecret.ACTIVATION,
            )
            if found is None:
                refusal = (
                    TooManyAttempts("activation codes and tokens", until)
                    if until is not None
                    else ActivationCodeNotFound(
                        "no invitation has this activation code; check it, or ask your "
                        "administrator"
                        if code is not None
                        else "this download link is not valid"
                    )
                )
            else:
                invitation = found
                outcome_or_refusal = self._activate_found(
                    tx,
                    invitation,
                    computer_id=computer_id,
                    computer_name=computer_name,
                    product=product,
                    installation_id=installation_id,
                    token_hash=token_hash,
                    now=now,
                )
                if isinstance(outcome_or_refusal, LicenseKitError):
                    refusal = outcome_or_refusal
                else:
                    key, outcome = outcome_or_refusal
        if refusal is not None:
            raise refusal
        installation = outcome.installation
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
            already_active=not outcome.seat_taken,
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
        token_hash = self._keys.lookup_hash("installation", installation_token.strip())
        client = _plain_text(client, "client").strip()
        now = self.clock.now()
        # One transaction: the throttled look-up, and the move of last_seen_at (or a miss's
        # count) commit together.
        with self._transaction() as tx:
            found, until = self._throttled_find(
                tx,
                lambda: tx.find_installation_by_token_hash(token_hash),
                client,
                now,
                ThrottledSecret.CHECK_IN,
            )
            if found is not None and found.is_active:
                found = attrs.evolve(found, last_seen_at=now)
                tx.save_installation(found)
        if until is not None:
            raise TooManyAttempts("installation tokens", until)
        if found is None:
            raise InstallationNotFound("this installation token is not valid")
        return InstallationView.of(found)

    def list_installations(
        self,
        session: Session | str,
        account_id: str,
        key_id: str,
        *,
        include_inactive: bool = False,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[InstallationView]:
        """List a key's installations, oldest first, one page at a time.

        Args:
            session: An Account Administrator, or a License Administrator of *key_id*.
            account_id: The business account.
            key_id: The license key.
            include_inactive: Also list deactivated installations.
            cursor: From a previous page's ``next_cursor``.
            limit: Page size.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            LicenseKeyNotFound: No such key in *account_id*.
            PermissionDenied: The caller may not see this key's installations.
        """
        limit = self._check_limit(limit)
        after = _check_cursor(cursor, "ins")
        now = self.clock.now()
        with self._transaction() as tx:
            self._authorize_key(tx, session, account_id, key_id, Permission.VIEW_INSTALLATIONS, now)

            def fetch(after: str | None, n: int) -> Sequence[Installation]:
                return tx.list_installations(key_id, after=after, limit=n)

            page = _filtered_page(
                fetch, lambda i: i.id, lambda i: include_inactive or i.is_active, after, limit
            )
        return Page(tuple(InstallationView.of(i) for i in page.items), page.next_cursor)

    def deactivate_installation(
        self, session: Session | str, account_id: str, installation_id: str
    ) -> InstallationView:
        """Deactivate an installation; its seat is free at once.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            InstallationNotFound: No such installation in *account_id*.
            PermissionDenied: The caller may not manage the installation's key.
            ConflictError: It is not active.
        """
        now = self.clock.now()
        with self._transaction() as tx:
            record, membership = self._authorize(
                tx, session, account_id, Permission.VIEW_ACCOUNT, now
            )
            installation = self._installation(tx, account_id, installation_id)
            key = self._key_rights(
                tx,
                record,
                membership,
                account_id,
                installation.key_id,
                Permission.MANAGE_INSTALLATIONS,
            )
            self._deactivate(tx, key, installation, record.user_id, now)
            self._audit(
                tx,
                now,
                account_id,
                record.user_id,
                AuditAction.DEACTIVATED,
                installation_id,
                key_id=key.id,
                computer_id=installation.computer_id,
            )
            deactivated = tx.get_installation(installation_id) or installation
        return InstallationView.of(deactivated)

    def block_computer(
        self,
        session: Session | str,
        account_id: str,
        installation_id: str,
        *,
        notes: str = "",
    ) -> ComputerBlock:
        """Block an installation's computer from activating again, and free its seats.

        An Account Administrator's block covers every key of the account, and deactivates the
        computer's installations under all of them. A License Administrator's block covers
        the installation's key only, and deactivates that installation. Either holds until
        :meth:`unblock_computer` lifts it.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            InstallationNotFound: No such installation in *account_id*.
            PermissionDenied: The caller may not manage the installation's key.
            ConflictError: The computer is blocked in that scope already.
        """
        notes = _clean_notes(notes)
        now = self.clock.now()
        with self._transaction() as tx:
            record, membership = self._authorize(
                tx, session, account_id, Permission.VIEW_ACCOUNT, now
            )
            installation = self._installation(tx, account_id, installation_id)
            key = self._key_rights(
                tx,
                record,
                membership,
                account_id,
                installation.key_id,
                Permission.MANAGE_INSTALLATIONS,
            )
            is_admin = _is_admin(record, membership)
            computer_id = installation.computer_id
            scope = None if is_admin else key.id
            blocks = tx.find_computer_blocks(account_id, computer_id)
            if any(b.key_id == scope for b in blocks):
                where = "this account" if scope is None else f"license key {scope!r}"
                raise ConflictError(f"computer {computer_id!r} is blocked in {where} already")
            keys = self._all_license_keys(tx, account_id) if is_admin else [key]
            deactivated = []
            for covered in keys:
                found = tx.find_installation(covered.id, computer_id)
                if found is not None and found.is_active:
                    deactivated.append(self._deactivate(tx, covered, found, record.user_id, now))
            block = ComputerBlock(
                account_id=account_id,
                computer_id=computer_id,
                key_id=scope,
                blocked_at=now,
                blocked_by=record.user_id,
                notes=notes,
            )
            tx.save_computer_block(block)
            details = {"notes": notes} if notes else {}
            self._audit(
                tx,
                now,
                account_id,
                record.user_id,
                AuditAction.COMPUTER_BLOCKED,
                computer_id,
                scope=scope or "account",
                installation_id=installation_id,
                deactivated=" ".join(deactivated),
                **details,
            )
        return block

    def unblock_computer(
        self,
        session: Session | str,
        account_id: str,
        computer_id: str,
        *,
        key_id: str | None = None,
    ) -> None:
        """Lift a block, so the computer may activate again (it holds no seat until then).

        Args:
            session: An Account Administrator; or, for a block of one key, a License
                Administrator of that key.
            account_id: The business account.
            computer_id: The computer.
            key_id: The key of the block to lift; None for the account-wide block.

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            LicenseKeyNotFound: *key_id* is not a key of *account_id*.
            PermissionDenied: The caller may not lift blocks in that scope.
            NotFound: The computer has no block in that scope.
        """
        computer_id = _clean_computer_id(computer_id)
        if key_id is not None and not isinstance(key_id, str):
            raise ValidationError(f"key_id must be a key id or None, not {type(key_id).__name__}")
        now = self.clock.now()
        with self._transaction() as tx:
            if key_id is None:
                record, _ = self._authorize(
                    tx, session, account_id, Permission.MANAGE_LICENSE_KEYS, now
                )
            else:
                record, _, _ = self._authorize_key(
                    tx, session, account_id, key_id, Permission.MANAGE_INSTALLATIONS, now
                )
            blocks = tx.find_computer_blocks(account_id, computer_id)
            if not any(b.key_id == key_id for b in blocks):
                where = "this account" if key_id is None else f"license key {key_id!r}"
                raise NotFound(f"computer {echo(computer_id)} is not blocked in {where}")
            tx.delete_computer_block(account_id, computer_id, key_id)
            self._audit(
                tx,
                now,
                account_id,
                record.user_id,
                AuditAction.COMPUTER_UNBLOCKED,
                computer_id,
                scope=key_id or "account",
            )

    def list_blocked_computers(
        self,
        session: Session | str,
        account_id: str,
        *,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[ComputerBlock]:
        """List an account's computer blocks, by computer.

        Account Administrators see every block; a License Administrator sees the blocks
        that stop activations under their keys (account-wide ones included).

        Raises:
            AccountNotFound: The caller is not a member of *account_id*.
            PermissionDenied: The caller is neither kind of administrator.
        """
        limit = self._check_limit(limit)
        if cursor is not None and not isinstance(cursor, str):
            raise InvalidCursor(f"cursor {echo(cursor)} does not belong to this listing")
        now = self.clock.now()
        with self._transaction() as tx:
            record, membership = self._authorize_any_key(
                tx, session, account_id, now, "listing blocked computers"
            )
            is_admin = _is_admin(record, membership)

            def fetch(after: str | None, n: int) -> Sequence[ComputerBlock]:
                return tx.list_computer_blocks(account_id, after=after, limit=n)

            return _filtered_page(
                fetch,
                lambda b: b.sort_key,
                lambda b: is_admin or b.key_id is None or b.key_id in membership.license_keys,
                cursor,
                limit,
            )

    # == internals ==========================================================================

    def _authorize_key(
        self,
        tx: Transaction,
        session: Session | str,
        account_id: str,
        key_id: str,
        permission: Permission,
        now: dt.datetime,
    ) -> tuple[SessionRecord, Membership, LicenseKey]:
        record, membership = self._authorize(tx, session, account_id, Permission.VIEW_ACCOUNT, now)
        key = self._key_rights(tx, record, membership, account_id, key_id, permission)
        return record, membership, key

    def _key_rights(
        self,
        tx: Transaction,
        record: SessionRecord,
        membership: Membership,
        account_id: str,
        key_id: str,
        permission: Permission,
    ) -> LicenseKey:
        """Return the key after checking that an authorised member may exercise *permission*."""
        key = None if (wanted := _as_id(key_id)) is None else tx.get_license_key(wanted)
        if key is None or key.account_id != account_id:
            raise LicenseKeyNotFound(
                f"no license key {echo(key_id)} in business account {echo(account_id)}"
            )
        roles.authorize_key(
            record.admin_grants, membership, permission, account_id=account_id, key_id=key_id
        )
        return key

    def _deactivate(
        self,
        tx: Transaction,
        key: LicenseKey,
        installation: Installation,
        actor_id: str,
        now: dt.datetime,
    ) -> str:
        """Deactivate *installation*, free its seat, end its computer's claim on its code."""
        key, installation = licensing.deactivate(key, installation, actor_id=actor_id, now=now)
        tx.save_license_key(key)
        tx.save_installation(installation)
        invitation = tx.get_install_invitation(installation.invitation_id)
        if invitation is not None:
            forgotten = licensing.forget_computer(invitation, installation.computer_id)
            if forgotten != invitation:
                tx.save_install_invitation(forgotten)
        return installation.id

    def _authorize_any_key(
        self, tx: Transaction, session: Session | str, account_id: str, now: dt.datetime, what: str
    ) -> tuple[SessionRecord, Membership]:
        """Admit Account Administrators and License Administrators of at least one key."""
        record, membership = self._authorize(tx, session, account_id, Permission.VIEW_ACCOUNT, now)
        if not _is_admin(record, membership) and not membership.license_keys:
            raise PermissionDenied(
                f"{what} in account {account_id!r} needs the Account Administrator role or "
                "License Administrator rights over a key"
            )
        return record, membership

    def _all_license_keys(self, tx: Transaction, account_id: str) -> list[LicenseKey]:
        return _scan_all(lambda after, n: tx.list_license_keys(account_id, after=after, limit=n))

    def _installation(self, tx: Transaction, account_id: str, installation_id: str) -> Installation:
        wanted = _as_id(installation_id)
        installation = None if wanted is None else tx.get_installation(wanted)
        if installation is None or installation.account_id != account_id:
            raise InstallationNotFound(
                f"no installation {echo(installation_id)} in business account {echo(account_id)}"
            )
        return installation

    def _activate_found(
        self,
        tx: Transaction,
        invitation: InstallInvitation,
        *,
        computer_id: str,
        computer_name: str,
        product: str | None,
        installation_id: str,
        token_hash: bytes,
        now: dt.datetime,
    ) -> tuple[LicenseKey, licensing.Activation] | LicenseKitError:
        """Activate *computer_id* with *invitation* in *tx*: the outcome, or the refusal.

        A refusal is returned rather than raised, with its records (the audit event, and
        the code's count when the code is to blame) written in *tx*, which must commit.
        """
        key = tx.get_license_key(invitation.key_id)
        if key is None:  # pragma: no cover - keys are never deleted, only marked removed
            return ActivationCodeNotFound("the license of this code no longer exists")
        existing = tx.find_installation(key.id, computer_id)
        throttle_key = _code_throttle_key(invitation)
        throttle = tx.get_throttle(throttle_key)
        try:
            outcome = licensing.activate(
                key=key,
                invitation=invitation,
                existing=existing,
                blocked=any(
                    b.covers(key.id) for b in tx.find_computer_blocks(key.account_id, computer_id)
                ),
                computer_id=computer_id,
                computer_name=computer_name or (existing.computer_name if existing else ""),
                product=product,
                installation_id=installation_id,
                token_hash=token_hash,
                now=now,
            )
        except ActivationError as e:
            returning = licensing.is_returning(invitation, existing, computer_id)
            return self._refuse_activation(tx, invitation, computer_id, e, returning, now)
        if outcome.seat_taken:
            tx.save_license_key(outcome.key)
        if outcome.invitation != invitation:
            tx.save_install_invitation(outcome.invitation)
        if outcome.is_new:
            tx.add_installation(outcome.installation)
        else:
            tx.save_installation(outcome.installation)
        if throttle is not None and locked_until(throttle, now) is None:
            tx.delete_throttle(throttle_key)  # a success clears the count, not a lock
        self._audit(
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

    def _activation_lookup(self, code: str | None, token: str | None) -> tuple[str, bytes]:
        if (code is None) == (token is None):
            raise ValidationError(
                "give either the activation code or the download token, not both or neither"
            )
        if code is not None:
            return "code", self._keys.lookup_hash("install-code", parse_code(code))
        if not isinstance(token, str):
            raise ActivationCodeNotFound("this download link is not valid")
        return "token", self._keys.lookup_hash("install-token", token.strip())

    @staticmethod
    def _find_install_invitation(
        tx: Transaction, lookup: tuple[str, bytes]
    ) -> InstallInvitation | None:
        kind, digest = lookup
        if kind == "code":
            return tx.find_install_invitation_by_code_hash(digest)
        return tx.find_install_invitation_by_token_hash(digest)

    def _throttled_find(
        self,
        tx: Transaction,
        find: Callable[[], T | None],
        client: str,
        now: dt.datetime,
        secret: ThrottledSecret,
    ) -> tuple[T | None, dt.datetime | None]:
        """Find what an installer presented; count misses per client and overall.

        Returns what was found (or None), and until when an unknown *secret* is refused (or
        None). What was found always passes, lock or not (see
        :func:`~licensekit.throttling.judge_guess`): an office behind one address must not
        lose its valid codes to one member's typos, nor products on one network their
        check-ins to one stale token. Check-ins count apart from activations. A miss is
        counted in *tx*, which must then commit.
        """
        found = find()
        counters = [(overall_key(secret), self.settings.activation_overall_throttle)]
        if client:
            counters.append((client_key(secret, client), self.settings.activation_client_throttle))
        return found, throttle_guess(tx, counters, found=found is not None, now=now)

    def _refuse_activation(
        self,
        tx: Transaction,
        invitation: InstallInvitation,
        computer_id: str,
        refusal: ActivationError,
        returning: bool,
        now: dt.datetime,
    ) -> LicenseKitError:
        """Return the answer to a refused activation, with its records written in *tx*.

        A refusal for the code's own sake (revoked, expired, used up, another product) is
        counted on the code's throttle and put in the audit trail; once the code is locked,
        such a refusal is answered with TooManyAttempts, recording nothing. Full seats, an
        unavailable key, a blocked or already activated computer are not the code's fault,
        nor is anything a computer *returning* to its code meets: these never count and are
        told whatever the lock, so an installer may retry until a seat is freed, one computer
        retrying a shared code never locks it for the others, and a computer is never locked
        out of its own code.
        """
        until = throttle_guess(
            tx,
            [(_code_throttle_key(invitation), self.settings.activation_invitation_throttle)],
            found=returning or isinstance(refusal, _NOT_THE_CODES_FAULT),
            now=now,
        )
        if until is not None:
            return TooManyAttempts("this activation code", until)
        self._audit(
            tx,
            now,
            invitation.account_id,
            "",
            AuditAction.ACTIVATION_REFUSED,
            invitation.id,
            key_id=invitation.key_id,
            email=invitation.email,
            computer_id=computer_id,
            reason=type(refusal).__name__,
        )
        return refusal


def _code_throttle_key(invitation: InstallInvitation) -> str:
    """Return the key counting refusals of *invitation*'s code for the code's own sake."""
    return f"activation:invitation:{invitation.id}"


def _is_admin(record: SessionRecord, membership: Membership) -> bool:
    """True when the session acts as Account Administrator of the membership's account."""
    return roles.effective_role(record.admin_grants, membership) is Role.ACCOUNT_ADMINISTRATOR


def _clean_computer_id(value: object) -> str:
    cleaned = _require_text(value, "computer_id").strip()
    if not cleaned:
        raise ValidationError("computer_id must not be empty")
    if len(cleaned) > _MAX_NAME or not cleaned.isprintable():
        raise ValidationError(f"computer_id must be printable and at most {_MAX_NAME} characters")
    return cleaned
