"""fct_orders and fct_order_lines are incremental: a night touching a few orders rewrites only
those, and ends with exactly the rows a full rebuild gives.

Night 1 is the scenario. Night 2 lands: a new web order #1045 of María and the ERP sale order
S00046 entered from it under a new partner of hers (with its line); the payment of
Distribuciones' invoice INV/2026/00043; the deletion of the guest order #1044; the confirmation
of Carlos' quotation S00044; and an operator merge of María into Juan Pérez, so that her
untouched order #1043 changes customer. Night 3 moves what earlier links were built on: the
ERP corrects S00046's reference from #1045 to #1043, the invoice of S00043 is re-pointed to
S00045, product HAM-16 is renamed HAM-16B in the ERP, and web order #1042 re-lands with no
readable lines (the ERP's lines of S00042 stay its lines).
"""

from __future__ import annotations

import copy
import hashlib

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from scenario import ODOO, SHOPIFY, _order, _updated_at

from puente import warehouse
from puente.dbt import MAIN_BUILD_ARGS, run_dbt
from puente.sources import contracts

FACTS = {"fct_orders": "order_id", "fct_order_lines": "order_line_id"}
# the union views over the shops' contract views (puente.sources.contracts)
UNIONS = ("int_web_orders_unioned", "int_web_order_lines_unioned",
          *contracts.providers()["web_orders"], *contracts.providers()["web_order_lines"])
# the staging models read from incremental tables (their base_* models), and their row keys
STAGED = {"stg_odoo__sale_orders": "sale_order_id", "stg_odoo__sale_order_lines": "sale_order_line_id",
          "stg_odoo__invoices": "invoice_id", "stg_shopify__orders": "order_id",
          "stg_shopify__order_lines": "order_line_id", "stg_odoo__partners": "partner_id",
          "stg_shopify__customers": "customer_id", "stg_hubspot__contacts": "contact_id"}
# a table model and an incremental one, for who is analysed again on a night (macros/analyze_table.sql)
ANALYSED = ("marts.dim_customers", "staging.base_odoo__sale_orders")


def _upsert(url: str, source: str, obj: str, records: list[dict], deleted: bool = False) -> None:
    table = warehouse.raw_object(source, obj).qualified_table
    with psycopg.connect(url) as conn:
        for record in records:
            conn.execute(
                f"insert into {table} (source_id, record, source_updated_at, _batch_id, _deleted) "
                "values (%s, %s, %s, 'test-batch-2', %s) on conflict (source_id) do update set "
                "record = excluded.record, source_updated_at = excluded.source_updated_at, "
                "_batch_id = excluded._batch_id, _deleted = excluded._deleted, _loaded_at = now()",
                (str(record["id"]), Jsonb(record), _updated_at(source, record), deleted))


def _night_2(url: str) -> None:
    new_web_order = _order(5004, "#1045", {"id": 7002, "email": "maria.lopez@example.com", "first_name": "María",
                                           "last_name": "López", "phone": None},
                           "2026-11-22T09:00:00-05:00", "129900.00")
    _upsert(url, "shopify", "orders", [new_web_order])
    quotation = copy.deepcopy(next(o for o in ODOO["sale.order"] if o["name"] == "S00044"))
    quotation.update(state="sale", write_date="2026-11-22 10:00:00")
    entered = copy.deepcopy(quotation)
    entered.update(id=205, name="S00046", partner_id=[106, "María López"], client_order_ref="#1045",
                   date_order="2026-11-22 14:05:00", create_date="2026-11-22 14:05:00")
    _upsert(url, "odoo", "sale.order", [quotation, entered])
    partner = copy.deepcopy(ODOO["res.partner"][0])
    partner.update(id=106, name="María López", email="maria.lopez@example.com", phone=False, vat=False,
                   city="Cali", customer_rank=1, write_date="2026-11-22 14:04:00")
    _upsert(url, "odoo", "res.partner", [partner])
    _upsert(url, "odoo", "sale.order.line", [{
        "id": 302, "order_id": [205, "S00046"], "product_id": [11, "[HAM-16] Martillo 16oz"],
        "product_uom_qty": 2.0, "price_unit": 54579.83, "price_subtotal": 109159.66,
        "create_date": "2026-11-22 14:05:00", "write_date": "2026-11-22 14:05:00"}])
    invoice = copy.deepcopy(next(m for m in ODOO["account.move"] if m["name"] == "INV/2026/00043"))
    invoice.update(amount_residual=0.0, payment_state="paid", write_date="2026-11-22 11:00:00")
    _upsert(url, "odoo", "account.move", [invoice])
    guest = next(o for o in SHOPIFY["orders"] if o["name"] == "#1044")
    _upsert(url, "shopify", "orders", [guest], deleted=True)
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into ops.customer_match_overrides (record_key, other_record_key, action, reason, decided_by) "
            "values ('shopify_customer:7002', 'odoo_partner:101', 'merge', 'María is Juan''s shop alias', 'test')")


def _night_3(url: str) -> None:
    entered = copy.deepcopy(next(o for o in ODOO["sale.order"] if o["name"] == "S00044"))
    entered.update(id=205, name="S00046", state="sale", partner_id=[106, "María López"], client_order_ref="#1043",
                   date_order="2026-11-22 14:05:00", create_date="2026-11-22 14:05:00",
                   write_date="2026-11-23 09:00:00")
    _upsert(url, "odoo", "sale.order", [entered])
    invoice = copy.deepcopy(next(m for m in ODOO["account.move"] if m["name"] == "INV/2026/00043"))
    invoice.update(amount_residual=0.0, payment_state="paid", invoice_origin="S00045",
                   write_date="2026-11-23 09:10:00")
    _upsert(url, "odoo", "account.move", [invoice])
    product = copy.deepcopy(ODOO["product.product"][0])
    product.update(default_code="HAM-16B", display_name="[HAM-16B] Martillo 16oz", write_date="2026-11-23 09:20:00")
    _upsert(url, "odoo", "product.product", [product])
    emptied = copy.deepcopy(next(o for o in SHOPIFY["orders"] if o["name"] == "#1042"))
    emptied.update(line_items=None, updated_at="2026-11-23T09:30:00-05:00")
    _upsert(url, "shopify", "orders", [emptied])


def _rows(url: str, schema: str, keys: dict[str, str]) -> dict[str, dict[str, dict]]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return {
            model: {row[key]: row for row in conn.execute(f"select * from {schema}.{model}")}
            for model, key in keys.items()
        }


def _facts(url: str) -> dict[str, dict[str, dict]]:
    return _rows(url, "marts", FACTS)


def _analyses(url: str) -> dict[str, tuple[int, int]]:
    """Per table of ANALYSED: how many times it was analysed by a command (autovacuum's are counted
    apart), and how many columns have statistics."""
    with psycopg.connect(url) as conn:
        return {table: conn.execute(
            "select s.analyze_count, (select count(*) from pg_stats as p"
            "  where p.schemaname = s.schemaname and p.tablename = s.relname) "
            "from pg_stat_user_tables as s where s.schemaname || '.' || s.relname = %s", (table,)).fetchone()
            for table in ANALYSED}


def _without_refresh(rows: dict[str, dict]) -> dict[str, dict]:
    return {key: {k: v for k, v in row.items() if k != "refreshed_at"} for key, row in rows.items()}


@pytest.fixture(scope="module")
def nights(built_db: str) -> dict[str, dict]:
    # the first night: the scenario landed and built (a copy of the session's build)
    first, first_analyses = _facts(built_db), _analyses(built_db)
    _night_2(built_db)
    # no look-back: everything here landed within the hour, and the test is what a night re-reads
    no_lookback = ["--vars", '{"incremental_lookback_hours": 0}']
    run_dbt([*MAIN_BUILD_ARGS, *no_lookback], built_db)
    incremental, second_analyses = _facts(built_db), _analyses(built_db)
    _night_3(built_db)
    run_dbt([*MAIN_BUILD_ARGS, *no_lookback], built_db)  # raises on any failed model or dbt test
    third, staged = _facts(built_db), _rows(built_db, "staging", STAGED)
    # (the facts read the shops' staging through the contract and union views, which a rebuilt
    # table's drop cascades to)
    run_dbt(["build", "--full-refresh", "--select", *FACTS, *(f"+{model}" for model in STAGED), *UNIONS], built_db)
    return {"first": first, "incremental": incremental, "third": third, "staged": staged, "rebuilt": _facts(built_db),
            "reparsed": _rows(built_db, "staging", STAGED), "analyses": (first_analyses, second_analyses)}


def test_incremental_nights_end_with_the_rows_of_a_full_rebuild(nights):
    for fact in FACTS:
        assert _without_refresh(nights["third"][fact]) == _without_refresh(nights["rebuilt"][fact]), fact
    for model in STAGED:
        assert nights["staged"][model] == nights["reparsed"][model], model


def test_a_night_analyses_the_tables_it_rebuilt_and_leaves_the_incremental_ones_their_statistics(nights):
    (first, second) = nights["analyses"]
    table, incremental = ANALYSED
    # both were analysed when first built: each column has its statistics
    assert first[table][1] > 0 and first[incremental][1] > 0
    # the next night rebuilds the table (analysed again) and adds to the incremental one, which keeps
    # the statistics it has (autovacuum renews them once a tenth of its rows changed)
    assert second[table][0] == first[table][0] + 1
    assert second[incremental] == first[incremental]


def test_an_incremental_table_grown_by_more_than_a_fifth_on_disk_is_analysed_again(nights, built_db):
    _, incremental = ANALYSED
    model = incremental.split(".")[1]
    with psycopg.connect(built_db, autocommit=True) as conn:
        # (autovacuum would take new statistics on its own at any moment)
        conn.execute(f"alter table {incremental} set (autovacuum_enabled = false)")
    try:
        with psycopg.connect(built_db, autocommit=True) as conn:
            # new versions of every row, in one transaction (none can be pruned before it ends): the
            # same rows on several times the pages, the statistics as they were
            conn.execute(f"do $$ begin for i in 1..10 loop update {incremental} set sale_order_id = sale_order_id;"
                         " end loop; end $$")
            pages, stale = conn.execute("select pg_relation_size(oid) / current_setting('block_size')::integer,"
                                        " relpages from pg_class where oid = %s::regclass", (incremental,)).fetchone()
            assert pages > 1.2 * stale
        before = _analyses(built_db)[incremental][0]
        run_dbt(["build", "--select", model], built_db)
        grown = _analyses(built_db)[incremental][0]
        # the analysis took the table's new size: the next build, which adds nothing, leaves it
        run_dbt(["build", "--select", model], built_db)
        assert (grown, _analyses(built_db)[incremental][0]) == (before + 1, before + 1)
    finally:
        with psycopg.connect(built_db, autocommit=True) as conn:
            conn.execute(f"alter table {incremental} reset (autovacuum_enabled)")


def _third(nights) -> tuple[dict[str, dict], list[dict]]:
    orders = {row["order_name"]: row for row in nights["third"]["fct_orders"].values()}
    return orders, list(nights["third"]["fct_order_lines"].values())


def test_a_corrected_erp_reference_moves_the_link(nights):
    orders, lines = _third(nights)
    assert orders["#1045"]["odoo_sale_order_id"] is None
    assert orders["#1043"]["odoo_sale_order_name"] == "S00046"
    sources = {name: {(line["line_source"], line["odoo_sale_order_line_id"]) for line in lines
                       if line["order_id"] == orders[name]["order_id"]} for name in ("#1043", "#1045")}
    assert sources == {"#1043": {("odoo", 302)}, "#1045": {("shopify", None)}}


def test_an_invoice_pointed_elsewhere_moves_the_invoicing(nights):
    orders, _ = _third(nights)
    assert (orders["S00043"]["invoice_status"], orders["S00045"]["payment_status"]) == ("not_invoiced", "paid")


def test_a_renamed_sku_reaches_old_lines(nights):
    _, lines = _third(nights)
    assert {line["product_id"] for line in lines if line["line_source"] == "odoo"} == {
        hashlib.md5(b"sku:HAM-16B").hexdigest()}


def test_a_shop_order_relanded_without_lines_keeps_none_in_staging(nights):
    assert not [line for line in nights["staged"]["stg_shopify__order_lines"].values() if line["order_id"] == 5001]


def test_a_fact_built_before_its_refresh_stamp_existed_is_recomputed_whole(nights, built_db):
    """The first night after an upgrade from plain-table facts: no `refreshed_at` to scope by."""
    with psycopg.connect(built_db) as conn:
        # Such a version had no BI views over these columns either (cascade drops today's).
        conn.execute("alter table marts.fct_order_lines drop column refreshed_at cascade")
        conn.execute("alter table marts.fct_orders drop column refreshed_at cascade, "
                     "drop column customer_record_key cascade")
    run_dbt([*MAIN_BUILD_ARGS, "--select", *FACTS], built_db)
    assert _without_refresh(_facts(built_db)["fct_orders"]) == _without_refresh(nights["rebuilt"]["fct_orders"])
    assert {row["refreshed_at"] is not None for row in _facts(built_db)["fct_order_lines"].values()} == {True}


def test_fct_orders_built_before_cancelled_at_existed_is_recomputed_whole(nights, built_db):
    """The first night after the upgrade that added `cancelled_at`: every cancelled order gets its date,
    not only those the night touches (sync_all_columns alone would leave the others null)."""
    with psycopg.connect(built_db) as conn:
        conn.execute("alter table marts.fct_orders drop column cancelled_at cascade")
    run_dbt([*MAIN_BUILD_ARGS, "--select", *FACTS], built_db)
    orders = _facts(built_db)["fct_orders"]
    assert _without_refresh(orders) == _without_refresh(nights["rebuilt"]["fct_orders"])
    cancelled = [row for row in orders.values() if row["is_cancelled"]]
    assert cancelled and all(row["cancelled_at"] is not None for row in cancelled)
