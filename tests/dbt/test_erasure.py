"""Erasure of a data subject (puente.erasure): no trace of the person's e-mail, phone or tax id
anywhere in the warehouse afterwards (every table and view of every schema), nor after the same
old records are landed again by the loader and the models rebuilt; a record the source changed
after the erasure lands again. Juan bought in every channel Puente lands (the ERP, the CRM,
Shopify, WooCommerce, Tienda Nube, Mercado Libre, paid through Mercado Pago and Stripe): every one
of those records loses him, and other people's records stay as they were."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb
from scenario import SOURCES, _updated_at, load_raw
from warehouse_scan import traces

from puente.activation.writers import Outcome
from puente.dbt import ACTIVATION_BUILD_ARGS, MAIN_BUILD_ARGS, run_dbt
from puente.erasure import AlreadyErased, SeveralSubjects, SubjectNotFound, erase
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
# The day of the last successful night (ops.dag_runs): the fixture's builds and the erasure's rebuild
# measure from it, so his web orders of November are still to post to the ERP and his coffee of
# 23 October runs out within the service rule's lead days
DAY = date(2026, 11, 21)
AS_OF = {"PUENTE_AS_OF_DATE": DAY.isoformat()}
CHANNELS["woocommerce"]["orders"].append({
    **_woo_order(1076, 77, _JUAN_BILLING), "date_modified_gmt": "2026-10-23T15:00:00",
    "date_created_gmt": "2026-10-23T14:00:00", "date_paid_gmt": "2026-10-23T14:00:00",
    "date_completed_gmt": "2026-10-23T15:00:00",
    "line_items": [{**_LINE, "id": 1076, "product_id": 310, "sku": "CAF-0002", "name": "Café de origen 500 g"}]})
# His WooCommerce account as it was before he changed it (the first night of the fixture): another
# e-mail, phone and street, which no record holds any more, only the snapshot's history
JUAN_WOO_BEFORE = {**CHANNELS["woocommerce"]["customers"][0], "date_modified_gmt": "2026-10-01T10:00:00",
                   "email": "juanp.antes@example.com", "username": "juanp.antes",
                   "billing": {**CHANNELS["woocommerce"]["customers"][0]["billing"],
                               "email": "juanp.antes@example.com", "phone": "310 999 8877",
                               "address_1": "Cl 19 # 4-88"}}


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


# The activation models whose rows name the customer (the task's subject and body, the work
# list's context, a new ERP partner's name and contact details), each with a row for him in the
# fixture; act_won_deals_to_erp would too, but his won deal is matched to his orders (none to post)
ACTIVATIONS_NAMING_HIM = {"act_churn_risk_tasks", "act_service_reminder_tasks", "act_service_due_dates",
                          "act_web_orders_to_erp"}
HIS_NAME = ["%Juan%", "%Pérez%", "%Perez%"]


def named_in_activations(url: str, customer_id: str | None = None,
                         row_keys: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    """The row keys of each activation model whose rows name him, among the rows of ``customer_id``
    or of ``row_keys`` (per model)."""
    found: dict[str, list[str]] = {}
    with psycopg.connect(url) as conn:
        for (table,) in conn.execute("select table_name from information_schema.tables "
                                     "where table_schema = 'activations' order by 1").fetchall():
            keys = conn.execute(sql.SQL(
                "select row_key from activations.{} as t where (customer_id = %s or row_key = any(%s)) "
                "and t::text ilike any(%s) order by 1").format(sql.Identifier(table)),
                (customer_id, (row_keys or {}).get(table, []), HIS_NAME + [f"%{t}%" for t in TRACES])).fetchall()
            if keys:
                found[table] = [k for (k,) in keys]
    return found


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
    # A night before: his shop account (WooCommerce 77) still held an older e-mail, phone and street
    # (the snapshot's history keeps that version), then the account changed to today's
    earlier = copy.deepcopy(EVERY_CHANNEL)
    earlier["woocommerce"]["customers"][0] = JUAN_WOO_BEFORE
    # he consents to marketing (in the CRM and the shop): the churn-risk tasks may call him
    next(c for c in earlier["hubspot"]["contacts"] if c["id"] == "502")["properties"]["hs_marketable_status"] = "true"
    next(c for c in earlier["shopify"]["customers"] if c["id"] == 7001)["email_marketing_consent"] = {
        "state": "subscribed", "opt_in_level": "single_opt_in", "consent_updated_at": "2026-11-01T09:00:00-05:00"}
    load_raw(module_db, earlier)
    with psycopg.connect(module_db) as conn:  # the last successful night: the day the models measure from
        conn.execute("insert into ops.dag_runs (dag_id, run_id, run_type, triggered_by, logical_date, started_at, "
                     "finished_at, outcome) values ('puente_nightly', 'scheduled__2026-11-21', 'scheduled', "
                     "'scheduler', %s, '2026-11-22 03:00+00', '2026-11-22 04:00+00', 'success')", (DAY,))
    run_dbt(list(MAIN_BUILD_ARGS), module_db, env=AS_OF)
    juan_77 = CHANNELS["woocommerce"]["customers"][0]
    with psycopg.connect(module_db) as conn:
        load_page(conn, raw_object("woocommerce", "customers"),
                  [Record(juan_77, "77", _cursor("woocommerce", "customers", juan_77))], "erasure-test-changed")
        conn.commit()
    run_dbt(list(MAIN_BUILD_ARGS), module_db, env=AS_OF)
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
    # the night's ML scores (he is at high churn risk) and the activation models built from them
    with psycopg.connect(module_db) as conn:
        conn.execute("insert into ml.model_runs (model_run_id, model_name, as_of_date, features, metrics, baselines, "
                     "artifact_path, library_versions) values ('run-1', 'churn', %s, '[]', '{}', '{}', "
                     "'artifacts/churn/run-1', '{}')", (DAY,))
        conn.execute("insert into ml.churn_scores (customer_id, scored_for_date, churn_probability, risk_band, "
                     "model_run_id, scored_at, reasons) values (%s, %s, 0.81, 'high', 'run-1', "
                     "'2026-11-22 03:00+00', 'no order in 40 days')", (BEFORE["juan"], DAY))
    run_dbt(list(ACTIVATION_BUILD_ARGS), module_db, env=AS_OF)
    # each activation whose rows carry his name has a row for him before the erasure
    BEFORE["activations"] = named_in_activations(module_db, BEFORE["juan"])
    assert set(BEFORE["activations"]) == ACTIVATIONS_NAMING_HIM, BEFORE["activations"]
    with psycopg.connect(module_db) as conn:  # and the snapshot's history holds his former account
        assert conn.execute("select count(*) from snapshots.dim_customers_snapshot where email = "
                            "'juanp.antes@example.com' and dbt_valid_to is not null").fetchone() == (1,)
        # a closed version of a customer that was only his guest checkout (WooCommerce order 1078,
        # before it merged into his): guest orders have no <record type>_ids column, only its
        # fields' sources name the record
        conn.execute("create temp table guest_version as select * from snapshots.dim_customers_snapshot "
                     "where customer_id = %s limit 1", (BEFORE["juan"],))
        ids = [c for (c,) in conn.execute("select column_name from information_schema.columns where table_schema = "
                                          "'snapshots' and table_name = 'dim_customers_snapshot' and (column_name "
                                          "like '%%\\_ids' or column_name like '%%\\_source') and column_name "
                                          "not in ('full_name_source', 'city_source')")]
        conn.execute(sql.SQL("update guest_version set customer_id = 'guest-1078-before', dbt_scd_id = md5('guest'), "
                             "dbt_valid_to = dbt_valid_from, full_name = 'Juan Pérez', city = 'Bogotá', email = null, "
                             "phone = null, tax_id = null, {}, full_name_source = 'woocommerce_guest_order:1078', "
                             "city_source = 'woocommerce_guest_order:1078'").format(sql.SQL(", ").join(
                                 sql.SQL("{} = null").format(sql.Identifier(c)) for c in ids)))
        conn.execute("insert into snapshots.dim_customers_snapshot select * from guest_version")
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
        "raw.woocommerce_customers": 1, "raw.woocommerce_orders": 3, "raw.tiendanube_customers": 1,
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


def test_the_activation_models_name_him_no_more(erased):
    """The rebuild covers the activation models: the churn-risk task, the service reminder task and
    the service due date aimed at his CRM contact, the web orders to post to the ERP, each of which
    named him before the erasure (the fixture checks it), name him no more; and none of them aims at
    his CRM contacts again (the erasure deleted Puente's tasks there and cleared its fields)."""
    url, _, _ = erased
    assert named_in_activations(url, BEFORE["juan"], BEFORE["activations"]) == {}
    with psycopg.connect(url) as conn:
        # his churn-risk assignment stays in the experiment, without the contact it was made for
        assert conn.execute("select arm, hubspot_contact_id from intermediate.int_churn_task_assignments "
                            "where customer_id = %s", (BEFORE["juan"],)).fetchone() == ("treated", None)
        aimed = conn.execute(
            "select 'churn' from activations.act_churn_risk_tasks where payload ->> 'contact_id' in ('501', '502') "
            "union all select 'service' from activations.act_service_reminder_tasks "
            "where payload ->> 'contact_id' in ('501', '502') "
            "union all select 'due date' from activations.act_service_due_dates where target_id in ('501', '502')"
        ).fetchall()
        # his coffee is still due (the order is the business's), for a customer with no CRM contact
        (reminder,) = conn.execute("select payload ->> 'contact_id', invalid_reason, context ->> 'what' from "
                                   "activations.act_service_reminder_tasks").fetchall()
        # the namesake's web order still names the namesake
        (namesake_order,) = conn.execute("select payload -> 'partner' -> 'new' ->> 'email' from "
                                         "activations.act_web_orders_to_erp where row_key = 'woocommerce_order:1079'"
                                         ).fetchone()
    assert aimed == []
    assert reminder[0] is None and reminder[1].startswith("the customer has no CRM contact")
    assert "Juan" not in reminder[2] and "Pérez" not in reminder[2]
    assert namesake_order == "jp.cali@example.com"


class RecordingWriter:
    """Stands in for every target (ERP, CRM, shops): accepts and records each row it is handed."""

    requests_made = 0

    def __init__(self, system: str) -> None:
        self.system = system
        self.written: list[tuple[str, str, object]] = []

    def prepare(self, obj: str) -> None:
        pass

    def lookup(self, obj, external_keys):
        return {}

    def refuses_duplicates(self, obj: str) -> bool:
        return False

    def write(self, obj, mode, rows):
        self.written += [(obj, mode, row) for row in rows]
        operation = "create" if mode == "create" else "update"
        return [Outcome(row.row_key, True, row.target_id or f"{self.system}-{len(self.written)}-{n}", operation)
                for n, row in enumerate(rows)]

    def close(self) -> None:
        pass


def test_his_won_deal_and_web_orders_are_held_not_posted_to_the_erp(erased):
    """After the erasure his won deal (matched to his ERP order before: the erasure removed what
    matched them) and his web orders not yet in the ERP no longer find his ERP partner. Posted,
    they would make a partner for him again and a second order for the deal: even where the ERP
    takes a new customer without a cédula/NIT (var erp_requires_tax_id false) they are held, on
    the work list with the erasure as the reason. Here their products exist in the ERP, so nothing
    else holds them; the namesake's order, the same name but not erased, is posted."""
    from puente.activation.engine import run_activation
    from puente.activation.spec import activation_named

    url, result, _ = erased
    products = [{"id": 12 + n, "name": name, "default_code": sku, "list_price": price, "standard_price": price / 2,
                 "qty_available": 20.0, "active": True, "create_date": "2026-01-01 00:00:00",
                 "write_date": "2026-11-01 00:00:00"}
                for n, (sku, name, price) in enumerate((("COC-0009", "Tabla de picar en bambú mediana", 31400.0),
                                                        ("COC-0010", "Tabla de picar en bambú grande", 54500.0)))]
    line = {"id": "8701", "properties": {"name": "Martillo 16oz", "hs_sku": "HAM-16", "quantity": "10",
                                         "price": "42016.81", "hs_lastmodifieddate": "2026-11-19T14:00:00.000Z"},
            "updatedAt": "2026-11-19T14:00:00.000Z", "archived": False,
            "associations": {"deals": {"results": [{"id": "701", "type": "line_item_to_deal"}]}}}
    with psycopg.connect(url) as conn:
        load_page(conn, raw_object("odoo", "product.product"),
                  [Record(p, str(p["id"]), f"{p['write_date']}+00") for p in products], "erasure-test-products")
        load_page(conn, raw_object("hubspot", "line_items"), [Record(line, "8701", line["updatedAt"])],
                  "erasure-test-deal-lines")
        conn.commit()
    no_tax_id = ["--vars", "{erp_requires_tax_id: false}"]
    run_dbt([*MAIN_BUILD_ARGS, "--resource-type", "model", *no_tax_id], url, env=AS_OF)  # the products, the lines
    run_dbt([*ACTIVATION_BUILD_ARGS, *no_tax_id], url, env=AS_OF)
    his = {"won_deals_to_erp": ["hubspot_deal:701"],
           "web_orders_to_erp": ["tiendanube_order:1310000777", "woocommerce_order:1077", "woocommerce_order:1078"]}
    with psycopg.connect(url) as conn:
        (erased_on,) = conn.execute("select min(erased_at)::date from ops.erased_records where erasure_id = %s",
                                    (result.erasure_id,)).fetchone()
        rows = {(name, key): reason for name, model in (("won_deals_to_erp", "act_won_deals_to_erp"),
                                                        ("web_orders_to_erp", "act_web_orders_to_erp"))
                for key, reason in conn.execute(sql.SQL("select row_key, invalid_reason from activations.{}").format(
                    sql.Identifier(model)))}
    held = f"was erased (Habeas Data, erasure {result.erasure_id} of {erased_on:%Y-%m-%d}): Puente does not post it"
    for name, keys in his.items():
        for key in keys:
            assert held in (rows.get((name, key)) or ""), (key, rows.get((name, key)))
    assert rows[("web_orders_to_erp", "woocommerce_order:1079")] is None  # the namesake's: nothing holds it
    erp = RecordingWriter("odoo")
    for name in his:
        run_activation(url, activation_named(name), erp, logical_date=DAY)
    sent = {row.row_key for _, _, row in erp.written}
    assert "woocommerce_order:1079" in sent and not sent & {k for keys in his.values() for k in keys}, sent
    with psycopg.connect(url) as conn:  # the operator sees why on the work list
        listed = dict(((a, k), r) for a, k, r in conn.execute(
            "select activation, row_key, reason from ops.activation_issues where activation in "
            "('won_deals_to_erp', 'web_orders_to_erp')"))
    assert all(held in listed[(name, key)] for name, keys in his.items() for key in keys), listed
    assert "the customer of this deal was erased" in listed[("won_deals_to_erp", "hubspot_deal:701")]


def test_the_snapshot_history_keeps_nothing_of_his(erased):
    """The snapshot (dim_customers_snapshot) is history no rebuild replaces: every version of his
    customer, and of the customer his shop account was before it merged into his (a closed version
    under another customer id, with a former e-mail and phone no record holds any more), loses his
    name, place and identifiers; other customers' versions stay as they were."""
    url, _, _ = erased
    assert traces(url, ["juanp.antes@example.com", "3109998877", "juanp.antes"]) == {}
    with psycopg.connect(url) as conn:
        versions = conn.execute(
            "select customer_id, full_name, email, phone, tax_id, city from snapshots.dim_customers_snapshot "
            "where customer_id = %s or woocommerce_customer_ids && '{77}' or odoo_partner_ids && '{101}' "
            "or hubspot_contact_ids && '{501,502}'", (BEFORE["juan"],)).fetchall()
        others = dict(conn.execute("select full_name, email from snapshots.dim_customers_snapshot "
                                   "where full_name in ('Ana Ruiz', 'Carlos Gómez', 'María López')").fetchall())
    assert len({customer for customer, *_ in versions}) >= 2  # his customer, and his shop account's before
    assert all(personal == [None] * 5 for _, *personal in versions), versions
    assert others == {"Ana Ruiz": "ana.ruiz@example.com", "Carlos Gómez": "familia.gomez@example.com",
                      "María López": "maria.lopez@example.com"}


def test_the_snapshot_versions_of_his_guest_checkout_lose_his_name(erased):
    """A customer that was only his guest-checkout order (no ``<record type>_ids`` column holds a
    guest order) is found by its fields' sources (``full_name_source``…)."""
    url, _, _ = erased
    with psycopg.connect(url) as conn:
        assert conn.execute("select full_name, city, full_name_source from snapshots.dim_customers_snapshot "
                            "where customer_id = 'guest-1078-before'").fetchall() == [
            (None, None, "woocommerce_guest_order:1078")]


def test_the_identity_review_decisions_on_his_records_are_revoked(erased):
    """An operator's decision naming one of his records no longer holds (a merge would keep his
    records one customer): revoked by the erasure, in the audit log; the namesake's stays."""
    url, result, _ = erased
    with psycopg.connect(url) as conn:
        decisions = {key: rest for key, *rest in conn.execute(
            "select record_key, is_revoked, revoked_by, revoked_at is not null from ops.customer_match_overrides")}
        shown = conn.execute("select actor, outcome from marts.audit_log where action = 'identity review: revoke "
                             "distinct'").fetchall()
    assert decisions == {"odoo_partner:101": [True, f"erasure {result.erasure_id}", True],
                         BEFORE["namesake_key"]: [False, None, False]}
    assert result.removed["ops.customer_match_overrides (revoked)"] == 1
    assert shown == [(f"erasure {result.erasure_id}", "revoked")]


def test_his_records_become_anonymous_customers_of_their_own(erased):
    """What the erasure removes is what tied his records together (e-mail, phone, tax id, name): the
    rebuild no longer finds them one person. The records an order ties without personal data (his
    shop order #1042 entered in the ERP as S00042) stay together and keep his customer id, each
    other record is a customer of its own; none holds a name or identifier, nor joins anyone
    else's records. (README, "Habeas Data"; puente/erasure.py.)"""
    url, _, _ = erased
    with psycopg.connect(url) as conn:
        customers = conn.execute(
            "select m.customer_id, array_agg(m.record_key), array_agg(distinct p) "
            "from intermediate.int_customers_matched as m join marts.dim_customers as c using (customer_id), "
            "unnest(array[c.full_name, c.email, c.phone, c.tax_id, c.city]) as p "
            "where m.customer_id in (select customer_id from intermediate.int_customers_matched "
            "where record_key = any(%s)) group by 1", (BEFORE["juan_keys"],)).fetchall()
    groups = {customer: sorted(set(keys)) for customer, keys, _ in customers}
    assert sorted(k for keys in groups.values() for k in keys) == sorted(BEFORE["juan_keys"])  # his only
    assert groups.pop(BEFORE["juan"]) == ["odoo_partner:101", "shopify_customer:7001"]
    assert sorted(groups.values()) == [[k] for k in sorted(BEFORE["juan_keys"])
                                       if k not in ("odoo_partner:101", "shopify_customer:7001")]
    # (the mention of a name replaced in raw, "[erased]", may be a customer's golden name)
    assert {p for *_, personal in customers for p in personal} == {None, "[erased]"}, customers


def test_the_tombstone_keeps_the_fact_without_the_data(erased):
    url, result, _ = erased
    with psycopg.connect(url) as conn:
        (row,) = conn.execute("select requested_by, reason, identified_by, customers, source_records, finished_at, "
                              "removed from ops.erasures").fetchall()
    assert row[:5] == ("dpo@casaandina.com.co", "Habeas Data request 2026-117", ["email"], 1, result.source_records)
    assert row[5] is not None and row[6] == result.removed
    assert row[6]["hubspot.tasks"] == 1  # the CRM task Puente made for him, deleted
    # asked again (a request made twice), he is not found, and the operator is told which erasure
    # removed him: the tombstone's keyed hashes of his identifiers (the e-mail in any case, the
    # phone and tax id as typed or as their digits), not the identifiers
    for given in ({"email": " juan.perez@EXAMPLE.com"}, {"phone": "+57 300 123 4567"}, {"tax_id": "900.123.456-8"}):
        with pytest.raises(SubjectNotFound, match=f"erasure {result.erasure_id} removed it"):
            erase(url, requested_by="dpo", **given)
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from ops.erasures").fetchone() == (1,)  # nothing started
    with psycopg.connect(url) as conn:  # and the audit log shows it, with who asked
        assert conn.execute("select actor, outcome, detail ->> 'erasure_id' from marts.audit_log "
                            "where action = 'erasure'").fetchall() == [("dpo@casaandina.com.co", "done",
                                                                        result.erasure_id)]


# what an erasure writes: its tombstone, and when it scrubbed each record
STATE = ("select (select count(*) from ops.erasures), (select count(*) from ops.erased_records), "
         "(select max(erased_at) from ops.erased_records)")


def test_a_request_by_customer_id_made_again_says_when_he_was_erased_and_writes_no_tombstone(
        erased, monkeypatch, capsys):
    """His customer id stays with the anonymous remainder of his records (the part holding most of
    them), so a request by it made again finds "him": every record of that customer was scrubbed
    by the erasure and none landed since, so nothing is done, no second tombstone is written, and
    the operator is told which erasure did it and when (the CLI too)."""
    from argparse import Namespace

    import puente.warehouse
    from puente import erasure

    url, result, _ = erased
    with psycopg.connect(url) as conn:
        before = conn.execute(STATE).fetchone()
        (when,) = conn.execute("select min(erased_at) from ops.erased_records where erasure_id = %s",
                               (result.erasure_id,)).fetchone()
    done = f"erasure {result.erasure_id} of {when.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    with pytest.raises(AlreadyErased, match=f"customer {BEFORE['juan']} was already erased: {done};"):
        erase(url, requested_by="dpo", customer_id=BEFORE["juan"])
    monkeypatch.setattr(puente.warehouse, "warehouse_url", lambda: url)
    args = Namespace(email=None, phone=None, tax_id=None, customer_id=BEFORE["juan"], requested_by="dpo",
                     reason=None, no_crm=True, all_matching=False)
    assert erasure.main(args) == 1
    assert f"Nothing erased: customer {BEFORE['juan']} was already erased: {done}" in capsys.readouterr().err
    with psycopg.connect(url) as conn:  # nothing started, nothing scrubbed again
        assert conn.execute(STATE).fetchone() == before
        assert conn.execute("select count(*) from ops.pipeline_lease").fetchone() == (0,)


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
    with pytest.raises(SubjectNotFound) as unknown:
        erase(url, requested_by="dpo", email="nobody@example.com")
    assert "erasure" not in str(unknown.value)
    with pytest.raises(ValueError, match="exactly one"):
        erase(url, requested_by="dpo", email="a@example.com", phone="3001234567")


def test_an_erasure_waits_for_the_run_writing_the_warehouse(erased, monkeypatch):
    """A night (or a web-orders run) holds the writer lease: an erasure does not scrub under a build
    that read raw before it (that build would write the person back); past its wait it gives up,
    having touched nothing."""
    import puente.erasure
    from puente import leases

    url, _, _ = erased
    leases.acquire(url, "puente_nightly manual__2026-11-16", leases.NIGHT_TTL)
    monkeypatch.setattr(puente.erasure, "ERASURE_LEASE_WAIT", timedelta(0))
    try:
        with psycopg.connect(url) as conn:
            tombstones = conn.execute("select count(*) from ops.erasures").fetchone()
        with pytest.raises(TimeoutError, match="puente_nightly manual__2026-11-16"):
            erase(url, requested_by="dpo", customer_id=BEFORE["namesake"])
        with psycopg.connect(url) as conn:
            assert conn.execute("select count(*) from ops.erasures").fetchone() == tombstones
    finally:
        leases.release(url, "puente_nightly manual__2026-11-16")


def test_dbt_records_its_own_command_never_the_erasure_request(erased, monkeypatch, tmp_path):
    """dbt logs the process's command line as its invocation; `puente erase --email …` runs dbt in
    the same process, and the e-mail must not reach dbt's log or run_results.json."""
    import sys

    url, _, _ = erased
    monkeypatch.setattr(sys, "argv", ["puente", "erase", "--email", "juan.perez@example.com"])
    monkeypatch.setenv("PUENTE_DBT_TARGET_PATH", str(tmp_path))
    monkeypatch.setenv("DBT_WRITE_JSON", "True")  # as a user's dbt writes it (the tests' does not: conftest.py)
    run_dbt(["compile", "--select", "dim_customers"], url)
    (results,) = tmp_path.glob("*/run_results.json")  # the folder of this database (puente.dbt._target_folder)
    invocation = json.loads(results.read_text())["args"]["invocation_command"]
    assert invocation.startswith("dbt compile") and "juan" not in invocation
    assert sys.argv[-1] == "juan.perez@example.com"  # the process's own is given back


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
                            "from marts.audit_log where action = 'run' and subject like 'puente_erasure%%'"
                            ).fetchall() == [
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


def test_an_identifier_several_customers_share_is_refused_unless_confirmed(erased, monkeypatch, capsys):
    """Carlos and Lucía share the family's e-mail (two customers): erasing by it is refused, naming
    how many customers and their ids (not their data), and nothing changes; confirmed
    (``all_matching``, ``--all-matching``) both are erased."""
    from argparse import Namespace

    import puente.warehouse
    from puente import erasure

    url, _, _ = erased
    family = "familia.gomez@example.com"
    with psycopg.connect(url) as conn:
        customers = sorted(r[0] for r in conn.execute(
            "select distinct customer_id from intermediate.int_customers_matched where email_normalized = %s",
            (family,)))
        before = conn.execute("select count(*) from ops.erasures").fetchone()
    assert len(customers) == 2
    with pytest.raises(SeveralSubjects) as refused:
        erase(url, requested_by="dpo", email=family)
    message = str(refused.value)
    assert "2 customers" in message and all(c in message for c in customers) and "--all-matching" in message
    assert "--customer-id" in message and "Carlos" not in message and "Lucía" not in message
    # the CLI says so too, and erases nothing
    monkeypatch.setattr(puente.warehouse, "warehouse_url", lambda: url)
    args = Namespace(email=family, phone=None, tax_id=None, customer_id=None, requested_by="dpo", reason=None,
                     no_crm=True, all_matching=False)
    assert erasure.main(args) == 1
    assert "Nothing erased: the e-mail given is carried by 2 customers" in capsys.readouterr().err
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from ops.erasures").fetchone() == before
        assert conn.execute("select count(*) from marts.dim_customers where email = %s", (family,)).fetchone() == (2,)
    # confirmed: both go
    result = erase(url, requested_by="dpo", email=family, all_matching=True, rebuild=False)
    assert result.customers == 2
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from ops.erasures").fetchone() == (before[0] + 1,)
        (message,) = conn.execute("select message from ops.erasures where erasure_id = %s",
                                  (result.erasure_id,)).fetchone()
    assert "confirmed for every customer carrying the identifier (2: --all-matching)" in message  # the tombstone says so
    assert traces(url, [family]) == {}
    with psycopg.connect(url) as conn:  # an erasure releases the writer lease it held
        assert conn.execute("select count(*) from ops.pipeline_lease").fetchone() == (0,)


def test_a_record_of_his_the_source_changed_after_the_erasure_is_erased_again(erased):
    """The ERP changed his partner after the erasure (he came back, or the business corrected the
    record): it lands again, new data the business holds, so a request by his customer id is not
    "already erased": what came back is erased, under a tombstone of its own."""
    url, result, _ = erased
    partner = {**next(p for p in SOURCES["odoo"]["res.partner"] if p["id"] == 101),
               "write_date": (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S")}
    with psycopg.connect(url) as conn:
        tombstones = conn.execute("select count(*) from ops.erasures").fetchone()[0]
        counts = load_page(conn, raw_object("odoo", "res.partner"), [Record(partner, "101", _cursor(
            "odoo", "res.partner", partner))], "erasure-test-partner-back")
        conn.commit()
    assert (counts.erased_skipped, counts.updated) == (0, 1)
    again = erase(url, requested_by="dpo", customer_id=BEFORE["juan"], rebuild=False)
    assert again.erasure_id != result.erasure_id and again.removed["raw.odoo_res_partner"] == 1
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from ops.erasures").fetchone()[0] == tombstones + 1
        (record,) = conn.execute("select record from raw.odoo_res_partner where source_id = '101'").fetchone()
    assert record["email"] is None and "Juan" not in json.dumps(record)
