"""What the business sells and what people put in their baskets.

The products themselves come from ``puente.simulators.catalogue``; here they are held with their
popularity (a few sell most), and the stock that moved during the day waits to be written at its
close. A basket is mostly a person's usual products and some popular ones; businesses buy in
bulk, more so in high season. Prices are in COP before VAT.
"""

from __future__ import annotations

import itertools
import random
from typing import TYPE_CHECKING

from puente.simulators.business.calendar import Calendar
from puente.simulators.catalogue import Product

if TYPE_CHECKING:
    from puente.simulators.business.population import Person

VAT_RATE = 0.19  # IVA, the general rate
# Delivery, when the customer pays for it: a flat rate before IVA, the ERP's service product ENVIO.
SHIPPING_SKU = "ENVIO"
SHIPPING_PRICE = 12_000


class Assortment:
    """The products by index, their popularity, and the stock moved since the day's close."""

    def __init__(self, rng: random.Random, calendar: Calendar):
        self._rng = rng
        self._calendar = calendar
        self.products: list[Product] = []
        self.stock_moved: set[int] = set()  # products whose stock changed since the last close
        self._by_odoo_id: dict[int, int] = {}
        self._by_sku: dict[str, int] = {}
        self._cum_all: list[float] = []
        self._cum_shop: list[float] = []

    def reindex(self) -> None:
        """After products were added: look-ups by ERP id and SKU, and the popularity weights."""
        self._by_odoo_id = {p.odoo_id: p.idx for p in self.products}
        self._by_sku = {p.sku: p.idx for p in self.products}
        weights = [p.popularity if p.in_shop else 0.0 for p in self.products]
        self._cum_all = list(itertools.accumulate(p.popularity for p in self.products))
        self._cum_shop = list(itertools.accumulate(weights))

    def by_odoo_id(self, odoo_id: int) -> Product | None:
        """The product behind an ERP product id; None for the ERP's services (shipping), which are
        not goods the business stocks or people put in baskets."""
        idx = self._by_odoo_id.get(odoo_id)
        return None if idx is None else self.products[idx]

    def by_sku(self, sku: str) -> Product:
        return self.products[self._by_sku[sku]]

    def popular(self, k: int, web: bool) -> list[int]:
        """``k`` product indices drawn by popularity (among those in the shop when ``web``)."""
        cum = self._cum_shop if web else self._cum_all
        return self._rng.choices(range(len(self.products)), cum_weights=cum, k=k)

    def basket(self, p: Person, day: int, web: bool) -> list[tuple[int, int]]:
        """What a person buys: mostly their usual products, some popular ones; B2B buys in bulk."""
        rng = self._rng
        size = min(6, 1 + self._calendar.poisson(2.0 if p.kind == "company" else 0.8))
        season = self._calendar.season(day)
        basket: dict[int, int] = {}
        for _ in range(size):
            usual = [i for i in p.favourites if self.products[i].in_shop or not web]
            idx = rng.choice(usual) if usual and rng.random() < 0.7 else self.popular(1, web)[0]
            if p.kind == "company":
                qty = max(1, round(rng.randint(2, 12) * season))
            else:
                qty = 1 if rng.random() < 0.8 else rng.randint(2, 3)
            basket[idx] = basket.get(idx, 0) + qty
        return sorted(basket.items())

    def total(self, lines: list[tuple[int, int]]) -> int:
        """The lines' amount before VAT."""
        return sum(self.products[i].price * q for i, q in lines)
