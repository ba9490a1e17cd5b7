"""A deal's product line without a price or quantity, or a shop line staging could not read, reaches
the ERP activations' work list with its reason, from the models, before anything is sent. A HubSpot
line item whose price was left blank is common (the Odoo writer would refuse the row too, but only
once the night got to it: tests/activation/test_erp_orders_under_faults.py); a shop line whose price
cannot be read is quarantined by staging, and its order was posted to the ERP without it."""

from __future__ import annotations

from test_woocommerce_order_to_cash import AS_OF, TODAY, land, rows

from puente.dbt import run_dbt
from puente.simulators import Business, Credentials, SimulatorServer, create_app


def test_lines_without_a_price_or_quantity_are_listed_not_sent(fresh_db):
    business = Business(seed=4, customers=200, start=TODAY, history_days=120)
    blanked = {}
    for i, item in enumerate(business.hubspot["line_items"].values()):
        if i % 2:
            field = "price" if i % 4 == 1 else "quantity"
            item["properties"][field] = ""
            blanked[item["properties"]["name"]] = field
    recent = [o for o in business.integration_truth()["web_orders"] if o["shop"] == "shopify" and o["state"] == "sale"
              and not o["entered"]][-1]
    (shop_order,) = [o for o in business.shopify["orders"].values() if o["name"] == recent["name"]]
    shop_order["line_items"][0]["price"] = ""
    credentials = Credentials()
    with SimulatorServer(create_app(business, credentials)) as server:
        land(fresh_db, server.base_url, credentials)
    run_dbt(["build", "--select", "+act_won_deals_to_erp", "+act_web_orders_to_erp", "--exclude", "tag:gate",
             "--indirect-selection", "cautious"], fresh_db, env=AS_OF)

    deals = rows(fresh_db, "select payload, invalid_reason from activations.act_won_deals_to_erp")
    unpriced = [d for d in deals if any(line["price_unit"] is None or line["product_uom_qty"] is None
                                        for line in d["payload"]["order_line"])]
    assert unpriced and len(unpriced) < len(deals), "the test's won deals have no blank lines, or only blank ones"
    for deal in unpriced:
        assert deal["invalid_reason"] is not None
        assert any(deal["invalid_reason"] == f"the deal's product \"{name}\" has no {field} in the CRM; set it on the "
                   "deal's product line or enter the order by hand" for name, field in blanked.items()), deal
    assert all("in the CRM; set it on the deal's product line" not in (d["invalid_reason"] or "")
               for d in deals if d not in unpriced)

    # staging quarantines the shop line (a price it cannot read): the order is not posted without it
    (web,) = rows(fresh_db, f"select invalid_reason, payload from activations.act_web_orders_to_erp "
                            f"where external_key = '{recent['name']}'")
    products = [line for line in web["payload"]["order_line"] if not line.get("name", "").startswith("Shipping of")]
    assert len(products) == len(shop_order["line_items"]) - 1
    assert web["invalid_reason"] == ("a line of the order could not be read from Shopify (marts.data_issues says which "
                                     "value); Puente does not post the order without it: correct it there or enter "
                                     "the order by hand")
    assert rows(fresh_db, "select count(*) as n from activations.act_web_orders_to_erp where invalid_reason like "
                          "'a line of the order could not be read%%'") == [{"n": 1}]
