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


def test_each_database_and_vars_has_a_target_folder_of_its_own(monkeypatch, tmp_path):
    """dbt parses the whole project again when the database or --vars differ from its saved partial
    parse's, so run_dbt keeps one per database and vars under PUENTE_DBT_TARGET_PATH: the same
    database and vars find the same folder, a password never names one, and unset, dbt's default."""
    def folder(url, *args):
        return dbt._target_folder(["build", *args], dbt.dbt_env(url)).get("DBT_TARGET_PATH")

    monkeypatch.delenv(dbt.TARGET_PATH_ENV, raising=False)
    assert folder("postgresql://u@h:5432/a") is None
    monkeypatch.setenv(dbt.TARGET_PATH_ENV, str(tmp_path))
    a, b = folder("postgresql://u@h:5432/a"), folder("postgresql://u@h:5432/b")
    with_vars = folder("postgresql://u@h:5432/a", "--vars", "{x: 1}")
    assert len({a, b, with_vars}) == 3 and all(f.startswith(f"{tmp_path}/") for f in (a, b, with_vars))
    assert folder("postgresql://u:secret@h:5432/a") == a == folder("postgresql://u@h:5432/a")
    assert folder("postgresql://u@h:5432/a", "--vars", "{x: 1}") == with_vars != folder(
        "postgresql://u@h:5432/a", "--vars", "{x: 2}")
    assert "secret" not in a


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


def test_dbt_commands_in_one_process_do_not_grow_the_default_behaviour_flags():
    """Each dbt command creates an adapter, whose ``behavior`` setter extends dbt-adapters' module-level
    default flags with the adapter's own (BaseAdapter.__init__); ``lighten_adapter_start``, run before
    each command, keeps every flag once however many commands the process runs."""
    from types import SimpleNamespace

    from dbt.adapters.base import impl
    from dbt.adapters.postgres import PostgresAdapter

    adapter = PostgresAdapter.__new__(PostgresAdapter)
    adapter.config = SimpleNamespace(flags={})
    dbt.lighten_adapter_start()
    built = []
    for _ in range(4):  # four dbt commands in one process
        dbt.lighten_adapter_start()
        adapter.behavior = impl.DEFAULT_BASE_BEHAVIOR_FLAGS  # what BaseAdapter.__init__ does
        built.append(len(impl.DEFAULT_BASE_BEHAVIOR_FLAGS))
    assert built[1:] == [built[1]] * 3  # without it: one flag more per command
    dbt.lighten_adapter_start()
    names = [flag["name"] for flag in impl.DEFAULT_BASE_BEHAVIOR_FLAGS]
    assert len(names) == len(set(names))
    assert {flag["name"] for flag in adapter._behavior_flags} <= set(names)  # the adapter's own still there


def test_a_behaviour_flag_still_names_the_module_that_declared_it():
    """The flag's source, read from the frames' globals after ``lighten_adapter_start``, is what
    dbt's ``inspect.stack()`` walk finds: the nearest caller outside dbt_common.behavior_flags."""
    from dbt_common.behavior_flags import BehaviorFlagRendered

    flag = {"name": "puente_test_flag", "default": False, "docs_url": "https://example.invalid"}
    dbt.lighten_adapter_start()
    assert BehaviorFlagRendered(flag, {})._behavior_change_event.flag_source == __name__
