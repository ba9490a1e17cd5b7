"""The second web store's writer: what buyers and staff record in WooCommerce, in REST API v3 wire shapes.

Besides its Shopify shop, the business runs a WooCommerce store for wholesale buyers, "Casa
Andina Mayorista": the same products under the ERP's SKUs (most of the catalogue), at a
wholesale price, bought by some of the same people, companies more often than not. Buyers
type themselves in at checkout as people do (``messiness``): some register an account
(a WordPress user with the ``customer`` role), the others check out as guests, whose orders
carry ``customer_id`` 0 and the buyer only in ``billing``. Orders are paid by card or PSE
(``processing`` at once) or by bank transfer (``on-hold`` until the money arrives), then
completed when shipped; a few are cancelled, and staff move some cancelled orders to the trash.

Before Puente nobody copies these orders into the ERP, nor the ERP's stock into this store: its
stock follows its own orders only. What a correct integration would have done with each order is
kept in the business's ``integration`` (the ERP sale order it should have, referenced
``WC-<number>``: the store's numbers would collide with the Shopify shop's); once an integration
did enter one, the store's later completion or cancellation is passed to the business
(``on_status``), whose warehouse and ERP act on it as they do for the Shopify shop's.

Everything here draws from the store's own random stream (``random.Random(f"{seed}:woocommerce")``)
and keeps its own agenda, its own moments and its own order numbers, so that a business that
runs WooCommerce has exactly the same ERP, CRM and Shopify records as one that does not; and
WordPress stamps every record with its site's local time (``date_modified``, Bogotá, without
offset) and UTC (``date_modified_gmt``, the connector's cursor).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from puente.simulators import colombia as co
from puente.simulators.business import messiness as messy
from puente.simulators.business.assortment import VAT_RATE, Assortment
from puente.simulators.business.calendar import Calendar
from puente.simulators.business.integration import Integration, Line, WebOrder
from puente.simulators.business.population import Person, Population
from puente.simulators.business.records import BOGOTA, Records
from puente.simulators.business.store import StoreWriter
from puente.simulators.catalogue import Product, handle

STORE_NAME = "Casa Andina Mayorista"
SITE = "https://mayorista.casaandina.co"
WHOLESALE = 0.85  # the wholesale price: 15 % under the list price
COMPANY_WEIGHT = 4.0  # a company is this much likelier than a person to be the buyer
REGISTER_SHARE = 0.45  # buyers without an account who make one at checkout (the rest: guests)
BANK_TRANSFER_SHARE = 0.35
CANCEL_SHARE = 0.04
TRASH_SHARE = 0.5  # cancelled orders the staff move to the trash some days later
PAYMENT = {"bacs": "Transferencia bancaria", "payu": "PayU (tarjeta o PSE)",
           "stripe": "Tarjeta de crédito o débito (Stripe)"}
CANCELLED = ("cancelled", "refunded", "failed")  # statuses of an order that no longer stands
ERP_REFERENCE = "WC-{number}"  # the ERP's client_order_ref of a store order (integration.WebOrder.name)


def wp_local(at: datetime) -> str:
    """A WordPress date in the site's zone, without offset (``date_modified``)."""
    return at.astimezone(BOGOTA).replace(tzinfo=None).isoformat(timespec="seconds")


def wp_gmt(at: datetime) -> str:
    """A WordPress ``*_gmt`` date: UTC, without offset."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def cop(amount: float) -> str:
    """WooCommerce money for a store set to Colombian pesos with no decimals."""
    return f"{amount:.0f}"


class WooCommerceWriter(StoreWriter):
    """Creates and changes WooCommerce records in ``records.woocommerce``, one simulated day at a time."""

    ORDERS_PER_CUSTOMER_YEAR = 1.2  # the store's orders a year, per person of the business

    def __init__(self, rng: random.Random, records: Records, calendar: Calendar, assortment: Assortment,
                 population: Population, customers: int, integration: Integration | None = None,
                 on_status: Callable[[int, int, str, datetime], None] | None = None):
        super().__init__(rng, records, calendar, assortment, population, customers, integration, on_status)
        self.woocommerce = records.woocommerce
        self._ids = {"customers": 1, "orders": 1000, "products": 100, "line_items": 1,  # order items share one sequence
                     "categories": 15}
        self._categories: dict[str, dict] = {}
        self.account: dict[str, int] = {}  # person id -> their customer id
        self._order_seq = 0
        self.online_method = "payu"  # the card checkout (Stripe's once the business takes it)

    # ------------------------------------------------------------------ the day

    def day(self, day: int) -> None:
        """The store's day, after the rest of the business's: products listed, follow-ups, orders, edits."""
        self._list_new_products(day)
        self._follow_ups(day)
        people = [p for p in self._population.people if p.acquired_day <= day and p.alive]
        if people:
            season = self._calendar.season(day)
            weights = [COMPANY_WEIGHT if p.kind == "company" else 1.0 for p in people]
            for _ in range(self._poisson(self._daily_orders * season)):
                self._order(self._rng.choices(people, weights)[0], day)
        self._edits(day)

    def _new_id(self, kind: str) -> int:
        self._ids[kind] += 1 if kind != "orders" else self._rng.randint(1, 4)  # order ids share wp_posts
        return self._ids[kind]

    # ------------------------------------------------------------------ records

    def create(self, resource: str, record: dict, at: datetime, person: Person | None = None,
               order_id: str | None = None) -> dict:
        record.update({"date_created": wp_local(at), "date_created_gmt": wp_gmt(at),
                       "date_modified": wp_local(at), "date_modified_gmt": wp_gmt(at)})
        return self._records.add("woocommerce", resource, record["id"], record, person.id if person else None,
                                 order_id)

    def update(self, resource: str, rid: int, values: dict, at: datetime) -> dict:
        """Change a record; its ``date_modified_gmt`` only ever grows (by a second when ``at`` is not later)."""
        record = self.woocommerce[resource][rid]
        if wp_gmt(at) <= record["date_modified_gmt"]:  # same format: the strings sort as the times do
            at = datetime.fromisoformat(record["date_modified_gmt"]).replace(tzinfo=UTC) + timedelta(seconds=1)
        record.update(values)
        record.update({"date_modified": wp_local(at), "date_modified_gmt": wp_gmt(at)})
        self._records.track("woocommerce", resource, rid)
        return record

    # ------------------------------------------------------------------ products

    def _list(self, product: Product, at: datetime) -> None:
        pid = self._new_id("products")
        category = self._categories.get(product.category)
        if category is None:
            category = self._categories[product.category] = {
                "id": self._new_id("categories"), "name": product.category, "slug": handle(product.category)}
        price = cop(self.wholesale(product))
        slug = handle(product.name)
        self.create("products", {
            "id": pid, "name": product.name, "slug": slug, "permalink": f"{SITE}/producto/{slug}/",
            "type": "simple", "status": "publish", "featured": False, "catalog_visibility": "visible",
            "description": f"<p>{product.name}. Precio mayorista, pedido mínimo por caja.</p>",
            "short_description": "", "sku": product.sku, "price": price, "regular_price": price, "sale_price": "",
            "date_on_sale_from": None, "date_on_sale_to": None, "on_sale": False, "purchasable": True,
            "total_sales": 0, "virtual": False, "downloadable": False, "tax_status": "taxable", "tax_class": "",
            "manage_stock": True, "stock_quantity": int(product.on_hand), "stock_status": "instock",
            "backorders": "no", "weight": f"{product.weight_g / 1000:g}", "shipping_class": "",
            "categories": [dict(category)], "tags": [], "images": [], "attributes": [], "variations": [],
            "menu_order": 0, "meta_data": [],
        }, at)
        self.product_by_sku[product.sku] = pid

    def wholesale(self, product: Product) -> float:
        return round(product.price * WHOLESALE, -2)

    def _stock(self, pid: int, change: int, at: datetime) -> None:
        record = self.woocommerce["products"][pid]
        quantity = record["stock_quantity"] + change
        self.update("products", pid, {"stock_quantity": quantity, "stock_status": "instock" if quantity > 0
                                      else "outofstock", "total_sales": record["total_sales"] - min(change, 0)},
                    at)

    # ------------------------------------------------------------------ customers

    def _address(self, p: Person, first: str, last: str, phone: str | None, email: str | None) -> dict:
        rng = self._rng
        address = {"first_name": first, "last_name": last, "company": p.company or "",
                   "address_1": messy.address(p, f"woocommerce:{first}:{last}:{email}"), "address_2": "", "city": messy.typed(rng, p.city),
                   "state": p.department, "postcode": "", "country": p.country, "phone": phone or ""}
        if email is not None:
            address["email"] = email
        return address

    def _typed_email(self, p: Person) -> str:
        """The email as the buyer types it at checkout (required by WooCommerce's checkout)."""
        if p.email is None:  # someone without email makes one up for the store
            return f"{co.strip_accents(p.first.split()[0]).lower()}{self._rng.randrange(10, 99)}@gmail.com"
        return co.email_case_variant(self._rng, p.email) if self._rng.random() < 0.15 else p.email

    def _customer(self, p: Person, at: datetime) -> dict:
        rng = self._rng
        cid = self._new_id("customers")
        first, last = messy.shop_names(rng, p)
        email = self._typed_email(p)
        phone = messy.phone(rng, p.mobile)
        billing = self._address(p, first, last, phone, email)
        record = self.create("customers", {
            "id": cid, "email": email, "first_name": first, "last_name": last, "role": "customer",
            "username": email.split("@")[0].lower(), "billing": billing,
            "shipping": {k: v for k, v in billing.items() if k != "email"}, "is_paying_customer": False,
            "avatar_url": "https://secure.gravatar.com/avatar/?s=96&d=mm&r=g", "meta_data": [],
        }, at, p)
        self.account[p.id] = cid
        return record

    # ------------------------------------------------------------------ orders

    def _order(self, p: Person, day: int) -> None:
        rng = self._rng
        at = self._moment(day)
        cid = self.account.get(p.id)
        if cid is not None and ("woocommerce", "customers", cid) in self._records.deleted:
            del self.account[p.id]  # the account was deleted: a guest now, or a new account
            cid = None
        if cid is None and rng.random() < REGISTER_SHARE:
            cid = self._customer(p, at)["id"]
        if cid is not None:
            billing = dict(self.woocommerce["customers"][cid]["billing"])
        else:
            cid = 0  # a guest: the buyer is only in the billing address, typed anew each time
            first, last = messy.shop_names(rng, p)
            billing = self._address(p, first, last, messy.phone(rng, p.mobile), self._typed_email(p))
        lines = self._basket(p, 1.5, 0.6, self._wholesale_quantity)
        if not lines:
            return
        self._order_seq += 1
        order_id = f"W{self._order_seq:07d}"
        oid = self._new_id("orders")
        items, subtotal, tax = [], 0.0, 0.0
        for pid, qty in lines:
            product = self.woocommerce["products"][pid]
            total = float(product["price"]) * qty
            line_tax = round(total * VAT_RATE)
            subtotal, tax = subtotal + total, tax + line_tax
            items.append({"id": self._new_id("line_items"), "name": product["name"], "product_id": pid,
                          "variation_id": 0, "quantity": qty, "tax_class": "", "subtotal": cop(total),
                          "subtotal_tax": cop(line_tax), "total": cop(total), "total_tax": cop(line_tax),
                          "taxes": [{"id": 1, "total": cop(line_tax), "subtotal": cop(line_tax)}],
                          "meta_data": [], "sku": product["sku"], "price": float(product["price"])})
        transfer = rng.random() < BANK_TRANSFER_SHARE
        method = "bacs" if transfer else self.online_method
        stamp_local, stamp_gmt = wp_local(at), wp_gmt(at)
        self.create("orders", {
            "id": oid, "parent_id": 0, "number": str(oid), "order_key": f"wc_order_{rng.getrandbits(48):012x}",
            "created_via": "checkout", "version": "9.4.2", "status": "on-hold" if transfer else "processing",
            "currency": "COP", "prices_include_tax": False, "discount_total": "0", "discount_tax": "0",
            "shipping_total": "0", "shipping_tax": "0", "cart_tax": cop(tax), "total": cop(subtotal + tax),
            "total_tax": cop(tax), "customer_id": cid, "customer_ip_address": "", "customer_user_agent": "",
            "customer_note": "", "billing": billing,
            "shipping": {k: v for k, v in billing.items() if k != "email"},
            "payment_method": method, "payment_method_title": PAYMENT[method],
            "transaction_id": "" if transfer else f"{rng.getrandbits(40):010x}",
            "date_paid": None if transfer else stamp_local, "date_paid_gmt": None if transfer else stamp_gmt,
            "date_completed": None, "date_completed_gmt": None, "cart_hash": "", "meta_data": [],
            "line_items": items,
            "tax_lines": [{"id": self._new_id("line_items"), "rate_code": "CO-IVA-1", "rate_id": 1, "label": "IVA",
                           "compound": False, "tax_total": cop(tax), "shipping_tax_total": "0",
                           "rate_percent": VAT_RATE * 100, "meta_data": []}],
            "shipping_lines": [], "fee_lines": [], "coupon_lines": [], "refunds": [],
        }, at, p, order_id)
        self._integration.add_web_order(WebOrder(
            shop="woocommerce", shop_order_id=oid, name=ERP_REFERENCE.format(number=oid), order_id=order_id,
            person_id=p.id, ordered_on=self._calendar.date(day).isoformat(),
            lines=[Line(li["sku"], li["quantity"], li["price"]) for li in items],
            amount_untaxed=subtotal, amount_tax=tax, amount_total=subtotal + tax, currency="COP"))
        for pid, qty in lines:
            self._stock(pid, -qty, at)
        if cid:
            self.update("customers", cid, {"is_paying_customer": True}, at)
        if rng.random() < CANCEL_SHARE:
            self._later(day + rng.randint(1, 3), self._cancel, oid)
        elif transfer:
            self._later(self._calendar.workday(day, rng.randint(1, 3)), self._paid, oid)
        else:
            self._later(self._calendar.workday(day, rng.randint(1, 4)), self._complete, oid)

    def _wholesale_quantity(self, p: Person) -> int:
        """Boxes for a company (6, 12 or 24), a few units for a person."""
        return self._rng.choice((6, 12, 24)) if p.kind == "company" else self._rng.randint(2, 6)

    def _paid(self, day: int, oid: int) -> None:
        """The bank transfer arrives: the staff mark the order paid (processing)."""
        order = self.woocommerce["orders"][oid]
        if order["status"] != "on-hold":
            return
        at = self._moment(day)
        self.update("orders", oid, {"status": "processing", "date_paid": wp_local(at), "date_paid_gmt": wp_gmt(at)},
                    at)
        self._later(self._calendar.workday(day, self._rng.randint(1, 3)), self._complete, oid)

    def _complete(self, day: int, oid: int) -> None:
        at = self._moment(day)
        self.update("orders", oid, {"status": "completed", "date_completed": wp_local(at),
                                    "date_completed_gmt": wp_gmt(at)}, at)
        self._integration.web_order("woocommerce", oid).fulfilled_on = self._calendar.date(day).isoformat()
        self._status_changed(day, oid, "completed", at)

    def _cancel(self, day: int, oid: int) -> None:
        """Cancelled: WooCommerce puts the stock back; now and then the staff trash the order later."""
        order = self.woocommerce["orders"][oid]
        at = self._moment(day)
        self.update("orders", oid, {"status": "cancelled"}, at)
        self._integration.web_order("woocommerce", oid).state = "cancel"
        self._status_changed(day, oid, "cancelled", at)
        for line in order["line_items"]:
            self._stock(line["product_id"], line["quantity"], at)
        if self._rng.random() < TRASH_SHARE:
            self._later(day + self._rng.randint(2, 20), self.trash_order, oid)

    def trash_order(self, day: int, oid: int) -> None:
        self.trash("orders", oid, self._moment(day))

    def trash(self, resource: str, rid: int, at: datetime) -> dict:
        """Moved to the trash (orders, products): ``status: trash``, a change like any other."""
        if resource not in ("orders", "products"):
            raise ValueError("WooCommerce trashes orders and products; a customer is deleted for good")
        return self.update(resource, rid, {"status": "trash"}, at)

    # ------------------------------------------------------------------ a normal day's edits

    def _edits(self, day: int) -> None:
        """Now and then a customer edits their account (a new phone, another city typed)."""
        rng = self._rng
        ids = self._records.ids["woocommerce/customers"]
        for _ in range(self._poisson(len(ids) * 0.002)):
            cid = rng.choice(ids)
            if ("woocommerce", "customers", cid) in self._records.deleted:
                continue
            customer = self.woocommerce["customers"][cid]
            p = self._population.person(self._records.owner("woocommerce", "customers", cid))
            billing = {**customer["billing"], "phone": messy.phone(rng, p.mobile), "city": messy.typed(rng, p.city)}
            self.update("customers", cid, {"billing": billing,
                                           "shipping": {k: v for k, v in billing.items() if k != "email"}},
                        self._moment(day))
