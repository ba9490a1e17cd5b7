"""marts.product_stock_discrepancies against a simulated business's stock, served by the simulators and
landed by the connectors: the shop's figure of each item it counts beside what the ERP has free (on hand
minus reserved), the figure act_stock_to_shop sets, so that a shop Puente has set shows no discrepancy."""

from __future__ import annotations

from test_woocommerce_order_to_cash import AS_OF, TODAY, land, rows

from puente.dbt import run_dbt
from puente.simulators import Business, Credentials, SimulatorServer, create_app


def _discrepancies(url: str, business: Business) -> dict[str, dict]:
    credentials = Credentials()
    with SimulatorServer(create_app(business, credentials)) as server:
        land(url, server.base_url, credentials)
    return _built(url)


def _built(url: str, buffer: int = 0) -> dict[str, dict]:
    run_dbt(["build", "--select", "+product_stock_discrepancies", "--exclude", "tag:gate",
             "--vars", f'{{"stock_safety_buffer": {buffer}}}', "--indirect-selection", "cautious"], url, env=AS_OF)
    return {row["sku"]: row for row in rows(url, "select * from marts.product_stock_discrepancies")}


def _business() -> tuple[Business, dict[str, dict]]:
    business = Business(seed=4, customers=200, start=TODAY, history_days=120)
    stock = {row["sku"]: row for row in business.integration_truth()["stock"]}
    counted = {sku for sku, row in stock.items() if row["shop_tracks_inventory"]}
    # the business reserves stock (confirmed orders not delivered) and sells items the shop does not count,
    # some of them showing another figure than the ERP's free stock
    assert any(stock[sku]["erp_reserved"] > 0 for sku in counted)
    assert any(row["shop_available"] != row["erp_free"] for sku, row in stock.items() if sku not in counted)
    return business, stock


def test_the_shop_is_measured_against_the_erps_free_stock(fresh_db):
    business, stock = _business()
    found = _discrepancies(fresh_db, business)
    # exactly the counted items whose shop figure is not the ERP's free stock, as the business's truth says
    assert set(found) == {sku for sku, row in stock.items()
                          if row["shop_tracks_inventory"] and row["shop_available"] != row["erp_free"]}
    for sku, row in found.items():
        truth = stock[sku]
        assert (row["stock_free"], row["shop_stock"], row["shop_target"]) == (
            truth["erp_free"], truth["shop_available"], max(0, truth["erp_free"]))
        assert row["stock_difference"] == truth["shop_available"] - max(0, truth["erp_free"])
        assert row["is_oversell_risk"] == (truth["shop_available"] > truth["erp_free"])


def test_a_shop_set_to_the_erps_free_stock_shows_no_discrepancy(fresh_db):
    business, stock = _business()
    reserved = sorted(sku for sku, row in stock.items() if row["shop_tracks_inventory"] and row["erp_reserved"] > 0)
    over = reserved[0]
    # every counted item set as act_stock_to_shop sets it (the ERP's free stock), but one with items
    # reserved set to its stock on hand: what the ERP holds, more than it can sell
    for sku, row in stock.items():
        if row["shop_tracks_inventory"]:
            level = row["erp_on_hand"] if sku == over else max(0, row["erp_free"])
            business.shopify_set_level(row["inventory_item_id"], int(level))
    found = _discrepancies(fresh_db, business)
    assert list(found) == [over]
    row, truth = found[over], stock[over]
    assert (row["stock_on_hand"], row["stock_reserved"], row["shop_target"]) == (
        truth["erp_on_hand"], truth["erp_reserved"], truth["erp_free"])
    assert row["stock_difference"] == truth["erp_reserved"] and row["is_oversell_risk"] is True
    # with a safety buffer of one unit the shop should show one less of each item with one free: the
    # items set to their free stock now show one more than their target, which is no oversell risk
    buffered = _built(fresh_db, buffer=1)
    set_to_free = {sku for sku, row in stock.items() if row["shop_tracks_inventory"] and sku != over
                   and row["erp_free"] >= 1}
    assert set(buffered) == set_to_free | {over}
    assert all(buffered[sku]["stock_difference"] == 1 and buffered[sku]["is_oversell_risk"] is False
               for sku in set_to_free)
    assert (buffered[over]["shop_target"], buffered[over]["is_oversell_risk"]) == (max(0, truth["erp_free"] - 1), True)
    assert buffered[over]["stock_difference"] == truth["erp_on_hand"] - max(0, truth["erp_free"] - 1)
