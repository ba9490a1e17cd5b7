"""`make bench-identity`: identity resolution against the generator's truth, and dbt build time.

Run `python -m bench.identity [customers] [seed]` (default 100,000 customers, seed 7). Steps:

1. generate the business (`puente.simulators.business.Business(seed, customers)`), pure Python;
2. land every record straight from the Business stores into raw.* of a fresh database with one
   `COPY` per object: the records are the dicts the simulated APIs serve (Odoo fields, HubSpot
   `{id, properties, createdAt, updatedAt, archived}`, Shopify resources), `source_updated_at`
   and `_deleted` as the connectors set them;
3. `dbt build --exclude tag:crm_sync` (a first, full night), timed;
4. one more simulated day, its created and changed records upserted into raw.*, and the build
   run again, timed: an incremental night (int_customer_ids keeps ids, fct_orders and
   fct_order_lines recompute only the orders the day touched, the rest rebuilds). The nights
   here are minutes apart, so the facts' look-back (var `incremental_lookback_hours`, one hour
   by default, for loads committing while a run reads) is set to 0, or it would re-read the
   whole first night;
5. precision and recall of "same customer" pairs: among the customer records of
   intermediate.int_customers_matched that the truth ties to a person, a pair is predicted
   when both records have one customer_id and true when both have one person_id.

Results go into the `identity` section of bench/RESULTS.md. Goal: precision >= 0.99 and
recall >= 0.97 at 100,000 customers.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections import Counter
from math import comb

import psycopg

from bench.results import markdown_table, write_section
from puente import warehouse
from puente.dbt import MAIN_BUILD_ARGS, run_dbt
from puente.simulators.business import Business

RECORD_TYPES = {  # truth (system, object) -> record_type of int_customer_records_unioned
    ("odoo", "res.partner"): "odoo_partner",
    ("hubspot", "contacts"): "hubspot_contact",
    ("shopify", "customers"): "shopify_customer",
}


def _updated_at(system: str, record: dict) -> str | None:
    if system == "odoo":
        return f"{record['write_date']}+00" if record.get("write_date") else None
    return record.get("updatedAt") or record.get("updated_at")


def _rows(business: Business, system: str, obj: str, ids: set[int] | None = None):
    table = business.table(system, obj)
    for rid in (ids if ids is not None else table):
        if business.is_deleted(system, obj, rid):
            continue
        record = table[rid]
        deleted = bool(record.get("archived", False)) if system == "hubspot" else False
        yield (str(record["id"]), json.dumps(record, default=str), _updated_at(system, record), deleted)


def land(url: str, business: Business, batch_id: str, only: dict[tuple[str, str], set[int]] | None = None) -> int:
    """COPY the business's records (all, or `only` those ids per object) into raw.*; upsert by id."""
    landed = 0
    with psycopg.connect(url) as conn:
        for system, objects in (("odoo", business.odoo), ("hubspot", business.hubspot), ("shopify", business.shopify)):
            for obj in objects:
                ids = None if only is None else only.get((system, obj), set())
                if ids is not None and not ids:
                    continue
                table = warehouse.raw_object(system, obj).qualified_table
                conn.execute("create temp table landing (source_id text, record jsonb, source_updated_at timestamptz,"
                             " _deleted boolean) on commit drop")
                with conn.cursor().copy("copy landing from stdin") as copy:
                    for row in _rows(business, system, obj, ids):
                        copy.write_row(row)
                        landed += 1
                conn.execute(
                    f"insert into {table} (source_id, record, source_updated_at, _batch_id, _deleted) "
                    "select source_id, record, source_updated_at, %s, _deleted from landing "
                    "on conflict (source_id) do update set record = excluded.record, "
                    "source_updated_at = excluded.source_updated_at, _batch_id = excluded._batch_id, "
                    "_deleted = excluded._deleted, _loaded_at = now()", (batch_id,))
                conn.execute(f"analyze {table}")
                conn.commit()
    return landed


def pair_scores(url: str, business: Business) -> dict[str, float]:
    person = {}
    for row in business.truth():
        record_type = RECORD_TYPES.get((row["system"], row["object"]))
        if record_type and row["person_id"]:
            person[f"{record_type}:{row['id']}"] = row["person_id"]
    with psycopg.connect(url) as conn:
        matched = conn.execute("select record_key, customer_id from intermediate.int_customers_matched").fetchall()
    matched = [(key, customer) for key, customer in matched if key in person]
    predicted = sum(comb(n, 2) for n in Counter(customer for _, customer in matched).values())
    actual = sum(comb(n, 2) for n in Counter(person[key] for key, _ in matched).values())
    both = sum(comb(n, 2) for n in Counter((customer, person[key]) for key, customer in matched).values())
    return {"records": len(matched), "people": len({person[key] for key, _ in matched}),
            "customers": len({customer for _, customer in matched}),
            "predicted_pairs": predicted, "true_pairs": actual, "correct_pairs": both,
            "precision": both / predicted if predicted else 1.0, "recall": both / actual if actual else 1.0}


def _slowest_nodes(result, count: int = 5) -> str:
    """The dbt nodes that took longest in one invocation (`run_dbt`'s result)."""
    slowest = sorted(result.result.results, key=lambda node: -node.execution_time)[:count]
    return ", ".join(f"{node.node.name} {node.execution_time:.0f} s" for node in slowest)


def main(customers: int = 100_000, seed: int = 7) -> None:
    started = time.perf_counter()
    business = Business(seed, customers=customers)
    generated = time.perf_counter() - started
    base = os.environ.get("PUENTE_WAREHOUSE_URL") or warehouse.ensure_embedded()
    name = f"bench_identity_{uuid.uuid4().hex[:8]}"
    warehouse.create_database(base, name)
    url = warehouse.with_database(base, name)
    try:
        warehouse.ensure_schema(url)
        t = time.perf_counter()
        rows = land(url, business, "bench-1")
        loaded = time.perf_counter() - t
        t = time.perf_counter()
        full_run = run_dbt(list(MAIN_BUILD_ARGS), url)
        full = time.perf_counter() - t
        full_nodes = _slowest_nodes(full_run)
        scores = pair_scores(url, business)
        print(f"generated {customers:,} customers in {generated:.0f}s; landed {rows:,} rows in {loaded:.0f}s; "
              f"full build {full:.0f}s; {scores}", flush=True)
        business.advance_day()
        changed: dict[tuple[str, str], set[int]] = {}
        for system, obj, rid in business.changed_today():
            changed.setdefault((system, obj), set()).add(rid)
        t = time.perf_counter()
        night_rows = land(url, business, "bench-2", changed)
        t_land = time.perf_counter() - t
        t = time.perf_counter()
        incremental_run = run_dbt([*MAIN_BUILD_ARGS, "--vars", '{"incremental_lookback_hours": 0}'], url)
        incremental = time.perf_counter() - t
        incremental_nodes = _slowest_nodes(incremental_run)
        after = pair_scores(url, business)
    finally:
        warehouse.drop_database(base, name)
    body = "\n".join([
        f"Business(seed={seed}, customers={customers:,}): generated in {generated:.0f} s; "
        f"{rows:,} raw rows landed by COPY in {loaded:.0f} s.",
        "",
        markdown_table(
            ["night", "customer records scored", "people", "customers", "precision", "recall", "dbt build (s)"],
            [["full (first night)", f"{scores['records']:,}", f"{scores['people']:,}", f"{scores['customers']:,}",
              f"{scores['precision']:.4f}", f"{scores['recall']:.4f}", f"{full:.0f}"],
             [f"incremental (+1 day, {night_rows:,} rows upserted in {t_land:.0f} s)", f"{after['records']:,}",
              f"{after['people']:,}", f"{after['customers']:,}", f"{after['precision']:.4f}",
              f"{after['recall']:.4f}", f"{incremental:.0f}"]],
        ),
        "",
        f"Pairs (first night): {scores['predicted_pairs']:,} predicted, {scores['true_pairs']:,} true, "
        f"{scores['correct_pairs']:,} correct. Goal: precision >= 0.99, recall >= 0.97 at 100,000 customers.",
        "",
        f"Slowest dbt nodes, full night: {full_nodes}; incremental night: {incremental_nodes}. The identity "
        "models rebuild every night (a new record can join or bridge any cluster); fct_orders and "
        "fct_order_lines recompute only the orders the day touched.",
    ])
    write_section("identity", "Identity resolution", f"python -m bench.identity {customers} {seed}", body)
    print(body)


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
