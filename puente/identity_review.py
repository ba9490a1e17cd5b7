"""An operator's decision on identity resolution, kept in ``ops.customer_match_overrides``.

``marts.customer_review_queue`` lists the pairs of customer records the matching is not sure
about. A person answers, for a pair, ``same`` (one customer: a 'merge' row) or ``different`` (two
customers: a 'distinct' row); ``split`` takes one record out of whatever customer the rules put
it in, and ``revoke`` undoes the decisions taken on a pair (or, without a second record, on a
record's split). Rows are never deleted, so a decision holds every night until revoked; the next
night's dbt build honours it (int_customer_match_evidence) and the pair leaves the queue.

The same insert works from SQL (dbt_project/README.md shows it) and from the Airflow UI: the DAG
``puente_review_decisions`` calls ``record_decision`` with its trigger form's fields.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg

from puente.sources import contracts

DECISIONS = {"same": "merge", "different": "distinct", "split": "split", "revoke": None}
# `<record_type>:<id>`, a record type of the registry's (int_customer_records_unioned.record_type)
RECORD_KEY = re.compile(rf"^({'|'.join(contracts.record_types())}):\S+$")


class InvalidDecision(ValueError):
    """A decision that cannot be recorded as given (the message says what to fix)."""


def record_decision(url: str, record_key: str, other_record_key: str | None, decision: str,
                    reason: str | None, decided_by: str | None) -> dict[str, Any]:
    """Record one decision and return what was written (``{"action", "rows", ...}``).

    Both records must be customer records the last night saw (intermediate.int_customer_records_unioned),
    so a mistyped key fails loudly instead of being kept forever to no effect.
    """
    record_key, other = record_key.strip(), (other_record_key or "").strip() or None
    if decision not in DECISIONS:
        raise InvalidDecision(f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}")
    for key in (record_key, other):
        if key is not None and not RECORD_KEY.match(key):
            raise InvalidDecision(f"{key!r} is not a record key such as 'odoo_partner:42' or 'hubspot_contact:901'"
                                  " (marts.customer_review_queue lists them)")
    if decision in ("same", "different") and other is None:
        raise InvalidDecision(f"'{decision}' is about a pair: give the other record's key too")
    if other == record_key:
        raise InvalidDecision("the two record keys are the same record")
    if not (decided_by or "").strip():
        raise InvalidDecision("say who decides (decided_by): decisions are kept forever and shown with their author")
    with psycopg.connect(url) as conn:
        known = conn.execute("select to_regclass('intermediate.int_customer_records_unioned') is not null, "
                             "to_regclass('ops.customer_match_overrides') is not null").fetchone()
        if not all(known):
            raise InvalidDecision("identity resolution has not run on this warehouse yet: run a night first")
        keys = [k for k in (record_key, other) if k]
        found = {row[0] for row in conn.execute(
            "select record_key from intermediate.int_customer_records_unioned where record_key = any(%s)", (keys,))}
        missing = [k for k in keys if k not in found]
        if missing:
            raise InvalidDecision(f"no customer record {', '.join(missing)} in the last night's records")
        if decision == "revoke":
            # a pair's decisions, or (without a second record) the record's split: never both
            if other is None:
                target = "other_record_key is null and record_key = %(key)s and action = 'split'"
            else:
                target = ("least(record_key, other_record_key) = least(%(key)s, %(other)s)"
                          " and greatest(record_key, other_record_key) = greatest(%(key)s, %(other)s)")
            # who revoked and why, where the table has the columns (stg_ops__customer_match_overrides
            # adds them; a table created before that gets them at the next build)
            columns = {row[0] for row in conn.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'ops' and table_name = 'customer_match_overrides'")}
            audit = ", revoked_by = %(by)s, revoke_reason = %(reason)s, revoked_at = now()" \
                if {"revoked_by", "revoke_reason", "revoked_at"} <= columns else ""
            rows = conn.execute(
                f"update ops.customer_match_overrides set is_revoked = true{audit} where not is_revoked and {target}",
                {"key": record_key, "other": other, "by": decided_by.strip(),
                 "reason": (reason or "").strip() or None}).rowcount
            if not rows:  # a revoke that undoes nothing is a mistyped pair, not a success
                what = f"the pair {record_key} / {other}" if other else f"a split of {record_key}"
                raise InvalidDecision(f"no decision in force on {what} to revoke (ops.customer_match_overrides)")
            return {"action": "revoke", "rows": rows, "record_key": record_key, "other_record_key": other}
        conn.execute(
            "insert into ops.customer_match_overrides (record_key, other_record_key, action, reason, decided_by) "
            "values (%s, %s, %s, %s, %s)",
            (record_key, other, DECISIONS[decision], (reason or "").strip() or None, decided_by.strip()))
    return {"action": DECISIONS[decision], "rows": 1, "record_key": record_key, "other_record_key": other}
