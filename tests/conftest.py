"""Shared fixtures: a real PostgreSQL for every test that needs one.

The embedded server (or the one ``PUENTE_WAREHOUSE_URL`` names) is started once per session;
each test that asks for ``fresh_db`` gets a database of its own with Puente's schemas, dropped
afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid

import pytest

from puente import warehouse


@pytest.fixture(scope="session")
def warehouse_url() -> str:
    return os.environ.get("PUENTE_WAREHOUSE_URL") or warehouse.ensure_embedded()


@pytest.fixture
def fresh_db(warehouse_url: str):
    name = f"test_{uuid.uuid4().hex[:10]}"
    warehouse.create_database(warehouse_url, name)
    url = warehouse.with_database(warehouse_url, name)
    warehouse.ensure_schema(url)
    yield url
    warehouse.drop_database(warehouse_url, name)
