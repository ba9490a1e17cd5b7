"""The CRM's writer: what salespeople and web forms record in HubSpot, in CRM v3's wire shapes.

Contacts as salespeople type them (and now and then a second contact for the same person),
never two live ones with one email address: HubSpot deduplicates contacts by email (a form or an
import with a known address updates that contact, and the API answers a second one with 409
"Contact already exists"), so a relative typed in with the family's mailbox, or a person's second
contact with their address in other capitals, lands on the contact that holds it (as a family's
shop account does, ``ShopifyWriter.customer``). Each contact is owned by one of the sales team
(the portal's owners; about one in twenty left without an owner); companies for business
customers, deals that move through the pipeline stage by stage and are won or lost, with their
products as line items (a few deals have none: the salesperson did not add them), the lifecycle
stage that becomes "customer" after a first order, marketing opt-outs, and the small edits of a
normal day (a phone fixed, a stale lead deleted). Tasks are never made by the business itself:
they come through the API (``create_task``). The service team's tickets are ``ServiceDesk``'s.
"""

from __future__ import annotations

import random
import zlib
from datetime import datetime, timedelta

from puente.simulators import colombia as co
from puente.simulators.business import messiness as messy
from puente.simulators.business.calendar import MONTHS_ES, Calendar
from puente.simulators.business.population import Person, Population
from puente.simulators.business.records import Records, hubspot_ts

OPEN_DEAL_STAGES = ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
                    "decisionmakerboughtin", "contractsent")
# The sales team, as HubSpot owners: (owner id, user id, first name, last name, email, share of contacts).
OWNERS = (
    ("41629779", 9586504, "Laura", "Restrepo", "laura.restrepo@casaandina.com.co", 0.35),
    ("41629801", 9586517, "Andrés", "Quintero", "andres.quintero@casaandina.com.co", 0.30),
    ("52001344", 10244871, "Paola", "Ramírez", "paola.ramirez@casaandina.com.co", 0.20),
    ("52001390", 10244902, "Jorge", "Mejía", "jorge.mejia@casaandina.com.co", 0.15),
)
TEAM = {"id": "178588", "name": "Ventas", "primary": True}
UNOWNED_SHARE = 0.05  # contacts nobody was assigned (a web form, an imported list)
NO_LINE_ITEMS_SHARE = 0.1  # deals whose salesperson never added the products
CREATED = {"tasks": "hs_createdate"}
# "Legal basis for processing contact's data" (hs_legal_basis): the Habeas Data authorisation a
# web form or a salesperson records. Most people who accept marketing also authorise processing;
# of the others, some authorised processing without marketing, some were entered on a legitimate
# interest (a lead, an existing customer: no authorisation under Ley 1581), some have nothing
# recorded. Second contacts (a fair's list) come in as leads or with nothing. Of the people who
# unsubscribe from marketing, a share also revokes the authorisation ("Not applicable").
CONSENT_BASIS = "Freely given consent from contact"
REVOKED_BASIS = "Not applicable"
AUTHORISED_WITHOUT_MARKETING_SHARE = 0.55
LEGITIMATE_INTEREST_SHARE = 0.2
REVOKE_SHARE = 0.35  # the create-date property, where it is not "createdate"


class HubSpotWriter:
    """Creates and changes HubSpot records in ``records.hubspot`` the way the sales team does."""

    one_contact_per_email = True  # HubSpot's deduplication by email (a CRM that allows duplicates: False)

    def __init__(self, rng: random.Random, records: Records, calendar: Calendar, population: Population,
                 details: random.Random):
        self._rng = rng
        self._details = details
        self._records = records
        self._calendar = calendar
        self._population = population
        self.hubspot = records.hubspot
        self._contact_by_email: dict[str, int] = {}  # live contacts by their address in lower case
        self._ids = {"contacts": 1_000, "companies": 20_000_000_000, "deals": 30_000_000_000,
                     "line_items": 40_000_000_000, "tasks": 90_000_000_000, "tickets": 1_900_000_000}

    # ------------------------------------------------------------------ records

    def create(self, obj: str, properties: dict[str, str | None], at: datetime,
               person: Person | None, order_id: str | None = None, rng: random.Random | None = None) -> dict:
        """A new record; its id is drawn from ``rng`` (default: the writer's stream for the object)."""
        if person is None:  # made through the API: ids that need no random draw
            self._ids[obj] += 1 + self._ids[obj] * 7919 % 97
        else:
            rng = rng or (self._details if obj == "line_items" else self._rng)
            self._ids[obj] += rng.randint(1, 3) if obj == "contacts" else rng.randint(1, 900)
        rid = self._ids[obj]
        stamp = hubspot_ts(at)
        modified = "lastmodifieddate" if obj == "contacts" else "hs_lastmodifieddate"
        props = {k: v for k, v in properties.items() if v is not None}
        props.update({CREATED.get(obj, "createdate"): stamp, modified: stamp, "hs_object_id": str(rid)})
        record = {"id": str(rid), "properties": props, "createdAt": stamp, "updatedAt": stamp,
                  "archived": False}
        return self._records.add("hubspot", obj, rid, record, person.id if person else None, order_id)

    def update(self, obj: str, rid: int, properties: dict[str, str | None], at: datetime) -> dict:
        record = self.hubspot[obj][rid]
        stamp = hubspot_ts(at)
        if stamp <= record["updatedAt"]:
            stamp = hubspot_ts(datetime.fromisoformat(record["updatedAt"]) + timedelta(milliseconds=1))
        for key, value in properties.items():
            if value is None or value == "":
                record["properties"].pop(key, None)
            else:
                record["properties"][key] = value
        record["properties"]["lastmodifieddate" if obj == "contacts" else "hs_lastmodifieddate"] = stamp
        record["updatedAt"] = stamp
        self._records.track("hubspot", obj, rid)
        return record

    def archive(self, obj: str, rid: int, at: datetime) -> None:
        """Deleting archives: the record leaves lists and searches, its ``updatedAt`` unchanged."""
        record = self.hubspot[obj][rid]
        record.update(archived=True, archivedAt=hubspot_ts(at))
        email = (record["properties"].get("email") or "").lower() if obj == "contacts" else ""
        if email and self._contact_by_email.get(email) == rid:  # its address is free for a new contact
            del self._contact_by_email[email]
        self._records.track("hubspot", obj, rid)

    def associate(self, a: str, a_id: int, b: str, b_id: int) -> None:
        associations = self._records.hubspot_associations
        associations[(a, a_id)][b].append(b_id)
        associations[(b, b_id)][a].append(a_id)

    # ------------------------------------------------------------------ owners, contacts and companies

    def add_owners(self, at: datetime) -> None:
        """The sales team's HubSpot users, the owners records and tasks are assigned to."""
        stamp = hubspot_ts(at)
        self._records.hubspot_owners[:] = [
            {"id": oid, "email": email, "type": "PERSON", "firstName": first, "lastName": last, "userId": uid,
             "userIdIncludingInactive": uid, "createdAt": stamp, "updatedAt": stamp, "archived": False,
             "teams": [dict(TEAM)]} for oid, uid, first, last, email, _ in OWNERS]

    def _owner(self) -> str | None:
        """The salesperson a new contact is assigned to (now and then nobody)."""
        details = self._details
        if details.random() < UNOWNED_SHARE:
            return None
        return details.choices([o[0] for o in OWNERS], weights=[o[5] for o in OWNERS])[0]

    def contact(self, p: Person, at: datetime, lifecycle: str, duplicate: bool = False) -> dict:
        """A CRM contact as a salesperson (or a web form) typed it; the live contact that already
        holds its email address, when one does (HubSpot keeps one contact per address)."""
        rng = self._rng
        names = messy.crm_names(rng, p)
        email = messy.crm_email(rng, p.email, duplicate)
        tax_id = None
        if rng.random() < (0.6 if p.company else 0.35):
            tax_id = messy.tax_id(rng, p)
        properties = {
            "email": email, "firstname": names[0], "lastname": names[1],
            "phone": messy.phone(rng, p.mobile) if rng.random() < 0.85 else None,
            "mobilephone": messy.phone(rng, p.mobile) if rng.random() < 0.2 else None,
            "company": p.company if p.company and rng.random() < 0.9 else None,
            "city": p.city if rng.random() < 0.7 else co.strip_accents(p.city), "country": p.country_name,
            "address": messy.address(p, f"hubspot:{len(p.hubspot_contact_ids)}", messy.CRM_ADDRESS_SHARE_WEB_FORM
                                     if duplicate else messy.CRM_ADDRESS_SHARE),
            "lifecyclestage": lifecycle, "hs_marketable_status": "true" if p.consent else "false",
            "tax_id": tax_id, "hubspot_owner_id": self._owner(), "hs_legal_basis": _legal_basis(p, duplicate),
        }
        holder = self._contact_by_email.get(email.lower()) if email and self.one_contact_per_email else None
        if holder is not None:
            if holder not in p.hubspot_contact_ids:
                p.hubspot_contact_ids.append(holder)
            return self.hubspot["contacts"][holder]
        record = self.create("contacts", properties, at, p)
        p.hubspot_contact_ids.append(int(record["id"]))
        if email:
            self._contact_by_email[email.lower()] = int(record["id"])
        if p.company and not duplicate:
            company_id = self.company(p, at)
            self.associate("contacts", int(record["id"]), "companies", company_id)
        return record

    def company(self, p: Person, at: datetime) -> int:
        if p.hubspot_company_id is not None:
            return p.hubspot_company_id
        rng = self._rng
        name = messy.crm_company_name(rng, p.company or "")
        domain = p.email.split("@")[1] if p.email and p.email.endswith(".com.co") else None
        record = self.create("companies", {
            "name": name, "domain": domain, "phone": messy.phone(rng, p.landline or p.mobile),
            "city": p.city, "country": p.country_name,
        }, at, p)
        p.hubspot_company_id = int(record["id"])
        return p.hubspot_company_id

    def became_customer(self, p: Person, day: int) -> None:
        """After an order: the contact's lifecycle stage says customer (a contact is made if needed)."""
        if p.hubspot_contact_ids:
            contact = self.hubspot["contacts"][p.hubspot_contact_ids[0]]
            if contact["properties"].get("lifecyclestage") != "customer":
                self.update("contacts", p.hubspot_contact_ids[0], {"lifecyclestage": "customer"},
                            self._calendar.moment(day))
        elif p.in_crm:
            self.contact(p, self._calendar.moment(day), "customer")

    def on_duplicate(self, day: int, p: Person) -> None:
        """A second contact for the same person (a web form, an imported fair list)."""
        if p.hubspot_contact_ids:
            self.contact(p, self._calendar.moment(day), "lead", duplicate=True)
        elif p.alive:  # not in the CRM yet: the duplicate comes after the first contact
            self._calendar.schedule(day + 30, self.on_duplicate, p)

    def unsubscribe(self, p: Person, at: datetime) -> None:
        change = {"hs_marketable_status": "false"}
        if _draw(p, "revoke") < REVOKE_SHARE:
            change["hs_legal_basis"] = REVOKED_BASIS
        for cid in p.hubspot_contact_ids:
            self.update("contacts", cid, change, at)

    # ------------------------------------------------------------------ deals

    def open_deal(self, p: Person, company_id: int, amount: float, day: int, at: datetime,
                  items: list[tuple[str, str, int, int]], discount: float) -> tuple[int, int]:
        """A deal for ``amount`` (with VAT) at one of the first two stages, with ``items`` (SKU, name,
        unit price, quantity) as its line items at ``discount`` percent off (``hs_discount_percentage``;
        ``amount`` is the line's net price); (deal id, stage)."""
        month = self._calendar.date(day)
        stage = self._rng.randrange(2)
        deal = self.create("deals", {
            "dealname": f"{self.hubspot['companies'][company_id]['properties']['name']} - pedido "
                        f"{MONTHS_ES[month.month - 1]} {month.year}",
            "amount": str(int(round(amount, -4))), "dealstage": OPEN_DEAL_STAGES[stage], "pipeline": "default",
            "closedate": hubspot_ts(at + timedelta(days=20)),
        }, at, p)
        deal_id = int(deal["id"])
        self.associate("deals", deal_id, "contacts", p.hubspot_contact_ids[0])
        self.associate("deals", deal_id, "companies", company_id)
        if self._details.random() >= NO_LINE_ITEMS_SHARE:
            for sku, name, price, qty in items:
                # A percentage discount applies to the line's total (HubSpot's net price rounding).
                line = self.create("line_items", {
                    "name": name, "hs_sku": sku, "quantity": str(qty), "price": f"{price:.2f}",
                    "hs_discount_percentage": f"{discount:g}" if discount else None,
                    "amount": f"{round(price * qty * (1 - discount / 100), 2):.2f}"}, at, p)
                self.associate("line_items", int(line["id"]), "deals", deal_id)
        return deal_id, stage

    # ------------------------------------------------------------------ through the API

    def create_task(self, properties: dict[str, str | None], associations: list[tuple[str, int]],
                    at: datetime) -> dict:
        """A task a client created, with its associations (object, id) in both directions."""
        task = self.create("tasks", properties, at, None)
        for obj, rid in associations:
            self.associate("tasks", int(task["id"]), obj, rid)
        return task

    # ------------------------------------------------------------------ a normal day's edits

    def daily_edits(self, day: int) -> None:
        """Contacts fixed (a phone, the city, a tax id, a job title) and stale leads deleted."""
        rng, calendar = self._rng, self._calendar
        contacts = self._records.ids["hubspot/contacts"]
        for _ in range(calendar.poisson(len(contacts) * 0.003)):
            rid = rng.choice(contacts)
            record = self.hubspot["contacts"][rid]
            if record["archived"]:
                continue
            person = self._population.person(self._records.owner("hubspot", "contacts", rid))
            change = rng.choice((
                {"phone": messy.phone(rng, person.mobile)},
                # a move: the city, and the address when the contact had one
                {"city": person.city} | ({"address": messy.address(person, f"hubspot:{rid}:{day}")}
                                         if record["properties"].get("address") else {}),
                {"tax_id": messy.tax_id(rng, person)},
                {"jobtitle": rng.choice(("Gerente", "Compras", "Administrador", "Propietario"))},
            ))
            self.update("contacts", rid, change, calendar.moment(day))
        for _ in range(calendar.poisson(len(contacts) * 0.0004)):
            rid = rng.choice(contacts)
            record = self.hubspot["contacts"][rid]
            if not record["archived"] and record["properties"].get("lifecyclestage") == "lead":
                # A stale lead is deleted; HubSpot keeps it, archived, for 90 days.
                self.archive("contacts", rid, calendar.moment(day))


def _draw(p: Person, what: str) -> float:
    """A number in [0, 1) fixed by the person and ``what``: the authorisation choices draw from
    no shared stream, so the rest of the business stays as it was with them or without them."""
    return random.Random(zlib.crc32(f"{p.doc}:{p.id}:{what}".encode())).random()


def _legal_basis(p: Person, duplicate: bool) -> str | None:
    draw = _draw(p, f"basis:{len(p.hubspot_contact_ids)}")
    if duplicate:
        return "Legitimate interest – prospect/lead" if draw < 0.6 else None
    if p.consent or draw < AUTHORISED_WITHOUT_MARKETING_SHARE:
        return CONSENT_BASIS
    if draw < AUTHORISED_WITHOUT_MARKETING_SHARE + LEGITIMATE_INTEREST_SHARE:
        return "Legitimate interest – existing customer" if p.orders else "Legitimate interest – prospect/lead"
    return None


# ---------------------------------------------------------------------- the service desk

# What customers write in about, by category (a HubSpot category option: the defaults and the one
# the business added for deliveries), with the subjects they use; complaints are all but questions.
# `{order}` is the order's number as the customer saw it (the shop's `#1042`, the ERP's `S00042`),
# left out when they were given none (a won deal): about half the complaints cite it.
TICKET_TOPICS = {
    "DELIVERY_ISSUE": ("Mi pedido {order} no ha llegado", "Pedido {order} retrasado", "¿Dónde está mi pedido?"),
    "PRODUCT_ISSUE": ("Me llegó un producto equivocado", "Producto dañado en el pedido {order}",
                      "Falta un artículo en mi pedido"),
    "BILLING_ISSUE": ("Error en la factura del pedido {order}", "Me cobraron dos veces", "La factura tiene mal el NIT"),
    "GENERAL_INQUIRY": ("Pregunta sobre la garantía", "¿Tienen disponible otra talla?", "Horario de atención",
                        "¿Hacen envíos a otra ciudad?"),
}
COMPLAINT_WEIGHTS = {"DELIVERY_ISSUE": 0.45, "PRODUCT_ISSUE": 0.35, "BILLING_ISSUE": 0.2}
COMPLAINT_SHARE = 0.04  # orders after which the customer complains
COMPLAINT_SHARE_LEAVING = 0.22  # ... when the order went so badly the customer does not come back
QUESTION_SHARE = 0.03  # orders after which the customer asks something
UNRESOLVED_SHARE = 0.1  # tickets nobody closes (0.3 of a leaving customer's complaints)
REOPEN_SHARE = 0.12  # closed tickets the customer writes back on


def writes_in(rng: random.Random, leaving: bool) -> str | None:
    """Whether a customer writes in about the order just placed: "complaint", "question" or None.
    A customer the order makes leave complains about five times as often."""
    draw = rng.random()
    complaint = COMPLAINT_SHARE_LEAVING if leaving else COMPLAINT_SHARE
    if draw < complaint:
        return "complaint"
    return "question" if draw < complaint + QUESTION_SHARE else None


class ServiceDesk:
    """The service team's tickets in HubSpot, the way customers open them and agents work them.

    After an order, now and then the customer writes in (a few days later): a late delivery, a
    wrong or damaged item, an invoice error, or just a question. An agent answers hours or days
    later (the ticket waits on the contact), closes it days after (or never: some stay open), and
    some customers write back after it was closed, which reopens it. The order that makes a
    customer leave is the bad experience: a complaint about it is about five times as likely and
    is answered and solved more slowly, so complaints say something about churn, not everything.
    Tickets draw from their own random stream: the rest of the business is the same with them.
    """

    def __init__(self, rng: random.Random, crm: HubSpotWriter, calendar: Calendar):
        self._rng, self._crm, self._calendar = rng, crm, calendar

    def after_order(self, p: Person, day: int, order_id: str, number: str | None = None) -> None:
        """Whether the customer writes in about the order just placed (the churn draw is made);
        ``number`` is the order's number as they saw it (None: they were given none)."""
        if not p.hubspot_contact_ids:
            return
        rng = self._rng
        leaving = not p.alive
        concern = writes_in(rng, leaving)
        if concern is None:
            return
        category = (rng.choices(list(COMPLAINT_WEIGHTS), weights=list(COMPLAINT_WEIGHTS.values()))[0]
                    if concern == "complaint" else "GENERAL_INQUIRY")
        self._calendar.schedule(day + rng.randint(1, 12), self._open, p, order_id, number, category, leaving)

    def _open(self, day: int, p: Person, order_id: str, number: str | None, category: str, leaving: bool) -> None:
        rng, crm = self._rng, self._crm
        at = self._calendar.moment(day, rng)
        complaint = category != "GENERAL_INQUIRY"
        priority = (rng.choices(("MEDIUM", "HIGH", "URGENT"), weights=(0.5, 0.4, 0.1))[0] if complaint
                    else rng.choice(("LOW", "MEDIUM")))
        ticket = crm.create("tickets", {
            "subject": " ".join(rng.choice(TICKET_TOPICS[category]).format(order=number or "").split()),
            "content": f"Cliente sobre el pedido {number}" if number else "Cliente sobre un pedido",
            "hs_pipeline": "0", "hs_pipeline_stage": "1",
            "hs_ticket_category": category, "hs_ticket_priority": priority,
            "source_type": rng.choice(("EMAIL", "EMAIL", "PHONE", "CHAT", "FORM")),
        }, at, p, order_id, rng=rng)
        rid = int(ticket["id"])
        crm.associate("tickets", rid, "contacts", p.hubspot_contact_ids[0])
        slow = 2.0 if leaving and complaint else 1.0
        wait = int(rng.expovariate(1 / (1.2 * slow)))  # days to the first answer: mostly the same or next day
        if wait == 0:
            reply = at + timedelta(minutes=rng.uniform(20, 300))
            if reply.date() == at.date() and reply < self._calendar.midnight(day) + timedelta(hours=23, minutes=30):
                self._answer(day, rid, leaving and complaint, reply)
                return
            wait = 1
        self._calendar.schedule(day + wait, self._answer, rid, leaving and complaint)

    def _answer(self, day: int, rid: int, bad: bool, at: datetime | None = None) -> None:
        rng = self._rng
        at = at or self._calendar.moment(day, rng)
        self._crm.update("tickets", rid, {"first_agent_reply_date": hubspot_ts(at), "hs_pipeline_stage": "2"}, at)
        if rng.random() < (0.3 if bad else UNRESOLVED_SHARE):
            return  # nobody closes it
        self._calendar.schedule(day + 1 + int(rng.expovariate(1 / (4.0 if bad else 2.0))), self._close, rid, bad)

    def _close(self, day: int, rid: int, bad: bool) -> None:
        rng = self._rng
        at = self._calendar.moment(day, rng)
        stamp = hubspot_ts(at)
        self._crm.update("tickets", rid, {"hs_pipeline_stage": "4", "closed_date": stamp,
                                          "hs_v2_date_entered_4": stamp}, at)
        if rng.random() < REOPEN_SHARE * (2 if bad else 1):
            self._calendar.schedule(day + rng.randint(1, 7), self._reopen, rid, bad)

    def _reopen(self, day: int, rid: int, bad: bool) -> None:
        """The customer writes back: the ticket leaves the closed stage (its close date is cleared)."""
        rng = self._rng
        at = self._calendar.moment(day, rng)
        self._crm.update("tickets", rid, {"hs_pipeline_stage": "3", "closed_date": None,
                                          "hs_v2_date_exited_4": hubspot_ts(at)}, at)
        if rng.random() < 0.8:
            self._calendar.schedule(day + 1 + int(rng.expovariate(1 / 3.0)), self._close, rid, bad)
