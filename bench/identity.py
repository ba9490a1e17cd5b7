"""`make bench-identity`: identity resolution against the generator's truth, and dbt build time.

Run `python -m bench.identity [customers] [seed] [--crm salesforce]` (default 100,000 customers,
seed 7, HubSpot). Steps:

1. generate the business (`puente.simulators.business.Business(seed, customers, crm=…)`) with a
   WooCommerce store, a Tienda Nube outlet and a Mercado Libre seller account beside the Shopify
   shop (SHOPS: the same people buy in several channels), its CRM HubSpot or Salesforce (the same
   people and sales team either way), pure Python;
2. land every record straight from the Business stores into raw.* of a fresh database with one
   `COPY` per object of every registered source the business runs: the records are the dicts the
   simulated APIs serve (Odoo fields, HubSpot `{id, properties, createdAt, updatedAt, archived}`,
   Salesforce's sObjects, the shops' resources; a Mercado Libre sale with its billing data and
   shipment, as the connector adds them) reduced to their declared fields, `source_updated_at` and
   `_deleted`, as the connectors land them;
3. `dbt build --exclude tag:activation` (a first, full night), timed;
4. one more simulated day, its created and changed records upserted into raw.*, and the build
   run again, timed: an incremental night (int_customer_ids keeps ids, fct_orders and
   fct_order_lines recompute only the orders the day touched, the customer marts only the
   customers it changed, the rest rebuilds). The nights
   here are minutes apart, so the facts' look-back (var `incremental_lookback_hours`, one hour
   by default, for loads committing while a run reads) is set to 0, or it would re-read the
   whole first night;
5. every pair of that night's review queue decided as the truth says (`decide_the_queue`, through
   the operator's path, `puente.identity_review.record_decision`) and the models downstream of
   the decisions rebuilt: what a perfect reviewer adds, reported beside the automatic figures;
6. precision and recall of "same customer" pairs: among the customer records of
   intermediate.int_customers_matched that the truth ties to a person, a pair is predicted
   when both records have one customer_id and true when both have one person_id. The customer
   records are those of the kinds dbt's macro `customer_record_types` lists (read back from
   dim_customers' id arrays); the truth ties a record of most kinds to its person by the simulated
   object the kind's name says, a Salesforce contact (a Contact or an unconverted Lead) through
   the org's view of the sales team's book, a Mercado Libre buyer through the sales it bought
   (`_customer_records`). Beside recall, the recall of the linkable pairs: the true pairs a
   chain of the person's records sharing a mailbox, a phone, a tax id's digits or a door, or an
   order a ticket on one cites, joins (`linkable_pairs`); the rest share names and cities only,
   and no matching can find them;
7. on the first night, each won deal's order (int_deals_orders_matched, which reads the customers
   identity made) against the truth: whether a deal a salesperson keyed into the ERP found that
   order, and whether a deal nobody keyed in took another order (`deal_orders`).

Results go into the `identity` section of bench/RESULTS.md (another size or CRM: a section of its
own, `identity-<crm>-<customers>`): overall and per variation class
(messiness.VARIATION_CLASSES, from `messiness.record_variations`), per source pair (every pair
of record kinds, a kind with itself included), the review queue's size and
the comparison levels' rates by the truth. Goal (issue 11): precision >= 0.995 and recall >= 0.98
overall and in every class at 100,000 customers, the review queue under 1% of customers.
With `--field-key`, phones and tax ids land sealed, as a business with a field key has them
(puente.field_crypto, puente.sealed_keys), in a section of its own; with `--one-shop`, the business
runs Shopify alone beside its ERP and CRM (the shape issue 11 timed its incremental night on).
Set BENCH_IDENTITY_KEEP_DATABASE=1 to keep the database for a look afterwards.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
import uuid
from collections import Counter, defaultdict
from itertools import combinations
from typing import Any

import psycopg
import yaml

from bench.results import markdown_table, write_section
from puente import report, warehouse
from puente.config import dbt_project_dir
from puente.dbt import MAIN_BUILD_ARGS, run_dbt
from puente.field_crypto import FieldKeys, new_key
from puente.identity_review import record_decision
from puente.simulators.business import Business
from puente.simulators.business.messiness import VARIATION_CLASSES, record_variations
from puente.simulators.business.salesforce import sf_number
from puente.simulators.business.simulation import CRMS
from puente.simulators.landing import changed_since, land, landed_objects, landed_sale

SHOPS = ("woocommerce", "tiendanube", "mercadolibre")  # the stores the bench's business runs besides Shopify


def record_types(url: str) -> dict[str, str]:
    """The customer record kinds the golden record merges, per system (``{"odoo": "odoo_partner", …}``):
    dbt's macro ``customer_record_types`` as dim_customers' id arrays show it, so a source added
    there is measured here without a change."""
    with psycopg.connect(url) as conn:
        return {system: column.removesuffix("_ids") for system, column in report.customer_id_columns(conn).items()}


def _truth_object(business: Business, system: str, record_type: str) -> str:
    """The simulated object a record kind is read from: the one its name says (`odoo_partner` is
    res.partner, `hubspot_contact` contacts, `shopify_customer` customers)."""
    noun = record_type.removeprefix(f"{system}_")
    objects = [obj for obj in getattr(business, system) if obj.lower().rsplit(".", 1)[-1].rstrip("s") == noun]
    if len(objects) != 1:
        raise ValueError(f"no single object of {system} holds its {record_type} records: {objects}")
    return objects[0]


def _customer_records(business: Business, kinds: dict[str, str]):
    """Every customer record the truth ties to a person: (its key as dbt writes it, the person, its
    system, the record as the system holds it). Most kinds are one simulated object's records; a
    Salesforce contact is a Contact or a Lead (an unconverted one: dbt leaves converted ones out);
    a Mercado Libre buyer is no object of its own, but the buyer of sales, seen through the latest
    one as it lands (its names and city; its document, or the latest one the buyer gave), as dbt
    reads it."""
    by_object = {(system, _truth_object(business, system, kind)): kind for system, kind in kinds.items()
                 if system not in ("salesforce", "mercadolibre") and landed_objects(business, system)}
    people = {sobject: {r["Id"]: r for r in business.salesforce.table(sobject)} if business.salesforce else {}
              for sobject in ("Contact", "Lead")}
    sales: dict[int, list[tuple[str, dict]]] = defaultdict(list)  # buyer id -> (person, sale)
    for row in business.truth():
        system, obj, rid, person = row["system"], row["object"], row["id"], row["person_id"]
        if not person:
            continue
        if system == "salesforce" and obj in ("contacts", "leads"):
            yield f"{kinds[system]}:{rid}", person, system, people["Contact" if obj == "contacts" else "Lead"][rid]
        elif system == "mercadolibre" and obj == "orders":
            sale = business.table(system, obj)[int(rid)]
            sales[sale["buyer"]["id"]].append((person, sale))
        elif (system, obj) in by_object:
            yield f"{by_object[(system, obj)]}:{rid}", person, system, business.table(system, obj)[int(rid)]
    for buyer, bought in sales.items():
        if len({person for person, _ in bought}) != 1:
            raise ValueError(f"Mercado Libre buyer {buyer} buys for several people: {bought}")
        landed = sorted((landed_sale(business, sale) for _, sale in bought), key=lambda s: s["date_last_updated"])
        latest = landed[-1]
        documented = [s["billing_info"] for s in landed if s["billing_info"] and s["billing_info"]["doc_number"]]
        yield (f"{kinds['mercadolibre']}:{buyer}", bought[0][0], "mercadolibre",
               {**latest, "billing_info": latest["billing_info"] or (documented[-1] if documented else None)})


def _truth(business: Business, kinds: dict[str, str]) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Per record key of a customer record: its person, and the variation classes it shows."""
    person, classes = {}, {}
    for key, person_id, system, record in _customer_records(business, kinds):
        person[key] = person_id
        classes[key] = record_variations(business.population.person(person_id), system, record)
    return person, classes


def _scores(predicted: set, actual: set) -> dict[str, Any]:
    both = len(predicted & actual)
    return {"true_pairs": len(actual), "predicted_pairs": len(predicted),
            "precision": both / len(predicted) if predicted else 1.0,
            "recall": both / len(actual) if actual else 1.0}


def _linkable(predicted: set, linkable: set) -> dict[str, Any]:
    return {"linkable_pairs": len(linkable),
            "linkable_recall": len(predicted & linkable) / len(linkable) if linkable else 1.0}


def _pairs(groups: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {(a, b) for keys in groups.values() for a, b in combinations(sorted(keys), 2)}


# The evidence a person reading two records could join them by: a mailbox, a phone (or its last
# seven digits), a tax id's digits (check digit aside) or a door in a city, as identity
# normalises them (int_customer_records_unioned). Names are not in it: a name and a city alone
# cannot tell namesakes apart.
EVIDENCE = (("email", "email_canonical"), ("phone", "phone_normalized"), ("phone", "other_phone_normalized"),
            ("phone_tail", "phone_tail"), ("phone_tail", "other_phone_tail"), ("tax_id", "tax_id_body"),
            ("door", "address_key || '|' || city_normalized"))


def linkable_pairs(url: str, person: dict[str, str]) -> set[tuple[str, str]]:
    """The true pairs the data can join: the two records are one person's and a chain of that
    person's records, each sharing a piece of EVIDENCE with the next (or one a ticket on the other
    cites an order of), runs from one to the other.
    A value more people hold than var identity_block_max_holders (the business's own phone, a
    placeholder, an office building's door) is no one's evidence. The other true pairs share
    nothing but a name and perhaps a city: impossible by construction."""
    max_holders = yaml.safe_load((dbt_project_dir() / "dbt_project.yml").read_text())["vars"][
        "identity_block_max_holders"]
    values: dict[tuple[str, str], set[str]] = defaultdict(set)  # (kind, value) -> record keys
    with psycopg.connect(url) as conn:
        for key, *keys in conn.execute(f"select record_key, {', '.join(column for _, column in EVIDENCE)} "
                                       "from intermediate.int_customer_records_unioned"):
            if key in person:
                for (kind, _), value in zip(EVIDENCE, keys, strict=True):
                    if value is not None:
                        values[(kind, value)].add(key)
        # an order a ticket cites: the ticket's contact and the order's customer record
        for ticket, *keys in conn.execute("select source_system || ':' || ticket_id || ':' || cited_number, "
                                          "ticket_record_key, order_record_key "
                                          "from intermediate.int_customer_ticket_orders"):
            values[("ticket_order", ticket)].update(key for key in keys if key in person)
    parent = {key: key for key in person}

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key
    for holders in values.values():
        by_person: dict[str, list[str]] = defaultdict(list)
        for key in holders:
            by_person[person[key]].append(key)
        if len(by_person) > max_holders:
            continue
        for keys in by_person.values():
            for key in keys[1:]:
                parent[root(key)] = root(keys[0])
    components: dict[str, list[str]] = defaultdict(list)
    for key in person:
        components[root(key)].append(key)
    return _pairs(components)


def pair_scores(url: str, business: Business) -> dict[str, Any]:
    """Precision and recall of "same customer" pairs, overall and per variation class (a pair
    counts for a class when either record shows it), the recall among the pairs the data can
    join (``linkable_pairs``), and the review queue's size."""
    kinds = record_types(url)
    person, classes = _truth(business, kinds)
    with psycopg.connect(url) as conn:
        matched = conn.execute("select record_key, customer_id from intermediate.int_customers_matched").fetchall()
        # the customers a pair of the queue touches (one in several pairs, on either side, counts once)
        queue = conn.execute("select (select count(*) from marts.customer_review_queue), count(*) from ("
                             "select customer_id from marts.customer_review_queue union "
                             "select other_customer_id from marts.customer_review_queue) as touched").fetchone()
        doubtful = conn.execute("select count(*) from intermediate.int_customer_match_evidence "
                                "where rule = 'doubtful_tax_id'").fetchone()[0]
        all_customers = conn.execute("select count(distinct customer_id) from intermediate.int_customers_matched"
                                     ).fetchone()[0]
    matched = [(key, customer) for key, customer in matched if key in person]
    by_customer: dict[str, list[str]] = defaultdict(list)
    by_person: dict[str, list[str]] = defaultdict(list)
    for key, customer in matched:
        by_customer[customer].append(key)
        by_person[person[key]].append(key)
    predicted, actual = _pairs(by_customer), _pairs(by_person)
    # sons named after the father they live with (population.NAMED_AFTER_SHARE): how many share a customer
    customers_of: dict[str, set[str]] = defaultdict(set)
    for key, customer in matched:
        customers_of[person[key]].add(customer)
    named_after = [(p.id, p.named_after) for p in business.population.people
                   if p.named_after and customers_of[p.id] and customers_of[p.named_after]]
    linkable = linkable_pairs(url, {key: person[key] for key, _ in matched}) & actual
    per_class = {}
    for name in VARIATION_CLASSES:
        def shows(pair: tuple[str, str], name: str = name) -> bool:
            return name in classes[pair[0]] or name in classes[pair[1]]
        shown = {pair for pair in actual if shows(pair)}
        per_class[name] = {"records": sum(1 for key, _ in matched if name in classes[key]),
                           **_scores({pair for pair in predicted if shows(pair)}, shown),
                           **_linkable(predicted, shown & linkable)}
    # per source pair, every pair of record kinds (one kind with itself: duplicates within a system)
    order = list(kinds.values())
    def kinds_of(pair: tuple[str, str]) -> tuple[str, str]:
        a, b = (key.split(":", 1)[0] for key in pair)
        return (a, b) if order.index(a) <= order.index(b) else (b, a)
    predicted_by, actual_by = defaultdict(set), defaultdict(set)
    for pair in predicted:
        predicted_by[kinds_of(pair)].add(pair)
    for pair in actual:
        actual_by[kinds_of(pair)].add(pair)
    per_source_pair = {(a, b): {**_scores(predicted_by[(a, b)], actual_by[(a, b)]),
                                **_linkable(predicted_by[(a, b)], actual_by[(a, b)] & linkable)}
                       for i, a in enumerate(order) for b in order[i:]}
    return {"records": len(matched), "people": len(by_person), "customers": len(by_customer),
            "correct_pairs": len(predicted & actual), **_scores(predicted, actual),
            **_linkable(predicted, linkable), "per_class": per_class,
            "per_source_pair": per_source_pair,
            "records_per_kind": Counter(key.split(":", 1)[0] for key, _ in matched),
            "review_pairs": queue[0], "review_customers": queue[1], "all_customers": all_customers,
            "named_after": len(named_after),
            "named_after_merged": sum(1 for son, father in named_after if customers_of[son] & customers_of[father]),
            "false_merges": sum(1 for keys in by_customer.values() if len({person[key] for key in keys}) > 1),
            "doubtful_tax_ids": doubtful}


def decide_the_queue(url: str, business: Business) -> int:
    """Decide every pair of marts.customer_review_queue as the truth says (one person: `same`; two:
    `different`), as an operator would from the Airflow form; returns how many pairs were decided."""
    person, _ = _truth(business, record_types(url))
    with psycopg.connect(url) as conn:
        queue = conn.execute("select record_key, other_record_key from marts.customer_review_queue").fetchall()
    for key, other in queue:
        same = person.get(key) is not None and person.get(key) == person.get(other)
        record_decision(url, key, other, "same" if same else "different", "the generator's truth", "bench.identity")
    return len(queue)


def level_rates(url: str, business: Business) -> list[list[str]]:
    """Per comparison level of the scored candidate pairs: how many are one person's and how
    many two people's, by the truth (the m and u the seed's weights should resemble, among
    candidates)."""
    person, _ = _truth(business, record_types(url))
    with psycopg.connect(url) as conn:
        pairs = conn.execute("select record_key, other_record_key, email_level, phone_level, tax_id_level, "
                             "name_level, city_level, address_level, web_order_level from intermediate.int_customer_pairs_scored"
                             ).fetchall()
    counts: Counter[tuple[str, str, bool]] = Counter()
    matches = non_matches = 0
    for a, b, *levels in pairs:
        if a not in person or b not in person:
            continue
        same = person[a] == person[b]
        matches += same
        non_matches += not same
        for comparison, level in zip(("email", "phone", "tax_id", "name", "city", "address", "web_order"), levels,
                                     strict=True):
            counts[(comparison, level, same)] += 1
    rows = []
    for comparison, level in sorted({(c, lv) for c, lv, _ in counts}):
        m, u = counts[(comparison, level, True)], counts[(comparison, level, False)]
        rows.append([comparison, level, f"{m:,}", f"{m / max(matches, 1):.4f}", f"{u:,}",
                     f"{u / max(non_matches, 1):.4f}"])
    return rows


PRECISION_GOAL, RECALL_GOAL = 0.995, 0.98  # issue 11's, overall and in every variation class


def deal_orders(url: str, business: Business) -> Counter:
    """Each won deal's order (int_deals_orders_matched, on the customers identity made) by the truth:
    (what the business did with the deal, what the model found), where the deal was ``keyed`` into
    the ERP by a salesperson or ``not keyed``, and the model found ``its own`` ERP order, ``another``
    order or ``none``."""
    orders = {rid: order for (system, obj, rid), (_, order) in business.records.truth.items()
              if (system, obj) == ("odoo", "sale.order")}
    found = Counter()
    with psycopg.connect(url) as conn:
        for deal_id, sale_order_id, order_id in conn.execute(
                "select deals.deal_id, orders.odoo_sale_order_id, deals.order_id "
                "from intermediate.int_deals_orders_matched as deals "
                "left join marts.fct_orders as orders on deals.order_id = orders.order_id"):
            # a Salesforce Opportunity's id stands for the simulated deal's number
            number = int(deal_id) if deal_id.isdigit() else sf_number("Opportunity", deal_id)
            deal = business.integration.won_deals[number]
            kind = ("none" if order_id is None else "its own" if orders.get(sale_order_id) == deal.order_id
                    else "another")
            found[("keyed" if deal.entered else "not keyed", kind)] += 1
    return found


def _below_goal(scores: dict[str, Any]) -> str:
    """Which of a class's measures miss the goal (``"precision 0.9894, recall 0.9794"``), or ``""``."""
    return ", ".join(f"{measure} {scores[measure]:.4f}" for measure, goal in
                     (("precision", PRECISION_GOAL), ("recall", RECALL_GOAL)) if scores[measure] < goal)


def _linkable_share(scores: dict[str, Any]) -> float:
    """The share of a class's true pairs the data can join (``linkable_pairs``): the most recall a matching
    on evidence alone can reach there."""
    return scores["linkable_pairs"] / scores["true_pairs"] if scores["true_pairs"] else 1.0


def _slowest_nodes(result, count: int = 5) -> str:
    """The dbt nodes that took longest in one invocation (`run_dbt`'s result)."""
    slowest = sorted(result.result.results, key=lambda node: -node.execution_time)[:count]
    return ", ".join(f"{node.node.name} {node.execution_time:.0f} s" for node in slowest)


def _commit() -> str:
    """The commit the benchmark measures (`-dirty` when the work tree has changes; the results
    file that benchmarks write aside)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=False).stdout.strip()
    dirty = git("status", "--porcelain", "--", ".", ":(exclude)bench/RESULTS.md")
    return (git("rev-parse", "--short", "HEAD") or "unknown") + ("-dirty" if dirty else "")


def main(customers: int = 100_000, seed: int = 7, crm: str = "hubspot", field_key: bool = False,
         one_shop: bool = False) -> None:
    keys = FieldKeys.parse(new_key()) if field_key else None
    shops = () if one_shop else SHOPS
    started = time.perf_counter()
    business = Business(seed, customers=customers, crm=crm, **{shop: True for shop in shops})
    generated = time.perf_counter() - started
    base = os.environ.get("PUENTE_WAREHOUSE_URL") or warehouse.ensure_embedded()
    name = f"bench_identity_{uuid.uuid4().hex[:8]}"
    warehouse.create_database(base, name)
    url = warehouse.with_database(base, name)
    try:
        warehouse.ensure_schema(url)
        t = time.perf_counter()
        rows = land(url, business, "bench-1", field_keys=keys)
        loaded = time.perf_counter() - t
        t = time.perf_counter()
        full_run = run_dbt(list(MAIN_BUILD_ARGS), url)
        full = time.perf_counter() - t
        full_nodes = _slowest_nodes(full_run)
        scores = pair_scores(url, business)
        levels = level_rates(url, business)
        deals = deal_orders(url, business)
        print(f"generated {customers:,} customers in {generated:.0f}s; landed {rows:,} rows in {loaded:.0f}s; "
              f"full build {full:.0f}s; {scores}", flush=True)
        first_night = business.now()
        business.advance_day()
        changed = changed_since(business, first_night)
        t = time.perf_counter()
        night_rows = land(url, business, "bench-2", changed, field_keys=keys)
        t_land = time.perf_counter() - t
        t = time.perf_counter()
        incremental_run = run_dbt([*MAIN_BUILD_ARGS, "--vars", '{"incremental_lookback_hours": 0}'], url)
        incremental = time.perf_counter() - t
        incremental_nodes = _slowest_nodes(incremental_run)
        after = pair_scores(url, business)
        decided = decide_the_queue(url, business)
        t = time.perf_counter()
        run_dbt(["build", "--select", "stg_ops__customer_match_overrides+", "--exclude", "tag:activation"], url)
        rebuilt = time.perf_counter() - t
        reviewed = pair_scores(url, business)
    finally:
        if os.environ.get("BENCH_IDENTITY_KEEP_DATABASE"):
            print(f"kept {warehouse.describe(url)} (password in PUENTE_HOME/pgpass)", flush=True)
        else:
            warehouse.drop_database(base, name)
    body = "\n".join([
        f"Commit {_commit()}. Business(seed={seed}, customers={customers:,}, crm={crm!r}, "
        f"{', '.join(f'{shop}=True' for shop in shops) or 'Shopify only'}): generated in {generated:.0f} s; "
        f"{rows:,} raw rows landed by COPY in {loaded:.0f} s"
        + (" (phones and tax ids sealed with a field key, their identity keys derived first, as the loader does)"
           if keys else "") + ". Customer records per kind: "
        + ", ".join(f"{kind} {count:,}" for kind, count in scores["records_per_kind"].items()) + ".",
        "",
        markdown_table(
            ["night", "customer records scored", "people", "customers", "precision", "recall",
             "recall of linkable pairs", "dbt build (s)"],
            [["full (first night)", f"{scores['records']:,}", f"{scores['people']:,}", f"{scores['customers']:,}",
              f"{scores['precision']:.4f}", f"{scores['recall']:.4f}", f"{scores['linkable_recall']:.4f}",
              f"{full:.0f}"],
             [f"incremental (+1 day, {night_rows:,} rows upserted in {t_land:.0f} s)", f"{after['records']:,}",
              f"{after['people']:,}", f"{after['customers']:,}", f"{after['precision']:.4f}",
              f"{after['recall']:.4f}", f"{after['linkable_recall']:.4f}", f"{incremental:.0f}"],
             [f"the same, its review queue decided ({decided:,} pairs, each by the truth)", f"{reviewed['records']:,}",
              f"{reviewed['people']:,}", f"{reviewed['customers']:,}", f"{reviewed['precision']:.4f}",
              f"{reviewed['recall']:.4f}", f"{reviewed['linkable_recall']:.4f}", f"{rebuilt:.0f}"]],
        ),
        "",
        "The last row is what an operator who works the queue gets: every pair of the incremental night's queue "
        "decided `same` or `different` as the truth says, through `puente.identity_review.record_decision` (the "
        "Airflow form's path), then the models downstream of the decisions rebuilt. A perfect reviewer, so an upper "
        "bound of what the queue adds; the goal's figures are the automatic ones above. Below the goal after it: "
        + (", ".join(f"{name} ({_below_goal(c)})" for name, c in reviewed["per_class"].items() if _below_goal(c))
           or "none") + ".",
        "",
        f"Linkable pairs: {scores['linkable_pairs']:,} of the {scores['true_pairs']:,} true pairs "
        f"({scores['linkable_pairs'] / max(scores['true_pairs'], 1):.2%}) can be joined by evidence (a chain of the "
        "person's records, each sharing a mailbox, a phone, a tax id's digits or a door in a city with the next, or "
        "holding a service ticket that cites an order of the next; a value more people hold than var "
        "identity_block_max_holders counts for none); the others share names and cities only. Recall stays the "
        "goal's measure; the recall of linkable pairs says how much of the miss the data leaves no way to find.",
        "",
        f"Pairs (first night): {scores['predicted_pairs']:,} predicted, {scores['true_pairs']:,} true, "
        f"{scores['correct_pairs']:,} correct. Review queue: {scores['review_pairs']:,} pairs touching "
        f"{scores['review_customers']:,} customers, {scores['review_customers'] / scores['all_customers']:.2%} of "
        f"{scores['all_customers']:,}; incremental night: {after['review_pairs']:,} pairs, "
        f"{after['review_customers'] / after['all_customers']:.2%}. Doubtful tax ids flagged in the evidence: "
        f"{scores['doubtful_tax_ids']:,}. Goal (issue 11): precision >= {PRECISION_GOAL} and recall >= {RECALL_GOAL} "
        "overall and in "
        "every variation class, review queue under 1% of customers.",
        "",
        f"Won deals and their ERP orders (first night; int_deals_orders_matched, on the customers above), by "
        f"the truth: of the {deals['keyed', 'its own'] + deals['keyed', 'another'] + deals['keyed', 'none']:,} "
        f"deals a salesperson keyed into the ERP, {deals['keyed', 'its own']:,} found that order, "
        f"{deals['keyed', 'another']:,} another and {deals['keyed', 'none']:,} none (a deal Puente would post "
        f"again); of the {deals['not keyed', 'none'] + deals['not keyed', 'another']:,} nobody keyed in, "
        f"{deals['not keyed', 'another']:,} took another order of their customer (deals Puente would never post).",
        "",
        f"Sons named after the father they live with (one given name and surname, one door and mostly one "
        f"mailbox; `population.NAMED_AFTER_SHARE`, part of the classes family_mailbox, shared_address and namesake): "
        f"{scores['named_after_merged']:,} of the {scores['named_after']:,} with records share a customer with their "
        f"father, of the {scores['false_merges']:,} customers that gather records of more than one person. Where "
        "neither's records carry a second surname or a tax id, the mobile is all that tells them apart, and a "
        "person's change of number looks the same.",
        "",
        "Per variation class (first night; a pair counts for a class when either of its records shows it; "
        "classes from `messiness.record_variations`). Below the goal: "
        + (", ".join(f"{name} ({_below_goal(c)})" for name, c in scores["per_class"].items() if _below_goal(c))
           or "none") + ". "
        "A class's *linkable share* is the recall a matching that joins records on evidence alone can reach at "
        "most (its other true pairs share names and cities only, as namesakes do); below the recall goal in: "
        + (", ".join(f"{name} ({_linkable_share(c):.4f})" for name, c in scores["per_class"].items()
                     if _linkable_share(c) < RECALL_GOAL) or "none") + ".",
        "",
        markdown_table(
            ["variation class", "records", "true pairs", "predicted pairs", "precision", "recall", "linkable share",
             "recall of linkable"],
            [[name, f"{c['records']:,}", f"{c['true_pairs']:,}", f"{c['predicted_pairs']:,}", f"{c['precision']:.4f}",
              f"{c['recall']:.4f}", f"{_linkable_share(c):.4f}", f"{c['linkable_recall']:.4f}"]
             for name, c in scores["per_class"].items()],
        ),
        "",
        "Per source pair (first night; the record kinds of dbt's macro `customer_record_types`, a kind "
        "beside itself being the duplicates within one system; a pair counts for the kinds of its two records):",
        "",
        markdown_table(
            ["source pair", "true pairs", "predicted pairs", "precision", "recall", "linkable pairs",
             "recall of linkable"],
            [[f"{a} – {b}", f"{c['true_pairs']:,}", f"{c['predicted_pairs']:,}", f"{c['precision']:.4f}",
              f"{c['recall']:.4f}", f"{c['linkable_pairs']:,}", f"{c['linkable_recall']:.4f}"]
             for (a, b), c in scores["per_source_pair"].items() if c["true_pairs"] or c["predicted_pairs"]],
        ),
        "",
        "Comparison levels among the scored candidate pairs, by the truth (first night): the share of "
        "one person's pairs (m) and of two people's pairs (u) at each level, beside which "
        "seeds/identity_match_weights.csv sets its weights by hand:",
        "",
        markdown_table(["comparison", "level", "same person", "m among candidates", "two people",
                        "u among candidates"], levels),
        "",
        f"Slowest dbt nodes, full night: {full_nodes}; incremental night: {incremental_nodes}. The identity "
        "models rebuild every night (a new record can join or bridge any cluster), but for each record's keys, "
        "derived again only for the records whose values changed (int_customer_record_keys), and the candidate "
        "pairs, scored again only for the records that changed and those sharing a value with them "
        "(int_customer_pairs_scored, reading int_customer_pair_inputs, which records only the records new or "
        "changed); fct_orders and fct_order_lines recompute only the orders the day touched, fct_order_to_cash "
        "those and the orders whose payments or deal changed, and the customer "
        "marts (dim_customers, customer_authorisations, customer_field_conflicts) only the customers it "
        "changed (int_customer_versions).",
    ])
    # `make bench-identity`; other runs get sections of their own
    default = (customers, crm, field_key, one_shop) == (100_000, "hubspot", False, False)
    sealed = ", phones and tax ids sealed" if field_key else ""
    alone = ", Shopify its only shop" if one_shop else ""
    write_section("identity" if default else f"identity-{crm}-{customers}" + ("-sealed" if field_key else "")
                  + ("-one-shop" if one_shop else ""),
                  "Identity resolution" + ("" if default else f" ({customers:,} customers, CRM {crm}{sealed}{alone})"),
                  f"python -m bench.identity {customers} {seed}" + ("" if crm == "hubspot" else f" --crm {crm}")
                  + (" --field-key" if field_key else "") + (" --one-shop" if one_shop else ""), body)
    print(body)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.identity", description=__doc__.split("\n", 1)[0])
    parser.add_argument("customers", nargs="?", type=int, default=100_000)
    parser.add_argument("seed", nargs="?", type=int, default=7)
    parser.add_argument("--crm", choices=CRMS, default="hubspot", help="the CRM the business runs")
    parser.add_argument("--field-key", action="store_true",
                        help="seal phones and tax ids with a field key as they land (puente.field_crypto)")
    parser.add_argument("--one-shop", action="store_true",
                        help="Shopify alone beside the ERP and the CRM (no WooCommerce, Tienda Nube or Mercado Libre): "
                             "the business issue 11 measured its incremental night on")
    main(**vars(parser.parse_args()))
