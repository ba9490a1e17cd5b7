"""The people of the simulated business: who they really are, and how they buy and stop buying.

People (the ground truth) behave so that churn is learnable: each has a base purchase gap
(inter-order gaps are gamma-distributed around it), a base hazard of stopping for good after each
order, and an engagement level that drifts and drops after bad experiences (cancelled orders, late
payments, lost deals). Low engagement lengthens gaps, raises the hazard and makes people
unsubscribe from marketing before they leave. A quarter of the people at go-live are the old
customer list, imported into the systems on day 0; the others arrive over the history (more of
them late than early) and keep arriving afterwards, with the season.

Identifiers have one holder each, as in life (the tax authority and phone operators never reissue
a number, a mail provider never hands out an address twice); only a family shares a mailbox, an
office its landline with the staff who buy on their own account, and namesakes live in the same
city. People move to another city (a new landline and address there) or to another door of
theirs, and change their mobile: records typed after that carry the new ones. Most relatives
live at one address (a few sons named after the father they live with: one name at one door),
and some staff have their purchases sent to the office. In a large business some unrelated
customers live (or keep their office) in one building, a unit each (BUILDING_NEIGHBOUR_SHARE).
A few customers
live abroad (FOREIGN_SHARE: Argentina, Chile, Mexico, Brazil), with their country's tax id,
phones and cities (latam), as do their relatives, namesakes and staff.
``Person.variations`` names the variation classes a person shows
(messiness.VARIATION_CLASSES), the ground truth the identity benchmark measures per class.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from puente.simulators import colombia as co
from puente.simulators import latam
from puente.simulators.business import messiness as messy
from puente.simulators.business.calendar import Calendar


@dataclass(slots=True)
class Person:
    """A real customer (or prospect), as the business would know them if it knew everything."""

    id: str
    kind: str  # "person" or "company"
    first: str
    last1: str
    last2: str
    city: str
    department: str
    email: str | None
    mobile: str
    landline: str | None
    doc: str  # cédula digits, or the NIT's nine digits for companies
    street: co.Address | latam.Door  # where the person lives (a company: its office); abroad, its country's form
    web_share: float
    in_crm: bool
    consent: bool
    base_gap: float
    base_churn: float
    acquired_day: int
    imported: bool
    company: str | None = None  # legal name, for companies (first/last are the buyer's)
    duplicate_in_crm: bool = False
    engagement: float = 1.0
    alive: bool = True
    churned_day: int | None = None
    first_order_day: int | None = None
    last_order_day: int | None = None
    orders: int = 0
    favourites: list[int] = field(default_factory=list)
    odoo_partner_id: int | None = None
    hubspot_contact_ids: list[int] = field(default_factory=list)
    hubspot_company_id: int | None = None
    shopify_customer_id: int | None = None
    unsubscribed: bool = False
    trade_name: str | None = None  # the name a company is known by, beside its legal name
    goes_by: str | None = None  # the given name used outside legal papers, when not ``first``
    variations: set[str] = field(default_factory=set)  # person-level variation classes (see messiness)
    country: str = "CO"  # ISO code of the country the person (company) lives in and is taxed by
    # abroad: the cédula or NIT first drawn for them, whose typing draws stand in for their id's
    # (messiness.tax_id), and how many times their id has been typed in each channel (its own streams)
    colombian_doc: str | None = None
    tax_ids_typed: Counter[str] = field(default_factory=Counter)
    male: bool = False  # the sex the given names were drawn for (a company's: its buyer's)
    named_after: str | None = None  # the id of the relative (a father) this person is named after

    @property
    def country_name(self) -> str:
        return "Colombia" if self.country == "CO" else latam.country(self.country).name

    @property
    def legal_name(self) -> str:
        return self.company if self.company else f"{self.first} {self.last1} {self.last2}"


MOVE_SHARE = 0.08  # people who move to another city during the history
NEW_MOBILE_SHARE = 0.08  # people who change their mobile number
SHARED_OFFICE_PHONE_SHARE = 0.03  # people whose landline is the office line of a client company
MOVE_WITHIN_CITY_SHARE = 0.1  # people (and companies) who move to another door of their city
HOUSEHOLD_SHARE = 0.7  # relatives (a family name and city in common) who live at the same address
OFFICE_ADDRESS_SHARE = 0.4  # staff sharing their office's line who also give its address for their purchases
# male relatives of a man named after him (a son after his father): one name and family name at one
# door. 1.5-5% of the boys born in Illinois, Colorado, Missouri and New York in 1972-1992 were
# "Juniors" (the states' vital statistics, reported by the Sun-Sentinel on 1994-05-03); no figure
# found for Latin America, where the custom is at least as common. 3% of every male relative (a
# brother or an uncle as well as a son) errs on the side of too many. Daughters named after their
# mothers are far rarer and left out.
NAMED_AFTER_SHARE = 0.03
# Customers from abroad (Argentina, Chile, Mexico, Brazil: latam.COUNTRY_WEIGHTS), with their own
# country's tax id and phone. A Colombian SME selling online and to other businesses reaches a
# few: buyers for a company of the region, people who order from home after a stay. No figure
# found for such a business; 3% is our estimate (Colombia's SMEs export little, and most of
# what they sell abroad goes to these neighbours). Relatives, namesakes and staff of a foreign
# customer live in their country too.
FOREIGN_SHARE = 0.03
# Customers who live (or, for companies, have their office) in a building where another, unrelated
# customer does: one street address, a unit each (`Cl 147 # 7-70 Apto 502` and `... Apto 1101`,
# or `Casa 12` of a gated estate), which the identity's door key leaves out. 47.4% of the homes of
# a DANE survey sample were apartments (microdatos.dane.gov.co, catalog 206, variable P4000), and
# 70% of Bogotá's buildings are under propiedad horizontal (Catastro Distrital's 2016 census,
# reported by Portafolio on 2017-02-18). How many customers share a building grows with the
# business: at 100,000 customers about 1% of a large city's households buy from it, so a building
# of a few dozen units holds another customer for about one apartment-dweller in four. No figure
# was found for a building's units; 10% of the customers whose door has a unit (a multi-unit
# building) at 100,000 customers, in proportion to the business's size below that, is our
# estimate, on the side of too few. Abroad, none.
BUILDING_NEIGHBOUR_SHARE = 0.1
BUILDING_NEIGHBOUR_CUSTOMERS = 100_000  # the business size BUILDING_NEIGHBOUR_SHARE is for


class Population:
    """The people, the days they arrive and the days they are due to buy.

    ``favourites(k, web)`` picks ``k`` popular products (from the shop's range when ``web``);
    ``unsubscribe(day, person)`` is scheduled when a cooling customer opts out of marketing.
    """

    def __init__(self, rng: random.Random, calendar: Calendar, favourites: Callable[[int, bool], list[int]],
                 unsubscribe: Callable[[int, Person], None]):
        self._rng = rng
        self._calendar = calendar
        self._favourites = favourites
        self._unsubscribe = unsubscribe
        self.people: list[Person] = []
        self.arrivals: dict[int, list[Person]] = defaultdict(list)  # day -> people who turn up
        self.due: dict[int, list[Person]] = defaultdict(list)  # day -> people who order then
        self._mailboxes: set[str] = set()  # addresses handed out: a provider never gives one twice
        self._numbers: set[str] = set()  # tax ids and phone lines handed out: each has one holder
        self._duplicate_quota = rng.random()
        self._offices: list[Person] = []  # recent companies with a landline their staff may share
        # people (companies) per city whose door has a unit: a building another customer may live in
        self._buildings: dict[tuple[str, str], list[Person]] = defaultdict(list)
        self._units: dict[tuple[str, co.Address], set[tuple[int, int]]] = {}  # a building's units let
        self._customers = 0  # how many customers the history plans (plan)

    def person(self, person_id: str) -> Person:
        return self.people[int(person_id[1:]) - 1]

    def plan(self, customers: int, history_days: int) -> None:
        """The people of the history: a quarter imported at go-live, the rest arriving over it."""
        rng = self._rng
        self._customers = customers
        imported = round(0.25 * customers)
        days = [0] * imported + sorted(
            min(history_days, 1 + int(history_days * rng.betavariate(1.3, 1.0)))
            for _ in range(customers - imported))
        for n, day in enumerate(days):
            self.arrivals[day].append(self.new_person(day, imported=n < imported))

    def new_person(self, day: int, imported: bool) -> Person:
        rng = self._rng
        is_company = rng.random() < 0.15
        male = rng.random() < 0.5
        first = co.weighted(rng, co.MALE_NAMES if male else co.FEMALE_NAMES)[0]
        if rng.random() < 0.3:
            first += " " + rng.choice(co.MALE_MIDDLE_NAMES if male else co.FEMALE_MIDDLE_NAMES)
        last1, last2 = co.weighted(rng, co.SURNAMES)[0], co.weighted(rng, co.SURNAMES)[0]
        city, department, _, indicative = co.weighted(rng, co.CITIES)
        company = None
        if is_company:
            word = last1 if rng.random() < 0.5 else rng.choice(co.COMPANY_WORDS)
            company = f"{rng.choice(co.COMPANY_KINDS)} {word} {rng.choice(co.COMPANY_SUFFIXES)}"
        twin = None
        if self.people and not is_company and rng.random() < 0.06:
            twin = self.people[rng.randrange(max(0, len(self.people) - 200), len(self.people))]
            twin = twin if twin.kind == "person" else None
        variations: set[str] = set()
        kin = twin  # a relative or namesake: same city, so same country
        if twin is not None and rng.random() < 0.5:
            # A namesake: same common name, same city, a different person.
            first, last1, city, department = twin.first, twin.last1, twin.city, twin.department
            twin.variations.add("namesake")
            variations.add("namesake")
            twin = None
        elif twin is not None:
            # A relative: same family name and city, and the family's one email address.
            last1, city, department = twin.last1, twin.city, twin.department
            if twin.email is not None:
                twin.variations.add("family_mailbox")
                variations.add("family_mailbox")
        if twin is not None:
            email = twin.email
        elif rng.random() < 0.07:
            email = None
        elif company and rng.random() < 0.6:
            local, domain = rng.choice(("compras", "ventas", "gerencia", "contabilidad")), co.company_domain(company)
            email = f"{local}@{domain}"
            while co.mailbox(email) in self._mailboxes:  # a namesake company owns that domain: this one has another
                email = f"{local}@{domain.split('.')[0]}{rng.randrange(1, 100)}.com.co"
        else:
            local, domain = co.email_local_part(rng, first, last1), co.weighted(rng, co.FREE_MAIL)[0]
            email = f"{local}@{domain}"
            while co.mailbox(email) in self._mailboxes:  # taken: the provider makes the person add digits
                email = f"{local}{rng.randrange(1, 10_000)}@{domain}"
        if email is not None and twin is None:
            self._mailboxes.add(co.mailbox(email))
        style = rng.random()
        web_share = 0.1 if is_company else (rng.uniform(0.85, 1.0) if style < 0.35 else
                                            rng.uniform(0.0, 0.1) if style < 0.65 else rng.random())
        landline = (self._unique(lambda: co.new_landline(rng, indicative))
                    if is_company or rng.random() < 0.25 else None)
        office = None
        if not is_company and self._offices and rng.random() < SHARED_OFFICE_PHONE_SHARE:
            # staff of a client company buying on their own account, with the office's line
            office = self._offices[rng.randrange(len(self._offices))]
            landline, city, department = office.landline, office.city, office.department
            office.variations.add("shared_office_phone")
            variations.add("shared_office_phone")
        mobile = self._unique(lambda: co.new_mobile(rng))
        doc = self._unique(lambda: co.new_nit(rng) if is_company else co.new_cedula(rng))
        # the door: type and numbers from the business's stream, letters and unit from the person's own
        street = (rng.choice(co.STREET_TYPES), rng.randint(1, 170), rng.randint(1, 120), rng.randint(1, 99))
        person = Person(
            id=f"P{len(self.people) + 1:06d}", kind="company" if is_company else "person",
            first=first, last1=last1, last2=last2, city=city, department=department, email=email,
            mobile=mobile, landline=landline, doc=doc,
            street=co.new_address(random.Random(f"{doc}:address"), *street, office=is_company),
            web_share=web_share, in_crm=rng.random() < (0.95 if is_company else 0.6),
            consent=rng.random() < 0.6,
            base_gap=rng.lognormvariate(math.log(20 if is_company else 45), 0.5 if is_company else 0.6),
            base_churn=rng.betavariate(1.5, 25) if is_company else rng.betavariate(2, 14),
            acquired_day=day, imported=imported, company=company,
            favourites=self._favourites(rng.randint(3, 8), web_share > 0.5),
            trade_name=(f"{rng.choice(co.TRADE_NAMES)} {rng.choice(co.COMPANY_WORDS)}"
                        if is_company and rng.random() < 0.4 else None),
            goes_by=(first.split()[1] if " " in first and rng.random() < messy.SECOND_GIVEN_NAME_SHARE else None),
            variations=variations, male=male,
        )
        if (twin is not None and male and twin.male
                and random.Random(f"{twin.doc}:{person.id}:named-after").random() < NAMED_AFTER_SHARE):
            # named after the relative (a stream of its own, so the rest of the business stays as it was)
            person.first, person.goes_by, person.named_after = twin.first, twin.goes_by, twin.id
            twin.variations.add("namesake")
            person.variations.add("namesake")
        self._abroad(person, kin, office, male)
        if not self._share_address(person, twin, office):
            self._share_building(person)
        if is_company:
            self._offices = [*self._offices[-199:], person]
        if rng.random() < MOVE_SHARE:
            self._calendar.schedule(day + rng.randint(15, 500), self._move, person)
        relocation = random.Random(f"{doc}:relocation")  # a stream of its own: the rest stays as it was
        if relocation.random() < MOVE_WITHIN_CITY_SHARE:
            self._calendar.schedule(day + relocation.randint(15, 700), self._move_within_city, person)
        if rng.random() < NEW_MOBILE_SHARE:
            self._calendar.schedule(day + rng.randint(15, 500), self._new_mobile, person)
        if person.in_crm:  # systematic sampling: exactly one in 25 CRM people gets a duplicate
            self._duplicate_quota += 0.04
            person.duplicate_in_crm = self._duplicate_quota >= 1.0
            self._duplicate_quota -= float(person.duplicate_in_crm)
        self.people.append(person)
        return person

    def _abroad(self, p: Person, kin: Person | None, office: Person | None, male: bool) -> None:
        """A customer from another country of the region (FOREIGN_SHARE), or the relative,
        namesake or staff of one (they live in that city): their country's tax id, phones, city
        and, for Brazilians, names. Drawn from streams of their own, so that the rest of the
        business stays as it was."""
        model = kin if kin is not None and kin.country != "CO" else office if office is not None and office.country != "CO" else None
        draw = random.Random(f"{p.doc}:{p.id}:abroad")
        if model is not None:
            code = model.country
        elif draw.random() < FOREIGN_SHARE and kin is None and office is None:
            # (the relative, namesake or staff of someone here lives here: same city, same door)
            code = co.weighted(draw, list(latam.COUNTRY_WEIGHTS))[0]
        else:
            return
        c = latam.country(code)
        p.country = code
        p.variations.add("foreign_customer")
        if model is None:
            p.city, p.department, _, area = co.weighted(draw, list(c.cities))
            if code == "BR":  # Brazilian names, and a mailbox made from them
                p.first = co.weighted(draw, latam.BR_MALE_NAMES if male else latam.BR_FEMALE_NAMES)[0]
                p.last1, p.last2 = co.weighted(draw, latam.BR_SURNAMES)[0], co.weighted(draw, latam.BR_SURNAMES)[0]
                p.goes_by = None
            if p.company:  # the country's legal form; a Brazilian company named in Portuguese
                body = p.company
                for suffix in sorted(co.COMPANY_SUFFIXES, key=len, reverse=True):
                    if body.endswith(" " + suffix):
                        body = body[: -len(suffix) - 1]
                        break
                if code == "BR":
                    body = f"{draw.choice(latam.BR_COMPANY_KINDS)} {draw.choice(latam.BR_COMPANY_WORDS)}"
                p.company = f"{body} {draw.choice(c.company_suffixes)}"
            if p.email is not None:  # (the address first drawn stays taken: the others' draws stay as they were)
                local, _, domain = p.email.partition("@")
                if p.company and domain.endswith(".com.co"):  # the company's own domain, in its country
                    domain = (co.company_domain(p.company).removesuffix(".com.co")
                              + {"AR": ".com.ar", "CL": ".cl", "MX": ".com.mx", "BR": ".com.br"}[code])
                elif code == "BR":
                    local = co.email_local_part(draw, p.first, p.last1)
                email = f"{local}@{domain}"
                while co.mailbox(email) in self._mailboxes:
                    email = f"{local}{draw.randrange(1, 10_000)}@{domain}"
                p.email = email
                self._mailboxes.add(co.mailbox(email))
            if p.landline is not None:
                p.landline = self._unique(lambda: latam.new_landline(draw, code, area))
        else:
            if code == "BR" and kin is not None and p.first != kin.first:  # a relative, not a namesake
                p.first = co.weighted(draw, latam.BR_MALE_NAMES if male else latam.BR_FEMALE_NAMES)[0]
                p.goes_by = None
            if p.landline is not None and p.landline != model.landline:
                area = next((city[3] for city in c.cities if city[0] == p.city), c.cities[0][3])
                p.landline = self._unique(lambda: latam.new_landline(draw, code, area))
        p.mobile = self._unique(lambda: latam.new_mobile(draw, code, p.city))
        p.colombian_doc = p.doc
        p.doc = self._unique(lambda: latam.new_tax_id(draw, code, bool(p.company), male=male, first=p.first,
                                                      last1=p.last1, last2=p.last2, company_name=p.company))
        # a door of the country's own form (a relative's or an office's when shared: _share_address)
        p.street = latam.new_door(random.Random(f"{p.doc}:address"), code, office=p.kind == "company")

    @staticmethod
    def _share_address(p: Person, relative: Person | None, office: Person | None) -> bool:
        """Most relatives live under one roof; some staff have their own purchases sent to the
        office of the client company they work at. (A separate random stream, drawn per person,
        so that the addresses leave the rest of the business as it was.)"""
        draw = random.Random(f"{p.doc}:{p.id}:household").random()
        shared = (relative if relative is not None and draw < HOUSEHOLD_SHARE else
                  office if office is not None and draw < OFFICE_ADDRESS_SHARE else None)
        if shared is not None:
            p.street = shared.street
            p.variations.add("shared_address")
            shared.variations.add("shared_address")
        return shared is not None

    def _share_building(self, p: Person) -> None:
        """The person (company) lives in the building of an earlier, unrelated customer of their
        city, in a unit of their own (BUILDING_NEIGHBOUR_SHARE); else their door, when it has a
        unit, may take in a later one. A separate random stream, so that the rest of the business
        stays as it was."""
        if not isinstance(p.street, co.Address) or p.street.unit is None:  # abroad, or a house
            return
        draw = random.Random(f"{p.doc}:{p.id}:building")
        share = BUILDING_NEIGHBOUR_SHARE * min(1.0, self._customers / BUILDING_NEIGHBOUR_CUSTOMERS)
        homes = self._buildings[(p.city, p.kind)]
        neighbour = homes[draw.randrange(len(homes))] if homes and draw.random() < share else None
        if neighbour is not None and neighbour.city == p.city and neighbour.street.unit is not None:
            # (one who has since moved, to a door without a unit or another city, takes in no one)
            building = (p.city, dataclasses.replace(neighbour.street, unit=None))
            taken = self._units.setdefault(building, {neighbour.street.unit})
            kind, number = neighbour.street.unit
            while (kind, number) in taken:
                number = draw.randint(1, 20) * 100 + draw.randint(1, 4) if kind == 0 else draw.randint(1, 30)
            taken.add((kind, number))
            p.street = dataclasses.replace(neighbour.street, unit=(kind, number))
            p.variations.add("shared_building")
            neighbour.variations.add("shared_building")
        else:
            homes.append(p)

    def _move(self, day: int, p: Person) -> None:
        """The person (or company) moves to another city: a new landline there, if they had one,
        and a new address."""
        cities = co.CITIES if p.country == "CO" else list(latam.country(p.country).cities)
        city, department, _, indicative = co.weighted(self._rng, [c for c in cities if c[0] != p.city])
        p.city, p.department = city, department
        if p.landline is not None:
            p.landline = self._unique(lambda: co.new_landline(self._rng, indicative) if p.country == "CO"
                                      else latam.new_landline(self._rng, p.country, indicative))
        p.street = self._new_door(p, day)
        if self._has_records(p):
            p.variations.add("moved")

    def _move_within_city(self, day: int, p: Person) -> None:
        """The person (or company) moves to another door of the same city: same phones."""
        p.street = self._new_door(p, day)
        if self._has_records(p):
            p.variations.add("moved_within_city")

    @staticmethod
    def _new_door(p: Person, day: int) -> co.Address | latam.Door:
        draw = random.Random(f"{p.doc}:{p.id}:move:{day}")
        if p.country != "CO":
            return latam.new_door(draw, p.country, office=p.kind == "company")
        return co.new_address(draw, draw.choice(co.STREET_TYPES), draw.randint(1, 170), draw.randint(1, 120),
                              draw.randint(1, 99), office=p.kind == "company")

    def _new_mobile(self, day: int, p: Person) -> None:
        """The person changes their mobile number (the old one stays theirs: never reissued here)."""
        p.mobile = self._unique(lambda: co.new_mobile(self._rng) if p.country == "CO"
                                else latam.new_mobile(self._rng, p.country, p.city))
        if self._has_records(p):
            p.variations.add("new_phone")

    @staticmethod
    def _has_records(p: Person) -> bool:
        return bool(p.odoo_partner_id or p.hubspot_contact_ids or p.shopify_customer_id)

    def _unique(self, draw: Callable[[], str]) -> str:
        """A tax id or phone number nobody holds yet (the registry and the operators never reissue one)."""
        number = draw()
        while number in self._numbers:
            number = draw()
        self._numbers.add(number)
        return number

    def bought(self, p: Person, day: int) -> None:
        """An order: the person's count and dates of orders."""
        p.orders += 1
        p.last_order_day = day
        if p.first_order_day is None:
            p.first_order_day = day

    def drift(self, p: Person, day: int) -> None:
        """After an order, engagement drifts a little; then the person stops for good or comes back."""
        p.engagement = min(2.5, max(0.2, p.engagement * math.exp(self._rng.gauss(-0.04, 0.18))))
        self.schedule_next(p, day)

    def schedule_next(self, p: Person, day: int) -> None:
        """After each purchase (or lost deal): stop for good, or come back after a gamma gap."""
        rng = self._rng
        hazard = p.base_churn * (1.6 if p.orders <= 1 else 1.0) * (0.6 if p.orders >= 6 else 1.0)
        if rng.random() < min(0.95, hazard / p.engagement ** 1.5):
            p.alive, p.churned_day = False, day
            return
        if p.engagement < 0.6 and p.consent and not p.unsubscribed:
            self._calendar.schedule(day + rng.randint(3, 20), self._unsubscribe, p)
        mean = p.base_gap / p.engagement / self._calendar.season(day)
        self.due[day + max(1, round(rng.gammavariate(2.0, mean / 2)))].append(p)

    def truth(self, today: int) -> list[dict[str, Any]]:
        """The people themselves: who they are and whether they have stopped buying for good."""
        day = self._calendar.date
        return [{
            "person_id": p.id, "kind": p.kind, "name": p.legal_name, "city": p.city,
            "email": p.email, "acquired_on": day(p.acquired_day).isoformat(),
            "first_order_on": day(p.first_order_day).isoformat() if p.first_order_day is not None else None,
            "last_order_on": day(p.last_order_day).isoformat() if p.last_order_day is not None else None,
            "orders": p.orders, "is_churned": not p.alive, "variations": sorted(p.variations),
            "churned_after": day(p.churned_day).isoformat() if p.churned_day is not None else None,
        } for p in self.people if p.acquired_day <= today]
