"""The shop's writer: what customers and the shop's staff record in Shopify, in REST Admin's wire shapes.

Customer accounts as people type themselves in at checkout (a family sharing one email shares
one account), web orders paid online or cash on delivery (about three in ten with a shipping
charge, now and then one line with a discount code), their fulfilment or cancellation, the
product listings with their single variant, prices, stock levels at the shop's one location,
and the small edits of a normal day (a customer tagged). Shopify tracks the stock of its
variants itself (``inventory_management: shopify``): an order takes its quantities off, a
cancellation with restock puts them back; it knows nothing of the ERP's stock until someone sets
it. A few items are not tracked at all (``inventory_management: null``): the shop sells them
without counting, and their level cannot be set.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

from puente.simulators import colombia as co
from puente.simulators.business import messiness as messy
from puente.simulators.business.assortment import SHIPPING_PRICE, VAT_RATE, Assortment
from puente.simulators.business.calendar import Calendar
from puente.simulators.business.population import Person
from puente.simulators.business.records import Records, money, shopify_ts
from puente.simulators.catalogue import Product, handle

SHOP_NAME = "Casa Andina"
LOCATION_ID = 68_412_330_017  # the shop's one location (its warehouse in Bogotá)
SHIPPING_SHARE = 0.3  # web orders whose customer pays for delivery
DISCOUNT_SHARE = 0.06  # web orders with a discount code on one line
DISCOUNT_CODES = {5: "CASA5", 10: "BIENVENIDA10", 15: "TEMPORADA15"}  # percent -> code
UNTRACKED_EVERY = 25  # one listed item in 25 (the 3rd, the 28th, …): its quantity is not tracked


class ShopifyWriter:
    """Creates and changes Shopify records in ``records.shopify`` the way customers and staff do."""

    def __init__(self, rng: random.Random, records: Records, calendar: Calendar, assortment: Assortment,
                 details: random.Random):
        self._rng = rng
        self._details = details
        self._records = records
        self._calendar = calendar
        self._assortment = assortment
        self.shopify = records.shopify
        self._ids = {"customers": 7_400_000_000_000, "orders": 5_900_000_000_000,
                     "products": 8_300_000_000_000, "variants": 44_100_000_000_000,
                     "line_items": 14_800_000_000_000, "addresses": 9_100_000_000_000,
                     "inventory_items": 46_200_000_000_000}
        self._seq: Counter[str] = Counter()
        self.online_gateway = "wompi"  # the checkout's gateway (Mercado Pago's once the business takes it)
        self._customer_by_email: dict[str, int] = {}
        opened = shopify_ts(calendar.midnight(0))
        self.location = {
            "id": LOCATION_ID, "name": "Bodega Bogotá", "address1": "Calle 13 # 68-45", "address2": None,
            "city": "Bogotá", "zip": "110931", "province": "Bogotá, D.C.", "country": "CO", "phone": "+576017430000",
            "created_at": opened, "updated_at": opened, "country_code": "CO", "country_name": "Colombia",
            "province_code": "DC", "legacy": False, "active": True,
            "admin_graphql_api_id": f"gid://shopify/Location/{LOCATION_ID}",
            "localized_country_name": "Colombia", "localized_province_name": "Bogotá, D.C."}
        # inventory item id -> (product id, when its level at the location last changed)
        self.inventory_items: dict[int, tuple[int, str]] = {}

    # ------------------------------------------------------------------ records

    def new_id(self, kind: str, rng: random.Random | None = None) -> int:
        self._ids[kind] += (rng or self._rng).randint(10_000, 9_000_000)
        return self._ids[kind]

    def create(self, resource: str, record: dict, at: datetime, person: Person | None = None,
               order_id: str | None = None) -> dict:
        stamp = shopify_ts(at)
        record.setdefault("created_at", stamp)
        record["updated_at"] = stamp
        return self._records.add("shopify", resource, record["id"], record, person.id if person else None,
                                 order_id)

    def update(self, resource: str, rid: int, values: dict, at: datetime) -> dict:
        record = self.shopify[resource][rid]
        stamp = shopify_ts(at)
        if stamp <= record["updated_at"]:  # same zone and format: the strings sort as the times do
            stamp = shopify_ts(datetime.fromisoformat(record["updated_at"]) + timedelta(seconds=1))
        record.update(values)
        record["updated_at"] = stamp
        self._records.track("shopify", resource, rid)
        return record

    # ------------------------------------------------------------------ customers

    def customer(self, p: Person, at: datetime) -> dict:
        """The person's shop account; a relative's account when they share one email."""
        if p.shopify_customer_id is not None:
            return self.shopify["customers"][p.shopify_customer_id]
        shared = self._customer_by_email.get(p.email.lower()) if p.email else None
        if shared is not None:
            p.shopify_customer_id = shared
            return self.shopify["customers"][shared]
        rng = self._rng
        cid = self.new_id("customers")
        first, last = messy.shop_names(rng, p)
        # checkout asks for an email or a phone to send the order to: someone without email gives a phone
        phone = co.e164(p.mobile) if p.email is None or rng.random() < 0.55 else None
        stamp = shopify_ts(at)
        address = {
            "id": self.new_id("addresses"), "customer_id": cid, "first_name": first, "last_name": last,
            "company": p.company, "address1": messy.address(p, f"shopify:{cid}"), "address2": None, "city": messy.typed(rng, p.city),
            "province": p.department, "country": p.country_name, "zip": None, "phone": phone,
            "name": f"{first} {last}", "province_code": None, "country_code": p.country,
            "country_name": p.country_name, "default": True,
        }
        note = None
        # the NIT or cédula an e-invoice asks for (a customer abroad gets none: not the DIAN's)
        if rng.random() < (0.3 if p.company else 0.05) and p.country == "CO":
            note = (f"NIT {co.format_nit(p.doc, 1)}" if p.company else f"CC {p.doc}")
        record = self.create("customers", {
            "id": cid, "email": p.email, "first_name": first, "last_name": last,
            "state": "enabled" if rng.random() < 0.6 else "disabled", "note": note,
            "verified_email": p.email is not None, "multipass_identifier": None, "tax_exempt": False,
            "tags": "mayorista" if p.company else "", "currency": "COP", "phone": phone,
            "addresses": [address], "default_address": address,
            "email_marketing_consent": None if p.email is None else {
                "state": "subscribed" if p.consent else "not_subscribed", "opt_in_level": "single_opt_in",
                "consent_updated_at": stamp if p.consent else None},
            "sms_marketing_consent": None, "last_order_id": None, "last_order_name": None,
            "admin_graphql_api_id": f"gid://shopify/Customer/{cid}",
        }, at, p)
        p.shopify_customer_id = cid
        if p.email:
            self._customer_by_email[p.email.lower()] = cid
        return record

    def unsubscribe(self, p: Person, at: datetime) -> None:
        """The person's shop account stops receiving marketing email."""
        customer = self.shopify["customers"].get(p.shopify_customer_id or 0)
        if customer and customer["email_marketing_consent"]:
            consent = {**customer["email_marketing_consent"], "state": "unsubscribed",
                       "consent_updated_at": shopify_ts(at)}
            self.update("customers", customer["id"], {"email_marketing_consent": consent}, at)

    # ------------------------------------------------------------------ orders

    def order(self, p: Person, customer: dict, lines: list[tuple[int, int]], at: datetime, order_id: str) -> dict:
        """A web order placed by ``customer``: paid online (three in four) or cash on delivery, with
        a shipping charge or a discount code now and then; taxes per line (and on shipping)."""
        rng, details = self._rng, self._details
        self._seq["order"] += 1
        number = 1000 + self._seq["order"]
        sid = self.new_id("orders")
        paid_online = rng.random() < 0.75
        shipping = SHIPPING_PRICE if details.random() < SHIPPING_SHARE else 0
        discounted = details.randrange(len(lines)) if details.random() < DISCOUNT_SHARE else None
        percent = details.choice(list(DISCOUNT_CODES)) if discounted is not None else 0
        items = [self._line(i, q, percent if n == discounted else 0) for n, (i, q) in enumerate(lines)]
        gross = sum(float(li["price"]) * li["quantity"] for li in items)
        discounts = round(sum(float(li["total_discount"]) for li in items), 2)
        shipping_tax = round(shipping * VAT_RATE, 2)
        tax = round(sum(float(li["tax_lines"][0]["price"]) for li in items) + shipping_tax, 2)
        subtotal = round(gross - discounts, 2)
        stamp = shopify_ts(at)
        address = customer["default_address"]
        order = self.create("orders", {
            "id": sid, "admin_graphql_api_id": f"gid://shopify/Order/{sid}", "name": f"#{number}",
            "number": number - 1000, "order_number": number, "email": customer["email"],
            "contact_email": customer["email"], "phone": customer["phone"], "created_at": stamp,
            "processed_at": stamp, "closed_at": None, "cancelled_at": None, "cancel_reason": None,
            "confirmed": True, "currency": "COP", "presentment_currency": "COP",
            "financial_status": "paid" if paid_online else "pending", "fulfillment_status": None,
            "subtotal_price": money(subtotal), "total_line_items_price": money(gross),
            "total_discounts": money(discounts), "total_tax": money(tax),
            "total_price": money(subtotal + shipping + tax),
            "total_shipping_price_set": _money_set(shipping),
            "taxes_included": False, "source_name": "web", "tags": "", "note": None, "test": False,
            "payment_gateway_names": [self.online_gateway] if paid_online else ["Cash on Delivery (COD)"],
            "customer": {k: customer[k] for k in ("id", "email", "first_name", "last_name", "phone",
                                                   "state", "tags", "created_at")},
            "discount_applications": [] if not percent else [{
                "type": "discount_code", "code": DISCOUNT_CODES[percent], "value": f"{percent}.0",
                "value_type": "percentage", "allocation_method": "across", "target_selection": "entitled",
                "target_type": "line_item"}],
            "discount_codes": [] if not percent else [{"code": DISCOUNT_CODES[percent], "amount": money(discounts),
                                                      "type": "percentage"}],
            "line_items": items,
            "shipping_lines": [] if not shipping else [{
                "id": self.new_id("line_items", details), "title": "Envío a domicilio", "code": "Envío a domicilio",
                "source": "shopify", "price": money(shipping), "discounted_price": money(shipping),
                "price_set": _money_set(shipping), "discounted_price_set": _money_set(shipping),
                "carrier_identifier": None, "requested_fulfillment_service_id": None, "delivery_category": None,
                "phone": None, "discount_allocations": [],
                "tax_lines": [{"title": "IVA", "rate": VAT_RATE, "price": money(shipping_tax)}]}],
            "shipping_address": {k: address[k] for k in ("first_name", "last_name", "company", "address1",
                                                         "city", "province", "country", "country_code",
                                                         "phone", "name")},
        }, at, p, order_id)
        self.update("customers", customer["id"], {"last_order_id": sid, "last_order_name": f"#{number}"}, at)
        for idx, qty in lines:
            self._take_stock(self._assortment.products[idx], -qty, at)
        return order

    def _line(self, idx: int, qty: int, percent: int) -> dict:
        """A line item; with a percentage discount code on it, its allocation and the tax on what is left."""
        product = self._assortment.products[idx]
        discount = round(product.price * qty * percent / 100, 2)
        return {"id": self.new_id("line_items"), "product_id": product.shop_product_id,
                "variant_id": product.shop_variant_id, "sku": product.sku, "title": product.name,
                "name": product.name, "variant_title": None, "vendor": SHOP_NAME, "quantity": qty,
                "price": money(product.price), "taxable": True, "requires_shipping": True,
                "grams": product.weight_g, "total_discount": money(discount),
                "discount_allocations": [] if not discount else [
                    {"amount": money(discount), "amount_set": _money_set(discount), "discount_application_index": 0}],
                "tax_lines": [{"title": "IVA", "rate": VAT_RATE,
                               "price": money(round((product.price * qty - discount) * VAT_RATE, 2))}]}

    @staticmethod
    def shipping_price(order: dict) -> float:
        """What the customer paid for delivery, before tax (0 when nothing)."""
        return round(sum(float(s["discounted_price"]) for s in order.get("shipping_lines") or []), 2)

    @staticmethod
    def discount_percent(order: dict, line: dict) -> float:
        """A line's discount as the ERP takes it: a percentage of the line (0 when none)."""
        allocated = sum(float(a["amount"]) for a in line.get("discount_allocations") or [])
        if not allocated:
            return 0.0
        applications = order.get("discount_applications") or []
        index = line["discount_allocations"][0]["discount_application_index"]
        if len(line["discount_allocations"]) == 1 and applications[index]["value_type"] == "percentage":
            return float(applications[index]["value"])
        return round(100 * allocated / (float(line["price"]) * line["quantity"]), 4)

    def fulfil(self, sid: int, at: datetime) -> None:
        """Shipped and paid: Shopify archives (closes) an order once it is paid and fulfilled."""
        self.update("orders", sid, {"fulfillment_status": "fulfilled", "financial_status": "paid",
                                    "closed_at": shopify_ts(at)}, at)

    def cancel(self, sid: int, at: datetime) -> None:
        """Cancelled by the customer: refunded when it was paid, voided otherwise; items restocked."""
        order = self.shopify["orders"][sid]
        refunded = "refunded" if order["financial_status"] == "paid" else "voided"
        self.update("orders", sid, {"cancelled_at": shopify_ts(at), "cancel_reason": "customer",
                                    "financial_status": refunded}, at)
        for line in order["line_items"]:
            self._take_stock(self._assortment.by_sku(line["sku"]), line["quantity"], at)

    # ------------------------------------------------------------------ products

    def list_product(self, product: Product, at: datetime) -> None:
        """A product listed in the shop, with its one variant and the stock it has today."""
        pid, vid = self.new_id("products"), self.new_id("variants")
        product.shop_product_id, product.shop_variant_id = pid, vid
        self._seq["listed"] += 1
        tracked = self._seq["listed"] % UNTRACKED_EVERY != 3
        quantity = int(product.on_hand) if tracked else 0
        item = self.new_id("inventory_items")
        stamp = shopify_ts(at)
        self.inventory_items[item] = (pid, stamp)
        self.create("products", {
            "id": pid, "title": product.name, "body_html": f"<p>{product.name}, de {SHOP_NAME}.</p>",
            "vendor": SHOP_NAME, "product_type": product.category, "handle": handle(product.name),
            "published_at": stamp, "published_scope": "web", "template_suffix": None, "status": "active",
            "tags": product.category.lower(), "admin_graphql_api_id": f"gid://shopify/Product/{pid}",
            "options": [{"id": pid + 1, "product_id": pid, "name": "Title", "position": 1,
                         "values": ["Default Title"]}],
            "images": [], "image": None,
            "variants": [{
                "id": vid, "product_id": pid, "title": "Default Title", "price": money(product.price),
                "sku": product.sku, "position": 1, "inventory_policy": "deny", "compare_at_price": None,
                "fulfillment_service": "manual", "inventory_management": "shopify" if tracked else None,
                "option1": "Default Title", "option2": None, "option3": None, "created_at": stamp,
                "updated_at": stamp, "taxable": True, "barcode": None, "grams": product.weight_g,
                "weight": product.weight_g / 1000, "weight_unit": "kg",
                "inventory_item_id": item, "inventory_quantity": quantity, "old_inventory_quantity": quantity,
                "requires_shipping": True, "admin_graphql_api_id": f"gid://shopify/ProductVariant/{vid}",
            }],
        }, at)

    def stock(self, product: Product) -> int:
        """The quantity the shop shows as available."""
        return self.shopify["products"][product.shop_product_id]["variants"][0]["inventory_quantity"]

    def tracked(self, product: Product) -> bool:
        """Whether the shop counts the product's stock (``inventory_management: shopify``)."""
        return self.shopify["products"][product.shop_product_id]["variants"][0]["inventory_management"] == "shopify"

    def set_stock(self, product: Product, quantity: int, at: datetime) -> None:
        """The variant's available quantity at the location set to ``quantity``."""
        self.set_level(self.shopify["products"][product.shop_product_id]["variants"][0]["inventory_item_id"],
                       quantity, at)

    def set_level(self, inventory_item_id: int, quantity: int, at: datetime) -> dict:
        """Set an inventory item's available quantity (a person in the admin, or the API's
        ``inventory_levels/set.json``): the variant shows it and its product counts as updated, so
        the products extract sees the change. Returns the variant."""
        product_id, _ = self.inventory_items[inventory_item_id]
        variant = next(v for v in self.shopify["products"][product_id]["variants"]
                       if v["inventory_item_id"] == inventory_item_id)
        product = self.update("products", product_id, {}, at)
        variant.update({"old_inventory_quantity": variant["inventory_quantity"], "inventory_quantity": quantity,
                        "updated_at": product["updated_at"]})
        self.inventory_items[inventory_item_id] = (product_id, product["updated_at"])
        return variant

    def level(self, inventory_item_id: int) -> dict:
        """The item's inventory level at the location (``available`` null when it is not tracked)."""
        product_id, changed = self.inventory_items[inventory_item_id]
        variant = next(v for v in self.shopify["products"][product_id]["variants"]
                       if v["inventory_item_id"] == inventory_item_id)
        tracked = variant["inventory_management"] == "shopify"
        return {"inventory_item_id": inventory_item_id, "location_id": LOCATION_ID,
                "available": variant["inventory_quantity"] if tracked else None, "updated_at": changed,
                "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{LOCATION_ID}?inventory_item_id={inventory_item_id}"}

    def _take_stock(self, product: Product, change: int, at: datetime) -> None:
        if self.tracked(product):
            self.set_stock(product, self.stock(product) + change, at)

    def set_price(self, product: Product, at: datetime) -> None:
        variant = self.shopify["products"][product.shop_product_id]["variants"][0]
        variant.update({"price": money(product.price), "updated_at": shopify_ts(at)})
        self.update("products", product.shop_product_id, {}, at)

    # ------------------------------------------------------------------ a normal day's edits

    def daily_edits(self, day: int) -> None:
        """Now and then the staff tag a customer (or take the tag off)."""
        rng = self._rng
        customers = self._records.ids["shopify/customers"]
        for _ in range(self._calendar.poisson(len(customers) * 0.002)):
            cid = rng.choice(customers)
            customer = self.shopify["customers"][cid]
            tags = "" if customer["tags"] else rng.choice(("cliente-frecuente", "newsletter"))
            self.update("customers", cid, {"tags": tags}, self._calendar.moment(day))


def _money_set(amount: float) -> dict:
    """A money bag: the amount in the shop's and the customer's currency (both COP here)."""
    bag = {"amount": money(amount), "currency_code": "COP"}
    return {"shop_money": bag, "presentment_money": dict(bag)}
