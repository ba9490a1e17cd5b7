"""How people type other people into systems: the deliberate messiness of the simulated data.

The ERP's staff type full legal names, sometimes in capitals or without accents; salespeople
type "Juan P." or "juan perez" into the CRM; customers type themselves into the shop as they
please. Tax ids come as ``900.123.456-7`` or ``9001234567``, phones with and without ``+57``,
emails in odd capitals or not at all. Each function draws from the business's one random
generator, so the same seed always gives the same mess.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from puente.simulators import colombia as co

if TYPE_CHECKING:
    from puente.simulators.business.population import Person


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
    """A phone number in one of the ways people write them (``+57 300 123 4567``, ``3001234567``…)."""
    return co.format_phone(number, rng.randrange(6))


def tax_id(rng: random.Random, p: Person) -> str:
    """The person's NIT or cédula in one of the ways people write it."""
    return co.format_nit(p.doc, rng.randrange(3)) if p.company else co.format_cedula(p.doc, rng.randrange(4))


def erp_name(rng: random.Random, p: Person) -> str:
    """The legal name as the ERP's staff type it: companies often in capitals, people now and then."""
    style = rng.random()
    name = p.legal_name
    if p.company and style < 0.5:
        return name.upper()
    if style < 0.1:
        return name.upper()
    if style < 0.15:
        return co.strip_accents(name)
    return name


def crm_names(rng: random.Random, p: Person) -> tuple[str, str | None]:
    """First and last name as a salesperson types them: "Juan Pérez", "Juan P.", "juan perez"…"""
    first, last = p.first, p.last1
    style = rng.random()
    if style < 0.45:
        return first, last
    if style < 0.6:
        return first, f"{last} {p.last2}"
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
    if email and (duplicate or rng.random() < 0.25):
        email = co.email_case_variant(rng, email)
    if email and rng.random() < (0.3 if duplicate else 0.04):
        email = None
    return email


def crm_company_name(rng: random.Random, company: str) -> str:
    """Salespeople rarely type the legal suffix."""
    if rng.random() < 0.5:
        return company.rsplit(" ", 1)[0].replace(" &", "").rstrip(" .")
    return company


def shop_names(rng: random.Random, p: Person) -> tuple[str, str]:
    """First and last name as a customer types them at checkout."""
    first = typed(rng, p.first.split()[0] if rng.random() < 0.4 else p.first)
    last = typed(rng, f"{p.last1} {p.last2}" if rng.random() < 0.3 else p.last1)
    return first, last
