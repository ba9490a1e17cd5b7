"""An operator's decision on identity resolution, kept in ``ops.customer_match_overrides``.

``marts.customer_review_queue`` lists the pairs of customer records the matching is not sure
about. A person answers, for a pair, ``same`` (one customer: a 'merge' row) or ``different`` (two
customers: a 'distinct' row); ``split`` takes one record out of whatever customer the rules put
it in. Rows are never deleted, so a decision holds every night until revoked; the next night's
dbt build honours it (int_customer_match_evidence) and the pair leaves the queue.

What is in force: on a pair, its latest 'merge' or 'distinct' not revoked (an earlier one it
contradicts is overruled: marts.audit_log says so); on a record, its split not revoked, whatever
record the split names beside it. Repeating the decision in force records nothing (the answer
says it was already recorded, with the row that holds it); the opposite answer on a pair is a new
row, which wins. ``revoke`` on a pair undoes its 'merge' and 'distinct' decisions, the one in force
and those it overruled (none comes back into force: the pair is undecided again and returns to the
queue if its score is doubtful), never a split; ``revoke`` without a second record undoes the
record's split.

The same insert works from SQL (dbt_project/README.md shows it) and from the Airflow UI: the DAG
``puente_review_decisions`` calls ``record_decision`` with its trigger form's fields. The table's
constraints (stg_ops__customer_match_overrides) refuse in SQL what this module refuses before
looking at the warehouse; that a key names a record the nights saw is checked here only
(marts.data_issues lists a decision in force that names none).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC
from typing import Any

import psycopg

from puente.sources import contracts

log = logging.getLogger(__name__)

DECISIONS = {"same": "merge", "different": "distinct", "split": "split", "revoke": None}
# `<record_type>:<id>`, a record type of the registry's (int_customer_records_unioned.record_type)
RECORD_KEY = re.compile(rf"^({'|'.join(contracts.record_types())}):\S+$")


# the rows about the pair %(key)s / %(other)s, in either order
_PAIR = ("least(record_key, other_record_key) = least(%(key)s, %(other)s)"
         " and greatest(record_key, other_record_key) = greatest(%(key)s, %(other)s)")


class InvalidDecision(ValueError):
    """A decision that cannot be recorded as given (the message says what to fix)."""


def _author(decided_by: str | None) -> str:
    if not (decided_by or "").strip():
        raise InvalidDecision("say who decides (decided_by): decisions are kept forever and shown with their author")
    return decided_by.strip()


def _one_at_a_time(conn: psycopg.Connection) -> None:
    """One decision at a time: two people answering the same pair at once must not both write it."""
    conn.execute("select pg_advisory_xact_lock(hashtext('ops.customer_match_overrides'))")


def record_decision(url: str, record_key: str, other_record_key: str | None, decision: str,
                    reason: str | None, decided_by: str | None, override_id: int | None = None) -> dict[str, Any]:
    """Record one decision and return what was done: ``{"action", "rows", "record_key",
    "other_record_key", "already_recorded", "message"}``, and ``override_id``, the row that holds a
    'merge', 'distinct' or 'split' (the existing one when the decision was already in force).

    Both records of a new decision must be customer records the last night saw
    (intermediate.int_customer_records_unioned), so a mistyped key fails loudly instead of being kept
    forever to no effect. A revoke needs no such record: it may undo a decision about a record gone
    from its source, or one typed wrong in SQL (marts.data_issues lists them).

    ``override_id`` names the decision to revoke instead of its record keys (``decision`` 'revoke',
    no keys): it is revoked as its own keys, exactly as stored, would revoke it (a pair's 'merge' and
    'distinct' rows, or the record's split). marts.data_issues names a decision whose key names no
    record by this id, and it reaches a row the keys cannot: one written before the table's rules
    with a malformed key (``odoo partner 5``, a trailing non-breaking space).
    """
    record_key, other = record_key.strip(), (other_record_key or "").strip() or None
    if decision not in DECISIONS:
        raise InvalidDecision(f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}")
    if override_id is not None:
        if decision != "revoke" or record_key or other:
            raise InvalidDecision("a decision id (override_id) is given only to revoke that decision, without record keys")
        return _revoke_by_id(url, override_id, reason, decided_by)
    for key in (record_key, other):
        if key is not None and not RECORD_KEY.match(key):
            raise InvalidDecision(f"{key!r} is not a record key such as 'odoo_partner:42' or 'hubspot_contact:901'"
                                  " (marts.customer_review_queue lists them)")
    if decision in ("same", "different") and other is None:
        raise InvalidDecision(f"'{decision}' is about a pair: give the other record's key too")
    if other == record_key:
        raise InvalidDecision("the two record keys are the same record")
    decided_by, reason = _author(decided_by), (reason or "").strip() or None
    with psycopg.connect(url) as conn:
        known = conn.execute("select to_regclass('intermediate.int_customer_records_unioned') is not null, "
                             "to_regclass('ops.customer_match_overrides') is not null").fetchone()
        if not all(known):
            raise InvalidDecision("identity resolution has not run on this warehouse yet: run a night first")
        keys = [k for k in (record_key, other) if k]
        found = {row[0] for row in conn.execute(
            "select record_key from intermediate.int_customer_records_unioned where record_key = any(%s)", (keys,))}
        missing = [k for k in keys if k not in found]
        if missing and decision != "revoke":
            raise InvalidDecision(f"no customer record {', '.join(missing)} in the last night's records")
        _one_at_a_time(conn)
        params = {"key": record_key, "other": other, "by": decided_by, "reason": reason}
        if decision == "revoke":
            return _revoke(conn, record_key, other, params)
        action = DECISIONS[decision]
        # the decision in force (int_customer_match_evidence: the pair's latest 'merge' or 'distinct'
        # wins; a record's split, whatever record it names beside it)
        in_force = _PAIR + " and action in ('merge', 'distinct')" if action != "split" \
            else "record_key = %(key)s and action = 'split'"
        current = conn.execute(
            f"select override_id, action, decided_by, decided_at from ops.customer_match_overrides"
            f" where not is_revoked and {in_force} order by decided_at desc, override_id desc limit 1",
            params).fetchone()
        what = f"{action} of {record_key}" + (f" / {other}" if other else "")
        if current and current[1] == action:
            message = (f"already recorded: {what} is in force since {current[3].astimezone(UTC):%Y-%m-%d %H:%M} UTC"
                       f" (by {current[2] or 'unknown'}, override_id {current[0]}); nothing new written")
            log.info(message)
            return {"action": action, "rows": 0, "record_key": record_key, "other_record_key": other,
                    "already_recorded": True, "override_id": current[0], "message": message}
        override_id = conn.execute(
            # dated when written, under the lock (not when this transaction began, before it waited
            # for the lock): the latest decision is the one in force, and the lock's order is theirs
            "insert into ops.customer_match_overrides"
            " (record_key, other_record_key, action, reason, decided_by, decided_at)"
            " values (%(key)s, %(other)s, %(action)s, %(reason)s, %(by)s, clock_timestamp()) returning override_id",
            {**params, "action": action}).fetchone()[0]
    message = f"recorded: {what} (override_id {override_id})" + (
        f"; it overrules the {current[1]} in force (override_id {current[0]})" if current else "")
    log.info(message)
    return {"action": action, "rows": 1, "record_key": record_key, "other_record_key": other,
            "already_recorded": False, "override_id": override_id, "message": message}


def revoke_where(conn: psycopg.Connection, where: str, params: dict[str, Any], revoked_by: str,
                 reason: str | None) -> int:
    """Revoke the decisions in force that ``where`` selects (SQL over ops.customer_match_overrides,
    its placeholders in ``params``): the rows stay, ``is_revoked``, with who revoked them and why
    where the table has those columns (stg_ops__customer_match_overrides adds them; a table created
    before that gets them at the next build). How many were revoked."""
    columns = {row[0] for row in conn.execute(
        "select column_name from information_schema.columns"
        " where table_schema = 'ops' and table_name = 'customer_match_overrides'")}
    audit = ", revoked_by = %(revoked_by)s, revoke_reason = %(revoke_reason)s, revoked_at = now()" \
        if {"revoked_by", "revoke_reason", "revoked_at"} <= columns else ""
    return conn.execute(
        f"update ops.customer_match_overrides set is_revoked = true{audit} where not is_revoked and ({where})",
        {**params, "revoked_by": revoked_by, "revoke_reason": reason}).rowcount


def _revoke(conn: psycopg.Connection, record_key: str, other: str | None, params: dict[str, Any]) -> dict[str, Any]:
    """Undo, on a pair, its 'merge' and 'distinct' decisions (the one in force and those it
    overruled, so none comes back); without a second record, the record's split."""
    target = _PAIR + " and action in ('merge', 'distinct')" if other else "record_key = %(key)s and action = 'split'"
    rows = revoke_where(conn, target, params, params["by"], params["reason"])
    if not rows:  # a revoke that undoes nothing is a mistyped pair, not a success
        if other is None:
            raise InvalidDecision(f"no decision in force on a split of {record_key} to revoke"
                                  " (ops.customer_match_overrides; a pair's decision is revoked with both record keys)")
        split = conn.execute(
            "select record_key from ops.customer_match_overrides where not is_revoked and action = 'split'"
            f" and {_PAIR} order by override_id limit 1", params).fetchone()
        hint = (f"; {split[0]}'s split names the other record: revoke it with {split[0]} alone"
                if split else "")
        raise InvalidDecision(f"no decision in force on the pair {record_key} / {other} to revoke"
                              f" (ops.customer_match_overrides){hint}")
    what = f"the pair {record_key} / {other}" if other else f"the split of {record_key}"
    message = f"revoked: {rows} decision(s) on {what}"
    log.info(message)
    return {"action": "revoke", "rows": rows, "record_key": record_key, "other_record_key": other,
            "already_recorded": False, "message": message}


def _revoke_by_id(url: str, override_id: int, reason: str | None, decided_by: str | None) -> dict[str, Any]:
    """``record_decision``'s revoke of decision ``override_id``, through its keys as stored."""
    decided_by, reason = _author(decided_by), (reason or "").strip() or None
    with psycopg.connect(url) as conn:
        if conn.execute("select to_regclass('ops.customer_match_overrides') is null").fetchone()[0]:
            raise InvalidDecision("no decision has been recorded on this warehouse yet")
        _one_at_a_time(conn)
        # as json: a table older than the revoke's columns (revoked_by, revoked_at) is read too
        row = conn.execute("select to_jsonb(decision), (to_jsonb(decision) ->> 'revoked_at')::timestamptz"
                           " from ops.customer_match_overrides as decision where override_id = %s",
                           (override_id,)).fetchone()
        if row is None:
            raise InvalidDecision(f"no decision with override_id {override_id} (ops.customer_match_overrides)")
        decision, revoked_at = row
        record_key, action = decision["record_key"], decision["action"]
        if decision["is_revoked"]:
            when = f" on {revoked_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if revoked_at else ""
            raise InvalidDecision(f"decision {override_id} ({action} of {record_key}) was already revoked"
                                  f" by {decision.get('revoked_by') or 'unknown'}{when}")
        pair_other = None if action == "split" else decision["other_record_key"]
        done = _revoke(conn, record_key, pair_other,
                       {"key": record_key, "other": pair_other, "by": decided_by, "reason": reason})
    return {**done, "override_id": override_id, "message": f"decision {override_id}: {done['message']}"}
