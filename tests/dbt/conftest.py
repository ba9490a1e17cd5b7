"""Fixtures of the dbt tests: a database per module, and the scenario (scenario.py) built once."""

from __future__ import annotations

import uuid

import pytest
from scenario import load_raw

from puente import warehouse
from puente.dbt import MAIN_BUILD_ARGS, run_dbt


@pytest.fixture(scope="module")
def module_db(warehouse_url: str):
    """A database of this module's own, with Puente's schemas, dropped at the end."""
    name = f"test_dbt_{uuid.uuid4().hex[:10]}"
    warehouse.create_database(warehouse_url, name)
    url = warehouse.with_database(warehouse_url, name)
    warehouse.ensure_schema(url)
    yield url
    warehouse.drop_database(warehouse_url, name)


@pytest.fixture(scope="module")
def main_build(module_db: str):
    """The scenario landed in raw.* and the main nightly build run over it (its dbt result)."""
    load_raw(module_db)
    return run_dbt(list(MAIN_BUILD_ARGS), module_db)


@pytest.fixture(scope="module")
def built_db(module_db: str, main_build) -> str:
    return module_db


@pytest.fixture(scope="session")
def messy_db(warehouse_url: str):
    """messy_night.py landed and the main build run over it once (a build that fails raises here);
    shared by the data-issue and the consent tests."""
    from messy_night import messy_sources

    name = f"test_dbt_messy_{uuid.uuid4().hex[:8]}"
    warehouse.create_database(warehouse_url, name)
    url = warehouse.with_database(warehouse_url, name)
    try:
        warehouse.ensure_schema(url)
        load_raw(url, messy_sources())
        run_dbt(list(MAIN_BUILD_ARGS), url)
        yield url
    finally:
        warehouse.drop_database(warehouse_url, name)
