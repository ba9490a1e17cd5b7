"""What the simulated customers were told of their orders, for the tests that read what they cite."""

from __future__ import annotations

from puente.simulators import Business


def orders_as_seen(business: Business) -> dict[str, tuple[str, str, str]]:
    """Each order a customer was given a number for (the simulation's order id) -> (its person, the
    number as they saw it, the day it was placed): the shop's order name (a web order the ERP
    retyped keeps it), else the ERP's sale order. A won deal's customer was given none."""
    truth = business.records.truth
    orders: dict[str, tuple[str, str, str]] = {}
    for (system, obj, rid), (person, order_id) in truth.items():
        if order_id and (system, obj) in (("shopify", "orders"), ("odoo", "sale.order")):
            order = business.table(system, obj)[rid]
            placed = order["created_at"] if system == "shopify" else order["date_order"]
            if system == "shopify" or order_id not in orders:
                orders[order_id] = (person, order["name"], placed[:10])
    for (system, obj, _), (_, order_id) in truth.items():
        if (system, obj) == ("hubspot", "deals") and order_id:
            orders.pop(order_id, None)
    return orders
