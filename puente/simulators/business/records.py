"""The records the systems hold, in their wire shapes, and the bookkeeping every write shares.

``Records`` is the store the writers (``odoo``, ``hubspot``, ``shopify``) fill and the API
simulators serve: per system, per object, the records by id (ids only ever grow, so each dict is
in id order), with the ground truth of who (and which order) stands behind each record, what a
day created and changed, deletions and schema drift. Every write bumps ``version``, so API
answers can be memoised between writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

T = TypeVar("T")
BOGOTA = timezone(timedelta(hours=-5))  # Colombia keeps UTC-5 all year (no DST)
ODOO_MODELS = ("res.partner", "product.product", "sale.order", "sale.order.line", "account.move",
               "stock.quant", "res.country", "l10n_latam.identification.type", "account.tax",
               "sale.advance.payment.inv", "l10n_co_dian.document")
HUBSPOT_OBJECTS = ("contacts", "companies", "deals", "line_items", "tasks", "tickets")
SHOPIFY_RESOURCES = ("customers", "orders", "products")
WOOCOMMERCE_RESOURCES = ("customers", "orders", "products")
TIENDANUBE_RESOURCES = ("customers", "orders", "products")
MERCADOPAGO_OBJECTS = ("payments",)
MERCADOLIBRE_OBJECTS = ("orders", "shipments", "items", "packs")
STRIPE_OBJECTS = ("charges", "payment_intents", "refunds", "balance_transactions", "disputes", "events")

Key = tuple[str, str, int]  # (system, object, id)


def odoo_ts(at: datetime) -> str:
    """Odoo's datetime on the wire: ``YYYY-MM-DD HH:MM:SS`` in UTC without zone."""
    return at.isoformat(" ", "seconds")[:19]


def hubspot_ts(at: datetime) -> str:
    """HubSpot's datetime: ISO 8601 in UTC with milliseconds and ``Z``."""
    return at.isoformat(timespec="milliseconds")[:23] + "Z"


def shopify_ts(at: datetime) -> str:
    """Shopify's datetime: ISO 8601 in the shop's zone (``2026-11-20T10:31:02-05:00``)."""
    return at.astimezone(BOGOTA).isoformat(timespec="seconds")


def money(amount: float) -> str:
    """Shopify money: a string with two decimals."""
    return f"{amount:.2f}"


class Records:
    """Every system's records by object and id, and who (and which order) each belongs to."""

    def __init__(self) -> None:
        self.odoo: dict[str, dict[int, dict]] = {m: {} for m in ODOO_MODELS}
        self.hubspot: dict[str, dict[int, dict]] = {o: {} for o in HUBSPOT_OBJECTS}
        # (object, id) -> {other object: [ids]}: HubSpot associations, kept in both directions.
        self.hubspot_associations: dict[tuple[str, int], dict[str, list[int]]] = defaultdict(
            lambda: defaultdict(list))
        self.hubspot_owners: list[dict] = []  # the portal's users who can own records (GET /crm/v3/owners)
        self.shopify: dict[str, dict[int, dict]] = {r: {} for r in SHOPIFY_RESOURCES}
        # Empty unless the business runs its WooCommerce store (``Business(woocommerce=True)``).
        self.woocommerce: dict[str, dict[int, dict]] = {r: {} for r in WOOCOMMERCE_RESOURCES}
        # Empty unless the business runs its Tienda Nube store (``Business(tiendanube=True)``).
        self.tiendanube: dict[str, dict[int, dict]] = {r: {} for r in TIENDANUBE_RESOURCES}
        # Empty unless the business is paid through Mercado Pago (``Business(mercadopago=True)``).
        self.mercadopago: dict[str, dict[int, dict]] = {o: {} for o in MERCADOPAGO_OBJECTS}
        # Empty unless the business sells on Mercado Libre (``Business(mercadolibre=True)``).
        self.mercadolibre: dict[str, dict[int, dict]] = {o: {} for o in MERCADOLIBRE_OBJECTS}
        # Empty unless the business is paid through Stripe (``Business(stripe=True)``); by Stripe's ids.
        self.stripe: dict[str, dict[str, dict]] = {o: {} for o in STRIPE_OBJECTS}
        self.ids: dict[str, list[int]] = defaultdict(list)  # "system/object" -> ids, for sampling
        # (system, object, id) -> (person id, real order id or None): the ground truth
        self.truth: dict[Key, tuple[str, str | None]] = {}
        self.created_today: set[Key] = set()
        self.touched_today: set[Key] = set()
        self.version = 0
        # Records deleted for good (Odoo unlink, Shopify delete): the APIs no longer serve them.
        self.deleted: set[Key] = set()
        # Schema drift: fields added to (or removed from) an object after go-live, per (system, object).
        self.extra_fields: dict[tuple[str, str], list[str]] = {}
        self.dropped_fields: dict[tuple[str, str], list[str]] = {}
        self._memo: dict[Hashable, Any] = {}
        self._memo_version = 0

    def table(self, system: str, obj: str) -> dict[int, dict]:
        return {"odoo": self.odoo, "hubspot": self.hubspot, "shopify": self.shopify,
                "woocommerce": self.woocommerce, "tiendanube": self.tiendanube,
                "mercadopago": self.mercadopago, "mercadolibre": self.mercadolibre,
                "stripe": self.stripe}[system][obj]  # Stripe ids are text

    def add(self, system: str, obj: str, rid: int, record: dict, person_id: str | None,
            order_id: str | None = None) -> dict:
        """Store a new record (and who it belongs to, when it belongs to a person)."""
        self.table(system, obj)[rid] = record
        self.ids[f"{system}/{obj}"].append(rid)
        if person_id is not None:
            self.truth[(system, obj, rid)] = (person_id, order_id)
        self.track(system, obj, rid, created=True)
        return record

    def track(self, system: str, obj: str, rid: int, created: bool = False) -> None:
        self.version += 1
        self.touched_today.add((system, obj, rid))
        if created:
            self.created_today.add((system, obj, rid))

    def owner(self, system: str, obj: str, rid: int) -> str:
        """The id of the real person behind a record."""
        return self.truth[(system, obj, rid)][0]

    def new_day(self) -> None:
        self.created_today.clear()
        self.touched_today.clear()

    def memoised(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, remembered until the next write: paging through one query scans once."""
        if self._memo_version != self.version:
            self._memo.clear()
            self._memo_version = self.version
        if key not in self._memo:
            if len(self._memo) >= 32:
                self._memo.pop(next(iter(self._memo)))
            self._memo[key] = compute()
        return self._memo[key]
