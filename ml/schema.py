"""The `ml` tables the ML jobs write.

All of the warehouse's DDL (the `ml` schema included: model runs, churn scores with their
reasons, demand forecasts, next-best-actions) lives in `puente.warehouse`, so that one
idempotent `ensure_schema` prepares a night; the ML jobs call it before writing.
"""

from __future__ import annotations

from puente.warehouse import ensure_schema


def ensure_ml_schema(url: str) -> None:
    """Create the ML tables and columns if they are missing (idempotent, safe concurrently)."""
    ensure_schema(url)
