"""The generated business: deterministic, realistic in its messiness, alive from night to night."""

from __future__ import annotations

import re
import statistics
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

from puente.simulators import Business
from puente.simulators.colombia import format_cedula, format_nit, nit_check_digit


def _stamps(business: Business) -> list[tuple[str, str, int, datetime, datetime]]:
    """(system, object, id, created, updated) of every record, as aware UTC datetimes."""
    out = []
    for model, table in business.odoo.items():
        for rid, r in table.items():
            out.append(("odoo", model, rid, datetime.fromisoformat(r["create_date"]).replace(tzinfo=UTC),
                        datetime.fromisoformat(r["write_date"]).replace(tzinfo=UTC)))
    for obj, table in business.hubspot.items():
        for rid, r in table.items():
            out.append(("hubspot", obj, rid, datetime.fromisoformat(r["createdAt"]),
                        datetime.fromisoformat(r["updatedAt"])))
    for res, table in business.shopify.items():
        for rid, r in table.items():
            out.append(("shopify", res, rid, datetime.fromisoformat(r["created_at"]),
                        datetime.fromisoformat(r["updated_at"])))
    return out


def test_same_seed_gives_the_same_business_and_another_seed_does_not():
    a, b = Business(seed=11, customers=80, history_days=120), Business(seed=11, customers=80, history_days=120)
    assert (a.odoo, a.hubspot, a.shopify, a.truth()) == (b.odoo, b.hubspot, b.shopify, b.truth())
    a.advance_day()
    b.advance_day()
    assert (a.odoo, a.hubspot, a.shopify) == (b.odoo, b.hubspot, b.shopify)
    other = Business(seed=12, customers=80, history_days=120)
    assert other.odoo["res.partner"] != a.odoo["res.partner"]


def test_history_ends_at_start_and_every_timestamp_lies_in_the_simulated_past(business):
    assert business.today == business.go_live + timedelta(days=300)
    assert business.now() == datetime.combine(business.today, datetime.max.time(), UTC).replace(microsecond=0)
    start = datetime.combine(business.go_live, datetime.min.time(), UTC)
    for system, obj, rid, created, updated in _stamps(business):
        assert start <= created <= updated <= business.now(), (system, obj, rid)
    people = len(business.people_truth())
    assert people == 150


def test_each_new_day_brings_new_and_changed_records_stamped_on_that_day(new_business):
    business = new_business(seed=9, customers=120, history_days=200)
    before = {(s, o, i): u for s, o, i, _, u in _stamps(business)}
    created, changed = Counter(), Counter()
    summaries = [business.advance_day() for _ in range(3)]
    assert [s["date"] for s in summaries] == [(business.today - timedelta(days=n)).isoformat() for n in (2, 1, 0)]
    day_start = datetime.combine(business.today - timedelta(days=2), datetime.min.time(), UTC)
    for system, obj, rid, created_at, updated in _stamps(business):
        key = (system, obj, rid)
        if key not in before:
            created[system] += 1
            assert created_at >= day_start, key
        elif updated > before[key]:
            changed[system] += 1
            assert updated >= day_start, key
    assert all(created[s] > 0 for s in ("odoo", "hubspot", "shopify")), created
    assert all(changed[s] > 0 for s in ("odoo", "hubspot", "shopify")), changed
    assert sum(sum(s["created"].values()) for s in summaries) == sum(created.values())
    assert any(s["changed"] for s in summaries)


def test_nit_check_digits_follow_the_dian_algorithm(business):
    # Published NITs: Bancolombia, DIAN, Ecopetrol, Davivienda.
    for nit, dv in [("890903938", 8), ("800197268", 4), ("899999068", 1), ("860034313", 7)]:
        assert nit_check_digit(nit) == dv
    assert format_nit("900123456", 0) == f"900.123.456-{nit_check_digit('900123456')}"
    assert {format_cedula("1020304050", s) for s in range(4)} == {
        "CC 1020304050", "1020304050", "1.020.304.050", "C.C. 1.020.304.050"}
    company_vats = [r["vat"] for r in business.odoo["res.partner"].values() if r["is_company"] and r["vat"]
                    and r["country_id"][0] == 49]  # (a company abroad: test_sim_foreign)
    assert len(company_vats) > 10
    styles, slips = set(), 0
    for vat in company_vats:
        digits = re.sub(r"\D", "", vat)
        assert len(digits) == 10, vat
        slips += nit_check_digit(digits[:9]) != int(digits[9])  # a slip of the fingers the DV gives away
        styles.add("dots" if "." in vat else "dash" if "-" in vat else "plain")
    assert styles == {"dots", "dash", "plain"}
    assert slips < 0.15 * len(company_vats)


def test_records_are_messy_like_real_data_entry(business):
    partners = list(business.odoo["res.partner"].values())
    missing = sum(1 for r in partners if not r["email"]) / len(partners)
    assert 0.05 <= missing <= 0.25
    phones = [r["phone"] for r in partners if r["phone"]]
    assert any(p.startswith("+57 ") for p in phones) and any(p.startswith("(") for p in phones)
    assert any(re.fullmatch(r"\d{10}", p) for p in phones)
    contacts = [c["properties"] for c in business.hubspot["contacts"].values()]
    assert any(re.fullmatch(r"\w\.", c.get("lastname") or "") for c in contacts)  # "Juan P."
    assert any((c.get("firstname") or "").islower() for c in contacts)  # "juan perez"
    assert any(e != e.lower() for c in contacts if (e := c.get("email")))  # "Juan.Perez@Gmail.com"
    truth = business.truth()
    per_person = Counter(r["person_id"] for r in truth if r["object"] == "contacts")
    duplicates = sum(n - 1 for n in per_person.values())
    # one CRM person in 25 gets a second contact, and HubSpot keeps about half of them: those whose
    # address is written differently or left out (one with the same address lands on the first)
    assert 0.005 <= duplicates / len(contacts) <= 0.08
    people = business.people
    names = defaultdict(set)
    emails = defaultdict(set)
    for p in people:
        if p.kind == "person":
            names[(p.first, p.last1, p.city)].add(p.id)
        if p.email:
            emails[p.email].add(p.id)
    assert any(len(ids) > 1 for ids in names.values()), "namesakes in the same city"
    assert any(len(ids) > 1 for ids in emails.values()), "a family sharing one email"
    assert any(" " in n and any(ord(ch) > 127 for ch in n) for n in (r["name"] for r in partners))


def test_identifiers_have_one_holder_as_in_real_life():
    """Providers, the tax authority and phone operators never hand one address or number to two
    people: only a family shares a mailbox, an office its line with staff who buy on their own,
    and a shop account always has an email or a phone (checkout asks for one)."""
    business = Business(seed=3, customers=6_000, history_days=200)
    holders = defaultdict(list)
    for p in business.people:
        for number in (p.doc, p.mobile, p.landline):
            if number:
                holders[number].append(p)
    shared = [people for people in holders.values() if len(people) > 1]
    assert shared, "staff sharing their office's line"
    for people in shared:  # only a landline, an office's with its staff
        assert people[0].landline and all(q.landline == people[0].landline for q in people)
        assert all("shared_office_phone" in q.variations for q in people)
        assert sum(q.kind == "company" for q in people) == 1
    families = defaultdict(list)
    for p in business.people:
        if p.email:
            families[p.email].append(p)
    shared = [members for members in families.values() if len(members) > 1]
    assert shared, "a family sharing one email"
    assert all(len({m.last1 for m in members}) == 1 for members in shared)  # (a relative may have moved since)
    for customer in business.shopify["customers"].values():
        assert customer["email"] or customer["phone"], customer["id"]


def test_systems_are_linked_as_in_the_contracts(business):
    truth = {(r["system"], r["object"], r["id"]): r for r in business.truth()}
    shop_orders = {o["name"]: o for o in business.shopify["orders"].values()}
    sale_orders = {o["name"]: o for o in business.odoo["sale.order"].values()}
    web = [o for o in sale_orders.values() if o["client_order_ref"]]
    # Web orders reach the ERP only when a person retypes them: some do, some do not (yet).
    assert web and len(web) < len(shop_orders)
    entries = {o["name"]: o["entered"] for o in business.integration_truth()["web_orders"]}
    for order in web:
        shop = shop_orders[order["client_order_ref"]]
        assert truth[("odoo", "sale.order", str(order["id"]))]["order_id"] == \
            truth[("shopify", "orders", str(shop["id"]))]["order_id"]
        entered = entries[shop["name"]]
        assert entered["sale_order_id"] == order["id"]
        if not any(m.startswith("quantity of") for m in entered["mistakes"]):
            assert order["amount_total"] == float(shop["total_price"])
    for move in business.odoo["account.move"].values():
        order = sale_orders[move["invoice_origin"]]
        assert truth[("odoo", "account.move", str(move["id"]))]["order_id"] == \
            truth[("odoo", "sale.order", str(order["id"]))]["order_id"]
    skus = {p["default_code"] for p in business.odoo["product.product"].values()}
    assert all(li["sku"] in skus for o in shop_orders.values() for li in o["line_items"])
    for system, table in (("odoo", business.odoo["res.partner"]), ("hubspot", business.hubspot["contacts"]),
                          ("shopify", business.shopify["customers"])):
        obj = {"odoo": "res.partner", "hubspot": "contacts", "shopify": "customers"}[system]
        assert all((system, obj, str(rid)) in truth for rid in table)
    # A won deal has an ERP order (its name as origin) only if a salesperson keyed it in.
    won = {d["properties"]["dealname"] for d in business.hubspot["deals"].values()
           if d["properties"]["dealstage"] == "closedwon"}
    origins = {o["origin"] for o in sale_orders.values() if o["origin"]}
    assert origins and origins < won


def test_churn_is_common_and_shows_in_recency(new_business):
    business = new_business(seed=21, customers=400, history_days=540)
    buyers = [p for p in business.people_truth() if p["orders"] > 0]
    churned = [p for p in buyers if p["is_churned"]]
    assert 0.3 <= len(churned) / len(buyers) <= 0.75
    today = business.today

    def recency(p):
        return (today - datetime.fromisoformat(p["last_order_on"]).date()).days
    assert statistics.median(map(recency, churned)) > 2 * statistics.median(
        map(recency, [p for p in buyers if not p["is_churned"]]))


def test_generation_is_fast_enough():
    began = time.perf_counter()
    Business(seed=7, customers=300)
    assert time.perf_counter() - began < 2.5


def test_crm_contacts_record_a_legal_basis_some_without_authorisation_and_some_revoked(business, client_for,
                                                                                        credentials):
    """Habeas Data as a business keeps it in HubSpot: the legal basis of most contacts is their
    consent, others have only a legitimate interest or nothing recorded, and some people who
    unsubscribe revoke their authorisation ("Not applicable"), served through the API."""
    bases = Counter(c["properties"].get("hs_legal_basis") for c in business.hubspot["contacts"].values())
    contacts = sum(bases.values())
    assert bases["Freely given consent from contact"] > contacts / 2
    assert bases[None] > 0 and bases["Not applicable"] > 0
    assert sum(n for basis, n in bases.items() if basis and basis.startswith("Legitimate interest")) > 0
    revoked = [c for c in business.hubspot["contacts"].values()
               if c["properties"].get("hs_legal_basis") == "Not applicable"]
    # a revocation is a change made after the contact was created, with the marketing opt-out
    assert all(c["properties"]["hs_marketable_status"] == "false" and c["updatedAt"] > c["createdAt"]
               for c in revoked)
    served = client_for(business).get(f"/hubspot/crm/v3/objects/contacts/{revoked[0]['id']}",
                                      params={"properties": "hs_legal_basis"},
                                      headers={"Authorization": f"Bearer {credentials.hubspot_token}"})
    assert served.json()["properties"]["hs_legal_basis"] == "Not applicable"
    prop = client_for(business).get("/hubspot/crm/v3/properties/contacts/hs_legal_basis",
                                    headers={"Authorization": f"Bearer {credentials.hubspot_token}"}).json()
    assert prop["fieldType"] == "checkbox" and "Freely given consent from contact" in [o["value"] for o in prop["options"]]
