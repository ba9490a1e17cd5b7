"""A given name typed without its last letter (`Dieg` for Diego), through the real staging and
identity models: it reads as the given name it is far rarer than (var
identity_given_name_slip_ratio), so one person's records in one mailbox stay one name, and the
mailbox is no family's; `Daniel` and `Daniela`, one as common as the other, stay two people, and so
do `Paul` and `Paula`, Paul being a name of its own however rare; `Andre`, which could be Andrea or
Andrés, is read as neither."""

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
    # Paul and his sister Paula, a name 26 times as common here: Paul is a name of its own
    _partner(6, "Paul Ortega Ruiz", "familia.ortega@example.net", "3024443322"),
    _partner(7, "Paula Ortega Ruiz", "familia.ortega@example.net", "3164443322"),
    # Andre: less its last letter, Andrea's or Andrés' (21 of each here), so neither's
    _partner(8, "Andre Salas Mora", "andre.salas@example.net", "3046660011"),
    _partner(9, "Andrés Salas Mora", "andre.salas@example.net", "3186660011"),
]
# 25 more Paulas, 21 Andreas, 20 more Andrés, with nothing else in common
PARTNERS += [_partner(200 + n, f"Paula {surname} {SURNAMES[n - 1]}", f"paula{n}@example.net", f"310555{n:04d}",
                      city="Cali") for n, surname in enumerate(SURNAMES)]
PARTNERS += [_partner(300 + 50 * k + n, f"{given} {surname} {SURNAMES[n - 2]}", f"buyer{k}.{n}@example.net",
                      f"3{20 + k}555{n:04d}", city="Medellín")
             for k, given in enumerate(("Andrea", "Andrés")) for n, surname in enumerate(SURNAMES[:21 - k])]


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
            "where record_key in ('odoo_partner:1', 'odoo_partner:2', 'odoo_partner:4', 'odoo_partner:6', "
            "'odoo_partner:8')").fetchall()}
    # `Dieg Ramírez` is Diego Ramírez: the names agree, and his mailbox is his alone
    assert levels[("odoo_partner:1", "odoo_partner:2")] == ("compatible", "exact"), levels
    assert levels[("odoo_partner:2", "odoo_partner:3")] == ("compatible", "exact"), levels
    assert customer["odoo_partner:1"] == customer["odoo_partner:2"] == customer["odoo_partner:3"]
    # Daniel and Daniela: two given names, a family's mailbox
    assert levels[("odoo_partner:4", "odoo_partner:5")] == ("different_given_name", "family"), levels
    assert customer["odoo_partner:4"] != customer["odoo_partner:5"]
    # Paul and Paula: Paul is no slip (var identity_given_names_not_slips), however rare here
    assert levels[("odoo_partner:6", "odoo_partner:7")] == ("different_given_name", "family"), levels
    assert customer["odoo_partner:6"] != customer["odoo_partner:7"]
    # Andre could be Andrea or Andrés: read as neither
    assert levels[("odoo_partner:8", "odoo_partner:9")][0] == "different_given_name", levels
