"""Users and sessions: registration, log-in, proof of address, passwords.

:class:`Users` registers people, opens and ends their sessions and proves their addresses;
:class:`Passwords` changes and resets passwords.

Anyone can register any address, so an account starts *unproven* unless the host vouches
for the address. The owner of the address proves it by taking up a link licensekit emailed
there (a join invitation, an email verification, a password reset) or by being vouched for
by the host (:meth:`Users.trusted_session`). The first proof ends every session of the
account and discards a password that the prover did not show they know: whoever holds the
emailed token chooses the password, so a squatter's password never survives it.

Scopes: ``"email:<email>"`` to register an address (:meth:`Users.register_user`, a user
created by :meth:`Users.trusted_session`); ``"user:<id>"`` to change a user's record or
sessions (log-in, log-out, password change and reset, proof of address), taken before the
user is read again to decide; ``"throttle:<key>"`` for every throttle counted or cleared
(the log-in count of an address, the email requests of an address and a client, a client's
unknown link tokens). Reads alone (:meth:`Users.current_user`) lock nothing.
"""

from __future__ import annotations

import datetime as dt
import secrets
from functools import partial

import attrs

from licensekit._account_links import LinkPurpose, issue_link_token, link_expiry
from licensekit._ids import new_id
from licensekit._usecases._checks import (
    check_flag,
    clean_client,
    clean_name,
    require_text,
)
from licensekit._usecases._scopes import email_scope, user_scope
from licensekit.aio._usecases._access import Access, user
from licensekit.aio._usecases._context import Context
from licensekit.aio._usecases._delivery import Delivery
from licensekit.aio._usecases._links import AccountLinks
from licensekit.aio._usecases._offload import offload
from licensekit.aio._usecases._sessions import Sessions
from licensekit.aio._usecases._throttle import count_request, scopes
from licensekit.aio._usecases._tx import Tx
from licensekit.domain.model import Session, SessionMethod, User, UserView
from licensekit.domain.throttling import EmailRequest, password_key, request_keys
from licensekit.emails import normalize_email
from licensekit.exceptions import (
    ConflictError,
    EmailAlreadyVerified,
    InvalidCredentials,
    UserNotFound,
    ValidationError,
)
from licensekit.mail import MessageKind
from licensekit.storage import SESSIONS, THROTTLES, USERS

__all__ = ["Passwords", "PersonalAccounts", "Users"]


class PersonalAccounts:
    """What the groups of personal-account use cases work with.

    Args:
        ctx: The shared context.
        access: Resolves sessions.
        delivery: Sends the emails.
        sessions: Opens sessions, checks passwords and proves addresses.
        links: Writes and opens verification and reset links.
    """

    def __init__(
        self,
        ctx: Context,
        access: Access,
        delivery: Delivery,
        sessions: Sessions,
        links: AccountLinks,
    ) -> None:
        self._ctx = ctx
        self._access = access
        self._delivery = delivery
        self._sessions = sessions
        self._links = links


class Users(PersonalAccounts):
    """Registration, sessions and proof of address (see :class:`licensekit.LicenseKit`)."""

    # == registration and sessions ==========================================================

    async def register_user(
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
        name = clean_name(name, "name", required=False)
        check_flag(email_verified, "email_verified")
        password_hash = await offload(self._ctx.passwords.hash, password)
        now = self._ctx.clock.now()
        created = User(
            id=new_id("usr", now),
            email=email,
            created_at=now,
            password_hash=password_hash,
            name=name,
            email_verified_at=now if email_verified else None,
        )
        await self._ctx.runner.run(
            lambda tx: self._sessions.add_user(tx, created, "sign in, or ask for a new password"),
            email_scope(email),
        )
        return UserView.of(created)

    async def log_in(self, email: str, password: str) -> Session:
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
        password = require_text(password, "password")
        now = self._ctx.clock.now()
        checked = await self._sessions.verify_password(email, password, now)
        if checked is None:
            raise InvalidCredentials("wrong email or password")
        renewed = None
        hashes = self._ctx.passwords
        if checked.password_hash is not None and hashes.needs_rehash(checked.password_hash):
            renewed = await offload(hashes.hash, password)

        async def open_session(tx: Tx) -> Session:
            current = await user(tx, checked.id)
            if current.password_hash != checked.password_hash:
                # Replaced while it was being checked (a proof of the address, a reset): the
                # password given is no longer the account's, and must not open a session.
                raise InvalidCredentials("wrong email or password")
            if renewed is not None:
                current = attrs.evolve(current, password_hash=renewed)
                await tx.save(USERS, current)
            return await self._sessions.issue(tx, current, SessionMethod.PASSWORD, now)

        return await self._ctx.runner.run(open_session, user_scope(checked.id))

    async def trusted_session(
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
        name = clean_name(name, "name", required=False)
        check_flag(proves_address, "proves_address")
        now = self._ctx.clock.now()

        async def vouch(tx: Tx) -> Session:
            found = await tx.find(USERS, email=email)
            if found is None:
                if not create:
                    raise UserNotFound(f"no user with email {email!r}")
                found = User(
                    id=new_id("usr", now),
                    email=email,
                    created_at=now,
                    name=name,
                    email_verified_at=now if proves_address else None,
                )
                await self._sessions.add_user(tx, found)
            else:
                if await tx.lock(user_scope(found.id)):
                    found = await user(tx, found.id)  # as it stands under the lock
                if proves_address and not found.email_verified:
                    found = await self._sessions.prove(tx, found, now, keep_password=False)
            return await self._sessions.issue(tx, found, SessionMethod.TRUSTED, now)

        return await self._ctx.runner.run(vouch, email_scope(email))

    async def log_out(self, session: Session | str) -> None:
        """End a session; its token stops working at once. Unknown tokens are ignored."""
        token_hash = self._access.session_hash(session)

        async def end(tx: Tx) -> None:
            record = await tx.find(SESSIONS, token_hash=token_hash)
            if record is not None:
                await tx.lock(user_scope(record.user_id))
                await tx.delete(SESSIONS, record.id)

        await self._ctx.runner.run(end)

    async def current_user(self, session: Session | str) -> UserView:
        """Return the caller's personal account as it stands now (proven or not, say).

        Raises:
            InvalidSession: The session is unknown or expired.
        """
        now = self._ctx.clock.now()

        async def read(tx: Tx) -> UserView:
            record = await self._access.resolve(tx, session, now)
            return UserView.of(await user(tx, record.user_id))

        return await self._ctx.runner.run(read)

    # == proof of address ===================================================================

    async def send_email_verification(
        self, session: Session | str, *, language: str = "en"
    ) -> None:
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
        links, settings = self._links, self._ctx.settings
        verify_url = links.template(self._ctx.links.verify, "verify_url", "email verification")
        language = self._ctx.templates.resolve(language)
        now = self._ctx.clock.now()

        async def count(tx: Tx) -> User:
            caller = await user(tx, (await self._access.resolve(tx, session, now)).user_id)
            if caller.email_verified:
                raise EmailAlreadyVerified(f"{caller.email} is verified already")
            keys = request_keys(EmailRequest.EMAIL_VERIFICATION, email=caller.email)
            await tx.lock(*scopes(keys))
            policy = settings.password_reset_throttle
            await count_request(tx, keys, policy, now, "verification emails")
            return caller

        caller = await self._ctx.runner.run(count)
        expires_at = link_expiry(now, settings.email_verification_lifetime)
        token = issue_link_token(self._ctx.keys, LinkPurpose.VERIFY_EMAIL, caller, expires_at)
        await self._delivery.send(
            links.message(
                MessageKind.EMAIL_VERIFICATION,
                caller.email,
                verify_url,
                token,
                expires_at,
                language,
            )
        )

    async def verify_email(
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
            ValidationError: *session* belongs to another account; or *client* is not text,
                holds a NUL or a lone surrogate, or is longer than 200 characters.
            TooManyAttempts: Too many unknown tokens from this client.
        """
        now = self._ctx.clock.now()
        claims = await self._links.open(LinkPurpose.VERIFY_EMAIL, token, client, now)
        new_hash = (
            await offload(self._ctx.passwords.hash, password) if password is not None else None
        )

        async def prove(tx: Tx) -> Session:
            linked = await self._links.linked_user(tx, LinkPurpose.VERIFY_EMAIL, claims, now)
            keep = False
            if session is not None:
                record = await self._access.resolve(tx, session, now)
                if record.user_id != linked.id:
                    raise ValidationError("the session given is another account's")
                keep = record.method is SessionMethod.PASSWORD
            if new_hash is not None:
                linked = attrs.evolve(linked, password_hash=new_hash)
                keep = True
            proven = await self._sessions.prove(tx, linked, now, keep_password=keep)
            return await self._sessions.issue(tx, proven, SessionMethod.EMAIL_LINK, now)

        return await self._ctx.runner.run(prove, user_scope(claims.user_id))


class Passwords(PersonalAccounts):
    """Changing and resetting passwords (see :class:`licensekit.LicenseKit` for each one)."""

    async def change_password(
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
        current_password = require_text(current_password, "current_password")
        language = self._ctx.templates.resolve(language)
        now = self._ctx.clock.now()
        run = self._ctx.runner.run
        email = (await run(partial(self._access.session_user, session=session, now=now))).email
        checked = await self._sessions.verify_password(email, current_password, now)
        if checked is None:
            raise InvalidCredentials("the current password is wrong")
        new_hash = await offload(self._ctx.passwords.hash, new_password)

        async def change(tx: Tx) -> User:
            record = await self._access.resolve(tx, session, now)  # not logged out meanwhile
            await tx.lock(user_scope(record.user_id))
            current = await user(tx, record.user_id)
            if current.password_hash != checked.password_hash:
                raise ConflictError("the password was changed meanwhile; sign in again")
            await tx.save(USERS, attrs.evolve(current, password_hash=new_hash))
            await self._sessions.end_all(tx, current.id, keep=record.id)
            return current

        changed = await run(change)
        if notify and changed.email_verified:
            await self._delivery.try_send(
                self._ctx.templates.render(
                    MessageKind.PASSWORD_CHANGED,
                    to=changed.email,
                    language=language,
                    values={"service_name": self._ctx.settings.service_name},
                )
            )

    async def request_password_reset(
        self, email: str, *, language: str = "en", client: str = ""
    ) -> None:
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
            ValidationError: This LicenseKit has no *reset_url*, or *client* is longer than
                200 characters.
            InvalidEmail: *email* is not a valid address.
            TooManyAttempts: Too many requests for this address or from this client.
            DeliveryError: The email could not be handed over.
        """
        links, settings = self._links, self._ctx.settings
        reset_url = links.template(self._ctx.links.reset, "reset_url", "password reset")
        email = normalize_email(email)
        client = clean_client(client)
        language = self._ctx.templates.resolve(language)
        now = self._ctx.clock.now()
        keys = request_keys(EmailRequest.PASSWORD_RESET, email=email, client=client)

        async def count(tx: Tx) -> User | None:
            await count_request(
                tx, keys, settings.password_reset_throttle, now, "password reset requests"
            )
            return await tx.find(USERS, email=email)

        found = await self._ctx.runner.run(count, *scopes(keys))
        expires_at = link_expiry(now, settings.password_reset_lifetime)
        # A token is made either way, so that both answers cost the same.
        subject = found if found is not None else nobody(email, now)
        token = issue_link_token(self._ctx.keys, LinkPurpose.RESET_PASSWORD, subject, expires_at)
        if found is None:
            if settings.reset_notice_for_unknown_addresses:
                await self._delivery.send(
                    self._ctx.templates.render(
                        MessageKind.PASSWORD_RESET_UNKNOWN,
                        to=email,
                        language=language,
                        values={"service_name": settings.service_name},
                    )
                )
            return
        await self._delivery.send(
            links.message(MessageKind.PASSWORD_RESET, email, reset_url, token, expires_at, language)
        )

    async def reset_password(self, token: str, new_password: str, *, client: str = "") -> None:
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
            ValidationError: *client* is not text, holds a NUL or a lone surrogate, or is
                longer than 200 characters.
        """
        now = self._ctx.clock.now()
        claims = await self._links.open(LinkPurpose.RESET_PASSWORD, token, client, now)
        new_hash = await offload(self._ctx.passwords.hash, new_password)

        async def reset(tx: Tx) -> None:
            linked = await self._links.linked_user(tx, LinkPurpose.RESET_PASSWORD, claims, now)
            key = password_key(linked.email)
            await tx.lock(*scopes([key]))
            await tx.save(
                USERS,
                attrs.evolve(
                    linked,
                    password_hash=new_hash,
                    email_verified_at=linked.email_verified_at or now,
                ),
            )
            await self._sessions.end_all(tx, linked.id)
            await tx.delete(THROTTLES, key)

        await self._ctx.runner.run(reset, user_scope(claims.user_id))


def nobody(email: str, now: dt.datetime) -> User:
    """A user that does not exist, to make a token nobody can use at the same cost.

    Its id is not drawn from the process's id factory, whose counter shows in the next id
    anyone is handed: that would tell that the address has no account.
    """
    return User(id=f"usr_nobody_{secrets.token_hex(8)}", email=email, created_at=now)
