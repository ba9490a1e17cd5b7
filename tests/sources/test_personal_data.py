"""Erasure's map of people's data (``PersonalData`` in each source's settings.py): every kind of
customer record the golden record merges has the raw object it lands in declared, so a new source
cannot forget it; every field that points at a customer record or holds personal data lands; and
every landed field that looks personal is among what erasure empties."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from puente.sources import contracts, registry
from puente.sources.fields import blank, jsonpath, values_at
from puente.sources.spec import PersonalData

DBT = Path(__file__).resolve().parents[2] / "dbt_project"
# Landed paths whose last name says "a person's data", as sources name them.
_LOOKS_PERSONAL = re.compile(r"^(?!is_company$)\w*(email|phone|mobile|first_?name|last_?name|nickname|username|contact_name|vat|tax_id|"
                             r"identification|doc_number|address|street|city|province|billing_state|note|company|"
                             r"legal_basis|marketable|blacklist|optedout|consent|receiver)", re.I)
# Looks personal, is not a person's: the CRM's companies and accounts are businesses (the B2B
# buyer's own data, not a data subject's).
NOT_A_PERSON = {("hubspot", "companies"), ("salesforce", "accounts")}


def _record_types_in_dbt() -> set[str]:
    """The kinds of the dbt macro customer_record_types() (generated from the registry), and every
    literal the sources' customer-record models give as a record_type (the guest orders, keyed by
    the order, are kinds of their own there)."""
    macro = (DBT / "macros" / "generated" / "sources.sql").read_text()
    kinds = set(re.findall(r"'\w+':\s*'(\w+)'", macro.split("macro customer_record_types", 1)[1].split("endmacro")[0]))
    for model in (DBT / "models" / "staging").glob("*/stg_*__customer_records.sql"):
        for expression in re.findall(r"(?:select|,)\s*((?:(?!\bselect\b|,).)*?)\bas record_type\b", model.read_text(), re.S):
            kinds |= set(re.findall(r"'(\w+)'", expression))
    return kinds


def test_every_kind_of_customer_record_has_its_raw_object_declared():
    kinds = _record_types_in_dbt()
    assert {"odoo_partner", "woocommerce_customer", "mercadolibre_buyer", "shopify_guest_order",
            "woocommerce_guest_order", "salesforce_contact"} <= kinds  # the reader finds both forms
    declared = registry.record_kinds()
    assert kinds - set(declared) == set(), "a kind of customer record whose raw object no source declares"
    assert set(declared) - kinds == set(), "a declared kind of customer record dbt does not know"
    # and each kind is held where the person's own records are: keyed by it, or pointed at
    assert [o.name for _, o in declared["mercadolibre_buyer"]] == ["orders"]
    assert {(s.name, o.name) for s, o in declared["woocommerce_customer"]} == {("woocommerce", "customers"),
                                                                              ("woocommerce", "orders")}


def test_personal_fields_and_references_are_landed_fields():
    for source, obj in registry.personal_objects():
        landed = set(obj.landed_fields)
        paths = [*obj.personal.fields, *(path for path, _ in obj.personal.refers)]
        assert set(paths) <= landed, (source.name, obj.name, set(paths) - landed)
        assert len(set(obj.personal.fields)) == len(obj.personal.fields), (source.name, obj.name)


def test_every_personal_field_a_source_lands_is_emptied_by_erasure():
    missing = {}
    for source in registry.SOURCES:
        for obj in source.objects:
            if (source.name, obj.name) in NOT_A_PERSON:
                continue
            person = obj.personal.record_kinds and not obj.personal.refers  # a record that is a person
            personal = re.compile(_LOOKS_PERSONAL.pattern + r"|^name$", re.I) if person else _LOOKS_PERSONAL
            looks = {p for p in obj.landed_fields if personal.search(p.rsplit(".", 1)[-1].replace("[]", ""))
                     or "consent" in p}
            left = looks - set(obj.personal.fields)
            if left:
                missing[f"{source.name}.{obj.name}"] = sorted(left)
    assert missing == {}, f"landed fields that look personal and erasure would keep: {missing}"
    # the reader does see them (it is not vacuous)
    woo_orders = registry.source_object("woocommerce", "orders")
    assert {"billing.email", "billing.first_name", "billing.address_1"} <= set(woo_orders.personal.fields)


def test_paths_reach_values_the_way_erasure_reads_and_empties_them():
    order = {"id": 9, "customer_id": 33, "billing": {"email": "a@b.co", "first_name": "Ana", "city": "Cali"},
             "line_items": [{"sku": "X", "name": "Mug"}],
             "associations": {"contacts": {"results": [{"id": "501"}, {"id": "502"}]}}, "partner_id": [101, "Ana"]}
    assert values_at(order, "associations.contacts.results[].id") == ["501", "502"]
    assert values_at(order, "partner_id") == [101, "Ana"] and values_at(order, "nowhere.deep") == []
    assert jsonpath("associations.contacts.results[].id") == '$."associations"."contacts"."results"[*]."id"[*]'
    emptied = blank(order, registry.source_object("woocommerce", "orders").personal.tree)
    assert emptied["billing"] == {"email": None, "first_name": None, "city": None}
    assert emptied["customer_id"] == 33 and emptied["line_items"] == order["line_items"]


def test_the_fields_sealed_with_a_field_key_are_the_phones_and_tax_ids():
    """PersonalData.sensitive (puente.field_crypto) is every identifier but the e-mail addresses, and
    the field a tax id is typed into when it has none of its own (a Shopify customer's note): a path
    named otherwise (a new source's ``correo``) must be looked at, not sealed or left by chance."""
    phone_or_tax_id = re.compile(r"phone|mobile|vat|tax_id|identification|doc_number", re.IGNORECASE)
    sealed = set()
    for source, obj in registry.personal_objects():
        for path in obj.personal.identifiers:
            name = path.rsplit(".", 1)[-1]
            assert (path in obj.personal.sensitive) == bool(phone_or_tax_id.search(name)), (source.name, obj.name, path)
            assert (path in obj.personal.sensitive) != ("email" in name.lower()), (source.name, obj.name, path)
        sealed.update(f"{source.name}.{obj.name}.{p}" for p in obj.personal.sensitive)
    assert {"odoo.res.partner.vat", "odoo.res.partner.mobile", "hubspot.contacts.properties.tax_id",
            "mercadolibre.orders.billing_info.doc_number", "tiendanube.customers.identification",
            "shopify.customers.note"} <= sealed
    assert "shopify.orders.note" not in sealed


def test_every_source_whose_customer_records_carry_a_tax_id_says_where_a_person_finds_it():
    """``PersonalData.tax_id``: where marts.data_issues sends the operator to fix a doubtful tax id.
    A source whose customer records read a tax id declares its field (the CRMs' people always
    carry one); one whose records never have any (WooCommerce) declares none."""
    fields = contracts.customer_tax_id_fields()
    for model in (DBT / "models" / "staging").glob("*/stg_*__customer_records.sql"):
        text = model.read_text()  # a staging column passed on (`partners.tax_id`), or an expression not null
        read = re.search(r"\w\.tax_id\b", text) or [e for e in re.findall(r"[,(]\s*([^,]*?)\s+as tax_id\b", text, re.S)
                                                   if not e.startswith("null")]
        assert bool(read) == (model.parent.name in fields), model.name
    assert set(contracts.systems()["crm_people"]) <= set(fields)
    assert fields["salesforce"] == {"contacts": "Tax_Id__c", "leads": "Tax_Id__c"}
    with pytest.raises(ValueError, match="none of the personal fields"):
        PersonalData(identifiers=("vat",), tax_id="tax")
