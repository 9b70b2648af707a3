"""PostgreSQL serves the filtered listings of invitations through their indexes.

A listing of an account's join invitations in one phase reads the index (account_id,
phase, id): the rows come in the listing's order, so the server reads a page's worth and
sorts nothing. A listing that also bounds ``expires_at`` (a Range) reads the index
(account_id, phase, expires_at) instead: only the invitations in the range, sorted then.
The plans are those of the store's own statements (:meth:`PgTableSQL.filtered_pages`) on a
table of many accounts whose statistics ANALYZE has gathered: with values bound, as the
server plans a call, and prepared, as the server may plan a statement
the driver prepared after its first calls. A Range page's statement fences the range's
conditions (``OFFSET 0``), so that a plan made for any range still reads the range's index
rather than the phase index in order with the range tested on every row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql as pgsql

from _postgres import DSN, drop_schema, new_schema
from licensekit.domain.model import BusinessAccount, JoinInvitation
from licensekit.storage import ACCOUNTS, JOIN_INVITATIONS
from licensekit.stores.postgres import PostgresStore

T0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
_ACCOUNTS, _EACH = 100, 200
"""Accounts, and invitations of each: 20,000 in all."""


def _invitation(account: str, n: int) -> JoinInvitation:
    """The *n*-th invitation of *account*: accepted (6 in 10), revoked (1 in 10) or open.

    Each expires a day after the one before it, so that a Range of a few days holds few.
    """
    phase = n % 10
    return JoinInvitation(
        id=f"jinv_{account}_{n:04d}",
        account_id=account,
        email=f"guest{n}.{account}@example.com",
        language="en",
        invited_by="usr_admin",
        created_at=T0,
        expires_at=T0 + dt.timedelta(days=n),
        token_hash=f"{account}:{n}".encode().ljust(32, b"\0"),
        token_ciphertext=b"token",
        accepted_at=T0 if phase < 6 else None,
        accepted_by="usr_member" if phase < 6 else None,
        revoked_at=T0 if phase == 6 else None,
        revoked_by="usr_admin" if phase == 6 else None,
    )


@pytest.fixture(scope="module")
def store() -> Iterator[PostgresStore]:
    schema = new_schema("plans")
    opened = PostgresStore(DSN, schema=schema)
    accounts = [
        BusinessAccount(id=f"acc{a:03d}", name="Example", created_at=T0, created_by="usr_admin")
        for a in range(_ACCOUNTS)
    ]
    with opened.transaction() as tx:
        tx.add(ACCOUNTS, accounts)
        tx.add(JOIN_INVITATIONS, [_invitation(a.id, n) for a in accounts for n in range(_EACH)])
    with psycopg.connect(DSN, autocommit=True) as admin:
        admin.execute(f'ANALYZE "{schema}".join_invitations')
    yield opened
    opened.close()
    drop_schema(schema)


def _plan(sql: str, params: list[Any], *, generic: bool = False) -> list[dict[str, Any]]:
    """Every node of the plan the server makes for *sql* with *params* bound.

    *generic*: the plan of the statement prepared, for any values (as the server may plan a
    statement the driver prepared after its first calls).
    """
    with psycopg.connect(DSN) as connection:
        if generic:
            connection.execute("SET plan_cache_mode = force_generic_plan")
            numbered = sql
            for n in range(1, len(params) + 1):
                numbered = numbered.replace("%s", f"${n}", 1)
            connection.execute(f"PREPARE page AS {numbered}")
            values = pgsql.SQL(", ").join(map(pgsql.Literal, params))
            explained_sql = pgsql.SQL("EXPLAIN (FORMAT JSON) EXECUTE page({})").format(values)
            ((explained,),) = connection.execute(explained_sql).fetchall()
        else:
            ((explained,),) = connection.execute(f"EXPLAIN (FORMAT JSON) {sql}", params).fetchall()
    nodes, todo = [], [explained[0]["Plan"]]
    while todo:
        node = todo.pop()
        nodes.append(node)
        todo += node.get("Plans", [])
    return nodes


def _indexes(nodes: list[dict[str, Any]]) -> set[str]:
    return {node["Index Name"] for node in nodes if "Index Name" in node}


@pytest.mark.parametrize("phase", ["open", "revoked", "accepted"])
@pytest.mark.parametrize("cursor", [False, True], ids=["first page", "after a cursor"])
@pytest.mark.parametrize("generic", [False, True], ids=["values bound", "prepared"])
def test_a_page_by_phase_reads_the_phase_index_in_order_and_sorts_nothing(
    store: PostgresStore, phase: str, cursor: bool, generic: bool
) -> None:
    first, after = store._tables["join_invitations"].filtered_pages(("phase",), (), frozenset())
    owner = "acc042"
    sql, params = (
        (after, [owner, phase, f"jinv_{owner}_0100", 20])
        if cursor
        else (
            first,
            [owner, phase, 20],
        )
    )
    nodes = _plan(sql, params, generic=generic)
    assert _indexes(nodes) == {"join_invitations_by_phase"}, nodes
    assert not [n for n in nodes if n["Node Type"] in {"Sort", "Incremental Sort"}], nodes
    assert [n["Node Type"] for n in nodes][:2] == ["Limit", "Index Scan"], nodes


@pytest.mark.parametrize(
    ("side", "moment"),
    [("above", T0 + dt.timedelta(days=_EACH - 6)), ("up_to", T0 + dt.timedelta(days=5))],
)
@pytest.mark.parametrize("cursor", [False, True], ids=["first page", "after a cursor"])
@pytest.mark.parametrize("generic", [False, True], ids=["values bound", "prepared"])
def test_a_page_by_phase_within_a_range_reads_the_expiry_index(
    store: PostgresStore, side: str, moment: dt.datetime, cursor: bool, generic: bool
) -> None:
    """A few days' invitations of the most common phase: the range's index finds just those."""
    first, after = store._tables["join_invitations"].filtered_pages(
        ("phase",), (("expires_at", side),), frozenset()
    )
    owner = "acc042"
    head = [owner, "accepted", moment]
    sql, params = (after, [*head, f"jinv_{owner}_0001", 20]) if cursor else (first, [*head, 20])
    nodes = _plan(sql, params, generic=generic)
    assert _indexes(nodes) == {"join_invitations_by_phase_expires_at"}, nodes
