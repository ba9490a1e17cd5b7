"""Odoo 17 external API: endpoints, paging sizes, and the models Puente reads.

Per Odoo's "External API" documentation: XML-RPC services under ``/xmlrpc/2/`` (``common`` for
``authenticate``, ``object`` for ``execute_kw``); every model's records carry ``id`` and
``write_date`` (UTC, ``"YYYY-MM-DD HH:MM:SS"``), the key and the cursor of every model here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from puente.sources.spec import PersonalData, SourceObject

SYSTEM = "Odoo"
COMMON_PATH = "/xmlrpc/2/common"
OBJECT_PATH = "/xmlrpc/2/object"
PAGE_SIZE = 500
ID_PAGE_SIZE = 50_000
# A quarantined record the source counts as live: not archived (Odoo's search_count skips those).
_ACTIVE = """q.payload not like '%%"active": false%%'"""


@dataclass(frozen=True, kw_only=True)
class OdooModel(SourceObject):
    """An Odoo model: the fields Puente reads (docs/contracts.md) and the domain every read starts with.

    Minimum data (``puente.sources.fields``): ``fields``, ``localised`` and ``embedded`` are the
    declaration, read by the staging models (dbt_project/models/staging/odoo/) and nothing else;
    ``landed_fields`` is derived from them (an embedded one2many as ``field[].sub``). No custom
    ``x_`` field lands, nor any other field Odoo has: a partner's birthdate, ``comment``,
    ``function``, ``website``, ``bank_ids``, ``zip`` or ``street2``, an order's ``note``.
    """

    key: str = "id"
    cursor: str = "write_date"
    fields: tuple[str, ...]
    domain: tuple[tuple[str, str, Any], ...] = ()
    # Fields of a country's localisation modules: read where the database has them (its company is
    # in that country), absent elsewhere without a warning. Declared like ``fields``.
    localised: tuple[str, ...] = ()
    # One2many fields whose records are read with the model's, in place of their ids (the shape of
    # Odoo 17's ``web_read`` with a sub-specification): field -> (their model, the fields read;
    # their ``id`` is always read).
    embedded: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    def __post_init__(self) -> None:
        subs = {field: ("id", *wanted) for field, _, wanted in self.embedded}
        object.__setattr__(self, "landed_fields", tuple(
            path for field in (*self.fields, *self.localised)
            for path in ([f"{field}[].{sub}" for sub in subs[field]] if field in subs else [field])))
        super().__post_init__()


MODELS: tuple[OdooModel, ...] = (
    # is_blacklisted: the partner's email is on the mass-mailing blacklist (module mail), an opt-out.
    OdooModel(name="res.partner", live_in_quarantine=_ACTIVE, personal=PersonalData(
        record_kinds=("odoo_partner",), identifiers=("email", "phone", "mobile", "vat"), names=("name",),
        other=("street", "city", "is_blacklisted"), tax_id="vat"), fields=(
        "id", "name", "email", "phone", "mobile", "vat", "street", "city", "country_id", "is_company",
        "customer_rank", "active", "is_blacklisted", "create_date", "write_date")),
    OdooModel(name="product.product", live_in_quarantine=_ACTIVE, fields=(
        "id", "name", "default_code", "list_price", "standard_price", "qty_available", "active",
        "create_date", "write_date")),
    # an order's and an invoice's partner many2one is [id, "display name"]: the name is replaced
    OdooModel(name="sale.order", personal=PersonalData(refers=(("partner_id", "odoo_partner"),)), fields=(
        "id", "name", "partner_id", "date_order", "state", "amount_untaxed", "amount_tax", "amount_total",
        "currency_id", "client_order_ref", "origin", "warehouse_id", "create_date", "write_date")),
    OdooModel(name="sale.order.line", fields=(
        "id", "order_id", "product_id", "product_uom_qty", "price_unit", "price_subtotal", "create_date",
        "write_date")),
    # Customer invoices and refunds only: vendor bills and journal entries are not Puente's business.
    OdooModel(name="account.move", personal=PersonalData(refers=(("partner_id", "odoo_partner"),)), domain=(("move_type", "in", ("out_invoice", "out_refund")),), fields=(
        "id", "name", "move_type", "partner_id", "invoice_origin", "invoice_date", "invoice_date_due",
        "amount_total", "amount_residual", "currency_id", "state", "payment_state", "create_date",
        "write_date"),
        # Colombia, l10n_co_dian (Odoo 17+): the DIAN's answer to the electronic invoice, its
        # CUFE/CUDE (set once accepted), and its DIAN documents (one per sending), whose
        # message_json holds what the DIAN said ({"status": …, "errors": ["Regla: …, Rechazo: …"]}):
        # why it rejected the invoice. The invoice's state is a stored field computed from its
        # latest document, so an answer that changes it changes the invoice, read again.
        localised=("l10n_co_dian_state", "l10n_co_edi_cufe_cude_ref", "l10n_co_dian_document_ids"),
        embedded=(("l10n_co_dian_document_ids", "l10n_co_dian.document", ("message_json", "datetime")),)),
    OdooModel(name="stock.quant", fields=(
        "id", "product_id", "location_id", "warehouse_id", "quantity", "reserved_quantity", "write_date")),
)
# What the activations do in Odoo (``writer.py``), as ``check_access_rights`` operations per model:
# partners and sale orders created and updated, invoices made by the invoicing wizard.
WRITE_RIGHTS: dict[str, tuple[str, ...]] = {"res.partner": ("create", "write"), "sale.order": ("create", "write"),
                                            "sale.advance.payment.inv": ("create",)}
# The Odoo series the connector and writer are tested against (the simulator answers as 17.0).
TESTED_SERIES = (17,)
# Every field Puente reads of each model (docs/contracts.md): its own, then the localised ones.
FIELDS: dict[str, list[str]] = {m.name: [*m.fields, *m.localised] for m in MODELS}
LOCALISED_FIELDS: dict[str, set[str]] = {m.name: set(m.localised) for m in MODELS}
BASE_DOMAINS: dict[str, list[list[Any]]] = {
    m.name: [[f, op, list(v) if isinstance(v, tuple) else v] for f, op, v in m.domain] for m in MODELS if m.domain}
