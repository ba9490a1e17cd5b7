"""`make bench-activations`: how fast the activation engine sends a backlog, against each API's limit.

Run `python -m bench.activations` (a few minutes; name cases, e.g. `tasks`, to run only those, printed
but not recorded). One simulated business is served over HTTP with
the simulators' real rate limits on the real clock (HubSpot: 100 requests per rolling 10 s per
private app and 5 searches a second; Shopify: a leaky bucket of 40 requests leaking 2 a second),
and the engine sends, through each system's writer and with its pacing, a backlog far larger
than one window of the limit:

- HubSpot contact properties (batch update, 100 contacts a request): the limit is
  100 requests / 10 s × 100 = 1,000 records a second;
- HubSpot tasks (batch create, 100 a request): the same 1,000 records a second. Each task
  carries its key in a property with unique values, so HubSpot itself refuses a second task
  for a key and the engine creates without searching first (a search, at 5 a second, only for
  the keys a conflict names);
- Shopify stock levels (GraphQL `inventorySetQuantities`, 250 quantities a call): the limit is the
  cost bucket, 2,000 points that restore at 100 a second on the standard plan, at 13 points a call.
  Sustained that is 100 / 13 × 250 ≈ 1,923 records a second, but a full bucket lets the first ~150
  calls go at once, so for a run of T seconds the most a client can send is (2,000 + 100 × T) / 13
  calls of 250: the case's limit is that over T (the limit/s column is computed from the measured
  T), and its backlog (1,000 calls) is large enough that the bucket runs dry and the restore rate
  paces the rest. Until December 2026 the writer used REST `inventory_levels/set`, one record a
  request at the REST bucket's leak of 2 a second;
- Odoo sale orders (partner, create, confirm, invoice: 4-6 calls an order) from the web orders of
  both shops (the business runs the WooCommerce store too): Odoo has no API rate limit of its
  own, so the figure is the orders per second this machine reaches.

Each case reports records per second, the ratio to the limit (goal: at least 0.95 with a
backlog), the 429s (and Shopify's THROTTLED answers) the simulator answered and whether every record arrived exactly once. The
ratio is computed against the limit as the simulator enforces it, in the same run (for a bucket
that starts full, the most the run's duration allowed).
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import date

import psycopg

from bench.results import markdown_table, write_section
from puente import warehouse
from puente.activation.engine import run_activation
from puente.activation.spec import MODEL_TABLE_COLUMNS, Activation
from puente.sources import registry
from puente.sources.hubspot import HubSpotConfig
from puente.sources.hubspot.writer import HubSpotWriter
from puente.sources.odoo import OdooConfig
from puente.sources.odoo.writer import OdooWriter
from puente.sources.shopify import API_VERSION, ShopifyConfig
from puente.sources.shopify.settings import SET_QUANTITIES_MAX
from puente.sources.shopify.writer import EXPECTED_COST, ShopifyWriter

DAY = date(2026, 11, 16)
CONTACT_ROWS = 30_000   # 300 batch requests: three times the 10-second window's 100
TASK_ROWS = 20_000      # 200 batch creates, after 200 searches
STOCK_ROWS = 250_000    # 1,000 calls of 250: the 2,000-point bucket (~150 calls), then its restore rate
ORDER_ROWS = 200


class _Throttled(logging.Handler):
    """Counts the 429s the client met (the HTTP layer logs each retry it waits for)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.seen = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.seen += "HTTP 429" in record.getMessage()

    def count(self) -> int:
        return self.seen


def _activation(name: str, target: str, obj: str, mode: str, owns: tuple[str, ...], batch: int) -> Activation:
    return Activation(name=name, model=f"act_{name}", relation=f"activations.act_{name}", target=target,
                      object=obj, mode=mode, owns=owns, batch_size=batch)


def _table(url: str, activation: Activation, rows: list[dict]) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("create schema if not exists activations")
        conn.execute(f"drop table if exists {activation.relation}")
        conn.execute(f"create table {activation.relation} ({MODEL_TABLE_COLUMNS})")
        with conn.cursor().copy(f"copy {activation.relation} (row_key, target_id, external_key, payload) from stdin") as copy:
            for r in rows:
                copy.write_row((r["row_key"], r.get("target_id"), r.get("external_key"), json.dumps(r["payload"])))


def _case(url: str, label: str, activation: Activation, rows: list[dict], writer,
          limit_per_s: float | Callable[[float], float] | None, refusals) -> list:
    """One case's table row; ``limit_per_s`` may be a function of the measured seconds (a bucket's burst)."""
    _table(url, activation, rows)
    before = refusals()
    started = time.monotonic()
    result = run_activation(url, activation, writer, logical_date=DAY)
    seconds = time.monotonic() - started
    writer.close()
    done = result.sent + result.adopted
    rate = done / seconds
    if callable(limit_per_s):
        limit_per_s = limit_per_s(seconds)
    ratio = f"{rate / limit_per_s:.3f}" if limit_per_s else "no limit"
    print(f"{label}: {done}/{len(rows)} in {seconds:.1f} s = {rate:,.1f}/s ({ratio}), {result.requests} requests, "
          f"{refusals() - before} 429s, {result.failed} failed", flush=True)
    return [label, len(rows), done, result.failed, round(seconds, 1), f"{rate:,.1f}",
            f"{limit_per_s:,.0f}" if limit_per_s else "—", ratio, result.requests, refusals() - before]


CASES = ("contacts", "tasks", "stock", "orders")
HEADER = ["activation", "rows", "accepted", "failed", "seconds", "records/s", "limit/s", "ratio", "requests", "429s"]


def main(argv: list[str]) -> int:
    wanted = argv or list(CASES)
    unknown = [c for c in wanted if c not in CASES]
    if unknown:
        print(f"unknown case(s) {unknown}; choose among {', '.join(CASES)} (default: all, recorded in "
              "bench/RESULTS.md; a subset is only printed)", file=sys.stderr)
        return 2
    from puente.simulators import Business, Credentials, Habits, Limits, SimulatorServer, create_app

    server_url = warehouse.warehouse_url()
    name = f"bench_activations_{uuid.uuid4().hex[:6]}"
    warehouse.create_database(server_url, name)
    url = warehouse.with_database(server_url, name)
    warehouse.ensure_schema(url)
    business = Business(seed=5, customers=400, start=DAY, history_days=200, woocommerce=True,
                        habits=Habits(web_orders_retyped=0.0, won_deals_entered=0.0))
    credentials = Credentials()
    app = create_app(business, credentials)
    table = []
    try:
        with SimulatorServer(app) as server:
            base = server.base_url
            hubspot = HubSpotConfig(f"{base}/hubspot", credentials.hubspot_token)
            odoo = OdooConfig(f"{base}/odoo", credentials.odoo_db, credentials.odoo_login, credentials.odoo_api_key)
            throttled = _Throttled()
            logging.getLogger("puente.sources.http").addHandler(throttled)
            refusals = throttled.count

            contacts = [str(c["id"]) for c in business.hubspot["contacts"].values() if not c["archived"]]
            owner = next(c["properties"]["hubspot_owner_id"] for c in business.hubspot["contacts"].values()
                         if c["properties"].get("hubspot_owner_id"))
            if "contacts" in wanted:
                # Rows are sent in row_key order, a batch of 100 at a time: zero-padded keys keep every
                # batch's contacts distinct (HubSpot refuses a batch naming one contact twice).
                assert len(contacts) >= 100
                rows = [{"row_key": f"c{n:06d}", "target_id": contacts[n % len(contacts)],
                         "payload": {"puente_churn_score": f"{(n % 1000) / 1000:.4f}", "puente_churn_risk": "low"}}
                        for n in range(CONTACT_ROWS)]
                table.append(_case(url, "HubSpot contacts (batch update)", _activation(
                    "b_contacts", "hubspot", "contacts", "update", ("puente_churn_score", "puente_churn_risk"), 100),
                    rows, HubSpotWriter(hubspot), 1000.0, refusals))

            if "tasks" in wanted:
                if "contacts" in wanted:  # the token's 10-second window starts empty, as it would the next night
                    time.sleep(10.5)
                rows = [{"row_key": f"bench:{n}", "external_key": f"bench:{n}", "payload": {
                    "contact_id": contacts[n % len(contacts)], "properties": {
                        "hs_timestamp": "2026-11-17T14:00:00.000Z", "hs_task_subject": f"Bench task {n}",
                        "hs_task_status": "NOT_STARTED", "hs_task_priority": "LOW", "hs_task_type": "TODO",
                        "hubspot_owner_id": owner}}} for n in range(TASK_ROWS)]
                table.append(_case(url, "HubSpot tasks (batch create)", _activation(
                    "b_tasks", "hubspot", "tasks", "create", ("properties", "contact_id"), 100),
                    rows, HubSpotWriter(hubspot), 1000.0, refusals))
                keys = Counter(t["properties"].get("puente_task_key") for t in business.hubspot.get("tasks", {}).values())
                assert all(keys[f"bench:{n}"] == 1 for n in range(TASK_ROWS)), "a task was lost or made twice"

            if "stock" in wanted:
                # A shop of its own with 1,700 customers' worth of products (about 280 tracked items), so
                # that a call of 250 names each item once (Shopify refuses an item twice in one call).
                shop_business = Business(seed=5, customers=1700, start=DAY, history_days=20)
                with SimulatorServer(create_app(shop_business, credentials)) as shop_server:
                    shopify = ShopifyConfig(f"{shop_server.base_url}/shopify/admin/api/{API_VERSION}",
                                            credentials.shopify_token)
                    variants = [v for p in shop_business.shopify["products"].values() for v in p["variants"]
                                if v["inventory_management"] == "shopify"]
                    assert len(variants) >= SET_QUANTITIES_MAX, "the bench's shop lists too few items for a full call"
                    # zero-padded keys: rows go out in row_key order, so each call of 250 names distinct items
                    rows = [{"row_key": f"s{n:06d}", "target_id": str(variants[n % len(variants)]["inventory_item_id"]),
                             "payload": {"available": n % 1000}} for n in range(STOCK_ROWS)]
                    writer = ShopifyWriter(shopify)
                    limits = Limits()

                    def limit(seconds: float) -> float:  # the bucket's points plus what restored in the run
                        points = limits.shopify_graphql_points + limits.shopify_graphql_restore_per_second * seconds
                        return points / EXPECTED_COST * SET_QUANTITIES_MAX / seconds
                    table.append(_case(url, "Shopify stock levels (GraphQL inventorySetQuantities)", _activation(
                        "b_stock", "shopify", "inventory_levels", "update", ("available",), SET_QUANTITIES_MAX),
                        rows, writer, limit, lambda: refusals() + writer.throttled))
                    last = {r["target_id"]: r["payload"]["available"] for r in rows}  # sets are absolute: the last wins
                    shown = {str(v["inventory_item_id"]): v["inventory_quantity"] for v in variants}
                    assert all(shown[item] == quantity for item, quantity in last.items()), "a stock level was lost"

            if "orders" in wanted:
                truth = business.integration_truth()
                products = {r["default_code"]: r["id"] for r in business.odoo["product.product"].values()}
                orders = [o for o in truth["web_orders"] if o["state"] == "sale" and not o["entered"]][:ORDER_ROWS]
                rows = [{"row_key": f"o{o['shop']}{o['shop_order_id']}", "external_key": o["name"], "payload": {
                    "partner": {"new": {"ref": f"puente:{o['customer']['person_id']}", "name": o["customer"]["name"]}},
                    "client_order_ref": o["name"], "origin": f"{registry.source(o['shop']).title} {o['name']}",
                    "order_line": [{"product_id": products[line["sku"]], "product_uom_qty": line["quantity"],
                                    "price_unit": line["price_unit"]} for line in o["lines"]],
                    "confirm": True, "invoice": True}} for o in orders]
                table.append(_case(url, "Odoo sale orders (create, confirm, invoice)", _activation(
                    "b_orders", "odoo", "sale.order", "create",
                    ("partner", "client_order_ref", "origin", "order_line", "confirm", "invoice"), 20),
                    rows, OdooWriter(odoo), None, refusals))
                refs = Counter(str(o.get("client_order_ref") or "") for o in business.odoo["sale.order"].values())
                assert all(refs[o["name"]] == 1 for o in orders), "an order was lost or posted twice"
    finally:
        warehouse.drop_database(server_url, name)

    if wanted != list(CASES):
        print(markdown_table(HEADER, table))
        return 0
    body = (
        "A backlog far larger than one window of each API's limit, sent by the activation engine through "
        "the system's writer and its pacing, against the simulators' limits on the real clock. Goal: at "
        "least 0.95 of the limit. Every record arrived exactly once (checked in the simulator). Shopify stock's "
        "limit is its cost bucket over the measured seconds T: at most (2,000 + 100 × T) / 13 calls of 250 rows "
        "(the full bucket's ~150 calls at once, then the restore rate of 100 points a second); the backlog of "
        "1,000 calls empties the bucket, so the restore rate paces most of the run.\n\n"
        + markdown_table(HEADER, table))
    write_section("activations", "Activations: records per second against each API's limit",
                  "make bench-activations", body)
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
