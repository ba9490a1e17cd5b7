"""The Odoo simulator's writes over real XML-RPC: the calls Puente's ERP writer makes, the faults Odoo
answers, the stamps the next extract sees, and how the business takes an order up once it is in."""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from puente.simulators import Business, Habits, SimulatorServer, create_app
from puente.simulators.business import odoo_ts
from puente.simulators.colombia import nit_check_digit


@dataclass
class Erp:
    business: Business
    kw: Callable[..., Any]  # kw(model, method, args, kwargs=None): execute_kw as a client calls it

    def fault(self, model: str, method: str, args: list, kwargs: dict | None = None) -> xmlrpc.client.Fault:
        with pytest.raises(xmlrpc.client.Fault) as caught:
            self.kw(model, method, args, kwargs)
        return caught.value

    def product(self, sku: str) -> int:
        return self.kw("product.product", "search", [[["default_code", "=", sku]]])[0]


def _served(credentials, **options: Any) -> Iterator[Erp]:
    """A business nobody moves orders for (everything is left to the API client), served over HTTP."""
    business = Business(seed=3, customers=120, history_days=150,
                        habits=Habits(web_orders_retyped=0.0, won_deals_entered=0.0), **options)
    with SimulatorServer(create_app(business, credentials)) as server:
        proxy = xmlrpc.client.ServerProxy(f"{server.base_url}/odoo/xmlrpc/2/object", allow_none=True)

        def kw(model, method, args, kwargs=None):
            return proxy.execute_kw(credentials.odoo_db, 2, credentials.odoo_api_key, model, method, args,
                                    kwargs or {})
        yield Erp(business, kw)


@pytest.fixture
def erp(credentials) -> Iterator[Erp]:
    yield from _served(credentials)


@pytest.fixture
def store_erp(credentials) -> Iterator[Erp]:
    """The same, with the WooCommerce store."""
    yield from _served(credentials, woocommerce=True)


def _nit(digits: str) -> str:
    return f"{digits}-{nit_check_digit(digits)}"


def _day_stamps(business: Business) -> list[str]:
    return [r["write_date"] for table in business.odoo.values() for r in table.values()]


def test_partners_created_and_written_like_odoo_with_the_nit_checked(erp):
    kw, now = erp.kw, odoo_ts(erp.business.now())
    before = max(_day_stamps(erp.business))
    colombia = kw("res.country", "search", [[["code", "=", "CO"]]], {"limit": 1})
    nit, cedula = (kw("l10n_latam.identification.type", "search", [[["l10n_co_document_code", "=", code]]])
                   for code in ("rut", "national_citizen_id"))
    assert (colombia, nit, cedula) == ([49], [4], [3])

    company = kw("res.partner", "create", [{
        "name": "Ferretería El Tornillo S.A.S.", "is_company": True, "vat": _nit("900123456"),
        "l10n_latam_identification_type_id": 4, "country_id": 49, "ref": "puente:c-1", "email": "compras@tornillo.co"}])
    people = kw("res.partner", "create", [[{"name": "Ana Gómez", "vat": "1020304050",
                                            "l10n_latam_identification_type_id": 3},
                                           {"name": "Luis Díaz"}]])
    assert isinstance(company, int) and isinstance(people, list) and len(people) == 2
    assert kw("res.partner", "search", [[["ref", "=", "puente:c-1"]]], {"context": {"active_test": False}}) == [company]
    (record,) = kw("res.partner", "read", [[company]], {"fields": ["name", "company_type", "country_id",
                                                                   "l10n_latam_identification_type_id", "write_date"]})
    assert record["company_type"] == "company" and record["country_id"] == [49, "Colombia"]
    assert record["l10n_latam_identification_type_id"] == [4, "NIT"]
    assert record["write_date"] == now > before  # after everything the day did: the next extract sees it
    (default_type,) = kw("res.partner", "read", [people[1:]], {"fields": ["l10n_latam_identification_type_id"]})
    assert default_type["l10n_latam_identification_type_id"] == [1, "VAT"]  # Odoo's default, set it explicitly

    count = len(erp.business.odoo["res.partner"])
    bad_nit = erp.fault("res.partner", "create", [[{"name": "Otra S.A.S."},
                                                  {"name": "Mala S.A.S.", "vat": "900123456-0",
                                                   "l10n_latam_identification_type_id": 4}]])
    assert bad_nit.faultCode == 2 and "The NIT number [900123456-0] for partner [Mala S.A.S.] does not seem to be " \
                                      "valid" in bad_nit.faultString and "CO213123432-1" in bad_nit.faultString
    assert len(erp.business.odoo["res.partner"]) == count  # one bad dict: none of the list is created
    assert erp.fault("res.partner", "create", [{"email": "x@y.co"}]).faultString == (
        "The operation cannot be completed: Contacts require a name")
    unknown = erp.fault("res.partner", "create", [{"name": "X", "colour": "red"}])
    assert unknown.faultCode == 1 and "ValueError: Invalid field 'colour' on model 'res.partner'" in unknown.faultString
    assert erp.fault("res.partner", "create", [{"name": "X", "country_id": 999}]).faultCode == 2

    assert kw("res.partner", "write", [[people[0]], {"phone": "+57 300 123 4567"}]) is True
    assert erp.fault("res.partner", "write", [[company], {"vat": "900123456-0"}]).faultCode == 2
    assert erp.fault("res.partner", "write", [[999_999], {"phone": "1"}]).faultCode == 2
    assert kw("res.partner", "write", [[people[1]], {"vat": "123", "l10n_latam_identification_type_id": 3}]) is True
    written = erp.business.odoo["res.partner"][people[0]]
    assert written["phone"] == "+57 300 123 4567" and written["write_date"] == now


def test_a_partner_abroad_has_its_vat_checked_in_its_country(erp):
    """The generic VAT type (l10n_latam_base) is checked against the partner's country, as
    base_vat does: a CUIT for Argentina, an RFC for Mexico, a CPF or CNPJ for Brazil."""
    kw = erp.kw
    assert kw("res.country", "search", [[["code", "in", ["AR", "CL", "MX", "BR"]]]]) == [10, 31, 46, 156]
    assert kw("l10n_latam.identification.type", "search", [[["l10n_co_document_code", "=", "external_id"]]]) == [7]
    good = kw("res.partner", "create", [[
        {"name": "Comercial Paulista Ltda.", "is_company": True, "vat": "11.222.333/0001-81",
         "l10n_latam_identification_type_id": 1, "country_id": 31},
        {"name": "Emilio González", "vat": "GODE561231GR8", "l10n_latam_identification_type_id": 1, "country_id": 156},
        {"name": "Martín Suárez", "vat": "20-12345678-6", "l10n_latam_identification_type_id": 1, "country_id": 10},
        {"name": "Camila Soto", "vat": "12.345.678-4", "l10n_latam_identification_type_id": 7, "country_id": 46}]])
    assert len(good) == 4  # (an ID del Exterior is not a VAT: not checked)
    bad = erp.fault("res.partner", "create", [{"name": "Camila Soto", "vat": "12.345.678-4",
                                               "l10n_latam_identification_type_id": 1, "country_id": 46}])
    assert bad.faultCode == 2 and "The RUT number [12.345.678-4] for partner [Camila Soto] does not seem to be " \
                                  "valid" in bad.faultString and "CL76086428-5" in bad.faultString


def test_sale_order_create_confirm_reserve_and_cancel(erp):
    kw, business = erp.kw, erp.business
    now = odoo_ts(business.now())
    partner = kw("res.partner", "create", [{"name": "Luis Díaz"}])
    product = next(p for p in business.products if p.in_shop and p.on_hand - p.reserved > 3)
    pid, envio = erp.product(product.sku), erp.product("ENVIO")
    quant = business.odoo["stock.quant"][product.quant_id]
    reserved_before = quant["reserved_quantity"]
    order_id = kw("sale.order", "create", [{
        "partner_id": partner, "client_order_ref": "SHOP-TEST", "origin": "test",
        "order_line": [[0, 0, {"product_id": pid, "product_uom_qty": 2, "price_unit": 100_000, "discount": 10}],
                       [0, 0, {"product_id": envio, "product_uom_qty": 1, "price_unit": 12_000,
                               "tax_id": [[6, 0, [2]]]}]]}])
    (order,) = kw("sale.order", "read", [[order_id]], {"fields": ["name", "state", "amount_untaxed", "amount_tax",
                                                                  "amount_total", "order_line", "write_date"]})
    # 2 × 100,000 × 0.9 at IVA 19% plus 12,000 at the 5% rate asked for with (6, 0, ids)
    assert (order["amount_untaxed"], order["amount_tax"], order["amount_total"]) == (192_000.0, 34_800.0, 226_800.0)
    assert order["state"] == "draft" and order["name"].startswith("S") and order["write_date"] == now
    lines = kw("sale.order.line", "read", [order["order_line"]], {"fields": ["name", "tax_id", "price_subtotal"]})
    assert [line["tax_id"] for line in lines] == [[1], [2]] and lines[0]["name"].startswith(f"[{product.sku}]")
    assert quant["reserved_quantity"] == reserved_before  # a quotation reserves nothing

    assert kw("sale.order", "action_confirm", [[order_id]]) is True
    (order,) = kw("sale.order", "read", [[order_id]], {"fields": ["state", "date_order"]})
    assert order == {"id": order_id, "state": "sale", "date_order": now}
    assert quant["reserved_quantity"] == min(reserved_before + 2, quant["quantity"]) and quant["write_date"] == now
    again = erp.fault("sale.order", "action_confirm", [[order_id]])
    assert (again.faultCode, again.faultString) == (2, "Some orders are not in a state requiring confirmation.")

    # Cancelling a confirmed order over RPC only opens Odoo's cancel wizard, unless told not to.
    wizard = kw("sale.order", "action_cancel", [[order_id]])
    assert wizard["res_model"] == "sale.order.cancel" and wizard["type"] == "ir.actions.act_window"
    assert business.odoo["sale.order"][order_id]["state"] == "sale"
    assert kw("sale.order", "action_cancel", [[order_id]], {"context": {"disable_cancel_warning": True}}) is True
    assert business.odoo["sale.order"][order_id]["state"] == "cancel"
    assert quant["reserved_quantity"] == reserved_before

    # Never more reserved than is on hand; a list of dicts creates a list of orders.
    big = kw("sale.order", "create", [[{"partner_id": partner, "order_line": [
        [0, 0, {"product_id": pid, "product_uom_qty": quant["quantity"] + 50}]]}]])
    assert isinstance(big, list) and len(big) == 1
    kw("sale.order", "action_confirm", [big])
    assert quant["reserved_quantity"] == quant["quantity"]
    assert kw("sale.order", "action_cancel", [big], {"context": {"disable_cancel_warning": True}}) is True
    draft = kw("sale.order", "create", [{"partner_id": partner}])
    assert kw("sale.order", "action_cancel", [[draft]]) is True  # a draft is simply cancelled


def test_sale_order_faults(erp):
    partner = erp.kw("res.partner", "create", [{"name": "Luis Díaz"}])
    pid = erp.product(erp.business.products[0].sku)
    orders = len(erp.business.odoo["sale.order"])
    missing = erp.fault("sale.order", "create", [{"client_order_ref": "X"}])
    assert missing.faultCode == 2 and "a mandatory field is not set" in missing.faultString
    assert "Field: Customer (partner_id)" in missing.faultString
    assert erp.fault("sale.order", "create", [{"partner_id": 999_999}]).faultCode == 2
    no_product = erp.fault("sale.order", "create", [{"partner_id": partner, "order_line": [[0, 0, {"name": "x"}]]}])
    assert no_product.faultCode == 2 and "Missing required fields on accountable sale order line" in \
        no_product.faultString
    assert erp.fault("sale.order", "create", [{"partner_id": partner, "order_line": [
        [0, 0, {"product_id": 999_999}]]}]).faultCode == 2
    assert "Invalid field 'is_delivery'" in erp.fault("sale.order", "create", [{"partner_id": partner, "order_line": [
        [0, 0, {"product_id": pid, "is_delivery": True}]]}]).faultString  # no delivery module in this ERP
    assert len(erp.business.odoo["sale.order"]) == orders
    assert erp.fault("sale.order", "unlink", [[1]]).faultCode == 4
    assert erp.kw("sale.order", "check_access_rights", ["create"], {"raise_exception": False}) is True
    assert erp.kw("product.product", "check_access_rights", ["write"], {"raise_exception": False}) is False
    assert erp.fault("stock.quant", "check_access_rights", ["create"]).faultCode == 4
    assert erp.fault("sale.order", "has_access", [[], "create"]).faultCode == 1  # Odoo 18's API, not 17's

    # Lines of a quotation can be changed with (1, id, values) and (2, id, 0); amounts follow.
    order_id = erp.kw("sale.order", "create", [{"partner_id": partner, "order_line": [
        [0, 0, {"product_id": pid, "product_uom_qty": 1, "price_unit": 10_000}],
        [0, 0, {"product_id": pid, "product_uom_qty": 1, "price_unit": 20_000}]]}])
    first, second = erp.business.odoo["sale.order"][order_id]["order_line"]
    assert erp.kw("sale.order", "write", [[order_id], {"order_line": [[1, first, {"product_uom_qty": 3}],
                                                                     [2, second, 0]]}]) is True
    (order,) = erp.kw("sale.order", "read", [[order_id]], {"fields": ["amount_untaxed", "order_line"]})
    assert order["amount_untaxed"] == 30_000.0 and order["order_line"] == [first]
    assert erp.kw("sale.order.line", "search_count", [[["order_id", "=", order_id]]]) == 1


def test_invoicing_wizard_makes_one_draft_invoice(erp):
    kw = erp.kw
    partner = kw("res.partner", "create", [{"name": "Luis Díaz"}])
    pid = erp.product(erp.business.products[1].sku)
    order_id = kw("sale.order", "create", [{"partner_id": partner, "client_order_ref": "#9999", "order_line": [
        [0, 0, {"product_id": pid, "product_uom_qty": 1, "price_unit": 50_000}]]}])
    context = {"context": {"active_model": "sale.order", "active_ids": [order_id], "active_id": order_id}}
    quotation = kw("sale.advance.payment.inv", "create", [{"advance_payment_method": "delivered"}], context)
    nothing = erp.fault("sale.advance.payment.inv", "create_invoices", [[quotation]], context)
    assert nothing.faultCode == 2 and nothing.faultString.startswith("Cannot create an invoice. No items are available")

    kw("sale.order", "action_confirm", [[order_id]])
    wizard = kw("sale.advance.payment.inv", "create", [{"advance_payment_method": "delivered"}], context)
    assert kw("sale.advance.payment.inv", "read", [[wizard]], {"fields": ["sale_order_ids"]})[0][
        "sale_order_ids"] == [order_id]
    assert kw("sale.advance.payment.inv", "create_invoices", [[wizard]], context) == {
        "type": "ir.actions.act_window_close"}
    (order,) = kw("sale.order", "read", [[order_id]], {"fields": ["name", "invoice_ids", "invoice_status"]})
    assert len(order["invoice_ids"]) == 1 and order["invoice_status"] == "invoiced"
    (invoice,) = kw("account.move", "read", [order["invoice_ids"]], {"fields": [
        "move_type", "state", "invoice_origin", "ref", "amount_total", "name", "write_date"]})
    assert invoice == {"id": order["invoice_ids"][0], "move_type": "out_invoice", "state": "draft",
                       "invoice_origin": order["name"], "ref": "#9999", "amount_total": 59_500.0, "name": "/",
                       "write_date": odoo_ts(erp.business.now())}
    twice = kw("sale.advance.payment.inv", "create", [{"sale_order_ids": [[6, 0, [order_id]]]}])
    assert erp.fault("sale.advance.payment.inv", "create_invoices", [[twice]]).faultCode == 2  # all invoiced
    assert erp.fault("sale.advance.payment.inv", "create", [{"advance_payment_method": "fixed"}], context).faultCode == 1

    other = kw("sale.order", "create", [{"partner_id": partner, "order_line": [[0, 0, {"product_id": pid}]]}])
    kw("sale.order", "action_confirm", [[other]])
    opened = kw("sale.advance.payment.inv", "create_invoices", [[kw("sale.advance.payment.inv", "create", [{}], {
        "context": {"active_ids": [other]}})]], {"context": {"open_invoices": True}})
    assert opened["res_model"] == "account.move" and opened["res_id"] == erp.business.odoo["sale.order"][other][
        "invoice_ids"][0]
    # Cancelling the order cancels its draft invoice; the ERP never posted it.
    kw("sale.order", "action_cancel", [[other]], {"context": {"disable_cancel_warning": True}})
    assert erp.business.odoo["account.move"][opened["res_id"]]["state"] == "cancel"


def test_the_business_takes_up_web_orders_and_deals_entered_through_the_api(erp):
    """The calls Puente's writer makes (partner, order with the shop's number, confirmation, the
    wizard's invoice), then the days after: the warehouse ships, the accountant posts the draft
    (never a second invoice), the payment comes, and nobody retypes the order."""
    kw, business = erp.kw, erp.business
    truth = business.integration_truth()
    left = [o for o in truth["web_orders"] if o["state"] == "sale" and not o["fulfilled_on"]]
    shipped = next(o for o in truth["web_orders"] if o["state"] == "sale" and o["fulfilled_on"])
    deal = truth["won_deals"][-1]
    assert left, "a recent web order the shop has not shipped yet"
    day_before = max(_day_stamps(business))
    posted = {}
    for web in (left[0], shipped):
        partner = kw("res.partner", "create", [{"name": web["customer"]["name"], "email": web["customer"]["email"],
                                                "ref": f"puente:{web['person_id']}"}])
        lines = [[0, 0, {"product_id": erp.product(line["sku"]), "product_uom_qty": line["quantity"],
                         "price_unit": line["price_unit"], "discount": line["discount"]}] for line in web["lines"]]
        order_id = kw("sale.order", "create", [{"partner_id": partner, "client_order_ref": web["name"].lstrip("#"),
                                                "origin": f"Shopify {web['name']}", "order_line": lines}])
        kw("sale.order", "action_confirm", [[order_id]])
        context = {"context": {"active_model": "sale.order", "active_ids": [order_id]}}
        kw("sale.advance.payment.inv", "create_invoices",
           [[kw("sale.advance.payment.inv", "create", [{"advance_payment_method": "delivered"}], context)]], context)
        posted[web["shop_order_id"]] = order_id
        assert business.odoo["sale.order"][order_id]["amount_total"] == web["amount_total"]
    partner = kw("res.partner", "search", [[]], {"limit": 1})[0]
    deal_order = kw("sale.order", "create", [{"partner_id": partner, "origin": f"HubSpot deal {deal['hubspot_deal_id']}",
                                              "order_line": [[0, 0, {"product_id": erp.product(line["sku"]),
                                                                     "product_uom_qty": line["quantity"]}]
                                                             for line in deal["lines"]]}])
    kw("sale.order", "action_confirm", [[deal_order]])

    # The ground truth knows whose they are; everything written sits after the day's own records.
    records = {(r["object"], r["id"]): r for r in business.truth() if r["system"] == "odoo"}
    for sid, order_id in posted.items():
        web = next(o for o in truth["web_orders"] if o["shop_order_id"] == sid)
        assert records["sale.order", str(order_id)]["order_id"] == web["order_id"]
        assert records["res.partner", str(business.odoo["sale.order"][order_id]["partner_id"][0])][
            "person_id"] == web["person_id"]
    assert records["sale.order", str(deal_order)]["order_id"] == deal["order_id"]
    api_stamp = odoo_ts(business.now())
    assert day_before < api_stamp
    # The next night's incremental read (write_date after the last one it saw) brings all of it back.
    for model, ids in (("sale.order", [*posted.values(), deal_order]),
                       ("account.move", [i for o in posted.values() for i in business.odoo["sale.order"][o]["invoice_ids"]]),
                       ("sale.order.line", business.odoo["sale.order"][deal_order]["order_line"]),
                       ("stock.quant", [business.assortment.by_sku(deal["lines"][0]["sku"]).quant_id])):
        changed = kw(model, "search", [[["write_date", ">", day_before]]])
        assert set(ids) <= set(changed), model
    summary = business.integration_truth()["summary"]
    assert summary["web_orders_entered_through_the_api"] == 2 and summary["won_deals_entered_through_the_api"] == 1

    for _ in range(8):
        business.advance_day()
    next_days = [r["write_date"] for r in business.odoo["sale.order"].values() if r["write_date"] > api_stamp]
    assert next_days and min(next_days) > api_stamp
    for sid, order_id in posted.items():
        order = business.odoo["sale.order"][order_id]
        refs = [o for o in business.odoo["sale.order"].values()
                if (o["client_order_ref"] or "").lstrip("#") == order["client_order_ref"]]
        assert refs == [order]  # nobody retyped it
        assert business.erp.delivered(order), sid
        (invoice,) = [business.odoo["account.move"][i] for i in order["invoice_ids"]]  # the wizard's, posted
        assert invoice["state"] == "posted" and invoice["name"].startswith("INV/")
        assert invoice["payment_state"] in ("in_payment", "paid")
    deal_sale = business.odoo["sale.order"][deal_order]
    assert business.erp.delivered(deal_sale) and len(deal_sale["invoice_ids"]) == 1
    assert business.today > business.go_live + timedelta(days=150)


def test_the_business_takes_up_store_orders_entered_through_the_api(store_erp):
    """WooCommerce orders posted with their ERP reference (``WC-<number>``): the truth knows whose
    they are, and the business takes them up as Shopify ones (shipped when the store completes
    them, then invoiced and paid; cancelled in the ERP when the store cancels them); the store's
    other orders stay out of the ERP."""
    kw, business = store_erp.kw, store_erp.business
    truth = business.integration_truth()
    store = [o for o in truth["web_orders"] if o["shop"] == "woocommerce"]
    assert store and all(o["name"] == f"WC-{o['shop_order_id']}" and not o["person_enters"] and not o["entered"]
                         for o in store)
    posted = {}
    for web in [o for o in store if o["state"] == "sale"][-4:]:
        partner = kw("res.partner", "create", [{"name": web["customer"]["name"], "ref": f"puente:{web['person_id']}"}])
        lines = [[0, 0, {"product_id": store_erp.product(line["sku"]), "product_uom_qty": line["quantity"],
                         "price_unit": line["price_unit"]}] for line in web["lines"]]
        order_id = kw("sale.order", "create", [{"partner_id": partner, "client_order_ref": web["name"],
                                                "origin": f"WooCommerce {web['name']}", "order_line": lines}])
        kw("sale.order", "action_confirm", [[order_id]])
        assert business.odoo["sale.order"][order_id]["amount_total"] == web["amount_total"]
        posted[web["shop_order_id"]] = (web, order_id)
    records = {(r["object"], r["id"]): r for r in business.truth() if r["system"] == "odoo"}
    entered = {o["name"]: o["entered_by_api"] for o in business.integration_truth()["web_orders"]
               if o["shop"] == "woocommerce"}
    for web, order_id in posted.values():
        assert records["sale.order", str(order_id)]["order_id"] == web["order_id"]
        assert entered[web["name"]]["sale_order_id"] == order_id
    assert len([name for name, entry in entered.items() if entry]) == len(posted)

    for _ in range(8):
        business.advance_day()
    outcomes = []
    for oid, (_, order_id) in posted.items():
        order, status = business.odoo["sale.order"][order_id], business.woocommerce["orders"][oid]["status"]
        outcomes.append(status)
        if status == "completed":
            assert business.erp.delivered(order), oid
            (invoice,) = [business.odoo["account.move"][i] for i in order["invoice_ids"]]
            assert invoice["state"] == "posted" and invoice["payment_state"] in ("in_payment", "paid")
        else:
            assert status in ("cancelled", "trash") and order["state"] == "cancel", (oid, status, order["state"])
    print("store orders posted, then in the store:", outcomes)
    assert "completed" in outcomes
    assert sorted(o["id"] for o in business.odoo["sale.order"].values()
                  if str(o["client_order_ref"]).startswith("WC-")) == sorted(i for _, i in posted.values())
