"""Writing into Shopify: the shop's available stock, set from the ERP's free stock.

Per Shopify's Admin REST docs (InventoryLevel, Location):

- A variant's stock lives on its inventory item (``inventory_item_id``, one per variant) at a
  location. ``POST inventory_levels/set.json`` with ``location_id``, ``inventory_item_id`` and
  ``available`` sets the quantity: absolute, so sending it twice does no harm (``adjust.json``,
  relative, is never used).
- The location: ``PUENTE_SHOPIFY_LOCATION_ID`` (or ``location_id`` in the connection's extra),
  else the shop's first active location from ``GET locations.json``.
- Per-item refusals (``422 {"errors": [...]}`` for an item whose quantity is not tracked, 404
  for an unknown item) fail that row with Shopify's words; 401/403 fail the run.
- Requests are paced at the plan's leaky bucket: 40 requests, leaking ``PUENTE_SHOPIFY_LEAK_PER_SECOND``
  a second (2 on the standard plan), so a backlog never runs into 429s.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from puente.activation.pacing import Pacer
from puente.activation.writers import Outcome, Row
from puente.sources.http import SourceError
from puente.sources.shopify.config import ShopifyConfig
from puente.sources.shopify.connector import ShopifyConnector
from puente.sources.shopify.settings import BUCKET_SIZE, LEAK_PER_SECOND, SYSTEM


def leak_per_second(env: dict[str, str] | None = None) -> float:
    value = (os.environ if env is None else env).get("PUENTE_SHOPIFY_LEAK_PER_SECOND")
    try:
        rate = float(value) if value else LEAK_PER_SECOND
    except ValueError:
        rate = 0.0
    if rate <= 0:
        raise ValueError(f"PUENTE_SHOPIFY_LEAK_PER_SECOND must be a positive number, got {value!r}")
    return rate


class ShopifyWriter:
    system = "shopify"

    def __init__(self, config: ShopifyConfig, *, connector: ShopifyConnector | None = None,
                 pacer: Pacer | None = None, location_id: int | None = None, **http_options: Any):
        pacer = pacer or Pacer.leaky_bucket(BUCKET_SIZE, leak_per_second())
        self.connector = connector or ShopifyConnector(config, pacer=pacer, **http_options)
        configured = location_id or config.location_id or os.environ.get("PUENTE_SHOPIFY_LOCATION_ID")
        self.location_id: int | None = int(configured) if configured else None

    @property
    def requests_made(self) -> int:
        return self.connector.requests_made

    def close(self) -> None:
        self.connector.close()

    def prepare(self, obj: str) -> None:
        if obj != "inventory_levels":
            raise ValueError(f"the Shopify writer cannot write {obj}")
        if self.location_id is None:
            response = self.connector.http.request("GET", "locations.json", obj="locations")
            active = [loc for loc in response.json().get("locations") or []
                      if loc.get("active") and not loc.get("legacy")]
            if not active:
                raise SourceError(SYSTEM, "locations", "GET locations.json", "no active location",
                                  "Create a location in Shopify (Settings > Locations) or set "
                                  "PUENTE_SHOPIFY_LOCATION_ID")
            self.location_id = int(active[0]["id"])

    def refuses_duplicates(self, obj: str) -> bool:
        return False  # it only sets levels

    def lookup(self, obj: str, external_keys: Sequence[str]) -> dict[str, str]:
        return {}

    def write(self, obj: str, mode: str, rows: Sequence[Row]) -> list[Outcome]:
        if obj != "inventory_levels" or mode != "update":
            raise ValueError(f"the Shopify writer cannot {mode} {obj}")
        return [self._set(row) for row in rows]

    def _set(self, row: Row) -> Outcome:
        body = {"location_id": self.location_id, "inventory_item_id": int(row.target_id),
                "available": int(row.payload["available"])}
        response = self.connector.http.request("POST", "inventory_levels/set.json", obj="inventory_levels",
                                               json=body, passthrough=(404, 422))
        if response.status_code in (404, 422):
            return Outcome(row.row_key, False, row.target_id, "set",
                           f"HTTP {response.status_code}: {_errors(response)}")
        level = response.json().get("inventory_level") or {}
        return Outcome(row.row_key, True, row.target_id, "set", None,
                       {"location_id": self.location_id, "available": level.get("available")})


def _errors(response: Any) -> str:
    """Shopify's ``errors``: a string, a list, or a field → messages map."""
    try:
        errors = response.json().get("errors")
    except ValueError:
        return response.text[:300]
    if isinstance(errors, dict):
        return "; ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in errors.items())
    if isinstance(errors, list):
        return "; ".join(map(str, errors))
    return str(errors)
