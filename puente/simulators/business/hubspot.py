"""The CRM's writer: what salespeople and web forms record in HubSpot, in CRM v3's wire shapes.

Contacts as salespeople type them (and now and then a second contact for the same person),
companies for business customers, deals that move through the pipeline stage by stage and are
won or lost, the lifecycle stage that becomes "customer" after a first order, marketing opt-outs,
and the small edits of a normal day (a phone fixed, a stale lead deleted).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from puente.simulators import colombia as co
from puente.simulators.business import messiness as messy
from puente.simulators.business.calendar import MONTHS_ES, Calendar
from puente.simulators.business.population import Person, Population
from puente.simulators.business.records import Records, hubspot_ts

OPEN_DEAL_STAGES = ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
                    "decisionmakerboughtin", "contractsent")


class HubSpotWriter:
    """Creates and changes HubSpot records in ``records.hubspot`` the way the sales team does."""

    def __init__(self, rng: random.Random, records: Records, calendar: Calendar, population: Population):
        self._rng = rng
        self._records = records
        self._calendar = calendar
        self._population = population
        self.hubspot = records.hubspot
        self._ids = {"contacts": 1_000, "companies": 20_000_000_000, "deals": 30_000_000_000}

    # ------------------------------------------------------------------ records

    def create(self, obj: str, properties: dict[str, str | None], at: datetime,
               person: Person | None, order_id: str | None = None) -> dict:
        self._ids[obj] += self._rng.randint(1, 3) if obj == "contacts" else self._rng.randint(1, 900)
        rid = self._ids[obj]
        stamp = hubspot_ts(at)
        modified = "lastmodifieddate" if obj == "contacts" else "hs_lastmodifieddate"
        props = {k: v for k, v in properties.items() if v is not None}
        props.update({"createdate": stamp, modified: stamp, "hs_object_id": str(rid)})
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
        self.hubspot[obj][rid].update(archived=True, archivedAt=hubspot_ts(at))
        self._records.track("hubspot", obj, rid)

    def associate(self, a: str, a_id: int, b: str, b_id: int) -> None:
        associations = self._records.hubspot_associations
        associations[(a, a_id)][b].append(b_id)
        associations[(b, b_id)][a].append(a_id)

    # ------------------------------------------------------------------ contacts and companies

    def contact(self, p: Person, at: datetime, lifecycle: str, duplicate: bool = False) -> dict:
        """A CRM contact as a salesperson (or a web form) typed it."""
        rng = self._rng
        names = messy.crm_names(rng, p)
        email = messy.crm_email(rng, p.email, duplicate)
        tax_id = None
        if rng.random() < (0.6 if p.company else 0.35):
            tax_id = messy.tax_id(rng, p)
        record = self.create("contacts", {
            "email": email, "firstname": names[0], "lastname": names[1],
            "phone": messy.phone(rng, p.mobile) if rng.random() < 0.85 else None,
            "mobilephone": messy.phone(rng, p.mobile) if rng.random() < 0.2 else None,
            "company": p.company if p.company and rng.random() < 0.9 else None,
            "city": p.city if rng.random() < 0.7 else co.strip_accents(p.city), "country": "Colombia",
            "lifecyclestage": lifecycle, "hs_marketable_status": "true" if p.consent else "false",
            "tax_id": tax_id,
        }, at, p)
        p.hubspot_contact_ids.append(int(record["id"]))
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
            "city": p.city, "country": "Colombia",
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
        for cid in p.hubspot_contact_ids:
            self.update("contacts", cid, {"hs_marketable_status": "false"}, at)

    # ------------------------------------------------------------------ deals

    def open_deal(self, p: Person, company_id: int, amount: float, day: int, at: datetime) -> tuple[int, int]:
        """A deal for ``amount`` (with VAT) at one of the first two stages; (deal id, stage)."""
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
        return deal_id, stage

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
                {"city": person.city},
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
