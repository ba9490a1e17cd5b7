"""Chaos benchmark (``make bench-chaos``): consecutive simulated nights of the real ``puente_nightly``
with every fault class of issue 10 injected at random, measured against the simulators' truth.

By default the business runs the three systems the simulators serve without options (Odoo, HubSpot,
Shopify); ``--systems all`` runs every system of the registry (WooCommerce, Tienda Nube, Mercado Libre,
Mercado Pago and Stripe too; the DAG extracts them all, ``PUENTE_SYSTEMS``), and ``--crm salesforce``
puts Salesforce in HubSpot's place. Every fault below reaches every system the run has; each such run
writes its own section of bench/RESULTS.md.

Each night: the simulated business lives one more day; yesterday's broken values are fixed at the
source (as an operator would, after reading ``marts.data_issues``); then, drawn at random with a
fixed seed, new faults are put into the sources and the run:

- bad values in every field type (dates, timestamps, amounts, ids) of ERP, CRM, shop, marketplace and
  payment records (``BAD_VALUES``);
- records stamped in the future (days ahead of the source's clock; a Stripe change's event);
- text PostgreSQL cannot store (NUL, a lone UTF-16 surrogate) and JSON nested 400 levels deep;
- all night long, 429s, 5xx answers, hanging answers and dropped connections on every API
  (``puente.simulators.limits.Faults``), and record versions served malformed;
- a kill (SIGKILL of the whole ``airflow dags test`` process group) while the extraction runs, or
  later in the night; the night is then run again for the same date, as Airflow's retry or an
  operator's "clear" would;
- a lost warehouse connection: the extraction's sessions are terminated by the server
  (``pg_terminate_backend``) while they run; Airflow's task retry resumes.

After each night it compares every source object with ``raw.*`` (each record's current version
landed, or quarantined with a reason; deletes flagged), checks each injected bad value has its
row in ``marts.data_issues`` or ``ops.quarantine`` and each future stamp its ``ops.record_flags``
row, looks for duplicate keys in the marts, and compares every CRM contact's Puente properties
with the last values the warehouse recorded as accepted. Results go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

from bench.results import markdown_table, write_section
from puente import runtime, warehouse
from puente.config import PROJECT_ROOT, puente_home
from puente.demo import _metadata_url, _task_states
from puente.simulators.app import Credentials, create_app
from puente.simulators.business import Business
from puente.simulators.business.salesforce import sf_id, sf_number
from puente.simulators.limits import UPDATED_AT, FaultRates, Faults, must_quarantine
from puente.simulators.server import SimulatorServer
from puente.simulators.systems import simulated, simulator
from puente.sources import registry
from puente.sources.salesforce.writer import FIELDS as SF_FIELDS

DATABASE = "chaos"
NIGHT_TIMEOUT_SECONDS = 1800
REQUEST_FAULTS = FaultRates(too_many_requests=0.02, server_error=0.02, timeout=0.005, disconnect=0.005,
                            malformed=0.001, changed_while_paging=0.05, late_update=0.05)

# A value of the wrong kind in an ordinary field: (system, object, field, bad value). The field is
# a top-level key (HubSpot: a property; Salesforce: the field as served, put into the sales team's
# book, SALESFORCE_BOOK). Reproduces issue 10's list, one of each field type, then the same for the
# opt-in systems (fields their staging types and reports, dbt_project/models/staging/<system>/base_*):
# only those of the systems a run has are drawn, in this order.
BAD_VALUES = (
    ("odoo", "account.move", "invoice_date", "0000-00-00"),
    ("odoo", "sale.order", "date_order", "2026-02-30 10:00:00"),
    ("odoo", "sale.order", "partner_id", ["x17", "Cliente"]),
    ("odoo", "sale.order", "amount_total", "abc"),
    ("odoo", "product.product", "list_price", "abc"),
    ("hubspot", "deals", "closedate", "2026-02-30T10:00:00.000Z"),
    ("hubspot", "deals", "amount", "abc"),
    ("shopify", "orders", "processed_at", "2026-02-30T10:00:00-05:00"),
    ("shopify", "orders", "total_price", "abc"),
    ("shopify", "customers", "created_at", "0000-00-00T00:00:00-05:00"),
    ("salesforce", "opportunities", "CloseDate", "2026-02-30T10:00:00.000Z"),
    ("woocommerce", "orders", "date_created_gmt", "2026-02-30T10:00:00"),
    ("woocommerce", "orders", "total", "abc"),
    ("woocommerce", "orders", "customer_id", "x17"),
    ("woocommerce", "products", "regular_price", "abc"),
    ("woocommerce", "customers", "date_created_gmt", "0000-00-00T00:00:00"),
    ("tiendanube", "orders", "created_at", "2026-02-30T10:00:00-05:00"),
    ("tiendanube", "orders", "total", "abc"),
    ("tiendanube", "customers", "created_at", "0000-00-00T00:00:00-05:00"),
    ("tiendanube", "products", "created_at", "2026-02-30T10:00:00-05:00"),
    ("mercadopago", "payments", "date_approved", "2026-02-30T10:00:00.000-04:00"),
    ("mercadopago", "payments", "transaction_amount", "abc"),
    ("mercadolibre", "orders", "date_closed", "2026-02-30T10:00:00.000-05:00"),
    ("mercadolibre", "orders", "total_amount", "abc"),
    ("stripe", "charges", "amount", "abc"),
    ("stripe", "refunds", "amount", "abc"),
)
# A Salesforce record as the sales team's book holds it (puente.simulators.business.salesforce): the
# book's object and the Salesforce object each raw object renders, and the book's property behind a
# field a fault goes into.
SALESFORCE_BOOK = {"accounts": ("companies", "Account"), "contacts": ("contacts", "Contact"),
                   "opportunities": ("deals", "Opportunity"), "opportunity_line_items": ("line_items", "OpportunityLineItem")}
SALESFORCE_PROPERTY = {"CloseDate": "closedate", "FirstName": "firstname", "Name": "name"}
# Text and structure no loader may land (JSON APIs only: an XML-RPC answer with NUL is not XML).
UNSTORABLE = (("nul", "\x00"), ("surrogate", "Andr\ud83d"), ("nesting", None))
TEXT_FIELD = {("hubspot", "contacts"): "firstname", ("hubspot", "companies"): "name",
              ("shopify", "customers"): "first_name", ("shopify", "products"): "title",
              ("salesforce", "contacts"): "FirstName", ("salesforce", "accounts"): "Name",
              ("woocommerce", "customers"): "first_name", ("tiendanube", "customers"): "name",
              ("mercadopago", "payments"): "description", ("stripe", "charges"): "description"}
# Deep nesting goes in a field the shop serves and no other record copies (a customer's tags are
# copied into each new order, which would carry the nesting after the customer is fixed).
NESTED_FIELD = {("shopify", "products"): "tags", ("woocommerce", "products"): "slug",
                ("mercadopago", "payments"): "description", ("stripe", "charges"): "description"}
# The systems whose records a fault can change, per object: Stripe stamps only ``created`` and tells a
# change by its event, which payment intents and balance transactions never send for one; a
# Salesforce Lead or Case is not drawn (a Lead is its contact's record too).
UNCHANGEABLE = {("stripe", "payment_intents"), ("stripe", "balance_transactions"), ("salesforce", "leads"),
                ("salesforce", "cases")}
CRMS = ("hubspot", "salesforce")


def run_systems(systems: str = "default", crm: str = "hubspot") -> tuple[str, ...]:
    """The systems a run's business runs, in registry order: ``default``, the three the simulators
    serve without options (Odoo, the CRM, Shopify); ``all``, every system of the registry with one CRM."""
    if crm not in CRMS:
        raise ValueError(f"crm must be one of {CRMS}")
    if systems == "default":
        chosen = {"odoo", crm, "shopify"}
    elif systems == "all":
        chosen = set(registry.names()) - (set(CRMS) - {crm})
    else:
        raise ValueError("systems must be 'default' or 'all'")
    return tuple(name for name in registry.names() if name in chosen)


def first_night(nights: int, today: date | None = None) -> date:
    """The business day of the first of ``nights`` consecutive nights that end yesterday."""
    return (today or datetime.now(UTC).date()) - timedelta(days=nights)


def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


@dataclass
class Injected:
    """What was broken at the source tonight, to check later that Puente reported each."""

    kind: str  # bad_value, future, unstorable
    system: str
    obj: str
    rid: int
    field: str
    original: object = None
    night: int = 0
    broken: object = None


@dataclass
class Night:
    number: int
    day: date
    attempts: int = 0
    kills: list[str] = field(default_factory=list)
    lost_connections: int = 0
    ok: bool = False
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    checks: dict = field(default_factory=dict)


class Chaos:
    def __init__(self, nights: int, customers: int, seed: int, kill_share: float, lost_connection_share: float,
                 systems: tuple[str, ...] = registry.DEFAULT_SYSTEMS):
        self.nights, self.seed, self.systems = nights, seed, systems
        self.kill_share, self.lost_connection_share = kill_share, lost_connection_share
        self.rng = random.Random(seed)
        self.faults = Faults(seed=seed, hang_seconds=1.0, **{name: REQUEST_FAULTS for name in systems})
        self.bad_values = [b for b in BAD_VALUES if b[0] in systems]
        self.text_fields = {k: v for k, v in TEXT_FIELD.items() if k[0] in systems}
        self.nested_fields = {k: v for k, v in NESTED_FIELD.items() if k[0] in systems}
        options = {option: value for sim in simulated() if sim.opt_in and sim.name in systems
                   for option, value in sim.business_options.items()}
        # The last night is yesterday's: a simulated day after the machine's clock would bring orders
        # from the future, which the marts gate rightly refuses (a night never runs before its day).
        self.business = Business(seed=seed, customers=customers, start=first_night(nights), **options)
        self.credentials = Credentials()
        self.injected: list[Injected] = []
        self.to_fix: list[Injected] = []

    # ------------------------------------------------------------------ the sources

    def _book(self, system: str, obj: str, rid) -> tuple[str, str, int | str]:
        """Where a record is kept: a Salesforce record in the sales team's book (``hubspot``)."""
        if system == "salesforce":
            return "hubspot", SALESFORCE_BOOK[obj][0], sf_number(SALESFORCE_BOOK[obj][1], rid)
        return system, obj, rid

    def _record(self, system: str, obj: str, rid) -> dict:
        system, obj, rid = self._book(system, obj, rid)
        record = self.business.table(system, obj)[rid]
        return record["properties"] if system == "hubspot" else record

    def _touch(self, system: str, obj: str, rid, late_by: float = 0.0) -> None:
        self.business.touch(*self._book(system, obj, rid), late_by=late_by)

    def _pick(self, system: str, obj: str):
        if system == "salesforce":
            book, sobject = SALESFORCE_BOOK[obj]
            leads = self.business.crm.leads
            ids = [sf_id(sobject, rid) for rid, r in self.business.table("hubspot", book).items()
                   if not r.get("archived") and rid not in leads
                   and (book != "contacts" or r["properties"].get("lifecyclestage") != "lead")]
            return self.rng.choice(ids)
        ids = [rid for rid, r in self.business.table(system, obj).items()
               if not self.business.is_deleted(system, obj, rid)
               and not (system == "odoo" and obj == "account.move" and r.get("move_type") not in ("out_invoice", "out_refund"))
               and not (system == "hubspot" and r.get("archived"))
               # trashed, cancelled: out of the default lists, landed as deleted (nothing left to report)
               and not (system in ("woocommerce", "tiendanube", "mercadolibre")
                        and r.get("status") in ("trash", "cancelled"))]
        return self.rng.choice(ids)

    def _field(self, system: str, name: str) -> str:
        return SALESFORCE_PROPERTY[name] if system == "salesforce" else name

    def shield(self, broken: bool) -> None:
        """Puts the opt-in systems' originals back while the business lives its day (``broken``
        False), then the broken values again: their writers read their own records (a refund reads its
        charge's amount), and a value an operator typed wrong must not stop the simulated business.
        The default systems' broken values stay in place, as they always did."""
        for item in self.to_fix:
            if item.system not in registry.DEFAULT_SYSTEMS:
                holder = self._record(item.system, item.obj, item.rid)
                holder[self._field(item.system, item.field)] = item.broken if broken else item.original

    def fix_yesterday(self) -> None:
        """The business fixes what was broken (its value comes back), with a new updated-at."""
        for item in self.to_fix:
            name = self._field(item.system, item.field)
            self._record(item.system, item.obj, item.rid)[name] = item.original
            if item.original is None:
                self._record(item.system, item.obj, item.rid).pop(name, None)
            self._touch(item.system, item.obj, item.rid)
        self.to_fix = []

    def inject(self, night: int) -> list[Injected]:
        tonight = []
        for system, obj, name, bad in self.rng.sample(self.bad_values, self.rng.randint(1, 3)):
            rid = self._pick(system, obj)
            holder = self._record(system, obj, rid)
            key = self._field(system, name)
            tonight.append(Injected("bad_value", system, obj, rid, name, holder.get(key), night, bad))
            holder[key] = bad
            self._touch(system, obj, rid)
        if self.rng.random() < 0.5:
            kind, value = self.rng.choice(UNSTORABLE)
            fields = self.nested_fields if kind == "nesting" else self.text_fields
            system, obj = self.rng.choice(sorted(fields))
            rid = self._pick(system, obj)
            holder = self._record(system, obj, rid)
            name = fields[system, obj]
            key = self._field(system, name)
            broken = _nested(400) if kind == "nesting" else (holder.get(key) or "") + value
            tonight.append(Injected(f"unstorable:{kind}", system, obj, rid, name, holder.get(key), night, broken))
            holder[key] = broken
            self._touch(system, obj, rid)
        if self.rng.random() < 0.4:
            system = self.rng.choice(self.systems)
            obj = self.rng.choice([o.name for o in registry.source(system).objects
                                   if (system, o.name) not in UNCHANGEABLE and self.truth(system, o.name)])
            rid = self._pick(system, obj)
            days = self.rng.choice((3, 30, 365 * 73))  # up to 2099
            self._touch(system, obj, rid, late_by=-days * 86400)
            tonight.append(Injected("future", system, obj, rid, UPDATED_AT[system], None, night))
        self.injected += tonight
        # bad values and unstorable text are fixed at the source tomorrow; future stamps stay
        self.to_fix = [i for i in tonight if i.kind != "future"]
        return tonight

    # ------------------------------------------------------------------ one night

    def run_night(self, env: dict[str, str], night: Night, url: str, logs: Path) -> None:
        logical = datetime(night.day.year, night.day.month, night.day.day, tzinfo=UTC)
        plan = None
        if self.rng.random() < self.kill_share:
            plan = self.rng.choice(("extract", "transform", "ml", "write_back"))
        lose_connection = self.rng.random() < self.lost_connection_share
        began = time.monotonic()
        while night.attempts < 4:
            night.attempts += 1
            started = datetime.now(UTC)
            log_path = logs / f"chaos-{night.day}-{night.attempts}.log"
            with log_path.open("w") as log:
                proc = subprocess.Popen([runtime.airflow_bin(), "dags", "test", "puente_nightly", logical.isoformat()],
                                        env=runtime.child_env(env), stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
                killed = self._watch(proc, env, logical, started, url, plan, lose_connection, night)
            lose_connection = False
            if killed:
                plan = None
                continue
            if proc.returncode == 0 and _last_run_state(env, logical) == "success":
                night.ok = True
                break
            failed = [t for t, state, *_ in _task_states(env, logical, started) if state == "failed"]
            night.failures.append(f"attempt {night.attempts}: failed tasks {failed} (log {log_path.name})")
        night.seconds = time.monotonic() - began

    def _watch(self, proc, env, logical, started, url, plan, lose_connection, night: Night) -> bool:
        """Wait for the night, killing it (``plan``: in which stage) or cutting the extraction's
        warehouse sessions once; True when it was killed."""
        deadline = time.monotonic() + NIGHT_TIMEOUT_SECONDS
        delay = None
        while proc.poll() is None:
            if time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                night.failures.append(f"attempt {night.attempts}: did not finish in {NIGHT_TIMEOUT_SECONDS} s")
                return False
            if plan or lose_connection:
                running = {t.split(".")[0] for t, state, *_ in _task_states(env, logical, started) if state == "running"}
                if lose_connection and "extract" in running:
                    with psycopg.connect(url, autocommit=True) as conn:
                        cut = conn.execute("select count(pg_terminate_backend(pid)) from pg_stat_activity "
                                           "where application_name like 'puente extract%%' and pid <> pg_backend_pid()"
                                           ).fetchone()[0]
                    if cut:
                        night.lost_connections += cut
                        lose_connection = False
                if plan and plan in running:
                    delay = delay if delay is not None else time.monotonic() + self.rng.uniform(0, 4)
                    if time.monotonic() >= delay:
                        os.killpg(proc.pid, signal.SIGKILL)
                        proc.wait()
                        night.kills.append(plan)
                        return True
            time.sleep(0.5)
        return False

    # ------------------------------------------------------------------ truth

    def snapshot(self) -> dict[tuple[str, str, int], object]:
        """Every record's updated-at as the night starts: what the night's extraction must land.
        Changes made while it runs (Puente's own write-back, records changed while paged) may
        land tonight or tomorrow; the next night's snapshot holds them."""
        return {(spec.name, obj.name, rid): record.get(obj.cursor)
                for spec in self.sources() for obj in spec.objects
                for rid, record in self.truth(spec.name, obj.name).items()}

    def sources(self) -> tuple:
        return tuple(spec for spec in registry.SOURCES if spec.name in self.systems)

    def truth(self, system: str, obj: str) -> dict:
        """The records of an object as its system serves them, by id as raw keys them (text)."""
        if system == "salesforce":
            sobject = SALESFORCE_BOOK.get(obj, (None, registry.source_object(system, obj).sobject))[1]
            return {r["Id"]: r for r in self.business.salesforce.table(sobject)}
        return {str(rid): r for rid, r in self.business.table(system, obj).items()}

    def _deleted(self, system: str, obj: str, sid: str, record: dict) -> bool:
        if system == "salesforce":
            return bool(record.get("IsDeleted"))
        rid = sid if system == "stripe" else int(sid)
        return self.business.is_deleted(system, obj, rid)

    def check(self, url: str, night: Night, before: dict) -> dict:
        business = self.business
        lost, phantom, stale_deletes, quarantined_ok = [], 0, 0, 0
        with psycopg.connect(url) as conn:
            quarantine = {(s, o, i) for s, o, i in conn.execute("select source, object, source_id from ops.quarantine")}
            for spec in self.sources():
                for obj in spec.objects:
                    table = warehouse.raw_object(spec.name, obj.name).qualified_table
                    raw = {sid: (stamp, deleted) for sid, stamp, deleted in conn.execute(
                        f"select source_id, source_updated_at, _deleted from {table}")}
                    source_ids = set()
                    for sid, record in self.truth(spec.name, obj.name).items():
                        if spec.name == "odoo" and obj.name == "account.move" and \
                                record.get("move_type") not in ("out_invoice", "out_refund"):
                            continue
                        source_ids.add(sid)
                        if self._deleted(spec.name, obj.name, sid, record):
                            if sid in raw and not raw[sid][1]:
                                stale_deletes += 1
                            continue
                        if (spec.name, obj.name, sid) not in before:  # created while the night ran
                            continue
                        served = before[spec.name, obj.name, sid]
                        stamp = _stamp(served)
                        kind = self._malformed(spec.name, obj.name, record, served)
                        if must_quarantine(spec.name, kind) or self._unstorable_now(spec.name, obj.name, sid):
                            # this version cannot be landed: it must be in quarantine with a reason
                            # (a missing id is quarantined without one: matched on the object only)
                            if (spec.name, obj.name, sid) in quarantine or (
                                    kind == "missing_id" and (spec.name, obj.name, None) in quarantine):
                                quarantined_ok += 1
                            else:
                                lost.append(f"{spec.name}.{obj.name} {sid} ({kind or 'unstorable'}, not quarantined)")
                            continue
                        if sid not in raw:
                            lost.append(f"{spec.name}.{obj.name} {sid} missing")
                        elif raw[sid][0] is None or (stamp is not None and raw[sid][0] < stamp):
                            lost.append(f"{spec.name}.{obj.name} {sid} stale ({raw[sid][0]} < {stamp})")
                    phantom += len(set(raw) - source_ids)
            issues = {(s, o, r, f) for s, o, r, f in conn.execute(
                "select source_system, source_object, record_id, field from marts.data_issues")}
            flags = {(s, o, i) for s, o, i in conn.execute("select source, object, source_id from ops.record_flags")}
            duplicates = {}
            for table, key in (("marts.dim_customers", "customer_id"), ("marts.fct_orders", "order_id"),
                               ("marts.fct_order_lines", "order_line_id"), ("marts.dim_products", "product_id")):
                duplicates[table] = conn.execute(
                    f"select count(*) - count(distinct {key}) from {table}").fetchone()[0]
            # What the CRM last accepted from the score activation, per contact.
            sent = {cid: props for cid, props in conn.execute(
                "select target_id, payload from ops.activation_state where activation = 'crm_contact_scores'")}
        tonight = [i for i in self.injected if i.night == night.number]
        reported, unreported = 0, []
        for item in tonight:
            key = (item.system, item.obj, str(item.rid))
            if item.kind == "bad_value":
                hit = any(s == item.system and o == item.obj and r == str(item.rid) and f.split(".")[-1] == item.field
                          for s, o, r, f in issues)
            elif item.kind == "future":
                hit = key in flags
            else:
                hit = key in quarantine
            reported += hit
            if not hit:
                unreported.append(f"{item.kind} {item.system}.{item.obj} {item.rid} {item.field}")
        crm_differs = []
        if "salesforce" in self.systems:  # Puente's fields of a Contact, by the activation's names
            people = {sf_id("Contact", number): {name: stored.get(name_in_org) for name, name_in_org in SF_FIELDS.items()}
                      for number, stored in business.salesforce.contact_fields.items()}
        else:
            people = {str(rid): r.get("properties", {}) for rid, r in business.table("hubspot", "contacts").items()}
        for cid, props in sent.items():
            shown = people.get(str(cid), {})
            for name, value in props.items():
                if not _same(shown.get(name), value):
                    crm_differs.append(f"contact {cid} {name}: CRM {shown.get(name)!r}, warehouse {value!r}")
        return {"lost": lost, "phantom": phantom, "deletes_not_flagged": stale_deletes,
                "quarantined_with_reason": quarantined_ok, "injected": len(tonight), "reported": reported,
                "unreported": unreported, "duplicates": duplicates, "crm_contacts": len(sent),
                "crm_differs": crm_differs}

    def _unstorable_now(self, system: str, obj: str, sid: str) -> bool:
        return any(i.kind.startswith("unstorable") and (i.system, i.obj, str(i.rid)) == (system, obj, sid)
                   for i in self.to_fix)

    def _malformed(self, system: str, obj: str, record: dict, served) -> str | None:
        """How the simulator serves this version broken (``FaultInjector.serve``), None when whole."""
        if system == "salesforce":  # served by its sObject name, without a lower-case id to drop
            kind = self.faults.malformed(system, SALESFORCE_BOOK.get(obj, (None, registry.source_object(
                system, obj).sobject))[1], None, served)
            kind = None if kind == "missing_id" else kind
        else:
            kind = self.faults.malformed(system, obj, record.get("id"), served)
        if kind == "bad_encoding" and not _lands(system, obj, record):
            return None  # the text cut is in a field that never lands (a payment intent's description)
        return kind


def _lands(system: str, obj: str, record: dict) -> bool:
    """Whether the field a bad encoding cuts in ``record`` (``FaultInjector.serve``: the first of its
    simulator's text fields it has) lands (minimum data: only declared fields land)."""
    holder = (record.get("properties") or {}) if system == "hubspot" else record
    names = simulator(system).text_fields
    name = next((k for k in names if k in holder), names[0])
    path = f"properties.{name}" if system == "hubspot" else name
    landed = registry.source_object(system, obj).landed_fields
    return not landed or any(f == path or f.startswith((f"{path}.", f"{path}[]")) for f in landed)


def _last_run_state(env: dict[str, str], logical: datetime) -> str | None:
    """The state of the latest run for ``logical`` (a killed attempt leaves its run behind)."""
    with psycopg.connect(_metadata_url(env)) as conn:
        row = conn.execute("select state from dag_run where dag_id = 'puente_nightly' and logical_date = %s "
                           "order by id desc limit 1", (logical,)).fetchone()
    return row[0] if row else None


def _stamp(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _same(shown, sent) -> bool:
    if shown in (None, "") and sent in (None, ""):
        return True
    if shown is None or sent is None:
        return False
    try:
        return abs(float(shown) - float(sent)) < 1e-9
    except (TypeError, ValueError):
        return str(shown) == str(sent)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--kill-share", type=float, default=0.3, help="share of nights killed once")
    parser.add_argument("--lost-connection-share", type=float, default=0.25,
                        help="share of nights whose extraction loses its warehouse connection")
    parser.add_argument("--systems", choices=("default", "all"), default="default",
                        help="the systems the simulated business runs and the faults reach: default, Odoo, the CRM "
                             "and Shopify; all, every system of the registry (WooCommerce, Tienda Nube, Mercado "
                             "Libre, Mercado Pago and Stripe too) (default: %(default)s)")
    parser.add_argument("--crm", choices=CRMS, default="hubspot",
                        help="the business's CRM (default: %(default)s)")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args(argv)
    systems = run_systems(args.systems, args.crm)

    os.environ.setdefault("PUENTE_AIRFLOW_DB", "airflow_chaos")
    os.environ["PUENTE_RETRY_DELAY_SECONDS"] = "2"
    base = warehouse.ensure_embedded()
    warehouse.drop_database(base, DATABASE)
    warehouse.create_database(base, DATABASE)
    url = warehouse.with_database(base, DATABASE)
    warehouse.ensure_schema(url)
    env = runtime.airflow_env(url)
    env["PUENTE_RETRY_DELAY_SECONDS"] = "2"
    env["PUENTE_SYSTEMS"] = ",".join(systems)  # what the DAG extracts
    # The night runs this checkout's Puente (a worktree's), not the one the virtualenv was installed from.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
    runtime.migrate_airflow(env)
    logs = puente_home() / "logs" / "chaos"
    logs.mkdir(parents=True, exist_ok=True)

    began = time.monotonic()
    chaos = Chaos(args.nights, args.customers, args.seed, args.kill_share, args.lost_connection_share, systems)
    nights: list[Night] = []
    with SimulatorServer(create_app(chaos.business, chaos.credentials, faults=chaos.faults)) as sim:
        env.update(runtime.simulated_sources_env(chaos.credentials, sim.base_url))
        for number in range(args.nights):
            if number:
                chaos.shield(False)
                chaos.business.advance_day()
                chaos.shield(True)
                chaos.fix_yesterday()
            night = Night(number, chaos.business.today)
            tonight = chaos.inject(number)
            before = chaos.snapshot()
            chaos.run_night(env, night, url, logs)
            night.checks = chaos.check(url, night, before) if night.ok else {}
            nights.append(night)
            c = night.checks
            print(f"night {number + 1}/{args.nights} {night.day}: {'ok' if night.ok else 'FAILED'} in "
                  f"{night.seconds:.0f} s, attempts {night.attempts}, kills {night.kills}, lost connections "
                  f"{night.lost_connections}, injected {[i.kind for i in tonight]}; lost {len(c.get('lost', []))}, "
                  f"unreported {c.get('unreported')}, crm differs {len(c.get('crm_differs', []))}"
                  + (f"; failures {night.failures}" if night.failures else ""), flush=True)
            for line in (c.get("lost", []) + c.get("crm_differs", []))[:5]:
                print("   ", line, flush=True)
            if not args.no_write:  # after every night, so that an interrupted run still leaves its figures
                _write(nights, args, time.monotonic() - began)
    total = time.monotonic() - began
    (logs / "nights.json").write_text(json.dumps([n.__dict__ for n in nights], default=str, indent=1))
    print(_report(nights, args, total))
    return 0 if all(n.ok for n in nights) else 1


def _write(nights: list[Night], args, seconds: float) -> None:
    """The default run's section is ``chaos``; a run of other systems has its own (``chaos-all``,
    ``chaos-all-salesforce``, ``chaos-default-salesforce``)."""
    options, key, heading = "", "chaos", "Chaos: consecutive nights with every fault injected"
    if (args.systems, args.crm) != ("default", "hubspot"):
        options = f" --systems {args.systems}" + (f" --crm {args.crm}" if args.crm != "hubspot" else "")
        key = "-".join(["chaos", args.systems] + ([args.crm] if args.crm != "hubspot" else []))
        heading += f", {'every system' if args.systems == 'all' else 'the default systems'}" + \
            (f" (CRM {args.crm})" if args.crm != "hubspot" else "")
    write_section(key, heading, f"python -m bench.chaos --nights {args.nights} --customers {args.customers} "
                                f"--seed {args.seed}{options}", _report(nights, args, seconds))


def _report(nights: list[Night], args, total: float) -> str:
    done = [n for n in nights if n.ok]
    checks = [n.checks for n in done]
    kinds = Counter()
    for n in nights:
        kinds.update(n.kills)
    last = checks[-1] if checks else {}
    rows = [
        ["nights run", len(nights)],
        ["nights completed", f"{len(done)} ({sum(n.attempts == 1 for n in done)} on the first attempt; "
                             f"{sum(bool(n.kills) for n in done)} after a kill and a rerun)"],
        ["nights that needed a rerun not caused by a kill", sum(bool(n.failures) for n in nights)],
        ["kills of the night (stage: count)", ", ".join(f"{k}: {v}" for k, v in sorted(kinds.items())) or "0"],
        ["warehouse sessions of the extraction terminated", sum(n.lost_connections for n in nights)],
        ["faults put into the sources (bad values, unstorable text, future stamps)",
         sum(c["injected"] for c in checks)],
        ["… reported with a reason the same night (data_issues, quarantine, record_flags)",
         sum(c["reported"] for c in checks)],
        ["record versions the sources served broken, quarantined with a reason (last night)",
         last.get("quarantined_with_reason", "")],
        ["rows lost or stale against the sources (worst night / last night)",
         f"{max((len(c['lost']) for c in checks), default='')} / {len(last.get('lost', []))}"],
        ["rows in raw the sources never had", max((c["phantom"] for c in checks), default="")],
        ["deletes not flagged (worst night)", max((c["deletes_not_flagged"] for c in checks), default="")],
        ["duplicate keys in the marts (worst night)",
         max((sum(c["duplicates"].values()) for c in checks), default="")],
        ["CRM values differing from the warehouse's (worst night / last night)",
         f"{max((len(c['crm_differs']) for c in checks), default='')} / {len(last.get('crm_differs', []))} "
         f"of {last.get('crm_contacts', 0)} contacts"],
    ]
    failures = [f"- night {n.number + 1} ({n.day}): {'; '.join(n.failures)}" for n in nights if n.failures]
    unreported = [f"- night {n.number + 1}: {u}" for n in done for u in n.checks["unreported"]]
    return "\n\n".join(filter(None, [
        (f"**In progress: {len(nights)} of {args.nights} nights run so far.**" if len(nights) < args.nights else ""),
        f"{args.nights} consecutive nights of `puente_nightly` (`airflow dags test`, the demo's path) over a "
        f"simulated business of {args.customers} customers (seed {args.seed}) running "
        f"{', '.join(registry.source(name).title for name in run_systems(args.systems, args.crm))}, "
        f"{total / 60:.0f} minutes in all. "
        f"All night, every API answers 2% 429, 2% 5xx, 0.5% hangs, 0.5% dropped connections, 0.1% of record "
        f"versions malformed, and records change while paged or late. Each night 1-3 bad values (of "
        f"{sum(b[0] in run_systems(args.systems, args.crm) for b in BAD_VALUES)} kinds across the systems), half the nights NUL, a lone surrogate or 400-level "
        f"nesting, 40% a future stamp (3 days to 73 years ahead); {args.kill_share:.0%} of nights killed once "
        f"(SIGKILL of the whole process group) in a random stage and run again; {args.lost_connection_share:.0%} "
        f"lose the extraction's warehouse sessions. Truth: the simulators' own records.",
        markdown_table(["measure", "value"], rows),
        "Nights that failed for another reason than a kill:\n" + "\n".join(failures) if failures else "",
        "Faults not reported the night they were put in:\n" + "\n".join(unreported[:20]) if unreported else "",
    ]))


if __name__ == "__main__":
    raise SystemExit(main())
