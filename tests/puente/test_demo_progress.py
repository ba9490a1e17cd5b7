"""The demo's per-stage progress while a night runs, from the task states Airflow records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from puente.demo import NightProgress

T0 = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_stages_are_reported_once_as_they_finish_with_failures_and_quiet_reminders():
    clock = [0.0]
    rows: list[tuple] = []
    lines: list[str] = []
    progress = NightProgress(lambda: rows, lines.append, quiet_seconds=20, clock=lambda: clock[0])

    rows[:] = [("validate_run", "success", _at(0), _at(1)),
               ("extract.odoo", "running", _at(1), None), ("extract.hubspot", "success", _at(1), _at(4)),
               ("extract.shopify", "up_for_retry", _at(1), _at(3)), ("raw_gate", None, None, None)]
    progress.poll()
    assert lines == ["  ✗ extract.shopify failed, will retry", "  ✓ validate_run         1 task     1 s"]

    clock[0] = 25.0  # nothing finished for a while: say what is running
    progress.poll()
    assert lines[-1] == "  … running: extract 1/3"

    rows[1:4] = [("extract.odoo", "success", _at(1), _at(9)), ("extract.hubspot", "success", _at(1), _at(4)),
                 ("extract.shopify", "success", _at(1), _at(12))]
    rows[4] = ("raw_gate", "failed", _at(12), _at(15))
    progress.poll()
    assert lines[3:] == ["  ✓ extract              3 tasks   11 s",
                         "  ✗ raw_gate             1 task     3 s  (1 failed)"]

    progress.poll()  # nothing new: nothing printed twice
    assert len(lines) == 5


def test_a_failure_inside_a_group_is_told_before_the_group_ends():
    lines: list[str] = []
    rows = [("transform.stg_odoo__partners", "failed", _at(0), _at(5)), ("transform.dim_customers", None, None, None)]
    NightProgress(lambda: rows, lines.append).poll()
    assert lines == ["  ✗ transform.stg_odoo__partners failed"]


def test_a_group_with_skipped_sources_is_done():
    lines: list[str] = []
    rows = [("extract.odoo", "success", _at(0), _at(5)), ("extract.hubspot", "skipped", None, _at(0)),
            ("extract.shopify", "skipped", None, _at(0))]
    NightProgress(lambda: rows, lines.append).poll()
    assert lines == ["  ✓ extract              3 tasks    5 s  (2 skipped)"]
