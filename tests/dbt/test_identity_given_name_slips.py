"""A given name typed without its last letter (`Dieg` for Diego), through the real staging and
identity models: it reads as the given name it is far rarer than (var
identity_given_name_slip_ratio), so one person's records in one mailbox stay one name, and the
mailbox is no family's; `Daniel` and `Daniela`, one as common as the other, stay two people."""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb

from puente import warehouse
from puente.dbt import run_dbt

SURNAMES = ("Gómez", "López", "Martínez", "Rodríguez", "Hernández", "Díaz", "Moreno", "Álvarez", "Romero",
            "Torres", "Suárez", "Vargas", "Castro", "Ortiz", "Rubio", "Molina", "Delgado", "Ramos", "Peña",
            "Cruz", "Reyes", "Mejía", "Rojas", "Acosta", "Cano")


def _partner(partner_id: int, name: str, email: str | bool, mobile: str | bool, city: str = "Bogotá") -> dict:
    return {"id": partner_id, "name": name, "email": email, "phone": False, "mobile": mobile, "vat": False,
            "street": False, "city": city, "country_id": [49, "Colombia"], "is_company": False,
            "customer_rank": 1, "active": True, "create_date": "2025-01-10 14:00:00",
            "write_date": "2026-11-01 09:00:00"}


# Diego is a common given name among the business's records (25 Diegos with nothing else in common)
PARTNERS = [_partner(100 + n, f"Diego {surname} {SURNAMES[-1 - n]}", f"diego{n}@example.net", f"300555{n:04d}",
                     city="Cali") for n, surname in enumerate(SURNAMES)]
PARTNERS += [
    # one Diego Ramírez: his partner, one typed `Dieg` with his mailbox and mobile, one with his
    # mailbox and no phone
    _partner(1, "Diego Ramírez Soto", "dramirez.soto@example.net", "3001234567"),
    _partner(2, "Dieg Ramírez", "dramirez.soto@example.net", "300 123 4567"),
    _partner(3, "Diego Ramírez", "dramirez.soto@example.net", False),
    # Daniel and his sister Daniela: one mailbox, each a mobile of their own
    _partner(4, "Daniel Pardo Gil", "familia.pardo@example.net", "3017654321"),
    _partner(5, "Daniela Pardo Gil", "familia.pardo@example.net", "3157654321"),
]


def test_a_given_name_without_its_last_letter_is_that_name(fresh_db):
    with psycopg.connect(fresh_db) as conn:
        for record in PARTNERS:
            conn.execute(f"insert into {warehouse.raw_object('odoo', 'res.partner').qualified_table} "
                         "(source_id, record, source_updated_at, _batch_id, _deleted) values (%s, %s, %s, 'b1', false)",
                         (str(record["id"]), Jsonb(record), f"{record['write_date']}+00"))
    run_dbt(["build", "--select", "+int_customers_matched", "--indirect-selection", "cautious"], fresh_db)
    with psycopg.connect(fresh_db) as conn:
        customer = dict(conn.execute("select record_key, customer_id from intermediate.int_customers_matched").fetchall())
        levels = {(a, b): (name, email) for a, b, name, email in conn.execute(
            "select record_key, other_record_key, name_level, email_level from intermediate.int_customer_pairs_scored "
            "where record_key in ('odoo_partner:1', 'odoo_partner:2', 'odoo_partner:4')").fetchall()}
    # `Dieg Ramírez` is Diego Ramírez: the names agree, and his mailbox is his alone
    assert levels[("odoo_partner:1", "odoo_partner:2")] == ("compatible", "exact"), levels
    assert levels[("odoo_partner:2", "odoo_partner:3")] == ("compatible", "exact"), levels
    assert customer["odoo_partner:1"] == customer["odoo_partner:2"] == customer["odoo_partner:3"]
    # Daniel and Daniela: two given names, a family's mailbox
    assert levels[("odoo_partner:4", "odoo_partner:5")] == ("different_given_name", "family"), levels
    assert customer["odoo_partner:4"] != customer["odoo_partner:5"]
