"""Reconciliation with records quarantined without an id (found by the chaos bench, issue 10)."""

from __future__ import annotations

import json
from datetime import date

import psycopg

from puente.reconcile import reconcile
from puente.warehouse import raw_object

CUSTOMERS = raw_object("shopify", "customers")
NIGHT = date(2026, 11, 10)


def land(conn: psycopg.Connection, *ids: int) -> None:
    for rid in ids:
        conn.execute(f"insert into {CUSTOMERS.qualified_table} (source_id, record, source_updated_at, _batch_id) "
                     "values (%s, %s, now(), 'b')", (str(rid), json.dumps({"id": rid})))


def quarantine(conn: psycopg.Connection, rid: int | None, email: str) -> None:
    payload = {"email": email} if rid is None else {"id": rid, "email": email}
    conn.execute("insert into ops.quarantine (batch_id, source, object, source_id, payload, reason) "
                 "values ('b', 'shopify', 'customers', %s, %s, 'bad')",
                 (None if rid is None else str(rid), json.dumps(payload)))


def test_a_record_quarantined_without_an_id_accounts_for_one_raw_lacks(fresh_db):
    with psycopg.connect(fresh_db) as conn:
        land(conn, 1, 2)
        quarantine(conn, None, "c@x.co")  # record 3, served without its id
        check = reconcile(conn, CUSTOMERS, 3, "b", NIGHT)
    assert check.ok and check.quarantined_outstanding == 1, check.message()


def test_a_record_fixed_after_it_was_quarantined_without_an_id_does_not_fail_later_nights(fresh_db):
    """Night 1 the source served record 3 without its id; night 2 the same record was quarantined
    with its id (bad text); night 3 it landed. Before the fix the id-less payload kept counting:
    the source has 3, raw 3 + 1 quarantined, and every later night failed at extraction."""
    with psycopg.connect(fresh_db) as conn:
        land(conn, 1, 2)
        quarantine(conn, None, "c@x.co")
        quarantine(conn, 3, "c@x.co")
        second = reconcile(conn, CUSTOMERS, 3, "b", NIGHT)
        land(conn, 3)
        third = reconcile(conn, CUSTOMERS, 3, "b", NIGHT)
    assert second.ok and second.quarantined_outstanding == 1, second.message()
    assert third.ok and third.quarantined_outstanding == 0, third.message()


def test_a_record_missing_beyond_those_quarantined_without_an_id_is_still_a_difference(fresh_db):
    with psycopg.connect(fresh_db) as conn:
        land(conn, 1)
        quarantine(conn, None, "c@x.co")
        check = reconcile(conn, CUSTOMERS, 3, "b", NIGHT)
        too_many = reconcile(conn, CUSTOMERS, 0, "b", NIGHT)
    assert not check.ok and check.difference == 1
    assert "1 missing from raw" in check.message()
    assert not too_many.ok and too_many.difference == -1 and too_many.quarantined_outstanding == 0
