"""Password hashing with Argon2id (from ``cryptography``) and the password length policy.

Hashes are PHC strings (``$argon2id$v=19$m=19456,t=2,p=1$salt$hash``), so the parameters
travel with each hash: when the configured parameters change, :meth:`PasswordHasher.needs_rehash`
says so and the service stores a fresh hash at the user's next successful log-in.
"""

from __future__ import annotations

import os
import re

import attrs
from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from licensekit._text import encodable
from licensekit.domain._validators import positive
from licensekit.exceptions import InvalidPassword, ValidationError

__all__ = ["Argon2Parameters", "PasswordHasher", "PasswordPolicy"]

# A pattern, compiled (and kept in re's cache) by the first check of a hash, not by the import
# that making a kit does.
_PHC = r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$"
_SALT_BYTES = 16
_HASH_BYTES = 32


@attrs.frozen
class Argon2Parameters:
    """Argon2id cost parameters.

    The defaults are OWASP's first recommendation: 19 MiB of memory, 2 iterations, 1 lane.

    Attributes:
        memory_cost_kib: Memory in KiB (at least 8 per lane).
        iterations: Passes over the memory.
        lanes: Degree of parallelism.
    """

    memory_cost_kib: int = attrs.field(default=19 * 1024, validator=positive)
    iterations: int = attrs.field(default=2, validator=positive)
    lanes: int = attrs.field(default=1, validator=positive)

    def __attrs_post_init__(self) -> None:
        if self.memory_cost_kib < 8 * self.lanes:
            raise ValidationError("memory_cost_kib must be at least 8 KiB per lane")

    @classmethod
    def insecure_fast(cls) -> Argon2Parameters:
        """Return the cheapest parameters Argon2 allows. For tests only, never production."""
        return cls(memory_cost_kib=8, iterations=1, lanes=1)


@attrs.frozen
class PasswordPolicy:
    """Which passwords a user may choose.

    Any Unicode text between the two lengths, except whitespace alone, lone surrogates and
    NUL characters. Passwords chosen before a rule was added still verify.

    Attributes:
        min_length: Fewest characters accepted (NIST SP 800-63B asks for at least 8).
        max_length: Most characters accepted, bounding the work an attacker can cause.
    """

    min_length: int = attrs.field(default=10, validator=positive)
    max_length: int = attrs.field(default=256, validator=positive)

    def __attrs_post_init__(self) -> None:
        if self.min_length > self.max_length:
            raise ValidationError(
                f"min_length ({self.min_length}) must not exceed max_length ({self.max_length})",
                field="min_length",
            )

    def check(self, password: str) -> None:
        """Raise :class:`InvalidPassword` unless *password* may be chosen."""
        if not isinstance(password, str):
            raise InvalidPassword(f"password must be text, got {type(password).__name__}")
        if len(password) < self.min_length:
            raise InvalidPassword(f"password must be at least {self.min_length} characters long")
        if len(password) > self.max_length:
            raise InvalidPassword(f"password must be at most {self.max_length} characters long")
        if not password.strip():
            raise InvalidPassword("password must not be only whitespace")
        if not encodable(password):
            raise InvalidPassword("password contains characters that are not valid Unicode")
        if "\x00" in password:
            raise InvalidPassword("password must not contain a NUL character")


@attrs.frozen
class PasswordHasher:
    """Hashes and verifies passwords with Argon2id.

    Args:
        parameters: The cost for new hashes. Existing hashes verify with whatever parameters
            they were made with.
        policy: The length rules applied to new passwords, and the bound on what is hashed.
    """

    parameters: Argon2Parameters = attrs.field(factory=Argon2Parameters)
    policy: PasswordPolicy = attrs.field(factory=PasswordPolicy)

    @classmethod
    def insecure_fast(cls) -> PasswordHasher:
        """Return a hasher with :meth:`Argon2Parameters.insecure_fast`. For tests only."""
        return cls(parameters=Argon2Parameters.insecure_fast())

    def hash(self, password: str) -> str:
        """Return the PHC string of *password* under a fresh random salt.

        Raises:
            InvalidPassword: *password* breaks the policy.
        """
        self.policy.check(password)
        # os.urandom is what secrets.token_bytes returns, without loading secrets (and random)
        salt = os.urandom(_SALT_BYTES)
        return self._kdf(salt).derive_phc_encoded(password.encode())

    def verify(self, password: str, phc: str) -> bool:
        """Return whether *password* matches the PHC string *phc*, in constant time.

        Passwords longer than the policy's maximum never match and are not hashed.
        """
        if (
            len(password) > self.policy.max_length
            or not encodable(password)
            or not re.match(_PHC, phc)
        ):
            self.burn()  # the same time as a real check: timing must not tell these cases apart
            return False
        try:
            Argon2id.verify_phc_encoded(password.encode(), phc)
        except (InvalidKey, ValueError):  # ValueError: parameters or lengths cryptography refuses
            return False
        return True

    def needs_rehash(self, phc: str) -> bool:
        """Return whether *phc* was made with parameters other than the configured ones."""
        match = re.match(_PHC, phc)
        if match is None:
            return True
        memory, iterations, lanes = (int(g) for g in match.groups())
        p = self.parameters
        return (memory, iterations, lanes) != (p.memory_cost_kib, p.iterations, p.lanes)

    def burn(self) -> None:
        """Spend the time of one verification on nothing.

        Used when a log-in names an unknown email, so that timing does not tell which
        emails have accounts.
        """
        self._kdf(b"\x00" * _SALT_BYTES).derive(b"licensekit: no such user")

    def _kdf(self, salt: bytes) -> Argon2id:
        p = self.parameters
        return Argon2id(
            salt=salt,
            length=_HASH_BYTES,
            iterations=p.iterations,
            lanes=p.lanes,
            memory_cost=p.memory_cost_kib,
        )
