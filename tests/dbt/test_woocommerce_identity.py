"""The WooCommerce store in identity resolution: its accounts and guest checkouts become customer
records, merged with the same people's records in the ERP, the CRM and the other shop."""

from __future__ import annotations

from datetime import date

import psycopg
from psycopg.rows import dict_row

from puente.dbt import run_dbt
from puente.extract import extract_source
from puente.simulators import Business, Credentials, SimulatorServer, create_app
from puente.sources import registry

TODAY = date(2026, 11, 16)
RECORD_TYPES = {("odoo", "res.partner"): "odoo_partner", ("hubspot", "contacts"): "hubspot_contact",
                ("shopify", "customers"): "shopify_customer", ("woocommerce", "customers"): "woocommerce_customer",
                ("woocommerce", "orders"): "woocommerce_guest_order"}


def rows(url: str, sql: str) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql).fetchall()


def test_store_accounts_and_guests_join_the_same_peoples_customers(fresh_db):
    business = Business(seed=3, customers=80, start=TODAY, history_days=200, woocommerce=True)
    credentials = Credentials()
    with SimulatorServer(create_app(business, credentials)) as server:
        for name, config in registry.simulator_configs(server.base_url, credentials).items():
            extract_source(fresh_db, name, config, TODAY)
    run_dbt(["build", "--select", "+dim_customers", "--indirect-selection", "cautious"], fresh_db)

    person = {f"{RECORD_TYPES[t['system'], t['object']]}:{t['id']}": t["person_id"] for t in business.truth()
              if (t["system"], t["object"]) in RECORD_TYPES}
    records = rows(fresh_db, "select m.customer_id, r.record_key, r.record_type from intermediate.int_customers_matched m "
                             "join intermediate.int_customer_records_unioned r using (record_key)")
    woo = [r for r in records if r["record_type"].startswith("woocommerce")]
    guests = {o["id"] for o in business.woocommerce["orders"].values() if o["customer_id"] == 0}
    assert {r["record_key"] for r in woo} == ({f"woocommerce_customer:{c}" for c in business.woocommerce["customers"]}
                                              | {f"woocommerce_guest_order:{g}" for g in guests})
    customers = rows(fresh_db, "select woocommerce_customer_ids from marts.dim_customers")
    assert sorted(i for c in customers for i in c["woocommerce_customer_ids"]) == sorted(
        str(c) for c in business.woocommerce["customers"])

    members: dict[str, set[str]] = {}
    for r in records:
        members.setdefault(r["customer_id"], set()).add(r["record_key"])
    # Recall: a store record whose person has a record elsewhere ends in that person's customer.
    elsewhere = {p for key, p in person.items() if not key.startswith("woocommerce")}
    linkable = [r for r in woo if person[r["record_key"]] in elsewhere]
    joined = [r for r in linkable if any(person.get(k) == person[r["record_key"]] and not k.startswith("woocommerce")
                                         for k in members[r["customer_id"]])]
    # Precision: a customer holding a store record holds one person's records only.
    mixed = [c for c in {r["customer_id"] for r in woo} if len({person[k] for k in members[c] if k in person}) > 1]
    print(f"store records {len(woo)}, linkable {len(linkable)}, joined {len(joined)}, customers mixing people "
          f"{len(mixed)} of {len({r['customer_id'] for r in woo})}")
    assert linkable and len(joined) >= 0.6 * len(linkable)
    assert len(mixed) <= 0.05 * len({r["customer_id"] for r in woo})
