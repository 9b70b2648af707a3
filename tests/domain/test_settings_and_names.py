"""Settings that contradict themselves are refused; names must be printable text."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import NamedTuple

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from licensekit import MessageKind, Session, Settings, ValidationError
from licensekit.testing import (
    TEST_PASSWORD,
    LicenseKitForTests,
    make_business_account,
    make_licensekit,
)

DAY = dt.timedelta(days=1)
SHORT = {"invitation_lifetime": DAY, "install_invitation_lifetime": DAY}

# -- Settings ------------------------------------------------------------------------------


class TestSettingsLifetimes:
    def test_defaults_are_consistent(self) -> None:
        settings = Settings()
        assert settings.invitation_lifetime <= settings.max_invitation_lifetime
        assert settings.install_invitation_lifetime <= settings.max_invitation_lifetime

    @pytest.mark.parametrize("name", ["invitation_lifetime", "install_invitation_lifetime"])
    def test_default_lifetime_longer_than_the_maximum_is_refused(self, name: str) -> None:
        with pytest.raises(ValidationError, match=f"^{name} .* exceeds max_invitation_lifetime"):
            Settings(**{name: 91 * DAY})  # type: ignore[arg-type]

    @pytest.mark.parametrize("name", ["invitation_lifetime", "install_invitation_lifetime"])
    def test_default_lifetime_one_microsecond_over_the_maximum_is_refused(self, name: str) -> None:
        lifetimes = {**SHORT, name: 20 * DAY + dt.timedelta(microseconds=1)}
        with pytest.raises(ValidationError, match=name):
            Settings(max_invitation_lifetime=20 * DAY, **lifetimes)  # type: ignore[arg-type]

    @pytest.mark.parametrize("name", ["invitation_lifetime", "install_invitation_lifetime"])
    def test_default_lifetime_equal_to_the_maximum_is_accepted(self, name: str) -> None:
        lifetimes = {**SHORT, name: 20 * DAY}
        settings = Settings(max_invitation_lifetime=20 * DAY, **lifetimes)  # type: ignore[arg-type]
        assert getattr(settings, name) == settings.max_invitation_lifetime

    def test_lowering_the_maximum_below_a_default_lifetime_is_refused(self) -> None:
        """Default install_invitation_lifetime is 14 days: a 10-day maximum contradicts it."""
        assert Settings().install_invitation_lifetime == 14 * DAY
        with pytest.raises(ValidationError, match="install_invitation_lifetime"):
            Settings(max_invitation_lifetime=10 * DAY)

    def test_lowering_the_maximum_together_with_the_defaults_is_accepted(self) -> None:
        settings = Settings(
            max_invitation_lifetime=5 * DAY,
            invitation_lifetime=5 * DAY,
            install_invitation_lifetime=2 * DAY,
        )
        assert settings.max_invitation_lifetime == 5 * DAY

    @pytest.mark.parametrize(
        "changes",
        [
            {"invitation_lifetime": 91 * DAY},
            {"install_invitation_lifetime": 91 * DAY},
            {"max_invitation_lifetime": 6 * DAY},
        ],
        ids=["join", "install", "maximum"],
    )
    def test_evolving_settings_into_a_contradiction_is_refused(
        self, changes: dict[str, dt.timedelta]
    ) -> None:
        with pytest.raises(ValidationError, match="exceeds max_invitation_lifetime"):
            attrs.evolve(Settings(), **changes)  # type: ignore[arg-type]

    def test_the_error_is_also_a_value_error(self) -> None:
        with pytest.raises(ValueError, match="exceeds"):
            Settings(invitation_lifetime=100 * DAY)

    def test_a_kit_uses_consistent_custom_lifetimes_as_defaults(self) -> None:
        """An invitation to install made without expires_in lasts install_invitation_lifetime."""
        kit = make_licensekit(
            settings=Settings(
                max_invitation_lifetime=3 * DAY,
                invitation_lifetime=2 * DAY,
                install_invitation_lifetime=3 * DAY,
            )
        )
        admin, account = make_business_account(kit)
        key = kit.add_license_key(admin, account.id, product="Draw", value="K-1", seats=1)
        batch = kit.invite_installers(admin, account.id, key.id, ["ann@example.com"], send=False)
        assert batch.invited[0].expires_at == kit.clock.now() + 3 * DAY

    @given(
        join=st.integers(min_value=1, max_value=200),
        install=st.integers(min_value=1, max_value=200),
        maximum=st.integers(min_value=1, max_value=200),
    )
    def test_settings_are_accepted_exactly_when_both_lifetimes_fit(
        self, join: int, install: int, maximum: int
    ) -> None:
        def build() -> Settings:
            return Settings(
                invitation_lifetime=join * DAY,
                install_invitation_lifetime=install * DAY,
                max_invitation_lifetime=maximum * DAY,
            )

        if join <= maximum and install <= maximum:
            assert build().max_invitation_lifetime == maximum * DAY
        else:
            with pytest.raises(ValidationError):
                build()


# -- names ---------------------------------------------------------------------------------

# Characters a name must never carry: controls (Cc) that str.split() does not treat as
# spaces, surrogates (Cs), and every format character (Cf) such as the bidirectional
# overrides of "Trojan Source", except the zero-width joiner and non-joiner and the tag
# characters U+E0020..U+E007F of flag sequences. Variation selectors (Mn) pass too.
REFUSED = {
    "NUL": "\x00",
    "BEL": "\x07",
    "ESC": "\x1b",
    "DEL": "\x7f",
    "C1 CSI": "\x9b",
    "RLO U+202E": "\u202e",
    "LRO U+202D": "\u202d",
    "RLI U+2067": "\u2067",
    "PDI U+2069": "\u2069",
    "ZWSP U+200B": "\u200b",
    "soft hyphen U+00AD": "\u00ad",
    "BOM U+FEFF": "\ufeff",
    "word joiner U+2060": "\u2060",
    "left-to-right mark U+200E": "\u200e",
    "Arabic letter mark U+061C": "\u061c",
    "function application U+2061": "\u2061",
    "invisible times U+2062": "\u2062",
    "language tag U+E0001": "\U000e0001",
    "Mongolian vowel separator U+180E": "\u180e",
    "interlinear annotation U+FFF9": "\ufff9",
    "inhibit symmetric swapping U+206A": "\u206a",
    "lone surrogate U+D800": "\ud800",
}

ACCEPTED = {
    "accents": "José Müller-Ångström",
    "decomposed accent": "Jose\u0301",
    "CJK": "東京オフィス 山田太郎",
    "Hangul": "김민준",
    "Arabic": "مكتب القاهرة",
    "Cyrillic": "Офис Москва",
    "Devanagari": "मुंबई कार्यालय",
    "emoji": "Ann 😀🚀",
    "flag": "Paris 🇫🇷",
    "emoji with variation selector": "Support ❤️",
    "skin tone": "👍🏽 Team",
    "punctuation": "O'Brien & Co. (Ltd) #1 — “quoted”",
}


def _ids(table: dict[str, str]) -> list[str]:
    return list(table)


class Setup(NamedTuple):
    kit: LicenseKitForTests
    admin: Session
    account_id: str
    key_id: str


@pytest.fixture
def kit() -> LicenseKitForTests:
    return make_licensekit()


@pytest.fixture
def setup(kit: LicenseKitForTests) -> Setup:
    admin, account = make_business_account(kit, name="Acme Ltd")
    key = kit.add_license_key(admin, account.id, product="Acme Draw", value="K-1", seats=2)
    return Setup(kit, admin, account.id, key.id)


def _code(setup: Setup) -> str:
    kit, admin, account_id, key_id = setup
    kit.invite_installers(admin, account_id, key_id, ["ann@example.com"])
    return kit.mailer.last(to="ann@example.com", kind=MessageKind.INSTALL_INVITATION).data["code"]


class TestUserNames:
    @pytest.mark.parametrize("bad", REFUSED.values(), ids=_ids(REFUSED))
    def test_register_user_refuses_a_name_with_a_control_or_format_character(
        self, kit: LicenseKitForTests, bad: str
    ) -> None:
        with pytest.raises(
            ValidationError, match="name must not contain control characters or invisible"
        ):
            kit.register_user(
                "ann@example.com", TEST_PASSWORD, name=f"Ann{bad}Smith", email_verified=True
            )
        # Nothing was stored: the address is still free.
        assert (
            kit.register_user(
                "ann@example.com", TEST_PASSWORD, name="Ann", email_verified=True
            ).name
            == "Ann"
        )

    @pytest.mark.parametrize("good", ACCEPTED.values(), ids=_ids(ACCEPTED))
    def test_register_user_accepts_ordinary_unicode_names(
        self, kit: LicenseKitForTests, good: str
    ) -> None:
        assert (
            kit.register_user("ann@example.com", TEST_PASSWORD, name=good, email_verified=True).name
            == good
        )

    @pytest.mark.parametrize("bad", ["\x00", "\u202e", "\x1b"], ids=["NUL", "RLO", "ESC"])
    def test_trusted_session_refuses_such_a_name_for_a_new_user(
        self, kit: LicenseKitForTests, bad: str
    ) -> None:
        with pytest.raises(ValidationError, match="control characters or invisible"):
            kit.trusted_session("sso@example.com", create=True, name=f"SSO{bad}")

    @pytest.mark.parametrize("bad", ["\x00", "\u202e", "\x1b"], ids=["NUL", "RLO", "ESC"])
    def test_accept_join_invitation_refuses_such_a_name_and_the_invitation_stays_open(
        self, kit: LicenseKitForTests, bad: str
    ) -> None:
        admin, account = make_business_account(kit)
        kit.invite_members(admin, account.id, ["bob@example.com"])
        token = kit.mailer.last_token(to="bob@example.com")
        with pytest.raises(ValidationError, match="control characters or invisible"):
            kit.accept_join_invitation(token, password=TEST_PASSWORD, name=f"Bob{bad}")
        bob = kit.accept_join_invitation(token, password=TEST_PASSWORD, name="Bob")
        assert [m.account_id for m in kit.list_my_accounts(bob)] == [account.id]

    @pytest.mark.parametrize(
        ("typed", "stored"),
        [
            ("Ann\tSmith", "Ann Smith"),
            ("Ann\r\nSmith", "Ann Smith"),
            ("  Ann   Smith ", "Ann Smith"),
        ],
        ids=["tab", "crlf", "spaces"],
    )
    def test_whitespace_controls_fold_into_single_spaces(
        self, kit: LicenseKitForTests, typed: str, stored: str
    ) -> None:
        """Tabs and line breaks are spacing, not smuggled characters: they become one space."""
        assert (
            kit.register_user(
                "ann@example.com", TEST_PASSWORD, name=typed, email_verified=True
            ).name
            == stored
        )


class TestAccountNames:
    @pytest.mark.parametrize("bad", REFUSED.values(), ids=_ids(REFUSED))
    def test_create_business_account_refuses_control_or_format_characters(
        self, kit: LicenseKitForTests, bad: str
    ) -> None:
        kit.register_user("ada@example.com", TEST_PASSWORD, email_verified=True)
        session = kit.log_in("ada@example.com", TEST_PASSWORD)
        with pytest.raises(ValidationError, match="account name must not contain control"):
            kit.create_business_account(session, f"Acme{bad}Ltd")
        assert kit.list_my_accounts(session) == ()

    @pytest.mark.parametrize("good", ACCEPTED.values(), ids=_ids(ACCEPTED))
    def test_create_business_account_accepts_ordinary_unicode_names(
        self, kit: LicenseKitForTests, good: str
    ) -> None:
        _, account = make_business_account(kit, name=good)
        assert account.name == good


class TestProductNames:
    @pytest.mark.parametrize("bad", REFUSED.values(), ids=_ids(REFUSED))
    def test_add_license_key_refuses_a_product_with_control_or_format_characters(
        self, kit: LicenseKitForTests, bad: str
    ) -> None:
        admin, account = make_business_account(kit)
        with pytest.raises(ValidationError, match="product must not contain control"):
            kit.add_license_key(admin, account.id, product=f"Draw{bad}", value="K-1", seats=1)
        assert kit.list_license_keys(admin, account.id).items == ()

    @pytest.mark.parametrize("good", ACCEPTED.values(), ids=_ids(ACCEPTED))
    def test_add_license_key_accepts_ordinary_unicode_products(
        self, kit: LicenseKitForTests, good: str
    ) -> None:
        admin, account = make_business_account(kit)
        key = kit.add_license_key(admin, account.id, product=good, value="K-1", seats=1)
        assert key.product == good


class TestComputerNames:
    @pytest.mark.parametrize("bad", REFUSED.values(), ids=_ids(REFUSED))
    def test_activate_refuses_a_computer_name_with_control_or_format_characters(
        self, setup: Setup, bad: str
    ) -> None:
        """The refusal costs nothing: no seat, no activation of the code."""
        kit, admin, account_id, key_id = setup
        code = _code(setup)
        with pytest.raises(ValidationError, match="computer_name must not contain control"):
            kit.activate(computer_id="pc-1", code=code, computer_name=f"PC{bad}1")
        assert kit.get_license_key(admin, account_id, key_id).seats_used == 0
        (invitation,) = kit.list_install_invitations(admin, account_id, key_id).items
        assert invitation.activations == 0
        # The same code still works with a clean name.
        assert kit.activate(computer_id="pc-1", code=code, computer_name="PC 1").product

    @pytest.mark.parametrize("good", ACCEPTED.values(), ids=_ids(ACCEPTED))
    def test_activate_accepts_ordinary_unicode_computer_names(
        self, setup: Setup, good: str
    ) -> None:
        kit, admin, account_id, key_id = setup
        kit.activate(computer_id="pc-1", code=_code(setup), computer_name=good)
        (installation,) = kit.list_installations(admin, account_id, key_id).items
        assert installation.computer_name == good

    @pytest.mark.parametrize("bad", ["\x00", "\u202e"], ids=["NUL", "RLO"])
    def test_activate_refuses_a_product_with_control_or_format_characters(
        self, setup: Setup, bad: str
    ) -> None:
        kit = setup.kit
        with pytest.raises(ValidationError, match="product must not contain control"):
            kit.activate(computer_id="pc-1", code=_code(setup), product=f"Acme Draw{bad}")


# The only format characters a name may hold.
ALLOWED_FORMAT = frozenset("\u200c\u200d") | frozenset(map(chr, range(0xE0020, 0xE0080)))


@given(
    char=st.one_of(
        st.characters(categories=["Cc"]).filter(lambda c: not c.isspace()),
        st.characters(categories=["Cf"]).filter(lambda c: c not in ALLOWED_FORMAT),
        st.characters(categories=["Cs"]),
        st.sampled_from(sorted(set(REFUSED.values()))),
    )
)
def test_any_non_space_control_or_hidden_format_character_is_refused_in_a_user_name(
    char: str,
) -> None:
    """Every non-space control, every surrogate and every format character but the joiners
    and tags is refused."""
    kit = make_licensekit()
    with pytest.raises(ValidationError, match="control characters or invisible"):
        kit.register_user("ann@example.com", TEST_PASSWORD, name=f"Ann{char}", email_verified=True)


@given(
    name=st.text(
        alphabet=st.characters(categories=["L", "M", "N", "P", "S"]), min_size=1, max_size=30
    ).filter(lambda n: unicodedata.category(n[0])[0] != "M")
)
def test_any_letters_marks_digits_punctuation_and_symbols_are_accepted(name: str) -> None:
    """Names of assigned letters, marks, numbers, punctuation and symbols pass unchanged."""
    kit = make_licensekit()
    assert (
        kit.register_user("ann@example.com", TEST_PASSWORD, name=name, email_verified=True).name
        == name
    )


# -- what a name may hold beyond letters ---------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Ann 👩\u200d💻", "🏳\ufe0f\u200d🌈 Team", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"],
    ids=["technologist-zwj", "rainbow-flag-zwj", "persian-zwnj"],
)
def test_names_with_zero_width_joiners_of_ordinary_text_are_accepted(name: str) -> None:
    """Emoji sequences and Persian script need the zero-width joiner and non-joiner."""
    kit = make_licensekit()
    assert (
        kit.register_user("ann@example.com", TEST_PASSWORD, name=name, email_verified=True).name
        == name
    )


NEWER_EMOJI = "\U0001fae9"  # FACE WITH BAGS UNDER EYES, Unicode 16.0 (2024)


def test_emoji_newer_than_pythons_unicode_database_are_accepted() -> None:
    """Whether a name is accepted must not depend on the Python version's Unicode tables."""
    kit = make_licensekit()
    name = f"Ann {NEWER_EMOJI}"
    assert (
        kit.register_user("ann@example.com", TEST_PASSWORD, name=name, email_verified=True).name
        == name
    )


@given(char=st.sampled_from(sorted(ALLOWED_FORMAT)))
def test_the_joiners_and_every_tag_character_are_accepted(char: str) -> None:
    kit = make_licensekit()
    name = f"Ann{char}Smith"
    assert (
        kit.register_user("ann@example.com", TEST_PASSWORD, name=name, email_verified=True).name
        == name
    )


def test_every_format_character_but_the_joiners_and_tags_is_refused() -> None:
    """The rule covers the whole Cf category of this Python's Unicode database."""
    kit = make_licensekit()
    refused = [chr(n) for n in range(0x110000) if unicodedata.category(chr(n)) == "Cf"]
    assert "\u2061" in refused
    assert "\U000e0001" in refused
    for char in refused:
        if char in ALLOWED_FORMAT:
            continue
        with pytest.raises(ValidationError, match="control characters or invisible"):
            kit.register_user(
                "ann@example.com", TEST_PASSWORD, name=f"Ann{char}", email_verified=True
            )
    assert (
        kit.register_user("ann@example.com", TEST_PASSWORD, name="Ann", email_verified=True).name
        == "Ann"
    )


@pytest.mark.parametrize(
    "separator", ["\u2028", "\u2029"], ids=["line-separator", "paragraph-separator"]
)
def test_line_and_paragraph_separators_fold_into_a_space(separator: str) -> None:
    """U+2028 (Zl) and U+2029 (Zp) are whitespace to str.split(): a space, not a refusal."""
    kit = make_licensekit()
    name = f"Ann{separator}Smith{separator}"
    assert (
        kit.register_user("ann@example.com", TEST_PASSWORD, name=name, email_verified=True).name
        == "Ann Smith"
    )
    _, account = make_business_account(kit, name=f"Acme{separator}Ltd")
    assert account.name == "Acme Ltd"


def test_a_subdivision_flag_made_of_tag_characters_is_accepted() -> None:
    """Flags such as Scotland's are a black flag followed by tag characters."""
    scotland = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    kit = make_licensekit()
    name = f"Ann {scotland}"
    assert (
        kit.register_user("ann@example.com", TEST_PASSWORD, name=name, email_verified=True).name
        == name
    )
