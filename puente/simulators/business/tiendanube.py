"""The Tienda Nube store's writer: what buyers and staff record in Tienda Nube, in API v1 wire shapes.

Some businesses sell through a Tienda Nube store (Nuvemshop in Brazil) beside or instead of
Shopify. When the simulated business runs one, it is "Casa Andina Outlet": the catalogue's
products that the outlet carries, at a marked-down retail price with IVA included (as stores in
Colombia show their prices), bought by the same people now and then. Tienda Nube keeps a
customer for every buyer, registered or not, found again by the e-mail typed at checkout: a
buyer who types another address becomes another customer. The checkout asks for the buyer's
document (``identification``, the cédula or NIT, written the ways people write it); names, phones and addresses are typed as people type them (``messiness``).

An order is paid through Mercado Pago (``payment_status`` paid at once) or offline, by bank
transfer or cash on delivery (pending until the staff mark it paid); it is packed and shipped
(``shipping_status`` shipped) a few workdays later and closed; a few are cancelled, whose payment
is voided, or refunded when it was taken, and the stock goes back.

Before Puente nobody copies these orders into the ERP, nor the ERP's stock into this store. What a
correct integration would have done with each order is kept in the business's ``integration``
(the ERP sale order it should have, referenced ``TN-<number>``: the store's numbers start at 100
and would collide with the other shops'); once an integration did enter one, the store's later
shipment or cancellation is passed to the business (``on_status``), whose warehouse and ERP act
on it as they do for the other shops' orders.

Everything here draws from the store's own random stream (``random.Random(f"{seed}:tiendanube")``)
and keeps its own agenda, moments and numbers, so that a business that runs Tienda Nube has
exactly the same ERP, CRM and other shops' records as one that does not. Tienda Nube writes
every date in ISO 8601 with the store's offset (``2026-11-20T10:31:02-05:00``), money as text
with two decimals, ids as integers, and a product's name, handle and description per language
of the store (``{"es": …}``: this store runs in Spanish only).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from puente.simulators import colombia as co
from puente.simulators.business import messiness as messy
from puente.simulators.business.assortment import SHIPPING_SKU, VAT_RATE, Assortment
from puente.simulators.business.calendar import Calendar
from puente.simulators.business.integration import Integration, Line, WebOrder
from puente.simulators.business.population import Person, Population
from puente.simulators.business.records import Records, money, shopify_ts
from puente.simulators.business.store import StoreWriter
from puente.simulators.catalogue import Product, handle

STORE_NAME = "Casa Andina Outlet"
STORE_URL = "https://outlet.casaandina.co"
STORE_ID = 3100427
OUTLET = 0.9  # the outlet's price: 10 % under the list price, IVA included
OFFLINE_SHARE = 0.35  # bank transfer or cash on delivery: pending until the staff mark it paid
CANCEL_SHARE = 0.05
SHIPPING_COST = 12000.0  # what the buyer pays for delivery, IVA included
GATEWAYS = {"mercadopago": "Mercado Pago", "offline": "Transferencia bancaria o contra entrega"}
_DOOR = re.compile(r"\s*(?:#|\bNo\.?|\bNro\.?|N°)\s*", re.IGNORECASE)
ERP_REFERENCE = "TN-{number}"  # the ERP's client_order_ref of a store order (integration.WebOrder.name)


def nube_ts(at: datetime) -> str:
    """Tienda Nube's date: ISO 8601 in the store's zone, with its offset."""
    return shopify_ts(at)


def split_street(typed: str | None) -> tuple[str, str]:
    """A Colombian address as Tienda Nube's checkout takes it: the street, and the door's number
    (what follows ``#`` or ``No.``), which the form asks for apart."""
    if not typed:
        return "", ""
    parts = _DOOR.split(typed, maxsplit=1)
    return (parts[0].strip(), parts[1].strip()) if len(parts) == 2 else (typed, "")


class TiendaNubeWriter(StoreWriter):
    """Creates and changes Tienda Nube records in ``records.tiendanube``, one simulated day at a time."""

    ORDERS_PER_CUSTOMER_YEAR = 0.8  # the store's orders a year, per person of the business
    FIRST_LISTING = 5400
    LISTING_GAP = (30, 120)

    def __init__(self, rng: random.Random, records: Records, calendar: Calendar, assortment: Assortment,
                 population: Population, customers: int, integration: Integration | None = None,
                 on_status: Callable[[int, int, str, datetime], None] | None = None):
        super().__init__(rng, records, calendar, assortment, population, customers, integration, on_status)
        self.tiendanube = records.tiendanube
        self._ids = {"customers": 48_100_000, "orders": 1_310_000_000, "products": 172_000_000,
                     "variants": 690_000_000, "addresses": 21_000_000, "lines": 1_700_000_000}
        self.account: dict[tuple[str, str], int] = {}  # (person id, e-mail typed) -> customer id
        self._number = 99  # order numbers start at 100

    # ------------------------------------------------------------------ the day

    def day(self, day: int) -> None:
        """The store's day, after the rest of the business's: products listed, follow-ups, orders."""
        self._list_new_products(day)
        self._follow_ups(day)
        people = [p for p in self._population.people if p.acquired_day <= day and p.alive]
        if people:
            for _ in range(self._poisson(self._daily_orders * self._calendar.season(day))):
                self._order(self._rng.choice(people), day)

    def _new_id(self, kind: str) -> int:
        self._ids[kind] += self._rng.randint(1, 40)  # the platform's ids are shared by every store
        return self._ids[kind]

    # ------------------------------------------------------------------ records

    def create(self, resource: str, record: dict, at: datetime, person: Person | None = None,
               order_id: str | None = None) -> dict:
        record.update({"created_at": nube_ts(at), "updated_at": nube_ts(at)})
        return self._records.add("tiendanube", resource, record["id"], record, person.id if person else None,
                                 order_id)

    def update(self, resource: str, rid: int, values: dict, at: datetime) -> dict:
        """Change a record; its ``updated_at`` only ever grows (by a second when ``at`` is not later)."""
        record = self.tiendanube[resource][rid]
        last = datetime.fromisoformat(record["updated_at"])
        if at <= last:
            at = last + timedelta(seconds=1)
        record.update(values)
        record["updated_at"] = nube_ts(at)
        self._records.track("tiendanube", resource, rid)
        return record

    # ------------------------------------------------------------------ products

    def _list(self, product: Product, at: datetime) -> None:
        pid, vid = self._new_id("products"), self._new_id("variants")
        slug = handle(product.name)
        stamp = nube_ts(at)
        self.create("products", {
            "id": pid, "name": {"es": product.name}, "description": {"es": f"<p>{product.name}.</p>"},
            "handle": {"es": slug}, "attributes": [], "published": True, "free_shipping": False,
            "requires_shipping": True, "canonical_url": f"{STORE_URL}/productos/{slug}/", "video_url": None,
            "seo_title": product.name, "seo_description": "", "brand": None, "tags": product.category,
            "images": [], "categories": [],
            "variants": [{"id": vid, "image_id": None, "product_id": pid, "position": 1,
                          "price": money(self.outlet_price(product)), "compare_at_price": None,
                          "promotional_price": None, "stock_management": True, "stock": int(product.on_hand),
                          "weight": f"{product.weight_g / 1000:.3f}", "width": "0.00", "height": "0.00",
                          "depth": "0.00", "sku": product.sku, "values": [], "barcode": None, "mpn": None,
                          "age_group": None, "gender": None, "created_at": stamp, "updated_at": stamp}],
        }, at)
        self.product_by_sku[product.sku] = pid

    def outlet_price(self, product: Product) -> float:
        """The shelf price: IVA included, marked down, rounded to the hundred."""
        return round(product.price * (1 + VAT_RATE) * OUTLET, -2)

    def _stock(self, pid: int, change: int, at: datetime) -> None:
        variant = self.tiendanube["products"][pid]["variants"][0]
        if variant["stock_management"]:
            self.set_stock(pid, variant["id"], variant["stock"] + change, at)

    def set_stock(self, pid: int, vid: int, stock: int | None, at: datetime) -> dict:
        """A variant's stock set (the admin, or the API's ``PUT /products/{id}/variants/{id}``): a
        number tracks it, null makes it unlimited (``stock_management`` false); the variant and its
        product count as updated. Returns the variant."""
        variants = [dict(v) for v in self.tiendanube["products"][pid]["variants"]]
        variant = next(v for v in variants if v["id"] == vid)
        product = self.update("products", pid, {"variants": variants}, at)
        variant.update(stock=stock, stock_management=stock is not None, updated_at=product["updated_at"])
        return variant

    # ------------------------------------------------------------------ customers

    def _typed_email(self, p: Person) -> str:
        if p.email is None:  # someone without email makes one up for the checkout
            return f"{co.strip_accents(p.first.split()[0]).lower()}{self._rng.randrange(10, 99)}@hotmail.com"
        return co.email_case_variant(self._rng, p.email) if self._rng.random() < 0.15 else p.email

    def _buyer(self, p: Person, at: datetime) -> dict:
        """The customer the checkout finds or makes for ``p``: by the e-mail typed."""
        email = self._typed_email(p)
        cid = self.account.get((p.id, email.lower()))
        if cid is not None and ("tiendanube", "customers", cid) not in self._records.deleted:
            return self.tiendanube["customers"][cid]
        rng = self._rng
        first, last = messy.shop_names(rng, p)
        phone = messy.phone(rng, p.mobile)
        street, number = split_street(messy.address(p, f"tiendanube:{email}"))
        city = messy.typed(rng, p.city)
        cid, aid = self._new_id("customers"), self._new_id("addresses")
        address = {"id": aid, "address": street, "number": number, "floor": None, "locality": None,
                   "city": city, "province": p.department, "country": p.country, "zipcode": "", "phone": phone,
                   "name": f"{first} {last}", "default": True, "created_at": nube_ts(at), "updated_at": nube_ts(at)}
        record = self.create("customers", {
            "id": cid, "name": f"{first} {last}", "email": email, "phone": phone,
            "identification": messy.tax_id(rng, p, "tiendanube"), "note": None, "default_address": address, "addresses": [address],
            "billing_name": first, "billing_phone": phone, "billing_address": street, "billing_number": number,
            "billing_floor": None, "billing_locality": None, "billing_zipcode": "", "billing_city": city,
            "billing_province": p.department, "billing_country": p.country, "extra": {}, "total_spent": "0.00",
            "total_spent_currency": "COP", "last_order_id": None, "active": False, "accepts_marketing": False,
        }, at, p)
        self.account[(p.id, email.lower())] = cid
        return record

    # ------------------------------------------------------------------ orders

    def _order(self, p: Person, day: int) -> None:
        rng = self._rng
        lines = self._basket(p, 0.6, 0.5, lambda _: rng.randint(1, 3))  # a retail buyer's few items
        if not lines:
            return
        at = self._moment(day)
        buyer = self._buyer(p, at)
        self._number += 1
        oid, number = self._new_id("orders"), self._number
        order_id = f"N{number:07d}"
        items, subtotal = [], 0.0
        for pid, qty in lines:
            product = self.tiendanube["products"][pid]
            variant = product["variants"][0]
            price = float(variant["price"])
            subtotal += price * qty
            items.append({"id": self._new_id("lines"), "depth": "0.00", "height": "0.00", "width": "0.00",
                          "name": product["name"]["es"], "price": variant["price"], "compare_at_price": None,
                          "product_id": pid, "image": None, "quantity": qty, "free_shipping": False,
                          "weight": variant["weight"], "variant_id": variant["id"], "variant_values": [],
                          "properties": [], "sku": variant["sku"], "barcode": None})
        offline = rng.random() < OFFLINE_SHARE
        gateway = "offline" if offline else "mercadopago"
        total = subtotal + SHIPPING_COST
        stamp = nube_ts(at)
        self.create("orders", {
            "id": oid, "token": f"{rng.getrandbits(160):040x}", "store_id": STORE_ID, "number": number,
            "contact_email": buyer["email"], "contact_name": buyer["name"], "contact_phone": buyer["phone"],
            "contact_identification": buyer["identification"],
            "shipping_min_days": 2, "shipping_max_days": 5,
            "billing_name": buyer["name"], "billing_phone": buyer["billing_phone"],
            "billing_address": buyer["billing_address"], "billing_number": buyer["billing_number"],
            "billing_floor": None, "billing_locality": None, "billing_zipcode": "",
            "billing_city": buyer["billing_city"], "billing_province": buyer["billing_province"],
            "billing_country": buyer["billing_country"], "shipping_cost_owner": money(SHIPPING_COST),
            "shipping_cost_customer": money(SHIPPING_COST), "coupon": [], "promotional_discount": None,
            "subtotal": money(subtotal), "discount": "0.00", "discount_coupon": "0.00", "discount_gateway": "0.00",
            "total": money(total), "total_usd": money(total / 4000), "checkout_enabled": True, "weight": "0.000",
            "currency": "COP", "language": "es", "gateway": gateway, "gateway_id": None,
            "gateway_name": GATEWAYS[gateway], "shipping": "table", "shipping_option": "Envío a domicilio",
            "shipping_option_code": "table_default", "shipping_option_reference": None,
            "shipping_pickup_details": None, "shipping_tracking_number": None, "shipping_tracking_url": None,
            "shipping_store_branch_name": None, "shipping_pickup_type": "ship",
            "shipping_address": dict(buyer["default_address"]), "extra": {}, "storefront": "store",
            "note": "", "owner_note": None, "customer": {k: buyer[k] for k in (
                "id", "name", "email", "identification", "phone", "note", "default_address", "billing_address",
                "billing_number", "billing_city", "billing_province", "billing_country", "total_spent",
                "total_spent_currency", "last_order_id", "active", "created_at", "updated_at")},
            "products": items, "status": "open", "payment_status": "pending" if offline else "paid",
            "shipping_status": "unpacked", "next_action": "waiting_manual_confirmation" if offline
            else "waiting_packing", "paid_at": None if offline else stamp, "shipped_at": None, "closed_at": None,
            "cancelled_at": None, "cancel_reason": None,
        }, at, p, order_id)
        untaxed = round(total / (1 + VAT_RATE), 2)
        self._integration.add_web_order(WebOrder(
            shop="tiendanube", shop_order_id=oid, name=ERP_REFERENCE.format(number=number), order_id=order_id,
            person_id=p.id, ordered_on=self._calendar.date(day).isoformat(),
            lines=[*(Line(i["sku"], i["quantity"], round(float(i["price"]) / (1 + VAT_RATE), 2)) for i in items),
                   Line(SHIPPING_SKU, 1, round(SHIPPING_COST / (1 + VAT_RATE), 2))],
            amount_untaxed=untaxed, amount_tax=round(total - untaxed, 2), amount_total=total, currency="COP"))
        for pid, qty in lines:
            self._stock(pid, -qty, at)
        spent = float(buyer["total_spent"]) + total
        self.update("customers", buyer["id"], {"total_spent": money(spent), "last_order_id": oid}, at)
        if rng.random() < CANCEL_SHARE:
            self._later(day + rng.randint(1, 3), self._cancel, oid)
        elif offline:
            self._later(self._calendar.workday(day, rng.randint(1, 3)), self._paid, oid)
        else:
            self._later(self._calendar.workday(day, rng.randint(1, 3)), self._ship, oid)

    def _paid(self, day: int, oid: int) -> None:
        """The transfer arrives (or the courier brings the cash back): the staff mark the order paid."""
        if self.tiendanube["orders"][oid]["status"] != "open":
            return
        at = self._moment(day)
        self.update("orders", oid, {"payment_status": "paid", "paid_at": nube_ts(at), "next_action": "waiting_packing"},
                    at)
        self._later(self._calendar.workday(day, self._rng.randint(1, 2)), self._ship, oid)

    def _ship(self, day: int, oid: int) -> None:
        """Packed and handed to the courier; the staff close the order the same day."""
        if self.tiendanube["orders"][oid]["status"] != "open":
            return
        at = self._moment(day)
        self.update("orders", oid, {"shipping_status": "shipped", "shipped_at": nube_ts(at), "status": "closed",
                                    "closed_at": nube_ts(at), "next_action": "noop"}, at)
        self._integration.web_order("tiendanube", oid).fulfilled_on = self._calendar.date(day).isoformat()
        self._status_changed(day, oid, "shipped", at)

    def _cancel(self, day: int, oid: int) -> None:
        self.cancel_order(day, oid, self._moment(day))

    def cancel_order(self, day: int, oid: int, at: datetime) -> dict:
        """Cancelled by the buyer: a payment taken is refunded, one pending voided; the stock goes back."""
        order = self.tiendanube["orders"][oid]
        if order["status"] != "open":
            return order
        self.update("orders", oid, {"status": "cancelled", "cancelled_at": nube_ts(at), "cancel_reason": "customer",
                                    "payment_status": "refunded" if order["payment_status"] == "paid" else "voided",
                                    "next_action": "noop"}, at)
        self._integration.web_order("tiendanube", oid).state = "cancel"
        self._status_changed(day, oid, "cancelled", at)
        for line in order["products"]:
            self._stock(line["product_id"], line["quantity"], at)
        return order
