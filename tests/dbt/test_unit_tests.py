"""The project's dbt unit tests (fixed input rows against the rows a model must make). A night leaves
them out (puente.config.NIGHTLY_EXCLUDED_RESOURCE_TYPES: they test the models' code, not its data), so
this is where they run: every one of them, against the built scenario's relations (dbt reads the
column types of a unit test's inputs from them)."""

from __future__ import annotations

from puente.dbt import run_dbt


def test_every_unit_test_of_the_project_runs_and_passes(built_db, monkeypatch):
    # cosmos copies a dbt task's env into the process's own (cosmos/operators/local.py); the nightly
    # DAG gives it back after each task, but not after one that failed: this variable would hide them
    monkeypatch.delenv("DBT_EXCLUDE_RESOURCE_TYPES", raising=False)
    listed = run_dbt(["ls", "--resource-type", "unit_test", "--output", "name"], built_db).result
    assert len(listed) >= 5  # int_customer_clusters' three, dim_products', base_stripe__charges'
    results = run_dbt(["test", "--select", "test_type:unit"], built_db).result.results  # raises on a failure
    ran = [node for node in results if node.node.resource_type == "unit_test"]
    assert sorted(node.node.name for node in ran) == sorted(name.split(".")[-1] for name in listed)
    assert {str(node.status) for node in ran} == {"pass"}
    assert {node.node.resource_type for node in results} == {"unit_test", "operation"}  # and the project's hooks


def test_the_nightly_builds_leave_the_unit_tests_out(main_build):
    kinds = {node.node.resource_type for node in main_build.result.results}
    assert "model" in kinds and "test" in kinds
    assert "unit_test" not in kinds
