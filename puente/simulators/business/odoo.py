"""The ERP's writer: what the business's staff record in Odoo, in Odoo 17's wire shapes.

Partners typed in by the staff, products and their stock, sale orders (phone and counter sales,
quotes for businesses that are confirmed or cancelled, orders keyed in from elsewhere), deliveries
with their invoices, and payments: on the spot, by card (reconciled with the bank a few days
later), cash on delivery, or on 30-day terms, sometimes late and sometimes in two parts.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta

from puente.simulators.business import messiness as messy
from puente.simulators.business.assortment import VAT_RATE, Assortment
from puente.simulators.business.calendar import Calendar
from puente.simulators.business.population import Person, Population
from puente.simulators.business.records import Records, odoo_ts
from puente.simulators.catalogue import BASE_ITEMS, Product

COUNTRY = [49, "Colombia"]
CURRENCY = [8, "COP"]
STOCK_LOCATION = [8, "WH/Stock"]
WAREHOUSE = [1, "Casa Andina"]  # the one warehouse (Odoo names the first after the company)
SALESPERSON = [2, "Administrador"]
CATEGORY_IDS = {category: n + 1 for n, (_, category, _) in enumerate(BASE_ITEMS)}
ID_TYPE_NIT = [4, "NIT"]
ID_TYPE_CEDULA = [3, "Cédula de ciudadanía"]


class OdooWriter:
    """Creates and changes Odoo records in ``records.odoo`` the way the business's staff do."""

    def __init__(self, rng: random.Random, records: Records, calendar: Calendar, assortment: Assortment,
                 population: Population):
        self._rng = rng
        self._records = records
        self._calendar = calendar
        self._assortment = assortment
        self._population = population
        self.odoo = records.odoo
        self._seq: Counter[str] = Counter()  # ids per model, and the numbering of orders and invoices
        self._partner_by_email: dict[str, int] = {}
        self._shop_customer_partner: dict[int, int] = {}  # the ERP shop connector's link table

    # ------------------------------------------------------------------ records

    def create(self, model: str, values: dict, at: datetime, person: Person | None = None,
               order_id: str | None = None) -> dict:
        self._seq[model] += 1
        rid = self._seq[model]
        stamp = odoo_ts(at)
        record = {"id": rid, **values, "create_date": stamp, "write_date": stamp}
        return self._records.add("odoo", model, rid, record, person.id if person else None, order_id)

    def write(self, model: str, rid: int, values: dict, at: datetime) -> dict:
        record = self.odoo[model][rid]
        stamp = odoo_ts(at)
        if stamp <= record["write_date"]:  # keep each record's own history monotonic
            stamp = odoo_ts(datetime.fromisoformat(record["write_date"]) + timedelta(seconds=1))
        record.update(values)
        record["write_date"] = stamp
        self._records.track("odoo", model, rid)
        return record

    def m2o(self, model: str, rid: int) -> list:
        record = self.odoo[model][rid]
        return [rid, record.get("display_name") or record["name"]]

    # ------------------------------------------------------------------ partners

    def partner(self, p: Person, at: datetime) -> int:
        """The person's partner, created the way the ERP's staff type people in."""
        if p.odoo_partner_id is not None:
            return p.odoo_partner_id
        rng = self._rng
        name = messy.erp_name(rng, p)
        if p.company:
            vat: str | bool = messy.tax_id(rng, p)
        else:
            vat = messy.tax_id(rng, p) if rng.random() < 0.75 else False
        email = p.email if p.email and rng.random() > 0.08 else None
        record = self.create("res.partner", {
            "name": name, "display_name": name, "is_company": bool(p.company),
            "company_type": "company" if p.company else "person",
            "email": email or False,
            "phone": messy.phone(rng, p.landline or p.mobile) if rng.random() < 0.7 else False,
            "mobile": messy.phone(rng, p.mobile) if rng.random() < 0.6 else False,
            "vat": vat, "l10n_latam_identification_type_id": ID_TYPE_NIT if p.company else ID_TYPE_CEDULA,
            "street": p.street, "city": p.city, "zip": False, "country_id": COUNTRY,
            "lang": "es_CO", "customer_rank": 0, "supplier_rank": 0, "active": True,
        }, at, p)
        p.odoo_partner_id = record["id"]
        if email:
            self._partner_by_email.setdefault(email.lower(), record["id"])
        return record["id"]

    def partner_for_shop_customer(self, customer: dict, owner: Person, at: datetime) -> int:
        """What the ERP's shop connector does: reuse a partner with the same email, else create one."""
        linked = self._shop_customer_partner.get(customer["id"])
        if linked is not None:
            return linked
        email = (customer.get("email") or "").strip().lower()
        partner_id = self._partner_by_email.get(email) if email else None
        if partner_id is None:
            name = f"{customer['first_name'] or ''} {customer['last_name'] or ''}".strip()
            company = (customer.get("default_address") or {}).get("company")
            record = self.create("res.partner", {
                "name": company or name, "display_name": company or name, "is_company": bool(company),
                "company_type": "company" if company else "person", "email": customer.get("email") or False,
                "phone": customer.get("phone") or False, "mobile": False, "vat": False,
                "l10n_latam_identification_type_id": ID_TYPE_CEDULA, "street": owner.street,
                "city": owner.city, "zip": False, "country_id": COUNTRY, "lang": "es_CO",
                "customer_rank": 0, "supplier_rank": 0, "active": True,
            }, at, owner)
            partner_id = record["id"]
            if owner.odoo_partner_id is None:
                owner.odoo_partner_id = partner_id
            if email:
                self._partner_by_email[email] = partner_id
        self._shop_customer_partner[customer["id"]] = partner_id
        return partner_id

    # ------------------------------------------------------------------ sales

    def sale_order(self, p: Person, order_id: str, partner_id: int, at: datetime,
                   lines: list[tuple[int, int]], state: str, client_order_ref: str | bool,
                   origin: str | bool) -> dict:
        self._seq["sale.order.name"] += 1
        untaxed = self._assortment.total(lines)
        tax = round(untaxed * VAT_RATE, 2)
        order = self.create("sale.order", {
            "name": f"S{self._seq['sale.order.name']:05d}", "partner_id": self.m2o("res.partner", partner_id),
            "date_order": odoo_ts(at), "state": state, "amount_untaxed": float(untaxed),
            "amount_tax": tax, "amount_total": round(untaxed + tax, 2), "currency_id": CURRENCY,
            "client_order_ref": client_order_ref, "origin": origin,
            "invoice_status": "to invoice" if state == "sale" else "no", "user_id": SALESPERSON,
            "order_line": [], "invoice_ids": [], "warehouse_id": WAREHOUSE,
        }, at, p, order_id)
        order["display_name"] = order["name"]
        for idx, qty in lines:
            product = self._assortment.products[idx]
            subtotal = float(product.price * qty)
            line = self.create("sale.order.line", {
                "order_id": [order["id"], order["name"]],
                "product_id": self.m2o("product.product", product.odoo_id),
                "name": f"[{product.sku}] {product.name}", "product_uom_qty": float(qty),
                "qty_delivered": 0.0, "qty_invoiced": 0.0, "price_unit": float(product.price),
                "price_subtotal": subtotal, "price_tax": round(subtotal * VAT_RATE, 2),
                "price_total": round(subtotal * (1 + VAT_RATE), 2),
            }, at, p, order_id)
            order["order_line"].append(line["id"])
            if state == "sale":
                product.reserved += qty
                self._assortment.stock_moved.add(idx)
        return order

    def order(self, p: Person, day: int, order_id: str, at: datetime, origin: str | bool,
              lines: list[tuple[int, int]] | None = None) -> dict:
        """A phone, counter or deal order keyed straight into the ERP (no shop order behind it)."""
        rng, calendar = self._rng, self._calendar
        partner_id = self.partner(p, at)
        lines = lines or self._assortment.basket(p, day, web=False)
        if p.kind == "company" and not origin:
            order = self.sale_order(p, order_id, partner_id, at, lines, "sent", False, origin)
            if rng.random() < 0.05:
                calendar.schedule(calendar.workday(day, rng.randint(1, 3)), self._on_cancel_quote, p, order["id"])
            else:
                calendar.schedule(calendar.workday(day, rng.randint(1, 2)), self._on_confirm, p, order["id"])
            return order
        order = self.sale_order(p, order_id, partner_id, at, lines, "sale", False, origin)
        if p.kind == "company":
            calendar.schedule(calendar.workday(day, rng.randint(1, 3)), self._on_deliver, p, order["id"], "credit")
        else:  # counter sale: goods leave at once, paid on the spot
            self.deliver(p, day, order["id"], at + timedelta(minutes=rng.randint(2, 10)), "cash")
        return order

    def _on_confirm(self, day: int, p: Person, so_id: int) -> None:
        order = self.write("sale.order", so_id, {"state": "sale", "invoice_status": "to invoice"},
                           self._calendar.moment(day))
        for line_id in order["order_line"]:
            line = self.odoo["sale.order.line"][line_id]
            product = self._product_of(line)
            product.reserved += line["product_uom_qty"]
            self._assortment.stock_moved.add(product.idx)
        calendar = self._calendar
        calendar.schedule(calendar.workday(day, self._rng.randint(1, 3)), self._on_deliver, p, so_id, "credit")

    def _on_cancel_quote(self, day: int, p: Person, so_id: int) -> None:
        self.write("sale.order", so_id, {"state": "cancel", "invoice_status": "no"}, self._calendar.moment(day))
        p.engagement *= 0.8

    def cancel(self, so_id: int, at: datetime) -> None:
        """Cancel a confirmed order: its reservations are released."""
        sale_order = self.write("sale.order", so_id, {"state": "cancel", "invoice_status": "no"}, at)
        for line_id in sale_order["order_line"]:
            line = self.odoo["sale.order.line"][line_id]
            product = self._product_of(line)
            product.reserved -= line["product_uom_qty"]
            self._assortment.stock_moved.add(product.idx)

    def _on_deliver(self, day: int, p: Person, so_id: int, payment: str) -> None:
        self.deliver(p, day, so_id, self._calendar.moment(day), payment)

    def _product_of(self, line: dict) -> Product:
        return self._assortment.by_odoo_id(line["product_id"][0])

    def deliver(self, p: Person, day: int, so_id: int, at: datetime, payment: str) -> dict:
        """Goods leave the warehouse; the ERP posts the invoice and books or plans its payment.

        ``payment``: ``cash`` (paid on the spot), ``card`` (paid online, reconciled with the bank
        a few days later), ``cod`` (cash on delivery) or ``credit`` (B2B terms, 30 days).
        """
        rng, calendar = self._rng, self._calendar
        order = self.odoo["sale.order"][so_id]
        order_id = self._records.truth[("odoo", "sale.order", so_id)][1]
        for line_id in order["order_line"]:
            line = self.odoo["sale.order.line"][line_id]
            qty = line["product_uom_qty"]
            self.write("sale.order.line", line_id, {"qty_delivered": qty, "qty_invoiced": qty}, at)
            product = self._product_of(line)
            product.on_hand -= qty
            product.reserved -= qty
            self._assortment.stock_moved.add(product.idx)
        year = at.year
        self._seq[f"INV/{year}"] += 1
        due = at.date() + timedelta(days=30 if payment == "credit" else 0)
        invoice = self.create("account.move", {
            "name": f"INV/{year}/{self._seq[f'INV/{year}']:05d}", "move_type": "out_invoice",
            "partner_id": order["partner_id"], "invoice_origin": order["name"], "ref": False,
            "invoice_date": at.date().isoformat(), "invoice_date_due": due.isoformat(),
            "date": at.date().isoformat(), "amount_untaxed": order["amount_untaxed"],
            "amount_tax": order["amount_tax"], "amount_total": order["amount_total"],
            "amount_residual": order["amount_total"], "currency_id": CURRENCY, "state": "posted",
            "payment_state": "not_paid",
        }, at, p, order_id)
        invoice["display_name"] = invoice["name"]
        self.write("sale.order", so_id, {"invoice_status": "invoiced",
                                         "invoice_ids": [*order["invoice_ids"], invoice["id"]]}, at)
        partner = self.odoo["res.partner"][order["partner_id"][0]]
        # Odoo raises the partner's customer_rank each time one of its invoices is posted.
        self.write("res.partner", partner["id"], {"customer_rank": partner["customer_rank"] + 1}, at)
        if payment == "cash":
            self.write("account.move", invoice["id"], {"amount_residual": 0.0, "payment_state": "paid"},
                       at + timedelta(minutes=1))
        elif payment == "card":
            self.write("account.move", invoice["id"], {"amount_residual": 0.0, "payment_state": "in_payment"},
                       at + timedelta(minutes=1))
            calendar.schedule(calendar.workday(day, rng.randint(1, 3)), self._on_reconcile, invoice["id"])
        elif payment == "cod":
            calendar.schedule(calendar.workday(day, 1), self._on_payment, p, invoice["id"], 1.0)
        else:
            late = rng.random() < 0.1
            wait = 30 + (rng.randint(30, 70) if late else round(rng.gauss(0, 8)))
            if rng.random() < 0.15:
                calendar.schedule(calendar.workday(day, max(1, wait - rng.randint(5, 15))), self._on_payment, p,
                                  invoice["id"], rng.uniform(0.4, 0.6))
            calendar.schedule(calendar.workday(day, max(1, wait)), self._on_payment, p, invoice["id"], 1.0)
        return invoice

    def _on_payment(self, day: int, p: Person, move_id: int, share: float) -> None:
        """A payment arrives: all that is still owed (``share`` 1.0) or part of the invoice."""
        move = self.odoo["account.move"][move_id]
        if move["payment_state"] not in ("not_paid", "partial"):
            return
        due = date.fromisoformat(move["invoice_date_due"])
        if self._calendar.date(day) > due + timedelta(days=15):
            p.engagement *= 0.85  # chased for a late payment: the relationship cools
        residual = 0.0 if share >= 1.0 else round(move["amount_total"] * (1 - share), 2)
        state = "in_payment" if residual == 0.0 else "partial"
        self.write("account.move", move_id, {"amount_residual": residual, "payment_state": state},
                   self._calendar.moment(day))
        if state == "in_payment":
            calendar = self._calendar
            calendar.schedule(calendar.workday(day, self._rng.randint(1, 3)), self._on_reconcile, move_id)

    def _on_reconcile(self, day: int, move_id: int) -> None:
        """The bank statement is matched: Odoo moves the invoice from in_payment to paid."""
        self.write("account.move", move_id, {"payment_state": "paid"}, self._calendar.moment(day))

    # ------------------------------------------------------------------ products and stock

    def add_product(self, product: Product, at: datetime) -> None:
        record = self.create("product.product", {
            "name": product.name, "display_name": f"[{product.sku}] {product.name}",
            "default_code": product.sku, "list_price": float(product.price),
            "standard_price": product.cost, "qty_available": product.on_hand, "type": "product",
            "categ_id": [CATEGORY_IDS[product.category], f"All / {product.category}"],
            "uom_id": [1, "Units"], "barcode": False, "active": True,
        }, at)
        product.odoo_id = record["id"]
        quant = self.create("stock.quant", {
            "product_id": self.m2o("product.product", record["id"]), "location_id": STOCK_LOCATION,
            "warehouse_id": WAREHOUSE, "quantity": product.on_hand, "reserved_quantity": 0.0, "lot_id": False,
            "in_date": odoo_ts(at),
        }, at)
        product.quant_id = quant["id"]

    def write_stock(self, product: Product, at: datetime) -> None:
        """The product's quant as the day left it (on hand, reserved)."""
        self.write("stock.quant", product.quant_id,
                   {"quantity": product.on_hand, "reserved_quantity": max(0.0, product.reserved)}, at)
        # qty_available is computed in Odoo: it changes without touching the product's write_date.
        self.odoo["product.product"][product.odoo_id]["qty_available"] = product.on_hand

    def set_price(self, product: Product, at: datetime) -> None:
        self.write("product.product", product.odoo_id, {"list_price": float(product.price)}, at)

    # ------------------------------------------------------------------ a normal day's edits

    def daily_edits(self, day: int) -> None:
        """Now and then the staff fix a partner's mobile number."""
        rng = self._rng
        partners = self._records.ids["odoo/res.partner"]
        for _ in range(self._calendar.poisson(len(partners) * 0.0015)):
            pid = rng.choice(partners)
            person = self._population.person(self._records.owner("odoo", "res.partner", pid))
            self.write("res.partner", pid, {"mobile": messy.phone(rng, person.mobile)}, self._calendar.moment(day))
