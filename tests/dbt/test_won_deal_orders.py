"""Which order a won deal became (int_deals_orders_matched), against the simulated business's truth.

A salesperson keys most won deals into the ERP by hand, naming the deal in the order's origin;
the rest wait for Puente (act_won_deals_to_erp). The customers who win deals also buy on the
web, so an order of theirs near a deal's close date is often another order: taking it would
hide a deal nobody keyed in, and Puente would never post it. A salesperson may also key a deal in
under an ERP partner identity cannot tie to the deal's contact: the order's origin, products and
total still say it is the deal's, and Puente must not post it again."""

from __future__ import annotations

from test_woocommerce_order_to_cash import AS_OF, TODAY, land, rows

from puente.dbt import run_dbt
from puente.simulators import Business, Credentials, SimulatorServer, create_app

POSTING_WINDOW_FROM = "2026-10-17"  # var deal_posting_days (30) before TODAY

MATCHED = """
    select m.deal_id, orders.odoo_sale_order_id, (
        select count(*) from marts.fct_orders as other
        where other.customer_id = m.customer_id and not other.is_cancelled
            and other.ordered_at >= m.closed_at - interval '3 days'
            and other.ordered_at < m.closed_at + interval '30 days'
    ) as orders_near
    from intermediate.int_deals_orders_matched as m
    left join marts.fct_orders as orders on m.order_id = orders.order_id"""


def test_a_deal_is_matched_to_its_own_order_never_to_another_of_its_customer(fresh_db):
    business = Business(seed=2, customers=400, start=TODAY, history_days=240)
    won = {str(d["hubspot_deal_id"]): d for d in business.integration_truth()["won_deals"]}
    # The latest deal keyed in that has products: its ERP partner keeps only a company name (no
    # e-mail, phone, tax id or street), so nothing ties it to the deal's CRM contact.
    associations = business.records.hubspot_associations
    elsewhere = max((d for d in won.values()
                     if d["entered"] and associations[("deals", d["hubspot_deal_id"])].get("line_items")),
                    key=lambda d: d["won_on"])
    order = business.odoo["sale.order"][elsewhere["entered"]["sale_order_id"]]
    partner = business.odoo["res.partner"][order["partner_id"][0]]
    partner.update({"name": "Inversiones Tres Ríos SAS", "email": False, "phone": False, "mobile": False,
                    "vat": False, "street": False})
    credentials = Credentials()
    with SimulatorServer(create_app(business, credentials)) as server:
        land(fresh_db, server.base_url, credentials)
    run_dbt(["build", "--select", "+int_deals_orders_matched", "+act_won_deals_to_erp", "--exclude", "tag:gate",
             "--indirect-selection", "cautious"], fresh_db, env=AS_OF)
    matched = {r["deal_id"]: r for r in rows(fresh_db, MATCHED)}
    assert set(matched) == set(won)

    def erp_order(deal: dict) -> int | None:
        return matched[str(deal["hubspot_deal_id"])]["odoo_sale_order_id"]

    # A deal keyed in is matched to the order keyed in for it, never to another.
    keyed = [d for d in won.values() if d["entered"]]
    own = [d for d in keyed if erp_order(d) == d["entered"]["sale_order_id"]]
    assert len(keyed) > 20 and len(own) == len(keyed), (len(keyed), len(own))

    # A deal nobody keyed in has no order, though its customer placed others near its close date
    # (the nearest of which the deal used to take).
    hidden = [d for d in won.values() if not d["entered"] and matched[str(d["hubspot_deal_id"])]["orders_near"]]
    assert len(hidden) >= 5, len(hidden)
    assert [d["hubspot_deal_id"] for d in hidden if erp_order(d)] == []

    # So the recent ones are on Puente's list to post, and no deal keyed in is.
    listed = {r["row_key"].split(":")[1] for r in rows(fresh_db, "select row_key from activations.act_won_deals_to_erp")}
    recent = {str(d["hubspot_deal_id"]) for d in hidden if d["won_on"] > POSTING_WINDOW_FROM}
    assert recent and recent <= listed, (recent, listed)
    assert listed.isdisjoint(str(d["hubspot_deal_id"]) for d in own)

    # The deal keyed in under a partner identity keeps apart from its contact (two customers, in
    # the posting window) is among them: another customer's order, and still the deal's.
    (contact,) = associations[("deals", elsewhere["hubspot_deal_id"])]["contacts"]
    (customers,) = rows(fresh_db, f"select count(distinct customer_id) as n from intermediate.int_customers_matched "
                                  f"where record_key in ('odoo_partner:{partner['id']}', 'hubspot_contact:{contact}')")
    assert customers == {"n": 2} and elsewhere["won_on"] > POSTING_WINDOW_FROM
    assert erp_order(elsewhere) == order["id"]
