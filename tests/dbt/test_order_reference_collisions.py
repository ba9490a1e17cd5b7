"""A web order's number typed into another customer's quotation as Customer Reference.

Odoo's ``client_order_ref`` is the customer's reference, free text: sales staff type a B2B
customer's purchase-order number there, and ``1042`` may well be Shopify order ``#1042`` too.
Built by dbt from the simulators, then acted on by the real activations against the Odoo
simulator: the web order must not disappear into the other customer's quotation (neither posted
nor listed), the quotation must not be cancelled with the web order, and the two customers must
not become one.
"""

from __future__ import annotations

from datetime import timedelta

from test_woocommerce_order_to_cash import AS_OF, BUILD, TODAY, land, rows

from puente.activation.run import run_named
from puente.dbt import run_dbt
from puente.simulators import Business, Credentials, SimulatorServer, create_app
from puente.sources import registry
from puente.sources.odoo.connector import OdooConnector

BUILD = [*BUILD[:2], "+int_customers_matched", *BUILD[2:]]


def test_another_customers_quotation_carrying_a_web_orders_number_is_not_that_order(fresh_db):
    business = Business(seed=3, customers=200, start=TODAY, history_days=120, woocommerce=True)
    truth = business.integration_truth()["web_orders"]
    # a recent Shopify order nobody retyped, of a customer the ERP knows
    web = [o for o in truth if o["shop"] == "shopify" and o["state"] == "sale" and not o["entered"]
           and o["customer"]["erp_partner_id"]][-1]
    name, number = web["name"], web["name"].lstrip("#")
    buyer = web["customer"]["erp_partner_id"]
    other = next(p for p in business.odoo["res.partner"].values()
                 if p["id"] != buyer and p.get("customer_rank", 1) and p.get("active", True))
    product = next(iter(business.odoo["product.product"]))
    (shop_order,) = [o for o in business.shopify["orders"].values() if o["name"] == name]
    credentials = Credentials()
    with SimulatorServer(create_app(business, credentials)) as server:
        odoo = registry.simulator_configs(server.base_url, credentials)["odoo"]
        quotation = OdooConnector(odoo).execute_kw("sale.order", "create", [{
            "partner_id": other["id"], "client_order_ref": number, "origin": "Phone call",
            "order_line": [[0, 0, {"product_id": product, "product_uom_qty": 5, "price_unit": 10.0}]]}], {})
        quotation_name = business.odoo["sale.order"][quotation]["name"]
        land(fresh_db, server.base_url, credentials)
        run_dbt(BUILD, fresh_db, env=AS_OF)

        # not linked to the quotation, which is named instead; the two customers stay two
        (fact,) = rows(fresh_db, f"select * from marts.fct_orders where order_name = '{name}'")
        assert (fact["odoo_sale_order_id"], fact["conflicting_sale_order_names"]) == (None, quotation_name)
        customers = {r["record_key"]: r["customer_id"] for r in rows(fresh_db, f"""
            select record_key, customer_id from intermediate.int_customers_matched
            where record_key in ('odoo_partner:{other["id"]}', '{fact["customer_record_key"]}')""")}
        assert len(customers) == 2 and len(set(customers.values())) == 2, customers
        # nor is the shared number evidence that they are one (it weighed +24.8 in the pair's favour)
        assert rows(fresh_db, f"""select explanation from intermediate.int_customer_pairs_scored
                                  where web_order_level <> 'none' and 'odoo_partner:{other["id"]}'
                                  in (record_key, other_record_key)""") == []

        # the activation neither posts it beside the quotation nor adopts the quotation: a person decides
        (row,) = rows(fresh_db, f"select invalid_reason from activations.act_web_orders_to_erp where external_key = '{name}'")
        assert row["invalid_reason"].startswith(f"ERP order {quotation_name} already carries the reference {name}")
        run_named(fresh_db, "web_orders_to_erp", odoo, TODAY)
        listed = rows(fresh_db, f"select reason from ops.activation_issues where context::text like '%web order {name}%'")
        assert [r["reason"] for r in listed] == [row["invalid_reason"]]
        assert [o["id"] for o in business.odoo["sale.order"].values()
                if (o.get("client_order_ref") or "").lstrip("#") == number] == [quotation]
        assert business.odoo["sale.order"][quotation]["state"] == "draft"

        # a week on, past the grace period, it is an order-to-cash gap no activation closes
        later = {"PUENTE_AS_OF_DATE": (TODAY + timedelta(days=7)).isoformat()}
        run_dbt(BUILD, fresh_db, env=later)
        assert rows(fresh_db, f"select gap_type, activation_posts from marts.order_to_cash_gaps "
                              f"where order_id = '{fact['order_id']}'") == [
            {"gap_type": "web_order_reference_conflict", "activation_posts": False}]

        # the shop cancels the order: the other customer's quotation is not cancelled with it
        shop_order.update(cancelled_at="2026-11-16T17:00:00-05:00", updated_at="2026-11-16T17:00:00-05:00",
                          cancel_reason="customer")
        land(fresh_db, server.base_url, credentials)
        run_dbt(BUILD, fresh_db, env=AS_OF)
        result = run_named(fresh_db, "web_order_cancellations", odoo, TODAY)
    assert result.sent == 0
    assert business.odoo["sale.order"][quotation]["state"] == "draft"
