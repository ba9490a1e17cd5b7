"""Fixtures of the gate tests: fresh databases holding the states of gate_data.py."""

from __future__ import annotations

import pytest
from gate_data import MARTS, RAW, execute


@pytest.fixture
def raw_db(fresh_db: str) -> str:
    """Two raw tables landed on the logical date; 2 of the 100 partners received quarantined (and
    all 10 of the night before)."""
    execute(fresh_db, RAW)
    return fresh_db


@pytest.fixture
def marts_db(fresh_db: str) -> str:
    """Good marts: two customers, two orders, two contacts to update."""
    execute(fresh_db, MARTS)
    return fresh_db
