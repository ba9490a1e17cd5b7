"""Colombian reference data and the ways people type it: names, cities, tax ids, phones, emails.

Everything here is a pure function of its arguments and a ``random.Random``, so the generator
stays deterministic. The formats follow Colombian practice:

- NIT (company tax id): nine digits plus a verification digit (DV) computed with DIAN's
  modulo-11 algorithm (weights 3, 7, 13, … 71 from the rightmost digit; remainder 0 or 1 is the
  digit itself, otherwise 11 minus the remainder). Typed as ``900.123.456-7``, ``900123456-7``
  or ``9001234567``.
- Cédula de ciudadanía (a person's id): 8 digits for older ones, 10 for those issued since
  about 2003; typed as ``CC 1020304050``, ``1020304050`` or ``79.123.456``.
- Mobile numbers: ten digits starting with 3 (``3001234567``), written with or without the
  country code ``+57`` and in several spacings; shops store them in E.164 (``+573001234567``).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

NIT_WEIGHTS = (3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71)

# (name, relative weight): a few very common names make namesakes happen as they do in life.
MALE_NAMES = [
    ("Juan", 9), ("Carlos", 7), ("Luis", 6), ("José", 6), ("Andrés", 5), ("Jorge", 4), ("Diego", 4),
    ("Alejandro", 4), ("Santiago", 4), ("Sebastián", 3), ("Felipe", 3), ("Julián", 3), ("Camilo", 3),
    ("Mateo", 2), ("Nicolás", 2), ("Óscar", 2), ("Héctor", 2), ("Germán", 2), ("Martín", 2),
    ("Iván", 2), ("Jesús", 2), ("Ramón", 1), ("Hernán", 1), ("Fabián", 1), ("Rubén", 1), ("Víctor", 1),
    ("Mauricio", 2), ("Ricardo", 2), ("Fernando", 2), ("Gustavo", 1), ("Álvaro", 1), ("Edwin", 1),
]
FEMALE_NAMES = [
    ("María", 9), ("Ana", 5), ("Luz", 4), ("Diana", 4), ("Paola", 3), ("Natalia", 3), ("Daniela", 4),
    ("Valentina", 4), ("Camila", 4), ("Sofía", 3), ("Laura", 4), ("Carolina", 3), ("Andrea", 3),
    ("Mónica", 2), ("Ángela", 2), ("Lucía", 2), ("Patricia", 2), ("Sandra", 2), ("Claudia", 2),
    ("Gloria", 1), ("Marta", 1), ("Beatriz", 1), ("Yolanda", 1), ("Liliana", 2), ("Juliana", 2),
    ("Catalina", 2), ("Isabel", 1), ("Adriana", 2), ("Marcela", 2), ("Jimena", 1), ("Inés", 1),
]
# Second given names that commonly follow the first ("Juan Carlos", "María Fernanda").
MALE_MIDDLE_NAMES = ["Carlos", "David", "Pablo", "Camilo", "José", "Esteban", "Manuel", "Antonio"]
FEMALE_MIDDLE_NAMES = ["Fernanda", "Alejandra", "Isabel", "Andrea", "Cristina", "Eugenia", "Paula"]
SURNAMES = [
    ("Rodríguez", 9), ("Gómez", 8), ("González", 8), ("Martínez", 7), ("García", 7), ("López", 7),
    ("Hernández", 6), ("Sánchez", 6), ("Ramírez", 6), ("Pérez", 6), ("Díaz", 5), ("Muñoz", 5),
    ("Rojas", 5), ("Moreno", 5), ("Jiménez", 4), ("Vargas", 4), ("Castro", 4), ("Gutiérrez", 4),
    ("Ortiz", 3), ("Álvarez", 3), ("Suárez", 3), ("Torres", 3), ("Romero", 3), ("Ruiz", 3),
    ("Valencia", 2), ("Quintero", 2), ("Cárdenas", 2), ("Restrepo", 2), ("Ospina", 2), ("Zapata", 2),
    ("Mejía", 2), ("Londoño", 2), ("Córdoba", 2), ("Parra", 2), ("Salazar", 2), ("Acosta", 2),
    ("Peña", 2), ("Ríos", 2), ("Ortega", 1), ("Patiño", 1), ("Cifuentes", 1), ("Buitrago", 1),
    ("Giraldo", 2), ("Arango", 1), ("Cortés", 1), ("Beltrán", 1), ("Camacho", 1), ("Núñez", 1),
    ("Ibáñez", 1), ("Peñaloza", 1), ("Castañeda", 1), ("Muñetón", 1),
    # surnames with a particle, typed with it or without it ("de la Hoz", "De La Hoz", "Hoz")
    ("de la Hoz", 1), ("del Castillo", 1), ("de León", 1), ("de Ávila", 1), ("de la Cruz", 1),
]
PARTICLES = ("de la ", "del ", "de los ", "de las ", "de ")
# (city, department, weight, landline area indicative since the 2021 numbering plan)
CITIES = [
    ("Bogotá", "Bogotá D.C.", 30, "601"), ("Medellín", "Antioquia", 14, "604"),
    ("Cali", "Valle del Cauca", 11, "602"), ("Barranquilla", "Atlántico", 7, "605"),
    ("Cartagena", "Bolívar", 5, "605"), ("Bucaramanga", "Santander", 5, "607"),
    ("Pereira", "Risaralda", 4, "606"), ("Manizales", "Caldas", 3, "606"),
    ("Ibagué", "Tolima", 3, "608"), ("Cúcuta", "Norte de Santander", 3, "607"),
    ("Villavicencio", "Meta", 2, "608"), ("Pasto", "Nariño", 2, "602"),
    ("Santa Marta", "Magdalena", 2, "605"), ("Armenia", "Quindío", 2, "606"),
    ("Neiva", "Huila", 2, "608"), ("Chía", "Cundinamarca", 2, "601"),
    ("Envigado", "Antioquia", 2, "604"), ("Soacha", "Cundinamarca", 1, "601"),
]
STREET_TYPES = ["Calle", "Carrera", "Avenida", "Transversal", "Diagonal"]
COMPANY_KINDS = ["Distribuciones", "Comercializadora", "Inversiones", "Ferretería", "Panadería",
                 "Restaurante", "Hotel", "Droguería", "Almacén", "Café", "Cafetería", "Papelería",
                 "Suministros", "Mercados", "Casa"]
COMPANY_WORDS = ["del Valle", "Andina", "La Esperanza", "El Progreso", "Santa Fe", "La 80",
                 "San José", "El Dorado", "Los Andes", "del Caribe", "La Sabana", "El Poblado",
                 "Chapinero", "La Candelaria", "Cafetera", "Pacífico", "Orinoquía", "Montaña"]
COMPANY_SUFFIXES = ["S.A.S.", "SAS", "Ltda.", "S.A.S", "& Cía. S.A.S."]
# The business's own line (the shop's contact number), which staff type for customers who gave none.
BUSINESS_PHONE = "6017432100"
# What people type when a form insists on a phone they will not give.
PLACEHOLDER_PHONES = ("0000000", "1234567", "3000000000", "1111111111", "123456789")
# Trade names companies are known by, beside their legal names.
TRADE_NAMES = ["Ferretería", "Droguería", "Panadería", "Café", "Papelería", "Minimercado", "Almacén",
               "Distribuidora", "Cafetería", "Tienda"]
# Before the 2021 numbering plan a landline was a one-digit area code and seven digits
# (Bogotá "1 234 5678"); since then "601 234 5678". Indicative -> old area digit.
OLD_AREA_DIGITS = {"601": "1", "602": "2", "604": "4", "605": "5", "606": "6", "607": "7", "608": "8"}
FREE_MAIL = [("gmail.com", 62), ("hotmail.com", 17), ("yahoo.com", 7), ("outlook.com", 9),
             ("yahoo.es", 2), ("live.com", 3)]


def weighted(rng: random.Random, table: list[tuple]) -> tuple:
    """One row of ``table`` (rows whose second item is the weight; CITIES' third)."""
    idx = 2 if len(table[0]) == 4 else 1
    return rng.choices(table, weights=[row[idx] for row in table])[0]


def strip_accents(text: str) -> str:
    """``"José Muñoz"`` → ``"Jose Munoz"``: how names look when typed on a phone in a hurry."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def nit_check_digit(number: str) -> int:
    """DIAN's verification digit (DV) of a NIT or cédula given as digits (at most 15)."""
    if not number.isdigit() or len(number) > len(NIT_WEIGHTS):
        raise ValueError(f"a NIT is 1 to 15 digits, got {number!r}")
    total = sum(int(d) * w for d, w in zip(reversed(number), NIT_WEIGHTS, strict=False))
    remainder = total % 11
    return remainder if remainder < 2 else 11 - remainder


def new_nit(rng: random.Random) -> str:
    """Nine digits of a company NIT (companies get 800… and 900… numbers)."""
    return str(rng.choice((8, 9))) + f"{rng.randrange(0, 100_000_000):08d}"


def new_cedula(rng: random.Random) -> str:
    """A cédula: 8 digits for older ones, 10 (starting 10…) for recent ones."""
    if rng.random() < 0.6:
        return str(rng.randrange(10_000_000, 99_999_999))
    return str(rng.randrange(1_000_000_000, 1_150_000_000))


def _thousands(digits: str) -> str:
    return f"{int(digits):,}".replace(",", ".")


def format_nit(nit: str, style: int, dv: int | None = None) -> str:
    """A NIT with its DV as people type it: ``900.123.456-7``, ``900123456-7``, ``9001234567``
    (``dv`` given: that digit instead of the right one, as a slip of the fingers writes it)."""
    dv = nit_check_digit(nit) if dv is None else dv
    return (f"{_thousands(nit)}-{dv}", f"{nit}-{dv}", f"{nit}{dv}")[style % 3]


def format_cedula(cedula: str, style: int) -> str:
    """A cédula as typed: ``CC 1020304050``, ``1020304050``, ``1.020.304.050``, ``C.C. 79.123.456``."""
    return (f"CC {cedula}", cedula, _thousands(cedula), f"C.C. {_thousands(cedula)}")[style % 4]


def new_mobile(rng: random.Random) -> str:
    """Ten digits of a Colombian mobile number (operators' 300–324 and 350–351 blocks)."""
    prefix = rng.choice([300, 301, 302, 304, 305, 310, 311, 312, 313, 314, 315, 316, 317, 318,
                         319, 320, 321, 322, 323, 324, 350, 351])
    return f"{prefix}{rng.randrange(0, 10_000_000):07d}"


def new_landline(rng: random.Random, indicative: str) -> str:
    """Ten digits of a landline: the area indicative (601 Bogotá…) and seven digits."""
    return f"{indicative}{rng.randrange(2_000_000, 8_000_000):07d}"


def landline_as_typed(digits: str, style: int) -> str:
    """A landline (``601`` + seven digits) written the old ways: the seven local digits alone
    (``234 5678``), the pre-2021 area code (``(1) 234 5678``), or with an office extension
    (``601 234 5678 ext. 112``)."""
    local = f"{digits[3:6]} {digits[6:]}"
    area = OLD_AREA_DIGITS.get(digits[:3], digits[2])
    return (local, f"({area}) {local}", f"0{area} {digits[3:]}",
            f"{digits[:3]} {local} ext. {100 + int(digits[-2:])}", f"{digits} x{int(digits[-3:]) % 90 + 10}")[style % 5]


def format_phone(digits: str, style: int) -> str:
    """A ten-digit number as written: ``+57 300 123 4567``, ``3001234567``, ``(300) 123-4567``, …"""
    a, b, c = digits[:3], digits[3:6], digits[6:]
    return (f"+57 {a} {b} {c}", digits, f"({a}) {b}-{c}", f"{a} {b} {c}", f"+57{digits}",
            f"57 {digits}")[style % 6]


def e164(digits: str) -> str:
    """How Shopify stores a phone: normalised to E.164 (``+573001234567``; a foreign number, held
    in E.164 already, as it is)."""
    return digits if digits.startswith("+") else f"+57{digits}"


def email_local_part(rng: random.Random, first: str, last: str) -> str:
    """A mailbox name made from a person's name: ``juan.perez``, ``jperez84``, ``perezjuan``."""
    f = strip_accents(first.split()[0]).lower()
    la = strip_accents(last.split()[0]).lower().replace(" ", "")
    style = rng.randrange(6)
    if style == 0:
        return f"{f}.{la}"
    if style == 1:
        return f"{f[0]}{la}{rng.randrange(60, 100)}"
    if style == 2:
        return f"{f}{la}{rng.randrange(1, 999)}"
    if style == 3:
        return f"{la}.{f}"
    if style == 4:
        return f"{f}_{la}{rng.randrange(10, 99)}"
    return f"{f}{la}"


def company_domain(name: str) -> str:
    """``"Ferretería El Progreso"`` → ``"ferreteriaelprogreso.com.co"``."""
    word = "".join(ch for ch in strip_accents(name).lower() if ch.isalnum())
    return f"{word[:24]}.com.co"


def email_case_variant(rng: random.Random, email: str) -> str:
    """The same address as typed by someone else: capitalised, all caps, or with stray spaces."""
    local, _, domain = email.partition("@")
    style = rng.randrange(4)
    if style == 0:
        return f"{local.capitalize()}@{domain.capitalize()}"
    if style == 1:
        return email.upper()
    if style == 2:
        return f" {email} "
    return ".".join(part.capitalize() for part in local.split(".")) + "@" + domain


GMAIL_DOMAINS = ("gmail.com", "googlemail.com")


def mailbox(email: str) -> str:
    """The mailbox an address reaches: Gmail ignores dots in the local part and treats
    googlemail.com as gmail.com, so it never hands out ``mariaruiz@`` beside ``maria.ruiz@``."""
    local, _, domain = email.lower().partition("@")
    if domain in GMAIL_DOMAINS:
        return f"{local.replace('.', '')}@gmail.com"
    return f"{local}@{domain}"


def email_variant(rng: random.Random, email: str) -> tuple[str, str]:
    """The same mailbox written another way, and which way: ``plus`` (``juan+tienda@…``, the
    provider delivers it to ``juan@…``), ``dots`` (Gmail ignores dots in the local part),
    ``alias`` (``googlemail.com`` for ``gmail.com``), or, for a big mail provider's address,
    ``domain_typo`` (a dropped, doubled or swapped letter of the domain, or its ``.com`` missing
    or mistyped)."""
    local, _, domain = email.partition("@")
    providers = {row[0] for row in FREE_MAIL}
    kinds = ["plus"] + (["domain_typo"] if domain in providers else []) + (["dots", "alias"] if domain in GMAIL_DOMAINS else [])
    kind = rng.choice(kinds)
    if kind == "plus":
        return f"{local}+{rng.choice(('tienda', 'compras', 'web', 'promo', 'casaandina'))}@{domain}", kind
    if kind == "dots":
        bare = local.replace(".", "")
        if bare != local:
            return f"{bare}@{domain}", kind
        cut = rng.randrange(1, len(bare)) if len(bare) > 1 else 1
        return f"{bare[:cut]}.{bare[cut:]}@{domain}", kind
    if kind == "alias":
        return f"{local}@googlemail.com", kind
    return f"{local}@{domain_typo(rng, domain)}", kind


def domain_typo(rng: random.Random, domain: str) -> str:
    """A slip in a mail provider's domain: ``gmial.com``, ``gmal.com``, ``gmaill.com``,
    ``gmail``, ``gmail.co``, ``hotmail.con``."""
    name, _, suffix = domain.partition(".")
    slip = rng.randrange(5) if suffix == "com" else rng.randrange(4)
    if slip == 3:
        return name
    if slip == 4:
        return f"{name}.{rng.choice(('co', 'con', 'cm'))}"
    i = rng.randrange(1, len(name) - 1)
    if slip == 0:
        name = name[:i] + name[i + 1] + name[i] + name[i + 2:]
    elif slip == 1:
        name = name[:i] + name[i + 1:]
    else:
        name = name[:i] + name[i] + name[i:]
    return f"{name}.{suffix}"


def company_suffix_variant(rng: random.Random, name: str) -> str:
    """A company's legal name with its legal form written another way: ``S.A.S.`` as ``SAS``,
    ``S. A. S.`` or left out, ``Ltda.`` as ``LTDA`` or ``Limitada``."""
    for suffix in sorted((*COMPANY_SUFFIXES, *FOREIGN_SUFFIX_SPELLINGS), key=len, reverse=True):
        if name.endswith(" " + suffix):
            body = name[: -len(suffix) - 1]
            kind = "Ltda" if "Ltda" in suffix else "SAS" if suffix in COMPANY_SUFFIXES else suffix
            options = {"SAS": ("SAS", "S.A.S.", "S. A. S.", "sas", ""), "Ltda": ("LTDA", "Limitada", "Ltda", ""),
                       **FOREIGN_SUFFIX_SPELLINGS}[kind]
            return f"{body} {rng.choice(options)}".rstrip()
    return name


# The legal forms of the region's other countries (a foreign customer's: latam), written other ways.
FOREIGN_SUFFIX_SPELLINGS = {
    "S.A.": ("SA", "S. A.", "sa", ""), "S.R.L.": ("SRL", "S. R. L.", "srl", ""), "SpA": ("SPA", "S.p.A.", ""),
    "S.A. de C.V.": ("SA de CV", "S.A. DE C.V.", "SA DE CV", ""), "S. de R.L.": ("S de RL", "S. DE R.L.", ""),
}


def without_particle(surname: str) -> str:
    """``"de la Hoz"`` → ``"Hoz"``: a surname typed without its particle."""
    lowered = surname.lower()
    for particle in PARTICLES:
        if lowered.startswith(particle):
            return surname[len(particle):]
    return surname


def has_particle(surname: str) -> bool:
    return without_particle(surname) != surname


# ---------------------------------------------------------------------------- postal addresses
# A Colombian urban address names the street the door is on (its type and number), the cross
# street nearest to it and the metres from that corner: "Calle 38 # 12-45" is the door 45 m
# from Carrera 12 on Calle 38. Street numbers may carry a letter ("38A") and the door a unit
# (an apartment, an office). Everyone writes the street type their own way.
STREET_TYPE_SPELLINGS = {
    "Calle": ("Calle", "Cl", "Cl.", "CL", "Cll", "Cll.", "Clle"),
    "Carrera": ("Carrera", "Cra", "Cra.", "Kr", "KR", "Kra", "Cr"),
    "Avenida": ("Avenida", "Av", "Av.", "AV", "Avda"),
    "Transversal": ("Transversal", "Tv", "Tv.", "TV", "Transv", "Tr"),
    "Diagonal": ("Diagonal", "Dg", "Dg.", "DG", "Diag"),
}
HOME_UNITS = (("Apartamento", "Apto", "Apto.", "Apt", "Ap"), ("Interior", "Int", "Int."), ("Casa", "Cs"))
OFFICE_UNITS = (("Oficina", "Of", "Of."), ("Local", "Lc", "Loc"), ("Bodega", "Bod"))


@dataclass(frozen=True, slots=True)
class Address:
    """A door: street type and number, cross street, metres from the corner, and a unit."""

    street_type: str  # a key of STREET_TYPE_SPELLINGS
    street: str  # "38", "38A"
    cross: str  # "12", "12B"
    door: int
    unit: tuple[int, int] | None = None  # (index in HOME_UNITS or OFFICE_UNITS, number)
    office: bool = False

    def __str__(self) -> str:
        text = f"{self.street_type} {self.street} # {self.cross}-{self.door}"
        if self.unit is not None:
            kind, number = self.unit
            text += f" {(OFFICE_UNITS if self.office else HOME_UNITS)[kind][0]} {number}"
        return text


def new_address(rng: random.Random, street_type: str, street: int, cross: int, door: int, office: bool) -> Address:
    """A door in a city; the letters of the street numbers and the unit drawn from ``rng``."""
    def lettered(number: int) -> str:
        return f"{number}{rng.choice('ABCD')}" if rng.random() < 0.15 else str(number)
    unit = None
    if rng.random() < (0.5 if office else 0.45):
        kind = rng.randrange(len(OFFICE_UNITS if office else HOME_UNITS))
        unit = (kind, rng.randint(1, 20) * 100 + rng.randint(1, 4) if kind == 0 else rng.randint(1, 30))
    return Address(street_type, lettered(street), lettered(cross), door, unit, office)


def address_as_typed(rng: random.Random, address: Address) -> str:
    """The address as one person types it: ``Calle 38A # 12-45 Apto 301``, ``Cl 38a 12 45``,
    ``CL. 38 A N° 12 - 45``, ``KR 7 #12B-10 Of 402``; the unit now and then left out."""
    street_type = rng.choice(STREET_TYPE_SPELLINGS[address.street_type])
    if rng.random() < 0.2:  # the letter of a street number set apart, or in lower case
        street, cross = (n[:-1] + " " + n[-1] if n[-1].isalpha() else n for n in (address.street, address.cross))
    else:
        street, cross = address.street, address.cross
    if rng.random() < 0.15:
        street, cross = street.lower(), cross.lower()
    number_sign = rng.choice(("# ", "#", "No. ", "No ", "N° ", "Nro ", ""))
    dash = rng.choice(("-", "-", " - ", " "))
    text = f"{street_type} {street} {number_sign}{cross}{dash}{address.door}"
    if address.unit is not None and rng.random() < 0.8:
        kind, number = address.unit
        spelling = rng.choice((OFFICE_UNITS if address.office else HOME_UNITS)[kind])
        text += rng.choice((" ", ", ", " - ")) + f"{spelling} {number}"
    style = rng.random()
    return text.upper() if style < 0.2 else text.lower() if style < 0.3 else text
