"""``Business``: the simulated business day by day, and what the API simulators see of it.

Each day, in this order: new people arrive and enter the systems they use; the agenda's
follow-ups of earlier days happen (deliveries, payments, deal steps, opt-outs); the people due to
buy that day order (in the shop, at the counter or by phone, or through a deal with a salesperson);
the day's small edits are made; and at the close the stock that moved is written. The processes
that span systems live here; what each system records lives in its writer.
"""

from __future__ import annotations

import gc
import itertools
import random
from collections import Counter
from collections.abc import Callable, Hashable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from puente.simulators.business.assortment import VAT_RATE, Assortment
from puente.simulators.business.calendar import DAY_START, Calendar
from puente.simulators.business.hubspot import OPEN_DEAL_STAGES, HubSpotWriter
from puente.simulators.business.odoo import OdooWriter
from puente.simulators.business.population import Person, Population
from puente.simulators.business.records import Key, Records, hubspot_ts
from puente.simulators.business.shopify import ShopifyWriter
from puente.simulators.catalogue import Product, make_products, shop_price

T = TypeVar("T")


class Business:
    """The simulated business: people, products, and the ERP, CRM and shop records they leave."""

    def __init__(self, seed: int = 7, customers: int = 300, start: date = date(2026, 11, 16),
                 history_days: int = 540):
        if customers < 1 or history_days < 1:
            raise ValueError("customers and history_days must be at least 1")
        self.seed = seed
        self.go_live = start - timedelta(days=history_days)
        self._rng = rng = random.Random(seed)
        self._day = 0
        self._history_days = history_days
        self._order_seq = itertools.count(1)  # the real orders, whichever systems record them
        self.records = Records()
        self.calendar = Calendar(rng, self.go_live)
        self.assortment = Assortment(rng, self.calendar)
        self.population = Population(rng, self.calendar, self.assortment.popular, self._on_unsubscribe)
        self.erp = OdooWriter(rng, self.records, self.calendar, self.assortment, self.population)
        self.crm = HubSpotWriter(rng, self.records, self.calendar, self.population)
        self.shop = ShopifyWriter(rng, self.records, self.calendar, self.assortment)
        self._arrival_rate = 0.75 * customers / history_days
        collecting = gc.isenabled()
        gc.disable()  # millions of long-lived dicts, no cycles: collecting during the build only costs time
        try:
            self._launch_catalogue = min(5000, max(20, round(customers / 5)))
            self._add_products(self._launch_catalogue, day=0)
            self.population.plan(customers, history_days)
            for day in range(history_days + 1):
                self._simulate_day(day)
        finally:
            if collecting:
                gc.enable()
        self._day = history_days

    # ------------------------------------------------------------------ what the APIs serve

    @property
    def odoo(self) -> dict[str, dict[int, dict]]:
        return self.records.odoo

    @property
    def hubspot(self) -> dict[str, dict[int, dict]]:
        return self.records.hubspot

    @property
    def shopify(self) -> dict[str, dict[int, dict]]:
        return self.records.shopify

    @property
    def hubspot_associations(self) -> dict[tuple[str, int], dict[str, list[int]]]:
        return self.records.hubspot_associations

    @property
    def deleted(self) -> set[Key]:
        return self.records.deleted

    @property
    def extra_fields(self) -> dict[tuple[str, str], list[str]]:
        return self.records.extra_fields

    @property
    def dropped_fields(self) -> dict[tuple[str, str], list[str]]:
        return self.records.dropped_fields

    @property
    def people(self) -> list[Person]:
        return self.population.people

    @property
    def products(self) -> list[Product]:
        return self.assortment.products

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
        records = self.records
        created = Counter(f"{s}/{o}" for s, o, _ in records.created_today)
        changed = Counter(f"{s}/{o}" for s, o, i in records.touched_today - records.created_today)
        return {"date": self.today.isoformat(), "created": dict(sorted(created.items())),
                "changed": dict(sorted(changed.items()))}

    def changed_today(self) -> set[Key]:
        """(system, object, id) of every record the last simulated day created or changed."""
        return self.records.created_today | self.records.touched_today

    def counts(self) -> dict[str, dict[str, int]]:
        """How many records each system holds (deleted ones not counted), per object."""
        gone = Counter((s, o) for s, o, _ in self.deleted)
        return {"odoo": {m: len(t) - gone["odoo", m] for m, t in self.odoo.items()},
                "hubspot": {o: len(t) for o, t in self.hubspot.items()},
                "shopify": {r: len(t) - gone["shopify", r] for r, t in self.shopify.items()}}

    def table(self, system: str, obj: str) -> dict[int, dict]:
        """The records of one object, by id, as the business holds them (deleted ones included)."""
        return self.records.table(system, obj)

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
            self.crm.archive(obj, rid, self.now())
            return
        self.deleted.add((system, obj, rid))
        self.records.version += 1

    def archive(self, system: str, obj: str, rid: int) -> dict:
        """Archive a record: Odoo ``active = False`` (a write: ``write_date`` moves; only listed with
        ``active_test: False``), Shopify products ``status: archived``, HubSpot as ``delete``."""
        if system == "odoo":
            if "active" not in self.odoo[obj][rid]:
                raise ValueError(f"Odoo {obj} has no 'active' field: its records cannot be archived")
            return self.erp.write(obj, rid, {"active": False}, self.now())
        if system == "shopify":
            if obj != "products":
                raise ValueError("Shopify archives products only (orders are closed, customers disabled)")
            return self.shop.update(obj, rid, {"status": "archived"}, self.now())
        self.delete(system, obj, rid)
        return self.hubspot[obj][rid]

    def touch(self, system: str, obj: str, rid: int, late_by: float = 0.0) -> dict:
        """Change a record now, or ``late_by`` seconds ago (a change that shows up late, stamped
        before records that were served already); each record's own updated-at still only grows."""
        at = self.now() - timedelta(seconds=late_by)
        if system == "odoo":
            return self.erp.write(obj, rid, {}, at)
        if system == "hubspot":
            return self.crm.update(obj, rid, {}, at)
        return self.shop.update(obj, rid, {}, at)

    def add_field(self, system: str, obj: str, name: str, value: Callable[[dict], Any]) -> None:
        """Schema drift: a new field (an Odoo ``x_`` field, a HubSpot custom property, a new
        Shopify attribute) appears on every record of ``obj``, without touching updated-at."""
        self.extra_fields.setdefault((system, obj), []).append(name)
        for record in self.table(system, obj).values():
            target = record["properties"] if system == "hubspot" else record
            target[name] = value(record)
        self.records.version += 1

    def drop_field(self, system: str, obj: str, name: str) -> None:
        """Schema drift the other way: a field is removed from every record of ``obj``."""
        self.dropped_fields.setdefault((system, obj), []).append(name)
        for record in self.table(system, obj).values():
            (record["properties"] if system == "hubspot" else record).pop(name, None)
        self.records.version += 1

    def memoised(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, remembered until the next write: paging through one query scans once."""
        return self.records.memoised(key, compute)

    def ids(self, system: str, obj: str) -> list[int]:
        """The ids of one object's records, ascending (ids only ever grow), for cursor paging."""
        return self.records.ids[f"{system}/{obj}"]

    def truth(self) -> list[dict[str, str | None]]:
        """For every source record tied to a person: the real person (and real order) behind it.

        Rows ``{"system", "object", "id", "person_id", "order_id"}``; ``order_id`` is shared by the
        shop order, the ERP sale order made from it, its lines, its invoices and the won deal.
        """
        return [{"system": s, "object": o, "id": str(i), "person_id": p, "order_id": order}
                for (s, o, i), (p, order) in self.records.truth.items()]

    def people_truth(self) -> list[dict[str, Any]]:
        """The people themselves: who they are and whether they have stopped buying for good."""
        return self.population.truth(self._day)

    def hubspot_write(self, obj: str, rid: int, properties: dict[str, str | None]) -> dict:
        """Apply a CRM write made through the API, stamped with the simulated now."""
        return self.crm.update(obj, rid, properties, self.now())

    # ------------------------------------------------------------------ one day

    def _simulate_day(self, day: int) -> None:
        self.records.new_day()
        population = self.population
        if day > self._history_days:  # after the planned history, new people keep arriving
            for _ in range(self.calendar.poisson(self._arrival_rate * self.calendar.season(day))):
                population.arrivals[day].append(population.new_person(day, imported=False))
        for p in population.arrivals.pop(day, []):
            self._acquire(p, day)
        self.calendar.run(day)
        for p in population.due.pop(day, []):
            self._order_due(p, day)
        self._daily_edits(day)
        self._close_stock(day)

    def _acquire(self, p: Person, day: int) -> None:
        """The day a person enters the business's systems."""
        rng = self._rng
        at = self.calendar.moment(day)
        lag: int | None
        if p.imported:
            self.erp.partner(p, at)
            if p.in_crm:
                self.crm.contact(p, at, "customer")
            if p.web_share > 0.5 and rng.random() < 0.5:
                self.shop.customer(p, at)
            lag = 1 + int(rng.random() * p.base_gap)
        elif p.in_crm and rng.random() < 0.45:
            self.crm.contact(p, at, "lead")
            lag = None if rng.random() < 0.15 else 1 + int(rng.gammavariate(2.0, 10.0))
        elif p.web_share > 0.5 and rng.random() < 0.1:
            self.shop.customer(p, at)  # signs up now, buys later (or never)
            lag = None if rng.random() < 0.2 else rng.randint(1, 30)
        else:
            lag = 0
        if lag is not None:
            self.population.due[day + lag].append(p)
        if p.duplicate_in_crm:
            self.calendar.schedule(day + rng.randint(5, 120), self.crm.on_duplicate, p)

    def _order_due(self, p: Person, day: int) -> None:
        if not p.alive:
            return
        rng = self._rng
        if p.kind == "company" and p.in_crm and rng.random() < 0.5:
            self._open_deal(p, day)
            return
        web = rng.random() < p.web_share
        if not web and self.calendar.date(day).weekday() == 6:
            self.population.due[day + 1].append(p)  # the counter is closed on Sundays
            return
        order_id = f"O{next(self._order_seq):07d}"
        if web:
            self._web_order(p, day, order_id)
        else:
            self.erp.order(p, day, order_id, self.calendar.moment(day), origin=False)
        self._after_order(p, day)

    def _after_order(self, p: Person, day: int) -> None:
        self.population.bought(p, day)
        self.crm.became_customer(p, day)
        self.population.drift(p, day)

    def _on_unsubscribe(self, day: int, p: Person) -> None:
        """A cooling customer opts out of marketing in the CRM and, if they have one, the shop."""
        p.unsubscribed = True
        at = self.calendar.moment(day)
        self.crm.unsubscribe(p, at)
        self.shop.unsubscribe(p, at)

    # ------------------------------------------------------------------ web orders

    def _web_order(self, p: Person, day: int, order_id: str) -> None:
        rng, calendar = self._rng, self.calendar
        at = calendar.moment(day)
        customer = self.shop.customer(p, at)
        lines = self.assortment.basket(p, day, web=True)
        order = self.shop.order(p, customer, lines, at, order_id)
        # The ERP's shop connector books the order a few minutes later.
        synced = at + timedelta(minutes=rng.randint(2, 9))
        partner_id = self.erp.partner_for_shop_customer(customer, self._owner_of(customer), synced)
        sale_order = self.erp.sale_order(p, order_id, partner_id, synced, lines, "sale", order["name"], False)
        if rng.random() < 0.03:
            calendar.schedule(day + rng.randint(0, 1), self._on_web_cancel, p, order["id"], sale_order["id"])
        else:
            calendar.schedule(calendar.workday(day, rng.randint(1, 3)), self._on_web_fulfil, p, order["id"],
                              sale_order["id"], "card" if order["financial_status"] == "paid" else "cod")

    def _owner_of(self, customer: dict) -> Person:
        return self.population.person(self.records.owner("shopify", "customers", customer["id"]))

    def _on_web_fulfil(self, day: int, p: Person, sid: int, so_id: int, payment: str) -> None:
        at = self.calendar.moment(day)
        self.shop.fulfil(sid, at)
        self.erp.deliver(p, day, so_id, at + timedelta(minutes=5), payment)

    def _on_web_cancel(self, day: int, p: Person, sid: int, so_id: int) -> None:
        at = self.calendar.moment(day)
        self.shop.cancel(sid, at)
        self.erp.cancel(so_id, at + timedelta(minutes=3))
        p.engagement *= 0.75

    # ------------------------------------------------------------------ deals

    def _open_deal(self, p: Person, day: int) -> None:
        at = self.calendar.moment(day)
        if not p.hubspot_contact_ids:
            self.crm.contact(p, at, "opportunity")
        company_id = self.crm.company(p, at)
        lines = self.assortment.basket(p, day, web=False)
        amount = self.assortment.total(lines) * (1 + VAT_RATE)
        deal_id, stage = self.crm.open_deal(p, company_id, amount, day, at)
        self.calendar.schedule(day + self._rng.randint(2, 6), self._on_deal_step, p, deal_id, stage, lines)

    def _on_deal_step(self, day: int, p: Person, deal_id: int, stage: int, lines: list) -> None:
        """A deal moves one stage on; after the contract is sent it is won or lost."""
        rng = self._rng
        at = self.calendar.moment(day)
        if stage + 1 < len(OPEN_DEAL_STAGES):
            self.crm.update("deals", deal_id, {"dealstage": OPEN_DEAL_STAGES[stage + 1]}, at)
            self.calendar.schedule(day + rng.randint(2, 6), self._on_deal_step, p, deal_id, stage + 1, lines)
            return
        won = p.alive and rng.random() < 0.85 * min(1.0, p.engagement)
        self.crm.update("deals", deal_id, {"dealstage": "closedwon" if won else "closedlost",
                                           "closedate": hubspot_ts(at)}, at)
        if not won:
            p.engagement *= 0.8
            if p.alive:
                self.population.schedule_next(p, day)
            return
        order_id = f"O{next(self._order_seq):07d}"
        self.records.truth[("hubspot", "deals", deal_id)] = (p.id, order_id)
        dealname = self.hubspot["deals"][deal_id]["properties"]["dealname"]
        self.erp.order(p, day, order_id, at + timedelta(minutes=30), origin=dealname, lines=lines)
        self._after_order(p, day)

    # ------------------------------------------------------------------ products and stock

    def _add_products(self, count: int, day: int) -> None:
        rng = self._rng
        at = self.calendar.midnight(day) + timedelta(seconds=DAY_START)
        products = self.assortment.products
        for product in make_products(rng, count, first_idx=len(products)):
            products.append(product)
            product.on_hand = float(rng.randint(40, 250))
            self.erp.add_product(product, at)
            if product.in_shop:
                self.shop.list_product(product, at)
            at += timedelta(seconds=rng.randint(5, 60))
        self.assortment.reindex()

    def _close_stock(self, day: int) -> None:
        """End of day: write the stock that moved into the ERP and mirror it to the shop."""
        rng, calendar = self._rng, self.calendar
        at = calendar.midnight(day) + timedelta(hours=23, minutes=50)
        for idx in sorted(self.assortment.stock_moved):
            product = self.assortment.products[idx]
            self.erp.write_stock(product, at)
            if product.in_shop:
                self.shop.set_stock(product, int(product.on_hand), at)
            if product.on_hand - product.reserved < product.reorder_point and not product.restock_pending:
                product.restock_pending = True
                calendar.schedule(calendar.workday(day, rng.randint(3, 8)), self._on_restock, idx)
        self.assortment.stock_moved.clear()

    def _on_restock(self, day: int, idx: int) -> None:
        product = self.assortment.products[idx]
        product.on_hand += product.reorder_qty
        product.restock_pending = False
        self.assortment.stock_moved.add(idx)

    # ------------------------------------------------------------------ a normal day's edits

    def _daily_edits(self, day: int) -> None:
        """The small edits of a normal day: contacts fixed, prices changed, products added."""
        rng = self._rng
        when = self.calendar.date(day)
        self.crm.daily_edits(day)
        self.shop.daily_edits(day)
        self.erp.daily_edits(day)
        products = self.assortment.products
        if when.month == 1 and when.day == 15:  # the yearly price list, after the minimum wage rise
            self._reprice(day, range(len(products)), lambda: rng.uniform(1.04, 1.09))
        else:
            picks = [rng.randrange(len(products)) for _ in range(self.calendar.poisson(len(products) * 0.004))]
            self._reprice(day, picks, lambda: rng.uniform(0.92, 1.08))
        added = self.calendar.poisson(self._launch_catalogue * 0.15 / 365)  # about 15% new products a year
        if added:
            self._add_products(added, day)

    def _reprice(self, day: int, indices, factor) -> None:
        at = self.calendar.moment(day)
        for idx in sorted(set(indices)):
            product = self.assortment.products[idx]
            product.price = shop_price(int(product.price * factor()))
            self.erp.set_price(product, at)
            if product.in_shop:
                self.shop.set_price(product, at)
