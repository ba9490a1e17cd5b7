"""Phones and tax ids sealed in raw (a field key: puente.field_crypto, puente.sealed_keys): the same
records landed twice through the loader, once without a key and once with one, and built by the real
dbt models. Identity resolution must decide exactly as it does on the clear values, every key it
compares must open to the clear night's, and no clear phone or tax id may be left anywhere in the
sealed warehouse.

The records are the hand-written identity cases of every variation class (test_identity_variations:
doubtful and swapped tax ids, customers abroad, landlines, placeholders, shared office phones) and
the scenario's people (scenario.py: María's tax id typed into her Shopify note).
"""

from __future__ import annotations

import json

import psycopg
import pytest
from psycopg.rows import dict_row
from scenario import SOURCES as SCENARIO
from scenario import _updated_at
from test_identity_variations import BUILD
from test_identity_variations import SOURCES as VARIATIONS
from warehouse_scan import traces

from puente import sealed_keys
from puente.dbt import run_dbt
from puente.field_crypto import FieldKeys, clear_values, is_sealed, new_key
from puente.load import load_page
from puente.sources import registry
from puente.sources.base import Record
from puente.warehouse import raw_object

KEYS = FieldKeys.parse(new_key())
OBJECTS = (("odoo", "res.partner"), ("hubspot", "contacts"), ("shopify", "customers"))
SOURCES = {source: {obj: [*VARIATIONS[source][obj], *SCENARIO[source][obj]]} for source, obj in OBJECTS}
# what identity resolution derives from a phone or a tax id
KEY_COLUMNS = ("phone_normalized", "other_phone_normalized", "phone_tail", "other_phone_tail", "phone_is_landline",
               "other_phone_is_landline", "tax_id", "tax_id_is_valid", "tax_id_normalized", "tax_id_corrected",
               "tax_id_swapped_bodies", "tax_id_body")


def land(url: str, keys: FieldKeys | None) -> None:
    """Every record through the loader, as a night's extraction lands it."""
    with psycopg.connect(url) as conn:
        for source, objects in SOURCES.items():
            for obj, records in objects.items():
                page = [Record(r, str(r["id"]), _updated_at(source, r)) for r in records]
                counts = load_page(conn, raw_object(source, obj), page, "sealed-night", field_keys=keys)
                assert counts.inserted == len(records), (source, obj, counts)
        conn.commit()


def rows(url: str, query: str) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(query).fetchall()


@pytest.fixture(scope="module")
def nights(scratch_db):
    """(clear, sealed): the two warehouses, built."""
    with scratch_db("test_clear_night") as clear, scratch_db("test_sealed_night") as sealed:
        land(clear, None)
        land(sealed, KEYS)
        run_dbt(BUILD, clear)
        run_dbt(BUILD, sealed)
        yield clear, sealed


def opened(value):
    if isinstance(value, list):
        return [opened(v) for v in value]
    return KEYS.open(value) if is_sealed(value) else value


def test_the_loaders_query_is_the_compiled_macro(nights):
    """puente/sealed_keys.sql is dbt macro sealed_identity_keys compiled (`python -m puente.sealed_keys`):
    a change to the identity macros that is not compiled again would derive other keys for sealed
    values than for clear ones."""
    assert sealed_keys.QUERY_FILE.read_text() == sealed_keys.compile_query(nights[0]), (
        "puente/sealed_keys.sql is out of date with the dbt macros: run python -m puente.sealed_keys")


def test_raw_holds_every_phone_and_tax_id_sealed(nights):
    _, sealed = nights
    (partner,) = rows(sealed, "select record from raw.odoo_res_partner where source_id = '101'")
    assert is_sealed(partner["record"]["vat"]) and KEYS.open(partner["record"]["vat"]) == "900.123.456-8"
    assert is_sealed(partner["record"]["phone"]) and partner["record"]["email"] == "Juan.Perez@Example.com "
    (maria,) = rows(sealed, "select record from raw.shopify_customers where source_id = '7002'")
    assert KEYS.open(maria["record"]["note"]) == "Factura a nombre de CC 52.123.456"
    assert rows(sealed, "select count(*) as n from ops.sealed_keys")[0]["n"] > 0
    assert rows(nights[0], "select count(*) as n from ops.sealed_keys")[0]["n"] == 0


def test_every_identity_key_opens_to_the_clear_nights(nights):
    clear, sealed = nights
    query = f"select record_key, {', '.join(KEY_COLUMNS)} from intermediate.int_customer_records_unioned"
    expected = {r["record_key"]: r for r in rows(clear, query)}
    found = {r["record_key"]: {k: opened(v) for k, v in r.items()} for r in rows(sealed, query)}
    assert found == expected
    # the keys were derived: a phone, a doubtful tax id's correction and a note's tax id among them
    assert expected["odoo_partner:101"]["phone_normalized"] == "+573001234567"
    assert any(r["tax_id_corrected"] for r in expected.values())
    assert expected["shopify_customer:7002"]["tax_id_normalized"] == "52123456"
    assert sum(bool(r["tax_id_swapped_bodies"]) for r in expected.values()) >= 3


def test_identity_decides_as_on_the_clear_values(nights):
    clear, sealed = nights

    def partition(url):
        members: dict[str, set[str]] = {}
        for r in rows(url, "select record_key, customer_id from intermediate.int_customers_matched"):
            members.setdefault(r["customer_id"], set()).add(r["record_key"])
        return {frozenset(m) for m in members.values()}

    assert partition(sealed) == partition(clear)
    assert len(partition(clear)) < len(rows(clear, "select record_key from intermediate.int_customers_matched"))
    query = """select record_key, other_record_key, email_level, phone_level, tax_id_level, match_weight, decision
               from intermediate.int_customer_pairs_scored"""
    pairs = rows(clear, query)
    assert {tuple(r.values()) for r in rows(sealed, query)} == {tuple(r.values()) for r in pairs}
    assert {"exact", "exact_landline", "different"} <= {r["phone_level"] for r in pairs}
    assert {"exact", "doubtful", "different"} <= {r["tax_id_level"] for r in pairs}
    queue = "select record_key, other_record_key from marts.customer_review_queue order by 1, 2"
    assert rows(sealed, queue) == rows(clear, queue)


def test_a_sealed_tax_id_reaches_the_erp_as_it_takes_it(nights):
    """An ERP partner Puente creates (macro erp_partner, the web-order and won-deal activations) gets
    a NIT with its check digit, typed a company's, and a cédula as it is: the same whether the golden
    record's tax id is sealed (read through ops.sealed_keys, opened by the engine as it sends) or clear."""
    _, sealed = nights
    values = [KEYS.seal("900123456"), "900123456", KEYS.seal("1020304050"), "1020304050"]
    inline = ("select {{ erp_partner() }} -> 'new' as partner from (select null::bigint as odoo_partner_id, "
              "'c' as customer_id, 'Ana' as full_name, tax_id, null as email, null as phone, null as city, "
              "null as country_code from (values " + ", ".join(f"({n}, '{v}')" for n, v in enumerate(values))
              + ") as t (n, tax_id) order by n) as customers")
    shown = run_dbt(["show", "--inline", inline, "--limit", "10"], sealed).result.results[0].agate_table
    partners = [KEYS.open_record(json.loads(row[0]) if isinstance(row[0], str) else row[0]) for row in shown.rows]
    expected_nit = {"vat": "900123456-8", "id_type": "nit", "is_company": True}
    expected_cc = {"vat": "1020304050", "id_type": "cedula", "is_company": False}
    assert [{k: p[k] for k in expected_nit} for p in partners] == [expected_nit, expected_nit, expected_cc, expected_cc]


def test_no_clear_phone_or_tax_id_is_left_in_the_sealed_warehouse(nights):
    clear, sealed = nights
    typed = {v for source, objects in SOURCES.items() for obj, records in objects.items()
             for r in records for v in clear_values(r, registry.source_object(source, obj).personal.sensitive)}
    derived = {v for r in rows(clear, "select phone_normalized, tax_id_normalized, tax_id_corrected "
                                      "from intermediate.int_customer_records_unioned") for v in r.values() if v}
    # long enough not to be part of an id or a date by chance
    needles = sorted(v for v in typed | derived if sum(c.isdigit() for c in v) >= 8)
    assert len(needles) > 50
    assert traces(sealed, needles) == {}
    found = traces(clear, needles)  # the same search finds them where they are in clear
    assert {"raw.odoo_res_partner", "raw.hubspot_contacts", "intermediate.int_customer_records_unioned"} <= set(found)


def test_an_erasure_given_the_key_finds_the_person_by_a_sealed_phone_and_leaves_no_form_of_them(nights):
    """Juan Pérez (scenario.py) named by his phone as he would say it: the warehouse holds it only
    sealed, in several forms (as each system typed it, E.164, its last digits); with the key the
    erasure finds him and removes every form, and the identity keys derived from them. (Last in
    this module: it changes the sealed warehouse.)"""
    from puente.erasure import SubjectNotFound, erase
    from puente.field_crypto import sealed_needles

    _, sealed = nights
    juan = ["300 123 4567", "(300) 123-4567", "+57 300 123 4567", "3001234567", "+573001234567",
            "900.123.456-8", "9001234568", "900123456"]
    sealed_forms = sorted(sealed_needles(KEYS, juan))
    assert len(traces(sealed, sealed_forms)) >= 3  # raw, the sealed keys and the models hold them
    with pytest.raises(SubjectNotFound):  # without the key nothing in the warehouse reads as his phone
        erase(sealed, requested_by="dpo", phone="300 123 4567")
    result = erase(sealed, requested_by="dpo", reason="Habeas Data", phone="300 123 4567", field_keys=KEYS)
    assert result.customers == 1 and result.removed.get("ops.sealed_keys", 0) > 0
    assert traces(sealed, [*sealed_forms, *juan, "juan.perez@example.com"]) == {}
