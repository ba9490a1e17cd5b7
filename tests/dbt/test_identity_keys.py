"""The identity-key macros (macros/identity_keys.sql), evaluated by PostgreSQL through dbt."""

from __future__ import annotations

import pytest

from puente.dbt import run_dbt

CASES = {
    "normalize_email": {
        " Juan.Perez@Example.COM ": "juan.perez@example.com",
        "ana@sub.example.co": "ana@sub.example.co",
        "": None,
        "juan@": None,
        "sin correo": None,
        "juan perez@example.com": None,
    },
    "normalize_phone": {
        "(1) 234 5678": "+576012345678",  # the pre-2021 Bogotá area code
        "01 2345678": "+576012345678",
        "(4) 444 5566": "+576044445566",
        "601 234 5678 ext. 112": "+576012345678",
        "6012345678 x12": "+576012345678",
        "0000000": None,
        "3000000000": None,
        "1234567": None,
        "(300) 123-4567": "+573001234567",
        "+57 300 123 4567": "+573001234567",
        "573001234567": "+573001234567",
        "3001234567": "+573001234567",
        "0057 300 123 4567": "+573001234567",
        "601 345 6789": "+576013456789",
        "+1 (415) 555-0100": "+14155550100",
        # a Mexican mobile with the 1 international calls carried before 2019 (the number has ten digits)
        "+52 1 55 1234 5678": "+525512345678",
        "0052 1 55 1234 5678": "+525512345678",
        "555-0100": None,
        "": None,
    },
    "normalize_tax_id": {
        "900.123.456-8": "900123456",
        "NIT 900123456-8": "900123456",
        "9001234568": "900123456",  # 8 is the DIAN check digit of 900123456
        "9001234567": "9001234567",  # 7 is not: the ten digits stay whole
        "800197268-4": "800197268",
        "8001972684": "800197268",
        "CC 1020304050": "1020304050",
        "1020304050": "1020304050",  # a ten-digit cédula starts with 1
        "C.C. 79.111.222": "79111222",
        "79.111.222-3": "79111222",
        "222222222222": None,  # DIAN's generic final consumer
        "123": None,
        "": None,
    },
    "canonical_email": {
        "juan.perez+tienda@gmail.com": "juanperez@gmail.com",
        "Juan.Perez@GoogleMail.com": "juanperez@gmail.com",
        "juan.perez@gmial.com": "juanperez@gmail.com",
        "juan.perez@gmail": "juanperez@gmail.com",
        "juan.perez@gmail.con": "juanperez@gmail.com",
        "ana.gil@hotmial.com": "ana.gil@hotmail.com",
        "ana.gil+promo@hotmail.com": "ana.gil@hotmail.com",
        "ana.gil@hotmail.es": "ana.gil@hotmail.es",  # another real mailbox, not a slip
        "ana.gil@hotmial.es": "ana.gil@hotmail.es",  # a slip of hotmail.es, not of hotmail.com
        "ana.gil@hotmail.co": "ana.gil@hotmail.com",  # a .com short of its m (.es is two letters off)
        "juan.perez@yahoo.es": "juan.perez@yahoo.es",
        "juan.perez@yahoo.com.mx": "juan.perez@yahoo.com.mx",
        # yahoo.com or yahoo.es? Not guessed here (int_customer_records_unioned reads it by the
        # mailbox its records hold)
        "juan.perez@yahoo": "juan.perez@yahoo",
        "juan.perez@outlook": "juan.perez@outlook",
        "compras@ferreteria.com.co": "compras@ferreteria.com.co",
        "sin correo": None,
    },
    "is_placeholder_phone": {
        "0000000": True,
        "1234567": True,
        "3000000000": True,
        "3001234567": False,
        "6012345678": False,
    },
    "is_landline_phone": {
        "+576012345678": True,
        "+573001234567": False,
        "+541143211234": True,  # Buenos Aires
        "+5491143211234": False,  # a mobile: a 9 after the country code
        "+56223456789": True,  # Santiago
        "+56912345678": False,
        "+551134567890": True,  # São Paulo: eight digits
        "+5511934567890": False,  # nine, the first a 9
        # Mexico: one plan for both, which does not say; read as a line others may share
        "+525512345678": True,
    },
    "normalize_address": {
        "Calle 38 # 12-45": "cl 38 12 45",
        "Cl 38 12 45": "cl 38 12 45",
        "CL. 38 N° 12 - 45 Apto 301": "cl 38 12 45",
        "Calle 38 Nro 12 45, Int. 2": "cl 38 12 45",
        "Carrera 7 No. 12 B - 10 Casa 2": "kr 7 12b 10",
        "Kr 7 #12B-10": "kr 7 12b 10",
        "cra 7 # 12b-10 of 402": "kr 7 12b 10",
        "Avenida 68 # 45-20": "av 68 45 20",
        "AV. 68 No 45 20": "av 68 45 20",
        "Transversal 13 # 11-07": "tv 13 11 7",
        "Tv 13 11-7": "tv 13 11 7",
        "Diagonal 40A Sur # 3-12": "dg 40a 3 12 sur",
        "Dg 40 A # 3 - 12 Sur": "dg 40a 3 12 sur",
        "Calle 38 # 12-54": "cl 38 12 54",  # three doors away: another door
        "Carrera 38 # 12-45": "kr 38 12 45",  # another street
        "Vereda El Salitre, finca La Esperanza": None,
        "Calle 5 Bis # 3-2": None,  # a `Bis` street: not read (yet), so no key rather than a wrong one
        "": None,
    },
    "normalize_name": {
        "  LUCÍA   GÓMEZ ": "lucia gomez",
        "José Ñúñez": "jose nunez",
        "   ": None,
    },
}


CALL_ARGS = "('typed')"
CALLS = {"canonical_email": "canonical_email(normalize_email('typed'))"}  # it reads a normalised address
# Phones as people type them, checked against Google's libphonenumber (the `phonenumbers` package)
PHONES = ["+57 300 123 4567", "3001234567", "(300) 123-4567", "300 123 4567", "+573001234567", "57 3001234567",
          "601 234 5678", "+57 601 234 5678", "6042345678", "(605) 345-6789", "+1 (415) 555-0100",
          "+57 (310) 555-1212", "+52 55 1234 5678", "+56 9 8765 4321"]


@pytest.fixture(scope="module")
def normalized(module_db) -> dict[tuple[str, str], str | None]:
    """Every case through its macro, in one `dbt show --inline` query."""
    all_cases = {**CASES, "normalize_phone": {**CASES["normalize_phone"], **dict.fromkeys(PHONES)}}
    selects = [
        f"select '{macro}' as macro, typed, ({{{{ {CALLS.get(macro, macro + CALL_ARGS)} }}}})::text as normalized "
        f"from (values {', '.join(_literal(typed) for typed in cases)}) as cases (typed)"
        for macro, cases in all_cases.items()
    ]
    result = run_dbt(["show", "--inline", " union all ".join(selects), "--limit", "-1", "--quiet"], module_db)
    table = result.result.results[0].agate_table
    return {(row["macro"], row["typed"]): row["normalized"] for row in table.rows}


def _literal(text: str) -> str:
    return "('" + text.replace("'", "''") + "')"


@pytest.mark.parametrize(
    ("macro", "typed", "expected"),
    [(macro, typed, expected) for macro, cases in CASES.items() for typed, expected in cases.items()],
)
def test_identity_key(normalized, macro, typed, expected):
    assert normalized[(macro, typed)] == (expected if not isinstance(expected, bool) else str(expected).lower())


@pytest.mark.parametrize("typed", PHONES)
def test_phone_is_the_e164_libphonenumber_gives(normalized, typed):
    import phonenumbers

    number = phonenumbers.parse(typed, "CO")
    assert phonenumbers.is_valid_number(number), typed
    assert normalized[("normalize_phone", typed)] == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# ---------------------------------------------------------------------------- the generator's foreign customers
# Tax ids and phones of customers abroad as the business generator makes and types them
# (puente.simulators.latam): the macros must read them as their country's tax authority and
# phone plan do, or the identity benchmark would measure the generator rather than the models.

def _foreign_cases() -> list[tuple[str, str, str, str]]:
    """(typed, country, kind of case, what the macros must give): valid ids in every typed
    style, ids with a mistyped check digit (the correction is the valid id), ids with two
    neighbouring characters of the body swapped (the valid body is among the swaps), phones."""
    import random

    from puente.simulators import latam

    rng = random.Random(11)
    cases = []
    for code in sorted(latam.COUNTRIES):
        for company in (False, True):
            for n in range(4):
                tax_id = latam.new_tax_id(rng, code, company, male=n % 2 == 0, first="Ana María", last1="de la Hoz",
                                          last2="Gil", company_name="Comercial Andina S.A. de C.V.")
                body, check = latam.split_tax_id(code, company, tax_id)
                cases.append((latam.format_tax_id(code, company, body, check, n), code, "valid", "true"))
                wrong = check[:-1] + str((int(check[-1]) + 1) % 10 if check[-1].isdigit() else 3)
                cases.append((latam.format_tax_id(code, company, body, wrong, n), code, "check_slip",
                              latam.canonical_tax_id(tax_id)))
                i = len(body) - 2 - n if code != "MX" else len(body) - 8 + n  # (an RFC's: in its date)
                swapped = body[:i] + body[i + 1] + body[i] + body[i + 2:]
                if swapped != body and latam.check_digits(code, company, swapped) != check:
                    cases.append((latam.format_tax_id(code, company, swapped, check, n), code, "swap",
                                  body.lstrip("0") if code == "CL" else body))
        for city, _, _, area in latam.COUNTRIES[code].cities[:2]:
            for number in (latam.new_mobile(rng, code, city), latam.new_landline(rng, code, area)):
                cases += [(latam.phone_as_typed(number, style), code, "phone", number) for style in range(6)]
                if code == "MX":  # with a prefix the 2019 reform dropped (044, 045, 01, +52 1)
                    cases += [(latam.mx_old_dialling(number, style), code, "phone", number) for style in range(4)]
    return cases


FOREIGN_CASES = _foreign_cases()

# Doors abroad as people write them: one key for the variants of one door (street type in full,
# abbreviated or left out, a number sign, the unit or the colonia left out), another for another door
FOREIGN_ADDRESSES = {
    ("Av. Corrientes 1234, piso 3 dto B", "AR"): "corrientes 1234",
    ("Avenida Corrientes N° 1234 3° B", "AR"): "corrientes 1234",
    ("CORRIENTES 1234", "AR"): "corrientes 1234",
    ("Av. Corrientes 1243, piso 3 dto B", "AR"): "corrientes 1243",  # another door of the street
    ("Av. Santa Fe 1234", "AR"): "santa fe 1234",  # another street
    ("Av. Providencia 1234, depto 56", "CL"): "providencia 1234",
    ("Providencia Nº 1234 dpto. 56", "CL"): "providencia 1234",
    ("Calle Los Leones 1234", "CL"): "los leones 1234",
    ("Av. Insurgentes Sur 1234 int. 5, Col. Del Valle", "MX"): "insurgentes sur 1234",
    ("Insurgentes Sur #1234-5 Colonia del Valle", "MX"): "insurgentes sur 1234",
    ("AVENIDA INSURGENTES SUR NÚM. 1234", "MX"): "insurgentes sur 1234",
    ("Av. Insurgentes Sur 1324, Col. Del Valle", "MX"): "insurgentes sur 1324",
    ("Rua Augusta, 1234 - apto 56", "BR"): "augusta 1234",
    ("R. Augusta, nº 1234", "BR"): "augusta 1234",
    ("rua augusta 1234 ap. 56", "BR"): "augusta 1234",
    ("Alameda Santos, 1234", "BR"): "santos 1234",
    ("Calle 38 # 12-45", "MX"): "cl 38 12 45",  # a Colombian door, wherever the record says it is
    ("Vereda El Salitre, finca La Esperanza", "CO"): None,  # a Colombian record: Colombian forms only
    ("Corrientes 1234", "CO"): None,
}


def _generated_doors() -> list[tuple[str, str, int]]:
    """(typed, country, door): three doors of each country typed eight ways each."""
    import random

    from puente.simulators import latam

    rng = random.Random(12)
    return [(latam.door_as_typed(rng, door), code, n)
            for code in sorted(latam.COUNTRIES)
            for n, door in enumerate(latam.new_door(rng, code, office=k == 2) for k in range(3))
            for _ in range(8)]


GENERATED_DOORS = _generated_doors()


@pytest.fixture(scope="module")
def foreign_read(module_db) -> dict[tuple[str, str], dict]:
    typed_values = [(typed, code) for typed, code, _, _ in FOREIGN_CASES] + list(FOREIGN_ADDRESSES)
    typed_values += [(typed, code) for typed, code, _ in GENERATED_DOORS]
    values = ", ".join(f"({_literal(typed)[1:-1]}, '{code}')" for typed, code in dict.fromkeys(typed_values))
    sql = (
        "select typed, country, ({{ tax_id_is_valid('typed', 'country') }})::text as is_valid, "
        "({{ normalize_address('typed', 'country') }}) as address, "
        "regexp_replace(upper(({{ tax_id_corrected('typed', 'country') }})), '[^A-Z0-9]', '', 'g') as corrected, "
        "array_to_string(({{ tax_id_transpositions('typed', 'country') }}), ',') as swaps, "
        "({{ normalize_phone('typed', 'country') }}) as phone "
        f"from (values {values}) as cases (typed, country)"
    )
    result = run_dbt(["show", "--inline", sql, "--limit", "-1", "--quiet"], module_db)
    return {(row["typed"], row["country"]): row for row in result.result.results[0].agate_table.rows}


@pytest.mark.parametrize(("typed", "code", "kind", "expected"), FOREIGN_CASES,
                         ids=[f"{kind}-{code}-{typed}" for typed, code, kind, _ in FOREIGN_CASES])
def test_the_generators_foreign_ids_and_phones_read_as_their_country_has_them(foreign_read, typed, code, kind, expected):
    row = foreign_read[(typed, code)]
    if kind == "valid":
        assert row["is_valid"] == "true", typed
    elif kind == "check_slip":
        assert row["is_valid"] == "false" and row["corrected"] == expected, (typed, row)
    elif kind == "swap":
        assert row["is_valid"] == "false" and expected in (row["swaps"] or "").split(","), (typed, row)
    else:
        assert row["phone"] == expected, (typed, row)


@pytest.mark.parametrize(("typed", "code"), list(FOREIGN_ADDRESSES), ids=[f"{c}-{t}" for t, c in FOREIGN_ADDRESSES])
def test_a_door_abroad_reads_as_its_street_and_number(foreign_read, typed, code):
    assert foreign_read[(typed, code)]["address"] == FOREIGN_ADDRESSES[(typed, code)]


def test_the_generators_doors_abroad_give_one_key_per_door(foreign_read):
    """Every way the generator types a door abroad gives the door's one key; two doors, two keys."""
    keys: dict[tuple[str, int], set[str | None]] = {}
    for typed, code, door in GENERATED_DOORS:
        keys.setdefault((code, door), set()).add(foreign_read[(typed, code)]["address"])
    assert all(len(found) == 1 and None not in found for found in keys.values()), keys
    assert len({(code, *found) for (code, _), found in keys.items()}) == len(keys), keys


def _valid_ids() -> list[tuple[str, str]]:
    """(typed, country): valid NITs with their DV (a third of them DV 1) and the generator's valid
    ids of the other countries, people's and companies'."""
    import random

    from puente.simulators import latam
    from puente.simulators.colombia import nit_check_digit

    rng = random.Random(13)
    bodies = [str(rng.randrange(800_000_000, 999_999_999)) for _ in range(600)]
    ids = [(f"{body}-{nit_check_digit(body)}", "CO") for body in bodies if nit_check_digit(body) == 1][:100]
    ids += [(f"{body}-{nit_check_digit(body)}", "CO") for body in bodies if nit_check_digit(body) != 1][:200]
    for code in sorted(latam.COUNTRIES):
        for n in range(120):
            tax_id = latam.new_tax_id(rng, code, n % 2 == 0, male=n % 3 == 0, first="Ana María", last1="de la Hoz",
                                      last2="Gil", company_name="Comercial Andina S.A. de C.V.")
            ids.append((latam.format_tax_id(code, n % 2 == 0, *latam.split_tax_id(code, n % 2 == 0, tax_id), 0), code))
    return ids


def test_a_valid_ids_swaps_are_derived_wherever_its_check_digit_can_miss_one(module_db):
    """tax_id_keys derives a valid id's swaps (tax_id_swapped_bodies) only where its check digit(s)
    can stand for two sums (a NIT's DV 1, an RFC, a CPF, a CNPJ): on every valid id, what it keeps is
    every swap macro tax_id_transpositions finds, so the cases it skips have none; and the NITs
    and RFCs among them have some."""
    values = ", ".join(f"({_literal(typed)[1:-1]}, '{code}')" for typed, code in dict.fromkeys(_valid_ids()))
    sql = (
        f"{{% set cases %}}(values {values}) as cases (tax_id, tax_country){{% endset %}}"
        "select keys.tax_id, keys.tax_country, keys.tax_id_is_valid::text as is_valid, keys.tax_id_kind as kind, "
        "coalesce(array_to_string(keys.tax_id_swapped_bodies, ','), '') as kept, "
        "coalesce(array_to_string(({{ tax_id_transpositions('keys.tax_id', 'keys.tax_country') }}), ','), '') as every "
        "from ({{ tax_id_keys(cases) }}) as keys"
    )
    rows = run_dbt(["show", "--inline", sql, "--limit", "-1", "--quiet"], module_db).result.results[0].agate_table.rows
    assert len(rows) > 700 and all(row["is_valid"] == "true" for row in rows)
    assert [(row["tax_id"], row["kept"], row["every"]) for row in rows if row["kept"] != row["every"]] == []
    with_swaps = {row["kind"] for row in rows if row["every"]}
    assert {"nit", "rfc"} <= with_swaps and not {"cuit", "rut"} & with_swaps, with_swaps
    assert all(row["tax_id"].endswith("-1") for row in rows if row["kind"] == "nit" and row["every"])
