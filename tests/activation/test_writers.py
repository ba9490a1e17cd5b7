"""The activation engine with each system's writer against the simulators over HTTP.

For each kind of write Puente makes — ERP sale orders (created, confirmed, invoiced, cancelled),
shop stock levels, CRM tasks — the tests build an activation table from the simulated business's
own records and check what the target then holds: created once even when Puente crashes between
the target's answer and its own books, refusals in the audit with the target's words and sent
again later, and a dry run that leaves every system as it was.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from datetime import date

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from puente.activation.engine import run_activation
from puente.activation.pacing import CostPacer, Pacer
from puente.activation.spec import MODEL_TABLE_COLUMNS, Activation
from puente.activation.writers import Outcome, Row
from puente.sources.http import UncertainWrite
from puente.sources.hubspot import HubSpotConfig, HubSpotConnector
from puente.sources.hubspot.writer import HubSpotWriter
from puente.sources.odoo import OdooConfig
from puente.sources.odoo.writer import OdooWriter
from puente.sources.shopify import API_VERSION, ShopifyConfig
from puente.sources.shopify.writer import ShopifyWriter

DAY = date(2026, 11, 16)
ORDERS = Activation(name="t_orders", model="act_t_orders", relation="activations.act_t_orders", target="odoo",
                    object="sale.order", mode="create", batch_size=2,
                    owns=("partner", "client_order_ref", "origin", "order_line", "confirm", "invoice"))
CANCELS = Activation(name="t_cancels", model="act_t_cancels", relation="activations.act_t_cancels", target="odoo",
                     object="sale.order", mode="update", owns=("state",))
STOCK = Activation(name="t_stock", model="act_t_stock", relation="activations.act_t_stock", target="shopify",
                   object="inventory_levels", mode="update", owns=("available",))
NUBE_STOCK = Activation(name="t_nube_stock", model="act_t_nube_stock", relation="activations.act_t_nube_stock",
                        target="tiendanube", object="product_variants", mode="update", owns=("stock",))
TASKS = Activation(name="t_tasks", model="act_t_tasks", relation="activations.act_t_tasks", target="hubspot",
                   object="tasks", mode="create", owns=("properties", "contact_id"))


@pytest.fixture(scope="module")
def systems():
    """One simulated business nobody moves orders for, served over HTTP, and Puente's configs."""
    from puente.simulators import (
        Business,
        Credentials,
        Habits,
        Limits,
        ManualClock,
        SimulatorServer,
        create_app,
    )

    business = Business(seed=3, customers=160, start=DAY, history_days=200,
                        habits=Habits(web_orders_retyped=0.0, won_deals_entered=0.0))
    credentials, clock = Credentials(), ManualClock()
    with SimulatorServer(create_app(business, credentials, limits=Limits(clock=clock))) as server:
        base = server.base_url
        yield {
            "business": business, "clock": clock,
            "odoo": OdooConfig(f"{base}/odoo", credentials.odoo_db, credentials.odoo_login, credentials.odoo_api_key),
            "shopify": ShopifyConfig(f"{base}/shopify/admin/api/{API_VERSION}", credentials.shopify_token),
            "hubspot": HubSpotConfig(f"{base}/hubspot", credentials.hubspot_token),
        }


def _writer(systems, target: str):
    clock = systems["clock"]
    quiet = {"sleep": clock.advance, "rng": random.Random(0)}
    if target == "odoo":
        return OdooWriter(systems["odoo"], **quiet)
    pacer = Pacer(40, 20.0, clock=clock, sleep=clock.advance) if target == "shopify" else \
        Pacer(100, 10.0, clock=clock, sleep=clock.advance)
    if target == "shopify":
        return ShopifyWriter(systems["shopify"], pacer=pacer, cost_pacer=CostPacer(clock=clock, sleep=clock.advance),
                             **quiet)
    return HubSpotWriter(systems["hubspot"], connector=HubSpotConnector(systems["hubspot"], pacer=pacer, **quiet))


def _model(url: str, activation: Activation, rows: Sequence[dict]) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("create schema if not exists activations")
        conn.execute(f"drop table if exists {activation.relation}")
        conn.execute(f"create table {activation.relation} ({MODEL_TABLE_COLUMNS})")
        for r in rows:
            conn.execute(f"insert into {activation.relation} (row_key, target_id, external_key, payload, compare) "
                         "values (%s, %s, %s, %s, %s)", (r["row_key"], r.get("target_id"), r.get("external_key"),
                                                         Jsonb(r["payload"]), Jsonb(r.get("compare") or r["payload"])))


def _query(url: str, sql: str, *params) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


def _web_orders(systems, count: int) -> list[dict]:
    """Recent live web orders nobody entered, as act_web_orders_to_erp would shape them."""
    business = systems["business"]
    truth = business.integration_truth()
    products = {r["default_code"]: r["id"] for r in business.odoo["product.product"].values()}
    orders = [o for o in truth["web_orders"]
              if o["state"] == "sale" and not o["entered"] and not o["entered_by_api"]][-count:]
    rows = []
    for order in orders:
        customer = order["customer"]
        rows.append({"row_key": f"{order['shop']}_order:{order['shop_order_id']}", "external_key": order["name"],
                     "payload": {
                         "partner": ({"id": customer["erp_partner_id"]} if customer["erp_partner_id"] else
                                     {"new": {"ref": f"puente:{customer['person_id']}", "name": customer["name"],
                                              "email": customer["email"], "country_code": "CO"}}),
                         "client_order_ref": order["name"], "origin": f"Shopify {order['name']}",
                         "order_line": [{"product_id": products[line["sku"]], "product_uom_qty": line["quantity"],
                                         "price_unit": line["price_unit"], "discount": line["discount"]}
                                        for line in order["lines"]],
                         "confirm": True, "invoice": True}})
    assert len(rows) == count, "the simulated business has too few web orders left for Puente"
    return rows


def _erp_orders(systems, ref: str) -> list[dict]:
    return [o for o in systems["business"].odoo["sale.order"].values()
            if (o.get("client_order_ref") or "").lstrip("#") == ref.lstrip("#")]


class CrashAfterWrite:
    """A writer whose process dies right after the target accepted a batch, before Puente booked it."""

    def __init__(self, writer):
        self.writer = writer
        self.system = writer.system

    def __getattr__(self, name):
        return getattr(self.writer, name)

    def write(self, obj: str, mode: str, rows: Sequence[Row]) -> list[Outcome]:
        self.writer.write(obj, mode, rows)
        raise SystemExit("killed between the target's answer and Puente's bookkeeping")


def test_web_orders_are_posted_confirmed_invoiced_once_even_after_a_crash(fresh_db, systems):
    rows = _web_orders(systems, 3)
    _model(fresh_db, ORDERS, rows)
    business = systems["business"]
    refs = [r["external_key"] for r in rows]
    reserved_before = sum(q["reserved_quantity"] for q in business.odoo["stock.quant"].values())

    with pytest.raises(SystemExit):
        run_activation(fresh_db, ORDERS, CrashAfterWrite(_writer(systems, "odoo")))
    assert [len(_erp_orders(systems, ref)) for ref in refs[:2]] == [1, 1]  # the first batch reached the ERP
    assert _query(fresh_db, "select count(*) as n from ops.activation_state") == [{"n": 0}]  # and was never booked

    result = run_activation(fresh_db, ORDERS, _writer(systems, "odoo"))
    assert (result.sent, result.adopted, result.created, result.failed) == (1, 2, 1, 0)
    for ref in refs:
        (order,) = _erp_orders(systems, ref)  # exactly one each
        assert order["state"] == "sale" and len(order["invoice_ids"]) == 1
        (invoice,) = (business.odoo["account.move"][i] for i in order["invoice_ids"])
        assert invoice["state"] == "draft" and invoice["invoice_origin"] == order["name"]
    reserved = sum(q["reserved_quantity"] for q in business.odoo["stock.quant"].values())
    assert reserved > reserved_before
    audit = Counter(r["status"] for r in _query(fresh_db, "select status from ops.activation_audit"))
    assert audit == {"adopted": 2, "sent": 1}

    again = run_activation(fresh_db, ORDERS, _writer(systems, "odoo"))
    assert (again.pending, again.requests) == (0, 0)


class LoseOneAnswer(httpx.BaseTransport):
    """Carries every request to the simulator, but answers the first whose body holds ``needle``
    with a 502 after the simulator did the work: a proxy that lost the ERP's answer."""

    def __init__(self, needle: bytes):
        self.inner, self.needle, self.lost = httpx.HTTPTransport(), needle, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if not self.lost and self.needle in request.content:
            self.lost += 1
            response.read()
            return httpx.Response(502, text="<html><body><h1>502 Bad Gateway</h1></body></html>", request=request)
        return response


def test_a_lost_answer_fails_only_its_order_and_the_retry_completes_it_once(fresh_db, systems):
    rows = _web_orders(systems, 3)
    _model(fresh_db, ORDERS, rows)
    refs = [r["external_key"] for r in rows]
    lossy = OdooWriter(systems["odoo"], sleep=systems["clock"].advance, rng=random.Random(0),
                       transport=LoseOneAnswer(b"action_confirm"))
    with pytest.raises(UncertainWrite, match="1 of 3 writes"):
        run_activation(fresh_db, ORDERS, lossy)
    # the batch's other order and the next batch went on; the first order was confirmed by Odoo
    # although its answer was lost, and waits to be invoiced
    states = [[(o["state"], len(o["invoice_ids"])) for o in _erp_orders(systems, ref)] for ref in refs]
    assert states == [[("sale", 0)], [("sale", 1)], [("sale", 1)]]
    booked = _query(fresh_db, "select row_key from ops.activation_state order by row_key")
    assert sorted(r["row_key"] for r in booked) == sorted(r["row_key"] for r in rows[1:])

    retry = run_activation(fresh_db, ORDERS, _writer(systems, "odoo"))  # Airflow's retry of the task
    assert (retry.pending, retry.adopted, retry.created, retry.failed) == (1, 1, 0, 0)
    for ref in refs:
        (order,) = _erp_orders(systems, ref)  # still exactly one each
        assert order["state"] == "sale" and len(order["invoice_ids"]) == 1


def test_a_refused_order_is_audited_with_odoos_words_and_sent_again_when_fixed(fresh_db, systems):
    (row,) = _web_orders(systems, 1)
    good_lines = row["payload"]["order_line"]
    broken = {**row, "payload": {**row["payload"], "order_line": [{**good_lines[0], "product_id": 999999}]}}
    _model(fresh_db, ORDERS, [broken])
    first = run_activation(fresh_db, ORDERS, _writer(systems, "odoo"))
    assert first.failed == 1
    (audit,) = _query(fresh_db, "select status, error from ops.activation_audit")
    assert audit["status"] == "failed" and audit["error"].startswith("Odoo fault")
    assert "product_id" in audit["error"]  # Odoo's own words: the foreign key of the line's product
    assert run_activation(fresh_db, ORDERS, _writer(systems, "odoo")).failed == 1  # retried the next run
    assert _query(fresh_db, "select attempts from ops.activation_issues") == [{"attempts": 2}]
    assert _erp_orders(systems, row["external_key"]) == []

    _model(fresh_db, ORDERS, [row])  # fixed upstream (the SKU now maps to a product)
    assert run_activation(fresh_db, ORDERS, _writer(systems, "odoo")).created == 1
    assert len(_erp_orders(systems, row["external_key"])) == 1
    assert _query(fresh_db, "select count(*) as n from ops.activation_issues") == [{"n": 0}]


def test_a_cancelled_web_order_is_cancelled_in_the_erp_and_its_stock_released(fresh_db, systems):
    (row,) = _web_orders(systems, 1)
    row["payload"]["invoice"] = False
    _model(fresh_db, ORDERS, [row])
    run_activation(fresh_db, ORDERS, _writer(systems, "odoo"))
    (order,) = _erp_orders(systems, row["external_key"])
    business = systems["business"]
    reserved = sum(q["reserved_quantity"] for q in business.odoo["stock.quant"].values())

    _model(fresh_db, CANCELS, [{"row_key": row["row_key"], "target_id": str(order["id"]),
                                "payload": {"state": "cancel"}}])
    result = run_activation(fresh_db, CANCELS, _writer(systems, "odoo"))
    assert result.sent == 1 and business.odoo["sale.order"][order["id"]]["state"] == "cancel"
    assert sum(q["reserved_quantity"] for q in business.odoo["stock.quant"].values()) < reserved


def _levels(config: ShopifyConfig, items) -> dict[int, int | None]:
    """The shop's levels of ``items`` as the REST Admin API reads them."""
    items, levels = list(items), {}
    for start in range(0, len(items), 250):
        answer = httpx.get(f"{config.url}/inventory_levels.json", headers={"X-Shopify-Access-Token": config.token},
                           params={"inventory_item_ids": ",".join(map(str, items[start:start + 250])), "limit": 250})
        levels |= {lv["inventory_item_id"]: lv["available"] for lv in answer.json()["inventory_levels"]}
    return levels


def test_stock_levels_are_set_and_an_untracked_item_is_refused(fresh_db, systems):
    """One inventorySetQuantities call for the batch; Shopify refuses it whole for the untracked
    and the unknown item (all or nothing), so those two fail with Shopify's words and the rest is
    sent again in a second call."""
    business = systems["business"]
    variants = [v for p in business.shopify["products"].values() for v in p["variants"]]
    tracked = [v for v in variants if v["inventory_management"] == "shopify"][:3]
    untracked = next(v for v in variants if v["inventory_management"] is None)
    rows = [{"row_key": f"sku:{v['sku']}", "target_id": str(v["inventory_item_id"]),
             "payload": {"available": n + 7}} for n, v in enumerate([*tracked, untracked])]
    rows.append({"row_key": "sku:gone", "target_id": "1", "payload": {"available": 1}})
    _model(fresh_db, STOCK, rows)

    writer = _writer(systems, "shopify")
    result = run_activation(fresh_db, STOCK, writer)
    assert (result.sent, result.failed) == (3, 2)
    assert writer.graphql.requests_made == 2  # the batch, then the batch without the two refused items
    assert _levels(systems["shopify"], [v["inventory_item_id"] for v in tracked]) == {
        v["inventory_item_id"]: n + 7 for n, v in enumerate(tracked)}
    issues = {i["row_key"]: i["target_error"] for i in _query(fresh_db, "select row_key, target_error "
                                                                        "from ops.activation_issues")}
    assert issues.keys() == {f"sku:{untracked['sku']}", "sku:gone"}
    assert "tracking" in issues[f"sku:{untracked['sku']}"]
    assert issues["sku:gone"] == "INVALID_INVENTORY_ITEM: The specified inventory item could not be found."
    (audit,) = _query(fresh_db, "select detail from ops.activation_audit where row_key = %s and status = 'sent'",
                      f"sku:{tracked[1]['sku']}")
    assert audit["detail"]["available"] == 8


def test_stock_goes_out_250_quantities_a_call(fresh_db):
    """More items than one call may carry: the writer cuts the engine's batch into calls of 250
    (REST took one request an item), and the shop's REST reads see every new quantity."""
    from puente.simulators import Business, Credentials, Limits, ManualClock, SimulatorServer, create_app

    business = Business(seed=5, customers=1700, start=DAY, history_days=20)
    tracked = [v for p in business.shopify["products"].values() for v in p["variants"]
               if v["inventory_management"] == "shopify"]
    assert len(tracked) > 250
    activation = Activation(name="t_stock_many", model="act_t_stock_many", relation="activations.act_t_stock_many",
                            target="shopify", object="inventory_levels", mode="update", owns=("available",),
                            batch_size=1000)
    _model(fresh_db, activation, [{"row_key": f"sku:{v['sku']}", "target_id": str(v["inventory_item_id"]),
                                   "payload": {"available": n % 50}} for n, v in enumerate(tracked)])
    credentials, clock = Credentials(), ManualClock()
    with SimulatorServer(create_app(business, credentials, limits=Limits(clock=clock))) as server:
        config = ShopifyConfig(f"{server.base_url}/shopify/admin/api/{API_VERSION}", credentials.shopify_token)
        writer = ShopifyWriter(config, cost_pacer=CostPacer(clock=clock, sleep=clock.advance), sleep=clock.advance,
                               rng=random.Random(0))
        result = run_activation(fresh_db, activation, writer)
        assert (result.sent, result.failed) == (len(tracked), 0)
        assert writer.graphql.requests_made == 2 and result.requests == 3  # two calls and the location
        assert _levels(config, [v["inventory_item_id"] for v in tracked]) == {
            v["inventory_item_id"]: n % 50 for n, v in enumerate(tracked)}


def test_a_throttled_call_waits_for_its_points_and_is_sent_again(fresh_db):
    """Another client has spent the shop's GraphQL points: the call comes back THROTTLED, the writer
    waits (requested - currentlyAvailable) / restoreRate seconds, as Shopify documents, and the
    same call then goes through."""
    from puente.simulators import Business, Credentials, Limits, ManualClock, SimulatorServer, create_app

    business = Business(seed=6, customers=80, start=DAY, history_days=60)
    tracked = [v for p in business.shopify["products"].values() for v in p["variants"]
               if v["inventory_management"] == "shopify"][:4]
    _model(fresh_db, STOCK, [{"row_key": f"sku:{v['sku']}", "target_id": str(v["inventory_item_id"]),
                              "payload": {"available": 30 + n}} for n, v in enumerate(tracked)])
    credentials, clock = Credentials(), ManualClock()
    limits = Limits(shopify_graphql_points=20, shopify_graphql_restore_per_second=10, clock=clock)
    with SimulatorServer(create_app(business, credentials, limits=limits)) as server:
        config = ShopifyConfig(f"{server.base_url}/shopify/admin/api/{API_VERSION}", credentials.shopify_token)
        headers = {"X-Shopify-Access-Token": config.token}
        other = httpx.post(f"{config.url}/graphql.json", headers=headers, json={"query": (
            'mutation { inventorySetQuantities(input: {name: "available", reason: "correction", quantities: []}) '
            '@idempotent(key: "other-app") { inventoryAdjustmentGroup { id changes { delta item { id } } } '
            "userErrors { code } } }")}).json()
        assert other["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 7  # 20 - 13
        writer = ShopifyWriter(config, cost_pacer=CostPacer(clock=clock, sleep=clock.advance), sleep=clock.advance,
                               rng=random.Random(0))
        started = clock.now
        result = run_activation(fresh_db, STOCK, writer)
        assert (result.sent, result.failed, writer.throttled) == (4, 0, 1)
        assert clock.now - started == pytest.approx((13 - 7) / 10)
        assert writer.graphql.requests_made == 2
        assert _levels(config, [v["inventory_item_id"] for v in tracked]) == {
            v["inventory_item_id"]: 30 + n for n, v in enumerate(tracked)}


def test_tienda_nube_variant_stock_is_set_and_a_missing_variant_is_refused(fresh_db):
    """ERP stock into the Tienda Nube store: each variant's stock set through PUT
    /products/{id}/variants/{id} (the store's products extract then sees it), a variant the store no
    longer has refused with the store's words, and nothing sent again once accepted."""
    from puente.simulators import Business, Credentials, Limits, ManualClock, SimulatorServer, create_app
    from puente.sources import registry
    from puente.sources.tiendanube.writer import TiendaNubeWriter

    business = Business(seed=3, customers=120, start=DAY, history_days=90, tiendanube=True)
    products = [p for p in business.tiendanube["products"].values() if p["variants"][0]["stock_management"]][:3]
    gone = products[0]["variants"][0]["id"] + 999_999
    rows = [{"row_key": f"sku:{p['variants'][0]['sku']}", "target_id": f"{p['id']}/{p['variants'][0]['id']}",
             "payload": {"stock": n + 5}} for n, p in enumerate(products)]
    rows.append({"row_key": "sku:GONE", "target_id": f"{products[0]['id']}/{gone}", "payload": {"stock": 1}})
    _model(fresh_db, NUBE_STOCK, rows)
    credentials, clock = Credentials(), ManualClock()
    with SimulatorServer(create_app(business, credentials, limits=Limits(clock=clock))) as server:
        config = registry.source("tiendanube").simulator(server.base_url, credentials)
        writer = TiendaNubeWriter(config, pacer=Pacer.leaky_bucket(40, 2.0, clock=clock, sleep=clock.advance),
                                  sleep=clock.advance, rng=random.Random(0))
        before = {p["id"]: p["updated_at"] for p in products}
        result = run_activation(fresh_db, NUBE_STOCK, writer)
        assert (result.sent, result.failed) == (3, 1)
        headers = {"Authentication": f"bearer {config.token}", "User-Agent": config.user_agent}
        for n, product in enumerate(products):
            served = httpx.get(f"{config.url}/products/{product['id']}", headers=headers).json()
            assert served["variants"][0]["stock"] == n + 5 and served["variants"][0]["stock_management"]
            assert served["updated_at"] > before[product["id"]]  # the next products extract sees it
        (issue,) = _query(fresh_db, "select row_key, target_error from ops.activation_issues")
        assert issue["row_key"] == "sku:GONE" and issue["target_error"] == (
            "HTTP 404: Product Variant with such id does not exist")
        again = run_activation(fresh_db, NUBE_STOCK, writer)
        assert (again.sent, again.failed) == (0, 1)  # the accepted rows are not sent again


def _task_rows(systems, count: int) -> list[dict]:
    contacts = [c for c in systems["business"].hubspot["contacts"].values()
                if not c["archived"] and c["properties"].get("hubspot_owner_id")][:count]
    return [{"row_key": f"churn:{c['id']}:2026-11-01", "external_key": f"churn:{c['id']}:2026-11-01",
             "payload": {"contact_id": c["id"], "properties": {
                 "hs_timestamp": "2026-11-17T14:00:00.000Z", "hs_task_subject": "Churn risk: call",
                 "hs_task_status": "NOT_STARTED", "hs_task_priority": "HIGH", "hs_task_type": "CALL",
                 "hubspot_owner_id": c["properties"]["hubspot_owner_id"]}},
             "compare": {"task": f"churn:{c['id']}:2026-11-01"}} for c in contacts]


def test_tasks_are_created_once_for_the_owner_even_after_a_crash(fresh_db, systems):
    rows = _task_rows(systems, 3)
    bad = {**rows[2], "row_key": "churn:x", "external_key": "churn:x",
           "payload": {**rows[2]["payload"], "properties": {**rows[2]["payload"]["properties"],
                                                             "hs_task_priority": "URGENT"}}}
    _model(fresh_db, TASKS, [*rows, bad])
    tasks = systems["business"].hubspot.setdefault("tasks", {})
    before = len(tasks)

    with pytest.raises(SystemExit):
        run_activation(fresh_db, TASKS, CrashAfterWrite(_writer(systems, "hubspot")))
    assert len(tasks) == before + 3  # HubSpot made them; Puente never booked them

    result = run_activation(fresh_db, TASKS, _writer(systems, "hubspot"))
    assert (result.adopted, result.created, result.failed) == (3, 0, 1)  # found by puente_task_key
    assert len(tasks) == before + 3
    keys = Counter(t["properties"].get("puente_task_key") for t in tasks.values())
    assert all(keys[r["row_key"]] == 1 for r in rows)
    (issue,) = _query(fresh_db, "select row_key, target_error from ops.activation_issues")
    assert issue["row_key"] == "churn:x" and "URGENT" in issue["target_error"]


def test_an_erasure_deletes_the_tasks_puente_made_for_the_person(fresh_db, systems):
    """The engine makes tasks for two contacts; erasing the first person finds their task by the
    engine's books (puente.erasure.puente_tasks) and deletes it in HubSpot, its subject replaced first;
    the other person's task stays as it was."""
    from puente.erasure import puente_tasks
    from puente.sources.hubspot.writer import ERASED_TASK

    rows = [{**r, "row_key": r["row_key"].replace("2026-11-01", "erasure"),
             "external_key": r["row_key"].replace("2026-11-01", "erasure"),
             "payload": {**r["payload"], "properties": {**r["payload"]["properties"],
                                                        "hs_task_body": "Why: no order in 120 days."}}}
            for r in _task_rows(systems, 2)]
    _model(fresh_db, TASKS, rows)
    assert run_activation(fresh_db, TASKS, _writer(systems, "hubspot")).created == 2
    erased_contact, kept_contact = (r["payload"]["contact_id"] for r in rows)

    found = puente_tasks(fresh_db, [erased_contact])
    assert [(activation, key) for activation, key, _ in found] == [("t_tasks", rows[0]["row_key"])]
    task_id = found[0][2]
    (kept_id,) = [t for _, _, t in puente_tasks(fresh_db, [kept_contact])]
    writer = _writer(systems, "hubspot")
    outcomes = writer.erase_tasks([task_id, "987654321"])  # the second was deleted by its owner already
    assert [(o.row_key, o.ok) for o in outcomes] == [(task_id, True), ("987654321", True)]

    tasks = systems["business"].hubspot["tasks"]
    erased, kept = tasks[int(task_id)], tasks[int(kept_id)]
    assert erased["archived"] and erased["properties"]["hs_task_subject"] == ERASED_TASK["hs_task_subject"]
    assert "hs_task_body" not in erased["properties"]
    assert not kept["archived"] and kept["properties"]["hs_task_body"] == "Why: no order in 120 days."
    # gone from HubSpot's searches (HubSpot keeps it restorable for 90 days, without what it said)
    assert writer.lookup("tasks", [rows[0]["row_key"], rows[1]["row_key"]]) == {rows[1]["row_key"]: kept_id}


def test_a_dry_run_leaves_every_system_as_it_was(fresh_db, systems):
    business = systems["business"]

    def snapshot():
        return (len(business.odoo["sale.order"]), len(business.odoo["res.partner"]),
                len(business.hubspot.get("tasks", {})),
                [v["inventory_quantity"] for p in business.shopify["products"].values() for v in p["variants"]])

    before = snapshot()
    variant = next(v for p in business.shopify["products"].values() for v in p["variants"]
                   if v["inventory_management"] == "shopify")
    for activation, rows in ((ORDERS, _web_orders(systems, 2)), (TASKS, _task_rows(systems, 2)),
                             (STOCK, [{"row_key": "sku:x", "target_id": str(variant["inventory_item_id"]),
                                       "payload": {"available": variant["inventory_quantity"] + 5}}])):
        _model(fresh_db, activation, rows)
        result = run_activation(fresh_db, activation, None, dry_run=True)
        assert result.pending == len(rows) and result.requests == 0 and result.samples
    assert snapshot() == before
    assert _query(fresh_db, "select count(*) as n from ops.activation_state") == [{"n": 0}]


def test_owned_fields_only(fresh_db, systems):
    (row,) = _web_orders(systems, 1)
    sneaky = {**row, "payload": {**row["payload"], "pricelist_id": 7}}
    _model(fresh_db, ORDERS, [sneaky])
    result = run_activation(fresh_db, ORDERS, _writer(systems, "odoo"))
    assert (result.invalid, result.sent) == (1, 0)
    assert _erp_orders(systems, row["external_key"]) == []
