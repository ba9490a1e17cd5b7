"""The hard cases of identity resolution, over three nights on one database.

Night 1 lands the scenario plus: two different people named María García in Bogotá (nothing
but the name and city in common); Juanita Ramírez, whose ERP partner and CRM contact share
only a name (misspelt in the CRM) and a phone (the CRM has the local number without its area code); Luz and
Liliana Ortiz, sisters of Bucaramanga sharing one mailbox (same initial, different first names);
Andrés Rojas, whose web order #1050 the ERP booked under a partner typed without email or phone
(only the order joins them); and José Castro, whose web order #1051 the ERP's shop connector
booked under his father Rubén's partner because they share the family email.
Mercado Libre buyers of Medellín, where three records are named Carlos Gómez (so the name alone
makes no candidate) and the buyers gave no document: Carlos Gómez, whose sale delivered home went
to the door of his ERP partner (typed otherwise), and whose latest sale he picked up at an agency
of Mercado Envíos, in the building where his namesake Carlos Andrés Gómez has his shop; and Lucía
Gómez, who has her sales sent to her mother Marta Restrepo's home; Jorge Castaño, whose sales go
to the home he shares with his wife Elena (a namesake of his lives elsewhere in the city); and
Hernán Ospina, whose sales go to the home where Hernán Ospina Duque and his son Hernán Ospina
Mejía both have ERP partners (the door cannot say which of them he is). Two pairs of relatives of
Pereira with one mailbox and one name: Sandra Gómez and Sandra Gómez Gómez, told apart by their
cédulas, and Fernando García García and Fernando García Rojas, by their second surnames.
In Manizales, doubtful tax ids: a person's cédula written as a NIT with a wrong verification
digit beside the cédula (names agree), a NIT with two digits of its body swapped beside the right
one (names agree), a company's NIT with a wrong digit beside its buyer's contact at its door, and
a doubtful NIT whose digits are on the contact of someone whose given name conflicts.
In Ibagué, an aunt and her niece with one name, one mailbox and one door, each with her own
cédula, whom a record of the niece's at the family's door would chain into one customer; in
Neiva, two Diana Torres whose mobiles end in the same seven digits. In Tunja, Felipe Antonio Pérez
Díaz and his son Felipe Antonio Pérez Vargas, one door, one mailbox on the father's records and on
a CRM contact of each, told apart by their second surnames on their ERP partners only; in Popayán,
two Jimena Ramírez with one mailbox, each with her own mobile at her own door, and Óscar Mejía and
Rosa Lugo, each one person whose records show two mobiles (Óscar also two doors, and one cédula).
In Pasto, Camilo Vélez, whose records with his old mobile were all created before those with his
new one.
Before night 2 an operator splits CRM contact 502 off Juan Pérez, and a new ERP partner 100
(a key smaller than every record of Juan's) arrives with Juan's email. Night 3 changes nothing.
"""

from __future__ import annotations

import copy

import psycopg
import pytest
from psycopg.rows import dict_row
from scenario import SOURCES, _order, load_raw

from puente.dbt import run_dbt
from puente.simulators.colombia import nit_check_digit


def rows(url: str, sql: str, *params) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


def _partner(partner_id, name, email, phone, vat, city="Bogotá"):
    return {"id": partner_id, "name": name, "email": email, "phone": phone, "mobile": False, "vat": vat,
            "street": False, "city": city, "country_id": [49, "Colombia"], "is_company": False,
            "customer_rank": 1, "active": True, "create_date": "2025-01-10 14:00:00",
            "write_date": "2026-11-01 09:00:00"}


def _contact(contact_id, firstname, lastname, email, phone, city="Bogotá"):
    return {"id": contact_id, "properties": {"email": email, "firstname": firstname, "lastname": lastname,
                                             "phone": phone, "mobilephone": None, "city": city,
                                             "country": "Colombia", "lifecyclestage": "customer",
                                             "hs_marketable_status": "false", "tax_id": None,
                                             "hs_object_id": contact_id},
            "createdAt": "2025-02-01T10:00:00.000Z", "updatedAt": "2026-11-01T10:00:00.000Z", "archived": False}


NIGHT_1 = copy.deepcopy(SOURCES)
NIGHT_1["odoo"]["res.partner"] += [
    _partner(110, "María García", "maria.garcia@example.com", "3201112233", "CC 52.000.111"),
    _partner(111, "Juanita Ramírez", False, "601 234 5678", False),
]
NIGHT_1["odoo"]["res.partner"] += [
    _partner(112, "Luz Ortiz", "lortiz83@example.org", "3101230001", False, city="Bucaramanga"),
    _partner(113, "ANDRES ROJAS", False, False, False, city="Cali"),
    _partner(114, "Rubén Castro Rodríguez", "castro.familia@example.org", "3155550101", "CC 19.444.555"),
]
NIGHT_1["hubspot"]["contacts"] += [
    _contact("520", "María", "García", "mgarcia.bogota@example.org", "3209998877"),
    _contact("530", "Juanita", "Ramires", "juana.r@example.org", "234 5678"),
    _contact("540", "Liliana", "Ortiz", "LOrtiz83@example.org", "3174560002", city="Bucaramanga"),
]


def _shop_customer(customer_id, first_name, last_name, email, city):
    return {"id": customer_id, "email": email, "first_name": first_name, "last_name": last_name, "phone": None,
            "created_at": "2026-10-01T09:00:00-05:00", "updated_at": "2026-11-15T09:00:00-05:00",
            "state": "enabled", "tags": "", "note": None, "email_marketing_consent": None,
            "default_address": {"city": city, "country": "Colombia", "country_code": "CO", "phone": None,
                                "company": None}}


def _web_sale_order(sale_order_id, partner, shop_order_name):
    return {"id": sale_order_id, "name": f"S00{sale_order_id}", "partner_id": partner,
            "date_order": "2026-11-15 15:00:00", "state": "sale", "amount_untaxed": 54579.83,
            "amount_tax": 10370.17, "amount_total": 64950.0, "currency_id": [8, "COP"],
            "client_order_ref": shop_order_name, "origin": False,
            "create_date": "2026-11-15 15:00:00", "write_date": "2026-11-15 15:00:00"}


NIGHT_1["shopify"]["customers"] += [
    _shop_customer(7010, "Andrés", "Rojas", "andres.rojas@example.org", "Cali"),
    _shop_customer(7011, "José", "Castro", "castro.familia@example.org", "Bogotá"),
    _shop_customer(7012, "Tomás", "Ibarra", "pedidos@ibarra.example.org", "Bogotá"),
]
# an office's order inbox that ten people's records carry (a shared mailbox): the ERP books a web
# order of one of them under the partner it finds by that e-mail, which says nothing more
NIGHT_1["odoo"]["res.partner"].append(
    _partner(115, "Rosa Méndez Vargas", "pedidos@ibarra.example.org", "3007770115", False))
NIGHT_1["hubspot"]["contacts"] += [
    _contact(str(560 + n), first, "Ibarra", "pedidos@ibarra.example.org", None)
    for n, first in enumerate(("Adela", "Bruno", "Celia", "Darío", "Elsa", "Fidel", "Gema", "Hilda"))
]
NIGHT_1["shopify"]["orders"] += [
    _order(5010, "#1050", {"id": 7010, "email": "andres.rojas@example.org", "first_name": "Andrés",
                           "last_name": "Rojas", "phone": None}, "2026-11-15T14:50:00-05:00", "64950.00"),
    _order(5011, "#1051", {"id": 7011, "email": "castro.familia@example.org", "first_name": "José",
                           "last_name": "Castro", "phone": None}, "2026-11-15T14:55:00-05:00", "64950.00"),
    _order(5012, "#1052", {"id": 7012, "email": "pedidos@ibarra.example.org", "first_name": "Tomás",
                           "last_name": "Ibarra", "phone": None}, "2026-11-15T14:58:00-05:00", "64950.00"),
]
NIGHT_1["odoo"]["sale.order"] += [
    _web_sale_order(250, [113, "ANDRES ROJAS"], "#1050"),
    _web_sale_order(251, [114, "Rubén Castro Rodríguez"], "#1051"),
    _web_sale_order(252, [115, "Rosa Méndez Vargas"], "#1052"),
]


def _meli_sale(order_id, buyer, first_name, last_name, updated_at, door, pickup=False):
    """A Mercado Libre sale as the connector lands it: no document given, the shipment's door."""
    return {"id": order_id, "date_last_updated": updated_at, "status": "paid", "date_created": updated_at,
            "date_closed": updated_at, "total_amount": 26500.0, "paid_amount": 36400.0, "currency_id": "COP",
            "buyer": {"id": buyer, "nickname": f"{first_name}{last_name}".upper(), "first_name": first_name,
                      "last_name": last_name},
            "order_items": [{"item": {"id": "MCO5406407331", "title": "Colador de acero pequeño",
                                      "seller_sku": "COC-0013"}, "quantity": 1, "unit_price": 26500.0}],
            "billing_info": None,
            "shipment": {"status": "delivered", "receiver_address": door,
                         "destination_type": "agency" if pickup else "buying_address",
                         "receiver_city": "Medellin", "receiver_state": "Antioquia"}}


NIGHT_1["odoo"]["res.partner"] += [
    {**_partner(120, "Carlos Gómez Restrepo", "cgomez@example.net", "3045550120", False, city="Medellín"),
     "street": "CL 10 #43 - 12 apto 301"},
    {**_partner(121, "Carlos Andrés Gómez", "tienda.cag@example.net", "3045550121", False, city="Medellín"),
     "street": "Carrera 43A # 14-109 Local 5"},
    {**_partner(122, "Marta Restrepo", "marta.restrepo@example.net", "3045550122", False, city="Medellín"),
     "street": "Carrera 70 # 32-15"},
    {**_partner(123, "Jorge Castaño Ruiz", "jcastano@example.net", "3045550123", False, city="Medellín"),
     "street": "Calle 33 # 65-20"},
    {**_partner(124, "Elena Mejía", "elena.mejia@example.net", "3045550124", False, city="Medellín"),
     "street": "Calle 33 # 65-20"},
    {**_partner(125, "Jorge Castaño Gil", "jorge.castano.gil@example.net", "3045550125", False, city="Medellín"),
     "street": "Carrera 80 # 10-05"},
    {**_partner(126, "Hernán Ospina Duque", "hospina@example.net", "3045550126", False, city="Medellín"),
     "street": "Calle 50 # 70-11"},
    {**_partner(127, "Hernán Ospina Mejía", "hernan.om@example.net", "3045550127", False, city="Medellín"),
     "street": "Calle 50 # 70-11"},
]
NIGHT_1["mercadolibre"] = {"orders": [
    _meli_sale(2000009800120001, 310000120, "Carlos", "Gómez", "2026-10-02T10:00:00.000-05:00",
               "Calle 10 No. 43-12 Apartamento 301"),
    _meli_sale(2000009800120002, 310000120, "Carlos", "Gómez", "2026-11-12T10:00:00.000-05:00",
               "Cra 43A 14-109", pickup=True),
    _meli_sale(2000009800120003, 310000122, "Lucia", "Gomez", "2026-11-13T10:00:00.000-05:00",
               "Cra 70 # 32 - 15"),
    _meli_sale(2000009800120004, 310000123, "Jorge", "Castaño", "2026-11-13T11:00:00.000-05:00", "CL 33 65 20"),
    _meli_sale(2000009800120005, 310000126, "Hernan", "Ospina", "2026-11-13T12:00:00.000-05:00",
               "Calle 50 No. 70-11"),
]}
# Relatives named after a relative, sharing the family's mailbox and home in Pereira: Sandra
# Gómez and her daughter Sandra Gómez Gómez, each with her own valid cédula (nothing else tells
# them apart: no phones; a third Sandra Gómez lives across town); Fernando García García and his son Fernando García Rojas, whose second
# surnames differ (no tax id, no phone on the son's shop account)
NIGHT_1["odoo"]["res.partner"] += [
    {**_partner(130, "Sandra Gómez", "sandra_gomez61@example.net", False, "CC 1014439621", city="Pereira"),
     "street": "Diagonal 46 # 35A-24"},
    {**_partner(131, "Sandra Gómez Gómez", "sandra_gomez61@example.net", False, "CC 17938878", city="Pereira"),
     "street": "Dg 46 35a 24"},
    # a namesake across town: the name is common in Pereira, no rare name's evidence
    {**_partner(133, "Sandra Gómez Ríos", "sgomezrios@example.net", "3128880133", False, city="Pereira"),
     "street": "Calle 14 # 20-31"},
    {**_partner(132, "Fernando García García", "fgarcia93@example.net", "3210117779", False, city="Pereira"),
     "street": "Carrera 71 # 120-87"},
]
NIGHT_1["shopify"]["customers"].append(
    _shop_customer(7020, "Fernando", "García Rojas", "fgarcia93@example.net", "Pereira"))
# Doubtful tax ids in Manizales, each with nothing else in common but the city: Gloria Henao,
# whose ERP partner holds her cédula as a NIT with a wrong verification digit and whose CRM
# contact holds the cédula (their names agree); Ricardo Salazar, whose CRM contact holds his NIT
# with two digits of its body swapped (the digit after the dash is his); the coffee roaster El
# Roble, whose ERP partner holds its NIT with a wrong digit and whose buyer Hernando Ríos holds it
# right on his CRM contact, at the roaster's door; and Martha Giraldo's partner, whose doubtful
# NIT's digits are those on the contact of Andrés Giraldo (names that conflict: two people, or a
# slip that only a person can settle)
def _contact_with(contact_id, firstname, lastname, tax_id, address=None, city="Manizales"):
    contact = _contact(contact_id, firstname, lastname, None, None, city=city)
    contact["properties"].update(tax_id=tax_id, address=address)
    return contact


def _wrong_dv(body: str) -> int:
    return (nit_check_digit(body) + 3) % 10


NIGHT_1["odoo"]["res.partner"] += [
    _partner(140, "Gloria Patricia Henao Arango", False, False, f"43555666-{_wrong_dv('43555666')}", city="Manizales"),
    _partner(141, "Ricardo Salazar Mejía", False, False, f"75123894-{nit_check_digit('75123894')}", city="Manizales"),
    {**_partner(142, "Tostadora El Roble S.A.S.", False, "606 884 1212", f"900.555.121-{_wrong_dv('900555121')}",
                city="Manizales"), "is_company": True, "street": "Calle 20 # 15-30"},
    _partner(143, "Martha Giraldo Ruiz", False, False, f"30444555-{_wrong_dv('30444555')}", city="Manizales"),
]
NIGHT_1["hubspot"]["contacts"] += [
    _contact_with("580", "Gloria", "Henao", "CC 43555666"),
    # 75128394 is 75123894 with its fifth and sixth digits swapped; its own digit would be 0
    _contact_with("581", "Ricardo", "Salazar", f"75128394-{nit_check_digit('75123894')}"),
    _contact_with("582", "Hernando", "Ríos", f"900555121-{nit_check_digit('900555121')}", address="Cl 20 15 30"),
    _contact_with("583", "Andrés", "Giraldo", "CC 30444555"),
]
# Relatives of Ibagué with one name, one mailbox and one door, each a taxpayer of her own: Andrea
# Restrepo López (ERP partner 150 with her cédula, CRM contact 592 with her mobile) and her niece
# Andrea Restrepo (CRM contact 591 with her own cédula and mobile, ERP partner 151 at the family's
# door with her mobile and no tax id). The scores merge partner 151 with the aunt's partner (the
# door, names that agree) and with the niece's contact (the mobile): closed transitively, two
# valid cédulas would make one customer
NIGHT_1["odoo"]["res.partner"] += [
    {**_partner(150, "Andrea Restrepo López", "andrea.restrepo608@example.net", "3500251944", "CC 64542464",
                city="Ibagué"), "street": "Transversal 63 # 23-99"},
    {**_partner(151, "Andrea Restrepo", "andrea.restrepo608@example.net", "3172271450", False, city="Ibagué"),
     "street": "Tv 63 23 99"},
]
_niece = _contact("591", "Andrea", "Restrepo", "andrea.restrepo608@example.net", "3172271450", city="Ibagué")
_niece["properties"]["tax_id"] = "CC 1051641845"
NIGHT_1["hubspot"]["contacts"] += [_niece, _contact("592", "Andrea", "Restrepo López", None, "3500251944",
                                                    city="Ibagué")]
# Two people of Neiva named Diana Torres, each with her own mobile: the numbers end in the same
# seven digits (300 441 7782 and 315 441 7782), which says nothing when both are read in full
NIGHT_1["odoo"]["res.partner"].append(_partner(160, "Diana Torres", "dtorres.neiva@example.net", "3004417782", False,
                                               city="Neiva"))
NIGHT_1["hubspot"]["contacts"].append(_contact("593", "Diana", "Torres", "diana.t@example.org", "315 441 7782",
                                               city="Neiva"))
# Tunja: Felipe Antonio Pérez Díaz (ERP partner 170, CRM contact 594) and his son Felipe Antonio
# Pérez Vargas (ERP partner 171 at the father's door, without e-mail; CRM contact 595 with the
# family's mailbox, his mobile and his cédula). Only the two partners say two people (their second
# surnames); the contacts, names that agree in one mailbox, merge with each other and with both
# sides: closed transitively, father and son would be one customer
NIGHT_1["odoo"]["res.partner"] += [
    {**_partner(170, "Felipe Antonio Pérez Díaz", "felipeperez715@example.net", "3180932755", False, city="Tunja"),
     "street": "Carrera 20 # 3-53"},
    {**_partner(171, "Felipe Antonio Pérez Vargas", False, "3144606469", "CC 37739653", city="Tunja"),
     "street": "Cra 20 3 53"},
]
_son = _contact("595", "Felipe Antonio", "Pérez", "felipeperez715@example.net", "3144606469", city="Tunja")
_son["properties"]["tax_id"] = "CC 37739653"
NIGHT_1["hubspot"]["contacts"] += [
    _contact("594", "Felipe Antonio", "Pérez", "felipeperez715@example.net", "3180932755", city="Tunja"), _son]
# Popayán: two Jimena Ramírez, one mailbox, each her own mobile at her own door (ERP partners 172
# and 173); a CRM contact (596) with the mailbox and the second one's mobile. Óscar Mejía, one
# person who moved within the city and changed his mobile: his partner (174) and his contact (597)
# show two mobiles and two doors, and one cédula. Rosa Lugo changed her mobile: partner 175 and
# contact 598 show two, in one mailbox
NIGHT_1["odoo"]["res.partner"] += [
    {**_partner(172, "Jimena Ramírez", "jramirez88@example.net", "3005263476", False, city="Popayán"),
     "street": "Transversal 142 # 73-61"},
    {**_partner(173, "Jimena Ramírez", "jramirez88@example.net", "3204351166", False, city="Popayán"),
     "street": "Carrera 128 # 62-20"},
    {**_partner(174, "Óscar Mejía Toro", "omejia@example.net", "3001110174", "CC 71234567", city="Popayán"),
     "street": "Calle 5 # 10-20"},
    {**_partner(175, "Rosa Lugo Paz", "rlugo@example.net", "3001110175", False, city="Popayán"),
     "street": "Calle 7 # 8-9"},
]
_oscar = _contact("597", "Óscar", "Mejía", "omejia@example.net", "3152220597", city="Popayán")
_oscar["properties"].update(tax_id="CC 71234567", address="Carrera 9 # 4-15")
NIGHT_1["hubspot"]["contacts"] += [
    _contact("596", "Jimena", "Ramírez", "jramirez88@example.net", "3204351166", city="Popayán"), _oscar,
    _contact("598", "Rosa", "Lugo", "rlugo@example.net", "3152220598", city="Popayán")]
# Pasto: Camilo Vélez changed his mobile; every record with the old one (ERP partner 176, CRM
# contact 599, edited since) was created before any with the new one (shop customer 7030, partner
# 177), one mailbox, no door, no tax id


def _dated(record: dict, created: str, updated: str | None = None) -> dict:
    """The record created (and last changed) when given: Odoo's `create_date`, HubSpot's
    `createdAt`, Shopify's `created_at`."""
    if "properties" in record:
        return {**record, "createdAt": f"{created}T10:00:00.000Z", "updatedAt": f"{updated or created}T10:00:00.000Z"}
    if "first_name" in record:
        return {**record, "created_at": f"{created}T10:00:00-05:00", "updated_at": f"{updated or created}T10:00:00-05:00"}
    return {**record, "create_date": f"{created} 10:00:00", "write_date": f"{updated or created} 10:00:00"}


NIGHT_1["odoo"]["res.partner"] += [
    _dated(_partner(176, "Camilo Vélez Ruiz", "cvelez@example.net", "3001110176", False, city="Pasto"), "2024-03-01"),
    _dated(_partner(177, "Camilo Vélez", "cvelez@example.net", "3152220177", False, city="Pasto"), "2025-09-01"),
]
NIGHT_1["hubspot"]["contacts"] += [
    # an old record edited since (another field): its number was typed when it was created, or since
    _dated(_contact("599", "Camilo", "Vélez", "cvelez@example.net", "300 111 0176", city="Pasto"),
           "2024-05-01", "2026-10-01"),
]
NIGHT_1["shopify"]["customers"] += [
    _dated({**_shop_customer(7030, "Camilo", "Vélez", "cvelez@example.net", "Pasto"), "phone": "+573152220177"},
           "2025-06-01"),
]
NIGHT_2 = {"odoo": {"res.partner": [
    _partner(100, "Juan Perez", "juan.perez@example.com", False, False),
]}}


# a night of the models these tests read (identity, the review queue, the data issues, the golden
# record's history) and everything they are built from: half the project's nodes
NIGHT = ["build", "--select", "+customer_review_queue", "+data_issues", "+dim_customers_snapshot",
         "--indirect-selection", "cautious"]


def customers(url: str) -> dict[str, str]:
    return {r["record_key"]: r["customer_id"] for r in rows(url, "select * from intermediate.int_customers_matched")}


@pytest.fixture(scope="module")
def nights(module_db: str) -> dict[int, dict[str, str]]:
    load_raw(module_db, NIGHT_1)
    run_dbt(NIGHT, module_db)
    seen = {1: customers(module_db)}
    with psycopg.connect(module_db) as conn:
        conn.execute(
            "insert into ops.customer_match_overrides (record_key, other_record_key, action, reason, decided_by) "
            "values ('hubspot_contact:502', 'odoo_partner:101', 'split', 'old lead of another Juan Perez', 'test')")
    load_raw(module_db, NIGHT_2, batch_id="test-batch-2")
    run_dbt(NIGHT, module_db)
    seen[2] = customers(module_db)
    run_dbt(NIGHT, module_db)
    seen[3] = customers(module_db)
    return seen


def test_common_name_pair_in_the_same_city_stays_apart(nights):
    assert nights[1]["odoo_partner:110"] != nights[1]["hubspot_contact:520"]


def test_sisters_sharing_a_mailbox_stay_apart_though_their_initials_agree(nights):
    assert nights[1]["odoo_partner:112"] != nights[1]["hubspot_contact:540"]


def test_marketplace_buyer_joins_the_partner_at_the_door_its_sales_go_to(nights, module_db):
    """No document, no e-mail, a name three records of the city share: the door of the buyer's
    delivered sale is the evidence; the agency where it picked up its latest sale is none."""
    seen = nights[1]
    assert seen["mercadolibre_buyer:310000120"] == seen["odoo_partner:120"]
    assert seen["mercadolibre_buyer:310000120"] != seen["odoo_partner:121"]
    door = rows(module_db, "select street from intermediate.int_customer_records_unioned "
                           "where record_key = 'mercadolibre_buyer:310000120'")
    assert door == [{"street": "Calle 10 No. 43-12 Apartamento 301"}]


def test_marketplace_buyer_at_a_relatives_door_stays_apart(nights):
    assert nights[1]["mercadolibre_buyer:310000122"] != nights[1]["odoo_partner:122"]


def test_marketplace_buyer_joins_the_one_resident_of_a_household_its_name_fits(nights):
    """A household's door (two people's partners) says less than a door of one; the buyer's name
    fits one resident only, and says which."""
    seen = nights[1]
    assert seen["mercadolibre_buyer:310000123"] == seen["odoo_partner:123"]
    assert len({seen["odoo_partner:123"], seen["odoo_partner:124"], seen["odoo_partner:125"]}) == 3


def test_marketplace_buyer_whose_name_fits_two_residents_stays_apart(nights):
    seen = nights[1]
    assert len({seen["mercadolibre_buyer:310000126"], seen["odoo_partner:126"], seen["odoo_partner:127"]}) == 3


def test_two_valid_cedulas_in_a_family_mailbox_and_home_go_to_a_person(nights, module_db):
    """One mailbox, one door, names that fit one person: only the two valid cédulas say two
    taxpayers, and they outweigh the family's mailbox and door; the pair waits for a person."""
    (pair,) = rows(module_db, """
        select tax_id_level, name_level, decision, explanation from intermediate.int_customer_pairs_scored
        where record_key = 'odoo_partner:130' and other_record_key = 'odoo_partner:131'""")
    assert (pair["tax_id_level"], pair["name_level"], pair["decision"]) == ("different", "compatible", "review"), pair
    assert nights[1]["odoo_partner:130"] != nights[1]["odoo_partner:131"]


def test_a_surname_held_twice_conflicts_with_a_different_second_surname(nights, module_db):
    """García García / García Rojas: the one García of the son's name cannot stand for both of
    the father's, so the second surnames conflict and the mailbox is a family's."""
    assert nights[1]["odoo_partner:132"] != nights[1]["shopify_customer:7020"]
    (pair,) = rows(module_db, """
        select name_level, email_level, decision from intermediate.int_customer_pairs_scored
        where record_key = 'odoo_partner:132' and other_record_key = 'shopify_customer:7020'""")
    assert (pair["name_level"], pair["email_level"], pair["decision"]) == ("different_surname", "family", "apart")


def _pair(url: str, a: str, b: str) -> dict:
    (pair,) = rows(url, """
        select * from intermediate.int_customer_pairs_scored
        where record_key = least(%s, %s) and other_record_key = greatest(%s, %s)""", a, b, a, b)
    return pair


@pytest.mark.parametrize(("a", "b", "name_level"), [
    ("odoo_partner:140", "hubspot_contact:580", "compatible"),  # a wrong verification digit
    ("odoo_partner:141", "hubspot_contact:581", "compatible"),  # two digits of the body swapped
    ("odoo_partner:142", "hubspot_contact:582", "not_comparable"),  # a company and its buyer at one door
], ids=["wrong_digit_names_agree", "swapped_digits_names_agree", "company_and_buyer_at_its_door"])
def test_doubtful_tax_id_joins_when_the_names_or_the_door_agree(nights, module_db, a, b, name_level):
    """A doubtful tax id whose digits (or, one swap of neighbouring digits away, whose verification
    digit) are the other's valid id, and names that agree or one door: two pieces of evidence."""
    pair = _pair(module_db, a, b)
    assert (pair["tax_id_level"], pair["name_level"], pair["decision"]) == ("doubtful", name_level, "merge"), pair
    assert nights[1][a] == nights[1][b]


def test_data_issues_name_the_id_a_swap_gives_when_the_customer_holds_it(nights, module_db):
    """Ricardo's CRM contact: beside the verification digit its body calls for, the operator reads
    that his ERP partner holds the NIT one swap of neighbouring digits away; Gloria's wrong digit
    has no such line."""
    reasons = {r["record_id"]: r["reason"] for r in rows(module_db, """
        select record_id, reason from marts.data_issues
        where staging_model = 'int_customer_records_unioned' and record_id in ('581', '140')""")}
    right = f"75123894-{nit_check_digit('75123894')}"
    assert reasons["581"] == (f"tax id check digit fails (75128394-{nit_check_digit('75128394')} would be valid); "
                              f"odoo_partner:141 of the same customer holds {right}, these digits with two "
                              "neighbours swapped"), reasons
    assert "holds" not in reasons["140"], reasons


def test_doubtful_tax_id_beside_a_conflicting_name_joins_nobody(nights, module_db):
    """The same digits, but Martha and Andrés are no one name: the doubtful id stands alone."""
    pair = _pair(module_db, "odoo_partner:143", "hubspot_contact:583")
    assert (pair["tax_id_level"], pair["name_level"]) == ("doubtful", "different_given_name"), pair
    assert pair["decision"] in ("review", "apart"), pair
    assert nights[1]["odoo_partner:143"] != nights[1]["hubspot_contact:583"]


def test_web_order_joins_the_erp_partner_it_was_booked_under(nights, module_db):
    assert nights[1]["odoo_partner:113"] == nights[1]["shopify_customer:7010"]
    (evidence,) = rows(module_db, """
        select * from intermediate.int_customer_match_evidence
        where 'odoo_partner:113' in (record_key, linked_record_key)""")
    assert (evidence["rule"], evidence["decision"]) == ("web_order", "merge")
    assert evidence["matched_on"].startswith("shop order #1050")
    assert "web order #1050 +24.8" in evidence["explanation"]


def test_relatives_web_order_under_the_family_partner_joins_nobody(nights):
    assert nights[1]["odoo_partner:114"] != nights[1]["shopify_customer:7011"]


def test_web_order_booked_by_a_shared_mailbox_is_no_evidence(nights, module_db):
    assert nights[1]["odoo_partner:115"] != nights[1]["shopify_customer:7012"]
    (pair,) = rows(module_db, """
        select email_level, web_order_level from intermediate.int_customer_pairs_scored
        where record_key = 'odoo_partner:115' and other_record_key = 'shopify_customer:7012'""")
    assert (pair["email_level"], pair["web_order_level"]) == ("shared", "none")


def test_record_linked_only_by_a_similar_name_and_a_local_phone_joins_with_its_evidence(nights, module_db):
    assert nights[1]["odoo_partner:111"] == nights[1]["hubspot_contact:530"]
    (evidence,) = rows(module_db, """
        select * from intermediate.int_customer_match_evidence
        where 'odoo_partner:111' in (record_key, linked_record_key)""")
    assert (evidence["rule"], evidence["decision"]) == ("phone", "merge")
    assert 0.98 <= evidence["score"] < 1
    assert evidence["matched_on"].startswith("phone ending 2345678")
    assert "phone tail +17.4" in evidence["explanation"] and "name " in evidence["explanation"]


def test_new_record_joins_its_customer_without_renumbering(nights):
    juan = nights[1]["odoo_partner:101"]
    assert nights[2]["odoo_partner:100"] == juan  # its key is now the cluster's smallest
    assert nights[2]["odoo_partner:101"] == juan == nights[3]["odoo_partner:101"]
    unchanged = set(nights[1]) - {"hubspot_contact:502"}
    assert {key: nights[3][key] for key in unchanged} == {key: nights[1][key] for key in unchanged}


def test_a_night_writes_only_the_customer_ids_it_changes(nights, module_db):
    """Night 2 gives the split contact a new id and the new partner its customer's; night 3 changes
    nothing and rewrites no row: every other record keeps the row night 1 wrote."""
    written = {r["record_key"]: r["assigned_at"] for r in rows(
        module_db, "select record_key, assigned_at from intermediate.int_customer_ids")}
    night_2 = written["hubspot_contact:502"]
    assert written["odoo_partner:100"] == night_2
    assert written["odoo_partner:101"] < night_2 and written["odoo_partner:110"] < night_2
    assert max(written.values()) == night_2
    assert {key for key, at in written.items() if at == night_2} == {"hubspot_contact:502", "odoo_partner:100"}


def test_forced_split_holds_on_later_nights(nights, module_db):
    assert nights[1]["hubspot_contact:502"] == nights[1]["odoo_partner:101"]
    for night in (2, 3):
        assert nights[night]["hubspot_contact:502"] != nights[night]["odoo_partner:101"]
    assert nights[2]["hubspot_contact:502"] == nights[3]["hubspot_contact:502"]
    (split,) = rows(module_db, "select * from marts.dim_customers where '502' = any(hubspot_contact_ids)")
    assert split["hubspot_contact_ids"] == ["502"] and split["source_record_count"] == 1


def test_golden_record_history_has_a_version_per_change(nights, module_db):
    juan = nights[1]["odoo_partner:101"]
    versions = rows(module_db, """
        select odoo_partner_ids, dbt_valid_to from snapshots.dim_customers_snapshot
        where customer_id = %s order by dbt_valid_from""", juan)
    assert [v["odoo_partner_ids"] for v in versions] == [["101"], ["100", "101"]]  # night 3 changed nothing
    assert versions[0]["dbt_valid_to"] is not None and versions[1]["dbt_valid_to"] is None


def test_two_valid_tax_ids_never_close_into_one_customer(nights, module_db):
    """Partner 151 merges with the aunt's partner by the door and with the niece's contact by her
    mobile. Closed link by link, strongest first, the mobile's link joins the niece's records and
    the door's would put two valid cédulas in one customer: it is left out."""
    decisions = {(r["record_key"], r["other_record_key"]): (r["decision"], r["tax_id_level"]) for r in rows(
        module_db, "select * from intermediate.int_customer_pairs_scored where record_key like any(%s) "
                   "and other_record_key like any(%s)", ["%:15_", "%:59_"], ["%:15_", "%:59_"])}
    assert decisions[("hubspot_contact:591", "odoo_partner:151")][0] == "merge", decisions
    assert decisions[("odoo_partner:150", "odoo_partner:151")][0] == "merge", decisions
    assert decisions[("hubspot_contact:591", "odoo_partner:150")] == ("apart", "different"), decisions
    seen = nights[1]
    assert seen["odoo_partner:151"] == seen["hubspot_contact:591"]
    assert seen["odoo_partner:150"] == seen["hubspot_contact:592"]
    assert seen["odoo_partner:150"] != seen["odoo_partner:151"]
    assert not rows(module_db, "select * from marts.dim_customers where cardinality(odoo_partner_ids) > 0 "
                               "and '150' = any(odoo_partner_ids) and '591' = any(hubspot_contact_ids)")


def test_full_numbers_ending_alike_are_no_evidence(nights, module_db):
    """The last seven digits link a local number to its full form (Juanita Ramírez above), not two
    full numbers: the two Diana Torres of Neiva (a candidate pair all the same, the only two
    records of the city with their name) have different phones, and stay two customers."""
    (pair,) = rows(module_db, "select phone_level, decision from intermediate.int_customer_pairs_scored "
                              "where record_key = 'hubspot_contact:593' and other_record_key = 'odoo_partner:160'")
    assert pair == {"phone_level": "different", "decision": "apart"}, pair
    assert nights[1]["odoo_partner:160"] != nights[1]["hubspot_contact:593"]


def test_relatives_told_apart_by_their_surnames_stay_apart_through_the_family_mailbox(nights, module_db):
    """Father and son, one door, names that agree on the CRM contacts, one mailbox: only their ERP
    partners' second surnames say two people, and their pair, scored apart on them, is never joined
    through the contacts' mailbox. Each contact stays with its own side (the son's by his mobile and
    cédula, the father's by his mobile)."""
    pair = _pair(module_db, "odoo_partner:170", "odoo_partner:171")
    assert (pair["name_level"], pair["decision"]) == ("different_surname", "apart"), pair
    (conflict,) = rows(module_db, "select conflict from intermediate.int_customer_match_evidence "
                                  "where record_key = 'odoo_partner:170' and linked_record_key = 'odoo_partner:171'")
    assert conflict == {"conflict": "surname"}
    seen = nights[1]
    assert seen["odoo_partner:170"] != seen["odoo_partner:171"]
    assert seen["odoo_partner:170"] == seen["hubspot_contact:594"]
    assert seen["odoo_partner:171"] == seen["hubspot_contact:595"]


def test_two_mobiles_at_two_doors_in_one_mailbox_go_to_a_person(nights, module_db):
    """Two Jimena Ramírez, one mailbox, each her own mobile at her own door: the mailbox and the
    name would merge them (+18 bits); a mobile and a door of each one's own send the pair to a
    person instead, and the CRM contact that carries the mailbox and one mobile joins that one
    only."""
    (pair,) = rows(module_db, """
        select phone_level, address_level, decision, conflict, match_weight from intermediate.int_customer_pairs_scored
        where record_key = 'odoo_partner:172' and other_record_key = 'odoo_partner:173'""")
    assert (pair["phone_level"], pair["address_level"], pair["decision"], pair["conflict"]) == (
        "different", "different", "review", "phone_and_door"), pair
    assert pair["match_weight"] >= 6  # the mailbox and the name alone would have merged them
    seen = nights[1]
    assert seen["odoo_partner:172"] != seen["odoo_partner:173"]
    assert seen["hubspot_contact:596"] == seen["odoo_partner:173"]
    queued = rows(module_db, "select 1 from marts.customer_review_queue where record_key = 'odoo_partner:172' "
                             "and other_record_key = 'odoo_partner:173'")
    assert len(queued) == 1


@pytest.mark.parametrize(("a", "b"), [
    ("odoo_partner:174", "hubspot_contact:597"),  # a new mobile and a new door, one cédula
    ("odoo_partner:175", "hubspot_contact:598"),  # a new mobile at the same door (the contact has none)
], ids=["moved_and_new_mobile_one_cedula", "new_mobile_in_one_mailbox"])
def test_one_person_with_two_mobiles_stays_one_customer(nights, module_db, a, b):
    """What one person's records show after a new mobile (and a move): a cédula they share outweighs
    a mobile and a door of each record's own; a mobile alone is no conflict."""
    pair = _pair(module_db, a, b)
    assert pair["decision"] == "merge", pair
    assert nights[1][a] == nights[1][b]


def test_one_person_whose_old_mobile_records_all_came_first_stays_one_customer(nights, module_db):
    """Camilo Vélez's records with his old mobile were all created before any with his new one: a
    change of number, one mailbox, one name: one customer, no conflict. Each record carries its
    creation as its source gives it (Odoo's `create_date`, HubSpot's `createdAt`, Shopify's
    `created_at`), an edit since aside."""
    seen = nights[1]
    assert seen["odoo_partner:176"] == seen["hubspot_contact:599"] == seen["odoo_partner:177"] \
        == seen["shopify_customer:7030"]
    pair = _pair(module_db, "odoo_partner:176", "odoo_partner:177")
    assert (pair["phone_level"], pair["decision"], pair["conflict"]) == ("different", "merge", None), pair
    created = {r["record_key"]: (r["created_at"].date().isoformat(), r["updated_at"].date().isoformat()) for r in rows(
        module_db, "select record_key, created_at, updated_at from intermediate.int_customer_records_unioned "
                   "where record_key in ('odoo_partner:176', 'hubspot_contact:599', 'shopify_customer:7030')")}
    assert created == {"odoo_partner:176": ("2024-03-01", "2024-03-01"),
                       "hubspot_contact:599": ("2024-05-01", "2026-10-01"),
                       "shopify_customer:7030": ("2025-06-01", "2025-06-01")}, created
