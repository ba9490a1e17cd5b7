"""Products and order lines over the scenario: one product across SKU and default_code, stock
from quants of internal locations, one line per ordered item whichever system holds it."""

from __future__ import annotations

from decimal import Decimal

import psycopg
from psycopg.rows import dict_row


def rows(url: str, sql: str, *params) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


def test_one_product_across_shop_sku_and_erp_code_with_erp_prices_and_quant_stock(built_db):
    (hammer,) = rows(built_db, "select * from marts.dim_products")
    assert (hammer["sku"], hammer["odoo_product_id"], hammer["shopify_variant_id"]) == ("HAM-16", 11, 9001)
    assert (hammer["list_price"], hammer["unit_cost"], hammer["currency_code"]) == (45000, 28000, "COP")
    # 40 in WH/Stock; the 5 in Partners/Customers are not stock, and qty_available (55) is stale
    assert (hammer["stock_on_hand"], hammer["shop_stock"], hammer["is_active"]) == (40, 38, True)


def test_stock_by_location_flags_internal_locations(built_db):
    stock = {r["location_name"]: r for r in rows(built_db, "select * from marts.fct_stock_by_location")}
    assert (stock["WH/Stock"]["is_internal"], stock["WH/Stock"]["available_quantity"]) == (True, 38)
    assert (stock["WH/Stock"]["warehouse_id"], stock["WH/Stock"]["warehouse_name"]) == (1, "Bogotá")
    assert stock["Partners/Customers"]["is_internal"] is False
    assert stock["Partners/Customers"]["warehouse_id"] is None


def test_an_item_the_shop_does_not_count_is_no_stock_discrepancy(built_db):
    # variant 9001 has no `inventory_management`: Shopify sells it without a figure, so its 38 is
    # nothing to compare (tests/dbt/test_stock_discrepancies.py compares the items a shop counts)
    assert rows(built_db, "select * from marts.product_stock_discrepancies") == []


def test_an_order_in_both_systems_has_its_erp_lines_only(built_db):
    lines = rows(built_db, """
        select o.order_name, l.* from marts.fct_order_lines l join marts.fct_orders o using (order_id)
        order by o.order_name""")
    by_order = {}
    for line in lines:
        by_order.setdefault(line["order_name"], []).append(line)
    (web,) = by_order["#1042"]  # shop line 50011 and ERP line 301 are one line: the ERP's
    assert (web["line_source"], web["odoo_sale_order_line_id"], web["quantity"]) == ("odoo", 301, 2)
    assert web["warehouse_id"] == 1  # the ERP sale order's warehouse
    assert (web["unit_price"], web["amount"], web["currency_code"]) == (Decimal("54579.83"), Decimal("109159.66"), "COP")
    (guest,) = by_order["#1044"]  # never reached the ERP: the shop line
    assert (guest["line_source"], guest["shopify_order_line_id"], guest["amount"]) == ("shopify", 50031, 129900)
    assert guest["warehouse_id"] is None
    assert by_order["#1043"][0]["is_cancelled"] is True
    assert len({line["product_id"] for line in lines}) == 1
