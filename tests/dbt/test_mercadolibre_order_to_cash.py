"""Mercado Libre's sales in order-to-cash, identity and the ERP: a business selling on the
marketplace beside its Shopify shop, served by the simulators, landed by the connectors and built
by dbt, then its recent sales posted into the Odoo simulator by the web-orders activation."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import psycopg
from psycopg.rows import dict_row

from puente.activation.run import run_named
from puente.dbt import run_dbt
from puente.extract import extract_source
from puente.simulators import Business, Credentials, SimulatorServer, create_app
from puente.sources import registry

TODAY = date(2026, 11, 16)
BUILD = ["build", "--select", "+fct_order_to_cash", "+act_web_orders_to_erp", "+fct_order_lines",
         "--indirect-selection", "cautious"]
AS_OF = {"PUENTE_AS_OF_DATE": TODAY.isoformat()}  # the day the models measure from
VAT = 0.19  # var mercadolibre_price_tax_rate


def rows(url: str, sql: str) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql).fetchall()


def status(sale: dict, shipment: dict) -> str:
    if sale["status"] == "cancelled":
        return "cancelled"
    return "done" if shipment["status"] in ("shipped", "delivered") else "confirmed"


def test_marketplace_sales_reach_order_to_cash_identity_and_the_erp_once(fresh_db):
    business = Business(seed=3, customers=300, start=TODAY, history_days=150, mercadolibre=True, mercadopago=True)
    sales, shipments = business.mercadolibre["orders"], business.mercadolibre["shipments"]
    # a buyer cancels a sale not shipped yet: its payment is refunded
    business.archive("mercadolibre", "orders", next(
        oid for oid, s in reversed(sales.items())
        if s["status"] == "paid" and shipments[s["shipping"]["id"]]["status"] not in ("shipped", "delivered")))
    credentials = Credentials()
    with SimulatorServer(create_app(business, credentials)) as server:
        configs = registry.simulator_configs(server.base_url, credentials)
        for name in ("odoo", "hubspot", "shopify", "mercadolibre", "mercadopago"):
            extract_source(fresh_db, name, configs[name], TODAY)
        run_dbt(BUILD, fresh_db, env=AS_OF)

        # Every sale is a web order, its reference ML-<order id>, its buyer a mercadolibre_buyer record.
        orders = {o["shop_order_id"]: o for o in rows(fresh_db, """
            select o.*, u.shop_order_id from marts.fct_orders o
            join intermediate.int_web_orders_unioned u using (order_id)
            where o.source_system = 'mercadolibre'""")}
        assert set(orders) == set(sales) and len(sales) > 40
        for oid, order in orders.items():
            sale = sales[oid]
            assert (order["order_name"], order["channel"], order["customer_record_key"]) == (
                f"ML-{oid}", "web", f"mercadolibre_buyer:{sale['buyer']['id']}")
            assert order["status"] == status(sale, shipments[sale["shipping"]["id"]])
            # the shipping once a sale: a cart's first order carries it (its payment pays it)
            assert float(order["amount_total"]) == sale["paid_amount"] == sale["total_amount"] + (
                9900.0 if sale["pack_id"] is None or sale["id"] == min(
                    o["id"] for o in business.mercadolibre["packs"][sale["pack_id"]]["orders"]) else 0.0)
            assert order["customer_id"] is not None and order["odoo_sale_order_id"] is None  # the ERP was never told
            # Mercado Libre does not date a cancellation: the sale's last change stands for it
            assert order["cancelled_at"] == (datetime.fromisoformat(sale["date_last_updated"])
                                             if sale["status"] == "cancelled" else None)

        # Identity: buyers carry no e-mail or phone; their names and billing documents link them to
        # the people the ERP and the CRM know, and never merge two people.
        truth = {(r["system"], r["object"], r["id"]): r["person_id"] for r in business.truth()}
        person_of_buyer = {str(s["buyer"]["id"]): truth[("mercadolibre", "orders", str(oid))]
                           for oid, s in sales.items()}
        matched = rows(fresh_db, """
            select r.source_record_id, r.email_normalized, r.tax_id, m.customer_id,
                   array_agg(distinct other.source_system) filter (where other.source_system <> 'mercadolibre') as others
            from intermediate.int_customer_records_unioned r
            join intermediate.int_customers_matched m using (record_key)
            left join intermediate.int_customers_matched om on om.customer_id = m.customer_id
            left join intermediate.int_customer_records_unioned other on other.record_key = om.record_key
            where r.record_type = 'mercadolibre_buyer'
            group by 1, 2, 3, 4""")
        assert {r["source_record_id"] for r in matched} == set(person_of_buyer)
        assert all(r["email_normalized"] is None for r in matched) and sum(bool(r["tax_id"]) for r in matched) > 0.7 * len(matched)
        by_customer: dict[str, set[str]] = {}
        for r in matched:
            by_customer.setdefault(r["customer_id"], set()).add(person_of_buyer[r["source_record_id"]])
        assert all(len(people) == 1 for people in by_customer.values()), "two people merged into one customer"
        linked = sum(bool(r["others"]) for r in matched)
        assert linked >= 0.6 * len(matched), f"only {linked} of {len(matched)} buyers linked"
        # recall: of the buyers whose person has a customer record elsewhere, how many are linked
        elsewhere = {person for (system, _obj, _id), person in truth.items() if system != "mercadolibre"}
        findable = [r for r in matched if person_of_buyer[r["source_record_id"]] in elsewhere]
        recall = sum(bool(r["others"]) for r in findable) / len(findable)
        assert recall >= 0.75, f"recall {recall:.2f}"
        dim = rows(fresh_db, "select count(*) as n from marts.dim_customers where cardinality(mercadolibre_buyer_ids) > 0")
        assert dim[0]["n"] == len(by_customer)

        # The lines: before IVA, the product by the ERP's SKU (the listings carry the business's SKUs).
        lines = rows(fresh_db, """
            select l.amount, l.quantity, p.sku, p.odoo_product_id, o.order_name
            from marts.fct_order_lines l join marts.fct_orders o using (order_id)
            join marts.dim_products p on p.product_id = l.product_id
            where o.source_system = 'mercadolibre'""")
        assert len(lines) == sum(len(s["order_items"]) for s in sales.values())
        assert all(line["odoo_product_id"] is not None for line in lines)

        # Order-to-cash: the Mercado Pago payments each sale carries pay it (an attempt rejected
        # first collects nothing; a cancelled sale's payment was refunded); what Mercado Libre kept
        # is the fee.
        payments = {r["payment_id"]: r for r in rows(fresh_db, """
            select * from marts.fct_payments where provider = 'mercadolibre'""")}
        assert set(payments) == {str(paid["id"]) for sale in sales.values() for paid in sale["payments"]}
        cash = {r["order_id"]: r for r in rows(fresh_db, "select * from marts.fct_order_to_cash")}
        for oid, sale in sales.items():
            order, flow = orders[oid], cash[orders[oid]["order_id"]]
            *rejected, paid = sale["payments"]
            payment = payments[str(paid["id"])]
            for attempt in [payments[str(r["id"])] for r in rejected]:
                assert (attempt["payment_status"], float(attempt["collected_amount"]), attempt["order_id"]) == (
                    "rejected", 0.0, order["order_id"])
            assert (payment["external_reference"], payment["reference_kind"], payment["order_id"], payment["customer_id"]) == (
                f"ML-{oid}", "order", order["order_id"], order["customer_id"])
            assert float(payment["collected_amount"]) == paid["total_paid_amount"] == float(order["amount_total"])
            assert float(payment["fee_amount"]) == round(sum(i["sale_fee"] * i["quantity"] for i in sale["order_items"]), 2) > 0
            if sale["status"] == "cancelled":
                assert (payment["payment_status"], float(payment["net_amount"]), flow["stage"]) == ("refunded", 0.0, "cancelled")
            else:
                assert (payment["payment_status"], float(payment["net_amount"])) == ("approved", paid["total_paid_amount"])
                assert (flow["stage"], flow["payment_source"], flow["paid_at"]) == ("paid", "provider", payment["approved_at"])
        statuses = Counter(p["payment_status"] for p in payments.values())
        assert statuses["refunded"] > 0 and statuses["rejected"] > 0, statuses
        # The seller's Mercado Pago account holds every sale's payments too, under the same ids (the
        # buyer's cancellation refunded there as well): each is one payment, the sale's record, with
        # what reached the account as Mercado Pago says it (the sale does not).
        in_account = {str(r["payment_id"]): r for r in rows(fresh_db, """
            select payment_id, payment_status, net_received_amount from staging.stg_mercadopago__payments
            where order_type = 'mercadolibre'""")}
        assert set(in_account) == set(payments)
        assert rows(fresh_db, """select count(*) as n from marts.fct_payments
                                  where payment_id in (select payment_id::text from staging.stg_mercadopago__payments)
                                  and provider = 'mercadopago' and external_reference like 'ML-%'""")[0]["n"] == 0
        for sale in sales.values():
            for paid in sale["payments"]:
                kept, account = payments[str(paid["id"])], in_account[str(paid["id"])]
                assert account["payment_status"] == kept["payment_status"] == paid["status"]
                received = paid["total_paid_amount"] - paid["shipping_cost"] - paid["marketplace_fee"]
                assert float(kept["net_received_amount"]) == (round(received, 2) if paid["date_approved"] else 0.0)

        # The activation books the posting window's live sales into the ERP as ML-<order id>, once;
        # a cart's orders (one pack) as one sale order, ML-PACK-<pack id> (tests/dbt/test_mercadolibre_carts.py).
        window = {oid for oid, o in orders.items() if not o["is_cancelled"] and o["order_date"] >= TODAY - timedelta(days=14)}
        posted = {r["row_key"]: r for r in rows(fresh_db, """
            select * from activations.act_web_orders_to_erp where row_key like 'mercadolibre_%'""")}

        def key(oid: int) -> str:
            pack = sales[oid]["pack_id"]
            return f"mercadolibre_cart:ML-PACK-{pack}" if pack else f"mercadolibre_order:{oid}"

        assert window and set(posted) == {key(oid) for oid in window}
        assert any(k.startswith("mercadolibre_cart:") for k in posted)
        for k in posted:
            row, sold = posted[k], [sales[oid] for oid in window if key(oid) == k]
            assert row["external_key"] == row["payload"]["client_order_ref"] == (
                k.removeprefix("mercadolibre_cart:") if sold[0]["pack_id"] else f"ML-{sold[0]['id']}")
            goods = sorted((line["product_uom_qty"], line["price_unit"]) for line in row["payload"]["order_line"]
                           if line["price_unit"] != round(9900.0 / (1 + VAT), 2))
            assert goods == sorted((i["quantity"], round(i["unit_price"] / (1 + VAT), 2))
                                   for sale in sold for i in sale["order_items"])
            assert len(row["payload"]["order_line"]) == len(goods) + 1  # the shipping once
        sendable = {k for k, r in posted.items() if r["invalid_reason"] is None}
        odoo = registry.simulator_configs(server.base_url, credentials)["odoo"]
        first = run_named(fresh_db, "web_orders_to_erp", odoo, TODAY)
        again = run_named(fresh_db, "web_orders_to_erp", odoo, TODAY)
        assert first.failed == 0 and first.created >= len(sendable) > 0 and again.created == 0
        refs = Counter(o["client_order_ref"] for o in business.odoo["sale.order"].values()
                       if o["state"] != "cancel" and str(o["client_order_ref"]).startswith("ML-"))
        assert set(refs) == {posted[k]["external_key"] for k in sendable} and set(refs.values()) == {1}
        web = {o["name"]: o for o in business.integration_truth()["web_orders"] if o["shop"] == "mercadolibre"}
        assert {name for name, o in web.items() if o["entered_by_api"]} == set(refs)
    print(f"sales {len(sales)}, lines {len(lines)}, buyers {len(matched)} ({linked} linked; recall {recall:.2f} of "
          f"{len(findable)} findable, no two people merged), window {len(window)}, "
          f"sendable {len(sendable)} (the rest: a buyer with no document nor ERP record), created {first.created}")
