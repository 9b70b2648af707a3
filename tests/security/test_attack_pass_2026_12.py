"""Defects found by an attack pass from outside (December 2026), each fixed, each kept fixed.

* Lists of ids (``installation_ids``, ``invitation_ids``) were read whole, without a limit,
  unlike lists of addresses: an endless iterable never returned, and a huge one held a
  transaction for as long as it took to look every id up. They are now read up to
  ``Settings.max_batch_size`` ids and refused past it, after one id too many.
* The ``client`` identifier of the unauthenticated calls (activation, check-in, links) was
  taken at any length and stored as the key of its throttle counter: ten calls with a
  caller-chosen 10-million-character client grew a SQLite file by 200 MB. It is now
  refused past 200 characters, before anything is counted or stored.
* A language tag was resolved by joining its subtags again for every subtag dropped: a
  tag of 80,000 subtags (160 KB, in the ``language`` of an unauthenticated password reset
  request) took 25 seconds, and one of a megabyte hours. Only as many subtags as the
  longest known tag has are tried now.
* ``licensekit.codes.normalize_code`` and ``licensekit.parse_emails`` let a ``TypeError``
  escape for an argument of the wrong type (``parse_emails`` also read one text as a list
  of one-character addresses); both refuse it with a ``ValidationError``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest

from _records import records
from licensekit import (
    ActivationCodeNotFound,
    InstallationNotFound,
    InvalidToken,
    InvitationNotFound,
    LicenseKit,
    Settings,
    ValidationError,
    parse_emails,
)
from licensekit.codes import new_activation_code, normalize_code
from licensekit.domain.throttling import ThrottledSecret, client_key, overall_key
from licensekit.mail import default_templates
from licensekit.storage import THROTTLES
from licensekit.testing import make_business_account, make_licensekit

LIMIT = 3


class _Endless:
    """An endless iterable of ids that counts how many were taken from it."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.taken = 0

    def __iter__(self) -> Iterator[str]:
        for n in itertools.count():
            self.taken += 1
            yield f"{self.prefix}_{n:020d}"


def _shop() -> tuple[LicenseKit, object, str, str, str]:
    kit = make_licensekit(settings=Settings(max_batch_size=LIMIT))
    admin, account = make_business_account(kit)
    old = kit.add_license_key(admin, account.id, product="Atlas", value="ATLAS-1", seats=5)
    new = kit.add_license_key(admin, account.id, product="Atlas", value="ATLAS-2", seats=5)
    return kit, admin, account.id, old.id, new.id


CALLS: dict[str, tuple[str, Callable[..., object]]] = {
    "move_installations": (
        "ins",
        lambda kit, admin, account_id, old, new, ids: kit.move_installations(
            admin, account_id, old, new, installation_ids=ids
        ),
    ),
    "export_install_invitations": (
        "inst",
        lambda kit, admin, account_id, old, new, ids: kit.export_install_invitations(
            admin, account_id, old, invitation_ids=ids
        ),
    ),
    "send_install_invitations": (
        "inst",
        lambda kit, admin, account_id, old, new, ids: kit.send_install_invitations(
            admin, account_id, old, invitation_ids=ids
        ),
    ),
    "send_join_invitations": (
        "jinv",
        lambda kit, admin, account_id, old, new, ids: kit.send_join_invitations(
            admin, account_id, invitation_ids=ids
        ),
    ),
}


@pytest.mark.parametrize("method", sorted(CALLS))
def test_an_endless_iterable_of_ids_is_refused_after_one_id_too_many(method: str) -> None:
    kit, admin, account_id, old, new = _shop()
    prefix, call = CALLS[method]
    endless = _Endless(prefix)
    before = kit.list_audit_events(admin, account_id, limit=100).items

    with pytest.raises(
        ValidationError, match=rf"^more than {LIMIT} \w+_ids; the limit per call is {LIMIT}$"
    ):
        call(kit, admin, account_id, old, new, endless)

    assert endless.taken == LIMIT + 1
    assert kit.list_audit_events(admin, account_id, limit=100).items == before
    assert kit.mailer.sent == []


@pytest.mark.parametrize("method", sorted(CALLS))
def test_as_many_ids_as_the_limit_are_still_looked_up(method: str) -> None:
    kit, admin, account_id, old, new = _shop()
    prefix, call = CALLS[method]
    ids = [f"{prefix}_{n:020d}" for n in range(LIMIT)]
    with pytest.raises((InstallationNotFound, InvitationNotFound)):
        call(kit, admin, account_id, old, new, ids)


LONGEST_CLIENT = 200


def _unauthenticated_calls(kit: LicenseKit) -> dict[str, Callable[[str], object]]:
    return {
        "activate": lambda client: kit.activate(
            code=new_activation_code(), computer_id="pc-1", client=client
        ),
        "check_in": lambda client: kit.check_in("x" * 32, client=client),
        "describe_install_invitation": lambda client: kit.describe_install_invitation(
            "x" * 32, client=client
        ),
        "describe_join_invitation": lambda client: kit.describe_join_invitation(
            "x" * 32, client=client
        ),
        "verify_email": lambda client: kit.verify_email("x" * 32, client=client),
    }


REFUSALS = (ActivationCodeNotFound, InstallationNotFound, InvitationNotFound, InvalidToken)


@pytest.mark.parametrize(
    "method",
    [
        "activate",
        "check_in",
        "describe_install_invitation",
        "describe_join_invitation",
        "verify_email",
    ],
)
def test_a_client_identifier_longer_than_200_characters_is_refused_and_nothing_stored(
    method: str,
) -> None:
    kit = make_licensekit()
    call = _unauthenticated_calls(kit)[method]
    huge = "203.0.113.9" + "x" * 10_000_000

    with pytest.raises(ValidationError, match="client must be at most 200 characters") as caught:
        call(huge)

    assert caught.value.field == "client"
    assert len(str(caught.value)) < 200
    counters = [
        *(client_key(secret, huge) for secret in ThrottledSecret),
        *(overall_key(secret) for secret in ThrottledSecret),
    ]
    with records(kit.store) as tx:
        assert tx.get_many(THROTTLES, counters) == []
    # Spaces around it do not count, and 200 characters are still counted as a client.
    with pytest.raises(REFUSALS):
        call(" " + "c" * LONGEST_CLIENT + " ")


def test_a_password_reset_refuses_an_over_long_client_before_any_email() -> None:
    kit = make_licensekit()
    with pytest.raises(ValidationError, match="client must be at most 200 characters"):
        kit.request_password_reset("nobody@example.com", client="c" * (LONGEST_CLIENT + 1))
    assert kit.mailer.sent == []
    kit.request_password_reset("nobody@example.com", client="c" * LONGEST_CLIENT)
    assert len(kit.mailer.sent) == 1


# == language tags of many subtags ==============================================================

MANY_SUBTAGS = "en" + "-x" * 1_000_000  # 2 MB; was hours of joining


def test_a_language_tag_of_a_million_subtags_is_resolved_at_once() -> None:
    # No clock here: before the fix each of these joined the whole tag once a subtag, hours
    # of work, so a regression does not end (and fails the run) rather than slowing it.
    templates = default_templates()
    assert templates.resolve(MANY_SUBTAGS) == "en"
    assert templates.resolve("zh" + "-x" * 1_000_000) == "zh-Hans"
    with pytest.raises(ValidationError, match="unsupported language"):
        templates.resolve("-" * 2_000_000)


@pytest.mark.parametrize(
    ("tag", "resolved"),
    [
        ("en-GB", "en"),
        ("EN_gb", "en"),
        ("zh-Hans-CN", "zh-Hans"),
        ("de-AT-x-foo", "de"),
        ("pt", "pt-BR"),
        ("pt-br-x-a-b-c-d", "pt-BR"),
    ],
)
def test_language_tags_resolve_as_before(tag: str, resolved: str) -> None:
    assert default_templates().resolve(tag) == resolved


def test_an_unauthenticated_reset_request_with_a_huge_language_tag_answers_at_once() -> None:
    kit = make_licensekit()
    kit.request_password_reset("nobody@example.com", language=MANY_SUBTAGS)  # hours before
    assert kit.mailer.sent[-1].language == "en"


# == TypeErrors of public helpers ===============================================================


@pytest.mark.parametrize("value", [None, 42, b"ABCDE", ["ABCDE"]])
def test_normalize_code_refuses_what_is_not_text_as_a_validation_error(value: object) -> None:
    with pytest.raises(ValidationError, match="an activation code must be text"):
        normalize_code(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [None, 42, "ann@example.com", b"ann@example.com"])
def test_parse_emails_refuses_what_is_not_a_collection_of_addresses(value: object) -> None:
    with pytest.raises(ValidationError, match="emails must be a collection of addresses"):
        parse_emails(value)  # type: ignore[arg-type]


def test_parse_emails_still_takes_any_iterable_of_addresses() -> None:
    parsed = parse_emails(iter(["ann@example.com", "", "bob@example.com"]))
    assert parsed.emails == ("ann@example.com", "bob@example.com")


def test_lifting_a_lock_out_checks_the_client_as_where_it_is_counted() -> None:
    kit = make_licensekit()
    with pytest.raises(ValidationError, match="client must be at most 200 characters"):
        kit.lift_lockout(client="c" * (LONGEST_CLIENT + 1))
    assert kit.lift_lockout(client=" " + "c" * LONGEST_CLIENT + " ") == 0
