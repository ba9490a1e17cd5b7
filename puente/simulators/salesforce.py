"""Salesforce's REST API, served from the simulated business's org (``business/salesforce.py``).

What it reproduces, per Salesforce's REST API Developer Guide (developer.salesforce.com/docs/
platform/api-rest/guide: resources-query "Query", dome-query "Execute a SOQL Query",
resources-queryall "QueryAll", resources-query-more-results, headers_api_usage "Limit Info
Header", headers_queryoptions "Query Options Header", errorcodes "Status Codes and Error
Responses", resources-limits "List Org Limits", resources_composite_sobjects_collections_create
and _update "sObject Collections") and the OAuth 2.0 client credentials and refresh token flows
(remoteaccess_oauth_client_credentials_flow, remoteaccess_oauth_refresh_token_flow):

- ``POST /services/oauth2/token`` (form-encoded): ``grant_type=client_credentials`` with the
  connected app's ``client_id`` and ``client_secret``, or ``grant_type=refresh_token`` with a
  ``refresh_token`` too. Answers ``{"access_token", "instance_url", "id", "token_type": "Bearer",
  "issued_at", "signature"}``; wrong credentials 400 ``{"error": "invalid_client", …}``, an
  unknown refresh token 400 ``{"error": "invalid_grant", "error_description": "expired access/refresh
  token"}``. A session unused for ``Limits.salesforce_session_seconds`` expires: 401
  ``[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]``.
- ``GET /services/data/vXX.X/query?q=`` and ``/queryAll?q=`` run the SOQL this simulator
  understands: ``SELECT <fields> | COUNT() FROM <sObject> [WHERE <field> <op> <literal> [AND …]]
  [ORDER BY <field> [ASC|DESC], …] [LIMIT n]`` (literals: dateTimes, quoted strings, numbers,
  true, false, null). Answers ``{"totalSize", "done", "records", "nextRecordsUrl"}``, at most
  2,000 records a batch, fewer when ``Sforce-Query-Options: batchSize=n`` (200-2,000) asks; the
  rest through ``nextRecordsUrl`` (``/services/data/vXX.X/query/01g…-2000``), a locator over the
  results as they were when the query ran. ``query`` leaves deleted records out, ``queryAll``
  serves them with ``IsDeleted`` true. Records carry ``attributes`` {type, url} and the fields
  asked for. The sObjects: Account, Contact, Lead, Opportunity, OpportunityLineItem, Case (the
  service desk's), Task (what clients create). Errors: ``MALFORMED_QUERY``, ``INVALID_FIELD`` ("No such column 'X' on entity
  'Y'"), ``INVALID_TYPE``, ``INVALID_QUERY_LOCATOR``, all 400.
- ``GET /services/data/vXX.X/limits``: ``DailyApiRequests`` {Max, Remaining}.
- ``POST`` (create) and ``PATCH`` (update) ``/services/data/vXX.X/composite/sobjects``: ``{"allOrNone",
  "records": [{"attributes": {"type"}, …}]}``, at most 200 records (more: 400 ``EXCEEDED_ID_LIMIT``);
  the answer lists ``{"id", "success", "errors": [{"statusCode", "message", "fields"}]}`` in the
  order sent. Creatable: Tasks (``Subject`` and ``WhoId``, a Contact, required; an external id field
  ``Puente_Task_Key__c`` whose value must be unique: ``DUPLICATE_VALUE``). Updatable: Contacts, the
  ``Puente_*__c`` fields only (others: ``INVALID_FIELD_FOR_INSERT_UPDATE``; an unknown or deleted
  id: ``ENTITY_IS_DELETED`` / ``INVALID_CROSS_REFERENCE_KEY``), and Tasks. ``DELETE
  /composite/sobjects?ids=…`` deletes Tasks (up to 200 ids; per-id results). With ``allOrNone`` true, one failure
  fails them all (``ALL_OR_NONE_OPERATION_ROLLED_BACK``).
- Every data answer carries ``Sforce-Limit-Info: api-usage=n/m`` (requests in the current
  simulated day / the daily allocation, ``Limits.salesforce_daily_requests``); over it, 403
  ``REQUEST_LIMIT_EXCEEDED`` "TotalRequests Limit exceeded."
- Injected faults (``Faults``, service ``salesforce``): the "429" fault answers 403
  ``REQUEST_LIMIT_EXCEEDED`` "ConcurrentPerOrgLongTxn Limit exceeded." (Salesforce's concurrency
  limit: it passes), 5xx 503 ``SERVER_UNAVAILABLE``, hangs and dropped connections, malformed
  record versions, changes while paging and late updates.

Departures: relationship queries, functions other than ``COUNT()``, ``OR``, ``IN`` and date
literals (``LAST_N_DAYS``) are not understood (400 ``MALFORMED_QUERY``); locators do not expire;
the daily allocation resets with the simulated day rather than over a rolling 24 hours; plain
HTTP is served; one org, one API version path accepted (any ``vXX.X``).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from puente.simulators.business import Business
from puente.simulators.business.salesforce import PREFIX, PUENTE_CONTACT_FIELDS, sf_id, sf_number
from puente.simulators.limits import FaultInjector, Limits
from puente.simulators.systems import Credential, Simulated
from puente.simulators.wire import WireJSON, local_path, request_fault, service_app

MAX_BATCH, MIN_BATCH, COLLECTION_LIMIT = 2000, 200, 200
ORG_ID = sf_id("Organization", 7)
_SYSTEM_FIELDS = ("Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp", "OwnerId")
_PERSON = ("FirstName", "LastName", "Email", "Phone", "MobilePhone", "HasOptedOutOfEmail", "Tax_Id__c",
           "Legal_Basis__c")
# The fields of each sObject the org holds (what SOQL may name); Contacts also carry Puente's own.
FIELDS: dict[str, set[str]] = {obj: {*_SYSTEM_FIELDS, *more} for obj, more in {
    "Account": ("Name", "Website", "Phone", "BillingCity", "BillingCountry"),
    "Contact": (*_PERSON, "AccountId", "MailingStreet", "MailingCity", "MailingCountry", *PUENTE_CONTACT_FIELDS),
    "Lead": (*_PERSON, "Company", "Street", "City", "Country", "Status", "IsConverted", "ConvertedContactId"),
    "Opportunity": ("Name", "AccountId", "ContactId", "Amount", "StageName", "CloseDate", "IsClosed", "IsWon"),
    "OpportunityLineItem": ("OpportunityId", "Name", "ProductCode", "Quantity", "UnitPrice", "Discount",
                            "TotalPrice"),
    "Case": ("CaseNumber", "ContactId", "Subject", "Type", "Reason", "Priority", "Status", "Origin", "IsClosed",
             "ClosedDate", "First_Response__c", "Times_Reopened__c"),
    "Task": ("Subject", "Description", "WhoId", "WhatId", "ActivityDate", "Status", "Priority", "TaskSubtype",
             "Puente_Task_Key__c"),
}.items()}
_QUERY = re.compile(r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<obj>\w+)(?:\s+WHERE\s+(?P<where>.+?))?"
                    r"(?:\s+ORDER\s+BY\s+(?P<order>.+?))?(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$", re.I | re.S)
_CONDITION = re.compile(r"^\s*(\w+)\s*(>=|<=|!=|=|>|<)\s*('(?:[^'\\]|\\.)*'|\S+)\s*$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")


class SfError(Exception):
    """An error answer in Salesforce's shape: a list of ``{"message", "errorCode", "fields"}``."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse([{"message": self.message, "errorCode": self.code, "fields": []}],
                            status_code=self.status, headers=headers)


def _literal(text: str) -> Any:
    if text.startswith("'"):
        return text[1:-1].replace("\\'", "'")
    lowered = text.lower()
    if lowered in ("true", "false", "null"):
        return {"true": True, "false": False, "null": None}[lowered]
    if _DATETIME.match(text):
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    try:
        return float(text)
    except ValueError:
        raise SfError(400, "MALFORMED_QUERY", f"unexpected token: '{text}'") from None


def _comparable(value: Any, literal: Any) -> Any:
    if isinstance(literal, datetime) and isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return value


def _test(field: str, op: str, literal: Any):
    def test(record: dict) -> bool:
        value = _comparable(record.get(field), literal)
        if op == "=":
            return value == literal
        if op == "!=":
            return value != literal
        if value is None or literal is None:
            return False
        try:
            return {">": value > literal, ">=": value >= literal, "<": value < literal, "<=": value <= literal}[op]
        except TypeError:
            return False
    return test


class Query:
    """A parsed SOQL query over one sObject."""

    def __init__(self, soql: str, fields_of: dict[str, set[str]]):
        match = _QUERY.match(soql or "")
        if not match:
            raise SfError(400, "MALFORMED_QUERY", f"unexpected token in query: {soql[:80]!r}")
        self.obj = next((o for o in fields_of if o.lower() == match["obj"].lower()), None)
        if self.obj is None:
            raise SfError(400, "INVALID_TYPE", f"sObject type '{match['obj']}' is not supported.")
        known = fields_of[self.obj]
        self.count = match["fields"].strip().upper() == "COUNT()"
        self.fields = [] if self.count else [f.strip() for f in match["fields"].split(",")]
        self.tests, self.order = [], []
        for name in self.fields:
            self._known(name, known)
        for part in re.split(r"\s+AND\s+", match["where"] or "", flags=re.I) if match["where"] else []:
            condition = _CONDITION.match(part)
            if not condition:
                raise SfError(400, "MALFORMED_QUERY", f"unexpected token: '{part.strip()[:40]}'")
            field = self._known(condition[1], known)
            self.tests.append(_test(field, condition[2], _literal(condition[3])))
        for part in (match["order"] or "").split(",") if match["order"] else []:
            words = part.split()
            if not words or len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
                raise SfError(400, "MALFORMED_QUERY", f"unexpected token: '{part.strip()}'")
            self.order.append((self._known(words[0], known), len(words) == 2 and words[1].upper() == "DESC"))
        self.limit = int(match["limit"]) if match["limit"] else None

    def _known(self, name: str, known: set[str]) -> str:
        found = next((k for k in known if k.lower() == name.lower()), None)
        if found is None:
            raise SfError(400, "INVALID_FIELD", f"No such column '{name}' on entity '{self.obj}'. If you are "
                          "attempting to use a custom field, be sure to append the '__c' after the custom field "
                          "name.")
        return found

    def run(self, records: list[dict]) -> list[dict]:
        found = [r for r in records if all(t(r) for t in self.tests)]
        for field, descending in reversed(self.order):
            found.sort(key=lambda r, f=field: (r.get(f) is None, r.get(f) or ""), reverse=descending)
        return found[:self.limit] if self.limit is not None else found


def create_salesforce_app(business: Business, client_id: str, client_secret: str, limits: Limits,
                          faults: FaultInjector, refresh_token: str | None = None) -> FastAPI:
    """The Salesforce endpoints, to mount under ``/salesforce``."""
    org = business.salesforce
    app = service_app("Simulated Salesforce REST API")
    sessions: dict[str, float] = {}  # access token -> when it was last used (limits' clock)
    locators: dict[str, tuple[str, list[str], list[dict]]] = {}  # key -> (sObject, fields, results)
    usage = {"day": business.today, "used": 0}

    def limit_header() -> dict[str, str]:
        return {"Sforce-Limit-Info": f"api-usage={usage['used']}/{limits.salesforce_daily_requests}"}

    @app.exception_handler(SfError)
    async def sf_error(request: Request, exc: SfError) -> JSONResponse:
        return exc.response(limit_header())

    @app.post("/services/oauth2/token")
    async def token(request: Request) -> JSONResponse:
        form = dict(await request.form())
        grant = form.get("grant_type")
        if form.get("client_id") != client_id or form.get("client_secret") != client_secret:
            return JSONResponse({"error": "invalid_client", "error_description": "invalid client credentials"},
                                status_code=400)
        if grant == "refresh_token":
            if refresh_token is None or form.get("refresh_token") != refresh_token:
                return JSONResponse({"error": "invalid_grant", "error_description": "expired access/refresh token"},
                                    status_code=400)
        elif grant != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type", "error_description": "grant type not supported"},
                                status_code=400)
        access = f"{ORG_ID[:15]}!{secrets.token_urlsafe(72)}"
        sessions[access] = limits.clock()
        root = request.scope.get("root_path", "")
        base = str(request.base_url).rstrip("/")
        base = base if base.endswith(root) else base + root  # the instance: where this app is mounted
        return JSONResponse({"access_token": access, "instance_url": base, "token_type": "Bearer",
                             "id": f"{base}/id/{ORG_ID}/{sf_id('User', 1)}",
                             "issued_at": str(int(business.now().timestamp() * 1000)),
                             "signature": secrets.token_urlsafe(32)})

    @app.middleware("http")
    async def gatekeeper(request: Request, call_next):
        path = local_path(request)
        if path.startswith("/services/oauth2/"):
            return await call_next(request)
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        last = sessions.get(given.strip()) if scheme.lower() == "bearer" else None
        if last is None or limits.clock() - last > limits.salesforce_session_seconds:
            sessions.pop(given.strip(), None)
            return SfError(401, "INVALID_SESSION_ID", "Session expired or invalid").response()
        sessions[given.strip()] = limits.clock()
        if usage["day"] != business.today:
            usage.update(day=business.today, used=0)
        fault = faults.draw(path)
        broken = await request_fault(fault, faults.hang_seconds)
        if broken is not None:
            return broken
        if fault == "5xx":
            return SfError(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable").response(limit_header())
        if fault == "429":
            return SfError(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.").response(
                limit_header())
        if usage["used"] >= limits.salesforce_daily_requests:
            return SfError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.").response(limit_header())
        usage["used"] += 1
        response = await call_next(request)
        response.headers.update(limit_header())
        return response

    def table(obj: str, path: str) -> list[dict]:
        for mutation in faults.mutations(path):
            book_obj = {"Account": "companies", "Contact": "contacts", "Lead": "contacts", "Opportunity": "deals",
                        "OpportunityLineItem": "line_items"}.get(obj)
            rid = faults.pick(business.ids("hubspot", book_obj)) if book_obj else None
            if rid is not None and not business.hubspot[book_obj][rid].get("archived"):
                late = timedelta(seconds=faults.late_by_seconds if mutation == "late" else 0)
                business.crm.update(book_obj, rid, {}, business.now() - late)
        return business.memoised(("salesforce", obj), lambda: org.table(obj) if org is not None else [])

    def batch_size(request: Request) -> int:
        options = request.headers.get("sforce-query-options", "")
        match = re.search(r"batchSize\s*=\s*(\d+)", options)
        return min(MAX_BATCH, max(MIN_BATCH, int(match.group(1)))) if match else MAX_BATCH

    def page(key: str, results: list[dict], start: int, size: int, version: str, obj: str, path: str,
             fields: list[str]) -> dict:
        chunk = results[start:start + size]
        records = []
        for record in chunk:
            served = faults.serve(obj, record, path)
            shaped = {"attributes": {"type": obj, "url": f"/services/data/{version}/sobjects/{obj}/{record['Id']}"}}
            shaped.update({f: served.get(f) for f in fields if f != "Id" or "Id" in served})
            records.append(shaped)
        body: dict[str, Any] = {"totalSize": len(results), "done": start + size >= len(results), "records": records}
        if not body["done"]:
            locators[key] = (obj, fields, results)
            body["nextRecordsUrl"] = f"/services/data/{version}/query/{key}-{start + size}"
        return body

    async def run_query(request: Request, version: str, include_deleted: bool) -> Response:
        soql = request.query_params.get("q")
        if not soql:
            raise SfError(400, "MALFORMED_QUERY", "A query string is required (q=)")
        query = Query(soql, FIELDS)
        path = local_path(request)
        found = query.run([r for r in table(query.obj, path) if include_deleted or not r["IsDeleted"]])
        if query.count:
            return WireJSON({"totalSize": len(found), "done": True, "records": []})
        key = "01g" + secrets.token_hex(7)
        return WireJSON(page(key, found, 0, batch_size(request), version, query.obj, path, query.fields),
                        headers=limit_header())

    @app.get("/services/data/{version}/query")
    async def query(version: str, request: Request) -> Response:
        return await run_query(request, version, include_deleted=False)

    @app.get("/services/data/{version}/queryAll")
    async def query_all(version: str, request: Request) -> Response:
        return await run_query(request, version, include_deleted=True)

    @app.get("/services/data/{version}/{kind}/{locator}")
    async def more(version: str, kind: str, locator: str, request: Request) -> Response:
        key, _, start = locator.rpartition("-")
        if kind not in ("query", "queryAll") or key not in locators or not start.isdigit():
            raise SfError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        obj, fields, results = locators[key]
        # a locator stays readable (a batch lost on the way is asked for again); none expires here
        return WireJSON(page(key, results, int(start), batch_size(request), version, obj, local_path(request), fields),
                        headers=limit_header())

    @app.get("/services/data/{version}/limits")
    async def org_limits() -> Response:
        allowed = limits.salesforce_daily_requests
        return WireJSON({"DailyApiRequests": {"Max": allowed, "Remaining": max(0, allowed - usage["used"])}})

    async def collection(request: Request, create: bool) -> Response:
        body = await request.json()
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list):
            raise SfError(400, "JSON_PARSER_ERROR", "The request body must hold a list of records")
        if len(records) > COLLECTION_LIMIT:
            raise SfError(400, "EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than "
                                                    f"{COLLECTION_LIMIT} records into this call")
        if org is None:
            raise SfError(400, "INVALID_TYPE", "this org holds no CRM data")
        results = [_check_write(org, r, create) for r in records]
        if body.get("allOrNone") and any(not ok for ok, _ in results):
            return WireJSON([{"id": None, "success": False, "errors": [
                {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "Record rolled back because not all "
                 "records were valid and the request was using AllOrNone header", "fields": []}] if ok else [error]}
                for ok, error in results], headers=limit_header())
        answers = []
        for record, (ok, error) in zip(records, results, strict=True):
            if not ok:
                answers.append({"id": None if create else record.get("id"), "success": False, "errors": [error]})
                continue
            fields = {k: v for k, v in record.items() if k not in ("attributes", "id", "Id")}
            if create:
                answers.append({"id": org.create_task(fields)["Id"], "success": True, "errors": []})
            elif record["attributes"]["type"] == "Task":
                org.update_task(str(record.get("id") or record.get("Id")), fields)
                answers.append({"id": record.get("id") or record.get("Id"), "success": True, "errors": []})
            else:
                org.update_contact(org.contact_number(str(record.get("id") or record.get("Id"))), fields)
                answers.append({"id": record.get("id") or record.get("Id"), "success": True, "errors": []})
        return WireJSON(answers, headers=limit_header())

    @app.post("/services/data/{version}/composite/sobjects")
    async def create_records(request: Request) -> Response:
        return await collection(request, create=True)

    @app.patch("/services/data/{version}/composite/sobjects")
    async def update_records(request: Request) -> Response:
        return await collection(request, create=False)

    @app.delete("/services/data/{version}/composite/sobjects")
    async def delete_records(request: Request) -> Response:
        ids = [i for i in request.query_params.get("ids", "").split(",") if i]
        if len(ids) > COLLECTION_LIMIT:
            raise SfError(400, "EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than "
                                                    f"{COLLECTION_LIMIT} records into this call")
        answers = []
        for rid in ids:
            number = sf_number("Task", rid) if org is not None and rid.startswith(PREFIX["Task"]) else None
            if number is None or number not in org.tasks:
                answers.append({"id": rid, "success": False, "errors": [
                    {"statusCode": "ENTITY_IS_DELETED" if number else "INVALID_CROSS_REFERENCE_KEY",
                     "message": "entity is deleted" if number else "invalid cross reference id", "fields": []}]})
                continue
            del org.tasks[number]  # to the Recycle Bin: no query serves it any more
            business.records.version += 1
            answers.append({"id": rid, "success": True, "errors": []})
        return WireJSON(answers, headers=limit_header())

    @app.api_route("/{path:path}", methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
    async def no_route(path: str) -> Response:
        raise SfError(404, "NOT_FOUND", "The requested resource does not exist")

    return app


def _error(code: str, message: str, fields: list[str] | None = None) -> tuple[bool, dict]:
    return False, {"statusCode": code, "message": message, "fields": fields or []}


def _check_write(org: Any, record: Any, create: bool) -> tuple[bool, dict | None]:
    """Whether one record of a collection can be written, or its error (``SaveResult`` shape)."""
    if not isinstance(record, dict) or not (record.get("attributes") or {}).get("type"):
        return _error("INVALID_TYPE", "Each record needs attributes with a type")
    kind = record["attributes"]["type"]
    fields = {k: v for k, v in record.items() if k not in ("attributes", "id", "Id")}
    if create:
        if kind != "Task":
            return _error("INVALID_TYPE_FOR_OPERATION", f"entity type {kind} does not support insert here")
        unknown = [f for f in fields if f not in FIELDS["Task"]]
        if unknown:
            return _error("INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type Task", unknown)
        missing = [f for f in ("Subject", "WhoId") if not fields.get(f)]
        if missing:
            return _error("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing)
        if not org.person_exists(str(fields["WhoId"])):
            return _error("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["WhoId"])
        key = fields.get("Puente_Task_Key__c")
        if key and any(t.get("Puente_Task_Key__c") == key for t in org.tasks.values()):
            return _error("DUPLICATE_VALUE", f"duplicate value found: Puente_Task_Key__c duplicates value on record "
                          f"with id: {next(t['Id'] for t in org.tasks.values() if t.get('Puente_Task_Key__c') == key)}",
                          ["Puente_Task_Key__c"])
        return True, None
    rid = str(record.get("id") or record.get("Id") or "")
    if kind == "Task":
        number = sf_number("Task", rid) if rid.startswith(PREFIX["Task"]) else None
        if number is None or number not in org.tasks:
            return _error("ENTITY_IS_DELETED" if number else "INVALID_CROSS_REFERENCE_KEY",
                          "entity is deleted" if number else "invalid cross reference id")
        unknown = [f for f in fields if f not in FIELDS["Task"]]
        return _error("INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type Task", unknown) \
            if unknown else (True, None)
    if kind != "Contact":
        return _error("INVALID_TYPE_FOR_OPERATION", f"entity type {kind} does not support update here")
    if not rid.startswith(PREFIX["Contact"]) or org.contact_number(rid) is None:
        return _error("ENTITY_IS_DELETED" if rid.startswith(PREFIX["Contact"]) else "INVALID_CROSS_REFERENCE_KEY",
                      "entity is deleted" if rid.startswith(PREFIX["Contact"]) else "invalid cross reference id")
    unknown = [f for f in fields if f not in FIELDS["Contact"]]
    if unknown:
        return _error("INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type Contact", unknown)
    foreign = [f for f in fields if not (f.startswith("Puente_") and f.endswith("__c"))]
    if foreign:
        return _error("INVALID_FIELD_FOR_INSERT_UPDATE", f"Unable to create/update fields: {', '.join(foreign)}. "
                      "Please check the security settings of this field", foreign)
    return True, None


def _new_client_id() -> str:
    # A connected app's consumer key: 3MVG9 and 80 more characters of letters, digits, dots and underscores
    return "3MVG9" + secrets.token_urlsafe(60).replace("-", ".")[:80]


def _new_client_secret() -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(64)).lstrip("0").rjust(64, "1")


def _mount(business: Business, credentials: Any, limits: Limits, faults: FaultInjector) -> FastAPI | None:
    return create_salesforce_app(business, credentials.salesforce_client_id, credentials.salesforce_client_secret,
                                 limits, faults)


SIMULATOR = Simulated(name="salesforce", mount=_mount, broken_date="2026-02-30T25:61:00.000+0000",
                      text_fields=("FirstName", "Name", "Subject"),
                      title="CRM  (Salesforce REST)", endpoint=lambda credentials: "/salesforce/services/oauth2/token, …/services/data/v62.0",
                      opt_in="the business's sales team runs Salesforce instead of HubSpot (its org at /salesforce, empty otherwise; HubSpot is then not served)",
                      business_options={"crm": "salesforce"},
                      credentials=(Credential("salesforce_client_id", make=_new_client_id),
                                   Credential("salesforce_client_secret", make=_new_client_secret)))
