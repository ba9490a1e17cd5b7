"""The bi_reader role: reads the masked views of marts_bi, and nothing of marts."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.rows import dict_row

from puente.dbt import run_dbt


def test_bi_reader_reads_masked_marts_only(built_db):
    run_dbt(["run-operation", "create_bi_reader"], built_db)
    with psycopg.connect(built_db, row_factory=dict_row) as conn:
        conn.execute("set role bi_reader")
        (juan,) = conn.execute("select * from marts_bi.dim_customers where '101' = any(odoo_partner_ids)").fetchall()
        assert (juan["email_masked"], juan["phone_masked"]) == ("j***@example.com", "+57******4567")
        assert len(juan["tax_id_hash"]) == 32 and "email" not in juan and "tax_id" not in juan
        assert conn.execute("select count(*) as n from marts_bi.fct_order_lines").fetchone()["n"] == 3
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from marts.dim_customers")
