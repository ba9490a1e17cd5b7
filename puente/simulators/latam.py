"""Reference data of the region's other countries, for the Colombian business's foreign customers:
their tax ids (with the check digits each tax authority defines), phones, cities and names.

Pure functions of their arguments and a ``random.Random``, as in ``colombia``. The formats:

- Argentina: CUIT (companies, prefix 30/33) and CUIL (people, 20 men, 27 women): two digits,
  eight, and a check digit, modulo 11 with weights 5 4 3 2 7 6 5 4 3 2 (11 - remainder; 11 gives
  0, and a body whose digit would be 10 is not issued: AFIP gives such people another prefix).
  Typed ``20-12345678-6``, ``20123456786`` or ``20 12345678 6``. Mobiles ``+54 9 11 2345-6789``
  (E.164 puts a 9 before the area code of a mobile).
- Chile: RUT (companies, bodies from 76 million up) and RUN (people): a body and a verification
  digit, modulo 11 with weights 2 to 7 cycling from the right (11 gives 0, 10 gives K). Typed
  ``12.345.678-5``, ``12345678-5``, ``123456785``. Mobiles ``+56 9 1234 5678``.
- Mexico: RFC, four letters of a person's names (three of a company's), the date of birth (of
  incorporation) as YYMMDD, a two-character homoclave and the SAT's check character (modulo 11
  over the 12 characters before it, a company's padded with a leading space, weights 13 to 2;
  10 gives A). Typed ``GODE561231GR8``, in lower case, or spaced. Mobiles ``+52 55 1234 5678``.
- Brazil: CPF (people: nine digits and two check digits, each modulo 11 with weights 10..2 and
  11..2) and CNPJ (companies: eight digits, the branch ``0001``, two check digits with weights
  5..2 9..2 and 6..2 9..2). Typed ``123.456.789-09``, ``12345678909``, ``12.345.678/0001-95``.
  Mobiles ``+55 11 91234-5678``.

Phones are held in E.164 (``+5491123456789``): ``phone_as_typed`` writes them as people do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from puente.simulators import colombia as co


@dataclass(frozen=True, slots=True)
class Country:
    code: str  # ISO 3166-1 alpha-2
    name: str  # as the business's systems name it (Spanish)
    phone_code: str
    # (city, region, weight, area code of its phones)
    cities: tuple[tuple[str, str, int, str], ...]
    company_suffixes: tuple[str, ...]
    tax_id_label: tuple[str, str]  # what a person's and a company's tax id is called


COUNTRIES = {
    "AR": Country("AR", "Argentina", "54", (
        ("Buenos Aires", "Ciudad Autónoma de Buenos Aires", 10, "11"), ("Córdoba", "Córdoba", 3, "351"),
        ("Rosario", "Santa Fe", 2, "341"), ("Mendoza", "Mendoza", 2, "261")),
        ("S.A.", "S.R.L.", "S.A.S."), ("CUIL", "CUIT")),
    "CL": Country("CL", "Chile", "56", (
        ("Santiago", "Región Metropolitana", 10, "2"), ("Valparaíso", "Valparaíso", 2, "32"),
        ("Concepción", "Biobío", 2, "41"), ("Antofagasta", "Antofagasta", 1, "55")),
        ("SpA", "Ltda.", "S.A."), ("RUN", "RUT")),
    "MX": Country("MX", "México", "52", (
        ("Ciudad de México", "Ciudad de México", 10, "55"), ("Guadalajara", "Jalisco", 4, "33"),
        ("Monterrey", "Nuevo León", 4, "81"), ("Puebla", "Puebla", 2, "222")),
        ("S.A. de C.V.", "S. de R.L.", "S.A.S."), ("RFC", "RFC")),
    "BR": Country("BR", "Brasil", "55", (
        ("São Paulo", "São Paulo", 10, "11"), ("Rio de Janeiro", "Rio de Janeiro", 5, "21"),
        ("Belo Horizonte", "Minas Gerais", 2, "31"), ("Curitiba", "Paraná", 2, "41")),
        ("Ltda.", "S.A."), ("CPF", "CNPJ")),
}
# Of the business's foreign customers, the share from each country (an estimate: Colombia's
# neighbours in trade, Mexico and Brazil the largest economies, Chile and Argentina close behind).
COUNTRY_WEIGHTS = (("MX", 30), ("BR", 25), ("CL", 25), ("AR", 20))

BR_MALE_NAMES = [("João", 6), ("Pedro", 4), ("Lucas", 4), ("Gabriel", 3), ("Rafael", 3), ("Paulo", 2),
                 ("Thiago", 2), ("Bruno", 2), ("Felipe", 2), ("Gustavo", 2)]
BR_FEMALE_NAMES = [("Ana", 6), ("Maria", 6), ("Juliana", 3), ("Fernanda", 3), ("Beatriz", 3), ("Larissa", 2),
                   ("Camila", 2), ("Mariana", 2), ("Letícia", 2), ("Patrícia", 2)]
BR_SURNAMES = [("Silva", 9), ("Santos", 7), ("Oliveira", 6), ("Souza", 6), ("Rodrigues", 4), ("Ferreira", 4),
               ("Alves", 4), ("Pereira", 4), ("Lima", 3), ("Gomes", 3), ("Costa", 3), ("Ribeiro", 3),
               ("Martins", 2), ("Carvalho", 2), ("Almeida", 2), ("Araújo", 2), ("Conceição", 1), ("Gonçalves", 2)]
BR_COMPANY_KINDS = ["Distribuidora", "Comercial", "Importadora", "Café", "Restaurante", "Padaria", "Mercado"]
BR_COMPANY_WORDS = ["Paulista", "Central", "Boa Vista", "São Jorge", "Horizonte", "Atlântico", "Serra Verde"]


def country(code: str) -> Country:
    return COUNTRIES[code]


# ---------------------------------------------------------------------------- tax ids

def cuit_check_digit(body: str) -> int | None:
    """The check digit of a CUIT/CUIL's first ten digits, or None when the remainder gives none."""
    r = 11 - sum(int(d) * w for d, w in zip(body, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2), strict=True)) % 11
    return 0 if r == 11 else None if r == 10 else r


def rut_check_digit(body: str) -> str:
    """A RUT/RUN's verification digit, ``0``-``9`` or ``K``."""
    total = sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(body)))
    r = 11 - total % 11
    return "0" if r == 11 else "K" if r == 10 else str(r)


RFC_ALPHABET = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ"
HOMOCLAVE = "123456789ABCDEFGHIJKLMNPQRSTUVWXYZ"


def rfc_check_character(body: str) -> str:
    """The SAT's check character of an RFC's first 11 (company) or 12 (person) characters."""
    padded = body.rjust(12)
    r = sum(RFC_ALPHABET.index(ch) * (13 - i) for i, ch in enumerate(padded)) % 11
    return "0" if r == 0 else "A" if r == 1 else str(11 - r)


def cpf_check_digits(body: str) -> str:
    """The two check digits of a CPF's nine digits."""
    d1 = sum(int(d) * w for d, w in zip(body, range(10, 1, -1), strict=True)) * 10 % 11 % 10
    d2 = sum(int(d) * w for d, w in zip(body + str(d1), range(11, 1, -1), strict=True)) * 10 % 11 % 10
    return f"{d1}{d2}"


def _cnpj_digit(digits: str, weights: tuple[int, ...]) -> int:
    r = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    return 0 if r < 2 else 11 - r


def cnpj_check_digits(body: str) -> str:
    """The two check digits of a CNPJ's twelve digits."""
    d1 = _cnpj_digit(body, (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2))
    return f"{d1}{_cnpj_digit(body + str(d1), (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2))}"


def check_digits(code: str, company: bool, body: str) -> str:
    """The check digit(s) a body calls for (None for a CUIT body that gives none: ``""``)."""
    if code == "AR":
        digit = cuit_check_digit(body)
        return "" if digit is None else str(digit)
    if code == "CL":
        return rut_check_digit(body)
    if code == "MX":
        return rfc_check_character(body)
    return cnpj_check_digits(body) if company else cpf_check_digits(body)


def _rfc_letters(first: str, last1: str, last2: str, company: str | None) -> str:
    """The letters an RFC begins with: a person's first surname's initial and first inner vowel,
    the second surname's initial and the given name's; a company's first three words' initials."""
    def clean(text: str) -> str:
        return "".join(ch for ch in co.strip_accents(text).upper() if ch.isalpha() or ch == " ")
    if company:
        words = [w for w in clean(company).split() if w not in {"DE", "DEL", "LA", "LOS", "Y", "SA", "CV"}]
        letters = "".join(w[0] for w in words[:3])
        return (letters + "XXX")[:3]
    surname = clean(co.without_particle(last1)).replace(" ", "")
    vowel = next((ch for ch in surname[1:] if ch in "AEIOU"), "X")
    second = clean(co.without_particle(last2)).replace(" ", "") or "X"
    return surname[0] + vowel + second[0] + clean(first)[0]


def new_tax_id(rng: random.Random, code: str, company: bool, *, male: bool = True, first: str = "",
               last1: str = "", last2: str = "", company_name: str | None = None) -> str:
    """A tax id of ``code``'s country with valid check digit(s), in its compact form: a CUIT/CUIL's
    eleven digits, a RUT's body and DV (``12345678-5``), an RFC, a CPF's eleven digits or a CNPJ's
    fourteen."""
    if code == "AR":
        while True:
            prefix = rng.choice(("30", "33")) if company else ("20" if male else "27")
            body = prefix + f"{rng.randrange(10_000_000, 99_999_999) if company else rng.randrange(10_000_000, 45_000_000):08d}"
            digit = cuit_check_digit(body)
            if digit is not None:
                return f"{body}{digit}"
    if code == "CL":
        body = str(rng.randrange(76_000_000, 78_000_000) if company else rng.randrange(5_000_000, 26_000_000))
        return f"{body}-{rut_check_digit(body)}"
    if code == "MX":
        year, month, day = rng.randrange(0, 100), rng.randint(1, 12), rng.randint(1, 28)
        letters = _rfc_letters(first, last1, last2, company_name if company else None)
        body = f"{letters}{year:02d}{month:02d}{day:02d}{rng.choice(HOMOCLAVE)}{rng.choice(HOMOCLAVE)}"
        return body + rfc_check_character(body)
    if company:
        body = f"{rng.randrange(10_000_000, 99_999_999):08d}0001"
        return body + cnpj_check_digits(body)
    body = f"{rng.randrange(10_000_000, 999_999_999):09d}"
    return body + cpf_check_digits(body)


def split_tax_id(code: str, company: bool, tax_id: str) -> tuple[str, str]:
    """A compact tax id's body and its check digit(s)."""
    if code == "CL":
        body, _, dv = tax_id.partition("-")
        return body, dv
    cut = 2 if code == "BR" else 1
    return tax_id[:-cut], tax_id[-cut:]


def format_tax_id(code: str, company: bool, body: str, check: str, style: int) -> str:
    """A tax id (its body and check digits, valid or not) as people write it."""
    if code == "AR":
        return (f"{body[:2]}-{body[2:]}-{check}", f"{body}{check}", f"{body[:2]} {body[2:]} {check}")[style % 3]
    if code == "CL":
        dotted = f"{int(body):,}".replace(",", ".")
        return (f"{dotted}-{check}", f"{body}-{check}", f"{body}{check}", f"{dotted}-{check.lower()}")[style % 4]
    if code == "MX":
        spaced = f"{body[:-8]} {body[-8:-2]} {body[-2:]}{check}"
        return (f"{body}{check}", f"{body}{check}".lower(), spaced)[style % 3]
    if company:
        return (f"{body[:2]}.{body[2:5]}.{body[5:8]}/{body[8:]}-{check}", f"{body}{check}")[style % 2]
    return (f"{body[:3]}.{body[3:6]}.{body[6:]}-{check}", f"{body}{check}")[style % 2]


def canonical_tax_id(tax_id: str) -> str:
    """A tax id as typed, compact: upper case, digits and letters only (``20-12345678-6`` ->
    ``20123456786``, ``12.345.678-k`` -> ``12345678K``)."""
    return "".join(ch for ch in tax_id.upper() if ch.isalnum())


# ---------------------------------------------------------------------------- phones

def new_mobile(rng: random.Random, code: str, city: str | None = None) -> str:
    """A mobile number of ``code``'s country in E.164, with the area code of ``city`` (of a city
    drawn when None; two draws either way, as ``colombia.new_mobile``)."""
    c = COUNTRIES[code]
    area = rng.choice([row[3] for row in c.cities])
    area = next((row[3] for row in c.cities if row[0] == city), area)
    if code == "AR":  # a 9 before the area code; area and subscriber number are ten digits
        return f"+549{area}{rng.randrange(2 * 10 ** (9 - len(area)), 9 * 10 ** (9 - len(area)))}"
    if code == "CL":  # mobiles are 9 and eight digits, whatever the city
        return f"+569{rng.randrange(20_000_000, 69_000_000)}"  # (9 2… to 9 68…: blocks in use)
    if code == "MX":  # ten digits, the area code and the subscriber's (here 6 to 9 first: see is_landline)
        return f"+52{area}{rng.randrange(6 * 10 ** (9 - len(area)), 10 ** (10 - len(area)))}"
    return f"+55{area}9{rng.randrange(60_000_000, 100_000_000):08d}"  # BR: a 9 and eight digits


def new_landline(rng: random.Random, code: str, area: str) -> str:
    """A landline of ``code``'s country in E.164, in the city of ``area`` (one draw)."""
    digits = {"AR": 10, "CL": 9, "MX": 10, "BR": 10}[code] - len(area)
    top = 3 if code == "CL" else 6  # Chile's landlines begin with 2 after the area code
    return f"+{COUNTRIES[code].phone_code}{area}{rng.randrange(2 * 10 ** (digits - 1), top * 10 ** (digits - 1))}"


def is_landline(number: str) -> bool:
    """Whether a number in E.164 is a landline: Argentina's and Chile's mobiles have a 9 after
    the country code, Brazil's after the area code. Mexico's mobiles and landlines share one plan
    (ten digits since the IFT's 2019 reform; libphonenumber calls them FIXED_LINE_OR_MOBILE) and
    nothing in a real number tells them apart: this generator's own convention, its ground truth,
    gives landlines the subscriber numbers beginning 2 to 5 and mobiles 6 to 9."""
    if number.startswith("+54"):
        return not number.startswith("+549")
    if number.startswith("+56"):
        return not number.startswith("+569")
    if number.startswith("+55"):
        return number[5:6] != "9"
    if number.startswith("+52"):
        area = next((row[3] for row in COUNTRIES["MX"].cities if number[3:].startswith(row[3])), number[3:5])
        return number[3 + len(area)] in "2345"
    return False


# Mexican numbers typed the way dialling worked before the IFT's reform of August 2019, which
# dropped the prefixes: a mobile with the 1 that international calls to it carried (`+52 1 55 …`,
# kept for years by WhatsApp and by contact lists), or with 044 (a local call from a landline) or
# 045 (a long-distance one); a landline with 01 (long distance). No figure found of how many
# forms still hold them; a tenth of the Mexican numbers typed is our estimate.
MX_OLD_DIALLING_SHARE = 0.1


def mx_old_dialling(number: str, style: int) -> str:
    """A Mexican number in E.164 as typed before the 2019 reform (MX_OLD_DIALLING_SHARE): a mobile
    (is_landline false) ``+52 1 55 1234 5678``, ``521 5512345678``, ``044 55 1234 5678`` or
    ``045 33 1234 5678``; a landline ``01 55 1234 5678`` or ``01 (222) 123 4567``."""
    national = number.removeprefix("+52")
    area = next((city[3] for city in COUNTRIES["MX"].cities if national.startswith(city[3])), national[:2])
    local = national[len(area):]
    spaced = f"{area} {local[:-4]} {local[-4:]}"
    if is_landline(number):
        options: tuple[str, ...] = (f"01 {spaced}", f"01 ({area}) {local[:-4]} {local[-4:]}")
    else:
        options = (f"+52 1 {spaced}", f"521{national}", f"044 {spaced}", f"045 {spaced}")
    return options[style % len(options)]


def phone_as_typed(number: str, style: int) -> str:
    """A number held in E.164 as people write it: international with the country's spacing, E.164
    itself, or the national form its country's people type (``(11) 91234-5678``, ``9 1234 5678``,
    ``55 1234 5678``)."""
    c = next((c for c in COUNTRIES.values() if number.startswith("+" + c.phone_code)), None)
    if c is None:
        return number
    code, national = c.code, number[1 + len(c.phone_code):]
    if code == "AR":
        rest = national[1:] if national.startswith("9") else national  # without a mobile's 9
        area = next((city[3] for city in c.cities if rest.startswith(city[3])), rest[:2])
        local = rest[len(area):]
        spaced = f"+54 9 {area} {local[:-4]}-{local[-4:]}" if national.startswith("9") else f"+54 {area} {local[:-4]}-{local[-4:]}"
        options = (spaced, number, f"54 {national}", spaced.replace("-", " "))
    elif code == "CL":
        spaced = f"+56 {national[0]} {national[1:5]} {national[5:]}"
        options = (spaced, number, f"{national[0]} {national[1:5]} {national[5:]}", spaced.replace(" ", "", 1))
    elif code == "MX":
        area = next((city[3] for city in c.cities if national.startswith(city[3])), national[:2])
        local = national[len(area):]
        options = (f"+52 {area} {local[:-4]} {local[-4:]}", number, f"{area} {local[:-4]} {local[-4:]}",
                   f"+52 ({area}) {local[:-4]}-{local[-4:]}")
    else:
        area, local = national[:2], national[2:]
        options = (f"+55 {area} {local[:-4]}-{local[-4:]}", number, f"({area}) {local[:-4]}-{local[-4:]}",
                   f"+55 ({area}) {local[:-4]}-{local[-4:]}")
    return options[style % len(options)]


# ---------------------------------------------------------------------------- street addresses

# Streets are named, not numbered as Colombia's, and a door is the street's name and the door's
# number, then the unit (and in Mexico the neighbourhood, the colonia, which the post needs):
#   Argentina  Av. Corrientes 1234, piso 3 dto B
#   Chile      Av. Providencia 1234, depto 56
#   México     Av. Insurgentes Sur 1234 int. 5, Col. Del Valle
#   Brasil     Rua Augusta, 1234 - apto 56
# (type, name) of streets of each country's big cities (real names; a door is drawn on any of
# them in any city: the key is the door in its city).
STREETS = {
    "AR": (("Avenida", "Corrientes"), ("Avenida", "Santa Fe"), ("Avenida", "Rivadavia"), ("Avenida", "Cabildo"),
           ("Calle", "Lavalle"), ("Calle", "Tucumán"), ("Calle", "Viamonte"), ("Calle", "Paraguay"),
           ("Avenida", "San Martín"), ("Calle", "Belgrano")),
    "CL": (("Avenida", "Providencia"), ("Avenida", "Apoquindo"), ("Avenida", "Vicuña Mackenna"),
           ("Avenida", "Irarrázaval"), ("Calle", "Los Leones"), ("Calle", "Manuel Montt"), ("Avenida", "Grecia"),
           ("Calle", "Huérfanos"), ("Avenida", "Pedro de Valdivia"), ("Calle", "Agustinas")),
    "MX": (("Avenida", "Insurgentes Sur"), ("Avenida", "Revolución"), ("Avenida", "Universidad"), ("Calle", "Hidalgo"),
           ("Calle", "Morelos"), ("Avenida", "Álvaro Obregón"), ("Avenida", "Vallarta"), ("Calle", "Zaragoza"),
           ("Calle", "Allende"), ("Avenida", "Constitución")),
    "BR": (("Rua", "Augusta"), ("Avenida", "Paulista"), ("Rua", "Oscar Freire"), ("Rua", "Haddock Lobo"),
           ("Rua", "da Consolação"), ("Rua", "Barata Ribeiro"), ("Avenida", "Atlântica"), ("Rua", "Sete de Setembro"),
           ("Rua", "Marechal Deodoro"), ("Alameda", "Santos")),
}
COLONIAS = ("Del Valle", "Condesa", "Narvarte", "Polanco", "Centro", "Escandón", "Juárez", "Americana")
# how each street type is written (the first: in full)
STREET_TYPE_SPELLINGS = {"Avenida": ("Avenida", "Av.", "Av", "AV.", "Avda."), "Calle": ("Calle", ""),
                         "Rua": ("Rua", "R.", "R"), "Alameda": ("Alameda", "Al.")}
# how each country writes the number sign, when someone writes one
NUMBER_SIGNS = {"AR": ("N° ", "Nº ", "nro. "), "CL": ("Nº ", "N° ", "#"), "MX": ("#", "No. ", "Núm. "),
                "BR": ("nº ", "n° ", "Nº ")}


@dataclass(frozen=True, slots=True)
class Door:
    """A door abroad: the street (type and name), the door's number, the unit (Argentina a floor
    and a flat, ``(3, "B")``; elsewhere a number), in Mexico the colonia; ``office`` a company's."""

    country: str
    street_type: str  # a key of STREET_TYPE_SPELLINGS
    street: str
    number: int
    unit: tuple[int, str] | None = None
    colonia: str | None = None
    office: bool = False

    def __str__(self) -> str:
        return door_as_typed(random.Random(0), self, canonical=True)


def new_door(rng: random.Random, code: str, office: bool = False) -> Door:
    """A door of ``code``'s country: a street, a number, most homes and offices in a building a unit."""
    street_type, street = rng.choice(STREETS[code])
    number = rng.randint(10, 4999) if code != "BR" else rng.randint(10, 2999)
    unit = None
    if rng.random() < 0.6:
        unit = (rng.randint(1, 15), rng.choice("ABCDEF")) if code == "AR" else (rng.randint(1, 20) * (10 if code != "MX" else 1) + rng.randint(0, 9), "")
    return Door(code, street_type, street, number, unit, rng.choice(COLONIAS) if code == "MX" else None, office)


def door_as_typed(rng: random.Random, door: Door, canonical: bool = False) -> str:
    """A door abroad as one person types it: the street type in full, abbreviated or left out
    (``Avenida``, ``Av.``, none), now and then a number sign (``Nº``, ``n°``, ``#``), the unit
    in the country's words or left out, the colonia with ``Col.``, ``Colonia`` or left out;
    ``canonical``: the form in full."""
    c = door.country
    spellings = STREET_TYPE_SPELLINGS[door.street_type]
    street_type = spellings[0] if canonical else spellings[0] if rng.random() < 0.4 else rng.choice(spellings + ("",))
    street = f"{street_type} {door.street}".strip()
    sign = "" if canonical or rng.random() < 0.75 else rng.choice(NUMBER_SIGNS[c])
    unit = ""
    if door.unit is not None and (canonical or rng.random() < 0.75):
        a, b = door.unit
        if door.office:  # an office's unit: AR ``piso 3 of. B``, CL ``of. 56``, MX ``desp. 5``, BR ``sala 56``
            words = {"AR": (f", piso {a} of. {b}", f" piso {a} oficina {b}", f" {a}° {b}"),
                     "CL": (f", of. {a}", f" oficina {a}", f" Of {a}"),
                     "MX": (f" int. {a}", f" desp. {a}", f" despacho {a}"),
                     "BR": (f" - sala {a}", f", sala {a}", f" cj. {a}")}[c]
            unit = words[0] if canonical else rng.choice(words)
        elif c == "AR":
            unit = (f", piso {a} dto {b}" if canonical else
                    rng.choice((f", piso {a} dto {b}", f" piso {a} depto {b}", f" {a}° {b}", f", {a}{b}")))
        elif c == "CL":
            unit = f", depto {a}" if canonical else rng.choice((f", depto {a}", f" dpto. {a}", f" Depto {a}", f", dto. {a}"))
        elif c == "MX":
            unit = f" int. {a}" if canonical else rng.choice((f" int. {a}", f" Int {a}", f"-{a}", f" interior {a}"))
        else:
            unit = f" - apto {a}" if canonical else rng.choice((f" - apto {a}", f", ap. {a}", f" apto {a}", f", apartamento {a}"))
    if c == "BR":
        text = f"{street}, {sign}{door.number}{unit}" if canonical or rng.random() < 0.7 else f"{street} {sign}{door.number}{unit}"
    else:
        text = f"{street} {sign}{door.number}{unit}"
    if door.colonia and (canonical or rng.random() < 0.8):
        text += f", Col. {door.colonia}" if canonical else rng.choice((f", Col. {door.colonia}", f" Col. {door.colonia}",
                                                                       f", Colonia {door.colonia}"))
    if canonical:
        return text
    style = rng.random()
    return text.upper() if style < 0.1 else text.lower() if style < 0.2 else text
