"""Reconciliation: after each object's extraction, what the source reports against what raw holds.

For every extracted object Puente asks the source how many live records it has (Odoo
``search_count``, HubSpot search ``total``, Shopify ``count.json``) and counts, in raw, the rows
that count should match, as each object declares it in its source's settings (the registry):
live rows (``not _deleted``; archived Shopify products too, which ``count.json`` includes) plus the records that are in quarantine and not in raw at all (a record
the source counts but that could not be landed is accounted for, not lost; one quarantined without
an id only covers a record raw lacks, see ``reconcile``). Every check is one
row of ``ops.reconciliation``; a difference is a failed check, with the numbers in its message,
and it fails the object's batch (the extract task then fails naming it).

A check can differ for a benign reason: a record created in the source between the end of the
walk and the count. The DAG's task retry re-runs the (incremental, idempotent) extraction, which
picks that record up; a difference that survives the retries is real.

``ensure_reconciliation`` creates the table (idempotent); ``puente.warehouse.ensure_schema``
should call it, and the extraction calls it too so that it never runs without it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import psycopg

from puente.sources import registry
from puente.warehouse import RawObject

DDL = """
create schema if not exists ops;
create table if not exists ops.reconciliation (
    reconciliation_id        bigserial primary key,
    batch_id                 text not null,
    source                   text not null,
    object                   text not null,
    logical_date             date,
    source_count             bigint not null,
    raw_live                 bigint not null,
    quarantined_outstanding  bigint not null,
    flagged_deleted          integer not null default 0,
    difference               bigint not null,
    status                   text not null,
    checked_at               timestamptz not null default now()
);
create index if not exists reconciliation_object on ops.reconciliation (source, object, checked_at);
"""
_LOCK = 7281  # the advisory lock puente.warehouse.ensure_schema takes


def ensure_reconciliation(conn_or_url: psycopg.Connection | str) -> None:
    """Create ``ops.reconciliation`` if missing (safe to call from parallel tasks)."""
    if isinstance(conn_or_url, str):
        with psycopg.connect(conn_or_url, autocommit=True) as conn:
            ensure_reconciliation(conn)
        return
    conn = conn_or_url
    if conn.execute("select to_regclass('ops.reconciliation')").fetchone()[0] is not None:
        return
    conn.execute("select pg_advisory_lock(%s)", (_LOCK,))
    try:
        conn.execute(DDL)
    finally:
        conn.execute("select pg_advisory_unlock(%s)", (_LOCK,))


@dataclass
class Reconciliation:
    source: str
    object: str
    source_count: int
    raw_live: int
    quarantined_outstanding: int
    flagged_deleted: int

    @property
    def difference(self) -> int:
        return self.source_count - self.raw_live - self.quarantined_outstanding

    @property
    def ok(self) -> bool:
        return self.difference == 0

    def message(self) -> str:
        landed = self.raw_live + self.quarantined_outstanding
        if self.ok:
            return (f"{self.source} {self.object}: {self.source_count} live in the source = {self.raw_live} live "
                    f"in raw + {self.quarantined_outstanding} quarantined")
        what = (f"{self.difference} missing from raw" if self.difference > 0
                else f"{-self.difference} more in raw than in the source")
        advice = ("run a full refresh of this object (DAG param full_refresh, sources=[…]) and look at "
                  "ops.quarantine" if self.difference > 0 else
                  "records deleted in the source were not flagged: check that deletes are detected for "
                  "this object (ops.reconciliation.flagged_deleted) or run a full refresh")
        return (f"reconciliation failed for {self.source} {self.object}: the source reports "
                f"{self.source_count} live records, raw holds {self.raw_live} live + "
                f"{self.quarantined_outstanding} quarantined = {landed} ({what}); {advice}")

    def as_dict(self) -> dict:
        return {**asdict(self), "difference": self.difference, "ok": self.ok}


def reconcile(conn: psycopg.Connection, raw: RawObject, source_count: int, batch_id: str, logical_date: date,
              flagged_deleted: int = 0, source_ids_table: str | None = None) -> Reconciliation:
    """Count raw against ``source_count`` and record the check; the caller raises on a mismatch.

    What counts as live is declared with the object in its source's settings (the registry's
    ``SourceObject``): ``live_in_raw``, the condition on a raw row that the source's count counts,
    and ``live_in_quarantine``, the condition on a quarantined payload (``q.payload``, JSON text).
    A quarantined record with an id counts while that id is not in raw. A record quarantined
    without an id cannot be matched to anything, not even to itself served right a minute later
    (a retry) or fixed the next night: the distinct payloads without an id can only account for
    records raw lacks, up to their number, and never make raw look too full. So a fixed record
    does not fail every later night, and a record truly missing is still a difference as soon as
    it is not among those quarantined without an id.
    ``source_ids_table`` (a table of the ids the source holds now, when the connector listed
    them) limits the quarantined records counted to those still in the source.
    """
    declared = registry.source_object(raw.source, raw.object)
    live_in_raw, live_in_quarantine = declared.live_in_raw, declared.live_in_quarantine
    table = raw.qualified_table
    raw_live = conn.execute(f"select count(*) from {table} where {live_in_raw}").fetchone()[0]
    still_there = (f"and exists (select 1 from {source_ids_table} s where s.source_id = q.source_id)"
                   if source_ids_table else "")
    with_id, without_id = conn.execute(
        f"""select
              (select count(distinct q.source_id) from ops.quarantine q
                where q.source = %s and q.object = %s and q.source_id is not null {still_there}
                  and {live_in_quarantine}
                  and not exists (select 1 from {table} r where r.source_id = q.source_id)),
              (select count(distinct q.payload) from ops.quarantine q
                where q.source = %s and q.object = %s and q.source_id is null and {live_in_quarantine})""",
        (raw.source, raw.object, raw.source, raw.object)).fetchone()
    outstanding = with_id + min(without_id, max(0, source_count - raw_live - with_id))
    result = Reconciliation(raw.source, raw.object, source_count, raw_live, outstanding, flagged_deleted)
    conn.execute(
        "insert into ops.reconciliation (batch_id, source, object, logical_date, source_count, raw_live, "
        "quarantined_outstanding, flagged_deleted, difference, status) values (%s, %s, %s, %s, %s, %s, %s, %s, "
        "%s, %s)",
        (batch_id, raw.source, raw.object, logical_date, source_count, raw_live, outstanding, flagged_deleted,
         result.difference, "ok" if result.ok else "mismatch"))
    return result
