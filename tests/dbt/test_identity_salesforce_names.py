"""A Salesforce person entered without a surname: Salesforce requires a LastName, so the org holds
a bracketed placeholder (`[sin apellido]`, web-to-lead's `[not provided]`). Through the real
staging and identity models, the placeholder is no surname: the Contact joins the ERP partner its
phone and name point to, where `[sin apellido]` read as a surname made the names disagree."""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb

from puente import warehouse
from puente.dbt import run_dbt

STAMP = "2026-11-01T10:00:00.000+0000"


def _partner(partner_id: int, name: str, email: str, mobile: str) -> dict:
    return {"id": partner_id, "name": name, "email": email, "phone": False, "mobile": mobile, "vat": False,
            "street": False, "city": "Bogotá", "country_id": [49, "Colombia"], "is_company": False,
            "customer_rank": 1, "active": True, "create_date": "2025-01-10 14:00:00",
            "write_date": "2026-11-01 09:00:00"}


def _person(sf_id: str, first: str, last: str, email: str, mobile: str, **fields) -> dict:
    return {"Id": sf_id, "SystemModstamp": STAMP, "CreatedDate": STAMP, "IsDeleted": False, "FirstName": first,
            "LastName": last, "Email": email, "Phone": None, "MobilePhone": mobile, "HasOptedOutOfEmail": False,
            "Tax_Id__c": None, "Legal_Basis__c": None, "OwnerId": "0055g00000000001AAA", **fields}


PARTNERS = [_partner(1, "Carlos Andrés Jiménez Ruiz", "carlos.jimenez@example.com", "3001234567"),
            _partner(2, "Diana Marcela Rojas Peña", "diana.rojas@example.com", "3109876543")]
CONTACTS = [_person("0035g0000000001AAA", "Carlos Jiménez", "[sin apellido]", "cjimenez.trabajo@example.org",
                    "300 123 4567", MailingCity="Bogotá", AccountId=None, MailingStreet=None, MailingCountry="Colombia")]
LEADS = [_person("00Q5g0000000001AAA", "Diana Rojas", "[not provided]", "drojas@example.org", "310 987 6543",
                 City="Bogotá", Company="Particular", Street=None, Country="Colombia", Status="Open - Not Contacted",
                 IsConverted=False, ConvertedContactId=None)]


def test_a_placeholder_surname_is_no_surname(fresh_db):
    with psycopg.connect(fresh_db) as conn:
        for system, obj, records, key, stamp in (
                ("odoo", "res.partner", PARTNERS, "id", lambda r: f"{r['write_date']}+00"),
                ("salesforce", "contacts", CONTACTS, "Id", lambda r: r["SystemModstamp"]),
                ("salesforce", "leads", LEADS, "Id", lambda r: r["SystemModstamp"])):
            for record in records:
                conn.execute(f"insert into {warehouse.raw_object(system, obj).qualified_table} "
                             "(source_id, record, source_updated_at, _batch_id, _deleted) values (%s, %s, %s, 'b1', false)",
                             (str(record[key]), Jsonb(record), stamp(record)))
    run_dbt(["build", "--select", "+int_customers_matched", "--indirect-selection", "cautious"], fresh_db)
    with psycopg.connect(fresh_db) as conn:
        staged = conn.execute("select last_name, full_name from staging.stg_salesforce__contacts union all "
                              "select last_name, full_name from staging.stg_salesforce__leads order by 2").fetchall()
        customer = dict(conn.execute("select record_key, customer_id from intermediate.int_customers_matched").fetchall())
    # one mobile, a work e-mail beside the home one, a name the partner's fits: one person each
    assert customer["salesforce_contact:0035g0000000001AAA"] == customer["odoo_partner:1"]
    assert customer["salesforce_contact:00Q5g0000000001AAA"] == customer["odoo_partner:2"]
    assert customer["odoo_partner:1"] != customer["odoo_partner:2"]
    assert staged == [(None, "Carlos Jiménez"), (None, "Diana Rojas")]
