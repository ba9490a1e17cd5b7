"""One writer at a time: a lease on the warehouse's transform-and-send work, shared by the DAGs.

The nightly run and the frequent web-orders run both rebuild dbt models and send activations.
Two dbt builds of one model at once fail (one drops what the other is filling), so they take
turns through one lease, a row of ``ops.pipeline_lease``:

- the night waits for a web-orders run in progress to finish, then holds the lease until its
  last task (and releases it whatever happened);
- a web-orders run that finds the night (or another web-orders run) holding it skips itself:
  the night posts the web orders anyway, and the next quarter-hour tries again.

A lease expires after ``ttl`` (a killed run cannot block the next night forever), counted from the
last renewal: each task of a run that writes renews it as it starts (``acquire`` by its holder), so a
run longer than its TTL keeps it, and a run that lost it all the same learns so before it writes (the
night waits to take it back, a web-orders run stops).

A night also takes over a lease still held by another run of the night (``supersedes``): Airflow
never runs two nights at once (``max_active_runs=1``), so that holder is a run that died without
releasing it (a killed worker, a lost machine), and the operator's rerun of the night must not wait
hours for its lease to expire. Activations add their own advisory lock per activation, so even
outside the lease nothing is sent twice.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import psycopg

log = logging.getLogger(__name__)

LEASE = "warehouse_writer"
NIGHT_TTL = timedelta(hours=6)
FREQUENT_TTL = timedelta(minutes=30)


def acquire(url: str, holder: str, ttl: timedelta, name: str = LEASE, *, supersedes: str | None = None) -> str | None:
    """Take the lease for ``holder``; returns None when taken, else the holder that has it. A holder
    whose name starts with ``supersedes`` (runs of a DAG Airflow never runs twice at once) is dead:
    its lease is taken over, and the log says so."""
    with psycopg.connect(url, autocommit=True) as conn:
        previous = conn.execute("select holder from ops.pipeline_lease where name = %s", (name,)).fetchone()
        row = conn.execute(
            """
            insert into ops.pipeline_lease (name, holder, acquired_at, expires_at)
            values (%(name)s, %(holder)s, now(), now() + %(ttl)s)
            on conflict (name) do update set holder = excluded.holder, acquired_at = excluded.acquired_at,
                expires_at = excluded.expires_at
            where ops.pipeline_lease.expires_at < now() or ops.pipeline_lease.holder = excluded.holder
                or starts_with(ops.pipeline_lease.holder, %(supersedes)s::text)  -- null: no one
            returning holder
            """, {"name": name, "holder": holder, "ttl": ttl, "supersedes": supersedes}).fetchone()
        if row:
            if previous and previous[0] != holder:
                log.warning("lease %s taken over from %s, which never released it (killed, or its machine "
                            "lost); it is not running", name, previous[0])
            return None
        return conn.execute("select holder from ops.pipeline_lease where name = %s", (name,)).fetchone()[0]


def acquire_waiting(url: str, holder: str, ttl: timedelta, *, wait: float = 1800.0, poll: float = 10.0,
                    name: str = LEASE, sleep=time.sleep, supersedes: str | None = None) -> None:
    """Take the lease, waiting up to ``wait`` seconds for the holder to finish."""
    deadline = time.monotonic() + wait
    while True:
        other = acquire(url, holder, ttl, name, supersedes=supersedes)
        if other is None:
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"the lease {name!r} is still held by {other} after {wait:.0f} s; if that run is "
                               f"dead, release it: delete from ops.pipeline_lease where name = '{name}'")
        log.info("waiting for %s to finish (lease %s)", other, name)
        sleep(poll)


def release(url: str, holder: str, name: str = LEASE) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("delete from ops.pipeline_lease where name = %s and holder = %s",
                            (name, holder)).rowcount == 1
