"""What a correct integration of the three systems would have done: the yardstick for Puente.

The business runs as it did before Puente: web orders reach the ERP only when a person retypes
them (a share of the Shopify shop's, days late, with the usual mistakes; none of the WooCommerce
store's, when the business runs one), won deals only when a salesperson
keys them in, and the shop's stock only when someone copies the ERP's figures over. Here the
business keeps, for every web order and every won deal, the ERP sale order it *should* have
(customer, lines, quantities, prices, state) and whether a person did key it in (when, as which
sale order, with which mistakes), and whether an order came in through the ERP's API
(``entered_by_api``: the first confirmed sale order carrying its number or deal); per product, the
stock the shop should show is read from the ERP as it stands. Tests and the demo measure what
Puente did against this.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from puente.simulators.business.odoo import order_key


@dataclass(frozen=True)
class Line:
    """One line of the order as it should be in the ERP: product (by SKU; ``ENVIO`` for the
    shipping the customer paid), quantity, unit price and discount (percent)."""

    sku: str
    quantity: int
    price_unit: float
    discount: float = 0.0


@dataclass
class Entry:
    """A sale order keyed into the ERP by hand (and the mistakes made), or sent through its API."""

    sale_order_id: int
    sale_order_name: str
    entered_on: str
    mistakes: list[str] = field(default_factory=list)


@dataclass
class WebOrder:
    """A shop order, and the ERP sale order it should have (``client_order_ref`` = ``name``).

    ``shop`` is the web shop it was placed in (``shopify`` or ``woocommerce``) and
    ``shop_order_id`` its id there. ``name``: a Shopify order's name (``#1042``); for a
    WooCommerce order ``WC-<number>``, the reference an integration gives it in the ERP, since the
    two shops' numbers collide.
    """

    shop: str
    shop_order_id: int
    name: str
    order_id: str  # the real order, as in truth()
    person_id: str
    ordered_on: str
    lines: list[Line]
    amount_untaxed: float
    amount_tax: float
    amount_total: float
    currency: str
    state: str = "sale"  # "cancel" once the shop order is cancelled
    fulfilled_on: str | None = None
    person_enters: bool = False  # a person will retype it (decided when it is placed)
    entered: Entry | None = None
    entered_by_api: Entry | None = None


@dataclass
class WonDeal:
    """A won CRM deal, and the confirmed ERP sale order (reserving its items) it should have."""

    hubspot_deal_id: int
    dealname: str
    order_id: str
    person_id: str
    won_on: str
    lines: list[Line]
    amount_untaxed: float
    person_enters: bool = False
    entered: Entry | None = None
    entered_by_api: Entry | None = None


class Integration:
    """The web orders (by shop and id) and won deals (by id) of the business, with what should have happened."""

    def __init__(self) -> None:
        self.web_orders: dict[tuple[str, int], WebOrder] = {}
        self.won_deals: dict[int, WonDeal] = {}
        self._by_reference: dict[str, tuple[str, int]] = {}

    def add_web_order(self, order: WebOrder) -> WebOrder:
        key = (order.shop, order.shop_order_id)
        self.web_orders[key] = order
        self._by_reference[order_key(order.name)] = key
        return order

    def web_order(self, shop: str, shop_order_id: int) -> WebOrder:
        return self.web_orders[(shop, shop_order_id)]

    def web_order_by_reference(self, reference: Any) -> WebOrder | None:
        """The web order whose ERP reference is ``reference`` (a sale order's ``client_order_ref``,
        compared as people look it up: trimmed, the ``#`` optional), if any."""
        key = self._by_reference.get(order_key(reference))
        return self.web_orders[key] if key else None

    def as_dict(self, customer: Callable[[str], dict[str, Any]], stock: list[dict[str, Any]],
                since: str = "") -> dict[str, Any]:
        """The web orders placed and deals won from ``since`` (an ISO date; all when empty) as
        JSON-ready dicts, each with ``customer(person_id)``, who its ERP customer should be, and
        ``stock``, what the shop should show per product, with a summary of it all."""
        web_orders = [o for o in self.web_orders.values() if o.ordered_on >= since]
        won_deals = [d for d in self.won_deals.values() if d.won_on >= since]
        live = [o for o in web_orders if o.state == "sale"]
        return {
            "summary": {
                "web_orders": len(web_orders),
                "web_orders_live": len(live),
                "web_orders_entered_by_a_person": sum(1 for o in live if o.entered),
                "web_orders_a_person_will_enter": sum(1 for o in live if o.person_enters and not o.entered),
                "web_orders_left_for_puente": sum(1 for o in live if not o.person_enters),
                "web_orders_entered_with_mistakes": sum(1 for o in live if o.entered and o.entered.mistakes),
                "web_orders_entered_through_the_api": sum(1 for o in live if o.entered_by_api),
                "won_deals": len(won_deals),
                "won_deals_entered_by_a_person": sum(1 for d in won_deals if d.entered),
                "won_deals_entered_through_the_api": sum(1 for d in won_deals if d.entered_by_api),
                "won_deals_left_for_puente": sum(1 for d in won_deals if not d.person_enters),
                "products_in_shop": len(stock),
                "products_where_shop_differs_from_erp": sum(1 for s in stock if s["shop_tracks_inventory"]
                                                            and s["shop_available"] != s["erp_free"]),
            },
            "web_orders": [{**asdict(o), "customer": customer(o.person_id)} for o in web_orders],
            "won_deals": [{**asdict(d), "customer": customer(d.person_id)} for d in won_deals],
            "stock": stock,
        }
