"""Fixtures of the dbt tests: a database per module, and the scenario (scenario.py) built once a session."""

from __future__ import annotations

import pytest
from scenario import load_raw

from puente.dbt import MAIN_BUILD_ARGS, run_dbt


@pytest.fixture(scope="module")
def module_db(scratch_db):
    """A database of this module's own, with Puente's schemas, dropped at the end."""
    with scratch_db("test_module") as url:
        yield url


SCENARIO = "test_scenario"  # the database the scenario is built in, once a session


@pytest.fixture(scope="session")
def main_build(scratch_db):
    """The scenario landed in raw.* and the main nightly build run over it, once a session (its dbt
    result). Modules read copies of it (``built_db``)."""
    with scratch_db(SCENARIO) as url:
        load_raw(url)
        yield run_dbt(list(MAIN_BUILD_ARGS), url)


@pytest.fixture(scope="module")
def built_db(scratch_db, main_build) -> str:
    """A copy of the built scenario of this module's own: what its tests change stays in it."""
    with scratch_db("test_built", template=SCENARIO) as url:
        yield url


@pytest.fixture(scope="session")
def messy_db(scratch_db):
    """messy_night.py landed and the main build run over it once (a build that fails raises here);
    shared by the data-issue and the consent tests."""
    from messy_night import messy_sources

    with scratch_db("test_messy") as url:
        load_raw(url, messy_sources())
        run_dbt(list(MAIN_BUILD_ARGS), url)
        yield url
