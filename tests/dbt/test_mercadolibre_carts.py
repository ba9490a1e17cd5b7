"""Mercado Libre carts ("packs") into the ERP: a buyer's cart of three listings is three orders of
one pack and one shipment on the marketplace, and one sale order in the ERP, with the three items
and the shipping once; a cart whose orders reach Puente on two nights is posted once, on the
second; a lone sale is posted as before. Served by the simulators, landed by the connectors, built
by dbt and posted into the Odoo simulator by the web-orders activation."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from puente.activation.run import run_named
from puente.dbt import run_dbt
from puente.extract import extract_source
from puente.simulators import Business, Credentials, SimulatorServer, create_app
from puente.simulators.business.assortment import SHIPPING_SKU
from puente.sources import registry

TODAY = date(2026, 11, 16)
# (no look-back: everything here lands within the hour, and the marts kept between nights are to
# compute only what a night changed)
BUILD = ["build", "--select", "+fct_order_to_cash", "+fct_order_lines", "+act_web_orders_to_erp", "+act_web_order_cancellations",
         "--indirect-selection", "cautious", "--vars", '{"incremental_lookback_hours": 0}']
# Only the work list's own model, when nothing upstream changed but the night's date or a var
WORK_LIST = ["run", "--select", "act_web_orders_to_erp"]
AS_OF = {"PUENTE_AS_OF_DATE": TODAY.isoformat()}
SHIPPING, VAT = 9900.0, 0.19


def rows(url: str, sql: str, *params) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql, params or None).fetchall()


def sell(business: Business, people: list, skus: list[str]) -> list[int]:
    """A paid sale of ``skus`` (one each) today to the next of ``people`` who gives a document for
    the invoice (so that the ERP can take the customer); its orders' ids."""
    while people:
        oids = business.meli.sell(people.pop(0), [(sku, 1) for sku in skus])
        if business.meli.billing[oids[0]] is not None:
            return oids
    raise AssertionError("no buyer left")


def erp_orders(business: Business, reference: str) -> list[dict]:
    return [o for o in business.odoo["sale.order"].values() if o["client_order_ref"] == reference]


def assert_order_to_cash_as_rebuilt(url: str) -> None:
    """fct_order_to_cash, kept by order between builds, holds what a build from scratch makes."""
    kept = rows(url, "select * from marts.fct_order_to_cash order by order_id")
    run_dbt(["run", "--full-refresh", "--select", "fct_order_to_cash"], url, env=AS_OF)
    assert rows(url, "select * from marts.fct_order_to_cash order by order_id") == kept


def test_a_cart_is_one_erp_order_with_its_shipping_once(fresh_db):
    business = Business(seed=5, customers=150, start=TODAY, history_days=20, mercadolibre=True)
    meli = business.meli
    people = [p for p in business.people if p.alive and p.country == "CO" and p.acquired_day <= meli._today]
    skus = [sku for sku in meli.product_by_sku if sku != SHIPPING_SKU][:5]
    cart = sell(business, people, skus[:3])  # three listings checked out together
    late = sell(business, people, skus[3:5])  # a cart whose second order reaches Puente a night later
    (lone,) = sell(business, people, skus[:1])  # one listing alone
    orders, packs = business.mercadolibre["orders"], business.mercadolibre["packs"]
    pack_id, late_pack = orders[cart[0]]["pack_id"], orders[late[0]]["pack_id"]
    assert len(cart) == 3 and len(late) == 2 and pack_id is not None and orders[lone]["pack_id"] is None
    # The docs of 2024-2025 announce a pack for every order: the lone sale gets one, of one order,
    # and stays a lone sale for Puente (tests/dbt/test_mercadolibre_order_to_cash.py has lone sales
    # without a pack).
    solo = {**packs[pack_id], "id": max(packs) + 1, "orders": [{"id": lone}], "shipment": orders[lone]["shipping"]}
    business.records.add("mercadolibre", "packs", solo["id"], solo, None)
    orders[lone]["pack_id"] = solo["id"]
    assert len({orders[o]["shipping"]["id"] for o in cart}) == 1
    assert [o["id"] for o in packs[pack_id]["orders"]] == cart
    # the order the search does not serve yet (the pack lists it already)
    hidden = orders.pop(late[1])
    business.records.version += 1

    credentials = Credentials()
    with SimulatorServer(create_app(business, credentials)) as server:
        configs = registry.simulator_configs(server.base_url, credentials)
        odoo = configs["odoo"]
        # the pack resource, as the docs show it
        for name in ("odoo", "hubspot", "mercadolibre"):
            extract_source(fresh_db, name, configs[name], TODAY)
        run_dbt(BUILD, fresh_db, env=AS_OF)

        # Staging: the cart's orders share the reference ML-PACK-<pack id>; its shipping counts once.
        web = {r["shop_order_id"]: r for r in rows(fresh_db, """
            select * from intermediate.int_web_orders_unioned where shop_system = 'mercadolibre'""")}
        reference = f"ML-PACK-{pack_id}"
        assert [web[o]["order_reference"] for o in cart] == [reference] * 3
        assert [web[o]["order_name"] for o in cart] == [f"ML-{o}" for o in cart]
        assert [float(web[o]["amount_total"]) for o in cart] == [
            orders[o]["total_amount"] + (SHIPPING if k == 0 else 0.0) for k, o in enumerate(cart)]
        assert web[late[0]]["is_cart_incomplete"] and not web[cart[0]]["is_cart_incomplete"]
        assert (web[lone]["order_reference"], float(web[lone]["amount_total"])) == (
            f"ML-{lone}", orders[lone]["total_amount"] + SHIPPING)

        # The activation: one row for the cart, its three items and the shipping once; the lone
        # order as before; the incomplete cart waits.
        posted = {r["row_key"]: r for r in rows(fresh_db, """
            select * from activations.act_web_orders_to_erp where row_key like 'mercadolibre_%%'""")}
        row = posted[f"mercadolibre_cart:{reference}"]
        assert row["external_key"] == row["payload"]["client_order_ref"] == reference
        lines = row["payload"]["order_line"]
        shipping_lines = [line for line in lines if line.get("name", "").startswith("Shipping")]
        assert len(lines) == 4 and len(shipping_lines) == 1
        assert shipping_lines[0]["price_unit"] == round(SHIPPING / (1 + VAT), 2)
        assert sorted(line["price_unit"] for line in lines if line not in shipping_lines) == sorted(
            round(orders[o]["order_items"][0]["unit_price"] / (1 + VAT), 2) for o in cart)
        assert row["invalid_reason"] is None
        assert posted[f"mercadolibre_order:{lone}"]["payload"]["client_order_ref"] == f"ML-{lone}"
        assert len(posted[f"mercadolibre_order:{lone}"]["payload"]["order_line"]) == 2
        assert not any(late_pack and str(late_pack) in key or key.endswith(str(late[0])) for key in posted)
        assert not any(str(o) in key for o in cart for key in posted)

        first = run_named(fresh_db, "web_orders_to_erp", odoo, TODAY)
        again = run_named(fresh_db, "web_orders_to_erp", odoo, TODAY)
        assert first.failed == 0 and again.created == 0
        (sale_order,) = erp_orders(business, reference)
        erp_lines = [business.odoo["sale.order.line"][i] for i in sale_order["order_line"]]
        assert len(erp_lines) == 4
        assert sum(line["name"].startswith("Shipping") for line in erp_lines) == 1
        assert len(erp_orders(business, f"ML-{lone}")) == 1
        assert not any(str(o["client_order_ref"]).endswith(str(late_pack)) for o in business.odoo["sale.order"].values())
        truth = {o["name"]: o for o in business.integration_truth()["web_orders"] if o["shop"] == "mercadolibre"}
        assert truth[reference]["entered_by_api"] and truth[f"ML-{lone}"]["entered_by_api"]

        # Were the order never served (another seller's, in a cart of two sellers), the cart would go
        # to the work list once a day has passed, never posted in part.
        run_dbt(WORK_LIST, fresh_db, env={"PUENTE_AS_OF_DATE": (TODAY + timedelta(days=2)).isoformat()})
        (waiting,) = rows(fresh_db, "select * from activations.act_web_orders_to_erp where row_key = %s",
                          f"mercadolibre_cart:ML-PACK-{late_pack}")
        assert "never reached Puente" in waiting["invalid_reason"]
        # a business whose marketplace carts take longer to arrive waits longer (the var)
        run_dbt([*WORK_LIST, "--vars", "{web_order_cart_wait_days: 3}"], fresh_db,
                env={"PUENTE_AS_OF_DATE": (TODAY + timedelta(days=2)).isoformat()})
        assert rows(fresh_db, "select * from activations.act_web_orders_to_erp where row_key = %s",
                    f"mercadolibre_cart:ML-PACK-{late_pack}") == []

        # The next night: the cart's second order is served at last; the ERP's new orders land.
        orders[late[1]] = hidden
        business.touch("mercadolibre", "orders", late[1])
        for name in ("odoo", "mercadolibre"):
            extract_source(fresh_db, name, configs[name], TODAY)
        run_dbt(BUILD, fresh_db, env=AS_OF)
        posted = {r["row_key"]: r for r in rows(fresh_db, """
            select * from activations.act_web_orders_to_erp where row_key like 'mercadolibre_%%'""")}
        late_reference = f"ML-PACK-{late_pack}"
        assert set(posted) == {f"mercadolibre_cart:{late_reference}"}  # the rest is in the ERP now
        assert len(posted[f"mercadolibre_cart:{late_reference}"]["payload"]["order_line"]) == 3
        second = run_named(fresh_db, "web_orders_to_erp", odoo, TODAY)
        assert second.failed == 0 and second.created == 1
        assert len(erp_orders(business, late_reference)) == 1 and len(erp_orders(business, reference)) == 1

        # A third night: nothing new to post; order-to-cash links every order of a cart to its
        # one ERP order. The accountant posts the second cart's invoice (Puente's draft) today.
        (late_sale_order,) = erp_orders(business, late_reference)
        (draft,) = late_sale_order["invoice_ids"]
        invoice = business.erp.post_invoice(draft, business.now(), TODAY + timedelta(days=30))
        extract_source(fresh_db, "odoo", odoo, TODAY)
        run_dbt(BUILD, fresh_db, env=AS_OF)
        assert rows(fresh_db, """select row_key from activations.act_web_orders_to_erp
                                 where row_key like 'mercadolibre_%%'""") == []
        assert run_named(fresh_db, "web_orders_to_erp", odoo, TODAY).created == 0
        cash = {r["shop_order_id"]: r for r in rows(fresh_db, """
            select u.shop_order_id, o.odoo_sale_order_id, o.amount_total, c.stage, c.invoice_count,
                   c.amount_residual, c.erp_order_share from marts.fct_orders o
            join intermediate.int_web_orders_unioned u using (order_id)
            join marts.fct_order_to_cash c using (order_id)
            where o.source_system = 'mercadolibre'""")}
        assert [cash[o]["odoo_sale_order_id"] for o in cart] == [sale_order["id"]] * 3
        assert [cash[o]["odoo_sale_order_id"] for o in late] == [late_sale_order["id"]] * 2
        assert cash[lone]["odoo_sale_order_id"] == erp_orders(business, f"ML-{lone}")[0]["id"]
        assert Counter(cash[o]["stage"] for o in [*cart, *late, lone])["ordered"] == 0
        # the cart's invoice is counted once over its orders: each shows it (each paid at the
        # marketplace's checkout), with its part of what is due by its part of the cart's amount
        assert [cash[o]["invoice_count"] for o in late] == [1] * 2
        assert [cash[o]["invoice_count"] for o in cart] == [0] * 3
        assert sum(cash[o]["erp_order_share"] for o in late) == pytest.approx(1)
        cart_total = sum(cash[o]["amount_total"] for o in late)
        for o in late:
            assert cash[o]["erp_order_share"] == pytest.approx(cash[o]["amount_total"] / cart_total)
        assert float(sum(cash[o]["amount_residual"] for o in late)) == pytest.approx(
            invoice["amount_residual"], abs=0.01 * len(late))
        assert cash[lone]["erp_order_share"] == 1
        # their lines: a cart's orders keep their own, the ERP order's being the whole cart's; the
        # lone sale's are its ERP order's
        found = rows(fresh_db, """
            select u.shop_order_id, l.line_source, count(*) as n from marts.fct_order_lines l
            join intermediate.int_web_orders_unioned u using (order_id)
            where u.shop_system = 'mercadolibre' group by 1, 2""")
        sources = {r["shop_order_id"]: (r["line_source"], r["n"]) for r in found}
        assert len(sources) == len(found), found  # one source of lines per order, none hidden by another
        assert {o: sources[o] for o in [*cart, *late]} == {o: ("mercadolibre", 1) for o in [*cart, *late]}
        assert sources[lone][0] == "odoo", sources
        # the ERP order is one order in the marts, not a fourth one of its own
        assert rows(fresh_db, "select count(*) as n from marts.fct_orders where odoo_sale_order_id = %s",
                    sale_order["id"])[0]["n"] == 3
        assert_order_to_cash_as_rebuilt(fresh_db)

        # The buyer cancels the first cart (as a whole, the simulated marketplace's way): one
        # cancellation for its one ERP order, not three. One order of the second cart is cancelled
        # alone: the sale order keeps standing, a person removes the line.
        business.archive("mercadolibre", "orders", cart[1])
        assert all(orders[o]["status"] == "cancelled" for o in cart)
        meli.update("orders", late[1], {"status": "cancelled"}, business.now())
        extract_source(fresh_db, "mercadolibre", configs["mercadolibre"], TODAY)
        run_dbt(BUILD, fresh_db, env=AS_OF)
        cancels = {r["row_key"]: r for r in rows(fresh_db, """
            select * from activations.act_web_order_cancellations where row_key like 'mercadolibre_%%'""")}
        assert set(cancels) == {f"mercadolibre_cart:{reference}", f"mercadolibre_order:{late[1]}"}
        assert cancels[f"mercadolibre_cart:{reference}"]["target_id"] == str(sale_order["id"])
        assert "other orders stand" in cancels[f"mercadolibre_order:{late[1]}"]["invalid_reason"]
        assert cancels[f"mercadolibre_cart:{reference}"]["invalid_reason"] is None  # not invoiced yet
        cancelled = run_named(fresh_db, "web_order_cancellations", odoo, TODAY)
        assert cancelled.failed == 0
        assert business.odoo["sale.order"][sale_order["id"]]["state"] == "cancel"
        assert business.odoo["sale.order"][late_sale_order["id"]]["state"] == "sale"
        assert_order_to_cash_as_rebuilt(fresh_db)
