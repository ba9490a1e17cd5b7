"""The activation engine: send what changed, exactly once, and keep the books.

For one activation and one run:

1. **Diff.** Read the activation model (``activations.act_<name>``) against what the target last
   accepted (``ops.activation_state``): a row is pending when its ``compare`` (default: its
   payload) differs from the accepted one, when it was never accepted, or when the target was
   observed again after the acceptance and the model still asks for a change (``observed_at``).
   Rows an operator dropped (``ops.activation_dropped``) are left alone.
2. **Check.** A pending row is not sent when the model says why it cannot be
   (``invalid_reason``), when it writes a field the activation does not own, or when its
   customer has not authorised every purpose the activation declares
   (``marts.customer_authorisations``, Habeas Data): withheld, counted, never sent, not a task
   for anyone. An update whose target still shows what Puente wrote before the authorisation
   was withdrawn is turned into the clearing of those fields (an empty value each), so the
   record stops showing Puente's data about the person.
3. **Dry run** stops here: totals, pending, invalid with their reasons and a sample of the
   payloads, recorded in ``ops.activation_runs``; nothing is sent and no state moves.
4. **Idempotent creates.** Before creating, the writer looks the external keys up in the target
   (``client_order_ref`` in the ERP…); a record found there was created by an earlier run that
   crashed before recording it: it is adopted, and the writer finishes what that run left
   undone (confirming the order…) instead of creating it again. Where the target itself refuses
   a duplicate key (HubSpot tasks' ``puente_task_key``), the lookup is skipped and the writer
   adopts the record the conflict names.
5. **Send** in batches of the declared size, paced by the writer's HTTP client. Every row's
   outcome is committed with its batch: one ``ops.activation_audit`` row (fields old → new, the
   target's answer verbatim), the new ``ops.activation_state`` when accepted, and the work list
   (``ops.activation_issues``) when refused. Refused rows stay pending, so later runs send them
   again until they are accepted or an operator drops them.

Two runs of the same activation never overlap (an advisory lock per activation), so the nightly
DAG and the frequent web-orders DAG cannot post the same order twice. A dry run takes no lock: it
sends nothing, so it neither waits for a run that sends nor holds one back.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from puente.activation.spec import MODEL_COLUMNS, Activation
from puente.activation.writers import Outcome, Row, Writer
from puente.field_crypto import CONN_ID, ENV, FieldKeyError, FieldKeys, holds_sealed
from puente.sources.http import SourceError, UncertainWrite

log = logging.getLogger(__name__)

SAMPLE_ROWS = 3
REASONS_SHOWN = 10


class ActivationBusy(RuntimeError):
    """Another run is sending the same activation right now."""


class UnknownRowKeys(LookupError):
    """Row keys an operator named that the activation does not know (a typing mistake, most likely)."""


class ActivationModelMissing(RuntimeError):
    """The activation's dbt model is not built (or lacks the contract's columns)."""


@dataclass
class ActivationResult:
    activation: str
    run_id: str
    dry_run: bool
    rows: int = 0            # rows the model holds
    pending: int = 0         # rows that differ from what the target last accepted
    invalid: int = 0         # pending rows the model or the engine refuses to send
    withheld: int = 0        # pending rows whose customer did not authorise the activation's purposes
    cleared: int = 0         # of ``sent``, Puente's earlier fields cleared because the authorisation went
    sent: int = 0            # rows the target accepted tonight
    adopted: int = 0         # creates found already done in the target (an earlier crash)
    failed: int = 0          # rows the target refused or that could not be sent
    created: int = 0         # of ``sent``, new records in the target
    requests: int = 0
    seconds: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)   # invalid and failed, by reason
    samples: list[dict[str, Any]] = field(default_factory=list)
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> dict[str, Any]:
        """What a DAG task hands to Airflow (its XCom, kept in Airflow's metadata database, out of an
        erasure's reach): the counts, without the rows' content. The sample payloads of a dry run
        (names, e-mails, addresses) and the reasons (a target's answer may quote a record's value)
        stay in ops.activation_runs under ``run_id``, which an erasure scrubs."""
        return {k: v for k, v in self.as_dict().items() if k not in ("samples", "reasons")} | {
            "reasons": sum(self.reasons.values())}


def run_activation(url: str, activation: Activation, writer: Writer | None, *, logical_date: date | None = None,
                   dry_run: bool = False, run_id: str | None = None,
                   field_keys: FieldKeys | None = None) -> ActivationResult:
    """Run ``activation`` once: diff, check, then (unless ``dry_run``) send through ``writer``.

    A phone or tax id the warehouse holds sealed (``puente.field_crypto``) is opened with
    ``field_keys`` as it is handed to the writer, and only there: the state, the audit and the work
    list keep it sealed. Without the key such a row is not sent (the target would get ciphertext)."""
    run_id = run_id or f"{activation.name}.{(logical_date or date.today()).isoformat()}.{uuid.uuid4().hex[:8]}"
    result = ActivationResult(activation.name, run_id, dry_run)
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        # a dry run sends nothing and books nothing but its run: it neither waits for a run that sends
        # nor holds one back (an operator's preview during the night does not fail the night's task)
        lock = None if dry_run else zlib.crc32(f"puente.activation.{activation.name}".encode())
        if lock is not None and not conn.execute("select pg_try_advisory_lock(%s) as ok", (lock,)).fetchone()["ok"]:
            raise ActivationBusy(f"{activation.name}: another run is sending this activation now; this one "
                                 "sends nothing, and its retry (or the next run) sends what the other leaves")
        try:
            _check_model(conn, activation)
            pending = _pending(conn, activation, result)
            sendable = _triage(conn, activation, pending, result, dry_run)
            if dry_run:
                result.samples = [{"row_key": r["row_key"], "target_id": r["target_id"],
                                   "external_key": r["external_key"], "payload": r["payload"]}
                                  for r in sendable[:SAMPLE_ROWS]]
            elif sendable:
                if writer is None:
                    raise ValueError(f"{activation.name}: a writer is needed to send {len(sendable)} rows")
                _send(conn, activation, writer, sendable, result, logical_date, field_keys)
            if not dry_run:
                _resolve(conn, activation)
        finally:
            result.seconds = round(time.monotonic() - started, 3)
            result.requests = writer.requests_made if writer is not None else 0
            _record_run(conn, activation, result, logical_date)
            if lock is not None:
                conn.execute("select pg_advisory_unlock(%s)", (lock,))
    log.info("activation %s%s: %d rows, %d pending, %d sent (%d created, %d adopted), %d failed, %d invalid, "
             "%d withheld, %d requests, %.1f s", activation.name, " (dry run)" if dry_run else "", result.rows,
             result.pending, result.sent, result.created, result.adopted, result.failed, result.invalid,
             result.withheld, result.requests, result.seconds)
    return result


def pending_rows(url: str, activation: Activation) -> list[dict[str, Any]]:
    """The rows of ``activation`` that differ from what the target last accepted (nothing is sent)."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        _check_model(conn, activation)
        return _pending(conn, activation, ActivationResult(activation.name, "preview", True))


# --------------------------------------------------------------------------------------------


# Whether the row's customer authorised every purpose the activation declares (``%(purposes)s``).
_AUTHORISED = """(
    select count(distinct a.purpose) = cardinality(%(purposes)s::text[])
    from marts.customer_authorisations as a
    where a.customer_id::text = m.customer_id and a.is_authorised and a.purpose = any(%(purposes)s::text[])
)"""


def _check_model(conn: psycopg.Connection, activation: Activation) -> None:
    schema, table = activation.relation.split(".", 1)
    columns = {r["column_name"] for r in conn.execute(
        "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
        (schema, table))}
    if not columns:
        raise ActivationModelMissing(
            f"{activation.relation} does not exist: build it first (dbt build --select {activation.model}), "
            "or run the whole puente_nightly DAG")
    if activation.purposes and conn.execute(
            "select to_regclass('marts.customer_authorisations') is null as absent").fetchone()["absent"]:
        raise ActivationModelMissing(
            f"{activation.name} is sent only to customers who authorised {', '.join(activation.purposes)}, and "
            "marts.customer_authorisations does not exist: build it first (dbt build --select customer_authorisations)")
    missing = [c for c in MODEL_COLUMNS if c not in columns]
    if missing:
        raise ActivationModelMissing(f"{activation.relation} lacks the activation columns {missing} "
                                     "(see puente/activation/spec.py)")


def _pending(conn: psycopg.Connection, activation: Activation, result: ActivationResult) -> list[dict[str, Any]]:
    result.rows = conn.execute(f"select count(*) as n from {activation.relation}").fetchone()["n"]
    rows = conn.execute(
        f"""
        select m.row_key, m.target_id, m.external_key, m.payload, coalesce(m.compare, m.payload) as compare,
               coalesce(m.compare, m.payload)::text as compare_text,
               m.invalid_reason, m.customer_id, coalesce(m.context, '{{}}'::jsonb) as context,
               s.target_id as accepted_target_id, s.payload as accepted_payload,
               {_AUTHORISED if activation.purposes else "true"} as is_authorised
        from {activation.relation} as m
        left join ops.activation_state as s
            on s.activation = %(name)s and s.row_key = m.row_key
        where
            m.row_key is not null
            and not exists (select from ops.activation_dropped as d
                            where d.activation = %(name)s and d.row_key = m.row_key)
            and (
                s.row_key is null
                or s.compare_hash is distinct from md5(coalesce(m.compare, m.payload)::text)
                or (m.observed_at is not null and s.accepted_at < m.observed_at)
            )
        order by m.row_key
        """, {"name": activation.name, "purposes": list(activation.purposes)}).fetchall()
    result.pending = len(rows)
    return rows


def _triage(conn: psycopg.Connection, activation: Activation, rows: list[dict[str, Any]],
            result: ActivationResult, dry_run: bool) -> list[dict[str, Any]]:
    """The pending rows that may be sent; the others are counted (and, unless a dry run, listed)."""
    sendable, refused = [], []
    owned = set(activation.owns)
    for row in rows:
        reason = row["invalid_reason"]
        foreign = sorted(set(row["payload"] or {}) - owned)
        if not reason and foreign:
            reason = (f"Puente does not own {', '.join(foreign)} in {activation.target} {activation.object}; "
                      "the activation model must not send it")
        if reason:
            result.invalid += 1
            result.reasons[reason] = result.reasons.get(reason, 0) + 1
            refused.append((row, reason))
        elif not row["is_authorised"]:
            cleared = _clearing(activation, row)
            if cleared is None:
                result.withheld += 1
            else:
                result.cleared += 1
                sendable.append(cleared)
        else:
            sendable.append(row)
    if refused and not dry_run:
        with conn.transaction():
            for row, reason in refused:
                _issue(conn, activation, row, "invalid", reason, None)
    return sendable


def _clearing(activation: Activation, row: dict[str, Any]) -> dict[str, Any] | None:
    """For an unauthorised update row: the clearing of what the target last accepted from Puente,
    when some of it still shows; None when there is nothing to clear (the row is withheld)."""
    accepted = row["accepted_payload"] or {}
    if activation.mode != "update" or not any(v not in (None, "") for v in accepted.values()):
        return None
    empty = {name: "" for name in accepted}
    return {**row, "payload": empty, "compare": empty, "compare_text": json.dumps(empty)}


def _send(conn: psycopg.Connection, activation: Activation, writer: Writer, rows: list[dict[str, Any]],
          result: ActivationResult, logical_date: date | None, field_keys: FieldKeys | None = None) -> None:
    done = 0  # rows whose outcome is booked
    uncertain: list[str] = []  # errors of writes whose answer was lost
    try:
        writer.prepare(activation.object)
        if activation.mode in ("create", "upsert") and not writer.refuses_duplicates(activation.object):
            rows = _adopt_existing(activation, writer, rows)
        batches = [rows[start:start + activation.batch_size] for start in range(0, len(rows), activation.batch_size)]

        def send(batch: list[dict[str, Any]]) -> dict[str, Outcome]:
            return {o.row_key: o for o in writer.write(activation.object, activation.mode,
                                                        [_as_row(r, field_keys) for r in batch])}

        # While one batch's outcomes are booked, the next batch is on its way (one in flight at
        # most, in one worker thread): at a rate limit the bookkeeping then costs no sending time.
        # A crash leaves at most the two batches of that moment sent and not booked, which the
        # next run resolves as for one (updates are sent again, creates are looked up first).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"activation-{activation.name}") as pool:
            in_flight = pool.submit(send, batches[0]) if batches else None
            for number, batch in enumerate(batches, 1):
                outcomes = in_flight.result()
                in_flight = pool.submit(send, batches[number]) if number < len(batches) else None
                # One transaction a batch, its statements pipelined (one round trip, not three a row).
                with conn.transaction(), conn.pipeline():
                    for row in batch:
                        outcome = outcomes.get(row["row_key"]) or Outcome(
                            row["row_key"], False, error=f"{activation.target} answered nothing for this row")
                        _book(conn, activation, row, outcome, result, logical_date)
                done += len(batch)
                uncertain += [o.error for o in outcomes.values() if o.uncertain]
                log.info("activation %s: batch %d: %d rows (%d sent so far, %d failed)", activation.name,
                         number, len(batch), result.sent, result.failed)
        if uncertain:
            # Every other row is booked. Fail the task so that Airflow retries it soon: the retry
            # looks these rows up in the target and completes or sends them (not tomorrow night).
            raise UncertainWrite(activation.target, activation.object, f"{len(uncertain)} of {len(rows)} writes",
                                 f"answers lost, the first: {uncertain[0]}",
                                 "The other rows are booked; the task's retry looks these up in the target "
                                 "before sending them again")
    except SourceError as exc:
        # The target is down or refuses everything (after the HTTP layer's retries): what is
        # left stays pending for the next run, and the task fails visibly.
        with conn.transaction():
            for row in rows[done:]:
                _issue(conn, activation, row, "failed", _not_confirmed(activation, str(exc)), str(exc))
        result.failed += len(rows) - done
        result.message = str(exc)
        raise


def _adopt_existing(activation: Activation, writer: Writer, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Look the external keys of rows without a known target id up in the target.

    A record found there was made by an earlier run that crashed before booking it: the row goes
    to the writer with that id, and the writer finishes what the crash interrupted (for a create:
    whatever steps come after it, such as confirming an order) instead of creating it again.
    """
    unknown = {r["row_key"] for r in rows if not (r["target_id"] or r["accepted_target_id"]) and r["external_key"]}
    keys = [r["external_key"] for r in rows if r["row_key"] in unknown]
    found = writer.lookup(activation.object, keys) if keys else {}
    if found:
        log.info("activation %s: %d of %d records to create already exist in %s (an earlier run was "
                 "interrupted); they are completed, not created again", activation.name, len(found), len(keys),
                 activation.target)
    return [{**row, "target_id": found[row["external_key"]]}
            if row["row_key"] in unknown and row["external_key"] in found else row for row in rows]


def _as_row(row: dict[str, Any], field_keys: FieldKeys | None = None) -> Row:
    payload, context = row["payload"], row["context"]
    if field_keys is not None:
        payload, context = field_keys.open_record(payload), field_keys.open_record(context)
    elif holds_sealed([payload, context]):
        raise FieldKeyError(f"row {row['row_key']} holds a sealed phone or tax id and no field key is configured to "
                            f"open it (connection {CONN_ID} or {ENV}): nothing was sent")
    return Row(row["row_key"], row["target_id"] or row["accepted_target_id"], row["external_key"], payload, context)


def _book(conn: psycopg.Connection, activation: Activation, row: dict[str, Any], outcome: Outcome,
          result: ActivationResult, logical_date: date | None) -> None:
    """One row's outcome: audit, state when accepted, work list when refused."""
    old = row["accepted_payload"] or {}
    new = row["payload"] or {}
    changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    status = "adopted" if outcome.operation == "adopt" else ("sent" if outcome.ok else "failed")
    target_id = outcome.target_id or row["target_id"] or row["accepted_target_id"]
    conn.execute(
        """
        insert into ops.activation_audit (run_id, activation, row_key, target, target_object, target_id,
            operation, fields_old, fields_new, status, error, detail, logical_date)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        """,
        (result.run_id, activation.name, row["row_key"], activation.target, activation.object, target_id,
         outcome.operation, Jsonb({k: old.get(k) for k in changed if k in old}),
         Jsonb({k: new.get(k) for k in changed if k in new}), status, outcome.error,
         Jsonb(outcome.detail) if outcome.detail else None, logical_date))
    if outcome.ok:
        conn.execute(
            """
            insert into ops.activation_state (activation, row_key, target_id, payload, compare_hash, accepted_at,
                run_id)
            values (%s, %s, %s, %s, md5(%s::jsonb::text), now(), %s)
            on conflict (activation, row_key) do update set target_id = excluded.target_id,
                payload = excluded.payload, compare_hash = excluded.compare_hash,
                accepted_at = excluded.accepted_at, run_id = excluded.run_id
            """,
            # the compare as PostgreSQL wrote it (its text, not a round trip through Python, which
            # turns 2.50 into 2.5): the hash the diff computes from the model the next time
            (activation.name, row["row_key"], target_id, Jsonb(new), row["compare_text"], result.run_id))
        conn.execute("delete from ops.activation_issues where activation = %s and row_key = %s",
                     (activation.name, row["row_key"]))
        if status == "adopted":
            result.adopted += 1
        else:
            result.sent += 1
            result.created += outcome.operation == "create"
    else:
        result.failed += 1
        if outcome.not_sent and outcome.error:  # the writer's own words: the target never saw it
            reason = outcome.error
        elif outcome.uncertain:
            reason = _not_confirmed(activation, outcome.error or "no answer")
        else:
            reason = _plain_failure(activation, outcome.error or "refused")
        result.reasons[reason] = result.reasons.get(reason, 0) + 1
        _issue(conn, activation, row, "failed", reason, outcome.error)


def _issue(conn: psycopg.Connection, activation: Activation, row: dict[str, Any], kind: str, reason: str,
           error: str | None) -> None:
    conn.execute(
        """
        insert into ops.activation_issues (activation, row_key, kind, reason, target_error, customer_id,
            context, attempts)
        values (%s, %s, %s, %s, %s, %s, %s, %s)
        on conflict (activation, row_key) do update set kind = excluded.kind, reason = excluded.reason,
            target_error = excluded.target_error, customer_id = excluded.customer_id,
            context = excluded.context, last_seen_at = now(),
            attempts = ops.activation_issues.attempts + excluded.attempts
        """,
        (activation.name, row["row_key"], kind, reason, error, row["customer_id"], Jsonb(row["context"]),
         1 if kind == "failed" else 0))


def _plain_failure(activation: Activation, error: str) -> str:
    """The target's refusal in a sentence for the work list (the verbatim error is kept beside it)."""
    first = " ".join(error.split())[:300]
    return f"{activation.target} refused it: {first}"


def _not_confirmed(activation: Activation, error: str) -> str:
    """For the work list, a row the target may hold: its answer was lost, or the target failed
    before or while it was sent. Never "refused": whoever reads the list must not enter it by hand,
    since the next attempt looks a record to create up in the target before sending it again."""
    first = " ".join(error.split())[:300]
    return (f"not confirmed: the call to {activation.target} failed ({first}); Puente tries it again at the "
            "task's retry or the next run, looking up first what it may have made: do not enter it by hand")


def _resolve(conn: psycopg.Connection, activation: Activation) -> None:
    """Work-list rows whose row is no longer pending (the model dropped it, or it now matches)."""
    conn.execute(
        f"""
        delete from ops.activation_issues as i
        where i.activation = %(name)s and not exists (
            select from {activation.relation} as m
            left join ops.activation_state as s on s.activation = %(name)s and s.row_key = m.row_key
            where m.row_key = i.row_key
              and (s.row_key is null or s.compare_hash is distinct from md5(coalesce(m.compare, m.payload)::text)
                   or (m.observed_at is not null and s.accepted_at < m.observed_at)))
        """, {"name": activation.name})


def _record_run(conn: psycopg.Connection, activation: Activation, result: ActivationResult,
                logical_date: date | None) -> None:
    reasons = dict(sorted(result.reasons.items(), key=lambda kv: -kv[1])[:REASONS_SHOWN])
    conn.execute(
        """
        insert into ops.activation_runs (run_id, activation, target, target_object, logical_date, dry_run,
            rows_total, rows_pending, rows_invalid, rows_withheld, rows_sent, rows_created, rows_adopted,
            rows_failed, requests, seconds, reasons, samples, message)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        """,
        (result.run_id, activation.name, activation.target, activation.object, logical_date, result.dry_run,
         result.rows, result.pending, result.invalid, result.withheld, result.sent, result.created,
         result.adopted, result.failed, result.requests, result.seconds, Jsonb(reasons),
         Jsonb(result.samples) if result.samples else None, result.message))


def drop_rows(url: str, activation: str, row_keys: Sequence[str], reason: str, dropped_by: str) -> int:
    """An operator gives up on rows: they are no longer retried and leave the work list.

    Only rows the activation knows: on its work list (ops.activation_issues), accepted by its target
    once (ops.activation_state) or dropped before (a new reason); any other key, a typing mistake most
    likely, raises UnknownRowKeys and nothing is dropped."""
    keys = list(dict.fromkeys(row_keys))
    with psycopg.connect(url) as conn, conn.transaction():
        known = {row[0] for row in conn.execute(
            "select row_key from ops.activation_issues where activation = %(name)s and row_key = any(%(keys)s) "
            "union select row_key from ops.activation_state where activation = %(name)s and row_key = any(%(keys)s) "
            "union select row_key from ops.activation_dropped where activation = %(name)s and row_key = any(%(keys)s)",
            {"name": activation, "keys": keys})}
        unknown = [k for k in keys if k not in known]
        if unknown:
            raise UnknownRowKeys(
                f"{activation} has no row {', '.join(unknown)} on its work list nor among the rows its target "
                f"accepted; nothing dropped (`puente activations work-list {activation}` lists its rows)")
        for key in keys:
            conn.execute(
                "insert into ops.activation_dropped (activation, row_key, reason, dropped_by) values (%s, %s, %s, %s) "
                "on conflict (activation, row_key) do update set reason = excluded.reason, "
                "dropped_by = excluded.dropped_by, dropped_at = now()", (activation, key, reason, dropped_by))
        deleted = conn.execute("delete from ops.activation_issues where activation = %s and row_key = any(%s)",
                               (activation, keys)).rowcount
    return deleted
