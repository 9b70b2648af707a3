"""The SQLite schema, as forward migrations.

``MIGRATIONS[n]`` takes a database from schema version ``n`` to ``n + 1``; the version lives
in ``PRAGMA user_version`` and the file is marked as licensekit's by ``PRAGMA
application_id``. A migration is a list of statements run inside the transaction that opens
the database, so a database is never left between two versions. Released migrations are
never edited: a change of schema is a new migration at the end.

Columns are named after the fields of the records in :mod:`licensekit.model`. Datetimes are
fixed-width UTC text (see :func:`licensekit.stores._rows.encode_datetime`), so text order is
time order; tables keyed by text ids are ``WITHOUT ROWID`` so that the primary key is the
table itself. Every listing has an index that serves its ``WHERE owner = ? AND id > ? ORDER
BY id LIMIT ?`` query, which keeps paging cost independent of table size.
"""

from __future__ import annotations

__all__ = ["APPLICATION_ID", "MIGRATIONS", "SCHEMA_VERSION"]

APPLICATION_ID = 0x4C4B4954  # "LKIT"

_ACCOUNTS = [
    """
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        password_hash TEXT,
        name TEXT NOT NULL
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE business_accounts (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE memberships (
        account_id TEXT NOT NULL
            REFERENCES business_accounts (id) DEFERRABLE INITIALLY DEFERRED,
        user_id TEXT NOT NULL REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED,
        role TEXT NOT NULL,
        status TEXT NOT NULL,
        joined_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        changed_by TEXT,
        notes TEXT NOT NULL,
        admin_grant INTEGER NOT NULL,
        license_keys TEXT NOT NULL,
        PRIMARY KEY (account_id, user_id)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX memberships_by_user ON memberships (user_id, account_id)",
    """
    CREATE TABLE join_invitations (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL
            REFERENCES business_accounts (id) DEFERRABLE INITIALLY DEFERRED,
        email TEXT NOT NULL,
        language TEXT NOT NULL,
        invited_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        token_hash BLOB NOT NULL UNIQUE,
        token_ciphertext BLOB NOT NULL,
        accepted_at TEXT,
        accepted_by TEXT,
        revoked_at TEXT,
        revoked_by TEXT,
        sent_count INTEGER NOT NULL,
        last_sent_at TEXT
    ) WITHOUT ROWID
    """,
    "CREATE INDEX join_invitations_by_account ON join_invitations (account_id, id)",
    "CREATE INDEX join_invitations_by_email ON join_invitations (account_id, email, id)",
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        token_hash BLOB NOT NULL UNIQUE,
        user_id TEXT NOT NULL REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED,
        method TEXT NOT NULL,
        issued_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        admin_grants TEXT NOT NULL
    ) WITHOUT ROWID
    """,
    "CREATE INDEX sessions_by_expiry ON sessions (expires_at)",
    """
    CREATE TABLE audit_events (
        id TEXT NOT NULL,
        account_id TEXT NOT NULL,
        at TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        details TEXT NOT NULL,
        PRIMARY KEY (account_id, id)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE throttles (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        window_started_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        locked_until TEXT
    ) WITHOUT ROWID
    """,
    "CREATE INDEX throttles_by_expiry ON throttles (expires_at)",
]

_LICENSING = [
    """
    CREATE TABLE license_keys (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL
            REFERENCES business_accounts (id) DEFERRABLE INITIALLY DEFERRED,
        product TEXT NOT NULL,
        seats INTEGER NOT NULL CHECK (seats >= 1),
        seats_used INTEGER NOT NULL CHECK (seats_used BETWEEN 0 AND seats),
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        value_hash BLOB NOT NULL,
        value_ciphertext BLOB NOT NULL,
        expires_at TEXT,
        status TEXT NOT NULL,
        updated_at TEXT,
        UNIQUE (account_id, value_hash)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX license_keys_by_account ON license_keys (account_id, id)",
    """
    CREATE TABLE install_invitations (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        key_id TEXT NOT NULL REFERENCES license_keys (id) DEFERRABLE INITIALLY DEFERRED,
        email TEXT NOT NULL,
        language TEXT NOT NULL,
        invited_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        code_hash BLOB NOT NULL UNIQUE,
        token_hash BLOB NOT NULL UNIQUE,
        secret_ciphertext BLOB NOT NULL,
        max_activations INTEGER NOT NULL CHECK (max_activations >= 1),
        activations INTEGER NOT NULL CHECK (activations BETWEEN 0 AND max_activations),
        computer_ids TEXT NOT NULL,
        last_activated_at TEXT,
        revoked_at TEXT,
        revoked_by TEXT,
        sent_count INTEGER NOT NULL,
        last_sent_at TEXT
    ) WITHOUT ROWID
    """,
    "CREATE INDEX install_invitations_by_key ON install_invitations (key_id, id)",
    """
    CREATE TABLE installations (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        key_id TEXT NOT NULL REFERENCES license_keys (id) DEFERRABLE INITIALLY DEFERRED,
        computer_id TEXT NOT NULL,
        computer_name TEXT NOT NULL,
        email TEXT NOT NULL,
        invitation_id TEXT NOT NULL
            REFERENCES install_invitations (id) DEFERRABLE INITIALLY DEFERRED,
        activated_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        token_hash BLOB NOT NULL UNIQUE,
        status TEXT NOT NULL,
        deactivated_at TEXT,
        deactivated_by TEXT,
        UNIQUE (key_id, computer_id)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX installations_by_key ON installations (key_id, id)",
    """
    CREATE TABLE computer_blocks (
        account_id TEXT NOT NULL
            REFERENCES business_accounts (id) DEFERRABLE INITIALLY DEFERRED,
        sort_key TEXT NOT NULL,
        computer_id TEXT NOT NULL,
        key_id TEXT REFERENCES license_keys (id) DEFERRABLE INITIALLY DEFERRED,
        blocked_at TEXT NOT NULL,
        blocked_by TEXT NOT NULL,
        notes TEXT NOT NULL,
        PRIMARY KEY (account_id, sort_key)
    ) WITHOUT ROWID
    """,
]

_DELIVERY = [
    "ALTER TABLE join_invitations ADD COLUMN delivery TEXT NOT NULL DEFAULT 'not_sent'",
    "ALTER TABLE join_invitations ADD COLUMN delivery_attempts INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE join_invitations ADD COLUMN delivery_error TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE join_invitations ADD COLUMN delivery_started_at TEXT",
    "ALTER TABLE install_invitations ADD COLUMN delivery TEXT NOT NULL DEFAULT 'not_sent'",
    "ALTER TABLE install_invitations ADD COLUMN delivery_attempts INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE install_invitations ADD COLUMN delivery_error TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE install_invitations ADD COLUMN delivery_started_at TEXT",
    # The count of active Account Administrators reads only them.
    "CREATE INDEX memberships_active_administrators ON memberships (account_id) "
    "WHERE role = 'account_administrator' AND status = 'active'",
    # Invitations sent before delivery was tracked were handed over at least once.
    "UPDATE join_invitations SET delivery = 'sent', delivery_attempts = sent_count "
    "WHERE sent_count > 0",
    "UPDATE install_invitations SET delivery = 'sent', delivery_attempts = sent_count "
    "WHERE sent_count > 0",
]

_PROOF_OF_ADDRESS = [
    "ALTER TABLE users ADD COLUMN email_verified_at TEXT",
    # Ending every session of a user (a proven address, a new password) reads only theirs.
    "CREATE INDEX sessions_by_user ON sessions (user_id)",
    # A user whom taking up a join invitation created, or who has no password, proved their
    # address by that invitation's link. A user who had a password before accepting stays
    # unproven: the account may be a squatter's, which the owner joined through single
    # sign-on, and the owner's next proof must still evict the squatter.
    "UPDATE users SET email_verified_at = ("
    "SELECT MIN(accepted_at) FROM join_invitations WHERE accepted_by = users.id"
    " AND (users.password_hash IS NULL OR accepted_at = users.created_at))",
]

_GENERATED_SQL = [
    # Computer blocks are keyed by their fields (account, computer, key), as the record's
    # description says, instead of by a sort key made of two of them. A WITHOUT ROWID table
    # refuses NULL in its primary key, so an account-wide block (key_id None) keeps the empty
    # string there, and an empty key id (which no key has) one NUL character: see
    # licensekit.stores._rows.NULL_SENTINEL. That sentinel is no license key's id, so the
    # column no longer refers to license_keys.
    """
    CREATE TABLE computer_blocks_v5 (
        account_id TEXT NOT NULL
            REFERENCES business_accounts (id) DEFERRABLE INITIALLY DEFERRED,
        computer_id TEXT NOT NULL,
        key_id TEXT NOT NULL,
        blocked_at TEXT NOT NULL,
        blocked_by TEXT NOT NULL,
        notes TEXT NOT NULL,
        PRIMARY KEY (account_id, computer_id, key_id)
    ) WITHOUT ROWID
    """,
    "INSERT INTO computer_blocks_v5 "
    "(account_id, computer_id, key_id, blocked_at, blocked_by, notes) "
    "SELECT account_id, computer_id, "
    "CASE WHEN key_id IS NULL THEN '' WHEN key_id = '' THEN char(0) ELSE key_id END, "
    "blocked_at, blocked_by, notes FROM computer_blocks",
    "DROP TABLE computer_blocks",
    "ALTER TABLE computer_blocks_v5 RENAME TO computer_blocks",
    # Members are counted by any role and status, with values bound as parameters, which a
    # partial index on one role and status cannot serve.
    "CREATE INDEX memberships_by_role ON memberships (account_id, role, status)",
    "DROP INDEX memberships_active_administrators",
]

_LIVENESS = [
    # A key's grace period, check-in interval and dead-after time, in seconds; an
    # installation's last license state told to its product; the keys that cull. Existing
    # keys get no grace, a daily check-in and no culling: how they behaved before.
    "ALTER TABLE license_keys ADD COLUMN grace_seconds INTEGER NOT NULL DEFAULT 0 "
    "CHECK (grace_seconds >= 0)",
    "ALTER TABLE license_keys ADD COLUMN check_in_seconds INTEGER NOT NULL DEFAULT 86400 "
    "CHECK (check_in_seconds >= 1)",
    "ALTER TABLE license_keys ADD COLUMN dead_after_seconds INTEGER "
    "CHECK (dead_after_seconds >= 2 * check_in_seconds)",
    "ALTER TABLE installations ADD COLUMN last_state TEXT NOT NULL DEFAULT 'active'",
    """
    CREATE TABLE culling_keys (
        scope TEXT NOT NULL,
        key_id TEXT NOT NULL REFERENCES license_keys (id) DEFERRABLE INITIALLY DEFERRED,
        account_id TEXT NOT NULL,
        since TEXT NOT NULL,
        PRIMARY KEY (scope, key_id)
    ) WITHOUT ROWID
    """,
]

_ADMINISTRATORS_GUIDE = [
    # Additional keys: the primary they draw on, reserved or dynamic seats, and when their
    # hold on the primary's pool was given back. Existing keys are all primary keys.
    "ALTER TABLE license_keys ADD COLUMN primary_id TEXT "
    "REFERENCES license_keys (id) DEFERRABLE INITIALLY DEFERRED",
    "ALTER TABLE license_keys ADD COLUMN seat_pool TEXT",
    "ALTER TABLE license_keys ADD COLUMN released_at TEXT",
    "CREATE INDEX license_keys_by_primary ON license_keys (primary_id)",
    # License Administrators of every key of an account; administrators' notes on computers.
    "ALTER TABLE memberships ADD COLUMN all_license_keys INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE installations ADD COLUMN notes TEXT NOT NULL DEFAULT ''",
]

_FILTERS = [
    # Listings filtered by state or status read only what they return, through an index
    # on the owner, the filter and the order. An invitation's phase is the part of its
    # state that does not depend on the clock (see InstallInvitation.phase and
    # JoinInvitation.phase): a generated column, which SQLite computes on every write, so
    # no write of licensekit's names it. The expiry ends the index, so that a listing by
    # state checks it without reading rows. Each index is named <table>_by_<filter fields>:
    # the listings name it (licensekit.stores._sql.filter_index).
    "ALTER TABLE install_invitations ADD COLUMN phase TEXT GENERATED ALWAYS AS (CASE"
    " WHEN revoked_at IS NOT NULL THEN 'revoked'"
    " WHEN activations >= max_activations THEN 'used_up'"
    " WHEN activations <> 0 THEN 'activated'"
    " WHEN sent_count <> 0 THEN 'sent'"
    " ELSE 'pending' END) VIRTUAL",
    "CREATE INDEX install_invitations_by_phase "
    "ON install_invitations (key_id, phase, id, expires_at)",
    "ALTER TABLE join_invitations ADD COLUMN phase TEXT GENERATED ALWAYS AS (CASE"
    " WHEN accepted_at IS NOT NULL THEN 'accepted'"
    " WHEN revoked_at IS NOT NULL THEN 'revoked'"
    " ELSE 'open' END) VIRTUAL",
    "CREATE INDEX join_invitations_by_phase "
    "ON join_invitations (account_id, phase, id, expires_at)",
    "CREATE INDEX installations_by_status ON installations (key_id, status, id)",
    "CREATE INDEX memberships_by_status ON memberships (account_id, status, user_id)",
    "CREATE INDEX license_keys_by_status ON license_keys (account_id, status, id)",
    "CREATE INDEX computer_blocks_by_key_id ON computer_blocks (account_id, key_id, computer_id)",
]

_NOTED_EXPIRY = [
    # An invitation whose expiry a listing noted is expired in phase too, so that a listing
    # by state reads the live and the expired apart. A generated column cannot be changed:
    # it is dropped with its index and made again. The expiry indexes serve the listings'
    # search for what has expired since (a range of expiries, then sorted by id), named
    # <table>_by_<filter fields>_<range field> (licensekit.stores._sql.range_index).
    "ALTER TABLE install_invitations ADD COLUMN expiry_noted_at TEXT",
    "DROP INDEX install_invitations_by_phase",
    "ALTER TABLE install_invitations DROP COLUMN phase",
    "ALTER TABLE install_invitations ADD COLUMN phase TEXT GENERATED ALWAYS AS (CASE"
    " WHEN revoked_at IS NOT NULL THEN 'revoked'"
    " WHEN activations >= max_activations THEN 'used_up'"
    " WHEN expiry_noted_at >= expires_at THEN 'expired'"
    " WHEN activations <> 0 THEN 'activated'"
    " WHEN sent_count <> 0 THEN 'sent'"
    " ELSE 'pending' END) VIRTUAL",
    "CREATE INDEX install_invitations_by_phase ON install_invitations (key_id, phase, id)",
    "CREATE INDEX install_invitations_by_phase_expires_at "
    "ON install_invitations (key_id, phase, expires_at)",
    "ALTER TABLE join_invitations ADD COLUMN expiry_noted_at TEXT",
    "DROP INDEX join_invitations_by_phase",
    "ALTER TABLE join_invitations DROP COLUMN phase",
    "ALTER TABLE join_invitations ADD COLUMN phase TEXT GENERATED ALWAYS AS (CASE"
    " WHEN accepted_at IS NOT NULL THEN 'accepted'"
    " WHEN revoked_at IS NOT NULL THEN 'revoked'"
    " WHEN expiry_noted_at >= expires_at THEN 'expired'"
    " ELSE 'open' END) VIRTUAL",
    "CREATE INDEX join_invitations_by_phase ON join_invitations (account_id, phase, id)",
    "CREATE INDEX join_invitations_by_phase_expires_at "
    "ON join_invitations (account_id, phase, expires_at)",
    # The current members (active and blocked) in one filtered listing.
    "ALTER TABLE memberships ADD COLUMN tenure TEXT GENERATED ALWAYS AS (CASE"
    " WHEN status = 'removed' THEN 'former' ELSE 'current' END) VIRTUAL",
    "CREATE INDEX memberships_by_tenure ON memberships (account_id, tenure, user_id)",
]

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    tuple(_ACCOUNTS),  # 0 -> 1: users, accounts, members, join invitations, sessions, audit
    tuple(_LICENSING),  # 1 -> 2: license keys, invitations to install, installations, blocks
    tuple(_DELIVERY),  # 2 -> 3: delivery tracking of invitations; an administrators index
    tuple(_PROOF_OF_ADDRESS),  # 3 -> 4: when each user's address was proven
    tuple(_GENERATED_SQL),  # 4 -> 5: keys and indexes as the record descriptions state them
    tuple(_LIVENESS),  # 5 -> 6: grace, check-in interval and culling per key; last state told
    tuple(_ADMINISTRATORS_GUIDE),  # 6 -> 7: additional keys, grants over every key, notes
    tuple(_FILTERS),  # 7 -> 8: filtered listings served by indexes; invitations' phases
    tuple(_NOTED_EXPIRY),  # 8 -> 9: expired invitations apart from live ones; current members
)
SCHEMA_VERSION = len(MIGRATIONS)
