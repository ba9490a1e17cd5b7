"""The generated customers show every variation class identity resolution is measured on
(messiness.VARIATION_CLASSES), at plausible rates, and the ground truth per class says true."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from puente.simulators import Business
from puente.simulators.business.messiness import VARIATION_CLASSES, record_variations
from puente.simulators.colombia import domain_typo, email_variant, landline_as_typed, mailbox, nit_check_digit

CUSTOMER_OBJECTS = {("odoo", "res.partner"), ("hubspot", "contacts"), ("shopify", "customers")}


@pytest.fixture(scope="module")
def labelled() -> list[tuple[str, dict, set[str]]]:
    business = Business(seed=4, customers=4_000, history_days=300)
    out = []
    for row in business.truth():
        if (row["system"], row["object"]) in CUSTOMER_OBJECTS and row["person_id"]:
            record = business.table(row["system"], row["object"])[int(row["id"])]
            person = business.population.person(row["person_id"])
            out.append((row["system"], record, record_variations(person, row["system"], record)))
    return out


def test_every_variation_class_shows_at_a_plausible_rate(labelled):
    counts = Counter(name for _, _, classes in labelled for name in classes)
    shares = {name: counts[name] / len(labelled) for name in VARIATION_CLASSES}
    assert all(counts[name] >= 5 for name in VARIATION_CLASSES), counts
    # rare slips stay rare, the common shapes of names stay common
    assert all(shares[name] < 0.03 for name in ("tax_id_doubtful", "email_plus", "email_gmail_dots",
                                                 "email_provider_alias", "email_domain_typo", "phone_placeholder",
                                                 "business_phone")), shares
    assert 0.15 < shares["name_two_given"] < 0.45 and shares["name_dropped_surname"] > 0.3, shares


def test_labels_match_what_the_records_hold(labelled):
    for system, record, classes in labelled:
        if "tax_id_doubtful" in classes and system == "odoo" and record["is_company"] \
                and record["country_id"][0] == 49:  # a Colombian NIT (a foreign id: test_sim_foreign)
            digits = re.sub(r"\D", "", record["vat"])
            assert nit_check_digit(digits[:9]) != int(digits[9]), record["vat"]
        if "email_plus" in classes:
            assert "+" in record["properties"]["email"]
        if "phone_placeholder" in classes:
            phones = [record.get("phone"), record.get("mobile")] if system == "odoo" else \
                [record["properties"].get("phone"), record["properties"].get("mobilephone")]
            assert any(p in ("0000000", "1234567", "3000000000", "1111111111", "123456789") for p in phones)


def test_variant_writers_keep_the_mailbox_and_the_number():
    import random

    rng = random.Random(1)
    for _ in range(200):
        variant, kind = email_variant(rng, "juan.perez@gmail.com")
        local, _, domain = variant.partition("@")
        if kind in ("plus", "dots", "alias"):
            assert mailbox(f"{local.split('+')[0]}@{domain}") == "juanperez@gmail.com", variant
        else:
            assert variant.startswith("juan.perez@") and variant != "juan.perez@gmail.com"
    assert domain_typo(random.Random(3), "hotmail.com") != "hotmail.com"
    assert {landline_as_typed("6012345678", s) for s in range(5)} == {
        "234 5678", "(1) 234 5678", "01 2345678", "601 234 5678 ext. 178", "6012345678 x58"}


def test_salesforce_and_mercadolibre_records_are_read_for_their_variations():
    """A business on Salesforce keeps its sales team's book in HubSpot's shape and shows it as
    Salesforce's: each Contact or Lead shows the classes of its contact in the book. A Mercado Libre
    buyer (a sale as it lands) has no e-mail or phone to show; its document does."""
    from puente.simulators.business.salesforce import sf_id
    from puente.sources.mercadolibre.connector import billing_info

    on_salesforce = Business(seed=5, customers=300, history_days=120, mercadolibre=True, crm="salesforce")
    org = {r["Id"]: r for sobject in ("Contact", "Lead") for r in on_salesforce.salesforce.table(sobject)}
    compared = 0
    for (system, obj, rid), (person_id, _) in on_salesforce.records.truth.items():
        if system == "hubspot" and obj == "contacts":
            person = on_salesforce.population.person(person_id)
            twin = on_salesforce.records.hubspot["contacts"][rid]
            for sobject in ("Contact", "Lead"):
                record = org.get(sf_id(sobject, rid))
                if record is not None:
                    compared += 1
                    assert record_variations(person, "salesforce", record) == record_variations(person, "hubspot", twin)
    assert compared > 100, compared
    classes = Counter()
    for oid, sale in on_salesforce.mercadolibre["orders"].items():
        person = on_salesforce.population.person(on_salesforce.records.truth[("mercadolibre", "orders", oid)][0])
        landed = {**sale, "billing_info": billing_info(on_salesforce.meli.billing_info(oid))}
        found = record_variations(person, "mercadolibre", landed) - set(person.variations)
        assert not {name for name in found if name.startswith(("email", "phone"))}
        if landed["billing_info"] is None:
            assert not {name for name in found if name.startswith("tax_id")}
        classes.update(found)
    assert classes["name_two_given"] > 0 and classes["tax_id_doubtful"] + classes["tax_id_person_nit"] > 0, classes


def test_sons_named_after_their_father_are_men_of_his_family_and_rare():
    """A relative named after the one they join is a son after his father (NAMED_AFTER_SHARE of the
    male relatives of a man): his given and family name, in his city; never a woman given a man's name."""
    import random
    from datetime import date

    from puente.simulators.business.calendar import Calendar
    from puente.simulators.business.population import NAMED_AFTER_SHARE, Population

    population = Population(random.Random(3), Calendar(random.Random(2), date(2025, 1, 1)),
                            lambda k, web: [], lambda day, person: None)
    population.plan(20_000, 700)
    named = [p for p in population.people if p.named_after]
    assert named
    for son in named:
        father = population.person(son.named_after)
        assert son.male and father.male and "namesake" in son.variations | father.variations
        assert (son.first, son.last1, son.city) == (father.first, father.last1, father.city)
    male_relatives = sum(1 for p in population.people
                         if p.male and p.kind == "person" and "family_mailbox" in p.variations)
    assert len(named) < 3 * NAMED_AFTER_SHARE * male_relatives, (len(named), male_relatives)


def test_unrelated_customers_share_a_building_in_units_of_their_own():
    """A large business has customers who live in one building (or keep an office in one), each in
    a unit of their own: one street address, which the identity's door key reads without the unit,
    held by people with nothing else in common. The share grows with the business's size."""
    from puente.simulators.business import population

    business = Business(seed=4, customers=20_000, history_days=200)
    people = business.population.people
    neighbours = [p for p in people if "shared_building" in p.variations]
    by_door: dict[tuple, list] = {}
    for p in neighbours:
        by_door.setdefault((p.city, p.street.street_type, p.street.street, p.street.cross, p.street.door), []).append(p)
    buildings = [group for group in by_door.values() if len(group) > 1]
    assert len(buildings) > 50, len(buildings)
    for group in buildings:
        assert len({p.street.unit for p in group}) == len(group), [str(p.street) for p in group]
        assert len({p.doc for p in group}) == len(group) and len({p.mobile for p in group}) == len(group)
        assert len({p.kind for p in group}) == 1  # homes beside homes, offices beside offices
    assert any(p.kind == "company" for p in neighbours) and any(p.kind == "person" for p in neighbours)
    # a fifth of the share at a fifth of the size the share is set for
    expected = population.BUILDING_NEIGHBOUR_SHARE * 20_000 / population.BUILDING_NEIGHBOUR_CUSTOMERS
    with_unit = [p for p in people if p.country == "CO" and getattr(p.street, "unit", None)]
    assert 0.5 * expected < len(buildings) / len(with_unit) < 1.5 * expected
