"""The Tienda Nube store's orders in order-to-cash, identity and the ERP: a business running the
store beside its Shopify shop, served by the simulators, landed by the connectors and built by dbt,
then its recent store orders posted into the Odoo simulator by the web-orders activation, twice."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import psycopg
from psycopg.rows import dict_row

from puente import run_report
from puente.activation.run import run_named
from puente.dbt import run_dbt
from puente.extract import extract_source
from puente.simulators import Business, Credentials, SimulatorServer, create_app
from puente.sources import registry

TODAY = date(2026, 11, 16)
BUILD = ["build", "--select", "+fct_order_to_cash", "+order_to_cash_gaps", "+act_web_orders_to_erp",
         "+act_web_order_cancellations", "+fct_order_lines", "--indirect-selection", "cautious"]
AS_OF = {"PUENTE_AS_OF_DATE": TODAY.isoformat()}  # the day the models measure from
VAT = 0.19  # var tiendanube_price_tax_rate: the store's prices include Colombia's IVA


def rows(url: str, sql: str) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql).fetchall()


def land(url: str, base_url: str, credentials: Credentials) -> None:
    for name, config in registry.simulator_configs(base_url, credentials).items():
        extract_source(url, name, config, TODAY)


def status(order: dict) -> str:
    if order["status"] == "cancelled":
        return "cancelled"
    return "done" if order["shipping_status"] == "shipped" else "confirmed"


def test_store_orders_reach_order_to_cash_identity_and_the_erp_once(fresh_db):
    business = Business(seed=3, customers=200, start=TODAY, history_days=120, tiendanube=True)
    store = business.tiendanube["orders"]
    credentials = Credentials()
    with SimulatorServer(create_app(business, credentials)) as server:
        land(fresh_db, server.base_url, credentials)
        run_dbt(BUILD, fresh_db, env=AS_OF)

        # Every store order is a web order of its own, cancelled ones included (their payment
        # refunded or voided: a pass of their own in the walk), its reference TN-<number>, its
        # buyer the store's customer, resolved to the customer that holds that record.
        orders = {o["tiendanube_order_id"]: o for o in rows(fresh_db, """
            select o.*, m.customer_id as matched_customer_id
            from marts.fct_orders o
            left join intermediate.int_customers_matched m on m.record_key = o.customer_record_key
            where o.source_system = 'tiendanube'""")}
        assert set(orders) == set(store) and len(store) > 40
        assert {status(o) for o in store.values()} == {"confirmed", "done", "cancelled"}
        for oid, order in orders.items():
            placed = store[oid]
            assert (order["order_name"], order["channel"], order["status"], order["customer_record_key"]) == (
                f"TN-{placed['number']}", "web", status(placed),
                f"tiendanube_customer:{placed['customer']['id']}"), oid
            assert order["customer_id"] is not None and order["customer_id"] == order["matched_customer_id"]
            assert (float(order["amount_total"]), order["currency_code"]) == (float(placed["total"]), "COP")
            # the store dates a cancellation
            assert order["cancelled_at"] == (datetime.fromisoformat(placed["cancelled_at"])
                                             if status(placed) == "cancelled" else None)
            # Before Puente nobody enters the store's orders in the ERP.
            assert order["odoo_sale_order_id"] is None and order["woocommerce_order_id"] is None

        # Their lines: one per store line, before IVA, the product by the ERP's SKU.
        lines = rows(fresh_db, """
            select l.tiendanube_order_line_id, l.amount, l.quantity, l.line_source, p.sku, p.odoo_product_id
            from marts.fct_order_lines l
            join marts.fct_orders o using (order_id)
            join marts.dim_products p on p.product_id = l.product_id
            where o.source_system = 'tiendanube'""")
        expected = {p["id"]: p for o in store.values() for p in o["products"]}
        assert {line["tiendanube_order_line_id"] for line in lines} == set(expected)
        for line in lines:
            item = expected[line["tiendanube_order_line_id"]]
            assert (line["line_source"], line["sku"], float(line["quantity"])) == ("tiendanube", item["sku"],
                                                                                    item["quantity"])
            assert float(line["amount"]) == round(item["quantity"] * round(float(item["price"]) / (1 + VAT), 2), 2)
            assert line["odoo_product_id"] is not None  # the store sells the ERP's SKUs

        # Identity: the store's customers join the people the ERP and the CRM know; the document
        # the checkout asks for is evidence. The ground truth says who each customer really is.
        truth = {(r["system"], r["object"], r["id"]): r["person_id"] for r in business.truth()}
        matched = rows(fresh_db, """
            select r.source_record_id, m.customer_id,
                   array_agg(distinct other.source_system) filter (where other.source_system <> 'tiendanube') as others
            from intermediate.int_customer_records_unioned r
            join intermediate.int_customers_matched m using (record_key)
            left join intermediate.int_customers_matched om on om.customer_id = m.customer_id
            left join intermediate.int_customer_records_unioned other on other.record_key = om.record_key
            where r.record_type = 'tiendanube_customer'
            group by 1, 2""")
        assert {int(r["source_record_id"]) for r in matched} == set(business.tiendanube["customers"])
        person_of = {r["source_record_id"]: truth[("tiendanube", "customers", r["source_record_id"])]
                     for r in matched}
        by_customer: dict[str, set[str]] = {}
        for r in matched:
            by_customer.setdefault(r["customer_id"], set()).add(person_of[r["source_record_id"]])
        assert all(len(people) == 1 for people in by_customer.values()), "two people merged into one customer"
        linked = sum(bool(r["others"]) for r in matched)
        assert linked >= 0.6 * len(matched), f"only {linked} of {len(matched)} store customers linked"
        with psycopg.connect(fresh_db, row_factory=dict_row) as conn:
            chart = {r["systems"]: r["customers"] for r in run_report._linked_customers(conn)}
        assert any("Tienda Nube" in systems for systems in chart)

        # Order-to-cash: nothing of the store is in the ERP yet; the activation shapes each live
        # order of the posting window as the ERP sale order it should be.
        stages = Counter(r["stage"] for r in rows(fresh_db, """
            select c.stage from marts.fct_order_to_cash c join marts.fct_orders o using (order_id)
            where o.source_system = 'tiendanube'"""))
        assert set(stages) == {"ordered", "cancelled"}
        window = {oid for oid, o in orders.items()
                  if not o["is_cancelled"] and o["order_date"] >= TODAY - timedelta(days=14)}
        posted = {r["row_key"]: r for r in rows(fresh_db, """
            select * from activations.act_web_orders_to_erp where row_key like 'tiendanube_order:%'""")}
        assert window and set(posted) == {f"tiendanube_order:{oid}" for oid in window}
        for oid in window:
            row, placed = posted[f"tiendanube_order:{oid}"], store[oid]
            payload = row["payload"]
            assert row["external_key"] == payload["client_order_ref"] == f"TN-{placed['number']}"
            assert payload["origin"] == f"Tienda Nube TN-{placed['number']}"
            assert payload["invoice"] == (placed["payment_status"] == "paid")
            goods = [line for line in payload["order_line"] if line["product_uom_qty"] and line["price_unit"] != round(
                float(placed["shipping_cost_customer"]) / (1 + VAT), 2)]
            assert sorted((line["product_uom_qty"], line["price_unit"]) for line in goods) == sorted(
                (p["quantity"], round(float(p["price"]) / (1 + VAT), 2)) for p in placed["products"])
        sendable = {k for k, r in posted.items() if r["invalid_reason"] is None}
        assert sendable

        # Posted into the ERP, once: a second run finds every order there and creates nothing;
        # the business takes them from there (the truth counts them entered through the API).
        odoo = registry.simulator_configs(server.base_url, credentials)["odoo"]
        first = run_named(fresh_db, "web_orders_to_erp", odoo, TODAY)
        assert first.failed == 0 and first.created >= len(sendable)
        again = run_named(fresh_db, "web_orders_to_erp", odoo, TODAY)
        assert again.created == 0 and again.failed == 0
        refs = Counter(o["client_order_ref"] for o in business.odoo["sale.order"].values()
                       if o["state"] != "cancel" and str(o["client_order_ref"]).startswith("TN-"))
        assert set(refs) == {posted[k]["external_key"] for k in sendable} and set(refs.values()) == {1}
        web = {o["name"]: o for o in business.integration_truth()["web_orders"] if o["shop"] == "tiendanube"}
        assert {name for name, o in web.items() if o["entered_by_api"]} == set(refs)
        land(fresh_db, server.base_url, credentials)
        run_dbt(BUILD, fresh_db, env=AS_OF)
    linked_orders = rows(fresh_db, """
        select o.order_name, c.stage from marts.fct_orders o join marts.fct_order_to_cash c using (order_id)
        where o.source_system = 'tiendanube' and o.odoo_sale_order_id is not null""")
    print(f"store orders {len(store)}, lines {len(lines)}, customers {len(matched)} ({linked} linked), window "
          f"{len(window)}, sendable {len(sendable)}, created {first.created}, linked {len(linked_orders)}")
    assert {r["order_name"] for r in linked_orders} == set(refs)
    assert all(r["stage"] in ("in_erp", "invoiced", "paid") for r in linked_orders)
