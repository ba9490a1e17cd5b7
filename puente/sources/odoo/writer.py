"""Writing into Odoo: sale orders from web sales and won deals, and their cancellations.

Through the same external XML-RPC API the connector reads with (``execute_kw``), per Odoo's
documentation and its own source (see /work/notes or docs/operations.md, "Activations"):

- ``sale.order`` **create**: the customer first — the partner Puente already knows (``id``), or a
  new one, found or created by Puente's reference ``ref = puente:<customer id>`` (then by tax id)
  so that a rerun never makes it twice — then ``create`` with its lines as one2many commands
  ``(0, 0, {product_id, product_uom_qty, price_unit, discount, name})`` in one call (one
  transaction), ``action_confirm`` (the ERP reserves the stock: ``stock.quant.reserved_quantity``
  rises), and, when the row asks for it, the ERP's own invoicing wizard
  (``sale.advance.payment.inv`` with ``active_ids`` in the context, then ``create_invoices``): the
  private ``_create_invoices`` cannot be called remotely. The invoice is left in draft, for the
  accountant to post (posting starts the DIAN electronic invoice in Colombia).
- ``lookup``: live orders an earlier run made and whose answer was lost: the origin is the external
  key (a won deal's ``HubSpot deal <id>``), or the ``client_order_ref`` is the key (with or without
  the shop's ``#``) and the origin names it too (Puente writes ``<shop> <reference>``).
  ``client_order_ref`` alone is not Puente's mark: it is the customer's reference, free text in which
  the staff type a B2B customer's purchase-order number, and ``1042`` may be another customer's
  quotation. An order to create whose reference a live order the lookup did not adopt already
  carries is not sent: it is listed with that order named (fct_orders had not taken that order for
  this web order, so a person decides), never adopted, confirmed or invoiced by Puente.
- ``sale.order`` **update** ``{"state": "cancel"}``: ``action_cancel`` with
  ``disable_cancel_warning`` in the context (without it Odoo only opens its cancel wizard);
  the reservation is released.
- Creates and confirmations are sent once (``repeatable=False``): after a timeout the order may
  exist, and the next run's lookup finds it. A method that returns None answers a fault "cannot
  marshal None" after committing: that is a success.
- Odoo refuses per call (faults 2 and 4: validation, access): each row's outcome carries Odoo's
  own words; the other rows go on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from puente.activation.writers import Outcome, Row
from puente.sources.http import SourceError, UncertainWrite
from puente.sources.odoo.config import OdooConfig
from puente.sources.odoo.connector import OdooConnector, OdooFault

# Odoo's identification types for Colombia (l10n_co): NIT for companies, cédula for people.
ID_TYPE_CODES = {"nit": "rut", "cedula": "national_citizen_id"}
PARTNER_FIELDS = ("name", "vat", "email", "phone", "mobile", "street", "city", "is_company")


class OdooWriter:
    system = "odoo"

    def __init__(self, config: OdooConfig, *, connector: OdooConnector | None = None, **http_options: Any):
        self.connector = connector or OdooConnector(config, **http_options)
        self._countries: dict[str, int | None] = {}
        self._id_types: dict[str, int | None] = {}
        self._down: str | None = None  # why Odoo stopped answering during this run, once it did

    @property
    def requests_made(self) -> int:
        return self.connector.requests_made

    def close(self) -> None:
        self.connector.close()

    def prepare(self, obj: str) -> None:
        if obj != "sale.order":
            raise ValueError(f"the Odoo writer cannot write {obj}")

    # ------------------------------------------------------------------ lookups

    def refuses_duplicates(self, obj: str) -> bool:
        return False  # client_order_ref and origin are free text in Odoo

    def lookup(self, obj: str, external_keys: Sequence[str]) -> dict[str, str]:
        """Live sale orders an earlier run made for ``external_keys``: the origin is the key, or the
        client reference is and the origin names it."""
        wanted = {_bare(k): k for k in external_keys}
        out: dict[str, str] = {}
        for order in self._carrying(external_keys, by_origin=True):
            origin = order.get("origin") if isinstance(order.get("origin"), str) else ""
            key = origin if origin in external_keys else wanted.get(_bare(order.get("client_order_ref")))
            if key is not None and (origin == key or _bare(origin.rsplit(" ", 1)[-1]) == _bare(key)):
                out.setdefault(key, str(order["id"]))
        return out

    def _carrying(self, keys: Sequence[str], *, by_origin: bool = False) -> list[dict[str, Any]]:
        """Live sale orders whose client reference is one of ``keys`` (with or without ``#``), or
        (``by_origin``) whose origin is."""
        bare = {_bare(k) for k in keys}
        domain: list = [["client_order_ref", "in", sorted({*bare, *(f"#{k}" for k in bare), *keys})]]
        if by_origin:
            domain = ["|", *domain, ["origin", "in", list(keys)]]
        return self._kw("sale.order", "search_read", [["&", ["state", "!=", "cancel"], *domain]],
                        {"fields": ["id", "name", "client_order_ref", "origin", "partner_id"], "order": "id asc"})

    # ------------------------------------------------------------------ writes

    def write(self, obj: str, mode: str, rows: Sequence[Row]) -> list[Outcome]:
        if mode == "create":
            partners: dict[str, int] = {}  # one new customer with several orders is created once
            outcomes: list[Outcome] = []
            taken = self._taken(rows) if not self._down else {}
            for row in rows:
                if row.row_key in taken:
                    outcomes.append(Outcome(row.row_key, False, None, "create", taken[row.row_key], not_sent=True))
                    continue
                if self._down:  # not sent: the engine's retry looks these up first, as the uncertain
                    outcomes.append(Outcome(row.row_key, False, None, "create", f"not sent: {self._down}",
                                            uncertain=True))
                    continue
                try:
                    outcomes.append(self._create_order(row, partners))
                except _Unavailable as down:
                    # Odoo stopped answering (after the HTTP layer's retries) in the middle of this
                    # row: the rows done keep their outcomes, this one is uncertain, and neither the
                    # rest of the batch nor the later batches of this run are sent
                    outcomes.append(down.outcome)
                    self._down = down.outcome.error
            return outcomes
        if mode == "update":
            return [self._update_order(row) for row in rows]
        raise ValueError(f"the Odoo writer cannot {mode} {obj}")

    def _taken(self, rows: Sequence[Row]) -> dict[str, str]:
        """Why each new order (no ``target_id``) whose client reference a live ERP order already carries
        is not sent: that order is not one Puente made for it (``lookup`` would have adopted it)."""
        new = {_bare(row.payload.get("client_order_ref")): row for row in rows
               if not row.target_id and _bare(row.payload.get("client_order_ref"))}
        if not new:
            return {}
        try:
            found = self._carrying(sorted(new))
        except SourceError:
            return {}  # Odoo is down: the first create finds it so, and says so
        out: dict[str, str] = {}
        for order in found:
            row = new.get(_bare(order["client_order_ref"]))
            if row is None:  # (Odoo matched it otherwise than Puente compares)
                continue
            partner = order["partner_id"][1] if isinstance(order["partner_id"], list) else order["partner_id"]
            out.setdefault(row.row_key, (
                f"not sent: ERP order {order['name']} ({partner}) already carries the reference "
                f"{row.payload['client_order_ref']} and Puente did not make it. If it is this order, the next night "
                "links them (when its customer or total is this order's); if it is another customer's (a "
                "purchase-order number typed as Customer Reference), enter this order by hand"))
        return out

    def _create_order(self, row: Row, partners: dict[str, int]) -> Outcome:
        """Create, confirm and (if asked) invoice one order; for an order found by ``lookup``
        (``row.target_id``), only the steps it still lacks."""
        payload = row.payload
        operation = "adopt" if row.target_id else "create"
        detail: dict[str, Any] = {}
        try:
            lines = [[0, 0, _line(line)] for line in payload["order_line"]] if not row.target_id else []
        except (KeyError, TypeError, ValueError) as error:  # before anything is written: no partner made
            return Outcome(row.row_key, False, None, operation,
                           f"not sent: an order line Odoo cannot take ({error}); every line needs a product, "
                           "a quantity and a unit price", not_sent=True)
        try:
            if row.target_id:
                order_id = int(row.target_id)
            else:
                values = {
                    "partner_id": self._partner(payload["partner"], partners, detail),
                    "client_order_ref": payload.get("client_order_ref") or False,
                    "origin": payload.get("origin") or False,
                    "order_line": lines,
                }
                if payload.get("warehouse_id"):
                    values["warehouse_id"] = int(payload["warehouse_id"])
                order_id = self._kw("sale.order", "create", [values], {}, repeatable=False)
            detail["sale_order_id"] = order_id
            (order,) = self._kw("sale.order", "read", [[order_id]], {"fields": ["state", "invoice_ids"]})
            if payload.get("confirm", True) and order["state"] in ("draft", "sent"):
                self._kw("sale.order", "action_confirm", [[order_id]], {}, repeatable=False)
            if payload.get("invoice") and not order["invoice_ids"]:
                detail["invoice_ids"] = self._invoice(order_id)
            (order,) = self._kw("sale.order", "read", [[order_id]], {"fields": ["name", "state", "amount_total"]})
            detail.update(name=order["name"], state=order["state"], amount_total=order["amount_total"])
        except OdooFault as fault:
            return Outcome(row.row_key, False, _id(detail.get("sale_order_id")), operation,
                           f"Odoo fault {fault.code}: {fault.message}", detail or None)
        except UncertainWrite as lost:  # this order only: the batch's other orders go on
            return Outcome(row.row_key, False, _id(detail.get("sale_order_id")), operation, str(lost),
                           detail or None, uncertain=True)
        except SourceError as down:  # Odoo is unavailable: what this order got to is unknown
            raise _Unavailable(Outcome(row.row_key, False, _id(detail.get("sale_order_id")), operation, str(down),
                                       detail or None, uncertain=True)) from down
        return Outcome(row.row_key, True, str(order_id), operation, None, detail)

    def _update_order(self, row: Row) -> Outcome:
        order_id = int(row.target_id)
        if row.payload != {"state": "cancel"}:
            return Outcome(row.row_key, False, row.target_id, "update",
                           f"the Odoo writer only cancels sale orders, not {sorted(row.payload)}")
        try:
            self._kw("sale.order", "action_cancel", [[order_id]], {"context": {"disable_cancel_warning": True}})
            (order,) = self._kw("sale.order", "read", [[order_id]], {"fields": ["state"]})
        except OdooFault as fault:
            return Outcome(row.row_key, False, row.target_id, "update", f"Odoo fault {fault.code}: {fault.message}")
        if order["state"] != "cancel":
            return Outcome(row.row_key, False, row.target_id, "update",
                           f"Odoo left the order in state {order['state']!r} after action_cancel")
        return Outcome(row.row_key, True, row.target_id, "update", None, {"state": "cancel"})

    def _partner(self, partner: dict[str, Any], cache: dict[str, int], detail: dict[str, Any]) -> int:
        """The order's customer: known, found by Puente's reference or tax id, or created."""
        if partner.get("id"):
            return int(partner["id"])
        new = partner["new"]
        ref = new["ref"]
        if ref in cache:
            return cache[ref]
        context = {"context": {"active_test": False}}
        found = self._kw("res.partner", "search", [[["ref", "=", ref]]], {**context, "limit": 1})
        if not found and new.get("vat"):
            found = self._kw("res.partner", "search", [[["vat", "=", new["vat"]]]], {**context, "limit": 1})
        if found:
            cache[ref] = found[0]
            detail["partner_found"] = found[0]
            return found[0]
        values = {k: new[k] for k in PARTNER_FIELDS if new.get(k) not in (None, "")}
        values["ref"] = ref
        country = self._country(new.get("country_code"))
        if country:
            values["country_id"] = country
        id_type = self._id_type(new.get("id_type"))
        if id_type:
            values["l10n_latam_identification_type_id"] = id_type
        partner_id = self._kw("res.partner", "create", [values], {}, repeatable=False)
        cache[ref] = partner_id
        detail["partner_created"] = partner_id
        return partner_id

    def _invoice(self, order_id: int) -> list[int]:
        """Invoice the order with the ERP's own wizard (what Invoicing > Create Invoice does)."""
        context = {"context": {"active_model": "sale.order", "active_ids": [order_id], "active_id": order_id}}
        wizard = self._kw("sale.advance.payment.inv", "create", [{"advance_payment_method": "delivered"}], context,
                          repeatable=False)
        self._kw("sale.advance.payment.inv", "create_invoices", [[wizard]], context, repeatable=False)
        (order,) = self._kw("sale.order", "read", [[order_id]], {"fields": ["invoice_ids"]})
        return list(order["invoice_ids"])

    def _country(self, code: str | None) -> int | None:
        if code and code not in self._countries:
            found = self._kw("res.country", "search", [[["code", "=", code.upper()]]], {"limit": 1})
            self._countries[code] = found[0] if found else None
        return self._countries.get(code) if code else None

    def _id_type(self, kind: str | None) -> int | None:
        code = ID_TYPE_CODES.get(kind or "")
        if code and code not in self._id_types:
            found = self._kw("l10n_latam.identification.type", "search",
                             [[["l10n_co_document_code", "=", code]]], {"limit": 1})
            self._id_types[code] = found[0] if found else None
        return self._id_types.get(code) if code else None

    def _kw(self, model: str, method: str, args: list, kwargs: dict, *, repeatable: bool = True) -> Any:
        try:
            return self.connector.execute_kw(model, method, args, kwargs, repeatable=repeatable)
        except OdooFault as fault:
            if fault.is_none_result:  # done and committed; XML-RPC just cannot say None
                return None
            raise


class _Unavailable(Exception):
    """Odoo failed a call of an order's after the HTTP layer's retries; ``outcome`` is that order's."""

    def __init__(self, outcome: Outcome):
        super().__init__(outcome.error)
        self.outcome = outcome


def _line(line: dict[str, Any]) -> dict[str, Any]:
    missing = [field for field in ("product_id", "product_uom_qty", "price_unit") if line.get(field) is None]
    if missing:
        raise ValueError(f"product {line.get('product_id')} has no {' or '.join(missing)}")
    values = {"product_id": int(line["product_id"]), "product_uom_qty": float(line["product_uom_qty"]),
              "price_unit": float(line["price_unit"])}
    if line.get("discount"):
        values["discount"] = float(line["discount"])
    if line.get("name"):
        values["name"] = line["name"]
    return values


def _bare(ref: Any) -> str:
    return ref.strip().lstrip("#") if isinstance(ref, str) else ""


def _id(value: Any) -> str | None:
    return None if value is None else str(value)
