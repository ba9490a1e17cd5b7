"""The bi_reader role: reads what BI needs in marts_bi, with pseudonyms it cannot reverse, and
nothing of marts; its views survive any rebuild of the marts they read."""

from __future__ import annotations

import hashlib
import hmac

import psycopg
import pytest
from psycopg.rows import dict_row

from puente.dbt import run_dbt


@pytest.fixture(scope="module")
def bi_db(built_db):
    run_dbt(["run-operation", "create_bi_reader"], built_db)
    return built_db


def _key(conn: psycopg.Connection) -> bytes:
    """The warehouse's HMAC key, as only a role that may read ops.bi_pseudonym_key can get it."""
    inner = conn.execute("select inner_pad from ops.bi_pseudonym_key").fetchone()["inner_pad"]
    return bytes(b ^ 0x36 for b in inner).rstrip(b"\0")


def test_bi_reader_reads_what_bi_needs_and_no_person(bi_db):
    with psycopg.connect(bi_db, row_factory=dict_row) as conn:
        juan = conn.execute("select * from marts.dim_customers where '101' = any(odoo_partner_ids)").fetchone()
        key = _key(conn)
        conn.execute("set role bi_reader")
        (seen,) = conn.execute("select * from marts_bi.dim_customers where customer_id = %s",
                               (juan["customer_id"],)).fetchall()
        assert not {"full_name", "email", "email_masked", "phone", "phone_masked", "tax_id", "odoo_partner_ids",
                    "hubspot_contact_ids", "shopify_customer_ids"} & set(seen)
        assert (seen["email_domain"], seen["has_phone"], seen["odoo_records"]) == ("example.com", True, 1)
        assert seen["city"] == juan["city"] and seen["lifetime_revenue"] == juan["lifetime_revenue"]
        # keyed: the HMAC under the warehouse's key, not a hash anyone can recompute from a guess
        assert seen["email_hash"] == hmac.new(key, juan["email"].encode(), hashlib.sha256).hexdigest()
        assert seen["tax_id_hash"] == hmac.new(key, juan["tax_id"].encode(), hashlib.sha256).hexdigest()
        unkeyed = {hashlib.sha256(juan["email"].encode()).hexdigest(),
                   hashlib.md5(f"puente{juan['email']}".encode()).hexdigest()}
        assert seen["email_hash"] not in unkeyed
        # the conflicts' view says which systems differ, never the values (read from the columns: it may be empty)
        columns = {c.name for c in conn.execute("select * from marts_bi.customer_field_conflicts limit 0").description}
        assert "differing_systems" in columns
        assert not {"owner_value", "golden_value", "system_values", "record_keys"} & columns
        assert conn.execute("select count(*) as n from marts_bi.fct_order_lines").fetchone()["n"] == 3
        # no view shows the key of a person's record in a source (fct_orders has one)
        leaked = conn.execute("select table_name, column_name from information_schema.columns "
                              "where table_schema = 'marts_bi' and column_name like '%%record_key'").fetchall()
        assert leaked == []
        orders = {c.name for c in conn.execute("select * from marts_bi.fct_orders limit 0").description}
        assert {"order_id", "customer_id", "order_name", "amount_total"} <= orders
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from marts.dim_customers")


def test_bi_reader_can_read_the_view_text_but_not_the_key(bi_db):
    with psycopg.connect(bi_db, row_factory=dict_row) as conn:
        key = _key(conn)
        conn.execute("set role bi_reader")
        text = conn.execute("select pg_get_viewdef('marts_bi.dim_customers'::regclass) as sql").fetchone()["sql"]
        assert "bi_pseudonym_key" in text and key.hex() not in text and "puente" not in text.replace("ops.", "")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from ops.bi_pseudonym_key")


def _bi_views(url: str) -> dict[str, int]:
    """Each marts_bi view and its row count, as bi_reader reads them."""
    with psycopg.connect(url) as conn:
        conn.execute("set role bi_reader")
        views = [row[0] for row in conn.execute("select table_name from information_schema.views "
                                                "where table_schema = 'marts_bi' order by 1")]
        return {view: conn.execute(f"select count(*) from marts_bi.{view}").fetchone()[0] for view in views}


def test_bi_views_survive_a_rebuild_of_the_marts_they_read(bi_db):
    before = _bi_views(bi_db)
    assert {"dim_customers", "fct_orders", "customer_field_conflicts"} <= set(before)
    # Every mart, not the views' own models: tables, and the incremental facts fully refreshed.
    run_dbt(["run", "--select", "path:models/marts", "--exclude", "tag:activation", "--full-refresh"], bi_db)
    assert _bi_views(bi_db) == before
    # A mart and its view in one command (a nightly build): the view's model finds the re-created view.
    run_dbt(["run", "--select", "dim_customers", "bi_dim_customers"], bi_db)
    assert _bi_views(bi_db) == before
    with psycopg.connect(bi_db) as conn:  # and they read the new tables, not what was dropped
        stale = conn.execute(
            "select distinct v.relname from pg_depend d join pg_rewrite r on r.oid = d.objid "
            "join pg_class v on v.oid = r.ev_class join pg_class t on t.oid = d.refobjid "
            "where v.relnamespace = 'marts_bi'::regnamespace and t.relname like '%%__dbt_backup'").fetchall()
    assert stale == []


def test_the_role_can_be_made_before_the_first_night(fresh_db):
    """On a warehouse no night has built yet (no marts schema) the macro still makes the role and
    its schema, instead of stopping at taking back rights on marts."""
    with psycopg.connect(fresh_db) as conn:
        assert not conn.execute("select 1 from pg_namespace where nspname = 'marts'").fetchone()
    run_dbt(["run-operation", "create_bi_reader"], fresh_db)
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select has_schema_privilege('bi_reader', 'marts_bi', 'usage')").fetchone()[0]
