"""Odoo 17's external API, served from the simulated business: XML-RPC and JSON-RPC.

What it reproduces, per Odoo's "External API" documentation (``external_rpc_api.rst``) and the
ORM and RPC code of Odoo 17 (``odoo/service/model.py``, ``odoo/models.py``, ``addons/sale``,
``addons/base_vat``, ``l10n_latam_base``, ``l10n_co``; see /work/notes/activation-apis.md, part 1):

- ``POST /xmlrpc/2/common``: ``version()``, ``authenticate(db, login, password_or_key, {})``
  (and the older ``login``), answering the user's id or ``False``.
- ``POST /xmlrpc/2/object``: ``execute_kw(db, uid, password, model, method, args, kwargs)``; the
  context travels in ``kwargs["context"]``. On every model: ``search``, ``search_read``,
  ``search_count``, ``read``, ``fields_get`` and ``check_access_rights(operation,
  raise_exception=True)`` (the 16/17 pre-flight; ``False`` or an ``AccessError`` where the user
  lacks the right). Domains in prefix notation (``'&'``, ``'|'``, ``'!'``, implicit AND) with
  ``=``, ``!=``, ``>``, ``>=``, ``<``, ``<=``, ``=?``, ``in``, ``not in``, ``like``, ``ilike``,
  ``not like``, ``not ilike``, ``=like``, ``=ilike``; ``fields``, ``offset``, ``limit``, ``order``
  (``"write_date asc, id asc"``) and ``context={'active_test': False}``. Records that have an
  ``active`` field are hidden when inactive unless the domain mentions ``active`` or the
  context turns ``active_test`` off, as the ORM does.
- Writes, as the simulated integration user may make them (``ACCESS``: a salesperson who can
  also invoice; reference data, products and stock are read-only to it, nothing can be deleted):

  - ``create`` (one dict: the new id; a list of dicts: the list of ids, all or none created) and
    ``write(ids, values)`` (``True``) on ``res.partner``: ``name`` required ("Contacts require a
    name"), ``ref`` free, ``vat`` checked with DIAN's check digit when the identification type is
    NIT (``base_vat``'s Colombian rule, which ``l10n_latam_base`` runs only for ``is_vat`` types;
    a new partner's type defaults to the generic "VAT", which this simulator does not check);
  - ``create``/``write`` on ``sale.order``: ``partner_id`` required and existing; ``order_line``
    as one2many commands (``(0, 0, values)`` on create; also ``(1, id, values)``, ``(2, id, 0)``
    and ``(5, 0, 0)`` on draft or sent orders) whose ``product_id`` must exist; ``tax_id`` as
    many2many commands (``(6, 0, ids)``, ``(4, id)``, ``(3, id)``, ``(5,)`` or a list of ids), the
    product's taxes by default; amounts computed (``price_unit × qty × (1 − discount/100)``,
    taxes per line); state ``draft``; the name from the ERP's sequence;
  - ``sale.order.action_confirm`` (draft or sent → ``sale``; a new ``date_order``; the stock
    reserved at once: ``stock.quant.reserved_quantity`` rises, never beyond what is on hand, with
    a new ``write_date``); other states: ``UserError`` "Some orders are not in a state requiring
    confirmation.";
  - ``sale.order.action_cancel``: on a non-draft order without ``disable_cancel_warning`` in the
    context it only returns the ``sale.order.cancel`` wizard's window action and changes nothing;
    with it (or on drafts) the orders are cancelled, their reservations released and draft
    invoices cancelled, and it returns ``True``;
  - the transient ``sale.advance.payment.inv`` wizard: ``create`` (``sale_order_ids`` defaults to
    the context's ``active_ids``; ``advance_payment_method`` ``delivered``, a regular invoice) and
    ``create_invoices``: a draft ``out_invoice`` per order with something left to invoice
    (``invoice_origin`` = the order's name, ``ref`` = its client reference), linked in
    ``invoice_ids``; it returns a window action (``act_window_close``, or the invoices with
    ``open_invoices`` in the context); nothing to invoice anywhere: ``UserError``.

  Records written through the API are stamped with the business's simulated now (the end of the
  current day: after everything the day did, before anything of the next), every write of one
  call alike, so the next night's extract picks them up. The business reacts to confirmed orders
  as to its own people's (``Business.on_api_order_confirmed``).
- Values as the ORM sends them: many2one ``[id, "display name"]``, many2many a list of ids,
  missing values ``False``, datetimes ``"YYYY-MM-DD HH:MM:SS"`` in UTC.
- Errors as XML-RPC faults with the ``/xmlrpc/2`` integer codes (``rpc.py``): 4 for
  ``AccessError`` (a right the user lacks; any private method ``_…``: "Private methods (such as
  …) cannot be called remotely."), 3 for ``AccessDenied`` (bad database, user or key), 2 for user
  errors (``UserError``, ``ValidationError``, ``MissingError``; an unknown model is ``UserError``
  "Object x doesn't exist"), 1 with a traceback text for everything else (unknown field:
  ``ValueError: Invalid field 'x' on model 'y'``; a bad domain; what this simulator does not do:
  ``NotImplementedError``). The HTTP status of an XML-RPC fault is 200, as in Odoo.
- ``POST /jsonrpc`` with ``{"method": "call", "params": {"service", "method", "args"}}`` and
  Odoo's JSON error shape (``{"code": 200, "message": "Odoo Server Error", "data": {...}}``).
- DIAN electronic invoicing, for a company in Colombia (``Business(company_country="CO")``, the
  default), as Odoo 17's ``l10n_co_dian`` exposes it on ``account.move``: ``l10n_co_dian_state``
  (``invoice_sending_failed``, ``invoice_pending``, ``invoice_rejected``, ``invoice_accepted``;
  ``False`` before the invoice is sent) and ``l10n_co_edi_cufe_cude_ref``, the CUFE, set only once
  accepted; ``l10n_co_dian_document_ids``, the invoice's DIAN documents (model
  ``l10n_co_dian.document``, newest first: one per sending, with the DIAN's answer in
  ``message_json``, ``{"status": …, "errors": ["Regla: …, Rechazo: …"]}``; a resend removes the
  rejected ones, as Odoo's ``_l10n_co_dian_send_invoice_xml`` does). Elsewhere the module is not
  installed: the fields and the model do not exist.
- Read-only reference models a client resolves ids with: ``res.country`` (Colombia, id 49, code
  ``CO``; Argentina 10, Chile 46, México 156, Brasil 31 for the customers abroad),
  ``l10n_latam.identification.type`` (3 Cédula de ciudadanía, ``national_citizen_id``; 4 NIT,
  ``rut``; 1 VAT, l10n_latam_base's generic type, for a company abroad; 7 ID del Exterior,
  ``external_id``, for a person abroad; with ``l10n_co_document_code`` and ``is_vat``),
  ``account.tax`` (IVA 19%, id 1).

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
import secrets
import xmlrpc.client
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fastapi import FastAPI, Request, Response

from puente.simulators import latam
from puente.simulators.business import Business
from puente.simulators.colombia import nit_check_digit
from puente.simulators.limits import FaultInjector, FaultRates, Limits
from puente.simulators.systems import Credential, Simulated
from puente.simulators.wire import drawn_fault, service_app

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
        "active": ("boolean", "Active", None), "ref": ("char", "Reference", None),
        # the mass-mailing blacklist (module mail, always there with sales): its email opted out
        "is_blacklisted": ("boolean", "Blacklist", None),
    },
    "product.product": {
        **_COMMON, "name": ("char", "Name", None), "display_name": ("char", "Display Name", None),
        "default_code": ("char", "Internal Reference", None), "list_price": ("float", "Sales Price", None),
        "standard_price": ("float", "Cost", None), "qty_available": ("float", "Quantity On Hand", None),
        "type": ("selection", "Product Type", None), "categ_id": ("many2one", "Product Category", "product.category"),
        "uom_id": ("many2one", "Unit of Measure", "uom.uom"), "barcode": ("char", "Barcode", None),
        "active": ("boolean", "Active", None), "taxes_id": ("many2many", "Customer Taxes", "account.tax"),
        "invoice_policy": ("selection", "Invoicing Policy", None),
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
        "discount": ("float", "Discount (%)", None), "tax_id": ("many2many", "Taxes", "account.tax"),
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
        # l10n_co_dian (Odoo 17 enterprise, installed for a company in Colombia): the invoice's
        # latest DIAN document's state, and its CUFE/CUDE once the DIAN accepted it.
        "l10n_co_dian_state": ("selection", "L10N Co Dian State", None),
        "l10n_co_edi_cufe_cude_ref": ("char", "CUFE/CUDE/CUDS", None),
        "l10n_co_dian_document_ids": ("one2many", "L10N Co Dian Document", "l10n_co_dian.document"),
    },
    # l10n_co_dian: one document per sending of an invoice to the DIAN, with the DIAN's answer in
    # ``message_json`` ({"status": its StatusDescription, "errors": [each ErrorMessage string]}).
    "l10n_co_dian.document": {
        **_COMMON, "move_id": ("many2one", "Move", "account.move"),
        "attachment_id": ("many2one", "Attachment", "ir.attachment"), "identifier": ("char", "CUFE/CUDE/CUDS", None),
        "zip_key": ("char", "Zip Key", None), "state": ("selection", "State", None),
        "message_json": ("json", "Message Json", None), "message": ("html", "Message", None),
        "datetime": ("datetime", "Datetime", None), "test_environment": ("boolean", "Test Environment", None),
        "certification_process": ("boolean", "Certification Process", None),
    },
    "stock.quant": {
        **_COMMON, "product_id": ("many2one", "Product", "product.product"),
        "location_id": ("many2one", "Location", "stock.location"),
        "warehouse_id": ("many2one", "Warehouse", "stock.warehouse"), "quantity": ("float", "Quantity", None),
        "reserved_quantity": ("float", "Reserved Quantity", None), "lot_id": ("many2one", "Lot/Serial Number", "stock.lot"),
        "in_date": ("datetime", "Incoming Date", None),
    },
    "res.country": {
        **_COMMON, "name": ("char", "Country Name", None), "code": ("char", "Country Code", None),
        "phone_code": ("integer", "Country Calling Code", None), "vat_label": ("char", "Vat Label", None),
        "currency_id": ("many2one", "Currency", "res.currency"),
    },
    "l10n_latam.identification.type": {
        **_COMMON, "name": ("char", "Name", None), "is_vat": ("boolean", "Vat", None),
        "country_id": ("many2one", "Country", "res.country"),
        "l10n_co_document_code": ("selection", "Document Code", None), "active": ("boolean", "Active", None),
    },
    "account.tax": {
        **_COMMON, "name": ("char", "Tax Name", None), "amount": ("float", "Amount", None),
        "amount_type": ("selection", "Tax Computation", None), "type_tax_use": ("selection", "Tax Type", None),
        "price_include": ("boolean", "Included in Price", None), "active": ("boolean", "Active", None),
    },
    "sale.advance.payment.inv": {
        **_COMMON, "advance_payment_method": ("selection", "Create Invoice", None),
        "sale_order_ids": ("many2many", "Sales Orders", "sale.order"),
        "deduct_down_payments": ("boolean", "Deduct down payments", None),
    },
}
# Fields of Colombian localisation modules: only a database whose company is in Colombia has them.
COLOMBIAN_FIELDS = {"account.move": {"l10n_co_dian_state", "l10n_co_edi_cufe_cude_ref", "l10n_co_dian_document_ids"}}
# Models of Colombian localisation modules: elsewhere they do not exist ("Object … doesn't exist").
COLOMBIAN_MODELS = {"l10n_co_dian.document"}
# Each model's default ``_order`` (simplified where Odoo orders by computed or related fields).
DEFAULT_ORDER = {"res.partner": "name asc, id desc", "product.product": "default_code asc, name asc, id asc",
                 "sale.order": "date_order desc, id desc", "sale.order.line": "order_id asc, id asc",
                 "account.move": "date desc, name desc, id desc", "stock.quant": "id asc",
                 "res.country": "name asc", "l10n_latam.identification.type": "id asc", "account.tax": "id asc",
                 "sale.advance.payment.inv": "id asc", "l10n_co_dian.document": "datetime desc, id desc"}
OPERATORS = {"=", "!=", "<>", ">", ">=", "<", "<=", "=?", "in", "not in", "like", "ilike", "not like",
             "not ilike", "=like", "=ilike"}
MODEL_LABELS = {"res.partner": "Contact", "product.product": "Product Variant", "sale.order": "Sales Order",
                "sale.order.line": "Sales Order Line", "account.move": "Journal Entry", "stock.quant": "Quants",
                "res.country": "Country", "l10n_latam.identification.type": "Identification Types",
                "account.tax": "Tax", "sale.advance.payment.inv": "Sales Advance Payment Invoice",
                "l10n_co_dian.document": "Colombian documents used for each interaction with the DIAN"}
# What the simulated integration user may do (its groups' ir.model.access): a salesperson who may
# also invoice. Reference data, products and stock are read-only to it; it may delete nothing.
ACCESS = {model: {"read"} for model in MODELS}
for _model in ("res.partner", "sale.order", "sale.order.line", "account.move", "sale.advance.payment.inv"):
    ACCESS[_model] |= {"write", "create"}
# The fields a client may set, where this simulator writes the model; the other fields are computed.
WRITABLE = {
    "res.partner": {"name", "is_company", "company_type", "email", "phone", "mobile", "vat",
                    "l10n_latam_identification_type_id", "street", "city", "zip", "country_id", "lang", "ref",
                    "active", "customer_rank", "supplier_rank"},
    "sale.order": {"name", "partner_id", "date_order", "client_order_ref", "origin", "warehouse_id", "order_line"},
    "sale.order.line": {"product_id", "name", "product_uom_qty", "price_unit", "discount", "tax_id"},
    "sale.advance.payment.inv": {"advance_payment_method", "sale_order_ids", "deduct_down_payments"},
}
SELECTIONS = {("res.partner", "company_type"): {"person", "company"},
              ("sale.advance.payment.inv", "advance_payment_method"): {"delivered", "percentage", "fixed"}}
ACCESS_VERBS = {"read": "access", "write": "modify", "create": "create", "unlink": "delete"}
NIT_FORMAT = "CO213123432-1 or CO213.123.432-1"  # base_vat's _ref_vat['co']
FOREIGN_VAT_FORMATS = {"AR": "AR200-5536168-2 or 20055361682", "CL": "CL76086428-5",
                       "MX": "MXGODE561231GR8 or GODE561231GR8", "BR": "11 digits (CPF) or 14 (CNPJ)"}
NOTHING_TO_INVOICE = (
    "Cannot create an invoice. No items are available to invoice.\n\n"
    "To resolve this issue, please ensure that:\n"
    "   \u2022 The products have been delivered before attempting to invoice them.\n"
    "   \u2022 The invoicing policy of the product is configured correctly.\n\n"
    "If you want to invoice based on ordered quantities instead:\n"
    "   \u2022 For consumable or storable products, open the product, go to the 'General Information' tab and "
    "change the 'Invoicing Policy' from 'Delivered Quantities' to 'Ordered Quantities'.\n"
    "   \u2022 For services (and other products), change the 'Invoicing Policy' to 'Prepaid/Fixed Price'.\n")


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


def access_error(message: str) -> OdooError:
    return OdooError("odoo.exceptions.AccessError", message, 4)


def user_error(message: str) -> OdooError:
    return OdooError("odoo.exceptions.UserError", message, 2)


def validation_error(message: str) -> OdooError:
    return OdooError("odoo.exceptions.ValidationError", message, 2)


def missing_error(model: str, rid: Any) -> OdooError:
    return OdooError("odoo.exceptions.MissingError",
                     f"Record does not exist or has been deleted.\n(Record: {model}({rid},), User: {UID})", 2)


def not_simulated(message: str) -> OdooError:
    """A call Odoo would take that this simulator does not carry out (a fault 1, said plainly)."""
    return OdooError("builtins.NotImplementedError", f"{message} (not done by this simulated Odoo)")


def mandatory(model: str, field: str) -> OdooError:
    """A NOT NULL violation as ``_as_validation_error`` words it."""
    return validation_error(
        "The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n"
        "- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n"
        f"Model: {MODEL_LABELS[model]} ({model})\nField: {MODELS[model][field][1]} ({field})\n")


def missing_reference(model: str, field: str) -> OdooError:
    """A foreign-key violation (an id that does not exist) as ``_as_validation_error`` words it."""
    return validation_error(
        "The operation cannot be completed: another model requires the record being deleted. If possible, "
        f"archive it instead.\n\nModel: {MODEL_LABELS[model]} ({model})\n"
        f"Constraint: {model.replace('.', '_')}_{field}_fkey\n")


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
        if self.business.company_country != "CO":  # l10n_co_dian is not installed
            dropped = [*dropped, *COLOMBIAN_FIELDS.get(model, ())]
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
        if not isinstance(method, str) or method.startswith("_") or method == "init":  # check_method_name
            raise access_error(f"Private methods (such as {method}) cannot be called remotely.")
        if model not in MODELS or (model in COLOMBIAN_MODELS and self.business.company_country != "CO"):
            raise user_error(f"Object {model} doesn't exist")
        args, kwargs = list(args or []), dict(kwargs or {})
        handler: Callable[..., Any] | None = {
            "search": self._search, "search_read": self._search_read, "search_count": self._search_count,
            "read": self._read, "fields_get": self._fields_get, "check_access_rights": self._check_access_rights,
            "create": self._create, "write": self._write, "unlink": self._unlink, "copy": self._copy,
        }.get(method) or {
            ("sale.order", "action_confirm"): self._action_confirm, ("sale.order", "action_cancel"): self._action_cancel,
            ("sale.advance.payment.inv", "create_invoices"): self._create_invoices,
        }.get((model, method))
        if handler is None:
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
        return [self.faults.serve(model, project(model, r, wanted), path)
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
        return [project(model, table[i], wanted) for i in ids]

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

    # ------------------------------------------------------------------ rights

    def _check_access_rights(self, model: str, operation: str, raise_exception: bool = True,
                             context: dict | None = None) -> bool:
        if operation not in ACCESS_VERBS:
            raise value_error(f"Invalid access mode: {operation!r}")
        if operation in ACCESS[model]:
            return True
        if raise_exception:
            raise self._denied(model, operation)
        return False

    @staticmethod
    def _denied(model: str, operation: str) -> OdooError:
        return access_error(f"You are not allowed to {ACCESS_VERBS[operation]} '{MODEL_LABELS[model]}' ({model}) "
                            "records.\n\nContact your administrator to request access if necessary.")

    # ------------------------------------------------------------------ writes

    def _unlink(self, model: str, *args: Any, **kwargs: Any) -> Any:
        raise self._denied(model, "unlink")

    def _copy(self, model: str, *args: Any, **kwargs: Any) -> Any:
        if "create" not in ACCESS[model]:
            raise self._denied(model, "create")
        raise not_simulated(f"copy on {model}")

    def _create(self, model: str, vals_list: Any, context: dict | None = None) -> int | list[int]:
        """``create``: one dict gives one id, a list of dicts the list of ids (all or none)."""
        if "create" not in ACCESS[model]:
            raise self._denied(model, "create")
        single = isinstance(vals_list, dict)
        items = [vals_list] if single else vals_list
        if not isinstance(items, list) or not all(isinstance(v, dict) for v in items):
            raise value_error(f"create() takes a dict or a list of dicts, got {vals_list!r}")
        steps = {"res.partner": (self._partner_values, self._make_partner),
                 "sale.order": (self._order_values, self._make_order),
                 "sale.advance.payment.inv": (self._wizard_values, self._make_wizard)}.get(model)
        if steps is None:
            raise not_simulated(f"create on {model} (this simulator creates res.partner and sale.order, "
                                "their lines through order_line, and the invoicing wizard)")
        prepare, make = steps
        prepared = [prepare(values, context or {}) for values in items]  # validate every one first
        ids = [make(values) for values in prepared]
        return ids[0] if single else ids

    def _write(self, model: str, ids: Any, values: Any, context: dict | None = None) -> bool:
        if "write" not in ACCESS[model]:
            raise self._denied(model, "write")
        if model not in ("res.partner", "sale.order"):
            raise not_simulated(f"write on {model} (this simulator writes res.partner and sale.order)")
        if not isinstance(values, dict):
            raise value_error(f"write() takes a dict of values, got {values!r}")
        records = self._existing(model, ids)
        self._check_fields(model, values)
        if model == "res.partner":
            changes = _company_type(self._typed(model, values))
            for record in records:
                self._check_partner({**record, **self.business.erp.relational(model, changes)})
            for record in records:
                self.business.odoo_write(model, record["id"], self.business.erp.relational(model, changes))
            return True
        header = self._typed(model, {k: v for k, v in values.items() if k != "order_line"})
        if header.get("warehouse_id", 1) != 1:
            raise missing_reference(model, "warehouse_id")
        header.pop("warehouse_id", None)
        if "order_line" in values and any(r["state"] not in ("draft", "sent") for r in records):
            raise not_simulated("changing the lines of a confirmed or cancelled order")
        commands = [self._line_commands(values.get("order_line", []), record) for record in records]  # all valid
        for record, changes in zip(records, commands, strict=True):
            self._apply_order(record, header, changes)
        return True

    def _existing(self, model: str, ids: Any) -> list[dict]:
        ids = [ids] if isinstance(ids, int) else ids
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise value_error(f"Expected a list of ids, got {ids!r}")
        table = self.business.odoo[model]
        for rid in ids:
            if rid not in table or self.business.is_deleted("odoo", model, rid):
                raise missing_error(model, rid)
        return [table[rid] for rid in ids]

    def _check_fields(self, model: str, values: dict) -> None:
        known = self.fields(model)
        for name in values:
            if name not in known:
                raise value_error(f"Invalid field {name!r} on model {model!r}")
            if name not in WRITABLE[model]:
                raise not_simulated(f"writing the computed field {name!r} on {model!r}")

    def _typed(self, model: str, values: dict) -> dict:
        """Values converted as the ORM converts them (many2one stay ids), or ValueError."""
        out = {}
        for name, value in values.items():
            ftype, _, relation = MODELS[model][name]
            if value is False or value is None:
                out[name] = 0.0 if ftype in ("float", "monetary") else False
            elif ftype in ("char", "text"):
                out[name] = str(value)
            elif ftype == "boolean":
                out[name] = bool(value)
            elif ftype in ("integer", "float", "monetary"):
                try:
                    out[name] = int(value) if ftype == "integer" else float(value)
                except (TypeError, ValueError):
                    raise value_error(f"Wrong value for {model}.{name}: {value!r}") from None
            elif ftype == "selection":
                if value not in SELECTIONS.get((model, name), {value}):
                    raise value_error(f"Wrong value for {model}.{name}: {value!r}")
                out[name] = value
            elif ftype == "datetime":
                out[name] = _normalise(model, name, value)
            elif ftype == "many2one":
                if not isinstance(value, int) or isinstance(value, bool):
                    raise value_error(f"Wrong value for {model}.{name}: {value!r} (a many2one takes an id)")
                if relation in self.business.odoo and (value not in self.business.odoo[relation]
                                                       or self.business.is_deleted("odoo", relation, value)):
                    if (model, name) == ("sale.order", "partner_id"):  # computed fields read the partner first
                        raise missing_error(relation, value)
                    raise missing_reference(model, name)
                out[name] = value
            else:
                raise not_simulated(f"writing {ftype} field {name!r} on {model!r} this way")
        return out

    def _many2many(self, model: str, field: str, current: list[int], commands: Any) -> list[int]:
        """The ids after many2many commands: ``(6, 0, ids)``, ``(4, id)``, ``(3, id)``, ``(5,)`` or ids."""
        relation = MODELS[model][field][2]
        if not isinstance(commands, list):
            raise value_error(f"Wrong value for {model}.{field}: {commands!r}")
        ids = list(current)
        for command in commands:
            if isinstance(command, int):
                command = [4, command]
            if not isinstance(command, list | tuple) or not command or command[0] not in (3, 4, 5, 6):
                raise value_error(f"Wrong value for {model}.{field}: {command!r}")
            if command[0] == 6:
                ids = list(dict.fromkeys(command[2] if len(command) > 2 else []))
            elif command[0] == 5:
                ids = []
            elif command[0] == 4 and command[1] not in ids:
                ids.append(command[1])
            elif command[0] == 3 and command[1] in ids:
                ids.remove(command[1])
        for rid in ids:
            if not isinstance(rid, int) or rid not in self.business.odoo[relation]:
                raise missing_reference(model, field)
        return ids

    # res.partner

    def _partner_values(self, values: dict, context: dict) -> dict:
        self._check_fields("res.partner", values)
        typed = _company_type(self._typed("res.partner", values))
        self._check_partner({"name": False, "vat": False, "l10n_latam_identification_type_id": False, **typed})
        return typed

    def _check_partner(self, record: dict) -> None:
        """``res.partner``'s constraints: a contact needs a name; a NIT-type partner's ``vat`` must
        carry DIAN's check digit (``base_vat``'s Colombian format), and a VAT-type partner's of
        Argentina, Chile, Mexico or Brazil its country's (``base_vat`` checks the generic type
        against the partner's country)."""
        if not record.get("name"):
            raise validation_error("The operation cannot be completed: Contacts require a name")
        id_type = record.get("l10n_latam_identification_type_id")
        type_id = id_type[0] if isinstance(id_type, list) else id_type
        if record.get("vat") and type_id and self.business.odoo["l10n_latam.identification.type"][type_id][
                "l10n_co_document_code"] == "rut" and not valid_nit(record["vat"]):
            raise validation_error(f"\nThe NIT number [{record['vat']}] for partner [{record['name']}] does not "
                                   f"seem to be valid. \nNote: the expected format is {NIT_FORMAT}")
        country = record.get("country_id")
        country_id = country[0] if isinstance(country, list) else country
        code = (self.business.odoo["res.country"].get(country_id) or {}).get("code") if country_id else None
        id_types = self.business.odoo["l10n_latam.identification.type"]
        if record.get("vat") and type_id and id_types[type_id]["is_vat"] and not id_types[type_id]["country_id"] \
                and code in latam.COUNTRIES and not valid_foreign_vat(code, record["vat"]):
            label = self.business.odoo["res.country"][country_id]["vat_label"]
            raise validation_error(f"\nThe {label} number [{record['vat']}] for partner [{record['name']}] does not "
                                   f"seem to be valid. \nNote: the expected format is {FOREIGN_VAT_FORMATS[code]}")

    def _make_partner(self, values: dict) -> int:
        return self.business.erp.new_partner(values, self.business.now())["id"]

    # sale.order

    def _order_values(self, values: dict, context: dict) -> dict:
        self._check_fields("sale.order", values)
        header = self._typed("sale.order", {k: v for k, v in values.items() if k != "order_line"})
        if not header.get("partner_id"):
            raise mandatory("sale.order", "partner_id")
        if header.get("warehouse_id", 1) != 1:  # the one warehouse
            raise missing_reference("sale.order", "warehouse_id")
        header.pop("warehouse_id", None)
        return {"header": header, "lines": self._line_commands(values.get("order_line", []), None)}

    def _line_commands(self, commands: Any, order: dict | None) -> list[tuple]:
        """One2many commands on ``order_line``, validated: ``(0, _, values)`` on any order, and on an
        existing one ``(1, id, values)``, ``(2, id, _)``, ``(5, _, _)``."""
        if not isinstance(commands, list):
            raise value_error(f"Wrong value for sale.order.order_line: {commands!r}")
        lines = self.business.odoo["sale.order.line"]
        out = []
        for command in commands:
            if not isinstance(command, list | tuple) or not command or not isinstance(command[0], int):
                raise value_error(f"Wrong value for sale.order.order_line: {command!r}")
            code = command[0]
            if code == 0 and len(command) == 3 and isinstance(command[2], dict):
                out.append((0, self._line_values(command[2], None)))
            elif code in (1, 2) and order is not None and len(command) >= 2:
                if command[1] not in order["order_line"]:
                    raise missing_error("sale.order.line", command[1])
                if code == 1:
                    if len(command) < 3 or not isinstance(command[2], dict):
                        raise value_error(f"Wrong value for sale.order.order_line: {command!r}")
                    out.append((1, command[1], self._line_values(command[2], lines[command[1]])))
                else:
                    out.append((2, command[1]))
            elif code == 5 and order is not None:
                out.extend((2, line_id) for line_id in order["order_line"])
            elif code in (5, 6) and order is None and not (command[2] if len(command) > 2 else []):
                continue  # clearing the lines of a new order: nothing to do
            else:
                raise not_simulated(f"the order_line command {command!r}")
        return out

    def _line_values(self, values: dict, line: dict | None) -> dict:
        """A line's values, complete for a new line (``line`` None) or the changes to ``line``."""
        model = "sale.order.line"
        self._check_fields(model, values)
        typed = self._typed(model, {k: v for k, v in values.items() if k != "tax_id"})
        if line is None and not typed.get("product_id"):
            raise validation_error("The operation cannot be completed: Missing required fields on accountable sale "
                                   "order line.")
        if "product_id" in typed:
            self._existing("product.product", [typed["product_id"]])
        current_taxes = line["tax_id"] if line else None
        if "tax_id" in values:
            typed["tax_id"] = self._many2many(model, "tax_id", current_taxes or [], values["tax_id"])
        if line is not None:
            return typed
        product = self.business.odoo["product.product"][typed["product_id"]]
        return self.business.erp.line_values(
            typed["product_id"], typed.get("product_uom_qty", 1.0), typed.get("price_unit", product["list_price"]),
            typed.get("discount", 0.0), typed.get("name") or None, typed.get("tax_id"))

    def _make_order(self, values: dict) -> int:
        erp, now = self.business.erp, self.business.now()
        order = erp.new_order(values["header"], [line for _, line in values["lines"]], now)
        return order["id"]

    def _apply_order(self, order: dict, header: dict, commands: list[tuple]) -> None:
        erp, now = self.business.erp, self.business.now()
        if header:
            self.business.odoo_write("sale.order", order["id"], erp.relational("sale.order", header))
        for command in commands:
            if command[0] == 0:
                erp.add_line(order, command[1], now)
            elif command[0] == 1:
                erp.update_line(order, command[1], command[2], now)
            else:
                erp.remove_line(order, command[1], now)

    def _action_confirm(self, model: str, ids: Any, context: dict | None = None) -> bool:
        orders = self._existing(model, ids)
        if any(order["state"] not in ("draft", "sent") for order in orders):
            raise user_error("Some orders are not in a state requiring confirmation.")
        now = self.business.now()
        for order in orders:
            self.business.erp.confirm(order["id"], now, api=True)
            self.business.on_api_order_confirmed(order["id"])
        return True

    def _action_cancel(self, model: str, ids: Any, context: dict | None = None) -> Any:
        """Without ``disable_cancel_warning``, a non-draft order only opens the cancel wizard."""
        orders = self._existing(model, ids)
        if not (context or {}).get("disable_cancel_warning") and any(o["state"] != "draft" for o in orders):
            if len(orders) != 1:
                raise value_error(f"Expected singleton: sale.order({', '.join(str(o['id']) for o in orders)})")
            return {"name": "Cancel Sales Order", "view_mode": "form", "res_model": "sale.order.cancel",
                    "view_id": 1302, "type": "ir.actions.act_window", "target": "new",
                    "context": {"default_order_id": orders[0]["id"], "mark_so_as_canceled": True}}
        now = self.business.now()
        for order in orders:
            self.business.erp.cancel(order["id"], now, api=True)
        return True

    # sale.advance.payment.inv

    def _wizard_values(self, values: dict, context: dict) -> dict:
        model = "sale.advance.payment.inv"
        self._check_fields(model, values)
        typed = self._typed(model, {k: v for k, v in values.items() if k != "sale_order_ids"})
        method = typed.setdefault("advance_payment_method", "delivered")
        if method != "delivered":
            raise not_simulated(f"down payments (advance_payment_method {method!r})")
        typed.setdefault("deduct_down_payments", True)
        default = [i for i in context.get("active_ids") or [] if isinstance(i, int)]
        typed["sale_order_ids"] = (self._many2many(model, "sale_order_ids", [], values["sale_order_ids"])
                                   if "sale_order_ids" in values else default)
        self._existing("sale.order", typed["sale_order_ids"])
        return typed

    def _make_wizard(self, values: dict) -> int:
        return self.business.erp.create("sale.advance.payment.inv", dict(values), self.business.now())["id"]

    def _create_invoices(self, model: str, ids: Any, context: dict | None = None) -> dict:
        """A draft invoice per order of the wizards with something left to invoice, then the window
        action Odoo 17 returns (the invoices only with ``open_invoices`` in the context)."""
        wizards = self._existing(model, ids)
        order_ids = list(dict.fromkeys(i for w in wizards for i in w["sale_order_ids"]))
        now = self.business.now()
        invoices = [inv for so_id in order_ids if (inv := self.business.erp.invoice_draft(so_id, now))]
        if not invoices:
            raise user_error(NOTHING_TO_INVOICE)
        if not (context or {}).get("open_invoices"):
            return {"type": "ir.actions.act_window_close"}
        action: dict[str, Any] = {"type": "ir.actions.act_window", "name": "Invoices", "res_model": "account.move",
                                  "context": {"default_move_type": "out_invoice"}}
        if len(invoices) == 1:
            action.update(view_mode="form", views=[[False, "form"]], res_id=invoices[0]["id"])
        else:
            action.update(view_mode="tree,kanban,form", domain=[["id", "in", [i["id"] for i in invoices]]])
        return action


def _company_type(values: dict) -> dict:
    """``is_company`` and ``company_type`` say the same thing: set one, the other follows."""
    if "company_type" in values and "is_company" not in values:
        values["is_company"] = values["company_type"] == "company"
    elif "is_company" in values:
        values["company_type"] = "company" if values["is_company"] else "person"
    return values


def valid_foreign_vat(code: str, vat: str) -> bool:
    """A CUIT, RUT, RFC, CPF or CNPJ whose check digits hold (its country's code ahead allowed)."""
    compact = latam.canonical_tax_id(str(vat)).removeprefix(code)
    shapes = {"AR": r"\d{11}", "CL": r"\d{1,8}[\dK]", "MX": r"[A-ZÑ&]{3,4}\d{6}[A-Z\d]{3}", "BR": r"\d{11}|\d{14}"}
    if not re.fullmatch(shapes[code], compact):
        return False
    cut = 2 if code == "BR" else 1
    return latam.check_digits(code, len(compact) == 14, compact[:-cut]) == compact[-cut:]


def valid_nit(vat: str) -> bool:
    """A Colombian NIT with DIAN's check digit, typed as people type it (``900.123.456-7``,
    ``900123456-7``, ``CO9001234567``): what ``base_vat`` accepts for Colombia."""
    digits = re.sub(r"[\s.\-]", "", str(vat)).upper().removeprefix("CO")
    return digits.isdigit() and 8 <= len(digits) <= 16 and nit_check_digit(digits[:-1]) == int(digits[-1])


def project(model: str, record: dict, fields: list[str]) -> dict:
    """The record's ``fields`` as Odoo reads them: an unset field is ``False``, an empty x2many ``[]``."""
    return {f: record.get(f, [] if MODELS[model].get(f, ("",))[0] in ("one2many", "many2many") else False)
            for f in fields}


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
    if op == "=?":  # Odoo: true when the value is unset, '=' otherwise
        if value is False or value is None:
            return lambda r: True
        op = "="
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
    app = service_app("Simulated Odoo 17 external API")

    @app.middleware("http")
    async def inject_faults(request: Request, call_next):
        _, fault, broken = await drawn_fault(request, faults)
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


def _new_api_key() -> str:
    return secrets.token_hex(20)  # Odoo API keys are 40 hex characters


def _mount(business: Business, credentials: Any, limits: Limits, faults: FaultInjector) -> FastAPI | None:
    return create_odoo_app(business, credentials.odoo_db, credentials.odoo_login, credentials.odoo_api_key, faults)


SIMULATOR = Simulated(name="odoo", mount=_mount, broken_date="2026-02-30 25:61:00",
                      text_fields=("name",),
                      title="ERP  (Odoo 17 XML-RPC)", endpoint=lambda credentials: f"/odoo  (database {credentials.odoo_db!r}, login {credentials.odoo_login!r})",
                      credentials=(Credential("odoo_db", default="puente"), Credential("odoo_login", default="admin@puente.example"),
                                   Credential("odoo_api_key", make=_new_api_key)))
