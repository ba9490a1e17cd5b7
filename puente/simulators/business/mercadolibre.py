"""The Mercado Libre seller account's writer: the business's sales on the marketplace, in API wire shapes.

The business lists some of the catalogue's products on Mercado Libre Colombia (site ``MCO``) at
the marketplace's price (IVA included, a markup over the list price that pays Mercado Libre's
fee), and some of its own customers buy there now and then: the same real people, seen through
what the marketplace gives a seller: a nickname (``JUANPEREZ1987``), the first and last names of
the account, and, for the invoice, the document the buyer types in the billing form (``CC`` or
``NIT``, the ways people write it; a buyer now and then gives none). Never an e-mail address or
a phone number: the shipment names its receiver and the door it goes to, but its
``receiver_phone`` is masked (``XXXXXXX``), as the real API serves it to sellers. The door is the
buyer's own, or, for the ``PICKUP_SHARE`` of sales picked up at an agency of Mercado Envíos, the
agency's (one of ``AGENCIES_PER_CITY`` doors of the city, shared by every buyer who picks up
there).

A sale is paid through Mercado Pago at once (``status`` paid): its ``payments`` hold the approved
card payment, the items and the shipping, with what Mercado Libre keeps (``marketplace_fee``, the
items' ``sale_fee``), now and then after a rejected attempt with another card. Mercado Envíos ships it a few workdays later (the shipment ``ready_to_ship``,
``shipped``, then ``delivered``); a few are cancelled by the buyer before shipping (``status``
cancelled, the shipment ``cancelled``, the payment ``refunded`` in full).
Every change of the shipment is a change of the order too (its ``date_last_updated`` and
``tags``: ``delivered``), as the orders search's filter on it relies on.

Carts ("packs"). A Mercado Libre order holds one listing: a buyer who checks out several of the
business's listings together gets one order per listing, all with the same ``pack_id``, one
shipment (every order's ``shipping.id``) and one pack (``GET /packs/{pack_id}``: ``id``,
``status``, ``status_detail``, ``family_pack_id``, ``buyer.id``, ``shipment.id``, ``orders[].id``,
``date_created``, ``last_updated``). Here a sale whose basket holds two or more products (the
shared store model's basket: one line and a Poisson(0.2) number more, about 18 % of sales; at most
``CART_MAX_ITEMS`` of them) is such a cart; a sale of one product is a lone order with
``pack_id`` null. That share is this simulation's estimate: Mercado Libre publishes no figure.
What the docs leave open and this writer assumes:
  - payments: the docs relate payments to orders (1 to N), and say a pack's payment is then
    "distributed" to its entities; here each order of a cart carries its own approved payment
    for its item, and the shipment's cost is paid with the first order's (lowest id) payment and
    counted in that order's ``paid_amount`` only (integrators of Odoo connectors report that a
    cart order's ``paid_amount`` leaves the shipping out: the cost lives on the one shipment);
  - the pack's ``status`` is ``released`` from the start (the docs' ``filling`` and ``filled``
    last the seconds the checkout takes); a cancelled cart's pack is ``cancelled``, its
    ``status_detail`` the reason;
  - the buyer cancels a cart as a whole (every order, the shipment), and Mercado Envíos ships and
    delivers its one shipment at once, every order changing with it.
The ERP sale order a correct integration would have entered for a cart is one for the whole
pack, referenced ``ML-PACK-<pack id>``, with every order's item and the shipping once
(``integration``); keyed there by the cart's first order.

Before Puente nobody copies these sales into the ERP: the staff pack them from Mercado Libre's
own screens. What a correct integration would have done with each is kept in the business's
``integration`` (the ERP sale order it should have, referenced ``ML-<order id>``); once an
integration did enter one, the shipment's delivery or the cancellation is passed to the business
(``on_status``), whose warehouse and ERP act on it as for the other shops' orders.

Everything here draws from the account's own random stream (``random.Random(f"{seed}:mercadolibre")``),
so that a business that sells on Mercado Libre has the same ERP, CRM and other shops' records as
one that does not. Dates are ISO 8601 with milliseconds and the -05:00 offset of Colombia's
site, money numbers (not text), order ids 16-digit numbers.
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
from puente.simulators.business.mercadopago import COLLECTOR_ID, REJECTIONS, RETRY_SHARE  # Mercado Pago's
from puente.simulators.business.population import Person, Population
from puente.simulators.business.records import BOGOTA, Records
from puente.simulators.business.store import StoreWriter
from puente.simulators.catalogue import Product

SELLER_ID = COLLECTOR_ID  # the seller's user is the business's Mercado Pago account
SELLER_NICKNAME = "CASAANDINA.CO"
SITE_ID = "MCO"
MARKUP = 1.12  # the marketplace's price: 12 % over the list price, IVA included (it pays the fee)
SALE_FEE = 0.13  # what Mercado Libre keeps of each item's price
CANCEL_SHARE = 0.04
NO_DOCUMENT_SHARE = 0.1  # buyers who leave the billing form empty
PICKUP_SHARE = 0.15  # sales picked up at an agency (the docs give no figure; an assumption)
AGENCIES_PER_CITY = 4
MASKED_PHONE = "XXXXXXX"  # what the shipments API serves a seller for the receiver's phone
SHIPPING_COST = 9900.0  # what the buyer pays Mercado Envíos, IVA included
CARDS = ("visa", "visa", "master", "master", "amex", "diners")  # payment_method_id of a card payment
ERP_REFERENCE = "ML-{order_id}"  # the ERP's client_order_ref of a sale (integration.WebOrder.name)
PACK_REFERENCE = "ML-PACK-{pack_id}"  # the ERP's client_order_ref of a cart's sale order
CART_MAX_ITEMS = 4  # listings one cart holds here (a larger basket keeps its first four products)


def meli_ts(at: datetime) -> str:
    """Mercado Libre's date: ISO 8601 with milliseconds in Colombia's zone (``…T10:31:02.000-05:00``)."""
    return at.astimezone(BOGOTA).isoformat(timespec="milliseconds")


def nickname(rng: random.Random, p: Person) -> str:
    """An account's nickname as people choose them: names run together in capitals, and digits."""
    base = co.strip_accents(f"{messy.given_name(p).split()[0]}{p.last1.split()[-1]}").upper()
    base = re.sub(r"[^A-Z]", "", base)
    return f"{base}{rng.choice(['', str(rng.randrange(1, 99)), str(rng.randrange(1960, 2006))])}"


def agency_door(city: str, oid: int) -> str:
    """The door of the Mercado Envíos agency of ``city`` a sale is picked up at, as the agency's
    address reads (one spelling per agency). Drawn from streams of the city and the sale, so the
    account's own stream is the same whether a sale is picked up or not."""
    agency = random.Random(f"mercadolibre:agency-of:{oid}").randrange(AGENCIES_PER_CITY)
    rng = random.Random(f"mercadolibre:agency:{city}:{agency}")
    door = co.new_address(rng, rng.choice(co.STREET_TYPES), rng.randint(1, 170), rng.randint(1, 120),
                          rng.randint(1, 99), office=True)
    return co.address_as_typed(rng, door)


class MercadoLibreWriter(StoreWriter):
    """Creates and changes the seller's records in ``records.mercadolibre``, one simulated day at a time."""

    ORDERS_PER_CUSTOMER_YEAR = 0.5
    LISTED_SHARE = 0.5  # the products the business lists on the marketplace
    FIRST_LISTING = 7200
    LISTING_GAP = (40, 150)

    def __init__(self, rng: random.Random, records: Records, calendar: Calendar, assortment: Assortment,
                 population: Population, customers: int, integration: Integration | None = None,
                 on_status: Callable[[int, int, str, datetime], None] | None = None):
        super().__init__(rng, records, calendar, assortment, population, customers, integration, on_status)
        self.meli = records.mercadolibre
        self._order_id = 2_000_009_800_000_000
        self._shipment_id = 44_120_000_000
        self._user_id = 310_000_000
        self._pack_id = 2_000_006_400_000_000
        self.pack_of: dict[int, int] = {}  # order id -> its cart's pack id (orders of carts only)
        self._today = 0
        self.accounts: dict[str, dict] = {}  # person id -> the buyer's account (id, nickname, names)
        self.billing: dict[int, dict | None] = {}  # order id -> what the buyer typed in the billing form
        # called with a sale's id whenever its payments are made or change (the seller's Mercado Pago
        # account holds them too: MercadoPagoWriter.mirror_sale, when the business runs it)
        self.on_payments: Callable[[int], None] | None = None

    def day(self, day: int) -> None:
        self._today = day
        self._list_new_products(day)
        self._follow_ups(day)
        # (a Mercado Libre Colombia account is Colombian: customers abroad buy elsewhere)
        people = [p for p in self._population.people if p.acquired_day <= day and p.alive and p.country == "CO"]
        if people:
            for _ in range(self._poisson(self._daily_orders * self._calendar.season(day))):
                self._order(self._rng.choice(people), day)

    # ------------------------------------------------------------------ records

    def _stamp(self, record: dict, at: datetime, *fields: str) -> None:
        """Set ``fields`` to ``at``; ``date_last_updated`` and ``last_updated`` only ever grow."""
        last = record.get("date_last_updated")
        if last and at <= datetime.fromisoformat(last):
            at = datetime.fromisoformat(last) + timedelta(seconds=1)
        for name in (*fields, "date_last_updated", "last_updated"):
            record[name] = meli_ts(at)

    def update(self, obj: str, rid: int, values: dict, at: datetime) -> dict:
        record = self.meli[obj][rid]
        record.update(values)
        self._stamp(record, at)
        self._records.track("mercadolibre", obj, rid)
        if obj == "orders" and "payments" in values and self.on_payments is not None:
            self.on_payments(rid)
        return record

    def _list(self, product: Product, at: datetime) -> None:
        item_id = f"{SITE_ID}{self._rng.randrange(10**9, 10**10)}"
        self.meli["items"][len(self.meli["items"]) + 1] = {
            "id": item_id, "title": product.name, "seller_sku": product.sku,
            "price": round(product.price * (1 + VAT_RATE) * MARKUP, -2), "date_created": meli_ts(at)}
        self.product_by_sku[product.sku] = len(self.meli["items"])

    def _account(self, p: Person) -> dict:
        account = self.accounts.get(p.id)
        if account is None:
            rng = self._rng
            first, last = messy.shop_names(rng, p)
            self._user_id += rng.randint(1, 5000)
            account = {"id": self._user_id, "nickname": nickname(rng, p), "first_name": first, "last_name": last}
            self.accounts[p.id] = account
        return account

    def _billing_form(self, p: Person, account: dict) -> dict | None:
        rng = self._rng
        if rng.random() < NO_DOCUMENT_SHARE:
            return None
        typed = messy.tax_id(rng, p, "mercadolibre")
        kind = "NIT" if p.company or "-" in typed else "CC"
        typed = re.sub(r"[^\d-]", "", typed)  # the form's number field keeps digits (and a NIT's dash)
        return {"name": account["first_name"], "last_name": account["last_name"],
                "identification": {"type": kind, "number": typed},
                "address": {"city_name": messy.typed(rng, p.city), "state": {"name": p.department},
                            "street_name": messy.address(p, "mercadolibre") or "", "country_id": "CO"},
                "taxes": {"taxpayer_type": {"description": "Persona Jurídica" if p.company else "Persona Natural"}}}

    def billing_info(self, oid: int) -> dict | None:
        """``GET /orders/{id}/billing_info``'s answer: what the buyer typed for the invoice, None when nothing."""
        form = self.billing.get(oid)
        if form is None:
            return None
        return {"site_id": SITE_ID, "buyer": {"cust_id": self.meli["orders"][oid]["buyer"]["id"], "billing_info": form}}

    # ------------------------------------------------------------------ sales

    def sell(self, p: Person, skus: list[tuple[str, int]]) -> list[int]:
        """A sale of these listed products (``[(sku, quantity)]``) to ``p`` today, as a buyer checks
        it out (several products: a cart); the ids of its orders. For tests that need a given sale."""
        lines = sorted((self.product_by_sku[sku], qty) for sku, qty in skus)
        first = self._order(p, self._today, lines)
        return self.orders_of(first) if first is not None else []

    def _order(self, p: Person, day: int, lines: list[tuple[int, int]] | None = None) -> int | None:
        rng = self._rng
        lines = self._basket(p, 0.2, 0.6, lambda _: rng.randint(1, 2)) if lines is None else lines
        if not lines:
            return None
        at = self._moment(day)
        account = self._account(p)
        self._order_id += rng.randint(1, 90_000)
        self._shipment_id += rng.randint(1, 9_000)
        oid, sid = self._order_id, self._shipment_id
        items = []
        for idx, qty in lines:
            item = self.meli["items"][idx]
            items.append({"item": {"id": item["id"], "title": item["title"], "category_id": "MCO1574",
                                   "variation_id": None, "seller_custom_field": None, "seller_sku": item["seller_sku"],
                                   "variation_attributes": [], "warranty": "Garantía del vendedor: 30 días",
                                   "condition": "new"},
                          "quantity": qty, "unit_price": item["price"], "full_unit_price": item["price"],
                          "currency_id": "COP", "sale_fee": round(item["price"] * SALE_FEE, 2),
                          "listing_type_id": "gold_special"})
        # a cart: one order per listing (ids in a row), one pack, one shipment
        cart = len(items) > 1
        groups = [[i] for i in items[:CART_MAX_ITEMS]] if cart else [items]
        oids = [oid + k for k in range(len(groups))]
        self._order_id = oids[-1]
        pack_id = None
        if cart:
            self._pack_id += random.Random(f"mercadolibre:pack:{oid}").randint(1, 90_000)
            pack_id = self._pack_id
        stamp = meli_ts(at)
        billing_id, pid = str(rng.getrandbits(59)), rng.randrange(10**10, 10**11)
        for k, (order_id, group) in enumerate(zip(oids, groups, strict=True)):
            total = sum(i["unit_price"] * i["quantity"] for i in group)
            shipping = SHIPPING_COST if k == 0 else 0.0  # a cart's shipping is paid once, with its first order
            order = {
                "id": order_id, "status": "paid", "status_detail": None, "date_created": stamp, "date_closed": stamp,
                "last_updated": stamp, "date_last_updated": stamp, "expiration_date": meli_ts(at + timedelta(days=28)),
                "order_items": group, "total_amount": total, "paid_amount": total + shipping, "currency_id": "COP",
                "coupon": {"id": None, "amount": 0}, "pack_id": pack_id, "pickup_id": None, "fulfilled": None,
                "mediations": [], "comments": None, "feedback": {"sale": None, "purchase": None},
                "buyer": {"id": account["id"], "nickname": account["nickname"], "first_name": account["first_name"],
                          "last_name": account["last_name"], "billing_info": {"id": billing_id}},
                "seller": {"id": SELLER_ID, "nickname": SELLER_NICKNAME},
                "shipping": {"id": sid},
                "payments": self._payments(order_id, pid + 10_000 * k, account["id"], group, total, at, shipping),
                "tags": ["paid", "not_delivered"], "context": {"channel": "marketplace", "site": SITE_ID},
            }
            self._records.add("mercadolibre", "orders", order_id, order, p.id, f"M{oid}")
            if self.on_payments is not None:
                self.on_payments(order_id)
            if pack_id is not None:
                self.pack_of[order_id] = pack_id
        if pack_id is not None:
            self._records.add("mercadolibre", "packs", pack_id, {
                "id": pack_id, "status": "released", "status_detail": None, "date_created": stamp,
                "last_updated": stamp, "family_pack_id": None, "buyer": {"id": account["id"]},
                "shipment": {"id": sid}, "orders": [{"id": o} for o in oids]}, None)
        form = self._billing_form(p, account)
        for order_id in oids:
            self.billing[order_id] = form
        city = messy.typed(rng, p.city)
        # the number the buyer gives Mercado Envíos: never served to the seller, drawn still so that
        # the account's stream (and every sale after this one) is the same as before it was masked
        messy.phone(rng, p.mobile)
        picked_up = random.Random(f"mercadolibre:pickup:{oid}").random() < PICKUP_SHARE
        door = agency_door(p.city, oid) if picked_up else messy.address(p, "mercadolibre:envio") or ""
        self._records.add("mercadolibre", "shipments", sid, {
            "id": sid, "order_id": oid, "status": "ready_to_ship", "substatus": "ready_to_print", "mode": "me2",
            "logistic_type": "cross_docking", "date_created": stamp, "last_updated": stamp,
            "status_history": {"date_ready_to_ship": stamp, "date_shipped": None, "date_delivered": None,
                               "date_cancelled": None},
            "lead_time": {"cost": SHIPPING_COST, "currency_id": "COP", "shipping_method": {"name": "Normal"}},
            "destination": {"type": "agency" if picked_up else "buying_address",
                            "receiver_name": f"{account['first_name']} {account['last_name']}",
                            "receiver_phone": MASKED_PHONE,
                            "shipping_address": {"address_line": door,
                                                 "city": {"name": city}, "state": {"name": p.department},
                                                 "country": {"id": "CO"}}},
        }, p.id, f"M{oid}")
        sold = [i for group in groups for i in group]
        paid = sum(i["unit_price"] * i["quantity"] for i in sold) + SHIPPING_COST
        untaxed = round(paid / (1 + VAT_RATE), 2)
        name = PACK_REFERENCE.format(pack_id=pack_id) if pack_id is not None else ERP_REFERENCE.format(order_id=oid)
        self._integration.add_web_order(WebOrder(
            shop="mercadolibre", shop_order_id=oid, name=name, order_id=f"M{oid}",
            person_id=p.id, ordered_on=self._calendar.date(day).isoformat(),
            lines=[*(Line(i["item"]["seller_sku"], i["quantity"], round(i["unit_price"] / (1 + VAT_RATE), 2))
                     for i in sold), Line(SHIPPING_SKU, 1, round(SHIPPING_COST / (1 + VAT_RATE), 2))],
            amount_untaxed=untaxed, amount_tax=round(paid - untaxed, 2), amount_total=paid, currency="COP"))
        if rng.random() < CANCEL_SHARE:
            self._later(day + rng.randint(0, 2), self._cancel, oid, sid)
        else:
            self._later(self._calendar.workday(day, rng.randint(1, 2)), self._ship, oid, sid)
        return oid

    def orders_of(self, oid: int) -> list[int]:
        """The orders that go together with ``oid``: its cart's, or itself alone."""
        pack_id = self.pack_of.get(oid)
        if pack_id is None:
            return [oid]
        return [o["id"] for o in self.meli["packs"][pack_id]["orders"]]

    def lead_order(self, oid: int) -> int:
        """The order the integration's web order of ``oid``'s sale is keyed by (its cart's first)."""
        return self.orders_of(oid)[0]

    def _shipment(self, sid: int, values: dict, history: str, at: datetime) -> None:
        shipment = self.meli["shipments"][sid]
        shipment.update(values)
        shipment["status_history"] = {**shipment["status_history"], history: meli_ts(at)}
        shipment["last_updated"] = meli_ts(at)
        self._records.track("mercadolibre", "shipments", sid)

    def _ship(self, day: int, oid: int, sid: int) -> None:
        if self.meli["orders"][oid]["status"] != "paid":
            return
        at = self._moment(day)
        self._shipment(sid, {"status": "shipped", "substatus": None}, "date_shipped", at)
        for order_id in self.orders_of(oid):
            self.update("orders", order_id, {}, at)
        self._later(self._calendar.workday(day, self._rng.randint(1, 3)), self._deliver, oid, sid)

    def _deliver(self, day: int, oid: int, sid: int) -> None:
        at = self._moment(day)
        self._shipment(sid, {"status": "delivered", "substatus": None}, "date_delivered", at)
        for order_id in self.orders_of(oid):
            self.update("orders", order_id, {"tags": ["paid", "delivered"]}, at)
        self._integration.web_order("mercadolibre", oid).fulfilled_on = self._calendar.date(day).isoformat()
        self._status_changed(day, oid, "delivered", at)

    def _cancel(self, day: int, oid: int, sid: int) -> None:
        self.cancel_order(day, oid, self._moment(day))

    @staticmethod
    def _payments(oid: int, pid: int, payer: int, items: list[dict], total: float, at: datetime,
                  shipping: float = SHIPPING_COST) -> list[dict]:
        """The sale's Mercado Pago payments: one approved card payment, after a rejected attempt now
        and then (a stream of the sale's own, so the account's stays as it was). ``shipping``: what
        it pays Mercado Envíos (nothing for a cart's orders after the first)."""
        draw = random.Random(f"mercadolibre:payment:{oid}")
        stamp = meli_ts(at)
        approved = {"id": pid, "order_id": oid, "payer_id": payer, "collector": {"id": SELLER_ID}, "site_id": SITE_ID,
                    "operation_type": "regular_payment", "status": "approved", "status_detail": "accredited",
                    "payment_type": "credit_card", "payment_method_id": draw.choice(CARDS), "installments": 1,
                    "transaction_amount": total, "transaction_amount_refunded": 0.0, "taxes_amount": 0.0,
                    "shipping_cost": shipping, "overpaid_amount": 0.0, "total_paid_amount": total + shipping,
                    "currency_id": "COP", "marketplace_fee": round(sum(i["sale_fee"] * i["quantity"] for i in items), 2),
                    "date_created": stamp, "date_approved": stamp, "date_last_modified": stamp}
        if draw.random() >= RETRY_SHARE:
            return [approved]
        tried = meli_ts(at - timedelta(minutes=draw.randint(1, 10)))
        rejected = {**approved, "id": pid - draw.randint(1, 5_000), "status": "rejected",
                    "status_detail": draw.choice(REJECTIONS), "payment_method_id": draw.choice(CARDS),
                    "marketplace_fee": 0.0, "date_created": tried, "date_approved": None, "date_last_modified": tried}
        return [rejected, approved]

    def cancel_order(self, day: int, oid: int, at: datetime) -> dict:
        """Cancelled by the buyer before it ships: the payment is refunded, the shipment cancelled.
        A cart is cancelled as a whole: every order of its pack, and the pack."""
        order = self.meli["orders"][oid]
        if order["status"] != "paid":
            return order
        sid = order["shipping"]["id"]
        self._shipment(sid, {"status": "cancelled", "substatus": "cancelled_by_buyer"}, "date_cancelled", at)
        for order_id in self.orders_of(oid):
            sale = self.meli["orders"][order_id]
            payments = [{**pay, "status": "refunded", "status_detail": "refunded", "date_last_modified": meli_ts(at),
                         "transaction_amount_refunded": pay["transaction_amount"]} if pay["status"] == "approved"
                        else pay for pay in sale["payments"]]
            self.update("orders", order_id, {"status": "cancelled", "status_detail": {"code": "buyer_cancelled"},
                                             "payments": payments, "tags": ["not_delivered"]}, at)
        pack_id = self.pack_of.get(oid)
        if pack_id is not None:
            pack = self.meli["packs"][pack_id]
            pack.update({"status": "cancelled", "status_detail": "buyer_cancelled", "last_updated": meli_ts(at)})
            self._records.track("mercadolibre", "packs", pack_id)
        lead = self.lead_order(oid)
        self._integration.web_order("mercadolibre", lead).state = "cancel"
        self._status_changed(day, lead, "cancelled", at)
        return order
