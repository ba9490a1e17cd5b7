"""What the business's other web stores (WooCommerce, Tienda Nube) share: their own agenda and
clock on their own random stream, the catalogue's products they carry, and the business told
when one of their orders is sent off or cancelled.

A store writer subclasses ``StoreWriter`` and says how its platform records a product
(``_list``), when the day's listings start and how far apart they are; everything it draws comes
from its own ``rng``, so that a business running the store has the same records elsewhere as
one that does not.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from puente.simulators.business.assortment import Assortment
from puente.simulators.business.calendar import DAY_START, Calendar
from puente.simulators.business.integration import Integration
from puente.simulators.business.population import Person, Population
from puente.simulators.business.records import Records
from puente.simulators.catalogue import Product


class StoreWriter:
    """A web store's writer, one simulated day at a time (see the module's docstring)."""

    LISTED_SHARE = 0.8  # products of the catalogue the store carries
    FIRST_LISTING = 3600  # seconds after the start of the working day that the day's listings start
    LISTING_GAP = (20, 90)  # seconds between two listings, at least and at most
    ORDERS_PER_CUSTOMER_YEAR = 1.0  # the store's orders a year, per person of the business

    def __init__(self, rng: random.Random, records: Records, calendar: Calendar, assortment: Assortment,
                 population: Population, customers: int, integration: Integration | None = None,
                 on_status: Callable[[int, int, str, datetime], None] | None = None):
        self._rng = rng
        self._integration = integration or Integration()
        self._on_status = on_status  # on_status(day, order id, new status, when)
        self._records = records
        self._calendar = calendar
        self._assortment = assortment
        self._population = population
        self._daily_orders = customers * self.ORDERS_PER_CUSTOMER_YEAR / 365
        self._seen_products = 0  # catalogue products already considered for listing
        self.product_by_sku: dict[str, int] = {}
        self._agenda: dict[int, list[tuple[Callable[..., None], tuple[Any, ...]]]] = defaultdict(list)

    def _moment(self, day: int) -> datetime:
        return self._calendar.moment(day, self._rng)

    def _poisson(self, lam: float) -> int:
        return self._calendar.poisson(lam, self._rng)

    def _later(self, day: int, handler: Callable[..., None], *args: Any) -> None:
        self._agenda[day].append((handler, args))

    def _follow_ups(self, day: int) -> None:
        """What earlier days left for this one (payments, shipments, cancellations)."""
        for handler, args in self._agenda.pop(day, []):
            handler(day, *args)

    def _list_new_products(self, day: int) -> None:
        """The catalogue's new products the store carries, listed one after another."""
        products = self._assortment.products
        if self._seen_products == len(products):
            return
        at = self._calendar.midnight(day) + timedelta(seconds=DAY_START + self.FIRST_LISTING)
        for product in products[self._seen_products:]:
            if self._rng.random() < self.LISTED_SHARE:
                self._list(product, at)
                at += timedelta(seconds=self._rng.randint(*self.LISTING_GAP))
        self._seen_products = len(products)

    def _list(self, product: Product, at: datetime) -> None:
        raise NotImplementedError

    def _basket(self, p: Person, extra_lines: float, usual_share: float,
                quantity: Callable[[Person], int]) -> list[tuple[int, int]]:
        """What ``p`` buys in the store: one line and a Poisson number more (``extra_lines`` on
        average), each one of the person's usual products the store carries (``usual_share`` of
        the time) or any it carries, ``quantity(p)`` of it; ``[(product id, quantity)]``."""
        rng = self._rng
        products = self._assortment.products
        usual = [products[i].sku for i in p.favourites if products[i].sku in self.product_by_sku]
        listed = list(self.product_by_sku)
        if not listed:
            return []
        basket: dict[int, int] = {}
        for _ in range(1 + self._poisson(extra_lines)):
            sku = rng.choice(usual) if usual and rng.random() < usual_share else rng.choice(listed)
            pid = self.product_by_sku[sku]
            basket[pid] = basket.get(pid, 0) + quantity(p)
        return sorted(basket.items())

    def _status_changed(self, day: int, oid: int, status: str, at: datetime) -> None:
        if self._on_status is not None:
            self._on_status(day, oid, status, at)
