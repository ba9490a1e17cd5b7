"""Writing to HubSpot: Puente's contact properties and tasks for the contacts' owners.

Per HubSpot's CRM v3 docs and OpenAPI specs (/work/shared/specs/hubspot):

- ``contacts`` (update): ``POST /crm/v3/objects/contacts/batch/update``, at most 100 inputs a
  call; 200 when all were updated, 207 with ``errors[]`` naming the refused ids (``context.ids``
  or ``context.id``), 400 for the whole batch. Before the first batch of a run the properties
  Puente owns (``PUENTE_PROPERTIES``) are created where missing, in the group ``puente``.
- ``tasks`` (create): ``POST /crm/v3/objects/tasks/batch/create``, at most 100 inputs, each with
  its properties (``hs_timestamp`` is required), its association to the contact (type 204,
  task → contact) and ``objectWriteTraceId`` = the activation row's key, so that a 207's errors
  and results are matched to rows by trace id, never by position. Every task Puente makes
  carries its key in the task property ``puente_task_key`` (created unique before the first
  batch), and ``lookup`` searches it: a task created by a run that crashed before booking it is
  found, not made twice.
- Erasure (``erase_tasks``): a task Puente made for an erased person has its subject and body
  replaced (``POST …/tasks/batch/update``), then is deleted (``POST …/tasks/batch/archive``, 204;
  HubSpot keeps deleted records restorable for 90 days, hence the replacement first).
- Requests are paced at the private app's burst limit (100 per rolling 10 s by default;
  ``PUENTE_HUBSPOT_REQUESTS_PER_10S`` for a higher tier), searches also at the search limit
  (4 a second), and a 429's ``Retry-After`` is honoured by the shared HTTP layer. Creates are
  never resent after a timeout (the lookup does it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from puente.activation.pacing import Pacer
from puente.activation.writers import Outcome, Row
from puente.sources.base import get
from puente.sources.hubspot.config import HubSpotConfig
from puente.sources.hubspot.connector import HubSpotConnector
from puente.sources.hubspot.settings import BATCH_LIMIT, OBJECTS_PATH, PROPERTIES_PATH, SEARCH_LIMIT

PROPERTY_GROUP = "puente"
DEFAULT_REQUESTS_PER_10S = 100
# Search has its own limit (about 5 requests a second per account, exempt from the ten-secondly one).
SEARCHES_PER_SECOND = 4
TASK_TO_CONTACT = 204  # HubSpot-defined association type, task → contact
TASK_KEY = "puente_task_key"


@dataclass(frozen=True)
class PropertySpec:
    """A custom property Puente writes (``POST /crm/v3/properties/{object}`` body)."""

    name: str
    label: str
    type: str
    field_type: str
    description: str
    options: tuple[str, ...] = ()
    unique: bool = False

    def body(self, group: str) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "label": self.label, "type": self.type,
                                "fieldType": self.field_type, "groupName": group,
                                "description": self.description}
        if self.options:
            body["options"] = [{"label": o.capitalize(), "value": o, "displayOrder": i, "hidden": False}
                               for i, o in enumerate(self.options)]
        if self.unique:
            body["hasUniqueValue"] = True
        return body


# The properties Puente owns in HubSpot, per object (contracts.md): the one place they are defined.
PUENTE_PROPERTIES: tuple[PropertySpec, ...] = (
    PropertySpec("puente_churn_score", "Churn score (Puente)", "number", "number",
                 "Probability, 0 to 1, that this customer stops buying; computed nightly by Puente, "
                 "updated here when it moves by 0.05 or more, or when the risk band changes."),
    PropertySpec("puente_churn_risk", "Churn risk (Puente)", "enumeration", "select",
                 "Churn risk band computed nightly by Puente; empty when the customer is no longer scored.",
                 options=("low", "medium", "high")),
    PropertySpec("puente_churn_reasons", "Churn reasons (Puente)", "string", "textarea",
                 "The two or three reasons behind the churn score, in plain words."),
    PropertySpec("puente_next_action", "Next best action (Puente)", "enumeration", "select",
                 "What to do next with this customer; respects stock, margin and marketing consent.",
                 options=("offer_product", "retention_call", "win_back_offer", "none")),
    PropertySpec("puente_next_action_product", "Product to offer (Puente)", "string", "text",
                 "SKU and name of the product to offer, when the next action is an offer."),
    PropertySpec("puente_next_action_reason", "Why this action (Puente)", "string", "textarea",
                 "Why Puente suggests this action."),
    PropertySpec("puente_scored_at", "Scored at (Puente)", "datetime", "date",
                 "When Puente scored the values shown here."),
    PropertySpec("puente_service_due_date", "Service due (Puente)", "date", "date",
                 "When the customer's next service or replacement is due (Puente's service rules); "
                 "a HubSpot workflow can react to it."),
    PropertySpec("puente_service_reason", "Service due for (Puente)", "string", "text",
                 "What the service is due for: the rule and the product bought."),
)
TASK_PROPERTIES: tuple[PropertySpec, ...] = (
    PropertySpec(TASK_KEY, "Puente task key", "string", "text",
                 "Which Puente rule made this task, for whom and when; Puente never makes two with one key.",
                 unique=True),
)
OWNED_PROPERTIES = {"contacts": PUENTE_PROPERTIES, "tasks": TASK_PROPERTIES}
# What a task Puente made for an erased person says before it is deleted (puente/erasure.py).
ERASED_TASK = {"hs_task_subject": "[erased: Habeas Data request]", "hs_task_body": ""}


def requests_per_10s(env: Mapping[str, str] | None = None) -> int:
    value = (os.environ if env is None else env).get("PUENTE_HUBSPOT_REQUESTS_PER_10S")
    try:
        limit = int(value) if value else DEFAULT_REQUESTS_PER_10S
    except ValueError:
        limit = 0
    if limit < 1:
        raise ValueError(f"PUENTE_HUBSPOT_REQUESTS_PER_10S must be a whole number of at least 1, got {value!r}")
    return limit


class HubSpotWriter:
    system = "hubspot"

    def __init__(self, config: HubSpotConfig, *, connector: HubSpotConnector | None = None,
                 pacer: Pacer | None = None, search_pacer: Pacer | None = None, **http_options: Any):
        self.connector = connector or HubSpotConnector(config, pacer=pacer or Pacer(requests_per_10s(), 10.0),
                                                       **http_options)
        self.http = self.connector.http
        pace = self.http.pacer
        self.search_pacer = search_pacer or (Pacer(SEARCHES_PER_SECOND, 1.0, headroom=1.0, clock=pace.clock,
                                                   sleep=pace.sleep) if pace else None)

    @property
    def requests_made(self) -> int:
        return self.connector.requests_made

    def close(self) -> None:
        self.connector.close()

    def prepare(self, obj: str) -> None:
        if obj not in OWNED_PROPERTIES:
            raise ValueError(f"the HubSpot writer cannot write {obj}")
        self.ensure_properties(obj, OWNED_PROPERTIES[obj])

    def ensure_properties(self, obj: str, specs: Sequence[PropertySpec], group: str = PROPERTY_GROUP,
                          group_label: str = "Puente") -> list[str]:
        """Create the property group and the properties of ``specs`` that ``obj`` lacks.

        Returns the names created (empty when all existed). A 409 means another run created the
        same one meanwhile, which is fine.
        """
        base = f"{PROPERTIES_PATH}/{obj}"
        groups = self._body(self.http.request("GET", f"{base}/groups", obj=obj), obj)
        if group not in {g.get("name") for g in groups.get("results") or []}:
            self.http.request("POST", f"{base}/groups", obj=obj, passthrough=(409,),
                              json={"name": group, "label": group_label, "displayOrder": -1})
        existing = self._body(self.http.request("GET", base, obj=obj), obj)
        names = {p.get("name") for p in existing.get("results") or []}
        created = []
        for spec in specs:
            if spec.name not in names:
                self.http.request("POST", base, obj=obj, json=spec.body(group), passthrough=(409,))
                created.append(spec.name)
        return created

    def refuses_duplicates(self, obj: str) -> bool:
        """Tasks: ``puente_task_key`` has unique values, so HubSpot itself refuses a second task
        for one key (a conflict, which ``_create_tasks`` resolves by adopting the first)."""
        return obj == "tasks"

    def lookup(self, obj: str, external_keys: Sequence[str]) -> dict[str, str]:
        """Tasks already carrying one of ``external_keys`` in ``puente_task_key``."""
        if obj != "tasks":
            return {}
        found: dict[str, str] = {}
        keys = list(dict.fromkeys(external_keys))
        for start in range(0, len(keys), BATCH_LIMIT):
            request: dict[str, Any] = {
                "filterGroups": [{"filters": [{"propertyName": TASK_KEY, "operator": "IN",
                                               "values": keys[start:start + BATCH_LIMIT]}]}],
                "properties": [TASK_KEY], "limit": SEARCH_LIMIT}
            while True:
                if self.search_pacer is not None:
                    self.search_pacer.acquire()
                body = self._body(self.http.request("POST", f"{OBJECTS_PATH}/tasks/search", obj="tasks",
                                                    json=request), "tasks")
                for task in body.get("results") or []:
                    key = get(task, "properties", TASK_KEY)
                    if key:
                        found.setdefault(key, str(task["id"]))
                after = get(body, "paging", "next", "after")
                if after is None:
                    break
                request["after"] = after
        return found

    def write(self, obj: str, mode: str, rows: Sequence[Row]) -> list[Outcome]:
        if (obj, mode) == ("contacts", "update"):
            return self._update_contacts(rows)
        if (obj, mode) == ("tasks", "create"):
            return self._create_tasks(rows)
        raise ValueError(f"the HubSpot writer cannot {mode} {obj}")

    def _update_contacts(self, rows: Sequence[Row]) -> list[Outcome]:
        answers: dict[str, str | None] = {}
        for start in range(0, len(rows), BATCH_LIMIT):
            chunk = rows[start:start + BATCH_LIMIT]
            response = self.http.request(
                "POST", f"{OBJECTS_PATH}/contacts/batch/update", obj="contacts", passthrough=(400,),
                json={"inputs": [{"id": r.target_id, "properties": dict(r.payload)} for r in chunk]})
            answers.update(parse_batch_response(response.status_code, self._body(response, "contacts"),
                                                [r.target_id for r in chunk]))
        return [Outcome(r.row_key, answers.get(r.target_id, "no answer") is None, r.target_id, "update",
                        answers.get(r.target_id, "HubSpot reported no outcome for this contact"))
                for r in rows]

    def _create_tasks(self, rows: Sequence[Row]) -> list[Outcome]:
        outcomes = [Outcome(r.row_key, True, r.target_id, "adopt") for r in rows if r.target_id]
        new = [r for r in rows if not r.target_id]
        for start in range(0, len(new), BATCH_LIMIT):
            chunk = new[start:start + BATCH_LIMIT]
            inputs = [{
                "properties": {**r.payload["properties"], TASK_KEY: r.row_key},
                "associations": [{"to": {"id": str(r.payload["contact_id"])},
                                  "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                             "associationTypeId": TASK_TO_CONTACT}]}],
                "objectWriteTraceId": r.row_key,
            } for r in chunk]
            response = self.http.request("POST", f"{OBJECTS_PATH}/tasks/batch/create", obj="tasks",
                                         json={"inputs": inputs}, passthrough=(400,), repeatable=False)
            body = self._body(response, "tasks")
            created = {r.get("objectWriteTraceId"): str(r["id"]) for r in body.get("results") or []}
            errors = _errors_by_trace(response.status_code, body, [r.row_key for r in chunk])
            # A conflict on the task key: the task exists (made by a run that crashed before
            # booking it), so it is adopted, never made twice.
            conflicts = [r.row_key for r in chunk if errors.get(r.row_key, "").startswith("CONFLICT")]
            existing = self.lookup("tasks", conflicts) if conflicts else {}
            for row in chunk:
                if row.row_key in created:
                    outcomes.append(Outcome(row.row_key, True, created[row.row_key], "create"))
                elif row.row_key in existing:
                    outcomes.append(Outcome(row.row_key, True, existing[row.row_key], "adopt"))
                else:
                    outcomes.append(Outcome(row.row_key, False, None, "create", errors.get(
                        row.row_key, f"HubSpot answered {response.status_code} without this task")))
        return outcomes

    def erase_tasks(self, task_ids: Sequence[str]) -> list[Outcome]:
        """Delete the tasks Puente made for a person whose data is erased (Habeas Data). HubSpot keeps
        a deleted task restorable for 90 days, so its subject and body (the person's name, the
        reasons of their score) are replaced first (``batch/update``), then the task is archived
        (``batch/archive``, HubSpot's delete). A task already gone (deleted by its owner) is done."""
        outcomes: list[Outcome] = []
        for start in range(0, len(task_ids), BATCH_LIMIT):
            chunk = [str(t) for t in task_ids[start:start + BATCH_LIMIT]]
            response = self.http.request(
                "POST", f"{OBJECTS_PATH}/tasks/batch/update", obj="tasks", passthrough=(400,),
                json={"inputs": [{"id": t, "properties": dict(ERASED_TASK)} for t in chunk]})
            answers = parse_batch_response(response.status_code, self._body(response, "tasks"), chunk)
            gone = {t for t, error in answers.items() if error and error.startswith("OBJECT_NOT_FOUND")}
            cleared = [t for t, error in answers.items() if error is None]
            if cleared:
                self.http.request("POST", f"{OBJECTS_PATH}/tasks/batch/archive", obj="tasks",
                                  json={"inputs": [{"id": t} for t in cleared]})
            outcomes += [Outcome(t, answers[t] is None or t in gone, t, "erase",
                                 None if answers[t] is None or t in gone else answers[t]) for t in chunk]
        return outcomes

    def _body(self, response: Any, obj: str) -> dict[str, Any]:
        return self.connector.json_body(response, obj)


def _message(error: Mapping[str, Any]) -> str:
    details = "; ".join(str(d.get("message")) for d in error.get("errors") or [] if isinstance(d, dict))
    return f"{error.get('category', 'error')}: {error.get('message', '')}" + (f" ({details})" if details else "")


def parse_batch_response(status: int, body: Mapping[str, Any], ids: Sequence[str]) -> dict[str, str | None]:
    """Per-id outcome of a batch update: ``{id: None}`` for each id HubSpot confirmed, ``{id: error}``
    for the others (errors of a 207 name their ids in ``context.ids`` or ``context.id``; an input
    neither confirmed nor named is reported as unconfirmed; a 400 fails the whole batch)."""
    if status == 400:
        message = f"{body.get('category', 'error')}: {body.get('message', 'batch refused')}"
        return {cid: message for cid in ids}
    confirmed = {str(r.get("id")) for r in body.get("results") or [] if isinstance(r, dict)}
    outcome: dict[str, str | None] = {cid: None for cid in ids if cid in confirmed}
    for error in body.get("errors") or []:
        for cid in get(error, "context", "ids") or get(error, "context", "id") or []:
            if str(cid) in ids and str(cid) not in confirmed:
                outcome[str(cid)] = _message(error)
    for cid in ids:
        outcome.setdefault(cid, f"HubSpot answered {status} without confirming this contact")
    return outcome


def _errors_by_trace(status: int, body: Mapping[str, Any], keys: Sequence[str]) -> dict[str, str]:
    """Errors of a batch create matched to rows by ``objectWriteTraceId``; a 400 fails them all."""
    if status == 400:
        return {key: _message(body) for key in keys}
    out: dict[str, str] = {}
    for error in body.get("errors") or []:
        for key in get(error, "context", "objectWriteTraceId") or []:
            out[str(key)] = _message(error)
    return out
