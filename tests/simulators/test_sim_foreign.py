"""The business's customers from abroad (latam, population): their tax ids carry the check digits
their tax authorities define, their phones are their country's, and every system records their
country as it would; a share of their ids is typed with a slip the ground truth names."""

from __future__ import annotations

import random
from collections import Counter

import phonenumbers
import pytest

from puente.simulators import Business, latam
from puente.simulators.business import messiness as messy
from puente.simulators.business.messiness import record_variations
from puente.simulators.business.odoo import COUNTRY_IDS, ID_TYPE_EXTERNAL, ID_TYPE_VAT


def test_check_digits_of_published_examples():
    assert latam.cuit_check_digit("2012345678") == 6  # 20-12345678-6
    assert latam.cuit_check_digit("3071234567") in range(10)
    assert latam.rut_check_digit("12345678") == "5"  # 12.345.678-5
    assert latam.rut_check_digit("7654321") == "6"
    assert latam.cpf_check_digits("529982247") == "25"  # 529.982.247-25
    assert latam.cnpj_check_digits("112223330001") == "81"  # 11.222.333/0001-81
    assert latam.rfc_check_character("GODE561231GR") == "8"  # GODE561231GR8


@pytest.mark.parametrize("code", sorted(latam.COUNTRIES))
@pytest.mark.parametrize("company", [False, True])
def test_new_tax_ids_hold_their_check_digits_and_typed_forms_keep_them(code, company):
    rng = random.Random(f"{code}{company}")
    for _ in range(300):
        tax_id = latam.new_tax_id(rng, code, company, male=rng.random() < 0.5, first="María Fernanda",
                                  last1="de la Hoz", last2="Peña", company_name="Distribuciones Andina S.A. de C.V.")
        body, check = latam.split_tax_id(code, company, tax_id)
        assert latam.check_digits(code, company, body) == check, tax_id
        for style in range(4):
            typed = latam.format_tax_id(code, company, body, check, style)
            assert latam.canonical_tax_id(typed) == latam.canonical_tax_id(tax_id), typed
    if code == "MX":  # a person's four letters, a company's three, then the date
        assert tax_id[:4 if not company else 3].isalpha() and tax_id[4 - company:10 - company].isdigit()


@pytest.mark.parametrize("code", sorted(latam.COUNTRIES))
def test_phones_are_valid_numbers_of_their_country_however_typed(code):
    rng = random.Random(code)
    for city, _, _, area in latam.COUNTRIES[code].cities:
        for number in (latam.new_mobile(rng, code, city), latam.new_landline(rng, code, area)):
            parsed = phonenumbers.parse(number)
            assert phonenumbers.is_valid_number(parsed) and phonenumbers.region_code_for_number(parsed) == code, number
            for style in range(6):  # the national forms read in the country
                typed = phonenumbers.parse(latam.phone_as_typed(number, style), code)
                assert phonenumbers.is_valid_number(typed), latam.phone_as_typed(number, style)
        mobile = phonenumbers.parse(latam.new_mobile(rng, code, city))
        assert phonenumbers.number_type(mobile) in (phonenumbers.PhoneNumberType.MOBILE,
                                                    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
        assert not latam.is_landline(latam.new_mobile(rng, code, city))
        assert latam.is_landline(latam.new_landline(rng, code, area))


def test_mexican_numbers_typed_before_the_2019_reform():
    """The prefixes the IFT's reform dropped (044, 045, 01, the 1 of `+52 1`) come before the ten
    digits of the number libphonenumber knows; libphonenumber itself no longer reads them as
    valid, so normalize_phone must. About MX_OLD_DIALLING_SHARE of the Mexican numbers typed carry one."""
    rng = random.Random("MX-old")
    for city, _, _, area in latam.COUNTRIES["MX"].cities:
        for number in (latam.new_mobile(rng, "MX", city), latam.new_landline(rng, "MX", area)):
            for style in range(4):
                typed = latam.mx_old_dialling(number, style)
                digits = "".join(ch for ch in typed if ch.isdigit())
                assert digits.endswith(number[3:]) and digits[: -10] in ("521", "044", "045", "01"), typed
                assert (digits[: -10] == "01") == latam.is_landline(number), typed
                modern = phonenumbers.parse(digits[-10:], "MX")
                assert phonenumbers.is_valid_number(modern)
                assert phonenumbers.format_number(modern, phonenumbers.PhoneNumberFormat.E164) == number
                assert not phonenumbers.is_valid_number(phonenumbers.parse(typed, "MX")), typed
    draws = random.Random(5)
    typed = [messy.phone(draws, latam.new_mobile(draws, "MX")) for _ in range(4_000)]
    old = sum(t.replace(" ", "").startswith(("+521", "521", "044", "045", "01")) for t in typed)
    assert 0.07 <= old / len(typed) <= 0.13, old


@pytest.fixture(scope="module")
def business() -> Business:
    return Business(seed=4, customers=4_000, history_days=300, mercadolibre=True, tiendanube=True)


def test_a_small_share_of_customers_is_from_abroad(business):
    people = business.population.people
    countries = Counter(p.country for p in people)
    share = 1 - countries["CO"] / len(people)
    assert 0.02 <= share <= 0.045, countries
    assert set(countries) == {"CO", *latam.COUNTRIES}, countries
    for p in people:
        if p.country == "CO":
            assert p.doc.isdigit() and not p.mobile.startswith("+")
            continue
        c = latam.country(p.country)
        assert p.city in {row[0] for row in c.cities} and p.mobile.startswith("+" + c.phone_code), p
        body, check = latam.split_tax_id(p.country, bool(p.company), p.doc)
        assert latam.check_digits(p.country, bool(p.company), body) == check, p.doc
        assert "foreign_customer" in p.variations


def test_doors_abroad_are_in_their_countrys_form(business):
    """A customer abroad lives at a door of their country's form (latam.Door: a named street and a
    number, ``Av. Corrientes 1234, piso 3 dto B``), never a Colombian one; the ERP types it."""
    abroad = [p for p in business.population.people if p.country != "CO"]
    assert all(isinstance(p.street, latam.Door) and p.street.country == p.country for p in abroad)
    people = {p.odoo_partner_id: p for p in abroad if p.odoo_partner_id}
    typed = [(people[pid], partner["street"]) for pid, partner in business.odoo["res.partner"].items()
             if pid in people and partner["street"]]
    assert len(typed) > 20
    for p, street in typed:
        assert "#" not in street or p.country in ("CL", "MX"), street  # (Colombia's sign: theirs too)
        # (the door they had when the record was typed: people move)
        assert any(name.lower() in street.lower() for _, name in latam.STREETS[p.country]), (p.street, street)
    styles = Counter(street.split()[0].rstrip(".,").lower() for _, street in typed)
    assert len(styles) >= 4, styles  # in full, abbreviated, left out


def test_relatives_and_namesakes_of_a_customer_abroad_live_in_their_country(business):
    people = business.population.people
    by_city = Counter((p.city, p.country) for p in people)
    for (city, code), _ in by_city.items():
        if any(city == row[0] for c in latam.COUNTRIES.values() for row in c.cities):
            assert code != "CO", city


def test_each_system_records_the_country(business):
    people = {p.odoo_partner_id: p for p in business.population.people if p.odoo_partner_id}
    seen = Counter()
    for pid, partner in business.odoo["res.partner"].items():
        p = people.get(pid)
        if p is None or p.country == "CO":
            continue
        seen["odoo"] += 1
        assert partner["country_id"] == COUNTRY_IDS[p.country]
        assert partner["l10n_latam_identification_type_id"] == (ID_TYPE_VAT if p.company else ID_TYPE_EXTERNAL)
    for cid, contact in business.hubspot["contacts"].items():
        p = business.population.person(business.records.owner("hubspot", "contacts", cid))
        if p.country != "CO":
            seen["hubspot"] += 1
            assert contact["properties"]["country"] == p.country_name
    for customer in business.shopify["customers"].values():
        if customer["default_address"]["country_code"] != "CO":
            seen["shopify"] += 1
            assert customer["default_address"]["country_code"] in latam.COUNTRIES and customer["note"] is None
    assert min(seen.values()) > 10 and len(seen) == 3, seen
    # a Mercado Libre Colombia account is Colombian: nobody from abroad buys there
    for oid in business.mercadolibre["orders"]:
        person = business.population.person(business.records.truth[("mercadolibre", "orders", oid)][0])
        assert person.country == "CO"


def test_foreign_ids_are_typed_with_slips_the_truth_names(business):
    classes = Counter()
    for pid, partner in business.odoo["res.partner"].items():
        owner = business.records.truth.get(("odoo", "res.partner", pid))
        if not owner or not owner[0]:
            continue
        p = business.population.person(owner[0])
        if p.country == "CO" or not partner["vat"]:
            continue
        found = record_variations(p, "odoo", partner)
        classes.update(found)
        assert "tax_id_foreign" in found
        typed = latam.canonical_tax_id(partner["vat"])
        assert ("tax_id_doubtful" in found) == (typed != latam.canonical_tax_id(p.doc)), (partner["vat"], p.doc)
    assert classes["tax_id_foreign"] > 30, classes


def test_foreign_slips_mostly_break_the_check_digit():
    """A mistyped check digit always fails; a swap of two neighbouring digits fails for every kind
    but now and then a CNPJ's (its remainders 0 and 1 both give 0)."""
    abroad = [p for p in Business(seed=4, customers=600, history_days=30).population.people if p.country != "CO"]
    rng = random.Random(2)
    slips, caught = 0, 0
    for person in abroad:
        code, company = person.country, bool(person.company)
        cut = 2 if code == "BR" else 1
        for _ in range(60):
            compact = latam.canonical_tax_id(messy.foreign_tax_id(rng, person))
            if compact != latam.canonical_tax_id(person.doc):
                slips += 1
                caught += latam.check_digits(code, company, compact[:-cut]) != compact[-cut:]
    assert slips > 50 and caught / slips > 0.97, (slips, caught)


def test_the_same_seed_makes_the_same_customers_abroad():
    def abroad(business: Business) -> list[tuple]:
        return [(p.id, p.country, p.legal_name, p.city, p.doc, p.mobile, p.landline, p.email)
                for p in business.population.people if p.country != "CO"]
    first, again = (abroad(Business(seed=9, customers=800, history_days=60)) for _ in range(2))
    assert first and first == again
