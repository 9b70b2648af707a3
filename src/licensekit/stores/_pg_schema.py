"""The PostgreSQL schema, as forward migrations.

``MIGRATIONS[n]`` takes a schema from version ``n`` to ``n + 1``. Every statement names its
tables as ``{schema}.<table>``; the store formats in its schema name (a checked, quoted
identifier) before running them. The versions applied are rows of
``{schema}.licensekit_schema``; all steps run in one transaction, under an advisory lock, so
two instances starting together migrate once and a schema is never left between versions.
Released migrations are never edited: a change of schema is a new migration at the end.

Columns are named after the fields of the records in :mod:`licensekit.domain.model`, with
native types: text (``COLLATE "C"``, so that text sorts by code point, as the storage port
asks, whatever the database's collation), ``bytea``, ``bigint``, ``timestamptz`` and
``jsonb`` for sets, tuples and mappings. The one key field that may be None
(``computer_blocks.key_id``) is NULL there, and its table's key is a unique constraint with
``NULLS NOT DISTINCT`` (PostgreSQL 15) instead of a primary key, which refuses NULL.

The schema keeps, as the SQLite one does, what must never happen even through a bug: a
key's ``seats_used`` between 0 and its seats, an invitation's activations within its
maximum, one installation per computer and key, unique hashes, and records that refer to
others that exist (checked when the transaction commits).
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "TABLE_NAMES"]

_TEXT = 'text COLLATE "C"'

_VERSION_1 = (
    f"""
    CREATE TABLE {{schema}}.users (
        id {_TEXT} NOT NULL CONSTRAINT users_key PRIMARY KEY,
        email {_TEXT} NOT NULL CONSTRAINT users_email UNIQUE,
        created_at timestamptz NOT NULL,
        password_hash {_TEXT},
        name {_TEXT} NOT NULL,
        email_verified_at timestamptz
    )
    """,
    f"""
    CREATE TABLE {{schema}}.business_accounts (
        id {_TEXT} NOT NULL CONSTRAINT business_accounts_key PRIMARY KEY,
        name {_TEXT} NOT NULL,
        created_at timestamptz NOT NULL,
        created_by {_TEXT} NOT NULL
    )
    """,
    f"""
    CREATE TABLE {{schema}}.memberships (
        account_id {_TEXT} NOT NULL REFERENCES {{schema}}.business_accounts (id)
            DEFERRABLE INITIALLY DEFERRED,
        user_id {_TEXT} NOT NULL REFERENCES {{schema}}.users (id) DEFERRABLE INITIALLY DEFERRED,
        role {_TEXT} NOT NULL,
        status {_TEXT} NOT NULL,
        joined_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        changed_by {_TEXT},
        notes {_TEXT} NOT NULL,
        admin_grant bigint NOT NULL,
        license_keys jsonb NOT NULL,
        CONSTRAINT memberships_key PRIMARY KEY (account_id, user_id)
    )
    """,
    "CREATE INDEX memberships_by_user ON {schema}.memberships (user_id)",
    "CREATE INDEX memberships_by_role ON {schema}.memberships (account_id, role, status)",
    f"""
    CREATE TABLE {{schema}}.join_invitations (
        id {_TEXT} NOT NULL CONSTRAINT join_invitations_key PRIMARY KEY,
        account_id {_TEXT} NOT NULL REFERENCES {{schema}}.business_accounts (id)
            DEFERRABLE INITIALLY DEFERRED,
        email {_TEXT} NOT NULL,
        language {_TEXT} NOT NULL,
        invited_by {_TEXT} NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        token_hash bytea NOT NULL CONSTRAINT join_invitations_token_hash UNIQUE,
        token_ciphertext bytea NOT NULL,
        accepted_at timestamptz,
        accepted_by {_TEXT},
        revoked_at timestamptz,
        revoked_by {_TEXT},
        sent_count bigint NOT NULL,
        last_sent_at timestamptz,
        delivery {_TEXT} NOT NULL,
        delivery_attempts bigint NOT NULL,
        delivery_error {_TEXT} NOT NULL,
        delivery_started_at timestamptz
    )
    """,
    "CREATE INDEX join_invitations_by_account ON {schema}.join_invitations (account_id, id)",
    "CREATE INDEX join_invitations_by_email ON {schema}.join_invitations (account_id, email)",
    f"""
    CREATE TABLE {{schema}}.sessions (
        id {_TEXT} NOT NULL CONSTRAINT sessions_key PRIMARY KEY,
        token_hash bytea NOT NULL CONSTRAINT sessions_token_hash UNIQUE,
        user_id {_TEXT} NOT NULL REFERENCES {{schema}}.users (id) DEFERRABLE INITIALLY DEFERRED,
        method {_TEXT} NOT NULL,
        issued_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        admin_grants jsonb NOT NULL
    )
    """,
    "CREATE INDEX sessions_by_user ON {schema}.sessions (user_id)",
    "CREATE INDEX sessions_by_expiry ON {schema}.sessions (expires_at)",
    f"""
    CREATE TABLE {{schema}}.audit_events (
        id {_TEXT} NOT NULL,
        account_id {_TEXT} NOT NULL,
        at timestamptz NOT NULL,
        actor_id {_TEXT} NOT NULL,
        action {_TEXT} NOT NULL,
        subject {_TEXT} NOT NULL,
        details jsonb NOT NULL,
        CONSTRAINT audit_events_key PRIMARY KEY (account_id, id)
    )
    """,
    f"""
    CREATE TABLE {{schema}}.throttles (
        key {_TEXT} NOT NULL CONSTRAINT throttles_key PRIMARY KEY,
        failures bigint NOT NULL,
        window_started_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        locked_until timestamptz
    )
    """,
    "CREATE INDEX throttles_by_expiry ON {schema}.throttles (expires_at)",
    f"""
    CREATE TABLE {{schema}}.license_keys (
        id {_TEXT} NOT NULL CONSTRAINT license_keys_key PRIMARY KEY,
        account_id {_TEXT} NOT NULL REFERENCES {{schema}}.business_accounts (id)
            DEFERRABLE INITIALLY DEFERRED,
        product {_TEXT} NOT NULL,
        seats bigint NOT NULL CHECK (seats >= 1),
        seats_used bigint NOT NULL CHECK (seats_used BETWEEN 0 AND seats),
        created_at timestamptz NOT NULL,
        created_by {_TEXT} NOT NULL,
        value_hash bytea NOT NULL,
        value_ciphertext bytea NOT NULL,
        expires_at timestamptz,
        status {_TEXT} NOT NULL,
        updated_at timestamptz,
        CONSTRAINT license_keys_account_id_value_hash UNIQUE (account_id, value_hash)
    )
    """,
    "CREATE INDEX license_keys_by_account ON {schema}.license_keys (account_id, id)",
    f"""
    CREATE TABLE {{schema}}.install_invitations (
        id {_TEXT} NOT NULL CONSTRAINT install_invitations_key PRIMARY KEY,
        account_id {_TEXT} NOT NULL,
        key_id {_TEXT} NOT NULL REFERENCES {{schema}}.license_keys (id)
            DEFERRABLE INITIALLY DEFERRED,
        email {_TEXT} NOT NULL,
        language {_TEXT} NOT NULL,
        invited_by {_TEXT} NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        code_hash bytea NOT NULL CONSTRAINT install_invitations_code_hash UNIQUE,
        token_hash bytea NOT NULL CONSTRAINT install_invitations_token_hash UNIQUE,
        secret_ciphertext bytea NOT NULL,
        max_activations bigint NOT NULL CHECK (max_activations >= 1),
        activations bigint NOT NULL CHECK (activations BETWEEN 0 AND max_activations),
        computer_ids jsonb NOT NULL,
        last_activated_at timestamptz,
        revoked_at timestamptz,
        revoked_by {_TEXT},
        sent_count bigint NOT NULL,
        last_sent_at timestamptz,
        delivery {_TEXT} NOT NULL,
        delivery_attempts bigint NOT NULL,
        delivery_error {_TEXT} NOT NULL,
        delivery_started_at timestamptz
    )
    """,
    "CREATE INDEX install_invitations_by_key ON {schema}.install_invitations (key_id, id)",
    f"""
    CREATE TABLE {{schema}}.installations (
        id {_TEXT} NOT NULL CONSTRAINT installations_key PRIMARY KEY,
        account_id {_TEXT} NOT NULL,
        key_id {_TEXT} NOT NULL REFERENCES {{schema}}.license_keys (id)
            DEFERRABLE INITIALLY DEFERRED,
        computer_id {_TEXT} NOT NULL,
        computer_name {_TEXT} NOT NULL,
        email {_TEXT} NOT NULL,
        invitation_id {_TEXT} NOT NULL REFERENCES {{schema}}.install_invitations (id)
            DEFERRABLE INITIALLY DEFERRED,
        activated_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL,
        token_hash bytea NOT NULL CONSTRAINT installations_token_hash UNIQUE,
        status {_TEXT} NOT NULL,
        deactivated_at timestamptz,
        deactivated_by {_TEXT},
        CONSTRAINT installations_key_id_computer_id UNIQUE (key_id, computer_id)
    )
    """,
    "CREATE INDEX installations_by_key ON {schema}.installations (key_id, id)",
    f"""
    CREATE TABLE {{schema}}.computer_blocks (
        account_id {_TEXT} NOT NULL REFERENCES {{schema}}.business_accounts (id)
            DEFERRABLE INITIALLY DEFERRED,
        computer_id {_TEXT} NOT NULL,
        key_id {_TEXT},
        blocked_at timestamptz NOT NULL,
        blocked_by {_TEXT} NOT NULL,
        notes {_TEXT} NOT NULL,
        CONSTRAINT computer_blocks_key UNIQUE NULLS NOT DISTINCT (account_id, computer_id, key_id)
    )
    """,
)

_VERSION_2 = (
    # As SQLite's migration 6: existing keys get no grace, a daily check-in and no culling.
    """
    ALTER TABLE {schema}.license_keys
        ADD COLUMN grace_seconds bigint NOT NULL DEFAULT 0 CHECK (grace_seconds >= 0),
        ADD COLUMN check_in_seconds bigint NOT NULL DEFAULT 86400 CHECK (check_in_seconds >= 1),
        ADD COLUMN dead_after_seconds bigint CHECK (dead_after_seconds >= 2 * check_in_seconds)
    """,
    f"ALTER TABLE {{schema}}.installations ADD COLUMN last_state {_TEXT} NOT NULL DEFAULT 'active'",
    f"""
    CREATE TABLE {{schema}}.culling_keys (
        scope {_TEXT} NOT NULL,
        key_id {_TEXT} NOT NULL REFERENCES {{schema}}.license_keys (id)
            DEFERRABLE INITIALLY DEFERRED,
        account_id {_TEXT} NOT NULL,
        since timestamptz NOT NULL,
        CONSTRAINT culling_keys_key PRIMARY KEY (scope, key_id)
    )
    """,
)

_VERSION_3 = (
    # As SQLite's migration 7: additional keys, grants over every key, notes on computers.
    f"""
    ALTER TABLE {{schema}}.license_keys
        ADD COLUMN primary_id {_TEXT} REFERENCES {{schema}}.license_keys (id)
            DEFERRABLE INITIALLY DEFERRED,
        ADD COLUMN seat_pool {_TEXT},
        ADD COLUMN released_at timestamptz
    """,
    "CREATE INDEX license_keys_by_primary ON {schema}.license_keys (primary_id)",
    "ALTER TABLE {schema}.memberships ADD COLUMN all_license_keys boolean NOT NULL DEFAULT false",
    f"ALTER TABLE {{schema}}.installations ADD COLUMN notes {_TEXT} NOT NULL DEFAULT ''",
)

_VERSION_4 = (
    # As SQLite's migration 8: filtered listings served by indexes; an invitation's phase
    # (the part of its state that does not depend on the clock) as a generated column.
    f"""
    ALTER TABLE {{schema}}.install_invitations ADD COLUMN phase {_TEXT}
        GENERATED ALWAYS AS (CASE
            WHEN revoked_at IS NOT NULL THEN 'revoked'
            WHEN activations >= max_activations THEN 'used_up'
            WHEN activations <> 0 THEN 'activated'
            WHEN sent_count <> 0 THEN 'sent'
            ELSE 'pending' END) STORED
    """,
    "CREATE INDEX install_invitations_by_phase "
    "ON {schema}.install_invitations (key_id, phase, id, expires_at)",
    f"""
    ALTER TABLE {{schema}}.join_invitations ADD COLUMN phase {_TEXT}
        GENERATED ALWAYS AS (CASE
            WHEN accepted_at IS NOT NULL THEN 'accepted'
            WHEN revoked_at IS NOT NULL THEN 'revoked'
            ELSE 'open' END) STORED
    """,
    "CREATE INDEX join_invitations_by_phase "
    "ON {schema}.join_invitations (account_id, phase, id, expires_at)",
    "CREATE INDEX installations_by_status ON {schema}.installations (key_id, status, id)",
    "CREATE INDEX memberships_by_status ON {schema}.memberships (account_id, status, user_id)",
    "CREATE INDEX license_keys_by_status ON {schema}.license_keys (account_id, status, id)",
    "CREATE INDEX computer_blocks_by_key_id "
    "ON {schema}.computer_blocks (account_id, key_id, computer_id)",
)

_VERSION_5 = (
    # As SQLite's migration 9: an invitation whose expiry a listing noted is expired in
    # phase too; its expiry indexed after the phase, for the listings' search for what has
    # expired since. A generated column's expression cannot be changed: it is made again.
    "ALTER TABLE {schema}.install_invitations ADD COLUMN expiry_noted_at timestamptz",
    "ALTER TABLE {schema}.install_invitations DROP COLUMN phase",
    f"""
    ALTER TABLE {{schema}}.install_invitations ADD COLUMN phase {_TEXT}
        GENERATED ALWAYS AS (CASE
            WHEN revoked_at IS NOT NULL THEN 'revoked'
            WHEN activations >= max_activations THEN 'used_up'
            WHEN expiry_noted_at >= expires_at THEN 'expired'
            WHEN activations <> 0 THEN 'activated'
            WHEN sent_count <> 0 THEN 'sent'
            ELSE 'pending' END) STORED
    """,
    "CREATE INDEX install_invitations_by_phase ON {schema}.install_invitations (key_id, phase, id)",
    "CREATE INDEX install_invitations_by_phase_expires_at "
    "ON {schema}.install_invitations (key_id, phase, expires_at)",
    "ALTER TABLE {schema}.join_invitations ADD COLUMN expiry_noted_at timestamptz",
    "ALTER TABLE {schema}.join_invitations DROP COLUMN phase",
    f"""
    ALTER TABLE {{schema}}.join_invitations ADD COLUMN phase {_TEXT}
        GENERATED ALWAYS AS (CASE
            WHEN accepted_at IS NOT NULL THEN 'accepted'
            WHEN revoked_at IS NOT NULL THEN 'revoked'
            WHEN expiry_noted_at >= expires_at THEN 'expired'
            ELSE 'open' END) STORED
    """,
    "CREATE INDEX join_invitations_by_phase ON {schema}.join_invitations (account_id, phase, id)",
    "CREATE INDEX join_invitations_by_phase_expires_at "
    "ON {schema}.join_invitations (account_id, phase, expires_at)",
    # The current members (active and blocked) in one filtered listing.
    f"""
    ALTER TABLE {{schema}}.memberships ADD COLUMN tenure {_TEXT}
        GENERATED ALWAYS AS (CASE WHEN status = 'removed' THEN 'former' ELSE 'current' END)
        STORED
    """,
    "CREATE INDEX memberships_by_tenure ON {schema}.memberships (account_id, tenure, user_id)",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    _VERSION_1,  # 0 -> 1: every kind of record, as licensekit 0.1 keeps them
    _VERSION_2,  # 1 -> 2: grace, check-in interval and culling per key; last state told;
    # the keys that cull
    _VERSION_3,  # 2 -> 3: additional keys, grants over every key, notes on computers
    _VERSION_4,  # 3 -> 4: filtered listings served by indexes; invitations' phases
    _VERSION_5,  # 4 -> 5: expired invitations apart from live ones; current members
)
SCHEMA_VERSION = len(MIGRATIONS)

TABLE_NAMES = (
    "users",
    "business_accounts",
    "memberships",
    "join_invitations",
    "sessions",
    "audit_events",
    "throttles",
    "license_keys",
    "install_invitations",
    "installations",
    "computer_blocks",
    "culling_keys",
)
"""The tables the migrations make; a schema holding one without licensekit's version table
belongs to something else and is refused."""
