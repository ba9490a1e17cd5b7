"""puente.dbt without a warehouse: connection variables and the manifest for cosmos."""

from __future__ import annotations

import json
import os

import pytest

from puente import dbt


def test_dbt_env_from_url():
    assert dbt.dbt_env("postgresql://bob:s%40cret@db.example:6543/wh") == {
        "PUENTE_DBT_HOST": "db.example",
        "PUENTE_DBT_PORT": "6543",
        "PUENTE_DBT_USER": "bob",
        "PUENTE_DBT_PASSWORD": "s@cret",
        "PUENTE_DBT_DBNAME": "wh",
    }


def test_dbt_env_defaults_port_and_empty_password():
    env = dbt.dbt_env("postgresql://postgres@127.0.0.1/puente")
    assert (env["PUENTE_DBT_PORT"], env["PUENTE_DBT_PASSWORD"]) == ("5432", "")


def test_dbt_env_refuses_a_url_without_database():
    with pytest.raises(ValueError, match="names no database"):
        dbt.dbt_env("postgresql://postgres@127.0.0.1:5432")


def test_ensure_manifest_parses_once_and_lists_the_nightly_selectors():
    environ_before = dict(os.environ)
    manifest = dbt.ensure_manifest()
    assert dict(os.environ) == environ_before  # the PUENTE_DBT_* placeholders do not leak
    parsed_at = manifest.stat().st_mtime
    assert dbt.ensure_manifest().stat().st_mtime == parsed_at  # fresh: not parsed again
    nodes = json.loads(manifest.read_text())["nodes"]
    scores = nodes["model.puente.act_crm_contact_scores"]
    assert "activation" in scores["tags"] and scores["schema"] == "activations"
    assert scores["config"]["meta"]["activation"]["target"] == "crm"  # the CRM the business runs
    assert nodes["model.puente.dim_customers"]["schema"] == "marts"
    assert nodes["model.puente.stg_odoo__partners"]["schema"] == "staging"
