"""One deterministic, seeded simulation of a Colombian SME and the three systems it runs.

``Business(seed=7, customers=300, start=date(2026, 11, 16), history_days=540)`` simulates the
business day by day from its go-live (``start - history_days``: the day the ERP, CRM and shop
were switched on and the old customer list imported) up to ``start``; the simulated "today" is
then ``start`` and the clock stands at the end of that day. ``advance_day()`` simulates one
more day. Every day produces the records a real business would: new people, web and counter
orders, deliveries, invoices and payments, CRM edits and deals, price and stock changes, so
that each night has new *and* changed records in all three systems.

Records are kept per system in the exact wire shape of that system's API (docs/contracts.md):
``business.odoo[model][id]``, ``business.hubspot[object][id]``, ``business.shopify[resource][id]``,
each dict ordered by id. They only ever hold what happened up to the end of ``today``, so the
APIs serve the state "as of now" by serving them.

People (the ground truth) behave so that churn is learnable: each has a base purchase gap
(inter-order gaps are gamma-distributed around it), a base hazard of stopping for good after
each order, and an engagement level that drifts and drops after bad experiences (cancelled
orders, late payments, lost deals). Low engagement lengthens gaps, raises the hazard and makes
people unsubscribe from marketing before they leave. Demand has a yearly season (December peak,
January slump, mid-year bonus in June) and counters close on Sundays.

The messiness is that of real data entry: the ERP has full legal names with accents, the CRM
"Juan P." or "juan perez", the shop what the customer typed; tax ids and phones in several
formats; missing emails; duplicate CRM contacts; namesakes in the same city; families sharing
one email (the shop then books the relative's orders under the first account, and the ERP's
shop connector, matching by email, under the first partner). ``truth()`` keeps, for every
source record, the person (and order) it really belongs to.

Randomness comes from one ``random.Random(seed)`` consumed in a fixed order, and time from the
simulated calendar only, so the same arguments always give the same records.
"""

from __future__ import annotations

import gc
import itertools
import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, TypeVar

from puente.simulators import colombia as co
from puente.simulators.catalogue import BASE_ITEMS, Product, handle, make_products, shop_price

T = TypeVar("T")
BOGOTA = timezone(timedelta(hours=-5))  # Colombia keeps UTC-5 all year (no DST)
ODOO_MODELS = ("res.partner", "product.product", "sale.order", "sale.order.line", "account.move",
               "stock.quant")
HUBSPOT_OBJECTS = ("contacts", "companies", "deals")
SHOPIFY_RESOURCES = ("customers", "orders", "products")
VAT_RATE = 0.19  # IVA, the general rate
COUNTRY = [49, "Colombia"]
CURRENCY = [8, "COP"]
STOCK_LOCATION = [8, "WH/Stock"]
WAREHOUSE = [1, "Casa Andina"]  # the one warehouse (Odoo names the first after the company)
SALESPERSON = [2, "Administrador"]
CATEGORY_IDS = {category: n + 1 for n, (_, category, _) in enumerate(BASE_ITEMS)}
ID_TYPE_NIT = [4, "NIT"]
ID_TYPE_CEDULA = [3, "Cédula de ciudadanía"]
SHOP_NAME = "Casa Andina"
OPEN_DEAL_STAGES = ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
                    "decisionmakerboughtin", "contractsent")
MONTHS_ES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
             "septiembre", "octubre", "noviembre", "diciembre")
# Demand by month: the December peak, the January slump, June's mid-year bonus ("prima").
SEASON = {1: 0.8, 2: 0.9, 3: 0.95, 4: 0.95, 5: 1.05, 6: 1.15, 7: 1.0, 8: 0.95, 9: 1.0, 10: 1.0,
          11: 1.15, 12: 1.4}
# Business hours, 06:00 to 18:00 in Bogotá. Follow-ups of an event come at most 40 minutes later
# and the stock is written at 23:50 UTC, so everything a day does is stamped on that UTC day.
DAY_START = 11 * 3600
DAY_END = 23 * 3600


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
    street: str
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

    @property
    def legal_name(self) -> str:
        return self.company if self.company else f"{self.first} {self.last1} {self.last2}"


def odoo_ts(at: datetime) -> str:
    """Odoo's datetime on the wire: ``YYYY-MM-DD HH:MM:SS`` in UTC without zone."""
    return at.isoformat(" ", "seconds")[:19]


def hubspot_ts(at: datetime) -> str:
    """HubSpot's datetime: ISO 8601 in UTC with milliseconds and ``Z``."""
    return at.isoformat(timespec="milliseconds")[:23] + "Z"


def shopify_ts(at: datetime) -> str:
    """Shopify's datetime: ISO 8601 in the shop's zone (``2026-11-20T10:31:02-05:00``)."""
    return at.astimezone(BOGOTA).isoformat(timespec="seconds")


def money(amount: float) -> str:
    """Shopify money: a string with two decimals."""
    return f"{amount:.2f}"


def _typed(rng: random.Random, text: str) -> str:
    """A name as people type it into a phone or a web form."""
    r = rng.random()
    if r < 0.5:
        return text
    if r < 0.75:
        return co.strip_accents(text)
    if r < 0.92:
        return co.strip_accents(text).lower()
    return text.upper()


class Business:
    """The simulated business: people, products, and the ERP, CRM and shop records they leave."""

    def __init__(self, seed: int = 7, customers: int = 300, start: date = date(2026, 11, 16),
                 history_days: int = 540):
        if customers < 1 or history_days < 1:
            raise ValueError("customers and history_days must be at least 1")
        self.seed = seed
        self.go_live = start - timedelta(days=history_days)
        self.odoo: dict[str, dict[int, dict]] = {m: {} for m in ODOO_MODELS}
        self.hubspot: dict[str, dict[int, dict]] = {o: {} for o in HUBSPOT_OBJECTS}
        # (object, id) -> {other object: [ids]}: HubSpot associations, kept in both directions.
        self.hubspot_associations: dict[tuple[str, int], dict[str, list[int]]] = defaultdict(
            lambda: defaultdict(list))
        self.shopify: dict[str, dict[int, dict]] = {r: {} for r in SHOPIFY_RESOURCES}
        self.people: list[Person] = []
        self.products: list[Product] = []
        self._rng = random.Random(seed)
        self._midnights: list[datetime] = []
        self._day = 0
        self._truth: dict[tuple[str, str, int], tuple[str, str | None]] = {}
        self._ids: dict[str, list[int]] = defaultdict(list)  # "system/object" -> ids, for sampling
        self._seq: Counter[str] = Counter()
        self._shop_ids = {"customers": 7_400_000_000_000, "orders": 5_900_000_000_000,
                          "products": 8_300_000_000_000, "variants": 44_100_000_000_000,
                          "line_items": 14_800_000_000_000, "addresses": 9_100_000_000_000,
                          "inventory_items": 46_200_000_000_000}
        self._hubspot_ids = {"contacts": 1_000, "companies": 20_000_000_000, "deals": 30_000_000_000}
        # day -> follow-ups, each ("kind", *args) and handled by the method _on_<kind>(day, *args)
        self._agenda: dict[int, list[tuple]] = defaultdict(list)
        self._due: dict[int, list[Person]] = defaultdict(list)  # day -> people who order then
        self._arrivals: dict[int, list[Person]] = defaultdict(list)
        self._partner_by_email: dict[str, int] = {}
        self._shop_customer_by_email: dict[str, int] = {}
        self._shop_customer_partner: dict[int, int] = {}  # the ERP shop connector's link table
        self._mailboxes: set[str] = set()  # addresses handed out: a provider never gives one twice
        self._numbers: set[str] = set()  # tax ids and phone lines handed out: each has one holder
        self._stock_moved: set[int] = set()
        self._created_today: set[tuple[str, str, int]] = set()
        self._touched_today: set[tuple[str, str, int]] = set()
        self._order_seq = itertools.count(1)
        self._history_days = history_days
        self._duplicate_quota = self._rng.random()
        self._arrival_rate = 0.75 * customers / history_days
        self.version = 0  # grows with every write, so API answers can be memoised between writes
        # Records deleted for good (Odoo unlink, Shopify delete): the APIs no longer serve them.
        self.deleted: set[tuple[str, str, int]] = set()
        # Schema drift: fields added to (or removed from) an object after go-live, per (system, object).
        self.extra_fields: dict[tuple[str, str], list[str]] = {}
        self.dropped_fields: dict[tuple[str, str], list[str]] = {}
        self._memo: dict[Hashable, Any] = {}
        self._memo_version = 0
        collecting = gc.isenabled()
        gc.disable()  # millions of long-lived dicts, no cycles: collecting during the build only costs time
        try:
            self._launch_catalogue = min(5000, max(20, round(customers / 5)))
            self._add_products(self._launch_catalogue, day=0)
            self._plan_population(customers, history_days)
            for day in range(history_days + 1):
                self._simulate_day(day)
        finally:
            if collecting:
                gc.enable()
        self._day = history_days

    # ------------------------------------------------------------------ the public surface

    @property
    def today(self) -> date:
        """The simulated business day; the clock stands at its end."""
        return self.go_live + timedelta(days=self._day)

    def now(self) -> datetime:
        """The simulated "now": the last second of ``today`` (UTC). API writes are stamped with it."""
        return datetime.combine(self.today, time(23, 59, 59), UTC)

    def advance_day(self) -> dict[str, Any]:
        """Simulate the next day; return how many records it created and changed, per object."""
        self._day += 1
        self._simulate_day(self._day)
        created = Counter(f"{s}/{o}" for s, o, _ in self._created_today)
        changed = Counter(f"{s}/{o}" for s, o, i in self._touched_today - self._created_today)
        return {"date": self.today.isoformat(), "created": dict(sorted(created.items())),
                "changed": dict(sorted(changed.items()))}

    def counts(self) -> dict[str, dict[str, int]]:
        """How many records each system holds (deleted ones not counted), per object."""
        gone = Counter((s, o) for s, o, _ in self.deleted)
        return {"odoo": {m: len(t) - gone["odoo", m] for m, t in self.odoo.items()},
                "hubspot": {o: len(t) for o, t in self.hubspot.items()},
                "shopify": {r: len(t) - gone["shopify", r] for r, t in self.shopify.items()}}

    def table(self, system: str, obj: str) -> dict[int, dict]:
        """The records of one object, by id, as the business holds them (deleted ones included)."""
        return {"odoo": self.odoo, "hubspot": self.hubspot, "shopify": self.shopify}[system][obj]

    def is_deleted(self, system: str, obj: str, rid: int) -> bool:
        return bool(self.deleted) and (system, obj, rid) in self.deleted

    def live(self, system: str, obj: str) -> list[dict]:
        """The records an API can still serve (in id order): deleted ones are gone."""
        records = self.table(system, obj).values()
        if not self.deleted:
            return list(records)
        return [r for r in records if (system, obj, int(r["id"])) not in self.deleted]

    def delete(self, system: str, obj: str, rid: int) -> None:
        """Delete a record the way its system does.

        Odoo (``unlink``) and Shopify (``DELETE``): the record simply vanishes from every answer,
        with no trace and no change of anyone's updated-at. HubSpot: the record is archived
        (``archived: true``, ``archivedAt``) and leaves lists and searches, without a change of
        its ``updatedAt``; ``GET …?archived=true`` still lists it for 90 days.
        """
        if rid not in self.table(system, obj):
            raise KeyError(f"{system} {obj} has no record {rid}")
        if system == "hubspot":
            record = self.hubspot[obj][rid]
            record.update(archived=True, archivedAt=hubspot_ts(self.now()))
            self._track(system, obj, rid)
            return
        self.deleted.add((system, obj, rid))
        self.version += 1

    def archive(self, system: str, obj: str, rid: int) -> dict:
        """Archive a record: Odoo ``active = False`` (a write: ``write_date`` moves; only listed with
        ``active_test: False``), Shopify products ``status: archived``, HubSpot as ``delete``."""
        if system == "odoo":
            if "active" not in self.odoo[obj][rid]:
                raise ValueError(f"Odoo {obj} has no 'active' field: its records cannot be archived")
            return self._odoo_write(obj, rid, {"active": False}, self.now())
        if system == "shopify":
            if obj != "products":
                raise ValueError("Shopify archives products only (orders are closed, customers disabled)")
            return self._shop_update(obj, rid, {"status": "archived"}, self.now())
        self.delete(system, obj, rid)
        return self.hubspot[obj][rid]

    def touch(self, system: str, obj: str, rid: int, late_by: float = 0.0) -> dict:
        """Change a record now, or ``late_by`` seconds ago (a change that shows up late, stamped
        before records that were served already); each record's own updated-at still only grows."""
        at = self.now() - timedelta(seconds=late_by)
        if system == "odoo":
            return self._odoo_write(obj, rid, {}, at)
        if system == "hubspot":
            return self._hs_update(obj, rid, {}, at)
        return self._shop_update(obj, rid, {}, at)

    def add_field(self, system: str, obj: str, name: str, value: Callable[[dict], Any]) -> None:
        """Schema drift: a new field (an Odoo ``x_`` field, a HubSpot custom property, a new
        Shopify attribute) appears on every record of ``obj``, without touching updated-at."""
        self.extra_fields.setdefault((system, obj), []).append(name)
        for record in self.table(system, obj).values():
            target = record["properties"] if system == "hubspot" else record
            target[name] = value(record)
        self.version += 1

    def drop_field(self, system: str, obj: str, name: str) -> None:
        """Schema drift the other way: a field is removed from every record of ``obj``."""
        self.dropped_fields.setdefault((system, obj), []).append(name)
        for record in self.table(system, obj).values():
            (record["properties"] if system == "hubspot" else record).pop(name, None)
        self.version += 1

    def memoised(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, remembered until the next write: paging through one query scans once."""
        if self._memo_version != self.version:
            self._memo.clear()
            self._memo_version = self.version
        if key not in self._memo:
            if len(self._memo) >= 32:
                self._memo.pop(next(iter(self._memo)))
            self._memo[key] = compute()
        return self._memo[key]

    def ids(self, system: str, obj: str) -> list[int]:
        """The ids of one object's records, ascending (ids only ever grow), for cursor paging."""
        return self._ids[f"{system}/{obj}"]

    def truth(self) -> list[dict[str, str | None]]:
        """For every source record tied to a person: the real person (and real order) behind it.

        Rows ``{"system", "object", "id", "person_id", "order_id"}``; ``order_id`` is shared by the
        shop order, the ERP sale order made from it, its lines, its invoices and the won deal.
        """
        return [{"system": s, "object": o, "id": str(i), "person_id": p, "order_id": order}
                for (s, o, i), (p, order) in self._truth.items()]

    def people_truth(self) -> list[dict[str, Any]]:
        """The people themselves: who they are and whether they have stopped buying for good."""
        day = self._date
        return [{
            "person_id": p.id, "kind": p.kind, "name": p.legal_name, "city": p.city,
            "email": p.email, "acquired_on": day(p.acquired_day).isoformat(),
            "first_order_on": day(p.first_order_day).isoformat() if p.first_order_day is not None else None,
            "last_order_on": day(p.last_order_day).isoformat() if p.last_order_day is not None else None,
            "orders": p.orders, "is_churned": not p.alive,
            "churned_after": day(p.churned_day).isoformat() if p.churned_day is not None else None,
        } for p in self.people if p.acquired_day <= self._day]

    def hubspot_write(self, obj: str, rid: int, properties: dict[str, str | None]) -> dict:
        """Apply a CRM write made through the API, stamped with the simulated now."""
        return self._hs_update(obj, rid, properties, self.now())

    # ------------------------------------------------------------------ time and randomness

    def _date(self, day: int) -> date:
        return self._midnight(day).date()

    def _midnight(self, day: int) -> datetime:
        """The start of ``day`` in UTC (cached: the simulation asks for it constantly)."""
        while len(self._midnights) <= day:
            self._midnights.append(datetime.combine(self.go_live, time(), UTC)
                                   + timedelta(days=len(self._midnights)))
        return self._midnights[day]

    def _moment(self, day: int) -> datetime:
        """A random moment of business hours on ``day`` (UTC)."""
        return self._midnight(day) + timedelta(seconds=self._rng.uniform(DAY_START, DAY_END))

    def _poisson(self, lam: float) -> int:
        if lam <= 0:
            return 0
        if lam > 30:
            return max(0, round(self._rng.gauss(lam, math.sqrt(lam))))
        limit, k, p = math.exp(-lam), 0, self._rng.random()
        while p > limit:
            k += 1
            p *= self._rng.random()
        return k

    def _workday(self, day: int, plus: int) -> int:
        """``plus`` days after ``day``, moved off Sunday (couriers and accounting rest)."""
        target = day + plus
        return target + 1 if self._date(target).weekday() == 6 else target

    # ------------------------------------------------------------------ population

    def _plan_population(self, customers: int, history_days: int) -> None:
        rng = self._rng
        imported = round(0.25 * customers)
        days = [0] * imported + sorted(
            min(history_days, 1 + int(history_days * rng.betavariate(1.3, 1.0)))
            for _ in range(customers - imported))
        for n, day in enumerate(days):
            self._arrivals[day].append(self._new_person(day, imported=n < imported))

    def _new_person(self, day: int, imported: bool) -> Person:
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
        if twin is not None and rng.random() < 0.5:
            # A namesake: same common name, same city, a different person.
            first, last1, city, department = twin.first, twin.last1, twin.city, twin.department
            twin = None
        elif twin is not None:
            # A relative: same family name and city, and the family's one email address.
            last1, city, department = twin.last1, twin.city, twin.department
        if twin is not None:
            email = twin.email
        elif rng.random() < 0.07:
            email = None
        elif company and rng.random() < 0.6:
            local, domain = rng.choice(("compras", "ventas", "gerencia", "contabilidad")), co.company_domain(company)
            email = f"{local}@{domain}"
            while email in self._mailboxes:  # a namesake company owns that domain: this one has another
                email = f"{local}@{domain.split('.')[0]}{rng.randrange(1, 100)}.com.co"
        else:
            local, domain = co.email_local_part(rng, first, last1), co.weighted(rng, co.FREE_MAIL)[0]
            email = f"{local}@{domain}"
            while email in self._mailboxes:  # taken: the provider makes the person add digits
                email = f"{local}{rng.randrange(1, 10_000)}@{domain}"
        if email is not None and twin is None:
            self._mailboxes.add(email)
        style = rng.random()
        web_share = 0.1 if is_company else (rng.uniform(0.85, 1.0) if style < 0.35 else
                                            rng.uniform(0.0, 0.1) if style < 0.65 else rng.random())
        person = Person(
            id=f"P{len(self.people) + 1:06d}", kind="company" if is_company else "person",
            first=first, last1=last1, last2=last2, city=city, department=department, email=email,
            mobile=self._unique(lambda: co.new_mobile(rng)),
            landline=(self._unique(lambda: co.new_landline(rng, indicative))
                      if is_company or rng.random() < 0.25 else None),
            doc=self._unique(lambda: co.new_nit(rng) if is_company else co.new_cedula(rng)),
            street=f"{rng.choice(co.STREET_TYPES)} {rng.randint(1, 170)} # {rng.randint(1, 120)}-{rng.randint(1, 99)}",
            web_share=web_share, in_crm=rng.random() < (0.95 if is_company else 0.6),
            consent=rng.random() < 0.6,
            base_gap=rng.lognormvariate(math.log(20 if is_company else 45), 0.5 if is_company else 0.6),
            base_churn=rng.betavariate(1.5, 25) if is_company else rng.betavariate(2, 14),
            acquired_day=day, imported=imported, company=company,
            favourites=self._popular_products(rng.randint(3, 8), web=web_share > 0.5),
        )
        if person.in_crm:  # systematic sampling: exactly one in 25 CRM people gets a duplicate
            self._duplicate_quota += 0.04
            person.duplicate_in_crm = self._duplicate_quota >= 1.0
            self._duplicate_quota -= float(person.duplicate_in_crm)
        self.people.append(person)
        return person

    def _unique(self, draw: Callable[[], str]) -> str:
        """A tax id or phone number nobody holds yet (the registry and the operators never reissue one)."""
        number = draw()
        while number in self._numbers:
            number = draw()
        self._numbers.add(number)
        return number

    def _acquire(self, p: Person, day: int) -> None:
        """The day a person enters the business's systems."""
        rng = self._rng
        at = self._moment(day)
        lag: int | None
        if p.imported:
            self._erp_partner(p, at)
            if p.in_crm:
                self._crm_contact(p, at, "customer")
            if p.web_share > 0.5 and rng.random() < 0.5:
                self._shop_customer(p, at)
            lag = 1 + int(rng.random() * p.base_gap)
        elif p.in_crm and rng.random() < 0.45:
            self._crm_contact(p, at, "lead")
            lag = None if rng.random() < 0.15 else 1 + int(rng.gammavariate(2.0, 10.0))
        elif p.web_share > 0.5 and rng.random() < 0.1:
            self._shop_customer(p, at)  # signs up now, buys later (or never)
            lag = None if rng.random() < 0.2 else rng.randint(1, 30)
        else:
            lag = 0
        if lag is not None:
            self._due[day + lag].append(p)
        if p.duplicate_in_crm:
            self._agenda[day + rng.randint(5, 120)].append(("crm_duplicate", p))

    # ------------------------------------------------------------------ one day

    def _simulate_day(self, day: int) -> None:
        self._created_today.clear()
        self._touched_today.clear()
        if day > self._history_days:  # after the planned history, new people keep arriving
            season = SEASON[self._date(day).month]
            for _ in range(self._poisson(self._arrival_rate * season)):
                self._arrivals[day].append(self._new_person(day, imported=False))
        for p in self._arrivals.pop(day, []):
            self._acquire(p, day)
        for event in self._agenda.pop(day, []):
            getattr(self, f"_on_{event[0]}")(day, *event[1:])
        for p in self._due.pop(day, []):
            self._order_due(p, day)
        self._daily_edits(day)
        self._close_stock(day)

    def _order_due(self, p: Person, day: int) -> None:
        if not p.alive:
            return
        rng = self._rng
        if p.kind == "company" and p.in_crm and rng.random() < 0.5:
            self._open_deal(p, day)
            return
        web = rng.random() < p.web_share
        if not web and self._date(day).weekday() == 6:
            self._due[day + 1].append(p)  # the counter is closed on Sundays
            return
        order_id = f"O{next(self._order_seq):07d}"
        if web:
            self._web_order(p, day, order_id)
        else:
            self._erp_order(p, day, order_id, self._moment(day), origin=False)
        self._after_order(p, day)

    def _after_order(self, p: Person, day: int) -> None:
        p.orders += 1
        p.last_order_day = day
        if p.first_order_day is None:
            p.first_order_day = day
        if p.hubspot_contact_ids:
            contact = self.hubspot["contacts"][p.hubspot_contact_ids[0]]
            if contact["properties"].get("lifecyclestage") != "customer":
                self._hs_update("contacts", p.hubspot_contact_ids[0], {"lifecyclestage": "customer"},
                                self._moment(day))
        elif p.in_crm:
            self._crm_contact(p, self._moment(day), "customer")
        p.engagement = min(2.5, max(0.2, p.engagement * math.exp(self._rng.gauss(-0.04, 0.18))))
        self._schedule_next(p, day)

    def _schedule_next(self, p: Person, day: int) -> None:
        """After each purchase (or lost deal): stop for good, or come back after a gamma gap."""
        rng = self._rng
        hazard = p.base_churn * (1.6 if p.orders <= 1 else 1.0) * (0.6 if p.orders >= 6 else 1.0)
        if rng.random() < min(0.95, hazard / p.engagement ** 1.5):
            p.alive, p.churned_day = False, day
            return
        if p.engagement < 0.6 and p.consent and not p.unsubscribed:
            self._agenda[day + rng.randint(3, 20)].append(("unsubscribe", p))
        mean = p.base_gap / p.engagement / SEASON[self._date(day).month]
        self._due[day + max(1, round(rng.gammavariate(2.0, mean / 2)))].append(p)

    # ------------------------------------------------------------------ record writers

    def _track(self, system: str, obj: str, rid: int, created: bool = False) -> None:
        self.version += 1
        self._touched_today.add((system, obj, rid))
        if created:
            self._created_today.add((system, obj, rid))

    def _owner(self, system: str, obj: str, rid: int) -> Person:
        """The ground-truth person behind a source record."""
        return self.people[int(self._truth[(system, obj, rid)][0][1:]) - 1]

    def _odoo_create(self, model: str, values: dict, at: datetime, person: Person | None = None,
                     order_id: str | None = None) -> dict:
        self._seq[model] += 1
        rid = self._seq[model]
        stamp = odoo_ts(at)
        record = {"id": rid, **values, "create_date": stamp, "write_date": stamp}
        self.odoo[model][rid] = record
        self._ids[f"odoo/{model}"].append(rid)
        if person is not None:
            self._truth[("odoo", model, rid)] = (person.id, order_id)
        self._track("odoo", model, rid, created=True)
        return record

    def _odoo_write(self, model: str, rid: int, values: dict, at: datetime) -> dict:
        record = self.odoo[model][rid]
        stamp = odoo_ts(at)
        if stamp <= record["write_date"]:  # keep each record's own history monotonic
            stamp = odoo_ts(datetime.fromisoformat(record["write_date"]) + timedelta(seconds=1))
        record.update(values)
        record["write_date"] = stamp
        self._track("odoo", model, rid)
        return record

    def _hs_create(self, obj: str, properties: dict[str, str | None], at: datetime,
                   person: Person | None, order_id: str | None = None) -> dict:
        self._hubspot_ids[obj] += self._rng.randint(1, 3) if obj == "contacts" else self._rng.randint(1, 900)
        rid = self._hubspot_ids[obj]
        stamp = hubspot_ts(at)
        modified = "lastmodifieddate" if obj == "contacts" else "hs_lastmodifieddate"
        props = {k: v for k, v in properties.items() if v is not None}
        props.update({"createdate": stamp, modified: stamp, "hs_object_id": str(rid)})
        record = {"id": str(rid), "properties": props, "createdAt": stamp, "updatedAt": stamp,
                  "archived": False}
        self.hubspot[obj][rid] = record
        self._ids[f"hubspot/{obj}"].append(rid)
        if person is not None:
            self._truth[("hubspot", obj, rid)] = (person.id, order_id)
        self._track("hubspot", obj, rid, created=True)
        return record

    def _hs_update(self, obj: str, rid: int, properties: dict[str, str | None], at: datetime) -> dict:
        record = self.hubspot[obj][rid]
        stamp = hubspot_ts(at)
        if stamp <= record["updatedAt"]:
            stamp = hubspot_ts(datetime.fromisoformat(record["updatedAt"]) + timedelta(milliseconds=1))
        for key, value in properties.items():
            if value is None or value == "":
                record["properties"].pop(key, None)
            else:
                record["properties"][key] = value
        record["properties"]["lastmodifieddate" if obj == "contacts" else "hs_lastmodifieddate"] = stamp
        record["updatedAt"] = stamp
        self._track("hubspot", obj, rid)
        return record

    def _hs_associate(self, a: str, a_id: int, b: str, b_id: int) -> None:
        self.hubspot_associations[(a, a_id)][b].append(b_id)
        self.hubspot_associations[(b, b_id)][a].append(a_id)

    def _shop_id(self, kind: str) -> int:
        self._shop_ids[kind] += self._rng.randint(10_000, 9_000_000)
        return self._shop_ids[kind]

    def _shop_create(self, resource: str, record: dict, at: datetime, person: Person | None = None,
                     order_id: str | None = None) -> dict:
        stamp = shopify_ts(at)
        record.setdefault("created_at", stamp)
        record["updated_at"] = stamp
        self.shopify[resource][record["id"]] = record
        self._ids[f"shopify/{resource}"].append(record["id"])
        if person is not None:
            self._truth[("shopify", resource, record["id"])] = (person.id, order_id)
        self._track("shopify", resource, record["id"], created=True)
        return record

    def _shop_update(self, resource: str, rid: int, values: dict, at: datetime) -> dict:
        record = self.shopify[resource][rid]
        stamp = shopify_ts(at)
        if stamp <= record["updated_at"]:  # same zone and format: the strings sort as the times do
            stamp = shopify_ts(datetime.fromisoformat(record["updated_at"]) + timedelta(seconds=1))
        record.update(values)
        record["updated_at"] = stamp
        self._track("shopify", resource, rid)
        return record

    # ------------------------------------------------------------------ ERP (Odoo)

    def _erp_partner(self, p: Person, at: datetime) -> int:
        """The person's partner, created the way the ERP's staff type people in."""
        if p.odoo_partner_id is not None:
            return p.odoo_partner_id
        rng = self._rng
        style = rng.random()
        name = p.legal_name
        if p.company and style < 0.5:
            name = name.upper()
        elif style < 0.1:
            name = name.upper()
        elif style < 0.15:
            name = co.strip_accents(name)
        if p.company:
            vat: str | bool = co.format_nit(p.doc, rng.randrange(3))
        else:
            vat = co.format_cedula(p.doc, rng.randrange(4)) if rng.random() < 0.75 else False
        email = p.email if p.email and rng.random() > 0.08 else None
        record = self._odoo_create("res.partner", {
            "name": name, "display_name": name, "is_company": bool(p.company),
            "company_type": "company" if p.company else "person",
            "email": email or False,
            "phone": co.format_phone(p.landline or p.mobile, rng.randrange(6)) if rng.random() < 0.7 else False,
            "mobile": co.format_phone(p.mobile, rng.randrange(6)) if rng.random() < 0.6 else False,
            "vat": vat, "l10n_latam_identification_type_id": ID_TYPE_NIT if p.company else ID_TYPE_CEDULA,
            "street": p.street, "city": p.city, "zip": False, "country_id": COUNTRY,
            "lang": "es_CO", "customer_rank": 0, "supplier_rank": 0, "active": True,
        }, at, p)
        p.odoo_partner_id = record["id"]
        if email:
            self._partner_by_email.setdefault(email.lower(), record["id"])
        return record["id"]

    def _partner_for_shop_customer(self, customer: dict, at: datetime) -> int:
        """What the ERP's shop connector does: reuse a partner with the same email, else create one."""
        linked = self._shop_customer_partner.get(customer["id"])
        if linked is not None:
            return linked
        email = (customer.get("email") or "").strip().lower()
        partner_id = self._partner_by_email.get(email) if email else None
        if partner_id is None:
            owner = self._owner("shopify", "customers", customer["id"])
            name = f"{customer['first_name'] or ''} {customer['last_name'] or ''}".strip()
            company = (customer.get("default_address") or {}).get("company")
            record = self._odoo_create("res.partner", {
                "name": company or name, "display_name": company or name, "is_company": bool(company),
                "company_type": "company" if company else "person", "email": customer.get("email") or False,
                "phone": customer.get("phone") or False, "mobile": False, "vat": False,
                "l10n_latam_identification_type_id": ID_TYPE_CEDULA, "street": owner.street,
                "city": owner.city, "zip": False, "country_id": COUNTRY, "lang": "es_CO",
                "customer_rank": 0, "supplier_rank": 0, "active": True,
            }, at, owner)
            partner_id = record["id"]
            if owner.odoo_partner_id is None:
                owner.odoo_partner_id = partner_id
            if email:
                self._partner_by_email[email] = partner_id
        self._shop_customer_partner[customer["id"]] = partner_id
        return partner_id

    def _m2o(self, model: str, rid: int) -> list:
        record = self.odoo[model][rid]
        return [rid, record.get("display_name") or record["name"]]

    def _sale_order(self, p: Person, order_id: str, partner_id: int, at: datetime,
                    lines: list[tuple[int, int]], state: str, client_order_ref: str | bool,
                    origin: str | bool) -> dict:
        self._seq["sale.order.name"] += 1
        untaxed = sum(self.products[i].price * q for i, q in lines)
        tax = round(untaxed * VAT_RATE, 2)
        order = self._odoo_create("sale.order", {
            "name": f"S{self._seq['sale.order.name']:05d}", "partner_id": self._m2o("res.partner", partner_id),
            "date_order": odoo_ts(at), "state": state, "amount_untaxed": float(untaxed),
            "amount_tax": tax, "amount_total": round(untaxed + tax, 2), "currency_id": CURRENCY,
            "client_order_ref": client_order_ref, "origin": origin,
            "invoice_status": "to invoice" if state == "sale" else "no", "user_id": SALESPERSON,
            "order_line": [], "invoice_ids": [], "warehouse_id": WAREHOUSE,
        }, at, p, order_id)
        order["display_name"] = order["name"]
        for idx, qty in lines:
            product = self.products[idx]
            subtotal = float(product.price * qty)
            line = self._odoo_create("sale.order.line", {
                "order_id": [order["id"], order["name"]],
                "product_id": self._m2o("product.product", product.odoo_id),
                "name": f"[{product.sku}] {product.name}", "product_uom_qty": float(qty),
                "qty_delivered": 0.0, "qty_invoiced": 0.0, "price_unit": float(product.price),
                "price_subtotal": subtotal, "price_tax": round(subtotal * VAT_RATE, 2),
                "price_total": round(subtotal * (1 + VAT_RATE), 2),
            }, at, p, order_id)
            order["order_line"].append(line["id"])
            if state == "sale":
                product.reserved += qty
                self._stock_moved.add(idx)
        return order

    def _erp_order(self, p: Person, day: int, order_id: str, at: datetime, origin: str | bool,
                   lines: list[tuple[int, int]] | None = None) -> dict:
        """A phone, counter or deal order keyed straight into the ERP (no shop order behind it)."""
        rng = self._rng
        partner_id = self._erp_partner(p, at)
        lines = lines or self._basket(p, day, web=False)
        if p.kind == "company" and not origin:
            order = self._sale_order(p, order_id, partner_id, at, lines, "sent", False, origin)
            if rng.random() < 0.05:
                self._agenda[self._workday(day, rng.randint(1, 3))].append(("cancel_quote", p, order["id"]))
            else:
                self._agenda[self._workday(day, rng.randint(1, 2))].append(("confirm", p, order["id"]))
            return order
        order = self._sale_order(p, order_id, partner_id, at, lines, "sale", False, origin)
        if p.kind == "company":
            self._agenda[self._workday(day, rng.randint(1, 3))].append(("deliver", p, order["id"], "credit"))
        else:  # counter sale: goods leave at once, paid on the spot
            self._deliver(p, day, order["id"], at + timedelta(minutes=rng.randint(2, 10)), "cash")
        return order

    def _on_confirm(self, day: int, p: Person, so_id: int) -> None:
        order = self._odoo_write("sale.order", so_id, {"state": "sale", "invoice_status": "to invoice"},
                                 self._moment(day))
        for line_id in order["order_line"]:
            line = self.odoo["sale.order.line"][line_id]
            idx = self._product_of_line(line)
            self.products[idx].reserved += line["product_uom_qty"]
            self._stock_moved.add(idx)
        self._agenda[self._workday(day, self._rng.randint(1, 3))].append(("deliver", p, so_id, "credit"))

    def _on_cancel_quote(self, day: int, p: Person, so_id: int) -> None:
        self._odoo_write("sale.order", so_id, {"state": "cancel", "invoice_status": "no"}, self._moment(day))
        p.engagement *= 0.8

    def _on_deliver(self, day: int, p: Person, so_id: int, payment: str) -> None:
        self._deliver(p, day, so_id, self._moment(day), payment)

    def _product_of_line(self, line: dict) -> int:
        return self._product_by_odoo_id[line["product_id"][0]]

    def _deliver(self, p: Person, day: int, so_id: int, at: datetime, payment: str) -> dict:
        """Goods leave the warehouse; the ERP posts the invoice and books or plans its payment.

        ``payment``: ``cash`` (paid on the spot), ``card`` (paid online, reconciled with the bank
        a few days later), ``cod`` (cash on delivery) or ``credit`` (B2B terms, 30 days).
        """
        rng = self._rng
        order = self.odoo["sale.order"][so_id]
        order_id = self._truth[("odoo", "sale.order", so_id)][1]
        for line_id in order["order_line"]:
            line = self.odoo["sale.order.line"][line_id]
            qty = line["product_uom_qty"]
            self._odoo_write("sale.order.line", line_id, {"qty_delivered": qty, "qty_invoiced": qty}, at)
            product = self.products[self._product_of_line(line)]
            product.on_hand -= qty
            product.reserved -= qty
            self._stock_moved.add(product.idx)
        year = at.year
        self._seq[f"INV/{year}"] += 1
        due = at.date() + timedelta(days=30 if payment == "credit" else 0)
        invoice = self._odoo_create("account.move", {
            "name": f"INV/{year}/{self._seq[f'INV/{year}']:05d}", "move_type": "out_invoice",
            "partner_id": order["partner_id"], "invoice_origin": order["name"], "ref": False,
            "invoice_date": at.date().isoformat(), "invoice_date_due": due.isoformat(),
            "date": at.date().isoformat(), "amount_untaxed": order["amount_untaxed"],
            "amount_tax": order["amount_tax"], "amount_total": order["amount_total"],
            "amount_residual": order["amount_total"], "currency_id": CURRENCY, "state": "posted",
            "payment_state": "not_paid",
        }, at, p, order_id)
        invoice["display_name"] = invoice["name"]
        self._odoo_write("sale.order", so_id, {"invoice_status": "invoiced",
                                               "invoice_ids": [*order["invoice_ids"], invoice["id"]]}, at)
        partner = self.odoo["res.partner"][order["partner_id"][0]]
        # Odoo raises the partner's customer_rank each time one of its invoices is posted.
        self._odoo_write("res.partner", partner["id"], {"customer_rank": partner["customer_rank"] + 1}, at)
        if payment == "cash":
            self._odoo_write("account.move", invoice["id"],
                             {"amount_residual": 0.0, "payment_state": "paid"}, at + timedelta(minutes=1))
        elif payment == "card":
            self._odoo_write("account.move", invoice["id"],
                             {"amount_residual": 0.0, "payment_state": "in_payment"}, at + timedelta(minutes=1))
            self._agenda[self._workday(day, rng.randint(1, 3))].append(("reconcile", invoice["id"]))
        elif payment == "cod":
            self._agenda[self._workday(day, 1)].append(("payment", p, invoice["id"], 1.0))
        else:
            late = rng.random() < 0.1
            wait = 30 + (rng.randint(30, 70) if late else round(rng.gauss(0, 8)))
            if rng.random() < 0.15:
                self._agenda[self._workday(day, max(1, wait - rng.randint(5, 15)))].append(
                    ("payment", p, invoice["id"], rng.uniform(0.4, 0.6)))
            self._agenda[self._workday(day, max(1, wait))].append(("payment", p, invoice["id"], 1.0))
        return invoice

    def _on_payment(self, day: int, p: Person, move_id: int, share: float) -> None:
        """A payment arrives: all that is still owed (``share`` 1.0) or part of the invoice."""
        move = self.odoo["account.move"][move_id]
        if move["payment_state"] not in ("not_paid", "partial"):
            return
        due = date.fromisoformat(move["invoice_date_due"])
        if self._date(day) > due + timedelta(days=15):
            p.engagement *= 0.85  # chased for a late payment: the relationship cools
        residual = 0.0 if share >= 1.0 else round(move["amount_total"] * (1 - share), 2)
        state = "in_payment" if residual == 0.0 else "partial"
        self._odoo_write("account.move", move_id, {"amount_residual": residual, "payment_state": state},
                         self._moment(day))
        if state == "in_payment":
            self._agenda[self._workday(day, self._rng.randint(1, 3))].append(("reconcile", move_id))

    def _on_reconcile(self, day: int, move_id: int) -> None:
        """The bank statement is matched: Odoo moves the invoice from in_payment to paid."""
        self._odoo_write("account.move", move_id, {"payment_state": "paid"}, self._moment(day))

    # ------------------------------------------------------------------ shop (Shopify)

    def _shop_customer(self, p: Person, at: datetime) -> dict:
        """The person's shop account; a relative's account when they share one email."""
        if p.shopify_customer_id is not None:
            return self.shopify["customers"][p.shopify_customer_id]
        shared = self._shop_customer_by_email.get(p.email.lower()) if p.email else None
        if shared is not None:
            p.shopify_customer_id = shared
            return self.shopify["customers"][shared]
        rng = self._rng
        cid = self._shop_id("customers")
        first, last = (p.first, p.last1)
        first = _typed(rng, first.split()[0] if rng.random() < 0.4 else first)
        last = _typed(rng, f"{last} {p.last2}" if rng.random() < 0.3 else last)
        # checkout asks for an email or a phone to send the order to: someone without email gives a phone
        phone = co.e164(p.mobile) if p.email is None or rng.random() < 0.55 else None
        stamp = shopify_ts(at)
        address = {
            "id": self._shop_id("addresses"), "customer_id": cid, "first_name": first, "last_name": last,
            "company": p.company, "address1": p.street, "address2": None, "city": _typed(rng, p.city),
            "province": p.department, "country": "Colombia", "zip": None, "phone": phone,
            "name": f"{first} {last}", "province_code": None, "country_code": "CO",
            "country_name": "Colombia", "default": True,
        }
        note = None
        if rng.random() < (0.3 if p.company else 0.05):
            note = (f"NIT {co.format_nit(p.doc, 1)}" if p.company else f"CC {p.doc}")
        record = self._shop_create("customers", {
            "id": cid, "email": p.email, "first_name": first, "last_name": last,
            "state": "enabled" if rng.random() < 0.6 else "disabled", "note": note,
            "verified_email": p.email is not None, "multipass_identifier": None, "tax_exempt": False,
            "tags": "mayorista" if p.company else "", "currency": "COP", "phone": phone,
            "addresses": [address], "default_address": address,
            "email_marketing_consent": None if p.email is None else {
                "state": "subscribed" if p.consent else "not_subscribed", "opt_in_level": "single_opt_in",
                "consent_updated_at": stamp if p.consent else None},
            "sms_marketing_consent": None, "last_order_id": None, "last_order_name": None,
            "admin_graphql_api_id": f"gid://shopify/Customer/{cid}",
        }, at, p)
        p.shopify_customer_id = cid
        if p.email:
            self._shop_customer_by_email[p.email.lower()] = cid
        return record

    def _web_order(self, p: Person, day: int, order_id: str) -> None:
        rng = self._rng
        at = self._moment(day)
        customer = self._shop_customer(p, at)
        lines = self._basket(p, day, web=True)
        self._seq["shop.order"] += 1
        number = 1000 + self._seq["shop.order"]
        sid = self._shop_id("orders")
        subtotal = sum(self.products[i].price * q for i, q in lines)
        tax = round(subtotal * VAT_RATE, 2)
        paid_online = rng.random() < 0.75
        stamp = shopify_ts(at)
        address = customer["default_address"]
        self._shop_create("orders", {
            "id": sid, "admin_graphql_api_id": f"gid://shopify/Order/{sid}", "name": f"#{number}",
            "number": number - 1000, "order_number": number, "email": customer["email"],
            "contact_email": customer["email"], "phone": customer["phone"], "created_at": stamp,
            "processed_at": stamp, "closed_at": None, "cancelled_at": None, "cancel_reason": None,
            "confirmed": True, "currency": "COP", "presentment_currency": "COP",
            "financial_status": "paid" if paid_online else "pending", "fulfillment_status": None,
            "subtotal_price": money(subtotal), "total_line_items_price": money(subtotal),
            "total_discounts": "0.00", "total_tax": money(tax), "total_price": money(subtotal + tax),
            "taxes_included": False, "source_name": "web", "tags": "", "note": None, "test": False,
            "payment_gateway_names": ["wompi"] if paid_online else ["Cash on Delivery (COD)"],
            "customer": {k: customer[k] for k in ("id", "email", "first_name", "last_name", "phone",
                                                   "state", "tags", "created_at")},
            "line_items": [self._shop_line(i, q) for i, q in lines],
            "shipping_address": {k: address[k] for k in ("first_name", "last_name", "company", "address1",
                                                         "city", "province", "country", "country_code",
                                                         "phone", "name")},
        }, at, p, order_id)
        self._shop_update("customers", customer["id"],
                          {"last_order_id": sid, "last_order_name": f"#{number}"}, at)
        # The ERP's shop connector books the order a few minutes later.
        synced = at + timedelta(minutes=rng.randint(2, 9))
        partner_id = self._partner_for_shop_customer(customer, synced)
        order = self._sale_order(p, order_id, partner_id, synced, lines, "sale", f"#{number}", False)
        if rng.random() < 0.03:
            self._agenda[day + rng.randint(0, 1)].append(("web_cancel", p, sid, order["id"]))
        else:
            self._agenda[self._workday(day, rng.randint(1, 3))].append(
                ("web_fulfil", p, sid, order["id"], "card" if paid_online else "cod"))

    def _shop_line(self, idx: int, qty: int) -> dict:
        product = self.products[idx]
        return {"id": self._shop_id("line_items"), "product_id": product.shop_product_id,
                "variant_id": product.shop_variant_id, "sku": product.sku, "title": product.name,
                "name": product.name, "variant_title": None, "vendor": SHOP_NAME, "quantity": qty,
                "price": money(product.price), "taxable": True, "requires_shipping": True,
                "grams": product.weight_g, "total_discount": "0.00",
                "tax_lines": [{"title": "IVA", "rate": VAT_RATE,
                               "price": money(round(product.price * qty * VAT_RATE, 2))}]}

    def _on_web_fulfil(self, day: int, p: Person, sid: int, so_id: int, payment: str) -> None:
        at = self._moment(day)
        # Shopify archives (closes) an order once it is paid and fulfilled.
        self._shop_update("orders", sid, {"fulfillment_status": "fulfilled", "financial_status": "paid",
                                          "closed_at": shopify_ts(at)}, at)
        self._deliver(p, day, so_id, at + timedelta(minutes=5), payment)

    def _on_web_cancel(self, day: int, p: Person, sid: int, so_id: int) -> None:
        at = self._moment(day)
        order = self.shopify["orders"][sid]
        refunded = "refunded" if order["financial_status"] == "paid" else "voided"
        self._shop_update("orders", sid, {"cancelled_at": shopify_ts(at), "cancel_reason": "customer",
                                          "financial_status": refunded}, at)
        sale_order = self._odoo_write("sale.order", so_id, {"state": "cancel", "invoice_status": "no"},
                                      at + timedelta(minutes=3))
        for line_id in sale_order["order_line"]:
            line = self.odoo["sale.order.line"][line_id]
            idx = self._product_of_line(line)
            self.products[idx].reserved -= line["product_uom_qty"]
            self._stock_moved.add(idx)
        p.engagement *= 0.75

    # ------------------------------------------------------------------ CRM (HubSpot)

    def _crm_contact(self, p: Person, at: datetime, lifecycle: str, duplicate: bool = False) -> dict:
        """A CRM contact as a salesperson (or a web form) typed it."""
        rng = self._rng
        first, last = p.first, p.last1
        style = rng.random()
        if style < 0.45:
            names = (first, last)
        elif style < 0.6:
            names = (first, f"{last} {p.last2}")
        elif style < 0.7:
            names = (first.split()[0], f"{last[0]}.")
        elif style < 0.82:
            names = (co.strip_accents(first).lower(), co.strip_accents(last).lower())
        elif style < 0.92:
            names = (co.strip_accents(first), co.strip_accents(last))
        else:
            names = (f"{first} {last}", None)
        email = p.email
        if email and (duplicate or rng.random() < 0.25):
            email = co.email_case_variant(rng, email)
        if email and rng.random() < (0.3 if duplicate else 0.04):
            email = None
        tax_id = None
        if rng.random() < (0.6 if p.company else 0.35):
            tax_id = co.format_nit(p.doc, rng.randrange(3)) if p.company else co.format_cedula(p.doc, rng.randrange(4))
        record = self._hs_create("contacts", {
            "email": email, "firstname": names[0], "lastname": names[1],
            "phone": co.format_phone(p.mobile, rng.randrange(6)) if rng.random() < 0.85 else None,
            "mobilephone": co.format_phone(p.mobile, rng.randrange(6)) if rng.random() < 0.2 else None,
            "company": p.company if p.company and rng.random() < 0.9 else None,
            "city": p.city if rng.random() < 0.7 else co.strip_accents(p.city), "country": "Colombia",
            "lifecyclestage": lifecycle, "hs_marketable_status": "true" if p.consent else "false",
            "tax_id": tax_id,
        }, at, p)
        p.hubspot_contact_ids.append(int(record["id"]))
        if p.company and not duplicate:
            company_id = self._crm_company(p, at)
            self._hs_associate("contacts", int(record["id"]), "companies", company_id)
        return record

    def _crm_company(self, p: Person, at: datetime) -> int:
        if p.hubspot_company_id is not None:
            return p.hubspot_company_id
        rng = self._rng
        name = p.company or ""
        if rng.random() < 0.5:  # salespeople rarely type the legal suffix
            name = name.rsplit(" ", 1)[0].replace(" &", "").rstrip(" .")
        domain = p.email.split("@")[1] if p.email and p.email.endswith(".com.co") else None
        record = self._hs_create("companies", {
            "name": name, "domain": domain, "phone": co.format_phone(p.landline or p.mobile, rng.randrange(6)),
            "city": p.city, "country": "Colombia",
        }, at, p)
        p.hubspot_company_id = int(record["id"])
        return p.hubspot_company_id

    def _on_crm_duplicate(self, day: int, p: Person) -> None:
        """A second contact for the same person (a web form, an imported fair list)."""
        if p.hubspot_contact_ids:
            self._crm_contact(p, self._moment(day), "lead", duplicate=True)
        elif p.alive:  # not in the CRM yet: the duplicate comes after the first contact
            self._agenda[day + 30].append(("crm_duplicate", p))

    def _on_unsubscribe(self, day: int, p: Person) -> None:
        """A cooling customer opts out of marketing in the CRM and, if they have one, the shop."""
        p.unsubscribed = True
        at = self._moment(day)
        for cid in p.hubspot_contact_ids:
            self._hs_update("contacts", cid, {"hs_marketable_status": "false"}, at)
        customer = self.shopify["customers"].get(p.shopify_customer_id or 0)
        if customer and customer["email_marketing_consent"]:
            consent = {**customer["email_marketing_consent"], "state": "unsubscribed",
                       "consent_updated_at": shopify_ts(at)}
            self._shop_update("customers", customer["id"], {"email_marketing_consent": consent}, at)

    def _open_deal(self, p: Person, day: int) -> None:
        rng = self._rng
        at = self._moment(day)
        if not p.hubspot_contact_ids:
            self._crm_contact(p, at, "opportunity")
        company_id = self._crm_company(p, at)
        lines = self._basket(p, day, web=False)
        amount = sum(self.products[i].price * q for i, q in lines) * (1 + VAT_RATE)
        month = self._date(day)
        stage = rng.randrange(2)
        deal = self._hs_create("deals", {
            "dealname": f"{self.hubspot['companies'][company_id]['properties']['name']} - pedido "
                        f"{MONTHS_ES[month.month - 1]} {month.year}",
            "amount": str(int(round(amount, -4))), "dealstage": OPEN_DEAL_STAGES[stage], "pipeline": "default",
            "closedate": hubspot_ts(at + timedelta(days=20)),
        }, at, p)
        deal_id = int(deal["id"])
        self._hs_associate("deals", deal_id, "contacts", p.hubspot_contact_ids[0])
        self._hs_associate("deals", deal_id, "companies", company_id)
        self._agenda[day + rng.randint(2, 6)].append(("deal_step", p, deal_id, stage, lines))

    def _on_deal_step(self, day: int, p: Person, deal_id: int, stage: int, lines: list) -> None:
        """A deal moves one stage on; after the contract is sent it is won or lost."""
        rng = self._rng
        at = self._moment(day)
        if stage + 1 < len(OPEN_DEAL_STAGES):
            self._hs_update("deals", deal_id, {"dealstage": OPEN_DEAL_STAGES[stage + 1]}, at)
            self._agenda[day + rng.randint(2, 6)].append(("deal_step", p, deal_id, stage + 1, lines))
            return
        won = p.alive and rng.random() < 0.85 * min(1.0, p.engagement)
        self._hs_update("deals", deal_id, {"dealstage": "closedwon" if won else "closedlost",
                                           "closedate": hubspot_ts(at)}, at)
        if not won:
            p.engagement *= 0.8
            if p.alive:
                self._schedule_next(p, day)
            return
        order_id = f"O{next(self._order_seq):07d}"
        self._truth[("hubspot", "deals", deal_id)] = (p.id, order_id)
        dealname = self.hubspot["deals"][deal_id]["properties"]["dealname"]
        self._erp_order(p, day, order_id, at + timedelta(minutes=30), origin=dealname, lines=lines)
        self._after_order(p, day)

    # ------------------------------------------------------------------ products and stock

    def _add_products(self, count: int, day: int) -> None:
        rng = self._rng
        at = self._midnight(day) + timedelta(seconds=DAY_START)
        for product in make_products(rng, count, first_idx=len(self.products)):
            self.products.append(product)
            product.on_hand = float(rng.randint(40, 250))
            record = self._odoo_create("product.product", {
                "name": product.name, "display_name": f"[{product.sku}] {product.name}",
                "default_code": product.sku, "list_price": float(product.price),
                "standard_price": product.cost, "qty_available": product.on_hand, "type": "product",
                "categ_id": [CATEGORY_IDS[product.category], f"All / {product.category}"],
                "uom_id": [1, "Units"], "barcode": False, "active": True,
            }, at)
            product.odoo_id = record["id"]
            quant = self._odoo_create("stock.quant", {
                "product_id": self._m2o("product.product", record["id"]), "location_id": STOCK_LOCATION,
                "warehouse_id": WAREHOUSE, "quantity": product.on_hand, "reserved_quantity": 0.0, "lot_id": False,
                "in_date": odoo_ts(at),
            }, at)
            product.quant_id = quant["id"]
            if product.in_shop:
                self._shop_product(product, at)
            at += timedelta(seconds=rng.randint(5, 60))
        self._product_by_odoo_id = {p.odoo_id: p.idx for p in self.products}
        self._rebuild_popularity()

    def _shop_product(self, product: Product, at: datetime) -> None:
        pid, vid = self._shop_id("products"), self._shop_id("variants")
        product.shop_product_id, product.shop_variant_id = pid, vid
        stamp = shopify_ts(at)
        self._shop_create("products", {
            "id": pid, "title": product.name, "body_html": f"<p>{product.name}, de {SHOP_NAME}.</p>",
            "vendor": SHOP_NAME, "product_type": product.category, "handle": handle(product.name),
            "published_at": stamp, "published_scope": "web", "template_suffix": None, "status": "active",
            "tags": product.category.lower(), "admin_graphql_api_id": f"gid://shopify/Product/{pid}",
            "options": [{"id": pid + 1, "product_id": pid, "name": "Title", "position": 1,
                         "values": ["Default Title"]}],
            "images": [], "image": None,
            "variants": [{
                "id": vid, "product_id": pid, "title": "Default Title", "price": money(product.price),
                "sku": product.sku, "position": 1, "inventory_policy": "deny", "compare_at_price": None,
                "fulfillment_service": "manual", "inventory_management": "shopify",
                "option1": "Default Title", "option2": None, "option3": None, "created_at": stamp,
                "updated_at": stamp, "taxable": True, "barcode": None, "grams": product.weight_g,
                "weight": product.weight_g / 1000, "weight_unit": "kg",
                "inventory_item_id": self._shop_id("inventory_items"),
                "inventory_quantity": int(product.on_hand), "old_inventory_quantity": int(product.on_hand),
                "requires_shipping": True, "admin_graphql_api_id": f"gid://shopify/ProductVariant/{vid}",
            }],
        }, at)

    def _rebuild_popularity(self) -> None:
        weights = [p.popularity if p.in_shop else 0.0 for p in self.products]
        self._cum_all = list(itertools.accumulate(p.popularity for p in self.products))
        self._cum_shop = list(itertools.accumulate(weights))

    def _popular_products(self, k: int, web: bool) -> list[int]:
        cum = self._cum_shop if web else self._cum_all
        return self._rng.choices(range(len(self.products)), cum_weights=cum, k=k)

    def _basket(self, p: Person, day: int, web: bool) -> list[tuple[int, int]]:
        """What a person buys: mostly their usual products, some popular ones; B2B buys in bulk."""
        rng = self._rng
        size = min(6, 1 + self._poisson(2.0 if p.kind == "company" else 0.8))
        season = SEASON[self._date(day).month]
        basket: dict[int, int] = {}
        for _ in range(size):
            usual = [i for i in p.favourites if self.products[i].in_shop or not web]
            idx = rng.choice(usual) if usual and rng.random() < 0.7 else self._popular_products(1, web)[0]
            if p.kind == "company":
                qty = max(1, round(rng.randint(2, 12) * season))
            else:
                qty = 1 if rng.random() < 0.8 else rng.randint(2, 3)
            basket[idx] = basket.get(idx, 0) + qty
        return sorted(basket.items())

    def _close_stock(self, day: int) -> None:
        """End of day: write the stock that moved into the ERP and mirror it to the shop."""
        rng = self._rng
        at = self._midnight(day) + timedelta(hours=23, minutes=50)
        for idx in sorted(self._stock_moved):
            product = self.products[idx]
            self._odoo_write("stock.quant", product.quant_id,
                             {"quantity": product.on_hand, "reserved_quantity": max(0.0, product.reserved)}, at)
            # qty_available is computed in Odoo: it changes without touching the product's write_date.
            self.odoo["product.product"][product.odoo_id]["qty_available"] = product.on_hand
            if product.in_shop:
                shop = self.shopify["products"][product.shop_product_id]
                variant = shop["variants"][0]
                variant.update({"old_inventory_quantity": variant["inventory_quantity"],
                                "inventory_quantity": int(product.on_hand), "updated_at": shopify_ts(at)})
                self._shop_update("products", product.shop_product_id, {}, at)
            if product.on_hand - product.reserved < product.reorder_point and not product.restock_pending:
                product.restock_pending = True
                self._agenda[self._workday(day, rng.randint(3, 8))].append(("restock", idx))
        self._stock_moved.clear()

    def _on_restock(self, day: int, idx: int) -> None:
        product = self.products[idx]
        product.on_hand += product.reorder_qty
        product.restock_pending = False
        self._stock_moved.add(idx)

    # ------------------------------------------------------------------ background edits

    def _daily_edits(self, day: int) -> None:
        """The small edits of a normal day: contacts fixed, prices changed, products added."""
        rng = self._rng
        when = self._date(day)
        contacts = self._ids["hubspot/contacts"]
        for _ in range(self._poisson(len(contacts) * 0.003)):
            rid = rng.choice(contacts)
            record = self.hubspot["contacts"][rid]
            if record["archived"]:
                continue
            person = self._owner("hubspot", "contacts", rid)
            change = rng.choice((
                {"phone": co.format_phone(person.mobile, rng.randrange(6))},
                {"city": person.city},
                {"tax_id": co.format_nit(person.doc, rng.randrange(3)) if person.company
                 else co.format_cedula(person.doc, rng.randrange(4))},
                {"jobtitle": rng.choice(("Gerente", "Compras", "Administrador", "Propietario"))},
            ))
            self._hs_update("contacts", rid, change, self._moment(day))
        for _ in range(self._poisson(len(contacts) * 0.0004)):
            rid = rng.choice(contacts)
            record = self.hubspot["contacts"][rid]
            if not record["archived"] and record["properties"].get("lifecyclestage") == "lead":
                # A stale lead is deleted; HubSpot keeps it, archived, for 90 days.
                record.update(archived=True, archivedAt=hubspot_ts(self._moment(day)))
                self._track("hubspot", "contacts", rid)
        customers = self._ids["shopify/customers"]
        for _ in range(self._poisson(len(customers) * 0.002)):
            cid = rng.choice(customers)
            customer = self.shopify["customers"][cid]
            tags = "" if customer["tags"] else rng.choice(("cliente-frecuente", "newsletter"))
            self._shop_update("customers", cid, {"tags": tags}, self._moment(day))
        partners = self._ids["odoo/res.partner"]
        for _ in range(self._poisson(len(partners) * 0.0015)):
            pid = rng.choice(partners)
            person = self._owner("odoo", "res.partner", pid)
            self._odoo_write("res.partner", pid, {"mobile": co.format_phone(person.mobile, rng.randrange(6))},
                             self._moment(day))
        if when.month == 1 and when.day == 15:  # the yearly price list, after the minimum wage rise
            self._reprice(day, range(len(self.products)), lambda: rng.uniform(1.04, 1.09))
        else:
            picks = [rng.randrange(len(self.products)) for _ in range(self._poisson(len(self.products) * 0.004))]
            self._reprice(day, picks, lambda: rng.uniform(0.92, 1.08))
        added = self._poisson(self._launch_catalogue * 0.15 / 365)  # about 15% new products a year
        if added:
            self._add_products(added, day)

    def _reprice(self, day: int, indices, factor) -> None:
        at = self._moment(day)
        for idx in sorted(set(indices)):
            product = self.products[idx]
            product.price = shop_price(int(product.price * factor()))
            self._odoo_write("product.product", product.odoo_id, {"list_price": float(product.price)}, at)
            if product.in_shop:
                variant = self.shopify["products"][product.shop_product_id]["variants"][0]
                variant.update({"price": money(product.price), "updated_at": shopify_ts(at)})
                self._shop_update("products", product.shop_product_id, {}, at)

