"""Checks of a night's trigger configuration that Airflow's own param validation cannot make.

Airflow validates each declared param against its JSON schema when a run is triggered (types,
``YYYY-MM-DD`` dates, a non-empty ``sources`` list), but it accepts keys that no param declares
(a typo such as ``full_refesh`` would silently do nothing) and cannot compare two params or a
date with today. ``check_run_conf`` does that, and the DAG's first task calls it, so a wrong
configuration fails the run before anything is extracted, with a message that says what to fix.
Settings the night reads from the environment later (``PUENTE_MAX_QUARANTINE_SHARE``) are
checked here too.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from puente.config import InvalidSetting, max_quarantine_share

EARLIEST_BACKFILL = date(2000, 1, 1)


class InvalidRunConf(ValueError):
    """The run's configuration cannot be honoured; the message says what to change."""


def check_run_conf(conf: Mapping | None, declared: Iterable[str], params: Mapping,
                   logical_date: datetime | None, today: date) -> None:
    """Raise ``InvalidRunConf`` listing every problem of a run's configuration.

    ``conf`` is what the run was triggered with, ``declared`` the DAG's param names, ``params``
    the resolved values (defaults merged with ``conf``), ``today`` the date the run starts on.
    """
    declared = sorted(declared)
    problems = []
    if logical_date is None:
        problems.append(
            "the run has no logical date, and a night closes one business day: trigger it with a "
            "logical date (the Trigger form's default is now; REST: \"logical_date\": \"2026-11-16T00:00:00Z\")")
    for key in sorted(set(conf or {}) - set(declared)):
        close = difflib.get_close_matches(key, declared, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(f"unknown parameter {key!r}{hint}")
    if "sources" in params and not params["sources"]:
        problems.append("'sources' is empty: name at least one source, or leave it out to extract them all")
    window = {}
    for name in ("backfill_from", "backfill_to"):
        value = params.get(name)
        if not value:
            continue
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            problems.append(f"{name} {value!r} is not a date (YYYY-MM-DD)")
            continue
        if day < EARLIEST_BACKFILL:
            problems.append(f"{name} {day} is before {EARLIEST_BACKFILL}: no source holds records that old")
        elif day > today:
            problems.append(f"{name} {day} is in the future (today is {today})")
        window[name] = day
    if len(window) == 2 and window["backfill_from"] >= window["backfill_to"]:
        problems.append(f"backfill_from {window['backfill_from']} must be before backfill_to "
                        f"{window['backfill_to']} (the end is exclusive)")
    try:  # a setting of the workers' environment that the night reads later: refuse it now
        max_quarantine_share()
    except InvalidSetting as error:
        problems.append(f"{error} (an environment variable of the Airflow workers)")
    if problems:
        raise InvalidRunConf(
            "This run's configuration cannot be used:\n" + "\n".join(f"  - {p}" for p in problems)
            + f"\nKnown parameters: {', '.join(declared)}. Trigger a new run with a corrected configuration."
        )
