"""Feature floors: hand-written code doing the features licensekit does, with minimal code.

The floors of :mod:`workloads` do the work no implementation can skip. A *feature floor* does
everything licensekit does for a workload, written directly with the libraries licensekit
uses (``csv``, email-validator, ``secrets``, ``hmac``, cryptography's AES-GCM and HKDF,
``sqlite3``), on a file whose schema and rows licensekit made: a program a careful developer
would write by hand to offer the same features, and no more. Two workloads have one:

* :func:`invite_installers`, workload 1 (``bulk_feature``): an administrator's session
  invites the addresses of a CSV text to install a key's product;
* :func:`activate`, workload 2 (``activation_feature``): a computer activates with a code
  as typed.

Both use the same file as licensekit would: a ``SQLiteStore`` creates the schema and the
account, user, session and key (and, for activation, licensekit itself invites the
installers) before the floor opens the file with :func:`connect`, which sets licensekit's
pragmas; :func:`check_pragmas` compares them with a connection of the store. Secrets are
derived from the kit's host secret as licensekit derives them (HKDF-SHA256, the same
labels), so each side finds the other's hashes. What the floors leave out on purpose:
refusals are checked in the same order as licensekit's, but end in :class:`Refused` without
the throttle counts and audit events licensekit writes for them (the workloads refuse
nothing), and additional keys (seat pools) are refused.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hmac
import html
import io
import json
import os
import re
import secrets
import sqlite3
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

import email_validator
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from licensekit.locales import en  # licensekit's own English texts (data only)
from licensekit.stores.sqlite import SQLiteStore

__all__ = [
    "SEND_CHUNK",
    "Floor",
    "Refused",
    "activate",
    "check_pragmas",
    "connect",
    "invite_installers",
]

T = TypeVar("T")

SEND_CHUNK = 500
"""Messages rendered and handed to the mailer at a time, as licensekit's ``SEND_CHUNK``."""
HOUR = dt.timedelta(hours=1)
INSTALL_LIFETIME = dt.timedelta(days=14)
"""An invitation's lifetime when none is given (``Settings.install_invitation_lifetime``)."""
MAX_NAME = 200
"""The longest computer id or name (licensekit's ``MAX_NAME``)."""
SERVICE_NAME = "licensekit"
"""How the service names itself in emails (``Settings.service_name``'s default)."""


class Refused(Exception):
    """A check refused the call (the workloads never meet one)."""


# -- the file ---------------------------------------------------------------------------------

PRAGMAS = (
    "PRAGMA foreign_keys = ON",
    "PRAGMA synchronous = {synchronous}",
    "PRAGMA cache_size = -16384",
    "PRAGMA trusted_schema = OFF",
    "PRAGMA secure_delete = ON",
)
"""The pragmas of every connection of licensekit's ``SQLiteStore`` (with its defaults)."""


def connect(path: Path, synchronous: str) -> sqlite3.Connection:
    """Open *path* (made by licensekit) as licensekit's store opens it: WAL, its pragmas."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode = WAL")
    for pragma in PRAGMAS:
        connection.execute(pragma.format(synchronous=synchronous.upper()))
    return connection


_CHECKED = (
    "journal_mode",
    "foreign_keys",
    "synchronous",
    "cache_size",
    "trusted_schema",
    "secure_delete",
)


def check_pragmas(store: SQLiteStore, connection: sqlite3.Connection) -> None:
    """Fail unless *connection* has the pragmas of a connection of licensekit's *store*."""
    with store._connection() as theirs:  # a pooled connection, set up as the store sets one
        expected = [theirs.execute(f"PRAGMA {p}").fetchone() for p in _CHECKED]
    mine = [connection.execute(f"PRAGMA {p}").fetchone() for p in _CHECKED]
    assert mine == expected, (_CHECKED, mine, expected)


# -- what the floor knows: keys, ids, codes ---------------------------------------------------


def _derive(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


class Ids:
    """Ids as licensekit makes them: prefix, milliseconds, a counter and 40 random bits.

    ``inst_0193a1b2c3d4_000000_7f3a9c01e2``: ordered by time, then by the counter.
    """

    def __init__(self) -> None:
        self.last_ms = -1
        self.counter = -1
        self.noise = ""
        self.used = 0

    def _start(self, ms: int, count: int) -> tuple[int, int]:
        if ms <= self.last_ms:
            ms, first = self.last_ms, self.counter + 1
        else:
            self.last_ms, first = ms, 0
        self.counter = first + count - 1
        return ms, first

    def new(self, prefix: str, ms: int) -> str:
        """One id made at *ms* milliseconds."""
        ms, counter = self._start(ms, 1)
        if self.used >= len(self.noise):
            self.noise, self.used = os.urandom(1280).hex(), 0
        noise = self.noise[self.used : self.used + 10]
        self.used += 10
        return f"{prefix}_{ms:012x}_{counter:06x}_{noise}"

    def many(self, prefix: str, ms: int, count: int) -> list[str]:
        """*count* ids made at *ms* milliseconds, in order."""
        ms, first = self._start(ms, count)
        noise = os.urandom(5 * count).hex()
        head = f"{prefix}_{ms:012x}_"
        return [f"{head}{first + n:06x}_{noise[10 * n : 10 * n + 10]}" for n in range(count)]


ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base 32, licensekit's code alphabet."""
_TO_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET)
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
_TIMES_ALPHA = tuple((v << 1) ^ 0b100101 if v & 0b10000 else v << 1 for v in range(32))
_SYMBOLS = frozenset(ALPHABET)
_CONFUSABLES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def _check_symbol(payload: str) -> str:
    """The check symbol of 24 code symbols: a weighted sum in GF(32), as licensekit's."""
    total = 0
    for symbol in reversed(payload):
        total = _TIMES_ALPHA[total] ^ _VALUE[symbol]
    return ALPHABET[_TIMES_ALPHA[total]]


def _is_separator(ch: str) -> bool:
    return ch.isspace() or ch in "_\u2212" or unicodedata.category(ch) in ("Pd", "Cf")


_ASCII_CLEANING = str.maketrans(
    {chr(c): None for c in range(128) if _is_separator(chr(c))} | {"O": "0", "I": "1", "L": "1"}
)


def _typed_code(text: str) -> str:
    """A code as typed, in canonical form (25 symbols), or :class:`Refused`."""
    typed = unicodedata.normalize("NFKC", text).upper()
    if typed.isascii():
        symbols = typed.translate(_ASCII_CLEANING)
    else:
        symbols = "".join(ch for ch in typed if not _is_separator(ch)).translate(_CONFUSABLES)
    if len(symbols) != 25 or not _SYMBOLS.issuperset(symbols):
        raise Refused("mistyped code")
    if _check_symbol(symbols[:24]) != symbols[24]:
        raise Refused("mistyped code")
    return symbols


# -- the context: what a kit holds ------------------------------------------------------------


@dataclass
class Floor:
    """What the floor works with: the connection, keys from the host secret, settings.

    Args:
        connection: From :func:`connect`, on a file licensekit made.
        secret: The host secret licensekit's kit was given.
        download_url: The kit's download link template (``{token}`` replaced).
        max_batch: The most addresses one call takes (``Settings.max_batch_size``).
        activations_per_hour: A key's hourly limit of seats taken.
        invitations_per_hour: An account's hourly limit of invitation emails.
    """

    connection: sqlite3.Connection
    secret: bytes
    download_url: str
    max_batch: int
    activations_per_hour: int
    invitations_per_hour: int
    ids: Ids = field(default_factory=Ids)
    sent: list[tuple[object, ...]] = field(default_factory=list)
    """The recording mailer: every message handed over, kept."""

    def __post_init__(self) -> None:
        self.lookup_key = _derive(self.secret, b"licensekit lookup-hash v1")
        self.aead = AESGCM(_derive(self.secret, b"licensekit encryption v1"))

    def send(self, message: tuple[object, ...]) -> None:
        """The recording mailer's ``send``: keep *message*."""
        self.sent.append(message)

    def lookup_hash(self, purpose: bytes, value: str) -> bytes:
        """HMAC-SHA256 of ``purpose NUL value`` under the look-up key, as licensekit's."""
        return hmac.digest(self.lookup_key, purpose + b"\x00" + value.encode(), "sha256")


_JSON_TEXT = json.JSONEncoder(ensure_ascii=False).encode
"""A JSON string of user text, written as licensekit's store writes mappings."""
_JSON_LIST = json.JSONEncoder().encode


def _text(moment: dt.datetime) -> str:
    """*moment* as the store writes datetimes: fixed-width ISO 8601 in UTC."""
    return moment.isoformat(timespec="microseconds")


def _transaction(connection: sqlite3.Connection, work: Callable[[], T]) -> T:
    """Run *work* between ``BEGIN IMMEDIATE`` and ``COMMIT`` (``ROLLBACK`` if it raises)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        outcome = work()
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return outcome


# == workload 1: inviting installers from a CSV text ==========================================


_PLAIN = re.compile(
    r"[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*@"
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z0-9][a-z0-9-]{0,61})?[a-z]",
    re.ASCII | re.IGNORECASE,
)
"""A plain ASCII address: a dot-atom, ``@``, two or more host name labels, the last ending
with a letter (``\\w`` with ``re.ASCII`` is letters, digits and ``_``, all RFC 5322 atext)."""
_SPECIAL_USE = tuple(f".{name}" for name in email_validator.SPECIAL_USE_DOMAIN_NAMES)


def _plain(address: str) -> str | None:
    """*address* lower-cased if email-validator would take it unchanged but for case, else
    None (then email-validator decides): :data:`_PLAIN`, at most 64 characters before the
    ``@``, no ``--`` after it (no Punycode or other R-LDH label), not a special-use domain."""
    if _PLAIN.fullmatch(address) is None:
        return None
    lowered = address.lower()
    local, _, domain = lowered.partition("@")
    if len(local) > 64 or "--" in domain or f".{domain}".endswith(_SPECIAL_USE):
        return None
    return lowered


def read_csv(
    text: str, most: int, plain_ascii: bool = False
) -> tuple[list[str], list[tuple[int, str, str]]]:
    """Addresses of a one-column CSV (licensekit's rules); and the rows skipped, with why.

    A byte order mark and a header (``email``, ``e-mail``, ``email address``) are dropped;
    CRLF, LF and lone CR end lines; blank rows are skipped; every address goes through
    email-validator (no DNS), is at most 254 characters (64 octets before the ``@``), holds
    no ``=?``, and is lower-cased; an address seen before is a duplicate of its first row.
    With *plain_ascii*, a plain ASCII address (:func:`_plain`) is lower-cased without
    email-validator, whose answer for it is known: the same addresses, the same rows.
    """
    emails: list[str] = []
    skipped: list[tuple[int, str, str]] = []
    first_row: dict[str, int] = {}
    rows = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    given = 0
    for number, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if (
            number == 1
            and len(cells) == 1
            and cells[0].lower() in ("email", "e-mail", "email address")
        ):
            continue
        given += 1
        if given > most:
            raise Refused("too many addresses")
        if len(cells) > 1:
            skipped.append((number, ",".join(row), "more than one column"))
            continue
        address = cells[0]
        try:
            if len(address) > 254 or "=?" in address:
                raise Refused("too long, or '=?'")
            email = _plain(address) if plain_ascii else None
            if email is None:
                valid = email_validator.validate_email(address, check_deliverability=False)
                if len(valid.local_part.encode()) > 64:
                    raise Refused("local part too long")
                email = valid.normalized.lower()
        except (email_validator.EmailNotValidError, Refused) as e:
            skipped.append((number, address, str(e)))
            continue
        if email in first_row:
            skipped.append((number, address, f"duplicate of row {first_row[email]}"))
            continue
        first_row[email] = number
        emails.append(email)
    return emails, skipped


def _braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _template(source: str, constants: dict[str, str], recipient: tuple[str, ...]) -> str:
    """*source* (a ``string.Template``) as a ``str.format`` pattern: *constants* filled in,
    the *recipient* placeholders left as ``{name}`` fields."""
    parts = []
    start = 0
    for match in string.Template.pattern.finditer(source):
        parts.append(_braces(source[start : match.start()]))
        name = match.group("named") or match.group("braced")
        if match.group("escaped") is not None:
            parts.append("$")
        elif name in recipient:
            parts.append(f"{{{name}}}")
        else:
            parts.append(_braces(constants[name]))
        start = match.end()
    parts.append(_braces(source[start:]))
    return "".join(parts)


def _install_email(
    product: str, account_name: str, inviter: str, expires_at: dt.datetime
) -> tuple[str, str, str, dict[str, str]]:
    """The invitation email of one batch from licensekit's English texts, made once.

    Returns the subject, the text and HTML patterns with ``{link}``, ``{code}`` and
    ``{recipient}`` left to fill, and the message data the recipients share.
    """
    subject, text, fragment = en.TEMPLATES["install_invitation"]
    text = text.replace("\n${notes_block}\n\n", "\n")
    fragment = fragment.replace("${notes_block}\n", "")
    expires = en.DATE_FORMAT.format(
        day=expires_at.day,
        month=en.MONTHS[expires_at.month - 1],
        month_number=expires_at.month,
        year=expires_at.year,
        time=f"{expires_at.hour:02d}:{expires_at.minute:02d}",
    )
    plain = {
        "product": product,
        "account_name": account_name,
        "inviter": inviter,
        "service_name": SERVICE_NAME,
        "expires": expires,
    }
    subject = " ".join(
        string.Template(subject)
        .substitute({k: " ".join(v.split()) for k, v in plain.items()})
        .split()
    )
    recipient = ("link", "code", "recipient")
    escaped = {k: html.escape(v, quote=True) for k, v in plain.items()}
    document = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_braces(html.escape(subject))}</title></head><body>\n"
        f"{_template(fragment, escaped, recipient)}</body></html>\n"
    )
    data = {
        **plain,
        "language": "en",
        "expires_at": expires_at.isoformat(),
        "inviter_email": inviter,
    }
    return (
        subject,
        _template(text, plain, recipient),
        document,
        data,
    )


_INSERT_INVITATIONS = (
    "INSERT INTO install_invitations (id, account_id, key_id, email, language, invited_by, "
    "created_at, expires_at, code_hash, token_hash, secret_ciphertext, max_activations, "
    "activations, computer_ids, last_activated_at, revoked_at, revoked_by, sent_count, "
    "last_sent_at, delivery, delivery_attempts, delivery_error, delivery_started_at) "
    "VALUES (?, ?, ?, ?, 'en', ?, ?, ?, ?, ?, ?, 1, 0, '[]', NULL, NULL, NULL, 0, NULL, "
    "'sending', 0, '', ?)"
)
_INSERT_EVENT = (
    "INSERT INTO audit_events (id, account_id, at, actor_id, action, subject, details) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_UPSERT_THROTTLE = (
    "INSERT INTO throttles (key, failures, window_started_at, expires_at, locked_until) "
    "VALUES (?, ?, ?, ?, NULL) ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, "
    "window_started_at = excluded.window_started_at, expires_at = excluded.expires_at"
)


_THROTTLE = "SELECT key, failures, expires_at, locked_until FROM throttles WHERE key"


def _hourly(
    connection: sqlite3.Connection,
    key: str,
    found: tuple[int, str] | None,
    count: int,
    limit: int,
    now: dt.datetime,
    at: str,
) -> None:
    """Count *count* more under the hourly *limit* of *key*, or :class:`Refused`.

    *found* is the count's row as read (failures, end of its window), or None. Within its
    window only the count is written; otherwise a new window starts now.
    """
    if found is not None and at < found[1]:
        if found[0] + count > limit:
            raise Refused("hourly limit")
        connection.execute(
            "UPDATE throttles SET failures = ? WHERE key = ?", (found[0] + count, key)
        )
        return
    if count > limit:
        raise Refused("hourly limit")
    connection.execute(_UPSERT_THROTTLE, (key, count, at, _text(now + HOUR)))


def _admin(floor: Floor, session_token: str, account_id: str, at: str) -> str:
    """The user id of an Account Administrator's live *session_token* in *account_id*."""
    connection = floor.connection
    session = connection.execute(
        "SELECT user_id, expires_at, admin_grants FROM sessions WHERE token_hash = ?",
        (floor.lookup_hash(b"session", session_token),),
    ).fetchone()
    if session is None or at >= session[1]:
        raise Refused("unknown or expired session")
    member = connection.execute(
        "SELECT role, status, admin_grant FROM memberships WHERE account_id = ? AND user_id = ?",
        (account_id, session[0]),
    ).fetchone()
    if member is None or member[:2] != ("account_administrator", "active"):
        raise Refused("not an Account Administrator")
    if json.loads(session[2]).get(account_id) != member[2]:
        raise Refused("not an Account Administrator in this session")
    return str(session[0])


def invite_installers(
    floor: Floor,
    session_token: str,
    account_id: str,
    key_id: str,
    csv_text: str,
    *,
    plain_ascii: bool = False,
) -> tuple[list[str], list[str], list[tuple[int, str, str]], int, list[str]]:
    """Invite the addresses of *csv_text* to install *key_id*'s product; send their emails.

    What licensekit's ``invite_installers(session, account_id, key_id, csv=text)`` does:

    1. Read the CSV (:func:`read_csv`; with *plain_ascii*, plain ASCII addresses are
       lower-cased without email-validator, as licensekit's ``normalize_email`` does: an
       informational variant, beside the floor the issue defines).
    2. Per address: an id, a 120-bit activation code with its check symbol, a 192-bit
       download token, their HMACs (``install-code``, ``install-token``), and code and token
       encrypted together with AES-GCM under a fresh nonce, bound to the id.
    3. One transaction: the session (by its token's HMAC), the membership and the key read
       and checked; the account's hourly count of invitation emails read and written; the
       account's name and the inviter's address read; every invitation inserted, claimed
       for sending (``delivery = 'sending'``); one ``install_invitation.created`` audit
       event each (licensekit's JSON details).
    4. Per chunk of :data:`SEND_CHUNK`: each email rendered from licensekit's English
       template (prepared once per call; link, code and address filled in, escaped for the
       HTML part) and handed to the recording mailer with its data; then one transaction:
       one ``UPDATE`` of the delivery columns of the chunk's invitations (by id), one
       ``install_invitation.sent`` event each.

    Returns:
        The invitations' ids and addresses, the rows skipped, the key's free seats, and the
        ids of invitations the mailer refused.
    """
    connection = floor.connection
    emails, skipped = read_csv(csv_text, floor.max_batch, plain_ascii)
    now = dt.datetime.now(dt.UTC)
    at = _text(now)
    expires_at = now + INSTALL_LIFETIME
    expires = _text(expires_at)
    ms = int(now.timestamp() * 1000)
    count = len(emails)
    ids = floor.ids.many("inst", ms, count)
    codes: list[str] = []
    tokens: list[str] = []
    stored: list[tuple[bytes, bytes, bytes]] = []
    aead, lookup = floor.aead, floor.lookup_hash
    for invitation_id in ids:
        payload = base64.b32encode(secrets.token_bytes(15)).decode().translate(_TO_CROCKFORD)
        code = payload + _check_symbol(payload)
        token = secrets.token_urlsafe(24)
        nonce = secrets.token_bytes(12)
        sealed = aead.encrypt(nonce, f"{code} {token}".encode(), invitation_id.encode())
        stored.append(
            (lookup(b"install-code", code), lookup(b"install-token", token), nonce + sealed)
        )
        codes.append(f"{code[:5]}-{code[5:10]}-{code[10:15]}-{code[15:20]}-{code[20:]}")
        tokens.append(token)

    def store() -> tuple[str, str, str, str, int]:
        user_id = _admin(floor, session_token, account_id, at)
        key = connection.execute(
            "SELECT account_id, product, seats, seats_used, expires_at, status "
            "FROM license_keys WHERE id = ?",
            (key_id,),
        ).fetchone()
        if key is None or key[0] != account_id:
            raise Refused("no such key")
        if key[5] != "active" or (key[4] is not None and at >= key[4]):
            raise Refused("the key is not active")
        hourly = f"invitation-emails-per-hour:account:{account_id}"
        found = connection.execute(f"{_THROTTLE} = ?", (hourly,)).fetchone()
        _hourly(
            connection,
            hourly,
            None if found is None else found[1:3],
            count,
            floor.invitations_per_hour,
            now,
            at,
        )
        (account_name,) = connection.execute(
            "SELECT name FROM business_accounts WHERE id = ?", (account_id,)
        ).fetchone()
        (inviter,) = connection.execute(
            "SELECT email FROM users WHERE id = ?", (user_id,)
        ).fetchone()
        connection.executemany(
            _INSERT_INVITATIONS,
            [
                (i, account_id, key_id, e, user_id, at, expires, *s, at)
                for i, e, s in zip(ids, emails, stored, strict=True)
            ],
        )
        shown = expires_at.isoformat()  # as licensekit's details write it
        details = f',"expires_at":"{shown}","key_id":"{key_id}","language":"en"}}'
        connection.executemany(
            _INSERT_EVENT,
            (
                (event_id, account_id, at, user_id, "install_invitation.created", i, details_of)
                for event_id, i, details_of in zip(
                    floor.ids.many("evt", ms, count),
                    ids,
                    [f'{{"email":{_JSON_TEXT(e)}{details}' for e in emails],
                    strict=True,
                )
            ),
        )
        return user_id, key[1], account_name, inviter, key[2] - key[3]

    user_id, product, account_name, inviter, seats_free = _transaction(connection, store)
    subject, text, document, data = _install_email(product, account_name, inviter, expires_at)
    undelivered: list[str] = []
    for start in range(0, count, SEND_CHUNK):
        sent: list[int] = []
        failed: list[tuple[int, str]] = []
        for n in range(start, min(start + SEND_CHUNK, count)):
            to, code, token = emails[n], codes[n], tokens[n]
            link = floor.download_url.replace("{token}", token)
            message = (
                to,
                subject,
                text.format(link=link, code=code, recipient=to),
                document.format(
                    link=html.escape(link, quote=True), code=code, recipient=html.escape(to)
                ),
                "en",
                "install_invitation",
                {**data, "recipient": to, "link": link, "code": code, "token": token},
            )
            try:
                floor.send(message)
            except Exception as e:  # one failure never stops the others
                failed.append((n, f"{type(e).__name__}: {e}"[:500]))
            else:
                sent.append(n)
        record = partial(_record, floor, ids, emails, sent, failed, account_id, user_id, now)
        _transaction(connection, record)
        undelivered += [ids[n] for n, _ in failed]
    return ids, emails, skipped, seats_free, undelivered


def _record(
    floor: Floor,
    ids: list[str],
    emails: list[str],
    sent: list[int],
    failed: list[tuple[int, str]],
    account_id: str,
    actor_id: str,
    now: dt.datetime,
) -> None:
    """Store how one chunk's sending went: delivery columns and one audit event each.

    *sent* and *failed* index *ids* and *emails*. One ``UPDATE`` for the invitations sent;
    a failure (never met here: the recording mailer keeps every message) is stored alone.
    """
    connection = floor.connection
    at = _text(now)
    ms = int(now.timestamp() * 1000)
    if sent:
        sent_ids = [ids[n] for n in sent]
        connection.execute(
            "UPDATE install_invitations SET sent_count = sent_count + 1, last_sent_at = ?, "
            "delivery = 'sent', delivery_attempts = delivery_attempts + 1, delivery_error = '', "
            f"delivery_started_at = ? WHERE id IN ({', '.join('?' * len(sent_ids))})",
            (at, at, *sent_ids),
        )
        connection.executemany(
            _INSERT_EVENT,
            (
                (
                    event_id,
                    account_id,
                    at,
                    actor_id,
                    "install_invitation.sent",
                    ids[n],
                    f'{{"email":{_JSON_TEXT(emails[n])},"sent_count":"1"}}',
                )
                for event_id, n in zip(floor.ids.many("evt", ms, len(sent)), sent, strict=True)
            ),
        )
    for n, reason in failed:
        connection.execute(
            "UPDATE install_invitations SET delivery = 'failed', delivery_attempts = "
            "delivery_attempts + 1, delivery_error = ?, delivery_started_at = ? WHERE id = ?",
            (reason, at, ids[n]),
        )
        details = {"delivery": "failed", "email": emails[n], "reason": reason}
        connection.execute(
            _INSERT_EVENT,
            (
                floor.ids.new("evt", ms),
                account_id,
                at,
                actor_id,
                "install_invitation.undelivered",
                ids[n],
                json.dumps(details, ensure_ascii=False, separators=(",", ":"), sort_keys=True),
            ),
        )


# == workload 2: activation by a typed code ===================================================

_INSERT_INSTALLATION = (
    "INSERT INTO installations (id, account_id, key_id, computer_id, computer_name, email, "
    "invitation_id, activated_at, last_seen_at, token_hash, status, deactivated_at, "
    "deactivated_by, last_state, notes) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', NULL, NULL, 'active', '')"
)


def _clean_name(value: str, what: str, *, required: bool) -> str:
    cleaned = value.strip()
    if (required and not cleaned) or len(cleaned) > MAX_NAME or not cleaned.isprintable():
        raise Refused(f"bad {what}")
    return cleaned


def activate(
    floor: Floor, code: str, computer_id: str, computer_name: str = ""
) -> tuple[object, ...]:
    """Activate *computer_id* with *code* as a person typed it, as licensekit's ``activate``.

    1. The computer's id and name cleaned; the code read as typed (NFKC, case, separators
       and ``O``/``I``/``L`` forgiven), its length and check symbol checked, then its HMAC
       (``install-code``) made; a new installation id, token and the token's HMAC
       (``installation``).
    2. One transaction (``BEGIN IMMEDIATE``): the invitation by the code's HMAC, the key,
       the computer's installation under the key, the computer's blocks in the account,
       and the code's own throttle with the key's hourly count (one ``SELECT``); the checks in
       licensekit's order (code revoked or expired, key active and not expired, a returning
       computer or an activation left, not blocked, no installation through another code);
       the seat taken with ``seats_used = seats_used + 1 WHERE id = ? AND seats_used <
       seats``; the invitation's activations, computers and last activation written; the
       installation inserted; the code's throttle deleted if it had one (not locked); the
       hourly count written (its count alone within its window); one
       ``installation.activated`` audit event (licensekit's JSON details); ``COMMIT``.

    A computer that holds its seat already is :class:`Refused` (licensekit refreshes its
    installation; the workload never does that).

    Returns:
        What licensekit's ``ActivationResult`` holds: the installation's id and token, the
        account, key, product, address, computer, activation time, the license's expiry,
        whether the computer held its seat already, and when to check in next.
    """
    connection = floor.connection
    computer_id = _clean_name(computer_id, "computer_id", required=True)
    computer_name = _clean_name(computer_name, "computer_name", required=False)
    code_hash = floor.lookup_hash(b"install-code", _typed_code(code))
    now = dt.datetime.now(dt.UTC)
    at = _text(now)
    ms = int(now.timestamp() * 1000)
    token = secrets.token_urlsafe(24)
    token_hash = floor.lookup_hash(b"installation", token)
    installation_id = floor.ids.new("ins", ms)
    connection.execute("BEGIN IMMEDIATE")
    try:
        invitation = connection.execute(
            "SELECT id, account_id, key_id, email, expires_at, revoked_at, max_activations, "
            "activations, computer_ids FROM install_invitations WHERE code_hash = ?",
            (code_hash,),
        ).fetchone()
        if invitation is None:
            raise Refused("no invitation has this code")
        invitation_id, account_id, key_id, email, expires_at, revoked_at = invitation[:6]
        key = connection.execute(
            "SELECT product, status, expires_at, check_in_seconds, primary_id "
            "FROM license_keys WHERE id = ?",
            (key_id,),
        ).fetchone()
        existing = connection.execute(
            "SELECT status, invitation_id FROM installations WHERE key_id = ? AND computer_id = ?",
            (key_id, computer_id),
        ).fetchone()
        blocks = connection.execute(
            "SELECT key_id FROM computer_blocks WHERE account_id = ? AND computer_id = ?",
            (account_id, computer_id),
        ).fetchall()
        code_throttle = f"activation:invitation:{invitation_id}"
        hourly = f"activations-per-hour:key:{key_id}"
        throttles = {
            row[0]: row[1:]
            for row in connection.execute(f"{_THROTTLE} IN (?, ?)", (code_throttle, hourly))
        }
        if revoked_at is not None or at >= expires_at:
            raise Refused("the code was revoked or has expired")
        product, status, key_expires_at, check_in_seconds, primary_id = key
        if primary_id is not None:
            raise Refused("additional keys are not part of this floor")
        if status != "active" or (key_expires_at is not None and at >= key_expires_at):
            raise Refused("the key is not active")
        computers = json.loads(invitation[8])
        active = existing is not None and existing[0] == "active"
        if computer_id in computers or (active and existing[1] == invitation_id):
            raise Refused("a returning computer is not part of this floor")
        if invitation[7] >= invitation[6]:
            raise Refused("the code is used up")
        if any(k in ("", key_id) for (k,) in blocks):
            raise Refused("the computer is blocked")
        if active:
            raise Refused("the computer is activated through another code")
        if existing is not None:
            raise Refused("a culled or deactivated computer is not part of this floor")
        counted = throttles.get(hourly)
        _hourly(
            connection,
            hourly,
            None if counted is None else counted[:2],
            1,
            floor.activations_per_hour,
            now,
            at,
        )
        taken = connection.execute(
            "UPDATE license_keys SET seats_used = seats_used + 1 "
            "WHERE id = ? AND seats_used < seats",
            (key_id,),
        ).rowcount
        if not taken:
            raise Refused("every seat is taken")
        connection.execute(
            "UPDATE install_invitations SET activations = activations + 1, computer_ids = ?, "
            "last_activated_at = ? WHERE id = ?",
            (_JSON_LIST([*computers, computer_id]), at, invitation_id),
        )
        connection.execute(
            _INSERT_INSTALLATION,
            (
                installation_id,
                account_id,
                key_id,
                computer_id,
                computer_name,
                email,
                invitation_id,
                at,
                at,
                token_hash,
            ),
        )
        refusals = throttles.get(code_throttle)  # the code's refusals: a success ends them
        if refusals is not None and (refusals[2] is None or at >= refusals[2]):
            connection.execute("DELETE FROM throttles WHERE key = ?", (code_throttle,))
        details = (
            f'{{"computer_id":{_JSON_TEXT(computer_id)},'
            f'"computer_name":{_JSON_TEXT(computer_name)},"email":{_JSON_TEXT(email)},'
            f'"invitation_id":"{invitation_id}","key_id":"{key_id}","seat_taken":"yes"}}'
        )
        connection.execute(
            _INSERT_EVENT,
            (
                floor.ids.new("evt", ms),
                account_id,
                at,
                "",
                "installation.activated",
                installation_id,
                details,
            ),
        )
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return (
        installation_id,
        token,
        account_id,
        key_id,
        product,
        email,
        computer_id,
        now,
        None if key_expires_at is None else dt.datetime.fromisoformat(key_expires_at),
        False,
        now + dt.timedelta(seconds=check_in_seconds),
    )
