"""HubSpot CRM v3: extraction of contacts, companies and deals (writes: ``writer.py``).

What it relies on, per HubSpot's CRM v3 docs and OpenAPI specs (/work/shared/specs/hubspot):

- A private-app token goes in ``Authorization: Bearer``.
- First run (no cursor): ``GET /crm/v3/objects/{object}?limit=100&properties=...`` walks every
  record through ``paging.next.after``; deals ask ``associations=contacts`` and carry
  ``associations.contacts.results[].id``. The list is not ordered by modification date, so the
  cursor moves only after the last page.
- Incremental runs: ``POST /crm/v3/objects/{object}/search`` with the filter
  ``{lastmodifieddate | hs_lastmodifieddate} GTE <epoch ms>`` (and ``LT`` for a backfill's upper
  bound), sorted ascending on it, 200 per page (the search maximum). Every page is a new search
  anchored on the last modification date seen, with ``after`` = the records already seen at
  exactly that millisecond: a record modified while we page moves to the end instead of shifting
  an unseen one out of reach (offset paging would skip it), and ``after`` never nears the
  10,000-result cap of search. More than 10,000 records modified in one millisecond cannot be
  paged and fail with advice. The search starts ``lookback`` seconds before the stored cursor
  (HubSpot's search index lags behind writes). The cursor is the greatest ``updatedAt`` seen
  (HubSpot keeps it equal to the modification date property), in epoch milliseconds.
- Deleting a record in HubSpot archives it (kept 90 days): it leaves the list and search
  results without a change of its modification date. Every run therefore also lists
  ``archived=true``; those records land with ``_deleted`` (unchanged ones count as unchanged).
  No id-set comparison is needed (``list_ids`` is None); ``count`` is the ``total`` of a search
  without filters (live records only).
- Minimum data: the properties asked for are the declared ones (``settings.py``), and each record
  is projected to its declaration before it lands (``SourceObject.landed_fields``): HubSpot adds
  ``hs_object_id`` and ``archivedAt`` unasked, and a custom property the business adds is not
  Puente's to store, so it never lands.
- Schema drift: once per run and object, ``GET /crm/v3/properties/{object}`` lists the portal's
  properties; a declared one the portal lacks (deleted, archived, a custom one never created) is
  reported with a warning. It is still asked for (HubSpot ignores a name it does not know), so a
  failed listing never narrows what is read; staging sees it empty.
- Search returns no associations, so for deals found by search they are read with
  ``POST /crm/v4/associations/deals/contacts/batch/read`` (100 ids a call) and put on the record
  in the shape the v3 list returns (``associations.contacts.results[{id, type}]``): the only
  field Puente adds.
- Rate limits (burst per 10 s, search 5 requests/s) answer 429 with ``Retry-After``: the
  shared HTTP layer waits and retries.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from puente.sources.base import (
    DEFAULT_LOOKBACK,
    HttpConnector,
    Page,
    Record,
    get,
    latest,
    parse_timestamp,
    text_id,
)
from puente.sources.http import HttpClient, SourceError
from puente.sources.hubspot.config import HubSpotConfig
from puente.sources.hubspot.settings import (
    ASSOCIATIONS,
    ASSOCIATIONS_PATH,
    BATCH_LIMIT,
    DEFAULT_URL,
    LIST_LIMIT,
    MODIFIED_PROPERTY,
    OBJECTS,
    OBJECTS_PATH,
    PROPERTIES,
    PROPERTIES_PATH,
    SEARCH_CAP,
    SEARCH_LIMIT,
    SYSTEM,
    HubSpotObject,
)

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
URL_SETTING = "the base URL (host of the Airflow connection puente_hubspot, or PUENTE_HUBSPOT_URL)"


class HubSpotConnector(HttpConnector):
    source = "hubspot"
    objects = tuple(o.name for o in OBJECTS)

    def __init__(self, config: HubSpotConfig, *, list_limit: int = LIST_LIMIT, search_limit: int = SEARCH_LIMIT,
                 lookback: float = DEFAULT_LOOKBACK, **http_options: Any):
        self._list_limit, self._search_limit = list_limit, search_limit
        self.lookback = lookback
        self._checked: set[str] = set()  # objects whose declared properties were checked this run
        self._objects = {o.name: o for o in OBJECTS}
        self.http = HttpClient(SYSTEM, config.url, headers={"Authorization": f"Bearer {config.token}"},
                               **http_options)

    # ---------------------------------------------------------------------------------------
    # Extraction
    # ---------------------------------------------------------------------------------------

    def cursor_at(self, moment: datetime) -> str:
        return str((parse_timestamp(moment.isoformat()) - _EPOCH) // timedelta(milliseconds=1))

    def cursor_moment(self, cursor: str) -> datetime:
        return _EPOCH + timedelta(milliseconds=int(cursor))

    def list_ids(self, obj: str) -> None:
        return None  # HubSpot reports deletions itself: archived=true

    def count(self, obj: str) -> int:
        body = self.json_body(self.http.request("POST", f"{OBJECTS_PATH}/{obj}/search", obj=obj, json={
            "filterGroups": [], "properties": ["hs_object_id"], "limit": 1}), obj)
        total = body.get("total")
        if not isinstance(total, int):
            raise SourceError(SYSTEM, obj, f"POST /crm/v3/objects/{obj}/search", f"no total in {str(body)[:200]!r}",
                              f"Check {URL_SETTING}: it must be {DEFAULT_URL} (no path)")
        return total

    def properties(self, obj: str) -> list[str]:
        """The declared properties of ``obj``; warns (once per run) about those the portal lacks."""
        if obj not in self._checked:
            body = self.json_body(self.http.request("GET", f"{PROPERTIES_PATH}/{obj}", obj=obj), obj)
            known = {p["name"] for p in body.get("results") or []
                     if isinstance(p, dict) and p.get("name") and not p.get("archived")}
            missing = [p for p in PROPERTIES[obj] if p not in known]
            if missing:
                log.warning("HubSpot %s has no property %s (deleted, archived or never created in this portal): "
                            "staging will see it empty; create it or remove it from "
                            "puente/sources/hubspot/settings.py", obj, missing)
            self._checked.add(obj)
        return PROPERTIES[obj]

    def extract(self, obj: str, cursor: str | None, until: str | None = None) -> Iterator[Page]:
        if cursor is None and until is None:
            yield from self._list(obj)
        else:
            yield from self._search(obj, cursor, until)
        yield from self._list(obj, archived=True)

    def _list(self, obj: str, archived: bool = False) -> Iterator[Page]:
        """Every record (``archived=True``: every archived one, whose cursor is never used)."""
        params: dict[str, Any] = {"limit": self._list_limit, "properties": ",".join(self.properties(obj)),
                                  "archived": str(archived).lower()}
        if obj in ASSOCIATIONS:
            params["associations"] = ASSOCIATIONS[obj]
        newest: Record | None = None
        while True:
            body = self.json_body(self.http.request("GET", f"{OBJECTS_PATH}/{obj}", obj=obj, params=params), obj)
            records = [_record(self._objects[obj], r) for r in body.get("results") or []]
            newest = latest([*records, *([newest] if newest else [])])
            after = get(body, "paging", "next", "after")
            last = after is None
            yield Page(records, _epoch_ms(newest) if last and newest and not archived else None)
            if last:
                return
            params["after"] = after

    def _search(self, obj: str, cursor: str | None, until: str | None) -> Iterator[Page]:
        prop = MODIFIED_PROPERTY[obj]
        given = int(cursor) if cursor else None
        gte = max(0, given - int(self.lookback * 1000)) if given is not None else 0
        ties = 0  # records already seen whose modification millisecond is gte
        while True:
            filters = [{"propertyName": prop, "operator": "GTE", "value": str(gte)}]
            if until is not None:
                filters.append({"propertyName": prop, "operator": "LT", "value": until})
            request: dict[str, Any] = {"filterGroups": [{"filters": filters}],
                                       "sorts": [{"propertyName": prop, "direction": "ASCENDING"}],
                                       "properties": self.properties(obj), "limit": self._search_limit}
            if ties:
                if ties + self._search_limit > SEARCH_CAP:
                    raise SourceError(SYSTEM, obj, f"POST /crm/v3/objects/{obj}/search",
                                      f"more than {SEARCH_CAP - self._search_limit} records modified at {gte} ms",
                                      "Search cannot page past them: run a full refresh of this object")
                request["after"] = str(ties)
            body = self.json_body(self.http.request("POST", f"{OBJECTS_PATH}/{obj}/search", obj=obj,
                                                json=request), obj)
            results = body.get("results") or []
            if obj in ASSOCIATIONS:
                self._attach_associations(obj, results)
            records = [_record(self._objects[obj], r) for r in results]
            newest = latest(records)
            if newest is None:  # nothing readable: step over these (they go to quarantine)
                ties += len(results)
            else:
                ms = int(_epoch_ms(newest))
                same = sum(1 for r in records if _readable_ms(r) == ms)
                ties = ties + same if ms == gte else same
                gte = ms
            yield Page(records, str(max(gte, given or 0)) if (given or newest) else None)
            if get(body, "paging", "next", "after") is None:
                return

    def _attach_associations(self, obj: str, results: list[Any]) -> None:
        """Put the associations of ``results`` on them in the v3 list shape (v4 batch read)."""
        target = ASSOCIATIONS[obj]
        ids = [r["id"] for r in results if isinstance(r, dict) and r.get("id")]
        found: dict[str, list[str]] = {}
        for start in range(0, len(ids), BATCH_LIMIT):
            inputs = [{"id": i} for i in ids[start:start + BATCH_LIMIT]]
            body = self.json_body(self.http.request("POST", f"{ASSOCIATIONS_PATH}/{obj}/{target}/batch/read",
                                                obj=obj, json={"inputs": inputs}), obj)
            for item in body.get("results") or []:
                found[str(get(item, "from", "id"))] = [str(to["toObjectId"]) for to in item.get("to") or []]
        kind = f"{obj[:-1]}_to_{target[:-1]}"
        for result in results:
            if isinstance(result, dict) and found.get(result.get("id")):
                result["associations"] = {target: {"results": [{"id": i, "type": kind}
                                                               for i in found[result["id"]]]}}

    def json_body(self, response: httpx.Response, obj: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise SourceError(SYSTEM, obj, f"{response.request.method} {response.request.url.path}",
                              f"HTTP {response.status_code} with a body that is not a JSON object: "
                              f"{response.text[:200]!r}",
                              f"Check {URL_SETTING}: it must be {DEFAULT_URL} (no path)")
        return body


def _epoch_ms(record: Record) -> str:
    return str((parse_timestamp(record.updated_at) - _EPOCH) // timedelta(milliseconds=1))


def _readable_ms(record: Record) -> int | None:
    try:
        return int(_epoch_ms(record))
    except ValueError:
        return None


def _record(spec: HubSpotObject, result: Any) -> Record:
    return Record(payload=spec.landed(result), source_id=text_id(get(result, spec.key)),
                  updated_at=get(result, spec.cursor),
                  deleted=get(result, "archived") is True)
