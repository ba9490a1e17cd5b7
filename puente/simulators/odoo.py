"""Odoo 17's external API, served from the simulated business: XML-RPC and JSON-RPC.

What it reproduces, per Odoo's "External API" documentation and its RPC controllers:

- ``POST /xmlrpc/2/common``: ``version()``, ``authenticate(db, login, password_or_key, {})``
  (and the older ``login``), answering the user's id or ``False``.
- ``POST /xmlrpc/2/object``: ``execute_kw(db, uid, password, model, method, args, kwargs)`` with
  ``search``, ``search_read``, ``search_count``, ``read`` and ``fields_get`` on ``res.partner``,
  ``product.product``, ``sale.order``, ``sale.order.line``, ``account.move``, ``stock.quant``.
  Domains in Odoo's prefix notation (``'&'``, ``'|'``, ``'!'``, implicit AND) with ``=``, ``!=``,
  ``>``, ``>=``, ``<``, ``<=``, ``in``, ``not in``, ``like``, ``ilike``, ``not like``,
  ``not ilike``, ``=like``, ``=ilike``; ``fields``, ``offset``, ``limit``, ``order``
  (``"write_date asc, id asc"``) and ``context={'active_test': False}``. Records that have an
  ``active`` field are hidden when inactive unless the domain mentions ``active`` or the
  context turns ``active_test`` off, as the ORM does.
- Values as the ORM sends them: many2one ``[id, "display name"]``, missing values ``False``,
  datetimes ``"YYYY-MM-DD HH:MM:SS"`` in UTC.
- Errors as XML-RPC faults with the ``/xmlrpc/2`` integer codes: 3 for ``AccessDenied`` (bad
  database, user or key), 2 for user errors (``MissingError``), 1 with a traceback text for
  everything else (unknown model: ``KeyError``; unknown field or bad domain: ``ValueError``).
  The HTTP status of an XML-RPC fault is 200, as in Odoo.
- ``POST /jsonrpc`` with ``{"method": "call", "params": {"service", "method", "args"}}`` and
  Odoo's JSON error shape (``{"code": 200, "message": "Odoo Server Error", "data": {...}}``).

The simulated ERP is read-only: ``create``/``write``/``unlink`` answer an ``AccessError``.
Injected faults answer as a reverse proxy in front of Odoo would: 429 with ``Retry-After`` or
502, outside XML-RPC, or a hang and a dropped connection. ``search_read`` serves malformed
record versions and applies changes-while-paging and late updates at the injector's rates;
for per-endpoint rates its records count as the path ``/xmlrpc/2/object/<model>``. Records
deleted with ``Business.delete`` (``unlink``) are gone from every answer; fields added or dropped
with ``Business.add_field``/``drop_field`` appear in (or vanish from) ``fields_get`` and reads.
"""

from __future__ import annotations

import json
import random
import re
import xmlrpc.client
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fastapi import FastAPI, Request, Response

from puente.simulators.business import Business
from puente.simulators.limits import FaultInjector, FaultRates
from puente.simulators.wire import local_path, request_fault

UID = 2
SERVER_VERSION = {"server_version": "17.0", "server_version_info": [17, 0, 0, "final", 0, ""],
                  "server_serie": "17.0", "protocol_version": 1}

# model -> field -> (type, label, relation)
_COMMON = {"id": ("integer", "ID", None), "create_date": ("datetime", "Created on", None),
           "write_date": ("datetime", "Last Updated on", None)}
MODELS: dict[str, dict[str, tuple[str, str, str | None]]] = {
    "res.partner": {
        **_COMMON, "name": ("char", "Name", None), "display_name": ("char", "Display Name", None),
        "is_company": ("boolean", "Is a Company", None), "company_type": ("selection", "Company Type", None),
        "email": ("char", "Email", None), "phone": ("char", "Phone", None), "mobile": ("char", "Mobile", None),
        "vat": ("char", "Tax ID", None),
        "l10n_latam_identification_type_id": ("many2one", "Identification Type", "l10n_latam.identification.type"),
        "street": ("char", "Street", None), "city": ("char", "City", None), "zip": ("char", "Zip", None),
        "country_id": ("many2one", "Country", "res.country"), "lang": ("selection", "Language", None),
        "customer_rank": ("integer", "Customer Rank", None), "supplier_rank": ("integer", "Supplier Rank", None),
        "active": ("boolean", "Active", None),
    },
    "product.product": {
        **_COMMON, "name": ("char", "Name", None), "display_name": ("char", "Display Name", None),
        "default_code": ("char", "Internal Reference", None), "list_price": ("float", "Sales Price", None),
        "standard_price": ("float", "Cost", None), "qty_available": ("float", "Quantity On Hand", None),
        "type": ("selection", "Product Type", None), "categ_id": ("many2one", "Product Category", "product.category"),
        "uom_id": ("many2one", "Unit of Measure", "uom.uom"), "barcode": ("char", "Barcode", None),
        "active": ("boolean", "Active", None),
    },
    "sale.order": {
        **_COMMON, "name": ("char", "Order Reference", None), "display_name": ("char", "Display Name", None),
        "partner_id": ("many2one", "Customer", "res.partner"), "date_order": ("datetime", "Order Date", None),
        "state": ("selection", "Status", None), "amount_untaxed": ("monetary", "Untaxed Amount", None),
        "amount_tax": ("monetary", "Taxes", None), "amount_total": ("monetary", "Total", None),
        "currency_id": ("many2one", "Currency", "res.currency"),
        "client_order_ref": ("char", "Customer Reference", None), "origin": ("char", "Source Document", None),
        "invoice_status": ("selection", "Invoice Status", None), "user_id": ("many2one", "Salesperson", "res.users"),
        "order_line": ("one2many", "Order Lines", "sale.order.line"),
        "invoice_ids": ("many2many", "Invoices", "account.move"),
        "warehouse_id": ("many2one", "Warehouse", "stock.warehouse"),
    },
    "sale.order.line": {
        **_COMMON, "order_id": ("many2one", "Order Reference", "sale.order"),
        "product_id": ("many2one", "Product", "product.product"), "name": ("text", "Description", None),
        "product_uom_qty": ("float", "Quantity", None), "qty_delivered": ("float", "Delivery Quantity", None),
        "qty_invoiced": ("float", "Invoiced Quantity", None), "price_unit": ("float", "Unit Price", None),
        "price_subtotal": ("monetary", "Subtotal", None), "price_tax": ("float", "Total Tax", None),
        "price_total": ("monetary", "Total", None),
    },
    "account.move": {
        **_COMMON, "name": ("char", "Number", None), "display_name": ("char", "Display Name", None),
        "move_type": ("selection", "Type", None), "partner_id": ("many2one", "Partner", "res.partner"),
        "invoice_origin": ("char", "Origin", None), "ref": ("char", "Reference", None),
        "invoice_date": ("date", "Invoice/Bill Date", None), "invoice_date_due": ("date", "Due Date", None),
        "date": ("date", "Date", None), "amount_untaxed": ("monetary", "Untaxed Amount", None),
        "amount_tax": ("monetary", "Tax", None), "amount_total": ("monetary", "Total", None),
        "amount_residual": ("monetary", "Amount Due", None), "currency_id": ("many2one", "Currency", "res.currency"),
        "state": ("selection", "Status", None), "payment_state": ("selection", "Payment Status", None),
    },
    "stock.quant": {
        **_COMMON, "product_id": ("many2one", "Product", "product.product"),
        "location_id": ("many2one", "Location", "stock.location"),
        "warehouse_id": ("many2one", "Warehouse", "stock.warehouse"), "quantity": ("float", "Quantity", None),
        "reserved_quantity": ("float", "Reserved Quantity", None), "lot_id": ("many2one", "Lot/Serial Number", "stock.lot"),
        "in_date": ("datetime", "Incoming Date", None),
    },
}
# Each model's default ``_order`` (simplified where Odoo orders by computed or related fields).
DEFAULT_ORDER = {"res.partner": "name asc, id desc", "product.product": "default_code asc, name asc, id asc",
                 "sale.order": "date_order desc, id desc", "sale.order.line": "order_id asc, id asc",
                 "account.move": "date desc, name desc, id desc", "stock.quant": "id asc"}
OPERATORS = {"=", "!=", "<>", ">", ">=", "<", "<=", "in", "not in", "like", "ilike", "not like",
             "not ilike", "=like", "=ilike"}


@dataclass
class OdooError(Exception):
    """An error the way Odoo reports it: the server-side exception and the XML-RPC fault code."""

    exception: str  # e.g. "odoo.exceptions.AccessDenied", "builtins.ValueError"
    message: str
    fault_code: int = 1

    def fault_string(self) -> str:
        if self.fault_code != 1:  # AccessDenied, UserError: the message alone
            return self.message
        return ("Traceback (most recent call last):\n  File \"odoo/service/model.py\", in execute_kw\n"
                f"{self.exception.rsplit('.', 1)[-1]}: {self.message}\n")


def access_denied() -> OdooError:
    return OdooError("odoo.exceptions.AccessDenied", "Access Denied", 3)


def value_error(message: str) -> OdooError:
    return OdooError("builtins.ValueError", message)


class OdooService:
    """The RPC services of one Odoo database over the simulated business's records."""

    def __init__(self, business: Business, db: str, login: str, api_key: str,
                 faults: FaultInjector | None = None):
        self.business, self.db, self.login, self._key = business, db, login, api_key
        self.faults = faults or FaultInjector(FaultRates(), random.Random(0), service="odoo")

    def fields(self, model: str) -> dict[str, tuple[str, str, str | None]]:
        """The model's fields now: the standard ones, minus dropped ones, plus added ``x_`` ones."""
        dropped = self.business.dropped_fields.get(("odoo", model), [])
        added = self.business.extra_fields.get(("odoo", model), [])
        known = {name: spec for name, spec in MODELS[model].items() if name not in dropped}
        known.update({name: ("char", name.removeprefix("x_").replace("_", " ").title(), None) for name in added})
        return known

    def dispatch(self, service: str, method: str, params: list) -> Any:
        if service == "common":
            return self._common(method, params)
        if service == "object":
            if method != "execute_kw":
                raise value_error(f"Method not available: {method} (use execute_kw)")
            return self.execute_kw(*params)
        raise OdooError("builtins.KeyError", f"'{service}'")

    def _common(self, method: str, params: list) -> Any:
        if method == "version":
            return SERVER_VERSION
        if method in ("authenticate", "login"):
            db, login, password = params[:3]
            self._check_db(db)
            return UID if (login, password) == (self.login, self._key) else False
        raise value_error(f"Method not available: {method}")

    def _check_db(self, db: Any) -> None:
        if db != self.db:
            raise OdooError("psycopg2.OperationalError",
                            f'connection to server failed: FATAL:  database "{db}" does not exist')

    def execute_kw(self, db: str, uid: int, password: str, model: str, method: str,
                   args: list | None = None, kwargs: dict | None = None) -> Any:
        self._check_db(db)
        if uid != UID or password != self._key:
            raise access_denied()
        if model not in MODELS:
            raise OdooError("builtins.KeyError", f"'{model}'")
        args, kwargs = list(args or []), dict(kwargs or {})
        handler: Callable[..., Any] | None = {
            "search": self._search, "search_read": self._search_read, "search_count": self._search_count,
            "read": self._read, "fields_get": self._fields_get,
        }.get(method)
        if handler is None:
            if method in ("create", "write", "unlink", "copy"):
                raise OdooError("odoo.exceptions.AccessError",
                                f"You are not allowed to modify '{model}' records (this simulated ERP is "
                                "read-only).", 4)
            raise OdooError("builtins.AttributeError", f"The method '{method}' does not exist on the model '{model}'")
        try:
            return handler(model, *args, **kwargs)
        except TypeError as exc:
            raise OdooError("builtins.TypeError", str(exc)) from None

    # ------------------------------------------------------------------ ORM methods

    def _records(self, model: str, domain: list, context: dict | None, order: str | None = None) -> list[dict]:
        """The records matching ``domain`` (sorted when ``order`` is given), memoised between writes."""
        if not isinstance(domain, list):
            raise value_error(f"Invalid domain: {domain!r}")
        active_test = (context or {}).get("active_test", True)

        def select() -> list[dict]:
            predicate = compile_domain(model, domain)
            hide_inactive = ("active" in MODELS[model] and active_test
                             and not any(isinstance(t, list | tuple) and t and t[0] == "active" for t in domain))
            found = [r for r in self.business.live("odoo", model)
                     if predicate(r) and not (hide_inactive and not r["active"])]
            return sort_records(model, found, order) if order else found
        return self.business.memoised(("odoo", model, repr(domain), active_test, order), select)

    def _select(self, model: str, domain: list, offset: int, limit: int | None, order: str | None,
                context: dict | None) -> list[dict]:
        records = self._records(model, domain, context, order or DEFAULT_ORDER[model])
        offset = int(offset or 0)
        return records[offset:offset + limit] if limit else records[offset:]

    def _search(self, model: str, domain: list, offset: int = 0, limit: int | None = None,
                order: str | None = None, count: bool = False, context: dict | None = None) -> Any:
        if count:
            return len(self._records(model, domain, context))
        return [r["id"] for r in self._select(model, domain, offset, limit, order, context)]

    def _search_read(self, model: str, domain: list | None = None, fields: list | None = None,
                     offset: int = 0, limit: int | None = None, order: str | None = None,
                     context: dict | None = None) -> list[dict]:
        wanted = self._field_list(model, fields)
        path = f"/xmlrpc/2/object/{model}"
        for mutation in self.faults.mutations(path):
            rid = self.faults.pick(self.business.ids("odoo", model))
            if rid is not None and not self.business.is_deleted("odoo", model, rid):
                self.business.touch("odoo", model, rid,
                                    late_by=self.faults.late_by_seconds if mutation == "late" else 0.0)
        return [self.faults.serve(model, project(r, wanted), path)
                for r in self._select(model, domain or [], offset, limit, order, context)]

    def _search_count(self, model: str, domain: list | None = None, limit: int | None = None,
                      context: dict | None = None) -> int:
        found = len(self._records(model, domain or [], context))
        return min(found, limit) if limit else found

    def _read(self, model: str, ids: list | int, fields: list | None = None, context: dict | None = None,
              load: str = "_classic_read") -> list[dict]:
        ids = [ids] if isinstance(ids, int) else list(ids)
        table = self.business.odoo[model]
        missing = [i for i in ids if i not in table or self.business.is_deleted("odoo", model, i)]
        if missing:
            raise OdooError("odoo.exceptions.MissingError",
                            f"Record does not exist or has been deleted.\n(Record: {model}({missing[0]},), User: {UID})", 2)
        wanted = self._field_list(model, fields)
        return [project(table[i], wanted) for i in ids]

    def _fields_get(self, model: str, allfields: list | None = None, attributes: list | None = None,
                    context: dict | None = None) -> dict:
        out = {}
        for name, (ftype, label, relation) in self.fields(model).items():
            if allfields and name not in allfields:
                continue
            desc = {"type": ftype, "string": label, "required": name in ("id", "name"),
                    "readonly": name in ("id", "create_date", "write_date", "display_name"),
                    "store": True, "searchable": True, "sortable": ftype not in ("one2many", "many2many")}
            if relation:
                desc["relation"] = relation
            out[name] = {k: v for k, v in desc.items() if not attributes or k in attributes}
        return out

    def _field_list(self, model: str, fields: list | None) -> list[str]:
        known = self.fields(model)
        if not fields:
            return list(known)
        for name in fields:
            if name not in known:
                raise value_error(f"Invalid field '{name}' on model '{model}'")
        return ["id", *[f for f in fields if f != "id"]]


def project(record: dict, fields: list[str]) -> dict:
    return {f: record.get(f, False) for f in fields}


def _normalise(model: str, field: str, value: Any) -> Any:
    """Domain values as the ORM compares them: dates and datetimes as their wire strings."""
    ftype = MODELS[model][field][0]
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S" if ftype == "datetime" else "%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat() + (" 00:00:00" if ftype == "datetime" else "")
    if ftype == "datetime" and isinstance(value, str):
        try:
            return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise value_error(f"Invalid datetime {value!r} for field '{field}'") from None
    return value


def _like(pattern: str, exact: bool, case: bool) -> Callable[[Any], bool]:
    """SQL LIKE: ``like``/``ilike`` wrap the value in ``%…%``; ``=like``/``=ilike`` use it as typed."""
    body = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in str(pattern))
    regex = re.compile(body if exact else f".*{body}.*", 0 if case else re.IGNORECASE | re.DOTALL)
    return lambda v: v is not False and v is not None and regex.fullmatch(str(v)) is not None


def _leaf(model: str, leaf: Any) -> Callable[[dict], bool]:
    if not isinstance(leaf, list | tuple) or len(leaf) != 3:
        raise value_error(f"Invalid leaf {leaf!r}")
    field, op, value = leaf
    if (field, op, value) in ((1, "=", 1), (0, "=", 1)):  # Odoo's TRUE_LEAF and FALSE_LEAF
        return (lambda r: True) if field == 1 else (lambda r: False)
    if not isinstance(field, str) or field not in MODELS[model]:
        raise value_error(f"Invalid field {field!r} in leaf {tuple(leaf)!r}")
    if op not in OPERATORS:
        raise value_error(f"Invalid operator {op!r} in leaf {tuple(leaf)!r}")
    relational = MODELS[model][field][0] == "many2one"
    if op in ("in", "not in"):
        if not isinstance(value, list | tuple):
            value = [value]
        values = {_normalise(model, field, v) for v in value}

        def member(r: dict) -> bool:
            v = r.get(field, False)
            return (v[0] if relational and v else v) in values
        return member if op == "in" else (lambda r: not member(r))
    if op in ("like", "ilike", "not like", "not ilike", "=like", "=ilike"):
        match = _like(value, exact=op.startswith("="), case="ilike" not in op)

        def like(r: dict) -> bool:
            v = r.get(field, False)
            return match(v[1] if relational and v else v)
        return (lambda r: not like(r)) if op.startswith("not") else like
    value = _normalise(model, field, value)

    def current(r: dict) -> Any:
        v = r.get(field, False)
        if relational and v:
            return v[1] if isinstance(value, str) else v[0]
        return v
    if op == "=":
        return lambda r: current(r) == value if value is not False else not current(r)
    if op in ("!=", "<>"):
        return lambda r: current(r) != value if value is not False else bool(current(r))
    compare = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
               "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}[op]

    def ordered(r: dict) -> bool:
        v = current(r)
        if v is False or value is False:  # SQL: comparing with NULL is never true
            return False
        try:
            return compare(v, value)
        except TypeError:
            raise value_error(f"Cannot compare field '{field}' with {value!r}") from None
    return ordered


def compile_domain(model: str, domain: list) -> Callable[[dict], bool]:
    """A predicate for an Odoo domain in prefix (Polish) notation; leaves left over are ANDed."""
    stack: list[Callable[[dict], bool]] = []
    for token in reversed(domain):
        if token in ("&", "|"):
            if len(stack) < 2:
                raise value_error(f"Invalid domain {domain!r}: '{token}' needs two operands")
            a, b = stack.pop(), stack.pop()
            stack.append((lambda r, a=a, b=b: a(r) and b(r)) if token == "&"
                         else (lambda r, a=a, b=b: a(r) or b(r)))
        elif token == "!":
            if not stack:
                raise value_error(f"Invalid domain {domain!r}: '!' needs an operand")
            a = stack.pop()
            stack.append(lambda r, a=a: not a(r))
        else:
            stack.append(_leaf(model, token))
    return lambda r: all(p(r) for p in stack)


def sort_records(model: str, records: list[dict], order: str) -> list[dict]:
    """Sort as ``ORDER BY``: ``"write_date asc, id asc"``; many2one by display name, NULLs last."""
    keys = []
    for part in order.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise value_error(f"Invalid \"order\" specified ({order}).")
        if words[0] not in MODELS[model]:
            raise value_error(f"Invalid field '{words[0]}' on model '{model}' in order ({order})")
        keys.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    out = list(records)
    for field, desc in reversed(keys):
        relational = MODELS[model][field][0] == "many2one"
        present = [r for r in out if r.get(field) not in (False, None)]
        absent = [r for r in out if r.get(field) in (False, None)]
        present.sort(key=(lambda r, f=field: r[f][1]) if relational else (lambda r, f=field: r[f]), reverse=desc)
        out = present + absent if not desc else absent + present  # PostgreSQL: NULLS LAST asc, FIRST desc
    return out


def create_odoo_app(business: Business, db: str, login: str, api_key: str, faults: FaultInjector) -> FastAPI:
    """The Odoo endpoints, to mount under ``/odoo``."""
    service = OdooService(business, db, login, api_key, faults)
    app = FastAPI(title="Simulated Odoo 17 external API", docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def inject_faults(request: Request, call_next):
        fault = faults.draw(local_path(request))
        broken = await request_fault(fault, faults.hang_seconds)
        if broken is not None:
            return broken
        if fault == "429":
            return Response("Too Many Requests", status_code=429, headers={"Retry-After": "1"},
                            media_type="text/plain")
        if fault == "5xx":
            return Response("<html><body><h1>502 Bad Gateway</h1></body></html>", status_code=502,
                            media_type="text/html")
        return await call_next(request)

    @app.post("/xmlrpc/2/{name}")
    async def xmlrpc_endpoint(name: str, request: Request) -> Response:
        try:
            params, method = xmlrpc.client.loads(await request.body(), use_builtin_types=True)
        except Exception:  # noqa: BLE001 — whatever the parser says, the request is not XML-RPC
            body = xmlrpc.client.dumps(xmlrpc.client.Fault(1, "Invalid XML-RPC request"), methodresponse=True)
            return Response(body, media_type="text/xml")
        try:
            result = service.dispatch(name, method or "", list(params))
            body = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=False)
        except OdooError as exc:
            body = xmlrpc.client.dumps(xmlrpc.client.Fault(exc.fault_code, exc.fault_string()), methodresponse=True)
        return Response(body, media_type="text/xml")

    @app.post("/jsonrpc")
    async def jsonrpc(request: Request) -> Response:
        try:
            call = json.loads(await request.body())
            params = call["params"]
            result = service.dispatch(params["service"], params["method"], list(params.get("args", [])))
            answer = {"jsonrpc": "2.0", "id": call.get("id"), "result": result}
        except OdooError as exc:
            answer = {"jsonrpc": "2.0", "id": call.get("id"), "error": {
                "code": 200, "message": "Odoo Server Error",
                "data": {"name": exc.exception, "debug": exc.fault_string(), "message": exc.message,
                         "arguments": [exc.message], "context": {}}}}
        except (ValueError, KeyError, TypeError):
            answer = {"jsonrpc": "2.0", "id": None, "error": {
                "code": -32600, "message": "Invalid JSON-RPC request", "data": {}}}
        return Response(json.dumps(answer), media_type="application/json")

    return app
