"""What Puente writes into Salesforce for the activations: its fields on Contacts, and Tasks.

The activation models speak Puente's CRM vocabulary (the ``puente_*`` fields and the task
properties as HubSpot names them, ``puente/sources/hubspot/writer.py``); this writer maps them to
Salesforce's and sends them through sObject Collections (``settings.py``): up to 200 records a
call with ``allOrNone`` false, so each record succeeds or fails on its own and its error
(``statusCode: message``, Salesforce's words) goes to the work list.

- Contacts (``update``): ``PATCH /composite/sobjects`` with ``Puente_*__c`` fields
  (``FIELDS``). They are custom fields the org's admin creates once on the Contact object
  (README, "Salesforce"): the REST API cannot create fields, so ``prepare`` creates nothing, and a
  field missing in the org comes back per record as ``INVALID_FIELD``. An empty value clears
  the field (null). Puente's fields live on Contacts: the activation models mark a row for a Lead
  invalid ("convert the lead", ``int_crm_contacts.crm_object``), and the writer refuses one that
  reaches it anyway (id prefix ``00Q``) without sending it.
- Tasks (``create``): ``POST /composite/sobjects`` of Tasks (``Subject``, ``Description``,
  ``ActivityDate``, ``Status``, ``Priority``, ``TaskSubtype`` "Call", ``OwnerId``, ``WhoId`` the
  Contact or Lead) carrying the row's key in ``Puente_Task_Key__c``, a unique external id field:
  Salesforce itself refuses a second task with one key (``DUPLICATE_VALUE``, naming the task that
  has it), which is adopted, never made twice. Creates are not repeated after a lost answer
  (``UncertainWrite``): the engine looks the key up first (``lookup``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from puente.activation.writers import Outcome, Row
from puente.sources.salesforce.config import SalesforceConfig
from puente.sources.salesforce.connector import SalesforceConnector, error_text, errors_of
from puente.sources.salesforce.settings import COLLECTION_LIMIT, DATA_PATH

COLLECTIONS = f"{DATA_PATH}/composite/sobjects"
TASK_KEY = "Puente_Task_Key__c"
# Puente's contact fields: the activation models' names -> the Contact's custom fields.
FIELDS = {name: "Puente_" + "_".join(w.capitalize() for w in name.removeprefix("puente_").split("_")) + "__c"
          for name in ("puente_churn_score", "puente_churn_risk", "puente_churn_reasons", "puente_next_action",
                       "puente_next_action_product", "puente_next_action_reason", "puente_scored_at",
                       "puente_service_due_date", "puente_service_reason")}
_STATUS = {"NOT_STARTED": "Not Started", "IN_PROGRESS": "In Progress", "WAITING": "Waiting on someone else",
           "COMPLETED": "Completed", "DEFERRED": "Deferred"}
_PRIORITY = {"HIGH": "High", "MEDIUM": "Normal", "LOW": "Low"}
_DUPLICATE_OF = re.compile(r"with id:\s*(\w{15,18})")


class SalesforceWriter:
    system = "salesforce"

    def __init__(self, config: SalesforceConfig, *, connector: SalesforceConnector | None = None,
                 **http_options: Any):
        self.connector = connector or SalesforceConnector(config, **http_options)

    @property
    def requests_made(self) -> int:
        return self.connector.requests_made

    def close(self) -> None:
        self.connector.close()

    def prepare(self, obj: str) -> None:
        if obj not in ("contacts", "tasks"):
            raise ValueError(f"the Salesforce writer cannot write {obj}")

    def refuses_duplicates(self, obj: str) -> bool:
        return obj == "tasks"  # Puente_Task_Key__c is a unique external id

    def lookup(self, obj: str, external_keys: Sequence[str]) -> dict[str, str]:
        """Tasks already carrying one of ``external_keys`` in ``Puente_Task_Key__c``."""
        if obj != "tasks":
            return {}
        found: dict[str, str] = {}
        for key in dict.fromkeys(external_keys):
            quoted = key.replace("\\", "\\\\").replace("'", "\\'")
            body = self.connector.get(f"{DATA_PATH}/query", "tasks", params={
                "q": f"SELECT Id, {TASK_KEY} FROM Task WHERE {TASK_KEY} = '{quoted}'"})
            for task in body.get("records") or []:
                if isinstance(task, dict) and task.get(TASK_KEY) == key and task.get("Id"):
                    found.setdefault(key, str(task["Id"]))
        return found

    def write(self, obj: str, mode: str, rows: Sequence[Row]) -> list[Outcome]:
        if (obj, mode) == ("contacts", "update"):
            return self._update_contacts(rows)
        if (obj, mode) == ("tasks", "create"):
            return self._create_tasks(rows)
        raise ValueError(f"the Salesforce writer cannot {mode} {obj}")

    def _collection(self, method: str, records: list[dict[str, Any]], obj: str) -> list[dict[str, Any]]:
        """One sObject Collections call; the per-record results in the order sent."""
        response = self.connector.send(method, COLLECTIONS, obj, json={"allOrNone": False, "records": records},
                                       passthrough=(400,), repeatable=method != "POST")
        if response.status_code == 400:
            message = error_text(errors_of(response))
            return [{"success": False, "errors": [{"statusCode": "REFUSED", "message": message}]} for _ in records]
        body = response.json()
        results = body if isinstance(body, list) else []
        return [r if isinstance(r, dict) else {} for r in results] + [{}] * (len(records) - len(results))

    def erase_tasks(self, task_ids: Sequence[str]) -> list[Outcome]:
        """Delete the tasks Puente made for a person whose data is erased (Habeas Data). A deleted
        task stays in the Recycle Bin about 15 days, so its subject and description (the person's
        name, the reasons of their score) are replaced first, then it is deleted
        (``DELETE /composite/sobjects?ids=…``). A task already gone (deleted by its owner) is done."""
        outcomes: list[Outcome] = []
        for start in range(0, len(task_ids), COLLECTION_LIMIT):
            chunk = [str(t) for t in task_ids[start:start + COLLECTION_LIMIT]]
            cleared = self._collection("PATCH", [{"attributes": {"type": "Task"}, "id": t, **ERASED_TASK}
                                                 for t in chunk], "tasks")
            response = self.connector.send("DELETE", COLLECTIONS, "tasks", passthrough=(400,),
                                           params={"ids": ",".join(chunk), "allOrNone": "false"})
            deleted = response.json() if response.status_code != 400 else []
            deleted = [r if isinstance(r, dict) else {} for r in deleted] + [{}] * (len(chunk) - len(deleted))
            for task_id, patch, delete in zip(chunk, cleared, deleted, strict=True):
                gone = [e for e in [*(patch.get("errors") or []), *(delete.get("errors") or [])]
                        if isinstance(e, dict) and e.get("statusCode") in ("ENTITY_IS_DELETED",
                                                                            "INVALID_CROSS_REFERENCE_KEY")]
                ok = bool(gone) or (patch.get("success") is True and delete.get("success") is True)
                outcomes.append(Outcome(task_id, ok, task_id, "erase", None if ok else
                                        _failure(delete if patch.get("success") is True else patch)))
        return outcomes

    def _update_contacts(self, rows: Sequence[Row]) -> list[Outcome]:
        outcomes: dict[str, Outcome] = {}
        sendable = []
        for row in rows:
            if (row.target_id or "").startswith("00Q"):
                outcomes[row.row_key] = Outcome(row.row_key, False, row.target_id, "update",
                                                "a Salesforce Lead: Puente's fields live on Contacts; convert the "
                                                "lead to see them")
            else:
                sendable.append(row)
        for start in range(0, len(sendable), COLLECTION_LIMIT):
            chunk = sendable[start:start + COLLECTION_LIMIT]
            records = [{"attributes": {"type": "Contact"}, "id": r.target_id, **contact_fields(r.payload)}
                       for r in chunk]
            for row, result in zip(chunk, self._collection("PATCH", records, "contacts"), strict=True):
                outcomes[row.row_key] = Outcome(row.row_key, result.get("success") is True, row.target_id, "update",
                                                None if result.get("success") is True else _failure(result))
        return [outcomes[r.row_key] for r in rows]

    def _create_tasks(self, rows: Sequence[Row]) -> list[Outcome]:
        outcomes = [Outcome(r.row_key, True, r.target_id, "adopt") for r in rows if r.target_id]
        new = [r for r in rows if not r.target_id]
        for start in range(0, len(new), COLLECTION_LIMIT):
            chunk = new[start:start + COLLECTION_LIMIT]
            records = [task_fields(r) for r in chunk]
            for row, result in zip(chunk, self._collection("POST", records, "tasks"), strict=True):
                if result.get("success") is True and result.get("id"):
                    outcomes.append(Outcome(row.row_key, True, str(result["id"]), "create"))
                    continue
                duplicate = next((_DUPLICATE_OF.search(str(e.get("message"))) for e in result.get("errors") or []
                                  if isinstance(e, dict) and e.get("statusCode") == "DUPLICATE_VALUE"), None)
                if duplicate:  # made by a run that crashed before booking it: adopted
                    outcomes.append(Outcome(row.row_key, True, duplicate.group(1), "adopt"))
                else:
                    outcomes.append(Outcome(row.row_key, False, None, "create", _failure(result)))
        return outcomes


ERASED_TASK = {"Subject": "[erased: Habeas Data request]", "Description": None}


def contact_fields(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Puente's contact fields as Salesforce's (an empty value clears the field)."""
    unknown = [k for k in payload if k not in FIELDS]
    if unknown:
        raise ValueError(f"Puente writes no Salesforce field for {unknown}")
    return {FIELDS[k]: (None if v in ("", None) else v) for k, v in payload.items()}


def task_fields(row: Row) -> dict[str, Any]:
    """A task row (HubSpot's task properties and the contact) as a Salesforce Task."""
    props = row.payload.get("properties") or {}
    task = {"attributes": {"type": "Task"}, "Subject": props.get("hs_task_subject"),
            "Description": props.get("hs_task_body"), "ActivityDate": (props.get("hs_timestamp") or "")[:10] or None,
            "Status": _STATUS.get(props.get("hs_task_status") or "", "Not Started"),
            "Priority": _PRIORITY.get(props.get("hs_task_priority") or "", "Normal"),
            "TaskSubtype": "Call" if props.get("hs_task_type") == "CALL" else "Task",
            "OwnerId": props.get("hubspot_owner_id"), "WhoId": row.payload.get("contact_id"), TASK_KEY: row.row_key}
    return {k: v for k, v in task.items() if v is not None}


def _failure(result: Mapping[str, Any]) -> str:
    errors = [e for e in result.get("errors") or [] if isinstance(e, dict)]
    return error_text(errors) if errors else "Salesforce reported no outcome for this record"
