"""The scenario (scenario.py) on a messy night: impossible values, and consent that differs between systems.

Malformed values, one record each, as issue 10 found them (each alone used to fail the build):

- ERP: invoice 402's `invoice_date` "0000-00-00"; sale order 204's `date_order`
  "2026-02-30 10:00:00"; sale order line 301's product many2one `["abc", ...]`; sale order 206
  whose partner many2one is not a number and sale order 207 whose total is "abc" (both
  quarantined); partner "P-9", an id that is not a number (quarantined).
- Shop: order #1042's `processed_at` "2026-02-30T…"; María's `created_at` "0000-00-00T…";
  order #1046 landed under its GraphQL global id with María as `gid://shopify/Customer/7002`
  (read as order 5005 of customer 7002); order #1047 with `total_price` "abc" (quarantined);
  order #1048 whose second line has price "abc" (that line quarantined, the order kept).
- Marketplace: a Mercado Libre sale whose payment's `total_paid_amount` is "abc" (that payment
  quarantined, the sale kept).
- CRM: deal 701's `closedate` "2026-02-30T…"; contact 503's `hs_marketable_status` "maybe".

Doubtful tax ids (a NIT whose check digit fails, `DOUBTFUL_TAX_IDS`), each where its system keeps
it: a Shopify customer's note, a Tienda Nube customer's `identification`, a Mercado Libre sale's
`billing_info`, a Salesforce Lead's `Tax_Id__c` (beside the HubSpot CRM: the tables of every
source are there, and the unions read them all).

Consent: one person per case, their records in two systems joined by one email. Odoo has no
opt-in of its own, only its mass-mailing blacklist (`is_blacklisted`, an opt-out).
"""

from __future__ import annotations

import copy

from scenario import SOURCES, _order

# (case, {system: consent signal}, expected has_marketing_consent, record type of the deciding record)
#   odoo: True = blacklisted; hubspot: hs_marketable_status; shopify: (state, consent_updated_at)
CONSENT_CASES = [
    ("odoo_out_hubspot_in", {"odoo": True, "hubspot": "true"}, False, "odoo_partner"),
    ("odoo_none_hubspot_in", {"odoo": False, "hubspot": "true"}, True, "hubspot_contact"),
    ("odoo_out_shopify_in", {"odoo": True, "shopify": ("subscribed", "2026-09-01T10:00:00-05:00")},
     False, "odoo_partner"),
    ("odoo_none_shopify_out", {"odoo": False, "shopify": ("unsubscribed", "2026-09-01T10:00:00-05:00")},
     False, "shopify_customer"),
    # the case: the CRM's "true" is newer than the shop's unsubscribe, and still loses
    ("hubspot_in_shopify_out", {"hubspot": "true", "shopify": ("unsubscribed", "2026-08-01T10:00:00-05:00")},
     False, "shopify_customer"),
    ("hubspot_out_shopify_in", {"hubspot": "false", "shopify": ("subscribed", "2026-10-01T10:00:00-05:00")},
     False, "hubspot_contact"),
    ("hubspot_in_shopify_in", {"hubspot": "true", "shopify": ("subscribed", "2026-10-01T10:00:00-05:00")},
     True, "shopify_customer"),
    ("hubspot_in_shopify_never", {"hubspot": "true", "shopify": ("not_subscribed", None)}, True, "hubspot_contact"),
]
# Habeas Data: (case, {system: signal, "legal_basis": the CRM contact's hs_legal_basis}, expected
# status per purpose of marts.customer_authorisations, record type deciding sales follow-up)
CONSENT = "Freely given consent from contact"
AUTHORISATION_CASES = [
    ("basis_consent_shop_in", {"hubspot": "true", "legal_basis": CONSENT,
                               "shopify": ("subscribed", "2026-10-01T10:00:00-05:00")},
     {"marketing": "authorised", "sales_follow_up": "authorised", "analytics": "authorised"}, "hubspot_contact"),
    # a revocation in the CRM is a no for every purpose, the shop's later opt-in included
    ("basis_revoked_shop_in", {"hubspot": "true", "legal_basis": "Not applicable",
                               "shopify": ("subscribed", "2026-10-01T10:00:00-05:00")},
     {"marketing": "refused", "sales_follow_up": "refused", "analytics": "refused"}, "hubspot_contact"),
    # a legitimate interest is no authorisation under Ley 1581: nothing asked, nothing given
    ("basis_interest_only", {"hubspot": "true", "legal_basis": "Legitimate interest – existing customer"},
     {"marketing": "authorised", "sales_follow_up": "not_asked", "analytics": "not_asked"}, None),
    # processing authorised, marketing refused (options of a multiple checkbox, joined by ";")
    ("basis_consent_no_marketing", {"hubspot": "false",
                                    "legal_basis": f"Legitimate interest – prospect/lead;{CONSENT}"},
     {"marketing": "refused", "sales_follow_up": "authorised", "analytics": "authorised"}, "hubspot_contact"),
    # the shop and the ERP record no authorisation of their own
    ("basis_shop_only", {"odoo": False, "shopify": ("subscribed", "2026-10-01T10:00:00-05:00")},
     {"marketing": "authorised", "sales_follow_up": "not_asked", "analytics": "not_asked"}, None),
]
# a person with two CRM contacts, one authorising, the other revoked: one "no" in a system is a no
TWO_CONTACTS = ("basis_two_contacts", 960, 961)
# HubSpot contacts of the consent cases are last updated then (their signal's date)
CONTACT_UPDATED_AT = "2026-09-15T10:00:00.000Z"
PARTNER_WRITTEN_AT = "2026-07-01 10:00:00"
# a person with two shop accounts: unsubscribed on one, later subscribed on the other, and the
# CRM saying yes: the later opt-in in the same system lifts the shop's opt-out
TWO_SHOP_ACCOUNTS = ("shopify_later_opt_in", 7601, 7602)


# (system, object, record id, field, the value typed, the value its body calls for)
DOUBTFUL_TAX_IDS = [
    ("shopify", "customers", "7801", "note", "NIT 900123456-3", "900123456-8"),
    ("tiendanube", "customers", "9101", "identification", "800765432-1", "800765432-3"),
    ("mercadolibre", "orders", "9301", "billing_info.doc_number", "830111222-0", "830111222-6"),
    ("salesforce", "leads", "00Q5e00000DoubtAAA", "Tax_Id__c", "860333444-1", "860333444-6"),
]


def _doubtful_tax_id_records() -> dict[str, dict[str, list[dict]]]:
    """One customer record per DOUBTFUL_TAX_IDS row, nobody else's name or contact details."""
    (_, _, shop_id, _, shop_note, _), (_, _, nube_id, _, nube_doc, _), (_, _, buyer_id, _, meli_doc, _), \
        (_, _, lead_id, _, lead_doc, _) = DOUBTFUL_TAX_IDS
    shop_customer = _shop_customer(int(shop_id), "dudoso.tienda@example.org", "Dudoso", "not_subscribed", None)
    return {
        "shopify": {"customers": [{**shop_customer, "note": f"Factura a {shop_note}"}]},
        "tiendanube": {"customers": [{
            "id": int(nube_id), "name": "Nube Dudosa", "email": "nube.dudosa@example.org", "identification": nube_doc,
            "billing_city": "Manizales", "billing_country": "CO", "created_at": "2025-01-01T10:00:00-05:00",
            "updated_at": "2026-11-01T10:00:00-05:00"}]},
        "mercadolibre": {"orders": [{
            "id": 2000009301, "status": "paid", "currency_id": "COP", "total_amount": 50000, "paid_amount": 50000,
            "buyer": {"id": int(buyer_id), "nickname": "LIBREDUDOSO", "first_name": "Libre", "last_name": "Dudoso"},
            "billing_info": {"doc_type": "NIT", "doc_number": meli_doc}, "order_items": [],
            "payments": [{"id": 91776699099, "status": "approved", "total_paid_amount": "abc", "currency_id": "COP",
                          "date_created": "2026-11-01T10:00:00.000-05:00"}],
            "date_created": "2026-11-01T10:00:00.000-05:00", "date_last_updated": "2026-11-01T10:00:00.000-05:00"}]},
        "salesforce": {"leads": [{
            "Id": lead_id, "FirstName": "Fuerza", "LastName": "Dudosa", "Company": "Fuerza Dudosa SAS",
            "Tax_Id__c": lead_doc, "Status": "Open - Not Contacted", "IsConverted": False, "IsDeleted": False,
            "CreatedDate": "2025-01-01T10:00:00.000+0000", "SystemModstamp": "2026-11-01T10:00:00.000+0000"}]},
    }


def _person_records(n: int, case: str, signals: dict) -> dict[str, dict[str, list[dict]]]:
    email = f"{case}@example.org"
    records: dict[str, dict[str, list[dict]]] = {"odoo": {}, "hubspot": {}, "shopify": {}}
    if "odoo" in signals:
        records["odoo"]["res.partner"] = [{
            "id": 900 + n, "name": f"Persona {case}", "email": email, "phone": False, "mobile": False,
            "vat": False, "street": False, "city": "Pereira", "country_id": [49, "Colombia"], "is_company": False,
            "customer_rank": 1, "active": True, "is_blacklisted": signals["odoo"],
            "create_date": "2025-01-01 10:00:00", "write_date": PARTNER_WRITTEN_AT}]
    if "hubspot" in signals:
        records["hubspot"]["contacts"] = [{
            "id": str(900 + n), "properties": {
                "email": email, "firstname": "Persona", "lastname": case, "phone": None, "mobilephone": None,
                "city": "Pereira", "country": "Colombia", "lifecyclestage": "customer",
                "hs_marketable_status": signals["hubspot"], "hs_legal_basis": signals.get("legal_basis"),
                "tax_id": None, "hs_object_id": str(900 + n)},
            "createdAt": "2025-01-01T10:00:00.000Z", "updatedAt": CONTACT_UPDATED_AT, "archived": False}]
    if "shopify" in signals:
        state, at = signals["shopify"]
        records["shopify"]["customers"] = [_shop_customer(7500 + n, email, case, state, at)]
    return records


def _shop_customer(customer_id: int, email: str, name: str, state: str, consent_at: str | None) -> dict:
    return {"id": customer_id, "email": email, "first_name": "Persona", "last_name": name, "phone": None,
            "created_at": "2025-01-01T10:00:00-05:00", "updated_at": "2026-11-01T10:00:00-05:00",
            "state": "enabled", "tags": "", "note": None,
            "email_marketing_consent": {"state": state, "opt_in_level": "single_opt_in",
                                        "consent_updated_at": consent_at},
            "default_address": {"city": "Pereira", "country": "Colombia", "country_code": "CO",
                                "phone": None, "company": None}}


def _find(records: list[dict], record_id) -> dict:
    return next(record for record in records if record["id"] == record_id)


def messy_sources() -> dict:
    sources = copy.deepcopy(SOURCES)
    odoo, hubspot, shopify = sources["odoo"], sources["hubspot"], sources["shopify"]

    _find(odoo["account.move"], 402)["invoice_date"] = "0000-00-00"
    _find(odoo["sale.order"], 204)["date_order"] = "2026-02-30 10:00:00"
    _find(odoo["sale.order.line"], 301)["product_id"] = ["abc", "[HAM-16] Martillo 16oz"]
    base_order = _find(odoo["sale.order"], 202)
    odoo["sale.order"] += [
        {**base_order, "id": 206, "name": "S00047", "partner_id": ["x104", "Distribuciones Andinas SAS"]},
        {**base_order, "id": 207, "name": "S00048", "amount_total": "abc"},
    ]
    odoo["res.partner"].append({**_find(odoo["res.partner"], 104), "id": "P-9", "name": "Sin Id"})

    _find(shopify["orders"], 5001)["processed_at"] = "2026-02-30T10:31:02-05:00"
    _find(shopify["customers"], 7002)["created_at"] = "0000-00-00T00:00:00-05:00"
    maria = {"id": "gid://shopify/Customer/7002", "email": "maria.lopez@example.com", "first_name": "María",
             "last_name": "López", "phone": None}
    gid_order = _order(5005, "#1046", maria, "2026-11-22T09:00:00-05:00", "64950.00")
    gid_order["id"] = "gid://shopify/Order/5005"
    bad_total = _order(5006, "#1047", maria, "2026-11-22T10:00:00-05:00", "abc")
    bad_line = _order(5007, "#1048", maria, "2026-11-22T11:00:00-05:00", "129900.00")
    bad_line["line_items"].append({**bad_line["line_items"][0], "id": 50072, "price": "abc"})
    shopify["orders"] += [gid_order, bad_total, bad_line]

    _find(hubspot["deals"], "701")["properties"]["closedate"] = "2026-02-30T14:00:00.000Z"
    _find(hubspot["contacts"], "503")["properties"]["hs_marketable_status"] = "maybe"

    people = [(case, signals) for case, signals, _, _ in CONSENT_CASES]
    people += [(case, signals) for case, signals, _, _ in AUTHORISATION_CASES]
    for n, (case, signals) in enumerate(people):
        for source, objects in _person_records(n, case, signals).items():
            for obj, records in objects.items():
                sources[source].setdefault(obj, []).extend(records)
    case, first, second = TWO_SHOP_ACCOUNTS
    email = f"{case}@example.org"
    shopify["customers"] += [_shop_customer(first, email, case, "unsubscribed", "2026-03-01T10:00:00-05:00"),
                             _shop_customer(second, email, case, "subscribed", "2026-10-20T10:00:00-05:00")]
    hubspot["contacts"] += _person_records(99, case, {"hubspot": "true"})["hubspot"]["contacts"]
    case, first, second = TWO_CONTACTS
    for contact_id, basis in ((first, CONSENT), (second, "Not applicable")):
        hubspot["contacts"] += _person_records(contact_id - 900, case, {"hubspot": "true", "legal_basis": basis}
                                               )["hubspot"]["contacts"]
    for source, objects in _doubtful_tax_id_records().items():
        for obj, records in objects.items():
            sources.setdefault(source, {}).setdefault(obj, []).extend(records)
    # A Tienda Nube product is read variant by variant (no model of the product's own): its own
    # unreadable date is named once, not once per variant, nor never (found by the chaos bench).
    sources["tiendanube"].setdefault("products", []).append({
        "id": 172009001, "name": {"es": "Martillo 16oz"}, "handle": {"es": "martillo-16oz"}, "published": True,
        "created_at": "2026-02-30T10:00:00-05:00", "updated_at": "2026-11-01T10:00:00-05:00",
        "variants": [{"id": 690009001, "sku": "HAM-16", "price": "45000.00", "stock_management": True, "stock": 3},
                     {"id": 690009002, "sku": "HAM-16-R", "price": "47000.00", "stock_management": True, "stock": 1}]})
    return sources
