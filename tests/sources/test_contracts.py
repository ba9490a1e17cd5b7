"""A source is its folder, its staging models and its line in the registry: the lists the shared
dbt models loop over (``puente.sources.contracts``) derive from the registry and the staging
folders, the file that hands them to dbt is current, and a source added (or removed) is followed
by the unions without any other edit."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from puente.sources import contracts, registry

REPO = Path(__file__).resolve().parents[2]


def test_the_generated_dbt_file_is_current_with_the_registry():
    assert contracts.GENERATED.read_text() == contracts.render(), (
        "dbt_project/macros/generated/sources.sql is out of date with the registry: "
        "run python -m puente.sources.contracts")
    assert contracts.main(["--check"]) == 0


def test_every_shared_model_loops_over_its_contract_and_names_no_provider():
    """The models that union a contract read its providers through the loop only (no
    `ref('stg_<system>__…')` of a system that provides it)."""
    models = {path.stem: path for path in (REPO / "dbt_project" / "models").glob("*/*.sql")}
    systems = contracts.systems()
    for contract, model in contracts.CONTRACTS.items():
        text = models[model].read_text()
        assert f"source_contract_models('{contract}')" in text, model
        assert systems[contract], contract
        assert not [s for s in systems[contract] if f"ref('stg_{s}__" in text], model
    providers = contracts.providers()
    assert providers["web_orders"] == ("stg_shopify__web_orders", "stg_woocommerce__web_orders",
                                       "stg_tiendanube__web_orders", "stg_mercadolibre__web_orders")
    assert providers["crm_people"] == ("stg_hubspot__crm_people", "stg_salesforce__crm_people")
    assert providers["provider_payments"] == ("stg_mercadopago__provider_payments", "stg_mercadolibre__provider_payments",
                                              "stg_stripe__provider_payments")
    assert set(contracts.customer_record_types()) == set(contracts.systems()["customer_records"]) | set(
        contracts.systems()["crm_people"]), "a system with customer records that provides none (or the reverse)"


def _acme_staging(tmp_path: Path) -> Path:
    """The staging folders of the registry, plus a shop `acme` with web orders and customers."""
    staging = tmp_path / "staging"
    shutil.copytree(contracts.STAGING, staging)
    acme = staging / "acme"
    acme.mkdir()
    (acme / "stg_acme__web_orders.sql").write_text(
        "select md5('acme_order:' || 1) as order_id, 'acme' as shop_system, 'Acme' as shop_title,\n"
        "    1::bigint as shop_order_id, 'AC-1' as order_name, 'AC-1' as order_reference,\n"
        "    '#1' as buyer_order_number,\n"
        "    'acme_customer:1' as customer_record_key, now() as ordered_at, 'confirmed' as status,\n"
        "    false as is_cancelled, false as is_paid, null::text as refund_status, 10.0 as amount_total,\n"
        "    'COP' as currency_code, 0.0 as shipping_amount, now() as loaded_at, false as is_deleted\n")
    (acme / "stg_acme__customer_records.sql").write_text("select 'acme_customer' as record_type\n")
    (acme / "_acme__models.yml").write_text(
        "version: 2\nmodels:\n  - name: stg_acme__web_orders\n"
        "    config: {meta: {data_issues: {object: orders, id: order_id}}}\n")
    return staging


def _acme():
    shop = registry.source("woocommerce")
    return dataclasses.replace(shop, name="acme", title="Acme", customer_record_kind="acme_customer")


def test_a_source_added_to_the_registry_is_in_every_list_it_provides(tmp_path):
    staging = _acme_staging(tmp_path)
    sources = (*registry.SOURCES, _acme())
    providers = contracts.providers(sources, staging)
    assert providers["web_orders"][-1] == "stg_acme__web_orders"
    assert providers["customer_records"][-1] == "stg_acme__customer_records"
    assert "stg_acme__web_order_lines" not in providers["web_order_lines"]  # it provides no lines
    assert contracts.systems(sources, staging)["web_orders"][-1] == "acme"
    assert contracts.customer_record_types(sources)["acme"] == "acme_customer"
    assert "acme_customer" in contracts.record_types(sources)
    assert contracts.systems_of_kind(sources)["shop"][-1] == "acme"
    assert contracts.data_issue_models(sources, staging)[-1] == ("stg_acme__web_orders", "acme", "orders",
                                                                 "order_id", None)
    text = contracts.render(sources, staging)
    assert "'stg_acme__web_orders']" in text and "'acme': 'acme_customer'" in text
    # a source taken out of the registry leaves every list, though its folder stays
    without = tuple(s for s in registry.SOURCES if s.name != "tiendanube")
    assert not any("tiendanube" in model for models in contracts.providers(without).values() for model in models)
    assert "tiendanube" not in contracts.render(without)


def test_a_source_declaring_a_data_issue_object_it_does_not_have_fails(tmp_path):
    staging = _acme_staging(tmp_path)
    (staging / "acme" / "_acme__models.yml").write_text(
        "models:\n  - name: stg_acme__web_orders\n    config: {meta: {data_issues: {object: carts, id: id}}}\n")
    with pytest.raises(KeyError, match="carts"):
        contracts.data_issue_models((*registry.SOURCES, _acme()), staging)


def test_dbt_unions_follow_the_registry(tmp_path, monkeypatch):
    """dbt itself: a copy of the project with the shop `acme` added (its folder and staging model,
    the generated file written for a registry that lists it) parses with int_web_orders_unioned
    depending on it, statically (so the manifest, and the DAG cosmos renders from it, show it)."""
    from puente import dbt

    project = tmp_path / "dbt_project"
    shutil.copytree(REPO / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    staging = _acme_staging(tmp_path)
    (staging / "acme" / "stg_acme__customer_records.sql").unlink()  # a shop of web orders only
    shutil.copytree(staging / "acme", project / "models" / "staging" / "acme")
    sources = (*registry.SOURCES, _acme())
    (project / "macros" / "generated" / "sources.sql").write_text(contracts.render(sources, staging))
    monkeypatch.setenv("PUENTE_DBT_PROJECT_DIR", str(project))
    nodes = json.loads(dbt.ensure_manifest().read_text())["nodes"]  # `puente dbt-parse`'s parse; raises if it fails
    depends = nodes["model.puente.int_web_orders_unioned"]["depends_on"]["nodes"]
    assert "model.puente.stg_acme__web_orders" in depends
    assert "model.puente.stg_woocommerce__web_orders" in depends
    assert "model.puente.base_woocommerce__orders" in nodes["model.puente.data_issues"]["depends_on"]["nodes"]
    assert "model.puente.stg_acme__web_orders" in nodes["model.puente.data_issues"]["depends_on"]["nodes"]


def test_an_operator_may_decide_on_a_record_of_every_kind():
    """The review decisions take a record of any kind the registry knows (a Salesforce Contact's
    too, which the hand-written list used to leave out), and no other."""
    from puente.identity_review import RECORD_KEY

    assert RECORD_KEY.match("salesforce_contact:0035e00000AbCdEAAZ")
    assert all(RECORD_KEY.match(f"{kind}:42") for kind in contracts.record_types())
    assert not RECORD_KEY.match("acme_customer:42") and not RECORD_KEY.match("odoo_partner:")
