"""Churn score drift, measured once: the population stability index (PSI) of a night's churn
probabilities against the scores of a week before. The night's alerts warn on it and the run report
draws it, so both say the same thing.

PSI, the usual reading: under 0.1 stable, 0.1 to 0.25 a moderate shift, above 0.25 a large one.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import psycopg

from puente import report

BUCKETS = 10  # equal buckets of the churn probability
MODERATE, LARGE = 0.1, 0.25
REFERENCE_DAYS = 7  # a night is compared with the latest night scored at least this many days before


def psi(expected: list[float], actual: list[float], floor: float = 1e-4) -> float:
    """Population stability index of two histograms over the same buckets (counts or shares)."""
    e_total, a_total = sum(expected), sum(actual)
    value = 0.0
    for e, a in zip(expected, actual, strict=True):
        e_share, a_share = max(e / e_total, floor), max(a / a_total, floor)
        value += (a_share - e_share) * math.log(a_share / e_share)
    return value


def verdict(value: float) -> str:
    return "stable" if value < MODERATE else "a moderate shift" if value < LARGE else "a large shift"


def score_drift(conn: psycopg.Connection, day: date, nights: int = 1) -> dict:
    """``conn`` returns dict rows. The churn-score histogram of each scored night (``histograms``), and for each of the ``nights``
    nights up to ``day`` its PSI against its reference night (``series``; ``psi`` is None when no night
    was scored ``REFERENCE_DAYS`` or more before it); ``tonight`` is ``day``'s entry or None."""
    first = day - timedelta(days=nights - 1)
    rows = report.fetch_all(conn, f"""
        select scored_for_date, least(width_bucket(churn_probability, 0, 1, {BUCKETS}), {BUCKETS}) as bucket,
               count(*) as customers
        from ml.churn_scores where scored_for_date between %s and %s group by 1, 2 order by 1, 2
    """, (first - timedelta(days=REFERENCE_DAYS + nights), day))
    histograms: dict[date, list[float]] = {}
    for row in rows:
        histograms.setdefault(row["scored_for_date"], [0.0] * BUCKETS)[row["bucket"] - 1] += row["customers"]
    series = []
    for night in sorted(n for n in histograms if first <= n <= day):
        earlier = [n for n in histograms if n <= night - timedelta(days=REFERENCE_DAYS)]
        reference = max(earlier) if earlier else None
        series.append({"night": night, "reference": reference,
                       "psi": psi(histograms[reference], histograms[night]) if reference else None})
    tonight = next((s for s in series if s["night"] == day), None)
    return {"histograms": histograms, "series": series, "tonight": tonight}

