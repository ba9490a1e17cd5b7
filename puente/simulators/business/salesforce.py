"""The CRM's writer for a business that runs Salesforce: the same sales team, in Salesforce's objects.

The sales team works the same way whichever CRM it runs (``hubspot.py`` keeps its book: who was
entered when, which deals moved, what was fixed), so a business on Salesforce has the same
people, deals and mistakes as one on HubSpot. What differs is how Salesforce holds them, which
this module renders, record by record:

- a person the team has not qualified yet (lifecycle stage "lead": a web form, a fair's list) is a
  **Lead**; once qualified (an opportunity, an order) the Lead is converted: it stays, with
  ``IsConverted`` true, ``Status`` "Closed - Converted" and ``ConvertedContactId``, and the person
  is a **Contact** from that moment on; people entered straight as customers are Contacts;
- a business customer's company is an **Account** (``Contact.AccountId``);
- a deal is an **Opportunity** (``AccountId``, ``ContactId``, ``StageName`` in the standard sales
  process, ``CloseDate`` a date, ``IsClosed``/``IsWon``), its products **OpportunityLineItem**s
  (``Quantity``, ``UnitPrice``, ``Discount`` in percent, ``TotalPrice``);
- every record has an ``OwnerId`` (a User: the salesperson; records nobody was assigned to belong
  to the org's integration user, as Salesforce requires an owner), ``CreatedDate`` and
  ``SystemModstamp``; a deleted record (HubSpot's archive) has ``IsDeleted`` and a new
  ``SystemModstamp`` and is served by ``queryAll`` only (the Recycle Bin);
- the org's own custom fields, made before Puente by its admin: ``Tax_Id__c`` (the NIT or
  cédula) and ``Legal_Basis__c`` (the Habeas Data basis, with HubSpot's values);
- the service desk's **Case**s (``SalesforceSalesTeam.after_order``): customers write or call about
  an order (a complaint: a product that arrived damaged or does not work; a question), some citing
  its number; the desk answers (the org's flow stamps ``First_Response__c``), closes the case, and
  now and then the customer reopens it (the flow counts ``Times_Reopened__c``). The Case's Type
  values ``Complaint`` and ``Question`` are the org's own (its admin replaced the sample picklist,
  Mechanical, Electrical, ...); Reason, Status, Priority and Origin keep standard values.

Ids are Salesforce's: the three-character key prefix of the object (001 Account, 003 Contact,
00Q Lead, 006 Opportunity, 00k OpportunityLineItem, 00T Task, 005 User), the record's number in
base 62, and the three-character case-safe suffix of the 18-character form.

What Puente writes (``SalesforceOrg``: Tasks and its own ``Puente_*__c`` fields on Contacts,
through sObject Collections) is kept beside the book; won opportunities are not booked into the
ERP by the simulator: that is Puente's job (or a salesperson's, ``Habits``).
"""

from __future__ import annotations

import random
import string
from datetime import datetime
from typing import Any

from puente.simulators.business.hubspot import HubSpotWriter, writes_in
from puente.simulators.business.population import Person
from puente.simulators.business.records import Records, hubspot_ts

PREFIX = {"Account": "001", "Contact": "003", "Lead": "00Q", "Opportunity": "006", "OpportunityLineItem": "00k",
          "Task": "00T", "User": "005", "Organization": "00D", "Case": "500"}
SOBJECTS = ("Account", "Contact", "Lead", "Opportunity", "OpportunityLineItem", "Task", "Case")
# HubSpot's default pipeline stages as the standard Salesforce sales process names them.
STAGES = {"appointmentscheduled": "Prospecting", "qualifiedtobuy": "Qualification",
          "presentationscheduled": "Value Proposition", "decisionmakerboughtin": "Id. Decision Makers",
          "contractsent": "Proposal/Price Quote", "closedwon": "Closed Won", "closedlost": "Closed Lost"}
# The fields Puente owns on Contacts (its write-back; the org's admin creates them with Puente's setup).
PUENTE_CONTACT_FIELDS = ("Puente_Churn_Score__c", "Puente_Churn_Risk__c", "Puente_Churn_Reasons__c",
                         "Puente_Next_Action__c", "Puente_Next_Action_Product__c", "Puente_Next_Action_Reason__c",
                         "Puente_Scored_At__c", "Puente_Service_Due_Date__c", "Puente_Service_Reason__c")
INTEGRATION_USER = 1  # the org's integration user: owner of what nobody was assigned
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_SUFFIX = string.ascii_uppercase + "012345"


def sf_id(sobject: str, number: int) -> str:
    """The 18-character id of record ``number`` of ``sobject``."""
    digits = ""
    while True:
        number, rest = divmod(number, 62)
        digits = _BASE62[rest] + digits
        if not number:
            break
    short = PREFIX[sobject] + "5g" + digits.rjust(10, "0")
    return short + "".join(_SUFFIX[sum(1 << i for i, c in enumerate(short[k:k + 5]) if c.isupper())]
                           for k in range(0, 15, 5))


def sf_number(sobject: str, rid: str) -> int | None:
    """The record number behind an id of ``sobject`` (15 or 18 characters), None when it is none."""
    if len(rid) not in (15, 18) or not rid.startswith(PREFIX[sobject] + "5g"):
        return None
    number = 0
    for char in rid[5:15]:
        if char not in _BASE62:
            return None
        number = number * 62 + _BASE62.index(char)
    return number if len(rid) == 15 or sf_id(sobject, number) == rid else None


def sf_ts(hubspot_stamp: str) -> str:
    """A HubSpot ``…Z`` stamp as Salesforce writes datetimes: ``2026-11-16T14:03:22.000+0000``."""
    return hubspot_stamp[:23] + "+0000"


# Service: after an order, now and then the customer calls or writes about it (as often as with
# HubSpot: hubspot.writes_in); the service desk opens a Case and works it, at its own pace (unlike
# HubSpot's desk, no slower for the complaint of a customer who is leaving). Its Subject cites the
# order's number as the customer saw it (the shop's `#1042`, the ERP's `S00042`) in the forms with
# `{order}`, drawn only when there is a number (none for a won deal).
CASE_TYPES = {"complaint": "Complaint", "question": "Question"}  # hubspot.writes_in's answer -> Type
CASE_KINDS = (  # (Type, Reason, Subjects, Priority, share within the Type)
    ("Complaint", "Breakdown", ("El producto llegó dañado", "Pedido {order}: producto dañado"), "High", 0.55),
    ("Complaint", "Performance", ("El producto no funciona como se esperaba",
                                  "El producto del pedido {order} no funciona"), "Medium", 0.45),
    ("Question", "Installation", ("Consulta sobre instalación",), "Low", 0.55),
    ("Question", "Other", ("Consulta sobre garantía", "Garantía del pedido {order}"), "Medium", 0.45),
)
REOPEN_SHARE = 0.1  # closed cases the customer reopens within a week


class SalesforceSalesTeam(HubSpotWriter):
    """The sales team's book (``HubSpotWriter``), noting when a lead was entered and converted, and
    the service desk's Cases (on their own random stream ``cases``: with Salesforce or without it,
    the rest of the business is the same)."""

    # Salesforce's standard duplicate rules only alert: a second Contact or Lead with a known email is saved
    one_contact_per_email = False

    def __init__(self, *args: Any, cases: random.Random, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.leads: dict[int, str | None] = {}  # contact number -> when its Lead was converted (None: not yet)
        self.cases: dict[int, dict[str, Any]] = {}  # case number -> the Case as Salesforce holds it
        self._cases_rng = cases

    def daily_edits(self, day: int) -> None:
        super().daily_edits(day)
        self._service_day(day)

    def _service_day(self, day: int) -> None:
        """The day's first answers, resolutions and reopenings of the Cases."""
        rng = self._cases_rng
        for case in self.cases.values():
            now = self._moment(day)
            if case["First_Response__c"] is None and rng.random() < 0.7:
                self._case_update(case, now, First_Response__c=now, Status="Working")
            elif not case["IsClosed"] and case["First_Response__c"] and rng.random() < 0.35:
                self._case_update(case, now, Status="Closed", IsClosed=True, ClosedDate=now, _closed_day=day)
            elif case["IsClosed"] and case["Times_Reopened__c"] == 0 and day - case["_closed_day"] <= 7 \
                    and rng.random() < REOPEN_SHARE / 7:
                self._case_update(case, now, Status="Working", IsClosed=False, ClosedDate=None, Times_Reopened__c=1)

    def after_order(self, p: Person, day: int, order_id: str, number: str | None = None) -> None:
        """Whether the customer calls or writes about the order just placed (a few days later);
        ``number`` is the order's number as they saw it (None: they were given none)."""
        if not p.hubspot_contact_ids:
            return
        rng = self._cases_rng
        concern = writes_in(rng, leaving=not p.alive)
        if concern is not None:
            self._calendar.schedule(day + rng.randint(1, 12), self._open_case, p, CASE_TYPES[concern], order_id,
                                    number)

    def _moment(self, day: int) -> str:
        """A moment of ``day`` as Salesforce stamps it."""
        return sf_ts(hubspot_ts(self._calendar.moment(day, self._cases_rng)))

    def _open_case(self, day: int, p: Person, kind: str, order_id: str, number: str | None) -> None:
        """The desk opens the Case on the customer's Contact, as HubSpot's desk files a ticket on
        theirs (none when the Contact was deleted: a Case cannot name one); ``_order_id`` keeps the
        order it is about, which the org does not serve."""
        contact = p.hubspot_contact_ids[0]
        if self.hubspot["contacts"][contact]["archived"]:
            return
        rng = self._cases_rng
        kinds = [k for k in CASE_KINDS if k[0] == kind]
        _kind, reason, subjects, priority, _share = rng.choices(kinds, weights=[k[4] for k in kinds])[0]
        subject = rng.choice([s for s in subjects if number or "{order}" not in s]).format(order=number)
        case_number = len(self.cases) + 1
        stamp = self._moment(day)
        self.cases[case_number] = {
            "attributes": {"type": "Case", "url": ""}, "Id": sf_id("Case", case_number),
            "CaseNumber": f"{case_number:08d}", "ContactId": sf_id("Contact", contact),
            "Subject": subject, "Type": kind, "Reason": reason, "Priority": priority, "Status": "New",
            "Origin": rng.choice(("Phone", "Email", "Web")), "IsClosed": False, "ClosedDate": None,
            "First_Response__c": None, "Times_Reopened__c": 0, "IsDeleted": False, "CreatedDate": stamp,
            "LastModifiedDate": stamp, "SystemModstamp": stamp, "_closed_day": None, "_order_id": order_id}
        self._records.track("salesforce", "cases", case_number, created=True)

    def _case_update(self, case: dict[str, Any], stamp: str, **fields: Any) -> None:
        stamp = max(stamp, case["SystemModstamp"])
        case.update({k: stamp if v is not None and k in ("First_Response__c", "ClosedDate") else v
                     for k, v in fields.items()}, LastModifiedDate=stamp, SystemModstamp=stamp)
        self._records.track("salesforce", "cases", sf_number("Case", case["Id"]) or 0)

    def create(self, obj: str, properties: dict[str, str | None], at: datetime, person: Any,
               order_id: str | None = None) -> dict:
        record = super().create(obj, properties, at, person, order_id)
        if obj == "contacts" and properties.get("lifecyclestage") == "lead":
            self.leads[int(record["id"])] = None
        return record

    def update(self, obj: str, rid: int, properties: dict[str, str | None], at: datetime) -> dict:
        record = super().update(obj, rid, properties, at)
        stage = properties.get("lifecyclestage")
        if obj == "contacts" and stage and stage != "lead" and rid in self.leads and self.leads[rid] is None:
            self.leads[rid] = record["updatedAt"]
        return record


class SalesforceOrg:
    """The business's Salesforce org as the API serves it: the book rendered, and what clients wrote."""

    def __init__(self, records: Records, team: SalesforceSalesTeam, now: Any):
        self.records, self.team, self.now = records, team, now
        self.tasks: dict[int, dict] = {}
        self.contact_fields: dict[int, dict[str, Any]] = {}  # Puente's own fields, per contact number

    def _owner(self, props: dict) -> str:
        owner = props.get("hubspot_owner_id")
        return sf_id("User", int(owner) if owner else INTEGRATION_USER)

    def _base(self, sobject: str, number: int, record: dict, deleted_at: str | None = None) -> dict:
        modstamp = deleted_at or record["updatedAt"]
        return {"attributes": {"type": sobject, "url": ""}, "Id": sf_id(sobject, number),
                "IsDeleted": bool(record.get("archived")), "CreatedDate": sf_ts(record["createdAt"]),
                "LastModifiedDate": sf_ts(record["updatedAt"]), "SystemModstamp": sf_ts(modstamp)}

    def _stamp(self, record: dict) -> str | None:
        return record.get("archivedAt") if record.get("archived") else None

    def _link(self, obj: str, rid: int, other: str) -> int | None:
        linked = self.records.hubspot_associations.get((obj, rid), {}).get(other) or []
        return linked[0] if linked else None

    def table(self, sobject: str) -> list[dict]:
        """Every record of ``sobject``, deleted ones included, in id order."""
        book = self.records.hubspot
        out: list[dict] = []
        if sobject == "Account":
            for rid, r in book["companies"].items():
                p = r["properties"]
                out.append({**self._base("Account", rid, r, self._stamp(r)), "Name": p.get("name"),
                            "Website": p.get("domain"), "Phone": p.get("phone"), "BillingCity": p.get("city"),
                            "BillingCountry": p.get("country"), "OwnerId": sf_id("User", INTEGRATION_USER)})
        elif sobject in ("Contact", "Lead"):
            for rid, r in book["contacts"].items():
                lead = rid in self.team.leads
                converted = self.team.leads.get(rid)
                if sobject == "Lead" and lead:
                    out.append(self._lead(rid, r, converted))
                elif sobject == "Contact" and (r["properties"].get("lifecyclestage") != "lead"):
                    out.append(self._contact(rid, r, converted))
        elif sobject == "Opportunity":
            for rid, r in book["deals"].items():
                p = r["properties"]
                stage = STAGES.get(p.get("dealstage") or "", "Prospecting")
                company, contact = self._link("deals", rid, "companies"), self._link("deals", rid, "contacts")
                out.append({**self._base("Opportunity", rid, r, self._stamp(r)), "Name": p.get("dealname"),
                            "AccountId": sf_id("Account", company) if company else None,
                            "ContactId": sf_id("Contact", contact) if contact else None,
                            "Amount": float(p["amount"]) if p.get("amount") else None, "StageName": stage,
                            "CloseDate": (p.get("closedate") or r["createdAt"])[:10],
                            "IsClosed": stage.startswith("Closed"), "IsWon": stage == "Closed Won",
                            "OwnerId": self._owner(self._contact_props(contact))})
        elif sobject == "OpportunityLineItem":
            for rid, r in book["line_items"].items():
                p = r["properties"]
                deal = self._link("line_items", rid, "deals")
                out.append({**self._base("OpportunityLineItem", rid, r, self._stamp(r)),
                            "OpportunityId": sf_id("Opportunity", deal) if deal else None, "Name": p.get("name"),
                            "ProductCode": p.get("hs_sku"), "Quantity": float(p.get("quantity") or 0),
                            "UnitPrice": float(p.get("price") or 0),
                            "Discount": float(p["hs_discount_percentage"]) if p.get("hs_discount_percentage") else None,
                            "TotalPrice": float(p.get("amount") or 0)})
        elif sobject == "Task":
            out = list(self.tasks.values())
        elif sobject == "Case":
            out = [{k: v for k, v in c.items() if not k.startswith("_")} for c in self.team.cases.values()]
        return out

    def _contact_props(self, contact: int | None) -> dict:
        return self.records.hubspot["contacts"][contact]["properties"] if contact else {}

    def _person(self, p: dict) -> dict:
        return {"FirstName": p.get("firstname"), "LastName": p.get("lastname") or "[sin apellido]",
                "Email": p.get("email"), "Phone": p.get("phone"), "MobilePhone": p.get("mobilephone"),
                "HasOptedOutOfEmail": p.get("hs_marketable_status") != "true", "Tax_Id__c": p.get("tax_id"),
                "Legal_Basis__c": p.get("hs_legal_basis"), "OwnerId": self._owner(p)}

    def _lead(self, rid: int, r: dict, converted: str | None) -> dict:
        p = r["properties"]
        # a converted lead stays as it was (deleting its Contact later does not delete it)
        lead = {**self._base("Lead", rid, r, converted or self._stamp(r)), **self._person(p),
                "Company": p.get("company") or "Particular", "Street": p.get("address"), "City": p.get("city"),
                "Country": p.get("country"), "Status": "Closed - Converted" if converted else "Open - Not Contacted",
                "IsConverted": converted is not None,
                "ConvertedContactId": sf_id("Contact", rid) if converted else None}
        if converted:  # a converted lead is frozen at its conversion
            lead.update(LastModifiedDate=sf_ts(converted), IsDeleted=False)
        return lead

    def _contact(self, rid: int, r: dict, converted: str | None) -> dict:
        p = r["properties"]
        company = self._link("contacts", rid, "companies")
        contact = {**self._base("Contact", rid, r, self._stamp(r)), **self._person(p),
                   "AccountId": sf_id("Account", company) if company else None, "MailingStreet": p.get("address"),
                   "MailingCity": p.get("city"), "MailingCountry": p.get("country"),
                   **self.contact_fields.get(rid, {})}
        if converted:
            contact["CreatedDate"] = sf_ts(converted)
        return contact

    def records_of(self, obj: str, number: int) -> list[tuple[str, str]]:
        """The Salesforce records (raw object name, Id) a record of the book is: a contact is its
        Lead, its Contact, or both once converted; a company an Account, a deal an Opportunity."""
        if obj == "contacts":
            lead = [("leads", sf_id("Lead", number))] if number in self.team.leads else []
            stage = self.records.hubspot["contacts"][number]["properties"].get("lifecyclestage")
            return lead + ([("contacts", sf_id("Contact", number))] if stage != "lead" else [])
        kind = {"companies": ("accounts", "Account"), "deals": ("opportunities", "Opportunity"),
                "line_items": ("opportunity_line_items", "OpportunityLineItem")}.get(obj)
        return [(kind[0], sf_id(kind[1], number))] if kind else []

    def contact_number(self, rid: str) -> int | None:
        """The book's contact behind a Contact id, None when there is none (or it is only a Lead)."""
        number = sf_number("Contact", rid)
        record = self.records.hubspot["contacts"].get(number) if number is not None else None
        if record is None or record["archived"] or record["properties"].get("lifecyclestage") == "lead":
            return None
        return number

    def person_exists(self, rid: str) -> bool:
        """Whether ``rid`` is a live Contact, or a Lead not converted (what a Task's WhoId may name)."""
        if rid.startswith(PREFIX["Lead"]):
            number = sf_number("Lead", rid)
            record = self.records.hubspot["contacts"].get(number) if number is not None else None
            return (record is not None and not record["archived"] and number in self.team.leads
                    and self.team.leads[number] is None)
        return self.contact_number(rid) is not None

    def update_contact(self, number: int, fields: dict[str, Any]) -> None:
        """Puente's fields written on a Contact: stored beside the book, the contact stamped now."""
        self.contact_fields.setdefault(number, {}).update(fields)
        self.team.update("contacts", number, {}, self.now())

    def update_task(self, rid: str, fields: dict[str, Any]) -> None:
        task = self.tasks[sf_number("Task", rid) or 0]
        stamp = max(sf_ts(hubspot_ts(self.now())), task["SystemModstamp"])
        task.update(fields, LastModifiedDate=stamp, SystemModstamp=stamp)
        self.records.version += 1

    def create_task(self, fields: dict[str, Any]) -> dict:
        number = len(self.tasks) + 1
        stamp = sf_ts(hubspot_ts(self.now()))
        task = {"attributes": {"type": "Task", "url": ""}, "Id": sf_id("Task", number), "IsDeleted": False,
                "CreatedDate": stamp, "LastModifiedDate": stamp, "SystemModstamp": stamp,
                "Status": "Not Started", "Priority": "Normal", **fields}
        self.tasks[number] = task
        self.records.version += 1
        return task

