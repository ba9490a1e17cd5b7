"""``Business``: the simulated business day by day, and what the API simulators see of it.

Each day, in this order: new people arrive and enter the systems they use; the agenda's
follow-ups of earlier days happen (deliveries, payments, deal steps, orders keyed in by hand,
opt-outs); the people due to buy that day order (in the shop, at the counter or by phone, or
through a deal with a salesperson); the day's small edits are made; and at the close the stock
that moved is written into the ERP. The processes that span systems live here; what each system
records lives in its writer.

The business works as it did before Puente (``Habits``): nothing moves between its systems by
itself. A web order reaches the ERP only if a person retypes it, days later and with the usual
mistakes; a won deal only if a salesperson keys it in; the shop's stock follows its own orders
until someone copies the ERP's figures over, now and then. What a correct integration would have
done is kept in ``integration`` (see ``integration.py``) to measure Puente against.

What a client (Puente) writes through the APIs lands in the same records, stamped with the
simulated now (the end of the current day), and the business reacts to it as to its own
people's work: a sale order confirmed through the ERP's API whose client reference is a shop
order's number (with or without ``#``), or whose origin is ``HubSpot deal <id>`` (on Salesforce
``Salesforce opportunity <Opportunity id>``), is that web
order's or deal's ERP order. Its customer and order are recorded in the ground truth, the staff
no longer retype it, and the warehouse and the accountant take it from there on the next
workday: delivered when the shop ships it (at once if it already has), invoiced (a draft invoice
made with the ERP's invoicing wizard is posted, never doubled) and paid as usual.

Details added after the first release of the generator (shipping charged on web orders,
discounts, the CRM's owners and deal line items) draw from a second random stream, so that the
same seed still gives the same people, days and orders.
"""

from __future__ import annotations

import gc
import itertools
import random
import re
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from puente.simulators import colombia as co
from puente.simulators.business import messiness as messy
from puente.simulators.business.assortment import SHIPPING_SKU, VAT_RATE, Assortment
from puente.simulators.business.calendar import DAY_START, Calendar
from puente.simulators.business.hubspot import OPEN_DEAL_STAGES, HubSpotWriter, ServiceDesk
from puente.simulators.business.integration import Entry, Integration, Line, WebOrder, WonDeal
from puente.simulators.business.mercadolibre import MercadoLibreWriter
from puente.simulators.business.mercadopago import GATEWAY as MERCADOPAGO_GATEWAY
from puente.simulators.business.mercadopago import MercadoPagoWriter
from puente.simulators.business.odoo import OdooWriter
from puente.simulators.business.population import Person, Population
from puente.simulators.business.records import Key, Records, hubspot_ts
from puente.simulators.business.salesforce import SalesforceOrg, SalesforceSalesTeam, sf_id, sf_number
from puente.simulators.business.shopify import ShopifyWriter
from puente.simulators.business.stripe import METHOD as STRIPE_METHOD
from puente.simulators.business.stripe import StripeWriter
from puente.simulators.business.tiendanube import TiendaNubeWriter
from puente.simulators.business.woocommerce import CANCELLED as STORE_CANCELLED
from puente.simulators.business.woocommerce import WooCommerceWriter
from puente.simulators.catalogue import Product, make_products, shop_price

T = TypeVar("T")
WRONG_QUANTITY_SHARE = 0.08  # retyped web orders with one quantity mistyped
DEAL_ORIGIN = "HubSpot deal {deal_id}"  # where an integration (Puente) puts a won deal in the ERP order
_DEAL_ORIGIN = re.compile(r"^HubSpot deal (\d+)$")
SALESFORCE_DEAL_ORIGIN = "Salesforce opportunity {opportunity_id}"
_SALESFORCE_DEAL_ORIGIN = re.compile(r"^Salesforce opportunity (006\w{12}(?:\w{3})?)$")
DEAL_DISCOUNT_SHARE = 0.2  # won deals with a negotiated discount (percent, on every line)
DEAL_DISCOUNTS = (5.0, 10.0)
CRMS = ("hubspot", "salesforce")  # the CRM the sales team runs (one)


@dataclass(frozen=True)
class Habits:
    """How the business's people move data between its systems before Puente does it for them.

    ``web_orders_retyped``: the share of web orders a person retypes into the ERP, between
    ``retype_delay_days`` workdays after the order (the rest wait for Puente);
    ``won_deals_entered``: the share of won deals a salesperson keys into the ERP, between
    ``deal_entry_delay_days`` workdays after the win; ``shop_stock_every_days``: about how often
    someone copies the ERP's stock on hand into the shop (the shop drifts in between).
    """

    web_orders_retyped: float = 0.75
    retype_delay_days: tuple[int, int] = (1, 4)
    won_deals_entered: float = 0.8
    deal_entry_delay_days: tuple[int, int] = (1, 7)
    shop_stock_every_days: float = 7.0

    def __post_init__(self) -> None:
        for name in ("web_orders_retyped", "won_deals_entered"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} is a share between 0 and 1, got {getattr(self, name)}")
        for name in ("retype_delay_days", "deal_entry_delay_days"):
            low, high = getattr(self, name)
            if not 1 <= low <= high:
                raise ValueError(f"{name} must be (first, last) workdays with 1 <= first <= last, got {(low, high)}")
        if self.shop_stock_every_days < 1:
            raise ValueError(f"shop_stock_every_days must be at least 1, got {self.shop_stock_every_days}")


class Business:
    """The simulated business: people, products, and the ERP, CRM and shop records they leave."""

    def __init__(self, seed: int = 7, customers: int = 300, start: date = date(2026, 11, 16),
                 history_days: int = 540, habits: Habits | None = None, company_country: str = "CO",
                 woocommerce: bool = False, tiendanube: bool = False, mercadopago: bool = False,
                 mercadolibre: bool = False, stripe: bool = False, crm: str = "hubspot"):
        if customers < 1 or history_days < 1:
            raise ValueError("customers and history_days must be at least 1")
        if crm not in CRMS:
            raise ValueError(f"crm must be one of {CRMS}, got {crm!r}")
        self.crm_system = crm
        self.seed = seed
        self.habits = habits or Habits()
        self.integration = Integration()
        self.go_live = start - timedelta(days=history_days)
        self._rng = rng = random.Random(seed)
        self._details = details = random.Random(f"{seed}:details")
        self._day = 0
        self._history_days = history_days
        self._order_seq = itertools.count(1)  # the real orders, whichever systems record them
        self.records = Records()
        self.calendar = Calendar(rng, self.go_live)
        self.assortment = Assortment(rng, self.calendar)
        self.population = Population(rng, self.calendar, self.assortment.popular, self._on_unsubscribe)
        # The ERP company's country: in Colombia the invoices go through the DIAN (l10n_co_dian).
        self.company_country = company_country.upper()
        dian = random.Random(f"{seed}:dian") if self.company_country == "CO" else None
        self.erp = OdooWriter(rng, self.records, self.calendar, self.assortment, self.population, dian)
        # The sales team keeps one book (hubspot.py); a business on Salesforce sees it as Salesforce
        # holds it (salesforce.py). The same seed gives the same people and deals either way.
        self.crm = (SalesforceSalesTeam(rng, self.records, self.calendar, self.population, details,
                                        cases=random.Random(f"{seed}:salesforce"))
                    if crm == "salesforce" else HubSpotWriter(rng, self.records, self.calendar, self.population, details))
        self.salesforce = (SalesforceOrg(self.records, self.crm, self.now)
                           if isinstance(self.crm, SalesforceSalesTeam) else None)
        # The service team's HubSpot tickets, on their own random stream (the rest stays the same); a
        # Salesforce org's Cases come from its sales team's service desk (salesforce.py).
        self.service = (ServiceDesk(random.Random(f"{seed}:tickets"), self.crm, self.calendar)
                        if crm == "hubspot" else self.crm)
        self.shop = ShopifyWriter(rng, self.records, self.calendar, self.assortment, details)
        # The wholesale WooCommerce store, on its own random stream: with it off (the default), or
        # on, every other system's records are the same.
        self.store = (WooCommerceWriter(random.Random(f"{seed}:woocommerce"), self.records, self.calendar,
                                        self.assortment, self.population, customers, self.integration,
                                        self._on_store_order_changed) if woocommerce else None)
        # The Tienda Nube outlet, likewise on its own stream and off by default.
        self.nube = (TiendaNubeWriter(random.Random(f"{seed}:tiendanube"), self.records, self.calendar,
                                      self.assortment, self.population, customers, self.integration,
                                      self._on_nube_order_changed) if tiendanube else None)
        # The Mercado Libre seller account, likewise on its own stream and off by default.
        self.meli = (MercadoLibreWriter(random.Random(f"{seed}:mercadolibre"), self.records, self.calendar,
                                        self.assortment, self.population, customers, self.integration,
                                        self._on_meli_order_changed) if mercadolibre else None)
        # Mercado Pago, the checkout of the Shopify shop and the payment links of the invoices, on its
        # own random stream too: it only reads the other systems' records (see mercadopago.py).
        self.payments = (MercadoPagoWriter(random.Random(f"{seed}:mercadopago"), self.records, self.calendar,
                                           history_days, self._payer) if mercadopago else None)
        if self.meli is not None and self.payments is not None:  # a sale's payments are the account's too
            self.meli.on_payments = self.payments.mirror_sale
        # Stripe, the WooCommerce store's card checkout (nothing to collect without the store), on its own stream.
        self.stripe_payments = (StripeWriter(random.Random(f"{seed}:stripe"), self.records, self.calendar,
                                             history_days) if stripe else None)
        self._arrival_rate = 0.75 * customers / history_days
        collecting = gc.isenabled()
        gc.disable()  # millions of long-lived dicts, no cycles: collecting during the build only costs time
        try:
            self._launch_catalogue = min(5000, max(20, round(customers / 5)))
            self._add_products(self._launch_catalogue, day=0)
            launch = self.calendar.midnight(0) + timedelta(seconds=DAY_START)
            self.erp.add_reference_data(launch)
            self.crm.add_owners(launch)
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
    def woocommerce(self) -> dict[str, dict[int, dict]]:
        return self.records.woocommerce

    @property
    def tiendanube(self) -> dict[str, dict[int, dict]]:
        return self.records.tiendanube

    @property
    def mercadopago(self) -> dict[str, dict[int, dict]]:
        return self.records.mercadopago

    @property
    def mercadolibre(self) -> dict[str, dict[int, dict]]:
        return self.records.mercadolibre

    @property
    def stripe(self) -> dict[str, dict[str, dict]]:
        return self.records.stripe

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
        counts = {"odoo": {m: len(t) - gone["odoo", m] for m, t in self.odoo.items()}}
        if self.salesforce is not None:
            counts["salesforce"] = {o: sum(not r["IsDeleted"] for r in self.salesforce.table(o))
                                    for o in ("Account", "Contact", "Lead", "Opportunity", "OpportunityLineItem", "Case")}
        else:
            counts["hubspot"] = {o: len(t) for o, t in self.hubspot.items()}
        counts["shopify"] = {r: len(t) - gone["shopify", r] for r, t in self.shopify.items()}
        if self.store is not None:
            counts["woocommerce"] = {r: len(t) - gone["woocommerce", r] for r, t in self.woocommerce.items()}
        if self.nube is not None:
            counts["tiendanube"] = {r: len(t) - gone["tiendanube", r] for r, t in self.tiendanube.items()}
        if self.meli is not None:
            counts["mercadolibre"] = {o: len(t) for o, t in self.mercadolibre.items()}
        if self.payments is not None:
            counts["mercadopago"] = {o: len(t) for o, t in self.mercadopago.items()}
        if self.stripe_payments is not None:
            counts["stripe"] = {o: len(t) for o, t in self.stripe.items() if o != "events"}
        return counts

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

        Odoo (``unlink``), Shopify, WooCommerce (``DELETE``, ``force=true``) and Tienda Nube (``DELETE``,
        customers and products; its orders cannot be deleted): the record simply vanishes from every answer,
        with no trace and no change of anyone's updated-at. HubSpot: the record is archived
        (``archived: true``, ``archivedAt``) and leaves lists and searches, without a change of
        its ``updatedAt``; ``GET …?archived=true`` still lists it for 90 days.
        """
        if rid not in self.table(system, obj):
            raise KeyError(f"{system} {obj} has no record {rid}")
        if system == "hubspot":
            self.crm.archive(obj, rid, self.now())
            return
        if system == "tiendanube" and obj == "orders":
            raise ValueError("Tienda Nube does not delete orders: they are cancelled (archive)")
        if system == "mercadolibre":
            raise ValueError("Mercado Libre does not delete sales: they are cancelled (archive)")
        self.deleted.add((system, obj, rid))
        self.records.version += 1

    def archive(self, system: str, obj: str, rid: int) -> dict:
        """Archive a record: Odoo ``active = False`` (a write: ``write_date`` moves; only listed with
        ``active_test: False``), Shopify products ``status: archived``, WooCommerce orders and
        products to the trash (``status: trash``), Tienda Nube orders cancelled (``status: cancelled``, their
        payment voided or refunded: they leave the default list), HubSpot as ``delete``."""
        if system == "odoo":
            if "active" not in self.odoo[obj][rid]:
                raise ValueError(f"Odoo {obj} has no 'active' field: its records cannot be archived")
            return self.erp.write(obj, rid, {"active": False}, self.now())
        if system == "woocommerce":
            return self._store().trash(obj, rid, self.now())
        if system == "tiendanube":
            if obj != "orders":
                raise ValueError("Tienda Nube archives nothing but orders (cancelled); customers and products are deleted")
            return self._nube().cancel_order(self._day, rid, self.now())
        if system == "mercadolibre":
            if obj != "orders" or self.meli is None:
                raise ValueError("Mercado Libre archives nothing but orders (cancelled): Business(mercadolibre=True)")
            return self.meli.cancel_order(self._day, rid, self.now())
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
        if system == "woocommerce":
            return self._store().update(obj, rid, {}, at)
        if system == "tiendanube":
            return self._nube().update(obj, rid, {}, at)
        if system == "mercadopago" and self.payments is not None:
            return self.payments.update(rid, {}, at)
        if system == "mercadolibre" and self.meli is not None:
            return self.meli.update(obj, rid, {}, at)
        if system == "stripe" and self.stripe_payments is not None:
            return self.stripe_payments.update(obj, rid, {}, at)
        if system != "shopify":
            raise ValueError(f"this business cannot change a {system} record here (not run, or a Salesforce "
                             "record: change the sales team's book, system 'hubspot')")
        return self.shop.update(obj, rid, {}, at)

    def _store(self) -> WooCommerceWriter:
        if self.store is None:
            raise ValueError("this business runs no WooCommerce store: Business(woocommerce=True)")
        return self.store

    def _nube(self) -> TiendaNubeWriter:
        if self.nube is None:
            raise ValueError("this business runs no Tienda Nube store: Business(tiendanube=True)")
        return self.nube

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
        if self.salesforce is None:
            return [{"system": s, "object": o, "id": str(i), "person_id": p, "order_id": order}
                    for (s, o, i), (p, order) in self.records.truth.items()]
        # on Salesforce the CRM's records are named as Salesforce holds them (a contact: its Lead and/or Contact)
        return [{"system": "salesforce" if s == "hubspot" else s, "object": obj, "id": rid, "person_id": p,
                 "order_id": order}
                for (s, o, i), (p, order) in self.records.truth.items()
                for obj, rid in (self.salesforce.records_of(o, i) if s == "hubspot" else [(o, str(i))])]

    def people_truth(self) -> list[dict[str, Any]]:
        """The people themselves: who they are and whether they have stopped buying for good."""
        return self.population.truth(self._day)

    def integration_truth(self, since: date | None = None) -> dict[str, Any]:
        """What a correct integration would have done (see ``integration.py``), for the web orders
        placed and the deals won from ``since`` on (all when None), and the stock per product."""
        return {"today": self.today.isoformat(), "since": since.isoformat() if since else None,
                **self.integration.as_dict(self._customer_truth, self._stock_truth(),
                                           since.isoformat() if since else "")}

    def _customer_truth(self, person_id: str) -> dict[str, Any]:
        """Who an order's ERP customer should be: the real person, and their partner if the ERP has
        one; and their CRM contact and its owner (the salesperson a task for them should go to)."""
        p = self.population.person(person_id)
        contact = self.hubspot["contacts"][p.hubspot_contact_ids[0]] if p.hubspot_contact_ids else None
        return {"person_id": p.id, "erp_partner_id": p.odoo_partner_id, "name": p.legal_name,
                "tax_id": (co.format_nit(p.doc, 1) if p.company else p.doc) if p.country == "CO" else p.doc,
                "tax_id_type": ("NIT" if p.company else "CC") if p.country == "CO" else "VAT" if p.company else "ID del Exterior", "email": p.email, "phone": co.e164(p.mobile),
                "city": p.city, "hubspot_contact_id": contact["id"] if contact else None,
                "hubspot_owner_id": contact["properties"].get("hubspot_owner_id") if contact else None}

    def _stock_truth(self) -> list[dict[str, Any]]:
        """Per product in the shop: the ERP's free stock (on hand minus reserved, as its quant says),
        which the shop should show, beside what the shop shows (``shop_tracks_inventory`` false: the
        shop does not count that item at all, so there is nothing to set)."""
        quants = self.odoo["stock.quant"]
        rows = []
        for product in self.assortment.products:
            if not product.in_shop:
                continue
            quant = quants[product.quant_id]
            variant = self.shopify["products"][product.shop_product_id]["variants"][0]
            rows.append({"sku": product.sku, "odoo_product_id": product.odoo_id,
                         "shopify_product_id": product.shop_product_id, "shopify_variant_id": variant["id"],
                         "inventory_item_id": variant["inventory_item_id"], "erp_on_hand": quant["quantity"],
                         "erp_reserved": quant["reserved_quantity"],
                         "erp_free": quant["quantity"] - quant["reserved_quantity"],
                         "shop_available": variant["inventory_quantity"],
                         "shop_tracks_inventory": self.shop.tracked(product)})
        return rows

    def odoo_write(self, model: str, rid: int, values: dict) -> dict:
        """Apply an ERP write made through the API, stamped with the simulated now."""
        return self.erp.write(model, rid, values, self.now(), bump=False)

    def shopify_set_level(self, inventory_item_id: int, available: int) -> dict:
        """Apply an inventory level set through the API, stamped with the simulated now."""
        return self.shop.set_level(inventory_item_id, available, self.now())

    def tiendanube_set_stock(self, product_id: int, variant_id: int, stock: int | None) -> dict:
        """Apply a Tienda Nube variant's stock set through the API, stamped with the simulated now."""
        return self._nube().set_stock(product_id, variant_id, stock, self.now())

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
        if self.payments is not None and day == self.payments.opened:
            self.shop.online_gateway = MERCADOPAGO_GATEWAY
        if self.stripe_payments is not None and self.store is not None and day == self.stripe_payments.opened:
            self.store.online_method = STRIPE_METHOD
        self.calendar.run(day)
        for p in population.due.pop(day, []):
            self._order_due(p, day)
        self._daily_edits(day)
        self._close_stock(day)
        if self.store is not None:
            self.store.day(day)
        if self.nube is not None:
            self.nube.day(day)
        if self.meli is not None:
            self.meli.day(day)
        if self.payments is not None:
            self.payments.day(day)
        if self.stripe_payments is not None:
            self.stripe_payments.day(day)

    def _payer(self, person_id: str) -> tuple[str | None, str]:
        """What a payer types at Mercado Pago's checkout: their email and document."""
        p = self.population.person(person_id)
        return p.email, p.doc

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
            number = self._web_order(p, day, order_id)
        else:
            number = self.erp.order(p, day, order_id, self.calendar.moment(day), origin=False)["name"]
        self._after_order(p, day, order_id, number)

    def _after_order(self, p: Person, day: int, order_id: str, number: str | None = None) -> None:
        """``number``: the order's number as the customer saw it (the shop's order name, the ERP's sale
        order), which they may cite when they write in; None when they were given none."""
        self.population.bought(p, day)
        self.crm.became_customer(p, day)
        self.population.drift(p, day)
        self.service.after_order(p, day, order_id, number)

    def _on_unsubscribe(self, day: int, p: Person) -> None:
        """A cooling customer opts out of marketing in the CRM and, if they have one, the shop."""
        p.unsubscribed = True
        at = self.calendar.moment(day)
        self.crm.unsubscribe(p, at)
        self.shop.unsubscribe(p, at)

    # ------------------------------------------------------------------ web orders

    def _web_order(self, p: Person, day: int, order_id: str) -> str:
        """The web order's number as the shop showed it to the customer (``#1042``)."""
        rng, calendar = self._rng, self.calendar
        at = calendar.moment(day)
        customer = self.shop.customer(p, at)
        lines = self.assortment.basket(p, day, web=True)
        order = self.shop.order(p, customer, lines, at, order_id)
        sid = order["id"]
        should = [Line(li["sku"], li["quantity"], float(li["price"]), self.shop.discount_percent(order, li))
                  for li in order["line_items"]]
        if self.shop.shipping_price(order):
            should.append(Line(SHIPPING_SKU, 1, self.shop.shipping_price(order)))
        truth = self.integration.add_web_order(WebOrder(
            shop="shopify", shop_order_id=sid, name=order["name"], order_id=order_id, person_id=p.id,
            ordered_on=calendar.date(day).isoformat(), lines=should,
            amount_untaxed=round(float(order["subtotal_price"]) + self.shop.shipping_price(order), 2),
            amount_tax=float(order["total_tax"]), amount_total=float(order["total_price"]),
            currency=order["currency"]))
        if rng.random() < self.habits.web_orders_retyped:
            truth.person_enters = True
            calendar.schedule(calendar.workday(day, rng.randint(*self.habits.retype_delay_days)),
                              self._on_retype, p, sid)
        if rng.random() < 0.03:
            calendar.schedule(day + rng.randint(1, 2), self._on_web_cancel, p, sid)
        else:
            calendar.schedule(calendar.workday(day, rng.randint(1, 3)), self._on_web_fulfil, p, sid,
                              "card" if order["financial_status"] == "paid" else "cod")
        return order["name"]

    def _on_retype(self, day: int, p: Person, sid: int) -> None:
        """A person keys a web order into the ERP by hand, unless it was cancelled or is already
        there (they look its number up first): the customer found or typed in, the lines copied
        at the shop's prices and discounts, the shipping the customer paid as an ``ENVIO`` line,
        now and then a quantity wrong. Already shipped, it is delivered and invoiced at once."""
        order = self.shopify["orders"][sid]
        if order["cancelled_at"] or self.erp.find_order("client_order_ref", order["name"]):
            return
        rng, truth = self._rng, self.integration.web_order("shopify", sid)
        at = self.calendar.moment(day)
        customer = self.shopify["customers"][order["customer"]["id"]]
        partner_id, mistakes = self.erp.clerk_partner(customer, self._owner_of(customer), at)
        index = {li["sku"]: self.assortment.by_sku(li["sku"]).idx for li in order["line_items"]}
        typed = {index[li["sku"]]: li["quantity"] for li in order["line_items"]}
        if rng.random() < WRONG_QUANTITY_SHARE:
            line = rng.choice(order["line_items"])
            typed[index[line["sku"]]] = wrong = messy.wrong_quantity(rng, line["quantity"])
            mistakes.append(f"quantity of {line['sku']}: {wrong} instead of {line['quantity']}")
        prices = {index[li["sku"]]: float(li["price"]) for li in order["line_items"]}
        discounts = {index[li["sku"]]: self.shop.discount_percent(order, li) for li in order["line_items"]}
        sale_order = self.erp.sale_order(p, truth.order_id, partner_id, at, list(typed.items()), "sale",
                                         order["name"], False, prices=prices, discounts=discounts,
                                         shipping=self.shop.shipping_price(order))
        truth.entered = Entry(sale_order["id"], sale_order["name"], self.calendar.date(day).isoformat(), mistakes)
        if order["fulfillment_status"] == "fulfilled":
            self.erp.deliver(p, day, sale_order["id"], at + timedelta(minutes=5), _web_payment(order))

    def _owner_of(self, customer: dict) -> Person:
        return self.population.person(self.records.owner("shopify", "customers", customer["id"]))

    def _on_web_fulfil(self, day: int, p: Person, sid: int, payment: str) -> None:
        """The order ships; where the ERP has it, the warehouse delivers and invoices it there too."""
        at = self.calendar.moment(day)
        self.shop.fulfil(sid, at)
        self.integration.web_order("shopify", sid).fulfilled_on = self.calendar.date(day).isoformat()
        sale_order = self._open_erp_order(sid)
        if sale_order:
            self.erp.deliver(p, day, sale_order["id"], at + timedelta(minutes=5), payment)

    def _on_web_cancel(self, day: int, p: Person, sid: int) -> None:
        """The customer cancels: the shop refunds and restocks; an ERP order for it is cancelled."""
        at = self.calendar.moment(day)
        self.shop.cancel(sid, at)
        self.integration.web_order("shopify", sid).state = "cancel"
        sale_order = self._open_erp_order(sid)
        if sale_order:
            self.erp.cancel(sale_order["id"], at + timedelta(minutes=3))
        p.engagement *= 0.75

    def _open_erp_order(self, sid: int) -> dict | None:
        """The confirmed, not yet delivered ERP sale order of a shop order, if the ERP has one."""
        sale_order = self.erp.find_order("client_order_ref", self.shopify["orders"][sid]["name"])
        return sale_order if sale_order and sale_order["state"] == "sale" and not self.erp.delivered(sale_order) else None

    # ------------------------------------------------------------------ orders entered through the ERP's API

    def on_api_order_confirmed(self, so_id: int) -> None:
        """A client confirmed sale order ``so_id`` through the ERP's API. When its client reference
        is a shop order's number, or its origin names a won deal (``HubSpot deal <id>``), it is
        that order's ERP order: the ground truth records whose it is, and the business takes it
        from there as it does with the orders its people key in (see the module's docstring). A
        WooCommerce order's reference is ``WC-<number>``, a Tienda Nube one's ``TN-<number>``."""
        order = self.odoo["sale.order"][so_id]
        web = self.integration.web_order_by_reference(order["client_order_ref"])
        deal_id = self._deal_of_origin(order["origin"])
        if web is not None:
            p, order_id, entry = self.population.person(web.person_id), web.order_id, web
        elif deal_id in self.integration.won_deals:
            deal = self.integration.won_deals[deal_id]
            p, order_id, entry = self.population.person(deal.person_id), deal.order_id, deal
        else:
            return
        self.erp.claim("sale.order", so_id, p.id, order_id)
        for line_id in order["order_line"]:
            self.erp.claim("sale.order.line", line_id, p.id, order_id)
        for move_id in order["invoice_ids"]:
            self.erp.claim("account.move", move_id, p.id, order_id)
        self.erp.claim_partner(order["partner_id"][0], p)
        if entry.entered_by_api is None:
            entry.entered_by_api = Entry(so_id, order["name"], self.today.isoformat())
        if web is not None:
            handler = {"shopify": self._on_api_web_order, "woocommerce": self._on_api_store_order,
                       "tiendanube": self._on_api_nube_order, "mercadolibre": self._on_api_meli_order}[web.shop]
            self.calendar.schedule(self.calendar.workday(self._day, 1), handler, p, web.shop_order_id, so_id)
        else:
            self.erp.schedule_delivery(p, self._day, so_id)

    def _on_api_web_order(self, day: int, p: Person, sid: int, so_id: int) -> None:
        """The workday after a web order came in through the API: already shipped, the warehouse
        books the delivery (and the invoice, the wizard's draft if there is one) at once; otherwise
        the accountant posts the wizard's draft invoice and the goods leave when the shop ships."""
        sale_order, shop_order = self.odoo["sale.order"][so_id], self.shopify["orders"][sid]
        if sale_order["state"] != "sale" or shop_order["cancelled_at"] or self.erp.delivered(sale_order):
            return
        at = self.calendar.moment(day)
        if shop_order["fulfillment_status"] == "fulfilled":
            self.erp.deliver(p, day, so_id, at, _web_payment(shop_order))
            return
        for move_id in sale_order["invoice_ids"]:
            if self.odoo["account.move"][move_id]["state"] == "draft":
                self.erp.post_invoice(move_id, at, at.date())

    def _on_api_store_order(self, day: int, p: Person, oid: int, so_id: int) -> None:
        """The workday after a WooCommerce order came in through the ERP's API, as for a Shopify one:
        already completed in the store, the warehouse books the delivery at once; otherwise the
        accountant posts the wizard's draft invoice and the goods leave when the store completes it."""
        sale_order, store_order = self.odoo["sale.order"][so_id], self.woocommerce["orders"][oid]
        if sale_order["state"] != "sale" or store_order["status"] in STORE_CANCELLED or self.erp.delivered(sale_order):
            return
        at = self.calendar.moment(day)
        if store_order["status"] == "completed":
            self.erp.deliver(p, day, so_id, at, "card")  # paid online or by transfer before it ships
            return
        for move_id in sale_order["invoice_ids"]:
            if self.odoo["account.move"][move_id]["state"] == "draft":
                self.erp.post_invoice(move_id, at, at.date())

    def _on_api_nube_order(self, day: int, p: Person, oid: int, so_id: int) -> None:
        """The workday after a Tienda Nube order came in through the ERP's API, as for the other shops':
        already shipped, the warehouse books the delivery at once; otherwise the accountant posts
        the wizard's draft invoice and the goods leave when the store ships it."""
        sale_order, store_order = self.odoo["sale.order"][so_id], self.tiendanube["orders"][oid]
        if sale_order["state"] != "sale" or store_order["status"] == "cancelled" or self.erp.delivered(sale_order):
            return
        at = self.calendar.moment(day)
        if store_order["shipping_status"] == "shipped":
            self.erp.deliver(p, day, so_id, at, "card")  # paid online, by transfer or on delivery before it ships
            return
        for move_id in sale_order["invoice_ids"]:
            if self.odoo["account.move"][move_id]["state"] == "draft":
                self.erp.post_invoice(move_id, at, at.date())

    def _on_api_meli_order(self, day: int, p: Person, oid: int, so_id: int) -> None:
        """The workday after a Mercado Libre sale came in through the ERP's API: already delivered, the
        warehouse books the delivery at once (the goods left with Mercado Envíos); otherwise the
        accountant posts the wizard's draft invoice (the sale is paid) and the goods leave when it ships."""
        sale_order, sale = self.odoo["sale.order"][so_id], self.mercadolibre["orders"][oid]
        if sale_order["state"] != "sale" or sale["status"] == "cancelled" or self.erp.delivered(sale_order):
            return
        at = self.calendar.moment(day)
        if "delivered" in sale["tags"]:
            self.erp.deliver(p, day, so_id, at, "card")
            return
        for move_id in sale_order["invoice_ids"]:
            if self.odoo["account.move"][move_id]["state"] == "draft":
                self.erp.post_invoice(move_id, at, at.date())

    def _on_meli_order_changed(self, day: int, oid: int, status: str, at: datetime) -> None:
        """Mercado Libre delivered or cancelled sale ``oid``."""
        self._web_order_changed("mercadolibre", day, oid, status == "delivered", status == "cancelled", at)

    def _on_nube_order_changed(self, day: int, oid: int, status: str, at: datetime) -> None:
        """The Tienda Nube store shipped or cancelled order ``oid``: where the ERP has it (only once an
        integration put it there), the warehouse delivers it, or the ERP order is cancelled."""
        self._web_order_changed("tiendanube", day, oid, status == "shipped", status == "cancelled", at)

    def _on_store_order_changed(self, day: int, oid: int, status: str, at: datetime) -> None:
        """The WooCommerce store completed or cancelled order ``oid``."""
        self._web_order_changed("woocommerce", day, oid, status == "completed", status in STORE_CANCELLED, at)

    def _web_order_changed(self, shop: str, day: int, oid: int, done: bool, cancelled: bool, at: datetime) -> None:
        """A store (WooCommerce, Tienda Nube) sent order ``oid`` off or cancelled it. Where the ERP has
        it (only once an integration put it there: nobody copies these stores' orders by hand), the
        warehouse delivers it, or the ERP order is cancelled, as for the Shopify shop's."""
        web = self.integration.web_order(shop, oid)
        sale_order = self.erp.find_order("client_order_ref", web.name)
        if not sale_order or sale_order["state"] != "sale" or self.erp.delivered(sale_order):
            return
        if done:
            self.erp.deliver(self.population.person(web.person_id), day, sale_order["id"],
                             at + timedelta(minutes=5), "card")
        elif cancelled:
            self.erp.cancel(sale_order["id"], at + timedelta(minutes=3))

    # ------------------------------------------------------------------ deals

    def _open_deal(self, p: Person, day: int) -> None:
        at = self.calendar.moment(day)
        if not p.hubspot_contact_ids:
            self.crm.contact(p, at, "opportunity")
        company_id = self.crm.company(p, at)
        lines = self.assortment.basket(p, day, web=False)
        details = self._details
        discount = details.choice(DEAL_DISCOUNTS) if details.random() < DEAL_DISCOUNT_SHARE else 0.0
        amount = self.assortment.total(lines) * (1 - discount / 100) * (1 + VAT_RATE)
        products = self.assortment.products
        items = [(products[i].sku, products[i].name, products[i].price, q) for i, q in lines]
        deal_id, stage = self.crm.open_deal(p, company_id, amount, day, at, items, discount)
        self.calendar.schedule(day + self._rng.randint(2, 6), self._on_deal_step, p, deal_id, stage, lines,
                               discount)

    def _on_deal_step(self, day: int, p: Person, deal_id: int, stage: int, lines: list, discount: float) -> None:
        """A deal moves one stage on; after the contract is sent it is won or lost."""
        rng = self._rng
        at = self.calendar.moment(day)
        if stage + 1 < len(OPEN_DEAL_STAGES):
            self.crm.update("deals", deal_id, {"dealstage": OPEN_DEAL_STAGES[stage + 1]}, at)
            self.calendar.schedule(day + rng.randint(2, 6), self._on_deal_step, p, deal_id, stage + 1, lines,
                                   discount)
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
        products = self.assortment.products
        truth = self.integration.won_deals[deal_id] = WonDeal(
            hubspot_deal_id=deal_id, dealname=self.hubspot["deals"][deal_id]["properties"]["dealname"],
            order_id=order_id, person_id=p.id, won_on=self.calendar.date(day).isoformat(),
            lines=[Line(products[i].sku, q, float(products[i].price), discount) for i, q in lines],
            amount_untaxed=round(sum(round(products[i].price * q * (1 - discount / 100), 2) for i, q in lines), 2))
        if rng.random() < self.habits.won_deals_entered:
            truth.person_enters = True
            self.calendar.schedule(self.calendar.workday(day, rng.randint(*self.habits.deal_entry_delay_days)),
                                   self._on_enter_deal, p, deal_id, lines, discount)
        self._after_order(p, day, order_id)

    def deal_origin(self, deal_id: int) -> str:
        """What names won deal ``deal_id`` in an ERP order an integration made from it: ``HubSpot deal
        <id>``, or on Salesforce ``Salesforce opportunity <Opportunity id>``."""
        if self.salesforce is not None:
            return SALESFORCE_DEAL_ORIGIN.format(opportunity_id=sf_id("Opportunity", deal_id))
        return DEAL_ORIGIN.format(deal_id=deal_id)

    def _deal_of_origin(self, origin: str | None) -> int | None:
        """The won deal an ERP order's origin names (``deal_origin``), None when it names none."""
        text = (origin or "").strip()
        if self.salesforce is not None:
            match = _SALESFORCE_DEAL_ORIGIN.match(text)
            return sf_number("Opportunity", match.group(1)) if match else None
        match = _DEAL_ORIGIN.match(text)
        return int(match.group(1)) if match else None

    def _on_enter_deal(self, day: int, p: Person, deal_id: int, lines: list, discount: float) -> None:
        """A salesperson keys a won deal into the ERP (the deal's name as origin, the negotiated
        discount on every line), unless an order with ``HubSpot deal <id>`` as origin is there
        already (where an integration puts it)."""
        truth = self.integration.won_deals[deal_id]
        if self.erp.find_order("origin", self.deal_origin(deal_id)):
            return
        order = self.erp.order(p, day, truth.order_id, self.calendar.moment(day), origin=truth.dealname,
                               lines=lines, discounts={idx: discount for idx, _ in lines} if discount else None)
        truth.entered = Entry(order["id"], order["name"], self.calendar.date(day).isoformat())

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
        """End of day: write the stock that moved into the ERP; reorder what runs low there."""
        rng, calendar = self._rng, self.calendar
        at = calendar.midnight(day) + timedelta(hours=23, minutes=50)
        for idx in sorted(self.assortment.stock_moved):
            product = self.assortment.products[idx]
            self.erp.write_stock(product, at)
            if product.on_hand - product.reserved < product.reorder_point and not product.restock_pending:
                product.restock_pending = True
                calendar.schedule(calendar.workday(day, rng.randint(3, 8)), self._on_restock, idx)
        self.assortment.stock_moved.clear()

    def _copy_stock_to_shop(self, day: int) -> None:
        """Someone copies the ERP's stock on hand into the shop, for the tracked products that differ."""
        at = self.calendar.moment(day)
        for product in self.assortment.products:
            if product.in_shop and self.shop.tracked(product) and self.shop.stock(product) != int(product.on_hand):
                self.shop.set_stock(product, int(product.on_hand), at)

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
        if when.weekday() != 6 and rng.random() < 7 / 6 / self.habits.shop_stock_every_days:  # not on Sundays
            self._copy_stock_to_shop(day)
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


def _web_payment(order: dict) -> str:
    """How a web order is paid in the ERP's books: online (card) or cash on delivery."""
    return "cod" if "Cash on Delivery (COD)" in order["payment_gateway_names"] else "card"
