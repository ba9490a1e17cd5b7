"""HubSpot's CRM v3 API, served from the simulated business.

What it reproduces, per HubSpot's published OpenAPI specs (shared/specs/hubspot) and guides
(the tasks, line items and owners guides; see /work/notes/activation-apis.md, part 3):

- Objects ``contacts`` (with ``hubspot_owner_id``), ``companies``, ``deals``, ``line_items``
  (0-8: ``name``, ``hs_sku``, ``quantity``, ``price``, ``discount``, ``hs_discount_percentage``,
  ``amount``; associated with their deal), ``tasks`` (0-27) and ``tickets`` (0-5; tickets guide
  and default ticket properties: ``subject``, ``content``, ``hs_pipeline`` ``"0"``,
  ``hs_pipeline_stage`` 1-4 of the default support pipeline, ``hs_ticket_category``,
  ``hs_ticket_priority``, ``source_type``, ``first_agent_reply_date``, ``closed_date``,
  ``hs_v2_date_entered_4``/``hs_v2_date_exited_4``; associated with contacts, type ids 16/15;
  their records need the ``tickets`` scope) as ``{"id", "properties", "createdAt", "updatedAt",
  "archived"}`` with every property value a string (or ``null``).
- ``POST /crm/v3/objects/{object}`` (201) and ``POST …/batch/create`` (at most 100 inputs, else
  400): properties checked as for updates, a task needs ``hs_timestamp`` (epoch ms or ISO 8601),
  ``hs_task_status``/``hs_task_priority``/``hs_task_type`` take their documented options and
  ``hubspot_owner_id`` an owner's id; ``associations`` ``[{"to": {"id"}, "types":
  [{"associationCategory", "associationTypeId"}]}]`` with HubSpot-defined type ids (task → contact
  204, → deal 216, → company 192; line item → deal 20) to an existing record. A value already
  held by another record in a property with ``hasUniqueValue`` is a conflict (409
  ``CONFLICT``), and so is a contact's ``email`` another live contact holds in any capitals
  ("Contact already exists. Existing ID: …": HubSpot deduplicates contacts by email). In a
  batch, when every input carries a distinct ``objectWriteTraceId``, the good
  inputs are created and the answer is 207 with ``errors[]`` naming the failed ones in
  ``context.objectWriteTraceId`` (201 when all succeed; results echo ``objectWriteTraceId``);
  without trace ids one bad input fails the whole batch (400, or 409 for a conflict) and nothing
  is created. Created records are stamped with the simulated now.
- ``GET /crm/v3/owners`` (``email``, ``limit`` ≤ 500, ``after``, ``archived``) and
  ``GET /crm/v3/owners/{id}`` (``idProperty=id|userId``): the sales team.
- ``POST /oauth/v2/private-apps/get/access-token-info`` ``{"tokenKey"}``: the token's ``userId``,
  ``hubId``, ``appId`` and ``scopes`` (no ``Authorization`` needed, as for ``pat-na1`` tokens).
  Every other call needs its scope (``crm.objects.<object>.read|write``, tasks under the
  contacts scopes; ``crm.schemas.<object>.read|write`` for properties;
  ``crm.objects.owners.read``): a token without it gets 403 ``MISSING_SCOPES`` with
  ``errors[].context.requiredScopes``, the body HubSpot sends (HubSpot/hubspot-api-nodejs#268).
- ``GET /crm/v3/objects/{object}``: ``limit`` (default 10, at most 100), ``after`` (cursor from
  ``paging.next.after``), ``properties`` (comma-separated; unknown names ignored; the default
  set otherwise), ``archived``, ``associations``. ``GET …/{id}`` (also ``idProperty=email``)
  and ``PATCH …/{id}``.
- ``POST /crm/v3/objects/{object}/search``: ``filterGroups`` (OR of up to 5 groups of ANDed
  filters, at most 25 filters) with ``EQ``, ``NEQ``, ``LT``, ``LTE``, ``GT``, ``GTE``,
  ``BETWEEN``, ``IN``, ``NOT_IN``, ``HAS_PROPERTY``, ``NOT_HAS_PROPERTY``, ``CONTAINS_TOKEN``,
  ``NOT_CONTAINS_TOKEN``; datetimes compared as epoch milliseconds; one sort; ``query``;
  ``limit`` up to 200; ``after``; ``total``. Paging past the 10,000th result answers 400, as
  the search guide warns. Archived records are never found by search.
- ``POST /crm/v3/objects/{object}/batch/archive`` (``{"inputs": [{"id"}]}``, at most 100): 204; each
  record archived (out of lists and searches, ``GET …?archived=true`` still has it: HubSpot keeps
  deleted records restorable for 90 days); unknown or already archived ids are passed over.
- ``POST /crm/v3/objects/contacts/batch/update``: at most 100 inputs (else 400); duplicate ids
  400; per-input failures (unknown id, unknown or read-only property, invalid value) answer
  207 Multi-Status with ``errors`` beside the successful ``results``; 200 when all succeed. A
  write sets ``lastmodifieddate`` and ``updatedAt`` to the simulated now.
- Properties: ``GET/POST /crm/v3/properties/{object}``, ``GET …/{name}``, and property groups.
  Creating a property validates name, type/fieldType, options and an existing group, and
  answers 409 when it exists. Puente's write-back properties do not exist until created.
- Errors in HubSpot's JSON shape (``status``, ``message``, ``correlationId``, ``category``);
  401 without a valid ``Authorization: Bearer`` private-app token.
- ``POST /crm/v4/associations/{from}/{to}/batch/read``: at most 1,000 ids; ``results`` of
  ``{"from": {"id"}, "to": [{"toObjectId", "associationTypes": [{"category", "typeId", "label"}]}]}``
  for the ids that have associations, and ``errors`` (``NO_ASSOCIATIONS_FOUND``) naming the
  others, with 207 Multi-Status when there are any.
- Injected faults (``Faults``): per request 429/5xx, hangs and dropped connections; per listing
  or search: malformed record versions, changes while paging and late updates. JSON answers
  escape non-ASCII characters as HubSpot does, so a malformed string can reach the client.
  Custom properties added with ``Business.add_field`` appear in ``GET /crm/v3/properties``, and
  properties removed with ``Business.drop_field`` vanish from it and from reads.
- Rate limits: a rolling ten-second window per token (``TEN_SECONDLY_ROLLING``, with the
  ``X-HubSpot-RateLimit-*`` headers) and a separate per-second limit for search, which the spec
  marks exempt from the ten-secondly one; over a limit: 429 with ``errorType: RATE_LIMIT``,
  ``policyName`` and ``Retry-After``.
"""

from __future__ import annotations

import bisect
import json
import math
import re
import secrets
import uuid
from collections.abc import Callable, Collection
from datetime import UTC, date, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from puente.simulators.business import Business, hubspot_ts
from puente.simulators.limits import Decision, FaultInjector, Limits, RollingWindow
from puente.simulators.systems import Credential, Simulated
from puente.simulators.wire import WireJSON, drawn_fault, local_path, service_app

OBJECT_TYPES = {"contacts": "contacts", "0-1": "contacts", "companies": "companies", "0-2": "companies",
                "deals": "deals", "0-3": "deals", "line_items": "line_items", "0-8": "line_items",
                "tasks": "tasks", "0-27": "tasks", "tickets": "tickets", "0-5": "tickets"}
OBJECT_TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3", "line_items": "0-8", "tasks": "0-27",
                   "tickets": "0-5"}
SINGULAR = {"contacts": "contact", "companies": "company", "deals": "deal", "line_items": "line_item", "tasks": "task",
            "tickets": "ticket"}
MODIFIED = {"contacts": "lastmodifieddate", "companies": "hs_lastmodifieddate", "deals": "hs_lastmodifieddate",
            "line_items": "hs_lastmodifieddate", "tasks": "hs_lastmodifieddate", "tickets": "hs_lastmodifieddate"}
CREATED = {"tasks": "hs_createdate"}  # the create-date property where it is not "createdate"
DEFAULT_PROPERTIES = {
    "contacts": ["createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"],
    "companies": ["createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"],
    "deals": ["amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate",
              "hs_object_id", "pipeline"],
    "line_items": ["amount", "createdate", "hs_lastmodifieddate", "hs_object_id", "name", "price", "quantity"],
    "tasks": ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
    "tickets": ["content", "createdate", "hs_lastmodifieddate", "hs_object_id", "hs_pipeline", "hs_pipeline_stage",
                "hs_ticket_category", "hs_ticket_priority", "subject"],
}
SEARCHABLE = {"contacts": ["firstname", "lastname", "email", "phone", "company"],
              "companies": ["name", "domain", "phone"], "deals": ["dealname"], "line_items": ["name", "hs_sku"],
              "tasks": ["hs_task_subject", "hs_task_body"], "tickets": ["subject", "content"]}
REQUIRED = {"tasks": ("hs_timestamp",)}  # properties a create must set
# the name under which `Portal._unique_values` holds live contacts' emails, in lower case
CONTACT_EMAIL = "email in any capitals"
CREATE_DEFAULTS = {"tasks": {"hs_task_status": "NOT_STARTED"}}
# The scopes of each object's records and property definitions (tasks are engagements: contacts').
SCOPE_OBJECT = {"contacts": "contacts", "companies": "companies", "deals": "deals", "line_items": "line_items",
                "tasks": "contacts", "tickets": "tickets"}
# Objects whose records take one scope of their own to read and write (HubSpot's scopes list: "tickets").
RECORD_SCOPES = {"tickets": "tickets"}
# Every scope Puente needs: the default grant of the simulated private app.
SCOPES = ("crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.companies.read",
          "crm.objects.deals.read", "crm.objects.line_items.read", "crm.objects.owners.read",
          "crm.schemas.contacts.read", "crm.schemas.contacts.write", "crm.schemas.companies.read",
          "crm.schemas.deals.read", "crm.schemas.line_items.read", "tickets", "crm.schemas.tickets.read")
HUB_ID, APP_ID = 48_213_507, 3_410_977  # the simulated portal and private app
TOKEN_INFO_PATH = "/oauth/v2/private-apps/get/access-token-info"
MAX_OWNERS_LIMIT = 500
MAX_LIST_LIMIT, MAX_SEARCH_LIMIT, MAX_SEARCH_RESULTS, MAX_BATCH = 100, 200, 10_000, 100
MAX_FILTER_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 10, 25
MAX_ASSOCIATION_INPUTS = 1_000
# HubSpot-defined association type ids (v4), per direction.
ASSOCIATION_TYPE_IDS = {("deals", "contacts"): 3, ("contacts", "deals"): 4, ("contacts", "companies"): 279,
                        ("companies", "contacts"): 280, ("deals", "companies"): 341, ("companies", "deals"): 342,
                        ("line_items", "deals"): 20, ("deals", "line_items"): 19,
                        ("tasks", "contacts"): 204, ("contacts", "tasks"): 203, ("tasks", "deals"): 216,
                        ("deals", "tasks"): 215, ("tasks", "companies"): 192, ("companies", "tasks"): 191,
                        ("tickets", "contacts"): 16, ("contacts", "tickets"): 15}
ASSOCIATION_CATEGORIES = {"HUBSPOT_DEFINED", "USER_DEFINED", "INTEGRATOR_DEFINED", "WORK"}
FIELD_TYPES = {"string": {"text", "textarea", "html", "phonenumber", "file"},
               "number": {"number", "calculation_equation"},
               "enumeration": {"select", "radio", "checkbox", "booleancheckbox"},
               "datetime": {"date"}, "date": {"date"}, "bool": {"booleancheckbox"},
               "phone_number": {"phonenumber"}}
PROPERTY_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
LIFECYCLE = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
             "evangelist", "other"]
DEAL_STAGES = ["appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
               "contractsent", "closedwon", "closedlost"]
# Tasks guide: status COMPLETED or NOT_STARTED (its own example uses WAITING; IN_PROGRESS and
# DEFERRED are the property's other options), priority LOW/MEDIUM/HIGH, type EMAIL/CALL/TODO.
TASK_STATUSES = ["NOT_STARTED", "IN_PROGRESS", "WAITING", "DEFERRED", "COMPLETED"]
TASK_PRIORITIES = ["LOW", "MEDIUM", "HIGH"]
TASK_TYPES = ["EMAIL", "CALL", "TODO"]
# The options of the contact property "Legal basis for processing contact's data" (HubSpot's
# knowledge base, "Track lawful basis of processing"); a multiple checkbox, whose values the API
# gives joined by semicolons.
LEGAL_BASES = ["Legitimate interest – prospect/lead", "Legitimate interest – existing customer",
               "Performance of a contract", "Freely given consent from contact", "Not applicable"]
OWNER = "hubspot_owner_id"  # an enumeration whose options are the portal's owners
# Tickets guide and default ticket properties: the default support pipeline "0" and its stages
# (New, Waiting on contact, Waiting on us, Closed; stage ids are portal-specific, these are the
# default pipeline's), priority LOW/MEDIUM/HIGH/URGENT, the category's default options plus the
# one this business added for deliveries (options are portal-configurable), the source channel.
TICKET_STAGES = {"1": "New", "2": "Waiting on contact", "3": "Waiting on us", "4": "Closed"}
TICKET_PRIORITIES = ["LOW", "MEDIUM", "HIGH", "URGENT"]
TICKET_CATEGORIES = ["PRODUCT_ISSUE", "BILLING_ISSUE", "FEATURE_REQUEST", "GENERAL_INQUIRY", "DELIVERY_ISSUE"]
TICKET_SOURCES = ["EMAIL", "PHONE", "CHAT", "FORM"]

def _record_dates(group: str, created: str = "createdate", modified: str = "hs_lastmodifieddate") -> list[tuple]:
    """The read-only properties every object has: create and modification dates, record id."""
    return [(created, "Create Date", "datetime", "date", group, None, True, True),
            (modified, "Last Modified Date", "datetime", "date", group, None, True, True),
            ("hs_object_id", "Record ID", "number", "number", group, None, True, True)]


# (name, label, type, fieldType, group, options, read-only value, HubSpot-defined)
_STANDARD = {
    "contacts": [
        ("email", "Email", "string", "text", "contactinformation", None, False, True),
        ("firstname", "First Name", "string", "text", "contactinformation", None, False, True),
        ("lastname", "Last Name", "string", "text", "contactinformation", None, False, True),
        ("phone", "Phone Number", "string", "phonenumber", "contactinformation", None, False, True),
        ("mobilephone", "Mobile Phone Number", "string", "phonenumber", "contactinformation", None, False, True),
        ("company", "Company Name", "string", "text", "contactinformation", None, False, True),
        ("jobtitle", "Job Title", "string", "text", "contactinformation", None, False, True),
        ("address", "Street Address", "string", "text", "contactinformation", None, False, True),
        ("city", "City", "string", "text", "contactinformation", None, False, True),
        ("country", "Country/Region", "string", "text", "contactinformation", None, False, True),
        ("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", "contactinformation", LIFECYCLE, False, True),
        ("hs_marketable_status", "Marketing contact status", "enumeration", "select", "contactinformation",
         ["true", "false"], True, True),
        ("hs_legal_basis", "Legal basis for processing contact's data", "enumeration", "checkbox",
         "contactinformation", LEGAL_BASES, False, True),
        ("tax_id", "NIT / Cédula", "string", "text", "contactinformation", None, False, False),
        *_record_dates("contactinformation", modified="lastmodifieddate"),
    ],
    "companies": [
        ("name", "Company name", "string", "text", "companyinformation", None, False, True),
        ("domain", "Company Domain Name", "string", "text", "companyinformation", None, False, True),
        ("phone", "Phone Number", "string", "phonenumber", "companyinformation", None, False, True),
        ("city", "City", "string", "text", "companyinformation", None, False, True),
        ("country", "Country/Region", "string", "text", "companyinformation", None, False, True),
        *_record_dates("companyinformation"),
    ],
    "deals": [
        ("dealname", "Deal Name", "string", "text", "dealinformation", None, False, True),
        ("amount", "Amount", "number", "number", "dealinformation", None, False, True),
        ("deal_currency_code", "Currency", "enumeration", "select", "dealinformation", ["COP", "USD"], False, True),
        ("dealstage", "Deal Stage", "enumeration", "radio", "dealinformation", DEAL_STAGES, False, True),
        ("pipeline", "Pipeline", "enumeration", "select", "dealinformation", ["default"], False, True),
        ("closedate", "Close Date", "datetime", "date", "dealinformation", None, False, True),
        *_record_dates("dealinformation"),
    ],
    "line_items": [
        ("name", "Name", "string", "text", "lineiteminformation", None, False, True),
        ("hs_sku", "SKU", "string", "text", "lineiteminformation", None, False, True),
        ("quantity", "Quantity", "number", "number", "lineiteminformation", None, False, True),
        ("price", "Unit price", "number", "number", "lineiteminformation", None, False, True),
        ("discount", "Unit discount", "number", "number", "lineiteminformation", None, False, True),
        ("hs_discount_percentage", "Discount Percentage", "number", "number", "lineiteminformation", None, False,
         True),
        ("amount", "Net price", "number", "number", "lineiteminformation", None, True, True),
        *_record_dates("lineiteminformation"),
    ],
    "tasks": [
        ("hs_timestamp", "Due date", "datetime", "date", "taskinformation", None, False, True),
        ("hs_task_subject", "Task Title", "string", "text", "taskinformation", None, False, True),
        ("hs_task_body", "Notes", "string", "html", "taskinformation", None, False, True),
        ("hs_task_status", "Task Status", "enumeration", "select", "taskinformation", TASK_STATUSES, False, True),
        ("hs_task_priority", "Priority", "enumeration", "select", "taskinformation", TASK_PRIORITIES, False, True),
        ("hs_task_type", "Task Type", "enumeration", "select", "taskinformation", TASK_TYPES, False, True),
        ("hs_task_reminders", "Reminder", "string", "text", "taskinformation", None, False, True),
        *_record_dates("taskinformation", created="hs_createdate"),
    ],
    "tickets": [
        ("subject", "Ticket name", "string", "text", "ticketinformation", None, False, True),
        ("content", "Ticket description", "string", "textarea", "ticketinformation", None, False, True),
        ("hs_pipeline", "Pipeline", "enumeration", "select", "ticketinformation", ["0"], False, True),
        ("hs_pipeline_stage", "Ticket status", "enumeration", "select", "ticketinformation",
         list(TICKET_STAGES), False, True),
        ("hs_ticket_category", "Category", "enumeration", "checkbox", "ticketinformation", TICKET_CATEGORIES, False,
         True),
        ("hs_ticket_priority", "Priority", "enumeration", "select", "ticketinformation", TICKET_PRIORITIES, False,
         True),
        ("source_type", "Source", "enumeration", "select", "ticketinformation", TICKET_SOURCES, False, True),
        ("first_agent_reply_date", "First agent email response date", "datetime", "date", "ticketinformation",
         None, True, True),
        ("closed_date", "Close date", "datetime", "date", "ticketinformation", None, False, True),
        ("hs_v2_date_entered_4", "Date entered 'Closed (Support Pipeline)'", "datetime", "date",
         "ticketinformation", None, True, True),
        ("hs_v2_date_exited_4", "Date exited 'Closed (Support Pipeline)'", "datetime", "date", "ticketinformation",
         None, True, True),
        *_record_dates("ticketinformation"),
    ],
}
_GROUPS = {"contacts": [("contactinformation", "Contact information")],
           "companies": [("companyinformation", "Company information")],
           "deals": [("dealinformation", "Deal information")],
           "line_items": [("lineiteminformation", "Line item information")],
           "tasks": [("taskinformation", "Task information")],
           "tickets": [("ticketinformation", "Ticket information")]}


class HubSpotError(Exception):
    """An error answer in HubSpot's shape."""

    def __init__(self, status: int, category: str, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.category, self.message, self.extra = status, category, message, extra

    def response(self) -> JSONResponse:
        return error_response(self.status, self.category, self.message, **self.extra)


def error_response(status: int, category: str, message: str, headers: dict | None = None,
                   **extra: Any) -> JSONResponse:
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category,
            **extra}
    return JSONResponse(body, status_code=status, headers=headers)


def _held_key(name: str, properties: dict) -> str | None:
    """The value a record is held under in `Portal._unique_values`' `name` (None when it has none): the
    property's value, a contact's email (`CONTACT_EMAIL`) in lower case."""
    value = properties.get("email" if name == CONTACT_EMAIL else name)
    if value in (None, ""):
        return None
    return value.lower() if name == CONTACT_EMAIL else value


def _problem(status: int, category: str, message: str, errors: list[dict]) -> dict:
    return {"status_code": status, "category": category, "message": message, "errors": errors}


def required_scopes(method: str, path: str) -> list[str]:
    """The scopes a call needs (all of them): each object's read or write scope, its schema's for
    property definitions, the owners' for owners."""
    objects = re.match(r"^/crm/v3/objects/([^/]+)", path)
    if objects:
        obj = OBJECT_TYPES.get(objects.group(1))
        reading = method == "GET" or path.endswith(("/search", "/batch/read"))
        if obj in RECORD_SCOPES:
            return [RECORD_SCOPES[obj]]
        return [f"crm.objects.{SCOPE_OBJECT[obj]}.{'read' if reading else 'write'}"] if obj else []
    schema = re.match(r"^/crm/v3/properties/([^/]+)", path)
    if schema:
        obj = OBJECT_TYPES.get(schema.group(1))
        return [f"crm.schemas.{SCOPE_OBJECT[obj]}.{'read' if method == 'GET' else 'write'}"] if obj else []
    associations = re.match(r"^/crm/v4/associations/([^/]+)/([^/]+)/", path)
    if associations:
        pair = [OBJECT_TYPES.get(associations.group(i)) for i in (1, 2)]
        return [RECORD_SCOPES.get(o) or f"crm.objects.{SCOPE_OBJECT[o]}.read" for o in dict.fromkeys(pair) if o]
    if path.startswith("/crm/v3/owners"):
        return ["crm.objects.owners.read"]
    return []


def _option(value: str, label: str, order: int) -> dict:
    return {"label": label, "value": value, "displayOrder": order, "hidden": False, "description": ""}


def _property(created_at: str, name: str, label: str, ptype: str, field_type: str, group: str,
              options: list[dict], read_only: bool, hubspot_defined: bool, description: str = "",
              display_order: int = -1) -> dict:
    return {
        "name": name, "label": label, "type": ptype, "fieldType": field_type, "description": description,
        "groupName": group, "options": options, "displayOrder": display_order, "calculated": False,
        "externalOptions": False, "hasUniqueValue": False, "hidden": False, "hubspotDefined": hubspot_defined,
        "modificationMetadata": {"archivable": not hubspot_defined, "readOnlyDefinition": hubspot_defined,
                                 "readOnlyValue": read_only},
        "formField": not read_only, "dataSensitivity": "non_sensitive", "createdAt": created_at,
        "updatedAt": created_at, "archived": False,
    }


class Portal:
    """One HubSpot account: the business's CRM records plus its property definitions."""

    def __init__(self, business: Business, faults: FaultInjector | None = None):
        self.business, self.faults = business, faults
        created = hubspot_ts(datetime.combine(business.go_live, datetime.min.time(), UTC))
        self.properties: dict[str, dict[str, dict]] = {}
        self.groups: dict[str, dict[str, dict]] = {}
        for obj, props in _STANDARD.items():
            self.properties[obj] = {
                name: _property(created, name, label, ptype, ftype, group,
                                [_option(v, v, i) for i, v in enumerate(options or [])], read_only, defined)
                for name, label, ptype, ftype, group, options, read_only, defined in props}
            self.groups[obj] = {name: {"name": name, "label": label, "displayOrder": 0, "archived": False}
                                for name, label in _GROUPS[obj]}
        owners = [_option(o["id"], f"{o['firstName']} {o['lastName']}", i)
                  for i, o in enumerate(business.records.hubspot_owners)]
        for obj in ("contacts", "tasks"):
            self.properties[obj][OWNER] = _property(created, OWNER, "Contact owner" if obj == "contacts" else
                                                    "Assigned to", "enumeration", "select", _GROUPS[obj][0][0],
                                                    owners, False, True)

    def known_properties(self, obj: str) -> dict[str, dict]:
        """The property definitions, including custom ones the business added since and without the
        ones it deleted (schema drift)."""
        known = self.properties[obj]
        for name in self.business.extra_fields.get(("hubspot", obj), []):
            if name not in known:
                known[name] = _property(hubspot_ts(self.business.now()), name, name.replace("_", " ").title(),
                                        "string", "text", _GROUPS[obj][0][0], [], False, False)
        for name in self.business.dropped_fields.get(("hubspot", obj), []):
            known.pop(name, None)
        return known

    # ------------------------------------------------------------------ reading objects

    def view(self, obj: str, rid: int, properties: list[str] | None, associations: list[str]) -> dict:
        """An object as the API returns it: selected properties (null when unset), associations."""
        record = self.business.hubspot[obj][rid]
        known = self.known_properties(obj)
        if properties is None:
            names = DEFAULT_PROPERTIES[obj]
        else:
            names = [p for p in dict.fromkeys([*properties, CREATED.get(obj, "createdate"), MODIFIED[obj],
                                               "hs_object_id"]) if p in known]
        out = {"id": record["id"], "properties": {n: record["properties"].get(n) for n in names},
               "createdAt": record["createdAt"], "updatedAt": record["updatedAt"], "archived": record["archived"]}
        if record["archived"]:
            out["archivedAt"] = record.get("archivedAt")
        linked = self.business.hubspot_associations.get((obj, rid), {})
        found = {}
        for other in associations:
            other = OBJECT_TYPES.get(other, other)
            ids = linked.get(other)
            if ids:
                found[other] = {"results": [{"id": str(i), "type": f"{SINGULAR[obj]}_to_{SINGULAR[other]}"}
                                            for i in ids]}
        if found:
            out["associations"] = found
        return out

    def list_page(self, obj: str, limit: int, after: int, archived: bool) -> tuple[list[int], int | None]:
        """Ids of one page of ``GET /objects`` (ascending id), and the next cursor if there is more."""
        ids = self.business.ids("hubspot", obj)
        table = self.business.hubspot[obj]
        page: list[int] = []
        for pos in range(bisect.bisect_left(ids, after), len(ids)):
            rid = ids[pos]
            if table[rid]["archived"] != archived:
                continue
            if len(page) == limit:
                return page, rid
            page.append(rid)
        return page, None

    def associations(self, obj: str, target: str, body: Any) -> tuple[int, dict]:
        """``POST /crm/v4/associations/{obj}/{target}/batch/read``."""
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list) or not inputs:
            raise HubSpotError(400, "VALIDATION_ERROR", "inputs must be a non-empty list")
        if len(inputs) > MAX_ASSOCIATION_INPUTS:
            raise HubSpotError(400, "VALIDATION_ERROR", f"Batch input is limited to {MAX_ASSOCIATION_INPUTS} "
                               f"inputs, got {len(inputs)}")
        type_id = ASSOCIATION_TYPE_IDS.get((obj, target))
        results, missing = [], []
        for item in inputs:
            key = str(item.get("id")) if isinstance(item, dict) else ""
            linked = self.business.hubspot_associations.get((obj, int(key)), {}) if key.isdigit() else {}
            ids = linked.get(target) or []
            if not ids:
                missing.append(key)
                continue
            results.append({"from": {"id": key}, "to": [
                {"toObjectId": i, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": type_id,
                                                        "label": None}]} for i in ids]})
        started = hubspot_ts(self.business.now())
        out: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started,
                               "completedAt": started}
        if missing:
            out.update(numErrors=len(missing), errors=[{
                "status": "error", "category": "NO_ASSOCIATIONS_FOUND",
                "message": f"No {target} associated with {len(missing)} of the {obj} asked for",
                "context": {"fromObjectId": missing}, "errors": [], "links": {}}])
        return (207 if missing else 200), out

    def mutate(self, obj: str, faults: FaultInjector, path: str) -> None:
        """Changes made while a client pages (now) and late updates (stamped in the past)."""
        for mutation in faults.mutations(path):
            rid = faults.pick(self.business.ids("hubspot", obj))
            if rid is not None and not self.business.hubspot[obj][rid]["archived"]:
                self.business.touch("hubspot", obj, rid,
                                    late_by=faults.late_by_seconds if mutation == "late" else 0.0)

    def find(self, obj: str, key: str, id_property: str | None) -> int:
        table = self.business.hubspot[obj]
        if id_property in (None, "hs_object_id"):
            rid = int(key) if key.isdigit() else -1
            if rid in table:
                return rid
        elif id_property == "email" and obj == "contacts":
            for rid in self.business.ids("hubspot", obj):
                if (table[rid]["properties"].get("email") or "").strip().lower() == key.strip().lower():
                    return rid
        else:
            raise HubSpotError(400, "VALIDATION_ERROR", f"{id_property} is not a unique property of {obj}")
        raise HubSpotError(404, "OBJECT_NOT_FOUND", "resource not found")

    # ------------------------------------------------------------------ search

    def search(self, obj: str, body: dict) -> dict:
        if not isinstance(body, dict):
            raise HubSpotError(400, "VALIDATION_ERROR", "The request body must be a JSON object")
        limit = _integer(body.get("limit", 10), "limit")
        if not 1 <= limit <= MAX_SEARCH_LIMIT:
            raise HubSpotError(400, "VALIDATION_ERROR", f"limit must be between 1 and {MAX_SEARCH_LIMIT}, got {limit}")
        after = _integer(body.get("after") or 0, "after")
        if after >= MAX_SEARCH_RESULTS:
            raise HubSpotError(400, "VALIDATION_ERROR",
                               f"Paging past {MAX_SEARCH_RESULTS} results is not supported (after={after}). "
                               "Narrow the search, e.g. with a later lastmodifieddate, and page again.")
        query_key = json.dumps([obj, body.get("filterGroups"), body.get("sorts"), body.get("query")],
                               sort_keys=True, default=str)
        matches = self.business.memoised(("hubspot", query_key), lambda: self._matches(obj, body))
        props = body.get("properties")
        names = None if not props else [str(p) for p in props]
        page = matches[after:after + limit]
        out: dict[str, Any] = {"total": len(matches), "results": [self.view(obj, r, names, []) for r in page]}
        if self.faults is not None:
            out["results"] = [self.faults.serve(obj, r, f"/crm/v3/objects/{obj}/search") for r in out["results"]]
        if after + limit < len(matches):
            out["paging"] = {"next": {"after": str(after + limit)}}
        return out

    def _matches(self, obj: str, body: dict) -> list[int]:
        """Ids of the live objects a search finds, in the order it asks for (by id otherwise)."""
        predicate = self._filters(obj, body.get("filterGroups") or [])
        query = str(body.get("query") or "").strip().lower()
        table = self.business.hubspot[obj]
        matches = []
        for rid in self.business.ids("hubspot", obj):
            props = table[rid]["properties"]
            if table[rid]["archived"] or not predicate(props):
                continue
            if query and not any(query in (props.get(p) or "").lower() for p in SEARCHABLE[obj]):
                continue
            matches.append(rid)
        sorts = body.get("sorts") or []
        if len(sorts) > 1:
            raise HubSpotError(400, "VALIDATION_ERROR", "Search supports sorting by one property only")
        if not sorts:
            return matches
        name, descending = _sort_spec(sorts[0])
        self._check_property(obj, name)
        key = self._typed_getter(obj, name)
        present = [r for r in matches if table[r]["properties"].get(name) not in (None, "")]
        absent = [r for r in matches if table[r]["properties"].get(name) in (None, "")]
        present.sort(key=lambda r: (key(table[r]["properties"][name]), r), reverse=descending)
        return present + absent

    def _check_property(self, obj: str, name: Any) -> dict:
        if not isinstance(name, str) or name not in self.known_properties(obj):
            raise HubSpotError(400, "VALIDATION_ERROR", f"There was a problem with the request: property "
                                                        f"'{name}' does not exist on {obj}")
        return self.properties[obj][name]

    def _typed_getter(self, obj: str, name: str) -> Callable[[str], Any]:
        ptype = self.properties[obj][name]["type"]
        if ptype == "number":
            return lambda v: _number(v, name)
        if ptype in ("datetime", "date"):
            return lambda v: _epoch_ms(v, name)
        return lambda v: str(v).lower()

    def _filters(self, obj: str, groups: Any) -> Callable[[dict], bool]:
        if not isinstance(groups, list) or len(groups) > MAX_FILTER_GROUPS:
            raise HubSpotError(400, "VALIDATION_ERROR", f"filterGroups must be a list of at most {MAX_FILTER_GROUPS}")
        total = sum(len(g.get("filters") or []) for g in groups if isinstance(g, dict))
        if total > MAX_FILTERS:
            raise HubSpotError(400, "VALIDATION_ERROR", f"At most {MAX_FILTERS} filters may be used, got {total}")
        compiled = []
        for group in groups:
            filters = group.get("filters") if isinstance(group, dict) else None
            if not isinstance(filters, list) or len(filters) > MAX_FILTERS_PER_GROUP:
                raise HubSpotError(400, "VALIDATION_ERROR",
                                   f"Each filter group needs a list of at most {MAX_FILTERS_PER_GROUP} filters")
            compiled.append([self._filter(obj, f) for f in filters])
        if not compiled:
            return lambda props: True
        return lambda props: any(all(f(props) for f in group) for group in compiled)

    def _filter(self, obj: str, spec: Any) -> Callable[[dict], bool]:
        if not isinstance(spec, dict) or "propertyName" not in spec or "operator" not in spec:
            raise HubSpotError(400, "VALIDATION_ERROR", "Each filter needs propertyName and operator")
        name, op = spec["propertyName"], spec["operator"]
        self._check_property(obj, name)
        typed = self._typed_getter(obj, name)
        if op == "HAS_PROPERTY":
            return lambda p: p.get(name) not in (None, "")
        if op == "NOT_HAS_PROPERTY":
            return lambda p: p.get(name) in (None, "")
        if op in ("IN", "NOT_IN"):
            values = spec.get("values")
            if not isinstance(values, list):
                raise HubSpotError(400, "VALIDATION_ERROR", f"{op} needs a list of values")
            wanted = {typed(str(v)) for v in values}
            if op == "IN":
                return lambda p: p.get(name) not in (None, "") and typed(p[name]) in wanted
            return lambda p: p.get(name) in (None, "") or typed(p[name]) not in wanted
        if "value" not in spec:
            raise HubSpotError(400, "VALIDATION_ERROR", f"{op} needs a value")
        if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            token = str(spec["value"]).strip("*").lower()

            def contains(p: dict) -> bool:
                return token in re.split(r"[\s@.,;:_-]+", (p.get(name) or "").lower()) or (
                    str(spec["value"]).startswith("*") and token in (p.get(name) or "").lower())
            return contains if op == "CONTAINS_TOKEN" else (lambda p: not contains(p))
        value = typed(str(spec["value"]))
        if op == "BETWEEN":
            high = typed(str(spec.get("highValue", "")))
            return lambda p: p.get(name) not in (None, "") and value <= typed(p[name]) <= high
        compare: dict[str, Callable[[Any], bool]] = {
            "EQ": lambda v: v == value, "NEQ": lambda v: v != value, "LT": lambda v: v < value,
            "LTE": lambda v: v <= value, "GT": lambda v: v > value, "GTE": lambda v: v >= value}
        if op not in compare:
            raise HubSpotError(400, "VALIDATION_ERROR", f"Unknown filter operator {op!r}")
        test = compare[op]
        if op == "NEQ":
            return lambda p: p.get(name) in (None, "") or test(typed(p[name]))
        return lambda p: p.get(name) not in (None, "") and test(typed(p[name]))

    # ------------------------------------------------------------------ writing

    def validate_properties(self, obj: str, properties: Any) -> tuple[dict[str, str | None], list[dict]]:
        """Normalised values to write, and the problems found (one error detail per property)."""
        if not isinstance(properties, dict):
            return {}, [{"message": "properties must be an object", "code": "INVALID_INPUT"}]
        values: dict[str, str | None] = {}
        problems = []
        for name, raw in properties.items():
            spec = self.known_properties(obj).get(name)
            if spec is None or spec["archived"]:
                problems.append({"message": f'Property "{name}" does not exist', "code": "PROPERTY_DOESNT_EXIST",
                                 "context": {"propertyName": [name]}})
            elif spec["modificationMetadata"]["readOnlyValue"]:
                problems.append({"message": f'"{name}" is a read only property; its value cannot be set.',
                                 "code": "READ_ONLY_VALUE", "context": {"propertyName": [name]}})
            else:
                try:
                    values[name] = _coerce(spec, raw)
                except ValueError as exc:
                    problems.append({"message": f'{raw!r} is not a valid value for "{name}": {exc}',
                                     "code": "INVALID_OPTION" if spec["type"] == "enumeration" else "INVALID_VALUE",
                                     "context": {"propertyName": [name]}})
        return values, problems

    def batch_update(self, obj: str, body: Any) -> tuple[int, dict]:
        inputs = _batch_inputs(body)
        ids = [str(i.get("id")) if isinstance(i, dict) else "" for i in inputs]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise HubSpotError(400, "VALIDATION_ERROR", f"Duplicate IDs found in batch input: {duplicates}",
                               context={"ids": duplicates})
        started = hubspot_ts(self.business.now())
        table = self.business.hubspot[obj]
        results, errors, missing = [], [], []
        for item, key in zip(inputs, ids, strict=True):
            rid = int(key) if key.isdigit() else -1
            if rid not in table or table[rid]["archived"]:
                missing.append(key)
                continue
            values, problems = self.validate_properties(obj, item.get("properties"))
            if problems:
                errors.append({"status": "error", "category": "VALIDATION_ERROR",
                               "message": f"Property values were not valid for {SINGULAR[obj]} {key}",
                               "context": {"id": [key]}, "errors": problems, "links": {}})
                continue
            self.business.hubspot_write(obj, rid, values)
            results.append(self.view(obj, rid, list(values), []))
        if missing:
            errors.append({"status": "error", "category": "OBJECT_NOT_FOUND",
                           "message": f"Could not get some {SINGULAR[obj].upper()} objects, they may be deleted "
                                      "or not exist. Check that ids are valid.",
                           "context": {"ids": missing}, "errors": [], "links": {}})
        out: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started,
                               "completedAt": started}
        if errors:
            out.update(numErrors=sum(len(e["context"].get("ids", e["context"].get("id", []))) for e in errors),
                       errors=errors)
        return (207 if errors else 200), out

    def batch_archive(self, obj: str, body: Any) -> None:
        """``POST …/batch/archive``: each id archived (restorable for 90 days, as deleting in HubSpot
        is); an id that does not exist or is archived already is passed over, and the answer is 204."""
        inputs = _batch_inputs(body)
        table = self.business.hubspot[obj]
        for item in inputs:
            key = str(item.get("id")) if isinstance(item, dict) else ""
            if key.isdigit() and int(key) in table and not table[int(key)]["archived"]:
                self.business.delete("hubspot", obj, int(key))

    def create(self, obj: str, body: Any) -> dict:
        """``POST /crm/v3/objects/{object}``: one record, or the error HubSpot answers."""
        values, links, problem = self._creation(obj, body, self._unique_values(obj))
        if problem is not None:
            raise HubSpotError(problem["status_code"], problem["category"], problem["message"],
                               errors=problem["errors"])
        rid = self._make(obj, values, links)
        return self.view(obj, rid, list(values), [])

    def batch_create(self, obj: str, body: Any) -> tuple[int, dict]:
        """``POST …/batch/create``: all or nothing, unless every input carries its own
        ``objectWriteTraceId`` (then the good ones are made and the others named in ``errors``)."""
        inputs = _batch_inputs(body)
        traces = [i.get("objectWriteTraceId") if isinstance(i, dict) else None for i in inputs]
        traced = all(isinstance(t, str) and t for t in traces)
        if traced and len(set(traces)) != len(traces):
            raise HubSpotError(400, "VALIDATION_ERROR", "objectWriteTraceId must be unique within a batch")
        started = hubspot_ts(self.business.now())
        accepted, errors, held = [], [], self._unique_values(obj)
        for item, trace in zip(inputs, traces, strict=True):
            values, links, problem = self._creation(obj, item, held)
            if problem is None:
                accepted.append((values, links, trace))
                for name, taken in held.items():  # now held by another input of this batch
                    if (key := _held_key(name, values)) is not None:
                        taken[key] = None
            elif not traced:
                raise HubSpotError(problem["status_code"], problem["category"], problem["message"],
                                   errors=problem["errors"])
            else:
                errors.append({"status": "error", "category": problem["category"], "message": problem["message"],
                               "context": {"objectWriteTraceId": [trace]}, "errors": problem["errors"], "links": {}})
        results = []
        for values, links, trace in accepted:
            result = self.view(obj, self._make(obj, values, links), list(values), [])
            if trace:
                result["objectWriteTraceId"] = trace
            results.append(result)
        out: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": started}
        if errors:
            out.update(numErrors=len(errors), errors=errors)
        return (207 if errors else 201), out

    def _unique_values(self, obj: str) -> dict[str, dict[str, int | None]]:
        """For each property of ``obj`` with unique values: value -> the live record holding it
        (read once per request, so a batch is checked in one pass over the records)."""
        names = [n for n, spec in self.known_properties(obj).items() if spec["hasUniqueValue"]]
        held: dict[str, dict[str, int | None]] = {n: {} for n in names}
        if obj == "contacts":  # a contact's email, in any capitals (HubSpot deduplicates contacts by it)
            held[CONTACT_EMAIL] = {}
        if held:
            for rid, record in self.business.hubspot[obj].items():
                if not record["archived"]:
                    for name in held:
                        if (key := _held_key(name, record["properties"])) is not None:
                            held[name].setdefault(key, rid)
        return held

    def _creation(self, obj: str, item: Any, held: dict[str, dict[str, int | None]]
                  ) -> tuple[dict, list[tuple[str, int]], dict | None]:
        """An input's values and associations, and what is wrong with it (None when nothing):
        invalid properties, a required one missing, a bad association, a unique value taken
        (``held``: see ``_unique_values``; None marks a value taken by another input of the batch)."""
        if not isinstance(item, dict):
            return {}, [], _problem(400, "VALIDATION_ERROR", "Each input must be an object", [])
        values, problems = self.validate_properties(obj, item.get("properties"))
        values = {**CREATE_DEFAULTS.get(obj, {}), **{k: v for k, v in values.items() if v is not None}}
        problems += [{"message": f"{name} is required", "code": "REQUIRED_FIELD", "context": {"propertyName": [name]}}
                     for name in REQUIRED.get(obj, ()) if not values.get(name)]
        if problems:
            return {}, [], _problem(400, "VALIDATION_ERROR", "Property values were not valid", problems)
        links, problem = self._links(obj, item.get("associations") or [])
        if problem is not None:
            return {}, [], problem
        email = _held_key(CONTACT_EMAIL, values)
        if CONTACT_EMAIL in held and email in held[CONTACT_EMAIL]:
            holder = held[CONTACT_EMAIL][email]
            return {}, [], _problem(409, "CONFLICT", "Contact already exists. Existing ID: " + (
                str(holder) if holder is not None else "(another input of this batch)"), [])
        for name, value in values.items():
            if name in held and value in held[name]:
                holder = held[name][value]
                where = f"record {holder}" if holder is not None else "another input of this batch"
                return {}, [], _problem(409, "CONFLICT", f"{value!r} is already the value of {name} on {where}; "
                                        f"{name} has unique values", [{
                                            "message": f"Duplicate value for unique property {name}",
                                            "code": "CONFLICT", "context": {"propertyName": [name]}}])
        return values, links, None

    def _links(self, obj: str, associations: Any) -> tuple[list[tuple[str, int]], dict | None]:
        """``associations`` as (object, id) pairs; HubSpot-defined types only, to live records."""
        by_type = {type_id: target for (source, target), type_id in ASSOCIATION_TYPE_IDS.items() if source == obj}
        links = []
        for association in associations if isinstance(associations, list) else [None]:
            target_id = str(((association or {}).get("to") or {}).get("id", "")) if isinstance(association, dict) else ""
            types = association.get("types") if isinstance(association, dict) else None
            if not target_id or not isinstance(types, list) or not types:
                return [], _problem(400, "VALIDATION_ERROR", "Each association needs to.id and types", [])
            for kind in types:
                type_id = kind.get("associationTypeId") if isinstance(kind, dict) else None
                category = kind.get("associationCategory", "HUBSPOT_DEFINED") if isinstance(kind, dict) else None
                target = by_type.get(type_id) if category == "HUBSPOT_DEFINED" else None
                if target is None or category not in ASSOCIATION_CATEGORIES:
                    return [], _problem(400, "VALIDATION_ERROR", f"{type_id!r} is not a valid association type from "
                                        f"{SINGULAR[obj]} ({category})", [])
                record = self.business.hubspot[target].get(int(target_id)) if target_id.isdigit() else None
                if record is None or record["archived"]:
                    return [], _problem(400, "VALIDATION_ERROR", f"The {SINGULAR[target]} with id {target_id} "
                                        "to associate does not exist", [])
                links.append((target, int(target_id)))
        return links, None

    def _make(self, obj: str, values: dict, links: list[tuple[str, int]]) -> int:
        crm, now = self.business.crm, self.business.now()
        if obj == "tasks":
            return int(crm.create_task(values, links, now)["id"])
        record = crm.create(obj, values, now, None)
        for target, rid in links:
            crm.associate(obj, int(record["id"]), target, rid)
        return int(record["id"])

    # ------------------------------------------------------------------ owners and tokens

    def owners(self, email: str | None, limit: int, after: int, archived: bool) -> dict:
        found = [o for o in self.business.records.hubspot_owners if o["archived"] == archived
                 and (not email or o["email"].lower() == email.strip().lower())]
        page = found[after:after + limit]
        out: dict[str, Any] = {"results": page}
        if after + limit < len(found):
            out["paging"] = {"next": {"after": str(after + limit)}}
        return out

    def owner(self, key: str, id_property: str) -> dict:
        field = {"id": "id", "userId": "userId"}.get(id_property)
        if field is None:
            raise HubSpotError(400, "VALIDATION_ERROR", f"idProperty must be id or userId, got {id_property!r}")
        for owner in self.business.records.hubspot_owners:
            if str(owner[field]) == key:
                return owner
        raise HubSpotError(404, "OBJECT_NOT_FOUND", f"Owner {key} not found")

    def create_property(self, obj: str, body: Any) -> dict:
        if not isinstance(body, dict):
            raise HubSpotError(400, "VALIDATION_ERROR", "The request body must be a JSON object")
        missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)]
        if missing:
            raise HubSpotError(400, "VALIDATION_ERROR", f"Missing required fields: {missing}",
                               context={"missingFields": missing})
        name, ptype, field_type = body["name"], body["type"], body["fieldType"]
        if not PROPERTY_NAME.match(str(name)) or str(name).startswith("hs_"):
            raise HubSpotError(400, "VALIDATION_ERROR", f"Invalid property name {name!r}: use lowercase letters, "
                               "digits and underscores, starting with a letter (the hs_ prefix is reserved)")
        if name in self.known_properties(obj):
            raise HubSpotError(409, "OBJECT_ALREADY_EXISTS", f"A property named {name!r} already exists on {obj}",
                               context={"name": [name]})
        if field_type not in FIELD_TYPES.get(ptype, ()):
            raise HubSpotError(400, "VALIDATION_ERROR",
                               f"fieldType {field_type!r} cannot be used with type {ptype!r}; allowed: "
                               f"{sorted(FIELD_TYPES.get(ptype, ())) or sorted(FIELD_TYPES)}")
        if body["groupName"] not in self.groups[obj]:
            raise HubSpotError(400, "VALIDATION_ERROR", f"Property group {body['groupName']!r} does not exist on "
                               f"{obj}: create it first with POST /crm/v3/properties/{obj}/groups")
        options = body.get("options") or []
        if ptype == "enumeration" and not options:
            raise HubSpotError(400, "VALIDATION_ERROR", "Enumeration properties need options")
        if not all(isinstance(o, dict) and o.get("label") and o.get("value") not in (None, "") for o in options):
            raise HubSpotError(400, "VALIDATION_ERROR", "Each option needs a label and a value")
        created = _property(
            hubspot_ts(self.business.now()), name, body["label"], ptype, field_type, body["groupName"],
            [_option(str(o["value"]), o["label"], o.get("displayOrder", i)) for i, o in enumerate(options)],
            False, False, body.get("description", ""), body.get("displayOrder", -1))
        created["hasUniqueValue"] = bool(body.get("hasUniqueValue"))  # once set, it cannot be changed
        self.properties[obj][name] = created
        return created

    def create_group(self, obj: str, body: Any) -> dict:
        if not isinstance(body, dict) or not body.get("name") or not body.get("label"):
            raise HubSpotError(400, "VALIDATION_ERROR", "A property group needs a name and a label")
        if body["name"] in self.groups[obj]:
            raise HubSpotError(409, "OBJECT_ALREADY_EXISTS", f"A property group named {body['name']!r} already exists")
        group = {"name": body["name"], "label": body["label"], "displayOrder": body.get("displayOrder", -1),
                 "archived": False}
        self.groups[obj][body["name"]] = group
        return group


def _integer(value: Any, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise HubSpotError(400, "VALIDATION_ERROR", f"{what} must be an integer, got {value!r}") from None


def _number(value: str, name: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise HubSpotError(400, "VALIDATION_ERROR", f"{value!r} is not a number (property {name})") from None


def _epoch_ms(value: str, name: str) -> int:
    """A datetime value in any form HubSpot accepts (epoch ms or ISO 8601) as epoch milliseconds."""
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise HubSpotError(400, "VALIDATION_ERROR", f"{value!r} is not a date (property {name})") from None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
    return math.floor(parsed.timestamp() * 1000)



def _batch_inputs(body: Any) -> list:
    """A batch call's ``inputs``, or the 400 HubSpot answers to an empty or oversized batch."""
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or not inputs:
        raise HubSpotError(400, "VALIDATION_ERROR", "inputs must be a non-empty list")
    if len(inputs) > MAX_BATCH:
        raise HubSpotError(400, "VALIDATION_ERROR", f"Batch input is limited to {MAX_BATCH} inputs, got {len(inputs)}",
                           context={"maxInputs": [str(MAX_BATCH)]})
    return inputs

def _coerce(spec: dict, raw: Any) -> str | None:
    """A value as HubSpot stores it, or ValueError. ``null`` or ``""`` clears the property."""
    if raw is None or raw == "":
        return None
    value = str(raw).lower() if isinstance(raw, bool) else str(raw)
    ptype = spec["type"]
    if ptype == "number":
        float(value)
    elif ptype == "enumeration":
        allowed = [o["value"] for o in spec["options"]]
        if value not in allowed:
            raise ValueError(f"allowed values are {allowed}")
    elif ptype == "bool":
        if value.lower() not in ("true", "false"):
            raise ValueError("use true or false")
        value = value.lower()
    elif ptype == "datetime":
        ms = int(value) if value.isdigit() else None
        moment = (datetime.fromtimestamp(ms / 1000, UTC) if ms is not None
                  else datetime.fromisoformat(value.replace("Z", "+00:00")))
        value = hubspot_ts(moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC))
    elif ptype == "date":
        day = (datetime.fromtimestamp(int(value) / 1000, UTC).date() if value.isdigit()
               else date.fromisoformat(value[:10]))
        value = day.isoformat()
    return value


def _sort_spec(spec: Any) -> tuple[str, bool]:
    if isinstance(spec, str):  # the spec's plain form: "createdate" or "-createdate"
        return spec.lstrip("-"), spec.startswith("-")
    if isinstance(spec, dict) and "propertyName" in spec:
        return spec["propertyName"], str(spec.get("direction", "ASCENDING")).upper() == "DESCENDING"
    raise HubSpotError(400, "VALIDATION_ERROR", f"Invalid sort {spec!r}")


def _names(request: Request, param: str) -> list[str] | None:
    """A list query parameter in either form HubSpot accepts: ``a,b`` or repeated ``a&…=b``."""
    raw = request.query_params.getlist(param)
    if not raw:
        return None
    return [n.strip() for value in raw for n in value.split(",") if n.strip()]


def create_hubspot_app(business: Business, token: str, limits: Limits, faults: FaultInjector,
                       scopes: Collection[str] = SCOPES) -> FastAPI:
    """The HubSpot endpoints, to mount under ``/hubspot``; ``scopes`` are the token's."""
    portal = Portal(business, faults)
    app = service_app("Simulated HubSpot CRM v3", HubSpotError)
    ten_secondly: dict[str, RollingWindow] = {}
    secondly: dict[str, RollingWindow] = {}

    @app.middleware("http")
    async def gatekeeper(request: Request, call_next):
        header = request.headers.get("authorization", "")
        if not header and request.method == "POST" and local_path(request) == TOKEN_INFO_PATH:
            return await call_next(request)  # the token to describe is in the body
        if not header.lower().startswith("bearer "):
            return error_response(401, "INVALID_AUTHENTICATION",
                                  "Authentication credentials not found. This API supports OAuth 2.0 and "
                                  "private app access tokens sent as 'Authorization: Bearer <token>'.")
        given = header[7:].strip()
        if given != token:
            return error_response(401, "INVALID_AUTHENTICATION",
                                  "The access token is not valid: it may be expired, revoked or mistyped. "
                                  "Check the private app's access token.")
        path, fault, broken = await drawn_fault(request, faults)
        if broken is not None:
            return broken
        if fault == "5xx":
            return error_response(502, "INTERNAL_ERROR", "Bad gateway: the service is temporarily unavailable. "
                                  "Pause a few seconds and retry.")
        is_search = request.method == "POST" and path.endswith("/search")
        if is_search:
            window = secondly.setdefault(given, RollingWindow(limits.hubspot_search_per_second, 1.0, limits.clock))
            policy, label = "SECONDLY", "secondly"
        else:
            window = ten_secondly.setdefault(
                given, RollingWindow(limits.hubspot_requests, limits.hubspot_window_seconds, limits.clock))
            policy, label = "TEN_SECONDLY_ROLLING", "ten_secondly_rolling"
        decision = Decision(False, 0, 1.0) if fault == "429" else window.acquire()
        if not decision.allowed:
            retry = max(1, math.ceil(decision.retry_after))
            body = {"status": "error", "message": f"You have reached your {label} limit.",
                    "errorType": "RATE_LIMIT", "correlationId": str(uuid.uuid4()), "policyName": policy}
            return JSONResponse(body, status_code=429, headers={"Retry-After": str(retry)})
        missing = [s for s in required_scopes(request.method, path) if s not in scopes]
        if missing:
            return error_response(
                403, "MISSING_SCOPES", "This app hasn't been granted all required scopes to make this call. Read more "
                "about required scopes here: https://developers.hubspot.com/scopes.",
                errors=[{"message": "One or more of the following scopes are required.",
                         "context": {"requiredScopes": missing}}],
                links={"scopes": "https://developers.hubspot.com/scopes"})
        response = await call_next(request)
        if not is_search:
            response.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = str(int(limits.hubspot_window_seconds * 1000))
            response.headers["X-HubSpot-RateLimit-Max"] = str(limits.hubspot_requests)
            response.headers["X-HubSpot-RateLimit-Remaining"] = str(decision.remaining)
        return response

    def object_type(name: str) -> str:
        if name not in OBJECT_TYPES:
            raise HubSpotError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {name}")
        return OBJECT_TYPES[name]

    async def json_body(request: Request) -> Any:
        try:
            return json.loads(await request.body() or b"null")
        except ValueError:
            raise HubSpotError(400, "VALIDATION_ERROR", "Invalid input JSON: the body is not valid JSON") from None

    @app.get("/crm/v3/objects/{object_type_name}")
    async def list_objects(object_type_name: str, request: Request) -> JSONResponse:
        obj = object_type(object_type_name)
        limit = _integer(request.query_params.get("limit", 10), "limit")
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise HubSpotError(400, "VALIDATION_ERROR", f"limit must be between 1 and {MAX_LIST_LIMIT}, got {limit}")
        after = _integer(request.query_params.get("after") or 0, "after")
        archived = request.query_params.get("archived", "false").lower() == "true"
        path = f"/crm/v3/objects/{obj}"
        portal.mutate(obj, faults, path)
        page, next_id = portal.list_page(obj, limit, after, archived)
        properties, associations = _names(request, "properties"), _names(request, "associations") or []
        body: dict[str, Any] = {"results": [faults.serve(obj, portal.view(obj, rid, properties, associations), path)
                                            for rid in page]}
        if next_id is not None:
            link = request.url.include_query_params(after=str(next_id))
            body["paging"] = {"next": {"after": str(next_id), "link": str(link)}}
        return WireJSON(body)

    @app.post("/crm/v3/objects/{object_type_name}/search")
    async def search(object_type_name: str, request: Request) -> JSONResponse:
        obj = object_type(object_type_name)
        body = await json_body(request)
        portal.mutate(obj, faults, f"/crm/v3/objects/{obj}/search")
        return WireJSON(portal.search(obj, body))

    @app.post("/crm/v4/associations/{from_type}/{to_type}/batch/read")
    async def read_associations(from_type: str, to_type: str, request: Request) -> JSONResponse:
        status, body = portal.associations(object_type(from_type), object_type(to_type), await json_body(request))
        return JSONResponse(body, status_code=status)

    @app.post("/crm/v3/objects/{object_type_name}")
    async def create_object(object_type_name: str, request: Request) -> JSONResponse:
        return JSONResponse(portal.create(object_type(object_type_name), await json_body(request)), status_code=201)

    @app.post("/crm/v3/objects/{object_type_name}/batch/create")
    async def batch_create(object_type_name: str, request: Request) -> JSONResponse:
        status, body = portal.batch_create(object_type(object_type_name), await json_body(request))
        return JSONResponse(body, status_code=status)

    @app.get("/crm/v3/owners")
    async def list_owners(request: Request) -> JSONResponse:
        limit = _integer(request.query_params.get("limit", 100), "limit")
        if not 1 <= limit <= MAX_OWNERS_LIMIT:
            raise HubSpotError(400, "VALIDATION_ERROR", f"limit must be between 1 and {MAX_OWNERS_LIMIT}, got {limit}")
        return JSONResponse(portal.owners(request.query_params.get("email"), limit,
                                          _integer(request.query_params.get("after") or 0, "after"),
                                          request.query_params.get("archived", "false").lower() == "true"))

    @app.get("/crm/v3/owners/{owner_id}")
    async def get_owner(owner_id: str, request: Request) -> JSONResponse:
        return JSONResponse(portal.owner(owner_id, request.query_params.get("idProperty", "id")))

    @app.post(TOKEN_INFO_PATH)
    async def token_info(request: Request) -> JSONResponse:
        body = await json_body(request)
        key = body.get("tokenKey") if isinstance(body, dict) else None
        if not key:
            raise HubSpotError(400, "VALIDATION_ERROR", "tokenKey is required")
        if key != token:
            raise HubSpotError(401, "INVALID_AUTHENTICATION", "The token key is not a valid private app token")
        owners = business.records.hubspot_owners
        return JSONResponse({"userId": owners[0]["userId"] if owners else None, "hubId": HUB_ID, "appId": APP_ID,
                             "scopes": list(scopes)})

    @app.post("/crm/v3/objects/{object_type_name}/batch/update")
    async def batch_update(object_type_name: str, request: Request) -> JSONResponse:
        status, body = portal.batch_update(object_type(object_type_name), await json_body(request))
        return JSONResponse(body, status_code=status)

    @app.post("/crm/v3/objects/{object_type_name}/batch/archive")
    async def batch_archive(object_type_name: str, request: Request) -> Response:
        portal.batch_archive(object_type(object_type_name), await json_body(request))
        return Response(status_code=204)

    @app.get("/crm/v3/objects/{object_type_name}/{object_id}")
    async def get_object(object_type_name: str, object_id: str, request: Request) -> JSONResponse:
        obj = object_type(object_type_name)
        rid = portal.find(obj, object_id, request.query_params.get("idProperty"))
        archived = request.query_params.get("archived", "false").lower() == "true"
        if business.hubspot[obj][rid]["archived"] != archived:
            raise HubSpotError(404, "OBJECT_NOT_FOUND", "resource not found")
        return JSONResponse(portal.view(obj, rid, _names(request, "properties"),
                                        _names(request, "associations") or []))

    @app.patch("/crm/v3/objects/{object_type_name}/{object_id}")
    async def update_object(object_type_name: str, object_id: str, request: Request) -> JSONResponse:
        obj = object_type(object_type_name)
        rid = portal.find(obj, object_id, request.query_params.get("idProperty"))
        if business.hubspot[obj][rid]["archived"]:
            raise HubSpotError(404, "OBJECT_NOT_FOUND", "resource not found")
        body = await json_body(request)
        values, problems = portal.validate_properties(obj, body.get("properties") if isinstance(body, dict) else None)
        if problems:
            raise HubSpotError(400, "VALIDATION_ERROR", "Property values were not valid", errors=problems)
        business.hubspot_write(obj, rid, values)
        return JSONResponse(portal.view(obj, rid, list(values), []))

    @app.get("/crm/v3/properties/{object_type_name}")
    async def list_properties(object_type_name: str) -> JSONResponse:
        return JSONResponse({"results": list(portal.known_properties(object_type(object_type_name)).values())})

    @app.post("/crm/v3/properties/{object_type_name}")
    async def create_property(object_type_name: str, request: Request) -> JSONResponse:
        obj = object_type(object_type_name)
        created = portal.create_property(obj, await json_body(request))
        return JSONResponse(created, status_code=201,
                            headers={"Location": str(request.url.replace(query="")) + f"/{created['name']}"})

    @app.get("/crm/v3/properties/{object_type_name}/groups")
    async def list_groups(object_type_name: str) -> JSONResponse:
        return JSONResponse({"results": list(portal.groups[object_type(object_type_name)].values())})

    @app.post("/crm/v3/properties/{object_type_name}/groups")
    async def create_group(object_type_name: str, request: Request) -> JSONResponse:
        group = portal.create_group(object_type(object_type_name), await json_body(request))
        return JSONResponse(group, status_code=201)

    @app.get("/crm/v3/properties/{object_type_name}/{property_name}")
    async def get_property(object_type_name: str, property_name: str) -> JSONResponse:
        found = portal.known_properties(object_type(object_type_name)).get(property_name)
        if found is None:
            raise HubSpotError(404, "OBJECT_NOT_FOUND", f"Unable to find property {property_name} on "
                               f"{object_type(object_type_name)}")
        return JSONResponse(found)

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def not_found(path: str) -> Response:
        raise HubSpotError(404, "OBJECT_NOT_FOUND", f"No API endpoint /{path} in this simulator")

    return app


def _new_token() -> str:  # a private app's access token
    return f"pat-na1-{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(6)}"


def _mount(business: Business, credentials: Any, limits: Limits, faults: FaultInjector) -> FastAPI | None:
    # A business on Salesforce has no HubSpot at all (its sales team's book would show there in HubSpot's shape).
    return None if business.crm_system == "salesforce" else create_hubspot_app(
        business, credentials.hubspot_token, limits, faults, credentials.hubspot_scopes)


SIMULATOR = Simulated(name="hubspot", mount=_mount, broken_date="2026-02-30T25:61:00.000Z",
                      text_fields=("firstname", "name", "dealname", "subject"),
                      title="CRM  (HubSpot CRM v3)", endpoint=lambda credentials: "/hubspot",
                      credentials=(Credential("hubspot_token", make=_new_token), Credential("hubspot_scopes", default=SCOPES)))
