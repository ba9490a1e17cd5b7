"""How people type other people into systems: the deliberate messiness of the simulated data.

The ERP's staff type full legal names, sometimes in capitals or without accents; salespeople
type "Juan P." or "juan perez" into the CRM; customers type themselves into the shop as they
please. Tax ids come as ``900.123.456-7`` or ``9001234567``, phones with and without ``+57``,
emails in odd capitals or not at all. Each function draws from the business's one random
generator, so the same seed always gives the same mess.

The variation real customer lists show, at the rates below (our estimates for a small Latin
American business whose staff and customers type every record by hand; change them here):

- tax ids: a NIT's verification digit mistyped, or two digits of its body swapped (its check
  digit then fails); a person's cédula written as a NIT with its verification digit
  (``79.123.456-1``), as people registered with the DIAN write it;
- foreign tax ids (the few customers from Argentina, Chile, Mexico, Brazil: population): a CUIT,
  RUT, RFC, CPF or CNPJ typed in its country's ways, its check digit mistyped or two neighbouring
  characters of its body swapped more often than a NIT's (staff seldom type one); their phones
  in the international form or their country's national one;
- e-mail addresses retyped by a salesperson or a web form: plus-addressing (``juan+tienda@…``),
  Gmail's dots, ``googlemail.com``, a slip in the provider's domain (``gmial.com``, ``gmail``,
  ``hotmail.con``), odd capitals;
- names: one of two given names used alone (the second, too), initials, accents and ñ dropped,
  a surname's particle (``de la Hoz``) dropped or capitalised, the second surname dropped, a
  company under its trade name or with its legal suffix written another way;
- phones: landlines as seven local digits, with the old one-digit area code or an extension;
  placeholders (``0000000``, ``1234567``) and the business's own number typed for a customer
  who gave none;
- postal addresses: the street type spelled out or abbreviated (``Calle``, ``Cl``, ``CL.``;
  ``Carrera``, ``Cra``, ``Kr``; ``Avenida``, ``Av``; ``Transversal``, ``Tv``; ``Diagonal``,
  ``Dg``), the number sign as ``#``, ``No.``, ``N°`` or nothing, the door with or without a
  dash, a letter apart (``38 A``), the apartment or office written several ways or left out,
  in capitals or lower case; abroad, the country's own form (latam.door_as_typed: ``Av.
  Corrientes 1234, piso 3 dto B``, ``Rua Augusta, 1234 - apto 56``) with the street type in
  full, abbreviated or left out, ``Nº``/``n°``/``#`` now and then, the unit or the colonia left
  out; the ERP holds one on almost every partner (electronic invoices
  need it), the shop on every account (it ships there), the CRM on a few contacts. Relatives
  share one, some staff give their office's, and a move changes it (population).

``record_variations`` names, for one record and the person behind it, the variations it shows:
the ground truth per variation class that ``bench/identity.py`` measures matching on.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from puente.simulators import colombia as co
from puente.simulators import latam

if TYPE_CHECKING:
    from puente.simulators.business.population import Person

PLACEHOLDER_PHONE_SHARE = 0.012  # a placeholder typed instead of the customer's number
BUSINESS_PHONE_SHARE = 0.008  # the business's own number typed for a customer
OLD_LANDLINE_STYLE_SHARE = 0.35  # a landline typed the old way (local digits, old area code, extension)
NIT_DV_SLIP_SHARE = 0.03  # a NIT's verification digit mistyped
NIT_SWAP_SHARE = 0.015  # two adjacent digits of a NIT's body swapped
# A foreign tax id (CUIT, RUT, RFC, CPF, CNPJ) typed by staff who rarely see one: its check
# digit mistyped, or two neighbouring characters of its body swapped (twice the NIT's rates: an
# estimate, for a format they do not know)
FOREIGN_CHECK_SLIP_SHARE = 0.06
FOREIGN_SWAP_SHARE = 0.03
PERSON_NIT_SHARE = 0.1  # a person's cédula written as a NIT with its verification digit
EMAIL_VARIANT_SHARE = 0.06  # an address retyped another way by a salesperson
EMAIL_VARIANT_SHARE_WEB_FORM = 0.25  # ... by the person on a web form (a duplicate contact)
SECOND_GIVEN_NAME_SHARE = 0.15  # someone with two given names goes by the second (population)
PARTICLE_VARIANT_SHARE = 0.5  # a surname with a particle typed without it or capitalised
TRADE_NAME_SHARE = 0.3  # the ERP's staff type a company's trade name instead of its legal name
COMPANY_SUFFIX_VARIANT_SHARE = 0.3  # a company's legal form written another way (SAS, S. A. S., none)
ERP_ADDRESS_SHARE = 0.92  # ERP partners with an address (the DIAN's e-invoice asks for the buyer's)
CRM_ADDRESS_SHARE = 0.3  # CRM contacts a salesperson gave an address
CRM_ADDRESS_SHARE_WEB_FORM = 0.1  # ... a duplicate contact from a web form or a fair list


def typed(rng: random.Random, text: str) -> str:
    """A name as people type it into a phone or a web form."""
    r = rng.random()
    if r < 0.5:
        return text
    if r < 0.75:
        return co.strip_accents(text)
    if r < 0.92:
        return co.strip_accents(text).lower()
    return text.upper()


def phone(rng: random.Random, number: str) -> str:
    """A phone number in one of the ways people write them (``+57 300 123 4567``, ``3001234567``,
    ``(1) 234 5678``, ``601 234 5678 ext. 112``…), now and then a placeholder or the business's
    own number instead."""
    r = rng.random()
    if r < PLACEHOLDER_PHONE_SHARE:
        return rng.choice(co.PLACEHOLDER_PHONES)
    if r < PLACEHOLDER_PHONE_SHARE + BUSINESS_PHONE_SHARE:
        return co.format_phone(co.BUSINESS_PHONE, rng.randrange(6))
    if number.startswith("+"):  # a foreign number, held in E.164 (the same draws as a Colombian one's)
        style = rng.randrange(5) if latam.is_landline(number) and rng.random() < OLD_LANDLINE_STYLE_SHARE else None
        style = rng.randrange(6) if style is None else style
        # a Mexican number with a prefix the 2019 reform dropped: drawn from a stream of its own
        # (the number and the draw above), so that the rest of the business stays as it was
        old = random.Random(f"{number}:{r}")
        if number.startswith("+52") and old.random() < latam.MX_OLD_DIALLING_SHARE:
            return latam.mx_old_dialling(number, old.randrange(4))
        return latam.phone_as_typed(number, style)
    if number.startswith("60") and rng.random() < OLD_LANDLINE_STYLE_SHARE:
        return co.landline_as_typed(number, rng.randrange(5))
    return co.format_phone(number, rng.randrange(6))


def tax_id(rng: random.Random, p: Person, channel: str = "") -> str:
    """The person's NIT or cédula in one of the ways people write it, now and then with a slip
    that its verification digit gives away. A foreign customer's is their country's
    (foreign_tax_id), typed from a stream of its own: the business's stream draws what it would
    have for the Colombian id the person was first drawn with, so the rest stays as it was. That
    stream is numbered per ``channel`` (the business's own ERP and CRM: ""; a store or marketplace
    by its name), so that a store's customers typing their ids never change the ERP's or the CRM's."""
    if p.country != "CO":
        _colombian_tax_id(rng, p.colombian_doc or p.doc, bool(p.company))
        p.tax_ids_typed[channel] += 1
        where = f"{channel}:" if channel else ""
        return foreign_tax_id(random.Random(f"{p.doc}:{p.id}:tax-id:{where}{p.tax_ids_typed[channel]}"), p)
    return _colombian_tax_id(rng, p.doc, bool(p.company))


def _colombian_tax_id(rng: random.Random, doc: str, company: bool) -> str:
    if not company and rng.random() >= PERSON_NIT_SHARE:
        return co.format_cedula(doc, rng.randrange(4))
    style = rng.randrange(3) if company else rng.randrange(2)  # a person's NIT always shows its dash
    r = rng.random()
    if r < NIT_DV_SLIP_SHARE:
        dv = co.nit_check_digit(doc)
        return co.format_nit(doc, style, dv=(dv + rng.randrange(1, 10)) % 10)
    if r < NIT_DV_SLIP_SHARE + NIT_SWAP_SHARE:
        i = rng.randrange(1, len(doc) - 1)
        swapped = doc[:i] + doc[i + 1] + doc[i] + doc[i + 2:]
        if swapped != doc:
            return co.format_nit(swapped, style, dv=co.nit_check_digit(doc))
    return co.format_nit(doc, style)


def foreign_tax_id(rng: random.Random, p: Person) -> str:
    """A foreign customer's tax id as typed, now and then with its check digit mistyped or two
    neighbouring characters of its body swapped (an RFC's only among its digits and homoclave:
    a letter swapped into its date would no longer look like an RFC at all, so among the digits of
    its date or the two characters of its homoclave)."""
    company = bool(p.company)
    body, check = latam.split_tax_id(p.country, company, p.doc)
    style = rng.randrange(4)
    r = rng.random()
    if r < FOREIGN_CHECK_SLIP_SHARE:
        wrong = check
        while wrong == check:
            wrong = check[:-1] + rng.choice("0123456789")
        check = wrong
    elif r < FOREIGN_CHECK_SLIP_SHARE + FOREIGN_SWAP_SHARE:
        i = (rng.choice([*range(len(body) - 8, len(body) - 3), len(body) - 2]) if p.country == "MX"
             else rng.randrange(0, len(body) - 1))
        body = body[:i] + body[i + 1] + body[i] + body[i + 2:]
    return latam.format_tax_id(p.country, company, body, check, style)


def erp_name(rng: random.Random, p: Person) -> str:
    """The legal name as the ERP's staff type it: companies often in capitals (or under their
    trade name), people now and then."""
    style = rng.random()
    name = p.legal_name
    if p.trade_name and rng.random() < TRADE_NAME_SHARE:
        name = p.trade_name
    elif p.company and rng.random() < COMPANY_SUFFIX_VARIANT_SHARE:
        name = co.company_suffix_variant(rng, name)
    if p.company and style < 0.5:
        return name.upper()
    if style < 0.1:
        return name.upper()
    if style < 0.15:
        return co.strip_accents(name)
    return name


def crm_names(rng: random.Random, p: Person) -> tuple[str, str | None]:
    """First and last name as a salesperson types them: "Juan Pérez", "Juan P.", "juan perez"…"""
    first, last = given_name(p), surname(rng, p.last1)
    style = rng.random()
    if style < 0.04 and " " in first:
        return ". ".join(name[0] for name in first.split()) + ".", last  # "J. C.", "Pérez"
    if style < 0.45:
        return first, last
    if style < 0.6:
        return first, f"{last} {surname(rng, p.last2)}"
    if style < 0.7:
        return first.split()[0], f"{last[0]}."
    if style < 0.82:
        return co.strip_accents(first).lower(), co.strip_accents(last).lower()
    if style < 0.92:
        return co.strip_accents(first), co.strip_accents(last)
    return f"{first} {last}", None


def crm_email(rng: random.Random, email: str | None, duplicate: bool) -> str | None:
    """The email as it reaches the CRM: often in odd capitals, now and then missing (more so on a
    duplicate contact from a web form or a fair list)."""
    if email and rng.random() < (EMAIL_VARIANT_SHARE_WEB_FORM if duplicate else EMAIL_VARIANT_SHARE):
        email = co.email_variant(rng, email)[0]
    if email and (duplicate or rng.random() < 0.25):
        email = co.email_case_variant(rng, email)
    if email and rng.random() < (0.3 if duplicate else 0.04):
        email = None
    return email


def address(p: Person, record: str, share: float = 1.0) -> str | None:
    """The person's address as typed on one of their records (``record`` names it, so that each
    record draws its own spelling from a stream of its own), or None for the ``1 - share`` of
    records left without one."""
    rng = random.Random(f"{p.doc}:{p.id}:{record}")
    if rng.random() >= share:
        return None
    return latam.door_as_typed(rng, p.street) if isinstance(p.street, latam.Door) else co.address_as_typed(rng, p.street)


def crm_company_name(rng: random.Random, company: str) -> str:
    """Salespeople rarely type the legal suffix."""
    if rng.random() < 0.5:
        return company.rsplit(" ", 1)[0].replace(" &", "").rstrip(" .")
    return company


def shop_names(rng: random.Random, p: Person) -> tuple[str, str]:
    """First and last name as a customer types them at checkout."""
    given = given_name(p)
    first = typed(rng, given.split()[0] if rng.random() < 0.4 else given)
    last1 = surname(rng, p.last1)
    last = typed(rng, f"{last1} {surname(rng, p.last2)}" if rng.random() < 0.3 else last1)
    return first, last


def given_name(p: Person) -> str:
    """The given names as typed outside the ERP's legal name: the name the person goes by
    (``Fernanda`` for someone who never uses the ``María`` of ``María Fernanda``)."""
    return p.goes_by or p.first


def surname(rng: random.Random, name: str) -> str:
    """A surname as typed: one with a particle now and then without it (``Hoz``) or with
    capitals (``De La Hoz``)."""
    if co.has_particle(name) and rng.random() < PARTICLE_VARIANT_SHARE:
        return co.without_particle(name) if rng.random() < 0.5 else name.title()
    return name


def typo(rng: random.Random, text: str) -> str:
    """``text`` with one slip of the fingers: two letters swapped, one dropped or one doubled."""
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    if len(letters) < 3:
        return text
    i = rng.choice(letters[1:-1])  # people rarely get the first letter wrong
    slip = rng.randrange(3) if text[i + 1].isalpha() else rng.randrange(1, 3)  # a swap stays inside a word
    if slip == 0:
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    if slip == 1:
        return text[:i] + text[i + 1:]
    return text[:i] + text[i] + text[i:]


def wrong_quantity(rng: random.Random, quantity: int) -> int:
    """A quantity mistyped: one less (never zero), one more, or with a zero too many (10 for 1)."""
    if quantity > 1 and rng.random() < 0.5:
        return quantity - 1
    return quantity + 1 if rng.random() < 0.7 else quantity * 10


# ---------------------------------------------------------------------------- ground truth

VARIATION_CLASSES = (
    # tax ids
    "tax_id_doubtful", "tax_id_person_nit", "tax_id_foreign",
    # e-mail addresses
    "email_plus", "email_gmail_dots", "email_provider_alias", "email_domain_typo", "email_case",
    # names
    "name_two_given", "name_second_given_alone", "name_initials", "name_accents", "name_particle",
    "name_dropped_surname", "company_suffix", "company_trade_name",
    # people who move and change phones; who share a mailbox, an office line, a door, a building
    # (unrelated customers, a unit each) or a name
    "moved", "moved_within_city", "new_phone", "family_mailbox", "shared_office_phone", "shared_address",
    "shared_building", "namesake",
    # phones
    "phone_landline_format", "phone_placeholder", "business_phone",
    # customers from another country of the region: their phones, cities and countries
    "foreign_customer",
)


def _fields(system: str, record: dict) -> dict[str, object]:
    """Name, email, phones, tax id and city of a customer record in its system's wire shape."""
    if system == "odoo":
        return {"name": record.get("name") or "", "email": record.get("email") or None,
                "phones": [v for v in (record.get("phone"), record.get("mobile")) if v],
                "tax_id": record.get("vat") or None, "city": record.get("city")}
    if system == "hubspot":
        props = record["properties"]
        return {"name": " ".join(v for v in (props.get("firstname"), props.get("lastname")) if v),
                "email": props.get("email"), "phones": [v for v in (props.get("phone"), props.get("mobilephone")) if v],
                "tax_id": props.get("tax_id"), "city": props.get("city")}
    if system == "tiendanube":
        return {"name": record.get("name") or "", "email": record.get("email"),
                "phones": [v for v in (record.get("phone"), record.get("billing_phone")) if v],
                "tax_id": record.get("identification") or None, "city": record.get("billing_city")}
    if system == "woocommerce":
        billing = record.get("billing") or {}
        return {"name": " ".join(v for v in (record.get("first_name"), record.get("last_name")) if v),
                "email": record.get("email"), "phones": [billing["phone"]] if billing.get("phone") else [],
                "tax_id": None, "city": billing.get("city")}
    if system == "salesforce":  # a Contact or a Lead
        return {"name": " ".join(v for v in (record.get("FirstName"), record.get("LastName")) if v),
                "email": record.get("Email"), "phones": [v for v in (record.get("Phone"), record.get("MobilePhone")) if v],
                "tax_id": record.get("Tax_Id__c") or None, "city": record.get("MailingCity") or record.get("City")}
    if system == "mercadolibre":  # a buyer, seen through a sale as it lands: its billing data and shipment beside it
        buyer, billing = record.get("buyer") or {}, record.get("billing_info") or {}
        return {"name": " ".join(v for v in (buyer.get("first_name"), buyer.get("last_name")) if v), "email": None,
                "phones": [], "tax_id": billing.get("doc_number") or None,
                "city": (record.get("shipment") or {}).get("receiver_city")}
    address = record.get("default_address") or {}
    note = record.get("note")
    return {"name": " ".join(v for v in (record.get("first_name"), record.get("last_name")) if v),
            "email": record.get("email"), "phones": [v for v in (record.get("phone"), address.get("phone")) if v],
            "tax_id": note.split(" ", 1)[1] if note else None, "city": address.get("city")}


def _email_class(typed: str, real: str) -> str | None:
    if typed == real:
        return None
    lowered = typed.strip().lower()
    if lowered == real:
        return "email_case"
    local, _, domain = lowered.partition("@")
    real_local, _, real_domain = real.partition("@")
    if "+" in local and local.split("+", 1)[0] == real_local and domain == real_domain:
        return "email_plus"
    if domain == real_domain and local.replace(".", "") == real_local.replace(".", ""):
        return "email_gmail_dots"
    if domain == "googlemail.com" and real_domain == "gmail.com" and local == real_local:
        return "email_provider_alias"
    return "email_domain_typo" if local == real_local else "email_other"


def _words(text: str) -> list[str]:
    return co.strip_accents(text).lower().replace(".", " ").split()


def record_variations(p: Person, system: str, record: dict) -> set[str]:
    """The variation classes (VARIATION_CLASSES) a customer record of ``p`` shows: those of the
    person (a move, a shared mailbox, ...) and those of how this record was typed, found by
    comparing it with who ``p`` really is."""
    found = set(p.variations)
    f = _fields(system, record)
    name = str(f["name"])
    if p.company and system == "odoo":
        if p.trade_name and co.strip_accents(name).lower() == co.strip_accents(p.trade_name).lower():
            found.add("company_trade_name")
        elif name.lower() != p.company.lower():
            found.add("company_suffix")
    elif name:
        words, given = _words(name), _words(p.first)
        if len(given) > 1:
            found.add("name_two_given")
            if given[1] in words and given[0] not in words:
                found.add("name_second_given_alone")
        if any(len(w) == 1 for w in words):
            found.add("name_initials")
        if p.legal_name != co.strip_accents(p.legal_name) and name == co.strip_accents(name):
            found.add("name_accents")
        if co.has_particle(p.last1) or co.has_particle(p.last2):
            found.add("name_particle")
        if _words(co.without_particle(p.last2))[-1] not in words:
            found.add("name_dropped_surname")
    if f["email"] and p.email:
        kind = _email_class(str(f["email"]), p.email)
        if kind and kind != "email_other":
            found.add(kind)
    for typed_phone in map(str, f["phones"]):  # type: ignore[call-overload]
        digits = "".join(ch for ch in typed_phone if ch.isdigit())
        if typed_phone in co.PLACEHOLDER_PHONES:
            found.add("phone_placeholder")
        elif digits.endswith(co.BUSINESS_PHONE):
            found.add("business_phone")
        elif p.country != "CO":
            continue
        elif "ext" in typed_phone or " x" in typed_phone or typed_phone[:3] in {f"({d})" for d in "1245678"} \
                or len(digits) in (7, 9):
            found.add("phone_landline_format")
    if f["tax_id"] and p.country != "CO":
        found.add("tax_id_foreign")
        if latam.canonical_tax_id(str(f["tax_id"])) != latam.canonical_tax_id(p.doc):
            found.add("tax_id_doubtful")
    elif f["tax_id"]:
        digits = "".join(ch for ch in str(f["tax_id"]) if ch.isdigit())
        right = p.doc + str(co.nit_check_digit(p.doc))
        if digits not in (p.doc, right):
            found.add("tax_id_doubtful")
        elif not p.company and digits == right:
            found.add("tax_id_person_nit")
    return found
