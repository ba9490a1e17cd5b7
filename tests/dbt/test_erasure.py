"""Erasure of a data subject (puente.erasure): no trace of the person's e-mail, phone or tax id
anywhere in the warehouse afterwards (every table and view of every schema), nor after the same
old records are landed again by the loader and the models rebuilt; a record the source changed
after the erasure lands again. Juan bought in every channel Puente lands (the ERP, the CRM,
Shopify, WooCommerce, Tienda Nube, Mercado Libre, paid through Mercado Pago and Stripe): every one
of those records loses him, and other people's records stay as they were."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb
from scenario import SOURCES, _updated_at, load_raw
from warehouse_scan import traces

from puente.activation.writers import Outcome
from puente.dbt import MAIN_BUILD_ARGS, run_dbt
from puente.erasure import SubjectNotFound, erase, was_erased
from puente.field_crypto import FieldKeys, new_key
from puente.load import load_page
from puente.sources import registry
from puente.sources.base import Record
from puente.warehouse import raw_object

# Juan Pérez as the systems typed him (scenario.py): e-mail, phones and tax id in every form
TRACES = ["juan.perez@example.com", "3001234567", "300) 123-4567", "300 123 4567", "9001234568", "900.123.456",
          "900123456"]
JUAN_NAMES = ["Juan Pérez", "Juan Perez", "JUANPEREZ77"]
_JUAN_BILLING = {"email": "juan.perez@example.com", "first_name": "Juan", "last_name": "Pérez",
                 "phone": "300 123 4567", "company": "", "address_1": "Cra 7 # 45-10", "city": "Bogotá", "country": "CO"}
_LINE = {"id": 1, "product_id": 108, "variation_id": 0, "sku": "COC-0009", "name": "Tabla de picar en bambú mediana",
         "quantity": 1, "price": 31400.0, "subtotal": "31400", "total": "31400", "total_tax": "5966"}


def _woo_order(order_id: int, customer_id: int, billing: dict) -> dict:
    return {"id": order_id, "date_modified_gmt": "2026-11-10T15:00:00", "number": str(order_id), "status": "completed",
            "customer_id": customer_id, "currency": "COP", "total": "37366", "total_tax": "5966", "discount_total": "0",
            "shipping_total": "0", "payment_method": "stripe", "date_created_gmt": "2026-11-10T14:00:00",
            "date_paid_gmt": "2026-11-10T14:00:00", "date_completed_gmt": "2026-11-10T15:00:00", "billing": billing,
            "line_items": [{**_LINE, "id": order_id}]}


def _meli_order(order_id: int, buyer: dict, doc_number: str) -> dict:
    return {"id": order_id, "date_last_updated": "2026-11-05T17:48:37.893-05:00", "status": "paid",
            "date_created": "2026-11-02T10:23:19.787-05:00", "date_closed": "2026-11-02T10:23:19.787-05:00",
            "total_amount": 26500.0, "paid_amount": 26500.0, "currency_id": "COP", "buyer": buyer,
            "order_items": [{"item": {"id": "MCO5406407331", "title": "Colador de acero pequeño",
                                      "seller_sku": "COC-0013"}, "quantity": 1, "unit_price": 26500.0}],
            "billing_info": {"doc_type": "NIT", "doc_number": doc_number},
            "shipment": {"status": "delivered", "receiver_city": "Bogotá", "receiver_state": "Bogotá D.C."}}


# Another Juan Pérez (of Cali), a customer of his own who shares only the name: nothing of his goes
NAMESAKE_BILLING = {**_JUAN_BILLING, "email": "jp.cali@example.com", "phone": "318 222 3344",
                    "address_1": "Cl 5 # 3-21 Cali", "city": "Cali"}
NAMESAKE = {"id": 79, "date_modified_gmt": "2026-11-10T14:00:00", "date_created_gmt": "2026-04-01T10:00:00",
            "email": "jp.cali@example.com", "first_name": "Juan", "last_name": "Pérez", "username": "jp.cali",
            "role": "customer", "is_paying_customer": True,
            "billing": {k: v for k, v in NAMESAKE_BILLING.items() if k not in ("first_name", "last_name")}}
# what only the erased Juan's records hold: his streets, his marketplace nickname, a CRM last name
JUAN_ONLY = ["Cra 7 # 12-34", "Cra 7 # 45-10", "JUANPEREZ77", "Pérez (duplicado)"]
# filled by the fixture before the erasure: his record keys and customer, the namesake's
BEFORE: dict = {}

# Juan in the other channels, as each one types him (and Ana Ruiz, who is someone else)
ANA_WOO_ORDER = _woo_order(1080, 0, {**_JUAN_BILLING, "email": "ana.ruiz@example.com", "first_name": "Ana",
                                     "last_name": "Ruiz", "phone": "311 555 0199", "address_1": "Cl 80 # 11-20"})
ANA_MELI_ORDER = _meli_order(2000009800077002, {"id": 310000888, "nickname": "ANARUIZ", "first_name": "Ana",
                                                "last_name": "Ruiz"}, "52987654")
CHANNELS = {
    "woocommerce": {
        "customers": [{"id": 77, "date_modified_gmt": "2026-11-10T14:00:00", "date_created_gmt": "2026-03-01T10:00:00",
                       "email": "juan.perez@example.com", "first_name": "Juan", "last_name": "Pérez",
                       "username": "juan.perez", "role": "customer", "is_paying_customer": True,
                       "billing": {k: v for k, v in _JUAN_BILLING.items() if k not in ("first_name", "last_name")}},
                      NAMESAKE],
        # his order, and a guest checkout of his (customer 0) that only its billing e-mail ties to him
        "orders": [_woo_order(1077, 77, _JUAN_BILLING), _woo_order(1078, 0, _JUAN_BILLING), ANA_WOO_ORDER,
                   _woo_order(1079, 79, NAMESAKE_BILLING)],
    },
    "tiendanube": {
        "customers": [{"id": 48100777, "updated_at": "2026-11-09T07:44:15-05:00", "name": "Juan Pérez",
                       "email": "juan.perez@example.com", "phone": "3001234567", "identification": "900123456-8",
                       "created_at": "2026-05-08T07:44:15-05:00", "billing_address": "Cra 7", "billing_number": "45-10",
                       "billing_city": "bogota", "billing_province": "Bogotá D.C.", "billing_country": "CO",
                       "billing_phone": "3001234567"}],
        "orders": [{"id": 1310000777, "updated_at": "2026-11-09T11:57:54-05:00", "number": 177, "status": "closed",
                    "payment_status": "paid", "shipping_status": "shipped", "currency": "COP", "subtotal": "54500.00",
                    "discount": "0.00", "shipping_cost_customer": "12000.00", "total": "66500.00",
                    "gateway": "mercadopago", "created_at": "2026-11-08T07:44:15-05:00",
                    "paid_at": "2026-11-08T07:44:15-05:00", "shipped_at": None, "closed_at": None,
                    "cancelled_at": None, "cancel_reason": None, "customer": {"id": 48100777},
                    "contact_email": "juan.perez@example.com", "contact_name": "Juan Pérez",
                    "contact_phone": "3001234567", "contact_identification": "900123456-8",
                    "billing_address": "Cra 7", "billing_number": "45-10", "billing_city": "bogota",
                    "billing_province": "Bogotá D.C.", "billing_country": "CO",
                    "products": [{"id": 1700000777, "product_id": 172000168, "variant_id": 690000170,
                                  "sku": "COC-0010", "name": "Tabla de picar en bambú grande", "price": "54500.00",
                                  "quantity": 1}]}],
    },
    # a buyer known by names and the document for the invoice only (no e-mail, no phone)
    "mercadolibre": {"orders": [_meli_order(2000009800077001, {"id": 310000777, "nickname": "JUANPEREZ77",
                                                                "first_name": "Juan", "last_name": "Pérez"},
                                            "9001234568"), ANA_MELI_ORDER]},
    "mercadopago": {"payments": [{
        "id": 1320250777, "date_last_updated": "2026-11-08T07:46:01.000-04:00", "status": "approved",
        "status_detail": "accredited", "operation_type": "regular_payment", "payment_method_id": "visa",
        "payment_type_id": "credit_card", "currency_id": "COP", "transaction_amount": 66500.0,
        "transaction_amount_refunded": 0, "external_reference": "177", "description": "Casa Andina, pedido #177",
        "date_created": "2026-11-08T07:46:01.000-04:00", "date_approved": "2026-11-08T07:46:01.000-04:00",
        "money_release_date": "2026-11-22T07:46:01.000-04:00", "fee_details": [{"amount": 3700.0, "fee_payer": "collector"}],
        "refunds": [], "payer": {"email": "juan.perez@example.com", "identification": {"type": "NIT", "number": "900123456"}},
        "transaction_details": {"net_received_amount": 62800.0}}]},
    # Stripe lands no payer (settings.py): a description a plugin wrote with his e-mail is a mention
    "stripe": {"charges": [{
        "id": "ch_juan1077", "created": 1794322800, "amount": 3736600, "amount_refunded": 0, "currency": "cop",
        "status": "succeeded", "paid": True, "refunded": False, "disputed": False, "failure_code": None,
        "payment_intent": "pi_juan1077", "balance_transaction": "txn_juan1077", "payment_method_details": {"type": "card"},
        "description": "Casa Andina - Order 1077 - juan.perez@example.com", "metadata": {"order_id": "1077",
                                                                                       "order_number": "1077"}}]},
}
EVERY_CHANNEL = {**SOURCES, **CHANNELS}


def _cursor(source: str, obj: str, record: dict) -> str | None:
    """The updated-at the connector hands the loader (scenario.py's sources, or the object's cursor
    field: Stripe's in Unix seconds, WooCommerce's ``_gmt`` without its zone)."""
    if source in SOURCES:
        return _updated_at(source, record)
    value = record[registry.source_object(source, obj).cursor]
    if isinstance(value, int):
        return datetime.fromtimestamp(value, UTC).isoformat()
    return value if source != "woocommerce" else f"{value}+00:00"


class RecordingCRM:
    """Stands in for the HubSpot writer (the scenario's contacts live in no simulator): records
    what the erasure asks the CRM."""

    system = "hubspot"
    requests_made = 0

    def __init__(self) -> None:
        self.prepared: list[str] = []
        self.written: list = []
        self.erased_tasks: list[str] = []

    def prepare(self, obj: str) -> None:
        self.prepared.append(obj)

    def write(self, obj, mode, rows):
        self.written += [(obj, mode, row) for row in rows]
        return [Outcome(row.row_key, True, row.target_id) for row in rows]

    def erase_tasks(self, task_ids):
        self.erased_tasks += task_ids
        return [Outcome(task_id, True, task_id, "erase") for task_id in task_ids]


def book_task(url: str, row_key: str, contact_id: str, task_id: str, subject: str, body: str) -> None:
    """What the activation engine books when it creates a CRM task (puente/activation/engine.py):
    the audit row and its memory of what the target accepted."""
    payload = {"contact_id": contact_id, "properties": {"hs_task_subject": subject, "hs_task_body": body}}
    with psycopg.connect(url) as conn:
        conn.execute("insert into ops.activation_audit (run_id, activation, row_key, target, target_object, "
                     "target_id, operation, fields_old, fields_new, status, logical_date) values "
                     "('churn_risk_tasks.2026-11-16.a1', 'churn_risk_tasks', %s, 'hubspot', 'tasks', %s, 'create', "
                     "'{}', %s, 'sent', '2026-11-16')", (row_key, task_id, Jsonb(payload)))
        conn.execute("insert into ops.activation_state (activation, row_key, target_id, payload, compare_hash, run_id) "
                     "values ('churn_risk_tasks', %s, %s, %s, md5(%s), 'churn_risk_tasks.2026-11-16.a1')",
                     (row_key, task_id, Jsonb(payload), row_key))


# María López as the shop holds her (scenario.py)
MARIA = ["maria.lopez@example.com", "52.123.456", "52123456", "(316) 555-0101", "3165550101", "María López"]


def xcoms(run_id: str) -> list[str]:
    """Every XCom value of the DAG run ``run_id``, as the text Airflow stores."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel.value).filter(XComModel.run_id == run_id).all()
    return [value if isinstance(value, str) else json.dumps(value, ensure_ascii=False) for (value,) in rows]


@pytest.fixture(scope="module")
def erased(module_db):
    load_raw(module_db, EVERY_CHANNEL)
    run_dbt(list(MAIN_BUILD_ARGS), module_db)
    assert len(traces(module_db, TRACES)) > 10  # he is everywhere before
    with psycopg.connect(module_db) as conn:  # and one customer holds his records of every channel
        assert conn.execute("select count(distinct customer_id), array_agg(distinct source_system order by "
                            "source_system) from intermediate.int_customers_matched where customer_id in (select "
                            "customer_id from intermediate.int_customers_matched where source_record_id = '101' "
                            "and record_type = 'odoo_partner')").fetchone() == (
            1, ["hubspot", "mercadolibre", "odoo", "shopify", "tiendanube", "woocommerce"])
    # Puente made a churn task for Juan in the CRM (his contact 501), and one for Lucía (503)
    book_task(module_db, "churn:juan:2026-11-16", "501", "9001", "Churn risk: call Juan Pérez",
              "Churn score 0.81 (high). Write to juan.perez@example.com or call 3001234567.")
    book_task(module_db, "churn:lucia:2026-11-16", "503", "9002", "Churn risk: call Lucía Gómez", "Churn score 0.77.")
    with psycopg.connect(module_db) as conn:
        BEFORE["juan_keys"] = [r[0] for r in conn.execute(
            "select record_type || ':' || source_record_id from intermediate.int_customers_matched where customer_id "
            "in (select customer_id from intermediate.int_customers_matched where source_record_id = '101' "
            "and record_type = 'odoo_partner')")]
        (BEFORE["juan"],) = conn.execute("select customer_id from intermediate.int_customers_matched "
                                         "where record_type = 'odoo_partner' and source_record_id = '101'").fetchone()
        (BEFORE["namesake"], BEFORE["namesake_key"]) = conn.execute(
            "select customer_id, record_type || ':' || source_record_id from intermediate.int_customers_matched "
            "where email_normalized = 'jp.cali@example.com' and source_object = 'customers'").fetchone()
    assert BEFORE["namesake"] != BEFORE["juan"]  # the same name, another person
    # identity-review decisions whose reasons name them (kept forever, shown in marts.audit_log),
    # and what the activation work list says about their rows
    from puente.identity_review import record_decision

    record_decision(module_db, "odoo_partner:101", "odoo_partner:102", "different",
                    "Juan Pérez of Cra 7 # 12-34 is not Carlos", "ops")
    record_decision(module_db, BEFORE["namesake_key"], "odoo_partner:102", "different",
                    "Juan Pérez of Cali is not Carlos", "ops")
    with psycopg.connect(module_db) as conn:
        for row_key, customer, context in (
                ("service:101", BEFORE["juan"], {"subject": "Yearly check of the appliance for Juan Pérez",
                                                  "street": "Cra 7 # 12-34", "months": 12}),
                ("service:79", BEFORE["namesake"], {"subject": "Yearly check of the appliance for Juan Pérez"})):
            conn.execute("insert into ops.activation_issues (activation, row_key, kind, reason, customer_id, context) "
                         "values ('service_reminder_tasks', %s, 'invalid', 'no CRM contact', %s, %s)",
                         (row_key, customer, Jsonb(context)))
    crm = RecordingCRM()
    result = erase(module_db, requested_by="dpo@casaandina.com.co", reason="Habeas Data request 2026-117",
                   email="Juan.Perez@example.com", crm_writer=crm)
    return module_db, result, crm


def test_no_trace_of_the_person_remains_anywhere(erased):
    url, result, _ = erased
    assert traces(url, TRACES) == {}
    assert result.customers == 1 and result.source_records >= 7  # partner 101, contacts 501, 502, customers 7001, 77, 48100777, guest order 1078
    # each channel's records of his, counted per source in the tombstone
    assert {table: n for table, n in result.removed.items() if table.startswith("raw.")} == {
        "raw.odoo_res_partner": 1, "raw.odoo_sale_order": 1, "raw.odoo_account_move": 1, "raw.hubspot_contacts": 3,
        "raw.hubspot_deals": 1, "raw.shopify_customers": 1, "raw.shopify_orders": 1,
        "raw.woocommerce_customers": 1, "raw.woocommerce_orders": 2, "raw.tiendanube_customers": 1,
        "raw.tiendanube_orders": 1, "raw.mercadolibre_orders": 1, "raw.mercadopago_payments": 1,
        "raw.stripe_charges": 1}
    with psycopg.connect(url) as conn:
        # the others stay as they were (Carlos and Lucía share the family's e-mail)
        assert conn.execute("select count(*) from marts.dim_customers where email = 'familia.gomez@example.com'"
                            ).fetchone()[0] == 2
        # his orders stay, without him: the revenue is the business's
        assert conn.execute("select count(*) from raw.shopify_orders where source_id = '5001'").fetchone()[0] == 1
        orders = dict(conn.execute("select source_id, record from raw.woocommerce_orders").fetchall())
        sales = dict(conn.execute("select source_id, record from raw.mercadolibre_orders").fetchall())
        (payer,) = conn.execute("select record -> 'payer' from raw.mercadopago_payments").fetchone()
    assert orders["1077"]["billing"] == dict.fromkeys(_JUAN_BILLING) | {"country": "CO"}
    assert orders["1077"]["customer_id"] == 77 and orders["1077"]["line_items"][0]["sku"] == "COC-0009"
    assert sales["2000009800077001"]["buyer"] == {"id": 310000777, "nickname": None, "first_name": None,
                                                  "last_name": None}
    assert sales["2000009800077001"]["billing_info"] == {"doc_type": "NIT", "doc_number": None}
    assert payer == {"email": "[erased]", "identification": {"type": "NIT", "number": "[erased]"}}
    # Ana's records of the same channels are untouched
    assert orders["1080"] == ANA_WOO_ORDER and sales[str(ANA_MELI_ORDER["id"])] == ANA_MELI_ORDER


def test_the_tables_built_from_raw_lose_his_name_and_street_at_once(erased):
    """Not the next night: the erasure rebuilds the models from the scrubbed raw records, so his
    name and streets leave the intermediate models (records, pairs, evidence), the marts, the
    staging increments of his orders; the other Juan Pérez keeps his, as every other customer."""
    url, _, _ = erased
    assert traces(url, JUAN_ONLY) == {}
    keys = BEFORE["juan_keys"]
    assert len(keys) >= 7
    names = ["%Juan%", "%Pérez%", "%Perez%"]
    with psycopg.connect(url) as conn:
        # every table and view keyed by a customer record or a customer: his rows name him no more
        keyed: dict[tuple[str, str], list[str]] = {}
        for schema, table, column in conn.execute(
                "select table_schema, table_name, column_name from information_schema.columns where table_schema "
                "in ('staging', 'intermediate', 'marts', 'activations', 'ops') and (column_name like '%%record_key' "
                "or column_name = 'customer_id')"):
            keyed.setdefault((schema, table), []).append(column)
        assert ("intermediate", "int_customer_pairs_scored") in keyed
        for (schema, table), columns in keyed.items():
            where = sql.SQL(" or ").join(
                sql.SQL("{}::text = any(%(k)s)" if c != "customer_id" else "{}::text = %(c)s").format(
                    sql.Identifier(c)) for c in columns)
            named = conn.execute(sql.SQL("select count(*) from {} as t where ({}) and t::text ilike any(%(n)s)").format(
                sql.Identifier(schema, table), where), {"k": keys, "c": BEFORE["juan"], "n": names}).fetchone()[0]
            assert named == 0, f"{schema}.{table}"
        # the staging increments of his orders (incremental models: re-read from the scrubbed records)
        for table, column, ids in (("base_woocommerce__orders", "order_id", ["1077", "1078"]),
                                   ("base_odoo__sale_orders", "sale_order_id", ["201"]),
                                   ("base_shopify__orders", "order_id", ["5001"])):
            rows = conn.execute(sql.SQL("select t::text from staging.{} as t where {}::text = any(%s)").format(
                sql.Identifier(table), sql.Identifier(column)), (ids,)).fetchall()
            assert rows and not [r for (r,) in rows if "Juan" in r or "Pérez" in r], table
        # the namesake keeps his name, his street and his order
        assert conn.execute("select full_name from intermediate.int_customer_records_unioned where record_key = %s",
                            (BEFORE["namesake_key"],)).fetchone()[0] in ("Juan Pérez", "Juan Perez")
        (namesake_order,) = conn.execute("select record from raw.woocommerce_orders where source_id = '1079'"
                                         ).fetchone()
        assert namesake_order["billing"] == NAMESAKE_BILLING
        (status, message) = conn.execute("select outcome, detail ->> 'message' from marts.audit_log "
                                         "where action = 'erasure'").fetchone()
    assert status == "done" and message is None


def test_the_ops_free_text_about_him_is_scrubbed_by_his_keys_not_his_name(erased):
    url, _, _ = erased
    with psycopg.connect(url) as conn:
        reasons = dict(conn.execute("select record_key, reason from ops.customer_match_overrides").fetchall())
        issues = dict(conn.execute("select row_key, context from ops.activation_issues").fetchall())
        shown = [d for (d,) in conn.execute("select detail::text from marts.audit_log where action like 'identity%%'")]
    assert reasons == {"odoo_partner:101": "(erased)", BEFORE["namesake_key"]: "Juan Pérez of Cali is not Carlos"}
    assert issues["service:101"] == {"subject": "(erased)", "street": "(erased)", "months": 12}
    assert issues["service:79"] == {"subject": "Yearly check of the appliance for Juan Pérez"}
    assert not [d for d in shown if "12-34" in d]


def test_the_tombstone_keeps_the_fact_without_the_data(erased):
    url, result, _ = erased
    with psycopg.connect(url) as conn:
        (row,) = conn.execute("select requested_by, reason, identified_by, customers, source_records, finished_at, "
                              "removed from ops.erasures").fetchall()
    assert row[:5] == ("dpo@casaandina.com.co", "Habeas Data request 2026-117", ["email"], 1, result.source_records)
    assert row[5] is not None and row[6] == result.removed
    assert row[6]["hubspot.tasks"] == 1  # the CRM task Puente made for him, deleted
    assert was_erased(url, " juan.perez@EXAMPLE.com") and not was_erased(url, "familia.gomez@example.com")
    with psycopg.connect(url) as conn:  # and the audit log shows it, with who asked
        assert conn.execute("select actor, outcome, detail ->> 'erasure_id' from marts.audit_log "
                            "where action = 'erasure'").fetchall() == [("dpo@casaandina.com.co", "done",
                                                                        result.erasure_id)]


def test_the_crm_fields_puente_wrote_are_cleared(erased):
    _, result, crm = erased
    assert crm.prepared == ["contacts"]
    assert sorted(row.row_key for _, _, row in crm.written) == ["501", "502"]
    assert all(mode == "update" and set(row.payload.values()) == {""} and "puente_churn_score" in row.payload
               for _, mode, row in crm.written)
    assert result.crm_contacts_cleared == 2


def test_the_crm_tasks_puente_made_for_him_are_deleted_and_forgotten(erased):
    url, result, crm = erased
    assert crm.erased_tasks == ["9001"] and result.crm_tasks_erased == 1  # Lucía's task is hers to keep
    with psycopg.connect(url) as conn:
        assert conn.execute("select row_key from ops.activation_state where activation = 'churn_risk_tasks'"
                            ).fetchall() == [("churn:lucia:2026-11-16",)]
        assert conn.execute("select crm_tasks_erased from ops.erasures").fetchone() == (1,)
        # the audit keeps that a task was made, without what it said about him
        (audited,) = conn.execute("select fields_new::text from ops.activation_audit where target_id = '9001'"
                                  ).fetchone()
    assert "juan.perez" not in audited and "3001234567" not in audited and "Juan Pérez" not in audited
    assert "Churn risk: call [erased]" in audited


def test_the_next_night_does_not_bring_him_back_unless_the_source_changed(erased, caplog):
    url, _, _ = erased
    sources = copy.deepcopy(EVERY_CHANNEL)
    changed = next(c for c in sources["hubspot"]["contacts"] if c["id"] == "501")
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    with psycopg.connect(url) as conn:
        # the old records, served again (a full refresh): skipped
        skipped = 0
        for source, objects in sources.items():
            for obj, records in objects.items():
                counts = load_page(conn, raw_object(source, obj), [
                    Record(r, str(r["id"]), _cursor(source, obj, r), bool(r.get("archived", False))) for r in records],
                    "erasure-test-night-2")
                skipped += counts.erased_skipped
        conn.commit()
    assert skipped >= 12  # every channel's records of his
    run_dbt(list(MAIN_BUILD_ARGS), url)
    assert traces(url, TRACES) == {}
    # nor his name, once the models are rebuilt from the scrubbed records (the ERP's orders named
    # him in their partner many2one): what names a Juan Pérez is the other one's
    assert traces(url, JUAN_ONLY) == {}
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from intermediate.int_customer_records_unioned where record_key = "
                            "any(%s) and full_name ~* 'juan|p[eé]rez'", (BEFORE["juan_keys"],)).fetchone() == (0,)

    # the CRM contact changed after the erasure (the person wrote in again): it lands
    changed["updatedAt"] = later
    with psycopg.connect(url) as conn:
        counts = load_page(conn, raw_object("hubspot", "contacts"), [Record(changed, "501", later)], "night-3")
        conn.commit()
    assert (counts.erased_skipped, counts.updated) == (0, 1)
    assert "raw.hubspot_contacts" in traces(url, TRACES)
    # and the operator is told: the source still holds him
    assert "1 record(s) of hubspot.contacts erased by erasure(s)" in caplog.text and "land again" in caplog.text


def test_his_records_served_again_with_a_broken_cursor_are_quarantined_without_his_data(erased):
    """A source whose cursor broke re-serves old rows with an updated-at that does not parse: they
    are quarantined, the erased person's with their key, cursor and reason only; other people's
    keep their data, as every quarantined record does."""
    url, result, _ = erased
    with psycopg.connect(url) as conn:
        for source, objects in EVERY_CHANNEL.items():
            for obj, records in objects.items():
                load_page(conn, raw_object(source, obj), [Record(r, str(r["id"]), "not a date") for r in records],
                          "erasure-test-broken-cursor")
        conn.commit()
        rows = conn.execute("select source, object, source_id, payload, reason from ops.quarantine "
                            "where batch_id = 'erasure-test-broken-cursor'").fetchall()
    held = [payload for *_, payload, _ in rows]
    assert not [t for t in TRACES + JUAN_NAMES if any(t.lower() in p.lower() for p in held)]
    his = [(source, obj, rid, json.loads(payload)) for source, obj, rid, payload, reason in rows
           if f"erased by erasure {result.erasure_id}" in reason]
    assert len(his) >= 12  # every channel's records of his, each still named by its key
    for source, obj, rid, payload in his:
        declared = registry.source_object(source, obj)
        assert set(payload) <= {declared.key, declared.cursor} and str(payload[declared.key]) == rid
    assert all(reason.startswith("updated-at 'not a date' is not a timestamp") for *_, reason in rows)
    assert any("maria.lopez@example.com" in p for p in held)  # someone else's record keeps its data


def test_an_unknown_person_is_a_clear_error(erased):
    url, _, _ = erased
    with pytest.raises(SubjectNotFound):
        erase(url, requested_by="dpo", email="nobody@example.com")
    with pytest.raises(ValueError, match="exactly one"):
        erase(url, requested_by="dpo", email="a@example.com", phone="3001234567")


def test_the_erasure_dag_erases_from_its_trigger_form(erased, monkeypatch, airflow_db):
    """The operator's other way: the puente_erasure DAG's form (here María, by the tax id in her
    shop note; a business without a CRM, so nothing to clear there). The business seals phones
    and tax ids (PUENTE_FIELD_KEY): her record quarantined with its phone sealed loses that too."""
    from pathlib import Path

    from airflow.dag_processing.dagbag import DagBag

    from puente import runtime

    url, _, _ = erased
    dags = Path(__file__).resolve().parents[2] / "dags"
    monkeypatch.syspath_prepend(str(dags))
    monkeypatch.setenv("AIRFLOW_CONN_PUENTE_WAREHOUSE", runtime.warehouse_connection(url))
    monkeypatch.setenv("PUENTE_SYSTEMS", "odoo,shopify")
    key = new_key()
    monkeypatch.setenv("PUENTE_FIELD_KEY", key)
    maria = next(c for c in SOURCES["shopify"]["customers"] if c["id"] == 7002)
    with psycopg.connect(url) as conn:
        load_page(conn, raw_object("shopify", "customers"), [Record(maria, "7002", "garbled")], "maria-sealed",
                  field_keys=FieldKeys.parse(key))
        conn.commit()
    sealed_phone = FieldKeys.parse(key).seal("(316) 555-0101")
    # (and the identity keys the loader derived from it, one row per country: puente.sealed_keys)
    assert traces(url, [sealed_phone]) == {"ops.quarantine": 1, "ops.sealed_keys": 6}
    bag = DagBag(dag_folder=str(dags / "puente_erasure.py"))
    assert bag.import_errors == {}
    with psycopg.connect(url) as conn:
        (customer,) = conn.execute("select customer_id from marts.dim_customers "
                                   "where email = 'maria.lopez@example.com'").fetchone()
    run = bag.get_dag("puente_erasure").test(run_conf={"identified_by": "customer_id", "identifier": customer,
                                                       "requested_by": "dpo", "reason": "ticket 9"})
    assert run.state == "success"
    # Nothing of her stays in Airflow either: what the run's tasks handed to Airflow (its XComs, in
    # Airflow's own database, out of the warehouse's erasure) holds counts, not her data.
    values = xcoms(run.run_id)
    assert values and all(not any(t.lower() in value.lower() for t in MARIA) for value in values), values
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from raw.shopify_customers where record::text ilike "
                            "'%maria.lopez@example.com%'").fetchone()[0] == 0
        assert conn.execute("select count(*) from ops.quarantine where batch_id = 'maria-sealed'").fetchone() == (1,)
        assert traces(url, [sealed_phone, *MARIA[:4]]) == {}
        assert conn.execute("select identified_by, requested_by from ops.erasures where reason = 'ticket 9'"
                            ).fetchone() == (["customer_id"], "dpo")
        # the run itself is audited with who triggered it in Airflow (dag.test() triggers as "dag_test")
        assert conn.execute("select actor, split_part(subject, ' ', 1), outcome, detail ->> 'run_id' "
                            "from marts.audit_log where action = 'run'").fetchall() == [
            ("dag_test", "puente_erasure", "success", run.run_id)]


def test_a_failed_rebuild_leaves_the_erasure_pending(erased, monkeypatch):
    """The models could not be rebuilt (dbt failed): the tombstone does not say done, its message
    says what is pending, until a successful night."""
    import puente.dbt

    url, _, _ = erased

    def broken(*args, **kwargs):
        raise puente.dbt.DbtFailed("run", ["model.puente.int_customer_records_unioned [error]: boom"])

    monkeypatch.setattr(puente.dbt, "run_dbt", broken)
    result = erase(url, requested_by="dpo", customer_id=BEFORE["namesake"])
    with psycopg.connect(url) as conn:
        finished, message = conn.execute("select finished_at, message from ops.erasures where erasure_id = %s",
                                         (result.erasure_id,)).fetchone()
        outcome = conn.execute("select outcome from marts.audit_log where detail ->> 'erasure_id' = %s",
                               (result.erasure_id,)).fetchone()
    assert finished is None and "pending: the models were not rebuilt" in message and "next successful" in message
    assert outcome == ("pending",)
