"""One bad value never stops the night: staging types every value safely, names what it could
not read in marts.data_issues, and keeps a record whose key or amount is unreadable out of the
marts (messy_night.py, through the real dbt build), while the casting macros tell real dates and
numbers from look-alikes."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from messy_night import DOUBTFUL_TAX_IDS
from psycopg.rows import dict_row

from expectations.gates import run_marts_gate
from puente.dbt import run_dbt
from puente.report import night_summary

NULL, QUARANTINED = "value set to null", "record quarantined: kept out of the marts"
NOT_A_DATE = "not a real date (YYYY-MM-DD)"
NOT_A_TIMESTAMP = "not a real date and time (ISO 8601 with a zone)"

EXPECTED_ISSUES = {
    ("odoo", "account.move", "402", "invoice_date", "0000-00-00", NOT_A_DATE, NULL),
    ("odoo", "sale.order", "204", "date_order", "2026-02-30 10:00:00",
     "not a real date and time (YYYY-MM-DD HH:MM:SS, UTC)", NULL),
    ("odoo", "sale.order.line", "301", "product_id", "abc", "not a numeric id", NULL),
    ("odoo", "sale.order", "206", "partner_id", "x104", "not a numeric id", QUARANTINED),
    ("odoo", "sale.order", "207", "amount_total", "abc", "not a number", QUARANTINED),
    ("odoo", "res.partner", "P-9", "id", "P-9", "not a numeric id", QUARANTINED),
    ("shopify", "orders", "5001", "processed_at", "2026-02-30T10:31:02-05:00", NOT_A_TIMESTAMP, NULL),
    ("shopify", "customers", "7002", "created_at", "0000-00-00T00:00:00-05:00", NOT_A_TIMESTAMP, NULL),
    ("shopify", "orders", "5006", "total_price", "abc", "not a number", QUARANTINED),
    ("shopify", "orders", "5006", "subtotal_price", "abc", "not a number", NULL),
    ("shopify", "orders", "5007", "line_items[2].price", "abc", "not a number", QUARANTINED),
    ("hubspot", "deals", "701", "properties.closedate", "2026-02-30T14:00:00.000Z", NOT_A_TIMESTAMP, NULL),
    ("hubspot", "contacts", "503", "properties.hs_marketable_status", "maybe", "not true or false", NULL),
    ("mercadolibre", "orders", "2000009301", "payments[1].total_paid_amount", "abc", "not a number", QUARANTINED),
    ("tiendanube", "products", "172009001", "created_at", "2026-02-30T10:00:00-05:00", NOT_A_TIMESTAMP, NULL),
}


def rows(url: str, sql: str, *params) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


def test_every_unreadable_value_is_named_with_its_record_and_consequence(messy_db):
    found = {tuple(row.values()) for row in rows(messy_db, """
        select source_system, source_object, record_id, field, raw_value, reason, consequence
        from marts.data_issues where staging_model <> 'int_customer_records_unioned'""")}
    assert found == EXPECTED_ISSUES


def test_a_doubtful_tax_id_is_named_where_its_system_keeps_it(messy_db):
    """The operator is sent to the object and field a person fixes it in, as each source declares
    it (PersonalData.tax_id): a Salesforce Lead's Tax_Id__c, not a Contact's; a Tienda Nube
    customer's identification; a Mercado Libre buyer's document, on their sales."""
    found = {tuple(row.values()) for row in rows(messy_db, """
        select source_system, source_object, record_id, field, raw_value, reason, consequence
        from marts.data_issues where staging_model = 'int_customer_records_unioned'""")}
    assert found == {(system, obj, record_id, field, typed, f"tax id check digit fails ({corrected} would be valid)",
                      "not used as a key to match customers (weaker evidence only)")
                     for system, obj, record_id, field, typed, corrected in DOUBTFUL_TAX_IDS}


def test_the_night_goes_on_past_the_bad_values(messy_db):
    result = run_marts_gate(messy_db)
    assert result.success, result.summary()["failed_checks"]
    orders = {row["order_name"]: row for row in rows(messy_db, "select * from marts.fct_orders")}
    # kept, with the unreadable value null or, for an order's date, its creation as the fallback
    assert orders["S00045"]["ordered_at"] == dt.datetime(2026, 11, 2, 3, 30, tzinfo=dt.UTC)
    assert orders["#1042"]["ordered_at"] == dt.datetime(2026, 11, 20, 15, 31, 2, tzinfo=dt.UTC)
    assert rows(messy_db, "select invoice_date from staging.stg_odoo__invoices where invoice_id = 402") \
        == [{"invoice_date": None}]
    # a GraphQL global id is the same order and customer
    maria = rows(messy_db, "select customer_id from marts.dim_customers where '7002' = any(shopify_customer_ids)")
    assert orders["#1046"]["shopify_order_id"] == 5005
    assert orders["#1046"]["customer_id"] == maria[0]["customer_id"]
    # quarantined: not in staging's stg_* models, so in no mart
    assert not {"S00047", "S00048", "#1047"} & orders.keys()
    assert rows(messy_db, "select count(*) as n from staging.base_shopify__orders where order_id = 5006") == [{"n": 1}]
    assert rows(messy_db, "select count(*) as n from staging.stg_shopify__orders where order_id = 5006") == [{"n": 0}]
    assert rows(messy_db, "select count(*) as n from marts.dim_customers where 'P-9' = any(odoo_partner_ids)") \
        == [{"n": 0}]
    # the order with an unreadable line keeps its total and its readable line
    assert orders["#1048"]["amount_total"] == 129900
    lines = rows(messy_db, "select shopify_order_line_id from marts.fct_order_lines where order_id = %s",
                 orders["#1048"]["order_id"])
    assert [line["shopify_order_line_id"] for line in lines] == [50071]


def test_the_night_summary_counts_the_data_issues(messy_db):
    summary = night_summary(messy_db, dt.date(2026, 11, 22), dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    assert summary["data_issues"] == {"values_nulled": 9, "records_quarantined": 6, "landed_tonight": 15,
                                     "decisions_naming_no_record": 0}


# --- the casting macros ------------------------------------------------------------------------

# (macro, text) -> the value PostgreSQL reads, as text; None: not a value of that type
CASTS = {
    ("safe_date", "2024-02-29"): "2024-02-29",
    ("safe_date", "2026-02-29"): None,
    ("safe_date", "2026-02-30"): None,
    ("safe_date", "0000-00-00"): None,
    ("safe_date", "2026-13-01"): None,
    ("safe_date", "today"): None,
    ("safe_date", "01/02/2026"): None,  # MDY or DMY depends on DateStyle
    ("safe_timestamptz", "2026-11-20T10:31:02-05:00"): "2026-11-20 15:31:02",
    ("safe_timestamptz", "2026-11-19T14:00:00.000Z"): "2026-11-19 14:00:00",
    ("safe_timestamptz", "2026-02-30T10:00:00Z"): None,
    ("safe_timestamptz", "2026-11-20T24:61:00Z"): None,
    ("safe_timestamptz", "2026-11-20T10:00:00"): None,  # no zone: which day it is depends on the server
    ("safe_timestamptz", "now"): None,
    ("safe_timestamptz", "infinity"): None,
    ("safe_utc_timestamp", "2026-11-20 15:31:02"): "2026-11-20 15:31:02",
    ("safe_utc_timestamp", "2026-02-30 10:00:00"): None,
    ("safe_gmt_timestamp", "2026-11-20T15:31:02"): "2026-11-20 15:31:02",  # WordPress *_gmt: UTC, no zone
    ("safe_gmt_timestamp", "0000-00-00T00:00:00"): None,  # WordPress's zero date
    ("safe_gmt_timestamp", "2026-11-20T15:31:02-05:00"): None,
    ("safe_numeric", " 129900.00 "): "129900.00",
    ("safe_numeric", "-.5"): "-0.5",
    ("safe_numeric", "abc"): None,
    ("safe_numeric", "NaN"): None,
    ("safe_numeric", "Infinity"): None,
    ("safe_numeric", "0x1A"): None,
    ("safe_numeric", "1_000"): None,
    ("safe_numeric", "1.2.3"): None,
    ("safe_id", "11"): "11",
    ("safe_id", "11.0"): "11",
    ("safe_id", "11.5"): None,
    ("safe_id", "12345678901234567890"): None,  # beyond bigint
    ("safe_id", "gid://shopify/Order/1"): None,  # only where a Shopify id is expected
    ("safe_shopify_id", "gid://shopify/Order/1"): "1",
    ("safe_shopify_id", "450789469"): "450789469",
    ("safe_shopify_id", "gid://shopify/Order/"): None,
    ("safe_boolean", " TRUE "): "true",
    ("safe_boolean", "yes"): None,
}


@pytest.fixture(scope="module")
def casts(messy_db) -> dict[tuple[str, str], str | None]:
    calls = {"safe_shopify_id": "safe_id('value', shopify_gid=true)"}
    selects = []
    for macro in sorted({macro for macro, _ in CASTS}):
        values = ", ".join("('{}')".format(text.replace("'", "''")) for m, text in CASTS if m == macro)
        call = calls.get(macro, f"{macro}('value')")
        cast = f"{{{{ {call} }}}}"
        if "timestamp" in macro:  # shown in UTC, whatever the session's time zone
            cast = f"({cast}) at time zone 'UTC'"
        selects.append(f"select '{macro}' as macro, value, ({cast})::text as cast_value "
                       f"from (values {values}) as cases (value)")
    result = run_dbt(["show", "--inline", " union all ".join(selects), "--limit", "-1", "--quiet"], messy_db)
    return {(row["macro"], row["value"]): row["cast_value"] for row in result.result.results[0].agate_table.rows}


@pytest.mark.parametrize(("macro", "text"), list(CASTS))
def test_a_cast_reads_real_values_only(casts, macro, text):
    assert casts[(macro, text)] == CASTS[(macro, text)]
