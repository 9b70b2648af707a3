"""The computer list: exporting installations as CSV, renaming computers and keeping notes on
them, and blocking a computer by its identifier before it ever activates.

The office below has two keys. Its people: the Account Administrator, a License Administrator
of each key, a Regular Member; and next door, another account with its own administrator,
key and computer.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from typing import Any, NamedTuple

import attrs
import pytest

from _racing import race
from _records import records
from licensekit import (
    AccountNotFound,
    AuditAction,
    ComputerBlocked,
    ConflictError,
    InstallationNotFound,
    InstallationStatus,
    InvalidCursor,
    LicenseKeyNotFound,
    LicenseKitError,
    PermissionDenied,
    Session,
    Settings,
    ValidationError,
)
from licensekit.storage import INSTALLATIONS
from licensekit.testing import (
    LicenseKitForTests,
    add_member,
    make_business_account,
    make_licensekit,
)

HEADER = [
    "computer_name",
    "computer_id",
    "email",
    "license_key_id",
    "product",
    "activated_at",
    "last_seen_at",
    "status",
    "notes",
    "installation_id",
]
VALUES = ("DESKTOP-VALUE-7Q2W-SECRET", "MOBILE-VALUE-9Z8X-SECRET", "NEXT-DOOR-VALUE-SECRET")


class Office(NamedTuple):
    kit: LicenseKitForTests
    admin: Session
    keeper1: Session
    """License Administrator of key1 only."""
    keeper2: Session
    """License Administrator of key2 only."""
    member: Session
    account_id: str
    key1: str
    key2: str
    code1: str
    code2: str
    outsider: Session
    """Account Administrator of the account next door."""
    other_account: str
    other_key: str
    other_installation: str


def build_office(kit: LicenseKitForTests) -> Office:
    admin, account = make_business_account(kit, name="Office Ltd")
    acc = account.id
    keeper1 = add_member(kit, admin, acc, "keeper1@example.com")
    keeper2 = add_member(kit, admin, acc, "keeper2@example.com")
    member = add_member(kit, admin, acc, "member@example.com")
    key1 = kit.add_license_key(admin, acc, product="Desktop Pro", value=VALUES[0], seats=50).id
    key2 = kit.add_license_key(admin, acc, product="Mobile", value=VALUES[1], seats=50).id
    kit.grant_license_administrator(admin, acc, keeper1.user_id, key1)
    kit.grant_license_administrator(admin, acc, keeper2.user_id, key2)
    codes = []
    for key_id, email in ((key1, "ann@example.com"), (key2, "bob@example.com")):
        kit.invite_installers(admin, acc, key_id, [email], max_activations=50)
        codes.append(kit.mailer.last(to=email).data["code"])
    outsider, other = make_business_account(
        kit, admin_email="boss@next-door.example", name="Next Door"
    )
    other_key = kit.add_license_key(
        outsider, other.id, product="Desktop Pro", value=VALUES[2], seats=5
    ).id
    kit.invite_installers(outsider, other.id, other_key, ["eve@next-door.example"])
    other_code = kit.mailer.last(to="eve@next-door.example").data["code"]
    other_installation = kit.activate(
        code=other_code, computer_id="next-door-pc", computer_name="Next door desk"
    ).installation_id
    return Office(
        kit,
        admin,
        keeper1,
        keeper2,
        member,
        acc,
        key1,
        key2,
        codes[0],
        codes[1],
        outsider,
        other.id,
        other_key,
        other_installation,
    )


@pytest.fixture
def office() -> Office:
    return build_office(make_licensekit())


def activate(o: Office, n: int, *, key: int = 1, name: str = "") -> str:
    code = o.code1 if key == 1 else o.code2
    return o.kit.activate(
        code=code, computer_id=f"SN-{key}-{n:04d}", computer_name=name
    ).installation_id


def export_all(
    kit: LicenseKitForTests, session: Session, account_id: str, **options: Any
) -> tuple[str, list[Any]]:
    """Every page of an export written one after the other, and the pages."""
    pages = [kit.export_installations(session, account_id, **options)]
    while pages[-1].next_cursor is not None:
        pages.append(
            kit.export_installations(session, account_id, cursor=pages[-1].next_cursor, **options)
        )
    return "".join(p.csv for p in pages), pages


def rows_of(text: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    assert header == HEADER
    return [dict(zip(HEADER, row, strict=True)) for row in reader]


def stored(kit: LicenseKitForTests) -> Counter[object]:
    return Counter(kit.store.dump())


def events(o: Office, action: AuditAction) -> list[Any]:
    trail = o.kit.list_audit_events(o.admin, o.account_id, limit=500).items
    return [e for e in trail if e.action is action]


# == the export ===============================================================================


def test_the_export_has_a_header_and_one_row_per_installation(office: Office) -> None:
    o = office
    first = activate(o, 1, name="Reception")
    o.kit.clock.advance(hours=2)
    activate(o, 2, key=2, name="Field tablet")
    o.kit.edit_installation(o.admin, o.account_id, first, notes="by the door")

    text, pages = export_all(o.kit, o.admin, o.account_id)

    assert len(pages) == 1
    assert pages[0].rows == 2
    assert text.startswith(",".join(HEADER) + "\r\n")
    rows = rows_of(text)
    assert rows[0] == {
        "computer_name": "Reception",
        "computer_id": "SN-1-0001",
        "email": "ann@example.com",
        "license_key_id": o.key1,
        "product": "Desktop Pro",
        "activated_at": "2030-01-01T09:00:00+00:00",
        "last_seen_at": "2030-01-01T09:00:00+00:00",
        "status": "active",
        "notes": "by the door",
        "installation_id": first,
    }
    assert (rows[1]["computer_name"], rows[1]["email"], rows[1]["license_key_id"]) == (
        "Field tablet",
        "bob@example.com",
        o.key2,
    )
    assert rows[1]["activated_at"] == "2030-01-01T11:00:00+00:00"


def test_a_key_export_holds_that_key_only(office: Office) -> None:
    o = office
    activate(o, 1)
    activate(o, 1, key=2)

    rows = rows_of(export_all(o.kit, o.admin, o.account_id, key_id=o.key2)[0])

    assert [(r["computer_id"], r["license_key_id"]) for r in rows] == [("SN-2-0001", o.key2)]


def test_an_account_without_installations_exports_the_header_alone(office: Office) -> None:
    page = office.kit.export_installations(office.admin, office.account_id)
    assert (page.csv, page.rows, page.next_cursor) == (",".join(HEADER) + "\r\n", 0, None)


@pytest.mark.parametrize(
    ("name", "cell"),
    [
        (
            '=HYPERLINK("http://evil.example","click")',
            '\'=HYPERLINK("http://evil.example","click")',
        ),
        ("=1+1", "'=1+1"),
        ("+SUM(A1:A9)", "'+SUM(A1:A9)"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("Acme, Ltd", "Acme, Ltd"),
        ('say "hi"', 'say "hi"'),
        ("Zoë's laptop 💻", "Zoë's laptop 💻"),
        ("会議室のPC", "会議室のPC"),
        ("a = b", "a = b"),
    ],
)
def test_computer_names_are_quoted_and_made_inert(office: Office, name: str, cell: str) -> None:
    o = office
    activate(o, 1, name=name)

    text = export_all(o.kit, o.admin, o.account_id)[0]

    assert rows_of(text)[0]["computer_name"] == cell
    if "," in name or '"' in name:
        assert '"' + cell.replace('"', '""') + '"' in text


def test_notes_with_line_breaks_commas_and_formulas_round_trip(office: Office) -> None:
    o = office
    installation = activate(o, 1)
    notes = '-first line, with a comma\r\nsecond "quoted" line\n=third'
    o.kit.edit_installation(o.admin, o.account_id, installation, notes=notes)

    rows = rows_of(export_all(o.kit, o.admin, o.account_id)[0])

    assert rows[0]["notes"] == "'" + notes
    assert len(rows) == 1


def test_leading_tabs_and_carriage_returns_never_reach_a_cell(office: Office) -> None:
    """The name checks drop them; a record planted with them (a host's own import) is made
    inert by the export itself."""
    o = office
    cleaned = activate(o, 1, name="\t=cmd|' /C calc'!A0")
    planted = activate(o, 2)
    with records(o.kit.store) as tx:
        record = tx.get(INSTALLATIONS, planted)
        tx.save(INSTALLATIONS, attrs.evolve(record, computer_name="\t=1+2", notes="\r@SUM(1)"))

    rows = {r["installation_id"]: r for r in rows_of(export_all(o.kit, o.admin, o.account_id)[0])}

    assert rows[cleaned]["computer_name"] == "'=cmd|' /C calc'!A0"
    assert rows[planted]["computer_name"] == "'\t=1+2"
    assert rows[planted]["notes"] == "'\r@SUM(1)"


def test_the_key_value_never_appears(office: Office) -> None:
    o = office
    for n in range(3):
        activate(o, n, name=f"pc {n}")
        activate(o, n, key=2)
    o.kit.deactivate_installation(o.admin, o.account_id, activate(o, 9))

    texts = [
        export_all(o.kit, session, o.account_id, include_inactive=everything, limit=2)[0]
        for session in (o.admin, o.keeper1)
        for everything in (False, True)
    ]
    texts.append(export_all(o.kit, o.admin, o.account_id, key_id=o.key1)[0])

    masked = o.kit.get_license_key(o.admin, o.account_id, o.key1).masked_value
    assert masked
    for text in texts:
        for value in VALUES:
            assert value not in text
            assert value.split("-")[2] not in text
        assert masked not in text


def test_pages_follow_keys_then_installations_and_make_one_file(office: Office) -> None:
    o = office
    desktop = [activate(o, n) for n in range(5)]
    mobile = [activate(o, n, key=2) for n in range(3)]

    whole = o.kit.export_installations(o.admin, o.account_id)
    text, pages = export_all(o.kit, o.admin, o.account_id, limit=2)

    assert text == whole.csv
    assert [p.rows for p in pages] == [2, 2, 2, 2]
    assert [r["installation_id"] for r in rows_of(text)] == desktop + mobile
    assert pages[0].csv.startswith("computer_name,")
    assert not any(p.csv.startswith("computer_name,") for p in pages[1:])
    assert pages[-1].next_cursor is None


def test_a_page_that_ends_with_a_key_says_whether_another_key_has_more(office: Office) -> None:
    o = office
    for n in range(2):
        activate(o, n)

    only_key1 = o.kit.export_installations(o.admin, o.account_id, limit=2)
    assert (only_key1.rows, only_key1.next_cursor) == (2, None)

    later = activate(o, 0, key=2)
    first = o.kit.export_installations(o.admin, o.account_id, limit=2)
    assert first.rows == 2
    assert first.next_cursor is not None
    second = o.kit.export_installations(o.admin, o.account_id, limit=2, cursor=first.next_cursor)
    assert (second.rows, second.next_cursor) == (1, None)
    assert later in second.csv


def test_the_default_page_is_the_largest_a_listing_allows() -> None:
    kit = make_licensekit(settings=Settings(max_page_size=20))
    o = build_office(kit)
    made = [activate(o, n) for n in range(45)]

    text, pages = export_all(kit, o.admin, o.account_id)

    assert [p.rows for p in pages] == [20, 20, 5]
    assert [r["installation_id"] for r in rows_of(text)] == made
    with pytest.raises(ValidationError, match="limit"):
        kit.export_installations(o.admin, o.account_id, limit=21)


def test_inactive_installations_are_exported_when_asked_with_their_status() -> None:
    kit = make_licensekit(settings=Settings(session_lifetime=dt.timedelta(days=30)))
    o = build_office(kit)
    kit.change_license_key(
        o.admin,
        o.account_id,
        o.key1,
        dead_after=dt.timedelta(days=3),
        check_in_interval=dt.timedelta(hours=12),
    )
    late = activate(o, 1)
    gone = activate(o, 2)
    culled = activate(o, 3)
    kit.deactivate_installation(o.admin, o.account_id, gone)
    kit.clock.advance(days=1)
    fresh = activate(o, 4)
    kit.clock.advance(days=2, hours=1)
    assert kit.cull_installations().culled == 2

    active_only = {
        r["installation_id"]: r["status"]
        for r in rows_of(export_all(kit, o.admin, o.account_id)[0])
    }
    everything = {
        r["installation_id"]: r["status"]
        for r in rows_of(export_all(kit, o.admin, o.account_id, include_inactive=True)[0])
    }

    assert everything[gone] == "deactivated"
    assert everything[culled] == "culled"
    assert everything[late] == "culled"
    assert everything[fresh] == "overdue"
    assert active_only == {fresh: "overdue"}


@pytest.mark.parametrize("limit", [0, -1, True, "10", 1.5])
def test_a_bad_limit_is_refused(office: Office, limit: object) -> None:
    with pytest.raises(ValidationError, match="limit"):
        office.kit.export_installations(office.admin, office.account_id, limit=limit)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "cursor",
    ["", "ins_1", "key_1", "key_1/", "/ins_1", "key_1/evt_1", 42, ["key_1/ins_1"]],
)
def test_a_cursor_that_is_not_the_exports_is_refused(office: Office, cursor: object) -> None:
    with pytest.raises(InvalidCursor):
        office.kit.export_installations(office.admin, office.account_id, cursor=cursor)  # type: ignore[arg-type]


def test_a_cursor_of_another_keys_export_is_refused(office: Office) -> None:
    o = office
    for n in range(3):
        activate(o, n)
    page = o.kit.export_installations(o.admin, o.account_id, key_id=o.key1, limit=1)
    assert page.next_cursor is not None

    with pytest.raises(InvalidCursor):
        o.kit.export_installations(o.admin, o.account_id, key_id=o.key2, cursor=page.next_cursor)


def test_only_the_first_page_is_audited(office: Office) -> None:
    o = office
    for n in range(5):
        activate(o, n)

    export_all(o.kit, o.admin, o.account_id, limit=2)
    export_all(o.kit, o.keeper1, o.account_id, key_id=o.key1, include_inactive=True)

    exported = events(o, AuditAction.INSTALLATIONS_EXPORTED)
    assert [(e.subject, e.details) for e in exported] == [
        (o.account_id, {"scope": "account", "include_inactive": "no"}),
        (o.key1, {"scope": o.key1, "include_inactive": "yes"}),
    ]


@pytest.mark.parametrize("value", ["no", 1, None])
def test_include_inactive_must_be_true_or_false(office: Office, value: object) -> None:
    with pytest.raises(ValidationError, match="include_inactive"):
        office.kit.export_installations(office.admin, office.account_id, include_inactive=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [1, ["x"], b"key"])
def test_a_key_id_that_is_not_text_is_refused(office: Office, value: object) -> None:
    with pytest.raises(ValidationError, match="key_id"):
        office.kit.export_installations(office.admin, office.account_id, key_id=value)  # type: ignore[arg-type]


# -- who may export -----------------------------------------------------------------------------


def _exporter(o: Office, who: str) -> Session:
    return {
        "Account Administrator": o.admin,
        "License Administrator of key1": o.keeper1,
        "License Administrator of key2": o.keeper2,
        "Regular Member": o.member,
        "administrator of another account": o.outsider,
    }[who]


@pytest.mark.parametrize(
    ("who", "scope", "outcome"),
    [
        ("Account Administrator", "account", {"SN-1-0001", "SN-2-0001"}),
        ("Account Administrator", "key1", {"SN-1-0001"}),
        ("Account Administrator", "key2", {"SN-2-0001"}),
        ("License Administrator of key1", "key1", {"SN-1-0001"}),
        ("License Administrator of key1", "account", {"SN-1-0001"}),
        ("License Administrator of key1", "key2", PermissionDenied),
        ("License Administrator of key2", "account", {"SN-2-0001"}),
        ("License Administrator of key2", "key1", PermissionDenied),
        ("Regular Member", "account", PermissionDenied),
        ("Regular Member", "key1", PermissionDenied),
        ("administrator of another account", "account", AccountNotFound),
        ("administrator of another account", "key1", AccountNotFound),
    ],
)
def test_who_may_export_what(office: Office, who: str, scope: str, outcome: object) -> None:
    o = office
    activate(o, 1, name="desk one")
    activate(o, 1, key=2, name="tablet one")
    key_id = {"account": None, "key1": o.key1, "key2": o.key2}[scope]
    session = _exporter(o, who)

    if isinstance(outcome, set):
        text = export_all(o.kit, session, o.account_id, key_id=key_id, limit=1)[0]
        assert {r["computer_id"] for r in rows_of(text)} == outcome
        return
    before = stored(o.kit)
    with pytest.raises(LicenseKitError) as info:
        o.kit.export_installations(session, o.account_id, key_id=key_id)
    assert type(info.value) is outcome
    assert stored(o.kit) == before
    assert "desk one" not in str(info.value)


def test_a_license_administrator_without_keys_is_refused_the_account_export(office: Office) -> None:
    o = office
    o.kit.revoke_license_administrator(o.admin, o.account_id, o.keeper1.user_id, o.key1)
    with pytest.raises(PermissionDenied, match="computer list"):
        o.kit.export_installations(o.keeper1, o.account_id)


def test_another_accounts_ids_find_nothing(office: Office) -> None:
    o = office
    activate(o, 1, name="desk one")

    with pytest.raises(LicenseKeyNotFound):
        o.kit.export_installations(o.outsider, o.other_account, key_id=o.key1)
    text = export_all(o.kit, o.outsider, o.other_account)[0]
    assert [r["computer_id"] for r in rows_of(text)] == ["next-door-pc"]
    assert "desk one" not in text
    assert "ann@example.com" not in text


def test_a_cursor_from_another_accounts_export_shows_nothing_of_it(office: Office) -> None:
    o = office
    for n in range(3):
        activate(o, n, name=f"office desk {n}")
    page = o.kit.export_installations(o.admin, o.account_id, limit=1)
    assert page.next_cursor is not None

    text = o.kit.export_installations(o.outsider, o.other_account, cursor=page.next_cursor).csv

    assert "office desk" not in text
    assert "ann@example.com" not in text


# == renaming and notes =======================================================================


def test_an_administrator_renames_a_computer_and_keeps_notes(office: Office) -> None:
    o = office
    installation = activate(o, 1, name="DESKTOP-8F3K2")

    view = o.kit.edit_installation(
        o.admin,
        o.account_id,
        installation,
        computer_name="  Reception   PC ",
        notes=" Front desk\nasset 114 ",
    )

    assert (view.computer_name, view.notes) == ("Reception PC", "Front desk\nasset 114")
    listed = o.kit.list_installations(o.admin, o.account_id, o.key1).items[0]
    assert (listed.computer_name, listed.notes) == ("Reception PC", "Front desk\nasset 114")
    (event,) = events(o, AuditAction.INSTALLATION_EDITED)
    assert event.subject == installation
    assert event.details == {
        "key_id": o.key1,
        "computer_id": "SN-1-0001",
        "computer_name_from": "DESKTOP-8F3K2",
        "computer_name_to": "Reception PC",
        "notes_from": "",
        "notes_to": "Front desk\nasset 114",
    }


def test_an_edit_records_only_what_changed(office: Office) -> None:
    o = office
    installation = activate(o, 1, name="desk")
    o.kit.edit_installation(o.admin, o.account_id, installation, notes="first")

    o.kit.edit_installation(
        o.admin, o.account_id, installation, notes="second", computer_name="desk"
    )
    o.kit.edit_installation(o.admin, o.account_id, installation, computer_name="desk 2")

    details = [e.details for e in events(o, AuditAction.INSTALLATION_EDITED)]
    assert [{k: v for k, v in d.items() if k.endswith(("_from", "_to"))} for d in details] == [
        {"notes_from": "", "notes_to": "first"},
        {"notes_from": "first", "notes_to": "second"},
        {"computer_name_from": "desk", "computer_name_to": "desk 2"},
    ]


def test_an_edit_that_changes_nothing_writes_nothing(office: Office) -> None:
    o = office
    installation = activate(o, 1, name="desk")
    o.kit.edit_installation(o.admin, o.account_id, installation, notes="kept")
    before = stored(o.kit)

    view = o.kit.edit_installation(
        o.admin, o.account_id, installation, computer_name=" desk ", notes="kept "
    )

    assert (view.computer_name, view.notes) == ("desk", "kept")
    assert stored(o.kit) == before


def test_notes_and_an_empty_name_can_be_cleared(office: Office) -> None:
    o = office
    installation = activate(o, 1, name="desk")
    o.kit.edit_installation(o.admin, o.account_id, installation, notes="temporary")

    view = o.kit.edit_installation(o.admin, o.account_id, installation, computer_name="", notes="")

    assert (view.computer_name, view.notes) == ("", "")


def test_a_deactivated_installation_can_be_edited(office: Office) -> None:
    o = office
    installation = activate(o, 1)
    o.kit.deactivate_installation(o.admin, o.account_id, installation)

    view = o.kit.edit_installation(o.admin, o.account_id, installation, notes="returned to IT")

    assert (view.status, view.notes) == (InstallationStatus.DEACTIVATED, "returned to IT")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "computer_name, notes"),
        ({"computer_name": "x" * 201}, "computer_name must be at most 200"),
        ({"computer_name": "bad\x00name"}, "computer_name"),
        ({"computer_name": "bad\u202ename"}, "computer_name"),
        ({"computer_name": "zero\u200bwidth"}, "computer_name"),
        ({"computer_name": "lone \udc80"}, "computer_name"),
        ({"computer_name": 42}, "computer_name must be text"),
        ({"notes": "n" * 2001}, "notes must be at most 2000"),
        ({"notes": "nul\x00"}, "NUL"),
        ({"notes": "lone \ud83d"}, "surrogate"),
        ({"notes": ["list"]}, "notes must be text"),
    ],
)
def test_a_bad_edit_is_refused_and_changes_nothing(
    office: Office, arguments: dict[str, object], message: str
) -> None:
    o = office
    installation = activate(o, 1, name="desk")
    before = stored(o.kit)

    with pytest.raises(ValidationError, match=message):
        o.kit.edit_installation(o.admin, o.account_id, installation, **arguments)  # type: ignore[arg-type]

    assert stored(o.kit) == before


def test_the_longest_name_and_notes_are_accepted(office: Office) -> None:
    o = office
    installation = activate(o, 1)
    view = o.kit.edit_installation(
        o.admin, o.account_id, installation, computer_name="n" * 200, notes="x" * 2000
    )
    assert (len(view.computer_name), len(view.notes)) == (200, 2000)


def test_notes_never_reach_the_installed_product(office: Office) -> None:
    o = office
    activation = o.kit.activate(code=o.code1, computer_id="SN-NOTES", computer_name="desk")
    o.kit.edit_installation(
        o.admin, o.account_id, activation.installation_id, notes="user is on notice"
    )

    checked = o.kit.check_in(activation.installation_token)

    assert checked.installation.notes == ""
    assert "notice" not in repr(checked)
    deactivated = o.kit.deactivate_installation(o.admin, o.account_id, activation.installation_id)
    assert deactivated.notes == "user is on notice"


def test_a_new_activation_reporting_a_name_replaces_the_administrators_name(
    office: Office,
) -> None:
    """Documented: the latest name wins. An activation that reports no name keeps the
    administrator's; the notes survive every activation."""
    o = office
    installation = activate(o, 1, name="DESKTOP-8F3K2")
    o.kit.edit_installation(
        o.admin, o.account_id, installation, computer_name="Reception", notes="asset 114"
    )

    o.kit.activate(code=o.code1, computer_id="SN-1-0001")
    kept = o.kit.list_installations(o.admin, o.account_id, o.key1).items[0]
    assert (kept.computer_name, kept.notes) == ("Reception", "asset 114")

    o.kit.deactivate_installation(o.admin, o.account_id, installation)
    o.kit.activate(code=o.code1, computer_id="SN-1-0001", computer_name="DESKTOP-NEW")
    renamed = o.kit.list_installations(o.admin, o.account_id, o.key1).items[0]
    assert (renamed.id, renamed.computer_name, renamed.notes) == (
        installation,
        "DESKTOP-NEW",
        "asset 114",
    )


# -- who may edit ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "target", "outcome"),
    [
        ("Account Administrator", "key1", None),
        ("Account Administrator", "key2", None),
        ("License Administrator of key1", "key1", None),
        ("License Administrator of key1", "key2", PermissionDenied),
        ("License Administrator of key2", "key1", PermissionDenied),
        ("Regular Member", "key1", PermissionDenied),
        ("administrator of another account", "key1", AccountNotFound),
    ],
)
def test_who_may_edit(
    office: Office, who: str, target: str, outcome: type[Exception] | None
) -> None:
    o = office
    installation = activate(o, 1, key=1 if target == "key1" else 2, name="desk")
    session = _exporter(o, who)
    if outcome is None:
        view = o.kit.edit_installation(session, o.account_id, installation, notes="seen")
        assert view.notes == "seen"
        return
    before = stored(o.kit)
    with pytest.raises(LicenseKitError) as info:
        o.kit.edit_installation(session, o.account_id, installation, notes="intruder")
    assert type(info.value) is outcome
    assert stored(o.kit) == before


def test_another_accounts_installation_is_not_found(office: Office) -> None:
    o = office
    mine = activate(o, 1)
    before = stored(o.kit)

    with pytest.raises(InstallationNotFound):
        o.kit.edit_installation(o.outsider, o.other_account, mine, notes="intruder")
    with pytest.raises(InstallationNotFound):
        o.kit.edit_installation(o.admin, o.account_id, o.other_installation, notes="intruder")

    assert stored(o.kit) == before


# == blocking a computer by its identifier ========================================================


def test_a_computer_blocked_before_it_ever_activated_is_refused(office: Office) -> None:
    o = office
    kit = o.kit
    block = kit.block_computer_id(o.admin, o.account_id, " SN-STOLEN ", notes="stolen laptop")
    assert (block.computer_id, block.key_id, block.notes) == ("SN-STOLEN", None, "stolen laptop")
    seats_before = kit.get_license_key(o.admin, o.account_id, o.key1).seats_used

    for code in (o.code1, o.code2):
        with pytest.raises(ComputerBlocked):
            kit.activate(code=code, computer_id="SN-STOLEN")
    assert kit.get_license_key(o.admin, o.account_id, o.key1).seats_used == seats_before

    other = kit.activate(code=o.code1, computer_id="SN-FINE")
    assert other.installation_id

    kit.unblock_computer(o.admin, o.account_id, "SN-STOLEN")
    again = kit.activate(code=o.code1, computer_id="SN-STOLEN", computer_name="found again")
    listed = {i.computer_id for i in kit.list_installations(o.admin, o.account_id, o.key1).items}
    assert listed == {"SN-FINE", "SN-STOLEN"}
    assert again.installation_id


def test_a_license_administrator_blocks_an_unseen_computer_under_their_key(office: Office) -> None:
    o = office
    block = o.kit.block_computer_id(o.keeper1, o.account_id, "SN-LOANER", key_id=o.key1)
    assert block.key_id == o.key1

    with pytest.raises(ComputerBlocked):
        o.kit.activate(code=o.code1, computer_id="SN-LOANER")
    assert o.kit.activate(code=o.code2, computer_id="SN-LOANER").installation_id

    listed = o.kit.list_blocked_computers(o.keeper1, o.account_id).items
    assert [(b.computer_id, b.key_id) for b in listed] == [("SN-LOANER", o.key1)]
    o.kit.unblock_computer(o.keeper1, o.account_id, "SN-LOANER", key_id=o.key1)
    assert o.kit.activate(code=o.code1, computer_id="SN-LOANER").installation_id


def test_blocking_by_identifier_frees_the_seats_it_holds(office: Office) -> None:
    o = office
    kit = o.kit
    activate(o, 7)
    activate(o, 7, key=2)
    kit.activate(code=o.code2, computer_id="SN-1-0007")
    used = {k: kit.get_license_key(o.admin, o.account_id, k).seats_used for k in (o.key1, o.key2)}

    kit.block_computer_id(o.admin, o.account_id, "SN-1-0007")

    after = {k: kit.get_license_key(o.admin, o.account_id, k).seats_used for k in (o.key1, o.key2)}
    assert after == {o.key1: used[o.key1] - 1, o.key2: used[o.key2] - 1}
    (event,) = events(o, AuditAction.COMPUTER_BLOCKED)
    assert event.subject == "SN-1-0007"
    assert event.details["scope"] == "account"
    assert len(event.details["deactivated"].split()) == 2
    assert "installation_id" not in event.details


def test_a_computer_is_blocked_once_per_scope(office: Office) -> None:
    o = office
    o.kit.block_computer_id(o.admin, o.account_id, "SN-X")
    o.kit.block_computer_id(o.admin, o.account_id, "SN-X", key_id=o.key1)
    before = stored(o.kit)

    with pytest.raises(ConflictError, match="already"):
        o.kit.block_computer_id(o.admin, o.account_id, "SN-X")
    with pytest.raises(ConflictError, match="already"):
        o.kit.block_computer_id(o.keeper1, o.account_id, "SN-X", key_id=o.key1)

    assert stored(o.kit) == before


@pytest.mark.parametrize(
    ("computer_id", "message"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("a\tb", "printable"),
        ("x" * 201, "printable"),
        (42, "computer_id must be text"),
    ],
)
def test_a_bad_computer_id_is_refused(office: Office, computer_id: object, message: str) -> None:
    before = stored(office.kit)
    with pytest.raises(ValidationError, match=message):
        office.kit.block_computer_id(office.admin, office.account_id, computer_id)  # type: ignore[arg-type]
    assert stored(office.kit) == before


@pytest.mark.parametrize(
    ("who", "scope", "outcome"),
    [
        ("Account Administrator", "account", None),
        ("Account Administrator", "key1", None),
        ("License Administrator of key1", "key1", None),
        ("License Administrator of key1", "account", PermissionDenied),
        ("License Administrator of key1", "key2", PermissionDenied),
        ("Regular Member", "key1", PermissionDenied),
        ("Regular Member", "account", PermissionDenied),
        ("administrator of another account", "account", AccountNotFound),
        ("administrator of another account", "key1", AccountNotFound),
    ],
)
def test_who_may_block_by_identifier(
    office: Office, who: str, scope: str, outcome: type[Exception] | None
) -> None:
    o = office
    key_id = {"account": None, "key1": o.key1, "key2": o.key2}[scope]
    session = _exporter(o, who)
    if outcome is None:
        block = o.kit.block_computer_id(session, o.account_id, "SN-BANNED", key_id=key_id)
        assert block.key_id == key_id
        return
    before = stored(o.kit)
    with pytest.raises(LicenseKitError) as info:
        o.kit.block_computer_id(session, o.account_id, "SN-BANNED", key_id=key_id)
    assert type(info.value) is outcome
    assert stored(o.kit) == before


def test_another_accounts_key_is_not_found_for_a_block(office: Office) -> None:
    o = office
    before = stored(o.kit)
    with pytest.raises(LicenseKeyNotFound):
        o.kit.block_computer_id(o.outsider, o.other_account, "SN-1", key_id=o.key1)
    assert stored(o.kit) == before
    # A block in the account next door does not reach this one.
    o.kit.block_computer_id(o.outsider, o.other_account, "SN-SHARED")
    assert o.kit.activate(code=o.code1, computer_id="SN-SHARED").installation_id


# == under concurrency ==========================================================================


@pytest.mark.parametrize("round_", range(8))
def test_a_computer_blocked_while_it_activates_never_keeps_a_seat(
    office: Office, round_: int
) -> None:
    """Whichever comes first, the block wins: an activation before it is deactivated by it,
    one after it is refused."""
    o = office
    kit = o.kit
    computer = f"SN-RACE-{round_}"
    seats = kit.get_license_key(o.admin, o.account_id, o.key1).seats_used

    results = race(
        [
            lambda: kit.activate(code=o.code1, computer_id=computer),
            lambda: kit.block_computer_id(o.admin, o.account_id, computer),
            lambda: kit.activate(code=o.code1, computer_id=computer),
        ]
    )

    assert not isinstance(results[1], BaseException), results
    assert all(
        isinstance(r, ComputerBlocked) or not isinstance(r, BaseException) for r in results
    ), results
    everything = kit.list_installations(o.admin, o.account_id, o.key1, include_inactive=True)
    mine = [i for i in everything.items if i.computer_id == computer]
    assert all(i.status is not InstallationStatus.ACTIVE for i in mine)
    assert kit.get_license_key(o.admin, o.account_id, o.key1).seats_used == seats


def test_an_edit_and_activations_of_the_same_computer_keep_each_others_changes(
    office: Office,
) -> None:
    """Activations rewrite the installation (a new token): the notes an edit wrote at the same
    time survive them."""
    o = office
    kit = o.kit
    installation = activate(o, 1, name="desk")

    results = race(
        [
            *(lambda: kit.activate(code=o.code1, computer_id="SN-1-0001") for _ in range(3)),
            lambda: kit.edit_installation(o.admin, o.account_id, installation, notes="asset 114"),
        ]
    )

    assert not any(isinstance(r, BaseException) for r in results), results
    listed = kit.list_installations(o.admin, o.account_id, o.key1).items
    assert [(i.id, i.computer_name, i.notes) for i in listed] == [
        (installation, "desk", "asset 114")
    ]
