"""The simulated business as it is before Puente: nothing moves between its systems by itself.

Web orders reach the ERP only when a person retypes them (days late, with mistakes), won deals
only when a salesperson keys them in, the shop's stock only when someone copies it over; and
``integration_truth()`` (``GET /_sim/integration``) says what a correct integration would have done.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from puente.simulators import Business, Habits


def _erp_orders_by_ref(business: Business) -> dict[str, dict]:
    return {o["client_order_ref"]: o for o in business.odoo["sale.order"].values() if o["client_order_ref"]}


def test_web_orders_reach_the_erp_only_through_a_person_late_and_with_mistakes(business):
    truth = business.integration_truth()
    by_ref = _erp_orders_by_ref(business)
    live = [o for o in truth["web_orders"] if o["state"] == "sale"]
    entered = [o for o in live if o["entered"]]
    # About the configured share is retyped (a few are still waiting for their person).
    share = sum(o["person_enters"] for o in live) / len(live)
    assert abs(share - business.habits.web_orders_retyped) < 0.1, share
    assert entered and len(entered) < len(live)
    for order in live:
        assert (order["name"] in by_ref) == (order["entered"] is not None), order["name"]
    lines = {line["id"]: line for line in business.odoo["sale.order.line"].values()}
    partners = business.odoo["res.partner"]
    mistakes = Counter()
    for order in entered:
        sale_order = by_ref[order["name"]]
        assert sale_order["id"] == order["entered"]["sale_order_id"]
        first, last = business.habits.retype_delay_days
        late = (date.fromisoformat(order["entered"]["entered_on"]) - date.fromisoformat(order["ordered_on"])).days
        assert first <= late <= last + 1, order  # moved off a Sunday: one day more
        typed = {lines[i]["name"].split("]")[0][1:]: lines[i]["product_uom_qty"] for i in sale_order["order_line"]}
        should = {line["sku"]: line["quantity"] for line in order["lines"]}
        wrong = [m for m in order["entered"]["mistakes"] if m.startswith("quantity of")]
        assert len({sku for sku in should if typed[sku] != should[sku]}) == len(wrong), order
        if "no tax id" in order["entered"]["mistakes"]:
            assert partners[sale_order["partner_id"][0]]["vat"] is False
        mistakes.update(m.split(":")[0].split(" of ")[0] for m in order["entered"]["mistakes"])
    assert {"no tax id", "typo in the customer's name", "quantity"} <= set(mistakes), mistakes
    # What the ERP order should have been: the shop's lines (with their discounts, and the shipping the
    # customer paid as an ENVIO line) and amounts, the real buyer as customer.
    for order in live:
        should = sum(round(line["quantity"] * line["price_unit"] * (1 - line["discount"] / 100), 2)
                     for line in order["lines"])
        assert round(should, 2) == order["amount_untaxed"]
        assert order["customer"]["person_id"] == order["person_id"]


def test_won_deals_reach_the_erp_only_when_a_salesperson_keys_them_in(business):
    truth = business.integration_truth()
    won = {str(d["id"]) for d in business.hubspot["deals"].values() if d["properties"]["dealstage"] == "closedwon"}
    assert {str(d["hubspot_deal_id"]) for d in truth["won_deals"]} == won
    entered = [d for d in truth["won_deals"] if d["entered"]]
    assert entered and len(entered) < len(won)
    for deal in entered:
        order = business.odoo["sale.order"][deal["entered"]["sale_order_id"]]
        assert order["origin"] == deal["dealname"] and order["state"] in ("sale", "done")
        assert deal["entered"]["entered_on"] > deal["won_on"]
    keyed_in = {o["id"] for o in business.odoo["sale.order"].values() if o["origin"]}
    assert keyed_in == {d["entered"]["sale_order_id"] for d in entered}


def test_nobody_keys_anything_in_when_puente_is_expected_to():
    business = Business(seed=4, customers=120, history_days=200,
                        habits=Habits(web_orders_retyped=0.0, won_deals_entered=0.0))
    orders = business.odoo["sale.order"].values()
    assert not [o for o in orders if o["client_order_ref"] or o["origin"]]
    summary = business.integration_truth()["summary"]
    assert summary["web_orders_left_for_puente"] == summary["web_orders_live"] > 0
    assert summary["won_deals_left_for_puente"] == summary["won_deals"] > 0


def test_the_shop_keeps_its_own_stock_until_someone_copies_the_erps(new_business):
    # Nobody copies the stock: the shop takes each web order off and puts cancellations back.
    business = Business(seed=9, customers=150, history_days=200, habits=Habits(shop_stock_every_days=10**9))
    before = {s["sku"]: s["shop_available"] for s in business.integration_truth()["stock"]}
    day = business.today + timedelta(days=1)
    for _ in range(3):
        business.advance_day()
    ordered, cancelled = Counter(), Counter()
    for order in business.shopify["orders"].values():
        for line in order["line_items"]:
            if order["created_at"][:10] >= day.isoformat():
                ordered[line["sku"]] += line["quantity"]
            if order["cancelled_at"] and order["cancelled_at"][:10] >= day.isoformat():
                cancelled[line["sku"]] += line["quantity"]
    assert ordered
    after = {s["sku"]: s["shop_available"] for s in business.integration_truth()["stock"]}
    assert after == {sku: n - ordered[sku] + cancelled[sku] for sku, n in before.items()}

    # Someone copies the ERP's stock on hand every working day: the shop then shows it (not the
    # free stock, which reservations make lower: the shop still oversells reserved units), except
    # for the few items the shop does not track, which nobody can set.
    business = Business(seed=9, customers=150, history_days=200, habits=Habits(shop_stock_every_days=1))
    stock = business.integration_truth()["stock"]
    for _ in range(14):  # a working day on which some units are reserved
        if business.today.weekday() != 6 and any(s["erp_reserved"] for s in stock if s["shop_tracks_inventory"]):
            break
        business.advance_day()
        stock = business.integration_truth()["stock"]
    assert all(s["shop_available"] == int(s["erp_on_hand"]) for s in stock if s["shop_tracks_inventory"])
    assert any(s["erp_reserved"] for s in stock)

    # Weekly (the default), the shop drifts from the ERP in between.
    summary = new_business(seed=9, customers=150, history_days=200).integration_truth()["summary"]
    assert 0 < summary["products_where_shop_differs_from_erp"] < summary["products_in_shop"]


def test_habits_refuse_what_cannot_be():
    with pytest.raises(ValueError, match="web_orders_retyped is a share between 0 and 1"):
        Habits(web_orders_retyped=1.5)
    with pytest.raises(ValueError, match="retype_delay_days"):
        Habits(retype_delay_days=(0, 3))


def test_the_integration_truth_is_served_and_filtered_by_date(business, client_for):
    client = client_for(business)
    everything = client.get("/_sim/integration").json()
    assert everything["summary"]["web_orders"] == len(business.shopify["orders"])
    since = (business.today - timedelta(days=30)).isoformat()
    recent = client.get("/_sim/integration", params={"since": since}).json()
    assert recent["since"] == since
    assert 0 < len(recent["web_orders"]) < len(everything["web_orders"])
    assert all(o["ordered_on"] >= since for o in recent["web_orders"])
    assert recent["stock"] == everything["stock"]
    assert client.get("/_sim/integration", params={"since": "yesterday"}).status_code == 400


def test_the_stores_orders_never_reach_the_erp_by_themselves(new_business):
    """With the WooCommerce store on, the truth holds each store order as the ERP order it should be
    (``WC-<number>``, the store's lines and amounts), nobody enters any, and the Shopify shop's
    orders are exactly those of the same business without the store."""
    business = new_business(woocommerce=True)
    truth = business.integration_truth()
    store = {o["shop_order_id"]: o for o in truth["web_orders"] if o["shop"] == "woocommerce"}
    assert set(store) == set(business.woocommerce["orders"]) and store
    for oid, order in business.woocommerce["orders"].items():
        should = store[oid]
        assert should["name"] == f"WC-{order['number']}" and not should["person_enters"] and not should["entered"]
        assert [(line["sku"], line["quantity"], line["price_unit"]) for line in should["lines"]] == [
            (li["sku"], li["quantity"], li["price"]) for li in order["line_items"]]
        assert should["amount_total"] == float(order["total"])
        assert (should["state"] == "cancel") == (order["status"] in ("cancelled", "trash"))
        assert (should["fulfilled_on"] is not None) == (order["status"] == "completed")
    assert not any(str(o["client_order_ref"]).startswith("WC-") for o in business.odoo["sale.order"].values())
    live = sum(o["state"] == "sale" for o in store.values())
    without = new_business().integration_truth()
    assert [o for o in truth["web_orders"] if o["shop"] == "shopify"] == without["web_orders"]
    assert truth["summary"]["web_orders_left_for_puente"] == without["summary"]["web_orders_left_for_puente"] + live
