"""Odoo 17 external API over XML-RPC, carried by the shared HTTP layer.

Per Odoo's "External API" documentation: ``/xmlrpc/2/common`` ``authenticate(db, login,
api_key, {})`` returns the user id (``False`` when refused); ``/xmlrpc/2/object``
``execute_kw(db, uid, api_key, model, "search_read", [domain], {fields, order, limit, offset,
context})`` returns a list of dicts. An API key is used in place of the password. A refused
call comes back as an XML-RPC fault inside an HTTP 200.

The XML-RPC bodies are built and parsed with the standard library's ``xmlrpc.client`` and sent
with ``HttpClient``, so retries, the request budget and the error messages are the same as for
the REST sources. The body carries the API key: it never reaches a log or an error.

Paging is re-anchored on the last record read (keyset paging): every page asks for the records
after it in ``write_date asc, id asc`` order (``write_date > cursor``, or ``= cursor`` and ``id >``
its id), the very query a resumed run issues. A record changed while we page moves to the end
instead of shifting an unseen record out of reach, even among records that share one
``write_date`` (an order's lines do). Rows served unreadable (no id or no readable write_date)
after the anchor are stepped over with ``offset``. ``context:
{"active_test": False}`` makes Odoo return archived records too (``active = false`` becomes
``_deleted`` in raw). The walk starts ``lookback`` seconds before the stored cursor (Odoo stamps
``write_date`` with its transaction's start, so a long transaction commits records "in the past").

Minimum data: the fields read are the declared ones (``settings.py``: the model's, its
localisation's, the embedded records' few), and each record is projected to its declaration
before it lands (``SourceObject.landed_fields``). A custom ``x_`` field (what Odoo Studio and
customisations add) or any other field Odoo has is not Puente's to store, so it never lands.

Schema drift: once per run and model, ``fields_get`` says which fields exist. The declared fields
that exist are read; one that was removed is reported with a warning and left out instead of
failing the call ("Invalid field"), and staging sees it as absent. A localisation's fields
(``OdooModel.localised``: Colombia's DIAN state, CUFE and DIAN documents) are read where the
database has them and left out quietly where it does not. A one2many declared ``embedded`` (an
invoice's DIAN documents, with the DIAN's answer) lands with its records in place of their ids:
one more ``search_read`` per page.

Deletes: ``unlink`` leaves no trace, so ``list_ids`` reads every id with ``search`` (``active_test:
False``, id-anchored pages of 50,000, one small request per page) for the id-set comparison;
``count`` is ``search_count`` of the live (active) records.
"""

from __future__ import annotations

import logging
import xmlrpc.client
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from xml.parsers.expat import ExpatError

from puente.sources.base import DEFAULT_LOOKBACK, HttpConnector, Page, Record, get, parse_timestamp, text_id
from puente.sources.http import HttpClient, SourceError
from puente.sources.odoo.config import OdooConfig
from puente.sources.odoo.settings import (
    BASE_DOMAINS,
    COMMON_PATH,
    FIELDS,
    ID_PAGE_SIZE,
    LOCALISED_FIELDS,
    MODELS,
    OBJECT_PATH,
    PAGE_SIZE,
    SYSTEM,
    OdooModel,
)

log = logging.getLogger(__name__)


class OdooConnector(HttpConnector):
    source = "odoo"
    objects = tuple(m.name for m in MODELS)

    def __init__(self, config: OdooConfig, *, page_size: int = PAGE_SIZE, lookback: float = DEFAULT_LOOKBACK,
                 id_page_size: int = ID_PAGE_SIZE, **http_options: Any):
        self._config = config
        self._page_size, self._id_page_size = page_size, id_page_size
        self.lookback = lookback
        self._uid: int | None = None
        self._fields: dict[str, list[str]] = {}
        self._models = {m.name: m for m in MODELS}
        self.http = HttpClient(SYSTEM, config.url, **http_options)

    def cursor_at(self, moment: datetime) -> str:
        return parse_timestamp(moment.isoformat()).strftime("%Y-%m-%d %H:%M:%S")

    def fields(self, obj: str) -> list[str]:
        """The declared fields of ``obj`` that this database has; warns about the others (schema drift)."""
        if obj not in self._fields:
            known = self.execute_kw(obj, "fields_get", [], {"attributes": ["type"]})
            if not isinstance(known, dict):
                raise SourceError(SYSTEM, obj, "fields_get", f"a {type(known).__name__} instead of a dict",
                                  "Check that the URL points at Odoo's XML-RPC endpoint")
            missing = [f for f in FIELDS[obj] if f not in known and f not in LOCALISED_FIELDS[obj]]
            if missing:
                log.warning("Odoo %s no longer has the field(s) %s: extracting without them (dbt staging "
                            "will see them as absent)", obj, missing)
            self._fields[obj] = [f for f in FIELDS[obj] if f in known]
        return self._fields[obj]

    def count(self, obj: str) -> int:
        return int(self.execute_kw(obj, "search_count", [BASE_DOMAINS.get(obj, [])], {}))

    def list_ids(self, obj: str) -> set[str]:
        ids: set[str] = set()
        last = 0
        while True:
            page = self.execute_kw(obj, "search", [BASE_DOMAINS.get(obj, []) + [["id", ">", last]]], {
                "order": "id asc", "limit": self._id_page_size, "context": {"active_test": False}})
            if not isinstance(page, list):
                raise SourceError(SYSTEM, obj, "search", f"a {type(page).__name__} instead of a list of ids",
                                  "Check that the URL points at Odoo's XML-RPC endpoint")
            ids.update(str(i) for i in page)
            if len(page) < self._id_page_size:
                return ids
            last = max(page)

    def extract(self, obj: str, cursor: str | None, until: str | None = None) -> Iterator[Page]:
        given = cursor
        if cursor:
            cursor = (parse_timestamp(cursor) - timedelta(seconds=self.lookback)).strftime("%Y-%m-%d %H:%M:%S")
        model = self._models[obj]
        upper = [[model.cursor, "<", until]] if until else []
        fields = self.fields(obj)
        anchor = 0  # the id of the last readable record read, at write_date == cursor
        skip = 0  # unreadable rows read after it
        while True:
            after = ["|", [model.cursor, ">", cursor], "&", [model.cursor, "=", cursor], [model.key, ">", anchor]]
            domain = BASE_DOMAINS.get(obj, []) + ((after if anchor else [[model.cursor, ">=", cursor]])
                                                  if cursor else []) + upper
            rows = self.execute_kw(obj, "search_read", [domain], {
                "fields": fields, "order": f"{model.cursor} asc, {model.key} asc", "limit": self._page_size,
                "offset": skip, "context": {"active_test": False},
            })
            if not isinstance(rows, list):
                raise SourceError(SYSTEM, obj, "search_read", f"a {type(rows).__name__} instead of a list",
                                  "Check that the URL points at Odoo's XML-RPC endpoint")
            self._embed(model, rows)
            records = [_record(model, row) for row in rows]
            readable = [n for n, r in enumerate(records) if _keyed(r)]
            if readable:  # rows come in (write_date, id) order: the last readable one is the anchor
                cursor, anchor = records[readable[-1]].updated_at, int(records[readable[-1]].source_id)
                skip = len(rows) - 1 - readable[-1]
            else:  # nothing readable: step over them (they go to quarantine)
                skip += len(rows)
            yield Page(records, max(c for c in (cursor, given) if c) if cursor or given else None)
            if len(rows) < self._page_size:
                return

    def _embed(self, model: OdooModel, rows: list[Any]) -> None:
        """Each embedded one2many of ``rows`` (``OdooModel.embedded``) with its records in place of
        their ids, in the order Odoo listed them: one ``search_read`` per field and page. An id that
        is gone by then (a rejected DIAN document removed by a resend) is left out."""
        for field, comodel, wanted in model.embedded:
            if field not in self.fields(model.name):
                continue  # a localised field this database does not have
            lists = [row for row in rows if isinstance(row, dict) and isinstance(row.get(field), list)]
            ids = sorted({i for row in lists for i in row[field] if isinstance(i, int)})
            if not ids:
                continue
            if comodel not in self._fields:
                known = self.execute_kw(comodel, "fields_get", [], {"attributes": ["type"]})
                self._fields[comodel] = [f for f in ("id", *wanted) if isinstance(known, dict) and f in known]
            found = self.execute_kw(comodel, "search_read", [[["id", "in", ids]]], {
                "fields": self._fields[comodel], "context": {"active_test": False}})
            by_id = {r["id"]: r for r in found if isinstance(r, dict) and isinstance(r.get("id"), int)} \
                if isinstance(found, list) else {}
            for row in lists:
                row[field] = [by_id[i] for i in row[field] if i in by_id]

    def execute_kw(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any], *,
                   repeatable: bool = True) -> Any:
        """One ``execute_kw`` call; a ``repeatable=False`` one (a create, a confirmation) is never
        sent twice by the HTTP layer (see ``HttpClient.request``)."""
        cfg = self._config
        return self._call("object", "execute_kw", model,
                          (cfg.db, self._login(model), cfg.api_key, model, method, args, kwargs),
                          label=f"{model}.{method}", repeatable=repeatable)

    def server_version(self) -> dict[str, Any]:
        """``common.version()``: the server's version (``server_version_info``); needs no login."""
        return self._call("common", "version", "version", (), label="version")

    def login(self) -> int:
        """Authenticate (once per connector) and return the user's id; a refusal raises ``SourceError``."""
        return self._login("authenticate")

    def _login(self, obj: str) -> int:
        """``common.authenticate`` once per connector; the uid is reused for every call."""
        if self._uid is None:
            cfg = self._config
            uid = self._call("common", "authenticate", obj, (cfg.db, cfg.login, cfg.api_key, {}),
                             label="authenticate")
            if not isinstance(uid, int) or isinstance(uid, bool):
                raise SourceError(SYSTEM, obj, f"POST {COMMON_PATH} (authenticate)",
                                  f"login {cfg.login!r} on database {cfg.db!r} refused",
                                  "Check PUENTE_ODOO_DB, PUENTE_ODOO_LOGIN and the API key "
                                  "(Odoo: Preferences > Account Security > New API Key)")
            self._uid = uid
        return self._uid

    def _call(self, service: str, method: str, obj: str, params: tuple[Any, ...], *, label: str,
              repeatable: bool = True) -> Any:
        body = xmlrpc.client.dumps(params, method, allow_none=True)
        path = {"common": COMMON_PATH, "object": OBJECT_PATH}[service]
        response = self.http.request("POST", path, obj=obj, content=body.encode(),
                                     headers={"Content-Type": "text/xml"}, label=label, repeatable=repeatable)
        try:
            (result,), _ = xmlrpc.client.loads(response.content, use_builtin_types=True)
        except xmlrpc.client.Fault as fault:
            raise OdooFault(obj, f"POST {path} ({label})", fault.faultCode, str(fault.faultString)) from None
        except (ExpatError, ValueError):
            raise SourceError(SYSTEM, obj, f"POST {path} ({label})",
                              f"not an XML-RPC answer: {response.text[:200]!r}",
                              "Check PUENTE_ODOO_URL: it must be the Odoo base URL, e.g. "
                              "https://mycompany.odoo.com") from None
        return result


class OdooFault(SourceError):
    """Odoo refused a call (an XML-RPC fault): ``code`` (1 an error with its traceback, 2 a user or
    validation error, 3 access denied, 4 an access error) and Odoo's own words in ``fault``."""

    def __init__(self, obj: str, request: str, code: int, fault: str):
        self.code, self.fault = code, fault
        # Odoo puts the server traceback in faultString; its last line is the error itself.
        super().__init__(SYSTEM, obj, request, f"fault {code}: {self.message}",
                         "Check that the user may read this model and that the fields in "
                         "puente/sources/odoo/settings.py exist in this Odoo version")

    @property
    def message(self) -> str:
        """Odoo's message: the last line of a traceback, the whole text otherwise."""
        lines = self.fault.strip().splitlines() or [""]
        return lines[-1] if lines[0].startswith("Traceback") else " ".join(line.strip() for line in lines)

    @property
    def is_none_result(self) -> bool:
        """The method ran and was committed, but returned None, which XML-RPC cannot carry."""
        return self.code == 1 and "cannot marshal None" in self.fault


def _keyed(record: Record) -> bool:
    """Whether a record can anchor the next page: a readable write_date and an integer id."""
    try:
        parse_timestamp(record.updated_at)
    except ValueError:
        return False
    return str(record.source_id or "").isdigit()


def _record(model: OdooModel, row: Any) -> Record:
    return Record(payload=model.landed(row), source_id=text_id(get(row, model.key)),
                  updated_at=get(row, model.cursor) or None, deleted=get(row, "active") is False)
