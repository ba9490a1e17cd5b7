"""The ERP's writer: what the business's staff record in Odoo, in Odoo 17's wire shapes.

Partners typed in by the staff, products and their stock, sale orders (phone and counter sales,
quotes for businesses that are confirmed or cancelled, web orders and won deals keyed in by hand
from the shop and the CRM), deliveries with their invoices, and payments: on the spot, by card
(reconciled with the bank a few days later), cash on delivery, or on 30-day terms, sometimes late
and sometimes in two parts. Sale orders can be found again by ``client_order_ref`` (with or
without the shop's ``#``) and ``origin``, as a person searching the ERP finds them.

The same writer records what comes in through the external API (``puente.simulators.odoo``):
partners and draft sale orders created by a client, confirmations (stock reserved at once, as
Odoo's ``action_confirm`` does), cancellations (reservations released, draft invoices cancelled)
and the draft invoices of the invoicing wizard. Amounts are computed in one place for both: each
line ``price_unit × quantity × (1 − discount/100)`` plus its taxes rounded per line (Odoo's default
``round_per_line``), the order the sum of its lines. The ERP ships with its reference data
(country, Colombian identification types, the IVA sales taxes) and a shipping service product,
``ENVIO``, which people put on orders whose customer paid for delivery. For a company in
Colombia each posted invoice is sent to the DIAN (``_send_to_dian``): ``l10n_co_dian_state`` and,
once accepted, the CUFE, with answers drawn from a random stream of their own.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from datetime import date, datetime, timedelta

from puente.simulators.business import messiness as messy
from puente.simulators.business.assortment import SHIPPING_PRICE, SHIPPING_SKU, VAT_RATE, Assortment
from puente.simulators.business.calendar import DAY_END, DAY_START, Calendar
from puente.simulators.business.population import Person, Population
from puente.simulators.business.records import BOGOTA, Records, odoo_ts
from puente.simulators.catalogue import BASE_ITEMS, Product
from puente.simulators.colombia import nit_check_digit

COUNTRY = [49, "Colombia"]
CURRENCY = [8, "COP"]
STOCK_LOCATION = [8, "WH/Stock"]
WAREHOUSE = [1, "Casa Andina"]  # the one warehouse (Odoo names the first after the company)
SALESPERSON = [2, "Administrador"]
CATEGORY_IDS = {category: n + 1 for n, (_, category, _) in enumerate(BASE_ITEMS)}
ID_TYPE_VAT = [1, "VAT"]  # l10n_latam_base's generic type: Odoo's default for a new partner
ID_TYPE_NIT = [4, "NIT"]
ID_TYPE_CEDULA = [3, "Cédula de ciudadanía"]
ID_TYPE_EXTERNAL = [7, "ID del Exterior"]  # l10n_co's id of a person abroad (DIAN's foreign document)
IVA = 1  # account.tax: the general IVA rate, every product's sales tax
# Read-only reference data, with the ids a Colombian Odoo (l10n_co) has: (id, values).
COUNTRIES = ((49, {"name": "Colombia", "code": "CO", "phone_code": 57, "vat_label": "NIT", "currency_id": CURRENCY}),
             (10, {"name": "Argentina", "code": "AR", "phone_code": 54, "vat_label": "CUIT", "currency_id": [19, "ARS"]}),
             (46, {"name": "Chile", "code": "CL", "phone_code": 56, "vat_label": "RUT", "currency_id": [45, "CLP"]}),
             (156, {"name": "México", "code": "MX", "phone_code": 52, "vat_label": "RFC", "currency_id": [33, "MXN"]}),
             (31, {"name": "Brasil", "code": "BR", "phone_code": 55, "vat_label": "CNPJ", "currency_id": [6, "BRL"]}))
# (the foreign countries, for the few customers from abroad: Odoo's ids; the currencies' ids are
# this simulator's, res.currency not being served)
COUNTRY_IDS = {values["code"]: [cid, values["name"]] for cid, values in COUNTRIES}
ID_TYPES = (  # l10n_latam_base's generic VAT and l10n_co's identification types
    (1, {"name": "VAT", "is_vat": True, "country_id": False, "l10n_co_document_code": False}),
    (3, {"name": "Cédula de ciudadanía", "is_vat": False, "country_id": COUNTRY,
         "l10n_co_document_code": "national_citizen_id"}),
    (4, {"name": "NIT", "is_vat": True, "country_id": COUNTRY, "l10n_co_document_code": "rut"}),
    (5, {"name": "Cédula de extranjería", "is_vat": False, "country_id": COUNTRY,
         "l10n_co_document_code": "foreign_id_card"}),
    (6, {"name": "Pasaporte", "is_vat": False, "country_id": COUNTRY, "l10n_co_document_code": "passport"}),
    (7, {"name": "ID del Exterior", "is_vat": False, "country_id": COUNTRY, "l10n_co_document_code": "external_id"}),
)
TAXES = ((IVA, {"name": "IVA 19%", "amount": VAT_RATE * 100, "amount_type": "percent", "type_tax_use": "sale",
                "price_include": False}),
         (2, {"name": "IVA 5%", "amount": 5.0, "amount_type": "percent", "type_tax_use": "sale",
              "price_include": False}))
# DIAN electronic invoicing (Odoo 17's l10n_co_dian, for a company in Colombia): what the DIAN
# answers when a posted invoice is sent (account.move.l10n_co_dian_state), by share. Most are
# accepted at once; a pending one is validated a workday or two later; a rejected one (a
# customer's NIT or address the DIAN refuses, a numbering range used up) waits for the accountant
# to fix it and send it again; a failed sending (the DIAN's web service down) is retried the next
# workday. Some rejected ones stay unfixed for weeks, as in life.
DIAN_ANSWERS = (("invoice_accepted", 0.90), ("invoice_pending", 0.05), ("invoice_rejected", 0.04),
                ("invoice_sending_failed", 0.01))
DIAN_PENDING_DAYS = (1, 2)
DIAN_RESEND_DAYS = (1, 6)
DIAN_LEFT_REJECTED = 0.2  # of the rejected: nobody fixes them for a month or more
DIAN_FORGOTTEN_DAYS = (30, 90)
# What the DIAN says, as l10n_co_dian keeps it in a document's message_json: the answer's
# StatusDescription and each ErrorMessage string ("Regla: <rule>, Rechazo: <what it refused>", the
# DIAN's validation rules of its technical annex; the wording here is the simulation's). The
# pending and failed ones are Odoo's own texts (it says them, not the DIAN).
DIAN_STATUS = {"invoice_accepted": "Procesado Correctamente.",
               "invoice_rejected": "Documento con errores en campos mandatorios.",
               "invoice_pending": "Invoice is being processed by the DIAN.",
               "invoice_sending_failed": "The DIAN server did not respond."}
DIAN_REJECTIONS = (
    ("Regla: FAK24, Rechazo: El NIT {vat} del adquiriente no está inscrito en el RUT o su dígito de "
     "verificación no corresponde.",),
    ("Regla: FAJ43b, Rechazo: El nombre del adquiriente no corresponde al registrado en el RUT para el NIT "
     "informado.",),
    ("Regla: FAB05b, Rechazo: El número de la factura no está dentro del rango de numeración autorizado.",
     "Regla: FAB07b, Rechazo: La fecha de emisión es posterior a la vigencia de la autorización de numeración."),
    ("Regla: FAK51, Rechazo: El código de municipio de la dirección del adquiriente no existe en la "
     "codificación DIVIPOLA.",),
)
COMPANY_NIT = f"901234567{nit_check_digit('901234567')}"  # the company's own NIT with its DV, in every CUFE
# A clerk retyping a web order for a customer the ERP does not know yet:
NAME_TYPO_SHARE = 0.2  # slips a typo into the name
NOTE_TAX_ID_COPIED = 0.5  # copies the tax id the customer left in the shop's note (else: none)


class OdooWriter:
    """Creates and changes Odoo records in ``records.odoo`` the way the business's staff do."""

    def __init__(self, rng: random.Random, records: Records, calendar: Calendar, assortment: Assortment,
                 population: Population, dian: random.Random | None = None):
        self._rng = rng
        # The DIAN's answers, drawn from a stream of their own (the rest of the business stays as
        # it is without them); None when the company is not Colombian (no l10n_co_dian).
        self._dian = dian
        self._records = records
        self._calendar = calendar
        self._assortment = assortment
        self._population = population
        self.odoo = records.odoo
        self._seq: Counter[str] = Counter()  # ids per model, and the numbering of orders and invoices
        self._partner_by_email: dict[str, int] = {}
        self._shop_customer_partner: dict[int, int] = {}  # the partner a clerk used for a shop customer
        # sale orders by client_order_ref and by origin (the first one, as a search by it finds)
        self._orders_by: dict[str, dict[str, int]] = {"client_order_ref": {}, "origin": {}}
        self.shipping_product_id = 0  # the ENVIO service, once the reference data is in

    # ------------------------------------------------------------------ records

    def create(self, model: str, values: dict, at: datetime, person: Person | None = None,
               order_id: str | None = None) -> dict:
        self._seq[model] += 1
        rid = self._seq[model]
        stamp = odoo_ts(at)
        record = {"id": rid, **values, "create_date": stamp, "write_date": stamp}
        self._index(model, record)
        return self._records.add("odoo", model, rid, record, person.id if person else None, order_id)

    def write(self, model: str, rid: int, values: dict, at: datetime, *, bump: bool = True) -> dict:
        """Change a record at ``at``. Each record's history only moves forward: a write stamped at or
        before the last one moves one second on (``bump``), or, for the writes of one API call
        (``bump=False``), shares the last stamp, as one Odoo transaction stamps every write alike."""
        record = self.odoo[model][rid]
        stamp = odoo_ts(at)
        if stamp <= record["write_date"]:
            stamp = (odoo_ts(datetime.fromisoformat(record["write_date"]) + timedelta(seconds=1)) if bump
                     else record["write_date"])
        record.update(values)
        record["write_date"] = stamp
        self._index(model, record)
        self._records.track("odoo", model, rid)
        return record

    def claim(self, model: str, rid: int, person_id: str, order_id: str | None) -> None:
        """Record in the ground truth whose a record created through the API is (the real person
        and order it turned out to be for)."""
        self._records.truth[("odoo", model, rid)] = (person_id, order_id)

    def _index(self, model: str, record: dict) -> None:
        if model == "sale.order":
            for field, orders in self._orders_by.items():
                if record.get(field):
                    orders.setdefault(order_key(record[field]), record["id"])

    def find_order(self, field: str, value: str) -> dict | None:
        """The first sale order whose ``field`` (``client_order_ref`` or ``origin``) is ``value``,
        with or without the shop's ``#``: a person looking an order up types the number either way."""
        rid = self._orders_by[field].get(order_key(value))
        return self.odoo["sale.order"][rid] if rid is not None else None

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
            "vat": vat, "l10n_latam_identification_type_id": _id_type(p),
            "street": messy.address(p, "odoo", messy.ERP_ADDRESS_SHARE) or False, "city": p.city, "zip": False,
            "country_id": COUNTRY_IDS[p.country],
            "lang": "es_CO", "customer_rank": 0, "supplier_rank": 0, "active": True, "ref": False,
            "is_blacklisted": False,
        }, at, p)
        p.odoo_partner_id = record["id"]
        if email:
            self._partner_by_email.setdefault(email.lower(), record["id"])
        return record["id"]

    def clerk_partner(self, customer: dict, owner: Person, at: datetime) -> tuple[int, list[str]]:
        """The partner a clerk retyping a web order books it under, and the mistakes made.

        The one they used for that shop customer before, else a partner with the order's email
        (a relative's, when a family shares one mailbox), else a new one typed from the shop
        order: the name as the customer typed it, sometimes with a typo, and the tax id the ERP
        requires for invoicing usually missing (the shop rarely has it).
        """
        linked = self._shop_customer_partner.get(customer["id"])
        if linked is not None:
            return linked, []
        email = (customer.get("email") or "").strip().lower()
        partner_id = self._partner_by_email.get(email) if email else None
        mistakes: list[str] = []
        if partner_id is None:
            rng = self._rng
            company = (customer.get("default_address") or {}).get("company")
            name = company or f"{customer['first_name'] or ''} {customer['last_name'] or ''}".strip()
            if rng.random() < NAME_TYPO_SHARE:
                name = messy.typo(rng, name)
                mistakes.append("typo in the customer's name")
            note = customer.get("note")
            vat = note.split(" ", 1)[1] if note and rng.random() < NOTE_TAX_ID_COPIED else False
            if not vat:
                mistakes.append("no tax id")
            record = self.create("res.partner", {
                "name": name, "display_name": name, "is_company": bool(company),
                "company_type": "company" if company else "person", "email": customer.get("email") or False,
                "phone": customer.get("phone") or False, "mobile": False, "vat": vat,
                "l10n_latam_identification_type_id": (ID_TYPE_NIT if company else ID_TYPE_CEDULA) if owner.country == "CO"
                else _id_type(owner),
                "street": (customer.get("default_address") or {}).get("address1") or False, "city": owner.city, "zip": False,
                "country_id": COUNTRY_IDS[owner.country], "lang": "es_CO",
                "customer_rank": 0, "supplier_rank": 0, "active": True, "ref": False, "is_blacklisted": False,
            }, at, owner)
            partner_id = record["id"]
            if owner.odoo_partner_id is None:
                owner.odoo_partner_id = partner_id
            if email:
                self._partner_by_email[email] = partner_id
        self._shop_customer_partner[customer["id"]] = partner_id
        return partner_id, mistakes

    def new_partner(self, values: dict, at: datetime) -> dict:
        """A partner created through the API: ``values`` (many2one as ids) over Odoo's defaults.
        Staff retyping a web order later find it by its email, as they find any partner."""
        record = {"name": values["name"], "is_company": False, "company_type": "person", "email": False,
                  "phone": False, "mobile": False, "vat": False, "l10n_latam_identification_type_id": ID_TYPE_VAT,
                  "street": False, "city": False, "zip": False, "country_id": False, "lang": "es_CO",
                  "customer_rank": 0, "supplier_rank": 0, "active": True, "ref": False,
                  "is_blacklisted": False}
        record.update(self.relational("res.partner", values))
        record["display_name"] = record["name"]
        created = self.create("res.partner", record, at)
        if created["email"]:
            self._partner_by_email.setdefault(created["email"].strip().lower(), created["id"])
        return created

    def relational(self, model: str, values: dict) -> dict:
        """API values with their many2one ids as Odoo serves them back: ``[id, "display name"]``."""
        targets = {("res.partner", "country_id"): "res.country",
                   ("res.partner", "l10n_latam_identification_type_id"): "l10n_latam.identification.type",
                   ("sale.order", "partner_id"): "res.partner"}
        return {k: (self.m2o(targets[model, k], v) if (model, k) in targets and v else v) for k, v in values.items()}

    def claim_partner(self, partner_id: int, p: Person) -> None:
        """A partner created through the API turned out to be ``p``'s (the first order it was used for
        is theirs): the ground truth says so, and the staff use it for ``p`` from now on."""
        if ("odoo", "res.partner", partner_id) not in self._records.truth:
            self.claim("res.partner", partner_id, p.id, None)
            if p.odoo_partner_id is None:
                p.odoo_partner_id = partner_id

    # ------------------------------------------------------------------ sales

    def line_values(self, product_id: int, qty: float, price: float, discount: float = 0.0,
                    name: str | None = None, tax_ids: list[int] | None = None) -> dict:
        """The values of one order line (before amounts): the product's name and taxes by default."""
        product = self.odoo["product.product"][product_id]
        return {"product_id": product_id, "name": name or product["display_name"], "product_uom_qty": float(qty),
                "price_unit": float(price), "discount": float(discount),
                "tax_id": list(product["taxes_id"] if tax_ids is None else tax_ids)}

    def line_amounts(self, qty: float, price: float, discount: float, tax_ids: list[int]) -> tuple[float, float]:
        """A line's subtotal and tax: ``price × qty × (1 − discount/100)``, tax rounded per line."""
        subtotal = round(price * qty * (1 - discount / 100), 2)
        rate = sum(self.odoo["account.tax"][t]["amount"] for t in tax_ids) / 100
        return subtotal, round(subtotal * rate, 2)

    def new_order(self, header: dict, lines: list[dict], at: datetime, p: Person | None = None,
                  order_id: str | None = None) -> dict:
        """A sale order (numbered from the ERP's sequence) with its lines; ``header`` holds the
        partner id, state, client reference, origin and optionally warehouse and order date."""
        self._seq["sale.order.name"] += 1
        state = header.get("state", "draft")
        order = self.create("sale.order", {
            "name": header.get("name") or f"S{self._seq['sale.order.name']:05d}",
            "partner_id": self.m2o("res.partner", header["partner_id"]),
            "date_order": header.get("date_order") or odoo_ts(at), "state": state, "amount_untaxed": 0.0,
            "amount_tax": 0.0, "amount_total": 0.0, "currency_id": CURRENCY,
            "client_order_ref": header.get("client_order_ref") or False, "origin": header.get("origin") or False,
            "invoice_status": "to invoice" if state == "sale" else "no", "user_id": SALESPERSON,
            "order_line": [], "invoice_ids": [], "warehouse_id": WAREHOUSE,
        }, at, p, order_id)
        order["display_name"] = order["name"]
        for values in lines:
            self._new_line(order, values, at, p, order_id)
        order.update(self._totals(order))  # computed in the same create
        return order

    def add_line(self, order: dict, values: dict, at: datetime) -> None:
        """An API ``(0, 0, values)`` on an existing order: amounts follow."""
        self._new_line(order, values, at, None, None)
        self._sum_lines(order, at)

    def _new_line(self, order: dict, values: dict, at: datetime, p: Person | None, order_id: str | None) -> dict:
        subtotal, tax = self.line_amounts(values["product_uom_qty"], values["price_unit"], values["discount"],
                                          values["tax_id"])
        line = self.create("sale.order.line", {
            "order_id": [order["id"], order["name"]],
            "product_id": self.m2o("product.product", values["product_id"]), "name": values["name"],
            "product_uom_qty": values["product_uom_qty"], "qty_delivered": 0.0, "qty_invoiced": 0.0,
            "price_unit": values["price_unit"], "discount": values["discount"], "tax_id": values["tax_id"],
            "price_subtotal": subtotal, "price_tax": tax, "price_total": round(subtotal + tax, 2),
        }, at, p, order_id)
        order["order_line"].append(line["id"])
        return line

    def update_line(self, order: dict, line_id: int, values: dict, at: datetime) -> None:
        """An API write on one line (``(1, id, values)``): amounts follow."""
        line = {**self.odoo["sale.order.line"][line_id], **values}
        subtotal, tax = self.line_amounts(line["product_uom_qty"], line["price_unit"], line["discount"],
                                          line["tax_id"])
        if "product_id" in values:
            values["product_id"] = self.m2o("product.product", values["product_id"])
        self.write("sale.order.line", line_id, {**values, "price_subtotal": subtotal, "price_tax": tax,
                                                "price_total": round(subtotal + tax, 2)}, at, bump=False)
        self._sum_lines(order, at)

    def remove_line(self, order: dict, line_id: int, at: datetime) -> None:
        """An API ``(2, id, 0)``: the line is deleted (gone from every answer, as ``unlink`` does)."""
        order["order_line"].remove(line_id)
        self._records.deleted.add(("odoo", "sale.order.line", line_id))
        self._sum_lines(order, at)

    def _totals(self, order: dict) -> dict:
        lines = [self.odoo["sale.order.line"][i] for i in order["order_line"]]
        untaxed = round(sum(line["price_subtotal"] for line in lines), 2)
        tax = round(sum(line["price_tax"] for line in lines), 2)
        return {"amount_untaxed": untaxed, "amount_tax": tax, "amount_total": round(untaxed + tax, 2)}

    def _sum_lines(self, order: dict, at: datetime) -> None:
        """The order's amounts after an API change of its lines (written in the same call)."""
        self.write("sale.order", order["id"], self._totals(order), at, bump=False)

    def sale_order(self, p: Person, order_id: str, partner_id: int, at: datetime,
                   lines: list[tuple[int, int]], state: str, client_order_ref: str | bool,
                   origin: str | bool, prices: dict[int, float] | None = None,
                   discounts: dict[int, float] | None = None, shipping: float = 0.0) -> dict:
        """A sale order of ``lines`` (product index, quantity) at the list prices, or at ``prices``
        (by product index) where given, with ``discounts`` (percent, by product index) and a
        shipping line when ``shipping`` is charged; confirmed (``state`` "sale") it reserves the goods."""
        products = self._assortment.products
        values = [self.line_values(products[idx].odoo_id, qty, (prices or {}).get(idx, products[idx].price),
                                   (discounts or {}).get(idx, 0.0)) for idx, qty in lines]
        if shipping:
            values.append(self.line_values(self.shipping_product_id, 1, shipping))
        order = self.new_order({"partner_id": partner_id, "state": state, "client_order_ref": client_order_ref,
                                "origin": origin}, values, at, p, order_id)
        if state == "sale":
            self._reserve(order, at, write_quants=False)
        return order

    def order(self, p: Person, day: int, order_id: str, at: datetime, origin: str | bool,
              lines: list[tuple[int, int]] | None = None, discounts: dict[int, float] | None = None) -> dict:
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
        order = self.sale_order(p, order_id, partner_id, at, lines, "sale", False, origin, discounts=discounts)
        if p.kind == "company":
            self.schedule_delivery(p, day, order["id"])
        else:  # counter sale: goods leave at once, paid on the spot
            self.deliver(p, day, order["id"], at + timedelta(minutes=rng.randint(2, 10)), "cash")
        return order

    def schedule_delivery(self, p: Person, day: int, so_id: int) -> None:
        """A business customer's confirmed order leaves one to three workdays later, on 30-day terms."""
        calendar = self._calendar
        calendar.schedule(calendar.workday(day, self._rng.randint(1, 3)), self._on_deliver, p, so_id, "credit")

    def confirm(self, so_id: int, at: datetime, *, api: bool = False) -> dict:
        """Confirm a quotation: state ``sale``, the goods reserved. Through the API (``api``) the
        order date becomes the confirmation time and the quants are written at once, as Odoo's
        ``action_confirm`` does in its transaction; the staff's confirmations reach the quants at
        the day's close."""
        values = {"state": "sale", "invoice_status": "to invoice"}
        if api:
            values["date_order"] = odoo_ts(at)
        order = self.write("sale.order", so_id, values, at, bump=not api)
        self._reserve(order, at, write_quants=api)
        return order

    def _on_confirm(self, day: int, p: Person, so_id: int) -> None:
        self.confirm(so_id, self._calendar.moment(day))
        self.schedule_delivery(p, day, so_id)

    def _on_cancel_quote(self, day: int, p: Person, so_id: int) -> None:
        self.write("sale.order", so_id, {"state": "cancel", "invoice_status": "no"}, self._calendar.moment(day))
        p.engagement *= 0.8

    def cancel(self, so_id: int, at: datetime, *, api: bool = False) -> None:
        """Cancel an order: what a confirmed order still holds reserved is released (at once in the
        quants when done through the API) and its draft invoices are cancelled; posted ones stay."""
        order = self.odoo["sale.order"][so_id]
        was_confirmed = order["state"] == "sale"
        self.write("sale.order", so_id, {"state": "cancel", "invoice_status": "no"}, at, bump=not api)
        for move_id in order["invoice_ids"]:
            if self.odoo["account.move"][move_id]["state"] == "draft":
                self.write("account.move", move_id, {"state": "cancel"}, at, bump=not api)
        if was_confirmed:
            self._reserve(order, at, write_quants=api, sign=-1)

    def _reserve(self, order: dict, at: datetime, *, write_quants: bool, sign: int = 1) -> None:
        """Reserve (``sign`` 1) or release (-1) the goods still to deliver on the order's lines."""
        for line_id in order["order_line"]:
            line = self.odoo["sale.order.line"][line_id]
            product = self._product_of(line)
            if product is None:
                continue
            product.reserved += sign * (line["product_uom_qty"] - line["qty_delivered"])
            self._assortment.stock_moved.add(product.idx)
            if write_quants:
                self.write_stock(product, at, bump=False)

    def delivered(self, order: dict) -> bool:
        """Whether every line of the order has left the warehouse."""
        return all(self.odoo["sale.order.line"][i]["qty_delivered"] >= self.odoo["sale.order.line"][i]["product_uom_qty"]
                   for i in order["order_line"])

    def _on_deliver(self, day: int, p: Person, so_id: int, payment: str) -> None:
        self.deliver(p, day, so_id, self._calendar.moment(day), payment)

    def _product_of(self, line: dict) -> Product | None:
        return self._assortment.by_odoo_id(line["product_id"][0])

    def deliver(self, p: Person, day: int, so_id: int, at: datetime, payment: str) -> dict:
        """Goods leave the warehouse; the ERP posts the invoice and books or plans its payment.

        The invoice is the order's own: a draft one (made with the invoicing wizard) is posted, a
        posted one is kept, and only an order without any gets a new one. ``payment``: ``cash``
        (paid on the spot), ``card`` (paid online, reconciled with the bank a few days later),
        ``cod`` (cash on delivery) or ``credit`` (B2B terms, 30 days).
        """
        rng, calendar = self._rng, self._calendar
        order = self.odoo["sale.order"][so_id]
        to_invoice: dict[int, float] = {}
        for line_id in order["order_line"]:
            line = self.odoo["sale.order.line"][line_id]
            qty = line["product_uom_qty"]
            product = self._product_of(line)
            if product is not None:
                product.on_hand -= qty - line["qty_delivered"]
                product.reserved -= qty - line["qty_delivered"]
                self._assortment.stock_moved.add(product.idx)
            if line["qty_invoiced"] < qty:
                to_invoice[line_id] = qty - line["qty_invoiced"]
            self.write("sale.order.line", line_id, {"qty_delivered": qty, "qty_invoiced": qty}, at)
        due = at.date() + timedelta(days=30 if payment == "credit" else 0)
        invoices = [self.odoo["account.move"][i] for i in order["invoice_ids"]]
        posted = next((m for m in invoices if m["state"] == "posted"), None)
        draft = next((m for m in invoices if m["state"] == "draft"), None)
        if posted is not None:
            invoice = posted
        elif draft is not None:
            invoice = self.post_invoice(draft["id"], at, due)
        else:
            invoice = self._new_invoice(order, to_invoice, at, due)
        self.write("sale.order", so_id, {"invoice_status": "invoiced",
                                         "invoice_ids": list(dict.fromkeys([*order["invoice_ids"], invoice["id"]]))},
                   at)
        if invoice["payment_state"] != "not_paid":
            return invoice
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

    def _new_invoice(self, order: dict, quantities: dict[int, float], at: datetime, due: date | None = None) -> dict:
        """A customer invoice for ``quantities`` (by order line) of ``order``, as Odoo's
        ``_prepare_invoice`` fills it: a draft (name ``/``, no invoice date) or, with ``due``, posted
        at once with its number. The caller marks the lines and the order invoiced."""
        lines = self.odoo["sale.order.line"]
        amounts = [self.line_amounts(qty, lines[i]["price_unit"], lines[i]["discount"], lines[i]["tax_id"])
                   for i, qty in quantities.items()]
        untaxed = round(sum(a[0] for a in amounts), 2)
        tax = round(sum(a[1] for a in amounts), 2)
        truth = self._records.truth.get(("odoo", "sale.order", order["id"]))
        invoice = self.create("account.move", {
            "name": "/", "display_name": "/", "move_type": "out_invoice", "partner_id": order["partner_id"],
            "invoice_origin": order["name"], "ref": order["client_order_ref"], "invoice_date": False,
            "invoice_date_due": at.date().isoformat(), "date": at.date().isoformat(), "amount_untaxed": untaxed,
            "amount_tax": tax, "amount_total": round(untaxed + tax, 2), "amount_residual": round(untaxed + tax, 2),
            "currency_id": CURRENCY, "state": "draft", "payment_state": "not_paid",
        }, at)
        if truth is not None:
            self.claim("account.move", invoice["id"], *truth)
        if due is not None:
            invoice.update(self._posting(at, due))
            self._raise_rank(invoice, at)
            self._send_to_dian(invoice, at)
        return invoice

    def invoice_draft(self, so_id: int, at: datetime) -> dict | None:
        """The invoicing wizard on one confirmed order (regular invoice): a draft invoice for what is
        not invoiced yet, or None when nothing is left to invoice (products are invoiced on ordered
        quantities, so a confirmed order can be invoiced before it ships)."""
        order = self.odoo["sale.order"][so_id]
        lines = self.odoo["sale.order.line"]
        pending = {i: lines[i]["product_uom_qty"] - lines[i]["qty_invoiced"] for i in order["order_line"]
                   if lines[i]["qty_invoiced"] < lines[i]["product_uom_qty"]}
        if order["state"] != "sale" or not pending:
            return None
        invoice = self._new_invoice(order, pending, at)
        for line_id in pending:
            self.write("sale.order.line", line_id, {"qty_invoiced": lines[line_id]["product_uom_qty"]}, at, bump=False)
        self.write("sale.order", so_id, {"invoice_ids": [*order["invoice_ids"], invoice["id"]],
                                         "invoice_status": "invoiced"}, at, bump=False)
        return invoice

    def _posting(self, at: datetime, due: date) -> dict:
        """What posting gives an invoice: its number (the sequence of its year) and dates."""
        year = at.year
        self._seq[f"INV/{year}"] += 1
        name = f"INV/{year}/{self._seq[f'INV/{year}']:05d}"
        return {"name": name, "display_name": name, "invoice_date": at.date().isoformat(),
                "invoice_date_due": due.isoformat(), "date": at.date().isoformat(), "state": "posted"}

    def _raise_rank(self, invoice: dict, at: datetime) -> None:
        # Odoo raises the partner's customer_rank each time one of its invoices is posted.
        partner = self.odoo["res.partner"][invoice["partner_id"][0]]
        self.write("res.partner", partner["id"], {"customer_rank": partner["customer_rank"] + 1}, at)

    def post_invoice(self, move_id: int, at: datetime, due: date) -> dict:
        """The accountant posts a draft invoice (one the invoicing wizard made)."""
        invoice = self.write("account.move", move_id, self._posting(at, due), at)
        self._raise_rank(invoice, at)
        self._send_to_dian(invoice, at)
        return invoice

    # ------------------------------------------------------------------ DIAN electronic invoicing

    def _send_to_dian(self, invoice: dict, at: datetime) -> None:
        """Send & Print on a posted invoice: the DIAN's answer lands in ``l10n_co_dian_state`` (the
        CUFE in ``l10n_co_edi_cufe_cude_ref`` only once accepted, as l10n_co_dian computes both
        from the invoice's latest DIAN document), a minute after posting."""
        if self._dian is None:
            return
        rng, day = self._dian, (at.date() - self._calendar.go_live).days
        draw, answer = rng.random(), DIAN_ANSWERS[-1][0]
        for state, share in DIAN_ANSWERS:
            if draw < share:
                answer = state
                break
            draw -= share
        self._dian_answer(invoice["id"], answer, at + timedelta(minutes=1))
        calendar = self._calendar
        if answer == "invoice_pending":
            calendar.schedule(calendar.workday(day, rng.randint(*DIAN_PENDING_DAYS)), self._on_dian_validated,
                              invoice["id"])
        elif answer == "invoice_sending_failed":
            calendar.schedule(calendar.workday(day, 1), self._on_dian_resent, invoice["id"])
        elif answer == "invoice_rejected":
            days = DIAN_FORGOTTEN_DAYS if rng.random() < DIAN_LEFT_REJECTED else DIAN_RESEND_DAYS
            wait = rng.randint(*days)
            calendar.schedule(calendar.workday(day, wait), self._on_dian_resent, invoice["id"])

    def _dian_answer(self, move_id: int, state: str, at: datetime, *, status_check: bool = False) -> None:
        """The DIAN's answer in a document of the invoice: a new one for each sending (Odoo first
        removes the rejected ones), the same one for a status check of a pending sending. The
        invoice's state and CUFE follow its latest document, as l10n_co_dian computes them."""
        move = self.odoo["account.move"][move_id]
        documents = list(move.get("l10n_co_dian_document_ids") or [])
        values = {"state": state, "identifier": _cufe(move), **_dian_message(move_id, state, self._partner_vat(move))}
        if status_check and documents:
            self.write("l10n_co_dian.document", documents[0], values, at)
        else:
            table = self.odoo["l10n_co_dian.document"]
            for rejected in [d for d in documents if table[d]["state"] == "invoice_rejected"]:
                self._records.deleted.add(("odoo", "l10n_co_dian.document", rejected))
                documents.remove(rejected)
            document = self.create("l10n_co_dian.document", {
                "move_id": self.m2o("account.move", move_id), "attachment_id": False, "zip_key": False,
                "datetime": odoo_ts(at.astimezone(BOGOTA)),  # l10n_co_dian keeps Colombian time, naive
                "test_environment": False, "certification_process": False, **values}, at)
            documents.insert(0, document["id"])
        cufe = values["identifier"] if state == "invoice_accepted" else False
        self.write("account.move", move_id, {"l10n_co_dian_state": state, "l10n_co_edi_cufe_cude_ref": cufe,
                                             "l10n_co_dian_document_ids": documents}, at)

    def _partner_vat(self, move: dict) -> str:
        partner = self.odoo["res.partner"].get(move["partner_id"][0]) if move.get("partner_id") else None
        return "".join(c for c in str((partner or {}).get("vat") or "") if c.isdigit())

    def _on_dian_validated(self, day: int, move_id: int) -> None:
        """The DIAN finishes validating a pending invoice (Odoo's status check picks it up)."""
        self._dian_answer(move_id, "invoice_accepted", self._dian_moment(day), status_check=True)

    def _on_dian_resent(self, day: int, move_id: int) -> None:
        """The accountant fixes what the DIAN refused (or the web service is back) and sends it again."""
        self._dian_answer(move_id, "invoice_accepted", self._dian_moment(day))

    def _dian_moment(self, day: int) -> datetime:
        """A moment of business hours on ``day``, drawn from the DIAN's stream."""
        assert self._dian is not None
        return self._calendar.midnight(day) + timedelta(seconds=self._dian.uniform(DAY_START, DAY_END))

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
            "uom_id": [1, "Units"], "barcode": False, "active": True, "taxes_id": [IVA], "invoice_policy": "order",
        }, at)
        product.odoo_id = record["id"]
        quant = self.create("stock.quant", {
            "product_id": self.m2o("product.product", record["id"]), "location_id": STOCK_LOCATION,
            "warehouse_id": WAREHOUSE, "quantity": product.on_hand, "reserved_quantity": 0.0, "lot_id": False,
            "in_date": odoo_ts(at),
        }, at)
        product.quant_id = quant["id"]

    def add_reference_data(self, at: datetime) -> None:
        """What the ERP holds from its installation: the country, Colombia's identification types,
        the IVA sales taxes (read-only to the API user), and the shipping service the staff (and an
        integration) put on orders whose customer paid for delivery: ``ENVIO``, not stocked."""
        stamp = odoo_ts(at)
        for model, rows in (("res.country", COUNTRIES), ("l10n_latam.identification.type", ID_TYPES),
                            ("account.tax", TAXES)):
            archivable = model != "res.country"  # countries have no archive flag
            for rid, values in rows:
                self._records.add("odoo", model, rid, {"id": rid, **values, **({"active": True} if archivable else {}),
                                                       "create_date": stamp, "write_date": stamp}, None)
        name = "Envío a domicilio"
        self.shipping_product_id = self.create("product.product", {
            "name": name, "display_name": f"[{SHIPPING_SKU}] {name}", "default_code": SHIPPING_SKU,
            "list_price": float(SHIPPING_PRICE), "standard_price": 9_000.0, "qty_available": 0.0, "type": "service",
            "categ_id": [len(CATEGORY_IDS) + 1, "All / Servicios"], "uom_id": [1, "Units"], "barcode": False,
            "active": True, "taxes_id": [IVA], "invoice_policy": "order",
        }, at)["id"]

    def write_stock(self, product: Product, at: datetime, *, bump: bool = True) -> None:
        """The product's quant as it stands (on hand; reserved, never beyond what is on hand: Odoo
        reserves what is there and leaves the rest of an order waiting)."""
        reserved = min(max(0.0, product.reserved), max(0.0, product.on_hand))
        self.write("stock.quant", product.quant_id, {"quantity": product.on_hand, "reserved_quantity": reserved},
                   at, bump=bump)
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


def _id_type(p: Person) -> list:
    """The identification type staff pick for the person's tax id: NIT or cédula for a
    Colombian; abroad, a company's id is a VAT (l10n_latam_base's generic type, which base_vat
    checks against the partner's country) and a person's l10n_co's "ID del Exterior"."""
    if p.country == "CO":
        return ID_TYPE_NIT if p.company else ID_TYPE_CEDULA
    return ID_TYPE_VAT if p.company else ID_TYPE_EXTERNAL


def _dian_message(move_id: int, state: str, vat: str) -> dict:
    """A DIAN document's ``message_json`` and the ``message`` Odoo renders from it. Which rules a
    rejected invoice broke is drawn from the invoice's id, not from the DIAN's stream (whose draws
    decide the answers themselves)."""
    from html import escape

    errors: list[str] = []
    if state == "invoice_rejected":
        choices = [r for r in DIAN_REJECTIONS if vat or "{vat}" not in r[0]]
        errors = [e.format(vat=vat) for e in random.Random(f"dian-{move_id}").choice(choices)]
    status = DIAN_STATUS[state]
    html = f"<p>{escape(status)}</p>" + (
        "<ul>" + "".join(f"<li>{escape(e)}</li>" for e in errors) + "</ul>" if errors else "")
    # Odoo's own texts (pending, failed) carry no list of errors; a parsed DIAN answer always does
    answer = {"status": status, "errors": errors} if state in ("invoice_accepted", "invoice_rejected") else \
        {"status": status}
    return {"message_json": answer, "message": html}


def _cufe(move: dict) -> str:
    """A CUFE as the DIAN's technical annex builds it: SHA-384, in hex, of the invoice's number,
    issue date, amounts and taxes, the issuer's NIT, the buyer's id, a technical key and the
    environment (1, production). The buyer's id and the key are stand-ins of the simulation."""
    fields = (move["name"], move["invoice_date"], f"{move['amount_untaxed']:.2f}", "01", f"{move['amount_tax']:.2f}",
              "04", "0.00", "03", "0.00", f"{move['amount_total']:.2f}", COMPANY_NIT, str(move["partner_id"][0]),
              "clave-tecnica-simulada", "1")
    return hashlib.sha384("".join(fields).encode()).hexdigest()


def order_key(reference: str) -> str:
    """A client reference or origin as people look it up: trimmed, the shop's ``#`` optional."""
    return reference.strip().lstrip("#").strip() if isinstance(reference, str) else ""
