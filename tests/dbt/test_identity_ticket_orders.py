"""A service ticket that cites an order says whose contact it is (int_customer_ticket_orders).

In Armenia, on the scenario's business: Marta Lucía Suárez, whose CRM contact holds a name, a city
and a placeholder phone, writes in about her ERP order S00220; Gloria Henao, whose contact holds a
name and a city, about her web order #1060 (bought as Gloria Inés Henao). Pedro Niño writes in
about his sister Ana's ERP order S00221 (the ticket is his, the order hers). Hugo Arango cites
#1061, which is both his Shopify order and Rosa Quintero's order in the business's WooCommerce
store (each shop numbers its own): the number names two customers' orders, so it says nothing. Nor does
a number of an order placed after the ticket, a bare number that is a shop's order number only
with its `#` (a date's year), or a ticket without a number. Lina Vargas's ticket cites her order,
but her contact and her ERP partner share a mailbox: the ticket adds nothing. Hernando Ríos writes
in about his father Hernando's order: one name, each a mobile and a door of his own, so the pair
goes to a person at most. An assistant who writes in about nine customers' orders links to none.
"""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from scenario import SOURCES, _order, load_raw
from test_identity_hard_cases import _contact, _partner, _shop_customer, rows

from puente.config import dbt_project_dir
from puente.dbt import run_dbt

CITY = "Armenia"
NIGHT = ["build", "--select", "+int_customers_matched", "+int_customer_match_evidence",
         "--indirect-selection", "cautious"]
MERGE_WEIGHT = yaml.safe_load((dbt_project_dir() / "dbt_project.yml").read_text())["vars"]["identity_merge_weight"]


def _sale_order(sale_order_id, name, partner):
    return {"id": sale_order_id, "name": name, "partner_id": partner, "date_order": "2026-11-12 15:00:00",
            "state": "sale", "amount_untaxed": 100000.0, "amount_tax": 19000.0, "amount_total": 119000.0,
            "currency_id": [8, "COP"], "client_order_ref": False, "origin": False,
            "create_date": "2026-11-12 15:00:00", "write_date": "2026-11-12 15:00:00"}


def _ticket(ticket_id, contact_id, subject):
    return {"id": ticket_id, "properties": {
                "subject": subject, "hs_pipeline": "0", "hs_pipeline_stage": "1",
                "hs_ticket_category": "DELIVERY_ISSUE", "hs_ticket_priority": "HIGH", "source_type": "EMAIL",
                "createdate": "2026-11-16T10:00:00.000Z", "hs_lastmodifieddate": "2026-11-16T10:00:00.000Z",
                "hs_object_id": ticket_id},
            "createdAt": "2026-11-16T10:00:00.000Z", "updatedAt": "2026-11-16T10:00:00.000Z", "archived": False,
            "associations": {"contacts": {"results": [{"id": contact_id, "type": "ticket_to_contact"}]}}}


SOURCES_WITH_TICKETS = copy.deepcopy(SOURCES)
SOURCES_WITH_TICKETS["odoo"]["res.partner"] += [
    _partner(120, "Marta Lucía Suárez Pineda", "marta.suarez@example.org", "3124440120", False, city=CITY),
    _partner(121, "Ana Niño Rueda", "ana.nino@example.org", "3124440121", False, city=CITY),
    _partner(123, "Rosa Quintero", "rosa.quintero@example.org", "3124440123", False, city=CITY),
    _partner(124, "Lina Vargas Mora", "familia.vargas@example.org", "3124440124", False, city=CITY),
    {**_partner(125, "Hernando Ríos", False, "3124440125", False, city=CITY), "street": "Calle 10 # 5-20"},
]
SOURCES_WITH_TICKETS["odoo"]["sale.order"] += [
    _sale_order(220, "S00220", [120, "Marta Lucía Suárez Pineda"]),
    _sale_order(221, "S00221", [121, "Ana Niño Rueda"]),
    _sale_order(224, "S00224", [124, "Lina Vargas Mora"]),
    _sale_order(225, "S00225", [125, "Hernando Ríos"]),
]
SOURCES_WITH_TICKETS["shopify"]["customers"] += [
    _shop_customer(7040, "Gloria Inés", "Henao", "gloria.henao@example.org", CITY),
    _shop_customer(7041, "Hugo", "Arango", "hugo.arango@example.org", CITY),
]
GLORIA = {"id": 7040, "email": "gloria.henao@example.org", "first_name": "Gloria Inés", "last_name": "Henao",
          "phone": None}
HUGO = {"id": 7041, "email": "hugo.arango@example.org", "first_name": "Hugo", "last_name": "Arango", "phone": None}
SOURCES_WITH_TICKETS["shopify"]["orders"] += [
    _order(5040, "#1060", GLORIA, "2026-11-14T10:00:00-05:00", "64950.00"),
    _order(5041, "#1061", HUGO, "2026-11-14T11:00:00-05:00", "64950.00"),
    # placed after the ticket that cites it; and an order whose number is a year's digits
    _order(5042, "#1062", GLORIA, "2026-11-20T10:00:00-05:00", "64950.00"),
    _order(5043, "#2026", GLORIA, "2026-11-10T10:00:00-05:00", "64950.00"),
]
SOURCES_WITH_TICKETS["hubspot"]["contacts"] += [
    _contact("580", "Marta", "Suárez", None, "0000000", city=CITY),
    _contact("581", "Gloria", "Henao", None, None, city=CITY),
    _contact("582", "Pedro", "Niño", None, None, city=CITY),
    _contact("583", "Hugo", "Arango", None, None, city=CITY),
    _contact("584", "Lina", "Vargas", "familia.vargas@example.org", None, city=CITY),
    _contact("585", "Hernando", "Ríos", None, "3124440185", city=CITY),
]
SOURCES_WITH_TICKETS["hubspot"]["contacts"][-1]["properties"]["address"] = "Carrera 15 # 30-40"
# an assistant writing in for nine customers (more than var identity_block_max_holders, 8)
ASSISTED = range(130, 139)
SOURCES_WITH_TICKETS["odoo"]["res.partner"] += [
    _partner(n, f"Cliente {n} Ocampo", f"cliente{n}@example.org", f"3124440{n}", False, city=CITY) for n in ASSISTED]
SOURCES_WITH_TICKETS["odoo"]["sale.order"] += [_sale_order(n + 100, f"S00{n + 100}", [n, "Cliente"]) for n in ASSISTED]
SOURCES_WITH_TICKETS["hubspot"]["contacts"].append(_contact("586", "Paula", "Ocampo", None, None, city=CITY))
SOURCES_WITH_TICKETS["woocommerce"] = {"orders": [{
    "id": 61, "number": "1061", "status": "processing", "customer_id": 0, "currency": "COP", "total": "119000",
    "total_tax": "19000", "discount_total": "0", "shipping_total": "0", "payment_method": "cod",
    "date_created_gmt": "2026-11-13T14:00:00", "date_modified_gmt": "2026-11-13T14:00:00",
    "billing": {"first_name": "Rosa", "last_name": "Quintero", "email": "rosa.quintero@example.org",
                "phone": "3124440123", "address_1": "Calle 20 # 14-30", "city": CITY, "country": "CO"},
    "line_items": []}]}
SOURCES_WITH_TICKETS["hubspot"]["tickets"] = [
    _ticket("901", "580", "Pedido S00220 retrasado"),
    _ticket("902", "581", "Mi pedido #1060 no ha llegado"),
    _ticket("903", "582", "Producto dañado en el pedido S00221"),
    _ticket("904", "583", "Pedido #1061 retrasado"),
    _ticket("905", "581", "¿Dónde está mi pedido?"),
    _ticket("906", "581", "Pedido #1062 retrasado"),
    _ticket("907", "582", "Entregado el 15/11/2026 incompleto"),
    _ticket("908", "584", "Error en la factura del pedido S00224"),
    _ticket("909", "585", "Producto dañado en el pedido S00225"),
    *(_ticket(str(900 + n), "586", f"Pedido S00{n + 100} retrasado") for n in ASSISTED),
]


@pytest.fixture(scope="module")
def built(module_db: str) -> str:
    load_raw(module_db, SOURCES_WITH_TICKETS)
    run_dbt(NIGHT, module_db)
    return module_db


def _customers(url: str) -> dict[str, str]:
    return {r["record_key"]: r["customer_id"] for r in rows(url, "select * from intermediate.int_customers_matched")}


def _pair(url: str, a: str, b: str) -> dict:
    (pair,) = rows(url, "select * from intermediate.int_customer_pairs_scored "
                        "where record_key = least(%s, %s) and other_record_key = greatest(%s, %s)", a, b, a, b)
    return pair


def test_only_numbers_that_name_one_customers_orders_are_cited(built):
    cited = {(r["ticket_id"], r["cited_number"], r["ticket_record_key"], r["order_record_key"])
             for r in rows(built, "select * from intermediate.int_customer_ticket_orders")}
    assert cited == {("901", "S00220", "hubspot_contact:580", "odoo_partner:120"),
                     ("902", "#1060", "hubspot_contact:581", "shopify_customer:7040"),
                     ("903", "S00221", "hubspot_contact:582", "odoo_partner:121"),
                     ("908", "S00224", "hubspot_contact:584", "odoo_partner:124"),
                     ("909", "S00225", "hubspot_contact:585", "odoo_partner:125")}


def test_a_contact_citing_the_orders_of_many_customers_links_to_none(built):
    assert rows(built, "select count(*) as n from intermediate.int_service_tickets_unioned "
                       "where crm_contact_id = '586'") == [{"n": len(ASSISTED)}]
    assert rows(built, "select 1 from intermediate.int_customer_ticket_orders "
                       "where ticket_record_key = 'hubspot_contact:586'") == []


@pytest.mark.parametrize(("contact", "order_record", "cited"), [
    ("hubspot_contact:580", "odoo_partner:120", "S00220"),
    ("hubspot_contact:581", "shopify_customer:7040", "#1060"),
])
def test_a_contact_with_a_name_and_a_city_joins_the_customer_of_the_order_it_wrote_about(
        built, contact, order_record, cited):
    assert _customers(built)[contact] == _customers(built)[order_record]
    pair = _pair(built, contact, order_record)
    assert (pair["web_order_level"], pair["decision"]) == ("ticket", "merge")
    assert f"ticket about {cited}" in pair["matched_on"]
    # the ticket weighs in the explanation, and without it the names and the city would not merge them
    weight = float(re.search(rf"ticket about {cited} ([+-][0-9.]+)", pair["explanation"]).group(1))
    assert weight > 0 and float(pair["match_weight"]) - weight < MERGE_WEIGHT


def test_a_ticket_about_a_relatives_order_joins_nobody(built):
    assert _customers(built)["hubspot_contact:582"] != _customers(built)["odoo_partner:121"]
    pair = _pair(built, "hubspot_contact:582", "odoo_partner:121")
    assert (pair["web_order_level"], pair["name_level"], pair["decision"]) == (
        "ticket", "different_given_name", "apart")


def test_a_number_naming_two_customers_orders_is_no_evidence(built):
    # a candidate all the same (the only two records of the city with the name), but no ticket's
    assert _pair(built, "hubspot_contact:583", "shopify_customer:7041")["web_order_level"] == "none"


def test_a_ticket_adds_nothing_beside_a_shared_mailbox(built):
    pair = _pair(built, "hubspot_contact:584", "odoo_partner:124")
    assert (pair["email_level"], pair["web_order_level"]) == ("exact", "none")


def test_a_ticket_about_an_order_of_a_relative_named_alike_goes_to_a_person_at_most(built):
    pair = _pair(built, "hubspot_contact:585", "odoo_partner:125")
    assert (pair["web_order_level"], pair["phone_level"], pair["address_level"]) == ("ticket", "different", "different")
    # its weight would merge it: each one's own mobile and door say two people
    assert pair["match_weight"] >= MERGE_WEIGHT and (pair["conflict"], pair["decision"]) == ("phone_and_door", "review")
    assert _customers(built)["hubspot_contact:585"] != _customers(built)["odoo_partner:125"]
