"""The warehouse writer lease the night and the web-orders runs take turns on (puente/leases.py)."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from puente import leases
from puente.warehouse import ensure_schema

NIGHT = "puente_nightly "


@pytest.fixture()
def url(fresh_db):
    ensure_schema(fresh_db)
    return fresh_db


def holder(url: str) -> str | None:
    with psycopg.connect(url) as conn:
        row = conn.execute("select holder from ops.pipeline_lease where name = %s", (leases.LEASE,)).fetchone()
    return row[0] if row else None


def test_a_web_orders_run_in_progress_makes_the_night_wait_and_skips_another(url):
    assert leases.acquire(url, "puente_web_orders run-1", leases.FREQUENT_TTL) is None
    assert leases.acquire(url, "puente_web_orders run-2", leases.FREQUENT_TTL) == "puente_web_orders run-1"
    waits = []
    with pytest.raises(TimeoutError, match="still held by puente_web_orders run-1"):
        leases.acquire_waiting(url, "puente_nightly night-1", leases.NIGHT_TTL, wait=0, sleep=waits.append,
                               supersedes=NIGHT)
    assert leases.release(url, "puente_web_orders run-1")
    leases.acquire_waiting(url, "puente_nightly night-1", leases.NIGHT_TTL, supersedes=NIGHT)
    assert holder(url) == "puente_nightly night-1"


def test_a_rerun_of_the_night_takes_over_the_lease_of_a_killed_night(url, caplog):
    leases.acquire_waiting(url, "puente_nightly killed", leases.NIGHT_TTL, supersedes=NIGHT)  # never released
    # a web-orders run must not take it: the night may well be running
    assert leases.acquire(url, "puente_web_orders run-1", leases.FREQUENT_TTL) == "puente_nightly killed"
    leases.acquire_waiting(url, "puente_nightly rerun", leases.NIGHT_TTL, wait=0, supersedes=NIGHT)
    assert holder(url) == "puente_nightly rerun"
    assert "taken over from puente_nightly killed" in caplog.text
    assert not leases.release(url, "puente_nightly killed")  # the dead run's teardown, if it ever runs
    assert holder(url) == "puente_nightly rerun"


def test_an_expired_lease_is_taken_by_anyone(url):
    assert leases.acquire(url, "puente_web_orders dead", timedelta(seconds=-1)) is None
    assert leases.acquire(url, "puente_web_orders next", leases.FREQUENT_TTL) is None
    assert holder(url) == "puente_web_orders next"
