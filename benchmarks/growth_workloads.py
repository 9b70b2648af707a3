"""Growth: what one activation, one check-in and one page of each listing cost as a database
grows from *small* to *large* (1,000 to 1,000,000), measured side by side.

Both databases have the same shape (:func:`build`), made once per run with direct SQL into
the tables a :class:`~licensekit.SQLiteStore` made, then copied for each use:

* one business account holds most of the data on one large license key (the one the probes
  use), with three smaller keys beside it, and a second account with two keys: 90% of the
  invitations to install and installations are the large key's;
* *n* invitations to install over two years: most used up, some revoked, some that expired
  unused, and those of the last two weeks still live (sent, pending, partly activated);
* *n* installations with random hardware-like computer ids (``1F3A-09C2-77D0-B4E1`` or a
  serial number), most active, some deactivated or culled;
* an audit row for every invitation made and every installation activated, join
  invitations (a tenth of *n*), members (a twentieth) and computer blocks (a twentieth).

The probes alternate between the small and the large database, one call each, so that the
machine's noise hits both alike; each row reports the large database's median against the
small one's, with a target of 1.2. A listing is probed at its first page, a page from the
middle (a cursor half-way through) and the pages its filters read (a state, a status).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from _harness import (
    ADMIN,
    Result,
    licensing,
    median_of,
    new_kit,
    sqlite_store,
    tempfile_dir,
    timed,
)

from licensekit import LicenseKit
from licensekit.stores._rows import encode_datetime

__all__ = ["build", "growth"]

PAGE = 20
"""The page size of every listing probe (the small database fills every probed page)."""

LIFETIME = dt.timedelta(days=14)
"""How long the built invitations to install work."""

HISTORY = dt.timedelta(days=730)
"""How far back the built records go."""

NOTED_AFTER = dt.timedelta(hours=1)
"""How long after its expiry an expired invitation of the data set was noted by a listing."""

_BUILT: dict[int, Path] = {}
"""The databases built in this run, by size: copied for each use, never measured as built."""


# -- building a database of a given size ------------------------------------------------------


@dataclass
class Built:
    """A built database and what the probes need to find their way in it."""

    path: Path
    size: int
    account_id: str
    key_id: str
    middles: dict[str, str] = field(default_factory=dict)
    """A cursor half-way through each listing, by probe name."""


class _Ids:
    """Time-ordered ids shaped like licensekit's: prefix, milliseconds, counter, noise."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._last = (0, 0)

    def new(self, prefix: str, moment: dt.datetime) -> str:
        ms = int(moment.timestamp() * 1000)
        counter = self._last[1] + 1 if ms == self._last[0] else 0
        self._last = (ms, counter)
        return f"{prefix}_{ms:012x}_{counter:06x}_{self._rng.getrandbits(40):010x}"


def _computer_id(rng: random.Random, n: int) -> str:
    """A hardware id (four groups of hex) or, for one in five, a serial number."""
    if n % 5 == 4:
        return f"SN{rng.getrandbits(40):012d}-{n:07d}"
    bits = f"{rng.getrandbits(64):016X}"
    return f"{bits[0:4]}-{bits[4:8]}-{bits[8:12]}-{bits[12:16]}"


def _columns(connection: sqlite3.Connection, table: str) -> list[str]:
    return [str(row[1]) for row in connection.execute(f"PRAGMA table_info({table})")]


def _insert(connection: sqlite3.Connection, table: str, rows: Iterator[dict[str, object]]) -> None:
    columns = _columns(connection, table)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    connection.executemany(sql, (tuple(row[c] for c in columns) for row in rows))


def _when(start: dt.datetime, n: int, count: int) -> dt.datetime:
    """The moment of the *n*-th of *count* records spread evenly over the history."""
    return start + HISTORY * (n / max(count, 1))


def build(folder: Path, size: int, seed: int = 7) -> Built:
    """Make a database of *size* invitations and installations (see the module docstring)."""
    path = folder / f"growth-{size}.db"
    bench = licensing(new_kit(sqlite_store(path, "normal")), 10)
    kit, admin = bench.kit, bench.admin
    keys = [bench.key_id]
    keys += [
        kit.add_license_key(
            admin, bench.account_id, product=f"Side {n}", value=f"SIDE-{n}", seats=50
        ).id
        for n in range(3)
    ]
    other = kit.create_business_account(admin, "Other Corp")
    keys += [
        kit.add_license_key(admin, other.id, product=f"Other {n}", value=f"OTHER-{n}", seats=50).id
        for n in range(2)
    ]
    accounts = dict.fromkeys(keys[:4], bench.account_id) | dict.fromkeys(keys[4:], other.id)
    admin_id = kit.log_in(*ADMIN).user_id
    kit.store.close()  # type: ignore[attr-defined]

    rng = random.Random(seed)
    ids = _Ids(rng)
    now = dt.datetime.now(dt.UTC)
    start = now - HISTORY
    iso = encode_datetime
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("PRAGMA cache_size = -400000")
    connection.execute("BEGIN")
    big, middles = keys[0], {}

    def key_of(n: int) -> str:
        return big if n % 10 else keys[1 + (n // 10) % (len(keys) - 1)]

    # Invitations to install: (id, key, phase) kept for the installations and audit rows.
    invitations: list[tuple[str, str, dt.datetime]] = []
    live_from = size - max(int(size * 0.13), 1)  # the last 13% were made in the last 2 weeks

    def invitation_rows() -> Iterator[dict[str, object]]:
        for n in range(size):
            if n < live_from:
                created = _when(start, n, live_from)
            else:
                created = now - LIFETIME + (LIFETIME * ((n - live_from) / (size - live_from)))
            created = min(created, now - dt.timedelta(seconds=1))
            invitation_id = ids.new("inst", created)
            key_id = key_of(n)
            invitations.append((invitation_id, key_id, created))
            live = n >= live_from
            kind = n % 100
            row: dict[str, object] = {
                "id": invitation_id,
                "account_id": accounts[key_id],
                "key_id": key_id,
                "email": f"installer{n}@example.com",
                "language": "en",
                "invited_by": admin_id,
                "created_at": iso(created),
                "expires_at": iso(created + LIFETIME),
                "code_hash": rng.randbytes(32),
                "token_hash": rng.randbytes(32),
                "secret_ciphertext": rng.randbytes(72),
                "max_activations": 1,
                "activations": 0,
                "computer_ids": "[]",
                "last_activated_at": None,
                "revoked_at": None,
                "revoked_by": None,
                "sent_count": 1,
                "last_sent_at": iso(created),
                "delivery": "sent",
                "delivery_attempts": 1,
                "delivery_error": "",
                "delivery_started_at": iso(created),
                "expiry_noted_at": None,
            }
            if live and kind < 40:  # live: sent, waiting
                pass
            elif live and kind < 60:  # live: not sent yet
                row.update(sent_count=0, last_sent_at=None, delivery="not_sent")
                row.update(delivery_attempts=0, delivery_started_at=None)
            elif live and kind < 80:  # live: one of three computers activated
                row.update(max_activations=3, activations=1, computer_ids='["A"]')
                row.update(last_activated_at=iso(created))
            elif kind < 6:  # revoked
                row.update(revoked_at=iso(created), revoked_by=admin_id)
            elif not live and kind < 20:  # expired unused, noted by a listing since
                row.update(expiry_noted_at=iso(min(created + LIFETIME + NOTED_AFTER, now)))
            else:  # used up
                row.update(activations=1, computer_ids='["B"]', last_activated_at=iso(created))
            yield row

    _insert(connection, "install_invitations", invitation_rows())
    middles["install_invitations"] = sorted(i for i, k, _ in invitations if k == big)[
        len([1 for _, k, _ in invitations if k == big]) // 2
    ]

    installations: list[tuple[str, str, dt.datetime]] = []

    def installation_rows() -> Iterator[dict[str, object]]:
        for n, (invitation_id, key_id, created) in enumerate(invitations):
            activated = created + dt.timedelta(hours=1)
            installation_id = ids.new("ins", min(activated, now))
            installations.append((installation_id, key_id, activated))
            status = "active" if n % 20 else ("deactivated" if n % 40 else "culled")
            yield {
                "id": installation_id,
                "account_id": accounts[key_id],
                "key_id": key_id,
                "computer_id": _computer_id(rng, n),
                "computer_name": f"DESKTOP-{rng.getrandbits(24):06X}",
                "email": f"installer{n}@example.com",
                "invitation_id": invitation_id,
                "activated_at": iso(activated),
                "last_seen_at": iso(now - dt.timedelta(seconds=rng.randrange(86_400 * 30))),
                "token_hash": rng.randbytes(32),
                "status": status,
                "deactivated_at": None if status == "active" else iso(activated),
                "deactivated_by": None if status != "deactivated" else admin_id,
                "last_state": "active" if status == "active" else "deactivated",
                "notes": "",
            }

    # Installations were made in the order of their invitations, so sorting them by id
    # (time) first makes the inserts append to the key's pages.
    _insert(connection, "installations", installation_rows())
    on_big = sorted(i for i, k, _ in installations if k == big)
    middles["installations"] = on_big[len(on_big) // 2]
    active = dict.fromkeys(keys, 0)
    for n, (_, key_id, _) in enumerate(installations):
        active[key_id] += 1 if n % 20 else 0
    for key_id, used in active.items():
        connection.execute(
            "UPDATE license_keys SET seats = ?, seats_used = ? WHERE id = ?",
            (used + 100_000, used, key_id),
        )

    def audit_rows() -> Iterator[dict[str, object]]:
        made = [(c, "install_invitation.created", i, k) for i, k, c in invitations]
        made += [(a, "installation.activated", i, k) for i, k, a in installations]
        made.sort()
        for moment, action, subject, key_id in made:
            yield {
                "id": ids.new("evt", min(moment, now)),
                "account_id": accounts[key_id],
                "at": iso(min(moment, now)),
                "actor_id": admin_id,
                "action": action,
                "subject": subject,
                "details": json.dumps({"key_id": key_id}, separators=(",", ":")),
            }

    events: list[str] = []

    def audit_kept() -> Iterator[dict[str, object]]:
        for row in audit_rows():
            if row["account_id"] == bench.account_id:
                events.append(str(row["id"]))
            yield row

    _insert(connection, "audit_events", audit_kept())
    middles["audit_events"] = events[len(events) // 2]
    del invitations[:], installations[:]

    joins: list[str] = []

    def join_rows() -> Iterator[dict[str, object]]:
        count = max(size // 10, 1)
        live_join = count - max(count // 10, PAGE + 1)  # enough to fill a page, even small
        for n in range(count):
            created = _when(start, n, count) if n < live_join else now - dt.timedelta(days=1)
            join_id = ids.new("jinv", created)
            joins.append(join_id)
            kind = n % 20
            yield {
                "id": join_id,
                "account_id": bench.account_id,
                "email": f"joiner{n}@example.com",
                "language": "en",
                "invited_by": admin_id,
                "created_at": iso(created),
                "expires_at": iso(created + dt.timedelta(days=7)),
                "token_hash": rng.randbytes(32),
                "token_ciphertext": rng.randbytes(48),
                "accepted_at": iso(created) if kind >= 8 and n < live_join else None,
                "accepted_by": admin_id if kind >= 8 and n < live_join else None,
                "revoked_at": iso(created) if kind == 1 else None,
                "revoked_by": admin_id if kind == 1 else None,
                "sent_count": 1,
                "last_sent_at": iso(created),
                "delivery": "sent",
                "delivery_attempts": 1,
                "delivery_error": "",
                "delivery_started_at": iso(created),
                # An open invitation that expired was noted by a listing since.
                "expiry_noted_at": (
                    iso(now)
                    if kind < 8 and kind != 1 and created + dt.timedelta(days=7) <= now
                    else None
                ),
            }

    _insert(connection, "join_invitations", join_rows())
    middles["join_invitations"] = joins[len(joins) // 2]

    members = max(size // 20, 1)
    users = [ids.new("usr", _when(start, n, members)) for n in range(members)]
    _insert(
        connection,
        "users",
        (
            {
                "id": user_id,
                "email": f"member{n}@example.com",
                "created_at": iso(start),
                "password_hash": None,
                "name": f"Member {n}",
                "email_verified_at": iso(start),
            }
            for n, user_id in enumerate(users)
        ),
    )
    _insert(
        connection,
        "memberships",
        (
            {
                "account_id": bench.account_id,
                "user_id": user_id,
                "role": "regular_member",
                "status": "removed" if n % 10 == 3 else "blocked" if n % 20 == 7 else "active",
                "joined_at": iso(start),
                "updated_at": iso(start),
                "changed_by": None,
                "notes": "",
                "admin_grant": 0,
                "license_keys": "[]",
                "all_license_keys": 0,
            }
            for n, user_id in enumerate(users)
        ),
    )
    listed = sorted([*users, admin_id])
    middles["memberships"] = listed[len(listed) // 2]

    blocked = sorted(
        (f"{_computer_id(rng, n)}", "" if n % 4 == 0 else big) for n in range(max(size // 20, 1))
    )
    _insert(
        connection,
        "computer_blocks",
        (
            {
                "account_id": bench.account_id,
                "computer_id": computer_id,
                "key_id": key_id,
                "blocked_at": iso(start),
                "blocked_by": admin_id,
                "notes": "",
            }
            for computer_id, key_id in blocked
        ),
    )
    middle_block = blocked[len(blocked) // 2]
    middles["computer_blocks"] = f"{middle_block[0]}\t{middle_block[1]}"
    middles["export"] = f"{big}/{middles['installations']}"
    connection.execute("COMMIT")
    connection.execute("ANALYZE")
    connection.close()
    return Built(path, size, bench.account_id, big, middles)


def _copy(folder: Path, size: int, label: str) -> Built:
    """A fresh copy of the database of *size* (built the first time it is asked for)."""
    if size not in _BUILT:
        _BUILT[size] = folder / f"built-{size}"
        _BUILT[size].mkdir()
        built = build(_BUILT[size], size)
        (_BUILT[size] / "built.json").write_text(
            json.dumps(
                {"account_id": built.account_id, "key_id": built.key_id, "middles": built.middles}
            )
        )
    source = _BUILT[size]
    facts = json.loads((source / "built.json").read_text())
    target = folder / f"{label}-{size}.db"
    shutil.copyfile(source / f"growth-{size}.db", target)
    return Built(target, size, facts["account_id"], facts["key_id"], facts["middles"])


# -- the probes -----------------------------------------------------------------------------


@dataclass
class _Probed:
    """One database open for probing: its kit, session, codes and installation tokens."""

    built: Built
    kit: LicenseKit
    admin: str
    codes: list[str]
    tokens: list[str] = field(default_factory=list)


def _open(built: Built, probes: int) -> _Probed:
    kit = new_kit(sqlite_store(built.path, "normal"), 2 * probes)
    admin = kit.log_in(*ADMIN).token
    emails = [f"probe{n}@example.com" for n in range(probes)]
    batch = kit.invite_installers(admin, built.account_id, built.key_id, emails, send=False)
    exported = kit.export_install_invitations(
        admin, built.account_id, built.key_id, invitation_ids=[i.id for i in batch.invited]
    )
    code_of = {row[0]: row[1] for row in list(csv.reader(io.StringIO(exported)))[1:]}
    return _Probed(built, kit, admin, [code_of[e] for e in emails])


Probe = Callable[[_Probed, int], object]


def _probes() -> dict[str, tuple[str, Probe]]:
    """Every probe: its label and what it does on one database (*n*: the call's number)."""

    def activate(p: _Probed, n: int) -> object:
        result = p.kit.activate(code=p.codes[n], computer_id=f"PROBE-{n:04d}-{p.built.size}")
        p.tokens.append(result.installation_token)
        return result

    def check_in(p: _Probed, n: int) -> object:
        return p.kit.check_in(p.tokens[n])

    def invitations(**options: object) -> Probe:
        return lambda p, n: p.kit.list_install_invitations(
            p.admin, p.built.account_id, p.built.key_id, limit=PAGE, **options
        )

    def installations(**options: object) -> Probe:
        return lambda p, n: p.kit.list_installations(
            p.admin, p.built.account_id, p.built.key_id, limit=PAGE, **options
        )

    def joins(**options: object) -> Probe:
        return lambda p, n: p.kit.list_join_invitations(
            p.admin, p.built.account_id, limit=PAGE, **options
        )

    def middle(listing: str) -> Callable[[_Probed], str]:
        return lambda p: p.built.middles[listing]

    def at(
        cursor: Callable[[_Probed], str], probe: Callable[..., Probe], **options: object
    ) -> Probe:
        return lambda p, n: probe(cursor=cursor(p), **options)(p, n)

    return {
        "activation": ("one activation by typed code", activate),
        "check_in": ("one check-in", check_in),
        "invitations_first": ("first page of a key's invitations to install", invitations()),
        "invitations_middle": (
            "a page from the middle of a key's invitations",
            at(middle("install_invitations"), invitations),
        ),
        **{
            f"invitations_{state}": (
                f"first page of a key's invitations {state}",
                invitations(state=state),
            )
            for state in ("sent", "pending", "activated", "expired", "revoked")
        },
        "invitations_expired_middle": (
            "a page of expired invitations from the middle",
            at(middle("install_invitations"), invitations, state="expired"),
        ),
        "installations_first": ("first page of a key's active installations", installations()),
        "installations_middle": (
            "a page of active installations from the middle",
            at(middle("installations"), installations),
        ),
        "installations_all": (
            "first page of a key's installations, inactive included",
            installations(include_inactive=True),
        ),
        "audit_first": (
            "first page of the audit trail",
            lambda p, n: p.kit.list_audit_events(p.admin, p.built.account_id, limit=PAGE),
        ),
        "audit_middle": (
            "a page from the middle of the audit trail",
            lambda p, n: p.kit.list_audit_events(
                p.admin, p.built.account_id, cursor=p.built.middles["audit_events"], limit=PAGE
            ),
        ),
        "joins_first": ("first page of join invitations", joins()),
        "joins_middle": (
            "a page from the middle of join invitations",
            at(middle("join_invitations"), joins),
        ),
        **{
            f"joins_{state}": (f"first page of join invitations {state}", joins(state=state))
            for state in ("pending", "expired", "accepted")
        },
        "members_first": (
            "first page of members (removed ones left out)",
            lambda p, n: p.kit.list_members(p.admin, p.built.account_id, limit=PAGE),
        ),
        "members_middle": (
            "a page of members from the middle",
            lambda p, n: p.kit.list_members(
                p.admin, p.built.account_id, cursor=p.built.middles["memberships"], limit=PAGE
            ),
        ),
        "blocks_first": (
            "first page of blocked computers",
            lambda p, n: p.kit.list_blocked_computers(p.admin, p.built.account_id, limit=PAGE),
        ),
        "blocks_middle": (
            "a page of blocked computers from the middle",
            lambda p, n: p.kit.list_blocked_computers(
                p.admin, p.built.account_id, cursor=p.built.middles["computer_blocks"], limit=PAGE
            ),
        ),
        "export_first": (
            "first page of a key's computer list (CSV)",
            lambda p, n: p.kit.export_installations(
                p.admin, p.built.account_id, key_id=p.built.key_id, limit=PAGE
            ),
        ),
        "export_middle": (
            "a page of a key's computer list from the middle",
            lambda p, n: p.kit.export_installations(
                p.admin,
                p.built.account_id,
                key_id=p.built.key_id,
                cursor=p.built.middles["export"],
                limit=PAGE,
            ),
        ),
    }


def growth(small: int, large: int, probes: int) -> list[Result]:
    """One row per probe: the large database's median against the small one's."""
    with tempfile_dir() as folder:
        opened = [_open(_copy(folder, size, "probed"), probes) for size in (small, large)]
        try:
            samples: dict[str, tuple[list[float], list[float]]] = {}
            for name, (_, probe) in _probes().items():
                mine: tuple[list[float], list[float]] = ([], [])
                for n in range(probes):
                    for side, p in enumerate(opened):  # small, large, small, large...
                        mine[side].append(timed(lambda p=p, n=n: probe(p, n)))
                samples[name] = mine
        finally:
            for p in opened:
                p.kit.close()
    results = []
    for name, (label, _) in _probes().items():
        few, many = samples[name]
        results.append(
            Result(
                f"growth_{name}",
                f"{label}: {large:,} against {small:,}",
                "us",
                median_of(many) * 1e6,
                median_of(few) * 1e6,
                target=1.2,
                details={"small": small, "large": large, "probes": probes, "page": PAGE},
            )
        )
    return results
