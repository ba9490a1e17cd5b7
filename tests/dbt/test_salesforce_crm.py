"""A business on Salesforce: its Contacts and Leads in identity, the CRM's fields from Salesforce in
the golden record, and the CRM activations (scores, tasks, the won opportunity into the ERP) aimed
at Salesforce, through the real staging, identity and activation models."""

from __future__ import annotations

from datetime import date

import psycopg
from psycopg.rows import dict_row

from puente.dbt import run_dbt
from puente.extract import extract_source
from puente.simulators import Business, Credentials, SimulatorServer, create_app
from puente.sources import registry

TODAY = date(2026, 11, 16)


def rows(url: str, sql: str, *params) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


def test_a_salesforce_business_gets_identity_golden_fields_and_crm_activations(fresh_db, monkeypatch):
    monkeypatch.setenv("PUENTE_SYSTEMS", "odoo,salesforce,shopify")
    business = Business(seed=3, customers=120, start=TODAY, history_days=240, crm="salesforce")
    credentials = Credentials()
    with SimulatorServer(create_app(business, credentials)) as server:
        for name in ("odoo", "salesforce", "shopify"):
            extract_source(fresh_db, name, registry.source(name).simulator(server.base_url, credentials), TODAY)
    run_dbt(["build", "--select", "+act_won_deals_to_erp", "+act_service_reminder_tasks", "+act_churn_risk_tasks",
             "+data_issues",
             "--exclude", "act_crm_contact_scores", "--indirect-selection", "cautious"], fresh_db)

    # every Salesforce value is typed (its datetimes' `+0000` zone, JSON numbers and booleans)
    assert rows(fresh_db, "select count(*) filter (where updated_at is null or created_at is null) as n "
                          "from staging.stg_salesforce__contacts")[0]["n"] == 0
    assert rows(fresh_db, "select count(*) as n from marts.data_issues where staging_model like 'stg_salesforce%%'"
                )[0]["n"] == 0

    # identity: the CRM's people are Contacts and open Leads, merged with the same people elsewhere
    org = business.salesforce
    people = {r["Id"] for r in org.table("Contact") if not r["IsDeleted"]} | {
        r["Id"] for r in org.table("Lead") if not r["IsDeleted"] and not r["IsConverted"]}
    records = rows(fresh_db, "select m.customer_id, r.source_record_id, r.record_type "
                             "from intermediate.int_customers_matched m "
                             "join intermediate.int_customer_records_unioned r using (record_key)")
    crm = [r for r in records if r["record_type"] == "salesforce_contact"]
    assert {r["source_record_id"] for r in crm} == people
    # against the simulator's truth: a Salesforce person whose records exist elsewhere ends in the
    # customer holding them (recall), and a customer holding a Salesforce record is one person (precision)
    types = {"odoo": "odoo_partner", "salesforce": "salesforce_contact", "shopify": "shopify_customer"}
    person = {f"{types[t['system']]}:{t['id']}": t["person_id"] for t in business.truth()
              if t["object"] in ("res.partner", "contacts", "leads", "customers")}
    members: dict[str, set[str]] = {}
    for r in records:
        members.setdefault(r["customer_id"], set()).add(f"{r['record_type']}:{r['source_record_id']}")
    key = {r["source_record_id"]: f"salesforce_contact:{r['source_record_id']}" for r in crm}
    elsewhere = {p for k, p in person.items() if not k.startswith("salesforce")}
    linkable = [r for r in crm if person[key[r["source_record_id"]]] in elsewhere]
    joined = [r for r in linkable if any(person.get(k) == person[key[r["source_record_id"]]]
                                         and not k.startswith("salesforce") for k in members[r["customer_id"]])]
    holding = {r["customer_id"] for r in crm}
    mixed = [c for c in holding if len({person[k] for k in members[c] if k in person}) > 1]
    print(f"salesforce people {len(crm)}, linkable {len(linkable)}, joined {len(joined)}, "
          f"customers mixing people {len(mixed)} of {len(holding)}")
    assert linkable and len(joined) >= 0.8 * len(linkable) and len(mixed) <= 0.05 * len(holding)
    # the golden record's CRM-owned fields come from Salesforce (its system of record there)
    sourced = rows(fresh_db, "select count(*) filter (where email_source like 'salesforce_contact:%%') as crm, "
                             "count(email) as emails from marts.dim_customers")[0]
    assert sourced["crm"] > 0.3 * sourced["emails"]
    assert rows(fresh_db, "select count(*) as n from marts.dim_customers where cardinality(salesforce_contact_ids) > 0"
                )[0]["n"] > 0

    # won opportunities nobody keyed into the ERP become ERP orders named after the opportunity
    won = rows(fresh_db, "select row_key, external_key, payload, invalid_reason from activations.act_won_deals_to_erp")
    assert won and all(r["row_key"].startswith("salesforce_opportunity:006") for r in won)
    assert all(r["external_key"] == r["payload"]["origin"] == "Salesforce opportunity " + r["row_key"].split(":")[1]
               for r in won)
    sendable = [r for r in won if r["invalid_reason"] is None]
    assert sendable and all(r["payload"]["order_line"] for r in sendable)

    # the CRM tasks go to Salesforce Contacts and their owners (User ids)
    reminders = rows(fresh_db, "select payload from activations.act_service_reminder_tasks where invalid_reason is null")
    for r in reminders:
        assert r["payload"]["contact_id"][:3] in ("003", "00Q")
        assert r["payload"]["properties"]["hubspot_owner_id"].startswith("005")

    # the service desk's Cases, staged as the service tickets of every CRM
    run_dbt(["build", "--select", "stg_salesforce__cases"], fresh_db)
    cases = {r["Id"]: r for r in org.table("Case")}
    tickets = rows(fresh_db, "select * from staging.stg_salesforce__cases")
    assert cases and {t["ticket_id"] for t in tickets} == set(cases)
    for t in tickets:
        case = cases[t["ticket_id"]]
        assert (t["source_system"], t["crm_contact_id"], t["is_complaint"], t["is_open"], t["reopened_count"]) == (
            "salesforce", case["ContactId"], case["Type"] == "Complaint", not case["IsClosed"],
            case["Times_Reopened__c"])
        assert (t["resolved_at"] is not None) == case["IsClosed"] and t["opened_at"] <= t["updated_at"]
    # a Case citing an order (`Pedido #1042: ...`) ties its Contact to the record that placed it: one
    # person's two records, by the truth
    links = rows(fresh_db, "select ticket_record_key, order_record_key from intermediate.int_customer_ticket_orders "
                           "where source_system = 'salesforce'")
    assert links and all(person[r["ticket_record_key"]] == person[r["order_record_key"]] for r in links), links

    # scored customers' churn fields go to their Salesforce Contacts; a Lead's row says to convert it
    scored = rows(fresh_db, "select customer_id, salesforce_contact_ids from marts.dim_customers "
                            "where cardinality(salesforce_contact_ids) > 0 order by customer_id")
    with_lead = [c for c in scored if any(i.startswith("00Q") for i in c["salesforce_contact_ids"])][:1]
    scored = [c for c in scored if c not in with_lead][:2] + with_lead
    assert with_lead, "some customer has a Lead"
    with psycopg.connect(fresh_db) as conn:
        conn.execute("insert into ml.model_runs (model_run_id, model_name, as_of_date, features, metrics, baselines, "
                     "artifact_path, library_versions) values ('run-1', 'churn', '2026-11-16', '[]', '{}', '{}', "
                     "'artifacts/churn/run-1', '{}')")
        for c in scored:
            conn.execute("insert into ml.churn_scores (customer_id, scored_for_date, churn_probability, risk_band, "
                         "model_run_id, scored_at, reasons) values (%s, '2026-11-16', 0.81, 'high', 'run-1', "
                         "'2026-11-17 03:00+00', 'no order in 120 days')", (c["customer_id"],))
    run_dbt(["build", "--select", "stg_ops__activation_state", "stg_ml__churn_scores", "act_crm_contact_scores",
             "--indirect-selection", "cautious"], fresh_db)
    got = {r["row_key"]: r for r in rows(fresh_db, "select * from activations.act_crm_contact_scores")}
    assert set(got) == {i for c in scored for i in c["salesforce_contact_ids"]}
    for key, row in got.items():
        assert row["target_id"] == key and row["payload"]["puente_churn_risk"] == "high"
        assert (row["invalid_reason"] is not None) == key.startswith("00Q")
        assert key.startswith("00Q") <= ("convert the lead" in (row["invalid_reason"] or ""))

    # Habeas Data: erasing a customer empties the personal fields of its Salesforce records in raw
    from puente.erasure import erase

    person = next(c for c in scored if c["salesforce_contact_ids"][0].startswith("003"))
    erased = erase(fresh_db, requested_by="test", customer_id=person["customer_id"])
    # and rebuilds the models from the scrubbed raw records, the activation model built above too
    assert erased.message is None
    (record,) = rows(fresh_db, "select record from raw.salesforce_contacts where source_id = %s",
                     person["salesforce_contact_ids"][0])
    assert record["record"]["Id"] == person["salesforce_contact_ids"][0]
    assert all(record["record"].get(k) is None for k in ("Email", "FirstName", "LastName", "Phone", "MailingCity"))

    from puente.activation.spec import activation_named

    assert activation_named("churn_risk_tasks").target == "salesforce"  # target: crm, the configured CRM
    assert activation_named("crm_contact_scores").target == "salesforce"
