"""After a full licensing scenario, the store holds no usable code, token, password or key.

The scenario adds keys, invites installers (typed and from an uploaded CSV), exports, sends and
resends the invitations, activates by code and by token, activates again, deactivates, blocks
under one key and account-wide, unblocks, checks in, and makes wrong guesses and refused
activations that leave throttle records. Then every plaintext secret it handled
is searched for, in every form a person or program could use it, in the store's dump
(``repr`` and the JSON of every record) and in the reprs of what the use cases returned.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any, NamedTuple

import pytest

from licensekit import (
    ActivationCodeNotFound,
    ActivationCodeRevoked,
    ActivationCodeUsedUp,
    ActivationResult,
    ComputerAlreadyActivated,
    ComputerBlocked,
    InstallationNotFound,
    LicenseKeyView,
    LicenseKitError,
    Page,
)
from licensekit.codes import new_activation_code
from licensekit.mail import MessageKind
from licensekit.serialization import unstructure
from licensekit.testing import (
    TEST_SECRET,
    LicenseKitForTests,
    add_member,
    make_business_account,
    make_licensekit,
)

ADMIN_PASSWORD = "licensing-admin-pass-Qv38"
KEEPER_PASSWORD = "license-keeper-pass-Jn51"
KEY_VALUES = ("PDPRO-4F7K-29XQ-MB3T", "ent 88zz 71qw kp0v", "STUDIO-X7Q2-R8M4-NN6W")
WRONG_GUESS_TOKEN = "not-a-download-token-Ub72"


class Scenario(NamedTuple):
    kit: LicenseKitForTests
    codes: list[str]
    download_tokens: list[str]
    installation_tokens: list[str]
    session_tokens: list[str]
    join_tokens: list[str]
    exported: list[str]
    returned: list[Any]
    """Every value the use cases handed back to a caller."""
    errors: list[LicenseKitError]


def _rows(exported: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(exported)))[1:]


def _full_scenario() -> Scenario:
    kit = make_licensekit()
    returned: list[Any] = []
    errors: list[LicenseKitError] = []
    admin, account = make_business_account(
        kit, admin_email="it@example.com", password=ADMIN_PASSWORD
    )
    acc = account.id
    keeper = add_member(kit, admin, acc, "keeper@example.com", password=KEEPER_PASSWORD)
    keys = [
        kit.add_license_key(admin, acc, product=f"Product {n}", value=value, seats=5)
        for n, value in enumerate(KEY_VALUES)
    ]
    returned += keys
    k0, k1, k2 = (k.id for k in keys)
    returned.append(kit.grant_license_administrator(admin, acc, keeper.user_id, k1))

    # Typed and sent at once; from a CSV and only exported; a License Administrator's own.
    # Bob's code keeps an activation left, so that it is refused on another invitation's
    # computer as already activated rather than as used up.
    returned.append(kit.invite_installers(admin, acc, k0, ["ann@example.com"], max_activations=2))
    returned.append(kit.invite_installers(admin, acc, k0, ["bob@example.com"], max_activations=3))
    csv_batch = kit.invite_installers(
        admin,
        acc,
        k0,
        csv=b"\xef\xbb\xbfemail\r\ncy@example.com\r\n\r\nCy@Example.com\r\ndee@example.com\r\n",
        expires_in="7d",
        send=False,
    )
    returned.append(csv_batch)
    exported = [kit.export_install_invitations(admin, acc, k0)]
    returned.append(kit.send_install_invitations(admin, acc, k0))
    returned.append(
        kit.invite_installers(keeper, acc, k1, ["eve@example.com", "fay@example.com"], send=False)
    )
    exported.append(kit.export_install_invitations(keeper, acc, k1))
    returned.append(kit.send_install_invitations(keeper, acc, k1))
    returned.append(
        kit.resend_install_invitation(
            keeper, acc, kit.list_install_invitations(keeper, acc, k1).items[0].id
        )
    )
    returned.append(kit.invite_installers(admin, acc, k2, ["gus@example.com"], send=False))
    exported.append(kit.export_install_invitations(admin, acc, k2))  # never sent

    mail = {m.to: m.data for m in kit.mailer.messages(kind=MessageKind.INSTALL_INVITATION)}
    by_row = {row[0]: (row[1], row[2].split("token=", 1)[1]) for e in exported for row in _rows(e)}
    for email, (code, token) in by_row.items():
        if email in mail:
            assert (mail[email]["code"], mail[email]["token"]) == (code, token)
    codes = sorted({m["code"] for m in mail.values()} | {c for c, _ in by_row.values()})
    download_tokens = sorted({m["token"] for m in mail.values()} | {t for _, t in by_row.values()})
    assert len(codes) == len(download_tokens) == 7

    def code_of(email: str) -> str:
        return mail[email]["code"] if email in mail else by_row[email][0]

    def token_of(email: str) -> str:
        return mail[email]["token"] if email in mail else by_row[email][1]

    # Activations: typed code, token, the same computer again, a second computer, a code never
    # sent, and a deactivated computer coming back with a code that has an activation left.
    results: list[ActivationResult] = [
        kit.activate(
            code=code_of("ann@example.com").lower().replace("-", " "),
            computer_id="SN-ANN-1",
            computer_name="ann-laptop",
            client="198.51.100.1",
        ),
        kit.activate(
            token=token_of("bob@example.com"), computer_id="SN-BOB-1", product="Product 0"
        ),
        kit.activate(code=code_of("ann@example.com"), computer_id="SN-ANN-1"),
        kit.activate(code=code_of("ann@example.com"), computer_id="SN-ANN-2"),
        kit.activate(token=token_of("eve@example.com"), computer_id="SN-EVE-1"),
        kit.activate(code=code_of("fay@example.com").replace("-", ""), computer_id="SN-FAY-1"),
        kit.activate(code=code_of("cy@example.com"), computer_id="SN-CY-1"),
        kit.activate(code=code_of("gus@example.com"), computer_id="SN-GUS-1"),
    ]
    returned.append(kit.describe_install_invitation(token_of("dee@example.com")))
    returned.append(kit.deactivate_installation(admin, acc, results[1].installation_id))
    results.append(kit.activate(token=token_of("bob@example.com"), computer_id="SN-BOB-1"))
    returned.append(kit.block_computer(keeper, acc, results[4].installation_id, notes="lost"))
    returned.append(kit.block_computer(admin, acc, results[0].installation_id, notes="stolen"))
    returned.append(kit.block_computer(keeper, acc, results[5].installation_id))
    kit.unblock_computer(keeper, acc, "SN-FAY-1", key_id=k1)
    returned.append(kit.revoke_install_invitation(admin, acc, csv_batch.invited[1].id))
    returned += results
    installation_tokens = [r.installation_token for r in results]
    for token in installation_tokens[-3:]:
        returned.append(kit.check_in(token, client="203.0.113.5"))

    # Refusals and guesses, some leaving throttle records and audit events behind.
    for call in (
        lambda: kit.activate(code=code_of("ann@example.com"), computer_id="SN-ANN-3"),
        lambda: kit.activate(code=new_activation_code(), computer_id="X", client="203.0.113.9"),
        lambda: kit.activate(token=WRONG_GUESS_TOKEN, computer_id="X", client="203.0.113.9"),
        lambda: kit.check_in(installation_tokens[0], client="203.0.113.9"),  # replaced since
        lambda: kit.activate(code=code_of("dee@example.com"), computer_id="SN-DEE-1"),
        lambda: kit.activate(code=code_of("bob@example.com"), computer_id="SN-ANN-2"),
        lambda: kit.activate(token=token_of("ann@example.com"), computer_id="SN-ANN-1"),
        lambda: kit.activate(token=token_of("bob@example.com"), computer_id="SN-ANN-1"),
        lambda: kit.activate(code=code_of("fay@example.com"), computer_id="SN-FAY-1"),
    ):
        with pytest.raises(LicenseKitError) as info:
            call()
        errors.append(info.value)
    assert [type(e) for e in errors] == [
        ActivationCodeUsedUp,
        ActivationCodeNotFound,
        ActivationCodeNotFound,
        InstallationNotFound,
        ActivationCodeRevoked,
        ComputerAlreadyActivated,
        ActivationCodeUsedUp,  # blocked, but the used-up code is refused before that is said
        ComputerBlocked,
        ActivationCodeUsedUp,
    ]

    kit.clock.advance(dt.timedelta(hours=1))
    returned.append(kit.change_license_key(admin, acc, k0, seats=4))
    returned.append(kit.suspend_license_key(admin, acc, k2))
    for key_id in (k0, k1, k2):
        returned.append(kit.get_license_key(admin, acc, key_id))
        returned.append(kit.list_install_invitations(admin, acc, key_id))
        returned.append(kit.list_installations(admin, acc, key_id, include_inactive=True))
        exported.append(kit.export_install_invitations(admin, acc, key_id, include_unusable=True))
    returned.append(kit.list_license_keys(keeper, acc))
    returned.append(kit.list_license_keys(admin, acc))
    returned.append(kit.list_blocked_computers(admin, acc))
    returned.append(kit.list_audit_events(admin, acc, limit=500))
    return Scenario(
        kit,
        codes,
        download_tokens,
        installation_tokens,
        [admin.token, keeper.token],
        [m.data["token"] for m in kit.mailer.messages(kind=MessageKind.JOIN_INVITATION)],
        exported,
        returned,
        errors,
    )


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return _full_scenario()


def _forms_of_code(code: str) -> list[str]:
    canonical = code.replace("-", "")
    return [code, canonical, code.lower(), canonical.lower()]


def _forms_of_key_value(value: str) -> list[str]:
    bare = "".join(value.split()).replace("-", "")
    joined = "".join(value.split())
    return sorted({value, value.upper(), value.lower(), bare, bare.lower(), bare.upper(), joined})


def _secrets(s: Scenario) -> list[str]:
    found = [form for code in s.codes for form in _forms_of_code(code)]
    found += s.download_tokens + s.installation_tokens + s.session_tokens + s.join_tokens
    found += [ADMIN_PASSWORD, KEEPER_PASSWORD, WRONG_GUESS_TOKEN, TEST_SECRET.decode()]
    found += [form for value in KEY_VALUES for form in _forms_of_key_value(value)]
    assert all(len(x) >= 12 for x in found)
    return found


def _key_secrets() -> list[str]:
    return [form for value in KEY_VALUES for form in _forms_of_key_value(value)]


def _records(kit: LicenseKitForTests) -> list[object]:
    records = kit.store.dump()
    kinds = {type(r).__name__ for r in records}
    assert kinds >= {
        "LicenseKey",
        "InstallInvitation",
        "Installation",
        "ComputerBlock",
        "AuditEvent",
        "Throttle",
    }, kinds
    return records


def test_the_secrets_searched_for_are_the_real_ones(scenario: Scenario) -> None:
    """Each code, download token and installation token did work (or still does)."""
    kit = scenario.kit
    assert len(scenario.installation_tokens) == 9
    assert kit.check_in(scenario.installation_tokens[-1]).installation.computer_id == "SN-BOB-1"
    for message in kit.mailer.messages(kind=MessageKind.INSTALL_INVITATION):
        assert message.data["code"] in message.text
        assert message.data["token"] in message.data["link"]


def test_no_stored_record_serialises_a_secret(scenario: Scenario) -> None:
    secrets = _secrets(scenario)
    for record in _records(scenario.kit):
        text = json.dumps(unstructure(record))
        leaked = [x for x in secrets if x in text]
        assert not leaked, f"{type(record).__name__} serialises {leaked}"


def test_no_stored_record_shows_a_secret_in_its_repr(scenario: Scenario) -> None:
    secrets = _secrets(scenario)
    for record in _records(scenario.kit):
        leaked = [x for x in secrets if x in repr(record)]
        assert not leaked, f"repr of {type(record).__name__} shows {leaked}"


def test_the_whole_dump_as_one_text_holds_no_secret(scenario: Scenario) -> None:
    kit = scenario.kit
    everything = json.dumps(unstructure(_records(kit))) + repr(kit.store.dump()) + repr(kit)
    for secret in _secrets(scenario):
        assert secret not in everything


def test_what_the_use_cases_returned_shows_no_code_token_or_key_value(scenario: Scenario) -> None:
    """Views, batches, reports, results and pages: their reprs and their data."""
    secrets = _secrets(scenario)
    for value in scenario.returned:
        text = repr(value)
        if not isinstance(value, ActivationResult):  # the installer keeps its token, see below
            text += json.dumps(unstructure(value), default=str)
        leaked = [x for x in secrets if x in text]
        assert not leaked, f"{type(value).__name__} shows {leaked}"


def test_activation_results_hide_their_installation_token_but_carry_it(
    scenario: Scenario,
) -> None:
    results = [r for r in scenario.returned if isinstance(r, ActivationResult)]
    assert len(results) == 9
    for result in results:
        assert result.installation_token not in repr(result)
        assert "installation_token" not in repr(result)
        assert len(result.installation_token) >= 32


def test_error_messages_name_no_secret(scenario: Scenario) -> None:
    secrets = _secrets(scenario)
    assert scenario.errors
    for error in scenario.errors:
        text = str(error) + repr(error)
        assert not [x for x in secrets if x in text], repr(error)


def test_masked_values_hide_all_but_the_last_four(scenario: Scenario) -> None:
    flat = [x for v in scenario.returned for x in (v.items if isinstance(v, Page) else [v])]
    views = [v for v in flat if isinstance(v, LicenseKeyView)]
    masked = {v.masked_value for v in views}
    assert masked == {"*****-****-****-MB3T", "*** **** **** kp0v", "******-****-****-NN6W", None}
    for view in views:
        if view.masked_value is not None:
            assert sum(ch.isalnum() for ch in view.masked_value) == 4


def test_the_key_value_is_in_no_email_and_no_export(scenario: Scenario) -> None:
    """Installers get a code and a link, never the license key itself."""
    values = _key_secrets()
    for message in scenario.kit.mailer.sent:
        text = message.subject + message.text + message.html + json.dumps(dict(message.data))
        assert not [v for v in values if v in text], message.to
    for exported in scenario.exported:
        assert not [v for v in values if v in exported]
    assert len(scenario.exported) == 6


def test_the_emails_carry_their_codes_but_their_reprs_show_none(scenario: Scenario) -> None:
    """A message logged by ``repr`` (a failed delivery, say) must not leak what it carries."""
    secrets = _secrets(scenario)
    messages = scenario.kit.mailer.sent
    assert {m.kind for m in messages} >= {MessageKind.INSTALL_INVITATION}
    for message in messages:
        carried = [x for x in secrets if x in message.text + message.html]
        if message.kind is MessageKind.INSTALL_INVITATION:
            assert message.data["code"] in carried
        leaked = [x for x in secrets if x in repr(message)]
        assert not leaked, f"repr of a {message.kind} message to {message.to} shows {leaked}"


def test_throttle_records_name_their_bucket_and_no_secret(scenario: Scenario) -> None:
    """Unknown codes, stale installation tokens and refused codes leave separate records."""
    keys = {r.key for r in _records(scenario.kit) if type(r).__name__ == "Throttle"}
    assert "activation:client:203.0.113.9" in keys
    assert "check-in:client:203.0.113.9" in keys
    assert any(k.startswith("activation:invitation:") for k in keys)
    secrets = _secrets(scenario)
    assert not [x for k in keys for x in secrets if x in k]
