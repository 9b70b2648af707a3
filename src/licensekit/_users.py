"""The personal-account use cases: registration, log-in, sessions, proof of address, passwords.

Anyone can register any address, so an account starts *unproven* unless the host vouches
for the address. The owner of the address proves it by taking up a link licensekit emailed
there (a join invitation, an email verification, a password reset) or by being vouched for
by the host (:meth:`UsersService.trusted_session`). The first proof ends every session of
the account and discards a password that the prover did not show they know: whoever holds
the emailed token chooses the password, so a squatter's password never survives it.
"""

from __future__ import annotations

import datetime as dt
import secrets

import attrs

from licensekit._account_links import (
    LinkClaims,
    LinkPurpose,
    issue_link_token,
    link_expiry,
    open_link_token,
)
from licensekit._core import (
    _TOKEN_PLACEHOLDER,
    ServiceCore,
    _clean_name,
    _plain_text,
    _require_text,
)
from licensekit._ids import new_id
from licensekit._lockouts import throttle_guess
from licensekit._usecases._v1compat import V1Tx as Transaction
from licensekit.codes import new_token
from licensekit.emails import normalize_email
from licensekit.exceptions import (
    ConflictError,
    DuplicateKey,
    EmailAlreadyRegistered,
    EmailAlreadyVerified,
    InvalidCredentials,
    InvalidToken,
    TooManyAttempts,
    UserNotFound,
    ValidationError,
)
from licensekit.mail import Message, MessageKind
from licensekit.model import Session, SessionMethod, SessionRecord, User, UserView
from licensekit.throttling import (
    EmailRequest,
    ThrottledSecret,
    ThrottlePolicy,
    client_key,
    locked_until,
    password_key,
    record_failure,
    request_keys,
)

__all__ = ["UsersService"]


class UsersService(ServiceCore):
    """Users, sessions, proof of address and passwords (see :class:`licensekit.LicenseKit`)."""

    # == registration and sessions ==========================================================

    def register_user(
        self, email: str, password: str, *, name: str = "", email_verified: bool = False
    ) -> UserView:
        """Create a personal account.

        The account is unproven unless *email_verified* says the host has verified the
        address itself: anyone can type any address here. An unproven account can log in,
        but its address, and so its password, is not trusted until proven (see
        :meth:`send_email_verification`); proving it discards a password set by someone else.

        Args:
            email: The address; it becomes the account's identity.
            password: The chosen password (see :class:`~licensekit.PasswordPolicy`).
            name: Optional display name.
            email_verified: True when the host has proven the address already (it sent its
                own confirmation email, say). Never pass True for an address a visitor
                merely typed.

        Raises:
            InvalidEmail: *email* is not a valid address.
            InvalidPassword: *password* breaks the password policy.
            EmailAlreadyRegistered: A user with that email exists.
        """
        email = normalize_email(email)
        name = _clean_name(name, "name", required=False)
        if not isinstance(email_verified, bool):
            raise ValidationError("email_verified must be True or False")
        password_hash = self.passwords.hash(password)
        now = self.clock.now()
        user = User(
            id=new_id("usr", now),
            email=email,
            created_at=now,
            password_hash=password_hash,
            name=name,
            email_verified_at=now if email_verified else None,
        )
        with self._transaction() as tx:
            self._add_user(tx, user, hint="sign in, or ask for a new password")
        return UserView.of(user)

    def log_in(self, email: str, password: str) -> Session:
        """Check an email and password and return a new session.

        The session carries the user's current roles; see :mod:`licensekit.roles` for why a
        promotion needs a new log-in. After too many wrong passwords for one email, log-ins
        for it are refused for a while, even with the right password (a password reset
        lifts the lock). When the password hashing parameters have changed since the user's
        hash was made, the hash is renewed. A password replaced while it was being checked
        (by a reset, or by the owner proving the address) opens no session.

        Raises:
            InvalidEmail: *email* is not a valid address.
            InvalidCredentials: No such user, or the password is wrong (or was replaced
                meanwhile).
            TooManyAttempts: The email is locked out after repeated failures.
        """
        email = normalize_email(email)
        password = _require_text(password, "password")
        now = self.clock.now()
        user = self._verify_password(email, password, now)
        if user is None:
            raise InvalidCredentials("wrong email or password")
        renewed = None
        if user.password_hash is not None and self.passwords.needs_rehash(user.password_hash):
            renewed = self.passwords.hash(password)
        with self._transaction() as tx:
            current = self._user(tx, user.id)
            if current.password_hash != user.password_hash:
                # Replaced while it was being checked (a proof of the address, a reset): the
                # password given is no longer the account's, and must not open a session.
                raise InvalidCredentials("wrong email or password")
            if renewed is not None:
                current = attrs.evolve(current, password_hash=renewed)
                tx.save_user(current)
            return self._issue_session(tx, current, SessionMethod.PASSWORD, now)

    def trusted_session(
        self, email: str, *, create: bool = False, name: str = "", proves_address: bool = True
    ) -> Session:
        """Return a session for a user the host has authenticated itself (single sign-on).

        No password is checked: call this only after your own authentication (an OpenID
        Connect or SAML log-in, say) has proved who the person is. Rights follow the same
        rules as a password session.

        The host vouches for the address, so this proves it: for an unproven account, every
        other session ends and its password, which anyone may have set, is discarded (the
        owner chooses a new one through :meth:`request_password_reset`).

        Args:
            email: The authenticated email address.
            create: Create a personal account without a password when none exists.
            name: Display name for a user created here.
            proves_address: False when the host acts for the user without having checked
                the address (an operator's tool acting on their behalf): the account is
                left as it is, proven or not, and a user created here is unproven.

        Raises:
            InvalidEmail: *email* is not a valid address.
            UserNotFound: No user has that email and *create* is false.
        """
        email = normalize_email(email)
        name = _clean_name(name, "name", required=False)
        if not isinstance(proves_address, bool):
            raise ValidationError("proves_address must be True or False")
        now = self.clock.now()
        with self._transaction() as tx:
            user = tx.find_user_by_email(email)
            if user is None:
                if not create:
                    raise UserNotFound(f"no user with email {email!r}")
                user = User(
                    id=new_id("usr", now),
                    email=email,
                    created_at=now,
                    name=name,
                    email_verified_at=now if proves_address else None,
                )
                self._add_user(tx, user)
            elif proves_address and not user.email_verified:
                user = self._prove(tx, user, now, keep_password=False)
            return self._issue_session(tx, user, SessionMethod.TRUSTED, now)

    def log_out(self, session: Session | str) -> None:
        """End a session; its token stops working at once. Unknown tokens are ignored."""
        with self._transaction() as tx:
            record = tx.find_session_by_token_hash(self._session_hash(session))
            if record is not None:
                tx.delete_session(record.id)

    def current_user(self, session: Session | str) -> UserView:
        """Return the caller's personal account as it stands now (proven or not, say).

        Raises:
            InvalidSession: The session is unknown or expired.
        """
        now = self.clock.now()
        with self._transaction() as tx:
            record = self._resolve_session(tx, session, now)
            return UserView.of(self._user(tx, record.user_id))

    # == passwords ==========================================================================

    def change_password(
        self,
        session: Session | str,
        current_password: str,
        new_password: str,
        *,
        notify: bool = True,
        language: str = "en",
    ) -> None:
        """Change the caller's password, given the current one; every other session ends.

        The calling session stays logged in. With *notify*, the user is told by email in
        *language* (a failed email does not undo the change and is not raised), once their
        address is proven: until then it may be someone else's, who would be mailed at every
        change without limit. An account without a password gets one through
        :meth:`request_password_reset` instead.

        Raises:
            InvalidSession: The session is unknown or expired.
            InvalidCredentials: *current_password* is wrong (or the account has none).
            InvalidPassword: *new_password* breaks the password policy.
            TooManyAttempts: Too many wrong passwords for this account.
            ConflictError: The password was changed by another call meanwhile.
        """
        current_password = _require_text(current_password, "current_password")
        language = self.templates.resolve(language)
        now = self.clock.now()
        with self._transaction() as tx:
            record = self._resolve_session(tx, session, now)
            email = self._user(tx, record.user_id).email
        checked = self._verify_password(email, current_password, now)
        if checked is None:
            raise InvalidCredentials("the current password is wrong")
        new_hash = self.passwords.hash(new_password)
        with self._transaction() as tx:
            record = self._resolve_session(tx, session, now)  # not logged out meanwhile
            user = self._user(tx, record.user_id)
            if user.password_hash != checked.password_hash:
                raise ConflictError("the password was changed meanwhile; sign in again")
            tx.save_user(attrs.evolve(user, password_hash=new_hash))
            tx.delete_user_sessions(user.id, keep=record.id)
        if notify and user.email_verified:
            self._try_send(
                self.templates.render(
                    MessageKind.PASSWORD_CHANGED,
                    to=user.email,
                    language=language,
                    values={"service_name": self.settings.service_name},
                )
            )

    def request_password_reset(self, email: str, *, language: str = "en", client: str = "") -> None:
        """Email a link to choose a new password, if *email* has an account.

        The answer is the same whether or not the address has an account: nothing is
        returned, and the same work is done (one email either way, see
        :attr:`Settings.reset_notice_for_unknown_addresses`), so neither the answer nor its
        cost tells who has an account. The link works once, for
        :attr:`Settings.password_reset_lifetime`, and (once the address is proven) dies when
        the password changes; before, the password is whoever registered the address, whose
        change must not kill the owner's link.

        Args:
            email: The address the person typed.
            language: BCP 47 tag of the email's language.
            client: An identifier of the requesting client (an IP address, say); requests
                are then limited per client as well as per address (see
                :attr:`Settings.password_reset_throttle`).

        Raises:
            ValidationError: This LicenseKit has no *reset_url*.
            InvalidEmail: *email* is not a valid address.
            TooManyAttempts: Too many requests for this address or from this client.
            DeliveryError: The email could not be handed over.
        """
        reset_url = self._link_template(self._reset_url, "reset_url", "password reset")
        email = normalize_email(email)
        client = _plain_text(client, "client").strip()
        language = self.templates.resolve(language)
        now = self.clock.now()
        policy = self.settings.password_reset_throttle
        keys = request_keys(EmailRequest.PASSWORD_RESET, email=email, client=client)
        with self._transaction() as tx:
            self._count_request(tx, keys, policy, now, "password reset requests")
            user = tx.find_user_by_email(email)
        expires_at = link_expiry(now, self.settings.password_reset_lifetime)
        # A token is made either way, so that both answers cost the same.
        subject = user if user is not None else _nobody(email, now)
        token = issue_link_token(self._keys, LinkPurpose.RESET_PASSWORD, subject, expires_at)
        if user is None:
            if self.settings.reset_notice_for_unknown_addresses:
                self._send(
                    self.templates.render(
                        MessageKind.PASSWORD_RESET_UNKNOWN,
                        to=email,
                        language=language,
                        values={"service_name": self.settings.service_name},
                    )
                )
            return
        self._send(
            self._link_message(
                MessageKind.PASSWORD_RESET, email, reset_url, token, expires_at, language
            )
        )

    def reset_password(self, token: str, new_password: str, *, client: str = "") -> None:
        """Set a new password from a reset link; every session of the account ends.

        The link proves the address, so an unproven account becomes proven. The log-in lock
        of the address, if any, is lifted: the owner is back in. The person then logs in with
        the new password (no session is returned, as OWASP advises).

        Args:
            token: The token from the link.
            new_password: The password chosen.
            client: An identifier of the requesting client; unknown tokens are then throttled
                per client (see :attr:`Settings.token_throttle`).

        Raises:
            InvalidToken: The link is unknown, expired, used, or replaced by a later change.
            InvalidPassword: *new_password* breaks the password policy.
            TooManyAttempts: Too many unknown tokens from this client.
        """
        now = self.clock.now()
        claims = self._open_link(LinkPurpose.RESET_PASSWORD, token, client, now)
        new_hash = self.passwords.hash(new_password)
        with self._transaction() as tx:
            user = self._linked_user(tx, LinkPurpose.RESET_PASSWORD, claims, now)
            tx.save_user(
                attrs.evolve(
                    user,
                    password_hash=new_hash,
                    email_verified_at=user.email_verified_at or now,
                )
            )
            tx.delete_user_sessions(user.id)
            tx.delete_throttle(password_key(user.email))

    # == proof of address ===================================================================

    def send_email_verification(self, session: Session | str, *, language: str = "en") -> None:
        """Email the caller a link that proves their address (see :meth:`verify_email`).

        The link works once, for :attr:`Settings.email_verification_lifetime`. Requests per
        address are limited as password resets are.

        Raises:
            ValidationError: This LicenseKit has no *verify_url*.
            InvalidSession: The session is unknown or expired.
            EmailAlreadyVerified: The address is proven already.
            TooManyAttempts: Too many verification emails for this address lately.
            DeliveryError: The email could not be handed over.
        """
        verify_url = self._link_template(self._verify_url, "verify_url", "email verification")
        language = self.templates.resolve(language)
        now = self.clock.now()
        with self._transaction() as tx:
            record = self._resolve_session(tx, session, now)
            user = self._user(tx, record.user_id)
            if user.email_verified:
                raise EmailAlreadyVerified(f"{user.email} is verified already")
            self._count_request(
                tx,
                request_keys(EmailRequest.EMAIL_VERIFICATION, email=user.email),
                self.settings.password_reset_throttle,
                now,
                "verification emails",
            )
        expires_at = link_expiry(now, self.settings.email_verification_lifetime)
        token = issue_link_token(self._keys, LinkPurpose.VERIFY_EMAIL, user, expires_at)
        self._send(
            self._link_message(
                MessageKind.EMAIL_VERIFICATION, user.email, verify_url, token, expires_at, language
            )
        )

    def verify_email(
        self,
        token: str,
        *,
        password: str | None = None,
        session: Session | str | None = None,
        client: str = "",
    ) -> Session:
        """Prove an address with the token of a verification link; return a new session.

        This is the account's first proof, so every session of it ends and the password
        stays only if the person opening the link shows they know it. Otherwise whoever set
        it may not be the owner of the address, and it is replaced or discarded:

        * with *password*, that becomes the account's password (a person who signed up
          themselves types the one they chose, and nothing changes for them);
        * with *session*, a still valid session of the same account opened with its
          password, the password is kept;
        * with neither, the password is discarded; the owner sets one through
          :meth:`request_password_reset`.

        Args:
            token: The token from the link.
            password: The password the account is to have.
            session: The caller's current session, when they are logged in.
            client: An identifier of the requesting client; unknown tokens are then throttled
                per client (see :attr:`Settings.token_throttle`).

        Raises:
            InvalidToken: The link is unknown, expired, used, or replaced by a later change.
            InvalidPassword: *password* breaks the password policy.
            InvalidSession: *session* is unknown or expired.
            ValidationError: *session* belongs to another account.
            TooManyAttempts: Too many unknown tokens from this client.
        """
        now = self.clock.now()
        claims = self._open_link(LinkPurpose.VERIFY_EMAIL, token, client, now)
        new_hash = self.passwords.hash(password) if password is not None else None
        with self._transaction() as tx:
            user = self._linked_user(tx, LinkPurpose.VERIFY_EMAIL, claims, now)
            keep = False
            if session is not None:
                record = self._resolve_session(tx, session, now)
                if record.user_id != user.id:
                    raise ValidationError("the session given is another account's")
                keep = record.method is SessionMethod.PASSWORD
            if new_hash is not None:
                user = attrs.evolve(user, password_hash=new_hash)
                keep = True
            proven = self._prove(tx, user, now, keep_password=keep)
            return self._issue_session(tx, proven, SessionMethod.EMAIL_LINK, now)

    # == shared steps ===========================================================================

    def _prove(self, tx: Transaction, user: User, now: dt.datetime, *, keep_password: bool) -> User:
        """Record the first proof of *user*'s address: sessions end, and maybe the password."""
        proven = attrs.evolve(
            user,
            email_verified_at=now,
            password_hash=user.password_hash if keep_password else None,
        )
        tx.save_user(proven)
        tx.delete_user_sessions(user.id)
        return proven

    def _add_user(self, tx: Transaction, user: User, hint: str = "") -> None:
        if tx.find_user_by_email(user.email) is not None:
            raise EmailAlreadyRegistered(
                f"a user with email {user.email!r} already exists" + (f"; {hint}" if hint else "")
            )
        try:
            tx.add_user(user)
        except DuplicateKey as e:  # pragma: no cover - a race the check above narrows
            raise EmailAlreadyRegistered(f"a user with email {user.email!r} already exists") from e

    def _issue_session(
        self, tx: Transaction, user: User, method: SessionMethod, now: dt.datetime
    ) -> Session:
        token = new_token()
        active = [m for m in tx.list_user_memberships(user.id) if m.is_active]
        record = SessionRecord(
            id=new_id("ses", now),
            token_hash=self._keys.lookup_hash("session", token),
            user_id=user.id,
            method=method,
            issued_at=now,
            expires_at=now + self.settings.session_lifetime,
            admin_grants={m.account_id: m.admin_grant for m in active if m.is_active_administrator},
        )
        tx.add_session(record)
        return Session(
            token=token,
            id=record.id,
            user_id=user.id,
            email=user.email,
            method=method,
            issued_at=now,
            expires_at=record.expires_at,
            roles={m.account_id: m.role for m in active},
            email_verified=user.email_verified,
        )

    def _verify_password(self, email: str, password: str, now: dt.datetime) -> User | None:
        """Return the user if *password* is theirs, else None; throttled per email.

        The attempt is counted as a failure *before* the (slow) verification, in the same
        transaction that checks the lock, so parallel guesses cannot slip past the limit;
        a success then clears the count. Unknown emails cost the same hashing time.
        """
        key = password_key(email)
        with self._transaction() as tx:
            throttle = tx.get_throttle(key)
            until = locked_until(throttle, now)
            if until is not None:
                raise TooManyAttempts(f"log-ins as {email}", until)
            policy = self.settings.password_throttle
            tx.save_throttle(record_failure(throttle, key=key, now=now, policy=policy))
            user = tx.find_user_by_email(email)
        if user is None or user.password_hash is None:
            self.passwords.burn()
            return None
        if not self.passwords.verify(password, user.password_hash):
            return None
        with self._transaction() as tx:
            tx.delete_throttle(key)
        return user

    def _count_request(
        self,
        tx: Transaction,
        keys: list[str],
        policy: ThrottlePolicy,
        now: dt.datetime,
        what: str,
    ) -> None:
        """Count one request against each of *keys*; refuse it while any of them is locked.

        A limit on requests, not on guesses (see :func:`licensekit._lockouts.throttle_guess`):
        every request counts, and a refused one counts nowhere, so a locked client cannot keep
        an address's limit spent.
        """
        throttles = [(key, tx.get_throttle(key)) for key in keys]
        for _, throttle in throttles:
            until = locked_until(throttle, now)
            if until is not None:
                raise TooManyAttempts(what, until)
        for key, throttle in throttles:
            tx.save_throttle(record_failure(throttle, key=key, now=now, policy=policy))

    def _open_link(
        self, purpose: LinkPurpose, token: object, client: object, now: dt.datetime
    ) -> LinkClaims:
        """Return what an account link's *token* says, if the link can still be used.

        A token we did not make counts against the *client* (when one is named), and only
        such tokens are refused while it is locked: a real link always works. A link that
        expired or was used is refused too, before the caller hashes a new password for it.
        """
        client = _plain_text(client, "client").strip()
        claims = open_link_token(self._keys, purpose, token)
        if claims is None and client:
            counter = client_key(ThrottledSecret.ACCOUNT_LINK, client)
            with self._transaction() as tx:
                until = throttle_guess(
                    tx, [(counter, self.settings.token_throttle)], found=False, now=now
                )
            if until is not None:
                raise TooManyAttempts("links from this client", until)
        if claims is None:
            raise InvalidToken("this link is not valid")
        with self._transaction() as tx:
            self._linked_user(tx, purpose, claims, now)
        return claims

    def _linked_user(
        self, tx: Transaction, purpose: LinkPurpose, claims: LinkClaims, now: dt.datetime
    ) -> User:
        """Return the user an opened link is for, if it still fits their account."""
        user = tx.get_user(claims.user_id)
        if user is None:
            raise InvalidToken("this link's account no longer exists")
        claims.check(self._keys, purpose, user, now)
        return user

    def _link_template(self, template: str | None, name: str, what: str) -> str:
        if template is None:
            raise ValidationError(
                f"{what} links need a {name} template; pass {name}= (with {_TOKEN_PLACEHOLDER}) "
                "to LicenseKit"
            )
        return template

    def _link_message(
        self,
        kind: MessageKind,
        to: str,
        template: str,
        token: str,
        expires_at: dt.datetime,
        language: str,
    ) -> Message:
        return self.templates.render(
            kind,
            to=to,
            language=language,
            values={
                "service_name": self.settings.service_name,
                "link": template.replace(_TOKEN_PLACEHOLDER, token),
            },
            expires_at=expires_at,
            data={"token": token},
        )


def _nobody(email: str, now: dt.datetime) -> User:
    """A user that does not exist, to make a token nobody can use at the same cost.

    Its id is not drawn from the process's id factory, whose counter shows in the next id
    anyone is handed: that would tell that the address has no account.
    """
    return User(id=f"usr_nobody_{secrets.token_hex(8)}", email=email, created_at=now)
