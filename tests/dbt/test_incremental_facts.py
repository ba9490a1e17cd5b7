"""fct_orders and fct_order_lines are incremental: a night touching a few orders rewrites only
those, and ends with exactly the rows a full rebuild gives. So are the marts kept between nights
(macros/kept_builds.sql): the customer marts, kept by customer (dim_customers,
customer_authorisations, customer_field_conflicts: a night rewrites the customers whose records
changed, and dim_customers also those whose orders did), and fct_order_to_cash, kept by order.

Night 1 is the scenario. Night 2 lands: a new web order #1045 of María and the ERP sale order
S00046 entered from it under a new partner of hers (with its line); the payment of
Distribuciones' invoice INV/2026/00043; the deletion of the guest order #1044; the confirmation
of Carlos' quotation S00044 and its two invoices; a counter sale S00047 (with its line) that
night 3 leaves alone; an operator merge of María into Juan Pérez, so
that her untouched order #1043 changes customer; and Lucía Gómez's ERP partner moves to Cali.
Night 3 moves what earlier links were built on: the ERP corrects S00046's reference from #1045 to
#1043, the invoice of S00043 is re-pointed to S00045, the second invoice of S00044 to S00046,
product HAM-16 is renamed HAM-16B in the ERP, and web order #1042 re-lands with no readable lines
(the ERP's lines of S00042 stay its lines); Carlos Gómez gives the ERP a new phone, and Lucía
Gómez's ERP partner, which night 2 moved to Cali, is back in Medellín as her CRM contact says (the
conflict of her cities is gone).
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

FACTS = {"fct_orders": "order_id", "fct_order_lines": "order_line_id", "fct_order_to_cash": "order_id"}
# the union views over the shops' contract views (puente.sources.contracts)
UNIONS = ("int_web_orders_unioned", "int_web_order_lines_unioned",
          *contracts.providers()["web_orders"], *contracts.providers()["web_order_lines"])
# the staging models read from incremental tables (their base_* models), and their row keys
STAGED = {"stg_odoo__sale_orders": "sale_order_id", "stg_odoo__sale_order_lines": "sale_order_line_id",
          "stg_odoo__invoices": "invoice_id", "stg_shopify__orders": "order_id",
          "stg_shopify__order_lines": "order_line_id", "stg_odoo__partners": "partner_id",
          "stg_shopify__customers": "customer_id", "stg_hubspot__contacts": "contact_id"}
# the customer marts kept by customer (macros/customer_scope.sql), and their row keys
CUSTOMER_MARTS = {"dim_customers": "customer_id", "customer_authorisations": "customer_id || ':' || purpose",
                  "customer_field_conflicts": "conflict_id"}
# Carlos Gómez's ERP partner, whose phone changes on night 3, and Lucía Gómez's, whose city does on
# nights 2 and 3
CARLOS, LUCIA = 102, 103
# the marts kept between nights, whose table comment records their last build (macros/kept_builds.sql)
KEPT_MARTS = (*CUSTOMER_MARTS, "fct_order_to_cash")
# a table model and an incremental one, for who is analysed again on a night (macros/analyze_table.sql)
ANALYSED = ("intermediate.int_customers_matched", "staging.base_odoo__sale_orders")


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


def _lucia(**changes) -> dict:
    partner = copy.deepcopy(next(p for p in ODOO["res.partner"] if p["id"] == LUCIA))
    partner.update(changes)
    return partner


def _marias_web_order() -> dict:
    """María's web order of night 2; its sale order S00046 moves to #1043 on night 3 (its lines are the shop's)."""
    return _order(5004, "#1045", {"id": 7002, "email": "maria.lopez@example.com", "first_name": "María",
                                  "last_name": "López", "phone": None},
                  "2026-11-22T09:00:00-05:00", "129900.00")


def _night_2(url: str) -> None:
    _upsert(url, "shopify", "orders", [_marias_web_order()])
    quotation = copy.deepcopy(next(o for o in ODOO["sale.order"] if o["name"] == "S00044"))
    quotation.update(state="sale", write_date="2026-11-22 10:00:00")
    entered = copy.deepcopy(quotation)
    entered.update(id=205, name="S00046", partner_id=[106, "María López"], client_order_ref="#1045",
                   date_order="2026-11-22 14:05:00", create_date="2026-11-22 14:05:00")
    counter_sale = copy.deepcopy(next(o for o in ODOO["sale.order"] if o["name"] == "S00045"))
    counter_sale.update(id=206, name="S00047", state="sale", date_order="2026-11-22 16:00:00",
                        create_date="2026-11-22 16:00:00", write_date="2026-11-22 16:00:00")
    _upsert(url, "odoo", "sale.order", [quotation, entered, counter_sale])
    partner = copy.deepcopy(ODOO["res.partner"][0])
    partner.update(id=106, name="María López", email="maria.lopez@example.com", phone=False, vat=False,
                   city="Cali", customer_rank=1, write_date="2026-11-22 14:04:00")
    _upsert(url, "odoo", "res.partner", [partner])
    _upsert(url, "odoo", "sale.order.line", [{
        "id": 302, "order_id": [205, "S00046"], "product_id": [11, "[HAM-16] Martillo 16oz"],
        "product_uom_qty": 2.0, "price_unit": 54579.83, "price_subtotal": 109159.66,
        "create_date": "2026-11-22 14:05:00", "write_date": "2026-11-22 14:05:00"}, {
        "id": 303, "order_id": [206, "S00047"], "product_id": [11, "[HAM-16] Martillo 16oz"],
        "product_uom_qty": 1.0, "price_unit": 54579.83, "price_subtotal": 54579.83,
        "create_date": "2026-11-22 16:00:00", "write_date": "2026-11-22 16:00:00"}])
    invoice = copy.deepcopy(next(m for m in ODOO["account.move"] if m["name"] == "INV/2026/00043"))
    invoice.update(amount_residual=0.0, payment_state="paid", write_date="2026-11-22 11:00:00")
    _upsert(url, "odoo", "account.move", [invoice, *_carlos_invoices()])
    guest = next(o for o in SHOPIFY["orders"] if o["name"] == "#1044")
    _upsert(url, "shopify", "orders", [guest], deleted=True)
    _upsert(url, "odoo", "res.partner", [_lucia(city="Cali", write_date="2026-11-22 11:00:00")])
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into ops.customer_match_overrides (record_key, other_record_key, action, reason, decided_by) "
            "values ('shopify_customer:7002', 'odoo_partner:101', 'merge', 'María is Juan''s shop alias', 'test')")


def _carlos_invoices(**second) -> list[dict]:
    """Carlos' confirmed quotation S00044 invoiced in two parts, both posted and not paid."""
    first = copy.deepcopy(next(m for m in ODOO["account.move"] if m["name"] == "INV/2026/00043"))
    first.update(id=403, name="INV/2026/00044", partner_id=[CARLOS, "Carlos Gómez"], invoice_origin="S00044",
                 invoice_date="2026-11-22", invoice_date_due="2026-12-22", amount_total=5900.0,
                 amount_residual=5900.0, create_date="2026-11-22 12:00:00", write_date="2026-11-22 12:00:00")
    other = {**copy.deepcopy(first), "id": 404, "name": "INV/2026/00045", "amount_total": 6000.0,
             "amount_residual": 6000.0, **second}
    return [first, other]


def _night_3(url: str) -> None:
    entered = copy.deepcopy(next(o for o in ODOO["sale.order"] if o["name"] == "S00044"))
    entered.update(id=205, name="S00046", state="sale", partner_id=[106, "María López"], client_order_ref="#1043",
                   date_order="2026-11-22 14:05:00", create_date="2026-11-22 14:05:00",
                   write_date="2026-11-23 09:00:00")
    _upsert(url, "odoo", "sale.order", [entered])
    invoice = copy.deepcopy(next(m for m in ODOO["account.move"] if m["name"] == "INV/2026/00043"))
    invoice.update(amount_residual=0.0, payment_state="paid", invoice_origin="S00045",
                   write_date="2026-11-23 09:10:00")
    # the ERP corrects the origin of Carlos' second invoice: it was María's S00046 (S00044 keeps the
    # first, so its invoicing status in fct_orders stays as it was)
    _upsert(url, "odoo", "account.move", [invoice, _carlos_invoices(invoice_origin="S00046",
                                                                     write_date="2026-11-23 09:15:00")[1]])
    product = copy.deepcopy(ODOO["product.product"][0])
    product.update(default_code="HAM-16B", display_name="[HAM-16B] Martillo 16oz", write_date="2026-11-23 09:20:00")
    _upsert(url, "odoo", "product.product", [product])
    emptied = copy.deepcopy(next(o for o in SHOPIFY["orders"] if o["name"] == "#1042"))
    emptied.update(line_items=None, updated_at="2026-11-23T09:30:00-05:00")
    _upsert(url, "shopify", "orders", [emptied])
    moved = copy.deepcopy(next(p for p in ODOO["res.partner"] if p["id"] == CARLOS))
    moved.update(phone="320 111 2233", write_date="2026-11-23 09:40:00")
    _upsert(url, "odoo", "res.partner", [moved])
    _upsert(url, "odoo", "res.partner", [_lucia(city="Medellín", write_date="2026-11-23 09:50:00")])


def _rows(url: str, schema: str, keys: dict[str, str]) -> dict[str, dict[str, dict]]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return {
            model: {row[key]: row for row in conn.execute(f"select * from {schema}.{model}")}
            for model, key in keys.items()
        }


def _facts(url: str) -> dict[str, dict[str, dict]]:
    return _rows(url, "marts", FACTS)


def _customer_marts(url: str) -> dict[str, dict[str, dict]]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return {mart: {row.pop("row_key"): row for row in conn.execute(f"select {key} as row_key, * from marts.{mart}")}
                for mart, key in CUSTOMER_MARTS.items()}


def _query(url: str, sql: str, *params) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def _builds(url: str) -> dict[str, str]:
    """The build each kept mart records in its table's comment, `<hash>@<start>`."""
    return {mart: _query(url, "select obj_description(%s::regclass, 'pg_class')", f"marts.{mart}")[0][0]
            for mart in KEPT_MARTS}


def _invoice_origins(url: str) -> list[tuple]:
    """The sale order names invoices carry today (int_invoice_origins), in order."""
    return sorted(_query(url, "select source_id, invoice_id, sale_order_name, state, payment_state, amount_residual, "
                              "landed_at from intermediate.int_invoice_origins where names_sale_order"))


def _rows_written(result, models) -> dict[str, int]:
    """Rows each model's build wrote (its adapter's count)."""
    return {r.node.name: r.adapter_response.get("rows_affected") for r in result.result.results
            if r.node.name in models}


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
    first, first_analyses, customers_before = _facts(built_db), _analyses(built_db), _customer_marts(built_db)
    builds = [_builds(built_db)]
    _night_2(built_db)
    # no look-back: everything here landed within the hour, and the test is what a night re-reads
    no_lookback = ["--vars", '{"incremental_lookback_hours": 0}']
    run_dbt([*MAIN_BUILD_ARGS, *no_lookback], built_db)
    incremental, second_analyses = _facts(built_db), _analyses(built_db)
    customers_after_2 = _customer_marts(built_db)
    builds.append(_builds(built_db))
    _night_3(built_db)
    result = run_dbt([*MAIN_BUILD_ARGS, *no_lookback], built_db)  # raises on any failed model or dbt test
    third, staged, customers = _facts(built_db), _rows(built_db, "staging", STAGED), _customer_marts(built_db)
    written = _rows_written(result, CUSTOMER_MARTS)
    order_to_cash_written = _rows_written(result, ["fct_order_to_cash"])["fct_order_to_cash"]
    origins = _invoice_origins(built_db)
    builds.append(_builds(built_db))
    changed_on_3 = {row[0] for row in _query(built_db, "select customer_id from intermediate.int_customer_versions "
                                                       "where changed_at = (select max(changed_at) from "
                                                       "intermediate.int_customer_versions)")}
    ordered_on_3 = {row[0] for row in _query(built_db, "select customer_id from marts.fct_orders where refreshed_at = "
                                                       "(select max(refreshed_at) from marts.fct_orders)")}
    # (the facts read the shops' staging through the contract and union views, which a rebuilt
    # table's drop cascades to)
    run_dbt(["build", "--full-refresh", "--select", *FACTS, *(f"+{model}" for model in STAGED), *UNIONS,
             "int_customer_versions", *CUSTOMER_MARTS, "int_invoice_origins"], built_db)
    return {"first": first, "incremental": incremental, "third": third, "staged": staged, "rebuilt": _facts(built_db),
            "reparsed": _rows(built_db, "staging", STAGED), "analyses": (first_analyses, second_analyses),
            "customers_before": customers_before, "customers_after_2": customers_after_2, "customers": customers, "customers_written": written, "changed_on_3": changed_on_3, "builds": builds, "ordered_on_3": ordered_on_3,
            "customers_rebuilt": _customer_marts(built_db), "order_to_cash_written": order_to_cash_written,
            "origins": origins, "origins_rebuilt": _invoice_origins(built_db)}


def test_incremental_nights_end_with_the_rows_of_a_full_rebuild(nights):
    for fact in FACTS:
        assert _without_refresh(nights["third"][fact]) == _without_refresh(nights["rebuilt"][fact]), fact
    for model in STAGED:
        assert nights["staged"][model] == nights["reparsed"][model], model
    for mart in CUSTOMER_MARTS:
        assert nights["customers"][mart] == nights["customers_rebuilt"][mart], mart
    assert nights["origins"] == nights["origins_rebuilt"]


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


def test_intermediate_tables_are_analysed_on_a_smaller_sample_than_the_marts(nights, built_db):
    # each column's statistics target (macros/analyze_table.sql): 30 on the intermediate layer's
    # tables, PostgreSQL's default (none set) on the marts' and staging's; after a full rebuild
    targets = dict(_query(built_db, """
        select table_schema, array_agg(distinct coalesce(attstattarget, -1))
        from information_schema.tables
        inner join pg_attribute
            on attrelid = (quote_ident(table_schema) || '.' || quote_ident(table_name))::regclass
            and attnum > 0 and not attisdropped
        where table_type = 'BASE TABLE' and table_schema in ('intermediate', 'marts', 'staging')
        group by table_schema"""))
    assert targets == {"intermediate": [30], "marts": [-1], "staging": [-1]}


def test_the_facts_kept_by_order_keep_one_index_on_each_column_a_night_looks_up(nights, built_db):
    """A night reads the newest `refreshed_at`, the previous rows of the orders and lines it touched,
    the lines of the orders it refreshed and their ERP lines and sale orders through indexes (macro
    ensure_indexes; staging's own on `source_id`): there after the nights and the full rebuild of the
    fixture, each once."""
    indexed = _query(built_db, """
        select tablename, substring(indexdef from '[(](.*)[)]$'), count(*) from pg_indexes
        where (schemaname, tablename) in (('marts', 'fct_orders'), ('marts', 'fct_order_lines'),
            ('staging', 'base_odoo__sale_order_lines'), ('staging', 'base_odoo__sale_orders'))
        group by 1, 2 order by 1, 2""")
    assert indexed == [("base_odoo__sale_order_lines", "sale_order_id", 1), ("base_odoo__sale_order_lines", "source_id", 1),
                       ("base_odoo__sale_orders", "sale_order_id", 1), ("base_odoo__sale_orders", "source_id", 1),
                       ("fct_order_lines", "odoo_sale_order_line_id", 1), ("fct_order_lines", "order_id", 1),
                       ("fct_order_lines", "refreshed_at", 1), ("fct_orders", "odoo_sale_order_id", 1),
                       ("fct_orders", "order_id", 1), ("fct_orders", "refreshed_at", 1)], indexed


def test_a_night_rewrites_only_the_customers_it_changed(nights, built_db):
    """Night 3 changes the records of Carlos Gómez (his phone in the ERP) and Lucía Gómez (her ERP city
    back to the CRM's): each customer mart writes the rows of the customers whose records changed
    (int_customer_versions), dim_customers also those of the orders the night wrote, and no other;
    every other row is the night before's, and Lucía's conflict of cities, which no record holds any
    more, is gone."""
    (carlos, lucia) = [_query(built_db, "select customer_id from intermediate.int_customers_matched "
                                        "where record_key = %s", f"odoo_partner:{partner}")[0][0]
                       for partner in (CARLOS, LUCIA)]
    written, customers, before = nights["customers_written"], nights["customers"], nights["customers_after_2"]
    scope = {mart: nights["changed_on_3"] for mart in CUSTOMER_MARTS}
    scope["dim_customers"] = nights["changed_on_3"] | nights["ordered_on_3"]
    assert {carlos, lucia} <= nights["changed_on_3"] and len(scope["dim_customers"]) < len(customers["dim_customers"])
    assert written == {mart: len([row for row in customers[mart].values() if row["customer_id"] in scope[mart]])
                       for mart in CUSTOMER_MARTS}, written
    # (the ERP's is the only phone of Carlos' customer: the golden record takes the new one)
    assert customers["dim_customers"][carlos]["phone"] != before["dim_customers"][carlos]["phone"]
    lucias = {night: [row["field_name"] for row in nights[night]["customer_field_conflicts"].values()
                      if row["customer_id"] == lucia] for night in ("customers_after_2", "customers")}
    assert lucias == {"customers_after_2": ["city"], "customers": []}, lucias
    for mart in CUSTOMER_MARTS:
        others = {key: row for key, row in customers[mart].items() if row["customer_id"] not in scope[mart]}
        assert others == {key: row for key, row in before[mart].items() if row["customer_id"] not in scope[mart]}


def test_each_build_of_a_kept_mart_records_the_same_code(nights):
    """The first build (which cannot read the mart's own rows) and the incremental ones record one
    hash: the night after a first build computes only what changed."""
    for mart in KEPT_MARTS:
        hashes = {build[mart].split("@")[0] for build in nights["builds"]}
        starts = [build[mart].split("@")[1] for build in nights["builds"]]
        assert len(hashes) == 1 and len(set(starts)) == 3, (mart, nights["builds"])


def test_a_customer_merged_away_leaves_no_row_in_the_customer_marts(nights):
    """Night 2 merges María's customer into Juan Pérez's: her customer id is gone from every
    customer mart, though night 2 rewrote only the customers it changed."""
    before, after = nights["customers_before"], nights["customers_after_2"]
    gone = ({row["customer_id"] for row in before["dim_customers"].values()}
            - {row["customer_id"] for row in after["dim_customers"].values()})
    assert gone
    for mart in CUSTOMER_MARTS:
        assert not [row for row in after[mart].values() if row["customer_id"] in gone], mart


def test_a_customer_mart_built_by_other_code_is_computed_whole(nights, built_db):
    """The build recorded in the mart's comment was made by other code (an upgrade): every customer
    is computed again, and a row only that code made is gone, though no record changed since."""
    with psycopg.connect(built_db) as conn:
        conn.execute("""
            insert into marts.customer_field_conflicts (conflict_id, customer_id, field_name, system_of_record)
            select 'made by other code', customer_id, 'city', 'hubspot' from marts.dim_customers limit 1""")
        conn.execute("comment on table marts.customer_field_conflicts is 'other code@2999-01-01 00:00:00+00'")
    result = run_dbt([*MAIN_BUILD_ARGS, "--select", "customer_field_conflicts"], built_db)
    rebuilt = nights["customers_rebuilt"]["customer_field_conflicts"]
    assert _customer_marts(built_db)["customer_field_conflicts"] == rebuilt
    assert _rows_written(result, ["customer_field_conflicts"]) == {"customer_field_conflicts": len(rebuilt)}


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


def test_a_night_rewrites_only_the_orders_to_cash_it_changed(nights):
    """Night 3: fct_orders rewrites the orders of the sale orders whose invoices moved (S00043 and
    S00044 lost one, S00045 and S00046 gained one), not the counter sale S00047 it left alone;
    fct_order_to_cash writes exactly the orders fct_orders wrote and keeps every other row as the
    night before. S00044 keeps one of its two invoices (its invoicing status is the same): only the
    invoice's old origin, which int_invoice_origins keeps, tells the night that its invoice count
    changed."""
    orders = {row["order_name"]: row for row in nights["third"]["fct_orders"].values()}
    night_3 = max(row["refreshed_at"] for row in orders.values())
    written = {order_id for order_id, row in nights["third"]["fct_orders"].items() if row["refreshed_at"] == night_3}
    moved = {row["order_id"] for row in orders.values()
             if row["odoo_sale_order_name"] in ("S00043", "S00044", "S00045", "S00046")}
    cash, before = nights["third"]["fct_order_to_cash"], nights["incremental"]["fct_order_to_cash"]
    assert moved <= written and orders["S00047"]["order_id"] not in written
    assert nights["order_to_cash_written"] == len(written) < len(cash)
    assert {key: row for key, row in cash.items() if key not in written} == {
        key: row for key, row in before.items() if key not in written}
    s00044 = orders["S00044"]["order_id"]
    assert ((before[s00044]["invoice_count"], before[s00044]["amount_residual"]),
            (cash[s00044]["invoice_count"], cash[s00044]["amount_residual"])) == ((2, 11900), (1, 5900))


def test_a_renamed_sku_reaches_old_lines(nights):
    """Every ERP line takes the product's new SKU, the line of S00047 too: night 3 touches no other
    part of that order, so only the line's previous row, found by its ERP line id, tells the night."""
    orders, lines = _third(nights)
    assert [line["product_id"] for line in lines if line["order_id"] == orders["S00047"]["order_id"]] == [
        hashlib.md5(b"sku:HAM-16B").hexdigest()]
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


def test_a_night_that_removes_no_order_looks_only_at_the_lines_of_the_orders_it_refreshed(nights, built_db):
    """fct_orders records when it last removed orders (macros/incremental_facts.sql); a night after
    which none went checks only the lines of the orders it refreshed, and still drops those of an
    order left with none."""
    def orders_removed_at() -> str:
        return _query(built_db, "select obj_description('marts.fct_orders'::regclass, 'pg_class')")[0][0]

    before = orders_removed_at()
    # a build of the whole table (the fixture's last) records its start
    assert before.startswith("orders_removed_at=")
    emptied = _marias_web_order()
    (order_id,) = _query(built_db, "select order_id from marts.fct_orders where shopify_order_id = %s", emptied["id"])[0]
    assert {line["line_source"] for line in nights["rebuilt"]["fct_order_lines"].values()
            if line["order_id"] == order_id} == {"shopify"}
    # the shop order relanded without its lines: its order stays, its lines go
    emptied.update(line_items=None, updated_at="2026-11-24T09:30:00-05:00")
    _upsert(built_db, "shopify", "orders", [emptied])
    run_dbt([*MAIN_BUILD_ARGS, "--vars", '{"incremental_lookback_hours": 0}'], built_db)
    assert orders_removed_at() == before  # no order removed: the lines' whole check did not run
    facts = _facts(built_db)
    assert order_id in facts["fct_orders"]
    assert not [line for line in facts["fct_order_lines"].values() if line["order_id"] == order_id]
    run_dbt(["build", "--full-refresh", "--select", *FACTS], built_db)
    assert _without_refresh(facts["fct_order_lines"]) == _without_refresh(_facts(built_db)["fct_order_lines"])
