"""Unit tests of Argon2id password hashing and the password policy in licensekit.passwords."""

from __future__ import annotations

import re

import pytest

from licensekit import InvalidPassword, LicenseKitError, ValidationError
from licensekit.passwords import Argon2Parameters, PasswordHasher, PasswordPolicy

PASSWORD = "correct horse battery"
FAST = Argon2Parameters.insecure_fast()
PHC_RE = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$")


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher.insecure_fast()


@pytest.fixture(scope="module")
def phc(hasher: PasswordHasher) -> str:
    return hasher.hash(PASSWORD)


class TestParameters:
    def test_defaults_are_owasp_m19456_t2_p1(self) -> None:
        p = Argon2Parameters()
        assert (p.memory_cost_kib, p.iterations, p.lanes) == (19456, 2, 1)

    def test_insecure_fast_is_the_argon2_minimum(self) -> None:
        assert (FAST.memory_cost_kib, FAST.iterations, FAST.lanes) == (8, 1, 1)

    def test_memory_must_be_at_least_8_kib_per_lane(self) -> None:
        with pytest.raises(ValidationError, match="at least 8 KiB per lane"):
            Argon2Parameters(memory_cost_kib=8, lanes=2)

    @pytest.mark.parametrize(
        "kwargs", [{"iterations": 0}, {"lanes": 0}, {"memory_cost_kib": 4}], ids=str
    )
    def test_out_of_range_parameters_raise_validation_error(self, kwargs: dict[str, int]) -> None:
        with pytest.raises(ValidationError, match="must be"):
            Argon2Parameters(**kwargs)


class TestHashFormat:
    def test_default_hasher_writes_phc_with_owasp_parameters(self) -> None:
        """The one test that pays for the real default cost."""
        hasher = PasswordHasher()
        phc = hasher.hash(PASSWORD)
        assert phc.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert PHC_RE.match(phc)
        assert hasher.verify(PASSWORD, phc)
        assert not hasher.needs_rehash(phc)

    def test_hash_is_phc_encoded_with_configured_parameters(self, phc: str) -> None:
        match = PHC_RE.match(phc)
        assert match
        assert match.groups() == ("8", "1", "1")

    def test_hash_does_not_contain_the_password(self, phc: str) -> None:
        assert PASSWORD not in phc

    def test_each_hash_uses_a_fresh_salt(self, hasher: PasswordHasher, phc: str) -> None:
        assert hasher.hash(PASSWORD) != phc


class TestVerify:
    def test_right_password_verifies(self, hasher: PasswordHasher, phc: str) -> None:
        assert hasher.verify(PASSWORD, phc) is True

    @pytest.mark.parametrize("wrong", ["correct horse battery ", "Correct horse battery", ""])
    def test_wrong_password_does_not_verify(
        self, hasher: PasswordHasher, phc: str, wrong: str
    ) -> None:
        assert hasher.verify(wrong, phc) is False

    def test_hash_made_with_other_parameters_still_verifies(self, phc: str) -> None:
        other = PasswordHasher(parameters=Argon2Parameters(memory_cost_kib=16, iterations=2))
        assert other.verify(PASSWORD, phc) is True

    def test_password_longer_than_policy_maximum_never_matches(self) -> None:
        long_password = "x" * 300
        lenient = PasswordHasher(parameters=FAST, policy=PasswordPolicy(max_length=300))
        phc = lenient.hash(long_password)
        assert lenient.verify(long_password, phc) is True
        strict = PasswordHasher(parameters=FAST)  # max_length 256
        assert strict.verify(long_password, phc) is False

    @pytest.mark.parametrize(
        "malformed",
        [
            "",
            "plain text",
            "$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            "$argon2id$v=18$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            "$argon2id$v=19$m=8,t=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$",
        ],
    )
    def test_malformed_phc_never_verifies(self, hasher: PasswordHasher, malformed: str) -> None:
        assert hasher.verify(PASSWORD, malformed) is False

    @pytest.mark.parametrize(
        "params_and_hash",
        ["m=8,t=1,p=1${salt}$AAAA", "m=0,t=1,p=1${salt}${hash}", "m=8,t=0,p=1${salt}${hash}"],
    )
    def test_structurally_valid_but_unusable_phc_never_verifies(
        self, hasher: PasswordHasher, phc: str, params_and_hash: str
    ) -> None:
        salt, digest = phc.split("$")[4:6]
        broken = "$argon2id$v=19$" + params_and_hash.format(salt=salt, hash=digest)
        assert hasher.verify(PASSWORD, broken) is False


class TestNeedsRehash:
    def test_same_parameters_need_no_rehash(self, hasher: PasswordHasher, phc: str) -> None:
        assert hasher.needs_rehash(phc) is False

    @pytest.mark.parametrize(
        "params",
        [
            Argon2Parameters(memory_cost_kib=16, iterations=1, lanes=1),
            Argon2Parameters(memory_cost_kib=8, iterations=2, lanes=1),
            Argon2Parameters(memory_cost_kib=16, iterations=1, lanes=2),
        ],
    )
    def test_different_parameters_need_rehash(self, phc: str, params: Argon2Parameters) -> None:
        assert PasswordHasher(parameters=params).needs_rehash(phc) is True

    def test_default_hasher_wants_to_rehash_fast_hashes(self, phc: str) -> None:
        assert PasswordHasher().needs_rehash(phc) is True

    @pytest.mark.parametrize("malformed", ["", "not a hash", "$argon2id$v=19$m=8"])
    def test_malformed_phc_needs_rehash(self, hasher: PasswordHasher, malformed: str) -> None:
        assert hasher.needs_rehash(malformed) is True


class TestPolicy:
    def test_defaults_are_10_to_256_characters(self) -> None:
        policy = PasswordPolicy()
        assert (policy.min_length, policy.max_length) == (10, 256)

    def test_too_short_password_is_refused(self) -> None:
        with pytest.raises(InvalidPassword, match="at least 10 characters"):
            PasswordPolicy().check("x" * 9)

    def test_boundary_lengths_are_accepted(self) -> None:
        policy = PasswordPolicy(min_length=3, max_length=5)
        policy.check("abc")  # raises if refused
        policy.check("abcde")

    def test_too_long_password_is_refused(self) -> None:
        with pytest.raises(InvalidPassword, match="at most 256 characters"):
            PasswordPolicy().check("x" * 257)

    def test_whitespace_only_password_is_refused(self) -> None:
        with pytest.raises(InvalidPassword, match="must not be only whitespace"):
            PasswordPolicy().check(" \t" * 6)

    def test_password_with_inner_spaces_is_accepted(self) -> None:
        PasswordPolicy().check("  a passphrase  ")  # raises if refused

    def test_hash_applies_the_policy(self, hasher: PasswordHasher) -> None:
        with pytest.raises(InvalidPassword, match="at least 10 characters"):
            hasher.hash("short")

    def test_invalid_password_is_a_licensekit_validation_error(self) -> None:
        with pytest.raises(ValidationError):
            PasswordPolicy().check("")

    def test_zero_min_length_raises_a_licensekit_error(self) -> None:
        with pytest.raises(LicenseKitError, match="min_length"):
            PasswordPolicy(min_length=0)
